/*  wes_cli_lint.c — `wesley lint`: hand-written migration SQL checked
    against the unsafe patterns the planner avoids (wes_lint), each finding
    with its line, column and safe rewrite. Exit codes: 0 no error finding
    (warnings alone pass unless --strict), 1 an error finding (or, with
    --strict, any finding), 2 usage, 3 a file unreadable or unparsable. */
#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/wes_lint.h"
#include "util/wes_buf.h"
#include "util/wes_limits.h"
#include "wes_cli.h"

/*  Columns read from the database for --db (format_type spelling) and each
    table's estimated rows: user tables in the schemas on the search path. */
static const char *s_db_query =
    "SELECT c.relname, c.reltuples::float8, a.attname, "
    "format_type(a.atttypid, a.atttypmod) "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
    "WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY (current_schemas(false)) "
    "ORDER BY c.relname, a.attnum LIMIT 1000000";

static PGresult *s_db_facts (const char *conninfo);
static void s_note_db (wes_lint_t *lint, PGresult *r);

int
wes_cli_lint (int argc, char **argv)
{
    wes_buf_t *usage = wes_buf_new ();
    wes_buf_puts (usage,
                  "usage: wesley lint FILE.sql [FILE.sql ...] [--json] [--strict] [--db CONNINFO]\n"
                  "                   [--big-rows N]\n"
                  "  Parses hand-written migration SQL with PostgreSQL's own parser (libpg_query)\n"
                  "  and reports the unsafe patterns Wesley's planner avoids, each as\n"
                  "  FILE:LINE:COL: error|warning: [rule] message, with a safe rewrite.\n"
                  "  FILE '-' is standard input. Each file is linted as one psql script run on\n"
                  "  its own: transaction blocks, SET [LOCAL] lock_timeout and tables created\n"
                  "  earlier in it are tracked.\n"
                  "  --json          findings as JSON on stdout (default: text)\n"
                  "  --strict        warnings fail too (exit 1) (default: only errors fail)\n"
                  "  --db CONNINFO   read current column types and table sizes (reltuples) from\n"
                  "                  this database (default: none; set-not-null is then always\n"
                  "                  reported, and an ALTER TYPE with an unknown old type that\n"
                  "                  could be binary-coercible is a warning)\n"
                  "  --big-rows N    with --db: report set-not-null only for tables above N\n"
                  "                  estimated rows (default 100000)\n"
                  "  Silence rules for one statement with a comment on the line before it:\n"
                  "        -- wesley-lint: ignore RULE[,RULE]   (or: ignore all)\n"
                  "rules (default severity):\n");
    for (size_t i = 0; wes_lint_rules[i]; i += 3) {
        wes_buf_printf (usage, "  %-31s %-7s %s\n", wes_lint_rules[i], wes_lint_rules[i + 1],
                        wes_lint_rules[i + 2]);
    }
    wes_buf_puts (usage, "exit: 0 no error finding, 1 an error finding (--strict: any finding),\n"
                         "      2 usage, 3 a file cannot be read or does not parse\n");
    const char **files = wes_alloc ((size_t)(argc > 0 ? argc : 1) * sizeof (char *));
    size_t n_files = 0;
    const char *db = NULL;
    bool json = false, strict = false;
    long long big_rows = 100000;
    int code = 0;
    for (int i = 0; i < argc && code == 0; i++) {
        const char *a = argv[i];
        if (strcmp (a, "--help") == 0 || strcmp (a, "-h") == 0) {
            fputs (wes_buf_data (usage), stdout);
            code = -1;
        }
        else if (strcmp (a, "--json") == 0) {
            json = true;
        }
        else if (strcmp (a, "--strict") == 0) {
            strict = true;
        }
        else if (strcmp (a, "--db") == 0 && i + 1 < argc) {
            db = argv[++i];
        }
        else if (strcmp (a, "--big-rows") == 0 && i + 1 < argc) {
            char *end = NULL;
            errno = 0;
            big_rows = strtoll (argv[++i], &end, 10);
            if (errno || !end || *end || end == argv[i] || big_rows < 0) {
                fprintf (stderr, "wesley lint: --big-rows: '%s' is not a row count\n", argv[i]);
                code = 2;
            }
        }
        else if (a[0] == '-' && a[1] != '\0') {
            fprintf (stderr, "wesley lint: unknown or incomplete argument '%s'\n%s", a,
                     wes_buf_data (usage));
            code = 2;
        }
        else {
            files[n_files++] = a;
        }
    }
    if (code == 0 && n_files == 0) {
        fprintf (stderr, "wesley lint: give at least one FILE.sql\n%s", wes_buf_data (usage));
        code = 2;
    }
    PGresult *facts = NULL;
    if (code == 0 && db) {
        facts = s_db_facts (db);
        if (!facts) {
            code = 3;
        }
    }
    if (code != 0) {
        wes_buf_destroy (&usage);
        free (files);
        return code < 0 ? 0 : code;
    }
    json_t *doc = json ? json_object () : NULL;
    json_t *jfiles = json ? json_array () : NULL;
    size_t errors = 0, warnings = 0;
    bool unreadable = false;
    for (size_t f = 0; f < n_files; f++) {
        char *text = NULL;
        size_t len = 0;
        json_t *jf = json ? json_object () : NULL;
        if (jf) {
            json_object_set_new (jf, "file", json_string (files[f]));
        }
        if (wes_cli_read_sql (files[f], &text, &len) != 0) {
            fprintf (stderr, "%s: error: cannot read: %s\n", files[f],
                     errno ? strerror (errno) : "larger than the limit (WES_MAX_SQL_BYTES)");
            unreadable = true;
            if (jf) {
                json_t *e = json_object ();
                json_object_set_new (e, "message", json_string ("cannot read the file"));
                json_object_set_new (jf, "error", e);
                json_object_set_new (jf, "findings", json_array ());
                json_array_append_new (jfiles, jf);
            }
            continue;
        }
        wes_lint_t *lint = wes_lint_new ();
        wes_lint_set_big_rows (lint, big_rows);
        if (facts) {
            s_note_db (lint, facts);
        }
        wes_pgparse_error_t perr;
        int rc = wes_lint_text (lint, files[f], text, len, NULL, &perr);
        if (rc != 0) {
            unreadable = true;
            fprintf (stderr, "%s:%d:%d: error: does not parse: %s\n", files[f], perr.line, perr.col,
                     perr.message);
            if (jf) {
                json_t *e = json_object ();
                json_object_set_new (e, "message", json_string (perr.message));
                json_object_set_new (e, "line", json_integer (perr.line));
                json_object_set_new (e, "col", json_integer (perr.col));
                json_object_set_new (jf, "error", e);
            }
        }
        json_t *jfind = json ? json_array () : NULL;
        for (size_t i = 0; i < wes_lint_count (lint); i++) {
            const wes_lint_finding_t *fd = wes_lint_finding (lint, i);
            if (json) {
                json_array_append_new (jfind, wes_lint_finding_json (fd));
            }
            else {
                wes_lint_print (fd, stdout);
            }
        }
        errors += wes_lint_errors (lint);
        warnings += wes_lint_warnings (lint);
        if (jf) {
            json_object_set_new (jf, "findings", jfind);
            json_array_append_new (jfiles, jf);
        }
        wes_lint_destroy (&lint);
        free (text);
    }
    if (json) {
        json_object_set_new (doc, "files", jfiles);
        json_object_set_new (doc, "errors", json_integer ((json_int_t)errors));
        json_object_set_new (doc, "warnings", json_integer ((json_int_t)warnings));
        char *out = json_dumps (doc, JSON_INDENT (2) | JSON_SORT_KEYS);
        if (out) {
            puts (out);
        }
        free (out);
        json_decref (doc);
    }
    else if (errors + warnings > 0) {
        printf ("%zu error%s, %zu warning%s\n", errors, errors == 1 ? "" : "s", warnings,
                warnings == 1 ? "" : "s");
    }
    PQclear (facts);
    wes_buf_destroy (&usage);
    free (files);
    if (unreadable) {
        return 3;
    }
    return errors > 0 || (strict && warnings > 0) ? 1 : 0;
}

int
wes_cli_lint_plan (wes_plan_t *plan, const wes_model_t *from, bool allow_unsafe, const char *verb)
{
    bool any_raw = false;
    for (size_t i = 0; i < wes_plan_count (plan) && !any_raw; i++) {
        any_raw = wes_plan_step (plan, i)->raw;
    }
    if (!any_raw) {
        return 0;
    }
    wes_lint_t *lint = wes_lint_new ();
    for (size_t t = 0; from && t < wes_model_table_count (from); t++) {
        const wes_table_t *tab = wes_model_table (from, t);
        for (size_t c = 0; c < tab->n_columns; c++) {
            wes_lint_note_column (lint, tab->name, tab->columns[c]->name, tab->columns[c]->type);
        }
    }
    char *error = NULL;
    if (wes_lint_plan (lint, plan, true, &error) != 0) {
        fprintf (stderr, "wesley %s: %s\n", verb, error);
        free (error);
        wes_lint_destroy (&lint);
        return -1;
    }
    for (size_t i = 0; i < wes_lint_count (lint); i++) {
        wes_lint_print (wes_lint_finding (lint, i), stderr);
    }
    size_t errors = wes_lint_errors (lint);
    wes_lint_destroy (&lint);
    if (errors > 0 && !allow_unsafe) {
        fprintf (stderr,
                 "wesley %s: refusing the plan: its hand-written SQL has %zu unsafe pattern%s "
                 "(above); make it safe, silence a reviewed finding with a comment\n"
                 "  -- wesley-lint: ignore RULE\n"
                 "on the line before the statement, or pass --allow-unsafe-sql\n",
                 verb, errors, errors == 1 ? "" : "s");
        return -1;
    }
    if (errors > 0) {
        fprintf (stderr,
                 "wesley %s: %zu unsafe pattern%s in hand-written SQL allowed by "
                 "--allow-unsafe-sql\n",
                 verb, errors, errors == 1 ? "" : "s");
    }
    return 0;
}

/*  --- helpers --- */

int
wes_cli_read_sql (const char *path, char **text, size_t *len)
{
    errno = 0;
    FILE *f = strcmp (path, "-") == 0 ? stdin : fopen (path, "rb");
    if (!f) {
        return -1;
    }
    wes_buf_t *b = wes_buf_new ();
    char chunk[65536];
    size_t n;
    int rc = 0;
    while ((n = fread (chunk, 1, sizeof chunk, f)) > 0) {
        if (wes_buf_len (b) + n > WES_MAX_SQL_BYTES) {
            errno = 0;
            rc = -1;
            break;
        }
        wes_buf_append (b, chunk, n);
    }
    if (rc == 0 && ferror (f)) {
        rc = -1;
    }
    if (f != stdin) {
        fclose (f);
    }
    *len = wes_buf_len (b);
    *text = wes_buf_steal (b);
    wes_buf_destroy (&b);
    if (rc != 0) {
        free (*text);
        *text = NULL;
    }
    return rc;
}

static PGresult *
s_db_facts (const char *conninfo)
{
    PGconn *conn = PQconnectdb (conninfo);
    if (PQstatus (conn) != CONNECTION_OK) {
        char *m = wes_strdup (PQerrorMessage (conn));
        m[strcspn (m, "\n")] = '\0';
        fprintf (stderr, "wesley lint: --db: cannot connect: %s\n", m);
        free (m);
        PQfinish (conn);
        return NULL;
    }
    PGresult *r = PQexec (conn, s_db_query);
    if (PQresultStatus (r) != PGRES_TUPLES_OK) {
        fprintf (stderr, "wesley lint: --db: cannot read the catalog: %s",
                 PQresultErrorMessage (r));
        PQclear (r);
        r = NULL;
    }
    PQfinish (conn);
    return r;
}

static void
s_note_db (wes_lint_t *lint, PGresult *r)
{
    for (int i = 0; i < PQntuples (r); i++) {
        const char *table = PQgetvalue (r, i, 0);
        if (i == 0 || strcmp (table, PQgetvalue (r, i - 1, 0)) != 0) {
            wes_lint_note_rows (lint, table, strtod (PQgetvalue (r, i, 1), NULL));
        }
        if (!PQgetisnull (r, i, 2)) {
            wes_lint_note_column (lint, table, PQgetvalue (r, i, 2), PQgetvalue (r, i, 3));
        }
    }
}
