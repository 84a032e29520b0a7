/*  test_store.c — the checkpoint store: create/open/reopen (the epoch grows,
    state survives), the lock (a second read-write open fails at once naming
    the holder, in this process and from a child; read-only opens work while
    it is held), refusals of random bytes, empty files, foreign SQLite
    files, a newer format, corrupted and truncated files (each left byte-
    identical with no sidecar files), put/each/events/options/run state,
    group commit (atomic, invisible until commit, all or nothing on error),
    the 0600 mode whatever the umask, damaged rows refused by each_step, and
    crash safety: a child writing transitions is SIGKILLed and the reopened
    store holds a consistent prefix containing everything acknowledged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "coordinator/wes_store.h"
#include "util/wes_buf.h"
#include "util/wes_mem.h"
#include "wes_testutil.h"

#define S_PLAN "{\"format\":\"wesley-plan/1\",\"steps\":[]}"
#define S_HASH "0123456789abcdef"

typedef struct {
    char *dir;  /* private temporary directory */
    char *path; /* DIR/state.db */
} s_fixture_t;

static int
s_setup (void **state)
{
    s_fixture_t *f = wes_new (s_fixture_t);
    f->dir = wes_test_tmpdir ("test_store");
    assert_non_null (f->dir);
    wes_buf_t *b = wes_buf_new ();
    wes_buf_printf (b, "%s/state.db", f->dir);
    f->path = wes_buf_steal (b);
    wes_buf_destroy (&b);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fixture_t *f = *state;
    wes_test_rmtree (f->dir);
    free (f->dir);
    free (f->path);
    free (f);
    return 0;
}

static const wes_store_target_t s_targets[] = {
    {"db00", "host=/tmp dbname=db00", NULL},
    {"db01", "host=/tmp dbname=db01", "east"},
    {"db02", "host=/tmp dbname=db02", "east"},
};

static wes_store_t *
s_create (const char *path, size_t n_steps)
{
    char *error = NULL;
    wes_store_t *s = wes_store_create (path, S_PLAN, S_HASH, s_targets, 3, n_steps, &error);
    if (!s) {
        fail_msg ("create %s: %s", path, error ? error : "(no message)");
    }
    assert_null (error);
    return s;
}

static char *
s_sidecar (const char *path, const char *suffix)
{
    wes_buf_t *b = wes_buf_new ();
    wes_buf_printf (b, "%s%s", path, suffix);
    char *s = wes_buf_steal (b);
    wes_buf_destroy (&b);
    return s;
}

static bool
s_exists (const char *path)
{
    struct stat sb;
    return stat (path, &sb) == 0;
}

/*  Collects each_step output. */
typedef struct {
    size_t n;
    wes_store_step_t last;
    char attempt_id[64];
    char worker[64];
    char sqlstate[16];
    char message[128];
    wes_store_step_t *all; /* when non-NULL, [capacity] copies (strings not kept) */
    size_t capacity;
    bool ordered;
} s_collect_t;

static void
s_collect_fn (const wes_store_step_t *step, void *arg)
{
    s_collect_t *c = arg;
    if (c->n > 0) {
        uint64_t prev = (uint64_t)c->last.target << 32 | c->last.step;
        uint64_t cur = (uint64_t)step->target << 32 | step->step;
        if (cur <= prev) {
            c->ordered = false;
        }
    }
    c->last = *step;
    snprintf (c->attempt_id, sizeof c->attempt_id, "%s", step->attempt_id ? step->attempt_id : "");
    snprintf (c->worker, sizeof c->worker, "%s", step->worker ? step->worker : "");
    snprintf (c->sqlstate, sizeof c->sqlstate, "%s", step->sqlstate ? step->sqlstate : "");
    snprintf (c->message, sizeof c->message, "%s", step->message ? step->message : "");
    if (c->all && c->n < c->capacity) {
        c->all[c->n] = *step;
        c->all[c->n].attempt_id = NULL;
        c->all[c->n].worker = NULL;
        c->all[c->n].sqlstate = NULL;
        c->all[c->n].message = NULL;
    }
    c->n++;
}

/*  Finds one instance through each_step. */
typedef struct {
    uint32_t target;
    uint32_t step;
    bool found;
    wes_store_step_t got;
    char attempt_id[64];
    char worker[64];
    char sqlstate[16];
    char message[128];
} s_find_t;

static void
s_find_fn (const wes_store_step_t *step, void *arg)
{
    s_find_t *f = arg;
    if (step->target == f->target && step->step == f->step) {
        f->found = true;
        f->got = *step;
        snprintf (f->attempt_id, sizeof f->attempt_id, "%s",
                  step->attempt_id ? step->attempt_id : "(null)");
        snprintf (f->worker, sizeof f->worker, "%s", step->worker ? step->worker : "(null)");
        snprintf (f->sqlstate, sizeof f->sqlstate, "%s",
                  step->sqlstate ? step->sqlstate : "(null)");
        snprintf (f->message, sizeof f->message, "%s", step->message ? step->message : "(null)");
    }
}

static s_find_t
s_find (wes_store_t *s, uint32_t target, uint32_t step)
{
    s_find_t f = {.target = target, .step = step};
    assert_int_equal (wes_store_each_step (s, s_find_fn, &f), 0);
    assert_true (f.found);
    return f;
}

/*  Collects event lines. */
typedef struct {
    size_t n;
    char lines[64][256];
} s_lines_t;

static void
s_lines_fn (const char *line, void *arg)
{
    s_lines_t *l = arg;
    if (l->n < 64) {
        snprintf (l->lines[l->n], sizeof l->lines[0], "%s", line);
    }
    l->n++;
}

static void
s_count_fn (const char *line, void *arg)
{
    (void)line;
    (*(size_t *)arg)++;
}

static void
s_raw_exec (const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal (sqlite3_open (path, &db), SQLITE_OK);
    char *err = NULL;
    if (sqlite3_exec (db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fail_msg ("%s: %s", sql, err);
    }
    assert_int_equal (sqlite3_close (db), SQLITE_OK);
}

/*  Opening path read-write and read-only both fail with a message holding
    `want`; the file keeps its bytes and no sidecar file appears. */
static void
s_assert_refused (const char *path, const char *want)
{
    size_t len_before = 0;
    char *before = wes_test_read_file (path, &len_before);
    assert_non_null (before);
    char *wal = s_sidecar (path, "-wal");
    char *shm = s_sidecar (path, "-shm");
    assert_false (s_exists (wal));
    for (int ro = 0; ro < 2; ro++) {
        char *error = NULL;
        wes_store_t *s = wes_store_open (path, ro == 1, &error);
        if (s) {
            wes_store_destroy (&s);
            fail_msg ("%s opened (%s) but should be refused", path, ro ? "ro" : "rw");
        }
        assert_non_null (error);
        if (ro == 0) {
            print_message ("refused: %s\n", error);
        }
        if (!strstr (error, want) || !strstr (error, path)) {
            fail_msg ("message '%s' lacks '%s' or the path", error, want);
        }
        free (error);
    }
    size_t len_after = 0;
    char *after = wes_test_read_file (path, &len_after);
    assert_non_null (after);
    assert_int_equal (len_before, len_after);
    assert_memory_equal (before, after, len_before);
    assert_false (s_exists (wal));
    assert_false (s_exists (shm));
    free (before);
    free (after);
    free (wal);
    free (shm);
}

/*  ------------------------------------------------------------------------ */

static void
test_create_open_reopen (void **state)
{
    s_fixture_t *f = *state;
    wes_store_t *s = s_create (f->path, 4);
    assert_int_equal (wes_store_epoch (s), 1);
    assert_string_equal (wes_store_plan_json (s), S_PLAN);
    assert_string_equal (wes_store_plan_hash (s), S_HASH);
    assert_int_equal (wes_store_target_count (s), 3);
    assert_int_equal (wes_store_step_count (s), 4);
    wes_store_target_t t1 = wes_store_target (s, 1);
    assert_string_equal (t1.name, "db01");
    assert_string_equal (t1.conninfo, "host=/tmp dbname=db01");
    assert_string_equal (t1.group, "east");
    assert_null (wes_store_target (s, 0).group);
    assert_int_equal (wes_store_run_state (s), WES_RUN_RUNNING);

    /*  Fresh instances are all pending, in order. */
    s_collect_t c = {.ordered = true};
    assert_int_equal (wes_store_each_step (s, s_collect_fn, &c), 0);
    assert_int_equal (c.n, 12);
    assert_true (c.ordered);
    assert_int_equal (c.last.target, 2);
    assert_int_equal (c.last.step, 3);
    assert_int_equal (c.last.state, WES_SS_PENDING);

    wes_store_step_t st = {.target = 2,
                           .step = 1,
                           .state = WES_SS_RUNNING,
                           .attempts = 2,
                           .attempt_id = "a-7",
                           .worker = "w1",
                           .started_ms = 1000,
                           .rows_done = 5000};
    assert_int_equal (wes_store_put_step (s, &st, "progress", "5000 rows"), 0);
    assert_int_equal (wes_store_set_run_state (s, WES_RUN_STOPPED, "stop before contract"), 0);
    assert_int_equal (wes_store_set_option (s, "stop_before", "contract"), 0);
    wes_store_destroy (&s);
    assert_null (s);

    char *error = NULL;
    s = wes_store_open (f->path, false, &error);
    assert_non_null (s);
    assert_null (error);
    assert_int_equal (wes_store_epoch (s), 2);
    assert_int_equal (wes_store_run_state (s), WES_RUN_STOPPED);
    assert_string_equal (wes_store_get_option (s, "stop_before"), "contract");
    assert_null (wes_store_get_option (s, "never_set"));
    assert_string_equal (wes_store_target (s, 2).name, "db02");
    assert_string_equal (wes_store_plan_json (s), S_PLAN);
    s_find_t got = s_find (s, 2, 1);
    assert_int_equal (got.got.state, WES_SS_RUNNING);
    assert_int_equal (got.got.attempts, 2);
    assert_int_equal (got.got.rows_done, 5000);
    assert_int_equal (got.got.started_ms, 1000);
    assert_string_equal (got.attempt_id, "a-7");
    assert_string_equal (got.worker, "w1");
    assert_string_equal (got.sqlstate, "(null)");
    wes_store_destroy (&s);

    s = wes_store_open (f->path, false, &error);
    assert_non_null (s);
    assert_int_equal (wes_store_epoch (s), 3);
    wes_store_destroy (&s);

    /*  Read-only: no epoch change, no writes. */
    s = wes_store_open (f->path, true, &error);
    assert_non_null (s);
    assert_int_equal (wes_store_epoch (s), 3);
    assert_int_equal (wes_store_begin (s), -1);
    assert_int_equal (wes_store_put_step (s, &st, "x", NULL), -1);
    assert_int_equal (wes_store_set_run_state (s, WES_RUN_RUNNING, NULL), -1);
    assert_int_equal (wes_store_set_option (s, "k", "v"), -1);
    assert_int_equal (wes_store_event (s, -1, "x", NULL), -1);
    assert_string_equal (wes_store_get_option (s, "stop_before"), "contract");
    wes_store_destroy (&s);
    s = wes_store_open (f->path, true, &error);
    assert_int_equal (wes_store_epoch (s), 3);
    wes_store_destroy (&s);
    wes_store_destroy (&s); /* safe on NULL */
}

static void
test_create_refusals (void **state)
{
    s_fixture_t *f = *state;
    wes_store_t *s = s_create (f->path, 2);
    wes_store_destroy (&s);
    size_t len = 0;
    char *before = wes_test_read_file (f->path, &len);

    char *error = NULL;
    s = wes_store_create (f->path, S_PLAN, S_HASH, s_targets, 3, 2, &error);
    assert_null (s);
    assert_non_null (error);
    assert_non_null (strstr (error, "already exists"));
    free (error);
    error = NULL;
    size_t len2 = 0;
    char *after = wes_test_read_file (f->path, &len2);
    assert_int_equal (len, len2);
    assert_memory_equal (before, after, len);
    free (before);
    free (after);

    /*  Duplicate target names: nothing is left behind. */
    char *other = s_sidecar (f->path, ".dup");
    wes_store_target_t dup[] = {{"a", "x", NULL}, {"a", "y", NULL}};
    s = wes_store_create (other, S_PLAN, S_HASH, dup, 2, 2, &error);
    assert_null (s);
    assert_non_null (strstr (error, "same name"));
    free (error);
    error = NULL;
    assert_false (s_exists (other));
    char *other_wal = s_sidecar (other, "-wal");
    assert_false (s_exists (other_wal));

    /*  A leftover -wal of an earlier file of that name. */
    assert_int_equal (wes_test_write_file (other_wal, "stale"), 0);
    s = wes_store_create (other, S_PLAN, S_HASH, s_targets, 3, 2, &error);
    assert_null (s);
    assert_non_null (strstr (error, "-wal exists"));
    free (error);
    error = NULL;
    assert_false (s_exists (other));
    unlink (other_wal);

    /*  A target without a connection string. */
    wes_store_target_t bad[] = {{"a", NULL, NULL}};
    s = wes_store_create (other, S_PLAN, S_HASH, bad, 1, 2, &error);
    assert_null (s);
    assert_non_null (error);
    free (error);
    error = NULL;
    assert_false (s_exists (other));

    /*  A missing file is not created by open. */
    s = wes_store_open (other, false, &error);
    assert_null (s);
    assert_non_null (strstr (error, other));
    free (error);
    error = NULL;
    s = wes_store_open (other, true, &error);
    assert_null (s);
    free (error);
    assert_false (s_exists (other));
    free (other);
    free (other_wal);
}

static void
test_mode_0600 (void **state)
{
    s_fixture_t *f = *state;
    mode_t old = umask (0);
    wes_store_t *s = s_create (f->path, 2);
    umask (old);
    struct stat sb;
    assert_int_equal (stat (f->path, &sb), 0);
    assert_int_equal (sb.st_mode & 0777, 0600);
    char *wal = s_sidecar (f->path, "-wal");
    char *shm = s_sidecar (f->path, "-shm");
    assert_int_equal (stat (wal, &sb), 0);
    assert_int_equal (sb.st_mode & 0777, 0600);
    assert_int_equal (stat (shm, &sb), 0);
    assert_int_equal (sb.st_mode & 0777, 0600);
    wes_store_destroy (&s);
    /*  Closing the last connection checkpoints and removes the log. */
    assert_false (s_exists (wal));
    free (wal);
    free (shm);
}

static void
test_lock_in_process (void **state)
{
    s_fixture_t *f = *state;
    wes_store_t *a = s_create (f->path, 3);
    char *error = NULL;
    int64_t t0 = (int64_t)time (NULL);
    wes_store_t *b = wes_store_open (f->path, false, &error);
    assert_null (b);
    assert_true ((int64_t)time (NULL) - t0 < 2); /* at once, no waiting */
    assert_non_null (error);
    char want[128];
    snprintf (want, sizeof want, "%s is in use by another coordinator (pid %ld)", f->path,
              (long)getpid ());
    assert_string_equal (error, want);
    free (error);
    error = NULL;

    /*  The holder still works; a reader sees its commits. */
    wes_store_step_t st = {.target = 0, .step = 2, .state = WES_SS_SUCCEEDED, .attempts = 1};
    assert_int_equal (wes_store_put_step (a, &st, "succeeded", NULL), 0);
    wes_store_t *r = wes_store_open (f->path, true, &error);
    assert_non_null (r);
    assert_int_equal (wes_store_epoch (r), 1);
    assert_int_equal (s_find (r, 0, 2).got.state, WES_SS_SUCCEEDED);
    assert_int_equal (wes_store_set_run_state (a, WES_RUN_CANCELLED, "operator"), 0);
    assert_int_equal (wes_store_run_state (r), WES_RUN_CANCELLED);
    assert_int_equal (wes_store_set_option (a, "stop_before", "contract"), 0);
    assert_string_equal (wes_store_get_option (r, "stop_before"), "contract");
    assert_int_equal (wes_store_set_option (a, "stop_before", ""), 0);
    assert_string_equal (wes_store_get_option (r, "stop_before"), "");
    assert_string_equal (wes_store_get_option (a, "stop_before"), "");
    wes_store_destroy (&r);
    wes_store_destroy (&a);

    a = wes_store_open (f->path, false, &error);
    assert_non_null (a);
    assert_int_equal (wes_store_epoch (a), 2);
    wes_store_destroy (&a);
}

/*  A child holds the store; the parent is refused with the child's pid. */
static void
test_lock_child (void **state)
{
    s_fixture_t *f = *state;
    wes_store_t *s = s_create (f->path, 3);
    wes_store_destroy (&s);

    int ready[2];
    int hold[2];
    assert_int_equal (pipe (ready), 0);
    assert_int_equal (pipe (hold), 0);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        close (ready[0]);
        close (hold[1]);
        char *error = NULL;
        wes_store_t *c = wes_store_open (f->path, false, &error);
        char ok = 'n';
        if (c) {
            wes_store_step_t st = {.target = 1,
                                   .step = 1,
                                   .state = WES_SS_DISPATCHED,
                                   .attempts = 1,
                                   .attempt_id = "child",
                                   .worker = "w"};
            if (wes_store_put_step (c, &st, "dispatched", NULL) == 0) {
                ok = 'y';
            }
        }
        if (write (ready[1], &ok, 1) != 1) {
            _exit (2);
        }
        char x;
        while (read (hold[0], &x, 1) < 0 && errno == EINTR) {
        }
        _exit (0);
    }
    close (ready[1]);
    close (hold[0]);
    char ok = 0;
    assert_int_equal (read (ready[0], &ok, 1), 1);
    assert_int_equal (ok, 'y');

    char *error = NULL;
    s = wes_store_open (f->path, false, &error);
    assert_null (s);
    char want[128];
    snprintf (want, sizeof want, "in use by another coordinator (pid %ld)", (long)pid);
    if (!error || !strstr (error, want)) {
        fail_msg ("got '%s', want '%s'", error ? error : "(null)", want);
    }
    free (error);
    error = NULL;

    wes_store_t *r = wes_store_open (f->path, true, &error);
    assert_non_null (r);
    assert_int_equal (wes_store_epoch (r), 2);
    s_find_t got = s_find (r, 1, 1);
    assert_int_equal (got.got.state, WES_SS_DISPATCHED);
    assert_string_equal (got.attempt_id, "child");
    wes_store_destroy (&r);

    /*  SIGKILL the holder: the kernel drops its lock. */
    kill (pid, SIGKILL);
    int status = 0;
    assert_int_equal (waitpid (pid, &status, 0), pid);
    close (ready[0]);
    close (hold[1]);
    s = wes_store_open (f->path, false, &error);
    if (!s) {
        fail_msg ("open after the holder died: %s", error);
    }
    assert_int_equal (wes_store_epoch (s), 3);
    assert_int_equal (s_find (s, 1, 1).got.state, WES_SS_DISPATCHED);
    wes_store_destroy (&s);
}

static void
test_refuse_random_and_empty (void **state)
{
    s_fixture_t *f = *state;
    FILE *fp = fopen (f->path, "wb");
    assert_non_null (fp);
    uint32_t x = 2463534242u;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        fputc ((int)(x & 0xff), fp);
    }
    fclose (fp);
    s_assert_refused (f->path, "not an SQLite database");

    /*  Random bytes after a valid-looking SQLite header. */
    fp = fopen (f->path, "r+b");
    assert_non_null (fp);
    fwrite ("SQLite format 3", 1, 16, fp);
    fclose (fp);
    s_assert_refused (f->path, "is ");

    assert_int_equal (wes_test_write_file (f->path, ""), 0);
    s_assert_refused (f->path, "another application");
}

static void
test_refuse_foreign_sqlite (void **state)
{
    s_fixture_t *f = *state;
    s_raw_exec (f->path, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);"
                         "INSERT INTO notes (body) VALUES ('hello');");
    s_assert_refused (f->path, "another application");
    unlink (f->path);

    /*  Even one with a table called meta. */
    s_raw_exec (f->path, "PRAGMA journal_mode = WAL;"
                         "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                         "INSERT INTO meta VALUES ('application', 'something-else'),"
                         " ('format', '1');");
    s_assert_refused (f->path, "another application");
}

static void
test_refuse_newer_format (void **state)
{
    s_fixture_t *f = *state;
    wes_store_t *s = s_create (f->path, 2);
    wes_store_destroy (&s);
    s_raw_exec (f->path, "UPDATE meta SET value = '99' WHERE key = 'format'");
    s_assert_refused (f->path, "newer Wesley (state format 99");

    /*  Back to 1: opens again (the refusals changed nothing). */
    s_raw_exec (f->path, "UPDATE meta SET value = '1' WHERE key = 'format'");
    char *error = NULL;
    s = wes_store_open (f->path, false, &error);
    assert_non_null (s);
    assert_int_equal (wes_store_epoch (s), 2);
    wes_store_destroy (&s);
}

/*  A store big enough to span many pages. */
static void
s_make_big (const char *path)
{
    wes_store_t *s = s_create (path, 2000);
    assert_int_equal (wes_store_begin (s), 0);
    for (uint32_t i = 0; i < 2000; i++) {
        wes_store_step_t st = {.target = i % 3,
                               .step = i,
                               .state = WES_SS_FAILED,
                               .attempts = 3,
                               .sqlstate = "42P01",
                               .message = "relation \"some_table_with_a_long_name\" does not "
                                          "exist, and this message is long on purpose"};
        assert_int_equal (wes_store_put_step (s, &st, "failed", "some detail text"), 0);
    }
    assert_int_equal (wes_store_commit (s), 0);
    wes_store_destroy (&s);
}

static void
test_refuse_corrupt (void **state)
{
    s_fixture_t *f = *state;
    s_make_big (f->path);
    size_t len = 0;
    char *bytes = wes_test_read_file (f->path, &len);
    assert_non_null (bytes);
    assert_true (len > 40 * 4096);
    /*  Garbage over the middle of the steps and events pages (the meta and
        run pages at the front stay readable: quick_check must find it). */
    for (size_t i = len / 2; i < len / 2 + 3 * 4096; i++) {
        bytes[i] = (char)(i * 7 + 3);
    }
    FILE *fp = fopen (f->path, "wb");
    assert_non_null (fp);
    assert_int_equal (fwrite (bytes, 1, len, fp), len);
    fclose (fp);
    free (bytes);
    s_assert_refused (f->path, "corrupt");
}

static void
test_refuse_truncated (void **state)
{
    s_fixture_t *f = *state;
    s_make_big (f->path);
    struct stat sb;
    assert_int_equal (stat (f->path, &sb), 0);
    assert_int_equal (truncate (f->path, sb.st_size / 2), 0);
    s_assert_refused (f->path, "corrupt");
}

static void
test_put_each_events (void **state)
{
    s_fixture_t *f = *state;
    wes_store_t *s = s_create (f->path, 5);
    wes_store_step_t st = {.target = 1,
                           .step = 4,
                           .state = WES_SS_RETRY_WAIT,
                           .attempts = 3,
                           .attempt_id = "att-3",
                           .worker = "worker-b",
                           .not_before_ms = 123456789,
                           .started_ms = 111,
                           .finished_ms = 0,
                           .rows_done = 42,
                           .sqlstate = "55P03",
                           .message = "canceling statement due to lock timeout"};
    assert_int_equal (wes_store_put_step (s, &st, "retry", "lock_timeout, backoff 400 ms"), 0);
    s_find_t got = s_find (s, 1, 4);
    assert_int_equal (got.got.state, WES_SS_RETRY_WAIT);
    assert_int_equal (got.got.attempts, 3);
    assert_int_equal (got.got.not_before_ms, 123456789);
    assert_int_equal (got.got.started_ms, 111);
    assert_int_equal (got.got.finished_ms, 0);
    assert_int_equal (got.got.rows_done, 42);
    assert_string_equal (got.attempt_id, "att-3");
    assert_string_equal (got.worker, "worker-b");
    assert_string_equal (got.sqlstate, "55P03");
    assert_string_equal (got.message, "canceling statement due to lock timeout");

    /*  Overwrite: NULL strings clear the old ones. */
    wes_store_step_t done = {.target = 1,
                             .step = 4,
                             .state = WES_SS_SUCCEEDED,
                             .attempts = 4,
                             .started_ms = 111,
                             .finished_ms = 999};
    assert_int_equal (wes_store_put_step (s, &done, NULL, NULL), 0);
    got = s_find (s, 1, 4);
    assert_int_equal (got.got.state, WES_SS_SUCCEEDED);
    assert_string_equal (got.sqlstate, "(null)");
    assert_string_equal (got.message, "(null)");
    assert_string_equal (got.attempt_id, "(null)");
    assert_int_equal (got.got.finished_ms, 999);
    /*  Neighbours untouched. */
    assert_int_equal (s_find (s, 1, 3).got.state, WES_SS_PENDING);
    assert_int_equal (s_find (s, 2, 4).got.state, WES_SS_PENDING);

    /*  Out of range: refused. */
    wes_store_step_t bad = {.target = 3, .step = 0, .state = WES_SS_READY};
    assert_int_equal (wes_store_put_step (s, &bad, "x", NULL), -1);
    bad.target = 0;
    bad.step = 5;
    assert_int_equal (wes_store_put_step (s, &bad, "x", NULL), -1);
    bad.step = 0;
    bad.state = (wes_step_state_t)8;
    assert_int_equal (wes_store_put_step (s, &bad, "x", NULL), -1);
    assert_int_equal (wes_store_event (s, 3, "x", NULL), -1);
    assert_int_equal (wes_store_event (s, -2, "x", NULL), -1);

    assert_int_equal (wes_store_event (s, -1, "gate-open", "every target finished validate"), 0);
    assert_int_equal (wes_store_event (s, 2, "worker-lost", NULL), 0);

    s_lines_t lines = {0};
    assert_int_equal (wes_store_recent_events (s, 4, s_lines_fn, &lines), 0);
    assert_int_equal (lines.n, 4);
    /*  Newest first: "TIME EVENT target/step detail". */
    assert_non_null (strstr (lines.lines[0], "Z worker-lost db02"));
    assert_non_null (strstr (lines.lines[1], "Z gate-open - every target finished validate"));
    assert_non_null (strstr (lines.lines[2], "Z succeeded db01/4"));
    assert_non_null (strstr (lines.lines[3], "Z retry db01/4 lock_timeout, backoff 400 ms"));
    /*  ISO-8601 UTC with milliseconds. */
    assert_int_equal (lines.lines[0][4], '-');
    assert_int_equal (lines.lines[0][10], 'T');
    assert_int_equal (lines.lines[0][19], '.');
    assert_int_equal (lines.lines[0][23], 'Z');
    char year[5];
    memcpy (year, lines.lines[0], 4);
    year[4] = '\0';
    struct tm tm;
    time_t now = time (NULL);
    gmtime_r (&now, &tm);
    assert_int_equal (atoi (year), tm.tm_year + 1900);

    /*  Everything: created + 2 puts + 2 events (no "opened": epoch 1). */
    size_t n = 0;
    assert_int_equal (wes_store_recent_events (s, 1000, s_count_fn, &n), 0);
    assert_int_equal (n, 5);
    n = 0;
    assert_int_equal (wes_store_recent_events (s, 0, s_count_fn, &n), 0);
    assert_int_equal (n, 0);
    wes_store_destroy (&s);

    /*  A reopen appends "opened" with the epoch. */
    char *error = NULL;
    s = wes_store_open (f->path, false, &error);
    assert_non_null (s);
    memset (&lines, 0, sizeof lines);
    assert_int_equal (wes_store_recent_events (s, 1, s_lines_fn, &lines), 0);
    assert_non_null (strstr (lines.lines[0], "opened - epoch 2"));
    wes_store_destroy (&s);

    assert_string_equal (wes_step_state_name (WES_SS_RETRY_WAIT), "retry-wait");
    assert_string_equal (wes_step_state_name (WES_SS_UNKNOWN), "unknown");
    assert_string_equal (wes_step_state_name ((wes_step_state_t)99), "invalid");
    assert_string_equal (wes_run_state_name (WES_RUN_FINISHED), "finished");
    assert_string_equal (wes_run_state_name ((wes_run_state_t)99), "invalid");
}

static void
test_group_commit (void **state)
{
    s_fixture_t *f = *state;
    wes_store_t *s = s_create (f->path, 100);
    char *error = NULL;
    wes_store_t *r = wes_store_open (f->path, true, &error);
    assert_non_null (r);

    assert_int_equal (wes_store_commit (s), -1); /* without begin */
    assert_int_equal (wes_store_begin (s), 0);
    assert_int_equal (wes_store_begin (s), -1); /* nested */
    for (uint32_t i = 0; i < 100; i++) {
        wes_store_step_t st = {.target = 0, .step = i, .state = WES_SS_READY};
        assert_int_equal (wes_store_put_step (s, &st, "ready", NULL), 0);
    }
    assert_int_equal (wes_store_event (s, 0, "grouped", NULL), 0);
    /*  Not visible to a reader before the commit. */
    assert_int_equal (s_find (r, 0, 99).got.state, WES_SS_PENDING);
    assert_int_equal (wes_store_commit (s), 0);
    assert_int_equal (s_find (r, 0, 99).got.state, WES_SS_READY);
    assert_int_equal (s_find (r, 0, 0).got.state, WES_SS_READY);

    /*  A failed write rolls the whole group back. */
    assert_int_equal (wes_store_begin (s), 0);
    wes_store_step_t ok = {.target = 1, .step = 0, .state = WES_SS_SUCCEEDED};
    assert_int_equal (wes_store_put_step (s, &ok, "succeeded", NULL), 0);
    assert_int_equal (wes_store_set_run_state (s, WES_RUN_FINISHED, "x"), 0);
    wes_store_step_t bad = {.target = 9, .step = 0, .state = WES_SS_SUCCEEDED};
    assert_int_equal (wes_store_put_step (s, &bad, "succeeded", NULL), -1);
    wes_store_step_t later = {.target = 1, .step = 1, .state = WES_SS_SUCCEEDED};
    assert_int_equal (wes_store_put_step (s, &later, "succeeded", NULL), -1);
    assert_int_equal (wes_store_commit (s), -1);
    assert_int_equal (s_find (s, 1, 0).got.state, WES_SS_PENDING);
    assert_int_equal (s_find (r, 1, 0).got.state, WES_SS_PENDING);
    assert_int_equal (wes_store_run_state (s), WES_RUN_RUNNING);
    assert_int_equal (wes_store_run_state (r), WES_RUN_RUNNING);

    /*  And the store carries on afterwards. */
    assert_int_equal (wes_store_put_step (s, &ok, "succeeded", NULL), 0);
    assert_int_equal (s_find (r, 1, 0).got.state, WES_SS_SUCCEEDED);

    /*  An uncommitted group is lost when the store goes away. */
    assert_int_equal (wes_store_begin (s), 0);
    assert_int_equal (wes_store_put_step (s, &later, "succeeded", NULL), 0);
    wes_store_destroy (&s);
    wes_store_destroy (&r);
    s = wes_store_open (f->path, true, &error);
    assert_non_null (s);
    assert_int_equal (s_find (s, 1, 1).got.state, WES_SS_PENDING);
    assert_int_equal (s_find (s, 1, 0).got.state, WES_SS_SUCCEEDED);
    wes_store_destroy (&s);
}

static void
test_each_step_damaged (void **state)
{
    s_fixture_t *f = *state;
    wes_store_t *s = s_create (f->path, 4);
    wes_store_destroy (&s);
    char *error = NULL;

    s_raw_exec (f->path, "UPDATE steps SET state = 42 WHERE target = 1 AND step = 2");
    s = wes_store_open (f->path, true, &error);
    assert_non_null (s);
    s_collect_t c = {.ordered = true};
    assert_int_equal (wes_store_each_step (s, s_collect_fn, &c), -1);
    wes_store_destroy (&s);

    s_raw_exec (f->path, "UPDATE steps SET state = 1 WHERE target = 1 AND step = 2;"
                         "DELETE FROM steps WHERE target = 2 AND step = 3");
    s = wes_store_open (f->path, true, &error);
    assert_non_null (s);
    memset (&c, 0, sizeof c);
    assert_int_equal (wes_store_each_step (s, s_collect_fn, &c), -1);
    wes_store_destroy (&s);

    s_raw_exec (f->path, "INSERT INTO steps (target, step) VALUES (2, 3);"
                         "DELETE FROM steps WHERE target = 0 AND step = 1");
    s = wes_store_open (f->path, true, &error);
    memset (&c, 0, sizeof c);
    assert_int_equal (wes_store_each_step (s, s_collect_fn, &c), -1);
    wes_store_destroy (&s);

    s_raw_exec (f->path, "INSERT INTO steps (target, step) VALUES (0, 1)");
    s = wes_store_open (f->path, false, &error);
    assert_non_null (s);
    memset (&c, 0, sizeof c);
    c.ordered = true;
    assert_int_equal (wes_store_each_step (s, s_collect_fn, &c), 0);
    assert_int_equal (c.n, 12);
    assert_true (c.ordered);
    wes_store_destroy (&s);

    /*  A damaged run record: refused at open. */
    s_raw_exec (f->path, "UPDATE run SET state = 17");
    s = wes_store_open (f->path, true, &error);
    assert_null (s);
    assert_non_null (strstr (error, "damaged run"));
    free (error);
}

/*  Loading many instances is one ordered scan. */
static void
test_each_step_many (void **state)
{
    s_fixture_t *f = *state;
    const size_t n_steps = 40000; /* x 3 targets */
    wes_store_t *s = s_create (f->path, n_steps);
    assert_int_equal (wes_store_begin (s), 0);
    for (uint32_t i = 0; i < n_steps; i += 7) {
        wes_store_step_t st = {.target = 2, .step = i, .state = WES_SS_SUCCEEDED, .attempts = 1};
        assert_int_equal (wes_store_put_step (s, &st, "succeeded", NULL), 0);
    }
    assert_int_equal (wes_store_commit (s), 0);
    wes_store_destroy (&s);
    char *error = NULL;
    s = wes_store_open (f->path, false, &error);
    assert_non_null (s);
    s_collect_t c = {.ordered = true};
    c.all = calloc (3 * n_steps, sizeof (wes_store_step_t));
    c.capacity = 3 * n_steps;
    struct timespec a, b;
    clock_gettime (CLOCK_MONOTONIC, &a);
    assert_int_equal (wes_store_each_step (s, s_collect_fn, &c), 0);
    clock_gettime (CLOCK_MONOTONIC, &b);
    double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    print_message ("each_step over %zu instances: %.1f ms\n", c.n, ms);
    assert_int_equal (c.n, 3 * n_steps);
    assert_true (c.ordered);
    for (size_t i = 0; i < c.n; i++) {
        bool want = c.all[i].target == 2 && c.all[i].step % 7 == 0;
        assert_int_equal (c.all[i].state, want ? WES_SS_SUCCEEDED : WES_SS_PENDING);
    }
    free (c.all);
    wes_store_destroy (&s);
}

/*  The child writes (0,0), (0,1), ... as SUCCEEDED with attempts = i + 1, in
    groups of `group` (1: each alone), and reports every committed count on
    the pipe. */
static void
s_crash_child (const char *path, int fd, uint32_t group, uint32_t n_steps)
{
    char *error = NULL;
    wes_store_t *s = wes_store_open (path, false, &error);
    if (!s) {
        _exit (3);
    }
    uint32_t total = 3 * n_steps;
    for (uint32_t i = 0; i < total;) {
        if (group > 1 && wes_store_begin (s) != 0) {
            _exit (4);
        }
        uint32_t end = i + group;
        for (; i < end && i < total; i++) {
            wes_store_step_t st = {.target = i / n_steps,
                                   .step = i % n_steps,
                                   .state = WES_SS_SUCCEEDED,
                                   .attempts = i + 1,
                                   .attempt_id = "attempt",
                                   .worker = "crash-child"};
            if (wes_store_put_step (s, &st, "succeeded", "crash test") != 0) {
                _exit (5);
            }
        }
        if (group > 1 && wes_store_commit (s) != 0) {
            _exit (6);
        }
        if (write (fd, &i, sizeof i) != sizeof i) {
            _exit (7);
        }
    }
    _exit (0);
}

/*  Counts the leading SUCCEEDED instances. */
static void
s_prefix_fn (const wes_store_step_t *step, void *arg)
{
    uint32_t *k = arg;
    if (step->state == WES_SS_SUCCEEDED && step->target * 400u + step->step == *k) {
        (*k)++;
    }
}

static void
s_crash_check (const char *path, uint32_t group, uint32_t kill_after)
{
    const uint32_t n_steps = 400;
    wes_store_t *s = s_create (path, n_steps);
    wes_store_destroy (&s);
    int fds[2];
    assert_int_equal (pipe (fds), 0);
    pid_t pid = fork ();
    assert_true (pid >= 0);
    if (pid == 0) {
        close (fds[0]);
        s_crash_child (path, fds[1], group, n_steps);
    }
    close (fds[1]);
    /*  Kill at an uneven point, after some commits were acknowledged. */
    uint32_t acked = 0;
    while (acked < kill_after) {
        uint32_t v;
        ssize_t n = read (fds[0], &v, sizeof v);
        if (n != sizeof v) {
            break;
        }
        acked = v;
    }
    kill (pid, SIGKILL);
    int status = 0;
    assert_int_equal (waitpid (pid, &status, 0), pid);
    close (fds[0]);
    if (WIFEXITED (status)) {
        fail_msg ("the writer exited (%d) before it was killed", WEXITSTATUS (status));
    }
    assert_true (acked >= kill_after);

    /*  The killed writer left its log un-checkpointed: a reader goes
        through it and sees the same prefix. */
    char *wal = s_sidecar (path, "-wal");
    struct stat sb;
    assert_int_equal (stat (wal, &sb), 0);
    assert_true (sb.st_size > 0);
    free (wal);
    char *error = NULL;
    s = wes_store_open (path, true, &error);
    if (!s) {
        fail_msg ("read-only open after SIGKILL: %s", error);
    }
    uint32_t ro_prefix = 0;
    assert_int_equal (wes_store_each_step (s, s_prefix_fn, &ro_prefix), 0);
    assert_int_equal (wes_store_epoch (s), 2);
    wes_store_destroy (&s);
    assert_true (ro_prefix >= acked);

    s = wes_store_open (path, false, &error);
    if (!s) {
        fail_msg ("reopen after SIGKILL: %s", error);
    }
    s_collect_t c = {.ordered = true};
    c.capacity = 3 * n_steps;
    c.all = calloc (c.capacity, sizeof (wes_store_step_t));
    assert_int_equal (wes_store_each_step (s, s_collect_fn, &c), 0);
    assert_int_equal (c.n, 3 * n_steps);
    /*  A prefix of succeeded instances, then only pending ones. */
    uint32_t k = 0;
    while (k < c.n && c.all[k].state == WES_SS_SUCCEEDED) {
        assert_int_equal (c.all[k].attempts, k + 1);
        k++;
    }
    for (size_t i = k; i < c.n; i++) {
        assert_int_equal (c.all[i].state, WES_SS_PENDING);
        assert_int_equal (c.all[i].attempts, 0);
    }
    print_message ("group %u: %u acknowledged, %u found after SIGKILL\n", group, acked, k);
    /*  Everything acknowledged is there; groups are atomic. */
    assert_true (k >= acked);
    assert_int_equal (k, ro_prefix);
    assert_int_equal (k % group, 0);
    /*  One event per transition, committed with it ("opened" of the
        child's epoch and of this one, "created"). */
    size_t n_events = 0;
    assert_int_equal (wes_store_recent_events (s, 1u << 20, s_count_fn, &n_events), 0);
    assert_int_equal (n_events, (size_t)k + 3);
    assert_int_equal (wes_store_epoch (s), 3);
    free (c.all);
    wes_store_destroy (&s);
}

static void
test_crash_single (void **state)
{
    s_fixture_t *f = *state;
    for (uint32_t round = 0; round < 3; round++) {
        char *path = s_sidecar (f->path, round == 0 ? ".a" : round == 1 ? ".b" : ".c");
        s_crash_check (path, 1, 20 + round * 60 + (uint32_t)(getpid () % 13));
        free (path);
    }
}

static void
test_crash_grouped (void **state)
{
    s_fixture_t *f = *state;
    for (uint32_t round = 0; round < 3; round++) {
        char *path = s_sidecar (f->path, round == 0 ? ".a" : round == 1 ? ".b" : ".c");
        s_crash_check (path, 7, 30 + round * 150 + (uint32_t)(getpid () % 13));
        free (path);
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_create_open_reopen, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_create_refusals, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_mode_0600, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_lock_in_process, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_lock_child, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_refuse_random_and_empty, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_refuse_foreign_sqlite, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_refuse_newer_format, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_refuse_corrupt, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_refuse_truncated, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_put_each_events, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_group_commit, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_each_step_damaged, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_each_step_many, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_crash_single, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_crash_grouped, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
