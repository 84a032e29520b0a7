/*  wes_cli_watch.c — `wesley watch SCHEMA -o DIR` (D012): compiles SCHEMA
    once, then recompiles on every save, seen through inotify on the
    directory holding SCHEMA (so a save by rename over the file, by
    truncate-and-write, and a delete followed by a re-create all count).
    Events are debounced: a compile starts once no event came for the
    debounce time. The outputs are those of `wesley compile`, replaced only
    when a compile succeeded (wes_cli_write_outputs: temporary files, then
    renames). A bad edit, a missing file or a read error is reported and
    waited out; SIGINT/SIGTERM (read from a signalfd, no handler) end it
    with 0. Exit codes: 0 stopped by a signal, 2 usage, 3 the output
    directory cannot be created or the schema's directory cannot be
    watched. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "schema/wes_compile.h"
#include "util/wes_diag.h"
#include "util/wes_mem.h"
#include "wes_cli.h"

#define S_DEBOUNCE_DEFAULT_MS 200
/*  A debounce longer than a minute is a typo, not a wish. */
#define S_DEBOUNCE_MAX_MS 60000
/*  How often to try watching the directory again after it went away. */
#define S_REWATCH_MS 500
/*  What the directory watch reports: every way a file in it can change. */
#define S_MASK                                                                                     \
    (IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO  \
     | IN_DELETE_SELF | IN_MOVE_SELF)

/*  The watcher's state. */
typedef struct {
    const char *path; /* SCHEMA as given */
    const char *out;  /* output directory */
    char *dir;        /* directory holding SCHEMA, owned */
    char *base;       /* SCHEMA's file name in dir, owned */
    int debounce_ms;  /* quiet time before a compile */
    int ifd;          /* inotify descriptor */
    int wd;           /* watch on dir, -1 while it is lost */
    int sfd;          /* signalfd for SIGINT and SIGTERM */
    bool pending;     /* an event is waiting for its compile */
    int64_t deadline; /* when the pending compile starts (monotonic ms) */
    int64_t rewatch;  /* next attempt to watch dir again (monotonic ms) */
} s_watch_t;

static int64_t s_now_ms (void);
static void s_compile (const s_watch_t *w);
static int s_read_events (s_watch_t *w);
static int s_add_watch (s_watch_t *w);

int
wes_cli_watch (int argc, char **argv)
{
    static const char *usage =
        "usage: wesley watch SCHEMA -o DIR [--debounce-ms N]\n"
        "  Compiles SCHEMA, then recompiles it on every save (inotify on its directory:\n"
        "  a save by rename, an in-place write, a delete and re-create all count) and\n"
        "  writes what `wesley compile` writes, replacing the files atomically and only\n"
        "  when the compile succeeded. Prints \"compiled SCHEMA in N ms: hash H\" per\n"
        "  compile on stdout; errors (FILE:LINE:COL: error: ...) on stderr, and keeps\n"
        "  watching: a bad edit, a missing file or a read error never ends it.\n"
        "  -o, --out DIR      output directory (created if missing; default: .)\n"
        "  --debounce-ms N    compile once no change came for N ms, 0-60000\n"
        "                     (default: 200)\n"
        "exit: 0 stopped by SIGINT or SIGTERM, 2 usage, 3 DIR cannot be created or the\n"
        "  schema's directory cannot be watched\n";
    const char *path = NULL, *out = ".";
    long debounce = S_DEBOUNCE_DEFAULT_MS;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp (a, "--help") == 0 || strcmp (a, "-h") == 0) {
            fputs (usage, stdout);
            return 0;
        }
        if ((strcmp (a, "-o") == 0 || strcmp (a, "--out") == 0) && i + 1 < argc) {
            out = argv[++i];
        }
        else if (strcmp (a, "--debounce-ms") == 0 && i + 1 < argc) {
            if (wes_cli_int_arg ("watch", a, argv[++i], 0, S_DEBOUNCE_MAX_MS, &debounce) != 0) {
                return 2;
            }
        }
        else if (a[0] == '-') {
            fprintf (stderr, "wesley watch: unknown or incomplete argument '%s'\n%s", a, usage);
            return 2;
        }
        else if (!path) {
            path = a;
        }
        else {
            fprintf (stderr, "wesley watch: one SCHEMA only ('%s' is extra)\n%s", a, usage);
            return 2;
        }
    }
    if (!path) {
        fprintf (stderr, "wesley watch: SCHEMA is required\n%s", usage);
        return 2;
    }
    const char *slash = strrchr (path, '/');
    if (slash && slash[1] == '\0') {
        fprintf (stderr, "wesley watch: SCHEMA must name a file, not '%s'\n", path);
        return 2;
    }
    if (mkdir (out, 0777) != 0 && errno != EEXIST) {
        fprintf (stderr, "wesley watch: cannot create directory %s: %s\n", out, strerror (errno));
        return 3;
    }
    s_watch_t w = {.path = path, .out = out, .debounce_ms = (int)debounce, .wd = -1, .sfd = -1};
    w.dir = slash ? (slash == path ? wes_strdup ("/") : wes_strndup (path, (size_t)(slash - path)))
                  : wes_strdup (".");
    w.base = wes_strdup (slash ? slash + 1 : path);

    /*  SIGINT and SIGTERM arrive on a descriptor, read in the loop. */
    sigset_t mask;
    sigemptyset (&mask);
    sigaddset (&mask, SIGINT);
    sigaddset (&mask, SIGTERM);
    int rc = 3;
    w.ifd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
    if (sigprocmask (SIG_BLOCK, &mask, NULL) != 0
        || (w.sfd = signalfd (-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 || w.ifd < 0) {
        fprintf (stderr, "wesley watch: cannot set up inotify or signals: %s\n", strerror (errno));
        goto done;
    }
    if (s_add_watch (&w) != 0) {
        fprintf (stderr, "wesley watch: cannot watch directory %s: %s\n", w.dir, strerror (errno));
        goto done;
    }
    fprintf (stderr, "wesley watch: watching %s (debounce %d ms), writing to %s\n", path,
             w.debounce_ms, out);
    s_compile (&w);
    for (;;) {
        int64_t now = s_now_ms ();
        int timeout = -1;
        if (w.pending) {
            timeout = w.deadline > now ? (int)(w.deadline - now) : 0;
        }
        if (w.wd < 0) {
            int t = w.rewatch > now ? (int)(w.rewatch - now) : 0;
            timeout = timeout < 0 || t < timeout ? t : timeout;
        }
        struct pollfd fds[2] = {{.fd = w.sfd, .events = POLLIN}, {.fd = w.ifd, .events = POLLIN}};
        int n = poll (fds, 2, timeout);
        if (n < 0 && errno != EINTR) {
            fprintf (stderr, "wesley watch: poll: %s\n", strerror (errno));
            goto done;
        }
        if (n > 0 && (fds[0].revents & POLLIN)) {
            struct signalfd_siginfo si;
            if (read (w.sfd, &si, sizeof si) == (ssize_t)sizeof si) {
                fprintf (stderr, "wesley watch: stopped by %s\n",
                         si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
                rc = 0;
                goto done;
            }
        }
        if (n > 0 && (fds[1].revents & POLLIN) && s_read_events (&w) != 0) {
            goto done;
        }
        now = s_now_ms ();
        if (w.wd < 0 && now >= w.rewatch) {
            if (s_add_watch (&w) == 0) {
                fprintf (stderr, "wesley watch: watching %s again\n", w.dir);
                w.pending = true; /* whatever happened meanwhile */
                w.deadline = now;
            }
            else {
                w.rewatch = now + S_REWATCH_MS;
            }
        }
        if (w.pending && now >= w.deadline) {
            w.pending = false;
            s_compile (&w);
        }
    }
done:
    if (w.sfd >= 0) {
        close (w.sfd);
    }
    if (w.ifd >= 0) {
        close (w.ifd);
    }
    free (w.dir);
    free (w.base);
    return rc;
}

/*  One compile: outputs replaced on success, diagnostics otherwise. */
static void
s_compile (const s_watch_t *w)
{
    struct stat st;
    if (stat (w->path, &st) != 0) {
        fprintf (stderr, "wesley watch: %s: %s; waiting for it to come back\n", w->path,
                 strerror (errno));
        return;
    }
    int64_t start = s_now_ms ();
    wes_diag_t *diag = wes_diag_new (w->path);
    wes_model_t *model = wes_compile_file (w->path, diag);
    wes_diag_print (diag, stderr);
    size_t errors = wes_diag_errors (diag);
    wes_diag_destroy (&diag);
    if (!model) {
        fprintf (stderr,
                 "wesley watch: %s not compiled (%zu error%s); the outputs in %s are unchanged; "
                 "waiting for the next save\n",
                 w->path, errors, errors == 1 ? "" : "s", w->out);
        return;
    }
    char hash[65];
    wes_model_hash (model, hash);
    /*  The output directory may have gone since the start: make it again. */
    if (mkdir (w->out, 0777) != 0 && errno != EEXIST) {
        fprintf (stderr, "wesley watch: cannot create directory %s: %s\n", w->out,
                 strerror (errno));
    }
    int written = wes_cli_write_outputs (model, hash, w->out);
    wes_model_destroy (&model);
    if (written != 0) {
        fprintf (stderr,
                 "wesley watch: the outputs in %s could not be replaced; waiting for the "
                 "next save\n",
                 w->out);
        return;
    }
    printf ("compiled %s in %lld ms: hash %s\n", w->path, (long long)(s_now_ms () - start), hash);
    fflush (stdout);
}

/*  Drains the inotify descriptor: an event about SCHEMA (or an overflow,
    which may have hidden one) starts or restarts the debounce; the
    directory going away drops the watch, to be taken again when it is
    back. 0, or -1 on a read error that cannot be waited out. */
static int
s_read_events (s_watch_t *w)
{
    char buf[16384] __attribute__ ((aligned (__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t len = read (w->ifd, buf, sizeof buf);
        if (len < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                return 0;
            }
            fprintf (stderr, "wesley watch: reading inotify: %s\n", strerror (errno));
            return -1;
        }
        bool relevant = false;
        for (char *p = buf; p < buf + len;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            p += sizeof (struct inotify_event) + ev->len;
            if (ev->mask & IN_Q_OVERFLOW) {
                relevant = true;
            }
            else if (ev->wd == w->wd && (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF))) {
                fprintf (stderr, "wesley watch: directory %s went away; waiting for it\n", w->dir);
                inotify_rm_watch (w->ifd, w->wd); /* a moved directory is still watched */
                w->wd = -1;
                w->rewatch = s_now_ms () + S_REWATCH_MS;
                relevant = true;
            }
            else if (ev->len > 0 && strcmp (ev->name, w->base) == 0) {
                relevant = true;
            }
        }
        if (relevant) {
            w->pending = true;
            w->deadline = s_now_ms () + w->debounce_ms;
        }
    }
}

static int
s_add_watch (s_watch_t *w)
{
    w->wd = inotify_add_watch (w->ifd, w->dir, S_MASK | IN_ONLYDIR);
    return w->wd < 0 ? -1 : 0;
}

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
