/*  wes_outputs.c — a compile's three files and hash from tables handed
    over one at a time: pieces to spool files, then laid out in name order.
    See wes_outputs.h. */
#define _GNU_SOURCE /* copy_file_range */
#include "wes_outputs.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../pg/wes_records.h"
#include "../util/wes_arena.h"
#include "../util/wes_buf.h"
#include "../util/wes_mem.h"
#include "wes_emit_sql.h"
#include "wes_emit_ts.h"
#include "wes_jsonw.h"

/*  The spools: one per piece of a table, so that pieces of tables handed
    over in name order lie back to back and are copied in one call. */
enum {
    S_CANON,                               /* canonical object, after "," */
    S_META,                                /* schema.json meta member, after "," */
    S_SQL,                                 /* + wes_sql_part_t: schema.sql parts */
    S_TS = S_SQL + WES_SQL_N_PARTS,        /* types.ts interfaces */
    S_REC,                                 /* + kind: expression records (binary) */
    S_COUNT = S_REC + WES_SQL_RECORD_KINDS /* spools */
};

/*  Bytes a spool gathers before it writes. */
#define S_SPOOL_BUF (32u * 1024u)
/*  Bytes read or copied at a time. */
#define S_IO_BYTES (256u * 1024u)
/*  Tables given (wes_outputs_give) and not yet rendered, at most; the
    renderer takes them S_BATCH or more at a time. */
#define S_QUEUE 32
#define S_BATCH 8
/*  The three files, in the order they are written and renamed. */
static const char *const s_files[3] = {"schema.sql", "types.ts", "schema.json"};

/*  A piece of a table in a spool (a spool is at most 4 GiB: far more than
    the outputs of the biggest input, WES_MAX_SDL_BYTES). */
typedef struct {
    uint32_t off; /* in the spool */
    uint32_t len; /* bytes; 0: the table has no such piece */
} s_range_t;

/*  A table handed over, for sorting by name. */
typedef struct {
    const char *name; /* its SQL name (in the arena) */
    uint32_t seq;     /* handed over as the seq-th: its ranges' row */
} s_entry_t;

typedef struct {
    int fd;        /* unlinked temporary file, or -1 */
    uint64_t size; /* bytes written (buffered included) */
    char *buf;     /* pending bytes */
    size_t used;   /* bytes in buf */
} s_spool_t;

struct wes_outputs {
    char *dir;                /* where the files go, or NULL: hash only */
    s_spool_t spools[S_COUNT];
    size_t n_spools;          /* S_COUNT, or 1 for the hash only */
    const wes_model_t *enums; /* borrowed */
    wes_arena_t *arena;       /* names */
    const char **sql;         /* the declared tables' SQL names (arena) */
    const char **gql;         /* ... and GraphQL names (arena, or NULL) */
    size_t n_declared;        /* declared at begin */
    wes_ts_names_t *ts;       /* TypeScript names, or NULL */
    s_entry_t *entries;       /* one per table handed over (n_declared at most) */
    size_t n_entries;
    s_range_t *ranges;        /* n_spools per table handed over, by seq */
    wes_jsonw_t *jw;          /* JSON pieces (forgets between tables) */
    wes_buf_t *piece;         /* one piece being made */
    char *io;                 /* S_IO_BYTES for reading spools */
    char tmp[3][4096];        /* temporary paths of the files */
    bool made[3];             /* tmp[i] exists */
    bool failed;              /* a call failed: later ones fail too */
    char error[512];          /* why */
    /* the renderer thread of wes_outputs_give (the queue under mu) */
    bool started;             /* the thread runs */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t can_put;   /* the queue has room */
    pthread_cond_t can_take;  /* the queue has a table, or closing */
    wes_model_t *queue[S_QUEUE]; /* owned */
    size_t head;              /* oldest */
    size_t count;             /* queued */
    bool closing;             /* no table will come */
    bool render_failed;       /* the thread failed (its error in error) */
    wes_model_t *done[2 * S_QUEUE]; /* rendered, for the giver to free (its memory) */
    size_t n_done;
    /* the renderer's (or wes_outputs_table's caller's) */
    EVP_MD_CTX *md;           /* the hash, while tables come in name order; else NULL */
    const char *last;         /* the last table's name (arena), for that order */
};

/*  One writer's buffers and error: the three files are written by two
    threads at once. */
typedef struct {
    wes_outputs_t *o;   /* the outputs (read only meanwhile) */
    wes_buf_t *piece;   /* text being made */
    char *io;           /* S_IO_BYTES for reading spools */
    bool failed;        /* a write or read failed */
    char error[512];    /* why */
} s_io_t;

static void s_fail (wes_outputs_t *self, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
static void s_io_fail (s_io_t *x, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
static int s_spool_put (wes_outputs_t *self, size_t i, const char *data, size_t len);
static int s_spool_flush (wes_outputs_t *self, size_t i);
static int s_to_buf (const char *data, size_t len, void *arg);
static int s_cmp_entry (const void *a, const void *b);
static void s_record (void *arg, size_t kind, const char *table, const char *object,
                      const char *expr);
static int s_write_all (s_io_t *x, int fd, const char *path, const char *data, size_t len);
typedef int (*s_bytes_fn) (void *arg, const char *data, size_t len);
static int s_each_run (s_io_t *x, size_t spool, bool skip_comma, int out_fd, const char *out_path,
                       s_bytes_fn fn, void *arg);
static int s_write_sql (s_io_t *x, int fd, const char *path, const char *hash);
static int s_write_ts (s_io_t *x, int fd, const char *path, const char *hash);
static int s_write_json (s_io_t *x, int fd, const char *path, const char *hash);
static void s_stop (wes_outputs_t *self);
static int s_digest_cb (const char *data, size_t len, void *arg);

/*  Table i's (in name order, once finished) piece in spool. */
static s_range_t *
s_range (const wes_outputs_t *self, size_t i, size_t spool)
{
    return &self->ranges[(size_t) self->entries[i].seq * self->n_spools + spool];
}

/*  Where the piece for spool starts. */
static void
s_mark (const wes_outputs_t *self, s_range_t *r, size_t spool)
{
    r->off = (uint32_t) self->spools[spool].size;
}

wes_outputs_t *
wes_outputs_new (const char *dir)
{
    wes_outputs_t *self = wes_new (wes_outputs_t);
    self->dir = dir ? wes_strdup (dir) : NULL;
    self->n_spools = dir ? S_COUNT : 1;
    for (size_t i = 0; i < S_COUNT; i++) {
        self->spools[i].fd = -1;
    }
    self->arena = wes_arena_new (0);
    self->piece = wes_buf_new ();
    pthread_mutex_init (&self->mu, NULL);
    pthread_cond_init (&self->can_put, NULL);
    pthread_cond_init (&self->can_take, NULL);
    return self;
}

void
wes_outputs_destroy (wes_outputs_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wes_outputs_t *self = *self_p;
    s_stop (self);
    pthread_mutex_destroy (&self->mu);
    pthread_cond_destroy (&self->can_put);
    pthread_cond_destroy (&self->can_take);
    for (size_t i = 0; i < S_COUNT; i++) {
        if (self->spools[i].fd >= 0) {
            close (self->spools[i].fd);
        }
        free (self->spools[i].buf);
    }
    for (size_t i = 0; i < 3; i++) {
        if (self->made[i]) {
            unlink (self->tmp[i]);
        }
    }
    EVP_MD_CTX_free (self->md);
    wes_ts_names_destroy (&self->ts);
    wes_jsonw_destroy (&self->jw);
    wes_buf_destroy (&self->piece);
    wes_arena_destroy (&self->arena);
    free (self->sql);
    free (self->gql);
    free (self->entries);
    free (self->ranges);
    free (self->io);
    free (self->dir);
    free (self);
    *self_p = NULL;
}

const char *
wes_outputs_error (const wes_outputs_t *self)
{
    return self ? self->error : "";
}

size_t
wes_outputs_tables (const wes_outputs_t *self)
{
    return self ? self->n_entries : 0;
}

int
wes_outputs_begin (wes_outputs_t *self, const wes_model_t *enums, size_t n_tables,
                   const char *const *sql_names, const char *const *gql_names)
{
    wes_assert (self && enums && !self->enums);
    wes_assert (n_tables == 0 || (sql_names && gql_names));
    self->enums = enums;
    self->n_declared = n_tables;
    self->sql = wes_alloc ((n_tables + 1) * sizeof *self->sql);
    self->gql = wes_alloc ((n_tables + 1) * sizeof *self->gql);
    for (size_t i = 0; i < n_tables; i++) {
        self->sql[i] = wes_arena_strndup (self->arena, sql_names[i], strlen (sql_names[i]));
        self->gql[i] = gql_names[i]
                           ? wes_arena_strndup (self->arena, gql_names[i], strlen (gql_names[i]))
                           : NULL;
    }
    if (self->dir) {
        self->ts = wes_ts_names_new (enums, n_tables, self->sql, self->gql);
    }
    self->entries = wes_alloc ((n_tables + 1) * sizeof *self->entries);
    self->ranges = wes_alloc ((n_tables + 1) * self->n_spools * sizeof *self->ranges);
    self->jw = wes_jsonw_new (0, s_to_buf, self->piece);
    //  Tables handed over in name order (the usual case) are hashed as
    //  they come; in any other order the spool is read back at the end
    self->md = EVP_MD_CTX_new ();
    wes_assert (self->md);
    wes_assert (EVP_DigestInit_ex (self->md, EVP_sha256 (), NULL) == 1);
    wes_model_canonical_head (enums, s_digest_cb, self->md);
    self->io = wes_alloc (S_IO_BYTES);
    const char *where = self->dir;
    if (!where) {
        where = getenv ("TMPDIR");
        if (!where || !*where) {
            where = "/tmp";
        }
    }
    for (size_t i = 0; i < self->n_spools; i++) {
        char path[4096];
        if ((size_t) snprintf (path, sizeof path, "%s/.wesley-spool.XXXXXX", where)
            >= sizeof path) {
            s_fail (self, "spool path too long in %s", where);
            return -1;
        }
        int fd = mkostemp (path, O_CLOEXEC);
        if (fd < 0) {
            s_fail (self, "cannot create a spool file in %s: %s", where, strerror (errno));
            return -1;
        }
        unlink (path); /* nothing is left behind, whatever happens */
        self->spools[i].fd = fd;
        self->spools[i].buf = wes_alloc (S_SPOOL_BUF);
    }
    return 0;
}

int
wes_outputs_table (wes_outputs_t *self, const wes_table_t *t)
{
    wes_assert (self && t && self->enums);
    if (self->failed) {
        return -1;
    }
    if (self->n_entries == self->n_declared) {
        s_fail (self, "table %s was not declared", t->name);
        return -1;
    }
    s_entry_t *e = &self->entries[self->n_entries];
    e->name = wes_arena_strndup (self->arena, t->name, strlen (t->name));
    e->seq = (uint32_t) self->n_entries;
    s_range_t *r = &self->ranges[self->n_entries * self->n_spools];
    self->n_entries++;

    //  The canonical object, after a comma (dropped before the first)
    wes_jsonw_forget (self->jw);
    wes_buf_reset (self->piece);
    wes_buf_puts (self->piece, ",");
    wes_model_write_table_canonical (self->jw, t);
    (void) wes_jsonw_flush (self->jw);
    s_mark (self, &r[S_CANON], S_CANON);
    r[S_CANON].len = (uint32_t) wes_buf_len (self->piece);
    if (s_spool_put (self, S_CANON, wes_buf_data (self->piece), wes_buf_len (self->piece)) != 0) {
        return -1;
    }
    if (self->md && self->last && strcmp (self->last, e->name) >= 0) {
        EVP_MD_CTX_free (self->md); /* out of order */
        self->md = NULL;
    }
    if (self->md) {
        bool first = !self->last;
        wes_assert (EVP_DigestUpdate (self->md, wes_buf_data (self->piece) + first,
                                      wes_buf_len (self->piece) - first)
                    == 1);
    }
    self->last = e->name;
    if (!self->dir) {
        return 0;
    }

    //  The meta member: written inside an object of its own, taken out
    wes_buf_reset (self->piece);
    wes_jsonw_object_begin (self->jw);
    wes_model_write_table_meta (self->jw, t);
    wes_jsonw_object_end (self->jw);
    (void) wes_jsonw_flush (self->jw);
    size_t len = wes_buf_len (self->piece);
    s_mark (self, &r[S_META], S_META);
    if (len > 2) {
        r[S_META].len = (uint32_t) (len - 1); /* "," + the member */
        if (s_spool_put (self, S_META, ",", 1) != 0
            || s_spool_put (self, S_META, wes_buf_data (self->piece) + 1, len - 2) != 0) {
            return -1;
        }
    }

    for (size_t part = 0; part < WES_SQL_N_PARTS; part++) {
        wes_buf_reset (self->piece);
        wes_emit_sql_table_part (self->piece, self->enums, t, (wes_sql_part_t) part);
        size_t i = S_SQL + part;
        s_mark (self, &r[i], i);
        r[i].len = (uint32_t) wes_buf_len (self->piece);
        if (s_spool_put (self, i, wes_buf_data (self->piece), wes_buf_len (self->piece)) != 0) {
            return -1;
        }
    }

    wes_buf_reset (self->piece);
    wes_ts_names_forget (self->ts);
    wes_emit_ts_table (self->piece, self->ts, t);
    s_mark (self, &r[S_TS], S_TS);
    r[S_TS].len = (uint32_t) wes_buf_len (self->piece);
    if (s_spool_put (self, S_TS, wes_buf_data (self->piece), wes_buf_len (self->piece)) != 0) {
        return -1;
    }

    for (size_t k = 0; k < WES_SQL_RECORD_KINDS; k++) {
        wes_buf_reset (self->piece);
        wes_emit_sql_table_records (t, k, s_record, self->piece);
        size_t i = S_REC + k;
        s_mark (self, &r[i], i);
        r[i].len = (uint32_t) wes_buf_len (self->piece);
        if (s_spool_put (self, i, wes_buf_data (self->piece), wes_buf_len (self->piece)) != 0) {
            return -1;
        }
    }
    return 0;
}

/*  The renderer: tables from the queue to the spools, until closing. It
    wakes for a batch of tables (or the end), not for each: a wake-up per
    table would cost more than many a table's rendering. */
static void *
s_render (void *arg)
{
    wes_outputs_t *self = arg;
    wes_model_t *batch[S_QUEUE];
    for (;;) {
        pthread_mutex_lock (&self->mu);
        while (self->count < S_BATCH && !self->closing) {
            pthread_cond_wait (&self->can_take, &self->mu);
        }
        size_t n = self->count;
        for (size_t i = 0; i < n; i++) {
            batch[i] = self->queue[(self->head + i) % S_QUEUE];
        }
        self->head = (self->head + n) % S_QUEUE;
        self->count = 0;
        bool failed = self->render_failed;
        pthread_cond_signal (&self->can_put);
        pthread_mutex_unlock (&self->mu);
        if (n == 0) {
            return NULL; /* closing, and nothing left */
        }
        for (size_t i = 0; i < n; i++) {
            if (!failed && wes_outputs_table (self, wes_model_table (batch[i], 0)) != 0) {
                failed = true;
            }
        }
        //  Back to the giver, whose thread allocated them: a free from this
        //  thread would contend for the giver's malloc arena
        pthread_mutex_lock (&self->mu);
        if (failed) {
            self->render_failed = true;
        }
        size_t room = sizeof self->done / sizeof self->done[0] - self->n_done;
        size_t back = n < room ? n : room;
        memcpy (self->done + self->n_done, batch, back * sizeof batch[0]);
        self->n_done += back;
        pthread_mutex_unlock (&self->mu);
        for (size_t i = back; i < n; i++) {
            wes_model_destroy (&batch[i]);
        }
    }
}

/*  Frees the models the renderer is done with. */
static void
s_free_done (wes_outputs_t *self)
{
    wes_model_t *done[2 * S_QUEUE];
    pthread_mutex_lock (&self->mu);
    size_t n = self->n_done;
    memcpy (done, self->done, n * sizeof done[0]);
    self->n_done = 0;
    pthread_mutex_unlock (&self->mu);
    for (size_t i = 0; i < n; i++) {
        wes_model_destroy (&done[i]);
    }
}

/*  Closes the queue and waits for the renderer to drain it. */
static void
s_stop (wes_outputs_t *self)
{
    if (!self->started) {
        return;
    }
    pthread_mutex_lock (&self->mu);
    self->closing = true;
    pthread_cond_signal (&self->can_take);
    pthread_mutex_unlock (&self->mu);
    pthread_join (self->thread, NULL);
    self->started = false;
    s_free_done (self);
}

void
wes_outputs_cancel (wes_outputs_t *self)
{
    wes_assert (self);
    pthread_mutex_lock (&self->mu);
    self->render_failed = true; /* what is queued is dropped, not rendered */
    pthread_mutex_unlock (&self->mu);
    s_stop (self);
    if (!self->failed) {
        s_fail (self, "cancelled");
    }
}

int
wes_outputs_give (wes_outputs_t *self, wes_model_t **table_model)
{
    wes_assert (self && table_model && *table_model && self->enums && !self->closing);
    wes_assert (wes_model_table_count (*table_model) == 1);
    //  Once the renderer runs, failed is its to write: render_failed says
    if (!self->started && self->failed) {
        return -1;
    }
    if (!self->started) {
        if (pthread_create (&self->thread, NULL, s_render, self) != 0) {
            //  No thread: render here
            int rc = wes_outputs_table (self, wes_model_table (*table_model, 0));
            wes_model_destroy (table_model);
            return rc;
        }
        self->started = true;
    }
    pthread_mutex_lock (&self->mu);
    while (self->count == S_QUEUE) {
        pthread_cond_wait (&self->can_put, &self->mu);
    }
    self->queue[(self->head + self->count) % S_QUEUE] = *table_model;
    self->count++;
    *table_model = NULL;
    bool failed = self->render_failed;
    if (self->count == S_BATCH) {
        pthread_cond_signal (&self->can_take);
    }
    pthread_mutex_unlock (&self->mu);
    s_free_done (self);
    return failed ? -1 : 0;
}

static int
s_digest (void *arg, const char *data, size_t len)
{
    return EVP_DigestUpdate ((EVP_MD_CTX *) arg, data, len) == 1 ? 0 : -1;
}

static int
s_digest_cb (const char *data, size_t len, void *arg)
{
    return s_digest (arg, data, len);
}

/*  Writing one of the three files to its temporary path. */
typedef struct {
    s_io_t x;         /* its buffers and error */
    size_t file;      /* index in s_files */
    const char *hash; /* for its header */
} s_file_job_t;

static void *
s_file_job (void *arg)
{
    s_file_job_t *j = arg;
    typedef int (*s_file_fn) (s_io_t *, int, const char *, const char *);
    static const s_file_fn writers[3] = {s_write_sql, s_write_ts, s_write_json};
    const char *path = j->x.o->tmp[j->file];
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        s_io_fail (&j->x, "cannot write %s: %s", path, strerror (errno));
        return NULL;
    }
    if (writers[j->file](&j->x, fd, path, j->hash) != 0) {
        close (fd);
        return NULL;
    }
    if (fsync (fd) != 0 || close (fd) != 0) {
        s_io_fail (&j->x, "cannot write %s: %s", path, strerror (errno));
    }
    return NULL;
}

int
wes_outputs_finish (wes_outputs_t *self, char hash_out[65])
{
    wes_assert (self && self->enums && hash_out);
    s_stop (self); /* every table given is rendered */
    if (self->failed) {
        return -1;
    }
    if (self->n_entries != self->n_declared) {
        s_fail (self, "%zu tables were declared but %zu handed over", self->n_declared,
                self->n_entries);
        return -1;
    }
    for (size_t i = 0; i < self->n_spools; i++) {
        if (s_spool_flush (self, i) != 0) {
            return -1;
        }
    }
    if (self->n_entries > 1) {
        qsort (self->entries, self->n_entries, sizeof (s_entry_t), s_cmp_entry);
    }
    for (size_t i = 1; i < self->n_entries; i++) {
        if (strcmp (self->entries[i - 1].name, self->entries[i].name) == 0) {
            s_fail (self, "table %s was handed over twice", self->entries[i].name);
            return -1;
        }
    }

    //  The hash: the canonical bytes, head, tables in name order, tail
    //  (hashed already when the tables came in that order)
    s_io_t x = {self, self->piece, self->io, false, ""};
    EVP_MD_CTX *md = self->md;
    self->md = NULL;
    int rc = 0;
    if (!md) {
        md = EVP_MD_CTX_new ();
        wes_assert (md);
        wes_assert (EVP_DigestInit_ex (md, EVP_sha256 (), NULL) == 1);
        wes_model_canonical_head (self->enums, s_digest_cb, md);
        rc = s_each_run (&x, S_CANON, true, -1, NULL, s_digest, md);
    }
    unsigned char raw[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (rc == 0) {
        wes_assert (EVP_DigestUpdate (md, WES_MODEL_CANONICAL_TAIL,
                                      strlen (WES_MODEL_CANONICAL_TAIL))
                    == 1);
        wes_assert (EVP_DigestFinal_ex (md, raw, &n) == 1 && n == 32);
    }
    EVP_MD_CTX_free (md);
    if (rc != 0) {
        s_fail (self, "%s", x.error);
        return -1;
    }
    static const char digits[] = "0123456789abcdef";
    for (unsigned int i = 0; i < 32; i++) {
        hash_out[2 * i] = digits[raw[i] >> 4];
        hash_out[2 * i + 1] = digits[raw[i] & 0xf];
    }
    hash_out[64] = '\0';
    if (!self->dir) {
        return 0;
    }

    //  schema.json (the biggest) on a thread while schema.sql and types.ts
    //  are written here
    s_file_job_t jobs[3];
    for (size_t f = 0; f < 3; f++) {
        if ((size_t) snprintf (self->tmp[f], sizeof self->tmp[f], "%s/.%s.tmp.%ld", self->dir,
                               s_files[f], (long) getpid ())
            >= sizeof self->tmp[f]) {
            s_fail (self, "output path too long: %s/%s", self->dir, s_files[f]);
            return -1;
        }
        self->made[f] = true;
        jobs[f] = (s_file_job_t) {{self, f == 2 ? wes_buf_new () : self->piece,
                                   f == 2 ? wes_alloc (S_IO_BYTES) : self->io, false, ""},
                                  f, hash_out};
    }
    pthread_t json;
    bool threaded = pthread_create (&json, NULL, s_file_job, &jobs[2]) == 0;
    s_file_job (&jobs[0]);
    if (!jobs[0].x.failed) {
        s_file_job (&jobs[1]);
    }
    if (threaded) {
        pthread_join (json, NULL);
    }
    else {
        s_file_job (&jobs[2]);
    }
    wes_buf_destroy (&jobs[2].x.piece);
    free (jobs[2].x.io);
    for (size_t f = 0; f < 3; f++) {
        if (jobs[f].x.failed) {
            s_fail (self, "%s", jobs[f].x.error);
            return -1;
        }
    }
    return 0;
}

int
wes_outputs_commit (wes_outputs_t *self)
{
    wes_assert (self && self->dir);
    if (self->failed) {
        return -1;
    }
    for (size_t f = 0; f < 3; f++) {
        wes_assert (self->made[f]);
        char path[4200];
        snprintf (path, sizeof path, "%s/%s", self->dir, s_files[f]);
        if (rename (self->tmp[f], path) != 0) {
            s_fail (self, "cannot replace %s: %s", path, strerror (errno));
            return -1; /* the rest are removed by destroy */
        }
        self->made[f] = false;
    }
    return 0;
}

/* ---------------------------------------------------------------------- */

static void
s_fail (wes_outputs_t *self, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (self->error, sizeof self->error, fmt, ap);
    va_end (ap);
    self->failed = true;
}

static void
s_io_fail (s_io_t *x, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (x->error, sizeof x->error, fmt, ap);
    va_end (ap);
    x->failed = true;
}

static int
s_to_buf (const char *data, size_t len, void *arg)
{
    wes_buf_append ((wes_buf_t *) arg, data, len);
    return 0;
}

static int
s_cmp_entry (const void *a, const void *b)
{
    return strcmp (((const s_entry_t *) a)->name, ((const s_entry_t *) b)->name);
}

/*  A record as the spool keeps it: object and expression, each with its
    NUL (neither can hold one); the table is its entry's. */
static void
s_record (void *arg, size_t kind, const char *table, const char *object, const char *expr)
{
    (void) kind;
    (void) table;
    wes_buf_t *out = arg;
    wes_buf_append (out, object, strlen (object) + 1);
    wes_buf_append (out, expr, strlen (expr) + 1);
}

static int
s_write_fd (int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write (fd, data, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        data += n;
        len -= (size_t) n;
    }
    return 0;
}

static int
s_spool_flush (wes_outputs_t *self, size_t i)
{
    s_spool_t *sp = &self->spools[i];
    if (sp->used > 0 && s_write_fd (sp->fd, sp->buf, sp->used) != 0) {
        s_fail (self, "cannot write a spool file: %s", strerror (errno));
        return -1;
    }
    sp->used = 0;
    return 0;
}

static int
s_spool_put (wes_outputs_t *self, size_t i, const char *data, size_t len)
{
    s_spool_t *sp = &self->spools[i];
    if (sp->size + len > UINT32_MAX) {
        s_fail (self, "an output is over 4 GiB");
        return -1;
    }
    if (sp->used + len > S_SPOOL_BUF) {
        if (s_spool_flush (self, i) != 0) {
            return -1;
        }
        if (len > S_SPOOL_BUF) {
            if (s_write_fd (sp->fd, data, len) != 0) {
                s_fail (self, "cannot write a spool file: %s", strerror (errno));
                return -1;
            }
            sp->size += len;
            return 0;
        }
    }
    memcpy (sp->buf + sp->used, data, len);
    sp->used += len;
    sp->size += len;
    return 0;
}

static int
s_write_all (s_io_t *x, int fd, const char *path, const char *data, size_t len)
{
    if (s_write_fd (fd, data, len) != 0) {
        s_io_fail (x, "cannot write %s: %s", path, strerror (errno));
        return -1;
    }
    return 0;
}

/*  Reads len bytes at off of a spool into buf. */
static int
s_pread_all (s_io_t *x, int fd, char *buf, size_t len, uint64_t off)
{
    while (len > 0) {
        ssize_t n = pread (fd, buf, len, (off_t) off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            s_io_fail (x, "cannot read a spool file: %s", n < 0 ? strerror (errno) : "short");
            return -1;
        }
        buf += n;
        len -= (size_t) n;
        off += (uint64_t) n;
    }
    return 0;
}

/*  One run of spool bytes: to fn, or copied to out_fd. */
static int
s_run (s_io_t *x, int in_fd, uint64_t off, uint64_t len, int out_fd,
       const char *out_path, s_bytes_fn fn, void *arg)
{
    if (!fn) {
        //  In the kernel when it can (same file system), else through io
        while (len > 0) {
            off_t in_off = (off_t) off;
            ssize_t n = copy_file_range (in_fd, &in_off, out_fd, NULL, len, 0);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                break;
            }
            off += (uint64_t) n;
            len -= (uint64_t) n;
        }
    }
    while (len > 0) {
        size_t chunk = len < S_IO_BYTES ? (size_t) len : S_IO_BYTES;
        if (s_pread_all (x, in_fd, x->io, chunk, off) != 0) {
            return -1;
        }
        if (fn ? fn (arg, x->io, chunk) != 0
               : s_write_all (x, out_fd, out_path, x->io, chunk) != 0) {
            if (fn) {
                s_io_fail (x, "cannot hash the canonical form");
            }
            return -1;
        }
        off += chunk;
        len -= chunk;
    }
    return 0;
}

/*  The pieces of one spool in name order (the first piece without its
    leading comma when skip_comma), back-to-back pieces as one run. */
static int
s_each_run (s_io_t *x, size_t spool, bool skip_comma, int out_fd, const char *out_path,
            s_bytes_fn fn, void *arg)
{
    int in_fd = x->o->spools[spool].fd;
    uint64_t run_off = 0, run_len = 0;
    bool first = true;
    for (size_t i = 0; i < x->o->n_entries; i++) {
        s_range_t r = *s_range (x->o, i, spool);
        if (r.len == 0) {
            continue;
        }
        if (first && skip_comma) {
            r.off++;
            r.len--;
        }
        first = false;
        if (run_len > 0 && run_off + run_len == r.off) {
            run_len += r.len;
            continue;
        }
        if (run_len > 0 && s_run (x, in_fd, run_off, run_len, out_fd, out_path, fn, arg) != 0) {
            return -1;
        }
        run_off = r.off;
        run_len = r.len;
    }
    if (run_len > 0) {
        return s_run (x, in_fd, run_off, run_len, out_fd, out_path, fn, arg);
    }
    return 0;
}

static bool
s_any (const wes_outputs_t *self, size_t spool)
{
    for (size_t i = 0; i < self->n_entries; i++) {
        if (s_range (self, i, spool)->len > 0) {
            return true;
        }
    }
    return false;
}

static int
s_put_piece (s_io_t *x, int fd, const char *path)
{
    int rc = s_write_all (x, fd, path, wes_buf_data (x->piece), wes_buf_len (x->piece));
    wes_buf_reset (x->piece);
    return rc;
}

/*  A window onto a spool: the pieces of tables handed over in name order
    lie back to back, so one read serves many of them. */
typedef struct {
    char *data;   /* the bytes read (owned) */
    size_t cap;   /* bytes allocated */
    uint64_t off; /* where they start in the spool */
    size_t len;   /* bytes read */
} s_window_t;

/*  The bytes of range r of spool (through w), or NULL when reading failed. */
static const char *
s_window (s_io_t *x, s_window_t *w, size_t spool, s_range_t r)
{
    if (r.off >= w->off && r.off + r.len <= w->off + w->len) {
        return w->data + (r.off - w->off);
    }
    uint64_t left = x->o->spools[spool].size - r.off;
    size_t want = r.len > S_IO_BYTES ? r.len : S_IO_BYTES;
    if (want > left) {
        want = (size_t) left;
    }
    if (want > w->cap) {
        w->cap = want;
        w->data = wes_realloc (w->data, w->cap);
    }
    w->off = r.off;
    w->len = 0;
    if (s_pread_all (x, x->o->spools[spool].fd, w->data, want, r.off) != 0) {
        return NULL;
    }
    w->len = want;
    return w->data;
}

static int
s_write_sql (s_io_t *x, int fd, const char *path, const char *hash)
{
    wes_buf_reset (x->piece);
    wes_emit_sql_head (x->piece, x->o->enums, hash);
    if (s_put_piece (x, fd, path) != 0) {
        return -1;
    }
    for (size_t part = 0; part < WES_SQL_N_PARTS; part++) {
        if (!s_any (x->o, S_SQL + part)) {
            continue;
        }
        wes_buf_puts (x->piece, wes_emit_sql_section_title ((wes_sql_part_t) part));
        if (s_put_piece (x, fd, path) != 0
            || s_each_run (x, S_SQL + part, false, fd, path, NULL, NULL) != 0) {
            return -1;
        }
    }
    bool any = false;
    for (size_t k = 0; k < WES_SQL_RECORD_KINDS && !any; k++) {
        any = s_any (x->o, S_REC + k);
    }
    if (any) {
        wes_emit_sql_records_head (x->piece);
        for (size_t k = 0; k < WES_SQL_RECORD_KINDS; k++) {
            const char *kind = wes_emit_sql_record_kind (k);
            s_window_t w = {NULL, 0, 0, 0};
            size_t rows = 0;
            for (size_t i = 0; i < x->o->n_entries; i++) {
                s_range_t r = *s_range (x->o, i, S_REC + k);
                const char *rec = r.len ? s_window (x, &w, S_REC + k, r) : NULL;
                if (r.len && !rec) {
                    free (w.data);
                    return -1;
                }
                //  object and expression, NUL after each
                for (const char *at = rec; at && at < rec + r.len;) {
                    const char *object = at;
                    const char *expr = object + strlen (object) + 1;
                    at = expr + strlen (expr) + 1;
                    wes_assert (at <= rec + r.len);
                    wes_records_row (x->piece, kind, &rows, x->o->entries[i].name, object, expr);
                }
                if (wes_buf_len (x->piece) >= S_IO_BYTES && s_put_piece (x, fd, path) != 0) {
                    free (w.data);
                    return -1;
                }
            }
            wes_records_end (x->piece, kind, &rows);
            free (w.data);
        }
    }
    wes_buf_puts (x->piece, WES_SQL_TAIL);
    return s_put_piece (x, fd, path);
}

static int
s_write_ts (s_io_t *x, int fd, const char *path, const char *hash)
{
    wes_buf_reset (x->piece);
    wes_emit_ts_head (x->piece, x->o->ts, hash);
    if (s_put_piece (x, fd, path) != 0
        || s_each_run (x, S_TS, false, fd, path, NULL, NULL) != 0) {
        return -1;
    }
    wes_emit_ts_tail (x->piece, x->o->ts);
    return s_put_piece (x, fd, path);
}

static int
s_write_json (s_io_t *x, int fd, const char *path, const char *hash)
{
    wes_buf_reset (x->piece);
    wes_model_document_head (x->o->enums, hash, s_to_buf, x->piece);
    if (s_put_piece (x, fd, path) != 0
        || s_each_run (x, S_META, true, fd, path, NULL, NULL) != 0) {
        return -1;
    }
    wes_buf_puts (x->piece, WES_MODEL_DOCUMENT_MIDDLE);
    wes_model_canonical_head (x->o->enums, s_to_buf, x->piece);
    if (s_put_piece (x, fd, path) != 0
        || s_each_run (x, S_CANON, true, fd, path, NULL, NULL) != 0) {
        return -1;
    }
    wes_buf_puts (x->piece, WES_MODEL_CANONICAL_TAIL WES_MODEL_DOCUMENT_TAIL "\n");
    return s_put_piece (x, fd, path);
}
