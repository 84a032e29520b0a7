/*  wes_targets.c — the targets file parser (see wes_targets.h). */
#include "wes_targets.h"

#include <ctype.h>
#include <errno.h>
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  A targets file is a list of lines, not data: refuse anything huge. */
#define S_FILE_MAX (64u * 1024u * 1024u)

typedef struct {
    char *name;     /* unique target name */
    char *group;    /* server group, or NULL */
    char *conninfo; /* libpq connection string, no password */
    size_t line;    /* 1-based source line */
} s_target_t;

struct wes_targets {
    s_target_t *items; /* targets in file order */
    size_t n;          /* how many */
    size_t cap;        /* allocated */
};

static void s_err (char **error, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
static bool s_valid_name (const char *s, size_t n);
static int s_check_conninfo (const char *conninfo, char *why, size_t why_size);
static size_t s_strip_comment (const char *line, size_t n);

wes_targets_t *
wes_targets_parse (const char *text, size_t len, const char *file, char **error)
{
    wes_targets_t *self = wes_new (wes_targets_t);
    const char *p = text, *end = text + len;
    size_t lineno = 0;
    if (!file) {
        file = "<targets>";
    }
    while (p < end) {
        lineno++;
        const char *nl = memchr (p, '\n', (size_t) (end - p));
        size_t n = nl ? (size_t) (nl - p) : (size_t) (end - p);
        const char *line = p;
        p = nl ? nl + 1 : end;
        if (memchr (line, '\0', n)) {
            s_err (error, "%s:%zu: NUL byte in line", file, lineno);
            wes_targets_destroy (&self);
            return NULL;
        }
        n = s_strip_comment (line, n);
        while (n > 0 && isspace ((unsigned char) line[n - 1])) {
            n--;
        }
        size_t i = 0;
        while (i < n && isspace ((unsigned char) line[i])) {
            i++;
        }
        if (i == n) {
            continue;
        }
        size_t name_at = i;
        while (i < n && !isspace ((unsigned char) line[i])) {
            i++;
        }
        size_t name_len = i - name_at;
        if (!s_valid_name (line + name_at, name_len)) {
            s_err (error, "%s:%zu: bad target name '%.*s' (use 1-%d of A-Z a-z 0-9 _ . -)", file,
                   lineno, (int) (name_len > 80 ? 80 : name_len), line + name_at,
                   WES_TARGET_NAME_MAX);
            wes_targets_destroy (&self);
            return NULL;
        }
        while (i < n && isspace ((unsigned char) line[i])) {
            i++;
        }
        char *group = NULL;
        if (n - i > 6 && strncmp (line + i, "group=", 6) == 0) {
            size_t g_at = i + 6;
            i = g_at;
            while (i < n && !isspace ((unsigned char) line[i])) {
                i++;
            }
            if (!s_valid_name (line + g_at, i - g_at)) {
                s_err (error, "%s:%zu: bad group name '%.*s' (use 1-%d of A-Z a-z 0-9 _ . -)",
                       file, lineno, (int) (i - g_at > 80 ? 80 : i - g_at), line + g_at,
                       WES_TARGET_NAME_MAX);
                wes_targets_destroy (&self);
                return NULL;
            }
            group = wes_strndup (line + g_at, i - g_at);
            while (i < n && isspace ((unsigned char) line[i])) {
                i++;
            }
        }
        if (i == n) {
            s_err (error, "%s:%zu: target '%.*s' has no connection string", file, lineno,
                   (int) name_len, line + name_at);
            free (group);
            wes_targets_destroy (&self);
            return NULL;
        }
        char *conninfo = wes_strndup (line + i, n - i);
        char why[256];
        if (s_check_conninfo (conninfo, why, sizeof why) != 0) {
            s_err (error, "%s:%zu: target '%.*s': %s", file, lineno, (int) name_len,
                   line + name_at, why);
            free (group);
            free (conninfo);
            wes_targets_destroy (&self);
            return NULL;
        }
        for (size_t k = 0; k < self->n; k++) {
            if (strlen (self->items[k].name) == name_len
                && memcmp (self->items[k].name, line + name_at, name_len) == 0) {
                s_err (error, "%s:%zu: target '%.*s' already defined at line %zu", file, lineno,
                       (int) name_len, line + name_at, self->items[k].line);
                free (group);
                free (conninfo);
                wes_targets_destroy (&self);
                return NULL;
            }
        }
        if (self->n == WES_TARGETS_MAX) {
            s_err (error, "%s:%zu: more than %d targets", file, lineno, WES_TARGETS_MAX);
            free (group);
            free (conninfo);
            wes_targets_destroy (&self);
            return NULL;
        }
        if (self->n == self->cap) {
            self->cap = self->cap ? self->cap * 2 : 16;
            self->items = wes_realloc (self->items, self->cap * sizeof *self->items);
        }
        s_target_t *t = &self->items[self->n++];
        t->name = wes_strndup (line + name_at, name_len);
        t->group = group;
        t->conninfo = conninfo;
        t->line = lineno;
    }
    if (self->n == 0) {
        s_err (error, "%s: no targets (one per line: NAME [group=GROUP] CONNINFO)", file);
        wes_targets_destroy (&self);
        return NULL;
    }
    return self;
}

wes_targets_t *
wes_targets_load (const char *path, char **error)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        s_err (error, "%s: cannot open: %s", path, strerror (errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *data = wes_alloc (cap);
    for (;;) {
        if (len == cap) {
            if (cap >= S_FILE_MAX) {
                fclose (f);
                free (data);
                s_err (error, "%s: larger than %u bytes", path, S_FILE_MAX);
                return NULL;
            }
            cap *= 2;
            data = wes_realloc (data, cap);
        }
        size_t got = fread (data + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            break;
        }
    }
    bool bad = ferror (f) != 0;
    fclose (f);
    if (bad) {
        free (data);
        s_err (error, "%s: read error", path);
        return NULL;
    }
    wes_targets_t *self = wes_targets_parse (data, len, path, error);
    free (data);
    return self;
}

void
wes_targets_destroy (wes_targets_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wes_targets_t *self = *self_p;
    for (size_t i = 0; i < self->n; i++) {
        free (self->items[i].name);
        free (self->items[i].group);
        free (self->items[i].conninfo);
    }
    free (self->items);
    free (self);
    *self_p = NULL;
}

size_t
wes_targets_count (const wes_targets_t *self)
{
    return self->n;
}

const char *
wes_targets_name (const wes_targets_t *self, size_t i)
{
    wes_assert (i < self->n);
    return self->items[i].name;
}

const char *
wes_targets_conninfo (const wes_targets_t *self, size_t i)
{
    wes_assert (i < self->n);
    return self->items[i].conninfo;
}

const char *
wes_targets_group (const wes_targets_t *self, size_t i)
{
    wes_assert (i < self->n);
    return self->items[i].group;
}

size_t
wes_targets_line (const wes_targets_t *self, size_t i)
{
    wes_assert (i < self->n);
    return self->items[i].line;
}

static void
s_err (char **error, const char *fmt, ...)
{
    if (!error) {
        return;
    }
    va_list ap;
    va_start (ap, fmt);
    char tmp[512];
    vsnprintf (tmp, sizeof tmp, fmt, ap);
    va_end (ap);
    free (*error);
    *error = wes_strdup (tmp);
}

static bool
s_valid_name (const char *s, size_t n)
{
    if (n == 0 || n > WES_TARGET_NAME_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];
        if (!isalnum (c) && c != '_' && c != '.' && c != '-') {
            return false;
        }
    }
    return true;
}

/*  Length of the line without its comment: a '#' at the start or after
    whitespace, outside a single-quoted conninfo value. */
static size_t
s_strip_comment (const char *line, size_t n)
{
    bool quoted = false;
    for (size_t i = 0; i < n; i++) {
        char c = line[i];
        if (quoted && c == '\\' && i + 1 < n) {
            i++;
            continue;
        }
        if (c == '\'') {
            quoted = !quoted;
        }
        else if (c == '#' && !quoted && (i == 0 || isspace ((unsigned char) line[i - 1]))) {
            return i;
        }
    }
    return n;
}

/*  What to do instead of writing a password into the targets file. */
#define S_PASSWORD_ADVICE                                                                         \
    "the connection string carries a password: keep it in a passfile (~/.pgpass, "              \
    "passfile=PATH, or PGPASSFILE in the workers' environment) or a service file "               \
    "(service=NAME) instead"

/*  True when needle (lower case) occurs in s, ignoring case. */
static bool
s_contains_ci (const char *s, const char *needle)
{
    size_t n = strlen (needle);
    for (; *s; s++) {
        size_t i = 0;
        while (i < n && s[i] && tolower ((unsigned char) s[i]) == needle[i]) {
            i++;
        }
        if (i == n) {
            return true;
        }
    }
    return false;
}

/*  A postgresql:// or postgres:// URI whose user info holds a non-empty
    password ("user:secret@host"). */
static bool
s_uri_has_password (const char *s)
{
    const char *rest = NULL;
    if (strncmp (s, "postgresql://", 13) == 0) {
        rest = s + 13;
    }
    else if (strncmp (s, "postgres://", 11) == 0) {
        rest = s + 11;
    }
    if (!rest) {
        return false;
    }
    size_t auth = strcspn (rest, "/?");
    const char *at = memchr (rest, '@', auth);
    if (!at) {
        return false;
    }
    const char *colon = memchr (rest, ':', (size_t) (at - rest));
    return colon && colon + 1 < at;
}

static int
s_check_conninfo (const char *conninfo, char *why, size_t why_size)
{
    /*  Before libpq parses it, since its error messages may quote the
        string: any "password" (password=..., PGPASSWORD=..., a URI's
        ?password=) and a URI's user:password@. */
    if (s_contains_ci (conninfo, "password") || s_contains_ci (conninfo, "passwd")
        || s_uri_has_password (conninfo)) {
        snprintf (why, why_size, "%s", S_PASSWORD_ADVICE);
        return -1;
    }
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse (conninfo, &err);
    if (!opts) {
        size_t l = err ? strlen (err) : 0;
        while (l > 0 && (err[l - 1] == '\n' || err[l - 1] == ' ')) {
            l--;
        }
        snprintf (why, why_size, "bad connection string: %.*s", (int) l,
                  err ? err : "out of memory");
        PQfreemem (err);
        return -1;
    }
    int rc = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        /*  A percent-encoded URI key ("pass%77ord") ends up here. */
        if (strcmp (o->keyword, "password") == 0 && o->val && o->val[0]) {
            snprintf (why, why_size, "%s", S_PASSWORD_ADVICE);
            rc = -1;
        }
    }
    PQconninfoFree (opts);
    return rc;
}
