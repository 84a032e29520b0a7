/*  wes_testassert.h — checks shared by the cmocka test programs that fail
    the running test themselves (cmocka's fail_msg), with what went wrong:
    the command, its exit status and output, the text that lacked a
    needle, the SDL that did not compile. Call them from a test function
    (or a helper it calls), not from a group setup or teardown. */
#ifndef WES_TESTASSERT_H
#define WES_TESTASSERT_H

#include <jansson.h>
#include <stddef.h>

#include "schema/wes_model.h"

/*  Runs cmd in a shell; fails the test unless it exits with want and,
    when needle is not NULL, its output (stdout and stderr) contains
    needle. The failure shows the command, both statuses, the needle and
    the output. wes_test_expect_output returns the output (caller frees). */
void wes_test_expect (const char *cmd, int want, const char *needle);
char *wes_test_expect_output (const char *cmd, int want, const char *needle);
/*  Fails the test unless text (NULL allowed) contains needle, showing the
    text. */
void wes_test_has (const char *text, const char *needle);
/*  text parsed as JSON (caller decrefs); fails the test, naming what and
    showing the text, when it is not JSON. */
json_t *wes_test_json (const char *text, const char *what);
/*  Writes text to dir/name and returns the path (caller frees); fails the
    test when the file cannot be written. */
char *wes_test_write_in (const char *dir, const char *name, const char *text);
/*  sdl parsed and compiled as "test.graphql" (caller destroys the model);
    fails the test, after printing the diagnostics, with the SDL when it
    does not compile. */
wes_model_t *wes_test_compile (const char *sdl);

#endif
