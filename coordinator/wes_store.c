/*  wes_store.c — the coordinator's checkpoint store (D009): one SQLite file
    per run in WAL mode with synchronous=FULL, created 0600, locked with
    flock for the life of a read-write store, checked (application, format,
    quick_check) on a read-only handle before anything writes to it.

    Schema (format 1):
      meta    (key, value)             application, format, epoch, holder_pid
      run     (one row)                plan JSON and hash, steps per target,
                                       run state and why, times
      options (key, value)             run options kept across resumes
      targets (idx, name, conninfo, grp)
      steps   (target, step, ...)      one row per step instance, clustered
                                       on (target, step): WITHOUT ROWID, so
                                       loading every instance is one ordered
                                       scan with no sort
      events  (id, ts_ms, epoch, target, step, event, detail)  append-only

    Caveat (POSIX locks): SQLite's locks are fcntl locks, which a process
    loses on the file when it closes any descriptor of it. Within one
    process, do not open the same state file read-write twice: the refused
    second open closes its descriptor. Across processes (the case the lock
    exists for) nothing is lost. */
#include "coordinator/wes_store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "util/wes_buf.h"
#include "util/wes_limits.h"
#include "util/wes_log.h"

/*  'WESL': PRAGMA application_id of every Wesley state file. */
#define S_APPLICATION_ID 0x5745534C
/*  meta.application of every Wesley state file. */
#define S_APPLICATION "wesley-state"
/*  How long a statement waits for another connection's lock (a reader's
    checkpoint) before giving up. Only the coordinator writes. */
#define S_BUSY_TIMEOUT_MS 5000
/*  WAL pages between automatic checkpoints. A transition writes two or
    three pages; SQLite's default (1000) checkpoints, with its own fsync of
    the database file, every few hundred commits. */
#define S_WAL_CHECKPOINT_PAGES "10000"
/*  Most step instances of one run (targets x steps): bounds the file the
    create writes. 100 million rows is about 2 GiB of SQLite pages. */
#define S_MAX_INSTANCES 100000000ull

/*  Cached statements. */
typedef enum {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_PUT_STEP,
    S_ADD_EVENT,
    S_EACH_STEP,
    S_RUN_STATE_GET,
    S_RUN_STATE_SET,
    S_OPTION_GET,
    S_OPTION_SET,
    S_RECENT_EVENTS,
    S_COUNT
} s_stmt_id_t;

static const char *const s_stmt_sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_PUT_STEP] = "UPDATE steps SET state = ?1, attempts = ?2, attempt_id = ?3, worker = ?4, "
                   "not_before_ms = ?5, started_ms = ?6, finished_ms = ?7, rows_done = ?8, "
                   "sqlstate = ?9, message = ?10 WHERE target = ?11 AND step = ?12",
    [S_ADD_EVENT] = "INSERT INTO events (ts_ms, epoch, target, step, event, detail) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_EACH_STEP] = "SELECT target, step, state, attempts, attempt_id, worker, not_before_ms, "
                    "started_ms, finished_ms, rows_done, sqlstate, message FROM steps "
                    "ORDER BY target, step",
    [S_RUN_STATE_GET] = "SELECT state FROM run WHERE id = 1",
    [S_RUN_STATE_SET] = "UPDATE run SET state = ?1, state_why = ?2, state_ms = ?3 WHERE id = 1",
    [S_OPTION_GET] = "SELECT value FROM options WHERE key = ?1",
    [S_OPTION_SET] = "INSERT OR REPLACE INTO options (key, value) VALUES (?1, ?2)",
    [S_RECENT_EVENTS] = "SELECT ts_ms, event, target, step, detail FROM events "
                        "ORDER BY id DESC LIMIT ?1",
};

static const char s_schema_sql[] =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE run (id INTEGER PRIMARY KEY CHECK (id = 1), plan_json TEXT NOT NULL,"
    " plan_hash TEXT NOT NULL, n_steps INTEGER NOT NULL, state INTEGER NOT NULL,"
    " state_why TEXT, state_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL);"
    "CREATE TABLE options (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE targets (idx INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " conninfo TEXT NOT NULL, grp TEXT);"
    "CREATE TABLE steps (target INTEGER NOT NULL, step INTEGER NOT NULL,"
    " state INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0, attempt_id TEXT,"
    " worker TEXT, not_before_ms INTEGER NOT NULL DEFAULT 0,"
    " started_ms INTEGER NOT NULL DEFAULT 0, finished_ms INTEGER NOT NULL DEFAULT 0,"
    " rows_done INTEGER NOT NULL DEFAULT 0, sqlstate TEXT, message TEXT,"
    " PRIMARY KEY (target, step)) WITHOUT ROWID;"
    "CREATE TABLE events (id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL,"
    " epoch INTEGER NOT NULL, target INTEGER, step INTEGER, event TEXT NOT NULL, detail TEXT);";

typedef struct {
    char *key;   /* option name */
    char *value; /* last value read or written (borrowed out) */
    bool stale;  /* a rolled-back group may have changed it: read again */
} s_option_t;

struct wes_store {
    char *path;                   /* the state file, for messages */
    sqlite3 *db;                  /* the connection (read-only or read-write) */
    int lock_fd;                  /* descriptor holding the flock, or -1 (read-only) */
    bool read_only;               /* opened for status: no writes, no lock */
    bool in_group;                /* between wes_store_begin and wes_store_commit */
    bool group_failed;            /* a write of the group failed: it was rolled back */
    uint64_t epoch;               /* run epoch of this open */
    char *plan_json;              /* the plan as stored */
    char *plan_hash;              /* its checksum */
    size_t n_steps;               /* steps per target */
    size_t n_targets;             /* targets of the run */
    char **target_names;          /* [n_targets] */
    char **target_conninfos;      /* [n_targets] */
    char **target_groups;         /* [n_targets], entries may be NULL */
    wes_run_state_t run_state;    /* last known run state */
    s_option_t *options;          /* options handed out */
    size_t n_options;             /* entries in options */
    sqlite3_stmt *stmts[S_COUNT]; /* prepared once, reset after use */
};

static void s_set_error (char **error, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
static int64_t s_now_ms (void);
static sqlite3 *s_open_check_handle (const char *path, char **error);
static int s_check_file (sqlite3 *db, const char *path, char **error);
static int s_exec (sqlite3 *db, const char *sql);
static int s_pragma_text (sqlite3 *db, const char *sql, char *out, size_t size);
static int s_meta_get_int (sqlite3 *db, const char *key, int64_t *value);
static int s_meta_set (sqlite3 *db, const char *key, const char *value);
static int s_meta_set_int (sqlite3 *db, const char *key, int64_t value);
static int s_configure (sqlite3 *db, bool read_only);
static int s_load (wes_store_t *self, char **error);
static int s_prepare_all (wes_store_t *self);
static sqlite3_stmt *s_stmt (const wes_store_t *self, s_stmt_id_t id);
static int s_run_simple (wes_store_t *self, s_stmt_id_t id);
static int s_write_begin (wes_store_t *self);
static int s_write_end (wes_store_t *self, int rc);
static int s_add_event (wes_store_t *self, int64_t target, int64_t step, const char *event,
                        const char *detail);
static void s_log_db (const wes_store_t *self, const char *what);
static void s_group_abort (wes_store_t *self);
static void s_bind_text_or_null (sqlite3_stmt *st, int i, const char *s);
static bool s_sidecar_exists (const char *path, const char *suffix);
static void s_unlink_sidecars (const char *path);
static long s_holder_pid (const char *path);
static char *s_uri_for (const char *path, bool immutable);

/*  ------------------------------------------------------------------------
    Constructors and destructor */

wes_store_t *
wes_store_create (const char *path, const char *plan_json, const char *plan_hash,
                  const wes_store_target_t *targets, size_t n_targets, size_t n_steps, char **error)
{
    if (!path || !*path || !plan_json || !plan_hash || (n_targets && !targets)) {
        s_set_error (error, "wes_store_create: missing argument");
        return NULL;
    }
    if (n_steps > WES_MAX_PLAN_STEPS || n_targets > UINT32_MAX
        || (uint64_t)n_targets * (uint64_t)n_steps > S_MAX_INSTANCES) {
        s_set_error (error, "%s: a run of %zu targets x %zu steps is larger than the store's limit",
                     path, n_targets, n_steps);
        return NULL;
    }
    for (size_t i = 0; i < n_targets; i++) {
        if (!targets[i].name || !*targets[i].name || !targets[i].conninfo) {
            s_set_error (error, "%s: target %zu has no name or connection string", path, i);
            return NULL;
        }
    }
    /*  A leftover write-ahead log or journal of an earlier file of that name
        would be replayed into the new one. */
    static const char *const sidecars[] = {"-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof sidecars / sizeof sidecars[0]; i++) {
        if (s_sidecar_exists (path, sidecars[i])) {
            s_set_error (error, "%s: refusing to create: %s%s exists (left by an earlier store)",
                         path, path, sidecars[i]);
            return NULL;
        }
    }
    int fd = open (path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST) {
            s_set_error (error,
                         "%s already exists (resume it with `wesley resume`, or choose "
                         "another --state)",
                         path);
        }
        else {
            s_set_error (error, "%s: cannot create: %s", path, strerror (errno));
        }
        return NULL;
    }
    /*  The mode is exactly 0600 whatever the umask. */
    if (fchmod (fd, 0600) != 0 || flock (fd, LOCK_EX | LOCK_NB) != 0) {
        s_set_error (error, "%s: cannot set up: %s", path, strerror (errno));
        close (fd);
        unlink (path);
        return NULL;
    }

    wes_store_t *self = wes_new (wes_store_t);
    self->path = wes_strdup (path);
    self->lock_fd = fd;
    self->epoch = 1;
    int rc = sqlite3_open_v2 (path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        s_set_error (error, "%s: cannot open: %s", path,
                     self->db ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc));
        goto failed;
    }
    if (s_configure (self->db, false) != 0) {
        s_set_error (error, "%s: cannot configure: %s", path, sqlite3_errmsg (self->db));
        goto failed;
    }
    char sql[64];
    snprintf (sql, sizeof sql, "PRAGMA application_id = %d", S_APPLICATION_ID);
    if (s_exec (self->db, sql) != 0 || s_exec (self->db, "BEGIN IMMEDIATE") != 0
        || s_exec (self->db, s_schema_sql) != 0) {
        s_set_error (error, "%s: cannot create the schema: %s", path, sqlite3_errmsg (self->db));
        goto failed;
    }
    int64_t now = s_now_ms ();
    char number[32];
    snprintf (number, sizeof number, "%d", WES_STORE_FORMAT);
    if (s_meta_set (self->db, "application", S_APPLICATION) != 0
        || s_meta_set (self->db, "format", number) != 0
        || s_meta_set_int (self->db, "epoch", 1) != 0
        || s_meta_set_int (self->db, "holder_pid", (int64_t)getpid ()) != 0
        || s_meta_set_int (self->db, "created_ms", now) != 0) {
        s_set_error (error, "%s: cannot write meta: %s", path, sqlite3_errmsg (self->db));
        goto failed;
    }

    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2 (self->db,
                             "INSERT INTO run (id, plan_json, plan_hash, n_steps, state, state_ms,"
                             " created_ms) VALUES (1, ?1, ?2, ?3, 0, ?4, ?4)",
                             -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text (st, 1, plan_json, -1, SQLITE_STATIC);
        sqlite3_bind_text (st, 2, plan_hash, -1, SQLITE_STATIC);
        sqlite3_bind_int64 (st, 3, (sqlite3_int64)n_steps);
        sqlite3_bind_int64 (st, 4, now);
        rc = sqlite3_step (st);
    }
    sqlite3_finalize (st);
    if (rc != SQLITE_DONE) {
        s_set_error (error, "%s: cannot write the run: %s", path, sqlite3_errmsg (self->db));
        goto failed;
    }

    st = NULL;
    rc = sqlite3_prepare_v2 (
        self->db, "INSERT INTO targets (idx, name, conninfo, grp) VALUES (?1, ?2, ?3, ?4)", -1, &st,
        NULL);
    for (size_t i = 0; rc == SQLITE_OK && i < n_targets; i++) {
        sqlite3_bind_int64 (st, 1, (sqlite3_int64)i);
        sqlite3_bind_text (st, 2, targets[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_text (st, 3, targets[i].conninfo, -1, SQLITE_STATIC);
        s_bind_text_or_null (st, 4, targets[i].group);
        rc = sqlite3_step (st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        sqlite3_reset (st);
    }
    if (rc != SQLITE_OK) {
        int ext = sqlite3_extended_errcode (self->db);
        if (ext == SQLITE_CONSTRAINT_UNIQUE) {
            s_set_error (error, "%s: two targets have the same name", path);
        }
        else {
            s_set_error (error, "%s: cannot write the targets: %s", path,
                         sqlite3_errmsg (self->db));
        }
        sqlite3_finalize (st);
        goto failed;
    }
    sqlite3_finalize (st);

    /*  One row per instance, in key order (appends to the B-tree). */
    st = NULL;
    rc = sqlite3_prepare_v2 (self->db, "INSERT INTO steps (target, step) VALUES (?1, ?2)", -1, &st,
                             NULL);
    for (size_t t = 0; rc == SQLITE_OK && t < n_targets; t++) {
        sqlite3_bind_int64 (st, 1, (sqlite3_int64)t);
        for (size_t s = 0; rc == SQLITE_OK && s < n_steps; s++) {
            sqlite3_bind_int64 (st, 2, (sqlite3_int64)s);
            rc = sqlite3_step (st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
            sqlite3_reset (st);
        }
    }
    sqlite3_finalize (st);
    if (rc != SQLITE_OK) {
        s_set_error (error, "%s: cannot write the steps: %s", path, sqlite3_errmsg (self->db));
        goto failed;
    }
    if (s_add_event (self, -1, -1, "created", plan_hash) != 0 || s_exec (self->db, "COMMIT") != 0) {
        s_set_error (error, "%s: cannot commit the new store: %s", path, sqlite3_errmsg (self->db));
        goto failed;
    }
    if (s_load (self, error) != 0) {
        goto failed;
    }
    return self;

failed:
    /*  The file is ours (O_EXCL) and so are its sidecars (checked above). */
    for (int i = 0; i < S_COUNT; i++) {
        sqlite3_finalize (self->stmts[i]);
        self->stmts[i] = NULL;
    }
    sqlite3_close (self->db);
    self->db = NULL;
    unlink (path);
    s_unlink_sidecars (path);
    wes_store_destroy (&self);
    return NULL;
}

wes_store_t *
wes_store_open (const char *path, bool read_only, char **error)
{
    if (!path || !*path) {
        s_set_error (error, "wes_store_open: missing path");
        return NULL;
    }
    int fd = -1;
    if (!read_only) {
        /*  The lock first: with it held no other coordinator can change the
            file between the checks and the read-write open. open(2) and
            flock(2) change nothing in the file. */
        fd = open (path, O_RDWR | O_CLOEXEC);
        if (fd < 0) {
            s_set_error (error, "%s: cannot open: %s", path, strerror (errno));
            return NULL;
        }
        if (flock (fd, LOCK_EX | LOCK_NB) != 0) {
            int err = errno;
            close (fd);
            if (err == EWOULDBLOCK) {
                long pid = s_holder_pid (path);
                if (pid > 0) {
                    s_set_error (error, "%s is in use by another coordinator (pid %ld)", path, pid);
                }
                else {
                    s_set_error (error, "%s is in use by another coordinator (pid unknown)", path);
                }
            }
            else {
                s_set_error (error, "%s: cannot lock: %s", path, strerror (err));
            }
            return NULL;
        }
    }
    else if (access (path, R_OK) != 0) {
        s_set_error (error, "%s: cannot open: %s", path, strerror (errno));
        return NULL;
    }

    /*  Every check on a read-only handle: a refused file is left as it was. */
    sqlite3 *check = s_open_check_handle (path, error);
    if (!check) {
        if (fd >= 0) {
            close (fd);
        }
        return NULL;
    }
    if (s_check_file (check, path, error) != 0) {
        sqlite3_close (check);
        if (fd >= 0) {
            close (fd);
        }
        return NULL;
    }
    sqlite3_close (check);

    wes_store_t *self = wes_new (wes_store_t);
    self->path = wes_strdup (path);
    self->lock_fd = fd;
    self->read_only = read_only;
    int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2 (path, &self->db, flags, NULL);
    if (rc != SQLITE_OK) {
        s_set_error (error, "%s: cannot open: %s", path,
                     self->db ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc));
        wes_store_destroy (&self);
        return NULL;
    }
    if (s_configure (self->db, read_only) != 0) {
        s_set_error (error, "%s: cannot configure: %s", path, sqlite3_errmsg (self->db));
        wes_store_destroy (&self);
        return NULL;
    }
    if (!read_only) {
        /*  A new epoch and the holder, durably, before anything else. */
        int64_t epoch = 0;
        if (s_exec (self->db, "BEGIN IMMEDIATE") != 0
            || s_meta_get_int (self->db, "epoch", &epoch) != 0 || epoch < 1
            || s_meta_set_int (self->db, "epoch", epoch + 1) != 0
            || s_meta_set_int (self->db, "holder_pid", (int64_t)getpid ()) != 0) {
            s_set_error (error, "%s: cannot start a new epoch: %s", path,
                         sqlite3_errmsg (self->db));
            s_exec (self->db, "ROLLBACK");
            wes_store_destroy (&self);
            return NULL;
        }
        self->epoch = (uint64_t)epoch + 1;
        char detail[64];
        snprintf (detail, sizeof detail, "epoch %" PRIu64 " pid %ld", self->epoch, (long)getpid ());
        if (s_add_event (self, -1, -1, "opened", detail) != 0 || s_exec (self->db, "COMMIT") != 0) {
            s_set_error (error, "%s: cannot start a new epoch: %s", path,
                         sqlite3_errmsg (self->db));
            s_exec (self->db, "ROLLBACK");
            wes_store_destroy (&self);
            return NULL;
        }
    }
    if (s_load (self, error) != 0) {
        wes_store_destroy (&self);
        return NULL;
    }
    return self;
}

void
wes_store_destroy (wes_store_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wes_store_t *self = *self_p;
    if (self->db && self->in_group && !self->group_failed) {
        /*  An uncommitted group never becomes durable. */
        s_exec (self->db, "ROLLBACK");
    }
    for (int i = 0; i < S_COUNT; i++) {
        sqlite3_finalize (self->stmts[i]);
    }
    if (self->db) {
        sqlite3_close (self->db);
    }
    /*  Only after SQLite closed its own descriptors (see the caveat above). */
    if (self->lock_fd >= 0) {
        close (self->lock_fd);
    }
    for (size_t i = 0; i < self->n_targets; i++) {
        free (self->target_names[i]);
        free (self->target_conninfos[i]);
        free (self->target_groups[i]);
    }
    free (self->target_names);
    free (self->target_conninfos);
    free (self->target_groups);
    for (size_t i = 0; i < self->n_options; i++) {
        free (self->options[i].key);
        free (self->options[i].value);
    }
    free (self->options);
    free (self->plan_json);
    free (self->plan_hash);
    free (self->path);
    free (self);
    *self_p = NULL;
}

/*  ------------------------------------------------------------------------
    Accessors */

uint64_t
wes_store_epoch (const wes_store_t *self)
{
    wes_assert (self);
    return self->epoch;
}

const char *
wes_store_plan_json (const wes_store_t *self)
{
    wes_assert (self);
    return self->plan_json;
}

const char *
wes_store_plan_hash (const wes_store_t *self)
{
    wes_assert (self);
    return self->plan_hash;
}

size_t
wes_store_target_count (const wes_store_t *self)
{
    wes_assert (self);
    return self->n_targets;
}

wes_store_target_t
wes_store_target (const wes_store_t *self, size_t i)
{
    wes_assert (self);
    wes_assert (i < self->n_targets);
    wes_store_target_t t = {self->target_names[i], self->target_conninfos[i],
                            self->target_groups[i]};
    return t;
}

size_t
wes_store_step_count (const wes_store_t *self)
{
    wes_assert (self);
    return self->n_steps;
}

wes_run_state_t
wes_store_run_state (const wes_store_t *self)
{
    wes_assert (self);
    if (!self->read_only) {
        /*  This process is the only writer: the cache is the truth. */
        return self->run_state;
    }
    /*  A reader sees the coordinator's latest state. */
    sqlite3_stmt *st = s_stmt (self, S_RUN_STATE_GET);
    wes_run_state_t state = self->run_state;
    if (sqlite3_step (st) == SQLITE_ROW) {
        int64_t v = sqlite3_column_int64 (st, 0);
        if (v >= WES_RUN_RUNNING && v <= WES_RUN_FAILED) {
            state = (wes_run_state_t)v;
        }
    }
    sqlite3_reset (st);
    return state;
}

int
wes_store_set_run_state (wes_store_t *self, wes_run_state_t state, const char *why)
{
    wes_assert (self);
    if (state < WES_RUN_RUNNING || state > WES_RUN_FAILED) {
        wes_log_error ("store %s: invalid run state %d", self->path, (int)state);
        return -1;
    }
    int rc = s_write_begin (self);
    if (rc != 0) {
        return rc;
    }
    sqlite3_stmt *st = s_stmt (self, S_RUN_STATE_SET);
    sqlite3_bind_int (st, 1, (int)state);
    s_bind_text_or_null (st, 2, why);
    sqlite3_bind_int64 (st, 3, s_now_ms ());
    rc = sqlite3_step (st) == SQLITE_DONE && sqlite3_changes (self->db) == 1 ? 0 : -1;
    sqlite3_reset (st);
    sqlite3_clear_bindings (st);
    if (rc != 0) {
        s_log_db (self, "set run state");
    }
    else {
        char event[32];
        snprintf (event, sizeof event, "run-%s", wes_run_state_name (state));
        rc = s_add_event (self, -1, -1, event, why);
    }
    rc = s_write_end (self, rc);
    if (rc == 0) {
        self->run_state = state;
    }
    return rc;
}

const char *
wes_store_get_option (wes_store_t *self, const char *key)
{
    wes_assert (self);
    if (!key) {
        return NULL;
    }
    s_option_t *slot = NULL;
    for (size_t i = 0; i < self->n_options; i++) {
        if (strcmp (self->options[i].key, key) == 0) {
            slot = &self->options[i];
            break;
        }
    }
    if (slot && !self->read_only && !slot->stale) {
        return slot->value;
    }
    sqlite3_stmt *st = s_stmt (self, S_OPTION_GET);
    sqlite3_bind_text (st, 1, key, -1, SQLITE_STATIC);
    char *value = NULL;
    int rc = sqlite3_step (st);
    if (rc == SQLITE_ROW) {
        value = wes_strdup ((const char *)sqlite3_column_text (st, 0));
    }
    else if (rc != SQLITE_DONE) {
        s_log_db (self, "read option");
    }
    sqlite3_reset (st);
    sqlite3_clear_bindings (st);
    if (!value) {
        if (slot && slot->stale && rc == SQLITE_DONE) {
            /*  Set only by a group that was rolled back. */
            free (slot->value);
            slot->value = NULL;
            slot->stale = false;
        }
        return slot ? slot->value : NULL;
    }
    if (!slot) {
        self->options =
            wes_realloc (self->options, (self->n_options + 1) * sizeof (self->options[0]));
        slot = &self->options[self->n_options++];
        slot->key = wes_strdup (key);
        slot->value = NULL;
    }
    free (slot->value);
    slot->value = value;
    slot->stale = false;
    return slot->value;
}

int
wes_store_set_option (wes_store_t *self, const char *key, const char *value)
{
    wes_assert (self);
    if (!key || !value) {
        wes_log_error ("store %s: an option needs a key and a value", self->path);
        return -1;
    }
    int rc = s_write_begin (self);
    if (rc != 0) {
        return rc;
    }
    sqlite3_stmt *st = s_stmt (self, S_OPTION_SET);
    sqlite3_bind_text (st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text (st, 2, value, -1, SQLITE_STATIC);
    rc = sqlite3_step (st) == SQLITE_DONE ? 0 : -1;
    sqlite3_reset (st);
    sqlite3_clear_bindings (st);
    if (rc != 0) {
        s_log_db (self, "write option");
    }
    else {
        wes_buf_t *detail = wes_buf_new ();
        wes_buf_printf (detail, "%s=%s", key, value);
        rc = s_add_event (self, -1, -1, "option", wes_buf_data (detail));
        wes_buf_destroy (&detail);
    }
    rc = s_write_end (self, rc);
    if (rc != 0) {
        return rc;
    }
    for (size_t i = 0; i < self->n_options; i++) {
        if (strcmp (self->options[i].key, key) == 0) {
            free (self->options[i].value);
            self->options[i].value = wes_strdup (value);
            self->options[i].stale = false;
            return 0;
        }
    }
    self->options = wes_realloc (self->options, (self->n_options + 1) * sizeof (self->options[0]));
    self->options[self->n_options].key = wes_strdup (key);
    self->options[self->n_options].value = wes_strdup (value);
    self->options[self->n_options].stale = false;
    self->n_options++;
    return 0;
}

/*  ------------------------------------------------------------------------
    Transitions */

int
wes_store_begin (wes_store_t *self)
{
    wes_assert (self);
    if (self->read_only) {
        wes_log_error ("store %s: opened read-only", self->path);
        return -1;
    }
    if (self->in_group) {
        wes_log_error ("store %s: begin inside a group", self->path);
        return -1;
    }
    if (s_run_simple (self, S_BEGIN) != 0) {
        s_log_db (self, "begin");
        return -1;
    }
    self->in_group = true;
    self->group_failed = false;
    return 0;
}

int
wes_store_commit (wes_store_t *self)
{
    wes_assert (self);
    if (!self->in_group) {
        wes_log_error ("store %s: commit without begin", self->path);
        return -1;
    }
    self->in_group = false;
    if (self->group_failed) {
        /*  Already rolled back when the write failed: nothing of it is kept. */
        self->group_failed = false;
        wes_log_error ("store %s: the group was rolled back after a failed write", self->path);
        return -1;
    }
    if (s_run_simple (self, S_COMMIT) != 0) {
        s_log_db (self, "commit");
        s_group_abort (self);
        self->group_failed = false;
        return -1;
    }
    return 0;
}

int
wes_store_put_step (wes_store_t *self, const wes_store_step_t *step, const char *event,
                    const char *detail)
{
    wes_assert (self);
    wes_assert (step);
    if (step->target >= self->n_targets || step->step >= self->n_steps
        || step->state < WES_SS_PENDING || step->state > WES_SS_UNKNOWN) {
        wes_log_error ("store %s: no step instance %" PRIu32 "/%" PRIu32 " (state %d)", self->path,
                       step->target, step->step, (int)step->state);
        if (self->in_group && !self->group_failed) {
            s_group_abort (self);
        }
        return -1;
    }
    int rc = s_write_begin (self);
    if (rc != 0) {
        return rc;
    }
    sqlite3_stmt *st = s_stmt (self, S_PUT_STEP);
    sqlite3_bind_int (st, 1, (int)step->state);
    sqlite3_bind_int64 (st, 2, step->attempts);
    s_bind_text_or_null (st, 3, step->attempt_id);
    s_bind_text_or_null (st, 4, step->worker);
    sqlite3_bind_int64 (st, 5, step->not_before_ms);
    sqlite3_bind_int64 (st, 6, step->started_ms);
    sqlite3_bind_int64 (st, 7, step->finished_ms);
    sqlite3_bind_int64 (st, 8, step->rows_done);
    s_bind_text_or_null (st, 9, step->sqlstate);
    s_bind_text_or_null (st, 10, step->message);
    sqlite3_bind_int64 (st, 11, step->target);
    sqlite3_bind_int64 (st, 12, step->step);
    rc = sqlite3_step (st) == SQLITE_DONE ? 0 : -1;
    sqlite3_reset (st);
    sqlite3_clear_bindings (st);
    if (rc != 0 || sqlite3_changes (self->db) != 1) {
        s_log_db (self, "write step");
        rc = -1;
    }
    else {
        rc = s_add_event (self, step->target, step->step,
                          event ? event : wes_step_state_name (step->state), detail);
    }
    return s_write_end (self, rc);
}

int
wes_store_each_step (wes_store_t *self, void (*fn) (const wes_store_step_t *, void *), void *arg)
{
    wes_assert (self);
    wes_assert (fn);
    sqlite3_stmt *st = s_stmt (self, S_EACH_STEP);
    /*  The rows must be exactly every (target, step) in order: anything else
        is a damaged file, never a silently shorter run. */
    uint64_t want_t = 0;
    uint64_t want_s = 0;
    int rc;
    int result = 0;
    while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
        int64_t t = sqlite3_column_int64 (st, 0);
        int64_t s = sqlite3_column_int64 (st, 1);
        int64_t state = sqlite3_column_int64 (st, 2);
        int64_t attempts = sqlite3_column_int64 (st, 3);
        if (t < 0 || s < 0 || (uint64_t)t != want_t || (uint64_t)s != want_s
            || want_t >= self->n_targets || state < WES_SS_PENDING || state > WES_SS_UNKNOWN
            || attempts < 0 || attempts > UINT32_MAX) {
            wes_log_error ("store %s: damaged step row %" PRId64 "/%" PRId64 " (state %" PRId64
                           ", attempts %" PRId64 ")",
                           self->path, t, s, state, attempts);
            result = -1;
            break;
        }
        wes_store_step_t step = {
            .target = (uint32_t)t,
            .step = (uint32_t)s,
            .state = (wes_step_state_t)state,
            .attempts = (uint32_t)attempts,
            .attempt_id = (const char *)sqlite3_column_text (st, 4),
            .worker = (const char *)sqlite3_column_text (st, 5),
            .not_before_ms = sqlite3_column_int64 (st, 6),
            .started_ms = sqlite3_column_int64 (st, 7),
            .finished_ms = sqlite3_column_int64 (st, 8),
            .rows_done = sqlite3_column_int64 (st, 9),
            .sqlstate = (const char *)sqlite3_column_text (st, 10),
            .message = (const char *)sqlite3_column_text (st, 11),
        };
        fn (&step, arg);
        if (++want_s == self->n_steps) {
            want_s = 0;
            want_t++;
        }
    }
    if (result == 0 && rc != SQLITE_DONE) {
        s_log_db (self, "read steps");
        result = -1;
    }
    if (result == 0 && self->n_steps > 0 && want_t != self->n_targets) {
        wes_log_error ("store %s: step instances missing (rows end at target %" PRIu64 ")",
                       self->path, want_t);
        result = -1;
    }
    sqlite3_reset (st);
    return result;
}

int
wes_store_event (wes_store_t *self, int64_t target, const char *event, const char *detail)
{
    wes_assert (self);
    if (!event || target < -1 || (target >= 0 && (uint64_t)target >= self->n_targets)) {
        wes_log_error ("store %s: invalid event for target %" PRId64, self->path, target);
        return -1;
    }
    int rc = s_write_begin (self);
    if (rc != 0) {
        return rc;
    }
    rc = s_add_event (self, target, -1, event, detail);
    return s_write_end (self, rc);
}

int
wes_store_recent_events (wes_store_t *self, size_t n, void (*fn) (const char *line, void *),
                         void *arg)
{
    wes_assert (self);
    wes_assert (fn);
    sqlite3_stmt *st = s_stmt (self, S_RECENT_EVENTS);
    sqlite3_bind_int64 (st, 1, n > INT64_MAX ? INT64_MAX : (sqlite3_int64)n);
    wes_buf_t *line = wes_buf_new ();
    int rc;
    while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
        int64_t ts = sqlite3_column_int64 (st, 0);
        const char *event = (const char *)sqlite3_column_text (st, 1);
        time_t secs = (time_t)(ts / 1000);
        struct tm tm;
        char when[40] = "?";
        if (gmtime_r (&secs, &tm)) {
            strftime (when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
        }
        wes_buf_reset (line);
        wes_buf_printf (line, "%s.%03dZ %s ", when, (int)(ts % 1000 + 1000) % 1000,
                        event ? event : "?");
        if (sqlite3_column_type (st, 2) == SQLITE_NULL) {
            wes_buf_puts (line, "-");
        }
        else {
            int64_t t = sqlite3_column_int64 (st, 2);
            if (t >= 0 && (uint64_t)t < self->n_targets) {
                wes_buf_puts (line, self->target_names[t]);
            }
            else {
                wes_buf_printf (line, "#%" PRId64, t);
            }
        }
        if (sqlite3_column_type (st, 3) != SQLITE_NULL) {
            wes_buf_printf (line, "/%" PRId64, (int64_t)sqlite3_column_int64 (st, 3));
        }
        const char *detail = (const char *)sqlite3_column_text (st, 4);
        if (detail && *detail) {
            wes_buf_printf (line, " %s", detail);
        }
        fn (wes_buf_data (line), arg);
    }
    wes_buf_destroy (&line);
    sqlite3_reset (st);
    sqlite3_clear_bindings (st);
    if (rc != SQLITE_DONE) {
        s_log_db (self, "read events");
        return -1;
    }
    return 0;
}

const char *
wes_step_state_name (wes_step_state_t s)
{
    switch (s) {
    case WES_SS_PENDING:
        return "pending";
    case WES_SS_READY:
        return "ready";
    case WES_SS_DISPATCHED:
        return "dispatched";
    case WES_SS_RUNNING:
        return "running";
    case WES_SS_SUCCEEDED:
        return "succeeded";
    case WES_SS_RETRY_WAIT:
        return "retry-wait";
    case WES_SS_FAILED:
        return "failed";
    case WES_SS_UNKNOWN:
        return "unknown";
    }
    return "invalid";
}

const char *
wes_run_state_name (wes_run_state_t s)
{
    switch (s) {
    case WES_RUN_RUNNING:
        return "running";
    case WES_RUN_CANCELLED:
        return "cancelled";
    case WES_RUN_STOPPED:
        return "stopped";
    case WES_RUN_FINISHED:
        return "finished";
    case WES_RUN_FAILED:
        return "failed";
    }
    return "invalid";
}

/*  ------------------------------------------------------------------------
    Static helpers */

static void
s_set_error (char **error, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    va_list ap2;
    va_copy (ap2, ap);
    int n = vsnprintf (NULL, 0, fmt, ap);
    va_end (ap);
    wes_assert (n >= 0);
    char *msg = wes_alloc ((size_t)n + 1);
    vsnprintf (msg, (size_t)n + 1, fmt, ap2);
    va_end (ap2);
    if (error) {
        free (*error);
        *error = msg;
    }
    else {
        wes_log_error ("%s", msg);
        free (msg);
    }
}

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool
s_sidecar_exists (const char *path, const char *suffix)
{
    wes_buf_t *name = wes_buf_new ();
    wes_buf_printf (name, "%s%s", path, suffix);
    struct stat sb;
    bool exists = lstat (wes_buf_data (name), &sb) == 0;
    wes_buf_destroy (&name);
    return exists;
}

static void
s_unlink_sidecars (const char *path)
{
    static const char *const sidecars[] = {"-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof sidecars / sizeof sidecars[0]; i++) {
        wes_buf_t *name = wes_buf_new ();
        wes_buf_printf (name, "%s%s", path, sidecars[i]);
        unlink (wes_buf_data (name));
        wes_buf_destroy (&name);
    }
}

/*  A file: URI for path, percent-encoding everything but plain characters. */
static char *
s_uri_for (const char *path, bool immutable)
{
    wes_buf_t *uri = wes_buf_new ();
    wes_buf_puts (uri, "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
            || *p == '/' || *p == '.' || *p == '_' || *p == '-' || *p == '~') {
            wes_buf_append (uri, (const char *)p, 1);
        }
        else {
            wes_buf_printf (uri, "%%%02X", *p);
        }
    }
    wes_buf_puts (uri, immutable ? "?mode=ro&immutable=1" : "?mode=ro");
    char *s = wes_strdup (wes_buf_data (uri));
    wes_buf_destroy (&uri);
    return s;
}

/*  A read-only handle for the checks. A write-ahead log with content means
    a live or crashed writer: read through it. Without one the file holds
    everything, and an immutable handle reads it without creating the -wal
    and -shm files a read-only WAL connection would leave behind. */
static sqlite3 *
s_open_check_handle (const char *path, char **error)
{
    wes_buf_t *wal = wes_buf_new ();
    wes_buf_printf (wal, "%s-wal", path);
    struct stat sb;
    bool wal_has_content = stat (wes_buf_data (wal), &sb) == 0 && sb.st_size > 0;
    wes_buf_destroy (&wal);
    char *uri = s_uri_for (path, !wal_has_content);
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2 (uri, &db,
                              SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
    free (uri);
    if (rc != SQLITE_OK) {
        s_set_error (error, "%s: cannot open: %s", path,
                     db ? sqlite3_errmsg (db) : sqlite3_errstr (rc));
        sqlite3_close (db);
        return NULL;
    }
    sqlite3_extended_result_codes (db, 0);
    sqlite3_busy_timeout (db, S_BUSY_TIMEOUT_MS);
    sqlite3_db_config (db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config (db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    return db;
}

/*  Refuses anything but a healthy Wesley state file of a format we read. */
static int
s_check_file (sqlite3 *db, const char *path, char **error)
{
    char text[256];
    int rc = s_pragma_text (db, "PRAGMA application_id", text, sizeof text);
    if (rc != SQLITE_OK) {
        if (rc == SQLITE_NOTADB) {
            s_set_error (error, "%s is not a Wesley state file (not an SQLite database)", path);
        }
        else if (rc == SQLITE_CORRUPT) {
            s_set_error (error, "%s is corrupt: %s", path, sqlite3_errmsg (db));
        }
        else {
            s_set_error (error, "%s: cannot read: %s", path, sqlite3_errmsg (db));
        }
        return -1;
    }
    char want[32];
    snprintf (want, sizeof want, "%d", S_APPLICATION_ID);
    sqlite3_stmt *st = NULL;
    const char *app = NULL;
    rc = sqlite3_prepare_v2 (db, "SELECT value FROM meta WHERE key = 'application'", -1, &st, NULL);
    if (rc == SQLITE_OK && sqlite3_step (st) == SQLITE_ROW) {
        app = (const char *)sqlite3_column_text (st, 0);
    }
    bool ours = strcmp (text, want) == 0 && app && strcmp (app, S_APPLICATION) == 0;
    sqlite3_finalize (st);
    if (!ours) {
        if (sqlite3_errcode (db) == SQLITE_CORRUPT) {
            s_set_error (error, "%s is corrupt: %s", path, sqlite3_errmsg (db));
        }
        else {
            s_set_error (error,
                         "%s is an SQLite database of another application, not a Wesley state "
                         "file (no Wesley meta)",
                         path);
        }
        return -1;
    }
    int64_t format = 0;
    if (s_meta_get_int (db, "format", &format) != 0 || format < 1) {
        s_set_error (error, "%s: unreadable format version: %s", path, sqlite3_errmsg (db));
        return -1;
    }
    if (format > WES_STORE_FORMAT) {
        s_set_error (error,
                     "%s was written by a newer Wesley (state format %" PRId64
                     "; this build reads format %d)",
                     path, format, WES_STORE_FORMAT);
        return -1;
    }
    /*  quick_check reports "ok" alone, or up to N lines of problems. */
    rc = s_pragma_text (db, "PRAGMA quick_check(1)", text, sizeof text);
    if (rc != SQLITE_OK) {
        s_set_error (error, "%s is corrupt (quick_check: %s)", path, sqlite3_errmsg (db));
        return -1;
    }
    if (strcmp (text, "ok") != 0) {
        for (char *c = text; *c; c++) {
            if (*c == '\n' || *c == '\r') {
                *c = ' ';
            }
        }
        s_set_error (error, "%s is corrupt (quick_check: %s)", path, text);
        return -1;
    }
    return 0;
}

/*  First column of the first row of sql, as text (empty when none).
    Returns an SQLite result code. */
static int
s_pragma_text (sqlite3 *db, const char *sql, char *out, size_t size)
{
    out[0] = '\0';
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2 (db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize (st);
        return sqlite3_errcode (db) ? sqlite3_errcode (db) : rc;
    }
    rc = sqlite3_step (st);
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text (st, 0);
        snprintf (out, size, "%s", v ? v : "");
        rc = SQLITE_OK;
    }
    else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    else {
        rc = sqlite3_errcode (db);
    }
    sqlite3_finalize (st);
    return rc;
}

static int
s_exec (sqlite3 *db, const char *sql)
{
    return sqlite3_exec (db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int
s_meta_get_int (sqlite3 *db, const char *key, int64_t *value)
{
    sqlite3_stmt *st = NULL;
    int result = -1;
    if (sqlite3_prepare_v2 (db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL)
        == SQLITE_OK) {
        sqlite3_bind_text (st, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step (st) == SQLITE_ROW) {
            const char *text = (const char *)sqlite3_column_text (st, 0);
            char *end = NULL;
            errno = 0;
            long long v = text ? strtoll (text, &end, 10) : 0;
            if (text && *text && end && *end == '\0' && errno == 0) {
                *value = v;
                result = 0;
            }
        }
    }
    sqlite3_finalize (st);
    return result;
}

static int
s_meta_set (sqlite3 *db, const char *key, const char *value)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2 (db, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", -1,
                                 &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text (st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_text (st, 2, value, -1, SQLITE_STATIC);
        rc = sqlite3_step (st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    sqlite3_finalize (st);
    return rc == SQLITE_OK ? 0 : -1;
}

static int
s_meta_set_int (sqlite3 *db, const char *key, int64_t value)
{
    char text[32];
    snprintf (text, sizeof text, "%" PRId64, value);
    return s_meta_set (db, key, text);
}

/*  Settings of every connection; a writer also gets WAL and synchronous=FULL
    (checked, not assumed). */
static int
s_configure (sqlite3 *db, bool read_only)
{
    sqlite3_extended_result_codes (db, 0);
    sqlite3_busy_timeout (db, S_BUSY_TIMEOUT_MS);
    /*  A file from outside must not run functions through its schema. */
    sqlite3_db_config (db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config (db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    if (s_exec (db, "PRAGMA cache_size = -32768") != 0) {
        return -1;
    }
    if (read_only) {
        return 0;
    }
    char mode[32];
    if (s_pragma_text (db, "PRAGMA journal_mode = WAL", mode, sizeof mode) != SQLITE_OK
        || strcmp (mode, "wal") != 0) {
        return -1;
    }
    if (s_exec (db, "PRAGMA synchronous = FULL") != 0
        || s_exec (db, "PRAGMA wal_autocheckpoint = " S_WAL_CHECKPOINT_PAGES) != 0
        || s_pragma_text (db, "PRAGMA synchronous", mode, sizeof mode) != SQLITE_OK
        || strcmp (mode, "2") != 0) {
        return -1;
    }
    return 0;
}

/*  Reads the run and targets into memory and prepares the statements. */
static int
s_load (wes_store_t *self, char **error)
{
    if (s_prepare_all (self) != 0) {
        s_set_error (error, "%s: unexpected schema: %s", self->path, sqlite3_errmsg (self->db));
        return -1;
    }
    int64_t epoch = 0;
    if (s_meta_get_int (self->db, "epoch", &epoch) != 0 || epoch < 1) {
        s_set_error (error, "%s: unreadable epoch", self->path);
        return -1;
    }
    self->epoch = (uint64_t)epoch;

    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2 (
        self->db, "SELECT plan_json, plan_hash, n_steps, state FROM run WHERE id = 1", -1, &st,
        NULL);
    if (rc != SQLITE_OK || sqlite3_step (st) != SQLITE_ROW) {
        s_set_error (error, "%s: no run recorded: %s", self->path, sqlite3_errmsg (self->db));
        sqlite3_finalize (st);
        return -1;
    }
    const char *json = (const char *)sqlite3_column_text (st, 0);
    const char *hash = (const char *)sqlite3_column_text (st, 1);
    int64_t n_steps = sqlite3_column_int64 (st, 2);
    int64_t state = sqlite3_column_int64 (st, 3);
    if (!json || !hash || n_steps < 0 || n_steps > WES_MAX_PLAN_STEPS || state < WES_RUN_RUNNING
        || state > WES_RUN_FAILED) {
        s_set_error (error, "%s: damaged run record", self->path);
        sqlite3_finalize (st);
        return -1;
    }
    self->plan_json = wes_strdup (json);
    self->plan_hash = wes_strdup (hash);
    self->n_steps = (size_t)n_steps;
    self->run_state = (wes_run_state_t)state;
    sqlite3_finalize (st);

    st = NULL;
    rc = sqlite3_prepare_v2 (self->db, "SELECT idx, name, conninfo, grp FROM targets ORDER BY idx",
                             -1, &st, NULL);
    size_t cap = 0;
    if (rc != SQLITE_OK) {
        s_set_error (error, "%s: cannot read the targets: %s", self->path,
                     sqlite3_errmsg (self->db));
        sqlite3_finalize (st);
        return -1;
    }
    while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text (st, 1);
        const char *conninfo = (const char *)sqlite3_column_text (st, 2);
        if (sqlite3_column_int64 (st, 0) != (int64_t)self->n_targets || !name || !conninfo) {
            s_set_error (error, "%s: damaged target %zu", self->path, self->n_targets);
            sqlite3_finalize (st);
            return -1;
        }
        if (self->n_targets == cap) {
            cap = cap ? cap * 2 : 16;
            self->target_names = wes_realloc (self->target_names, cap * sizeof (char *));
            self->target_conninfos = wes_realloc (self->target_conninfos, cap * sizeof (char *));
            self->target_groups = wes_realloc (self->target_groups, cap * sizeof (char *));
        }
        self->target_names[self->n_targets] = wes_strdup (name);
        self->target_conninfos[self->n_targets] = wes_strdup (conninfo);
        self->target_groups[self->n_targets] =
            wes_strdup ((const char *)sqlite3_column_text (st, 3));
        self->n_targets++;
    }
    sqlite3_finalize (st);
    if (rc != SQLITE_DONE) {
        s_set_error (error, "%s: cannot read the targets: %s", self->path,
                     sqlite3_errmsg (self->db));
        return -1;
    }
    return 0;
}

static int
s_prepare_all (wes_store_t *self)
{
    for (int i = 0; i < S_COUNT; i++) {
        if (self->stmts[i]) {
            continue;
        }
        if (sqlite3_prepare_v3 (self->db, s_stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                &self->stmts[i], NULL)
            != SQLITE_OK) {
            return -1;
        }
    }
    return 0;
}

static sqlite3_stmt *
s_stmt (const wes_store_t *self, s_stmt_id_t id)
{
    wes_assert (self->stmts[id]);
    return self->stmts[id];
}

static int
s_run_simple (wes_store_t *self, s_stmt_id_t id)
{
    sqlite3_stmt *st = s_stmt (self, id);
    int rc = sqlite3_step (st);
    sqlite3_reset (st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/*  Opens the write's own transaction unless a group is open. */
static int
s_write_begin (wes_store_t *self)
{
    if (self->read_only) {
        wes_log_error ("store %s: opened read-only", self->path);
        return -1;
    }
    if (self->in_group) {
        return self->group_failed ? -1 : 0;
    }
    if (s_run_simple (self, S_BEGIN) != 0) {
        s_log_db (self, "begin");
        return -1;
    }
    return 0;
}

/*  Commits the write's own transaction, or on failure rolls back (the
    whole group, when inside one: a group is all or nothing). */
static int
s_write_end (wes_store_t *self, int rc)
{
    if (self->in_group) {
        if (rc != 0 && !self->group_failed) {
            s_group_abort (self);
        }
        return rc;
    }
    if (rc == 0 && s_run_simple (self, S_COMMIT) != 0) {
        s_log_db (self, "commit");
        rc = -1;
    }
    if (rc != 0 && !sqlite3_get_autocommit (self->db)) {
        (void)s_run_simple (self, S_ROLLBACK);
    }
    return rc;
}

static int
s_add_event (wes_store_t *self, int64_t target, int64_t step, const char *event, const char *detail)
{
    sqlite3_stmt *st = self->stmts[S_ADD_EVENT];
    bool transient = !st;
    if (transient) {
        /*  During create, before the statements are prepared. */
        if (sqlite3_prepare_v2 (self->db, s_stmt_sql[S_ADD_EVENT], -1, &st, NULL) != SQLITE_OK) {
            sqlite3_finalize (st);
            return -1;
        }
    }
    sqlite3_bind_int64 (st, 1, s_now_ms ());
    sqlite3_bind_int64 (st, 2, (sqlite3_int64)self->epoch);
    if (target >= 0) {
        sqlite3_bind_int64 (st, 3, target);
    }
    else {
        sqlite3_bind_null (st, 3);
    }
    if (step >= 0) {
        sqlite3_bind_int64 (st, 4, step);
    }
    else {
        sqlite3_bind_null (st, 4);
    }
    sqlite3_bind_text (st, 5, event, -1, SQLITE_STATIC);
    s_bind_text_or_null (st, 6, detail);
    int rc = sqlite3_step (st) == SQLITE_DONE ? 0 : -1;
    if (rc != 0) {
        s_log_db (self, "append event");
    }
    if (transient) {
        sqlite3_finalize (st);
    }
    else {
        sqlite3_reset (st);
        sqlite3_clear_bindings (st);
    }
    return rc;
}

static void
s_bind_text_or_null (sqlite3_stmt *st, int i, const char *s)
{
    if (s) {
        sqlite3_bind_text (st, i, s, -1, SQLITE_STATIC);
    }
    else {
        sqlite3_bind_null (st, i);
    }
}

/*  Rolls the open group back; what it wrote to the caches is read again. */
static void
s_group_abort (wes_store_t *self)
{
    self->group_failed = true;
    if (!sqlite3_get_autocommit (self->db)) {
        (void)s_run_simple (self, S_ROLLBACK);
    }
    sqlite3_stmt *st = s_stmt (self, S_RUN_STATE_GET);
    if (sqlite3_step (st) == SQLITE_ROW) {
        int64_t v = sqlite3_column_int64 (st, 0);
        if (v >= WES_RUN_RUNNING && v <= WES_RUN_FAILED) {
            self->run_state = (wes_run_state_t)v;
        }
    }
    sqlite3_reset (st);
    for (size_t i = 0; i < self->n_options; i++) {
        self->options[i].stale = true;
    }
}

static void
s_log_db (const wes_store_t *self, const char *what)
{
    wes_log_error ("store %s: %s: %s", self->path, what, sqlite3_errmsg (self->db));
}

/*  The pid recorded by the coordinator holding the lock, or -1. */
static long
s_holder_pid (const char *path)
{
    char *error = NULL;
    sqlite3 *db = s_open_check_handle (path, &error);
    free (error);
    if (!db) {
        return -1;
    }
    int64_t pid = -1;
    if (s_meta_get_int (db, "holder_pid", &pid) != 0) {
        pid = -1;
    }
    sqlite3_close (db);
    return (long)pid;
}
