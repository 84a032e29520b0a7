/*  test_apply_examples.c — every example schema (the Wesley examples under
    WES_CONFORMANCE_DIR/wesley-examples and our own under examples/) is
    compiled with the real `wesley compile`, applied to its own database
    with psql -v ON_ERROR_STOP=1 -f schema.sql, and the catalog is read back
    with libpq and compared with the compiled canonical model (schema.json
    "schema"): tables, columns with format_type() types and nullability,
    defaults present, constraints (kind, name, columns, FK targets and
    actions), indexes (name, columns, method, unique, partial), enum labels
    in order, RLS flag and policies (name, command, roles, USING/WITH
    CHECK present) must match, and nothing extra may exist.

    What an example assumes exists outside itself (Supabase's auth.uid(),
    tables its policies name but it does not define) is created first by
    tests/integration/preludes/<example>.sql. */
#include <dirent.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/wes_buf.h"
#include "wes_pgfix.h"
#include "wes_testutil.h"

/*  One example: its file, its name (the database name too). */
typedef struct {
    wes_pgfix_t **fix; /* the shared cluster (one per test program) */
    char *path;        /* the .graphql file */
    char *name;        /* file name without .graphql */
} s_example_t;

/*  preludes/<example>.known-failures: one line per statement PostgreSQL
    rejects, "policy TABLE NAME ERROR-TEXT" ('#' starts a comment). */
typedef struct {
    size_t n;      /* entries */
    char **table;  /* table of the policy */
    char **policy; /* policy name */
    char **error;  /* text the error message contains */
} s_known_t;

static s_known_t *s_known_load (const char *example);
static void s_known_destroy (s_known_t **k_p);
static bool s_known_matches (const s_known_t *k, const char *log);
static bool s_remove_policy (json_t *model, const char *table, const char *name);
static const char *s_name_of (const json_t *j);
static json_t *s_read_catalog (PGconn *conn);
static json_t *s_project_model (const json_t *schema);
static void s_sort_by_name (json_t *array);
static int s_diff_named (const char *where, const json_t *model, const json_t *db);
static char *s_dump (const json_t *j);

/*  ---- the test ---------------------------------------------------------- */

static void
test_example_applies_and_reads_back (void **state)
{
    s_example_t *ex = *state;
    wes_pgfix_t *fix = *ex->fix;
    assert_non_null (fix);

    /*  1. wesley compile X -o tmpdir */
    /*  Outputs go inside the cluster's directory: destroying the fixture
        removes them even when an assertion ends this test early. */
    wes_buf_t *od = wes_buf_new ();
    wes_buf_printf (od, "%s/out-%s", wes_pgfix_dir (fix), ex->name);
    char *out = wes_buf_steal (od);
    wes_buf_destroy (&od);
    wes_buf_t *cmd = wes_buf_new ();
    wes_buf_put_literal (cmd, WES_WESLEY_BIN);
    wes_buf_puts (cmd, " compile ");
    wes_buf_put_literal (cmd, ex->path);
    wes_buf_puts (cmd, " -o ");
    wes_buf_put_literal (cmd, out);
    char *log = NULL;
    int rc = wes_test_run (wes_buf_data (cmd), &log);
    if (rc != 0) {
        print_error ("%s: wesley compile exited %d:\n%s\n", ex->name, rc, log ? log : "");
    }
    free (log);
    wes_buf_destroy (&cmd);
    assert_int_equal (rc, 0);

    wes_buf_t *p = wes_buf_new ();
    wes_buf_printf (p, "%s/schema.json", out);
    json_error_t jerr;
    json_t *doc = json_load_file (wes_buf_data (p), 0, &jerr);
    if (!doc) {
        print_error ("%s: schema.json: %s (line %d)\n", ex->name, jerr.text, jerr.line);
    }
    assert_non_null (doc);
    json_t *schema = json_object_get (doc, "schema");
    assert_true (json_is_object (schema));
    assert_true (json_is_string (json_object_get (doc, "hash")));

    /*  2. a database of its own, and the prelude when the example needs one */
    assert_int_equal (wes_pgfix_createdb (fix, ex->name), 0);
    wes_buf_reset (p);
    wes_buf_printf (p, "%s/tests/integration/preludes/%s.sql", WES_SOURCE_DIR, ex->name);
    if (access (wes_buf_data (p), R_OK) == 0) {
        rc = wes_pgfix_psql_file (fix, ex->name, wes_buf_data (p), &log);
        if (rc != 0) {
            print_error ("%s: prelude failed (%d):\n%s\n", ex->name, rc, log);
        }
        free (log);
        assert_int_equal (rc, 0);
    }

    /*  3. apply schema.sql with the real psql, stopping on the first error */
    wes_buf_reset (p);
    wes_buf_printf (p, "%s/schema.sql", out);
    s_known_t *known = s_known_load (ex->name);
    rc = wes_pgfix_psql_file (fix, ex->name, wes_buf_data (p), &log);
    if (known->n == 0 && rc != 0) {
        print_error ("%s: psql -f schema.sql exited %d:\n%s\n", ex->name, rc, log);
    }
    if (known->n > 0) {
        /*  The example has statements PostgreSQL rejects (listed, with the
            reason, in preludes/<example>.known-failures): the file must fail
            as a whole on one of them ... */
        bool expected = rc == 3 && s_known_matches (known, log);
        if (!expected) {
            print_error ("%s: expected schema.sql to fail on a known defect, psql exited %d:\n%s\n",
                         ex->name, rc, log);
        }
        assert_true (expected);
        free (log);
        /*  ... and, run with a savepoint around each statement, fail on
            exactly those and nothing else. */
        wes_buf_t *sql = wes_buf_new ();
        wes_buf_puts (sql, "\\set ON_ERROR_STOP off\n\\set ON_ERROR_ROLLBACK on\n\\i ");
        wes_buf_puts (sql, wes_buf_data (p));
        wes_buf_puts (sql, "\n");
        rc = wes_pgfix_psql (fix, ex->name, wes_buf_data (sql), &log);
        wes_buf_destroy (&sql);
        size_t errors = 0;
        for (const char *e = log; (e = strstr (e, "ERROR:")) != NULL; e++) {
            errors++;
        }
        bool only_known = errors == known->n && s_known_matches (known, log);
        if (rc != 0 || !only_known) {
            print_error ("%s: expected exactly %zu known error(s), got %zu (psql exit %d):\n%s\n",
                         ex->name, known->n, errors, rc, log);
        }
        assert_int_equal (rc, 0);
        assert_true (only_known);
    }
    free (log);
    if (known->n == 0) {
        assert_int_equal (rc, 0);
    }

    /*  4. read the catalog back and compare */
    PGconn *conn = wes_pgfix_connect (fix, ex->name);
    assert_non_null (conn);
    json_t *db = s_read_catalog (conn);
    PQfinish (conn);
    assert_non_null (db);
    json_t *model = s_project_model (schema);
    assert_non_null (model);
    /*  The policies PostgreSQL rejected are in the model, not in the database. */
    for (size_t i = 0; i < known->n; i++) {
        assert_true (s_remove_policy (model, known->table[i], known->policy[i]));
    }

    int diffs =
        s_diff_named ("enum", json_object_get (model, "enums"), json_object_get (db, "enums"));
    diffs +=
        s_diff_named ("table", json_object_get (model, "tables"), json_object_get (db, "tables"));
    json_t *extra = json_object_get (db, "extra");
    if (json_array_size (extra) > 0) {
        char *s = s_dump (extra);
        print_error ("%s: objects in schema public the model does not have: %s\n", ex->name, s);
        free (s);
        diffs++;
    }
    if (diffs > 0) {
        print_error ("%s: %d difference(s) between schema.json and the database\n", ex->name,
                     diffs);
    }
    assert_int_equal (diffs, 0);
    /*  Belt and braces: the projections are equal as a whole. */
    assert_true (json_equal (model, db));

    /*  5. Wesley's own introspection agrees (D014): `wesley hash --db` of
        the database is the hash in schema.json, and `wesley drift` finds
        nothing, or, for an example with known defects, those. */
    char *conninfo = wes_pgfix_conninfo (fix, ex->name);
    cmd = wes_buf_new ();
    wes_buf_put_literal (cmd, WES_WESLEY_BIN);
    wes_buf_puts (cmd, " hash --db ");
    wes_buf_put_literal (cmd, conninfo);
    rc = wes_test_run (wes_buf_data (cmd), &log);
    const char *want = json_string_value (json_object_get (doc, "hash"));
    bool same = rc == 0 && log && strstr (log, want) != NULL;
    if (known->n == 0 && !same) {
        print_error ("%s: wesley hash --db exited %d, want %s:\n%s\n", ex->name, rc, want, log);
    }
    free (log);
    assert_int_equal (rc, 0);
    assert_true (known->n == 0 ? same : !same);
    wes_buf_reset (cmd);
    wes_buf_put_literal (cmd, WES_WESLEY_BIN);
    wes_buf_puts (cmd, " drift --schema ");
    wes_buf_put_literal (cmd, ex->path);
    wes_buf_puts (cmd, " --db ");
    wes_buf_put_literal (cmd, conninfo);
    rc = wes_test_run (wes_buf_data (cmd), &log);
    bool drift_ok = rc == (known->n == 0 ? 0 : 1);
    for (size_t i = 0; i < known->n && drift_ok; i++) {
        drift_ok = strstr (log, known->policy[i]) != NULL;
    }
    if (!drift_ok) {
        print_error ("%s: wesley drift exited %d:\n%s\n", ex->name, rc, log);
    }
    free (log);
    assert_true (drift_ok);
    wes_buf_destroy (&cmd);
    free (conninfo);
    s_known_destroy (&known);

    json_decref (model);
    json_decref (db);
    json_decref (doc);
    wes_buf_destroy (&p);
    wes_test_rmtree (out);
    free (out);
}

/*  The comparison itself must be able to fail: a database that lacks a
    column, has an extra index, or a different type, is reported. */
static void
test_comparison_detects_differences (void **state)
{
    s_example_t *ex = *state;
    wes_pgfix_t *fix = *ex->fix;
    assert_int_equal (wes_pgfix_createdb (fix, "self_check"), 0);
    assert_int_equal (wes_pgfix_exec (fix, "self_check",
                                      "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');"
                                      "CREATE TABLE a (id uuid PRIMARY KEY, n integer NOT NULL,"
                                      " m mood, t varchar(64) DEFAULT 'x');"
                                      "CREATE TABLE b (id uuid PRIMARY KEY,"
                                      " a_id uuid REFERENCES a(id) ON DELETE CASCADE,"
                                      " CONSTRAINT b_chk CHECK (a_id IS NOT NULL));"
                                      "CREATE INDEX b_a_id_idx ON b (a_id) WHERE a_id IS NOT NULL;"
                                      "ALTER TABLE b ENABLE ROW LEVEL SECURITY;"
                                      "CREATE POLICY b_sel ON b FOR SELECT USING (true);"),
                      0);
    PGconn *conn = wes_pgfix_connect (fix, "self_check");
    assert_non_null (conn);
    json_t *db = s_read_catalog (conn);
    PQfinish (conn);
    assert_non_null (db);
    json_error_t jerr;
    json_t *schema = json_loads (
        "{\"format\":\"wesley-model/1\","
        " \"enums\":[{\"name\":\"mood\",\"values\":[\"sad\",\"ok\",\"happy\"]}],"
        " \"tables\":["
        "  {\"name\":\"a\",\"rls\":false,\"policies\":[],\"indexes\":[],"
        "   \"columns\":[{\"name\":\"id\",\"type\":\"uuid\",\"not_null\":true,\"default\":null},"
        "     {\"name\":\"n\",\"type\":\"integer\",\"not_null\":true,\"default\":null},"
        "     {\"name\":\"m\",\"type\":\"mood\",\"not_null\":false,\"default\":null},"
        "     {\"name\":\"t\",\"type\":\"character varying(64)\",\"not_null\":false,"
        "      \"default\":\"'x'\"}],"
        "   \"constraints\":[{\"kind\":\"primary\",\"name\":\"a_pkey\",\"columns\":[\"id\"]}]},"
        "  {\"name\":\"b\",\"rls\":true,"
        "   \"columns\":[{\"name\":\"id\",\"type\":\"uuid\",\"not_null\":true,\"default\":null},"
        "     {\"name\":\"a_id\",\"type\":\"uuid\",\"not_null\":false,\"default\":null}],"
        "   \"constraints\":[{\"kind\":\"primary\",\"name\":\"b_pkey\",\"columns\":[\"id\"]},"
        "     {\"kind\":\"foreign\",\"name\":\"b_a_id_fkey\",\"columns\":[\"a_id\"],"
        "      \"ref_table\":\"a\",\"ref_columns\":[\"id\"],\"on_delete\":\"CASCADE\","
        "      \"on_update\":\"NO ACTION\"},"
        "     {\"kind\":\"check\",\"name\":\"b_chk\",\"columns\":[],\"expr\":\"a_id IS NOT "
        "NULL\"}],"
        "   \"indexes\":[{\"name\":\"b_a_id_idx\",\"columns\":[\"a_id\"],\"method\":\"btree\","
        "     \"unique\":false,\"where\":\"a_id IS NOT NULL\"}],"
        "   \"policies\":[{\"name\":\"b_sel\",\"cmd\":\"SELECT\",\"permissive\":true,"
        "     \"roles\":[],\"using\":\"true\",\"check\":null}]}]}",
        0, &jerr);
    assert_non_null (schema);
    json_t *model = s_project_model (schema);
    /*  The hand-written model matches the database exactly ... */
    assert_int_equal (
        s_diff_named ("enum", json_object_get (model, "enums"), json_object_get (db, "enums")), 0);
    assert_int_equal (
        s_diff_named ("table", json_object_get (model, "tables"), json_object_get (db, "tables")),
        0);
    assert_int_equal (json_array_size (json_object_get (db, "extra")), 0);
    assert_true (json_equal (model, db));
    json_decref (db);

    /*  ... and each kind of change in the database is found. */
    print_message ("(the differences printed below are expected: each change must be found)\n");
    static const char *changes[] = {
        "ALTER TABLE a DROP COLUMN t",
        "ALTER TABLE a ALTER COLUMN n TYPE bigint",
        "ALTER TABLE a ALTER COLUMN n DROP NOT NULL",
        "ALTER TABLE a ALTER COLUMN m SET DEFAULT 'ok'",
        "CREATE INDEX a_n_idx ON a (n)",
        "ALTER TABLE b DROP CONSTRAINT b_chk",
        "ALTER TABLE b DROP CONSTRAINT b_a_id_fkey, ADD CONSTRAINT b_a_id_fkey FOREIGN KEY (a_id) "
        "REFERENCES a (id)",
        "ALTER TYPE mood ADD VALUE 'meh' BEFORE 'ok'",
        "ALTER TABLE b DISABLE ROW LEVEL SECURITY",
        "ALTER POLICY b_sel ON b TO postgres",
        "CREATE TABLE c (x int)",
        "CREATE VIEW v AS SELECT 1 AS one",
    };
    for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++) {
        char dbname[32];
        snprintf (dbname, sizeof dbname, "self_check_%zu", i);
        wes_buf_t *b = wes_buf_new ();
        wes_buf_printf (b, "CREATE DATABASE %s TEMPLATE self_check", dbname);
        assert_int_equal (wes_pgfix_exec (fix, NULL, wes_buf_data (b)), 0);
        wes_buf_destroy (&b);
        assert_int_equal (wes_pgfix_exec (fix, dbname, changes[i]), 0);
        conn = wes_pgfix_connect (fix, dbname);
        assert_non_null (conn);
        db = s_read_catalog (conn);
        PQfinish (conn);
        assert_non_null (db);
        int diffs =
            s_diff_named ("enum", json_object_get (model, "enums"), json_object_get (db, "enums"))
            + s_diff_named ("table", json_object_get (model, "tables"),
                            json_object_get (db, "tables"))
            + (int)json_array_size (json_object_get (db, "extra"));
        if (diffs == 0) {
            print_error ("not detected: %s\n", changes[i]);
        }
        assert_true (diffs > 0);
        assert_false (json_equal (model, db));
        json_decref (db);
    }
    json_decref (model);
    json_decref (schema);
}

/*  ---- known defects of an example ------------------------------------------ */

static s_known_t *
s_known_load (const char *example)
{
    s_known_t *k = calloc (1, sizeof *k);
    assert_non_null (k);
    wes_buf_t *path = wes_buf_new ();
    wes_buf_printf (path, "%s/tests/integration/preludes/%s.known-failures", WES_SOURCE_DIR,
                    example);
    char *text = wes_test_read_file (wes_buf_data (path), NULL);
    wes_buf_destroy (&path);
    if (!text) {
        return k;
    }
    char *save = NULL;
    for (char *line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save)) {
        char table[128], policy[128];
        int used = 0;
        if (line[0] == '#' || sscanf (line, "policy %127s %127s %n", table, policy, &used) != 2
            || used == 0) {
            continue;
        }
        k->table = realloc (k->table, (k->n + 1) * sizeof *k->table);
        k->policy = realloc (k->policy, (k->n + 1) * sizeof *k->policy);
        k->error = realloc (k->error, (k->n + 1) * sizeof *k->error);
        k->table[k->n] = strdup (table);
        k->policy[k->n] = strdup (policy);
        k->error[k->n] = strdup (line + used);
        k->n++;
    }
    free (text);
    return k;
}

static void
s_known_destroy (s_known_t **k_p)
{
    s_known_t *k = *k_p;
    for (size_t i = 0; i < k->n; i++) {
        free (k->table[i]);
        free (k->policy[i]);
        free (k->error[i]);
    }
    free (k->table);
    free (k->policy);
    free (k->error);
    free (k);
    *k_p = NULL;
}

/*  Every ERROR line of psql's output carries one of the known texts. */
static bool
s_known_matches (const s_known_t *k, const char *log)
{
    bool any = false;
    for (const char *e = log ? strstr (log, "ERROR:") : NULL; e; e = strstr (e + 1, "ERROR:")) {
        const char *eol = strchr (e, '\n');
        size_t len = eol ? (size_t)(eol - e) : strlen (e);
        bool ok = false;
        for (size_t i = 0; i < k->n && !ok; i++) {
            const char *hit = strstr (e, k->error[i]);
            ok = hit && hit < e + len;
        }
        if (!ok) {
            return false;
        }
        any = true;
    }
    return any;
}

/*  Removes policy NAME of TABLE from a projected model; false if absent. */
static bool
s_remove_policy (json_t *model, const char *table, const char *name)
{
    size_t i;
    json_t *t;
    json_array_foreach (json_object_get (model, "tables"), i, t)
    {
        if (strcmp (s_name_of (t), table) != 0) {
            continue;
        }
        json_t *pols = json_object_get (t, "policies");
        size_t k;
        json_t *p;
        json_array_foreach (pols, k, p)
        {
            if (strcmp (s_name_of (p), name) == 0) {
                json_array_remove (pols, k);
                return true;
            }
        }
    }
    return false;
}

/*  ---- reading the catalog ------------------------------------------------ */

/*  Each query returns one JSON value in the projected shape. */
static const char *s_sql_tables =
    "SELECT c.oid, c.relname, c.relrowsecurity FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname";

static const char *s_sql_columns =
    "SELECT coalesce(json_agg(json_build_object("
    "  'name', a.attname, 'type', format_type(a.atttypid, a.atttypmod),"
    "  'not_null', a.attnotnull, 'has_default', a.atthasdef) ORDER BY a.attnum), '[]')"
    " FROM pg_attribute a WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped";

static const char *s_sql_constraints =
    "SELECT coalesce(json_agg(json_build_object("
    "  'kind', CASE con.contype WHEN 'p' THEN 'primary' WHEN 'u' THEN 'unique'"
    "               WHEN 'f' THEN 'foreign' WHEN 'c' THEN 'check'"
    "               ELSE 'other:' || con.contype::text END,"
    "  'name', con.conname,"
    "  'columns', CASE WHEN con.contype = 'c' THEN NULL ELSE"
    "     (SELECT coalesce(json_agg(a.attname ORDER BY k.ord), '[]')"
    "        FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)"
    "        JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) END,"
    "  'ref_table', CASE WHEN con.contype = 'f' THEN"
    "     (SELECT relname FROM pg_class WHERE oid = con.confrelid) END,"
    "  'ref_columns', CASE WHEN con.contype = 'f' THEN"
    "     (SELECT coalesce(json_agg(a.attname ORDER BY k.ord), '[]')"
    "        FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)"
    "        JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum) END,"
    "  'on_delete', CASE WHEN con.contype = 'f' THEN s.del END,"
    "  'on_update', CASE WHEN con.contype = 'f' THEN s.upd END,"
    "  'def', pg_get_constraintdef(con.oid, true))), '[]')"
    " FROM pg_constraint con,"
    " LATERAL (SELECT"
    "   CASE con.confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT'"
    "     WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' END AS del,"
    "   CASE con.confupdtype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT'"
    "     WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' END AS upd"
    " ) s"
    " WHERE con.conrelid = $1::oid";

/*  Indexes that do not back a constraint (the model keeps those apart). */
static const char *s_sql_indexes =
    "SELECT coalesce(json_agg(json_build_object("
    "  'name', ic.relname,"
    "  'columns', (SELECT coalesce(json_agg(CASE WHEN k.attnum = 0"
    "       THEN pg_get_indexdef(ix.indexrelid, k.ord::int, true) ELSE a.attname END"
    "       ORDER BY k.ord), '[]')"
    "     FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)"
    "     LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum"
    "     WHERE k.ord <= ix.indnkeyatts),"
    "  'method', am.amname, 'unique', ix.indisunique,"
    "  'has_where', ix.indpred IS NOT NULL,"
    "  'valid', ix.indisvalid,"
    "  'def', pg_get_indexdef(ix.indexrelid))), '[]')"
    " FROM pg_index ix JOIN pg_class ic ON ic.oid = ix.indexrelid"
    " JOIN pg_am am ON am.oid = ic.relam"
    " WHERE ix.indrelid = $1::oid"
    "   AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = ix.indexrelid"
    "                   AND con.conrelid = ix.indrelid AND con.contype IN ('p', 'u', 'x'))";

static const char *s_sql_policies =
    "SELECT coalesce(json_agg(json_build_object("
    "  'name', p.polname,"
    "  'cmd', CASE p.polcmd WHEN '*' THEN 'ALL' WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT'"
    "              WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' END,"
    "  'permissive', p.polpermissive,"
    "  'roles', (SELECT coalesce(json_agg(r.rolname ORDER BY r.rolname), '[]')"
    "              FROM unnest(p.polroles) AS pr(oid) JOIN pg_roles r ON r.oid = pr.oid),"
    "  'has_using', p.polqual IS NOT NULL,"
    "  'has_check', p.polwithcheck IS NOT NULL,"
    "  'using', pg_get_expr(p.polqual, p.polrelid, true),"
    "  'check', pg_get_expr(p.polwithcheck, p.polrelid, true))), '[]')"
    " FROM pg_policy p WHERE p.polrelid = $1::oid";

static const char *s_sql_enums =
    "SELECT coalesce(json_agg(json_build_object('name', t.typname, 'values',"
    "  (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e"
    "    WHERE e.enumtypid = t.oid))), '[]')"
    " FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
    " WHERE n.nspname = 'public' AND t.typtype = 'e'";

/*  Anything else in schema public that a schema.sql could have made and
    the model would not know about. */
static const char *s_sql_extra =
    "SELECT coalesce(json_agg(x.what ORDER BY x.what), '[]') FROM ("
    " SELECT 'relation ' || c.relname || ' (relkind ' || c.relkind::text || ')' AS what"
    "  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    "  WHERE n.nspname = 'public' AND c.relkind NOT IN ('r', 'p', 'i', 'I', 't')"
    "    AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d"
    "         WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))"
    " UNION ALL SELECT 'type ' || t.typname || ' (typtype ' || t.typtype::text || ')'"
    "  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
    "  WHERE n.nspname = 'public' AND (t.typtype IN ('d', 'r', 'm')"
    "    OR (t.typtype = 'c' AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid"
    "         AND c.relkind = 'c')))"
    " UNION ALL SELECT 'function ' || p.proname FROM pg_proc p"
    "  JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'"
    " UNION ALL SELECT 'trigger ' || tg.tgname FROM pg_trigger tg"
    "  JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
    "  WHERE n.nspname = 'public' AND NOT tg.tgisinternal"
    " UNION ALL SELECT 'invalid index ' || ic.relname FROM pg_index ix"
    "  JOIN pg_class ic ON ic.oid = ix.indexrelid JOIN pg_namespace n"
    "  ON n.oid = ic.relnamespace WHERE n.nspname = 'public' AND NOT ix.indisvalid"
    ") x";

/*  Runs a query returning one JSON text value; $1 is an oid or unused. */
static json_t *
s_query_json (PGconn *conn, const char *sql, const char *oid)
{
    const char *params[1] = {oid};
    PGresult *res = PQexecParams (conn, sql, oid ? 1 : 0, NULL, oid ? params : NULL, NULL, NULL, 0);
    if (PQresultStatus (res) != PGRES_TUPLES_OK || PQntuples (res) != 1) {
        print_error ("catalog query failed: %s\n%s\n", PQerrorMessage (conn), sql);
        PQclear (res);
        return NULL;
    }
    json_error_t jerr;
    json_t *j = json_loads (PQgetvalue (res, 0, 0), JSON_DECODE_ANY, &jerr);
    if (!j) {
        print_error ("catalog query returned bad JSON: %s\n", jerr.text);
    }
    PQclear (res);
    return j;
}

/*  The database's schema public in the projected shape (see s_project_model),
    plus "extra": things the model has no place for. */
static json_t *
s_read_catalog (PGconn *conn)
{
    PGresult *res = wes_pgfix_query (conn, s_sql_tables);
    if (!res) {
        return NULL;
    }
    json_t *tables = json_array ();
    bool ok = true;
    for (int i = 0; i < PQntuples (res) && ok; i++) {
        const char *oid = PQgetvalue (res, i, 0);
        json_t *t = json_object ();
        json_object_set_new (t, "name", json_string (PQgetvalue (res, i, 1)));
        json_object_set_new (t, "rls", json_boolean (strcmp (PQgetvalue (res, i, 2), "t") == 0));
        json_t *cols = s_query_json (conn, s_sql_columns, oid);
        json_t *cons = s_query_json (conn, s_sql_constraints, oid);
        json_t *idxs = s_query_json (conn, s_sql_indexes, oid);
        json_t *pols = s_query_json (conn, s_sql_policies, oid);
        ok = cols && cons && idxs && pols;
        json_object_set_new (t, "columns", cols ? cols : json_null ());
        json_object_set_new (t, "constraints", cons ? cons : json_null ());
        json_object_set_new (t, "indexes", idxs ? idxs : json_null ());
        json_object_set_new (t, "policies", pols ? pols : json_null ());
        json_array_append_new (tables, t);
    }
    PQclear (res);
    json_t *enums = ok ? s_query_json (conn, s_sql_enums, NULL) : NULL;
    json_t *extra = enums ? s_query_json (conn, s_sql_extra, NULL) : NULL;
    if (!ok || !enums || !extra) {
        json_decref (tables);
        json_decref (enums);
        json_decref (extra);
        return NULL;
    }
    /*  Strip the display-only fields into a side table so json_equal sees
        the compared facts only; keep them for messages in "show". */
    size_t ti;
    json_t *t;
    json_array_foreach (tables, ti, t)
    {
        json_t *cons = json_object_get (t, "constraints");
        size_t ci;
        json_t *c;
        json_array_foreach (cons, ci, c)
        {
            json_object_del (c, "def");
            const char *kind = json_string_value (json_object_get (c, "kind"));
            if (kind && strcmp (kind, "check") == 0) {
                json_object_del (c, "columns");
            }
            if (!kind || strcmp (kind, "foreign") != 0) {
                json_object_del (c, "ref_table");
                json_object_del (c, "ref_columns");
                json_object_del (c, "on_delete");
                json_object_del (c, "on_update");
            }
        }
        json_t *idxs = json_object_get (t, "indexes");
        json_array_foreach (idxs, ci, c)
        {
            json_object_del (c, "def");
            json_object_del (c, "valid"); /* invalid ones are reported in "extra" */
        }
        json_t *pols = json_object_get (t, "policies");
        json_array_foreach (pols, ci, c)
        {
            json_object_del (c, "using");
            json_object_del (c, "check");
        }
        s_sort_by_name (json_object_get (t, "columns"));
        s_sort_by_name (cons);
        s_sort_by_name (idxs);
        s_sort_by_name (pols);
    }
    s_sort_by_name (tables);
    s_sort_by_name (enums);
    json_t *root = json_object ();
    json_object_set_new (root, "tables", tables);
    json_object_set_new (root, "enums", enums);
    json_object_set_new (root, "extra", extra);
    return root;
}

/*  ---- the model side ------------------------------------------------------ */

static json_t *
s_copy_or_null (const json_t *j)
{
    return j ? json_deep_copy (j) : json_null ();
}

/*  schema.json "schema" in the shape the catalog reader produces: the facts
    a catalog can show exactly (expressions only as present/absent: PostgreSQL
    re-prints them its own way). */
static json_t *
s_project_model (const json_t *schema)
{
    json_t *tables = json_array ();
    size_t ti;
    const json_t *t;
    json_array_foreach (json_object_get (schema, "tables"), ti, t)
    {
        json_t *pt = json_object ();
        json_object_set_new (pt, "name", s_copy_or_null (json_object_get (t, "name")));
        json_object_set_new (pt, "rls", json_boolean (json_is_true (json_object_get (t, "rls"))));
        json_t *cols = json_array ();
        size_t i;
        const json_t *c;
        json_array_foreach (json_object_get (t, "columns"), i, c)
        {
            json_t *pc = json_object ();
            json_object_set_new (pc, "name", s_copy_or_null (json_object_get (c, "name")));
            json_object_set_new (pc, "type", s_copy_or_null (json_object_get (c, "type")));
            json_object_set_new (pc, "not_null",
                                 json_boolean (json_is_true (json_object_get (c, "not_null"))));
            const json_t *def = json_object_get (c, "default");
            json_object_set_new (pc, "has_default", json_boolean (def && !json_is_null (def)));
            json_array_append_new (cols, pc);
        }
        json_t *cons = json_array ();
        json_array_foreach (json_object_get (t, "constraints"), i, c)
        {
            json_t *pc = json_object ();
            const char *kind = json_string_value (json_object_get (c, "kind"));
            json_object_set_new (pc, "kind", s_copy_or_null (json_object_get (c, "kind")));
            json_object_set_new (pc, "name", s_copy_or_null (json_object_get (c, "name")));
            if (!kind || strcmp (kind, "check") != 0) {
                json_object_set_new (pc, "columns",
                                     s_copy_or_null (json_object_get (c, "columns")));
            }
            if (kind && strcmp (kind, "foreign") == 0) {
                json_object_set_new (pc, "ref_table",
                                     s_copy_or_null (json_object_get (c, "ref_table")));
                json_object_set_new (pc, "ref_columns",
                                     s_copy_or_null (json_object_get (c, "ref_columns")));
                json_object_set_new (pc, "on_delete",
                                     s_copy_or_null (json_object_get (c, "on_delete")));
                json_object_set_new (pc, "on_update",
                                     s_copy_or_null (json_object_get (c, "on_update")));
            }
            json_array_append_new (cons, pc);
        }
        json_t *idxs = json_array ();
        json_array_foreach (json_object_get (t, "indexes"), i, c)
        {
            json_t *pc = json_object ();
            json_object_set_new (pc, "name", s_copy_or_null (json_object_get (c, "name")));
            json_object_set_new (pc, "columns", s_copy_or_null (json_object_get (c, "columns")));
            const json_t *m = json_object_get (c, "method");
            json_object_set_new (
                pc, "method", m && !json_is_null (m) ? json_deep_copy (m) : json_string ("btree"));
            json_object_set_new (pc, "unique",
                                 json_boolean (json_is_true (json_object_get (c, "unique"))));
            const json_t *w = json_object_get (c, "where");
            json_object_set_new (pc, "has_where", json_boolean (w && !json_is_null (w)));
            json_array_append_new (idxs, pc);
        }
        json_t *pols = json_array ();
        json_array_foreach (json_object_get (t, "policies"), i, c)
        {
            json_t *pc = json_object ();
            json_object_set_new (pc, "name", s_copy_or_null (json_object_get (c, "name")));
            json_object_set_new (pc, "cmd", s_copy_or_null (json_object_get (c, "cmd")));
            json_object_set_new (pc, "permissive",
                                 json_boolean (json_is_true (json_object_get (c, "permissive"))));
            json_t *roles = json_array ();
            size_t ri;
            const json_t *r;
            json_array_foreach (json_object_get (c, "roles"), ri, r)
            {
                /*  PUBLIC is the empty role list in the catalog. */
                const char *rn = json_string_value (r);
                if (rn && strcasecmp (rn, "public") != 0) {
                    json_array_append_new (roles, json_string (rn));
                }
            }
            json_object_set_new (pc, "roles", roles);
            const json_t *u = json_object_get (c, "using");
            const json_t *k = json_object_get (c, "check");
            json_object_set_new (pc, "has_using", json_boolean (u && !json_is_null (u)));
            json_object_set_new (pc, "has_check", json_boolean (k && !json_is_null (k)));
            json_array_append_new (pols, pc);
        }
        s_sort_by_name (cols);
        s_sort_by_name (cons);
        s_sort_by_name (idxs);
        s_sort_by_name (pols);
        json_object_set_new (pt, "columns", cols);
        json_object_set_new (pt, "constraints", cons);
        json_object_set_new (pt, "indexes", idxs);
        json_object_set_new (pt, "policies", pols);
        json_array_append_new (tables, pt);
    }
    json_t *enums = json_array ();
    json_array_foreach (json_object_get (schema, "enums"), ti, t)
    {
        json_t *pe = json_object ();
        json_object_set_new (pe, "name", s_copy_or_null (json_object_get (t, "name")));
        json_object_set_new (pe, "values", s_copy_or_null (json_object_get (t, "values")));
        json_array_append_new (enums, pe);
    }
    s_sort_by_name (tables);
    s_sort_by_name (enums);
    json_t *root = json_object ();
    json_object_set_new (root, "tables", tables);
    json_object_set_new (root, "enums", enums);
    json_object_set_new (root, "extra", json_array ());
    return root;
}

/*  ---- helpers ------------------------------------------------------------ */

static const char *
s_name_of (const json_t *j)
{
    const char *n = json_string_value (json_object_get (j, "name"));
    return n ? n : "";
}

static int
s_cmp_by_name (const void *a, const void *b)
{
    return strcmp (s_name_of (*(json_t *const *)a), s_name_of (*(json_t *const *)b));
}

/*  Sorts an array of objects by their "name" (byte order). */
static void
s_sort_by_name (json_t *array)
{
    size_t n = json_array_size (array);
    if (n < 2) {
        return;
    }
    json_t **items = calloc (n, sizeof *items);
    assert_non_null (items);
    for (size_t i = 0; i < n; i++) {
        items[i] = json_incref (json_array_get (array, i));
    }
    qsort (items, n, sizeof *items, s_cmp_by_name);
    json_array_clear (array);
    for (size_t i = 0; i < n; i++) {
        json_array_append_new (array, items[i]);
    }
    free (items);
}

static char *
s_dump (const json_t *j)
{
    char *s = json_dumps (j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    return s ? s : strdup ("?");
}

/*  Matches two arrays of named objects by name and prints every element
    missing on one side or different; recurses into tables. Returns the
    number of differences. */
static int
s_diff_named (const char *where, const json_t *model, const json_t *db)
{
    int diffs = 0;
    size_t i;
    const json_t *m;
    json_array_foreach (model, i, m)
    {
        const json_t *d = NULL;
        size_t k;
        const json_t *x;
        json_array_foreach (db, k, x)
        {
            if (strcmp (s_name_of (x), s_name_of (m)) == 0) {
                d = x;
                break;
            }
        }
        if (!d) {
            char *s = s_dump (m);
            print_error ("  %s %s: in the model, missing from the database: %s\n", where,
                         s_name_of (m), s);
            free (s);
            diffs++;
            continue;
        }
        if (json_equal (m, d)) {
            continue;
        }
        if (strcmp (where, "table") == 0) {
            char sub[256];
            static const char *lists[] = {"columns", "constraints", "indexes", "policies"};
            int before = diffs;
            for (size_t l = 0; l < 4; l++) {
                snprintf (sub, sizeof sub, "%s.%s", s_name_of (m), lists[l]);
                diffs += s_diff_named (sub, json_object_get (m, lists[l]),
                                       json_object_get (d, lists[l]));
            }
            if (!json_equal (json_object_get (m, "rls"), json_object_get (d, "rls"))) {
                print_error ("  table %s: row level security model %s, database %s\n",
                             s_name_of (m),
                             json_is_true (json_object_get (m, "rls")) ? "on" : "off",
                             json_is_true (json_object_get (d, "rls")) ? "on" : "off");
                diffs++;
            }
            if (diffs == before) {
                diffs++; /* different, but not in a way we list: say so */
                print_error ("  table %s differs\n", s_name_of (m));
            }
            continue;
        }
        char *sm = s_dump (m);
        char *sd = s_dump (d);
        print_error ("  %s %s differs:\n    model:    %s\n    database: %s\n", where, s_name_of (m),
                     sm, sd);
        free (sm);
        free (sd);
        diffs++;
    }
    json_array_foreach (db, i, m)
    {
        bool found = false;
        size_t k;
        const json_t *x;
        json_array_foreach (model, k, x)
        {
            if (strcmp (s_name_of (x), s_name_of (m)) == 0) {
                found = true;
                break;
            }
        }
        if (!found) {
            char *s = s_dump (m);
            print_error ("  %s %s: in the database, not in the model: %s\n", where, s_name_of (m),
                         s);
            free (s);
            diffs++;
        }
    }
    return diffs;
}

/*  ---- main ------------------------------------------------------------------ */

static int
s_cmp_str (const void *a, const void *b)
{
    return strcmp (*(char *const *)a, *(char *const *)b);
}

/*  Appends every .graphql file of dir to the list (sorted per folder). */
static void
s_collect (const char *dir, char ***paths, size_t *n)
{
    DIR *d = opendir (dir);
    if (!d) {
        return;
    }
    size_t first = *n;
    struct dirent *e;
    while ((e = readdir (d)) != NULL) {
        size_t len = strlen (e->d_name);
        if (len > 8 && strcmp (e->d_name + len - 8, ".graphql") == 0) {
            *paths = realloc (*paths, (*n + 1) * sizeof **paths);
            wes_buf_t *b = wes_buf_new ();
            wes_buf_printf (b, "%s/%s", dir, e->d_name);
            (*paths)[(*n)++] = wes_buf_steal (b);
            wes_buf_destroy (&b);
        }
    }
    closedir (d);
    qsort (*paths + first, *n - first, sizeof **paths, s_cmp_str);
}

int
main (void)
{
    char **paths = NULL;
    size_t n = 0;
    const char *conf = getenv ("WES_CONFORMANCE_DIR");
    wes_buf_t *b = wes_buf_new ();
    wes_buf_printf (b, "%s/wesley-examples", conf && *conf ? conf : WES_CONFORMANCE_DIR);
    s_collect (wes_buf_data (b), &paths, &n);
    size_t n_conformance = n;
    wes_buf_reset (b);
    wes_buf_printf (b, "%s/examples", WES_SOURCE_DIR);
    s_collect (wes_buf_data (b), &paths, &n);
    wes_buf_destroy (&b);
    if (n_conformance == 0) {
        fprintf (stderr, "test_apply_examples: no examples in %s/wesley-examples\n",
                 conf && *conf ? conf : WES_CONFORMANCE_DIR);
        return 1;
    }

    wes_pgfix_t *fix = wes_pgfix_start ();
    if (!fix) {
        return 1;
    }
    struct CMUnitTest *tests = calloc (n + 1, sizeof *tests);
    s_example_t *examples = calloc (n + 1, sizeof *examples);
    for (size_t i = 0; i < n; i++) {
        examples[i].fix = &fix;
        examples[i].path = paths[i];
        const char *base = strrchr (paths[i], '/');
        base = base ? base + 1 : paths[i];
        examples[i].name = strndup (base, strlen (base) - 8);
        tests[i].name = examples[i].name;
        tests[i].test_func = test_example_applies_and_reads_back;
        tests[i].initial_state = &examples[i];
    }
    examples[n].fix = &fix;
    examples[n].name = strdup ("comparison_detects_differences");
    tests[n].name = examples[n].name;
    tests[n].test_func = test_comparison_detects_differences;
    tests[n].initial_state = &examples[n];

    int rc = _cmocka_run_group_tests ("test_apply_examples", tests, n + 1, NULL, NULL);

    wes_pgfix_destroy (&fix);
    for (size_t i = 0; i <= n; i++) {
        free (examples[i].name);
    }
    for (size_t i = 0; i < n; i++) {
        free (paths[i]);
    }
    free (paths);
    free (examples);
    free (tests);
    return rc;
}
