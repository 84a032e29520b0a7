/*  wes_testutil.h — small helpers shared by the test programs. */
#ifndef WES_TESTUTIL_H
#define WES_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>

/*  Whole file into a NUL-terminated buffer (caller frees), or NULL. */
char *wes_test_read_file (const char *path, size_t *len_out);
/*  Writes data to path; 0 on success. */
int wes_test_write_file (const char *path, const char *data);
/*  Runs a shell command, captures stdout+stderr (caller frees *output if
    non-NULL) and returns its exit status (or -1 if it did not exit). */
int wes_test_run (const char *command, char **output);
/*  A fresh private temporary directory (caller frees the string); removed
    with wes_test_rmtree. */
char *wes_test_tmpdir (const char *prefix);
void wes_test_rmtree (const char *path);

#endif
