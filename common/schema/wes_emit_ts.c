/*  wes_emit_ts.c — TypeScript types for consumers (D001): each enum as a
    string union plus a const array of its values, each table as a row
    interface and an insert interface, and a Tables map from table name to
    row type. Enums and tables in name order, columns in declaration order.
    The output type-checks under `tsc --strict`. */
#include "wes_emit_ts.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../util/wes_arena.h"
#include "../util/wes_buf.h"
#include "../util/wes_mem.h"
#include "../util/wes_str.h"

//  The TypeScript names of one emission: each enum's and table's type name,
//  unique among themselves, Json, Tables and the tables' ...Insert names.
typedef struct {
    wes_enum_t **enums;       /* sorted by SQL name */
    char **enum_names;        /* enums[i]'s type name, owned */
    size_t n_enums;
    const char **table_sql;   /* the tables' SQL names, sorted (borrowed) */
    const char **table_gql;   /* table_sql[i]'s GraphQL name, or NULL (borrowed) */
    char **table_names;       /* table_sql[i]'s row type name, owned */
    size_t n_tables;
    size_t *enum_slots;       /* hash of enums by SQL name: index + 1, 0 when free */
    size_t enum_cap;          /* slots: a power of two */
    char **type_keys;         /* cache of column types (owned copies) ... */
    const char **type_elems;  /* ... to their element TypeScript type */
    uint64_t *type_hashes;    /* ... and the keys' hashes */
    size_t type_cap;          /* slots: a power of two */
    size_t n_types;           /* slots in use */
} s_names_t;

//  A table's SQL and GraphQL names
typedef struct {
    const char *sql;
    const char *gql;
} s_pair_t;

//  A set of strings (open addressing): borrowed, or in its arena
typedef struct {
    const char **slots; /* NULL when free */
    size_t cap;         /* power of two */
    size_t count;       /* slots in use */
    wes_arena_t *own;   /* the strings it made itself */
} s_set_t;

static void s_names_init (s_names_t *names, const wes_model_t *model, size_t n_tables,
                          const char *const *sql, const char *const *gql);
static void s_names_free (s_names_t *names);
static const char *s_enum_ts_name (const s_names_t *names, const char *sql_name);
static size_t s_hash (const char *s);
static void s_types_free (s_names_t *names);
static const char *s_type_cache_get (const s_names_t *names, const char *type, uint64_t h);
static void s_type_cache_put (s_names_t *names, const char *type, uint64_t h, const char *elem);
static void s_put_elem (wes_buf_t *buf, const wes_column_t *c, const char *elem, size_t dims);
static int s_cmp_table (const void *a, const void *b);
static int s_cmp_pair (const void *a, const void *b);
static int s_cmp_enum (const void *a, const void *b);
static char *s_type_name (const char *gql_name, const char *sql_name);
static void s_put_enum (wes_buf_t *buf, const wes_enum_t *e, const char *name);
static void s_put_interfaces (wes_buf_t *buf, wes_ts_names_t *names, const wes_table_t *t,
                              const char *name);
static void s_put_ts_type (wes_buf_t *buf, const s_names_t *names, const wes_column_t *c);
static const char *s_scalar_ts (const char *base);
static void s_put_prop_name (wes_buf_t *buf, const char *name);
static void s_put_ts_string (wes_buf_t *buf, const char *s);
static void s_put_comment_text (wes_buf_t *buf, const char *text);
static bool s_is_ident (const char *s);

/*  Bytes gathered before they go to the callback. */
#define S_CHUNK_BYTES (64u * 1024u)

static int
s_to_buf (const char *data, size_t len, void *arg)
{
    wes_buf_append ((wes_buf_t *) arg, data, len);
    return 0;
}

//  Hands buf to cb when it holds a chunk (or when forced); false once cb failed
static bool
s_flush (wes_buf_t *buf, json_dump_callback_t cb, void *arg, bool force, bool ok)
{
    if (ok && wes_buf_len (buf) > 0 && (force || wes_buf_len (buf) >= S_CHUNK_BYTES)) {
        ok = cb (wes_buf_data (buf), wes_buf_len (buf), arg) == 0;
        wes_buf_reset (buf);
    }
    else if (!ok) {
        wes_buf_reset (buf);
    }
    return ok;
}

char *
wes_emit_ts (const wes_model_t *model)
{
    wes_assert (model);
    char hash[65];
    wes_model_hash (model, hash);
    wes_buf_t *all = wes_buf_new ();
    wes_assert (wes_emit_ts_write (model, hash, s_to_buf, all) == 0);
    char *text = wes_buf_steal (all);
    wes_buf_destroy (&all);
    return text;
}

struct wes_ts_names {
    s_names_t names;   /* every TypeScript name of the schema */
    bool shared;       /* names' lists are another wes_ts_names' (wes_ts_names_share) */
    wes_column_t **cols; /* one table's columns in declaration order (scratch) */
    wes_buf_t *lines;    /* one table's members, made once for both interfaces (scratch) */
    uint32_t *marks;     /* per column: where its name, its type, its end are in lines */
    size_t cols_cap;   /* entries in cols */
};

wes_ts_names_t *
wes_ts_names_new (const wes_model_t *enums, size_t n_tables, const char *const *sql_names,
                  const char *const *gql_names)
{
    wes_assert (enums && (n_tables == 0 || (sql_names && gql_names)));
    wes_ts_names_t *self = wes_new (wes_ts_names_t);
    s_names_init (&self->names, enums, n_tables, sql_names, gql_names);
    self->cols_cap = 16;
    self->cols = wes_alloc (self->cols_cap * sizeof *self->cols);
    self->marks = wes_alloc (3 * self->cols_cap * sizeof *self->marks);
    self->lines = wes_buf_new ();
    return self;
}

wes_ts_names_t *
wes_ts_names_share (const wes_ts_names_t *base)
{
    wes_assert (base && !base->shared);
    wes_ts_names_t *self = wes_new (wes_ts_names_t);
    self->names = base->names;
    self->names.type_keys = NULL; /* a cache of its own */
    self->names.type_elems = NULL;
    self->names.type_hashes = NULL;
    self->names.type_cap = 0;
    self->names.n_types = 0;
    self->shared = true;
    self->cols_cap = 16;
    self->cols = wes_alloc (self->cols_cap * sizeof *self->cols);
    self->marks = wes_alloc (3 * self->cols_cap * sizeof *self->marks);
    self->lines = wes_buf_new ();
    return self;
}

void
wes_ts_names_destroy (wes_ts_names_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wes_ts_names_t *self = *self_p;
    s_types_free (&self->names);
    if (!self->shared) {
        s_names_free (&self->names);
    }
    free (self->cols);
    free (self->marks);
    wes_buf_destroy (&self->lines);
    free (self);
    *self_p = NULL;
}

void
wes_emit_ts_head (wes_buf_t *out, const wes_ts_names_t *names, const char *hash)
{
    wes_assert (out && names && hash);
    wes_buf_lit (out, "// Generated by Wesley. Do not edit.\n");
    wes_buf_lit (out, "// schema hash: ");
    wes_buf_puts (out, hash);
    wes_buf_lit (out, "\n");
    wes_buf_puts (out,
                  "//\n"
                  "// Row types follow node-postgres's default parsing: bigint and numeric\n"
                  "// arrive as strings (a JavaScript number would lose precision), and\n"
                  "// timestamp, timestamptz and date values are typed as ISO 8601 strings.\n"
                  "\n"
                  "export type Json = string | number | boolean | null | Json[] | "
                  "{ [key: string]: Json };\n");
    for (size_t i = 0; i < names->names.n_enums; i++) {
        wes_buf_lit (out, "\n");
        s_put_enum (out, names->names.enums[i], names->names.enum_names[i]);
    }
}

static int
s_cmp_sql_name (const void *key, const void *item)
{
    return wes_str_cmp ((const char *) key, *(const char *const *) item);
}

void
wes_emit_ts_table (wes_buf_t *out, wes_ts_names_t *names, const wes_table_t *t)
{
    wes_assert (out && names && t);
    s_names_t *n = &names->names;
    const char **at = bsearch (t->name, n->table_sql, n->n_tables, sizeof *n->table_sql,
                               s_cmp_sql_name);
    wes_assert (at); /* every table was named by wes_ts_names_new */
    const char *name = n->table_names[at - n->table_sql];
    if (t->n_columns + 1 > names->cols_cap) {
        while (t->n_columns + 1 > names->cols_cap) {
            names->cols_cap *= 2;
        }
        names->cols = wes_realloc (names->cols, names->cols_cap * sizeof *names->cols);
        names->marks = wes_realloc (names->marks, 3 * names->cols_cap * sizeof *names->marks);
    }
    wes_table_columns_declared (t, names->cols);
    s_put_interfaces (out, names, t, name);
}


void
wes_emit_ts_tail (wes_buf_t *out, const wes_ts_names_t *names)
{
    wes_assert (out && names);
    const s_names_t *n = &names->names;
    wes_buf_lit (out, "\n/** Every table by its SQL name, with its row type. */\n");
    wes_buf_lit (out, "export interface Tables {");
    for (size_t i = 0; i < n->n_tables; i++) {
        wes_buf_lit (out, "\n    ");
        s_put_prop_name (out, n->table_sql[i]);
        wes_buf_lit (out, ": ");
        wes_buf_puts (out, n->table_names[i]);
        wes_buf_lit (out, ";");
    }
    wes_buf_puts (out, n->n_tables > 0 ? "\n}\n" : "}\n");
}

int
wes_emit_ts_write (const wes_model_t *model, const char *hash, json_dump_callback_t cb,
                   void *arg)
{
    wes_assert (model && cb);
    char own_hash[65];
    if (!hash) {
        wes_model_hash (model, own_hash);
        hash = own_hash;
    }
    size_t n_tables = wes_model_table_count (model);
    wes_table_t **tables = wes_alloc ((n_tables + 1) * sizeof *tables);
    const char **sql = wes_alloc ((n_tables + 1) * sizeof *sql);
    const char **gql = wes_alloc ((n_tables + 1) * sizeof *gql);
    for (size_t i = 0; i < n_tables; i++) {
        tables[i] = wes_model_table (model, i);
    }
    qsort (tables, n_tables, sizeof *tables, s_cmp_table);
    for (size_t i = 0; i < n_tables; i++) {
        sql[i] = tables[i]->name;
        gql[i] = tables[i]->gql_name;
    }
    wes_ts_names_t *names = wes_ts_names_new (model, n_tables, sql, gql);
    bool ok = true;
    wes_buf_t *buf = wes_buf_new ();
    wes_emit_ts_head (buf, names, hash);
    ok = s_flush (buf, cb, arg, false, ok);
    for (size_t i = 0; i < n_tables; i++) {
        wes_emit_ts_table (buf, names, tables[i]);
        ok = s_flush (buf, cb, arg, false, ok);
    }
    wes_emit_ts_tail (buf, names);
    ok = s_flush (buf, cb, arg, true, ok);
    wes_ts_names_destroy (&names);
    wes_buf_destroy (&buf);
    free (tables);
    free (sql);
    free (gql);
    return ok ? 0 : -1;
}

//  export type E = 'A' | 'B'; export const EValues = ['A', 'B'] as const;
static void
s_put_enum (wes_buf_t *buf, const wes_enum_t *e, const char *name)
{
    wes_buf_lit (buf, "/** PostgreSQL enum \"");
    s_put_comment_text (buf, e->name);
    wes_buf_lit (buf, "\". */\n");
    wes_buf_printf (buf, "export type %s =", name);
    if (e->n_values == 0) {
        wes_buf_lit (buf, " never");
    }
    for (size_t i = 0; i < e->n_values; i++) {
        wes_buf_puts (buf, i > 0 ? " | " : " ");
        s_put_ts_string (buf, e->values[i]);
    }
    wes_buf_printf (buf, ";\nexport const %sValues = [", name);
    for (size_t i = 0; i < e->n_values; i++) {
        if (i > 0) {
            wes_buf_lit (buf, ", ");
        }
        s_put_ts_string (buf, e->values[i]);
    }
    wes_buf_lit (buf, "] as const;\n");
}

//  The row interface, then the insert interface where columns with a
//  default, or nullable ones, are optional. Each member is made once
//  into names->lines, then copied into both.
static void
s_put_interfaces (wes_buf_t *buf, wes_ts_names_t *names, const wes_table_t *t, const char *name)
{
    wes_column_t **cols = names->cols;
    wes_buf_t *lines = names->lines;
    uint32_t *marks = names->marks;
    wes_buf_reset (lines);
    for (size_t i = 0; i < t->n_columns; i++) {
        const wes_column_t *c = cols[i];
        marks[3 * i] = (uint32_t) wes_buf_len (lines);
        s_put_prop_name (lines, c->name);
        marks[3 * i + 1] = (uint32_t) wes_buf_len (lines);
        wes_buf_lit (lines, ": ");
        s_put_ts_type (lines, &names->names, c);
        if (!c->not_null) {
            wes_buf_lit (lines, " | null");
        }
        wes_buf_lit (lines, ";");
        marks[3 * i + 2] = (uint32_t) wes_buf_len (lines);
    }
    const char *text = wes_buf_data (lines);
    for (int insert = 0; insert < 2; insert++) {
        wes_buf_lit (buf, "\n");
        if (insert) {
            wes_buf_lit (buf, "/** A row to insert into \"");
            s_put_comment_text (buf, t->name);
            wes_buf_lit (buf, "\": columns with a default, and nullable ones, may be left out. */\n");
            wes_buf_lit (buf, "export interface ");
            wes_buf_puts (buf, name);
            wes_buf_lit (buf, "Insert {");
        }
        else {
            wes_buf_lit (buf, "/** A row of table \"");
            s_put_comment_text (buf, t->name);
            wes_buf_lit (buf, "\". */\n");
            wes_buf_lit (buf, "export interface ");
            wes_buf_puts (buf, name);
            wes_buf_lit (buf, " {");
        }
        if (!insert) {
            //  The row interface is the members as made, each after an indent
            for (size_t i = 0; i < t->n_columns; i++) {
                wes_buf_lit (buf, "\n    ");
                wes_buf_append (buf, text + marks[3 * i], marks[3 * i + 2] - marks[3 * i]);
            }
        }
        else {
            for (size_t i = 0; i < t->n_columns; i++) {
                const wes_column_t *c = cols[i];
                wes_buf_lit (buf, "\n    ");
                if (c->default_expr || !c->not_null) {
                    wes_buf_append (buf, text + marks[3 * i], marks[3 * i + 1] - marks[3 * i]);
                    wes_buf_lit (buf, "?");
                    wes_buf_append (buf, text + marks[3 * i + 1],
                                    marks[3 * i + 2] - marks[3 * i + 1]);
                }
                else {
                    wes_buf_append (buf, text + marks[3 * i], marks[3 * i + 2] - marks[3 * i]);
                }
            }
        }
        wes_buf_puts (buf, t->n_columns > 0 ? "\n}\n" : "}\n");
    }
}

//  The TypeScript type of one column value (without the column's own null)
static void
s_put_ts_type (wes_buf_t *buf, const s_names_t *names, const wes_column_t *c)
{
    const char *type = c->type ? c->type : "";
    size_t len = strlen (type);
    size_t dims = 0;
    while (len >= 2 && strncmp (type + len - 2, "[]", 2) == 0) {
        len -= 2;
        dims++;
    }
    uint64_t th = c->type ? (uint64_t) s_hash (c->type) : 0;
    const char *cached = s_type_cache_get (names, c->type, th);
    if (cached) {
        s_put_elem (buf, c, cached, dims);
        return;
    }
    //  The base type without its modifiers: "character varying(64)" and
    //  "timestamp(3) with time zone" become "character varying" and
    //  "timestamp with time zone"; a quoted name loses its quotes.
    char small[128];
    char *base = len < sizeof small ? small : wes_alloc (len + 1);
    size_t n = 0;
    int depth = 0;
    bool quoted = false;
    for (size_t i = 0; i < len; i++) {
        char ch = type[i];
        if (ch == '"') {
            if (quoted && i + 1 < len && type[i + 1] == '"') {
                base[n++] = ch;
                i++;
            }
            else {
                quoted = !quoted;
            }
            continue;
        }
        if (!quoted && ch == '(') {
            depth++;
            continue;
        }
        if (!quoted && ch == ')') {
            depth--;
            continue;
        }
        if (depth > 0) {
            continue;
        }
        if (!quoted && ch == ' ' && (n == 0 || base[n - 1] == ' ')) {
            continue;
        }
        base[n++] = ch;
    }
    while (n > 0 && base[n - 1] == ' ') {
        n--;
    }
    base[n] = '\0';
    const char *elem = s_enum_ts_name (names, base);
    if (!elem) {
        elem = s_scalar_ts (base);
    }
    if (base != small) {
        free (base);
    }
    s_type_cache_put ((s_names_t *) names, c->type, th, elem);
    s_put_elem (buf, c, elem, dims);
}

//  The element type, with its null and array brackets
static void
s_put_elem (wes_buf_t *buf, const wes_column_t *c, const char *elem, size_t dims)
{
    if (dims == 0 || c->array_elem_not_null) {
        wes_buf_puts (buf, elem);
    }
    else {
        wes_buf_lit (buf, "(");
        wes_buf_puts (buf, elem);
        wes_buf_lit (buf, " | null)");
    }
    for (size_t i = 0; i < dims; i++) {
        wes_buf_lit (buf, "[]");
    }
}

//  A PostgreSQL scalar type (without modifiers) to its TypeScript type, as
//  node-postgres returns it by default.
static const char *
s_scalar_ts (const char *base)
{
    static const struct {
        const char *sql;
        const char *ts;
    } map[] = {
        {"uuid", "string"},
        {"text", "string"},
        {"character varying", "string"},
        {"varchar", "string"},
        {"character", "string"},
        {"char", "string"},
        {"bpchar", "string"},
        {"name", "string"},
        {"citext", "string"},
        {"inet", "string"},
        {"cidr", "string"},
        {"macaddr", "string"},
        {"macaddr8", "string"},
        {"interval", "string"},
        {"time", "string"},
        {"time without time zone", "string"},
        {"time with time zone", "string"},
        {"timetz", "string"},
        {"xml", "string"},
        {"money", "string"},
        {"tsvector", "string"},
        {"tsquery", "string"},
        {"bit", "string"},
        {"bit varying", "string"},
        {"varbit", "string"},
        {"integer", "number"},
        {"int", "number"},
        {"int4", "number"},
        {"smallint", "number"},
        {"int2", "number"},
        {"real", "number"},
        {"float4", "number"},
        {"double precision", "number"},
        {"float8", "number"},
        {"oid", "number"},
        {"bigint", "string"},
        {"int8", "string"},
        {"numeric", "string"},
        {"decimal", "string"},
        {"boolean", "boolean"},
        {"bool", "boolean"},
        {"timestamp", "string"},
        {"timestamp without time zone", "string"},
        {"timestamp with time zone", "string"},
        {"timestamptz", "string"},
        {"date", "string"},
        {"json", "Json"},
        {"jsonb", "Json"},
        {"bytea", "Uint8Array"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (wes_str_eq (base, map[i].sql)) {
            return map[i].ts;
        }
    }
    return "unknown";
}

static size_t
s_hash (const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char) *s;
        h *= 1099511628211ull;
    }
    return (size_t) h;
}

static bool
s_set_has (const s_set_t *set, const char *s)
{
    if (set->cap == 0) {
        return false;
    }
    for (size_t i = s_hash (s) & (set->cap - 1); set->slots[i]; i = (i + 1) & (set->cap - 1)) {
        if (wes_str_eq (set->slots[i], s)) {
            return true;
        }
    }
    return false;
}

//  A set with room for n strings
static void
s_set_init (s_set_t *set, size_t n)
{
    set->cap = 64;
    while (set->cap < n * 2) {
        set->cap *= 2;
    }
    set->slots = wes_alloc (set->cap * sizeof (char *));
    set->count = 0;
    set->own = wes_arena_new (0);
}

//  Adds s (borrowed: it outlives the set); there is room
static void
s_set_add (s_set_t *set, const char *s)
{
    wes_assert ((set->count + 1) * 2 <= set->cap);
    size_t i = s_hash (s) & (set->cap - 1);
    while (set->slots[i]) {
        i = (i + 1) & (set->cap - 1);
    }
    set->slots[i] = s;
    set->count++;
}

static void
s_set_free (s_set_t *set)
{
    free (set->slots);
    wes_arena_destroy (&set->own);
}

//  True when name is taken: Json, Tables, or a name handed out
static bool
s_name_taken (const s_set_t *taken, const char *name)
{
    return wes_str_eq (name, "Json") || wes_str_eq (name, "Tables") || s_set_has (taken, name);
}

//  want, or want2, want3, ... : the first that is free (with its "Insert"
//  twin free too when insert_twin). Caller frees.
static char *
s_free_name (const s_set_t *taken, const char *want, bool insert_twin)
{
    //  One buffer: want, a number, "Insert" (this runs for every table)
    size_t len = strlen (want);
    char *buf = wes_alloc (len + 16 + sizeof "Insert");
    memcpy (buf, want, len);
    for (unsigned k = 1;; k++) {
        size_t n = len;
        if (k > 1) {
            n += (size_t) snprintf (buf + len, 16, "%u", k);
        }
        buf[n] = '\0';
        bool taken_now = s_name_taken (taken, buf);
        if (!taken_now && insert_twin) {
            memcpy (buf + n, "Insert", sizeof "Insert");
            taken_now = s_name_taken (taken, buf);
            buf[n] = '\0';
        }
        if (!taken_now) {
            return wes_realloc (buf, n + 1); /* its own size: kept for the whole emit */
        }
    }
}

//  The names of the enums of model and of the tables (SQL and GraphQL
//  names, any order; the arrays are copied, the strings borrowed), given
//  in a fixed order (enums, then tables, each by SQL name), so the same
//  schema always gets the same names; a clash gets a number appended
static void
s_names_init (s_names_t *names, const wes_model_t *model, size_t n_tables,
              const char *const *sql, const char *const *gql)
{
    memset (names, 0, sizeof *names);
    names->n_enums = wes_model_enum_count (model);
    names->enums = wes_alloc ((names->n_enums + 1) * sizeof *names->enums);
    for (size_t i = 0; i < names->n_enums; i++) {
        names->enums[i] = wes_model_enum (model, i);
    }
    qsort (names->enums, names->n_enums, sizeof *names->enums, s_cmp_enum);
    names->n_tables = n_tables;
    s_pair_t *pairs = wes_alloc ((n_tables + 1) * sizeof *pairs);
    for (size_t i = 0; i < n_tables; i++) {
        pairs[i].sql = sql[i];
        pairs[i].gql = gql[i];
    }
    bool sorted = true; /* the usual case: then no sorting */
    for (size_t i = 1; i < n_tables && sorted; i++) {
        sorted = s_cmp_pair (&pairs[i - 1], &pairs[i]) < 0;
    }
    if (!sorted) {
        qsort (pairs, n_tables, sizeof *pairs, s_cmp_pair);
    }
    names->table_sql = wes_alloc ((n_tables + 1) * sizeof *names->table_sql);
    names->table_gql = wes_alloc ((n_tables + 1) * sizeof *names->table_gql);
    for (size_t i = 0; i < n_tables; i++) {
        names->table_sql[i] = pairs[i].sql;
        names->table_gql[i] = pairs[i].gql;
    }
    free (pairs);

    //  Enums by SQL name, for column types
    names->enum_cap = 16;
    while (names->enum_cap < names->n_enums * 2) {
        names->enum_cap *= 2;
    }
    names->enum_slots = wes_alloc (names->enum_cap * sizeof (size_t));
    for (size_t i = 0; i < names->n_enums; i++) {
        size_t j = s_hash (names->enums[i]->name ? names->enums[i]->name : "")
                   & (names->enum_cap - 1);
        while (names->enum_slots[j]) {
            j = (j + 1) & (names->enum_cap - 1);
        }
        names->enum_slots[j] = i + 1;
    }

    //  Every name handed out (a table takes two: X and XInsert)
    s_set_t taken;
    s_set_init (&taken, names->n_enums + 2 * names->n_tables);
    names->enum_names = wes_alloc ((names->n_enums + 1) * sizeof *names->enum_names);
    names->table_names = wes_alloc ((names->n_tables + 1) * sizeof *names->table_names);
    //  First the names each element asks for, so that an element that got
    //  its own name is never displaced by a later one's twin
    for (size_t i = 0; i < names->n_enums; i++) {
        const wes_enum_t *e = names->enums[i];
        char *want = s_type_name (e->gql_name, e->name);
        names->enum_names[i] = s_free_name (&taken, want, false);
        s_set_add (&taken, names->enum_names[i]);
        free (want);
    }
    for (size_t i = 0; i < names->n_tables; i++) {
        char *want = s_type_name (names->table_gql[i], names->table_sql[i]);
        names->table_names[i] = s_free_name (&taken, want, true);
        s_set_add (&taken, names->table_names[i]);
        size_t len = strlen (names->table_names[i]);
        char *twin = wes_arena_alloc_bytes (taken.own, len + sizeof "Insert");
        memcpy (twin, names->table_names[i], len);
        memcpy (twin + len, "Insert", sizeof "Insert");
        s_set_add (&taken, twin);
        free (want);
    }
    s_set_free (&taken);
}

static void
s_names_free (s_names_t *names)
{
    for (size_t i = 0; i < names->n_enums; i++) {
        free (names->enum_names[i]);
    }
    for (size_t i = 0; i < names->n_tables; i++) {
        free (names->table_names[i]);
    }
    free (names->enum_names);
    free (names->table_names);
    free (names->enums);
    free (names->table_sql);
    free (names->table_gql);
    free (names->enum_slots);
}

//  The cache of column types
static void
s_types_free (s_names_t *names)
{
    for (size_t i = 0; i < names->type_cap; i++) {
        free (names->type_keys[i]);
    }
    free (names->type_keys);
    free (names->type_elems);
    free (names->type_hashes);
}


//  The element TypeScript type already worked out for this type string, or
//  NULL (kept for the names' life: a schema has few distinct column types)
static const char *
s_type_cache_get (const s_names_t *names, const char *type, uint64_t h)
{
    if (!type || names->type_cap == 0) {
        return NULL;
    }
    size_t mask = names->type_cap - 1;
    for (size_t i = (size_t) h & mask; names->type_keys[i]; i = (i + 1) & mask) {
        if (names->type_hashes[i] == h && wes_str_eq (names->type_keys[i], type)) {
            return names->type_elems[i];
        }
    }
    return NULL;
}

static void
s_type_cache_put (s_names_t *names, const char *type, uint64_t h, const char *elem)
{
    if (!type) {
        return;
    }
    if ((names->n_types + 1) * 2 > names->type_cap) {
        size_t cap = names->type_cap ? names->type_cap * 2 : 64;
        char **keys = wes_alloc (cap * sizeof (char *));
        const char **elems = wes_alloc (cap * sizeof (char *));
        uint64_t *hashes = wes_alloc (cap * sizeof (uint64_t));
        for (size_t i = 0; i < names->type_cap; i++) {
            if (names->type_keys[i]) {
                size_t j = (size_t) names->type_hashes[i] & (cap - 1);
                while (keys[j]) {
                    j = (j + 1) & (cap - 1);
                }
                keys[j] = names->type_keys[i];
                elems[j] = names->type_elems[i];
                hashes[j] = names->type_hashes[i];
            }
        }
        free (names->type_keys);
        free (names->type_elems);
        free (names->type_hashes);
        names->type_keys = keys;
        names->type_elems = elems;
        names->type_hashes = hashes;
        names->type_cap = cap;
    }
    size_t mask = names->type_cap - 1;
    size_t i = (size_t) h & mask;
    while (names->type_keys[i]) {
        if (names->type_hashes[i] == h && wes_str_eq (names->type_keys[i], type)) {
            return;
        }
        i = (i + 1) & mask;
    }
    names->type_keys[i] = wes_strdup (type);
    names->type_elems[i] = elem;
    names->type_hashes[i] = h;
    names->n_types++;
}

//  The TypeScript name of the enum whose SQL name is sql_name, or NULL
static const char *
s_enum_ts_name (const s_names_t *names, const char *sql_name)
{
    size_t mask = names->enum_cap - 1;
    for (size_t j = s_hash (sql_name) & mask; names->enum_slots[j]; j = (j + 1) & mask) {
        size_t i = names->enum_slots[j] - 1;
        if (wes_str_eq (names->enums[i]->name ? names->enums[i]->name : "", sql_name)) {
            return names->enum_names[i];
        }
    }
    return NULL;
}

//  The GraphQL name, or PascalCase of the SQL name made a valid identifier
static char *
s_type_name (const char *gql_name, const char *sql_name)
{
    if (gql_name && s_is_ident (gql_name)) {
        return wes_strdup (gql_name);
    }
    wes_buf_t *b = wes_buf_new ();
    bool upper = true;
    for (const char *p = sql_name ? sql_name : ""; *p; p++) {
        char ch = *p;
        bool alnum
            = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        if (!alnum) {
            upper = true;
            continue;
        }
        if (wes_buf_len (b) == 0 && ch >= '0' && ch <= '9') {
            wes_buf_lit (b, "T");
        }
        if (upper && ch >= 'a' && ch <= 'z') {
            ch = (char) (ch - 'a' + 'A');
        }
        upper = false;
        wes_buf_append (b, &ch, 1);
    }
    if (wes_buf_len (b) == 0) {
        wes_buf_lit (b, "Unnamed");
    }
    char *out = wes_buf_steal (b);
    wes_buf_destroy (&b);
    return out;
}

//  A property name, quoted when it is not an identifier
static void
s_put_prop_name (wes_buf_t *buf, const char *name)
{
    if (s_is_ident (name)) {
        wes_buf_puts (buf, name);
    }
    else {
        s_put_ts_string (buf, name);
    }
}

static bool
s_is_ident (const char *s)
{
    if (!s || !*s || (*s >= '0' && *s <= '9')) {
        return false;
    }
    for (const char *p = s; *p; p++) {
        char ch = *p;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
              || ch == '_' || ch == '$')) {
            return false;
        }
    }
    return true;
}

//  A single-quoted TypeScript string literal
static void
s_put_ts_string (wes_buf_t *buf, const char *s)
{
    wes_buf_lit (buf, "'");
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        if (*p == '\'' || *p == '\\') {
            wes_buf_printf (buf, "\\%c", *p);
        }
        else if (*p < 0x20 || *p == 0x7f) {
            wes_buf_printf (buf, "\\x%02x", *p);
        }
        else {
            wes_buf_append (buf, (const char *) p, 1);
        }
    }
    wes_buf_lit (buf, "'");
}

//  Text inside a /** */ comment: no line breaks, and no "*/" to end it early
static void
s_put_comment_text (wes_buf_t *buf, const char *text)
{
    text = text ? text : "";
    if (!strpbrk (text, "\n\r*")) {
        wes_buf_puts (buf, text); /* the usual name: as it is */
        return;
    }
    for (const char *p = text; *p; p++) {
        char ch = *p;
        if (ch == '\n' || ch == '\r') {
            ch = ' ';
        }
        if (ch == '*' && p[1] == '/') {
            wes_buf_lit (buf, "* ");
            continue;
        }
        wes_buf_append (buf, &ch, 1);
    }
}

static int
s_strcmp_null (const char *a, const char *b)
{
    return wes_str_cmp (a ? a : "", b ? b : "");
}

static int
s_cmp_pair (const void *a, const void *b)
{
    return wes_str_cmp (((const s_pair_t *) a)->sql, ((const s_pair_t *) b)->sql);
}

static int
s_cmp_table (const void *a, const void *b)
{
    return s_strcmp_null ((*(wes_table_t *const *) a)->name, (*(wes_table_t *const *) b)->name);
}

static int
s_cmp_enum (const void *a, const void *b)
{
    return s_strcmp_null ((*(wes_enum_t *const *) a)->name, (*(wes_enum_t *const *) b)->name);
}

