/*  test_plan.c — the plan file: round trip, checksum, refusal of truncated,
    foreign-version, hand-edited and malformed plans, DAG checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/wes_plan.h"
#include "plan/wes_step.h"
#include "util/wes_buf.h"
#include "wes_testutil.h"

static wes_plan_t *
s_sample (void)
{
    wes_plan_t *p = wes_plan_new ("aaaa", "bbbb");
    wes_step_t *a = wes_plan_add_step (p, "add-column-user-email", WES_PHASE_EXPAND, WES_STEP_TX,
                                       "user", WES_LOCK_ACCESS_EXCLUSIVE);
    wes_plan_set (&a->sql, "ALTER TABLE \"user\" ADD COLUMN \"email\" text;");
    wes_plan_set (&a->inverse, "ALTER TABLE \"user\" DROP COLUMN \"email\";");
    wes_plan_set (&a->summary, "add column user.email");
    wes_step_t *b = wes_plan_add_step (p, "Index user_email_idx!", WES_PHASE_EXPAND,
                                       WES_STEP_NONTX, "user", WES_LOCK_SHARE_UPDATE_EXCLUSIVE);
    wes_plan_set (&b->sql, "CREATE INDEX CONCURRENTLY IF NOT EXISTS \"user_email_idx\" ON "
                           "\"user\" (\"email\");");
    wes_plan_set (&b->verify_index, "user_email_idx");
    wes_step_add_dep (b, a->id);
    wes_step_add_dep (b, a->id); /* duplicates collapse */
    wes_step_t *c = wes_plan_add_step (p, "backfill", WES_PHASE_BACKFILL, WES_STEP_BATCHED, "user",
                                       WES_LOCK_ROW_EXCLUSIVE);
    wes_plan_set (&c->sql, "-- backfill user.email");
    wes_step_add_key (c, "id", "uuid");
    wes_plan_set (&c->batch_set, "\"email\" = lower(\"name\")");
    wes_step_add_dep (c, b->id);
    return p;
}

static void
test_ids_and_defaults (void **state)
{
    (void) state;
    wes_plan_t *p = s_sample ();
    assert_int_equal (wes_plan_count (p), 3);
    assert_string_equal (wes_plan_step (p, 0)->id, "0001-add-column-user-email");
    assert_string_equal (wes_plan_step (p, 1)->id, "0002-index-user_email_idx-");
    assert_int_equal (wes_plan_step (p, 1)->n_deps, 1);
    assert_int_equal (wes_plan_step (p, 0)->lock_timeout_ms, 5000);
    assert_int_equal (wes_plan_step (p, 1)->statement_timeout_ms, 0); /* CIC waits */
    assert_int_equal (wes_plan_step (p, 2)->batch_rows, 5000);
    char *err = NULL;
    assert_int_equal (wes_plan_check (p, &err), 0);
    assert_null (err);
    assert_non_null (wes_plan_find (p, "0002-index-user_email_idx-"));
    assert_null (wes_plan_find (p, "nope"));
    wes_plan_destroy (&p);
    assert_null (p);
}

static void
test_round_trip_is_identical (void **state)
{
    (void) state;
    char *dir = wes_test_tmpdir ("wes-plan");
    char path[512];
    snprintf (path, sizeof path, "%s/plan.json", dir);
    wes_plan_t *p = s_sample ();
    char *err = NULL;
    assert_int_equal (wes_plan_save (p, path, &err), 0);
    wes_plan_t *q = wes_plan_load (path, &err);
    if (!q) {
        fail_msg ("load failed: %s", err);
    }
    assert_string_equal (wes_plan_hash (p), wes_plan_hash (q));
    json_t *a = wes_plan_to_json (p), *b = wes_plan_to_json (q);
    assert_true (json_equal (a, b));
    json_decref (a);
    json_decref (b);
    assert_string_equal (wes_plan_step (q, 2)->key_types[0], "uuid");
    assert_string_equal (wes_plan_step (q, 1)->verify_index, "user_email_idx");
    wes_plan_destroy (&p);
    wes_plan_destroy (&q);
    wes_test_rmtree (dir);
    free (dir);
}

/*  Saves the sample, rewrites its text with edit(), loads, expects refusal
    with `needle` in the message. */
static void
s_expect_refusal (void (*edit) (char **text), const char *needle)
{
    char *dir = wes_test_tmpdir ("wes-plan");
    char path[512];
    snprintf (path, sizeof path, "%s/plan.json", dir);
    wes_plan_t *p = s_sample ();
    char *err = NULL;
    assert_int_equal (wes_plan_save (p, path, &err), 0);
    wes_plan_destroy (&p);
    char *text = wes_test_read_file (path, NULL);
    edit (&text);
    assert_int_equal (wes_test_write_file (path, text), 0);
    free (text);
    wes_plan_t *q = wes_plan_load (path, &err);
    assert_null (q);
    assert_non_null (err);
    if (!strstr (err, needle)) {
        fail_msg ("expected '%s' in: %s", needle, err);
    }
    assert_non_null (strstr (err, path)); /* the message names the file */
    free (err);
    wes_test_rmtree (dir);
    free (dir);
}

static void
s_truncate (char **text)
{
    (*text)[strlen (*text) / 2] = '\0';
}

static void
s_other_version (char **text)
{
    char *p = strstr (*text, "wesley-plan/1");
    assert_non_null (p);
    p[12] = '9';
}

static void
s_hand_edit (char **text)
{
    char *p = strstr (*text, "ADD COLUMN");
    assert_non_null (p);
    memcpy (p, "ADD COLUMX", 10);
}

static void
s_not_json (char **text)
{
    free (*text);
    *text = strdup ("this is not a plan\n");
}

static void
s_drop_format (char **text)
{
    char *p = strstr (*text, "\"format\"");
    assert_non_null (p);
    memcpy (p, "\"formaX\"", 8);
}

static void
test_refusals (void **state)
{
    (void) state;
    s_expect_refusal (s_truncate, "truncated or not JSON");
    s_expect_refusal (s_other_version, "wesley-plan/9");
    s_expect_refusal (s_hand_edit, "checksum mismatch");
    s_expect_refusal (s_not_json, "truncated or not JSON");
    s_expect_refusal (s_drop_format, "not a Wesley plan");
}

static void
test_every_truncation_is_refused (void **state)
{
    (void) state;
    wes_plan_t *p = s_sample ();
    json_t *doc = wes_plan_to_json (p);
    char *text = json_dumps (doc, JSON_COMPACT);
    size_t len = strlen (text);
    for (size_t cut = 0; cut < len; cut += 7) {
        json_error_t jerr;
        json_t *j = json_loadb (text, cut, 0, &jerr);
        char *err = NULL;
        wes_plan_t *q = j ? wes_plan_from_json (j, &err) : NULL;
        assert_null (q);
        free (err);
        json_decref (j);
    }
    free (text);
    json_decref (doc);
    wes_plan_destroy (&p);
}

static void
test_dag_checks (void **state)
{
    (void) state;
    char *err = NULL;
    wes_plan_t *p = s_sample ();
    wes_step_add_dep (wes_plan_step (p, 0), "0003-backfill"); /* a later step */
    assert_int_equal (wes_plan_check (p, &err), -1);
    assert_non_null (strstr (err, "not an earlier step"));
    free (err);
    err = NULL;
    wes_plan_destroy (&p);

    p = s_sample ();
    wes_step_t *late = wes_plan_add_step (p, "x", WES_PHASE_EXPAND, WES_STEP_TX, "t",
                                          WES_LOCK_ACCESS_EXCLUSIVE);
    wes_plan_set (&late->sql, "SELECT 1;");
    wes_step_add_dep (late, "0003-backfill"); /* expand after backfill: phase goes backwards */
    assert_int_equal (wes_plan_check (p, &err), -1);
    assert_non_null (strstr (err, "later phase"));
    free (err);
    err = NULL;
    wes_plan_destroy (&p);

    p = s_sample ();
    free (wes_plan_step (p, 1)->id);
    wes_plan_step (p, 1)->id = strdup ("0001-add-column-user-email");
    assert_int_equal (wes_plan_check (p, &err), -1);
    assert_non_null (strstr (err, "appears twice"));
    free (err);
    wes_plan_destroy (&p);
}

static void
test_rendered_scripts (void **state)
{
    (void) state;
    wes_plan_t *p = s_sample ();
    wes_buf_t *b = wes_buf_new ();
    wes_step_render (b, wes_plan_step (p, 0), "H", "att");
    const char *tx = wes_buf_data (b);
    /* order: BEGIN, timeouts, advisory lock, ledger check, statement, ledger insert, COMMIT */
    const char *seq[] = {"BEGIN;", "SET LOCAL lock_timeout = '5000ms'",
                         "SET LOCAL statement_timeout = '60000ms'", "pg_advisory_xact_lock(",
                         "wes_done", "ADD COLUMN \"email\"", "INSERT INTO wesley.applied_steps",
                         "COMMIT;"};
    const char *at = tx;
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        const char *hit = strstr (at, seq[i]);
        if (!hit) {
            fail_msg ("'%s' missing or out of order in:\n%s", seq[i], tx);
        }
        at = hit;
    }
    wes_buf_reset (b);
    wes_step_render (b, wes_plan_step (p, 1), "H", "att");
    const char *ntx = wes_buf_data (b);
    assert_null (strstr (ntx, "BEGIN;"));
    assert_non_null (strstr (ntx, "pg_advisory_lock("));
    assert_non_null (strstr (ntx, "DROP INDEX CONCURRENTLY IF EXISTS \"user_email_idx\""));
    assert_non_null (strstr (ntx, "x.indisvalid) AS wes_valid"));
    assert_non_null (strstr (ntx, "pg_advisory_unlock("));
    wes_buf_reset (b);
    wes_step_render (b, wes_plan_step (p, 2), "H", "att");
    assert_non_null (strstr (wes_buf_data (b), "wesley.backfill_progress"));
    assert_non_null (strstr (wes_buf_data (b), "LIMIT 5000"));
    assert_non_null (strstr (wes_buf_data (b), "COMMIT;"));
    /* same table => same key; different table => different key */
    assert_true (wes_step_lock_key (wes_plan_step (p, 0)) == wes_step_lock_key (wes_plan_step (p, 1)));
    wes_buf_destroy (&b);
    wes_plan_destroy (&p);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_ids_and_defaults),
        cmocka_unit_test (test_round_trip_is_identical),
        cmocka_unit_test (test_refusals),
        cmocka_unit_test (test_every_truncation_is_refused),
        cmocka_unit_test (test_dag_checks),
        cmocka_unit_test (test_rendered_scripts),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
