/*  wes_psql.h — one psql session per target, driven without blocking (D002).

    SQL is streamed into the stdin of a `psql -X -q -v ON_ERROR_STOP=1`
    child; each batch is followed by `\echo` of a marker carrying the caller's
    attempt id. Success is the marker on stdout; failure is psql's ERROR on
    stderr (SQLSTATE captured with VERBOSITY verbose) and the child's exit,
    after which the next batch starts a fresh psql. The child's exit is
    watched as well as its output, so a marker that never comes never hangs
    the caller.

    Connection parameters reach the child through its environment (PGHOST,
    PGPORT, PGDATABASE, PGUSER, PGPASSWORD, ... derived with libpq's own
    PQconninfoParse), never its argv, so no secret is visible in
    /proc/PID/cmdline. Of the caller's own PG* variables only the ones that
    point libpq at secrets kept on this machine pass to the child
    (PGPASSFILE, PGPASSWORD, PGSERVICEFILE, PGSYSCONFDIR, PGSSLCERT,
    PGSSLKEY, PGSSLROOTCERT, PGSSLCRL, PGSSLCRLDIR), and only when the
    connection string does not set the same parameter: that is how a
    worker's passfile reaches psql while the coordinator never sees it. The caller must ignore SIGPIPE (a psql that died
    while we write to it must not kill us). */
#ifndef WES_PSQL_H
#define WES_PSQL_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/wes_mem.h"

typedef struct wes_psql wes_psql_t;

typedef enum {
    WES_PSQL_RUNNING, /* the batch is still executing */
    WES_PSQL_OK,      /* marker seen: every statement of the batch succeeded */
    WES_PSQL_FAILED   /* psql reported an error, or died, or was killed */
} wes_psql_status_t;

/*  psql_bin: the real psql binary (NULL: $WESLEY_PSQL, else `pg_config
    --bindir`/psql, else "psql" on PATH). conninfo: a libpq connection
    string or URI. Returns NULL with *error set (caller frees) when conninfo
    does not parse. Spawns nothing yet. */
wes_psql_t *wes_psql_new (const char *psql_bin, const char *conninfo, char **error);
/*  Ends the child (SIGTERM, then SIGKILL after a grace period) and reaps it. */
void wes_psql_destroy (wes_psql_t **self_p);

/*  Starts a batch: spawns psql if none is running, then queues sql followed by
    the marker for attempt_id (a short token: [A-Za-z0-9_.:-], at most 64
    bytes). Returns 0, or -1 if a batch is already running, attempt_id is
    invalid, or psql could not be started (the status is then FAILED). */
int wes_psql_begin (wes_psql_t *self, const char *attempt_id, const char *sql) WES_MUST_USE;

/*  Fills up to 3 pollfds for the caller's event loop; returns how many. */
size_t wes_psql_pollfds (const wes_psql_t *self, struct pollfd *fds, size_t max);

/*  Does whatever I/O is possible without blocking and reports the batch's
    status. Call it when a pollfd is ready, or periodically. */
wes_psql_status_t wes_psql_step (wes_psql_t *self);

/*  Blocking convenience: begin + poll/step until done or timeout_ms passes
    (then the child is killed and the batch FAILED with message "timeout"). */
wes_psql_status_t wes_psql_run (wes_psql_t *self, const char *attempt_id, const char *sql,
                                int timeout_ms);

/*  Kills the running child, if any; the current batch becomes FAILED. */
void wes_psql_kill (wes_psql_t *self);

/*  About the last batch (borrowed, valid until the next begin). */
const char *wes_psql_sqlstate (const wes_psql_t *self); /* "" when psql printed none */
const char *wes_psql_message (const wes_psql_t *self);  /* first error line, or "" */
const char *wes_psql_stdout (const wes_psql_t *self);   /* bounded tail of query output */
bool wes_psql_connection_lost (const wes_psql_t *self);
/*  Last "wesley-progress N" NOTICE of the batch (rows done), -1 if none. */
int64_t wes_psql_progress (const wes_psql_t *self);
pid_t wes_psql_pid (const wes_psql_t *self); /* 0 when no child */

/*  Retryable SQLSTATEs: 55P03 lock_not_available, 40P01 deadlock_detected,
    40001 serialization_failure, class 08 connection exceptions, 57P01
    admin_shutdown, 57P03 cannot_connect_now, 25P03 idle-in-transaction
    timeout. */
bool wes_psql_sqlstate_retryable (const char *sqlstate);
/*  True when the last batch failed in a way worth retrying. */
bool wes_psql_retryable (const wes_psql_t *self);

#endif
