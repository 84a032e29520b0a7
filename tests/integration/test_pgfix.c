/*  test_pgfix.c — the PostgreSQL test fixture: it starts a private server,
    connects, has pg_stat_statements, creates databases, runs the real psql
    with ON_ERROR_STOP, restarts, and leaves nothing behind on destroy. */
#include <errno.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "wes_pgfix.h"
#include "wes_testassert.h"
#include "wes_testutil.h"

static int
s_setup (void **state)
{
    wes_pgfix_t *fix = wes_pgfix_start ();
    if (!fix) {
        return -1;
    }
    *state = fix;
    return 0;
}

static int
s_teardown (void **state)
{
    wes_pgfix_t *fix = *state;
    wes_pgfix_destroy (&fix);
    return 0;
}

static void
test_connects_over_private_socket (void **state)
{
    wes_pgfix_t *fix = *state;
    char *ci = wes_pgfix_conninfo (fix, "postgres");
    wes_test_has (ci, wes_pgfix_dir (fix));
    wes_test_has (ci, "user='postgres'");
    assert_int_equal (PQping (ci), PQPING_OK);
    free (ci);

    char *v = wes_pgfix_query_value (fix, NULL, "SELECT current_setting('server_version_num')");
    assert_non_null (v);
    assert_true (atoi (v) >= 150000 && atoi (v) < 160000);
    free (v);
    /*  No TCP, socket in our directory, the port we were told. */
    v = wes_pgfix_query_value (fix, NULL, "SELECT current_setting('listen_addresses')");
    assert_string_equal (v, "");
    free (v);
    v = wes_pgfix_query_value (fix, NULL, "SELECT current_setting('unix_socket_directories')");
    assert_string_equal (v, wes_pgfix_dir (fix));
    free (v);
    v = wes_pgfix_query_value (fix, NULL, "SELECT current_setting('port')");
    assert_int_equal (atoi (v), wes_pgfix_port (fix));
    free (v);
    v = wes_pgfix_query_value (fix, NULL, "SELECT current_user");
    assert_string_equal (v, "postgres");
    free (v);
    v = wes_pgfix_query_value (fix, NULL, "SELECT current_setting('fsync')");
    assert_string_equal (v, "off");
    free (v);
    /*  The server runs as the postgres OS user when we are root. */
    struct stat st;
    assert_int_equal (stat (wes_pgfix_datadir (fix), &st), 0);
    if (geteuid () == 0) {
        struct passwd *pw = getpwnam ("postgres");
        assert_non_null (pw);
        assert_int_equal (st.st_uid, pw->pw_uid);
    }
    else {
        assert_int_equal (st.st_uid, geteuid ());
    }
}

static void
test_pg_stat_statements_loaded (void **state)
{
    wes_pgfix_t *fix = *state;
    char *v = wes_pgfix_query_value (fix, NULL, "SHOW shared_preload_libraries");
    assert_non_null (v);
    wes_test_has (v, "pg_stat_statements");
    free (v);
    assert_int_equal (
        wes_pgfix_exec (fix, NULL, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"), 0);
    assert_int_equal (wes_pgfix_exec (fix, NULL,
                                      "CREATE TABLE pss_probe (a int); "
                                      "SELECT a FROM pss_probe WHERE a = 42"),
                      0);
    v = wes_pgfix_query_value (fix, NULL,
                               "SELECT count(*) FROM pg_stat_statements "
                               "WHERE query LIKE '%pss_probe%'");
    assert_non_null (v);
    assert_true (atoi (v) >= 1);
    free (v);
}

static void
test_createdb_and_dropdb (void **state)
{
    wes_pgfix_t *fix = *state;
    assert_int_equal (wes_pgfix_createdb (fix, "wes fix-db"), 0);
    /*  It exists and we can work in it. */
    assert_int_equal (wes_pgfix_exec (fix, "wes fix-db", "CREATE TABLE t (id int PRIMARY KEY)"), 0);
    char *v = wes_pgfix_query_value (fix, "wes fix-db", "SELECT current_database()");
    assert_string_equal (v, "wes fix-db");
    free (v);
    /*  A second create of the same name fails and says so. */
    assert_int_equal (wes_pgfix_createdb (fix, "wes fix-db"), -1);
    assert_int_equal (wes_pgfix_dropdb (fix, "wes fix-db"), 0);
    assert_null (wes_pgfix_connect (fix, "wes fix-db"));
}

static void
test_psql_stdin_and_file (void **state)
{
    wes_pgfix_t *fix = *state;
    /*  The real binary, not Debian's Perl wrapper in /usr/bin. */
    const char *psql = wes_pgfix_psql_path (fix);
    wes_test_has (psql, "/bin/psql");
    assert_string_not_equal (psql, "/usr/bin/psql");
    assert_int_equal (access (psql, X_OK), 0);

    assert_int_equal (wes_pgfix_createdb (fix, "psqltest"), 0);
    char *out = NULL;
    int rc = wes_pgfix_psql (fix, "psqltest",
                             "CREATE TABLE a (x int);\n"
                             "INSERT INTO a VALUES (1), (2);\n"
                             "\\echo marker-ok\n"
                             "SELECT sum(x) AS total FROM a;\n",
                             &out);
    assert_int_equal (rc, 0);
    wes_test_has (out, "marker-ok");
    wes_test_has (out, "3");
    free (out);

    /*  A file with an error in the middle: psql stops there (ON_ERROR_STOP)
        and exits 3; the statement after the error never runs. */
    char *dir = wes_test_tmpdir ("wes-pgfix-test");
    assert_non_null (dir);
    char path[512];
    snprintf (path, sizeof path, "%s/bad.sql", dir);
    assert_int_equal (wes_test_write_file (path, "CREATE TABLE b (x int);\n"
                                                 "SELECT no_such_column FROM b;\n"
                                                 "CREATE TABLE c (x int);\n"),
                      0);
    out = NULL;
    rc = wes_pgfix_psql_file (fix, "psqltest", path, &out);
    assert_int_equal (rc, 3);
    assert_non_null (out);
    wes_test_has (out, "ERROR");
    wes_test_has (out, "no_such_column");
    free (out);
    char *v = wes_pgfix_query_value (fix, "psqltest",
                                     "SELECT count(*) FROM pg_class WHERE relname IN ('b','c')");
    assert_string_equal (v, "1");
    free (v);

    /*  The same through stdin; a large input must not deadlock either. */
    out = NULL;
    rc = wes_pgfix_psql (fix, "psqltest", "SELECT 1/0;\nCREATE TABLE d (x int);\n", &out);
    assert_int_equal (rc, 3);
    wes_test_has (out, "division by zero");
    free (out);
    v = wes_pgfix_query_value (fix, "psqltest",
                               "SELECT count(*) FROM pg_class WHERE relname = 'd'");
    assert_string_equal (v, "0");
    free (v);

    size_t n = 20000;
    char *sql = malloc (n * 40 + 64);
    assert_non_null (sql);
    size_t off = 0;
    off += (size_t)sprintf (sql + off, "CREATE TABLE e (x int);\n");
    for (size_t i = 0; i < n; i++) {
        off += (size_t)sprintf (sql + off, "INSERT INTO e VALUES (%zu);\n", i);
    }
    sql[off] = '\0';
    out = NULL;
    rc = wes_pgfix_psql (fix, "psqltest", sql, &out);
    assert_int_equal (rc, 0);
    free (out);
    free (sql);
    v = wes_pgfix_query_value (fix, "psqltest", "SELECT count(*) FROM e");
    assert_string_equal (v, "20000");
    free (v);

    /*  A connection failure is psql's exit 2, not a crash. */
    out = NULL;
    rc = wes_pgfix_psql (fix, "no_such_db", "SELECT 1;", &out);
    assert_int_equal (rc, 2);
    wes_test_has (out, "no_such_db");
    free (out);

    wes_test_rmtree (dir);
    free (dir);
}

static void
test_query_errors_are_reported (void **state)
{
    wes_pgfix_t *fix = *state;
    PGconn *conn = wes_pgfix_connect (fix, NULL);
    assert_non_null (conn);
    PGresult *res = wes_pgfix_query (conn, "SELECT * FROM no_such_table");
    assert_null (res);
    res = wes_pgfix_query (conn, "SELECT generate_series(1, 3)");
    assert_non_null (res);
    assert_int_equal (PQntuples (res), 3);
    PQclear (res);
    PQfinish (conn);
    assert_null (wes_pgfix_query_value (fix, NULL, "SELECT 1 WHERE false"));
    assert_int_equal (wes_pgfix_exec (fix, NULL, "SELEC 1"), -1);
}

static void
test_stop_and_restart_keep_data (void **state)
{
    wes_pgfix_t *fix = *state;
    assert_int_equal (wes_pgfix_createdb (fix, "survivor"), 0);
    assert_int_equal (wes_pgfix_exec (fix, "survivor", "CREATE TABLE kept (x int)"), 0);
    pid_t old = wes_pgfix_pid (fix);
    assert_true (old > 0);
    assert_int_equal (wes_pgfix_stop (fix), 0);
    assert_int_equal (wes_pgfix_pid (fix), 0);
    assert_int_equal (kill (old, 0), -1);
    char *ci = wes_pgfix_conninfo (fix, "postgres");
    assert_int_equal (PQping (ci), PQPING_NO_RESPONSE);
    free (ci);
    assert_int_equal (wes_pgfix_restart (fix), 0);
    assert_true (wes_pgfix_pid (fix) > 0);
    char *v = wes_pgfix_query_value (fix, "survivor",
                                     "SELECT count(*) FROM pg_class WHERE relname = 'kept'");
    assert_string_equal (v, "1");
    free (v);
}

/*  Its own cluster: destroy stops the server and removes the directory. */
static void
test_destroy_removes_everything (void **state)
{
    (void)state;
    wes_pgfix_t *fix = wes_pgfix_start ();
    assert_non_null (fix);
    char *dir = wes_strdup (wes_pgfix_dir (fix));
    char *ci = wes_pgfix_conninfo (fix, NULL);
    pid_t pid = wes_pgfix_pid (fix);
    assert_true (pid > 0);
    assert_int_equal (kill (pid, 0), 0);
    PGconn *open_conn = wes_pgfix_connect (fix, NULL);
    assert_non_null (open_conn); /* an open session must not stop destroy */

    wes_pgfix_destroy (&fix);
    assert_null (fix);
    wes_pgfix_destroy (&fix); /* safe on NULL */
    struct stat st;
    assert_int_equal (stat (dir, &st), -1);
    assert_int_equal (errno, ENOENT);
    assert_int_equal (kill (pid, 0), -1);
    assert_int_equal (errno, ESRCH);
    assert_int_equal (PQping (ci), PQPING_NO_RESPONSE);
    PGresult *res = PQexec (open_conn, "SELECT 1");
    assert_true (PQresultStatus (res) != PGRES_TUPLES_OK);
    PQclear (res);
    PQfinish (open_conn);
    free (ci);
    free (dir);
}

/*  A test that dies without destroying its fixture (crash, sanitizer
    abort, CTest timeout) leaves no server and no directory behind. */
static void
test_crashed_test_leaves_nothing (void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal (pipe (fds), 0);
    fflush (NULL);
    pid_t child = fork ();
    assert_true (child >= 0);
    if (child == 0) {
        close (fds[0]);
        wes_pgfix_t *fix = wes_pgfix_start ();
        char line[1024] = "";
        if (fix) {
            snprintf (line, sizeof line, "%ld %s\n", (long)wes_pgfix_pid (fix),
                      wes_pgfix_dir (fix));
        }
        ssize_t n = write (fds[1], line, strlen (line));
        (void)n;
        kill (getpid (), SIGKILL); /* die the hard way: no destroy, no atexit */
        _exit (1);
    }
    close (fds[1]);
    char line[1024] = "";
    size_t got = 0;
    ssize_t n;
    while ((n = read (fds[0], line + got, sizeof line - 1 - got)) > 0) {
        got += (size_t)n;
    }
    close (fds[0]);
    int status = 0;
    assert_int_equal (waitpid (child, &status, 0), child);
    assert_true (WIFSIGNALED (status));
    long pm = 0;
    char dir[1000] = "";
    assert_int_equal (sscanf (line, "%ld %999s", &pm, dir), 2);
    assert_true (pm > 0);
    /*  Wait (with a deadline) for the server and the directory to go. */
    struct stat st;
    bool gone = false;
    for (int i = 0; i < 3000 && !gone; i++) {
        gone = kill ((pid_t)pm, 0) != 0 && stat (dir, &st) != 0;
        if (!gone) {
            struct timespec ts = {0, 10 * 1000000L};
            nanosleep (&ts, NULL);
        }
    }
    if (!gone) {
        print_error ("left behind: server %ld alive=%d, dir %s exists=%d\n", pm,
                     kill ((pid_t)pm, 0) == 0, dir, stat (dir, &st) == 0);
    }
    assert_true (gone);
}

/*  Two fixtures at once get different ports and directories. */
static void
test_two_fixtures_side_by_side (void **state)
{
    wes_pgfix_t *a = *state;
    wes_pgfix_t *b = wes_pgfix_start ();
    assert_non_null (b);
    assert_int_not_equal (wes_pgfix_port (a), wes_pgfix_port (b));
    assert_string_not_equal (wes_pgfix_dir (a), wes_pgfix_dir (b));
    assert_int_equal (wes_pgfix_exec (b, NULL, "CREATE DATABASE only_in_b"), 0);
    PGconn *c = wes_pgfix_connect (a, "only_in_b");
    assert_null (c);
    wes_pgfix_destroy (&b);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_connects_over_private_socket),
        cmocka_unit_test (test_pg_stat_statements_loaded),
        cmocka_unit_test (test_createdb_and_dropdb),
        cmocka_unit_test (test_psql_stdin_and_file),
        cmocka_unit_test (test_query_errors_are_reported),
        cmocka_unit_test (test_stop_and_restart_keep_data),
        cmocka_unit_test (test_two_fixtures_side_by_side),
        cmocka_unit_test (test_destroy_removes_everything),
        cmocka_unit_test (test_crashed_test_leaves_nothing),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
