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

/*  Starts argv[0] (a path) with argv in a new process group, stdout and
    stderr appended to log_path (NULL: /dev/null). Returns the pid, or -1.
    Kill the whole group (the program and its psql children) with
    kill (-pid, SIGKILL). */
int wes_test_spawn (char *const argv[], const char *log_path);
/*  Waits for pid up to timeout_ms; returns its exit status, 128+signal if
    it was killed, or -1 on timeout (the process is left running). */
int wes_test_wait (int pid, int timeout_ms);

#endif
