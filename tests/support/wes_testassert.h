/*  wes_testassert.h — checks shared by the cmocka test programs that fail
    the running test themselves (cmocka's fail_msg), with what went wrong:
    the command, its exit status and output, the text that lacked a
    needle, the SDL that did not compile. Each is a macro that names the
    caller's file and line in the failure. Call them from a test function
    (or a helper it calls), not from a group setup or teardown. */
#ifndef WES_TESTASSERT_H
#define WES_TESTASSERT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include "schema/wes_model.h"

/*  Runs cmd in a shell; fails the test unless it exits with want and,
    when needle is not NULL, its output (stdout and stderr) contains
    needle. The failure shows the command, both statuses, the needle and
    the output. wes_test_expect_output returns the output (caller frees). */
#define wes_test_expect(cmd, want, needle)                                                         \
    free (wes_test_expect_at ((cmd), (want), (needle), __FILE__, __LINE__))
#define wes_test_expect_output(cmd, want, needle)                                                  \
    wes_test_expect_at ((cmd), (want), (needle), __FILE__, __LINE__)
/*  Fails the test unless text (NULL allowed) contains needle, showing the
    text. */
#define wes_test_has(text, needle) wes_test_has_at ((text), (needle), __FILE__, __LINE__)
/*  text parsed as JSON (caller decrefs); fails the test, naming what and
    showing the text, when it is not JSON. */
#define wes_test_json(text, what) wes_test_json_at ((text), (what), __FILE__, __LINE__)
/*  Writes text to dir/name and returns the path (caller frees); fails the
    test when the file cannot be written. */
#define wes_test_write_in(dir, name, text)                                                         \
    wes_test_write_in_at ((dir), (name), (text), __FILE__, __LINE__)
/*  sdl parsed and compiled as "test.graphql" (caller destroys the model);
    fails the test, after printing the diagnostics, with the SDL when it
    does not compile. */
#define wes_test_compile(sdl) wes_test_compile_at ((sdl), __FILE__, __LINE__)

/*  Adds column name of type to t (a model made with the builder), NOT NULL
    or not, with default expression dflt (NULL: none); fails the test when
    the table refuses it. Returns the column (owned by the table). */
#define wes_test_column(t, name, type, not_null, dflt)                                             \
    wes_test_column_at ((t), (name), (type), (not_null), (dflt), __FILE__, __LINE__)

/*  What the macros call. */
char *wes_test_expect_at (const char *cmd, int want, const char *needle, const char *file,
                          int line);
void wes_test_has_at (const char *text, const char *needle, const char *file, int line);
json_t *wes_test_json_at (const char *text, const char *what, const char *file, int line);
char *wes_test_write_in_at (const char *dir, const char *name, const char *text, const char *file,
                            int line);
wes_model_t *wes_test_compile_at (const char *sdl, const char *file, int line);
wes_column_t *wes_test_column_at (wes_table_t *t, const char *name, const char *type, bool not_null,
                                  const char *dflt, const char *file, int line);

#endif
