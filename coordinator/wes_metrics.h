/*  wes_metrics.h — the coordinator's Prometheus metrics: a registry that
    the coordinator's loop updates at its transitions and an HTTP server
    (libmicrohttpd, on its own internal polling thread) that renders it in
    the text exposition format 0.0.4. One mutex guards the registry; the
    loop holds it only to copy numbers in, the HTTP thread only to render.

    Endpoints: GET /metrics, GET /healthz (200 while the loop ticked within
    the stale window, else 503), GET /readyz (200 once the run is loaded and
    the ROUTER is bound, else 503). Other paths 404, methods other than GET
    and HEAD 405, a request carrying a body 413. Connections are limited in
    number and time (WES_METRICS_* in wes_limits.h style, below). */
#ifndef WES_METRICS_H
#define WES_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/wes_store.h"
#include "plan/wes_plan.h"

/*  At most this many HTTP connections at once (a scraper and two probes
    need three; the rest is room for an operator's curl). */
#define WES_METRICS_MAX_CONNECTIONS 16
/*  A connection idle this long is closed (slowloris). */
#define WES_METRICS_TIMEOUT_S 10
/*  Memory per connection, which bounds the request line and headers. */
#define WES_METRICS_CONN_MEMORY (32u * 1024u)
/*  Distinct SQLSTATE labels kept for the retry counter; later ones count
    under sqlstate="other" (a label set must stay bounded). */
#define WES_METRICS_MAX_SQLSTATES 64

/*  Target phases as the wesley_targets gauge labels them: the phase of a
    target's earliest unfinished step, then done, or failed. */
typedef enum {
    WES_MPHASE_EXPAND,
    WES_MPHASE_BACKFILL,
    WES_MPHASE_VALIDATE,
    WES_MPHASE_CONTRACT,
    WES_MPHASE_DONE,
    WES_MPHASE_FAILED,
    WES_MPHASE_COUNT
} wes_metrics_phase_t;

/*  What the loop copies in at once (gauges). */
typedef struct {
    size_t steps[8];                  /* instances by wes_step_state_t */
    size_t targets[WES_MPHASE_COUNT]; /* targets by phase */
    size_t workers_connected;         /* registered workers */
    size_t workers_busy;              /* registered workers holding an attempt */
    wes_run_state_t run_state;        /* the run's state */
} wes_metrics_gauges_t;

typedef struct wes_metrics wes_metrics_t;

/*  A registry for run (label text, copied) at epoch. /healthz answers 503
    once the loop has not ticked for stale_ms. */
wes_metrics_t *wes_metrics_new (const char *run, uint64_t epoch, int64_t stale_ms);
/*  Stops the HTTP server (if any), then frees the registry. */
void wes_metrics_destroy (wes_metrics_t **self_p);

/*  Parses ADDRESS: HOST:PORT, :PORT (all interfaces) or [V6]:PORT, PORT
    0..65535 (0: the kernel picks one). host gets "" for all interfaces.
    0 ok, -1 malformed. */
int wes_metrics_parse_address (const char *address, char *host, size_t host_size,
                               uint16_t *port) WES_MUST_USE;

/*  Starts serving on address (see parse). Call with SIGINT/SIGTERM already
    blocked in this thread, so the server thread inherits the mask. 0 ok;
    -1 with *error (caller frees). */
int wes_metrics_listen (wes_metrics_t *self, const char *address, char **error) WES_MUST_USE;
/*  "HOST:PORT" actually served (port resolved), or NULL (borrowed). */
const char *wes_metrics_address (const wes_metrics_t *self);

/*  Updates from the coordinator's loop. */
void wes_metrics_set_gauges (wes_metrics_t *self, const wes_metrics_gauges_t *gauges);
void wes_metrics_set_ready (wes_metrics_t *self, bool ready);
void wes_metrics_tick (wes_metrics_t *self, int64_t mono_ms);
void wes_metrics_step_duration (wes_metrics_t *self, wes_step_kind_t kind, double seconds);
/*  sqlstate: five characters [0-9A-Z]; anything else counts as "other",
    NULL or "" as "none". */
void wes_metrics_retry (wes_metrics_t *self, const char *sqlstate);
void wes_metrics_dispatch_latency (wes_metrics_t *self, double seconds);
void wes_metrics_checkpoint_write (wes_metrics_t *self, double seconds);

/*  The exposition text (caller frees). */
char *wes_metrics_render (wes_metrics_t *self);
/*  True when /healthz would answer 200 at mono_ms. */
bool wes_metrics_healthy (wes_metrics_t *self, int64_t mono_ms);

#endif
