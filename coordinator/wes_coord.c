/*  wes_coord.c — the coordinator's ROUTER event loop: worker registry and
    heartbeats, dispatch, results, persistence through wes_store, decisions
    through wes_sched (see wes_coord.h). */
#include "wes_coord.h"

#include <arpa/inet.h>
#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "coordinator/wes_metrics.h"
#include "plan/wes_step.h"
#include "proto/wes_curve.h"
#include "proto/wes_proto.h"
#include "util/wes_buf.h"
#include "util/wes_log.h"

/*  How often the run state and the cancel request are looked at. */
#define S_POLL_STATE_MS 1000
/*  Socket cap: the largest body plus room for the header and routing id. */
#define S_MAX_MSG (WES_PROTO_MAX_BODY + 4096)
/*  How long queued goodbyes may take to leave when the loop ends. */
#define S_LINGER_MS 300
/*  Accepted connections remembered for their peer address (the socket
    monitor names a connection by its file descriptor only). */
#define S_MAX_PEERS 256
/*  A refused peer retries every 100 ms (libzmq's reconnect): one line per
    reason this often, with the count of those not logged. */
#define S_REFUSED_LOG_MS 5000
/*  A refusal whose peer address is unknown (the connection closed before
    its descriptor could be asked) waits for this many more refusals, in
    the hope of one with an address, before it is logged without. */
#define S_REFUSED_ANON_WAIT 10
/*  The socket events the monitor reports. */
#define S_MONITOR_EVENTS                                                                          \
    (ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL            \
     | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)

/*  One step instance (target x step), mirroring its store row. */
typedef struct {
    wes_step_state_t state; /* as stored */
    uint32_t attempts;      /* attempts dispatched */
    char *attempt_id;       /* current or last attempt, or NULL */
    char *worker;           /* worker holding / last holding it, or NULL */
    int64_t not_before_ms;  /* RETRY_WAIT: wall clock ms */
    int64_t started_ms;     /* first dispatch, wall clock */
    int64_t finished_ms;    /* succeeded or failed, wall clock */
    int64_t rows_done;      /* batched: last progress */
    int64_t dispatched_ms;  /* current attempt's dispatch, wall clock */
    char *sqlstate;         /* last failure */
    char *message;          /* last failure */
    int64_t ready_ms;       /* metrics: requeued at, wall clock, 0 if never */
} s_inst_t;

/*  One registered worker. */
typedef struct {
    zframe_t *rid;     /* ROUTER routing id */
    char *id;          /* worker id from READY */
    int64_t last_seen; /* monotonic ms of its last message */
    char *held;        /* attempt it is running (ours or a stale one), or NULL */
    int64_t inst;      /* instance of held when current, else -1 */
    char *key;         /* CURVE public key (Z85, the ZAP User-Id) from READY, or NULL */
} s_worker_t;

/*  An accepted connection, for the log line of a refused handshake. */
typedef struct {
    int fd;        /* its descriptor, or -1 = free slot */
    char addr[64]; /* peer address "ip:port", or "?" */
} s_peer_t;

struct wes_coord {
    wes_store_t *store;         /* borrowed checkpoint store */
    wes_coord_opts_t opts;      /* copied; strings below */
    char *bind;                 /* requested endpoint */
    char *cancel_file;          /* cancel request file, or NULL */
    char *endpoint;             /* bound endpoint */
    char run_label[16];         /* plan hash prefix, for logs */
    wes_plan_t *plan;           /* the run's plan */
    char *plan_hash;            /* its checksum */
    wes_sched_t *sched;         /* frontier and limits */
    size_t n_targets;           /* targets in the run */
    size_t n_steps;             /* steps per target */
    char **names;               /* target names */
    char **conninfos;           /* target connection strings */
    char **groups;              /* target groups (NULL entries allowed) */
    s_inst_t *inst;             /* n_targets x n_steps instances */
    size_t n_done;              /* instances succeeded */
    zhashx_t *current;          /* current attempt id -> instance index + 1 */
    s_worker_t *workers;        /* registry */
    size_t n_workers;           /* registered */
    size_t cap_workers;         /* allocated */
    zsock_t *router;            /* the ROUTER socket */
    bool curve;                 /* CURVE on (curve_secret and curve_allow given) */
    zactor_t *auth;             /* zauth, created before router, destroyed after; or NULL */
    zcert_t *cert;              /* our secret certificate, or NULL */
    wes_curve_allow_t *allow;   /* keys in the allow directory, or NULL */
    zsock_t *monitor;           /* PAIR receiving router's socket events, or NULL */
    char monitor_ep[64];        /* its inproc endpoint */
    s_peer_t peers[S_MAX_PEERS]; /* accepted connections */
    size_t next_peer;           /* slot reused when all are taken */
    char refused[200];          /* a refused handshake waiting for its disconnect, or "" */
    char refused_last[200];     /* the reason last logged */
    int64_t refused_ms;         /* when (monotonic) */
    size_t n_refused;           /* refusals for that reason not logged since */
    size_t n_anon;              /* refusals due for a line but without an address */
    char anon_reason[200];      /* the first of them */
    int64_t anon_ms;            /* when (monotonic) */
    int64_t ignored_ms;         /* last "message from a key not allowed" line */
    size_t n_ignored;           /* such messages not logged since */
    int sigfd;                  /* signalfd for SIGINT/SIGTERM, or -1 */
    uint64_t epoch;             /* run epoch */
    uint64_t counter;           /* attempts made in this epoch */
    uint64_t rng;               /* xorshift state for jitter */
    wes_run_state_t run_state;  /* current run state */
    bool in_tx;                 /* a store transaction is open */
    bool store_broken;          /* a store write failed: stop */
    zmsg_t **out;               /* messages to send after the commit */
    size_t n_out;               /* queued */
    size_t cap_out;             /* allocated */
    wes_metrics_t *metrics;     /* Prometheus registry and HTTP server, or NULL */
    zhashx_t *step_index;       /* metrics: step id -> index + 1, for dependencies */
    int64_t start_ms;           /* metrics: this coordinator's start, wall clock */
    int64_t gate_open_ms;       /* metrics: when the contract gate opened, 0 until */
    int64_t next_gauges_ms;     /* metrics: next gauge snapshot, monotonic */
    int64_t *sent_ready;        /* metrics: ready times of ASSIGNs queued, not yet sent */
    size_t n_sent_ready;        /* queued */
    size_t cap_sent_ready;      /* allocated */
};

static int64_t s_wall (void);
static s_inst_t *s_inst (wes_coord_t *self, size_t idx);
static void s_begin (wes_coord_t *self);
static void s_put (wes_coord_t *self, size_t idx, const char *event, const char *detail);
static void s_set_run_state (wes_coord_t *self, wes_run_state_t st, const char *why);
static void s_queue (wes_coord_t *self, const zframe_t *rid, const wes_msg_t *msg);
static void s_flush (wes_coord_t *self, bool send);
static void s_handle (wes_coord_t *self, zmsg_t *m);
static void s_on_ready (wes_coord_t *self, zframe_t *rid, const wes_msg_t *msg);
static void s_on_progress (wes_coord_t *self, s_worker_t *w, const wes_msg_t *msg);
static void s_on_result (wes_coord_t *self, s_worker_t *w, const char *peer, const wes_msg_t *msg);
static long s_find_worker (wes_coord_t *self, const zframe_t *rid);
static void s_worker_lost (wes_coord_t *self, size_t widx, const char *why);
static void s_worker_remove (wes_coord_t *self, size_t widx);
static void s_dispatch (wes_coord_t *self, size_t widx, uint32_t t, uint32_t s);
static void s_requeue (wes_coord_t *self, size_t idx, const char *why);
static void s_heartbeat_all (wes_coord_t *self);
static void s_expire (wes_coord_t *self, int64_t now);
static void s_check_cancel (wes_coord_t *self);
static bool s_check_end (wes_coord_t *self, wes_run_state_t *final);
static char *s_peer_name (const zframe_t *rid);
static void s_set_str (char **field, const char *value);
static void s_restore_each (const wes_store_step_t *row, void *arg);
static uint64_t s_rand (wes_coord_t *self);
static void s_inst_free (s_inst_t *in);
static int s_metrics_start (wes_coord_t *self, char **error);
static void s_metrics_gauges (wes_coord_t *self, int64_t mono_ms, bool now);
static void s_metrics_dispatched (wes_coord_t *self, size_t idx, int64_t now);
static void s_metrics_sent (wes_coord_t *self);
static int s_commit_timed (wes_coord_t *self);
static void s_linger (wes_coord_t *self);
static bool s_key_allowed (wes_coord_t *self, const zframe_t *rid, const char *key);
static void s_allow_refresh (wes_coord_t *self);
static void s_monitor_start (wes_coord_t *self);
static void s_monitor_read (wes_coord_t *self);
static void s_refused_flush (wes_coord_t *self, const char *addr);
static void s_refused_tick (wes_coord_t *self, int64_t now);

void
wes_coord_opts_init (wes_coord_opts_t *opts)
{
    memset (opts, 0, sizeof *opts);
    opts->bind = "tcp://127.0.0.1:5670";
    opts->interval_ms = WES_COORD_DEFAULT_INTERVAL_MS;
    opts->liveness = WES_COORD_DEFAULT_LIVENESS;
    opts->limits.max_per_target = 1;
    opts->progress = true;
}

bool
wes_coord_endpoint_is_loopback (const char *ep)
{
    if (!ep) {
        return false;
    }
    if (strncmp (ep, "ipc://", 6) == 0 || strncmp (ep, "inproc://", 9) == 0) {
        return true;
    }
    if (strncmp (ep, "tcp://", 6) != 0) {
        return false;
    }
    const char *host = ep + 6;
    const char *colon = strrchr (host, ':');
    if (!colon || strchr (host, ';')) {
        return false;
    }
    size_t n = (size_t) (colon - host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        host++;
        n -= 2;
    }
    if ((n == 9 && strncmp (host, "localhost", 9) == 0) || (n == 3 && strncmp (host, "::1", 3) == 0)
        || (n == 2 && strncmp (host, "lo", 2) == 0)) {
        return true;
    }
    if (n >= 5 && strncmp (host, "127.", 4) == 0) {
        for (size_t i = 4; i < n; i++) {
            if (!(host[i] == '.' || (host[i] >= '0' && host[i] <= '9'))) {
                return false;
            }
        }
        return true;
    }
    return false;
}

wes_coord_t *
wes_coord_new (wes_store_t *store, const wes_coord_opts_t *opts, char **error)
{
    wes_coord_opts_t defaults;
    if (!opts) {
        wes_coord_opts_init (&defaults);
        opts = &defaults;
    }
    char tmp[512];
    bool curve = opts->curve_secret || opts->curve_allow;
    if (curve && !(opts->curve_secret && opts->curve_allow)) {
        *error = wes_strdup ("CURVE needs both --curve-secret FILE (the coordinator's secret "
                             "certificate) and --curve-allow DIR (the allowed workers' public "
                             "certificates), or neither");
        return NULL;
    }
    if (!curve && !opts->insecure) {
        /*  Loopback included: any local user could connect a worker. */
        snprintf (tmp, sizeof tmp,
                  "refusing to bind %s in plaintext: create keys with `wesley keygen` and "
                  "give --curve-secret FILE and --curve-allow DIR, or --insecure-dev for a "
                  "development setup",
                  opts->bind ? opts->bind : "(none)");
        *error = wes_strdup (tmp);
        return NULL;
    }
    json_error_t jerr;
    json_t *doc = json_loads (wes_store_plan_json (store), 0, &jerr);
    if (!doc) {
        snprintf (tmp, sizeof tmp, "the stored plan is not JSON: %s", jerr.text);
        *error = wes_strdup (tmp);
        return NULL;
    }
    char *perr = NULL;
    wes_plan_t *plan = wes_plan_from_json (doc, &perr);
    json_decref (doc);
    if (!plan) {
        snprintf (tmp, sizeof tmp, "the stored plan does not load: %s", perr ? perr : "?");
        free (perr);
        *error = wes_strdup (tmp);
        return NULL;
    }
    if (wes_plan_count (plan) != wes_store_step_count (store)) {
        wes_plan_destroy (&plan);
        *error = wes_strdup ("the stored plan and the store disagree on the number of steps");
        return NULL;
    }
    wes_coord_t *self = wes_new (wes_coord_t);
    self->store = store;
    self->opts = *opts;
    self->bind = wes_strdup (opts->bind);
    self->cancel_file = wes_strdup (opts->cancel_file);
    self->opts.bind = self->bind;
    self->opts.cancel_file = self->cancel_file;
    self->opts.curve_secret = NULL; /* borrowed: read below, not kept */
    self->opts.curve_allow = NULL;
    self->curve = curve;
    for (size_t i = 0; i < S_MAX_PEERS; i++) {
        self->peers[i].fd = -1;
    }
    if (self->opts.interval_ms == 0) {
        self->opts.interval_ms = WES_COORD_DEFAULT_INTERVAL_MS;
    }
    if (self->opts.liveness == 0) {
        self->opts.liveness = WES_COORD_DEFAULT_LIVENESS;
    }
    self->plan = plan;
    self->plan_hash = wes_strdup (wes_plan_hash (plan));
    snprintf (self->run_label, sizeof self->run_label, "%.12s", self->plan_hash);
    self->sigfd = -1;
    self->epoch = wes_store_epoch (store);
    self->run_state = wes_store_run_state (store);
    self->n_targets = wes_store_target_count (store);
    self->n_steps = wes_plan_count (plan);
    self->names = wes_alloc ((self->n_targets + 1) * sizeof (char *));
    self->conninfos = wes_alloc ((self->n_targets + 1) * sizeof (char *));
    self->groups = wes_alloc ((self->n_targets + 1) * sizeof (char *));
    for (size_t i = 0; i < self->n_targets; i++) {
        wes_store_target_t t = wes_store_target (store, i);
        self->names[i] = wes_strdup (t.name);
        self->conninfos[i] = wes_strdup (t.conninfo);
        self->groups[i] = t.group && t.group[0] ? wes_strdup (t.group) : NULL;
    }
    self->inst = wes_alloc ((self->n_targets * self->n_steps + 1) * sizeof (s_inst_t));
    self->current = zhashx_new ();
    uint64_t seed = (uint64_t) zclock_usecs () ^ ((uint64_t) getpid () << 32);
    self->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
    self->sched = wes_sched_new (plan, self->n_targets, (const char *const *) self->groups,
                                 &self->opts.limits);
    if (!self->sched) {
        *error = wes_strdup ("the scheduler refused the plan");
        wes_coord_destroy (&self);
        return NULL;
    }
    if (wes_store_each_step (store, s_restore_each, self) != 0) {
        *error = wes_strdup ("cannot read the step instances from the store");
        wes_coord_destroy (&self);
        return NULL;
    }
    /*  Successes first (they release dependents), then everything that was
        in flight or failed: unknown, to be reconciled by re-dispatch (the
        worker's ledger check reports SKIPPED when it had been applied). */
    size_t total = self->n_targets * self->n_steps;
    for (size_t i = 0; i < total; i++) {
        s_inst_t *in = &self->inst[i];
        uint32_t t = (uint32_t) (i / self->n_steps), s = (uint32_t) (i % self->n_steps);
        if (in->state == WES_SS_SUCCEEDED) {
            wes_sched_restore (self->sched, t, s, WES_SS_SUCCEEDED, in->attempts, 0);
            self->n_done++;
        }
    }
    for (size_t i = 0; i < total; i++) {
        s_inst_t *in = &self->inst[i];
        uint32_t t = (uint32_t) (i / self->n_steps), s = (uint32_t) (i % self->n_steps);
        if (in->state == WES_SS_RETRY_WAIT) {
            wes_sched_restore (self->sched, t, s, WES_SS_RETRY_WAIT, in->attempts,
                               in->not_before_ms);
        }
        else if (in->state == WES_SS_DISPATCHED || in->state == WES_SS_RUNNING
                 || in->state == WES_SS_UNKNOWN || in->state == WES_SS_FAILED) {
            bool failed = in->state == WES_SS_FAILED;
            wes_sched_restore (self->sched, t, s, WES_SS_UNKNOWN, in->attempts, 0);
            if (failed) {
                in->attempts = 0;
                s_requeue (self, i, "failed before; tried again on resume");
            }
            else {
                in->state = WES_SS_UNKNOWN;
                s_begin (self);
                s_put (self, i, "unknown",
                       "in flight when the previous coordinator stopped; reconciled against "
                       "the target's ledger on re-dispatch");
                s_requeue (self, i, "reconciling after restart");
            }
        }
    }
    if (self->in_tx) {
        self->in_tx = false;
        if (wes_store_commit (store) != 0) {
            self->store_broken = true;
        }
    }
    if (self->store_broken) {
        *error = wes_strdup ("cannot write the checkpoint store");
        wes_coord_destroy (&self);
        return NULL;
    }
    /*  Signals: ours, through a signalfd polled with the socket. */
    zsys_handler_set (NULL);
    sigset_t mask;
    sigemptyset (&mask);
    sigaddset (&mask, SIGINT);
    sigaddset (&mask, SIGTERM);
    if (sigprocmask (SIG_BLOCK, &mask, NULL) == 0) {
        self->sigfd = signalfd (-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    }
    signal (SIGPIPE, SIG_IGN);
    if (self->opts.metrics && s_metrics_start (self, error) != 0) {
        wes_coord_destroy (&self);
        return NULL;
    }
    if (!self->metrics && wes_store_set_option (store, "metrics", "") != 0) {
        wes_log (WES_LOG_WARN, self->run_label, NULL, NULL,
                 "cannot clear the metrics address in the store");
    }
    if (curve) {
        char *cerr = NULL;
        self->cert = wes_curve_load_secret (opts->curve_secret, &cerr);
        self->allow = self->cert ? wes_curve_allow_new (opts->curve_allow, &cerr) : NULL;
        if (!self->allow) {
            snprintf (tmp, sizeof tmp, "%s %s", self->cert ? "--curve-allow:" : "--curve-secret:",
                      cerr ? cerr : "cannot load");
            free (cerr);
            *error = wes_strdup (tmp);
            wes_coord_destroy (&self);
            return NULL;
        }
        /*  The ZAP handler before the socket, so that no connection is
            ever admitted without it; destroyed after the socket. */
        self->auth = zactor_new (zauth, NULL);
        if (!self->auth || zstr_sendx (self->auth, "CURVE", opts->curve_allow, NULL) != 0
            || zsock_wait (self->auth) != 0) {
            *error = wes_strdup ("cannot start the CURVE authenticator (zauth)");
            wes_coord_destroy (&self);
            return NULL;
        }
    }
    self->router = zsock_new (ZMQ_ROUTER);
    if (!self->router) {
        *error = wes_strdup ("cannot create the ROUTER socket");
        wes_coord_destroy (&self);
        return NULL;
    }
    if (self->cert) {
        wes_curve_apply_server (self->router, self->cert);
    }
    s_monitor_start (self);
    zsock_set_maxmsgsize (self->router, (int64_t) S_MAX_MSG);
    zsock_set_linger (self->router, S_LINGER_MS);
    zsock_set_sndhwm (self->router, 100000);
    zsock_set_rcvhwm (self->router, 100000);
    if (zsock_bind (self->router, "%s", self->bind) < 0) {
        snprintf (tmp, sizeof tmp, "cannot bind %s: %s", self->bind, zmq_strerror (zmq_errno ()));
        *error = wes_strdup (tmp);
        wes_coord_destroy (&self);
        return NULL;
    }
    self->endpoint = zsock_last_endpoint (self->router);
    if (!self->endpoint) {
        self->endpoint = wes_strdup (self->bind);
    }
    if (wes_store_set_option (store, "endpoint", self->endpoint) != 0) {
        wes_log (WES_LOG_WARN, self->run_label, NULL, NULL,
                 "cannot record the endpoint in the store");
    }
    wes_log (WES_LOG_INFO, self->run_label, NULL, NULL,
             "coordinator bound %s: epoch %" PRIu64 ", %zu targets x %zu steps, %zu done",
             self->endpoint, self->epoch, self->n_targets, self->n_steps, self->n_done);
    if (self->metrics) {
        s_metrics_gauges (self, zclock_mono (), true);
        wes_metrics_set_ready (self->metrics, true);
    }
    if (self->curve) {
        wes_log (WES_LOG_INFO, self->run_label, NULL, NULL,
                 "CURVE on: workers must hold a certificate in %s (%zu there now)",
                 wes_curve_allow_dir (self->allow), wes_curve_allow_count (self->allow));
    }
    else {
        wes_log (WES_LOG_WARN, self->run_label, NULL, NULL,
                 "CURVE off: plaintext, unauthenticated workers (--insecure-dev%s)",
                 wes_coord_endpoint_is_loopback (self->endpoint)
                     ? "; any local user can connect a worker"
                     : "; anyone who reaches the endpoint can connect a worker");
    }
    return self;
}

void
wes_coord_destroy (wes_coord_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wes_coord_t *self = *self_p;
    wes_metrics_destroy (&self->metrics); /* stops the HTTP thread first */
    zhashx_destroy (&self->step_index);
    free (self->sent_ready);
    s_flush (self, false);
    free (self->out);
    for (size_t i = 0; i < self->n_workers; i++) {
        zframe_destroy (&self->workers[i].rid);
        free (self->workers[i].id);
        free (self->workers[i].held);
        free (self->workers[i].key);
    }
    free (self->workers);
    if (self->monitor && self->router) {
        (void) zmq_socket_monitor (zsock_resolve (self->router), NULL, 0);
    }
    zsock_destroy (&self->monitor);
    zsock_destroy (&self->router);
    /*  The ZAP handler outlives the socket it authenticates for. */
    zactor_destroy (&self->auth);
    zcert_destroy (&self->cert);
    wes_curve_allow_destroy (&self->allow);
    if (self->sigfd >= 0) {
        close (self->sigfd);
    }
    zhashx_destroy (&self->current);
    size_t total = self->n_targets * self->n_steps;
    for (size_t i = 0; self->inst && i < total; i++) {
        s_inst_free (&self->inst[i]);
    }
    free (self->inst);
    for (size_t i = 0; i < self->n_targets; i++) {
        free (self->names[i]);
        free (self->conninfos[i]);
        free (self->groups[i]);
    }
    free (self->names);
    free (self->conninfos);
    free (self->groups);
    wes_sched_destroy (&self->sched);
    wes_plan_destroy (&self->plan);
    free (self->plan_hash);
    free (self->endpoint);
    free (self->bind);
    free (self->cancel_file);
    free (self);
    *self_p = NULL;
}

const char *
wes_coord_endpoint (const wes_coord_t *self)
{
    return self->endpoint;
}

wes_run_state_t
wes_coord_run (wes_coord_t *self)
{
    wes_run_state_t final = WES_RUN_RUNNING;
    int64_t next_hb = zclock_mono () + self->opts.interval_ms;
    int64_t next_state = zclock_mono ();
    zmq_pollitem_t items[3];
    memset (items, 0, sizeof items);
    items[0].socket = zsock_resolve (self->router);
    items[0].events = ZMQ_POLLIN;
    int n_items = 1, sig_item = -1, mon_item = -1;
    if (self->sigfd >= 0) {
        sig_item = n_items++;
        items[sig_item].fd = self->sigfd;
        items[sig_item].events = ZMQ_POLLIN;
    }
    if (self->monitor) {
        mon_item = n_items++;
        items[mon_item].socket = zsock_resolve (self->monitor);
        items[mon_item].events = ZMQ_POLLIN;
    }
    bool interrupted = false;
    for (;;) {
        int64_t now = zclock_mono ();
        s_metrics_gauges (self, now, false);
        int64_t timeout = next_hb - now;
        if (next_state - now < timeout) {
            timeout = next_state - now;
        }
        int64_t wake = wes_sched_next_wakeup (self->sched);
        if (wake >= 0 && wake - s_wall () < timeout) {
            timeout = wake - s_wall ();
        }
        if (timeout < 0) {
            timeout = 0;
        }
        int rc = zmq_poll (items, n_items, (long) timeout);
        if (rc < 0 && zmq_errno () != EINTR) {
            wes_log (WES_LOG_ERROR, self->run_label, NULL, NULL, "poll failed: %s",
                     zmq_strerror (zmq_errno ()));
            break;
        }
        if (mon_item >= 0 && (items[mon_item].revents & ZMQ_POLLIN)) {
            s_monitor_read (self);
        }
        if (sig_item >= 0 && (items[sig_item].revents & ZMQ_POLLIN)) {
            struct signalfd_siginfo si;
            while (read (self->sigfd, &si, sizeof si) == (ssize_t) sizeof si) {
                wes_log (WES_LOG_WARN, self->run_label, NULL, NULL,
                         "signal %u: stopping; `wesley resume` carries on", si.ssi_signo);
                interrupted = true;
            }
        }
        if (interrupted) {
            break;
        }
        while (zsock_events (self->router) & ZMQ_POLLIN) {
            zmsg_t *m = zmsg_recv (self->router);
            if (!m) {
                break;
            }
            s_handle (self, m);
            zmsg_destroy (&m);
        }
        now = zclock_mono ();
        s_expire (self, now);
        if (now >= next_hb) {
            s_refused_tick (self, now);
            s_allow_refresh (self);
            s_heartbeat_all (self);
            next_hb = now + self->opts.interval_ms;
        }
        if (now >= next_state) {
            s_check_cancel (self);
            next_state = now + S_POLL_STATE_MS;
        }
        if (self->run_state == WES_RUN_RUNNING) {
            for (size_t w = 0; w < self->n_workers; w++) {
                if (self->workers[w].held) {
                    continue;
                }
                uint32_t t, s;
                if (!wes_sched_pick (self->sched, s_wall (), &t, &s)) {
                    break;
                }
                s_dispatch (self, w, t, s);
            }
        }
        bool end = s_check_end (self, &final);
        if (self->in_tx) {
            self->in_tx = false;
            if (s_commit_timed (self) != 0) {
                self->store_broken = true;
            }
        }
        if (self->store_broken) {
            wes_log (WES_LOG_ERROR, self->run_label, NULL, NULL,
                     "the checkpoint store cannot be written: stopping before acting on "
                     "anything unrecorded; `wesley resume` carries on");
            s_flush (self, false);
            return WES_RUN_RUNNING;
        }
        s_flush (self, true);
        s_metrics_sent (self);
        if (end) {
            break;
        }
    }
    s_metrics_gauges (self, zclock_mono (), true);
    if (interrupted) {
        return WES_RUN_RUNNING;
    }
    if (final != WES_RUN_RUNNING) {
        wes_msg_t *bye = wes_msg_new (WES_MSG_DISCONNECT);
        wes_msg_set (&bye->message,
                     final == WES_RUN_FINISHED ? WES_PROTO_RUN_FINISHED : WES_PROTO_RUN_ENDED);
        for (size_t w = 0; w < self->n_workers; w++) {
            s_queue (self, self->workers[w].rid, bye);
        }
        wes_msg_destroy (&bye);
        s_flush (self, true);
        s_linger (self);
    }
    return final;
}

/* ---------------------------------------------------------------- helpers */

static int64_t
s_wall (void)
{
    return (int64_t) zclock_time ();
}

static s_inst_t *
s_inst (wes_coord_t *self, size_t idx)
{
    wes_assert (idx < self->n_targets * self->n_steps);
    return &self->inst[idx];
}

static void
s_set_str (char **field, const char *value)
{
    char *copy = wes_strdup (value);
    free (*field);
    *field = copy;
}

static void
s_inst_free (s_inst_t *in)
{
    free (in->attempt_id);
    free (in->worker);
    free (in->sqlstate);
    free (in->message);
}

static uint64_t
s_rand (wes_coord_t *self)
{
    uint64_t x = self->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    self->rng = x;
    return x;
}

static void
s_restore_each (const wes_store_step_t *row, void *arg)
{
    wes_coord_t *self = arg;
    if (row->target >= self->n_targets || row->step >= self->n_steps) {
        return;
    }
    s_inst_t *in = s_inst (self, (size_t) row->target * self->n_steps + row->step);
    in->state = row->state;
    in->attempts = row->attempts;
    s_set_str (&in->attempt_id, row->attempt_id);
    s_set_str (&in->worker, row->worker);
    in->not_before_ms = row->not_before_ms;
    in->started_ms = row->started_ms;
    in->finished_ms = row->finished_ms;
    in->rows_done = row->rows_done;
    s_set_str (&in->sqlstate, row->sqlstate);
    s_set_str (&in->message, row->message);
}

static void
s_begin (wes_coord_t *self)
{
    if (!self->in_tx && !self->store_broken) {
        if (wes_store_begin (self->store) != 0) {
            self->store_broken = true;
            return;
        }
        self->in_tx = true;
    }
}

static void
s_put (wes_coord_t *self, size_t idx, const char *event, const char *detail)
{
    s_begin (self);
    s_inst_t *in = s_inst (self, idx);
    wes_store_step_t row = {
        .target = (uint32_t) (idx / self->n_steps),
        .step = (uint32_t) (idx % self->n_steps),
        .state = in->state,
        .attempts = in->attempts,
        .attempt_id = in->attempt_id,
        .worker = in->worker,
        .not_before_ms = in->not_before_ms,
        .started_ms = in->started_ms,
        .finished_ms = in->finished_ms,
        .rows_done = in->rows_done,
        .sqlstate = in->sqlstate,
        .message = in->message,
    };
    if (!self->store_broken && wes_store_put_step (self->store, &row, event, detail) != 0) {
        self->store_broken = true;
    }
}

static void
s_set_run_state (wes_coord_t *self, wes_run_state_t st, const char *why)
{
    if (self->run_state == st) {
        return;
    }
    s_begin (self);
    if (!self->store_broken && wes_store_set_run_state (self->store, st, why) != 0) {
        self->store_broken = true;
    }
    self->run_state = st;
    wes_log (st == WES_RUN_FAILED ? WES_LOG_ERROR : WES_LOG_INFO, self->run_label, NULL, NULL,
             "run %s: %s", wes_run_state_name (st), why);
}

static void
s_queue (wes_coord_t *self, const zframe_t *rid, const wes_msg_t *msg)
{
    uint8_t header[WES_PROTO_HEADER_SIZE];
    uint8_t *body = NULL;
    size_t body_len = 0;
    if (wes_proto_encode (msg, header, &body, &body_len) != 0) {
        wes_log (WES_LOG_ERROR, self->run_label, NULL, NULL,
                 "cannot encode %s (a field breaks a protocol limit)",
                 wes_msg_type_name (msg->type));
        return;
    }
    zmsg_t *m = zmsg_new ();
    zframe_t *to = zframe_dup ((zframe_t *) rid);
    zmsg_append (m, &to);
    zmsg_addmem (m, header, sizeof header);
    zmsg_addmem (m, body, body_len);
    free (body);
    if (self->n_out == self->cap_out) {
        self->cap_out = self->cap_out ? self->cap_out * 2 : 16;
        self->out = wes_realloc (self->out, self->cap_out * sizeof *self->out);
    }
    self->out[self->n_out++] = m;
}

static void
s_flush (wes_coord_t *self, bool send)
{
    for (size_t i = 0; i < self->n_out; i++) {
        if (send && self->router) {
            if (zmsg_send (&self->out[i], self->router) != 0) {
                zmsg_destroy (&self->out[i]);
            }
        }
        else {
            zmsg_destroy (&self->out[i]);
        }
    }
    self->n_out = 0;
}

static char *
s_peer_name (const zframe_t *rid)
{
    return zframe_strhex ((zframe_t *) rid);
}

static long
s_find_worker (wes_coord_t *self, const zframe_t *rid)
{
    for (size_t i = 0; i < self->n_workers; i++) {
        if (zframe_eq (self->workers[i].rid, (zframe_t *) rid)) {
            return (long) i;
        }
    }
    return -1;
}

static void
s_handle (wes_coord_t *self, zmsg_t *m)
{
    size_t frames = zmsg_size (m);
    zframe_t *rid = zmsg_pop (m);
    if (!rid) {
        return;
    }
    /*  The key ZAP admitted the connection with: on the peer's frames
        (the routing id frame the ROUTER makes carries no metadata). */
    char key[WES_CURVE_KEY_TXT + 1] = "";
    zframe_t *first = zmsg_first (m);
    const char *uid = first ? zframe_meta (first, "User-Id") : NULL;
    if (uid) {
        snprintf (key, sizeof key, "%s", uid);
    }
    if (self->curve && !s_key_allowed (self, rid, key)) {
        zframe_destroy (&rid);
        return;
    }
    long widx = s_find_worker (self, rid);
    char *hex = NULL;
    const char *peer = widx >= 0 ? self->workers[widx].id : (hex = s_peer_name (rid));
    if (frames != 3) {
        wes_log (WES_LOG_WARN, self->run_label, NULL, NULL,
                 "peer %s: %zu frames, expected routing id, header and body: ignored", peer,
                 frames);
        free (hex);
        zframe_destroy (&rid);
        return;
    }
    zframe_t *header = zmsg_pop (m);
    zframe_t *body = zmsg_pop (m);
    char reason[256] = "";
    wes_msg_t *msg = wes_proto_decode (zframe_data (header), zframe_size (header),
                                       zframe_data (body), zframe_size (body), reason,
                                       sizeof reason);
    zframe_destroy (&header);
    zframe_destroy (&body);
    if (!msg) {
        wes_log (WES_LOG_WARN, self->run_label, NULL, NULL,
                 "peer %s: malformed message: %s: ignored", peer, reason);
        free (hex);
        zframe_destroy (&rid);
        return;
    }
    s_worker_t *w = widx >= 0 ? &self->workers[widx] : NULL;
    if (w) {
        w->last_seen = zclock_mono ();
    }
    bool unknown = false;
    switch (msg->type) {
    case WES_MSG_READY:
        s_on_ready (self, rid, msg);
        widx = s_find_worker (self, rid);
        if (widx >= 0 && self->curve) {
            s_set_str (&self->workers[widx].key, key);
            wes_log_info ("worker %s authenticated by CURVE key %s", self->workers[widx].id,
                          key);
        }
        break;
    case WES_MSG_HEARTBEAT:
        unknown = !w;
        break;
    case WES_MSG_PROGRESS:
        if (w) {
            s_on_progress (self, w, msg);
        }
        unknown = !w;
        break;
    case WES_MSG_RESULT:
        s_on_result (self, w, peer, msg);
        unknown = !w;
        break;
    case WES_MSG_DISCONNECT:
        if (w) {
            char why[300];
            snprintf (why, sizeof why, "disconnected: %s", msg->message ? msg->message : "");
            s_worker_lost (self, (size_t) widx, why);
            s_worker_remove (self, (size_t) widx);
        }
        break;
    case WES_MSG_ASSIGN:
    default:
        wes_log (WES_LOG_WARN, self->run_label, NULL, NULL,
                 "peer %s: unexpected %s from a worker: ignored", peer,
                 wes_msg_type_name (msg->type));
        break;
    }
    if (unknown) {
        wes_log (WES_LOG_WARN, self->run_label, NULL, NULL,
                 "peer %s: %s from an unregistered worker: told to send READY", peer,
                 wes_msg_type_name (msg->type));
        wes_msg_t *bye = wes_msg_new (WES_MSG_DISCONNECT);
        wes_msg_set (&bye->message, "unknown worker: send READY");
        s_queue (self, rid, bye);
        wes_msg_destroy (&bye);
    }
    wes_msg_destroy (&msg);
    free (hex);
    zframe_destroy (&rid);
}

static void
s_on_ready (wes_coord_t *self, zframe_t *rid, const wes_msg_t *msg)
{
    const char *wid = msg->worker_id && msg->worker_id[0] ? msg->worker_id : "?";
    int64_t take = -1;
    /*  The same socket or the same worker id again: a reconnect. The
        attempt it says it still holds stays with it; anything else the old
        registration held is lost. */
    for (size_t i = 0; i < self->n_workers;) {
        s_worker_t *old = &self->workers[i];
        if (zframe_eq (old->rid, rid) || strcmp (old->id, wid) == 0) {
            if (old->held && msg->attempt_id && strcmp (old->held, msg->attempt_id) == 0) {
                take = old->inst;
                old->inst = -1;
            }
            else {
                s_worker_lost (self, i, "registered again without its attempt");
            }
            s_worker_remove (self, i);
            continue;
        }
        i++;
    }
    if (self->n_workers == self->cap_workers) {
        self->cap_workers = self->cap_workers ? self->cap_workers * 2 : 8;
        self->workers = wes_realloc (self->workers, self->cap_workers * sizeof *self->workers);
    }
    s_worker_t *w = &self->workers[self->n_workers++];
    memset (w, 0, sizeof *w);
    w->rid = zframe_dup (rid);
    w->id = wes_strdup (wid);
    w->last_seen = zclock_mono ();
    w->inst = -1;
    if (msg->attempt_id && msg->attempt_id[0]) {
        w->held = wes_strdup (msg->attempt_id);
        void *v = zhashx_lookup (self->current, msg->attempt_id);
        if (take < 0 && v) {
            take = (int64_t) (uintptr_t) v - 1;
        }
        if (take >= 0) {
            w->inst = take;
            s_set_str (&s_inst (self, (size_t) take)->worker, wid);
            uint32_t bt = (uint32_t)((size_t)take / self->n_steps);
            wes_log_attempt (WES_LOG_INFO, self->run_label, self->names[bt],
                             wes_plan_step (self->plan, (size_t)take % self->n_steps)->id,
                             msg->attempt_id, "worker %s is back with attempt %s", wid,
                             msg->attempt_id);
        }
        else {
            wes_log_attempt (WES_LOG_WARN, self->run_label, NULL, NULL, msg->attempt_id,
                             "worker %s holds attempt %s, which is not current: busy until it "
                             "ends, its result will be ignored",
                             wid, msg->attempt_id);
        }
    }
    wes_log (WES_LOG_INFO, self->run_label, NULL, NULL, "worker %s ready (version %s, capacity %u)",
             wid, msg->version ? msg->version : "?", msg->capacity);
    wes_msg_t *hb = wes_msg_new (WES_MSG_HEARTBEAT);
    hb->interval_ms = self->opts.interval_ms;
    hb->liveness = self->opts.liveness;
    s_queue (self, rid, hb);
    wes_msg_destroy (&hb);
}

static void
s_on_progress (wes_coord_t *self, s_worker_t *w, const wes_msg_t *msg)
{
    (void) w;
    if (msg->epoch != self->epoch || !msg->attempt_id) {
        return;
    }
    void *v = zhashx_lookup (self->current, msg->attempt_id);
    if (!v) {
        return;
    }
    size_t idx = (size_t) (uintptr_t) v - 1;
    s_inst_t *in = s_inst (self, idx);
    bool changed = in->state != WES_SS_RUNNING;
    if (changed) {
        wes_sched_running (self->sched, (uint32_t) (idx / self->n_steps),
                           (uint32_t) (idx % self->n_steps));
    }
    in->state = WES_SS_RUNNING;
    if (msg->rows_done >= 0) {
        in->rows_done = msg->rows_done;
    }
    char detail[64];
    snprintf (detail, sizeof detail, "%" PRId64 " rows", in->rows_done);
    s_put (self, idx, changed ? "running" : "progress", detail);
}

static void
s_on_result (wes_coord_t *self, s_worker_t *w, const char *peer, const wes_msg_t *msg)
{
    const char *aid = msg->attempt_id ? msg->attempt_id : "";
    if (w && w->held && strcmp (w->held, aid) == 0) {
        free (w->held);
        w->held = NULL;
        w->inst = -1;
    }
    if (msg->epoch != self->epoch) {
        wes_log_attempt (WES_LOG_WARN, self->run_label, NULL, NULL, aid,
                         "RESULT ignored: attempt %s from %s is of epoch %" PRIu64
                         ", the run is at epoch %" PRIu64,
                         aid, peer, msg->epoch, self->epoch);
        return;
    }
    void *v = zhashx_lookup (self->current, aid);
    if (!v) {
        wes_log_attempt (WES_LOG_WARN, self->run_label, NULL, NULL, aid,
                         "RESULT ignored: attempt %s from %s is not current (unknown, "
                         "superseded or already ended), outcome %s",
                         aid, peer, wes_outcome_name (msg->outcome));
        return;
    }
    size_t idx = (size_t) (uintptr_t) v - 1;
    zhashx_delete (self->current, aid);
    s_inst_t *in = s_inst (self, idx);
    uint32_t t = (uint32_t) (idx / self->n_steps), s = (uint32_t) (idx % self->n_steps);
    const wes_step_t *step = wes_plan_step (self->plan, s);
    const char *tname = self->names[t];
    int64_t now = s_wall ();
    char detail[600];
    if (self->metrics) {
        wes_metrics_step_duration (self->metrics, step->kind, (double)msg->elapsed_ms / 1000.0);
    }
    if (msg->outcome == WES_OUTCOME_OK || msg->outcome == WES_OUTCOME_SKIPPED) {
        bool skipped = msg->outcome == WES_OUTCOME_SKIPPED;
        in->state = WES_SS_SUCCEEDED;
        in->finished_ms = now;
        if (msg->rows_done > 0) {
            in->rows_done = msg->rows_done;
        }
        snprintf (detail, sizeof detail, "attempt %s on %s, %" PRIu64 " ms%s", aid, peer,
                  msg->elapsed_ms, skipped ? ", already in the ledger" : "");
        s_put (self, idx, skipped ? "skipped" : "succeeded", detail);
        wes_sched_succeeded (self->sched, t, s);
        self->n_done++;
        wes_log_attempt (WES_LOG_INFO, self->run_label, tname, step->id, aid, "%s (%s)",
                         skipped ? "already applied" : "succeeded", detail);
        if (self->opts.progress) {
            printf ("[%zu/%zu] %s %s: %s (%.1f s)\n", self->n_done,
                    self->n_targets * self->n_steps, tname, step->id,
                    skipped ? "already applied" : "ok", (double) msg->elapsed_ms / 1000.0);
            fflush (stdout);
        }
        return;
    }
    s_set_str (&in->sqlstate, msg->sqlstate);
    s_set_str (&in->message, msg->message);
    const char *sqlstate = msg->sqlstate ? msg->sqlstate : "";
    const char *text = msg->message ? msg->message : "";
    int max_attempts = step->max_attempts > 0 ? step->max_attempts : 1;
    if (msg->outcome == WES_OUTCOME_RETRYABLE && in->attempts < (uint32_t) max_attempts) {
        int64_t base = step->base_delay_ms > 0 ? step->base_delay_ms : 100;
        int64_t cap = step->max_delay_ms > 0 ? step->max_delay_ms : 30000;
        int64_t delay = base;
        for (uint32_t k = 1; k < in->attempts && delay < cap; k++) {
            delay *= 2;
        }
        if (delay > cap) {
            delay = cap;
        }
        delay = delay / 2 + (int64_t) (s_rand (self) % (uint64_t) (delay / 2 + 1));
        in->state = WES_SS_RETRY_WAIT;
        in->not_before_ms = now + delay;
        snprintf (detail, sizeof detail, "attempt %s (%u of %d): %s %s; again in %" PRId64 " ms",
                  aid, in->attempts, max_attempts, sqlstate, text, delay);
        s_put (self, idx, "retry", detail);
        wes_sched_retry (self->sched, t, s, in->not_before_ms);
        if (self->metrics) {
            wes_metrics_retry (self->metrics, msg->sqlstate);
        }
        wes_log_attempt (WES_LOG_WARN, self->run_label, tname, step->id, aid,
                         "retryable failure: %s", detail);
        return;
    }
    in->state = WES_SS_FAILED;
    in->finished_ms = now;
    snprintf (detail, sizeof detail, "attempt %s (%u of %d): %s %s%s", aid, in->attempts,
              max_attempts, sqlstate, text,
              msg->outcome == WES_OUTCOME_RETRYABLE ? " (out of attempts)" : "");
    s_put (self, idx, "failed", detail);
    wes_sched_failed (self->sched, t, s);
    wes_log_attempt (WES_LOG_ERROR, self->run_label, tname, step->id, aid, "failed: %s", detail);
    if (self->opts.progress) {
        printf ("%s %s: FAILED %s %s\n", tname, step->id, sqlstate, text);
        fflush (stdout);
    }
    char why[700];
    snprintf (why, sizeof why, "%s %s failed: %s %s", tname, step->id, sqlstate, text);
    s_set_run_state (self, WES_RUN_FAILED, why);
}

static void
s_requeue (wes_coord_t *self, size_t idx, const char *why)
{
    s_inst_t *in = s_inst (self, idx);
    if (in->attempt_id) {
        zhashx_delete (self->current, in->attempt_id);
    }
    uint32_t t = (uint32_t) (idx / self->n_steps), s = (uint32_t) (idx % self->n_steps);
    wes_sched_requeue (self->sched, t, s);
    in->state = WES_SS_READY;
    in->ready_ms = s_wall ();
    s_put (self, idx, "requeued", why);
    wes_log_attempt (WES_LOG_INFO, self->run_label, self->names[t],
                     wes_plan_step (self->plan, s)->id, in->attempt_id, "requeued: %s", why);
}

static void
s_worker_lost (wes_coord_t *self, size_t widx, const char *why)
{
    s_worker_t *w = &self->workers[widx];
    if (w->inst >= 0) {
        size_t li = (size_t)w->inst;
        wes_log_attempt (WES_LOG_WARN, self->run_label, self->names[li / self->n_steps],
                         wes_plan_step (self->plan, li % self->n_steps)->id, w->held,
                         "worker %s lost: %s", w->id, why);
    }
    else {
        wes_log_attempt (WES_LOG_WARN, self->run_label, NULL, NULL, w->held, "worker %s lost: %s",
                         w->id, why);
    }
    if (w->inst < 0) {
        return;
    }
    size_t idx = (size_t) w->inst;
    s_inst_t *in = s_inst (self, idx);
    w->inst = -1;
    if ((in->state == WES_SS_DISPATCHED || in->state == WES_SS_RUNNING) && in->attempt_id
        && w->held && strcmp (in->attempt_id, w->held) == 0) {
        char detail[400];
        snprintf (detail, sizeof detail, "worker %s %s while holding attempt %s", w->id, why,
                  in->attempt_id);
        in->state = WES_SS_UNKNOWN;
        s_put (self, idx, "unknown", detail);
        s_requeue (self, idx, "its worker was lost; re-dispatch reconciles with the ledger");
    }
}

static void
s_worker_remove (wes_coord_t *self, size_t widx)
{
    s_worker_t *w = &self->workers[widx];
    zframe_destroy (&w->rid);
    free (w->id);
    free (w->held);
    free (w->key);
    self->workers[widx] = self->workers[--self->n_workers];
}

static void
s_dispatch (wes_coord_t *self, size_t widx, uint32_t t, uint32_t s)
{
    s_worker_t *w = &self->workers[widx];
    size_t idx = (size_t) t * self->n_steps + s;
    s_inst_t *in = s_inst (self, idx);
    const wes_step_t *step = wes_plan_step (self->plan, s);
    char aid[64];
    snprintf (aid, sizeof aid, "e%" PRIu64 "-%" PRIu64, self->epoch, ++self->counter);
    int64_t now = s_wall ();
    in->state = WES_SS_DISPATCHED;
    in->attempts++;
    s_set_str (&in->attempt_id, aid);
    s_set_str (&in->worker, w->id);
    if (in->started_ms == 0) {
        in->started_ms = now;
    }
    in->dispatched_ms = now;
    in->not_before_ms = 0;
    char detail[300];
    snprintf (detail, sizeof detail, "attempt %s (%u) to worker %s", aid, in->attempts, w->id);
    s_put (self, idx, "dispatched", detail);
    zhashx_insert (self->current, aid, (void *) (uintptr_t) (idx + 1));
    w->held = wes_strdup (aid);
    w->inst = (int64_t) idx;
    wes_buf_t *sql = wes_buf_new ();
    wes_step_render (sql, step, self->plan_hash, aid);
    wes_msg_t *msg = wes_msg_new (WES_MSG_ASSIGN);
    wes_msg_set (&msg->attempt_id, aid);
    wes_msg_set (&msg->run, self->run_label);
    msg->epoch = self->epoch;
    wes_msg_set (&msg->target, self->names[t]);
    wes_msg_set (&msg->conninfo, self->conninfos[t]);
    wes_msg_set (&msg->step_id, step->id);
    msg->kind = step->kind == WES_STEP_NONTX     ? WES_KIND_NONTX
                : step->kind == WES_STEP_BATCHED ? WES_KIND_BATCHED
                                                 : WES_KIND_TX;
    wes_msg_set (&msg->sql, wes_buf_data (sql));
    msg->lock_timeout_ms = step->lock_timeout_ms > 0 ? (uint32_t) step->lock_timeout_ms : 0;
    msg->statement_timeout_ms
        = step->statement_timeout_ms > 0 ? (uint32_t) step->statement_timeout_ms : 0;
    msg->deadline_ms = 0;
    msg->lock_key = wes_step_lock_key (step);
    size_t before = self->n_out;
    s_queue (self, w->rid, msg);
    if (self->n_out > before) {
        s_metrics_dispatched (self, idx, now);
    }
    wes_msg_destroy (&msg);
    wes_buf_destroy (&sql);
    wes_log_attempt (WES_LOG_INFO, self->run_label, self->names[t], step->id, aid, "dispatched %s",
                     detail);
    if (self->n_out == before) {
        /*  Could not be encoded: no worker can ever run it. */
        zhashx_delete (self->current, aid);
        free (w->held);
        w->held = NULL;
        w->inst = -1;
        in->state = WES_SS_FAILED;
        in->finished_ms = now;
        s_set_str (&in->message, "the step's script is larger than a protocol message");
        s_put (self, idx, "failed", in->message);
        wes_sched_failed (self->sched, t, s);
        s_set_run_state (self, WES_RUN_FAILED, "a step's script exceeds the protocol limit");
    }
}

static void
s_heartbeat_all (wes_coord_t *self)
{
    if (self->n_workers == 0) {
        return;
    }
    wes_msg_t *hb = wes_msg_new (WES_MSG_HEARTBEAT);
    for (size_t i = 0; i < self->n_workers; i++) {
        s_queue (self, self->workers[i].rid, hb);
    }
    wes_msg_destroy (&hb);
}

static void
s_expire (wes_coord_t *self, int64_t now)
{
    int64_t window = (int64_t) self->opts.interval_ms * self->opts.liveness;
    for (size_t i = 0; i < self->n_workers;) {
        int64_t silent = now - self->workers[i].last_seen;
        if (silent > window) {
            char why[160];
            snprintf (why, sizeof why, "silent for %" PRId64 " ms (liveness %u x %u ms): dead",
                      silent, self->opts.liveness, self->opts.interval_ms);
            s_worker_lost (self, i, why);
            s_worker_remove (self, i);
            continue;
        }
        i++;
    }
}

static void
s_check_cancel (wes_coord_t *self)
{
    if (self->cancel_file && access (self->cancel_file, F_OK) == 0) {
        if (self->run_state == WES_RUN_RUNNING) {
            s_set_run_state (self, WES_RUN_CANCELLED,
                             "wesley cancel: dispatching nothing new, running steps finish");
        }
        if (unlink (self->cancel_file) != 0) {
            wes_log (WES_LOG_WARN, self->run_label, NULL, NULL, "cannot remove %s: %s",
                     self->cancel_file, strerror (errno));
        }
    }
}

static bool
s_check_end (wes_coord_t *self, wes_run_state_t *final)
{
    if (wes_sched_done (self->sched)) {
        s_set_run_state (self, WES_RUN_FINISHED, "every step of every target succeeded");
        *final = WES_RUN_FINISHED;
        return true;
    }
    size_t inflight = zhashx_size (self->current);
    if (inflight > 0) {
        return false;
    }
    if (self->run_state == WES_RUN_FAILED || self->run_state == WES_RUN_CANCELLED) {
        *final = self->run_state;
        return true;
    }
    if (self->run_state == WES_RUN_RUNNING && self->opts.limits.stop_before_set) {
        /*  Stopped when everything before the stop phase succeeded. */
        size_t total = self->n_targets * self->n_steps;
        for (size_t i = 0; i < total; i++) {
            const wes_step_t *step = wes_plan_step (self->plan, i % self->n_steps);
            if (step->phase < self->opts.limits.stop_before
                && self->inst[i].state != WES_SS_SUCCEEDED) {
                return false;
            }
        }
        char why[128];
        snprintf (why, sizeof why, "every step before %s succeeded; `wesley resume --through "
                                   "PHASE` carries on",
                  wes_phase_name (self->opts.limits.stop_before));
        s_set_run_state (self, WES_RUN_STOPPED, why);
        *final = WES_RUN_STOPPED;
        return true;
    }
    return false;
}

/* ---------------------------------------------------------------- metrics */

/*  How often the gauges (steps by state, targets by phase, workers) are
    recomputed: a scan of every instance, so not on every iteration. */
#define S_GAUGES_EVERY_MS 250

static int
s_metrics_start (wes_coord_t *self, char **error)
{
    /*  Healthy while the loop ticked within a few heartbeat intervals (the
        poll never sleeps longer than one interval or S_POLL_STATE_MS). */
    int64_t stale = 5 * (int64_t)self->opts.interval_ms;
    self->metrics = wes_metrics_new (self->run_label, self->epoch, stale < 5000 ? 5000 : stale);
    if (!self->metrics) {
        *error = wes_strdup ("cannot create the metrics registry");
        return -1;
    }
    if (wes_metrics_listen (self->metrics, self->opts.metrics, error) != 0) {
        return -1;
    }
    self->opts.metrics = NULL; /* the caller's string: used only here */
    self->start_ms = s_wall ();
    self->step_index = zhashx_new ();
    for (size_t s = 0; s < self->n_steps; s++) {
        zhashx_insert (self->step_index, wes_plan_step (self->plan, s)->id,
                       (void *)(uintptr_t)(s + 1));
    }
    wes_metrics_tick (self->metrics, zclock_mono ());
    if (wes_store_set_option (self->store, "metrics", wes_metrics_address (self->metrics)) != 0) {
        wes_log (WES_LOG_WARN, self->run_label, NULL, NULL,
                 "cannot record the metrics address in the store");
    }
    wes_log (WES_LOG_INFO, self->run_label, NULL, NULL,
             "metrics on http://%s/metrics (also /healthz, /readyz)",
             wes_metrics_address (self->metrics));
    return 0;
}

/*  Recomputes the gauges when due (or now): steps by state from the
    scheduler's counts, targets by the phase of their earliest unfinished
    step, workers registered and holding an attempt. */
static void
s_metrics_gauges (wes_coord_t *self, int64_t mono_ms, bool now)
{
    if (!self->metrics) {
        return;
    }
    wes_metrics_tick (self->metrics, mono_ms);
    if (!self->gate_open_ms && wes_sched_gate_open (self->sched)) {
        self->gate_open_ms = s_wall ();
    }
    if (!now && mono_ms < self->next_gauges_ms) {
        return;
    }
    self->next_gauges_ms = mono_ms + S_GAUGES_EVERY_MS;
    wes_metrics_gauges_t g;
    memset (&g, 0, sizeof g);
    for (int st = 0; st < 8; st++) {
        g.steps[st] = wes_sched_count (self->sched, (wes_step_state_t)st);
    }
    for (size_t t = 0; t < self->n_targets; t++) {
        int phase = WES_MPHASE_DONE;
        for (size_t s = 0; s < self->n_steps; s++) {
            wes_step_state_t st = wes_sched_state (self->sched, (uint32_t)t, (uint32_t)s);
            if (st == WES_SS_FAILED) {
                phase = WES_MPHASE_FAILED;
                break;
            }
            int p = (int)wes_plan_step (self->plan, s)->phase;
            if (st != WES_SS_SUCCEEDED && p < phase) {
                phase = p;
            }
        }
        g.targets[phase]++;
    }
    g.workers_connected = self->n_workers;
    for (size_t w = 0; w < self->n_workers; w++) {
        g.workers_busy += self->workers[w].held ? 1 : 0;
    }
    g.run_state = self->run_state;
    wes_metrics_set_gauges (self->metrics, &g);
}

/*  An ASSIGN for instance idx was queued at now: remembers since when the
    instance was ready — the latest of this coordinator's start, its last
    requeue, its retry time, its dependencies' successes on the same target
    and, for contract steps, the opening of the fleet gate. The latency is
    observed when the ASSIGN has left (after the commit). */
static void
s_metrics_dispatched (wes_coord_t *self, size_t idx, int64_t now)
{
    if (!self->metrics) {
        return;
    }
    s_inst_t *in = s_inst (self, idx);
    size_t t = idx / self->n_steps;
    const wes_step_t *step = wes_plan_step (self->plan, idx % self->n_steps);
    int64_t ready = self->start_ms;
    ready = in->ready_ms > ready ? in->ready_ms : ready;
    for (size_t d = 0; d < step->n_deps; d++) {
        void *v = zhashx_lookup (self->step_index, step->deps[d]);
        if (v) {
            int64_t f = self->inst[t * self->n_steps + (size_t)(uintptr_t)v - 1].finished_ms;
            ready = f > ready ? f : ready;
        }
    }
    if (!self->gate_open_ms && wes_sched_gate_open (self->sched)) {
        self->gate_open_ms = now; /* opened by a success earlier in this iteration */
    }
    if (step->phase == WES_PHASE_CONTRACT && self->gate_open_ms > ready) {
        ready = self->gate_open_ms;
    }
    if (ready > now) {
        ready = now;
    }
    if (self->n_sent_ready == self->cap_sent_ready) {
        self->cap_sent_ready = self->cap_sent_ready ? self->cap_sent_ready * 2 : 64;
        self->sent_ready =
            wes_realloc (self->sent_ready, self->cap_sent_ready * sizeof *self->sent_ready);
    }
    self->sent_ready[self->n_sent_ready++] = ready;
}

/*  The queued ASSIGNs were sent: their dispatch latencies. */
static void
s_metrics_sent (wes_coord_t *self)
{
    if (!self->metrics || self->n_sent_ready == 0) {
        return;
    }
    int64_t now = s_wall ();
    for (size_t i = 0; i < self->n_sent_ready; i++) {
        wes_metrics_dispatch_latency (self->metrics, (double)(now - self->sent_ready[i]) / 1000.0);
    }
    self->n_sent_ready = 0;
}

static int
s_commit_timed (wes_coord_t *self)
{
    int64_t t0 = zclock_usecs ();
    int rc = wes_store_commit (self->store);
    if (self->metrics && rc == 0) {
        wes_metrics_checkpoint_write (self->metrics, (double)(zclock_usecs () - t0) / 1e6);
    }
    return rc;
}

/*  After the run ended: keeps serving metrics for --metrics-linger, so a
    scraper sees the final numbers; SIGINT/SIGTERM ends it early. */
static void
s_linger (wes_coord_t *self)
{
    if (!self->metrics || self->opts.metrics_linger_ms == 0) {
        return;
    }
    wes_log (WES_LOG_INFO, self->run_label, NULL, NULL,
             "run ended: serving metrics for %u ms more (SIGTERM ends it)",
             self->opts.metrics_linger_ms);
    int64_t until = zclock_mono () + self->opts.metrics_linger_ms;
    for (int64_t now = zclock_mono (); now < until; now = zclock_mono ()) {
        wes_metrics_tick (self->metrics, now);
        zmq_pollitem_t item = {.fd = self->sigfd, .events = ZMQ_POLLIN};
        int64_t wait = until - now < 500 ? until - now : 500;
        if (self->sigfd < 0) {
            zclock_sleep ((int)wait);
            continue;
        }
        if (zmq_poll (&item, 1, (long)wait) > 0 && (item.revents & ZMQ_POLLIN)) {
            struct signalfd_siginfo si;
            if (read (self->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
                wes_log (WES_LOG_INFO, self->run_label, NULL, NULL, "signal %u: no more lingering",
                         si.ssi_signo);
                return;
            }
        }
    }
}

/* ---------------------------------------------------------------- security */

/*  CURVE: the message's key (the User-Id ZAP gave its connection) must
    still be in the allow directory. A key not in the set read last makes
    the directory be read again (a certificate just added is welcome at
    once; one just removed revokes its worker). */
static bool
s_key_allowed (wes_coord_t *self, const zframe_t *rid, const char *key)
{
    if (key[0] && wes_curve_allow_has (self->allow, key)) {
        return true;
    }
    s_allow_refresh (self);
    if (key[0] && wes_curve_allow_has (self->allow, key)) {
        return true;
    }
    int64_t now = zclock_mono ();
    if (now - self->ignored_ms >= S_REFUSED_LOG_MS) {
        char *hex = s_peer_name (rid);
        wes_log_warn ("peer %s: message from CURVE key %s, which is not in %s (revoked): "
                      "ignored (and %zu more since the last such line)",
                      hex, key[0] ? key : "(none)", wes_curve_allow_dir (self->allow),
                      self->n_ignored);
        free (hex);
        self->ignored_ms = now;
        self->n_ignored = 0;
    }
    else {
        self->n_ignored++;
    }
    return false;
}

/*  Reads the allow directory again if it changed; every registered worker
    whose key is gone is revoked: told DISCONNECT, dropped like a dead
    worker (its attempt becomes UNKNOWN and is requeued; the ledger check
    reconciles it), and never given another step. */
static void
s_allow_refresh (wes_coord_t *self)
{
    if (!self->curve || wes_curve_allow_refresh (self->allow) == 0) {
        return;
    }
    for (size_t i = 0; i < self->n_workers;) {
        s_worker_t *w = &self->workers[i];
        if (w->key && wes_curve_allow_has (self->allow, w->key)) {
            i++;
            continue;
        }
        wes_log (WES_LOG_WARN, self->run_label, NULL, NULL,
                 "worker %s revoked: its certificate (key %s) is no longer in %s", w->id,
                 w->key ? w->key : "?", wes_curve_allow_dir (self->allow));
        wes_msg_t *bye = wes_msg_new (WES_MSG_DISCONNECT);
        wes_msg_set (&bye->message, "revoked: your certificate is no longer allowed");
        s_queue (self, w->rid, bye);
        wes_msg_destroy (&bye);
        s_worker_lost (self, i, "revoked (certificate removed from the allow directory)");
        s_worker_remove (self, i);
    }
}

/*  A monitor on the ROUTER: refused handshakes are logged with the peer's
    address (a worker without keys, with a key not allowed, or with keys
    against a plaintext coordinator). Failing to set it up costs only the
    log lines. */
static void
s_monitor_start (wes_coord_t *self)
{
    snprintf (self->monitor_ep, sizeof self->monitor_ep, "inproc://wes-coord-monitor-%p",
              (void *) self);
    void *h = zsock_resolve (self->router);
    if (zmq_socket_monitor (h, self->monitor_ep, S_MONITOR_EVENTS) != 0) {
        wes_log_warn ("cannot monitor the socket (%s): refused handshakes are not logged",
                      zmq_strerror (zmq_errno ()));
        return;
    }
    self->monitor = zsock_new (ZMQ_PAIR);
    if (!self->monitor || zsock_connect (self->monitor, "%s", self->monitor_ep) != 0) {
        (void) zmq_socket_monitor (h, NULL, 0);
        zsock_destroy (&self->monitor);
        wes_log_warn ("cannot monitor the socket: refused handshakes are not logged");
    }
}

static void
s_monitor_read (wes_coord_t *self)
{
    while (zsock_events (self->monitor) & ZMQ_POLLIN) {
        zmsg_t *m = zmsg_recv (self->monitor);
        if (!m) {
            break;
        }
        zframe_t *head = zmsg_first (m);
        if (!head || zframe_size (head) != 6) {
            zmsg_destroy (&m);
            continue;
        }
        uint16_t event;
        uint32_t value;
        memcpy (&event, zframe_data (head), 2);
        memcpy (&value, zframe_data (head) + 2, 4);
        zmsg_destroy (&m);
        if (event == ZMQ_EVENT_ACCEPTED) {
            s_peer_t *p = NULL;
            for (size_t i = 0; i < S_MAX_PEERS && !p; i++) {
                if (self->peers[i].fd < 0 || self->peers[i].fd == (int) value) {
                    p = &self->peers[i];
                }
            }
            if (!p) {
                p = &self->peers[self->next_peer++ % S_MAX_PEERS];
            }
            p->fd = (int) value;
            snprintf (p->addr, sizeof p->addr, "?");
            struct sockaddr_storage sa;
            socklen_t len = sizeof sa;
            if (getpeername ((int) value, (struct sockaddr *) &sa, &len) == 0) {
                char ip[INET6_ADDRSTRLEN] = "?";
                int port = 0;
                if (sa.ss_family == AF_INET) {
                    struct sockaddr_in *in = (struct sockaddr_in *) &sa;
                    inet_ntop (AF_INET, &in->sin_addr, ip, sizeof ip);
                    port = ntohs (in->sin_port);
                }
                else if (sa.ss_family == AF_INET6) {
                    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &sa;
                    inet_ntop (AF_INET6, &in6->sin6_addr, ip, sizeof ip);
                    port = ntohs (in6->sin6_port);
                }
                snprintf (p->addr, sizeof p->addr, "%s:%d", ip, port);
            }
        }
        else if (event == ZMQ_EVENT_DISCONNECTED) {
            const char *addr = NULL;
            for (size_t i = 0; i < S_MAX_PEERS; i++) {
                if (self->peers[i].fd == (int) value) {
                    addr = self->peers[i].addr;
                    self->peers[i].fd = -1;
                }
            }
            if (self->refused[0]) {
                s_refused_flush (self, addr ? addr : "?");
            }
        }
        else {
            s_refused_flush (self, NULL); /* an earlier one that saw no disconnect */
            if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
                snprintf (self->refused, sizeof self->refused,
                          "its CURVE key is not allowed (ZAP status %u: no certificate of it "
                          "in %s)",
                          value, self->allow ? wes_curve_allow_dir (self->allow) : "?");
            }
            else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
                if (value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH) {
                    snprintf (self->refused, sizeof self->refused, "%s",
                              self->curve ? "it does not speak CURVE (a worker without "
                                            "--curve-secret/--curve-server)"
                                          : "it speaks CURVE but this coordinator runs "
                                            "without keys");
                }
                else if (value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC) {
                    snprintf (self->refused, sizeof self->refused,
                              "CURVE cryptographic error (a worker with the wrong "
                              "--curve-server key?)");
                }
                else {
                    snprintf (self->refused, sizeof self->refused,
                              "protocol error 0x%08x in the handshake", value);
                }
            }
            else {
                snprintf (self->refused, sizeof self->refused, "handshake failed (%s)",
                          zmq_strerror ((int) value));
            }
        }
    }
}

/*  Logs the refused handshake waiting for its disconnect, if any. */
static void
s_refused_flush (wes_coord_t *self, const char *addr)
{
    if (!self->refused[0]) {
        return;
    }
    int64_t now = zclock_mono ();
    bool due = strcmp (self->refused, self->refused_last) != 0
               || now - self->refused_ms >= S_REFUSED_LOG_MS;
    bool known = addr && strcmp (addr, "?") != 0;
    if (due && (known || self->n_anon >= S_REFUSED_ANON_WAIT)) {
        char more[64] = "";
        if (self->n_refused > 0 && strcmp (self->refused, self->refused_last) == 0) {
            snprintf (more, sizeof more, " (%zu more like it not logged)", self->n_refused);
        }
        wes_log (WES_LOG_WARN, self->run_label, NULL, NULL,
                 "worker connection from %s refused: %s; it receives nothing%s",
                 addr ? addr : "?", self->refused, more);
        snprintf (self->refused_last, sizeof self->refused_last, "%s", self->refused);
        self->refused_ms = now;
        self->n_refused = 0;
        self->n_anon = 0;
    }
    else {
        self->n_refused += strcmp (self->refused, self->refused_last) == 0;
        if (due && !known && self->n_anon++ == 0) {
            snprintf (self->anon_reason, sizeof self->anon_reason, "%s", self->refused);
            self->anon_ms = now;
        }
    }
    self->refused[0] = '\0';
}

/*  A refusal without an address still waiting for a better one after a
    second: logged as it is (the peer may not have retried). */
static void
s_refused_tick (wes_coord_t *self, int64_t now)
{
    if (self->n_anon == 0 || now - self->anon_ms < 1000) {
        return;
    }
    wes_log (WES_LOG_WARN, self->run_label, NULL, NULL,
             "worker connection from ? refused: %s; it receives nothing", self->anon_reason);
    snprintf (self->refused_last, sizeof self->refused_last, "%s", self->anon_reason);
    self->refused_ms = now;
    self->n_refused = 0;
    self->n_anon = 0;
}
