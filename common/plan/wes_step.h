/*  wes_step.h — the exact psql script of one step attempt (DESIGN.md section
    5), shared by `wesley plan --sql` (what a reviewer reads), `wesley apply`
    and the worker (what runs).

    tx:      SET idle_in_transaction_session_timeout; BEGIN; SET LOCAL
             lock_timeout, statement_timeout; pg_advisory_xact_lock(KEY);
             ledger check (already applied: skip); the step's SQL; ledger
             insert; COMMIT — the effect and its record commit together.
    nontx:   session lock_timeout/statement_timeout; pg_advisory_lock(KEY);
             ledger check; an INVALID index of the same name left by a failed
             CREATE INDEX CONCURRENTLY is dropped concurrently; the SQL; the
             index verified valid in the catalog; ledger insert; unlock.
    batched: a server-side keyset loop (DO block, one COMMIT per batch) that
             reads and advances its high-water mark in
             wesley.backfill_progress in each batch's transaction, so no batch
             is lost or done twice whoever dies; the ledger row commits with
             the last batch. Each batch reports progress as a NOTICE
             ("wesley-progress ROWS").

    A step found in the ledger prints "__wesley_skip__ STEP" and changes
    nothing. */
#ifndef WES_STEP_H
#define WES_STEP_H

#include "plan/wes_plan.h"
#include "util/wes_buf.h"

/*  Idempotent bootstrap of Wesley's own schema (ledger, backfill progress,
    recorded expressions), serialised by the advisory lock "wesley:database". */
void wes_step_render_bootstrap (wes_buf_t *out);

/*  The script of one attempt of step (plan_hash identifies the plan in the
    ledger; attempt_id is recorded with the ledger row). */
void wes_step_render (wes_buf_t *out, const wes_step_t *step, const char *plan_hash,
                      const char *attempt_id);

/*  The script undoing step (its inverse) and deleting its ledger row, in one
    transaction for tx steps. step->inverse must not be NULL. */
void wes_step_render_inverse (wes_buf_t *out, const wes_step_t *step, const char *plan_hash);

/*  The advisory key of a step: from its table, or database-wide. */
int64_t wes_step_lock_key (const wes_step_t *step);

#define WES_STEP_SKIP_MARK "__wesley_skip__"
#define WES_STEP_PROGRESS_MARK "wesley-progress"

#endif
