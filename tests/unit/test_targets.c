/*  test_targets.c — the fleet's targets file parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "coordinator/wes_targets.h"
#include "wes_testutil.h"

static wes_targets_t *
s_parse (const char *text, char **error)
{
    *error = NULL;
    return wes_targets_parse (text, strlen (text), "t.txt", error);
}

static void
s_expect_error (const char *text, const char *needle)
{
    char *error = NULL;
    wes_targets_t *t = s_parse (text, &error);
    assert_null (t);
    assert_non_null (error);
    if (!strstr (error, needle)) {
        fail_msg ("error '%s' lacks '%s'", error, needle);
    }
    free (error);
}

static void
test_parse_lines (void **state)
{
    (void) state;
    const char *text = "# fleet\n"
                       "\n"
                       "  db1   host=/tmp port=5432 dbname=one   # first\n"
                       "db2 group=eu-1 host=/tmp dbname='two # not a comment' user=x\n"
                       "\tdb.3 postgresql://u@h:5433/three?sslmode=disable\n"
                       "db-4 group=g\tservice=prod";
    char *error = NULL;
    wes_targets_t *t = s_parse (text, &error);
    assert_null (error);
    assert_non_null (t);
    assert_int_equal (wes_targets_count (t), 4);
    assert_string_equal (wes_targets_name (t, 0), "db1");
    assert_string_equal (wes_targets_conninfo (t, 0), "host=/tmp port=5432 dbname=one");
    assert_null (wes_targets_group (t, 0));
    assert_int_equal (wes_targets_line (t, 0), 3);
    assert_string_equal (wes_targets_name (t, 1), "db2");
    assert_string_equal (wes_targets_group (t, 1), "eu-1");
    assert_string_equal (wes_targets_conninfo (t, 1),
                         "host=/tmp dbname='two # not a comment' user=x");
    assert_string_equal (wes_targets_name (t, 2), "db.3");
    assert_string_equal (wes_targets_conninfo (t, 2),
                         "postgresql://u@h:5433/three?sslmode=disable");
    assert_int_equal (wes_targets_line (t, 2), 5);
    assert_string_equal (wes_targets_group (t, 3), "g");
    assert_string_equal (wes_targets_conninfo (t, 3), "service=prod");
    wes_targets_destroy (&t);
    assert_null (t);
    wes_targets_destroy (&t);
}

static void
test_errors (void **state)
{
    (void) state;
    s_expect_error ("", "no targets");
    s_expect_error("# only a comment\n\n", "no targets");
    s_expect_error ("db1\n", "t.txt:1: target 'db1' has no connection string");
    s_expect_error ("db1 group=g\n", "t.txt:1: target 'db1' has no connection string");
    s_expect_error ("db1 dbname=a\nbad/name dbname=b\n", "t.txt:2: bad target name 'bad/name'");
    s_expect_error ("db1 group=a/b dbname=a\n", "t.txt:1: bad group name 'a/b'");
    s_expect_error ("db1 group= dbname=a\n", "bad group name");
    s_expect_error ("db1 dbname=a\n\ndb1 dbname=b\n",
                    "t.txt:3: target 'db1' already defined at line 1");
    s_expect_error ("db1 dbname='unterminated\n", "t.txt:1: target 'db1': bad connection string");
    s_expect_error ("db1 nosuchkey=1\n", "bad connection string");
    char big[200];
    memset (big, 'a', 65);
    strcpy (big + 65, " dbname=x\n");
    s_expect_error (big, "bad target name");
}

static void
test_password_refused (void **state)
{
    (void) state;
    s_expect_error ("db1 host=/tmp password=hunter2 dbname=a\n", "passfile");
    s_expect_error ("ok dbname=a\ndb2 postgresql://u:hunter2@h/db\n",
                    "t.txt:2: target 'db2': the connection string carries a password");
    /* every way of writing one, each refused before libpq could quote it */
    const char *forms[] = {
        "db1 host=/tmp PASSWORD=hunter2\n",
        "db1 host=/tmp password = 'hunter2'\n",
        "db1 postgres://u:hunter2@h:5432/db\n",
        "db1 postgresql://u:hunter2@[::1/db\n", /* malformed: libpq would quote it */
        "db1 postgresql://u@h/db?password=hunter2\n",
        "db1 postgresql://u@h/db?pass%77ord=hunter2\n",
        "db1 host=/tmp PGPASSWORD=hunter2\n",
        "db1 dbname=a password hunter2\n",
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        char *error = NULL;
        wes_targets_t *t = s_parse (forms[i], &error);
        assert_null (t);
        assert_non_null (error);
        if (!strstr (error, "passfile") || !strstr (error, "service file")
            || strstr (error, "hunter2")) {
            fail_msg ("form %zu: %s", i, error);
        }
        free (error);
    }
    /* an empty password is no secret; a passfile is what we ask for */
    char *error = NULL;
    wes_targets_t *t = s_parse ("db1 dbname=a passfile=/x/pgpass\n", &error);
    assert_non_null (t);
    wes_targets_destroy (&t);
}

static void
test_nul_byte (void **state)
{
    (void) state;
    const char text[] = "db1 dbname=a\0x\n";
    char *error = NULL;
    wes_targets_t *t = wes_targets_parse (text, sizeof text - 1, "t.txt", &error);
    assert_null (t);
    assert_non_null (strstr (error, "t.txt:1: NUL"));
    free (error);
}

static void
test_load_file (void **state)
{
    (void) state;
    char *dir = wes_test_tmpdir ("targets");
    char path[512];
    snprintf (path, sizeof path, "%s/targets.txt", dir);
    assert_int_equal (wes_test_write_file (path, "a dbname=a\nb group=x dbname=b\n"), 0);
    char *error = NULL;
    wes_targets_t *t = wes_targets_load (path, &error);
    assert_non_null (t);
    assert_int_equal (wes_targets_count (t), 2);
    wes_targets_destroy (&t);
    snprintf (path, sizeof path, "%s/missing.txt", dir);
    t = wes_targets_load (path, &error);
    assert_null (t);
    assert_non_null (strstr (error, "missing.txt: cannot open"));
    free (error);
    wes_test_rmtree (dir);
    free (dir);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_parse_lines),      cmocka_unit_test (test_errors),
        cmocka_unit_test (test_password_refused), cmocka_unit_test (test_nul_byte),
        cmocka_unit_test (test_load_file),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
