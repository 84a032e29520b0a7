/*  wes_sched.c — the fleet DAG and its rolling frontier (D003), in memory.
    Every (target, plan step) instance lives in flat per-instance arrays; a
    READY instance that may start sits in a three-level priority structure
    (per target, per server group, fleet-wide) so a pick is O(log n), and a
    READY instance that may not start yet is parked on the condition that
    blocks it (a busy table, the fleet gate, a later wave) and put back when
    that condition clears. A full target or group is simply taken out of the
    level above, with its instances, until a slot frees. */
#include "coordinator/wes_sched.h"

#include <stdlib.h>
#include <string.h>

#include "util/wes_mem.h"

#define S_NONE UINT32_MAX

//  Where a READY or RETRY_WAIT instance is kept
enum {
    S_LOC_NONE = 0,  /* nowhere (not ready, or held by stop_before) */
    S_LOC_HEAP = 1,  /* its target's heap of startable instances */
    S_LOC_RETRY = 2, /* the retry heap (RETRY_WAIT) */
    S_LOC_GATE = 3,  /* the list of contract instances held by the fleet gate */
    S_LOC_WAVE = 4,  /* waves mode: the list of its step, until that wave comes */
    S_LOC_TABLE = 5  /* the list of its (target, table), until the table frees */
};

//  Heap kinds (what the elements are and how they compare)
enum {
    S_HK_ITEM = 0,   /* instances of one target and class, best priority first */
    S_HK_TARGET = 1, /* targets of one group and class, by their best instance */
    S_HK_GROUP = 2,  /* groups, by their best startable instance */
    S_HK_RETRY = 3   /* RETRY_WAIT instances, earliest not_before first */
};

//  Plan step flags
#define S_F_NONTX 1u    /* kind nontx: CREATE INDEX CONCURRENTLY and kin */
#define S_F_CONTRACT 2u /* phase contract: held by the fleet gate */
#define S_F_STOPPED 4u  /* phase at or after stop_before: never starts */

//  Classes of instances inside a target: nontx ones count against
//  max_cic_per_group, so a group whose CIC slots are full hides them only
#define S_CLASS_OTHER 0
#define S_CLASS_NONTX 1

typedef struct {
    uint32_t *a;  /* elements */
    uint32_t n;   /* elements in use */
    uint32_t cap; /* elements allocated */
} s_heap_t;

struct wes_sched {
    const wes_plan_t *plan;    /* borrowed */
    wes_sched_limits_t limits; /* copied */
    uint32_t n_steps;          /* plan steps (P) */
    uint32_t n_targets;        /* targets (T) */
    uint32_t n_groups;         /* distinct server groups */
    uint32_t n_tables;         /* distinct tables named by steps */
    uint32_t n_inst;           /* P x T; instance id = target * P + step */
    //  Per plan step
    uint32_t *dep_off;   /* deps of step s: deps[dep_off[s] .. dep_off[s+1]) */
    uint32_t *deps;      /* dependency step indexes */
    uint32_t *rdep_off;  /* dependents of step s, same layout */
    uint32_t *rdeps;     /* dependent step indexes */
    uint32_t *lvl;       /* priority level: 0 = longest remaining path */
    uint32_t *table;     /* table index, or S_NONE */
    uint8_t *sflags;     /* S_F_... */
    uint32_t *succ_step; /* instances of the step that succeeded */
    uint32_t *wrank;     /* wave of the step: its place in (phase, plan) order */
    uint32_t *worder;    /* the step of each wave */
    uint32_t *wave_head; /* waves mode: instances parked until their wave */
    uint32_t wave;       /* first wave whose step has not succeeded on every target
                            (steps held by stop_before skipped) */
    //  Per target
    uint32_t *group;     /* its group index */
    uint32_t *t_running; /* in-flight instances (dispatched, running, unknown) */
    s_heap_t *t_heap[2]; /* per class: startable instances */
    uint32_t *t_pos[2];  /* per class: position in its group's heap, or S_NONE */
    //  Per group
    uint32_t *g_running; /* in-flight instances */
    uint32_t *g_cic;     /* in-flight nontx instances */
    s_heap_t *g_heap[2]; /* per class: available targets with startable instances */
    uint32_t *g_pos;     /* position in the global heap, or S_NONE */
    s_heap_t global;     /* available groups with startable instances */
    //  Per (target, table): index target * n_tables + table
    uint8_t *busy;     /* an instance on it is in flight */
    uint32_t *tt_head; /* instances waiting for it */
    //  Per instance
    uint8_t *state;      /* wes_step_state_t */
    uint8_t *loc;        /* S_LOC_... */
    uint32_t *attempts;  /* attempts dispatched */
    uint32_t *pending;   /* dependencies not succeeded */
    uint32_t *link_a;    /* heap position, or list next */
    uint32_t *link_b;    /* list prev */
    int64_t *not_before; /* RETRY_WAIT: ready again at (wall-clock ms) */
    //  Fleet
    s_heap_t retry;     /* RETRY_WAIT instances */
    uint32_t gate_head; /* contract instances waiting for the gate */
    size_t nc_total;    /* non-contract instances */
    size_t nc_done;     /* of which succeeded */
    uint32_t inflight;  /* in-flight instances */
    size_t count[8];    /* instances per state */
};

typedef struct {
    const char *name; /* a group, table or step id */
    uint32_t index;   /* what it belongs to */
} s_name_t;

static int s_name_cmp (const void *a, const void *b);
static int s_build_steps (wes_sched_t *self);
static void s_build_levels (wes_sched_t *self);
static void s_build_groups (wes_sched_t *self, const char *const *groups);
static bool s_inflight (wes_step_state_t s);
static uint32_t s_step_of (const wes_sched_t *self, uint32_t id);
static uint32_t s_target_of (const wes_sched_t *self, uint32_t id);
static uint32_t s_class_of (const wes_sched_t *self, uint32_t id);
static uint32_t s_id (const wes_sched_t *self, uint32_t target, uint32_t step);
static bool s_item_less (const wes_sched_t *self, uint32_t a, uint32_t b);
static bool s_less (const wes_sched_t *self, int kind, uint32_t cls, uint32_t a, uint32_t b);
static void s_setpos (wes_sched_t *self, int kind, uint32_t cls, uint32_t x, uint32_t pos);
static void s_heap_swap (wes_sched_t *self, s_heap_t *h, int kind, uint32_t cls, uint32_t i,
                         uint32_t j);
static void s_heap_up (wes_sched_t *self, s_heap_t *h, int kind, uint32_t cls, uint32_t i);
static void s_heap_down (wes_sched_t *self, s_heap_t *h, int kind, uint32_t cls, uint32_t i);
static void s_heap_push (wes_sched_t *self, s_heap_t *h, int kind, uint32_t cls, uint32_t x);
static void s_heap_remove (wes_sched_t *self, s_heap_t *h, int kind, uint32_t cls, uint32_t i);
static void s_heap_fix (wes_sched_t *self, s_heap_t *h, int kind, uint32_t cls, uint32_t i);
static bool s_target_avail (const wes_sched_t *self, uint32_t t);
static bool s_group_avail (const wes_sched_t *self, uint32_t g);
static bool s_cic_avail (const wes_sched_t *self, uint32_t g);
static uint32_t s_group_top (const wes_sched_t *self, uint32_t g, uint32_t *cls);
static void s_target_refresh (wes_sched_t *self, uint32_t t, uint32_t cls);
static void s_group_refresh (wes_sched_t *self, uint32_t g);
static uint32_t *s_list_head (wes_sched_t *self, uint32_t id, uint8_t loc);
static void s_list_push (wes_sched_t *self, uint32_t id, uint8_t loc);
static void s_list_release (wes_sched_t *self, uint32_t *head);
static bool s_held (wes_sched_t *self, uint32_t id);
static void s_enqueue (wes_sched_t *self, uint32_t id);
static void s_unlocate (wes_sched_t *self, uint32_t id);
static void s_occupy (wes_sched_t *self, uint32_t id);
static void s_vacate (wes_sched_t *self, uint32_t id);
static void s_succeed (wes_sched_t *self, uint32_t id);
static void s_unsucceed (wes_sched_t *self, uint32_t id);
static void s_set_state (wes_sched_t *self, uint32_t id, wes_step_state_t to);
static void s_make_ready (wes_sched_t *self, uint32_t id);
static void s_promote (wes_sched_t *self, int64_t now_ms);
static void s_wave_advance (wes_sched_t *self);
static void s_finish (wes_sched_t *self, uint32_t target, uint32_t step, wes_step_state_t to,
                      int64_t not_before_ms);

//  --------------------------------------------------------------------------
//  Constructor: NULL when the plan's DAG is broken (a dependency that is
//  unknown or not an earlier step) or the fleet is too large to index.

wes_sched_t *
wes_sched_new (const wes_plan_t *plan, size_t n_targets, const char *const *groups,
               const wes_sched_limits_t *limits)
{
    if (!plan || !limits) {
        return NULL;
    }
    size_t n_steps = wes_plan_count (plan);
    if (n_steps >= S_NONE || n_targets >= S_NONE
        || (n_steps && n_targets >= (size_t)(S_NONE - 1) / n_steps)) {
        return NULL;
    }
    wes_sched_t *self = wes_new (wes_sched_t);
    self->plan = plan;
    self->limits = *limits;
    self->n_steps = (uint32_t)n_steps;
    self->n_targets = (uint32_t)n_targets;
    self->n_inst = (uint32_t)(n_steps * n_targets);
    self->gate_head = S_NONE;
    if (s_build_steps (self) != 0) {
        wes_sched_destroy (&self);
        return NULL;
    }
    s_build_levels (self);
    s_build_groups (self, groups);

    size_t T = n_targets ? n_targets : 1;
    self->t_running = wes_alloc (T * sizeof (uint32_t));
    for (int c = 0; c < 2; c++) {
        self->t_heap[c] = wes_alloc (T * sizeof (s_heap_t));
        self->t_pos[c] = wes_alloc (T * sizeof (uint32_t));
        memset (self->t_pos[c], 0xff, T * sizeof (uint32_t));
    }
    size_t G = self->n_groups ? self->n_groups : 1;
    self->g_running = wes_alloc (G * sizeof (uint32_t));
    self->g_cic = wes_alloc (G * sizeof (uint32_t));
    self->g_pos = wes_alloc (G * sizeof (uint32_t));
    memset (self->g_pos, 0xff, G * sizeof (uint32_t));
    for (int c = 0; c < 2; c++) {
        self->g_heap[c] = wes_alloc (G * sizeof (s_heap_t));
    }
    size_t TT = (size_t)self->n_tables * n_targets;
    TT = TT ? TT : 1;
    self->busy = wes_alloc (TT);
    self->tt_head = wes_alloc (TT * sizeof (uint32_t));
    memset (self->tt_head, 0xff, TT * sizeof (uint32_t));

    size_t N = self->n_inst ? self->n_inst : 1;
    self->state = wes_alloc (N);
    self->loc = wes_alloc (N);
    self->attempts = wes_alloc (N * sizeof (uint32_t));
    self->pending = wes_alloc (N * sizeof (uint32_t));
    self->link_a = wes_alloc (N * sizeof (uint32_t));
    self->link_b = wes_alloc (N * sizeof (uint32_t));
    self->not_before = wes_alloc (N * sizeof (int64_t));

    for (uint32_t s = 0; s < self->n_steps; s++) {
        if (!(self->sflags[s] & S_F_CONTRACT)) {
            self->nc_total += n_targets;
        }
    }
    s_wave_advance (self);
    //  Every instance starts PENDING; those without dependencies are made
    //  READY (which enqueues them)
    self->count[WES_SS_PENDING] = self->n_inst;
    for (uint32_t id = 0; id < self->n_inst; id++) {
        uint32_t s = s_step_of (self, id);
        self->pending[id] = self->dep_off[s + 1] - self->dep_off[s];
        self->link_a[id] = S_NONE;
        self->link_b[id] = S_NONE;
        if (self->pending[id] == 0) {
            s_set_state (self, id, WES_SS_READY);
        }
    }
    return self;
}

void
wes_sched_destroy (wes_sched_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wes_sched_t *self = *self_p;
    free (self->dep_off);
    free (self->deps);
    free (self->rdep_off);
    free (self->rdeps);
    free (self->lvl);
    free (self->table);
    free (self->sflags);
    free (self->succ_step);
    free (self->wave_head);
    free (self->wrank);
    free (self->worder);
    free (self->group);
    free (self->t_running);
    for (int c = 0; c < 2; c++) {
        if (self->t_heap[c]) {
            for (uint32_t t = 0; t < self->n_targets; t++) {
                free (self->t_heap[c][t].a);
            }
        }
        free (self->t_heap[c]);
        free (self->t_pos[c]);
        if (self->g_heap[c]) {
            for (uint32_t g = 0; g < self->n_groups; g++) {
                free (self->g_heap[c][g].a);
            }
        }
        free (self->g_heap[c]);
    }
    free (self->g_running);
    free (self->g_cic);
    free (self->g_pos);
    free (self->global.a);
    free (self->busy);
    free (self->tt_head);
    free (self->state);
    free (self->loc);
    free (self->attempts);
    free (self->pending);
    free (self->link_a);
    free (self->link_b);
    free (self->not_before);
    free (self->retry.a);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Public transitions

void
wes_sched_restore (wes_sched_t *self, uint32_t target, uint32_t step, wes_step_state_t state,
                   uint32_t attempts, int64_t not_before_ms)
{
    wes_assert (self);
    //  The values come from a file: out of range changes nothing
    if (target >= self->n_targets || step >= self->n_steps || (unsigned)state > WES_SS_UNKNOWN) {
        return;
    }
    uint32_t id = s_id (self, target, step);
    self->attempts[id] = attempts;
    if (state == WES_SS_PENDING || state == WES_SS_READY) {
        s_make_ready (self, id);
    }
    else if (state == WES_SS_RETRY_WAIT) {
        if (self->state[id] == WES_SS_RETRY_WAIT) {
            //  Same state, new time: move it in the retry heap
            self->not_before[id] = not_before_ms;
            s_heap_fix (self, &self->retry, S_HK_RETRY, 0, self->link_a[id]);
        }
        else {
            self->not_before[id] = not_before_ms;
            s_set_state (self, id, WES_SS_RETRY_WAIT);
        }
    }
    else {
        s_set_state (self, id, state);
    }
}

bool
wes_sched_pick (wes_sched_t *self, int64_t now_ms, uint32_t *target, uint32_t *step)
{
    wes_assert (self);
    s_promote (self, now_ms);
    while (true) {
        if (self->limits.max_total && self->inflight >= self->limits.max_total) {
            return false;
        }
        if (self->global.n == 0) {
            return false;
        }
        uint32_t cls;
        uint32_t id = s_group_top (self, self->global.a[0], &cls);
        wes_assert (id != S_NONE);
        s_unlocate (self, id);
        //  Conditions that can change while it waited in the heap: park it
        //  on the one that holds it
        if (s_held (self, id)) {
            continue;
        }
        s_set_state (self, id, WES_SS_DISPATCHED);
        self->attempts[id]++;
        if (target) {
            *target = s_target_of (self, id);
        }
        if (step) {
            *step = s_step_of (self, id);
        }
        return true;
    }
}

void
wes_sched_running (wes_sched_t *self, uint32_t target, uint32_t step)
{
    wes_assert (self && target < self->n_targets && step < self->n_steps);
    uint32_t id = s_id (self, target, step);
    if (self->state[id] == WES_SS_DISPATCHED) {
        s_set_state (self, id, WES_SS_RUNNING);
    }
}

void
wes_sched_succeeded (wes_sched_t *self, uint32_t target, uint32_t step)
{
    s_finish (self, target, step, WES_SS_SUCCEEDED, 0);
}

void
wes_sched_retry (wes_sched_t *self, uint32_t target, uint32_t step, int64_t not_before_ms)
{
    s_finish (self, target, step, WES_SS_RETRY_WAIT, not_before_ms);
}

void
wes_sched_failed (wes_sched_t *self, uint32_t target, uint32_t step)
{
    s_finish (self, target, step, WES_SS_FAILED, 0);
}

void
wes_sched_requeue (wes_sched_t *self, uint32_t target, uint32_t step)
{
    s_finish (self, target, step, WES_SS_READY, 0);
}

//  --------------------------------------------------------------------------
//  Queries

wes_step_state_t
wes_sched_state (const wes_sched_t *self, uint32_t target, uint32_t step)
{
    wes_assert (self && target < self->n_targets && step < self->n_steps);
    return (wes_step_state_t)self->state[s_id (self, target, step)];
}

uint32_t
wes_sched_attempts (const wes_sched_t *self, uint32_t target, uint32_t step)
{
    wes_assert (self && target < self->n_targets && step < self->n_steps);
    return self->attempts[s_id (self, target, step)];
}

size_t
wes_sched_count (const wes_sched_t *self, wes_step_state_t state)
{
    wes_assert (self);
    if ((unsigned)state > WES_SS_UNKNOWN) {
        return 0;
    }
    return self->count[state];
}

bool
wes_sched_done (const wes_sched_t *self)
{
    wes_assert (self);
    return self->count[WES_SS_SUCCEEDED] == self->n_inst;
}

bool
wes_sched_gate_open (const wes_sched_t *self)
{
    wes_assert (self);
    return self->nc_done == self->nc_total;
}

int64_t
wes_sched_next_wakeup (const wes_sched_t *self)
{
    wes_assert (self);
    if (self->retry.n == 0) {
        return -1;
    }
    return self->not_before[self->retry.a[0]];
}

//  --------------------------------------------------------------------------
//  Construction helpers

static int
s_name_cmp (const void *a, const void *b)
{
    const s_name_t *x = a;
    const s_name_t *y = b;
    int c = strcmp (x->name, y->name);
    if (c) {
        return c;
    }
    return (x->index > y->index) - (x->index < y->index);
}

//  Resolves dependencies (by id), dependents, tables and flags.
static int
s_build_steps (wes_sched_t *self)
{
    uint32_t P = self->n_steps;
    size_t P1 = (size_t)P + 1;
    self->dep_off = wes_alloc (P1 * sizeof (uint32_t));
    self->rdep_off = wes_alloc (P1 * sizeof (uint32_t));
    self->lvl = wes_alloc (P1 * sizeof (uint32_t));
    self->table = wes_alloc (P1 * sizeof (uint32_t));
    self->sflags = wes_alloc (P1);
    self->succ_step = wes_alloc (P1 * sizeof (uint32_t));
    self->wave_head = wes_alloc (P1 * sizeof (uint32_t));
    self->wrank = wes_alloc (P1 * sizeof (uint32_t));
    self->worder = wes_alloc (P1 * sizeof (uint32_t));
    memset (self->wave_head, 0xff, P1 * sizeof (uint32_t));

    s_name_t *ids = wes_alloc ((P ? P : 1) * sizeof (s_name_t));
    size_t n_edges = 0;
    for (uint32_t s = 0; s < P; s++) {
        const wes_step_t *st = wes_plan_step (self->plan, s);
        if (!st->id) {
            free (ids);
            return -1;
        }
        ids[s].name = st->id;
        ids[s].index = s;
        n_edges += st->n_deps;
        if (n_edges >= S_NONE) {
            free (ids);
            return -1;
        }
    }
    qsort (ids, P, sizeof (s_name_t), s_name_cmp);
    for (uint32_t s = 1; s < P; s++) {
        if (strcmp (ids[s - 1].name, ids[s].name) == 0) {
            free (ids);
            return -1; //  duplicate id
        }
    }
    self->deps = wes_alloc ((n_edges ? n_edges : 1) * sizeof (uint32_t));
    uint32_t used = 0;
    for (uint32_t s = 0; s < P; s++) {
        const wes_step_t *st = wes_plan_step (self->plan, s);
        self->dep_off[s] = used;
        for (size_t k = 0; k < st->n_deps; k++) {
            s_name_t key = {st->deps[k] ? st->deps[k] : "", 0};
            //  Equal names compare by index: search the first of its name
            size_t lo = 0;
            size_t hi = P;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (strcmp (ids[mid].name, key.name) < 0) {
                    lo = mid + 1;
                }
                else {
                    hi = mid;
                }
            }
            if (lo == P || strcmp (ids[lo].name, key.name) != 0 || ids[lo].index >= s) {
                free (ids);
                return -1; //  unknown, later or self dependency
            }
            uint32_t d = ids[lo].index;
            bool dup = false;
            for (uint32_t j = self->dep_off[s]; j < used; j++) {
                dup = dup || self->deps[j] == d;
            }
            if (!dup) {
                self->deps[used++] = d;
            }
        }
    }
    self->dep_off[P] = used;
    free (ids);

    //  Dependents: counting sort of the edges by dependency
    self->rdeps = wes_alloc ((used ? used : 1) * sizeof (uint32_t));
    for (uint32_t e = 0; e < used; e++) {
        self->rdep_off[self->deps[e] + 1]++;
    }
    for (uint32_t s = 0; s < P; s++) {
        self->rdep_off[s + 1] += self->rdep_off[s];
    }
    uint32_t *fill = wes_alloc (P1 * sizeof (uint32_t));
    memcpy (fill, self->rdep_off, P1 * sizeof (uint32_t));
    for (uint32_t s = 0; s < P; s++) {
        for (uint32_t e = self->dep_off[s]; e < self->dep_off[s + 1]; e++) {
            self->rdeps[fill[self->deps[e]]++] = s;
        }
    }
    free (fill);

    //  Tables and flags
    s_name_t *tabs = wes_alloc ((P ? P : 1) * sizeof (s_name_t));
    uint32_t n_named = 0;
    for (uint32_t s = 0; s < P; s++) {
        const wes_step_t *st = wes_plan_step (self->plan, s);
        self->table[s] = S_NONE;
        if (st->table) {
            tabs[n_named].name = st->table;
            tabs[n_named].index = s;
            n_named++;
        }
        uint8_t f = 0;
        if (st->kind == WES_STEP_NONTX) {
            f |= S_F_NONTX;
        }
        if (st->phase == WES_PHASE_CONTRACT) {
            f |= S_F_CONTRACT;
        }
        if (self->limits.stop_before_set && st->phase >= self->limits.stop_before) {
            f |= S_F_STOPPED;
        }
        self->sflags[s] = f;
    }
    qsort (tabs, n_named, sizeof (s_name_t), s_name_cmp);
    for (uint32_t k = 0; k < n_named; k++) {
        if (k == 0 || strcmp (tabs[k - 1].name, tabs[k].name) != 0) {
            self->n_tables++;
        }
        self->table[tabs[k].index] = self->n_tables - 1;
    }
    free (tabs);
    return 0;
}

typedef struct {
    int64_t cp;    /* critical-path length */
    uint32_t step; /* plan step */
} s_cp_t;

static int
s_cp_cmp (const void *a, const void *b)
{
    const s_cp_t *x = a;
    const s_cp_t *y = b;
    if (x->cp != y->cp) {
        return x->cp > y->cp ? -1 : 1;
    }
    return (x->step > y->step) - (x->step < y->step);
}

//  Longest remaining cost path from each step (its own cost included),
//  turned into dense levels, longest first. Waves mode orders by step.
static void
s_build_levels (wes_sched_t *self)
{
    uint32_t P = self->n_steps;
    //  Waves: plan order, phase by phase (the planner writes plans in that
    //  order; a hand-made plan with a contract step early would otherwise
    //  wait on the fleet gate forever)
    uint32_t k = 0;
    for (int phase = WES_PHASE_EXPAND; phase <= WES_PHASE_CONTRACT; phase++) {
        for (uint32_t s = 0; s < P; s++) {
            if ((int)wes_plan_step (self->plan, s)->phase == phase) {
                self->wrank[s] = k;
                self->worder[k++] = s;
            }
        }
    }
    for (uint32_t s = 0; s < P && k < P; s++) {
        //  A phase out of range: last, in plan order
        int phase = (int)wes_plan_step (self->plan, s)->phase;
        if (phase < WES_PHASE_EXPAND || phase > WES_PHASE_CONTRACT) {
            self->wrank[s] = k;
            self->worder[k++] = s;
        }
    }
    if (self->limits.waves) {
        for (uint32_t s = 0; s < P; s++) {
            self->lvl[s] = self->wrank[s];
        }
        return;
    }
    s_cp_t *cp = wes_alloc ((P ? P : 1) * sizeof (s_cp_t));
    //  Dependents always come later in the plan: one backwards pass
    for (uint32_t s = P; s-- > 0;) {
        int64_t cost = wes_plan_step (self->plan, s)->cost;
        cost = cost > 0 ? cost : 0;
        int64_t longest = 0;
        for (uint32_t e = self->rdep_off[s]; e < self->rdep_off[s + 1]; e++) {
            int64_t c = cp[self->rdeps[e]].cp;
            longest = c > longest ? c : longest;
        }
        cp[s].cp = cost > INT64_MAX - longest ? INT64_MAX : cost + longest;
        cp[s].step = s;
    }
    qsort (cp, P, sizeof (s_cp_t), s_cp_cmp);
    uint32_t level = 0;
    for (uint32_t i = 0; i < P; i++) {
        if (i > 0 && cp[i].cp != cp[i - 1].cp) {
            level++;
        }
        self->lvl[cp[i].step] = level;
    }
    free (cp);
}

static void
s_build_groups (wes_sched_t *self, const char *const *groups)
{
    uint32_t T = self->n_targets;
    self->group = wes_alloc ((T ? T : 1) * sizeof (uint32_t));
    s_name_t *named = wes_alloc ((T ? T : 1) * sizeof (s_name_t));
    uint32_t n_named = 0;
    for (uint32_t t = 0; t < T; t++) {
        if (groups && groups[t]) {
            named[n_named].name = groups[t];
            named[n_named].index = t;
            n_named++;
        }
        else {
            self->group[t] = self->n_groups++;
        }
    }
    qsort (named, n_named, sizeof (s_name_t), s_name_cmp);
    for (uint32_t k = 0; k < n_named; k++) {
        if (k == 0 || strcmp (named[k - 1].name, named[k].name) != 0) {
            self->n_groups++;
        }
        self->group[named[k].index] = self->n_groups - 1;
    }
    free (named);
}

//  --------------------------------------------------------------------------
//  Instances

static bool
s_inflight (wes_step_state_t s)
{
    return s == WES_SS_DISPATCHED || s == WES_SS_RUNNING || s == WES_SS_UNKNOWN;
}

static uint32_t
s_step_of (const wes_sched_t *self, uint32_t id)
{
    return id % self->n_steps;
}

static uint32_t
s_target_of (const wes_sched_t *self, uint32_t id)
{
    return id / self->n_steps;
}

static uint32_t
s_class_of (const wes_sched_t *self, uint32_t id)
{
    return (self->sflags[s_step_of (self, id)] & S_F_NONTX) ? S_CLASS_NONTX : S_CLASS_OTHER;
}

static uint32_t
s_id (const wes_sched_t *self, uint32_t target, uint32_t step)
{
    return target * self->n_steps + step;
}

//  --------------------------------------------------------------------------
//  Heaps (binary, min first, positions kept for removal)

//  Priority: lower level first, then lower id (= target, then step).
static bool
s_item_less (const wes_sched_t *self, uint32_t a, uint32_t b)
{
    uint32_t la = self->lvl[s_step_of (self, a)];
    uint32_t lb = self->lvl[s_step_of (self, b)];
    if (la != lb) {
        return la < lb;
    }
    return a < b;
}

static bool
s_less (const wes_sched_t *self, int kind, uint32_t cls, uint32_t a, uint32_t b)
{
    switch (kind) {
    case S_HK_ITEM:
        return s_item_less (self, a, b);
    case S_HK_TARGET:
        return s_item_less (self, self->t_heap[cls][a].a[0], self->t_heap[cls][b].a[0]);
    case S_HK_GROUP: {
        uint32_t c;
        return s_item_less (self, s_group_top (self, a, &c), s_group_top (self, b, &c));
    }
    default:
        if (self->not_before[a] != self->not_before[b]) {
            return self->not_before[a] < self->not_before[b];
        }
        return a < b;
    }
}

static void
s_setpos (wes_sched_t *self, int kind, uint32_t cls, uint32_t x, uint32_t pos)
{
    switch (kind) {
    case S_HK_TARGET:
        self->t_pos[cls][x] = pos;
        break;
    case S_HK_GROUP:
        self->g_pos[x] = pos;
        break;
    default: //  items and retries: the instance's link
        self->link_a[x] = pos;
        break;
    }
}

static void
s_heap_swap (wes_sched_t *self, s_heap_t *h, int kind, uint32_t cls, uint32_t i, uint32_t j)
{
    uint32_t x = h->a[i];
    h->a[i] = h->a[j];
    h->a[j] = x;
    s_setpos (self, kind, cls, h->a[i], i);
    s_setpos (self, kind, cls, h->a[j], j);
}

static void
s_heap_up (wes_sched_t *self, s_heap_t *h, int kind, uint32_t cls, uint32_t i)
{
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!s_less (self, kind, cls, h->a[i], h->a[parent])) {
            break;
        }
        s_heap_swap (self, h, kind, cls, i, parent);
        i = parent;
    }
}

static void
s_heap_down (wes_sched_t *self, s_heap_t *h, int kind, uint32_t cls, uint32_t i)
{
    while (true) {
        uint32_t best = i;
        uint32_t l = 2 * i + 1;
        uint32_t r = l + 1;
        if (l < h->n && s_less (self, kind, cls, h->a[l], h->a[best])) {
            best = l;
        }
        if (r < h->n && s_less (self, kind, cls, h->a[r], h->a[best])) {
            best = r;
        }
        if (best == i) {
            return;
        }
        s_heap_swap (self, h, kind, cls, i, best);
        i = best;
    }
}

static void
s_heap_push (wes_sched_t *self, s_heap_t *h, int kind, uint32_t cls, uint32_t x)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 4;
        h->a = wes_realloc (h->a, (size_t)h->cap * sizeof (uint32_t));
    }
    h->a[h->n] = x;
    s_setpos (self, kind, cls, x, h->n);
    h->n++;
    s_heap_up (self, h, kind, cls, h->n - 1);
}

static void
s_heap_remove (wes_sched_t *self, s_heap_t *h, int kind, uint32_t cls, uint32_t i)
{
    wes_assert (i < h->n);
    s_setpos (self, kind, cls, h->a[i], S_NONE);
    h->n--;
    if (i == h->n) {
        return;
    }
    h->a[i] = h->a[h->n];
    s_setpos (self, kind, cls, h->a[i], i);
    s_heap_fix (self, h, kind, cls, i);
}

static void
s_heap_fix (wes_sched_t *self, s_heap_t *h, int kind, uint32_t cls, uint32_t i)
{
    wes_assert (i < h->n);
    if (i > 0 && s_less (self, kind, cls, h->a[i], h->a[(i - 1) / 2])) {
        s_heap_up (self, h, kind, cls, i);
    }
    else {
        s_heap_down (self, h, kind, cls, i);
    }
}

//  --------------------------------------------------------------------------
//  Capacity and the three levels

static bool
s_target_avail (const wes_sched_t *self, uint32_t t)
{
    return !self->limits.max_per_target || self->t_running[t] < self->limits.max_per_target;
}

static bool
s_group_avail (const wes_sched_t *self, uint32_t g)
{
    return !self->limits.max_per_group || self->g_running[g] < self->limits.max_per_group;
}

static bool
s_cic_avail (const wes_sched_t *self, uint32_t g)
{
    return !self->limits.max_cic_per_group || self->g_cic[g] < self->limits.max_cic_per_group;
}

//  The best startable instance of group g (its class in *cls), or S_NONE.
static uint32_t
s_group_top (const wes_sched_t *self, uint32_t g, uint32_t *cls)
{
    uint32_t best = S_NONE;
    *cls = S_CLASS_OTHER;
    const s_heap_t *other = &self->g_heap[S_CLASS_OTHER][g];
    if (other->n) {
        best = self->t_heap[S_CLASS_OTHER][other->a[0]].a[0];
    }
    const s_heap_t *nontx = &self->g_heap[S_CLASS_NONTX][g];
    if (nontx->n && s_cic_avail (self, g)) {
        uint32_t cand = self->t_heap[S_CLASS_NONTX][nontx->a[0]].a[0];
        if (best == S_NONE || s_item_less (self, cand, best)) {
            best = cand;
            *cls = S_CLASS_NONTX;
        }
    }
    return best;
}

//  Puts target t in, out of or back in order in its group's class heap
//  after its instances or its capacity changed, then its group.
static void
s_target_refresh (wes_sched_t *self, uint32_t t, uint32_t cls)
{
    uint32_t g = self->group[t];
    s_heap_t *gh = &self->g_heap[cls][g];
    bool want = s_target_avail (self, t) && self->t_heap[cls][t].n > 0;
    uint32_t pos = self->t_pos[cls][t];
    if (pos != S_NONE) {
        if (want) {
            s_heap_fix (self, gh, S_HK_TARGET, cls, pos);
        }
        else {
            s_heap_remove (self, gh, S_HK_TARGET, cls, pos);
        }
    }
    else if (want) {
        s_heap_push (self, gh, S_HK_TARGET, cls, t);
    }
    s_group_refresh (self, g);
}

static void
s_group_refresh (wes_sched_t *self, uint32_t g)
{
    uint32_t cls;
    bool want = s_group_avail (self, g) && s_group_top (self, g, &cls) != S_NONE;
    uint32_t pos = self->g_pos[g];
    if (pos != S_NONE) {
        if (want) {
            s_heap_fix (self, &self->global, S_HK_GROUP, 0, pos);
        }
        else {
            s_heap_remove (self, &self->global, S_HK_GROUP, 0, pos);
        }
    }
    else if (want) {
        s_heap_push (self, &self->global, S_HK_GROUP, 0, g);
    }
}

//  --------------------------------------------------------------------------
//  Parking lists (doubly linked through link_a = next, link_b = prev)

static uint32_t *
s_list_head (wes_sched_t *self, uint32_t id, uint8_t loc)
{
    uint32_t s = s_step_of (self, id);
    switch (loc) {
    case S_LOC_GATE:
        return &self->gate_head;
    case S_LOC_WAVE:
        return &self->wave_head[self->wrank[s]];
    default:
        return &self->tt_head[(size_t)s_target_of (self, id) * self->n_tables + self->table[s]];
    }
}

static void
s_list_push (wes_sched_t *self, uint32_t id, uint8_t loc)
{
    uint32_t *head = s_list_head (self, id, loc);
    self->link_a[id] = *head;
    self->link_b[id] = S_NONE;
    if (*head != S_NONE) {
        self->link_b[*head] = id;
    }
    *head = id;
    self->loc[id] = loc;
}

//  Detaches a whole list and enqueues its instances again.
static void
s_list_release (wes_sched_t *self, uint32_t *head)
{
    uint32_t id = *head;
    *head = S_NONE;
    while (id != S_NONE) {
        uint32_t next = self->link_a[id];
        self->loc[id] = S_LOC_NONE;
        self->link_a[id] = S_NONE;
        self->link_b[id] = S_NONE;
        s_enqueue (self, id);
        id = next;
    }
}

//  --------------------------------------------------------------------------
//  Placement of READY instances

//  True (and the instance parked or left aside) when something other than
//  capacity holds a READY instance: stop_before, the fleet gate, its wave,
//  its (target, table) in use.
static bool
s_held (wes_sched_t *self, uint32_t id)
{
    uint32_t s = s_step_of (self, id);
    uint8_t f = self->sflags[s];
    if (f & S_F_STOPPED) {
        return true; //  stays READY, kept nowhere: a later run lifts it
    }
    if ((f & S_F_CONTRACT) && !wes_sched_gate_open (self)) {
        s_list_push (self, id, S_LOC_GATE);
        return true;
    }
    if (self->limits.waves && self->wrank[s] > self->wave) {
        s_list_push (self, id, S_LOC_WAVE);
        return true;
    }
    uint32_t tab = self->table[s];
    if (tab != S_NONE && self->busy[(size_t)s_target_of (self, id) * self->n_tables + tab]) {
        s_list_push (self, id, S_LOC_TABLE);
        return true;
    }
    return false;
}

static void
s_enqueue (wes_sched_t *self, uint32_t id)
{
    wes_assert (self->state[id] == WES_SS_READY && self->loc[id] == S_LOC_NONE);
    if (s_held (self, id)) {
        return;
    }
    uint32_t t = s_target_of (self, id);
    uint32_t cls = s_class_of (self, id);
    s_heap_push (self, &self->t_heap[cls][t], S_HK_ITEM, cls, id);
    self->loc[id] = S_LOC_HEAP;
    s_target_refresh (self, t, cls);
}

static void
s_unlocate (wes_sched_t *self, uint32_t id)
{
    uint8_t loc = self->loc[id];
    if (loc == S_LOC_NONE) {
        return;
    }
    if (loc == S_LOC_HEAP) {
        uint32_t t = s_target_of (self, id);
        uint32_t cls = s_class_of (self, id);
        s_heap_remove (self, &self->t_heap[cls][t], S_HK_ITEM, cls, self->link_a[id]);
        self->loc[id] = S_LOC_NONE;
        s_target_refresh (self, t, cls);
        return;
    }
    if (loc == S_LOC_RETRY) {
        s_heap_remove (self, &self->retry, S_HK_RETRY, 0, self->link_a[id]);
        self->loc[id] = S_LOC_NONE;
        return;
    }
    uint32_t *head = s_list_head (self, id, loc);
    uint32_t prev = self->link_b[id];
    uint32_t next = self->link_a[id];
    if (prev != S_NONE) {
        self->link_a[prev] = next;
    }
    else {
        *head = next;
    }
    if (next != S_NONE) {
        self->link_b[next] = prev;
    }
    self->link_a[id] = S_NONE;
    self->link_b[id] = S_NONE;
    self->loc[id] = S_LOC_NONE;
}

//  --------------------------------------------------------------------------
//  State changes

//  An instance goes in flight: it takes its target, group, CIC and table.
static void
s_occupy (wes_sched_t *self, uint32_t id)
{
    uint32_t s = s_step_of (self, id);
    uint32_t t = s_target_of (self, id);
    uint32_t g = self->group[t];
    self->inflight++;
    self->t_running[t]++;
    self->g_running[g]++;
    if (self->sflags[s] & S_F_NONTX) {
        self->g_cic[g]++;
    }
    if (self->table[s] != S_NONE) {
        self->busy[(size_t)t * self->n_tables + self->table[s]] = 1;
    }
    s_target_refresh (self, t, S_CLASS_OTHER);
    s_target_refresh (self, t, S_CLASS_NONTX);
}

//  An instance leaves flight: its slots free, and what waited for its
//  table comes back.
static void
s_vacate (wes_sched_t *self, uint32_t id)
{
    uint32_t s = s_step_of (self, id);
    uint32_t t = s_target_of (self, id);
    uint32_t g = self->group[t];
    wes_assert (self->inflight > 0 && self->t_running[t] > 0 && self->g_running[g] > 0);
    self->inflight--;
    self->t_running[t]--;
    self->g_running[g]--;
    if (self->sflags[s] & S_F_NONTX) {
        wes_assert (self->g_cic[g] > 0);
        self->g_cic[g]--;
    }
    if (self->table[s] != S_NONE) {
        size_t k = (size_t)t * self->n_tables + self->table[s];
        self->busy[k] = 0;
        s_list_release (self, &self->tt_head[k]);
    }
    s_target_refresh (self, t, S_CLASS_OTHER);
    s_target_refresh (self, t, S_CLASS_NONTX);
}

static void
s_succeed (wes_sched_t *self, uint32_t id)
{
    uint32_t s = s_step_of (self, id);
    uint32_t base = id - s;
    self->succ_step[s]++;
    if (!(self->sflags[s] & S_F_CONTRACT)) {
        self->nc_done++;
        if (self->nc_done == self->nc_total) {
            s_list_release (self, &self->gate_head);
        }
    }
    uint32_t old_wave = self->wave;
    s_wave_advance (self);
    for (uint32_t w = old_wave + 1; w <= self->wave && w < self->n_steps; w++) {
        s_list_release (self, &self->wave_head[w]);
    }
    for (uint32_t e = self->rdep_off[s]; e < self->rdep_off[s + 1]; e++) {
        uint32_t d = base + self->rdeps[e];
        wes_assert (self->pending[d] > 0);
        self->pending[d]--;
        if (self->pending[d] == 0 && self->state[d] == WES_SS_PENDING) {
            s_set_state (self, d, WES_SS_READY);
        }
    }
}

//  Undoes s_succeed (restore of an instance that had been restored as
//  succeeded): its dependents wait again.
static void
s_unsucceed (wes_sched_t *self, uint32_t id)
{
    uint32_t s = s_step_of (self, id);
    uint32_t base = id - s;
    self->succ_step[s]--;
    if (!(self->sflags[s] & S_F_CONTRACT)) {
        self->nc_done--;
    }
    if (self->wrank[s] < self->wave) {
        self->wave = self->wrank[s];
    }
    for (uint32_t e = self->rdep_off[s]; e < self->rdep_off[s + 1]; e++) {
        uint32_t d = base + self->rdeps[e];
        self->pending[d]++;
        if (self->state[d] == WES_SS_READY) {
            s_set_state (self, d, WES_SS_PENDING);
        }
    }
}

static void
s_set_state (wes_sched_t *self, uint32_t id, wes_step_state_t to)
{
    wes_step_state_t from = (wes_step_state_t)self->state[id];
    if (from == to) {
        return;
    }
    bool keep_flight = s_inflight (from) && s_inflight (to);
    //  Leave the old state
    if (from == WES_SS_READY || from == WES_SS_RETRY_WAIT) {
        s_unlocate (self, id);
    }
    else if (s_inflight (from) && !keep_flight) {
        s_vacate (self, id);
    }
    else if (from == WES_SS_SUCCEEDED) {
        s_unsucceed (self, id);
    }
    self->count[from]--;
    self->count[to]++;
    self->state[id] = (uint8_t)to;
    //  Enter the new one
    if (to == WES_SS_READY) {
        s_enqueue (self, id);
    }
    else if (to == WES_SS_RETRY_WAIT) {
        s_heap_push (self, &self->retry, S_HK_RETRY, 0, id);
        self->loc[id] = S_LOC_RETRY;
    }
    else if (s_inflight (to) && !keep_flight) {
        s_occupy (self, id);
    }
    else if (to == WES_SS_SUCCEEDED) {
        s_succeed (self, id);
    }
}

//  READY when every dependency succeeded, PENDING otherwise.
static void
s_make_ready (wes_sched_t *self, uint32_t id)
{
    s_set_state (self, id, self->pending[id] ? WES_SS_PENDING : WES_SS_READY);
}

static void
s_promote (wes_sched_t *self, int64_t now_ms)
{
    while (self->retry.n && self->not_before[self->retry.a[0]] <= now_ms) {
        s_make_ready (self, self->retry.a[0]);
    }
}

//  Waves: the first step not yet succeeded on every target, skipping the
//  steps stop_before holds (they do not run in this run).
static void
s_wave_advance (wes_sched_t *self)
{
    while (self->wave < self->n_steps) {
        uint32_t s = self->worder[self->wave];
        if (self->succ_step[s] != self->n_targets && !(self->sflags[s] & S_F_STOPPED)) {
            break;
        }
        self->wave++;
    }
}

//  A reported outcome: only an instance in flight takes it; anything else
//  (a duplicate or late report) changes nothing.
static void
s_finish (wes_sched_t *self, uint32_t target, uint32_t step, wes_step_state_t to,
          int64_t not_before_ms)
{
    wes_assert (self && target < self->n_targets && step < self->n_steps);
    uint32_t id = s_id (self, target, step);
    if (!s_inflight ((wes_step_state_t)self->state[id])) {
        return;
    }
    if (to == WES_SS_READY) {
        s_make_ready (self, id);
    }
    else {
        if (to == WES_SS_RETRY_WAIT) {
            self->not_before[id] = not_before_ms;
        }
        s_set_state (self, id, to);
    }
}
