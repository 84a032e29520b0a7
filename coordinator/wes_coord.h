/*  wes_coord.h — the coordinator's event loop (DESIGN.md section 6): a
    ROUTER socket that registers workers and heartbeats them (Paranoid
    Pirate), hands step instances picked by the scheduler to idle workers,
    and records every transition in the checkpoint store before acting on
    it (one store transaction per loop iteration, committed, then the
    messages are sent).

    A worker silent for liveness x interval is dead: its in-flight instance
    becomes UNKNOWN and is requeued (the worker-side ledger check makes a
    re-dispatch of an applied step report SKIPPED, a success). A RESULT of a
    stale epoch, an unknown attempt, or an attempt that is no longer the
    current one of its instance is logged and ignored. Malformed frames are
    logged with the peer and reason and ignored.

    Security (DESIGN.md section 6): with curve_secret and curve_allow the
    ROUTER is a CURVE server and a zauth actor (created before the socket,
    destroyed after it) admits only workers whose public certificate is in
    the allow directory. A socket monitor logs every refused handshake with
    the peer's address. Each worker's key (the "User-Id" ZAP sets) is kept
    from READY on; at every heartbeat tick the directory is read again when
    it changed, and a worker whose certificate is gone is revoked: dropped
    like a dead worker (its attempt UNKNOWN, requeued), told DISCONNECT, and
    every later message carrying its key is ignored. Without keys the
    coordinator is refused unless insecure (plaintext, loopback or not). */
#ifndef WES_COORD_H
#define WES_COORD_H

#include <stdbool.h>
#include <stdint.h>

#include "coordinator/wes_sched.h"
#include "coordinator/wes_store.h"

#define WES_COORD_DEFAULT_INTERVAL_MS 1000
#define WES_COORD_DEFAULT_LIVENESS 3

typedef struct {
    const char *bind;            /* ZeroMQ endpoint; tcp://127.0.0.1:* picks a port */
    bool insecure;               /* allow plaintext without CURVE keys (any bind) */
    const char *curve_secret;    /* the coordinator's secret certificate, or NULL */
    const char *curve_allow;     /* directory of the allowed workers' public certificates */
    uint32_t interval_ms;        /* heartbeat interval (default 1000) */
    uint32_t liveness;           /* missed beats before a worker is dead (default 3) */
    wes_sched_limits_t limits;   /* scheduler limits (stop_before included) */
    const char *cancel_file;     /* `wesley cancel` drops this file for a live run, or NULL */
    bool progress;               /* a line on stdout per finished step */
    const char *metrics;         /* serve Prometheus metrics on HOST:PORT, or NULL (off);
                                    read during wes_coord_new only */
    uint32_t metrics_linger_ms;  /* keep serving this long after the run ended */
} wes_coord_opts_t;

typedef struct wes_coord wes_coord_t;

void wes_coord_opts_init (wes_coord_opts_t *opts);

/*  Builds the coordinator of the run in store (borrowed; must outlive it):
    loads the plan it holds, restores every instance (DISPATCHED/RUNNING
    become UNKNOWN and are requeued; FAILED instances get a fresh start),
    and binds. NULL with *error (caller frees) when the plan does not load,
    a certificate or the allow directory does not load (or only one of
    curve_secret and curve_allow is given), or the bind is refused or
    fails. */
wes_coord_t *wes_coord_new (wes_store_t *store, const wes_coord_opts_t *opts, char **error);
void wes_coord_destroy (wes_coord_t **self_p);

/*  The endpoint actually bound (the port resolved). */
const char *wes_coord_endpoint (const wes_coord_t *self);

/*  Runs until every instance succeeded (FINISHED), a step failed
    permanently and nothing is running (FAILED), the run was cancelled and
    nothing is running (CANCELLED), nothing before the stop phase is left
    (STOPPED), or SIGINT/SIGTERM (RUNNING: resume later). The final state
    is written to the store. */
wes_run_state_t wes_coord_run (wes_coord_t *self);

/*  True for endpoints that stay on this host: ipc://, inproc://, and tcp
    on 127.0.0.0/8, ::1 or localhost. */
bool wes_coord_endpoint_is_loopback (const char *endpoint);

#endif
