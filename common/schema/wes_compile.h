/*  wes_compile.h — turns a parsed SDL document into the schema model:
    the wes_ directive set and its aliases (DESIGN.md section 8), the scalar
    mapping, naming, and validation. */
#ifndef WES_COMPILE_H
#define WES_COMPILE_H

#include "../util/wes_diag.h"
#include "wes_ast.h"
#include "wes_model.h"

/*  Returns the canonical model (caller owns), or NULL when any error was
    reported into diag. Warnings (unknown directives, kept as metadata) do not
    fail the compile. */
wes_model_t *wes_compile (const wes_ast_doc_t *doc, wes_diag_t *diag);

/*  Parse + compile a file in one call (NULL on any error, reported in diag). */
wes_model_t *wes_compile_file (const char *path, wes_diag_t *diag);

/*  Streaming: lanes at most. */
#define WES_COMPILE_LANES 4

/*  Where a streaming compile hands its work: begin once, with the enums
    (a model holding only them, canonicalized) and every table that will
    come (SQL and GraphQL names); then each table, canonicalized and named,
    in no particular order, as a model holding that one table: table may
    take it (setting *table_model to NULL; it then frees it), else it is
    freed or emptied for the next table when table returns (keep no
    pointer into it); then, when begin was called, end once: with
    complete true when every table was handed over and the document found
    free of errors, else false (the stream declined or stopped). enums is
    freed when end returns: the sink must be done with it. begin and table
    return 0, or -1 to stop the compile; end returns 0, or -1 when it
    failed (complete) and is otherwise ignored. */
typedef struct {
    int (*begin) (void *arg, const wes_model_t *enums, size_t n_tables,
                  const char *const *sql_names, const char *const *gql_names);
    int (*table) (void *arg, size_t lane, const wes_model_t *enums, wes_model_t **table_model);
    int (*end) (void *arg, const wes_model_t *enums, bool complete);
    void *arg;
    /*  Lanes: threads that each build the tables of one stretch of the
        document and hand them over at once, table called on each with
        its lane (0 .. lanes - 1), never twice at once on one lane; begin
        and end are called on the caller's thread (lane 0's). 1 builds
        every table on the caller's thread; 0 takes one lane per core for
        a big file (at most WES_COMPILE_LANES). */
    size_t lanes;
    /*  With lanes, the bytes of document a lane takes at a time (0: a
        tenth of what is left, from 384 KB down to 32 KB): small ones make
        the tests cross lanes often. */
    size_t stretch_bytes;
    /*  The sink takes only each table's canonical form (a hash): what only
        the other outputs show (metadata directives) is not worked out. */
    bool canonical_only;
} wes_compile_sink_t;

/*  Compiles the file at path table by table: each table's definition is
    read again when its turn comes, built, checked, named, handed to sink
    and freed, so a big schema's model never exists at once. A table whose
    foreign key references a table not built yet waits for it, built; a
    lane keeps a few dozen waiting tables so and lets the others go, to
    build them again from the file when they can go on: the memory does
    not depend on the order of the document. It gives the
    model wes_compile_file would, table for table, or declines: on any
    error in the document, on type extensions, and on names that only a
    settling over the whole model decides (a constraint or index name that
    clashes with another table's). Returns 0 when every table went to the
    sink (the warnings are then added to diag), 1 when it declined (diag
    is untouched: compile with wes_compile_file, which reports), -1 when
    the sink failed. */
int wes_compile_file_stream (const char *path, const wes_compile_sink_t *sink, wes_diag_t *diag);

#endif
