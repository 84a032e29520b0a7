/*  wes_records.c — the SQL that records, in wesley.expressions, each
    expression Wesley creates next to what PostgreSQL renders for it. */
#include "wes_records.h"

#include <string.h>

#include "util/wes_mem.h"

const char *const wes_records_ddl =
    "CREATE SCHEMA IF NOT EXISTS wesley;\n"
    "CREATE TABLE IF NOT EXISTS wesley.expressions (\n"
    "    kind text NOT NULL,        -- default | check | index_where | policy_using | "
    "policy_check\n"
    "    table_name text NOT NULL,\n"
    "    object_name text NOT NULL, -- column, constraint, index or policy\n"
    "    source text NOT NULL,      -- the expression as the schema wrote it\n"
    "    rendered text NOT NULL,    -- what PostgreSQL printed for it when recorded\n"
    "    PRIMARY KEY (kind, table_name, object_name)\n"
    ");\n";

void
wes_records_sql (wes_buf_t *out, const char *kind, const char *table, const char *object,
                 const char *source)
{
    /* the rendering, read back from the catalog in the same transaction */
    wes_buf_t *rel = wes_buf_new ();
    wes_buf_put_ident (rel, table);
    const char *render_sql = NULL; /* up to the relation */
    const char *render_mid = NULL; /* between relation and object name */
    if (strcmp (kind, "default") == 0) {
        render_sql = "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a "
                     "ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
                     "WHERE d.adrelid = ";
        render_mid = "::regclass AND a.attname = ";
    }
    else if (strcmp (kind, "check") == 0) {
        render_sql = "SELECT pg_get_expr(k.conbin, k.conrelid) FROM pg_constraint k "
                     "WHERE k.conrelid = ";
        render_mid = "::regclass AND k.conname = ";
    }
    else if (strcmp (kind, "index_where") == 0) {
        render_sql = "SELECT pg_get_expr(x.indpred, x.indrelid) FROM pg_index x JOIN pg_class i "
                     "ON i.oid = x.indexrelid WHERE x.indrelid = ";
        render_mid = "::regclass AND i.relname = ";
    }
    else if (strcmp (kind, "policy_using") == 0) {
        render_sql = "SELECT pg_get_expr(p.polqual, p.polrelid) FROM pg_policy p "
                     "WHERE p.polrelid = ";
        render_mid = "::regclass AND p.polname = ";
    }
    else {
        wes_assert (strcmp (kind, "policy_check") == 0);
        render_sql = "SELECT pg_get_expr(p.polwithcheck, p.polrelid) FROM pg_policy p "
                     "WHERE p.polrelid = ";
        render_mid = "::regclass AND p.polname = ";
    }
    wes_buf_t *lit_rel = wes_buf_new ();
    wes_buf_put_literal (lit_rel, wes_buf_data (rel));
    wes_buf_t *lit_obj = wes_buf_new ();
    wes_buf_put_literal (lit_obj, object);

    wes_buf_puts (out, "INSERT INTO wesley.expressions (kind, table_name, object_name, source, "
                       "rendered)\nSELECT ");
    wes_buf_put_literal (out, kind);
    wes_buf_puts (out, ", ");
    wes_buf_put_literal (out, table);
    wes_buf_puts (out, ", ");
    wes_buf_put_literal (out, object);
    wes_buf_puts (out, ", ");
    wes_buf_put_literal (out, source);
    wes_buf_puts (out, ", r.rendered FROM (");
    wes_buf_puts (out, render_sql);
    wes_buf_puts (out, wes_buf_data (lit_rel));
    wes_buf_puts (out, render_mid);
    wes_buf_puts (out, wes_buf_data (lit_obj));
    wes_buf_puts (out, ") AS r(rendered) WHERE r.rendered IS NOT NULL\n"
                       "ON CONFLICT (kind, table_name, object_name) DO UPDATE SET source = "
                       "EXCLUDED.source, rendered = EXCLUDED.rendered;\n");
    wes_buf_destroy (&lit_obj);
    wes_buf_destroy (&lit_rel);
    wes_buf_destroy (&rel);
}

/*  How each kind finds what PostgreSQL renders for the expression of the
    VALUES row v(t, o, s): the rendering, and the catalog relations and join
    conditions that reach it. */
typedef struct {
    const char *kind;
    const char *rendered; /* the pg_get_expr call */
    const char *from;     /* catalog relations after v */
    const char *where;    /* join conditions */
} s_record_kind_t;

static const s_record_kind_t s_record_kinds[] = {
    {"default", "pg_get_expr(d.adbin, d.adrelid)", "pg_attribute a, pg_attrdef d",
     "a.attrelid = quote_ident(v.t)::regclass AND a.attname = v.o AND d.adrelid = a.attrelid "
     "AND d.adnum = a.attnum"},
    {"check", "pg_get_expr(k.conbin, k.conrelid)", "pg_constraint k",
     "k.conrelid = quote_ident(v.t)::regclass AND k.conname = v.o"},
    {"index_where", "pg_get_expr(x.indpred, x.indrelid)", "pg_index x, pg_class i",
     "i.oid = x.indexrelid AND x.indrelid = quote_ident(v.t)::regclass AND i.relname = v.o"},
    {"policy_using", "pg_get_expr(p.polqual, p.polrelid)", "pg_policy p",
     "p.polrelid = quote_ident(v.t)::regclass AND p.polname = v.o"},
    {"policy_check", "pg_get_expr(p.polwithcheck, p.polrelid)", "pg_policy p",
     "p.polrelid = quote_ident(v.t)::regclass AND p.polname = v.o"},
};

static const s_record_kind_t *
s_record_kind (const char *kind)
{
    for (size_t i = 0; i < sizeof s_record_kinds / sizeof s_record_kinds[0]; i++) {
        if (strcmp (s_record_kinds[i].kind, kind) == 0) {
            return &s_record_kinds[i];
        }
    }
    wes_assert (!"unknown expression kind");
    return NULL;
}

void
wes_records_row (wes_buf_t *out, const char *kind, size_t *rows, const char *table,
                 const char *object, const char *source)
{
    if (*rows == 0) {
        const s_record_kind_t *k = s_record_kind (kind);
        wes_buf_puts (out, "INSERT INTO wesley.expressions (kind, table_name, object_name, source, "
                           "rendered)\nSELECT ");
        wes_buf_put_literal (out, k->kind);
        wes_buf_puts (out, ", v.t, v.o, v.s, ");
        wes_buf_puts (out, k->rendered);
        wes_buf_puts (out, " FROM (VALUES\n(");
    }
    else {
        wes_buf_puts (out, ",\n(");
    }
    wes_buf_put_literal (out, table);
    wes_buf_puts (out, ", ");
    wes_buf_put_literal (out, object);
    wes_buf_puts (out, ", ");
    wes_buf_put_literal (out, source);
    wes_buf_puts (out, ")");
    if (++*rows == WES_RECORDS_ROWS) {
        wes_records_end (out, kind, rows);
    }
}

void
wes_records_end (wes_buf_t *out, const char *kind, size_t *rows)
{
    if (*rows == 0) {
        return;
    }
    const s_record_kind_t *k = s_record_kind (kind);
    wes_buf_puts (out, "\n) AS v(t, o, s), ");
    wes_buf_puts (out, k->from);
    wes_buf_puts (out, "\nWHERE ");
    wes_buf_puts (out, k->where);
    wes_buf_puts (out, " AND ");
    wes_buf_puts (out, k->rendered);
    wes_buf_puts (out, " IS NOT NULL\n"
                       "ON CONFLICT (kind, table_name, object_name) DO UPDATE SET source = "
                       "EXCLUDED.source, rendered = EXCLUDED.rendered;\n");
    *rows = 0;
}
