/*  wes_main.c — entry point of `wesley`, the control plane: dispatches to
    one verb and returns its exit code. */
#include <stdio.h>
#include <string.h>

#include "util/wes_log.h"
#include "wes_cli.h"

typedef struct {
    const char *name;                  /* verb as typed */
    int (*run) (int argc, char **argv); /* handler */
    const char *summary;               /* one line for --help */
} s_verb_t;

static const s_verb_t s_verbs[] = {
    {"apply", wes_cli_apply, "apply --plan PLAN --db CONNINFO: run a plan on one database"},
    {"compile", wes_cli_compile, "compile SCHEMA -o DIR: write schema.sql, types.ts, schema.json"},
    {"parse", wes_cli_parse, "parse SCHEMA [--json]: check GraphQL syntax, print the AST"},
    {"drift", wes_cli_drift, "drift --schema SCHEMA --db CONNINFO: list differences [--json]"},
    {"plan", wes_cli_plan, "plan --from SCHEMA|--from-db DB --to SCHEMA -o PLAN: plan a change"},
    {"run", wes_cli_run, "run --plan PLAN --targets FILE --state STATE.db: roll a plan out over a fleet"},
    {"resume", wes_cli_resume, "resume --state STATE.db [--through PHASE]: carry on a fleet run"},
    {"status", wes_cli_status, "status --state STATE.db [--json]: where a fleet run stands"},
    {"cancel", wes_cli_cancel, "cancel --state STATE.db: dispatch nothing new, let running steps finish"},
    {"hash", wes_cli_hash, "hash SCHEMA | --db CONNINFO: print the schema hash (SHA-256 of the canonical model)"},
};

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: wesley VERB [ARGS]   (wesley VERB --help for a verb's flags)\n\n"
                  "Wesley makes one GraphQL SDL file the source of truth for a PostgreSQL "
                  "schema.\n\nverbs:\n");
    for (size_t i = 0; i < sizeof s_verbs / sizeof s_verbs[0]; i++) {
        fprintf (out, "  %-8s %s\n", s_verbs[i].name, s_verbs[i].summary);
    }
    fprintf (out, "\nwesley --version prints the version.\n");
}

int
main (int argc, char **argv)
{
    wes_log_init ("wesley", WES_LOG_INFO, WES_LOG_JSON);
    if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0
        || strcmp (argv[1], "help") == 0) {
        s_usage (argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp (argv[1], "--version") == 0) {
        printf ("wesley %s\n", WES_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof s_verbs / sizeof s_verbs[0]; i++) {
        if (strcmp (argv[1], s_verbs[i].name) == 0) {
            return s_verbs[i].run (argc - 2, argv + 2);
        }
    }
    fprintf (stderr, "wesley: unknown verb '%s'\n", argv[1]);
    s_usage (stderr);
    return 2;
}
