/*  wes_fleetfix.c — a fleet of databases and processes for tests (see
    wes_fleetfix.h). */
#include "wes_fleetfix.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plan/wes_plan.h"
#include "wes_pgfix.h"
#include "wes_testutil.h"

#define S_MAX_DBS 64
#define S_MAX_ARGS 48

struct wes_fleetfix {
    wes_pgfix_t *pg;                            /* the cluster */
    char *dir;                                  /* temp dir: plan, targets, state, logs */
    char state[512];                            /* STATE.db */
    char plan[512];                             /* plan.json */
    char targets[512];                          /* targets file */
    char coord_log[512];                        /* coordinator output */
    char *plan_hash;                            /* the plan's checksum */
    size_t n;                                   /* databases */
    char dbs[S_MAX_DBS][16];                    /* their names */
    int coord_pid;                              /* last coordinator, or 0 */
    int workers[WES_FLEETFIX_MAX_WORKERS];      /* pids, 0 = none */
    char endpoint[256];                         /* bound endpoint */
};

typedef struct {
    wes_fleetfix_pred_t fn; /* the predicate */
    void *arg;              /* its argument */
    wes_plan_t *plan;       /* for step ids */
    bool found;             /* matched */
    char worker[64];        /* matching row's worker */
    char attempt[64];       /* matching row's attempt */
} s_wait_t;

/*  CURVE is the default of `wesley run` and `wesley-worker`: a fixture
    process talks plaintext over loopback (--insecure-dev) unless the
    test's own arguments choose (curve keys, or --insecure-dev itself). */
static const char *
s_transport_flag (const char *extra)
{
    if (extra && (strstr (extra, "--curve-") || strstr (extra, "--insecure"))) {
        return "";
    }
    return "--insecure-dev";
}

/*  Splits a command line of plain words into argv (no quoting). */
static size_t
s_split (char *line, char **argv, size_t max)
{
    size_t n = 0;
    for (char *tok = strtok (line, " "); tok && n + 1 < max; tok = strtok (NULL, " ")) {
        argv[n++] = tok;
    }
    argv[n] = NULL;
    return n;
}

wes_fleetfix_t *
wes_fleetfix_new (size_t n, int big_rows, const char *plan_args)
{
    if (n == 0 || n > S_MAX_DBS) {
        return NULL;
    }
    wes_fleetfix_t *self = calloc (1, sizeof *self);
    self->pg = wes_pgfix_start ();
    if (!self->pg) {
        free (self);
        return NULL;
    }
    self->dir = wes_test_tmpdir ("fleet");
    snprintf (self->state, sizeof self->state, "%s/state.db", self->dir);
    snprintf (self->plan, sizeof self->plan, "%s/plan.json", self->dir);
    snprintf (self->targets, sizeof self->targets, "%s/targets.txt", self->dir);
    snprintf (self->coord_log, sizeof self->coord_log, "%s/coord.log", self->dir);
    self->n = n;
    char cmd[4096];
    char *out = NULL;
    FILE *tf = fopen (self->targets, "w");
    if (!tf) {
        wes_fleetfix_destroy (&self);
        return NULL;
    }
    fprintf (tf, "# the test fleet: %zu databases in one cluster\n", n);
    for (size_t i = 0; i < n; i++) {
        snprintf (self->dbs[i], sizeof self->dbs[i], "fleet_%02zu", i);
        char *ci = wes_pgfix_conninfo (self->pg, self->dbs[i]);
        if (wes_pgfix_createdb (self->pg, self->dbs[i]) != 0) {
            free (ci);
            fclose (tf);
            wes_fleetfix_destroy (&self);
            return NULL;
        }
        snprintf (cmd, sizeof cmd,
                  "'%s' apply --schema '%s/examples/blog.graphql' --db '%s' --psql '%s' --quiet",
                  WES_WESLEY_BIN, WES_SOURCE_DIR, ci, wes_pgfix_psql_path (self->pg));
        if (wes_test_run (cmd, &out) != 0) {
            fprintf (stderr, "fleetfix: %s\n%s\n", cmd, out ? out : "");
            free (out);
            free (ci);
            fclose (tf);
            wes_fleetfix_destroy (&self);
            return NULL;
        }
        free (out);
        out = NULL;
        int rows = i == 0 ? big_rows : 50 + (int) (i * i) * 40;
        char sql[2048];
        snprintf (sql, sizeof sql,
                  "INSERT INTO authors (email, display_name) SELECT 'a' || g || '@x.org', 'A' || g "
                  "FROM generate_series(0, 49) g;"
                  "WITH a AS (SELECT id, (row_number() OVER (ORDER BY email) - 1) AS k FROM authors) "
                  "INSERT INTO posts (author_id, slug, title, body, word_count) "
                  "SELECT a.id, 's' || g, 'T', 'B', g %% 100 FROM generate_series(1, %d) g "
                  "JOIN a ON a.k = g %% 50;"
                  "INSERT INTO comments (post_id, author_email, body, score) "
                  "SELECT id, 'r' || (word_count %% 7) || '@x.org', 'c', 4.5 FROM posts;"
                  "ANALYZE;",
                  rows);
        if (wes_pgfix_exec (self->pg, self->dbs[i], sql) != 0) {
            free (ci);
            fclose (tf);
            wes_fleetfix_destroy (&self);
            return NULL;
        }
        fprintf (tf, "%s group=g%zu %s\n", self->dbs[i], i % 3, ci);
        free (ci);
    }
    fclose (tf);
    snprintf (cmd, sizeof cmd,
              "'%s' plan --from '%s/examples/blog.graphql' --to '%s/examples/blog-v2.graphql' -o "
              "'%s' %s",
              WES_WESLEY_BIN, WES_SOURCE_DIR, WES_SOURCE_DIR, self->plan,
              plan_args ? plan_args : "");
    if (wes_test_run (cmd, &out) != 0) {
        fprintf (stderr, "fleetfix: %s\n%s\n", cmd, out ? out : "");
        free (out);
        wes_fleetfix_destroy (&self);
        return NULL;
    }
    free (out);
    json_t *doc = json_load_file (self->plan, 0, NULL);
    const char *sum = json_string_value (json_object_get (doc, "checksum"));
    self->plan_hash = sum ? strdup (sum) : NULL;
    json_decref (doc);
    if (!self->plan_hash) {
        wes_fleetfix_destroy (&self);
        return NULL;
    }
    return self;
}

void
wes_fleetfix_destroy (wes_fleetfix_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wes_fleetfix_t *self = *self_p;
    for (int k = 0; k < WES_FLEETFIX_MAX_WORKERS; k++) {
        if (self->workers[k] > 0) {
            kill (-self->workers[k], SIGKILL);
            (void) wes_test_wait (self->workers[k], 5000);
        }
    }
    if (self->coord_pid > 0) {
        kill (-self->coord_pid, SIGKILL);
        (void) wes_test_wait (self->coord_pid, 5000);
    }
    if (getenv ("WES_FLEET_KEEP")) {
        fprintf (stderr, "fleetfix: kept %s\n", self->dir);
    }
    else if (self->dir) {
        wes_test_rmtree (self->dir);
    }
    wes_pgfix_destroy (&self->pg);
    free (self->dir);
    free (self->plan_hash);
    free (self);
    *self_p = NULL;
}

int
wes_fleetfix_teardown (void **state)
{
    wes_fleetfix_destroy ((wes_fleetfix_t **)state);
    return 0;
}

const char *
wes_fleetfix_dir (const wes_fleetfix_t *self)
{
    return self->dir;
}

const char *
wes_fleetfix_state (const wes_fleetfix_t *self)
{
    return self->state;
}

const char *
wes_fleetfix_coord_log (const wes_fleetfix_t *self)
{
    return self->coord_log;
}

const char *
wes_fleetfix_targets (const wes_fleetfix_t *self)
{
    return self->targets;
}

const char *
wes_fleetfix_plan (const wes_fleetfix_t *self)
{
    return self->plan;
}

struct wes_pgfix *
wes_fleetfix_pg (const wes_fleetfix_t *self)
{
    return self->pg;
}

size_t
wes_fleetfix_count (const wes_fleetfix_t *self)
{
    return self->n;
}

const char *
wes_fleetfix_db (const wes_fleetfix_t *self, size_t i)
{
    return i < self->n ? self->dbs[i] : NULL;
}

int
wes_fleetfix_start_coord (wes_fleetfix_t *self, bool resume, const char *extra)
{
    char line[2048];
    const char *mode = s_transport_flag (extra);
    if (resume) {
        snprintf (line, sizeof line, "%s resume --state %s %s %s", WES_WESLEY_BIN, self->state,
                  mode, extra ? extra : "");
    }
    else {
        int port = wes_test_tcp_port ();
        if (port < 0) {
            return -1;
        }
        snprintf (line, sizeof line,
                  "%s run --plan %s --targets %s --state %s --bind tcp://127.0.0.1:%d %s %s",
                  WES_WESLEY_BIN, self->plan, self->targets, self->state, port, mode,
                  extra ? extra : "");
    }
    char *argv[S_MAX_ARGS];
    s_split (line, argv, S_MAX_ARGS);
    self->coord_pid = wes_test_spawn (argv, self->coord_log);
    return self->coord_pid;
}

const char *
wes_fleetfix_endpoint (wes_fleetfix_t *self, int timeout_ms)
{
    int64_t until = wes_test_now_ms () + timeout_ms;
    while (wes_test_now_ms () < until) {
        wes_store_t *st = wes_store_open (self->state, true, NULL);
        if (st) {
            const char *ep = wes_store_get_option (st, "endpoint");
            bool ok = ep && strncmp (ep, "tcp://", 6) == 0 && !strchr (ep, '*') && !strchr (ep, '!');
            if (ok) {
                snprintf (self->endpoint, sizeof self->endpoint, "%s", ep);
            }
            wes_store_destroy (&st);
            if (ok) {
                return self->endpoint;
            }
        }
        wes_test_sleep_ms (50);
    }
    return NULL;
}

int
wes_fleetfix_start_worker (wes_fleetfix_t *self, int k, const char *extra)
{
    if (k < 0 || k >= WES_FLEETFIX_MAX_WORKERS || !self->endpoint[0]) {
        return -1;
    }
    char line[2048], log[600];
    snprintf (line, sizeof line, "%s --connect %s --id w%d --psql %s %s %s", WES_WORKER_BIN,
              self->endpoint, k, wes_pgfix_psql_path (self->pg), s_transport_flag (extra),
              extra ? extra : "");
    snprintf (log, sizeof log, "%s/worker%d.log", self->dir, k);
    char *argv[S_MAX_ARGS];
    s_split (line, argv, S_MAX_ARGS);
    self->workers[k] = wes_test_spawn (argv, log);
    return self->workers[k];
}

int
wes_fleetfix_worker_pid (const wes_fleetfix_t *self, int k)
{
    return k >= 0 && k < WES_FLEETFIX_MAX_WORKERS ? self->workers[k] : -1;
}

int
wes_fleetfix_worker_index (const char *id)
{
    if (!id || id[0] != 'w' || id[1] < '0' || id[1] > '9' || id[2]) {
        return -1;
    }
    return id[1] - '0';
}

void
wes_fleetfix_signal_worker (wes_fleetfix_t *self, int k, int sig)
{
    if (k >= 0 && k < WES_FLEETFIX_MAX_WORKERS && self->workers[k] > 0) {
        kill (sig == SIGKILL ? -self->workers[k] : self->workers[k], sig);
        if (sig == SIGKILL) {
            (void) wes_test_wait (self->workers[k], 5000);
            self->workers[k] = 0;
        }
    }
}

static void
s_wait_each (const wes_store_step_t *row, void *arg)
{
    s_wait_t *w = arg;
    if (w->found || row->step >= wes_plan_count (w->plan)) {
        return;
    }
    if (w->fn (row, wes_plan_step (w->plan, row->step)->id, w->arg)) {
        w->found = true;
        snprintf (w->worker, sizeof w->worker, "%s", row->worker ? row->worker : "");
        snprintf (w->attempt, sizeof w->attempt, "%s", row->attempt_id ? row->attempt_id : "");
    }
}

bool
wes_fleetfix_wait_step (wes_fleetfix_t *self, wes_fleetfix_pred_t fn, void *arg, int timeout_ms,
                        char *worker, size_t worker_size, char *attempt, size_t attempt_size)
{
    s_wait_t w = {.fn = fn, .arg = arg};
    w.plan = wes_plan_load (self->plan, NULL);
    if (!w.plan) {
        return false;
    }
    int64_t until = wes_test_now_ms () + timeout_ms;
    while (!w.found && wes_test_now_ms () < until) {
        wes_store_t *st = wes_store_open (self->state, true, NULL);
        if (st) {
            if (wes_store_each_step (st, s_wait_each, &w) != 0) {
                w.found = false;
            }
            wes_store_destroy (&st);
        }
        if (!w.found) {
            wes_test_sleep_ms (20);
        }
    }
    wes_plan_destroy (&w.plan);
    if (w.found && worker) {
        snprintf (worker, worker_size, "%s", w.worker);
    }
    if (w.found && attempt) {
        snprintf (attempt, attempt_size, "%s", w.attempt);
    }
    return w.found;
}

int
wes_fleetfix_run_state (wes_fleetfix_t *self)
{
    wes_store_t *st = wes_store_open (self->state, true, NULL);
    if (!st) {
        return -1;
    }
    int rs = (int) wes_store_run_state (st);
    wes_store_destroy (&st);
    return rs;
}

char *
wes_fleetfix_status_json (wes_fleetfix_t *self, int *rc)
{
    char cmd[1200];
    snprintf (cmd, sizeof cmd, "'%s' status --state '%s' --json 2>/dev/null", WES_WESLEY_BIN,
              self->state);
    char *out = NULL;
    int r = wes_test_run (cmd, &out);
    if (rc) {
        *rc = r;
    }
    return out;
}

json_t *
wes_fleetfix_status_doc (wes_fleetfix_t *self)
{
    int rc = -1;
    char *out = wes_fleetfix_status_json (self, &rc);
    json_error_t err;
    json_t *doc = rc == 0 && out ? json_loads (out, 0, &err) : NULL;
    if (!doc) {
        fprintf (stderr, "fleetfix: status --json exited %d%s%s:\n%s\n", rc,
                 rc == 0 ? ", not JSON: " : "", rc == 0 ? err.text : "", out ? out : "(nothing)");
    }
    free (out);
    return doc;
}

void
wes_fleetfix_dump_log (const wes_fleetfix_t *self)
{
    wes_test_dump_file ("coordinator log", self->coord_log);
}

int
wes_fleetfix_check (wes_fleetfix_t *self)
{
    int bad = 0;
    json_t *doc = json_load_file (self->plan, 0, NULL);
    size_t n_steps = json_array_size (json_object_get (doc, "steps"));
    json_decref (doc);
    char want[64];
    snprintf (want, sizeof want, "%zu/%zu", n_steps, n_steps);
    for (size_t i = 0; i < self->n; i++) {
        char *ci = wes_pgfix_conninfo (self->pg, self->dbs[i]);
        char cmd[2048];
        snprintf (cmd, sizeof cmd, "'%s' drift --schema '%s/examples/blog-v2.graphql' --db '%s'",
                  WES_WESLEY_BIN, WES_SOURCE_DIR, ci);
        char *out = NULL;
        int rc = wes_test_run (cmd, &out);
        if (rc != 0) {
            fprintf (stderr, "fleetfix: %s drifted (exit %d):\n%s\n", self->dbs[i], rc,
                     out ? out : "");
            bad++;
        }
        free (out);
        free (ci);
        char sql[512];
        snprintf (sql, sizeof sql,
                  "SELECT count(*) || '/' || count(DISTINCT step_id) FROM wesley.applied_steps "
                  "WHERE plan_hash = '%s'",
                  self->plan_hash);
        char *v = wes_pgfix_query_value (self->pg, self->dbs[i], sql);
        if (!v || strcmp (v, want) != 0) {
            fprintf (stderr, "fleetfix: %s ledger holds %s rows/distinct steps, want %s\n",
                     self->dbs[i], v ? v : "(none)", want);
            bad++;
        }
        free (v);
    }
    return bad;
}

char *
wes_fleetfix_query (wes_fleetfix_t *self, const char *db, const char *sql)
{
    return wes_pgfix_query_value (self->pg, db, sql);
}

struct pg_conn *
wes_fleetfix_connect (wes_fleetfix_t *self, const char *db)
{
    return wes_pgfix_connect (self->pg, db);
}

int
wes_fleetfix_log_count (wes_fleetfix_t *self, const char *needle)
{
    return (int)wes_test_count_file (self->coord_log, needle);
}
