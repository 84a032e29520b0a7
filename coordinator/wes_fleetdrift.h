/*  wes_fleetdrift.h — drift over a whole fleet (D014): reads every target's
    live schema in parallel (a bounded pool of threads, one libpq connection
    each at a time), groups the targets by what they hold — the canonical
    hash of the live model plus the INVALID indexes, which are drift even
    when their definition matches — and keeps one model per group, so the
    differences of a group are computed and listed once however many
    targets share them. Targets that could not be read are grouped by their
    error message. */
#ifndef WES_FLEETDRIFT_H
#define WES_FLEETDRIFT_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "schema/wes_model.h"
#include "wes_targets.h"

/*  Bounds of the thread pool (--parallel): past a few dozen, the fleet's
    servers and our file descriptors pay more than the wall clock gains. */
#define WES_FLEETDRIFT_PARALLEL_DEFAULT 8
#define WES_FLEETDRIFT_PARALLEL_MAX 64
/*  Per-connection limits, so one dead or stuck host cannot hang the check:
    libpq's connect_timeout, and the server-side statement_timeout of the
    catalog queries. */
#define WES_FLEETDRIFT_CONNECT_TIMEOUT_DEFAULT 10 /* seconds */
#define WES_FLEETDRIFT_CONNECT_TIMEOUT_MAX 3600
#define WES_FLEETDRIFT_STATEMENT_TIMEOUT_DEFAULT 30000 /* milliseconds */
#define WES_FLEETDRIFT_STATEMENT_TIMEOUT_MAX 3600000

typedef struct {
    const char *db_schema;    /* database schema to read (NULL: public) */
    int parallel;             /* 1..WES_FLEETDRIFT_PARALLEL_MAX targets read at once */
    int connect_timeout_s;    /* libpq connect_timeout, 1.. seconds */
    int statement_timeout_ms; /* statement_timeout of the catalog queries, 1.. ms */
    /*  Called from the calling thread (never from a pool thread) whenever
        the number of targets checked has grown, and once at the end; may be
        NULL. */
    void (*progress) (size_t done, size_t total, void *arg);
    void *progress_arg; /* passed to progress */
} wes_fleetdrift_opts_t;

typedef struct wes_fleetdrift wes_fleetdrift_t;

/*  Checks every target of targets against want (both borrowed, and both
    must outlive the result). Returns the grouped result (caller destroys),
    or NULL with *error set (caller frees) when the check could not run at
    all (bad options, no thread could be started). A target that cannot be
    read is a result, not a failure. */
wes_fleetdrift_t *wes_fleetdrift_run (const wes_model_t *want, const wes_targets_t *targets,
                                      const wes_fleetdrift_opts_t *opts, char **error);
void wes_fleetdrift_destroy (wes_fleetdrift_t **self_p);

/*  Counts over the whole fleet. */
size_t wes_fleetdrift_target_count (const wes_fleetdrift_t *self);
size_t wes_fleetdrift_in_sync_count (const wes_fleetdrift_t *self);
size_t wes_fleetdrift_drifted_count (const wes_fleetdrift_t *self);
size_t wes_fleetdrift_error_count (const wes_fleetdrift_t *self);

/*  Groups of readable targets, largest first, then by hash and INVALID
    indexes. A group is in sync when its hash is the schema's and it has no
    INVALID index. */
size_t wes_fleetdrift_group_count (const wes_fleetdrift_t *self);

/*  Prints the result for people: one summary line, one line per group
    (count, up to show target names then "and N more"), each group's
    differences once, one line per distinct error. */
void wes_fleetdrift_print (const wes_fleetdrift_t *self, const char *schema_path, size_t show,
                           FILE *out);

/*  {"schema_hash", "targets", "in_sync", "drifted", "unreadable",
      "groups": [{"hash", "in_sync", "count", "targets": [every name],
                  "invalid_indexes": [{"table", "index"}], "differences": [...]}],
      "errors": [{"message", "count", "targets": [every name]}]}
    Caller owns. */
json_t *wes_fleetdrift_to_json (const wes_fleetdrift_t *self);

/*  The INVALID indexes (a failed CREATE INDEX CONCURRENTLY) of schema over
    conn, as a JSON array of {"table", "index"} sorted by table then index;
    NULL with *error set (caller frees) when the query failed. Shared with
    single-database drift. */
json_t *wes_fleetdrift_invalid_indexes (PGconn *conn, const char *schema, char **error);

#endif
