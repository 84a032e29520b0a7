/*  test_lint_cli.c — `wesley lint` and raw-SQL plan steps as a user runs
    them, with the real binary and a real PostgreSQL 15: exit codes, text
    and JSON findings, the parse error's line:col, --db sizes and types, a
    plan with an unsafe raw step refused, a hand-edited plan (checksum
    recomputed) refused by apply and run, and a safe raw step applied and
    recorded in the ledger exactly once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "plan/wes_plan.h"
#include "wes_pgfix.h"
#include "wes_testassert.h"
#include "wes_testutil.h"

typedef struct {
    char *dir;       /* scratch directory */
    wes_pgfix_t *pg; /* one cluster for the program */
} s_fixture_t;

static int
s_setup (void **state)
{
    s_fixture_t *f = calloc (1, sizeof *f);
    if (wes_pgfix_start_scratch ("wes-lint", &f->pg, &f->dir) != 0) {
        return -1;
    }
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fixture_t *f = *state;
    wes_pgfix_destroy_scratch (&f->pg, &f->dir);
    free (f);
    return 0;
}

static void
test_lint_text_and_exit_codes (void **state)
{
    s_fixture_t *f = *state;
    char *bad =
        wes_test_write_in (f->dir, "bad.sql",
                           "SET lock_timeout = '2s';\nCREATE INDEX users_email ON users (email);\n"
                           "ALTER TABLE users DROP COLUMN legacy;\n");
    char *out = NULL;
    assert_int_equal (wes_test_wesley (&out, "lint %s", bad), 1);
    char want[1024];
    snprintf (want, sizeof want, "%s:2:1: error: [index-not-concurrent]", bad);
    wes_test_has (out, want);
    wes_test_has (
        out, "    safe rewrite:\n        CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email ON "
             "users (email);");
    snprintf (want, sizeof want, "%s:3:1: warning: [destructive]", bad);
    wes_test_has (out, want);
    wes_test_has (out, "1 error, 1 warning");
    free (out);

    /* warnings alone pass, unless --strict */
    char *warn = wes_test_write_in (f->dir, "warn.sql",
                                    "SET lock_timeout = '2s';\nALTER TABLE t DROP COLUMN c;\n");
    assert_int_equal (wes_test_wesley (&out, "lint %s", warn), 0);
    wes_test_has (out, "[destructive]");
    free (out);
    assert_int_equal (wes_test_wesley (&out, "lint --strict %s", warn), 1);
    free (out);

    /* the safe form: nothing to say */
    char *good =
        wes_test_write_in (f->dir, "good.sql",
                           "SET lock_timeout = '2s';\n"
                           "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email ON users (email);\n"
                           "-- wesley-lint: ignore destructive\nALTER TABLE t DROP COLUMN c;\n");
    assert_int_equal (wes_test_wesley (&out, "lint %s %s", good, warn), 0);
    assert_null (strstr (out, "good.sql:"));
    free (out);

    /* usage */
    assert_int_equal (wes_test_wesley (&out, "lint"), 2);
    free (out);
    assert_int_equal (wes_test_wesley (&out, "lint %s --big-rows many", good), 2);
    wes_test_has (out, "--big-rows");
    free (out);
    assert_int_equal (wes_test_wesley (&out, "lint %s --bogus", good), 2);
    free (out);
    assert_int_equal (wes_test_wesley (&out, "lint --help"), 0);
    wes_test_has (out, "--big-rows N");
    wes_test_has (out, "(default 100000)");
    wes_test_has (out, "--db CONNINFO");
    wes_test_has (out, "--strict");
    wes_test_has (out, "--json");
    wes_test_has (out, "wesley-lint: ignore RULE");
    wes_test_has (out, "set-not-null");
    wes_test_has (out, "volatile-default");
    free (out);
    free (bad);
    free (warn);
    free (good);
}

static void
test_lint_json_and_parse_error (void **state)
{
    s_fixture_t *f = *state;
    char *bad = wes_test_write_in (
        f->dir, "j.sql", "ALTER TABLE users ADD COLUMN t uuid DEFAULT gen_random_uuid();\n");
    char *out = NULL;
    assert_int_equal (wes_test_wesley (&out, "lint --json %s 2>/dev/null", bad), 1);
    json_t *doc = wes_test_json (out, "lint --json");
    assert_int_equal (json_integer_value (json_object_get (doc, "errors")), 1);
    json_t *file = json_array_get (json_object_get (doc, "files"), 0);
    assert_string_equal (json_string_value (json_object_get (file, "file")), bad);
    json_t *findings = json_object_get (file, "findings");
    size_t seen = 0;
    for (size_t i = 0; i < json_array_size (findings); i++) {
        json_t *x = json_array_get (findings, i);
        if (strcmp (json_string_value (json_object_get (x, "rule")), "volatile-default") == 0) {
            seen++;
            assert_string_equal (json_string_value (json_object_get (x, "severity")), "error");
            assert_int_equal (json_integer_value (json_object_get (x, "line")), 1);
            assert_int_equal (json_integer_value (json_object_get (x, "col")), 37);
            assert_non_null (strstr (json_string_value (json_object_get (x, "rewrite")),
                                     "ALTER TABLE users ADD COLUMN t uuid;"));
        }
    }
    assert_int_equal (seen, 1);
    json_decref (doc);
    free (out);

    /* unparsable: no findings, the error's line:col, exit 3 */
    char *broken =
        wes_test_write_in (f->dir, "broken.sql", "SELECT 1;\nALTER TABLE t ADD COLUMN;\n");
    assert_int_equal (wes_test_wesley (&out, "lint %s", broken), 3);
    char want[1024];
    snprintf (want, sizeof want, "%s:2:25: error: does not parse: syntax error", broken);
    wes_test_has (out, want);
    free (out);
    assert_int_equal (wes_test_wesley (&out, "lint --json %s 2>/dev/null", broken), 3);
    doc = wes_test_json (out, "lint --json");
    json_t *err = json_object_get (json_array_get (json_object_get (doc, "files"), 0), "error");
    assert_int_equal (json_integer_value (json_object_get (err, "line")), 2);
    assert_int_equal (json_integer_value (json_object_get (err, "col")), 25);
    json_decref (doc);
    free (out);
    assert_int_equal (wes_test_wesley (&out, "lint %s/none.sql", f->dir), 3);
    wes_test_has (out, "none.sql: error: cannot read");
    free (out);
    free (bad);
    free (broken);
}

static void
test_lint_db (void **state)
{
    s_fixture_t *f = *state;
    assert_int_equal (wes_pgfix_createdb (f->pg, "lintdb"), 0);
    assert_int_equal (wes_pgfix_exec (f->pg, "lintdb",
                                      "CREATE TABLE small (a int, v varchar(20), n int);"
                                      "CREATE TABLE big (a int);"
                                      "INSERT INTO small SELECT g FROM generate_series(1, 10) g;"
                                      "INSERT INTO big SELECT g FROM generate_series(1, 500) g;"
                                      "ANALYZE small; ANALYZE big;"),
                      0);
    char *sql = wes_test_write_in (f->dir, "db.sql",
                                   "SET lock_timeout = '2s';\n"
                                   "ALTER TABLE small ALTER COLUMN a SET NOT NULL;\n"
                                   "ALTER TABLE big ALTER COLUMN a SET NOT NULL;\n"
                                   "ALTER TABLE small ALTER COLUMN v TYPE text;\n"
                                   "ALTER TABLE small ALTER COLUMN n TYPE bigint;\n");
    char *ci = wes_pgfix_conninfo (f->pg, "lintdb");
    char *out = NULL;
    /* without --db: both SET NOT NULL, and a warning for the text change */
    assert_int_equal (wes_test_wesley (&out, "lint %s", sql), 1);
    char want[1024];
    snprintf (want, sizeof want, "%s:2:1: warning: [set-not-null]", sql);
    wes_test_has (out, want);
    snprintf (want, sizeof want, "%s:4:32: warning: [alter-type-rewrite]", sql);
    wes_test_has (out, want);
    free (out);
    /* with --db: only the big table, and varchar(20) -> text is known safe */
    assert_int_equal (wes_test_wesley (&out, "lint --db '%s' --big-rows 100 %s", ci, sql), 1);
    snprintf (want, sizeof want, "%s:2:1:", sql);
    assert_null (strstr (out, want));
    snprintf (want, sizeof want, "%s:3:1: warning: [set-not-null]", sql);
    wes_test_has (out, want);
    wes_test_has (out, "about 500 rows");
    snprintf (want, sizeof want, "%s:4:", sql);
    assert_null (strstr (out, want));
    snprintf (want, sizeof want, "%s:5:32: error: [alter-type-rewrite]", sql);
    wes_test_has (out, want);
    wes_test_has (out, "(from integer)");
    free (out);
    assert_int_equal (
        wes_test_wesley (&out, "lint --db 'host=%s/nowhere dbname=x' %s", f->dir, sql), 3);
    wes_test_has (out, "cannot connect");
    free (out);
    free (ci);
    free (sql);
}

#define S_A "type Item @wes_table {\n  id: Int! @wes_pk\n  name: String\n}\n"
#define S_B "type Item @wes_table {\n  id: Int! @wes_pk\n  name: String\n  slug: String\n}\n"

static void
test_raw_steps (void **state)
{
    s_fixture_t *f = *state;
    assert_int_equal (wes_pgfix_createdb (f->pg, "rawdb"), 0);
    char *ci = wes_pgfix_conninfo (f->pg, "rawdb");
    char *a = wes_test_write_in (f->dir, "a.graphql", S_A);
    char *b = wes_test_write_in (f->dir, "b.graphql", S_B);
    char *out = NULL;
    assert_int_equal (wes_test_wesley (&out, "apply --schema %s --db '%s' --quiet", a, ci), 0);
    free (out);
    assert_int_equal (wes_pgfix_exec (f->pg, "rawdb",
                                      "INSERT INTO item (id, name) SELECT g, 'Name ' || g FROM "
                                      "generate_series(1, 300) g;"),
                      0);

    /* an unsafe raw step refuses the plan, naming the finding and the flag */
    char *unsafe =
        wes_test_write_in (f->dir, "unsafe.sql", "CREATE INDEX item_name_idx ON item (name);\n");
    char plan_bad[1024];
    snprintf (plan_bad, sizeof plan_bad, "%s/bad.json", f->dir);
    assert_int_equal (wes_test_wesley (&out, "plan --from %s --to %s -o %s --sql-step expand:%s", a,
                                       b, plan_bad, unsafe),
                      1);
    wes_test_has (out, "error: [index-not-concurrent]");
    wes_test_has (out, "--allow-unsafe-sql");
    assert_int_equal (access (plan_bad, F_OK), -1);
    free (out);
    assert_int_equal (wes_test_wesley (&out, "plan --from %s --to %s -o %s --sql-step nophase:%s",
                                       a, b, plan_bad, unsafe),
                      2);
    free (out);

    /* a safe raw step: planned, then a hand edit with a recomputed checksum */
    char *safe =
        wes_test_write_in (f->dir, "slugs.sql",
                           "-- derive slugs for existing rows\n"
                           "UPDATE item SET slug = lower(replace(name, ' ', '-')) WHERE slug IS "
                           "NULL;\n"
                           "VACUUM (ANALYZE) item;  -- outside a transaction: a step of its own\n");
    char plan[1024], edited[1024];
    snprintf (plan, sizeof plan, "%s/plan.json", f->dir);
    snprintf (edited, sizeof edited, "%s/edited.json", f->dir);
    assert_int_equal (wes_test_wesley (&out,
                                       "plan --from-db '%s' --to %s -o %s --sql-step backfill:%s "
                                       "--sql %s/plan.sql",
                                       ci, b, plan, safe, f->dir),
                      0);
    free (out);
    char *error = NULL;
    wes_plan_t *p = wes_plan_load (plan, &error);
    assert_non_null (p);
    wes_step_t *raw = NULL, *vacuum = NULL;
    for (size_t i = 0; i < wes_plan_count (p); i++) {
        if (wes_plan_step (p, i)->raw) {
            assert_null (vacuum);
            *(raw ? &vacuum : &raw) = wes_plan_step (p, i);
        }
    }
    assert_non_null (raw);
    assert_non_null (vacuum);
    assert_int_equal (raw->phase, WES_PHASE_BACKFILL);
    assert_int_equal (raw->kind, WES_STEP_TX);
    assert_int_equal (vacuum->phase, WES_PHASE_BACKFILL);
    assert_int_equal (vacuum->kind, WES_STEP_NONTX);
    assert_string_equal (vacuum->deps[0], raw->id);
    char raw_id[256];
    snprintf (raw_id, sizeof raw_id, "%s", raw->id);
    wes_plan_set (&raw->sql, "UPDATE item SET slug = NULL;\nCREATE INDEX item_name_idx ON item "
                             "(name);\n");
    assert_int_equal (wes_plan_save (p, edited, &error), 0);
    wes_plan_destroy (&p);
    assert_int_equal (wes_test_wesley (&out, "apply --plan %s --db '%s' --quiet", edited, ci), 3);
    wes_test_has (out, "error: [index-not-concurrent]");
    wes_test_has (out, "warning: [whole-table-update]");
    wes_test_has (out, "refusing the plan");
    free (out);
    /* nothing ran: no ledger, no column */
    char *v = wes_pgfix_query_value (f->pg, "rawdb",
                                     "SELECT count(*) FROM information_schema.columns WHERE "
                                     "table_name = 'item' AND column_name = 'slug'");
    assert_string_equal (v, "0");
    free (v);
    /* run refuses it too, before any state file exists */
    char *targets = wes_test_write_in (f->dir, "targets.txt", "");
    assert_int_equal (
        wes_test_wesley (&out,
                         "run --plan %s --targets %s --state %s/run.db --quiet --insecure-dev",
                         edited, targets, f->dir),
        3);
    wes_test_has (out, "refusing the plan");
    free (out);
    char state_path[1024];
    snprintf (state_path, sizeof state_path, "%s/run.db", f->dir);
    assert_int_equal (access (state_path, F_OK), -1);

    /* the planned (safe) plan applies, the raw step is in the ledger once */
    assert_int_equal (wes_test_wesley (&out, "apply --plan %s --db '%s' --quiet", plan, ci), 0);
    free (out);
    v = wes_pgfix_query_value (f->pg, "rawdb",
                               "SELECT count(*) FROM item WHERE slug = "
                               "lower(replace(name, ' ', '-'))");
    assert_string_equal (v, "300");
    free (v);
    char q[1024];
    snprintf (q, sizeof q,
              "SELECT count(*) FROM wesley.applied_steps WHERE step_id = '%s' OR step_id LIKE "
              "'%%-sql-slugs-2'",
              raw_id);
    v = wes_pgfix_query_value (f->pg, "rawdb", q);
    assert_string_equal (v, "2"); /* the UPDATE step and the VACUUM step */
    free (v);
    /* again: nothing applied twice */
    assert_int_equal (wes_test_wesley (&out, "apply --plan %s --db '%s' --quiet", plan, ci), 0);
    wes_test_has (out, "0 steps applied");
    free (out);
    v = wes_pgfix_query_value (f->pg, "rawdb", q);
    assert_string_equal (v, "2");
    free (v);
    /* the review SQL shows the raw step wrapped like any tx step */
    char sqlpath[1024];
    snprintf (sqlpath, sizeof sqlpath, "%s/plan.sql", f->dir);
    char *review = wes_test_read_file (sqlpath, NULL);
    assert_non_null (review);
    wes_test_has (review, "hand-written SQL from");
    wes_test_has (review,
                  "UPDATE item SET slug = lower(replace(name, ' ', '-')) WHERE slug IS NULL;");
    free (review);
    free (targets);
    free (safe);
    free (unsafe);
    free (a);
    free (b);
    free (ci);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_lint_text_and_exit_codes),
        cmocka_unit_test (test_lint_json_and_parse_error),
        cmocka_unit_test (test_lint_db),
        cmocka_unit_test (test_raw_steps),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
