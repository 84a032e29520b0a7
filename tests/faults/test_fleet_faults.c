/*  test_fleet_faults.c — the fleet survives its processes dying: a worker
    SIGKILLed during CREATE INDEX CONCURRENTLY and during a batched
    backfill, the coordinator SIGKILLed mid-run and resumed, a worker
    SIGSTOPped past its liveness then SIGCONTed (its late RESULT ignored),
    and garbage, truncated and oversized frames sent to the coordinator's
    port. Each ends with every database matching blog-v2 and each ledger
    holding each step exactly once. Synchronised on events (store, catalog,
    log) with deadlines, never fixed sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <czmq.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/wes_proto.h"
#include "wes_fleetfix.h"
#include "wes_testassert.h"
#include "wes_testutil.h"

#define S_RUN_TIMEOUT_MS 300000
#define S_EVENT_TIMEOUT_MS 120000
#define S_COORD_ARGS "--heartbeat-ms 200 --liveness 3 --max-per-target 2"

static void
s_finish (wes_fleetfix_t *f, int coord)
{
    int rc = wes_test_wait (coord, S_RUN_TIMEOUT_MS);
    if (rc != 0) {
        fprintf (stderr, "coordinator exit %d\n", rc);
        wes_fleetfix_dump_log (f);
    }
    assert_int_equal (rc, 0);
    assert_int_equal (wes_fleetfix_run_state (f), WES_RUN_FINISHED);
    assert_int_equal (wes_fleetfix_check (f), 0);
}

typedef struct {
    const char *needle; /* part of the step id */
    uint32_t target;    /* target index */
    bool need_rows;     /* progress reported */
} s_match_t;

static bool
s_in_flight (const wes_store_step_t *row, const char *step_id, void *arg)
{
    const s_match_t *m = arg;
    return row->target == m->target && strstr (step_id, m->needle)
           && (row->state == WES_SS_DISPATCHED || row->state == WES_SS_RUNNING)
           && (!m->need_rows || row->rows_done > 0) && row->worker;
}

typedef struct {
    const char *needle;   /* step id part */
    uint32_t target;      /* target */
    const char *attempt;  /* the old attempt */
} s_moved_t;

static bool
s_moved_on (const wes_store_step_t *row, const char *step_id, void *arg)
{
    const s_moved_t *m = arg;
    return row->target == m->target && strstr (step_id, m->needle) && row->attempt_id
           && strcmp (row->attempt_id, m->attempt) != 0;
}

static bool
s_any_succeeded (const wes_store_step_t *row, const char *step_id, void *arg)
{
    (void) step_id;
    (void) arg;
    return row->state == WES_SS_SUCCEEDED && row->target > 0;
}

/*  Sends raw frames to the coordinator from a DEALER of our own. */
static void
s_send_garbage (const char *endpoint)
{
    zsock_t *d = zsock_new_dealer (endpoint);
    assert_non_null (d);
    zsock_set_linger (d, 1000);
    /* one frame of garbage */
    zstr_send (d, "hello, is this the coordinator?");
    /* a bad header */
    zsock_send (d, "bb", "XX\x01\x01", (size_t) 4, "\x80", (size_t) 1);
    /* a valid READY truncated by one byte, and with a byte too many */
    wes_msg_t *m = wes_msg_new (WES_MSG_READY);
    wes_msg_set (&m->worker_id, "intruder");
    wes_msg_set (&m->version, "0");
    m->capacity = 1;
    uint8_t header[WES_PROTO_HEADER_SIZE];
    uint8_t *body = NULL;
    size_t len = 0;
    assert_int_equal (wes_proto_encode (m, header, &body, &len), 0);
    wes_msg_destroy (&m);
    zsock_send (d, "bb", header, sizeof header, body, len - 1);
    uint8_t *more = malloc (len + 1);
    memcpy (more, body, len);
    more[len] = 0xc0;
    zsock_send (d, "bb", header, sizeof header, more, len + 1);
    free (more);
    free (body);
    /* a RESULT for an attempt nobody made, from a peer nobody knows */
    wes_msg_t *r = wes_msg_new (WES_MSG_RESULT);
    wes_msg_set (&r->attempt_id, "e999-1");
    r->epoch = 999;
    r->outcome = WES_OUTCOME_OK;
    assert_int_equal (wes_proto_encode (r, header, &body, &len), 0);
    wes_msg_destroy (&r);
    zsock_send (d, "bb", header, sizeof header, body, len);
    free (body);
    zsock_destroy (&d);
    /* oversized: the socket's message size cap drops this peer */
    zsock_t *big = zsock_new_dealer (endpoint);
    zsock_set_linger (big, 1000);
    size_t huge = WES_PROTO_MAX_BODY + 64 * 1024;
    uint8_t *blob = calloc (1, huge);
    zsock_send (big, "bb", header, sizeof header, blob, huge);
    free (blob);
    zsock_destroy (&big);
}

static void
test_worker_killed_mid_cic_and_mid_backfill (void **state)
{
    wes_fleetfix_t *f = wes_fleetfix_new (6, 150000, "--batch-rows 1500 --batch-sleep-ms 20");
    assert_non_null (f);
    *state = f;
    int coord = wes_fleetfix_start_coord (f, false, S_COORD_ARGS);
    const char *ep = wes_fleetfix_endpoint (f, 30000);
    assert_non_null (ep);
    /*  Garbage first: the coordinator logs and ignores it. */
    s_send_garbage (ep);
    int64_t until = wes_test_now_ms () + 10000;
    while (wes_fleetfix_log_count (f, "malformed message") < 3 && wes_test_now_ms () < until) {
        wes_test_sleep_ms (5);
    }
    assert_true (wes_fleetfix_log_count (f, "malformed message") >= 3);
    assert_true (wes_fleetfix_log_count (f, "RESULT ignored: attempt e999-1") >= 1);
    for (int k = 0; k < 3; k++) {
        assert_true (wes_fleetfix_start_worker (f, k, NULL) > 0);
    }
    /*  The big database's CREATE INDEX CONCURRENTLY is building. */
    char *v = NULL;
    until = wes_test_now_ms () + S_EVENT_TIMEOUT_MS;
    while (wes_test_now_ms () < until) {
        v = wes_fleetfix_query (f, "fleet_00",
                                "SELECT count(*) FROM pg_stat_progress_create_index");
        if (v && strcmp (v, "0") != 0) {
            break;
        }
        free (v);
        v = NULL;
    }
    assert_non_null (v);
    free (v);
    s_match_t cic = {"create-index", 0, false};
    char worker[64] = "", attempt[64] = "";
    assert_true (wes_fleetfix_wait_step (f, s_in_flight, &cic, 10000, worker, sizeof worker,
                                         attempt, sizeof attempt));
    int k = wes_fleetfix_worker_index (worker);
    assert_true (k >= 0);
    wes_fleetfix_signal_worker (f, k, SIGKILL);
    assert_true (wes_fleetfix_start_worker (f, 3, NULL) > 0);
    /*  The lost attempt is requeued and runs again elsewhere. */
    s_moved_t moved = {"create-index", 0, attempt};
    assert_true (wes_fleetfix_wait_step (f, s_moved_on, &moved, S_EVENT_TIMEOUT_MS, NULL, 0,
                                         NULL, 0));
    /*  Now a backfill batch loop on the big database, mid-way. */
    s_match_t bf = {"backfill", 0, true};
    assert_true (wes_fleetfix_wait_step (f, s_in_flight, &bf, S_EVENT_TIMEOUT_MS, worker,
                                         sizeof worker, attempt, sizeof attempt));
    k = wes_fleetfix_worker_index (worker);
    assert_true (k >= 0);
    wes_fleetfix_signal_worker (f, k, SIGKILL);
    assert_true (wes_fleetfix_start_worker (f, 4, NULL) > 0);
    s_finish (f, coord);
    assert_true (wes_fleetfix_log_count (f, "lost: silent for") >= 2);
}

static void
test_coordinator_killed_then_resumed (void **state)
{
    wes_fleetfix_t *f = wes_fleetfix_new (6, 60000, "--batch-rows 1000 --batch-sleep-ms 10");
    assert_non_null (f);
    *state = f;
    int coord = wes_fleetfix_start_coord (f, false, S_COORD_ARGS);
    assert_non_null (wes_fleetfix_endpoint (f, 30000));
    for (int k = 0; k < 3; k++) {
        assert_true (wes_fleetfix_start_worker (f, k, NULL) > 0);
    }
    /*  Mid-run: something succeeded and the big backfill is under way. */
    assert_true (wes_fleetfix_wait_step (f, s_any_succeeded, NULL, S_EVENT_TIMEOUT_MS, NULL, 0,
                                         NULL, 0));
    s_match_t bf = {"backfill", 0, true};
    assert_true (
        wes_fleetfix_wait_step (f, s_in_flight, &bf, S_EVENT_TIMEOUT_MS, NULL, 0, NULL, 0));
    kill (-coord, SIGKILL);
    assert_int_equal (wes_test_wait (coord, 10000), 128 + SIGKILL);
    assert_int_equal (wes_fleetfix_run_state (f), WES_RUN_RUNNING);
    /*  Resume: epoch 2, in-flight instances reconciled, workers come back. */
    coord = wes_fleetfix_start_coord (f, true, NULL);
    assert_true (coord > 0);
    s_finish (f, coord);
    assert_true (wes_fleetfix_log_count (f, "epoch 2") >= 1);
    int rc = -1;
    char *st = wes_fleetfix_status_json (f, &rc);
    assert_int_equal (rc, 0);
    wes_test_has (st, "\"epoch\": 2");
    free (st);
}

static void
test_worker_stopped_past_liveness (void **state)
{
    wes_fleetfix_t *f = wes_fleetfix_new (4, 40000, "--batch-rows 1000 --batch-sleep-ms 20");
    assert_non_null (f);
    *state = f;
    /*  The run must outlive the stopped worker: fleet_03's posts steps
        time out on a lock (retryable) until this transaction ends. */
    PGconn *blocker = wes_fleetfix_connect (f, "fleet_03");
    assert_non_null (blocker);
    PGresult *res = PQexec (blocker, "BEGIN; LOCK TABLE posts IN ACCESS EXCLUSIVE MODE");
    assert_int_equal (PQresultStatus (res), PGRES_COMMAND_OK);
    PQclear (res);
    int coord = wes_fleetfix_start_coord (f, false, S_COORD_ARGS);
    assert_non_null (wes_fleetfix_endpoint (f, 30000));
    for (int k = 0; k < 3; k++) {
        assert_true (wes_fleetfix_start_worker (f, k, NULL) > 0);
    }
    s_match_t bf = {"backfill", 0, true};
    char worker[64] = "", attempt[64] = "";
    assert_true (wes_fleetfix_wait_step (f, s_in_flight, &bf, S_EVENT_TIMEOUT_MS, worker,
                                         sizeof worker, attempt, sizeof attempt));
    int k = wes_fleetfix_worker_index (worker);
    assert_true (k >= 0);
    wes_fleetfix_signal_worker (f, k, SIGSTOP);
    /*  Declared dead and its attempt requeued under a new attempt id. */
    char needle[128];
    snprintf (needle, sizeof needle, "worker %s lost: silent for", worker);
    int64_t until = wes_test_now_ms () + S_EVENT_TIMEOUT_MS;
    while (wes_fleetfix_log_count (f, needle) == 0 && wes_test_now_ms () < until) {
        wes_test_sleep_ms (5);
    }
    assert_true (wes_fleetfix_log_count (f, needle) >= 1);
    s_moved_t moved = {"backfill", 0, attempt};
    assert_true (wes_fleetfix_wait_step (f, s_moved_on, &moved, S_EVENT_TIMEOUT_MS, NULL, 0,
                                         NULL, 0));
    wes_fleetfix_signal_worker (f, k, SIGCONT);
    /*  Its late RESULT for the old attempt is logged and ignored. */
    snprintf (needle, sizeof needle, "RESULT ignored: attempt %s", attempt);
    until = wes_test_now_ms () + S_EVENT_TIMEOUT_MS;
    while (wes_fleetfix_log_count (f, needle) == 0 && wes_test_now_ms () < until) {
        wes_test_sleep_ms (5);
    }
    assert_true (wes_fleetfix_log_count (f, needle) >= 1);
    assert_int_equal (wes_fleetfix_run_state (f), WES_RUN_RUNNING);
    PQfinish (blocker);
    s_finish (f, coord);
}

int
main (void)
{
    signal (SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown (test_worker_killed_mid_cic_and_mid_backfill,
                                   wes_fleetfix_teardown),
        cmocka_unit_test_teardown (test_coordinator_killed_then_resumed, wes_fleetfix_teardown),
        cmocka_unit_test_teardown (test_worker_stopped_past_liveness, wes_fleetfix_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
