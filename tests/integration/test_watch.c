/*  test_watch.c — the real `wesley watch` process: the first compile's
    outputs appear; a save by write + rename recompiles (new schema.sql, new
    hash line); a bad edit prints FILE:LINE:COL, leaves the outputs
    byte-identical and the process running; the fix recompiles; an in-place
    truncate + write recompiles; a burst of saves inside the debounce window
    gives fewer compiles than saves; delete then re-create recompiles;
    SIGTERM exits 0. Usage errors exit 2, an unwatchable directory 3.
    Everything waits on the process's output with deadlines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wes_testassert.h"
#include "wes_testutil.h"

/*  Long enough that saves written back to back land in one window. */
#define S_DEBOUNCE "300"
#define S_DEADLINE_MS 20000
/*  The start of a successful compile's line (SCHEMA is an absolute path;
    "not compiled (...)" does not match). */
#define S_COMPILED "compiled /"

static char *s_dir;
static char s_sdl[4096];
static char s_out[4096];
static char s_log[4096];
static int s_pid = -1;

static int
s_setup (void **state)
{
    (void)state;
    s_dir = wes_test_tmpdir ("wes-watch");
    if (!s_dir) {
        return -1;
    }
    snprintf (s_sdl, sizeof s_sdl, "%s/src/app.graphql", s_dir);
    snprintf (s_out, sizeof s_out, "%s/out", s_dir);
    snprintf (s_log, sizeof s_log, "%s/watch.log", s_dir);
    char src[4200];
    snprintf (src, sizeof src, "%s/src", s_dir);
    char cmd[8400];
    snprintf (cmd, sizeof cmd, "mkdir -p '%s'", src);
    return wes_test_run (cmd, NULL);
}

static int
s_teardown (void **state)
{
    (void)state;
    if (s_pid > 0) {
        kill (-s_pid, SIGKILL);
        (void)wes_test_wait (s_pid, 5000);
    }
    wes_test_rmtree (s_dir);
    free (s_dir);
    return 0;
}

/*  The log once it holds at least count lines starting with needle... or
    fails at the deadline, showing the log. Caller frees. */
static char *
s_wait_log (const char *needle, size_t count)
{
    char *log = wes_test_wait_file (s_log, needle, count, S_DEADLINE_MS);
    if (!log) {
        log = wes_test_read_file (s_log, NULL);
        fail_msg ("no %zu x '%s' in the watch log after %d ms:\n%s", count, needle, S_DEADLINE_MS,
                  log ? log : "(no log)");
    }
    return log;
}

/*  How an editor saves: a temporary file in the same directory renamed
    over the original. */
static void
s_save_rename (const char *text)
{
    char tmp[4200];
    snprintf (tmp, sizeof tmp, "%s.swp", s_sdl);
    assert_int_equal (wes_test_write_file (tmp, text), 0);
    assert_int_equal (rename (tmp, s_sdl), 0);
}

/*  How other editors save: truncate the file and write it in place. */
static void
s_save_in_place (const char *text)
{
    FILE *f = fopen (s_sdl, "w");
    assert_non_null (f);
    fputs (text, f);
    assert_int_equal (fclose (f), 0);
}

static char *
s_output (const char *name)
{
    char path[4200];
    snprintf (path, sizeof path, "%s/%s", s_out, name);
    char *text = wes_test_read_file (path, NULL);
    assert_non_null (text);
    return text;
}

/*  The hash of the last "compiled" line agrees with schema.json. */
static void
s_check_last_hash (const char *log)
{
    const char *last = NULL;
    for (const char *p = strstr (log, S_COMPILED); p; p = strstr (p + 1, S_COMPILED)) {
        last = p;
    }
    assert_non_null (last);
    const char *h = strstr (last, ": hash ");
    assert_non_null (h);
    char hash[65];
    memcpy (hash, h + 7, 64);
    hash[64] = '\0';
    char *json = s_output ("schema.json");
    if (!strstr (json, hash)) {
        fail_msg ("hash %s of the compiled line is not in schema.json:\n%s", hash, json);
    }
    free (json);
}

static bool
s_alive (void)
{
    return waitpid ((pid_t)s_pid, NULL, WNOHANG) == 0;
}

static void
test_watch_lifecycle (void **state)
{
    (void)state;
    s_save_rename ("type Shop @wes_table {\n  id: Int! @wes_pk\n}\n");
    char *argv[] = {(char *)WES_WESLEY_BIN, "watch",    s_sdl, "-o", s_out,
                    "--debounce-ms",        S_DEBOUNCE, NULL};
    s_pid = wes_test_spawn (argv, s_log);
    assert_true (s_pid > 0);

    /*  The first compile. */
    char *log = s_wait_log (S_COMPILED, 1);
    s_check_last_hash (log);
    free (log);
    char *sql = s_output ("schema.sql");
    wes_test_has (sql, "\"shop\"");
    free (sql);

    /*  A valid edit, saved by rename. */
    s_save_rename ("type Shop @wes_table {\n  id: Int! @wes_pk\n}\n"
                   "type Visit @wes_table {\n  id: Int! @wes_pk\n}\n");
    log = s_wait_log (S_COMPILED, 2);
    s_check_last_hash (log);
    free (log);
    sql = s_output ("schema.sql");
    wes_test_has (sql, "\"visit\"");
    free (sql);

    /*  A bad edit: the error with its location, nothing replaced, still
        running. */
    char *before[3] = {s_output ("schema.sql"), s_output ("types.ts"), s_output ("schema.json")};
    s_save_rename ("type Shop @wes_table {\n  id: Int! @wes_pk\n  x: Nope\n}\n");
    log = s_wait_log ("waiting for the next save", 1);
    wes_test_has (log, "app.graphql:3:6: error");
    assert_int_equal (wes_test_count (log, S_COMPILED), 2);
    free (log);
    char *after[3] = {s_output ("schema.sql"), s_output ("types.ts"), s_output ("schema.json")};
    for (int i = 0; i < 3; i++) {
        assert_string_equal (before[i], after[i]);
        free (before[i]);
        free (after[i]);
    }
    assert_true (s_alive ());

    /*  The fix. */
    s_save_rename ("type Shop @wes_table {\n  id: Int! @wes_pk\n  x: String\n}\n");
    log = s_wait_log (S_COMPILED, 3);
    s_check_last_hash (log);
    free (log);
    sql = s_output ("schema.sql");
    wes_test_has (sql, "\"x\"");
    free (sql);

    /*  Truncate and write in place. */
    s_save_in_place ("type Shop @wes_table {\n  id: Int! @wes_pk\n  inplace: Int\n}\n");
    log = s_wait_log (S_COMPILED, 4);
    s_check_last_hash (log);
    free (log);
    sql = s_output ("schema.sql");
    wes_test_has (sql, "\"inplace\"");
    free (sql);

    /*  A burst of saves: fewer compiles than saves, the last one wins. */
    enum { SAVES = 6 };
    for (int i = 0; i < SAVES; i++) {
        char text[256];
        snprintf (text, sizeof text,
                  "type Shop @wes_table {\n  id: Int! @wes_pk\n  burst%d: Int\n}\n", i);
        s_save_rename (text);
    }
    for (int waited = 0;; waited += 20) {
        sql = s_output ("schema.sql");
        bool done = strstr (sql, "\"burst5\"") != NULL;
        free (sql);
        if (done) {
            break;
        }
        if (waited > S_DEADLINE_MS) {
            fail_msg ("the last save of the burst was never compiled");
        }
        wes_test_sleep_ms (20);
    }
    log = s_wait_log (S_COMPILED, 5);
    size_t burst = wes_test_count (log, S_COMPILED) - 4;
    free (log);
    print_message ("%d saves in a burst gave %zu compile(s)\n", SAVES, burst);
    assert_true (burst >= 1 && burst < SAVES);

    /*  Deleted, then created again. */
    assert_int_equal (unlink (s_sdl), 0);
    log = s_wait_log ("waiting for it to come back", 1);
    free (log);
    assert_true (s_alive ());
    log = s_wait_log (S_COMPILED, 4 + burst);
    size_t compiled = wes_test_count (log, S_COMPILED);
    free (log);
    s_save_in_place ("type Again @wes_table {\n  id: Int! @wes_pk\n}\n");
    log = s_wait_log (S_COMPILED, compiled + 1);
    s_check_last_hash (log);
    free (log);
    sql = s_output ("schema.sql");
    wes_test_has (sql, "\"again\"");
    free (sql);

    /*  SIGTERM: a clean exit 0. */
    assert_int_equal (kill (s_pid, SIGTERM), 0);
    assert_int_equal (wes_test_wait (s_pid, S_DEADLINE_MS), 0);
    s_pid = -1;
}

static void
test_usage_and_unwatchable (void **state)
{
    (void)state;
    char cmd[8400];
    char *out = NULL;
    const char *bad[] = {"",        "--debounce-ms -1",   "--debounce-ms 60001", "--debounce-ms x",
                         "--bogus", "a.graphql b.graphql"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf (cmd, sizeof cmd, "cd '%s' && '%s' watch %s -o out", s_dir, WES_WESLEY_BIN,
                  bad[i]);
        wes_test_expect (cmd, 2, NULL); /* a usage error */
    }
    snprintf (cmd, sizeof cmd, "'%s' watch --help", WES_WESLEY_BIN);
    out = wes_test_expect_output (cmd, 0, "--debounce-ms N");
    wes_test_has (out, "(default: 200)");
    free (out);
    /*  A directory that does not exist cannot be watched: 3, at once. */
    snprintf (cmd, sizeof cmd, "'%s' watch '%s/no/such/dir/a.graphql' -o '%s/out2'", WES_WESLEY_BIN,
              s_dir, s_dir);
    wes_test_expect (cmd, 3, "cannot watch");
}

/*  Started before the file exists: waits for it instead of exiting. */
static void
test_starts_without_the_file (void **state)
{
    (void)state;
    char late[4200], out[4200];
    snprintf (late, sizeof late, "%s/src/late.graphql", s_dir);
    snprintf (out, sizeof out, "%s/out-late", s_dir);
    snprintf (s_log, sizeof s_log, "%s/late.log", s_dir); /* s_wait_log reads this log now */
    char *argv[] = {(char *)WES_WESLEY_BIN, "watch", late, "-o", out, "--debounce-ms", "50", NULL};
    s_pid = wes_test_spawn (argv, s_log);
    assert_true (s_pid > 0);
    char *text = s_wait_log ("waiting for it to come back", 1);
    free (text);
    assert_true (s_alive ());
    assert_int_equal (wes_test_write_file (late, "type Late @wes_table {\n  id: Int! @wes_pk\n}\n"),
                      0);
    text = s_wait_log (S_COMPILED, 1);
    free (text);
    assert_int_equal (kill (s_pid, SIGINT), 0);
    assert_int_equal (wes_test_wait (s_pid, S_DEADLINE_MS), 0);
    s_pid = -1;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_watch_lifecycle),
        cmocka_unit_test (test_usage_and_unwatchable),
        cmocka_unit_test (test_starts_without_the_file),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
