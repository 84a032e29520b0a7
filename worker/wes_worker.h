/*  wes_worker.h — the worker's session with a coordinator and its step
    executor, as a library (DESIGN.md sections 5 and 6). wesley-worker is a
    thin program around it.

    One event loop (zmq_poll over the DEALER socket, psql's pipes and a wake
    fd) that never blocks: it registers with READY, takes the heartbeat
    interval and liveness from the coordinator's reply, heartbeats both
    ways, runs each ASSIGN through a psql session kept per target (reused
    for consecutive steps: D002), reports PROGRESS (throttled) and RESULT,
    and when the coordinator falls silent for its liveness window destroys
    the socket and registers again on a new one after a jittered,
    exponential, capped backoff — keeping the attempt it holds, announcing
    it in READY and reporting its RESULT when done. */
#ifndef WES_WORKER_H
#define WES_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "util/wes_mem.h"

/*  Defaults (the --help text of wesley-worker prints these). */
#define WES_WORKER_HEARTBEAT_MS 1000u /* until the coordinator says otherwise */
#define WES_WORKER_LIVENESS 3u        /* missed beats before the coordinator is dead */
#define WES_WORKER_RECONNECT_MIN_MS 250u
#define WES_WORKER_RECONNECT_MAX_MS 10000u
#define WES_WORKER_PROGRESS_MS 500u        /* at most one PROGRESS per attempt this often */
#define WES_WORKER_DRAIN_MS 60000u         /* how long a shutdown waits for the running attempt */
#define WES_WORKER_IDLE_SESSION_MS 300000u /* an unused psql session is closed after this */
#define WES_WORKER_MAX_CAPACITY 16u
#define WES_WORKER_MAX_ID 64u

typedef struct {
    const char *endpoint;      /* tcp://host:port of the coordinator (required) */
    const char *id;            /* routing id; NULL: "<hostname>-<pid>" */
    uint32_t capacity;         /* attempts run at once (1..WES_WORKER_MAX_CAPACITY); 0: 1 */
    const char *labels;        /* comma-separated, or NULL */
    const char *psql_bin;      /* NULL: $WESLEY_PSQL, else pg_config --bindir/psql */
    uint32_t heartbeat_ms;     /* 0: WES_WORKER_HEARTBEAT_MS */
    uint32_t liveness;         /* 0: WES_WORKER_LIVENESS */
    uint32_t reconnect_min_ms; /* 0: WES_WORKER_RECONNECT_MIN_MS */
    uint32_t reconnect_max_ms; /* 0: WES_WORKER_RECONNECT_MAX_MS */
    uint32_t progress_ms;      /* 0: WES_WORKER_PROGRESS_MS */
    uint32_t drain_ms;         /* 0: WES_WORKER_DRAIN_MS */
    uint32_t idle_session_ms;  /* 0: WES_WORKER_IDLE_SESSION_MS */
    int wake_fd;               /* readable = stop requested (a signal's self-pipe); -1: none */
    bool exit_when_run_ends;   /* leave (return 0) when the coordinator says its run ended
                                  (finished, stopped, failed, cancelled): for a Kubernetes
                                  Job whose pods should complete with the run */
    bool simulate;             /* benchmarks only: answer every ASSIGN with RESULT OK at once,
                                  touching no database (measures coordinator and store overhead) */
    const char *curve_secret;  /* our secret certificate (NAME.cert_secret), or NULL */
    const char *curve_server;  /* the coordinator's public certificate, or NULL; both or
                                  neither: with them every socket is a CURVE client */
} wes_worker_opts_t;

typedef struct wes_worker wes_worker_t;

/*  Checks the options (endpoint, id, capacity, labels) and loads the CURVE
    certificates. Returns NULL with *error set (caller frees) when they are
    unusable. Connects nothing yet.
    The caller must own signals (zsys_handler_set (NULL)) and ignore
    SIGPIPE before calling. */
wes_worker_t *wes_worker_new (const wes_worker_opts_t *opts, char **error);
/*  Kills any running psql (its attempt is lost: the coordinator reconciles
    it through the target's ledger) and closes the socket. */
void wes_worker_destroy (wes_worker_t **self_p);

/*  Runs the loop until a stop is requested through opts->wake_fd (each byte
    written there is one request): the first stops taking work, lets the
    running attempt finish (at most drain_ms, then it is cancelled and
    reported RETRYABLE), sends DISCONNECT and returns 0; a second request
    cancels the running attempt at once. Returns -1 only when the loop
    itself cannot go on (polling failed). */
int wes_worker_run (wes_worker_t *self) WES_MUST_USE;

/*  The worker's id (borrowed). */
const char *wes_worker_id (const wes_worker_t *self);

/*  True for endpoints that stay on this machine (ipc://, inproc://,
    tcp://127.x.y.z, tcp://localhost, tcp://[::1]). Without CURVE any
    endpoint, these included, needs --insecure-dev; the warning then says
    a local one is open to every local user. */
bool wes_worker_endpoint_is_local (const char *endpoint);

#endif
