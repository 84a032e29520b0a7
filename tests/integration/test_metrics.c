/*  test_metrics.c — the coordinator's Prometheus endpoint and its logs, on a
    real fleet run: 5 databases, `wesley run --metrics 127.0.0.1:0
    --metrics-linger 120` and two wesley-worker processes over tcp loopback.
    The address served is read from the state file (option "metrics") and
    scraped with the real curl binary during the run and after it ended:
    every required family has HELP and TYPE, the step gauges sum to steps x
    targets, workers_connected reaches the two workers started, histograms
    are cumulative with +Inf == _count, and at the end every instance
    succeeded and every target is done. /healthz and /readyz answer 200, an
    unknown path 404, POST 405, a GET with a body 413. SIGTERM ends the
    linger with the run's exit code (0). Then the JSON log lines of the
    coordinator and of a worker are parsed with jansson: time, level, role,
    message on every line; run on every coordinator line; target, step and
    attempt on every line about an attempt, the attempt matching the one
    the message names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coordinator/wes_store.h"
#include "wes_fleetfix.h"
#include "wes_testassert.h"
#include "wes_testutil.h"

#define S_TARGETS 5
#define S_WORKERS 2
#define S_RUN_TIMEOUT_MS 240000
#define S_MAX_SAMPLES 2048

typedef struct {
    char name[128];   /* metric name with suffix */
    char labels[256]; /* label text between the braces, or "" */
    double value;     /* the sample */
} s_sample_t;

typedef struct {
    s_sample_t s[S_MAX_SAMPLES]; /* samples in order */
    size_t n;                    /* how many */
    char help[64][96];           /* families with # HELP */
    size_t n_help;
    char type[64][96]; /* "name type" of # TYPE lines */
    size_t n_type;
} s_scrape_t;

/*  The address the coordinator serves metrics on, from its state file. */
static bool
s_metrics_address (wes_fleetfix_t *f, char *out, size_t size, int timeout_ms)
{
    int64_t until = wes_test_now_ms () + timeout_ms;
    while (wes_test_now_ms () < until) {
        wes_store_t *st = wes_store_open (wes_fleetfix_state (f), true, NULL);
        if (st) {
            const char *v = wes_store_get_option (st, "metrics");
            bool ok = v && v[0];
            if (ok) {
                snprintf (out, size, "%s", v);
            }
            wes_store_destroy (&st);
            if (ok) {
                return true;
            }
        }
        wes_test_sleep_ms (50);
    }
    return false;
}

/*  curl ARGS; returns its stdout (caller frees) and exit status. */
static char *
s_curl (const char *args, int *rc)
{
    char cmd[1024];
    snprintf (cmd, sizeof cmd, "curl -sS --max-time 10 %s 2>/dev/null", args);
    char *out = NULL;
    *rc = wes_test_run (cmd, &out);
    return out;
}

static int
s_status_code (const char *addr, const char *extra, const char *path)
{
    char args[512];
    snprintf (args, sizeof args, "-o /dev/null -w '%%{http_code}' %s 'http://%s%s'", extra, addr,
              path);
    int rc = -1;
    char *out = s_curl (args, &rc);
    int code = rc == 0 && out ? atoi (out) : -1;
    free (out);
    return code;
}

/*  Parses the exposition text; fails the test on a line it cannot read. */
static void
s_parse (const char *text, s_scrape_t *sc)
{
    memset (sc, 0, sizeof *sc);
    char *copy = strdup (text);
    char *save = NULL;
    for (char *line = strtok_r (copy, "\n", &save); line; line = strtok_r (NULL, "\n", &save)) {
        if (strncmp (line, "# HELP ", 7) == 0) {
            assert_true (sc->n_help < 64);
            sscanf (line + 7, "%95s", sc->help[sc->n_help++]);
            continue;
        }
        if (strncmp (line, "# TYPE ", 7) == 0) {
            assert_true (sc->n_type < 64);
            snprintf (sc->type[sc->n_type++], sizeof sc->type[0], "%s", line + 7);
            continue;
        }
        assert_true (line[0] != '#');
        assert_true (sc->n < S_MAX_SAMPLES);
        s_sample_t *s = &sc->s[sc->n++];
        const char *brace = strchr (line, '{');
        const char *space = strrchr (line, ' ');
        if (!space) {
            fail_msg ("exposition line without a value: %s", line);
        }
        if (brace && brace < space) {
            const char *close = strrchr (line, '}');
            assert_non_null (close);
            snprintf (s->name, sizeof s->name, "%.*s", (int)(brace - line), line);
            snprintf (s->labels, sizeof s->labels, "%.*s", (int)(close - brace - 1), brace + 1);
        }
        else {
            snprintf (s->name, sizeof s->name, "%.*s", (int)(space - line), line);
        }
        char *end = NULL;
        const char *v = space + 1;
        s->value = strcmp (v, "+Inf") == 0 ? INFINITY : strtod (v, &end);
        if (strcmp (v, "+Inf") != 0 && (!end || *end)) {
            fail_msg ("exposition value does not parse: %s", line);
        }
    }
    free (copy);
}

static bool
s_find (const s_scrape_t *sc, const char *name, const char *labels, double *value)
{
    for (size_t i = 0; i < sc->n; i++) {
        if (strcmp (sc->s[i].name, name) == 0
            && strcmp (sc->s[i].labels, labels ? labels : "") == 0) {
            *value = sc->s[i].value;
            return true;
        }
    }
    return false;
}

static double
s_get (const s_scrape_t *sc, const char *name, const char *labels)
{
    double v = 0;
    if (!s_find (sc, name, labels, &v)) {
        fail_msg ("no sample %s{%s}", name, labels ? labels : "");
    }
    return v;
}

static void
s_family (const s_scrape_t *sc, const char *name, const char *type)
{
    bool help = false, typed = false;
    char want[128];
    snprintf (want, sizeof want, "%s %s", name, type);
    for (size_t i = 0; i < sc->n_help; i++) {
        help = help || strcmp (sc->help[i], name) == 0;
    }
    for (size_t i = 0; i < sc->n_type; i++) {
        typed = typed || strcmp (sc->type[i], want) == 0;
    }
    if (!help || !typed) {
        fail_msg ("family %s lacks # HELP or # TYPE %s", name, type);
    }
}

/*  Every bucket series of a histogram (one label set prefix, e.g.
    `kind="tx",` or "") is non-decreasing and ends in +Inf == _count. */
static void
s_histogram (const s_scrape_t *sc, const char *name, const char *label)
{
    char bucket[160], want[300];
    snprintf (bucket, sizeof bucket, "%s_bucket", name);
    double last = -1;
    size_t n = 0;
    for (size_t i = 0; i < sc->n; i++) {
        const s_sample_t *s = &sc->s[i];
        if (strcmp (s->name, bucket) != 0 || strncmp (s->labels, label, strlen (label)) != 0) {
            continue;
        }
        assert_true (s->value >= last);
        last = s->value;
        n++;
    }
    assert_true (n >= 2);
    snprintf (want, sizeof want, "%sle=\"+Inf\"", label);
    double inf = s_get (sc, bucket, want);
    assert_true (inf == last);
    char count[160], labels[200];
    snprintf (count, sizeof count, "%s_count", name);
    snprintf (labels, sizeof labels, "%.*s", (int)(strlen (label) ? strlen (label) - 1 : 0), label);
    assert_true (s_get (sc, count, labels) == inf);
    snprintf (count, sizeof count, "%s_sum", name);
    assert_true (s_get (sc, count, labels) >= 0);
}

static const char *s_states[] = {"pending",   "ready",      "dispatched", "running",
                                 "succeeded", "retry_wait", "failed",     "unknown"};
static const char *s_phases[] = {"expand", "backfill", "validate", "contract", "done", "failed"};

static char *
s_scrape (const char *addr, s_scrape_t *sc)
{
    char args[300];
    snprintf (args, sizeof args, "'http://%s/metrics'", addr);
    int rc = -1;
    char *text = s_curl (args, &rc);
    assert_int_equal (rc, 0);
    assert_non_null (text);
    s_parse (text, sc);
    return text;
}

/*  The checks that hold at any moment of the run. */
static void
s_check_scrape (const s_scrape_t *sc, size_t n_inst)
{
    s_family (sc, "wesley_up", "gauge");
    s_family (sc, "wesley_run_info", "gauge");
    s_family (sc, "process_start_time_seconds", "gauge");
    s_family (sc, "wesley_steps", "gauge");
    s_family (sc, "wesley_targets", "gauge");
    s_family (sc, "wesley_workers_connected", "gauge");
    s_family (sc, "wesley_workers_busy", "gauge");
    s_family (sc, "wesley_step_duration_seconds", "histogram");
    s_family (sc, "wesley_step_retries_total", "counter");
    s_family (sc, "wesley_dispatch_latency_seconds", "histogram");
    s_family (sc, "wesley_checkpoint_write_seconds", "histogram");
    assert_true (s_get (sc, "wesley_up", NULL) == 1);
    assert_true (s_get (sc, "process_start_time_seconds", NULL) > 1.7e9);
    double sum = 0, t_sum = 0;
    char lab[64];
    for (int s = 0; s < 8; s++) {
        snprintf (lab, sizeof lab, "state=\"%s\"", s_states[s]);
        sum += s_get (sc, "wesley_steps", lab);
    }
    assert_true (sum == (double)n_inst);
    for (int p = 0; p < 6; p++) {
        snprintf (lab, sizeof lab, "phase=\"%s\"", s_phases[p]);
        t_sum += s_get (sc, "wesley_targets", lab);
    }
    assert_true (t_sum == S_TARGETS);
    assert_true (s_get (sc, "wesley_workers_busy", NULL)
                 <= s_get (sc, "wesley_workers_connected", NULL));
    s_histogram (sc, "wesley_step_duration_seconds", "kind=\"tx\",");
    s_histogram (sc, "wesley_step_duration_seconds", "kind=\"nontx\",");
    s_histogram (sc, "wesley_step_duration_seconds", "kind=\"batched\",");
    s_histogram (sc, "wesley_dispatch_latency_seconds", "");
    s_histogram (sc, "wesley_checkpoint_write_seconds", "");
}

static size_t
s_plan_steps (wes_fleetfix_t *f)
{
    char path[600];
    snprintf (path, sizeof path, "%s/plan.json", wes_fleetfix_dir (f));
    json_t *doc = json_load_file (path, 0, NULL);
    size_t n = json_array_size (json_object_get (doc, "steps"));
    json_decref (doc);
    return n;
}

/*  "attempt e1-23" in a message: the id it names, else "". */
static void
s_named_attempt (const char *msg, char *out, size_t size)
{
    out[0] = '\0';
    for (const char *p = msg; (p = strstr (p, "attempt ")); p++) {
        const char *id = p + 8;
        size_t n = strspn (id, "e0123456789-");
        if (n >= 4 && id[0] == 'e' && memchr (id, '-', n)) {
            snprintf (out, size, "%.*s", (int)n, id);
            return;
        }
    }
}

/*  Every JSON line of a log: the fixed fields, and the context of lines
    about an attempt. Returns how many lines named an attempt. */
static size_t
s_check_log (const char *path, const char *role, bool want_run, size_t *json_lines)
{
    char *text = wes_test_read_file (path, NULL);
    assert_non_null (text);
    size_t named = 0;
    *json_lines = 0;
    char *save = NULL;
    for (char *line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save)) {
        if (line[0] != '{') {
            /*  The coordinator's stdout (progress, final status) shares
                the file; the worker writes nothing but logs. */
            assert_true (strcmp (role, "wesley") == 0);
            continue;
        }
        json_error_t jerr;
        json_t *o = json_loads (line, 0, &jerr);
        if (!o) {
            fail_msg ("%s: a log line is not JSON (%s): %s", path, jerr.text, line);
        }
        (*json_lines)++;
        const char *ts = json_string_value (json_object_get (o, "time"));
        const char *level = json_string_value (json_object_get (o, "level"));
        const char *r = json_string_value (json_object_get (o, "role"));
        const char *msg = json_string_value (json_object_get (o, "message"));
        assert_non_null (ts);
        assert_true (strlen (ts) == 24 && ts[4] == '-' && ts[10] == 'T' && ts[23] == 'Z');
        assert_non_null (level);
        assert_true (strcmp (level, "debug") == 0 || strcmp (level, "info") == 0
                     || strcmp (level, "warn") == 0 || strcmp (level, "error") == 0);
        assert_non_null (r);
        assert_string_equal (r, role);
        assert_non_null (msg);
        if (want_run && !json_is_string (json_object_get (o, "run"))) {
            fail_msg ("%s: a coordinator line without run: %s", path, line);
        }
        char aid[64];
        s_named_attempt (msg, aid, sizeof aid);
        const char *att = json_string_value (json_object_get (o, "attempt"));
        if (aid[0]) {
            named++;
            if (!att || strcmp (att, aid) != 0) {
                fail_msg ("%s: a line about attempt %s carries attempt %s: %s", path, aid,
                          att ? att : "(none)", line);
            }
        }
        if (strstr (msg, "dispatched attempt") || strstr (msg, "assigned attempt")
            || (att && strstr (msg, "succeeded ("))) {
            if (!json_is_string (json_object_get (o, "target"))
                || !json_is_string (json_object_get (o, "step")) || !att
                || !json_is_string (json_object_get (o, "run"))) {
                fail_msg ("%s: an attempt's line without run, target, step or attempt: %s", path,
                          line);
            }
        }
        json_decref (o);
    }
    free (text);
    return named;
}

static void
test_metrics_fleet (void **state)
{
    wes_fleetfix_t *f = wes_fleetfix_new (S_TARGETS, 3000, NULL);
    assert_non_null (f);
    *state = f;
    size_t n_steps = s_plan_steps (f);
    assert_true (n_steps > 0);
    size_t n_inst = n_steps * S_TARGETS;
    int coord = wes_fleetfix_start_coord (
        f, false, "--heartbeat-ms 250 --metrics 127.0.0.1:0 --metrics-linger 120");
    assert_true (coord > 0);
    char addr[128];
    assert_true (s_metrics_address (f, addr, sizeof addr, 30000));
    assert_non_null (wes_fleetfix_endpoint (f, 30000));

    /*  Before any worker: every instance accounted for, nobody connected. */
    s_scrape_t *sc = calloc (1, sizeof *sc);
    char *text = s_scrape (addr, sc);
    s_check_scrape (sc, n_inst);
    assert_true (s_get (sc, "wesley_workers_connected", NULL) == 0);
    free (text);
    assert_int_equal (s_status_code (addr, "", "/healthz"), 200);
    assert_int_equal (s_status_code (addr, "", "/readyz"), 200);

    for (int k = 0; k < S_WORKERS; k++) {
        assert_true (wes_fleetfix_start_worker (f, k, NULL) > 0);
    }
    /*  During the run: both workers show up, the gauges still add up. */
    int64_t until = wes_test_now_ms () + 60000;
    bool seen = false;
    int scrapes_running = 0;
    while (wes_test_now_ms () < until) {
        text = s_scrape (addr, sc);
        s_check_scrape (sc, n_inst);
        double run = s_get (sc, "wesley_run_state", "state=\"running\"");
        scrapes_running += run == 1;
        free (text);
        if (s_get (sc, "wesley_workers_connected", NULL) == S_WORKERS) {
            seen = true;
            break;
        }
        wes_test_sleep_ms (100);
    }
    if (!seen) {
        fail_msg ("wesley_workers_connected never reached %d", S_WORKERS);
    }
    assert_true (scrapes_running > 0);
    assert_int_equal (s_status_code (addr, "", "/healthz"), 200);
    assert_int_equal (s_status_code (addr, "", "/readyz"), 200);
    assert_int_equal (s_status_code (addr, "", "/nope"), 404);
    assert_int_equal (s_status_code (addr, "", "/metrics/x"), 404);
    assert_int_equal (s_status_code (addr, "-X POST", "/metrics"), 405);
    assert_int_equal (s_status_code (addr, "-X DELETE", "/healthz"), 405);
    assert_int_equal (s_status_code (addr, "-X GET --data-binary hello", "/metrics"), 413);
    assert_int_equal (s_status_code (addr, "-I", "/metrics"), 200);
    int rc = -1;
    char args[300];
    snprintf (args, sizeof args, "-o /dev/null -w '%%{content_type}' 'http://%s/metrics'", addr);
    char *ctype = s_curl (args, &rc);
    assert_int_equal (rc, 0);
    assert_string_equal (ctype, "text/plain; version=0.0.4; charset=utf-8");
    free (ctype);

    /*  The end: the final numbers while the coordinator lingers. */
    until = wes_test_now_ms () + S_RUN_TIMEOUT_MS;
    bool finished = false;
    while (!finished && wes_test_now_ms () < until) {
        text = s_scrape (addr, sc);
        s_check_scrape (sc, n_inst);
        finished = s_get (sc, "wesley_run_state", "state=\"finished\"") == 1;
        free (text);
        if (!finished) {
            wes_test_sleep_ms (200);
        }
    }
    if (!finished) {
        wes_fleetfix_dump_log (f);
        fail_msg ("the run did not finish in time");
    }
    text = s_scrape (addr, sc);
    s_check_scrape (sc, n_inst);
    assert_true (s_get (sc, "wesley_steps", "state=\"succeeded\"") == (double)n_inst);
    assert_true (s_get (sc, "wesley_targets", "phase=\"done\"") == S_TARGETS);
    double results = s_get (sc, "wesley_step_duration_seconds_count", "kind=\"tx\"")
                     + s_get (sc, "wesley_step_duration_seconds_count", "kind=\"nontx\"")
                     + s_get (sc, "wesley_step_duration_seconds_count", "kind=\"batched\"");
    assert_true (results >= (double)n_inst);
    assert_true (s_get (sc, "wesley_step_duration_seconds_count", "kind=\"nontx\"") >= S_TARGETS);
    assert_true (s_get (sc, "wesley_step_duration_seconds_count", "kind=\"batched\"") >= S_TARGETS);
    assert_true (s_get (sc, "wesley_dispatch_latency_seconds_count", NULL) >= (double)n_inst);
    assert_true (s_get (sc, "wesley_checkpoint_write_seconds_count", NULL) > 0);
    assert_true (strstr (text, "wesley_run_info{run=\"") != NULL);
    assert_true (strstr (text, "epoch=\"1\"} 1\n") != NULL);
    free (text);
    assert_int_equal (s_status_code (addr, "", "/healthz"), 200);
    assert_int_equal (s_status_code (addr, "", "/readyz"), 200);

    /*  SIGTERM ends the linger; the exit code is the run's. */
    kill (coord, SIGTERM);
    rc = wes_test_wait (coord, 30000);
    assert_int_equal (rc, 0);
    assert_int_equal (wes_fleetfix_run_state (f), WES_RUN_FINISHED);
    assert_int_equal (wes_fleetfix_check (f), 0);
    int code = s_status_code (addr, "--connect-timeout 2", "/metrics");
    assert_true (code != 200);

    /*  Logs: JSON lines with their context. */
    size_t coord_lines = 0, worker_lines = 0;
    size_t named = s_check_log (wes_fleetfix_coord_log (f), "wesley", true, &coord_lines);
    assert_true (named >= n_inst); /* at least a dispatch line per instance */
    assert_true (coord_lines > n_inst);
    char wlog[600];
    size_t wnamed = 0;
    for (int k = 0; k < S_WORKERS; k++) {
        size_t lines = 0;
        snprintf (wlog, sizeof wlog, "%s/worker%d.log", wes_fleetfix_dir (f), k);
        wnamed += s_check_log (wlog, "worker", false, &lines);
        worker_lines += lines;
    }
    assert_true (wnamed >= n_inst);
    assert_true (worker_lines > n_inst);
    free (sc);
}

/*  A bad --metrics is a usage error (2) before anything is created. */
static void
test_metrics_flags (void **state)
{
    (void)state;
    char *dir = wes_test_tmpdir ("metrics-flags");
    const char *bad[] = {"nope", "127.0.0.1:99999", "::1:80", "127.0.0.1:", "1.2.3.4:8x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char cmd[1200];
        snprintf (cmd, sizeof cmd,
                  "'%s' run --plan x.json --targets t.txt --state '%s/s.db' --metrics '%s'",
                  WES_WESLEY_BIN, dir, bad[i]);
        wes_test_expect (cmd, 2, "--metrics");
    }
    char cmd[600];
    snprintf (cmd, sizeof cmd, "'%s' run --help", WES_WESLEY_BIN);
    char *out = NULL;
    out = wes_test_expect_output (cmd, 0, "--metrics ADDRESS");
    wes_test_has (out, "--metrics-linger SECONDS");
    free (out);
    wes_test_rmtree (dir);
    free (dir);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_metrics_flags),
        cmocka_unit_test_teardown (test_metrics_fleet, wes_fleetfix_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
