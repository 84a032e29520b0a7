/*  wes_plan.h — a plan: the DAG of steps that takes a database from one
    schema model to another (DESIGN.md section 4), and its file format.

    File: {"format": "wesley-plan/1", "from": HASH, "to": HASH,
           "checksum": SHA-256 of the canonical JSON of everything else,
           "steps": [...]}.
    A step: id, phase (expand | backfill | validate | contract), kind (tx |
    nontx | batched), table (or null), lock (the strongest lock it takes),
    deps (ids of steps that must succeed first), sql (the statement(s); the
    executor wraps them: see wes_step.h), inverse (SQL undoing it before
    contract, or null), lock_timeout_ms, statement_timeout_ms, retry
    {max_attempts, base_delay_ms, max_delay_ms}, cost (relative estimate
    for scheduling), and for kind batched a backfill {key columns, batch
    rows, sleep_ms} description; for nontx an optional verify (an index
    name that must exist and be valid afterwards), and "raw": true for a
    step of hand-written SQL (absent on generated steps, so plans written
    before raw steps existed load and checksum unchanged).

    Loading refuses, before anything runs, a file that is not JSON, is
    truncated, has another format version, fails the checksum (edited by
    hand after planning), or breaks the DAG (unknown or later dependency,
    duplicate id, cycle). */
#ifndef WES_PLAN_H
#define WES_PLAN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/wes_mem.h"

#define WES_PLAN_FORMAT "wesley-plan/1"

typedef enum {
    WES_PHASE_EXPAND,
    WES_PHASE_BACKFILL,
    WES_PHASE_VALIDATE,
    WES_PHASE_CONTRACT
} wes_phase_t;

typedef enum { WES_STEP_TX, WES_STEP_NONTX, WES_STEP_BATCHED } wes_step_kind_t;

/*  Lock levels, weakest to strongest (PostgreSQL's table lock modes). */
typedef enum {
    WES_LOCK_NONE,
    WES_LOCK_ACCESS_SHARE,
    WES_LOCK_ROW_SHARE,
    WES_LOCK_ROW_EXCLUSIVE,
    WES_LOCK_SHARE_UPDATE_EXCLUSIVE,
    WES_LOCK_SHARE,
    WES_LOCK_SHARE_ROW_EXCLUSIVE,
    WES_LOCK_EXCLUSIVE,
    WES_LOCK_ACCESS_EXCLUSIVE
} wes_lock_t;

typedef struct {
    char *id;                 /* unique in the plan: "0007-add-index-user_email_idx" */
    wes_phase_t phase;
    wes_step_kind_t kind;
    char *table;              /* the table it changes (advisory key, scheduling), or NULL */
    wes_lock_t lock;          /* strongest lock taken on `table` */
    char **deps;              /* ids of earlier steps */
    size_t n_deps;
    char *sql;                /* the change itself, without BEGIN/COMMIT or ledger */
    char *inverse;            /* undo SQL (before contract), or NULL */
    char *summary;            /* one line for people: "add index user_email_idx on user" */
    int lock_timeout_ms;
    int statement_timeout_ms;
    int max_attempts;
    int base_delay_ms;
    int max_delay_ms;
    int64_t cost;
    char *verify_index;       /* nontx: index that must be valid afterwards, or NULL */
    bool raw;                 /* hand-written SQL (wesley plan --sql-step), linted whenever the
                                 plan is made or loaded; "raw": true in the file, absent
                                 otherwise (so older plans keep their checksum) */
    /* batched: keyset backfill */
    char **key_columns;       /* primary-key columns in order */
    char **key_types;         /* their types, for casting the stored high-water mark */
    size_t n_key;
    char *batch_set;          /* the SET list of the UPDATE: "\"c__new\" = \"c\"::bigint" */
    char *batch_where;        /* extra filter, or NULL: "\"c__new\" IS DISTINCT FROM ..." */
    int batch_rows;           /* rows per transaction */
    int batch_sleep_ms;       /* throttle between batches */
} wes_step_t;

typedef struct wes_plan wes_plan_t;

wes_plan_t *wes_plan_new (const char *from_hash, const char *to_hash);
void wes_plan_destroy (wes_plan_t **self_p);

/*  Adds a step with default timeouts and retry policy for its kind; the
    id is made from a running number and slug. Returns a borrowed step to
    fill in (strings via wes_plan_set). */
wes_step_t *wes_plan_add_step (wes_plan_t *self, const char *slug, wes_phase_t phase,
                               wes_step_kind_t kind, const char *table, wes_lock_t lock);
void wes_step_add_dep (wes_step_t *step, const char *dep_id);

/*  Adds hand-written SQL (len bytes of sql; name: its file, for summaries
    and messages) as raw steps of phase, after the steps of that phase and
    every earlier one, and before every later step (which then depend on
    it). Consecutive statements that may run in a transaction make one tx
    step; each statement PostgreSQL refuses inside a transaction block
    (CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY, VACUUM) is a
    nontx step of its own (a CIC verifies its index and drops an INVALID
    leftover before a retry). The steps form a chain in file order. Does
    not lint (see wes_lint_plan). Returns 0, or -1 with *error (caller
    frees; the plan unchanged) when the SQL does not parse or is empty. */
int wes_plan_add_raw_sql (wes_plan_t *self, wes_phase_t phase, const char *name, const char *sql,
                          size_t len, char **error) WES_MUST_USE;
void wes_step_add_key (wes_step_t *step, const char *column, const char *type);
/*  Replaces *field with a copy of value (NULL ok). */
void wes_plan_set (char **field, const char *value);

size_t wes_plan_count (const wes_plan_t *self);
wes_step_t *wes_plan_step (const wes_plan_t *self, size_t i);
wes_step_t *wes_plan_find (const wes_plan_t *self, const char *id);
const char *wes_plan_from (const wes_plan_t *self);
const char *wes_plan_to (const wes_plan_t *self);
/*  SHA-256 of the plan's canonical JSON (the "checksum"); identifies the plan
    in the ledger. Borrowed, valid until the plan changes. */
const char *wes_plan_hash (wes_plan_t *self);

/*  Checks the DAG: ids unique, deps name earlier steps, phases never go
    backwards along a dependency. 0 ok; -1 with *error (caller frees). */
int wes_plan_check (const wes_plan_t *self, char **error) WES_MUST_USE;

/*  JSON form (caller owns) and file I/O. Save writes atomically. */
json_t *wes_plan_to_json (wes_plan_t *self);
int wes_plan_save (wes_plan_t *self, const char *path, char **error) WES_MUST_USE;
wes_plan_t *wes_plan_load (const char *path, char **error);
wes_plan_t *wes_plan_from_json (const json_t *doc, char **error);

const char *wes_phase_name (wes_phase_t p);
const char *wes_step_kind_name (wes_step_kind_t k);
const char *wes_lock_name (wes_lock_t l); /* "ACCESS EXCLUSIVE", "NONE", ... */
int wes_phase_parse (const char *s, wes_phase_t *out) WES_MUST_USE;
int wes_lock_parse (const char *s, wes_lock_t *out) WES_MUST_USE;

#endif
