/*  wes_cli_drift.c — `wesley drift`: compares a schema file with a live
    database and lists every difference, in words or as JSON. Exit codes:
    0 no drift, 1 drift found, 2 usage, 3 the schema or database could not
    be read. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg/wes_introspect.h"
#include "plan/wes_diff.h"
#include "schema/wes_compile.h"
#include "util/wes_diag.h"
#include "wes_cli.h"

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
    const char *params[] = {schema};
    PGresult *r = PQexecParams (conn,
                                "SELECT c.relname, i.relname FROM pg_index x "
                                "JOIN pg_class i ON i.oid = x.indexrelid "
                                "JOIN pg_class c ON c.oid = x.indrelid "
                                "JOIN pg_namespace n ON n.oid = i.relnamespace "
                                "WHERE n.nspname = $1 AND NOT x.indisvalid ORDER BY 1, 2",
                                1, NULL, params, NULL, NULL, 0);
    json_t *out = NULL;
    if (PQresultStatus (r) == PGRES_TUPLES_OK) {
        out = json_array ();
        for (int i = 0; i < PQntuples (r); i++) {
            json_t *o = json_object ();
            json_object_set_new (o, "table", json_string (PQgetvalue (r, i, 0)));
            json_object_set_new (o, "index", json_string (PQgetvalue (r, i, 1)));
            json_array_append_new (out, o);
        }
    }
    else {
        *error = wes_strdup (PQresultErrorMessage (r));
    }
    PQclear (r);
    PQfinish (conn);
    return out;
}

int
wes_cli_drift (int argc, char **argv)
{
    static const char *usage
        = "usage: wesley drift --schema SCHEMA --db CONNINFO [--db-schema NAME] [--json]\n"
          "  Compares the schema file with a live database and lists each difference:\n"
          "  missing or extra table, column, index, constraint, enum value, policy; type,\n"
          "  nullability or default mismatch; an index left INVALID.\n"
          "  --schema SCHEMA    the GraphQL SDL file (the expected schema) (required)\n"
          "  --db CONNINFO      libpq connection string or URI (required)\n"
          "  --db-schema NAME   database schema to read (default: public)\n"
          "  --json             print {\"drift\": bool, \"changes\": [...], ...}\n"
          "                     (default: off, one line per difference)\n"
          "exit: 0 no drift, 1 drift, 2 usage, 3 the schema or database could not be read\n";
    const char *schema_path = NULL, *db = NULL, *db_schema = "public";
    bool json = false;
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
        else if (strcmp (a, "--db-schema") == 0 && i + 1 < argc) {
            db_schema = argv[++i];
        }
        else {
            fprintf (stderr, "wesley drift: unknown or incomplete argument '%s'\n%s", a, usage);
            return 2;
        }
    }
    if (!schema_path || !db) {
        fprintf (stderr, "wesley drift: --schema and --db are required\n%s", usage);
        return 2;
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
