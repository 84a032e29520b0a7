/*  wes_planner.h — turns the differences between two schema models into a
    plan: a DAG of steps following the safety patterns of DESIGN.md
    section 9 (expand -> backfill -> validate -> contract; CREATE INDEX
    CONCURRENTLY, NOT VALID then VALIDATE, shadow columns for rewriting
    type changes, two-way sync for renames, batched keyset backfills).

    Steps hold only the change itself; the executor wraps them (BEGIN,
    SET LOCAL timeouts, advisory lock, ledger, COMMIT). Every expression
    Wesley creates is also recorded in wesley.expressions in the same step
    (wes_records_sql), so introspection reads back the schema's
    own spelling.

    Destructive changes (drop table, column, index or enum, narrowing type
    change, enum value removal) are refused unless allow_destructive is
    set; the error then lists every refused change, one line each, and
    why. Some changes are refused as "not supported yet" whatever the
    options (rewriting type change of a key or foreign-key column,
    reordering or removing enum values, changing a primary key, changing
    a constraint's kind, backfills on a table without a primary key).

    Same inputs, same plan, byte for byte; a model to itself plans zero
    steps. */
#ifndef WES_PLANNER_H
#define WES_PLANNER_H

#include <stdbool.h>

#include "plan/wes_plan.h"
#include "schema/wes_model.h"

typedef struct {
    bool allow_destructive;       /* plan drops and narrowing changes (contract phase) */
    int batch_rows;               /* rows per backfill transaction (default 5000) */
    int batch_sleep_ms;           /* throttle between backfill batches (default 0) */
    int tx_lock_timeout_ms;       /* tx and batched steps (default 5000) */
    int tx_statement_timeout_ms;  /* tx steps, and each backfill batch (default 60000) */
    int cic_lock_timeout_ms;      /* nontx steps (default 60000) */
    int cic_statement_timeout_ms; /* nontx steps (default 0: no limit; CIC waits on snapshots) */
} wes_planner_opts_t;

/*  Fills opts with the defaults above. */
void wes_planner_opts_init (wes_planner_opts_t *opts);

/*  Plans from -> to. opts NULL means the defaults. Returns the plan
    (caller owns; wes_plan_check passes on it), or NULL with *error set
    (caller frees): "refusing N change(s):\n" and one line per refused
    change. */
wes_plan_t *wes_planner_plan (const wes_model_t *from, const wes_model_t *to,
                              const wes_planner_opts_t *opts, char **error);

/*  True when a column default needs a backfill because PostgreSQL would
    evaluate it per row: it calls a function not known to be stable or
    immutable (now() and its family are stable; literals and casts are
    constant; gen_random_uuid(), random(), clock_timestamp(), nextval()
    and anything unknown are volatile). */
bool wes_planner_default_is_volatile (const char *expr);

typedef enum {
    WES_TYPE_CHANGE_COMPATIBLE, /* binary-compatible: ALTER COLUMN TYPE without a rewrite */
    WES_TYPE_CHANGE_NARROWING,  /* may lose data: destructive */
    WES_TYPE_CHANGE_REWRITE     /* needs a rewrite: shadow column */
} wes_type_change_t;

/*  How a column type change from -> to (format_type() spellings) is made. */
wes_type_change_t wes_planner_classify_type_change (const char *from, const char *to);

#endif
