/*  test_hash_roundtrip.c — property test: for many generated schemas,
    compile, apply schema.sql to an empty database, introspect it, and the
    database hashes exactly like the SDL (and shows no drift). Seeded, so a
    failure names the seed that reproduces it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg/wes_introspect.h"
#include "plan/wes_diff.h"
#include "schema/wes_compile.h"
#include "schema/wes_emit_sql.h"
#include "schema/wes_parser.h"
#include "util/wes_buf.h"
#include "wes_pgfix.h"
#include "wes_testutil.h"

#define SCHEMAS 40

static wes_pgfix_t *s_pg;
static char *s_dir;

static int
s_setup (void **state)
{
    (void) state;
    return wes_pgfix_start_scratch ("wes-rt", &s_pg, &s_dir);
}

static int
s_teardown (void **state)
{
    (void) state;
    wes_pgfix_destroy_scratch (&s_pg, &s_dir);
    return 0;
}

/*  xorshift64: a deterministic generator per seed (no global state). */
static uint64_t
s_next (uint64_t *st)
{
    *st ^= *st << 13;
    *st ^= *st >> 7;
    *st ^= *st << 17;
    return *st;
}

static int
s_pick (uint64_t *st, int n)
{
    return (int) (s_next (st) % (uint64_t) n);
}

/*  A random schema exercising types, defaults, checks, keys, indexes,
    enums, RLS and tenancy. */
static void
s_gen (wes_buf_t *b, uint64_t seed)
{
    uint64_t st = seed * 0x9E3779B97F4A7C15ull + 1;
    int n_tables = 1 + s_pick (&st, 5);
    bool with_enum = s_pick (&st, 2);
    if (with_enum) {
        wes_buf_puts (b, "enum Mood { HAPPY SAD MEH }\n");
    }
    for (int t = 0; t < n_tables; t++) {
        wes_buf_printf (b, "type Thing%d @wes_table", t);
        if (s_pick (&st, 4) == 0) {
            wes_buf_puts (b, " @wes_rls(select: \"true\", insert: \"amount >= 0\", "
                             "update: \"amount >= 0\", delete: \"false\")");
        }
        if (s_pick (&st, 5) == 0) {
            wes_buf_puts (b, " @wes_tenant(by: \"tenantId\")");
        }
        if (s_pick (&st, 3) == 0) {
            wes_buf_printf (b, " @wes_index(fields: [\"label\", \"amount\"], name: \"thing%d_la\")",
                            t);
        }
        wes_buf_puts (b, " {\n  id: ID! @wes_pk @wes_default(expr: \"gen_random_uuid()\")\n");
        wes_buf_puts (b, "  tenantId: UUID!\n");
        wes_buf_printf (b, "  label: String%s", s_pick (&st, 2) ? "!" : "");
        switch (s_pick (&st, 4)) {
        case 0:
            wes_buf_puts (b, " @wes_default(value: \"it's\")");
            break;
        case 1:
            wes_buf_puts (b, " @wes_unique");
            break;
        case 2:
            wes_buf_puts (b, " @wes_index(where: \"label IS NOT NULL\")");
            break;
        default:
            break;
        }
        wes_buf_puts (b, "\n");
        wes_buf_puts (b, "  amount: Int! @wes_default(value: 0)");
        if (s_pick (&st, 2)) {
            wes_buf_puts (b, " @wes_check(expr: \"amount BETWEEN 0 AND 1000000\")");
        }
        wes_buf_puts (b, "\n");
        const char *extra[] = {"  price: Float @wes_default(value: 1.5)\n",
                               "  big: BigInt\n",
                               "  money: Decimal @wes_column(type: \"numeric(12,2)\")\n",
                               "  code: String @wes_column(type: \"varchar(40)\")\n",
                               "  happenedAt: DateTime! @wes_default(expr: \"now()\")\n",
                               "  day: Date\n",
                               "  doc: JSON @wes_default(value: \"{}\")\n",
                               "  tags: [String!] @wes_default(expr: \"'{}'\")\n",
                               "  active: Boolean! @wes_default(value: true)\n",
                               "  ip: Inet\n"};
        int used = 0;
        for (int k = 0; k < 3; k++) {
            int e = s_pick (&st, 10);
            if (!(used & (1 << e))) {
                used |= 1 << e;
                wes_buf_puts (b, extra[e]);
            }
        }
        if (with_enum) {
            wes_buf_puts (b, "  mood: Mood! @wes_default(value: \"MEH\")\n");
        }
        if (t > 0) {
            wes_buf_printf (b, "  parentId: ID @wes_fk(ref: \"Thing%d.id\", onDelete: %s)%s\n",
                            s_pick (&st, t), s_pick (&st, 2) ? "CASCADE" : "SET_NULL",
                            s_pick (&st, 2) ? " @wes_index" : "");
        }
        wes_buf_puts (b, "}\n");
    }
}

static void
test_generated_schemas_hash_alike_from_sdl_and_database (void **state)
{
    (void) state;
    wes_buf_t *sdl = wes_buf_new ();
    int failures = 0;
    for (uint64_t seed = 1; seed <= SCHEMAS; seed++) {
        wes_buf_reset (sdl);
        s_gen (sdl, seed);
        char name[64];
        snprintf (name, sizeof name, "gen-%llu.graphql", (unsigned long long) seed);
        wes_diag_t *diag = wes_diag_new (name);
        wes_ast_doc_t *doc = wes_parse_buffer (name, wes_buf_data (sdl), wes_buf_len (sdl), diag);
        wes_model_t *m = doc ? wes_compile (doc, diag) : NULL;
        if (!m) {
            wes_diag_print (diag, stderr);
            fail_msg ("seed %llu: generated schema does not compile:\n%s",
                      (unsigned long long) seed, wes_buf_data (sdl));
        }
        char *sql = wes_emit_sql (m);
        char path[512], db[32];
        snprintf (path, sizeof path, "%s/%llu.sql", s_dir, (unsigned long long) seed);
        snprintf (db, sizeof db, "rt%llu", (unsigned long long) seed);
        assert_int_equal (wes_test_write_file (path, sql), 0);
        assert_int_equal (wes_pgfix_createdb (s_pg, db), 0);
        char *out = NULL;
        if (wes_pgfix_psql_file (s_pg, db, path, &out) != 0) {
            fail_msg ("seed %llu: schema.sql does not apply: %s\n%s", (unsigned long long) seed,
                      out, sql);
        }
        free (out);
        char *ci = wes_pgfix_conninfo (s_pg, db);
        char *err = NULL;
        wes_model_t *live = wes_introspect_conninfo (ci, NULL, &err);
        if (!live) {
            fail_msg ("seed %llu: introspection failed: %s", (unsigned long long) seed, err);
        }
        char h_sdl[65], h_db[65];
        wes_model_hash (m, h_sdl);
        wes_model_hash (live, h_db);
        if (strcmp (h_sdl, h_db) != 0) {
            failures++;
            wes_diff_t *d = wes_diff_new (live, m);
            fprintf (stderr, "seed %llu: hash differs (%zu differences):\n",
                     (unsigned long long) seed, wes_diff_count (d));
            for (size_t i = 0; i < wes_diff_count (d); i++) {
                fprintf (stderr, "  %s\n", wes_diff_change (d, i)->sentence);
            }
            fprintf (stderr, "%s\n", wes_buf_data (sdl));
            wes_diff_destroy (&d);
        }
        free (ci);
        wes_model_destroy (&live);
        free (sql);
        wes_model_destroy (&m);
        wes_ast_doc_destroy (&doc);
        wes_diag_destroy (&diag);
        assert_int_equal (wes_pgfix_dropdb (s_pg, db), 0);
    }
    wes_buf_destroy (&sdl);
    assert_int_equal (failures, 0);
}

static void
test_changed_expression_shows_as_drift (void **state)
{
    (void) state;
    const char *sdl = "type T @wes_table { id: ID! @wes_pk  n: Int! @wes_check(expr: \"n > 0\") "
                      "@wes_default(value: 1) }\n";
    wes_diag_t *diag = wes_diag_new ("t.graphql");
    wes_ast_doc_t *doc = wes_parse_buffer ("t.graphql", sdl, strlen (sdl), diag);
    wes_model_t *m = wes_compile (doc, diag);
    assert_non_null (m);
    char *sql = wes_emit_sql (m);
    char path[512];
    snprintf (path, sizeof path, "%s/drift.sql", s_dir);
    assert_int_equal (wes_test_write_file (path, sql), 0);
    assert_int_equal (wes_pgfix_createdb (s_pg, "driftx"), 0);
    assert_int_equal (wes_pgfix_psql_file (s_pg, "driftx", path, NULL), 0);
    /* someone changes the CHECK by hand: the recorded rendering no longer
       matches, so the database's own text shows, and the hash differs */
    assert_int_equal (wes_pgfix_exec (s_pg, "driftx",
                                      "ALTER TABLE t DROP CONSTRAINT t_n_check; ALTER TABLE t "
                                      "ADD CONSTRAINT t_n_check CHECK (n > 5)"),
                      0);
    char *ci = wes_pgfix_conninfo (s_pg, "driftx");
    char *err = NULL;
    wes_model_t *live = wes_introspect_conninfo (ci, NULL, &err);
    assert_non_null (live);
    char a[65], b[65];
    wes_model_hash (m, a);
    wes_model_hash (live, b);
    assert_string_not_equal (a, b);
    wes_diff_t *d = wes_diff_new (live, m);
    assert_int_equal (wes_diff_count (d), 1);
    assert_non_null (strstr (wes_diff_change (d, 0)->sentence, "t_n_check"));
    wes_diff_destroy (&d);
    free (ci);
    wes_model_destroy (&live);
    free (sql);
    wes_model_destroy (&m);
    wes_ast_doc_destroy (&doc);
    wes_diag_destroy (&diag);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_generated_schemas_hash_alike_from_sdl_and_database),
        cmocka_unit_test (test_changed_expression_shows_as_drift),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
