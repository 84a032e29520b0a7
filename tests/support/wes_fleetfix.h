/*  wes_fleetfix.h — a fleet for tests: one throwaway cluster holding n
    databases of uneven sizes on examples/blog.graphql, the plan to
    examples/blog-v2.graphql (every step kind: tx, nontx CIC, batched
    backfill, contract) made with `wesley plan`, a targets file, and
    helpers that start the real coordinator and wesley-worker processes,
    watch the checkpoint store, and check the outcome (drift clean, each
    ledger holding each step exactly once). */
#ifndef WES_FLEETFIX_H
#define WES_FLEETFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "coordinator/wes_store.h"

#define WES_FLEETFIX_MAX_WORKERS 8

typedef struct wes_fleetfix wes_fleetfix_t;

/*  n databases: the first has big_rows posts and comments, the others a
    few hundred rows more each than the one before. plan_args: extra
    `wesley plan` flags ("--batch-rows 500"), or NULL. NULL on failure
    (printed). */
wes_fleetfix_t *wes_fleetfix_new (size_t n, int big_rows, const char *plan_args);
void wes_fleetfix_destroy (wes_fleetfix_t **self_p);
/*  A cmocka teardown: destroys the fleet a test stored in *state (a test
    that makes a fleet puts it there first, so that a failed assertion
    still ends its processes). Always 0. */
int wes_fleetfix_teardown (void **state);

const char *wes_fleetfix_dir (const wes_fleetfix_t *self);
const char *wes_fleetfix_state (const wes_fleetfix_t *self);
const char *wes_fleetfix_coord_log (const wes_fleetfix_t *self);
const char *wes_fleetfix_targets (const wes_fleetfix_t *self);
const char *wes_fleetfix_plan (const wes_fleetfix_t *self);
/*  The cluster (borrowed): for roles, pg_hba rules, conninfo parts. */
struct wes_pgfix *wes_fleetfix_pg (const wes_fleetfix_t *self);
size_t wes_fleetfix_count (const wes_fleetfix_t *self);
/*  Database name of target i ("fleet_00", ...). */
const char *wes_fleetfix_db (const wes_fleetfix_t *self, size_t i);

/*  Starts `wesley run` (resume: `wesley resume`) with extra arguments
    (space-separated, or NULL); its output goes to the coordinator log.
    Returns the pid (-1 on failure). */
int wes_fleetfix_start_coord (wes_fleetfix_t *self, bool resume, const char *extra);
/*  The endpoint the coordinator bound, from the store, waiting up to
    timeout_ms (borrowed; NULL on timeout). */
const char *wes_fleetfix_endpoint (wes_fleetfix_t *self, int timeout_ms);
/*  Starts worker k (id "w<k>") against the endpoint; returns its pid. */
int wes_fleetfix_start_worker (wes_fleetfix_t *self, int k, const char *extra);
int wes_fleetfix_worker_pid (const wes_fleetfix_t *self, int k);
/*  Worker index of an id "w<k>", or -1. */
int wes_fleetfix_worker_index (const char *id);
/*  Kills the process group of worker k / the coordinator with sig. */
void wes_fleetfix_signal_worker (wes_fleetfix_t *self, int k, int sig);

/*  Looks at the store (read-only) until fn returns true for some instance,
    up to timeout_ms; the matching row's worker id and attempt are copied
    out (may be NULL). Returns true when found. fn gets the step id. */
typedef bool (*wes_fleetfix_pred_t) (const wes_store_step_t *row, const char *step_id,
                                      void *arg);
bool wes_fleetfix_wait_step (wes_fleetfix_t *self, wes_fleetfix_pred_t fn, void *arg,
                             int timeout_ms, char *worker, size_t worker_size, char *attempt,
                             size_t attempt_size);
/*  The run state in the store (read-only open), or -1. */
int wes_fleetfix_run_state (wes_fleetfix_t *self);

/*  `wesley status --json` output (caller frees), and its exit status. */
char *wes_fleetfix_status_json (wes_fleetfix_t *self, int *rc);
/*  The same as a document (caller decrefs), or NULL after printing the
    exit status and the output when the command failed or printed no JSON. */
json_t *wes_fleetfix_status_doc (wes_fleetfix_t *self);
/*  Prints the coordinator log to stderr (for a failed test). */
void wes_fleetfix_dump_log (const wes_fleetfix_t *self);
/*  Every database: `wesley drift` against blog-v2 clean and the ledger
    holding each plan step exactly once. 0 ok, else the number of bad
    databases (printed). */
int wes_fleetfix_check (wes_fleetfix_t *self);
/*  First value of sql on database db (caller frees), or NULL. */
char *wes_fleetfix_query (wes_fleetfix_t *self, const char *db, const char *sql);
/*  A libpq connection to database db (caller PQfinish()es it), or NULL. */
struct pg_conn *wes_fleetfix_connect (wes_fleetfix_t *self, const char *db);
/*  Lines of the coordinator log containing needle. */
int wes_fleetfix_log_count (wes_fleetfix_t *self, const char *needle);

#endif
