/*  wes_worker_main.c — the wesley-worker program: flags, signals, logging
    around the worker library (wes_worker.h). */
#define _GNU_SOURCE /* pipe2 */
#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/wes_log.h"
#include "worker/wes_worker.h"

#ifndef WES_VERSION
#define WES_VERSION "0.0.0"
#endif

/*  The write end of the self-pipe the signal handler wakes the loop with:
    a signal handler can reach nothing else. */
static volatile sig_atomic_t s_wake_write = -1;

static void s_on_signal (int sig);
static void s_usage (FILE *out);
static int s_parse_u32 (const char *flag, const char *text, uint32_t min, uint32_t max,
                        uint32_t *out);

int
main (int argc, char **argv)
{
    wes_worker_opts_t opts = {.wake_fd = -1};
    bool insecure = false;
    wes_log_format_t format = WES_LOG_JSON;
    wes_log_level_t level = WES_LOG_INFO;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp (arg, "--help") == 0 || strcmp (arg, "-h") == 0) {
            s_usage (stdout);
            return 0;
        }
        if (strcmp (arg, "--version") == 0) {
            printf ("wesley-worker %s\n", WES_VERSION);
            return 0;
        }
        if (strcmp (arg, "--insecure") == 0 || strcmp (arg, "--insecure-dev") == 0) {
            insecure = true;
            continue;
        }
        if (strcmp (arg, "--exit-when-run-ends") == 0) {
            opts.exit_when_run_ends = true;
            continue;
        }
        if (strcmp (arg, "--simulate") == 0) {
            opts.simulate = true;
            continue;
        }
        /* every other flag takes a value: "--flag VALUE" or "--flag=VALUE" */
        const char *value = NULL;
        char name[32];
        const char *eq = strchr (arg, '=');
        if (strncmp (arg, "--", 2) == 0 && eq && (size_t)(eq - arg) < sizeof name) {
            memcpy (name, arg, (size_t)(eq - arg));
            name[eq - arg] = '\0';
            value = eq + 1;
        }
        else {
            snprintf (name, sizeof name, "%s", arg);
            if (i + 1 < argc) {
                value = argv[++i];
            }
        }
        if (strncmp (name, "--", 2) != 0) {
            fprintf (stderr, "wesley-worker: unexpected argument \"%s\" (see --help)\n", arg);
            return 2;
        }
        if (!value) {
            fprintf (stderr, "wesley-worker: %s needs a value (see --help)\n", name);
            return 2;
        }
        int rc = 0;
        if (strcmp (name, "--connect") == 0) {
            opts.endpoint = value;
        }
        else if (strcmp (name, "--id") == 0) {
            opts.id = value;
        }
        else if (strcmp (name, "--capacity") == 0) {
            rc = s_parse_u32 (name, value, 1, WES_WORKER_MAX_CAPACITY, &opts.capacity);
        }
        else if (strcmp (name, "--curve-secret") == 0) {
            opts.curve_secret = value;
        }
        else if (strcmp (name, "--curve-server") == 0) {
            opts.curve_server = value;
        }
        else if (strcmp (name, "--labels") == 0) {
            opts.labels = value;
        }
        else if (strcmp (name, "--psql") == 0) {
            opts.psql_bin = value;
        }
        else if (strcmp (name, "--heartbeat-ms") == 0) {
            rc = s_parse_u32 (name, value, 10, 600000, &opts.heartbeat_ms);
        }
        else if (strcmp (name, "--liveness") == 0) {
            rc = s_parse_u32 (name, value, 1, 1000, &opts.liveness);
        }
        else if (strcmp (name, "--drain-ms") == 0) {
            rc = s_parse_u32 (name, value, 1, 24u * 3600u * 1000u, &opts.drain_ms);
        }
        else if (strcmp (name, "--reconnect-max-ms") == 0) {
            rc = s_parse_u32 (name, value, 1, 3600u * 1000u, &opts.reconnect_max_ms);
        }
        else if (strcmp (name, "--log-format") == 0) {
            if (strcmp (value, "json") == 0) {
                format = WES_LOG_JSON;
            }
            else if (strcmp (value, "text") == 0) {
                format = WES_LOG_TEXT;
            }
            else {
                fprintf (stderr, "wesley-worker: --log-format is json or text, not \"%s\"\n",
                         value);
                return 2;
            }
        }
        else if (strcmp (name, "--log-level") == 0) {
            const char *names[] = {"debug", "info", "warn", "error"};
            int found = -1;
            for (int k = 0; k < 4; k++) {
                if (strcmp (value, names[k]) == 0) {
                    found = k;
                }
            }
            if (found < 0) {
                fprintf (stderr, "wesley-worker: --log-level is debug, info, warn or error\n");
                return 2;
            }
            level = (wes_log_level_t)found;
        }
        else {
            fprintf (stderr, "wesley-worker: unknown flag %s (see --help)\n", name);
            return 2;
        }
        if (rc != 0) {
            return 2;
        }
    }
    if (!opts.endpoint) {
        fprintf (stderr, "wesley-worker: --connect ENDPOINT is required (see --help)\n");
        return 2;
    }
    if ((opts.curve_secret != NULL) != (opts.curve_server != NULL)) {
        fprintf (stderr, "wesley-worker: give both --curve-secret FILE and --curve-server FILE, "
                         "or neither (see --help)\n");
        return 2;
    }
    /*  CURVE by default, loopback included: on a shared host any local user
        could otherwise stand in for the coordinator and hand out steps. */
    if (!opts.curve_secret && !insecure) {
        fprintf (stderr,
                 "wesley-worker: refusing to take steps and connection details from %s in "
                 "plaintext: create keys with `wesley keygen` and give --curve-secret FILE "
                 "--curve-server FILE, or give --insecure-dev for a development setup\n",
                 opts.endpoint);
        return 2;
    }
    wes_log_init ("worker", level, format);

    /* We own the signals: CZMQ must not install its handlers, a psql that
       died while we write to it must not kill us, and SIGTERM/SIGINT wake
       the loop through a self-pipe. */
    zsys_handler_set (NULL);
    signal (SIGPIPE, SIG_IGN);
    int pipefd[2];
    if (pipe2 (pipefd, O_CLOEXEC | O_NONBLOCK) != 0) {
        fprintf (stderr, "wesley-worker: pipe: %s\n", strerror (errno));
        return 1;
    }
    s_wake_write = pipefd[1];
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset (&sa.sa_mask);
    sigaction (SIGTERM, &sa, NULL);
    sigaction (SIGINT, &sa, NULL);
    opts.wake_fd = pipefd[0];

    char *error = NULL;
    wes_worker_t *worker = wes_worker_new (&opts, &error);
    if (!worker) {
        fprintf (stderr, "wesley-worker: %s\n", error ? error : "cannot start");
        free (error);
        return 2;
    }
    if (!opts.curve_secret) {
        wes_log_warn ("--insecure-dev: talking to %s without encryption or authentication%s",
                      opts.endpoint,
                      wes_worker_endpoint_is_local (opts.endpoint)
                          ? " (any local user can stand in for the coordinator)"
                          : "");
    }
    int rc = wes_worker_run (worker);
    wes_worker_destroy (&worker);
    signal (SIGTERM, SIG_DFL);
    signal (SIGINT, SIG_DFL);
    s_wake_write = -1;
    close (pipefd[0]);
    close (pipefd[1]);
    return rc == 0 ? 0 : 1;
}

static void
s_on_signal (int sig)
{
    (void)sig;
    int saved = errno;
    int fd = s_wake_write;
    if (fd >= 0) {
        char b = 1;
        ssize_t n = write (fd, &b, 1);
        (void)n;
    }
    errno = saved;
}

static int
s_parse_u32 (const char *flag, const char *text, uint32_t min, uint32_t max, uint32_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull (text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || v < min || v > max) {
        fprintf (stderr, "wesley-worker: %s takes a whole number from %u to %u, not \"%s\"\n", flag,
                 min, max, text);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: wesley-worker --connect ENDPOINT\n"
             "                     (--curve-secret FILE --curve-server FILE | --insecure-dev)\n"
             "                     [flags]\n"
             "\n"
             "Runs the steps a Wesley coordinator assigns, one psql session per target\n"
             "database, and reports how each attempt ended. SIGTERM or SIGINT: take no more\n"
             "work, let the running attempt finish, say goodbye, exit 0 (a second signal\n"
             "cancels the running attempt). The coordinator is talked to over CURVE (keys\n"
             "from `wesley keygen`); without keys only --insecure-dev starts, in plaintext,\n"
             "for a development setup (loopback included).\n"
             "\n"
             "  --connect ENDPOINT     the coordinator, e.g. tcp://127.0.0.1:5555 (required)\n"
             "  --id ID                worker id, 1-%u of [A-Za-z0-9_.:@-]\n"
             "                         (default: HOSTNAME-PID)\n"
             "  --capacity N           attempts run at once, 1-%u (default: 1)\n"
             "  --labels A,B           labels announced to the coordinator (default: none)\n"
             "  --psql PATH            psql binary (default: $WESLEY_PSQL, else\n"
             "                         `pg_config --bindir`/psql, else psql on PATH)\n"
             "  --heartbeat-ms N       heartbeat interval until the coordinator sets one\n"
             "                         (default: %u)\n"
             "  --liveness N           missed heartbeats before the coordinator counts as\n"
             "                         gone, until it sets its own (default: %u)\n"
             "  --reconnect-max-ms N   longest wait between reconnects; waits start at %u ms,\n"
             "                         double, and are jittered (default: %u)\n"
             "  --drain-ms N           on SIGTERM, how long the running attempt may take\n"
             "                         before it is cancelled (default: %u)\n"
             "  --log-format FORMAT    json (JSON lines) or text, on stderr (default: json)\n"
             "  --log-level LEVEL      debug, info, warn or error (default: info)\n"
             "  --exit-when-run-ends   exit 0 when the coordinator says its run ended\n"
             "                         (finished, stopped, failed or cancelled), e.g. for a\n"
             "                         Kubernetes Job (default: off, reconnect and wait for\n"
             "                         the next run until SIGTERM)\n"
             "  --simulate             benchmarks only: answer every step with success at once,\n"
             "                         touching no database (default: off)\n"
             "  --curve-secret FILE    this worker's secret certificate (NAME.cert_secret from\n"
             "                         `wesley keygen`); with --curve-server: CURVE encryption\n"
             "                         and authentication (required unless --insecure-dev)\n"
             "  --curve-server FILE    the coordinator's public certificate (NAME.cert); only\n"
             "                         that coordinator is talked to (required unless\n"
             "                         --insecure-dev)\n"
             "  --insecure-dev         no CURVE keys: plaintext, for a development setup on a\n"
             "                         host and network you trust, loopback included (alias\n"
             "                         --insecure; default: off, refused without CURVE keys)\n"
             "  --version              print the version\n"
             "  --help                 this text\n"
             "\n"
             "Exit status: 0 after a requested stop, 1 when the loop failed, 2 for bad flags.\n",
             WES_WORKER_MAX_ID, WES_WORKER_MAX_CAPACITY, WES_WORKER_HEARTBEAT_MS,
             WES_WORKER_LIVENESS, WES_WORKER_RECONNECT_MIN_MS, WES_WORKER_RECONNECT_MAX_MS,
             WES_WORKER_DRAIN_MS);
}
