/*  test_psql.c — the psql session runner against a real PostgreSQL:
    batches, session reuse, SQLSTATE capture and classification, lock
    timeouts, a psql that hangs, a server that goes away, and secrets kept
    out of the child's argv. One throwaway cluster for the whole program. */
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

#include "pg/wes_psql.h"
#include "wes_pgfix.h"
#include "wes_testassert.h"
#include "wes_testutil.h"

static wes_pgfix_t *s_pg;

static int
s_group_setup (void **state)
{
    (void) state;
    signal (SIGPIPE, SIG_IGN);
    s_pg = wes_pgfix_start ();
    if (!s_pg) {
        return -1;
    }
    if (wes_pgfix_createdb (s_pg, "psqltest") != 0) {
        return -1;
    }
    return 0;
}

static int
s_group_teardown (void **state)
{
    (void) state;
    wes_pgfix_destroy (&s_pg);
    return 0;
}

static wes_psql_t *
s_session (void)
{
    char *ci = wes_pgfix_conninfo (s_pg, "psqltest");
    char *err = NULL;
    wes_psql_t *p = wes_psql_new (wes_pgfix_psql_path (s_pg), ci, &err);
    free (ci);
    assert_non_null (p);
    return p;
}

static void
test_batches_reuse_one_session (void **state)
{
    (void) state;
    wes_psql_t *p = s_session ();
    assert_int_equal (wes_psql_run (p, "a1", "CREATE TABLE t1 (x int);", 10000), WES_PSQL_OK);
    pid_t pid = wes_psql_pid (p);
    assert_true (pid > 0);
    for (int i = 0; i < 20; i++) {
        char id[16];
        snprintf (id, sizeof id, "b%d", i);
        assert_int_equal (wes_psql_run (p, id, "BEGIN; INSERT INTO t1 VALUES (1); COMMIT;", 10000),
                          WES_PSQL_OK);
        assert_int_equal (wes_psql_pid (p), pid); /* same psql, no respawn */
    }
    char *n = wes_pgfix_query_value (s_pg, "psqltest", "SELECT count(*) FROM t1");
    assert_string_equal (n, "20");
    free (n);
    /* query output is captured, the marker is not */
    assert_int_equal (wes_psql_run (p, "c1", "SELECT 'hello-' || 42;", 10000), WES_PSQL_OK);
    assert_non_null (strstr (wes_psql_stdout (p), "hello-42"));
    assert_null (strstr (wes_psql_stdout (p), "__wesley_done__"));
    wes_psql_destroy (&p);
    assert_null (p);
}

static void
test_error_captures_sqlstate_and_respawns (void **state)
{
    (void) state;
    wes_psql_t *p = s_session ();
    assert_int_equal (wes_psql_run (p, "e1", "SELECT 1; SELECT * FROM no_such_table;", 10000),
                      WES_PSQL_FAILED);
    assert_string_equal (wes_psql_sqlstate (p), "42P01");
    assert_non_null (strstr (wes_psql_message (p), "no_such_table"));
    assert_false (wes_psql_retryable (p));
    assert_int_equal (wes_psql_pid (p), 0); /* ON_ERROR_STOP ended that psql */
    /* a failed transaction leaves nothing behind, and the next batch works */
    assert_int_equal (
        wes_psql_run (p, "e2", "BEGIN; CREATE TABLE t2 (x int); SELECT 1/0; COMMIT;", 10000),
        WES_PSQL_FAILED);
    assert_string_equal (wes_psql_sqlstate (p), "22012");
    char *exists = wes_pgfix_query_value (s_pg, "psqltest", "SELECT to_regclass('t2') IS NULL");
    assert_string_equal (exists, "t");
    free (exists);
    assert_int_equal (wes_psql_run (p, "e3", "SELECT 1;", 10000), WES_PSQL_OK);
    wes_psql_destroy (&p);
}

static void
test_lock_timeout_is_retryable (void **state)
{
    (void) state;
    assert_int_equal (wes_pgfix_exec (s_pg, "psqltest", "CREATE TABLE locked (x int)"), 0);
    /* another session holds a lock on the table */
    PGconn *holder = wes_pgfix_connect (s_pg, "psqltest");
    assert_non_null (holder);
    PQclear (wes_pgfix_query (holder, "BEGIN"));
    PQclear (wes_pgfix_query (holder, "LOCK TABLE locked IN ACCESS SHARE MODE"));
    wes_psql_t *p = s_session ();
    wes_psql_status_t st = wes_psql_run (
        p, "l1", "BEGIN; SET LOCAL lock_timeout = '200ms'; ALTER TABLE locked ADD COLUMN y int; "
                 "COMMIT;",
        10000);
    assert_int_equal (st, WES_PSQL_FAILED);
    assert_string_equal (wes_psql_sqlstate (p), "55P03");
    assert_true (wes_psql_retryable (p));
    PQclear (wes_pgfix_query (holder, "COMMIT"));
    PQfinish (holder);
    /* once the lock is gone the retry succeeds */
    st = wes_psql_run (p, "l2",
                       "BEGIN; SET LOCAL lock_timeout = '200ms'; ALTER TABLE locked ADD COLUMN y "
                       "int; COMMIT;",
                       10000);
    assert_int_equal (st, WES_PSQL_OK);
    wes_psql_destroy (&p);
}

static void
test_hang_is_killed_at_deadline (void **state)
{
    (void) state;
    wes_psql_t *p = s_session ();
    assert_int_equal (wes_psql_run (p, "h1", "SELECT pg_sleep(30);", 300), WES_PSQL_FAILED);
    assert_string_equal (wes_psql_message (p), "timeout");
    assert_int_equal (wes_psql_pid (p), 0);
    assert_true (wes_psql_retryable (p));
    wes_psql_destroy (&p);
}

static void
test_unreachable_server_is_retryable (void **state)
{
    (void) state;
    char *err = NULL;
    wes_psql_t *p = wes_psql_new (wes_pgfix_psql_path (s_pg),
                                  "host=/nonexistent-wesley-socket port=1 user=postgres", &err);
    assert_non_null (p);
    assert_int_equal (wes_psql_run (p, "u1", "SELECT 1;", 10000), WES_PSQL_FAILED);
    assert_true (wes_psql_connection_lost (p));
    assert_true (wes_psql_retryable (p));
    wes_psql_destroy (&p);
}

static void
test_bad_input_refused (void **state)
{
    (void) state;
    char *err = NULL;
    assert_null (wes_psql_new (NULL, "host=== nonsense", &err));
    assert_non_null (err);
    free (err);
    wes_psql_t *p = s_session ();
    assert_int_equal (wes_psql_begin (p, "", "SELECT 1;"), -1);
    assert_int_equal (wes_psql_begin (p, "bad id with spaces", "SELECT 1;"), -1);
    assert_int_equal (wes_psql_begin (p, "ok-1", "SELECT pg_sleep(0.2);"), 0);
    assert_int_equal (wes_psql_begin (p, "ok-2", "SELECT 1;"), -1); /* one batch at a time */
    while (wes_psql_step (p) == WES_PSQL_RUNNING) {
        struct pollfd fds[3];
        poll (fds, wes_psql_pollfds (p, fds, 3), 50);
    }
    assert_int_equal (wes_psql_step (p), WES_PSQL_OK);
    wes_psql_destroy (&p);
}

static void
test_password_not_in_argv (void **state)
{
    (void) state;
    char *ci = wes_pgfix_conninfo (s_pg, "psqltest");
    char conninfo[1024];
    snprintf (conninfo, sizeof conninfo, "%s password=s3cr3t-wesley", ci);
    free (ci);
    char *err = NULL;
    wes_psql_t *p = wes_psql_new (wes_pgfix_psql_path (s_pg), conninfo, &err);
    assert_non_null (p);
    assert_int_equal (wes_psql_begin (p, "pw1", "SELECT pg_sleep(0.3);"), 0);
    char path[64];
    snprintf (path, sizeof path, "/proc/%d/cmdline", (int) wes_psql_pid (p));
    /* right after posix_spawn the child may not have exec'd psql yet */
    char *cmdline = NULL;
    for (int tries = 0; tries < 200; tries++) {
        size_t len = 0;
        free (cmdline);
        cmdline = wes_test_read_file (path, &len);
        assert_non_null (cmdline);
        for (size_t i = 0; i < len; i++) {
            if (cmdline[i] == '\0') {
                cmdline[i] = ' ';
            }
        }
        if (strstr (cmdline, "ON_ERROR_STOP=1")) {
            break;
        }
        usleep (5000);
    }
    assert_null (strstr (cmdline, "s3cr3t"));
    wes_test_has (cmdline, "ON_ERROR_STOP=1");
    free (cmdline);
    while (wes_psql_step (p) == WES_PSQL_RUNNING) {
        struct pollfd fds[3];
        poll (fds, wes_psql_pollfds (p, fds, 3), 50);
    }
    wes_psql_destroy (&p);
}

static void
test_retryable_classification (void **state)
{
    (void) state;
    assert_true (wes_psql_sqlstate_retryable ("55P03"));
    assert_true (wes_psql_sqlstate_retryable ("40P01"));
    assert_true (wes_psql_sqlstate_retryable ("40001"));
    assert_true (wes_psql_sqlstate_retryable ("08006"));
    assert_true (wes_psql_sqlstate_retryable ("57P01"));
    assert_false (wes_psql_sqlstate_retryable ("42P01"));
    assert_false (wes_psql_sqlstate_retryable ("23505"));
    assert_false (wes_psql_sqlstate_retryable (""));
    assert_false (wes_psql_sqlstate_retryable (NULL));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_batches_reuse_one_session),
        cmocka_unit_test (test_error_captures_sqlstate_and_respawns),
        cmocka_unit_test (test_lock_timeout_is_retryable),
        cmocka_unit_test (test_hang_is_killed_at_deadline),
        cmocka_unit_test (test_unreachable_server_is_retryable),
        cmocka_unit_test (test_bad_input_refused),
        cmocka_unit_test (test_password_not_in_argv),
        cmocka_unit_test (test_retryable_classification),
    };
    return cmocka_run_group_tests (tests, s_group_setup, s_group_teardown);
}
