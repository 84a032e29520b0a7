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

void
wes_test_expect (const char *cmd, int want, const char *needle)
{
    free (wes_test_expect_output (cmd, want, needle));
}

char *
wes_test_expect_output (const char *cmd, int want, const char *needle)
{
    char *out = NULL;
    int rc = wes_test_run (cmd, &out);
    if (rc != want || (needle && (!out || !strstr (out, needle)))) {
        fail_msg ("`%s` exited %d (want %d), output lacks \"%s\":\n%s", cmd, rc, want,
                  needle ? needle : "", out ? out : "");
    }
    return out;
}

void
wes_test_has (const char *text, const char *needle)
{
    if (!text || !strstr (text, needle)) {
        fail_msg ("expected \"%s\" in:\n%s", needle, text ? text : "(null)");
    }
}

json_t *
wes_test_json (const char *text, const char *what)
{
    json_error_t err;
    json_t *doc = json_loads (text ? text : "", 0, &err);
    if (!doc) {
        fail_msg ("%s is not JSON (%s):\n%s", what, err.text, text ? text : "(nothing)");
    }
    return doc;
}

char *
wes_test_write_in (const char *dir, const char *name, const char *text)
{
    char *path = wes_test_path (dir, name);
    if (wes_test_write_file (path, text) != 0) {
        fail_msg ("cannot write %s", path);
    }
    return path;
}

wes_model_t *
wes_test_compile (const char *sdl)
{
    wes_diag_t *diag = wes_diag_new ("test.graphql");
    wes_ast_doc_t *doc = wes_parse_buffer ("test.graphql", sdl, strlen (sdl), diag);
    wes_model_t *m = doc ? wes_compile (doc, diag) : NULL;
    if (!m) {
        wes_diag_print (diag, stderr);
        fail_msg ("SDL did not compile:\n%s", sdl);
    }
    wes_ast_doc_destroy (&doc);
    wes_diag_destroy (&diag);
    return m;
}
