/*  wes_cli_deadcols.c — `wesley dead-columns`: the columns of a schema
    that no statement recorded by pg_stat_statements references, each
    with a confidence and its reasons (D015). Exit codes: 0 it ran
    (findings or not), 2 usage, 3 the schema or the statistics could not
    be read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg/wes_deadcols.h"
#include "wes_cli.h"

int
wes_cli_dead_columns (int argc, char **argv)
{
    static const char *usage =
        "usage: wesley dead-columns --schema SCHEMA --db CONNINFO [--db-schema NAME] [--json]\n"
        "                           [--min-window DURATION] [--min-calls N]\n"
        "  Reads pg_stat_statements (this database's entries) and lists the columns of the\n"
        "  schema that no recorded statement references, parsing each statement with\n"
        "  PostgreSQL's own parser. Each finding gets a confidence, LOW, MEDIUM or HIGH,\n"
        "  and its reasons: the observation window, the calls on the table, evictions,\n"
        "  SELECT * reads, INSERTs without a column list, views and functions over the\n"
        "  table, unparsable statements. HIGH needs all of: window >= --min-window, calls\n"
        "  on the table >= --min-calls, no eviction, no star read, no view or function.\n"
        "  --schema SCHEMA        the GraphQL SDL file (required)\n"
        "  --db CONNINFO          libpq connection string or URI; the role must be a\n"
        "                         superuser or a member of pg_read_all_stats (required)\n"
        "  --db-schema NAME       database schema of the tables (default: public)\n"
        "  --json                 print the report as JSON (default: text)\n"
        "  --min-window DURATION  window HIGH needs: 30m, 12h, 7d, 2w, 0 (default: 7d)\n"
        "  --min-calls N          calls on the table HIGH needs (default: 1000)\n"
        "exit: 0 it ran (with or without findings), 2 usage, 3 the schema or the\n"
        "statistics could not be read (pg_stat_statements missing, no privilege)\n";
    const char *schema_path = NULL, *db = NULL;
    wes_deadcols_opts_t opts = {.db_schema = "public",
                                .min_window = WES_DEADCOLS_DEFAULT_MIN_WINDOW,
                                .min_calls = WES_DEADCOLS_DEFAULT_MIN_CALLS};
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
            opts.db_schema = argv[++i];
        }
        else if (strcmp (a, "--min-window") == 0 && i + 1 < argc) {
            if (wes_deadcols_parse_duration (argv[++i], &opts.min_window) != 0) {
                fprintf (stderr,
                         "wesley dead-columns: --min-window '%s' is not a duration (30m, 12h, "
                         "7d, 2w, 0)\n",
                         argv[i]);
                return 2;
            }
        }
        else if (strcmp (a, "--min-calls") == 0 && i + 1 < argc) {
            char *end = NULL;
            const char *v = argv[++i];
            long long n = strtoll (v, &end, 10);
            if (!*v || *end || n < 0 || v[0] == '-') {
                fprintf (stderr,
                         "wesley dead-columns: --min-calls '%s' is not a non-negative integer\n",
                         v);
                return 2;
            }
            opts.min_calls = n;
        }
        else {
            fprintf (stderr, "wesley dead-columns: unknown or incomplete argument '%s'\n%s", a,
                     usage);
            return 2;
        }
    }
    if (!schema_path || !db) {
        fprintf (stderr, "wesley dead-columns: --schema and --db are required\n%s", usage);
        return 2;
    }
    wes_model_t *model = wes_cli_load_schema (schema_path);
    if (!model) {
        return 3;
    }
    wes_deadcols_t *dc = wes_deadcols_new (model, &opts);
    char *error = NULL;
    if (wes_deadcols_read (dc, db, &error) != 0) {
        fprintf (stderr, "wesley dead-columns: %s\n", error ? error : "cannot read the statistics");
        free (error);
        wes_deadcols_destroy (&dc);
        wes_model_destroy (&model);
        return 3;
    }
    if (json) {
        json_t *doc = wes_deadcols_report (dc);
        json_dumpf (doc, stdout, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
        fputc ('\n', stdout);
        json_decref (doc);
    }
    else {
        wes_deadcols_print (dc, stdout);
    }
    wes_deadcols_destroy (&dc);
    wes_model_destroy (&model);
    return 0;
}
