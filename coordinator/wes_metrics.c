/*  wes_metrics.c — Prometheus registry and its HTTP server (see
    wes_metrics.h). The server is libmicrohttpd with its internal polling
    thread; the registry is plain numbers behind one mutex. */
#include "wes_metrics.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "util/wes_buf.h"
#include "util/wes_log.h"

#define S_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define S_KINDS 3

/*  Buckets (seconds, upper bounds; +Inf implied). Steps: 10 ms .. 1 h. */
static const double s_step_buckets[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,    2.5, 5,
                                        10,   30,    60,   120, 300,  600, 1800, 3600};
/*  Dispatch: 0.5 ms (a free worker) .. 10 min (queued behind limits). */
static const double s_dispatch_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                            0.05,   0.1,   0.25,   0.5,   1,    2.5,
                                            5,      10,    30,     60,    300,  600};
/*  Checkpoint commits: 0.1 ms (page cache) .. 5 s (a stalled disk). */
static const double s_commit_buckets[] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
#define S_MAX_BUCKETS 24

static const char *s_phase_labels[WES_MPHASE_COUNT] = {"expand",   "backfill", "validate",
                                                       "contract", "done",     "failed"};
static const char *s_run_states[] = {"running", "cancelled", "stopped", "finished", "failed"};

/*  One histogram: per-bucket counts (rendered cumulatively). */
typedef struct {
    const double *bounds;           /* upper bounds, ascending */
    size_t n_bounds;                /* how many */
    uint64_t counts[S_MAX_BUCKETS]; /* observations <= bounds[i] and > bounds[i-1] */
    uint64_t inf;                   /* observations above the last bound */
    uint64_t count;                 /* all observations */
    double sum;                     /* their sum */
} s_hist_t;

/*  One SQLSTATE's retries. */
typedef struct {
    char code[8];   /* five characters, "none" or "other" */
    uint64_t count; /* retries */
} s_retry_t;

struct wes_metrics {
    pthread_mutex_t lock;        /* guards everything below but daemon/address */
    char *run;                   /* run label */
    uint64_t epoch;              /* run epoch */
    int64_t stale_ms;            /* healthz window */
    double start_time;           /* unix seconds at creation */
    wes_metrics_gauges_t gauges; /* last copy from the loop */
    bool ready;                  /* readyz */
    int64_t last_tick_ms;        /* loop's last tick, monotonic; 0 never */
    s_hist_t step[S_KINDS];      /* step durations by kind */
    s_hist_t dispatch;           /* ready -> ASSIGN sent */
    s_hist_t commit;             /* store commit latency */
    s_retry_t retries[WES_METRICS_MAX_SQLSTATES + 2]; /* + none, other */
    size_t n_retries;                                 /* used */
    uint64_t scrapes;                                 /* /metrics requests served */
    struct MHD_Daemon *daemon;                        /* the server, or NULL */
    char *address;                                    /* served HOST:PORT, or NULL */
};

static void s_hist_init (s_hist_t *h, const double *bounds, size_t n);
static void s_hist_observe (s_hist_t *h, double v);
static void s_render_hist (wes_buf_t *b, const char *name, const char *label, const char *value,
                           const s_hist_t *h);
static void s_escape_label (wes_buf_t *b, const char *s);
static void s_fmt_double (char *out, size_t size, double v);
static int64_t s_mono_ms (void);
static enum MHD_Result s_handler (void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls);
static void s_mhd_log (void *cls, const char *fmt, va_list ap);

wes_metrics_t *
wes_metrics_new (const char *run, uint64_t epoch, int64_t stale_ms)
{
    wes_metrics_t *self = wes_new (wes_metrics_t);
    if (pthread_mutex_init (&self->lock, NULL) != 0) {
        free (self);
        return NULL;
    }
    self->run = wes_strdup (run ? run : "");
    self->epoch = epoch;
    self->stale_ms = stale_ms > 0 ? stale_ms : 3000;
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    self->start_time = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    self->gauges.run_state = WES_RUN_RUNNING;
    size_t ns = sizeof s_step_buckets / sizeof s_step_buckets[0];
    for (int k = 0; k < S_KINDS; k++) {
        s_hist_init (&self->step[k], s_step_buckets, ns);
    }
    s_hist_init (&self->dispatch, s_dispatch_buckets,
                 sizeof s_dispatch_buckets / sizeof s_dispatch_buckets[0]);
    s_hist_init (&self->commit, s_commit_buckets,
                 sizeof s_commit_buckets / sizeof s_commit_buckets[0]);
    return self;
}

void
wes_metrics_destroy (wes_metrics_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wes_metrics_t *self = *self_p;
    if (self->daemon) {
        MHD_stop_daemon (self->daemon); /* joins the server thread */
    }
    pthread_mutex_destroy (&self->lock);
    free (self->address);
    free (self->run);
    free (self);
    *self_p = NULL;
}

int
wes_metrics_parse_address (const char *address, char *host, size_t host_size, uint16_t *port)
{
    if (!address || !host || host_size == 0) {
        return -1;
    }
    const char *colon = strrchr (address, ':');
    if (!colon || !colon[1] || strlen (colon + 1) > 5) {
        return -1;
    }
    const char *h = address;
    size_t hn = (size_t)(colon - address);
    if (hn >= 2 && h[0] == '[' && h[hn - 1] == ']') {
        h++;
        hn -= 2;
    }
    else if (memchr (h, ':', hn) || memchr (h, '[', hn) || memchr (h, ']', hn)) {
        return -1; /* a bare IPv6 address needs brackets */
    }
    if (hn >= host_size) {
        return -1;
    }
    unsigned long p = 0;
    for (const char *c = colon + 1; *c; c++) {
        if (*c < '0' || *c > '9') {
            return -1;
        }
        p = p * 10 + (unsigned long)(*c - '0');
    }
    if (p > 65535) {
        return -1;
    }
    memcpy (host, h, hn);
    host[hn] = '\0';
    *port = (uint16_t)p;
    return 0;
}

int
wes_metrics_listen (wes_metrics_t *self, const char *address, char **error)
{
    char host[256], tmp[512];
    uint16_t port = 0;
    if (self->daemon) {
        *error = wes_strdup ("the metrics server is already listening");
        return -1;
    }
    if (wes_metrics_parse_address (address, host, sizeof host, &port) != 0) {
        snprintf (tmp, sizeof tmp, "--metrics: '%s' is not HOST:PORT, :PORT or [V6]:PORT",
                  address ? address : "");
        *error = wes_strdup (tmp);
        return -1;
    }
    struct addrinfo hints, *res = NULL;
    memset (&hints, 0, sizeof hints);
    hints.ai_family = host[0] ? AF_UNSPEC : AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char service[8];
    snprintf (service, sizeof service, "%u", (unsigned)port);
    int gai = getaddrinfo (host[0] ? host : NULL, service, &hints, &res);
    if (gai != 0 || !res) {
        snprintf (tmp, sizeof tmp, "--metrics: cannot resolve '%s': %s", host, gai_strerror (gai));
        *error = wes_strdup (tmp);
        return -1;
    }
    struct sockaddr_storage sa;
    memset (&sa, 0, sizeof sa);
    memcpy (&sa, res->ai_addr, res->ai_addrlen);
    bool v6 = res->ai_family == AF_INET6;
    freeaddrinfo (res);
    unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    if (v6) {
        flags |= MHD_USE_IPv6;
    }
    /*  The logger must be the first option, or MHD warns on stderr. */
    self->daemon = MHD_start_daemon (
        flags, port, NULL, NULL, s_handler, self, MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, self,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)WES_METRICS_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)WES_METRICS_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)WES_METRICS_CONN_MEMORY, MHD_OPTION_END);
    if (!self->daemon) {
        snprintf (tmp, sizeof tmp, "--metrics: cannot listen on %s (address in use or not ours)",
                  address);
        *error = wes_strdup (tmp);
        return -1;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_BIND_PORT);
    unsigned bound = info ? info->port : port;
    char text[300];
    char shown[INET6_ADDRSTRLEN] = "0.0.0.0";
    if (v6) {
        inet_ntop (AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr, shown, sizeof shown);
        snprintf (text, sizeof text, "[%s]:%u", shown, bound);
    }
    else {
        inet_ntop (AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, shown, sizeof shown);
        snprintf (text, sizeof text, "%s:%u", shown, bound);
    }
    self->address = wes_strdup (text);
    return 0;
}

const char *
wes_metrics_address (const wes_metrics_t *self)
{
    return self->address;
}

void
wes_metrics_set_gauges (wes_metrics_t *self, const wes_metrics_gauges_t *gauges)
{
    pthread_mutex_lock (&self->lock);
    self->gauges = *gauges;
    pthread_mutex_unlock (&self->lock);
}

void
wes_metrics_set_ready (wes_metrics_t *self, bool ready)
{
    pthread_mutex_lock (&self->lock);
    self->ready = ready;
    pthread_mutex_unlock (&self->lock);
}

void
wes_metrics_tick (wes_metrics_t *self, int64_t mono_ms)
{
    pthread_mutex_lock (&self->lock);
    self->last_tick_ms = mono_ms;
    pthread_mutex_unlock (&self->lock);
}

void
wes_metrics_step_duration (wes_metrics_t *self, wes_step_kind_t kind, double seconds)
{
    if ((int)kind < 0 || (int)kind >= S_KINDS) {
        return;
    }
    pthread_mutex_lock (&self->lock);
    s_hist_observe (&self->step[kind], seconds);
    pthread_mutex_unlock (&self->lock);
}

void
wes_metrics_retry (wes_metrics_t *self, const char *sqlstate)
{
    char code[8];
    bool ok = sqlstate && strlen (sqlstate) == 5;
    for (int i = 0; ok && i < 5; i++) {
        char c = sqlstate[i];
        ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
    }
    snprintf (code, sizeof code, "%s",
              ok                            ? sqlstate
              : (!sqlstate || !sqlstate[0]) ? "none"
                                            : "other");
    pthread_mutex_lock (&self->lock);
    size_t i = 0;
    while (i < self->n_retries && strcmp (self->retries[i].code, code) != 0) {
        i++;
    }
    if (i == self->n_retries && ok && self->n_retries >= WES_METRICS_MAX_SQLSTATES) {
        snprintf (code, sizeof code, "other");
        for (i = 0; i < self->n_retries && strcmp (self->retries[i].code, code) != 0; i++) {
        }
    }
    if (i == self->n_retries) {
        wes_assert (self->n_retries < WES_METRICS_MAX_SQLSTATES + 2);
        snprintf (self->retries[i].code, sizeof self->retries[i].code, "%s", code);
        self->n_retries++;
    }
    self->retries[i].count++;
    pthread_mutex_unlock (&self->lock);
}

void
wes_metrics_dispatch_latency (wes_metrics_t *self, double seconds)
{
    pthread_mutex_lock (&self->lock);
    s_hist_observe (&self->dispatch, seconds);
    pthread_mutex_unlock (&self->lock);
}

void
wes_metrics_checkpoint_write (wes_metrics_t *self, double seconds)
{
    pthread_mutex_lock (&self->lock);
    s_hist_observe (&self->commit, seconds);
    pthread_mutex_unlock (&self->lock);
}

bool
wes_metrics_healthy (wes_metrics_t *self, int64_t mono_ms)
{
    pthread_mutex_lock (&self->lock);
    bool ok = self->last_tick_ms > 0 && mono_ms - self->last_tick_ms <= self->stale_ms;
    pthread_mutex_unlock (&self->lock);
    return ok;
}

char *
wes_metrics_render (wes_metrics_t *self)
{
    wes_buf_t *b = wes_buf_new ();
    char num[64];
    pthread_mutex_lock (&self->lock);
    self->scrapes++;
    wes_buf_puts (b, "# HELP wesley_up 1 while the coordinator serves metrics.\n"
                     "# TYPE wesley_up gauge\nwesley_up 1\n");
    wes_buf_puts (b,
                  "# HELP wesley_run_info The run this coordinator drives (plan hash "
                  "prefix) and its epoch.\n# TYPE wesley_run_info gauge\nwesley_run_info{run=\"");
    s_escape_label (b, self->run);
    wes_buf_printf (b, "\",epoch=\"%llu\"} 1\n", (unsigned long long)self->epoch);
    s_fmt_double (num, sizeof num, self->start_time);
    wes_buf_printf (b,
                    "# HELP process_start_time_seconds Start time of the coordinator since the "
                    "Unix epoch in seconds.\n# TYPE process_start_time_seconds gauge\n"
                    "process_start_time_seconds %s\n",
                    num);
    wes_buf_puts (b, "# HELP wesley_run_state 1 for the run's current state.\n"
                     "# TYPE wesley_run_state gauge\n");
    for (int s = 0; s < 5; s++) {
        wes_buf_printf (b, "wesley_run_state{state=\"%s\"} %d\n", s_run_states[s],
                        (int)self->gauges.run_state == s ? 1 : 0);
    }
    wes_buf_puts (b, "# HELP wesley_steps Step instances (target x plan step) by state.\n"
                     "# TYPE wesley_steps gauge\n");
    for (int s = 0; s < 8; s++) {
        /*  The store's names use a dash (retry-wait); label values here
            use the exposition's usual underscore. */
        char label[32];
        snprintf (label, sizeof label, "%s", wes_step_state_name ((wes_step_state_t)s));
        for (char *c = label; *c; c++) {
            *c = *c == '-' ? '_' : *c;
        }
        wes_buf_printf (b, "wesley_steps{state=\"%s\"} %zu\n", label, self->gauges.steps[s]);
    }
    wes_buf_puts (b, "# HELP wesley_targets Targets by phase of their earliest unfinished step "
                     "(done: all succeeded; failed: a step failed permanently).\n"
                     "# TYPE wesley_targets gauge\n");
    for (int p = 0; p < WES_MPHASE_COUNT; p++) {
        wes_buf_printf (b, "wesley_targets{phase=\"%s\"} %zu\n", s_phase_labels[p],
                        self->gauges.targets[p]);
    }
    wes_buf_printf (b,
                    "# HELP wesley_workers_connected Workers registered with the coordinator.\n"
                    "# TYPE wesley_workers_connected gauge\nwesley_workers_connected %zu\n"
                    "# HELP wesley_workers_busy Registered workers holding an attempt.\n"
                    "# TYPE wesley_workers_busy gauge\nwesley_workers_busy %zu\n",
                    self->gauges.workers_connected, self->gauges.workers_busy);
    wes_buf_puts (b, "# HELP wesley_step_duration_seconds Step attempt durations reported by "
                     "workers (RESULT timings), by step kind.\n"
                     "# TYPE wesley_step_duration_seconds histogram\n");
    for (int k = 0; k < S_KINDS; k++) {
        s_render_hist (b, "wesley_step_duration_seconds", "kind",
                       wes_step_kind_name ((wes_step_kind_t)k), &self->step[k]);
    }
    wes_buf_puts (b, "# HELP wesley_step_retries_total Retryable step failures that were "
                     "retried, by SQLSTATE.\n# TYPE wesley_step_retries_total counter\n");
    for (size_t i = 0; i < self->n_retries; i++) {
        wes_buf_puts (b, "wesley_step_retries_total{sqlstate=\"");
        s_escape_label (b, self->retries[i].code);
        wes_buf_printf (b, "\"} %llu\n", (unsigned long long)self->retries[i].count);
    }
    wes_buf_puts (b, "# HELP wesley_dispatch_latency_seconds From a step instance becoming ready "
                     "to its ASSIGN being sent.\n"
                     "# TYPE wesley_dispatch_latency_seconds histogram\n");
    s_render_hist (b, "wesley_dispatch_latency_seconds", NULL, NULL, &self->dispatch);
    wes_buf_puts (b, "# HELP wesley_checkpoint_write_seconds Checkpoint store transaction "
                     "commit latency.\n# TYPE wesley_checkpoint_write_seconds histogram\n");
    s_render_hist (b, "wesley_checkpoint_write_seconds", NULL, NULL, &self->commit);
    wes_buf_printf (b,
                    "# HELP wesley_metrics_scrapes_total Requests for /metrics served.\n"
                    "# TYPE wesley_metrics_scrapes_total counter\n"
                    "wesley_metrics_scrapes_total %llu\n",
                    (unsigned long long)self->scrapes);
    pthread_mutex_unlock (&self->lock);
    char *text = wes_buf_steal (b);
    wes_buf_destroy (&b);
    return text;
}

/* ---------------------------------------------------------------- helpers */

static void
s_hist_init (s_hist_t *h, const double *bounds, size_t n)
{
    wes_assert (n <= S_MAX_BUCKETS);
    memset (h, 0, sizeof *h);
    h->bounds = bounds;
    h->n_bounds = n;
}

static void
s_hist_observe (s_hist_t *h, double v)
{
    if (!(v >= 0)) {
        v = 0; /* NaN or a clock step back */
    }
    size_t i = 0;
    while (i < h->n_bounds && v > h->bounds[i]) {
        i++;
    }
    if (i < h->n_bounds) {
        h->counts[i]++;
    }
    else {
        h->inf++;
    }
    h->count++;
    h->sum += v;
}

static void
s_render_hist (wes_buf_t *b, const char *name, const char *label, const char *value,
               const s_hist_t *h)
{
    char prefix[128] = "";
    if (label) {
        snprintf (prefix, sizeof prefix, "%s=\"%s\",", label, value);
    }
    uint64_t cum = 0;
    char num[64];
    for (size_t i = 0; i < h->n_bounds; i++) {
        cum += h->counts[i];
        s_fmt_double (num, sizeof num, h->bounds[i]);
        wes_buf_printf (b, "%s_bucket{%sle=\"%s\"} %llu\n", name, prefix, num,
                        (unsigned long long)cum);
    }
    cum += h->inf;
    wes_buf_printf (b, "%s_bucket{%sle=\"+Inf\"} %llu\n", name, prefix, (unsigned long long)cum);
    s_fmt_double (num, sizeof num, h->sum);
    if (label) {
        prefix[strlen (prefix) - 1] = '\0'; /* no trailing comma */
        wes_buf_printf (b, "%s_sum{%s} %s\n%s_count{%s} %llu\n", name, prefix, num, name, prefix,
                        (unsigned long long)h->count);
    }
    else {
        wes_buf_printf (b, "%s_sum %s\n%s_count %llu\n", name, num, name,
                        (unsigned long long)h->count);
    }
}

/*  Label values: backslash, double quote and line feed are escaped as
    \\, \" and \n (text format 0.0.4). */
static void
s_escape_label (wes_buf_t *b, const char *s)
{
    for (const char *c = s; *c; c++) {
        if (*c == '\\') {
            wes_buf_puts (b, "\\\\");
        }
        else if (*c == '"') {
            wes_buf_puts (b, "\\\"");
        }
        else if (*c == '\n') {
            wes_buf_puts (b, "\\n");
        }
        else {
            wes_buf_append (b, c, 1);
        }
    }
}

/*  Shortest text that reads back as v ("0.025", "3600", "1795618270.43"). */
static void
s_fmt_double (char *out, size_t size, double v)
{
    if (v > -1e15 && v < 1e15 && v == (double)(long long)v) {
        snprintf (out, size, "%lld", (long long)v); /* 3600, not 3.6e+03 */
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf (out, size, "%.*g", prec, v);
        if (strtod (out, NULL) == v) {
            return;
        }
    }
}

static int64_t
s_mono_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum MHD_Result
s_reply (struct MHD_Connection *conn, unsigned int status, const char *type, char *body)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer (strlen (body), body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free (body);
        return MHD_NO;
    }
    MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header (r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED) {
        MHD_add_response_header (r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    }
    enum MHD_Result rc = MHD_queue_response (conn, status, r);
    MHD_destroy_response (r);
    return rc;
}

/*  Answers on the first call, once the headers are in: nothing here ever
    reads a request body (a request announcing one is refused with 413). */
static enum MHD_Result
s_handler (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void)version;
    (void)upload_data;
    wes_metrics_t *self = cls;
    if (*con_cls == self) {
        /*  A body arrived after the response was queued: drop it. */
        *upload_data_size = 0;
        return MHD_YES;
    }
    *con_cls = self; /* marks the connection as answered */
    const char *plain = "text/plain; charset=utf-8";
    bool get = strcmp (method, MHD_HTTP_METHOD_GET) == 0;
    if (!get && strcmp (method, MHD_HTTP_METHOD_HEAD) != 0) {
        return s_reply (conn, MHD_HTTP_METHOD_NOT_ALLOWED, plain,
                        wes_strdup ("method not allowed: GET or HEAD\n"));
    }
    const char *cl =
        MHD_lookup_connection_value (conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te =
        MHD_lookup_connection_value (conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    if ((cl && strcmp (cl, "0") != 0) || te || *upload_data_size > 0) {
        return s_reply (conn, MHD_HTTP_CONTENT_TOO_LARGE, plain,
                        wes_strdup ("request bodies are not accepted\n"));
    }
    if (strcmp (url, "/metrics") == 0) {
        return s_reply (conn, MHD_HTTP_OK, S_CONTENT_TYPE, wes_metrics_render (self));
    }
    if (strcmp (url, "/healthz") == 0) {
        bool ok = wes_metrics_healthy (self, s_mono_ms ());
        return s_reply (conn, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, plain,
                        wes_strdup (ok ? "ok\n" : "the coordinator loop is stalled\n"));
    }
    if (strcmp (url, "/readyz") == 0) {
        pthread_mutex_lock (&self->lock);
        bool ok = self->ready;
        pthread_mutex_unlock (&self->lock);
        return s_reply (conn, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, plain,
                        wes_strdup (ok ? "ready\n"
                                       : "not ready: the run is not loaded and "
                                         "bound\n"));
    }
    return s_reply (conn, MHD_HTTP_NOT_FOUND, plain,
                    wes_strdup ("not found: /metrics, /healthz, /readyz\n"));
}

static void
s_mhd_log (void *cls, const char *fmt, va_list ap)
{
    const wes_metrics_t *self = cls; /* run is set once at creation: read without the lock */
    char line[512];
    vsnprintf (line, sizeof line, fmt, ap);
    size_t n = strlen (line);
    while (n > 0 && line[n - 1] == '\n') {
        line[--n] = '\0';
    }
    wes_log (WES_LOG_WARN, self->run, NULL, NULL, "metrics server: %s", line);
}
