/*  wes_lint.c — the migration SQL linter: walks libpg_query's parse tree
    (wes_pgparse) statement by statement, tracking transaction blocks,
    timeouts and what earlier statements created, and reports the unsafe
    patterns of wes_lint.h with their safe rewrites. */
#include "wes_lint.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/wes_planner.h"
#include "util/wes_buf.h"
#include "util/wes_limits.h"

/*  Findings kept per linter: a runaway file must not exhaust memory. */
#define S_MAX_FINDINGS 100000u
/*  Bytes between two of s_position's checkpoints. */
#define S_POS_STEP 256u
/*  Column, table and check facts kept per linter. */
#define S_MAX_FACTS 1000000u

const char *const wes_lint_rules[] = {
    "index-not-concurrent",
    "error",
    "CREATE INDEX / REINDEX without CONCURRENTLY on an existing table (DROP INDEX: warning)",
    "concurrent-in-transaction",
    "error",
    "CONCURRENTLY or VACUUM inside a transaction block (PostgreSQL refuses it; so does psql -1)",
    "constraint-not-valid",
    "error",
    "FOREIGN KEY or CHECK added to an existing table without NOT VALID",
    "unique-without-index",
    "error",
    "UNIQUE / PRIMARY KEY added without USING INDEX (builds the index under ACCESS EXCLUSIVE)",
    "set-not-null",
    "warning",
    "SET NOT NULL scans the table under ACCESS EXCLUSIVE (no validated CHECK (c IS NOT NULL))",
    "alter-type-rewrite",
    "error",
    "ALTER COLUMN TYPE that rewrites the table (warning when the old type is unknown)",
    "volatile-default",
    "error",
    "ADD COLUMN with a volatile DEFAULT, serial, identity or stored generated column: rewrite",
    "add-column-not-null-no-default",
    "error",
    "ADD COLUMN ... NOT NULL without a DEFAULT fails on a table with rows",
    "missing-lock-timeout",
    "warning",
    "a lock-taking statement with no lock_timeout set before it (once per section)",
    "set-local-outside-transaction",
    "warning",
    "SET LOCAL outside a transaction block has no effect",
    "destructive",
    "warning",
    "DROP TABLE, DROP COLUMN, TRUNCATE: data loss, breaks running code",
    "rename",
    "warning",
    "RENAME of a table or column breaks application code still using the old name",
    "whole-table-update",
    "warning",
    "UPDATE or DELETE without WHERE: one huge transaction",
    "vacuum-full",
    "error",
    "VACUUM FULL rewrites the table under ACCESS EXCLUSIVE",
    "cluster",
    "error",
    "CLUSTER rewrites the table under ACCESS EXCLUSIVE",
    "lock-table",
    "warning",
    "LOCK TABLE in a mode that blocks writes",
    "transaction-control",
    "error",
    "BEGIN/COMMIT/ROLLBACK inside a raw plan step (Wesley wraps each step in its own)",
    NULL,
    NULL,
    NULL,
};

typedef struct {
    char *table;  /* table name (unqualified) */
    char *column; /* column name, or NULL for a table fact */
    char *value;  /* column: type; check: constraint name */
    double rows;  /* table: estimated rows */
    int tx;       /* check: transaction block it was added in (0: none) */
    bool flag;    /* check: validated */
} s_fact_t;

typedef struct {
    s_fact_t *v;
    size_t n;
    size_t cap;
    uint32_t *index; /* (table, column) -> 1 + the latest fact's position; 0: free */
    size_t index_cap; /* slots: a power of two, or 0 */
} s_facts_t;

struct wes_lint {
    wes_lint_finding_t *findings; /* owned, in order */
    size_t n_findings;
    size_t cap_findings;
    s_facts_t new_tables;      /* tables created by the texts linted so far */
    s_facts_t columns;         /* known column types (noted or seen) */
    s_facts_t checks;          /* CHECK (col IS NOT NULL) constraints: value = name, flag = valid */
    s_facts_t new_columns;     /* columns added by the texts linted so far */
    s_facts_t not_valid;       /* constraints added NOT VALID: value = name, tx = its block */
    s_facts_t rows;            /* noted table sizes */
    bool rows_noted;           /* a size was noted: set-not-null only for big tables */
    int64_t big_rows;          /* threshold for set-not-null when sizes are known */
    bool session_lock_timeout; /* SET lock_timeout (session) in effect */
    bool session_statement_timeout; /* SET statement_timeout (session) in effect */
    int tx_seq;                     /* transaction blocks seen */
};

/*  The state of one text being linted. */
typedef struct {
    wes_lint_t *L;
    const char *name; /* source name for findings */
    const char *sql;  /* the text */
    size_t len;
    const wes_lint_context_t *ctx;
    bool in_tx;                   /* inside a transaction block */
    int tx;                       /* its number, 0 outside */
    bool local_lock_timeout;      /* SET LOCAL lock_timeout in this block */
    bool local_statement_timeout; /* SET LOCAL statement_timeout in this block */
    bool lock_timeout_warned;     /* missing-lock-timeout reported in this section */
    size_t first;                 /* offset of the current statement's first token */
    size_t end;                   /* offset just past it (without ';') */
    char ignore[256];             /* ",rule,rule," suppressed for the current statement */
    struct {
        char table[128]; /* table of a renamed column, or the renamed table */
        char name[128];  /* the name given up */
        size_t finding;  /* its rename finding */
    } renames[32];       /* renames whose old name may come back later in the text (a
                            swap, or a view under the old name): then not breaking */
    size_t n_renames;
    int *ck_pos; /* s_position's checkpoints: line, col of byte k * S_POS_STEP at
                    [2k], [2k+1]; built on the first finding; owned */
} s_text_t;

static void s_facts_free (s_facts_t *f);
static s_fact_t *s_fact_find (s_facts_t *f, const char *table, const char *column);
static s_fact_t *s_fact_put (s_facts_t *f, const char *table, const char *column);
static void s_stmt (s_text_t *T, json_t *node);
static size_t s_skip_space (const char *sql, size_t len, size_t at);
static void s_read_ignore (s_text_t *T, size_t gap_start);
static const char *s_str (json_t *o, const char *key);
static bool s_bool (json_t *o, const char *key);
static void s_type_name (wes_buf_t *out, json_t *type_name);

wes_lint_t *
wes_lint_new (void)
{
    wes_lint_t *self = wes_new (wes_lint_t);
    self->big_rows = 100000;
    return self;
}

void
wes_lint_destroy (wes_lint_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wes_lint_t *self = *self_p;
    for (size_t i = 0; i < self->n_findings; i++) {
        free (self->findings[i].source);
        free (self->findings[i].message);
        free (self->findings[i].rewrite);
    }
    free (self->findings);
    s_facts_free (&self->new_tables);
    s_facts_free (&self->columns);
    s_facts_free (&self->checks);
    s_facts_free (&self->new_columns);
    s_facts_free (&self->not_valid);
    s_facts_free (&self->rows);
    free (self);
    *self_p = NULL;
}

void
wes_lint_note_column (wes_lint_t *self, const char *table, const char *column, const char *type)
{
    if (!table || !column || !type) {
        return;
    }
    s_fact_t *f = s_fact_put (&self->columns, table, column);
    if (f) {
        free (f->value);
        f->value = wes_strdup (type);
    }
}

void
wes_lint_note_rows (wes_lint_t *self, const char *table, double rows)
{
    if (!table) {
        return;
    }
    s_fact_t *f = s_fact_put (&self->rows, table, NULL);
    if (f) {
        f->rows = rows;
    }
    self->rows_noted = true;
}

void
wes_lint_set_big_rows (wes_lint_t *self, int64_t big_rows)
{
    self->big_rows = big_rows;
}

int
wes_lint_text (wes_lint_t *self, const char *name, const char *sql, size_t len,
               const wes_lint_context_t *ctx, wes_pgparse_error_t *error)
{
    wes_assert (self && sql && error);
    json_t *tree = wes_pgparse (sql, len, error);
    if (!tree) {
        return -1;
    }
    static const wes_lint_context_t plain = {false, false, false};
    s_text_t T = {.L = self,
                  .name = name ? name : "<sql>",
                  .sql = sql,
                  .len = len,
                  .ctx = ctx ? ctx : &plain};
    T.in_tx = T.ctx->in_transaction;
    if (T.in_tx) {
        T.tx = ++self->tx_seq;
    }
    json_t *stmts = json_object_get (tree, "stmts");
    for (size_t i = 0; i < json_array_size (stmts); i++) {
        size_t start, n;
        wes_pgparse_stmt_range (tree, i, len, &start, &n);
        T.first = s_skip_space (sql, start + n, start);
        T.end = start + n;
        while (T.end > T.first
               && (isspace ((unsigned char)sql[T.end - 1]) || sql[T.end - 1] == ';')) {
            T.end--;
        }
        s_read_ignore (&T, start);
        s_stmt (&T, json_object_get (json_array_get (stmts, i), "stmt"));
    }
    json_decref (tree);
    /* drop the findings withdrawn on the way (rule set to NULL) */
    size_t out = 0;
    for (size_t i = 0; i < self->n_findings; i++) {
        if (self->findings[i].rule) {
            self->findings[out++] = self->findings[i];
        }
        else {
            free (self->findings[i].source);
            free (self->findings[i].message);
            free (self->findings[i].rewrite);
        }
    }
    self->n_findings = out;
    free (T.ck_pos);
    return 0;
}

int
wes_lint_plan (wes_lint_t *self, const wes_plan_t *plan, bool raw_only, char **error)
{
    for (size_t i = 0; i < wes_plan_count (plan); i++) {
        const wes_step_t *s = wes_plan_step (plan, i);
        if (s->kind == WES_STEP_BATCHED || !s->sql) {
            continue;
        }
        wes_lint_context_t ctx = {
            .in_transaction = s->kind == WES_STEP_TX, .lock_timeout_set = true, .raw_step = s->raw};
        size_t before = self->n_findings;
        wes_pgparse_error_t perr;
        if (wes_lint_text (self, s->id, s->sql, strlen (s->sql), &ctx, &perr) != 0) {
            if (s->raw) {
                wes_buf_t *b = wes_buf_new ();
                wes_buf_printf (b, "step %s:%d:%d: the SQL does not parse: %s", s->id, perr.line,
                                perr.col, perr.message);
                *error = wes_buf_steal (b);
                wes_buf_destroy (&b);
                return -1;
            }
            continue;
        }
        if (raw_only && !s->raw) {
            for (size_t k = before; k < self->n_findings; k++) {
                free (self->findings[k].source);
                free (self->findings[k].message);
                free (self->findings[k].rewrite);
            }
            self->n_findings = before;
        }
    }
    return 0;
}

size_t
wes_lint_count (const wes_lint_t *self)
{
    return self->n_findings;
}

const wes_lint_finding_t *
wes_lint_finding (const wes_lint_t *self, size_t i)
{
    wes_assert (i < self->n_findings);
    return &self->findings[i];
}

size_t
wes_lint_errors (const wes_lint_t *self)
{
    size_t n = 0;
    for (size_t i = 0; i < self->n_findings; i++) {
        n += self->findings[i].severity == WES_LINT_ERROR;
    }
    return n;
}

size_t
wes_lint_warnings (const wes_lint_t *self)
{
    return self->n_findings - wes_lint_errors (self);
}

void
wes_lint_print (const wes_lint_finding_t *f, FILE *out)
{
    fprintf (out, "%s:%d:%d: %s: [%s] %s\n", f->source, f->line, f->col,
             f->severity == WES_LINT_ERROR ? "error" : "warning", f->rule, f->message);
    if (f->rewrite && f->rewrite[0]) {
        fputs ("    safe rewrite:\n", out);
        for (const char *p = f->rewrite; *p;) {
            const char *eol = strchr (p, '\n');
            size_t n = eol ? (size_t)(eol - p) : strlen (p);
            fprintf (out, "        %.*s\n", (int)n, p);
            p += n + (eol ? 1 : 0);
        }
    }
}

json_t *
wes_lint_finding_json (const wes_lint_finding_t *f)
{
    json_t *o = json_object ();
    json_object_set_new (o, "rule", json_string (f->rule));
    json_object_set_new (o, "severity",
                         json_string (f->severity == WES_LINT_ERROR ? "error" : "warning"));
    json_object_set_new (o, "file", json_string (f->source));
    json_object_set_new (o, "line", json_integer (f->line));
    json_object_set_new (o, "col", json_integer (f->col));
    json_object_set_new (o, "message", json_string (f->message));
    json_object_set_new (o, "rewrite", f->rewrite ? json_string (f->rewrite) : json_null ());
    return o;
}

/*  --- statements for raw plan steps --- */

static const char *s_relname (json_t *range_var);

int
wes_lint_statements (const char *sql, size_t len, wes_lint_stmt_t **stmts, size_t *n,
                     wes_pgparse_error_t *error)
{
    *stmts = NULL;
    *n = 0;
    json_t *tree = wes_pgparse (sql, len, error);
    if (!tree) {
        return -1;
    }
    json_t *list = json_object_get (tree, "stmts");
    size_t cnt = json_array_size (list);
    *stmts = wes_alloc ((cnt ? cnt : 1) * sizeof (wes_lint_stmt_t));
    for (size_t i = 0; i < cnt; i++) {
        size_t start, sn;
        wes_pgparse_stmt_range (tree, i, len, &start, &sn);
        wes_lint_stmt_t *st = &(*stmts)[(*n)++];
        st->start = s_skip_space (sql, start + sn, start);
        size_t end = start + sn;
        while (end > st->start && (isspace ((unsigned char)sql[end - 1]) || sql[end - 1] == ';')) {
            end--;
        }
        st->len = end - st->start;
        json_t *body = NULL;
        const char *type =
            wes_pgparse_node_type (json_object_get (json_array_get (list, i), "stmt"), &body);
        type = type ? type : "";
        const char *rel = s_relname (json_object_get (body, "relation"));
        if (strcmp (type, "IndexStmt") == 0) {
            st->nontx = s_bool (body, "concurrent");
            if (st->nontx && s_str (body, "idxname")) {
                st->index = wes_strdup (s_str (body, "idxname"));
            }
        }
        else if (strcmp (type, "DropStmt") == 0 || strcmp (type, "VacuumStmt") == 0) {
            st->nontx = strcmp (type, "VacuumStmt") == 0 || s_bool (body, "concurrent");
        }
        else if (strcmp (type, "ReindexStmt") == 0) {
            json_t *params = json_object_get (body, "params");
            for (size_t k = 0; k < json_array_size (params); k++) {
                json_t *de = json_object_get (json_array_get (params, k), "DefElem");
                if (de
                    && strcasecmp (s_str (de, "defname") ? s_str (de, "defname") : "",
                                   "concurrently")
                           == 0) {
                    st->nontx = true;
                }
            }
        }
        if (rel) {
            st->table = wes_strdup (rel);
        }
    }
    json_decref (tree);
    return 0;
}

void
wes_lint_stmts_free (wes_lint_stmt_t *stmts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free (stmts[i].index);
        free (stmts[i].table);
    }
    free (stmts);
}

/*  --- helpers: facts --- */

static void
s_facts_free (s_facts_t *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free (f->v[i].table);
        free (f->v[i].column);
        free (f->v[i].value);
    }
    free (f->v);
    free (f->index);
    f->v = NULL;
    f->index = NULL;
    f->n = f->cap = f->index_cap = 0;
}

static bool
s_eq (const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp (a, b) == 0);
}

static uint64_t
s_fact_hash (const char *table, const char *column)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = table ? table : ""; *p; p++) {
        h = (h ^ (unsigned char) *p) * 1099511628211ull;
    }
    h = (h ^ (column ? 1u : 2u)) * 1099511628211ull; /* NULL differs from "" */
    for (const char *p = column ? column : ""; *p; p++) {
        h = (h ^ (unsigned char) *p) * 1099511628211ull;
    }
    return h;
}

/*  Points the index of (v[i].table, v[i].column) at v[i] (the latest). */
static void
s_index_put (s_facts_t *f, size_t i)
{
    size_t mask = f->index_cap - 1;
    size_t j = (size_t) s_fact_hash (f->v[i].table, f->v[i].column) & mask;
    while (f->index[j]) {
        const s_fact_t *o = &f->v[f->index[j] - 1];
        if (s_eq (o->table, f->v[i].table) && s_eq (o->column, f->v[i].column)) {
            break;
        }
        j = (j + 1) & mask;
    }
    f->index[j] = (uint32_t) (i + 1);
}

/*  Indexes every fact again (after a rename, or to grow). */
static void
s_index_rebuild (s_facts_t *f, size_t cap)
{
    free (f->index);
    f->index_cap = cap;
    f->index = wes_alloc (cap * sizeof (uint32_t));
    for (size_t i = 0; i < f->n; i++) {
        s_index_put (f, i);
    }
}

/*  The latest fact about (table, column), or NULL. */
static s_fact_t *
s_fact_find (s_facts_t *f, const char *table, const char *column)
{
    if (f->index_cap == 0) {
        return NULL;
    }
    size_t mask = f->index_cap - 1;
    for (size_t j = (size_t) s_fact_hash (table, column) & mask; f->index[j];
         j = (j + 1) & mask) {
        s_fact_t *o = &f->v[f->index[j] - 1];
        if (s_eq (o->table, table) && s_eq (o->column, column)) {
            return o;
        }
    }
    return NULL;
}

static s_fact_t *
s_fact_put (s_facts_t *f, const char *table, const char *column)
{
    /* appended, never searched: lookups scan from the newest, so the
       latest fact wins (a linear search here would make noting a large
       database's columns quadratic) */
    if (f->n >= S_MAX_FACTS) {
        return NULL;
    }
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 16;
        f->v = wes_realloc (f->v, f->cap * sizeof (s_fact_t));
    }
    s_fact_t *x = &f->v[f->n++];
    memset (x, 0, sizeof *x);
    x->table = wes_strdup (table);
    x->column = wes_strdup (column);
    if (f->n * 2 > f->index_cap) {
        s_index_rebuild (f, f->index_cap ? f->index_cap * 2 : 64);
    }
    else {
        s_index_put (f, f->n - 1);
    }
    return x;
}

static bool
s_is_new (s_text_t *T, const char *table)
{
    return table && s_fact_find (&T->L->new_tables, table, NULL) != NULL;
}

static void
s_rename_table (s_facts_t *f, const char *from, const char *to)
{
    bool renamed = false;
    for (size_t i = 0; i < f->n; i++) {
        if (strcmp (f->v[i].table, from) == 0) {
            free (f->v[i].table);
            f->v[i].table = wes_strdup (to);
            renamed = true;
        }
    }
    if (renamed) {
        s_index_rebuild (f, f->index_cap);
    }
}

static void
s_rename_column (s_facts_t *f, const char *table, const char *from, const char *to)
{
    bool renamed = false;
    for (size_t i = 0; i < f->n; i++) {
        if (strcmp (f->v[i].table, table) == 0 && f->v[i].column
            && strcmp (f->v[i].column, from) == 0) {
            free (f->v[i].column);
            f->v[i].column = wes_strdup (to);
            renamed = true;
        }
    }
    if (renamed) {
        s_index_rebuild (f, f->index_cap);
    }
}

/*  --- helpers: text --- */

/*  Past whitespace and comments (-- and nested block comments). */
static size_t
s_skip_space (const char *sql, size_t len, size_t at)
{
    while (at < len) {
        if (isspace ((unsigned char)sql[at])) {
            at++;
        }
        else if (at + 1 < len && sql[at] == '-' && sql[at + 1] == '-') {
            while (at < len && sql[at] != '\n') {
                at++;
            }
        }
        else if (at + 1 < len && sql[at] == '/' && sql[at + 1] == '*') {
            int depth = 1;
            at += 2;
            while (at < len && depth > 0) {
                if (at + 1 < len && sql[at] == '/' && sql[at + 1] == '*') {
                    depth++;
                    at += 2;
                }
                else if (at + 1 < len && sql[at] == '*' && sql[at + 1] == '/') {
                    depth--;
                    at += 2;
                }
                else {
                    at++;
                }
            }
        }
        else {
            break;
        }
    }
    return at;
}

/*  "-- wesley-lint: ignore a,b" on the line just before the statement's
    first token (within the gap since the previous statement). */
static void
s_read_ignore (s_text_t *T, size_t gap_start)
{
    T->ignore[0] = '\0';
    /* the start of the line before the statement's first line */
    size_t line_start = T->first;
    while (line_start > gap_start && T->sql[line_start - 1] != '\n') {
        line_start--;
    }
    if (line_start <= gap_start) {
        return;
    }
    size_t prev = line_start - 1; /* the '\n' ending the previous line */
    size_t prev_start = prev;
    while (prev_start > gap_start && T->sql[prev_start - 1] != '\n') {
        prev_start--;
    }
    static const char marker[] = "wesley-lint:";
    const char *line = T->sql + prev_start;
    size_t n = prev - prev_start;
    const char *dash = NULL;
    for (size_t i = 0; i + 1 < n; i++) {
        if (line[i] == '-' && line[i + 1] == '-') {
            dash = line + i + 2;
            break;
        }
    }
    if (!dash) {
        return;
    }
    const char *p = dash;
    const char *stop = line + n;
    while (p < stop && isspace ((unsigned char)*p)) {
        p++;
    }
    if ((size_t)(stop - p) < sizeof marker - 1 || strncasecmp (p, marker, sizeof marker - 1) != 0) {
        return;
    }
    p += sizeof marker - 1;
    while (p < stop && isspace ((unsigned char)*p)) {
        p++;
    }
    if ((size_t)(stop - p) < 6 || strncasecmp (p, "ignore", 6) != 0) {
        return;
    }
    p += 6;
    size_t o = 0;
    T->ignore[o++] = ',';
    for (; p < stop && o + 2 < sizeof T->ignore; p++) {
        if (isspace ((unsigned char)*p)) {
            continue;
        }
        T->ignore[o++] = (char)tolower ((unsigned char)*p);
    }
    T->ignore[o++] = ',';
    T->ignore[o] = '\0';
}

static bool
s_ignored (const s_text_t *T, const char *rule)
{
    if (!T->ignore[0]) {
        return false;
    }
    if (strstr (T->ignore, ",all,")) {
        return true;
    }
    char key[64];
    snprintf (key, sizeof key, ",%s,", rule);
    return strstr (T->ignore, key) != NULL;
}

/*  Line and column of byte off of the text. A text can have up to
    S_MAX_FINDINGS findings, in any order within a statement: counting from
    the start for each was quadratic (minutes for a few MB). The first call
    records the position of every S_POS_STEP-th byte in one pass; each call
    then counts at most S_POS_STEP bytes. Lines and columns add up across
    any split point (wes_pgparse_position counts newlines and lead bytes). */
static void
s_position (s_text_t *T, size_t off, int *line, int *col)
{
    if (!T->ck_pos) {
        size_t n = T->len / S_POS_STEP + 1;
        T->ck_pos = wes_alloc (2 * n * sizeof (int));
        int l = 1, c = 1;
        for (size_t k = 0; k < n; k++) {
            T->ck_pos[2 * k] = l;
            T->ck_pos[2 * k + 1] = c;
            size_t from = k * S_POS_STEP;
            size_t to = from + S_POS_STEP < T->len ? from + S_POS_STEP : T->len;
            int dl, dc;
            wes_pgparse_position (T->sql + from, to - from, to - from, &dl, &dc);
            c = dl == 1 ? c + dc - 1 : dc;
            l += dl - 1;
        }
    }
    size_t k = off / S_POS_STEP;
    size_t from = k * S_POS_STEP;
    int dl, dc;
    wes_pgparse_position (T->sql + from, T->len - from, off - from, &dl, &dc);
    *line = T->ck_pos[2 * k] + dl - 1;
    *col = dl == 1 ? T->ck_pos[2 * k + 1] + dc - 1 : dc;
}

static void s_add (s_text_t *T, const char *rule, wes_lint_severity_t sev, int location,
                   const char *rewrite, const char *fmt, ...)
    __attribute__ ((format (printf, 6, 7)));

/*  A finding at a node's location (-1: the statement's first token). */
static void
s_add (s_text_t *T, const char *rule, wes_lint_severity_t sev, int location, const char *rewrite,
       const char *fmt, ...)
{
    wes_lint_t *L = T->L;
    if (s_ignored (T, rule) || L->n_findings >= S_MAX_FINDINGS) {
        return;
    }
    if (L->n_findings == L->cap_findings) {
        L->cap_findings = L->cap_findings ? L->cap_findings * 2 : 16;
        L->findings = wes_realloc (L->findings, L->cap_findings * sizeof (wes_lint_finding_t));
    }
    wes_lint_finding_t *f = &L->findings[L->n_findings++];
    memset (f, 0, sizeof *f);
    f->rule = rule;
    f->severity = sev;
    f->source = wes_strdup (T->name);
    size_t off = location >= 0 && (size_t)location < T->len ? (size_t)location : T->first;
    s_position (T, off, &f->line, &f->col);
    char msg[2048];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (msg, sizeof msg, fmt, ap);
    va_end (ap);
    f->message = wes_strdup (msg);
    f->rewrite = rewrite ? wes_strdup (rewrite) : NULL;
}

/*  --- helpers: the parse tree --- */

static const char *
s_str (json_t *o, const char *key)
{
    return json_string_value (json_object_get (o, key));
}

static bool
s_bool (json_t *o, const char *key)
{
    return json_is_true (json_object_get (o, key));
}

static int
s_loc (json_t *o)
{
    json_t *l = json_object_get (o, "location");
    return json_is_integer (l) ? (int)json_integer_value (l) : -1;
}

static const char *
s_relname (json_t *range_var)
{
    return s_str (range_var, "relname");
}

/*  The last String of a name list ([{"String": {"sval": "x"}}, ...]). */
static const char *
s_last_name (json_t *list)
{
    size_t n = json_array_size (list);
    if (n == 0) {
        return NULL;
    }
    return s_str (json_object_get (json_array_get (list, n - 1), "String"), "sval");
}

/*  An identifier as it should be written: bare when plain lower case and
    not a reserved word, quoted otherwise. */
static void
s_ident (wes_buf_t *b, const char *name)
{
    static const char *reserved[] = {
        "all",  "and",    "as",    "asc",   "check", "column",  "constraint", "default", "desc",
        "end",  "false",  "from",  "group", "in",    "into",    "is",         "limit",   "not",
        "null", "offset", "on",    "or",    "order", "primary", "references", "select",  "table",
        "to",   "true",   "union", "user",  "using", "where",   "with",       NULL};
    bool plain = name && name[0] && (islower ((unsigned char)name[0]) || name[0] == '_');
    for (const char *p = name; plain && *p; p++) {
        plain = islower ((unsigned char)*p) || isdigit ((unsigned char)*p) || *p == '_';
    }
    for (size_t i = 0; plain && reserved[i]; i++) {
        plain = strcmp (reserved[i], name) != 0;
    }
    if (plain) {
        wes_buf_puts (b, name);
    }
    else {
        wes_buf_put_ident (b, name ? name : "");
    }
}

/*  schema.table as written in a RangeVar. */
static void
s_put_rel (wes_buf_t *b, json_t *range_var)
{
    if (s_str (range_var, "schemaname")) {
        s_ident (b, s_str (range_var, "schemaname"));
        wes_buf_puts (b, ".");
    }
    s_ident (b, s_relname (range_var) ? s_relname (range_var) : "?");
}

/*  The current statement's text, without its ';'. */
static void
s_put_stmt (wes_buf_t *b, const s_text_t *T)
{
    wes_buf_append (b, T->sql + T->first, T->end - T->first);
}

/*  Integer value of an A_Const node (absent "ival" value means 0). */
static bool
s_const_int (json_t *node, long *out)
{
    json_t *c = json_object_get (node, "A_Const");
    json_t *iv = json_object_get (c, "ival");
    if (!iv) {
        return false;
    }
    json_t *v = json_object_get (iv, "ival");
    *out = json_is_integer (v) ? (long)json_integer_value (v) : 0;
    return true;
}

/*  format_type() spelling of a TypeName node. */
static void
s_type_name (wes_buf_t *out, json_t *tn)
{
    static const char *map[][2] = {{"int4", "integer"},
                                   {"int", "integer"},
                                   {"integer", "integer"},
                                   {"int8", "bigint"},
                                   {"int2", "smallint"},
                                   {"float8", "double precision"},
                                   {"float4", "real"},
                                   {"bool", "boolean"},
                                   {"varchar", "character varying"},
                                   {"bpchar", "character"},
                                   {"decimal", "numeric"},
                                   {"timestamptz", "timestamp with time zone"},
                                   {"timestamp", "timestamp without time zone"},
                                   {"timetz", "time with time zone"},
                                   {"time", "time without time zone"},
                                   {"varbit", "bit varying"},
                                   {NULL, NULL}};
    const char *name = s_last_name (json_object_get (tn, "names"));
    name = name ? name : "?";
    const char *spelled = name;
    for (size_t i = 0; map[i][0]; i++) {
        if (strcmp (map[i][0], name) == 0) {
            spelled = map[i][1];
        }
    }
    wes_buf_t *mods = wes_buf_new ();
    json_t *typmods = json_object_get (tn, "typmods");
    for (size_t i = 0; i < json_array_size (typmods); i++) {
        long v;
        if (s_const_int (json_array_get (typmods, i), &v)) {
            wes_buf_printf (mods, "%s%ld", wes_buf_len (mods) ? "," : "(", v);
        }
    }
    if (wes_buf_len (mods)) {
        wes_buf_puts (mods, ")");
    }
    /* "timestamp(3) with time zone": the precision goes after the first word */
    const char *space = strchr (spelled, ' ');
    if (wes_buf_len (mods) && space
        && (strncmp (spelled, "timestamp ", 10) == 0 || strncmp (spelled, "time ", 5) == 0)) {
        wes_buf_append (out, spelled, (size_t)(space - spelled));
        wes_buf_puts (out, wes_buf_data (mods));
        wes_buf_puts (out, space);
    }
    else {
        wes_buf_puts (out, spelled);
        wes_buf_puts (out, wes_buf_data (mods));
    }
    wes_buf_destroy (&mods);
    if (json_array_size (json_object_get (tn, "arrayBounds")) > 0) {
        wes_buf_puts (out, "[]");
    }
}

/*  "timestamp(3) with time zone" -> base "timestamp with time zone",
    precision 3; no precision -> -1. False for other types. */
static bool
s_precision_type (const char *t, char *base, size_t size, int *prec)
{
    static const char *bases[] = {"timestamp", "time", "interval", NULL};
    for (size_t i = 0; bases[i]; i++) {
        size_t n = strlen (bases[i]);
        if (strncmp (t, bases[i], n) != 0 || (t[n] && t[n] != '(' && t[n] != ' ')) {
            continue;
        }
        *prec = -1;
        const char *rest = t + n;
        if (*rest == '(') {
            *prec = atoi (rest + 1);
            rest = strchr (rest, ')');
            rest = rest ? rest + 1 : "";
        }
        snprintf (base, size, "%s%s", bases[i], rest);
        return true;
    }
    return false;
}

/*  Whether from -> to changes the column without a rewrite. */
static bool
s_type_compatible (const char *from, const char *to)
{
    if (strcmp (from, to) == 0) {
        return true;
    }
    char bf[96], bt[96];
    int pf, pt;
    if (s_precision_type (from, bf, sizeof bf, &pf) && s_precision_type (to, bt, sizeof bt, &pt)) {
        return strcmp (bf, bt) == 0 && (pt < 0 || (pf >= 0 && pt >= pf));
    }
    /* numeric(p,s) -> numeric(p' >= p, s) or numeric: PostgreSQL skips the
       rewrite (the planner, more careful, shadows it) */
    int p1 = -1, s1 = 0, p2 = -1, s2 = 0;
    int n1 = strcmp (from, "numeric") == 0 ? 0 : sscanf (from, "numeric(%d,%d)", &p1, &s1);
    int n2 = strcmp (to, "numeric") == 0 ? 0 : sscanf (to, "numeric(%d,%d)", &p2, &s2);
    bool num1 = strncmp (from, "numeric", 7) == 0 && (from[7] == '\0' || from[7] == '(');
    bool num2 = strncmp (to, "numeric", 7) == 0 && (to[7] == '\0' || to[7] == '(');
    if (num1 && num2 && n1 >= 0 && n2 >= 0) {
        if (n2 == 0) {
            return true; /* unconstrained numeric holds anything */
        }
        return n1 > 0 && p2 >= p1 && s2 == s1;
    }
    return wes_planner_classify_type_change (from, to) == WES_TYPE_CHANGE_COMPATIBLE;
}

/*  Targets that some binary-coercible change could have. */
static bool
s_maybe_compatible_target (const char *to)
{
    static const char *prefixes[] = {
        "text",     "character varying", "numeric", "timestamp", "time",
        "interval", "bit varying",       "cidr",    "inet",      NULL};
    for (size_t i = 0; prefixes[i]; i++) {
        if (strncmp (to, prefixes[i], strlen (prefixes[i])) == 0) {
            return true;
        }
    }
    return false;
}

typedef enum { S_VOL_NONE, S_VOL_UNKNOWN, S_VOL_VOLATILE } s_vol_t;

/*  The volatility of an expression tree: any listed volatile function
    makes it volatile, any other unknown function call unknown. */
static s_vol_t
s_volatility (json_t *node, const char **fn)
{
    static const char *volatile_fns[] = {
        "random",  "clock_timestamp", "timeofday",    "gen_random_uuid",    "gen_random_bytes",
        "nextval", "setval",          "txid_current", "pg_current_xact_id", "random_normal",
        NULL};
    static const char *stable_fns[] = {"now",
                                       "transaction_timestamp",
                                       "statement_timestamp",
                                       "current_timestamp",
                                       "current_date",
                                       "localtimestamp",
                                       "localtime",
                                       "lower",
                                       "upper",
                                       "abs",
                                       "coalesce",
                                       "nullif",
                                       "greatest",
                                       "least",
                                       "jsonb_build_object",
                                       "jsonb_build_array",
                                       "json_build_object",
                                       "json_build_array",
                                       "to_jsonb",
                                       "to_json",
                                       "length",
                                       "concat",
                                       "make_interval",
                                       "round",
                                       "trim",
                                       "btrim",
                                       NULL};
    s_vol_t worst = S_VOL_NONE;
    if (json_is_array (node)) {
        for (size_t i = 0; i < json_array_size (node); i++) {
            s_vol_t v = s_volatility (json_array_get (node, i), fn);
            worst = v > worst ? v : worst;
        }
        return worst;
    }
    if (!json_is_object (node)) {
        return S_VOL_NONE;
    }
    json_t *call = json_object_get (node, "FuncCall");
    if (call) {
        const char *name = s_last_name (json_object_get (call, "funcname"));
        name = name ? name : "";
        bool listed = false;
        for (size_t i = 0; volatile_fns[i]; i++) {
            listed = listed || strcmp (volatile_fns[i], name) == 0;
        }
        if (listed || strncmp (name, "uuid_generate_", 14) == 0) {
            *fn = name;
            return S_VOL_VOLATILE;
        }
        bool known = false;
        for (size_t i = 0; stable_fns[i]; i++) {
            known = known || strcmp (stable_fns[i], name) == 0;
        }
        if (!known) {
            *fn = name;
            worst = S_VOL_UNKNOWN;
        }
    }
    const char *key;
    json_t *value;
    json_object_foreach (node, key, value)
    {
        const char *inner = *fn;
        s_vol_t v = s_volatility (value, &inner);
        if (v > worst) {
            worst = v;
            *fn = inner;
        }
    }
    return worst;
}

/*  --- the rules --- */

static void
s_need_lock_timeout (s_text_t *T, const char *what, const char *table)
{
    if (T->ctx->lock_timeout_set || T->local_lock_timeout || T->L->session_lock_timeout
        || T->lock_timeout_warned) {
        return;
    }
    if (s_ignored (T, "missing-lock-timeout")) {
        return;
    }
    T->lock_timeout_warned = true;
    const char *rewrite = T->in_tx ? "SET LOCAL lock_timeout = '2s';  -- first thing after BEGIN\n"
                                     "SET LOCAL statement_timeout = '60s';\n"
                                     "-- and retry the migration when it times out (55P03)"
                                   : "SET lock_timeout = '2s';  -- before the first DDL\n"
                                     "SET statement_timeout = '60s';\n"
                                     "-- and retry the migration when it times out (55P03)";
    s_add (T, "missing-lock-timeout", WES_LINT_WARNING, -1, rewrite,
           "%s%s%s waits for its lock with no lock_timeout set%s: while it waits in the lock "
           "queue, every query on the table queues behind it",
           what, table ? " on " : "", table ? table : "",
           T->in_tx ? " in this transaction" : " in this session");
}

static void
s_index_rewrite_concurrently (wes_buf_t *b, s_text_t *T, json_t *body)
{
    /* insert CONCURRENTLY [IF NOT EXISTS] after the INDEX keyword */
    const char *s = T->sql + T->first;
    size_t n = T->end - T->first;
    size_t at = n;
    for (size_t i = 0; i + 5 <= n; i++) {
        if (strncasecmp (s + i, "index", 5) == 0 && (i == 0 || isspace ((unsigned char)s[i - 1]))
            && (i + 5 == n || isspace ((unsigned char)s[i + 5]))) {
            at = i + 5;
            break;
        }
    }
    if (at == n) {
        s_put_stmt (b, T);
        wes_buf_puts (b, ";  -- with CONCURRENTLY");
        return;
    }
    wes_buf_append (b, s, at);
    wes_buf_puts (b, " CONCURRENTLY");
    if (s_str (body, "idxname") && !s_bool (body, "if_not_exists")) {
        wes_buf_puts (b, " IF NOT EXISTS");
    }
    wes_buf_append (b, s + at, n - at);
    wes_buf_puts (b, ";\n-- on its own, outside any transaction block (not with psql -1);\n"
                     "-- if it fails, DROP INDEX CONCURRENTLY the INVALID leftover and retry");
}

static void
s_index_stmt (s_text_t *T, json_t *body)
{
    const char *table = s_relname (json_object_get (body, "relation"));
    bool concurrent = s_bool (body, "concurrent");
    if (concurrent) {
        if (T->in_tx) {
            wes_buf_t *b = wes_buf_new ();
            wes_buf_puts (b, "COMMIT;  -- end the transaction block first\n");
            s_put_stmt (b, T);
            wes_buf_puts (b,
                          ";  -- on its own; run the file without psql -1 (--single-transaction)");
            s_add (T, "concurrent-in-transaction", WES_LINT_ERROR, -1, wes_buf_data (b),
                   "CREATE INDEX CONCURRENTLY cannot run inside a transaction block (PostgreSQL "
                   "refuses it; psql -1 / --single-transaction would wrap the whole file in one)");
            wes_buf_destroy (&b);
        }
        return;
    }
    if (s_is_new (T, table)) {
        return;
    }
    wes_buf_t *b = wes_buf_new ();
    s_index_rewrite_concurrently (b, T, body);
    s_add (T, "index-not-concurrent", WES_LINT_ERROR, -1, wes_buf_data (b),
           "CREATE %sINDEX without CONCURRENTLY on existing table %s blocks every write to it "
           "(SHARE lock) for the whole build",
           s_bool (body, "unique") ? "UNIQUE " : "", table ? table : "?");
    wes_buf_destroy (&b);
    s_need_lock_timeout (T, "CREATE INDEX", table);
}

static const char *
s_drop_name (json_t *object)
{
    json_t *items = json_object_get (json_object_get (object, "List"), "items");
    if (items) {
        return s_last_name (items);
    }
    return s_str (json_object_get (object, "String"), "sval");
}

static void
s_drop_stmt (s_text_t *T, json_t *body)
{
    const char *type = s_str (body, "removeType");
    type = type ? type : "";
    json_t *objects = json_object_get (body, "objects");
    if (strcmp (type, "OBJECT_INDEX") == 0) {
        if (s_bool (body, "concurrent")) {
            if (T->in_tx) {
                s_add (T, "concurrent-in-transaction", WES_LINT_ERROR, -1,
                       "COMMIT;  -- end the transaction block first\n"
                       "DROP INDEX CONCURRENTLY IF EXISTS ...;  -- on its own, not with psql -1",
                       "DROP INDEX CONCURRENTLY cannot run inside a transaction block "
                       "(PostgreSQL refuses it; psql -1 / --single-transaction would wrap the "
                       "whole file in one)");
            }
            return;
        }
        for (size_t i = 0; i < json_array_size (objects); i++) {
            const char *name = s_drop_name (json_array_get (objects, i));
            wes_buf_t *b = wes_buf_new ();
            wes_buf_puts (b, "DROP INDEX CONCURRENTLY IF EXISTS ");
            s_ident (b, name ? name : "?");
            wes_buf_puts (b, ";  -- outside any transaction block");
            s_add (T, "index-not-concurrent", WES_LINT_WARNING, -1, wes_buf_data (b),
                   "DROP INDEX %s without CONCURRENTLY takes ACCESS EXCLUSIVE on its table",
                   name ? name : "?");
            wes_buf_destroy (&b);
        }
        s_need_lock_timeout (T, "DROP INDEX", NULL);
        return;
    }
    if (strcmp (type, "OBJECT_TABLE") == 0) {
        bool any_old = false;
        for (size_t i = 0; i < json_array_size (objects); i++) {
            const char *name = s_drop_name (json_array_get (objects, i));
            if (s_is_new (T, name)) {
                continue;
            }
            any_old = true;
            s_add (T, "destructive", WES_LINT_WARNING, -1,
                   "expand/contract: stop using the table in every application version first,\n"
                   "deploy, then drop it in a later migration (Wesley: the contract phase,\n"
                   "only with --allow-destructive)",
                   "DROP TABLE %s loses its data and breaks application code still using it",
                   name ? name : "?");
        }
        if (any_old) {
            s_need_lock_timeout (T, "DROP TABLE", NULL);
        }
        return;
    }
    if (strcmp (type, "OBJECT_TRIGGER") == 0 || strcmp (type, "OBJECT_POLICY") == 0
        || strcmp (type, "OBJECT_RULE") == 0) {
        json_t *items =
            json_object_get (json_object_get (json_array_get (objects, 0), "List"), "items");
        /* [schema.]table.name: the table is the one before last */
        size_t n = json_array_size (items);
        const char *table =
            n >= 2 ? s_str (json_object_get (json_array_get (items, n - 2), "String"), "sval")
                   : NULL;
        if (!s_is_new (T, table)) {
            s_need_lock_timeout (T, "DROP", table);
        }
    }
}

static void
s_reindex_stmt (s_text_t *T, json_t *body)
{
    bool concurrent = false;
    json_t *params = json_object_get (body, "params");
    for (size_t k = 0; k < json_array_size (params); k++) {
        const char *d = s_str (json_object_get (json_array_get (params, k), "DefElem"), "defname");
        concurrent = concurrent || (d && strcasecmp (d, "concurrently") == 0);
    }
    if (concurrent) {
        if (T->in_tx) {
            s_add (T, "concurrent-in-transaction", WES_LINT_ERROR, -1,
                   "COMMIT;  -- end the transaction block first\n"
                   "REINDEX ... CONCURRENTLY;  -- on its own, not with psql -1",
                   "REINDEX CONCURRENTLY cannot run inside a transaction block (PostgreSQL "
                   "refuses it; psql -1 / --single-transaction would wrap the whole file in one)");
        }
        return;
    }
    const char *rel = s_relname (json_object_get (body, "relation"));
    const char *kind = s_str (body, "kind");
    wes_buf_t *b = wes_buf_new ();
    wes_buf_puts (b, "REINDEX (CONCURRENTLY) ");
    const char *obj = kind && strncmp (kind, "REINDEX_OBJECT_", 15) == 0 ? kind + 15 : "";
    const char *k = strcmp (obj, "INDEX") == 0    ? "INDEX "
                    : strcmp (obj, "TABLE") == 0  ? "TABLE "
                    : strcmp (obj, "SCHEMA") == 0 ? "SCHEMA "
                    : strcmp (obj, "SYSTEM") == 0 ? "SYSTEM "
                                                  : "DATABASE ";
    wes_buf_puts (b, k);
    if (rel) {
        s_put_rel (b, json_object_get (body, "relation"));
    }
    else if (s_str (body, "name")) {
        s_ident (b, s_str (body, "name"));
    }
    wes_buf_puts (b, ";  -- outside any transaction block");
    s_add (T, "index-not-concurrent", WES_LINT_ERROR, -1, wes_buf_data (b),
           "REINDEX without CONCURRENTLY blocks writes to %s (and reads through the index) "
           "for the whole rebuild",
           rel ? rel : "the tables it covers");
    wes_buf_destroy (&b);
    s_need_lock_timeout (T, "REINDEX", rel);
}

/*  The column of "CHECK (col IS NOT NULL)", or NULL. */
static const char *
s_not_null_check_column (json_t *con)
{
    json_t *nt = json_object_get (json_object_get (con, "raw_expr"), "NullTest");
    if (!nt || !s_str (nt, "nulltesttype") || strcmp (s_str (nt, "nulltesttype"), "IS_NOT_NULL")) {
        return NULL;
    }
    json_t *fields =
        json_object_get (json_object_get (json_object_get (nt, "arg"), "ColumnRef"), "fields");
    return json_array_size (fields) == 1 ? s_last_name (fields) : NULL;
}

static void
s_strv_join (wes_buf_t *b, json_t *list, const char *sep)
{
    for (size_t i = 0; i < json_array_size (list); i++) {
        if (i) {
            wes_buf_puts (b, sep);
        }
        const char *s = s_str (json_object_get (json_array_get (list, i), "String"), "sval");
        s_ident (b, s ? s : "?");
    }
}

/*  "(expr)" of a CHECK whose constraint starts at byte loc of the text:
    the first balanced parentheses after the CHECK keyword, as written
    (quotes respected), or "(...)". */
static void
s_put_check_expr (wes_buf_t *b, const s_text_t *T, int loc)
{
    size_t at = loc >= 0 && (size_t)loc >= T->first ? (size_t)loc : T->first;
    for (; at + 5 <= T->end; at++) {
        if (strncasecmp (T->sql + at, "check", 5) == 0) {
            break;
        }
    }
    while (at < T->end && T->sql[at] != '(') {
        at++;
    }
    int depth = 0;
    char quote = 0;
    for (size_t i = at; i < T->end; i++) {
        char c = T->sql[i];
        if (quote) {
            quote = c == quote ? 0 : quote;
        }
        else if (c == '\'' || c == '"') {
            quote = c;
        }
        else if (c == '(') {
            depth++;
        }
        else if (c == ')' && --depth == 0) {
            wes_buf_append (b, T->sql + at, i + 1 - at);
            return;
        }
    }
    wes_buf_puts (b, "(...)");
}

/*  The name PostgreSQL gives an unnamed constraint: table_col1_col2_suffix
    (table_pkey; table_check without columns), as an identifier. */
static void
s_default_name (wes_buf_t *b, const char *table, const char *column, json_t *columns,
                const char *suffix)
{
    wes_buf_t *n = wes_buf_new ();
    wes_buf_puts (n, table ? table : "t");
    if (column) {
        wes_buf_printf (n, "_%s", column);
    }
    for (size_t i = 0; !column && i < json_array_size (columns); i++) {
        const char *c = s_str (json_object_get (json_array_get (columns, i), "String"), "sval");
        wes_buf_printf (n, "_%s", c ? c : "c");
    }
    wes_buf_printf (n, "_%s", suffix);
    s_ident (b, wes_buf_data (n));
    wes_buf_destroy (&n);
}

/*  A constraint added to table (from ALTER TABLE ADD CONSTRAINT or inline
    on ADD COLUMN, column then being its column). */
static void
s_constraint (s_text_t *T, json_t *rel, json_t *con, const char *column)
{
    const char *table = s_relname (rel);
    const char *contype = s_str (con, "contype");
    contype = contype ? contype : "";
    const char *conname = s_str (con, "conname");
    bool not_valid = s_bool (con, "skip_validation");
    int loc = s_loc (con);
    if (strcmp (contype, "CONSTR_CHECK") == 0) {
        const char *nn = s_not_null_check_column (con);
        if (nn && conname) {
            s_fact_t *f = s_fact_put (&T->L->checks, table, nn);
            if (f) {
                free (f->value);
                f->value = wes_strdup (conname);
                f->flag = !not_valid;
                f->tx = T->tx;
            }
        }
    }
    bool fk = strcmp (contype, "CONSTR_FOREIGN") == 0;
    bool check = strcmp (contype, "CONSTR_CHECK") == 0;
    if ((fk || check) && not_valid && conname && table) {
        s_fact_t *f = s_fact_put (&T->L->not_valid, table, NULL);
        if (f) {
            f->value = wes_strdup (conname);
            f->tx = T->tx;
        }
    }
    if (s_is_new (T, table)) {
        return;
    }
    if ((fk || check) && !not_valid) {
        wes_buf_t *name = wes_buf_new ();
        if (conname) {
            s_ident (name, conname);
        }
        else {
            s_default_name (name, table, column, fk ? json_object_get (con, "fk_attrs") : NULL,
                            fk ? "fkey" : "check");
        }
        wes_buf_t *b = wes_buf_new ();
        if (column) {
            wes_buf_puts (b, "ALTER TABLE ");
            s_put_rel (b, rel);
            wes_buf_puts (b, " ADD COLUMN ");
            s_ident (b, column);
            wes_buf_puts (b, " ...;  -- without the inline constraint, then:\n");
        }
        wes_buf_puts (b, "ALTER TABLE ");
        s_put_rel (b, rel);
        wes_buf_printf (b, " ADD CONSTRAINT %s ", wes_buf_data (name));
        if (fk) {
            wes_buf_puts (b, "FOREIGN KEY (");
            if (column) {
                s_ident (b, column);
            }
            else {
                s_strv_join (b, json_object_get (con, "fk_attrs"), ", ");
            }
            wes_buf_puts (b, ") REFERENCES ");
            s_put_rel (b, json_object_get (con, "pktable"));
            if (json_array_size (json_object_get (con, "pk_attrs"))) {
                wes_buf_puts (b, " (");
                s_strv_join (b, json_object_get (con, "pk_attrs"), ", ");
                wes_buf_puts (b, ")");
            }
        }
        else {
            wes_buf_puts (b, "CHECK ");
            s_put_check_expr (b, T, loc);
        }
        wes_buf_puts (b, " NOT VALID;\n-- then, in a separate transaction (SHARE UPDATE EXCLUSIVE "
                         "only, writes go on):\nALTER TABLE ");
        s_put_rel (b, rel);
        wes_buf_printf (b, " VALIDATE CONSTRAINT %s;", wes_buf_data (name));
        s_add (T, "constraint-not-valid", WES_LINT_ERROR, loc, wes_buf_data (b),
               "%s added to existing table %s without NOT VALID: every row is checked while the "
               "table is locked (%s)",
               fk ? "FOREIGN KEY" : "CHECK", table ? table : "?",
               fk ? "SHARE ROW EXCLUSIVE on it and its parent: writes blocked"
                  : "ACCESS EXCLUSIVE: reads and writes blocked");
        wes_buf_destroy (&b);
        wes_buf_destroy (&name);
        return;
    }
    bool unique = strcmp (contype, "CONSTR_UNIQUE") == 0;
    bool pk = strcmp (contype, "CONSTR_PRIMARY") == 0;
    if ((unique || pk) && !s_str (con, "indexname")) {
        wes_buf_t *name = wes_buf_new ();
        if (conname) {
            s_ident (name, conname);
        }
        else {
            s_default_name (name, table, pk ? NULL : column,
                            pk ? NULL : json_object_get (con, "keys"), pk ? "pkey" : "key");
        }
        wes_buf_t *b = wes_buf_new ();
        wes_buf_printf (b, "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS %s ON ",
                        wes_buf_data (name));
        s_put_rel (b, rel);
        wes_buf_puts (b, " (");
        if (column) {
            s_ident (b, column);
        }
        else {
            s_strv_join (b, json_object_get (con, "keys"), ", ");
        }
        wes_buf_puts (b, ");  -- outside any transaction block\nALTER TABLE ");
        s_put_rel (b, rel);
        wes_buf_printf (b, " ADD CONSTRAINT %s %s USING INDEX %s;", wes_buf_data (name),
                        pk ? "PRIMARY KEY" : "UNIQUE", wes_buf_data (name));
        s_add (T, "unique-without-index", WES_LINT_ERROR, loc, wes_buf_data (b),
               "%s added to existing table %s builds its index while the table is locked "
               "(ACCESS EXCLUSIVE: reads and writes blocked)",
               pk ? "PRIMARY KEY" : "UNIQUE", table ? table : "?");
        wes_buf_destroy (&b);
        wes_buf_destroy (&name);
    }
}

static void
s_shadow_rewrite (wes_buf_t *b, json_t *rel, const char *col, const char *type)
{
    wes_buf_puts (b, "-- the shadow-column pattern (what Wesley's planner does):\nALTER TABLE ");
    s_put_rel (b, rel);
    wes_buf_puts (b, " ADD COLUMN ");
    wes_buf_printf (b, "%s__new %s;\n", col, type);
    wes_buf_printf (b, "-- a BEFORE INSERT OR UPDATE trigger keeping %s__new = %s::%s,\n", col, col,
                    type);
    wes_buf_puts (b, "-- installed before the backfill\nUPDATE ");
    s_put_rel (b, rel);
    wes_buf_printf (b, " SET %s__new = %s::%s WHERE <primary key in the next batch>;\n", col, col,
                    type);
    wes_buf_puts (b, "-- ...in batches by primary key, each its own short transaction;\n"
                     "-- indexes CONCURRENTLY and constraints NOT VALID + VALIDATE on the shadow;\n"
                     "-- then, in one short transaction: drop the trigger,\nALTER TABLE ");
    s_put_rel (b, rel);
    wes_buf_printf (b, " RENAME COLUMN %s TO %s__old;\nALTER TABLE ", col, col);
    s_put_rel (b, rel);
    wes_buf_printf (b,
                    " RENAME COLUMN %s__new TO %s;\n-- and later (contract): DROP COLUMN %s__old",
                    col, col, col);
}

static void
s_alter_type (s_text_t *T, json_t *rel, json_t *cmd)
{
    const char *table = s_relname (rel);
    const char *col = s_str (cmd, "name");
    json_t *def = json_object_get (json_object_get (cmd, "def"), "ColumnDef");
    wes_buf_t *tb = wes_buf_new ();
    s_type_name (tb, json_object_get (def, "typeName"));
    const char *to = wes_buf_data (tb);
    bool using = json_object_get (def, "raw_default") != NULL;
    s_fact_t *known = s_fact_find (&T->L->columns, table, col);
    const char *from = known ? known->value : NULL;
    if (!s_is_new (T, table)) {
        wes_buf_t *b = wes_buf_new ();
        wes_buf_t *qcol = wes_buf_new ();
        s_ident (qcol, col ? col : "?");
        s_shadow_rewrite (b, rel, wes_buf_data (qcol), to);
        if (from && s_type_compatible (from, to)) {
            /* binary-coercible: no rewrite, brief lock only */
        }
        else if (from) {
            bool narrowing =
                wes_planner_classify_type_change (from, to) == WES_TYPE_CHANGE_NARROWING;
            s_add (T, "alter-type-rewrite", WES_LINT_ERROR, s_loc (def), wes_buf_data (b),
                   "ALTER COLUMN %s TYPE %s (from %s) rewrites all of %s under ACCESS EXCLUSIVE%s",
                   col ? col : "?", to, from, table ? table : "?",
                   narrowing ? "; the narrower type may also fail on existing values" : "");
        }
        else if (s_maybe_compatible_target (to) && !using) {
            s_add (T, "alter-type-rewrite", WES_LINT_WARNING, s_loc (def), wes_buf_data (b),
                   "ALTER COLUMN %s TYPE %s rewrites all of %s under ACCESS EXCLUSIVE unless the "
                   "change is binary-coercible (varchar(n) -> varchar(m >= n) or text, numeric "
                   "precision raised, timestamp precision raised); the current type is unknown "
                   "here (lint --db tells)",
                   col ? col : "?", to, table ? table : "?");
        }
        else {
            s_add (T, "alter-type-rewrite", WES_LINT_ERROR, s_loc (def), wes_buf_data (b),
                   "ALTER COLUMN %s TYPE %s%s rewrites all of %s under ACCESS EXCLUSIVE",
                   col ? col : "?", to, using ? " USING ..." : "", table ? table : "?");
        }
        wes_buf_destroy (&qcol);
        wes_buf_destroy (&b);
    }
    wes_lint_note_column (T->L, table, col, to);
    wes_buf_destroy (&tb);
}

static void
s_add_column (s_text_t *T, json_t *rel, json_t *def)
{
    const char *table = s_relname (rel);
    const char *col = s_str (def, "colname");
    wes_buf_t *tb = wes_buf_new ();
    s_type_name (tb, json_object_get (def, "typeName"));
    const char *type = wes_buf_data (tb);
    wes_lint_note_column (T->L, table, col, type);
    if (table && col) {
        s_fact_put (&T->L->new_columns, table, col);
    }
    bool is_new = s_is_new (T, table);
    json_t *cons = json_object_get (def, "constraints");
    json_t *dflt = NULL;
    bool not_null = false, generated = false;
    int nn_loc = -1;
    for (size_t i = 0; i < json_array_size (cons); i++) {
        json_t *con = json_object_get (json_array_get (cons, i), "Constraint");
        const char *ct = s_str (con, "contype");
        ct = ct ? ct : "";
        if (strcmp (ct, "CONSTR_DEFAULT") == 0) {
            dflt = con;
        }
        else if (strcmp (ct, "CONSTR_NOTNULL") == 0 || strcmp (ct, "CONSTR_PRIMARY") == 0) {
            not_null = true;
            nn_loc = s_loc (con);
        }
        else if (strcmp (ct, "CONSTR_IDENTITY") == 0 || strcmp (ct, "CONSTR_GENERATED") == 0) {
            generated = true;
            if (!is_new) {
                s_add (T, "volatile-default", WES_LINT_ERROR, s_loc (con),
                       "add the column plain, fill it in batches, then attach the\n"
                       "identity / generation in a later step",
                       "ADD COLUMN %s %s computes a value for every row: the whole of %s is "
                       "rewritten under ACCESS EXCLUSIVE",
                       col ? col : "?",
                       strcmp (ct, "CONSTR_IDENTITY") == 0 ? "GENERATED ... AS IDENTITY"
                                                           : "GENERATED ALWAYS AS (...) STORED",
                       table ? table : "?");
            }
        }
        if (strcmp (ct, "CONSTR_FOREIGN") == 0 || strcmp (ct, "CONSTR_CHECK") == 0
            || strcmp (ct, "CONSTR_UNIQUE") == 0 || strcmp (ct, "CONSTR_PRIMARY") == 0) {
            s_constraint (T, rel, con, col);
        }
    }
    if (is_new) {
        wes_buf_destroy (&tb);
        return;
    }
    wes_buf_t *qcol = wes_buf_new ();
    s_ident (qcol, col ? col : "?");
    const char *tname = s_last_name (json_object_get (json_object_get (def, "typeName"), "names"));
    bool serial = tname
                  && (strcmp (tname, "serial") == 0 || strcmp (tname, "bigserial") == 0
                      || strcmp (tname, "smallserial") == 0 || strcmp (tname, "serial4") == 0
                      || strcmp (tname, "serial8") == 0 || strcmp (tname, "serial2") == 0);
    const char *fn = NULL;
    s_vol_t vol = serial ? S_VOL_VOLATILE
                  : dflt ? s_volatility (json_object_get (dflt, "raw_expr"), &fn)
                         : S_VOL_NONE;
    if (vol != S_VOL_NONE) {
        wes_buf_t *b = wes_buf_new ();
        wes_buf_puts (b, "ALTER TABLE ");
        s_put_rel (b, rel);
        wes_buf_printf (b, " ADD COLUMN %s %s;  -- no default: no rewrite\nALTER TABLE ",
                        wes_buf_data (qcol), serial ? "bigint" : type);
        s_put_rel (b, rel);
        wes_buf_printf (b, " ALTER COLUMN %s SET DEFAULT ...;  -- new rows only\n",
                        wes_buf_data (qcol));
        wes_buf_puts (b, "UPDATE ");
        s_put_rel (b, rel);
        wes_buf_printf (b,
                        " SET %s = ... WHERE %s IS NULL AND <primary key in the next batch>;\n"
                        "-- ...in batches by primary key, each its own short transaction",
                        wes_buf_data (qcol), wes_buf_data (qcol));
        if (vol == S_VOL_VOLATILE) {
            s_add (T, "volatile-default", WES_LINT_ERROR, dflt ? s_loc (dflt) : s_loc (def),
                   wes_buf_data (b),
                   "ADD COLUMN %s with a volatile default (%s) rewrites all of %s under ACCESS "
                   "EXCLUSIVE: every row gets its own value",
                   col ? col : "?",
                   serial ? "serial: nextval()"
                   : fn   ? fn
                          : "?",
                   table ? table : "?");
        }
        else {
            s_add (T, "volatile-default", WES_LINT_WARNING, s_loc (dflt), wes_buf_data (b),
                   "ADD COLUMN %s has a default calling %s(), which Wesley does not know: if it "
                   "is volatile, all of %s is rewritten under ACCESS EXCLUSIVE",
                   col ? col : "?", fn ? fn : "?", table ? table : "?");
        }
        wes_buf_destroy (&b);
    }
    if (not_null && !dflt && !serial && !generated) {
        wes_buf_t *b = wes_buf_new ();
        wes_buf_puts (b, "ALTER TABLE ");
        s_put_rel (b, rel);
        wes_buf_printf (b,
                        " ADD COLUMN %s %s NOT NULL DEFAULT <constant>;  -- no rewrite "
                        "(PG >= 11)\n-- or: add it nullable, backfill in batches, then the "
                        "NOT NULL steps (CHECK NOT VALID, VALIDATE, SET NOT NULL)",
                        wes_buf_data (qcol), type);
        s_add (T, "add-column-not-null-no-default", WES_LINT_ERROR, nn_loc, wes_buf_data (b),
               "ADD COLUMN %s NOT NULL without a DEFAULT fails as soon as %s has a row",
               col ? col : "?", table ? table : "?");
        wes_buf_destroy (&b);
    }
    wes_buf_destroy (&qcol);
    wes_buf_destroy (&tb);
}

static void
s_set_not_null (s_text_t *T, json_t *rel, const char *col)
{
    const char *table = s_relname (rel);
    if (s_is_new (T, table)) {
        return;
    }
    s_fact_t *ck = s_fact_find (&T->L->checks, table, col);
    if (ck && ck->flag) {
        return; /* a validated CHECK (col IS NOT NULL) proves it: no scan (PG >= 12) */
    }
    if (T->L->rows_noted) {
        s_fact_t *r = s_fact_find (&T->L->rows, table, NULL);
        if (r && r->rows >= 0 && r->rows <= (double)T->L->big_rows) {
            return;
        }
    }
    wes_buf_t *q = wes_buf_new ();
    s_ident (q, col ? col : "?");
    const char *c = wes_buf_data (q);
    wes_buf_t *b = wes_buf_new ();
    wes_buf_t *rn = wes_buf_new ();
    s_put_rel (rn, rel);
    const char *r = wes_buf_data (rn);
    wes_buf_printf (b,
                    "ALTER TABLE %s ADD CONSTRAINT %s_%s_not_null CHECK (%s IS NOT NULL) NOT "
                    "VALID;\n"
                    "ALTER TABLE %s VALIDATE CONSTRAINT %s_%s_not_null;  -- its own transaction\n"
                    "ALTER TABLE %s ALTER COLUMN %s SET NOT NULL;  -- uses the check (PG >= 12)\n"
                    "ALTER TABLE %s DROP CONSTRAINT %s_%s_not_null;",
                    r, table ? table : "t", col ? col : "c", c, r, table ? table : "t",
                    col ? col : "c", r, c, r, table ? table : "t", col ? col : "c");
    s_fact_t *rows = s_fact_find (&T->L->rows, table, NULL);
    char size[96] = "";
    if (rows && rows->rows >= 0) {
        snprintf (size, sizeof size, " (about %.0f rows)", rows->rows);
    }
    s_add (T, "set-not-null", WES_LINT_WARNING, -1, wes_buf_data (b),
           "ALTER COLUMN %s SET NOT NULL scans all of %s%s under ACCESS EXCLUSIVE", col ? col : "?",
           table ? table : "?", size);
    wes_buf_destroy (&rn);
    wes_buf_destroy (&b);
    wes_buf_destroy (&q);
}

static void
s_alter_table (s_text_t *T, json_t *body)
{
    const char *objtype = s_str (body, "objtype");
    if (objtype && strcmp (objtype, "OBJECT_TABLE") != 0) {
        return;
    }
    json_t *rel = json_object_get (body, "relation");
    const char *table = s_relname (rel);
    bool is_new = s_is_new (T, table);
    json_t *cmds = json_object_get (body, "cmds");
    for (size_t i = 0; i < json_array_size (cmds); i++) {
        json_t *cmd = json_object_get (json_array_get (cmds, i), "AlterTableCmd");
        const char *sub = s_str (cmd, "subtype");
        sub = sub ? sub : "";
        json_t *def = json_object_get (cmd, "def");
        if (strcmp (sub, "AT_AddConstraint") == 0) {
            s_constraint (T, rel, json_object_get (def, "Constraint"), NULL);
        }
        else if (strcmp (sub, "AT_ValidateConstraint") == 0) {
            const char *name = s_str (cmd, "name");
            /* validated in the very block that added it NOT VALID: the ADD's
               lock is held through the whole scan */
            for (size_t k = T->L->not_valid.n;
                 name && table && !is_new && T->in_tx && T->tx && k-- > 0;) {
                s_fact_t *f = &T->L->not_valid.v[k];
                if (strcmp (f->table, table) == 0 && f->value && strcmp (f->value, name) == 0) {
                    if (f->tx == T->tx) {
                        wes_buf_t *b = wes_buf_new ();
                        wes_buf_puts (b, "COMMIT;  -- right after the ADD CONSTRAINT ... NOT "
                                         "VALID\nBEGIN;\nSET LOCAL lock_timeout = '2s';\n"
                                         "ALTER TABLE ");
                        s_put_rel (b, rel);
                        wes_buf_puts (b, " VALIDATE CONSTRAINT ");
                        s_ident (b, name);
                        wes_buf_puts (b, ";\nCOMMIT;");
                        s_add (T, "constraint-not-valid", WES_LINT_WARNING, -1, wes_buf_data (b),
                               "VALIDATE CONSTRAINT %s runs in the transaction that added it NOT "
                               "VALID: the ADD's lock on %s is held for the whole scan",
                               name, table);
                        wes_buf_destroy (&b);
                    }
                    break;
                }
            }
            for (size_t k = 0; name && k < T->L->checks.n; k++) {
                s_fact_t *f = &T->L->checks.v[k];
                if (strcmp (f->table, table ? table : "") == 0 && f->value
                    && strcmp (f->value, name) == 0) {
                    f->flag = true;
                }
            }
        }
        else if (strcmp (sub, "AT_SetNotNull") == 0) {
            s_set_not_null (T, rel, s_str (cmd, "name"));
        }
        else if (strcmp (sub, "AT_AlterColumnType") == 0) {
            s_alter_type (T, rel, cmd);
        }
        else if (strcmp (sub, "AT_AddColumn") == 0) {
            s_add_column (T, rel, json_object_get (def, "ColumnDef"));
        }
        else if (strcmp (sub, "AT_DropColumn") == 0 && !is_new) {
            s_add (T, "destructive", WES_LINT_WARNING, -1,
                   "expand/contract: stop reading and writing the column in every application\n"
                   "version, deploy, then drop it in a later migration (Wesley: the contract\n"
                   "phase, only with --allow-destructive)",
                   "DROP COLUMN %s of %s loses its data and breaks application code still using "
                   "it",
                   s_str (cmd, "name") ? s_str (cmd, "name") : "?", table ? table : "?");
        }
    }
    if (!is_new) {
        s_need_lock_timeout (T, "ALTER TABLE", table);
    }
}

/*  A rename finding just added for table.name (column) or name (table):
    kept pending, withdrawn if the name comes back in the same text. */
static void
s_rename_pending (s_text_t *T, size_t before, const char *table, const char *name)
{
    if (T->L->n_findings == before || T->n_renames >= sizeof T->renames / sizeof T->renames[0]) {
        return;
    }
    snprintf (T->renames[T->n_renames].table, sizeof T->renames[0].table, "%s", table);
    snprintf (T->renames[T->n_renames].name, sizeof T->renames[0].name, "%s", name);
    T->renames[T->n_renames].finding = before;
    T->n_renames++;
}

static void
s_rename_back (s_text_t *T, const char *table, const char *name)
{
    for (size_t i = 0; i < T->n_renames; i++) {
        if (strcmp (T->renames[i].table, table) == 0 && strcmp (T->renames[i].name, name) == 0
            && T->renames[i].finding < T->L->n_findings) {
            T->L->findings[T->renames[i].finding].rule = NULL; /* withdrawn */
            T->renames[i].table[0] = '\0';
        }
    }
}

static bool
s_is_new_column (s_text_t *T, const char *table, const char *column)
{
    return s_fact_find (&T->L->new_columns, table, column) != NULL;
}

static void
s_rename (s_text_t *T, json_t *body)
{
    const char *type = s_str (body, "renameType");
    type = type ? type : "";
    json_t *rel = json_object_get (body, "relation");
    const char *table = s_relname (rel);
    const char *to = s_str (body, "newname");
    bool is_new = s_is_new (T, table);
    if (strcmp (type, "OBJECT_COLUMN") == 0 && table) {
        const char *from = s_str (body, "subname");
        size_t before = T->L->n_findings;
        if (to) {
            s_rename_back (T, table, to); /* a swap: the old name lives on */
        }
        /* a column added by this migration is not used by running code yet */
        if (!is_new && from && !s_is_new_column (T, table, from)) {
            s_add (T, "rename", WES_LINT_WARNING, -1,
                   "expand/contract: add the new column, keep both in sync with a trigger,\n"
                   "backfill it in batches, move every application version to it, then drop\n"
                   "the old one (Wesley: @wes_renamedFrom)",
                   "RENAME COLUMN %s TO %s breaks application code still using %s.%s",
                   from ? from : "?", to ? to : "?", table, from ? from : "?");
            s_rename_pending (T, before, table, from);
        }
        if (!is_new) {
            s_need_lock_timeout (T, "ALTER TABLE ... RENAME", table);
        }
        if (from && to) {
            s_rename_column (&T->L->columns, table, from, to);
            s_rename_column (&T->L->checks, table, from, to);
            s_rename_column (&T->L->new_columns, table, from, to);
        }
    }
    else if (strcmp (type, "OBJECT_TABLE") == 0 && table && to) {
        if (!is_new) {
            size_t before = T->L->n_findings;
            s_add (T, "rename", WES_LINT_WARNING, -1,
                   "rename it and leave an updatable view under the old name until every\n"
                   "application version uses the new one (Wesley: @wes_renamedFrom)",
                   "RENAME TO %s breaks application code still using table %s", to, table);
            s_rename_pending (T, before, "", table);
            s_need_lock_timeout (T, "ALTER TABLE ... RENAME", table);
        }
        s_rename_back (T, "", to);
        char *from = wes_strdup (table);
        s_rename_table (&T->L->new_tables, from, to);
        s_rename_table (&T->L->columns, from, to);
        s_rename_table (&T->L->checks, from, to);
        s_rename_table (&T->L->rows, from, to);
        s_rename_table (&T->L->new_columns, from, to);
        free (from);
    }
}

static void
s_transaction (s_text_t *T, json_t *body)
{
    const char *kind = s_str (body, "kind");
    kind = kind ? kind : "";
    bool begin = strcmp (kind, "TRANS_STMT_BEGIN") == 0 || strcmp (kind, "TRANS_STMT_START") == 0;
    bool end = strcmp (kind, "TRANS_STMT_COMMIT") == 0 || strcmp (kind, "TRANS_STMT_ROLLBACK") == 0
               || strcmp (kind, "TRANS_STMT_PREPARE") == 0;
    if (T->ctx->raw_step && (begin || end)) {
        s_add (T, "transaction-control", WES_LINT_ERROR, -1,
               "remove BEGIN/COMMIT: Wesley runs each raw step in its own transaction\n"
               "(or, with CONCURRENTLY statements, each of those on its own)",
               "a raw plan step must not begin or end transactions: Wesley wraps it (BEGIN, "
               "timeouts, advisory lock, ledger row, COMMIT)");
        return;
    }
    if (begin) {
        T->in_tx = true;
        T->tx = ++T->L->tx_seq;
        T->local_lock_timeout = T->local_statement_timeout = false;
        T->lock_timeout_warned = false;
    }
    else if (end) {
        T->in_tx = false;
        T->tx = 0;
        T->local_lock_timeout = T->local_statement_timeout = false;
        T->lock_timeout_warned = false;
    }
}

/*  Whether a SET value turns the timeout on (0 / '0' / DEFAULT: off). */
static bool
s_timeout_on (json_t *args)
{
    json_t *a = json_object_get (json_array_get (args, 0), "A_Const");
    if (!a) {
        return false;
    }
    json_t *iv = json_object_get (a, "ival");
    if (iv) {
        return json_integer_value (json_object_get (iv, "ival")) != 0;
    }
    const char *s = s_str (json_object_get (a, "sval"), "sval");
    if (!s) {
        return true;
    }
    while (*s == ' ') {
        s++;
    }
    return !(s[0] == '0' && (s[1] == '\0' || !isdigit ((unsigned char)s[1])) && !strchr (s, '.'))
           && s[0] != '\0';
}

static void
s_variable_set (s_text_t *T, json_t *body)
{
    const char *name = s_str (body, "name");
    const char *kind = s_str (body, "kind");
    if (!name || !kind) {
        return;
    }
    bool lt = strcmp (name, "lock_timeout") == 0;
    bool st = strcmp (name, "statement_timeout") == 0;
    if (!lt && !st) {
        return;
    }
    bool on = strcmp (kind, "VAR_SET_VALUE") == 0 && s_timeout_on (json_object_get (body, "args"));
    bool local = s_bool (body, "is_local");
    if (local && !T->in_tx) {
        s_add (T, "set-local-outside-transaction", WES_LINT_WARNING, -1,
               lt ? "SET lock_timeout = '2s';  -- session-wide, or SET LOCAL after BEGIN"
                  : "SET statement_timeout = '60s';  -- session-wide, or SET LOCAL after BEGIN",
               "SET LOCAL %s outside a transaction block has no effect (PostgreSQL only warns)",
               name);
        return;
    }
    if (local) {
        *(lt ? &T->local_lock_timeout : &T->local_statement_timeout) = on;
    }
    else {
        *(lt ? &T->L->session_lock_timeout : &T->L->session_statement_timeout) = on;
        if (!on) {
            *(lt ? &T->local_lock_timeout : &T->local_statement_timeout) = false;
        }
    }
}

static void
s_create_table (s_text_t *T, json_t *body, json_t *rel)
{
    const char *table = s_relname (rel);
    if (!table) {
        return;
    }
    s_fact_put (&T->L->new_tables, table, NULL);
    json_t *elts = json_object_get (body, "tableElts");
    bool references_old = false;
    for (size_t i = 0; i < json_array_size (elts); i++) {
        json_t *e = json_array_get (elts, i);
        json_t *cd = json_object_get (e, "ColumnDef");
        if (cd) {
            wes_buf_t *tb = wes_buf_new ();
            s_type_name (tb, json_object_get (cd, "typeName"));
            wes_lint_note_column (T->L, table, s_str (cd, "colname"), wes_buf_data (tb));
            wes_buf_destroy (&tb);
            json_t *cons = json_object_get (cd, "constraints");
            for (size_t k = 0; k < json_array_size (cons); k++) {
                json_t *c = json_object_get (json_array_get (cons, k), "Constraint");
                const char *pk = s_relname (json_object_get (c, "pktable"));
                references_old = references_old || (pk && !s_is_new (T, pk));
            }
        }
        json_t *c = json_object_get (e, "Constraint");
        const char *pk = s_relname (json_object_get (c, "pktable"));
        references_old = references_old || (pk && !s_is_new (T, pk));
    }
    if (references_old) {
        s_need_lock_timeout (T, "CREATE TABLE with a FOREIGN KEY (locks its parent)", NULL);
    }
}

static void
s_stmt (s_text_t *T, json_t *node)
{
    json_t *body = NULL;
    const char *type = wes_pgparse_node_type (node, &body);
    if (!type) {
        return;
    }
    json_t *rel = json_object_get (body, "relation");
    const char *table = s_relname (rel);
    if (strcmp (type, "TransactionStmt") == 0) {
        s_transaction (T, body);
    }
    else if (strcmp (type, "VariableSetStmt") == 0) {
        s_variable_set (T, body);
    }
    else if (strcmp (type, "CreateStmt") == 0) {
        s_create_table (T, body, rel);
    }
    else if (strcmp (type, "CreateTableAsStmt") == 0) {
        const char *name = s_relname (json_object_get (
            json_object_get (json_object_get (body, "into"), "IntoClause"), "rel"));
        if (!name) {
            name = s_relname (json_object_get (json_object_get (body, "into"), "rel"));
        }
        if (name) {
            s_fact_put (&T->L->new_tables, name, NULL);
        }
    }
    else if (strcmp (type, "ViewStmt") == 0) {
        const char *view = s_relname (json_object_get (body, "view"));
        if (view) {
            s_rename_back (T, "", view); /* the old name lives on as a view */
        }
    }
    else if (strcmp (type, "IndexStmt") == 0) {
        s_index_stmt (T, body);
    }
    else if (strcmp (type, "DropStmt") == 0) {
        s_drop_stmt (T, body);
    }
    else if (strcmp (type, "ReindexStmt") == 0) {
        s_reindex_stmt (T, body);
    }
    else if (strcmp (type, "AlterTableStmt") == 0) {
        s_alter_table (T, body);
    }
    else if (strcmp (type, "RenameStmt") == 0) {
        s_rename (T, body);
    }
    else if (strcmp (type, "TruncateStmt") == 0) {
        json_t *rels = json_object_get (body, "relations");
        bool any_old = false;
        for (size_t i = 0; i < json_array_size (rels); i++) {
            const char *t = s_relname (json_object_get (json_array_get (rels, i), "RangeVar"));
            if (s_is_new (T, t)) {
                continue;
            }
            any_old = true;
            s_add (T, "destructive", WES_LINT_WARNING, -1,
                   "delete in batches by primary key if rows must go while the application runs\n"
                   "(TRUNCATE takes ACCESS EXCLUSIVE and cannot be undone once committed)",
                   "TRUNCATE %s removes every row", t ? t : "?");
        }
        if (any_old) {
            s_need_lock_timeout (T, "TRUNCATE", NULL);
        }
    }
    else if ((strcmp (type, "UpdateStmt") == 0 || strcmp (type, "DeleteStmt") == 0)
             && !json_object_get (body, "whereClause") && !s_is_new (T, table)) {
        bool upd = type[0] == 'U';
        wes_buf_t *b = wes_buf_new ();
        wes_buf_puts (b, upd ? "UPDATE " : "DELETE FROM ");
        s_put_rel (b, rel);
        wes_buf_puts (b, upd ? " SET ... WHERE id > :last AND id <= :last + 5000;"
                             : " WHERE id IN (SELECT id FROM ");
        if (!upd) {
            s_put_rel (b, rel);
            wes_buf_puts (b, " ORDER BY id LIMIT 5000);");
        }
        wes_buf_puts (b, "\n-- repeated in batches by primary key, each its own short "
                         "transaction,\n-- until no row is left");
        s_add (T, "whole-table-update", WES_LINT_WARNING, -1, wes_buf_data (b),
               "%s without WHERE touches every row of %s in one transaction: long row locks, "
               "bloat, replication lag",
               upd ? "UPDATE" : "DELETE", table ? table : "?");
        wes_buf_destroy (&b);
    }
    else if (strcmp (type, "VacuumStmt") == 0) {
        bool full = false;
        json_t *opts = json_object_get (body, "options");
        for (size_t i = 0; i < json_array_size (opts); i++) {
            const char *d =
                s_str (json_object_get (json_array_get (opts, i), "DefElem"), "defname");
            full = full || (d && strcasecmp (d, "full") == 0);
        }
        if (T->in_tx && s_bool (body, "is_vacuumcmd")) {
            s_add (T, "concurrent-in-transaction", WES_LINT_ERROR, -1,
                   "COMMIT;  -- end the transaction block first, then VACUUM on its own",
                   "VACUUM cannot run inside a transaction block (PostgreSQL refuses it)");
        }
        if (full) {
            s_add (T, "vacuum-full", WES_LINT_ERROR, -1,
                   "VACUUM (without FULL) reclaims space for reuse without blocking;\n"
                   "to shrink the table online, use pg_repack",
                   "VACUUM FULL rewrites the table under ACCESS EXCLUSIVE: reads and writes "
                   "blocked until it finishes");
        }
    }
    else if (strcmp (type, "ClusterStmt") == 0) {
        s_add (T, "cluster", WES_LINT_ERROR, -1,
               "pg_repack --order-by ... reorders a table online; or leave the order alone",
               "CLUSTER rewrites %s under ACCESS EXCLUSIVE: reads and writes blocked until it "
               "finishes",
               table ? table : "the table");
        s_need_lock_timeout (T, "CLUSTER", table);
    }
    else if (strcmp (type, "LockStmt") == 0) {
        json_t *m = json_object_get (body, "mode");
        long mode = json_is_integer (m) ? (long)json_integer_value (m) : 8;
        /* SHARE and stronger block writes. Taken with lock_timeout set, in a
           short transaction, it is the lock-ordering idiom that avoids
           deadlocks (the planner locks an FK parent first): that passes */
        bool bounded =
            T->ctx->lock_timeout_set || T->local_lock_timeout || T->L->session_lock_timeout;
        if (mode >= 5 && (!bounded || !T->in_tx)) {
            s_add (T, "lock-table", WES_LINT_WARNING, -1,
                   "BEGIN; SET LOCAL lock_timeout = '2s'; LOCK TABLE ...; <the change>; COMMIT;\n"
                   "-- or let each statement take the lock it needs, briefly",
                   "LOCK TABLE in a mode that blocks writes (mode %ld of 8) %s", mode,
                   T->in_tx ? "with no lock_timeout: it may wait, and block, without end"
                            : "outside a transaction block (PostgreSQL refuses it)");
        }
        s_need_lock_timeout (T, "LOCK TABLE", NULL);
    }
    else if ((strcmp (type, "CreateTrigStmt") == 0 || strcmp (type, "CreatePolicyStmt") == 0
              || strcmp (type, "AlterPolicyStmt") == 0)) {
        json_t *r = rel ? rel : json_object_get (body, "table");
        const char *t = s_relname (r);
        if (!s_is_new (T, t)) {
            s_need_lock_timeout (T, type[6] == 'T' ? "CREATE TRIGGER" : "a policy change", t);
        }
    }
}
