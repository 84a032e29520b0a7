/*  wes_fleetdrift.c — drift over a fleet: a bounded pool of threads reads
    the targets, results are grouped as they arrive (see wes_fleetdrift.h).

    Thread safety. Each pool thread owns its PGconn, its model and its JSON
    values; nothing is shared between threads but the result table, which
    only changes under the pool's mutex. What a thread calls is safe for
    that use: libpq is built thread-safe (checked with PQisthreadsafe, else
    one thread); introspection (common/pg/wes_introspect.c), the model
    (common/schema/wes_model.c, hash through OpenSSL EVP with a context per
    call) and the buffers keep no static mutable state, only read-only
    tables; jansson is thread-safe for separate values once its hash seed is
    set, which we do before the first thread starts. The differ runs after
    the pool has joined, on the calling thread. */
#include "wes_fleetdrift.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pg/wes_introspect.h"
#include "plan/wes_diff.h"
#include "util/wes_buf.h"
#include "util/wes_mem.h"

/*  Target indexes that share one result: a group of readable targets
    (same live model, same INVALID indexes) or of unreadable ones (same
    error message). */
typedef struct {
    char *key;          /* grouping key: hash + INVALID indexes, or the error message */
    size_t *members;    /* target indexes, sorted into file order at the end */
    size_t n;           /* members */
    size_t cap;         /* allocated members */
    char hash[65];      /* live schema hash (readable groups) */
    wes_model_t *model; /* the first member's live model, owned (readable groups) */
    json_t *invalid;    /* INVALID indexes, owned (readable groups) */
    wes_diff_t *diff;   /* model against the schema, computed at the end (drifted groups) */
    bool in_sync;       /* the schema's hash and no INVALID index */
} s_bucket_t;

/*  An array of buckets kept sorted by key while results arrive. */
typedef struct {
    s_bucket_t **items; /* owned buckets */
    size_t n;           /* how many */
    size_t cap;         /* allocated */
} s_buckets_t;

struct wes_fleetdrift {
    const wes_model_t *want;      /* the schema, borrowed */
    const wes_targets_t *targets; /* the fleet, borrowed */
    char want_hash[65];           /* the schema's hash */
    s_buckets_t groups;           /* readable targets */
    s_buckets_t errors;           /* unreadable targets */
    size_t in_sync;               /* targets in an in-sync group */
    size_t drifted;               /* readable targets out of sync */
    size_t unreadable;            /* targets that could not be read */
};

/*  State shared by the pool threads (under lock). */
typedef struct {
    wes_fleetdrift_t *self;            /* where results go */
    const wes_fleetdrift_opts_t *opts; /* options, read-only */
    pthread_mutex_t lock;              /* guards everything below and self's buckets */
    pthread_cond_t changed;            /* signalled on every finished target and thread */
    size_t next;                       /* next target index to take */
    size_t done;                       /* targets finished */
    size_t running;                    /* threads still working */
} s_pool_t;

/*  What reading one target gave. */
typedef struct {
    wes_model_t *model; /* live model, or NULL */
    json_t *invalid;    /* INVALID indexes, or NULL */
    char *error;        /* why it could not be read, or NULL */
} s_check_t;

static void *s_worker (void *arg);
static void s_check_target (const char *conninfo, const wes_fleetdrift_opts_t *opts,
                            s_check_t *out);
static void s_record (wes_fleetdrift_t *self, size_t target, s_check_t *check);
static s_bucket_t *s_bucket_get (s_buckets_t *list, const char *key, bool *created);
static void s_bucket_add (s_bucket_t *b, size_t target);
static void s_buckets_free (s_buckets_t *list);
static int s_cmp_size_t (const void *a, const void *b);
static int s_cmp_group (const void *a, const void *b);
static int s_cmp_error (const void *a, const void *b);
static json_t *s_names_json (const wes_fleetdrift_t *self, const s_bucket_t *b);
static void s_print_names (const wes_fleetdrift_t *self, const s_bucket_t *b, size_t show,
                           FILE *out);

wes_fleetdrift_t *
wes_fleetdrift_run (const wes_model_t *want, const wes_targets_t *targets,
                    const wes_fleetdrift_opts_t *opts, char **error)
{
    wes_assert (want && targets && opts && error);
    if (opts->parallel < 1 || opts->parallel > WES_FLEETDRIFT_PARALLEL_MAX
        || opts->connect_timeout_s < 1 || opts->statement_timeout_ms < 1) {
        *error = wes_strdup ("fleet drift: parallel, connect timeout or statement timeout out of "
                             "range");
        return NULL;
    }
    wes_fleetdrift_t *self = wes_new (wes_fleetdrift_t);
    self->want = want;
    self->targets = targets;
    wes_model_hash (want, self->want_hash);

    /*  jansson picks its hash seed on first use; pick it now, before any
        thread creates an object. */
    json_object_seed (0);
    size_t total = wes_targets_count (targets);
    size_t nthreads = (size_t)opts->parallel;
    if (!PQisthreadsafe ()) {
        nthreads = 1;
    }
    if (nthreads > total) {
        nthreads = total;
    }
    s_pool_t pool = {.self = self, .opts = opts};
    pthread_mutex_init (&pool.lock, NULL);
    pthread_cond_init (&pool.changed, NULL);
    pthread_t *threads = wes_alloc ((nthreads ? nthreads : 1) * sizeof (pthread_t));
    size_t started = 0;
    for (size_t i = 0; i < nthreads; i++) {
        pthread_mutex_lock (&pool.lock);
        pool.running++;
        pthread_mutex_unlock (&pool.lock);
        if (pthread_create (&threads[started], NULL, s_worker, &pool) != 0) {
            pthread_mutex_lock (&pool.lock);
            pool.running--;
            pthread_mutex_unlock (&pool.lock);
            break; /* fewer threads: slower, not wrong */
        }
        started++;
    }
    if (started == 0 && total > 0) {
        free (threads);
        pthread_cond_destroy (&pool.changed);
        pthread_mutex_destroy (&pool.lock);
        wes_fleetdrift_destroy (&self);
        *error = wes_strdup ("fleet drift: cannot start a thread");
        return NULL;
    }
    /*  Progress from this thread only, outside the lock. */
    size_t reported = (size_t)-1;
    pthread_mutex_lock (&pool.lock);
    for (;;) {
        size_t done = pool.done;
        bool finished = pool.running == 0;
        if (done != reported) {
            reported = done;
            if (opts->progress) {
                pthread_mutex_unlock (&pool.lock);
                opts->progress (done, total, opts->progress_arg);
                pthread_mutex_lock (&pool.lock);
            }
        }
        if (finished) {
            break;
        }
        if (pool.done == reported && pool.running > 0) {
            pthread_cond_wait (&pool.changed, &pool.lock);
        }
    }
    pthread_mutex_unlock (&pool.lock);
    for (size_t i = 0; i < started; i++) {
        pthread_join (threads[i], NULL);
    }
    free (threads);
    pthread_cond_destroy (&pool.changed);
    pthread_mutex_destroy (&pool.lock);
    wes_assert (self->in_sync + self->drifted + self->unreadable == total);

    /*  Members in file order, the differences once per drifted group, and
        the groups in their reading order. */
    for (size_t i = 0; i < self->groups.n; i++) {
        s_bucket_t *b = self->groups.items[i];
        qsort (b->members, b->n, sizeof (size_t), s_cmp_size_t);
        if (!b->in_sync) {
            b->diff = wes_diff_new (b->model, want);
        }
    }
    for (size_t i = 0; i < self->errors.n; i++) {
        s_bucket_t *b = self->errors.items[i];
        qsort (b->members, b->n, sizeof (size_t), s_cmp_size_t);
    }
    if (self->groups.n > 1) {
        qsort (self->groups.items, self->groups.n, sizeof (s_bucket_t *), s_cmp_group);
    }
    if (self->errors.n > 1) {
        qsort (self->errors.items, self->errors.n, sizeof (s_bucket_t *), s_cmp_error);
    }
    return self;
}

void
wes_fleetdrift_destroy (wes_fleetdrift_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wes_fleetdrift_t *self = *self_p;
    s_buckets_free (&self->groups);
    s_buckets_free (&self->errors);
    free (self);
    *self_p = NULL;
}

size_t
wes_fleetdrift_target_count (const wes_fleetdrift_t *self)
{
    return wes_targets_count (self->targets);
}

size_t
wes_fleetdrift_in_sync_count (const wes_fleetdrift_t *self)
{
    return self->in_sync;
}

size_t
wes_fleetdrift_drifted_count (const wes_fleetdrift_t *self)
{
    return self->drifted;
}

size_t
wes_fleetdrift_error_count (const wes_fleetdrift_t *self)
{
    return self->unreadable;
}

size_t
wes_fleetdrift_group_count (const wes_fleetdrift_t *self)
{
    return self->groups.n;
}

void
wes_fleetdrift_print (const wes_fleetdrift_t *self, const char *schema_path, size_t show, FILE *out)
{
    size_t drifted_groups = 0;
    for (size_t i = 0; i < self->groups.n; i++) {
        drifted_groups += self->groups.items[i]->in_sync ? 0 : 1;
    }
    fprintf (out,
             "fleet drift against %s (hash %.12s): %zu targets, %zu in sync, %zu drifted in "
             "%zu group%s, %zu unreadable\n",
             schema_path, self->want_hash, wes_fleetdrift_target_count (self), self->in_sync,
             self->drifted, drifted_groups, drifted_groups == 1 ? "" : "s", self->unreadable);
    for (size_t i = 0; i < self->groups.n; i++) {
        const s_bucket_t *b = self->groups.items[i];
        if (b->in_sync) {
            fprintf (out, "in sync: %zu target%s", b->n, b->n == 1 ? "" : "s");
            s_print_names (self, b, show, out);
            fputc ('\n', out);
            continue;
        }
        size_t n_diff = wes_diff_count (b->diff);
        size_t n_invalid = json_array_size (b->invalid);
        fprintf (out, "drift: %zu target%s at hash %.12s, %zu difference%s", b->n,
                 b->n == 1 ? "" : "s", b->hash, n_diff + n_invalid,
                 n_diff + n_invalid == 1 ? "" : "s");
        s_print_names (self, b, show, out);
        fputc ('\n', out);
        for (size_t j = 0; j < n_diff; j++) {
            fprintf (out, "  %s\n", wes_diff_change (b->diff, j)->sentence);
        }
        for (size_t j = 0; j < n_invalid; j++) {
            json_t *o = json_array_get (b->invalid, j);
            fprintf (out,
                     "  index %s.%s: INVALID (a failed CREATE INDEX CONCURRENTLY left it; "
                     "drop it and create it again)\n",
                     json_string_value (json_object_get (o, "table")),
                     json_string_value (json_object_get (o, "index")));
        }
    }
    for (size_t i = 0; i < self->errors.n; i++) {
        const s_bucket_t *b = self->errors.items[i];
        fprintf (out, "unreadable: %zu target%s", b->n, b->n == 1 ? "" : "s");
        s_print_names (self, b, show, out);
        fprintf (out, ": %s\n", b->key);
    }
}

json_t *
wes_fleetdrift_to_json (const wes_fleetdrift_t *self)
{
    json_t *doc = json_object ();
    json_object_set_new (doc, "schema_hash", json_string (self->want_hash));
    json_object_set_new (doc, "targets",
                         json_integer ((json_int_t)wes_fleetdrift_target_count (self)));
    json_object_set_new (doc, "in_sync", json_integer ((json_int_t)self->in_sync));
    json_object_set_new (doc, "drifted", json_integer ((json_int_t)self->drifted));
    json_object_set_new (doc, "unreadable", json_integer ((json_int_t)self->unreadable));
    json_t *groups = json_array ();
    for (size_t i = 0; i < self->groups.n; i++) {
        const s_bucket_t *b = self->groups.items[i];
        json_t *g = json_object ();
        json_object_set_new (g, "hash", json_string (b->hash));
        json_object_set_new (g, "in_sync", json_boolean (b->in_sync));
        json_object_set_new (g, "count", json_integer ((json_int_t)b->n));
        json_object_set_new (g, "targets", s_names_json (self, b));
        json_object_set_new (g, "invalid_indexes", json_incref (b->invalid));
        json_object_set_new (g, "differences",
                             b->diff ? wes_diff_to_json (b->diff) : json_array ());
        json_array_append_new (groups, g);
    }
    json_object_set_new (doc, "groups", groups);
    json_t *errors = json_array ();
    for (size_t i = 0; i < self->errors.n; i++) {
        const s_bucket_t *b = self->errors.items[i];
        json_t *e = json_object ();
        json_object_set_new (e, "message", json_string (b->key));
        json_object_set_new (e, "count", json_integer ((json_int_t)b->n));
        json_object_set_new (e, "targets", s_names_json (self, b));
        json_array_append_new (errors, e);
    }
    json_object_set_new (doc, "errors", errors);
    return doc;
}

json_t *
wes_fleetdrift_invalid_indexes (PGconn *conn, const char *schema, char **error)
{
    const char *params[] = {schema ? schema : "public"};
    PGresult *r = PQexecParams (conn,
                                "SELECT c.relname, i.relname FROM pg_index x "
                                "JOIN pg_class i ON i.oid = x.indexrelid "
                                "JOIN pg_class c ON c.oid = x.indrelid "
                                "JOIN pg_namespace n ON n.oid = i.relnamespace "
                                "WHERE n.nspname = $1 AND NOT x.indisvalid "
                                "ORDER BY c.relname COLLATE \"C\", i.relname COLLATE \"C\"",
                                1, NULL, params, NULL, NULL, 0);
    json_t *out = NULL;
    if (PQresultStatus (r) == PGRES_TUPLES_OK) {
        out = json_array ();
        for (int i = 0; i < PQntuples (r); i++) {
            json_t *o = json_object ();
            json_object_set_new (o, "table", json_string (PQgetvalue (r, i, 0)));
            json_object_set_new (o, "index", json_string (PQgetvalue (r, i, 1)));
            json_array_append_new (out, o);
        }
    }
    else {
        wes_buf_t *b = wes_buf_new ();
        wes_buf_printf (b, "reading INVALID indexes failed: %s", PQresultErrorMessage (r));
        char *e = wes_buf_steal (b);
        wes_buf_destroy (&b);
        e[strcspn (e, "\n")] = '\0';
        *error = e;
    }
    PQclear (r);
    return out;
}

/*  --- the pool --- */

static void *
s_worker (void *arg)
{
    s_pool_t *pool = arg;
    wes_fleetdrift_t *self = pool->self;
    size_t total = wes_targets_count (self->targets);
    for (;;) {
        pthread_mutex_lock (&pool->lock);
        size_t i = pool->next < total ? pool->next++ : total;
        pthread_mutex_unlock (&pool->lock);
        if (i >= total) {
            break;
        }
        s_check_t check = {0};
        s_check_target (wes_targets_conninfo (self->targets, i), pool->opts, &check);
        pthread_mutex_lock (&pool->lock);
        s_record (self, i, &check);
        pool->done++;
        pthread_cond_signal (&pool->changed);
        pthread_mutex_unlock (&pool->lock);
    }
    pthread_mutex_lock (&pool->lock);
    pool->running--;
    pthread_cond_signal (&pool->changed);
    pthread_mutex_unlock (&pool->lock);
    return NULL;
}

/*  Reads one target: connect (with connect_timeout), bound every statement
    (statement_timeout), introspect, read the INVALID indexes. Never puts
    the conninfo in an error. */
static void
s_check_target (const char *conninfo, const wes_fleetdrift_opts_t *opts, s_check_t *out)
{
    char connect_timeout[16];
    snprintf (connect_timeout, sizeof connect_timeout, "%d", opts->connect_timeout_s);
    /*  Keywords after dbname override the target's conninfo (it is
        expanded in place): our timeout wins. */
    const char *keys[] = {"dbname", "connect_timeout", "fallback_application_name", NULL};
    const char *values[] = {conninfo, connect_timeout, "wesley drift", NULL};
    PGconn *conn = PQconnectdbParams (keys, values, 1);
    if (!conn || PQstatus (conn) != CONNECTION_OK) {
        wes_buf_t *b = wes_buf_new ();
        wes_buf_printf (b, "cannot connect: %s",
                        conn ? PQerrorMessage (conn) : "out of memory in libpq");
        char *e = wes_buf_steal (b);
        wes_buf_destroy (&b);
        e[strcspn (e, "\n")] = '\0';
        out->error = e;
        PQfinish (conn);
        return;
    }
    char set[64];
    snprintf (set, sizeof set, "SET statement_timeout = %d", opts->statement_timeout_ms);
    PGresult *r = PQexec (conn, set);
    if (PQresultStatus (r) != PGRES_COMMAND_OK) {
        wes_buf_t *b = wes_buf_new ();
        wes_buf_printf (b, "cannot set statement_timeout: %s", PQresultErrorMessage (r));
        char *e = wes_buf_steal (b);
        wes_buf_destroy (&b);
        e[strcspn (e, "\n")] = '\0';
        out->error = e;
        PQclear (r);
        PQfinish (conn);
        return;
    }
    PQclear (r);
    out->model = wes_introspect (conn, opts->db_schema, &out->error);
    if (out->model) {
        out->invalid = wes_fleetdrift_invalid_indexes (conn, opts->db_schema, &out->error);
        if (!out->invalid) {
            wes_model_destroy (&out->model);
        }
    }
    if (!out->model && !out->error) {
        out->error = wes_strdup ("cannot read the database");
    }
    PQfinish (conn);
}

/*  Files one target's result into its bucket (called under the pool's
    lock). Takes what check holds. */
static void
s_record (wes_fleetdrift_t *self, size_t target, s_check_t *check)
{
    bool created = false;
    if (check->error) {
        s_bucket_t *b = s_bucket_get (&self->errors, check->error, &created);
        s_bucket_add (b, target);
        self->unreadable++;
        free (check->error);
        check->error = NULL;
        return;
    }
    char hash[65];
    wes_model_hash (check->model, hash);
    /*  The key: the live hash, then each INVALID index. Two targets with
        the same definitions but a different INVALID state differ. */
    wes_buf_t *key = wes_buf_new ();
    wes_buf_puts (key, hash);
    for (size_t i = 0; i < json_array_size (check->invalid); i++) {
        json_t *o = json_array_get (check->invalid, i);
        wes_buf_printf (key, " invalid:%s.%s", json_string_value (json_object_get (o, "table")),
                        json_string_value (json_object_get (o, "index")));
    }
    s_bucket_t *b = s_bucket_get (&self->groups, wes_buf_data (key), &created);
    wes_buf_destroy (&key);
    if (created) {
        memcpy (b->hash, hash, sizeof hash);
        b->model = check->model;
        b->invalid = check->invalid;
        check->model = NULL;
        check->invalid = NULL;
        b->in_sync = strcmp (hash, self->want_hash) == 0 && json_array_size (b->invalid) == 0;
    }
    s_bucket_add (b, target);
    if (b->in_sync) {
        self->in_sync++;
    }
    else {
        self->drifted++;
    }
    wes_model_destroy (&check->model);
    json_decref (check->invalid);
    check->invalid = NULL;
}

/*  The bucket of key in list (binary search), created when missing. */
static s_bucket_t *
s_bucket_get (s_buckets_t *list, const char *key, bool *created)
{
    size_t lo = 0, hi = list->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp (key, list->items[mid]->key);
        if (cmp == 0) {
            *created = false;
            return list->items[mid];
        }
        if (cmp < 0) {
            hi = mid;
        }
        else {
            lo = mid + 1;
        }
    }
    if (list->n == list->cap) {
        list->cap = list->cap ? list->cap * 2 : 8;
        list->items = wes_realloc (list->items, list->cap * sizeof (s_bucket_t *));
    }
    memmove (&list->items[lo + 1], &list->items[lo], (list->n - lo) * sizeof (s_bucket_t *));
    s_bucket_t *b = wes_new (s_bucket_t);
    b->key = wes_strdup (key);
    list->items[lo] = b;
    list->n++;
    *created = true;
    return b;
}

static void
s_bucket_add (s_bucket_t *b, size_t target)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 8;
        b->members = wes_realloc (b->members, b->cap * sizeof (size_t));
    }
    b->members[b->n++] = target;
}

static void
s_buckets_free (s_buckets_t *list)
{
    for (size_t i = 0; i < list->n; i++) {
        s_bucket_t *b = list->items[i];
        wes_diff_destroy (&b->diff); /* borrows from the model: first */
        wes_model_destroy (&b->model);
        json_decref (b->invalid);
        free (b->members);
        free (b->key);
        free (b);
    }
    free (list->items);
    list->items = NULL;
    list->n = list->cap = 0;
}

static int
s_cmp_size_t (const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/*  Largest group first, then by hash, then by key (INVALID indexes). */
static int
s_cmp_group (const void *a, const void *b)
{
    const s_bucket_t *x = *(const s_bucket_t *const *)a;
    const s_bucket_t *y = *(const s_bucket_t *const *)b;
    if (x->n != y->n) {
        return x->n > y->n ? -1 : 1;
    }
    int cmp = strcmp (x->hash, y->hash);
    return cmp != 0 ? cmp : strcmp (x->key, y->key);
}

/*  Most targets first, then by message. */
static int
s_cmp_error (const void *a, const void *b)
{
    const s_bucket_t *x = *(const s_bucket_t *const *)a;
    const s_bucket_t *y = *(const s_bucket_t *const *)b;
    if (x->n != y->n) {
        return x->n > y->n ? -1 : 1;
    }
    return strcmp (x->key, y->key);
}

static json_t *
s_names_json (const wes_fleetdrift_t *self, const s_bucket_t *b)
{
    json_t *names = json_array ();
    for (size_t i = 0; i < b->n; i++) {
        json_array_append_new (names,
                               json_string (wes_targets_name (self->targets, b->members[i])));
    }
    return names;
}

/*  " (a, b, c and 12 more)" — at most show names. */
static void
s_print_names (const wes_fleetdrift_t *self, const s_bucket_t *b, size_t show, FILE *out)
{
    if (show == 0) {
        return;
    }
    fputs (" (", out);
    size_t shown = b->n < show ? b->n : show;
    for (size_t i = 0; i < shown; i++) {
        fprintf (out, "%s%s", i == 0 ? "" : ", ", wes_targets_name (self->targets, b->members[i]));
    }
    if (b->n > shown) {
        fprintf (out, " and %zu more", b->n - shown);
    }
    fputc (')', out);
}
