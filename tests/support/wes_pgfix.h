/*  wes_pgfix.h — a throwaway PostgreSQL 15 cluster for tests.

    wes_pgfix_start() runs initdb into a fresh private temporary directory
    and starts a postmaster on a unix socket in that directory (no TCP), with
    pg_stat_statements preloaded and durability switched off. As root, the
    cluster runs as the `postgres` OS user. wes_pgfix_destroy() stops it
    (immediate shutdown) and removes the directory. If the test process dies
    first, the postmaster gets SIGQUIT (parent-death signal) and shuts down
    by itself, and a watchdog child removes the directory. (The kernel
    sends that signal when the *thread* that started the server exits:
    start and destroy a fixture from the same long-lived thread, normally
    the test's main thread.)

    Environment: WES_PG_BINDIR overrides the server binaries' folder
    (default: `pg_config --bindir`, else /usr/lib/postgresql/15/bin);
    WES_PG_KEEP=1 keeps the directory on destroy (for debugging);
    WES_PG_MAX_CONNECTIONS overrides max_connections (default 120). */
#ifndef WES_PGFIX_H
#define WES_PGFIX_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <sys/types.h>

#include "util/wes_mem.h"

typedef struct wes_pgfix wes_pgfix_t;

/*  Starts a fresh cluster. Returns NULL on failure, after printing what went
    wrong (and the tail of the server log) to stderr. */
wes_pgfix_t *wes_pgfix_start (void);
/*  Stops the server (SIGQUIT, waits; SIGKILL after a deadline), removes the
    directory. Safe on NULL; sets *self_p to NULL. */
void wes_pgfix_destroy (wes_pgfix_t **self_p);

/*  The usual fixture of a test program on one cluster: SIGPIPE ignored (a
    psql or wesley child that exits early must not kill the test), the
    cluster started, and a scratch directory made by wes_test_tmpdir
    (prefix). 0 ok; -1 when either could not be made (printed), whatever
    was made left in *pg_out and *dir_out for wes_pgfix_destroy_scratch. */
int wes_pgfix_start_scratch (const char *prefix, wes_pgfix_t **pg_out, char **dir_out) WES_MUST_USE;
/*  Stops the cluster and removes and frees the directory; sets both to
    NULL. Safe on NULL values. */
void wes_pgfix_destroy_scratch (wes_pgfix_t **pg_p, char **dir_p);

/*  Stops the server only (immediate shutdown; the data stay), and starts it
    again on the same directory and port: for tests of lost connections. */
int wes_pgfix_stop (wes_pgfix_t *self) WES_MUST_USE;
int wes_pgfix_restart (wes_pgfix_t *self) WES_MUST_USE;

/*  "host=<socketdir> port=<port> user=postgres dbname=<dbname>": caller
    frees. dbname NULL means "postgres". */
char *wes_pgfix_conninfo (const wes_pgfix_t *self, const char *dbname);
/*  Borrowed strings and plain values, valid while the fixture lives. */
const char *wes_pgfix_dir (const wes_pgfix_t *self);       /* temp dir, also the socket dir */
const char *wes_pgfix_datadir (const wes_pgfix_t *self);   /* PGDATA */
const char *wes_pgfix_bindir (const wes_pgfix_t *self);    /* server binaries */
const char *wes_pgfix_psql_path (const wes_pgfix_t *self); /* the real psql, not the wrapper */
int wes_pgfix_port (const wes_pgfix_t *self);
pid_t wes_pgfix_pid (const wes_pgfix_t *self); /* postmaster, 0 when stopped */
/*  Path of the server log (stdout+stderr of the postmaster). */
const char *wes_pgfix_logfile (const wes_pgfix_t *self);

/*  CREATE DATABASE name (from template0). 0 ok, -1 on error (printed). */
int wes_pgfix_createdb (wes_pgfix_t *self, const char *name) WES_MUST_USE;
/*  DROP DATABASE IF EXISTS name WITH (FORCE). 0 ok, -1 on error. */
int wes_pgfix_dropdb (wes_pgfix_t *self, const char *name) WES_MUST_USE;

/*  Runs the real psql (-X -q -v ON_ERROR_STOP=1) against database db
    (NULL: postgres). wes_pgfix_psql sends sql on standard input;
    wes_pgfix_psql_file runs `-f path`. If output is not NULL, *output gets
    psql's stdout and stderr (caller frees). Returns psql's exit status
    (0 ok, 3 an SQL error under ON_ERROR_STOP, 1/2 other failures), or -1
    if psql could not be run. */
int wes_pgfix_psql (wes_pgfix_t *self, const char *db, const char *sql, char **output);
int wes_pgfix_psql_file (wes_pgfix_t *self, const char *db, const char *path, char **output);

/*  A libpq connection to db (NULL: postgres), or NULL after printing why.
    Caller PQfinish()es it. */
PGconn *wes_pgfix_connect (wes_pgfix_t *self, const char *db);
/*  Runs sql on conn. Returns the result when its status is COMMAND_OK or
    TUPLES_OK (caller PQclear()s it); otherwise prints the error with the
    statement and returns NULL. */
PGresult *wes_pgfix_query (PGconn *conn, const char *sql);
/*  Convenience: connects to db, runs sql, returns the first column of the
    first row as a string (caller frees), or NULL (error, no row, or SQL NULL). */
char *wes_pgfix_query_value (wes_pgfix_t *self, const char *db, const char *sql);
/*  Convenience: connects to db and runs sql (any statements); 0 ok, -1 on error. */
int wes_pgfix_exec (wes_pgfix_t *self, const char *db, const char *sql) WES_MUST_USE;
/*  Puts line first in pg_hba.conf (so it wins over the fixture's trust
    rules) and reloads the server's configuration: e.g. "local all alice
    scram-sha-256" makes alice need her password. 0 ok, -1 on error. */
int wes_pgfix_hba_prepend (wes_pgfix_t *self, const char *line) WES_MUST_USE;

#endif
