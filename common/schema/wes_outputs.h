/*  wes_outputs.h — the three files of `wesley compile` (schema.sql,
    types.ts, schema.json) and the schema hash, written from a model handed
    over one table at a time, in any order, on up to WES_OUTPUTS_LANES
    threads at once. A frontier follows the tables in name order as they
    come: it hashes each table's canonical object and writes its pieces of
    each file's first section (schema.sql's CREATE TABLEs, types.ts's
    interfaces, schema.json's meta members) straight into the file; a
    table the frontier has not reached waits for it in memory, or in a
    spool file (unlinked temporary files). The frontier also appends the
    table's pieces of the later sections (schema.json's canonical model,
    schema.sql's foreign keys, indexes, policies and records) to a spool
    per section, so that wes_outputs_finish copies each section whole
    into its file, then writes the hash into the heads. A big schema's compile so holds one table per lane at
    a time, not the whole model and not the 60 MB of its outputs. The bytes are those of
    wes_emit_sql_write, wes_emit_ts_write and wes_model_write_document
    (plus a newline) for the same model. */
#ifndef WES_OUTPUTS_H
#define WES_OUTPUTS_H

#include <stdbool.h>
#include <stddef.h>

#include "wes_model.h"

typedef struct wes_outputs wes_outputs_t;

/*  dir: where the three files are written, or NULL for the hash only.
    Never NULL; a failure to create the spool files is reported by
    wes_outputs_begin. */
wes_outputs_t *wes_outputs_new (const char *dir);
/*  Before begin: at most bytes of tables' pieces are held in memory until
    the frontier reaches them (default 2 MiB for the hash alone, 1 MiB
    with the files); the others are read back from a spool when it does.
    0 holds none (tests: only a table handed over at the frontier is taken
    without a spool). */
void wes_outputs_hold (wes_outputs_t *self, size_t bytes);
/*  Removes the temporary files of an outputs not committed. */
void wes_outputs_destroy (wes_outputs_t **self_p);

/*  Starts: enums is the schema's enums (canonicalized; borrowed until
    wes_outputs_finish; its tables are not read), and the n_tables tables
    that will come, by SQL and GraphQL name (copied). With a dir, creates
    the three files under temporary names beside their final ones and
    writes their heads. 0, or -1 (see wes_outputs_error). */
int wes_outputs_begin (wes_outputs_t *self, const wes_model_t *enums, size_t n_tables,
                       const char *const *sql_names, const char *const *gql_names);
/*  Threads that may hand tables over at once, each on a lane of its own. */
#define WES_OUTPUTS_LANES 4

/*  One table (canonicalized, named at begin), rendered on lane (below
    WES_OUTPUTS_LANES) at once: the caller may free it on
    return. Tables may come on different lanes from different threads at
    the same time, never on one lane from two threads. 0, or -1. */
int wes_outputs_table (wes_outputs_t *self, size_t lane, const wes_table_t *t);
/*  After the last table: the hash into hash_out, and with a dir the three
    files written to temporary names beside their final ones and synced.
    0, or -1. */
int wes_outputs_finish (wes_outputs_t *self, char hash_out[65]);
/*  Renames the three files over the final names (a reader sees each file
    old or new), then syncs the directory. 0, or -1. */
int wes_outputs_commit (wes_outputs_t *self);

/*  Why the last call failed ("" when none). */
const char *wes_outputs_error (const wes_outputs_t *self);
/*  Tables laid out (once finished). */
size_t wes_outputs_tables (const wes_outputs_t *self);

#endif
