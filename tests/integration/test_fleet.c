/*  test_fleet.c — a fleet run with real processes: 21 databases of uneven
    sizes in one cluster, the blog -> blog-v2 plan (tx, nontx CREATE INDEX
    CONCURRENTLY, batched backfill, contract steps) made by `wesley plan`,
    `wesley run` and three `wesley-worker` processes over tcp loopback.
    Afterwards every database matches blog-v2 (`wesley drift` clean), each
    ledger holds each step exactly once, and `wesley status --json` says
    FINISHED. Then --stop-before and `wesley resume --through contract`, a
    refused non-loopback bind and a refused second run on one state file. */
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

#include "wes_fleetfix.h"
#include "wes_testassert.h"
#include "wes_testutil.h"

#define S_TARGETS 21
#define S_RUN_TIMEOUT_MS 300000

static void
test_fleet_run (void **state)
{
    wes_fleetfix_t *f = wes_fleetfix_new (S_TARGETS, 20000, NULL);
    assert_non_null (f);
    *state = f;
    int coord = wes_fleetfix_start_coord (f, false, "--heartbeat-ms 250 --max-per-target 2");
    assert_true (coord > 0);
    assert_non_null (wes_fleetfix_endpoint (f, 30000));
    /*  Worker 2 is started as a Kubernetes Job's pod would be: it leaves
        when the coordinator says the run ended; the others stay. */
    for (int k = 0; k < 3; k++) {
        assert_true (wes_fleetfix_start_worker (f, k, k == 2 ? "--exit-when-run-ends" : NULL) > 0);
    }
    int rc = wes_test_wait (coord, S_RUN_TIMEOUT_MS);
    if (rc != 0) {
        fprintf (stderr, "coordinator exit %d\n", rc);
        wes_fleetfix_dump_log (f);
    }
    assert_int_equal (rc, 0);
    json_t *st = wes_fleetfix_status_doc (f);
    assert_non_null (st);
    assert_string_equal (json_string_value (json_object_get (st, "run_state")), "finished");
    json_t *totals = json_object_get (st, "totals");
    size_t n_inst = (size_t) json_integer_value (json_object_get (totals, "instances"));
    assert_true (n_inst >= S_TARGETS * 4u);
    assert_int_equal (json_array_size (json_object_get (st, "targets")), S_TARGETS);
    assert_int_equal (json_array_size (json_object_get (st, "running")), 0);
    assert_int_equal (json_array_size (json_object_get (st, "failures")), 0);
    json_t *t0 = json_array_get (json_object_get (st, "targets"), 0);
    json_t *contract = json_object_get (json_object_get (t0, "phases"), "contract");
    assert_true (json_integer_value (json_object_get (contract, "total")) > 0);
    assert_int_equal (json_integer_value (json_object_get (contract, "done")),
                      json_integer_value (json_object_get (contract, "total")));
    json_decref (st);
    assert_int_equal (wes_fleetfix_check (f), 0);
    /*  Every instance ran through a worker: three workers took part. */
    int seen = 0;
    for (int k = 0; k < 3; k++) {
        char needle[32];
        snprintf (needle, sizeof needle, "to worker w%d", k);
        seen += wes_fleetfix_log_count (f, needle) > 0;
    }
    assert_int_equal (seen, 3);
    assert_int_equal (wes_test_wait (wes_fleetfix_worker_pid (f, 2), 30000), 0);
    assert_int_equal (kill (wes_fleetfix_worker_pid (f, 0), 0), 0);
    assert_int_equal (kill (wes_fleetfix_worker_pid (f, 1), 0), 0);
    /*  The run is over: a second run on the same state file is refused,
        and resume says it finished. */
    coord = wes_fleetfix_start_coord (f, false, NULL);
    assert_int_equal (wes_test_wait (coord, 30000), 3);
    coord = wes_fleetfix_start_coord (f, true, NULL);
    assert_int_equal (wes_test_wait (coord, 30000), 0);
}

static void
test_stop_before_then_resume (void **state)
{
    wes_fleetfix_t *f = wes_fleetfix_new (3, 500, NULL);
    assert_non_null (f);
    *state = f;
    int coord = wes_fleetfix_start_coord (f, false, "--heartbeat-ms 250 --stop-before contract");
    assert_non_null (wes_fleetfix_endpoint (f, 30000));
    assert_true (wes_fleetfix_start_worker (f, 0, NULL) > 0);
    assert_int_equal (wes_test_wait (coord, S_RUN_TIMEOUT_MS), 0);
    json_t *st = wes_fleetfix_status_doc (f);
    assert_non_null (st);
    assert_string_equal (json_string_value (json_object_get (st, "run_state")), "stopped");
    json_t *t;
    size_t i;
    json_array_foreach (json_object_get (st, "targets"), i, t)
    {
        json_t *ph = json_object_get (t, "phases");
        json_t *c = json_object_get (ph, "contract");
        json_t *v = json_object_get (ph, "validate");
        assert_int_equal (json_integer_value (json_object_get (c, "done")), 0);
        assert_int_equal (json_integer_value (json_object_get (v, "done")),
                          json_integer_value (json_object_get (v, "total")));
    }
    json_decref (st);
    /*  resume without --through stops again at once; with it, finishes */
    coord = wes_fleetfix_start_coord (f, true, NULL);
    assert_int_equal (wes_test_wait (coord, 60000), 0);
    assert_int_equal (wes_fleetfix_run_state (f), WES_RUN_STOPPED);
    coord = wes_fleetfix_start_coord (f, true, "--through contract");
    assert_int_equal (wes_test_wait (coord, S_RUN_TIMEOUT_MS), 0);
    assert_int_equal (wes_fleetfix_run_state (f), WES_RUN_FINISHED);
    assert_int_equal (wes_fleetfix_check (f), 0);
}

/*  `wesley cancel` while the coordinator is live: it records CANCELLED,
    dispatches nothing more and exits 4; `wesley resume` carries on. */
static void
test_cancel_then_resume (void **state)
{
    wes_fleetfix_t *f = wes_fleetfix_new (2, 200, NULL);
    assert_non_null (f);
    *state = f;
    int coord = wes_fleetfix_start_coord (f, false, "--heartbeat-ms 250");
    assert_true (coord > 0);
    assert_non_null (wes_fleetfix_endpoint (f, 30000)); /* live, no worker yet */
    char cmd[2048];
    snprintf (cmd, sizeof cmd, "'%s' cancel --state '%s'", WES_WESLEY_BIN,
              wes_fleetfix_state (f));
    wes_test_expect (cmd, 0, NULL);
    assert_int_equal (wes_test_wait (coord, 60000), 4);
    assert_int_equal (wes_fleetfix_run_state (f), WES_RUN_CANCELLED);
    /* nothing ran: blog-v2's first change (authors.handle) is not there */
    char *n = wes_fleetfix_query (f, wes_fleetfix_db (f, 0),
                                  "SELECT count(*) FROM information_schema.columns WHERE "
                                  "table_name = 'authors' AND column_name = 'handle'");
    assert_non_null (n);
    assert_string_equal (n, "0");
    free (n);
    coord = wes_fleetfix_start_coord (f, true, "--through contract");
    assert_true (coord > 0);
    assert_non_null (wes_fleetfix_endpoint (f, 30000));
    assert_true (wes_fleetfix_start_worker (f, 0, NULL) > 0);
    assert_int_equal (wes_test_wait (coord, S_RUN_TIMEOUT_MS), 0);
    assert_int_equal (wes_fleetfix_run_state (f), WES_RUN_FINISHED);
    assert_int_equal (wes_fleetfix_check (f), 0);
}

static void
test_refusals (void **state)
{
    (void) state;
    char *dir = wes_test_tmpdir ("fleetcli");
    char cmd[2048], *out = NULL;
    snprintf (cmd, sizeof cmd,
              "cd '%s' && printf 'a dbname=a\\n' > t.txt && '%s' plan --from /dev/null --to "
              "'%s/examples/blog.graphql' -o p.json >/dev/null && '%s' run --plan p.json "
              "--targets t.txt --state s.db --bind tcp://0.0.0.0:5999",
              dir, WES_WESLEY_BIN, WES_SOURCE_DIR, WES_WESLEY_BIN);
    wes_test_expect (cmd, 2, "--insecure-dev"); /* no CURVE keys, no --insecure-dev */
    snprintf (cmd, sizeof cmd,
              "cd '%s' && printf 'a password=x dbname=a\\n' > t2.txt && '%s' run --plan p.json "
              "--targets t2.txt --state s2.db --insecure-dev",
              dir, WES_WESLEY_BIN);
    out = wes_test_expect_output (cmd, 2, "t2.txt:1");
    wes_test_has (out, "passfile");
    free (out);
    snprintf (cmd, sizeof cmd, "cd '%s' && '%s' status --state nosuch.db", dir, WES_WESLEY_BIN);
    wes_test_expect (cmd, 3, NULL);
    snprintf (cmd, sizeof cmd, "'%s' run --plan", WES_WESLEY_BIN);
    wes_test_expect (cmd, 2, NULL);
    wes_test_rmtree (dir);
    free (dir);
}

int
main (void)
{
    signal (SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_refusals),
        cmocka_unit_test_teardown (test_fleet_run, wes_fleetfix_teardown),
        cmocka_unit_test_teardown (test_stop_before_then_resume, wes_fleetfix_teardown),
        cmocka_unit_test_teardown (test_cancel_then_resume, wes_fleetfix_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
