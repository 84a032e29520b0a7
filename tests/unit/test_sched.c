/*  test_sched.c — the fleet scheduler: one test per rule (dependencies,
    critical path first, tables, caps, gate, stop_before, waves, retries,
    failures, restore), a property test that drives random DAGs through a
    simulated executor and checks every rule and the exact pick order
    against an independent model, and a million-instance run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <malloc.h>

#include "coordinator/wes_sched.h"
#include "plan/wes_plan.h"
#include "util/wes_mem.h"

#if defined(__SANITIZE_ADDRESS__)
#define S_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define S_SANITIZED 1
#endif
#endif
#ifndef S_SANITIZED
#define S_SANITIZED 0
#endif

//  --------------------------------------------------------------------------
//  Plan building

//  Adds a step; deps are indexes of earlier steps, ended by -1.
static size_t
s_add (wes_plan_t *plan, wes_phase_t phase, wes_step_kind_t kind, const char *table, int64_t cost,
       ...)
{
    wes_step_t *st = wes_plan_add_step (plan, "s", phase, kind, table, WES_LOCK_NONE);
    st->cost = cost;
    va_list ap;
    va_start (ap, cost);
    for (int d = va_arg (ap, int); d >= 0; d = va_arg (ap, int)) {
        wes_step_add_dep (st, wes_plan_step (plan, (size_t)d)->id);
    }
    va_end (ap);
    return wes_plan_count (plan) - 1;
}

static wes_sched_limits_t
s_nolimits (void)
{
    wes_sched_limits_t l;
    memset (&l, 0, sizeof l);
    return l;
}

static bool
s_pick (wes_sched_t *s, int64_t now, uint32_t *t, uint32_t *st)
{
    return wes_sched_pick (s, now, t, st);
}

//  Picks one and checks it is (t, st).
static void
s_expect_pick (wes_sched_t *s, uint32_t t, uint32_t st)
{
    uint32_t gt = 99, gs = 99;
    if (!wes_sched_pick (s, 0, &gt, &gs)) {
        fail_msg ("expected pick (%u,%u), got nothing", t, st);
    }
    if (gt != t || gs != st) {
        fail_msg ("expected pick (%u,%u), got (%u,%u)", t, st, gt, gs);
    }
    assert_int_equal (wes_sched_state (s, t, st), WES_SS_DISPATCHED);
}

static void
s_expect_none (wes_sched_t *s)
{
    uint32_t gt = 99, gs = 99;
    if (wes_sched_pick (s, 0, &gt, &gs)) {
        fail_msg ("expected no pick, got (%u,%u)", gt, gs);
    }
}

//  --------------------------------------------------------------------------
//  Rules, one at a time

static void
test_new_destroy (void **state)
{
    (void)state;
    wes_sched_destroy (NULL);
    wes_sched_t *none = NULL;
    wes_sched_destroy (&none);

    wes_plan_t *plan = wes_plan_new ("a", "b");
    size_t a = s_add (plan, WES_PHASE_EXPAND, WES_STEP_TX, "t", 1, -1);
    s_add (plan, WES_PHASE_EXPAND, WES_STEP_TX, "t", 1, (int)a, -1);
    wes_sched_limits_t l = s_nolimits ();
    wes_sched_t *s = wes_sched_new (plan, 3, NULL, &l);
    assert_non_null (s);
    assert_int_equal (wes_sched_state (s, 0, 0), WES_SS_READY);
    assert_int_equal (wes_sched_state (s, 2, 1), WES_SS_PENDING);
    assert_int_equal (wes_sched_count (s, WES_SS_READY), 3);
    assert_int_equal (wes_sched_count (s, WES_SS_PENDING), 3);
    assert_false (wes_sched_done (s));
    assert_true (wes_sched_gate_open (s) == false);
    assert_int_equal (wes_sched_next_wakeup (s), -1);
    wes_sched_destroy (&s);
    assert_null (s);

    //  No targets: nothing to do, done at once
    s = wes_sched_new (plan, 0, NULL, &l);
    assert_non_null (s);
    assert_true (wes_sched_done (s));
    s_expect_none (s);
    wes_sched_destroy (&s);
    wes_plan_destroy (&plan);

    //  An empty plan
    plan = wes_plan_new ("a", "b");
    s = wes_sched_new (plan, 4, NULL, &l);
    assert_non_null (s);
    assert_true (wes_sched_done (s));
    assert_true (wes_sched_gate_open (s));
    s_expect_none (s);
    wes_sched_destroy (&s);
    wes_plan_destroy (&plan);
}

static void
test_refuses_broken_dag (void **state)
{
    (void)state;
    wes_sched_limits_t l = s_nolimits ();
    //  Unknown dependency
    wes_plan_t *plan = wes_plan_new ("a", "b");
    wes_step_t *st =
        wes_plan_add_step (plan, "x", WES_PHASE_EXPAND, WES_STEP_TX, NULL, WES_LOCK_NONE);
    wes_step_add_dep (st, "9999-nope");
    assert_null (wes_sched_new (plan, 1, NULL, &l));
    wes_plan_destroy (&plan);
    //  Dependency on a later step (a cycle's first half)
    plan = wes_plan_new ("a", "b");
    wes_step_t *first =
        wes_plan_add_step (plan, "x", WES_PHASE_EXPAND, WES_STEP_TX, NULL, WES_LOCK_NONE);
    wes_step_t *second =
        wes_plan_add_step (plan, "y", WES_PHASE_EXPAND, WES_STEP_TX, NULL, WES_LOCK_NONE);
    wes_step_add_dep (first, second->id);
    assert_null (wes_sched_new (plan, 1, NULL, &l));
    //  Self dependency
    wes_step_add_dep (second, second->id);
    assert_null (wes_sched_new (plan, 1, NULL, &l));
    wes_plan_destroy (&plan);
    assert_null (wes_sched_new (NULL, 1, NULL, &l));
}

static void
test_rolling_frontier (void **state)
{
    (void)state;
    //  s0 -> s1 -> s2 on one table: each target moves on as soon as its own
    //  dependency succeeded, whatever the other targets are doing
    wes_plan_t *plan = wes_plan_new ("a", "b");
    size_t s0 = s_add (plan, WES_PHASE_EXPAND, WES_STEP_TX, "a", 1, -1);
    size_t s1 = s_add (plan, WES_PHASE_EXPAND, WES_STEP_TX, "a", 1, (int)s0, -1);
    s_add (plan, WES_PHASE_EXPAND, WES_STEP_TX, "a", 1, (int)s1, -1);
    wes_sched_limits_t l = s_nolimits ();
    wes_sched_t *s = wes_sched_new (plan, 2, NULL, &l);
    assert_non_null (s);
    s_expect_pick (s, 0, 0);
    s_expect_pick (s, 1, 0);
    s_expect_none (s);
    assert_int_equal (wes_sched_count (s, WES_SS_DISPATCHED), 2);
    wes_sched_succeeded (s, 0, 0);
    assert_int_equal (wes_sched_state (s, 0, 1), WES_SS_READY);
    assert_int_equal (wes_sched_state (s, 1, 1), WES_SS_PENDING);
    s_expect_pick (s, 0, 1);
    wes_sched_running (s, 0, 1);
    assert_int_equal (wes_sched_state (s, 0, 1), WES_SS_RUNNING);
    wes_sched_succeeded (s, 0, 1);
    s_expect_pick (s, 0, 2);
    s_expect_none (s);
    wes_sched_succeeded (s, 0, 2);
    wes_sched_succeeded (s, 1, 0);
    s_expect_pick (s, 1, 1);
    wes_sched_succeeded (s, 1, 1);
    s_expect_pick (s, 1, 2);
    assert_false (wes_sched_done (s));
    wes_sched_succeeded (s, 1, 2);
    assert_true (wes_sched_done (s));
    assert_int_equal (wes_sched_count (s, WES_SS_SUCCEEDED), 6);
    assert_int_equal (wes_sched_attempts (s, 1, 2), 1);
    wes_sched_destroy (&s);
    wes_plan_destroy (&plan);
}

static void
test_critical_path_first (void **state)
{
    (void)state;
    //  s0: alone, cost 5. s1 (cost 1) -> s2 (cost 10): remaining path 11
    //  from s1, so s1 goes first although s0 costs more and comes first
    wes_plan_t *plan = wes_plan_new ("a", "b");
    s_add (plan, WES_PHASE_EXPAND, WES_STEP_TX, "x", 5, -1);
    size_t s1 = s_add (plan, WES_PHASE_EXPAND, WES_STEP_TX, "y", 1, -1);
    s_add (plan, WES_PHASE_EXPAND, WES_STEP_TX, "z", 10, (int)s1, -1);
    //  s3: same remaining path as s0: ties go to the lower step
    s_add (plan, WES_PHASE_EXPAND, WES_STEP_TX, "w", 5, -1);
    wes_sched_limits_t l = s_nolimits ();
    wes_sched_t *s = wes_sched_new (plan, 2, NULL, &l);
    assert_non_null (s);
    //  Ties between targets go to the lower target
    s_expect_pick (s, 0, 1);
    s_expect_pick (s, 1, 1);
    s_expect_pick (s, 0, 0);
    s_expect_pick (s, 0, 3);
    s_expect_pick (s, 1, 0);
    wes_sched_succeeded (s, 1, 1);
    //  s2 (remaining 10) beats s3 (5)
    s_expect_pick (s, 1, 2);
    s_expect_pick (s, 1, 3);
    s_expect_none (s);
    wes_sched_destroy (&s);
    wes_plan_destroy (&plan);
}

static void
test_one_step_per_table (void **state)
{
    (void)state;
    //  s0 CIC on a, s1 tx on a, s2 tx on b, s3 CIC on a, s4 no table
    wes_plan_t *plan = wes_plan_new ("a", "b");
    s_add (plan, WES_PHASE_EXPAND, WES_STEP_NONTX, "a", 1, -1);
    s_add (plan, WES_PHASE_EXPAND, WES_STEP_TX, "a", 1, -1);
    s_add (plan, WES_PHASE_EXPAND, WES_STEP_TX, "b", 1, -1);
    s_add (plan, WES_PHASE_EXPAND, WES_STEP_NONTX, "a", 1, -1);
    s_add (plan, WES_PHASE_EXPAND, WES_STEP_TX, NULL, 1, -1);
    s_add (plan, WES_PHASE_EXPAND, WES_STEP_TX, NULL, 1, -1);
    wes_sched_limits_t l = s_nolimits ();
    wes_sched_t *s = wes_sched_new (plan, 2, NULL, &l);
    assert_non_null (s);
    s_expect_pick (s, 0, 0);
    //  a is busy on target 0: b and the table-less steps go, then target 1,
    //  whose table a is its own
    s_expect_pick (s, 0, 2);
    s_expect_pick (s, 0, 4);
    s_expect_pick (s, 0, 5);
    s_expect_pick (s, 1, 0);
    s_expect_pick (s, 1, 2);
    s_expect_pick (s, 1, 4);
    s_expect_pick (s, 1, 5);
    s_expect_none (s);
    assert_int_equal (wes_sched_state (s, 0, 1), WES_SS_READY);
    //  The table frees: the waiting steps come back, one at a time
    wes_sched_succeeded (s, 0, 0);
    s_expect_pick (s, 0, 1);
    s_expect_none (s);
    wes_sched_retry (s, 0, 1, 0);
    //  Retried at once, it competes again: s1 before s3 (lower step)
    s_expect_pick (s, 0, 1);
    s_expect_none (s);
    wes_sched_succeeded (s, 0, 1);
    s_expect_pick (s, 0, 3);
    s_expect_none (s);
    wes_sched_destroy (&s);
    wes_plan_destroy (&plan);
}

static void
test_target_cap (void **state)
{
    (void)state;
    wes_plan_t *plan = wes_plan_new ("a", "b");
    for (int i = 0; i < 4; i++) {
        char tab[8];
        snprintf (tab, sizeof tab, "t%d", i);
        s_add (plan, WES_PHASE_EXPAND, WES_STEP_TX, tab, 1, -1);
    }
    wes_sched_limits_t l = s_nolimits ();
    l.max_per_target = 2;
    wes_sched_t *s = wes_sched_new (plan, 2, NULL, &l);
    assert_non_null (s);
    s_expect_pick (s, 0, 0);
    s_expect_pick (s, 0, 1);
    s_expect_pick (s, 1, 0);
    s_expect_pick (s, 1, 1);
    s_expect_none (s);
    wes_sched_failed (s, 1, 0);
    s_expect_pick (s, 1, 2);
    s_expect_none (s);
    wes_sched_succeeded (s, 0, 1);
    s_expect_pick (s, 0, 2);
    s_expect_none (s);
    assert_int_equal (wes_sched_count (s, WES_SS_FAILED), 1);
    wes_sched_destroy (&s);
    wes_plan_destroy (&plan);
}

static void
test_group_caps (void **state)
{
    (void)state;
    wes_plan_t *plan = wes_plan_new ("a", "b");
    s_add (plan, WES_PHASE_EXPAND, WES_STEP_TX, "a", 1, -1);
    s_add (plan, WES_PHASE_EXPAND, WES_STEP_TX, "b", 1, -1);
    const char *groups[] = {"eu", "eu", "us", NULL, NULL};
    wes_sched_limits_t l = s_nolimits ();
    l.max_per_group = 1;
    wes_sched_t *s = wes_sched_new (plan, 5, groups, &l);
    assert_non_null (s);
    //  One per group; targets without a group are groups of their own
    s_expect_pick (s, 0, 0);
    s_expect_pick (s, 2, 0);
    s_expect_pick (s, 3, 0);
    s_expect_pick (s, 4, 0);
    s_expect_none (s);
    wes_sched_succeeded (s, 0, 0);
    //  eu frees: target 0's next step (lower id) before target 1's first
    s_expect_pick (s, 0, 1);
    s_expect_none (s);
    wes_sched_requeue (s, 0, 1);
    assert_int_equal (wes_sched_state (s, 0, 1), WES_SS_READY);
    s_expect_pick (s, 0, 1);
    wes_sched_succeeded (s, 0, 1);
    s_expect_pick (s, 1, 0);
    s_expect_none (s);
    wes_sched_destroy (&s);

    //  CIC per group: nontx steps wait for the group's CIC slot, other steps
    //  of the same group go on
    wes_plan_destroy (&plan);
    plan = wes_plan_new ("a", "b");
    s_add (plan, WES_PHASE_EXPAND, WES_STEP_NONTX, "a", 10, -1);
    s_add (plan, WES_PHASE_EXPAND, WES_STEP_TX, "b", 1, -1);
    const char *one[] = {"g", "g", "h"};
    l = s_nolimits ();
    l.max_cic_per_group = 1;
    s = wes_sched_new (plan, 3, one, &l);
    assert_non_null (s);
    s_expect_pick (s, 0, 0);
    s_expect_pick (s, 2, 0); /* another group */
    s_expect_pick (s, 0, 1);
    s_expect_pick (s, 1, 1);
    s_expect_pick (s, 2, 1);
    s_expect_none (s);
    wes_sched_retry (s, 0, 0, 50);
    assert_int_equal (wes_sched_next_wakeup (s), 50);
    //  The slot is free again, and target 1's CIC takes it before target
    //  0's retry is due
    s_expect_pick (s, 1, 0);
    assert_false (wes_sched_pick (s, 100, NULL, NULL));
    wes_sched_succeeded (s, 1, 0);
    uint32_t t, st;
    assert_true (wes_sched_pick (s, 100, &t, &st));
    assert_int_equal (t, 0);
    assert_int_equal (st, 0);
    assert_int_equal (wes_sched_attempts (s, 0, 0), 2);
    wes_sched_destroy (&s);
    wes_plan_destroy (&plan);
}

static void
test_total_cap (void **state)
{
    (void)state;
    wes_plan_t *plan = wes_plan_new ("a", "b");
    s_add (plan, WES_PHASE_EXPAND, WES_STEP_TX, "a", 1, -1);
    wes_sched_limits_t l = s_nolimits ();
    l.max_total = 2;
    wes_sched_t *s = wes_sched_new (plan, 3, NULL, &l);
    assert_non_null (s);
    s_expect_pick (s, 0, 0);
    s_expect_pick (s, 1, 0);
    s_expect_none (s);
    wes_sched_succeeded (s, 1, 0);
    s_expect_pick (s, 2, 0);
    s_expect_none (s);
    wes_sched_destroy (&s);
    wes_plan_destroy (&plan);
}

static void
test_fleet_gate (void **state)
{
    (void)state;
    //  s0 expand, s1 contract with no dependency at all: still held until
    //  every target finished every non-contract step
    wes_plan_t *plan = wes_plan_new ("a", "b");
    s_add (plan, WES_PHASE_EXPAND, WES_STEP_TX, "a", 1, -1);
    s_add (plan, WES_PHASE_CONTRACT, WES_STEP_TX, "b", 100, -1);
    s_add (plan, WES_PHASE_BACKFILL, WES_STEP_BATCHED, "c", 1, -1);
    wes_sched_limits_t l = s_nolimits ();
    wes_sched_t *s = wes_sched_new (plan, 2, NULL, &l);
    assert_non_null (s);
    assert_false (wes_sched_gate_open (s));
    assert_int_equal (wes_sched_count (s, WES_SS_READY), 6);
    s_expect_pick (s, 0, 0);
    s_expect_pick (s, 0, 2);
    s_expect_pick (s, 1, 0);
    s_expect_pick (s, 1, 2);
    s_expect_none (s);
    wes_sched_succeeded (s, 0, 0);
    wes_sched_succeeded (s, 0, 2);
    wes_sched_succeeded (s, 1, 0);
    s_expect_none (s);
    assert_false (wes_sched_gate_open (s));
    wes_sched_retry (s, 1, 2, 10);
    assert_true (wes_sched_pick (s, 20, NULL, NULL));
    assert_int_equal (wes_sched_state (s, 1, 2), WES_SS_DISPATCHED);
    assert_false (wes_sched_gate_open (s));
    wes_sched_succeeded (s, 1, 2);
    assert_true (wes_sched_gate_open (s));
    s_expect_pick (s, 0, 1);
    s_expect_pick (s, 1, 1);
    wes_sched_succeeded (s, 0, 1);
    wes_sched_succeeded (s, 1, 1);
    assert_true (wes_sched_done (s));
    wes_sched_destroy (&s);
    wes_plan_destroy (&plan);
}

static void
test_stop_before_and_resume (void **state)
{
    (void)state;
    wes_plan_t *plan = wes_plan_new ("a", "b");
    size_t s0 = s_add (plan, WES_PHASE_EXPAND, WES_STEP_TX, "a", 1, -1);
    size_t s1 = s_add (plan, WES_PHASE_BACKFILL, WES_STEP_BATCHED, "a", 1, (int)s0, -1);
    s_add (plan, WES_PHASE_EXPAND, WES_STEP_TX, "b", 1, -1);
    s_add (plan, WES_PHASE_CONTRACT, WES_STEP_TX, "a", 1, (int)s1, -1);
    wes_sched_limits_t l = s_nolimits ();
    l.stop_before_set = true;
    l.stop_before = WES_PHASE_BACKFILL;
    wes_sched_t *s = wes_sched_new (plan, 1, NULL, &l);
    assert_non_null (s);
    s_expect_pick (s, 0, 0);
    s_expect_pick (s, 0, 2);
    s_expect_none (s);
    wes_sched_succeeded (s, 0, 0);
    wes_sched_succeeded (s, 0, 2);
    s_expect_none (s);
    assert_int_equal (wes_sched_state (s, 0, 1), WES_SS_READY);
    assert_int_equal (wes_sched_next_wakeup (s), -1);
    assert_int_equal (wes_sched_count (s, WES_SS_SUCCEEDED), 2);
    wes_sched_destroy (&s);

    //  Resume through contract: a new scheduler, the state restored (in
    //  any order), and the run carries on from where it stopped
    l.stop_before_set = false;
    s = wes_sched_new (plan, 1, NULL, &l);
    assert_non_null (s);
    wes_sched_restore (s, 0, 3, WES_SS_PENDING, 0, 0);
    wes_sched_restore (s, 0, 2, WES_SS_SUCCEEDED, 1, 0);
    wes_sched_restore (s, 0, 1, WES_SS_PENDING, 0, 0);
    assert_int_equal (wes_sched_state (s, 0, 1), WES_SS_PENDING);
    wes_sched_restore (s, 0, 0, WES_SS_SUCCEEDED, 1, 0);
    assert_int_equal (wes_sched_state (s, 0, 1), WES_SS_READY);
    assert_int_equal (wes_sched_attempts (s, 0, 0), 1);
    s_expect_pick (s, 0, 1);
    s_expect_none (s);
    wes_sched_succeeded (s, 0, 1);
    s_expect_pick (s, 0, 3);
    wes_sched_succeeded (s, 0, 3);
    assert_true (wes_sched_done (s));
    wes_sched_destroy (&s);
    wes_plan_destroy (&plan);
}

static void
test_waves (void **state)
{
    (void)state;
    //  s1 has by far the longest path, but waves run step by step
    wes_plan_t *plan = wes_plan_new ("a", "b");
    s_add (plan, WES_PHASE_EXPAND, WES_STEP_TX, "a", 1, -1);
    s_add (plan, WES_PHASE_EXPAND, WES_STEP_TX, "b", 100, -1);
    wes_sched_limits_t l = s_nolimits ();
    l.waves = true;
    wes_sched_t *s = wes_sched_new (plan, 2, NULL, &l);
    assert_non_null (s);
    s_expect_pick (s, 0, 0);
    s_expect_pick (s, 1, 0);
    s_expect_none (s);
    wes_sched_succeeded (s, 0, 0);
    s_expect_none (s);
    wes_sched_succeeded (s, 1, 0);
    s_expect_pick (s, 0, 1);
    s_expect_pick (s, 1, 1);
    wes_sched_destroy (&s);
    //  Rolling: the long one first, everywhere
    l.waves = false;
    s = wes_sched_new (plan, 2, NULL, &l);
    s_expect_pick (s, 0, 1);
    s_expect_pick (s, 1, 1);
    wes_sched_destroy (&s);
    wes_plan_destroy (&plan);
}

static void
test_retry_and_failure (void **state)
{
    (void)state;
    //  s0 -> s1; s2 alone
    wes_plan_t *plan = wes_plan_new ("a", "b");
    size_t s0 = s_add (plan, WES_PHASE_EXPAND, WES_STEP_TX, "a", 1, -1);
    s_add (plan, WES_PHASE_EXPAND, WES_STEP_TX, "a", 1, (int)s0, -1);
    s_add (plan, WES_PHASE_EXPAND, WES_STEP_TX, "b", 1, -1);
    wes_sched_limits_t l = s_nolimits ();
    l.max_per_target = 1;
    wes_sched_t *s = wes_sched_new (plan, 2, NULL, &l);
    assert_non_null (s);
    uint32_t t, st;
    assert_true (s_pick (s, 0, &t, &st));
    assert_int_equal (t, 0);
    assert_int_equal (st, 0);
    wes_sched_retry (s, 0, 0, 500);
    assert_int_equal (wes_sched_state (s, 0, 0), WES_SS_RETRY_WAIT);
    assert_int_equal (wes_sched_count (s, WES_SS_RETRY_WAIT), 1);
    assert_int_equal (wes_sched_next_wakeup (s), 500);
    //  Target 1 goes on, and target 0 is free while its step waits
    assert_true (s_pick (s, 100, &t, &st));
    assert_int_equal (t, 1);
    assert_int_equal (st, 0);
    assert_true (s_pick (s, 100, &t, &st));
    assert_int_equal (t, 0);
    assert_int_equal (st, 2);
    wes_sched_succeeded (s, 0, 2);
    assert_false (s_pick (s, 100, &t, &st));
    assert_false (s_pick (s, 499, &t, &st));
    assert_true (s_pick (s, 500, &t, &st));
    assert_int_equal (t, 0);
    assert_int_equal (st, 0);
    assert_int_equal (wes_sched_attempts (s, 0, 0), 2);
    assert_int_equal (wes_sched_next_wakeup (s), -1);
    //  Reports for instances not in flight change nothing
    wes_sched_succeeded (s, 0, 1);
    wes_sched_failed (s, 0, 2);
    wes_sched_requeue (s, 0, 2);
    wes_sched_running (s, 0, 2);
    assert_int_equal (wes_sched_state (s, 0, 1), WES_SS_PENDING);
    assert_int_equal (wes_sched_state (s, 0, 2), WES_SS_SUCCEEDED);
    //  A permanent failure: its dependent never becomes ready
    wes_sched_failed (s, 0, 0);
    wes_sched_failed (s, 0, 0);
    assert_int_equal (wes_sched_count (s, WES_SS_FAILED), 1);
    assert_int_equal (wes_sched_state (s, 0, 1), WES_SS_PENDING);
    assert_false (s_pick (s, 1000, &t, &st));
    wes_sched_succeeded (s, 1, 0);
    assert_true (s_pick (s, 1000, &t, &st));
    assert_int_equal (t, 1);
    assert_false (wes_sched_done (s));
    wes_sched_destroy (&s);
    wes_plan_destroy (&plan);
}

static void
test_restore_unknown (void **state)
{
    (void)state;
    //  An instance in flight when the coordinator died holds its table and
    //  its target's slot until it is reconciled
    wes_plan_t *plan = wes_plan_new ("a", "b");
    size_t s0 = s_add (plan, WES_PHASE_EXPAND, WES_STEP_NONTX, "a", 1, -1);
    s_add (plan, WES_PHASE_EXPAND, WES_STEP_TX, "a", 1, -1);
    s_add (plan, WES_PHASE_EXPAND, WES_STEP_TX, "b", 1, (int)s0, -1);
    wes_sched_limits_t l = s_nolimits ();
    wes_sched_t *s = wes_sched_new (plan, 2, NULL, &l);
    assert_non_null (s);
    wes_sched_restore (s, 0, 0, WES_SS_UNKNOWN, 1, 0);
    wes_sched_restore (s, 1, 0, WES_SS_UNKNOWN, 3, 0);
    wes_sched_restore (s, 1, 1, WES_SS_RETRY_WAIT, 2, 40);
    wes_sched_restore (s, 1, 1, WES_SS_RETRY_WAIT, 2, 30);
    //  Out of range (a damaged store): ignored
    wes_sched_restore (s, 2, 0, WES_SS_SUCCEEDED, 1, 0);
    wes_sched_restore (s, 0, 3, WES_SS_SUCCEEDED, 1, 0);
    wes_sched_restore (s, 0, 2, (wes_step_state_t)42, 1, 0);
    assert_int_equal (wes_sched_count (s, WES_SS_SUCCEEDED), 0);
    assert_int_equal (wes_sched_state (s, 0, 2), WES_SS_PENDING);
    assert_int_equal (wes_sched_count (s, WES_SS_UNKNOWN), 2);
    assert_int_equal (wes_sched_next_wakeup (s), 30);
    s_expect_none (s);
    //  Reconciled: target 0's was not applied, target 1's was
    wes_sched_requeue (s, 0, 0);
    wes_sched_succeeded (s, 1, 0);
    assert_int_equal (wes_sched_state (s, 0, 0), WES_SS_READY);
    assert_int_equal (wes_sched_state (s, 1, 2), WES_SS_READY);
    s_expect_pick (s, 0, 0);
    assert_int_equal (wes_sched_attempts (s, 0, 0), 2);
    s_expect_pick (s, 1, 2);
    s_expect_none (s);
    uint32_t t, st;
    assert_true (s_pick (s, 30, &t, &st));
    assert_int_equal (t, 1);
    assert_int_equal (st, 1);
    assert_int_equal (wes_sched_attempts (s, 1, 1), 3);
    //  A restore can also take back a success: its dependent waits again
    wes_plan_t *chain = wes_plan_new ("a", "b");
    size_t c0 = s_add (chain, WES_PHASE_EXPAND, WES_STEP_TX, "a", 1, -1);
    s_add (chain, WES_PHASE_CONTRACT, WES_STEP_TX, "a", 1, (int)c0, -1);
    wes_sched_t *c = wes_sched_new (chain, 1, NULL, &l);
    wes_sched_restore (c, 0, 0, WES_SS_SUCCEEDED, 1, 0);
    assert_true (wes_sched_gate_open (c));
    assert_int_equal (wes_sched_state (c, 0, 1), WES_SS_READY);
    wes_sched_restore (c, 0, 0, WES_SS_FAILED, 1, 0);
    assert_false (wes_sched_gate_open (c));
    assert_int_equal (wes_sched_state (c, 0, 1), WES_SS_PENDING);
    s_expect_none (c);
    wes_sched_restore (c, 0, 0, WES_SS_READY, 1, 0);
    s_expect_pick (c, 0, 0);
    wes_sched_succeeded (c, 0, 0);
    s_expect_pick (c, 0, 1);
    wes_sched_destroy (&c);
    wes_plan_destroy (&chain);
    wes_sched_destroy (&s);
    wes_plan_destroy (&plan);
}

//  --------------------------------------------------------------------------
//  Property test: random DAGs, fleets and limits through a simulated
//  executor, every pick checked against an independent model of the rules
//  and of the priority order.

enum { M_WAIT = 0, M_RUN = 1, M_RETRY = 2, M_DONE = 3, M_FAILED = 4 };

typedef struct {
    uint64_t seed;          /* this case's seed (printed on failure) */
    uint64_t rng;           /* generator state */
    wes_plan_t *plan;       /* the random plan */
    uint32_t P;             /* steps */
    uint32_t T;             /* targets */
    int *phase;             /* per step */
    bool *nontx;            /* per step */
    int *table;             /* per step: table number or -1 */
    int64_t *cp;            /* per step: longest remaining cost path */
    uint32_t *group;        /* per target: group number */
    char **group_names;     /* per target: name or NULL */
    uint32_t n_groups;      /* distinct groups */
    wes_sched_limits_t lim; /* limits in force */
    wes_sched_t *sched;     /* under test */
    //  The model, per instance
    uint8_t *st;        /* M_... */
    int64_t *nb;        /* M_RETRY: due time */
    int64_t *end;       /* M_RUN: completion time */
    uint32_t *attempts; /* dispatched */
    int *applied;       /* times its change was applied */
    int *retries;       /* retryable failures still to inject */
    bool *perm;         /* fails permanently at its next completion */
    int64_t *dur;       /* run time */
    bool any_perm;      /* a permanent failure was injected */
    size_t picks;       /* picks so far */
} s_sim_t;

#define S_FAIL(sim, ...)                                                                           \
    do {                                                                                           \
        char s_msg_[512];                                                                          \
        snprintf (s_msg_, sizeof s_msg_, __VA_ARGS__);                                             \
        fail_msg ("property failed with seed %llu (rerun: WES_SCHED_SEED=%llu): %s",               \
                  (unsigned long long)(sim)->seed, (unsigned long long)(sim)->seed, s_msg_);       \
    } while (0)

static uint64_t
s_rand (s_sim_t *sim)
{
    //  splitmix64
    uint64_t z = (sim->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint32_t
s_below (s_sim_t *sim, uint32_t n)
{
    return n ? (uint32_t)(s_rand (sim) % n) : 0;
}

static bool
s_chance (s_sim_t *sim, uint32_t percent)
{
    return s_below (sim, 100) < percent;
}

static wes_sched_limits_t
s_random_limits (s_sim_t *sim)
{
    wes_sched_limits_t l = s_nolimits ();
    l.max_per_target = s_below (sim, 4);
    l.max_per_group = s_chance (sim, 50) ? s_below (sim, 5) : 0;
    l.max_cic_per_group = s_chance (sim, 50) ? s_below (sim, 3) : 0;
    l.max_total = s_chance (sim, 40) ? s_below (sim, 8) : 0;
    l.waves = s_chance (sim, 15);
    if (s_chance (sim, 20)) {
        l.stop_before_set = true;
        l.stop_before = (wes_phase_t)(1 + s_below (sim, 3));
    }
    return l;
}

static void
s_sim_build (s_sim_t *sim, uint64_t seed)
{
    memset (sim, 0, sizeof *sim);
    sim->seed = seed;
    sim->rng = seed * 0x2545f4914f6cdd1dull + 1;
    sim->P = 1 + s_below (sim, 24);
    sim->T = 1 + s_below (sim, 10);
    uint32_t P = sim->P;
    uint32_t n_tables = 1 + s_below (sim, 5);
    sim->plan = wes_plan_new ("a", "b");
    sim->phase = calloc (P, sizeof (int));
    sim->nontx = calloc (P, sizeof (bool));
    sim->table = calloc (P, sizeof (int));
    sim->cp = calloc (P, sizeof (int64_t));
    int64_t *cost = calloc (P, sizeof (int64_t));
    uint32_t **deps = calloc (P, sizeof (uint32_t *));
    uint32_t *n_deps = calloc (P, sizeof (uint32_t));
    for (uint32_t s = 0; s < P; s++) {
        //  Phases non-decreasing along dependencies: a dependency is drawn
        //  from the earlier steps whose phase is not later than this one's
        int phase = (int)s_below (sim, 4);
        sim->phase[s] = phase;
        int kind = (int)s_below (sim, 3);
        sim->nontx[s] = kind == WES_STEP_NONTX;
        sim->table[s] = s_chance (sim, 15) ? -1 : (int)s_below (sim, n_tables);
        cost[s] = (int64_t)s_below (sim, 20);
        char tab[16];
        snprintf (tab, sizeof tab, "tab%d", sim->table[s]);
        wes_step_t *st =
            wes_plan_add_step (sim->plan, "p", (wes_phase_t)phase, (wes_step_kind_t)kind,
                               sim->table[s] >= 0 ? tab : NULL, WES_LOCK_NONE);
        st->cost = cost[s];
        deps[s] = calloc (P, sizeof (uint32_t));
        uint32_t want = s_below (sim, 4);
        for (uint32_t k = 0; k < want && s > 0; k++) {
            uint32_t d = s_below (sim, s);
            if (sim->phase[d] <= phase) {
                bool dup = false;
                for (uint32_t j = 0; j < n_deps[s]; j++) {
                    dup = dup || deps[s][j] == d;
                }
                if (!dup) {
                    deps[s][n_deps[s]++] = d;
                    wes_step_add_dep (st, wes_plan_step (sim->plan, d)->id);
                }
            }
        }
    }
    //  The model's own critical paths: longest path over dependents
    for (uint32_t s = P; s-- > 0;) {
        int64_t longest = 0;
        for (uint32_t x = s + 1; x < P; x++) {
            for (uint32_t j = 0; j < n_deps[x]; j++) {
                if (deps[x][j] == s && sim->cp[x] > longest) {
                    longest = sim->cp[x];
                }
            }
        }
        sim->cp[s] = cost[s] + longest;
    }
    for (uint32_t s = 0; s < P; s++) {
        free (deps[s]);
    }
    free (deps);
    free (n_deps);
    free (cost);

    uint32_t T = sim->T;
    uint32_t named = s_below (sim, 4);
    sim->group = calloc (T, sizeof (uint32_t));
    sim->group_names = calloc (T, sizeof (char *));
    //  Group numbers: named groups 0..named-1, then one per unnamed target
    sim->n_groups = named;
    for (uint32_t t = 0; t < T; t++) {
        if (named && s_chance (sim, 70)) {
            uint32_t g = s_below (sim, named);
            char name[16];
            snprintf (name, sizeof name, "g%u", g);
            sim->group_names[t] = wes_strdup (name);
            sim->group[t] = g;
        }
        else {
            sim->group[t] = sim->n_groups++;
        }
    }

    size_t N = (size_t)P * T;
    sim->st = calloc (N, 1);
    sim->nb = calloc (N, sizeof (int64_t));
    sim->end = calloc (N, sizeof (int64_t));
    sim->attempts = calloc (N, sizeof (uint32_t));
    sim->applied = calloc (N, sizeof (int));
    sim->retries = calloc (N, sizeof (int));
    sim->perm = calloc (N, sizeof (bool));
    sim->dur = calloc (N, sizeof (int64_t));
    bool inject_perm = s_chance (sim, 30);
    for (size_t i = 0; i < N; i++) {
        sim->dur[i] = 1 + s_below (sim, 40);
        sim->retries[i] = s_chance (sim, 15) ? (int)(1 + s_below (sim, 2)) : 0;
        sim->perm[i] = inject_perm && s_chance (sim, 4);
    }
    sim->lim = s_random_limits (sim);
    sim->sched = wes_sched_new (sim->plan, T, (const char *const *)sim->group_names, &sim->lim);
    if (!sim->sched) {
        S_FAIL (sim, "the scheduler refused a valid plan");
    }
}

static void
s_sim_free (s_sim_t *sim)
{
    wes_sched_destroy (&sim->sched);
    wes_plan_destroy (&sim->plan);
    for (uint32_t t = 0; t < sim->T; t++) {
        free (sim->group_names[t]);
    }
    free (sim->group_names);
    free (sim->group);
    free (sim->phase);
    free (sim->nontx);
    free (sim->table);
    free (sim->cp);
    free (sim->st);
    free (sim->nb);
    free (sim->end);
    free (sim->attempts);
    free (sim->applied);
    free (sim->retries);
    free (sim->perm);
    free (sim->dur);
}

static bool
s_stopped (const s_sim_t *sim, uint32_t s)
{
    return sim->lim.stop_before_set && sim->phase[s] >= (int)sim->lim.stop_before;
}

//  Waves come in plan order, phase by phase.
static bool
s_wave_before (const s_sim_t *sim, uint32_t a, uint32_t b)
{
    if (sim->phase[a] != sim->phase[b]) {
        return sim->phase[a] < sim->phase[b];
    }
    return a < b;
}

static bool
s_deps_done (const s_sim_t *sim, uint32_t t, uint32_t s)
{
    const wes_step_t *st = wes_plan_step (sim->plan, s);
    for (size_t k = 0; k < st->n_deps; k++) {
        for (uint32_t d = 0; d < s; d++) {
            if (strcmp (wes_plan_step (sim->plan, d)->id, st->deps[k]) == 0
                && sim->st[(size_t)t * sim->P + d] != M_DONE) {
                return false;
            }
        }
    }
    return true;
}

//  Why the model says (t, s) may not start at now, or NULL when it may.
static const char *
s_rule_broken (const s_sim_t *sim, uint32_t t, uint32_t s, int64_t now)
{
    size_t id = (size_t)t * sim->P + s;
    uint8_t m = sim->st[id];
    if (m == M_RUN) {
        return "already running";
    }
    if (m == M_DONE) {
        return "already succeeded (would run twice)";
    }
    if (m == M_FAILED) {
        return "failed permanently";
    }
    if (m == M_RETRY && sim->nb[id] > now) {
        return "retry not yet due";
    }
    if (!s_deps_done (sim, t, s)) {
        return "a dependency has not succeeded";
    }
    if (sim->lim.stop_before_set && sim->phase[s] >= (int)sim->lim.stop_before) {
        return "phase at or past stop_before";
    }
    size_t nc_left = 0;
    size_t run_total = 0;
    uint32_t run_target = 0;
    uint32_t run_group = 0;
    uint32_t cic_group = 0;
    for (uint32_t t2 = 0; t2 < sim->T; t2++) {
        for (uint32_t s2 = 0; s2 < sim->P; s2++) {
            size_t j = (size_t)t2 * sim->P + s2;
            if (sim->phase[s2] != WES_PHASE_CONTRACT && sim->st[j] != M_DONE) {
                nc_left++;
            }
            if (sim->lim.waves && s_wave_before (sim, s2, s) && sim->st[j] != M_DONE
                && !s_stopped (sim, s2)) {
                return "waves: an earlier step is not done on every target";
            }
            if (sim->st[j] != M_RUN) {
                continue;
            }
            run_total++;
            if (t2 == t) {
                run_target++;
                if (sim->table[s] >= 0 && sim->table[s2] == sim->table[s]) {
                    return sim->nontx[s] && sim->nontx[s2] ? "two CIC on one (target, table)"
                                                           : "two steps on one (target, table)";
                }
            }
            if (sim->group[t2] == sim->group[t]) {
                run_group++;
                if (sim->nontx[s2]) {
                    cic_group++;
                }
            }
        }
    }
    if (sim->phase[s] == WES_PHASE_CONTRACT && nc_left > 0) {
        return "contract step before the fleet gate opened";
    }
    if (sim->lim.max_per_target && run_target >= sim->lim.max_per_target) {
        return "max_per_target exceeded";
    }
    if (sim->lim.max_per_group && run_group >= sim->lim.max_per_group) {
        return "max_per_group exceeded";
    }
    if (sim->nontx[s] && sim->lim.max_cic_per_group && cic_group >= sim->lim.max_cic_per_group) {
        return "max_cic_per_group exceeded";
    }
    if (sim->lim.max_total && run_total >= sim->lim.max_total) {
        return "max_total exceeded";
    }
    return NULL;
}

//  Priority order of the model: longest path first (waves: plan order),
//  then target, then step.
static bool
s_model_before (const s_sim_t *sim, size_t a, size_t b)
{
    uint32_t sa = (uint32_t)(a % sim->P), sb = (uint32_t)(b % sim->P);
    if (sim->lim.waves) {
        if (sa != sb) {
            return s_wave_before (sim, sa, sb);
        }
    }
    else if (sim->cp[sa] != sim->cp[sb]) {
        return sim->cp[sa] > sim->cp[sb];
    }
    return a < b;
}

//  The instance the model would start now, or SIZE_MAX.
static size_t
s_model_best (const s_sim_t *sim, int64_t now)
{
    size_t best = SIZE_MAX;
    for (uint32_t t = 0; t < sim->T; t++) {
        for (uint32_t s = 0; s < sim->P; s++) {
            size_t id = (size_t)t * sim->P + s;
            if (s_rule_broken (sim, t, s, now) == NULL
                && (best == SIZE_MAX || s_model_before (sim, id, best))) {
                best = id;
            }
        }
    }
    return best;
}

//  The scheduler's state agrees with the model's.
static void
s_check_states (s_sim_t *sim, int64_t now)
{
    size_t counts[8] = {0};
    for (uint32_t t = 0; t < sim->T; t++) {
        for (uint32_t s = 0; s < sim->P; s++) {
            size_t id = (size_t)t * sim->P + s;
            wes_step_state_t got = wes_sched_state (sim->sched, t, s);
            counts[got]++;
            bool ok;
            switch (sim->st[id]) {
            case M_RUN:
                ok = got == WES_SS_DISPATCHED || got == WES_SS_RUNNING;
                break;
            case M_DONE:
                ok = got == WES_SS_SUCCEEDED;
                break;
            case M_FAILED:
                ok = got == WES_SS_FAILED;
                break;
            case M_RETRY:
                ok = got == WES_SS_RETRY_WAIT
                     || (sim->nb[id] <= now
                         && got == (s_deps_done (sim, t, s) ? WES_SS_READY : WES_SS_PENDING));
                break;
            default:
                ok = got == (s_deps_done (sim, t, s) ? WES_SS_READY : WES_SS_PENDING);
                break;
            }
            if (!ok) {
                S_FAIL (sim, "instance (%u,%u): scheduler says %s, model %d", t, s,
                        wes_step_state_name (got), sim->st[id]);
            }
            if (wes_sched_attempts (sim->sched, t, s) != sim->attempts[id]) {
                S_FAIL (sim, "instance (%u,%u): %u attempts, model %u", t, s,
                        wes_sched_attempts (sim->sched, t, s), sim->attempts[id]);
            }
        }
    }
    for (int k = 0; k < 8; k++) {
        if (counts[k] != wes_sched_count (sim->sched, (wes_step_state_t)k)) {
            S_FAIL (sim, "count of %s: %zu, instances say %zu",
                    wes_step_state_name ((wes_step_state_t)k),
                    wes_sched_count (sim->sched, (wes_step_state_t)k), counts[k]);
        }
    }
}

//  The coordinator dies: a new scheduler (perhaps with other limits: a
//  resume --through lifts stop_before) gets every instance restored in a
//  random order; what was in flight comes back UNKNOWN and is reconciled:
//  applied (succeeded) or not (requeued).
static void
s_sim_crash (s_sim_t *sim, int64_t now)
{
    wes_sched_destroy (&sim->sched);
    if (s_chance (sim, 50)) {
        sim->lim = s_random_limits (sim);
    }
    sim->sched =
        wes_sched_new (sim->plan, sim->T, (const char *const *)sim->group_names, &sim->lim);
    size_t N = (size_t)sim->P * sim->T;
    size_t *order = calloc (N, sizeof (size_t));
    for (size_t i = 0; i < N; i++) {
        order[i] = i;
    }
    for (size_t i = N; i > 1; i--) {
        size_t j = s_below (sim, (uint32_t)i);
        size_t x = order[i - 1];
        order[i - 1] = order[j];
        order[j] = x;
    }
    static const wes_step_state_t as[] = {WES_SS_PENDING, WES_SS_UNKNOWN, WES_SS_RETRY_WAIT,
                                          WES_SS_SUCCEEDED, WES_SS_FAILED};
    for (size_t k = 0; k < N; k++) {
        size_t i = order[k];
        wes_step_state_t state = as[sim->st[i]];
        if (state == WES_SS_PENDING && s_chance (sim, 50)) {
            state = WES_SS_READY; //  the scheduler decides which it is
        }
        wes_sched_restore (sim->sched, (uint32_t)(i / sim->P), (uint32_t)(i % sim->P), state,
                           sim->attempts[i], sim->nb[i]);
    }
    free (order);
    for (size_t i = 0; i < N; i++) {
        if (sim->st[i] != M_RUN) {
            continue;
        }
        uint32_t t = (uint32_t)(i / sim->P), s = (uint32_t)(i % sim->P);
        if (wes_sched_state (sim->sched, t, s) != WES_SS_UNKNOWN) {
            S_FAIL (sim, "restored UNKNOWN (%u,%u) is %s", t, s,
                    wes_step_state_name (wes_sched_state (sim->sched, t, s)));
        }
        if (s_chance (sim, 50)) {
            sim->applied[i]++;
            sim->st[i] = M_DONE;
            wes_sched_succeeded (sim->sched, t, s);
        }
        else {
            sim->st[i] = M_WAIT;
            wes_sched_requeue (sim->sched, t, s);
        }
    }
    s_check_states (sim, now);
}

static void
s_sim_complete (s_sim_t *sim, size_t i, int64_t now)
{
    uint32_t t = (uint32_t)(i / sim->P), s = (uint32_t)(i % sim->P);
    if (sim->perm[i]) {
        sim->st[i] = M_FAILED;
        sim->any_perm = true;
        wes_sched_failed (sim->sched, t, s);
    }
    else if (sim->retries[i] > 0) {
        sim->retries[i]--;
        sim->st[i] = M_RETRY;
        sim->nb[i] = now + s_below (sim, 30);
        wes_sched_retry (sim->sched, t, s, sim->nb[i]);
    }
    else if (s_chance (sim, 3)) {
        //  The worker was lost and the step found not applied
        sim->st[i] = M_WAIT;
        wes_sched_requeue (sim->sched, t, s);
    }
    else {
        if (sim->applied[i] != 0) {
            S_FAIL (sim, "(%u,%u) applied twice", t, s);
        }
        sim->applied[i]++;
        sim->st[i] = M_DONE;
        wes_sched_succeeded (sim->sched, t, s);
    }
}

//  True when (t, s) cannot finish because of a permanent failure: it
//  failed, or a dependency on its target cannot finish.
static bool
s_blocked_by_failure (const s_sim_t *sim, uint32_t t, uint32_t s)
{
    size_t id = (size_t)t * sim->P + s;
    if (sim->st[id] == M_FAILED) {
        return true;
    }
    const wes_step_t *st = wes_plan_step (sim->plan, s);
    for (size_t k = 0; k < st->n_deps; k++) {
        for (uint32_t d = 0; d < s; d++) {
            if (strcmp (wes_plan_step (sim->plan, d)->id, st->deps[k]) == 0
                && sim->st[(size_t)t * sim->P + d] != M_DONE && s_blocked_by_failure (sim, t, d)) {
                return true;
            }
        }
    }
    return false;
}

static void
s_sim_run (uint64_t seed)
{
    s_sim_t sim;
    s_sim_build (&sim, seed);
    if (getenv ("WES_SCHED_TRACE")) {
        printf ("# P=%u T=%u groups=%u limits: target %u group %u cic %u total %u waves %d stop "
                "%d/%d\n",
                sim.P, sim.T, sim.n_groups, sim.lim.max_per_target, sim.lim.max_per_group,
                sim.lim.max_cic_per_group, sim.lim.max_total, sim.lim.waves,
                sim.lim.stop_before_set, sim.lim.stop_before);
        for (uint32_t s = 0; s < sim.P; s++) {
            const wes_step_t *st = wes_plan_step (sim.plan, s);
            printf ("#  step %u phase %d nontx %d table %d cp %lld deps %zu\n", s, sim.phase[s],
                    sim.nontx[s], sim.table[s], (long long)sim.cp[s], st->n_deps);
        }
    }
    size_t N = (size_t)sim.P * sim.T;
    int64_t now = 1000;
    size_t crash_at = s_chance (&sim, 40) ? 1 + s_below (&sim, (uint32_t)N * 2) : SIZE_MAX;
    size_t steps = 0;
    while (true) {
        if (++steps > 100000) {
            S_FAIL (&sim, "the simulation does not end");
        }
        //  Start everything that may start now, checking each pick
        while (true) {
            size_t expect = s_model_best (&sim, now);
            uint32_t t, s;
            if (!wes_sched_pick (sim.sched, now, &t, &s)) {
                if (expect != SIZE_MAX) {
                    S_FAIL (&sim, "nothing picked at %lld though (%zu,%zu) may start",
                            (long long)now, expect / sim.P, expect % sim.P);
                }
                break;
            }
            if (t >= sim.T || s >= sim.P) {
                S_FAIL (&sim, "picked out of range (%u,%u)", t, s);
            }
            const char *why = s_rule_broken (&sim, t, s, now);
            if (why) {
                S_FAIL (&sim, "picked (%u,%u) at %lld: %s", t, s, (long long)now, why);
            }
            size_t id = (size_t)t * sim.P + s;
            if (id != expect) {
                S_FAIL (&sim, "picked (%u,%u) (path %lld), expected (%zu,%zu) (path %lld)", t, s,
                        (long long)sim.cp[s], expect / sim.P, expect % sim.P,
                        (long long)sim.cp[expect % sim.P]);
            }
            sim.st[id] = M_RUN;
            sim.attempts[id]++;
            sim.end[id] = now + sim.dur[id];
            if (s_chance (&sim, 30)) {
                wes_sched_running (sim.sched, t, s);
            }
            if (++sim.picks == crash_at) {
                s_sim_crash (&sim, now);
            }
        }
        s_check_states (&sim, now);
        //  Advance time to the next completion or retry
        int64_t next = INT64_MAX;
        for (size_t i = 0; i < N; i++) {
            if (sim.st[i] == M_RUN && sim.end[i] < next) {
                next = sim.end[i];
            }
        }
        int64_t wake = wes_sched_next_wakeup (sim.sched);
        int64_t model_wake = -1;
        for (size_t i = 0; i < N; i++) {
            if (sim.st[i] == M_RETRY && (model_wake < 0 || sim.nb[i] < model_wake)) {
                model_wake = sim.nb[i];
            }
        }
        if (wake != model_wake) {
            S_FAIL (&sim, "next wakeup %lld, model %lld", (long long)wake, (long long)model_wake);
        }
        if (next == INT64_MAX && wake < 0) {
            break; //  nothing running, nothing waiting: finished or stalled
        }
        if (wake >= 0 && wake < next) {
            now = wake > now ? wake : now;
            for (size_t i = 0; i < N; i++) {
                if (sim.st[i] == M_RETRY && sim.nb[i] <= now) {
                    sim.st[i] = M_WAIT;
                }
            }
            continue;
        }
        now = next;
        //  Complete what ends now, in a random order
        uint32_t start = s_below (&sim, (uint32_t)N);
        for (size_t k = 0; k < N; k++) {
            size_t i = (start + k) % N;
            if (sim.st[i] == M_RUN && sim.end[i] <= now) {
                s_sim_complete (&sim, i, now);
            }
        }
        for (size_t i = 0; i < N; i++) {
            if (sim.st[i] == M_RETRY && sim.nb[i] <= now) {
                sim.st[i] = M_WAIT;
            }
        }
    }

    //  The end: exactly once, and stalls explained
    size_t nc_left = 0;
    for (size_t i = 0; i < N; i++) {
        if (sim.phase[i % sim.P] != WES_PHASE_CONTRACT && sim.st[i] != M_DONE) {
            nc_left++;
        }
    }
    for (uint32_t s = 0; s < sim.P; s++) {
        for (uint32_t t = 0; t < sim.T; t++) {
            size_t id = (size_t)t * sim.P + s;
            if (sim.applied[id] > 1) {
                S_FAIL (&sim, "(%u,%u) applied %d times", t, s, sim.applied[id]);
            }
            if (sim.st[id] == M_DONE) {
                if (sim.applied[id] != 1) {
                    S_FAIL (&sim, "(%u,%u) succeeded but applied %d times", t, s, sim.applied[id]);
                }
                continue;
            }
            if (sim.st[id] != M_WAIT && sim.st[id] != M_FAILED) {
                S_FAIL (&sim, "(%u,%u) left in model state %d", t, s, sim.st[id]);
            }
            if (s_stopped (&sim, s)) {
                continue;
            }
            if (!sim.any_perm) {
                S_FAIL (&sim, "(%u,%u) never succeeded and nothing failed permanently", t, s);
            }
            if (s_blocked_by_failure (&sim, t, s)) {
                continue;
            }
            if (sim.phase[s] == WES_PHASE_CONTRACT && nc_left > 0) {
                continue; //  the gate stays shut after a failure
            }
            if (sim.lim.waves) {
                continue; //  waves stop at the first step that cannot finish everywhere
            }
            S_FAIL (&sim, "(%u,%u) stalled though no failure blocks it", t, s);
        }
    }
    if (!sim.any_perm) {
        bool all = true;
        for (size_t i = 0; i < N; i++) {
            all = all && (sim.st[i] == M_DONE || s_stopped (&sim, (uint32_t)(i % sim.P)));
        }
        assert_true (all);
        bool none_stopped = true;
        for (uint32_t s = 0; s < sim.P; s++) {
            none_stopped = none_stopped && !s_stopped (&sim, s);
        }
        if (none_stopped && !wes_sched_done (sim.sched)) {
            S_FAIL (&sim, "every instance succeeded but the scheduler is not done");
        }
    }
    s_sim_free (&sim);
}

static void
test_property (void **state)
{
    (void)state;
    const char *env = getenv ("WES_SCHED_SEED");
    if (env && *env) {
        s_sim_run (strtoull (env, NULL, 10));
        return;
    }
    size_t cases = S_SANITIZED ? 400 : 1500;
    const char *more = getenv ("WES_SCHED_CASES");
    if (more && *more) {
        cases = (size_t)strtoull (more, NULL, 10);
    }
    for (uint64_t seed = 1; seed <= cases; seed++) {
        s_sim_run (seed);
    }
}

//  --------------------------------------------------------------------------
//  A million instances: memory per instance and pick speed

static void
s_million (uint32_t n_groups, wes_sched_limits_t l)
{
    uint32_t P = 1000;
    uint32_t T = S_SANITIZED ? 100 : 1000;
    wes_plan_t *plan = wes_plan_new ("a", "b");
    uint64_t r = 42;
    for (uint32_t s = 0; s < P; s++) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        char tab[16];
        snprintf (tab, sizeof tab, "t%u", (unsigned)((r >> 33) % 100));
        wes_phase_t phase = (wes_phase_t)(s * 4 / P);
        wes_step_kind_t kind = (wes_step_kind_t)((r >> 20) % 3);
        wes_step_t *st = wes_plan_add_step (plan, "m", phase, kind, tab, WES_LOCK_NONE);
        st->cost = (int64_t)((r >> 40) % 50);
        for (int k = 0; k < 2 && s > 0; k++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            uint32_t back = 1 + (uint32_t)((r >> 33) % (s < 50 ? s : 50));
            wes_step_add_dep (st, wes_plan_step (plan, s - back)->id);
        }
    }
    char **groups = calloc (T, sizeof (char *));
    for (uint32_t t = 0; t < T; t++) {
        char name[16];
        snprintf (name, sizeof name, "g%u", t % n_groups);
        groups[t] = wes_strdup (name);
    }
    struct mallinfo2 before = mallinfo2 ();
    clock_t c0 = clock ();
    wes_sched_t *s = wes_sched_new (plan, T, (const char *const *)groups, &l);
    assert_non_null (s);
    clock_t c1 = clock ();
    size_t n = (size_t)P * T;
    uint32_t *run_t = calloc (n, sizeof (uint32_t));
    uint32_t *run_s = calloc (n, sizeof (uint32_t));
    size_t picks = 0;
    while (!wes_sched_done (s)) {
        size_t k = 0;
        uint32_t t, st;
        while (wes_sched_pick (s, 0, &t, &st)) {
            run_t[k] = t;
            run_s[k] = st;
            k++;
        }
        assert_true (k > 0);
        picks += k;
        for (size_t i = 0; i < k; i++) {
            wes_sched_succeeded (s, run_t[i], run_s[i]);
        }
    }
    clock_t c2 = clock ();
    struct mallinfo2 after = mallinfo2 ();
    assert_int_equal (picks, n);
    assert_int_equal (wes_sched_count (s, WES_SS_SUCCEEDED), n);
    size_t used_before = before.uordblks + before.hblkhd;
    size_t used_after = after.uordblks + after.hblkhd;
    size_t bytes = used_after > used_before ? used_after - used_before : 0;
    printf ("# %zu instances: new %.2f s, run %.2f s, %.1f bytes per instance\n", n,
            (double)(c1 - c0) / CLOCKS_PER_SEC, (double)(c2 - c1) / CLOCKS_PER_SEC,
            (double)bytes / (double)n);
    if (!S_SANITIZED) {
        assert_true (bytes / n < 64);
    }
    wes_sched_destroy (&s);
    free (run_t);
    free (run_s);
    for (uint32_t t = 0; t < T; t++) {
        free (groups[t]);
    }
    free (groups);
    wes_plan_destroy (&plan);
}

static void
test_million (void **state)
{
    (void)state;
    wes_sched_limits_t l = s_nolimits ();
    l.max_per_target = 2;
    l.max_per_group = 150;
    l.max_cic_per_group = 20;
    s_million (10, l);
}

static void
test_million_one_group (void **state)
{
    (void)state;
    //  Every target in one group with a small cap: picks stay O(log n)
    wes_sched_limits_t l = s_nolimits ();
    l.max_per_target = 1;
    l.max_per_group = 8;
    l.max_cic_per_group = 2;
    l.max_total = 6;
    s_million (1, l);
}

static void
test_waves_phase_order (void **state)
{
    (void)state;
    //  A hand-made plan with its contract step first: waves go phase by
    //  phase (plan order inside a phase), so the gate cannot deadlock them
    wes_plan_t *plan = wes_plan_new ("a", "b");
    s_add (plan, WES_PHASE_CONTRACT, WES_STEP_TX, "a", 1, -1);
    s_add (plan, WES_PHASE_EXPAND, WES_STEP_TX, "b", 1, -1);
    s_add (plan, WES_PHASE_BACKFILL, WES_STEP_BATCHED, "c", 1, -1);
    wes_sched_limits_t l = s_nolimits ();
    l.waves = true;
    wes_sched_t *s = wes_sched_new (plan, 2, NULL, &l);
    assert_non_null (s);
    s_expect_pick (s, 0, 1);
    s_expect_pick (s, 1, 1);
    s_expect_none (s);
    wes_sched_succeeded (s, 0, 1);
    wes_sched_succeeded (s, 1, 1);
    s_expect_pick (s, 0, 2);
    s_expect_pick (s, 1, 2);
    s_expect_none (s);
    wes_sched_succeeded (s, 0, 2);
    wes_sched_succeeded (s, 1, 2);
    s_expect_pick (s, 0, 0);
    s_expect_pick (s, 1, 0);
    wes_sched_succeeded (s, 0, 0);
    wes_sched_succeeded (s, 1, 0);
    assert_true (wes_sched_done (s));
    wes_sched_destroy (&s);
    wes_plan_destroy (&plan);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_new_destroy),
        cmocka_unit_test (test_refuses_broken_dag),
        cmocka_unit_test (test_rolling_frontier),
        cmocka_unit_test (test_critical_path_first),
        cmocka_unit_test (test_one_step_per_table),
        cmocka_unit_test (test_target_cap),
        cmocka_unit_test (test_group_caps),
        cmocka_unit_test (test_total_cap),
        cmocka_unit_test (test_fleet_gate),
        cmocka_unit_test (test_stop_before_and_resume),
        cmocka_unit_test (test_waves),
        cmocka_unit_test (test_retry_and_failure),
        cmocka_unit_test (test_restore_unknown),
        cmocka_unit_test (test_property),
        cmocka_unit_test (test_waves_phase_order),
        cmocka_unit_test (test_million),
        cmocka_unit_test (test_million_one_group),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
