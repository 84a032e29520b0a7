/*  wes_model.c — the schema model: records owned by the model, builders that
    refuse duplicate names, canonical ordering, and the canonical JSON form
    whose compact bytes are hashed (D014). */
#include "wes_model.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/wes_arena.h"
#include "../util/wes_buf.h"
#include "../util/wes_str.h"
#include "wes_jsonw.h"

/*  How a record string was allocated: every string a record holds has this
    tag in the byte before it, so that replacing it frees only what
    wes_model_set_str allocated and never a string of the model's arena. */
#define S_TAG_ARENA 0x00 /* shared: one copy per distinct string */
#define S_TAG_HEAP 0x01
#define S_TAG_COPY 0x02  /* in the arena, not shared (wes_model_share_strings) */
/*  Bytes before every record (keeps max_align_t alignment): its model. */
#define S_REC_HEADER 16
/*  Metadata directives of one element written without jansson when they fit. */
#define S_DIRECTIVES_BYTES 1024
/*  Literal bytes of a value written by hand (wes_jsonw_value_begin). */
#define S_RAW(w, lit) wes_jsonw_raw ((w), "" lit, sizeof (lit) - 1)
/*  Members of one object written without jansson (more: jansson). */
#define S_PLAIN_MEMBERS 16
/*  Bytes per block of a model's arena: small, because a streaming compile
    makes a model per table. */
#define S_ARENA_BLOCK (16u * 1024u)
/*  Slots of a table index that wes_model_clear keeps (emptied). */
#define S_INDEX_KEEP 64

struct wes_model {
    wes_table_t **tables; /* in insertion order until canonicalized */
    size_t n_tables;      /* tables in use */
    wes_enum_t **enums;   /* in insertion order until canonicalized */
    size_t n_enums;       /* enums in use */
    wes_table_t **index;  /* open-addressing hash of tables by name (borrowed) */
    size_t index_cap;     /* slots in index: a power of two, or 0 */
    wes_enum_t **eindex;  /* the same for enums */
    size_t eindex_cap;    /* slots in eindex */
    wes_arena_t *arena;   /* records and strings */
    char **strs;          /* interned strings (in arena), NULL slots free */
    uint32_t *str_hashes; /* each slot's hash (growth never reads a string again) */
    size_t strs_cap;      /* slots: a power of two, or 0 */
    size_t n_strs;        /* strings interned */
    bool copy_strings;    /* strings are copied as they come, not shared */
};

static void *s_grow (wes_model_t *self, void *array, size_t count, size_t elem_size);
static size_t s_name_hash (const char *s);
static void s_index_rebuild (wes_model_t *self);
static void s_index_insert (wes_model_t *self, wes_table_t *t);
static void s_eindex_rebuild (wes_model_t *self);
static void *s_rec_new (wes_model_t *self, size_t size);
static wes_model_t *s_owner (const void *rec);
static char *s_intern (wes_model_t *self, const char *s);
static void s_str_release (char *s);
static void s_strv_free (char **v, size_t n);
static void s_strv_push (wes_model_t *self, char ***v, size_t *n, const char *s);
static void s_enum_free (wes_enum_t *e);
static void s_table_free (wes_table_t *t);
static json_t *s_strv_json (char *const *v, size_t n);
static json_t *s_str_or_null (const char *s);
static json_t *s_table_json (const wes_table_t *t);
static json_t *s_table_meta_json (const wes_table_t *t);
static void s_write_canonical (const wes_model_t *self, wes_jsonw_t *w);
static void s_write_canonical_head (const wes_model_t *self, wes_jsonw_t *w);
static void s_write_canonical_table (wes_jsonw_t *w, const wes_table_t *t);
static void s_write_table_meta (wes_jsonw_t *w, const wes_table_t *t);
static void s_write_document_head (const wes_model_t *self, const char *hash, wes_jsonw_t *w);
static int s_cmp_table (const void *a, const void *b);
static int s_cmp_enum (const void *a, const void *b);
static int s_cmp_column (const void *a, const void *b);
static void s_sort_ptrs (void **a, size_t n, int (*cmp) (const void *, const void *));
/*  Lists up to this long are sorted by insertion (fewer steps than qsort). */
#define S_INSERTION_SORT_MAX 24
static int s_cmp_constraint (const void *a, const void *b);
static int s_cmp_index (const void *a, const void *b);
static int s_cmp_policy (const void *a, const void *b);
static int s_cmp_str (const void *a, const void *b);
static bool s_dump_plain (const json_t *v, char *out, size_t size, size_t *len);

wes_model_t *
wes_model_new (void)
{
    wes_model_t *self = wes_new (wes_model_t);
    self->arena = wes_arena_new (S_ARENA_BLOCK);
    return self;
}

void
wes_model_destroy (wes_model_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wes_model_t *self = *self_p;
    wes_model_clear (self);
    free (self->index); /* what clear keeps */
    wes_arena_destroy (&self->arena);
    free (self);
    *self_p = NULL;
}

void
wes_model_clear (wes_model_t *self)
{
    wes_assert (self);
    for (size_t i = 0; i < self->n_tables; i++) {
        s_table_free (self->tables[i]);
    }
    for (size_t i = 0; i < self->n_enums; i++) {
        s_enum_free (self->enums[i]);
    }
    free (self->eindex);
    free (self->strs);
    free (self->str_hashes);
    //  A small table index is kept, emptied (a model cleared for every
    //  table of a streaming compile holds one table)
    wes_table_t **index = self->index;
    size_t index_cap = self->index_cap;
    if (index_cap > S_INDEX_KEEP) {
        free (index);
        index = NULL;
        index_cap = 0;
    }
    else if (index) {
        memset (index, 0, index_cap * sizeof *index);
    }
    wes_arena_t *arena = self->arena;
    bool copy = self->copy_strings;
    memset (self, 0, sizeof *self);
    wes_arena_reset (arena); /* its blocks are kept */
    self->arena = arena;
    self->copy_strings = copy;
    self->index = index;
    self->index_cap = index_cap;
}

wes_enum_t *
wes_model_add_enum (wes_model_t *self, const char *name)
{
    wes_assert (self && name);
    if (wes_model_find_enum (self, name)) {
        return NULL;
    }
    wes_enum_t *e = s_rec_new (self, sizeof (wes_enum_t));
    e->name = s_intern (self, name);
    self->enums = s_grow (self, self->enums, self->n_enums, sizeof (wes_enum_t *));
    self->enums[self->n_enums++] = e;
    if (self->n_enums * 10 > self->eindex_cap * 7) {
        s_eindex_rebuild (self);
    }
    else {
        size_t mask = self->eindex_cap - 1;
        size_t j = s_name_hash (e->name) & mask;
        while (self->eindex[j]) {
            j = (j + 1) & mask;
        }
        self->eindex[j] = e;
    }
    return e;
}

void
wes_enum_add_value (wes_enum_t *e, const char *value)
{
    wes_assert (e && value);
    s_strv_push (s_owner (e), &e->values, &e->n_values, value);
}

wes_table_t *
wes_model_add_table (wes_model_t *self, const char *name)
{
    wes_assert (self && name);
    if (wes_model_find_table (self, name)) {
        return NULL;
    }
    wes_table_t *t = s_rec_new (self, sizeof (wes_table_t));
    t->name = s_intern (self, name);
    self->tables = s_grow (self, self->tables, self->n_tables, sizeof (wes_table_t *));
    self->tables[self->n_tables++] = t;
    if (self->n_tables * 10 > self->index_cap * 7) {
        s_index_rebuild (self);
    }
    else {
        s_index_insert (self, t);
    }
    return t;
}

wes_column_t *
wes_table_add_column (wes_table_t *t, const char *name, const char *type)
{
    wes_assert (t && name && type);
    wes_model_t *self = s_owner (t);
    char *iname = s_intern (self, name);
    for (size_t i = 0; i < t->n_columns; i++) {
        if (wes_model_str_eq (t->columns[i]->name, iname)) {
            return NULL;
        }
    }
    /*  No builder takes a column: it needs no owner header. */
    wes_column_t *c = wes_arena_alloc (self->arena, sizeof (wes_column_t));
    c->name = iname;
    c->type = s_intern (self, type);
    c->ordinal = (int)t->n_columns;
    t->columns = s_grow (self, t->columns, t->n_columns, sizeof (wes_column_t *));
    t->columns[t->n_columns++] = c;
    return c;
}

wes_constraint_t *
wes_table_add_constraint (wes_table_t *t, wes_con_kind_t kind, const char *name)
{
    wes_assert (t && name);
    for (size_t i = 0; i < t->n_constraints; i++) {
        if (wes_str_eq (t->constraints[i]->name, name)) {
            return NULL;
        }
    }
    if (kind == WES_CON_PRIMARY && wes_table_primary_key (t)) {
        return NULL;
    }
    wes_model_t *self = s_owner (t);
    wes_constraint_t *c = s_rec_new (self, sizeof (wes_constraint_t));
    c->kind = kind;
    c->name = s_intern (self, name);
    c->on_delete = WES_FK_NO_ACTION;
    c->on_update = WES_FK_NO_ACTION;
    t->constraints = s_grow (self, t->constraints, t->n_constraints, sizeof (wes_constraint_t *));
    t->constraints[t->n_constraints++] = c;
    return c;
}

void
wes_constraint_add_column (wes_constraint_t *c, const char *column)
{
    wes_assert (c && column);
    s_strv_push (s_owner (c), &c->columns, &c->n_columns, column);
}

void
wes_constraint_add_ref_column (wes_constraint_t *c, const char *column)
{
    wes_assert (c && column);
    s_strv_push (s_owner (c), &c->ref_columns, &c->n_ref_columns, column);
}

wes_index_t *
wes_table_add_index (wes_table_t *t, const char *name)
{
    wes_assert (t && name);
    for (size_t i = 0; i < t->n_indexes; i++) {
        if (wes_str_eq (t->indexes[i]->name, name)) {
            return NULL;
        }
    }
    wes_model_t *self = s_owner (t);
    wes_index_t *ix = s_rec_new (self, sizeof (wes_index_t));
    ix->name = s_intern (self, name);
    ix->method = s_intern (self, "btree");
    t->indexes = s_grow (self, t->indexes, t->n_indexes, sizeof (wes_index_t *));
    t->indexes[t->n_indexes++] = ix;
    return ix;
}

void
wes_index_add_column (wes_index_t *ix, const char *column)
{
    wes_assert (ix && column);
    s_strv_push (s_owner (ix), &ix->columns, &ix->n_columns, column);
}

wes_policy_t *
wes_table_add_policy (wes_table_t *t, const char *name, wes_policy_cmd_t cmd)
{
    wes_assert (t && name);
    for (size_t i = 0; i < t->n_policies; i++) {
        if (wes_str_eq (t->policies[i]->name, name)) {
            return NULL;
        }
    }
    wes_model_t *self = s_owner (t);
    wes_policy_t *p = s_rec_new (self, sizeof (wes_policy_t));
    p->name = s_intern (self, name);
    p->cmd = cmd;
    p->permissive = true;
    t->policies = s_grow (self, t->policies, t->n_policies, sizeof (wes_policy_t *));
    t->policies[t->n_policies++] = p;
    return p;
}

void
wes_policy_add_role (wes_policy_t *p, const char *role)
{
    wes_assert (p && role);
    s_strv_push (s_owner (p), &p->roles, &p->n_roles, role);
}

void
wes_model_set_str (char **field, const char *value)
{
    wes_assert (field);
    char *copy = NULL;
    if (value) {
        size_t len = strlen (value);
        char *block = wes_alloc (len + 2);
        block[0] = S_TAG_HEAP;
        memcpy (block + 1, value, len + 1);
        copy = block + 1;
    }
    s_str_release (*field);
    *field = copy;
}

void
wes_model_put_str (wes_model_t *self, char **field, const char *value)
{
    wes_assert (self && field);
    char *copy = value ? s_intern (self, value) : NULL;
    s_str_release (*field);
    *field = copy;
}

void
wes_model_put_directives (wes_model_t *self, char **field, json_t *value)
{
    wes_assert (self && field);
    if (!value || json_object_size (value) == 0) {
        json_decref (value);
        wes_model_put_str (self, field, NULL);
        return;
    }
    //  Most metadata is small and plain ({"pii":{}}, {"weight":{"value":9}}):
    //  written here, on the stack, as jansson would; anything else by jansson
    char small[S_DIRECTIVES_BYTES];
    size_t len = 0;
    if (s_dump_plain (value, small, sizeof small, &len)) {
        small[len] = '\0';
        json_decref (value);
        wes_model_put_str (self, field, small);
        return;
    }
    char *text = json_dumps (value, JSON_COMPACT | JSON_SORT_KEYS);
    wes_assert (text);
    json_decref (value);
    wes_model_put_str (self, field, text);
    free (text);
}

json_t *
wes_model_directives_json (const char *directives)
{
    json_t *value = directives ? json_loads (directives, 0, NULL) : NULL;
    if (!json_is_object (value)) {
        json_decref (value);
        value = json_object ();
        wes_assert (value);
    }
    return value;
}

size_t
wes_model_table_count (const wes_model_t *self)
{
    return self ? self->n_tables : 0;
}

wes_table_t *
wes_model_table (const wes_model_t *self, size_t i)
{
    return self && i < self->n_tables ? self->tables[i] : NULL;
}

static size_t
s_name_hash (const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return (size_t)h;
}

wes_table_t *
wes_model_find_table (const wes_model_t *self, const char *name)
{
    if (!self || !name || self->index_cap == 0) {
        return NULL;
    }
    size_t mask = self->index_cap - 1;
    for (size_t i = s_name_hash (name) & mask; self->index[i]; i = (i + 1) & mask) {
        if (wes_str_eq (self->index[i]->name, name)) {
            return self->index[i];
        }
    }
    return NULL;
}

size_t
wes_model_enum_count (const wes_model_t *self)
{
    return self ? self->n_enums : 0;
}

wes_enum_t *
wes_model_enum (const wes_model_t *self, size_t i)
{
    return self && i < self->n_enums ? self->enums[i] : NULL;
}

wes_enum_t *
wes_model_find_enum (const wes_model_t *self, const char *name)
{
    if (!self || !name || self->eindex_cap == 0) {
        return NULL;
    }
    size_t mask = self->eindex_cap - 1;
    for (size_t i = s_name_hash (name) & mask; self->eindex[i]; i = (i + 1) & mask) {
        if (wes_str_eq (self->eindex[i]->name, name)) {
            return self->eindex[i];
        }
    }
    return NULL;
}

wes_column_t *
wes_table_find_column (const wes_table_t *t, const char *name)
{
    if (!t || !name) {
        return NULL;
    }
    for (size_t i = 0; i < t->n_columns; i++) {
        const char *cn = t->columns[i]->name;
        if (cn[0] == name[0] && wes_str_eq (cn, name)) {
            return t->columns[i];
        }
    }
    return NULL;
}

wes_constraint_t *
wes_table_primary_key (const wes_table_t *t)
{
    if (!t) {
        return NULL;
    }
    for (size_t i = 0; i < t->n_constraints; i++) {
        if (t->constraints[i]->kind == WES_CON_PRIMARY) {
            return t->constraints[i];
        }
    }
    return NULL;
}

void
wes_model_canonicalize (wes_model_t *self)
{
    wes_assert (self);
    /*  Table names are the index's keys; rebuilding here keeps lookups
        right even if a caller changed a name in place since. */
    s_index_rebuild (self);
    s_eindex_rebuild (self);
    if (self->n_tables > 1) {
        qsort (self->tables, self->n_tables, sizeof (wes_table_t *), s_cmp_table);
    }
    if (self->n_enums > 1) {
        qsort (self->enums, self->n_enums, sizeof (wes_enum_t *), s_cmp_enum);
    }
    for (size_t i = 0; i < self->n_tables; i++) {
        wes_table_canonicalize (self->tables[i]);
    }
}

void
wes_table_canonicalize (wes_table_t *t)
{
    wes_assert (t);
    s_sort_ptrs ((void **)t->columns, t->n_columns, s_cmp_column);
    s_sort_ptrs ((void **)t->constraints, t->n_constraints, s_cmp_constraint);
    s_sort_ptrs ((void **)t->indexes, t->n_indexes, s_cmp_index);
    s_sort_ptrs ((void **)t->policies, t->n_policies, s_cmp_policy);
    for (size_t j = 0; j < t->n_policies; j++) {
        wes_policy_t *p = t->policies[j];
        s_sort_ptrs ((void **)p->roles, p->n_roles, s_cmp_str);
    }
}

/*  Sorts an array of pointers with cmp (qsort's): a table's short lists
    by insertion, in place and stable like glibc's qsort; long ones by
    qsort. */
static void
s_sort_ptrs (void **a, size_t n, int (*cmp) (const void *, const void *))
{
    if (n > S_INSERTION_SORT_MAX) {
        qsort (a, n, sizeof *a, cmp);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        void *item = a[i];
        size_t j = i;
        while (j > 0 && cmp (&a[j - 1], &item) > 0) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = item;
    }
}

json_t *
wes_model_to_canonical_json (const wes_model_t *self)
{
    wes_assert (self);
    json_t *root = json_object ();
    json_t *enums = json_array ();
    json_t *tables = json_array ();
    wes_assert (root && enums && tables);
    for (size_t i = 0; i < self->n_enums; i++) {
        const wes_enum_t *e = self->enums[i];
        json_t *je = json_object ();
        wes_assert (je);
        json_object_set_new (je, "name", wes_json_string_lossy (e->name));
        json_object_set_new (je, "values", s_strv_json (e->values, e->n_values));
        json_array_append_new (enums, je);
    }
    for (size_t i = 0; i < self->n_tables; i++) {
        json_array_append_new (tables, s_table_json (self->tables[i]));
    }
    json_object_set_new (root, "format", json_string ("wesley-model/1"));
    json_object_set_new (root, "enums", enums);
    json_object_set_new (root, "tables", tables);
    return root;
}

int
wes_model_write_canonical (const wes_model_t *self, json_dump_callback_t cb, void *arg)
{
    wes_assert (self && cb);
    wes_jsonw_t *w = wes_jsonw_new (0, cb, arg);
    s_write_canonical (self, w);
    int rc = wes_jsonw_flush (w);
    wes_jsonw_destroy (&w);
    return rc;
}

static int
s_to_buf (const char *data, size_t len, void *arg)
{
    wes_buf_append ((wes_buf_t *)arg, data, len);
    return 0;
}

char *
wes_model_canonical_bytes (const wes_model_t *self, size_t *len_out)
{
    wes_buf_t *buf = wes_buf_new ();
    wes_assert (wes_model_write_canonical (self, s_to_buf, buf) == 0);
    if (len_out) {
        *len_out = wes_buf_len (buf);
    }
    char *bytes = wes_buf_steal (buf);
    wes_buf_destroy (&buf);
    return bytes;
}

static int
s_to_digest (const char *data, size_t len, void *arg)
{
    return EVP_DigestUpdate ((EVP_MD_CTX *)arg, data, len) == 1 ? 0 : -1;
}

void
wes_model_hash (const wes_model_t *self, char hex_out[65])
{
    static const char digits[] = "0123456789abcdef";
    EVP_MD_CTX *md = EVP_MD_CTX_new ();
    wes_assert (md);
    /*  EVP fails only on allocation failure inside OpenSSL. */
    wes_assert (EVP_DigestInit_ex (md, EVP_sha256 (), NULL) == 1);
    wes_assert (wes_model_write_canonical (self, s_to_digest, md) == 0);
    unsigned char raw[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    wes_assert (EVP_DigestFinal_ex (md, raw, &n) == 1 && n == 32);
    EVP_MD_CTX_free (md);
    for (unsigned int i = 0; i < 32; i++) {
        hex_out[2 * i] = digits[raw[i] >> 4];
        hex_out[2 * i + 1] = digits[raw[i] & 0xf];
    }
    hex_out[64] = '\0';
}

json_t *
wes_model_to_document_json (const wes_model_t *self)
{
    wes_assert (self);
    char hash[65];
    wes_model_hash (self, hash);
    json_t *doc = json_object ();
    json_t *meta = json_object ();
    json_t *mtables = json_object ();
    json_t *menums = json_object ();
    wes_assert (doc && meta && mtables && menums);
    for (size_t i = 0; i < self->n_tables; i++) {
        json_object_set_new (mtables, self->tables[i]->name, s_table_meta_json (self->tables[i]));
    }
    for (size_t i = 0; i < self->n_enums; i++) {
        const wes_enum_t *e = self->enums[i];
        json_object_set_new (menums, e->name, s_str_or_null (e->gql_name));
    }
    json_object_set_new (meta, "tables", mtables);
    json_object_set_new (meta, "enums", menums);
    json_object_set_new (doc, "format", json_string ("wesley-schema/1"));
    json_object_set_new (doc, "hash", json_string (hash));
    json_object_set_new (doc, "schema", wes_model_to_canonical_json (self));
    json_object_set_new (doc, "meta", meta);
    return doc;
}

/*  A sorted copy of a list of named records when it is not sorted already
    (the meta objects are keyed by name, and jansson sorts keys); NULL when
    the list can be used as it is. */
static void **
s_sorted_if_needed (void *const *items, size_t n, int (*cmp) (const void *, const void *))
{
    size_t i = 1;
    while (i < n && cmp (&items[i - 1], &items[i]) < 0) {
        i++;
    }
    if (i >= n) {
        return NULL;
    }
    void **copy = wes_alloc (n * sizeof (void *));
    memcpy (copy, items, n * sizeof (void *));
    qsort (copy, n, sizeof (void *), cmp);
    return copy;
}

/*  One table's member of schema.json's meta.tables: its name, then its
    GraphQL-side facts (nothing when jansson would refuse the name). */
static void
s_write_table_meta (wes_jsonw_t *w, const wes_table_t *t)
{
    //  A member of meta.tables, its value written by hand (keys sorted,
    //  compact: what the writer's object and key calls would give;
    //  test_jsonw checks it against jansson's dump)
    if (!wes_jsonw_key (w, t->name)) {
        return;
    }
    wes_jsonw_value_begin (w);
    S_RAW (w, "{\"columns\":{");
    void **csorted = s_sorted_if_needed ((void *const *)t->columns, t->n_columns, s_cmp_column);
    wes_column_t *const *cols = csorted ? (wes_column_t *const *)csorted : t->columns;
    bool comma = false;
    for (size_t j = 0; j < t->n_columns; j++) {
        const wes_column_t *c = cols[j];
        if (!wes_jsonw_raw_key (w, c->name, comma)) {
            continue;
        }
        comma = true;
        S_RAW (w, "{\"directives\":");
        if (c->directives) {
            wes_jsonw_raw (w, c->directives, strlen (c->directives));
        }
        else {
            S_RAW (w, "{}");
        }
        S_RAW (w, ",\"enum\":");
        wes_jsonw_raw_string (w, c->enum_name);
        S_RAW (w, ",\"gql_name\":");
        wes_jsonw_raw_string (w, c->gql_name);
        S_RAW (w, ",\"gql_type\":");
        wes_jsonw_raw_string (w, c->gql_type);
        S_RAW (w, ",\"ordinal\":");
        wes_jsonw_raw_int (w, c->ordinal);
        S_RAW (w, ",\"renamed_from\":");
        wes_jsonw_raw_string (w, c->renamed_from);
        S_RAW (w, "}");
    }
    free (csorted);
    S_RAW (w, "},\"directives\":");
    if (t->directives) {
        wes_jsonw_raw (w, t->directives, strlen (t->directives));
    }
    else {
        S_RAW (w, "{}");
    }
    S_RAW (w, ",\"gql_name\":");
    wes_jsonw_raw_string (w, t->gql_name);
    S_RAW (w, ",\"relations\":");
    if (t->relations) {
        wes_jsonw_raw_value (w, t->relations);
    }
    else {
        S_RAW (w, "[]");
    }
    S_RAW (w, ",\"renamed_from\":");
    wes_jsonw_raw_string (w, t->renamed_from);
    S_RAW (w, ",\"tenant_column\":");
    wes_jsonw_raw_string (w, t->tenant_column);
    S_RAW (w, "}");
}

/*  schema.json up to its meta tables, {"format":..,"hash":..,"meta":{"enums":{..},"tables":{
    (the writer is left inside meta.tables). */
static void
s_write_document_head (const wes_model_t *self, const char *hash, wes_jsonw_t *w)
{
    wes_jsonw_object_begin (w);
    wes_jsonw_key_stable (w, "format");
    wes_jsonw_string (w, "wesley-schema/1");
    wes_jsonw_key_stable (w, "hash");
    wes_jsonw_string (w, hash);

    wes_jsonw_key_stable (w, "meta");
    wes_jsonw_object_begin (w);
    wes_jsonw_key_stable (w, "enums");
    wes_jsonw_object_begin (w);
    void **sorted = s_sorted_if_needed ((void *const *)self->enums, self->n_enums, s_cmp_enum);
    wes_enum_t *const *enums = sorted ? (wes_enum_t *const *)sorted : self->enums;
    for (size_t i = 0; i < self->n_enums; i++) {
        if (wes_jsonw_key (w, enums[i]->name)) {
            wes_jsonw_string_stable (w, enums[i]->gql_name);
        }
    }
    free (sorted);
    wes_jsonw_object_end (w);
    wes_jsonw_key_stable (w, "tables");
    wes_jsonw_object_begin (w);
}

int
wes_model_write_document (const wes_model_t *self, const char *hash, json_dump_callback_t cb,
                          void *arg)
{
    wes_assert (self && cb);
    char own_hash[65];
    if (!hash) {
        wes_model_hash (self, own_hash);
        hash = own_hash;
    }
    wes_jsonw_t *w = wes_jsonw_new (0, cb, arg);
    s_write_document_head (self, hash, w);
    void **sorted = s_sorted_if_needed ((void *const *)self->tables, self->n_tables, s_cmp_table);
    wes_table_t *const *tables = sorted ? (wes_table_t *const *)sorted : self->tables;
    for (size_t i = 0; i < self->n_tables; i++) {
        s_write_table_meta (w, tables[i]);
    }
    free (sorted);
    wes_jsonw_object_end (w);
    wes_jsonw_object_end (w);

    wes_jsonw_key_stable (w, "schema");
    s_write_canonical (self, w);
    wes_jsonw_object_end (w);
    int rc = wes_jsonw_flush (w);
    wes_jsonw_destroy (&w);
    return rc;
}

void
wes_model_canonical_head (const wes_model_t *self, json_dump_callback_t cb, void *arg)
{
    wes_assert (self && cb);
    wes_jsonw_t *w = wes_jsonw_new (0, cb, arg);
    s_write_canonical_head (self, w);
    (void)wes_jsonw_flush (w);
    wes_jsonw_destroy (&w);
}

void
wes_model_document_head (const wes_model_t *self, const char *hash, json_dump_callback_t cb,
                         void *arg)
{
    wes_assert (self && hash && cb);
    wes_jsonw_t *w = wes_jsonw_new (0, cb, arg);
    s_write_document_head (self, hash, w);
    (void)wes_jsonw_flush (w);
    wes_jsonw_destroy (&w);
}

void
wes_model_write_table_canonical (wes_jsonw_t *w, const wes_table_t *t)
{
    wes_assert (w && t);
    s_write_canonical_table (w, t);
}

void
wes_model_write_table_meta (wes_jsonw_t *w, const wes_table_t *t)
{
    wes_assert (w && t);
    s_write_table_meta (w, t);
}

const char *
wes_fk_action_sql (wes_fk_action_t a)
{
    switch (a) {
    case WES_FK_RESTRICT:
        return "RESTRICT";
    case WES_FK_CASCADE:
        return "CASCADE";
    case WES_FK_SET_NULL:
        return "SET NULL";
    case WES_FK_SET_DEFAULT:
        return "SET DEFAULT";
    case WES_FK_NO_ACTION:
    default:
        return "NO ACTION";
    }
}

const char *
wes_policy_cmd_sql (wes_policy_cmd_t c)
{
    switch (c) {
    case WES_POLICY_SELECT:
        return "SELECT";
    case WES_POLICY_INSERT:
        return "INSERT";
    case WES_POLICY_UPDATE:
        return "UPDATE";
    case WES_POLICY_DELETE:
        return "DELETE";
    case WES_POLICY_ALL:
    default:
        return "ALL";
    }
}

/*  Makes room for one more element, in the model's arena (an array that
    grows is copied; the old copy stays until the model goes, which costs
    less than it saves: a model's records and arrays are freed in one go,
    on any thread). The capacity is 4, then the next power of two at or
    above count, so growing happens only when count is 0, or 4 or more and
    a power of two. */
static void *
s_grow (wes_model_t *self, void *array, size_t count, size_t elem_size)
{
    size_t cap;
    if (count == 0) {
        cap = 4;
    }
    else if (count >= 4 && (count & (count - 1)) == 0) {
        wes_assert (count <= SIZE_MAX / 2 / elem_size);
        cap = count * 2;
    }
    else {
        return array;
    }
    void *fresh = wes_arena_alloc (self->arena, cap * elem_size);
    if (count > 0) {
        memcpy (fresh, array, count * elem_size);
    }
    return fresh;
}

/*  The table index: names hashed to slots, linear probing, at most 70%
    full. Rebuilt from the table list whenever it grows. */
static void
s_index_insert (wes_model_t *self, wes_table_t *t)
{
    size_t mask = self->index_cap - 1;
    size_t i = s_name_hash (t->name) & mask;
    while (self->index[i]) {
        i = (i + 1) & mask;
    }
    self->index[i] = t;
}

/*  The slots of an index of n entries (pointers, at most 70% full),
    all empty: slots (*cap of them) when they are as many, else new ones
    (slots freed, *cap updated). */
static void *
s_index_slots (void *slots, size_t *cap, size_t n)
{
    size_t want = 16;
    while (n * 10 > want * 7) {
        want *= 2;
    }
    if (want != *cap) {
        free (slots);
        slots = wes_alloc (want * sizeof (void *));
        *cap = want;
    }
    else {
        memset (slots, 0, want * sizeof (void *));
    }
    return slots;
}

static void
s_index_rebuild (wes_model_t *self)
{
    self->index = s_index_slots (self->index, &self->index_cap, self->n_tables);
    for (size_t i = 0; i < self->n_tables; i++) {
        s_index_insert (self, self->tables[i]);
    }
}

static void
s_eindex_rebuild (wes_model_t *self)
{
    self->eindex = s_index_slots (self->eindex, &self->eindex_cap, self->n_enums);
    size_t mask = self->eindex_cap - 1;
    for (size_t i = 0; i < self->n_enums; i++) {
        size_t j = s_name_hash (self->enums[i]->name) & mask;
        while (self->eindex[j]) {
            j = (j + 1) & mask;
        }
        self->eindex[j] = self->enums[i];
    }
}

/*  A zeroed record from the arena, with its model in the bytes before it. */
static void *
s_rec_new (wes_model_t *self, size_t size)
{
    unsigned char *block = wes_arena_alloc (self->arena, S_REC_HEADER + size);
    memcpy (block, &self, sizeof self);
    return block + S_REC_HEADER;
}

static wes_model_t *
s_owner (const void *rec)
{
    wes_model_t *self;
    memcpy (&self, (const unsigned char *)rec - S_REC_HEADER, sizeof self);
    return self;
}

void
wes_model_share_strings (wes_model_t *self, bool share)
{
    wes_assert (self && self->n_strs == 0);
    self->copy_strings = !share;
}

/*  The model's copy of s, shared by every equal string: in the arena, after
    its tag byte (or a copy of its own, when the model does not share). */
static char *
s_intern (wes_model_t *self, const char *s)
{
    if (self->copy_strings) {
        size_t len = strlen (s);
        char *block = wes_arena_alloc_bytes (self->arena, len + 2);
        block[0] = S_TAG_COPY;
        memcpy (block + 1, s, len + 1);
        return block + 1;
    }
    if ((self->n_strs + 1) * 2 > self->strs_cap) {
        size_t cap = self->strs_cap ? self->strs_cap * 2 : 256;
        char **fresh = wes_alloc (cap * sizeof (char *));
        uint32_t *hashes = wes_alloc (cap * sizeof (uint32_t));
        for (size_t i = 0; i < self->strs_cap; i++) {
            if (self->strs[i]) {
                size_t j = self->str_hashes[i] & (cap - 1);
                while (fresh[j]) {
                    j = (j + 1) & (cap - 1);
                }
                fresh[j] = self->strs[i];
                hashes[j] = self->str_hashes[i];
            }
        }
        free (self->strs);
        free (self->str_hashes);
        self->strs = fresh;
        self->str_hashes = hashes;
        self->strs_cap = cap;
    }
    uint32_t h = (uint32_t)s_name_hash (s);
    size_t mask = self->strs_cap - 1;
    size_t i = h & mask;
    while (self->strs[i]) {
        if (self->str_hashes[i] == h && wes_str_eq (self->strs[i], s)) {
            return self->strs[i];
        }
        i = (i + 1) & mask;
    }
    size_t len = strlen (s);
    char *block = wes_arena_alloc_bytes (self->arena, len + 2);
    block[0] = S_TAG_ARENA;
    memcpy (block + 1, s, len + 1);
    self->strs[i] = block + 1;
    self->str_hashes[i] = h;
    self->n_strs++;
    return block + 1;
}

bool
wes_model_str_eq (const char *a, const char *b)
{
    if (a == b) {
        return true;
    }
    //  Two shared copies are one string only at one address
    if ((unsigned char) a[-1] == S_TAG_ARENA && (unsigned char) b[-1] == S_TAG_ARENA) {
        return false;
    }
    //  Names, mostly short, mostly different early: no call
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

/*  Frees s when wes_model_set_str allocated it (the arena keeps the rest). */
static void
s_str_release (char *s)
{
    if (s && (unsigned char)s[-1] == S_TAG_HEAP) {
        free (s - 1);
    }
}

static void
s_strv_free (char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        s_str_release (v[i]);
    }
}

static void
s_strv_push (wes_model_t *self, char ***v, size_t *n, const char *s)
{
    *v = s_grow (self, *v, *n, sizeof (char *));
    (*v)[(*n)++] = s_intern (self, s);
}

static void
s_enum_free (wes_enum_t *e)
{
    s_str_release (e->name);
    s_strv_free (e->values, e->n_values);
    s_str_release (e->gql_name);
}

static void
s_table_free (wes_table_t *t)
{
    for (size_t i = 0; i < t->n_columns; i++) {
        wes_column_t *c = t->columns[i];
        s_str_release (c->name);
        s_str_release (c->type);
        s_str_release (c->default_expr);
        s_str_release (c->gql_name);
        s_str_release (c->gql_type);
        s_str_release (c->enum_name);
        s_str_release (c->renamed_from);
        s_str_release (c->directives);
    }
    for (size_t i = 0; i < t->n_constraints; i++) {
        wes_constraint_t *c = t->constraints[i];
        s_str_release (c->name);
        s_strv_free (c->columns, c->n_columns);
        s_str_release (c->ref_table);
        s_strv_free (c->ref_columns, c->n_ref_columns);
        s_str_release (c->check_expr);
    }
    for (size_t i = 0; i < t->n_indexes; i++) {
        wes_index_t *ix = t->indexes[i];
        s_str_release (ix->name);
        s_strv_free (ix->columns, ix->n_columns);
        s_str_release (ix->method);
        s_str_release (ix->where);
    }
    for (size_t i = 0; i < t->n_policies; i++) {
        wes_policy_t *p = t->policies[i];
        s_str_release (p->name);
        s_strv_free (p->roles, p->n_roles);
        s_str_release (p->using_expr);
        s_str_release (p->check_expr);
    }
    s_str_release (t->name);
    s_str_release (t->gql_name);
    s_str_release (t->renamed_from);
    s_str_release (t->tenant_column);
    s_str_release (t->directives);
    json_decref (t->relations);
}

static json_t *
s_strv_json (char *const *v, size_t n)
{
    json_t *a = json_array ();
    wes_assert (a);
    for (size_t i = 0; i < n; i++) {
        json_array_append_new (a, wes_json_string_lossy (v[i]));
    }
    return a;
}

static json_t *
s_str_or_null (const char *s)
{
    return s ? wes_json_string_lossy (s) : json_null ();
}

static const char *
s_con_kind_name (wes_con_kind_t k)
{
    switch (k) {
    case WES_CON_PRIMARY:
        return "primary";
    case WES_CON_UNIQUE:
        return "unique";
    case WES_CON_FOREIGN:
        return "foreign";
    case WES_CON_CHECK:
    default:
        return "check";
    }
}

/*  Database-visible facts of one table. */
static json_t *
s_table_json (const wes_table_t *t)
{
    json_t *jt = json_object ();
    json_t *cols = json_array ();
    json_t *cons = json_array ();
    json_t *idxs = json_array ();
    json_t *pols = json_array ();
    wes_assert (jt && cols && cons && idxs && pols);
    for (size_t i = 0; i < t->n_columns; i++) {
        const wes_column_t *c = t->columns[i];
        json_t *jc = json_object ();
        wes_assert (jc);
        json_object_set_new (jc, "name", wes_json_string_lossy (c->name));
        json_object_set_new (jc, "type", wes_json_string_lossy (c->type));
        json_object_set_new (jc, "not_null", json_boolean (c->not_null));
        json_object_set_new (jc, "default", s_str_or_null (c->default_expr));
        json_array_append_new (cols, jc);
    }
    for (size_t i = 0; i < t->n_constraints; i++) {
        const wes_constraint_t *c = t->constraints[i];
        json_t *jc = json_object ();
        wes_assert (jc);
        json_object_set_new (jc, "kind", json_string (s_con_kind_name (c->kind)));
        json_object_set_new (jc, "name", wes_json_string_lossy (c->name));
        json_object_set_new (jc, "columns", s_strv_json (c->columns, c->n_columns));
        if (c->kind == WES_CON_FOREIGN) {
            json_object_set_new (jc, "ref_table", s_str_or_null (c->ref_table));
            json_object_set_new (jc, "ref_columns", s_strv_json (c->ref_columns, c->n_ref_columns));
            json_object_set_new (jc, "on_delete", json_string (wes_fk_action_sql (c->on_delete)));
            json_object_set_new (jc, "on_update", json_string (wes_fk_action_sql (c->on_update)));
        }
        if (c->kind == WES_CON_CHECK) {
            json_object_set_new (jc, "expr", s_str_or_null (c->check_expr));
        }
        json_array_append_new (cons, jc);
    }
    for (size_t i = 0; i < t->n_indexes; i++) {
        const wes_index_t *ix = t->indexes[i];
        json_t *ji = json_object ();
        wes_assert (ji);
        json_object_set_new (ji, "name", wes_json_string_lossy (ix->name));
        json_object_set_new (ji, "columns", s_strv_json (ix->columns, ix->n_columns));
        json_object_set_new (ji, "method",
                             wes_json_string_lossy (ix->method ? ix->method : "btree"));
        json_object_set_new (ji, "unique", json_boolean (ix->unique));
        json_object_set_new (ji, "where", s_str_or_null (ix->where));
        json_array_append_new (idxs, ji);
    }
    for (size_t i = 0; i < t->n_policies; i++) {
        const wes_policy_t *p = t->policies[i];
        json_t *jp = json_object ();
        wes_assert (jp);
        json_object_set_new (jp, "name", wes_json_string_lossy (p->name));
        json_object_set_new (jp, "cmd", json_string (wes_policy_cmd_sql (p->cmd)));
        json_object_set_new (jp, "permissive", json_boolean (p->permissive));
        json_object_set_new (jp, "roles", s_strv_json (p->roles, p->n_roles));
        json_object_set_new (jp, "using", s_str_or_null (p->using_expr));
        json_object_set_new (jp, "check", s_str_or_null (p->check_expr));
        json_array_append_new (pols, jp);
    }
    json_object_set_new (jt, "name", wes_json_string_lossy (t->name));
    json_object_set_new (jt, "columns", cols);
    json_object_set_new (jt, "constraints", cons);
    json_object_set_new (jt, "indexes", idxs);
    json_object_set_new (jt, "rls", json_boolean (t->rls_enabled));
    json_object_set_new (jt, "policies", pols);
    return jt;
}

/*  GraphQL-side facts of one table (schema.json "meta"). */
static json_t *
s_table_meta_json (const wes_table_t *t)
{
    json_t *jt = json_object ();
    json_t *cols = json_object ();
    wes_assert (jt && cols);
    for (size_t i = 0; i < t->n_columns; i++) {
        const wes_column_t *c = t->columns[i];
        json_t *jc = json_object ();
        wes_assert (jc);
        json_object_set_new (jc, "gql_name", s_str_or_null (c->gql_name));
        json_object_set_new (jc, "gql_type", s_str_or_null (c->gql_type));
        json_object_set_new (jc, "enum", s_str_or_null (c->enum_name));
        json_object_set_new (jc, "renamed_from", s_str_or_null (c->renamed_from));
        json_object_set_new (jc, "directives", wes_model_directives_json (c->directives));
        json_object_set_new (jc, "ordinal", json_integer (c->ordinal));
        json_object_set_new (cols, c->name, jc);
    }
    json_object_set_new (jt, "gql_name", s_str_or_null (t->gql_name));
    json_object_set_new (jt, "renamed_from", s_str_or_null (t->renamed_from));
    json_object_set_new (jt, "tenant_column", s_str_or_null (t->tenant_column));
    json_object_set_new (jt, "directives", wes_model_directives_json (t->directives));
    json_object_set_new (jt, "relations",
                         t->relations ? json_deep_copy (t->relations) : json_array ());
    json_object_set_new (jt, "columns", cols);
    return jt;
}

static void
s_write_strv (wes_jsonw_t *w, char *const *v, size_t n)
{
    wes_jsonw_array_begin (w);
    for (size_t i = 0; i < n; i++) {
        wes_jsonw_string_stable (w, v[i]);
    }
    wes_jsonw_array_end (w);
}

/*  The canonical form up to its tables, {"enums":[...],"format":..,"tables":[
    (the writer is left inside the tables array). */
static void
s_write_canonical_head (const wes_model_t *self, wes_jsonw_t *w)
{
    wes_jsonw_object_begin (w);
    wes_jsonw_key_stable (w, "enums");
    wes_jsonw_array_begin (w);
    for (size_t i = 0; i < self->n_enums; i++) {
        const wes_enum_t *e = self->enums[i];
        wes_jsonw_object_begin (w);
        wes_jsonw_key_stable (w, "name");
        wes_jsonw_string_stable (w, e->name);
        wes_jsonw_key_stable (w, "values");
        s_write_strv (w, e->values, e->n_values);
        wes_jsonw_object_end (w);
    }
    wes_jsonw_array_end (w);
    wes_jsonw_key_stable (w, "format");
    wes_jsonw_string_stable (w, "wesley-model/1");
    wes_jsonw_key_stable (w, "tables");
    wes_jsonw_array_begin (w);
}

/*  One table of the canonical form: its object. */

static void
s_raw_strv (wes_jsonw_t *w, char *const *v, size_t n)
{
    S_RAW (w, "[");
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            S_RAW (w, ",");
        }
        wes_jsonw_raw_string (w, v[i]);
    }
    S_RAW (w, "]");
}

static void
s_raw_bool (wes_jsonw_t *w, bool b)
{
    if (b) {
        S_RAW (w, "true");
    }
    else {
        S_RAW (w, "false");
    }
}

/*  One table's canonical object, compact, keys sorted: written by hand,
    byte for byte what the writer's object, key and string calls give
    (test_jsonw checks it against jansson's dump of the same model). */
static void
s_write_canonical_table (wes_jsonw_t *w, const wes_table_t *t)
{
    wes_jsonw_value_begin (w);
    S_RAW (w, "{\"columns\":[");
    for (size_t j = 0; j < t->n_columns; j++) {
        const wes_column_t *c = t->columns[j];
        if (j > 0) {
            S_RAW (w, ",");
        }
        S_RAW (w, "{\"default\":");
        wes_jsonw_raw_string (w, c->default_expr);
        S_RAW (w, ",\"name\":");
        wes_jsonw_raw_string (w, c->name);
        S_RAW (w, ",\"not_null\":");
        s_raw_bool (w, c->not_null);
        S_RAW (w, ",\"type\":");
        wes_jsonw_raw_string (w, c->type);
        S_RAW (w, "}");
    }
    S_RAW (w, "],\"constraints\":[");
    for (size_t j = 0; j < t->n_constraints; j++) {
        const wes_constraint_t *c = t->constraints[j];
        if (j > 0) {
            S_RAW (w, ",");
        }
        S_RAW (w, "{\"columns\":");
        s_raw_strv (w, c->columns, c->n_columns);
        if (c->kind == WES_CON_CHECK) {
            S_RAW (w, ",\"expr\":");
            wes_jsonw_raw_string (w, c->check_expr);
        }
        S_RAW (w, ",\"kind\":");
        wes_jsonw_raw_string (w, s_con_kind_name (c->kind));
        S_RAW (w, ",\"name\":");
        wes_jsonw_raw_string (w, c->name);
        if (c->kind == WES_CON_FOREIGN) {
            S_RAW (w, ",\"on_delete\":");
            wes_jsonw_raw_string (w, wes_fk_action_sql (c->on_delete));
            S_RAW (w, ",\"on_update\":");
            wes_jsonw_raw_string (w, wes_fk_action_sql (c->on_update));
            S_RAW (w, ",\"ref_columns\":");
            s_raw_strv (w, c->ref_columns, c->n_ref_columns);
            S_RAW (w, ",\"ref_table\":");
            wes_jsonw_raw_string (w, c->ref_table);
        }
        S_RAW (w, "}");
    }
    S_RAW (w, "],\"indexes\":[");
    for (size_t j = 0; j < t->n_indexes; j++) {
        const wes_index_t *ix = t->indexes[j];
        if (j > 0) {
            S_RAW (w, ",");
        }
        S_RAW (w, "{\"columns\":");
        s_raw_strv (w, ix->columns, ix->n_columns);
        S_RAW (w, ",\"method\":");
        wes_jsonw_raw_string (w, ix->method ? ix->method : "btree");
        S_RAW (w, ",\"name\":");
        wes_jsonw_raw_string (w, ix->name);
        S_RAW (w, ",\"unique\":");
        s_raw_bool (w, ix->unique);
        S_RAW (w, ",\"where\":");
        wes_jsonw_raw_string (w, ix->where);
        S_RAW (w, "}");
    }
    S_RAW (w, "],\"name\":");
    wes_jsonw_raw_string (w, t->name);
    S_RAW (w, ",\"policies\":[");
    for (size_t j = 0; j < t->n_policies; j++) {
        const wes_policy_t *p = t->policies[j];
        if (j > 0) {
            S_RAW (w, ",");
        }
        S_RAW (w, "{\"check\":");
        wes_jsonw_raw_string (w, p->check_expr);
        S_RAW (w, ",\"cmd\":");
        wes_jsonw_raw_string (w, wes_policy_cmd_sql (p->cmd));
        S_RAW (w, ",\"name\":");
        wes_jsonw_raw_string (w, p->name);
        S_RAW (w, ",\"permissive\":");
        s_raw_bool (w, p->permissive);
        S_RAW (w, ",\"roles\":");
        s_raw_strv (w, p->roles, p->n_roles);
        S_RAW (w, ",\"using\":");
        wes_jsonw_raw_string (w, p->using_expr);
        S_RAW (w, "}");
    }
    S_RAW (w, "],\"rls\":");
    s_raw_bool (w, t->rls_enabled);
    S_RAW (w, "}");
}

/*  The canonical form, key for key as wes_model_to_canonical_json builds
    it and jansson sorts it. */
static void
s_write_canonical (const wes_model_t *self, wes_jsonw_t *w)
{
    s_write_canonical_head (self, w);
    for (size_t i = 0; i < self->n_tables; i++) {
        s_write_canonical_table (w, self->tables[i]);
    }
    wes_jsonw_array_end (w);
    wes_jsonw_object_end (w);
}

static int
s_cmp_table (const void *a, const void *b)
{
    return wes_str_cmp ((*(wes_table_t *const *)a)->name, (*(wes_table_t *const *)b)->name);
}

static int
s_cmp_enum (const void *a, const void *b)
{
    return wes_str_cmp ((*(wes_enum_t *const *)a)->name, (*(wes_enum_t *const *)b)->name);
}

static int
s_cmp_column (const void *a, const void *b)
{
    return wes_str_cmp ((*(wes_column_t *const *)a)->name, (*(wes_column_t *const *)b)->name);
}

static int
s_cmp_column_declared (const void *a, const void *b)
{
    const wes_column_t *ca = *(wes_column_t *const *)a;
    const wes_column_t *cb = *(wes_column_t *const *)b;
    if (ca->ordinal != cb->ordinal) {
        return ca->ordinal < cb->ordinal ? -1 : 1;
    }
    return wes_str_cmp (ca->name ? ca->name : "", cb->name ? cb->name : "");
}

void
wes_table_columns_declared (const wes_table_t *t, wes_column_t **out)
{
    wes_assert (t && (out || t->n_columns == 0));
    size_t n = t->n_columns;
    memset (out, 0, n * sizeof *out);
    bool placed = true;
    for (size_t i = 0; i < n && placed; i++) {
        int o = t->columns[i]->ordinal;
        placed = o >= 0 && (size_t)o < n && !out[o];
        if (placed) {
            out[o] = t->columns[i];
        }
    }
    if (!placed) {
        memcpy (out, t->columns, n * sizeof *out);
        qsort (out, n, sizeof *out, s_cmp_column_declared);
    }
}

static int
s_cmp_constraint (const void *a, const void *b)
{
    return wes_str_cmp ((*(wes_constraint_t *const *)a)->name, (*(wes_constraint_t *const *)b)->name);
}

static int
s_cmp_index (const void *a, const void *b)
{
    return wes_str_cmp ((*(wes_index_t *const *)a)->name, (*(wes_index_t *const *)b)->name);
}

static int
s_cmp_policy (const void *a, const void *b)
{
    return wes_str_cmp ((*(wes_policy_t *const *)a)->name, (*(wes_policy_t *const *)b)->name);
}

static int
s_cmp_str (const void *a, const void *b)
{
    return wes_str_cmp (*(char *const *)a, *(char *const *)b);
}

//  Appends to out (size bytes, *len used) what json_dumps (v, JSON_COMPACT |
//  JSON_SORT_KEYS) gives, leaving room for a NUL. False (out unspecified)
//  for what this leaves to jansson: reals, strings other than printable
//  ASCII without '"' and '\\', objects of many members, or no room
static bool
s_put_plain (char *out, size_t size, size_t *len, const char *data, size_t n)
{
    if (*len + n + 1 > size) {
        return false;
    }
    memcpy (out + *len, data, n);
    *len += n;
    return true;
}

static bool
s_put_plain_string (char *out, size_t size, size_t *len, const char *s)
{
    size_t n = 0;
    for (unsigned char c; (c = (unsigned char)s[n]) != '\0'; n++) {
        if (c < 0x20 || c > 0x7E || c == '"' || c == '\\') {
            return false;
        }
    }
    return s_put_plain (out, size, len, "\"", 1) && s_put_plain (out, size, len, s, n)
           && s_put_plain (out, size, len, "\"", 1);
}

static bool
s_dump_plain (const json_t *v, char *out, size_t size, size_t *len)
{
    switch (json_typeof (v)) {
    case JSON_OBJECT: {
        size_t n = json_object_size (v);
        if (n > S_PLAIN_MEMBERS) {
            return false;
        }
        const char *keys[S_PLAIN_MEMBERS];
        size_t k = 0;
        const char *key;
        json_t *member;
        json_object_foreach ((json_t *)v, key, member)
        {
            wes_assert (k < n);
            keys[k++] = key;
        }
        qsort (keys, k, sizeof keys[0], s_cmp_str);
        if (!s_put_plain (out, size, len, "{", 1)) {
            return false;
        }
        for (size_t i = 0; i < k; i++) {
            if ((i > 0 && !s_put_plain (out, size, len, ",", 1))
                || !s_put_plain_string (out, size, len, keys[i])
                || !s_put_plain (out, size, len, ":", 1)
                || !s_dump_plain (json_object_get (v, keys[i]), out, size, len)) {
                return false;
            }
        }
        return s_put_plain (out, size, len, "}", 1);
    }
    case JSON_ARRAY: {
        if (!s_put_plain (out, size, len, "[", 1)) {
            return false;
        }
        for (size_t i = 0; i < json_array_size (v); i++) {
            if ((i > 0 && !s_put_plain (out, size, len, ",", 1))
                || !s_dump_plain (json_array_get (v, i), out, size, len)) {
                return false;
            }
        }
        return s_put_plain (out, size, len, "]", 1);
    }
    case JSON_STRING:
        return s_put_plain_string (out, size, len, json_string_value (v));
    case JSON_INTEGER: {
        char num[32];
        int n = snprintf (num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value (v));
        return n > 0 && (size_t)n < sizeof num && s_put_plain (out, size, len, num, (size_t)n);
    }
    case JSON_TRUE:
        return s_put_plain (out, size, len, "true", 4);
    case JSON_FALSE:
        return s_put_plain (out, size, len, "false", 5);
    case JSON_NULL:
        return s_put_plain (out, size, len, "null", 4);
    case JSON_REAL:
    default:
        return false;
    }
}
