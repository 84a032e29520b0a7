/*  test_lint.c — wes_lint: every rule fires on its unsafe form with the
    right line, column and rewrite, and stays quiet on the safe form;
    suppression comments; transaction and timeout tracking; the new-table
    exemption; raw-step splitting; and the property that the planner's own
    steps, for every example schema and a set of targeted changes, draw no
    error finding and no warning the planner handles by construction. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plan/wes_lint.h"
#include "plan/wes_planner.h"
#include "schema/wes_compile.h"
#include "schema/wes_parser.h"
#include "util/wes_buf.h"

static wes_lint_t *
s_lint (const char *sql, const wes_lint_context_t *ctx)
{
    wes_lint_t *lint = wes_lint_new ();
    wes_pgparse_error_t err;
    if (wes_lint_text (lint, "m.sql", sql, strlen (sql), ctx, &err) != 0) {
        fail_msg ("did not parse: %s at %d:%d\n%s", err.message, err.line, err.col, sql);
    }
    return lint;
}

static size_t
s_count (const wes_lint_t *lint, const char *rule)
{
    size_t n = 0;
    for (size_t i = 0; i < wes_lint_count (lint); i++) {
        n += strcmp (wes_lint_finding (lint, i)->rule, rule) == 0;
    }
    return n;
}

static void
s_dump (const wes_lint_t *lint)
{
    for (size_t i = 0; i < wes_lint_count (lint); i++) {
        wes_lint_print (wes_lint_finding (lint, i), stderr);
    }
}

/*  The one finding of rule, checked for severity, position and rewrite. */
static const wes_lint_finding_t *
s_expect (const wes_lint_t *lint, const char *rule, wes_lint_severity_t sev, int line, int col,
          const char *rewrite_part)
{
    const wes_lint_finding_t *f = NULL;
    for (size_t i = 0; i < wes_lint_count (lint); i++) {
        if (strcmp (wes_lint_finding (lint, i)->rule, rule) == 0) {
            if (f) {
                s_dump (lint);
                fail_msg ("rule %s fired more than once", rule);
            }
            f = wes_lint_finding (lint, i);
        }
    }
    if (!f) {
        s_dump (lint);
        fail_msg ("rule %s did not fire", rule);
    }
    assert_int_equal (f->severity, sev);
    if (f->line != line || f->col != col) {
        s_dump (lint);
        fail_msg ("rule %s at %d:%d, expected %d:%d", rule, f->line, f->col, line, col);
    }
    assert_string_equal (f->source, "m.sql");
    if (rewrite_part && (!f->rewrite || !strstr (f->rewrite, rewrite_part))) {
        fail_msg ("rewrite of %s lacks \"%s\":\n%s", rule, rewrite_part,
                  f->rewrite ? f->rewrite : "(none)");
    }
    return f;
}

static void
s_quiet (const wes_lint_t *lint, const char *rule)
{
    if (s_count (lint, rule) != 0) {
        s_dump (lint);
        fail_msg ("rule %s fired on the safe form", rule);
    }
}

/*  Prefix that sets lock_timeout, so missing-lock-timeout stays out of the
    way of the rule under test (line 1). */
#define LT "SET lock_timeout = '2s';\n"

static void
test_index_not_concurrent (void **state)
{
    (void)state;
    wes_lint_t *l = s_lint (LT "\n  CREATE UNIQUE INDEX users_email ON users (email);", NULL);
    s_expect (l, "index-not-concurrent", WES_LINT_ERROR, 3, 3,
              "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email ON users (email);");
    assert_int_equal (wes_lint_count (l), 1);
    wes_lint_destroy (&l);

    l = s_lint (LT "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email ON users (email);", NULL);
    s_quiet (l, "index-not-concurrent");
    assert_int_equal (wes_lint_count (l), 0);
    wes_lint_destroy (&l);

    l = s_lint (LT "DROP INDEX users_email;\nREINDEX TABLE users;\n"
                   "DROP INDEX CONCURRENTLY IF EXISTS x;\nREINDEX TABLE CONCURRENTLY users;",
                NULL);
    assert_int_equal (s_count (l, "index-not-concurrent"), 2);
    const wes_lint_finding_t *d = wes_lint_finding (l, 0);
    assert_int_equal (d->severity, WES_LINT_WARNING);
    assert_int_equal (d->line, 2);
    assert_non_null (strstr (d->rewrite, "DROP INDEX CONCURRENTLY IF EXISTS users_email;"));
    const wes_lint_finding_t *r = wes_lint_finding (l, 1);
    assert_int_equal (r->severity, WES_LINT_ERROR);
    assert_int_equal (r->line, 3);
    assert_non_null (strstr (r->rewrite, "REINDEX (CONCURRENTLY) TABLE users;"));
    wes_lint_destroy (&l);
}

static void
test_concurrent_in_transaction (void **state)
{
    (void)state;
    wes_lint_t *l = s_lint ("BEGIN;\nSET LOCAL lock_timeout = '1s';\n"
                            "CREATE INDEX CONCURRENTLY i ON t (a);\nCOMMIT;\n"
                            "CREATE INDEX CONCURRENTLY j ON t (b);",
                            NULL);
    const wes_lint_finding_t *f =
        s_expect (l, "concurrent-in-transaction", WES_LINT_ERROR, 3, 1, "COMMIT;");
    assert_non_null (strstr (f->message, "psql -1"));
    wes_lint_destroy (&l);

    /* START TRANSACTION, DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY, VACUUM */
    l = s_lint ("START TRANSACTION;\nDROP INDEX CONCURRENTLY i;\nREINDEX INDEX CONCURRENTLY j;\n"
                "VACUUM t;\nROLLBACK;\nVACUUM t;",
                NULL);
    assert_int_equal (s_count (l, "concurrent-in-transaction"), 3);
    wes_lint_destroy (&l);

    /* the caller's transaction (a tx plan step) counts too */
    wes_lint_context_t tx = {.in_transaction = true, .lock_timeout_set = true};
    l = s_lint ("CREATE INDEX CONCURRENTLY i ON t (a);", &tx);
    s_expect (l, "concurrent-in-transaction", WES_LINT_ERROR, 1, 1, NULL);
    wes_lint_destroy (&l);
}

static void
test_constraint_not_valid (void **state)
{
    (void)state;
    wes_lint_t *l = s_lint (LT "ALTER TABLE orders\n"
                               "  ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES "
                               "users (id);",
                            NULL);
    s_expect (l, "constraint-not-valid", WES_LINT_ERROR, 3, 7,
              "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES "
              "users (id) NOT VALID;");
    s_expect (l, "constraint-not-valid", WES_LINT_ERROR, 3, 7,
              "ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk;");
    wes_lint_destroy (&l);

    l = s_lint (LT "ALTER TABLE orders ADD CONSTRAINT positive CHECK (total > 0);", NULL);
    s_expect (l, "constraint-not-valid", WES_LINT_ERROR, 2, 24,
              "ALTER TABLE orders VALIDATE CONSTRAINT positive;");
    s_expect (l, "constraint-not-valid", WES_LINT_ERROR, 2, 24,
              "ALTER TABLE orders ADD CONSTRAINT positive CHECK (total > 0) NOT VALID;");
    wes_lint_destroy (&l);

    l = s_lint (LT "ALTER TABLE orders ADD CONSTRAINT positive CHECK (total > 0) NOT VALID;\n"
                   "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (u) REFERENCES users NOT "
                   "VALID;\nALTER TABLE orders VALIDATE CONSTRAINT positive;",
                NULL);
    assert_int_equal (wes_lint_count (l), 0);
    wes_lint_destroy (&l);

    /* NOT VALID, then VALIDATE in the same transaction: the lock is held throughout */
    l = s_lint ("BEGIN;\nSET LOCAL lock_timeout = '2s';\n"
                "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (u) REFERENCES users NOT VALID;\n"
                "ALTER TABLE orders VALIDATE CONSTRAINT fk;\nCOMMIT;\n"
                "BEGIN;\nSET LOCAL lock_timeout = '2s';\n"
                "ALTER TABLE orders VALIDATE CONSTRAINT fk;\nCOMMIT;",
                NULL);
    s_expect (l, "constraint-not-valid", WES_LINT_WARNING, 4, 1,
              "ALTER TABLE orders VALIDATE CONSTRAINT fk;\nCOMMIT;");
    wes_lint_destroy (&l);
}

static void
test_unique_without_index (void **state)
{
    (void)state;
    wes_lint_t *l =
        s_lint (LT "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);", NULL);
    s_expect (l, "unique-without-index", WES_LINT_ERROR, 2, 23,
              "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_key ON users (email);");
    s_expect (l, "unique-without-index", WES_LINT_ERROR, 2, 23,
              "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX "
              "users_email_key;");
    wes_lint_destroy (&l);

    l = s_lint (LT "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX "
                   "users_email_key;",
                NULL);
    s_quiet (l, "unique-without-index");
    assert_int_equal (wes_lint_count (l), 0);
    wes_lint_destroy (&l);
}

static void
test_set_not_null (void **state)
{
    (void)state;
    wes_lint_t *l = s_lint (LT "ALTER TABLE users ALTER COLUMN name SET NOT NULL;", NULL);
    s_expect (l, "set-not-null", WES_LINT_WARNING, 2, 1,
              "ALTER TABLE users ADD CONSTRAINT users_name_not_null CHECK (name IS NOT NULL) NOT "
              "VALID;");
    wes_lint_destroy (&l);

    /* the four-step form: a validated check first, no finding */
    l = s_lint (LT "ALTER TABLE users ADD CONSTRAINT nn CHECK (name IS NOT NULL) NOT VALID;\n"
                   "ALTER TABLE users VALIDATE CONSTRAINT nn;\n"
                   "ALTER TABLE users ALTER COLUMN name SET NOT NULL;\n"
                   "ALTER TABLE users DROP CONSTRAINT nn;",
                NULL);
    assert_int_equal (wes_lint_count (l), 0);
    wes_lint_destroy (&l);

    /* not validated: still a scan */
    l = s_lint (LT "ALTER TABLE users ADD CONSTRAINT nn CHECK (name IS NOT NULL) NOT VALID;\n"
                   "ALTER TABLE users ALTER COLUMN name SET NOT NULL;",
                NULL);
    assert_int_equal (s_count (l, "set-not-null"), 1);
    wes_lint_destroy (&l);

    /* known sizes: only big tables */
    const char *sql = LT "ALTER TABLE small ALTER COLUMN a SET NOT NULL;\n"
                         "ALTER TABLE big ALTER COLUMN a SET NOT NULL;";
    l = wes_lint_new ();
    wes_lint_note_rows (l, "small", 10);
    wes_lint_note_rows (l, "big", 5000000);
    wes_lint_set_big_rows (l, 100000);
    wes_pgparse_error_t err;
    assert_int_equal (wes_lint_text (l, "m.sql", sql, strlen (sql), NULL, &err), 0);
    s_expect (l, "set-not-null", WES_LINT_WARNING, 3, 1, NULL);
    assert_non_null (strstr (wes_lint_finding (l, 0)->message, "5000000 rows"));
    wes_lint_destroy (&l);
}

static void
test_alter_type (void **state)
{
    (void)state;
    wes_lint_t *l = s_lint (LT "ALTER TABLE users ALTER COLUMN age TYPE bigint;", NULL);
    s_expect (l, "alter-type-rewrite", WES_LINT_ERROR, 2, 32,
              "ALTER TABLE users ADD COLUMN age__new bigint;");
    wes_lint_destroy (&l);

    /* unknown old type, possibly binary-coercible target: a warning */
    l = s_lint (LT "ALTER TABLE users ALTER COLUMN nick TYPE text;", NULL);
    s_expect (l, "alter-type-rewrite", WES_LINT_WARNING, 2, 32, NULL);
    wes_lint_destroy (&l);

    /* known old types: the documented binary-coercible list is quiet */
    const char *sql = LT "ALTER TABLE t ALTER COLUMN v TYPE varchar(100);\n"
                         "ALTER TABLE t ALTER COLUMN v TYPE text;\n"
                         "ALTER TABLE t ALTER COLUMN n TYPE numeric(14,2);\n"
                         "ALTER TABLE t ALTER COLUMN ts TYPE timestamptz(6);\n"
                         "ALTER TABLE t ALTER COLUMN i TYPE bigint;\n"
                         "ALTER TABLE t ALTER COLUMN w TYPE varchar(10);";
    l = wes_lint_new ();
    wes_lint_note_column (l, "t", "v", "character varying(50)");
    wes_lint_note_column (l, "t", "n", "numeric(12,2)");
    wes_lint_note_column (l, "t", "ts", "timestamp(3) with time zone");
    wes_lint_note_column (l, "t", "i", "integer");
    wes_lint_note_column (l, "t", "w", "character varying(20)");
    wes_pgparse_error_t err;
    assert_int_equal (wes_lint_text (l, "m.sql", sql, strlen (sql), NULL, &err), 0);
    assert_int_equal (s_count (l, "alter-type-rewrite"), 2);
    assert_int_equal (wes_lint_finding (l, 0)->line, 6); /* integer -> bigint */
    assert_non_null (strstr (wes_lint_finding (l, 0)->message, "from integer"));
    assert_int_equal (wes_lint_finding (l, 1)->line, 7); /* varchar(20) -> varchar(10) */
    assert_non_null (strstr (wes_lint_finding (l, 1)->message, "may also fail"));
    wes_lint_destroy (&l);
}

static void
test_volatile_default (void **state)
{
    (void)state;
    wes_lint_t *l =
        s_lint (LT "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();", NULL);
    const wes_lint_finding_t *f = s_expect (l, "volatile-default", WES_LINT_ERROR, 2, 41,
                                            "ALTER TABLE users ADD COLUMN token uuid;");
    assert_non_null (strstr (f->message, "gen_random_uuid"));
    wes_lint_destroy (&l);

    l = s_lint (LT "ALTER TABLE users ADD COLUMN n bigserial;\n"
                   "ALTER TABLE users ADD COLUMN r float8 DEFAULT random() * 2;\n"
                   "ALTER TABLE users ADD COLUMN g int GENERATED ALWAYS AS IDENTITY;\n"
                   "ALTER TABLE users ADD COLUMN u uuid DEFAULT uuid_generate_v4();",
                NULL);
    assert_int_equal (s_count (l, "volatile-default"), 4);
    wes_lint_destroy (&l);

    /* stable and constant defaults are fine since PG 11 */
    l = s_lint (LT "ALTER TABLE users ADD COLUMN c timestamptz NOT NULL DEFAULT now();\n"
                   "ALTER TABLE users ADD COLUMN d timestamptz DEFAULT current_timestamp;\n"
                   "ALTER TABLE users ADD COLUMN e text NOT NULL DEFAULT 'x'::text;",
                NULL);
    assert_int_equal (wes_lint_count (l), 0);
    wes_lint_destroy (&l);

    /* an unknown function: a warning */
    l = s_lint (LT "ALTER TABLE users ADD COLUMN f int DEFAULT my_func();", NULL);
    s_expect (l, "volatile-default", WES_LINT_WARNING, 2, 36, NULL);
    wes_lint_destroy (&l);
}

static void
test_add_column_not_null (void **state)
{
    (void)state;
    wes_lint_t *l = s_lint (LT "ALTER TABLE users ADD COLUMN flag boolean NOT NULL;", NULL);
    s_expect (l, "add-column-not-null-no-default", WES_LINT_ERROR, 2, 43,
              "ALTER TABLE users ADD COLUMN flag boolean NOT NULL DEFAULT <constant>;");
    wes_lint_destroy (&l);
    l = s_lint (LT "ALTER TABLE users ADD COLUMN flag boolean NOT NULL DEFAULT false;", NULL);
    assert_int_equal (wes_lint_count (l), 0);
    wes_lint_destroy (&l);
}

static void
test_lock_timeout (void **state)
{
    (void)state;
    /* once per section: the session before BEGIN, then the transaction */
    wes_lint_t *l = s_lint ("ALTER TABLE a ADD COLUMN x int;\nALTER TABLE b ADD COLUMN y int;\n"
                            "BEGIN;\nALTER TABLE c ADD COLUMN z int;\nCOMMIT;",
                            NULL);
    assert_int_equal (s_count (l, "missing-lock-timeout"), 2);
    assert_int_equal (wes_lint_finding (l, 0)->line, 1);
    assert_non_null (strstr (wes_lint_finding (l, 0)->rewrite, "SET lock_timeout"));
    assert_int_equal (wes_lint_finding (l, 1)->line, 4);
    assert_non_null (strstr (wes_lint_finding (l, 1)->rewrite, "SET LOCAL lock_timeout"));
    wes_lint_destroy (&l);

    /* SET LOCAL in the transaction covers it, and ends with it */
    l = s_lint ("BEGIN;\nSET LOCAL lock_timeout = '2s';\nALTER TABLE c ADD COLUMN z int;\nCOMMIT;\n"
                "ALTER TABLE c ADD COLUMN w int;",
                NULL);
    assert_int_equal (s_count (l, "missing-lock-timeout"), 1);
    assert_int_equal (wes_lint_finding (l, 0)->line, 5);
    wes_lint_destroy (&l);

    /* SET LOCAL outside a transaction does nothing; 0 switches it off */
    l = s_lint ("SET LOCAL lock_timeout = '2s';\nALTER TABLE c ADD COLUMN z int;\n", NULL);
    s_expect (l, "set-local-outside-transaction", WES_LINT_WARNING, 1, 1, NULL);
    s_expect (l, "missing-lock-timeout", WES_LINT_WARNING, 2, 1, NULL);
    wes_lint_destroy (&l);
    l = s_lint ("SET lock_timeout = 0;\nCREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE "
                "FUNCTION f();",
                NULL);
    s_expect (l, "missing-lock-timeout", WES_LINT_WARNING, 2, 1, NULL);
    wes_lint_destroy (&l);
    /* RESET undoes a session setting */
    l = s_lint ("SET lock_timeout TO '1s';\nALTER TABLE a ADD COLUMN x int;\nRESET lock_timeout;\n"
                "DROP TABLE a;",
                NULL);
    assert_int_equal (s_count (l, "missing-lock-timeout"), 1);
    wes_lint_destroy (&l);
}

static void
test_destructive_and_rename (void **state)
{
    (void)state;
    wes_lint_t *l = s_lint (LT "DROP TABLE old;\nALTER TABLE t DROP COLUMN c;\nTRUNCATE logs;\n"
                               "ALTER TABLE t RENAME COLUMN a TO b;\nALTER TABLE t RENAME TO u;",
                            NULL);
    assert_int_equal (s_count (l, "destructive"), 3);
    assert_int_equal (s_count (l, "rename"), 2);
    for (size_t i = 0; i < wes_lint_count (l); i++) {
        assert_int_equal (wes_lint_finding (l, i)->severity, WES_LINT_WARNING);
        assert_int_equal (wes_lint_finding (l, i)->line, (int)i + 2);
    }
    wes_lint_destroy (&l);
}

static void
test_whole_table_and_rewrites (void **state)
{
    (void)state;
    wes_lint_t *l = s_lint (LT "UPDATE users SET a = 1;\nDELETE FROM users;\n"
                               "UPDATE users SET a = 1 WHERE id < 10;\nVACUUM FULL users;\n"
                               "CLUSTER users USING users_pkey;\nRESET lock_timeout;\n"
                               "BEGIN;\nLOCK TABLE users IN ACCESS EXCLUSIVE MODE;\nCOMMIT;\n"
                               "LOCK TABLE users IN ACCESS SHARE MODE;",
                            NULL);
    assert_int_equal (s_count (l, "whole-table-update"), 2);
    assert_non_null (strstr (wes_lint_finding (l, 0)->rewrite, "UPDATE users SET ... WHERE id"));
    s_expect (l, "vacuum-full", WES_LINT_ERROR, 5, 1, "pg_repack");
    s_expect (l, "cluster", WES_LINT_ERROR, 6, 1, NULL);
    s_expect (l, "lock-table", WES_LINT_WARNING, 9, 1, NULL);
    wes_lint_destroy (&l);
}

static void
test_new_table_exempt (void **state)
{
    (void)state;
    wes_lint_t *l =
        s_lint (LT "CREATE TABLE fresh (id bigint PRIMARY KEY, email text, n int);\n"
                   "CREATE INDEX fresh_email ON fresh (email);\n"
                   "ALTER TABLE fresh ADD CONSTRAINT fresh_email_key UNIQUE (email);\n"
                   "ALTER TABLE fresh ADD CONSTRAINT fresh_n CHECK (n > 0);\n"
                   "ALTER TABLE fresh ALTER COLUMN n SET NOT NULL;\n"
                   "ALTER TABLE fresh ALTER COLUMN n TYPE bigint;\n"
                   "ALTER TABLE fresh ADD COLUMN t uuid NOT NULL DEFAULT gen_random_uuid();\n"
                   "ALTER TABLE fresh ADD COLUMN f boolean NOT NULL;\n"
                   "UPDATE fresh SET n = 1;\n"
                   "ALTER TABLE fresh RENAME TO fresher;\n"
                   "CREATE INDEX fresher_n ON fresher (n);",
                NULL);
    if (wes_lint_count (l) != 0) {
        s_dump (l);
        fail_msg ("operations on a table created in the same file drew findings");
    }
    wes_lint_destroy (&l);
}

static void
test_suppression (void **state)
{
    (void)state;
    wes_lint_t *l = s_lint (LT "-- reviewed: the table is tiny\n"
                               "-- wesley-lint: ignore index-not-concurrent, missing-lock-timeout\n"
                               "CREATE INDEX a ON t (x);\n"
                               "CREATE INDEX b ON t (y);\n"
                               "-- wesley-lint: ignore all\n"
                               "\n"
                               "CREATE INDEX c ON t (z);",
                            NULL);
    /* line 5 is not covered; line 8's comment is not on the line just before */
    assert_int_equal (s_count (l, "index-not-concurrent"), 2);
    assert_int_equal (wes_lint_finding (l, 0)->line, 5);
    assert_int_equal (wes_lint_finding (l, 1)->line, 8);
    wes_lint_destroy (&l);
}

/*  Positions of many findings in one text (found with the fuzz corpus: each
    finding counted lines from the start of the text, quadratic in a file
    of many statements; now counted from a checkpoint every 256 bytes),
    with multi-byte characters before them, on many lines and on one long
    line. */
static void
test_many_findings_positions (void **state)
{
    (void)state;
    enum { N = 3000 };
    wes_buf_t *b = wes_buf_new ();
    wes_buf_puts (b, LT);
    for (int i = 0; i < N; i++) {
        /* even lines: a comment holding a 2-byte character; odd: two spaces */
        wes_buf_printf (b, "%sCREATE INDEX i%d ON users (email);\n",
                        i % 2 ? "  " : "/* \xc3\xa9 */ ", i);
    }
    wes_lint_t *l = s_lint (wes_buf_data (b), NULL);
    assert_int_equal (wes_lint_count (l), N);
    for (int i = 0; i < N; i++) {
        const wes_lint_finding_t *f = wes_lint_finding (l, (size_t)i);
        assert_string_equal (f->rule, "index-not-concurrent");
        assert_int_equal (f->line, i + 2);
        assert_int_equal (f->col, i % 2 ? 3 : 9);
    }
    wes_lint_destroy (&l);
    wes_buf_destroy (&b);
    /* one line: "/\* é *\/ " is 8 characters, a statement 37 more */
    b = wes_buf_new ();
    wes_buf_puts (b, LT);
    for (int i = 0; i < 500; i++) {
        wes_buf_printf (b, "/* \xc3\xa9 */ CREATE INDEX i%04d ON users (email); ", i);
    }
    l = s_lint (wes_buf_data (b), NULL);
    assert_int_equal (wes_lint_count (l), 500);
    for (int i = 0; i < 500; i++) {
        assert_int_equal (wes_lint_finding (l, (size_t)i)->line, 2);
        assert_int_equal (wes_lint_finding (l, (size_t)i)->col, 1 + 45 * i + 8);
    }
    wes_lint_destroy (&l);
    wes_buf_destroy (&b);
    /* the same text linted again, on the same linter: positions from the
       start again, not from where the first text ended */
    l = wes_lint_new ();
    wes_pgparse_error_t err;
    const char *sql = LT "\n\n  CREATE INDEX a ON users (email);";
    assert_int_equal (wes_lint_text (l, "m.sql", sql, strlen (sql), NULL, &err), 0);
    sql = LT "  CREATE INDEX b ON users (email);";
    assert_int_equal (wes_lint_text (l, "m.sql", sql, strlen (sql), NULL, &err), 0);
    assert_int_equal (wes_lint_count (l), 2);
    assert_int_equal (wes_lint_finding (l, 0)->line, 4);
    assert_int_equal (wes_lint_finding (l, 1)->line, 2);
    assert_int_equal (wes_lint_finding (l, 1)->col, 3);
    wes_lint_destroy (&l);
}

static void
test_parse_error_and_json (void **state)
{
    (void)state;
    wes_lint_t *l = wes_lint_new ();
    wes_pgparse_error_t err;
    const char *sql = "CREATE INDEX i ON t (a);\nALTER TABLE t ADD COLUMN;";
    assert_int_equal (wes_lint_text (l, "m.sql", sql, strlen (sql), NULL, &err), -1);
    assert_int_equal (wes_lint_count (l), 0);
    assert_int_equal (err.line, 2);
    assert_int_equal (err.col, 25);
    /* malformed UTF-8 (found by fuzz_sql: refused as "libpg_query returned an
       unreadable parse tree" without a position): refused at its byte, like
       PostgreSQL, in a literal, an identifier or a comment; overlong forms
       and surrogates too */
    static const struct {
        const char *sql;
        int col;
    } bad_utf8[] = {
        {"SELECT 1;\nSELECT '\xc3\xa9\xff' FROM t;", 10},       /* stray byte */
        {"SELECT 1;\nSELECT \"\xc3\xa9\xc3\x28\" FROM t;", 10}, /* cut sequence */
        {"SELECT 1;\n-- \xc3\xa9\x80\nSELECT 2;", 5},           /* in a comment */
        {"SELECT 1;\nSELECT '\xc3\xa9\xc0\xaf';", 10},          /* overlong '/' */
        {"SELECT 1;\nSELECT '\xc3\xa9\xed\xa0\x80';", 10},      /* surrogate */
    };
    for (size_t i = 0; i < sizeof bad_utf8 / sizeof bad_utf8[0]; i++) {
        const char *b = bad_utf8[i].sql;
        assert_int_equal (wes_lint_text (l, "m.sql", b, strlen (b), NULL, &err), -1);
        assert_non_null (strstr (err.message, "invalid byte sequence for encoding \"UTF8\""));
        assert_int_equal (err.line, 2);
        assert_int_equal (err.col, bad_utf8[i].col);
        assert_int_equal (wes_lint_count (l), 0);
    }
    /* well-formed UTF-8 of every length parses */
    sql = "SELECT '\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80' AS \"\xe6\x97\xa5\";";
    assert_int_equal (wes_lint_text (l, "m.sql", sql, strlen (sql), NULL, &err), 0);
    sql = LT "CREATE INDEX i ON t (a);";
    assert_int_equal (wes_lint_text (l, "m.sql", sql, strlen (sql), NULL, &err), 0);
    json_t *j = wes_lint_finding_json (wes_lint_finding (l, 0));
    assert_string_equal (json_string_value (json_object_get (j, "rule")), "index-not-concurrent");
    assert_string_equal (json_string_value (json_object_get (j, "severity")), "error");
    assert_int_equal (json_integer_value (json_object_get (j, "line")), 2);
    assert_int_equal (json_integer_value (json_object_get (j, "col")), 1);
    json_decref (j);
    wes_lint_destroy (&l);
}

static void
test_raw_step_context (void **state)
{
    (void)state;
    wes_lint_context_t raw = {.in_transaction = true, .lock_timeout_set = true, .raw_step = true};
    wes_lint_t *l = s_lint ("BEGIN;\nALTER TABLE t ADD COLUMN x int;\nCOMMIT;", &raw);
    assert_int_equal (s_count (l, "transaction-control"), 2);
    assert_int_equal (s_count (l, "missing-lock-timeout"), 0);
    wes_lint_destroy (&l);

    wes_lint_stmt_t *st = NULL;
    size_t n = 0;
    wes_pgparse_error_t err;
    const char *sql = "UPDATE t SET a = 1 WHERE b;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t "
                      "(a);\nVACUUM t;\nALTER TABLE u ADD COLUMN c int";
    assert_int_equal (wes_lint_statements (sql, strlen (sql), &st, &n, &err), 0);
    assert_int_equal (n, 4);
    assert_false (st[0].nontx);
    assert_string_equal (st[0].table, "t");
    assert_int_equal (strncmp (sql + st[0].start, "UPDATE t SET a = 1 WHERE b", st[0].len), 0);
    assert_int_equal (st[0].len, strlen ("UPDATE t SET a = 1 WHERE b"));
    assert_true (st[1].nontx);
    assert_string_equal (st[1].index, "i");
    assert_true (st[2].nontx);
    assert_false (st[3].nontx);
    assert_string_equal (st[3].table, "u");
    wes_lint_stmts_free (st, n);
}

static void
test_plan_raw_steps (void **state)
{
    (void)state;
    wes_plan_t *p = wes_plan_new ("A", "B");
    wes_step_t *a =
        wes_plan_add_step (p, "e", WES_PHASE_EXPAND, WES_STEP_TX, "t", WES_LOCK_ACCESS_EXCLUSIVE);
    wes_plan_set (&a->sql, "ALTER TABLE t ADD COLUMN c int;");
    wes_step_t *b =
        wes_plan_add_step (p, "v", WES_PHASE_VALIDATE, WES_STEP_TX, "t", WES_LOCK_ACCESS_EXCLUSIVE);
    wes_plan_set (&b->sql, "ALTER TABLE t VALIDATE CONSTRAINT k;");
    char *error = NULL;
    const char *sql = "-- wesley-lint: ignore whole-table-update\nUPDATE t SET c = 1;\n"
                      "CREATE INDEX CONCURRENTLY t_c ON t (c);\nCREATE INDEX t_d ON t (d);\n";
    assert_int_equal (
        wes_plan_add_raw_sql (p, WES_PHASE_EXPAND, "dir/fix.sql", sql, strlen (sql), &error), 0);
    assert_int_equal (wes_plan_count (p), 5);
    /* order: e, raw tx, raw nontx, raw tx, v; a chain, and v waits for it */
    const wes_step_t *r1 = wes_plan_step (p, 1), *r2 = wes_plan_step (p, 2),
                     *r3 = wes_plan_step (p, 3), *v = wes_plan_step (p, 4);
    assert_true (r1->raw && r2->raw && r3->raw && !v->raw);
    assert_int_equal (r1->kind, WES_STEP_TX);
    assert_int_equal (r2->kind, WES_STEP_NONTX);
    assert_string_equal (r2->verify_index, "t_c");
    assert_int_equal (r3->kind, WES_STEP_TX);
    assert_string_equal (r1->deps[0], wes_plan_step (p, 0)->id);
    assert_string_equal (r2->deps[0], r1->id);
    assert_string_equal (v->deps[0], r3->id);
    assert_non_null (strstr (r1->sql, "-- wesley-lint: ignore whole-table-update\nUPDATE t"));
    assert_non_null (strstr (r1->summary, "dir/fix.sql, line 2"));
    assert_int_equal (wes_plan_check (p, &error), 0);
    /* the JSON round trip keeps "raw"; generated steps carry no such key */
    json_t *doc = wes_plan_to_json (p);
    json_t *steps = json_object_get (doc, "steps");
    assert_null (json_object_get (json_array_get (steps, 0), "raw"));
    assert_true (json_is_true (json_object_get (json_array_get (steps, 1), "raw")));
    wes_plan_t *q = wes_plan_from_json (doc, &error);
    assert_non_null (q);
    assert_true (wes_plan_step (q, 3)->raw);
    /* lint: only raw findings, the CREATE INDEX of the last raw step */
    wes_lint_t *l = wes_lint_new ();
    assert_int_equal (wes_lint_plan (l, q, true, &error), 0);
    assert_int_equal (wes_lint_count (l), 1);
    assert_string_equal (wes_lint_finding (l, 0)->rule, "index-not-concurrent");
    assert_string_equal (wes_lint_finding (l, 0)->source, r3->id);
    wes_lint_destroy (&l);
    json_decref (doc);
    wes_plan_destroy (&q);
    /* unparsable and empty SQL leave the plan unchanged */
    assert_int_equal (
        wes_plan_add_raw_sql (p, WES_PHASE_EXPAND, "x.sql", "ALTER TABLE;", 12, &error), -1);
    assert_non_null (strstr (error, "x.sql:1:12"));
    free (error);
    error = NULL;
    assert_int_equal (wes_plan_add_raw_sql (p, WES_PHASE_EXPAND, "y.sql", "-- x\n", 5, &error), -1);
    free (error);
    assert_int_equal (wes_plan_count (p), 5);
    wes_plan_destroy (&p);
}

/*  --- the property: the planner's SQL is lint-clean --- */

static wes_model_t *
s_compile_text (const char *name, const char *sdl)
{
    if (!sdl[0]) {
        wes_model_t *m = wes_model_new ();
        wes_model_canonicalize (m);
        return m;
    }
    wes_diag_t *diag = wes_diag_new (name);
    wes_ast_doc_t *doc = wes_parse_buffer (name, sdl, strlen (sdl), diag);
    wes_model_t *m = doc ? wes_compile (doc, diag) : NULL;
    if (!m) {
        wes_diag_print (diag, stderr);
        fail_msg ("%s did not compile", name);
    }
    wes_ast_doc_destroy (&doc);
    wes_diag_destroy (&diag);
    return m;
}

static wes_model_t *
s_compile_path (const char *path)
{
    wes_diag_t *diag = wes_diag_new (path);
    wes_model_t *m = wes_compile_file (path, diag);
    if (!m) {
        wes_diag_print (diag, stderr);
        fail_msg ("%s did not compile", path);
    }
    wes_diag_destroy (&diag);
    return m;
}

static size_t s_plans_checked;
static size_t s_steps_checked;

/*  Lints every step of the plan from -> to. Allowed: only what the user
    explicitly accepted with --allow-destructive, in the contract phase:
    "destructive" warnings (drops) and a narrowing ALTER COLUMN TYPE (which
    PostgreSQL must rewrite). Nothing else, of either severity. */
static void
s_check_plan (const char *what, const wes_model_t *from, const wes_model_t *to)
{
    wes_planner_opts_t opts;
    wes_planner_opts_init (&opts);
    opts.allow_destructive = true;
    char *error = NULL;
    wes_plan_t *plan = wes_planner_plan (from, to, &opts, &error);
    if (!plan) {
        /* a change the planner refuses ("not supported yet") plans nothing to lint */
        free (error);
        return;
    }
    wes_lint_t *l = wes_lint_new ();
    for (size_t t = 0; t < wes_model_table_count (from); t++) {
        const wes_table_t *tab = wes_model_table (from, t);
        for (size_t c = 0; c < tab->n_columns; c++) {
            wes_lint_note_column (l, tab->name, tab->columns[c]->name, tab->columns[c]->type);
        }
    }
    assert_int_equal (wes_lint_plan (l, plan, false, &error), 0);
    bool bad = false;
    for (size_t i = 0; i < wes_lint_count (l); i++) {
        const wes_lint_finding_t *f = wes_lint_finding (l, i);
        const wes_step_t *s = wes_plan_find (plan, f->source);
        bool contract = s && s->phase == WES_PHASE_CONTRACT;
        bool ok =
            contract && f->severity == WES_LINT_WARNING && strcmp (f->rule, "destructive") == 0;
        /* a narrowing type change is destructive too (--allow-destructive,
           contract only): PostgreSQL must rewrite, and lint says so */
        ok = ok
             || (contract && strcmp (f->rule, "alter-type-rewrite") == 0
                 && strstr (f->message, "narrower"));
        if (!ok) {
            fprintf (stderr, "%s: step %s:\n%s\n", what, f->source, s ? s->sql : "?");
            wes_lint_print (f, stderr);
            bad = true;
        }
    }
    if (bad) {
        fail_msg ("the planner's own SQL drew findings for %s", what);
    }
    s_plans_checked++;
    s_steps_checked += wes_plan_count (plan);
    wes_lint_destroy (&l);
    wes_plan_destroy (&plan);
}

/*  Targeted changes, one per safety pattern of DESIGN.md section 9. */
static const char *s_pairs[][2] = {
    /* add nullable column, NOT NULL with constant default, volatile default */
    {"type U @wes_table { id: ID! @wes_pk, a: String }",
     "type U @wes_table { id: ID! @wes_pk, a: String, b: Int, c: Int! @wes_default(value: 3), "
     "d: UUID! @wes_default(expr: \"gen_random_uuid()\"), e: DateTime! @wes_default(expr: "
     "\"now()\") }"},
    /* NOT NULL on an existing column, index, unique, FK, CHECK */
    {"type P @wes_table { id: ID! @wes_pk }\n"
     "type U @wes_table { id: ID! @wes_pk, a: String, p: ID, n: Int }",
     "type P @wes_table { id: ID! @wes_pk }\n"
     "type U @wes_table @wes_check(expr: \"n > 0\") { id: ID! @wes_pk, a: String! @wes_unique "
     "@wes_index, p: ID @wes_fk(ref: \"P.id\"), n: Int @wes_index }"},
    /* type changes: binary-compatible and rewriting */
    {"type U @wes_table { id: ID! @wes_pk, a: String @wes_column(type: \"varchar(20)\"), "
     "n: Int, m: Decimal @wes_column(type: \"numeric(10,2)\") }",
     "type U @wes_table { id: ID! @wes_pk, a: String @wes_column(type: \"varchar(40)\"), "
     "n: BigInt, m: Decimal @wes_column(type: \"numeric(12,2)\") }"},
    {"type U @wes_table { id: ID! @wes_pk, a: String @wes_column(type: \"varchar(20)\") }",
     "type U @wes_table { id: ID! @wes_pk, a: String }"},
    /* renames, enums, drops */
    {"enum Color { RED }\ntype U @wes_table { id: ID! @wes_pk, a: String, old: Int }\n"
     "type Gone @wes_table { id: ID! @wes_pk }",
     "enum Color { RED GREEN }\ntype V @wes_table @wes_renamedFrom(name: \"u\") { id: ID! @wes_pk, "
     "b: String @wes_renamedFrom(name: \"a\"), c: Color }"},
};

static void
test_planner_sql_is_lint_clean (void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof s_pairs / sizeof s_pairs[0]; i++) {
        wes_model_t *a = s_compile_text ("a.graphql", s_pairs[i][0]);
        wes_model_t *b = s_compile_text ("b.graphql", s_pairs[i][1]);
        char what[64];
        snprintf (what, sizeof what, "pair %zu forward", i);
        s_check_plan (what, a, b);
        snprintf (what, sizeof what, "pair %zu backward", i);
        s_check_plan (what, b, a);
        wes_model_destroy (&a);
        wes_model_destroy (&b);
    }
    /* every example schema: from nothing, to nothing, and to each other */
    char *paths[64];
    size_t n = 0;
    const char *dirs[] = {WES_SOURCE_DIR "/examples", NULL, NULL};
    const char *conf = getenv ("WES_CONFORMANCE_DIR");
    static char confdir[1024];
    snprintf (confdir, sizeof confdir, "%s/wesley-examples", conf ? conf : WES_CONFORMANCE_DIR);
    dirs[1] = confdir;
    for (size_t d = 0; dirs[d]; d++) {
        DIR *dir = opendir (dirs[d]);
        if (!dir) {
            continue;
        }
        struct dirent *e;
        while ((e = readdir (dir)) && n < 64) {
            size_t len = strlen (e->d_name);
            if (len > 8 && strcmp (e->d_name + len - 8, ".graphql") == 0) {
                char path[2048];
                snprintf (path, sizeof path, "%s/%s", dirs[d], e->d_name);
                paths[n++] = strdup (path);
            }
        }
        closedir (dir);
    }
    assert_true (n >= 2); /* examples/blog.graphql and blog-v2.graphql at least */
    wes_model_t *empty = s_compile_text ("empty", "");
    wes_model_t **models = calloc (n, sizeof *models);
    for (size_t i = 0; i < n; i++) {
        models[i] = s_compile_path (paths[i]);
        s_check_plan (paths[i], empty, models[i]);
        s_check_plan (paths[i], models[i], empty);
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            if (i != j) {
                char what[4200];
                snprintf (what, sizeof what, "%s -> %s", paths[i], paths[j]);
                s_check_plan (what, models[i], models[j]);
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        wes_model_destroy (&models[i]);
        free (paths[i]);
    }
    free (models);
    wes_model_destroy (&empty);
    printf ("linted %zu steps of %zu planner plans: clean\n", s_steps_checked, s_plans_checked);
    assert_true (s_plans_checked >= 10);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_index_not_concurrent),
        cmocka_unit_test (test_concurrent_in_transaction),
        cmocka_unit_test (test_constraint_not_valid),
        cmocka_unit_test (test_unique_without_index),
        cmocka_unit_test (test_set_not_null),
        cmocka_unit_test (test_alter_type),
        cmocka_unit_test (test_volatile_default),
        cmocka_unit_test (test_add_column_not_null),
        cmocka_unit_test (test_lock_timeout),
        cmocka_unit_test (test_destructive_and_rename),
        cmocka_unit_test (test_whole_table_and_rewrites),
        cmocka_unit_test (test_new_table_exempt),
        cmocka_unit_test (test_suppression),
        cmocka_unit_test (test_parse_error_and_json),
        cmocka_unit_test (test_many_findings_positions),
        cmocka_unit_test (test_raw_step_context),
        cmocka_unit_test (test_plan_raw_steps),
        cmocka_unit_test (test_planner_sql_is_lint_clean),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
