/*  test_pgparse.c — PostgreSQL's parser through wes_pgparse: trees,
    statement ranges, error positions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pg/wes_pgparse.h"

static void
test_two_statements (void **state)
{
    (void) state;
    const char *sql = "-- first\nCREATE INDEX i ON t (a);\n\nALTER TABLE t ADD COLUMN b int";
    wes_pgparse_error_t err;
    json_t *tree = wes_pgparse (sql, strlen (sql), &err);
    assert_non_null (tree);
    json_t *stmts = json_object_get (tree, "stmts");
    assert_int_equal (json_array_size (stmts), 2);
    json_t *body = NULL;
    assert_string_equal (wes_pgparse_node_type (json_object_get (json_array_get (stmts, 0), "stmt"),
                                                &body),
                         "IndexStmt");
    assert_false (json_is_true (json_object_get (body, "concurrent")));
    assert_string_equal (
        wes_pgparse_node_type (json_object_get (json_array_get (stmts, 1), "stmt"), NULL),
        "AlterTableStmt");
    size_t start, n;
    wes_pgparse_stmt_range (tree, 1, strlen (sql), &start, &n);
    assert_int_equal (strncmp (sql + start, "\n\nALTER TABLE t ADD COLUMN b int", n), 0);
    assert_int_equal (start + n, strlen (sql));
    json_decref (tree);
}

static void
test_error_position (void **state)
{
    (void) state;
    const char *sql = "SELECT 1;\nSELECT é, FROM t;";
    wes_pgparse_error_t err;
    json_t *tree = wes_pgparse (sql, strlen (sql), &err);
    assert_null (tree);
    assert_non_null (strstr (err.message, "syntax error"));
    assert_int_equal (err.line, 2);
    assert_int_equal (err.col, 11); /* "FROM", counting é as one character */
    assert_int_equal (strncmp (sql + err.offset, "FROM", 4), 0);
}

static void
test_empty_and_nul (void **state)
{
    (void) state;
    wes_pgparse_error_t err;
    json_t *tree = wes_pgparse ("  -- nothing\n", 13, &err);
    assert_non_null (tree);
    assert_int_equal (json_array_size (json_object_get (tree, "stmts")), 0);
    json_decref (tree);
    assert_null (wes_pgparse ("SELECT\0 1", 9, &err));
    assert_non_null (strstr (err.message, "NUL"));
    assert_int_equal (err.offset, 6);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_two_statements),
        cmocka_unit_test (test_error_position),
        cmocka_unit_test (test_empty_and_nul),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
