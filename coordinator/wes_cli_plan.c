/*  wes_cli_plan.c — `wesley plan`: the step DAG from one schema (a file, or
    a live database) to another, as plan.json and, for reviewers, one
    annotated SQL file. Also the model loading shared with `apply --schema`.
    Exit codes: 0 planned, 1 the input has errors or a change was refused,
    2 usage, 3 an output could not be written. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg/wes_introspect.h"
#include "plan/wes_plan.h"
#include "plan/wes_planner.h"
#include "plan/wes_step.h"
#include "schema/wes_compile.h"
#include "util/wes_buf.h"
#include "util/wes_diag.h"
#include "wes_cli.h"

/*  True when the file holds nothing but whitespace, commas and comments:
    the empty schema (planning from it bootstraps a database). */
static bool
s_is_blank_file (const char *path)
{
    FILE *f = strcmp (path, "-") == 0 ? NULL : fopen (path, "rb");
    if (!f) {
        return false;
    }
    bool blank = true, comment = false;
    int c;
    while (blank && (c = fgetc (f)) != EOF) {
        if (comment) {
            comment = c != '\n' && c != '\r';
        }
        else if (c == '#') {
            comment = true;
        }
        else if (!isspace (c) && c != ',' && c != 0xEF && c != 0xBB && c != 0xBF) {
            blank = false; /* (a UTF-8 BOM counts as blank) */
        }
    }
    fclose (f);
    return blank;
}

wes_model_t *
wes_cli_load_schema (const char *path)
{
    if (s_is_blank_file (path)) {
        wes_model_t *m = wes_model_new ();
        wes_model_canonicalize (m);
        return m;
    }
    wes_diag_t *diag = wes_diag_new (strcmp (path, "-") == 0 ? "<stdin>" : path);
    wes_model_t *m = wes_compile_file (path, diag);
    wes_diag_print (diag, stderr);
    wes_diag_destroy (&diag);
    return m;
}

wes_model_t *
wes_cli_load_db (const char *conninfo, const char *schema)
{
    char *error = NULL;
    wes_model_t *m = wes_introspect_conninfo (conninfo, schema, &error);
    if (!m) {
        fprintf (stderr, "wesley: %s\n", error ? error : "cannot read the database");
        free (error);
    }
    return m;
}

int
wes_cli_write_plan_sql (wes_plan_t *plan, const char *path)
{
    wes_buf_t *b = wes_buf_new ();
    char plan_hash[65];
    snprintf (plan_hash, sizeof plan_hash, "%s", wes_plan_hash (plan));
    wes_buf_puts (b, "-- Wesley plan, for review. Generated; do not edit (apply plan.json).\n");
    wes_buf_printf (b, "-- from schema %s\n-- to schema   %s\n-- plan        %s\n",
                    wes_plan_from (plan), wes_plan_to (plan), plan_hash);
    wes_buf_printf (b, "-- %zu steps. Each is shown exactly as it runs; :wes_done is the ledger\n"
                       "-- check that makes a re-run skip a step already applied.\n",
                    wes_plan_count (plan));
    for (size_t i = 0; i < wes_plan_count (plan); i++) {
        const wes_step_t *s = wes_plan_step (plan, i);
        wes_buf_puts (b, "\n-- ==================================================================\n");
        wes_buf_printf (b, "-- step %s\n", s->id);
        if (s->summary) {
            wes_buf_printf (b, "--   %s\n", s->summary);
        }
        wes_buf_printf (b, "--   phase %s, kind %s, table %s, lock %s\n", wes_phase_name (s->phase),
                        wes_step_kind_name (s->kind), s->table ? s->table : "(database)",
                        wes_lock_name (s->lock));
        wes_buf_puts (b, "--   after:");
        if (s->n_deps == 0) {
            wes_buf_puts (b, " (nothing)");
        }
        for (size_t d = 0; d < s->n_deps; d++) {
            wes_buf_printf (b, " %s", s->deps[d]);
        }
        wes_buf_printf (b, "\n--   lock_timeout %d ms, statement_timeout %d ms, up to %d attempts\n",
                        s->lock_timeout_ms, s->statement_timeout_ms, s->max_attempts);
        if (s->inverse) {
            wes_buf_puts (b, "--   undo:");
            for (const char *p = s->inverse; *p;) {
                const char *eol = strchr (p, '\n');
                size_t n = eol ? (size_t) (eol - p) : strlen (p);
                wes_buf_puts (b, " ");
                wes_buf_append (b, p, n);
                p += n + (eol ? 1 : 0);
            }
            wes_buf_puts (b, "\n");
        }
        else if (s->phase != WES_PHASE_CONTRACT) {
            wes_buf_puts (b, "--   undo: none (rollback stops here)\n");
        }
        wes_step_render (b, s, plan_hash, "ATTEMPT");
    }
    FILE *f = fopen (path, "wb");
    int rc = 0;
    if (!f || fwrite (wes_buf_data (b), 1, wes_buf_len (b), f) != wes_buf_len (b)) {
        fprintf (stderr, "wesley plan: cannot write %s: %s\n", path, strerror (errno));
        rc = -1;
    }
    if (f && fclose (f) != 0) {
        rc = -1;
    }
    wes_buf_destroy (&b);
    return rc;
}

/*  Adds each "PHASE:FILE" (checked by the caller) as raw steps. */
static int
s_add_sql_steps (wes_plan_t *plan, const char **specs, size_t n, char **error)
{
    for (size_t i = 0; i < n; i++) {
        const char *colon = strchr (specs[i], ':');
        char phase[16] = "";
        memcpy (phase, specs[i], (size_t) (colon - specs[i]));
        wes_phase_t ph;
        if (wes_phase_parse (phase, &ph) != 0) {
            return -1;
        }
        const char *path = colon + 1;
        char *text = NULL;
        size_t len = 0;
        if (wes_cli_read_sql (path, &text, &len) != 0) {
            wes_buf_t *b = wes_buf_new ();
            wes_buf_printf (b, "--sql-step: cannot read %s: %s", path,
                            errno ? strerror (errno) : "larger than the limit (WES_MAX_SQL_BYTES)");
            *error = wes_buf_steal (b);
            wes_buf_destroy (&b);
            return -1;
        }
        int rc = wes_plan_add_raw_sql (plan, ph, path, text, len, error);
        free (text);
        if (rc != 0) {
            return -1;
        }
    }
    return wes_plan_check (plan, error);
}

int
wes_cli_plan (int argc, char **argv)
{
    static const char *usage
        = "usage: wesley plan (--from SCHEMA | --from-db CONNINFO) --to SCHEMA -o PLAN.json\n"
          "                   [--sql PLAN.sql] [--allow-destructive] [--batch-rows N]\n"
          "                   [--batch-sleep-ms N] [--sql-step PHASE:FILE.sql ...]\n"
          "                   [--allow-unsafe-sql]\n"
          "  Plans the change from one schema to another as a DAG of zero-downtime steps:\n"
          "  expand -> backfill -> validate -> contract (DESIGN.md section 9).\n"
          "  --from SCHEMA        the current schema (an empty file is the empty schema)\n"
          "                       (required, or --from-db)\n"
          "  --from-db CONNINFO   read the current schema from a live database instead\n"
          "                       (default: none)\n"
          "  --to SCHEMA          the schema to reach (required)\n"
          "  -o, --out FILE       write the plan (JSON, with a checksum) here (required)\n"
          "  --sql FILE           also write the whole plan as one annotated SQL file\n"
          "                       (default: none)\n"
          "  --allow-destructive  plan drops and narrowing changes (contract phase only)\n"
          "                       (default: off, refused with the reason)\n"
          "  --batch-rows N       rows per backfill transaction (default 5000)\n"
          "  --batch-sleep-ms N   pause between backfill batches (default 0)\n"
          "  --sql-step PHASE:FILE  add hand-written SQL as raw steps after the generated\n"
          "                       steps of PHASE (expand, backfill, validate, contract);\n"
          "                       repeatable, in order (default: none). One tx step, except\n"
          "                       that each CONCURRENTLY / VACUUM statement runs on its own\n"
          "                       outside a transaction. Linted like `wesley lint`\n"
          "  --allow-unsafe-sql   keep raw steps with error findings (default: refuse them;\n"
          "                       apply and run refuse them again without this flag)\n"
          "exit: 0 planned, 1 input errors, refused changes or unsafe SQL, 2 usage,\n"
          "      3 write failure\n";
    const char *from = NULL, *from_db = NULL, *to = NULL, *out = NULL, *sql = NULL;
    const char **sql_steps = wes_alloc ((size_t) (argc > 0 ? argc : 1) * sizeof (char *));
    size_t n_sql_steps = 0;
    bool allow_unsafe = false;
    wes_planner_opts_t opts;
    wes_planner_opts_init (&opts);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp (a, "--help") == 0 || strcmp (a, "-h") == 0) {
            fputs (usage, stdout);
            free (sql_steps);
            return 0;
        }
        if (strcmp (a, "--allow-destructive") == 0) {
            opts.allow_destructive = true;
            continue;
        }
        if (strcmp (a, "--allow-unsafe-sql") == 0) {
            allow_unsafe = true;
            continue;
        }
        if (!v) {
            fprintf (stderr, "wesley plan: unknown or incomplete argument '%s'\n%s", a, usage);
            free (sql_steps);
            return 2;
        }
        if (strcmp (a, "--sql-step") == 0) {
            const char *colon = strchr (v, ':');
            wes_phase_t ph;
            char phase[16] = "";
            if (colon && (size_t) (colon - v) < sizeof phase) {
                memcpy (phase, v, (size_t) (colon - v));
            }
            if (!colon || !colon[1] || wes_phase_parse (phase, &ph) != 0) {
                fprintf (stderr, "wesley plan: --sql-step: '%s' is not PHASE:FILE.sql (PHASE: "
                                 "expand, backfill, validate or contract)\n", v);
                free (sql_steps);
                return 2;
            }
            sql_steps[n_sql_steps++] = v;
            i++;
            continue;
        }
        if (strcmp (a, "--from") == 0) {
            from = v;
        }
        else if (strcmp (a, "--from-db") == 0) {
            from_db = v;
        }
        else if (strcmp (a, "--to") == 0) {
            to = v;
        }
        else if (strcmp (a, "-o") == 0 || strcmp (a, "--out") == 0) {
            out = v;
        }
        else if (strcmp (a, "--sql") == 0) {
            sql = v;
        }
        else if (strcmp (a, "--batch-rows") == 0 || strcmp (a, "--batch-sleep-ms") == 0) {
            char *end = NULL;
            long n = strtol (v, &end, 10);
            bool rows = a[8] == 'r';
            if (!end || *end || n < (rows ? 1 : 0) || n > 10000000) {
                fprintf (stderr, "wesley plan: %s: '%s' is not a number in [%d, 10000000]\n", a,
                         v, rows ? 1 : 0);
                free (sql_steps);
                return 2;
            }
            if (rows) {
                opts.batch_rows = (int) n;
            }
            else {
                opts.batch_sleep_ms = (int) n;
            }
        }
        else {
            fprintf (stderr, "wesley plan: unknown argument '%s'\n%s", a, usage);
            free (sql_steps);
            return 2;
        }
        i++;
    }
    if ((from == NULL) == (from_db == NULL) || !to || !out) {
        fprintf (stderr, "wesley plan: give --from or --from-db, and --to and -o\n%s", usage);
        free (sql_steps);
        return 2;
    }
    wes_model_t *m_from = from ? wes_cli_load_schema (from) : wes_cli_load_db (from_db, NULL);
    wes_model_t *m_to = m_from ? wes_cli_load_schema (to) : NULL;
    if (!m_from || !m_to) {
        wes_model_destroy (&m_from);
        wes_model_destroy (&m_to);
        free (sql_steps);
        return 1;
    }
    char *error = NULL;
    wes_plan_t *plan = wes_planner_plan (m_from, m_to, &opts, &error);
    wes_model_destroy (&m_to);
    if (plan && n_sql_steps > 0 && s_add_sql_steps (plan, sql_steps, n_sql_steps, &error) != 0) {
        wes_plan_destroy (&plan);
    }
    free (sql_steps);
    if (!plan) {
        wes_model_destroy (&m_from);
        fprintf (stderr, "wesley plan: %s\n", error ? error : "planning failed");
        free (error);
        return 1;
    }
    if (wes_cli_lint_plan (plan, m_from, allow_unsafe, "plan") != 0) {
        wes_model_destroy (&m_from);
        wes_plan_destroy (&plan);
        return 1;
    }
    wes_model_destroy (&m_from);
    int rc = 0;
    if (wes_plan_save (plan, out, &error) != 0) {
        fprintf (stderr, "wesley plan: %s\n", error);
        free (error);
        rc = 3;
    }
    else if (sql && wes_cli_write_plan_sql (plan, sql) != 0) {
        rc = 3;
    }
    if (rc == 0) {
        size_t per_phase[4] = {0};
        for (size_t i = 0; i < wes_plan_count (plan); i++) {
            per_phase[wes_plan_step (plan, i)->phase]++;
        }
        printf ("planned %zu steps (expand %zu, backfill %zu, validate %zu, contract %zu) -> %s\n",
                wes_plan_count (plan), per_phase[0], per_phase[1], per_phase[2], per_phase[3],
                out);
    }
    wes_plan_destroy (&plan);
    return rc;
}
