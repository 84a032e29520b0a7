/*  wes_cli_fleet.c — the fleet verbs: `wesley run` (start a roll-out of a
    plan over a targets file), `wesley resume` (carry on from the checkpoint
    store, epoch + 1) and `wesley cancel` (dispatch nothing new, let running
    steps finish); where things stand as JSON and plain text, which
    `wesley status` (wes_cli_status.c) draws on. */
#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "coordinator/wes_coord.h"
#include "coordinator/wes_metrics.h"
#include "coordinator/wes_sched.h"
#include "coordinator/wes_store.h"
#include "coordinator/wes_targets.h"
#include "plan/wes_plan.h"
#include "proto/wes_curve.h"
#include "util/wes_log.h"
#include "wes_cli.h"

/*  Exit codes of run and resume. */
#define S_EXIT_DONE 0        /* finished, or stopped at --stop-before */
#define S_EXIT_FAILED 1      /* a step failed permanently */
#define S_EXIT_USAGE 2       /* usage, bad plan or targets file */
#define S_EXIT_REFUSED 3     /* store refused (exists, locked, corrupt), bind refused */
#define S_EXIT_CANCELLED 4   /* wesley cancel */
#define S_EXIT_INTERRUPTED 5 /* signal or store failure: resume carries on */

/*  How long `wesley cancel` waits for a live coordinator to acknowledge. */
#define S_CANCEL_WAIT_MS 10000

static const char *s_run_usage
    = "usage: wesley run --plan PLAN.json --targets FILE --state STATE.db [--bind ENDPOINT]\n"
      "                  [--max-per-target N] [--max-per-group N] [--max-cic-per-group N]\n"
      "                  [--max-total N] [--schedule rolling|waves] [--stop-before PHASE]\n"
      "                  [--heartbeat-ms N] [--liveness N] [--quiet]\n"
      "                  (--curve-secret FILE --curve-allow DIR | --insecure-dev)\n"
      "                  [--resume-existing] [--metrics ADDRESS] [--metrics-linger SECONDS]\n"
      "                  [--allow-unsafe-sql]\n"
      "       wesley resume --state STATE.db [--bind ENDPOINT] [--through PHASE] [limits]\n"
      "                  (--curve-secret FILE --curve-allow DIR | --insecure-dev)\n"
      "  Rolls a plan out over a fleet: one instance of the plan's DAG per target, a\n"
      "  rolling frontier (each step starts the moment its dependencies on that target\n"
      "  succeeded; critical path first), run by `wesley-worker --connect ENDPOINT`\n"
      "  processes. Every transition is written to the state file (SQLite) before it is\n"
      "  acted on; `wesley resume` carries on after a crash, cancel or stop. The\n"
      "  workers must authenticate by CURVE (keys from `wesley keygen`); without keys\n"
      "  only --insecure-dev starts, in plaintext, for a development setup (loopback\n"
      "  included: any local user could connect a worker).\n"
      "  --plan FILE          run: the plan written by `wesley plan` (required)\n"
      "  --targets FILE       run: one target per line, NAME [group=GROUP] CONNINFO\n"
      "                       (# comments; no passwords) (required)\n"
      "  --state FILE         the run's SQLite state file (required)\n"
      "  --bind ENDPOINT      ZeroMQ endpoint (default: tcp://127.0.0.1:5670; resume: the\n"
      "                       run's last one)\n"
      "  --curve-secret FILE  the coordinator's secret certificate (NAME.cert_secret from\n"
      "                       `wesley keygen`); with --curve-allow: CURVE encryption and\n"
      "                       authentication of every worker (required unless\n"
      "                       --insecure-dev)\n"
      "  --curve-allow DIR    the allowed workers' public certificates (NAME.cert); a\n"
      "                       certificate removed from DIR revokes its worker, even a\n"
      "                       connected one (required unless --insecure-dev)\n"
      "  --max-per-target N   steps at once on one target, 0 = no limit (default: 1)\n"
      "  --max-per-group N    steps at once in one server group (default: 0, no limit)\n"
      "  --max-cic-per-group N  CREATE INDEX CONCURRENTLY at once in one server group\n"
      "                       (default: 0, no limit)\n"
      "  --max-total N        steps at once in the whole fleet (default: 0, no limit)\n"
      "  --schedule MODE      rolling, or waves for benchmarks (default: rolling)\n"
      "  --stop-before PHASE  start no step of PHASE (backfill, validate, contract) or\n"
      "                       later; the run ends STOPPED (default: none, run to the end)\n"
      "  --through PHASE      resume: run up to and including PHASE; contract = everything\n"
      "                       (default: the run's own --stop-before)\n"
      "  --heartbeat-ms N     worker heartbeat interval in ms (default: 1000)\n"
      "  --liveness N         missed heartbeats before a worker is dead (default: 3)\n"
      "  --insecure-dev       no CURVE keys: plaintext, unauthenticated workers, for a\n"
      "                       development setup on a host and network you trust, loopback\n"
      "                       included (default: off, refused without CURVE keys)\n"
      "  --insecure           the same as --insecure-dev (default: off)\n"
      "  --quiet              no progress lines on the terminal (default: off)\n"
      "  --resume-existing    run: if --state exists and holds a run of the same plan\n"
      "                       (checksum) and targets, carry it on as `wesley resume`\n"
      "                       would (epoch + 1), with the --stop-before and limits of this\n"
      "                       command line; a different plan or targets is refused\n"
      "                       (exit 3). For a restarted container (default: off, an\n"
      "                       existing state file is refused)\n"
      "  --metrics ADDRESS    serve Prometheus metrics over HTTP on HOST:PORT, :PORT (all\n"
      "                       interfaces) or [V6]:PORT: GET /metrics, /healthz, /readyz\n"
      "                       (default: off). Port 0 picks a free one; the address served\n"
      "                       is logged and kept in the state file (`status --json`)\n"
      "  --metrics-linger SECONDS  after the run ended, keep serving metrics this long\n"
      "                       for a last scrape; SIGTERM ends it early. With\n"
      "                       --resume-existing on a run that had already ended (finished\n"
      "                       or cancelled), serve its final metrics this long, read-only\n"
      "                       (default: 0)\n"
      "  --allow-unsafe-sql   run: a plan whose hand-written (raw) steps have error\n"
      "                       findings of `wesley lint` (default: off, refuse it, exit 3)\n"
      "exit: 0 finished (or stopped at --stop-before), 1 a step failed permanently,\n"
      "      2 usage or bad input, 3 refused (state file exists/locked/corrupt, bind,\n"
      "      unsafe hand-written SQL),\n"
      "      4 cancelled, 5 interrupted (signal): `wesley resume` carries on\n";

typedef struct {
    const char *plan;        /* --plan */
    const char *targets;     /* --targets */
    const char *state;       /* --state */
    const char *bind;        /* --bind */
    const char *through;     /* --through (resume) */
    const char *stop_before; /* --stop-before */
    const char *schedule;    /* --schedule */
    const char *limit[4];    /* per-target, per-group, cic-per-group, total */
    const char *hb;          /* --heartbeat-ms */
    const char *liveness;    /* --liveness */
    const char *curve_secret; /* --curve-secret */
    const char *curve_allow; /* --curve-allow */
    bool insecure;           /* --insecure-dev (--insecure) */
    bool quiet;              /* --quiet */
    bool json;               /* --json (status) */
    bool resume_existing;    /* --resume-existing (run) */
    const char *metrics;     /* --metrics */
    const char *linger;      /* --metrics-linger */
    bool allow_unsafe_sql;   /* --allow-unsafe-sql (run) */
} s_args_t;

static const char *s_limit_keys[4]
    = {"max_per_target", "max_per_group", "max_cic_per_group", "max_total"};
static const char *s_limit_flags[4]
    = {"--max-per-target", "--max-per-group", "--max-cic-per-group", "--max-total"};

static int s_parse_args (const char *verb, int argc, char **argv, s_args_t *a, const char *usage);
static int s_parse_u32 (const char *s, uint32_t *out);
static int s_drive (wes_store_t *store, const s_args_t *a, const char *verb);
static char *s_cancel_path (const char *state);
static const char *s_opt (wes_store_t *store, const char *key);
static int s_same_run (const char *state, wes_plan_t *plan, wes_targets_t *targets, char **why);
static int s_resume (const s_args_t *a, const char *verb);
static int s_serve_final (wes_store_t *store, const s_args_t *a, int rc);
static void s_count_state (const wes_store_step_t *row, void *arg);
static int s_check_curve (const s_args_t *a, const char *verb);

int
wes_cli_run (int argc, char **argv)
{
    s_args_t a;
    int rc = s_parse_args ("run", argc, argv, &a, s_run_usage);
    if (rc >= 0) {
        return rc;
    }
    if (!a.plan || !a.targets || !a.state || a.through) {
        fprintf (stderr, "wesley run: give --plan, --targets and --state\n%s", s_run_usage);
        return S_EXIT_USAGE;
    }
    if (s_check_curve (&a, "run") != 0) {
        return S_EXIT_USAGE;
    }
    char *error = NULL;
    wes_plan_t *plan = wes_plan_load (a.plan, &error);
    if (!plan) {
        fprintf (stderr, "wesley run: %s\n", error);
        free (error);
        return S_EXIT_USAGE;
    }
    if (wes_cli_lint_plan (plan, NULL, a.allow_unsafe_sql, "run") != 0) {
        wes_plan_destroy (&plan);
        return S_EXIT_REFUSED;
    }
    wes_targets_t *targets = wes_targets_load (a.targets, &error);
    if (!targets) {
        fprintf (stderr, "wesley run: %s\n", error);
        free (error);
        wes_plan_destroy (&plan);
        return S_EXIT_USAGE;
    }
    if (a.stop_before) {
        wes_phase_t ph;
        if (wes_phase_parse (a.stop_before, &ph) != 0) {
            fprintf (stderr, "wesley run: --stop-before: '%s' is not a phase\n", a.stop_before);
            wes_targets_destroy (&targets);
            wes_plan_destroy (&plan);
            return S_EXIT_USAGE;
        }
    }
    if (a.resume_existing && access (a.state, F_OK) == 0) {
        /*  A restarted coordinator (a StatefulSet runs the same command
            again): carry on the run in the state file if it is this plan
            over these targets, as `wesley resume` would. */
        char *why = NULL;
        int same = s_same_run (a.state, plan, targets, &why);
        wes_targets_destroy (&targets);
        wes_plan_destroy (&plan);
        if (same != 0) {
            fprintf (stderr, "wesley run: --resume-existing: %s\n", why ? why : "refused");
            free (why);
            return S_EXIT_REFUSED;
        }
        return s_resume (&a, "run");
    }
    size_t n = wes_targets_count (targets);
    wes_store_target_t *st = wes_alloc (n * sizeof *st);
    for (size_t i = 0; i < n; i++) {
        st[i].name = wes_targets_name (targets, i);
        st[i].conninfo = wes_targets_conninfo (targets, i);
        st[i].group = wes_targets_group (targets, i);
    }
    json_t *doc = wes_plan_to_json (plan);
    char *plan_json = json_dumps (doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref (doc);
    wes_store_t *store = wes_store_create (a.state, plan_json, wes_plan_hash (plan), st, n,
                                           wes_plan_count (plan), &error);
    free (plan_json);
    free (st);
    wes_targets_destroy (&targets);
    wes_plan_destroy (&plan);
    if (!store) {
        fprintf (stderr, "wesley run: %s%s\n", error ? error : "cannot create the state file",
                 access (a.state, F_OK) == 0 ? " (to carry on an existing run: wesley resume)"
                                              : "");
        free (error);
        return S_EXIT_REFUSED;
    }
    bool ok = wes_store_set_option (store, "stop_before", a.stop_before ? a.stop_before : "")
              == 0;
    for (int i = 0; i < 4; i++) {
        ok = ok && (!a.limit[i] || wes_store_set_option (store, s_limit_keys[i], a.limit[i]) == 0);
    }
    ok = ok && (!a.schedule || wes_store_set_option (store, "schedule", a.schedule) == 0);
    if (!ok) {
        fprintf (stderr, "wesley run: cannot write the state file\n");
        wes_store_destroy (&store);
        return S_EXIT_REFUSED;
    }
    rc = s_drive (store, &a, "run");
    wes_store_destroy (&store);
    return rc;
}

int
wes_cli_resume (int argc, char **argv)
{
    s_args_t a;
    int rc = s_parse_args ("resume", argc, argv, &a, s_run_usage);
    if (rc >= 0) {
        return rc;
    }
    if (!a.state || a.plan || a.targets || a.resume_existing) {
        fprintf (stderr, "wesley resume: give --state (the plan and targets are in it)\n%s",
                 s_run_usage);
        return S_EXIT_USAGE;
    }
    if (s_check_curve (&a, "resume") != 0) {
        return S_EXIT_USAGE;
    }
    wes_phase_t through = WES_PHASE_CONTRACT;
    if (a.through && wes_phase_parse (a.through, &through) != 0) {
        fprintf (stderr, "wesley resume: --through: '%s' is not a phase\n", a.through);
        return S_EXIT_USAGE;
    }
    return s_resume (&a, "resume");
}

int
wes_cli_cancel (int argc, char **argv)
{
    static const char *usage
        = "usage: wesley cancel --state STATE.db\n"
          "  Stops a run dispatching new steps; running steps finish and are recorded.\n"
          "  A stopped or failed run can be cancelled too (then `wesley run --resume-existing`\n"
          "  leaves it alone). `wesley resume` carries on later.\n"
          "  --state FILE   the run's state file (required)\n"
          "exit: 0 cancelled (or requested from the live coordinator), 1 the live coordinator\n"
          "      did not acknowledge in time, 2 usage, 3 the state file cannot be opened\n";
    s_args_t a;
    int rc = s_parse_args ("cancel", argc, argv, &a, usage);
    if (rc >= 0) {
        return rc;
    }
    if (!a.state) {
        fprintf (stderr, "wesley cancel: give --state\n%s", usage);
        return S_EXIT_USAGE;
    }
    char *error = NULL;
    wes_store_t *ro = wes_store_open (a.state, true, &error);
    if (!ro) {
        fprintf (stderr, "wesley cancel: %s\n", error ? error : "cannot open the state file");
        free (error);
        return S_EXIT_REFUSED;
    }
    wes_run_state_t st = wes_store_run_state (ro);
    wes_store_destroy (&ro);
    /*  A stopped or failed run can be cancelled too, so that a restarted
        `wesley run --resume-existing` does not carry it on. */
    if (st != WES_RUN_RUNNING && st != WES_RUN_STOPPED && st != WES_RUN_FAILED) {
        printf ("the run is %s: nothing to cancel\n", wes_run_state_name (st));
        return 0;
    }
    /*  No coordinator alive: the store opens read-write and we write it. */
    wes_store_t *rw = wes_store_open (a.state, false, &error);
    if (rw) {
        int wr = wes_store_set_run_state (rw, WES_RUN_CANCELLED, "wesley cancel (no live "
                                                                 "coordinator)");
        wes_store_destroy (&rw);
        if (wr != 0) {
            fprintf (stderr, "wesley cancel: cannot write the state file\n");
            return S_EXIT_REFUSED;
        }
        printf ("cancelled (no coordinator was running)\n");
        return 0;
    }
    free (error);
    error = NULL;
    /*  A live coordinator holds the store: ask it through the request file
        it polls, then wait until it records the cancellation. */
    char *path = s_cancel_path (a.state);
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 || fchmod (fd, 0600) != 0) { /* 0600 exactly, whatever the umask */
        fprintf (stderr, "wesley cancel: cannot create %s: %s\n", path, strerror (errno));
        if (fd >= 0) {
            close (fd);
        }
        free (path);
        return S_EXIT_REFUSED;
    }
    close (fd);
    free (path);
    struct timespec t0;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    for (;;) {
        ro = wes_store_open (a.state, true, NULL);
        st = ro ? wes_store_run_state (ro) : WES_RUN_RUNNING;
        wes_store_destroy (&ro);
        if (st != WES_RUN_RUNNING) {
            printf ("run %s: no new steps start; running steps finish\n",
                    wes_run_state_name (st));
            return 0;
        }
        struct timespec t1;
        clock_gettime (CLOCK_MONOTONIC, &t1);
        long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
        if (ms > S_CANCEL_WAIT_MS) {
            fprintf (stderr, "wesley cancel: requested, but the coordinator has not "
                             "acknowledged yet\n");
            return 1;
        }
        usleep (100 * 1000);
    }
}

/* ---------------------------------------------------------------- helpers */

/*  Returns -1 to go on, else an exit code. */
static int
s_parse_args (const char *verb, int argc, char **argv, s_args_t *a, const char *usage)
{
    memset (a, 0, sizeof *a);
    for (int i = 0; i < argc; i++) {
        const char *f = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        const char **slot = NULL;
        if (strcmp (f, "--help") == 0 || strcmp (f, "-h") == 0) {
            fputs (usage, stdout);
            return 0;
        }
        if (strcmp (f, "--insecure") == 0 || strcmp (f, "--insecure-dev") == 0) {
            a->insecure = true;
            continue;
        }
        if (strcmp (f, "--quiet") == 0) {
            a->quiet = true;
            continue;
        }
        if (strcmp (f, "--json") == 0) {
            a->json = true;
            continue;
        }
        if (strcmp (f, "--resume-existing") == 0) {
            a->resume_existing = true;
            continue;
        }
        if (strcmp (f, "--allow-unsafe-sql") == 0) {
            a->allow_unsafe_sql = true;
            continue;
        }
        if (strcmp (f, "--plan") == 0) {
            slot = &a->plan;
        }
        else if (strcmp (f, "--targets") == 0) {
            slot = &a->targets;
        }
        else if (strcmp (f, "--state") == 0) {
            slot = &a->state;
        }
        else if (strcmp (f, "--bind") == 0) {
            slot = &a->bind;
        }
        else if (strcmp (f, "--through") == 0) {
            slot = &a->through;
        }
        else if (strcmp (f, "--stop-before") == 0) {
            slot = &a->stop_before;
        }
        else if (strcmp (f, "--schedule") == 0) {
            slot = &a->schedule;
        }
        else if (strcmp (f, "--heartbeat-ms") == 0) {
            slot = &a->hb;
        }
        else if (strcmp (f, "--liveness") == 0) {
            slot = &a->liveness;
        }
        else if (strcmp (f, "--metrics") == 0 && strcmp (verb, "status") != 0
                 && strcmp (verb, "cancel") != 0) {
            slot = &a->metrics;
        }
        else if (strcmp (f, "--metrics-linger") == 0 && strcmp (verb, "status") != 0
                 && strcmp (verb, "cancel") != 0) {
            slot = &a->linger;
        }
        else if (strcmp (f, "--curve-secret") == 0) {
            slot = &a->curve_secret;
        }
        else if (strcmp (f, "--curve-allow") == 0) {
            slot = &a->curve_allow;
        }
        else {
            for (int k = 0; k < 4; k++) {
                if (strcmp (f, s_limit_flags[k]) == 0) {
                    slot = &a->limit[k];
                }
            }
        }
        if (!slot || !v) {
            fprintf (stderr, "wesley %s: unknown or incomplete argument '%s'\n%s", verb, f, usage);
            return S_EXIT_USAGE;
        }
        *slot = v;
        i++;
    }
    uint32_t n;
    for (int k = 0; k < 4; k++) {
        if (a->limit[k] && s_parse_u32 (a->limit[k], &n) != 0) {
            fprintf (stderr, "wesley %s: %s: '%s' is not a count\n", verb, s_limit_flags[k],
                     a->limit[k]);
            return S_EXIT_USAGE;
        }
    }
    if ((a->hb && (s_parse_u32 (a->hb, &n) != 0 || n < 10))
        || (a->liveness && (s_parse_u32 (a->liveness, &n) != 0 || n < 1))) {
        fprintf (stderr, "wesley %s: --heartbeat-ms needs >= 10, --liveness >= 1\n", verb);
        return S_EXIT_USAGE;
    }
    char mhost[256];
    uint16_t mport;
    if (a->metrics && wes_metrics_parse_address (a->metrics, mhost, sizeof mhost, &mport) != 0) {
        fprintf (stderr, "wesley %s: --metrics: '%s' is not HOST:PORT, :PORT or [V6]:PORT\n",
                 verb, a->metrics);
        return S_EXIT_USAGE;
    }
    if (a->linger && (s_parse_u32 (a->linger, &n) != 0 || n > 86400)) {
        fprintf (stderr, "wesley %s: --metrics-linger: '%s' is not 0..86400 seconds\n", verb,
                 a->linger);
        return S_EXIT_USAGE;
    }
    if (a->schedule && strcmp (a->schedule, "rolling") != 0 && strcmp (a->schedule, "waves") != 0) {
        fprintf (stderr, "wesley %s: --schedule is rolling or waves\n", verb);
        return S_EXIT_USAGE;
    }
    if ((a->curve_secret != NULL) != (a->curve_allow != NULL)) {
        fprintf (stderr,
                 "wesley %s: give both --curve-secret FILE and --curve-allow DIR, or neither\n",
                 verb);
        return S_EXIT_USAGE;
    }
    wes_phase_t ph;
    if (a->stop_before && wes_phase_parse (a->stop_before, &ph) != 0) {
        fprintf (stderr, "wesley %s: --stop-before: '%s' is not a phase\n", verb, a->stop_before);
        return S_EXIT_USAGE;
    }
    return -1;
}

/*  Carries on the run in the state file (epoch + 1, reconciliation of
    steps left dispatched or running): `wesley resume`, and `wesley run
    --resume-existing` on a state file that holds the same run. Returns the
    exit code. */
static int
s_resume (const s_args_t *a, const char *verb)
{
    wes_phase_t through = WES_PHASE_CONTRACT;
    if (a->through && wes_phase_parse (a->through, &through) != 0) {
        return S_EXIT_USAGE; /* checked by the caller */
    }
    char *error = NULL;
    wes_store_t *store = NULL;
    if (a->resume_existing) {
        /*  A cancel sticks across restarts of the pod: only an explicit
            `wesley resume` carries a cancelled run on. Looked at read-only,
            so the epoch does not move. */
        store = wes_store_open (a->state, true, &error);
        if (store && wes_store_run_state (store) == WES_RUN_CANCELLED) {
            printf ("the run was cancelled (wesley cancel): nothing new is dispatched; "
                    "`wesley resume --state %s` carries it on\n", a->state);
            wes_cli_status_print (store, false, stdout);
            int rc = s_serve_final (store, a, S_EXIT_CANCELLED);
            wes_store_destroy (&store);
            return rc;
        }
        if (store && wes_store_run_state (store) == WES_RUN_FINISHED) {
            /*  A restarted pod of a finished run: says so, and with
                --metrics keeps serving the final figures for the linger
                time, so the pod stays up and healthy instead of looking
                like a crash loop. The epoch does not move. */
            printf ("the run already finished\n");
            wes_cli_status_print (store, false, stdout);
            int rc = s_serve_final (store, a, S_EXIT_DONE);
            wes_store_destroy (&store);
            return rc;
        }
        wes_store_destroy (&store);
        free (error);
        error = NULL;
    }
    store = wes_store_open (a->state, false, &error);
    if (!store) {
        fprintf (stderr, "wesley %s: %s\n", verb, error ? error : "cannot open the state file");
        free (error);
        return S_EXIT_REFUSED;
    }
    bool ok = true;
    if (a->resume_existing && !a->stop_before) {
        /*  run --resume-existing: the command line says where to stop. */
        ok = wes_store_set_option (store, "stop_before", "") == 0;
    }
    if (a->through) {
        const char *next = through == WES_PHASE_CONTRACT ? "" : wes_phase_name (through + 1);
        ok = wes_store_set_option (store, "stop_before", next) == 0;
    }
    if (a->stop_before) {
        ok = ok && wes_store_set_option (store, "stop_before", a->stop_before) == 0;
    }
    for (int i = 0; i < 4; i++) {
        ok = ok && (!a->limit[i] || wes_store_set_option (store, s_limit_keys[i], a->limit[i]) == 0);
    }
    ok = ok && (!a->schedule || wes_store_set_option (store, "schedule", a->schedule) == 0);
    wes_run_state_t st = wes_store_run_state (store);
    if (ok && st == WES_RUN_FINISHED) {
        printf ("the run already finished\n");
        wes_cli_status_print (store, false, stdout);
        wes_store_destroy (&store);
        return S_EXIT_DONE;
    }
    char why[96];
    snprintf (why, sizeof why, "resumed at epoch %" PRIu64 "%s", wes_store_epoch (store),
              a->resume_existing ? " (run --resume-existing)" : "");
    wes_log_info ("%s: %s", a->state, why);
    ok = ok && wes_store_set_run_state (store, WES_RUN_RUNNING, why) == 0;
    if (!ok) {
        fprintf (stderr, "wesley %s: cannot write the state file\n", verb);
        wes_store_destroy (&store);
        return S_EXIT_REFUSED;
    }
    char *cancel = s_cancel_path (a->state);
    (void) unlink (cancel); /* a request for the previous coordinator */
    free (cancel);
    int rc = s_drive (store, a, verb);
    wes_store_destroy (&store);
    return rc;
}

/*  For a run that ended before this process started (run
    --resume-existing on a finished or cancelled run): with --metrics and a
    --metrics-linger, serves the run's final figures, read from the store
    (read-only), until the linger time is over or SIGINT/SIGTERM. Returns
    rc, or S_EXIT_REFUSED when the metrics cannot be served. */
static int
s_serve_final (wes_store_t *store, const s_args_t *a, int rc)
{
    uint32_t linger = 0;
    if (!a->metrics || !a->linger || s_parse_u32 (a->linger, &linger) != 0 || linger == 0) {
        return rc;
    }
    sigset_t mask;
    sigemptyset (&mask);
    sigaddset (&mask, SIGINT);
    sigaddset (&mask, SIGTERM);
    int sigfd = -1;
    if (sigprocmask (SIG_BLOCK, &mask, NULL) == 0) {
        sigfd = signalfd (-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    }
    char label[16];
    snprintf (label, sizeof label, "%.12s", wes_store_plan_hash (store));
    wes_metrics_t *metrics = wes_metrics_new (label, wes_store_epoch (store), 5000);
    char *error = NULL;
    if (!metrics || wes_metrics_listen (metrics, a->metrics, &error) != 0) {
        wes_log_error ("cannot serve metrics on %s: %s", a->metrics, error ? error : "?");
        free (error);
        wes_metrics_destroy (&metrics);
        if (sigfd >= 0) {
            close (sigfd);
        }
        return S_EXIT_REFUSED;
    }
    wes_metrics_gauges_t g;
    memset (&g, 0, sizeof g);
    if (wes_store_each_step (store, s_count_state, g.steps) != 0) {
        wes_log_warn ("cannot read the step instances: the step gauges stay 0");
    }
    g.run_state = wes_store_run_state (store);
    if (g.run_state == WES_RUN_FINISHED) {
        g.targets[WES_MPHASE_DONE] = wes_store_target_count (store);
    }
    /*  (A cancelled run's targets by phase would need the plan's phases:
        left at 0; wesley_run_state and wesley_steps tell where it stands.) */
    wes_metrics_set_gauges (metrics, &g);
    wes_metrics_set_ready (metrics, true);
    wes_log_info ("the run has ended (%s): serving its final metrics on http://%s/metrics for "
                  "%u s (SIGTERM ends it sooner)",
                  wes_run_state_name (g.run_state), wes_metrics_address (metrics), linger);
    int64_t end = zclock_mono () + (int64_t) linger * 1000;
    for (;;) {
        int64_t now = zclock_mono ();
        wes_metrics_tick (metrics, now);
        if (now >= end) {
            break;
        }
        struct pollfd pfd = {.fd = sigfd, .events = POLLIN};
        int wait = end - now < 1000 ? (int) (end - now) : 1000;
        if (sigfd >= 0 && poll (&pfd, 1, wait) > 0) {
            wes_log_info ("signal: no more lingering");
            break;
        }
        if (sigfd < 0) {
            zclock_sleep (wait);
        }
    }
    wes_metrics_destroy (&metrics);
    if (sigfd >= 0) {
        close (sigfd);
    }
    return rc;
}

/*  wes_store_each_step callback: counts instances by state. */
static void
s_count_state (const wes_store_step_t *row, void *arg)
{
    size_t *steps = arg;
    if ((unsigned) row->state < 8) {
        steps[row->state]++;
    }
}

/*  0 when the state file holds a run of this plan (same checksum) over the
    same targets (names, groups and connection strings, in order); else -1
    with *why (caller frees). Opens the store read-only: nothing changes. */
static int
s_same_run (const char *state, wes_plan_t *plan, wes_targets_t *targets, char **why)
{
    char *error = NULL;
    wes_store_t *store = wes_store_open (state, true, &error);
    if (!store) {
        *why = error ? error : wes_strdup ("cannot open the state file");
        return -1;
    }
    char msg[512];
    msg[0] = '\0';
    size_t n = wes_targets_count (targets);
    if (strcmp (wes_store_plan_hash (store), wes_plan_hash (plan)) != 0) {
        snprintf (msg, sizeof msg,
                  "%s holds a run of another plan (checksum %.12s, this plan %.12s); give a new "
                  "--state for a new run",
                  state, wes_store_plan_hash (store), wes_plan_hash (plan));
    }
    else if (wes_store_target_count (store) != n) {
        snprintf (msg, sizeof msg,
                  "%s holds a run over %zu targets, the targets file has %zu; give a new --state "
                  "for a new run",
                  state, wes_store_target_count (store), n);
    }
    for (size_t i = 0; !msg[0] && i < n; i++) {
        wes_store_target_t t = wes_store_target (store, i);
        const char *g = wes_targets_group (targets, i);
        bool same = strcmp (t.name, wes_targets_name (targets, i)) == 0
                    && strcmp (t.conninfo, wes_targets_conninfo (targets, i)) == 0
                    && strcmp (t.group ? t.group : "", g ? g : "") == 0;
        if (!same) {
            snprintf (msg, sizeof msg,
                      "%s holds a run whose target %zu (%.100s) differs from the targets file's "
                      "(%.100s); give a new --state for a new run",
                      state, i + 1, t.name, wes_targets_name (targets, i));
        }
    }
    wes_store_destroy (&store);
    if (msg[0]) {
        *why = wes_strdup (msg);
        return -1;
    }
    return 0;
}

static int
s_parse_u32 (const char *s, uint32_t *out)
{
    if (!s || !*s) {
        return -1;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull (s, &end, 10);
    if (errno || *end || v > UINT32_MAX || s[0] == '-') {
        return -1;
    }
    *out = (uint32_t) v;
    return 0;
}

static const char *
s_opt (wes_store_t *store, const char *key)
{
    const char *v = wes_store_get_option (store, key);
    return v && v[0] ? v : NULL;
}

/*  CURVE keys are given (the certificates load and the allow directory
    reads), or plaintext is asked for with --insecure-dev, before anything
    is written: 0, or -1 after saying what is wrong. Plaintext is refused
    even on loopback: any local user could connect a worker. */
static int
s_check_curve (const s_args_t *a, const char *verb)
{
    if (!a->curve_secret) {
        if (a->insecure) {
            return 0;
        }
        fprintf (stderr,
                 "wesley %s: refusing to talk to workers in plaintext: create keys with "
                 "`wesley keygen` and give --curve-secret FILE --curve-allow DIR, or give "
                 "--insecure-dev for a development setup\n",
                 verb);
        return -1;
    }
    char *error = NULL;
    zcert_t *cert = wes_curve_load_secret (a->curve_secret, &error);
    if (!cert) {
        fprintf (stderr, "wesley %s: --curve-secret: %s\n", verb, error ? error : "?");
        free (error);
        return -1;
    }
    zcert_destroy (&cert);
    wes_curve_allow_t *allow = wes_curve_allow_new (a->curve_allow, &error);
    if (!allow) {
        fprintf (stderr, "wesley %s: --curve-allow: %s\n", verb, error ? error : "?");
        free (error);
        return -1;
    }
    wes_curve_allow_destroy (&allow);
    return 0;
}

static char *
s_cancel_path (const char *state)
{
    size_t n = strlen (state) + 8;
    char *p = wes_alloc (n);
    snprintf (p, n, "%s.cancel", state);
    return p;
}

/*  Builds the coordinator from the options stored in the run (and the
    command line's), runs it, prints where things stand. */
static int
s_drive (wes_store_t *store, const s_args_t *a, const char *verb)
{
    wes_coord_opts_t opts;
    wes_coord_opts_init (&opts);
    const char *stored_bind = s_opt (store, "endpoint");
    char *bind = wes_strdup (a->bind ? a->bind : stored_bind ? stored_bind : opts.bind);
    opts.bind = bind;
    opts.insecure = a->insecure;
    opts.curve_secret = a->curve_secret;
    opts.curve_allow = a->curve_allow;
    opts.progress = !a->quiet;
    opts.metrics = a->metrics;
    uint32_t n;
    if (a->linger && s_parse_u32 (a->linger, &n) == 0) {
        opts.metrics_linger_ms = n * 1000;
    }
    if (a->hb && s_parse_u32 (a->hb, &n) == 0) {
        opts.interval_ms = n;
    }
    if (a->liveness && s_parse_u32 (a->liveness, &n) == 0) {
        opts.liveness = n;
    }
    uint32_t *limits[4] = {&opts.limits.max_per_target, &opts.limits.max_per_group,
                           &opts.limits.max_cic_per_group, &opts.limits.max_total};
    for (int k = 0; k < 4; k++) {
        const char *v = s_opt (store, s_limit_keys[k]);
        if (v && s_parse_u32 (v, &n) == 0) {
            *limits[k] = n;
        }
    }
    const char *sched = s_opt (store, "schedule");
    opts.limits.waves = sched && strcmp (sched, "waves") == 0;
    const char *stop = s_opt (store, "stop_before");
    if (stop && wes_phase_parse (stop, &opts.limits.stop_before) == 0) {
        opts.limits.stop_before_set = true;
    }
    char *cancel = s_cancel_path (a->state);
    opts.cancel_file = cancel;
    char *error = NULL;
    wes_coord_t *coord = wes_coord_new (store, &opts, &error);
    free (bind);
    if (!coord) {
        fprintf (stderr, "wesley %s: %s\n", verb, error ? error : "cannot start");
        free (error);
        free (cancel);
        return S_EXIT_REFUSED;
    }
    if (!a->quiet) {
        printf ("coordinator on %s (epoch %" PRIu64 "): start workers with "
                "`wesley-worker --connect %s%s`%s\n",
                wes_coord_endpoint (coord), wes_store_epoch (store), wes_coord_endpoint (coord),
                a->curve_secret ? " --curve-secret WORKER.cert_secret --curve-server "
                                  "COORDINATOR.cert"
                                : "",
                a->curve_secret ? " (CURVE: each worker's public certificate in the "
                                  "--curve-allow directory)"
                                : "");
        fflush (stdout);
    }
    wes_run_state_t st = wes_coord_run (coord);
    wes_coord_destroy (&coord);
    free (cancel);
    wes_cli_status_print (store, false, stdout);
    switch (st) {
    case WES_RUN_FINISHED:
        return S_EXIT_DONE;
    case WES_RUN_STOPPED:
        printf ("stopped before %s as asked: deploy, then `wesley resume --state %s --through "
                "contract`\n",
                stop ? stop : "?", a->state);
        return S_EXIT_DONE;
    case WES_RUN_FAILED:
        return S_EXIT_FAILED;
    case WES_RUN_CANCELLED:
        return S_EXIT_CANCELLED;
    case WES_RUN_RUNNING:
    default:
        fprintf (stderr, "wesley %s: interrupted; `wesley resume --state %s` carries on\n", verb,
                 a->state);
        return S_EXIT_INTERRUPTED;
    }
}

/* ---------------------------------------------------------------- status */

typedef struct {
    uint32_t target;        /* target index */
    uint32_t step;          /* step index */
    wes_step_state_t state; /* as stored */
    uint32_t attempts;      /* attempts made */
    char *attempt_id;       /* last attempt */
    char *worker;           /* last worker */
    int64_t started_ms;     /* first dispatch */
    int64_t finished_ms;    /* end */
    int64_t rows_done;      /* progress */
    char *sqlstate;         /* last failure */
    char *message;          /* last failure */
} s_row_t;

typedef struct {
    s_row_t *rows; /* every instance */
    size_t n;      /* how many */
    size_t cap;    /* allocated */
} s_rows_t;

static void
s_collect (const wes_store_step_t *r, void *arg)
{
    s_rows_t *rows = arg;
    if (rows->n == rows->cap) {
        rows->cap = rows->cap ? rows->cap * 2 : 256;
        rows->rows = wes_realloc (rows->rows, rows->cap * sizeof *rows->rows);
    }
    s_row_t *o = &rows->rows[rows->n++];
    o->target = r->target;
    o->step = r->step;
    o->state = r->state;
    o->attempts = r->attempts;
    o->attempt_id = wes_strdup (r->attempt_id);
    o->worker = wes_strdup (r->worker);
    o->started_ms = r->started_ms;
    o->finished_ms = r->finished_ms;
    o->rows_done = r->rows_done;
    o->sqlstate = wes_strdup (r->sqlstate);
    o->message = wes_strdup (r->message);
}

static void
s_event_line (const char *line, void *arg)
{
    json_t *arr = arg;
    json_array_append_new (arr, json_string (line));
}

json_t *
wes_cli_status_json (wes_store_t *store)
{
    json_t *root = json_object ();
    wes_run_state_t rs = wes_store_run_state (store);
    json_object_set_new (root, "run_state", json_string (wes_run_state_name (rs)));
    json_object_set_new (root, "epoch", json_integer ((json_int_t) wes_store_epoch (store)));
    json_object_set_new (root, "plan", json_string (wes_store_plan_hash (store)));
    const char *ep = s_opt (store, "endpoint");
    json_object_set_new (root, "endpoint", ep ? json_string (ep) : json_null ());
    const char *mx = s_opt (store, "metrics");
    json_object_set_new (root, "metrics", mx ? json_string (mx) : json_null ());
    const char *stop = s_opt (store, "stop_before");
    json_object_set_new (root, "stop_before", stop ? json_string (stop) : json_null ());

    json_error_t jerr;
    json_t *pdoc = json_loads (wes_store_plan_json (store), 0, &jerr);
    wes_plan_t *plan = pdoc ? wes_plan_from_json (pdoc, NULL) : NULL;
    json_decref (pdoc);
    size_t n_t = wes_store_target_count (store);
    size_t n_s = wes_store_step_count (store);
    s_rows_t rows = {0};
    if (!plan || wes_plan_count (plan) != n_s || wes_store_each_step (store, s_collect, &rows) != 0
        || rows.n != n_t * n_s) {
        json_object_set_new (root, "error", json_string ("the stored plan or steps do not load"));
        for (size_t i = 0; i < rows.n; i++) {
            free (rows.rows[i].attempt_id);
            free (rows.rows[i].worker);
            free (rows.rows[i].sqlstate);
            free (rows.rows[i].message);
        }
        free (rows.rows);
        wes_plan_destroy (&plan);
        return root;
    }
    /*  Rows in (target, step) order; index them so. */
    s_row_t **at = wes_alloc ((n_t * n_s + 1) * sizeof *at);
    for (size_t i = 0; i < rows.n; i++) {
        size_t k = (size_t) rows.rows[i].target * n_s + rows.rows[i].step;
        if (rows.rows[i].target < n_t && rows.rows[i].step < n_s) {
            at[k] = &rows.rows[i];
        }
    }
    /*  Dependencies as indices. */
    zhashx_t *ids = zhashx_new ();
    for (size_t s = 0; s < n_s; s++) {
        zhashx_insert (ids, wes_plan_step (plan, s)->id, (void *) (uintptr_t) (s + 1));
    }
    int64_t now = (int64_t) zclock_time ();
    size_t counts[8] = {0};
    int64_t dur_sum = 0;
    size_t dur_n = 0;
    json_t *targets = json_array ();
    json_t *running = json_array ();
    json_t *failures = json_array ();
    json_t *frontier = json_array ();
    for (size_t t = 0; t < n_t; t++) {
        wes_store_target_t tg = wes_store_target (store, t);
        json_t *jt = json_object ();
        json_object_set_new (jt, "name", json_string (tg.name));
        json_object_set_new (jt, "group",
                             tg.group && tg.group[0] ? json_string (tg.group) : json_null ());
        size_t done[4] = {0}, total[4] = {0}, tdone = 0;
        json_t *tfront = json_array ();
        for (size_t s = 0; s < n_s; s++) {
            s_row_t *r = at[t * n_s + s];
            const wes_step_t *step = wes_plan_step (plan, s);
            if (!r) {
                continue;
            }
            counts[r->state & 7]++;
            total[step->phase]++;
            if (r->state == WES_SS_SUCCEEDED) {
                done[step->phase]++;
                tdone++;
                if (r->finished_ms > r->started_ms && r->started_ms > 0) {
                    dur_sum += r->finished_ms - r->started_ms;
                    dur_n++;
                }
                continue;
            }
            const char *tname = tg.name;
            if (r->state == WES_SS_DISPATCHED || r->state == WES_SS_RUNNING) {
                json_t *j = json_object ();
                json_object_set_new (j, "target", json_string (tname));
                json_object_set_new (j, "step", json_string (step->id));
                json_object_set_new (j, "state", json_string (wes_step_state_name (r->state)));
                json_object_set_new (j, "worker", r->worker ? json_string (r->worker) : json_null ());
                json_object_set_new (j, "attempt",
                                     r->attempt_id ? json_string (r->attempt_id) : json_null ());
                json_object_set_new (j, "elapsed_ms",
                                     json_integer (r->started_ms ? now - r->started_ms : 0));
                json_object_set_new (j, "rows_done", json_integer (r->rows_done));
                json_array_append_new (running, j);
            }
            if (r->state == WES_SS_FAILED || r->state == WES_SS_RETRY_WAIT
                || ((r->sqlstate || r->message) && r->state != WES_SS_SUCCEEDED)) {
                json_t *j = json_object ();
                json_object_set_new (j, "target", json_string (tname));
                json_object_set_new (j, "step", json_string (step->id));
                json_object_set_new (j, "state", json_string (wes_step_state_name (r->state)));
                json_object_set_new (j, "attempts", json_integer (r->attempts));
                json_object_set_new (j, "sqlstate",
                                     r->sqlstate ? json_string (r->sqlstate) : json_null ());
                json_object_set_new (j, "message",
                                     r->message ? json_string (r->message) : json_null ());
                json_array_append_new (failures, j);
            }
            bool ready = r->state != WES_SS_DISPATCHED && r->state != WES_SS_RUNNING
                         && r->state != WES_SS_FAILED;
            for (size_t d = 0; ready && d < step->n_deps; d++) {
                void *v = zhashx_lookup (ids, step->deps[d]);
                s_row_t *dr = v ? at[t * n_s + (size_t) (uintptr_t) v - 1] : NULL;
                ready = dr && dr->state == WES_SS_SUCCEEDED;
            }
            if (ready) {
                json_array_append_new (tfront, json_string (step->id));
                json_t *j = json_object ();
                json_object_set_new (j, "target", json_string (tname));
                json_object_set_new (j, "step", json_string (step->id));
                json_array_append_new (frontier, j);
            }
        }
        json_t *phases = json_object ();
        for (int p = 0; p < 4; p++) {
            json_t *jp = json_object ();
            json_object_set_new (jp, "done", json_integer ((json_int_t) done[p]));
            json_object_set_new (jp, "total", json_integer ((json_int_t) total[p]));
            json_object_set_new (phases, wes_phase_name ((wes_phase_t) p), jp);
        }
        json_object_set_new (jt, "phases", phases);
        json_object_set_new (jt, "done", json_integer ((json_int_t) tdone));
        json_object_set_new (jt, "total", json_integer ((json_int_t) n_s));
        json_object_set_new (jt, "frontier", tfront);
        json_array_append_new (targets, jt);
    }
    json_t *totals = json_object ();
    json_object_set_new (totals, "instances", json_integer ((json_int_t) (n_t * n_s)));
    for (int s = 0; s < 8; s++) {
        json_object_set_new (totals, wes_step_state_name ((wes_step_state_t) s),
                             json_integer ((json_int_t) counts[s]));
    }
    json_object_set_new (root, "totals", totals);
    size_t remaining = n_t * n_s - counts[WES_SS_SUCCEEDED];
    size_t par = json_array_size (running) > 0 ? json_array_size (running) : 1;
    if (dur_n > 0 && rs == WES_RUN_RUNNING) {
        int64_t mean = dur_sum / (int64_t) dur_n;
        json_object_set_new (root, "mean_step_ms", json_integer (mean));
        json_object_set_new (root, "eta_ms",
                             json_integer (mean * (int64_t) remaining / (int64_t) par));
    }
    else {
        json_object_set_new (root, "mean_step_ms",
                             dur_n ? json_integer (dur_sum / (int64_t) dur_n) : json_null ());
        json_object_set_new (root, "eta_ms", remaining == 0 ? json_integer (0) : json_null ());
    }
    json_object_set_new (root, "targets", targets);
    json_object_set_new (root, "frontier", frontier);
    json_object_set_new (root, "running", running);
    json_object_set_new (root, "failures", failures);
    json_t *events = json_array ();
    if (wes_store_recent_events (store, 10, s_event_line, events) != 0) {
        json_array_clear (events);
    }
    json_object_set_new (root, "recent_events", events);
    zhashx_destroy (&ids);
    free (at);
    for (size_t i = 0; i < rows.n; i++) {
        free (rows.rows[i].attempt_id);
        free (rows.rows[i].worker);
        free (rows.rows[i].sqlstate);
        free (rows.rows[i].message);
    }
    free (rows.rows);
    wes_plan_destroy (&plan);
    return root;
}

static const char *
s_jstr (json_t *o, const char *key)
{
    const char *s = json_string_value (json_object_get (o, key));
    return s ? s : "";
}

void
wes_cli_status_print (wes_store_t *store, bool json, FILE *out)
{
    json_t *root = wes_cli_status_json (store);
    if (json) {
        char *text = json_dumps (root, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
        fprintf (out, "%s\n", text);
        free (text);
        json_decref (root);
        return;
    }
    json_t *totals = json_object_get (root, "totals");
    fprintf (out, "run %s, epoch %" JSON_INTEGER_FORMAT ", plan %.12s, %s\n",
             s_jstr (root, "run_state"), json_integer_value (json_object_get (root, "epoch")),
             s_jstr (root, "plan"), s_jstr (root, "endpoint"));
    if (json_object_get (root, "error")) {
        fprintf (out, "  %s\n", s_jstr (root, "error"));
        json_decref (root);
        return;
    }
    fprintf (out,
             "  %" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT " step instances succeeded, "
             "%" JSON_INTEGER_FORMAT " running, %" JSON_INTEGER_FORMAT " waiting to retry, "
             "%" JSON_INTEGER_FORMAT " failed",
             json_integer_value (json_object_get (totals, wes_step_state_name (WES_SS_SUCCEEDED))),
             json_integer_value (json_object_get (totals, "instances")),
             json_integer_value (json_object_get (totals, wes_step_state_name (WES_SS_DISPATCHED)))
                 + json_integer_value (
                     json_object_get (totals, wes_step_state_name (WES_SS_RUNNING))),
             json_integer_value (json_object_get (totals, wes_step_state_name (WES_SS_RETRY_WAIT))),
             json_integer_value (json_object_get (totals, wes_step_state_name (WES_SS_FAILED))));
    json_t *eta = json_object_get (root, "eta_ms");
    if (json_is_integer (eta) && json_integer_value (eta) > 0) {
        fprintf (out, ", ETA ~%.0f s", (double) json_integer_value (eta) / 1000.0);
    }
    if (json_is_string (json_object_get (root, "stop_before"))) {
        fprintf (out, ", stopping before %s", s_jstr (root, "stop_before"));
    }
    fprintf (out, "\n  %-20s %9s %9s %9s %9s  frontier\n", "target", "expand", "backfill",
             "validate", "contract");
    size_t i;
    json_t *t;
    json_array_foreach (json_object_get (root, "targets"), i, t)
    {
        json_t *ph = json_object_get (t, "phases");
        char cells[4][24];
        for (int p = 0; p < 4; p++) {
            json_t *jp = json_object_get (ph, wes_phase_name ((wes_phase_t) p));
            snprintf (cells[p], sizeof cells[p], "%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT,
                      json_integer_value (json_object_get (jp, "done")),
                      json_integer_value (json_object_get (jp, "total")));
        }
        json_t *fr = json_object_get (t, "frontier");
        fprintf (out, "  %-20s %9s %9s %9s %9s  %s%s\n", s_jstr (t, "name"), cells[0], cells[1],
                 cells[2], cells[3],
                 json_array_size (fr) ? json_string_value (json_array_get (fr, 0)) : "-",
                 json_array_size (fr) > 1 ? " ..." : "");
    }
    json_t *r;
    json_array_foreach (json_object_get (root, "running"), i, r)
    {
        if (i == 0) {
            fprintf (out, "running:\n");
        }
        fprintf (out, "  %s %s on %s, %.1f s, %" JSON_INTEGER_FORMAT " rows (attempt %s)\n",
                 s_jstr (r, "target"), s_jstr (r, "step"), s_jstr (r, "worker"),
                 (double) json_integer_value (json_object_get (r, "elapsed_ms")) / 1000.0,
                 json_integer_value (json_object_get (r, "rows_done")), s_jstr (r, "attempt"));
    }
    json_array_foreach (json_object_get (root, "failures"), i, r)
    {
        if (i == 0) {
            fprintf (out, "failures:\n");
        }
        fprintf (out, "  %s %s %s after %" JSON_INTEGER_FORMAT " attempt(s): %s %s\n",
                 s_jstr (r, "target"), s_jstr (r, "step"), s_jstr (r, "state"),
                 json_integer_value (json_object_get (r, "attempts")), s_jstr (r, "sqlstate"),
                 s_jstr (r, "message"));
    }
    json_decref (root);
}
