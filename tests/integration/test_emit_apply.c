/*  test_emit_apply.c — the DDL emitter's output applies to an empty
    PostgreSQL 15 database with `psql -v ON_ERROR_STOP=1 -f`, for models
    built to be awkward: reserved words and quotes in names, foreign keys in
    a cycle, enum arrays, every mapped column type, partial unique indexes,
    restrictive policies with roles, and multi-line expressions that end in
    a -- comment. The catalog is then read back for the facts that matter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "schema/wes_emit_sql.h"
#include "schema/wes_model.h"
#include "util/wes_buf.h"
#include "wes_pgfix.h"
#include "wes_testutil.h"
#include "wes_testassert.h"

//  Stand-ins for what a Supabase database provides: auth.uid(), two roles
static const char *s_prelude
    = "CREATE SCHEMA auth;\n"
      "CREATE FUNCTION auth.uid () RETURNS uuid LANGUAGE sql STABLE AS 'SELECT NULL::uuid';\n"
      "DO $$ BEGIN\n"
      "  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon') THEN CREATE ROLE anon; END IF;\n"
      "  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated') THEN\n"
      "    CREATE ROLE authenticated; END IF;\n"
      "END $$;\n";

static wes_model_t *
s_awkward_model (void)
{
    wes_model_t *m = wes_model_new ();
    wes_enum_t *e = wes_model_add_enum (m, "user_role");
    wes_enum_add_value (e, "ADMIN");
    wes_enum_add_value (e, "it's");
    wes_model_add_enum (m, "empty");
    e = wes_model_add_enum (m, "Mixed\"Enum");
    wes_enum_add_value (e, "x");

    //  "user" and "order" reference each other
    wes_table_t *u = wes_model_add_table (m, "user");
    wes_model_set_str (&u->gql_name, "User");
    wes_test_column (u, "id", "uuid", true, "gen_random_uuid()");
    wes_test_column (u, "role", "user_role", true, "'ADMIN'");
    wes_column_t *c = wes_test_column (u, "roles", "user_role[]", false, NULL);
    c->is_array = true;
    wes_test_column (u, "mixed", "Mixed\"Enum", false, NULL);
    wes_test_column (u, "nothing", "empty", false, NULL);
    wes_test_column (u, "best_order", "uuid", false, NULL);
    wes_test_column (u, "created_at", "timestamp with time zone", true,
                     "now() -- the server's clock, not the client's");
    wes_constraint_t *k = wes_table_add_constraint (u, WES_CON_PRIMARY, "user_pkey");
    wes_constraint_add_column (k, "id");
    k = wes_table_add_constraint (u, WES_CON_FOREIGN, "user_best_order_fkey");
    wes_constraint_add_column (k, "best_order");
    wes_model_set_str (&k->ref_table, "order");
    wes_constraint_add_ref_column (k, "id");
    k->on_delete = WES_FK_SET_NULL;

    wes_table_t *o = wes_model_add_table (m, "order");
    wes_test_column (o, "id", "uuid", true, NULL);
    wes_test_column (o, "user_id", "uuid", true, NULL);
    wes_test_column (o, "select", "text", true, "'x'");
    wes_test_column (o, "total", "numeric(12,2)", false, NULL);
    wes_test_column (o, "we\"ird col", "character varying(64)", false, NULL);
    k = wes_table_add_constraint (o, WES_CON_PRIMARY, "order_pkey");
    wes_constraint_add_column (k, "id");
    k = wes_table_add_constraint (o, WES_CON_UNIQUE, "order_select_key");
    wes_constraint_add_column (k, "select");
    k = wes_table_add_constraint (o, WES_CON_CHECK, "order_total_check");
    wes_model_set_str (&k->check_expr, "-- never negative\ntotal >= 0 -- cents");
    k = wes_table_add_constraint (o, WES_CON_FOREIGN, "order_user_id_fkey");
    wes_constraint_add_column (k, "user_id");
    wes_model_set_str (&k->ref_table, "user");
    k->on_delete = WES_FK_CASCADE;
    k->on_update = WES_FK_RESTRICT;
    wes_index_t *ix = wes_table_add_index (o, "order_open_idx");
    wes_index_add_column (ix, "user_id");
    wes_index_add_column (ix, "select");
    ix->unique = true;
    wes_model_set_str (&ix->where, "total IS NULL");
    ix = wes_table_add_index (o, "order we\"ird idx");
    wes_index_add_column (ix, "we\"ird col");
    wes_model_set_str (&ix->method, "hash");
    o->rls_enabled = true;
    wes_policy_t *p = wes_table_add_policy (o, "order_select", WES_POLICY_SELECT);
    wes_policy_add_role (p, "authenticated");
    wes_policy_add_role (p, "anon");
    wes_model_set_str (&p->using_expr,
                       "-- owners, and anyone for orders of admins\n"
                       "auth.uid() = user_id OR user_id IN (\n"
                       "  SELECT id FROM \"user\" WHERE role = 'ADMIN' -- admins\n"
                       ") -- end");
    p = wes_table_add_policy (o, "order_insert", WES_POLICY_INSERT);
    p->permissive = false;
    wes_model_set_str (&p->check_expr, "auth.uid() = user_id");
    p = wes_table_add_policy (o, "order_all", WES_POLICY_ALL);
    wes_policy_add_role (p, "public");
    wes_model_set_str (&p->using_expr, "true");
    wes_model_set_str (&p->check_expr, "true");

    //  Every type the compiler maps to
    static const char *types[]
        = {"uuid",     "text",     "character varying(64)", "integer",
           "smallint", "bigint",   "double precision",      "real",
           "numeric",  "boolean",  "timestamp with time zone", "timestamp without time zone",
           "date",     "time without time zone", "interval", "jsonb",
           "json",     "bytea",    "inet",                  "cidr",
           "macaddr",  "text[]",   "integer[]",             NULL};
    wes_table_t *t = wes_model_add_table (m, "every_type");
    char name[16];
    for (size_t i = 0; types[i]; i++) {
        snprintf (name, sizeof name, "c%zu", i);
        wes_test_column (t, name, types[i], i % 2 == 0, NULL);
    }
    wes_model_add_table (m, "no_columns");
    wes_model_canonicalize (m);
    return m;
}

static void
s_expect (wes_pgfix_t *fix, const char *sql, const char *expected)
{
    char *got = wes_pgfix_query_value (fix, "emit", sql);
    if (!got || strcmp (got, expected) != 0) {
        fail_msg ("%s\n  expected: %s\n  got:      %s", sql, expected, got ? got : "(null)");
    }
    free (got);
}

static void
test_awkward_model_applies (void **state)
{
    (void) state;
    wes_pgfix_t *fix = wes_pgfix_start ();
    assert_non_null (fix);
    assert_int_equal (wes_pgfix_createdb (fix, "emit"), 0);
    char *out = NULL;
    int rc = wes_pgfix_psql (fix, "emit", s_prelude, &out);
    if (rc != 0) {
        fail_msg ("prelude failed (%d):\n%s", rc, out);
    }
    free (out);

    wes_model_t *m = s_awkward_model ();
    char *sql = wes_emit_sql (m);
    char *dir = wes_test_tmpdir ("wes-emit");
    assert_non_null (dir);
    wes_buf_t *path = wes_buf_new ();
    wes_buf_printf (path, "%s/schema.sql", dir);
    assert_int_equal (wes_test_write_file (wes_buf_data (path), sql), 0);
    rc = wes_pgfix_psql_file (fix, "emit", wes_buf_data (path), &out);
    if (rc != 0) {
        fail_msg ("psql -f schema.sql exited %d:\n%s\n--- schema.sql:\n%s", rc, out, sql);
    }
    free (out);

    s_expect (fix,
              "SELECT string_agg (relname, ',' ORDER BY relname) FROM pg_class "
              "WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'",
              "every_type,no_columns,order,user");
    //  Columns in declaration order, with their types
    s_expect (fix,
              "SELECT string_agg (attname || ':' || format_type (atttypid, atttypmod), ',' "
              "ORDER BY attnum) FROM pg_attribute WHERE attrelid = '\"order\"'::regclass "
              "AND attnum > 0",
              "id:uuid,user_id:uuid,select:text,total:numeric(12,2),"
              "we\"ird col:character varying(64)");
    s_expect (fix,
              "SELECT string_agg (attname || ':' || format_type (atttypid, atttypmod), ',' "
              "ORDER BY attnum) FROM pg_attribute WHERE attrelid = '\"user\"'::regclass "
              "AND attnum > 0",
              "id:uuid,role:user_role,roles:user_role[],mixed:\"Mixed\"\"Enum\","
              "nothing:empty,best_order:uuid,created_at:timestamp with time zone");
    s_expect (fix, "SELECT count (*) FROM pg_attribute WHERE attrelid = 'every_type'::regclass "
                   "AND attnum > 0 AND attnotnull",
              "12");
    s_expect (fix, "SELECT string_agg (enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum "
                   "WHERE enumtypid = 'user_role'::regtype",
              "ADMIN,it's");
    //  Foreign keys with their actions (a: no action, c: cascade, r: restrict, n: set null)
    s_expect (fix,
              "SELECT string_agg (conname || ':' || confdeltype::text || confupdtype::text, ',' "
              "ORDER BY conname) FROM pg_constraint WHERE contype = 'f'",
              "order_user_id_fkey:cr,user_best_order_fkey:na");
    s_expect (fix,
              "SELECT string_agg (conname || ':' || contype::text, ',' ORDER BY conname) "
              "FROM pg_constraint WHERE conrelid = '\"order\"'::regclass AND contype <> 'f'",
              "order_pkey:p,order_select_key:u,order_total_check:c");
    s_expect (fix,
              "SELECT pg_get_indexdef ('order_open_idx'::regclass)",
              "CREATE UNIQUE INDEX order_open_idx ON public.\"order\" USING btree (user_id, "
              "\"select\") WHERE (total IS NULL)");
    s_expect (fix, "SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam "
                   "WHERE c.relname = 'order we\"ird idx'",
              "hash");
    s_expect (fix, "SELECT relrowsecurity::text FROM pg_class WHERE relname = 'order'", "true");
    s_expect (fix,
              "SELECT string_agg (policyname || ':' || permissive || ':' || cmd || ':' "
              "|| array_to_string (roles, '+'), ',' ORDER BY policyname) FROM pg_policies",
              "order_all:PERMISSIVE:ALL:public,order_insert:RESTRICTIVE:INSERT:public,"
              "order_select:PERMISSIVE:SELECT:anon+authenticated");
    //  The multi-line policy kept its whole expression (the comment did not
    //  swallow the rest)
    s_expect (fix,
              "SELECT (qual LIKE '%role = ''ADMIN''::user_role%')::text FROM pg_policies "
              "WHERE policyname = 'order_select'",
              "true");

    //  The script is one transaction: a second run fails and changes nothing
    rc = wes_pgfix_psql_file (fix, "emit", wes_buf_data (path), &out);
    assert_int_not_equal (rc, 0);
    free (out);
    s_expect (fix,
              "SELECT count (*) FROM pg_class WHERE relnamespace = 'public'::regnamespace "
              "AND relkind = 'r'",
              "4");

    wes_buf_destroy (&path);
    wes_test_rmtree (dir);
    free (dir);
    free (sql);
    wes_model_destroy (&m);
    wes_pgfix_destroy (&fix);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_awkward_model_applies),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
