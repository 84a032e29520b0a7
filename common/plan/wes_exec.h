/*  wes_exec.h — runs a plan against one database (`wesley apply`): steps in
    plan order through a psql session (wes_psql), each attempt scripted by
    wes_step, retryable failures (55P03, 40P01, 40001, lost connection)
    retried with exponential backoff and jitter, permanent ones stopping the
    run. Killed at any point and run again, it finishes the plan and applies
    no step twice (the ledger in the target decides). */
#ifndef WES_EXEC_H
#define WES_EXEC_H

#include <stdbool.h>

#include "plan/wes_plan.h"
#include "util/wes_mem.h"

typedef struct {
    const char *psql_bin;  /* NULL: $WESLEY_PSQL or pg_config --bindir */
    bool progress;         /* one line per step on stderr (for a terminal) */
    bool skip_from_check;  /* do not require the database to be at plan.from */
    bool through_set;      /* stop after the steps of phase `through` (deploy the application,
                              then run again for the rest) */
    wes_phase_t through;
} wes_exec_opts_t;

/*  Outcome codes of wes_exec_apply / wes_exec_rollback. */
#define WES_EXEC_OK 0
#define WES_EXEC_FAILED -1      /* a step failed permanently or ran out of attempts */
#define WES_EXEC_REFUSED -2     /* nothing ran: wrong starting point, contract already run, ... */
#define WES_EXEC_MISMATCH -3    /* all steps ran but the database does not hash to plan.to */

typedef struct wes_exec wes_exec_t;

/*  conninfo: libpq connection string (never logged). Returns NULL with
    *error when it does not parse. */
wes_exec_t *wes_exec_new (const char *conninfo, const wes_exec_opts_t *opts, char **error);
void wes_exec_destroy (wes_exec_t **self_p);

/*  Applies every step not yet in the ledger. *error (caller frees) says what
    stopped it: the step, SQLSTATE and message. */
int wes_exec_apply (wes_exec_t *self, wes_plan_t *plan, char **error);

/*  Undoes, newest first, exactly the steps of plan the ledger says were
    applied; refuses (changing nothing) if any contract step has run or an
    applied step has no inverse. */
int wes_exec_rollback (wes_exec_t *self, wes_plan_t *plan, char **error);

/*  Steps applied (or found applied) and retries made by the last call. */
int wes_exec_applied (const wes_exec_t *self);
int wes_exec_skipped (const wes_exec_t *self);
int wes_exec_retries (const wes_exec_t *self);

#endif
