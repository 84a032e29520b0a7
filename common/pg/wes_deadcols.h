/*  wes_deadcols.h — dead columns (D015): the columns of a schema that no
    statement recorded by pg_stat_statements references, each with a
    confidence (LOW, MEDIUM, HIGH) and the reasons for it.

    Statements are parsed with PostgreSQL's own parser (wes_sqlrefs). The
    analysis is fed either from a live database (wes_deadcols_read) or
    directly (the wes_deadcols_set_window/add_* calls), then reported.

    Confidence of an unreferenced column c of table t starts at HIGH and
    is lowered by every rule that applies; each gives a reason:
      LOW     t was touched by no statement at all
      LOW     t was read through SELECT * / t.* / a whole-row reference
      LOW     t was written by INSERT (or COPY FROM) without a column list
      LOW     a view's definition uses c (pg_depend), or a function that
              mentions t also mentions c (prosrc, by name)
      LOW     the window is shorter than a seventh of --min-window
      MEDIUM  the window is shorter than --min-window
      MEDIUM  t had fewer than --min-calls recorded calls
      MEDIUM  any eviction since the reset (pg_stat_statements_info.dealloc
              > 0): each one drops the least-called 5% of entries, which are
              exactly the rare statements that might use c
      MEDIUM  a view reads t, or a function mentions t (their inner
              statements are not seen column by column)
      MEDIUM  an unparsable statement mentions t by name
    Functions are found by searching their source text (prosrc) for the
    table's name as a word, plus pg_depend for SQL-standard bodies: a
    function that builds its SQL from pieces (EXECUTE format(...)) with
    the name split is not found. */
#ifndef WES_DEADCOLS_H
#define WES_DEADCOLS_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "schema/wes_model.h"
#include "util/wes_mem.h"

typedef struct wes_deadcols wes_deadcols_t;

typedef struct {
    const char *db_schema; /* database schema of the model's tables; NULL: "public" */
    int64_t min_window;    /* seconds of observation HIGH needs (default 7 days) */
    int64_t min_calls;     /* recorded calls on a table HIGH needs (default 1000) */
} wes_deadcols_opts_t;

#define WES_DEADCOLS_DEFAULT_MIN_WINDOW (7 * 24 * 3600)
#define WES_DEADCOLS_DEFAULT_MIN_CALLS 1000

/*  Errors of wes_deadcols_read. */
#define WES_DEADCOLS_ECONNECT (-1) /* cannot connect */
#define WES_DEADCOLS_ENOEXT (-2)   /* pg_stat_statements not installed or not preloaded */
#define WES_DEADCOLS_EPRIV (-3)    /* the role cannot read other users' statements */
#define WES_DEADCOLS_EQUERY (-4)   /* a catalog query failed */

/*  model is borrowed and must outlive the analysis; opts is copied. */
wes_deadcols_t *wes_deadcols_new (const wes_model_t *model, const wes_deadcols_opts_t *opts);
void wes_deadcols_destroy (wes_deadcols_t **self_p);

/*  Reads pg_stat_statements (this database's entries only),
    pg_stat_statements_info, and the views and functions over the
    model's tables, from the database at conninfo. Returns 0, or one of
    the WES_DEADCOLS_E* codes with *error (caller frees) saying what to
    do. */
WES_MUST_USE int wes_deadcols_read (wes_deadcols_t *self, const char *conninfo, char **error);

/*  The inputs, one by one. window: seconds since the statistics were
    reset; stats_reset: that time as text (copied, may be NULL). */
void wes_deadcols_set_window (wes_deadcols_t *self, double window, const char *stats_reset,
                              int64_t evictions);
/*  One recorded statement (normalised text with $n parameters) and its
    calls. Unparsable statements are counted, and lower the confidence of
    the tables they name. */
void wes_deadcols_add_statement (wes_deadcols_t *self, const char *query, int64_t calls);
/*  View `view` reads table (and column, NULL for the table as a whole). */
void wes_deadcols_add_view (wes_deadcols_t *self, const char *view, const char *table,
                            const char *column);
/*  Function `function` with source text src (may be NULL): which of the
    model's tables and columns it mentions. */
void wes_deadcols_add_function_source (wes_deadcols_t *self, const char *function, const char *src);
/*  Function `function` depends on table (and column, or NULL) in pg_depend. */
void wes_deadcols_add_function_dep (wes_deadcols_t *self, const char *function, const char *table,
                                    const char *column);

/*  The report: {"schema", "stats_reset", "window_seconds", "window",
    "statements", "calls", "evictions", "unparsable", "min_window_seconds",
    "min_calls", "tables": [...], "findings": [{"table", "column",
    "confidence", "reasons": [...]}]}. Caller owns. */
json_t *wes_deadcols_report (wes_deadcols_t *self);
/*  The same report as text: a header line, then one line per finding,
    "table.column  CONFIDENCE  reason; reason". */
void wes_deadcols_print (wes_deadcols_t *self, FILE *out);

/*  "30m", "12h", "7d", "2w", "45s", "0", a plain number of seconds.
    Returns 0, or -1 for anything else (negative, overflow, junk). */
WES_MUST_USE int wes_deadcols_parse_duration (const char *text, int64_t *seconds);
/*  seconds as "3d 4h", "12m 5s", "0s" into buf. */
void wes_deadcols_format_duration (double seconds, char *buf, size_t size);

#endif
