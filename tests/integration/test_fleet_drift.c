/*  test_fleet_drift.c — `wesley drift --targets` over a fleet of 30 real
    databases made from one schema (CREATE DATABASE ... TEMPLATE), a few of
    them altered by hand: 3 with an extra index, 2 without a column, 1 with
    an INVALID index whose definition matches the schema (same live hash,
    so only the INVALID state sets it apart), plus a target naming a
    database that does not exist and one whose "server" accepts the
    connection and never answers (connect_timeout). Checks the exit code,
    the groups and their counts, that each difference is printed once, that
    the text stays a handful of lines, the --json structure, and that
    --parallel 1 and --parallel 16 agree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wes_pgfix.h"
#include "wes_testassert.h"
#include "wes_testutil.h"

#define S_DBS 30

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

/*  Which databases are altered, and how. */
static const int s_extra_index[] = {3, 11, 19};
static const int s_lost_column[] = {7, 23};
static const int s_invalid = 15;

static wes_pgfix_t *s_pg;
static char *s_dir;
static char s_sdl[4096];
static char s_targets[4096];
static int s_mute = -1; /* a listening socket nobody accepts on: a host that never answers */

static int
s_setup (void **state)
{
    (void)state;
    if (wes_pgfix_start_scratch ("wes-fleetdrift", &s_pg, &s_dir) != 0) {
        return -1;
    }
    snprintf (s_sdl, sizeof s_sdl, "%s/shop.graphql", s_dir);
    snprintf (s_targets, sizeof s_targets, "%s/targets", s_dir);
    if (wes_test_write_file (s_sdl, s_schema) != 0 || wes_pgfix_createdb (s_pg, "base") != 0) {
        return -1;
    }
    /*  One database built by the real binary, the fleet copied from it. */
    char *ci = wes_pgfix_conninfo (s_pg, "base");
    int rc = wes_test_apply_schema (s_sdl, ci);
    free (ci);
    if (rc != 0) {
        return -1;
    }
    for (int i = 1; i <= S_DBS; i++) {
        char sql[128];
        snprintf (sql, sizeof sql, "CREATE DATABASE db%02d TEMPLATE base", i);
        if (wes_pgfix_exec (s_pg, NULL, sql) != 0) {
            return -1;
        }
    }
    for (size_t i = 0; i < sizeof s_extra_index / sizeof s_extra_index[0]; i++) {
        char db[16];
        snprintf (db, sizeof db, "db%02d", s_extra_index[i]);
        if (wes_pgfix_exec (s_pg, db, "CREATE INDEX shop_note_idx ON shop (note)") != 0) {
            return -1;
        }
    }
    for (size_t i = 0; i < sizeof s_lost_column / sizeof s_lost_column[0]; i++) {
        char db[16];
        snprintf (db, sizeof db, "db%02d", s_lost_column[i]);
        if (wes_pgfix_exec (s_pg, db, "ALTER TABLE shop DROP COLUMN note") != 0) {
            return -1;
        }
    }
    /*  What a CREATE INDEX CONCURRENTLY that failed leaves: the index, with
        the schema's definition, marked invalid. */
    char db[16];
    snprintf (db, sizeof db, "db%02d", s_invalid);
    if (wes_pgfix_exec (s_pg, db,
                        "UPDATE pg_index SET indisvalid = false "
                        "WHERE indexrelid = 'shop_rank_idx'::regclass")
        != 0) {
        return -1;
    }

    s_mute = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (s_mute < 0 || bind (s_mute, (struct sockaddr *)&addr, sizeof addr) != 0
        || listen (s_mute, 16) != 0 || getsockname (s_mute, (struct sockaddr *)&addr, &len) != 0) {
        return -1;
    }

    /*  The targets file: the fleet, a missing database, the mute host. */
    FILE *f = fopen (s_targets, "w");
    if (!f) {
        return -1;
    }
    fprintf (f, "# the fleet\n");
    for (int i = 1; i <= S_DBS; i++) {
        char name[16];
        snprintf (name, sizeof name, "db%02d", i);
        ci = wes_pgfix_conninfo (s_pg, name);
        fprintf (f, "t%02d %s\n", i, ci);
        free (ci);
    }
    ci = wes_pgfix_conninfo (s_pg, "ghost_db");
    fprintf (f, "ghost %s\n", ci);
    free (ci);
    fprintf (f, "mute host=127.0.0.1 port=%d user=postgres dbname=x sslmode=disable\n",
             ntohs (addr.sin_port));
    return fclose (f) == 0 ? 0 : -1;
}

static int
s_teardown (void **state)
{
    (void)state;
    if (s_mute >= 0) {
        close (s_mute);
    }
    wes_pgfix_destroy_scratch (&s_pg, &s_dir);
    return 0;
}

/*  Runs wesley drift over targets with extra flags; stdout only. */
static int
s_fleet (const char *targets, const char *flags, char **out)
{
    char cmd[16384];
    snprintf (cmd, sizeof cmd,
              "'%s' drift --schema '%s' --targets '%s' --connect-timeout 2 %s "
              "2>/dev/null",
              WES_WESLEY_BIN, s_sdl, targets, flags);
    return wes_test_run (cmd, out);
}

static void
test_text_groups_each_difference_once (void **state)
{
    (void)state;
    char *out = NULL;
    /*  Unreadable targets make the check incomplete: 3, not 1. */
    assert_int_equal (s_fleet (s_targets, "", &out), 3);
    print_message ("%s", out);
    /*  32 targets read as a handful of lines: a summary, 4 groups, 4
        differences, 2 errors. */
    size_t lines = wes_test_count (out, "\n");
    if (lines > 12) {
        fail_msg ("%zu lines for 32 targets:\n%s", lines, out);
    }
    const char *once[] = {
        "32 targets, 24 in sync, 6 drifted in 3 groups, 2 unreadable",
        "in sync: 24 targets (t01, t02, t04, t05, t06 and 19 more)",
        "drift: 3 targets at hash",
        "(t03, t11, t19)",
        "drift: 2 targets at hash",
        "(t07, t23)",
        "drift: 1 target at hash",
        "(t15)",
        "index shop.shop_note_idx: present",
        "column shop.note: absent",
        "index shop.shop_rank_idx: INVALID",
        "unreadable: 1 target (ghost)",
        "unreadable: 1 target (mute)",
        "ghost_db",
        "timeout expired",
    };
    for (size_t i = 0; i < sizeof once / sizeof once[0]; i++) {
        if (wes_test_count (out, once[i]) != 1) {
            fail_msg ("'%s' should be printed exactly once, is %zu times:\n%s", once[i],
                      wes_test_count (out, once[i]), out);
        }
    }
    /*  The groups in order of size. */
    char *a = strstr (out, "in sync: 24"), *b = strstr (out, "drift: 3"),
         *c = strstr (out, "drift: 2"), *d = strstr (out, "drift: 1");
    assert_true (a && b && c && d && a < b && b < c && c < d);
    free (out);

    /*  --show 0: counts only; --show 100: every name. */
    assert_int_equal (s_fleet (s_targets, "--show 0", &out), 3);
    wes_test_has (out, "in sync: 24 targets\n");
    free (out);
    assert_int_equal (s_fleet (s_targets, "--show 100", &out), 3);
    assert_null (strstr (out, "more)"));
    wes_test_has (out, "t30");
    free (out);
}

static void
test_json_structure (void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal (s_fleet (s_targets, "--json", &out), 3);
    json_t *doc = wes_test_json (out, "--json");
    free (out);
    const char *schema_hash = json_string_value (json_object_get (doc, "schema_hash"));
    assert_non_null (schema_hash);
    assert_int_equal (strlen (schema_hash), 64);
    assert_int_equal (json_integer_value (json_object_get (doc, "targets")), 32);
    json_t *groups = json_object_get (doc, "groups");
    assert_int_equal (json_array_size (groups), 4);
    const json_int_t counts[] = {24, 3, 2, 1};
    const size_t diffs[] = {0, 1, 1, 0};
    const size_t invalid[] = {0, 0, 0, 1};
    json_int_t seen = 0;
    for (size_t i = 0; i < 4; i++) {
        json_t *g = json_array_get (groups, i);
        json_t *names = json_object_get (g, "targets");
        assert_int_equal (json_integer_value (json_object_get (g, "count")), counts[i]);
        assert_int_equal (json_array_size (names), (size_t)counts[i]);
        assert_int_equal (json_array_size (json_object_get (g, "differences")), diffs[i]);
        assert_int_equal (json_array_size (json_object_get (g, "invalid_indexes")), invalid[i]);
        assert_int_equal (json_is_true (json_object_get (g, "in_sync")), i == 0);
        seen += counts[i];
    }
    assert_int_equal (seen, 30);
    /*  In sync: the schema's hash. The INVALID index: the same hash, yet
        a group of its own. Lost column and extra index: other hashes. */
    const char *h[4];
    for (size_t i = 0; i < 4; i++) {
        h[i] = json_string_value (json_object_get (json_array_get (groups, i), "hash"));
    }
    assert_string_equal (h[0], schema_hash);
    assert_string_equal (h[3], schema_hash);
    assert_string_not_equal (h[1], schema_hash);
    assert_string_not_equal (h[2], schema_hash);
    assert_string_equal (json_string_value (json_array_get (
                             json_object_get (json_array_get (groups, 3), "targets"), 0)),
                         "t15");
    json_t *d1 = json_array_get (json_object_get (json_array_get (groups, 1), "differences"), 0);
    assert_string_equal (json_string_value (json_object_get (d1, "object")), "shop_note_idx");
    json_t *d2 = json_array_get (json_object_get (json_array_get (groups, 2), "differences"), 0);
    assert_string_equal (json_string_value (json_object_get (d2, "object")), "note");

    json_t *errors = json_object_get (doc, "errors");
    assert_int_equal (json_array_size (errors), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *e = json_array_get (errors, i);
        assert_int_equal (json_integer_value (json_object_get (e, "count")), 1);
        assert_int_equal (json_array_size (json_object_get (e, "targets")), 1);
        assert_non_null (json_string_value (json_object_get (e, "message")));
    }
    json_decref (doc);
}

static void
test_parallel_1_equals_parallel_16 (void **state)
{
    (void)state;
    char *one = NULL, *many = NULL;
    assert_int_equal (s_fleet (s_targets, "--json --parallel 1", &one), 3);
    assert_int_equal (s_fleet (s_targets, "--json --parallel 16", &many), 3);
    json_t *a = wes_test_json (one, "--json"), *b = wes_test_json (many, "--json");
    assert_true (json_equal (a, b));
    json_decref (a);
    json_decref (b);
    free (one);
    free (many);
    assert_int_equal (s_fleet (s_targets, "--parallel 1", &one), 3);
    assert_int_equal (s_fleet (s_targets, "--parallel 16", &many), 3);
    assert_string_equal (one, many);
    free (one);
    free (many);
}

static void
test_exit_codes (void **state)
{
    (void)state;
    char path[4200];
    char *out = NULL;
    /*  All in sync: 0, one line per group. */
    snprintf (path, sizeof path, "%s/clean", s_dir);
    FILE *f = fopen (path, "w");
    assert_non_null (f);
    for (int i = 1; i <= 2; i++) {
        char db[16];
        snprintf (db, sizeof db, "db%02d", i);
        char *ci = wes_pgfix_conninfo (s_pg, db);
        fprintf (f, "c%d %s\n", i, ci);
        free (ci);
    }
    /*  then a drifted one: 1 */
    assert_int_equal (fclose (f), 0);
    assert_int_equal (s_fleet (path, "", &out), 0);
    wes_test_has (out, "in sync: 2 targets (c1, c2)");
    free (out);
    f = fopen (path, "a");
    assert_non_null (f);
    char *ci = wes_pgfix_conninfo (s_pg, "db07");
    fprintf (f, "c7 %s\n", ci);
    free (ci);
    assert_int_equal (fclose (f), 0);
    assert_int_equal (s_fleet (path, "", &out), 1);
    free (out);

    /*  Usage: 2. */
    char cmd[16384];
    const char *bad[] = {"--parallel 0", "--parallel 65",       "--parallel x",
                         "--show -1",    "--connect-timeout 0", "--db dbname=x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf (cmd, sizeof cmd, "'%s' drift --schema '%s' --targets '%s' %s", WES_WESLEY_BIN,
                  s_sdl, path, bad[i]);
        wes_test_expect (cmd, 2, NULL); /* a usage error */
    }
    /*  --help lists the fleet flags with their defaults. */
    snprintf (cmd, sizeof cmd, "'%s' drift --help", WES_WESLEY_BIN);
    out = wes_test_expect_output (cmd, 0, "--parallel N");
    wes_test_has (out, "(default: 8)");
    wes_test_has (out, "--connect-timeout S");
    free (out);

    /*  A targets file with a password, or one that is missing: 3, with why. */
    snprintf (path, sizeof path, "%s/secret", s_dir);
    assert_int_equal (wes_test_write_file (path, "a host=/tmp dbname=x password=hunter2\n"), 0);
    snprintf (cmd, sizeof cmd, "'%s' drift --schema '%s' --targets '%s'", WES_WESLEY_BIN, s_sdl,
              path);
    out = wes_test_expect_output (cmd, 3, "password");
    assert_null (strstr (out, "hunter2"));
    free (out);
    snprintf (cmd, sizeof cmd, "'%s' drift --schema '%s' --targets '%s/none'", WES_WESLEY_BIN,
              s_sdl, s_dir);
    wes_test_expect (cmd, 3, NULL);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_text_groups_each_difference_once),
        cmocka_unit_test (test_json_structure),
        cmocka_unit_test (test_parallel_1_equals_parallel_16),
        cmocka_unit_test (test_exit_codes),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
