/*  wes_cli.h — the `wesley` verbs. Each takes the arguments after its verb
    name and returns the process exit code. */
#ifndef WES_CLI_H
#define WES_CLI_H

int wes_cli_parse (int argc, char **argv);
int wes_cli_compile (int argc, char **argv);
int wes_cli_hash (int argc, char **argv);
int wes_cli_apply (int argc, char **argv);
int wes_cli_drift (int argc, char **argv);
int wes_cli_plan (int argc, char **argv);
/*  The fleet (wes_cli_fleet.c; status in wes_cli_status.c). */
int wes_cli_run (int argc, char **argv);
int wes_cli_resume (int argc, char **argv);
int wes_cli_status (int argc, char **argv);
int wes_cli_cancel (int argc, char **argv);
/*  Security (wes_cli_keygen.c). */
int wes_cli_keygen (int argc, char **argv);
/*  Operator insight (issue 6). */
int wes_cli_dead_columns (int argc, char **argv);
int wes_cli_lint (int argc, char **argv);
int wes_cli_watch (int argc, char **argv);

#include <stdbool.h>
#include <stddef.h>

#include "plan/wes_plan.h"
#include "schema/wes_model.h"

/*  Shared by the verbs: a schema file (an empty file is the empty schema)
    or a live database as a model (NULL after printing why), and the
    annotated SQL form of a plan (0 ok). */
wes_model_t *wes_cli_load_schema (const char *path);
wes_model_t *wes_cli_load_db (const char *conninfo, const char *schema);
int wes_cli_write_plan_sql (wes_plan_t *plan, const char *path);

/*  An integer flag value of verb in [min, max]; 0 ok, -1 after printing
    "wesley VERB: FLAG wants a whole number from MIN to MAX". */
int wes_cli_int_arg (const char *verb, const char *flag, const char *value, long min, long max,
                     long *out);
/*  What `wesley compile` writes: DIR/schema.sql, DIR/types.ts and
    DIR/schema.json of model (hash: its wes_model_hash): all three are
    streamed to temporary files in DIR and fsynced first, then renamed over
    the old ones (and DIR synced), so a failed write replaces nothing and a
    reader sees each file old or new, never half of one. 0 ok, -1 after
    printing why.
    Shared by compile and watch. */
int wes_cli_write_outputs (const wes_model_t *model, const char *hash, const char *dir);

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "coordinator/wes_store.h"

/*  Where a fleet run stands, read from its store (wes_cli_fleet.c): the
    document `wesley status --json` prints (caller json_decref()s it), and
    the plain text form (or that JSON) on out. */
json_t *wes_cli_status_json (wes_store_t *store);
void wes_cli_status_print (wes_store_t *store, bool json, FILE *out);

/*  Reads a SQL file ("-": stdin) of at most WES_MAX_SQL_BYTES: 0 and
    *text (caller frees) and *len, or -1 (errno says why; 0: too large). */
int wes_cli_read_sql (const char *path, char **text, size_t *len);

/*  Lints the raw (hand-written) steps of plan (wes_lint_plan; from: the
    schema the plan starts from, for column types, or NULL) and prints
    the findings on stderr. 0: no error finding, or allow_unsafe; -1:
    refused (printed why, naming --allow-unsafe-sql) or a raw step does
    not parse. */
int wes_cli_lint_plan (wes_plan_t *plan, const wes_model_t *from, bool allow_unsafe,
                       const char *verb);

#endif
