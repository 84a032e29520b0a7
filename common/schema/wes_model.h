/*  wes_model.h — the schema model: the one representation that SDL
    compilation and database introspection both produce.

    The model is canonical once wes_model_canonicalize() has run: tables,
    columns, constraints, indexes, policies and enums sorted by name, types
    spelled as PostgreSQL's format_type() spells them ("integer",
    "timestamp with time zone", "character varying(64)", "text[]"). Two equal
    schemas then serialise to the same bytes, and hash to the same value,
    whichever way the SDL was ordered or formatted, or whether the model came
    from SDL or from a live database.

    Only database-visible facts take part in the canonical form and the hash.
    GraphQL names, source locations, relations and metadata directives are
    "meta": kept for the emitters and schema.json, never hashed.

    The element records below are plain data owned by the model: read them
    freely, build them only through the wes_model_* functions. */
#ifndef WES_MODEL_H
#define WES_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/wes_mem.h"

typedef struct wes_model wes_model_t;

/*  Where an element was declared (meta; line 0 when from a database). */
typedef struct {
    uint32_t line;
    uint32_t col;
} wes_srcpos_t;

typedef enum {
    WES_FK_NO_ACTION = 0,
    WES_FK_RESTRICT,
    WES_FK_CASCADE,
    WES_FK_SET_NULL,
    WES_FK_SET_DEFAULT
} wes_fk_action_t;

typedef enum { WES_CON_PRIMARY, WES_CON_UNIQUE, WES_CON_FOREIGN, WES_CON_CHECK } wes_con_kind_t;

typedef enum {
    WES_POLICY_ALL,
    WES_POLICY_SELECT,
    WES_POLICY_INSERT,
    WES_POLICY_UPDATE,
    WES_POLICY_DELETE
} wes_policy_cmd_t;

typedef struct {
    char *name;        /* PostgreSQL type name, snake_case of gql_name */
    char **values;     /* labels in declaration order (order is meaningful) */
    size_t n_values;
    /* meta */
    char *gql_name;    /* GraphQL enum name */
    wes_srcpos_t pos;
} wes_enum_t;

typedef struct {
    char *name;         /* column name */
    char *type;         /* format_type() spelling; an enum is its type name */
    char *default_expr; /* SQL expression, or NULL */
    /* meta */
    char *gql_name;     /* GraphQL field name */
    char *gql_type;     /* GraphQL type as written: "[String!]!" */
    char *enum_name;    /* GraphQL enum name when the column's type is an enum */
    char *renamed_from; /* @wes_renamedFrom: former column name, or NULL */
    char *directives;   /* kept metadata directives as JSON text, jansson's dump with
                           JSON_COMPACT | JSON_SORT_KEYS of {"pii": {}, "weight": {"value":
                           9}}, or NULL for none: wes_model_directives_json reads it,
                           wes_model_put_directives sets it */
    wes_srcpos_t pos;
    int ordinal;        /* declaration order, for CREATE TABLE column order */
    bool not_null;      /* (a fact, like name, type and default_expr) */
    bool is_array;      /* the GraphQL type was a list */
    bool array_elem_not_null; /* [T!]: elements are non-null (TypeScript only) */
} wes_column_t;

typedef struct {
    wes_con_kind_t kind;
    char *name;             /* constraint name (generated like PostgreSQL when not given) */
    char **columns;         /* PRIMARY, UNIQUE, FOREIGN: the constrained columns, in order */
    size_t n_columns;
    char *ref_table;        /* FOREIGN */
    char **ref_columns;     /* FOREIGN */
    size_t n_ref_columns;
    wes_fk_action_t on_delete; /* FOREIGN */
    wes_fk_action_t on_update; /* FOREIGN */
    char *check_expr;       /* CHECK: the boolean expression, without CHECK ( ) */
    /* meta */
    wes_srcpos_t pos;
} wes_constraint_t;

typedef struct {
    char *name;       /* index name */
    char **columns;   /* key columns, in order */
    size_t n_columns;
    char *method;     /* "btree", "gin", "gist", "hash", "brin" */
    bool unique;
    char *where;      /* partial index predicate, or NULL */
    /* meta */
    wes_srcpos_t pos;
} wes_index_t;

typedef struct {
    char *name;             /* policy name */
    wes_policy_cmd_t cmd;
    bool permissive;        /* PERMISSIVE (true) or RESTRICTIVE */
    char **roles;           /* sorted; empty means PUBLIC */
    size_t n_roles;
    char *using_expr;       /* USING ( ), or NULL */
    char *check_expr;       /* WITH CHECK ( ), or NULL */
    /* meta */
    wes_srcpos_t pos;
} wes_policy_t;

typedef struct {
    char *name;              /* table name */
    wes_column_t **columns;
    size_t n_columns;
    wes_constraint_t **constraints;
    size_t n_constraints;
    wes_index_t **indexes;   /* indexes other than those backing PRIMARY/UNIQUE constraints */
    size_t n_indexes;
    bool rls_enabled;        /* ALTER TABLE ... ENABLE ROW LEVEL SECURITY */
    wes_policy_t **policies;
    size_t n_policies;
    /* meta */
    char *gql_name;          /* GraphQL type name */
    char *renamed_from;      /* @wes_renamedFrom: former table name, or NULL */
    char *tenant_column;     /* @wes_tenant(by): the tenant column, or NULL */
    char *directives;        /* kept metadata directives as JSON text, or NULL (as columns) */
    json_t *relations;       /* [{"field":..,"kind":"hasMany","target":"Post", ...}], or
                                NULL for none; one reference held */
    wes_srcpos_t pos;
} wes_table_t;

wes_model_t *wes_model_new (void);
/*  Whether equal strings of the model share one copy (the default: a
    big model saves memory, and wes_model_str_eq compares by address). A
    model of one table, made and dropped at once, is quicker copying each
    string as it comes. Before any string is put. */
void wes_model_share_strings (wes_model_t *self, bool share);
/*  Empties the model for reuse: no tables, no enums, its memory kept
    (a streaming compile reuses one model for table after table). */
void wes_model_clear (wes_model_t *self);
void wes_model_destroy (wes_model_t **self_p);

/*  Builders. Each copies its string arguments and returns a borrowed record
    owned by the model, or NULL when an element of that name already exists. */
wes_enum_t *wes_model_add_enum (wes_model_t *self, const char *name);
void wes_enum_add_value (wes_enum_t *e, const char *value);
wes_table_t *wes_model_add_table (wes_model_t *self, const char *name);
wes_column_t *wes_table_add_column (wes_table_t *t, const char *name, const char *type);
wes_constraint_t *wes_table_add_constraint (wes_table_t *t, wes_con_kind_t kind, const char *name);
void wes_constraint_add_column (wes_constraint_t *c, const char *column);
void wes_constraint_add_ref_column (wes_constraint_t *c, const char *column);
wes_index_t *wes_table_add_index (wes_table_t *t, const char *name);
void wes_index_add_column (wes_index_t *ix, const char *column);
wes_policy_t *wes_table_add_policy (wes_table_t *t, const char *name, wes_policy_cmd_t cmd);
void wes_policy_add_role (wes_policy_t *p, const char *role);
/*  Replaces *field (a char * inside a record) with a copy of value (NULL ok). */
void wes_model_set_str (char **field, const char *value);
/*  The same for a record of self, with a copy shared by equal strings of
    the model (what the compiler uses: far less memory for big schemas). */
void wes_model_put_str (wes_model_t *self, char **field, const char *value);
/*  Whether a and b, two strings of one model, are equal: the model's shared
    copies (wes_model_put_str and the adders) are compared by address, any
    other by strcmp. */
bool wes_model_str_eq (const char *a, const char *b);
/*  Sets a record's directives (a column's or table's field) from a JSON
    object, taking value's reference; NULL or an empty object means none.
    Kept as text, shared by equal values: a big schema's metadata costs its
    bytes, not a jansson tree per column. */
void wes_model_put_directives (wes_model_t *self, char **field, json_t *value);
/*  A record's directives as a JSON object (a new reference; an empty
    object for NULL). */
json_t *wes_model_directives_json (const char *directives);

/*  Lookups (borrowed, NULL when absent). */
size_t wes_model_table_count (const wes_model_t *self);
wes_table_t *wes_model_table (const wes_model_t *self, size_t i);
wes_table_t *wes_model_find_table (const wes_model_t *self, const char *name);
size_t wes_model_enum_count (const wes_model_t *self);
wes_enum_t *wes_model_enum (const wes_model_t *self, size_t i);
wes_enum_t *wes_model_find_enum (const wes_model_t *self, const char *name);
wes_column_t *wes_table_find_column (const wes_table_t *t, const char *name);
wes_constraint_t *wes_table_primary_key (const wes_table_t *t);

/*  Sorts every list by name (enum values keep their order, constraint and
    index column lists keep theirs, roles are sorted). */
void wes_model_canonicalize (wes_model_t *self);

/*  The canonicalization of one table (its lists; the model's table order
    is left alone). */
void wes_table_canonicalize (wes_table_t *t);

/*  t's columns in declaration order (by ordinal, then name) into out,
    which has room for t->n_columns: placed by ordinal when the ordinals
    are 0 to n - 1 (a compiled table's), else sorted. */
void wes_table_columns_declared (const wes_table_t *t, wes_column_t **out);

/*  The canonical form as JSON: database-visible facts only, keys sorted.
    Caller owns the result. */
json_t *wes_model_to_canonical_json (const wes_model_t *self);
/*  The canonical form as compact bytes (what the hash covers). Caller frees. */
char *wes_model_canonical_bytes (const wes_model_t *self, size_t *len_out);
/*  SHA-256 of the canonical bytes, as 64 lowercase hex digits + NUL
    (streamed: the bytes are never held at once). */
void wes_model_hash (const wes_model_t *self, char hex_out[65]);
/*  Streams the canonical bytes to cb (jansson's dump callback: 0 ok, -1
    stops). Returns 0, or -1 when cb failed. */
int wes_model_write_canonical (const wes_model_t *self, json_dump_callback_t cb, void *arg);
/*  schema.json: {"format":"wesley-schema/1","hash":..,"schema":<canonical>,
    "meta":{..GraphQL names, relations, metadata..}}. Caller owns. */
json_t *wes_model_to_document_json (const wes_model_t *self);
/*  Streams schema.json: the bytes of json_dumps (wes_model_to_document_json
    (self), JSON_COMPACT | JSON_SORT_KEYS) (compact: a big schema's file
    is half the size of the indented form) without building the tree, each
    value encoded by jansson. hash is wes_model_hash's (computed when NULL).
    Returns 0, or -1 when cb failed. */
int wes_model_write_document (const wes_model_t *self, const char *hash, json_dump_callback_t cb,
                              void *arg);

/*  The canonical form and schema.json in pieces, for a writer that holds
    one table at a time (wes_outputs). The canonical bytes are the
    canonical head, the tables' objects in name order joined by ",", then
    WES_MODEL_CANONICAL_TAIL; schema.json's bytes are the document head, the
    tables' meta members in name order joined by ",", then
    WES_MODEL_DOCUMENT_MIDDLE, the canonical bytes, WES_MODEL_DOCUMENT_TAIL.
    The heads read self's enums (canonicalized) and never its tables. */
#define WES_MODEL_CANONICAL_TAIL "]}"
#define WES_MODEL_DOCUMENT_MIDDLE "}},\"schema\":"
#define WES_MODEL_DOCUMENT_TAIL "}"
void wes_model_canonical_head (const wes_model_t *self, json_dump_callback_t cb, void *arg);
void wes_model_document_head (const wes_model_t *self, const char *hash, json_dump_callback_t cb,
                              void *arg);
struct wes_jsonw;
/*  One canonicalized table's object, written through w (a compact writer
    where a value may come). */
void wes_model_write_table_canonical (struct wes_jsonw *w, const wes_table_t *t);
/*  One table's meta member (its name, then its object) through w, a
    compact writer inside an object; nothing when jansson would refuse the
    name as a key. */
void wes_model_write_table_meta (struct wes_jsonw *w, const wes_table_t *t);

/*  Names for enums in SQL and JSON. */
const char *wes_fk_action_sql (wes_fk_action_t a);       /* "NO ACTION", "CASCADE", ... */
const char *wes_policy_cmd_sql (wes_policy_cmd_t c);     /* "ALL", "SELECT", ... */

#endif
