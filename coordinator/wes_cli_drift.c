/*  wes_cli_drift.c — `wesley drift`: compares a schema file with a live
    database, or with every database of a fleet (--targets, grouped by
    wes_fleetdrift), and lists every difference, in words or as JSON. Exit
    codes: 0 no drift, 1 drift found, 2 usage, 3 the schema or a database
    could not be read. */
#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pg/wes_introspect.h"
#include "plan/wes_diff.h"
#include "schema/wes_compile.h"
#include "util/wes_diag.h"
#include "wes_cli.h"
#include "wes_fleetdrift.h"
#include "wes_targets.h"

/*  Indexes left INVALID (a failed CREATE INDEX CONCURRENTLY): drift even
    when their definition matches. Returns a JSON array of names, or NULL. */
static json_t *
s_invalid_indexes (const char *conninfo, const char *schema, char **error)
{
    PGconn *conn = PQconnectdb (conninfo);
    if (PQstatus (conn) != CONNECTION_OK) {
        char *m = wes_strdup (PQerrorMessage (conn));
        m[strcspn (m, "\n")] = '\0';
        *error = m;
        PQfinish (conn);
        return NULL;
    }
    json_t *out = wes_fleetdrift_invalid_indexes (conn, schema, error);
    PQfinish (conn);
    return out;
}

/*  "checked 812/3000" on a terminal, rewritten in place. */
static void
s_progress (size_t done, size_t total, void *arg)
{
    (void) arg;
    fprintf (stderr, "\rchecked %zu/%zu", done, total);
    if (done == total) {
        fputc ('\n', stderr);
    }
    fflush (stderr);
}

/*  The fleet form: --targets FILE. */
static int
s_fleet (const char *schema_path, const char *targets_path, const wes_fleetdrift_opts_t *opts,
         bool json, size_t show)
{
    char *error = NULL;
    wes_targets_t *targets = wes_targets_load (targets_path, &error);
    if (!targets) {
        fprintf (stderr, "wesley drift: %s\n", error ? error : "cannot read the targets file");
        free (error);
        return 3;
    }
    wes_diag_t *diag = wes_diag_new (schema_path);
    wes_model_t *want = wes_compile_file (schema_path, diag);
    wes_diag_print (diag, stderr);
    wes_diag_destroy (&diag);
    if (!want) {
        wes_targets_destroy (&targets);
        return 3;
    }
    wes_fleetdrift_t *result = wes_fleetdrift_run (want, targets, opts, &error);
    if (!result) {
        fprintf (stderr, "wesley drift: %s\n", error ? error : "the check could not run");
        free (error);
        wes_model_destroy (&want);
        wes_targets_destroy (&targets);
        return 3;
    }
    if (json) {
        json_t *doc = wes_fleetdrift_to_json (result);
        json_dumpf (doc, stdout, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
        fputc ('\n', stdout);
        json_decref (doc);
    }
    else {
        wes_fleetdrift_print (result, schema_path, show, stdout);
    }
    int rc = wes_fleetdrift_error_count (result) > 0   ? 3
             : wes_fleetdrift_drifted_count (result) > 0 ? 1
                                                         : 0;
    wes_fleetdrift_destroy (&result);
    wes_model_destroy (&want);
    wes_targets_destroy (&targets);
    return rc;
}

int
wes_cli_drift (int argc, char **argv)
{
    static const char *usage
        = "usage: wesley drift --schema SCHEMA --db CONNINFO [--db-schema NAME] [--json]\n"
          "       wesley drift --schema SCHEMA --targets FILE [--parallel N] [--show N]\n"
          "                    [--connect-timeout S] [--statement-timeout MS]\n"
          "                    [--db-schema NAME] [--json]\n"
          "  Compares the schema file with a live database and lists each difference:\n"
          "  missing or extra table, column, index, constraint, enum value, policy; type,\n"
          "  nullability or default mismatch; an index left INVALID.\n"
          "  With --targets, checks every database of the fleet (in parallel), groups the\n"
          "  targets by their live schema (hash and INVALID indexes) and lists each\n"
          "  group's differences once; unreadable targets are grouped by error.\n"
          "  --schema SCHEMA        the GraphQL SDL file (the expected schema) (required)\n"
          "  --db CONNINFO          one database: libpq connection string or URI\n"
          "                         (required unless --targets)\n"
          "  --targets FILE         the fleet: the targets file `wesley run` reads\n"
          "                         (required unless --db)\n"
          "  --db-schema NAME       database schema to read (default: public)\n"
          "  --json                 print JSON: one database {\"drift\", \"changes\", ...};\n"
          "                         a fleet {\"schema_hash\", \"targets\", \"groups\", \"errors\"}\n"
          "                         (default: off, one line per difference)\n"
          "  --parallel N           fleet: targets read at once, 1-64 (default: 8)\n"
          "  --show N               fleet: target names shown per group, 0-1000 (default: 5)\n"
          "  --connect-timeout S    fleet: libpq connect_timeout per target, 1-3600 s\n"
          "                         (default: 10; overrides the target's own)\n"
          "  --statement-timeout MS fleet: statement_timeout of the catalog queries,\n"
          "                         1-3600000 ms (default: 30000)\n"
          "exit: 0 no drift, 1 drift, 2 usage, 3 the schema or a database could not be read\n"
          "  (fleet: 3 when any target could not be read, even if others drifted: the check\n"
          "  is incomplete; the drift found is printed all the same)\n";
    const char *schema_path = NULL, *db = NULL, *db_schema = "public", *targets = NULL;
    bool json = false;
    long parallel = WES_FLEETDRIFT_PARALLEL_DEFAULT, show = 5;
    long connect_timeout = WES_FLEETDRIFT_CONNECT_TIMEOUT_DEFAULT;
    long statement_timeout = WES_FLEETDRIFT_STATEMENT_TIMEOUT_DEFAULT;
    bool fleet_flag = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp (a, "--help") == 0 || strcmp (a, "-h") == 0) {
            fputs (usage, stdout);
            return 0;
        }
        if (strcmp (a, "--json") == 0) {
            json = true;
        }
        else if (strcmp (a, "--schema") == 0 && i + 1 < argc) {
            schema_path = argv[++i];
        }
        else if (strcmp (a, "--db") == 0 && i + 1 < argc) {
            db = argv[++i];
        }
        else if (strcmp (a, "--targets") == 0 && i + 1 < argc) {
            targets = argv[++i];
        }
        else if (strcmp (a, "--db-schema") == 0 && i + 1 < argc) {
            db_schema = argv[++i];
        }
        else if (strcmp (a, "--parallel") == 0 && i + 1 < argc) {
            fleet_flag = true;
            if (wes_cli_int_arg ("drift", a, argv[++i], 1, WES_FLEETDRIFT_PARALLEL_MAX, &parallel) != 0) {
                return 2;
            }
        }
        else if (strcmp (a, "--show") == 0 && i + 1 < argc) {
            fleet_flag = true;
            if (wes_cli_int_arg ("drift", a, argv[++i], 0, 1000, &show) != 0) {
                return 2;
            }
        }
        else if (strcmp (a, "--connect-timeout") == 0 && i + 1 < argc) {
            fleet_flag = true;
            if (wes_cli_int_arg ("drift", a, argv[++i], 1, WES_FLEETDRIFT_CONNECT_TIMEOUT_MAX, &connect_timeout)
                != 0) {
                return 2;
            }
        }
        else if (strcmp (a, "--statement-timeout") == 0 && i + 1 < argc) {
            fleet_flag = true;
            if (wes_cli_int_arg ("drift", a, argv[++i], 1, WES_FLEETDRIFT_STATEMENT_TIMEOUT_MAX,
                           &statement_timeout)
                != 0) {
                return 2;
            }
        }
        else {
            fprintf (stderr, "wesley drift: unknown or incomplete argument '%s'\n%s", a, usage);
            return 2;
        }
    }
    if (!schema_path || (db == NULL) == (targets == NULL)) {
        fprintf (stderr, "wesley drift: --schema and one of --db or --targets are required\n%s",
                 usage);
        return 2;
    }
    if (db && fleet_flag) {
        fprintf (stderr, "wesley drift: --parallel, --show, --connect-timeout and "
                         "--statement-timeout go with --targets\n");
        return 2;
    }
    if (targets) {
        wes_fleetdrift_opts_t opts = {
            .db_schema = db_schema,
            .parallel = (int) parallel,
            .connect_timeout_s = (int) connect_timeout,
            .statement_timeout_ms = (int) statement_timeout,
            .progress = isatty (STDERR_FILENO) ? s_progress : NULL,
        };
        return s_fleet (schema_path, targets, &opts, json, (size_t) show);
    }
    wes_diag_t *diag = wes_diag_new (schema_path);
    wes_model_t *want = wes_compile_file (schema_path, diag);
    wes_diag_print (diag, stderr);
    wes_diag_destroy (&diag);
    if (!want) {
        return 3;
    }
    char *error = NULL;
    wes_model_t *have = wes_introspect_conninfo (db, db_schema, &error);
    json_t *invalid = have ? s_invalid_indexes (db, db_schema, &error) : NULL;
    if (!have || !invalid) {
        fprintf (stderr, "wesley drift: %s\n", error ? error : "cannot read the database");
        free (error);
        wes_model_destroy (&want);
        wes_model_destroy (&have);
        return 3;
    }
    wes_diff_t *diff = wes_diff_new (have, want);
    size_t n = wes_diff_count (diff);
    size_t n_invalid = json_array_size (invalid);
    bool drift = n > 0 || n_invalid > 0;
    char want_hash[65], have_hash[65];
    wes_model_hash (want, want_hash);
    wes_model_hash (have, have_hash);
    if (json) {
        json_t *doc = json_object ();
        json_object_set_new (doc, "drift", json_boolean (drift));
        json_object_set_new (doc, "schema_hash", json_string (want_hash));
        json_object_set_new (doc, "database_hash", json_string (have_hash));
        json_object_set_new (doc, "changes", wes_diff_to_json (diff));
        json_object_set_new (doc, "invalid_indexes", json_incref (invalid));
        json_dumpf (doc, stdout, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
        fputc ('\n', stdout);
        json_decref (doc);
    }
    else if (!drift) {
        printf ("no drift: the database matches %s (hash %s)\n", schema_path, want_hash);
    }
    else {
        printf ("drift: %zu difference%s between the database and %s\n", n + n_invalid,
                n + n_invalid == 1 ? "" : "s", schema_path);
        for (size_t i = 0; i < n; i++) {
            printf ("  %s\n", wes_diff_change (diff, i)->sentence);
        }
        for (size_t i = 0; i < n_invalid; i++) {
            json_t *o = json_array_get (invalid, i);
            printf ("  index %s.%s: INVALID (a failed CREATE INDEX CONCURRENTLY left it; drop "
                    "it and create it again)\n",
                    json_string_value (json_object_get (o, "table")),
                    json_string_value (json_object_get (o, "index")));
        }
        printf ("schema hash %s, database hash %s\n", want_hash, have_hash);
    }
    json_decref (invalid);
    wes_diff_destroy (&diff);
    wes_model_destroy (&have);
    wes_model_destroy (&want);
    return drift ? 1 : 0;
}
