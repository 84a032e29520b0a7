/*  wes_testutil.h — small helpers shared by the test programs: files,
    shell commands, the real `wesley` binary, processes, clocks and
    deadlines. Nothing here asserts: each helper returns what happened (and
    prints why on failure), the test decides. Helpers that fail the running
    cmocka test themselves are in wes_testassert.h. */
#ifndef WES_TESTUTIL_H
#define WES_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  Whole file into a NUL-terminated buffer (caller frees), or NULL. */
char *wes_test_read_file (const char *path, size_t *len_out);
/*  Writes data to path; 0 on success. */
int wes_test_write_file (const char *path, const char *data);
/*  Runs a shell command, captures stdout+stderr (caller frees *output if
    non-NULL) and returns its exit status (or -1 if it did not exit). */
int wes_test_run (const char *command, char **output);
/*  Runs `'WES_WESLEY_BIN' ARGS` in a shell, ARGS formatted from fmt (a
    shell line: quote paths yourself). Returns the exit status (-1 if it
    did not exit); *output, when output is not NULL, gets stdout and stderr
    (caller frees). */
int wes_test_wesley (char **output, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/*  `wesley apply --quiet --schema SDL --db CONNINFO`: the database built at
    exactly the schema by the real binary. 0 ok; otherwise prints the
    command, its exit status and its output to stderr and returns -1. */
int wes_test_apply_schema (const char *sdl_path, const char *conninfo);
/*  "dir/name", newly allocated (caller frees). */
char *wes_test_path (const char *dir, const char *name);
/*  Prints "heading:\n<the file's text>" to stderr: a log shown when a
    test fails. */
void wes_test_dump_file (const char *heading, const char *path);

/*  Occurrences of needle in text, overlapping ones included (0 for NULL
    text). */
size_t wes_test_count (const char *text, const char *needle);
/*  Occurrences of needle in the file at path (0 when it cannot be read). */
size_t wes_test_count_file (const char *path, const char *needle);
/*  Polls the file at path (every 20 ms) until it holds needle at least
    count times, up to timeout_ms. Returns the text (caller frees), or NULL
    at the deadline after printing what was missing to stderr. */
char *wes_test_wait_file (const char *path, const char *needle, size_t count, int timeout_ms);

/*  CLOCK_MONOTONIC in milliseconds, for deadlines. */
int64_t wes_test_now_ms (void);
/*  Sleeps ms milliseconds (resumed after a signal). For polling with a
    deadline, never as a synchronisation. */
void wes_test_sleep_ms (int ms);
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

/*  A loopback TCP port for a test's listener (a coordinator, a test
    router), free now and not handed out before in this run of the suite:
    the test programs share a counter file under /tmp, locked while a port
    is taken, over a range below the kernel's ephemeral ports. So a worker
    left reconnecting to a killed coordinator of one test can never reach
    another test's coordinator that happens to bind the same port, and an
    outgoing connection cannot sit on a port a resumed coordinator needs
    again. Returns the port, or -1. */
int wes_test_tcp_port (void);
/*  Whether port can be bound on the loopback address now (true when that
    cannot be told). */
bool wes_test_tcp_free (int port);

#endif
