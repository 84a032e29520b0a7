/*  test_status.c — `wesley status` progress and --watch on a real fleet run
    (4 databases, `wesley run` and two wesley-worker processes over tcp
    loopback), with every process logging in `--log-format text`.

    While the coordinator runs with no worker yet, `status --watch 1
    --progress` is started (its output is a file, not a terminal) and a
    second watch is ended by SIGINT (exit 0). Once the first watch printed a
    frame, the workers start; the watch ends by itself when the run is
    FINISHED, having printed more than one frame, the last one complete
    (every target's bar full, 13/13 steps, done; the total complete).
    After the run: `status --progress` draws full bars, `--top 2` shows two
    targets and a summary line, the default on a pipe stays the plain
    table, usage errors exit 2. The text logs are human lines, not JSON,
    with run/target/step/attempt fields where they apply.

    A second test builds a state file by hand (no cluster): one target done,
    one with a running step, one with a permanent failure (42P07) and a
    retry wait (55P03), plus a dispatched step, and checks the bars, the
    running and failure lines and the ETA (mean observed duration x
    instances left / instances in flight = 1000 ms x 24 / 2 = 12 s). */
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
#include <time.h>

#include "coordinator/wes_store.h"
#include "plan/wes_plan.h"
#include "wes_fleetfix.h"
#include "wes_testassert.h"
#include "wes_testutil.h"

#define S_TARGETS 4
#define S_RUN_TIMEOUT_MS 240000

static char *
s_status (wes_fleetfix_t *f, const char *args, int *rc)
{
    char cmd[1200];
    snprintf (cmd, sizeof cmd, "'%s' status --state '%s' %s", WES_WESLEY_BIN,
              wes_fleetfix_state (f), args);
    char *out = NULL;
    *rc = wes_test_run (cmd, &out);
    return out;
}

/*  A finished run's bars: every target full, done; the total complete. */
static void
s_check_complete (const char *frame, size_t steps)
{
    char want[128];
    snprintf (want, sizeof want, "[####################] %zu/%zu steps  done\n", steps, steps);
    if (wes_test_count (frame, want) != S_TARGETS) {
        fail_msg ("want %d full target bars (%s) in:\n%s", S_TARGETS, want, frame);
    }
    snprintf (want, sizeof want, "[########################################] %zu/%zu  complete\n",
              steps * S_TARGETS, steps * S_TARGETS);
    if (!strstr (frame, want) || !strstr (frame, "run finished")) {
        fail_msg ("want the total complete and the run finished in:\n%s", frame);
    }
    assert_null (strstr (frame, "ETA"));
    assert_null (strstr (frame, "running ("));
}

/*  Text log lines: human, not JSON; the fields as key=value. */
static void
s_check_text_log (const char *path, const char *role, size_t *with_attempt)
{
    char *text = wes_test_read_file (path, NULL);
    assert_non_null (text);
    size_t lines = 0;
    *with_attempt = 0;
    char *save = NULL;
    char tag[32];
    snprintf (tag, sizeof tag, " %s:", role);
    for (char *l = strtok_r (text, "\n", &save); l; l = strtok_r (NULL, "\n", &save)) {
        assert_true (l[0] != '{');
        json_t *j = json_loads (l, 0, NULL);
        assert_null (j);
        if (!(strlen (l) > 24 && l[4] == '-' && l[10] == 'T' && l[23] == 'Z')) {
            continue; /* the coordinator's stdout shares the file */
        }
        lines++;
        const char *lv = l + 25;
        assert_true (strncmp (lv, "debug", 5) == 0 || strncmp (lv, "info ", 5) == 0
                     || strncmp (lv, "warn ", 5) == 0 || strncmp (lv, "error", 5) == 0);
        wes_test_has (l, tag);
        if (strstr (l, " attempt=e")) {
            (*with_attempt)++;
        }
        if (strstr (l, "dispatched attempt") || strstr (l, "assigned attempt")) {
            if (!strstr (l, " target=") || !strstr (l, " step=") || !strstr (l, " attempt=e")) {
                fail_msg ("%s: an attempt's line without target, step or attempt: %s", path, l);
            }
        }
    }
    assert_true (lines > 0);
    free (text);
}

static void
test_status_watch (void **state)
{
    wes_fleetfix_t *f = wes_fleetfix_new (S_TARGETS, 2000, NULL);
    assert_non_null (f);
    *state = f;
    char path[700];
    snprintf (path, sizeof path, "%s/plan.json", wes_fleetfix_dir (f));
    json_t *plan = json_load_file (path, 0, NULL);
    size_t steps = json_array_size (json_object_get (plan, "steps"));
    json_decref (plan);
    assert_true (steps > 0);

    int coord = wes_fleetfix_start_coord (f, false, "--heartbeat-ms 250 --log-format text");
    assert_true (coord > 0);
    assert_non_null (wes_fleetfix_endpoint (f, 30000));

    /*  The watch, started while the run is live and nothing runs yet. */
    char watch_log[700], int_log[700];
    snprintf (watch_log, sizeof watch_log, "%s/watch.out", wes_fleetfix_dir (f));
    snprintf (int_log, sizeof int_log, "%s/watch-int.out", wes_fleetfix_dir (f));
    char *wargv[] = {
        (char *)WES_WESLEY_BIN, "status", "--state", (char *)wes_fleetfix_state (f), "--watch", "1",
        "--progress",           NULL};
    int watch = wes_test_spawn (wargv, watch_log);
    assert_true (watch > 0);
    int wint = wes_test_spawn (wargv, int_log);
    assert_true (wint > 0);
    char *first = wes_test_wait_file (watch_log, "  total ", 1, 30000);
    assert_non_null (first);
    wes_test_has (first, "--- frame 1 ");
    wes_test_has (first, "run running");
    wes_test_has (first, "ETA unknown");
    free (first);

    /*  SIGINT ends a watch between frames, exit 0. */
    char *ifirst = wes_test_wait_file (int_log, "  total ", 1, 30000);
    assert_non_null (ifirst);
    free (ifirst);
    kill (wint, SIGINT);
    assert_int_equal (wes_test_wait (wint, 10000), 0);

    for (int k = 0; k < 2; k++) {
        assert_true (wes_fleetfix_start_worker (f, k, "--log-format text") > 0);
    }
    int rc = wes_test_wait (watch, S_RUN_TIMEOUT_MS);
    char *out = wes_test_read_file (watch_log, NULL);
    if (rc != 0) {
        fprintf (stderr, "watch exit %d; its output:\n%s\n", rc, out ? out : "");
    }
    assert_int_equal (rc, 0);
    assert_non_null (out);
    size_t frames = wes_test_count (out, "--- frame ");
    if (frames < 2) {
        fail_msg ("the watch printed %zu frame(s):\n%s", frames, out);
    }
    const char *last = out;
    for (const char *p = out; (p = strstr (p, "--- frame ")); p++) {
        last = p;
    }
    s_check_complete (last, steps);
    free (out);
    assert_int_equal (wes_test_wait (coord, S_RUN_TIMEOUT_MS), 0);
    assert_int_equal (wes_fleetfix_check (f), 0);

    /*  After the run. */
    out = s_status (f, "--progress", &rc);
    assert_int_equal (rc, 0);
    s_check_complete (out, steps);
    free (out);
    out = s_status (f, "--progress --top 2", &rc);
    assert_int_equal (rc, 0);
    assert_int_equal (wes_test_count (out, " steps  done\n"), 2);
    wes_test_has (out, "... 2 more target(s) (--all shows them): 2 done\n");
    free (out);
    out = s_status (f, "--progress --top 2 --all", &rc);
    assert_int_equal (rc, 0);
    assert_int_equal (wes_test_count (out, " steps  done\n"), S_TARGETS);
    free (out);
    out = s_status (f, "", &rc); /* a pipe: the plain table, as before */
    assert_int_equal (rc, 0);
    wes_test_has (out, "step instances succeeded");
    assert_null (strstr (out, "[####"));
    free (out);
    out = s_status (f, "--no-progress", &rc);
    assert_int_equal (rc, 0);
    assert_null (strstr (out, "[####"));
    free (out);
    out = s_status (f, "--watch 1 --progress", &rc); /* final already: one frame */
    assert_int_equal (rc, 0);
    assert_int_equal (wes_test_count (out, "--- frame "), 1);
    free (out);
    const char *bad[] = {"--json --progress", "--watch 0", "--watch 99999",
                         "--top 0",           "--top x",   "--bogus"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        out = s_status (f, bad[i], &rc);
        if (rc != 2) {
            fail_msg ("status %s: exit %d, want 2: %s", bad[i], rc, out ? out : "");
        }
        free (out);
    }
    char cmd[600];
    snprintf (cmd, sizeof cmd, "'%s' status --help", WES_WESLEY_BIN);
    assert_int_equal (wes_test_run (cmd, &out), 0);
    const char *flags[] = {"--json",  "--progress", "--no-progress", "--watch [SECONDS]",
                           "--top N", "--all",      "default 2",     "default 20"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        wes_test_has (out, flags[i]);
    }
    free (out);

    /*  Logs in text form. */
    size_t att = 0, watt = 0;
    s_check_text_log (wes_fleetfix_coord_log (f), "wesley", &att);
    assert_true (att >= steps * S_TARGETS);
    char wlog[700];
    for (int k = 0; k < 2; k++) {
        size_t n = 0;
        snprintf (wlog, sizeof wlog, "%s/worker%d.log", wes_fleetfix_dir (f), k);
        s_check_text_log (wlog, "worker", &n);
        watt += n;
    }
    assert_true (watt >= steps * S_TARGETS);
}

static void
test_status_synthetic (void **state)
{
    (void)state;
    char *dir = wes_test_tmpdir ("status-syn");
    char cmd[2048], plan_path[600], st_path[600];
    snprintf (plan_path, sizeof plan_path, "%s/plan.json", dir);
    snprintf (st_path, sizeof st_path, "%s/state.db", dir);
    snprintf (cmd, sizeof cmd,
              "'%s' plan --from '%s/examples/blog.graphql' --to '%s/examples/blog-v2.graphql' "
              "-o '%s'",
              WES_WESLEY_BIN, WES_SOURCE_DIR, WES_SOURCE_DIR, plan_path);
    char *out = NULL;
    wes_test_expect (cmd, 0, NULL);
    wes_plan_t *plan = wes_plan_load (plan_path, NULL);
    assert_non_null (plan);
    size_t n = wes_plan_count (plan);
    assert_true (n >= 4);
    json_t *doc = wes_plan_to_json (plan);
    char *pj = json_dumps (doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref (doc);
    wes_store_target_t tg[3] = {
        {"t0", "dbname=a", NULL}, {"t1", "dbname=b", NULL}, {"t2", "dbname=c", NULL}};
    char *error = NULL;
    wes_store_t *st = wes_store_create (st_path, pj, wes_plan_hash (plan), tg, 3, n, &error);
    free (pj);
    if (!st) {
        fail_msg ("store: %s", error ? error : "?");
    }
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    int64_t ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    wes_store_step_t row;
    for (uint32_t t = 0; t < 3; t++) {
        for (uint32_t s = 0; s < n; s++) {
            memset (&row, 0, sizeof row);
            row.target = t;
            row.step = s;
            row.state = WES_SS_PENDING;
            if (t == 0 || (t == 1 && s < 2)) {
                row.state = WES_SS_SUCCEEDED;
                row.attempts = 1;
                row.started_ms = ms - 60000;
                row.finished_ms = ms - 59000; /* 1000 ms each */
            }
            else if (t == 1 && s == 2) {
                row.state = WES_SS_RUNNING;
                row.attempts = 1;
                row.attempt_id = "e1-7";
                row.worker = "w1";
                row.started_ms = ms - 5000;
                row.rows_done = 42;
            }
            else if (t == 2 && s == 0) {
                row.state = WES_SS_FAILED;
                row.attempts = 1;
                row.started_ms = ms - 3000;
                row.finished_ms = ms - 2000;
                row.sqlstate = "42P07";
                row.message = "relation exists";
            }
            else if (t == 2 && s == 1) {
                row.state = WES_SS_RETRY_WAIT;
                row.attempts = 2;
                row.not_before_ms = ms + 60000;
                row.sqlstate = "55P03";
                row.message = "lock timeout";
            }
            else if (t == 2 && s == 2) {
                row.state = WES_SS_DISPATCHED;
                row.attempts = 1;
                row.attempt_id = "e1-9";
                row.worker = "w2";
                row.started_ms = ms - 1000;
            }
            assert_int_equal (wes_store_put_step (st, &row, "test", "synthetic"), 0);
        }
    }
    wes_store_destroy (&st);
    const wes_step_t *s1 = wes_plan_step (plan, 1), *s2 = wes_plan_step (plan, 2);
    const wes_step_t *s0 = wes_plan_step (plan, 0);

    snprintf (cmd, sizeof cmd, "'%s' status --state '%s' --progress", WES_WESLEY_BIN, st_path);
    assert_int_equal (wes_test_run (cmd, &out), 0);
    char want[400];
    snprintf (want, sizeof want, "[####################] %zu/%zu steps  done\n", n, n);
    wes_test_has (out, want);
    snprintf (want, sizeof want, "[....................] 0/%zu steps  failed\n", n);
    wes_test_has (out, want);
    snprintf (want, sizeof want, "[###.................] 2/%zu steps  ", n);
    wes_test_has (out, want);
    /*  Least advanced first: t2, t1, t0. */
    assert_true (strstr (out, "  t2 ") < strstr (out, "  t1 "));
    assert_true (strstr (out, "  t1 ") < strstr (out, "  t0 "));
    wes_test_has (out, "running (2):\n");
    snprintf (want, sizeof want, "  t1 %s on w1, ", s2->id);
    wes_test_has (out, want);
    wes_test_has (out, ", 42 rows\n");
    snprintf (want, sizeof want, "  t2 %s on w2, ", s2->id);
    wes_test_has (out, want);
    wes_test_has (out, "failures (2):\n");
    snprintf (want, sizeof want, "  t2 %s failed after 1 attempt(s): 42P07 relation exists\n",
              s0->id);
    wes_test_has (out, want);
    snprintf (want, sizeof want, "  t2 %s retry-wait after 2 attempt(s): 55P03 lock timeout\n",
              s1->id);
    wes_test_has (out, want);
    snprintf (want, sizeof want, "] %zu/%zu  ETA 12 s\n", n + 2, 3 * n);
    if (!strstr (out, want)) {
        fail_msg ("want '%s' in:\n%s", want, out);
    }
    free (out);
    snprintf (cmd, sizeof cmd, "'%s' status --state '%s' --progress --top 1", WES_WESLEY_BIN,
              st_path);
    out = wes_test_expect_output (cmd, 0, "  t2 ");
    assert_null (strstr (out, "  t0 "));
    wes_test_has (out, "... 2 more target(s) (--all shows them): ");
    wes_test_has (out, " 1 done\n");
    wes_test_has (out, "running (2):\n  t1 ");
    wes_test_has (out, "  ... 1 more\n");
    free (out);
    wes_plan_destroy (&plan);
    wes_test_rmtree (dir);
    free (dir);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_status_synthetic),
        cmocka_unit_test_teardown (test_status_watch, wes_fleetfix_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
