/*  wes_introspect.c — pg_catalog into the schema model. */
#include "wes_introspect.h"

#include <stdlib.h>
#include <string.h>

#include "util/wes_buf.h"

typedef struct {
    PGconn *conn;        /* borrowed */
    const char *schema;  /* namespace read */
    PGresult *exprs;     /* recorded expressions, or NULL */
    char *error;         /* first error, owned */
} s_ctx_t;

static PGresult *s_query (s_ctx_t *ctx, const char *sql, int nparams, const char *const *params);
static const char *s_expr (s_ctx_t *ctx, const char *kind, const char *table, const char *object,
                           const char *rendered);
static void s_split_array (const char *pgarray, char ***out, size_t *n);
static void s_free_strv (char **v, size_t n);
static int s_read_enums (s_ctx_t *ctx, wes_model_t *m);
static int s_read_tables (s_ctx_t *ctx, wes_model_t *m);
static int s_read_constraints (s_ctx_t *ctx, wes_model_t *m);
static int s_read_indexes (s_ctx_t *ctx, wes_model_t *m);
static int s_read_policies (s_ctx_t *ctx, wes_model_t *m);

wes_model_t *
wes_introspect (PGconn *conn, const char *schema, char **error)
{
    s_ctx_t ctx = {.conn = conn, .schema = schema ? schema : "public"};
    wes_model_t *m = wes_model_new ();

    /* A consistent view of the catalog across our queries. */
    PGresult *r = s_query (&ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL);
    PQclear (r);
    if (!ctx.error) {
        const char *p[] = {"wesley.expressions"};
        r = s_query (&ctx, "SELECT to_regclass($1) IS NOT NULL", 1, p);
        bool have = r && PQntuples (r) == 1 && strcmp (PQgetvalue (r, 0, 0), "t") == 0;
        PQclear (r);
        if (have) {
            ctx.exprs = s_query (&ctx,
                                 "SELECT kind, table_name, object_name, source, rendered "
                                 "FROM wesley.expressions ORDER BY kind COLLATE \"C\", "
                                 "table_name COLLATE \"C\", object_name COLLATE \"C\"",
                                 0, NULL);
        }
    }
    if (!ctx.error && s_read_enums (&ctx, m) == 0 && s_read_tables (&ctx, m) == 0
        && s_read_constraints (&ctx, m) == 0 && s_read_indexes (&ctx, m) == 0) {
        s_read_policies (&ctx, m);
    }
    PQclear (ctx.exprs);
    PQclear (PQexec (conn, "ROLLBACK"));
    if (ctx.error) {
        if (error) {
            *error = ctx.error;
        }
        else {
            free (ctx.error);
        }
        wes_model_destroy (&m);
        return NULL;
    }
    wes_model_canonicalize (m);
    return m;
}

wes_model_t *
wes_introspect_conninfo (const char *conninfo, const char *schema, char **error)
{
    PGconn *conn = PQconnectdb (conninfo);
    if (PQstatus (conn) != CONNECTION_OK) {
        if (error) {
            wes_buf_t *b = wes_buf_new ();
            wes_buf_printf (b, "cannot connect to the database: %s", PQerrorMessage (conn));
            char *e = wes_buf_steal (b);
            wes_buf_destroy (&b);
            e[strcspn (e, "\n")] = '\0';
            *error = e;
        }
        PQfinish (conn);
        return NULL;
    }
    wes_model_t *m = wes_introspect (conn, schema, error);
    PQfinish (conn);
    return m;
}

/*  --- readers --- */

static int
s_read_enums (s_ctx_t *ctx, wes_model_t *m)
{
    const char *p[] = {ctx->schema};
    PGresult *r = s_query (ctx,
                           "SELECT t.typname, e.enumlabel FROM pg_type t "
                           "JOIN pg_namespace n ON n.oid = t.typnamespace "
                           "JOIN pg_enum e ON e.enumtypid = t.oid "
                           "WHERE n.nspname = $1 ORDER BY t.typname, e.enumsortorder",
                           1, p);
    if (!r) {
        return -1;
    }
    wes_enum_t *cur = NULL;
    for (int i = 0; i < PQntuples (r); i++) {
        const char *name = PQgetvalue (r, i, 0);
        if (!cur || strcmp (cur->name, name) != 0) {
            cur = wes_model_add_enum (m, name);
            wes_assert (cur); /* names are unique per namespace */
        }
        wes_enum_add_value (cur, PQgetvalue (r, i, 1));
    }
    PQclear (r);
    return 0;
}

static int
s_read_tables (s_ctx_t *ctx, wes_model_t *m)
{
    const char *p[] = {ctx->schema};
    /* Enum columns are named by the bare type name (the compiler's
       spelling); everything else as format_type() prints it. */
    PGresult *r = s_query (
        ctx,
        "SELECT c.relname, c.relrowsecurity, a.attname, a.attnum, a.attnotnull, "
        "  CASE WHEN t.typtype = 'e' AND tn.nspname = $1 THEN t.typname "
        "       WHEN et.typtype = 'e' AND etn.nspname = $1 THEN et.typname || '[]' "
        "       ELSE format_type(a.atttypid, a.atttypmod) END, "
        "  pg_get_expr(d.adbin, d.adrelid) "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
        "JOIN pg_type t ON t.oid = a.atttypid JOIN pg_namespace tn ON tn.oid = t.typnamespace "
        "LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A' "
        "LEFT JOIN pg_namespace etn ON etn.oid = et.typnamespace "
        "LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum "
        "WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') "
        "ORDER BY c.relname, a.attnum",
        1, p);
    if (!r) {
        return -1;
    }
    wes_table_t *cur = NULL;
    for (int i = 0; i < PQntuples (r); i++) {
        const char *tname = PQgetvalue (r, i, 0);
        if (!cur || strcmp (cur->name, tname) != 0) {
            cur = wes_model_add_table (m, tname);
            wes_assert (cur);
            cur->rls_enabled = strcmp (PQgetvalue (r, i, 1), "t") == 0;
        }
        wes_column_t *col = wes_table_add_column (cur, PQgetvalue (r, i, 2), PQgetvalue (r, i, 5));
        wes_assert (col);
        col->ordinal = atoi (PQgetvalue (r, i, 3));
        col->not_null = strcmp (PQgetvalue (r, i, 4), "t") == 0;
        if (!PQgetisnull (r, i, 6)) {
            const char *def = s_expr (ctx, "default", tname, col->name, PQgetvalue (r, i, 6));
            wes_model_set_str (&col->default_expr, def);
        }
    }
    PQclear (r);
    return 0;
}

static wes_fk_action_t
s_fk_action (char c)
{
    switch (c) {
    case 'r':
        return WES_FK_RESTRICT;
    case 'c':
        return WES_FK_CASCADE;
    case 'n':
        return WES_FK_SET_NULL;
    case 'd':
        return WES_FK_SET_DEFAULT;
    default:
        return WES_FK_NO_ACTION;
    }
}

static int
s_read_constraints (s_ctx_t *ctx, wes_model_t *m)
{
    const char *p[] = {ctx->schema};
    /* Column lists in key order (conkey/confkey positions via ordinality). */
    PGresult *r = s_query (
        ctx,
        "SELECT c.relname, k.conname, k.contype, "
        "  (SELECT array_agg(a.attname ORDER BY u.ord) FROM unnest(k.conkey) WITH ORDINALITY "
        "     u(attnum, ord) JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = "
        "     u.attnum), "
        "  rc.relname, "
        "  (SELECT array_agg(a.attname ORDER BY u.ord) FROM unnest(k.confkey) WITH ORDINALITY "
        "     u(attnum, ord) JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = "
        "     u.attnum), "
        "  k.confdeltype, k.confupdtype, pg_get_expr(k.conbin, k.conrelid) "
        "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN pg_class rc ON rc.oid = k.confrelid "
        "WHERE n.nspname = $1 AND k.contype IN ('p', 'u', 'f', 'c') "
        "ORDER BY c.relname, k.conname",
        1, p);
    if (!r) {
        return -1;
    }
    for (int i = 0; i < PQntuples (r); i++) {
        wes_table_t *t = wes_model_find_table (m, PQgetvalue (r, i, 0));
        if (!t) {
            continue;
        }
        char kind = PQgetvalue (r, i, 2)[0];
        wes_con_kind_t k = kind == 'p'   ? WES_CON_PRIMARY
                           : kind == 'u' ? WES_CON_UNIQUE
                           : kind == 'f' ? WES_CON_FOREIGN
                                         : WES_CON_CHECK;
        wes_constraint_t *c = wes_table_add_constraint (t, k, PQgetvalue (r, i, 1));
        if (!c) {
            continue; /* same name twice on one table cannot happen in PostgreSQL */
        }
        char **cols = NULL;
        size_t n = 0;
        if (k != WES_CON_CHECK && !PQgetisnull (r, i, 3)) {
            s_split_array (PQgetvalue (r, i, 3), &cols, &n);
            for (size_t j = 0; j < n; j++) {
                wes_constraint_add_column (c, cols[j]);
            }
            s_free_strv (cols, n);
        }
        if (k == WES_CON_FOREIGN) {
            wes_model_set_str (&c->ref_table, PQgetvalue (r, i, 4));
            s_split_array (PQgetvalue (r, i, 5), &cols, &n);
            for (size_t j = 0; j < n; j++) {
                wes_constraint_add_ref_column (c, cols[j]);
            }
            s_free_strv (cols, n);
            c->on_delete = s_fk_action (PQgetvalue (r, i, 6)[0]);
            c->on_update = s_fk_action (PQgetvalue (r, i, 7)[0]);
        }
        if (k == WES_CON_CHECK) {
            wes_model_set_str (&c->check_expr,
                               s_expr (ctx, "check", t->name, c->name, PQgetvalue (r, i, 8)));
        }
    }
    PQclear (r);
    return 0;
}

static int
s_read_indexes (s_ctx_t *ctx, wes_model_t *m)
{
    const char *p[] = {ctx->schema};
    /* Indexes that back no constraint. An expression key (attnum 0) is
       spelled as pg_get_indexdef prints that key. */
    PGresult *r = s_query (
        ctx,
        "SELECT c.relname, ic.relname, am.amname, x.indisunique, "
        "  (SELECT array_agg(CASE WHEN u.attnum = 0 "
        "          THEN pg_get_indexdef(x.indexrelid, u.ord::int, true) ELSE a.attname END "
        "          ORDER BY u.ord) "
        "     FROM unnest(x.indkey::int2[]) WITH ORDINALITY u(attnum, ord) "
        "     LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = u.attnum "
        "     WHERE u.ord <= x.indnkeyatts), "
        "  pg_get_expr(x.indpred, x.indrelid), x.indisvalid "
        "FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid "
        "JOIN pg_class ic ON ic.oid = x.indexrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am am ON am.oid = ic.relam "
        "WHERE n.nspname = $1 "
        "  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid "
        "                  AND k.contype IN ('p', 'u', 'x')) "
        "ORDER BY c.relname, ic.relname",
        1, p);
    if (!r) {
        return -1;
    }
    for (int i = 0; i < PQntuples (r); i++) {
        wes_table_t *t = wes_model_find_table (m, PQgetvalue (r, i, 0));
        if (!t) {
            continue;
        }
        wes_index_t *ix = wes_table_add_index (t, PQgetvalue (r, i, 1));
        if (!ix) {
            continue;
        }
        wes_model_set_str (&ix->method, PQgetvalue (r, i, 2));
        ix->unique = strcmp (PQgetvalue (r, i, 3), "t") == 0;
        char **cols = NULL;
        size_t n = 0;
        s_split_array (PQgetvalue (r, i, 4), &cols, &n);
        for (size_t j = 0; j < n; j++) {
            wes_index_add_column (ix, cols[j]);
        }
        s_free_strv (cols, n);
        if (!PQgetisnull (r, i, 5)) {
            wes_model_set_str (&ix->where,
                               s_expr (ctx, "index_where", t->name, ix->name, PQgetvalue (r, i, 5)));
        }
    }
    PQclear (r);
    return 0;
}

static int
s_read_policies (s_ctx_t *ctx, wes_model_t *m)
{
    const char *p[] = {ctx->schema};
    PGresult *r = s_query (
        ctx,
        "SELECT c.relname, p.polname, p.polcmd, p.polpermissive, "
        "  (SELECT array_agg(CASE WHEN o = 0 THEN 'PUBLIC' ELSE o::regrole::text END ORDER BY 1) "
        "     FROM unnest(p.polroles) o), "
        "  pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid) "
        "FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = $1 ORDER BY c.relname, p.polname",
        1, p);
    if (!r) {
        return -1;
    }
    for (int i = 0; i < PQntuples (r); i++) {
        wes_table_t *t = wes_model_find_table (m, PQgetvalue (r, i, 0));
        if (!t) {
            continue;
        }
        char c = PQgetvalue (r, i, 2)[0];
        wes_policy_cmd_t cmd = c == 'r'   ? WES_POLICY_SELECT
                               : c == 'a' ? WES_POLICY_INSERT
                               : c == 'w' ? WES_POLICY_UPDATE
                               : c == 'd' ? WES_POLICY_DELETE
                                          : WES_POLICY_ALL;
        wes_policy_t *pol = wes_table_add_policy (t, PQgetvalue (r, i, 1), cmd);
        if (!pol) {
            continue;
        }
        pol->permissive = strcmp (PQgetvalue (r, i, 3), "t") == 0;
        char **roles = NULL;
        size_t n = 0;
        s_split_array (PQgetvalue (r, i, 4), &roles, &n);
        for (size_t j = 0; j < n; j++) {
            /* PUBLIC alone is the default: the model says so with no roles */
            if (!(n == 1 && strcmp (roles[j], "PUBLIC") == 0)) {
                wes_policy_add_role (pol, roles[j]);
            }
        }
        s_free_strv (roles, n);
        if (!PQgetisnull (r, i, 5)) {
            wes_model_set_str (&pol->using_expr, s_expr (ctx, "policy_using", t->name, pol->name,
                                                         PQgetvalue (r, i, 5)));
        }
        if (!PQgetisnull (r, i, 6)) {
            wes_model_set_str (&pol->check_expr, s_expr (ctx, "policy_check", t->name, pol->name,
                                                         PQgetvalue (r, i, 6)));
        }
    }
    PQclear (r);
    return 0;
}

/*  --- helpers --- */

static PGresult *
s_query (s_ctx_t *ctx, const char *sql, int nparams, const char *const *params)
{
    if (ctx->error) {
        return NULL;
    }
    PGresult *r = PQexecParams (ctx->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus (r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        wes_buf_t *b = wes_buf_new ();
        const char *state = PQresultErrorField (r, PG_DIAG_SQLSTATE);
        wes_buf_printf (b, "catalog query failed (%s): %s", state ? state : "no SQLSTATE",
                        PQresultErrorMessage (r));
        ctx->error = wes_buf_steal (b);
        ctx->error[strcspn (ctx->error, "\n")] = '\0';
        wes_buf_destroy (&b);
        PQclear (r);
        return NULL;
    }
    return r;
}

/*  The recorded source text when the catalog still renders the expression
    as it did when Wesley recorded it; else the rendering itself. */
static const char *
s_expr (s_ctx_t *ctx, const char *kind, const char *table, const char *object,
        const char *rendered)
{
    if (!ctx->exprs) {
        return rendered;
    }
    /* rows are sorted bytewise by (kind, table_name, object_name) */
    const char *key[3] = {kind, table, object};
    int lo = 0, hi = PQntuples (ctx->exprs) - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int cmp = 0;
        for (int k = 0; k < 3 && cmp == 0; k++) {
            cmp = strcmp (key[k], PQgetvalue (ctx->exprs, mid, k));
        }
        if (cmp == 0) {
            const char *recorded = PQgetvalue (ctx->exprs, mid, 4);
            return strcmp (recorded, rendered) == 0 ? PQgetvalue (ctx->exprs, mid, 3) : rendered;
        }
        if (cmp < 0) {
            hi = mid - 1;
        }
        else {
            lo = mid + 1;
        }
    }
    return rendered;
}

/*  Splits a PostgreSQL text-array literal ({a,"b c","d\"e"}) into strings. */
static void
s_split_array (const char *s, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!s || s[0] != '{') {
        return;
    }
    size_t cap = 0;
    const char *p = s + 1;
    wes_buf_t *item = wes_buf_new ();
    while (*p && *p != '}') {
        wes_buf_reset (item);
        if (*p == '"') {
            p++;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1]) {
                    p++;
                }
                wes_buf_append (item, p, 1);
                p++;
            }
            if (*p == '"') {
                p++;
            }
        }
        else {
            while (*p && *p != ',' && *p != '}') {
                wes_buf_append (item, p, 1);
                p++;
            }
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            *out = wes_realloc (*out, cap * sizeof (char *));
        }
        (*out)[(*n)++] = wes_strdup (wes_buf_data (item));
        if (*p == ',') {
            p++;
        }
    }
    wes_buf_destroy (&item);
}

static void
s_free_strv (char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free (v[i]);
    }
    free (v);
}
