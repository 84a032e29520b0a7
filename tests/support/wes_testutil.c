/*  wes_testutil.c — small helpers shared by the test programs. */
#include "wes_testutil.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/wes_buf.h"
#include "util/wes_mem.h"

/*  wes_test_tcp_port: the shared counter, and the range it walks (below
    the kernel's ephemeral ports, 32768 up, and apart from the port
    numbers wes_pgfix names its sockets with, 20000 up). */
#define S_PORT_FILE "/tmp/wesley-test-tcp-ports"
#define S_PORT_LOW 10000
#define S_PORT_SPAN 9000

char *
wes_test_read_file (const char *path, size_t *len_out)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        return NULL;
    }
    wes_buf_t *b = wes_buf_new ();
    char chunk[65536];
    size_t n;
    while ((n = fread (chunk, 1, sizeof chunk, f)) > 0) {
        wes_buf_append (b, chunk, n);
    }
    fclose (f);
    if (len_out) {
        *len_out = wes_buf_len (b);
    }
    char *out = wes_buf_steal (b);
    wes_buf_destroy (&b);
    return out;
}

int
wes_test_write_file (const char *path, const char *data)
{
    FILE *f = fopen (path, "wb");
    if (!f) {
        return -1;
    }
    size_t len = strlen (data);
    int rc = fwrite (data, 1, len, f) == len ? 0 : -1;
    if (fclose (f) != 0) {
        rc = -1;
    }
    return rc;
}

int
wes_test_run (const char *command, char **output)
{
    wes_buf_t *cmd = wes_buf_new ();
    wes_buf_printf (cmd, "(%s) 2>&1", command);
    FILE *p = popen (wes_buf_data (cmd), "r");
    wes_buf_destroy (&cmd);
    if (!p) {
        return -1;
    }
    wes_buf_t *b = wes_buf_new ();
    char chunk[4096];
    size_t n;
    while ((n = fread (chunk, 1, sizeof chunk, p)) > 0) {
        wes_buf_append (b, chunk, n);
    }
    int status = pclose (p);
    if (output) {
        *output = wes_buf_steal (b);
    }
    wes_buf_destroy (&b);
    if (status == -1 || !WIFEXITED (status)) {
        return -1;
    }
    return WEXITSTATUS (status);
}

int
wes_test_wesley (char **output, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    int len = vsnprintf (NULL, 0, fmt, ap);
    va_end (ap);
    if (len < 0) {
        return -1;
    }
    char *args = wes_alloc ((size_t)len + 1);
    va_start (ap, fmt);
    vsnprintf (args, (size_t)len + 1, fmt, ap);
    va_end (ap);
    wes_buf_t *cmd = wes_buf_new ();
    wes_buf_printf (cmd, "'%s' %s", WES_WESLEY_BIN, args);
    free (args);
    char *dummy = NULL;
    int rc = wes_test_run (wes_buf_data (cmd), output ? output : &dummy);
    free (dummy);
    wes_buf_destroy (&cmd);
    return rc;
}

int
wes_test_apply_schema (const char *sdl_path, const char *conninfo)
{
    wes_buf_t *cmd = wes_buf_new ();
    wes_buf_printf (cmd, "'%s' apply --quiet --schema '%s' --db '%s'", WES_WESLEY_BIN, sdl_path,
                    conninfo);
    char *out = NULL;
    int rc = wes_test_run (wes_buf_data (cmd), &out);
    if (rc != 0) {
        fprintf (stderr, "apply --schema failed: `%s` exited %d:\n%s\n", wes_buf_data (cmd), rc,
                 out ? out : "");
    }
    free (out);
    wes_buf_destroy (&cmd);
    return rc == 0 ? 0 : -1;
}

char *
wes_test_path (const char *dir, const char *name)
{
    wes_buf_t *b = wes_buf_new ();
    wes_buf_printf (b, "%s/%s", dir, name);
    char *path = wes_buf_steal (b);
    wes_buf_destroy (&b);
    return path;
}

void
wes_test_dump_file (const char *heading, const char *path)
{
    char *text = wes_test_read_file (path, NULL);
    fprintf (stderr, "%s:\n%s\n", heading, text ? text : "");
    free (text);
}

size_t
wes_test_count (const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; p && (p = strstr (p, needle)); p++) {
        n++;
    }
    return n;
}

size_t
wes_test_count_file (const char *path, const char *needle)
{
    char *text = wes_test_read_file (path, NULL);
    size_t n = wes_test_count (text, needle);
    free (text);
    return n;
}

char *
wes_test_wait_file (const char *path, const char *needle, size_t count, int timeout_ms)
{
    int64_t until = wes_test_now_ms () + timeout_ms;
    for (;;) {
        char *text = wes_test_read_file (path, NULL);
        if (wes_test_count (text, needle) >= count) {
            return text;
        }
        free (text);
        if (wes_test_now_ms () >= until) {
            break;
        }
        wes_test_sleep_ms (20);
    }
    if (count == 1) {
        fprintf (stderr, "no \"%s\" in %s within %d ms\n", needle, path, timeout_ms);
    }
    else {
        fprintf (stderr, "no %zu x \"%s\" in %s within %d ms\n", count, needle, path, timeout_ms);
    }
    return NULL;
}

int64_t
wes_test_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
wes_test_sleep_ms (int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep (&ts, &ts) != 0 && errno == EINTR) {
    }
}

char *
wes_test_tmpdir (const char *prefix)
{
    char tmpl[256];
    snprintf (tmpl, sizeof tmpl, "/tmp/%s-XXXXXX", prefix ? prefix : "wes");
    char *d = mkdtemp (tmpl);
    return d ? wes_strdup (d) : NULL;
}

void
wes_test_rmtree (const char *path)
{
    if (!path || !*path || strcmp (path, "/") == 0) {
        return;
    }
    wes_buf_t *cmd = wes_buf_new ();
    wes_buf_puts (cmd, "rm -rf -- ");
    wes_buf_put_literal (cmd, path);
    int rc = system (wes_buf_data (cmd));
    (void) rc;
    wes_buf_destroy (&cmd);
}

int
wes_test_spawn (char *const argv[], const char *log_path)
{
    pid_t pid = fork ();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        setpgid (0, 0);
        int fd = open (log_path ? log_path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2 (fd, 1);
            dup2 (fd, 2);
            close (fd);
        }
        int nul = open ("/dev/null", O_RDONLY);
        if (nul >= 0) {
            dup2 (nul, 0);
            close (nul);
        }
        execv (argv[0], argv);
        _exit (127);
    }
    setpgid (pid, pid); /* also here, so the group exists before we return */
    return (int) pid;
}

int
wes_test_wait (int pid, int timeout_ms)
{
    struct timespec start, now;
    clock_gettime (CLOCK_MONOTONIC, &start);
    for (;;) {
        int st = 0;
        pid_t r = waitpid ((pid_t) pid, &st, WNOHANG);
        if (r == (pid_t) pid) {
            return WIFEXITED (st) ? WEXITSTATUS (st) : 128 + WTERMSIG (st);
        }
        if (r < 0) {
            return -1;
        }
        clock_gettime (CLOCK_MONOTONIC, &now);
        long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (elapsed > timeout_ms) {
            return -1;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep (&ts, NULL);
    }
}

bool
wes_test_tcp_free (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return true; /* cannot tell */
    }
    struct sockaddr_in sa;
    memset (&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons ((uint16_t) port);
    sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    bool ok = bind (fd, (struct sockaddr *) &sa, sizeof sa) == 0; /* no SO_REUSEADDR */
    close (fd);
    return ok;
}

int
wes_test_tcp_port (void)
{
    int fd = open (S_PORT_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0 || flock (fd, LOCK_EX) != 0) {
        fprintf (stderr, "wes_test_tcp_port: %s: %s\n", S_PORT_FILE, strerror (errno));
        if (fd >= 0) {
            close (fd);
        }
        return -1;
    }
    char text[32] = "";
    ssize_t n = pread (fd, text, sizeof text - 1, 0);
    text[n > 0 ? n : 0] = '\0';
    char *end = NULL;
    unsigned long next = strtoul (text, &end, 10);
    if (end == text) { /* a new file: start somewhere else each time */
        next = (unsigned long) getpid () * 7919u + (unsigned long) wes_test_now_ms ();
    }
    int port = -1;
    for (int tries = 0; tries < 200 && port < 0; tries++) {
        int candidate = S_PORT_LOW + (int) (next++ % S_PORT_SPAN);
        if (wes_test_tcp_free (candidate)) {
            port = candidate;
        }
    }
    int len = snprintf (text, sizeof text, "%lu\n", next % (S_PORT_SPAN * 1000ul));
    if (ftruncate (fd, 0) != 0 || pwrite (fd, text, (size_t) len, 0) != len) {
        fprintf (stderr, "wes_test_tcp_port: cannot write %s\n", S_PORT_FILE);
    }
    close (fd); /* releases the lock */
    if (port < 0) {
        fprintf (stderr, "wes_test_tcp_port: no free port in %d..%d\n", S_PORT_LOW,
                 S_PORT_LOW + S_PORT_SPAN - 1);
    }
    return port;
}
