/*  wes_diff.c — the differences between two schema models, in a
    deterministic order, each with a sentence and a JSON form. */
#include "wes_diff.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "util/wes_buf.h"
#include "util/wes_mem.h"

struct wes_diff {
    wes_change_t **changes; /* owned, in order */
    size_t n_changes;       /* changes in use */
    size_t cap_changes;     /* allocated slots */
};

/*  Which table of `from` each table of `to` is compared with. */
typedef struct {
    const wes_model_t *from;   /* borrowed */
    const wes_model_t *to;     /* borrowed */
    const wes_table_t **match; /* per table of `to` (same index): its `from` table, or NULL */
} s_ctx_t;

/*  One table of the merged, name-ordered list. */
typedef struct {
    const char *name;     /* borrowed */
    const wes_table_t *a; /* in `from`, or NULL */
    const wes_table_t *b; /* in `to`, or NULL */
} s_pair_t;

static const char *s_kind_names[] = {"enum_create",         "enum_drop",
                                     "enum_value_add",      "enum_value_remove",
                                     "enum_reorder",        "table_create",
                                     "table_drop",          "table_rename",
                                     "column_add",          "column_drop",
                                     "column_rename",       "column_type",
                                     "column_set_not_null", "column_drop_not_null",
                                     "column_default",      "constraint_add",
                                     "constraint_drop",     "constraint_change",
                                     "index_add",           "index_drop",
                                     "index_change",        "rls_enable",
                                     "rls_disable",         "policy_add",
                                     "policy_drop",         "policy_change",
                                     "constraint_rename",   "index_rename"};

static wes_change_t *s_add (wes_diff_t *self, wes_change_kind_t kind, const char *table,
                            const char *object);
static void s_sentence (wes_change_t *c, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
static void s_diff_enums (wes_diff_t *self, const s_ctx_t *ctx);
static void s_diff_enum (wes_diff_t *self, const wes_enum_t *a, const wes_enum_t *b);
static void s_diff_table (wes_diff_t *self, const s_ctx_t *ctx, const wes_table_t *a,
                          const wes_table_t *b);
static void s_diff_columns (wes_diff_t *self, const wes_table_t *a, const wes_table_t *b);
static void s_diff_constraints (wes_diff_t *self, const s_ctx_t *ctx, const wes_table_t *a,
                                const wes_table_t *b);
static void s_diff_indexes (wes_diff_t *self, const wes_table_t *a, const wes_table_t *b);
static void s_diff_policies (wes_diff_t *self, const wes_table_t *a, const wes_table_t *b);
static char *s_enum_values (const wes_enum_t *e);
static bool s_same_str (const char *a, const char *b);
static bool s_same_strv (char *const *a, size_t na, char *const *b, size_t nb);
static bool s_same_constraint (const s_ctx_t *ctx, const wes_constraint_t *a,
                               const wes_constraint_t *b);
static bool s_same_index (const wes_index_t *a, const wes_index_t *b);
static bool s_same_policy (const wes_policy_t *a, const wes_policy_t *b);
static const char *s_renamed_ref (const s_ctx_t *ctx, const char *from_name);
static void s_put_list (wes_buf_t *b, char *const *v, size_t n);
static void s_put_paren (wes_buf_t *b, const char *expr);
static int s_cmp_str (const void *a, const void *b);
static char **s_sorted_names (size_t n, const char *(*name_at) (const void *, size_t),
                              const void *arg, size_t *n_out);
static ssize_t s_enum_index (const wes_enum_t *e, const char *value);
static char *s_follow_rename (const wes_table_t *a, const wes_table_t *b, const char *name);
static bool s_renamed_into (const wes_diff_t *self, const char *table, const char *name);

wes_diff_t *
wes_diff_new (const wes_model_t *from, const wes_model_t *to)
{
    wes_assert (from && to);
    wes_diff_t *self = wes_new (wes_diff_t);
    s_ctx_t ctx = {.from = from, .to = to};
    size_t n_to = wes_model_table_count (to);
    size_t n_from = wes_model_table_count (from);
    ctx.match = wes_alloc ((n_to + 1) * sizeof *ctx.match);
    bool *consumed = wes_alloc ((n_from + 1) * sizeof *consumed);

    //  Match tables: same name first, then declared renames
    for (size_t i = 0; i < n_to; i++) {
        const wes_table_t *t = wes_model_table (to, i);
        ctx.match[i] = wes_model_find_table (from, t->name);
    }
    for (size_t i = 0; i < n_to; i++) {
        const wes_table_t *t = wes_model_table (to, i);
        if (ctx.match[i] || !t->renamed_from) {
            continue;
        }
        const wes_table_t *old = wes_model_find_table (from, t->renamed_from);
        if (!old || wes_model_find_table (to, t->renamed_from)) {
            continue;
        }
        bool taken = false;
        for (size_t j = 0; j < n_to; j++) {
            taken = taken || ctx.match[j] == old;
        }
        if (!taken) {
            ctx.match[i] = old;
        }
    }
    for (size_t j = 0; j < n_from; j++) {
        const wes_table_t *t = wes_model_table (from, j);
        for (size_t i = 0; i < n_to && !consumed[j]; i++) {
            consumed[j] = ctx.match[i] == t;
        }
    }

    s_diff_enums (self, &ctx);

    //  Tables of `to` and dropped tables of `from`, merged by name
    size_t n_all = n_to;
    for (size_t j = 0; j < n_from; j++) {
        n_all += consumed[j] ? 0 : 1;
    }
    s_pair_t *pairs = wes_alloc ((n_all + 1) * sizeof *pairs);
    size_t k = 0;
    for (size_t i = 0; i < n_to; i++) {
        const wes_table_t *t = wes_model_table (to, i);
        pairs[k++] = (s_pair_t){t->name, ctx.match[i], t};
    }
    for (size_t j = 0; j < n_from; j++) {
        if (!consumed[j]) {
            const wes_table_t *t = wes_model_table (from, j);
            pairs[k++] = (s_pair_t){t->name, t, NULL};
        }
    }
    //  names are unique within each side, and a dropped table's name is
    //  never a name of `to`, so the order is total
    for (size_t i = 1; i < n_all; i++) {
        s_pair_t p = pairs[i];
        size_t j = i;
        while (j > 0 && strcmp (pairs[j - 1].name, p.name) > 0) {
            pairs[j] = pairs[j - 1];
            j--;
        }
        pairs[j] = p;
    }
    for (size_t i = 0; i < n_all; i++) {
        s_diff_table (self, &ctx, pairs[i].a, pairs[i].b);
    }
    free (pairs);
    free (consumed);
    free (ctx.match);
    return self;
}

void
wes_diff_destroy (wes_diff_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wes_diff_t *self = *self_p;
    for (size_t i = 0; i < self->n_changes; i++) {
        wes_change_t *c = self->changes[i];
        free (c->table);
        free (c->object);
        free (c->old_name);
        free (c->value);
        free (c->anchor);
        free (c->from_def);
        free (c->to_def);
        free (c->sentence);
        free (c);
    }
    free (self->changes);
    free (self);
    *self_p = NULL;
}

size_t
wes_diff_count (const wes_diff_t *self)
{
    wes_assert (self);
    return self->n_changes;
}

const wes_change_t *
wes_diff_change (const wes_diff_t *self, size_t i)
{
    wes_assert (self && i < self->n_changes);
    return self->changes[i];
}

const char *
wes_change_kind_name (wes_change_kind_t kind)
{
    size_t n = sizeof s_kind_names / sizeof s_kind_names[0];
    return (size_t)kind < n ? s_kind_names[kind] : "unknown";
}

json_t *
wes_change_to_json (const wes_change_t *c)
{
    json_t *j = json_object ();
    wes_assert (j);
    json_object_set_new (j, "kind", json_string (wes_change_kind_name (c->kind)));
    const char *keys[] = {"table", "object", "old_name", "value", "anchor", "from", "to"};
    const char *vals[] = {c->table,  c->object,   c->old_name, c->value,
                          c->anchor, c->from_def, c->to_def};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (vals[i]) {
            json_object_set_new (j, keys[i], json_string (vals[i]));
        }
    }
    if (c->kind == WES_CHANGE_ENUM_VALUE_ADD && c->anchor) {
        json_object_set_new (j, "position", json_string (c->anchor_before ? "before" : "after"));
    }
    json_object_set_new (j, "sentence", json_string (c->sentence ? c->sentence : ""));
    return j;
}

json_t *
wes_diff_to_json (const wes_diff_t *self)
{
    wes_assert (self);
    json_t *arr = json_array ();
    wes_assert (arr);
    for (size_t i = 0; i < self->n_changes; i++) {
        json_array_append_new (arr, wes_change_to_json (self->changes[i]));
    }
    return arr;
}

char *
wes_diff_column_def (const wes_column_t *c)
{
    wes_buf_t *b = wes_buf_new ();
    wes_buf_puts (b, c->type ? c->type : "?");
    if (c->not_null) {
        wes_buf_puts (b, " NOT NULL");
    }
    if (c->default_expr) {
        wes_buf_puts (b, " DEFAULT ");
        wes_buf_puts (b, c->default_expr);
    }
    char *s = wes_buf_steal (b);
    wes_buf_destroy (&b);
    return s;
}

char *
wes_diff_constraint_def (const wes_constraint_t *c)
{
    wes_buf_t *b = wes_buf_new ();
    switch (c->kind) {
    case WES_CON_PRIMARY:
    case WES_CON_UNIQUE:
        wes_buf_puts (b, c->kind == WES_CON_PRIMARY ? "PRIMARY KEY (" : "UNIQUE (");
        s_put_list (b, c->columns, c->n_columns);
        wes_buf_puts (b, ")");
        break;
    case WES_CON_FOREIGN:
        wes_buf_puts (b, "FOREIGN KEY (");
        s_put_list (b, c->columns, c->n_columns);
        wes_buf_printf (b, ") REFERENCES %s (", c->ref_table ? c->ref_table : "?");
        s_put_list (b, c->ref_columns, c->n_ref_columns);
        wes_buf_puts (b, ")");
        if (c->on_delete != WES_FK_NO_ACTION) {
            wes_buf_printf (b, " ON DELETE %s", wes_fk_action_sql (c->on_delete));
        }
        if (c->on_update != WES_FK_NO_ACTION) {
            wes_buf_printf (b, " ON UPDATE %s", wes_fk_action_sql (c->on_update));
        }
        break;
    case WES_CON_CHECK:
        wes_buf_puts (b, "CHECK ");
        s_put_paren (b, c->check_expr ? c->check_expr : "true");
        break;
    }
    char *s = wes_buf_steal (b);
    wes_buf_destroy (&b);
    return s;
}

char *
wes_diff_index_def (const wes_index_t *ix)
{
    wes_buf_t *b = wes_buf_new ();
    wes_buf_printf (b, "%s%s (", ix->unique ? "UNIQUE " : "", ix->method ? ix->method : "btree");
    s_put_list (b, ix->columns, ix->n_columns);
    wes_buf_puts (b, ")");
    if (ix->where) {
        wes_buf_puts (b, " WHERE ");
        s_put_paren (b, ix->where);
    }
    char *s = wes_buf_steal (b);
    wes_buf_destroy (&b);
    return s;
}

char *
wes_diff_policy_def (const wes_policy_t *p)
{
    wes_buf_t *b = wes_buf_new ();
    wes_buf_printf (b, "%s FOR %s TO ", p->permissive ? "PERMISSIVE" : "RESTRICTIVE",
                    wes_policy_cmd_sql (p->cmd));
    if (p->n_roles == 0) {
        wes_buf_puts (b, "PUBLIC");
    }
    else {
        char **roles = wes_alloc (p->n_roles * sizeof *roles);
        memcpy (roles, p->roles, p->n_roles * sizeof *roles);
        qsort (roles, p->n_roles, sizeof *roles, s_cmp_str);
        s_put_list (b, roles, p->n_roles);
        free (roles);
    }
    if (p->using_expr) {
        wes_buf_puts (b, " USING ");
        s_put_paren (b, p->using_expr);
    }
    if (p->check_expr) {
        wes_buf_puts (b, " WITH CHECK ");
        s_put_paren (b, p->check_expr);
    }
    char *s = wes_buf_steal (b);
    wes_buf_destroy (&b);
    return s;
}

/*  --- enums --- */

static const char *
s_enum_name_at (const void *arg, size_t i)
{
    return wes_model_enum ((const wes_model_t *)arg, i)->name;
}

static void
s_diff_enums (wes_diff_t *self, const s_ctx_t *ctx)
{
    size_t n_to = 0, n_from = 0;
    char **to_names =
        s_sorted_names (wes_model_enum_count (ctx->to), s_enum_name_at, ctx->to, &n_to);
    char **from_names =
        s_sorted_names (wes_model_enum_count (ctx->from), s_enum_name_at, ctx->from, &n_from);
    size_t i = 0, j = 0;
    while (i < n_to || j < n_from) {
        int cmp = i == n_to ? 1 : j == n_from ? -1 : strcmp (to_names[i], from_names[j]);
        if (cmp < 0) {
            const wes_enum_t *b = wes_model_find_enum (ctx->to, to_names[i++]);
            wes_change_t *c = s_add (self, WES_CHANGE_ENUM_CREATE, NULL, b->name);
            c->to_enum = b;
            c->to_def = s_enum_values (b);
            s_sentence (c, "enum %s: absent, expected %s", b->name, c->to_def);
        }
        else if (cmp > 0) {
            const wes_enum_t *a = wes_model_find_enum (ctx->from, from_names[j++]);
            wes_change_t *c = s_add (self, WES_CHANGE_ENUM_DROP, NULL, a->name);
            c->from_enum = a;
            c->from_def = s_enum_values (a);
            s_sentence (c, "enum %s: present %s, not expected", a->name, c->from_def);
        }
        else {
            s_diff_enum (self, wes_model_find_enum (ctx->from, from_names[j++]),
                         wes_model_find_enum (ctx->to, to_names[i++]));
        }
    }
    free (to_names);
    free (from_names);
}

static void
s_diff_enum (wes_diff_t *self, const wes_enum_t *a, const wes_enum_t *b)
{
    //  Values both have must keep their relative order
    ssize_t last = -1;
    bool reordered = false;
    for (size_t i = 0; i < b->n_values; i++) {
        ssize_t at = s_enum_index (a, b->values[i]);
        if (at < 0) {
            continue;
        }
        if (at < last) {
            reordered = true;
        }
        last = at;
    }
    //  Added values, in order: each after its predecessor in `to` (which
    //  exists by then), the first before the first value both have
    for (size_t i = 0; i < b->n_values; i++) {
        if (s_enum_index (a, b->values[i]) >= 0) {
            continue;
        }
        wes_change_t *c = s_add (self, WES_CHANGE_ENUM_VALUE_ADD, NULL, b->name);
        c->from_enum = a;
        c->to_enum = b;
        c->value = wes_strdup (b->values[i]);
        if (i > 0) {
            c->anchor = wes_strdup (b->values[i - 1]);
        }
        else {
            for (size_t k = 1; k < b->n_values; k++) {
                if (s_enum_index (a, b->values[k]) >= 0) {
                    c->anchor = wes_strdup (b->values[k]);
                    c->anchor_before = true;
                    break;
                }
            }
        }
        if (c->anchor) {
            s_sentence (c, "enum %s: value '%s' absent, expected %s '%s'", b->name, c->value,
                        c->anchor_before ? "before" : "after", c->anchor);
        }
        else {
            s_sentence (c, "enum %s: value '%s' absent, expected", b->name, c->value);
        }
    }
    for (size_t i = 0; i < a->n_values; i++) {
        if (s_enum_index (b, a->values[i]) >= 0) {
            continue;
        }
        wes_change_t *c = s_add (self, WES_CHANGE_ENUM_VALUE_REMOVE, NULL, a->name);
        c->from_enum = a;
        c->to_enum = b;
        c->value = wes_strdup (a->values[i]);
        s_sentence (c, "enum %s: value '%s' present, not expected", a->name, c->value);
    }
    if (reordered) {
        wes_change_t *c = s_add (self, WES_CHANGE_ENUM_REORDER, NULL, b->name);
        c->from_enum = a;
        c->to_enum = b;
        c->from_def = s_enum_values (a);
        c->to_def = s_enum_values (b);
        s_sentence (c, "enum %s: values %s, expected %s", b->name, c->from_def, c->to_def);
    }
}

/*  --- tables --- */

static void
s_diff_table (wes_diff_t *self, const s_ctx_t *ctx, const wes_table_t *a, const wes_table_t *b)
{
    if (!a) {
        wes_change_t *c = s_add (self, WES_CHANGE_TABLE_CREATE, b->name, NULL);
        c->to_table = b;
        s_sentence (c, "table %s: absent, expected", b->name);
        return;
    }
    if (!b) {
        wes_change_t *c = s_add (self, WES_CHANGE_TABLE_DROP, a->name, NULL);
        c->from_table = a;
        s_sentence (c, "table %s: present, not expected", a->name);
        return;
    }
    if (strcmp (a->name, b->name) != 0) {
        wes_change_t *c = s_add (self, WES_CHANGE_TABLE_RENAME, b->name, NULL);
        c->from_table = a;
        c->to_table = b;
        c->old_name = wes_strdup (a->name);
        s_sentence (c, "table %s: named %s, expected %s (renamed)", b->name, a->name, b->name);
    }
    s_diff_columns (self, a, b);
    s_diff_constraints (self, ctx, a, b);
    s_diff_indexes (self, a, b);
    if (a->rls_enabled != b->rls_enabled) {
        wes_change_t *c = s_add (
            self, b->rls_enabled ? WES_CHANGE_RLS_ENABLE : WES_CHANGE_RLS_DISABLE, b->name, NULL);
        c->from_table = a;
        c->to_table = b;
        s_sentence (c, "table %s: row-level security %s, expected %s", b->name,
                    a->rls_enabled ? "on" : "off", b->rls_enabled ? "on" : "off");
    }
    s_diff_policies (self, a, b);
}

static const char *
s_column_name_at (const void *arg, size_t i)
{
    return ((const wes_table_t *)arg)->columns[i]->name;
}

static void
s_diff_columns (wes_diff_t *self, const wes_table_t *a, const wes_table_t *b)
{
    //  Declared renames: the old column exists in a, not in b, and the new
    //  name is not in a; each old column serves one rename
    size_t n_from = 0;
    char **from_names = s_sorted_names (a->n_columns, s_column_name_at, a, &n_from);
    bool *consumed = wes_alloc ((n_from + 1) * sizeof *consumed);
    size_t n_to = 0;
    char **to_names = s_sorted_names (b->n_columns, s_column_name_at, b, &n_to);
    const wes_column_t **renamed = wes_alloc ((n_to + 1) * sizeof *renamed);
    for (size_t i = 0; i < n_to; i++) {
        const wes_column_t *cb = wes_table_find_column (b, to_names[i]);
        if (wes_table_find_column (a, cb->name) || !cb->renamed_from
            || wes_table_find_column (b, cb->renamed_from)) {
            continue;
        }
        for (size_t j = 0; j < n_from; j++) {
            if (!consumed[j] && strcmp (from_names[j], cb->renamed_from) == 0) {
                consumed[j] = true;
                renamed[i] = wes_table_find_column (a, from_names[j]);
            }
        }
    }
    for (size_t j = 0; j < n_from; j++) {
        consumed[j] = consumed[j] || wes_table_find_column (b, from_names[j]) != NULL;
    }

    size_t i = 0, j = 0;
    while (i < n_to || j < n_from) {
        if (j < n_from && consumed[j]) {
            j++;
            continue;
        }
        int cmp = i == n_to ? 1 : j == n_from ? -1 : strcmp (to_names[i], from_names[j]);
        if (cmp > 0) {
            const wes_column_t *ca = wes_table_find_column (a, from_names[j++]);
            wes_change_t *c = s_add (self, WES_CHANGE_COLUMN_DROP, b->name, ca->name);
            c->from_table = a;
            c->to_table = b;
            c->from_column = ca;
            c->from_def = wes_diff_column_def (ca);
            s_sentence (c, "column %s.%s: present (%s), not expected", b->name, ca->name,
                        c->from_def);
            continue;
        }
        const wes_column_t *cb = wes_table_find_column (b, to_names[i]);
        const wes_column_t *ca = wes_table_find_column (a, to_names[i]);
        const wes_column_t *old = renamed[i];
        i++;
        if (old) {
            wes_change_t *c = s_add (self, WES_CHANGE_COLUMN_RENAME, b->name, cb->name);
            c->from_table = a;
            c->to_table = b;
            c->from_column = old;
            c->to_column = cb;
            c->old_name = wes_strdup (old->name);
            c->from_def = wes_diff_column_def (old);
            c->to_def = wes_diff_column_def (cb);
            s_sentence (c, "column %s.%s: named %s, expected %s (renamed)", b->name, cb->name,
                        old->name, cb->name);
            continue;
        }
        if (!ca) {
            wes_change_t *c = s_add (self, WES_CHANGE_COLUMN_ADD, b->name, cb->name);
            c->from_table = a;
            c->to_table = b;
            c->to_column = cb;
            c->to_def = wes_diff_column_def (cb);
            s_sentence (c, "column %s.%s: absent, expected %s", b->name, cb->name, c->to_def);
            continue;
        }
        if (!s_same_str (ca->type, cb->type)) {
            wes_change_t *c = s_add (self, WES_CHANGE_COLUMN_TYPE, b->name, cb->name);
            c->from_table = a;
            c->to_table = b;
            c->from_column = ca;
            c->to_column = cb;
            c->from_def = wes_strdup (ca->type);
            c->to_def = wes_strdup (cb->type);
            s_sentence (c, "column %s.%s: type %s, expected %s", b->name, cb->name, ca->type,
                        cb->type);
        }
        if (ca->not_null != cb->not_null) {
            wes_change_t *c = s_add (self,
                                     cb->not_null ? WES_CHANGE_COLUMN_SET_NOT_NULL
                                                  : WES_CHANGE_COLUMN_DROP_NOT_NULL,
                                     b->name, cb->name);
            c->from_table = a;
            c->to_table = b;
            c->from_column = ca;
            c->to_column = cb;
            s_sentence (c, "column %s.%s: %s, expected %s", b->name, cb->name,
                        ca->not_null ? "NOT NULL" : "nullable",
                        cb->not_null ? "NOT NULL" : "nullable");
        }
        if (!s_same_str (ca->default_expr, cb->default_expr)) {
            wes_change_t *c = s_add (self, WES_CHANGE_COLUMN_DEFAULT, b->name, cb->name);
            c->from_table = a;
            c->to_table = b;
            c->from_column = ca;
            c->to_column = cb;
            c->from_def = wes_strdup (ca->default_expr);
            c->to_def = wes_strdup (cb->default_expr);
            s_sentence (c, "column %s.%s: default %s, expected %s", b->name, cb->name,
                        ca->default_expr ? ca->default_expr : "none",
                        cb->default_expr ? cb->default_expr : "none");
        }
    }
    free (renamed);
    free (to_names);
    free (consumed);
    free (from_names);
}

static const char *
s_constraint_name_at (const void *arg, size_t i)
{
    return ((const wes_table_t *)arg)->constraints[i]->name;
}

static const wes_constraint_t *
s_find_constraint (const wes_table_t *t, const char *name)
{
    for (size_t i = 0; i < t->n_constraints; i++) {
        if (strcmp (t->constraints[i]->name, name) == 0) {
            return t->constraints[i];
        }
    }
    return NULL;
}

static void
s_diff_constraints (wes_diff_t *self, const s_ctx_t *ctx, const wes_table_t *a,
                    const wes_table_t *b)
{
    size_t n_to = 0, n_from = 0;
    char **to_names = s_sorted_names (b->n_constraints, s_constraint_name_at, b, &n_to);
    char **from_names = s_sorted_names (a->n_constraints, s_constraint_name_at, a, &n_from);
    //  in a renamed table, names that followed the table's name
    for (size_t k = 0; k < n_from; k++) {
        char *to_name = s_follow_rename (a, b, from_names[k]);
        const wes_constraint_t *x = to_name ? s_find_constraint (b, to_name) : NULL;
        const wes_constraint_t *o = s_find_constraint (a, from_names[k]);
        if (x && s_same_constraint (ctx, o, x)) {
            wes_change_t *c = s_add (self, WES_CHANGE_CONSTRAINT_RENAME, b->name, x->name);
            c->from_table = a;
            c->to_table = b;
            c->from_constraint = o;
            c->to_constraint = x;
            c->old_name = wes_strdup (o->name);
            s_sentence (c, "constraint %s.%s: named %s, expected %s (the table was renamed)",
                        b->name, x->name, o->name, x->name);
            from_names[k] = NULL;
        }
        free (to_name);
    }
    size_t i = 0, j = 0;
    while (i < n_to || j < n_from) {
        if (j < n_from && !from_names[j]) {
            j++;
            continue;
        }
        if (i < n_to && s_renamed_into (self, b->name, to_names[i])) {
            i++;
            continue;
        }
        int cmp = i == n_to ? 1 : j == n_from ? -1 : strcmp (to_names[i], from_names[j]);
        const wes_constraint_t *ca = cmp >= 0 ? s_find_constraint (a, from_names[j++]) : NULL;
        const wes_constraint_t *cb = cmp <= 0 ? s_find_constraint (b, to_names[i++]) : NULL;
        wes_change_t *c = NULL;
        if (!ca) {
            c = s_add (self, WES_CHANGE_CONSTRAINT_ADD, b->name, cb->name);
        }
        else if (!cb) {
            c = s_add (self, WES_CHANGE_CONSTRAINT_DROP, b->name, ca->name);
        }
        else if (!s_same_constraint (ctx, ca, cb)) {
            c = s_add (self, WES_CHANGE_CONSTRAINT_CHANGE, b->name, cb->name);
        }
        if (!c) {
            continue;
        }
        c->from_table = a;
        c->to_table = b;
        c->from_constraint = ca;
        c->to_constraint = cb;
        c->from_def = ca ? wes_diff_constraint_def (ca) : NULL;
        c->to_def = cb ? wes_diff_constraint_def (cb) : NULL;
        if (!ca) {
            s_sentence (c, "constraint %s.%s: absent, expected %s", b->name, c->object, c->to_def);
        }
        else if (!cb) {
            s_sentence (c, "constraint %s.%s: present (%s), not expected", b->name, c->object,
                        c->from_def);
        }
        else {
            s_sentence (c, "constraint %s.%s: %s, expected %s", b->name, c->object, c->from_def,
                        c->to_def);
        }
    }
    free (to_names);
    free (from_names);
}

static const char *
s_index_name_at (const void *arg, size_t i)
{
    return ((const wes_table_t *)arg)->indexes[i]->name;
}

static const wes_index_t *
s_find_index (const wes_table_t *t, const char *name)
{
    for (size_t i = 0; i < t->n_indexes; i++) {
        if (strcmp (t->indexes[i]->name, name) == 0) {
            return t->indexes[i];
        }
    }
    return NULL;
}

static void
s_diff_indexes (wes_diff_t *self, const wes_table_t *a, const wes_table_t *b)
{
    size_t n_to = 0, n_from = 0;
    char **to_names = s_sorted_names (b->n_indexes, s_index_name_at, b, &n_to);
    char **from_names = s_sorted_names (a->n_indexes, s_index_name_at, a, &n_from);
    for (size_t k = 0; k < n_from; k++) {
        char *to_name = s_follow_rename (a, b, from_names[k]);
        const wes_index_t *x = to_name ? s_find_index (b, to_name) : NULL;
        const wes_index_t *o = s_find_index (a, from_names[k]);
        if (x && s_same_index (o, x)) {
            wes_change_t *c = s_add (self, WES_CHANGE_INDEX_RENAME, b->name, x->name);
            c->from_table = a;
            c->to_table = b;
            c->from_index = o;
            c->to_index = x;
            c->old_name = wes_strdup (o->name);
            s_sentence (c, "index %s.%s: named %s, expected %s (the table was renamed)", b->name,
                        x->name, o->name, x->name);
            from_names[k] = NULL;
        }
        free (to_name);
    }
    size_t i = 0, j = 0;
    while (i < n_to || j < n_from) {
        if (j < n_from && !from_names[j]) {
            j++;
            continue;
        }
        if (i < n_to && s_renamed_into (self, b->name, to_names[i])) {
            i++;
            continue;
        }
        int cmp = i == n_to ? 1 : j == n_from ? -1 : strcmp (to_names[i], from_names[j]);
        const wes_index_t *xa = cmp >= 0 ? s_find_index (a, from_names[j++]) : NULL;
        const wes_index_t *xb = cmp <= 0 ? s_find_index (b, to_names[i++]) : NULL;
        wes_change_t *c = NULL;
        if (!xa) {
            c = s_add (self, WES_CHANGE_INDEX_ADD, b->name, xb->name);
        }
        else if (!xb) {
            c = s_add (self, WES_CHANGE_INDEX_DROP, b->name, xa->name);
        }
        else if (!s_same_index (xa, xb)) {
            c = s_add (self, WES_CHANGE_INDEX_CHANGE, b->name, xb->name);
        }
        if (!c) {
            continue;
        }
        c->from_table = a;
        c->to_table = b;
        c->from_index = xa;
        c->to_index = xb;
        c->from_def = xa ? wes_diff_index_def (xa) : NULL;
        c->to_def = xb ? wes_diff_index_def (xb) : NULL;
        if (!xa) {
            s_sentence (c, "index %s.%s: absent, expected %s", b->name, c->object, c->to_def);
        }
        else if (!xb) {
            s_sentence (c, "index %s.%s: present (%s), not expected", b->name, c->object,
                        c->from_def);
        }
        else {
            s_sentence (c, "index %s.%s: %s, expected %s", b->name, c->object, c->from_def,
                        c->to_def);
        }
    }
    free (to_names);
    free (from_names);
}

static const char *
s_policy_name_at (const void *arg, size_t i)
{
    return ((const wes_table_t *)arg)->policies[i]->name;
}

static const wes_policy_t *
s_find_policy (const wes_table_t *t, const char *name)
{
    for (size_t i = 0; i < t->n_policies; i++) {
        if (strcmp (t->policies[i]->name, name) == 0) {
            return t->policies[i];
        }
    }
    return NULL;
}

static void
s_diff_policies (wes_diff_t *self, const wes_table_t *a, const wes_table_t *b)
{
    size_t n_to = 0, n_from = 0;
    char **to_names = s_sorted_names (b->n_policies, s_policy_name_at, b, &n_to);
    char **from_names = s_sorted_names (a->n_policies, s_policy_name_at, a, &n_from);
    size_t i = 0, j = 0;
    while (i < n_to || j < n_from) {
        int cmp = i == n_to ? 1 : j == n_from ? -1 : strcmp (to_names[i], from_names[j]);
        const wes_policy_t *pa = cmp >= 0 ? s_find_policy (a, from_names[j++]) : NULL;
        const wes_policy_t *pb = cmp <= 0 ? s_find_policy (b, to_names[i++]) : NULL;
        wes_change_t *c = NULL;
        if (!pa) {
            c = s_add (self, WES_CHANGE_POLICY_ADD, b->name, pb->name);
        }
        else if (!pb) {
            c = s_add (self, WES_CHANGE_POLICY_DROP, b->name, pa->name);
        }
        else if (!s_same_policy (pa, pb)) {
            c = s_add (self, WES_CHANGE_POLICY_CHANGE, b->name, pb->name);
        }
        if (!c) {
            continue;
        }
        c->from_table = a;
        c->to_table = b;
        c->from_policy = pa;
        c->to_policy = pb;
        c->from_def = pa ? wes_diff_policy_def (pa) : NULL;
        c->to_def = pb ? wes_diff_policy_def (pb) : NULL;
        if (!pa) {
            s_sentence (c, "policy %s.%s: absent, expected %s", b->name, c->object, c->to_def);
        }
        else if (!pb) {
            s_sentence (c, "policy %s.%s: present (%s), not expected", b->name, c->object,
                        c->from_def);
        }
        else {
            s_sentence (c, "policy %s.%s: %s, expected %s", b->name, c->object, c->from_def,
                        c->to_def);
        }
    }
    free (to_names);
    free (from_names);
}

/*  --- helpers --- */

static wes_change_t *
s_add (wes_diff_t *self, wes_change_kind_t kind, const char *table, const char *object)
{
    if (self->n_changes == self->cap_changes) {
        self->cap_changes = self->cap_changes ? self->cap_changes * 2 : 16;
        self->changes = wes_realloc (self->changes, self->cap_changes * sizeof (wes_change_t *));
    }
    wes_change_t *c = wes_new (wes_change_t);
    c->kind = kind;
    c->table = wes_strdup (table);
    c->object = wes_strdup (object);
    self->changes[self->n_changes++] = c;
    return c;
}

static void
s_sentence (wes_change_t *c, const char *fmt, ...)
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
    free (c->sentence);
    c->sentence = s;
}

//  ('a', 'b')
static char *
s_enum_values (const wes_enum_t *e)
{
    wes_buf_t *b = wes_buf_new ();
    wes_buf_puts (b, "(");
    for (size_t i = 0; i < e->n_values; i++) {
        if (i > 0) {
            wes_buf_puts (b, ", ");
        }
        wes_buf_put_literal (b, e->values[i]);
    }
    wes_buf_puts (b, ")");
    char *s = wes_buf_steal (b);
    wes_buf_destroy (&b);
    return s;
}

static ssize_t
s_enum_index (const wes_enum_t *e, const char *value)
{
    for (size_t i = 0; i < e->n_values; i++) {
        if (strcmp (e->values[i], value) == 0) {
            return (ssize_t)i;
        }
    }
    return -1;
}

static bool
s_same_str (const char *a, const char *b)
{
    if (!a || !b) {
        return a == b;
    }
    return strcmp (a, b) == 0;
}

static bool
s_same_strv (char *const *a, size_t na, char *const *b, size_t nb)
{
    if (na != nb) {
        return false;
    }
    for (size_t i = 0; i < na; i++) {
        if (!s_same_str (a[i], b[i])) {
            return false;
        }
    }
    return true;
}

//  The `to` name of a table `from` calls from_name (it may have been renamed)
static const char *
s_renamed_ref (const s_ctx_t *ctx, const char *from_name)
{
    if (!from_name) {
        return NULL;
    }
    size_t n = wes_model_table_count (ctx->to);
    for (size_t i = 0; i < n; i++) {
        if (ctx->match[i] && strcmp (ctx->match[i]->name, from_name) == 0) {
            return wes_model_table (ctx->to, i)->name;
        }
    }
    return from_name;
}

static bool
s_same_constraint (const s_ctx_t *ctx, const wes_constraint_t *a, const wes_constraint_t *b)
{
    if (a->kind != b->kind || !s_same_strv (a->columns, a->n_columns, b->columns, b->n_columns)) {
        return false;
    }
    if (a->kind == WES_CON_FOREIGN) {
        return s_same_str (s_renamed_ref (ctx, a->ref_table), b->ref_table)
               && s_same_strv (a->ref_columns, a->n_ref_columns, b->ref_columns, b->n_ref_columns)
               && a->on_delete == b->on_delete && a->on_update == b->on_update;
    }
    if (a->kind == WES_CON_CHECK) {
        return s_same_str (a->check_expr, b->check_expr);
    }
    return true;
}

static bool
s_same_index (const wes_index_t *a, const wes_index_t *b)
{
    return s_same_strv (a->columns, a->n_columns, b->columns, b->n_columns)
           && s_same_str (a->method ? a->method : "btree", b->method ? b->method : "btree")
           && a->unique == b->unique && s_same_str (a->where, b->where);
}

static bool
s_same_policy (const wes_policy_t *a, const wes_policy_t *b)
{
    if (a->cmd != b->cmd || a->permissive != b->permissive
        || !s_same_str (a->using_expr, b->using_expr)
        || !s_same_str (a->check_expr, b->check_expr)) {
        return false;
    }
    char *da = wes_diff_policy_def (a);
    char *db = wes_diff_policy_def (b);
    bool same = strcmp (da, db) == 0; /* roles compared sorted */
    free (da);
    free (db);
    return same;
}

static void
s_put_list (wes_buf_t *b, char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            wes_buf_puts (b, ", ");
        }
        wes_buf_puts (b, v[i]);
    }
}

static void
s_put_paren (wes_buf_t *b, const char *expr)
{
    wes_buf_puts (b, "(");
    wes_buf_puts (b, expr);
    wes_buf_puts (b, ")");
}

static int
s_cmp_str (const void *a, const void *b)
{
    return strcmp (*(char *const *)a, *(char *const *)b);
}

//  The n names given by name_at, sorted (borrowed strings; array caller frees)
static char **
s_sorted_names (size_t n, const char *(*name_at) (const void *, size_t), const void *arg,
                size_t *n_out)
{
    char **v = wes_alloc ((n + 1) * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        v[i] = (char *)name_at (arg, i);
    }
    if (n > 1) {
        qsort (v, n, sizeof *v, s_cmp_str);
    }
    *n_out = n;
    return v;
}

//  In a table renamed a -> b, the name `name` of a with a's name as its
//  prefix replaced by b's, when that name is free in a (caller frees); else NULL
static char *
s_follow_rename (const wes_table_t *a, const wes_table_t *b, const char *name)
{
    size_t la = strlen (a->name);
    if (strcmp (a->name, b->name) == 0 || strncmp (name, a->name, la) != 0 || name[la] != '_') {
        return NULL;
    }
    wes_buf_t *buf = wes_buf_new ();
    wes_buf_puts (buf, b->name);
    wes_buf_puts (buf, name + la);
    char *out = wes_buf_steal (buf);
    wes_buf_destroy (&buf);
    bool taken = false;
    for (size_t i = 0; i < a->n_constraints && !taken; i++) {
        taken = strcmp (a->constraints[i]->name, out) == 0;
    }
    for (size_t i = 0; i < a->n_indexes && !taken; i++) {
        taken = strcmp (a->indexes[i]->name, out) == 0;
    }
    if (taken) {
        free (out);
        return NULL;
    }
    return out;
}

//  True when a rename change of this table already produced `name`
static bool
s_renamed_into (const wes_diff_t *self, const char *table, const char *name)
{
    for (size_t i = self->n_changes; i > 0; i--) {
        const wes_change_t *c = self->changes[i - 1];
        if (!c->table || strcmp (c->table, table) != 0) {
            break;
        }
        if ((c->kind == WES_CHANGE_CONSTRAINT_RENAME || c->kind == WES_CHANGE_INDEX_RENAME)
            && strcmp (c->object, name) == 0) {
            return true;
        }
    }
    return false;
}
