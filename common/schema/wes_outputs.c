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
#define S_SPOOL_BUF (16u * 1024u)
/*  Bytes of an output file after which the disk is asked to write them. */
#define S_KICK_BYTES (4u * 1024u * 1024u)
/*  Bytes read or copied at a time. */
#define S_IO_BYTES (64u * 1024u)
/*  Bytes of canonical pieces held in memory, at most, until the hash
    reaches them (beyond that they are hashed from the spool at the end). */
#define S_HOLD_BYTES (2u * 1024u * 1024u)
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
    const char *name; /* its SQL name (in its lane's arena) */
    uint32_t lane;    /* the lane it came on */
    uint32_t seq;     /* handed over on that lane as the seq-th: its ranges' row */
} s_entry_t;

typedef struct {
    int fd;        /* unlinked temporary file, or -1 */
    uint64_t size; /* bytes written (buffered included) */
    char *buf;     /* pending bytes */
    size_t used;   /* bytes in buf */
} s_spool_t;

/*  A canonical piece waiting for the hash to reach its table. */
typedef struct {
    char *data;   /* owned, or NULL */
    uint32_t len; /* bytes */
    bool came;    /* the table was handed over */
    bool ready;   /* the hash may take it: held (data), or written to a spool */
    int fd;       /* not held: the spool it is in ... */
    uint32_t off; /* ... at this offset (len bytes) */
} s_held_t;

/*  What one thread handing tables over writes: its own spools, entries
    and buffers, so that lanes never wait for each other. */
typedef struct {
    s_spool_t spools[S_COUNT];
    wes_arena_t *arena;  /* the entries' names */
    s_entry_t *entries;  /* one per table handed over on the lane */
    size_t n_entries;
    size_t cap_entries;  /* entries (and ranges rows) allocated */
    s_range_t *ranges;   /* n_spools per entry, by seq */
    wes_jsonw_t *jw;     /* JSON pieces (forgets between tables) */
    wes_buf_t *piece;    /* one piece being made */
    wes_ts_names_t *ts;  /* TypeScript names (made on the lane's first table), or NULL */
    bool open;           /* its spools and buffers are made */
    bool failed;         /* a call on the lane failed: later ones fail too */
    char error[512];     /* why */
} s_lane_t;

struct wes_outputs {
    char *dir;                /* where the files go, or NULL: hash only */
    size_t n_spools;          /* S_COUNT, or 1 for the hash only */
    char *where;              /* where the spools go: dir, or $TMPDIR or /tmp */
    const wes_model_t *enums; /* borrowed */
    wes_arena_t *arena;       /* names */
    const char **sql;         /* the declared tables' SQL names (arena) */
    const char **gql;         /* ... and GraphQL names (arena, or NULL) */
    size_t n_declared;        /* declared at begin */
    s_lane_t lanes[WES_OUTPUTS_LANES];
    /* the hash, taken as the tables come in name order (under hash_mu) */
    pthread_mutex_t hash_mu;
    EVP_MD_CTX *md;           /* head and the first frontier tables hashed */
    const char **order;       /* the declared SQL names, sorted (arena) */
    s_held_t *held;           /* by place in order */
    size_t frontier;          /* places hashed */
    size_t held_bytes;        /* bytes held */
    size_t hold_max;          /* bytes held at most */
    char *hash_io;            /* S_IO_BYTES for the lane at the frontier to read spools */
    wes_ts_names_t *ts;       /* the TypeScript names (files only; lanes share them) */
    bool hashing;             /* a lane hashes (outside the lock) */
    s_entry_t *entries;       /* at the end: every lane's, in name order */
    size_t n_entries;
    wes_buf_t *piece;         /* a piece being written at the end */
    char *io;                 /* S_IO_BYTES for reading spools */
    char tmp[3][4096];        /* temporary paths of the files */
    bool made[3];             /* tmp[i] exists */
    bool failed;              /* a call failed: later ones fail too */
    char error[512];          /* why */
};

/*  One writer's buffers and error: the three files are written by two
    threads at once. */
typedef struct {
    wes_outputs_t *o;   /* the outputs (read only meanwhile) */
    wes_buf_t *piece;   /* text being made */
    char *io;           /* S_IO_BYTES for reading spools */
    bool failed;        /* a write or read failed */
    char error[512];    /* why */
    uint64_t written;   /* bytes written to the file */
    uint64_t kicked;    /* of which the disk was asked to start writing */
} s_io_t;

static void s_fail (wes_outputs_t *self, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
static void s_lane_fail (s_lane_t *lane, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
static void s_io_fail (s_io_t *x, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
static int s_lane_open (const wes_outputs_t *self, s_lane_t *lane);
static int s_spool_put (s_lane_t *lane, size_t i, const char *data, size_t len);
static int s_spool_flush (s_lane_t *lane, size_t i);
static int s_lane_piece (s_lane_t *lane, s_range_t *r, size_t i);
static int s_to_buf (const char *data, size_t len, void *arg);
static int s_cmp_entry (const void *a, const void *b);
static int s_cmp_str (const void *a, const void *b);
static void s_record (void *arg, size_t kind, const char *table, const char *object,
                      const char *expr);
static int s_write_all (s_io_t *x, int fd, const char *path, const char *data, size_t len);
typedef int (*s_bytes_fn) (void *arg, const char *data, size_t len);
static int s_run (s_io_t *x, int in_fd, uint64_t off, uint64_t len, int out_fd,
                  const char *out_path, s_bytes_fn fn, void *arg);
static int s_each_run (s_io_t *x, size_t spool, size_t from, bool skip_comma, int out_fd,
                       const char *out_path, s_bytes_fn fn, void *arg);
static int s_write_sql (s_io_t *x, int fd, const char *path, const char *hash);
static int s_write_ts (s_io_t *x, int fd, const char *path, const char *hash);
static int s_write_json (s_io_t *x, int fd, const char *path, const char *hash);
static int s_digest_cb (const char *data, size_t len, void *arg);

/*  Table i's (in name order, once finished) piece in spool. */
static s_range_t *
s_range (const wes_outputs_t *self, size_t i, size_t spool)
{
    const s_entry_t *e = &self->entries[i];
    return &self->lanes[e->lane].ranges[(size_t) e->seq * self->n_spools + spool];
}

/*  The spool file of table i's (in name order) lane. */
static int
s_spool_fd (const wes_outputs_t *self, size_t i, size_t spool)
{
    return self->lanes[self->entries[i].lane].spools[spool].fd;
}

/*  Where the piece for spool starts. */
static void
s_mark (const s_lane_t *lane, s_range_t *r, size_t spool)
{
    r->off = (uint32_t) lane->spools[spool].size;
}

wes_outputs_t *
wes_outputs_new (const char *dir)
{
    wes_outputs_t *self = wes_new (wes_outputs_t);
    self->dir = dir ? wes_strdup (dir) : NULL;
    self->n_spools = dir ? S_COUNT : 1;
    for (size_t l = 0; l < WES_OUTPUTS_LANES; l++) {
        for (size_t i = 0; i < S_COUNT; i++) {
            self->lanes[l].spools[i].fd = -1;
        }
    }
    self->arena = wes_arena_new (0);
    self->piece = wes_buf_new ();
    pthread_mutex_init (&self->hash_mu, NULL);
    //  The three files' spools hold every piece anyway: less held there
    self->hold_max = dir ? S_HOLD_BYTES / 4 : S_HOLD_BYTES;
    return self;
}

void
wes_outputs_hold (wes_outputs_t *self, size_t bytes)
{
    wes_assert (self && !self->enums);
    self->hold_max = bytes;
}

static void
s_lane_free (s_lane_t *lane)
{
    for (size_t i = 0; i < S_COUNT; i++) {
        if (lane->spools[i].fd >= 0) {
            close (lane->spools[i].fd);
        }
        free (lane->spools[i].buf);
    }
    wes_ts_names_destroy (&lane->ts);
    wes_jsonw_destroy (&lane->jw);
    wes_buf_destroy (&lane->piece);
    wes_arena_destroy (&lane->arena);
    free (lane->entries);
    free (lane->ranges);
}

void
wes_outputs_destroy (wes_outputs_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wes_outputs_t *self = *self_p;
    for (size_t l = 0; l < WES_OUTPUTS_LANES; l++) {
        s_lane_free (&self->lanes[l]);
    }
    for (size_t i = 0; i < 3; i++) {
        if (self->made[i]) {
            unlink (self->tmp[i]);
        }
    }
    for (size_t i = 0; self->held && i < self->n_declared; i++) {
        free (self->held[i].data);
    }
    free (self->held);
    free (self->hash_io);
    wes_ts_names_destroy (&self->ts); /* after the lanes', which share it */
    free (self->order);
    EVP_MD_CTX_free (self->md);
    pthread_mutex_destroy (&self->hash_mu);
    wes_buf_destroy (&self->piece);
    wes_arena_destroy (&self->arena);
    free (self->sql);
    free (self->gql);
    free (self->entries);
    free (self->io);
    free (self->where);
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
    self->io = wes_alloc (S_IO_BYTES);
    const char *where = self->dir;
    if (!where) {
        where = getenv ("TMPDIR");
        if (!where || !*where) {
            where = "/tmp";
        }
    }
    self->where = wes_strdup (where);
    //  Lane 0's spools at once, so that a failure to create them shows
    //  here; the others' on their first table, on their threads
    if (s_lane_open (self, &self->lanes[0]) != 0) {
        s_fail (self, "%s", self->lanes[0].error);
        return -1;
    }
    //  The hash follows the tables in name order as they come
    self->order = wes_alloc ((n_tables + 1) * sizeof *self->order);
    memcpy (self->order, self->sql, n_tables * sizeof *self->order);
    bool sorted = true; /* the usual case: then no sorting */
    for (size_t i = 1; i < n_tables && sorted; i++) {
        sorted = strcmp (self->order[i - 1], self->order[i]) < 0;
    }
    if (!sorted) {
        qsort (self->order, n_tables, sizeof *self->order, s_cmp_str);
    }
    self->held = wes_alloc ((n_tables + 1) * sizeof *self->held);
    self->hash_io = wes_alloc (S_IO_BYTES);
    if (self->dir) {
        self->ts = wes_ts_names_new (enums, n_tables, self->sql, self->gql);
    }
    self->md = EVP_MD_CTX_new ();
    wes_assert (self->md);
    wes_assert (EVP_DigestInit_ex (self->md, EVP_sha256 (), NULL) == 1);
    wes_model_canonical_head (enums, s_digest_cb, self->md);
    return 0;
}

/*  Hashes a canonical piece written to a spool (through io, S_IO_BYTES). */
static int
s_hash_spooled (wes_outputs_t *self, char *io, int fd, uint64_t off, uint64_t len)
{
    while (len > 0) {
        size_t chunk = len < S_IO_BYTES ? (size_t) len : S_IO_BYTES;
        ssize_t n = pread (fd, io, chunk, (off_t) off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        wes_assert (EVP_DigestUpdate (self->md, io, (size_t) n) == 1);
        off += (uint64_t) n;
        len -= (uint64_t) n;
    }
    return 0;
}

/*  Takes table name's canonical piece (lane->piece: a comma, then the
    object) for the hash: holds a copy unless too much is held, else
    writes it to the lane's spool (with the files it is spooled anyway:
    r, its range); then hashes what the frontier reaches, unless another
    lane is at it. -1 when the table was not declared or came twice, or a
    spool failed. */
static int
s_hash_piece (wes_outputs_t *self, s_lane_t *lane, const char *name, s_range_t *r)
{
    const char **at = bsearch (&name, self->order, self->n_declared, sizeof *self->order,
                               s_cmp_str);
    if (!at) {
        s_lane_fail (lane, "table %s was not declared", name);
        return -1;
    }
    size_t k = (size_t) (at - self->order);
    size_t len = wes_buf_len (lane->piece);
    pthread_mutex_lock (&self->hash_mu);
    s_held_t *h = &self->held[k];
    if (h->came) {
        pthread_mutex_unlock (&self->hash_mu);
        s_lane_fail (lane, "table %s was handed over twice", name);
        return -1;
    }
    h->came = true;
    bool hold = self->held_bytes + len <= self->hold_max;
    if (hold) {
        self->held_bytes += len;
    }
    pthread_mutex_unlock (&self->hash_mu);

    char *copy = NULL;
    if (hold) {
        copy = wes_alloc_raw (len);
        memcpy (copy, wes_buf_data (lane->piece), len);
    }
    if ((self->dir || !hold) && s_lane_piece (lane, r, S_CANON) != 0) {
        free (copy);
        return -1;
    }
    //  Not held: on disk before the hash may read it
    if (!hold && s_spool_flush (lane, S_CANON) != 0) {
        return -1;
    }

    pthread_mutex_lock (&self->hash_mu);
    h->data = copy;
    h->len = (uint32_t) len;
    h->fd = lane->spools[S_CANON].fd;
    h->off = r[S_CANON].off;
    h->ready = true;
    if (self->hashing) {
        pthread_mutex_unlock (&self->hash_mu);
        return 0; /* the lane at it will reach this one */
    }
    self->hashing = true;
    int rc = 0;
    while (rc == 0 && self->frontier < self->n_declared && self->held[self->frontier].ready) {
        s_held_t *f = &self->held[self->frontier];
        char *data = f->data;
        size_t n = f->len;
        size_t first = self->frontier == 0;
        f->data = NULL;
        pthread_mutex_unlock (&self->hash_mu);
        if (data) {
            wes_assert (EVP_DigestUpdate (self->md, data + first, n - first) == 1);
            free (data);
        }
        else if (s_hash_spooled (self, self->hash_io, f->fd, f->off + first, n - first) != 0) {
            s_lane_fail (lane, "cannot read a spool file: %s", strerror (errno));
            rc = -1;
        }
        pthread_mutex_lock (&self->hash_mu);
        if (rc == 0) {
            self->frontier++;
            self->held_bytes -= data ? n : 0;
        }
    }
    self->hashing = false;
    pthread_mutex_unlock (&self->hash_mu);
    return rc;
}

/*  Creates lane's spools and buffers. 0, or -1. */
static int
s_lane_open (const wes_outputs_t *self, s_lane_t *lane)
{
    lane->arena = wes_arena_new (0);
    lane->piece = wes_buf_new ();
    lane->jw = wes_jsonw_new (0, s_to_buf, lane->piece);
    lane->open = true;
    for (size_t i = 0; i < self->n_spools; i++) {
        char path[4096];
        if ((size_t) snprintf (path, sizeof path, "%s/.wesley-spool.XXXXXX", self->where)
            >= sizeof path) {
            s_lane_fail (lane, "spool path too long in %s", self->where);
            return -1;
        }
        int fd = mkostemp (path, O_CLOEXEC);
        if (fd < 0) {
            s_lane_fail (lane, "cannot create a spool file in %s: %s", self->where,
                         strerror (errno));
            return -1;
        }
        unlink (path); /* nothing is left behind, whatever happens */
        lane->spools[i].fd = fd;
        lane->spools[i].buf = wes_alloc (S_SPOOL_BUF);
    }
    return 0;
}

/*  A piece made in lane->piece, to spool i, its range in r[i]. */
static int
s_lane_piece (s_lane_t *lane, s_range_t *r, size_t i)
{
    s_mark (lane, &r[i], i);
    r[i].len = (uint32_t) wes_buf_len (lane->piece);
    return s_spool_put (lane, i, wes_buf_data (lane->piece), wes_buf_len (lane->piece));
}

int
wes_outputs_table (wes_outputs_t *self, size_t lane_no, const wes_table_t *t)
{
    wes_assert (self && t && self->enums && lane_no < WES_OUTPUTS_LANES);
    s_lane_t *lane = &self->lanes[lane_no];
    if (self->failed || lane->failed) {
        return -1;
    }
    if (!lane->open && s_lane_open (self, lane) != 0) {
        return -1;
    }
    if (lane->n_entries == self->n_declared) {
        s_lane_fail (lane, "table %s was not declared", t->name);
        return -1;
    }
    if (lane->n_entries == lane->cap_entries) {
        size_t cap = lane->cap_entries ? lane->cap_entries + lane->cap_entries / 2 : 64;
        cap = cap < self->n_declared ? cap : self->n_declared;
        lane->entries = wes_realloc (lane->entries, cap * sizeof *lane->entries);
        lane->ranges = wes_realloc (lane->ranges, cap * self->n_spools * sizeof *lane->ranges);
        lane->cap_entries = cap;
    }
    s_entry_t *e = &lane->entries[lane->n_entries];
    e->name = wes_arena_strndup (lane->arena, t->name, strlen (t->name));
    e->lane = (uint32_t) lane_no;
    e->seq = (uint32_t) lane->n_entries;
    s_range_t *r = &lane->ranges[lane->n_entries * self->n_spools];
    memset (r, 0, self->n_spools * sizeof *r);
    lane->n_entries++;

    //  The canonical object, after a comma (dropped before the first)
    wes_jsonw_forget (lane->jw);
    wes_buf_reset (lane->piece);
    wes_buf_lit (lane->piece, ",");
    wes_model_write_table_canonical (lane->jw, t);
    (void) wes_jsonw_flush (lane->jw);
    if (s_hash_piece (self, lane, e->name, r) != 0) {
        return -1;
    }
    if (!self->dir) {
        return 0;
    }

    //  The meta member: written inside an object of its own, taken out
    wes_buf_reset (lane->piece);
    wes_jsonw_object_begin (lane->jw);
    wes_model_write_table_meta (lane->jw, t);
    wes_jsonw_object_end (lane->jw);
    (void) wes_jsonw_flush (lane->jw);
    size_t len = wes_buf_len (lane->piece);
    s_mark (lane, &r[S_META], S_META);
    if (len > 2) {
        r[S_META].len = (uint32_t) (len - 1); /* "," + the member */
        if (s_spool_put (lane, S_META, ",", 1) != 0
            || s_spool_put (lane, S_META, wes_buf_data (lane->piece) + 1, len - 2) != 0) {
            return -1;
        }
    }

    for (size_t part = 0; part < WES_SQL_N_PARTS; part++) {
        wes_buf_reset (lane->piece);
        wes_emit_sql_table_part (lane->piece, self->enums, t, (wes_sql_part_t) part);
        if (s_lane_piece (lane, r, S_SQL + part) != 0) {
            return -1;
        }
    }

    if (!lane->ts) {
        lane->ts = wes_ts_names_share (self->ts);
    }
    wes_buf_reset (lane->piece);
    wes_emit_ts_table (lane->piece, lane->ts, t);
    if (s_lane_piece (lane, r, S_TS) != 0) {
        return -1;
    }

    for (size_t k = 0; k < WES_SQL_RECORD_KINDS; k++) {
        wes_buf_reset (lane->piece);
        wes_emit_sql_table_records (t, k, s_record, lane->piece);
        if (s_lane_piece (lane, r, S_REC + k) != 0) {
            return -1;
        }
    }
    return 0;
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
    if (self->failed) {
        return -1;
    }
    size_t total = 0;
    for (size_t l = 0; l < WES_OUTPUTS_LANES; l++) {
        s_lane_t *lane = &self->lanes[l];
        if (lane->failed) {
            s_fail (self, "%s", lane->error);
            return -1;
        }
        for (size_t i = 0; i < self->n_spools; i++) {
            if (s_spool_flush (lane, i) != 0) {
                s_fail (self, "%s", lane->error);
                return -1;
            }
        }
        total += lane->n_entries;
    }
    if (total != self->n_declared) {
        s_fail (self, "%zu tables were declared but %zu handed over", self->n_declared, total);
        return -1;
    }
    self->entries = wes_alloc ((total + 1) * sizeof *self->entries);
    for (size_t l = 0; l < WES_OUTPUTS_LANES; l++) {
        const s_lane_t *lane = &self->lanes[l];
        if (lane->n_entries > 0) {
            memcpy (self->entries + self->n_entries, lane->entries,
                    lane->n_entries * sizeof *lane->entries);
            self->n_entries += lane->n_entries;
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

    //  The hash: the canonical bytes, head, tables in name order, tail.
    //  The lanes hashed the first frontier tables as they came; the rest
    //  come from the spool (held pieces beyond the frontier are dropped)
    s_io_t x = {self, self->piece, self->io, false, ""};
    EVP_MD_CTX *md = self->md;
    self->md = NULL;
    int rc = 0;
    for (size_t i = self->frontier; i < self->n_entries && rc == 0; i++) {
        bool first = i == 0;
        s_held_t *h = &self->held[i];
        if (h->data) {
            wes_assert (EVP_DigestUpdate (md, h->data + first, h->len - first) == 1);
            free (h->data);
            h->data = NULL;
            continue;
        }
        s_range_t r = *s_range (self, i, S_CANON);
        wes_assert (r.len > 0); /* a piece not held is spooled */
        rc = s_run (&x, s_spool_fd (self, i, S_CANON), r.off + first, r.len - first, -1, NULL,
                    s_digest, md);
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

    //  The three files at once, each on a thread of its own (schema.sql on
    //  this one): most of the time goes to the kernel copying pages and to
    //  the disk syncing them, which the three share better than in turn
    s_file_job_t jobs[3];
    for (size_t f = 0; f < 3; f++) {
        if ((size_t) snprintf (self->tmp[f], sizeof self->tmp[f], "%s/.%s.tmp.%ld", self->dir,
                               s_files[f], (long) getpid ())
            >= sizeof self->tmp[f]) {
            s_fail (self, "output path too long: %s/%s", self->dir, s_files[f]);
            return -1;
        }
        self->made[f] = true;
        jobs[f] = (s_file_job_t) {{self, f > 0 ? wes_buf_new () : self->piece,
                                   f > 0 ? wes_alloc (S_IO_BYTES) : self->io, false, "", 0, 0},
                                  f, hash_out};
    }
    pthread_t threads[3];
    bool threaded[3] = {false, false, false};
    for (size_t f = 1; f < 3; f++) {
        threaded[f] = pthread_create (&threads[f], NULL, s_file_job, &jobs[f]) == 0;
    }
    s_file_job (&jobs[0]);
    for (size_t f = 1; f < 3; f++) {
        if (threaded[f]) {
            pthread_join (threads[f], NULL);
        }
        else {
            s_file_job (&jobs[f]);
        }
        wes_buf_destroy (&jobs[f].x.piece);
        free (jobs[f].x.io);
    }
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
s_lane_fail (s_lane_t *lane, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (lane->error, sizeof lane->error, fmt, ap);
    va_end (ap);
    lane->failed = true;
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
s_cmp_str (const void *a, const void *b)
{
    return strcmp (*(const char *const *) a, *(const char *const *) b);
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
s_spool_flush (s_lane_t *lane, size_t i)
{
    s_spool_t *sp = &lane->spools[i];
    if (sp->used > 0 && s_write_fd (sp->fd, sp->buf, sp->used) != 0) {
        s_lane_fail (lane, "cannot write a spool file: %s", strerror (errno));
        return -1;
    }
    sp->used = 0;
    return 0;
}

static int
s_spool_put (s_lane_t *lane, size_t i, const char *data, size_t len)
{
    s_spool_t *sp = &lane->spools[i];
    if (sp->size + len > UINT32_MAX) {
        s_lane_fail (lane, "an output is over 4 GiB");
        return -1;
    }
    if (sp->used + len > S_SPOOL_BUF) {
        if (s_spool_flush (lane, i) != 0) {
            return -1;
        }
        if (len > S_SPOOL_BUF) {
            if (s_write_fd (sp->fd, data, len) != 0) {
                s_lane_fail (lane, "cannot write a spool file: %s", strerror (errno));
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

/*  len more bytes went to fd: every S_KICK_BYTES, the disk is asked to
    start writing them (the sync at the end then waits for less). */
static void
s_written (s_io_t *x, int fd, uint64_t len)
{
    x->written += len;
    if (x->written - x->kicked >= S_KICK_BYTES) {
        (void) sync_file_range (fd, (off_t) x->kicked, (off_t) (x->written - x->kicked),
                                SYNC_FILE_RANGE_WRITE);
        x->kicked = x->written;
    }
}

static int
s_write_all (s_io_t *x, int fd, const char *path, const char *data, size_t len)
{
    if (s_write_fd (fd, data, len) != 0) {
        s_io_fail (x, "cannot write %s: %s", path, strerror (errno));
        return -1;
    }
    s_written (x, fd, len);
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
            s_written (x, out_fd, (uint64_t) n);
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

/*  The pieces of one spool in name order from the from-th table (the
    first piece without its leading comma when skip_comma), back-to-back
    pieces of one lane as one run. */
static int
s_each_run (s_io_t *x, size_t spool, size_t from, bool skip_comma, int out_fd,
            const char *out_path, s_bytes_fn fn, void *arg)
{
    int run_fd = -1;
    uint64_t run_off = 0, run_len = 0;
    bool first = true;
    for (size_t i = from; i < x->o->n_entries; i++) {
        s_range_t r = *s_range (x->o, i, spool);
        if (r.len == 0) {
            continue;
        }
        if (first && skip_comma) {
            r.off++;
            r.len--;
        }
        first = false;
        int fd = s_spool_fd (x->o, i, spool);
        if (run_len > 0 && fd == run_fd && run_off + run_len == r.off) {
            run_len += r.len;
            continue;
        }
        if (run_len > 0 && s_run (x, run_fd, run_off, run_len, out_fd, out_path, fn, arg) != 0) {
            return -1;
        }
        run_fd = fd;
        run_off = r.off;
        run_len = r.len;
    }
    if (run_len > 0) {
        return s_run (x, run_fd, run_off, run_len, out_fd, out_path, fn, arg);
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
    int fd;       /* the spool they were read from */
    uint64_t off; /* where they start in it */
    size_t len;   /* bytes read */
} s_window_t;

/*  The bytes of range r of spool of table i's lane (through w), or NULL
    when reading failed. */
static const char *
s_window (s_io_t *x, s_window_t *w, size_t i, size_t spool, s_range_t r)
{
    int fd = s_spool_fd (x->o, i, spool);
    if (fd == w->fd && r.off >= w->off && r.off + r.len <= w->off + w->len) {
        return w->data + (r.off - w->off);
    }
    uint64_t left = x->o->lanes[x->o->entries[i].lane].spools[spool].size - r.off;
    size_t want = r.len > S_IO_BYTES ? r.len : S_IO_BYTES;
    if (want > left) {
        want = (size_t) left;
    }
    if (want > w->cap) {
        w->cap = want;
        w->data = wes_realloc (w->data, w->cap);
    }
    w->fd = fd;
    w->off = r.off;
    w->len = 0;
    if (s_pread_all (x, fd, w->data, want, r.off) != 0) {
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
            || s_each_run (x, S_SQL + part, 0, false, fd, path, NULL, NULL) != 0) {
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
            s_window_t w = {NULL, 0, -1, 0, 0};
            size_t rows = 0;
            for (size_t i = 0; i < x->o->n_entries; i++) {
                s_range_t r = *s_range (x->o, i, S_REC + k);
                const char *rec = r.len ? s_window (x, &w, i, S_REC + k, r) : NULL;
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
        || s_each_run (x, S_TS, 0, false, fd, path, NULL, NULL) != 0) {
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
        || s_each_run (x, S_META, 0, true, fd, path, NULL, NULL) != 0) {
        return -1;
    }
    wes_buf_puts (x->piece, WES_MODEL_DOCUMENT_MIDDLE);
    wes_model_canonical_head (x->o->enums, s_to_buf, x->piece);
    if (s_put_piece (x, fd, path) != 0
        || s_each_run (x, S_CANON, 0, true, fd, path, NULL, NULL) != 0) {
        return -1;
    }
    wes_buf_puts (x->piece, WES_MODEL_CANONICAL_TAIL WES_MODEL_DOCUMENT_TAIL "\n");
    return s_put_piece (x, fd, path);
}
