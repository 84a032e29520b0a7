/*  wes_lint.h — lints hand-written migration SQL against the unsafe
    patterns the planner avoids (DESIGN.md section 9), parsing it with
    PostgreSQL's own parser (wes_pgparse): each finding has a rule, a
    severity, the line and column of the statement or offending node, a
    message and the safe rewrite, spelled with the statement's own names.

    A linter keeps context across the texts fed to it, in order: explicit
    transaction blocks, whether lock_timeout / statement_timeout were set
    (SET, SET LOCAL, RESET), tables created earlier (operations on a brand
    new table need no CONCURRENTLY or NOT VALID), column types seen or
    noted (to tell a rewriting ALTER COLUMN TYPE from a binary-coercible
    one), NOT NULL checks added NOT VALID and validated (after which SET
    NOT NULL does not scan), and, when the caller noted them from a live
    database, table sizes.

    Rules (severity):
      index-not-concurrent (error; DROP INDEX: warning)  CREATE INDEX / REINDEX
          without CONCURRENTLY on an existing table; DROP INDEX without it
      concurrent-in-transaction (error)  CREATE/DROP INDEX CONCURRENTLY, REINDEX
          CONCURRENTLY or VACUUM inside a transaction block (or psql -1)
      constraint-not-valid (error)  FOREIGN KEY / CHECK added to an existing table
          without NOT VALID (also inline on ADD COLUMN); VALIDATE in the block
          that added it NOT VALID (warning: the lock is held through the scan)
      unique-without-index (error)  UNIQUE / PRIMARY KEY added without USING INDEX
      set-not-null (warning)  ALTER COLUMN SET NOT NULL on an existing table with no
          validated CHECK (col IS NOT NULL); with noted sizes, only above big_rows
      alter-type-rewrite (error; warning when the old type is unknown and the new
          one could be a binary-coercible target)  ALTER COLUMN TYPE that rewrites.
          Binary-coercible (no rewrite): varchar(n) -> varchar(m >= n), varchar or
          text; text -> varchar; numeric(p,s) -> numeric(p' >= p, s) or numeric;
          timestamp, timestamptz, time, timetz, interval: precision kept, raised
          or removed; the same type. Everything else rewrites.
      volatile-default (error; warning for an unknown function)  ADD COLUMN whose
          DEFAULT is volatile: random, clock_timestamp, timeofday, gen_random_uuid,
          gen_random_bytes, uuid_generate_*, nextval, setval, txid_current,
          pg_current_xact_id, random_normal; serial types, identity and stored
          generated columns. now(), current_timestamp and their family are stable
          and fine (PostgreSQL >= 11); literals, casts and known pure functions too.
      add-column-not-null-no-default (error)  ADD COLUMN ... NOT NULL without DEFAULT
      missing-lock-timeout (warning)  a lock-taking statement with no lock_timeout
          set earlier in its transaction or session; once per section
      set-local-outside-transaction (warning)  SET LOCAL outside BEGIN/COMMIT does nothing
      destructive (warning)  DROP TABLE, DROP COLUMN, TRUNCATE
      rename (warning)  RENAME of a table or column (breaks running code)
      whole-table-update (warning)  UPDATE or DELETE without WHERE
      vacuum-full, cluster (error); lock-table (warning)  ACCESS EXCLUSIVE for a
          whole rewrite, or an explicit strong lock
      transaction-control (error, raw plan steps only)  BEGIN/COMMIT/ROLLBACK in
          a step that Wesley wraps in its own transaction

    Suppression: a comment "-- wesley-lint: ignore RULE[,RULE]" (or "ignore
    all") on the line just before a statement silences those rules for it. */
#ifndef WES_LINT_H
#define WES_LINT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pg/wes_pgparse.h"
#include "plan/wes_plan.h"
#include "util/wes_mem.h"

typedef enum { WES_LINT_WARNING, WES_LINT_ERROR } wes_lint_severity_t;

typedef struct {
    const char *rule; /* static rule id: "index-not-concurrent" */
    wes_lint_severity_t severity;
    char *source;  /* the name the text was linted under (file, step id) */
    int line;      /* 1-based, in that text */
    int col;       /* 1-based, in characters */
    char *message; /* what is unsafe and why */
    char *rewrite; /* the safe form: SQL and/or steps, several lines */
} wes_lint_finding_t;

/*  How the text runs: the executor may already have opened a transaction
    and set lock_timeout around it (plan steps), and a raw plan step must
    not control transactions itself. */
typedef struct {
    bool in_transaction;   /* the text runs inside a transaction it did not open */
    bool lock_timeout_set; /* lock_timeout is already set around the text */
    bool raw_step;         /* a raw plan step: transaction control is an error */
} wes_lint_context_t;

/*  One statement of a text, as a raw plan step needs it. */
typedef struct {
    size_t start; /* byte offset of its first token */
    size_t len;   /* bytes up to and without its ';' */
    bool nontx;   /* PostgreSQL refuses it inside a transaction block */
    char *index;  /* CREATE INDEX CONCURRENTLY: the index name, else NULL */
    char *table;  /* the table it changes, or NULL */
} wes_lint_stmt_t;

typedef struct wes_lint wes_lint_t;

wes_lint_t *wes_lint_new (void);
void wes_lint_destroy (wes_lint_t **self_p);

/*  What the caller knows about the database: a column's current type
    (format_type() spelling) and a table's estimated rows (pg_class.reltuples;
    negative: unknown). With sizes noted, set-not-null fires only for tables
    above big_rows (default 100000) or of unknown size. */
void wes_lint_note_column (wes_lint_t *self, const char *table, const char *column,
                           const char *type);
void wes_lint_note_rows (wes_lint_t *self, const char *table, double rows);
void wes_lint_set_big_rows (wes_lint_t *self, int64_t big_rows);

/*  Lints len bytes of sql under name; findings are appended. ctx NULL: a
    plain psql script. Returns 0, or -1 (no finding added) with *error
    filled when PostgreSQL's parser rejects the text. */
WES_MUST_USE int wes_lint_text (wes_lint_t *self, const char *name, const char *sql, size_t len,
                                const wes_lint_context_t *ctx, wes_pgparse_error_t *error);

/*  Lints every step of plan in plan order, each as it runs (tx: inside the
    executor's transaction with lock_timeout set; nontx: outside one, with
    a session lock_timeout; batched: skipped, the SQL is a description),
    so that context flows from step to step. Findings carry the step id as
    source. raw_only: keep only the findings of raw steps (other steps
    still feed the context). Returns 0, or -1 with *error (caller frees)
    when a raw step does not parse. */
WES_MUST_USE int wes_lint_plan (wes_lint_t *self, const wes_plan_t *plan, bool raw_only,
                                char **error);

size_t wes_lint_count (const wes_lint_t *self);
const wes_lint_finding_t *wes_lint_finding (const wes_lint_t *self, size_t i);
size_t wes_lint_errors (const wes_lint_t *self);
size_t wes_lint_warnings (const wes_lint_t *self);

/*  A finding as "SOURCE:LINE:COL: error: [rule] message" and an indented
    "safe rewrite:" block, each line ending in '\n'. */
void wes_lint_print (const wes_lint_finding_t *f, FILE *out);
/*  {"rule", "severity", "file", "line", "col", "message", "rewrite"} (caller owns). */
json_t *wes_lint_finding_json (const wes_lint_finding_t *f);

/*  The statements of a text with what a raw plan step needs to know;
    *stmts (caller frees with wes_lint_stmts_free) and *n. Returns 0, or -1
    with *error when the text does not parse. */
WES_MUST_USE int wes_lint_statements (const char *sql, size_t len, wes_lint_stmt_t **stmts,
                                      size_t *n, wes_pgparse_error_t *error);
void wes_lint_stmts_free (wes_lint_stmt_t *stmts, size_t n);

/*  The rule ids with their default severity and a one-line description,
    NULL-terminated triples: id, "error"|"warning", description. */
extern const char *const wes_lint_rules[];

#endif
