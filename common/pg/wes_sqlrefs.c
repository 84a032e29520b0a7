/*  wes_sqlrefs.c — walks libpg_query's JSON parse tree of one statement
    with a stack of name scopes (one per query level) and records the
    catalog tables and columns it touches. */
#include "wes_sqlrefs.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/wes_limits.h"

/*  What a FROM item (a range table entry) is. */
typedef enum {
    S_RTE_TABLE,    /* a catalog table */
    S_RTE_CTE,      /* a WITH query */
    S_RTE_SUBQUERY, /* (SELECT ...) AS x */
    S_RTE_UNKNOWN,  /* a relation outside the catalog (view, other schema) */
    S_RTE_FUNCTION, /* a function or table expression in FROM */
    S_RTE_JOIN      /* an aliased join: (a JOIN b ...) AS j */
} s_rte_kind_t;

typedef struct {
    s_rte_kind_t kind;
    const char *refname;      /* what qualifies its columns (alias or name); NULL for none */
    const char *schema;       /* RangeVar schema as written, or NULL */
    const char *relname;      /* RangeVar relation name, or NULL */
    bool aliased;             /* an alias hides relname from s.t.c references */
    const wes_table_t *table; /* S_RTE_TABLE: the catalog table */
    json_t *cols;             /* known column names (strings), or NULL for "any"; owned */
    size_t child_from;        /* S_RTE_JOIN: its members are rtes[child_from, child_to) */
    size_t child_to;
} s_rte_t;

typedef struct {
    const char *name; /* the WITH name */
    json_t *cols;     /* its output column names, or NULL for unknown; owned */
} s_cte_t;

/*  One query level: its FROM items and WITH names, and its outer level. */
typedef struct s_level {
    struct s_level *parent; /* enclosing query level, or NULL */
    s_rte_t *rtes;          /* FROM items, in order */
    size_t n_rtes;
    size_t cap_rtes;
    s_cte_t *ctes; /* WITH names visible from this level down */
    size_t n_ctes;
    size_t cap_ctes;
    bool from_hidden;  /* rtes are not visible (a non-LATERAL subquery in FROM is walked) */
    json_t *out_names; /* explicit output aliases (AS x) for ORDER BY; borrowed or NULL */
} s_level_t;

struct wes_sqlrefs {
    const wes_model_t *catalog; /* known tables (borrowed) */
    char *db_schema;            /* the catalog's database schema */
    wes_sqlref_t *refs;         /* the set, strings owned */
    size_t n_refs;
    size_t cap_refs;
    json_t *seen;  /* describe line -> true, for deduplication */
    size_t depth;  /* current recursion depth of the walk */
    bool too_deep; /* the walk stopped at WES_MAX_SQL_TREE_DEPTH */
};

static void s_query (wes_sqlrefs_t *self, json_t *node, s_level_t *parent, json_t **names_out);
static void s_expr (wes_sqlrefs_t *self, s_level_t *L, json_t *node);
static void s_select (wes_sqlrefs_t *self, json_t *body, s_level_t *parent, bool ignore_star,
                      json_t **names_out);
static void s_record (wes_sqlrefs_t *self, wes_sqlref_kind_t kind, const char *schema,
                      const char *name, const char *column);

wes_sqlrefs_t *
wes_sqlrefs_new (const wes_model_t *catalog, const char *db_schema)
{
    wes_assert (catalog);
    wes_sqlrefs_t *self = wes_new (wes_sqlrefs_t);
    self->catalog = catalog;
    self->db_schema = wes_strdup (db_schema ? db_schema : "public");
    self->seen = json_object ();
    return self;
}

void
wes_sqlrefs_destroy (wes_sqlrefs_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wes_sqlrefs_t *self = *self_p;
    wes_sqlrefs_clear (self);
    free (self->refs);
    json_decref (self->seen);
    free (self->db_schema);
    free (self);
    *self_p = NULL;
}

void
wes_sqlrefs_clear (wes_sqlrefs_t *self)
{
    for (size_t i = 0; i < self->n_refs; i++) {
        free ((char *) self->refs[i].schema);
        free ((char *) self->refs[i].name);
        free ((char *) self->refs[i].column);
    }
    self->n_refs = 0;
    json_object_clear (self->seen);
}

int
wes_sqlrefs_add_stmt (wes_sqlrefs_t *self, json_t *stmt)
{
    self->depth = 0;
    self->too_deep = false;
    s_query (self, stmt, NULL, NULL);
    return self->too_deep ? -1 : 0;
}

int
wes_sqlrefs_add_sql (wes_sqlrefs_t *self, const char *sql, size_t len, wes_pgparse_error_t *error)
{
    json_t *tree = wes_pgparse (sql, len, error);
    if (!tree) {
        return -1;
    }
    json_t *stmts = json_object_get (tree, "stmts");
    int rc = 0;
    for (size_t i = 0; i < json_array_size (stmts); i++) {
        if (wes_sqlrefs_add_stmt (self, json_object_get (json_array_get (stmts, i), "stmt")) != 0) {
            snprintf (error->message, sizeof error->message,
                      "statement nested deeper than the limit (WES_MAX_SQL_TREE_DEPTH)");
            error->offset = -1;
            error->line = 0;
            error->col = 0;
            rc = -1;
        }
    }
    json_decref (tree);
    return rc;
}

size_t
wes_sqlrefs_count (const wes_sqlrefs_t *self)
{
    return self->n_refs;
}

const wes_sqlref_t *
wes_sqlrefs_get (const wes_sqlrefs_t *self, size_t i)
{
    return i < self->n_refs ? &self->refs[i] : NULL;
}

static const char *
s_kind_word (wes_sqlref_kind_t kind)
{
    switch (kind) {
    case WES_SQLREF_TABLE:
        return "table";
    case WES_SQLREF_COLUMN:
        return "column";
    case WES_SQLREF_STAR:
        return "star";
    case WES_SQLREF_INSERT_ALL:
        return "insert-all";
    case WES_SQLREF_RELATION:
        return "relation";
    case WES_SQLREF_FUNCTION:
        return "function";
    }
    return "?";
}

/*  "column t.c", "relation s.v", ... (caller frees). */
static char *
s_describe_one (wes_sqlref_kind_t kind, const char *schema, const char *name, const char *column)
{
    size_t n = strlen (s_kind_word (kind)) + strlen (name) + (schema ? strlen (schema) : 0)
               + (column ? strlen (column) : 0) + 8;
    char *s = wes_alloc (n);
    snprintf (s, n, "%s %s%s%s%s%s", s_kind_word (kind), schema ? schema : "", schema ? "." : "",
              name, column ? "." : "", column ? column : "");
    return s;
}

static int
s_cmp_str (const void *a, const void *b)
{
    return strcmp (*(char *const *) a, *(char *const *) b);
}

char *
wes_sqlrefs_describe (const wes_sqlrefs_t *self)
{
    char **lines = wes_alloc ((self->n_refs + 1) * sizeof (char *));
    size_t total = 1;
    for (size_t i = 0; i < self->n_refs; i++) {
        const wes_sqlref_t *r = &self->refs[i];
        lines[i] = s_describe_one (r->kind, r->schema, r->name, r->column);
        total += strlen (lines[i]) + 1;
    }
    qsort (lines, self->n_refs, sizeof (char *), s_cmp_str);
    char *out = wes_alloc (total);
    size_t at = 0;
    for (size_t i = 0; i < self->n_refs; i++) {
        size_t l = strlen (lines[i]);
        memcpy (out + at, lines[i], l);
        out[at + l] = '\n';
        at += l + 1;
        free (lines[i]);
    }
    out[at] = '\0';
    free (lines);
    return out;
}

/* ---------------------------------------------------------------------- */
/*  Helpers over the JSON tree */

/*  The sval of a {"String": {"sval": ...}} node, or NULL. */
static const char *
s_string_node (json_t *node)
{
    json_t *body = NULL;
    const char *type = wes_pgparse_node_type (node, &body);
    if (type && strcmp (type, "String") == 0) {
        json_t *v = json_object_get (body, "sval");
        return json_is_string (v) ? json_string_value (v) : "";
    }
    return NULL;
}

static const char *
s_str (json_t *obj, const char *key)
{
    return json_string_value (json_object_get (obj, key));
}

/*  Body of node when it has type `type`, else NULL. */
static json_t *
s_body_of (json_t *node, const char *type)
{
    json_t *body = NULL;
    const char *t = wes_pgparse_node_type (node, &body);
    return t && strcmp (t, type) == 0 ? body : NULL;
}

static bool
s_names_contain (json_t *names, const char *name)
{
    for (size_t i = 0; i < json_array_size (names); i++) {
        if (strcmp (json_string_value (json_array_get (names, i)), name) == 0) {
            return true;
        }
    }
    return false;
}

/*  The strings of a list of String nodes (alias colnames, USING) as a new
    array, or NULL when list is not an array. */
static json_t *
s_string_list (json_t *list)
{
    if (!json_is_array (list)) {
        return NULL;
    }
    json_t *out = json_array ();
    for (size_t i = 0; i < json_array_size (list); i++) {
        const char *s = s_string_node (json_array_get (list, i));
        if (s) {
            json_array_append_new (out, json_string (s));
        }
    }
    return out;
}

/* ---------------------------------------------------------------------- */
/*  The set */

static void
s_record (wes_sqlrefs_t *self, wes_sqlref_kind_t kind, const char *schema, const char *name,
          const char *column)
{
    char *key = s_describe_one (kind, schema, name, column);
    if (json_object_get (self->seen, key)) {
        free (key);
        return;
    }
    json_object_set_new (self->seen, key, json_true ());
    free (key);
    if (self->n_refs == self->cap_refs) {
        self->cap_refs = self->cap_refs ? self->cap_refs * 2 : 16;
        self->refs = wes_realloc (self->refs, self->cap_refs * sizeof (wes_sqlref_t));
    }
    wes_sqlref_t *r = &self->refs[self->n_refs++];
    r->kind = kind;
    r->schema = wes_strdup (schema);
    r->name = wes_strdup (name);
    r->column = wes_strdup (column);
}

static void
s_record_column (wes_sqlrefs_t *self, const wes_table_t *t, const char *column)
{
    if (t && column && wes_table_find_column (t, column)) {
        s_record (self, WES_SQLREF_COLUMN, NULL, t->name, column);
    }
}

/* ---------------------------------------------------------------------- */
/*  Scopes */

static void
s_level_free (s_level_t *L)
{
    for (size_t i = 0; i < L->n_rtes; i++) {
        json_decref (L->rtes[i].cols);
    }
    for (size_t i = 0; i < L->n_ctes; i++) {
        json_decref (L->ctes[i].cols);
    }
    free (L->rtes);
    free (L->ctes);
}

/*  Appends an entry (cols: reference taken) and returns it. */
static s_rte_t *
s_add_rte (s_level_t *L, s_rte_kind_t kind, const char *refname, json_t *cols)
{
    if (L->n_rtes == L->cap_rtes) {
        L->cap_rtes = L->cap_rtes ? L->cap_rtes * 2 : 8;
        L->rtes = wes_realloc (L->rtes, L->cap_rtes * sizeof (s_rte_t));
    }
    s_rte_t *r = &L->rtes[L->n_rtes++];
    memset (r, 0, sizeof *r);
    r->kind = kind;
    r->refname = refname;
    r->cols = cols;
    return r;
}

static void
s_add_cte (s_level_t *L, const char *name, json_t *cols)
{
    if (L->n_ctes == L->cap_ctes) {
        L->cap_ctes = L->cap_ctes ? L->cap_ctes * 2 : 4;
        L->ctes = wes_realloc (L->ctes, L->cap_ctes * sizeof (s_cte_t));
    }
    L->ctes[L->n_ctes].name = name;
    L->ctes[L->n_ctes].cols = cols;
    L->n_ctes++;
}

/*  The innermost visible WITH query called name, or NULL. */
static s_cte_t *
s_find_cte (s_level_t *L, const char *name)
{
    for (; L; L = L->parent) {
        for (size_t i = L->n_ctes; i-- > 0;) {
            if (strcmp (L->ctes[i].name, name) == 0) {
                return &L->ctes[i];
            }
        }
    }
    return NULL;
}

/*  The column names of an entry as a new array, or NULL when unknown. */
static json_t *
s_rte_columns (s_level_t *L, s_rte_t *r)
{
    if (r->kind == S_RTE_TABLE) {
        json_t *out = json_array ();
        for (size_t i = 0; i < r->table->n_columns; i++) {
            json_array_append_new (out, json_string (r->table->columns[i]->name));
        }
        return out;
    }
    if (r->kind == S_RTE_JOIN) {
        json_t *out = json_array ();
        for (size_t i = r->child_from; i < r->child_to; i++) {
            if (L->rtes[i].kind == S_RTE_JOIN) {
                continue; /* its members are in the range too */
            }
            json_t *c = s_rte_columns (L, &L->rtes[i]);
            if (!c) {
                json_decref (out);
                return NULL;
            }
            json_array_extend (out, c);
            json_decref (c);
        }
        return out;
    }
    return r->cols ? json_incref (r->cols) : NULL;
}

/*  The column names of the entries [from, to) of L (NULL when any is unknown). */
static json_t *
s_range_columns (s_level_t *L, size_t from, size_t to)
{
    json_t *out = json_array ();
    for (size_t i = from; i < to; i++) {
        if (L->rtes[i].kind == S_RTE_JOIN) {
            continue;
        }
        json_t *c = s_rte_columns (L, &L->rtes[i]);
        if (!c) {
            json_decref (out);
            return NULL;
        }
        json_array_extend (out, c);
        json_decref (c);
    }
    return out;
}

/*  Reads every column of entry r (`r.*`, a whole-row reference). */
static void
s_star_rte (wes_sqlrefs_t *self, s_level_t *L, s_rte_t *r)
{
    if (r->kind == S_RTE_TABLE) {
        s_record (self, WES_SQLREF_STAR, NULL, r->table->name, NULL);
    }
    else if (r->kind == S_RTE_JOIN) {
        for (size_t i = r->child_from; i < r->child_to; i++) {
            s_star_rte (self, L, &L->rtes[i]);
        }
    }
}

/*  Attributes column `name` within entries [from, to) of L: every catalog
    table there that has it. Returns whether a catalog table had it, and
    sets *maybe_other when a non-table entry might. */
static bool
s_resolve_in_range (wes_sqlrefs_t *self, s_level_t *L, size_t from, size_t to, const char *name,
                    bool *maybe_other)
{
    bool found = false;
    for (size_t i = from; i < to; i++) {
        s_rte_t *r = &L->rtes[i];
        if (r->kind == S_RTE_JOIN) {
            continue;
        }
        if (r->kind == S_RTE_TABLE) {
            if (r->cols) { /* aliased column names: t AS x (a, b) */
                if (s_names_contain (r->cols, name)) {
                    s_record (self, WES_SQLREF_STAR, NULL, r->table->name, NULL);
                    found = true;
                }
            }
            else if (wes_table_find_column (r->table, name)) {
                s_record_column (self, r->table, name);
                found = true;
            }
        }
        else if (!r->cols || s_names_contain (r->cols, name)) {
            if (maybe_other) {
                *maybe_other = true;
            }
        }
    }
    return found;
}

/*  An unqualified column: the innermost level where some entry may have
    it; there, every catalog table that has it. */
static void
s_resolve_unqualified (wes_sqlrefs_t *self, s_level_t *L, const char *name)
{
    for (s_level_t *l = L; l; l = l->parent) {
        if (l->from_hidden) {
            continue;
        }
        bool other = false;
        if (s_resolve_in_range (self, l, 0, l->n_rtes, name, &other) || other) {
            return;
        }
    }
    /* Not a column anywhere: a whole-row reference to an entry of that name? */
    for (s_level_t *l = L; l; l = l->parent) {
        if (l->from_hidden) {
            continue;
        }
        for (size_t i = 0; i < l->n_rtes; i++) {
            if (l->rtes[i].refname && strcmp (l->rtes[i].refname, name) == 0) {
                s_star_rte (self, l, &l->rtes[i]);
                return;
            }
        }
    }
}

/*  The innermost visible entry qualified by refname, or (schema != NULL)
    the unaliased relation schema.relname. */
static s_rte_t *
s_find_rte (wes_sqlrefs_t *self, s_level_t *L, const char *schema, const char *refname,
            s_level_t **level_out)
{
    for (s_level_t *l = L; l; l = l->parent) {
        if (l->from_hidden) {
            continue;
        }
        for (size_t i = l->n_rtes; i-- > 0;) {
            s_rte_t *r = &l->rtes[i];
            if (!r->refname || strcmp (r->refname, refname) != 0) {
                continue;
            }
            if (schema) {
                if (r->aliased || !r->relname) {
                    continue;
                }
                const char *rs = r->schema ? r->schema : self->db_schema;
                if (strcmp (rs, schema) != 0) {
                    continue;
                }
            }
            *level_out = l;
            return r;
        }
    }
    return NULL;
}

/*  column (NULL for `*`) of entry r. */
static void
s_qualified_in_rte (wes_sqlrefs_t *self, s_level_t *l, s_rte_t *r, const char *column)
{
    if (!column) {
        s_star_rte (self, l, r);
    }
    else if (r->kind == S_RTE_TABLE) {
        if (r->cols) {
            if (s_names_contain (r->cols, column)) {
                s_record (self, WES_SQLREF_STAR, NULL, r->table->name, NULL);
            }
        }
        else {
            s_record_column (self, r->table, column);
        }
    }
    else if (r->kind == S_RTE_JOIN) {
        s_resolve_in_range (self, l, r->child_from, r->child_to, column, NULL);
    }
}

static void
s_column_ref (wes_sqlrefs_t *self, s_level_t *L, json_t *body, bool ignore_star)
{
    json_t *fields = json_object_get (body, "fields");
    size_t n = json_array_size (fields);
    if (n == 0) {
        return;
    }
    const char *f[4] = {NULL, NULL, NULL, NULL};
    size_t k = n < 4 ? n : 4;
    for (size_t i = 0; i < k; i++) {
        f[i] = s_string_node (json_array_get (fields, i)); /* NULL for A_Star */
    }
    bool star = s_body_of (json_array_get (fields, n - 1), "A_Star") != NULL;
    if (n == 1) {
        if (star) {
            if (ignore_star) {
                return;
            }
            for (size_t i = 0; i < L->n_rtes; i++) {
                if (L->rtes[i].kind != S_RTE_JOIN) {
                    s_star_rte (self, L, &L->rtes[i]);
                }
            }
        }
        else if (f[0]) {
            s_resolve_unqualified (self, L, f[0]);
        }
        return;
    }
    if (star && ignore_star) {
        return;
    }
    s_level_t *l = NULL;
    s_rte_t *r = NULL;
    /* a.b.c[.d]: schema.table.column first, then table.column(.field...) */
    if (n >= 3 && f[0] && f[1]) {
        r = s_find_rte (self, L, f[0], f[1], &l);
        if (r) {
            s_qualified_in_rte (self, l, r, star && n == 3 ? NULL : f[2]);
            return;
        }
    }
    if (n >= 4 && f[1] && f[2]) { /* database.schema.table.column */
        r = s_find_rte (self, L, f[1], f[2], &l);
        if (r) {
            s_qualified_in_rte (self, l, r, star && n == 4 ? NULL : f[3]);
            return;
        }
    }
    if (f[0]) {
        r = s_find_rte (self, L, NULL, f[0], &l);
        if (r) {
            s_qualified_in_rte (self, l, r, star && n == 2 ? NULL : f[1]);
            return;
        }
        /* (composite).field written as column.field: the column itself */
        if (!star && f[1]) {
            s_resolve_unqualified (self, L, f[0]);
        }
    }
}

/* ---------------------------------------------------------------------- */
/*  Expressions */

static bool
s_enter (wes_sqlrefs_t *self)
{
    if (self->depth >= WES_MAX_SQL_TREE_DEPTH) {
        self->too_deep = true;
        return false;
    }
    self->depth++;
    return true;
}

static void
s_function (wes_sqlrefs_t *self, json_t *funcname)
{
    size_t n = json_array_size (funcname);
    if (n == 0) {
        return;
    }
    const char *name = s_string_node (json_array_get (funcname, n - 1));
    const char *schema = n >= 2 ? s_string_node (json_array_get (funcname, n - 2)) : NULL;
    if (name) {
        s_record (self, WES_SQLREF_FUNCTION, schema, name, NULL);
    }
}

static void
s_expr (wes_sqlrefs_t *self, s_level_t *L, json_t *node)
{
    if (!json_is_object (node) && !json_is_array (node)) {
        return;
    }
    if (!s_enter (self)) {
        return;
    }
    if (json_is_array (node)) {
        for (size_t i = 0; i < json_array_size (node); i++) {
            s_expr (self, L, json_array_get (node, i));
        }
        self->depth--;
        return;
    }
    json_t *body = NULL;
    const char *type = wes_pgparse_node_type (node, &body);
    if (type && json_is_object (body)) {
        if (strcmp (type, "ColumnRef") == 0) {
            s_column_ref (self, L, body, false);
            self->depth--;
            return;
        }
        if (strcmp (type, "SubLink") == 0) {
            s_expr (self, L, json_object_get (body, "testexpr"));
            json_t *sub = json_object_get (body, "subselect");
            json_t *sel = s_body_of (sub, "SelectStmt");
            bool exists = strcmp (s_str (body, "subLinkType") ? s_str (body, "subLinkType") : "",
                                  "EXISTS_SUBLINK")
                          == 0;
            if (sel) {
                s_select (self, sel, L, exists, NULL);
            }
            else {
                s_query (self, sub, L, NULL);
            }
            self->depth--;
            return;
        }
        if (strcmp (type, "FuncCall") == 0) {
            s_function (self, json_object_get (body, "funcname"));
            s_expr (self, L, json_object_get (body, "args"));
            s_expr (self, L, json_object_get (body, "agg_order"));
            s_expr (self, L, json_object_get (body, "agg_filter"));
            s_expr (self, L, json_object_get (body, "over"));
            self->depth--;
            return;
        }
        if (strcmp (type, "SelectStmt") == 0 || strcmp (type, "InsertStmt") == 0
            || strcmp (type, "UpdateStmt") == 0 || strcmp (type, "DeleteStmt") == 0) {
            s_query (self, node, L, NULL);
            self->depth--;
            return;
        }
        if (strcmp (type, "TypeName") == 0 || strcmp (type, "String") == 0) {
            self->depth--;
            return;
        }
    }
    /* any other node, or a plain object: walk its members */
    const char *key;
    json_t *value;
    json_object_foreach (type ? body : node, key, value)
    {
        (void) key;
        s_expr (self, L, value);
    }
    self->depth--;
}

/*  A target list (SELECT list, RETURNING): its expressions, `*` and `t.*`
    included; the output column names as a new array (NULL when a star over
    unknown columns makes them unknown) when names_out is not NULL. */
static void
s_target_list (wes_sqlrefs_t *self, s_level_t *L, json_t *list, bool ignore_star,
               json_t **names_out)
{
    json_t *names = json_array ();
    bool unknown = false;
    for (size_t i = 0; i < json_array_size (list); i++) {
        json_t *rt = s_body_of (json_array_get (list, i), "ResTarget");
        if (!rt) {
            continue;
        }
        json_t *val = json_object_get (rt, "val");
        json_t *cref = s_body_of (val, "ColumnRef");
        const char *as = s_str (rt, "name");
        if (cref) {
            s_column_ref (self, L, cref, ignore_star);
            json_t *fields = json_object_get (cref, "fields");
            json_t *last = json_array_get (fields, json_array_size (fields) - 1);
            if (s_body_of (last, "A_Star")) {
                json_t *cols = NULL;
                if (json_array_size (fields) == 1) {
                    cols = s_range_columns (L, 0, L->n_rtes);
                }
                else {
                    s_level_t *l = NULL;
                    s_rte_t *r = s_find_rte (self, L, NULL,
                                             s_string_node (json_array_get (fields, 0))
                                                 ? s_string_node (json_array_get (fields, 0))
                                                 : "",
                                             &l);
                    cols = r ? s_rte_columns (l, r) : NULL;
                }
                if (cols) {
                    json_array_extend (names, cols);
                    json_decref (cols);
                }
                else {
                    unknown = true;
                }
                continue;
            }
            if (!as) {
                as = s_string_node (last);
            }
        }
        else {
            s_expr (self, L, val);
            json_t *fc = s_body_of (val, "FuncCall");
            if (!as && fc) {
                json_t *fn = json_object_get (fc, "funcname");
                as = s_string_node (json_array_get (fn, json_array_size (fn) - 1));
            }
        }
        json_array_append_new (names, json_string (as ? as : "?column?"));
    }
    if (names_out) {
        *names_out = unknown ? NULL : json_incref (names);
    }
    json_decref (names);
}

/*  ORDER BY / GROUP BY items: a bare name that is an output alias (SELECT
    a AS x ... ORDER BY x) is the output column, not a table column (for
    GROUP BY, PostgreSQL prefers an input column of that name, but the
    alias's own expression is walked with the target list anyway). */
static void
s_sort_list (wes_sqlrefs_t *self, s_level_t *L, json_t *list)
{
    for (size_t i = 0; i < json_array_size (list); i++) {
        json_t *item = json_array_get (list, i);
        json_t *sb = s_body_of (item, "SortBy");
        json_t *expr = sb ? json_object_get (sb, "node") : item;
        json_t *cref = s_body_of (expr, "ColumnRef");
        if (cref && L->out_names) {
            json_t *fields = json_object_get (cref, "fields");
            const char *one =
                json_array_size (fields) == 1 ? s_string_node (json_array_get (fields, 0)) : NULL;
            if (one && s_names_contain (L->out_names, one)) {
                continue;
            }
        }
        s_expr (self, L, expr);
    }
}

/* ---------------------------------------------------------------------- */
/*  FROM items and statements */

/*  The catalog table a relation names, or NULL. */
static const wes_table_t *
s_catalog_table (wes_sqlrefs_t *self, const char *schema, const char *relname)
{
    if (schema && strcmp (schema, self->db_schema) != 0) {
        return NULL;
    }
    return wes_model_find_table (self->catalog, relname);
}

/*  A RangeVar as an entry of L: a WITH query, a catalog table or an
    unknown relation. Returns the entry. */
static s_rte_t *
s_range_var (wes_sqlrefs_t *self, s_level_t *L, json_t *rv, bool allow_cte)
{
    const char *schema = s_str (rv, "schemaname");
    const char *relname = s_str (rv, "relname");
    json_t *alias = json_object_get (rv, "alias");
    const char *aliasname = s_str (alias, "aliasname");
    json_t *colnames = s_string_list (json_object_get (alias, "colnames"));
    if (!relname) {
        json_decref (colnames);
        return s_add_rte (L, S_RTE_UNKNOWN, aliasname, NULL);
    }
    const char *refname = aliasname ? aliasname : relname;
    s_cte_t *cte = !schema && allow_cte ? s_find_cte (L, relname) : NULL;
    s_rte_t *r;
    if (cte) {
        r = s_add_rte (L, S_RTE_CTE, refname,
                       colnames ? colnames : (cte->cols ? json_incref (cte->cols) : NULL));
    }
    else {
        const wes_table_t *t = s_catalog_table (self, schema, relname);
        if (t) {
            s_record (self, WES_SQLREF_TABLE, NULL, t->name, NULL);
            r = s_add_rte (L, S_RTE_TABLE, refname, colnames);
            r->table = t;
        }
        else {
            s_record (self, WES_SQLREF_RELATION, schema, relname, NULL);
            r = s_add_rte (L, S_RTE_UNKNOWN, refname, colnames);
        }
    }
    r->schema = schema;
    r->relname = relname;
    r->aliased = aliasname != NULL;
    return r;
}

/*  USING (names) or NATURAL between entries [a0, a1) and [b0, b1). */
static void
s_join_columns (wes_sqlrefs_t *self, s_level_t *L, json_t *names, size_t a0, size_t a1, size_t b0,
                size_t b1)
{
    for (size_t i = 0; i < json_array_size (names); i++) {
        const char *n = json_string_value (json_array_get (names, i));
        s_resolve_in_range (self, L, a0, a1, n, NULL);
        s_resolve_in_range (self, L, b0, b1, n, NULL);
    }
}

static void
s_from_item (wes_sqlrefs_t *self, s_level_t *L, json_t *item)
{
    if (!s_enter (self)) {
        return;
    }
    json_t *body = NULL;
    const char *type = wes_pgparse_node_type (item, &body);
    if (!type) {
        self->depth--;
        return;
    }
    if (strcmp (type, "RangeVar") == 0) {
        s_range_var (self, L, body, true);
    }
    else if (strcmp (type, "RangeSubselect") == 0) {
        bool lateral = json_is_true (json_object_get (body, "lateral"));
        bool was = L->from_hidden;
        L->from_hidden = !lateral;
        json_t *names = NULL;
        s_query (self, json_object_get (body, "subquery"), L, &names);
        L->from_hidden = was;
        json_t *alias = json_object_get (body, "alias");
        json_t *colnames = s_string_list (json_object_get (alias, "colnames"));
        if (colnames) {
            json_decref (names);
            names = colnames;
        }
        s_add_rte (L, S_RTE_SUBQUERY, s_str (alias, "aliasname"), names);
    }
    else if (strcmp (type, "JoinExpr") == 0) {
        size_t a0 = L->n_rtes;
        s_from_item (self, L, json_object_get (body, "larg"));
        size_t a1 = L->n_rtes;
        s_from_item (self, L, json_object_get (body, "rarg"));
        size_t b1 = L->n_rtes;
        json_t *using = s_string_list (json_object_get (body, "usingClause"));
        if (using) {
            s_join_columns (self, L, using, a0, a1, a1, b1);
            json_decref (using);
        }
        if (json_is_true (json_object_get (body, "isNatural"))) {
            json_t *left = s_range_columns (L, a0, a1);
            json_t *right = s_range_columns (L, a1, b1);
            if (left && right) {
                json_t *common = json_array ();
                for (size_t i = 0; i < json_array_size (left); i++) {
                    const char *n = json_string_value (json_array_get (left, i));
                    if (s_names_contain (right, n) && !s_names_contain (common, n)) {
                        json_array_append_new (common, json_string (n));
                    }
                }
                s_join_columns (self, L, common, a0, a1, a1, b1);
                json_decref (common);
            }
            else {
                /* a side of unknown columns: any column may be common */
                for (size_t i = a0; i < b1; i++) {
                    if (L->rtes[i].kind == S_RTE_TABLE) {
                        s_star_rte (self, L, &L->rtes[i]);
                    }
                }
            }
            json_decref (left);
            json_decref (right);
        }
        s_expr (self, L, json_object_get (body, "quals"));
        json_t *alias = json_object_get (body, "alias");
        if (s_str (alias, "aliasname")) {
            s_rte_t *j = s_add_rte (L, S_RTE_JOIN, s_str (alias, "aliasname"), NULL);
            j->child_from = a0;
            j->child_to = b1;
        }
    }
    else if (strcmp (type, "RangeTableSample") == 0) {
        s_from_item (self, L, json_object_get (body, "relation"));
        s_expr (self, L, json_object_get (body, "args"));
        s_expr (self, L, json_object_get (body, "repeatable"));
    }
    else {
        /* RangeFunction, RangeTableFunc, ...: a table expression of unknown columns */
        json_t *alias = json_object_get (body, "alias");
        const char *key;
        json_t *value;
        json_object_foreach (body, key, value)
        {
            if (strcmp (key, "alias") != 0) {
                s_expr (self, L, value);
            }
        }
        s_add_rte (L, S_RTE_FUNCTION, s_str (alias, "aliasname"),
                   s_string_list (json_object_get (alias, "colnames")));
    }
    self->depth--;
}

static void
s_with (wes_sqlrefs_t *self, s_level_t *L, json_t *with)
{
    json_t *ctes = json_object_get (with, "ctes");
    bool recursive = json_is_true (json_object_get (with, "recursive"));
    for (size_t i = 0; i < json_array_size (ctes); i++) {
        json_t *cte = s_body_of (json_array_get (ctes, i), "CommonTableExpr");
        const char *name = s_str (cte, "ctename");
        if (!cte || !name) {
            continue;
        }
        json_t *aliascols = s_string_list (json_object_get (cte, "aliascolnames"));
        if (recursive) {
            /* visible in its own body; its columns are those of the first branch */
            s_add_cte (L, name, aliascols ? json_incref (aliascols) : NULL);
        }
        json_t *names = NULL;
        s_query (self, json_object_get (cte, "ctequery"), L, &names);
        if (aliascols) {
            json_decref (names);
            names = aliascols;
        }
        if (recursive) {
            json_decref (L->ctes[L->n_ctes - 1].cols);
            L->ctes[L->n_ctes - 1].cols = names;
        }
        else {
            s_add_cte (L, name, names);
        }
    }
}

/*  A SelectStmt body, wrapped ({"SelectStmt": {...}}) or not. */
static json_t *
s_select_body (json_t *node)
{
    json_t *body = s_body_of (node, "SelectStmt");
    return body ? body : node;
}

static void
s_select (wes_sqlrefs_t *self, json_t *body, s_level_t *parent, bool ignore_star,
          json_t **names_out)
{
    if (names_out) {
        *names_out = NULL;
    }
    if (!json_is_object (body) || !s_enter (self)) {
        return;
    }
    s_level_t L = {.parent = parent};
    json_t *with = json_object_get (body, "withClause");
    if (with) {
        s_with (self, &L, with);
    }
    json_t *names = NULL;
    const char *op = s_str (body, "op");
    if (op && strcmp (op, "SETOP_NONE") != 0) {
        json_t *right = NULL;
        /* larg and rarg are SelectStmt bodies without the node wrapper */
        s_select (self, s_select_body (json_object_get (body, "larg")), &L, ignore_star, &names);
        s_select (self, s_select_body (json_object_get (body, "rarg")), &L, ignore_star, &right);
        json_decref (right);
        /* ORDER BY of a UNION names its output columns only */
        s_expr (self, &L, json_object_get (body, "limitOffset"));
        s_expr (self, &L, json_object_get (body, "limitCount"));
    }
    else if (json_object_get (body, "valuesLists")) {
        json_t *lists = json_object_get (body, "valuesLists");
        s_expr (self, &L, lists);
        json_t *first = s_body_of (json_array_get (lists, 0), "List");
        names = json_array ();
        for (size_t i = 0; i < json_array_size (json_object_get (first, "items")); i++) {
            char n[32];
            snprintf (n, sizeof n, "column%zu", i + 1);
            json_array_append_new (names, json_string (n));
        }
    }
    else {
        json_t *from = json_object_get (body, "fromClause");
        for (size_t i = 0; i < json_array_size (from); i++) {
            s_from_item (self, &L, json_array_get (from, i));
        }
        s_target_list (self, &L, json_object_get (body, "targetList"), ignore_star, &names);
        json_t *aliases = json_array ();
        json_t *tl = json_object_get (body, "targetList");
        for (size_t i = 0; i < json_array_size (tl); i++) {
            const char *as = s_str (s_body_of (json_array_get (tl, i), "ResTarget"), "name");
            if (as) {
                json_array_append_new (aliases, json_string (as));
            }
        }
        s_expr (self, &L, json_object_get (body, "whereClause"));
        s_expr (self, &L, json_object_get (body, "havingClause"));
        s_expr (self, &L, json_object_get (body, "windowClause"));
        s_expr (self, &L, json_object_get (body, "distinctClause"));
        L.out_names = aliases;
        /* GROUP BY and ORDER BY may name output columns */
        s_sort_list (self, &L, json_object_get (body, "groupClause"));
        s_sort_list (self, &L, json_object_get (body, "sortClause"));
        L.out_names = NULL;
        json_decref (aliases);
        s_expr (self, &L, json_object_get (body, "limitOffset"));
        s_expr (self, &L, json_object_get (body, "limitCount"));
    }
    if (names_out) {
        *names_out = names;
    }
    else {
        json_decref (names);
    }
    s_level_free (&L);
    self->depth--;
}

/*  The target of INSERT/UPDATE/DELETE/MERGE as an entry of L; its catalog
    table or NULL. */
static const wes_table_t *
s_target (wes_sqlrefs_t *self, s_level_t *L, json_t *relation)
{
    if (!json_is_object (relation)) {
        return NULL;
    }
    s_rte_t *r = s_range_var (self, L, relation, false);
    return r->kind == S_RTE_TABLE ? r->table : NULL;
}

/*  SET a = ..., (b, c) = ...: the assigned columns of t and the values. */
static void
s_set_list (wes_sqlrefs_t *self, s_level_t *L, const wes_table_t *t, json_t *list)
{
    for (size_t i = 0; i < json_array_size (list); i++) {
        json_t *rt = s_body_of (json_array_get (list, i), "ResTarget");
        if (rt) {
            s_record_column (self, t, s_str (rt, "name"));
            s_expr (self, L, json_object_get (rt, "val"));
        }
    }
}

static void
s_returning (wes_sqlrefs_t *self, s_level_t *L, json_t *list, json_t **names_out)
{
    if (list) {
        s_target_list (self, L, list, false, names_out);
    }
}

static void
s_insert (wes_sqlrefs_t *self, json_t *body, s_level_t *parent, json_t **names_out)
{
    s_level_t L = {.parent = parent};
    if (json_object_get (body, "withClause")) {
        s_with (self, &L, json_object_get (body, "withClause"));
    }
    /* the VALUES or SELECT does not see the target */
    json_t *select = json_object_get (body, "selectStmt");
    if (select) {
        s_query (self, select, &L, NULL);
    }
    const wes_table_t *t = s_target (self, &L, json_object_get (body, "relation"));
    json_t *cols = json_object_get (body, "cols");
    if (json_array_size (cols) > 0) {
        s_set_list (self, &L, t, cols);
    }
    else if (t && select) {
        s_record (self, WES_SQLREF_INSERT_ALL, NULL, t->name, NULL);
    }
    json_t *oc = json_object_get (body, "onConflictClause");
    if (oc) {
        json_t *infer = json_object_get (oc, "infer");
        json_t *elems = json_object_get (infer, "indexElems");
        for (size_t i = 0; i < json_array_size (elems); i++) {
            json_t *ie = s_body_of (json_array_get (elems, i), "IndexElem");
            s_record_column (self, t, s_str (ie, "name"));
            s_expr (self, &L, json_object_get (ie, "expr"));
        }
        s_expr (self, &L, json_object_get (infer, "whereClause"));
        if (t) {
            s_rte_t *ex = s_add_rte (&L, S_RTE_TABLE, "excluded", NULL);
            ex->table = t;
            ex->relname = "excluded";
            ex->aliased = true;
        }
        s_set_list (self, &L, t, json_object_get (oc, "targetList"));
        s_expr (self, &L, json_object_get (oc, "whereClause"));
    }
    s_returning (self, &L, json_object_get (body, "returningList"), names_out);
    s_level_free (&L);
}

static void
s_update (wes_sqlrefs_t *self, json_t *body, s_level_t *parent, json_t **names_out)
{
    s_level_t L = {.parent = parent};
    if (json_object_get (body, "withClause")) {
        s_with (self, &L, json_object_get (body, "withClause"));
    }
    const wes_table_t *t = s_target (self, &L, json_object_get (body, "relation"));
    json_t *from = json_object_get (body, "fromClause");
    for (size_t i = 0; i < json_array_size (from); i++) {
        s_from_item (self, &L, json_array_get (from, i));
    }
    s_set_list (self, &L, t, json_object_get (body, "targetList"));
    s_expr (self, &L, json_object_get (body, "whereClause"));
    s_returning (self, &L, json_object_get (body, "returningList"), names_out);
    s_level_free (&L);
}

static void
s_delete (wes_sqlrefs_t *self, json_t *body, s_level_t *parent, json_t **names_out)
{
    s_level_t L = {.parent = parent};
    if (json_object_get (body, "withClause")) {
        s_with (self, &L, json_object_get (body, "withClause"));
    }
    s_target (self, &L, json_object_get (body, "relation"));
    json_t *using = json_object_get (body, "usingClause");
    for (size_t i = 0; i < json_array_size (using); i++) {
        s_from_item (self, &L, json_array_get (using, i));
    }
    s_expr (self, &L, json_object_get (body, "whereClause"));
    s_returning (self, &L, json_object_get (body, "returningList"), names_out);
    s_level_free (&L);
}

static void
s_merge (wes_sqlrefs_t *self, json_t *body, s_level_t *parent)
{
    s_level_t L = {.parent = parent};
    if (json_object_get (body, "withClause")) {
        s_with (self, &L, json_object_get (body, "withClause"));
    }
    const wes_table_t *t = s_target (self, &L, json_object_get (body, "relation"));
    s_from_item (self, &L, json_object_get (body, "sourceRelation"));
    s_expr (self, &L, json_object_get (body, "joinCondition"));
    json_t *whens = json_object_get (body, "mergeWhenClauses");
    for (size_t i = 0; i < json_array_size (whens); i++) {
        json_t *w = s_body_of (json_array_get (whens, i), "MergeWhenClause");
        if (!w) {
            continue;
        }
        s_expr (self, &L, json_object_get (w, "condition"));
        const char *cmd = s_str (w, "commandType");
        json_t *tl = json_object_get (w, "targetList");
        if (cmd && strcmp (cmd, "CMD_INSERT") == 0 && json_array_size (tl) == 0 && t) {
            s_record (self, WES_SQLREF_INSERT_ALL, NULL, t->name, NULL);
        }
        s_set_list (self, &L, t, tl);
        s_expr (self, &L, json_object_get (w, "values"));
    }
    s_level_free (&L);
}

static void
s_copy (wes_sqlrefs_t *self, json_t *body, s_level_t *parent)
{
    json_t *query = json_object_get (body, "query");
    if (query) {
        s_query (self, query, parent, NULL);
        return;
    }
    s_level_t L = {.parent = parent};
    const wes_table_t *t = s_target (self, &L, json_object_get (body, "relation"));
    json_t *cols = s_string_list (json_object_get (body, "attlist"));
    if (cols && json_array_size (cols) > 0) {
        for (size_t i = 0; i < json_array_size (cols); i++) {
            s_record_column (self, t, json_string_value (json_array_get (cols, i)));
        }
    }
    else if (t) {
        s_record (self,
                  json_is_true (json_object_get (body, "is_from")) ? WES_SQLREF_INSERT_ALL
                                                                   : WES_SQLREF_STAR,
                  NULL, t->name, NULL);
    }
    json_decref (cols);
    s_expr (self, &L, json_object_get (body, "whereClause"));
    s_level_free (&L);
}

/*  Any statement node; names_out (may be NULL) gets its output column
    names (a new array) or NULL when unknown. */
static void
s_query (wes_sqlrefs_t *self, json_t *node, s_level_t *parent, json_t **names_out)
{
    if (names_out) {
        *names_out = NULL;
    }
    json_t *body = NULL;
    const char *type = wes_pgparse_node_type (node, &body);
    if (!type || !json_is_object (body) || !s_enter (self)) {
        return;
    }
    if (strcmp (type, "SelectStmt") == 0) {
        s_select (self, body, parent, false, names_out);
    }
    else if (strcmp (type, "InsertStmt") == 0) {
        s_insert (self, body, parent, names_out);
    }
    else if (strcmp (type, "UpdateStmt") == 0) {
        s_update (self, body, parent, names_out);
    }
    else if (strcmp (type, "DeleteStmt") == 0) {
        s_delete (self, body, parent, names_out);
    }
    else if (strcmp (type, "MergeStmt") == 0) {
        s_merge (self, body, parent);
    }
    else if (strcmp (type, "CopyStmt") == 0) {
        s_copy (self, body, parent);
    }
    else if (strcmp (type, "ExplainStmt") == 0 || strcmp (type, "CreateTableAsStmt") == 0
             || strcmp (type, "DeclareCursorStmt") == 0 || strcmp (type, "PrepareStmt") == 0) {
        /* (CREATE VIEW reads no data: its references count when the view is read) */
        s_query (self, json_object_get (body, "query"), parent, NULL);
    }
    self->depth--;
}
