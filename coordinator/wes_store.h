/*  wes_store.h — the coordinator's checkpoint store (D009): one SQLite file
    per run, WAL mode, synchronous=FULL, created 0600. Every state change of
    the run, a target or a step is written (committed) before it is acted
    on or acknowledged; an append-only event table records what happened,
    for `wesley status` and audit.

    Opening checks the format version and integrity (PRAGMA quick_check)
    and refuses a corrupt, foreign or newer-format file with a clear
    message, touching nothing. A read-write open takes an exclusive lock
    (flock on the file) for the life of the store: two coordinators can
    never drive one state file; `wesley status` opens read-only without it.
    Every read-write open after the first increments the run epoch. */
#ifndef WES_STORE_H
#define WES_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/wes_mem.h"

#define WES_STORE_FORMAT 1

typedef enum {
    WES_SS_PENDING = 0,    /* waiting for dependencies */
    WES_SS_READY = 1,      /* may be dispatched */
    WES_SS_DISPATCHED = 2, /* ASSIGN sent, not yet acknowledged by a RESULT/PROGRESS */
    WES_SS_RUNNING = 3,    /* the worker reported progress */
    WES_SS_SUCCEEDED = 4,
    WES_SS_RETRY_WAIT = 5, /* failed retryably; ready again at not_before */
    WES_SS_FAILED = 6,     /* failed permanently (or out of attempts) */
    WES_SS_UNKNOWN = 7     /* was dispatched/running when a coordinator or worker died:
                              to reconcile against the target's ledger */
} wes_step_state_t;

typedef enum {
    WES_RUN_RUNNING = 0,
    WES_RUN_CANCELLED = 1, /* `wesley cancel`: dispatch nothing new */
    WES_RUN_STOPPED = 2,   /* reached --stop-before; resume with --through */
    WES_RUN_FINISHED = 3,  /* every step of every target succeeded */
    WES_RUN_FAILED = 4     /* a step failed permanently */
} wes_run_state_t;

typedef struct {
    const char *name;     /* unique in the run */
    const char *conninfo; /* libpq connection string, without secrets */
    const char *group;    /* server group, or NULL */
} wes_store_target_t;

/*  One step instance (target x plan step) as stored. Strings borrowed
    from the store until the next call. */
typedef struct {
    uint32_t target;        /* index into the run's targets */
    uint32_t step;          /* index into the plan's steps */
    wes_step_state_t state;
    uint32_t attempts;      /* attempts dispatched so far */
    const char *attempt_id; /* current or last attempt, or NULL */
    const char *worker;     /* worker holding/last holding it, or NULL */
    int64_t not_before_ms;  /* RETRY_WAIT: wall-clock ms when ready again */
    int64_t started_ms;     /* first dispatch, wall clock, 0 if never */
    int64_t finished_ms;    /* 0 until succeeded or failed */
    int64_t rows_done;      /* batched steps: last progress */
    const char *sqlstate;   /* last failure, or NULL */
    const char *message;    /* last failure, or NULL */
} wes_store_step_t;

typedef struct wes_store wes_store_t;

/*  Creates a new store at path for a plan (its JSON text and checksum) and
    targets; refuses an existing file. NULL with *error (caller frees). */
wes_store_t *wes_store_create (const char *path, const char *plan_json, const char *plan_hash,
                               const wes_store_target_t *targets, size_t n_targets,
                               size_t n_steps, char **error);
/*  Opens an existing store read-write (locks it, increments the epoch) or
    read-only (no lock, no epoch change, for status). */
wes_store_t *wes_store_open (const char *path, bool read_only, char **error);
void wes_store_destroy (wes_store_t **self_p);

uint64_t wes_store_epoch (const wes_store_t *self);
/*  The plan as stored (borrowed). */
const char *wes_store_plan_json (const wes_store_t *self);
const char *wes_store_plan_hash (const wes_store_t *self);
size_t wes_store_target_count (const wes_store_t *self);
/*  Target i (borrowed strings). */
wes_store_target_t wes_store_target (const wes_store_t *self, size_t i);
size_t wes_store_step_count (const wes_store_t *self); /* steps per target */

wes_run_state_t wes_store_run_state (const wes_store_t *self);
int wes_store_set_run_state (wes_store_t *self, wes_run_state_t state, const char *why) WES_MUST_USE;
/*  Run options kept across resumes: the phase to stop before ("" none). */
const char *wes_store_get_option (wes_store_t *self, const char *key);
int wes_store_set_option (wes_store_t *self, const char *key, const char *value) WES_MUST_USE;

/*  Group commit: transitions between begin and commit land in one SQLite
    transaction (durable at commit). Without begin, each write commits on
    its own. Nothing may be acted on before the commit returns 0. */
int wes_store_begin (wes_store_t *self) WES_MUST_USE;
int wes_store_commit (wes_store_t *self) WES_MUST_USE;

/*  Writes a step instance's new state and fields, and appends an event
    ("dispatched", "succeeded", "retry", "failed", "reconciled", ...) with a
    detail text. */
int wes_store_put_step (wes_store_t *self, const wes_store_step_t *step, const char *event,
                        const char *detail) WES_MUST_USE;
/*  Calls fn for every step instance, in (target, step) order. */
int wes_store_each_step (wes_store_t *self, void (*fn) (const wes_store_step_t *, void *),
                         void *arg) WES_MUST_USE;
/*  Appends an event not tied to a step (target may be -1). */
int wes_store_event (wes_store_t *self, int64_t target, const char *event, const char *detail)
    WES_MUST_USE;
/*  The newest n events, newest first, as "TIME EVENT target/step detail"
    lines, via fn. */
int wes_store_recent_events (wes_store_t *self, size_t n,
                             void (*fn) (const char *line, void *), void *arg) WES_MUST_USE;

const char *wes_step_state_name (wes_step_state_t s);
const char *wes_run_state_name (wes_run_state_t s);

#endif
