/*  wes_main.c — entry point of `wesley`, the control plane: dispatches to
    one verb and returns its exit code.

    Built twice. `wesley-ops` (this file without WES_LEAN) runs every verb.
    `wesley` (with WES_LEAN) runs the schema toolchain itself (compile,
    parse, hash of a file, watch) and links nothing else, so that compiling
    a schema loads libc, libcrypto and jansson instead of the fleet's
    libraries (libpq, ZeroMQ, SQLite, libmicrohttpd and theirs): a third
    of the memory and a tenth of the start-up. Every other verb, and hash
    --db, it hands to the wesley-ops beside it with execv (same process,
    same arguments, same exit code). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/wes_log.h"
#include "wes_cli.h"

typedef struct {
    const char *name;                  /* verb as typed */
    int (*run) (int argc, char **argv); /* handler (NULL: wesley-ops runs it) */
    const char *summary;               /* one line for --help */
} s_verb_t;

/*  A verb the lean `wesley` leaves to wesley-ops. */
#ifdef WES_LEAN
#define S_OPS(fn) NULL
#else
#define S_OPS(fn) fn
#endif

static const s_verb_t s_verbs[] = {
    {"apply", S_OPS (wes_cli_apply), "apply --plan PLAN --db CONNINFO: run a plan on one database"},
    {"compile", wes_cli_compile, "compile SCHEMA -o DIR: write schema.sql, types.ts, schema.json"},
    {"parse", wes_cli_parse, "parse SCHEMA [--json]: check GraphQL syntax, print the AST"},
    {"drift", S_OPS (wes_cli_drift), "drift --schema SCHEMA --db CONNINFO|--targets FILE: list differences [--json]"},
    {"plan", S_OPS (wes_cli_plan), "plan --from SCHEMA|--from-db DB --to SCHEMA -o PLAN: plan a change"},
    {"run", S_OPS (wes_cli_run), "run --plan PLAN --targets FILE --state STATE.db: roll a plan out over a fleet"},
    {"resume", S_OPS (wes_cli_resume), "resume --state STATE.db [--through PHASE]: carry on a fleet run"},
    {"status", S_OPS (wes_cli_status), "status --state STATE.db [--json]: where a fleet run stands"},
    {"cancel", S_OPS (wes_cli_cancel), "cancel --state STATE.db: dispatch nothing new, let running steps finish"},
    {"hash", wes_cli_hash, "hash SCHEMA | --db CONNINFO: print the schema hash (SHA-256 of the canonical model)"},
    {"keygen", S_OPS (wes_cli_keygen), "keygen --out DIR --name NAME: write a CURVE certificate pair"},
    {"dead-columns", S_OPS (wes_cli_dead_columns), "dead-columns --schema SCHEMA --db CONNINFO: columns no recorded statement uses"},
    {"lint", S_OPS (wes_cli_lint), "lint FILE.sql: find unsafe patterns in hand-written migration SQL"},
    {"watch", wes_cli_watch, "watch SCHEMA -o DIR: recompile on every save"},
};

/*  Runs the wesley-ops beside this program with argv (argv[0] kept, so
    ps shows the command as typed). Returns only on failure: 2. */
static int
s_exec_ops (char **argv)
{
    char self[4096];
    ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        fprintf (stderr, "wesley: cannot find my own program (/proc/self/exe): %s\n",
                 strerror (errno));
        return 2;
    }
    self[n] = '\0';
    char *slash = strrchr (self, '/');
    size_t dir = slash ? (size_t) (slash - self) : 0;
    char path[4200];
    snprintf (path, sizeof path, "%.*s/wesley-ops", (int) dir, self);
    execv (path, argv);
    fprintf (stderr, "wesley: %s runs in %s, which cannot be started: %s\n",
             argv[1] ? argv[1] : "this verb", path, strerror (errno));
    return 2;
}

/*  Whether args hold --db (hash --db reads a database: wesley-ops). */
static bool
s_has_db (int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp (argv[i], "--db") == 0 || strncmp (argv[i], "--db=", 5) == 0) {
            return true;
        }
    }
    return false;
}

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

static int
s_main (int argc, char **argv, char **given)
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
            bool ops = !s_verbs[i].run
                       || (s_verbs[i].run == wes_cli_hash && s_has_db (argc - 2, argv + 2));
#ifndef WES_LEAN
            ops = false;
#endif
            if (ops) {
                return s_exec_ops (given);
            }
            return s_verbs[i].run (argc - 2, argv + 2);
        }
    }
    fprintf (stderr, "wesley: unknown verb '%s'\n", argv[1]);
    s_usage (stderr);
    return 2;
}

int
main (int argc, char **argv)
{
    //  The arguments as given, for wesley-ops (s_main takes the log flags
    //  out of argv)
    char **given = malloc (((size_t) argc + 1) * sizeof (char *));
    if (!given) {
        return 2;
    }
    memcpy (given, argv, ((size_t) argc + 1) * sizeof (char *));
    int rc = s_main (argc, argv, given);
    free (given);
    return rc;
}
