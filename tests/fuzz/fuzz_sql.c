/*  fuzz_sql.c — libFuzzer harness for the SQL analysis: wes_pgparse (PostgreSQL's
    parser through libpg_query), wes_lint (migration lint rules) and
    wes_sqlrefs (column references against a catalog). Each input is SQL text:

    - wes_lint_text lints it twice, as a psql script and then as a raw plan
      step inside the executor's transaction, on one linter so that context
      flows; every finding must carry a rule, a position inside the text, a
      message, a rewrite, print and turn into JSON. A refusal must carry a
      message and, when it has an offset, a position inside the text;
    - wes_lint_statements splits it; every range lies inside the text;
    - wes_pgparse parses it once and wes_sqlrefs_add_stmt walks each
      statement against a small catalog (mixed-case, quoted, keyword and
      spaced names); the result must equal wes_sqlrefs_add_sql over the whole
      text, and every reference must be well formed.

    Any broken expectation aborts, which the fuzzer reports as a crash. The
    harness builds with WES_FUZZ, which lowers WES_MAX_SQL_BYTES and
    WES_MAX_SQL_TREE_DEPTH (common/util/wes_limits.h) so the limit paths are
    reached with small inputs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pg/wes_pgparse.h"
#include "pg/wes_sqlrefs.h"
#include "plan/wes_lint.h"
#include "schema/wes_model.h"
#include "util/wes_limits.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
s_check (int ok, const char *what)
{
    if (!ok) {
        fprintf (stderr, "fuzz_sql: broken expectation: %s\n", what);
        abort ();
    }
}

/*  users(id, email, "MixedCase", "Created At"), "Orders"(id, user_id,
    "Total"), "select"(from, "where"), t(a, b): names that need quoting,
    keep their case, or are reserved words. Built once per input, so that
    a leak in it shows like any other. */
static wes_model_t *
s_catalog (void)
{
    static const char *defs[][5] = {
        {"users", "id", "email", "MixedCase", "Created At"},
        {"Orders", "id", "user_id", "Total", NULL},
        {"select", "from", "where", NULL, NULL},
        {"t", "a", "b", NULL, NULL},
    };
    wes_model_t *m = wes_model_new ();
    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
        wes_table_t *t = wes_model_add_table (m, defs[i][0]);
        for (size_t j = 1; j < 5 && defs[i][j]; j++) {
            wes_table_add_column (t, defs[i][j], "text");
        }
    }
    wes_model_canonicalize (m);
    return m;
}

/*  An error from wes_pgparse (or a caller of it) over size bytes. */
static void
s_check_error (const wes_pgparse_error_t *err, size_t size)
{
    s_check (memchr (err->message, '\0', sizeof err->message) != NULL,
             "an unterminated error message");
    s_check (err->message[0] != '\0', "an error without a message");
    /*  libpg_query's JSON is always well formed: "unreadable" means the
        reader gave up (too deep), which must be said as such. */
    s_check (strncmp (err->message, "libpg_query returned an unreadable", 34) != 0,
             "an unexplained unreadable parse tree");
    s_check (err->offset >= -1 && (err->offset < 0 || (size_t)err->offset <= size),
             "an error offset outside the text");
    if (err->offset >= 0) {
        s_check (err->line >= 1 && err->col >= 1, "an error offset without a position");
    }
}

static void
s_lint (const char *sql, size_t size)
{
    wes_lint_t *lint = wes_lint_new ();
    wes_lint_note_column (lint, "users", "email", "character varying(100)");
    wes_lint_note_rows (lint, "users", 1e6);
    wes_pgparse_error_t err;
    memset (&err, 0, sizeof err);
    int rc = wes_lint_text (lint, "fuzz.sql", sql, size, NULL, &err);
    if (rc != 0) {
        s_check (rc == -1, "wes_lint_text returned neither 0 nor -1");
        s_check_error (&err, size);
        s_check (wes_lint_count (lint) == 0, "a refused text left findings");
    }
    else {
        const wes_lint_context_t step = {true, true, true};
        s_check (wes_lint_text (lint, "step", sql, size, &step, &err) == 0,
                 "a text parses once and not twice");
    }
    s_check (wes_lint_errors (lint) + wes_lint_warnings (lint) == wes_lint_count (lint),
             "errors and warnings do not add up");
    FILE *sink = fopen ("/dev/null", "w");
    s_check (sink != NULL, "cannot open /dev/null");
    for (size_t i = 0; i < wes_lint_count (lint); i++) {
        const wes_lint_finding_t *f = wes_lint_finding (lint, i);
        s_check (f && f->rule && f->rule[0], "a finding without a rule");
        s_check (f->source && f->message && f->message[0], "a finding without a message");
        s_check (f->line >= 1 && f->col >= 1, "a finding without a position");
        int line, col;
        wes_pgparse_position (sql, size, size, &line, &col);
        s_check (f->line <= line, "a finding past the last line");
        wes_lint_print (f, sink);
        json_t *j = wes_lint_finding_json (f);
        s_check (j != NULL, "a finding without JSON");
        char *text = json_dumps (j, JSON_COMPACT);
        s_check (text != NULL, "a finding whose JSON does not serialise");
        free (text);
        json_decref (j);
    }
    fclose (sink);
    wes_lint_destroy (&lint);

    wes_lint_stmt_t *stmts = NULL;
    size_t n = 0;
    if (wes_lint_statements (sql, size, &stmts, &n, &err) == 0) {
        s_check (rc == 0, "wes_lint_statements accepts what wes_lint_text refused");
        for (size_t i = 0; i < n; i++) {
            s_check (stmts[i].start <= size && stmts[i].len <= size - stmts[i].start,
                     "a statement range outside the text");
        }
        wes_lint_stmts_free (stmts, n);
    }
    else {
        s_check (rc != 0, "wes_lint_statements refuses what wes_lint_text accepted");
        s_check_error (&err, size);
    }
}

static void
s_refs (const char *sql, size_t size)
{
    wes_model_t *cat = s_catalog ();
    wes_sqlrefs_t *one = wes_sqlrefs_new (cat, NULL);
    wes_sqlrefs_t *all = wes_sqlrefs_new (cat, "public");
    wes_pgparse_error_t err;
    memset (&err, 0, sizeof err);
    json_t *tree = wes_pgparse (sql, size, &err);
    int rc_one = 0;
    if (tree) {
        json_t *list = json_object_get (tree, "stmts");
        s_check (json_is_array (list), "a tree without stmts");
        for (size_t i = 0; i < json_array_size (list); i++) {
            size_t start, len;
            wes_pgparse_stmt_range (tree, i, size, &start, &len);
            s_check (start <= size && len <= size - start, "a statement range outside the text");
            json_t *stmt = json_object_get (json_array_get (list, i), "stmt");
            if (wes_sqlrefs_add_stmt (one, stmt) != 0) {
                rc_one = -1;
            }
        }
        json_decref (tree);
    }
    else {
        s_check_error (&err, size);
        rc_one = -1;
    }
    int rc_all = wes_sqlrefs_add_sql (all, sql, size, &err);
    s_check (rc_one == rc_all, "statement-wise and whole-text walks disagree on success");
    if (rc_all != 0) {
        s_check (err.message[0] != '\0', "a refusal without a message");
    }
    char *a = wes_sqlrefs_describe (one);
    char *b = wes_sqlrefs_describe (all);
    s_check (a && b && strcmp (a, b) == 0, "statement-wise and whole-text walks disagree");
    free (a);
    free (b);
    for (size_t i = 0; i < wes_sqlrefs_count (all); i++) {
        const wes_sqlref_t *r = wes_sqlrefs_get (all, i);
        s_check (r && r->name, "a reference without a name");
        s_check ((r->kind == WES_SQLREF_COLUMN) == (r->column != NULL),
                 "a column on a reference that is not a column, or none on a column");
        if (r->kind == WES_SQLREF_TABLE || r->kind == WES_SQLREF_COLUMN
            || r->kind == WES_SQLREF_STAR || r->kind == WES_SQLREF_INSERT_ALL) {
            const wes_table_t *t = wes_model_find_table (cat, r->name);
            s_check (t != NULL, "a catalog reference to a table not in the catalog");
            if (r->column) {
                s_check (wes_table_find_column (t, r->column) != NULL,
                         "a column reference to a column not in the table");
            }
        }
    }
    s_check (wes_sqlrefs_get (all, wes_sqlrefs_count (all)) == NULL, "a reference past the end");
    wes_sqlrefs_clear (all);
    s_check (wes_sqlrefs_count (all) == 0, "clear left references");
    wes_sqlrefs_destroy (&one);
    wes_sqlrefs_destroy (&all);
    wes_model_destroy (&cat);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    /*  An exactly sized copy, not NUL-terminated, so that any read past
        the end of the text shows. */
    char *sql = malloc (size ? size : 1);
    s_check (sql != NULL, "out of memory");
    if (size) {
        memcpy (sql, data, size);
    }
    s_lint (sql, size);
    s_refs (sql, size);
    free (sql);
    return 0;
}
