/*  wes_types.c — the GraphQL scalar map and normalisation of PostgreSQL type
    names to format_type() spelling. */
#include "wes_types.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/wes_buf.h"
#include "../util/wes_mem.h"
#include "../util/wes_str.h"

typedef struct {
    const char *scalar; /* GraphQL scalar name */
    const char *type;   /* PostgreSQL type, format_type() spelling */
} s_scalar_map_t;

static const s_scalar_map_t s_scalars[] = {
    {"ID", "uuid"},         {"String", "text"},
    {"Int", "integer"},     {"Float", "double precision"},
    {"Boolean", "boolean"}, {"DateTime", "timestamp with time zone"},
    {"Date", "date"},       {"Time", "time without time zone"},
    {"JSON", "jsonb"},      {"UUID", "uuid"},
    {"BigInt", "bigint"},   {"Decimal", "numeric"},
    {"Inet", "inet"},       {"CIDR", "cidr"},
    {"MacAddr", "macaddr"},
};

/*  Types kept as they are, which take no modifier. */
static const char *s_plain[] = {"json", "jsonb", "uuid",    "text", "bytea",
                                "inet", "cidr",  "macaddr", "date"};

static char *s_squeeze (const char *written);
static int s_parse_mods (const char *mods, long *v, size_t max, size_t *n);
static int s_normalize_base (const char *key, const char *mods, bool has_mods, wes_buf_t *out,
                             char *err, size_t err_size);

const char *
wes_type_for_scalar (const char *scalar)
{
    if (!scalar) {
        return NULL;
    }
    //  Runs several times per field: the first byte rules out most names
    for (size_t i = 0; i < sizeof s_scalars / sizeof s_scalars[0]; i++) {
        if (s_scalars[i].scalar[0] == scalar[0] && wes_str_eq (s_scalars[i].scalar, scalar)) {
            return s_scalars[i].type;
        }
    }
    return NULL;
}

int
wes_type_normalize (const char *written, char **out_p, char *err, size_t err_size)
{
    wes_assert (written && out_p && err && err_size > 0);
    *out_p = NULL;
    err[0] = '\0';
    char *s = s_squeeze (written);
    size_t len = strlen (s);
    if (len == 0) {
        snprintf (err, err_size, "empty type name");
        free (s);
        return -1;
    }
    /*  Array suffixes: T[], T[][], T[3]. format_type() prints one "[]"
        whatever the dimensions. */
    size_t dims = 0;
    while (len > 0 && s[len - 1] == ']') {
        size_t open = len - 1;
        while (open > 0 && s[open] != '[') {
            open--;
        }
        if (s[open] != '[' || open == 0) {
            snprintf (err, err_size, "malformed array type '%s'", written);
            free (s);
            return -1;
        }
        for (size_t i = open + 1; i < len - 1; i++) {
            if (!isdigit ((unsigned char)s[i])) {
                snprintf (err, err_size, "malformed array type '%s'", written);
                free (s);
                return -1;
            }
        }
        dims++;
        len = open;
        s[len] = '\0';
    }
    /*  Split "name(mods) suffix" into the key "name suffix" and mods. */
    char *open = strchr (s, '(');
    char *key = NULL;
    char *mods = NULL;
    bool has_mods = false;
    if (open) {
        char *close = strchr (open, ')');
        if (!close || strchr (close + 1, '(') || strchr (close + 1, ')')) {
            snprintf (err, err_size, "malformed type modifier in '%s'", written);
            free (s);
            return -1;
        }
        has_mods = true;
        mods = wes_strndup (open + 1, (size_t)(close - open - 1));
        wes_buf_t *k = wes_buf_new ();
        wes_buf_append (k, s, (size_t)(open - s));
        wes_buf_puts (k, close + 1);
        key = wes_buf_steal (k);
        wes_buf_destroy (&k);
    }
    else {
        key = wes_strdup (s);
    }
    wes_buf_t *out = wes_buf_new ();
    int rc = s_normalize_base (key, mods, has_mods, out, err, err_size);
    if (rc == 1) {
        /*  Not a type we know: keep it as written (lower-cased). */
        wes_buf_reset (out);
        wes_buf_puts (out, s);
        rc = 0;
    }
    if (rc == 0 && dims > 0) {
        wes_buf_puts (out, "[]");
    }
    if (rc == 0) {
        *out_p = wes_buf_steal (out);
    }
    wes_buf_destroy (&out);
    free (key);
    free (mods);
    free (s);
    return rc == 0 ? 0 : -1;
}

wes_type_class_t
wes_type_class (const char *type)
{
    if (!type) {
        return WES_TYPE_CLASS_OTHER;
    }
    size_t len = strlen (type);
    if (len >= 2 && wes_str_eq (type + len - 2, "[]")) {
        return WES_TYPE_CLASS_OTHER;
    }
    if (wes_str_eq (type, "text") || wes_str_eq (type, "citext")
        || strncmp (type, "character varying", 17) == 0 || strncmp (type, "character(", 10) == 0
        || wes_str_eq (type, "character")) {
        return WES_TYPE_CLASS_TEXT;
    }
    if (wes_str_eq (type, "integer") || wes_str_eq (type, "bigint")
        || wes_str_eq (type, "smallint")) {
        return WES_TYPE_CLASS_INTEGER;
    }
    if (wes_str_eq (type, "numeric") || strncmp (type, "numeric(", 8) == 0
        || wes_str_eq (type, "real") || wes_str_eq (type, "double precision")) {
        return WES_TYPE_CLASS_NUMBER;
    }
    if (wes_str_eq (type, "boolean")) {
        return WES_TYPE_CLASS_BOOLEAN;
    }
    return WES_TYPE_CLASS_OTHER;
}

/*  Lower-cases, trims, turns runs of white space into one space and drops
    the spaces next to brackets and commas. Caller frees. */
static char *
s_squeeze (const char *written)
{
    size_t len = strlen (written);
    char *out = wes_alloc (len + 1);
    size_t n = 0;
    bool pending_space = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)written[i];
        if (isspace (c)) {
            pending_space = n > 0;
            continue;
        }
        if (pending_space) {
            char prev = out[n - 1];
            bool drop = prev == '(' || prev == ',' || prev == '[' || c == '(' || c == ')'
                        || c == ',' || c == '[' || c == ']';
            if (!drop) {
                out[n++] = ' ';
            }
            pending_space = false;
        }
        out[n++] = (char)tolower (c);
    }
    out[n] = '\0';
    return out;
}

/*  Parses "12,2" into v; 0 ok, -1 when not a comma list of numbers. */
static int
s_parse_mods (const char *mods, long *v, size_t max, size_t *n)
{
    *n = 0;
    const char *p = mods;
    while (true) {
        if (!isdigit ((unsigned char)*p)) {
            return -1;
        }
        long x = 0;
        while (isdigit ((unsigned char)*p)) {
            x = x * 10 + (*p - '0');
            if (x > 1000000L) {
                return -1;
            }
            p++;
        }
        if (*n >= max) {
            return -1;
        }
        v[(*n)++] = x;
        if (*p == '\0') {
            return 0;
        }
        if (*p != ',') {
            return -1;
        }
        p++;
    }
}

static bool
s_key_is (const char *key, const char *a, const char *b, const char *c)
{
    return (a && wes_str_eq (key, a)) || (b && wes_str_eq (key, b))
           || (c && wes_str_eq (key, c));
}

/*  Writes the normalised spelling of key with its modifiers into out.
    Returns 0 done, 1 not a type we know, -1 error (err filled). */
static int
s_normalize_base (const char *key, const char *mods, bool has_mods, wes_buf_t *out, char *err,
                  size_t err_size)
{
    long v[2] = {0, 0};
    size_t n = 0;
    /*  Modifiers of types we do not know (geometry(point,4326)) are kept as
        written; ours must be numbers. */
    bool mods_ok = !has_mods || s_parse_mods (mods, v, 2, &n) == 0;
    if (s_key_is (key, "serial", "serial4", "bigserial")
        || s_key_is (key, "serial8", "smallserial", "serial2")) {
        snprintf (err, err_size,
                  "type %s is not supported: use a default (@wes_default(expr: ...)) or an "
                  "identity column instead",
                  key);
        return -1;
    }
    const char *plain = NULL;
    if (s_key_is (key, "int", "int4", "integer")) {
        plain = "integer";
    }
    else if (s_key_is (key, "int8", "bigint", NULL)) {
        plain = "bigint";
    }
    else if (s_key_is (key, "int2", "smallint", NULL)) {
        plain = "smallint";
    }
    else if (s_key_is (key, "bool", "boolean", NULL)) {
        plain = "boolean";
    }
    else if (s_key_is (key, "float8", "double precision", NULL)) {
        plain = "double precision";
    }
    else if (s_key_is (key, "float4", "real", NULL)) {
        plain = "real";
    }
    else {
        for (size_t i = 0; i < sizeof s_plain / sizeof s_plain[0]; i++) {
            if (wes_str_eq (key, s_plain[i])) {
                plain = s_plain[i];
            }
        }
    }
    if (plain) {
        if (has_mods) {
            snprintf (err, err_size, "type %s takes no modifier", plain);
            return -1;
        }
        wes_buf_puts (out, plain);
        return 0;
    }
    if (s_key_is (key, "varchar", "character varying", NULL)
        || s_key_is (key, "char", "character", NULL)) {
        bool varying = key[0] == 'v' || wes_str_eq (key, "character varying");
        const char *name = varying ? "character varying" : "character";
        if (has_mods && (!mods_ok || n != 1 || v[0] < 1)) {
            snprintf (err, err_size, "type %s takes one length of at least 1", name);
            return -1;
        }
        wes_buf_puts (out, name);
        if (has_mods) {
            wes_buf_printf (out, "(%ld)", v[0]);
        }
        else if (!varying) {
            wes_buf_puts (out, "(1)");
        }
        return 0;
    }
    if (wes_str_eq (key, "float")) {
        if (has_mods && (!mods_ok || n != 1 || v[0] < 1 || v[0] > 53)) {
            snprintf (err, err_size, "type float takes a precision from 1 to 53");
            return -1;
        }
        wes_buf_puts (out, has_mods && v[0] <= 24 ? "real" : "double precision");
        return 0;
    }
    if (s_key_is (key, "decimal", "numeric", NULL)) {
        if (has_mods && (!mods_ok || v[0] < 1 || v[0] > 1000 || (n == 2 && v[1] > v[0]))) {
            snprintf (err, err_size,
                      "type numeric takes (precision[,scale]) with "
                      "1 <= precision <= 1000 and scale <= precision");
            return -1;
        }
        wes_buf_puts (out, "numeric");
        if (has_mods) {
            wes_buf_printf (out, "(%ld,%ld)", v[0], n == 2 ? v[1] : 0L);
        }
        return 0;
    }
    const char *zone = NULL;
    const char *base = NULL;
    if (s_key_is (key, "timestamptz", "timestamp with time zone", NULL)) {
        base = "timestamp";
        zone = "with time zone";
    }
    else if (s_key_is (key, "timestamp", "timestamp without time zone", NULL)) {
        base = "timestamp";
        zone = "without time zone";
    }
    else if (s_key_is (key, "timetz", "time with time zone", NULL)) {
        base = "time";
        zone = "with time zone";
    }
    else if (s_key_is (key, "time", "time without time zone", NULL)) {
        base = "time";
        zone = "without time zone";
    }
    if (base) {
        if (has_mods && (!mods_ok || n != 1 || v[0] > 6)) {
            snprintf (err, err_size, "type %s takes a precision from 0 to 6", base);
            return -1;
        }
        wes_buf_puts (out, base);
        if (has_mods) {
            wes_buf_printf (out, "(%ld)", v[0]);
        }
        wes_buf_printf (out, " %s", zone);
        return 0;
    }
    return 1;
}
