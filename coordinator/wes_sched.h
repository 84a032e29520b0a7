/*  wes_sched.h — the fleet DAG and its rolling frontier (D003), in memory.
    The plan's DAG is instantiated once per target. A step instance is ready
    the moment its last dependency on the same target succeeded — no waves,
    no barriers — and ready instances are handed out in order of longest
    remaining path (critical path first, by the steps' cost), subject to the
    limits checked at every pick:
      - one CREATE INDEX CONCURRENTLY (nontx step) per (target, table);
      - no two steps on one (target, table) at once;
      - at most max_per_target running per target, max_per_group per server
        group, max_cic_per_group nontx steps per group, max_total overall;
      - the fleet-wide gate: no contract step starts until every target has
        finished every non-contract step;
      - stop_before: no step of that phase or later starts.
    The scheduler decides; the coordinator persists every transition in the
    checkpoint store before acting on it. A `waves` mode (every target's
    step k before any target's step k+1) exists only for benchmarks. */
#ifndef WES_SCHED_H
#define WES_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coordinator/wes_store.h"
#include "plan/wes_plan.h"

typedef struct {
    uint32_t max_per_target;     /* 0 = no limit; default 1 */
    uint32_t max_per_group;      /* 0 = no limit */
    uint32_t max_cic_per_group;  /* 0 = no limit */
    uint32_t max_total;          /* 0 = no limit */
    bool waves;                  /* compare-only schedule */
    bool stop_before_set;
    wes_phase_t stop_before;     /* no step of this phase or later */
} wes_sched_limits_t;

typedef struct wes_sched wes_sched_t;

/*  groups[i] is target i's server group (NULL: its own group). The plan is
    borrowed and must outlive the scheduler. Every instance starts PENDING
    (or READY when it has no dependency). NULL when the plan's DAG is broken
    (unknown, duplicate or later dependency) or steps x targets >= 2^32.
    Waves mode runs the steps in plan order, phase by phase. */
wes_sched_t *wes_sched_new (const wes_plan_t *plan, size_t n_targets, const char *const *groups,
                            const wes_sched_limits_t *limits);
void wes_sched_destroy (wes_sched_t **self_p);

/*  Restores an instance's state (resume), in any order, before picking.
    SUCCEEDED instances release their dependents; PENDING/READY are taken
    as "not started" (the scheduler decides which); DISPATCHED/RUNNING must
    be given as UNKNOWN by the caller. UNKNOWN instances hold their slots
    and table until succeeded or requeued. */
void wes_sched_restore (wes_sched_t *self, uint32_t target, uint32_t step, wes_step_state_t state,
                        uint32_t attempts, int64_t not_before_ms);

/*  Picks the next instance to dispatch at time now_ms (wall clock), marks
    it DISPATCHED, and returns true; false when nothing may start now. */
bool wes_sched_pick (wes_sched_t *self, int64_t now_ms, uint32_t *target, uint32_t *step);

/*  Transitions reported back: succeeded (releases dependents), retry
    (RETRY_WAIT until not_before_ms), failed (permanent), running (progress),
    unknown->ready (reconciled as not applied). */
void wes_sched_succeeded (wes_sched_t *self, uint32_t target, uint32_t step);
void wes_sched_retry (wes_sched_t *self, uint32_t target, uint32_t step, int64_t not_before_ms);
void wes_sched_failed (wes_sched_t *self, uint32_t target, uint32_t step);
void wes_sched_requeue (wes_sched_t *self, uint32_t target, uint32_t step);
/*  DISPATCHED -> RUNNING (the worker reported progress); both are in
    flight, so this changes no limit. A transition reported for an
    instance not in flight (DISPATCHED, RUNNING, UNKNOWN) changes nothing. */
void wes_sched_running (wes_sched_t *self, uint32_t target, uint32_t step);

wes_step_state_t wes_sched_state (const wes_sched_t *self, uint32_t target, uint32_t step);
uint32_t wes_sched_attempts (const wes_sched_t *self, uint32_t target, uint32_t step);
/*  Counts over all instances in a state. */
size_t wes_sched_count (const wes_sched_t *self, wes_step_state_t state);
/*  True when every instance succeeded; true when the fleet gate is open. */
bool wes_sched_done (const wes_sched_t *self);
bool wes_sched_gate_open (const wes_sched_t *self);
/*  Earliest not_before among RETRY_WAIT instances (for the poll timeout),
    or -1. */
int64_t wes_sched_next_wakeup (const wes_sched_t *self);

#endif
