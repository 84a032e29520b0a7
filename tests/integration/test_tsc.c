/*  test_tsc.c — the emitted TypeScript type-checks under `tsc --strict`.
    Every example schema is compiled with the wesley binary into a temporary
    directory, and all the types.ts files, plus the types of a model that
    uses every mapped column type and a consumer file that uses them, go
    through the pinned TypeScript compiler (tools/package.json).

    Needs tools/node_modules: run `npm ci --prefix tools` first. Without it
    this test FAILS (it never passes silently). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "schema/wes_emit_ts.h"
#include "schema/wes_model.h"
#include "util/wes_buf.h"
#include "util/wes_mem.h"
#include "wes_testassert.h"
#include "wes_testutil.h"

#define S_TSC WES_SOURCE_DIR "/tools/node_modules/.bin/tsc"
#define S_TSC_FLAGS "--strict --noEmit --target es2020"
#define S_EXAMPLES_DIR WES_CONFORMANCE_DIR "/wesley-examples"

static void
s_require_tsc (void)
{
    if (access (S_TSC, X_OK) != 0) {
        fail_msg ("%s is missing: run `npm ci --prefix tools` (from %s) to install the pinned "
                  "TypeScript compiler, then run this test again",
                  S_TSC, WES_SOURCE_DIR);
    }
}

//  Runs tsc on the given files (a space-separated, shell-quoted list);
//  returns its exit status and its output (caller frees)
static int
s_tsc (const char *files, char **output)
{
    wes_buf_t *cmd = wes_buf_new ();
    wes_buf_printf (cmd, "'%s' %s %s", S_TSC, S_TSC_FLAGS, files);
    int rc = wes_test_run (wes_buf_data (cmd), output);
    wes_buf_destroy (&cmd);
    return rc;
}

//  tsc really rejects a type error: the check can fail
static void
test_tsc_rejects_errors (void **state)
{
    (void) state;
    s_require_tsc ();
    char *dir = wes_test_tmpdir ("wes-tsc");
    assert_non_null (dir);
    wes_buf_t *path = wes_buf_new ();
    wes_buf_printf (path, "%s/bad.ts", dir);
    assert_int_equal (wes_test_write_file (wes_buf_data (path),
                                           "export const n: number | null = null;\n"
                                           "export const m: number = n;\n"),
                      0);
    char *out = NULL;
    int rc = s_tsc (wes_buf_data (path), &out);
    assert_int_not_equal (rc, 0);
    wes_test_has (out, "TS2322");
    free (out);
    wes_buf_destroy (&path);
    wes_test_rmtree (dir);
    free (dir);
}

//  Every example, compiled by the wesley binary, type-checks
static void
test_examples_typecheck (void **state)
{
    (void) state;
    s_require_tsc ();
    char *dir = wes_test_tmpdir ("wes-tsc");
    assert_non_null (dir);
    DIR *d = opendir (S_EXAMPLES_DIR);
    assert_non_null (d);
    wes_buf_t *files = wes_buf_new ();
    size_t n = 0;
    struct dirent *ent;
    while ((ent = readdir (d)) != NULL) {
        size_t len = strlen (ent->d_name);
        if (ent->d_name[0] == '.' || len <= 8 || strcmp (ent->d_name + len - 8, ".graphql") != 0) {
            continue;
        }
        wes_buf_t *cmd = wes_buf_new ();
        wes_buf_printf (cmd, "'%s' compile '%s/%s' -o '%s/%.*s'", WES_WESLEY_BIN, S_EXAMPLES_DIR,
                        ent->d_name, dir, (int) (len - 8), ent->d_name);
        char *out = NULL;
        int rc = wes_test_run (wes_buf_data (cmd), &out);
        if (rc != 0) {
            fail_msg ("`%s` exited with %d:\n%s", wes_buf_data (cmd), rc, out ? out : "");
        }
        free (out);
        wes_buf_printf (files, " '%s/%.*s/types.ts'", dir, (int) (len - 8), ent->d_name);
        wes_buf_destroy (&cmd);
        n++;
    }
    closedir (d);
    assert_true (n > 0);
    char *out = NULL;
    int rc = s_tsc (wes_buf_data (files), &out);
    if (rc != 0) {
        fail_msg ("tsc %s rejected the emitted types (exit %d):\n%s", S_TSC_FLAGS, rc, out);
    }
    free (out);
    wes_buf_destroy (&files);
    wes_test_rmtree (dir);
    free (dir);
}

//  A model with every mapped column type, awkward names, enums (one empty),
//  arrays and a table without columns; and a consumer that uses its types
static void
test_all_types_typecheck (void **state)
{
    (void) state;
    s_require_tsc ();
    wes_model_t *m = wes_model_new ();
    wes_enum_t *e = wes_model_add_enum (m, "user_role");
    wes_model_set_str (&e->gql_name, "UserRole");
    wes_enum_add_value (e, "ADMIN");
    wes_enum_add_value (e, "VIEWER");
    wes_model_add_enum (m, "empty_enum");
    e = wes_model_add_enum (m, "odd");
    wes_enum_add_value (e, "it's");
    wes_enum_add_value (e, "a\\b");
    wes_enum_add_value (e, "new\nline");
    static const char *types[]
        = {"uuid",        "text",          "character varying(64)",    "character(2)",
           "citext",      "inet",          "cidr",                     "macaddr",
           "interval",    "time",          "integer",                  "smallint",
           "real",        "double precision", "bigint",                "numeric(12,2)",
           "boolean",     "timestamp with time zone", "timestamp without time zone", "date",
           "json",        "jsonb",         "bytea",                    "user_role",
           "user_role[]", "text[]",        "integer[][]",              "empty_enum",
           "odd",         "point",         NULL};
    wes_table_t *t = wes_model_add_table (m, "every_type");
    char name[32];
    for (size_t i = 0; types[i]; i++) {
        snprintf (name, sizeof name, "c%zu", i);
        wes_column_t *c = wes_table_add_column (t, name, types[i]);
        c->not_null = (i % 2) == 0;
        c->array_elem_not_null = (i % 3) == 0;
        if (i % 5 == 0) {
            wes_model_set_str (&c->default_expr, "NULL");
        }
    }
    wes_column_t *c = wes_table_add_column (t, "first-name", "text");
    c = wes_table_add_column (t, "select", "text");
    c->not_null = true;
    c = wes_table_add_column (t, "2fa", "boolean");
    wes_table_t *u = wes_model_add_table (m, "order");
    wes_model_set_str (&u->gql_name, "Order");
    c = wes_table_add_column (u, "id", "uuid");
    c->not_null = true;
    c = wes_table_add_column (u, "role", "user_role");
    c->not_null = true;
    wes_model_add_table (m, "empty_table");
    //  Names that clash with ours and with each other
    wes_table_t *x = wes_model_add_table (m, "json_table");
    wes_model_set_str (&x->gql_name, "Json");
    c = wes_table_add_column (x, "doc", "jsonb");
    x = wes_model_add_table (m, "order_insert");
    wes_model_set_str (&x->gql_name, "OrderInsert");
    x = wes_model_add_table (m, "tables");
    wes_model_set_str (&x->gql_name, "Tables");
    wes_model_canonicalize (m);
    char *ts = wes_emit_ts (m);

    char *dir = wes_test_tmpdir ("wes-tsc");
    assert_non_null (dir);
    wes_buf_t *path = wes_buf_new ();
    wes_buf_printf (path, "%s/types.ts", dir);
    assert_int_equal (wes_test_write_file (wes_buf_data (path), ts), 0);
    wes_buf_reset (path);
    wes_buf_printf (path, "%s/use.ts", dir);
    assert_int_equal (
        wes_test_write_file (wes_buf_data (path),
                             "import { Order, OrderInsert, Tables, UserRole, UserRoleValues, Json }"
                             " from './types';\n"
                             "const role: UserRole = UserRoleValues[0];\n"
                             "const row: Order = { id: 'a', role };\n"
                             "const ins: OrderInsert = { id: 'b', role: 'VIEWER' };\n"
                             "const byName: Tables['order'] = row;\n"
                             "const j: Json = { a: [1, 'x', null, { b: true }] };\n"
                             "export const all = [row, ins, byName, j];\n"),
        0);
    wes_buf_t *files = wes_buf_new ();
    wes_buf_printf (files, "'%s/types.ts' '%s/use.ts'", dir, dir);
    char *out = NULL;
    int rc = s_tsc (wes_buf_data (files), &out);
    if (rc != 0) {
        fail_msg ("tsc rejected:\n%s\n--- types.ts:\n%s", out, ts);
    }
    free (out);

    //  And a wrong enum value is a type error
    wes_buf_reset (path);
    wes_buf_printf (path, "%s/misuse.ts", dir);
    assert_int_equal (wes_test_write_file (wes_buf_data (path),
                                           "import { OrderInsert } from './types';\n"
                                           "export const bad: OrderInsert = "
                                           "{ id: 'x', role: 'OWNER' };\n"),
                      0);
    wes_buf_reset (files);
    wes_buf_printf (files, "'%s/types.ts' '%s/misuse.ts'", dir, dir);
    rc = s_tsc (wes_buf_data (files), &out);
    assert_int_not_equal (rc, 0);
    wes_test_has (out, "OWNER");
    free (out);

    wes_buf_destroy (&files);
    wes_buf_destroy (&path);
    wes_test_rmtree (dir);
    free (dir);
    free (ts);
    wes_model_destroy (&m);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_tsc_rejects_errors),
        cmocka_unit_test (test_all_types_typecheck),
        cmocka_unit_test (test_examples_typecheck),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
