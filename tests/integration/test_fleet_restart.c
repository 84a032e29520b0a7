/*  test_fleet_restart.c — `wesley run --resume-existing`, the command a
    Kubernetes StatefulSet restarts unchanged after its pod was deleted:
    the first start creates the run (stopped before contract), the same
    command with another plan or other targets is refused and changes
    nothing, the same command again carries the run on at epoch 2 to the
    end (each step applied once per ledger, drift clean), and once more
    says the run already finished. Real coordinator, worker, psql and
    PostgreSQL (tests/support/wes_fleetfix.h). */
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

#define S_RUN_TIMEOUT_MS 300000

static json_int_t
s_epoch (wes_fleetfix_t *f)
{
    json_t *st = wes_fleetfix_status_doc (f);
    assert_non_null (st);
    json_int_t e = json_integer_value (json_object_get (st, "epoch"));
    json_decref (st);
    return e;
}

static void
test_resume_existing (void **state)
{
    wes_fleetfix_t *f = wes_fleetfix_new (3, 500, NULL);
    assert_non_null (f);
    *state = f;
    const char *dir = wes_fleetfix_dir (f);

    /*  First start: no state file yet, so the run is created. */
    int coord = wes_fleetfix_start_coord (f, false,
                                          "--heartbeat-ms 250 --stop-before contract "
                                          "--resume-existing");
    assert_true (coord > 0);
    const char *ep = wes_fleetfix_endpoint (f, 30000);
    assert_non_null (ep);
    char endpoint[256];
    snprintf (endpoint, sizeof endpoint, "%s", ep);
    assert_true (wes_fleetfix_start_worker (f, 0, NULL) > 0);
    int rc = wes_test_wait (coord, S_RUN_TIMEOUT_MS);
    if (rc != 0) {
        wes_fleetfix_dump_log (f);
    }
    assert_int_equal (rc, 0);
    assert_int_equal (wes_fleetfix_run_state (f), WES_RUN_STOPPED);
    assert_int_equal (s_epoch (f), 1);
    assert_int_equal (wes_fleetfix_log_count (f, "--resume-existing"), 0);

    /*  The same command with another plan, or with other targets: refused
        (exit 3) with the reason, and the state file is untouched. */
    char cmd[4096];
    snprintf (cmd, sizeof cmd,
              "cd '%s' && '%s' plan --from /dev/null --to '%s/examples/blog.graphql' -o other.json "
              ">/dev/null && '%s' run --plan other.json --targets targets.txt --state state.db "
              "--bind %s --insecure-dev --resume-existing",
              dir, WES_WESLEY_BIN, WES_SOURCE_DIR, WES_WESLEY_BIN, endpoint);
    wes_test_expect (cmd, 3, "another plan");
    snprintf (cmd, sizeof cmd,
              "cd '%s' && head -n 2 targets.txt > two.txt && "
              "'%s' run --plan plan.json --targets two.txt --state state.db --bind %s "
              "--insecure-dev --resume-existing",
              dir, WES_WESLEY_BIN, endpoint);
    wes_test_expect (cmd, 3, "targets");
    snprintf (
        cmd, sizeof cmd,
        "cd '%s' && sed '2s/dbname=/dbname=x/' targets.txt > moved.txt && '%s' run --plan "
        "plan.json --targets moved.txt --state state.db --bind %s --insecure-dev --resume-existing",
        dir, WES_WESLEY_BIN, endpoint);
    wes_test_expect (cmd, 3, "differs");
    /*  Without the flag, today's behaviour: an existing state file is refused. */
    snprintf (cmd, sizeof cmd,
              "cd '%s' && '%s' run --plan plan.json --targets targets.txt --state state.db --bind "
              "%s --insecure-dev",
              dir, WES_WESLEY_BIN, endpoint);
    wes_test_expect (cmd, 3, "wesley resume");
    /*  A cancelled run stays cancelled when the pod restarts: on a copy of
        the state file, `wesley cancel`, then the pod's command exits 4 and
        dispatches nothing; only an explicit `wesley resume` would go on. */
    snprintf (cmd, sizeof cmd,
              "cd '%s' && cp state.db cancelled.db && if [ -f state.db-wal ]; then cp "
              "state.db-wal cancelled.db-wal; fi && '%s' cancel --state cancelled.db",
              dir, WES_WESLEY_BIN);
    wes_test_expect (cmd, 0, NULL);
    snprintf (cmd, sizeof cmd,
              "cd '%s' && '%s' run --plan plan.json --targets targets.txt --state cancelled.db "
              "--bind %s --insecure-dev --resume-existing",
              dir, WES_WESLEY_BIN, endpoint);
    wes_test_expect (cmd, 4, "was cancelled");
    snprintf (cmd, sizeof cmd, "cd '%s' && '%s' status --state cancelled.db --json", dir,
              WES_WESLEY_BIN);
    wes_test_expect (cmd, 0, "\"epoch\": 2,"); /* 1, + 1 for cancel's read-write open */
    wes_test_expect (cmd, 0, "\"run_state\": \"cancelled\"");
    assert_int_equal (wes_fleetfix_run_state (f), WES_RUN_STOPPED);
    assert_int_equal (s_epoch (f), 1);

    /*  The restarted pod: same plan and targets, --resume-existing, no
        --stop-before any more: carries on at epoch 2 to the end. */
    char extra[512];
    snprintf (extra, sizeof extra, "--heartbeat-ms 250 --resume-existing --bind %s", endpoint);
    coord = wes_fleetfix_start_coord (f, false, extra);
    assert_true (coord > 0);
    rc = wes_test_wait (coord, S_RUN_TIMEOUT_MS);
    if (rc != 0) {
        wes_fleetfix_dump_log (f);
    }
    assert_int_equal (rc, 0);
    assert_int_equal (wes_fleetfix_run_state (f), WES_RUN_FINISHED);
    assert_int_equal (s_epoch (f), 2);
    assert_true (wes_fleetfix_log_count (f, "resumed at epoch 2 (run --resume-existing)") > 0);
    json_t *st = wes_fleetfix_status_doc (f);
    assert_non_null (st);
    assert_int_equal (json_array_size (json_object_get (st, "failures")), 0);
    json_t *t;
    size_t i;
    json_array_foreach (json_object_get (st, "targets"), i, t)
    {
        json_t *c = json_object_get (json_object_get (t, "phases"), "contract");
        assert_true (json_integer_value (json_object_get (c, "total")) > 0);
        assert_int_equal (json_integer_value (json_object_get (c, "done")),
                          json_integer_value (json_object_get (c, "total")));
    }
    json_decref (st);
    /*  Every database at blog-v2, each step once in each ledger. */
    assert_int_equal (wes_fleetfix_check (f), 0);

    /*  Restarted once more after the end: says so, exits 0, runs nothing. */
    coord = wes_fleetfix_start_coord (f, false, extra);
    assert_int_equal (wes_test_wait (coord, 60000), 0);
    assert_true (wes_fleetfix_log_count (f, "the run already finished") > 0);
    assert_int_equal (wes_fleetfix_run_state (f), WES_RUN_FINISHED);
    assert_int_equal (wes_fleetfix_check (f), 0);

    /*  With --metrics and a linger, the restarted pod of a finished run
        stays up serving the final figures (no crash loop) until SIGTERM,
        and the epoch does not move. */
    char more[700];
    snprintf (more, sizeof more, "%s --metrics 127.0.0.1:0 --metrics-linger 600", extra);
    coord = wes_fleetfix_start_coord (f, false, more);
    assert_true (coord > 0);
    char *log = wes_test_wait_file (wes_fleetfix_coord_log (f), "final metrics on http://", 1,
                                    30000);
    assert_non_null (log);
    const char *at = strstr (log, "final metrics on http://") + strlen ("final metrics on http://");
    char addr[128];
    size_t n = strcspn (at, "/");
    assert_true (n > 0 && n < sizeof addr);
    memcpy (addr, at, n);
    addr[n] = '\0';
    free (log);
    snprintf (cmd, sizeof cmd, "curl -sf http://%s/metrics", addr);
    wes_test_expect (cmd, 0, "wesley_run_state{state=\"finished\"} 1");
    wes_test_expect (cmd, 0, "wesley_targets{phase=\"done\"} 3");
    snprintf (cmd, sizeof cmd, "curl -sf -o /dev/null -w '%%{http_code}' http://%s/readyz", addr);
    wes_test_expect (cmd, 0, "200");
    assert_int_equal (kill (coord, SIGTERM), 0);
    assert_int_equal (wes_test_wait (coord, 30000), 0);
    assert_int_equal (s_epoch (f), 2);
}

int
main (void)
{
    signal (SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown (test_resume_existing, wes_fleetfix_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
