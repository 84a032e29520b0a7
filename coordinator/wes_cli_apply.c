/*  wes_cli_apply.c — `wesley apply`: run a plan against one database (no
    fleet), or undo its pre-contract steps. Exit codes: 0 done, 1 a step
    failed, 2 usage or bad plan file, 3 refused (nothing ran), 4 all steps
    ran but the database does not match the plan's target. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plan/wes_exec.h"
#include "plan/wes_plan.h"
#include "plan/wes_planner.h"
#include "wes_cli.h"

int
wes_cli_apply (int argc, char **argv)
{
    static const char *usage
        = "usage: wesley apply --plan PLAN.json --db CONNINFO [--rollback] [--psql PATH]\n"
          "                    [--allow-unsafe-sql]\n"
          "       wesley apply --schema SCHEMA --db CONNINFO [--allow-destructive]\n"
          "  Applies a plan to one database: steps in DAG order, each in its own\n"
          "  transaction with lock_timeout, statement_timeout and an advisory lock, recorded\n"
          "  in the database's ledger (wesley.applied_steps) in the same transaction.\n"
          "  Interrupted at any point and run again, it finishes the plan and applies no\n"
          "  step twice. Retryable failures (lock timeout, deadlock, serialization, lost\n"
          "  connection) are retried with exponential backoff and jitter.\n"
          "  --plan FILE      the plan written by `wesley plan` (required, or --schema)\n"
          "  --schema SCHEMA  shortcut: read the database, plan the change to SCHEMA, apply it\n"
          "                   (default: none)\n"
          "  --allow-destructive  with --schema: allow drops and narrowing changes\n"
          "                   (default: off)\n"
          "  --db CONNINFO    libpq connection string or URI (keep passwords in a passfile\n"
          "                   or service file) (required)\n"
          "  --rollback       undo, newest first, the steps of this plan the ledger says were\n"
          "                   applied; refused once any contract step has run (default: off)\n"
          "  --psql PATH      psql binary (default: $WESLEY_PSQL, else pg_config --bindir)\n"
          "  --through PHASE  stop after the steps of PHASE (expand, backfill, validate):\n"
          "                   deploy the new application, then apply again for the rest\n"
          "                   (default: contract, every step)\n"
          "  --quiet          no per-step progress lines (default: off)\n"
          "  --allow-unsafe-sql  apply a plan whose hand-written (raw) steps have error\n"
          "                   findings of `wesley lint` (default: refuse it, exit 3)\n"
          "exit: 0 done, 1 a step failed, 2 usage or invalid plan, 3 refused (nothing ran;\n"
          "      also unsafe hand-written SQL in the plan),\n"
          "      4 every step ran but the database does not match the plan's target\n";
    const char *plan_path = NULL, *db = NULL, *psql = NULL, *schema = NULL;
    const char *through = NULL;
    bool rollback = false, quiet = false, destructive = false, allow_unsafe = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp (a, "--help") == 0 || strcmp (a, "-h") == 0) {
            fputs (usage, stdout);
            return 0;
        }
        if (strcmp (a, "--rollback") == 0) {
            rollback = true;
        }
        else if (strcmp (a, "--quiet") == 0) {
            quiet = true;
        }
        else if (strcmp (a, "--allow-destructive") == 0) {
            destructive = true;
        }
        else if (strcmp (a, "--allow-unsafe-sql") == 0) {
            allow_unsafe = true;
        }
        else if (strcmp (a, "--schema") == 0 && i + 1 < argc) {
            schema = argv[++i];
        }
        else if (strcmp (a, "--through") == 0 && i + 1 < argc) {
            through = argv[++i];
        }
        else if ((strcmp (a, "--plan") == 0 || strcmp (a, "--db") == 0
                  || strcmp (a, "--psql") == 0)
                 && i + 1 < argc) {
            const char *v = argv[++i];
            if (a[2] == 'p' && a[3] == 'l') {
                plan_path = v;
            }
            else if (a[2] == 'd') {
                db = v;
            }
            else {
                psql = v;
            }
        }
        else {
            fprintf (stderr, "wesley apply: unknown or incomplete argument '%s'\n%s", a, usage);
            return 2;
        }
    }
    if ((plan_path == NULL) == (schema == NULL) || !db || (schema && rollback)) {
        fprintf (stderr, "wesley apply: give --db and one of --plan or --schema (--rollback "
                         "needs --plan)\n%s", usage);
        return 2;
    }
    signal (SIGPIPE, SIG_IGN);
    char *error = NULL;
    wes_plan_t *plan = NULL;
    if (plan_path) {
        plan = wes_plan_load (plan_path, &error);
        if (!plan) {
            fprintf (stderr, "wesley apply: %s\n", error);
            free (error);
            return 2;
        }
        /* a hand-edited plan (checksum recomputed) is caught here too */
        if (!rollback && wes_cli_lint_plan (plan, NULL, allow_unsafe, "apply") != 0) {
            wes_plan_destroy (&plan);
            return 3;
        }
    }
    else {
        wes_model_t *from = wes_cli_load_db (db, NULL);
        wes_model_t *to = from ? wes_cli_load_schema (schema) : NULL;
        if (to) {
            wes_planner_opts_t popts;
            wes_planner_opts_init (&popts);
            popts.allow_destructive = destructive;
            plan = wes_planner_plan (from, to, &popts, &error);
        }
        wes_model_destroy (&from);
        wes_model_destroy (&to);
        if (!plan) {
            if (error) {
                fprintf (stderr, "wesley apply: %s\n", error);
            }
            free (error);
            return 1;
        }
        plan_path = schema;
        if (!quiet) {
            fprintf (stderr, "planned %zu steps to reach %s\n", wes_plan_count (plan), schema);
        }
    }
    wes_exec_opts_t opts = {.psql_bin = psql, .progress = !quiet};
    if (through) {
        opts.through_set = true;
        if (wes_phase_parse (through, &opts.through) != 0) {
            fprintf (stderr, "wesley apply: --through: '%s' is not a phase (expand, backfill, "
                             "validate, contract)\n", through);
            wes_plan_destroy (&plan);
            return 2;
        }
    }
    wes_exec_t *exec = wes_exec_new (db, &opts, &error);
    if (!exec) {
        fprintf (stderr, "wesley apply: --db: %s\n", error);
        free (error);
        wes_plan_destroy (&plan);
        return 2;
    }
    int rc = rollback ? wes_exec_rollback (exec, plan, &error) : wes_exec_apply (exec, plan, &error);
    int code = 0;
    if (rc == WES_EXEC_OK) {
        printf ("%s: %d step%s %s, %d already applied, %d retr%s\n", plan_path,
                wes_exec_applied (exec), wes_exec_applied (exec) == 1 ? "" : "s",
                rollback ? "undone" : "applied", wes_exec_skipped (exec), wes_exec_retries (exec),
                wes_exec_retries (exec) == 1 ? "y" : "ies");
    }
    else {
        fprintf (stderr, "wesley apply: %s\n", error ? error : "failed");
        code = rc == WES_EXEC_REFUSED ? 3 : rc == WES_EXEC_MISMATCH ? 4 : 1;
    }
    free (error);
    wes_exec_destroy (&exec);
    wes_plan_destroy (&plan);
    return code;
}
