/*  test_diff.c — the differ on compiled SDL and builder-made models: every
    kind of change, renames from @wes_renamedFrom, enum value positions,
    the deterministic order, drift sentences and the JSON form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plan/wes_diff.h"
#include "schema/wes_compile.h"
#include "schema/wes_parser.h"
#include "wes_testassert.h"

//  The change of this kind on table/object, or NULL
static const wes_change_t *
s_find (const wes_diff_t *d, wes_change_kind_t kind, const char *table, const char *object)
{
    for (size_t i = 0; i < wes_diff_count (d); i++) {
        const wes_change_t *c = wes_diff_change (d, i);
        if (c->kind == kind && (!table || (c->table && strcmp (c->table, table) == 0))
            && (!object || (c->object && strcmp (c->object, object) == 0))) {
            return c;
        }
    }
    return NULL;
}

static const wes_change_t *
s_must (const wes_diff_t *d, wes_change_kind_t kind, const char *table, const char *object)
{
    const wes_change_t *c = s_find (d, kind, table, object);
    if (!c) {
        json_t *j = wes_diff_to_json (d);
        char *s = json_dumps (j, JSON_INDENT (1));
        fail_msg ("no %s change on %s.%s in:\n%s", wes_change_kind_name (kind), table ? table : "-",
                  object ? object : "-", s);
    }
    return c;
}

static const char *s_base =
    "enum Status { OPEN CLOSED ARCHIVED }\n"
    "enum Gone { A B }\n"
    "type User @wes_table {\n"
    "  id: ID! @wes_pk\n"
    "  email: String!\n"
    "  nick: String @wes_default(value: \"x\")\n"
    "  age: Int\n"
    "  score: Int!\n"
    "  fullName: String\n"
    "  old: String\n"
    "  status: Status\n"
    "}\n"
    "type Post @wes_table @wes_rls(select: \"true\") @wes_index(fields: [\"title\"], name: "
    "\"post_title_idx\") {\n"
    "  id: ID! @wes_pk\n"
    "  title: String @wes_index(name: \"post_title2_idx\")\n"
    "  author: ID! @wes_fk(ref: \"User.id\")\n"
    "  body: String @wes_check(expr: \"length(body) < 100\", name: \"post_body_check\")\n"
    "}\n"
    "type Legacy @wes_table { id: ID! @wes_pk }\n"
    "type OldName @wes_table { id: ID! @wes_pk }\n";

static const char *s_next =
    "enum Status { NEW OPEN REVIEW CLOSED }\n"
    "enum Fresh { X }\n"
    "type User @wes_table {\n"
    "  id: ID! @wes_pk\n"
    "  email: String! @wes_column(type: \"varchar(64)\") @wes_unique\n"
    "  nick: String @wes_default(value: \"y\")\n"
    "  age: Int!\n"
    "  score: Int\n"
    "  name: String @wes_renamedFrom(name: \"full_name\")\n"
    "  added: Boolean\n"
    "  status: Status\n"
    "}\n"
    "type Post @wes_table @wes_index(fields: [\"title\", \"id\"], name: \"post_title_idx\") {\n"
    "  id: ID! @wes_pk\n"
    "  title: String @wes_index(name: \"post_title3_idx\")\n"
    "  author: ID! @wes_fk(ref: \"User.id\", onDelete: \"CASCADE\")\n"
    "  body: String @wes_check(expr: \"length(body) < 200\", name: \"post_body_check\")\n"
    "}\n"
    "type Article @wes_table @wes_renamedFrom(name: \"old_name\") { id: ID! @wes_pk }\n"
    "type Comment @wes_table { id: ID! @wes_pk }\n";

static void
test_identity_is_empty (void **state)
{
    (void)state;
    wes_model_t *a = wes_test_compile (s_base);
    wes_model_t *b = wes_test_compile (s_base);
    wes_diff_t *d = wes_diff_new (a, b);
    assert_int_equal (wes_diff_count (d), 0);
    json_t *j = wes_diff_to_json (d);
    assert_int_equal (json_array_size (j), 0);
    json_decref (j);
    wes_diff_destroy (&d);
    assert_null (d);
    wes_diff_destroy (&d); /* safe on NULL */
    wes_model_destroy (&a);
    wes_model_destroy (&b);
}

static void
test_every_kind (void **state)
{
    (void)state;
    wes_model_t *a = wes_test_compile (s_base);
    wes_model_t *b = wes_test_compile (s_next);
    wes_diff_t *d = wes_diff_new (a, b);

    //  enums
    s_must (d, WES_CHANGE_ENUM_CREATE, NULL, "fresh");
    s_must (d, WES_CHANGE_ENUM_DROP, NULL, "gone");
    const wes_change_t *c = NULL;
    for (size_t i = 0; i < wes_diff_count (d); i++) {
        const wes_change_t *x = wes_diff_change (d, i);
        if (x->kind == WES_CHANGE_ENUM_VALUE_ADD && strcmp (x->value, "NEW") == 0) {
            c = x;
        }
    }
    assert_non_null (c);
    assert_string_equal (c->anchor, "OPEN");
    assert_true (c->anchor_before);
    c = NULL;
    for (size_t i = 0; i < wes_diff_count (d); i++) {
        const wes_change_t *x = wes_diff_change (d, i);
        if (x->kind == WES_CHANGE_ENUM_VALUE_ADD && strcmp (x->value, "REVIEW") == 0) {
            c = x;
        }
    }
    assert_non_null (c);
    assert_string_equal (c->anchor, "OPEN");
    assert_false (c->anchor_before);
    assert_string_equal (c->sentence, "enum status: value 'REVIEW' absent, expected after 'OPEN'");
    c = s_must (d, WES_CHANGE_ENUM_VALUE_REMOVE, NULL, "status");
    assert_string_equal (c->value, "ARCHIVED");
    assert_null (s_find (d, WES_CHANGE_ENUM_REORDER, NULL, NULL));

    //  tables
    s_must (d, WES_CHANGE_TABLE_CREATE, "comment", NULL);
    s_must (d, WES_CHANGE_TABLE_DROP, "legacy", NULL);
    c = s_must (d, WES_CHANGE_TABLE_RENAME, "article", NULL);
    assert_string_equal (c->old_name, "old_name");
    assert_null (s_find (d, WES_CHANGE_TABLE_DROP, "old_name", NULL));
    assert_null (s_find (d, WES_CHANGE_TABLE_CREATE, "article", NULL));
    //  its generated key name followed the table's: a rename, not drop + add
    c = s_must (d, WES_CHANGE_CONSTRAINT_RENAME, "article", "article_pkey");
    assert_string_equal (c->old_name, "old_name_pkey");
    assert_null (s_find (d, WES_CHANGE_CONSTRAINT_ADD, "article", NULL));
    assert_null (s_find (d, WES_CHANGE_CONSTRAINT_DROP, "article", NULL));

    //  columns
    c = s_must (d, WES_CHANGE_COLUMN_TYPE, "user", "email");
    assert_string_equal (c->sentence,
                         "column user.email: type text, expected character varying(64)");
    s_must (d, WES_CHANGE_COLUMN_SET_NOT_NULL, "user", "age");
    s_must (d, WES_CHANGE_COLUMN_DROP_NOT_NULL, "user", "score");
    c = s_must (d, WES_CHANGE_COLUMN_DEFAULT, "user", "nick");
    assert_non_null (c->from_def);
    assert_non_null (c->to_def);
    c = s_must (d, WES_CHANGE_COLUMN_RENAME, "user", "name");
    assert_string_equal (c->old_name, "full_name");
    assert_null (s_find (d, WES_CHANGE_COLUMN_DROP, "user", "full_name"));
    assert_null (s_find (d, WES_CHANGE_COLUMN_ADD, "user", "name"));
    s_must (d, WES_CHANGE_COLUMN_ADD, "user", "added");
    c = s_must (d, WES_CHANGE_COLUMN_DROP, "user", "old");
    assert_string_equal (c->sentence, "column user.old: present (text), not expected");
    assert_null (s_find (d, WES_CHANGE_COLUMN_TYPE, "user", "status"));

    //  constraints, indexes, RLS, policies
    s_must (d, WES_CHANGE_CONSTRAINT_ADD, "user", "user_email_key");
    s_must (d, WES_CHANGE_CONSTRAINT_CHANGE, "post", "post_author_fkey");
    c = s_must (d, WES_CHANGE_CONSTRAINT_CHANGE, "post", "post_body_check");
    assert_string_equal (c->from_def, "CHECK (length(body) < 100)");
    assert_string_equal (c->to_def, "CHECK (length(body) < 200)");
    s_must (d, WES_CHANGE_INDEX_CHANGE, "post", "post_title_idx");
    s_must (d, WES_CHANGE_INDEX_DROP, "post", "post_title2_idx");
    s_must (d, WES_CHANGE_INDEX_ADD, "post", "post_title3_idx");
    c = s_must (d, WES_CHANGE_RLS_DISABLE, "post", NULL);
    assert_string_equal (c->sentence, "table post: row-level security on, expected off");
    s_must (d, WES_CHANGE_POLICY_DROP, "post", NULL);

    wes_diff_destroy (&d);
    wes_model_destroy (&a);
    wes_model_destroy (&b);
}

//  Enums first, then tables by name; inside a table: rename, columns by
//  name, constraints, indexes, RLS, policies
static void
test_order_is_deterministic (void **state)
{
    (void)state;
    wes_model_t *a = wes_test_compile (s_base);
    wes_model_t *b = wes_test_compile (s_next);
    wes_diff_t *d = wes_diff_new (a, b);
    const char *last_table = "";
    bool seen_table = false;
    for (size_t i = 0; i < wes_diff_count (d); i++) {
        const wes_change_t *c = wes_diff_change (d, i);
        if (!c->table) {
            assert_false (seen_table); /* enums come first */
            continue;
        }
        seen_table = true;
        assert_true (strcmp (last_table, c->table) <= 0);
        if (strcmp (last_table, c->table) == 0 && i > 0) {
            //  kinds of one table never go backwards between groups
            const wes_change_t *p = wes_diff_change (d, i - 1);
            int gp = p->kind == WES_CHANGE_CONSTRAINT_RENAME   ? 2
                     : p->kind == WES_CHANGE_INDEX_RENAME      ? 3
                     : p->kind <= WES_CHANGE_TABLE_RENAME      ? 0
                     : p->kind <= WES_CHANGE_COLUMN_DEFAULT    ? 1
                     : p->kind <= WES_CHANGE_CONSTRAINT_CHANGE ? 2
                     : p->kind <= WES_CHANGE_INDEX_CHANGE      ? 3
                     : p->kind <= WES_CHANGE_RLS_DISABLE       ? 4
                                                               : 5;
            int gc = c->kind == WES_CHANGE_CONSTRAINT_RENAME   ? 2
                     : c->kind == WES_CHANGE_INDEX_RENAME      ? 3
                     : c->kind <= WES_CHANGE_TABLE_RENAME      ? 0
                     : c->kind <= WES_CHANGE_COLUMN_DEFAULT    ? 1
                     : c->kind <= WES_CHANGE_CONSTRAINT_CHANGE ? 2
                     : c->kind <= WES_CHANGE_INDEX_CHANGE      ? 3
                     : c->kind <= WES_CHANGE_RLS_DISABLE       ? 4
                                                               : 5;
            assert_true (gp <= gc);
        }
        last_table = c->table;
    }
    //  same inputs, same bytes
    json_t *j1 = wes_diff_to_json (d);
    wes_diff_t *d2 = wes_diff_new (a, b);
    json_t *j2 = wes_diff_to_json (d2);
    char *s1 = json_dumps (j1, JSON_COMPACT);
    char *s2 = json_dumps (j2, JSON_COMPACT);
    assert_string_equal (s1, s2);
    free (s1);
    free (s2);
    json_decref (j1);
    json_decref (j2);
    wes_diff_destroy (&d2);
    wes_diff_destroy (&d);
    wes_model_destroy (&a);
    wes_model_destroy (&b);
}

//  Builder models added in different orders diff the same
static wes_model_t *
s_built (bool reverse)
{
    wes_model_t *m = wes_model_new ();
    const char *names[2] = {"alpha", "beta"};
    for (int k = 0; k < 2; k++) {
        wes_table_t *t = wes_model_add_table (m, names[reverse ? 1 - k : k]);
        const char *cols[2] = {"x", "y"};
        for (int i = 0; i < 2; i++) {
            wes_column_t *c = wes_table_add_column (t, cols[reverse ? 1 - i : i], "integer");
            c->not_null = reverse;
        }
        wes_policy_t *p = wes_table_add_policy (t, "p", WES_POLICY_SELECT);
        p->permissive = true;
        wes_policy_add_role (p, reverse ? "b" : "a");
        wes_policy_add_role (p, reverse ? "a" : "b");
    }
    return m;
}

static void
test_builder_order_independent (void **state)
{
    (void)state;
    wes_model_t *empty = wes_model_new ();
    wes_model_t *a = s_built (false);
    wes_model_t *b = s_built (true);
    wes_diff_t *d1 = wes_diff_new (empty, a);
    wes_diff_t *d2 = wes_diff_new (empty, b);
    assert_int_equal (wes_diff_count (d1), 2);
    assert_int_equal (wes_diff_count (d2), 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal (wes_diff_change (d1, i)->table, i == 0 ? "alpha" : "beta");
        assert_string_equal (wes_diff_change (d2, i)->table, i == 0 ? "alpha" : "beta");
    }
    wes_diff_destroy (&d2);
    wes_diff_destroy (&d1);

    //  a -> b: NOT NULL on four columns; roles in another order are equal
    wes_diff_t *d = wes_diff_new (a, b);
    assert_int_equal (wes_diff_count (d), 4);
    const char *expect[4][2] = {{"alpha", "x"}, {"alpha", "y"}, {"beta", "x"}, {"beta", "y"}};
    for (size_t i = 0; i < 4; i++) {
        const wes_change_t *c = wes_diff_change (d, i);
        assert_int_equal (c->kind, WES_CHANGE_COLUMN_SET_NOT_NULL);
        assert_string_equal (c->table, expect[i][0]);
        assert_string_equal (c->object, expect[i][1]);
    }
    assert_string_equal (wes_diff_change (d, 0)->sentence,
                         "column alpha.x: nullable, expected NOT NULL");
    wes_diff_destroy (&d);
    wes_model_destroy (&a);
    wes_model_destroy (&b);
    wes_model_destroy (&empty);
}

static void
test_json_form (void **state)
{
    (void)state;
    wes_model_t *a = wes_test_compile ("type T @wes_table { id: ID! @wes_pk\n a: String }");
    wes_model_t *b = wes_test_compile ("type T @wes_table { id: ID! @wes_pk\n a: Int }");
    wes_diff_t *d = wes_diff_new (a, b);
    assert_int_equal (wes_diff_count (d), 1);
    json_t *j = wes_diff_to_json (d);
    json_t *c = json_array_get (j, 0);
    assert_string_equal (json_string_value (json_object_get (c, "kind")), "column_type");
    assert_string_equal (json_string_value (json_object_get (c, "table")), "t");
    assert_string_equal (json_string_value (json_object_get (c, "object")), "a");
    assert_string_equal (json_string_value (json_object_get (c, "from")), "text");
    assert_string_equal (json_string_value (json_object_get (c, "to")), "integer");
    assert_string_equal (json_string_value (json_object_get (c, "sentence")),
                         "column t.a: type text, expected integer");
    assert_null (json_object_get (c, "old_name"));
    json_decref (j);
    wes_diff_destroy (&d);
    wes_model_destroy (&a);
    wes_model_destroy (&b);
}

//  A reordering of labels both sides have is its own change; a rename
//  whose old column is still declared is an add
static void
test_enum_reorder_and_false_rename (void **state)
{
    (void)state;
    wes_model_t *a = wes_test_compile ("enum E { A B C }\ntype T @wes_table { id: ID! @wes_pk\n"
                                       "x: String }");
    wes_model_t *b = wes_test_compile ("enum E { B A C }\ntype T @wes_table { id: ID! @wes_pk\n"
                                       "x: String\n y: String @wes_renamedFrom(name: \"x\") }");
    wes_diff_t *d = wes_diff_new (a, b);
    const wes_change_t *c = s_must (d, WES_CHANGE_ENUM_REORDER, NULL, "e");
    assert_string_equal (c->sentence, "enum e: values ('A', 'B', 'C'), expected ('B', 'A', 'C')");
    s_must (d, WES_CHANGE_COLUMN_ADD, "t", "y");
    assert_null (s_find (d, WES_CHANGE_COLUMN_RENAME, NULL, NULL));
    wes_diff_destroy (&d);
    wes_model_destroy (&a);
    wes_model_destroy (&b);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_identity_is_empty),
        cmocka_unit_test (test_every_kind),
        cmocka_unit_test (test_order_is_deterministic),
        cmocka_unit_test (test_builder_order_independent),
        cmocka_unit_test (test_json_form),
        cmocka_unit_test (test_enum_reorder_and_false_rename),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
