/*  wes_model.c — the schema model: records owned by the model, builders that
    refuse duplicate names, canonical ordering, and the canonical JSON form
    whose compact bytes are hashed (D014). */
#include "wes_model.h"

#include <stdlib.h>
#include <string.h>

#include "../util/wes_sha256.h"

struct wes_model {
    wes_table_t **tables; /* owned, in insertion order until canonicalized */
    size_t n_tables;      /* tables in use */
    wes_enum_t **enums;   /* owned */
    size_t n_enums;       /* enums in use */
    wes_table_t **index;  /* open-addressing hash of tables by name (borrowed) */
    size_t index_cap;     /* slots in index: a power of two, or 0 */
};

static void *s_grow (void *array, size_t count, size_t elem_size);
static void s_index_rebuild (wes_model_t *self);
static void s_index_insert (wes_model_t *self, wes_table_t *t);
static void s_strv_free (char **v, size_t n);
static void s_strv_push (char ***v, size_t *n, const char *s);
static void s_enum_free (wes_enum_t *e);
static void s_table_free (wes_table_t *t);
static json_t *s_strv_json (char *const *v, size_t n);
static json_t *s_str_or_null (const char *s);
static json_t *s_jstr (const char *s);
static json_t *s_table_json (const wes_table_t *t);
static json_t *s_table_meta_json (const wes_table_t *t);
static int s_cmp_table (const void *a, const void *b);
static int s_cmp_enum (const void *a, const void *b);
static int s_cmp_column (const void *a, const void *b);
static int s_cmp_constraint (const void *a, const void *b);
static int s_cmp_index (const void *a, const void *b);
static int s_cmp_policy (const void *a, const void *b);
static int s_cmp_str (const void *a, const void *b);

wes_model_t *
wes_model_new (void)
{
    return wes_new (wes_model_t);
}

void
wes_model_destroy (wes_model_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wes_model_t *self = *self_p;
    for (size_t i = 0; i < self->n_tables; i++) {
        s_table_free (self->tables[i]);
    }
    free (self->tables);
    for (size_t i = 0; i < self->n_enums; i++) {
        s_enum_free (self->enums[i]);
    }
    free (self->enums);
    free (self->index);
    free (self);
    *self_p = NULL;
}

wes_enum_t *
wes_model_add_enum (wes_model_t *self, const char *name)
{
    wes_assert (self && name);
    if (wes_model_find_enum (self, name)) {
        return NULL;
    }
    wes_enum_t *e = wes_new (wes_enum_t);
    e->name = wes_strdup (name);
    self->enums = s_grow (self->enums, self->n_enums, sizeof (wes_enum_t *));
    self->enums[self->n_enums++] = e;
    return e;
}

void
wes_enum_add_value (wes_enum_t *e, const char *value)
{
    wes_assert (e && value);
    s_strv_push (&e->values, &e->n_values, value);
}

wes_table_t *
wes_model_add_table (wes_model_t *self, const char *name)
{
    wes_assert (self && name);
    if (wes_model_find_table (self, name)) {
        return NULL;
    }
    wes_table_t *t = wes_new (wes_table_t);
    t->name = wes_strdup (name);
    t->directives = json_object ();
    t->relations = json_array ();
    wes_assert (t->directives && t->relations);
    self->tables = s_grow (self->tables, self->n_tables, sizeof (wes_table_t *));
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
    if (wes_table_find_column (t, name)) {
        return NULL;
    }
    wes_column_t *c = wes_new (wes_column_t);
    c->name = wes_strdup (name);
    c->type = wes_strdup (type);
    c->ordinal = (int)t->n_columns;
    c->directives = json_object ();
    wes_assert (c->directives);
    t->columns = s_grow (t->columns, t->n_columns, sizeof (wes_column_t *));
    t->columns[t->n_columns++] = c;
    return c;
}

wes_constraint_t *
wes_table_add_constraint (wes_table_t *t, wes_con_kind_t kind, const char *name)
{
    wes_assert (t && name);
    for (size_t i = 0; i < t->n_constraints; i++) {
        if (strcmp (t->constraints[i]->name, name) == 0) {
            return NULL;
        }
    }
    if (kind == WES_CON_PRIMARY && wes_table_primary_key (t)) {
        return NULL;
    }
    wes_constraint_t *c = wes_new (wes_constraint_t);
    c->kind = kind;
    c->name = wes_strdup (name);
    c->on_delete = WES_FK_NO_ACTION;
    c->on_update = WES_FK_NO_ACTION;
    t->constraints = s_grow (t->constraints, t->n_constraints, sizeof (wes_constraint_t *));
    t->constraints[t->n_constraints++] = c;
    return c;
}

void
wes_constraint_add_column (wes_constraint_t *c, const char *column)
{
    wes_assert (c && column);
    s_strv_push (&c->columns, &c->n_columns, column);
}

void
wes_constraint_add_ref_column (wes_constraint_t *c, const char *column)
{
    wes_assert (c && column);
    s_strv_push (&c->ref_columns, &c->n_ref_columns, column);
}

wes_index_t *
wes_table_add_index (wes_table_t *t, const char *name)
{
    wes_assert (t && name);
    for (size_t i = 0; i < t->n_indexes; i++) {
        if (strcmp (t->indexes[i]->name, name) == 0) {
            return NULL;
        }
    }
    wes_index_t *ix = wes_new (wes_index_t);
    ix->name = wes_strdup (name);
    ix->method = wes_strdup ("btree");
    t->indexes = s_grow (t->indexes, t->n_indexes, sizeof (wes_index_t *));
    t->indexes[t->n_indexes++] = ix;
    return ix;
}

void
wes_index_add_column (wes_index_t *ix, const char *column)
{
    wes_assert (ix && column);
    s_strv_push (&ix->columns, &ix->n_columns, column);
}

wes_policy_t *
wes_table_add_policy (wes_table_t *t, const char *name, wes_policy_cmd_t cmd)
{
    wes_assert (t && name);
    for (size_t i = 0; i < t->n_policies; i++) {
        if (strcmp (t->policies[i]->name, name) == 0) {
            return NULL;
        }
    }
    wes_policy_t *p = wes_new (wes_policy_t);
    p->name = wes_strdup (name);
    p->cmd = cmd;
    p->permissive = true;
    t->policies = s_grow (t->policies, t->n_policies, sizeof (wes_policy_t *));
    t->policies[t->n_policies++] = p;
    return p;
}

void
wes_policy_add_role (wes_policy_t *p, const char *role)
{
    wes_assert (p && role);
    s_strv_push (&p->roles, &p->n_roles, role);
}

void
wes_model_set_str (char **field, const char *value)
{
    wes_assert (field);
    char *copy = wes_strdup (value);
    free (*field);
    *field = copy;
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
        if (strcmp (self->index[i]->name, name) == 0) {
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
    if (!self || !name) {
        return NULL;
    }
    for (size_t i = 0; i < self->n_enums; i++) {
        if (strcmp (self->enums[i]->name, name) == 0) {
            return self->enums[i];
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
        if (strcmp (t->columns[i]->name, name) == 0) {
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
    if (self->n_tables > 1) {
        qsort (self->tables, self->n_tables, sizeof (wes_table_t *), s_cmp_table);
    }
    if (self->n_enums > 1) {
        qsort (self->enums, self->n_enums, sizeof (wes_enum_t *), s_cmp_enum);
    }
    for (size_t i = 0; i < self->n_tables; i++) {
        wes_table_t *t = self->tables[i];
        if (t->n_columns > 1) {
            qsort (t->columns, t->n_columns, sizeof (wes_column_t *), s_cmp_column);
        }
        if (t->n_constraints > 1) {
            qsort (t->constraints, t->n_constraints, sizeof (wes_constraint_t *), s_cmp_constraint);
        }
        if (t->n_indexes > 1) {
            qsort (t->indexes, t->n_indexes, sizeof (wes_index_t *), s_cmp_index);
        }
        if (t->n_policies > 1) {
            qsort (t->policies, t->n_policies, sizeof (wes_policy_t *), s_cmp_policy);
        }
        for (size_t j = 0; j < t->n_policies; j++) {
            wes_policy_t *p = t->policies[j];
            if (p->n_roles > 1) {
                qsort (p->roles, p->n_roles, sizeof (char *), s_cmp_str);
            }
        }
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
        json_object_set_new (je, "name", s_jstr (e->name));
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

char *
wes_model_canonical_bytes (const wes_model_t *self, size_t *len_out)
{
    json_t *canonical = wes_model_to_canonical_json (self);
    char *bytes = json_dumps (canonical, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref (canonical);
    wes_assert (bytes);
    /*  jansson allocates with malloc by default; hand back our own copy so
        the caller frees with free() whatever jansson's allocator is. */
    char *copy = wes_strdup (bytes);
    free (bytes);
    if (len_out) {
        *len_out = strlen (copy);
    }
    return copy;
}

void
wes_model_hash (const wes_model_t *self, char hex_out[65])
{
    size_t len = 0;
    char *bytes = wes_model_canonical_bytes (self, &len);
    wes_sha256_hex (bytes, len, hex_out);
    free (bytes);
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

/*  Makes room for one more element: the capacity is the next power of two
    at or above count, so growing happens only when count is 0 or a power
    of two. */
static void *
s_grow (void *array, size_t count, size_t elem_size)
{
    if (count == 0) {
        return wes_realloc (array, elem_size);
    }
    if ((count & (count - 1)) == 0) {
        wes_assert (count <= SIZE_MAX / 2 / elem_size);
        return wes_realloc (array, count * 2 * elem_size);
    }
    return array;
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

static void
s_index_rebuild (wes_model_t *self)
{
    size_t cap = 16;
    while (self->n_tables * 10 > cap * 7) {
        cap *= 2;
    }
    free (self->index);
    self->index = wes_alloc (cap * sizeof (wes_table_t *));
    self->index_cap = cap;
    for (size_t i = 0; i < self->n_tables; i++) {
        s_index_insert (self, self->tables[i]);
    }
}

static void
s_strv_free (char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free (v[i]);
    }
    free (v);
}

static void
s_strv_push (char ***v, size_t *n, const char *s)
{
    *v = s_grow (*v, *n, sizeof (char *));
    (*v)[(*n)++] = wes_strdup (s);
}

static void
s_enum_free (wes_enum_t *e)
{
    free (e->name);
    s_strv_free (e->values, e->n_values);
    free (e->gql_name);
    free (e);
}

static void
s_table_free (wes_table_t *t)
{
    for (size_t i = 0; i < t->n_columns; i++) {
        wes_column_t *c = t->columns[i];
        free (c->name);
        free (c->type);
        free (c->default_expr);
        free (c->gql_name);
        free (c->gql_type);
        free (c->enum_name);
        free (c->renamed_from);
        json_decref (c->directives);
        free (c);
    }
    free (t->columns);
    for (size_t i = 0; i < t->n_constraints; i++) {
        wes_constraint_t *c = t->constraints[i];
        free (c->name);
        s_strv_free (c->columns, c->n_columns);
        free (c->ref_table);
        s_strv_free (c->ref_columns, c->n_ref_columns);
        free (c->check_expr);
        free (c);
    }
    free (t->constraints);
    for (size_t i = 0; i < t->n_indexes; i++) {
        wes_index_t *ix = t->indexes[i];
        free (ix->name);
        s_strv_free (ix->columns, ix->n_columns);
        free (ix->method);
        free (ix->where);
        free (ix);
    }
    free (t->indexes);
    for (size_t i = 0; i < t->n_policies; i++) {
        wes_policy_t *p = t->policies[i];
        free (p->name);
        s_strv_free (p->roles, p->n_roles);
        free (p->using_expr);
        free (p->check_expr);
        free (p);
    }
    free (t->policies);
    free (t->name);
    free (t->gql_name);
    free (t->renamed_from);
    free (t->tenant_column);
    json_decref (t->directives);
    json_decref (t->relations);
    free (t);
}

static json_t *
s_strv_json (char *const *v, size_t n)
{
    json_t *a = json_array ();
    wes_assert (a);
    for (size_t i = 0; i < n; i++) {
        json_array_append_new (a, s_jstr (v[i]));
    }
    return a;
}

static json_t *
s_str_or_null (const char *s)
{
    return s ? s_jstr (s) : json_null ();
}

/*  A JSON string for model text. jansson refuses invalid UTF-8 (and would
    then drop the member silently); such bytes become U+FFFD instead, so
    every fact stays in the canonical form. */
static json_t *
s_jstr (const char *s)
{
    json_t *j = json_string (s);
    if (j) {
        return j;
    }
    size_t len = strlen (s);
    char *out = wes_alloc (len * 3 + 1);
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t need = *p < 0x80           ? 1
                      : (*p >> 5) == 0x6  ? 2
                      : (*p >> 4) == 0xE  ? 3
                      : (*p >> 3) == 0x1E ? 4
                                          : 0;
        bool ok = need > 0;
        for (size_t k = 1; ok && k < need; k++) {
            ok = (p[k] & 0xC0) == 0x80;
        }
        if (ok) {
            json_t *probe = json_stringn ((const char *)p, need);
            ok = probe != NULL;
            json_decref (probe);
        }
        if (ok) {
            memcpy (out + n, p, need);
            n += need;
            p += need;
        }
        else {
            memcpy (out + n, "\xEF\xBF\xBD", 3);
            n += 3;
            p++;
        }
    }
    j = json_stringn (out, n);
    free (out);
    wes_assert (j);
    return j;
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
        json_object_set_new (jc, "name", s_jstr (c->name));
        json_object_set_new (jc, "type", s_jstr (c->type));
        json_object_set_new (jc, "not_null", json_boolean (c->not_null));
        json_object_set_new (jc, "default", s_str_or_null (c->default_expr));
        json_array_append_new (cols, jc);
    }
    for (size_t i = 0; i < t->n_constraints; i++) {
        const wes_constraint_t *c = t->constraints[i];
        json_t *jc = json_object ();
        wes_assert (jc);
        json_object_set_new (jc, "kind", json_string (s_con_kind_name (c->kind)));
        json_object_set_new (jc, "name", s_jstr (c->name));
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
        json_object_set_new (ji, "name", s_jstr (ix->name));
        json_object_set_new (ji, "columns", s_strv_json (ix->columns, ix->n_columns));
        json_object_set_new (ji, "method", s_jstr (ix->method ? ix->method : "btree"));
        json_object_set_new (ji, "unique", json_boolean (ix->unique));
        json_object_set_new (ji, "where", s_str_or_null (ix->where));
        json_array_append_new (idxs, ji);
    }
    for (size_t i = 0; i < t->n_policies; i++) {
        const wes_policy_t *p = t->policies[i];
        json_t *jp = json_object ();
        wes_assert (jp);
        json_object_set_new (jp, "name", s_jstr (p->name));
        json_object_set_new (jp, "cmd", json_string (wes_policy_cmd_sql (p->cmd)));
        json_object_set_new (jp, "permissive", json_boolean (p->permissive));
        json_object_set_new (jp, "roles", s_strv_json (p->roles, p->n_roles));
        json_object_set_new (jp, "using", s_str_or_null (p->using_expr));
        json_object_set_new (jp, "check", s_str_or_null (p->check_expr));
        json_array_append_new (pols, jp);
    }
    json_object_set_new (jt, "name", s_jstr (t->name));
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
        json_object_set_new (jc, "directives",
                             c->directives ? json_deep_copy (c->directives) : json_object ());
        json_object_set_new (jc, "ordinal", json_integer (c->ordinal));
        json_object_set_new (cols, c->name, jc);
    }
    json_object_set_new (jt, "gql_name", s_str_or_null (t->gql_name));
    json_object_set_new (jt, "renamed_from", s_str_or_null (t->renamed_from));
    json_object_set_new (jt, "tenant_column", s_str_or_null (t->tenant_column));
    json_object_set_new (jt, "directives",
                         t->directives ? json_deep_copy (t->directives) : json_object ());
    json_object_set_new (jt, "relations",
                         t->relations ? json_deep_copy (t->relations) : json_array ());
    json_object_set_new (jt, "columns", cols);
    return jt;
}

static int
s_cmp_table (const void *a, const void *b)
{
    return strcmp ((*(wes_table_t *const *)a)->name, (*(wes_table_t *const *)b)->name);
}

static int
s_cmp_enum (const void *a, const void *b)
{
    return strcmp ((*(wes_enum_t *const *)a)->name, (*(wes_enum_t *const *)b)->name);
}

static int
s_cmp_column (const void *a, const void *b)
{
    return strcmp ((*(wes_column_t *const *)a)->name, (*(wes_column_t *const *)b)->name);
}

static int
s_cmp_constraint (const void *a, const void *b)
{
    return strcmp ((*(wes_constraint_t *const *)a)->name, (*(wes_constraint_t *const *)b)->name);
}

static int
s_cmp_index (const void *a, const void *b)
{
    return strcmp ((*(wes_index_t *const *)a)->name, (*(wes_index_t *const *)b)->name);
}

static int
s_cmp_policy (const void *a, const void *b)
{
    return strcmp ((*(wes_policy_t *const *)a)->name, (*(wes_policy_t *const *)b)->name);
}

static int
s_cmp_str (const void *a, const void *b)
{
    return strcmp (*(char *const *)a, *(char *const *)b);
}
