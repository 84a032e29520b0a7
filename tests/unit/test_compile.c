/*  test_compile.c — SDL to schema model: mapping, naming, directives,
    determinism of the hash, and every validation error with its exact
    line:col and message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>

#include "schema/wes_compile.h"
#include "schema/wes_parser.h"
#include "util/wes_diag.h"

static wes_model_t *
s_compile (const char *sdl, wes_diag_t **diag_out)
{
    wes_diag_t *diag = wes_diag_new ("t.graphql");
    wes_ast_doc_t *doc = wes_parse_buffer ("t.graphql", sdl, strlen (sdl), diag);
    if (!doc) {
        wes_diag_print (diag, stderr);
        fail_msg ("test SDL does not parse");
    }
    wes_model_t *m = wes_compile (doc, diag);
    wes_ast_doc_destroy (&doc);
    *diag_out = diag;
    return m;
}

/*  Compiles SDL that must have no errors. */
static wes_model_t *
s_compile_ok (const char *sdl, wes_diag_t **diag_out)
{
    wes_model_t *m = s_compile (sdl, diag_out);
    if (!m || wes_diag_errors (*diag_out) != 0) {
        wes_diag_print (*diag_out, stderr);
        fail_msg ("expected a clean compile");
    }
    return m;
}

/*  Exactly one diagnostic of this level at line:col containing part. */
static void
s_expect (wes_diag_t *diag, wes_diag_level_t level, uint32_t line, uint32_t col, const char *part)
{
    size_t hits = 0;
    for (size_t i = 0; i < wes_diag_count (diag); i++) {
        if (wes_diag_level (diag, i) == level && wes_diag_line (diag, i) == line
            && wes_diag_col (diag, i) == col && strstr (wes_diag_message (diag, i), part)) {
            hits++;
        }
    }
    if (hits != 1) {
        wes_diag_print (diag, stderr);
        fail_msg ("expected one %s at %u:%u containing '%s', found %zu",
                  level == WES_DIAG_ERROR ? "error" : "warning", line, col, part, hits);
    }
}

static void
s_expect_counts (wes_diag_t *diag, size_t errors, size_t warnings)
{
    if (wes_diag_errors (diag) != errors || wes_diag_warnings (diag) != warnings) {
        wes_diag_print (diag, stderr);
        fail_msg ("expected %zu errors and %zu warnings, found %zu and %zu", errors, warnings,
                  wes_diag_errors (diag), wes_diag_warnings (diag));
    }
}

static wes_constraint_t *
s_con (const wes_table_t *t, const char *name)
{
    for (size_t i = 0; i < t->n_constraints; i++) {
        if (strcmp (t->constraints[i]->name, name) == 0) {
            return t->constraints[i];
        }
    }
    fail_msg ("table %s has no constraint %s", t->name, name);
    return NULL;
}

static wes_index_t *
s_idx (const wes_table_t *t, const char *name)
{
    for (size_t i = 0; i < t->n_indexes; i++) {
        if (strcmp (t->indexes[i]->name, name) == 0) {
            return t->indexes[i];
        }
    }
    fail_msg ("table %s has no index %s", t->name, name);
    return NULL;
}

static wes_policy_t *
s_pol (const wes_table_t *t, const char *name)
{
    for (size_t i = 0; i < t->n_policies; i++) {
        if (strcmp (t->policies[i]->name, name) == 0) {
            return t->policies[i];
        }
    }
    fail_msg ("table %s has no policy %s", t->name, name);
    return NULL;
}

static wes_column_t *
s_col (const wes_table_t *t, const char *name)
{
    wes_column_t *c = wes_table_find_column (t, name);
    if (!c) {
        fail_msg ("table %s has no column %s", t->name, name);
    }
    return c;
}

static void
s_col_is (const wes_table_t *t, const char *name, const char *type, bool not_null)
{
    wes_column_t *c = s_col (t, name);
    if (strcmp (c->type, type) != 0) {
        fail_msg ("column %s.%s has type '%s', want '%s'", t->name, name, c->type, type);
    }
    assert_int_equal (c->not_null, not_null);
}

/* ---------------------------------------------------------------------- */

static void
test_examples_compile (void **state)
{
    (void)state;
    const char *dir = WES_CONFORMANCE_DIR "/wesley-examples";
    DIR *d = opendir (dir);
    assert_non_null (d);
    size_t files = 0;
    struct dirent *e;
    while ((e = readdir (d))) {
        size_t n = strlen (e->d_name);
        if (n < 9 || strcmp (e->d_name + n - 8, ".graphql") != 0) {
            continue;
        }
        char path[2048];
        snprintf (path, sizeof path, "%s/%s", dir, e->d_name);
        wes_diag_t *diag = wes_diag_new (path);
        wes_model_t *m = wes_compile_file (path, diag);
        if (!m || wes_diag_errors (diag)) {
            wes_diag_print (diag, stderr);
            fail_msg ("%s does not compile", e->d_name);
        }
        assert_true (wes_model_table_count (m) > 0);
        /*  Every table has a primary key and every column a type. */
        for (size_t i = 0; i < wes_model_table_count (m); i++) {
            wes_table_t *t = wes_model_table (m, i);
            assert_non_null (wes_table_primary_key (t));
            for (size_t k = 0; k < t->n_columns; k++) {
                assert_string_not_equal (t->columns[k]->type, "?");
            }
        }
        if (strcmp (e->d_name, "ecommerce.graphql") == 0) {
            assert_int_equal (wes_model_table_count (m), 4);
            wes_table_t *oi = wes_model_find_table (m, "order_item");
            assert_non_null (oi);
            wes_constraint_t *fk = s_con (oi, "order_item_order_id_fkey");
            assert_int_equal (fk->kind, WES_CON_FOREIGN);
            assert_string_equal (fk->ref_table, "order");
            assert_string_equal (fk->ref_columns[0], "id");
            assert_int_equal (json_array_size (oi->relations), 2);
            wes_table_t *u = wes_model_find_table (m, "user");
            assert_int_equal (s_con (u, "user_email_key")->kind, WES_CON_UNIQUE);
            assert_string_equal (s_col (u, "created_at")->default_expr, "now()");
            json_t *dirs = wes_model_directives_json (s_col (u, "email")->directives);
            assert_non_null (json_object_get (dirs, "pii"));
            json_decref (dirs);
            assert_int_equal (wes_diag_warnings (diag), 0);
        }
        if (strcmp (e->d_name, "freaky-rls-schema.graphql") == 0) {
            assert_int_equal (wes_model_table_count (m), 9);
            wes_table_t *emp = wes_model_find_table (m, "employee");
            assert_true (emp->rls_enabled);
            assert_int_equal (emp->n_policies, 4);
            assert_string_equal (s_col (emp, "surveillance_level")->default_expr, "2");
            assert_string_equal (s_col (emp, "productivity_score")->default_expr, "50.0");
            wes_table_t *dm = wes_model_find_table (m, "department_member");
            assert_string_equal (s_col (dm, "role")->default_expr, "'member'");
            /*  FK to a unique (not primary key) column is accepted. */
            assert_string_equal (s_con (dm, "department_member_user_id_fkey")->ref_table,
                                 "employee");
            assert_null (wes_model_find_table (m, "query"));
        }
        if (strcmp (e->d_name, "rpc-example.graphql") == 0) {
            assert_int_equal (wes_model_table_count (m), 3);
            assert_int_equal (wes_model_enum_count (m), 1);
            wes_table_t *u = wes_model_find_table (m, "user");
            s_col_is (u, "role", "user_role", true);
            s_col_is (wes_model_find_table (m, "post"), "tags", "text[]", true);
            assert_true (s_col (wes_model_find_table (m, "post"), "tags")->array_elem_not_null);
            s_expect (diag, WES_DIAG_WARNING, 4, 22, "unknown directive @grant kept as metadata");
        }
        wes_model_destroy (&m);
        wes_diag_destroy (&diag);
        files++;
    }
    closedir (d);
    assert_true (files >= 6);
}

static void
test_mapping_and_naming (void **state)
{
    (void)state;
    wes_diag_t *diag = NULL;
    wes_model_t *m = s_compile_ok (
        "enum UserRole { ADMIN USER }\n"
        "type OrderItem @wes_table {\n"
        "  id: ID! @wes_pk\n"
        "  s: String\n"
        "  i: Int!\n"
        "  f: Float\n"
        "  b: Boolean\n"
        "  dt: DateTime\n"
        "  d: Date\n"
        "  t: Time\n"
        "  j: JSON\n"
        "  u: UUID\n"
        "  bi: BigInt\n"
        "  dec: Decimal\n"
        "  ip: Inet\n"
        "  net: CIDR\n"
        "  mac: MacAddr\n"
        "  role: UserRole! @wes_default(value: USER)\n"
        "  roles: [UserRole!]\n"
        "  tags: [String]!\n"
        "  createdAt: DateTime! @wes_default(expr: \"now()\")\n"
        "  price: Float @wes_column(name: \"price_cents\", type: \"NUMERIC(12, 2)\")\n"
        "  code: String @wes_column(type: \"varchar(8)\")\n"
        "  codes: [String] @wes_column(type: \"varchar(8)\")\n"
        "  geo: GeoPoint @wes_column(type: \"geometry(Point,4326)\")\n"
        "}\n"
        "type HTTPServer @wes_table(name: \"servers\") { userID: ID! @wes_pk }\n"
        "type HTTPClient @table { id: ID! @primaryKey }\n"
        "type Query { orderItems(first: Int): [OrderItem!]! }\n",
        &diag);
    s_expect_counts (diag, 0, 0);
    assert_int_equal (wes_model_table_count (m), 3);
    wes_table_t *t = wes_model_find_table (m, "order_item");
    assert_non_null (t);
    assert_string_equal (t->gql_name, "OrderItem");
    s_col_is (t, "id", "uuid", true);
    s_col_is (t, "s", "text", false);
    s_col_is (t, "i", "integer", true);
    s_col_is (t, "f", "double precision", false);
    s_col_is (t, "b", "boolean", false);
    s_col_is (t, "dt", "timestamp with time zone", false);
    s_col_is (t, "d", "date", false);
    s_col_is (t, "t", "time without time zone", false);
    s_col_is (t, "j", "jsonb", false);
    s_col_is (t, "u", "uuid", false);
    s_col_is (t, "bi", "bigint", false);
    s_col_is (t, "dec", "numeric", false);
    s_col_is (t, "ip", "inet", false);
    s_col_is (t, "net", "cidr", false);
    s_col_is (t, "mac", "macaddr", false);
    s_col_is (t, "role", "user_role", true);
    wes_column_t *role = s_col (t, "role");
    assert_string_equal (role->enum_name, "UserRole");
    assert_string_equal (role->default_expr, "'USER'");
    s_col_is (t, "roles", "user_role[]", false);
    assert_true (s_col (t, "roles")->is_array);
    assert_true (s_col (t, "roles")->array_elem_not_null);
    assert_string_equal (s_col (t, "roles")->gql_type, "[UserRole!]");
    s_col_is (t, "tags", "text[]", true);
    assert_false (s_col (t, "tags")->array_elem_not_null);
    s_col_is (t, "created_at", "timestamp with time zone", true);
    assert_string_equal (s_col (t, "created_at")->gql_name, "createdAt");
    assert_string_equal (s_col (t, "created_at")->default_expr, "now()");
    s_col_is (t, "price_cents", "numeric(12,2)", false);
    s_col_is (t, "code", "character varying(8)", false);
    s_col_is (t, "codes", "character varying(8)[]", false);
    s_col_is (t, "geo", "geometry(point,4326)", false);
    assert_int_equal (s_col (t, "id")->ordinal, 0);
    assert_int_equal (s_col (t, "geo")->ordinal, 22);
    assert_int_equal (s_col (t, "dt")->pos.line, 8);
    assert_int_equal (s_col (t, "dt")->pos.col, 3);
    wes_enum_t *e = wes_model_find_enum (m, "user_role");
    assert_non_null (e);
    assert_int_equal (e->n_values, 2);
    assert_string_equal (e->values[0], "ADMIN");
    assert_string_equal (e->gql_name, "UserRole");
    wes_table_t *srv = wes_model_find_table (m, "servers");
    s_col_is (srv, "user_id", "uuid", true);
    assert_string_equal (wes_table_primary_key (srv)->name, "servers_pkey");
    wes_table_t *cl = wes_model_find_table (m, "http_client");
    assert_non_null (cl);
    assert_string_equal (wes_table_primary_key (cl)->name, "http_client_pkey");
    wes_model_destroy (&m);
    wes_diag_destroy (&diag);
}

static void
test_defaults (void **state)
{
    (void)state;
    wes_diag_t *diag = NULL;
    wes_model_t *m =
        s_compile_ok ("type D @wes_table {\n"
                      "  id: ID! @wes_pk\n"
                      "  role: String @wes_default(value: \"it's\")\n"
                      "  n: Int @wes_default(value: \"3\")\n"
                      "  n2: Int @default(value: -7)\n"
                      "  x: Float @wes_default(value: 50.0)\n"
                      "  ok: Boolean @wes_default(value: \"TRUE\")\n"
                      "  ok2: Boolean @wes_default(value: false)\n"
                      "  j: JSON @wes_default(value: \"{\\\"a\\\":1}\")\n"
                      "  at: DateTime @wes_default(value: \"now()\")\n"
                      "  c: String @wes_column(type: \"citext\") @wes_default(value: \"x\")\n"
                      "  big: BigInt @wes_default(value: 12)\n"
                      "}\n",
                      &diag);
    wes_table_t *t = wes_model_find_table (m, "d");
    assert_string_equal (s_col (t, "role")->default_expr, "'it''s'");
    assert_string_equal (s_col (t, "n")->default_expr, "3");
    assert_string_equal (s_col (t, "n2")->default_expr, "-7");
    assert_string_equal (s_col (t, "x")->default_expr, "50.0");
    assert_string_equal (s_col (t, "ok")->default_expr, "true");
    assert_string_equal (s_col (t, "ok2")->default_expr, "false");
    assert_string_equal (s_col (t, "j")->default_expr, "'{\"a\":1}'::jsonb");
    assert_string_equal (s_col (t, "at")->default_expr, "now()");
    assert_string_equal (s_col (t, "c")->default_expr, "'x'");
    assert_string_equal (s_col (t, "big")->default_expr, "12");
    assert_null (s_col (t, "id")->default_expr);
    s_expect_counts (diag, 0, 1);
    s_expect (diag, WES_DIAG_WARNING, 10, 36, "looks like a function call; use expr: to say so");
    wes_model_destroy (&m);
    wes_diag_destroy (&diag);
}

static void
test_constraints_indexes_rls (void **state)
{
    (void)state;
    wes_diag_t *diag = NULL;
    wes_model_t *m = s_compile_ok (
        "type Account @wes_table @wes_tenant(by: \"orgId\")\n"
        "    @wes_unique(fields: [\"orgId\", \"email\"])\n"
        "    @wes_index(fields: [\"email\"], using: gin, where: \"email IS NOT NULL\", name: "
        "\"acct_email\")\n"
        "    @wes_index(fields: \"orgId\", unique: true)\n"
        "    @wes_check(expr: \"true\")\n"
        "    @wes_rls(select: \"true\", update: \"owner = current_user\", roles: [\"web\", "
        "\"admin\"]) {\n"
        "  id: ID! @wes_pk\n"
        "  orgId: UUID!\n"
        "  email: String! @wes_index @wes_check(expr: \"email <> ''\")\n"
        "  parentId: ID @wes_fk(ref: \"Account.id\", onDelete: SET_NULL, onUpdate: \"cascade\")\n"
        "  otherId: ID @fk(ref: \"Account.id\", onDelete: \"set null\", onUpdate: restrict)\n"
        "  lastId: ID @foreignKey(ref: \"Account.id\", onDelete: SET_DEFAULT, onUpdate: "
        "NO_ACTION)\n"
        "}\n",
        &diag);
    s_expect_counts (diag, 0, 0);
    wes_table_t *t = wes_model_find_table (m, "account");
    assert_int_equal (t->n_constraints, 7);
    wes_constraint_t *pk = s_con (t, "account_pkey");
    assert_int_equal (pk->kind, WES_CON_PRIMARY);
    assert_int_equal (pk->n_columns, 1);
    wes_constraint_t *uq = s_con (t, "account_org_id_email_key");
    assert_int_equal (uq->kind, WES_CON_UNIQUE);
    assert_string_equal (uq->columns[0], "org_id");
    assert_string_equal (uq->columns[1], "email");
    wes_constraint_t *ck = s_con (t, "account_check");
    assert_int_equal (ck->kind, WES_CON_CHECK);
    assert_string_equal (ck->check_expr, "true");
    assert_int_equal (ck->n_columns, 0);
    assert_string_equal (s_con (t, "account_email_check")->check_expr, "email <> ''");
    wes_constraint_t *fk = s_con (t, "account_parent_id_fkey");
    assert_int_equal (fk->kind, WES_CON_FOREIGN);
    assert_string_equal (fk->ref_table, "account");
    assert_int_equal (fk->on_delete, WES_FK_SET_NULL);
    assert_int_equal (fk->on_update, WES_FK_CASCADE);
    fk = s_con (t, "account_other_id_fkey");
    assert_int_equal (fk->on_delete, WES_FK_SET_NULL);
    assert_int_equal (fk->on_update, WES_FK_RESTRICT);
    fk = s_con (t, "account_last_id_fkey");
    assert_int_equal (fk->on_delete, WES_FK_SET_DEFAULT);
    assert_int_equal (fk->on_update, WES_FK_NO_ACTION);
    assert_int_equal (t->n_indexes, 3);
    wes_index_t *ix = s_idx (t, "acct_email");
    assert_string_equal (ix->method, "gin");
    assert_string_equal (ix->where, "email IS NOT NULL");
    assert_false (ix->unique);
    ix = s_idx (t, "account_email_idx");
    assert_string_equal (ix->method, "btree");
    assert_null (ix->where);
    ix = s_idx (t, "account_org_id_idx");
    assert_true (ix->unique);
    assert_true (t->rls_enabled);
    assert_string_equal (t->tenant_column, "org_id");
    assert_int_equal (t->n_policies, 3);
    wes_policy_t *p = s_pol (t, "account_tenant_isolation");
    assert_int_equal (p->cmd, WES_POLICY_ALL);
    assert_string_equal (p->using_expr,
                         "\"org_id\" = current_setting('wesley.tenant_id', true)::uuid");
    assert_string_equal (p->check_expr, p->using_expr);
    assert_int_equal (p->n_roles, 0);
    p = s_pol (t, "account_select_policy");
    assert_int_equal (p->cmd, WES_POLICY_SELECT);
    assert_string_equal (p->using_expr, "true");
    assert_null (p->check_expr);
    assert_int_equal (p->n_roles, 2);
    assert_string_equal (p->roles[0], "admin");
    assert_string_equal (p->roles[1], "web");
    p = s_pol (t, "account_update_policy");
    assert_string_equal (p->using_expr, "owner = current_user");
    assert_string_equal (p->check_expr, "owner = current_user");
    wes_model_destroy (&m);
    wes_diag_destroy (&diag);
}

static void
test_extend_composite_rename (void **state)
{
    (void)state;
    wes_diag_t *diag = NULL;
    wes_model_t *m =
        s_compile_ok ("type Membership @wes_table @wes_renamedFrom(name: \"members\")\n"
                      "    @wes_rls(enabled: false, select: \"true\") {\n"
                      "  userId: ID! @wes_pk\n"
                      "  groupId: ID! @wes_pk @wes_renamedFrom(name: \"team_id\")\n"
                      "}\n"
                      "extend type Membership @wes_index(fields: [\"groupId\", \"userId\"]) {\n"
                      "  note: String\n"
                      "}\n"
                      "type Query { hello: String }\n"
                      "extend type Query { bye(x: Int): String }\n",
                      &diag);
    wes_table_t *t = wes_model_find_table (m, "membership");
    assert_string_equal (t->renamed_from, "members");
    wes_constraint_t *pk = wes_table_primary_key (t);
    assert_string_equal (pk->name, "membership_pkey");
    assert_int_equal (pk->n_columns, 2);
    assert_string_equal (pk->columns[0], "user_id");
    assert_string_equal (pk->columns[1], "group_id");
    assert_string_equal (s_col (t, "group_id")->renamed_from, "team_id");
    s_col_is (t, "note", "text", false);
    assert_false (t->rls_enabled);
    assert_int_equal (t->n_policies, 0);
    wes_index_t *ix = s_idx (t, "membership_group_id_user_id_idx");
    assert_string_equal (ix->columns[0], "group_id");
    assert_string_equal (ix->columns[1], "user_id");
    wes_model_destroy (&m);
    wes_diag_destroy (&diag);
}

static void
test_generated_name_collisions (void **state)
{
    (void)state;
    const char *a = "type A @wes_table { id: ID! @wes_pk  bC: Int @wes_unique }\n"
                    "type AB @wes_table(name: \"a_b\") { id: ID! @wes_pk  c: Int @wes_unique }\n";
    const char *b = "type AB @wes_table(name: \"a_b\") { id: ID! @wes_pk  c: Int @wes_unique }\n"
                    "type A @wes_table { id: ID! @wes_pk  bC: Int @wes_unique }\n";
    wes_diag_t *da = NULL, *db = NULL;
    wes_model_t *ma = s_compile_ok (a, &da);
    wes_model_t *mb = s_compile_ok (b, &db);
    wes_model_t *ms[2] = {ma, mb};
    for (int i = 0; i < 2; i++) {
        wes_table_t *ta = wes_model_find_table (ms[i], "a");
        wes_table_t *tab = wes_model_find_table (ms[i], "a_b");
        assert_string_equal (s_con (ta, "a_b_c_key")->columns[0], "b_c");
        assert_string_equal (s_con (tab, "a_b_c_key1")->columns[0], "c");
    }
    char ha[65], hb[65];
    wes_model_hash (ma, ha);
    wes_model_hash (mb, hb);
    assert_string_equal (ha, hb);
    wes_model_destroy (&ma);
    wes_model_destroy (&mb);
    wes_diag_destroy (&da);
    wes_diag_destroy (&db);

    /*  A user-given name is kept; the generated one steps around it. */
    wes_diag_t *dc = NULL;
    wes_model_t *mc = s_compile_ok ("type T @wes_table {\n"
                                    "  id: ID! @wes_pk\n"
                                    "  x: Int @wes_index @wes_index(name: \"t_x_idx\")\n"
                                    "}\n",
                                    &dc);
    wes_table_t *t = wes_model_find_table (mc, "t");
    assert_non_null (s_idx (t, "t_x_idx"));
    assert_non_null (s_idx (t, "t_x_idx1"));
    wes_model_destroy (&mc);
    wes_diag_destroy (&dc);

    /*  Generated names longer than 63 bytes are shortened, not refused. */
    char sdl[1024];
    char tname[61];
    memset (tname, 'l', 60);
    tname[60] = '\0';
    snprintf (sdl, sizeof sdl,
              "type L @wes_table(name: \"%s\") {\n  id: ID! @wes_pk\n"
              "  someColumn: Int @wes_index\n  otherColumn: Int @wes_index\n}\n",
              tname);
    wes_diag_t *dl = NULL;
    wes_model_t *ml = s_compile_ok (sdl, &dl);
    t = wes_model_find_table (ml, tname);
    assert_int_equal (t->n_indexes, 2);
    assert_int_equal (strlen (t->indexes[0]->name), 63);
    assert_int_equal (strlen (t->indexes[1]->name), 63);
    assert_string_not_equal (t->indexes[0]->name, t->indexes[1]->name);
    assert_memory_equal (t->indexes[0]->name, tname, 54);
    assert_int_equal (strlen (wes_table_primary_key (t)->name), 63); /* 60 + "_pkey" */
    wes_model_destroy (&ml);
    wes_diag_destroy (&dl);
}

static void
test_hash_independent_of_order_and_format (void **state)
{
    (void)state;
    const char *one = "enum Status { OPEN CLOSED }\n"
                      "type User @wes_table {\n"
                      "  id: ID! @wes_pk\n"
                      "  email: String! @wes_unique\n"
                      "  status: Status! @wes_default(value: OPEN)\n"
                      "}\n"
                      "type Post @wes_table @wes_rls(select: \"true\", roles: [\"a\", \"b\"]) {\n"
                      "  id: ID! @wes_pk\n"
                      "  authorId: ID! @wes_fk(ref: \"User.id\", onDelete: CASCADE) @wes_index\n"
                      "  title: String @wes_check(expr: \"length(title) > 0\")\n"
                      "}\n";
    const char *two = "# the same schema, another order and layout\n"
                      "type Post @wes_rls(roles: [\"b\", \"a\"], select: \"true\") @wes_table\n"
                      "{\n"
                      "  title: String   @wes_check(expr: \"length(title) > 0\")\n"
                      "  authorId: ID!\n"
                      "    @wes_index\n"
                      "    @wes_fk(onDelete: \"cascade\", ref: \"User.id\")\n"
                      "  id: ID! @wes_pk\n"
                      "}\n"
                      "type User @wes_table { status: Status! @wes_default(value: \"OPEN\") "
                      "email: String! @unique id: ID! @pk }\n"
                      "enum Status {\n  OPEN\n  CLOSED\n}\n";
    const char *meta = "enum Status { OPEN CLOSED }\n"
                       "\"A user\"\n"
                       "type User @wes_table @critical {\n"
                       "  id: ID! @wes_pk @uid(value: \"u\")\n"
                       "  email: String! @wes_unique @pii\n"
                       "  status: Status! @wes_default(value: OPEN)\n"
                       "  posts: [Post!]! @hasMany\n"
                       "}\n"
                       "type Post @wes_table @wes_rls(select: \"true\", roles: [\"a\", \"b\"]) {\n"
                       "  id: ID! @wes_pk\n"
                       "  authorId: ID! @wes_fk(ref: \"User.id\", onDelete: CASCADE) @wes_index\n"
                       "  title: String @wes_check(expr: \"length(title) > 0\") @weight(value: 3)\n"
                       "}\n";
    const char *fact = "enum Status { OPEN CLOSED }\n"
                       "type User @wes_table {\n"
                       "  id: ID! @wes_pk\n"
                       "  email: String! @wes_unique\n"
                       "  status: Status! @wes_default(value: OPEN)\n"
                       "}\n"
                       "type Post @wes_table @wes_rls(select: \"true\", roles: [\"a\", \"b\"]) {\n"
                       "  id: ID! @wes_pk\n"
                       "  authorId: ID! @wes_fk(ref: \"User.id\", onDelete: CASCADE) @wes_index\n"
                       "  title: String! @wes_check(expr: \"length(title) > 0\")\n"
                       "}\n";
    const char *sdls[4] = {one, two, meta, fact};
    char hashes[4][65];
    char *bytes[4];
    for (int i = 0; i < 4; i++) {
        wes_diag_t *diag = NULL;
        wes_model_t *m = s_compile_ok (sdls[i], &diag);
        wes_model_hash (m, hashes[i]);
        bytes[i] = wes_model_canonical_bytes (m, NULL);
        wes_model_destroy (&m);
        wes_diag_destroy (&diag);
    }
    assert_string_equal (bytes[0], bytes[1]);
    assert_string_equal (hashes[0], hashes[1]);
    assert_string_equal (hashes[0], hashes[2]);
    assert_string_not_equal (hashes[0], hashes[3]);
    for (int i = 0; i < 4; i++) {
        free (bytes[i]);
    }
}

static void
test_metadata_and_warnings (void **state)
{
    (void)state;
    wes_diag_t *diag = NULL;
    wes_model_t *m = s_compile_ok (
        "directive @audited(by: String) on OBJECT | FIELD_DEFINITION\n"
        "directive @wes_fk(ref: String!, onDelete: String, onUpdate: String) on "
        "FIELD_DEFINITION\n"
        "directive @wes_unique(fields: [String!], name: String) repeatable on OBJECT | "
        "FIELD_DEFINITION\n"
        "type T @wes_table @audited(by: \"ops\") @uid(value: \"tbl:t\") @mystery {\n"
        "  id: ID! @wes_pk @weight(value: 9) @pii @sensitive @critical\n"
        "  old: String @deprecated(reason: \"gone\") @tag(name: \"a\") @tag(name: \"b\")\n"
        "}\n",
        &diag);
    s_expect_counts (diag, 0, 3);
    s_expect (diag, WES_DIAG_WARNING, 4, 60, "unknown directive @mystery kept as metadata");
    s_expect (diag, WES_DIAG_WARNING, 6, 43, "unknown directive @tag kept as metadata");
    s_expect (diag, WES_DIAG_WARNING, 6, 59, "unknown directive @tag kept as metadata");
    wes_table_t *t = wes_model_find_table (m, "t");
    json_t *tdirs = wes_model_directives_json (t->directives);
    assert_string_equal (
        json_string_value (json_object_get (json_object_get (tdirs, "audited"), "by")), "ops");
    assert_non_null (json_object_get (tdirs, "mystery"));
    json_decref (tdirs);
    wes_column_t *id = s_col (t, "id");
    json_t *idirs = wes_model_directives_json (id->directives);
    assert_int_equal (
        json_integer_value (json_object_get (json_object_get (idirs, "weight"), "value")), 9);
    assert_non_null (json_object_get (idirs, "pii"));
    assert_null (json_object_get (idirs, "wes_pk"));
    json_decref (idirs);
    json_t *odirs = wes_model_directives_json (s_col (t, "old")->directives);
    json_t *tags = json_object_get (odirs, "tag");
    assert_true (json_is_array (tags));
    assert_int_equal (json_array_size (tags), 2);
    json_decref (odirs);
    wes_model_destroy (&m);
    wes_diag_destroy (&diag);
}

/* ---------------------------------------------------------------------- */
/*  Validation errors: each at its line:col, each exactly once.            */

static void
test_errors_unmappable_types (void **state)
{
    (void)state;
    wes_diag_t *diag = NULL;
    wes_model_t *m = s_compile ("scalar Money\n"
                                "interface Node { id: ID! }\n"
                                "input Filter { q: String }\n"
                                "union Thing = Plain\n"
                                "type Plain { x: Int }\n"
                                "type T @wes_table {\n"
                                "  id: ID! @wes_pk\n"
                                "  a: Money\n"
                                "  b: Mystery\n"
                                "  c: Node\n"
                                "  d: Filter\n"
                                "  e: Thing\n"
                                "  f: Plain\n"
                                "  g: [[Int]]\n"
                                "}\n",
                                &diag);
    assert_null (m);
    s_expect (diag, WES_DIAG_ERROR, 8, 6,
              "field T.a has unknown scalar Money: declare its PostgreSQL type with "
              "@wes_column(type: \"...\")");
    s_expect (diag, WES_DIAG_ERROR, 9, 6, "type Mystery, which is not defined");
    s_expect (diag, WES_DIAG_ERROR, 10, 6, "type Node, an interface, which cannot be a column");
    s_expect (diag, WES_DIAG_ERROR, 11, 6, "an input type, which cannot be a column");
    s_expect (diag, WES_DIAG_ERROR, 12, 6, "a union, which cannot be a column");
    s_expect (diag, WES_DIAG_ERROR, 13, 6, "an object type that is not a table");
    s_expect (diag, WES_DIAG_ERROR, 14, 6, "nested lists ([[Int]]) cannot be columns");
    s_expect_counts (diag, 7, 0);
    wes_diag_destroy (&diag);
}

static void
test_errors_relations (void **state)
{
    (void)state;
    wes_diag_t *diag = NULL;
    wes_model_t *m = s_compile ("type A @wes_table {\n"
                                "  id: ID! @wes_pk\n"
                                "  b: B\n"
                                "  p: Plain @hasMany\n"
                                "  bs: [B!]! @wes_hasMany\n"
                                "  q(first: Int): String\n"
                                "  c: B @belongsTo @wes_unique\n"
                                "}\n"
                                "type B @wes_table { id: ID! @wes_pk }\n"
                                "type Plain { x: Int }\n",
                                &diag);
    assert_null (m);
    s_expect (diag, WES_DIAG_ERROR, 3, 6,
              "field A.b has type B, which is a table: mark it as a "
              "relation");
    s_expect (diag, WES_DIAG_ERROR, 4, 6, "relation field A.p: type Plain is not a table");
    s_expect (diag, WES_DIAG_ERROR, 6, 5, "field q of table type A takes arguments");
    s_expect (diag, WES_DIAG_ERROR, 7, 19,
              "directive @wes_unique cannot be used on relation field A.c");
    s_expect_counts (diag, 4, 0);
    wes_diag_destroy (&diag);
}

static void
test_errors_keys (void **state)
{
    (void)state;
    wes_diag_t *diag = NULL;
    wes_model_t *m = s_compile ("type NoKey @wes_table {\n"
                                "  name: String\n"
                                "}\n"
                                "type NullKey @wes_table {\n"
                                "  id: ID @wes_pk\n"
                                "}\n",
                                &diag);
    assert_null (m);
    s_expect (diag, WES_DIAG_ERROR, 1, 6,
              "table no_key (type NoKey) has no primary key: mark its key field(s) with @wes_pk");
    s_expect (diag, WES_DIAG_ERROR, 5, 10, "primary key field NullKey.id must be non-null (ID!)");
    s_expect_counts (diag, 2, 0);
    wes_diag_destroy (&diag);
}

static void
test_errors_foreign_keys (void **state)
{
    (void)state;
    wes_diag_t *diag = NULL;
    wes_model_t *m =
        s_compile ("type P @wes_table {\n"
                   "  id: ID! @wes_pk\n"
                   "  code: String!\n"
                   "  n: Int! @wes_unique\n"
                   "}\n"
                   "type C @wes_table {\n"
                   "  id: ID! @wes_pk\n"
                   "  a: ID @wes_fk(ref: \"P\")\n"
                   "  b: ID @wes_fk(ref: \"Nope.id\")\n"
                   "  c: ID @wes_fk(ref: \"Plain.x\")\n"
                   "  d: ID @wes_fk(ref: \"P.zz\")\n"
                   "  e: ID @wes_fk(ref: \"P.n\")\n"
                   "  f: String @wes_fk(ref: \"P.code\")\n"
                   "  g: ID! @wes_fk(ref: \"P.id\", onDelete: SET_NULL)\n"
                   "  h: ID @wes_fk(ref: \"P.id\", onUpdate: \"EXPLODE\")\n"
                   "  i: ID @wes_fk(ref: \"P.id\", onDelete: \"set null\", onUpdate: cascade)\n"
                   "  j: Int @wes_fk(ref: \"P.code\")\n"
                   "}\n"
                   "type Plain { x: Int }\n",
                   &diag);
    assert_null (m);
    s_expect (diag, WES_DIAG_ERROR, 8, 22,
              "directive @wes_fk ref: expected \"Type.field\", found \"P\"");
    s_expect (diag, WES_DIAG_ERROR, 9, 22, "directive @wes_fk ref: type Nope is not defined");
    s_expect (diag, WES_DIAG_ERROR, 10, 22, "directive @wes_fk ref: type Plain is not a table");
    s_expect (diag, WES_DIAG_ERROR, 11, 22, "directive @wes_fk ref: type P has no column field zz");
    s_expect (diag, WES_DIAG_ERROR, 12, 22,
              "column c.e (uuid) and referenced column p.n (integer) have different types");
    s_expect (diag, WES_DIAG_ERROR, 13, 26,
              "referenced column p.code is neither the primary key nor unique; PostgreSQL "
              "requires one");
    s_expect (diag, WES_DIAG_ERROR, 14, 41,
              "directive @wes_fk onDelete: SET NULL on column c.g, which is NOT NULL");
    s_expect (diag, WES_DIAG_ERROR, 15, 40, "directive @wes_fk onUpdate: unknown action EXPLODE");
    /*  Two violations of one foreign key: two errors. */
    s_expect (diag, WES_DIAG_ERROR, 17, 23, "have different types");
    s_expect (diag, WES_DIAG_ERROR, 17, 23, "neither the primary key nor unique");
    s_expect_counts (diag, 10, 0);
    wes_diag_destroy (&diag);
}

static void
test_errors_directive_arguments (void **state)
{
    (void)state;
    wes_diag_t *diag = NULL;
    wes_model_t *m = s_compile ("type T @wes_table(name: 5) {\n"
                                "  id: ID! @wes_pk(bogus: 1)\n"
                                "  x: Int @wes_check\n"
                                "  y: Int @wes_index(using: \"zigzag\")\n"
                                "  z: Int @wes_default(value: 1, expr: \"2\")\n"
                                "  w: Int @wes_default\n"
                                "  v: Int @wes_default(value: \"abc\")\n"
                                "  u: Boolean @wes_default(value: \"yes\")\n"
                                "  s: Int @wes_unique(name: [\"a\"])\n"
                                "  r: Float @wes_default(value: \"1.2.3\")\n"
                                "  q: Role @wes_default(value: GUEST)\n"
                                "  o: Int @wes_index(unique: \"yes\", name: \"o\", name: \"p\")\n"
                                "}\n"
                                "enum Role { ADMIN USER }\n",
                                &diag);
    assert_null (m);
    s_expect (diag, WES_DIAG_ERROR, 1, 25,
              "directive @wes_table argument name: expected a String, found an Int 5");
    s_expect (diag, WES_DIAG_ERROR, 2, 19,
              "directive @wes_pk has no argument bogus (it takes no arguments)");
    s_expect (diag, WES_DIAG_ERROR, 3, 10, "directive @wes_check needs argument expr (a String)");
    s_expect (diag, WES_DIAG_ERROR, 4, 28,
              "directive @wes_index using: unknown index method zigzag (btree, hash, gist, gin, "
              "brin or spgist)");
    s_expect (diag, WES_DIAG_ERROR, 5, 10,
              "directive @wes_default needs exactly one of value: or expr: (both given)");
    s_expect (diag, WES_DIAG_ERROR, 6, 10,
              "directive @wes_default needs exactly one of value: or expr: (neither given)");
    s_expect (diag, WES_DIAG_ERROR, 7, 30,
              "default value \"abc\" of column t.v is not a valid integer");
    s_expect (diag, WES_DIAG_ERROR, 8, 34,
              "default value \"yes\" of column t.u is not a boolean (true or false)");
    s_expect (diag, WES_DIAG_ERROR, 9, 28,
              "directive @wes_unique argument name: expected a String, found a list");
    s_expect (diag, WES_DIAG_ERROR, 10, 32,
              "default value \"1.2.3\" of column t.r is not a valid double precision");
    s_expect (diag, WES_DIAG_ERROR, 11, 31,
              "default value GUEST of column t.q is not a value of enum Role");
    s_expect (diag, WES_DIAG_ERROR, 12, 29,
              "directive @wes_index argument unique: expected a Boolean, found a String");
    s_expect (diag, WES_DIAG_ERROR, 12, 47, "directive @wes_index: argument name given twice");
    s_expect_counts (diag, 13, 0);
    wes_diag_destroy (&diag);
}

static void
test_errors_names_and_duplicates (void **state)
{
    (void)state;
    char x64[65], c64[65];
    memset (x64, 'x', 64);
    x64[64] = '\0';
    memset (c64, 'c', 64);
    c64[64] = '\0';
    char sdl[4096];
    snprintf (sdl, sizeof sdl,
              "type A @wes_table(name: \"%s\") { id: ID! @wes_pk }\n"
              "type B @wes_table(name: \"a_dup\") { id: ID! @wes_pk }\n"
              "type C @wes_table(name: \"a_dup\") { id: ID! @wes_pk }\n"
              "type D @wes_table {\n"
              "  id: ID! @wes_pk\n"
              "  userId: Int\n"
              "  user_id: Int\n"
              "  id: Int\n"
              "  c1: Int @wes_check(expr: \"c1 > 0\", name: \"same\")\n"
              "  c2: Int @wes_check(expr: \"c2 > 0\", name: \"same\")\n"
              "  c3: Int @wes_column(name: \"%s\")\n"
              "}\n"
              "enum Color { RED GREEN RED }\n"
              "type A { x: Int }\n"
              "extend type Ghost { x: Int }\n"
              "type Shade2 @wes_table(name: \"shade\") { id: ID! @wes_pk }\n"
              "enum Shade { X }\n"
              "type E @wes_table { id: ID! @wes_pk @wes_index(name: \"b_dup\") }\n"
              "type F @wes_table { id: ID! @wes_pk @wes_unique(name: \"b_dup\") }\n"
              "type G @wes_table { id: ID! @wes_pk @wes_index(name: \"a_dup\") }\n"
              "type ThisTypeNameIsWayTooLongForPostgresqlBecauseItGoesOnAndOnForeverX "
              "@wes_table { id: ID! @wes_pk }\n"
              "enum Long { OK %s }\n",
              x64, c64, x64);
    wes_diag_t *diag = NULL;
    wes_model_t *m = s_compile (sdl, &diag);
    assert_null (m);
    char want[256];
    snprintf (want, sizeof want, "table name %s is 64 bytes, longer than PostgreSQL's 63", x64);
    s_expect (diag, WES_DIAG_ERROR, 1, 25, want);
    s_expect (diag, WES_DIAG_ERROR, 3, 25,
              "table name a_dup of object type C is already used by object type B (line 2)");
    s_expect (diag, WES_DIAG_ERROR, 7, 3,
              "column user_id of table d is defined twice (fields userId and user_id, at 6:3)");
    s_expect (diag, WES_DIAG_ERROR, 8, 3, "type D has field id twice (first at 5:3)");
    s_expect (diag, WES_DIAG_ERROR, 10, 11,
              "constraint or index name same is already used (at 9:11)");
    snprintf (want, sizeof want, "column name %s is 64 bytes", c64);
    s_expect (diag, WES_DIAG_ERROR, 11, 29, want);
    s_expect (diag, WES_DIAG_ERROR, 13, 24, "enum Color has value RED twice (first at 13:14)");
    s_expect (diag, WES_DIAG_ERROR, 14, 6, "type A is defined twice (first at 1:6)");
    s_expect (diag, WES_DIAG_ERROR, 15, 13, "cannot extend object type Ghost: it is not defined");
    s_expect (diag, WES_DIAG_ERROR, 17, 6,
              "enum type name shade of enum Shade is already used by object type Shade2 (line 16)");
    /*  Index and unique-constraint names share the schema's namespace. */
    s_expect (diag, WES_DIAG_ERROR, 19, 37,
              "constraint or index name b_dup is already used (at 18:37)");
    s_expect (diag, WES_DIAG_ERROR, 20, 37, "name a_dup is already used by table a_dup");
    s_expect (diag, WES_DIAG_ERROR, 21, 6, "is 81 bytes, longer than PostgreSQL's 63");
    snprintf (want, sizeof want, "enum Long value %s is 64 bytes, longer than PostgreSQL's 63",
              x64);
    s_expect (diag, WES_DIAG_ERROR, 22, 16, want);
    s_expect_counts (diag, 14, 0);
    wes_diag_destroy (&diag);
}

static void
test_errors_declarations_and_placement (void **state)
{
    (void)state;
    wes_diag_t *diag = NULL;
    wes_model_t *m = s_compile (
        "directive @wes_pk on OBJECT\n"
        "directive @wes_fk(ref: Int, extra: String) on FIELD_DEFINITION\n"
        "directive @wes_unique(fields: [String!], name: String) repeatable on FIELD_DEFINITION "
        "| OBJECT\n"
        "directive @audited on OBJECT\n"
        "type Query @wes_rls(select: \"true\") {\n"
        "  hello: String @wes_pk\n"
        "}\n"
        "type T @wes_table @audited @mystery @uid(value: \"x\") {\n"
        "  id: ID! @wes_pk @pii @frob\n"
        "}\n"
        "directive @wes_table(name: String) repeatable on OBJECT\n",
        &diag);
    assert_null (m);
    s_expect (diag, WES_DIAG_ERROR, 1, 22,
              "directive @wes_pk is declared on OBJECT, but Wesley's @wes_pk is allowed only on "
              "FIELD_DEFINITION");
    s_expect (diag, WES_DIAG_ERROR, 2, 24,
              "directive @wes_fk is declared with argument ref: Int, but Wesley expects a String");
    s_expect (diag, WES_DIAG_ERROR, 2, 29,
              "directive @wes_fk is declared with argument extra, which Wesley's @wes_fk does not "
              "take");
    s_expect (diag, WES_DIAG_ERROR, 5, 12,
              "directive @wes_rls on object type Query, which is not a table (add @wes_table to "
              "the type)");
    s_expect (diag, WES_DIAG_ERROR, 6, 17,
              "directive @wes_pk on field Query.hello, which is not a table");
    s_expect (diag, WES_DIAG_ERROR, 11, 12,
              "directive @wes_table is declared repeatable, but Wesley's @wes_table is not");
    s_expect (diag, WES_DIAG_WARNING, 8, 28, "unknown directive @mystery kept as metadata");
    s_expect (diag, WES_DIAG_WARNING, 9, 24, "unknown directive @frob kept as metadata");
    s_expect_counts (diag, 6, 2);
    wes_diag_destroy (&diag);

    /*  Likely typos of Wesley's directives say what was probably meant. */
    m = s_compile ("type T @wes_table @wes_tabel @Table {\n"
                   "  id: ID! @wes_pk @primarykey @wes_uniq @fkk(ref: \"T.id\") @zzz\n"
                   "}\n",
                   &diag);
    assert_non_null (m);
    s_expect (diag, WES_DIAG_WARNING, 1, 19,
              "unknown directive @wes_tabel kept as metadata (did you mean @wes_table?)");
    s_expect (diag, WES_DIAG_WARNING, 1, 30,
              "unknown directive @Table kept as metadata (did you mean @table?)");
    s_expect (diag, WES_DIAG_WARNING, 2, 19,
              "unknown directive @primarykey kept as metadata (did you mean @primaryKey?)");
    s_expect (diag, WES_DIAG_WARNING, 2, 31,
              "unknown directive @wes_uniq kept as metadata (did you mean @wes_unique?)");
    s_expect (diag, WES_DIAG_WARNING, 2, 41,
              "unknown directive @fkk kept as metadata (did you mean @fk?)");
    s_expect (diag, WES_DIAG_WARNING, 2, 59, "unknown directive @zzz kept as metadata");
    for (size_t i = 0; i < wes_diag_count (diag); i++) {
        if (strstr (wes_diag_message (diag, i), "@zzz")) {
            assert_null (strstr (wes_diag_message (diag, i), "did you mean"));
        }
    }
    s_expect_counts (diag, 0, 6);
    wes_model_destroy (&m);
    wes_diag_destroy (&diag);
}

static void
test_errors_misplaced_directives (void **state)
{
    (void)state;
    wes_diag_t *diag = NULL;
    wes_model_t *m = s_compile ("type T @wes_table {\n"
                                "  id: ID! @wes_pk @pk\n"
                                "  a: Int @wes_unique(fields: [\"a\"])\n"
                                "  b: Int @wes_table\n"
                                "  c: String @wes_column(type: \"serial\")\n"
                                "}\n"
                                "enum E @index { X }\n"
                                "type U @wes_table @wes_unique @wes_index(fields: [\"nope\"])\n"
                                "    @wes_tenant(by: \"ghost\") @table {\n"
                                "  id: ID! @wes_pk\n"
                                "}\n",
                                &diag);
    assert_null (m);
    s_expect (diag, WES_DIAG_ERROR, 2, 19, "directive @pk given twice on field T.id");
    s_expect (diag, WES_DIAG_ERROR, 3, 30, "directive @wes_unique on a field takes no fields:");
    s_expect (diag, WES_DIAG_ERROR, 4, 10,
              "directive @wes_table is not allowed on FIELD_DEFINITION (only on object types)");
    s_expect (diag, WES_DIAG_ERROR, 5, 31,
              "directive @wes_column type: type serial is not supported: use a default");
    s_expect (diag, WES_DIAG_ERROR, 7, 8, "directive @index is not allowed on ENUM");
    s_expect (diag, WES_DIAG_ERROR, 8, 19,
              "directive @wes_unique on type U needs fields: [\"field\", ...]");
    s_expect (diag, WES_DIAG_ERROR, 8, 51,
              "directive @wes_index fields: type U has no column field nope");
    s_expect (diag, WES_DIAG_ERROR, 9, 21,
              "directive @wes_tenant by: type U has no column field "
              "ghost");
    s_expect (diag, WES_DIAG_ERROR, 9, 30, "directive @table given twice on type U");
    s_expect_counts (diag, 9, 0);
    wes_diag_destroy (&diag);
}

static void
test_errors_not_repeated_for_refused_columns (void **state)
{
    (void)state;
    char c64[65];
    memset (c64, 'c', 64);
    c64[64] = '\0';
    char sdl[2048];
    snprintf (sdl, sizeof sdl,
              "type P @wes_table @wes_index(fields: [\"long\", \"kids\"]) {\n"
              "  id: ID! @wes_pk\n"
              "  long: ID @wes_column(name: \"%s\") @wes_unique\n"
              "  kids: [K!]! @hasMany\n"
              "}\n"
              "type K @wes_table @wes_tenant(by: \"mystery\") {\n"
              "  id: ID! @wes_pk\n"
              "  p: ID @wes_fk(ref: \"P.long\")\n"
              "  bad: Nope\n"
              "  q: ID @wes_fk(ref: \"P.kids\")\n"
              "}\n",
              c64);
    wes_diag_t *diag = NULL;
    wes_model_t *m = s_compile (sdl, &diag);
    assert_null (m);
    s_expect (diag, WES_DIAG_ERROR, 3, 30, "column name");
    s_expect (diag, WES_DIAG_ERROR, 1, 47,
              "directive @wes_index fields: field P.kids is a relation, not a column");
    s_expect (diag, WES_DIAG_ERROR, 6, 35,
              "directive @wes_tenant by: type K has no column field mystery");
    s_expect (diag, WES_DIAG_ERROR, 9, 8, "type Nope, which is not defined");
    s_expect (diag, WES_DIAG_ERROR, 10, 22,
              "directive @wes_fk ref: field P.kids is a relation, not a column");
    /*  No follow-on errors for P.long (its column was refused) in @wes_index
        fields: or K.p's @wes_fk. */
    s_expect_counts (diag, 5, 0);
    wes_diag_destroy (&diag);
}

/*  Swaps the contents of two AST nodes of type T, keeping each in its
    place in the list (its `next`). */
#define S_SWAP_NODES(T, a, b)                                                                      \
    do {                                                                                           \
        T tmp_ = *(a);                                                                             \
        *(a) = *(b);                                                                               \
        *(b) = tmp_;                                                                               \
        T *next_ = (a)->next;                                                                      \
        (a)->next = (b)->next;                                                                     \
        (b)->next = next_;                                                                         \
    } while (0)

static unsigned
s_rand (unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 16) & 0x7fff;
}

/*  Shuffles the order of the document's definitions and of the fields of
    every type: neither may change the canonical model. */
static void
s_shuffle_doc (wes_ast_doc_t *doc, unsigned *seed)
{
    wes_ast_def_t *defs[4096];
    size_t n = 0;
    for (wes_ast_def_t *d = wes_ast_doc_defs (doc); d && n < 4096; d = d->next) {
        defs[n++] = d;
    }
    for (size_t i = n; i > 1; i--) {
        size_t j = s_rand (seed) % i;
        if (j != i - 1) {
            S_SWAP_NODES (wes_ast_def_t, defs[j], defs[i - 1]);
        }
    }
    for (size_t k = 0; k < n; k++) {
        wes_ast_field_t *fields[1024];
        size_t m = 0;
        for (wes_ast_field_t *f = defs[k]->fields; f && m < 1024; f = f->next) {
            fields[m++] = f;
        }
        for (size_t i = m; i > 1; i--) {
            size_t j = s_rand (seed) % i;
            if (j != i - 1) {
                S_SWAP_NODES (wes_ast_field_t, fields[j], fields[i - 1]);
            }
        }
    }
}

static void
test_property_order_never_changes_hash (void **state)
{
    (void)state;
    const char *examples[] = {"ecommerce", "schema", "rpc-example", "freaky-rls-schema"};
    unsigned seed = 20240601u;
    for (size_t e = 0; e < sizeof examples / sizeof examples[0]; e++) {
        char path[1024];
        snprintf (path, sizeof path, "%s/wesley-examples/%s.graphql", WES_CONFORMANCE_DIR,
                  examples[e]);
        wes_diag_t *diag = wes_diag_new (path);
        wes_model_t *m = wes_compile_file (path, diag);
        assert_non_null (m);
        char *want = wes_model_canonical_bytes (m, NULL);
        json_t *want_doc = wes_model_to_document_json (m);
        wes_model_destroy (&m);
        wes_diag_destroy (&diag);
        int reordered = 0;
        for (int round = 0; round < 25; round++) {
            diag = wes_diag_new (path);
            wes_ast_doc_t *doc = wes_parse_file (path, diag);
            assert_non_null (doc);
            s_shuffle_doc (doc, &seed);
            m = wes_compile (doc, diag);
            if (!m) {
                wes_diag_print (diag, stderr);
                fail_msg ("%s: shuffled document does not compile", examples[e]);
            }
            char *got = wes_model_canonical_bytes (m, NULL);
            if (strcmp (got, want) != 0) {
                fail_msg ("%s: round %d: canonical bytes changed with order", examples[e], round);
            }
            free (got);
            /*  The shuffle did something: declaration order (meta) moved. */
            json_t *got_doc = wes_model_to_document_json (m);
            if (!json_equal (got_doc, want_doc)) {
                reordered++;
            }
            json_decref (got_doc);
            wes_model_destroy (&m);
            wes_ast_doc_destroy (&doc);
            wes_diag_destroy (&diag);
        }
        assert_true (reordered > 20);
        json_decref (want_doc);
        free (want);
    }
}

static void
test_compile_file_reports_missing_file (void **state)
{
    (void)state;
    wes_diag_t *diag = wes_diag_new ("nope.graphql");
    wes_model_t *m = wes_compile_file ("/nonexistent/nope.graphql", diag);
    assert_null (m);
    assert_true (wes_diag_errors (diag) >= 1);
    wes_diag_destroy (&diag);
}

/*  Every name a Wesley directive answers to, with "wes_" and without where
    both are allowed, means that directive; the spellings that are not
    allowed (@column, @renamedFrom, @wes_primaryKey, @wes_foreignKey) are
    unknown directives, kept as metadata. */
static void
test_directive_names (void **state)
{
    (void) state;
    static const char *const forms[2][2] = {{"", "wes_"}, {"wes_", ""}};
    for (int f = 0; f < 2; f++) {
        const char *p = forms[f][0]; /* directives with both forms */
        char sdl[2048];
        snprintf (sdl, sizeof sdl,
                  "type Org @%stable { id: ID! @%spk  users: [Member!]! @%shasMany }\n"
                  "type Member @%stable @%stenant(by: \"org\") @%srls(select: \"true\")\n"
                  "    @%sunique(fields: [\"code\"]) @%sindex(fields: [\"n\"])\n"
                  "    @%scheck(expr: \"n > 0\") @wes_renamedFrom(name: \"person\") {\n"
                  "  id: ID! @%s\n"
                  "  org: ID! @%s(ref: \"Org.id\")\n"
                  "  n: Int @%sdefault(value: 1) @wes_column(name: \"num\")\n"
                  "  code: String @%sunique @%sindex @%scheck(expr: \"code <> ''\")\n"
                  "  profile: Profile @%shasOne\n"
                  "  home: Org @%sbelongsTo\n"
                  "}\n"
                  "type Profile @%stable { id: ID! @%spk  member: ID! @%sfk(ref: \"Member.id\") }\n",
                  p, p, p, p, p, p, p, p, p, f == 0 ? "primaryKey" : "wes_pk",
                  f == 0 ? "foreignKey" : "wes_fk", p, p, p, p, p, p, p, p, p);
        wes_diag_t *diag = NULL;
        wes_model_t *m = s_compile_ok (sdl, &diag);
        s_expect_counts (diag, 0, 0);
        wes_table_t *t = wes_model_find_table (m, "member");
        assert_non_null (t);
        assert_string_equal (t->tenant_column, "org");
        assert_string_equal (t->renamed_from, "person");
        assert_true (t->n_policies >= 2); /* the tenant's and the select policy */
        assert_non_null (s_col (t, "num"));
        assert_string_equal (s_col (t, "num")->default_expr, "1");
        assert_non_null (wes_table_primary_key (t));
        assert_int_equal (wes_model_table_count (m), 3);
        wes_model_destroy (&m);
        wes_diag_destroy (&diag);
    }
    wes_diag_t *diag = NULL;
    wes_model_t *m = s_compile_ok (
        "type A @wes_table {\n"
        "  id: ID! @wes_pk\n"
        "  b: Int @column(name: \"x\") @renamedFrom(name: \"y\")\n"
        "  c: Int @wes_primaryKey @wes_foreignKey(ref: \"A.id\")\n"
        "}\n",
        &diag);
    s_expect_counts (diag, 0, 4);
    s_expect (diag, WES_DIAG_WARNING, 3, 10, "unknown directive @column");
    s_expect (diag, WES_DIAG_WARNING, 3, 29, "unknown directive @renamedFrom");
    s_expect (diag, WES_DIAG_WARNING, 4, 10, "unknown directive @wes_primaryKey");
    s_expect (diag, WES_DIAG_WARNING, 4, 26, "unknown directive @wes_foreignKey");
    wes_model_destroy (&m);
    wes_diag_destroy (&diag);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_examples_compile),
        cmocka_unit_test (test_mapping_and_naming),
        cmocka_unit_test (test_defaults),
        cmocka_unit_test (test_constraints_indexes_rls),
        cmocka_unit_test (test_extend_composite_rename),
        cmocka_unit_test (test_generated_name_collisions),
        cmocka_unit_test (test_hash_independent_of_order_and_format),
        cmocka_unit_test (test_metadata_and_warnings),
        cmocka_unit_test (test_errors_unmappable_types),
        cmocka_unit_test (test_errors_relations),
        cmocka_unit_test (test_errors_keys),
        cmocka_unit_test (test_errors_foreign_keys),
        cmocka_unit_test (test_errors_directive_arguments),
        cmocka_unit_test (test_errors_names_and_duplicates),
        cmocka_unit_test (test_errors_declarations_and_placement),
        cmocka_unit_test (test_errors_misplaced_directives),
        cmocka_unit_test (test_errors_not_repeated_for_refused_columns),
        cmocka_unit_test (test_property_order_never_changes_hash),
        cmocka_unit_test (test_compile_file_reports_missing_file),
        cmocka_unit_test (test_directive_names),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
