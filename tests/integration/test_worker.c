/*  test_worker.c — a real wesley-worker process driven by a fake
    coordinator (a ROUTER socket in this test) against a throwaway
    PostgreSQL: registration and heartbeat negotiation, real rendered steps
    (OK with its ledger row, SKIPPED, FAILED with SQLSTATE, RETRYABLE on a
    lock timeout, a deadline), the psql session reused between steps,
    heartbeats and PROGRESS flowing during a long step, a reconnect on a new
    socket that announces the attempt still held, garbage frames ignored, a
    second ASSIGN while busy, SIGTERM mid-step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <czmq.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pg/wes_psql.h"
#include "plan/wes_plan.h"
#include "plan/wes_step.h"
#include "proto/wes_proto.h"
#include "util/wes_buf.h"
#include "wes_pgfix.h"
#include "wes_testassert.h"
#include "wes_testutil.h"
#include "worker/wes_worker.h"

#define S_DB "wk"

static wes_pgfix_t *s_pg;
static char *s_tmp;

/*  The fake coordinator and the worker process it drives. */
typedef struct {
    zsock_t *router;      /* bound to tcp://127.0.0.1:* */
    zactor_t *monitor;    /* counts accepted connections */
    char endpoint[80];    /* where it listens */
    char name[80];        /* the worker's id: messages from anyone else are dropped */
    char peer[80];        /* the worker's routing id (from READY) */
    bool beating;         /* send HEARTBEATs to the worker */
    uint32_t interval_ms; /* negotiated interval */
    int64_t beat_at;      /* next HEARTBEAT to send */
    int n_beats;          /* HEARTBEATs received from the worker */
    int n_progress;       /* PROGRESS received */
    int64_t max_rows;     /* largest rows_done in a PROGRESS */
    int n_accepted;       /* connections accepted (monitor) */
    int pid;              /* the worker */
    char log[512];        /* its stderr */
} s_fake_t;

static int
s_group_setup (void **state)
{
    (void)state;
    signal (SIGPIPE, SIG_IGN);
    zsys_handler_set (NULL);
    if (WES_WORKER_BIN[0] == '\0' || access (WES_WORKER_BIN, X_OK) != 0) {
        fprintf (stderr, "wesley-worker not built at \"%s\"\n", WES_WORKER_BIN);
        return -1;
    }
    s_pg = wes_pgfix_start ();
    if (!s_pg) {
        return -1;
    }
    if (wes_pgfix_createdb (s_pg, S_DB) != 0) {
        return -1;
    }
    s_tmp = wes_test_tmpdir ("wes-worker");
    return s_tmp ? 0 : -1;
}

static int
s_group_teardown (void **state)
{
    (void)state;
    wes_pgfix_destroy (&s_pg);
    if (s_tmp && getenv ("WES_TEST_KEEP")) {
        fprintf (stderr, "worker logs kept in %s\n", s_tmp);
    }
    else if (s_tmp) {
        wes_test_rmtree (s_tmp);
        free (s_tmp);
    }
    return 0;
}

/*  The fake of the running test, stopped by the teardown even when an
    assertion ends the test early. */
static s_fake_t *s_current;

/*  Starts the worker in its own process group, output to log; it dies with
    this process (parent-death signal), so a crashed test never leaves a
    worker behind connecting to whatever binds its port next. */
static int
s_spawn_worker (char *const argv[], const char *log)
{
    pid_t parent = getpid ();
    pid_t pid = fork ();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        setpgid (0, 0);
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        if (getppid () != parent) {
            _exit (127);
        }
        int fd = open (log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2 (fd, 1);
            dup2 (fd, 2);
            close (fd);
        }
        execv (argv[0], argv);
        _exit (127);
    }
    setpgid (pid, pid);
    return (int)pid;
}

/*  --- the fake coordinator --- */

static void
s_fake_start (s_fake_t *f, const char *name, const char *extra_flag, const char *extra_value)
{
    memset (f, 0, sizeof *f);
    f->router = zsock_new (ZMQ_ROUTER);
    assert_non_null (f->router);
    zsock_set_linger (f->router, 0);
    zsock_set_router_handover (f->router, 1);
    zsock_set_maxmsgsize (f->router, (int)(WES_PROTO_MAX_BODY + 4096u));
    f->monitor = zactor_new (zmonitor, f->router);
    assert_non_null (f->monitor);
    zstr_sendx (f->monitor, "LISTEN", "ACCEPTED", NULL);
    zstr_send (f->monitor, "START");
    zsock_wait (f->monitor);
    int want = wes_test_tcp_port ();
    assert_true (want > 0);
    int port = zsock_bind (f->router, "tcp://127.0.0.1:%d", want);
    assert_int_equal (port, want);
    snprintf (f->endpoint, sizeof f->endpoint, "tcp://127.0.0.1:%d", port);
    snprintf (f->log, sizeof f->log, "%s/%s.log", s_tmp, name);
    char *argv[] = {WES_WORKER_BIN,
                    "--connect",
                    f->endpoint,
                    "--id",
                    (char *)name,
                    "--labels",
                    "blue,fast",
                    "--psql",
                    (char *)wes_pgfix_psql_path (s_pg),
                    "--log-level",
                    "debug",
                    "--reconnect-max-ms",
                    "400",
                    "--insecure-dev", /* the fake coordinator speaks plaintext */
                    (char *)extra_flag,
                    (char *)extra_value,
                    NULL};
    snprintf (f->name, sizeof f->name, "%s", name);
    f->pid = s_spawn_worker (argv, f->log);
    assert_true (f->pid > 0);
    s_current = f;
}

static void
s_fake_stop (s_fake_t *f)
{
    s_current = NULL;
    if (f->pid > 0) {
        kill (-f->pid, SIGKILL);
        wes_test_wait (f->pid, 10000);
        f->pid = 0;
    }
    zactor_destroy (&f->monitor);
    zsock_destroy (&f->router);
}

static void
s_fake_send (s_fake_t *f, const wes_msg_t *msg)
{
    uint8_t header[WES_PROTO_HEADER_SIZE];
    uint8_t *body = NULL;
    size_t len = 0;
    assert_int_equal (wes_proto_encode (msg, header, &body, &len), 0);
    zmsg_t *m = zmsg_new ();
    zmsg_addstr (m, f->peer);
    zmsg_addmem (m, header, sizeof header);
    zmsg_addmem (m, body, len);
    free (body);
    assert_int_equal (zmsg_send (&m, f->router), 0);
}

static void
s_fake_heartbeat (s_fake_t *f, uint32_t interval_ms, uint32_t liveness)
{
    wes_msg_t *hb = wes_msg_new (WES_MSG_HEARTBEAT);
    hb->interval_ms = interval_ms;
    hb->liveness = liveness;
    s_fake_send (f, hb);
    wes_msg_destroy (&hb);
}

/*  Counts the connections the monitor reported (its events arrive
    asynchronously: waits up to timeout_ms for at least want). */
static int
s_fake_accepts (s_fake_t *f, int want, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    zsock_set_rcvtimeo (f->monitor, 50);
    while (f->n_accepted < want && zclock_mono () < deadline) {
        zmsg_t *ev = zmsg_recv (f->monitor);
        if (!ev) {
            continue;
        }
        char *name = zmsg_popstr (ev);
        if (name && strcmp (name, "ACCEPTED") == 0) {
            f->n_accepted++;
        }
        free (name);
        zmsg_destroy (&ev);
    }
    return f->n_accepted;
}

/*  Waits up to timeout_ms for a message of type want (and attempt, if not
    NULL) from the worker, heartbeating it meanwhile when f->beating. Every
    message the worker sends must decode. Returns it, or NULL on timeout. */
static wes_msg_t *
s_fake_wait (s_fake_t *f, wes_msg_type_t want, const char *attempt, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    zpoller_t *poller = zpoller_new (f->router, NULL);
    wes_msg_t *found = NULL;
    while (!found && zclock_mono () < deadline) {
        int64_t now = zclock_mono ();
        if (f->beating && f->peer[0] && now >= f->beat_at) {
            s_fake_heartbeat (f, 0, 0);
            f->beat_at = now + f->interval_ms;
        }
        if (!zpoller_wait (poller, 10)) {
            continue;
        }
        zmsg_t *m = zmsg_recv (f->router);
        assert_non_null (m);
        assert_int_equal (zmsg_size (m), 3);
        char *peer = zmsg_popstr (m);
        if (!peer || strcmp (peer, f->name) != 0) {
            fprintf (stderr, "message from a stranger (%s) dropped\n", peer ? peer : "?");
            free (peer);
            zmsg_destroy (&m);
            continue;
        }
        zframe_t *h = zmsg_pop (m);
        zframe_t *b = zmsg_pop (m);
        char reason[160] = "";
        wes_msg_t *msg = wes_proto_decode (zframe_data (h), zframe_size (h), zframe_data (b),
                                           zframe_size (b), reason, sizeof reason);
        if (!msg) {
            fail_msg ("the worker sent a malformed message: %s", reason);
        }
        if (msg->type == WES_MSG_READY) {
            snprintf (f->peer, sizeof f->peer, "%s", peer);
        }
        else {
            assert_string_equal (peer, f->peer);
        }
        if (msg->type == WES_MSG_HEARTBEAT) {
            f->n_beats++;
        }
        if (msg->type == WES_MSG_PROGRESS) {
            f->n_progress++;
            if (msg->rows_done > f->max_rows) {
                f->max_rows = msg->rows_done;
            }
        }
        free (peer);
        zframe_destroy (&h);
        zframe_destroy (&b);
        zmsg_destroy (&m);
        if (msg->type == want
            && (!attempt || (msg->attempt_id && strcmp (msg->attempt_id, attempt) == 0))) {
            found = msg;
        }
        else {
            wes_msg_destroy (&msg);
        }
    }
    zpoller_destroy (&poller);
    return found;
}

/*  Worker started, READY received, HEARTBEAT negotiation sent. */
static void
s_fake_register (s_fake_t *f, const char *name, uint32_t interval_ms, uint32_t liveness)
{
    s_fake_start (f, name, NULL, NULL);
    wes_msg_t *ready = s_fake_wait (f, WES_MSG_READY, NULL, 10000);
    assert_non_null (ready);
    assert_string_equal (ready->worker_id, name);
    assert_string_equal (f->peer, name); /* routing id = worker id */
    wes_msg_destroy (&ready);
    f->interval_ms = interval_ms;
    f->beating = true;
    f->beat_at = zclock_mono () + interval_ms;
    s_fake_heartbeat (f, interval_ms, liveness);
}

/*  --- steps --- */

/*  A one-step plan (tx unless said otherwise) whose ASSIGN this returns. */
static wes_msg_t *
s_assign (const char *attempt, const char *step_slug, wes_step_kind_t kind, const char *table,
          const char *sql, int lock_timeout_ms, uint32_t deadline_ms, char **step_id_out)
{
    wes_plan_t *plan = wes_plan_new ("from", "to");
    wes_step_t *step = wes_plan_add_step (plan, step_slug, WES_PHASE_EXPAND, kind, table,
                                          WES_LOCK_ACCESS_EXCLUSIVE);
    wes_plan_set (&step->sql, sql);
    step->lock_timeout_ms = lock_timeout_ms;
    step->statement_timeout_ms = kind == WES_STEP_TX ? 60000 : 0;
    wes_buf_t *script = wes_buf_new ();
    wes_step_render (script, step, wes_plan_hash (plan), attempt);
    wes_msg_t *a = wes_msg_new (WES_MSG_ASSIGN);
    wes_msg_set (&a->attempt_id, attempt);
    a->epoch = 7;
    wes_msg_set (&a->target, "db-one");
    char *ci = wes_pgfix_conninfo (s_pg, S_DB);
    wes_msg_set (&a->conninfo, ci);
    free (ci);
    wes_msg_set (&a->step_id, step->id);
    a->kind = kind == WES_STEP_NONTX ? WES_KIND_NONTX : WES_KIND_TX;
    wes_msg_set (&a->sql, wes_buf_data (script));
    a->lock_timeout_ms = (uint32_t)lock_timeout_ms;
    a->statement_timeout_ms = (uint32_t)step->statement_timeout_ms;
    a->deadline_ms = deadline_ms;
    a->lock_key = wes_step_lock_key (step);
    if (step_id_out) {
        *step_id_out = wes_strdup (step->id);
    }
    wes_buf_destroy (&script);
    wes_plan_destroy (&plan);
    return a;
}

static char *
s_query (const char *sql)
{
    return wes_pgfix_query_value (s_pg, S_DB, sql);
}

/*  The backend pid of the worker's idle psql session on the test database. */
static char *
s_worker_backend (void)
{
    return s_query ("SELECT string_agg(pid::text, ',') FROM pg_stat_activity WHERE datname = 'wk' "
                    "AND application_name = 'wesley'");
}

static bool
s_log_has (const s_fake_t *f, const char *needle)
{
    char *log = wes_test_read_file (f->log, NULL);
    bool has = log && strstr (log, needle) != NULL;
    free (log);
    return has;
}

/*  SIGTERM with nothing running: DISCONNECT, exit 0. */
static void
s_fake_sigterm_clean (s_fake_t *f)
{
    assert_int_equal (kill (f->pid, SIGTERM), 0);
    wes_msg_t *bye = s_fake_wait (f, WES_MSG_DISCONNECT, NULL, 10000);
    assert_non_null (bye);
    wes_test_has (bye->message, "shutting down");
    wes_msg_destroy (&bye);
    assert_int_equal (wes_test_wait (f->pid, 10000), 0);
    f->pid = 0;
}

/*  --- tests --- */

static void
test_flags (void **state)
{
    (void)state;
    char *out = NULL;
    char cmd[1024];
    snprintf (cmd, sizeof cmd, "%s --help", WES_WORKER_BIN);
    assert_int_equal (wes_test_run (cmd, &out), 0);
    const char *flags[] = {"--connect",      "--id",         "--capacity", "--labels", "--psql",
                           "--heartbeat-ms", "--log-format", "--insecure", "default"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        wes_test_has (out, flags[i]);
    }
    free (out);
    /* without CURVE keys: refused unless --insecure-dev, loopback included */
    const char *plain[] = {"tcp://10.1.2.3:5555", "tcp://127.0.0.1:1"};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        snprintf (cmd, sizeof cmd, "%s --connect %s", WES_WORKER_BIN, plain[i]);
        out = wes_test_expect_output (cmd, 2, "--insecure-dev");
        wes_test_has (out, "wesley keygen");
        free (out);
    }
    /* each bad flag refused for its own reason (plaintext allowed) */
    const char *bad[] = {"--insecure-dev",
                         "--insecure-dev --connect tcp://127.0.0.1:1 --capacity 0",
                         "--insecure-dev --connect tcp://127.0.0.1:1 --heartbeat-ms x",
                         "--insecure-dev --connect tcp://127.0.0.1:1 --log-format xml",
                         "--insecure-dev --connect tcp://127.0.0.1:1 --id 'a b'",
                         "--insecure-dev --connect nowhere",
                         "--insecure-dev --connect tcp://127.0.0.1:1 --bogus 1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf (cmd, sizeof cmd, "%s %s", WES_WORKER_BIN, bad[i]);
        wes_test_expect (cmd, 2, NULL);
    }
    assert_true (wes_worker_endpoint_is_local ("tcp://127.0.0.1:5"));
    assert_true (wes_worker_endpoint_is_local ("tcp://localhost:5"));
    assert_true (wes_worker_endpoint_is_local ("tcp://[::1]:5"));
    assert_true (wes_worker_endpoint_is_local ("ipc:///tmp/x"));
    assert_false (wes_worker_endpoint_is_local ("tcp://127.0.0.1.evil.com:5"));
    assert_false (wes_worker_endpoint_is_local ("tcp://192.168.0.1:5"));
    assert_false (wes_worker_endpoint_is_local ("tcp://*:5"));
}

/*  READY with id, version, capacity, labels; the reply sets the timing;
    heartbeats flow at that interval; SIGTERM when idle. */
static void
test_register_and_heartbeat (void **state)
{
    (void)state;
    static s_fake_t f;
    s_fake_start (&f, "w-reg", NULL, NULL);
    wes_msg_t *ready = s_fake_wait (&f, WES_MSG_READY, NULL, 10000);
    assert_non_null (ready);
    assert_string_equal (ready->worker_id, "w-reg");
    assert_string_equal (ready->version, WES_VERSION);
    assert_int_equal (ready->capacity, 1);
    assert_int_equal (ready->n_labels, 2);
    assert_string_equal (ready->labels[0], "blue");
    assert_string_equal (ready->labels[1], "fast");
    assert_null (ready->attempt_id);
    wes_msg_destroy (&ready);
    /* nothing but READY until the coordinator answers */
    assert_null (s_fake_wait (&f, WES_MSG_HEARTBEAT, NULL, 300));
    f.interval_ms = 100;
    f.beating = true;
    s_fake_heartbeat (&f, 100, 5);
    int64_t t0 = zclock_mono ();
    assert_null (s_fake_wait (&f, WES_MSG_RESULT, NULL, 1000)); /* just count */
    int64_t took = zclock_mono () - t0;
    /* ~10 in a second at 100 ms (the default would give 1) */
    assert_true (f.n_beats >= 6);
    assert_true (f.n_beats <= (int)(took / 100) + 3);
    s_fake_sigterm_clean (&f);
    assert_true (s_log_has (&f, "\"role\":\"worker\""));
    assert_true (s_log_has (&f, "registered with"));
    assert_int_equal (s_fake_accepts (&f, 1, 2000), 1);
    assert_int_equal (s_fake_accepts (&f, 2, 100), 1); /* and no other */
    s_fake_stop (&f);
}

/*  Real rendered steps: OK (ledger row), SKIPPED, FAILED with SQLSTATE,
    RETRYABLE on a lock timeout; one psql session across steps. */
static void
test_steps (void **state)
{
    (void)state;
    static s_fake_t f;
    s_fake_register (&f, "w-steps", 200, 5);

    char *step_id = NULL;
    wes_msg_t *a = s_assign ("e7-1", "create-t1", WES_STEP_TX, "t1",
                             "CREATE TABLE t1 (id int PRIMARY KEY, v text);", 2000, 0, &step_id);
    s_fake_send (&f, a);
    wes_msg_t *r = s_fake_wait (&f, WES_MSG_RESULT, "e7-1", 20000);
    assert_non_null (r);
    assert_int_equal (r->outcome, WES_OUTCOME_OK);
    assert_int_equal (r->epoch, 7);
    assert_true (f.n_progress >= 1); /* the attempt said it started */
    wes_msg_destroy (&r);
    char sql[512];
    snprintf (sql, sizeof sql, "SELECT attempt FROM wesley.applied_steps WHERE step_id = '%s'",
              step_id);
    char *att = s_query (sql);
    assert_non_null (att);
    assert_string_equal (att, "e7-1");
    free (att);
    char *backend1 = s_worker_backend ();
    assert_non_null (backend1);
    assert_null (strchr (backend1, ',')); /* exactly one session */

    /* the same step again (a re-dispatch): the ledger says it is done */
    wes_msg_destroy (&a);
    a = s_assign ("e7-2", "create-t1", WES_STEP_TX, "t1",
                  "CREATE TABLE t1 (id int PRIMARY KEY, v text);", 2000, 0, NULL);
    s_fake_send (&f, a);
    r = s_fake_wait (&f, WES_MSG_RESULT, "e7-2", 20000);
    assert_non_null (r);
    assert_int_equal (r->outcome, WES_OUTCOME_SKIPPED);
    wes_msg_destroy (&r);
    snprintf (sql, sizeof sql, "SELECT count(*) FROM wesley.applied_steps WHERE step_id = '%s'",
              step_id);
    char *count = s_query (sql);
    assert_string_equal (count, "1");
    free (count);
    /* the same psql session ran both (D002) */
    char *backend2 = s_worker_backend ();
    assert_non_null (backend2);
    assert_string_equal (backend1, backend2);
    free (backend1);
    free (backend2);

    /* the kept session's backend goes away while idle (a server restart, a
       DBA's pg_terminate_backend): the next step still succeeds, on a
       fresh psql, without costing the step an attempt */
    char *killed = s_query ("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                            "datname = 'wk' AND application_name = 'wesley'");
    assert_string_equal (killed, "1");
    free (killed);
    wes_msg_destroy (&a);
    a = s_assign ("e7-2b", "create-t2", WES_STEP_TX, "t2", "CREATE TABLE t2 (id int);", 2000, 0,
                  NULL);
    s_fake_send (&f, a);
    r = s_fake_wait (&f, WES_MSG_RESULT, "e7-2b", 20000);
    assert_non_null (r);
    assert_int_equal (r->outcome, WES_OUTCOME_OK);
    wes_msg_destroy (&r);
    assert_true (s_log_has (&f, "the kept psql session was gone"));

    /* a permanent failure: the table exists under another step */
    wes_msg_destroy (&a);
    a = s_assign ("e7-3", "create-t1-again", WES_STEP_TX, "t1", "CREATE TABLE t1 (id int);", 2000,
                  0, NULL);
    s_fake_send (&f, a);
    r = s_fake_wait (&f, WES_MSG_RESULT, "e7-3", 20000);
    assert_non_null (r);
    assert_int_equal (r->outcome, WES_OUTCOME_FAILED);
    assert_string_equal (r->sqlstate, "42P07");
    wes_test_has (r->message, "already exists");
    wes_msg_destroy (&r);

    /* a lock held by an application: lock_timeout, worth retrying */
    PGconn *app = wes_pgfix_connect (s_pg, S_DB);
    assert_non_null (app);
    PGresult *res = wes_pgfix_query (app, "BEGIN; LOCK TABLE t1 IN ACCESS EXCLUSIVE MODE;");
    assert_non_null (res);
    PQclear (res);
    wes_msg_destroy (&a);
    a = s_assign ("e7-4", "add-c", WES_STEP_TX, "t1", "ALTER TABLE t1 ADD COLUMN c int;", 200, 0,
                  NULL);
    s_fake_send (&f, a);
    r = s_fake_wait (&f, WES_MSG_RESULT, "e7-4", 20000);
    assert_non_null (r);
    assert_int_equal (r->outcome, WES_OUTCOME_RETRYABLE);
    assert_string_equal (r->sqlstate, "55P03");
    wes_msg_destroy (&r);
    res = wes_pgfix_query (app, "ROLLBACK");
    PQclear (res);
    PQfinish (app);
    /* and the retry goes through (a fresh psql after the failure) */
    wes_msg_destroy (&a);
    a = s_assign ("e7-5", "add-c", WES_STEP_TX, "t1", "ALTER TABLE t1 ADD COLUMN c int;", 2000, 0,
                  NULL);
    s_fake_send (&f, a);
    r = s_fake_wait (&f, WES_MSG_RESULT, "e7-5", 20000);
    assert_non_null (r);
    assert_int_equal (r->outcome, WES_OUTCOME_OK);
    wes_msg_destroy (&r);

    /* a nontx step (CREATE INDEX CONCURRENTLY, verified valid) */
    wes_msg_destroy (&a);
    a = s_assign ("e7-6", "cic", WES_STEP_NONTX, "t1", "CREATE INDEX CONCURRENTLY t1_v ON t1 (v);",
                  2000, 0, NULL);
    s_fake_send (&f, a);
    r = s_fake_wait (&f, WES_MSG_RESULT, "e7-6", 20000);
    assert_non_null (r);
    assert_int_equal (r->outcome, WES_OUTCOME_OK);
    wes_msg_destroy (&r);
    char *valid = s_query ("SELECT indisvalid FROM pg_index WHERE indexrelid = 't1_v'::regclass");
    assert_string_equal (valid, "t");
    free (valid);
    wes_msg_destroy (&a);
    free (step_id);

    assert_true (s_log_has (&f, "assigned attempt e7-1"));
    assert_true (s_log_has (&f, "attempt e7-3: failed"));
    s_fake_sigterm_clean (&f);
    s_fake_stop (&f);
}

/*  A long step: the worker's loop keeps heartbeating and reports PROGRESS
    while psql runs; a second ASSIGN meanwhile is refused as busy. */
static void
test_long_step (void **state)
{
    (void)state;
    static s_fake_t f;
    s_fake_register (&f, "w-long", 100, 5);
    wes_msg_t *a = s_assign ("e7-10", "long", WES_STEP_TX, NULL,
                             "DO $$ BEGIN RAISE NOTICE 'wesley-progress 10'; "
                             "PERFORM pg_sleep(1); RAISE NOTICE 'wesley-progress 20'; "
                             "PERFORM pg_sleep(1); END $$;",
                             2000, 0, NULL);
    s_fake_send (&f, a);
    wes_msg_t *p = s_fake_wait (&f, WES_MSG_PROGRESS, "e7-10", 10000);
    assert_non_null (p);
    assert_int_equal (p->epoch, 7);
    wes_msg_destroy (&p);
    /* busy: a second ASSIGN is answered at once, the first goes on */
    wes_msg_t *b = s_assign ("e7-11", "other", WES_STEP_TX, NULL, "SELECT 1;", 2000, 0, NULL);
    s_fake_send (&f, b);
    wes_msg_t *rb = s_fake_wait (&f, WES_MSG_RESULT, "e7-11", 5000);
    assert_non_null (rb);
    assert_int_equal (rb->outcome, WES_OUTCOME_FAILED);
    assert_string_equal (rb->message, "busy");
    wes_msg_destroy (&rb);
    f.n_beats = 0;
    int64_t t0 = zclock_mono ();
    wes_msg_t *r = s_fake_wait (&f, WES_MSG_RESULT, "e7-10", 20000);
    int64_t took = zclock_mono () - t0;
    assert_non_null (r);
    assert_int_equal (r->outcome, WES_OUTCOME_OK);
    assert_int_equal (r->rows_done, 20);
    assert_true (r->elapsed_ms >= 2000);
    wes_msg_destroy (&r);
    /* heartbeats kept coming every ~100 ms while psql slept */
    assert_true (took >= 1000);
    assert_true (f.n_beats >= (int)(took / 100) / 2);
    /* the rows reached the coordinator before the end */
    assert_int_equal (f.max_rows, 20);
    wes_msg_destroy (&a);
    wes_msg_destroy (&b);
    s_fake_sigterm_clean (&f);
    s_fake_stop (&f);
}

/*  An attempt past its deadline is cancelled and reported RETRYABLE. */
static void
test_deadline (void **state)
{
    (void)state;
    static s_fake_t f;
    s_fake_register (&f, "w-deadline", 200, 5);
    wes_msg_t *a =
        s_assign ("e7-20", "sleepy", WES_STEP_TX, NULL, "SELECT pg_sleep(60);", 2000, 500, NULL);
    s_fake_send (&f, a);
    int64_t t0 = zclock_mono ();
    wes_msg_t *r = s_fake_wait (&f, WES_MSG_RESULT, "e7-20", 15000);
    assert_non_null (r);
    assert_true (zclock_mono () - t0 < 10000);
    assert_int_equal (r->outcome, WES_OUTCOME_RETRYABLE);
    wes_test_has (r->message, "deadline");
    wes_msg_destroy (&r);
    /* the server is no longer sleeping for us */
    char *n = s_query ("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' "
                       "AND pid <> pg_backend_pid()");
    assert_string_equal (n, "0");
    free (n);
    wes_msg_destroy (&a);
    s_fake_sigterm_clean (&f);
    s_fake_stop (&f);
}

/*  The coordinator falls silent mid-step: the worker gives up the socket,
    connects a new one after a backoff, announces the attempt it holds in
    READY, and delivers that attempt's RESULT once registered again. */
static void
test_reconnect (void **state)
{
    (void)state;
    static s_fake_t f;
    s_fake_register (&f, "w-reconnect", 100, 3);
    char *step_id = NULL;
    /*  The step outlasts the silence by far: the worker must notice it
        (liveness 3 x 100 ms) while psql still sleeps, or it hands the
        RESULT to the old socket and comes back holding no attempt. With
        1.5 s that failed once in CI's sanitizer build, on a busy machine. */
    wes_msg_t *a = s_assign ("e7-30", "slow-create", WES_STEP_TX, "t30",
                             "SELECT pg_sleep(4); CREATE TABLE t30 (id int);", 2000, 0, &step_id);
    s_fake_send (&f, a);
    wes_msg_t *p = s_fake_wait (&f, WES_MSG_PROGRESS, "e7-30", 10000);
    assert_non_null (p);
    wes_msg_destroy (&p);
    /* go silent; the worker must come back on a new connection */
    f.beating = false;
    int64_t t0 = zclock_mono ();
    wes_msg_t *ready = s_fake_wait (&f, WES_MSG_READY, NULL, 10000);
    assert_non_null (ready);
    assert_true (zclock_mono () - t0 >= 250); /* after the liveness window, not before */
    assert_non_null (ready->attempt_id);
    assert_string_equal (ready->attempt_id, "e7-30");
    wes_msg_destroy (&ready);
    assert_int_equal (s_fake_accepts (&f, 2, 2000), 2);
    assert_true (s_log_has (&f, "coordinator silent"));
    /* answer: the attempt's RESULT follows */
    f.beating = true;
    s_fake_heartbeat (&f, 100, 3);
    wes_msg_t *r = s_fake_wait (&f, WES_MSG_RESULT, "e7-30", 20000);
    assert_non_null (r);
    assert_int_equal (r->outcome, WES_OUTCOME_OK);
    assert_int_equal (r->epoch, 7);
    wes_msg_destroy (&r);
    char sql[256];
    snprintf (sql, sizeof sql, "SELECT attempt FROM wesley.applied_steps WHERE step_id = '%s'",
              step_id);
    char *att = s_query (sql);
    assert_non_null (att);
    assert_string_equal (att, "e7-30");
    free (att);
    free (step_id);
    wes_msg_destroy (&a);

    /* silent right after the RESULT: the worker cannot know it arrived, so
       it still announces the attempt and sends its RESULT again */
    f.beating = false;
    ready = s_fake_wait (&f, WES_MSG_READY, NULL, 10000);
    assert_non_null (ready);
    assert_non_null (ready->attempt_id);
    assert_string_equal (ready->attempt_id, "e7-30");
    wes_msg_destroy (&ready);
    f.beating = true;
    s_fake_heartbeat (&f, 100, 3);
    r = s_fake_wait (&f, WES_MSG_RESULT, "e7-30", 5000);
    assert_non_null (r);
    assert_int_equal (r->outcome, WES_OUTCOME_OK);
    wes_msg_destroy (&r);
    /* once the coordinator spoke after it, the RESULT counts as delivered */
    assert_null (s_fake_wait (&f, WES_MSG_RESULT, NULL, 400));
    /* silent again with nothing held: READY without an attempt */
    f.beating = false;
    ready = s_fake_wait (&f, WES_MSG_READY, NULL, 10000);
    assert_non_null (ready);
    assert_null (ready->attempt_id);
    wes_msg_destroy (&ready);
    f.beating = true;
    s_fake_heartbeat (&f, 100, 3);
    /* a DISCONNECT from the coordinator: the worker registers again */
    wes_msg_t *bye = wes_msg_new (WES_MSG_DISCONNECT);
    wes_msg_set (&bye->message, "who are you");
    s_fake_send (&f, bye);
    wes_msg_destroy (&bye);
    ready = s_fake_wait (&f, WES_MSG_READY, NULL, 10000);
    assert_non_null (ready);
    wes_msg_destroy (&ready);
    s_fake_heartbeat (&f, 100, 3);
    s_fake_sigterm_clean (&f);
    s_fake_stop (&f);
}

/*  Garbage from the coordinator is logged and ignored; work goes on. */
static void
test_garbage (void **state)
{
    (void)state;
    static s_fake_t f;
    s_fake_register (&f, "w-garbage", 200, 5);
    /* let registration land */
    wes_msg_t *hb = s_fake_wait (&f, WES_MSG_HEARTBEAT, NULL, 5000);
    assert_non_null (hb);
    wes_msg_destroy (&hb);
    const char *frames[][3] = {
        {"junk", NULL, NULL}, /* one frame */
        {"WS\x01\x03",
         "\x81\xa1"
         "a",
         NULL},                               /* a truncated map */
        {"XX\x01\x02", "\x80", NULL},         /* bad signature */
        {"WS\x09\x02", "\x80", NULL},         /* bad version */
        {"WS\x01\x02", "\x80", "extra"},      /* three frames */
        {"WS\x01\x03", "\xc1\xc1\xc1", NULL}, /* not msgpack */
    };
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
        zmsg_t *m = zmsg_new ();
        zmsg_addstr (m, f.peer);
        for (int k = 0; k < 3 && frames[i][k]; k++) {
            zmsg_addstr (m, frames[i][k]);
        }
        assert_int_equal (zmsg_send (&m, f.router), 0);
    }
    /* an oversized frame is cut by the socket itself (ZMQ_MAXMSGSIZE) */
    size_t big = WES_PROTO_MAX_BODY + 8192u;
    char *huge = wes_alloc (big);
    memset (huge, 'x', big);
    zmsg_t *m = zmsg_new ();
    zmsg_addstr (m, f.peer);
    zmsg_addstr (m, "WS\x01\x03");
    zmsg_addmem (m, huge, big);
    free (huge);
    assert_int_equal (zmsg_send (&m, f.router), 0);
    /* the worker is alive and still works (possibly on a new connection,
       if the oversized frame cost it the old one) */
    int64_t until = zclock_mono () + 1500;
    while (zclock_mono () < until) {
        wes_msg_t *ready = s_fake_wait (&f, WES_MSG_READY, NULL, 100);
        if (ready) {
            s_fake_heartbeat (&f, 200, 5);
            wes_msg_destroy (&ready);
        }
    }
    assert_int_equal (waitpid (f.pid, NULL, WNOHANG), 0);
    wes_msg_t *a =
        s_assign ("e7-40", "after-garbage", WES_STEP_TX, NULL, "SELECT 1;", 2000, 0, NULL);
    s_fake_send (&f, a);
    wes_msg_t *r = s_fake_wait (&f, WES_MSG_RESULT, "e7-40", 20000);
    assert_non_null (r);
    assert_int_equal (r->outcome, WES_OUTCOME_OK);
    wes_msg_destroy (&r);
    wes_msg_destroy (&a);
    assert_true (s_log_has (&f, "malformed message from the coordinator"));
    assert_true (s_log_has (&f, "bad signature"));
    assert_true (s_log_has (&f, "3 frame(s)"));
    s_fake_sigterm_clean (&f);
    s_fake_stop (&f);
}

/*  SIGTERM mid-step: no new work, the running attempt finishes and is
    reported, then DISCONNECT and exit 0. */
static void
test_sigterm_mid_step (void **state)
{
    (void)state;
    static s_fake_t f;
    s_fake_register (&f, "w-term", 200, 5);
    wes_msg_t *a = s_assign ("e7-50", "finish-me", WES_STEP_TX, "t50",
                             "SELECT pg_sleep(1); CREATE TABLE t50 (id int);", 2000, 0, NULL);
    s_fake_send (&f, a);
    wes_msg_t *p = s_fake_wait (&f, WES_MSG_PROGRESS, "e7-50", 10000);
    assert_non_null (p);
    wes_msg_destroy (&p);
    assert_int_equal (kill (f.pid, SIGTERM), 0);
    /* a new ASSIGN now is turned away (retry elsewhere) */
    wes_msg_t *b = s_assign ("e7-51", "too-late", WES_STEP_TX, NULL, "SELECT 1;", 2000, 0, NULL);
    zclock_sleep (50); /* let the signal land first: the assertion below needs it */
    s_fake_send (&f, b);
    wes_msg_t *rb = s_fake_wait (&f, WES_MSG_RESULT, "e7-51", 5000);
    assert_non_null (rb);
    assert_int_equal (rb->outcome, WES_OUTCOME_RETRYABLE);
    wes_msg_destroy (&rb);
    wes_msg_t *r = s_fake_wait (&f, WES_MSG_RESULT, "e7-50", 20000);
    assert_non_null (r);
    assert_int_equal (r->outcome, WES_OUTCOME_OK);
    wes_msg_destroy (&r);
    wes_msg_t *bye = s_fake_wait (&f, WES_MSG_DISCONNECT, NULL, 10000);
    assert_non_null (bye);
    wes_msg_destroy (&bye);
    assert_int_equal (wes_test_wait (f.pid, 10000), 0);
    f.pid = 0;
    char *t = s_query ("SELECT to_regclass('t50') IS NOT NULL");
    assert_string_equal (t, "t");
    free (t);
    wes_msg_destroy (&a);
    wes_msg_destroy (&b);
    s_fake_stop (&f);
}

/*  Ctrl-C on a terminal signals the whole process group, psql included:
    its cancelled statement is no verdict on the step (RETRYABLE, never
    FAILED), and the worker still says goodbye and exits 0. */
static void
test_sigint_group (void **state)
{
    (void)state;
    static s_fake_t f;
    s_fake_register (&f, "w-int", 200, 5);
    wes_msg_t *a = s_assign ("e7-60", "interrupted", WES_STEP_TX, "t60",
                             "SELECT pg_sleep(5); CREATE TABLE t60 (id int);", 2000, 0, NULL);
    s_fake_send (&f, a);
    wes_msg_t *p = s_fake_wait (&f, WES_MSG_PROGRESS, "e7-60", 10000);
    assert_non_null (p);
    wes_msg_destroy (&p);
    /* psql must be inside pg_sleep before the signal */
    int64_t until = zclock_mono () + 10000;
    char *n = NULL;
    while (zclock_mono () < until) {
        free (n);
        n = s_query ("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(5)%' "
                     "AND pid <> pg_backend_pid()");
        if (n && strcmp (n, "1") == 0) {
            break;
        }
        zclock_sleep (20);
    }
    assert_string_equal (n, "1");
    free (n);
    assert_int_equal (kill (-f.pid, SIGINT), 0);
    wes_msg_t *r = s_fake_wait (&f, WES_MSG_RESULT, "e7-60", 20000);
    assert_non_null (r);
    assert_int_equal (r->outcome, WES_OUTCOME_RETRYABLE);
    wes_test_has (r->message, "interrupted");
    wes_msg_destroy (&r);
    wes_msg_t *bye = s_fake_wait (&f, WES_MSG_DISCONNECT, NULL, 10000);
    assert_non_null (bye);
    wes_msg_destroy (&bye);
    assert_int_equal (wes_test_wait (f.pid, 10000), 0);
    f.pid = 0;
    char *t = s_query ("SELECT to_regclass('t60') IS NULL");
    assert_string_equal (t, "t");
    free (t);
    wes_msg_destroy (&a);
    s_fake_stop (&f);
}

/*  --capacity 2: two attempts at once (on one target: two psql sessions),
    a third is refused as busy. */
static void
test_capacity (void **state)
{
    (void)state;
    static s_fake_t f;
    s_fake_start (&f, "w-cap", "--capacity", "2");
    wes_msg_t *ready = s_fake_wait (&f, WES_MSG_READY, NULL, 10000);
    assert_non_null (ready);
    assert_int_equal (ready->capacity, 2);
    wes_msg_destroy (&ready);
    f.interval_ms = 200;
    f.beating = true;
    s_fake_heartbeat (&f, 200, 5);
    wes_msg_t *a =
        s_assign ("e7-70", "par-a", WES_STEP_TX, "ta", "SELECT pg_sleep(1);", 2000, 0, NULL);
    wes_msg_t *b =
        s_assign ("e7-71", "par-b", WES_STEP_TX, "tb", "SELECT pg_sleep(1);", 2000, 0, NULL);
    wes_msg_t *c = s_assign ("e7-72", "par-c", WES_STEP_TX, "tc", "SELECT 1;", 2000, 0, NULL);
    int64_t t0 = zclock_mono ();
    s_fake_send (&f, a);
    s_fake_send (&f, b);
    s_fake_send (&f, c);
    wes_msg_t *rc = s_fake_wait (&f, WES_MSG_RESULT, "e7-72", 5000);
    assert_non_null (rc);
    assert_int_equal (rc->outcome, WES_OUTCOME_FAILED);
    assert_string_equal (rc->message, "busy");
    wes_msg_destroy (&rc);
    /* both finish, in either order */
    bool seen[2] = {false, false};
    for (int k = 0; k < 2; k++) {
        wes_msg_t *r = s_fake_wait (&f, WES_MSG_RESULT, NULL, 10000);
        assert_non_null (r);
        assert_int_equal (r->outcome, WES_OUTCOME_OK);
        int which = strcmp (r->attempt_id, "e7-70") == 0   ? 0
                    : strcmp (r->attempt_id, "e7-71") == 0 ? 1
                                                           : -1;
        wes_msg_destroy (&r);
        assert_true (which >= 0);
        assert_false (seen[which]);
        seen[which] = true;
    }
    /* side by side, not one after the other */
    assert_true (zclock_mono () - t0 < 1900);
    wes_msg_destroy (&a);
    wes_msg_destroy (&b);
    wes_msg_destroy (&c);
    s_fake_sigterm_clean (&f);
    s_fake_stop (&f);
}

static int
s_teardown (void **state)
{
    (void)state;
    if (s_current) {
        s_fake_stop (s_current);
    }
    return 0;
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown (test_flags, s_teardown),
        cmocka_unit_test_teardown (test_register_and_heartbeat, s_teardown),
        cmocka_unit_test_teardown (test_steps, s_teardown),
        cmocka_unit_test_teardown (test_long_step, s_teardown),
        cmocka_unit_test_teardown (test_deadline, s_teardown),
        cmocka_unit_test_teardown (test_reconnect, s_teardown),
        cmocka_unit_test_teardown (test_garbage, s_teardown),
        cmocka_unit_test_teardown (test_sigterm_mid_step, s_teardown),
        cmocka_unit_test_teardown (test_sigint_group, s_teardown),
        cmocka_unit_test_teardown (test_capacity, s_teardown),
    };
    return cmocka_run_group_tests (tests, s_group_setup, s_group_teardown);
}
