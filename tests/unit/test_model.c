/*  test_model.c — the schema model: builders, duplicates, canonical order,
    canonical bytes and hash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "schema/wes_model.h"

/*  Builds the same two-table schema; `reverse` adds everything in the
    opposite order. */
static wes_model_t *
s_build (bool reverse)
{
    wes_model_t *m = wes_model_new ();
    const char *tables[2] = {"account", "post"};
    for (int k = 0; k < 2; k++) {
        const char *tn = tables[reverse ? 1 - k : k];
        wes_table_t *t = wes_model_add_table (m, tn);
        assert_non_null (t);
        wes_model_set_str (&t->gql_name, strcmp (tn, "account") == 0 ? "Account" : "Post");
        const char *cols[3] = {"id", "name", "owner_id"};
        const char *types[3] = {"uuid", "text", "uuid"};
        for (int j = 0; j < 3; j++) {
            int jj = reverse ? 2 - j : j;
            wes_column_t *c = wes_table_add_column (t, cols[jj], types[jj]);
            assert_non_null (c);
            c->not_null = jj == 0;
        }
        if (reverse) {
            wes_index_t *ix = wes_table_add_index (t, "z_idx");
            wes_index_add_column (ix, "owner_id");
            wes_index_add_column (ix, "name");
        }
        wes_constraint_t *pk = wes_table_add_constraint (t, WES_CON_PRIMARY, "a_pkey");
        wes_constraint_add_column (pk, "id");
        wes_constraint_t *fk = wes_table_add_constraint (t, WES_CON_FOREIGN, "b_fkey");
        wes_constraint_add_column (fk, "owner_id");
        wes_model_set_str (&fk->ref_table, "account");
        wes_constraint_add_ref_column (fk, "id");
        fk->on_delete = WES_FK_CASCADE;
        if (!reverse) {
            wes_index_t *ix = wes_table_add_index (t, "z_idx");
            wes_index_add_column (ix, "owner_id");
            wes_index_add_column (ix, "name");
        }
        wes_policy_t *p = wes_table_add_policy (t, "p1", WES_POLICY_SELECT);
        wes_policy_add_role (p, reverse ? "b" : "a");
        wes_policy_add_role (p, reverse ? "a" : "b");
        wes_model_set_str (&p->using_expr, "true");
        t->rls_enabled = true;
    }
    wes_enum_t *e2 = NULL, *e1 = NULL;
    if (reverse) {
        e2 = wes_model_add_enum (m, "status");
        e1 = wes_model_add_enum (m, "role");
    }
    else {
        e1 = wes_model_add_enum (m, "role");
        e2 = wes_model_add_enum (m, "status");
    }
    wes_enum_add_value (e1, "ADMIN");
    wes_enum_add_value (e1, "USER");
    wes_enum_add_value (e2, "OPEN");
    wes_enum_add_value (e2, "CLOSED");
    wes_model_canonicalize (m);
    return m;
}

static void
test_builders_and_duplicates (void **state)
{
    (void)state;
    wes_model_t *m = wes_model_new ();
    wes_table_t *t = wes_model_add_table (m, "users");
    assert_non_null (t);
    assert_null (wes_model_add_table (m, "users"));
    assert_non_null (wes_table_add_column (t, "id", "uuid"));
    assert_null (wes_table_add_column (t, "id", "text"));
    assert_non_null (wes_table_add_constraint (t, WES_CON_PRIMARY, "users_pkey"));
    assert_null (wes_table_add_constraint (t, WES_CON_UNIQUE, "users_pkey"));
    assert_non_null (wes_table_add_index (t, "users_id_idx"));
    assert_null (wes_table_add_index (t, "users_id_idx"));
    assert_non_null (wes_table_add_policy (t, "p", WES_POLICY_ALL));
    assert_null (wes_table_add_policy (t, "p", WES_POLICY_SELECT));
    assert_non_null (wes_model_add_enum (m, "role"));
    assert_null (wes_model_add_enum (m, "role"));
    assert_int_equal (wes_model_table_count (m), 1);
    assert_int_equal (wes_model_enum_count (m), 1);
    assert_ptr_equal (wes_model_find_table (m, "users"), t);
    assert_null (wes_model_find_table (m, "nope"));
    assert_string_equal (wes_table_find_column (t, "id")->type, "uuid");
    assert_non_null (wes_table_primary_key (t));
    assert_string_equal (wes_table_primary_key (t)->name, "users_pkey");
    assert_null (wes_model_table (m, 1));
    assert_null (wes_model_enum (m, 5));
    wes_column_t *c = wes_table_find_column (t, "id");
    wes_model_set_str (&c->default_expr, "gen_random_uuid()");
    wes_model_set_str (&c->default_expr, "x");
    assert_string_equal (c->default_expr, "x");
    wes_model_set_str (&c->default_expr, NULL);
    assert_null (c->default_expr);
    /*  Many elements: growth keeps every record. */
    for (int i = 0; i < 300; i++) {
        char name[32];
        snprintf (name, sizeof name, "c%03d", i);
        wes_column_t *ci = wes_table_add_column (t, name, "integer");
        assert_non_null (ci);
        assert_int_equal (ci->ordinal, i + 1);
    }
    assert_int_equal (t->n_columns, 301);
    assert_string_equal (wes_table_find_column (t, "c299")->name, "c299");
    wes_model_destroy (&m);
    assert_null (m);
    wes_model_destroy (&m);
}

static void
test_canonicalize_sorts (void **state)
{
    (void)state;
    wes_model_t *m = wes_model_new ();
    wes_model_add_table (m, "zeta");
    wes_table_t *t = wes_model_add_table (m, "Alpha");
    wes_model_add_table (m, "alpha");
    wes_table_add_column (t, "b", "text");
    wes_table_add_column (t, "a", "text");
    wes_table_add_column (t, "_x", "text");
    wes_index_t *ix = wes_table_add_index (t, "t_idx");
    wes_index_add_column (ix, "b");
    wes_index_add_column (ix, "a");
    wes_table_add_index (t, "a_idx");
    wes_policy_t *p = wes_table_add_policy (t, "z", WES_POLICY_ALL);
    wes_policy_add_role (p, "web");
    wes_policy_add_role (p, "admin");
    wes_table_add_policy (t, "m", WES_POLICY_ALL);
    wes_table_add_constraint (t, WES_CON_CHECK, "t_check");
    wes_table_add_constraint (t, WES_CON_PRIMARY, "t_pkey");
    wes_enum_t *e = wes_model_add_enum (m, "zz");
    wes_enum_add_value (e, "B");
    wes_enum_add_value (e, "A");
    wes_model_add_enum (m, "aa");
    wes_model_canonicalize (m);
    assert_string_equal (wes_model_table (m, 0)->name, "Alpha");
    assert_string_equal (wes_model_table (m, 1)->name, "alpha");
    assert_string_equal (wes_model_table (m, 2)->name, "zeta");
    assert_string_equal (t->columns[0]->name, "_x");
    assert_string_equal (t->columns[1]->name, "a");
    assert_string_equal (t->columns[2]->name, "b");
    /*  Ordinal (declaration order) survives sorting. */
    assert_int_equal (t->columns[2]->ordinal, 0);
    assert_string_equal (t->indexes[0]->name, "a_idx");
    assert_string_equal (t->indexes[1]->columns[0], "b");
    assert_string_equal (t->indexes[1]->columns[1], "a");
    assert_string_equal (t->policies[0]->name, "m");
    assert_string_equal (t->policies[1]->roles[0], "admin");
    assert_string_equal (t->policies[1]->roles[1], "web");
    assert_string_equal (t->constraints[0]->name, "t_check");
    assert_string_equal (wes_model_enum (m, 0)->name, "aa");
    assert_string_equal (wes_model_enum (m, 1)->values[0], "B");
    wes_model_destroy (&m);
}

static void
test_canonical_bytes_order_independent (void **state)
{
    (void)state;
    wes_model_t *a = s_build (false);
    wes_model_t *b = s_build (true);
    size_t la = 0, lb = 0;
    char *ba = wes_model_canonical_bytes (a, &la);
    char *bb = wes_model_canonical_bytes (b, &lb);
    assert_int_equal (la, strlen (ba));
    assert_int_equal (la, lb);
    assert_string_equal (ba, bb);
    /*  Compact, sorted keys, database facts only. */
    assert_non_null (strstr (ba, "\"format\":\"wesley-model/1\""));
    assert_non_null (strstr (ba, "\"on_delete\":\"CASCADE\""));
    assert_non_null (strstr (ba, "\"on_update\":\"NO ACTION\""));
    assert_non_null (strstr (ba, "\"roles\":[\"a\",\"b\"]"));
    assert_non_null (strstr (ba, "\"values\":[\"ADMIN\",\"USER\"]"));
    assert_null (strstr (ba, "gql_name"));
    assert_null (strstr (ba, "Account"));
    assert_null (strchr (ba, '\n'));
    char ha[65], hb[65];
    wes_model_hash (a, ha);
    wes_model_hash (b, hb);
    assert_string_equal (ha, hb);
    free (ba);
    free (bb);
    wes_model_destroy (&a);
    wes_model_destroy (&b);
}

static void
s_assert_hex64 (const char *h)
{
    assert_int_equal (strlen (h), 64);
    for (size_t i = 0; i < 64; i++) {
        assert_true ((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f'));
    }
}

static void
test_hash_changes_with_facts_not_meta (void **state)
{
    (void)state;
    wes_model_t *m = s_build (false);
    char h0[65], h1[65];
    wes_model_hash (m, h0);
    s_assert_hex64 (h0);

    /*  Meta: GraphQL names, directives, relations, renames, positions. */
    wes_table_t *t = wes_model_find_table (m, "post");
    wes_column_t *c = wes_table_find_column (t, "name");
    wes_model_set_str (&t->gql_name, "Article");
    wes_model_set_str (&c->gql_name, "title");
    wes_model_set_str (&c->renamed_from, "old");
    wes_model_set_str (&t->tenant_column, "owner_id");
    /*  A fresh record has no directives or relations (NULL): set them. */
    assert_null (c->directives);
    assert_null (t->relations);
    wes_model_put_directives (m, &c->directives, json_pack ("{s:{}}", "pii"));
    t->relations = json_array ();
    json_array_append_new (t->relations, json_string ("x"));
    c->pos.line = 99;
    c->ordinal = 42;
    wes_model_hash (m, h1);
    assert_string_equal (h0, h1);

    /*  Facts: each one changes the hash. */
    c->not_null = true;
    wes_model_hash (m, h1);
    assert_string_not_equal (h0, h1);
    c->not_null = false;
    wes_model_hash (m, h1);
    assert_string_equal (h0, h1);

    wes_model_set_str (&c->default_expr, "'x'::text");
    wes_model_hash (m, h1);
    assert_string_not_equal (h0, h1);
    wes_model_set_str (&c->default_expr, NULL);

    wes_model_set_str (&c->type, "character varying(10)");
    wes_model_hash (m, h1);
    assert_string_not_equal (h0, h1);
    wes_model_set_str (&c->type, "text");

    t->rls_enabled = false;
    wes_model_hash (m, h1);
    assert_string_not_equal (h0, h1);
    t->rls_enabled = true;

    t->indexes[0]->unique = true;
    wes_model_hash (m, h1);
    assert_string_not_equal (h0, h1);
    t->indexes[0]->unique = false;

    wes_enum_add_value (wes_model_find_enum (m, "role"), "GUEST");
    wes_model_hash (m, h1);
    assert_string_not_equal (h0, h1);
    wes_model_destroy (&m);

    m = s_build (false);
    wes_model_hash (m, h1);
    assert_string_equal (h0, h1);
    wes_model_destroy (&m);
}

static void
test_document_json (void **state)
{
    (void)state;
    wes_model_t *m = s_build (false);
    wes_table_t *t = wes_model_find_table (m, "account");
    wes_column_t *c = wes_table_find_column (t, "name");
    wes_model_set_str (&c->gql_name, "name");
    wes_model_set_str (&c->gql_type, "String");
    wes_model_put_directives (m, &c->directives, json_pack ("{s:{}}", "pii"));
    wes_model_set_str (&wes_model_find_enum (m, "role")->gql_name, "Role");
    json_t *doc = wes_model_to_document_json (m);
    char hash[65];
    wes_model_hash (m, hash);
    assert_string_equal (json_string_value (json_object_get (doc, "format")), "wesley-schema/1");
    assert_string_equal (json_string_value (json_object_get (doc, "hash")), hash);
    json_t *canon = wes_model_to_canonical_json (m);
    assert_true (json_equal (json_object_get (doc, "schema"), canon));
    json_decref (canon);
    json_t *meta = json_object_get (doc, "meta");
    json_t *mt = json_object_get (json_object_get (meta, "tables"), "account");
    assert_string_equal (json_string_value (json_object_get (mt, "gql_name")), "Account");
    json_t *mc = json_object_get (json_object_get (mt, "columns"), "name");
    assert_string_equal (json_string_value (json_object_get (mc, "gql_type")), "String");
    assert_int_equal (json_integer_value (json_object_get (mc, "ordinal")), 1);
    assert_non_null (json_object_get (json_object_get (mc, "directives"), "pii"));
    assert_true (json_is_null (json_object_get (mc, "enum")));
    assert_string_equal (
        json_string_value (json_object_get (json_object_get (meta, "enums"), "role")), "Role");
    json_decref (doc);
    wes_model_destroy (&m);
}

static void
test_invalid_utf8_is_kept (void **state)
{
    (void)state;
    wes_model_t *a = wes_model_new ();
    wes_table_t *t = wes_model_add_table (a, "t");
    wes_table_add_column (t, "ok", "text");
    wes_model_t *b = wes_model_new ();
    t = wes_model_add_table (b, "t");
    wes_table_add_column (t, "ok", "text");
    wes_column_t *c = wes_table_add_column (t, "bad\xff\xc3", "text");
    wes_model_set_str (&c->default_expr, "'\xe2\x82'");
    size_t len = 0;
    char *bytes = wes_model_canonical_bytes (b, &len);
    /*  The column is not dropped: invalid bytes became U+FFFD. */
    assert_non_null (strstr (bytes, "\"bad\xef\xbf\xbd\xef\xbf\xbd\""));
    assert_non_null (strstr (bytes, "\"'\xef\xbf\xbd\xef\xbf\xbd'\""));
    free (bytes);
    char ha[65], hb[65];
    wes_model_hash (a, ha);
    wes_model_hash (b, hb);
    assert_string_not_equal (ha, hb);
    wes_model_destroy (&a);
    wes_model_destroy (&b);
}

static void
test_find_after_many_tables (void **state)
{
    (void)state;
    wes_model_t *m = wes_model_new ();
    char name[32];
    for (int i = 0; i < 2000; i++) {
        snprintf (name, sizeof name, "t%d", 1999 - i);
        assert_non_null (wes_model_add_table (m, name));
    }
    assert_null (wes_model_add_table (m, "t0"));
    assert_null (wes_model_add_table (m, "t1999"));
    wes_model_canonicalize (m);
    for (int i = 0; i < 2000; i++) {
        snprintf (name, sizeof name, "t%d", i);
        wes_table_t *t = wes_model_find_table (m, name);
        assert_non_null (t);
        assert_string_equal (t->name, name);
    }
    assert_null (wes_model_find_table (m, "t2000"));
    /*  A name changed in place is found under its new name after
        canonicalize. */
    wes_table_t *t = wes_model_find_table (m, "t5");
    wes_model_set_str (&t->name, "renamed");
    wes_model_canonicalize (m);
    assert_ptr_equal (wes_model_find_table (m, "renamed"), t);
    assert_null (wes_model_find_table (m, "t5"));
    wes_model_destroy (&m);
}

static void
test_enum_names (void **state)
{
    (void)state;
    assert_string_equal (wes_fk_action_sql (WES_FK_NO_ACTION), "NO ACTION");
    assert_string_equal (wes_fk_action_sql (WES_FK_SET_NULL), "SET NULL");
    assert_string_equal (wes_fk_action_sql (WES_FK_SET_DEFAULT), "SET DEFAULT");
    assert_string_equal (wes_fk_action_sql (WES_FK_RESTRICT), "RESTRICT");
    assert_string_equal (wes_fk_action_sql (WES_FK_CASCADE), "CASCADE");
    assert_string_equal (wes_policy_cmd_sql (WES_POLICY_ALL), "ALL");
    assert_string_equal (wes_policy_cmd_sql (WES_POLICY_UPDATE), "UPDATE");
    assert_string_equal (wes_policy_cmd_sql (WES_POLICY_DELETE), "DELETE");
}

/*  A record's directives text is exactly json_dumps (value, JSON_COMPACT |
    JSON_SORT_KEYS), whichever way it was written (plain values are written
    without jansson, the rest by jansson). */
static void
test_directives_text (void **state)
{
    (void)state;
    const char *values[] = {
        "{\"pii\": {}}",
        "{\"weight\": {\"value\": 9}, \"pii\": {}, \"uid\": {\"value\": \"tbl:1\"}}",
        "{\"z\": {\"b\": [1, -2, true, false, null, \"x y\"], \"a\": {}}, \"B\": {}, \"a\": []}",
        "{\"big\": {\"v\": 9223372036854775807, \"w\": -9223372036854775808}}",
        "{\"real\": {\"v\": 1.5, \"w\": 100.0, \"x\": 1e300}}",
        "{\"esc\": {\"v\": \"q\\\"uote\", \"w\": \"back\\\\slash\", \"x\": \"tab\\t\"}}",
        "{\"utf8\": {\"v\": \"caf\u00e9\", \"w\": \"\\u0001\", \"x\": \"a/b~\\u007f\"}}",
        "{\"many\": {\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,"
        "\"i\":9,\"j\":10,\"k\":11,\"l\":12,\"m\":13,\"n\":14,\"o\":15,\"p\":16,\"q\":17}}",
        "{\"list\": [{\"value\": 1}, {\"value\": 2}]}",
    };
    wes_model_t *m = wes_model_new ();
    wes_table_t *t = wes_model_add_table (m, "t");
    wes_column_t *c = wes_table_add_column (t, "c", "text");
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        json_error_t err;
        json_t *v = json_loads (values[i], 0, &err);
        if (!v) {
            fail_msg ("value %zu: %s", i, err.text);
        }
        char *want = json_dumps (v, JSON_COMPACT | JSON_SORT_KEYS);
        wes_model_put_directives (m, &c->directives, v);
        assert_non_null (c->directives);
        assert_string_equal (c->directives, want);
        free (want);
    }
    /*  Longer than the stack buffer: jansson writes it. */
    json_t *big = json_object ();
    json_t *args = json_object ();
    char text[3000];
    memset (text, 'x', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    json_object_set_new (args, "value", json_string (text));
    json_object_set_new (big, "doc", args);
    char *want = json_dumps (big, JSON_COMPACT | JSON_SORT_KEYS);
    wes_model_put_directives (m, &c->directives, big);
    assert_string_equal (c->directives, want);
    free (want);
    wes_model_destroy (&m);
}

/*  A duplicate column is refused whether the names are the model's shared
    copies or one was set apart (wes_model_set_str), and wes_model_str_eq
    agrees with strcmp on both kinds. */
static void
test_duplicate_columns_any_strings (void **state)
{
    (void)state;
    wes_model_t *m = wes_model_new ();
    wes_table_t *t = wes_model_add_table (m, "t");
    wes_column_t *a = wes_table_add_column (t, "a", "integer");
    wes_column_t *b = wes_table_add_column (t, "b", "integer");
    assert_non_null (a);
    assert_non_null (b);
    assert_null (wes_table_add_column (t, "a", "text"));
    wes_model_set_str (&b->name, "renamed"); /* a copy of its own */
    assert_null (wes_table_add_column (t, "renamed", "text"));
    assert_non_null (wes_table_add_column (t, "b", "text")); /* free again */
    wes_constraint_t *c = wes_table_add_constraint (t, WES_CON_UNIQUE, "u");
    wes_constraint_add_column (c, "renamed");
    assert_true (wes_model_str_eq (c->columns[0], b->name));
    assert_true (wes_model_str_eq (a->name, a->name));
    assert_false (wes_model_str_eq (c->columns[0], a->name));
    assert_false (wes_model_str_eq (a->name, b->name));
    wes_model_destroy (&m);
}

/*  Declaration order: placed by ordinal when the ordinals are 0..n-1,
    else sorted by ordinal then name (a model read back may have gaps and
    ties); canonicalizing does not change it. */
static void
test_columns_declared (void **state)
{
    (void) state;
    wes_model_t *m = wes_model_new ();
    wes_table_t *t = wes_model_add_table (m, "t");
    const char *names[] = {"zeta", "alpha", "mid"};
    for (size_t i = 0; i < 3; i++) {
        assert_non_null (wes_table_add_column (t, names[i], "text"));
    }
    wes_table_canonicalize (t); /* by name now: alpha, mid, zeta */
    wes_column_t *out[3];
    wes_table_columns_declared (t, out);
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal (out[i]->name, names[i]);
    }
    //  Gaps and a tie: ordinals 7, 3, 3 give alpha (3), mid (3), zeta (7)
    int ords[] = {7, 3, 3};
    for (size_t i = 0; i < 3; i++) {
        for (size_t j = 0; j < 3; j++) {
            if (strcmp (t->columns[j]->name, names[i]) == 0) {
                t->columns[j]->ordinal = ords[i];
            }
        }
    }
    wes_table_columns_declared (t, out);
    assert_string_equal (out[0]->name, "alpha");
    assert_string_equal (out[1]->name, "mid");
    assert_string_equal (out[2]->name, "zeta");
    wes_model_destroy (&m);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_builders_and_duplicates),
        cmocka_unit_test (test_canonicalize_sorts),
        cmocka_unit_test (test_canonical_bytes_order_independent),
        cmocka_unit_test (test_hash_changes_with_facts_not_meta),
        cmocka_unit_test (test_document_json),
        cmocka_unit_test (test_invalid_utf8_is_kept),
        cmocka_unit_test (test_find_after_many_tables),
        cmocka_unit_test (test_enum_names),
        cmocka_unit_test (test_directives_text),
        cmocka_unit_test (test_duplicate_columns_any_strings),
        cmocka_unit_test (test_columns_declared),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
