/*  wes_testassert.c — checks that fail the running cmocka test. */
#include "wes_testassert.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "schema/wes_compile.h"
#include "schema/wes_parser.h"
#include "wes_testutil.h"

/*  Prints the message and fails the running test at the caller's line. */
#define s_fail(file, line, ...)                                                                    \
    do {                                                                                           \
        print_error ("ERROR: " __VA_ARGS__);                                                       \
        print_error ("\n");                                                                        \
        _fail ((file), (line));                                                                    \
    } while (0)

char *
wes_test_expect_at (const char *cmd, int want, const char *needle, const char *file, int line)
{
    char *out = NULL;
    int rc = wes_test_run (cmd, &out);
    if (rc != want || (needle && (!out || !strstr (out, needle)))) {
        s_fail (file, line, "`%s` exited %d (want %d), output lacks \"%s\":\n%s", cmd, rc, want,
                needle ? needle : "", out ? out : "");
    }
    return out;
}

void
wes_test_has_at (const char *text, const char *needle, const char *file, int line)
{
    if (!text || !strstr (text, needle)) {
        s_fail (file, line, "expected \"%s\" in:\n%s", needle, text ? text : "(null)");
    }
}

json_t *
wes_test_json_at (const char *text, const char *what, const char *file, int line)
{
    json_error_t err;
    json_t *doc = json_loads (text ? text : "", 0, &err);
    if (!doc) {
        s_fail (file, line, "%s is not JSON (%s):\n%s", what, err.text, text ? text : "(nothing)");
    }
    return doc;
}

char *
wes_test_write_in_at (const char *dir, const char *name, const char *text, const char *file,
                      int line)
{
    char *path = wes_test_path (dir, name);
    if (wes_test_write_file (path, text) != 0) {
        s_fail (file, line, "cannot write %s", path);
    }
    return path;
}

wes_model_t *
wes_test_compile_at (const char *sdl, const char *file, int line)
{
    wes_diag_t *diag = wes_diag_new ("test.graphql");
    wes_ast_doc_t *doc = wes_parse_buffer ("test.graphql", sdl, strlen (sdl), diag);
    wes_model_t *m = doc ? wes_compile (doc, diag) : NULL;
    if (!m) {
        wes_diag_print (diag, stderr);
        s_fail (file, line, "SDL did not compile:\n%s", sdl);
    }
    wes_ast_doc_destroy (&doc);
    wes_diag_destroy (&diag);
    return m;
}

wes_column_t *
wes_test_column_at (wes_table_t *t, const char *name, const char *type, bool not_null,
                    const char *dflt, const char *file, int line)
{
    wes_column_t *c = wes_table_add_column (t, name, type);
    if (!c) {
        s_fail (file, line, "cannot add column %s %s", name, type);
    }
    c->not_null = not_null;
    wes_model_set_str (&c->default_expr, dflt);
    return c;
}
