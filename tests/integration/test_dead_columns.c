/*  test_dead_columns.c — `wesley dead-columns` against a real workload
    recorded by pg_stat_statements: a schema compiled and applied by the
    real `wesley`, statements run through libpq (aliases, a CTE, a quoted
    identifier, UPDATE SET, an INSERT column list, JOIN USING, SELECT *, a
    view, a plpgsql function), then the exact findings and their
    confidences in --json, the reasons in the text report, the default
    thresholds on a fresh window, and the errors: no extension, no
    privilege, bad flags. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wes_pgfix.h"
#include "wes_testassert.h"
#include "wes_testutil.h"

static const char *s_schema = "type Account @wes_table {\n"
                              "  id: Int! @wes_pk\n"
                              "  email: String!\n"
                              "  displayName: String\n"
                              "  vipLevel: Int @wes_column(name: \"VipLevel\")\n"
                              "  legacyCode: String\n"
                              "}\n"
                              "type Orders @wes_table(name: \"orders\") {\n"
                              "  id: Int! @wes_pk\n"
                              "  accountId: Int!\n"
                              "  total: Float\n"
                              "  status: String\n"
                              "  note: String\n"
                              "}\n"
                              "type Payment @wes_table {\n"
                              "  id: Int! @wes_pk\n"
                              "  accountId: Int\n"
                              "  amount: Float\n"
                              "  memo: String\n"
                              "}\n"
                              "type Audit @wes_table {\n"
                              "  id: Int! @wes_pk\n"
                              "  event: String\n"
                              "  detail: String\n"
                              "}\n"
                              "type Tag @wes_table {\n"
                              "  id: Int! @wes_pk\n"
                              "  label: String\n"
                              "  color: String\n"
                              "}\n";

/*  What must be found after the workload, with --min-window 0 --min-calls
    10, and nothing else: every other column is touched. */
static const char *s_expected[][2] = {
    {"account.legacy_code", "HIGH"}, /* never touched, on a busy table */
    {"audit.detail", "LOW"},         /* audit reached only through a view */
    {"audit.event", "LOW"},          {"audit.id", "LOW"},
    {"payment.memo", "LOW"}, /* read only through SELECT * */
    {"tag.color", "MEDIUM"}, /* tag is read by a function */
};

static wes_pgfix_t *s_pg;
static char *s_dir;
static char *s_sdl;
static char *s_ci; /* the workload database */

static int
s_setup (void **state)
{
    (void) state;
    if (wes_pgfix_start_scratch ("wes-deadcols", &s_pg, &s_dir) != 0) {
        return -1;
    }
    s_sdl = wes_test_path (s_dir, "app.graphql");
    return wes_test_write_file (s_sdl, s_schema);
}

static int
s_teardown (void **state)
{
    (void) state;
    wes_pgfix_destroy_scratch (&s_pg, &s_dir);
    free (s_sdl);
    free (s_ci);
    return 0;
}

static int
s_dead_columns (const char *ci, const char *flags, char **out)
{
    char cmd[4096];
    snprintf (cmd, sizeof cmd, "'%s' dead-columns --schema '%s' --db '%s' %s", WES_WESLEY_BIN,
              s_sdl, ci, flags);
    return wes_test_run (cmd, out);
}

static void
s_exec_params (PGconn *conn, const char *sql, int n, const char *const *params)
{
    PGresult *r = PQexecParams (conn, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus (r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        fail_msg ("%s: %s", sql, PQresultErrorMessage (r));
    }
    PQclear (r);
}

/*  The schema applied by `wesley apply`, a view and a function over it,
    statistics reset, then the workload. */
static void
s_workload (void)
{
    assert_int_equal (wes_pgfix_createdb (s_pg, "app"), 0);
    s_ci = wes_pgfix_conninfo (s_pg, "app");
    if (wes_test_apply_schema (s_sdl, s_ci) != 0) {
        fail_msg ("apply failed (output above)");
    }
    assert_int_equal (
        wes_pgfix_exec (s_pg, "app",
                        "CREATE EXTENSION pg_stat_statements;"
                        "CREATE VIEW audit_summary AS SELECT id, event FROM audit;"
                        "CREATE FUNCTION tag_label (p_id int) RETURNS text LANGUAGE plpgsql AS $$"
                        " DECLARE l text; BEGIN SELECT label INTO l FROM tag WHERE id = p_id;"
                        " RETURN l; END $$;"
                        "SELECT pg_stat_statements_reset ();"),
        0);
    PGconn *conn = wes_pgfix_connect (s_pg, "app");
    assert_non_null (conn);
    for (int i = 1; i <= 20; i++) {
        char id[16], id2[16];
        snprintf (id, sizeof id, "%d", i);
        snprintf (id2, sizeof id2, "%d", i + 1000);
        const char *p1[] = {id};
        const char *p2[] = {id, id};
        const char *p3[] = {"shipped", "gift", id};
        s_exec_params (conn, "INSERT INTO account (id, email) VALUES ($1::int, 'a' || $1)", 1, p1);
        /* an alias, a quoted identifier, a CTE */
        s_exec_params (conn, "SELECT a.email FROM account AS a WHERE a.id = $1", 1, p1);
        s_exec_params (conn, "SELECT \"VipLevel\" FROM account WHERE id = $1", 1, p1);
        s_exec_params (conn,
                       "WITH names AS (SELECT display_name FROM account) SELECT count(*) FROM "
                       "names",
                       0, NULL);
        /* an INSERT column list, UPDATE SET targets */
        s_exec_params (conn, "INSERT INTO orders (id, account_id, total) VALUES ($1, $2, 9.5)", 2,
                       p2);
        s_exec_params (conn, "UPDATE orders SET status = $1, note = $2 WHERE id = $3", 3, p3);
        /* JOIN USING; payment.memo read only through SELECT * */
        s_exec_params (conn, "INSERT INTO payment (id, amount) VALUES ($1, 1)", 1, p1);
        s_exec_params (conn,
                       "SELECT amount FROM payment JOIN orders USING (account_id) WHERE "
                       "payment.id = $1",
                       1, p1);
        s_exec_params (conn, "SELECT * FROM payment WHERE id = $1", 1, p1);
        /* audit only through its view; tag only through a function */
        s_exec_params (conn, "SELECT event FROM audit_summary WHERE id = $1", 1, p1);
        s_exec_params (conn, "SELECT tag_label ($1)", 1, p1);
    }
    PQfinish (conn);
}

static void
test_findings_of_a_workload (void **state)
{
    (void) state;
    s_workload ();
    char *out = NULL;
    int rc = s_dead_columns (s_ci, "--json --min-window 0 --min-calls 10 2>/dev/null", &out);
    if (rc != 0) {
        fail_msg ("dead-columns exited %d:\n%s", rc, out);
    }
    json_t *doc = wes_test_json (out, "dead-columns --json");
    json_t *findings = json_object_get (doc, "findings");
    size_t n_expected = sizeof s_expected / sizeof s_expected[0];
    bool ok = json_array_size (findings) == n_expected;
    for (size_t i = 0; ok && i < n_expected; i++) {
        json_t *f = json_array_get (findings, i);
        char name[128];
        snprintf (name, sizeof name, "%s.%s", json_string_value (json_object_get (f, "table")),
                  json_string_value (json_object_get (f, "column")));
        ok = strcmp (name, s_expected[i][0]) == 0
             && strcmp (json_string_value (json_object_get (f, "confidence")), s_expected[i][1])
                    == 0;
    }
    if (!ok) {
        fail_msg ("findings differ from the expected set:\n%s", out);
    }
    /* the header figures */
    assert_true (json_integer_value (json_object_get (doc, "statements")) >= 11);
    assert_true (json_integer_value (json_object_get (doc, "calls")) >= 220);
    assert_int_equal (json_integer_value (json_object_get (doc, "evictions")), 0);
    assert_int_equal (json_integer_value (json_object_get (doc, "unparsable")), 0);
    /* the reasons */
    size_t i;
    json_t *f;
    json_array_foreach (findings, i, f)
    {
        char *reasons = json_dumps (json_object_get (f, "reasons"), 0);
        const char *table = json_string_value (json_object_get (f, "table"));
        const char *want = strcmp (table, "payment") == 0 ? "read through SELECT * on payment"
                           : strcmp (table, "audit") == 0 ? "view audit_summary"
                           : strcmp (table, "tag") == 0   ? "function public.tag_label mentions tag"
                                                          : "no recorded statement references it";
        if (!strstr (reasons, want)) {
            fail_msg ("%s.%s: reason '%s' missing from %s", table,
                      json_string_value (json_object_get (f, "column")), want, reasons);
        }
        free (reasons);
    }
    json_decref (doc);
    free (out);

    /* the text report: a header, then table.column  CONFIDENCE  reasons */
    rc = s_dead_columns (s_ci, "--min-window 0 --min-calls 10 2>/dev/null", &out);
    assert_int_equal (rc, 0);
    const char *lines[] = {"window ",
                           "0 evictions, 0 unparsable",
                           "account.legacy_code  HIGH  no recorded statement references it",
                           "payment.memo  LOW  read through SELECT * on payment: 20 calls",
                           "audit.detail  LOW  no statement touched audit at all",
                           "tag.color  MEDIUM  function public.tag_label mentions tag"};
    for (size_t k = 0; k < sizeof lines / sizeof lines[0]; k++) {
        if (!strstr (out, lines[k])) {
            fail_msg ("'%s' missing from the text report:\n%s", lines[k], out);
        }
    }
    free (out);

    /* default thresholds (7d window, 1000 calls): nothing is HIGH on a fresh window */
    rc = s_dead_columns (s_ci, "--json 2>/dev/null", &out);
    assert_int_equal (rc, 0);
    doc = wes_test_json (out, "dead-columns --json");
    findings = json_object_get (doc, "findings");
    assert_int_equal (json_array_size (findings), n_expected);
    json_array_foreach (findings, i, f)
    {
        assert_string_not_equal (json_string_value (json_object_get (f, "confidence")), "HIGH");
        char *reasons = json_dumps (json_object_get (f, "reasons"), 0);
        if (!strstr (reasons, "shorter than --min-window 7d")) {
            fail_msg ("window reason missing: %s", reasons);
        }
        free (reasons);
    }
    json_decref (doc);
    free (out);
}

static void
test_missing_extension_and_privilege (void **state)
{
    (void) state;
    assert_int_equal (wes_pgfix_createdb (s_pg, "noext"), 0);
    char *ci = wes_pgfix_conninfo (s_pg, "noext");
    char *out = NULL;
    assert_int_equal (s_dead_columns (ci, "", &out), 3);
    if (!strstr (out, "shared_preload_libraries") || !strstr (out, "CREATE EXTENSION")) {
        fail_msg ("no hint in:\n%s", out);
    }
    free (out);
    free (ci);
    /* a role that cannot read other users' statements */
    assert_int_equal (wes_pgfix_createdb (s_pg, "priv"), 0);
    assert_int_equal (wes_pgfix_exec (s_pg, "priv",
                                      "CREATE EXTENSION pg_stat_statements;"
                                      "CREATE ROLE peeker LOGIN;"),
                      0);
    char *base = wes_pgfix_conninfo (s_pg, "priv");
    char ci2[1024];
    snprintf (ci2, sizeof ci2, "%s user=peeker", base); /* a later keyword wins in libpq */
    free (base);
    assert_int_equal (s_dead_columns (ci2, "", &out), 3);
    if (!strstr (out, "pg_read_all_stats")) {
        fail_msg ("no privilege hint in:\n%s", out);
    }
    free (out);
    /* no database at all */
    assert_int_equal (s_dead_columns ("host=/nonexistent-dir port=1 dbname=x", "", &out), 3);
    wes_test_has (out, "cannot connect");
    free (out);
}

static void
test_usage (void **state)
{
    (void) state;
    char cmd[2048];
    char *out = NULL;
    snprintf (cmd, sizeof cmd, "'%s' dead-columns --help", WES_WESLEY_BIN);
    assert_int_equal (wes_test_run (cmd, &out), 0);
    const char *flags[] = {"--schema",        "--db ",       "--db-schema",
                           "default: public", "--json",      "--min-window",
                           "default: 7d",     "--min-calls", "default: 1000"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        if (!strstr (out, flags[i])) {
            fail_msg ("'%s' missing from --help:\n%s", flags[i], out);
        }
    }
    free (out);
    const char *bad[] = {"--min-window 7x", "--min-window -1", "--min-calls ten", "--min-calls -5",
                         "--bogus"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal (s_dead_columns ("dbname=x", bad[i], &out), 2);
        free (out);
    }
    snprintf (cmd, sizeof cmd, "'%s' dead-columns --schema '%s'", WES_WESLEY_BIN, s_sdl);
    wes_test_expect (cmd, 2, NULL);
    /* a schema that does not compile: exit 3 with file:line:col */
    char bad_sdl[1024];
    snprintf (bad_sdl, sizeof bad_sdl, "%s/bad.graphql", s_dir);
    assert_int_equal (wes_test_write_file (bad_sdl, "type X @wes_table {\n  id: Nope!\n}\n"), 0);
    snprintf (cmd, sizeof cmd, "'%s' dead-columns --schema '%s' --db dbname=x", WES_WESLEY_BIN,
              bad_sdl);
    wes_test_expect (cmd, 3, "bad.graphql:2:");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_findings_of_a_workload),
        cmocka_unit_test (test_missing_extension_and_privilege),
        cmocka_unit_test (test_usage),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
