/*  wes_pgfix.c — a throwaway PostgreSQL 15 cluster for tests: initdb into a
    private temporary directory, a postmaster on a unix socket there, stop
    and clean up. Every database test starts one of these. */
#include "wes_pgfix.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/wes_buf.h"
#include "wes_testutil.h"

extern char **environ;

/*  How long the server may take to accept connections after it was started
    (a cold start under ASan on a busy 2-core machine takes a few seconds). */
#define S_READY_TIMEOUT_MS 60000
/*  How long an immediate shutdown may take before we SIGKILL the postmaster. */
#define S_STOP_TIMEOUT_MS 15000
/*  How many ports we try when the server cannot take the one we chose. */
#define S_PORT_ATTEMPTS 16
/*  Port range we choose from (above the usual service ports, below the
    kernel's ephemeral range). */
#define S_PORT_LOW 20000
#define S_PORT_SPAN 12000
/*  Bytes of the server log shown when the server does not come up. */
#define S_LOG_TAIL_BYTES 3000
/*  Default max_connections: fleet tests open many psql sessions at once. */
#define S_DEFAULT_MAX_CONNECTIONS 120

struct wes_pgfix {
    char *dir;       /* private temp dir: holds data/, the socket and logs */
    char *datadir;   /* dir/data */
    char *logfile;   /* dir/server.log */
    char *bindir;    /* folder of initdb, postgres, psql */
    char *psql;      /* bindir/psql */
    int port;        /* the port number (names the socket file; no TCP) */
    pid_t pid;       /* postmaster pid (our child), 0 when stopped */
    bool as_user;    /* root: run the server as run_uid/run_gid */
    uid_t run_uid;   /* uid of the `postgres` OS user */
    gid_t run_gid;   /* its gid */
    unsigned seed;   /* varies the port choice between fixtures */
    pid_t watchdog;  /* cleans up if we die first (see s_watchdog_start), 0 if none */
    int watchdog_fd; /* our end of its pipe: a byte means "destroyed in order" */
};

static char *s_find_bindir (void);
static void s_watchdog_start (wes_pgfix_t *self);
static void s_watchdog_release (wes_pgfix_t *self);
static int s_initdb (wes_pgfix_t *self);
static int s_write_config (wes_pgfix_t *self);
static int s_launch (wes_pgfix_t *self);
static pid_t s_spawn (wes_pgfix_t *self, char *const argv[], int in_fd, int out_fd, bool as_user,
                      bool die_with_parent);
static int s_wait_exit (pid_t pid, int timeout_ms, int *status_out);
static int s_run_psql (wes_pgfix_t *self, char *const argv[], const char *input, char **output);
static char *s_log_tail (const wes_pgfix_t *self);
static void s_quiet_notice (void *arg, const char *message);
static void s_conn_value (wes_buf_t *b, const char *key, const char *value);

wes_pgfix_t *
wes_pgfix_start (void)
{
    wes_pgfix_t *self = wes_new (wes_pgfix_t);
    self->seed = (unsigned)getpid () * 2654435761u ^ (unsigned)wes_test_now_ms ();
    self->bindir = s_find_bindir ();
    if (!self->bindir) {
        fprintf (stderr, "wes_pgfix: no PostgreSQL server binaries found (set WES_PG_BINDIR, "
                         "or install postgresql-15)\n");
        wes_pgfix_destroy (&self);
        return NULL;
    }
    wes_buf_t *b = wes_buf_new ();
    wes_buf_printf (b, "%s/psql", self->bindir);
    self->psql = wes_buf_steal (b);
    wes_buf_destroy (&b);

    self->dir = wes_test_tmpdir ("wes-pg");
    if (!self->dir) {
        fprintf (stderr, "wes_pgfix: cannot create a temporary directory: %s\n", strerror (errno));
        wes_pgfix_destroy (&self);
        return NULL;
    }
    b = wes_buf_new ();
    wes_buf_printf (b, "%s/data", self->dir);
    self->datadir = wes_buf_steal (b);
    wes_buf_printf (b, "%s/server.log", self->dir);
    self->logfile = wes_buf_steal (b);
    wes_buf_destroy (&b);
    s_watchdog_start (self);

    if (geteuid () == 0) {
        /*  PostgreSQL refuses to run as root: run it as the postgres user,
            who must own the directory. */
        const char *user = getenv ("WES_PG_USER");
        struct passwd *pw = getpwnam (user && *user ? user : "postgres");
        if (!pw) {
            fprintf (stderr,
                     "wes_pgfix: running as root, but there is no OS user '%s' to run "
                     "PostgreSQL as\n",
                     user && *user ? user : "postgres");
            wes_pgfix_destroy (&self);
            return NULL;
        }
        self->as_user = true;
        self->run_uid = pw->pw_uid;
        self->run_gid = pw->pw_gid;
        if (chown (self->dir, self->run_uid, self->run_gid) != 0) {
            fprintf (stderr, "wes_pgfix: cannot chown %s: %s\n", self->dir, strerror (errno));
            wes_pgfix_destroy (&self);
            return NULL;
        }
    }
    if (s_initdb (self) != 0 || s_write_config (self) != 0) {
        wes_pgfix_destroy (&self);
        return NULL;
    }
    self->port = 0;
    if (s_launch (self) != 0) {
        wes_pgfix_destroy (&self);
        return NULL;
    }
    return self;
}

void
wes_pgfix_destroy (wes_pgfix_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wes_pgfix_t *self = *self_p;
    int rc = wes_pgfix_stop (self);
    (void)rc;
    s_watchdog_release (self);
    if (self->dir) {
        const char *keep = getenv ("WES_PG_KEEP");
        if (keep && *keep && strcmp (keep, "0") != 0) {
            fprintf (stderr, "wes_pgfix: keeping %s (WES_PG_KEEP)\n", self->dir);
        }
        else {
            wes_test_rmtree (self->dir);
        }
    }
    free (self->dir);
    free (self->datadir);
    free (self->logfile);
    free (self->bindir);
    free (self->psql);
    free (self);
    *self_p = NULL;
}

int
wes_pgfix_start_scratch (const char *prefix, wes_pgfix_t **pg_out, char **dir_out)
{
    signal (SIGPIPE, SIG_IGN);
    *pg_out = wes_pgfix_start ();
    *dir_out = wes_test_tmpdir (prefix);
    if (!*dir_out) {
        fprintf (stderr, "pgfix: no scratch directory for %s: %s\n", prefix, strerror (errno));
    }
    return *pg_out && *dir_out ? 0 : -1;
}

void
wes_pgfix_destroy_scratch (wes_pgfix_t **pg_p, char **dir_p)
{
    wes_pgfix_destroy (pg_p);
    if (*dir_p) {
        wes_test_rmtree (*dir_p);
        free (*dir_p);
        *dir_p = NULL;
    }
}

int
wes_pgfix_stop (wes_pgfix_t *self)
{
    wes_assert (self);
    if (self->pid <= 0) {
        return 0;
    }
    /*  SIGQUIT is PostgreSQL's immediate shutdown: the postmaster quits its
        children and exits without a checkpoint. */
    int status = 0;
    int rc = 0;
    if (kill (self->pid, SIGQUIT) != 0 && errno != ESRCH) {
        fprintf (stderr, "wes_pgfix: cannot signal postmaster %ld: %s\n", (long)self->pid,
                 strerror (errno));
    }
    if (s_wait_exit (self->pid, S_STOP_TIMEOUT_MS, &status) != 0) {
        fprintf (stderr, "wes_pgfix: postmaster %ld did not stop in %d ms, killing it\n",
                 (long)self->pid, S_STOP_TIMEOUT_MS);
        kill (self->pid, SIGKILL);
        rc = s_wait_exit (self->pid, S_STOP_TIMEOUT_MS, &status);
    }
    self->pid = 0;
    return rc;
}

int
wes_pgfix_restart (wes_pgfix_t *self)
{
    wes_assert (self);
    if (wes_pgfix_stop (self) != 0) {
        return -1;
    }
    return s_launch (self);
}

char *
wes_pgfix_conninfo (const wes_pgfix_t *self, const char *dbname)
{
    wes_assert (self);
    wes_buf_t *b = wes_buf_new ();
    s_conn_value (b, "host", self->dir);
    wes_buf_printf (b, " port=%d", self->port);
    s_conn_value (b, " user", "postgres");
    s_conn_value (b, " dbname", dbname ? dbname : "postgres");
    char *out = wes_buf_steal (b);
    wes_buf_destroy (&b);
    return out;
}

const char *
wes_pgfix_dir (const wes_pgfix_t *self)
{
    return self->dir;
}

const char *
wes_pgfix_datadir (const wes_pgfix_t *self)
{
    return self->datadir;
}

const char *
wes_pgfix_bindir (const wes_pgfix_t *self)
{
    return self->bindir;
}

const char *
wes_pgfix_psql_path (const wes_pgfix_t *self)
{
    return self->psql;
}

int
wes_pgfix_port (const wes_pgfix_t *self)
{
    return self->port;
}

pid_t
wes_pgfix_pid (const wes_pgfix_t *self)
{
    return self->pid;
}

const char *
wes_pgfix_logfile (const wes_pgfix_t *self)
{
    return self->logfile;
}

int
wes_pgfix_createdb (wes_pgfix_t *self, const char *name)
{
    wes_buf_t *b = wes_buf_new ();
    wes_buf_puts (b, "CREATE DATABASE ");
    wes_buf_put_ident (b, name);
    wes_buf_puts (b, " TEMPLATE template0");
    int rc = wes_pgfix_exec (self, NULL, wes_buf_data (b));
    wes_buf_destroy (&b);
    return rc;
}

int
wes_pgfix_dropdb (wes_pgfix_t *self, const char *name)
{
    wes_buf_t *b = wes_buf_new ();
    wes_buf_puts (b, "DROP DATABASE IF EXISTS ");
    wes_buf_put_ident (b, name);
    wes_buf_puts (b, " WITH (FORCE)");
    int rc = wes_pgfix_exec (self, NULL, wes_buf_data (b));
    wes_buf_destroy (&b);
    return rc;
}

int
wes_pgfix_psql (wes_pgfix_t *self, const char *db, const char *sql, char **output)
{
    wes_assert (self);
    wes_assert (sql);
    char *conninfo = wes_pgfix_conninfo (self, db);
    char *argv[] = {self->psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", conninfo, NULL};
    int rc = s_run_psql (self, argv, sql, output);
    free (conninfo);
    return rc;
}

int
wes_pgfix_psql_file (wes_pgfix_t *self, const char *db, const char *path, char **output)
{
    wes_assert (self);
    wes_assert (path);
    char *conninfo = wes_pgfix_conninfo (self, db);
    char *argv[] = {self->psql, "-X",     "-q", "-v",         "ON_ERROR_STOP=1",
                    "-d",       conninfo, "-f", (char *)path, NULL};
    int rc = s_run_psql (self, argv, NULL, output);
    free (conninfo);
    return rc;
}

PGconn *
wes_pgfix_connect (wes_pgfix_t *self, const char *db)
{
    wes_assert (self);
    char *conninfo = wes_pgfix_conninfo (self, db);
    PGconn *conn = PQconnectdb (conninfo);
    free (conninfo);
    if (!conn || PQstatus (conn) != CONNECTION_OK) {
        fprintf (stderr, "wes_pgfix: cannot connect to %s: %s", db ? db : "postgres",
                 conn ? PQerrorMessage (conn) : "out of memory\n");
        PQfinish (conn);
        return NULL;
    }
    PQsetNoticeProcessor (conn, s_quiet_notice, NULL);
    return conn;
}

PGresult *
wes_pgfix_query (PGconn *conn, const char *sql)
{
    wes_assert (conn);
    PGresult *res = PQexec (conn, sql);
    ExecStatusType st = res ? PQresultStatus (res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        fprintf (stderr, "wes_pgfix: query failed: %s  statement: %.500s\n", PQerrorMessage (conn),
                 sql);
        PQclear (res);
        return NULL;
    }
    return res;
}

char *
wes_pgfix_query_value (wes_pgfix_t *self, const char *db, const char *sql)
{
    PGconn *conn = wes_pgfix_connect (self, db);
    if (!conn) {
        return NULL;
    }
    char *out = NULL;
    PGresult *res = wes_pgfix_query (conn, sql);
    if (res && PQntuples (res) > 0 && PQnfields (res) > 0 && !PQgetisnull (res, 0, 0)) {
        out = wes_strdup (PQgetvalue (res, 0, 0));
    }
    PQclear (res);
    PQfinish (conn);
    return out;
}

int
wes_pgfix_exec (wes_pgfix_t *self, const char *db, const char *sql)
{
    PGconn *conn = wes_pgfix_connect (self, db);
    if (!conn) {
        return -1;
    }
    PGresult *res = wes_pgfix_query (conn, sql);
    int rc = res ? 0 : -1;
    PQclear (res);
    PQfinish (conn);
    return rc;
}

/*  A crashed test (a failed sanitizer check, a signal, the CTest timeout)
    never reaches wes_pgfix_destroy. Its servers stop by themselves (parent-
    death signal), and this watchdog, a forked child blocked on a pipe, sees
    the pipe close when we die and then removes the directory. In its own
    process group, so a signal to the test's group does not take it along. */
static void
s_watchdog_start (wes_pgfix_t *self)
{
    int fds[2];
    if (pipe (fds) != 0) {
        return; /* no watchdog: only a crash would show the difference */
    }
    fcntl (fds[0], F_SETFD, FD_CLOEXEC);
    fcntl (fds[1], F_SETFD, FD_CLOEXEC);
    fflush (NULL);
    pid_t pid = fork ();
    if (pid < 0) {
        close (fds[0]);
        close (fds[1]);
        return;
    }
    if (pid > 0) {
        close (fds[0]);
        self->watchdog = pid;
        self->watchdog_fd = fds[1];
        return;
    }
    /*  The watchdog: hold nothing of the test's (CTest waits for its output
        pipes to close), wait, and clean up only if the test died. */
    int rfd = fds[0];
    int null_fd = open ("/dev/null", O_RDWR);
    dup2 (null_fd, 0);
    dup2 (null_fd, 1);
    dup2 (null_fd, 2);
    for (int fd = 3; fd < 1024; fd++) {
        if (fd != rfd) {
            close (fd);
        }
    }
    setpgid (0, 0);
    char c;
    ssize_t n;
    do {
        n = read (rfd, &c, 1);
    } while (n < 0 && errno == EINTR);
    if (n == 1) {
        _exit (0);
    }
    /*  The test is gone: make sure its server is too, then remove the lot. */
    char pidfile[4096];
    snprintf (pidfile, sizeof pidfile, "%s/postmaster.pid", self->datadir);
    int pfd = open (pidfile, O_RDONLY);
    if (pfd >= 0) {
        char buf[32] = {0};
        ssize_t r = read (pfd, buf, sizeof buf - 1);
        close (pfd);
        pid_t pm = r > 0 ? (pid_t)atol (buf) : 0;
        if (pm > 0) {
            kill (pm, SIGQUIT);
            for (int i = 0; i < 1500 && kill (pm, 0) == 0; i++) {
                wes_test_sleep_ms (10);
            }
            if (kill (pm, 0) == 0) {
                kill (pm, SIGKILL); /* or a zombie nobody reaps: harmless */
            }
        }
    }
    execl ("/bin/rm", "rm", "-rf", "--", self->dir, (char *)NULL);
    _exit (1);
}

/*  Tells the watchdog the fixture was destroyed in order, and reaps it. */
static void
s_watchdog_release (wes_pgfix_t *self)
{
    if (self->watchdog <= 0) {
        return;
    }
    ssize_t n = write (self->watchdog_fd, "x", 1);
    (void)n;
    close (self->watchdog_fd);
    int status;
    while (waitpid (self->watchdog, &status, 0) < 0 && errno == EINTR) {
    }
    self->watchdog = 0;
}

/*  WES_PG_BINDIR, else `pg_config --bindir` when it holds initdb, else the
    Debian path of PostgreSQL 15. */
static char *
s_find_bindir (void)
{
    const char *env = getenv ("WES_PG_BINDIR");
    if (env && *env) {
        return wes_strdup (env);
    }
    char *out = NULL;
    if (wes_test_run ("pg_config --bindir", &out) == 0 && out) {
        out[strcspn (out, "\r\n")] = '\0';
        wes_buf_t *b = wes_buf_new ();
        wes_buf_printf (b, "%s/initdb", out);
        bool ok = access (wes_buf_data (b), X_OK) == 0;
        wes_buf_destroy (&b);
        if (ok) {
            return out;
        }
    }
    free (out);
    if (access ("/usr/lib/postgresql/15/bin/initdb", X_OK) == 0) {
        return wes_strdup ("/usr/lib/postgresql/15/bin");
    }
    return NULL;
}

static int
s_initdb (wes_pgfix_t *self)
{
    wes_buf_t *b = wes_buf_new ();
    wes_buf_printf (b, "%s/initdb", self->bindir);
    char *initdb = wes_buf_steal (b);
    wes_buf_printf (b, "%s/initdb.log", self->dir);
    char *logpath = wes_buf_steal (b);
    wes_buf_destroy (&b);

    int rc = -1;
    int log_fd = open (logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0) {
        fprintf (stderr, "wes_pgfix: cannot write %s: %s\n", logpath, strerror (errno));
    }
    else {
        char *argv[] = {
            initdb, "-D",   self->datadir, "-U",        "postgres",          "--auth=trust",
            "-E",   "UTF8", "--locale=C",  "--no-sync", "--no-instructions", NULL};
        pid_t pid = s_spawn (self, argv, -1, log_fd, self->as_user, true);
        close (log_fd);
        int status = 0;
        if (pid > 0 && s_wait_exit (pid, -1, &status) == 0 && WIFEXITED (status)
            && WEXITSTATUS (status) == 0) {
            rc = 0;
        }
        else {
            char *log = wes_test_read_file (logpath, NULL);
            fprintf (stderr, "wes_pgfix: initdb failed (status %d):\n%s\n", status,
                     log ? log : "(no log)");
            free (log);
        }
    }
    free (initdb);
    free (logpath);
    return rc;
}

/*  Settings for a disposable test server: no durability, quiet logs, socket
    only, pg_stat_statements loaded (the dead-columns work reads it).
    synchronous_commit stays on (cheap with fsync off), so what a test
    committed survives wes_pgfix_restart's immediate shutdown. */
static int
s_write_config (wes_pgfix_t *self)
{
    const char *maxc = getenv ("WES_PG_MAX_CONNECTIONS");
    int max_connections = maxc && atoi (maxc) > 0 ? atoi (maxc) : S_DEFAULT_MAX_CONNECTIONS;
    wes_buf_t *path = wes_buf_new ();
    wes_buf_printf (path, "%s/postgresql.conf", self->datadir);
    FILE *f = fopen (wes_buf_data (path), "a");
    if (!f) {
        fprintf (stderr, "wes_pgfix: cannot append to %s: %s\n", wes_buf_data (path),
                 strerror (errno));
        wes_buf_destroy (&path);
        return -1;
    }
    fprintf (f,
             "\n# wes_pgfix: settings for a throwaway test cluster\n"
             "listen_addresses = ''\n"
             "unix_socket_directories = '%s'\n"
             "unix_socket_permissions = 0777\n"
             "max_connections = %d\n"
             "max_locks_per_transaction = 256\n"
             "shared_buffers = 32MB\n"
             "shared_preload_libraries = 'pg_stat_statements'\n"
             "pg_stat_statements.track = all\n"
             "fsync = off\n"
             "synchronous_commit = on\n"
             "full_page_writes = off\n"
             "wal_level = minimal\n"
             "max_wal_senders = 0\n"
             "max_wal_size = 1GB\n"
             "checkpoint_timeout = 1h\n"
             "autovacuum = off\n"
             "jit = off\n"
             "timezone = 'UTC'\n"
             "lc_messages = 'C'\n"
             "logging_collector = off\n"
             "log_min_messages = warning\n"
             "log_line_prefix = '%%m [%%p] '\n"
             "dynamic_shared_memory_type = posix\n",
             self->dir, max_connections);
    int rc = fclose (f) == 0 ? 0 : -1;
    if (rc != 0) {
        fprintf (stderr, "wes_pgfix: cannot write %s\n", wes_buf_data (path));
    }
    wes_buf_destroy (&path);
    return rc;
}

/*  Starts the postmaster and waits until it accepts connections. Tries
    another port when the chosen one is taken (another fixture, or a server
    on the machine, raced us to it). */
static int
s_launch (wes_pgfix_t *self)
{
    wes_buf_t *b = wes_buf_new ();
    wes_buf_printf (b, "%s/postgres", self->bindir);
    char *postgres = wes_buf_steal (b);
    wes_buf_destroy (&b);
    int rc = -1;
    for (int attempt = 0; attempt < S_PORT_ATTEMPTS && rc != 0; attempt++) {
        if (self->port == 0 || attempt > 0) {
            int port = 0;
            for (unsigned i = 0; i < 64 && port == 0; i++) {
                unsigned r = self->seed + (unsigned)attempt * 7919u + i * 104729u;
                int candidate = S_PORT_LOW + (int)(r % S_PORT_SPAN);
                if (wes_test_tcp_free (candidate)) { /* no TCP, but prefer a port nothing has */
                    port = candidate;
                }
            }
            if (port == 0) {
                fprintf (stderr, "wes_pgfix: found no free port\n");
                break;
            }
            self->port = port;
        }
        int log_fd = open (self->logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (log_fd < 0) {
            fprintf (stderr, "wes_pgfix: cannot write %s: %s\n", self->logfile, strerror (errno));
            break;
        }
        off_t log_start = lseek (log_fd, 0, SEEK_END);
        char portstr[16];
        snprintf (portstr, sizeof portstr, "%d", self->port);
        char *argv[] = {postgres, "-D", self->datadir, "-p", portstr, NULL};
        pid_t pid = s_spawn (self, argv, -1, log_fd, self->as_user, true);
        close (log_fd);
        if (pid <= 0) {
            break;
        }
        self->pid = pid;
        char *conninfo = wes_pgfix_conninfo (self, "postgres");
        wes_buf_t *ci = wes_buf_new ();
        wes_buf_printf (ci, "%s connect_timeout=5", conninfo);
        free (conninfo);
        long long deadline = wes_test_now_ms () + S_READY_TIMEOUT_MS;
        bool exited = false;
        while (wes_test_now_ms () < deadline) {
            if (PQping (wes_buf_data (ci)) == PQPING_OK) {
                rc = 0;
                break;
            }
            int status = 0;
            pid_t w = waitpid (pid, &status, WNOHANG);
            if (w == pid) {
                exited = true;
                self->pid = 0;
                break;
            }
            wes_test_sleep_ms (10);
        }
        wes_buf_destroy (&ci);
        if (rc == 0) {
            break;
        }
        /*  Did the server fail because of the port? Then try another one. */
        char *log = wes_test_read_file (self->logfile, NULL);
        const char *fresh = log && log_start >= 0 && (size_t)log_start <= strlen (log)
                                ? log + log_start
                                : (log ? log : "");
        bool port_trouble = strstr (fresh, "could not bind") || strstr (fresh, "lock file")
                            || strstr (fresh, "could not create any Unix-domain sockets");
        free (log);
        if (!exited) {
            fprintf (stderr, "wes_pgfix: server not ready after %d ms\n", S_READY_TIMEOUT_MS);
            int st = wes_pgfix_stop (self);
            (void)st;
            break;
        }
        if (!port_trouble) {
            break;
        }
    }
    if (rc != 0) {
        char *tail = s_log_tail (self);
        fprintf (stderr, "wes_pgfix: could not start PostgreSQL in %s; server log:\n%s\n",
                 self->dir, tail);
        free (tail);
    }
    free (postgres);
    return rc;
}

/*  fork + exec: stdin from in_fd (or /dev/null), stdout and stderr to out_fd.
    as_user drops to the postgres OS user; die_with_parent asks the kernel
    to SIGQUIT the child when we die, so a crashed test leaves no server. */
static pid_t
s_spawn (wes_pgfix_t *self, char *const argv[], int in_fd, int out_fd, bool as_user,
         bool die_with_parent)
{
    pid_t parent = getpid ();
    fflush (NULL);
    pid_t pid = fork ();
    if (pid < 0) {
        fprintf (stderr, "wes_pgfix: fork: %s\n", strerror (errno));
        return -1;
    }
    if (pid > 0) {
        return pid;
    }
    /*  Child: async-signal-safe calls only from here on. */
    int null_fd = open ("/dev/null", O_RDWR);
    if (dup2 (in_fd >= 0 ? in_fd : null_fd, 0) < 0 || dup2 (out_fd >= 0 ? out_fd : null_fd, 1) < 0
        || dup2 (out_fd >= 0 ? out_fd : null_fd, 2) < 0) {
        _exit (126);
    }
    if (as_user) {
        /*  The server user may not enter our working directory (/root). */
        if (chdir (self->dir) != 0) {
            _exit (126);
        }
        gid_t gid = self->run_gid;
        if (setgroups (1, &gid) != 0 || setgid (self->run_gid) != 0
            || setuid (self->run_uid) != 0) {
            static const char msg[] = "wes_pgfix: cannot switch to the postgres user\n";
            ssize_t n = write (2, msg, sizeof msg - 1);
            (void)n;
            _exit (126);
        }
    }
    /*  After the uid change, which clears the parent-death signal. */
    if (die_with_parent) {
        if (prctl (PR_SET_PDEATHSIG, SIGQUIT) != 0 || getppid () != parent) {
            _exit (126);
        }
    }
    execve (argv[0], argv, environ);
    static const char msg[] = "wes_pgfix: cannot execute the program\n";
    ssize_t n = write (2, msg, sizeof msg - 1);
    (void)n;
    _exit (127);
}

/*  Waits for pid to exit; timeout_ms < 0 waits for ever. 0 when it exited
    (status in *status_out), -1 on timeout or error. */
static int
s_wait_exit (pid_t pid, int timeout_ms, int *status_out)
{
    long long deadline = wes_test_now_ms () + timeout_ms;
    while (true) {
        int status = 0;
        pid_t w = waitpid (pid, &status, timeout_ms < 0 ? 0 : WNOHANG);
        if (w == pid) {
            if (status_out) {
                *status_out = status;
            }
            return 0;
        }
        if (w < 0 && errno != EINTR) {
            return -1;
        }
        if (timeout_ms >= 0 && wes_test_now_ms () >= deadline) {
            return -1;
        }
        if (w == 0) {
            wes_test_sleep_ms (5);
        }
    }
}

/*  Runs psql with input streamed to its stdin (through a socket pair, so a
    psql that stops reading gives us EPIPE, never SIGPIPE) and collects its
    output without blocking on either side. */
static int
s_run_psql (wes_pgfix_t *self, char *const argv[], const char *input, char **output)
{
    int in_sv[2] = {-1, -1};
    int out_p[2] = {-1, -1};
    if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_sv) != 0 || pipe (out_p) != 0) {
        fprintf (stderr, "wes_pgfix: cannot create pipes: %s\n", strerror (errno));
        for (int i = 0; i < 2; i++) {
            if (in_sv[i] >= 0) {
                close (in_sv[i]);
            }
            if (out_p[i] >= 0) {
                close (out_p[i]);
            }
        }
        return -1;
    }
    fcntl (out_p[0], F_SETFD, FD_CLOEXEC);
    fcntl (out_p[1], F_SETFD, FD_CLOEXEC);
    pid_t pid = s_spawn (self, argv, input ? in_sv[1] : -1, out_p[1], false, true);
    close (in_sv[1]);
    close (out_p[1]);
    if (pid <= 0) {
        close (in_sv[0]);
        close (out_p[0]);
        return -1;
    }
    int wfd = in_sv[0];
    if (!input) {
        close (wfd);
        wfd = -1;
    }
    else {
        fcntl (wfd, F_SETFL, fcntl (wfd, F_GETFL) | O_NONBLOCK);
    }
    size_t in_len = input ? strlen (input) : 0;
    size_t in_off = 0;
    if (wfd >= 0 && in_len == 0) {
        close (wfd);
        wfd = -1;
    }
    wes_buf_t *out = wes_buf_new ();
    int rfd = out_p[0];
    while (rfd >= 0) {
        struct pollfd pfd[2];
        int n = 0;
        pfd[n].fd = rfd;
        pfd[n].events = POLLIN;
        n++;
        if (wfd >= 0) {
            pfd[n].fd = wfd;
            pfd[n].events = POLLOUT;
            n++;
        }
        if (poll (pfd, (nfds_t)n, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        if (wfd >= 0 && (pfd[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = send (wfd, input + in_off, in_len - in_off, MSG_NOSIGNAL);
            if (w > 0) {
                in_off += (size_t)w;
            }
            if ((w < 0 && errno != EAGAIN && errno != EINTR) || in_off == in_len) {
                close (wfd); /* done, or psql stopped reading */
                wfd = -1;
            }
        }
        if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            char chunk[8192];
            ssize_t r = read (rfd, chunk, sizeof chunk);
            if (r > 0) {
                wes_buf_append (out, chunk, (size_t)r);
            }
            else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
                close (rfd);
                rfd = -1;
            }
        }
    }
    if (wfd >= 0) {
        close (wfd);
    }
    int status = 0;
    int rc = -1;
    if (s_wait_exit (pid, -1, &status) == 0 && WIFEXITED (status)) {
        rc = WEXITSTATUS (status);
        if (rc == 127 || rc == 126) {
            rc = -1;
        }
    }
    if (output) {
        *output = wes_buf_steal (out);
    }
    wes_buf_destroy (&out);
    return rc;
}

static char *
s_log_tail (const wes_pgfix_t *self)
{
    size_t len = 0;
    char *log = self->logfile ? wes_test_read_file (self->logfile, &len) : NULL;
    if (!log) {
        return wes_strdup ("(no server log)");
    }
    if (len > S_LOG_TAIL_BYTES) {
        char *tail = wes_strdup (log + len - S_LOG_TAIL_BYTES);
        free (log);
        return tail;
    }
    return log;
}

static void
s_quiet_notice (void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/*  Appends key='value' with libpq's quoting (backslash before ' and \). */
static void
s_conn_value (wes_buf_t *b, const char *key, const char *value)
{
    wes_buf_printf (b, "%s='", key);
    for (const char *p = value; *p; p++) {
        if (*p == '\'' || *p == '\\') {
            wes_buf_append (b, "\\", 1);
        }
        wes_buf_append (b, p, 1);
    }
    wes_buf_append (b, "'", 1);
}

int
wes_pgfix_hba_prepend (wes_pgfix_t *self, const char *line)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/pg_hba.conf", self->datadir);
    FILE *f = fopen (path, "rb");
    if (!f) {
        fprintf (stderr, "pgfix: cannot read %s\n", path);
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    char *old = wes_alloc (cap + 1);
    size_t got;
    while ((got = fread (old + len, 1, cap - len, f)) > 0 && len + got < cap) {
        len += got;
    }
    len += got;
    fclose (f);
    /*  Rewritten in place, so the file keeps its owner (the postgres user). */
    f = fopen (path, "wb");
    if (!f) {
        free (old);
        fprintf (stderr, "pgfix: cannot write %s\n", path);
        return -1;
    }
    int rc = fprintf (f, "%s\n", line) < 0 || fwrite (old, 1, len, f) != len ? -1 : 0;
    rc = fclose (f) != 0 ? -1 : rc;
    free (old);
    if (rc != 0) {
        return -1;
    }
    char *v = wes_pgfix_query_value (self, NULL, "SELECT pg_reload_conf()");
    rc = v && strcmp (v, "t") == 0 ? 0 : -1;
    free (v);
    return rc;
}
