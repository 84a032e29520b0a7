/*  wes_pgparse.h — PostgreSQL's own SQL parser (libpg_query, Debian
    libpg-query-dev) behind one small interface: SQL text in, the parse
    tree as a jansson value out, or an error with its line and column.

    The tree is libpg_query's JSON form of PostgreSQL 15's parse nodes:
    {"version": N, "stmts": [{"stmt": {"SelectStmt": {...}},
    "stmt_location": BYTE, "stmt_len": BYTES}, ...]}. stmt_location is
    absent for the first statement when it starts at byte 0, and stmt_len
    is 0 (absent) for a last statement that runs to the end of the text.
    Nodes carry "location" (a byte offset into the text, -1 when unknown).
    Lint and dead-column analysis both walk this tree. */
#ifndef WES_PGPARSE_H
#define WES_PGPARSE_H

#include <jansson.h>
#include <stddef.h>

#include "util/wes_mem.h"

typedef struct {
    char message[512]; /* PostgreSQL's message, e.g. "syntax error at or near \"FROM\"" */
    int offset;        /* byte offset of the error in the text, -1 when unknown */
    int line;          /* 1-based; 0 when unknown */
    int col;           /* 1-based, in characters; 0 when unknown */
} wes_pgparse_error_t;

/*  Parses len bytes of sql (need not be NUL-terminated; at most
    WES_MAX_SQL_BYTES). Returns the tree (caller json_decref) or NULL with
    *error filled. */
WES_MUST_USE json_t *wes_pgparse (const char *sql, size_t len, wes_pgparse_error_t *error);

/*  1-based line and column (in characters, UTF-8) of a byte offset into
    sql; offsets past the end give the end's position. */
void wes_pgparse_position (const char *sql, size_t len, size_t offset, int *line, int *col);

/*  The byte range of statement i of a tree from wes_pgparse over a text of
    len bytes: start (leading whitespace and comments included, as the
    parser reports it) and length. */
void wes_pgparse_stmt_range (json_t *tree, size_t i, size_t len, size_t *start, size_t *length);

/*  The one key of a node object ({"SelectStmt": {...}} gives
    "SelectStmt") and its body; NULL when node is not such an object. */
const char *wes_pgparse_node_type (json_t *node, json_t **body);

#endif
