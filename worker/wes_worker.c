/*  wes_worker.c — the worker's session with the coordinator (READY,
    heartbeats, reconnects) and its executor (one psql session per target,
    polled in the same loop as the socket). See wes_worker.h. */
#include "wes_worker.h"

#include <czmq.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pg/wes_psql.h"
#include "plan/wes_step.h"
#include "proto/wes_curve.h"
#include "proto/wes_proto.h"
#include "util/wes_buf.h"
#include "util/wes_log.h"

#ifndef WES_VERSION
#define WES_VERSION "0.0.0"
#endif

/*  After psql is asked to cancel its statement (SIGINT: psql sends the
    server a cancel request), how long before it is killed outright. */
#define S_CANCEL_GRACE_MS 2000
/*  While an attempt runs the loop wakes at least this often, to notice a
    psql child that exited after its pipes closed. */
#define S_BUSY_TICK_MS 50
/*  Longest idle poll (nothing running, no timer due sooner). */
#define S_IDLE_TICK_MS 1000
/*  Bounds on what a coordinator may negotiate. */
#define S_MIN_INTERVAL_MS 10u
#define S_MAX_INTERVAL_MS 600000u
#define S_MAX_LIVENESS 1000u
/*  psql sessions kept open beyond the running ones. */
#define S_SPARE_SESSIONS 8u
/*  Longest error message put in a RESULT. */
#define S_MAX_RESULT_MESSAGE 2000u
/*  How long the final DISCONNECT may take to leave. */
#define S_CLOSE_LINGER_MS 1000
/*  The handshake events the socket monitor reports. */
#define S_MONITOR_EVENTS                                                                          \
    (ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL                  \
     | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_SUCCEEDED)

/*  One psql session, kept per target between attempts. */
typedef struct {
    char *target;         /* the target's name, owned */
    char *conninfo;       /* its connection string, owned; never logged */
    wes_psql_t *psql;     /* the session */
    bool in_use;          /* an attempt is running in it */
    bool bootstrapped;    /* Wesley's own schema known to exist on the target */
    int64_t last_used_ms; /* when its last attempt ended */
} s_session_t;

typedef enum {
    S_SLOT_FREE,    /* no attempt */
    S_SLOT_RUNNING, /* psql is running the attempt */
    S_SLOT_DONE     /* finished; RESULT not yet known to have reached the coordinator */
} s_slot_state_t;

/*  One attempt held by the worker. */
typedef struct {
    s_slot_state_t state;   /* see above */
    wes_msg_t *assign;      /* the ASSIGN being run, owned */
    s_session_t *session;   /* borrowed from the pool while RUNNING */
    int64_t started_ms;     /* when psql was given the script */
    int64_t deadline_ms;    /* absolute deadline, 0 = none */
    int64_t kill_at_ms;     /* cancelling: when psql is killed outright */
    const char *cancel_why; /* why it is being cancelled (static text), or NULL */
    int64_t rows_sent;      /* rows in the last PROGRESS sent */
    int64_t progress_at_ms; /* when the last PROGRESS was sent */
    wes_msg_t *result;      /* DONE: the RESULT, owned */
    bool result_sent;       /* sent on the current socket */
    bool reused;            /* its session's psql was already running (kept from before) */
    bool fresh_retry;       /* ran again once on a fresh psql after the kept one was lost */
    uint64_t sent_gen;      /* recv_gen when it was sent */
} s_slot_t;

typedef enum {
    S_LINK_OFFLINE,     /* no socket: waiting for the backoff to pass */
    S_LINK_REGISTERING, /* READY sent, waiting for the coordinator's HEARTBEAT */
    S_LINK_REGISTERED   /* heartbeating */
} s_link_t;

struct wes_worker {
    char *endpoint;            /* coordinator endpoint, owned */
    char *id;                  /* routing id, owned */
    char *psql_bin;            /* psql to run, owned, or NULL for the default */
    bool simulate;               /* --simulate: no database, RESULT OK at once */
    bool exit_when_run_ends;     /* --exit-when-run-ends */
    char **labels;             /* announced labels, owned */
    size_t n_labels;           /* how many */
    uint32_t capacity;         /* attempts at once */
    uint32_t heartbeat_ms;     /* interval before negotiation */
    uint32_t liveness;         /* liveness before negotiation */
    uint32_t reconnect_min_ms; /* first backoff */
    uint32_t reconnect_max_ms; /* backoff cap */
    uint32_t progress_ms;      /* PROGRESS throttle */
    uint32_t drain_ms;         /* shutdown waits this long for running attempts */
    uint32_t idle_session_ms;  /* idle psql sessions are closed after this */
    int wake_fd;               /* stop requests, or -1 */
    zsock_t *sock;             /* DEALER to the coordinator, or NULL when offline */
    unsigned n_sockets;        /* sockets made so far (for the logs) */
    s_link_t link;             /* where the session with the coordinator stands */
    uint32_t interval_ms;      /* current heartbeat interval */
    uint32_t live;             /* current liveness */
    int64_t heard_ms;          /* last valid message from the coordinator (or connect) */
    int64_t beat_at_ms;        /* next HEARTBEAT to send */
    int64_t reconnect_at_ms;   /* OFFLINE: when to make a new socket */
    uint32_t backoff_ms;       /* next backoff before jitter */
    uint64_t recv_gen;         /* valid messages received so far */
    int stop_requests;         /* signals seen */
    int64_t drain_until_ms;    /* stopping: running attempts are cancelled after this */
    s_slot_t *slots;           /* capacity slots */
    s_session_t **sessions;    /* psql sessions, max_sessions entries, NULL = unused */
    size_t max_sessions;       /* capacity + S_SPARE_SESSIONS */
    uint64_t rng;              /* xorshift state for jitter */
    zsock_t *monitor;          /* PAIR receiving sock's handshake events, or NULL */
    unsigned n_refused;        /* failed handshakes on the current socket */
    int refused_rank;          /* how specific the last one logged was (0: none yet) */
    zcert_t *cert;             /* our CURVE certificate (with secret key), or NULL */
    char *server_key;          /* the coordinator's public key (Z85), or NULL */
};

static int64_t s_now (void);
static uint64_t s_rand (wes_worker_t *self);
static bool s_valid_id (const char *id, size_t max, bool allow_at);
static void s_connect (wes_worker_t *self, int64_t now);
static void s_drop (wes_worker_t *self, int64_t now, const char *reason);
static int s_send (wes_worker_t *self, const wes_msg_t *msg);
static void s_recv_all (wes_worker_t *self, int64_t now);
static void s_handle (wes_worker_t *self, wes_msg_t *msg, int64_t now);
static void s_assign (wes_worker_t *self, wes_msg_t **assign_p, int64_t now);
static int s_begin (s_slot_t *slot);
static void s_reply_result (wes_worker_t *self, const wes_msg_t *assign, wes_outcome_t outcome,
                            const char *message);
static void s_run_slots (wes_worker_t *self, int64_t now);
static void s_finish (wes_worker_t *self, s_slot_t *slot, int64_t now);
static void s_cancel (wes_worker_t *self, s_slot_t *slot, int64_t now, const char *why);
static void s_deliver (wes_worker_t *self);
static void s_free_slot (s_slot_t *slot);
static s_session_t *s_session_get (wes_worker_t *self, const char *target, const char *conninfo,
                                   char **error);
static void s_session_free (s_session_t **session_p);
static void s_sessions_expire (wes_worker_t *self, int64_t now);
static const char *s_held_attempt (const wes_worker_t *self);
static size_t s_running (const wes_worker_t *self);
static bool s_undelivered (const wes_worker_t *self);
static int s_timeout (const wes_worker_t *self, int64_t now);
static void s_shutdown (wes_worker_t *self);
static void s_close_sock (wes_worker_t *self);
static void s_monitor_read (wes_worker_t *self);

wes_worker_t *
wes_worker_new (const wes_worker_opts_t *opts, char **error)
{
    char msg[256];
    msg[0] = '\0';
    if (!opts || !opts->endpoint || !opts->endpoint[0]) {
        snprintf (msg, sizeof msg, "no coordinator endpoint given (--connect)");
    }
    else if (!strstr (opts->endpoint, "://")) {
        snprintf (msg, sizeof msg,
                  "endpoint \"%.100s\" is not a ZeroMQ endpoint "
                  "(tcp://host:port, ipc://path)",
                  opts->endpoint);
    }
    else if (opts->id && !s_valid_id (opts->id, WES_WORKER_MAX_ID, true)) {
        snprintf (msg, sizeof msg,
                  "worker id must be 1 to %u characters of "
                  "[A-Za-z0-9_.:@-]",
                  WES_WORKER_MAX_ID);
    }
    else if (opts->capacity > WES_WORKER_MAX_CAPACITY) {
        snprintf (msg, sizeof msg, "capacity %u is over the limit of %u", opts->capacity,
                  WES_WORKER_MAX_CAPACITY);
    }
    else if ((opts->curve_secret != NULL) != (opts->curve_server != NULL)) {
        snprintf (msg, sizeof msg,
                  "CURVE needs both --curve-secret FILE (this worker's secret certificate) "
                  "and --curve-server FILE (the coordinator's public certificate), or neither");
    }
    if (msg[0]) {
        if (error) {
            *error = wes_strdup (msg);
        }
        return NULL;
    }
    wes_worker_t *self = wes_new (wes_worker_t);
    self->endpoint = wes_strdup (opts->endpoint);
    if (opts->id) {
        self->id = wes_strdup (opts->id);
    }
    else {
        char host[256] = "worker";
        if (gethostname (host, sizeof host) != 0) {
            snprintf (host, sizeof host, "worker");
        }
        host[sizeof host - 1] = '\0';
        /* keep only characters a routing id and a log line like */
        for (char *p = host; *p; p++) {
            if (!strchr ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:@-",
                         *p)) {
                *p = '_';
            }
        }
        char id[WES_WORKER_MAX_ID + 1];
        snprintf (id, sizeof id, "%.40s-%ld", host, (long)getpid ());
        self->id = wes_strdup (id);
    }
    self->psql_bin = wes_strdup (opts->psql_bin);
    self->simulate = opts->simulate;
    self->exit_when_run_ends = opts->exit_when_run_ends;
    self->capacity = opts->capacity ? opts->capacity : 1;
    self->heartbeat_ms = opts->heartbeat_ms ? opts->heartbeat_ms : WES_WORKER_HEARTBEAT_MS;
    self->liveness = opts->liveness ? opts->liveness : WES_WORKER_LIVENESS;
    self->reconnect_min_ms =
        opts->reconnect_min_ms ? opts->reconnect_min_ms : WES_WORKER_RECONNECT_MIN_MS;
    self->reconnect_max_ms =
        opts->reconnect_max_ms ? opts->reconnect_max_ms : WES_WORKER_RECONNECT_MAX_MS;
    if (self->reconnect_max_ms < self->reconnect_min_ms) {
        self->reconnect_max_ms = self->reconnect_min_ms;
    }
    self->progress_ms = opts->progress_ms ? opts->progress_ms : WES_WORKER_PROGRESS_MS;
    self->drain_ms = opts->drain_ms ? opts->drain_ms : WES_WORKER_DRAIN_MS;
    self->idle_session_ms =
        opts->idle_session_ms ? opts->idle_session_ms : WES_WORKER_IDLE_SESSION_MS;
    self->wake_fd = opts->wake_fd;

    /* labels: comma-separated, empty items skipped */
    if (opts->labels) {
        const char *p = opts->labels;
        while (*p) {
            size_t n = strcspn (p, ",");
            if (n > 0) {
                if (self->n_labels >= WES_PROTO_MAX_LABELS || n > WES_PROTO_MAX_SHORT) {
                    snprintf (msg, sizeof msg, "labels: at most %u, each at most %u bytes",
                              WES_PROTO_MAX_LABELS, WES_PROTO_MAX_SHORT);
                    break;
                }
                self->labels = wes_realloc (self->labels, sizeof (char *) * (self->n_labels + 1));
                self->labels[self->n_labels++] = wes_strndup (p, n);
            }
            p += n;
            if (*p == ',') {
                p++;
            }
        }
    }
    if (msg[0]) {
        if (error) {
            *error = wes_strdup (msg);
        }
        wes_worker_destroy (&self);
        return NULL;
    }
    if (opts->curve_secret) {
        char *cerr = NULL;
        self->cert = wes_curve_load_secret (opts->curve_secret, &cerr);
        zcert_t *server = self->cert ? wes_curve_load_public (opts->curve_server, &cerr) : NULL;
        if (!server) {
            snprintf (msg, sizeof msg, "%s %s",
                      self->cert ? "--curve-server:" : "--curve-secret:", cerr ? cerr : "?");
            free (cerr);
            if (error) {
                *error = wes_strdup (msg);
            }
            wes_worker_destroy (&self);
            return NULL;
        }
        self->server_key = wes_strdup (zcert_public_txt (server));
        zcert_destroy (&server);
    }
    self->slots = wes_alloc (sizeof (s_slot_t) * self->capacity);
    self->max_sessions = self->capacity + S_SPARE_SESSIONS;
    self->sessions = wes_alloc (sizeof (s_session_t *) * self->max_sessions);
    self->link = S_LINK_OFFLINE;
    self->backoff_ms = self->reconnect_min_ms;
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    self->rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid () << 40);
    if (self->rng == 0) {
        self->rng = 0x9e3779b97f4a7c15ull;
    }
    return self;
}

void
wes_worker_destroy (wes_worker_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wes_worker_t *self = *self_p;
    for (uint32_t i = 0; self->slots && i < self->capacity; i++) {
        s_free_slot (&self->slots[i]);
    }
    free (self->slots);
    for (size_t i = 0; self->sessions && i < self->max_sessions; i++) {
        s_session_free (&self->sessions[i]);
    }
    free (self->sessions);
    s_close_sock (self);
    for (size_t i = 0; i < self->n_labels; i++) {
        free (self->labels[i]);
    }
    free (self->labels);
    free (self->endpoint);
    free (self->id);
    free (self->psql_bin);
    zcert_destroy (&self->cert);
    free (self->server_key);
    free (self);
    *self_p = NULL;
}

const char *
wes_worker_id (const wes_worker_t *self)
{
    return self->id;
}

bool
wes_worker_endpoint_is_local (const char *endpoint)
{
    if (!endpoint) {
        return false;
    }
    if (strncmp (endpoint, "ipc://", 6) == 0 || strncmp (endpoint, "inproc://", 9) == 0) {
        return true;
    }
    if (strncmp (endpoint, "tcp://", 6) != 0) {
        return false;
    }
    const char *host = endpoint + 6;
    /* tcp://source;host:port: the host after the ';' */
    const char *semi = strchr (host, ';');
    if (semi) {
        host = semi + 1;
    }
    if (strncmp (host, "localhost:", 10) == 0 || strncmp (host, "[::1]:", 6) == 0) {
        return true;
    }
    if (strncmp (host, "127.", 4) == 0) {
        const char *p = host + 4;
        int dots = 0;
        while (*p && *p != ':') {
            if (*p == '.') {
                dots++;
            }
            else if (*p < '0' || *p > '9') {
                return false;
            }
            p++;
        }
        return *p == ':' && dots == 2;
    }
    return false;
}

int
wes_worker_run (wes_worker_t *self)
{
    wes_log_info ("worker %s starting: coordinator %s, capacity %u", self->id, self->endpoint,
                  self->capacity);
    int64_t now = s_now ();
    s_connect (self, now);
    for (;;) {
        now = s_now ();
        /* stopping: finished when nothing runs any more and every RESULT
           went out (or there is no more time to wait for the coordinator) */
        if (self->stop_requests > 0 && s_running (self) == 0
            && (!s_undelivered (self) || self->stop_requests > 1 || now >= self->drain_until_ms)) {
            s_shutdown (self);
            return 0;
        }
        zmq_pollitem_t items[3 + WES_WORKER_MAX_CAPACITY * 3];
        size_t n = 0;
        if (self->sock) {
            items[n++] =
                (zmq_pollitem_t){.socket = zsock_resolve (self->sock), .events = ZMQ_POLLIN};
        }
        if (self->monitor) {
            items[n++] =
                (zmq_pollitem_t){.socket = zsock_resolve (self->monitor), .events = ZMQ_POLLIN};
        }
        if (self->wake_fd >= 0) {
            items[n++] = (zmq_pollitem_t){.fd = self->wake_fd, .events = ZMQ_POLLIN};
        }
        for (uint32_t i = 0; i < self->capacity; i++) {
            s_slot_t *slot = &self->slots[i];
            if (slot->state != S_SLOT_RUNNING) {
                continue;
            }
            struct pollfd fds[3];
            size_t k = wes_psql_pollfds (slot->session->psql, fds, 3);
            for (size_t j = 0; j < k; j++) {
                items[n++] = (zmq_pollitem_t){.fd = fds[j].fd, .events = fds[j].events};
            }
        }
        int rc = zmq_poll (items, (int)n, s_timeout (self, now));
        if (rc < 0 && errno != EINTR) {
            wes_log_error ("poll failed: %s", zmq_strerror (errno));
            s_shutdown (self);
            return -1;
        }
        now = s_now ();
        if (self->wake_fd >= 0) {
            char buf[64];
            ssize_t got;
            while ((got = read (self->wake_fd, buf, sizeof buf)) > 0) {
                for (ssize_t i = 0; i < got; i++) {
                    self->stop_requests++;
                    if (self->stop_requests == 1) {
                        self->drain_until_ms = now + self->drain_ms;
                        wes_log_info ("stop requested: taking no more work, waiting up to %u ms "
                                      "for %zu running attempt(s)",
                                      self->drain_ms, s_running (self));
                    }
                    else if (self->stop_requests == 2) {
                        wes_log_warn ("second stop request: cancelling running attempts");
                    }
                }
            }
        }
        if (self->monitor) {
            s_monitor_read (self);
        }
        if (self->sock) {
            s_recv_all (self, now);
        }
        s_run_slots (self, now);
        if (self->stop_requests > 0) {
            bool cancel = self->stop_requests > 1 || now >= self->drain_until_ms;
            for (uint32_t i = 0; cancel && i < self->capacity; i++) {
                if (self->slots[i].state == S_SLOT_RUNNING && !self->slots[i].cancel_why) {
                    s_cancel (self, &self->slots[i], now, "worker shutting down");
                }
            }
        }
        /* the link: silence, heartbeats, reconnects */
        if (self->link != S_LINK_OFFLINE
            && now - self->heard_ms >= (int64_t)self->interval_ms * self->live) {
            char why[128];
            snprintf (why, sizeof why, "coordinator silent for %lld ms (liveness %u x %u ms)",
                      (long long)(now - self->heard_ms), self->live, self->interval_ms);
            s_drop (self, now, why);
        }
        if (self->link == S_LINK_REGISTERED && now >= self->beat_at_ms) {
            wes_msg_t *hb = wes_msg_new (WES_MSG_HEARTBEAT);
            int sent = s_send (self, hb);
            wes_msg_destroy (&hb);
            self->beat_at_ms = now + self->interval_ms;
            if (sent != 0) {
                /* no pipe to the coordinator: libzmq gave the connection up
                   (a protocol error such as an oversized frame ends it for
                   good) or its queue is full; either way it is gone */
                s_drop (self, now, "heartbeat cannot be sent: no connection to the coordinator");
            }
        }
        /* while stopping, reconnect only to hand over results */
        if (self->link == S_LINK_OFFLINE && now >= self->reconnect_at_ms
            && (self->stop_requests == 0 || s_undelivered (self))) {
            s_connect (self, now);
        }
        s_sessions_expire (self, now);
    }
}

/*  --- the link with the coordinator --- */

/*  A new DEALER socket, connected, with READY queued on it. */
static void
s_connect (wes_worker_t *self, int64_t now)
{
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    if (!sock) {
        wes_log_error ("cannot create a socket: %s", zmq_strerror (zmq_errno ()));
        self->reconnect_at_ms = now + self->backoff_ms;
        return;
    }
    zsock_set_linger (sock, 0);
    zsock_set_maxmsgsize (sock, (int)(WES_PROTO_MAX_BODY + 4096u));
    zsock_set_identity (sock, self->id);
    if (self->cert) {
        /* every new socket gets the keys again */
        wes_curve_apply_client (sock, self->cert, self->server_key);
    }
    /* a monitor tells a refused handshake from a silent coordinator */
    char ep[64];
    snprintf (ep, sizeof ep, "inproc://wes-worker-monitor-%p-%u", (void *)self, self->n_sockets);
    self->n_refused = 0;
    self->refused_rank = 0;
    if (zmq_socket_monitor (zsock_resolve (sock), ep, S_MONITOR_EVENTS) == 0) {
        self->monitor = zsock_new (ZMQ_PAIR);
        if (!self->monitor || zsock_connect (self->monitor, "%s", ep) != 0) {
            (void)zmq_socket_monitor (zsock_resolve (sock), NULL, 0);
            zsock_destroy (&self->monitor);
        }
    }
    if (zsock_connect (sock, "%s", self->endpoint) != 0) {
        wes_log_error ("cannot connect to %s: %s", self->endpoint, zmq_strerror (zmq_errno ()));
        if (self->monitor) {
            (void)zmq_socket_monitor (zsock_resolve (sock), NULL, 0);
            zsock_destroy (&self->monitor);
        }
        zsock_destroy (&sock);
        self->reconnect_at_ms = now + self->backoff_ms;
        return;
    }
    self->sock = sock;
    self->n_sockets++;
    self->link = S_LINK_REGISTERING;
    self->interval_ms = self->heartbeat_ms;
    self->live = self->liveness;
    self->heard_ms = now;
    for (uint32_t i = 0; i < self->capacity; i++) {
        self->slots[i].result_sent = false; /* anything sent on an old socket is resent */
    }
    wes_msg_t *ready = wes_msg_new (WES_MSG_READY);
    wes_msg_set (&ready->worker_id, self->id);
    wes_msg_set (&ready->version, WES_VERSION);
    ready->capacity = self->capacity;
    for (size_t i = 0; i < self->n_labels; i++) {
        wes_msg_add_label (ready, self->labels[i]);
    }
    const char *held = s_held_attempt (self);
    wes_msg_set (&ready->attempt_id, held);
    if (held) {
        wes_log_attempt (WES_LOG_INFO, NULL, NULL, NULL, held,
                         "connecting to %s (socket %u), still holding attempt %s", self->endpoint,
                         self->n_sockets, held);
    }
    else {
        wes_log_info ("connecting to %s (socket %u, %s)", self->endpoint, self->n_sockets,
                      self->cert ? "CURVE" : "plaintext");
    }
    if (s_send (self, ready) != 0) {
        wes_log_warn ("READY could not be queued; waiting for the coordinator anyway");
    }
    wes_msg_destroy (&ready);
}

/*  Gives up the socket (its queued messages are dropped) and schedules a
    new one after a jittered, exponential, capped backoff. */
static void
s_drop (wes_worker_t *self, int64_t now, const char *reason)
{
    uint32_t base = self->backoff_ms;
    uint32_t wait = base / 2 + (uint32_t)(s_rand (self) % (uint64_t)(base / 2 + 1));
    wes_log_warn ("disconnected from %s: %s; new socket in %u ms", self->endpoint, reason, wait);
    s_close_sock (self);
    self->link = S_LINK_OFFLINE;
    self->reconnect_at_ms = now + wait;
    self->backoff_ms = base >= self->reconnect_max_ms / 2 ? self->reconnect_max_ms : base * 2;
    for (uint32_t i = 0; i < self->capacity; i++) {
        self->slots[i].result_sent = false;
    }
}

/*  Encodes msg and queues it without ever blocking. 0, or -1 when it could
    not be encoded or the socket would block (no peer, queue full). */
static int
s_send (wes_worker_t *self, const wes_msg_t *msg)
{
    if (!self->sock) {
        return -1;
    }
    uint8_t header[WES_PROTO_HEADER_SIZE];
    uint8_t *body = NULL;
    size_t len = 0;
    if (wes_proto_encode (msg, header, &body, &len) != 0) {
        wes_log_error ("cannot encode %s: a field breaks a protocol limit",
                       wes_msg_type_name (msg->type));
        return -1;
    }
    void *h = zsock_resolve (self->sock);
    int rc = -1;
    if (zmq_send (h, header, sizeof header, ZMQ_SNDMORE | ZMQ_DONTWAIT) == (int)sizeof header) {
        /* the rest of a multipart message is accepted once its first part is */
        rc = zmq_send (h, body, len, ZMQ_DONTWAIT) == (int)len ? 0 : -1;
    }
    free (body);
    return rc;
}

/*  Reads every message waiting on the socket. A message is exactly two
    frames; anything else, or a frame the codec rejects, is logged and
    ignored. */
static void
s_recv_all (wes_worker_t *self, int64_t now)
{
    for (int budget = 0; self->sock && budget < 1000; budget++) {
        void *h = zsock_resolve (self->sock);
        zmq_msg_t parts[2];
        zmq_msg_init (&parts[0]);
        zmq_msg_init (&parts[1]);
        size_t n = 0;
        bool got = false;
        for (;;) {
            zmq_msg_t part;
            zmq_msg_init (&part);
            if (zmq_msg_recv (&part, h, got ? 0 : ZMQ_DONTWAIT) < 0) {
                zmq_msg_close (&part);
                break;
            }
            got = true;
            bool more = zmq_msg_more (&part);
            if (n < 2) {
                zmq_msg_move (&parts[n], &part);
            }
            zmq_msg_close (&part);
            n++;
            if (!more) {
                break;
            }
        }
        if (!got) {
            zmq_msg_close (&parts[0]);
            zmq_msg_close (&parts[1]);
            return;
        }
        if (n != 2) {
            wes_log_warn ("malformed message from the coordinator: %zu frame(s), expected 2; "
                          "ignored",
                          n);
        }
        else {
            char reason[160] = "";
            wes_msg_t *msg = wes_proto_decode (zmq_msg_data (&parts[0]), zmq_msg_size (&parts[0]),
                                               zmq_msg_data (&parts[1]), zmq_msg_size (&parts[1]),
                                               reason, sizeof reason);
            if (!msg) {
                wes_log_warn ("malformed message from the coordinator (%zu + %zu bytes): %s; "
                              "ignored",
                              zmq_msg_size (&parts[0]), zmq_msg_size (&parts[1]),
                              reason[0] ? reason : "rejected");
            }
            else {
                s_handle (self, msg, now);
            }
        }
        zmq_msg_close (&parts[0]);
        zmq_msg_close (&parts[1]);
    }
}

/*  One valid message from the coordinator (takes msg). */
static void
s_handle (wes_worker_t *self, wes_msg_t *msg, int64_t now)
{
    self->heard_ms = now;
    self->recv_gen++;
    /* the coordinator spoke after our RESULT went out: it had it */
    for (uint32_t i = 0; i < self->capacity; i++) {
        s_slot_t *slot = &self->slots[i];
        if (slot->state == S_SLOT_DONE && slot->result_sent && self->recv_gen > slot->sent_gen) {
            s_free_slot (slot);
        }
    }
    switch (msg->type) {
    case WES_MSG_HEARTBEAT:
        if (msg->interval_ms > 0 && msg->liveness > 0) {
            uint32_t iv = msg->interval_ms;
            uint32_t lv = msg->liveness;
            if (iv < S_MIN_INTERVAL_MS || iv > S_MAX_INTERVAL_MS || lv > S_MAX_LIVENESS) {
                wes_log_warn ("coordinator asked for interval %u ms, liveness %u: out of "
                              "bounds, clamped",
                              iv, lv);
                iv = iv < S_MIN_INTERVAL_MS   ? S_MIN_INTERVAL_MS
                     : iv > S_MAX_INTERVAL_MS ? S_MAX_INTERVAL_MS
                                              : iv;
                lv = lv > S_MAX_LIVENESS ? S_MAX_LIVENESS : lv;
            }
            self->interval_ms = iv;
            self->live = lv;
        }
        if (self->link == S_LINK_REGISTERING) {
            self->link = S_LINK_REGISTERED;
            self->backoff_ms = self->reconnect_min_ms;
            self->beat_at_ms = now + self->interval_ms;
            wes_log_info ("registered with %s as %s: heartbeat %u ms, liveness %u", self->endpoint,
                          self->id, self->interval_ms, self->live);
        }
        break;
    case WES_MSG_ASSIGN:
        if (self->link == S_LINK_REGISTERING) {
            /* the coordinator knows us, so the reply to READY was lost or is
               implied: consider ourselves registered */
            self->link = S_LINK_REGISTERED;
            self->backoff_ms = self->reconnect_min_ms;
            self->beat_at_ms = now + self->interval_ms;
        }
        s_assign (self, &msg, now);
        break;
    case WES_MSG_DISCONNECT: {
        char why[300];
        snprintf (why, sizeof why, "coordinator sent DISCONNECT (%.200s)",
                  msg->message && msg->message[0] ? msg->message : "no reason");
        s_drop (self, now, why);
        if (self->exit_when_run_ends && msg->message
            && (strcmp (msg->message, WES_PROTO_RUN_FINISHED) == 0
                || strcmp (msg->message, WES_PROTO_RUN_ENDED) == 0)
            && self->stop_requests == 0) {
            /*  Like a first stop request: nothing new is taken, whatever
                still runs finishes and is reported, then the loop returns. */
            wes_log_info ("the coordinator's run ended (--exit-when-run-ends): stopping");
            self->stop_requests = 1;
            self->drain_until_ms = now + (int64_t) self->drain_ms;
        }
        break;
    }
    default:
        wes_log_warn ("unexpected %s from the coordinator; ignored", wes_msg_type_name (msg->type));
        break;
    }
    wes_msg_destroy (&msg);
    s_deliver (self);
}

/*  --- attempts --- */

static void
s_assign (wes_worker_t *self, wes_msg_t **assign_p, int64_t now)
{
    wes_msg_t *a = *assign_p;
    const char *target = a->target ? a->target : "";
    const char *step = a->step_id ? a->step_id : "";
    wes_log_attempt (
        WES_LOG_INFO, a->run, target, step, a->attempt_id,
        "assigned attempt %s (epoch %llu, %s, lock timeout %u ms, statement timeout %u ms, "
        "deadline %u ms, %zu bytes of SQL)",
        a->attempt_id ? a->attempt_id : "-", (unsigned long long)a->epoch,
        a->kind == WES_KIND_NONTX     ? "nontx"
        : a->kind == WES_KIND_BATCHED ? "batched"
                                      : "tx",
        a->lock_timeout_ms, a->statement_timeout_ms, a->deadline_ms,
        a->sql ? strlen (a->sql) : (size_t)0);
    if (!a->attempt_id || !s_valid_id (a->attempt_id, 64, false)) {
        s_reply_result (self, a, WES_OUTCOME_FAILED,
                        "attempt id must be 1 to 64 characters of [A-Za-z0-9_.:-]");
        return;
    }
    if (self->stop_requests > 0) {
        s_reply_result (self, a, WES_OUTCOME_RETRYABLE, "worker shutting down");
        return;
    }
    if (self->simulate) {
        wes_msg_t *r = wes_msg_new (WES_MSG_RESULT);
        wes_msg_set (&r->attempt_id, a->attempt_id);
        r->epoch = a->epoch;
        r->outcome = WES_OUTCOME_OK;
        if (s_send (self, r) != 0) {
            wes_log_attempt (WES_LOG_WARN, a->run, a->target, a->step_id, a->attempt_id,
                             "RESULT for attempt %s not sent", a->attempt_id);
        }
        wes_msg_destroy (&r);
        return;
    }
    s_slot_t *slot = NULL;
    for (uint32_t i = 0; i < self->capacity && !slot; i++) {
        if (self->slots[i].state == S_SLOT_FREE) {
            slot = &self->slots[i];
        }
    }
    if (!slot) {
        s_reply_result (self, a, WES_OUTCOME_FAILED, "busy");
        return;
    }
    if (!a->sql || !a->sql[0] || !a->target || !a->target[0] || !a->conninfo) {
        s_reply_result (self, a, WES_OUTCOME_FAILED, "ASSIGN without SQL, target or conninfo");
        return;
    }
    char *error = NULL;
    s_session_t *session = s_session_get (self, a->target, a->conninfo, &error);
    if (!session) {
        char why[300];
        snprintf (why, sizeof why, "the target's connection string does not parse: %.200s",
                  error ? error : "?");
        free (error);
        s_reply_result (self, a, WES_OUTCOME_FAILED, why);
        return;
    }
    slot->state = S_SLOT_RUNNING;
    slot->assign = a;
    *assign_p = NULL;
    slot->session = session;
    session->in_use = true;
    slot->started_ms = now;
    slot->deadline_ms = a->deadline_ms ? now + a->deadline_ms : 0;
    slot->kill_at_ms = 0;
    slot->cancel_why = NULL;
    slot->rows_sent = 0;
    slot->progress_at_ms = now;
    slot->result_sent = false;
    slot->reused = wes_psql_pid (session->psql) > 0;
    slot->fresh_retry = false;
    if (s_begin (slot) != 0) {
        s_finish (self, slot, now); /* psql could not start: the status says why */
        return;
    }
    /* the attempt is under way: say so (the coordinator marks it running) */
    wes_msg_t *p = wes_msg_new (WES_MSG_PROGRESS);
    wes_msg_set (&p->attempt_id, a->attempt_id);
    p->epoch = a->epoch;
    p->rows_done = 0;
    if (self->link == S_LINK_REGISTERED && s_send (self, p) != 0) {
        wes_log_debug ("PROGRESS not sent (socket full)");
    }
    wes_msg_destroy (&p);
}

/*  Streams the slot's script into its session. A session's first batch
    bootstraps Wesley's own schema first (idempotent, under its own
    advisory lock). */
static int
s_begin (s_slot_t *slot)
{
    wes_buf_t *script = wes_buf_new ();
    if (!slot->session->bootstrapped) {
        wes_step_render_bootstrap (script);
    }
    wes_buf_puts (script, slot->assign->sql);
    int rc = wes_psql_begin (slot->session->psql, slot->assign->attempt_id, wes_buf_data (script));
    wes_buf_destroy (&script);
    return rc;
}

/*  A RESULT for an ASSIGN that never ran (busy, shutting down, invalid). */
static void
s_reply_result (wes_worker_t *self, const wes_msg_t *assign, wes_outcome_t outcome,
                const char *message)
{
    wes_log_attempt (WES_LOG_WARN, assign->run, assign->target, assign->step_id, assign->attempt_id,
                     "attempt %s refused: %s (%s)", assign->attempt_id ? assign->attempt_id : "-",
                     wes_outcome_name (outcome), message);
    wes_msg_t *r = wes_msg_new (WES_MSG_RESULT);
    wes_msg_set (&r->attempt_id, assign->attempt_id ? assign->attempt_id : "");
    r->epoch = assign->epoch;
    r->outcome = outcome;
    wes_msg_set (&r->sqlstate, "");
    wes_msg_set (&r->message, message);
    if (s_send (self, r) != 0) {
        wes_log_attempt (WES_LOG_WARN, assign->run, assign->target, assign->step_id, assign->attempt_id,
                         "RESULT for attempt %s not sent",
                         assign->attempt_id ? assign->attempt_id : "-");
    }
    wes_msg_destroy (&r);
}

/*  Drives every running attempt: I/O, progress, deadlines, completion. */
static void
s_run_slots (wes_worker_t *self, int64_t now)
{
    for (uint32_t i = 0; i < self->capacity; i++) {
        s_slot_t *slot = &self->slots[i];
        if (slot->state != S_SLOT_RUNNING) {
            continue;
        }
        wes_psql_t *psql = slot->session->psql;
        wes_psql_status_t st = wes_psql_step (psql);
        if (st == WES_PSQL_FAILED && slot->reused && !slot->fresh_retry && !slot->cancel_why
            && self->stop_requests == 0 && wes_psql_connection_lost (psql)) {
            /* The kept session had lost its connection while idle (server
               restart, idle_session_timeout, a terminated backend). Every
               step script is safe to run again (ledger check, INVALID index
               dropped, backfill high-water mark), so run it once more on a
               fresh psql rather than spend one of the step's attempts. */
            wes_log_attempt (
                WES_LOG_INFO, slot->assign->run, slot->assign->target, slot->assign->step_id,
                slot->assign->attempt_id,
                "attempt %s: the kept psql session was gone (%s); once more on a fresh one",
                slot->assign->attempt_id, wes_psql_message (psql));
            slot->fresh_retry = true;
            if (s_begin (slot) == 0) {
                continue;
            }
            st = wes_psql_step (psql);
        }
        if (st != WES_PSQL_RUNNING) {
            s_finish (self, slot, now);
            continue;
        }
        int64_t rows = wes_psql_progress (psql);
        if (rows >= 0 && rows != slot->rows_sent
            && now - slot->progress_at_ms >= (int64_t)self->progress_ms) {
            wes_msg_t *p = wes_msg_new (WES_MSG_PROGRESS);
            wes_msg_set (&p->attempt_id, slot->assign->attempt_id);
            p->epoch = slot->assign->epoch;
            p->rows_done = rows;
            if (self->link == S_LINK_REGISTERED && s_send (self, p) == 0) {
                wes_log_attempt (WES_LOG_DEBUG, slot->assign->run, slot->assign->target, slot->assign->step_id,
                                 slot->assign->attempt_id, "attempt %s: %lld rows",
                                 slot->assign->attempt_id, (long long)rows);
            }
            wes_msg_destroy (&p);
            slot->rows_sent = rows;
            slot->progress_at_ms = now;
        }
        if (slot->deadline_ms && now >= slot->deadline_ms && !slot->cancel_why) {
            s_cancel (self, slot, now, "deadline exceeded");
        }
        if (slot->cancel_why && now >= slot->kill_at_ms) {
            wes_log_attempt (WES_LOG_WARN, slot->assign->run, slot->assign->target, slot->assign->step_id,
                             slot->assign->attempt_id,
                             "attempt %s: psql did not stop after a cancel; killed",
                             slot->assign->attempt_id);
            wes_psql_kill (psql);
            s_finish (self, slot, now);
        }
    }
}

/*  Asks psql to cancel the running statement (SIGINT makes psql send the
    server a cancel request); it is killed if still there after a grace. */
static void
s_cancel (wes_worker_t *self, s_slot_t *slot, int64_t now, const char *why)
{
    (void)self;
    slot->cancel_why = why;
    slot->kill_at_ms = now + S_CANCEL_GRACE_MS;
    pid_t pid = wes_psql_pid (slot->session->psql);
    wes_log_attempt (WES_LOG_WARN, slot->assign->run, slot->assign->target, slot->assign->step_id,
                     slot->assign->attempt_id, "attempt %s: %s after %lld ms; cancelling",
                     slot->assign->attempt_id, why, (long long)(now - slot->started_ms));
    if (pid > 0) {
        kill (pid, SIGINT);
    }
}

/*  The attempt in slot ended (psql's status says how): RESULT, logged,
    delivered now or when the coordinator is back. */
static void
s_finish (wes_worker_t *self, s_slot_t *slot, int64_t now)
{
    wes_psql_t *psql = slot->session->psql;
    wes_psql_status_t st = wes_psql_step (psql);
    wes_msg_t *r = wes_msg_new (WES_MSG_RESULT);
    wes_msg_set (&r->attempt_id, slot->assign->attempt_id);
    r->epoch = slot->assign->epoch;
    const char *sqlstate = "";
    char message[S_MAX_RESULT_MESSAGE + 1];
    message[0] = '\0';
    if (st == WES_PSQL_OK) {
        bool skipped = strstr (wes_psql_stdout (psql), WES_STEP_SKIP_MARK) != NULL;
        r->outcome = skipped ? WES_OUTCOME_SKIPPED : WES_OUTCOME_OK;
        snprintf (message, sizeof message, "%s", skipped ? "already applied" : "applied");
        slot->session->bootstrapped = true;
    }
    else {
        sqlstate = wes_psql_sqlstate (psql);
        const char *m = wes_psql_message (psql);
        if (slot->cancel_why) {
            r->outcome = WES_OUTCOME_RETRYABLE;
            snprintf (message, sizeof message, "%s after %lld ms%s%.1900s", slot->cancel_why,
                      (long long)(now - slot->started_ms), m[0] ? ": " : "", m);
        }
        else if (self->stop_requests > 0 && (!sqlstate[0] || strcmp (sqlstate, "57014") == 0)) {
            /* A Ctrl-C on a terminal reaches psql too (same process group):
               its statement was cancelled or psql quit. That is no verdict
               on the step. */
            r->outcome = WES_OUTCOME_RETRYABLE;
            snprintf (message, sizeof message, "interrupted while the worker was stopping%s%.1900s",
                      m[0] ? ": " : "", m);
        }
        else {
            r->outcome = wes_psql_retryable (psql) ? WES_OUTCOME_RETRYABLE : WES_OUTCOME_FAILED;
            snprintf (message, sizeof message, "%s", m[0] ? m : "psql failed");
        }
    }
    wes_msg_set (&r->sqlstate, sqlstate);
    wes_msg_set (&r->message, message);
    r->elapsed_ms = (uint64_t)(now - slot->started_ms);
    int64_t rows = wes_psql_progress (psql);
    r->rows_done = rows > 0 ? rows : 0;
    wes_log_attempt (
        r->outcome == WES_OUTCOME_OK || r->outcome == WES_OUTCOME_SKIPPED ? WES_LOG_INFO
                                                                          : WES_LOG_WARN,
        slot->assign->run, slot->assign->target, slot->assign->step_id, slot->assign->attempt_id,
        "attempt %s: %s in %llu ms%s%s%s%s", slot->assign->attempt_id,
        wes_outcome_name (r->outcome), (unsigned long long)r->elapsed_ms,
        sqlstate[0] ? ", sqlstate " : "", sqlstate, r->outcome == WES_OUTCOME_OK ? "" : ": ",
        r->outcome == WES_OUTCOME_OK ? "" : message);
    slot->session->in_use = false;
    slot->session->last_used_ms = now;
    slot->session = NULL;
    slot->result = r;
    slot->state = S_SLOT_DONE;
    slot->result_sent = false;
    s_deliver (self);
}

/*  Sends every finished attempt's RESULT not yet sent on this socket. */
static void
s_deliver (wes_worker_t *self)
{
    if (self->link != S_LINK_REGISTERED) {
        return;
    }
    for (uint32_t i = 0; i < self->capacity; i++) {
        s_slot_t *slot = &self->slots[i];
        if (slot->state != S_SLOT_DONE || slot->result_sent) {
            continue;
        }
        if (s_send (self, slot->result) == 0) {
            slot->result_sent = true;
            slot->sent_gen = self->recv_gen;
        }
    }
}

static void
s_free_slot (s_slot_t *slot)
{
    if (slot->session) {
        slot->session->in_use = false;
    }
    wes_msg_destroy (&slot->assign);
    wes_msg_destroy (&slot->result);
    *slot = (s_slot_t){.state = S_SLOT_FREE};
}

/*  The attempt to announce in READY: a running one, else a finished one
    whose RESULT the coordinator may not have. */
static const char *
s_held_attempt (const wes_worker_t *self)
{
    for (uint32_t i = 0; i < self->capacity; i++) {
        if (self->slots[i].state == S_SLOT_RUNNING) {
            return self->slots[i].assign->attempt_id;
        }
    }
    for (uint32_t i = 0; i < self->capacity; i++) {
        if (self->slots[i].state == S_SLOT_DONE) {
            return self->slots[i].assign->attempt_id;
        }
    }
    return NULL;
}

static size_t
s_running (const wes_worker_t *self)
{
    size_t n = 0;
    for (uint32_t i = 0; i < self->capacity; i++) {
        n += self->slots[i].state == S_SLOT_RUNNING;
    }
    return n;
}

/*  A finished attempt whose RESULT has not gone out on the current socket. */
static bool
s_undelivered (const wes_worker_t *self)
{
    for (uint32_t i = 0; i < self->capacity; i++) {
        if (self->slots[i].state == S_SLOT_DONE && !self->slots[i].result_sent) {
            return true;
        }
    }
    return false;
}

/*  Stopping with nothing running: hand over the results we can, say
    goodbye, and give the last messages a moment to leave. */
static void
s_shutdown (wes_worker_t *self)
{
    /* registering counts too: the coordinator may know us from an earlier
       socket, and a goodbye it did not need costs nothing */
    if (self->sock) {
        s_deliver (self);
        wes_msg_t *bye = wes_msg_new (WES_MSG_DISCONNECT);
        wes_msg_set (&bye->message, "worker shutting down");
        if (s_send (self, bye) != 0) {
            wes_log_warn ("DISCONNECT could not be queued");
        }
        wes_msg_destroy (&bye);
    }
    for (uint32_t i = 0; i < self->capacity; i++) {
        if (self->slots[i].state == S_SLOT_DONE && !self->slots[i].result_sent) {
            wes_log_attempt (WES_LOG_WARN, self->slots[i].assign->run, self->slots[i].assign->target,
                             self->slots[i].assign->step_id, self->slots[i].assign->attempt_id,
                             "RESULT of attempt %s could not be delivered (not registered); the "
                             "coordinator will reconcile it from the target's ledger",
                             self->slots[i].assign->attempt_id);
        }
    }
    if (self->sock) {
        zsock_set_linger (self->sock, S_CLOSE_LINGER_MS);
        s_close_sock (self);
    }
    wes_log_info ("disconnected from %s: worker shutting down", self->endpoint);
    self->link = S_LINK_OFFLINE;
}

/*  --- psql sessions --- */

/*  An idle session for target with this conninfo, or a new one (the least
    recently used idle session is closed when the pool is full). */
static s_session_t *
s_session_get (wes_worker_t *self, const char *target, const char *conninfo, char **error)
{
    s_session_t **free_entry = NULL;
    s_session_t **lru = NULL;
    for (size_t i = 0; i < self->max_sessions; i++) {
        s_session_t **e = &self->sessions[i];
        if (!*e) {
            if (!free_entry) {
                free_entry = e;
            }
            continue;
        }
        if ((*e)->in_use) {
            continue;
        }
        if (strcmp ((*e)->target, target) == 0) {
            if (strcmp ((*e)->conninfo, conninfo) == 0) {
                return *e;
            }
            s_session_free (e); /* the target moved: its old session is useless */
            if (!free_entry) {
                free_entry = e;
            }
            continue;
        }
        if (!lru || (*e)->last_used_ms < (*lru)->last_used_ms) {
            lru = e;
        }
    }
    if (!free_entry) {
        wes_assert (lru); /* capacity slots can hold at most capacity sessions */
        s_session_free (lru);
        free_entry = lru;
    }
    wes_psql_t *psql = wes_psql_new (self->psql_bin, conninfo, error);
    if (!psql) {
        return NULL;
    }
    s_session_t *s = wes_new (s_session_t);
    s->target = wes_strdup (target);
    s->conninfo = wes_strdup (conninfo);
    s->psql = psql;
    *free_entry = s;
    wes_log (WES_LOG_DEBUG, NULL, target, NULL, "new psql session");
    return s;
}

static void
s_session_free (s_session_t **session_p)
{
    if (!*session_p) {
        return;
    }
    s_session_t *s = *session_p;
    wes_psql_destroy (&s->psql);
    free (s->target);
    free (s->conninfo);
    free (s);
    *session_p = NULL;
}

static void
s_sessions_expire (wes_worker_t *self, int64_t now)
{
    for (size_t i = 0; i < self->max_sessions; i++) {
        s_session_t *s = self->sessions[i];
        if (s && !s->in_use && now - s->last_used_ms >= (int64_t)self->idle_session_ms) {
            wes_log (WES_LOG_DEBUG, NULL, s->target, NULL,
                     "psql session idle for %lld ms; "
                     "closed",
                     (long long)(now - s->last_used_ms));
            s_session_free (&self->sessions[i]);
        }
    }
}

/*  --- small helpers --- */

/*  How long the next poll may wait: until the next timer, and never long
    while psql runs. */
static int
s_timeout (const wes_worker_t *self, int64_t now)
{
    int64_t due = now + S_IDLE_TICK_MS;
    if (s_running (self) > 0) {
        due = now + S_BUSY_TICK_MS;
    }
    if (self->link == S_LINK_REGISTERED && self->beat_at_ms < due) {
        due = self->beat_at_ms;
    }
    if (self->link != S_LINK_OFFLINE) {
        int64_t dead = self->heard_ms + (int64_t)self->interval_ms * self->live;
        if (dead < due) {
            due = dead;
        }
    }
    if (self->link == S_LINK_OFFLINE && self->reconnect_at_ms < due) {
        due = self->reconnect_at_ms;
    }
    int64_t left = due - now;
    return left < 0 ? 0 : (int)left;
}

static int64_t
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t
s_rand (wes_worker_t *self)
{
    self->rng ^= self->rng << 13;
    self->rng ^= self->rng >> 7;
    self->rng ^= self->rng << 17;
    return self->rng;
}

/*  Ids that are safe as routing ids, psql markers and log fields. */
static bool
s_valid_id (const char *id, size_t max, bool allow_at)
{
    size_t n = strlen (id);
    if (n == 0 || n > max) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                  || c == '_' || c == '.' || c == ':' || c == '-' || (c == '@' && allow_at);
        if (!ok) {
            return false;
        }
    }
    return true;
}

/*  --- the socket and its monitor --- */

static void
s_close_sock (wes_worker_t *self)
{
    if (self->monitor && self->sock) {
        (void)zmq_socket_monitor (zsock_resolve (self->sock), NULL, 0);
    }
    zsock_destroy (&self->monitor);
    zsock_destroy (&self->sock);
}

/*  Handshake events: the first refusal on a socket is logged with what it
    means (libzmq retries every 100 ms; the rest are counted), a success
    after refusals too. */
static void
s_monitor_read (wes_worker_t *self)
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
        if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            if (self->n_refused > 0) {
                wes_log_info ("handshake with %s succeeded after %u refused", self->endpoint,
                              self->n_refused);
            }
            self->n_refused = 0;
            self->refused_rank = 0;
            continue;
        }
        /*  The first refusal of a socket, and any later one that says more
            (a closed connection first, the mechanism mismatch behind it
            next time). */
        self->n_refused++;
        int rank = event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL ? 1 : 2;
        if (rank <= self->refused_rank) {
            continue;
        }
        self->refused_rank = rank;
        char why[256];
        if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
            snprintf (why, sizeof why,
                      "the coordinator refused this worker's CURVE key (status %u): is its "
                      "public certificate in the coordinator's --curve-allow directory?",
                      value);
        }
        else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                 && value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH) {
            snprintf (why, sizeof why, "%s",
                      self->cert ? "the coordinator runs without CURVE keys: refused"
                                 : "the coordinator requires CURVE: give --curve-secret and "
                                   "--curve-server");
        }
        else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
            snprintf (why, sizeof why, "protocol error 0x%08x in the handshake%s", value,
                      self->cert ? " (wrong --curve-server certificate?)" : "");
        }
        else {
            snprintf (why, sizeof why, "handshake failed: %s%s", zmq_strerror ((int)value),
                      self->cert ? " (wrong --curve-server certificate, or our key refused?)"
                                 : "");
        }
        wes_log_warn ("%s: %s; retrying", self->endpoint, why);
    }
}
