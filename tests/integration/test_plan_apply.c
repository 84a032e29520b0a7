/*  test_plan_apply.c — every planner pattern against PostgreSQL 15: a
    database is built from schema A by the planner itself (empty -> A, so
    expressions are recorded as Wesley records them), rows are added, the
    plan A -> B is applied with the executor (wes_exec), and the database
    read back by introspection must hash exactly like B. Where a pattern
    moves data (backfill, shadow column, rename) the rows are checked too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg/wes_introspect.h"
#include "plan/wes_exec.h"
#include "plan/wes_planner.h"
#include "schema/wes_compile.h"
#include "schema/wes_parser.h"
#include "wes_pgfix.h"
#include "wes_testassert.h"

typedef struct {
    const char *name;      /* database name too */
    const char *a;         /* schema A */
    const char *seed;      /* SQL run after A, or NULL */
    const char *b;         /* schema B */
    bool destructive;      /* plan with allow_destructive */
    const char *check_sql; /* a query whose single value must equal check_value */
    const char *check_value;
} s_case_t;

#define ID "  id: Int! @wes_pk\n"

static const s_case_t s_cases[] = {
    {"add_columns", "type T @wes_table {\n" ID "  a: String\n}\n",
     "INSERT INTO t (id, a) SELECT g, 'x' || g FROM generate_series(1, 2500) g;",
     "type T @wes_table {\n" ID "  a: String\n  b: String\n"
     "  c: Int! @wes_default(value: 3)\n  d: DateTime! @wes_default(expr: \"now()\")\n"
     "  e: UUID! @wes_default(expr: \"gen_random_uuid()\")\n}\n",
     false, "SELECT count(DISTINCT e) FROM t WHERE c = 3", "2500"},
    {"not_null_and_defaults",
     "type T @wes_table {\n" ID "  a: String @wes_default(value: \"x\")\n  b: Int\n"
     "  c: String!\n}\n",
     "INSERT INTO t (id, a, b, c) SELECT g, 'a', g, 'c' FROM generate_series(1, 100) g;",
     "type T @wes_table {\n" ID "  a: String! @wes_default(value: \"y\")\n"
     "  b: Int @wes_default(value: 5)\n  c: String\n}\n",
     false, "SELECT count(*) FROM t WHERE a = 'a'", "100"},
    {"indexes_and_constraints",
     "type U @wes_table {\n" ID "  email: String\n}\n"
     "type P @wes_table {\n" ID "  u: Int\n  n: Int @wes_check(expr: \"n > 0\", name: "
     "\"p_n_check\")\n  title: String @wes_index(name: \"p_title_idx\")\n}\n",
     "INSERT INTO u (id, email) SELECT g, 'e' || g FROM generate_series(1, 50) g;"
     "INSERT INTO p (id, u, n, title) SELECT g, g, g, 't' FROM generate_series(1, 50) g;",
     "type U @wes_table {\n" ID "  email: String @wes_unique @wes_index(where: \"email IS NOT "
     "NULL\", name: \"u_email_partial_idx\")\n}\n"
     "type P @wes_table @wes_index(fields: [\"title\", \"n\"], name: \"p_title_idx\") {\n" ID
     "  u: Int @wes_fk(ref: \"U.id\", onDelete: \"CASCADE\")\n"
     "  n: Int @wes_check(expr: \"n > -1\", name: \"p_n_check\")\n  title: String\n"
     "  k: Int @wes_check(expr: \"k IS NULL OR k < 10\")\n}\n",
     false, "SELECT count(*) FROM p", "50"},
    {"type_changes",
     "type T @wes_table {\n" ID "  a: String @wes_column(type: \"varchar(10)\")\n"
     "  n: Int @wes_index @wes_unique @wes_check(expr: \"n >= 0\", name: \"t_n_check\")\n"
     "  s: String\n}\n",
     "INSERT INTO t (id, a, n, s) SELECT g, 'a', g, g::text FROM generate_series(1, 3000) g;",
     "type T @wes_table {\n" ID "  a: String\n"
     "  n: BigInt! @wes_default(value: 0) @wes_index @wes_unique @wes_check(expr: \"n >= 0\", "
     "name: \"t_n_check\")\n  s: Int\n}\n",
     false, "SELECT sum(n) + sum(s) FROM t", "9003000"},
    {"column_rename",
     "type T @wes_table {\n" ID "  fullName: String! @wes_default(value: \"?\") "
     "@wes_index(name: \"t_name_idx\")\n  other: String @wes_index\n}\n",
     "INSERT INTO t (id, full_name) SELECT g, 'n' || g FROM generate_series(1, 1200) g;",
     "type T @wes_table {\n" ID "  name: String! @wes_default(value: \"?\") "
     "@wes_renamedFrom(name: \"full_name\") @wes_index(name: \"t_name_idx\")\n"
     "  nick: String @wes_renamedFrom(name: \"other\") @wes_index\n}\n",
     false, "SELECT count(*) FROM t WHERE name = 'n' || id", "1200"},
    {"table_rename",
     "type Person @wes_table {\n" ID "  a: Int @wes_index @wes_check(expr: \"a > 0\")\n}\n"
     "type Pet @wes_table {\n" ID "  owner: Int @wes_fk(ref: \"Person.id\")\n}\n",
     "INSERT INTO person (id, a) VALUES (1, 1), (2, 2);",
     "type Human @wes_table @wes_renamedFrom(name: \"person\") {\n" ID
     "  a: Int @wes_index @wes_check(expr: \"a > 0\")\n  nick: String\n}\n"
     "type Pet @wes_table {\n" ID "  owner: Int @wes_fk(ref: \"Human.id\")\n}\n",
     false, "SELECT count(*) FROM human", "2"},
    {"enums", "enum S { OPEN CLOSED }\ntype T @wes_table {\n" ID "  s: S\n}\n",
     "INSERT INTO t VALUES (1, 'OPEN');",
     "enum S { NEW OPEN MID CLOSED }\nenum K { X Y }\n"
     "type T @wes_table {\n" ID "  s: S\n  k: K! @wes_default(value: \"Y\")\n  ks: [K]\n}\n",
     false, "SELECT string_agg(e::text, ',' ORDER BY e) FROM unnest(enum_range(NULL::s)) e",
     "NEW,OPEN,MID,CLOSED"},
    {"policies",
     "type T @wes_table @wes_rls(select: \"true\", delete: \"false\") {\n" ID "}\n"
     "type Q @wes_table {\n" ID "}\n",
     NULL,
     "type T @wes_table @wes_rls(select: \"id > 0\", insert: \"true\") {\n" ID "}\n"
     "type Q @wes_table @wes_rls(select: \"id > 1\") {\n" ID "}\n",
     false, "SELECT count(*) FROM pg_policies", "3"},
    {"destructive",
     "enum E { A B }\ntype Keep @wes_table {\n" ID "  gone: String\n  n: BigInt\n"
     "  e: E @wes_index(name: \"keep_e_idx\")\n}\n"
     "type Drop @wes_table {\n" ID "  c: Int @wes_fk(ref: \"Child.id\")\n}\n"
     "type Child @wes_table {\n" ID "  d: Int @wes_fk(ref: \"Drop.id\")\n"
     "  k: Int @wes_fk(ref: \"Keep.id\")\n}\n"
     "type Ref @wes_table {\n" ID "  d: Int @wes_fk(ref: \"Drop.id\")\n}\n",
     "INSERT INTO keep (id, n) VALUES (1, 5);",
     "type Keep @wes_table {\n" ID "  n: Int\n}\ntype Ref @wes_table {\n" ID "  d: Int\n}\n", true,
     "SELECT n FROM keep", "5"},
    {"new_tables_cycle", "type Seed @wes_table {\n" ID "}\n", NULL,
     "type Seed @wes_table {\n" ID "}\n"
     "type A @wes_table @wes_rls(select: \"EXISTS (SELECT 1 FROM b)\") {\n" ID
     "  b: Int @wes_fk(ref: \"B.id\")\n}\n"
     "type B @wes_table {\n" ID "  a: Int @wes_fk(ref: \"A.id\") @wes_index\n"
     "  label: String! @wes_default(value: \"l\") @wes_check(expr: \"length(label) < 9\")\n}\n",
     false, "SELECT count(*) FROM pg_constraint WHERE contype = 'f'", "2"},
};

static wes_pgfix_t *s_fix;

static int
s_setup (void **state)
{
    (void)state;
    s_fix = wes_pgfix_start ();
    return s_fix ? 0 : -1;
}

static int
s_teardown (void **state)
{
    (void)state;
    wes_pgfix_destroy (&s_fix);
    return 0;
}

//  Plans from -> to and applies it to db; fails the test on any error
static void
s_apply (const char *db, const wes_model_t *from, const wes_model_t *to, bool destructive)
{
    wes_planner_opts_t opts;
    wes_planner_opts_init (&opts);
    opts.allow_destructive = destructive;
    opts.batch_rows = 1000; /* several batches per backfill */
    char *err = NULL;
    wes_plan_t *plan = wes_planner_plan (from, to, &opts, &err);
    if (!plan) {
        fail_msg ("%s: planning failed: %s", db, err);
    }
    char *conninfo = wes_pgfix_conninfo (s_fix, db);
    wes_exec_opts_t eopts = {.psql_bin = wes_pgfix_psql_path (s_fix)};
    wes_exec_t *exec = wes_exec_new (conninfo, &eopts, &err);
    if (!exec) {
        fail_msg ("%s: executor: %s", db, err);
    }
    int rc = wes_exec_apply (exec, plan, &err);
    if (rc != WES_EXEC_OK) {
        json_t *j = wes_plan_to_json (plan);
        char *dump = json_dumps (j, JSON_INDENT (1));
        fprintf (stderr, "%s\n", dump);
        free (dump);
        json_decref (j);
        fail_msg ("%s: apply failed (%d): %s", db, rc, err ? err : "");
    }
    wes_exec_destroy (&exec);
    //  read back: the database is exactly `to`
    wes_model_t *got = wes_introspect_conninfo (conninfo, NULL, &err);
    if (!got) {
        fail_msg ("%s: introspection failed: %s", db, err);
    }
    char want_hash[65], got_hash[65];
    wes_model_hash (to, want_hash);
    wes_model_hash (got, got_hash);
    if (strcmp (want_hash, got_hash) != 0) {
        json_t *jw = wes_model_to_canonical_json (to);
        json_t *jg = wes_model_to_canonical_json (got);
        char *sw = json_dumps (jw, JSON_INDENT (1) | JSON_SORT_KEYS);
        char *sg = json_dumps (jg, JSON_INDENT (1) | JSON_SORT_KEYS);
        fprintf (stderr, "--- expected:\n%s\n--- database:\n%s\n", sw, sg);
        free (sw);
        free (sg);
        json_decref (jw);
        json_decref (jg);
        fail_msg ("%s: database hash %s, expected %s", db, got_hash, want_hash);
    }
    wes_model_destroy (&got);
    free (conninfo);
    wes_plan_destroy (&plan);
}

static void
test_pattern (void **state)
{
    const s_case_t *c = *state;
    assert_non_null (s_fix);
    assert_int_equal (wes_pgfix_createdb (s_fix, c->name), 0);
    wes_model_t *empty = wes_model_new ();
    wes_model_t *a = wes_test_compile (c->a);
    wes_model_t *b = wes_test_compile (c->b);
    s_apply (c->name, empty, a, false);
    if (c->seed) {
        assert_int_equal (wes_pgfix_exec (s_fix, c->name, c->seed), 0);
    }
    s_apply (c->name, a, b, c->destructive);
    if (c->check_sql) {
        char *v = wes_pgfix_query_value (s_fix, c->name, c->check_sql);
        assert_non_null (v);
        assert_string_equal (v, c->check_value);
        free (v);
    }
    //  nothing of the patterns' scaffolding is left behind
    char *left = wes_pgfix_query_value (
        s_fix, c->name,
        "SELECT (SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal) + (SELECT count(*) "
        "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = "
        "'wesley') + (SELECT count(*) FROM pg_views WHERE schemaname = 'public') + (SELECT "
        "count(*) FROM pg_attribute a JOIN pg_class k ON k.oid = a.attrelid WHERE "
        "position('__wes_' in a.attname) > 0 AND NOT a.attisdropped AND k.relkind = 'r')");
    assert_non_null (left);
    assert_string_equal (left, "0");
    free (left);
    //  and planning again from what is there plans nothing
    char *conninfo = wes_pgfix_conninfo (s_fix, c->name);
    char *err = NULL;
    wes_model_t *now = wes_introspect_conninfo (conninfo, NULL, &err);
    assert_non_null (now);
    wes_plan_t *again = wes_planner_plan (now, b, NULL, &err);
    assert_non_null (again);
    assert_int_equal (wes_plan_count (again), 0);
    wes_plan_destroy (&again);
    wes_model_destroy (&now);
    free (conninfo);
    wes_model_destroy (&empty);
    wes_model_destroy (&a);
    wes_model_destroy (&b);
}

int
main (void)
{
    size_t n = sizeof s_cases / sizeof s_cases[0];
    struct CMUnitTest *tests = calloc (n, sizeof *tests);
    for (size_t i = 0; i < n; i++) {
        tests[i].name = s_cases[i].name;
        tests[i].test_func = test_pattern;
        tests[i].initial_state = (void *)&s_cases[i];
    }
    int rc = _cmocka_run_group_tests ("plan_apply", tests, n, s_setup, s_teardown);
    free (tests);
    return rc;
}
