/*  wes_planner.c — the safety patterns: from a change list to a DAG of
    steps. Steps are first collected with their own dependencies (indices),
    then chained per table in a safe order, and finally emitted into the
    plan in a deterministic topological order. */
#include "wes_planner.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pg/wes_introspect.h"
#include "plan/wes_diff.h"
#include "schema/wes_names.h"
#include "util/wes_buf.h"
#include "util/wes_mem.h"

#define S_NONE ((size_t)-1)

//  Order of contract steps inside one table: the view left by a table
//  rename blocks column drops, a policy blocks the drop of a column it
//  names, constraints and indexes go before the columns they are on
enum {
    S_SUB_VIEW = 0,
    S_SUB_POLICY = 1,
    S_SUB_RLS = 2,
    S_SUB_CONSTRAINT = 3,
    S_SUB_INDEX = 4,
    S_SUB_SWAP = 5,
    S_SUB_COLUMN = 6,
    S_SUB_LATE = 7
};

/*  A step before it has an id. */
typedef struct {
    wes_phase_t phase;    /* plan phase */
    int sub;              /* order inside a phase of one table (contract) */
    wes_step_kind_t kind; /* tx, nontx, batched */
    char *table;          /* table changed (advisory key), or NULL */
    char *chain;          /* steps of one chain run one after another */
    wes_lock_t lock;      /* strongest lock on table */
    char *slug;           /* for the id */
    char *summary;        /* one line for people */
    char *sql;            /* the change */
    char *inverse;        /* undo, or NULL */
    int64_t cost;         /* relative estimate */
    char *verify_index;   /* nontx: index to check afterwards */
    char **key_columns;   /* batched: primary key */
    char **key_types;     /* batched: its types */
    size_t n_key;         /* batched: key length */
    char *batch_set;      /* batched: SET list */
    char *batch_where;    /* batched: filter */
    size_t *deps;         /* indices of steps it needs */
    size_t n_deps;        /* deps in use */
    size_t seq;           /* creation order, also its index */
} s_step_t;

/*  A step that needs another table (and perhaps a key of it) in place. */
typedef struct {
    size_t step;              /* the step adding the FK (or naming the table) */
    const char *ref_table;    /* borrowed: referenced table (name in `to`) */
    char *const *ref_columns; /* borrowed, or NULL */
    size_t n_ref_columns;
} s_fkdep_t;

/*  What other tables' steps may need from one table. */
typedef struct {
    const char *name;   /* borrowed: table name in `to` */
    size_t create_step; /* CREATE TABLE step, or S_NONE */
    size_t rename_step; /* RENAME step, or S_NONE */
} s_tabinfo_t;

/*  A unique index made by a CIC step, usable by foreign keys. */
typedef struct {
    const char *table;           /* borrowed */
    const wes_constraint_t *con; /* borrowed: the UNIQUE/PRIMARY constraint in `to` */
    size_t step;                 /* the CIC step */
} s_keystep_t;

/*  An index or constraint of `to` built by a column pattern (shadow or
    rename), which the generic handlers must leave alone. */
typedef struct {
    const char *table; /* borrowed */
    const char *name;  /* borrowed */
} s_claim_t;

typedef struct {
    const wes_model_t *from;   /* borrowed */
    const wes_model_t *to;     /* borrowed */
    wes_planner_opts_t opts;   /* effective options */
    s_step_t **steps;          /* owned */
    size_t n_steps;            /* steps in use */
    size_t cap_steps;          /* allocated */
    wes_buf_t *refusals;       /* one line per refused change */
    size_t n_refusals;         /* lines */
    s_tabinfo_t *tabs;         /* one per table of `to` */
    size_t n_tabs;             /* tables of `to` */
    s_fkdep_t *fkdeps;         /* resolved once every table is planned */
    size_t n_fkdeps;           /* in use */
    s_keystep_t *keysteps;     /* unique indexes being built */
    size_t n_keysteps;         /* in use */
    s_claim_t *claims;         /* elements handled by column patterns */
    size_t n_claims;           /* in use */
    size_t *enum_last;         /* per enum of `to`: its last step, or S_NONE */
    size_t *fk_drops;          /* contract steps dropping a foreign key */
    const char **fk_drop_refs; /* borrowed: the table each of them references */
    size_t n_fk_drops;         /* in use */
    char **fk_columns;         /* "table\x1fcolumn" of every FK column of both models, sorted */
    size_t n_fk_columns;       /* in use; built on first need */
    bool fk_columns_built;     /* fk_columns is ready */
} s_planner_t;

/*  A new table during the creation order walk. */
typedef struct {
    const wes_table_t *t; /* the new table */
    int state;            /* 0 unvisited, 1 visiting, 2 done */
    bool *deferred_fk;    /* per constraint: add in a later step (cycle) */
    bool defer_policies;  /* policies name a table created later */
} s_newtab_t;

static s_step_t *s_step (s_planner_t *P, wes_phase_t phase, wes_step_kind_t kind, const char *table,
                         wes_lock_t lock);
static void s_dep (s_step_t *st, size_t dep);
static void s_refuse (s_planner_t *P, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
static char *s_fmt (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
static char *s_steal (wes_buf_t **b);
static void s_step_free (s_step_t *st);
static void s_plan_enums (s_planner_t *P, const wes_diff_t *diff);
static void s_plan_new_tables (s_planner_t *P, const wes_diff_t *diff);
static void s_visit_new (s_planner_t *P, s_newtab_t *nt, s_newtab_t *all, size_t n);
static void s_create_table (s_planner_t *P, s_newtab_t *nt, s_newtab_t *all, size_t n);
static void s_plan_table (s_planner_t *P, const wes_diff_t *diff, size_t first, size_t last);
static void s_plan_drops (s_planner_t *P, const wes_diff_t *diff);
static void s_plan_enum_drops (s_planner_t *P, const wes_diff_t *diff);
static void s_resolve_fkdeps (s_planner_t *P);
static void s_chain (s_planner_t *P);
static wes_plan_t *s_emit (s_planner_t *P, char **error);
static size_t s_enum_slot (const s_planner_t *P, const char *name);
static s_tabinfo_t *s_tab (s_planner_t *P, const char *name);
static const char *s_to_name (const s_planner_t *P, const char *from_name);
static int s_cmp_tab (const void *a, const void *b);
static bool s_heap_less (const s_planner_t *P, size_t a, size_t b);
static void s_heap_push (const s_planner_t *P, size_t *heap, size_t *n, size_t v);
static size_t s_heap_pop (const s_planner_t *P, size_t *heap, size_t *n);
static bool s_claimed (const s_planner_t *P, const char *table, const char *name);
static void s_claim (s_planner_t *P, const char *table, const char *name);
static void s_add_fkdep (s_planner_t *P, size_t step, const char *ref_table,
                         char *const *ref_columns, size_t n_ref_columns);
static void s_put_type (const s_planner_t *P, wes_buf_t *b, const char *type);
static void s_put_cast (const s_planner_t *P, wes_buf_t *b, const char *column,
                        const char *from_type, const char *to_type);
static void s_put_idents (wes_buf_t *b, char *const *v, size_t n);
static void s_put_expr (wes_buf_t *b, const char *expr);
static void s_put_role (wes_buf_t *b, const char *role);
static void s_put_alter (wes_buf_t *b, const char *table);
static void s_put_lock_parent (wes_buf_t *b, const char *table, const char *parent,
                               const char *mode);
static void s_put_fk (wes_buf_t *b, const char *table, const wes_constraint_t *c, bool not_valid);
static void s_put_check (wes_buf_t *b, const char *table, const wes_constraint_t *c,
                         bool not_valid);
static void s_put_index (wes_buf_t *b, const char *table, const wes_index_t *ix, const char *name,
                         bool concurrently, const char *col_from, const char *col_to);
static void s_put_drop_index (wes_buf_t *b, const char *name);
static void s_put_policy (wes_buf_t *b, const char *table, const wes_policy_t *p);
static void s_put_policy_records (wes_buf_t *b, const char *table, const wes_policy_t *p);
static void s_put_security (wes_buf_t *b, const wes_table_t *t);
static void s_put_sync (const s_planner_t *P, wes_buf_t *b, const char *table, const char *fn,
                        const char *body);
static void s_put_drop_sync (wes_buf_t *b, const char *table, const char *fn);
static bool s_mentions (const char *expr, const char *name);
static bool s_has (char *const *v, size_t n, const char *s);
static bool s_index_on (const wes_index_t *ix, const char *column);
static void **s_sorted (void *const *items, size_t n, int (*cmp) (const void *, const void *));
static int s_cmp_col_ordinal (const void *a, const void *b);
static int s_cmp_con_name (const void *a, const void *b);
static int s_cmp_ix_name (const void *a, const void *b);
static int s_cmp_pol_name (const void *a, const void *b);
static int s_cmp_chain (const void *a, const void *b);
static void s_not_null_steps (s_planner_t *P, const char *table, const char *column,
                              wes_phase_t first_phase);
static bool s_backfill_keys (s_planner_t *P, const wes_table_t *t, s_step_t *st);
static void s_backfill_sql (s_step_t *bf, const char *table);
static void s_add_column (s_planner_t *P, const wes_change_t *c);
static void s_rename_column (s_planner_t *P, const wes_change_t *c);
static void s_type_change (s_planner_t *P, const wes_change_t *c);
static void s_shadow (s_planner_t *P, const wes_change_t *c);
static void s_constraint (s_planner_t *P, const wes_change_t *c);
static void s_index (s_planner_t *P, const wes_change_t *c);
static void s_policy (s_planner_t *P, const wes_change_t *c);
static bool s_part_of_shadow (const wes_diff_t *diff, size_t first, size_t last,
                              const wes_change_t *c);

void
wes_planner_opts_init (wes_planner_opts_t *opts)
{
    wes_assert (opts);
    memset (opts, 0, sizeof *opts);
    opts->batch_rows = 5000;
    opts->tx_lock_timeout_ms = 5000;
    opts->tx_statement_timeout_ms = 60000;
    opts->cic_lock_timeout_ms = 60000;
    opts->cic_statement_timeout_ms = 0;
}

wes_plan_t *
wes_planner_plan (const wes_model_t *from, const wes_model_t *to, const wes_planner_opts_t *opts,
                  char **error)
{
    wes_assert (from && to);
    s_planner_t P = {.from = from, .to = to};
    wes_planner_opts_init (&P.opts);
    if (opts) {
        P.opts = *opts;
        P.opts.batch_rows = opts->batch_rows > 0 ? opts->batch_rows : 5000;
        P.opts.tx_lock_timeout_ms = opts->tx_lock_timeout_ms > 0 ? opts->tx_lock_timeout_ms : 5000;
        P.opts.tx_statement_timeout_ms =
            opts->tx_statement_timeout_ms > 0 ? opts->tx_statement_timeout_ms : 60000;
        P.opts.cic_lock_timeout_ms =
            opts->cic_lock_timeout_ms > 0 ? opts->cic_lock_timeout_ms : 60000;
        P.opts.cic_statement_timeout_ms =
            opts->cic_statement_timeout_ms > 0 ? opts->cic_statement_timeout_ms : 0;
        P.opts.batch_sleep_ms = opts->batch_sleep_ms > 0 ? opts->batch_sleep_ms : 0;
    }
    P.refusals = wes_buf_new ();
    P.n_tabs = wes_model_table_count (to);
    P.tabs = wes_alloc ((P.n_tabs + 1) * sizeof *P.tabs);
    for (size_t i = 0; i < P.n_tabs; i++) {
        P.tabs[i].name = wes_model_table (to, i)->name;
        P.tabs[i].create_step = S_NONE;
        P.tabs[i].rename_step = S_NONE;
    }
    qsort (P.tabs, P.n_tabs, sizeof *P.tabs, s_cmp_tab);
    size_t n_enums = wes_model_enum_count (to);
    P.enum_last = wes_alloc ((n_enums + 1) * sizeof *P.enum_last);
    for (size_t i = 0; i < n_enums; i++) {
        P.enum_last[i] = S_NONE;
    }

    wes_diff_t *diff = wes_diff_new (from, to);
    s_plan_enums (&P, diff);
    s_plan_new_tables (&P, diff);
    //  Existing tables: one run of changes of one table at a time
    size_t n = wes_diff_count (diff);
    size_t i = 0;
    while (i < n) {
        const wes_change_t *c = wes_diff_change (diff, i);
        if (!c->table || c->kind == WES_CHANGE_TABLE_CREATE || c->kind == WES_CHANGE_TABLE_DROP) {
            i++;
            continue;
        }
        size_t j = i;
        while (j + 1 < n && wes_diff_change (diff, j + 1)->table
               && wes_diff_change (diff, j + 1)->kind != WES_CHANGE_TABLE_DROP
               && strcmp (wes_diff_change (diff, j + 1)->table, c->table) == 0) {
            j++;
        }
        s_plan_table (&P, diff, i, j);
        i = j + 1;
    }
    s_plan_drops (&P, diff);
    s_plan_enum_drops (&P, diff);
    s_resolve_fkdeps (&P);

    wes_plan_t *plan = NULL;
    if (P.n_refusals > 0) {
        if (error) {
            wes_buf_t *e = wes_buf_new ();
            wes_buf_printf (e, "refusing %zu change%s:\n", P.n_refusals,
                            P.n_refusals == 1 ? "" : "s");
            wes_buf_puts (e, wes_buf_data (P.refusals));
            *error = s_steal (&e);
        }
    }
    else {
        s_chain (&P);
        plan = s_emit (&P, error);
    }

    wes_diff_destroy (&diff);
    for (size_t k = 0; k < P.n_steps; k++) {
        s_step_free (P.steps[k]);
    }
    free (P.steps);
    wes_buf_destroy (&P.refusals);
    free (P.tabs);
    free (P.fkdeps);
    free (P.keysteps);
    free (P.claims);
    free (P.enum_last);
    free (P.fk_drops);
    free (P.fk_drop_refs);
    for (size_t k = 0; k < P.n_fk_columns; k++) {
        free (P.fk_columns[k]);
    }
    free (P.fk_columns);
    return plan;
}

/*  --- volatility and type classes --- */

bool
wes_planner_default_is_volatile (const char *expr)
{
    static const char *safe[] = {
        "now", "transaction_timestamp", "statement_timestamp", "current_timestamp", "current_date",
        "current_time", "localtimestamp", "localtime", "coalesce", "nullif", "greatest", "least",
        "lower", "upper", "abs", "jsonb_build_object", "jsonb_build_array", "json_build_object",
        "json_build_array",
        /* type names with modifiers inside casts: character varying(64) */
        "character", "varying", "varchar", "char", "numeric", "decimal", "bit", "timestamp",
        "timestamptz", "time", "timetz", "interval", "float", NULL};
    if (!expr) {
        return false;
    }
    const char *p = expr;
    while (*p) {
        if (*p == '\'' || *p == '"') {
            //  a literal or quoted name ('' and "" inside it)
            char q = *p++;
            while (*p && !(*p == q && p[1] != q)) {
                p += (*p == q && p[1] == q) ? 2 : 1;
            }
            if (*p) {
                p++;
            }
            if (q == '"') {
                //  a call of a quoted name is unknown, so volatile
                const char *r = p;
                while (*r && isspace ((unsigned char)*r)) {
                    r++;
                }
                if (*r == '(') {
                    return true;
                }
            }
            continue;
        }
        if (isalpha ((unsigned char)*p) || *p == '_') {
            const char *start = p;
            while (isalnum ((unsigned char)*p) || *p == '_' || *p == '$' || *p == '.') {
                p++;
            }
            const char *r = p;
            while (*r && isspace ((unsigned char)*r)) {
                r++;
            }
            if (*r != '(') {
                continue;
            }
            //  a function call: without its schema qualifier
            const char *name = start;
            for (const char *d = start; d < p; d++) {
                if (*d == '.') {
                    name = d + 1;
                }
            }
            size_t len = (size_t)(p - name);
            bool known = false;
            for (size_t k = 0; safe[k] && !known; k++) {
                known = strlen (safe[k]) == len && strncasecmp (safe[k], name, len) == 0;
            }
            if (!known) {
                return true;
            }
            continue;
        }
        p++;
    }
    return false;
}

//  "character varying(64)" -> 64; "character varying" -> 0 (unbounded); -1 otherwise
static int
s_varchar_len (const char *t)
{
    if (strcmp (t, "character varying") == 0) {
        return 0;
    }
    int n = 0;
    if (sscanf (t, "character varying(%d)", &n) == 1 && n > 0) {
        return n;
    }
    return -1;
}

//  numeric -> 0 (unconstrained), numeric(p,s) or numeric(p) -> 1; -1 otherwise
static int
s_numeric (const char *t, int *p, int *s)
{
    *p = 0;
    *s = 0;
    if (strcmp (t, "numeric") == 0) {
        return 0;
    }
    if (sscanf (t, "numeric(%d,%d)", p, s) == 2) {
        return 1;
    }
    if (sscanf (t, "numeric(%d)", p) == 1) {
        *s = 0;
        return 1;
    }
    return -1;
}

static int
s_int_rank (const char *t)
{
    if (strcmp (t, "smallint") == 0) {
        return 1;
    }
    if (strcmp (t, "integer") == 0) {
        return 2;
    }
    if (strcmp (t, "bigint") == 0) {
        return 3;
    }
    return 0;
}

wes_type_change_t
wes_planner_classify_type_change (const char *from, const char *to)
{
    wes_assert (from && to);
    int vf = s_varchar_len (from);
    int vt = s_varchar_len (to);
    bool text_to = strcmp (to, "text") == 0;
    bool bounded_to =
        vt > 0 || strncmp (to, "character(", 10) == 0 || strcmp (to, "character") == 0;
    if (vf >= 0) {
        if (text_to || vt == 0) {
            return WES_TYPE_CHANGE_COMPATIBLE;
        }
        if (vt > 0) {
            return (vf > 0 && vt >= vf) ? WES_TYPE_CHANGE_COMPATIBLE : WES_TYPE_CHANGE_NARROWING;
        }
        if (bounded_to) {
            return WES_TYPE_CHANGE_NARROWING;
        }
    }
    if (strcmp (from, "text") == 0) {
        if (vt == 0) {
            return WES_TYPE_CHANGE_COMPATIBLE;
        }
        if (bounded_to) {
            return WES_TYPE_CHANGE_NARROWING;
        }
    }
    int pf, sf, pt, st;
    int nf = s_numeric (from, &pf, &sf);
    int nt = s_numeric (to, &pt, &st);
    int rf = s_int_rank (from);
    int rt = s_int_rank (to);
    bool real_to = strcmp (to, "real") == 0;
    bool float_to = real_to || strcmp (to, "double precision") == 0;
    bool double_from = strcmp (from, "double precision") == 0;
    bool float_from = double_from || strcmp (from, "real") == 0;
    if (nf >= 0) {
        if (nt == 0) {
            return WES_TYPE_CHANGE_COMPATIBLE;
        }
        if (nt == 1) {
            return (nf == 0 || pt < pf || st < sf) ? WES_TYPE_CHANGE_NARROWING
                                                   : WES_TYPE_CHANGE_REWRITE;
        }
        if (rt > 0 || float_to) {
            return WES_TYPE_CHANGE_NARROWING;
        }
    }
    if (rf > 0 && rt > 0) {
        return rt < rf ? WES_TYPE_CHANGE_NARROWING : WES_TYPE_CHANGE_REWRITE;
    }
    if (float_from && (rt > 0 || nt == 1 || (double_from && real_to))) {
        return WES_TYPE_CHANGE_NARROWING;
    }
    //  an integer into numeric(p,s) with too few integer digits
    if (rf > 0 && nt == 1 && pt - st < (rf == 1 ? 5 : rf == 2 ? 10 : 19)) {
        return WES_TYPE_CHANGE_NARROWING;
    }
    return WES_TYPE_CHANGE_REWRITE;
}

/*  --- enums --- */

static void
s_plan_enums (s_planner_t *P, const wes_diff_t *diff)
{
    for (size_t i = 0; i < wes_diff_count (diff); i++) {
        const wes_change_t *c = wes_diff_change (diff, i);
        if (c->kind == WES_CHANGE_ENUM_CREATE) {
            s_step_t *st = s_step (P, WES_PHASE_EXPAND, WES_STEP_TX, NULL, WES_LOCK_NONE);
            st->slug = s_fmt ("create-type-%s", c->object);
            st->chain = s_fmt ("enum:%s", c->object);
            st->summary = s_fmt ("create enum %s", c->object);
            wes_buf_t *b = wes_buf_new ();
            wes_buf_puts (b, "CREATE TYPE ");
            wes_buf_put_ident (b, c->object);
            wes_buf_puts (b, " AS ENUM (");
            for (size_t k = 0; k < c->to_enum->n_values; k++) {
                wes_buf_puts (b, k ? ", " : "");
                wes_buf_put_literal (b, c->to_enum->values[k]);
            }
            wes_buf_puts (b, ");\n");
            st->sql = s_steal (&b);
            b = wes_buf_new ();
            wes_buf_puts (b, "DROP TYPE IF EXISTS ");
            wes_buf_put_ident (b, c->object);
            wes_buf_puts (b, ";\n");
            st->inverse = s_steal (&b);
            P->enum_last[s_enum_slot (P, c->object)] = st->seq;
        }
        else if (c->kind == WES_CHANGE_ENUM_VALUE_ADD) {
            s_step_t *st = s_step (P, WES_PHASE_EXPAND, WES_STEP_NONTX, NULL, WES_LOCK_NONE);
            st->slug = s_fmt ("add-enum-value-%s-%s", c->object, c->value);
            st->chain = s_fmt ("enum:%s", c->object);
            st->summary = s_fmt ("add value '%s' to enum %s", c->value, c->object);
            st->cost = 1;
            wes_buf_t *b = wes_buf_new ();
            wes_buf_puts (b, "ALTER TYPE ");
            wes_buf_put_ident (b, c->object);
            wes_buf_puts (b, " ADD VALUE IF NOT EXISTS ");
            wes_buf_put_literal (b, c->value);
            if (c->anchor) {
                wes_buf_puts (b, c->anchor_before ? " BEFORE " : " AFTER ");
                wes_buf_put_literal (b, c->anchor);
            }
            wes_buf_puts (b, ";\n");
            st->sql = s_steal (&b);
            //  no inverse: PostgreSQL can not drop an enum value
            P->enum_last[s_enum_slot (P, c->object)] = st->seq;
        }
        else if (c->kind == WES_CHANGE_ENUM_VALUE_REMOVE) {
            if (!P->opts.allow_destructive) {
                s_refuse (P,
                          "enum %s: removing value '%s' loses the data of rows holding it "
                          "(pass --allow-destructive)",
                          c->object, c->value);
            }
            else {
                s_refuse (P,
                          "enum %s: removing value '%s' is not supported yet (it needs a "
                          "rebuild of the type)",
                          c->object, c->value);
            }
        }
        else if (c->kind == WES_CHANGE_ENUM_REORDER) {
            s_refuse (P, "enum %s: reordering values %s -> %s is not supported yet", c->object,
                      c->from_def, c->to_def);
        }
    }
}

static void
s_plan_enum_drops (s_planner_t *P, const wes_diff_t *diff)
{
    size_t n_before = P->n_steps;
    for (size_t i = 0; i < wes_diff_count (diff); i++) {
        const wes_change_t *c = wes_diff_change (diff, i);
        if (c->kind != WES_CHANGE_ENUM_DROP) {
            continue;
        }
        if (!P->opts.allow_destructive) {
            s_refuse (P, "enum %s: dropping it is destructive (pass --allow-destructive)",
                      c->object);
            continue;
        }
        s_step_t *st = s_step (P, WES_PHASE_CONTRACT, WES_STEP_TX, NULL, WES_LOCK_NONE);
        st->slug = s_fmt ("drop-type-%s", c->object);
        st->chain = s_fmt ("enum:%s", c->object);
        st->sub = S_SUB_LATE;
        st->summary = s_fmt ("drop enum %s", c->object);
        wes_buf_t *b = wes_buf_new ();
        wes_buf_puts (b, "DROP TYPE IF EXISTS ");
        wes_buf_put_ident (b, c->object);
        wes_buf_puts (b, ";\n");
        st->sql = s_steal (&b);
        //  after every contract step of the tables: columns of the type go first
        for (size_t k = 0; k < n_before; k++) {
            if (P->steps[k]->phase == WES_PHASE_CONTRACT) {
                s_dep (st, k);
            }
        }
    }
}

/*  --- new tables --- */

static s_newtab_t *
s_find_new (s_newtab_t *v, size_t n, const char *name)
{
    for (size_t i = 0; name && i < n; i++) {
        if (strcmp (v[i].t->name, name) == 0) {
            return &v[i];
        }
    }
    return NULL;
}

static bool
s_policies_name (const wes_table_t *t, const char *name)
{
    for (size_t i = 0; i < t->n_policies; i++) {
        if (s_mentions (t->policies[i]->using_expr, name)
            || s_mentions (t->policies[i]->check_expr, name)) {
            return true;
        }
    }
    return false;
}

//  Depth first, in name order: the tables a new table references are
//  created before it; a reference back into the walk (a cycle) is deferred
static void
s_visit_new (s_planner_t *P, s_newtab_t *nt, s_newtab_t *all, size_t n)
{
    if (nt->state != 0) {
        return;
    }
    nt->state = 1;
    const wes_table_t *t = nt->t;
    wes_constraint_t **cons = (wes_constraint_t **)s_sorted ((void *const *)t->constraints,
                                                             t->n_constraints, s_cmp_con_name);
    for (size_t i = 0; i < t->n_constraints; i++) {
        const wes_constraint_t *c = cons[i];
        if (c->kind != WES_CON_FOREIGN || !c->ref_table || strcmp (c->ref_table, t->name) == 0) {
            continue;
        }
        s_newtab_t *other = s_find_new (all, n, c->ref_table);
        if (!other) {
            continue;
        }
        if (other->state == 1) {
            size_t orig = 0;
            while (t->constraints[orig] != c) {
                orig++;
            }
            nt->deferred_fk[orig] = true;
        }
        else {
            s_visit_new (P, other, all, n);
        }
    }
    free (cons);
    for (size_t k = 0; k < n; k++) {
        s_newtab_t *other = &all[k];
        if (other == nt || !s_policies_name (t, other->t->name)) {
            continue;
        }
        if (other->state == 1) {
            nt->defer_policies = true;
        }
        else {
            s_visit_new (P, other, all, n);
        }
    }
    s_create_table (P, nt, all, n);
    nt->state = 2;
}

static void
s_create_table (s_planner_t *P, s_newtab_t *nt, s_newtab_t *all, size_t n)
{
    const wes_table_t *t = nt->t;
    s_step_t *st = s_step (P, WES_PHASE_EXPAND, WES_STEP_TX, t->name, WES_LOCK_ACCESS_EXCLUSIVE);
    st->slug = s_fmt ("create-table-%s", t->name);
    st->summary = s_fmt ("create table %s", t->name);
    s_tab (P, t->name)->create_step = st->seq;
    wes_buf_t *b = wes_buf_new ();
    wes_buf_puts (b, "CREATE TABLE ");
    wes_buf_put_ident (b, t->name);
    wes_buf_puts (b, " (");
    wes_column_t **cols =
        (wes_column_t **)s_sorted ((void *const *)t->columns, t->n_columns, s_cmp_col_ordinal);
    const char *sep = "\n    ";
    for (size_t i = 0; i < t->n_columns; i++) {
        wes_buf_puts (b, sep);
        wes_buf_put_ident (b, cols[i]->name);
        wes_buf_puts (b, " ");
        s_put_type (P, b, cols[i]->type);
        if (cols[i]->not_null) {
            wes_buf_puts (b, " NOT NULL");
        }
        if (cols[i]->default_expr) {
            wes_buf_puts (b, " DEFAULT ");
            s_put_expr (b, cols[i]->default_expr);
        }
        sep = ",\n    ";
    }
    wes_constraint_t **cons = (wes_constraint_t **)s_sorted ((void *const *)t->constraints,
                                                             t->n_constraints, s_cmp_con_name);
    static const wes_con_kind_t inline_kinds[] = {WES_CON_PRIMARY, WES_CON_UNIQUE, WES_CON_CHECK};
    for (size_t k = 0; k < 3; k++) {
        for (size_t i = 0; i < t->n_constraints; i++) {
            const wes_constraint_t *c = cons[i];
            if (c->kind != inline_kinds[k]) {
                continue;
            }
            wes_buf_puts (b, sep);
            wes_buf_puts (b, "CONSTRAINT ");
            wes_buf_put_ident (b, c->name);
            if (c->kind == WES_CON_CHECK) {
                wes_buf_puts (b, " CHECK ");
                s_put_expr (b, c->check_expr ? c->check_expr : "true");
            }
            else {
                wes_buf_puts (b, c->kind == WES_CON_PRIMARY ? " PRIMARY KEY (" : " UNIQUE (");
                s_put_idents (b, c->columns, c->n_columns);
                wes_buf_puts (b, ")");
            }
            sep = ",\n    ";
        }
    }
    wes_buf_puts (b, t->n_columns + t->n_constraints > 0 ? "\n);\n" : ");\n");
    //  foreign keys to itself and to tables that exist by now; the back
    //  edge of a cycle comes in a later step
    for (size_t i = 0; i < t->n_constraints; i++) {
        const wes_constraint_t *c = cons[i];
        size_t orig = 0;
        while (t->constraints[orig] != c) {
            orig++;
        }
        if (c->kind != WES_CON_FOREIGN || nt->deferred_fk[orig]) {
            continue;
        }
        s_put_fk (b, t->name, c, false);
        if (c->ref_table && strcmp (c->ref_table, t->name) != 0) {
            s_add_fkdep (P, st->seq, c->ref_table, c->ref_columns, c->n_ref_columns);
        }
    }
    wes_index_t **ixs =
        (wes_index_t **)s_sorted ((void *const *)t->indexes, t->n_indexes, s_cmp_ix_name);
    for (size_t i = 0; i < t->n_indexes; i++) {
        s_put_index (b, t->name, ixs[i], ixs[i]->name, false, NULL, NULL);
    }
    //  expressions, recorded for introspection
    for (size_t i = 0; i < t->n_columns; i++) {
        if (cols[i]->default_expr) {
            wes_records_sql (b, "default", t->name, cols[i]->name, cols[i]->default_expr);
        }
    }
    for (size_t i = 0; i < t->n_constraints; i++) {
        if (cons[i]->kind == WES_CON_CHECK && cons[i]->check_expr) {
            wes_records_sql (b, "check", t->name, cons[i]->name, cons[i]->check_expr);
        }
    }
    for (size_t i = 0; i < t->n_indexes; i++) {
        if (ixs[i]->where) {
            wes_records_sql (b, "index_where", t->name, ixs[i]->name, ixs[i]->where);
        }
    }
    if (!nt->defer_policies) {
        s_put_security (b, t);
    }
    st->sql = s_steal (&b);
    b = wes_buf_new ();
    wes_buf_puts (b, "DROP TABLE IF EXISTS ");
    wes_buf_put_ident (b, t->name);
    wes_buf_puts (b, ";\n");
    st->inverse = s_steal (&b);

    //  the back edges of FK cycles, once both tables exist (both are new
    //  and empty: no NOT VALID needed)
    for (size_t i = 0; i < t->n_constraints; i++) {
        const wes_constraint_t *c = cons[i];
        size_t orig = 0;
        while (t->constraints[orig] != c) {
            orig++;
        }
        if (c->kind != WES_CON_FOREIGN || !nt->deferred_fk[orig]) {
            continue;
        }
        s_step_t *fk =
            s_step (P, WES_PHASE_EXPAND, WES_STEP_TX, t->name, WES_LOCK_SHARE_ROW_EXCLUSIVE);
        fk->slug = s_fmt ("add-fk-%s", c->name);
        fk->summary =
            s_fmt ("add foreign key %s of new table %s (closes a cycle)", c->name, t->name);
        b = wes_buf_new ();
        s_put_fk (b, t->name, c, false);
        fk->sql = s_steal (&b);
        b = wes_buf_new ();
        s_put_alter (b, t->name);
        wes_buf_puts (b, " DROP CONSTRAINT IF EXISTS ");
        wes_buf_put_ident (b, c->name);
        wes_buf_puts (b, ";\n");
        fk->inverse = s_steal (&b);
        s_dep (fk, st->seq);
        s_add_fkdep (P, fk->seq, c->ref_table, c->ref_columns, c->n_ref_columns);
    }
    //  policies that name a table created later
    if (nt->defer_policies) {
        s_step_t *ps =
            s_step (P, WES_PHASE_EXPAND, WES_STEP_TX, t->name, WES_LOCK_ACCESS_EXCLUSIVE);
        ps->slug = s_fmt ("create-policies-%s", t->name);
        ps->summary = s_fmt ("row-level security and policies of new table %s", t->name);
        b = wes_buf_new ();
        s_put_security (b, t);
        ps->sql = s_steal (&b);
        b = wes_buf_new ();
        s_put_alter (b, t->name);
        wes_buf_puts (b, " DISABLE ROW LEVEL SECURITY;\n");
        for (size_t i = 0; i < t->n_policies; i++) {
            wes_buf_puts (b, "DROP POLICY IF EXISTS ");
            wes_buf_put_ident (b, t->policies[i]->name);
            wes_buf_puts (b, " ON ");
            wes_buf_put_ident (b, t->name);
            wes_buf_puts (b, ";\n");
        }
        ps->inverse = s_steal (&b);
        s_dep (ps, st->seq);
        for (size_t k = 0; k < n; k++) {
            if (&all[k] != nt && s_policies_name (t, all[k].t->name)) {
                s_add_fkdep (P, ps->seq, all[k].t->name, NULL, 0);
            }
        }
    }
    free (ixs);
    free (cons);
    free (cols);
}

static void
s_plan_new_tables (s_planner_t *P, const wes_diff_t *diff)
{
    size_t n = 0;
    for (size_t i = 0; i < wes_diff_count (diff); i++) {
        n += wes_diff_change (diff, i)->kind == WES_CHANGE_TABLE_CREATE ? 1 : 0;
    }
    s_newtab_t *all = wes_alloc ((n + 1) * sizeof *all);
    size_t k = 0;
    for (size_t i = 0; i < wes_diff_count (diff); i++) {
        const wes_change_t *c = wes_diff_change (diff, i);
        if (c->kind == WES_CHANGE_TABLE_CREATE) {
            all[k].t = c->to_table;
            all[k].deferred_fk = wes_alloc ((c->to_table->n_constraints + 1) * sizeof (bool));
            k++;
        }
    }
    for (size_t i = 0; i < n; i++) {
        s_visit_new (P, &all[i], all, n);
    }
    for (size_t i = 0; i < n; i++) {
        free (all[i].deferred_fk);
    }
    free (all);
}

/*  --- existing tables --- */

static void
s_rename_table (s_planner_t *P, const wes_change_t *c, const wes_diff_t *diff, size_t first,
                size_t last)
{
    s_step_t *st = s_step (P, WES_PHASE_EXPAND, WES_STEP_TX, c->table, WES_LOCK_ACCESS_EXCLUSIVE);
    st->slug = s_fmt ("rename-table-%s-to-%s", c->old_name, c->table);
    st->summary = s_fmt ("rename table %s to %s, with an updatable view under the old name",
                         c->old_name, c->table);
    s_tab (P, c->table)->rename_step = st->seq;
    wes_buf_t *b = wes_buf_new ();
    s_put_alter (b, c->old_name);
    wes_buf_puts (b, " RENAME TO ");
    wes_buf_put_ident (b, c->table);
    wes_buf_puts (b, ";\nCREATE VIEW ");
    wes_buf_put_ident (b, c->old_name);
    wes_buf_puts (b, " AS SELECT * FROM ");
    wes_buf_put_ident (b, c->table);
    wes_buf_puts (b, ";\n");
    //  constraint and index names that followed the table's name, and the
    //  recorded expressions, under the new names
    wes_buf_t *inv = wes_buf_new ();
    for (int pass = 0; pass < 2; pass++) {
        wes_buf_t *out = pass == 0 ? b : inv;
        const char *tname = pass == 0 ? c->table : c->old_name;
        for (size_t i = first; i <= last; i++) {
            const wes_change_t *r = wes_diff_change (diff, i);
            if (r->kind != WES_CHANGE_CONSTRAINT_RENAME && r->kind != WES_CHANGE_INDEX_RENAME) {
                continue;
            }
            const char *from_name = pass == 0 ? r->old_name : r->object;
            const char *to_name = pass == 0 ? r->object : r->old_name;
            if (r->kind == WES_CHANGE_CONSTRAINT_RENAME) {
                s_put_alter (out, tname);
                wes_buf_puts (out, " RENAME CONSTRAINT ");
            }
            else {
                wes_buf_puts (out, "ALTER INDEX ");
            }
            wes_buf_put_ident (out, from_name);
            wes_buf_puts (out, r->kind == WES_CHANGE_CONSTRAINT_RENAME ? " TO " : " RENAME TO ");
            wes_buf_put_ident (out, to_name);
            wes_buf_puts (out, ";\n");
            wes_buf_puts (out, "UPDATE wesley.expressions SET object_name = ");
            wes_buf_put_literal (out, to_name);
            wes_buf_puts (out, " WHERE table_name = ");
            wes_buf_put_literal (out, pass == 0 ? c->old_name : c->table);
            wes_buf_puts (out, " AND object_name = ");
            wes_buf_put_literal (out, from_name);
            wes_buf_puts (out, " AND kind IN ('check', 'index_where');\n");
        }
        wes_buf_puts (out, "UPDATE wesley.expressions SET table_name = ");
        wes_buf_put_literal (out, tname);
        wes_buf_puts (out, " WHERE table_name = ");
        wes_buf_put_literal (out, pass == 0 ? c->old_name : c->table);
        wes_buf_puts (out, ";\n");
        if (pass == 0) {
            st->sql = s_steal (&b);
            b = wes_buf_new ();
            wes_buf_puts (b, "DROP VIEW IF EXISTS ");
            wes_buf_put_ident (b, c->old_name);
            wes_buf_puts (b, ";\n");
            s_put_alter (b, c->table);
            wes_buf_puts (b, " RENAME TO ");
            wes_buf_put_ident (b, c->old_name);
            wes_buf_puts (b, ";\n");
        }
    }
    wes_buf_puts (b, wes_buf_data (inv));
    wes_buf_destroy (&inv);
    st->inverse = s_steal (&b);

    s_step_t *dv = s_step (P, WES_PHASE_CONTRACT, WES_STEP_TX, c->table, WES_LOCK_NONE);
    dv->sub = S_SUB_VIEW;
    dv->slug = s_fmt ("drop-view-%s", c->old_name);
    dv->summary = s_fmt ("drop the view %s left by the rename to %s", c->old_name, c->table);
    b = wes_buf_new ();
    wes_buf_puts (b, "DROP VIEW IF EXISTS ");
    wes_buf_put_ident (b, c->old_name);
    wes_buf_puts (b, ";\n");
    dv->sql = s_steal (&b);
}

static void
s_drop_column (s_planner_t *P, const wes_change_t *c)
{
    if (!P->opts.allow_destructive) {
        s_refuse (P, "column %s.%s: dropping it loses its data (pass --allow-destructive)",
                  c->table, c->object);
        return;
    }
    s_step_t *st = s_step (P, WES_PHASE_CONTRACT, WES_STEP_TX, c->table, WES_LOCK_ACCESS_EXCLUSIVE);
    st->sub = S_SUB_COLUMN;
    st->slug = s_fmt ("drop-column-%s-%s", c->table, c->object);
    st->summary = s_fmt ("drop column %s.%s", c->table, c->object);
    wes_buf_t *b = wes_buf_new ();
    s_put_alter (b, c->table);
    wes_buf_puts (b, " DROP COLUMN IF EXISTS ");
    wes_buf_put_ident (b, c->object);
    wes_buf_puts (b, ";\n");
    st->sql = s_steal (&b);
}

static void
s_drop_not_null (s_planner_t *P, const wes_change_t *c)
{
    s_step_t *st = s_step (P, WES_PHASE_EXPAND, WES_STEP_TX, c->table, WES_LOCK_ACCESS_EXCLUSIVE);
    st->slug = s_fmt ("drop-not-null-%s-%s", c->table, c->object);
    st->summary = s_fmt ("make %s.%s nullable", c->table, c->object);
    for (int pass = 0; pass < 2; pass++) {
        wes_buf_t *b = wes_buf_new ();
        s_put_alter (b, c->table);
        wes_buf_puts (b, " ALTER COLUMN ");
        wes_buf_put_ident (b, c->object);
        wes_buf_puts (b, pass == 0 ? " DROP NOT NULL;\n" : " SET NOT NULL;\n");
        if (pass == 0) {
            st->sql = s_steal (&b);
        }
        else {
            st->inverse = s_steal (&b);
        }
    }
}

static void
s_set_default (s_planner_t *P, const wes_change_t *c)
{
    const char *to_def = c->to_column->default_expr;
    const char *from_def = c->from_column->default_expr;
    s_step_t *st = s_step (P, WES_PHASE_EXPAND, WES_STEP_TX, c->table, WES_LOCK_ACCESS_EXCLUSIVE);
    st->slug = s_fmt ("%s-default-%s-%s", to_def ? "set" : "drop", c->table, c->object);
    st->summary = to_def ? s_fmt ("set the default of %s.%s to %s", c->table, c->object, to_def)
                         : s_fmt ("drop the default of %s.%s", c->table, c->object);
    for (int pass = 0; pass < 2; pass++) {
        const char *def = pass == 0 ? to_def : from_def;
        wes_buf_t *b = wes_buf_new ();
        s_put_alter (b, c->table);
        wes_buf_puts (b, " ALTER COLUMN ");
        wes_buf_put_ident (b, c->object);
        if (def) {
            wes_buf_puts (b, " SET DEFAULT ");
            s_put_expr (b, def);
            wes_buf_puts (b, ";\n");
            wes_records_sql (b, "default", c->table, c->object, def);
        }
        else {
            wes_buf_puts (b, " DROP DEFAULT;\n");
        }
        if (pass == 0) {
            st->sql = s_steal (&b);
        }
        else {
            st->inverse = s_steal (&b);
        }
    }
}

static void
s_set_rls (s_planner_t *P, const wes_change_t *c)
{
    bool on = c->kind == WES_CHANGE_RLS_ENABLE;
    s_step_t *st = s_step (P, on ? WES_PHASE_EXPAND : WES_PHASE_CONTRACT, WES_STEP_TX, c->table,
                           WES_LOCK_ACCESS_EXCLUSIVE);
    st->sub = S_SUB_RLS;
    st->slug = s_fmt ("%s-rls-%s", on ? "enable" : "disable", c->table);
    st->summary = s_fmt ("%s row-level security on %s", on ? "enable" : "disable", c->table);
    wes_buf_t *b = wes_buf_new ();
    s_put_alter (b, c->table);
    wes_buf_puts (b, on ? " ENABLE ROW LEVEL SECURITY;\n" : " DISABLE ROW LEVEL SECURITY;\n");
    st->sql = s_steal (&b);
    if (on) {
        b = wes_buf_new ();
        s_put_alter (b, c->table);
        wes_buf_puts (b, " DISABLE ROW LEVEL SECURITY;\n");
        st->inverse = s_steal (&b);
    }
}

static void
s_plan_table (s_planner_t *P, const wes_diff_t *diff, size_t first, size_t last)
{
    P->n_claims = 0; /* claims are about the table being planned */
    //  The rename first (every later step uses the new name), then columns,
    //  constraints, indexes, policies, and row-level security once the
    //  policies exist
    static const int order[][2] = {{WES_CHANGE_TABLE_RENAME, WES_CHANGE_TABLE_RENAME},
                                   {WES_CHANGE_COLUMN_ADD, WES_CHANGE_COLUMN_DEFAULT},
                                   {WES_CHANGE_CONSTRAINT_ADD, WES_CHANGE_CONSTRAINT_CHANGE},
                                   {WES_CHANGE_INDEX_ADD, WES_CHANGE_INDEX_CHANGE},
                                   {WES_CHANGE_POLICY_ADD, WES_CHANGE_POLICY_CHANGE},
                                   {WES_CHANGE_RLS_ENABLE, WES_CHANGE_RLS_DISABLE}};
    for (size_t g = 0; g < sizeof order / sizeof order[0]; g++) {
        for (size_t i = first; i <= last; i++) {
            const wes_change_t *c = wes_diff_change (diff, i);
            if ((int)c->kind < order[g][0] || (int)c->kind > order[g][1]) {
                continue;
            }
            switch (c->kind) {
            case WES_CHANGE_TABLE_RENAME:
                s_rename_table (P, c, diff, first, last);
                break;
            case WES_CHANGE_COLUMN_ADD:
                s_add_column (P, c);
                break;
            case WES_CHANGE_COLUMN_DROP:
                s_drop_column (P, c);
                break;
            case WES_CHANGE_COLUMN_RENAME:
                s_rename_column (P, c);
                break;
            case WES_CHANGE_COLUMN_TYPE:
                s_type_change (P, c);
                break;
            case WES_CHANGE_COLUMN_SET_NOT_NULL:
                if (!s_part_of_shadow (diff, first, last, c)) {
                    s_not_null_steps (P, c->table, c->object, WES_PHASE_EXPAND);
                }
                break;
            case WES_CHANGE_COLUMN_DROP_NOT_NULL:
                if (!s_part_of_shadow (diff, first, last, c)) {
                    s_drop_not_null (P, c);
                }
                break;
            case WES_CHANGE_COLUMN_DEFAULT:
                if (!s_part_of_shadow (diff, first, last, c)) {
                    s_set_default (P, c);
                }
                break;
            case WES_CHANGE_CONSTRAINT_ADD:
            case WES_CHANGE_CONSTRAINT_DROP:
            case WES_CHANGE_CONSTRAINT_CHANGE:
                s_constraint (P, c);
                break;
            case WES_CHANGE_INDEX_ADD:
            case WES_CHANGE_INDEX_DROP:
            case WES_CHANGE_INDEX_CHANGE:
                s_index (P, c);
                break;
            case WES_CHANGE_POLICY_ADD:
            case WES_CHANGE_POLICY_DROP:
            case WES_CHANGE_POLICY_CHANGE:
                s_policy (P, c);
                break;
            case WES_CHANGE_RLS_ENABLE:
            case WES_CHANGE_RLS_DISABLE:
                s_set_rls (P, c);
                break;
            default:
                break;
            }
        }
    }
}

//  True when c (a NOT NULL or default change) belongs to a column whose type
//  change goes through a shadow column, which sets both itself
static bool
s_part_of_shadow (const wes_diff_t *diff, size_t first, size_t last, const wes_change_t *c)
{
    for (size_t i = first; i <= last; i++) {
        const wes_change_t *o = wes_diff_change (diff, i);
        if (o->kind == WES_CHANGE_COLUMN_TYPE && strcmp (o->object, c->object) == 0
            && wes_planner_classify_type_change (o->from_column->type, o->to_column->type)
                   == WES_TYPE_CHANGE_REWRITE) {
            return true;
        }
    }
    return false;
}

static void
s_plan_drops (s_planner_t *P, const wes_diff_t *diff)
{
    for (size_t i = 0; i < wes_diff_count (diff); i++) {
        const wes_change_t *c = wes_diff_change (diff, i);
        if (c->kind != WES_CHANGE_TABLE_DROP) {
            continue;
        }
        if (!P->opts.allow_destructive) {
            s_refuse (P, "table %s: dropping it loses its data (pass --allow-destructive)",
                      c->table);
            continue;
        }
        s_step_t *st =
            s_step (P, WES_PHASE_CONTRACT, WES_STEP_TX, c->table, WES_LOCK_ACCESS_EXCLUSIVE);
        st->sub = S_SUB_LATE;
        st->slug = s_fmt ("drop-table-%s", c->table);
        st->summary = s_fmt ("drop table %s", c->table);
        wes_buf_t *b = wes_buf_new ();
        //  foreign keys of other dropped tables to it go first (whichever
        //  order the drops run in, cycles included)
        for (size_t k = 0; k < wes_diff_count (diff); k++) {
            const wes_change_t *o = wes_diff_change (diff, k);
            if (o->kind != WES_CHANGE_TABLE_DROP || o == c) {
                continue;
            }
            for (size_t j = 0; j < o->from_table->n_constraints; j++) {
                const wes_constraint_t *fk = o->from_table->constraints[j];
                if (fk->kind == WES_CON_FOREIGN && fk->ref_table
                    && strcmp (fk->ref_table, c->table) == 0) {
                    wes_buf_puts (b, "ALTER TABLE IF EXISTS ");
                    wes_buf_put_ident (b, o->table);
                    wes_buf_puts (b, " DROP CONSTRAINT IF EXISTS ");
                    wes_buf_put_ident (b, fk->name);
                    wes_buf_puts (b, ";\n");
                }
            }
        }
        //  its own foreign keys lock the tables they reference: those first
        for (size_t j = 0; j < c->from_table->n_constraints; j++) {
            const wes_constraint_t *fk = c->from_table->constraints[j];
            const char *parent = fk->kind == WES_CON_FOREIGN ? s_to_name (P, fk->ref_table) : NULL;
            if (parent && wes_model_find_table (P->to, parent)) {
                s_put_lock_parent (b, c->table, parent, "ACCESS EXCLUSIVE");
            }
        }
        wes_buf_puts (b, "DROP TABLE IF EXISTS ");
        wes_buf_put_ident (b, c->table);
        wes_buf_puts (b, ";\n");
        st->sql = s_steal (&b);
        //  foreign keys to it are dropped first
        for (size_t k = 0; k < P->n_fk_drops; k++) {
            if (P->fk_drop_refs[k] && strcmp (P->fk_drop_refs[k], c->table) == 0) {
                s_dep (st, P->fk_drops[k]);
            }
        }
    }
}

/*  --- columns --- */

//  The key of a keyset backfill: the primary key; false when t has none
static bool
s_backfill_keys (s_planner_t *P, const wes_table_t *t, s_step_t *st)
{
    const wes_constraint_t *pk = wes_table_primary_key (t);
    if (!pk || pk->n_columns == 0) {
        return false;
    }
    for (size_t i = 0; i < pk->n_columns; i++) {
        const wes_column_t *col = wes_table_find_column (t, pk->columns[i]);
        wes_buf_t *b = wes_buf_new ();
        s_put_type (P, b, col ? col->type : "text");
        st->key_columns = wes_realloc (st->key_columns, (st->n_key + 1) * sizeof (char *));
        st->key_types = wes_realloc (st->key_types, (st->n_key + 1) * sizeof (char *));
        st->key_columns[st->n_key] = wes_strdup (pk->columns[i]);
        st->key_types[st->n_key] = s_steal (&b);
        st->n_key++;
    }
    return true;
}

//  A readable form of a batched step (the executor runs batch_set/batch_where)
static void
s_backfill_sql (s_step_t *bf, const char *table)
{
    wes_buf_t *b = wes_buf_new ();
    wes_buf_puts (b, "UPDATE ");
    wes_buf_put_ident (b, table);
    wes_buf_printf (b, " SET %s WHERE %s; -- in keyset batches on the primary key\n", bf->batch_set,
                    bf->batch_where ? bf->batch_where : "true");
    bf->sql = s_steal (&b);
}

//  ADD CONSTRAINT "<t>_<c>_not_null" CHECK NOT VALID -> VALIDATE -> SET NOT
//  NULL (no scan: the valid check proves it) -> DROP the helper check
static void
s_not_null_steps (s_planner_t *P, const char *table, const char *column, wes_phase_t first_phase)
{
    const char *cols[1] = {column};
    char *cname = wes_name_generate (table, cols, 1, "not_null", 0);

    s_step_t *st = s_step (P, first_phase, WES_STEP_TX, table, WES_LOCK_ACCESS_EXCLUSIVE);
    st->slug = s_fmt ("not-null-check-%s-%s", table, column);
    st->summary = s_fmt ("check %s.%s IS NOT NULL for new rows (NOT VALID)", table, column);
    wes_buf_t *b = wes_buf_new ();
    s_put_alter (b, table);
    wes_buf_puts (b, " ADD CONSTRAINT ");
    wes_buf_put_ident (b, cname);
    wes_buf_puts (b, " CHECK (");
    wes_buf_put_ident (b, column);
    wes_buf_puts (b, " IS NOT NULL) NOT VALID;\n");
    st->sql = s_steal (&b);
    b = wes_buf_new ();
    s_put_alter (b, table);
    wes_buf_puts (b, " DROP CONSTRAINT IF EXISTS ");
    wes_buf_put_ident (b, cname);
    wes_buf_puts (b, ";\n");
    st->inverse = s_steal (&b);

    st = s_step (P, WES_PHASE_VALIDATE, WES_STEP_TX, table, WES_LOCK_SHARE_UPDATE_EXCLUSIVE);
    st->slug = s_fmt ("validate-not-null-%s-%s", table, column);
    st->summary = s_fmt ("validate that no row of %s has %s NULL", table, column);
    st->cost = 100;
    b = wes_buf_new ();
    s_put_alter (b, table);
    wes_buf_puts (b, " VALIDATE CONSTRAINT ");
    wes_buf_put_ident (b, cname);
    wes_buf_puts (b, ";\n");
    st->sql = s_steal (&b);
    st->inverse = wes_strdup ("-- nothing to undo: validating changes no data\n");

    st = s_step (P, WES_PHASE_VALIDATE, WES_STEP_TX, table, WES_LOCK_ACCESS_EXCLUSIVE);
    st->slug = s_fmt ("set-not-null-%s-%s", table, column);
    st->summary = s_fmt ("set %s.%s NOT NULL (proven by the valid check: no scan)", table, column);
    for (int pass = 0; pass < 2; pass++) {
        b = wes_buf_new ();
        s_put_alter (b, table);
        wes_buf_puts (b, " ALTER COLUMN ");
        wes_buf_put_ident (b, column);
        wes_buf_puts (b, pass == 0 ? " SET NOT NULL;\n" : " DROP NOT NULL;\n");
        if (pass == 0) {
            st->sql = s_steal (&b);
        }
        else {
            st->inverse = s_steal (&b);
        }
    }

    st = s_step (P, WES_PHASE_VALIDATE, WES_STEP_TX, table, WES_LOCK_ACCESS_EXCLUSIVE);
    st->slug = s_fmt ("drop-not-null-check-%s-%s", table, column);
    st->summary = s_fmt ("drop the helper check %s", cname);
    b = wes_buf_new ();
    s_put_alter (b, table);
    wes_buf_puts (b, " DROP CONSTRAINT IF EXISTS ");
    wes_buf_put_ident (b, cname);
    wes_buf_puts (b, ";\n");
    st->sql = s_steal (&b);
    st->inverse = wes_strdup ("-- nothing to undo: the NOT NULL column keeps the guarantee\n");
    free (cname);
}

static void
s_add_column (s_planner_t *P, const wes_change_t *c)
{
    const wes_column_t *col = c->to_column;
    const char *def = col->default_expr;
    if (col->not_null && !def) {
        s_refuse (P,
                  "column %s.%s: NOT NULL without a default can not be added to an existing "
                  "table: add a default or make it nullable",
                  c->table, c->object);
        return;
    }
    bool volatile_def = wes_planner_default_is_volatile (def);
    s_step_t *st = s_step (P, WES_PHASE_EXPAND, WES_STEP_TX, c->table, WES_LOCK_ACCESS_EXCLUSIVE);
    st->slug = s_fmt ("add-column-%s-%s", c->table, c->object);
    st->summary = s_fmt ("add column %s.%s %s%s", c->table, c->object, col->type,
                         volatile_def ? " (nullable until backfilled)" : "");
    wes_buf_t *b = wes_buf_new ();
    s_put_alter (b, c->table);
    wes_buf_puts (b, " ADD COLUMN ");
    wes_buf_put_ident (b, c->object);
    wes_buf_puts (b, " ");
    s_put_type (P, b, col->type);
    if (!volatile_def) {
        //  PostgreSQL >= 11 stores a constant (or stable) default once: no rewrite
        if (col->not_null) {
            wes_buf_puts (b, " NOT NULL");
        }
        if (def) {
            wes_buf_puts (b, " DEFAULT ");
            s_put_expr (b, def);
        }
        wes_buf_puts (b, ";\n");
    }
    else {
        //  nullable; the default only for rows inserted from now on, set in
        //  the same step so rows inserted during the backfill are right
        wes_buf_puts (b, ";\n");
        s_put_alter (b, c->table);
        wes_buf_puts (b, " ALTER COLUMN ");
        wes_buf_put_ident (b, c->object);
        wes_buf_puts (b, " SET DEFAULT ");
        s_put_expr (b, def);
        wes_buf_puts (b, ";\n");
    }
    if (def) {
        wes_records_sql (b, "default", c->table, c->object, def);
    }
    st->sql = s_steal (&b);
    b = wes_buf_new ();
    s_put_alter (b, c->table);
    wes_buf_puts (b, " DROP COLUMN IF EXISTS ");
    wes_buf_put_ident (b, c->object);
    wes_buf_puts (b, ";\n");
    st->inverse = s_steal (&b);
    if (!volatile_def) {
        return;
    }

    s_step_t *bf =
        s_step (P, WES_PHASE_BACKFILL, WES_STEP_BATCHED, c->table, WES_LOCK_ROW_EXCLUSIVE);
    bf->slug = s_fmt ("backfill-%s-%s", c->table, c->object);
    bf->summary = s_fmt ("backfill %s.%s = %s in batches", c->table, c->object, def);
    if (!s_backfill_keys (P, c->to_table, bf)) {
        s_refuse (P,
                  "column %s.%s: a volatile default (%s) needs a backfill, which is not "
                  "supported yet on a table without a primary key",
                  c->table, c->object, def);
        return;
    }
    b = wes_buf_new ();
    wes_buf_put_ident (b, c->object);
    wes_buf_puts (b, " = ");
    wes_buf_puts (b, def);
    bf->batch_set = s_steal (&b);
    b = wes_buf_new ();
    wes_buf_put_ident (b, c->object);
    wes_buf_puts (b, " IS NULL");
    bf->batch_where = s_steal (&b);
    s_backfill_sql (bf, c->table);
    bf->inverse = wes_strdup ("-- nothing to undo: dropping the column undoes the backfill\n");
    if (col->not_null) {
        s_not_null_steps (P, c->table, c->object, WES_PHASE_VALIDATE);
    }
}

static void
s_rename_column (s_planner_t *P, const wes_change_t *c)
{
    const wes_column_t *oldc = c->from_column;
    const wes_column_t *newc = c->to_column;
    const char *t = c->table;
    const char *cols[1] = {newc->name};
    char *fn = wes_name_generate (t, cols, 1, "wes_rename", 0);

    //  expand: the new column (no default until contract: an old
    //  application's INSERT leaves it NULL, which tells the trigger to copy)
    //  and a two-way sync trigger
    s_step_t *st = s_step (P, WES_PHASE_EXPAND, WES_STEP_TX, t, WES_LOCK_ACCESS_EXCLUSIVE);
    st->slug = s_fmt ("rename-column-%s-%s-to-%s", t, oldc->name, newc->name);
    st->summary = s_fmt ("add %s.%s beside %s, kept in sync both ways by a trigger", t, newc->name,
                         oldc->name);
    wes_buf_t *body = wes_buf_new ();
    wes_buf_puts (body, "\nBEGIN\n    IF TG_OP = 'INSERT' THEN\n        IF NEW.");
    wes_buf_put_ident (body, newc->name);
    wes_buf_puts (body, " IS NULL THEN\n            NEW.");
    wes_buf_put_ident (body, newc->name);
    wes_buf_puts (body, " := NEW.");
    s_put_cast (P, body, oldc->name, oldc->type, newc->type);
    wes_buf_puts (body, ";\n        ELSE\n            NEW.");
    wes_buf_put_ident (body, oldc->name);
    wes_buf_puts (body, " := NEW.");
    s_put_cast (P, body, newc->name, newc->type, oldc->type);
    wes_buf_puts (body, ";\n        END IF;\n    ELSIF NEW.");
    wes_buf_put_ident (body, newc->name);
    wes_buf_puts (body, " IS DISTINCT FROM OLD.");
    wes_buf_put_ident (body, newc->name);
    wes_buf_puts (body, " THEN\n        NEW.");
    wes_buf_put_ident (body, oldc->name);
    wes_buf_puts (body, " := NEW.");
    s_put_cast (P, body, newc->name, newc->type, oldc->type);
    wes_buf_puts (body, ";\n    ELSIF NEW.");
    wes_buf_put_ident (body, oldc->name);
    wes_buf_puts (body, " IS DISTINCT FROM OLD.");
    wes_buf_put_ident (body, oldc->name);
    wes_buf_puts (body, " THEN\n        NEW.");
    wes_buf_put_ident (body, newc->name);
    wes_buf_puts (body, " := NEW.");
    s_put_cast (P, body, oldc->name, oldc->type, newc->type);
    wes_buf_puts (body, ";\n    END IF;\n    RETURN NEW;\nEND\n");
    wes_buf_t *b = wes_buf_new ();
    s_put_alter (b, t);
    wes_buf_puts (b, " ADD COLUMN ");
    wes_buf_put_ident (b, newc->name);
    wes_buf_puts (b, " ");
    s_put_type (P, b, newc->type);
    wes_buf_puts (b, ";\n");
    s_put_sync (P, b, t, fn, wes_buf_data (body));
    st->sql = s_steal (&b);
    wes_buf_destroy (&body);
    b = wes_buf_new ();
    s_put_drop_sync (b, t, fn);
    s_put_alter (b, t);
    wes_buf_puts (b, " DROP COLUMN IF EXISTS ");
    wes_buf_put_ident (b, newc->name);
    wes_buf_puts (b, ";\n");
    st->inverse = s_steal (&b);

    //  backfill: new = old where they differ
    s_step_t *bf = s_step (P, WES_PHASE_BACKFILL, WES_STEP_BATCHED, t, WES_LOCK_ROW_EXCLUSIVE);
    bf->slug = s_fmt ("backfill-%s-%s", t, newc->name);
    bf->summary = s_fmt ("copy %s.%s into %s in batches", t, oldc->name, newc->name);
    if (!s_backfill_keys (P, c->to_table, bf)) {
        s_refuse (P,
                  "column %s.%s: renaming from %s needs a backfill, which is not supported yet "
                  "on a table without a primary key",
                  t, newc->name, oldc->name);
    }
    b = wes_buf_new ();
    wes_buf_put_ident (b, newc->name);
    wes_buf_puts (b, " = ");
    s_put_cast (P, b, oldc->name, oldc->type, newc->type);
    bf->batch_set = s_steal (&b);
    b = wes_buf_new ();
    wes_buf_put_ident (b, newc->name);
    wes_buf_puts (b, " IS DISTINCT FROM ");
    s_put_cast (P, b, oldc->name, oldc->type, newc->type);
    bf->batch_where = s_steal (&b);
    s_backfill_sql (bf, t);
    bf->inverse = wes_strdup ("-- nothing to undo: dropping the new column undoes the copy\n");

    //  indexes of `to` on the new column whose name an index on the old
    //  column still holds: built under a temporary name after the backfill,
    //  renamed at contract once the old column (and its index) is gone
    wes_buf_t *renames = wes_buf_new ();
    wes_index_t **ixs = (wes_index_t **)s_sorted ((void *const *)c->to_table->indexes,
                                                  c->to_table->n_indexes, s_cmp_ix_name);
    for (size_t i = 0; i < c->to_table->n_indexes; i++) {
        const wes_index_t *ix = ixs[i];
        const wes_index_t *old = NULL;
        for (size_t k = 0; k < c->from_table->n_indexes; k++) {
            if (strcmp (c->from_table->indexes[k]->name, ix->name) == 0) {
                old = c->from_table->indexes[k];
            }
        }
        if (!s_index_on (ix, newc->name) || !old || !s_index_on (old, oldc->name)) {
            continue;
        }
        s_claim (P, t, ix->name);
        char *tmp = wes_name_generate (ix->name, NULL, 0, "_wes_new", 0);
        s_step_t *cic =
            s_step (P, WES_PHASE_VALIDATE, WES_STEP_NONTX, t, WES_LOCK_SHARE_UPDATE_EXCLUSIVE);
        cic->slug = s_fmt ("create-index-%s", tmp);
        cic->summary =
            s_fmt ("build index %s on %s.%s concurrently, as %s", ix->name, t, newc->name, tmp);
        cic->verify_index = wes_strdup (tmp);
        b = wes_buf_new ();
        s_put_index (b, t, ix, tmp, true, NULL, NULL);
        cic->sql = s_steal (&b);
        b = wes_buf_new ();
        s_put_drop_index (b, tmp);
        cic->inverse = s_steal (&b);
        wes_buf_puts (renames, "ALTER INDEX ");
        wes_buf_put_ident (renames, tmp);
        wes_buf_puts (renames, " RENAME TO ");
        wes_buf_put_ident (renames, ix->name);
        wes_buf_puts (renames, ";\n");
        if (ix->where) {
            wes_records_sql (renames, "index_where", t, ix->name, ix->where);
        }
        free (tmp);
    }
    free (ixs);

    if (newc->not_null) {
        s_not_null_steps (P, t, newc->name, WES_PHASE_VALIDATE);
    }

    //  contract: the old column and the trigger go; the default arrives
    s_step_t *ct = s_step (P, WES_PHASE_CONTRACT, WES_STEP_TX, t, WES_LOCK_ACCESS_EXCLUSIVE);
    ct->sub = S_SUB_SWAP;
    ct->slug = s_fmt ("finish-rename-%s-%s-to-%s", t, oldc->name, newc->name);
    ct->summary =
        s_fmt ("drop %s.%s and its sync trigger (renamed to %s)", t, oldc->name, newc->name);
    b = wes_buf_new ();
    s_put_drop_sync (b, t, fn);
    s_put_alter (b, t);
    wes_buf_puts (b, " DROP COLUMN ");
    wes_buf_put_ident (b, oldc->name);
    wes_buf_puts (b, ";\n");
    wes_buf_puts (b, wes_buf_data (renames));
    if (newc->default_expr) {
        s_put_alter (b, t);
        wes_buf_puts (b, " ALTER COLUMN ");
        wes_buf_put_ident (b, newc->name);
        wes_buf_puts (b, " SET DEFAULT ");
        s_put_expr (b, newc->default_expr);
        wes_buf_puts (b, ";\n");
        wes_records_sql (b, "default", t, newc->name, newc->default_expr);
    }
    ct->sql = s_steal (&b);
    wes_buf_destroy (&renames);
    free (fn);
}

static void
s_type_change (s_planner_t *P, const wes_change_t *c)
{
    const char *ft = c->from_column->type;
    const char *tt = c->to_column->type;
    wes_type_change_t how = wes_planner_classify_type_change (ft, tt);
    if (how == WES_TYPE_CHANGE_REWRITE) {
        s_shadow (P, c);
        return;
    }
    bool narrow = how == WES_TYPE_CHANGE_NARROWING;
    if (narrow && !P->opts.allow_destructive) {
        s_refuse (P,
                  "column %s.%s: type %s -> %s is narrowing and may lose data (pass "
                  "--allow-destructive)",
                  c->table, c->object, ft, tt);
        return;
    }
    s_step_t *st = s_step (P, narrow ? WES_PHASE_CONTRACT : WES_PHASE_EXPAND, WES_STEP_TX, c->table,
                           WES_LOCK_ACCESS_EXCLUSIVE);
    st->sub = narrow ? S_SUB_COLUMN : 0;
    st->slug = s_fmt ("alter-type-%s-%s", c->table, c->object);
    st->summary = s_fmt ("change the type of %s.%s from %s to %s%s", c->table, c->object, ft, tt,
                         narrow ? " (narrowing: rewrites the table)" : " (no rewrite)");
    st->cost = narrow ? 1000 : 1;
    for (int pass = 0; pass < 2; pass++) {
        wes_buf_t *b = wes_buf_new ();
        s_put_alter (b, c->table);
        wes_buf_puts (b, " ALTER COLUMN ");
        wes_buf_put_ident (b, c->object);
        wes_buf_puts (b, " TYPE ");
        s_put_type (P, b, pass == 0 ? tt : ft);
        if (narrow) {
            wes_buf_puts (b, " USING ");
            s_put_cast (P, b, c->object, ft, tt);
        }
        wes_buf_puts (b, ";\n");
        if (pass == 0) {
            st->sql = s_steal (&b);
        }
        else if (!narrow) {
            st->inverse = s_steal (&b);
        }
        else {
            wes_buf_destroy (&b);
        }
    }
}

static int
s_cmp_strp (const void *a, const void *b)
{
    return strcmp (*(char *const *)a, *(char *const *)b);
}

static void
s_fk_column_add (s_planner_t *P, const char *table, const char *column)
{
    P->fk_columns = wes_realloc (P->fk_columns, (P->n_fk_columns + 1) * sizeof (char *));
    P->fk_columns[P->n_fk_columns++] = s_fmt ("%s\x1f%s", table, column);
}

//  True when a foreign key of either model holds or references the column
static bool
s_column_in_fk (s_planner_t *P, const wes_change_t *c)
{
    if (!P->fk_columns_built) {
        const wes_model_t *models[2] = {P->from, P->to};
        for (int m = 0; m < 2; m++) {
            for (size_t i = 0; i < wes_model_table_count (models[m]); i++) {
                const wes_table_t *t = wes_model_table (models[m], i);
                for (size_t k = 0; k < t->n_constraints; k++) {
                    const wes_constraint_t *con = t->constraints[k];
                    if (con->kind != WES_CON_FOREIGN) {
                        continue;
                    }
                    for (size_t j = 0; j < con->n_columns; j++) {
                        s_fk_column_add (P, t->name, con->columns[j]);
                    }
                    for (size_t j = 0; con->ref_table && j < con->n_ref_columns; j++) {
                        s_fk_column_add (P, con->ref_table, con->ref_columns[j]);
                    }
                }
            }
        }
        if (P->n_fk_columns > 1) {
            qsort (P->fk_columns, P->n_fk_columns, sizeof (char *), s_cmp_strp);
        }
        P->fk_columns_built = true;
    }
    const char *tnames[2] = {c->from_table->name, c->to_table->name};
    const char *cnames[2] = {c->from_column->name, c->to_column->name};
    for (int m = 0; m < 2; m++) {
        char *key = s_fmt ("%s\x1f%s", tnames[m], cnames[m]);
        bool found = P->n_fk_columns > 0
                     && bsearch (&key, P->fk_columns, P->n_fk_columns, sizeof (char *), s_cmp_strp);
        free (key);
        if (found) {
            return true;
        }
    }
    return false;
}

static void
s_shadow (s_planner_t *P, const wes_change_t *c)
{
    const char *t = c->table;
    const wes_column_t *oc = c->from_column;
    const wes_column_t *nc = c->to_column;
    const char *col = c->object;
    const wes_constraint_t *pk_from = wes_table_primary_key (c->from_table);
    const wes_constraint_t *pk_to = wes_table_primary_key (c->to_table);
    if ((pk_from && s_has (pk_from->columns, pk_from->n_columns, col))
        || (pk_to && s_has (pk_to->columns, pk_to->n_columns, col))) {
        s_refuse (P,
                  "column %s.%s: type %s -> %s needs a rewrite, which is not supported yet for "
                  "a primary-key column",
                  t, col, oc->type, nc->type);
        return;
    }
    if (s_column_in_fk (P, c)) {
        s_refuse (P,
                  "column %s.%s: type %s -> %s needs a rewrite, which is not supported yet for "
                  "a column that holds or is referenced by a foreign key",
                  t, col, oc->type, nc->type);
        return;
    }
    for (size_t i = 0; i < c->to_table->n_indexes; i++) {
        const wes_index_t *ix = c->to_table->indexes[i];
        if (s_mentions (ix->where, col)) {
            s_refuse (P,
                      "column %s.%s: type %s -> %s needs a rewrite, which is not supported yet "
                      "when the predicate of partial index %s names the column",
                      t, col, oc->type, nc->type, ix->name);
            return;
        }
    }
    const char *cols[1] = {col};
    char *shadow = wes_name_generate (col, NULL, 0, "_wes_new", 0);
    char *old = wes_name_generate (col, NULL, 0, "_wes_old", 0);
    char *fn = wes_name_generate (t, cols, 1, "wes_sync", 0);
    char *nn = wes_name_generate (t, cols, 1, "not_null", 0);

    //  expand: shadow column + sync trigger, installed before the backfill
    s_step_t *st = s_step (P, WES_PHASE_EXPAND, WES_STEP_TX, t, WES_LOCK_ACCESS_EXCLUSIVE);
    st->slug = s_fmt ("add-shadow-%s-%s", t, col);
    st->summary = s_fmt ("add shadow column %s.%s %s, kept in sync with %s by a trigger", t, shadow,
                         nc->type, col);
    wes_buf_t *body = wes_buf_new ();
    wes_buf_puts (body, "\nBEGIN\n    NEW.");
    wes_buf_put_ident (body, shadow);
    wes_buf_puts (body, " := NEW.");
    s_put_cast (P, body, col, oc->type, nc->type);
    wes_buf_puts (body, ";\n    RETURN NEW;\nEND\n");
    wes_buf_t *b = wes_buf_new ();
    s_put_alter (b, t);
    wes_buf_puts (b, " ADD COLUMN ");
    wes_buf_put_ident (b, shadow);
    wes_buf_puts (b, " ");
    s_put_type (P, b, nc->type);
    wes_buf_puts (b, ";\n");
    if (nc->default_expr) {
        //  SET DEFAULT, not ADD COLUMN ... DEFAULT: a volatile one would rewrite
        s_put_alter (b, t);
        wes_buf_puts (b, " ALTER COLUMN ");
        wes_buf_put_ident (b, shadow);
        wes_buf_puts (b, " SET DEFAULT ");
        s_put_expr (b, nc->default_expr);
        wes_buf_puts (b, ";\n");
    }
    s_put_sync (P, b, t, fn, wes_buf_data (body));
    st->sql = s_steal (&b);
    wes_buf_destroy (&body);
    b = wes_buf_new ();
    s_put_drop_sync (b, t, fn);
    s_put_alter (b, t);
    wes_buf_puts (b, " DROP COLUMN IF EXISTS ");
    wes_buf_put_ident (b, shadow);
    wes_buf_puts (b, ";\n");
    st->inverse = s_steal (&b);

    //  backfill the shadow from the column
    s_step_t *bf = s_step (P, WES_PHASE_BACKFILL, WES_STEP_BATCHED, t, WES_LOCK_ROW_EXCLUSIVE);
    bf->slug = s_fmt ("backfill-%s-%s", t, shadow);
    bf->summary = s_fmt ("copy %s.%s into %s as %s in batches", t, col, shadow, nc->type);
    if (!s_backfill_keys (P, c->to_table, bf)) {
        s_refuse (P,
                  "column %s.%s: type %s -> %s needs a backfill, which is not supported yet on "
                  "a table without a primary key",
                  t, col, oc->type, nc->type);
    }
    b = wes_buf_new ();
    wes_buf_put_ident (b, shadow);
    wes_buf_puts (b, " = ");
    s_put_cast (P, b, col, oc->type, nc->type);
    bf->batch_set = s_steal (&b);
    b = wes_buf_new ();
    wes_buf_put_ident (b, shadow);
    wes_buf_puts (b, " IS DISTINCT FROM ");
    s_put_cast (P, b, col, oc->type, nc->type);
    bf->batch_where = s_steal (&b);
    s_backfill_sql (bf, t);
    bf->inverse = wes_strdup ("-- nothing to undo: dropping the shadow column undoes the copy\n");

    //  indexes and unique constraints of `to` on the column, rebuilt on the
    //  shadow (CIC, one at a time); renamed or attached at the swap
    wes_buf_t *swap_tail = wes_buf_new ();
    wes_buf_t *records = wes_buf_new ();
    wes_index_t **ixs = (wes_index_t **)s_sorted ((void *const *)c->to_table->indexes,
                                                  c->to_table->n_indexes, s_cmp_ix_name);
    for (size_t i = 0; i < c->to_table->n_indexes; i++) {
        const wes_index_t *ix = ixs[i];
        if (!s_index_on (ix, col)) {
            continue;
        }
        s_claim (P, t, ix->name);
        char *tmp = wes_name_generate (ix->name, NULL, 0, "_wes_new", 0);
        s_step_t *cic =
            s_step (P, WES_PHASE_VALIDATE, WES_STEP_NONTX, t, WES_LOCK_SHARE_UPDATE_EXCLUSIVE);
        cic->slug = s_fmt ("create-index-%s", tmp);
        cic->summary = s_fmt ("build index %s on the shadow column concurrently", tmp);
        cic->verify_index = wes_strdup (tmp);
        b = wes_buf_new ();
        s_put_index (b, t, ix, tmp, true, col, shadow);
        cic->sql = s_steal (&b);
        b = wes_buf_new ();
        s_put_drop_index (b, tmp);
        cic->inverse = s_steal (&b);
        wes_buf_puts (swap_tail, "ALTER INDEX ");
        wes_buf_put_ident (swap_tail, tmp);
        wes_buf_puts (swap_tail, " RENAME TO ");
        wes_buf_put_ident (swap_tail, ix->name);
        wes_buf_puts (swap_tail, ";\n");
        if (ix->where) {
            wes_records_sql (records, "index_where", t, ix->name, ix->where);
        }
        free (tmp);
    }
    free (ixs);
    //  checks naming the column go with the old column; they come back NOT
    //  VALID at the swap and are validated after it
    wes_constraint_t **cons = (wes_constraint_t **)s_sorted (
        (void *const *)c->to_table->constraints, c->to_table->n_constraints, s_cmp_con_name);
    const wes_constraint_t **checks = wes_alloc ((c->to_table->n_constraints + 1) * sizeof *checks);
    size_t n_checks = 0;
    for (size_t i = 0; i < c->to_table->n_constraints; i++) {
        const wes_constraint_t *con = cons[i];
        if (con->kind == WES_CON_UNIQUE && s_has (con->columns, con->n_columns, col)) {
            s_claim (P, t, con->name);
            char *tmp = wes_name_generate (con->name, NULL, 0, "_wes_new", 0);
            s_step_t *cic =
                s_step (P, WES_PHASE_VALIDATE, WES_STEP_NONTX, t, WES_LOCK_SHARE_UPDATE_EXCLUSIVE);
            cic->slug = s_fmt ("create-index-%s", tmp);
            cic->summary = s_fmt ("build unique index %s on the shadow column concurrently", tmp);
            cic->verify_index = wes_strdup (tmp);
            b = wes_buf_new ();
            wes_buf_puts (b, "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ");
            wes_buf_put_ident (b, tmp);
            wes_buf_puts (b, " ON ");
            wes_buf_put_ident (b, t);
            wes_buf_puts (b, " (");
            for (size_t k = 0; k < con->n_columns; k++) {
                wes_buf_puts (b, k ? ", " : "");
                wes_buf_put_ident (b,
                                   strcmp (con->columns[k], col) == 0 ? shadow : con->columns[k]);
            }
            wes_buf_puts (b, ");\n");
            cic->sql = s_steal (&b);
            b = wes_buf_new ();
            s_put_drop_index (b, tmp);
            cic->inverse = s_steal (&b);
            s_put_alter (swap_tail, t);
            wes_buf_puts (swap_tail, " ADD CONSTRAINT ");
            wes_buf_put_ident (swap_tail, con->name);
            wes_buf_puts (swap_tail, " UNIQUE USING INDEX ");
            wes_buf_put_ident (swap_tail, tmp);
            wes_buf_puts (swap_tail, ";\n");
            free (tmp);
        }
        else if (con->kind == WES_CON_CHECK && s_mentions (con->check_expr, col)) {
            s_claim (P, t, con->name);
            checks[n_checks++] = con;
            s_put_check (swap_tail, t, con, true);
            wes_records_sql (records, "check", t, con->name, con->check_expr);
        }
    }
    free (cons);

    if (nc->not_null) {
        //  the helper check is made on the shadow; it follows the rename
        s_step_t *ck = s_step (P, WES_PHASE_VALIDATE, WES_STEP_TX, t, WES_LOCK_ACCESS_EXCLUSIVE);
        ck->slug = s_fmt ("not-null-check-%s-%s", t, shadow);
        ck->summary = s_fmt ("check %s.%s IS NOT NULL (NOT VALID)", t, shadow);
        b = wes_buf_new ();
        s_put_alter (b, t);
        wes_buf_puts (b, " ADD CONSTRAINT ");
        wes_buf_put_ident (b, nn);
        wes_buf_puts (b, " CHECK (");
        wes_buf_put_ident (b, shadow);
        wes_buf_puts (b, " IS NOT NULL) NOT VALID;\n");
        ck->sql = s_steal (&b);
        b = wes_buf_new ();
        s_put_alter (b, t);
        wes_buf_puts (b, " DROP CONSTRAINT IF EXISTS ");
        wes_buf_put_ident (b, nn);
        wes_buf_puts (b, ";\n");
        ck->inverse = s_steal (&b);
        s_step_t *va =
            s_step (P, WES_PHASE_VALIDATE, WES_STEP_TX, t, WES_LOCK_SHARE_UPDATE_EXCLUSIVE);
        va->slug = s_fmt ("validate-not-null-%s-%s", t, shadow);
        va->summary = s_fmt ("validate that no row of %s has %s NULL", t, shadow);
        va->cost = 100;
        b = wes_buf_new ();
        s_put_alter (b, t);
        wes_buf_puts (b, " VALIDATE CONSTRAINT ");
        wes_buf_put_ident (b, nn);
        wes_buf_puts (b, ";\n");
        va->sql = s_steal (&b);
        va->inverse = wes_strdup ("-- nothing to undo: validating changes no data\n");
    }

    //  contract: the swap, in one transaction
    s_step_t *sw = s_step (P, WES_PHASE_CONTRACT, WES_STEP_TX, t, WES_LOCK_ACCESS_EXCLUSIVE);
    sw->sub = S_SUB_SWAP;
    sw->slug = s_fmt ("swap-%s-%s", t, col);
    sw->summary = s_fmt ("swap %s.%s for its shadow (%s -> %s) and drop the old column", t, col,
                         oc->type, nc->type);
    b = wes_buf_new ();
    s_put_drop_sync (b, t, fn);
    s_put_alter (b, t);
    wes_buf_puts (b, " RENAME COLUMN ");
    wes_buf_put_ident (b, col);
    wes_buf_puts (b, " TO ");
    wes_buf_put_ident (b, old);
    wes_buf_puts (b, ";\n");
    s_put_alter (b, t);
    wes_buf_puts (b, " RENAME COLUMN ");
    wes_buf_put_ident (b, shadow);
    wes_buf_puts (b, " TO ");
    wes_buf_put_ident (b, col);
    wes_buf_puts (b, ";\n");
    if (nc->not_null) {
        s_put_alter (b, t);
        wes_buf_puts (b, " ALTER COLUMN ");
        wes_buf_put_ident (b, col);
        wes_buf_puts (b, " SET NOT NULL;\n");
        s_put_alter (b, t);
        wes_buf_puts (b, " DROP CONSTRAINT IF EXISTS ");
        wes_buf_put_ident (b, nn);
        wes_buf_puts (b, ";\n");
    }
    s_put_alter (b, t);
    wes_buf_puts (b, " DROP COLUMN ");
    wes_buf_put_ident (b, old);
    wes_buf_puts (b, ";\n");
    wes_buf_puts (b, wes_buf_data (swap_tail));
    if (nc->default_expr) {
        wes_records_sql (b, "default", t, col, nc->default_expr);
    }
    wes_buf_puts (b, wes_buf_data (records));
    sw->sql = s_steal (&b);
    for (size_t i = 0; i < n_checks; i++) {
        s_step_t *va =
            s_step (P, WES_PHASE_CONTRACT, WES_STEP_TX, t, WES_LOCK_SHARE_UPDATE_EXCLUSIVE);
        va->sub = S_SUB_SWAP;
        va->slug = s_fmt ("validate-constraint-%s", checks[i]->name);
        va->summary = s_fmt ("validate check %s on %s after the swap", checks[i]->name, t);
        va->cost = 100;
        b = wes_buf_new ();
        s_put_alter (b, t);
        wes_buf_puts (b, " VALIDATE CONSTRAINT ");
        wes_buf_put_ident (b, checks[i]->name);
        wes_buf_puts (b, ";\n");
        va->sql = s_steal (&b);
    }
    free (checks);
    wes_buf_destroy (&swap_tail);
    wes_buf_destroy (&records);
    free (nn);
    free (fn);
    free (old);
    free (shadow);
}

/*  --- constraints, indexes, policies --- */

//  CIC of a unique index named name over con's columns (expand)
static void
s_unique_cic (s_planner_t *P, const char *t, const wes_constraint_t *con, const char *name)
{
    s_step_t *cic =
        s_step (P, WES_PHASE_EXPAND, WES_STEP_NONTX, t, WES_LOCK_SHARE_UPDATE_EXCLUSIVE);
    cic->slug = s_fmt ("create-index-%s", name);
    cic->summary = s_fmt ("build unique index %s on %s concurrently", name, t);
    cic->verify_index = wes_strdup (name);
    wes_buf_t *b = wes_buf_new ();
    wes_buf_puts (b, "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ");
    wes_buf_put_ident (b, name);
    wes_buf_puts (b, " ON ");
    wes_buf_put_ident (b, t);
    wes_buf_puts (b, " (");
    s_put_idents (b, con->columns, con->n_columns);
    wes_buf_puts (b, ");\n");
    cic->sql = s_steal (&b);
    b = wes_buf_new ();
    s_put_drop_index (b, name);
    cic->inverse = s_steal (&b);
    P->keysteps = wes_realloc (P->keysteps, (P->n_keysteps + 1) * sizeof *P->keysteps);
    P->keysteps[P->n_keysteps++] = (s_keystep_t){t, con, cic->seq};
}

static void
s_constraint (s_planner_t *P, const wes_change_t *c)
{
    const char *t = c->table;
    const wes_constraint_t *a = c->from_constraint;
    const wes_constraint_t *n = c->to_constraint;
    if (s_claimed (P, t, c->object)) {
        return;
    }
    wes_buf_t *b = NULL;
    if (c->kind == WES_CHANGE_CONSTRAINT_DROP) {
        //  loses no data: no flag needed
        s_step_t *st = s_step (P, WES_PHASE_CONTRACT, WES_STEP_TX, t, WES_LOCK_ACCESS_EXCLUSIVE);
        st->sub = S_SUB_CONSTRAINT;
        st->slug = s_fmt ("drop-constraint-%s", a->name);
        st->summary = s_fmt ("drop constraint %s on %s", a->name, t);
        b = wes_buf_new ();
        if (a->kind == WES_CON_FOREIGN) {
            s_put_lock_parent (b, t, s_to_name (P, a->ref_table), "ACCESS EXCLUSIVE");
        }
        s_put_alter (b, t);
        wes_buf_puts (b, " DROP CONSTRAINT IF EXISTS ");
        wes_buf_put_ident (b, a->name);
        wes_buf_puts (b, ";\n");
        st->sql = s_steal (&b);
        if (a->kind == WES_CON_FOREIGN) {
            P->fk_drops = wes_realloc (P->fk_drops, (P->n_fk_drops + 1) * sizeof (size_t));
            P->fk_drop_refs =
                wes_realloc (P->fk_drop_refs, (P->n_fk_drops + 1) * sizeof (const char *));
            P->fk_drops[P->n_fk_drops] = st->seq;
            P->fk_drop_refs[P->n_fk_drops++] = a->ref_table;
        }
        return;
    }
    if (c->kind == WES_CHANGE_CONSTRAINT_CHANGE && a->kind != n->kind) {
        s_refuse (P, "constraint %s.%s: changing %s into %s is not supported yet", t, n->name,
                  c->from_def, c->to_def);
        return;
    }
    if (c->kind == WES_CHANGE_CONSTRAINT_CHANGE && n->kind == WES_CON_PRIMARY) {
        s_refuse (P, "constraint %s.%s: changing a primary key (%s -> %s) is not supported yet", t,
                  n->name, c->from_def, c->to_def);
        return;
    }
    if (n->kind == WES_CON_PRIMARY || n->kind == WES_CON_UNIQUE) {
        //  CIC (expand), then attach it as the constraint (validate)
        bool change = c->kind == WES_CHANGE_CONSTRAINT_CHANGE;
        char *idx =
            change ? wes_name_generate (n->name, NULL, 0, "_wes_new", 0) : wes_strdup (n->name);
        s_unique_cic (P, t, n, idx);
        const char *what = n->kind == WES_CON_PRIMARY ? "PRIMARY KEY" : "UNIQUE";
        s_step_t *st = s_step (P, WES_PHASE_VALIDATE, WES_STEP_TX, t, WES_LOCK_ACCESS_EXCLUSIVE);
        st->slug = s_fmt ("add-constraint-%s", n->name);
        st->summary = s_fmt ("%s %s constraint %s on %s using index %s", change ? "replace" : "add",
                             what, n->name, t, idx);
        b = wes_buf_new ();
        if (change) {
            s_put_alter (b, t);
            wes_buf_puts (b, " DROP CONSTRAINT ");
            wes_buf_put_ident (b, n->name);
            wes_buf_puts (b, ";\n");
        }
        s_put_alter (b, t);
        wes_buf_puts (b, " ADD CONSTRAINT ");
        wes_buf_put_ident (b, n->name);
        wes_buf_printf (b, " %s USING INDEX ", what);
        wes_buf_put_ident (b, idx);
        wes_buf_puts (b, ";\n");
        st->sql = s_steal (&b);
        b = wes_buf_new ();
        s_put_alter (b, t);
        wes_buf_puts (b, " DROP CONSTRAINT IF EXISTS ");
        wes_buf_put_ident (b, n->name);
        wes_buf_puts (b, ";\n");
        if (change) {
            s_put_alter (b, t);
            wes_buf_puts (b, " ADD CONSTRAINT ");
            wes_buf_put_ident (b, a->name);
            wes_buf_puts (b, " UNIQUE (");
            s_put_idents (b, a->columns, a->n_columns);
            wes_buf_puts (b, ");\n");
        }
        st->inverse = s_steal (&b);
        free (idx);
        return;
    }
    //  FOREIGN and CHECK: NOT VALID (replacing the old one in the same
    //  transaction), then VALIDATE
    bool fk = n->kind == WES_CON_FOREIGN;
    s_step_t *st = s_step (P, WES_PHASE_EXPAND, WES_STEP_TX, t,
                           fk && !a ? WES_LOCK_SHARE_ROW_EXCLUSIVE : WES_LOCK_ACCESS_EXCLUSIVE);
    st->slug = s_fmt ("%s-constraint-%s", a ? "replace" : "add", n->name);
    st->summary = s_fmt ("%s %s %s on %s (NOT VALID: checks new rows only)", a ? "replace" : "add",
                         fk ? "foreign key" : "check", n->name, t);
    b = wes_buf_new ();
    if (a && a->kind == WES_CON_FOREIGN) {
        //  dropping a foreign key takes ACCESS EXCLUSIVE on its parent too
        s_put_lock_parent (b, t, s_to_name (P, a->ref_table), "ACCESS EXCLUSIVE");
    }
    if (fk && (!a || !a->ref_table || strcmp (s_to_name (P, a->ref_table), n->ref_table) != 0)) {
        s_put_lock_parent (b, t, n->ref_table, "SHARE ROW EXCLUSIVE");
    }
    if (a) {
        s_put_alter (b, t);
        wes_buf_puts (b, " DROP CONSTRAINT ");
        wes_buf_put_ident (b, a->name);
        wes_buf_puts (b, ";\n");
    }
    if (fk) {
        s_put_fk (b, t, n, true);
        s_add_fkdep (P, st->seq, n->ref_table, n->ref_columns, n->n_ref_columns);
    }
    else {
        s_put_check (b, t, n, true);
        wes_records_sql (b, "check", t, n->name, n->check_expr ? n->check_expr : "true");
    }
    st->sql = s_steal (&b);
    b = wes_buf_new ();
    s_put_alter (b, t);
    wes_buf_puts (b, " DROP CONSTRAINT IF EXISTS ");
    wes_buf_put_ident (b, n->name);
    wes_buf_puts (b, ";\n");
    if (a && a->kind == WES_CON_FOREIGN) {
        s_put_fk (b, t, a, true);
    }
    else if (a) {
        s_put_check (b, t, a, true);
        wes_records_sql (b, "check", t, a->name, a->check_expr ? a->check_expr : "true");
    }
    st->inverse = s_steal (&b);

    s_step_t *va = s_step (P, WES_PHASE_VALIDATE, WES_STEP_TX, t, WES_LOCK_SHARE_UPDATE_EXCLUSIVE);
    va->slug = s_fmt ("validate-constraint-%s", n->name);
    va->summary = s_fmt ("validate %s on %s against the existing rows", n->name, t);
    va->cost = 100;
    b = wes_buf_new ();
    s_put_alter (b, t);
    wes_buf_puts (b, " VALIDATE CONSTRAINT ");
    wes_buf_put_ident (b, n->name);
    wes_buf_puts (b, ";\n");
    va->sql = s_steal (&b);
    va->inverse = wes_strdup ("-- nothing to undo: validating changes no data\n");
}

static void
s_cic (s_planner_t *P, const char *t, const wes_index_t *ix)
{
    s_step_t *st = s_step (P, WES_PHASE_EXPAND, WES_STEP_NONTX, t, WES_LOCK_SHARE_UPDATE_EXCLUSIVE);
    st->slug = s_fmt ("create-index-%s", ix->name);
    st->summary =
        s_fmt ("build %sindex %s on %s concurrently", ix->unique ? "unique " : "", ix->name, t);
    st->verify_index = wes_strdup (ix->name);
    wes_buf_t *b = wes_buf_new ();
    s_put_index (b, t, ix, ix->name, true, NULL, NULL);
    if (ix->where) {
        wes_records_sql (b, "index_where", t, ix->name, ix->where);
    }
    st->sql = s_steal (&b);
    b = wes_buf_new ();
    s_put_drop_index (b, ix->name);
    st->inverse = s_steal (&b);
}

static void
s_index (s_planner_t *P, const wes_change_t *c)
{
    const char *t = c->table;
    if (s_claimed (P, t, c->object)) {
        return;
    }
    if (c->kind == WES_CHANGE_INDEX_ADD) {
        s_cic (P, t, c->to_index);
        return;
    }
    const wes_index_t *a = c->from_index;
    if (c->kind == WES_CHANGE_INDEX_DROP) {
        //  an index on a column renamed away goes with that column
        bool with_rename = false;
        for (size_t i = 0; i < c->to_table->n_columns; i++) {
            const wes_column_t *col = c->to_table->columns[i];
            with_rename = with_rename
                          || (col->renamed_from && s_index_on (a, col->renamed_from)
                              && !wes_table_find_column (c->to_table, col->renamed_from));
        }
        if (!with_rename && !P->opts.allow_destructive) {
            s_refuse (P, "index %s.%s: dropping it is destructive (pass --allow-destructive)", t,
                      a->name);
            return;
        }
        s_step_t *st =
            s_step (P, WES_PHASE_CONTRACT, WES_STEP_NONTX, t, WES_LOCK_SHARE_UPDATE_EXCLUSIVE);
        st->sub = S_SUB_INDEX;
        st->slug = s_fmt ("drop-index-%s", a->name);
        st->summary = s_fmt ("drop index %s on %s concurrently", a->name, t);
        st->cost = 10;
        wes_buf_t *b = wes_buf_new ();
        s_put_drop_index (b, a->name);
        st->sql = s_steal (&b);
        return;
    }
    //  changed: drop concurrently, then build the new definition
    s_step_t *st = s_step (P, WES_PHASE_EXPAND, WES_STEP_NONTX, t, WES_LOCK_SHARE_UPDATE_EXCLUSIVE);
    st->slug = s_fmt ("drop-index-%s", a->name);
    st->summary =
        s_fmt ("drop index %s on %s concurrently, to rebuild it as %s", a->name, t, c->to_def);
    st->cost = 10;
    wes_buf_t *b = wes_buf_new ();
    s_put_drop_index (b, a->name);
    st->sql = s_steal (&b);
    b = wes_buf_new ();
    s_put_index (b, t, a, a->name, true, NULL, NULL);
    if (a->where) {
        wes_records_sql (b, "index_where", t, a->name, a->where);
    }
    st->inverse = s_steal (&b);
    s_cic (P, t, c->to_index);
}

static void
s_policy (s_planner_t *P, const wes_change_t *c)
{
    const char *t = c->table;
    const wes_policy_t *a = c->from_policy;
    const wes_policy_t *n = c->to_policy;
    wes_buf_t *b = wes_buf_new ();
    if (c->kind == WES_CHANGE_POLICY_DROP) {
        s_step_t *st = s_step (P, WES_PHASE_CONTRACT, WES_STEP_TX, t, WES_LOCK_ACCESS_EXCLUSIVE);
        st->sub = S_SUB_POLICY;
        st->slug = s_fmt ("drop-policy-%s-%s", t, a->name);
        st->summary = s_fmt ("drop policy %s on %s", a->name, t);
        wes_buf_puts (b, "DROP POLICY IF EXISTS ");
        wes_buf_put_ident (b, a->name);
        wes_buf_puts (b, " ON ");
        wes_buf_put_ident (b, t);
        wes_buf_puts (b, ";\n");
        st->sql = s_steal (&b);
        return;
    }
    s_step_t *st = s_step (P, WES_PHASE_EXPAND, WES_STEP_TX, t, WES_LOCK_ACCESS_EXCLUSIVE);
    st->slug = s_fmt ("%s-policy-%s-%s", a ? "alter" : "create", t, n->name);
    st->summary = s_fmt ("%s policy %s on %s", a ? "change" : "create", n->name, t);
    //  ALTER POLICY changes roles and expressions, but not the command or
    //  the kind, and can not take an expression away: then drop and create
    bool alter = a && a->cmd == n->cmd && a->permissive == n->permissive
                 && (!a->using_expr || n->using_expr) && (!a->check_expr || n->check_expr);
    if (!a) {
        s_put_policy (b, t, n);
    }
    else if (alter) {
        wes_buf_puts (b, "ALTER POLICY ");
        wes_buf_put_ident (b, n->name);
        wes_buf_puts (b, " ON ");
        wes_buf_put_ident (b, t);
        wes_buf_puts (b, " TO ");
        if (n->n_roles == 0) {
            wes_buf_puts (b, "PUBLIC");
        }
        for (size_t r = 0; r < n->n_roles; r++) {
            wes_buf_puts (b, r ? ", " : "");
            s_put_role (b, n->roles[r]);
        }
        if (n->using_expr) {
            wes_buf_puts (b, "\n    USING ");
            s_put_expr (b, n->using_expr);
        }
        if (n->check_expr) {
            wes_buf_puts (b, "\n    WITH CHECK ");
            s_put_expr (b, n->check_expr);
        }
        wes_buf_puts (b, ";\n");
    }
    else {
        wes_buf_puts (b, "DROP POLICY ");
        wes_buf_put_ident (b, a->name);
        wes_buf_puts (b, " ON ");
        wes_buf_put_ident (b, t);
        wes_buf_puts (b, ";\n");
        s_put_policy (b, t, n);
    }
    s_put_policy_records (b, t, n);
    st->sql = s_steal (&b);
    //  a policy naming a table created or renamed in this plan waits for it
    for (size_t i = 0; i < P->n_tabs; i++) {
        const s_tabinfo_t *other = &P->tabs[i];
        if ((other->create_step != S_NONE || other->rename_step != S_NONE)
            && strcmp (other->name, t) != 0
            && (s_mentions (n->using_expr, other->name)
                || s_mentions (n->check_expr, other->name))) {
            s_add_fkdep (P, st->seq, other->name, NULL, 0);
        }
    }
    b = wes_buf_new ();
    wes_buf_puts (b, "DROP POLICY IF EXISTS ");
    wes_buf_put_ident (b, n->name);
    wes_buf_puts (b, " ON ");
    wes_buf_put_ident (b, t);
    wes_buf_puts (b, ";\n");
    if (a) {
        s_put_policy (b, t, a);
        s_put_policy_records (b, t, a);
    }
    st->inverse = s_steal (&b);
}

/*  --- dependencies, chains and emission --- */

static void
s_add_fkdep (s_planner_t *P, size_t step, const char *ref_table, char *const *ref_columns,
             size_t n_ref_columns)
{
    if (!ref_table) {
        return;
    }
    P->fkdeps = wes_realloc (P->fkdeps, (P->n_fkdeps + 1) * sizeof *P->fkdeps);
    P->fkdeps[P->n_fkdeps++] = (s_fkdep_t){step, ref_table, ref_columns, n_ref_columns};
}

//  A step that needs another table depends on its creation or rename, and
//  a foreign key on the unique index its key columns get in this plan
static void
s_resolve_fkdeps (s_planner_t *P)
{
    for (size_t i = 0; i < P->n_fkdeps; i++) {
        const s_fkdep_t *d = &P->fkdeps[i];
        s_step_t *st = P->steps[d->step];
        s_tabinfo_t *tab = s_tab (P, d->ref_table);
        if (!tab) {
            continue;
        }
        if (tab->create_step != S_NONE) {
            s_dep (st, tab->create_step);
        }
        if (tab->rename_step != S_NONE) {
            s_dep (st, tab->rename_step);
        }
        for (size_t k = 0; k < P->n_keysteps && d->ref_columns; k++) {
            const s_keystep_t *ks = &P->keysteps[k];
            if (strcmp (ks->table, d->ref_table) != 0 || d->n_ref_columns != ks->con->n_columns) {
                continue;
            }
            bool same = true;
            for (size_t c = 0; c < d->n_ref_columns && same; c++) {
                same = strcmp (d->ref_columns[c], ks->con->columns[c]) == 0;
            }
            if (same && P->steps[ks->step]->phase <= st->phase) {
                s_dep (st, ks->step);
            }
        }
    }
}

//  The steps of one chain (a table, or an enum) run in (phase, sub, seq)
//  order, each after the one before; a contract step also names every
//  earlier step of its table. The first step of a table needs the enum
//  steps its columns' types need.
static int
s_cmp_chain_key (const void *a, const void *b)
{
    const s_step_t *x = *(s_step_t *const *)a;
    const s_step_t *y = *(s_step_t *const *)b;
    int c = strcmp (x->chain, y->chain);
    return c != 0 ? c : s_cmp_chain (a, b);
}

static void
s_chain (s_planner_t *P)
{
    s_step_t **all = wes_alloc ((P->n_steps + 1) * sizeof *all);
    size_t n_all = 0;
    for (size_t i = 0; i < P->n_steps; i++) {
        if (P->steps[i]->chain) {
            all[n_all++] = P->steps[i];
        }
    }
    qsort (all, n_all, sizeof *all, s_cmp_chain_key);
    size_t start = 0;
    while (start < n_all) {
        size_t end = start + 1;
        while (end < n_all && strcmp (all[end]->chain, all[start]->chain) == 0) {
            end++;
        }
        s_step_t **group = all + start;
        size_t n = end - start;
        for (size_t k = 1; k < n; k++) {
            s_dep (group[k], group[k - 1]->seq);
            if (group[k]->phase == WES_PHASE_CONTRACT) {
                for (size_t j = 0; j < k; j++) {
                    if (group[j]->phase != WES_PHASE_CONTRACT) {
                        s_dep (group[k], group[j]->seq);
                    }
                }
            }
        }
        const wes_table_t *t =
            group[0]->table ? wes_model_find_table (P->to, group[0]->table) : NULL;
        for (size_t c = 0; t && c < t->n_columns; c++) {
            char *base = wes_strdup (t->columns[c]->type);
            size_t len = strlen (base);
            while (len >= 2 && strcmp (base + len - 2, "[]") == 0) {
                len -= 2;
                base[len] = '\0';
            }
            size_t slot = wes_model_find_enum (P->to, base) ? s_enum_slot (P, base) : S_NONE;
            if (slot != S_NONE && P->enum_last[slot] != S_NONE) {
                s_dep (group[0], P->enum_last[slot]);
            }
            free (base);
        }
        start = end;
    }
    free (all);
}

static bool
s_heap_less (const s_planner_t *P, size_t a, size_t b)
{
    const s_step_t *x = P->steps[a];
    const s_step_t *y = P->steps[b];
    return x->phase != y->phase ? x->phase < y->phase : x->seq < y->seq;
}

static void
s_heap_push (const s_planner_t *P, size_t *heap, size_t *n, size_t v)
{
    size_t i = (*n)++;
    heap[i] = v;
    while (i > 0 && s_heap_less (P, heap[i], heap[(i - 1) / 2])) {
        size_t parent = (i - 1) / 2;
        size_t tmp = heap[i];
        heap[i] = heap[parent];
        heap[parent] = tmp;
        i = parent;
    }
}

static size_t
s_heap_pop (const s_planner_t *P, size_t *heap, size_t *n)
{
    size_t top = heap[0];
    heap[0] = heap[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < *n && s_heap_less (P, heap[l], heap[m])) {
            m = l;
        }
        if (r < *n && s_heap_less (P, heap[r], heap[m])) {
            m = r;
        }
        if (m == i) {
            break;
        }
        size_t tmp = heap[i];
        heap[i] = heap[m];
        heap[m] = tmp;
        i = m;
    }
    return top;
}

//  Into the plan in a topological order: at each point, the ready step of
//  the earliest phase, then the earliest made
static wes_plan_t *
s_emit (s_planner_t *P, char **error)
{
    char from_hash[65], to_hash[65];
    wes_model_hash (P->from, from_hash);
    wes_model_hash (P->to, to_hash);
    wes_plan_t *plan = wes_plan_new (from_hash, to_hash);
    size_t n = P->n_steps;
    size_t *pending = wes_alloc ((n + 1) * sizeof *pending);
    bool *emitted = wes_alloc ((n + 1) * sizeof *emitted);
    char **ids = wes_alloc ((n + 1) * sizeof *ids);
    //  reverse edges, so that emitting a step updates its dependents only
    size_t *n_users = wes_alloc ((n + 1) * sizeof *n_users);
    size_t **users = wes_alloc ((n + 1) * sizeof *users);
    for (size_t i = 0; i < n; i++) {
        pending[i] = P->steps[i]->n_deps;
        for (size_t d = 0; d < P->steps[i]->n_deps; d++) {
            size_t dep = P->steps[i]->deps[d];
            users[dep] = wes_realloc (users[dep], (n_users[dep] + 1) * sizeof (size_t));
            users[dep][n_users[dep]++] = i;
        }
    }
    //  a binary heap of ready steps, keyed by (phase, seq)
    size_t *heap = wes_alloc ((n + 1) * sizeof *heap);
    size_t n_heap = 0;
    for (size_t i = 0; i < n; i++) {
        if (pending[i] == 0) {
            s_heap_push (P, heap, &n_heap, i);
        }
    }
    for (size_t round = 0; round < n; round++) {
        wes_assert (n_heap > 0); /* the dependencies form a DAG by construction */
        size_t best = s_heap_pop (P, heap, &n_heap);
        s_step_t *s = P->steps[best];
        emitted[best] = true;
        for (size_t u = 0; u < n_users[best]; u++) {
            if (--pending[users[best][u]] == 0) {
                s_heap_push (P, heap, &n_heap, users[best][u]);
            }
        }
        wes_step_t *w = wes_plan_add_step (plan, s->slug, s->phase, s->kind, s->table, s->lock);
        ids[best] = wes_strdup (w->id);
        for (size_t d = 0; d < s->n_deps; d++) {
            wes_step_add_dep (w, ids[s->deps[d]]);
        }
        wes_plan_set (&w->sql, s->sql);
        wes_plan_set (&w->inverse, s->inverse);
        wes_plan_set (&w->summary, s->summary);
        wes_plan_set (&w->verify_index, s->verify_index);
        w->cost = s->cost;
        if (s->kind == WES_STEP_NONTX) {
            w->lock_timeout_ms = P->opts.cic_lock_timeout_ms;
            w->statement_timeout_ms = P->opts.cic_statement_timeout_ms;
        }
        else {
            w->lock_timeout_ms = P->opts.tx_lock_timeout_ms;
            w->statement_timeout_ms = P->opts.tx_statement_timeout_ms;
        }
        if (s->kind == WES_STEP_BATCHED) {
            w->batch_rows = P->opts.batch_rows;
            w->batch_sleep_ms = P->opts.batch_sleep_ms;
            for (size_t k = 0; k < s->n_key; k++) {
                wes_step_add_key (w, s->key_columns[k], s->key_types[k]);
            }
            wes_plan_set (&w->batch_set, s->batch_set);
            wes_plan_set (&w->batch_where, s->batch_where);
        }
    }
    for (size_t i = 0; i < n; i++) {
        free (ids[i]);
        free (users[i]);
    }
    free (heap);
    free (users);
    free (n_users);
    free (ids);
    free (emitted);
    free (pending);
    //  By construction every dependency was emitted first and is of the same
    //  or an earlier phase (what wes_plan_check verifies, in O(steps^2))
    for (size_t i = 0; i < n; i++) {
        for (size_t d = 0; d < P->steps[i]->n_deps; d++) {
            wes_assert (P->steps[P->steps[i]->deps[d]]->phase <= P->steps[i]->phase);
        }
    }
    (void)error;
    return plan;
}

/*  --- helpers --- */

static s_step_t *
s_step (s_planner_t *P, wes_phase_t phase, wes_step_kind_t kind, const char *table, wes_lock_t lock)
{
    if (P->n_steps == P->cap_steps) {
        P->cap_steps = P->cap_steps ? P->cap_steps * 2 : 32;
        P->steps = wes_realloc (P->steps, P->cap_steps * sizeof *P->steps);
    }
    s_step_t *st = wes_new (s_step_t);
    st->phase = phase;
    st->kind = kind;
    st->table = wes_strdup (table);
    st->chain = table ? s_fmt ("table:%s", table) : NULL;
    st->lock = lock;
    st->cost = kind == WES_STEP_NONTX ? 100 : kind == WES_STEP_BATCHED ? 1000 : 1;
    st->seq = P->n_steps;
    P->steps[P->n_steps++] = st;
    return st;
}

static void
s_dep (s_step_t *st, size_t dep)
{
    if (dep == st->seq) {
        return;
    }
    for (size_t i = 0; i < st->n_deps; i++) {
        if (st->deps[i] == dep) {
            return;
        }
    }
    st->deps = wes_realloc (st->deps, (st->n_deps + 1) * sizeof *st->deps);
    st->deps[st->n_deps++] = dep;
}

static void
s_step_free (s_step_t *st)
{
    free (st->table);
    free (st->chain);
    free (st->slug);
    free (st->summary);
    free (st->sql);
    free (st->inverse);
    free (st->verify_index);
    for (size_t i = 0; i < st->n_key; i++) {
        free (st->key_columns[i]);
        free (st->key_types[i]);
    }
    free (st->key_columns);
    free (st->key_types);
    free (st->batch_set);
    free (st->batch_where);
    free (st->deps);
    free (st);
}

static void
s_refuse (s_planner_t *P, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    char line[2048];
    vsnprintf (line, sizeof line, fmt, ap);
    va_end (ap);
    wes_buf_puts (P->refusals, "  ");
    wes_buf_puts (P->refusals, line);
    wes_buf_puts (P->refusals, "\n");
    P->n_refusals++;
}

static char *
s_fmt (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    va_list ap2;
    va_copy (ap2, ap);
    int len = vsnprintf (NULL, 0, fmt, ap);
    va_end (ap);
    wes_assert (len >= 0);
    char *s = wes_alloc ((size_t)len + 1);
    vsnprintf (s, (size_t)len + 1, fmt, ap2);
    va_end (ap2);
    return s;
}

static char *
s_steal (wes_buf_t **b)
{
    char *s = wes_buf_steal (*b);
    wes_buf_destroy (b);
    return s;
}

static size_t
s_enum_slot (const s_planner_t *P, const char *name)
{
    size_t n = wes_model_enum_count (P->to);
    for (size_t i = 0; i < n; i++) {
        if (strcmp (wes_model_enum (P->to, i)->name, name) == 0) {
            return i;
        }
    }
    return S_NONE;
}

//  The name a table of `from` has once expand has run: its new name when a
//  table of `to` was renamed from it
static const char *
s_to_name (const s_planner_t *P, const char *from_name)
{
    if (!from_name || wes_model_find_table (P->to, from_name)) {
        return from_name;
    }
    for (size_t i = 0; i < wes_model_table_count (P->to); i++) {
        const wes_table_t *t = wes_model_table (P->to, i);
        if (t->renamed_from && strcmp (t->renamed_from, from_name) == 0
            && !wes_model_find_table (P->from, t->name)) {
            return t->name;
        }
    }
    return from_name;
}

static int
s_cmp_tab (const void *a, const void *b)
{
    return strcmp (((const s_tabinfo_t *)a)->name, ((const s_tabinfo_t *)b)->name);
}

static s_tabinfo_t *
s_tab (s_planner_t *P, const char *name)
{
    if (!name) {
        return NULL;
    }
    s_tabinfo_t key = {.name = name};
    return bsearch (&key, P->tabs, P->n_tabs, sizeof *P->tabs, s_cmp_tab);
}

static bool
s_claimed (const s_planner_t *P, const char *table, const char *name)
{
    for (size_t i = 0; i < P->n_claims; i++) {
        if (strcmp (P->claims[i].table, table) == 0 && strcmp (P->claims[i].name, name) == 0) {
            return true;
        }
    }
    return false;
}

static void
s_claim (s_planner_t *P, const char *table, const char *name)
{
    P->claims = wes_realloc (P->claims, (P->n_claims + 1) * sizeof *P->claims);
    P->claims[P->n_claims++] = (s_claim_t){table, name};
}

//  A column type; an enum's name (before any []) is quoted like every identifier
static void
s_put_type (const s_planner_t *P, wes_buf_t *b, const char *type)
{
    size_t len = strlen (type);
    size_t base_len = len;
    while (base_len >= 2 && strncmp (type + base_len - 2, "[]", 2) == 0) {
        base_len -= 2;
    }
    char *base = wes_strndup (type, base_len);
    if (base_len > 0 && base[0] != '"'
        && (wes_model_find_enum (P->to, base) || wes_model_find_enum (P->from, base))) {
        wes_buf_put_ident (b, base);
        wes_buf_puts (b, type + base_len);
    }
    else {
        wes_buf_puts (b, type);
    }
    free (base);
}

//  "column", cast to to_type when the types differ
static void
s_put_cast (const s_planner_t *P, wes_buf_t *b, const char *column, const char *from_type,
            const char *to_type)
{
    wes_buf_put_ident (b, column);
    if (strcmp (from_type, to_type) != 0) {
        wes_buf_puts (b, "::");
        s_put_type (P, b, to_type);
    }
}

static void
s_put_idents (wes_buf_t *b, char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        wes_buf_puts (b, i ? ", " : "");
        wes_buf_put_ident (b, v[i]);
    }
}

//  "(expr)"; a line comment at its end can not swallow the parenthesis
static void
s_put_expr (wes_buf_t *b, const char *expr)
{
    const char *last = strrchr (expr, '\n');
    bool comment = strstr (last ? last + 1 : expr, "--") != NULL;
    wes_buf_puts (b, "(");
    wes_buf_puts (b, expr);
    wes_buf_puts (b, comment ? "\n)" : ")");
}

static void
s_put_role (wes_buf_t *b, const char *role)
{
    static const char *keywords[] = {"PUBLIC", "CURRENT_USER", "CURRENT_ROLE", "SESSION_USER",
                                     NULL};
    for (size_t i = 0; keywords[i]; i++) {
        if (strcasecmp (role, keywords[i]) == 0) {
            wes_buf_puts (b, keywords[i]);
            return;
        }
    }
    wes_buf_put_ident (b, role);
}

//  Locks the referenced table of a foreign key before the step touches the
//  child: applications write the parent, then the child, so taking the two
//  locks in the other order could deadlock with them (and PostgreSQL may
//  then cancel the application's transaction)
static void
s_put_lock_parent (wes_buf_t *b, const char *table, const char *parent, const char *mode)
{
    if (!parent || strcmp (parent, table) == 0) {
        return;
    }
    wes_buf_puts (b, "LOCK TABLE ");
    wes_buf_put_ident (b, parent);
    wes_buf_printf (b, " IN %s MODE;\n", mode);
}

static void
s_put_alter (wes_buf_t *b, const char *table)
{
    wes_buf_puts (b, "ALTER TABLE ");
    wes_buf_put_ident (b, table);
}

static void
s_put_fk (wes_buf_t *b, const char *table, const wes_constraint_t *c, bool not_valid)
{
    s_put_alter (b, table);
    wes_buf_puts (b, " ADD CONSTRAINT ");
    wes_buf_put_ident (b, c->name);
    wes_buf_puts (b, " FOREIGN KEY (");
    s_put_idents (b, c->columns, c->n_columns);
    wes_buf_puts (b, ") REFERENCES ");
    wes_buf_put_ident (b, c->ref_table ? c->ref_table : "");
    if (c->n_ref_columns > 0) {
        wes_buf_puts (b, " (");
        s_put_idents (b, c->ref_columns, c->n_ref_columns);
        wes_buf_puts (b, ")");
    }
    if (c->on_delete != WES_FK_NO_ACTION) {
        wes_buf_printf (b, " ON DELETE %s", wes_fk_action_sql (c->on_delete));
    }
    if (c->on_update != WES_FK_NO_ACTION) {
        wes_buf_printf (b, " ON UPDATE %s", wes_fk_action_sql (c->on_update));
    }
    wes_buf_puts (b, not_valid ? " NOT VALID;\n" : ";\n");
}

static void
s_put_check (wes_buf_t *b, const char *table, const wes_constraint_t *c, bool not_valid)
{
    s_put_alter (b, table);
    wes_buf_puts (b, " ADD CONSTRAINT ");
    wes_buf_put_ident (b, c->name);
    wes_buf_puts (b, " CHECK ");
    s_put_expr (b, c->check_expr ? c->check_expr : "true");
    wes_buf_puts (b, not_valid ? " NOT VALID;\n" : ";\n");
}

//  CREATE [UNIQUE] INDEX [CONCURRENTLY IF NOT EXISTS] name ON table USING m
//  (cols) [WHERE (pred)]; key column col_from becomes col_to
static void
s_put_index (wes_buf_t *b, const char *table, const wes_index_t *ix, const char *name,
             bool concurrently, const char *col_from, const char *col_to)
{
    wes_buf_puts (b, ix->unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ");
    if (concurrently) {
        wes_buf_puts (b, "CONCURRENTLY IF NOT EXISTS ");
    }
    wes_buf_put_ident (b, name);
    wes_buf_puts (b, " ON ");
    wes_buf_put_ident (b, table);
    wes_buf_printf (b, " USING %s (", ix->method ? ix->method : "btree");
    for (size_t i = 0; i < ix->n_columns; i++) {
        wes_buf_puts (b, i ? ", " : "");
        bool swap = col_from && strcmp (ix->columns[i], col_from) == 0;
        wes_buf_put_ident (b, swap ? col_to : ix->columns[i]);
    }
    wes_buf_puts (b, ")");
    if (ix->where) {
        wes_buf_puts (b, " WHERE ");
        s_put_expr (b, ix->where);
    }
    wes_buf_puts (b, ";\n");
}

static void
s_put_drop_index (wes_buf_t *b, const char *name)
{
    wes_buf_puts (b, "DROP INDEX CONCURRENTLY IF EXISTS ");
    wes_buf_put_ident (b, name);
    wes_buf_puts (b, ";\n");
}

static void
s_put_policy (wes_buf_t *b, const char *table, const wes_policy_t *p)
{
    wes_buf_puts (b, "CREATE POLICY ");
    wes_buf_put_ident (b, p->name);
    wes_buf_puts (b, " ON ");
    wes_buf_put_ident (b, table);
    wes_buf_printf (b, " AS %s FOR %s TO ", p->permissive ? "PERMISSIVE" : "RESTRICTIVE",
                    wes_policy_cmd_sql (p->cmd));
    if (p->n_roles == 0) {
        wes_buf_puts (b, "PUBLIC");
    }
    for (size_t r = 0; r < p->n_roles; r++) {
        wes_buf_puts (b, r ? ", " : "");
        s_put_role (b, p->roles[r]);
    }
    if (p->using_expr) {
        wes_buf_puts (b, "\n    USING ");
        s_put_expr (b, p->using_expr);
    }
    if (p->check_expr) {
        wes_buf_puts (b, "\n    WITH CHECK ");
        s_put_expr (b, p->check_expr);
    }
    wes_buf_puts (b, ";\n");
}

static void
s_put_policy_records (wes_buf_t *b, const char *table, const wes_policy_t *p)
{
    if (p->using_expr) {
        wes_records_sql (b, "policy_using", table, p->name, p->using_expr);
    }
    if (p->check_expr) {
        wes_records_sql (b, "policy_check", table, p->name, p->check_expr);
    }
}

//  Policies (recorded), then ENABLE: never a moment with RLS on and no policy
static void
s_put_security (wes_buf_t *b, const wes_table_t *t)
{
    wes_policy_t **pols =
        (wes_policy_t **)s_sorted ((void *const *)t->policies, t->n_policies, s_cmp_pol_name);
    for (size_t i = 0; i < t->n_policies; i++) {
        s_put_policy (b, t->name, pols[i]);
        s_put_policy_records (b, t->name, pols[i]);
    }
    free (pols);
    if (t->rls_enabled) {
        s_put_alter (b, t->name);
        wes_buf_puts (b, " ENABLE ROW LEVEL SECURITY;\n");
    }
}

//  A plpgsql trigger function wesley.fn with body, and its BEFORE INSERT OR
//  UPDATE row trigger on table
static void
s_put_sync (const s_planner_t *P, wes_buf_t *b, const char *table, const char *fn, const char *body)
{
    (void)P;
    static const char *tags[] = {"$wes$", "$wes_fn$", "$wes_body$", "$wes_sync_fn$", NULL};
    const char *tag = "$wes_q9x$";
    for (size_t i = 0; tags[i]; i++) {
        if (!strstr (body, tags[i])) {
            tag = tags[i];
            break;
        }
    }
    wes_buf_puts (b, "CREATE SCHEMA IF NOT EXISTS wesley;\nCREATE OR REPLACE FUNCTION wesley.");
    wes_buf_put_ident (b, fn);
    wes_buf_printf (b, "() RETURNS trigger LANGUAGE plpgsql AS %s", tag);
    wes_buf_puts (b, body);
    wes_buf_printf (b, "%s;\nCREATE TRIGGER ", tag);
    wes_buf_put_ident (b, fn);
    wes_buf_puts (b, " BEFORE INSERT OR UPDATE ON ");
    wes_buf_put_ident (b, table);
    wes_buf_puts (b, " FOR EACH ROW EXECUTE FUNCTION wesley.");
    wes_buf_put_ident (b, fn);
    wes_buf_puts (b, "();\n");
}

static void
s_put_drop_sync (wes_buf_t *b, const char *table, const char *fn)
{
    wes_buf_puts (b, "DROP TRIGGER IF EXISTS ");
    wes_buf_put_ident (b, fn);
    wes_buf_puts (b, " ON ");
    wes_buf_put_ident (b, table);
    wes_buf_puts (b, ";\nDROP FUNCTION IF EXISTS wesley.");
    wes_buf_put_ident (b, fn);
    wes_buf_puts (b, "();\n");
}

//  True when expr names `name` as a whole word (plain or double-quoted)
static bool
s_mentions (const char *expr, const char *name)
{
    if (!expr || !name || !name[0]) {
        return false;
    }
    size_t len = strlen (name);
    for (const char *p = strstr (expr, name); p; p = strstr (p + 1, name)) {
        char before = p == expr ? ' ' : p[-1];
        char after = p[len];
        bool word_before = isalnum ((unsigned char)before) || before == '_' || before == '$';
        bool word_after = isalnum ((unsigned char)after) || after == '_' || after == '$';
        if (!word_before && !word_after) {
            return true;
        }
    }
    return false;
}

static bool
s_has (char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp (v[i], s) == 0) {
            return true;
        }
    }
    return false;
}

//  True when the index has the column as a key or names it in its predicate
static bool
s_index_on (const wes_index_t *ix, const char *column)
{
    return s_has (ix->columns, ix->n_columns, column) || s_mentions (ix->where, column);
}

//  A copy of items sorted with cmp (an array of pointers); caller frees
static void **
s_sorted (void *const *items, size_t n, int (*cmp) (const void *, const void *))
{
    void **out = wes_alloc ((n + 1) * sizeof *out);
    if (n > 0) {
        memcpy (out, items, n * sizeof *out);
        qsort (out, n, sizeof *out, cmp);
    }
    return out;
}

static int
s_cmp_col_ordinal (const void *a, const void *b)
{
    const wes_column_t *ca = *(wes_column_t *const *)a;
    const wes_column_t *cb = *(wes_column_t *const *)b;
    if (ca->ordinal != cb->ordinal) {
        return ca->ordinal < cb->ordinal ? -1 : 1;
    }
    return strcmp (ca->name, cb->name);
}

static int
s_cmp_con_name (const void *a, const void *b)
{
    return strcmp ((*(wes_constraint_t *const *)a)->name, (*(wes_constraint_t *const *)b)->name);
}

static int
s_cmp_ix_name (const void *a, const void *b)
{
    return strcmp ((*(wes_index_t *const *)a)->name, (*(wes_index_t *const *)b)->name);
}

static int
s_cmp_pol_name (const void *a, const void *b)
{
    return strcmp ((*(wes_policy_t *const *)a)->name, (*(wes_policy_t *const *)b)->name);
}

static int
s_cmp_chain (const void *a, const void *b)
{
    const s_step_t *x = *(s_step_t *const *)a;
    const s_step_t *y = *(s_step_t *const *)b;
    if (x->phase != y->phase) {
        return x->phase < y->phase ? -1 : 1;
    }
    if (x->sub != y->sub) {
        return x->sub < y->sub ? -1 : 1;
    }
    return x->seq < y->seq ? -1 : x->seq > y->seq ? 1 : 0;
}
