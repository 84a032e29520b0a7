/*  test_emit_sql.c — the DDL emitter on models built with the wes_model_*
    builders: quoting, order, constraints, foreign-key actions, partial
    indexes, row-level security, and byte-for-byte determinism. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "schema/wes_emit_sql.h"
#include "schema/wes_model.h"

//  Fails the test unless needle occurs in haystack; returns its offset
static size_t
s_find (const char *haystack, const char *needle)
{
    const char *at = strstr (haystack, needle);
    if (!at) {
        fail_msg ("expected to find:\n%s\n--- in:\n%s", needle, haystack);
    }
    return (size_t) (at - haystack);
}

static void
s_absent (const char *haystack, const char *needle)
{
    if (strstr (haystack, needle)) {
        fail_msg ("did not expect:\n%s\n--- in:\n%s", needle, haystack);
    }
}

//  A shop: enum user_role, tables "user" and "order" (a reserved word) that
//  reference each other, RLS on "order". reverse: add everything in the
//  opposite order, which must not change the output.
static wes_model_t *
s_shop (bool reverse)
{
    wes_model_t *m = wes_model_new ();
    for (int pass = 0; pass < 2; pass++) {
        bool enum_pass = (pass == 0) != reverse;
        if (enum_pass) {
            wes_enum_t *st = wes_model_add_enum (m, "status");
            wes_enum_add_value (st, "open");
            wes_enum_add_value (st, "it's closed");
            wes_enum_t *e = wes_model_add_enum (m, "user_role");
            wes_model_set_str (&e->gql_name, "UserRole");
            wes_enum_add_value (e, "VIEWER");
            wes_enum_add_value (e, "ADMIN");
            wes_enum_add_value (e, "EDITOR");
            continue;
        }
        const char *order[2] = {"user", "order"};
        for (int k = 0; k < 2; k++) {
            const char *name = order[reverse ? 1 - k : k];
            wes_table_t *t = wes_model_add_table (m, name);
            if (strcmp (name, "user") == 0) {
                wes_model_set_str (&t->gql_name, "User");
                wes_column_t *c = wes_table_add_column (t, "id", "uuid");
                c->not_null = true;
                wes_model_set_str (&c->default_expr, "gen_random_uuid()");
                c = wes_table_add_column (t, "role", "user_role");
                c->not_null = true;
                c = wes_table_add_column (t, "roles", "user_role[]");
                c = wes_table_add_column (t, "best_order", "uuid");
                wes_constraint_t *pk = wes_table_add_constraint (t, WES_CON_PRIMARY, "user_pkey");
                wes_constraint_add_column (pk, "id");
                wes_constraint_t *fk
                    = wes_table_add_constraint (t, WES_CON_FOREIGN, "user_best_order_fkey");
                wes_constraint_add_column (fk, "best_order");
                wes_model_set_str (&fk->ref_table, "order");
                wes_constraint_add_ref_column (fk, "id");
                continue;
            }
            wes_model_set_str (&t->gql_name, "Order");
            //  Declared in this order; the names sort differently
            wes_column_t *c = wes_table_add_column (t, "id", "uuid");
            c->not_null = true;
            c = wes_table_add_column (t, "user_id", "uuid");
            c->not_null = true;
            c = wes_table_add_column (t, "select", "text");
            c->not_null = true;
            wes_model_set_str (&c->default_expr, "'x'");
            c = wes_table_add_column (t, "total", "numeric(12,2)");
            c = wes_table_add_column (t, "state", "status");
            c->not_null = true;
            wes_model_set_str (&c->default_expr, "'open'");
            wes_constraint_t *ck = wes_table_add_constraint (t, WES_CON_CHECK, "order_total_check");
            wes_model_set_str (&ck->check_expr, "total >= 0");
            wes_constraint_t *uq = wes_table_add_constraint (t, WES_CON_UNIQUE, "order_select_key");
            wes_constraint_add_column (uq, "select");
            wes_constraint_t *pk = wes_table_add_constraint (t, WES_CON_PRIMARY, "order_pkey");
            wes_constraint_add_column (pk, "id");
            wes_constraint_t *fk
                = wes_table_add_constraint (t, WES_CON_FOREIGN, "order_user_id_fkey");
            wes_constraint_add_column (fk, "user_id");
            wes_model_set_str (&fk->ref_table, "user");
            wes_constraint_add_ref_column (fk, "id");
            fk->on_delete = WES_FK_CASCADE;
            fk->on_update = WES_FK_SET_NULL;
            wes_index_t *ix = wes_table_add_index (t, "order_open_idx");
            wes_index_add_column (ix, "user_id");
            wes_index_add_column (ix, "select");
            ix->unique = true;
            wes_model_set_str (&ix->where, "state = 'open'");
            ix = wes_table_add_index (t, "order_total_idx");
            wes_index_add_column (ix, "total");
            wes_model_set_str (&ix->method, "brin");
            t->rls_enabled = true;
            wes_policy_t *p = wes_table_add_policy (t, "order_select", WES_POLICY_SELECT);
            wes_policy_add_role (p, "authenticated");
            wes_policy_add_role (p, "anon");
            wes_model_set_str (&p->using_expr, "true");
            p = wes_table_add_policy (t, "order_insert", WES_POLICY_INSERT);
            p->permissive = false;
            wes_model_set_str (&p->check_expr, "auth.uid() = user_id");
            p = wes_table_add_policy (t, "order_update", WES_POLICY_UPDATE);
            wes_policy_add_role (p, "public");
            wes_model_set_str (&p->using_expr, "-- owners only\nauth.uid() = user_id -- me");
            wes_model_set_str (&p->check_expr, "auth.uid() = user_id");
        }
    }
    wes_model_canonicalize (m);
    return m;
}

static void
test_header_and_transaction (void **state)
{
    (void) state;
    wes_model_t *m = s_shop (false);
    char *sql = wes_emit_sql (m);
    char hash[65];
    wes_model_hash (m, hash);
    char expect[160];
    snprintf (expect, sizeof expect,
              "-- Generated by Wesley. Do not edit.\n-- schema hash: %s\n\nBEGIN;\n", hash);
    assert_int_equal (strncmp (sql, expect, strlen (expect)), 0);
    size_t len = strlen (sql);
    assert_true (len > 9);
    assert_string_equal (sql + len - 9, "\nCOMMIT;\n");
    //  Only one transaction
    assert_int_equal (s_find (sql, "BEGIN;"), s_find (expect, "BEGIN;"));
    assert_int_equal (s_find (sql, "COMMIT;"), len - 8);
    free (sql);
    wes_model_destroy (&m);
}

static void
test_enums (void **state)
{
    (void) state;
    wes_model_t *m = s_shop (false);
    char *sql = wes_emit_sql (m);
    //  Values keep declaration order; literals are escaped; names sorted
    size_t st = s_find (sql, "CREATE TYPE \"status\" AS ENUM ('open', 'it''s closed');\n");
    size_t ur = s_find (sql, "-- enum UserRole\n"
                             "CREATE TYPE \"user_role\" AS ENUM ('VIEWER', 'ADMIN', 'EDITOR');\n");
    assert_true (st < ur);
    //  Enums before the first table
    assert_true (ur < s_find (sql, "CREATE TABLE"));
    free (sql);
    wes_model_destroy (&m);
}

static void
test_tables_and_columns (void **state)
{
    (void) state;
    wes_model_t *m = s_shop (false);
    char *sql = wes_emit_sql (m);
    //  Reserved words are quoted; columns in declaration order; enum types
    //  (and arrays of them) quoted; constraints PRIMARY, UNIQUE, CHECK.
    s_find (sql, "-- type Order\n"
                 "CREATE TABLE \"order\" (\n"
                 "    \"id\" uuid NOT NULL,\n"
                 "    \"user_id\" uuid NOT NULL,\n"
                 "    \"select\" text NOT NULL DEFAULT 'x',\n"
                 "    \"total\" numeric(12,2),\n"
                 "    \"state\" \"status\" NOT NULL DEFAULT 'open',\n"
                 "    CONSTRAINT \"order_pkey\" PRIMARY KEY (\"id\"),\n"
                 "    CONSTRAINT \"order_select_key\" UNIQUE (\"select\"),\n"
                 "    CONSTRAINT \"order_total_check\" CHECK (total >= 0)\n"
                 ");\n");
    s_find (sql, "-- type User\n"
                 "CREATE TABLE \"user\" (\n"
                 "    \"id\" uuid NOT NULL DEFAULT gen_random_uuid(),\n"
                 "    \"role\" \"user_role\" NOT NULL,\n"
                 "    \"roles\" \"user_role\"[],\n"
                 "    \"best_order\" uuid,\n"
                 "    CONSTRAINT \"user_pkey\" PRIMARY KEY (\"id\")\n"
                 ");\n");
    //  Tables in name order; no foreign key inside CREATE TABLE
    assert_true (s_find (sql, "CREATE TABLE \"order\"") < s_find (sql, "CREATE TABLE \"user\""));
    s_absent (sql, "    CONSTRAINT \"order_user_id_fkey\"");
    free (sql);
    wes_model_destroy (&m);
}

static void
test_foreign_keys_after_tables (void **state)
{
    (void) state;
    wes_model_t *m = s_shop (false);
    char *sql = wes_emit_sql (m);
    size_t last_table = s_find (sql, "CREATE TABLE \"user\"");
    size_t a = s_find (sql, "ALTER TABLE \"order\" ADD CONSTRAINT \"order_user_id_fkey\" "
                            "FOREIGN KEY (\"user_id\") REFERENCES \"user\" (\"id\") "
                            "ON DELETE CASCADE ON UPDATE SET NULL;\n");
    //  NO ACTION is the default and is left out
    size_t b = s_find (sql, "ALTER TABLE \"user\" ADD CONSTRAINT \"user_best_order_fkey\" "
                            "FOREIGN KEY (\"best_order\") REFERENCES \"order\" (\"id\");\n");
    s_absent (sql, "NO ACTION");
    assert_true (last_table < a);
    assert_true (a < b);
    free (sql);
    wes_model_destroy (&m);
}

static void
test_indexes (void **state)
{
    (void) state;
    wes_model_t *m = s_shop (false);
    char *sql = wes_emit_sql (m);
    size_t a = s_find (sql, "CREATE UNIQUE INDEX \"order_open_idx\" ON \"order\" USING btree "
                            "(\"user_id\", \"select\") WHERE (state = 'open');\n");
    size_t b = s_find (sql, "CREATE INDEX \"order_total_idx\" ON \"order\" USING brin "
                            "(\"total\");\n");
    assert_true (a < b);
    assert_true (s_find (sql, "FOREIGN KEY") < a);
    free (sql);
    wes_model_destroy (&m);
}

static void
test_row_level_security (void **state)
{
    (void) state;
    wes_model_t *m = s_shop (false);
    char *sql = wes_emit_sql (m);
    size_t en = s_find (sql, "ALTER TABLE \"order\" ENABLE ROW LEVEL SECURITY;\n");
    assert_true (s_find (sql, "CREATE INDEX") < en);
    //  Policies by name: order_insert, order_select, order_update
    size_t ins = s_find (sql, "CREATE POLICY \"order_insert\" ON \"order\" AS RESTRICTIVE "
                              "FOR INSERT TO PUBLIC\n"
                              "    WITH CHECK (auth.uid() = user_id);\n");
    //  Roles sorted and quoted
    size_t sel = s_find (sql, "CREATE POLICY \"order_select\" ON \"order\" AS PERMISSIVE "
                              "FOR SELECT TO \"anon\", \"authenticated\"\n"
                              "    USING (true);\n");
    //  A multi-line expression is verbatim, and a trailing comment can not
    //  swallow the closing parenthesis; the role "public" is the keyword
    size_t upd = s_find (sql, "CREATE POLICY \"order_update\" ON \"order\" AS PERMISSIVE "
                              "FOR UPDATE TO PUBLIC\n"
                              "    USING (\n"
                              "-- owners only\n"
                              "auth.uid() = user_id -- me\n"
                              "    )\n"
                              "    WITH CHECK (auth.uid() = user_id);\n");
    assert_true (en < ins && ins < sel && sel < upd);
    //  "user" has no RLS
    s_absent (sql, "ALTER TABLE \"user\" ENABLE");
    free (sql);
    wes_model_destroy (&m);
}

static void
test_deterministic (void **state)
{
    (void) state;
    wes_model_t *a = s_shop (false);
    wes_model_t *b = s_shop (true);
    char *sa = wes_emit_sql (a);
    char *sb = wes_emit_sql (b);
    assert_string_equal (sa, sb);
    //  And the same model twice gives the same bytes
    char *sa2 = wes_emit_sql (a);
    assert_string_equal (sa, sa2);
    free (sa);
    free (sa2);
    free (sb);
    wes_model_destroy (&a);
    wes_model_destroy (&b);
}

//  Without canonicalize, the emitter still orders by name and ordinal
static void
test_order_without_canonicalize (void **state)
{
    (void) state;
    wes_model_t *m = wes_model_new ();
    wes_table_t *z = wes_model_add_table (m, "zeta");
    wes_column_t *c = wes_table_add_column (z, "b", "integer");
    c->ordinal = 2;
    c = wes_table_add_column (z, "a", "integer");
    c->ordinal = 1;
    c = wes_table_add_column (z, "c", "bigint");
    c->ordinal = 1; /* tie with "a": by name */
    wes_model_add_table (m, "alpha");
    char *sql = wes_emit_sql (m);
    assert_true (s_find (sql, "CREATE TABLE \"alpha\" ();\n")
                 < s_find (sql, "CREATE TABLE \"zeta\" (\n"
                                "    \"a\" integer,\n"
                                "    \"c\" bigint,\n"
                                "    \"b\" integer\n"
                                ");\n"));
    //  A table from a database has no GraphQL name
    s_find (sql, "-- table alpha\n");
    free (sql);
    wes_model_destroy (&m);
}

static void
test_awkward_identifiers (void **state)
{
    (void) state;
    wes_model_t *m = wes_model_new ();
    wes_enum_t *e = wes_model_add_enum (m, "empty");
    (void) e;
    wes_table_t *t = wes_model_add_table (m, "we\"ird");
    wes_model_set_str (&t->gql_name, "Weird");
    wes_column_t *c = wes_table_add_column (t, "Mixed Case", "character varying(64)");
    c->not_null = true;
    c = wes_table_add_column (t, "e", "empty");
    c = wes_table_add_column (t, "at", "timestamp with time zone");
    wes_model_set_str (&c->default_expr, "now() -- server clock");
    wes_constraint_t *ck = wes_table_add_constraint (t, WES_CON_CHECK, "at_check");
    wes_model_set_str (&ck->check_expr, "at > '2000-01-01'\n  AND at < 'infinity'");
    wes_constraint_t *pk = wes_table_add_constraint (t, WES_CON_PRIMARY, "we\"ird_pkey");
    wes_constraint_add_column (pk, "Mixed Case");
    wes_constraint_t *fk = wes_table_add_constraint (t, WES_CON_FOREIGN, "self_fk");
    wes_constraint_add_column (fk, "Mixed Case");
    wes_model_set_str (&fk->ref_table, "we\"ird");
    fk->on_delete = WES_FK_SET_DEFAULT;
    fk->on_update = WES_FK_RESTRICT;
    wes_model_canonicalize (m);
    char *sql = wes_emit_sql (m);
    s_find (sql, "CREATE TYPE \"empty\" AS ENUM ();\n");
    s_find (sql, "CREATE TABLE \"we\"\"ird\" (\n"
                 "    \"Mixed Case\" character varying(64) NOT NULL,\n"
                 "    \"e\" \"empty\",\n"
                 "    \"at\" timestamp with time zone DEFAULT (\n"
                 "now() -- server clock\n"
                 "    ),\n"
                 "    CONSTRAINT \"we\"\"ird_pkey\" PRIMARY KEY (\"Mixed Case\"),\n"
                 "    CONSTRAINT \"at_check\" CHECK (\n"
                 "at > '2000-01-01'\n"
                 "  AND at < 'infinity'\n"
                 "    )\n"
                 ");\n");
    //  No referenced columns: the referenced table's primary key
    s_find (sql, "ALTER TABLE \"we\"\"ird\" ADD CONSTRAINT \"self_fk\" FOREIGN KEY "
                 "(\"Mixed Case\") REFERENCES \"we\"\"ird\" ON DELETE SET DEFAULT "
                 "ON UPDATE RESTRICT;\n");
    s_absent (sql, "-- indexes");
    s_absent (sql, "ROW LEVEL SECURITY");
    free (sql);
    wes_model_destroy (&m);
}

static void
test_empty_model (void **state)
{
    (void) state;
    wes_model_t *m = wes_model_new ();
    char *sql = wes_emit_sql (m);
    char hash[65];
    wes_model_hash (m, hash);
    char expect[200];
    snprintf (expect, sizeof expect,
              "-- Generated by Wesley. Do not edit.\n-- schema hash: %s\n\nBEGIN;\n\nCOMMIT;\n",
              hash);
    assert_string_equal (sql, expect);
    free (sql);
    wes_model_destroy (&m);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_header_and_transaction),
        cmocka_unit_test (test_enums),
        cmocka_unit_test (test_tables_and_columns),
        cmocka_unit_test (test_foreign_keys_after_tables),
        cmocka_unit_test (test_indexes),
        cmocka_unit_test (test_row_level_security),
        cmocka_unit_test (test_deterministic),
        cmocka_unit_test (test_order_without_canonicalize),
        cmocka_unit_test (test_awkward_identifiers),
        cmocka_unit_test (test_empty_model),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
