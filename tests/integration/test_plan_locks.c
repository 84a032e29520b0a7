/*  test_plan_locks.c — the lock each planned step declares is the strongest
    lock PostgreSQL 15 takes on the step's table (DESIGN.md section 9).

    Plans covering every step kind are run step by step. A tx step runs
    inside BEGIN in one session, which reads its own pg_locks rows for the
    table before COMMIT. A batched step's UPDATE is measured the same way. A
    nontx step (CREATE/DROP INDEX CONCURRENTLY) runs in a second session
    while a third holds an old snapshot, so that it waits in the middle; the
    first session reads the second's locks while it waits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pg/wes_introspect.h"
#include "plan/wes_planner.h"
#include "schema/wes_compile.h"
#include "schema/wes_parser.h"
#include "util/wes_buf.h"
#include "wes_pgfix.h"
#include "wes_testassert.h"

#define ID "  id: Int! @wes_pk\n"

/*  Schema versions; each plan v[i] -> v[i+1] runs on the same database. */
static const char *s_versions[] = {
    //  new tables (FK, check, index, policy), an enum
    "enum S { OPEN CLOSED }\n"
    "type U @wes_table {\n" ID "  email: String\n  n: Int\n  s: S\n  full: String\n"
    "  old: String @wes_index(name: \"u_old_idx\")\n}\n"
    "type P @wes_table @wes_rls(select: \"true\") {\n" ID "  u: Int @wes_fk(ref: \"U.id\")\n"
    "  k: Int @wes_check(expr: \"k > 0\", name: \"p_k_check\")\n  t: String @wes_index\n"
    "  w: Int\n}\n"
    "type Person @wes_table {\n" ID "}\n",
    //  every pattern on existing tables
    "enum S { NEW OPEN CLOSED }\n"
    "type U @wes_table {\n" ID "  email: String! @wes_unique @wes_index\n"
    "  n: BigInt! @wes_default(value: 0)\n  s: S @wes_default(value: \"OPEN\")\n"
    "  name: String @wes_renamedFrom(name: \"full\")\n"
    "  tok: UUID! @wes_default(expr: \"gen_random_uuid()\")\n  c: Int @wes_default(value: 1)\n"
    "  old: String @wes_index(name: \"u_old_idx\", using: \"hash\")\n}\n"
    "type P @wes_table @wes_rls(select: \"id > 0\", insert: \"true\") {\n" ID
    "  u: Int @wes_fk(ref: \"U.id\", onDelete: \"CASCADE\")\n"
    "  k: Int @wes_check(expr: \"k > 1\", name: \"p_k_check\")\n  t: String\n"
    "  w: Int @wes_fk(ref: \"U.id\")\n}\n"
    "type Human @wes_table @wes_renamedFrom(name: \"person\") {\n" ID "}\n",
    //  drops (allow_destructive)
    "type U @wes_table {\n" ID "  email: String! @wes_unique @wes_index\n"
    "  n: BigInt! @wes_default(value: 0)\n  name: String\n}\n",
};

static wes_pgfix_t *s_fix;

static int
s_setup (void **state)
{
    (void)state;
    s_fix = wes_pgfix_start ();
    return s_fix ? 0 : -1;
}

static int
s_teardown (void **state)
{
    (void)state;
    wes_pgfix_destroy (&s_fix);
    return 0;
}

static void
s_ok (PGconn *conn, const char *sql)
{
    PGresult *r = wes_pgfix_query (conn, sql);
    if (!r) {
        fail_msg ("statement failed:\n%s", sql);
    }
    PQclear (r);
}

//  The strongest lock `pid` holds (or waits for) on the relation `oid`
static wes_lock_t
s_strongest (PGconn *conn, const char *oid, const char *pid)
{
    static const char *modes[] = {"",
                                  "AccessShareLock",
                                  "RowShareLock",
                                  "RowExclusiveLock",
                                  "ShareUpdateExclusiveLock",
                                  "ShareLock",
                                  "ShareRowExclusiveLock",
                                  "ExclusiveLock",
                                  "AccessExclusiveLock"};
    const char *params[2] = {oid, pid};
    PGresult *r = PQexecParams (conn,
                                "SELECT mode FROM pg_locks WHERE locktype = 'relation' AND "
                                "relation = $1::oid AND pid = $2::int",
                                2, NULL, params, NULL, NULL, 0);
    assert_int_equal (PQresultStatus (r), PGRES_TUPLES_OK);
    wes_lock_t best = WES_LOCK_NONE;
    for (int i = 0; i < PQntuples (r); i++) {
        for (int m = 1; m <= 8; m++) {
            if (strcmp (PQgetvalue (r, i, 0), modes[m]) == 0 && (wes_lock_t)m > best) {
                best = (wes_lock_t)m;
            }
        }
    }
    PQclear (r);
    return best;
}

//  The oid of table (a string), or NULL when it does not exist; caller frees
static char *
s_oid (PGconn *conn, const char *table)
{
    wes_buf_t *b = wes_buf_new ();
    wes_buf_put_ident (b, table);
    const char *params[1] = {wes_buf_data (b)};
    PGresult *r =
        PQexecParams (conn, "SELECT to_regclass($1)::oid", 1, NULL, params, NULL, NULL, 0);
    assert_int_equal (PQresultStatus (r), PGRES_TUPLES_OK);
    char *oid = PQgetisnull (r, 0, 0) ? NULL : strdup (PQgetvalue (r, 0, 0));
    PQclear (r);
    wes_buf_destroy (&b);
    return oid;
}

static void
s_check (const wes_step_t *s, wes_lock_t got)
{
    if (got != s->lock) {
        fail_msg ("step %s declares %s, PostgreSQL took %s:\n%s", s->id, wes_lock_name (s->lock),
                  wes_lock_name (got), s->sql);
    }
    printf ("  %-60s %-8s %s\n", s->id, wes_step_kind_name (s->kind), wes_lock_name (got));
}

//  Runs each statement of a nontx step in `worker` while `blocker` holds an
//  old snapshot; the first statement's locks are read from `observer`
static void
s_run_nontx (PGconn *observer, PGconn *worker, PGconn *blocker, const wes_step_t *s,
             const char *worker_pid)
{
    char *sql = strdup (s->sql);
    char *first_end = strstr (sql, ";\n");
    assert_non_null (first_end);
    first_end[1] = '\0';
    const char *rest = first_end + 2;
    char *oid = s_oid (observer, s->table);
    assert_non_null (oid);
    //  an old snapshot (CIC waits for it) reading the table (DROP INDEX
    //  CONCURRENTLY waits for it)
    s_ok (blocker, "BEGIN ISOLATION LEVEL REPEATABLE READ");
    wes_buf_t *q = wes_buf_new ();
    wes_buf_puts (q, "SELECT count(*) FROM ");
    wes_buf_put_ident (q, s->table);
    s_ok (blocker, wes_buf_data (q));
    wes_buf_destroy (&q);
    assert_int_equal (PQsendQuery (worker, sql), 1);
    //  wait until the statement waits on the snapshot (or finishes)
    wes_lock_t got = WES_LOCK_NONE;
    for (int i = 0; i < 500; i++) {
        wes_lock_t now = s_strongest (observer, oid, worker_pid);
        got = now > got ? now : got;
        char *waiting = wes_pgfix_query_value (
            s_fix, "locks",
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query "
            "LIKE '%CONCURRENTLY%'");
        bool stuck = waiting && strcmp (waiting, "0") != 0;
        free (waiting);
        if (stuck && got != WES_LOCK_NONE) {
            break;
        }
        PQconsumeInput (worker);
        if (!PQisBusy (worker)) {
            break;
        }
        usleep (10000);
    }
    s_ok (blocker, "COMMIT");
    PGresult *r;
    while ((r = PQgetResult (worker))) {
        if (PQresultStatus (r) != PGRES_COMMAND_OK && PQresultStatus (r) != PGRES_TUPLES_OK) {
            fail_msg ("%s failed: %s", s->id, PQresultErrorMessage (r));
        }
        PQclear (r);
    }
    if (rest[0]) {
        s_ok (worker, rest);
    }
    s_check (s, got);
    free (oid);
    free (sql);
}

static void
test_declared_locks_are_taken (void **state)
{
    (void)state;
    assert_int_equal (wes_pgfix_createdb (s_fix, "locks"), 0);
    PGconn *conn = wes_pgfix_connect (s_fix, "locks");
    PGconn *worker = wes_pgfix_connect (s_fix, "locks");
    PGconn *blocker = wes_pgfix_connect (s_fix, "locks");
    assert_non_null (conn);
    assert_non_null (worker);
    assert_non_null (blocker);
    s_ok (conn, wes_records_ddl);
    PGresult *r = wes_pgfix_query (worker, "SELECT pg_backend_pid()");
    char *worker_pid = strdup (PQgetvalue (r, 0, 0));
    PQclear (r);
    r = wes_pgfix_query (conn, "SELECT pg_backend_pid()");
    char *own_pid = strdup (PQgetvalue (r, 0, 0));
    PQclear (r);

    size_t measured[3] = {0, 0, 0};
    size_t measured_fk = 0; /* ADD FOREIGN KEY NOT VALID: SHARE ROW EXCLUSIVE */
    wes_model_t *from = wes_model_new ();
    for (size_t v = 0; v < sizeof s_versions / sizeof s_versions[0]; v++) {
        wes_model_t *to = wes_test_compile (s_versions[v]);
        wes_planner_opts_t opts;
        wes_planner_opts_init (&opts);
        opts.allow_destructive = true;
        char *err = NULL;
        wes_plan_t *plan = wes_planner_plan (from, to, &opts, &err);
        if (!plan) {
            fail_msg ("planning v%zu: %s", v, err);
        }
        printf ("plan to version %zu:\n", v + 1);
        for (size_t i = 0; i < wes_plan_count (plan); i++) {
            const wes_step_t *s = wes_plan_step (plan, i);
            if (s->kind == WES_STEP_NONTX && s->table) {
                s_run_nontx (conn, worker, blocker, s, worker_pid);
                measured[s->kind]++;
                continue;
            }
            if (s->kind == WES_STEP_NONTX) {
                s_ok (conn, s->sql); /* ALTER TYPE ... ADD VALUE: no table */
                continue;
            }
            char *before = s->table ? s_oid (conn, s->table) : NULL;
            s_ok (conn, "BEGIN");
            if (s->kind == WES_STEP_BATCHED) {
                wes_buf_t *b = wes_buf_new ();
                wes_buf_puts (b, "UPDATE ");
                wes_buf_put_ident (b, s->table);
                wes_buf_printf (b, " SET %s WHERE %s", s->batch_set,
                                s->batch_where ? s->batch_where : "true");
                s_ok (conn, wes_buf_data (b));
                wes_buf_destroy (&b);
            }
            else {
                s_ok (conn, s->sql);
            }
            if (s->table) {
                char *oid = before ? before : s_oid (conn, s->table);
                assert_non_null (oid);
                s_check (s, s_strongest (conn, oid, own_pid));
                measured[s->kind]++;
                measured_fk += s->lock == WES_LOCK_SHARE_ROW_EXCLUSIVE ? 1 : 0;
                if (oid != before) {
                    free (oid);
                }
            }
            else {
                assert_int_equal (s->lock, WES_LOCK_NONE);
            }
            s_ok (conn, "COMMIT");
            free (before);
        }
        wes_plan_destroy (&plan);
        wes_model_destroy (&from);
        from = to;
    }
    //  every kind was measured
    assert_true (measured[WES_STEP_TX] >= 20);
    assert_true (measured_fk > 0);
    assert_true (measured[WES_STEP_NONTX] >= 4);
    assert_true (measured[WES_STEP_BATCHED] >= 2);
    wes_model_destroy (&from);
    free (worker_pid);
    free (own_pid);
    PQfinish (blocker);
    PQfinish (worker);
    PQfinish (conn);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_declared_locks_are_taken),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
