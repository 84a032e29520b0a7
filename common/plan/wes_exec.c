/*  wes_exec.c — plan execution against one database. */
#include "wes_exec.h"

#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pg/wes_introspect.h"
#include "pg/wes_psql.h"
#include "plan/wes_step.h"
#include "util/wes_buf.h"
#include "util/wes_log.h"

/*  How long one attempt may run before we kill psql, beyond the step's own
    server-side timeouts; a step without statement_timeout (CIC, backfill)
    gets a day. */
#define S_ATTEMPT_MARGIN_MS 30000
#define S_UNBOUNDED_ATTEMPT_MS (24 * 3600 * 1000)

struct wes_exec {
    char *conninfo;          /* owned; never printed */
    wes_psql_t *psql;        /* the session steps stream into */
    wes_exec_opts_t opts;    /* copied; psql_bin not kept */
    uint64_t rng;            /* xorshift state for backoff jitter */
    int applied;             /* steps applied by the last call */
    int skipped;             /* steps found already applied */
    int retries;             /* retries made */
};

static void s_err (char **error, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
static int s_ledger (wes_exec_t *self, const char *plan_hash, char ***ids, size_t *n,
                     char **error);
static void s_free_strv (char **v, size_t n);
static int s_run_script (wes_exec_t *self, const wes_step_t *step, const char *script,
                         const char *what, char **error);
static void s_attempt_id (wes_exec_t *self, char *out, size_t size);
static void s_sleep_ms (int ms);
static int64_t s_now_ms (void);

wes_exec_t *
wes_exec_new (const char *conninfo, const wes_exec_opts_t *opts, char **error)
{
    wes_psql_t *psql = wes_psql_new (opts ? opts->psql_bin : NULL, conninfo, error);
    if (!psql) {
        return NULL;
    }
    wes_exec_t *self = wes_new (wes_exec_t);
    self->conninfo = wes_strdup (conninfo);
    self->psql = psql;
    if (opts) {
        self->opts = *opts;
    }
    self->opts.psql_bin = NULL;
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    self->rng = ((uint64_t) ts.tv_nsec << 20) ^ (uint64_t) ts.tv_sec ^ ((uint64_t) getpid () << 40);
    if (self->rng == 0) {
        self->rng = 0x9e3779b97f4a7c15ull;
    }
    return self;
}

void
wes_exec_destroy (wes_exec_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wes_exec_t *self = *self_p;
    wes_psql_destroy (&self->psql);
    free (self->conninfo);
    free (self);
    *self_p = NULL;
}

int
wes_exec_apply (wes_exec_t *self, wes_plan_t *plan, char **error)
{
    self->applied = self->skipped = self->retries = 0;
    char plan_hash[65];
    snprintf (plan_hash, sizeof plan_hash, "%s", wes_plan_hash (plan));

    /* Where does the database stand? Either this plan already started here
       (its steps are in the ledger), or the database must be at plan.from. */
    char **done = NULL;
    size_t n_done = 0;
    if (s_ledger (self, plan_hash, &done, &n_done, error) != 0) {
        return WES_EXEC_FAILED;
    }
    s_free_strv (done, n_done);
    if (n_done == 0 && !self->opts.skip_from_check) {
        wes_model_t *m = wes_introspect_conninfo (self->conninfo, NULL, error);
        if (!m) {
            return WES_EXEC_FAILED;
        }
        char hash[65];
        wes_model_hash (m, hash);
        wes_model_destroy (&m);
        if (strcmp (hash, wes_plan_from (plan)) != 0) {
            s_err (error,
                   "the database is not at the plan's starting schema (database %.12s…, plan "
                   "from %.12s…) and no step of this plan has run here: plan again from this "
                   "database (wesley plan --from-db)",
                   hash, wes_plan_from (plan));
            return WES_EXEC_REFUSED;
        }
    }

    wes_buf_t *script = wes_buf_new ();
    wes_step_render_bootstrap (script);
    int rc = s_run_script (self, NULL, wes_buf_data (script), "bootstrap of the wesley schema",
                           error);
    size_t n = wes_plan_count (plan);
    bool stopped_early = false;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const wes_step_t *step = wes_plan_step (plan, i);
        if (self->opts.through_set && step->phase > self->opts.through) {
            /* deps never point to a later phase (wes_plan_check), so every
               step kept here has its dependencies kept too */
            stopped_early = true;
            continue;
        }
        char attempt[40];
        s_attempt_id (self, attempt, sizeof attempt);
        wes_buf_reset (script);
        wes_step_render (script, step, plan_hash, attempt);
        int64_t t0 = s_now_ms ();
        if (self->opts.progress) {
            fprintf (stderr, "[%zu/%zu] %-8s %-7s %s ...", i + 1, n, wes_phase_name (step->phase),
                     wes_step_kind_name (step->kind), step->summary ? step->summary : step->id);
            fflush (stderr);
        }
        rc = s_run_script (self, step, wes_buf_data (script), step->id, error);
        if (rc == 0) {
            bool skipped = strstr (wes_psql_stdout (self->psql), WES_STEP_SKIP_MARK) != NULL;
            if (skipped) {
                self->skipped++;
            }
            else {
                self->applied++;
            }
            if (self->opts.progress) {
                int64_t rows = wes_psql_progress (self->psql);
                fprintf (stderr, " %s (%lld ms", skipped ? "already applied" : "ok",
                         (long long) (s_now_ms () - t0));
                if (rows >= 0) {
                    fprintf (stderr, ", %lld rows", (long long) rows);
                }
                fprintf (stderr, ")\n");
            }
            wes_log (WES_LOG_DEBUG, NULL, NULL, step->id, "step %s",
                     skipped ? "already applied" : "applied");
        }
        else if (self->opts.progress) {
            fprintf (stderr, " FAILED\n");
        }
    }
    wes_buf_destroy (&script);
    if (rc != 0) {
        return WES_EXEC_FAILED;
    }
    if (stopped_early) {
        return WES_EXEC_OK; /* the database is between schemas, by request */
    }
    wes_model_t *m = wes_introspect_conninfo (self->conninfo, NULL, error);
    if (!m) {
        return WES_EXEC_FAILED;
    }
    char hash[65];
    wes_model_hash (m, hash);
    wes_model_destroy (&m);
    if (strcmp (hash, wes_plan_to (plan)) != 0) {
        s_err (error,
               "every step ran, but the database hashes to %s, not the plan's target %s: "
               "run `wesley drift` to see the differences",
               hash, wes_plan_to (plan));
        return WES_EXEC_MISMATCH;
    }
    return WES_EXEC_OK;
}

int
wes_exec_rollback (wes_exec_t *self, wes_plan_t *plan, char **error)
{
    self->applied = self->skipped = self->retries = 0;
    char plan_hash[65];
    snprintf (plan_hash, sizeof plan_hash, "%s", wes_plan_hash (plan));
    char **done = NULL;
    size_t n_done = 0;
    if (s_ledger (self, plan_hash, &done, &n_done, error) != 0) {
        return WES_EXEC_FAILED;
    }
    /* check everything before undoing anything */
    wes_buf_t *problems = wes_buf_new ();
    for (size_t i = 0; i < n_done; i++) {
        const wes_step_t *s = wes_plan_find (plan, done[i]);
        if (!s) {
            wes_buf_printf (problems, "\n  step %s is in the ledger but not in this plan", done[i]);
        }
        else if (s->phase == WES_PHASE_CONTRACT) {
            wes_buf_printf (problems, "\n  contract step %s has run: rollback is no longer "
                                      "possible", s->id);
        }
        else if (!s->inverse) {
            wes_buf_printf (problems, "\n  step %s (%s) has no inverse", s->id,
                            s->summary ? s->summary : wes_step_kind_name (s->kind));
        }
    }
    if (wes_buf_len (problems) > 0) {
        s_err (error, "rollback refused, nothing was changed:%s", wes_buf_data (problems));
        wes_buf_destroy (&problems);
        s_free_strv (done, n_done);
        return WES_EXEC_REFUSED;
    }
    wes_buf_destroy (&problems);
    int rc = 0;
    wes_buf_t *script = wes_buf_new ();
    /* newest first: reverse plan order, only the applied ones */
    for (size_t k = wes_plan_count (plan); rc == 0 && k-- > 0;) {
        const wes_step_t *s = wes_plan_step (plan, k);
        bool was_applied = false;
        for (size_t i = 0; i < n_done && !was_applied; i++) {
            was_applied = strcmp (done[i], s->id) == 0;
        }
        if (!was_applied) {
            continue;
        }
        wes_buf_reset (script);
        wes_step_render_inverse (script, s, plan_hash);
        if (self->opts.progress) {
            fprintf (stderr, "undo %s ...", s->summary ? s->summary : s->id);
        }
        rc = s_run_script (self, s, wes_buf_data (script), s->id, error);
        if (self->opts.progress) {
            fprintf (stderr, rc == 0 ? " ok\n" : " FAILED\n");
        }
        if (rc == 0) {
            self->applied++;
        }
    }
    wes_buf_destroy (&script);
    s_free_strv (done, n_done);
    return rc == 0 ? WES_EXEC_OK : WES_EXEC_FAILED;
}

int
wes_exec_applied (const wes_exec_t *self)
{
    return self->applied;
}

int
wes_exec_skipped (const wes_exec_t *self)
{
    return self->skipped;
}

int
wes_exec_retries (const wes_exec_t *self)
{
    return self->retries;
}

/*  --- helpers --- */

/*  Runs one script with the step's retry policy (step NULL: bootstrap, with
    a fixed small policy). */
static int
s_run_script (wes_exec_t *self, const wes_step_t *step, const char *script, const char *what,
              char **error)
{
    int max_attempts = step ? step->max_attempts : 5;
    int base = step ? step->base_delay_ms : 200;
    int cap = step ? step->max_delay_ms : 5000;
    int timeout = S_UNBOUNDED_ATTEMPT_MS;
    if (step && step->kind == WES_STEP_TX && step->statement_timeout_ms > 0) {
        timeout = step->lock_timeout_ms + step->statement_timeout_ms + S_ATTEMPT_MARGIN_MS;
    }
    else if (!step) {
        timeout = 60000;
    }
    for (int attempt = 1;; attempt++) {
        char id[40];
        s_attempt_id (self, id, sizeof id);
        wes_psql_status_t st = wes_psql_run (self->psql, id, script, timeout);
        if (st == WES_PSQL_OK) {
            return 0;
        }
        const char *state = wes_psql_sqlstate (self->psql);
        const char *msg = wes_psql_message (self->psql);
        bool retry = wes_psql_retryable (self->psql);
        if (!retry || attempt >= max_attempts) {
            s_err (error, "%s failed%s after %d attempt%s: %s%s%s", what,
                   retry ? " (retryable, attempts exhausted)" : "", attempt,
                   attempt == 1 ? "" : "s", state[0] ? state : "", state[0] ? " " : "", msg);
            wes_log (WES_LOG_ERROR, NULL, NULL, what, "failed: sqlstate=%s %s",
                     state[0] ? state : "-", msg);
            return -1;
        }
        /* exponential backoff, full jitter over the upper half */
        long delay = base;
        for (int i = 1; i < attempt && delay < cap; i++) {
            delay *= 2;
        }
        if (delay > cap) {
            delay = cap;
        }
        self->rng ^= self->rng << 13;
        self->rng ^= self->rng >> 7;
        self->rng ^= self->rng << 17;
        long jittered = delay / 2 + (long) (self->rng % (uint64_t) (delay / 2 + 1));
        self->retries++;
        wes_log (WES_LOG_WARN, NULL, NULL, what, "retryable failure (sqlstate=%s: %s), attempt %d of %d, retrying in %ld ms",
                 state[0] ? state : "-", msg, attempt, max_attempts, jittered);
        s_sleep_ms ((int) jittered);
    }
}

/*  Step ids of this plan already in the target's ledger (none when the
    ledger does not exist yet). */
static int
s_ledger (wes_exec_t *self, const char *plan_hash, char ***ids, size_t *n, char **error)
{
    *ids = NULL;
    *n = 0;
    PGconn *conn = PQconnectdb (self->conninfo);
    if (PQstatus (conn) != CONNECTION_OK) {
        char *m = wes_strdup (PQerrorMessage (conn));
        m[strcspn (m, "\n")] = '\0';
        s_err (error, "cannot connect to the database: %s", m);
        free (m);
        PQfinish (conn);
        return -1;
    }
    const char *params[] = {plan_hash};
    PGresult *r = PQexecParams (
        conn,
        "SELECT step_id FROM wesley.applied_steps WHERE "
        "plan_hash = $1 ORDER BY applied_at, step_id",
        1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus (r) != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField (r, PG_DIAG_SQLSTATE);
        bool no_ledger = state && strcmp (state, "42P01") == 0;
        PQclear (r); /* state pointed into r */
        if (no_ledger) {
            PQfinish (conn);
            return 0; /* no ledger yet: nothing applied */
        }
        s_err (error, "cannot read the ledger: %s", PQerrorMessage (conn));
        PQfinish (conn);
        return -1;
    }
    int rows = PQntuples (r);
    *ids = wes_alloc (sizeof (char *) * (size_t) (rows ? rows : 1));
    for (int i = 0; i < rows; i++) {
        (*ids)[(*n)++] = wes_strdup (PQgetvalue (r, i, 0));
    }
    PQclear (r);
    PQfinish (conn);
    return 0;
}

static void
s_free_strv (char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free (v[i]);
    }
    free (v);
}

static void
s_attempt_id (wes_exec_t *self, char *out, size_t size)
{
    self->rng ^= self->rng << 13;
    self->rng ^= self->rng >> 7;
    self->rng ^= self->rng << 17;
    snprintf (out, size, "a%ld-%016llx", (long) getpid (), (unsigned long long) self->rng);
}

static void
s_sleep_ms (int ms)
{
    struct timespec ts = {ms / 1000, (long) (ms % 1000) * 1000000L};
    while (nanosleep (&ts, &ts) != 0) {
    }
}

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
s_err (char **error, const char *fmt, ...)
{
    if (!error || *error) {
        return;
    }
    char msg[2048];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (msg, sizeof msg, fmt, ap);
    va_end (ap);
    *error = wes_strdup (msg);
}
