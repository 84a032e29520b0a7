/*  wes_outputs.c — a compile's three files and hash from tables handed
    over one at a time, taken in name order by a frontier: the first
    section of each file written as the frontier reaches the tables, the
    other pieces to spool files in that order, each copied whole into its
    file at the end. See wes_outputs.h. */
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
#include "../util/wes_str.h"
#include "wes_emit_sql.h"
#include "wes_emit_ts.h"
#include "wes_jsonw.h"

/*  The spools. The frontier's: one per later section of a file, written
    in name order, so that each section is copied in one go at the end;
    a lane's: S_OVER only (with the files), or S_CANON (the hash alone),
    for the tables it handed over that the frontier had not reached when
    too much was held. */
enum {
    S_CANON,                               /* canonical object, after "," */
    S_META,                                /* schema.json meta member, after "," */
    S_SQL,                                 /* + wes_sql_part_t: schema.sql parts */
    S_TS = S_SQL + WES_SQL_N_PARTS,        /* types.ts interfaces */
    S_REC,                                 /* + kind: expression records (binary) */
    S_OVER = S_REC + WES_SQL_RECORD_KINDS, /* a table's parts the frontier did not reach */
    S_COUNT                                /* spools */
};

/*  A table's parts, made back to back on its lane: the canonical object
    (for the hash, after a comma), then the pieces of each file's first
    section, which the frontier writes straight into the file when it
    reaches the table in name order, then (with the files) the pieces of
    schema.sql's later sections and its expression records, which the
    frontier appends to its spools. A table the frontier has not reached
    is held in memory, or (over the budget) written to its lane's S_OVER
    spool. */
enum {
    S_P_CANON,      /* canonical object, after "," */
    S_P_META,       /* schema.json's meta member, after "," */
    S_P_SQL,        /* schema.sql's CREATE TABLE part */
    S_P_TS,         /* types.ts's interfaces */
    S_P_SQL_LATER,  /* + part - 1: schema.sql's later parts (foreign keys, ...) */
    S_P_REC = S_P_SQL_LATER + WES_SQL_N_PARTS - 1, /* + kind: records (binary) */
    S_PARTS = S_P_REC + WES_SQL_RECORD_KINDS
};
_Static_assert (WES_SQL_PART_TABLE == 0, "the CREATE TABLE part comes first");
/*  Where part p goes: a file (index in s_files) for the first sections,
    else a frontier spool. */
static bool
s_part_in_file (size_t p, size_t *file_or_spool)
{
    static const size_t files[S_P_SQL_LATER] = {3, 2, 0, 1};
    if (p < S_P_SQL_LATER) {
        *file_or_spool = files[p];
        return true;
    }
    *file_or_spool = p < S_P_REC ? S_SQL + (p - S_P_SQL_LATER + 1) : S_REC + (p - S_P_REC);
    return false;
}
/*  Whether the frontier has spool i (with the files). */
#define S_FRONT_SPOOL(i) \
    ((i) == S_CANON || ((i) > S_SQL + WES_SQL_PART_TABLE && (i) < S_TS) || ((i) >= S_REC && (i) < S_OVER))

/*  Bytes a spool gathers before it writes. */
#define S_SPOOL_BUF (16u * 1024u)
/*  ... and the frontier's spool of schema.json's canonical model, which
    takes about half of what all the spools take: fewer, bigger writes. */
#define S_SPOOL_BUF_CANON (128u * 1024u)
/*  Bytes of an output file after which the disk is asked to write them. */
#define S_KICK_BYTES (1024u * 1024u)
/*  Bytes read or copied at a time. */
#define S_IO_BYTES (64u * 1024u)
/*  Bytes of tables' parts held in memory, at most, until the frontier
    reaches them (beyond that they are spooled and read back): for the
    hash alone, and with the files. */
#define S_HOLD_BYTES (2u * 1024u * 1024u)
#define S_HOLD_FILES_BYTES (1024u * 1024u)
/*  Blocks the frontier took kept for the next copies, at most: a copy is
    made on one lane's thread and taken on another's, and freeing it there
    would lock the first thread's malloc arena under it. */
#define S_POOL_BLOCKS 64
/*  Where the heads take the hash, which is known only at the end: the
    heads are written with this in its place (no name or value in a head
    can be 64 zeros: an identifier is at most 63 bytes, a GraphQL name
    does not start with a digit), and the hash is written over it. */
#define S_HASH_HOLE "0000000000000000000000000000000000000000000000000000000000000000"
/*  The three files, in the order they are written and renamed. */
static const char *const s_files[3] = {"schema.sql", "types.ts", "schema.json"};

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
    size_t cap;    /* bytes at buf */
    size_t used;   /* bytes in buf */
} s_spool_t;

/*  A table's parts waiting for the frontier to reach the table. */
typedef struct {
    char *data;             /* the parts back to back: owned, or borrowed, or NULL */
    size_t cap;             /* bytes allocated at data (owned) */
    uint32_t len[S_PARTS];  /* bytes of each (the hash alone: the canonical one) */
    bool came;              /* the table was handed over */
    bool ready;             /* the frontier may take it: data, or written to a spool */
    bool borrowed;          /* data is the lane's, which is at the frontier with it */
    int fd;                 /* no data: the spool they are in ... */
    uint64_t off;           /* ... from this offset, back to back */
} s_held_t;

/*  One of the three files as the frontier writes its first section. */
typedef struct {
    const char *path; /* its temporary path (the outputs' tmp) */
    int fd;           /* the temporary file, or -1 */
    char *buf;        /* S_IO_BYTES gathered before a write */
    size_t used;      /* bytes in buf */
    uint64_t written; /* bytes written to the file */
    uint64_t kicked;  /* of which the disk was asked to start writing */
    uint64_t hash_at; /* where the head has its hash */
    bool started;     /* the first section has a piece */
} s_file_t;

/*  What one thread handing tables over writes: its own spools, entries
    and buffers, so that lanes never wait for each other. */
typedef struct {
    s_spool_t spools[S_COUNT];
    wes_arena_t *arena;  /* the entries' names */
    s_entry_t *entries;  /* one per table handed over on the lane */
    size_t n_entries;
    size_t cap_entries;  /* entries allocated */
    wes_jsonw_t *jw;     /* JSON pieces, into parts (forgets between tables) */
    wes_buf_t *parts;    /* the parts of the table being handed over */
    wes_ts_names_t *ts;  /* TypeScript names (made on the lane's first table), or NULL */
    const char *where;   /* the directory of its spools (the outputs') */
    bool open;           /* its spools and buffers are made */
    bool failed;         /* a call on the lane failed: later ones fail too */
    char error[512];     /* why */
} s_lane_t;

struct wes_outputs {
    char *dir;                /* where the files go, or NULL: hash only */
    size_t n_spools;          /* S_COUNT, or 1 for the hash only */
    s_lane_t front;           /* the frontier's spools (with the files; its lane writes them) */
    char *where;              /* where the spools go: dir, or $TMPDIR or /tmp */
    const wes_model_t *enums; /* borrowed */
    wes_arena_t *arena;       /* names */
    const char **sql;         /* the declared tables' SQL names (arena) */
    const char **gql;         /* ... and GraphQL names (arena, or NULL) */
    size_t n_declared;        /* declared at begin */
    s_lane_t lanes[WES_OUTPUTS_LANES];
    /* the frontier: the hash and the files' first sections, taken as the
       tables come in name order (under hash_mu) */
    pthread_mutex_t hash_mu;
    EVP_MD_CTX *md;           /* head and the first frontier tables hashed */
    const char **order;       /* the declared SQL names, sorted (arena) */
    s_held_t *held;           /* by place in order */
    size_t frontier;          /* places taken */
    size_t held_bytes;        /* bytes held */
    size_t hold_max;          /* bytes held at most */
    char *take;               /* a spooled table's parts, read back by the lane at the frontier */
    size_t take_cap;          /* bytes allocated */
    char *pool[S_POOL_BLOCKS];      /* blocks for the next copies (under hash_mu) */
    size_t pool_cap[S_POOL_BLOCKS]; /* ... and their sizes */
    size_t n_pool;                  /* blocks in pool */
    size_t pool_bytes;              /* their bytes, at most hold_max */
    s_file_t files[3];        /* the three files (the lane at the frontier writes them) */
    wes_ts_names_t *ts;       /* the TypeScript names (files only; lanes share them) */
    bool hashing;             /* a lane is at the frontier (outside the lock) */
    bool stalled;             /* the frontier failed (its lane says why): it goes no further */
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
static int s_lane_open (const wes_outputs_t *self, s_lane_t *lane, bool front);
static int s_spool_put (s_lane_t *lane, size_t i, const char *data, size_t len);
static int s_spool_flush (s_lane_t *lane, size_t i);
static int s_to_buf (const char *data, size_t len, void *arg);
static int s_cmp_entry (const void *a, const void *b);
static int s_cmp_str (const void *a, const void *b);
static void s_record (void *arg, size_t kind, const char *table, const char *object,
                      const char *expr);
static int s_write_all (s_io_t *x, int fd, const char *path, const char *data, size_t len);
static int s_run (s_io_t *x, int in_fd, uint64_t off, uint64_t len, int out_fd,
                  const char *out_path);
static int s_write_sql (s_io_t *x, int fd, const char *path);
static int s_write_ts (s_io_t *x, int fd, const char *path);
static int s_write_json (s_io_t *x, int fd, const char *path);
static int s_files_open (wes_outputs_t *self);
static int s_file_put (s_file_t *file, const char *data, size_t len);
static int s_file_flush (s_file_t *file);
static int s_pread_full (int fd, char *buf, size_t len, uint64_t off);
static int s_digest_cb (const char *data, size_t len, void *arg);

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
    for (size_t i = 0; i < S_COUNT; i++) {
        self->front.spools[i].fd = -1;
    }
    for (size_t f = 0; f < 3; f++) {
        self->files[f].fd = -1;
    }
    self->arena = wes_arena_new (0);
    self->piece = wes_buf_new ();
    pthread_mutex_init (&self->hash_mu, NULL);
    self->hold_max = dir ? S_HOLD_FILES_BYTES : S_HOLD_BYTES;
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
    wes_buf_destroy (&lane->parts);
    wes_arena_destroy (&lane->arena);
    free (lane->entries);
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
    s_lane_free (&self->front);
    for (size_t i = 0; i < 3; i++) {
        if (self->files[i].fd >= 0) {
            close (self->files[i].fd);
        }
        free (self->files[i].buf);
        if (self->made[i]) {
            unlink (self->tmp[i]);
        }
    }
    for (size_t i = 0; self->held && i < self->n_declared; i++) {
        if (!self->held[i].borrowed) {
            free (self->held[i].data);
        }
    }
    free (self->held);
    for (size_t i = 0; i < self->n_pool; i++) {
        free (self->pool[i]);
    }
    free (self->take);
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
    if (!self) {
        return "";
    }
    //  A lane's failure stops the compile before finish would take it over
    for (size_t l = 0; !self->error[0] && l < WES_OUTPUTS_LANES; l++) {
        if (self->lanes[l].failed) {
            return self->lanes[l].error;
        }
    }
    return self->error;
}

size_t
wes_outputs_tables (const wes_outputs_t *self)
{
    return self ? self->n_entries : 0;
}

/*  The TypeScript names, made on a thread of their own (read only: the
    enums and the names). */
typedef struct {
    const wes_model_t *enums;
    size_t n_tables;
    const char *const *sql;
    const char *const *gql;
    wes_ts_names_t *ts; /* the result */
} s_names_job_t;

static void *
s_names_job (void *arg)
{
    s_names_job_t *job = arg;
    job->ts = wes_ts_names_new (job->enums, job->n_tables, job->sql, job->gql);
    return NULL;
}

static int s_begin_rest (wes_outputs_t *self, const wes_model_t *enums, size_t n_tables);

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
    //  The TypeScript names (a few milliseconds for a big schema) on a
    //  thread of their own, while this one makes the spools, the order and
    //  the hash's start: the other core has nothing to do until begin ends
    s_names_job_t job = {enums, n_tables, self->sql, self->gql, NULL};
    pthread_t names_thread;
    bool names_threaded =
        self->dir && pthread_create (&names_thread, NULL, s_names_job, &job) == 0;
    int rc = s_begin_rest (self, enums, n_tables);
    if (names_threaded) {
        pthread_join (names_thread, NULL);
        self->ts = job.ts;
    }
    else if (self->dir) {
        self->ts = wes_ts_names_new (enums, n_tables, self->sql, self->gql);
    }
    if (rc != 0) {
        return -1;
    }
    return self->dir ? s_files_open (self) : 0;
}

/*  What begin does besides the TypeScript names. 0, or -1. */
static int
s_begin_rest (wes_outputs_t *self, const wes_model_t *enums, size_t n_tables)
{
    self->io = wes_alloc (S_IO_BYTES);
    const char *where = self->dir;
    if (!where) {
        where = getenv ("TMPDIR");
        if (!where || !*where) {
            where = "/tmp";
        }
    }
    self->where = wes_strdup (where);
    //  Lane 0's spools and the frontier's at once, so that a failure to
    //  create them shows here; the other lanes' on their first table, on
    //  their threads
    if (s_lane_open (self, &self->lanes[0], false) != 0) {
        s_fail (self, "%s", self->lanes[0].error);
        return -1;
    }
    if (self->dir && s_lane_open (self, &self->front, true) != 0) {
        s_fail (self, "%s", self->front.error);
        return -1;
    }
    //  The hash follows the tables in name order as they come
    self->order = wes_alloc ((n_tables + 1) * sizeof *self->order);
    memcpy (self->order, self->sql, n_tables * sizeof *self->order);
    bool sorted = true; /* the usual case: then no sorting */
    for (size_t i = 1; i < n_tables && sorted; i++) {
        sorted = wes_str_cmp (self->order[i - 1], self->order[i]) < 0;
    }
    if (!sorted) {
        qsort (self->order, n_tables, sizeof *self->order, s_cmp_str);
    }
    self->held = wes_alloc ((n_tables + 1) * sizeof *self->held);
    self->md = EVP_MD_CTX_new ();
    wes_assert (self->md);
    wes_assert (EVP_DigestInit_ex (self->md, EVP_sha256 (), NULL) == 1);
    wes_model_canonical_head (enums, s_digest_cb, self->md);
    return 0;
}

/*  Creates the three temporary files and writes their heads, with a hole
    where the hash goes. 0, or -1. */
static int
s_files_open (wes_outputs_t *self)
{
    for (size_t f = 0; f < 3; f++) {
        s_file_t *file = &self->files[f];
        if ((size_t) snprintf (self->tmp[f], sizeof self->tmp[f], "%s/.%s.tmp.%ld", self->dir,
                               s_files[f], (long) getpid ())
            >= sizeof self->tmp[f]) {
            s_fail (self, "output path too long: %s/%s", self->dir, s_files[f]);
            return -1;
        }
        file->path = self->tmp[f];
        file->fd = open (self->tmp[f], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (file->fd < 0) {
            s_fail (self, "cannot write %s: %s", self->tmp[f], strerror (errno));
            return -1;
        }
        self->made[f] = true;
        file->buf = wes_alloc (S_IO_BYTES);
        wes_buf_t *head = self->piece;
        wes_buf_reset (head);
        if (f == 0) {
            wes_emit_sql_head (head, self->enums, S_HASH_HOLE);
        }
        else if (f == 1) {
            wes_emit_ts_head (head, self->ts, S_HASH_HOLE);
        }
        else {
            wes_model_document_head (self->enums, S_HASH_HOLE, s_to_buf, head);
        }
        const char *hole = memmem (wes_buf_data (head), wes_buf_len (head), S_HASH_HOLE, 64);
        wes_assert (hole);
        file->hash_at = (uint64_t) (hole - wes_buf_data (head));
        if (s_file_put (file, wes_buf_data (head), wes_buf_len (head)) != 0) {
            s_fail (self, "cannot write %s: %s", self->tmp[f], strerror (errno));
            return -1;
        }
        wes_buf_reset (head);
    }
    return 0;
}

/*  The part sizes' total. */
static size_t
s_parts_len (const uint32_t len[S_PARTS])
{
    size_t n = 0;
    for (size_t p = 0; p < S_PARTS; p++) {
        n += len[p];
    }
    return n;
}

/*  Takes the k-th table in name order (its parts data, their sizes len)
    at the frontier: hashes its canonical part and writes its other parts
    into the files' first sections. Only the lane at the frontier calls
    it, outside the lock. 0, or -1 (lane says why). */
static int
s_take (wes_outputs_t *self, s_lane_t *lane, const char *data, const uint32_t len_of[S_PARTS],
        size_t k)
{
    size_t at = 0;
    for (size_t p = 0; p < S_PARTS; p++) {
        size_t len = len_of[p];
        if (len == 0) {
            continue;
        }
        const char *src = data + at;
        at += len;
        size_t where = 0;
        if (!s_part_in_file (p, &where)) {
            //  A later section's piece, to the frontier's spool for it
            if (s_spool_put (&self->front, where, src, len) != 0) {
                s_lane_fail (lane, "%s", self->front.error);
                return -1;
            }
            continue;
        }
        size_t skip = 0; /* the leading comma of a section's first piece */
        s_file_t *file = p == S_P_CANON ? NULL : &self->files[where];
        if (p == S_P_CANON) {
            skip = k == 0;
        }
        else if (!file->started) {
            file->started = true;
            skip = p == S_P_META;
            const char *title = p == S_P_SQL ? wes_emit_sql_section_title (WES_SQL_PART_TABLE) : "";
            if (s_file_put (file, title, strlen (title)) != 0) {
                s_lane_fail (lane, "cannot write %s: %s", file->path, strerror (errno));
                return -1;
            }
        }
        src += skip;
        len -= skip;
        if (!file) {
            wes_assert (EVP_DigestUpdate (self->md, src, len) == 1);
            //  ... and (with the files) to the frontier's spool for
            //  schema.json's second section
            if (self->dir && s_spool_put (&self->front, S_CANON, src, len) != 0) {
                s_lane_fail (lane, "%s", self->front.error);
                return -1;
            }
            continue;
        }
        if (s_file_put (file, src, len) != 0) {
            s_lane_fail (lane, "cannot write %s: %s", file->path, strerror (errno));
            return -1;
        }
    }
    return 0;
}

/*  Keeps block (cap bytes) for a later copy, or frees it when the pool
    is full. Called with hash_mu held. */
static void
s_pool_put (wes_outputs_t *self, char *block, size_t cap)
{
    if (self->n_pool < S_POOL_BLOCKS && self->pool_bytes + cap <= self->hold_max) {
        self->pool[self->n_pool] = block;
        self->pool_cap[self->n_pool++] = cap;
        self->pool_bytes += cap;
        return;
    }
    free (block);
}

/*  Called with hash_mu held by the lane that just took the frontier
    (hashing set): takes every table the frontier reaches, then leaves
    the frontier and unlocks. 0, or -1. */
static int
s_frontier_run (wes_outputs_t *self, s_lane_t *lane)
{
    int rc = 0;
    while (rc == 0 && !self->stalled && self->frontier < self->n_declared
           && self->held[self->frontier].ready) {
        size_t k = self->frontier;
        s_held_t h = self->held[k];
        self->held[k].data = NULL;
        self->held[k].borrowed = false;
        pthread_mutex_unlock (&self->hash_mu);
        const char *data = h.data;
        if (!data) {
            //  Spooled: its parts back in one read
            size_t total = s_parts_len (h.len);
            if (total > self->take_cap) {
                self->take_cap = total;
                self->take = wes_realloc (self->take, self->take_cap);
            }
            if (s_pread_full (h.fd, self->take, total, h.off) != 0) {
                s_lane_fail (lane, "cannot read a spool file in %s: %s", self->where,
                             strerror (errno));
                rc = -1;
            }
            data = self->take;
        }
        rc = rc == 0 ? s_take (self, lane, data, h.len, k) : rc;
        size_t held = h.data && !h.borrowed ? s_parts_len (h.len) : 0;
        pthread_mutex_lock (&self->hash_mu);
        self->held_bytes -= held;
        if (h.data && !h.borrowed) {
            s_pool_put (self, h.data, h.cap);
        }
        if (rc == 0) {
            self->frontier++;
        }
        else {
            self->stalled = true; /* the table's parts are gone: no lane may go past it */
        }
    }
    self->hashing = false;
    pthread_mutex_unlock (&self->hash_mu);
    return rc;
}

/*  Hands table name's parts (lane->parts, their sizes len) to the
    frontier: taken at once when the frontier is at the table and free,
    else held (a copy) unless too much is held, else written to the lane's
    S_OVER spool (the hash alone: S_CANON); then the frontier goes on
    unless another lane is at it. -1 when the table was not declared or
    came twice, or a spool or a file failed. */
static int
s_hand_over (wes_outputs_t *self, s_lane_t *lane, const char *name, const uint32_t len[S_PARTS])
{
    const char **at = bsearch (&name, self->order, self->n_declared, sizeof *self->order,
                               s_cmp_str);
    if (!at) {
        s_lane_fail (lane, "table %s was not declared", name);
        return -1;
    }
    size_t k = (size_t) (at - self->order);
    size_t total = s_parts_len (len);
    wes_assert (total == wes_buf_len (lane->parts));
    pthread_mutex_lock (&self->hash_mu);
    s_held_t *h = &self->held[k];
    if (h->came) {
        pthread_mutex_unlock (&self->hash_mu);
        s_lane_fail (lane, "table %s was handed over twice", name);
        return -1;
    }
    h->came = true;
    memcpy (h->len, len, sizeof h->len);
    if (!self->hashing && self->frontier == k) {
        //  At the frontier, which is free: taken from the lane's buffer
        self->hashing = true;
        h->data = (char *) wes_buf_data (lane->parts);
        h->borrowed = true;
        h->fd = -1;
        h->ready = true;
        return s_frontier_run (self, lane);
    }
    bool hold = self->held_bytes + total <= self->hold_max;
    char *copy = NULL;
    size_t cap = 0;
    if (hold) {
        self->held_bytes += total;
        if (self->n_pool > 0) {
            self->n_pool--;
            copy = self->pool[self->n_pool];
            cap = self->pool_cap[self->n_pool];
            self->pool_bytes -= cap;
        }
    }
    pthread_mutex_unlock (&self->hash_mu);

    int fd = -1;
    uint64_t off = 0;
    if (hold) {
        if (cap < total || !copy) {
            //  In whole pages, so that a block fits tables of about
            //  the same size
            size_t want = (total + 4095) & ~(size_t) 4095;
            free (copy);
            copy = wes_alloc_raw (want);
            cap = want;
        }
        memcpy (copy, wes_buf_data (lane->parts), total);
    }
    else {
        //  On disk before the frontier may read it
        size_t spool = self->dir ? S_OVER : S_CANON;
        s_spool_t *sp = &lane->spools[spool];
        if (s_spool_flush (lane, spool) != 0) {
            return -1;
        }
        fd = sp->fd;
        off = sp->size;
        if (s_spool_put (lane, spool, wes_buf_data (lane->parts), total) != 0
            || s_spool_flush (lane, spool) != 0) {
            return -1;
        }
    }

    pthread_mutex_lock (&self->hash_mu);
    h->data = copy;
    h->cap = cap;
    h->fd = fd;
    h->off = off;
    h->ready = true;
    if (self->hashing) {
        pthread_mutex_unlock (&self->hash_mu);
        return 0; /* the lane at it will reach this one */
    }
    self->hashing = true;
    return s_frontier_run (self, lane);
}

/*  Creates lane's spools and buffers (front: the frontier's spools, no buffers). 0,
    or -1. */
static int
s_lane_open (const wes_outputs_t *self, s_lane_t *lane, bool front)
{
    lane->where = self->where;
    lane->open = true;
    if (!front) {
        //  (the frontier's lane has its spools only)
        lane->arena = wes_arena_new (0);
        lane->parts = wes_buf_new ();
        lane->jw = wes_jsonw_new (0, s_to_buf, lane->parts);
    }
    for (size_t i = 0; i < self->n_spools; i++) {
        //  The frontier: its spools; a lane: S_OVER (the hash alone: S_CANON)
        if (self->dir && (front ? !S_FRONT_SPOOL (i) : i != S_OVER)) {
            continue;
        }
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
        lane->spools[i].cap = front && i == S_CANON ? S_SPOOL_BUF_CANON : S_SPOOL_BUF;
        lane->spools[i].buf = wes_alloc (lane->spools[i].cap);
    }
    return 0;
}

int
wes_outputs_table (wes_outputs_t *self, size_t lane_no, const wes_table_t *t)
{
    wes_assert (self && t && self->enums && lane_no < WES_OUTPUTS_LANES);
    s_lane_t *lane = &self->lanes[lane_no];
    if (self->failed || lane->failed) {
        return -1;
    }
    if (!lane->open && s_lane_open (self, lane, false) != 0) {
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
        lane->cap_entries = cap;
    }
    s_entry_t *e = &lane->entries[lane->n_entries];
    e->name = wes_arena_strndup (lane->arena, t->name, strlen (t->name));
    e->lane = (uint32_t) lane_no;
    e->seq = (uint32_t) lane->n_entries;
    lane->n_entries++;

    //  The canonical object, after a comma (dropped before the first),
    //  written by the lane's JSON writer straight into parts
    wes_buf_t *parts = lane->parts;
    wes_buf_reset (parts);
    uint32_t len[S_PARTS] = {0};
    wes_jsonw_forget (lane->jw);
    wes_buf_lit (parts, ",");
    wes_model_write_table_canonical (lane->jw, t);
    (void) wes_jsonw_flush (lane->jw);
    len[S_P_CANON] = (uint32_t) wes_buf_len (parts);
    if (self->dir) {
        //  The meta member: written inside an object of its own, then
        //  taken out (its '{' becomes the comma before it, dropped before
        //  the first; its '}' goes)
        size_t mark = wes_buf_len (parts);
        wes_jsonw_object_begin (lane->jw);
        wes_model_write_table_meta (lane->jw, t);
        wes_jsonw_object_end (lane->jw);
        (void) wes_jsonw_flush (lane->jw);
        size_t n = wes_buf_len (parts) - mark;
        if (n > 2) {
            wes_buf_set (parts, mark, ',');
            wes_buf_truncate (parts, mark + n - 1);
            len[S_P_META] = (uint32_t) (n - 1);
        }
        else {
            wes_buf_truncate (parts, mark);
        }

        mark = wes_buf_len (parts);
        wes_emit_sql_table_part (parts, self->enums, t, WES_SQL_PART_TABLE);
        len[S_P_SQL] = (uint32_t) (wes_buf_len (parts) - mark);

        if (!lane->ts) {
            lane->ts = wes_ts_names_share (self->ts);
        }
        mark = wes_buf_len (parts);
        wes_emit_ts_table (parts, lane->ts, t);
        len[S_P_TS] = (uint32_t) (wes_buf_len (parts) - mark);

        //  schema.sql's other parts and the records, for the frontier's
        //  spools
        for (size_t part = WES_SQL_PART_TABLE + 1; part < WES_SQL_N_PARTS; part++) {
            mark = wes_buf_len (parts);
            wes_emit_sql_table_part (parts, self->enums, t, (wes_sql_part_t) part);
            len[S_P_SQL_LATER + part - 1] = (uint32_t) (wes_buf_len (parts) - mark);
        }
        for (size_t k = 0; k < WES_SQL_RECORD_KINDS; k++) {
            mark = wes_buf_len (parts);
            wes_emit_sql_table_records (t, k, s_record, parts);
            len[S_P_REC + k] = (uint32_t) (wes_buf_len (parts) - mark);
        }
    }
    if (wes_buf_len (parts) > UINT32_MAX) {
        s_lane_fail (lane, "the outputs of table %s are over 4 GiB", t->name);
        return -1;
    }
    return s_hand_over (self, lane, e->name, len);
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

/*  Closes spools [from, to) of lane (unlinked: the kernel frees them). */
static void
s_spools_close (s_lane_t *lane, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        if (lane->spools[i].fd >= 0) {
            close (lane->spools[i].fd);
            lane->spools[i].fd = -1;
        }
    }
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
    typedef int (*s_file_fn) (s_io_t *, int, const char *);
    static const s_file_fn writers[3] = {s_write_sql, s_write_ts, s_write_json};
    s_file_t *file = &j->x.o->files[j->file];
    const char *path = file->path;
    //  The first section's last bytes, the rest, then the hash into its hole
    if (s_file_flush (file) != 0) {
        s_io_fail (&j->x, "cannot write %s: %s", path, strerror (errno));
        return NULL;
    }
    if (writers[j->file](&j->x, file->fd, path) != 0) {
        return NULL;
    }
    //  The spools it read are done with: freeing them (their pages) now
    //  overlaps the other files' work; the lanes' overflow spools, which
    //  the frontier has read, go with the small types.ts
    if (j->file == 0) {
        s_spools_close (&j->x.o->front, S_SQL, S_TS);
        s_spools_close (&j->x.o->front, S_REC, S_OVER);
    }
    else if (j->file == 2) {
        s_spools_close (&j->x.o->front, S_CANON, S_CANON + 1);
    }
    else {
        for (size_t l = 0; l < WES_OUTPUTS_LANES; l++) {
            s_spools_close (&j->x.o->lanes[l], 0, S_COUNT);
        }
    }
    if (pwrite (file->fd, j->hash, 64, (off_t) file->hash_at) != 64 || fsync (file->fd) != 0) {
        s_io_fail (&j->x, "cannot write %s: %s", path, strerror (errno));
        return NULL;
    }
    int fd = file->fd;
    file->fd = -1;
    if (close (fd) != 0) {
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
        if (wes_str_eq (self->entries[i - 1].name, self->entries[i].name)) {
            s_fail (self, "table %s was handed over twice", self->entries[i].name);
            return -1;
        }
    }

    //  The frontier has taken every table (the lane that handed over the
    //  last one it reached took the rest); a failure on the way ended it
    if (self->frontier < self->n_declared) {
        s_fail (self, "the outputs stopped at table %zu of %zu", self->frontier,
                self->n_declared);
        return -1;
    }
    for (size_t i = 0; self->dir && i < S_COUNT; i++) {
        if (s_spool_flush (&self->front, i) != 0) {
            s_fail (self, "%s", self->front.error);
            return -1;
        }
    }
    //  The hash: the canonical bytes, head, tables in name order, tail
    unsigned char raw[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    wes_assert (EVP_DigestUpdate (self->md, WES_MODEL_CANONICAL_TAIL,
                                  strlen (WES_MODEL_CANONICAL_TAIL))
                == 1);
    wes_assert (EVP_DigestFinal_ex (self->md, raw, &n) == 1 && n == 32);
    EVP_MD_CTX_free (self->md);
    self->md = NULL;
    static const char digits[] = "0123456789abcdef";
    for (unsigned int i = 0; i < 32; i++) {
        hash_out[2 * i] = digits[raw[i] >> 4];
        hash_out[2 * i + 1] = digits[raw[i] & 0xf];
    }
    hash_out[64] = '\0';
    if (!self->dir) {
        return 0;
    }

    //  The rest of the three files at once, each on a thread of its own
    //  (schema.sql on this one): most of the time goes to the kernel
    //  copying pages and to the disk syncing them, which the three share
    //  better than in turn
    s_file_job_t jobs[3];
    for (size_t f = 0; f < 3; f++) {
        const s_file_t *file = &self->files[f];
        jobs[f] = (s_file_job_t) {{self, f > 0 ? wes_buf_new () : self->piece,
                                   f > 0 ? wes_alloc (S_IO_BYTES) : self->io, false, "",
                                   file->written, file->written},
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

/*  Drops the last hold of a replaced file: the kernel frees its pages
    and blocks here, not in the rename (on a file system mounted with
    discard, a wait for the disk to discard them). */
static void *
s_drop_job (void *arg)
{
    close (*(int *) arg);
    return NULL;
}

int
wes_outputs_commit (wes_outputs_t *self)
{
    wes_assert (self && self->dir);
    if (self->failed) {
        return -1;
    }
    //  Each file replaced in turn. The file it replaces is held open over
    //  its rename, so that freeing it (the bulk of a rename over a big
    //  file) happens after, on threads, side by side
    int old[3] = {-1, -1, -1};
    int rc = 0;
    for (size_t f = 0; f < 3; f++) {
        wes_assert (self->made[f]);
        char path[4200];
        snprintf (path, sizeof path, "%s/%s", self->dir, s_files[f]);
        old[f] = open (path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (rename (self->tmp[f], path) != 0) {
            s_fail (self, "cannot replace %s: %s", path, strerror (errno));
            rc = -1; /* the rest are removed by destroy */
            break;
        }
        self->made[f] = false;
    }
    pthread_t threads[3];
    bool threaded[3] = {false, false, false};
    for (size_t f = 1; f < 3; f++) {
        if (old[f] >= 0) {
            threaded[f] = pthread_create (&threads[f], NULL, s_drop_job, &old[f]) == 0;
        }
    }
    if (old[0] >= 0) {
        close (old[0]);
    }
    //  The renames themselves, on disk too
    int fd = rc == 0 ? open (self->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (fd >= 0) {
        (void) fsync (fd); /* some file systems cannot sync a directory: no harm */
        close (fd);
    }
    for (size_t f = 1; f < 3; f++) {
        if (threaded[f]) {
            pthread_join (threads[f], NULL);
        }
        else if (old[f] >= 0) {
            close (old[f]);
        }
    }
    return rc;
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
    return wes_str_cmp (*(const char *const *) a, *(const char *const *) b);
}

static int
s_cmp_entry (const void *a, const void *b)
{
    return wes_str_cmp (((const s_entry_t *) a)->name, ((const s_entry_t *) b)->name);
}

/*  A record as the frontier's spool keeps it: table, object and
    expression, each with its NUL (none can hold one). */
static void
s_record (void *arg, size_t kind, const char *table, const char *object, const char *expr)
{
    (void) kind;
    wes_buf_t *out = arg;
    wes_buf_append (out, table, strlen (table) + 1);
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
        s_lane_fail (lane, "cannot write a spool file in %s: %s", lane->where, strerror (errno));
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
    if (sp->used + len > sp->cap) {
        if (s_spool_flush (lane, i) != 0) {
            return -1;
        }
        if (len > sp->cap) {
            if (s_write_fd (sp->fd, data, len) != 0) {
                s_lane_fail (lane, "cannot write a spool file in %s: %s", lane->where,
                             strerror (errno));
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
s_kick (int fd, uint64_t *written, uint64_t *kicked, uint64_t len)
{
    *written += len;
    if (*written - *kicked >= S_KICK_BYTES) {
        (void) sync_file_range (fd, (off_t) *kicked, (off_t) (*written - *kicked),
                                SYNC_FILE_RANGE_WRITE);
        *kicked = *written;
    }
}

static void
s_written (s_io_t *x, int fd, uint64_t len)
{
    s_kick (fd, &x->written, &x->kicked, len);
}

/*  The first section's bytes in file's buffer, to the file. 0, or -1
    (errno). */
static int
s_file_flush (s_file_t *file)
{
    if (file->used == 0) {
        return 0;
    }
    if (s_write_fd (file->fd, file->buf, file->used) != 0) {
        return -1;
    }
    s_kick (file->fd, &file->written, &file->kicked, file->used);
    file->used = 0;
    return 0;
}

static int
s_file_put (s_file_t *file, const char *data, size_t len)
{
    if (file->used + len > S_IO_BYTES) {
        if (s_file_flush (file) != 0) {
            return -1;
        }
        if (len > S_IO_BYTES) {
            if (s_write_fd (file->fd, data, len) != 0) {
                return -1;
            }
            s_kick (file->fd, &file->written, &file->kicked, len);
            return 0;
        }
    }
    memcpy (file->buf + file->used, data, len);
    file->used += len;
    return 0;
}

/*  Copies what it can of the *len bytes at *off of in_fd to out_fd's
    position in the kernel (both on one file system), moving *off and
    *len on and counting the bytes in written (kicking the disk); what is
    left is for the caller to copy through a buffer. */
static void
s_copy_in_kernel (int in_fd, uint64_t *off, uint64_t *len, int out_fd, uint64_t *written,
                  uint64_t *kicked)
{
    while (*len > 0) {
        //  A kick's worth at a time, so that the disk writes the copy
        //  while the kernel makes the rest of it
        off_t in_off = (off_t) *off;
        size_t step = *len < S_KICK_BYTES ? (size_t) *len : S_KICK_BYTES;
        ssize_t n = copy_file_range (in_fd, &in_off, out_fd, NULL, step, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        *off += (uint64_t) n;
        *len -= (uint64_t) n;
        s_kick (out_fd, written, kicked, (uint64_t) n);
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

/*  Reads len bytes at off of a spool into buf. 0, or -1 (errno; EIO when
    the spool is shorter than was written). */
static int
s_pread_full (int fd, char *buf, size_t len, uint64_t off)
{
    while (len > 0) {
        ssize_t n = pread (fd, buf, len, (off_t) off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            if (n == 0) {
                errno = EIO;
            }
            return -1;
        }
        buf += n;
        len -= (size_t) n;
        off += (uint64_t) n;
    }
    return 0;
}

static int
s_pread_all (s_io_t *x, int fd, char *buf, size_t len, uint64_t off)
{
    if (s_pread_full (fd, buf, len, off) != 0) {
        s_io_fail (x, "cannot read a spool file in %s: %s", x->o->where, strerror (errno));
        return -1;
    }
    return 0;
}

/*  One run of spool bytes, copied to out_fd. */
static int
s_run (s_io_t *x, int in_fd, uint64_t off, uint64_t len, int out_fd, const char *out_path)
{
    //  In the kernel when it can, else (what is left) through io
    s_copy_in_kernel (in_fd, &off, &len, out_fd, &x->written, &x->kicked);
    while (len > 0) {
        size_t chunk = len < S_IO_BYTES ? (size_t) len : S_IO_BYTES;
        if (s_pread_all (x, in_fd, x->io, chunk, off) != 0
            || s_write_all (x, out_fd, out_path, x->io, chunk) != 0) {
            return -1;
        }
        off += chunk;
        len -= chunk;
    }
    return 0;
}

/*  Section spool of the frontier (flushed), whole, to out_fd. */
static int
s_section (s_io_t *x, size_t spool, int out_fd, const char *out_path)
{
    const s_spool_t *sp = &x->o->front.spools[spool];
    return sp->size > 0 ? s_run (x, sp->fd, 0, sp->size, out_fd, out_path) : 0;
}

static int
s_put_piece (s_io_t *x, int fd, const char *path)
{
    int rc = s_write_all (x, fd, path, wes_buf_data (x->piece), wes_buf_len (x->piece));
    wes_buf_reset (x->piece);
    return rc;
}

/*  The records of kind k, from the frontier's spool (table, object and
    expression with a NUL after each, tables in name order), as rows of
    schema.sql: read S_IO_BYTES at a time, a record cut by a read's end
    carried over to the next. */
static int
s_write_records (s_io_t *x, size_t k, int fd, const char *path)
{
    const s_spool_t *sp = &x->o->front.spools[S_REC + k];
    const char *kind = wes_emit_sql_record_kind (k);
    size_t rows = 0;
    char *buf = NULL;
    size_t cap = 0, have = 0;
    uint64_t off = 0;
    int rc = 0;
    while (rc == 0 && (off < sp->size || have > 0)) {
        size_t want = off < sp->size ? (size_t) (sp->size - off < S_IO_BYTES ? sp->size - off
                                                                               : S_IO_BYTES)
                                     : 0;
        if (want == 0) {
            s_io_fail (x, "a spool file in %s ends inside a record", x->o->where);
            rc = -1;
            break;
        }
        if (have + want > cap) {
            cap = have + want;
            buf = wes_realloc (buf, cap);
        }
        if (s_pread_all (x, sp->fd, buf + have, want, off) != 0) {
            rc = -1;
            break;
        }
        off += want;
        have += want;
        //  The whole records in buf
        size_t at = 0;
        for (;;) {
            const char *f[3];
            size_t p = at;
            size_t n = 0;
            for (; n < 3; n++) {
                const char *nul = memchr (buf + p, '\0', have - p);
                if (!nul) {
                    break;
                }
                f[n] = buf + p;
                p = (size_t) (nul - buf) + 1;
            }
            if (n < 3) {
                break;
            }
            wes_records_row (x->piece, kind, &rows, f[0], f[1], f[2]);
            at = p;
            if (wes_buf_len (x->piece) >= S_IO_BYTES && s_put_piece (x, fd, path) != 0) {
                rc = -1;
                break;
            }
        }
        memmove (buf, buf + at, have - at);
        have -= at;
    }
    free (buf);
    if (rc == 0) {
        wes_records_end (x->piece, kind, &rows);
    }
    return rc;
}

/*  After the first section (head and CREATE TABLE parts, which the
    frontier wrote): the other parts, the records and the tail. */
static int
s_write_sql (s_io_t *x, int fd, const char *path)
{
    wes_buf_reset (x->piece);
    for (size_t part = WES_SQL_PART_TABLE + 1; part < WES_SQL_N_PARTS; part++) {
        if (x->o->front.spools[S_SQL + part].size == 0) {
            continue;
        }
        wes_buf_puts (x->piece, wes_emit_sql_section_title ((wes_sql_part_t) part));
        if (s_put_piece (x, fd, path) != 0 || s_section (x, S_SQL + part, fd, path) != 0) {
            return -1;
        }
    }
    bool any = false;
    for (size_t k = 0; k < WES_SQL_RECORD_KINDS && !any; k++) {
        any = x->o->front.spools[S_REC + k].size > 0;
    }
    if (any) {
        wes_emit_sql_records_head (x->piece);
        for (size_t k = 0; k < WES_SQL_RECORD_KINDS; k++) {
            if (s_write_records (x, k, fd, path) != 0) {
                return -1;
            }
        }
    }
    wes_buf_puts (x->piece, WES_SQL_TAIL);
    return s_put_piece (x, fd, path);
}

/*  After the head and the interfaces (the frontier wrote them): the tail. */
static int
s_write_ts (s_io_t *x, int fd, const char *path)
{
    wes_buf_reset (x->piece);
    wes_emit_ts_tail (x->piece, x->o->ts);
    return s_put_piece (x, fd, path);
}

/*  After the head and the meta members (the frontier wrote them): the
    canonical model and the tail. */
static int
s_write_json (s_io_t *x, int fd, const char *path)
{
    wes_buf_reset (x->piece);
    wes_buf_puts (x->piece, WES_MODEL_DOCUMENT_MIDDLE);
    wes_model_canonical_head (x->o->enums, s_to_buf, x->piece);
    if (s_put_piece (x, fd, path) != 0
        || s_section (x, S_CANON, fd, path) != 0) {
        return -1;
    }
    wes_buf_puts (x->piece, WES_MODEL_CANONICAL_TAIL WES_MODEL_DOCUMENT_TAIL "\n");
    return s_put_piece (x, fd, path);
}
