/*  wes_main.c — entry point of `wesley`, the control plane: dispatches to
    one verb and returns its exit code. */
#include <stdbool.h>
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
    {"drift", wes_cli_drift, "drift --schema SCHEMA --db CONNINFO|--targets FILE: list differences [--json]"},
    {"plan", wes_cli_plan, "plan --from SCHEMA|--from-db DB --to SCHEMA -o PLAN: plan a change"},
    {"run", wes_cli_run, "run --plan PLAN --targets FILE --state STATE.db: roll a plan out over a fleet"},
    {"resume", wes_cli_resume, "resume --state STATE.db [--through PHASE]: carry on a fleet run"},
    {"status", wes_cli_status, "status --state STATE.db [--json]: where a fleet run stands"},
    {"cancel", wes_cli_cancel, "cancel --state STATE.db: dispatch nothing new, let running steps finish"},
    {"hash", wes_cli_hash, "hash SCHEMA | --db CONNINFO: print the schema hash (SHA-256 of the canonical model)"},
    {"keygen", wes_cli_keygen, "keygen --out DIR --name NAME: write a CURVE certificate pair"},
    {"dead-columns", wes_cli_dead_columns, "dead-columns --schema SCHEMA --db CONNINFO: columns no recorded statement uses"},
    {"lint", wes_cli_lint, "lint FILE.sql: find unsafe patterns in hand-written migration SQL"},
    {"watch", wes_cli_watch, "watch SCHEMA -o DIR: recompile on every save"},
};

/*  Takes the logging flags out of argv wherever they stand (before or
    after the verb), so every verb accepts them: --log-format json|text and
    --log-level debug|info|warn|error, as "--flag VALUE" or "--flag=VALUE".
    Returns the new argc, or -1 after printing what was wrong. */
static int
s_take_log_flags (int argc, char **argv, wes_log_format_t *format, wes_log_level_t *level)
{
    int out = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool is_format = strncmp (a, "--log-format", 12) == 0 && (a[12] == 0 || a[12] == '=');
        bool is_level = strncmp (a, "--log-level", 11) == 0 && (a[11] == 0 || a[11] == '=');
        if (!is_format && !is_level) {
            argv[out++] = argv[i];
            continue;
        }
        const char *eq = strchr (a, '=');
        const char *value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        int rc = is_format ? wes_log_parse_format (value, format) : wes_log_parse_level (value, level);
        if (rc != 0) {
            fprintf (stderr, "wesley: %s is %s, not \"%s\"\n", is_format ? "--log-format" : "--log-level",
                     is_format ? "json or text" : "debug, info, warn or error", value ? value : "");
            return -1;
        }
    }
    argv[out] = NULL;
    return out;
}

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: wesley VERB [ARGS]   (wesley VERB --help for a verb's flags)\n\n"
                  "Wesley makes one GraphQL SDL file the source of truth for a PostgreSQL "
                  "schema.\n\nverbs:\n");
    for (size_t i = 0; i < sizeof s_verbs / sizeof s_verbs[0]; i++) {
        fprintf (out, "  %-8s %s\n", s_verbs[i].name, s_verbs[i].summary);
    }
    fprintf (out, "\nEvery verb also takes:\n"
                  "  --log-format FORMAT  json (one JSON object per line) or text, on stderr "
                  "(default: json)\n"
                  "  --log-level LEVEL    debug, info, warn or error (default: info)\n"
                  "\nwesley --version prints the version.\n");
}

int
main (int argc, char **argv)
{
    wes_log_format_t format = WES_LOG_JSON;
    wes_log_level_t level = WES_LOG_INFO;
    argc = s_take_log_flags (argc, argv, &format, &level);
    if (argc < 0) {
        return 2;
    }
    wes_log_init ("wesley", level, format);
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
