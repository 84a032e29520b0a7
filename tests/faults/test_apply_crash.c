/*  test_apply_crash.c — `wesley apply` killed with SIGKILL inside a batched
    backfill and during CREATE INDEX CONCURRENTLY, then run again: the plan
    finishes, no step is applied twice, no backfill batch is lost or done
    twice, an INVALID index left by the dead CIC is dropped and rebuilt.
    Also: retry after lock_timeout, rollback, refusal of a plan that does not
    start where the database is, refusal of damaged plan files before
    anything runs. Real processes, one throwaway cluster. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pg/wes_introspect.h"
#include "plan/wes_exec.h"
#include "plan/wes_plan.h"
#include "wes_pgfix.h"
#include "wes_testassert.h"
#include "wes_testutil.h"

#define ROWS 60000

static wes_pgfix_t *s_pg;
static char *s_dir;

static int
s_group_setup (void **state)
{
    (void) state;
    return wes_pgfix_start_scratch ("wes-crash", &s_pg, &s_dir);
}

static int
s_group_teardown (void **state)
{
    (void) state;
    wes_pgfix_destroy_scratch (&s_pg, &s_dir);
    return 0;
}

/*  Fresh database `db` with big(id int primary key, v int) of ROWS rows. */
static void
s_make_db (const char *db)
{
    assert_int_equal (wes_pgfix_createdb (s_pg, db), 0);
    char sql[512];
    snprintf (sql, sizeof sql,
              "CREATE TABLE big (id integer PRIMARY KEY, v integer);"
              "INSERT INTO big SELECT g, g %% 1000 FROM generate_series(1, %d) g;",
              ROWS);
    assert_int_equal (wes_pgfix_exec (s_pg, db, sql), 0);
}

static char *
s_hash_of (const char *db)
{
    char *ci = wes_pgfix_conninfo (s_pg, db);
    char *err = NULL;
    wes_model_t *m = wes_introspect_conninfo (ci, NULL, &err);
    free (ci);
    if (!m) {
        fail_msg ("introspection of %s failed: %s", db, err);
    }
    char hash[65];
    wes_model_hash (m, hash);
    wes_model_destroy (&m);
    return strdup (hash);
}

/*  The plan used by the crash tests: add a column, backfill it in small
    throttled batches, constrain it, index it concurrently. */
static wes_plan_t *
s_plan (const char *from, const char *to, int batch_rows, int sleep_ms)
{
    wes_plan_t *p = wes_plan_new (from, to);
    wes_step_t *a = wes_plan_add_step (p, "add-column-big-w", WES_PHASE_EXPAND, WES_STEP_TX, "big",
                                       WES_LOCK_ACCESS_EXCLUSIVE);
    wes_plan_set (&a->sql, "ALTER TABLE \"big\" ADD COLUMN \"w\" bigint;");
    wes_plan_set (&a->inverse, "ALTER TABLE \"big\" DROP COLUMN \"w\";");
    wes_step_t *b = wes_plan_add_step (p, "backfill-big-w", WES_PHASE_BACKFILL, WES_STEP_BATCHED,
                                       "big", WES_LOCK_ROW_EXCLUSIVE);
    wes_plan_set (&b->sql, "-- backfill big.w from big.v");
    wes_plan_set (&b->inverse, "UPDATE \"big\" SET \"w\" = NULL;");
    wes_step_add_key (b, "id", "integer");
    wes_plan_set (&b->batch_set, "\"w\" = \"v\"::bigint");
    wes_plan_set (&b->batch_where, "\"w\" IS DISTINCT FROM \"v\"::bigint");
    b->batch_rows = batch_rows;
    b->batch_sleep_ms = sleep_ms;
    wes_step_add_dep (b, a->id);
    wes_step_t *c = wes_plan_add_step (p, "index-big-w", WES_PHASE_VALIDATE, WES_STEP_NONTX, "big",
                                       WES_LOCK_SHARE_UPDATE_EXCLUSIVE);
    wes_plan_set (&c->sql, "CREATE INDEX CONCURRENTLY IF NOT EXISTS \"big_w_idx\" ON \"big\" "
                           "(\"w\");");
    wes_plan_set (&c->inverse, "DROP INDEX CONCURRENTLY IF EXISTS \"big_w_idx\";");
    wes_plan_set (&c->verify_index, "big_w_idx");
    wes_step_add_dep (c, b->id);
    wes_step_t *d = wes_plan_add_step (p, "check-big-w", WES_PHASE_VALIDATE, WES_STEP_TX, "big",
                                       WES_LOCK_ACCESS_EXCLUSIVE);
    wes_plan_set (&d->sql, "ALTER TABLE \"big\" ADD CONSTRAINT \"big_w_check\" CHECK (\"w\" >= 0) "
                           "NOT VALID;\nALTER TABLE \"big\" VALIDATE CONSTRAINT \"big_w_check\";");
    wes_plan_set (&d->inverse, "ALTER TABLE \"big\" DROP CONSTRAINT \"big_w_check\";");
    wes_step_add_dep (d, c->id);
    return p;
}

/*  The target hash of s_plan, found by applying it to a reference database. */
static char *
s_target_hash (void)
{
    static char *cached;
    if (cached) {
        return strdup (cached);
    }
    s_make_db ("ref");
    char *from = s_hash_of ("ref");
    wes_plan_t *p = s_plan (from, "unknown", 20000, 0);
    char *ci = wes_pgfix_conninfo (s_pg, "ref");
    char *err = NULL;
    wes_exec_opts_t opts = {.psql_bin = wes_pgfix_psql_path (s_pg)};
    wes_exec_t *x = wes_exec_new (ci, &opts, &err);
    assert_non_null (x);
    assert_int_equal (wes_exec_apply (x, p, &err), WES_EXEC_MISMATCH);
    free (err);
    wes_exec_destroy (&x);
    wes_plan_destroy (&p);
    free (ci);
    free (from);
    cached = s_hash_of ("ref");
    return strdup (cached);
}

static char *
s_save_plan (wes_plan_t *p, const char *name)
{
    char *path = malloc (strlen (s_dir) + strlen (name) + 2);
    sprintf (path, "%s/%s", s_dir, name);
    char *err = NULL;
    assert_int_equal (wes_plan_save (p, path, &err), 0);
    return path;
}

static int
s_spawn_apply (const char *plan_path, const char *db, const char *log)
{
    char *ci = wes_pgfix_conninfo (s_pg, db);
    char *argv[] = {WES_WESLEY_BIN, "apply", "--plan", (char *) plan_path, "--db", ci, "--psql",
                    (char *) wes_pgfix_psql_path (s_pg), NULL};
    int pid = wes_test_spawn (argv, log);
    free (ci);
    assert_true (pid > 0);
    return pid;
}

static long
s_value_long (const char *db, const char *sql)
{
    char *v = wes_pgfix_query_value (s_pg, db, sql);
    long x = v ? atol (v) : -1;
    free (v);
    return x;
}

static void
s_check_finished (const char *db, const char *plan_hash)
{
    char sql[512];
    assert_int_equal (s_value_long (db, "SELECT count(*) FROM big WHERE w = v"), ROWS);
    snprintf (sql, sizeof sql,
              "SELECT count(*) FROM wesley.applied_steps WHERE plan_hash = '%s'", plan_hash);
    assert_int_equal (s_value_long (db, sql), 4);
    snprintf (sql, sizeof sql,
              "SELECT count(DISTINCT step_id) FROM wesley.applied_steps WHERE plan_hash = '%s'",
              plan_hash);
    assert_int_equal (s_value_long (db, sql), 4);
    /* rows_done counts rows changed: equal to ROWS means none lost, none twice */
    snprintf (sql, sizeof sql,
              "SELECT rows_done FROM wesley.backfill_progress WHERE plan_hash = '%s'", plan_hash);
    assert_int_equal (s_value_long (db, sql), ROWS);
    assert_int_equal (s_value_long (db, "SELECT count(*) FROM pg_index x JOIN pg_class i ON "
                                         "i.oid = x.indexrelid WHERE i.relname = 'big_w_idx' AND "
                                         "x.indisvalid"),
                      1);
}

static void
test_sigkill_inside_backfill_then_resume (void **state)
{
    (void) state;
    s_make_db ("bf");
    char *from = s_hash_of ("bf");
    char *to = s_target_hash ();
    wes_plan_t *p = s_plan (from, to, 500, 15); /* ~120 batches, ~2 s */
    char *path = s_save_plan (p, "bf.json");
    char hash[65];
    snprintf (hash, sizeof hash, "%s", wes_plan_hash (p));
    char log[512];
    snprintf (log, sizeof log, "%s/bf.log", s_dir);

    int pid = s_spawn_apply (path, "bf", log);
    /* wait until the backfill is part-way, then kill wesley and its psql */
    char sql[512];
    snprintf (sql, sizeof sql,
              "SELECT coalesce((SELECT rows_done FROM wesley.backfill_progress WHERE plan_hash "
              "= '%s'), 0)",
              hash);
    int64_t deadline = wes_test_now_ms () + 30000;
    while (wes_test_now_ms () < deadline
           && s_value_long ("bf", "SELECT count(*) FROM pg_class WHERE relname = "
                                  "'backfill_progress'")
                  < 1) {
        usleep (10000);
    }
    long done = 0;
    while (wes_test_now_ms () < deadline) {
        done = s_value_long ("bf", sql);
        if (done >= 5000) {
            break;
        }
        usleep (20000);
    }
    kill (-pid, SIGKILL);
    assert_int_equal (wes_test_wait (pid, 10000), 128 + SIGKILL);
    long at_kill = s_value_long ("bf", sql);
    assert_true (at_kill >= 5000);
    assert_true (at_kill < ROWS); /* really killed inside the backfill */
    snprintf (sql, sizeof sql,
              "SELECT count(*) FROM wesley.applied_steps WHERE plan_hash = '%s'", hash);
    assert_int_equal (s_value_long ("bf", sql), 1); /* only the ADD COLUMN */

    /* run again: it resumes from the high-water mark and finishes */
    pid = s_spawn_apply (path, "bf", log);
    int rc = wes_test_wait (pid, 120000);
    if (rc != 0) {
        char *out = wes_test_read_file (log, NULL);
        fail_msg ("second apply exited %d:\n%s", rc, out ? out : "");
    }
    s_check_finished ("bf", hash);
    /* and a third run applies nothing */
    pid = s_spawn_apply (path, "bf", log);
    assert_int_equal (wes_test_wait (pid, 60000), 0);
    char *out = wes_test_read_file (log, NULL);
    wes_test_has (out, "0 steps applied, 4 already applied");
    free (out);
    s_check_finished ("bf", hash);
    wes_plan_destroy (&p);
    free (path);
    free (from);
    free (to);
}

static void
test_sigkill_during_cic_then_resume (void **state)
{
    (void) state;
    s_make_db ("cic");
    char *from = s_hash_of ("cic");
    char *to = s_target_hash ();
    wes_plan_t *p = s_plan (from, to, 20000, 0);
    char *path = s_save_plan (p, "cic.json");
    char hash[65];
    snprintf (hash, sizeof hash, "%s", wes_plan_hash (p));
    char log[512];
    snprintf (log, sizeof log, "%s/cic.log", s_dir);

    /* an old transaction makes CREATE INDEX CONCURRENTLY wait for it */
    PGconn *old = wes_pgfix_connect (s_pg, "cic");
    assert_non_null (old);
    PQclear (wes_pgfix_query (old, "BEGIN ISOLATION LEVEL REPEATABLE READ"));
    PQclear (wes_pgfix_query (old, "SELECT count(*) FROM pg_class"));
    PQclear (wes_pgfix_query (old, "SELECT txid_current()"));

    int pid = s_spawn_apply (path, "cic", log);
    const char *waiting = "SELECT pid FROM pg_stat_activity WHERE query LIKE "
                          "'%CREATE INDEX CONCURRENTLY%' AND pid <> pg_backend_pid() "
                          "AND state = 'active'";
    int64_t deadline = wes_test_now_ms () + 30000;
    long cic_pid = -1;
    while (wes_test_now_ms () < deadline && cic_pid <= 0) {
        cic_pid = s_value_long ("cic", waiting);
        usleep (20000);
    }
    assert_true (cic_pid > 0);
    /* the machine dies: wesley, its psql, and the server-side session */
    kill (-pid, SIGKILL);
    assert_int_equal (wes_test_wait (pid, 10000), 128 + SIGKILL);
    char sql[256];
    snprintf (sql, sizeof sql, "SELECT pg_terminate_backend(%ld)", cic_pid);
    char *ok = wes_pgfix_query_value (s_pg, "cic", sql);
    free (ok);
    PQclear (wes_pgfix_query (old, "COMMIT"));
    PQfinish (old);
    /* the dead CIC left an INVALID index behind */
    deadline = wes_test_now_ms () + 10000;
    long invalid = 0;
    while (wes_test_now_ms () < deadline && invalid != 1) {
        invalid = s_value_long ("cic", "SELECT count(*) FROM pg_index x JOIN pg_class i ON "
                                       "i.oid = x.indexrelid WHERE i.relname = 'big_w_idx' AND "
                                       "NOT x.indisvalid");
        usleep (20000);
    }
    assert_int_equal (invalid, 1);

    pid = s_spawn_apply (path, "cic", log);
    int rc = wes_test_wait (pid, 120000);
    if (rc != 0) {
        char *out = wes_test_read_file (log, NULL);
        fail_msg ("second apply exited %d:\n%s", rc, out ? out : "");
    }
    s_check_finished ("cic", hash);
    wes_plan_destroy (&p);
    free (path);
    free (from);
    free (to);
}

static void
test_lock_timeout_retries_then_succeeds (void **state)
{
    (void) state;
    s_make_db ("lk");
    char *from = s_hash_of ("lk");
    char *to = s_target_hash ();
    wes_plan_t *p = s_plan (from, to, 20000, 0);
    wes_plan_step (p, 0)->lock_timeout_ms = 100;
    wes_plan_step (p, 0)->base_delay_ms = 50;
    wes_plan_step (p, 0)->max_delay_ms = 200;
    wes_plan_step (p, 0)->max_attempts = 100;
    char *path = s_save_plan (p, "lk.json");
    char log[512];
    snprintf (log, sizeof log, "%s/lk.log", s_dir);
    PGconn *reader = wes_pgfix_connect (s_pg, "lk");
    PQclear (wes_pgfix_query (reader, "BEGIN"));
    PQclear (wes_pgfix_query (reader, "SELECT count(*) FROM big"));
    int pid = s_spawn_apply (path, "lk", log);
    /* while the reader holds its lock, the ALTER times out and retries */
    int64_t deadline = wes_test_now_ms () + 20000;
    bool retried = false;
    while (wes_test_now_ms () < deadline && !retried) {
        char *out = wes_test_read_file (log, NULL);
        retried = out && strstr (out, "55P03");
        free (out);
        usleep (20000);
    }
    assert_true (retried);
    PQclear (wes_pgfix_query (reader, "COMMIT"));
    PQfinish (reader);
    assert_int_equal (wes_test_wait (pid, 60000), 0);
    char *out = wes_test_read_file (log, NULL);
    wes_test_has (out, "4 steps applied");
    free (out);
    assert_int_equal (s_value_long ("lk", "SELECT count(*) FROM big WHERE w = v"), ROWS);
    wes_plan_destroy (&p);
    free (path);
    free (from);
    free (to);
}

static void
test_rollback_and_refusals (void **state)
{
    (void) state;
    s_make_db ("rb");
    char *from = s_hash_of ("rb");
    char *to = s_target_hash ();
    wes_plan_t *p = s_plan (from, to, 20000, 0);
    char *path = s_save_plan (p, "rb.json");
    char log[512];
    snprintf (log, sizeof log, "%s/rb.log", s_dir);
    char *ci = wes_pgfix_conninfo (s_pg, "rb");
    char cmd[2048];

    /* a damaged plan is refused before anything runs */
    char bad[512];
    snprintf (bad, sizeof bad, "%s/bad.json", s_dir);
    char *text = wes_test_read_file (path, NULL);
    text[strlen (text) / 3] = '\0';
    assert_int_equal (wes_test_write_file (bad, text), 0);
    free (text);
    snprintf (cmd, sizeof cmd, "'%s' apply --plan '%s' --db '%s'", WES_WESLEY_BIN, bad, ci);
    wes_test_expect (cmd, 2, "truncated or not JSON");
    assert_int_equal (s_value_long ("rb", "SELECT count(*) FROM pg_namespace WHERE nspname = "
                                          "'wesley'"),
                      0);

    /* a plan from another starting point is refused, nothing runs */
    wes_plan_t *wrong = s_plan ("0000", to, 20000, 0);
    char *wrong_path = s_save_plan (wrong, "wrong.json");
    snprintf (cmd, sizeof cmd, "'%s' apply --plan '%s' --db '%s'", WES_WESLEY_BIN, wrong_path, ci);
    wes_test_expect (cmd, 3, "not at the plan's starting schema");
    assert_int_equal (s_value_long ("rb", "SELECT count(*) FROM information_schema.columns WHERE "
                                          "table_name = 'big' AND column_name = 'w'"),
                      0);

    /* apply, then roll back everything: the database is back at `from` */
    snprintf (cmd, sizeof cmd, "'%s' apply --plan '%s' --db '%s'", WES_WESLEY_BIN, path, ci);
    wes_test_expect (cmd, 0, NULL);
    snprintf (cmd, sizeof cmd, "'%s' apply --rollback --plan '%s' --db '%s'", WES_WESLEY_BIN,
              path, ci);
    wes_test_expect (cmd, 0, "4 steps undone");
    char *back = s_hash_of ("rb");
    assert_string_equal (back, from);
    free (back);
    wes_test_expect (cmd, 0, "0 steps undone"); /* nothing left to undo */

    /* once a contract step has run, rollback is refused and changes nothing */
    wes_plan_t *c = s_plan (from, to, 20000, 0);
    wes_plan_step (c, 3)->phase = WES_PHASE_CONTRACT;
    char *cpath = s_save_plan (c, "contract.json");
    snprintf (cmd, sizeof cmd, "'%s' apply --plan '%s' --db '%s'", WES_WESLEY_BIN, cpath, ci);
    wes_test_expect (cmd, 0, NULL);
    snprintf (cmd, sizeof cmd, "'%s' apply --rollback --plan '%s' --db '%s'", WES_WESLEY_BIN,
              cpath, ci);
    wes_test_expect (cmd, 3, "contract step");
    assert_int_equal (s_value_long ("rb", "SELECT count(*) FROM big WHERE w = v"), ROWS);

    wes_plan_destroy (&c);
    free (cpath);
    wes_plan_destroy (&wrong);
    free (wrong_path);
    wes_plan_destroy (&p);
    free (path);
    free (ci);
    free (from);
    free (to);
}

/*  An application query arriving while a step waits for its ACCESS
    EXCLUSIVE lock queues behind the step, but never for longer than the
    step's lock_timeout: it completes while the long reader that blocks the
    step is still open. */
static void
test_app_queries_never_wait_past_lock_timeout (void **state)
{
    (void) state;
    s_make_db ("queue");
    char *from = s_hash_of ("queue");
    char *to = s_target_hash ();
    wes_plan_t *p = s_plan (from, to, 20000, 0);
    wes_plan_step (p, 0)->lock_timeout_ms = 300;
    wes_plan_step (p, 0)->base_delay_ms = 200;
    wes_plan_step (p, 0)->max_delay_ms = 400;
    wes_plan_step (p, 0)->max_attempts = 200;
    char *path = s_save_plan (p, "queue.json");
    char log[512];
    snprintf (log, sizeof log, "%s/queue.log", s_dir);
    PGconn *reader = wes_pgfix_connect (s_pg, "queue");
    PQclear (wes_pgfix_query (reader, "BEGIN"));
    PQclear (wes_pgfix_query (reader, "SELECT count(*) FROM big"));
    int pid = s_spawn_apply (path, "queue", log);
    /* wait until the step's ACCESS EXCLUSIVE request is queued */
    int64_t deadline = wes_test_now_ms () + 20000;
    long waiting = 0;
    while (wes_test_now_ms () < deadline && waiting < 1) {
        waiting = s_value_long ("queue", "SELECT count(*) FROM pg_locks WHERE relation = "
                                         "'big'::regclass AND mode = 'AccessExclusiveLock' AND "
                                         "NOT granted");
        usleep (5000);
    }
    assert_int_equal (waiting, 1);
    /* the application: statement_timeout only so that a regression fails
       instead of hanging */
    PGconn *app = wes_pgfix_connect (s_pg, "queue");
    PQclear (wes_pgfix_query (app, "SET statement_timeout = '20s'"));
    for (int i = 0; i < 5; i++) {
        PGresult *r = wes_pgfix_query (app, "SELECT count(*) FROM big");
        assert_non_null (r); /* it ran: the step gave up its place in the queue */
        PQclear (r);
    }
    /* the reader is still open all this time */
    assert_int_equal (PQtransactionStatus (reader), PQTRANS_INTRANS);
    PQfinish (app);
    PQclear (wes_pgfix_query (reader, "COMMIT"));
    PQfinish (reader);
    assert_int_equal (wes_test_wait (pid, 60000), 0);
    wes_plan_destroy (&p);
    free (path);
    free (from);
    free (to);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_sigkill_inside_backfill_then_resume),
        cmocka_unit_test (test_sigkill_during_cic_then_resume),
        cmocka_unit_test (test_lock_timeout_retries_then_succeeds),
        cmocka_unit_test (test_app_queries_never_wait_past_lock_timeout),
        cmocka_unit_test (test_rollback_and_refusals),
    };
    return cmocka_run_group_tests (tests, s_group_setup, s_group_teardown);
}
