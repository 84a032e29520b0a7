/*  test_deadcols.c — the grading rules of wes_deadcols without a server:
    statements, window, evictions, views and functions fed in directly,
    then each finding's confidence and reasons; durations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pg/wes_deadcols.h"

#define DAY (24 * 3600)

/*  a(id, x, y), b(id, z) */
static wes_model_t *
s_model (void)
{
    wes_model_t *m = wes_model_new ();
    wes_table_t *a = wes_model_add_table (m, "a");
    wes_table_add_column (a, "id", "integer");
    wes_table_add_column (a, "x", "text");
    wes_table_add_column (a, "y", "text");
    wes_table_t *b = wes_model_add_table (m, "b");
    wes_table_add_column (b, "id", "integer");
    wes_table_add_column (b, "z", "text");
    wes_model_canonicalize (m);
    return m;
}

/*  The finding for table.column in a report, or NULL. */
static json_t *
s_find (json_t *doc, const char *table, const char *column)
{
    size_t i;
    json_t *f;
    json_array_foreach (json_object_get (doc, "findings"), i, f)
    {
        if (strcmp (json_string_value (json_object_get (f, "table")), table) == 0
            && strcmp (json_string_value (json_object_get (f, "column")), column) == 0) {
            return f;
        }
    }
    return NULL;
}

static void
s_expect (json_t *doc, const char *table, const char *column, const char *conf, const char *reason)
{
    json_t *f = s_find (doc, table, column);
    if (!f) {
        fail_msg ("%s.%s: no finding", table, column);
    }
    const char *got = json_string_value (json_object_get (f, "confidence"));
    char *reasons = json_dumps (json_object_get (f, "reasons"), 0);
    if (strcmp (got, conf) != 0 || (reason && !strstr (reasons, reason))) {
        fail_msg ("%s.%s: %s %s, expected %s with '%s'", table, column, got, reasons, conf,
                  reason ? reason : "");
    }
    free (reasons);
}

static wes_deadcols_t *
s_busy (const wes_model_t *m, int64_t evictions)
{
    wes_deadcols_opts_t o = {.db_schema = NULL, .min_window = 7 * DAY, .min_calls = 100};
    wes_deadcols_t *dc = wes_deadcols_new (m, &o);
    wes_deadcols_set_window (dc, 10.0 * DAY, "2026-01-01", evictions);
    wes_deadcols_add_statement (dc, "SELECT x FROM a WHERE id = $1", 500);
    wes_deadcols_add_statement (dc, "SELECT id FROM b", 50);
    return dc;
}

static void
test_high_and_the_rules_that_lower_it (void **state)
{
    (void) state;
    wes_model_t *m = s_model ();
    wes_deadcols_t *dc = s_busy (m, 0);
    json_t *doc = wes_deadcols_report (dc);
    s_expect (doc, "a", "y", "HIGH", "no recorded statement references it: 500 calls on a");
    s_expect (doc, "b", "z", "MEDIUM", "only 50 recorded calls on b (HIGH needs --min-calls 100)");
    assert_null (s_find (doc, "a", "x"));
    assert_null (s_find (doc, "a", "id"));
    assert_int_equal (json_array_size (json_object_get (doc, "findings")), 2);
    assert_int_equal (json_integer_value (json_object_get (doc, "calls")), 550);
    json_decref (doc);
    wes_deadcols_destroy (&dc);

    /* evictions: at most MEDIUM */
    dc = s_busy (m, 3);
    doc = wes_deadcols_report (dc);
    s_expect (doc, "a", "y", "MEDIUM", "3 evictions since the statistics were reset");
    json_decref (doc);
    wes_deadcols_destroy (&dc);

    /* a star read, an INSERT without columns: LOW */
    dc = s_busy (m, 0);
    wes_deadcols_add_statement (dc, "SELECT a.* FROM a", 7);
    wes_deadcols_add_statement (dc, "INSERT INTO b SELECT 1, 'q'", 4);
    doc = wes_deadcols_report (dc);
    s_expect (doc, "a", "y", "LOW", "read through SELECT * on a: 7 calls");
    s_expect (doc, "b", "z", "LOW", "written by INSERT without a column list on b: 4 calls");
    json_decref (doc);
    wes_deadcols_destroy (&dc);

    /* a view over a (using y, or not), a function naming b and z: */
    dc = s_busy (m, 0);
    wes_deadcols_add_view (dc, "v_a", "a", "x");
    wes_deadcols_add_statement (dc, "SELECT * FROM v_a", 9);
    wes_deadcols_add_function_source (dc, "app.fz", "BEGIN UPDATE B SET z = 1; END");
    wes_deadcols_add_function_source (dc, "app.other", "SELECT ab, bz FROM zz"); /* no word */
    doc = wes_deadcols_report (dc);
    s_expect (doc, "a", "y", "MEDIUM", "a is read through view v_a (9 calls on the view)");
    s_expect (doc, "b", "z", "LOW", "function app.fz mentions b and z");
    json_decref (doc);
    wes_deadcols_add_view (dc, "v_a", "a", "y");
    doc = wes_deadcols_report (dc);
    s_expect (doc, "a", "y", "LOW", "used by view v_a (9 calls on the view)");
    json_decref (doc);
    wes_deadcols_destroy (&dc);

    /* an unparsable statement naming a: MEDIUM */
    dc = s_busy (m, 0);
    wes_deadcols_add_statement (dc, "SELECT y FROM a WHERE", 1);
    wes_deadcols_add_statement (dc, NULL, 1);
    doc = wes_deadcols_report (dc);
    assert_int_equal (json_integer_value (json_object_get (doc, "unparsable")), 2);
    s_expect (doc, "a", "y", "MEDIUM", "1 unparsable statements mention a");
    json_decref (doc);
    wes_deadcols_destroy (&dc);
    wes_model_destroy (&m);
}

static void
test_window_and_untouched_tables (void **state)
{
    (void) state;
    wes_model_t *m = s_model ();
    wes_deadcols_opts_t o = {.db_schema = "public", .min_window = 7 * DAY, .min_calls = 10};
    wes_deadcols_t *dc = wes_deadcols_new (m, &o);
    wes_deadcols_set_window (dc, 2.0 * DAY, NULL, 0); /* between a seventh and the whole */
    wes_deadcols_add_statement (dc, "SELECT x FROM a", 50);
    json_t *doc = wes_deadcols_report (dc);
    s_expect (doc, "a", "y", "MEDIUM", "observation window 2d is shorter than --min-window 7d");
    s_expect (doc, "b", "z", "LOW", "no statement touched b at all");
    s_expect (doc, "b", "id", "LOW", "the table may be unused or the window too short");
    json_decref (doc);
    wes_deadcols_set_window (dc, 3600, NULL, 0); /* under a seventh */
    doc = wes_deadcols_report (dc);
    s_expect (doc, "a", "y", "LOW", "observation window 1h is shorter");
    json_decref (doc);
    /* the text form: header, then table.column  CONFIDENCE  reasons */
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream (&buf, &len);
    wes_deadcols_print (dc, out);
    fclose (out);
    assert_non_null (strstr (buf, "window 1h (statistics reset unknown), 1 statements, 50 calls, "
                                  "0 evictions, 0 unparsable\n"));
    assert_non_null (strstr (buf, "\na.y  LOW  observation window 1h"));
    assert_non_null (strstr (buf, "\nb.z  LOW  no statement touched b at all"));
    free (buf);
    wes_deadcols_destroy (&dc);
    wes_deadcols_destroy (&dc);
    wes_model_destroy (&m);
}

static void
test_durations (void **state)
{
    (void) state;
    int64_t s = -1;
    assert_int_equal (wes_deadcols_parse_duration ("0", &s), 0);
    assert_int_equal (s, 0);
    assert_int_equal (wes_deadcols_parse_duration ("30m", &s), 0);
    assert_int_equal (s, 1800);
    assert_int_equal (wes_deadcols_parse_duration ("12h", &s), 0);
    assert_int_equal (s, 12 * 3600);
    assert_int_equal (wes_deadcols_parse_duration ("7d", &s), 0);
    assert_int_equal (s, 7 * DAY);
    assert_int_equal (wes_deadcols_parse_duration ("2w", &s), 0);
    assert_int_equal (s, 14 * DAY);
    assert_int_equal (wes_deadcols_parse_duration ("45s", &s), 0);
    assert_int_equal (s, 45);
    const char *bad[] = {"", "-1", "7x", "d", "7d1", " 7d", "99999999999999999999d", NULL};
    for (size_t i = 0; bad[i]; i++) {
        assert_int_equal (wes_deadcols_parse_duration (bad[i], &s), -1);
    }
    assert_int_equal (wes_deadcols_parse_duration (NULL, &s), -1);
    char buf[64];
    wes_deadcols_format_duration (7.0 * DAY, buf, sizeof buf);
    assert_string_equal (buf, "7d");
    wes_deadcols_format_duration (7.0 * DAY + 4 * 3600 + 59, buf, sizeof buf);
    assert_string_equal (buf, "7d 4h");
    wes_deadcols_format_duration (725, buf, sizeof buf);
    assert_string_equal (buf, "12m 5s");
    wes_deadcols_format_duration (-3, buf, sizeof buf);
    assert_string_equal (buf, "0s");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_high_and_the_rules_that_lower_it),
        cmocka_unit_test (test_window_and_untouched_tables),
        cmocka_unit_test (test_durations),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
