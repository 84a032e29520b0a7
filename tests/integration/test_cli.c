/*  test_cli.c — the `wesley` schema verbs as a user runs them: exit codes,
    error locations, output files, determinism. Runs the real binary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/wes_buf.h"
#include "wes_testassert.h"
#include "wes_testutil.h"

#define EXAMPLES WES_CONFORMANCE_DIR "/wesley-examples"

typedef struct {
    char *dir; /* scratch directory, removed at teardown */
} s_fixture_t;

static int
s_setup (void **state)
{
    s_fixture_t *f = calloc (1, sizeof *f);
    f->dir = wes_test_tmpdir ("wes-cli");
    assert_non_null (f->dir);
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fixture_t *f = *state;
    wes_test_rmtree (f->dir);
    free (f->dir);
    free (f);
    return 0;
}

static void
test_usage_and_unknown_verb (void **state)
{
    (void) state;
    char *out = NULL;
    assert_int_equal (wes_test_wesley (&out, "%s", ""), 2);
    wes_test_has (out, "usage: wesley");
    free (out);
    assert_int_equal (wes_test_wesley (&out, "frobnicate"), 2);
    wes_test_has (out, "unknown verb 'frobnicate'");
    free (out);
    assert_int_equal (wes_test_wesley (&out, "compile --help"), 0);
    wes_test_has (out, "-o, --out DIR");
    free (out);
    assert_int_equal (wes_test_wesley (&out, "compile x.graphql --bogus"), 2);
    wes_test_has (out, "unknown flag '--bogus'");
    free (out);
}

static void
test_missing_file_is_named (void **state)
{
    s_fixture_t *f = *state;
    char *out = NULL;
    assert_int_equal (wes_test_wesley (&out, "compile %s/nope.graphql -o %s/o", f->dir, f->dir), 1);
    wes_test_has (out, "nope.graphql");
    free (out);
}

static void
test_syntax_error_has_location (void **state)
{
    s_fixture_t *f = *state;
    char *p = wes_test_write_in (f->dir, "bad.graphql",
                                 "type User @wes_table {\n  id: ID! @wes_pk\n  email String!\n}\n");
    char *out = NULL;
    assert_int_equal (wes_test_wesley (&out, "compile %s -o %s/o", p, f->dir), 1);
    char want[512];
    snprintf (want, sizeof want, "%s:3:9: error:", p);
    if (!strstr (out, want)) {
        fail_msg ("expected '%s' in output:\n%s", want, out);
    }
    free (out);
    /* parse reports the same location */
    assert_int_equal (wes_test_wesley (&out, "parse %s", p), 1);
    wes_test_has (out, want);
    free (out);
    free (p);
}

static void
test_semantic_error_has_location (void **state)
{
    s_fixture_t *f = *state;
    char *p = wes_test_write_in (f->dir, "sem.graphql",
                                 "type User @wes_table {\n  id: ID! @wes_pk\n  x: Mystery\n}\n");
    char *out = NULL;
    assert_int_equal (wes_test_wesley (&out, "compile %s -o %s/o", p, f->dir), 1);
    char want[512];
    snprintf (want, sizeof want, "%s:3:", p);
    if (!strstr (out, want) || !strstr (out, "Mystery")) {
        fail_msg ("expected '%s' and 'Mystery' in output:\n%s", want, out);
    }
    free (out);
    free (p);
}

static void
test_compile_writes_three_files_deterministically (void **state)
{
    s_fixture_t *f = *state;
    char *out = NULL;
    assert_int_equal (
        wes_test_wesley (&out, "compile %s/ecommerce.graphql -o %s/a", EXAMPLES, f->dir), 0);
    free (out);
    assert_int_equal (
        wes_test_wesley (&out, "compile %s/ecommerce.graphql -o %s/b", EXAMPLES, f->dir), 0);
    free (out);
    const char *files[] = {"schema.sql", "types.ts", "schema.json"};
    for (size_t i = 0; i < 3; i++) {
        char pa[1024], pb[1024];
        snprintf (pa, sizeof pa, "%s/a/%s", f->dir, files[i]);
        snprintf (pb, sizeof pb, "%s/b/%s", f->dir, files[i]);
        size_t la = 0, lb = 0;
        char *a = wes_test_read_file (pa, &la);
        char *b = wes_test_read_file (pb, &lb);
        assert_non_null (a);
        assert_non_null (b);
        assert_true (la > 0);
        assert_int_equal (la, lb);
        assert_memory_equal (a, b, la);
        free (a);
        free (b);
    }
    /* schema.json carries the same hash that `wesley hash` prints as its last line */
    char pj[1024];
    snprintf (pj, sizeof pj, "%s/a/schema.json", f->dir);
    json_error_t err;
    json_t *doc = json_load_file (pj, 0, &err);
    assert_non_null (doc);
    const char *hash = json_string_value (json_object_get (doc, "hash"));
    assert_non_null (hash);
    assert_int_equal (strlen (hash), 64);
    assert_int_equal (wes_test_wesley (&out, "hash %s/ecommerce.graphql", EXAMPLES), 0);
    size_t n = strlen (out);
    while (n && out[n - 1] == '\n') {
        out[--n] = '\0';
    }
    const char *last = strrchr (out, '\n');
    last = last ? last + 1 : out;
    assert_string_equal (last, hash);
    free (out);
    /* ... and so do the heads of schema.sql and types.ts */
    const char *heads[2][2] = {{"schema.sql", "-- schema hash: "}, {"types.ts", "// schema hash: "}};
    for (size_t i = 0; i < 2; i++) {
        char ph[1024], want[128];
        snprintf (ph, sizeof ph, "%s/a/%s", f->dir, heads[i][0]);
        snprintf (want, sizeof want, "%s%s\n", heads[i][1], hash);
        char *text = wes_test_read_file (ph, NULL);
        assert_non_null (text);
        assert_non_null (strstr (text, want));
        free (text);
    }
    json_decref (doc);
}

/*  A compile over earlier outputs replaces each file whole: a reader
    holding an old file keeps reading the old bytes, a symlink in the
    directory is replaced (not followed), and the new files are those of
    a compile into an empty directory. */
static void
test_compile_replaces_previous_outputs (void **state)
{
    s_fixture_t *f = *state;
    char *out = NULL;
    char a[1024], b[1024], p[1200], q[1200], target[1200];
    snprintf (a, sizeof a, "%s/a", f->dir);
    snprintf (b, sizeof b, "%s/b", f->dir);
    assert_int_equal (wes_test_wesley (&out, "compile %s/ecommerce.graphql -o %s", EXAMPLES, a), 0);
    free (out);
    //  b holds stale outputs: an old schema.sql (held open below), an old
    //  types.ts, and schema.json as a symlink to a file outside
    assert_int_equal (wes_test_wesley (&out, "compile %s/rpc-example.graphql -o %s", EXAMPLES, b),
                      0);
    free (out);
    snprintf (p, sizeof p, "%s/schema.sql", b);
    size_t old_len = 0;
    char *old_sql = wes_test_read_file (p, &old_len);
    assert_non_null (old_sql);
    FILE *held = fopen (p, "r");
    assert_non_null (held);
    snprintf (target, sizeof target, "%s/elsewhere.json", f->dir);
    assert_int_equal (wes_test_write_file (target, "{\"keep\":true}\n"), 0);
    snprintf (q, sizeof q, "%s/schema.json", b);
    assert_int_equal (unlink (q), 0);
    assert_int_equal (symlink (target, q), 0);

    assert_int_equal (wes_test_wesley (&out, "compile %s/ecommerce.graphql -o %s", EXAMPLES, b), 0);
    free (out);
    const char *files[] = {"schema.sql", "types.ts", "schema.json"};
    for (size_t i = 0; i < 3; i++) {
        snprintf (p, sizeof p, "%s/%s", a, files[i]);
        snprintf (q, sizeof q, "%s/%s", b, files[i]);
        size_t la = 0, lb = 0;
        char *x = wes_test_read_file (p, &la);
        char *y = wes_test_read_file (q, &lb);
        assert_non_null (x);
        assert_non_null (y);
        assert_int_equal (la, lb);
        assert_memory_equal (x, y, la);
        free (x);
        free (y);
    }
    struct stat st;
    snprintf (q, sizeof q, "%s/schema.json", b);
    assert_int_equal (lstat (q, &st), 0);
    assert_true (S_ISREG (st.st_mode));
    char *kept = wes_test_read_file (target, NULL);
    assert_non_null (kept);
    assert_string_equal (kept, "{\"keep\":true}\n");
    free (kept);
    //  The held file is the old one, whole
    char *again = malloc (old_len + 1);
    assert_non_null (again);
    assert_int_equal (fread (again, 1, old_len + 1, held), old_len);
    assert_memory_equal (again, old_sql, old_len);
    fclose (held);
    free (again);
    free (old_sql);
    //  No temporary or spool file is left behind
    char *ls = NULL;
    char cmd[1200];
    snprintf (cmd, sizeof cmd, "ls -A %s", b);
    assert_int_equal (wes_test_run (cmd, &ls), 0);
    assert_string_equal (ls, "schema.json\nschema.sql\ntypes.ts\n");
    free (ls);
}

static void
test_hash_ignores_order_and_format (void **state)
{
    s_fixture_t *f = *state;
    char *a =
        wes_test_write_in (f->dir, "h1.graphql",
                           "type A @wes_table { id: ID! @wes_pk name: String }\n"
                           "type B @wes_table { id: ID! @wes_pk a: ID @wes_fk(ref: \"A.id\") }\n");
    char *b = wes_test_write_in (f->dir, "h2.graphql",
                                 "# same schema, other order\n"
                                 "type B @wes_table {\n  a: ID @wes_fk(ref: \"A.id\")\n"
                                 "  id: ID! @wes_pk\n}\n\n"
                                 "type A @wes_table {\n  name: String\n  id: ID!   @wes_pk\n}\n");
    char *c =
        wes_test_write_in (f->dir, "h3.graphql",
                           "type A @wes_table { id: ID! @wes_pk name: String! }\n"
                           "type B @wes_table { id: ID! @wes_pk a: ID @wes_fk(ref: \"A.id\") }\n");
    char *ha = NULL, *hb = NULL, *hc = NULL;
    assert_int_equal (wes_test_wesley (&ha, "hash %s", a), 0);
    assert_int_equal (wes_test_wesley (&hb, "hash %s", b), 0);
    assert_int_equal (wes_test_wesley (&hc, "hash %s", c), 0);
    assert_string_equal (ha, hb);
    assert_string_not_equal (ha, hc);
    free (ha);
    free (hb);
    free (hc);
    free (a);
    free (b);
    free (c);
}

static void
test_parse_json_kitchen_sinks (void **state)
{
    s_fixture_t *f = *state;
    const char *sinks[] = {"graphql-js/schema-kitchen-sink.graphql",
                           "graphql-js/kitchenSinkSDL.graphql",
                           "libgraphqlparser/schema-kitchen-sink.graphql"};
    for (size_t i = 0; i < 3; i++) {
        char cmd[2048];
        snprintf (cmd, sizeof cmd, "parse --json %s/graphql-spec/%s > %s/ast.json",
                  WES_CONFORMANCE_DIR, sinks[i], f->dir);
        assert_int_equal (wes_test_wesley (NULL, "%s", cmd), 0);
        char pj[1024];
        snprintf (pj, sizeof pj, "%s/ast.json", f->dir);
        json_error_t err;
        json_t *ast = json_load_file (pj, 0, &err);
        if (!ast) {
            fail_msg ("%s: parse --json is not JSON: %s", sinks[i], err.text);
        }
        assert_string_equal (json_string_value (json_object_get (ast, "kind")), "Document");
        assert_true (json_array_size (json_object_get (ast, "definitions")) > 10);
        json_decref (ast);
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_usage_and_unknown_verb, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_missing_file_is_named, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_syntax_error_has_location, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_semantic_error_has_location, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_compile_writes_three_files_deterministically,
                                         s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_compile_replaces_previous_outputs, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_hash_ignores_order_and_format, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_parse_json_kitchen_sinks, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
