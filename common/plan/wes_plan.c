/*  wes_plan.c — the plan: steps, DAG checks, JSON form with checksum. */
#include "wes_plan.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plan/wes_lint.h"
#include "util/wes_buf.h"
#include "util/wes_limits.h"
#include "util/wes_sha256.h"

struct wes_plan {
    char *from;          /* hash of the model planned from */
    char *to;            /* hash of the model planned to */
    wes_step_t **steps;  /* owned, in plan order (a topological order) */
    size_t n_steps;
    size_t cap_steps;
    char hash[65];       /* checksum cache; "" when stale */
};

static const char *s_phase_names[] = {"expand", "backfill", "validate", "contract"};
static const char *s_kind_names[] = {"tx", "nontx", "batched"};
static const char *s_lock_names[]
    = {"NONE",  "ACCESS SHARE",        "ROW SHARE", "ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE",
       "SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"};

static void s_step_free (wes_step_t *s);
static json_t *s_strv (char *const *v, size_t n);
static json_t *s_str (const char *s);
static json_t *s_body_json (const wes_plan_t *self);
static void s_err (char **error, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

wes_plan_t *
wes_plan_new (const char *from_hash, const char *to_hash)
{
    wes_plan_t *self = wes_new (wes_plan_t);
    self->from = wes_strdup (from_hash ? from_hash : "");
    self->to = wes_strdup (to_hash ? to_hash : "");
    return self;
}

void
wes_plan_destroy (wes_plan_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wes_plan_t *self = *self_p;
    for (size_t i = 0; i < self->n_steps; i++) {
        s_step_free (self->steps[i]);
    }
    free (self->steps);
    free (self->from);
    free (self->to);
    free (self);
    *self_p = NULL;
}

wes_step_t *
wes_plan_add_step (wes_plan_t *self, const char *slug, wes_phase_t phase, wes_step_kind_t kind,
                   const char *table, wes_lock_t lock)
{
    if (self->n_steps == self->cap_steps) {
        self->cap_steps = self->cap_steps ? self->cap_steps * 2 : 16;
        self->steps = wes_realloc (self->steps, self->cap_steps * sizeof (wes_step_t *));
    }
    wes_step_t *s = wes_new (wes_step_t);
    wes_buf_t *id = wes_buf_new ();
    wes_buf_printf (id, "%04zu-", self->n_steps + 1);
    /* slug: keep [a-z0-9_-], map the rest to '-', bounded */
    size_t kept = 0;
    for (const char *p = slug ? slug : "step"; *p && kept < 80; p++, kept++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
            c = (c >= 'A' && c <= 'Z') ? (char) (c - 'A' + 'a') : '-';
        }
        wes_buf_append (id, &c, 1);
    }
    s->id = wes_buf_steal (id);
    wes_buf_destroy (&id);
    s->phase = phase;
    s->kind = kind;
    s->table = wes_strdup (table);
    s->lock = lock;
    s->max_attempts = 10;
    s->base_delay_ms = 200;
    s->max_delay_ms = 30000;
    s->cost = 1;
    switch (kind) {
    case WES_STEP_TX:
        s->lock_timeout_ms = 5000;
        s->statement_timeout_ms = 60000;
        break;
    case WES_STEP_NONTX:
        s->lock_timeout_ms = 60000;
        s->statement_timeout_ms = 0;
        s->cost = 100;
        break;
    case WES_STEP_BATCHED:
        s->lock_timeout_ms = 5000;
        s->statement_timeout_ms = 60000;
        s->batch_rows = 5000;
        s->cost = 1000;
        break;
    }
    self->steps[self->n_steps++] = s;
    self->hash[0] = '\0';
    return s;
}

void
wes_step_add_dep (wes_step_t *step, const char *dep_id)
{
    for (size_t i = 0; i < step->n_deps; i++) {
        if (strcmp (step->deps[i], dep_id) == 0) {
            return;
        }
    }
    step->deps = wes_realloc (step->deps, (step->n_deps + 1) * sizeof (char *));
    step->deps[step->n_deps++] = wes_strdup (dep_id);
}

void
wes_step_add_key (wes_step_t *step, const char *column, const char *type)
{
    step->key_columns = wes_realloc (step->key_columns, (step->n_key + 1) * sizeof (char *));
    step->key_types = wes_realloc (step->key_types, (step->n_key + 1) * sizeof (char *));
    step->key_columns[step->n_key] = wes_strdup (column);
    step->key_types[step->n_key] = wes_strdup (type);
    step->n_key++;
}

int
wes_plan_add_raw_sql (wes_plan_t *self, wes_phase_t phase, const char *name, const char *sql,
                      size_t len, char **error)
{
    wes_lint_stmt_t *st = NULL;
    size_t n = 0;
    wes_pgparse_error_t perr;
    if (wes_lint_statements (sql, len, &st, &n, &perr) != 0) {
        s_err (error, "%s:%d:%d: does not parse: %s", name, perr.line, perr.col, perr.message);
        return -1;
    }
    if (n == 0) {
        wes_lint_stmts_free (st, n);
        s_err (error, "%s: no SQL statement in it", name);
        return -1;
    }
    /* where: after the last step of this phase or an earlier one */
    size_t at = 0;
    for (size_t i = 0; i < self->n_steps; i++) {
        if (self->steps[i]->phase <= phase) {
            at = i + 1;
        }
    }
    /* the sinks of the steps before it: depending on them is depending on all */
    bool *sink = wes_alloc ((at ? at : 1) * sizeof (bool));
    for (size_t i = 0; i < at; i++) {
        sink[i] = true;
    }
    for (size_t i = 0; i < at; i++) {
        for (size_t d = 0; d < self->steps[i]->n_deps; d++) {
            for (size_t j = 0; j < at; j++) {
                if (strcmp (self->steps[j]->id, self->steps[i]->deps[d]) == 0) {
                    sink[j] = false;
                }
            }
        }
    }
    /* slug from the file's base name */
    const char *base = strrchr (name, '/');
    base = base ? base + 1 : name;
    size_t base_len = strcspn (base, ".");
    size_t n_before = self->n_steps;
    size_t parts = 0;
    char *prev_id = NULL;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        if (!st[i].nontx) {
            while (j < n && !st[j].nontx) {
                j++;
            }
        }
        parts++;
        wes_buf_t *slug = wes_buf_new ();
        wes_buf_printf (slug, "sql-%.*s-%zu", (int) (base_len < 40 ? base_len : 40), base, parts);
        /* one table for the advisory key when every statement names the same one */
        const char *table = st[i].table;
        for (size_t k = i; k < j && table; k++) {
            if (!st[k].table || strcmp (st[k].table, table) != 0) {
                table = NULL;
            }
        }
        bool nontx = st[i].nontx;
        wes_step_t *s = wes_plan_add_step (
            self, wes_buf_data (slug), phase, nontx ? WES_STEP_NONTX : WES_STEP_TX, table,
            nontx ? WES_LOCK_SHARE_UPDATE_EXCLUSIVE : WES_LOCK_ACCESS_EXCLUSIVE);
        wes_buf_destroy (&slug);
        s->raw = true;
        wes_buf_t *b = wes_buf_new ();
        int l0, c0, l1, c1;
        for (size_t k = i; k < j; k++) {
            /* keep the comment lines just before a statement (suppressions) */
            size_t from = st[k].start;
            size_t floor = k > 0 ? st[k - 1].start + st[k - 1].len : 0;
            while (from > floor && sql[from - 1] != ';') {
                from--;
            }
            while (from < st[k].start && (sql[from] == ' ' || sql[from] == '\t'
                                          || sql[from] == '\r' || sql[from] == '\n')) {
                from++;
            }
            wes_buf_append (b, sql + from, st[k].start + st[k].len - from);
            wes_buf_puts (b, ";\n");
        }
        s->sql = wes_buf_steal (b);
        wes_pgparse_position (sql, len, st[i].start, &l0, &c0);
        wes_pgparse_position (sql, len, st[j - 1].start + st[j - 1].len, &l1, &c1);
        wes_buf_printf (b, "hand-written SQL from %s, line%s %d%s", name, l0 == l1 ? "" : "s", l0,
                        l0 == l1 ? "" : "-");
        if (l0 != l1) {
            wes_buf_printf (b, "%d", l1);
        }
        s->summary = wes_buf_steal (b);
        wes_buf_destroy (&b);
        if (nontx && st[i].index) {
            s->verify_index = wes_strdup (st[i].index);
        }
        if (prev_id) {
            wes_step_add_dep (s, prev_id);
        }
        else {
            for (size_t k = 0; k < at; k++) {
                if (sink[k]) {
                    wes_step_add_dep (s, self->steps[k]->id);
                }
            }
        }
        free (prev_id);
        prev_id = wes_strdup (s->id);
        i = j;
    }
    free (sink);
    wes_lint_stmts_free (st, n);
    /* move the new steps (appended at the end) to position at */
    size_t added = self->n_steps - n_before;
    wes_step_t **moved = wes_alloc (added * sizeof (wes_step_t *));
    memcpy (moved, self->steps + n_before, added * sizeof (wes_step_t *));
    memmove (self->steps + at + added, self->steps + at, (n_before - at) * sizeof (wes_step_t *));
    memcpy (self->steps + at, moved, added * sizeof (wes_step_t *));
    free (moved);
    /* later steps that depend on nothing later wait for the last raw step */
    for (size_t i = at + added; i < self->n_steps; i++) {
        wes_step_t *s = self->steps[i];
        bool later_dep = false;
        for (size_t d = 0; d < s->n_deps && !later_dep; d++) {
            for (size_t k = at + added; k < i && !later_dep; k++) {
                later_dep = strcmp (self->steps[k]->id, s->deps[d]) == 0;
            }
        }
        if (!later_dep) {
            wes_step_add_dep (s, prev_id);
        }
    }
    free (prev_id);
    self->hash[0] = '\0';
    return 0;
}

void
wes_plan_set (char **field, const char *value)
{
    char *copy = wes_strdup (value);
    free (*field);
    *field = copy;
}

size_t
wes_plan_count (const wes_plan_t *self)
{
    return self->n_steps;
}

wes_step_t *
wes_plan_step (const wes_plan_t *self, size_t i)
{
    wes_assert (i < self->n_steps);
    return self->steps[i];
}

wes_step_t *
wes_plan_find (const wes_plan_t *self, const char *id)
{
    for (size_t i = 0; i < self->n_steps; i++) {
        if (strcmp (self->steps[i]->id, id) == 0) {
            return self->steps[i];
        }
    }
    return NULL;
}

const char *
wes_plan_from (const wes_plan_t *self)
{
    return self->from;
}

const char *
wes_plan_to (const wes_plan_t *self)
{
    return self->to;
}

const char *
wes_plan_hash (wes_plan_t *self)
{
    /* Steps may have been edited through their records since: always recompute. */
    json_t *body = s_body_json (self);
    char *bytes = json_dumps (body, JSON_COMPACT | JSON_SORT_KEYS);
    wes_assert (bytes);
    wes_sha256_hex (bytes, strlen (bytes), self->hash);
    free (bytes);
    json_decref (body);
    return self->hash;
}

int
wes_plan_check (const wes_plan_t *self, char **error)
{
    if (self->n_steps > WES_MAX_PLAN_STEPS) {
        s_err (error, "plan has %zu steps, more than the limit of %u", self->n_steps,
               WES_MAX_PLAN_STEPS);
        return -1;
    }
    for (size_t i = 0; i < self->n_steps; i++) {
        const wes_step_t *s = self->steps[i];
        if (!s->id || !s->id[0]) {
            s_err (error, "step %zu has no id", i + 1);
            return -1;
        }
        if (!s->sql || !s->sql[0]) {
            s_err (error, "step %s has no sql", s->id);
            return -1;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp (self->steps[j]->id, s->id) == 0) {
                s_err (error, "step id %s appears twice", s->id);
                return -1;
            }
        }
        for (size_t d = 0; d < s->n_deps; d++) {
            /* deps must name an EARLIER step: the file order is a topological
               order, which also rules out cycles */
            const wes_step_t *dep = NULL;
            for (size_t j = 0; j < i; j++) {
                if (strcmp (self->steps[j]->id, s->deps[d]) == 0) {
                    dep = self->steps[j];
                    break;
                }
            }
            if (!dep) {
                s_err (error, "step %s depends on %s, which is not an earlier step of the plan",
                       s->id, s->deps[d]);
                return -1;
            }
            if (dep->phase > s->phase) {
                s_err (error, "step %s (%s) depends on %s of a later phase (%s)", s->id,
                       wes_phase_name (s->phase), dep->id, wes_phase_name (dep->phase));
                return -1;
            }
        }
        if (s->kind == WES_STEP_BATCHED && (s->n_key == 0 || !s->batch_set || s->batch_rows <= 0)) {
            s_err (error, "batched step %s needs key columns, a SET list and batch rows > 0",
                   s->id);
            return -1;
        }
        if (s->kind == WES_STEP_BATCHED && !s->table) {
            s_err (error, "batched step %s needs a table", s->id);
            return -1;
        }
        if (s->lock_timeout_ms < 0 || s->statement_timeout_ms < 0 || s->max_attempts < 1
            || s->base_delay_ms < 0 || s->max_delay_ms < s->base_delay_ms) {
            s_err (error, "step %s has invalid timeouts or retry policy", s->id);
            return -1;
        }
    }
    return 0;
}

json_t *
wes_plan_to_json (wes_plan_t *self)
{
    json_t *doc = s_body_json (self);
    json_object_set_new (doc, "checksum", json_string (wes_plan_hash (self)));
    return doc;
}

int
wes_plan_save (wes_plan_t *self, const char *path, char **error)
{
    json_t *doc = wes_plan_to_json (self);
    char *text = json_dumps (doc, JSON_INDENT (2) | JSON_SORT_KEYS);
    json_decref (doc);
    wes_assert (text);
    wes_buf_t *tmp = wes_buf_new ();
    wes_buf_printf (tmp, "%s.tmp.%ld", path, (long) getpid ());
    int rc = -1;
    int fd = open (wes_buf_data (tmp), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        s_err (error, "cannot write %s: %s", wes_buf_data (tmp), strerror (errno));
    }
    else {
        size_t len = strlen (text), off = 0;
        while (off < len) {
            ssize_t n = write (fd, text + off, len - off);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                break;
            }
            off += (size_t) n;
        }
        bool ok = off == len && write (fd, "\n", 1) == 1 && fsync (fd) == 0;
        ok = (close (fd) == 0) && ok;
        if (ok && rename (wes_buf_data (tmp), path) == 0) {
            rc = 0;
        }
        else {
            s_err (error, "cannot write %s: %s", path, strerror (errno));
            unlink (wes_buf_data (tmp));
        }
    }
    wes_buf_destroy (&tmp);
    free (text);
    return rc;
}

wes_plan_t *
wes_plan_load (const char *path, char **error)
{
    json_error_t jerr;
    json_t *doc = json_load_file (path, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        if (jerr.line > 0) {
            s_err (error, "%s:%d:%d: not a valid plan file (truncated or not JSON): %s", path,
                   jerr.line, jerr.column, jerr.text);
        }
        else {
            s_err (error, "%s: %s", path, jerr.text);
        }
        return NULL;
    }
    char *inner = NULL;
    wes_plan_t *plan = wes_plan_from_json (doc, &inner);
    json_decref (doc);
    if (!plan) {
        s_err (error, "%s: %s", path, inner ? inner : "invalid plan");
    }
    free (inner);
    return plan;
}

/*  Field readers: each reports "steps[i].field: expected X" on mismatch. */
static int
s_get_str (const json_t *o, const char *key, bool nullable, char **out, const char *ctx,
           char **error)
{
    json_t *v = json_object_get (o, key);
    if (!v || json_is_null (v)) {
        if (nullable) {
            *out = NULL;
            return 0;
        }
        s_err (error, "%s.%s: missing (expected a string)", ctx, key);
        return -1;
    }
    if (!json_is_string (v)) {
        s_err (error, "%s.%s: expected a string", ctx, key);
        return -1;
    }
    *out = wes_strdup (json_string_value (v));
    return 0;
}

static int
s_get_int (const json_t *o, const char *key, int64_t lo, int64_t hi, int64_t *out,
           const char *ctx, char **error)
{
    json_t *v = json_object_get (o, key);
    if (!json_is_integer (v)) {
        s_err (error, "%s.%s: expected an integer", ctx, key);
        return -1;
    }
    int64_t x = json_integer_value (v);
    if (x < lo || x > hi) {
        s_err (error, "%s.%s: %lld is out of range [%lld, %lld]", ctx, key, (long long) x,
               (long long) lo, (long long) hi);
        return -1;
    }
    *out = x;
    return 0;
}

static int
s_get_strv (const json_t *o, const char *key, char ***out, size_t *n, const char *ctx,
            char **error)
{
    json_t *v = json_object_get (o, key);
    *out = NULL;
    *n = 0;
    if (!v || json_is_null (v)) {
        return 0;
    }
    if (!json_is_array (v) || json_array_size (v) > WES_MAX_PLAN_STEPS) {
        s_err (error, "%s.%s: expected an array of strings", ctx, key);
        return -1;
    }
    size_t cnt = json_array_size (v);
    *out = wes_alloc ((cnt ? cnt : 1) * sizeof (char *));
    for (size_t i = 0; i < cnt; i++) {
        json_t *e = json_array_get (v, i);
        if (!json_is_string (e)) {
            s_err (error, "%s.%s[%zu]: expected a string", ctx, key, i);
            return -1;
        }
        (*out)[(*n)++] = wes_strdup (json_string_value (e));
    }
    return 0;
}

static int
s_step_from_json (wes_plan_t *plan, const json_t *js, size_t idx, char **error)
{
    char ctx[48];
    snprintf (ctx, sizeof ctx, "steps[%zu]", idx);
    if (!json_is_object (js)) {
        s_err (error, "%s: expected an object", ctx);
        return -1;
    }
    const char *phase_s = json_string_value (json_object_get (js, "phase"));
    const char *kind_s = json_string_value (json_object_get (js, "kind"));
    const char *lock_s = json_string_value (json_object_get (js, "lock"));
    wes_phase_t phase;
    wes_lock_t lock;
    int kind = -1;
    for (int k = 0; k < 3 && kind_s; k++) {
        if (strcmp (kind_s, s_kind_names[k]) == 0) {
            kind = k;
        }
    }
    if (!phase_s || wes_phase_parse (phase_s, &phase) != 0) {
        s_err (error, "%s.phase: expected expand, backfill, validate or contract", ctx);
        return -1;
    }
    if (kind < 0) {
        s_err (error, "%s.kind: expected tx, nontx or batched", ctx);
        return -1;
    }
    if (!lock_s || wes_lock_parse (lock_s, &lock) != 0) {
        s_err (error, "%s.lock: expected a PostgreSQL lock mode such as \"ACCESS EXCLUSIVE\"",
               ctx);
        return -1;
    }
    wes_step_t *s = wes_plan_add_step (plan, "x", phase, (wes_step_kind_t) kind, NULL, lock);
    free (s->id);
    s->id = NULL;
    int64_t v;
    if (s_get_str (js, "id", false, &s->id, ctx, error) || s_get_str (js, "table", true, &s->table, ctx, error)
        || s_get_str (js, "sql", false, &s->sql, ctx, error)
        || s_get_str (js, "inverse", true, &s->inverse, ctx, error)
        || s_get_str (js, "summary", true, &s->summary, ctx, error)
        || s_get_str (js, "verify_index", true, &s->verify_index, ctx, error)
        || s_get_strv (js, "deps", &s->deps, &s->n_deps, ctx, error)) {
        return -1;
    }
    json_t *raw = json_object_get (js, "raw");
    if (raw && !json_is_boolean (raw)) {
        s_err (error, "%s.raw: expected true or false", ctx);
        return -1;
    }
    s->raw = json_is_true (raw);
    if (s_get_int (js, "lock_timeout_ms", 0, 86400000, &v, ctx, error)) {
        return -1;
    }
    s->lock_timeout_ms = (int) v;
    if (s_get_int (js, "statement_timeout_ms", 0, 86400000, &v, ctx, error)) {
        return -1;
    }
    s->statement_timeout_ms = (int) v;
    if (s_get_int (js, "cost", 0, INT64_MAX / 2, &v, ctx, error)) {
        return -1;
    }
    s->cost = v;
    json_t *retry = json_object_get (js, "retry");
    if (!json_is_object (retry)) {
        s_err (error, "%s.retry: expected an object", ctx);
        return -1;
    }
    char rctx[64];
    snprintf (rctx, sizeof rctx, "%s.retry", ctx);
    if (s_get_int (retry, "max_attempts", 1, 1000, &v, rctx, error)) {
        return -1;
    }
    s->max_attempts = (int) v;
    if (s_get_int (retry, "base_delay_ms", 0, 3600000, &v, rctx, error)) {
        return -1;
    }
    s->base_delay_ms = (int) v;
    if (s_get_int (retry, "max_delay_ms", 0, 3600000, &v, rctx, error)) {
        return -1;
    }
    s->max_delay_ms = (int) v;
    json_t *bf = json_object_get (js, "backfill");
    if (s->kind == WES_STEP_BATCHED) {
        char bctx[64];
        snprintf (bctx, sizeof bctx, "%s.backfill", ctx);
        if (!json_is_object (bf)) {
            s_err (error, "%s: expected an object", bctx);
            return -1;
        }
        char **cols = NULL, **types = NULL;
        size_t nc = 0, nt = 0;
        int bad = s_get_strv (bf, "key_columns", &cols, &nc, bctx, error)
                  || s_get_strv (bf, "key_types", &types, &nt, bctx, error);
        if (!bad && nc != nt) {
            s_err (error, "%s: key_columns and key_types differ in length", bctx);
            bad = 1;
        }
        for (size_t i = 0; !bad && i < nc; i++) {
            wes_step_add_key (s, cols[i], types[i]);
        }
        for (size_t i = 0; i < nc; i++) {
            free (cols[i]);
        }
        for (size_t i = 0; i < nt; i++) {
            free (types[i]);
        }
        free (cols);
        free (types);
        if (bad || s_get_str (bf, "set", false, &s->batch_set, bctx, error)
            || s_get_str (bf, "where", true, &s->batch_where, bctx, error)) {
            return -1;
        }
        if (s_get_int (bf, "rows", 1, 10000000, &v, bctx, error)) {
            return -1;
        }
        s->batch_rows = (int) v;
        if (s_get_int (bf, "sleep_ms", 0, 3600000, &v, bctx, error)) {
            return -1;
        }
        s->batch_sleep_ms = (int) v;
    }
    return 0;
}

wes_plan_t *
wes_plan_from_json (const json_t *doc, char **error)
{
    if (!json_is_object (doc)) {
        s_err (error, "expected a JSON object");
        return NULL;
    }
    const char *format = json_string_value (json_object_get (doc, "format"));
    if (!format) {
        s_err (error, "no \"format\": not a Wesley plan");
        return NULL;
    }
    if (strcmp (format, WES_PLAN_FORMAT) != 0) {
        s_err (error, "format is \"%s\"; this Wesley reads \"%s\" only", format, WES_PLAN_FORMAT);
        return NULL;
    }
    const char *from = json_string_value (json_object_get (doc, "from"));
    const char *to = json_string_value (json_object_get (doc, "to"));
    const char *checksum = json_string_value (json_object_get (doc, "checksum"));
    json_t *steps = json_object_get (doc, "steps");
    if (!from || !to || !checksum || !json_is_array (steps)) {
        s_err (error, "missing \"from\", \"to\", \"checksum\" or \"steps\"");
        return NULL;
    }
    if (json_array_size (steps) > WES_MAX_PLAN_STEPS) {
        s_err (error, "%zu steps is more than the limit of %u", json_array_size (steps),
               WES_MAX_PLAN_STEPS);
        return NULL;
    }
    wes_plan_t *plan = wes_plan_new (from, to);
    for (size_t i = 0; i < json_array_size (steps); i++) {
        if (s_step_from_json (plan, json_array_get (steps, i), i, error) != 0) {
            wes_plan_destroy (&plan);
            return NULL;
        }
    }
    if (strcmp (wes_plan_hash (plan), checksum) != 0) {
        s_err (error,
               "checksum mismatch: the plan was changed after `wesley plan` wrote it "
               "(expected %s, computed %s); plan again instead of editing it",
               checksum, plan->hash);
        wes_plan_destroy (&plan);
        return NULL;
    }
    if (wes_plan_check (plan, error) != 0) {
        wes_plan_destroy (&plan);
        return NULL;
    }
    return plan;
}

const char *
wes_phase_name (wes_phase_t p)
{
    return s_phase_names[p];
}

const char *
wes_step_kind_name (wes_step_kind_t k)
{
    return s_kind_names[k];
}

const char *
wes_lock_name (wes_lock_t l)
{
    return s_lock_names[l];
}

int
wes_phase_parse (const char *s, wes_phase_t *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp (s, s_phase_names[i]) == 0) {
            *out = (wes_phase_t) i;
            return 0;
        }
    }
    return -1;
}

int
wes_lock_parse (const char *s, wes_lock_t *out)
{
    for (int i = 0; i <= WES_LOCK_ACCESS_EXCLUSIVE; i++) {
        if (strcmp (s, s_lock_names[i]) == 0) {
            *out = (wes_lock_t) i;
            return 0;
        }
    }
    return -1;
}

/*  --- helpers --- */

static json_t *
s_body_json (const wes_plan_t *self)
{
    json_t *doc = json_object ();
    json_object_set_new (doc, "format", json_string (WES_PLAN_FORMAT));
    json_object_set_new (doc, "from", json_string (self->from));
    json_object_set_new (doc, "to", json_string (self->to));
    json_t *steps = json_array ();
    for (size_t i = 0; i < self->n_steps; i++) {
        const wes_step_t *s = self->steps[i];
        json_t *js = json_object ();
        json_object_set_new (js, "id", s_str (s->id));
        json_object_set_new (js, "phase", json_string (s_phase_names[s->phase]));
        json_object_set_new (js, "kind", json_string (s_kind_names[s->kind]));
        json_object_set_new (js, "table", s_str (s->table));
        json_object_set_new (js, "lock", json_string (s_lock_names[s->lock]));
        json_object_set_new (js, "deps", s_strv (s->deps, s->n_deps));
        json_object_set_new (js, "sql", s_str (s->sql));
        json_object_set_new (js, "inverse", s_str (s->inverse));
        json_object_set_new (js, "summary", s_str (s->summary));
        json_object_set_new (js, "verify_index", s_str (s->verify_index));
        if (s->raw) {
            json_object_set_new (js, "raw", json_true ());
        }
        json_object_set_new (js, "lock_timeout_ms", json_integer (s->lock_timeout_ms));
        json_object_set_new (js, "statement_timeout_ms", json_integer (s->statement_timeout_ms));
        json_object_set_new (js, "cost", json_integer (s->cost));
        json_t *retry = json_object ();
        json_object_set_new (retry, "max_attempts", json_integer (s->max_attempts));
        json_object_set_new (retry, "base_delay_ms", json_integer (s->base_delay_ms));
        json_object_set_new (retry, "max_delay_ms", json_integer (s->max_delay_ms));
        json_object_set_new (js, "retry", retry);
        if (s->kind == WES_STEP_BATCHED) {
            json_t *bf = json_object ();
            json_object_set_new (bf, "key_columns", s_strv (s->key_columns, s->n_key));
            json_object_set_new (bf, "key_types", s_strv (s->key_types, s->n_key));
            json_object_set_new (bf, "set", s_str (s->batch_set));
            json_object_set_new (bf, "where", s_str (s->batch_where));
            json_object_set_new (bf, "rows", json_integer (s->batch_rows));
            json_object_set_new (bf, "sleep_ms", json_integer (s->batch_sleep_ms));
            json_object_set_new (js, "backfill", bf);
        }
        json_array_append_new (steps, js);
    }
    json_object_set_new (doc, "steps", steps);
    return doc;
}

static json_t *
s_strv (char *const *v, size_t n)
{
    json_t *a = json_array ();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new (a, json_string (v[i]));
    }
    return a;
}

static json_t *
s_str (const char *s)
{
    if (!s) {
        return json_null ();
    }
    json_t *j = json_string (s);
    /* SQL from the model is UTF-8 checked by the lexer; keep an invalid one visible */
    return j ? j : json_string ("<invalid UTF-8>");
}

static void
s_step_free (wes_step_t *s)
{
    free (s->id);
    free (s->table);
    for (size_t i = 0; i < s->n_deps; i++) {
        free (s->deps[i]);
    }
    free (s->deps);
    free (s->sql);
    free (s->inverse);
    free (s->summary);
    free (s->verify_index);
    for (size_t i = 0; i < s->n_key; i++) {
        free (s->key_columns[i]);
        free (s->key_types[i]);
    }
    free (s->key_columns);
    free (s->key_types);
    free (s->batch_set);
    free (s->batch_where);
    free (s);
}

static void
s_err (char **error, const char *fmt, ...)
{
    if (!error || *error) {
        return; /* keep the first error */
    }
    char msg[1024];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (msg, sizeof msg, fmt, ap);
    va_end (ap);
    *error = wes_strdup (msg);
}
