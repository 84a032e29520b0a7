/*  wes_cli_status.c — `wesley status`: where a fleet run stands, live or
    after it ended, read from the checkpoint store opened read-only (never
    disturbing the coordinator writing it). On a terminal it draws progress
    bars per target, the running steps, failures and an ETA; `--watch`
    redraws until the run reaches a final state. Piped, it prints the plain
    table (or --json) unless --progress is given. */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coordinator/wes_store.h"
#include "plan/wes_plan.h"
#include "util/wes_mem.h"
#include "wes_cli.h"

#define S_EXIT_USAGE 2
#define S_EXIT_REFUSED 3

/*  Targets shown by default (the least advanced), and the most --top
    takes: a fleet of thousands stays one screen. */
#define S_DEFAULT_TOP 20
#define S_MAX_TOP 100000
/*  --watch interval bounds, seconds. */
#define S_WATCH_DEFAULT 2.0
#define S_WATCH_MIN 0.1
#define S_WATCH_MAX 3600.0
/*  Bar widths, characters. */
#define S_BAR_TARGET 20
#define S_BAR_TOTAL 40
/*  Successes needed before an ETA is shown. */
#define S_ETA_MIN_SAMPLES 3
/*  Longest target name shown before it is cut. */
#define S_NAME_WIDTH 24

static const char *s_usage =
    "usage: wesley status --state STATE.db [--json] [--progress | --no-progress]\n"
    "                     [--watch [SECONDS]] [--all | --top N]\n"
    "  Where a fleet run stands, live or after it ended: run state, per target and\n"
    "  phase progress, the frontier, running steps with worker and elapsed time,\n"
    "  failures with SQLSTATE and message, an ETA from the observed step durations.\n"
    "  --json          the whole picture as JSON (default: text)\n"
    "  --progress      progress bars even when stdout is not a terminal (default: off,\n"
    "                  bars on a terminal, the plain table otherwise)\n"
    "  --no-progress   the plain table even on a terminal (default: off)\n"
    "  --watch [SECONDS]  redraw every SECONDS (default 2, 0.1..3600) until the run is\n"
    "                  FINISHED, FAILED, CANCELLED or STOPPED, or SIGINT; a terminal is\n"
    "                  cleared between frames, other output gets a '--- frame N' line\n"
    "                  (default: one frame)\n"
    "  --top N         bars for the N least advanced targets, plus a summary line\n"
    "                  (default 20)\n"
    "  --all           bars for every target (default: off, --top)\n"
    "exit: 0 shown (also when --watch ends on SIGINT), 2 usage, 3 the state file cannot\n"
    "      be opened\n";

typedef struct {
    const char *state; /* --state */
    bool json;         /* --json */
    int progress;      /* 1 --progress, 0 --no-progress, -1 by terminal */
    bool watch;        /* --watch */
    double interval;   /* --watch SECONDS */
    bool all;          /* --all */
    size_t top;        /* --top N */
} s_opts_t;

/*  One target's line. */
typedef struct {
    const char *name;  /* borrowed from the JSON */
    size_t done;       /* steps succeeded */
    size_t total;      /* steps */
    const char *phase; /* earliest unfinished phase, "done" or "failed" */
} s_target_t;

static int s_parse (int argc, char **argv, s_opts_t *o);
static int s_frame (const s_opts_t *o, bool bars, FILE *out, wes_run_state_t *state);
static void s_draw (json_t *root, const s_opts_t *o, FILE *out);
static void s_bar (FILE *out, size_t done, size_t total, int width);
static int s_cmp_target (const void *a, const void *b);
static json_int_t s_int (json_t *o, const char *key);
static const char *s_str (json_t *o, const char *key);

int
wes_cli_status (int argc, char **argv)
{
    s_opts_t o;
    int rc = s_parse (argc, argv, &o);
    if (rc >= 0) {
        return rc;
    }
    bool tty = isatty (STDOUT_FILENO) == 1;
    bool bars = !o.json && (o.progress == 1 || (o.progress == -1 && tty));
    wes_run_state_t st = WES_RUN_RUNNING;
    if (!o.watch) {
        return s_frame (&o, bars, stdout, &st);
    }
    /*  SIGINT/SIGTERM are blocked and waited for between frames, so the
        last frame is never cut short. */
    sigset_t mask, old;
    sigemptyset (&mask);
    sigaddset (&mask, SIGINT);
    sigaddset (&mask, SIGTERM);
    sigprocmask (SIG_BLOCK, &mask, &old);
    rc = 0;
    for (unsigned long n = 1;; n++) {
        if (tty && !o.json) {
            fputs ("\033[H\033[2J", stdout); /* home, clear */
        }
        else if (!o.json) {
            time_t now = time (NULL);
            struct tm tm;
            char when[32];
            gmtime_r (&now, &tm);
            strftime (when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
            printf ("--- frame %lu %s\n", n, when);
        }
        rc = s_frame (&o, bars, stdout, &st);
        fflush (stdout);
        if (rc != 0 || st != WES_RUN_RUNNING) {
            break;
        }
        struct timespec wait = {(time_t)o.interval,
                                (long)((o.interval - (double)(time_t)o.interval) * 1e9)};
        int sig = sigtimedwait (&mask, NULL, &wait);
        if (sig == SIGINT || sig == SIGTERM) {
            break;
        }
    }
    sigprocmask (SIG_SETMASK, &old, NULL);
    return rc;
}

/* ---------------------------------------------------------------- helpers */

/*  Returns -1 to go on, else an exit code. */
static int
s_parse (int argc, char **argv, s_opts_t *o)
{
    memset (o, 0, sizeof *o);
    o->progress = -1;
    o->interval = S_WATCH_DEFAULT;
    o->top = S_DEFAULT_TOP;
    for (int i = 0; i < argc; i++) {
        const char *f = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp (f, "--help") == 0 || strcmp (f, "-h") == 0) {
            fputs (s_usage, stdout);
            return 0;
        }
        if (strcmp (f, "--json") == 0) {
            o->json = true;
        }
        else if (strcmp (f, "--progress") == 0) {
            o->progress = 1;
        }
        else if (strcmp (f, "--no-progress") == 0) {
            o->progress = 0;
        }
        else if (strcmp (f, "--all") == 0) {
            o->all = true;
        }
        else if (strcmp (f, "--state") == 0 && v) {
            o->state = v;
            i++;
        }
        else if (strcmp (f, "--top") == 0 && v) {
            char *end = NULL;
            errno = 0;
            unsigned long long n = strtoull (v, &end, 10);
            if (errno || !*v || *end || v[0] == '-' || n < 1 || n > S_MAX_TOP) {
                fprintf (stderr, "wesley status: --top: '%s' is not 1..%d\n", v, S_MAX_TOP);
                return S_EXIT_USAGE;
            }
            o->top = (size_t)n;
            i++;
        }
        else if (strcmp (f, "--watch") == 0) {
            o->watch = true;
            /*  The interval is optional: taken when the next word is a
                number. */
            if (v && ((v[0] >= '0' && v[0] <= '9') || v[0] == '.')) {
                char *end = NULL;
                errno = 0;
                double s = strtod (v, &end);
                if (errno || *end || !(s >= S_WATCH_MIN && s <= S_WATCH_MAX)) {
                    fprintf (stderr, "wesley status: --watch: '%s' is not %.1f..%.0f seconds\n", v,
                             S_WATCH_MIN, S_WATCH_MAX);
                    return S_EXIT_USAGE;
                }
                o->interval = s;
                i++;
            }
        }
        else {
            fprintf (stderr, "wesley status: unknown or incomplete argument '%s'\n%s", f, s_usage);
            return S_EXIT_USAGE;
        }
    }
    if (!o->state) {
        fprintf (stderr, "wesley status: give --state\n%s", s_usage);
        return S_EXIT_USAGE;
    }
    if (o->json && o->progress == 1) {
        fprintf (stderr, "wesley status: --json and --progress exclude each other\n");
        return S_EXIT_USAGE;
    }
    return -1;
}

/*  One look at the store: opened read-only (no lock, no epoch change),
    read, closed. *state gets the run's state. */
static int
s_frame (const s_opts_t *o, bool bars, FILE *out, wes_run_state_t *state)
{
    char *error = NULL;
    wes_store_t *store = wes_store_open (o->state, true, &error);
    if (!store) {
        fprintf (stderr, "wesley status: %s\n", error ? error : "cannot open the state file");
        free (error);
        return S_EXIT_REFUSED;
    }
    *state = wes_store_run_state (store);
    if (!bars) {
        if (o->json && o->watch) {
            json_t *root = wes_cli_status_json (store);
            char *text = json_dumps (root, JSON_COMPACT | JSON_PRESERVE_ORDER);
            fprintf (out, "%s\n", text ? text : "{}");
            free (text);
            json_decref (root);
        }
        else {
            wes_cli_status_print (store, o->json, out);
        }
    }
    else {
        json_t *root = wes_cli_status_json (store);
        s_draw (root, o, out);
        json_decref (root);
    }
    wes_store_destroy (&store);
    return 0;
}

/*  The progress picture. */
static void
s_draw (json_t *root, const s_opts_t *o, FILE *out)
{
    static const char *phases[4] = {"expand", "backfill", "validate", "contract"};
    fprintf (out, "run %s, epoch %" JSON_INTEGER_FORMAT ", plan %.12s", s_str (root, "run_state"),
             s_int (root, "epoch"), s_str (root, "plan"));
    if (json_is_string (json_object_get (root, "metrics"))
        && strcmp (s_str (root, "run_state"), wes_run_state_name (WES_RUN_RUNNING)) == 0) {
        fprintf (out, ", metrics http://%s/metrics", s_str (root, "metrics"));
    }
    fputc ('\n', out);
    if (json_object_get (root, "error")) {
        fprintf (out, "  %s\n", s_str (root, "error"));
        return;
    }
    json_t *totals = json_object_get (root, "totals");
    json_t *targets = json_object_get (root, "targets");
    json_t *running = json_object_get (root, "running");
    json_t *failures = json_object_get (root, "failures");
    size_t n_t = json_array_size (targets);
    size_t inst = (size_t)s_int (totals, "instances");
    size_t done = (size_t)s_int (totals, wes_step_state_name (WES_SS_SUCCEEDED));
    size_t n_run = json_array_size (running);

    /*  Targets: steps done, and the phase of the earliest unfinished step
        ("failed" when a step of it failed for good). */
    s_target_t *ts = wes_alloc ((n_t + 1) * sizeof *ts);
    size_t i;
    json_t *t;
    json_array_foreach (targets, i, t)
    {
        ts[i].name = s_str (t, "name");
        ts[i].done = (size_t)s_int (t, "done");
        ts[i].total = (size_t)s_int (t, "total");
        ts[i].phase = "done";
        json_t *ph = json_object_get (t, "phases");
        for (int p = 0; p < 4; p++) {
            json_t *jp = json_object_get (ph, phases[p]);
            if (s_int (jp, "done") < s_int (jp, "total")) {
                ts[i].phase = phases[p];
                break;
            }
        }
    }
    json_t *fl;
    size_t k;
    json_array_foreach (failures, k, fl)
    {
        if (strcmp (s_str (fl, "state"), wes_step_state_name (WES_SS_FAILED)) != 0) {
            continue;
        }
        for (size_t j = 0; j < n_t; j++) {
            if (strcmp (ts[j].name, s_str (fl, "target")) == 0) {
                ts[j].phase = "failed";
            }
        }
    }
    qsort (ts, n_t, sizeof *ts, s_cmp_target);
    size_t shown = o->all || n_t <= o->top ? n_t : o->top;
    for (size_t j = 0; j < shown; j++) {
        fprintf (out, "  %-*.*s ", S_NAME_WIDTH, S_NAME_WIDTH, ts[j].name);
        s_bar (out, ts[j].done, ts[j].total, S_BAR_TARGET);
        fprintf (out, " %zu/%zu steps  %s\n", ts[j].done, ts[j].total, ts[j].phase);
    }
    if (shown < n_t) {
        /*  The rest, summed up by phase. */
        size_t by[6] = {0};
        static const char *names[6] = {"expand",   "backfill", "validate",
                                       "contract", "done",     "failed"};
        for (size_t j = shown; j < n_t; j++) {
            for (int p = 0; p < 6; p++) {
                if (strcmp (ts[j].phase, names[p]) == 0) {
                    by[p]++;
                }
            }
        }
        fprintf (out, "  ... %zu more target(s) (--all shows them):", n_t - shown);
        bool first = true;
        for (int p = 0; p < 6; p++) {
            if (by[p]) {
                fprintf (out, "%s %zu %s", first ? "" : ",", by[p], names[p]);
                first = false;
            }
        }
        fputc ('\n', out);
    }
    free (ts);

    /*  Running steps, in store order (target, step). */
    json_t *r;
    json_array_foreach (running, i, r)
    {
        if (i == 0) {
            fprintf (out, "running (%zu):\n", n_run);
        }
        if (i >= o->top && !o->all) {
            fprintf (out, "  ... %zu more\n", n_run - i);
            break;
        }
        fprintf (out, "  %s %s on %s, %.1f s", s_str (r, "target"), s_str (r, "step"),
                 s_str (r, "worker"), (double)s_int (r, "elapsed_ms") / 1000.0);
        if (s_int (r, "rows_done") > 0) {
            fprintf (out, ", %" JSON_INTEGER_FORMAT " rows", s_int (r, "rows_done"));
        }
        fputc ('\n', out);
    }
    json_array_foreach (failures, i, r)
    {
        if (i == 0) {
            fprintf (out, "failures (%zu):\n", json_array_size (failures));
        }
        if (i >= o->top && !o->all) {
            fprintf (out, "  ... %zu more\n", json_array_size (failures) - i);
            break;
        }
        fprintf (out, "  %s %s %s after %" JSON_INTEGER_FORMAT " attempt(s): %s %s\n",
                 s_str (r, "target"), s_str (r, "step"), s_str (r, "state"), s_int (r, "attempts"),
                 s_str (r, "sqlstate")[0] ? s_str (r, "sqlstate") : "-", s_str (r, "message"));
    }

    /*  Overall bar and ETA. The ETA is the mean observed duration of a
        succeeded step instance (first dispatch to success, retries
        included) times the instances left, divided by the current
        parallelism (instances dispatched or running now): remaining work
        spread over as many lanes as are busy. Unknown until
        S_ETA_MIN_SAMPLES instances succeeded, or while nothing runs. */
    fprintf (out, "  %-*s ", S_NAME_WIDTH, "total");
    s_bar (out, done, inst, S_BAR_TOTAL);
    fprintf (out, " %zu/%zu", done, inst);
    const char *rs = s_str (root, "run_state");
    json_t *mean = json_object_get (root, "mean_step_ms");
    if (done == inst) {
        fprintf (out, "  complete\n");
    }
    else if (strcmp (rs, wes_run_state_name (WES_RUN_RUNNING)) != 0) {
        fprintf (out, "  %s\n", rs);
    }
    else if (!json_is_integer (mean) || done < S_ETA_MIN_SAMPLES || n_run == 0) {
        fprintf (out, "  ETA unknown%s\n",
                 n_run == 0 && done >= S_ETA_MIN_SAMPLES ? " (nothing running)"
                                                         : " (too few steps finished)");
    }
    else {
        double eta =
            (double)json_integer_value (mean) * (double)(inst - done) / (double)n_run / 1000.0;
        if (eta < 120) {
            fprintf (out, "  ETA %.0f s\n", eta);
        }
        else if (eta < 7200) {
            fprintf (out, "  ETA %.0f min\n", eta / 60);
        }
        else {
            fprintf (out, "  ETA %.1f h\n", eta / 3600);
        }
    }
}

static void
s_bar (FILE *out, size_t done, size_t total, int width)
{
    int fill = total ? (int)((double)done * width / (double)total) : width;
    if (fill > width) {
        fill = width;
    }
    if (done < total && fill == width) {
        fill = width - 1; /* full only when complete */
    }
    fputc ('[', out);
    for (int i = 0; i < width; i++) {
        fputc (i < fill ? '#' : '.', out);
    }
    fputc (']', out);
}

/*  Least advanced first (fraction done), then by name. */
static int
s_cmp_target (const void *a, const void *b)
{
    const s_target_t *x = a, *y = b;
    double fx = x->total ? (double)x->done / (double)x->total : 1;
    double fy = y->total ? (double)y->done / (double)y->total : 1;
    if (fx != fy) {
        return fx < fy ? -1 : 1;
    }
    return strcmp (x->name, y->name);
}

static json_int_t
s_int (json_t *o, const char *key)
{
    return json_integer_value (json_object_get (o, key));
}

static const char *
s_str (json_t *o, const char *key)
{
    const char *s = json_string_value (json_object_get (o, key));
    return s ? s : "";
}
