/*  test_drift.c — `wesley drift` against a real database: no drift exits 0;
    each kind of difference (missing and extra table, column, index,
    constraint, enum value; type, nullability and default mismatch; an
    INVALID index) is listed in words and in --json, and exits 1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wes_pgfix.h"
#include "wes_testassert.h"
#include "wes_testutil.h"

static const char *s_schema = "enum Color { RED GREEN }\n"
                              "type Shop @wes_table {\n"
                              "  id: Int! @wes_pk\n"
                              "  name: String! @wes_unique\n"
                              "  color: Color! @wes_default(value: \"RED\")\n"
                              "  rank: Int @wes_index @wes_check(expr: \"rank > 0\")\n"
                              "  note: String\n"
                              "}\n"
                              "type Visit @wes_table {\n"
                              "  id: Int! @wes_pk\n"
                              "  shopId: Int! @wes_fk(ref: \"Shop.id\")\n"
                              "}\n";

static wes_pgfix_t *s_pg;
static char *s_dir;
static char *s_sdl;

static int
s_setup (void **state)
{
    (void) state;
    if (wes_pgfix_start_scratch ("wes-drift", &s_pg, &s_dir) != 0) {
        return -1;
    }
    s_sdl = wes_test_path (s_dir, "shop.graphql");
    return wes_test_write_file (s_sdl, s_schema);
}

static int
s_teardown (void **state)
{
    (void) state;
    wes_pgfix_destroy_scratch (&s_pg, &s_dir);
    free (s_sdl);
    return 0;
}

/*  A database at exactly s_schema, built by `wesley apply --schema`. */
static char *
s_fresh (const char *db)
{
    assert_int_equal (wes_pgfix_createdb (s_pg, db), 0);
    char *ci = wes_pgfix_conninfo (s_pg, db);
    if (wes_test_apply_schema (s_sdl, ci) != 0) {
        fail_msg ("apply --schema failed (output above)");
    }
    return ci;
}

static int
s_drift (const char *ci, bool json, char **out)
{
    char cmd[2048];
    snprintf (cmd, sizeof cmd, "'%s' drift --schema '%s' --db '%s'%s", WES_WESLEY_BIN, s_sdl, ci,
              json ? " --json 2>/dev/null" : "");
    return wes_test_run (cmd, out);
}

static void
test_no_drift (void **state)
{
    (void) state;
    char *ci = s_fresh ("clean");
    char *out = NULL;
    assert_int_equal (s_drift (ci, false, &out), 0);
    wes_test_has (out, "no drift");
    free (out);
    assert_int_equal (s_drift (ci, true, &out), 0);
    json_t *doc = wes_test_json (out, "--json");
    assert_true (json_is_false (json_object_get (doc, "drift")));
    assert_int_equal (json_array_size (json_object_get (doc, "changes")), 0);
    json_decref (doc);
    free (out);
    free (ci);
}

static void
test_every_kind_of_difference_is_listed (void **state)
{
    (void) state;
    char *ci = s_fresh ("drifted");
    /* hand-made changes, each a different kind of drift */
    assert_int_equal (
        wes_pgfix_exec (s_pg, "drifted",
                        "CREATE TABLE stray (x int);"                          /* extra table */
                        "ALTER TABLE shop DROP COLUMN note;"                    /* missing column */
                        "ALTER TABLE shop ADD COLUMN extra text;"               /* extra column */
                        "ALTER TABLE shop ALTER COLUMN rank TYPE bigint;"       /* type */
                        "ALTER TABLE shop ALTER COLUMN name DROP NOT NULL;"     /* nullability */
                        "ALTER TABLE shop ALTER COLUMN color SET DEFAULT 'GREEN';" /* default */
                        "ALTER TABLE visit DROP CONSTRAINT visit_shop_id_fkey;" /* constraint */
                        "ALTER TYPE color ADD VALUE 'BLUE';"                    /* enum value */
                        "DROP INDEX shop_rank_idx;"                             /* index */
                        "INSERT INTO visit VALUES (1, 1), (2, 1);"),
        0);
    /* an INVALID index: a unique CIC that fails on duplicates */
    char *o = NULL;
    char *ci2 = wes_pgfix_conninfo (s_pg, "drifted");
    assert_true (wes_pgfix_psql (s_pg, "drifted",
                                 "CREATE UNIQUE INDEX CONCURRENTLY visit_shop_uq ON visit "
                                 "(shop_id);",
                                 &o)
                 != 0);
    free (o);
    free (ci2);
    char *out = NULL;
    assert_int_equal (s_drift (ci, false, &out), 1);
    const char *expect[] = {"table stray",  "column shop.note", "column shop.extra",
                            "shop.rank",    "shop.name",        "shop.color",
                            "visit_shop_id_fkey", "BLUE",       "shop_rank_idx",
                            "visit_shop_uq", "INVALID"};
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        if (!strstr (out, expect[i])) {
            fail_msg ("'%s' missing from drift output:\n%s", expect[i], out);
        }
    }
    free (out);
    assert_int_equal (s_drift (ci, true, &out), 1);
    json_t *doc = wes_test_json (out, "--json");
    assert_true (json_is_true (json_object_get (doc, "drift")));
    assert_true (json_array_size (json_object_get (doc, "changes")) >= 9);
    assert_int_equal (json_array_size (json_object_get (doc, "invalid_indexes")), 1);
    assert_string_not_equal (json_string_value (json_object_get (doc, "schema_hash")),
                             json_string_value (json_object_get (doc, "database_hash")));
    json_decref (doc);
    free (out);
    free (ci);
}

static void
test_bad_input (void **state)
{
    (void) state;
    char cmd[2048];
    snprintf (cmd, sizeof cmd, "'%s' drift --schema '%s'", WES_WESLEY_BIN, s_sdl);
    wes_test_expect (cmd, 2, NULL);
    snprintf (cmd, sizeof cmd, "'%s' drift --schema '%s' --db 'host=/nonexistent port=1'",
              WES_WESLEY_BIN, s_sdl);
    wes_test_expect (cmd, 3, "cannot connect");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_no_drift),
        cmocka_unit_test (test_every_kind_of_difference_is_listed),
        cmocka_unit_test (test_bad_input),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
