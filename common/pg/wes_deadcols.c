/*  wes_deadcols.c — aggregates the references of every recorded statement
    per table and column of the model, and grades each unreferenced column
    by the rules in wes_deadcols.h. */
#include "wes_deadcols.h"

#include <ctype.h>
#include <errno.h>
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pg/wes_pgparse.h"
#include "pg/wes_sqlrefs.h"
#include "util/wes_log.h"

typedef enum { S_LOW = 0, S_MEDIUM = 1, S_HIGH = 2 } s_conf_t;

static const char *s_conf_names[] = {"LOW", "MEDIUM", "HIGH"};

/*  What the statements did to one table of the model. */
typedef struct {
    const wes_table_t *table; /* the model's table (borrowed) */
    int64_t calls;            /* calls of statements that touched it */
    int64_t star_calls;       /* ... that read it through * / t.* / a whole row */
    int64_t insert_all_calls; /* ... that wrote it without a column list */
    int64_t unparsable;       /* unparsable statements naming it */
    int64_t *col_calls;       /* per column (model order): calls of statements naming it */
    json_t *views;            /* view name -> {column: true} (the columns its definition uses) */
    json_t *functions;        /* function name -> {column: true} (the columns it mentions) */
} s_table_t;

struct wes_deadcols {
    const wes_model_t *model; /* borrowed */
    char *db_schema;          /* database schema of the model's tables */
    int64_t min_window;       /* seconds */
    int64_t min_calls;
    s_table_t *tables; /* one per model table, model order */
    size_t n_tables;
    json_t *index;          /* table name -> index into tables */
    double window;          /* seconds since the statistics were reset */
    char *stats_reset;      /* that time as the server printed it, or NULL */
    int64_t evictions;      /* pg_stat_statements_info.dealloc */
    int64_t statements;     /* recorded statements read */
    int64_t calls;          /* their calls */
    int64_t unparsable;     /* statements the parser refused */
    json_t *relation_calls; /* relation name (and schema.name) -> calls, for views */
    json_t *function_calls; /* function name -> calls in recorded statements */
    wes_sqlrefs_t *refs;    /* reused for every statement */
};

wes_deadcols_t *
wes_deadcols_new (const wes_model_t *model, const wes_deadcols_opts_t *opts)
{
    wes_assert (model && opts);
    wes_deadcols_t *self = wes_new (wes_deadcols_t);
    self->model = model;
    self->db_schema = wes_strdup (opts->db_schema ? opts->db_schema : "public");
    self->min_window = opts->min_window;
    self->min_calls = opts->min_calls;
    self->n_tables = wes_model_table_count (model);
    self->tables = wes_alloc ((self->n_tables + 1) * sizeof (s_table_t));
    self->index = json_object ();
    for (size_t i = 0; i < self->n_tables; i++) {
        s_table_t *t = &self->tables[i];
        t->table = wes_model_table (model, i);
        t->col_calls = wes_alloc ((t->table->n_columns + 1) * sizeof (int64_t));
        t->views = json_object ();
        t->functions = json_object ();
        json_object_set_new (self->index, t->table->name, json_integer ((json_int_t) i));
    }
    self->relation_calls = json_object ();
    self->function_calls = json_object ();
    self->refs = wes_sqlrefs_new (model, self->db_schema);
    return self;
}

void
wes_deadcols_destroy (wes_deadcols_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wes_deadcols_t *self = *self_p;
    for (size_t i = 0; i < self->n_tables; i++) {
        free (self->tables[i].col_calls);
        json_decref (self->tables[i].views);
        json_decref (self->tables[i].functions);
    }
    free (self->tables);
    json_decref (self->index);
    json_decref (self->relation_calls);
    json_decref (self->function_calls);
    wes_sqlrefs_destroy (&self->refs);
    free (self->stats_reset);
    free (self->db_schema);
    free (self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------------- */
/*  Inputs */

static s_table_t *
s_table (wes_deadcols_t *self, const char *name)
{
    json_t *i = name ? json_object_get (self->index, name) : NULL;
    return i ? &self->tables[json_integer_value (i)] : NULL;
}

static void
s_add_calls (json_t *counts, const char *key, int64_t calls)
{
    json_t *v = json_object_get (counts, key);
    json_object_set_new (counts, key,
                         json_integer ((v ? json_integer_value (v) : 0) + (json_int_t) calls));
}

/*  Whether text mentions word as a whole identifier, ignoring case. */
static bool
s_mentions (const char *text, const char *word)
{
    size_t n = strlen (word);
    if (!text || n == 0) {
        return false;
    }
    for (const char *p = text; *p; p++) {
        if (strncasecmp (p, word, n) != 0) {
            continue;
        }
        bool left = p == text || !(isalnum ((unsigned char) p[-1]) || p[-1] == '_' || p[-1] == '$');
        char r = p[n];
        bool right = !(isalnum ((unsigned char) r) || r == '_' || r == '$');
        if (left && right) {
            return true;
        }
    }
    return false;
}

void
wes_deadcols_set_window (wes_deadcols_t *self, double window, const char *stats_reset,
                         int64_t evictions)
{
    self->window = window < 0 ? 0 : window;
    free (self->stats_reset);
    self->stats_reset = wes_strdup (stats_reset);
    self->evictions = evictions < 0 ? 0 : evictions;
}

void
wes_deadcols_add_statement (wes_deadcols_t *self, const char *query, int64_t calls)
{
    if (calls < 0) {
        calls = 0;
    }
    self->statements++;
    self->calls += calls;
    wes_pgparse_error_t err;
    wes_sqlrefs_clear (self->refs);
    if (!query || wes_sqlrefs_add_sql (self->refs, query, strlen (query), &err) != 0) {
        self->unparsable++;
        wes_log_debug ("dead-columns: unparsable statement (%s)", query ? err.message : "no text");
        for (size_t i = 0; query && i < self->n_tables; i++) {
            if (s_mentions (query, self->tables[i].table->name)) {
                self->tables[i].unparsable++;
            }
        }
        return;
    }
    for (size_t i = 0; i < wes_sqlrefs_count (self->refs); i++) {
        const wes_sqlref_t *r = wes_sqlrefs_get (self->refs, i);
        s_table_t *t = s_table (self, r->name);
        switch (r->kind) {
        case WES_SQLREF_TABLE:
            if (t) {
                t->calls += calls;
            }
            break;
        case WES_SQLREF_COLUMN:
            for (size_t c = 0; t && c < t->table->n_columns; c++) {
                if (strcmp (t->table->columns[c]->name, r->column) == 0) {
                    t->col_calls[c] += calls;
                }
            }
            break;
        case WES_SQLREF_STAR:
            if (t) {
                t->star_calls += calls;
            }
            break;
        case WES_SQLREF_INSERT_ALL:
            if (t) {
                t->insert_all_calls += calls;
            }
            break;
        case WES_SQLREF_RELATION:
            if (r->schema) {
                char key[2 * 64 + 2];
                snprintf (key, sizeof key, "%s.%s", r->schema, r->name);
                s_add_calls (self->relation_calls, key, calls);
            }
            else {
                s_add_calls (self->relation_calls, r->name, calls);
            }
            break;
        case WES_SQLREF_FUNCTION:
            s_add_calls (self->function_calls, r->name, calls);
            break;
        }
    }
}

/*  Marks holder (a view or function) in map as reading column (or only the table). */
static void
s_mark (json_t *map, const char *holder, const char *column)
{
    json_t *cols = json_object_get (map, holder);
    if (!cols) {
        cols = json_object ();
        json_object_set_new (map, holder, cols);
    }
    if (column) {
        json_object_set_new (cols, column, json_true ());
    }
}

void
wes_deadcols_add_view (wes_deadcols_t *self, const char *view, const char *table,
                       const char *column)
{
    s_table_t *t = s_table (self, table);
    if (t && view) {
        s_mark (t->views, view, column);
    }
}

void
wes_deadcols_add_function_dep (wes_deadcols_t *self, const char *function, const char *table,
                               const char *column)
{
    s_table_t *t = s_table (self, table);
    if (t && function) {
        s_mark (t->functions, function, column);
    }
}

void
wes_deadcols_add_function_source (wes_deadcols_t *self, const char *function, const char *src)
{
    if (!function || !src) {
        return;
    }
    for (size_t i = 0; i < self->n_tables; i++) {
        s_table_t *t = &self->tables[i];
        if (!s_mentions (src, t->table->name)) {
            continue;
        }
        s_mark (t->functions, function, NULL);
        for (size_t c = 0; c < t->table->n_columns; c++) {
            if (s_mentions (src, t->table->columns[c]->name)) {
                s_mark (t->functions, function, t->table->columns[c]->name);
            }
        }
    }
}

/* ---------------------------------------------------------------------- */
/*  Reading a live database */

static PGresult *
s_exec (PGconn *conn, const char *sql, int n, const char *const *params, char **error)
{
    PGresult *r = PQexecParams (conn, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus (r) != PGRES_TUPLES_OK) {
        char *m = wes_strdup (PQresultErrorMessage (r));
        m[strcspn (m, "\n")] = '\0';
        *error = m;
        PQclear (r);
        return NULL;
    }
    return r;
}

static char *s_printf (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/*  A formatted string (caller frees). */
static char *
s_printf (const char *fmt, ...)
{
    va_list ap, ap2;
    va_start (ap, fmt);
    va_copy (ap2, ap);
    int n = vsnprintf (NULL, 0, fmt, ap);
    va_end (ap);
    char *s = wes_alloc ((size_t) (n < 0 ? 0 : n) + 1);
    vsnprintf (s, (size_t) (n < 0 ? 0 : n) + 1, fmt, ap2);
    va_end (ap2);
    return s;
}

static const char *s_hint_ext =
    "add pg_stat_statements to shared_preload_libraries in postgresql.conf, restart the "
    "server, then run CREATE EXTENSION pg_stat_statements in this database";

/*  The pg_stat_statements part: extension schema, privileges, window,
    statements. */
static int
s_read_stats (wes_deadcols_t *self, PGconn *conn, char **error)
{
    char *qerr = NULL;
    PGresult *r = s_exec (conn,
                          "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = "
                          "e.extnamespace WHERE e.extname = 'pg_stat_statements'",
                          0, NULL, &qerr);
    if (!r) {
        *error = s_printf ("cannot read pg_extension: %s", qerr);
        free (qerr);
        return WES_DEADCOLS_EQUERY;
    }
    if (PQntuples (r) == 0) {
        PQclear (r);
        *error = s_printf ("the pg_stat_statements extension is not installed in this database: "
                           "%s",
                           s_hint_ext);
        return WES_DEADCOLS_ENOEXT;
    }
    char *ns = PQescapeIdentifier (conn, PQgetvalue (r, 0, 0), strlen (PQgetvalue (r, 0, 0)));
    PQclear (r);
    r = s_exec (conn,
                "SELECT current_user, pg_has_role (current_user, 'pg_read_all_stats', 'USAGE')", 0,
                NULL, &qerr);
    if (!r) {
        PQfreemem (ns);
        *error = s_printf ("cannot check the role's privileges: %s", qerr);
        free (qerr);
        return WES_DEADCOLS_EQUERY;
    }
    if (strcmp (PQgetvalue (r, 0, 1), "t") != 0) {
        *error = s_printf ("role %s cannot read other users' statements in pg_stat_statements "
                           "(their text shows as <insufficient privilege>): GRANT "
                           "pg_read_all_stats TO %s, or run as a superuser",
                           PQgetvalue (r, 0, 0), PQgetvalue (r, 0, 0));
        PQclear (r);
        PQfreemem (ns);
        return WES_DEADCOLS_EPRIV;
    }
    PQclear (r);
    char sql[512];
    snprintf (sql, sizeof sql,
              "SELECT dealloc, stats_reset, extract (epoch FROM now () - stats_reset) "
              "FROM %s.pg_stat_statements_info",
              ns);
    r = s_exec (conn, sql, 0, NULL, &qerr);
    if (!r || PQntuples (r) != 1) {
        PQfreemem (ns);
        PQclear (r);
        bool preload = qerr && strstr (qerr, "shared_preload_libraries");
        *error = s_printf (preload ? "pg_stat_statements is not loaded (%s): %s"
                                   : "cannot read pg_stat_statements_info (%s): %s",
                           qerr ? qerr : "no row", s_hint_ext);
        free (qerr);
        return preload ? WES_DEADCOLS_ENOEXT : WES_DEADCOLS_EQUERY;
    }
    wes_deadcols_set_window (self, strtod (PQgetvalue (r, 0, 2), NULL), PQgetvalue (r, 0, 1),
                             strtoll (PQgetvalue (r, 0, 0), NULL, 10));
    PQclear (r);
    snprintf (sql, sizeof sql,
              "SELECT query, calls FROM %s.pg_stat_statements WHERE dbid = (SELECT oid FROM "
              "pg_database WHERE datname = current_database ())",
              ns);
    PQfreemem (ns);
    r = s_exec (conn, sql, 0, NULL, &qerr);
    if (!r) {
        *error = s_printf ("cannot read pg_stat_statements (%s): %s", qerr, s_hint_ext);
        free (qerr);
        return WES_DEADCOLS_EQUERY;
    }
    for (int i = 0; i < PQntuples (r); i++) {
        wes_deadcols_add_statement (self, PQgetisnull (r, i, 0) ? NULL : PQgetvalue (r, i, 0),
                                    strtoll (PQgetvalue (r, i, 1), NULL, 10));
    }
    PQclear (r);
    return 0;
}

/*  Views and functions over the schema's tables. */
static int
s_read_hiders (wes_deadcols_t *self, PGconn *conn, char **error)
{
    const char *params[] = {self->db_schema};
    char *qerr = NULL;
    /* a view's rewrite rule depends on each column its definition uses */
    PGresult *r = s_exec (
        conn,
        "SELECT DISTINCT CASE WHEN vn.nspname = $1 THEN v.relname ELSE vn.nspname || '.' || "
        "v.relname END, t.relname, a.attname "
        "FROM pg_depend d JOIN pg_rewrite w ON w.oid = d.objid "
        "JOIN pg_class v ON v.oid = w.ev_class JOIN pg_namespace vn ON vn.oid = v.relnamespace "
        "JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace "
        "LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid "
        "AND d.refobjsubid > 0 "
        "WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass "
        "AND tn.nspname = $1 AND v.oid <> t.oid AND t.relkind IN ('r', 'p') "
        "AND v.relkind IN ('v', 'm')",
        1, params, &qerr);
    if (!r) {
        *error = s_printf ("cannot read the views over schema %s: %s", self->db_schema, qerr);
        free (qerr);
        return WES_DEADCOLS_EQUERY;
    }
    for (int i = 0; i < PQntuples (r); i++) {
        wes_deadcols_add_view (self, PQgetvalue (r, i, 0), PQgetvalue (r, i, 1),
                               PQgetisnull (r, i, 2) ? NULL : PQgetvalue (r, i, 2));
    }
    PQclear (r);
    /* functions outside the system schemas and extensions, in any language
       with a source text */
    r = s_exec (conn,
                "SELECT n.nspname || '.' || p.proname, p.prosrc FROM pg_proc p "
                "JOIN pg_namespace n ON n.oid = p.pronamespace "
                "JOIN pg_language l ON l.oid = p.prolang "
                "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
                "AND n.nspname NOT LIKE 'pg\\_toast%' AND l.lanname NOT IN ('c', 'internal') "
                "AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = "
                "'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')",
                0, NULL, &qerr);
    if (!r) {
        *error = s_printf ("cannot read the functions: %s", qerr);
        free (qerr);
        return WES_DEADCOLS_EQUERY;
    }
    for (int i = 0; i < PQntuples (r); i++) {
        wes_deadcols_add_function_source (self, PQgetvalue (r, i, 0),
                                          PQgetisnull (r, i, 1) ? NULL : PQgetvalue (r, i, 1));
    }
    PQclear (r);
    /* SQL-standard bodies (BEGIN ATOMIC) have no prosrc but real dependencies */
    r = s_exec (conn,
                "SELECT DISTINCT pn.nspname || '.' || p.proname, t.relname, a.attname "
                "FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid "
                "JOIN pg_namespace pn ON pn.oid = p.pronamespace "
                "JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = "
                "t.relnamespace LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = "
                "d.refobjsubid AND d.refobjsubid > 0 "
                "WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_class'::regclass "
                "AND tn.nspname = $1 AND t.relkind IN ('r', 'p')",
                1, params, &qerr);
    if (!r) {
        *error = s_printf ("cannot read the functions' dependencies: %s", qerr);
        free (qerr);
        return WES_DEADCOLS_EQUERY;
    }
    for (int i = 0; i < PQntuples (r); i++) {
        wes_deadcols_add_function_dep (self, PQgetvalue (r, i, 0), PQgetvalue (r, i, 1),
                                       PQgetisnull (r, i, 2) ? NULL : PQgetvalue (r, i, 2));
    }
    PQclear (r);
    return 0;
}

int
wes_deadcols_read (wes_deadcols_t *self, const char *conninfo, char **error)
{
    *error = NULL;
    PGconn *conn = PQconnectdb (conninfo);
    if (PQstatus (conn) != CONNECTION_OK) {
        char *m = wes_strdup (PQerrorMessage (conn));
        m[strcspn (m, "\n")] = '\0';
        *error = s_printf ("cannot connect to the database: %s", m);
        free (m);
        PQfinish (conn);
        return WES_DEADCOLS_ECONNECT;
    }
    /* read-only, and never stuck behind a lock */
    PGresult *r = PQexec (conn, "SET default_transaction_read_only = on; SET lock_timeout = '5s'; "
                                "SET statement_timeout = '5min'");
    PQclear (r);
    int rc = s_read_stats (self, conn, error);
    if (rc == 0) {
        rc = s_read_hiders (self, conn, error);
    }
    PQfinish (conn);
    return rc;
}

/* ---------------------------------------------------------------------- */
/*  Durations */

int
wes_deadcols_parse_duration (const char *text, int64_t *seconds)
{
    if (!text || !isdigit ((unsigned char) text[0])) {
        return -1;
    }
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull (text, &end, 10);
    if (errno || v > (unsigned long long) INT64_MAX / (7 * 24 * 3600)) {
        return -1;
    }
    int64_t unit = 1;
    if (*end == 's') {
        end++;
    }
    else if (*end == 'm') {
        unit = 60, end++;
    }
    else if (*end == 'h') {
        unit = 3600, end++;
    }
    else if (*end == 'd') {
        unit = 24 * 3600, end++;
    }
    else if (*end == 'w') {
        unit = 7 * 24 * 3600, end++;
    }
    if (*end != '\0') {
        return -1;
    }
    *seconds = (int64_t) v * unit;
    return 0;
}

void
wes_deadcols_format_duration (double seconds, char *buf, size_t size)
{
    int64_t s = seconds < 0 ? 0 : (int64_t) seconds;
    int64_t d = s / 86400, h = (s % 86400) / 3600, m = (s % 3600) / 60, sec = s % 60;
    /* the two largest units, the second left out when zero: "7d", "7d 4h", "12m 5s" */
    if (d > 0) {
        snprintf (buf, size, h ? "%lldd %lldh" : "%lldd", (long long) d, (long long) h);
    }
    else if (h > 0) {
        snprintf (buf, size, m ? "%lldh %lldm" : "%lldh", (long long) h, (long long) m);
    }
    else if (m > 0) {
        snprintf (buf, size, sec ? "%lldm %llds" : "%lldm", (long long) m, (long long) sec);
    }
    else {
        snprintf (buf, size, "%llds", (long long) sec);
    }
}

/* ---------------------------------------------------------------------- */
/*  The report */

/*  Lowers *conf to cap and appends the reason. */
static void s_cap (s_conf_t *conf, s_conf_t cap, json_t *reasons, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

static void
s_cap (s_conf_t *conf, s_conf_t cap, json_t *reasons, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (buf, sizeof buf, fmt, ap);
    va_end (ap);
    if (cap < *conf) {
        *conf = cap;
    }
    json_array_append_new (reasons, json_string (buf));
}

static int64_t
s_count (json_t *counts, const char *key)
{
    return (int64_t) json_integer_value (json_object_get (counts, key));
}

/*  The finding for unreferenced column c of t. */
static json_t *
s_finding (wes_deadcols_t *self, s_table_t *t, const char *column)
{
    const char *tn = t->table->name;
    s_conf_t conf = S_HIGH;
    json_t *reasons = json_array ();
    char w[64], mw[64];
    wes_deadcols_format_duration (self->window, w, sizeof w);
    wes_deadcols_format_duration ((double) self->min_window, mw, sizeof mw);
    if (t->calls == 0) {
        s_cap (&conf, S_LOW, reasons,
               "no statement touched %s at all; the table may be unused or the window too short",
               tn);
    }
    else if (t->calls < self->min_calls) {
        s_cap (&conf, S_MEDIUM, reasons,
               "only %lld recorded calls on %s (HIGH needs --min-calls %lld)", (long long) t->calls,
               tn, (long long) self->min_calls);
    }
    if (t->star_calls > 0) {
        s_cap (&conf, S_LOW, reasons, "read through SELECT * on %s: %lld calls", tn,
               (long long) t->star_calls);
    }
    if (t->insert_all_calls > 0) {
        s_cap (&conf, S_LOW, reasons, "written by INSERT without a column list on %s: %lld calls",
               tn, (long long) t->insert_all_calls);
    }
    if (self->window < (double) self->min_window) {
        s_cap (&conf, self->window * 7 < (double) self->min_window ? S_LOW : S_MEDIUM, reasons,
               "observation window %s is shorter than --min-window %s", w, mw);
    }
    if (self->evictions > 0) {
        s_cap (&conf, S_MEDIUM, reasons,
               "%lld evictions since the statistics were reset: the least-called statements "
               "may be missing",
               (long long) self->evictions);
    }
    const char *name;
    json_t *cols;
    json_object_foreach (t->views, name, cols)
    {
        int64_t vc = s_count (self->relation_calls, name);
        if (json_object_get (cols, column)) {
            s_cap (&conf, S_LOW, reasons, "used by view %s (%lld calls on the view)", name,
                   (long long) vc);
        }
        else {
            s_cap (&conf, S_MEDIUM, reasons,
                   "%s is read through view %s (%lld calls on the view); statements through "
                   "views are not analysed column by column",
                   tn, name, (long long) vc);
        }
    }
    json_object_foreach (t->functions, name, cols)
    {
        const char *dot = strchr (name, '.');
        int64_t fc = s_count (self->function_calls, dot ? dot + 1 : name);
        if (json_object_get (cols, column)) {
            s_cap (&conf, S_LOW, reasons, "function %s mentions %s and %s (%lld direct calls)",
                   name, tn, column, (long long) fc);
        }
        else {
            s_cap (&conf, S_MEDIUM, reasons,
                   "function %s mentions %s (%lld direct calls); function bodies are searched "
                   "by name, not parsed",
                   name, tn, (long long) fc);
        }
    }
    if (t->unparsable > 0) {
        s_cap (&conf, S_MEDIUM, reasons, "%lld unparsable statements mention %s",
               (long long) t->unparsable, tn);
    }
    if (conf == S_HIGH) {
        s_cap (&conf, S_HIGH, reasons,
               "no recorded statement references it: %lld calls on %s over %s, no star reads, "
               "views, functions or evictions",
               (long long) t->calls, tn, w);
    }
    json_t *f = json_object ();
    json_object_set_new (f, "table", json_string (tn));
    json_object_set_new (f, "column", json_string (column));
    json_object_set_new (f, "confidence", json_string (s_conf_names[conf]));
    json_object_set_new (f, "reasons", reasons);
    return f;
}

json_t *
wes_deadcols_report (wes_deadcols_t *self)
{
    char w[64];
    wes_deadcols_format_duration (self->window, w, sizeof w);
    json_t *doc = json_object ();
    json_object_set_new (doc, "schema", json_string (self->db_schema));
    json_object_set_new (doc, "stats_reset",
                         self->stats_reset ? json_string (self->stats_reset) : json_null ());
    json_object_set_new (doc, "window_seconds", json_integer ((json_int_t) self->window));
    json_object_set_new (doc, "window", json_string (w));
    json_object_set_new (doc, "statements", json_integer (self->statements));
    json_object_set_new (doc, "calls", json_integer (self->calls));
    json_object_set_new (doc, "evictions", json_integer (self->evictions));
    json_object_set_new (doc, "unparsable", json_integer (self->unparsable));
    json_object_set_new (doc, "min_window_seconds", json_integer (self->min_window));
    json_object_set_new (doc, "min_calls", json_integer (self->min_calls));
    json_t *tables = json_array ();
    json_t *findings = json_array ();
    for (size_t i = 0; i < self->n_tables; i++) {
        s_table_t *t = &self->tables[i];
        json_t *o = json_object ();
        json_object_set_new (o, "table", json_string (t->table->name));
        json_object_set_new (o, "calls", json_integer (t->calls));
        json_object_set_new (o, "star_calls", json_integer (t->star_calls));
        json_object_set_new (o, "insert_all_calls", json_integer (t->insert_all_calls));
        json_object_set_new (o, "unparsable", json_integer (t->unparsable));
        json_t *views = json_array (), *fns = json_array (), *used = json_array ();
        const char *name;
        json_t *v;
        json_object_foreach (t->views, name, v)
        {
            json_array_append_new (views, json_string (name));
        }
        json_object_foreach (t->functions, name, v)
        {
            json_array_append_new (fns, json_string (name));
        }
        for (size_t c = 0; c < t->table->n_columns; c++) {
            const char *cn = t->table->columns[c]->name;
            if (t->col_calls[c] > 0) {
                json_array_append_new (used, json_string (cn));
            }
            else {
                json_array_append_new (findings, s_finding (self, t, cn));
            }
        }
        json_object_set_new (o, "views", views);
        json_object_set_new (o, "functions", fns);
        json_object_set_new (o, "referenced_columns", used);
        json_array_append_new (tables, o);
    }
    json_object_set_new (doc, "tables", tables);
    json_object_set_new (doc, "findings", findings);
    return doc;
}

void
wes_deadcols_print (wes_deadcols_t *self, FILE *out)
{
    json_t *doc = wes_deadcols_report (self);
    fprintf (out,
             "dead columns in schema %s: window %s (statistics reset %s), %lld statements, "
             "%lld calls, %lld evictions, %lld unparsable\n",
             self->db_schema, json_string_value (json_object_get (doc, "window")),
             self->stats_reset ? self->stats_reset : "unknown", (long long) self->statements,
             (long long) self->calls, (long long) self->evictions, (long long) self->unparsable);
    json_t *findings = json_object_get (doc, "findings");
    if (json_array_size (findings) == 0) {
        fprintf (out, "no dead columns: every column of the %zu tables is referenced\n",
                 self->n_tables);
    }
    size_t i;
    json_t *f;
    json_array_foreach (findings, i, f)
    {
        fprintf (out, "%s.%s  %s  ", json_string_value (json_object_get (f, "table")),
                 json_string_value (json_object_get (f, "column")),
                 json_string_value (json_object_get (f, "confidence")));
        size_t j;
        json_t *r;
        json_array_foreach (json_object_get (f, "reasons"), j, r)
        {
            fprintf (out, "%s%s", j ? "; " : "", json_string_value (r));
        }
        fputc ('\n', out);
    }
    json_decref (doc);
}
