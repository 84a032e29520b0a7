/*  wes_cli_schema.c — the schema verbs of `wesley`: parse, compile, hash.
    Exit codes: 0 success, 1 the input has errors (printed as
    FILE:LINE:COL: error: ...), 2 usage, 3 an output could not be written. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef WES_LEAN /* the lean wesley hands hash --db to wesley-ops (wes_main.c) */
#include "pg/wes_introspect.h"
#endif
#include "schema/wes_compile.h"
#include "schema/wes_emit_sql.h"
#include "schema/wes_emit_ts.h"
#include "schema/wes_outputs.h"
#include "schema/wes_parser.h"
#include "util/wes_arena.h"
#include "util/wes_diag.h"
#include "util/wes_mem.h"
#include "wes_cli.h"


/*  --help or -h: print usage, exit 0. Checked where the argument stands,
    so a flag before it that is not known is refused first. */
static bool
s_is_help (const char *arg)
{
    return strcmp (arg, "--help") == 0 || strcmp (arg, "-h") == 0;
}

int
wes_cli_parse (int argc, char **argv)
{
    static const char *usage
        = "usage: wesley parse SCHEMA [--json]\n"
          "  Checks GraphQL SDL syntax only (no Wesley semantics).\n"
          "  --json   print the AST with source locations (libgraphqlparser's JSON shape)\n"
          "           (default: off, print \"SCHEMA: ok, N definitions\")\n"
          "  SCHEMA may be - for standard input.\n";
    const char *path = NULL;
    bool json = false;
    for (int i = 0; i < argc; i++) {
        if (s_is_help (argv[i])) {
            fputs (usage, stdout);
            return 0;
        }
        if (strcmp (argv[i], "--json") == 0) {
            json = true;
        }
        else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf (stderr, "wesley parse: unknown flag '%s'\n%s", argv[i], usage);
            return 2;
        }
        else if (!path) {
            path = argv[i];
        }
        else {
            fprintf (stderr, "wesley parse: one SCHEMA only ('%s' is extra)\n%s", argv[i], usage);
            return 2;
        }
    }
    if (!path) {
        fputs (usage, stderr);
        return 2;
    }
    wes_diag_t *diag = wes_diag_new (strcmp (path, "-") == 0 ? "<stdin>" : path);
    if (!json && strcmp (path, "-") != 0) {
        /*  A syntax check needs no AST: one definition at a time. */
        int rc = 1;
        wes_parser_t *parser = wes_parser_new_file (path, diag);
        if (parser) {
            wes_arena_t *scratch = wes_arena_new (0);
            size_t n = 0;
            while (wes_parser_next (parser, scratch) != NULL) {
                wes_arena_reset (scratch);
                n++;
            }
            if (!wes_parser_failed (parser)) {
                rc = 0;
            }
            wes_arena_destroy (&scratch);
            wes_parser_destroy (&parser);
            wes_diag_print (diag, stderr);
            if (rc == 0) {
                printf ("%s: ok, %zu definitions\n", path, n);
            }
        }
        else {
            wes_diag_print (diag, stderr);
        }
        wes_diag_destroy (&diag);
        return rc;
    }
    wes_ast_doc_t *doc = wes_parse_file (path, diag);
    wes_diag_print (diag, stderr);
    int rc = 1;
    if (doc) {
        rc = 0;
        if (json) {
            json_t *j = wes_ast_to_json (doc);
            if (json_dumpf (j, stdout, JSON_INDENT (2) | JSON_PRESERVE_ORDER) != 0) {
                rc = 3;
            }
            fputc ('\n', stdout);
            json_decref (j);
        }
        else {
            printf ("%s: ok, %zu definitions\n", wes_ast_doc_file (doc), wes_ast_doc_count (doc));
        }
    }
    wes_ast_doc_destroy (&doc);
    wes_diag_destroy (&diag);
    return rc;
}

/*  What a streaming compile hands its tables to. */
typedef struct {
    wes_outputs_t *outputs; /* the files (or the hash only) */
    size_t n_enums;         /* the schema's enums */
    char hash[65];          /* once ended */
} s_stream_t;

static int
s_sink_begin (void *arg, const wes_model_t *enums, size_t n_tables, const char *const *sql,
              const char *const *gql)
{
    s_stream_t *st = arg;
    st->n_enums = wes_model_enum_count (enums);
    return wes_outputs_begin (st->outputs, enums, n_tables, sql, gql);
}

static int
s_sink_table (void *arg, size_t lane, const wes_model_t *enums, wes_model_t **table_model)
{
    (void) enums;
    return wes_outputs_table (((s_stream_t *) arg)->outputs, lane,
                              wes_model_table (*table_model, 0));
}

static int
s_sink_end (void *arg, const wes_model_t *enums, bool complete)
{
    (void) enums;
    s_stream_t *st = arg;
    if (!complete) {
        return 0; /* the spools go with the outputs */
    }
    return wes_outputs_finish (st->outputs, st->hash);
}

/*  Compiles path table by table into dir's files (dir NULL: prints the
    hash only). Returns the verb's exit code (0, or 3 when an output could
    not be written), or 1 when the stream declined (nothing was printed or
    replaced: compile the whole model). */
static int
s_compile_stream (const char *path, const char *dir, wes_diag_t *diag)
{
    s_stream_t st = {wes_outputs_new (dir), 0, ""};
    //  A lane per core, each building and rendering its stretch of tables
    wes_compile_sink_t sink = {s_sink_begin, s_sink_table, s_sink_end, &st, 0, 0, dir == NULL};
    int rc = wes_compile_file_stream (path, &sink, diag);
    if (rc == 0 && dir && wes_outputs_commit (st.outputs) != 0) {
        rc = -1;
    }
    if (rc == 0) {
        wes_diag_print (diag, stderr);
        if (dir) {
            printf ("compiled %s: %zu tables, %zu enums -> %s (hash %s)\n", path,
                    wes_outputs_tables (st.outputs), st.n_enums, dir, st.hash);
        }
        else {
            printf ("%s\n", st.hash);
        }
    }
    else if (rc < 0) {
        fprintf (stderr, "wesley: %s\n", wes_outputs_error (st.outputs));
        rc = 3;
    }
    wes_outputs_destroy (&st.outputs);
    return rc;
}

int
wes_cli_compile (int argc, char **argv)
{
    static const char *usage
        = "usage: wesley compile SCHEMA -o DIR\n"
          "  Compiles a GraphQL SDL schema and writes, replacing each file atomically:\n"
          "    DIR/schema.sql   PostgreSQL DDL for an empty database\n"
          "    DIR/types.ts     TypeScript types for consumers\n"
          "    DIR/schema.json  the canonical schema model and its hash\n"
          "  -o, --out DIR   output directory (created if missing; default: .)\n";
    const char *path = NULL;
    const char *out = ".";
    for (int i = 0; i < argc; i++) {
        if (s_is_help (argv[i])) {
            fputs (usage, stdout);
            return 0;
        }
        if (strcmp (argv[i], "-o") == 0 || strcmp (argv[i], "--out") == 0) {
            if (i + 1 >= argc) {
                fprintf (stderr, "wesley compile: %s needs a directory\n", argv[i]);
                return 2;
            }
            out = argv[++i];
        }
        else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf (stderr, "wesley compile: unknown flag '%s'\n%s", argv[i], usage);
            return 2;
        }
        else if (!path) {
            path = argv[i];
        }
        else {
            fprintf (stderr, "wesley compile: one SCHEMA only ('%s' is extra)\n%s", argv[i],
                     usage);
            return 2;
        }
    }
    if (!path) {
        fputs (usage, stderr);
        return 2;
    }
    wes_diag_t *diag = wes_diag_new (strcmp (path, "-") == 0 ? "<stdin>" : path);
    //  Table by table first (a big schema never exists whole); the whole
    //  model when the stream declines (errors are reported from there)
    if (mkdir (out, 0777) == 0 || errno == EEXIST) {
        int st = s_compile_stream (path, out, diag);
        if (st != 1) {
            wes_diag_destroy (&diag);
            return st;
        }
    }
    wes_model_t *model = wes_compile_file (path, diag);
    wes_diag_print (diag, stderr);
    wes_diag_destroy (&diag);
    if (!model) {
        return 1;
    }
    int rc = 0;
    if (mkdir (out, 0777) != 0 && errno != EEXIST) {
        fprintf (stderr, "wesley compile: cannot create directory %s: %s\n", out,
                 strerror (errno));
        rc = 3;
    }
    if (rc == 0) {
        /*  The hash once, for the three headers and the summary line; each
            file streams to its temporary file as it is produced. */
        char hash[65];
        wes_model_hash (model, hash);
        if (wes_cli_write_outputs (model, hash, out) != 0) {
            rc = 3;
        }
        else {
            printf ("compiled %s: %zu tables, %zu enums -> %s (hash %s)\n", path,
                    wes_model_table_count (model), wes_model_enum_count (model), out, hash);
        }
    }
    wes_model_destroy (&model);
    return rc;
}

int
wes_cli_write_outputs (const wes_model_t *model, const char *hash, const char *dir)
{
    size_t n = wes_model_table_count (model);
    const char **sql = wes_alloc ((n + 1) * sizeof *sql);
    const char **gql = wes_alloc ((n + 1) * sizeof *gql);
    for (size_t i = 0; i < n; i++) {
        sql[i] = wes_model_table (model, i)->name;
        gql[i] = wes_model_table (model, i)->gql_name;
    }
    wes_outputs_t *outputs = wes_outputs_new (dir);
    int rc = wes_outputs_begin (outputs, model, n, sql, gql);
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = wes_outputs_table (outputs, 0, wes_model_table (model, i));
    }
    char written[65];
    if (rc == 0) {
        rc = wes_outputs_finish (outputs, written);
    }
    if (rc == 0 && strcmp (written, hash) != 0) {
        fprintf (stderr, "wesley: internal error: the outputs hash %s, the model %s\n", written,
                 hash);
        rc = -1;
    }
    else if (rc == 0) {
        rc = wes_outputs_commit (outputs);
    }
    if (rc != 0 && wes_outputs_error (outputs)[0]) {
        fprintf (stderr, "wesley: %s\n", wes_outputs_error (outputs));
    }
    wes_outputs_destroy (&outputs);
    free (sql);
    free (gql);
    return rc == 0 ? 0 : -1;
}

int
wes_cli_hash (int argc, char **argv)
{
    static const char *usage
        = "usage: wesley hash SCHEMA\n"
          "       wesley hash --db CONNINFO [--schema NAME]\n"
          "  Prints the schema hash: SHA-256 (hex) of the canonical model, from an SDL\n"
          "  file or from a live database (introspected through pg_catalog). A database\n"
          "  built from SCHEMA by Wesley hashes the same as SCHEMA. The hash is the last\n"
          "  line of the output.\n"
          "  --db CONNINFO   read this live database instead of SCHEMA: libpq connection\n"
          "                  string or URI (use a passfile or service file for passwords)\n"
          "                  (default: none; SCHEMA or --db is required)\n"
          "  --schema NAME   database schema to read (default: public)\n";
    const char *path = NULL, *db = NULL, *schema = NULL;
    for (int i = 0; i < argc; i++) {
        if (s_is_help (argv[i])) {
            fputs (usage, stdout);
            return 0;
        }
        if ((strcmp (argv[i], "--db") == 0 || strcmp (argv[i], "--schema") == 0)) {
            if (i + 1 >= argc) {
                fprintf (stderr, "wesley hash: %s needs a value\n%s", argv[i], usage);
                return 2;
            }
            if (argv[i][2] == 'd') {
                db = argv[++i];
            }
            else {
                schema = argv[++i];
            }
        }
        else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf (stderr, "wesley hash: unknown flag '%s'\n%s", argv[i], usage);
            return 2;
        }
        else if (!path) {
            path = argv[i];
        }
        else {
            fprintf (stderr, "wesley hash: one SCHEMA only ('%s' is extra)\n%s", argv[i], usage);
            return 2;
        }
    }
    if ((path == NULL) == (db == NULL)) {
        fprintf (stderr, "wesley hash: give either SCHEMA or --db CONNINFO\n%s", usage);
        return 2;
    }
    wes_model_t *model = NULL;
    if (db) {
#ifdef WES_LEAN
        (void) schema;
        fprintf (stderr, "wesley hash: --db is read by wesley-ops\n");
        return 2;
#else
        char *error = NULL;
        model = wes_introspect_conninfo (db, schema, &error);
        if (!model) {
            fprintf (stderr, "wesley hash: %s\n", error ? error : "introspection failed");
            free (error);
            return 1;
        }
#endif
    }
    else {
        wes_diag_t *diag = wes_diag_new (strcmp (path, "-") == 0 ? "<stdin>" : path);
        int st = s_compile_stream (path, NULL, diag);
        if (st != 1) {
            wes_diag_destroy (&diag);
            return st;
        }
        model = wes_compile_file (path, diag);
        wes_diag_print (diag, stderr);
        wes_diag_destroy (&diag);
        if (!model) {
            return 1;
        }
    }
    char hash[65];
    wes_model_hash (model, hash);
    printf ("%s\n", hash);
    wes_model_destroy (&model);
    return 0;
}

int
wes_cli_int_arg (const char *verb, const char *flag, const char *value, long min, long max,
                 long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol (value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || v < min || v > max) {
        fprintf (stderr, "wesley %s: %s wants a whole number from %ld to %ld, not '%s'\n", verb,
                 flag, min, max, value);
        return -1;
    }
    *out = v;
    return 0;
}
