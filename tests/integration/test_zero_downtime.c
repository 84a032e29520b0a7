/*  test_zero_downtime.c — issue 3's proof: while pgbench clients keep
    writing to the tables being changed, a plan with an index, a unique
    constraint, a foreign key, a NOT NULL, a rewriting type change and a
    rename runs to the end. The old application version runs during expand,
    backfill and validate; the new one during contract (the rename's old
    column goes away there). No client transaction fails, no row is lost
    or changed, and drift afterwards is empty. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wes_pgfix.h"
#include "wes_testutil.h"

#define ACCOUNTS 20000

static const char *s_v1
    = "type Account @wes_table {\n"
      "  id: Int! @wes_pk\n"
      "  email: String\n"
      "  balance: Int! @wes_default(value: 0)\n"
      "  nick: String\n"
      "  legacyRef: Int\n"
      "}\n"
      "type Transfer @wes_table {\n"
      "  id: BigInt! @wes_pk\n"
      "  accountId: Int!\n"
      "  amount: Int!\n"
      "}\n";

static const char *s_v2
    = "type Account @wes_table {\n"
      "  id: Int! @wes_pk\n"
      "  email: String! @wes_index\n"
      "  balance: BigInt! @wes_default(value: 0)\n"
      "  nick: String @wes_unique\n"
      "  reference: Int @wes_renamedFrom(name: \"legacy_ref\")\n"
      "}\n"
      "type Transfer @wes_table {\n"
      "  id: BigInt! @wes_pk\n"
      "  accountId: Int! @wes_fk(ref: \"Account.id\")\n"
      "  amount: Int!\n"
      "}\n";

/*  The application, before and after the rename. */
static const char *s_old_app = "\\set aid random(1, 20000)\n"
                               "BEGIN;\n"
                               "UPDATE account SET balance = balance + 1, legacy_ref = "
                               "coalesce(legacy_ref, 0) WHERE id = :aid;\n"
                               "INSERT INTO transfer (id, account_id, amount) VALUES "
                               "(nextval('transfer_seq'), :aid, 1);\n"
                               "END;\n";
static const char *s_new_app = "\\set aid random(1, 20000)\n"
                               "BEGIN;\n"
                               "UPDATE account SET balance = balance + 1, reference = "
                               "coalesce(reference, 0) WHERE id = :aid;\n"
                               "INSERT INTO transfer (id, account_id, amount) VALUES "
                               "(nextval('transfer_seq'), :aid, 1);\n"
                               "END;\n";

static wes_pgfix_t *s_pg;
static char *s_dir;

static int
s_setup (void **state)
{
    (void) state;
    return wes_pgfix_start_scratch ("wes-zd", &s_pg, &s_dir);
}

static int
s_teardown (void **state)
{
    (void) state;
    wes_pgfix_destroy_scratch (&s_pg, &s_dir);
    return 0;
}

static int
s_pgbench_spawn (const char *script, int clients, int seconds, const char *log)
{
    char *ci_dir = (char *) wes_pgfix_dir (s_pg);
    char port[16], c[16], t[16], bin[1024];
    snprintf (port, sizeof port, "%d", wes_pgfix_port (s_pg));
    snprintf (c, sizeof c, "%d", clients);
    snprintf (t, sizeof t, "%d", seconds);
    snprintf (bin, sizeof bin, "%s/pgbench", wes_pgfix_bindir (s_pg));
    char *argv[] = {bin, "--verbose-errors", "--failures-detailed", "-n", "-h", ci_dir, "-p", port, "-U", "postgres", "-c", c,
                    "-j", "2",  "-T", t,      "-f", (char *) script, "zd", NULL};
    int pid = wes_test_spawn (argv, log);
    assert_true (pid > 0);
    return pid;
}

/*  Transactions pgbench says it processed, after checking none failed. */
static long
s_pgbench_result (int pid, const char *log)
{
    int rc = wes_test_wait (pid, 120000);
    char *out = wes_test_read_file (log, NULL);
    if (rc != 0 || !out || strstr (out, "aborted") || !strstr (out, "processed: ")) {
        fail_msg ("pgbench exited %d:\n%s", rc, out ? out : "(no output)");
    }
    const char *failed = strstr (out, "number of failed transactions: ");
    if (failed && atol (failed + strlen ("number of failed transactions: ")) != 0) {
        fail_msg ("client transactions failed:\n%s", out);
    }
    long n = atol (strstr (out, "processed: ") + strlen ("processed: "));
    free (out);
    return n;
}

static long
s_value (const char *sql)
{
    char *v = wes_pgfix_query_value (s_pg, "zd", sql);
    long x = v ? atol (v) : -1;
    free (v);
    return x;
}

static void
test_busy_tables_change_without_downtime (void **state)
{
    (void) state;
    char *v1 = wes_test_path (s_dir, "v1.graphql"), *v2 = wes_test_path (s_dir, "v2.graphql");
    char *plan = wes_test_path (s_dir, "plan.json"), *plan_sql = wes_test_path (s_dir, "plan.sql");
    char *old_app = wes_test_path (s_dir, "old.sql"), *new_app = wes_test_path (s_dir, "new.sql");
    char *bench_log = wes_test_path (s_dir, "pgbench.log"),
         *apply_log = wes_test_path (s_dir, "apply.log");
    assert_int_equal (wes_test_write_file (v1, s_v1), 0);
    assert_int_equal (wes_test_write_file (v2, s_v2), 0);
    assert_int_equal (wes_test_write_file (old_app, s_old_app), 0);
    assert_int_equal (wes_test_write_file (new_app, s_new_app), 0);
    assert_int_equal (wes_pgfix_createdb (s_pg, "zd"), 0);
    char *ci = wes_pgfix_conninfo (s_pg, "zd");
    char cmd[4096];
    char *out = NULL;

    /* v1, with data, through Wesley itself */
    if (wes_test_apply_schema (v1, ci) != 0) {
        fail_msg ("bootstrap failed (output above)");
    }
    char fill[512];
    snprintf (fill, sizeof fill,
              "CREATE SEQUENCE transfer_seq;"
              "INSERT INTO account (id, email, balance, nick, legacy_ref) "
              "SELECT g, 'u' || g || '@x.org', 0, 'n' || g, g FROM generate_series(1, %d) g",
              ACCOUNTS);
    assert_int_equal (wes_pgfix_exec (s_pg, "zd", fill), 0);

    snprintf (cmd, sizeof cmd, "'%s' plan --from-db '%s' --to '%s' -o '%s' --sql '%s' "
                               "--batch-rows 2000",
              WES_WESLEY_BIN, ci, v2, plan, plan_sql);
    if (wes_test_run (cmd, &out) != 0) {
        fail_msg ("plan failed:\n%s", out);
    }
    free (out);

    /* the old application writes while expand, backfill and validate run */
    int bench = s_pgbench_spawn (old_app, 4, 12, bench_log);
    usleep (500 * 1000);
    snprintf (cmd, sizeof cmd, "'%s' apply --plan '%s' --db '%s' --through validate",
              WES_WESLEY_BIN, plan, ci);
    if (wes_test_run (cmd, &out) != 0) {
        kill (-bench, SIGKILL);
        fail_msg ("apply through validate failed:\n%s", out);
    }
    free (out);
    long old_tx = s_pgbench_result (bench, bench_log);
    assert_true (old_tx > 100);

    /* the new application is deployed; contract runs under its writes */
    free (bench_log);
    bench_log = wes_test_path (s_dir, "pgbench-new.log");
    bench = s_pgbench_spawn (new_app, 4, 6, bench_log);
    usleep (500 * 1000);
    snprintf (cmd, sizeof cmd, "'%s' apply --plan '%s' --db '%s'", WES_WESLEY_BIN, plan, ci);
    if (wes_test_run (cmd, &out) != 0) {
        kill (-bench, SIGKILL);
        fail_msg ("apply of contract failed:\n%s", out);
    }
    free (out);
    long new_tx = s_pgbench_result (bench, bench_log);
    assert_true (new_tx > 100);

    /* nothing lost, nothing changed: every committed transfer is there and
       every balance increment landed */
    assert_int_equal (s_value ("SELECT count(*) FROM account"), ACCOUNTS);
    assert_int_equal (s_value ("SELECT count(*) FROM transfer"), old_tx + new_tx);
    assert_int_equal (s_value ("SELECT sum(balance) FROM account"), old_tx + new_tx);
    assert_int_equal (s_value ("SELECT count(*) FROM account WHERE email = 'u' || id || '@x.org' "
                               "AND nick = 'n' || id"),
                      ACCOUNTS);
    /* the renamed column kept its values (0 where the app wrote it) */
    assert_int_equal (s_value ("SELECT count(*) FROM account WHERE reference = id OR reference = 0"),
                      ACCOUNTS);
    /* and the database is exactly v2 */
    snprintf (cmd, sizeof cmd, "'%s' drift --schema '%s' --db '%s'", WES_WESLEY_BIN, v2, ci);
    if (wes_test_run (cmd, &out) != 0) {
        fail_msg ("drift after the roll-out:\n%s", out);
    }
    free (out);
    assert_int_equal (s_value ("SELECT count(*) - count(DISTINCT step_id) FROM "
                               "wesley.applied_steps"),
                      0);
    free (ci);
    free (v1);
    free (v2);
    free (plan);
    free (plan_sql);
    free (old_app);
    free (new_app);
    free (bench_log);
    free (apply_log);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_busy_tables_change_without_downtime),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
