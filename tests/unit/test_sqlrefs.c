/*  test_sqlrefs.c — column references of SQL statements through
    PostgreSQL's parser: a table of statements and the exact references
    each must give, covering every construct wes_sqlrefs resolves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pg/wes_sqlrefs.h"
#include "util/wes_limits.h"

/*  users(id, email, name, "MixedCase", created_at), orders(id, user_id,
    total, note, status), items(id, order_id, sku, qty), t(a, b) */
static wes_model_t *
s_catalog (void)
{
    wes_model_t *m = wes_model_new ();
    static const char *defs[][6] = {
        {"users", "id", "email", "name", "MixedCase", "created_at"},
        {"orders", "id", "user_id", "total", "note", "status"},
        {"items", "id", "order_id", "sku", "qty", NULL},
        {"t", "a", "b", NULL, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
        wes_table_t *t = wes_model_add_table (m, defs[i][0]);
        for (size_t j = 1; j < 6 && defs[i][j]; j++) {
            wes_table_add_column (t, defs[i][j], "text");
        }
    }
    wes_model_canonicalize (m);
    return m;
}

typedef struct {
    const char *sql;
    const char *expect; /* wes_sqlrefs_describe's sorted lines */
} s_case_t;

static const s_case_t s_cases[] = {
    /* plain, qualified, schema-qualified, quoted */
    {"SELECT email FROM users WHERE id = $1", "column users.email\ncolumn users.id\ntable users\n"},
    {"SELECT users.name FROM users", "column users.name\ntable users\n"},
    {"SELECT public.users.name FROM public.users", "column users.name\ntable users\n"},
    {"SELECT \"MixedCase\" FROM users", "column users.MixedCase\ntable users\n"},
    {"SELECT mixedcase FROM users", "table users\n"}, /* folded: not the quoted column */
    {"SELECT x FROM other.users", "relation other.users\n"},
    /* aliases, an alias shadowing a table name */
    {"SELECT u.email FROM users u", "column users.email\ntable users\n"},
    {"SELECT orders.note FROM users AS orders", "table users\n"},
    {"SELECT orders.email FROM users AS orders", "column users.email\ntable users\n"},
    /* joins: ON, USING, NATURAL, aliased join, unqualified attribution */
    {"SELECT o.total, u.email FROM orders o JOIN users u ON u.id = o.user_id",
     "column orders.total\ncolumn orders.user_id\ncolumn users.email\ncolumn users.id\n"
     "table orders\ntable users\n"},
    {"SELECT sku FROM orders JOIN items USING (id)",
     "column items.id\ncolumn items.sku\ncolumn orders.id\ntable items\ntable orders\n"},
    {"SELECT 1 FROM orders NATURAL JOIN items",
     "column items.id\ncolumn orders.id\ntable items\ntable orders\n"},
    {"SELECT j.sku FROM (orders JOIN items ON items.order_id = orders.id) AS j",
     "column items.order_id\ncolumn items.sku\ncolumn orders.id\ntable items\ntable orders\n"},
    {"SELECT id FROM users, orders",
     "column orders.id\ncolumn users.id\ntable orders\ntable users\n"},
    {"SELECT 1 FROM orders NATURAL JOIN some_view", "relation some_view\nstar orders\n"
                                                    "table orders\n"},
    /* subqueries: FROM, WHERE, SELECT list, correlated, own scopes */
    {"SELECT s.n FROM (SELECT name AS n FROM users) s", "column users.name\ntable users\n"},
    {"SELECT email FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id "
     "AND status = 'x')",
     "column orders.status\ncolumn orders.user_id\ncolumn users.email\ncolumn users.id\n"
     "table orders\ntable users\n"},
    {"SELECT (SELECT max(total) FROM orders WHERE user_id = users.id) FROM users",
     "column orders.total\ncolumn orders.user_id\ncolumn users.id\nfunction max\n"
     "table orders\ntable users\n"},
    {"SELECT email FROM users WHERE id IN (SELECT user_id FROM orders WHERE note IS NULL)",
     "column orders.note\ncolumn orders.user_id\ncolumn users.email\ncolumn users.id\n"
     "table orders\ntable users\n"},
    /* a correlated name the inner level does not have resolves outward */
    {"SELECT 1 FROM users WHERE EXISTS (SELECT 1 FROM items WHERE sku = email)",
     "column items.sku\ncolumn users.email\ntable items\ntable users\n"},
    /* a subquery's own output column shadows nothing outside */
    {"SELECT q.total FROM (SELECT total FROM orders) q JOIN users ON users.id = 1",
     "column orders.total\ncolumn users.id\ntable orders\ntable users\n"},
    /* CTEs: body references count, CTE columns do not; a CTE named like a table */
    {"WITH big AS (SELECT user_id, total FROM orders WHERE total > 10) SELECT user_id FROM big",
     "column orders.total\ncolumn orders.user_id\ntable orders\n"},
    {"WITH users AS (SELECT 1 AS id, 'x' AS email) SELECT email FROM users", ""},
    {"WITH t AS (SELECT note AS a FROM orders) SELECT a, b FROM t",
     "column orders.note\ntable orders\n"},
    {"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) "
     "SELECT n, qty FROM r, items",
     "column items.qty\ntable items\n"},
    /* * and t.* */
    {"SELECT * FROM users", "star users\ntable users\n"},
    {"SELECT o.*, u.email FROM orders o, users u",
     "column users.email\nstar orders\ntable orders\ntable users\n"},
    {"SELECT count(*) FROM users", "function count\ntable users\n"},
    {"SELECT 1 FROM users WHERE EXISTS (SELECT * FROM orders WHERE orders.user_id = users.id)",
     "column orders.user_id\ncolumn users.id\ntable orders\ntable users\n"},
    {"WITH c AS (SELECT id, email FROM users) SELECT * FROM c",
     "column users.email\ncolumn users.id\ntable users\n"},
    {"SELECT row_to_json(u) FROM users u", "function row_to_json\nstar users\ntable users\n"},
    /* INSERT: column list, none, VALUES/SELECT, ON CONFLICT, RETURNING */
    {"INSERT INTO users (id, email) VALUES ($1, $2)",
     "column users.email\ncolumn users.id\ntable users\n"},
    {"INSERT INTO t VALUES ($1, $2)", "insert-all t\ntable t\n"},
    {"INSERT INTO t SELECT user_id, note FROM orders",
     "column orders.note\ncolumn orders.user_id\ninsert-all t\ntable orders\ntable t\n"},
    {"INSERT INTO users (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = "
     "EXCLUDED.name RETURNING created_at",
     "column users.created_at\ncolumn users.id\ncolumn users.name\ntable users\n"},
    {"INSERT INTO users (id) VALUES (1) RETURNING *", "column users.id\nstar users\ntable users\n"},
    /* UPDATE: SET targets, FROM, RETURNING; DELETE ... USING */
    {"UPDATE orders SET status = $1 WHERE id = $2",
     "column orders.id\ncolumn orders.status\ntable orders\n"},
    {"UPDATE orders o SET note = u.email FROM users u WHERE u.id = o.user_id",
     "column orders.note\ncolumn orders.user_id\ncolumn users.email\ncolumn users.id\n"
     "table orders\ntable users\n"},
    {"UPDATE items SET (sku, qty) = (SELECT 'a', 1) RETURNING order_id",
     "column items.order_id\ncolumn items.qty\ncolumn items.sku\ntable items\n"},
    {"DELETE FROM orders USING users WHERE orders.user_id = users.id AND users.email = $1",
     "column orders.user_id\ncolumn users.email\ncolumn users.id\ntable orders\ntable users\n"},
    /* MERGE */
    {"MERGE INTO t USING orders o ON t.a = o.note WHEN MATCHED THEN UPDATE SET b = o.status "
     "WHEN NOT MATCHED THEN INSERT VALUES (o.note, o.status)",
     "column orders.note\ncolumn orders.status\ncolumn t.a\ncolumn t.b\ninsert-all t\n"
     "table orders\ntable t\n"},
    /* ORDER BY, GROUP BY, HAVING, window clauses; ORDER BY an output alias */
    {"SELECT status, sum(total) FROM orders GROUP BY status HAVING count(note) > 1 ORDER BY "
     "user_id",
     "column orders.note\ncolumn orders.status\ncolumn orders.total\ncolumn orders.user_id\n"
     "function count\nfunction sum\ntable orders\n"},
    {"SELECT sku AS s, rank() OVER w FROM items WINDOW w AS (PARTITION BY order_id ORDER BY qty) "
     "ORDER BY s",
     "column items.order_id\ncolumn items.qty\ncolumn items.sku\nfunction rank\ntable items\n"},
    {"SELECT sum(qty) OVER (PARTITION BY sku) FROM items",
     "column items.qty\ncolumn items.sku\nfunction sum\ntable items\n"},
    /* functions, views, unions, COPY, EXPLAIN, utility statements */
    {"SELECT app.f(email), lower(name) FROM users",
     "column users.email\ncolumn users.name\nfunction app.f\nfunction lower\ntable users\n"},
    {"SELECT x FROM report_view", "relation report_view\n"},
    {"SELECT email FROM users UNION SELECT note FROM orders ORDER BY 1",
     "column orders.note\ncolumn users.email\ntable orders\ntable users\n"},
    {"COPY items (sku, qty) TO STDOUT", "column items.qty\ncolumn items.sku\ntable items\n"},
    {"COPY t FROM STDIN", "insert-all t\ntable t\n"},
    {"EXPLAIN SELECT qty FROM items", "column items.qty\ntable items\n"},
    {"SELECT u.id FROM users u, LATERAL (SELECT total FROM orders WHERE user_id = u.id) x",
     "column orders.total\ncolumn orders.user_id\ncolumn users.id\ntable orders\ntable users\n"},
    {"SELECT g FROM generate_series(1, 3) g, users WHERE g = 1",
     "function generate_series\ntable users\n"},
    {"SELECT users FROM users", "star users\ntable users\n"}, /* a whole-row reference */
    {"SELECT (u.email).x, DISTINCT_ON_IS_NOT_A_COLUMN FROM users u", "column users.email\n"
                                                                     "table users\n"},
    {"SELECT DISTINCT ON (status) note FROM orders", "column orders.note\ncolumn orders.status\n"
                                                     "table orders\n"},
    {"UPDATE t SET a = DEFAULT, b = b || 'x' WHERE a IS NULL", "column t.a\ncolumn t.b\ntable t\n"},
    {"SELECT CASE WHEN qty > $1 THEN sku END FROM items ORDER BY id DESC LIMIT $2",
     "column items.id\ncolumn items.qty\ncolumn items.sku\ntable items\n"},
    {"SELECT lower(sku) AS k, count(*) FROM items GROUP BY k ORDER BY k",
     "column items.sku\nfunction count\nfunction lower\ntable items\n"},
    {"SELECT 1 FROM users WHERE EXISTS (SELECT lower(sku) AS email FROM items GROUP BY email)",
     "column items.sku\nfunction lower\ntable items\ntable users\n"},
    {"BEGIN", ""},
    {"ALTER TABLE users ADD COLUMN z int", ""},
    {"SET statement_timeout = $1", ""},
};

static void
test_statement_table (void **state)
{
    (void) state;
    wes_model_t *cat = s_catalog ();
    wes_sqlrefs_t *refs = wes_sqlrefs_new (cat, "public");
    int failures = 0;
    for (size_t i = 0; i < sizeof s_cases / sizeof s_cases[0]; i++) {
        wes_sqlrefs_clear (refs);
        wes_pgparse_error_t err;
        if (wes_sqlrefs_add_sql (refs, s_cases[i].sql, strlen (s_cases[i].sql), &err) != 0) {
            printf ("case %zu: %s\n  does not parse: %s\n", i, s_cases[i].sql, err.message);
            failures++;
            continue;
        }
        char *got = wes_sqlrefs_describe (refs);
        if (strcmp (got, s_cases[i].expect) != 0) {
            printf ("case %zu: %s\n--- expected\n%s--- got\n%s", i, s_cases[i].sql,
                    s_cases[i].expect, got);
            failures++;
        }
        free (got);
    }
    wes_sqlrefs_destroy (&refs);
    wes_model_destroy (&cat);
    assert_int_equal (failures, 0);
}

static void
test_records_and_schema (void **state)
{
    (void) state;
    wes_model_t *cat = s_catalog ();
    wes_sqlrefs_t *refs = wes_sqlrefs_new (cat, "app");
    wes_pgparse_error_t err;
    /* tables are in schema app: public.users is not a catalog table */
    const char *sql = "SELECT u.email FROM app.users u JOIN public.users p ON true";
    assert_int_equal (wes_sqlrefs_add_sql (refs, sql, strlen (sql), &err), 0);
    char *got = wes_sqlrefs_describe (refs);
    assert_string_equal (got, "column users.email\nrelation public.users\ntable users\n");
    free (got);
    assert_int_equal (wes_sqlrefs_count (refs), 3);
    const wes_sqlref_t *r = NULL;
    for (size_t i = 0; i < wes_sqlrefs_count (refs); i++) {
        if (wes_sqlrefs_get (refs, i)->kind == WES_SQLREF_RELATION) {
            r = wes_sqlrefs_get (refs, i);
        }
    }
    assert_non_null (r);
    assert_string_equal (r->schema, "public");
    assert_string_equal (r->name, "users");
    assert_null (r->column);
    assert_null (wes_sqlrefs_get (refs, 3));
    wes_sqlrefs_destroy (&refs);
    wes_sqlrefs_destroy (&refs); /* safe twice */
    wes_model_destroy (&cat);
}

static void
test_errors (void **state)
{
    (void) state;
    wes_model_t *cat = s_catalog ();
    wes_sqlrefs_t *refs = wes_sqlrefs_new (cat, NULL);
    wes_pgparse_error_t err;
    const char *bad = "SELECT email FROM users WHERE";
    assert_int_equal (wes_sqlrefs_add_sql (refs, bad, strlen (bad), &err), -1);
    assert_non_null (strstr (err.message, "syntax error"));
    assert_int_equal (wes_sqlrefs_count (refs), 0);
    /* nested deeper than our walk goes (600 ARRAY[...] levels parse, and jansson reads
       them): refused with the limit named, never a crash */
    size_t depth = 600;
    size_t cap = depth * 8 + 64;
    char *deep = malloc (cap);
    size_t at = (size_t) snprintf (deep, cap, "SELECT ");
    for (size_t i = 0; i < depth; i++) {
        at += (size_t) snprintf (deep + at, cap - at, "ARRAY[");
    }
    at += (size_t) snprintf (deep + at, cap - at, "email");
    for (size_t i = 0; i < depth; i++) {
        deep[at++] = ']';
    }
    at += (size_t) snprintf (deep + at, cap - at, " FROM users");
    assert_int_equal (wes_sqlrefs_add_sql (refs, deep, at, &err), -1);
    assert_non_null (strstr (err.message, "WES_MAX_SQL_TREE_DEPTH"));
    /* deeper still: the parse tree itself is refused */
    wes_sqlrefs_clear (refs);
    depth = 900;
    cap = depth * 10 + 64;
    deep = realloc (deep, cap);
    at = 0;
    for (size_t i = 0; i < depth; i++) {
        at += (size_t) snprintf (deep + at, cap - at, "SELECT (");
    }
    at += (size_t) snprintf (deep + at, cap - at, "SELECT email FROM users");
    for (size_t i = 0; i < depth; i++) {
        deep[at++] = ')';
    }
    assert_int_equal (wes_sqlrefs_add_sql (refs, deep, at, &err), -1);
    assert_int_equal (wes_sqlrefs_count (refs), 0);
    /* said as such (found by fuzz_sql: it used to blame libpg_query for an
       "unreadable parse tree") */
    assert_non_null (strstr (err.message, "nested too deeply"));
    assert_null (strstr (err.message, "unreadable"));
    free (deep);
    wes_sqlrefs_destroy (&refs);
    wes_model_destroy (&cat);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_statement_table),
        cmocka_unit_test (test_records_and_schema),
        cmocka_unit_test (test_errors),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
