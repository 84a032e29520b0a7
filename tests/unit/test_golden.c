/*  test_golden.c — golden files for the emitters. Every example schema
    WES_CONFORMANCE_DIR/wesley-examples/NAME.graphql is compiled, and its SQL
    and TypeScript must equal tests/golden/NAME/schema.sql and types.ts byte
    for byte. The golden files are the specification of the output.

    After a deliberate change of the output, regenerate them with

        WES_UPDATE_GOLDEN=1 ctest --test-dir BUILD -R test_golden

    (or run the test_golden binary with that variable), then review every
    changed line with `git diff tests/golden` before committing. In update
    mode the test rewrites the files and passes. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "schema/wes_compile.h"
#include "schema/wes_emit_sql.h"
#include "schema/wes_emit_ts.h"
#include "util/wes_buf.h"
#include "util/wes_mem.h"
#include "wes_testutil.h"

#define S_EXAMPLES_DIR WES_CONFORMANCE_DIR "/wesley-examples"
#define S_GOLDEN_DIR WES_SOURCE_DIR "/tests/golden"
#define S_MAX_EXAMPLES 64

static bool
s_update_mode (void)
{
    const char *v = getenv ("WES_UPDATE_GOLDEN");
    return v && strcmp (v, "1") == 0;
}

//  Fails with the first differing line of expected and actual
static void
s_assert_same (const char *path, const char *expected, const char *actual)
{
    if (strcmp (expected, actual) == 0) {
        return;
    }
    size_t line = 1;
    const char *e = expected, *a = actual;
    const char *e_line = e, *a_line = a;
    while (*e && *e == *a) {
        if (*e == '\n') {
            line++;
            e_line = e + 1;
            a_line = a + 1;
        }
        e++;
        a++;
    }
    size_t e_len = strcspn (e_line, "\n");
    size_t a_len = strcspn (a_line, "\n");
    fail_msg ("%s differs from the emitted output at line %zu:\n"
              "  golden:  %.*s\n  emitted: %.*s\n"
              "If the change is intended, rerun with WES_UPDATE_GOLDEN=1 and review "
              "`git diff tests/golden`.",
              path, line, (int) e_len, e_line, (int) a_len, a_line);
}

static void
s_check_or_update (const char *dir, const char *file, const char *actual)
{
    wes_buf_t *path = wes_buf_new ();
    wes_buf_printf (path, "%s/%s", dir, file);
    if (s_update_mode ()) {
        if (mkdir (dir, 0777) != 0 && errno != EEXIST) {
            fail_msg ("cannot create %s: %s", dir, strerror (errno));
        }
        assert_int_equal (wes_test_write_file (wes_buf_data (path), actual), 0);
        printf ("updated %s\n", wes_buf_data (path));
    }
    else {
        char *expected = wes_test_read_file (wes_buf_data (path), NULL);
        if (!expected) {
            fail_msg ("missing golden file %s: run with WES_UPDATE_GOLDEN=1 to create it, "
                      "then review it",
                      wes_buf_data (path));
        }
        s_assert_same (wes_buf_data (path), expected, actual);
        free (expected);
    }
    wes_buf_destroy (&path);
}

//  One example: state is its base name ("ecommerce")
static void
test_example (void **state)
{
    const char *name = *state;
    wes_buf_t *src = wes_buf_new ();
    wes_buf_printf (src, "%s/%s.graphql", S_EXAMPLES_DIR, name);
    wes_diag_t *diag = wes_diag_new (wes_buf_data (src));
    wes_model_t *model = wes_compile_file (wes_buf_data (src), diag);
    if (!model) {
        wes_diag_print (diag, stdout);
        fail_msg ("%s does not compile", wes_buf_data (src));
    }
    char *sql = wes_emit_sql (model);
    char *ts = wes_emit_ts (model);

    //  A second compile of the same file gives the same bytes
    wes_model_t *again = wes_compile_file (wes_buf_data (src), diag);
    assert_non_null (again);
    char *sql2 = wes_emit_sql (again);
    char *ts2 = wes_emit_ts (again);
    assert_string_equal (sql, sql2);
    assert_string_equal (ts, ts2);

    wes_buf_t *dir = wes_buf_new ();
    wes_buf_printf (dir, "%s/%s", S_GOLDEN_DIR, name);
    s_check_or_update (wes_buf_data (dir), "schema.sql", sql);
    s_check_or_update (wes_buf_data (dir), "types.ts", ts);

    wes_buf_destroy (&dir);
    free (sql2);
    free (ts2);
    free (sql);
    free (ts);
    wes_model_destroy (&again);
    wes_model_destroy (&model);
    wes_diag_destroy (&diag);
    wes_buf_destroy (&src);
}

static int
s_cmp_str (const void *a, const void *b)
{
    return strcmp (*(char *const *) a, *(char *const *) b);
}

//  Sorted base names of the *.graphql files in dir (or, with want_dirs, the
//  sub-directories); returns the count.
static size_t
s_list (const char *dir, bool want_dirs, char **names, size_t max)
{
    DIR *d = opendir (dir);
    if (!d) {
        return 0;
    }
    size_t n = 0;
    struct dirent *ent;
    while ((ent = readdir (d)) != NULL && n < max) {
        const char *nm = ent->d_name;
        if (nm[0] == '.') {
            continue;
        }
        if (want_dirs) {
            wes_buf_t *p = wes_buf_new ();
            wes_buf_printf (p, "%s/%s", dir, nm);
            struct stat st;
            if (stat (wes_buf_data (p), &st) == 0 && S_ISDIR (st.st_mode)) {
                names[n++] = wes_strdup (nm);
            }
            wes_buf_destroy (&p);
            continue;
        }
        size_t len = strlen (nm);
        if (len > 8 && strcmp (nm + len - 8, ".graphql") == 0) {
            names[n++] = wes_strndup (nm, len - 8);
        }
    }
    closedir (d);
    qsort (names, n, sizeof *names, s_cmp_str);
    return n;
}

//  Every golden folder belongs to an example (none is stale), and there are
//  examples at all.
static void
test_no_stale_golden (void **state)
{
    (void) state;
    char *examples[S_MAX_EXAMPLES];
    char *golden[S_MAX_EXAMPLES];
    size_t n_ex = s_list (S_EXAMPLES_DIR, false, examples, S_MAX_EXAMPLES);
    size_t n_go = s_list (S_GOLDEN_DIR, true, golden, S_MAX_EXAMPLES);
    assert_true (n_ex > 0);
    for (size_t i = 0; i < n_go; i++) {
        if (!bsearch (&golden[i], examples, n_ex, sizeof *examples, s_cmp_str)) {
            fail_msg ("tests/golden/%s has no example %s/%s.graphql: remove it", golden[i],
                      S_EXAMPLES_DIR, golden[i]);
        }
    }
    for (size_t i = 0; i < n_go; i++) {
        free (golden[i]);
    }
    for (size_t i = 0; i < n_ex; i++) {
        free (examples[i]);
    }
}

int
main (void)
{
    char *names[S_MAX_EXAMPLES];
    size_t n = s_list (S_EXAMPLES_DIR, false, names, S_MAX_EXAMPLES);
    struct CMUnitTest *tests = wes_alloc ((n + 1) * sizeof *tests);
    for (size_t i = 0; i < n; i++) {
        tests[i] = (struct CMUnitTest) {
            .name = names[i], .test_func = test_example, .initial_state = names[i]};
    }
    tests[n] = (struct CMUnitTest) {.name = "no_stale_golden",
                                    .test_func = test_no_stale_golden};
    int rc = _cmocka_run_group_tests ("golden", tests, n + 1, NULL, NULL);
    for (size_t i = 0; i < n; i++) {
        free (names[i]);
    }
    free (tests);
    return rc;
}
