/*  wes_psql.c — a psql child per target, streamed into, polled, never
    blocking. See wes_psql.h for the protocol. */
#define _GNU_SOURCE /* pipe2 */
#include "wes_psql.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/wes_buf.h"
#include "util/wes_log.h"

extern char **environ;

/*  Bounded capture of the child's output: we keep the head of stderr (the
    first error is the one that matters) and the tail of stdout. */
#define S_STDERR_MAX (16u * 1024u)
#define S_STDOUT_MAX (64u * 1024u)
#define S_MARKER_PREFIX "__wesley_done__ "
#define S_MAX_ATTEMPT_ID 64u
#define S_KILL_GRACE_MS 2000

struct wes_psql {
    char *psql_bin;          /* path of the real psql binary */
    char **env;              /* child environment: ours + PG* from conninfo, NULL-terminated */
    pid_t pid;               /* running child, 0 when none */
    int in_fd;               /* child's stdin (we write), -1 when closed */
    int out_fd;              /* child's stdout (we read), -1 when closed */
    int err_fd;              /* child's stderr (we read), -1 when closed */
    wes_buf_t *pending;      /* bytes queued for the child's stdin */
    size_t pending_off;      /* bytes of pending already written */
    wes_buf_t *out;          /* stdout of the current batch (bounded tail) */
    wes_buf_t *line;         /* partial stdout line being assembled */
    wes_buf_t *err;          /* stderr of the current batch (bounded head) */
    wes_buf_t *err_line;     /* partial stderr line being assembled */
    int64_t progress;        /* last "wesley-progress N" notice of the batch, -1 if none */
    char marker[96];         /* marker line expected for the current batch */
    wes_psql_status_t status; /* of the current batch */
    bool busy;               /* a batch is in progress */
    char sqlstate[6];        /* captured SQLSTATE, "" if none */
    char *message;           /* first error line, owned */
    bool connection_lost;    /* the failure looked like a lost connection */
};

static int s_spawn (wes_psql_t *self);
static void s_reap (wes_psql_t *self, bool force);
static void s_close_fd (int *fd);
static void s_fail (wes_psql_t *self, const char *why);
static void s_scan_stderr (wes_psql_t *self);
static char *s_default_psql (void);

/*  True for NAME=VALUE when NAME is one of libpq's variables for secrets
    kept on this machine and the connection string does not set it. */
static bool
s_local_secret (const char *entry, const PQconninfoOption *opts)
{
    static const char *const names[] = {"PGPASSFILE",    "PGPASSWORD", "PGSERVICEFILE",
                                        "PGSYSCONFDIR",  "PGSSLCERT",  "PGSSLKEY",
                                        "PGSSLROOTCERT", "PGSSLCRL",   "PGSSLCRLDIR"};
    size_t n = strcspn (entry, "=");
    if (entry[n] != '=') {
        return false;
    }
    bool listed = false;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !listed; i++) {
        listed = strlen (names[i]) == n && strncmp (entry, names[i], n) == 0;
    }
    for (const PQconninfoOption *o = opts; listed && o->keyword; o++) {
        if (o->val && o->envvar && strlen (o->envvar) == n && strncmp (entry, o->envvar, n) == 0) {
            return false;
        }
    }
    return listed;
}

wes_psql_t *
wes_psql_new (const char *psql_bin, const char *conninfo, char **error)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse (conninfo ? conninfo : "", &perr);
    if (!opts) {
        if (error) {
            *error = wes_strdup (perr ? perr : "invalid connection string");
            /* libpq's message ends with a newline */
            size_t n = strlen (*error);
            while (n && ((*error)[n - 1] == '\n')) {
                (*error)[--n] = '\0';
            }
        }
        PQfreemem (perr);
        return NULL;
    }
    wes_psql_t *self = wes_new (wes_psql_t);
    self->psql_bin = psql_bin ? wes_strdup (psql_bin) : s_default_psql ();
    self->in_fd = self->out_fd = self->err_fd = -1;
    self->pending = wes_buf_new ();
    self->out = wes_buf_new ();
    self->line = wes_buf_new ();
    self->err = wes_buf_new ();
    self->err_line = wes_buf_new ();
    self->progress = -1;
    self->message = wes_strdup ("");

    /* Child environment: ours without any PG* variable (so nothing leaks in
       from the parent) but those naming local secrets (a worker's passfile,
       service file, client certificate) unless the conninfo sets them, then
       one PG* variable per conninfo keyword. */
    size_t n_env = 0;
    while (environ[n_env]) {
        n_env++;
    }
    size_t n_opts = 0;
    while (opts[n_opts].keyword) {
        n_opts++;
    }
    self->env = wes_alloc (sizeof (char *) * (n_env + n_opts + 2));
    size_t k = 0;
    for (size_t i = 0; i < n_env; i++) {
        if (strncmp (environ[i], "PG", 2) != 0 || s_local_secret (environ[i], opts)) {
            self->env[k++] = wes_strdup (environ[i]);
        }
    }
    for (size_t i = 0; i < n_opts; i++) {
        if (opts[i].val && opts[i].envvar) {
            wes_buf_t *b = wes_buf_new ();
            wes_buf_printf (b, "%s=%s", opts[i].envvar, opts[i].val);
            self->env[k++] = wes_buf_steal (b);
            wes_buf_destroy (&b);
        }
    }
    self->env[k++] = wes_strdup ("PGAPPNAME=wesley");
    self->env[k] = NULL;
    PQconninfoFree (opts);
    return self;
}

void
wes_psql_destroy (wes_psql_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wes_psql_t *self = *self_p;
    s_reap (self, true);
    for (char **e = self->env; e && *e; e++) {
        free (*e);
    }
    free (self->env);
    free (self->psql_bin);
    free (self->message);
    wes_buf_destroy (&self->pending);
    wes_buf_destroy (&self->out);
    wes_buf_destroy (&self->line);
    wes_buf_destroy (&self->err);
    wes_buf_destroy (&self->err_line);
    free (self);
    *self_p = NULL;
}

int
wes_psql_begin (wes_psql_t *self, const char *attempt_id, const char *sql)
{
    if (self->busy) {
        return -1;
    }
    size_t idlen = attempt_id ? strlen (attempt_id) : 0;
    if (idlen == 0 || idlen > S_MAX_ATTEMPT_ID) {
        return -1;
    }
    for (size_t i = 0; i < idlen; i++) {
        char c = attempt_id[i];
        if (!isalnum ((unsigned char) c) && !strchr ("_.:-", c)) {
            return -1;
        }
    }
    self->sqlstate[0] = '\0';
    free (self->message);
    self->message = wes_strdup ("");
    self->connection_lost = false;
    wes_buf_reset (self->out);
    wes_buf_reset (self->line);
    wes_buf_reset (self->err);
    wes_buf_reset (self->err_line);
    self->progress = -1;
    wes_buf_reset (self->pending);
    self->pending_off = 0;
    snprintf (self->marker, sizeof self->marker, "%s%s", S_MARKER_PREFIX, attempt_id);
    self->busy = true;
    self->status = WES_PSQL_RUNNING;

    if (self->pid == 0 && s_spawn (self) != 0) {
        s_fail (self, "could not start psql");
        self->connection_lost = true;
        return -1;
    }
    wes_buf_puts (self->pending, sql);
    wes_buf_printf (self->pending, "\n\\echo %s\n", self->marker);
    return 0;
}

size_t
wes_psql_pollfds (const wes_psql_t *self, struct pollfd *fds, size_t max)
{
    size_t n = 0;
    if (n < max && self->out_fd >= 0) {
        fds[n++] = (struct pollfd) {.fd = self->out_fd, .events = POLLIN};
    }
    if (n < max && self->err_fd >= 0) {
        fds[n++] = (struct pollfd) {.fd = self->err_fd, .events = POLLIN};
    }
    if (n < max && self->in_fd >= 0 && self->pending_off < wes_buf_len (self->pending)) {
        fds[n++] = (struct pollfd) {.fd = self->in_fd, .events = POLLOUT};
    }
    return n;
}

/*  One complete stderr line: a progress notice, or text to keep. */
static void
s_stderr_line (wes_psql_t *self, wes_buf_t *buf, size_t cap)
{
    const char *l = wes_buf_data (self->err_line);
    const char *pm = strstr (l, "NOTICE:  ");
    const char *pg = pm ? strstr (pm, "wesley-progress ") : NULL;
    if (pg) {
        self->progress = strtoll (pg + strlen ("wesley-progress "), NULL, 10);
    }
    else if (wes_buf_len (buf) + wes_buf_len (self->err_line) + 1 <= cap) {
        wes_buf_append (buf, l, wes_buf_len (self->err_line));
        wes_buf_append (buf, "\n", 1);
    }
    wes_buf_reset (self->err_line);
}

/*  Reads what is available from fd into buf (bounded); returns false at EOF
    or on error (the fd is then closed). */
static bool
s_drain (int *fd, wes_buf_t *buf, size_t cap, wes_buf_t *lines_out, wes_psql_t *self)
{
    char chunk[8192];
    for (;;) {
        ssize_t n = read (*fd, chunk, sizeof chunk);
        if (n > 0) {
            if (lines_out) {
                /* stdout: split into lines, look for the marker, keep a tail */
                for (ssize_t i = 0; i < n; i++) {
                    if (chunk[i] == '\n') {
                        const char *l = wes_buf_data (lines_out);
                        if (self->busy && strcmp (l, self->marker) == 0) {
                            self->status = WES_PSQL_OK;
                            self->busy = false;
                        }
                        else if (wes_buf_len (buf) + wes_buf_len (lines_out) + 1 <= cap) {
                            wes_buf_append (buf, l, wes_buf_len (lines_out));
                            wes_buf_append (buf, "\n", 1);
                        }
                        wes_buf_reset (lines_out);
                    }
                    else if (wes_buf_len (lines_out) < S_STDOUT_MAX) {
                        wes_buf_append (lines_out, &chunk[i], 1);
                    }
                }
            }
            else {
                /* stderr: progress notices update the counter and are not
                   kept, so they never crowd the error out of the bounded
                   buffer */
                for (ssize_t i = 0; i < n; i++) {
                    if (chunk[i] != '\n') {
                        if (wes_buf_len (self->err_line) < S_STDERR_MAX) {
                            wes_buf_append (self->err_line, &chunk[i], 1);
                        }
                        continue;
                    }
                    s_stderr_line (self, buf, cap);
                }
            }
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return true;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (!lines_out && wes_buf_len (self->err_line) > 0) {
            s_stderr_line (self, buf, cap);
        }
        s_close_fd (fd);
        return false;
    }
}

wes_psql_status_t
wes_psql_step (wes_psql_t *self)
{
    if (!self->busy) {
        return self->status;
    }
    /* write what we can */
    while (self->in_fd >= 0 && self->pending_off < wes_buf_len (self->pending)) {
        size_t left = wes_buf_len (self->pending) - self->pending_off;
        ssize_t n = write (self->in_fd, wes_buf_data (self->pending) + self->pending_off, left);
        if (n > 0) {
            self->pending_off += (size_t) n;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        }
        /* EPIPE: the child went away; its exit tells us why */
        s_close_fd (&self->in_fd);
        break;
    }
    if (self->err_fd >= 0) {
        s_drain (&self->err_fd, self->err, S_STDERR_MAX, NULL, self);
    }
    if (self->out_fd >= 0) {
        s_drain (&self->out_fd, self->out, S_STDOUT_MAX, self->line, self);
    }
    if (!self->busy) {
        return self->status; /* marker seen */
    }
    /* no marker yet: did the child exit? */
    int st = 0;
    pid_t r = self->pid ? waitpid (self->pid, &st, WNOHANG) : -1;
    if (r == self->pid || r < 0) {
        /* collect the rest of its output before judging */
        if (self->err_fd >= 0) {
            s_drain (&self->err_fd, self->err, S_STDERR_MAX, NULL, self);
        }
        if (self->out_fd >= 0) {
            s_drain (&self->out_fd, self->out, S_STDOUT_MAX, self->line, self);
        }
        self->pid = 0;
        s_close_fd (&self->in_fd);
        s_close_fd (&self->out_fd);
        s_close_fd (&self->err_fd);
        if (!self->busy) {
            return self->status;
        }
        s_scan_stderr (self);
        if (r > 0 && WIFEXITED (st) && WEXITSTATUS (st) == 2) {
            self->connection_lost = true; /* psql: 2 = connection to the server went bad */
        }
        if (r > 0 && WIFSIGNALED (st)) {
            self->connection_lost = true;
        }
        if (!self->message[0]) {
            char why[64];
            if (r > 0 && WIFEXITED (st)) {
                snprintf (why, sizeof why, "psql exited with status %d", WEXITSTATUS (st));
            }
            else if (r > 0 && WIFSIGNALED (st)) {
                snprintf (why, sizeof why, "psql killed by signal %d", WTERMSIG (st));
            }
            else {
                snprintf (why, sizeof why, "psql vanished");
            }
            free (self->message);
            self->message = wes_strdup (why);
        }
        self->status = WES_PSQL_FAILED;
        self->busy = false;
    }
    return self->status;
}

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

wes_psql_status_t
wes_psql_run (wes_psql_t *self, const char *attempt_id, const char *sql, int timeout_ms)
{
    if (wes_psql_begin (self, attempt_id, sql) != 0) {
        return self->busy ? WES_PSQL_RUNNING : WES_PSQL_FAILED;
    }
    int64_t deadline = s_now_ms () + timeout_ms;
    wes_psql_status_t st;
    while ((st = wes_psql_step (self)) == WES_PSQL_RUNNING) {
        int64_t left = deadline - s_now_ms ();
        if (left <= 0) {
            wes_psql_kill (self);
            free (self->message);
            self->message = wes_strdup ("timeout");
            return self->status;
        }
        struct pollfd fds[3];
        size_t n = wes_psql_pollfds (self, fds, 3);
        /* wake at least every 50 ms to notice the child's exit */
        poll (fds, n, left < 50 ? (int) left : 50);
    }
    return st;
}

void
wes_psql_kill (wes_psql_t *self)
{
    s_reap (self, true);
    if (self->busy) {
        s_fail (self, "psql killed");
        self->connection_lost = true;
    }
}

const char *
wes_psql_sqlstate (const wes_psql_t *self)
{
    return self->sqlstate;
}

const char *
wes_psql_message (const wes_psql_t *self)
{
    return self->message;
}

const char *
wes_psql_stdout (const wes_psql_t *self)
{
    return wes_buf_data (self->out);
}

int64_t
wes_psql_progress (const wes_psql_t *self)
{
    return self->progress;
}

bool
wes_psql_connection_lost (const wes_psql_t *self)
{
    return self->connection_lost;
}

pid_t
wes_psql_pid (const wes_psql_t *self)
{
    return self->pid;
}

bool
wes_psql_sqlstate_retryable (const char *s)
{
    if (!s || strlen (s) != 5) {
        return false;
    }
    static const char *retry[] = {"55P03", "40P01", "40001", "57P01", "57P03", "25P03", NULL};
    for (int i = 0; retry[i]; i++) {
        if (strcmp (s, retry[i]) == 0) {
            return true;
        }
    }
    return strncmp (s, "08", 2) == 0;
}

bool
wes_psql_retryable (const wes_psql_t *self)
{
    if (self->status != WES_PSQL_FAILED) {
        return false;
    }
    if (self->sqlstate[0]) {
        return wes_psql_sqlstate_retryable (self->sqlstate);
    }
    return self->connection_lost;
}

/*  --- helpers --- */

static void
s_close_fd (int *fd)
{
    if (*fd >= 0) {
        close (*fd);
        *fd = -1;
    }
}

static void
s_fail (wes_psql_t *self, const char *why)
{
    free (self->message);
    self->message = wes_strdup (why);
    self->status = WES_PSQL_FAILED;
    self->busy = false;
}

/*  With VERBOSITY verbose psql prints "psql:<stdin>:3: ERROR:  55P03: text";
    a lost session prints "FATAL:  57P01: ..." or "server closed the
    connection unexpectedly"; a failed start "psql: error: connection to
    server ... failed". Take the first ERROR/FATAL line. */
static void
s_scan_stderr (wes_psql_t *self)
{
    const char *text = wes_buf_data (self->err);
    const char *levels[] = {"ERROR:  ", "FATAL:  ", "PANIC:  "};
    const char *hit = NULL;
    for (size_t i = 0; i < 3; i++) {
        const char *p = strstr (text, levels[i]);
        if (p && (!hit || p < hit)) {
            hit = p;
        }
    }
    if (hit) {
        const char *msg = strstr (hit, ":  ") + 3;
        /* SQLSTATE: five [0-9A-Z] followed by ": " */
        bool has_state = strlen (msg) >= 7;
        for (int i = 0; has_state && i < 5; i++) {
            has_state = isdigit ((unsigned char) msg[i]) || isupper ((unsigned char) msg[i]);
        }
        if (has_state && msg[5] == ':' && msg[6] == ' ') {
            memcpy (self->sqlstate, msg, 5);
            self->sqlstate[5] = '\0';
        }
        const char *eol = strchr (hit, '\n');
        free (self->message);
        self->message = wes_strndup (hit, eol ? (size_t) (eol - hit) : strlen (hit));
        if (strncmp (hit, "FATAL", 5) == 0) {
            self->connection_lost = true;
        }
    }
    else if (strstr (text, "server closed the connection")
             || strstr (text, "connection to server") || strstr (text, "no connection to")) {
        self->connection_lost = true;
        const char *eol = strchr (text, '\n');
        free (self->message);
        self->message = wes_strndup (text, eol ? (size_t) (eol - text) : strlen (text));
    }
    else if (text[0]) {
        const char *eol = strchr (text, '\n');
        free (self->message);
        self->message = wes_strndup (text, eol ? (size_t) (eol - text) : strlen (text));
    }
}

static int
s_spawn (wes_psql_t *self)
{
    int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
    if (pipe2 (pin, O_CLOEXEC) != 0 || pipe2 (pout, O_CLOEXEC) != 0
        || pipe2 (perr, O_CLOEXEC) != 0) {
        wes_log_error ("psql: pipe failed: %s", strerror (errno));
        s_close_fd (&pin[0]), s_close_fd (&pin[1]), s_close_fd (&pout[0]);
        s_close_fd (&pout[1]), s_close_fd (&perr[0]), s_close_fd (&perr[1]);
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init (&fa);
    posix_spawn_file_actions_adddup2 (&fa, pin[0], 0);
    posix_spawn_file_actions_adddup2 (&fa, pout[1], 1);
    posix_spawn_file_actions_adddup2 (&fa, perr[1], 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init (&attr);
    /* the child must not inherit an ignored SIGPIPE or our signal mask */
    sigset_t def, none;
    sigemptyset (&def);
    sigaddset (&def, SIGPIPE);
    sigemptyset (&none);
    posix_spawnattr_setsigdefault (&attr, &def);
    posix_spawnattr_setsigmask (&attr, &none);
    posix_spawnattr_setflags (&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    char *argv[] = {self->psql_bin, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose",
                    "-P", "pager=off", NULL};
    pid_t pid = 0;
    int rc = posix_spawnp (&pid, self->psql_bin, &fa, &attr, argv, self->env);
    posix_spawn_file_actions_destroy (&fa);
    posix_spawnattr_destroy (&attr);
    s_close_fd (&pin[0]);
    s_close_fd (&pout[1]);
    s_close_fd (&perr[1]);
    if (rc != 0) {
        wes_log_error ("psql: cannot start %s: %s", self->psql_bin, strerror (rc));
        s_close_fd (&pin[1]);
        s_close_fd (&pout[0]);
        s_close_fd (&perr[0]);
        return -1;
    }
    self->pid = pid;
    self->in_fd = pin[1];
    self->out_fd = pout[0];
    self->err_fd = perr[0];
    fcntl (self->in_fd, F_SETFL, fcntl (self->in_fd, F_GETFL) | O_NONBLOCK);
    fcntl (self->out_fd, F_SETFL, fcntl (self->out_fd, F_GETFL) | O_NONBLOCK);
    fcntl (self->err_fd, F_SETFL, fcntl (self->err_fd, F_GETFL) | O_NONBLOCK);
    return 0;
}

/*  Ends the child: close its stdin (psql exits at EOF), then SIGTERM, then
    SIGKILL after a grace period; always reaps. */
static void
s_reap (wes_psql_t *self, bool force)
{
    s_close_fd (&self->in_fd);
    if (self->pid > 0) {
        if (force) {
            kill (self->pid, SIGTERM);
        }
        int64_t deadline = s_now_ms () + S_KILL_GRACE_MS;
        int st;
        while (waitpid (self->pid, &st, WNOHANG) == 0) {
            if (s_now_ms () > deadline) {
                kill (self->pid, SIGKILL);
                waitpid (self->pid, &st, 0);
                break;
            }
            struct timespec ts = {0, 5 * 1000 * 1000};
            nanosleep (&ts, NULL);
        }
        self->pid = 0;
    }
    s_close_fd (&self->out_fd);
    s_close_fd (&self->err_fd);
}

static char *
s_default_psql (void)
{
    const char *env = getenv ("WESLEY_PSQL");
    if (env && *env) {
        return wes_strdup (env);
    }
    /* Debian's /usr/bin/psql is a Perl wrapper costing ~35 ms a start: use
       the real binary from pg_config --bindir. */
    FILE *p = popen ("pg_config --bindir 2>/dev/null", "r");
    if (p) {
        char dir[1024] = {0};
        char *got = fgets (dir, sizeof dir, p);
        pclose (p);
        if (got) {
            dir[strcspn (dir, "\n")] = '\0';
            wes_buf_t *b = wes_buf_new ();
            wes_buf_printf (b, "%s/psql", dir);
            if (access (wes_buf_data (b), X_OK) == 0) {
                char *out = wes_buf_steal (b);
                wes_buf_destroy (&b);
                return out;
            }
            wes_buf_destroy (&b);
        }
    }
    return wes_strdup ("psql");
}
