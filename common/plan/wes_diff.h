/*  wes_diff.h — every difference between two canonical schema models, as
    a list of changes in a deterministic order: enums by name, then tables
    by name (in `to`, then the dropped ones of `from`), and inside a table
    its rename, columns, constraints, indexes, row-level security and
    policies, each group by name.

    The change list is what the planner turns into steps, and what
    `wesley drift` prints: each change has a sentence for people, written
    with `from` as what is there and `to` as what is expected ("column
    user.email: type text, expected character varying(64)"), and a JSON
    form.

    Renames come from the meta of `to`: a table whose renamed_from names a
    table that exists in `from` but not in `to` (and whose own name is not
    in `from`) is a rename, and its contents are compared with the old
    table's; likewise a column's renamed_from inside a matched table. */
#ifndef WES_DIFF_H
#define WES_DIFF_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "schema/wes_model.h"

typedef enum {
    WES_CHANGE_ENUM_CREATE,
    WES_CHANGE_ENUM_DROP,
    WES_CHANGE_ENUM_VALUE_ADD,    /* value, anchor (+ anchor_before) */
    WES_CHANGE_ENUM_VALUE_REMOVE, /* value */
    WES_CHANGE_ENUM_REORDER,      /* the labels both have are in another order */
    WES_CHANGE_TABLE_CREATE,
    WES_CHANGE_TABLE_DROP,
    WES_CHANGE_TABLE_RENAME, /* old_name -> table */
    WES_CHANGE_COLUMN_ADD,
    WES_CHANGE_COLUMN_DROP,
    WES_CHANGE_COLUMN_RENAME, /* old_name -> object; covers type/null/default too */
    WES_CHANGE_COLUMN_TYPE,
    WES_CHANGE_COLUMN_SET_NOT_NULL,
    WES_CHANGE_COLUMN_DROP_NOT_NULL,
    WES_CHANGE_COLUMN_DEFAULT, /* changed, added or removed */
    WES_CHANGE_CONSTRAINT_ADD,
    WES_CHANGE_CONSTRAINT_DROP,
    WES_CHANGE_CONSTRAINT_CHANGE,
    WES_CHANGE_INDEX_ADD,
    WES_CHANGE_INDEX_DROP,
    WES_CHANGE_INDEX_CHANGE,
    WES_CHANGE_RLS_ENABLE,
    WES_CHANGE_RLS_DISABLE,
    WES_CHANGE_POLICY_ADD,
    WES_CHANGE_POLICY_DROP,
    WES_CHANGE_POLICY_CHANGE,
    WES_CHANGE_CONSTRAINT_RENAME, /* renamed table: old_name -> object, same definition */
    WES_CHANGE_INDEX_RENAME       /* renamed table: old_name -> object, same definition */
} wes_change_kind_t;

/*  One change. Strings are owned by the diff; records are borrowed from
    the two models, which must outlive the diff. A NULL record means the
    element does not exist on that side. */
typedef struct {
    wes_change_kind_t kind;
    char *table;        /* table name in `to` (in `from` for a drop), NULL for enums */
    char *object;       /* column, constraint, index, policy or enum name */
    char *old_name;     /* renames: the former table or column name */
    char *value;        /* enum value added or removed */
    char *anchor;       /* enum value add: the neighbour it goes next to, or NULL */
    bool anchor_before; /* enum value add: BEFORE anchor (else AFTER) */
    char *from_def;     /* the element as it is (a readable definition), or NULL */
    char *to_def;       /* the element as expected, or NULL */
    char *sentence;     /* "column user.email: type text, expected character varying(64)" */
    const wes_table_t *from_table;
    const wes_table_t *to_table;
    const wes_column_t *from_column;
    const wes_column_t *to_column;
    const wes_constraint_t *from_constraint;
    const wes_constraint_t *to_constraint;
    const wes_index_t *from_index;
    const wes_index_t *to_index;
    const wes_policy_t *from_policy;
    const wes_policy_t *to_policy;
    const wes_enum_t *from_enum;
    const wes_enum_t *to_enum;
} wes_change_t;

typedef struct wes_diff wes_diff_t;

/*  Compares two models (canonicalized or not: the diff sorts by name
    itself). Never fails. Caller destroys. */
wes_diff_t *wes_diff_new (const wes_model_t *from, const wes_model_t *to);
void wes_diff_destroy (wes_diff_t **self_p);

size_t wes_diff_count (const wes_diff_t *self);
/*  Borrowed change i, in the deterministic order. */
const wes_change_t *wes_diff_change (const wes_diff_t *self, size_t i);

/*  [{"kind": "column_type", "table": .., "object": .., "old_name": ..,
      "value": .., "from": .., "to": .., "sentence": ..}, ...]; keys that do
    not apply are left out. Caller owns. */
json_t *wes_diff_to_json (const wes_diff_t *self);
json_t *wes_change_to_json (const wes_change_t *change);

/*  "column_type", "table_create", ... */
const char *wes_change_kind_name (wes_change_kind_t kind);

/*  Readable definitions, also used by the planner in messages (caller frees):
    "character varying(64) NOT NULL DEFAULT 'x'", "UNIQUE (email)",
    "FOREIGN KEY (a) REFERENCES b (id) ON DELETE CASCADE", "CHECK (a > 0)",
    "UNIQUE btree (email) WHERE (...)", "PERMISSIVE FOR SELECT TO PUBLIC USING (...)". */
char *wes_diff_column_def (const wes_column_t *c);
char *wes_diff_constraint_def (const wes_constraint_t *c);
char *wes_diff_index_def (const wes_index_t *ix);
char *wes_diff_policy_def (const wes_policy_t *p);

#endif
