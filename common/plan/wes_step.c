/*  wes_step.c — renders step attempts as psql scripts. */
#include "wes_step.h"

#include <inttypes.h>
#include <string.h>

#include "pg/wes_advisory.h"
#include "pg/wes_records.h"

/*  A step waiting on a lock while an application transaction waits on one
    the step holds is a deadlock; PostgreSQL aborts the transaction whose
    deadlock check runs first (after deadlock_timeout, 1 s by default). With
    a shorter deadlock_timeout for the step's own transaction, the step is
    always the one aborted (40P01, retried), never the application's. Only
    superusers (or roles granted SET on it) may change it: others keep the
    server's value and rely on lock_timeout staying below it. */
#define S_DEADLOCK_VICTIM                                                                         \
    "DO $wes$ BEGIN PERFORM set_config('deadlock_timeout', '100ms', true); "                      \
    "EXCEPTION WHEN insufficient_privilege THEN NULL; END $wes$;\n"

static void s_ledger_check (wes_buf_t *out, const wes_step_t *step, const char *plan_hash);
static void s_ledger_insert (wes_buf_t *out, const wes_step_t *step, const char *plan_hash,
                             const char *attempt_id);
static void s_index_exists (wes_buf_t *out, const char *index, bool valid, const char *var);
static void s_render_batched (wes_buf_t *out, const wes_step_t *step, const char *plan_hash,
                              const char *attempt_id);

int64_t
wes_step_lock_key (const wes_step_t *step)
{
    return wes_advisory_key (NULL, step->table);
}

void
wes_step_render_bootstrap (wes_buf_t *out)
{
    wes_buf_printf (out, "SELECT pg_advisory_lock(%" PRId64 ") AS wes_locked \\gset\n",
                    wes_advisory_key (NULL, NULL));
    wes_buf_puts (out, wes_records_ddl);
    wes_buf_puts (out,
                  "CREATE TABLE IF NOT EXISTS wesley.applied_steps (\n"
                  "    plan_hash text NOT NULL,   -- the plan's checksum\n"
                  "    step_id text NOT NULL,\n"
                  "    attempt text NOT NULL,     -- the attempt that applied it\n"
                  "    phase text NOT NULL,\n"
                  "    kind text NOT NULL,\n"
                  "    applied_at timestamptz NOT NULL DEFAULT now(),\n"
                  "    PRIMARY KEY (plan_hash, step_id)\n"
                  ");\n"
                  "CREATE TABLE IF NOT EXISTS wesley.backfill_progress (\n"
                  "    plan_hash text NOT NULL,\n"
                  "    step_id text NOT NULL,\n"
                  "    high_water jsonb,          -- last key done, as a JSON array\n"
                  "    rows_done bigint NOT NULL DEFAULT 0,\n"
                  "    updated_at timestamptz NOT NULL DEFAULT now(),\n"
                  "    PRIMARY KEY (plan_hash, step_id)\n"
                  ");\n");
    wes_buf_printf (out, "SELECT pg_advisory_unlock(%" PRId64 ") AS wes_unlocked \\gset\n",
                    wes_advisory_key (NULL, NULL));
}

void
wes_step_render (wes_buf_t *out, const wes_step_t *step, const char *plan_hash,
                 const char *attempt_id)
{
    int64_t key = wes_step_lock_key (step);
    wes_buf_printf (out, "-- step %s: %s %s, lock %s\n", step->id, wes_phase_name (step->phase),
                    wes_step_kind_name (step->kind), wes_lock_name (step->lock));
    if (step->kind == WES_STEP_BATCHED) {
        s_render_batched (out, step, plan_hash, attempt_id);
        return;
    }
    if (step->kind == WES_STEP_TX) {
        /* a stalled client must never keep the lock for longer than this */
        int idle = step->statement_timeout_ms > 0 ? step->statement_timeout_ms : 60000;
        wes_buf_printf (out, "SET idle_in_transaction_session_timeout = '%dms';\n", idle);
        wes_buf_puts (out, "BEGIN;\n");
        wes_buf_printf (out, "SET LOCAL lock_timeout = '%dms';\n", step->lock_timeout_ms);
        wes_buf_printf (out, "SET LOCAL statement_timeout = '%dms';\n",
                        step->statement_timeout_ms);
        wes_buf_puts (out, S_DEADLOCK_VICTIM);
        wes_buf_printf (out, "SELECT pg_advisory_xact_lock(%" PRId64 ") AS wes_locked \\gset\n",
                        key);
        s_ledger_check (out, step, plan_hash);
        wes_buf_printf (out, "\\if :wes_done\n\\echo %s %s\nROLLBACK;\n\\else\n",
                        WES_STEP_SKIP_MARK, step->id);
        wes_buf_puts (out, step->sql);
        if (step->sql[0] && step->sql[strlen (step->sql) - 1] != '\n') {
            wes_buf_puts (out, "\n");
        }
        s_ledger_insert (out, step, plan_hash, attempt_id);
        wes_buf_puts (out, "COMMIT;\n\\endif\n");
        return;
    }
    /* nontx: outside any transaction; session-level timeouts and lock */
    wes_buf_printf (out, "SET lock_timeout = '%dms';\n", step->lock_timeout_ms);
    wes_buf_printf (out, "SET statement_timeout = '%dms';\n", step->statement_timeout_ms);
    wes_buf_printf (out, "SELECT pg_advisory_lock(%" PRId64 ") AS wes_locked \\gset\n", key);
    s_ledger_check (out, step, plan_hash);
    wes_buf_printf (out, "\\if :wes_done\n\\echo %s %s\n\\else\n", WES_STEP_SKIP_MARK, step->id);
    if (step->verify_index) {
        /* a failed CIC leaves an INVALID index behind: drop it before retrying */
        s_index_exists (out, step->verify_index, false, "wes_invalid");
        wes_buf_puts (out, "\\if :wes_invalid\nDROP INDEX CONCURRENTLY IF EXISTS ");
        wes_buf_put_ident (out, step->verify_index);
        wes_buf_puts (out, ";\n\\endif\n");
    }
    wes_buf_puts (out, step->sql);
    if (step->sql[0] && step->sql[strlen (step->sql) - 1] != '\n') {
        wes_buf_puts (out, "\n");
    }
    if (step->verify_index) {
        s_index_exists (out, step->verify_index, true, "wes_valid");
        wes_buf_puts (out, "\\if :wes_valid\n\\else\n"
                           "DO $wes$ BEGIN RAISE EXCEPTION USING ERRCODE = 'XX000', MESSAGE = ");
        wes_buf_t *msg = wes_buf_new ();
        wes_buf_printf (msg, "wesley: index %s is missing or invalid after step %s",
                        step->verify_index, step->id);
        wes_buf_put_literal (out, wes_buf_data (msg));
        wes_buf_destroy (&msg);
        wes_buf_puts (out, "; END $wes$;\n\\endif\n");
    }
    s_ledger_insert (out, step, plan_hash, attempt_id);
    wes_buf_puts (out, "\\endif\n");
    wes_buf_printf (out, "SELECT pg_advisory_unlock(%" PRId64 ") AS wes_unlocked \\gset\n", key);
    wes_buf_puts (out, "RESET lock_timeout;\nRESET statement_timeout;\n");
}

void
wes_step_render_inverse (wes_buf_t *out, const wes_step_t *step, const char *plan_hash)
{
    wes_assert (step->inverse);
    int64_t key = wes_step_lock_key (step);
    wes_buf_printf (out, "-- undo step %s\n", step->id);
    /* An inverse that contains CONCURRENTLY must run outside a transaction. */
    bool nontx = strstr (step->inverse, "CONCURRENTLY") != NULL;
    if (!nontx) {
        wes_buf_puts (out, "BEGIN;\n");
        wes_buf_printf (out, "SET LOCAL lock_timeout = '%dms';\n", step->lock_timeout_ms);
        wes_buf_printf (out, "SELECT pg_advisory_xact_lock(%" PRId64 ") AS wes_locked \\gset\n",
                        key);
    }
    else {
        wes_buf_printf (out, "SET lock_timeout = '%dms';\n", step->lock_timeout_ms);
        wes_buf_printf (out, "SELECT pg_advisory_lock(%" PRId64 ") AS wes_locked \\gset\n", key);
    }
    wes_buf_puts (out, step->inverse);
    if (step->inverse[0] && step->inverse[strlen (step->inverse) - 1] != '\n') {
        wes_buf_puts (out, "\n");
    }
    wes_buf_puts (out, "DELETE FROM wesley.applied_steps WHERE plan_hash = ");
    wes_buf_put_literal (out, plan_hash);
    wes_buf_puts (out, " AND step_id = ");
    wes_buf_put_literal (out, step->id);
    wes_buf_puts (out, ";\n");
    if (step->kind == WES_STEP_BATCHED) {
        wes_buf_puts (out, "DELETE FROM wesley.backfill_progress WHERE plan_hash = ");
        wes_buf_put_literal (out, plan_hash);
        wes_buf_puts (out, " AND step_id = ");
        wes_buf_put_literal (out, step->id);
        wes_buf_puts (out, ";\n");
    }
    if (!nontx) {
        wes_buf_puts (out, "COMMIT;\n");
    }
    else {
        wes_buf_printf (out, "SELECT pg_advisory_unlock(%" PRId64 ") AS wes_unlocked \\gset\n",
                        key);
        wes_buf_puts (out, "RESET lock_timeout;\n");
    }
}

/*  --- helpers --- */

static void
s_ledger_check (wes_buf_t *out, const wes_step_t *step, const char *plan_hash)
{
    wes_buf_puts (out, "SELECT EXISTS (SELECT 1 FROM wesley.applied_steps WHERE plan_hash = ");
    wes_buf_put_literal (out, plan_hash);
    wes_buf_puts (out, " AND step_id = ");
    wes_buf_put_literal (out, step->id);
    wes_buf_puts (out, ") AS wes_done \\gset\n");
}

static void
s_ledger_insert (wes_buf_t *out, const wes_step_t *step, const char *plan_hash,
                 const char *attempt_id)
{
    wes_buf_puts (out, "INSERT INTO wesley.applied_steps (plan_hash, step_id, attempt, phase, "
                       "kind) VALUES (");
    wes_buf_put_literal (out, plan_hash);
    wes_buf_puts (out, ", ");
    wes_buf_put_literal (out, step->id);
    wes_buf_puts (out, ", ");
    wes_buf_put_literal (out, attempt_id);
    wes_buf_puts (out, ", ");
    wes_buf_put_literal (out, wes_phase_name (step->phase));
    wes_buf_puts (out, ", ");
    wes_buf_put_literal (out, wes_step_kind_name (step->kind));
    wes_buf_puts (out, ");\n");
}

static void
s_index_exists (wes_buf_t *out, const char *index, bool valid, const char *var)
{
    wes_buf_puts (out, "SELECT EXISTS (SELECT 1 FROM pg_index x JOIN pg_class i ON i.oid = "
                       "x.indexrelid WHERE i.relnamespace = current_schema()::regnamespace "
                       "AND i.relname = ");
    wes_buf_put_literal (out, index);
    wes_buf_printf (out, " AND %sx.indisvalid) AS %s \\gset\n", valid ? "" : "NOT ", var);
}

/*  "(k1, k2)" for a key column list, optionally qualified. */
static void
s_key_tuple (wes_buf_t *out, const wes_step_t *step, const char *qualifier)
{
    wes_buf_puts (out, "(");
    for (size_t i = 0; i < step->n_key; i++) {
        if (i) {
            wes_buf_puts (out, ", ");
        }
        if (qualifier) {
            wes_buf_put_ident (out, qualifier);
            wes_buf_puts (out, ".");
        }
        wes_buf_put_ident (out, step->key_columns[i]);
    }
    wes_buf_puts (out, ")");
}

/*  "((v->>0)::t1, (v->>1)::t2)": a key stored as a JSON array, typed again. */
static void
s_key_from_json (wes_buf_t *out, const wes_step_t *step, const char *var)
{
    wes_buf_puts (out, "(");
    for (size_t i = 0; i < step->n_key; i++) {
        wes_buf_printf (out, "%s(%s->>%zu)::%s", i ? ", " : "", var, i, step->key_types[i]);
    }
    wes_buf_puts (out, ")");
}

static void
s_render_batched (wes_buf_t *out, const wes_step_t *step, const char *plan_hash,
                  const char *attempt_id)
{
    /* plpgsql variables carry a wes_ prefix so that they never shadow a column */
    int64_t key = wes_step_lock_key (step);
    wes_buf_puts (out, "SET statement_timeout = 0;\n");
    s_ledger_check (out, step, plan_hash);
    wes_buf_printf (out, "\\if :wes_done\n\\echo %s %s\n\\else\n", WES_STEP_SKIP_MARK, step->id);
    wes_buf_puts (out, "DO $wes$\nDECLARE\n    wes_hw jsonb;\n    wes_last jsonb;\n"
                       "    wes_n bigint;\n    wes_updated bigint;\n    wes_total bigint;\nBEGIN\n"
                       "    LOOP\n");
    wes_buf_printf (out, "        PERFORM set_config('lock_timeout', '%dms', true);\n",
                    step->lock_timeout_ms);
    wes_buf_puts (out, "        BEGIN\n            PERFORM set_config('deadlock_timeout', "
                       "'100ms', true);\n        EXCEPTION WHEN insufficient_privilege THEN\n"
                       "            NULL;\n        END;\n");
    wes_buf_printf (out, "        PERFORM pg_advisory_xact_lock(%" PRId64 ");\n", key);
    wes_buf_puts (out, "        SELECT high_water, rows_done INTO wes_hw, wes_total FROM "
                       "wesley.backfill_progress WHERE plan_hash = ");
    wes_buf_put_literal (out, plan_hash);
    wes_buf_puts (out, " AND step_id = ");
    wes_buf_put_literal (out, step->id);
    wes_buf_puts (out, ";\n        wes_total := coalesce(wes_total, 0);\n");
    /* two branches so that each query has a plain keyset predicate the
       primary-key index serves: first batch, and every batch after it */
    for (int branch = 0; branch < 2; branch++) {
        wes_buf_puts (out, branch == 0 ? "        IF wes_hw IS NULL THEN\n" : "        ELSE\n");
        wes_buf_puts (out, "            SELECT count(*), (array_agg(jsonb_build_array(");
        for (size_t i = 0; i < step->n_key; i++) {
            wes_buf_puts (out, i ? ", " : "");
            wes_buf_put_ident (out, step->key_columns[i]);
        }
        wes_buf_puts (out, ") ORDER BY ");
        for (size_t i = 0; i < step->n_key; i++) {
            wes_buf_puts (out, i ? ", " : "");
            wes_buf_put_ident (out, step->key_columns[i]);
            wes_buf_puts (out, " DESC");
        }
        wes_buf_puts (out, "))[1] INTO wes_n, wes_last FROM (SELECT ");
        for (size_t i = 0; i < step->n_key; i++) {
            wes_buf_puts (out, i ? ", " : "");
            wes_buf_put_ident (out, step->key_columns[i]);
        }
        wes_buf_puts (out, " FROM ");
        wes_buf_put_ident (out, step->table);
        if (branch == 1) {
            wes_buf_puts (out, " WHERE ");
            s_key_tuple (out, step, NULL);
            wes_buf_puts (out, " > ");
            s_key_from_json (out, step, "wes_hw");
        }
        wes_buf_puts (out, " ORDER BY ");
        for (size_t i = 0; i < step->n_key; i++) {
            wes_buf_puts (out, i ? ", " : "");
            wes_buf_put_ident (out, step->key_columns[i]);
        }
        wes_buf_printf (out, " LIMIT %d) AS b;\n", step->batch_rows);
        wes_buf_puts (out, "            EXIT WHEN wes_n = 0;\n            UPDATE ");
        wes_buf_put_ident (out, step->table);
        wes_buf_printf (out, " SET %s WHERE ", step->batch_set);
        if (branch == 1) {
            s_key_tuple (out, step, NULL);
            wes_buf_puts (out, " > ");
            s_key_from_json (out, step, "wes_hw");
            wes_buf_puts (out, " AND ");
        }
        s_key_tuple (out, step, NULL);
        wes_buf_puts (out, " <= ");
        s_key_from_json (out, step, "wes_last");
        if (step->batch_where) {
            wes_buf_printf (out, " AND (%s)", step->batch_where);
        }
        wes_buf_puts (out, ";\n");
    }
    wes_buf_puts (out, "        END IF;\n        GET DIAGNOSTICS wes_updated = ROW_COUNT;\n");
    wes_buf_puts (out, "        INSERT INTO wesley.backfill_progress (plan_hash, step_id, "
                       "high_water, rows_done, updated_at) VALUES (");
    wes_buf_put_literal (out, plan_hash);
    wes_buf_puts (out, ", ");
    wes_buf_put_literal (out, step->id);
    wes_buf_puts (out, ", wes_last, wes_updated, now()) ON CONFLICT (plan_hash, step_id) DO "
                       "UPDATE SET high_water = EXCLUDED.high_water, rows_done = "
                       "wesley.backfill_progress.rows_done + EXCLUDED.rows_done, updated_at = "
                       "now();\n");
    wes_buf_printf (out, "        RAISE NOTICE '%s %%', wes_total + wes_updated;\n",
                    WES_STEP_PROGRESS_MARK);
    wes_buf_puts (out, "        COMMIT;\n");
    if (step->batch_sleep_ms > 0) {
        wes_buf_printf (out, "        PERFORM pg_sleep(%d / 1000.0);\n", step->batch_sleep_ms);
    }
    wes_buf_puts (out, "    END LOOP;\n");
    /* the ledger row commits with the DO's last transaction */
    wes_buf_puts (out, "    INSERT INTO wesley.applied_steps (plan_hash, step_id, attempt, phase, "
                       "kind) VALUES (");
    wes_buf_put_literal (out, plan_hash);
    wes_buf_puts (out, ", ");
    wes_buf_put_literal (out, step->id);
    wes_buf_puts (out, ", ");
    wes_buf_put_literal (out, attempt_id);
    wes_buf_puts (out, ", ");
    wes_buf_put_literal (out, wes_phase_name (step->phase));
    /* a concurrent attempt of the same step (its worker presumed lost) may
       have finished the loop first: the batches are shared through the
       high-water mark, so the step is applied once either way */
    wes_buf_puts (out, ", 'batched') ON CONFLICT (plan_hash, step_id) DO NOTHING;\nEND\n"
                       "$wes$;\n\\endif\n");
    wes_buf_puts (out, "RESET statement_timeout;\n");
}
