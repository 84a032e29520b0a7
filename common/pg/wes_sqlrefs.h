/*  wes_sqlrefs.h — which columns of a known schema one SQL statement
    touches, from PostgreSQL's own parse tree (wes_pgparse).

    References are resolved the way PostgreSQL resolves names: qualified
    (t.c, s.t.c) and quoted identifiers, table aliases, JOIN ... USING and
    NATURAL JOIN, subqueries with their own scopes and correlated
    references to outer ones, CTEs (a WITH name shadows a table), `*` and
    `t.*`, INSERT/UPDATE/DELETE/MERGE targets, ON CONFLICT, RETURNING.
    The catalog is a schema model: a relation is a known table when it is
    unqualified or qualified with the catalog's database schema, and its
    name is a table of the model. Anything else in a FROM list (a view, a
    table of another schema, a system catalog) is an "unknown relation".
    An unqualified column with several tables in scope is attributed to
    every in-scope table that has a column of that name. */
#ifndef WES_SQLREFS_H
#define WES_SQLREFS_H

#include <jansson.h>
#include <stddef.h>

#include "pg/wes_pgparse.h"
#include "schema/wes_model.h"
#include "util/wes_mem.h"

typedef enum {
    WES_SQLREF_TABLE,      /* the statement reads or writes catalog table `name` */
    WES_SQLREF_COLUMN,     /* it names column `column` of catalog table `name` */
    WES_SQLREF_STAR,       /* it reads every column of `name`: `*`, `t.*`, a whole-row
                              reference `t`, or a NATURAL JOIN with a relation of unknown
                              columns */
    WES_SQLREF_INSERT_ALL, /* INSERT (or MERGE ... INSERT) into `name` without a column
                              list: every column, by position */
    WES_SQLREF_RELATION,   /* it reads relation `name` (schema `schema`, NULL when
                              unqualified) that is not a catalog table: a view, a table
                              of another schema, a system catalog */
    WES_SQLREF_FUNCTION    /* it calls function `name` (schema `schema` or NULL) */
} wes_sqlref_kind_t;

typedef struct {
    wes_sqlref_kind_t kind;
    const char *schema; /* RELATION, FUNCTION: as written, or NULL; others NULL */
    const char *name;   /* table, relation or function name */
    const char *column; /* COLUMN only, else NULL */
} wes_sqlref_t;

/*  A set of references (no duplicates), in the order first found. */
typedef struct wes_sqlrefs wes_sqlrefs_t;

/*  An empty set resolving against catalog (borrowed: it must outlive the
    set) whose tables live in database schema db_schema (copied; NULL means
    "public"). */
wes_sqlrefs_t *wes_sqlrefs_new (const wes_model_t *catalog, const char *db_schema);
void wes_sqlrefs_destroy (wes_sqlrefs_t **self_p);

/*  Adds the references of one statement node ({"SelectStmt": {...}}, an
    element's "stmt" of wes_pgparse's "stmts"). Statements that read no
    data (DDL, SET, transaction control) add nothing. Returns 0, or -1 when
    the tree is nested deeper than WES_MAX_SQL_TREE_DEPTH (the references
    found so far stay). */
WES_MUST_USE int wes_sqlrefs_add_stmt (wes_sqlrefs_t *self, json_t *stmt);

/*  Parses len bytes of sql and adds the references of every statement in
    it. Returns 0, or -1 with *error filled when the text does not parse
    (nothing is added) or is too deep. */
WES_MUST_USE int wes_sqlrefs_add_sql (wes_sqlrefs_t *self, const char *sql, size_t len,
                                      wes_pgparse_error_t *error);

/*  Empties the set (the catalog stays). */
void wes_sqlrefs_clear (wes_sqlrefs_t *self);

size_t wes_sqlrefs_count (const wes_sqlrefs_t *self);
/*  Borrowed; valid until the set changes. */
const wes_sqlref_t *wes_sqlrefs_get (const wes_sqlrefs_t *self, size_t i);

/*  The set as sorted lines, one per reference, for tests and debugging:
    "table t", "column t.c", "star t", "insert-all t", "relation s.v",
    "function f". Caller frees. */
char *wes_sqlrefs_describe (const wes_sqlrefs_t *self);

#endif
