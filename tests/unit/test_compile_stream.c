/*  test_compile_stream.c — wes_compile_file_stream builds, checks, names
    and hands over one table at a time, and wes_outputs lays the three files
    out from the pieces. Whatever the input, either the stream declines (and
    leaves diag untouched) or its files, hash and warnings are byte for byte
    those of the whole-model compile and the whole-model writers
    (wes_emit_sql_write, wes_emit_ts_write, wes_model_write_document). It
    must stream the inputs it was made for: forward references, shuffled
    tables, renamed key columns; and decline on errors, extensions and names
    that only a settling over the whole model decides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "schema/wes_compile.h"
#include "schema/wes_emit_sql.h"
#include "schema/wes_emit_ts.h"
#include "schema/wes_outputs.h"
#include "util/wes_buf.h"
#include "wes_testutil.h"

/*  What one compile gave: its diagnostics as text, and (when it compiled)
    the three files and the hash. */
typedef struct {
    char *diags;
    char *files[3]; /* schema.sql, types.ts, schema.json */
    char hash[65];
    char error[512]; /* the outputs' error, when the stream failed */
} s_result_t;

static void
s_result_free (s_result_t *r)
{
    free (r->diags);
    for (int i = 0; i < 3; i++) {
        free (r->files[i]);
    }
}

static char *
s_diag_text (const wes_diag_t *diag)
{
    wes_buf_t *b = wes_buf_new ();
    for (size_t i = 0; i < wes_diag_count (diag); i++) {
        wes_buf_printf (b, "%d %u:%u %s\n", (int) wes_diag_level (diag, i), wes_diag_line (diag, i),
                        wes_diag_col (diag, i), wes_diag_message (diag, i));
    }
    char *text = wes_buf_steal (b);
    wes_buf_destroy (&b);
    return text;
}

static int
s_to_buf (const char *data, size_t len, void *arg)
{
    wes_buf_append ((wes_buf_t *) arg, data, len);
    return 0;
}

/*  The whole-model compile and writers. False when it did not compile. */
static bool
s_classic (const char *path, s_result_t *r)
{
    memset (r, 0, sizeof *r);
    wes_diag_t *diag = wes_diag_new (path);
    wes_model_t *m = wes_compile_file (path, diag);
    r->diags = s_diag_text (diag);
    wes_diag_destroy (&diag);
    if (!m) {
        return false;
    }
    wes_model_hash (m, r->hash);
    wes_buf_t *b[3] = {wes_buf_new (), wes_buf_new (), wes_buf_new ()};
    assert_int_equal (wes_emit_sql_write (m, r->hash, s_to_buf, b[0]), 0);
    assert_int_equal (wes_emit_ts_write (m, r->hash, s_to_buf, b[1]), 0);
    assert_int_equal (wes_model_write_document (m, r->hash, s_to_buf, b[2]), 0);
    wes_buf_puts (b[2], "\n");
    for (int i = 0; i < 3; i++) {
        r->files[i] = wes_buf_steal (b[i]);
        wes_buf_destroy (&b[i]);
    }
    wes_model_destroy (&m);
    return true;
}

/*  How each schema is streamed: on one lane; on two, each type a stretch
    of its own (the lanes take turns type by type, and foreign keys cross
    lanes all the time); on three, in stretches of a few types. */
typedef struct {
    size_t lanes;
    size_t stretch_bytes;
    bool hold_none; /* the outputs hold no piece for the hash: all from the spool */
} s_run_t;
static const s_run_t s_lane_runs[] = {{1, 0, false}, {2, 1, false}, {3, 700, true}};
#define S_LANE_RUNS (sizeof s_lane_runs / sizeof s_lane_runs[0])

/*  A sink over wes_outputs, failing at table fail_at (0: never); with
    S_BEGIN_SLOW, its begin takes a while, with S_BEGIN_FAILS it then
    fails (the other lanes build their first tables meanwhile). */
#define S_BEGIN_SLOW (SIZE_MAX - 1)
#define S_BEGIN_FAILS SIZE_MAX
typedef struct {
    wes_outputs_t *outputs;
    atomic_size_t tables; /* handed over, on every lane */
    size_t fail_at;
    char hash[65];
} s_sink_t;

static int
s_begin (void *arg, const wes_model_t *enums, size_t n, const char *const *sql,
         const char *const *gql)
{
    s_sink_t *s = arg;
    if (s->fail_at >= S_BEGIN_SLOW) {
        usleep (50 * 1000);
        if (s->fail_at == S_BEGIN_FAILS) {
            return -1;
        }
    }
    return wes_outputs_begin (s->outputs, enums, n, sql, gql);
}

static int
s_table (void *arg, size_t lane, const wes_model_t *enums, wes_model_t **table_model)
{
    (void) enums;
    s_sink_t *s = arg;
    if (atomic_fetch_add (&s->tables, 1) + 1 == s->fail_at) {
        return -1;
    }
    return wes_outputs_table (s->outputs, lane, wes_model_table (*table_model, 0));
}

static int
s_end (void *arg, const wes_model_t *enums, bool complete)
{
    (void) enums;
    s_sink_t *s = arg;
    if (!complete) {
        return 0;
    }
    return wes_outputs_finish (s->outputs, s->hash);
}

/*  The streaming compile into a temporary directory, as run says: its
    return code; on 0 the result. */
static int
s_stream (const char *path, s_result_t *r, size_t fail_at, s_run_t run)
{
    memset (r, 0, sizeof *r);
    char *dir = wes_test_tmpdir ("stream");
    s_sink_t sink = {wes_outputs_new (dir), 0, fail_at, ""};
    if (run.hold_none) {
        wes_outputs_hold (sink.outputs, 0);
    }
    wes_compile_sink_t cs = {s_begin, s_table, s_end, &sink, run.lanes, run.stretch_bytes};
    wes_diag_t *diag = wes_diag_new (path);
    int rc = wes_compile_file_stream (path, &cs, diag);
    r->diags = s_diag_text (diag);
    if (rc != 0) {
        //  Declined or failed: the report is the whole compile's to make
        assert_int_equal (wes_diag_count (diag), 0);
        snprintf (r->error, sizeof r->error, "%s", wes_outputs_error (sink.outputs));
    }
    else {
        assert_int_equal (wes_outputs_commit (sink.outputs), 0);
        memcpy (r->hash, sink.hash, sizeof r->hash);
        static const char *names[3] = {"schema.sql", "types.ts", "schema.json"};
        for (int i = 0; i < 3; i++) {
            char file[4200];
            snprintf (file, sizeof file, "%s/%s", dir, names[i]);
            r->files[i] = wes_test_read_file (file, NULL);
            assert_non_null (r->files[i]);
        }
    }
    wes_outputs_destroy (&sink.outputs);
    wes_diag_destroy (&diag);
    //  Nothing is left behind but the files (the spools are unlinked)
    char *out = NULL;
    char cmd[4200];
    snprintf (cmd, sizeof cmd, "ls -A '%s'", dir);
    assert_int_equal (wes_test_run (cmd, &out), 0);
    assert_string_equal (out, rc == 0 ? "schema.json\nschema.sql\ntypes.ts\n" : "");
    free (out);
    wes_test_rmtree (dir);
    free (dir);
    return rc;
}

/*  Streams path (or declines, when may_decline) and compares with the
    whole-model compile. Returns the stream's return code. */
static int
s_check (const char *path, bool may_decline)
{
    s_result_t want;
    bool compiled = s_classic (path, &want);
    //  On one lane, and on as many as the stream finds stretches for
    int rcs[S_LANE_RUNS];
    for (size_t run = 0; run < S_LANE_RUNS; run++) {
        s_result_t got;
        int rc = rcs[run] = s_stream (path, &got, 0, s_lane_runs[run]);
        if (rc == 1 && !may_decline) {
            fail_msg ("%s: the stream declined a schema it should stream\n%s", path, want.diags);
        }
        if (rc == 0) {
            if (!compiled) {
                fail_msg ("%s: the stream compiled what the whole compile refuses:\n%s", path,
                          want.diags);
            }
            assert_string_equal (got.hash, want.hash);
            assert_string_equal (got.diags, want.diags);
            static const char *names[3] = {"schema.sql", "types.ts", "schema.json"};
            for (int i = 0; i < 3; i++) {
                if (strcmp (got.files[i], want.files[i]) != 0) {
                    size_t k = 0;
                    while (got.files[i][k] && got.files[i][k] == want.files[i][k]) {
                        k++;
                    }
                    fail_msg ("%s: %s differs at byte %zu:\n--- whole\n%.300s\n--- stream\n%.300s",
                              path, names[i], k, want.files[i] + (k > 100 ? k - 100 : 0),
                              got.files[i] + (k > 100 ? k - 100 : 0));
                }
            }
        }
        assert_true (rc == 0 || rc == 1);
        s_result_free (&got);
    }
    //  On one lane or many, the stream decides alike
    for (size_t run = 1; run < S_LANE_RUNS; run++) {
        assert_int_equal (rcs[run], rcs[0]);
    }
    s_result_free (&want);
    int rc = rcs[0];
    return rc;
}

static int
s_check_sdl (const char *sdl, bool may_decline)
{
    char *dir = wes_test_tmpdir ("streamsdl");
    char path[4096];
    snprintf (path, sizeof path, "%s/t.graphql", dir);
    assert_int_equal (wes_test_write_file (path, sdl), 0);
    int rc = s_check (path, may_decline);
    wes_test_rmtree (dir);
    free (dir);
    return rc;
}

static void
test_examples_stream (void **state)
{
    (void) state;
    const char *files[] = {
        "wesley-examples/ecommerce.graphql",     "wesley-examples/schema.graphql",
        "wesley-examples/rpc-example.graphql",   "wesley-examples/freaky-rls-schema.graphql",
        "wesley-examples/schema-v1.graphql",     "wesley-examples/schema-v2.graphql",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[1024];
        snprintf (path, sizeof path, "%s/%s", WES_CONFORMANCE_DIR, files[i]);
        assert_int_equal (s_check (path, false), 0);
    }
    //  Documents that are not Wesley schemas: declined (errors), or the same
    const char *others[] = {
        "graphql-spec/graphql-js/kitchenSinkSDL.graphql",
        "graphql-spec/graphql-js/schema-kitchen-sink.graphql",
        "graphql-spec/libgraphqlparser/schema-kitchen-sink.graphql",
    };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        char path[1024];
        snprintf (path, sizeof path, "%s/%s", WES_CONFORMANCE_DIR, others[i]);
        s_check (path, true);
    }
}

static void
test_forward_references_stream (void **state)
{
    (void) state;
    //  A foreign key to a table defined later waits for it; an enum used
    //  before its definition; a relation; a self reference; a renamed key
    //  column referenced by its field name; warnings kept in order
    const char *sdl = "type Post @wes_table {\n"
                      "  id: ID! @wes_pk\n"
                      "  state: State! @wes_default(value: \"OPEN\")\n"
                      "  author: ID! @wes_fk(ref: \"User.key\", onDelete: CASCADE) @wes_index\n"
                      "  parent: ID @wes_fk(ref: \"Post.id\") @odd\n"
                      "  writer: User @wes_belongsTo(field: \"author\")\n"
                      "  made: String @wes_default(value: \"now()\")\n"
                      "}\n"
                      "enum State { OPEN CLOSED }\n"
                      "\"\"\"A user.\"\"\"\n"
                      "type User @wes_table(name: \"users\") @audited(by: \"x\") {\n"
                      "  key: ID! @wes_pk @wes_column(name: \"user_key\") @uid(value: \"u\")\n"
                      "  posts: [Post!]! @wes_hasMany\n"
                      "  email: String! @wes_unique(name: \"users_email_unique\") @pii\n"
                      "  age: Int @wes_check(expr: \"age > 0\") @wes_index(where: \"age > 17\")\n"
                      "}\n"
                      "type Query { me: User }\n";
    assert_int_equal (s_check_sdl (sdl, false), 0);
}

/*  A schema of n tables in a shuffled order, each with a foreign key to a
    random table (before or after it), unique and indexed columns, checks,
    defaults, enums and now and then row-level security. */
static char *
s_generated (unsigned n, unsigned seed)
{
    wes_buf_t *b = wes_buf_new ();
    unsigned *order = calloc (n, sizeof *order);
    for (unsigned i = 0; i < n; i++) {
        order[i] = i;
    }
    srand (seed);
    for (unsigned i = n - 1; i > 0; i--) {
        unsigned j = (unsigned) rand () % (i + 1);
        unsigned t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (unsigned k = 0; k < n; k++) {
        unsigned i = order[k];
        if (i % 7 == 0) {
            wes_buf_printf (b, "enum Kind%u { A%u B C }\n", i, i);
        }
        wes_buf_printf (b, "type Thing%u @wes_table @weight(value: %u)%s%s {\n", i, i % 5,
                        i % 4 == 0 ? " @wes_unique(fields: [\"code\", \"size\"])" : "",
                        i % 9 == 0 ? " @wes_rls(select: \"true\", roles: [\"app\"])" : "");
        wes_buf_printf (b, "  id: ID! @wes_pk%s\n",
                        i % 3 == 0 ? " @wes_column(name: \"thing_id\")" : "");
        wes_buf_printf (b, "  other: ID @wes_fk(ref: \"Thing%u.id\", onDelete: SET_NULL) @wes_index\n",
                        (unsigned) rand () % n);
        wes_buf_printf (b, "  code: String! @wes_unique @uid(value: \"c%u\")\n", i);
        wes_buf_printf (b, "  size: Int! @wes_default(value: %u) @wes_check(expr: \"size >= 0\")\n",
                        i);
        if (i % 7 == 0) {
            wes_buf_printf (b, "  kind: Kind%u! @wes_default(value: \"B\")\n", i);
        }
        wes_buf_printf (b, "  made: DateTime @wes_default(expr: \"now()\") @wes_index\n}\n");
    }
    wes_buf_puts (b, "scalar DateTime\n");
    free (order);
    char *sdl = wes_buf_steal (b);
    wes_buf_destroy (&b);
    return sdl;
}

/*  s_generated (n, seed) written to <a new temporary directory>/t.graphql
    (its path in path): returns the directory, for the caller to remove. */
static char *
s_generated_file (const char *tag, unsigned n, unsigned seed, char *path, size_t size)
{
    char *dir = wes_test_tmpdir (tag);
    assert_non_null (dir);
    snprintf (path, size, "%s/t.graphql", dir);
    char *sdl = s_generated (n, seed);
    assert_int_equal (wes_test_write_file (path, sdl), 0);
    free (sdl);
    return dir;
}

static void
test_shuffled_schemas_stream (void **state)
{
    (void) state;
    for (unsigned seed = 1; seed <= 4; seed++) {
        char *sdl = s_generated (40 + seed * 15, seed);
        assert_int_equal (s_check_sdl (sdl, false), 0);
        free (sdl);
    }
}

/*  Tables that wait for tables defined after them, far more than a lane
    keeps built (S_WAIT_KEPT): every other table references the last one
    (they all wait to the end, and are built again from the file), the
    others the next one; then random references. Each table has an
    unknown directive, so that a table built twice must not warn twice. */
static void
test_many_waiting_stream (void **state)
{
    (void) state;
    wes_buf_t *b = wes_buf_new ();
    for (unsigned i = 0; i < 400; i++) {
        wes_buf_printf (b,
                        "type T%u @wes_table @odd(n: %u) {\n  id: ID! @wes_pk\n"
                        "  next: ID @wes_fk(ref: \"T%u.id\") @wes_index\n"
                        "  name: String @wes_column(name: \"label_%u\") @wes_unique\n}\n",
                        i, i, i % 2 == 0 ? 399 : (i + 1) % 400, i);
    }
    assert_int_equal (s_check_sdl (wes_buf_data (b), false), 0);
    wes_buf_destroy (&b);
    char *sdl = s_generated (700, 21);
    assert_int_equal (s_check_sdl (sdl, false), 0);
    free (sdl);

    //  A wide table (more columns than the summary's stack room) whose
    //  unique columns other tables reference, before and after it
    b = wes_buf_new ();
    wes_buf_puts (b, "type Before @wes_table {\n  id: ID! @wes_pk\n"
                     "  w: String @wes_fk(ref: \"Wide.c77\")\n}\n"
                     "type Wide @wes_table {\n  id: ID! @wes_pk\n");
    for (unsigned i = 0; i < 80; i++) {
        wes_buf_printf (b, "  c%u: String%s\n", i, i % 11 == 0 ? " @wes_unique" : "");
    }
    wes_buf_puts (b, "}\ntype After @wes_table {\n  id: ID! @wes_pk\n"
                     "  w: String @wes_fk(ref: \"Wide.c0\")\n}\n");
    assert_int_equal (s_check_sdl (wes_buf_data (b), false), 0);
    wes_buf_destroy (&b);
}

/*  A big document's outline is read in two halves at once (from a line
    after a lone "}" near the middle). The stream still equals the whole
    compile, warnings' positions in the second half included; and when the
    guess falls inside a block string whose lines look like a body's end
    and a type's start, the first half reads on. */
static void
test_split_outline_stream (void **state)
{
    (void) state;
    char *sdl = s_generated (2400, 11); /* over 512 KB: split */
    assert_true (strlen (sdl) > 600u * 1024u);
    wes_buf_t *b = wes_buf_new ();
    wes_buf_puts (b, sdl);
    wes_buf_puts (b, "type Late @wes_table {\n  id: ID! @wes_pk\n  n: Int @mystery\n}\n");
    assert_int_equal (s_check_sdl (wes_buf_data (b), false), 0);

    //  A block string in the middle, full of what the guess looks for
    const char *mid = strstr (sdl + strlen (sdl) / 2 - 2000, "\n}\n");
    assert_non_null (mid);
    wes_buf_reset (b);
    wes_buf_append (b, sdl, (size_t) (mid + 3 - sdl));
    wes_buf_puts (b, "\"\"\"\n");
    for (int i = 0; i < 4000; i++) {
        wes_buf_printf (b, "}\n\ntype Fake%d @wes_table {\n  id: ID! @wes_pk\n", i);
    }
    wes_buf_puts (b, "\"\"\"\nscalar Junk @mystery\n");
    wes_buf_puts (b, mid + 3);
    assert_int_equal (s_check_sdl (wes_buf_data (b), false), 0);
    wes_buf_destroy (&b);
    free (sdl);
}

static void
test_cross_table_names_decline (void **state)
{
    (void) state;
    //  a_b.c and a.b_c both generate a_b_c_key: the whole model numbers the
    //  second by table name, whatever the document's order
    const char *clash[] = {
        "type AB @wes_table(name: \"a_b\") { id: ID! @wes_pk c: Int @wes_unique }\n"
        "type A @wes_table(name: \"a\") { id: ID! @wes_pk b_c: Int @wes_unique }\n",
        "type A @wes_table(name: \"a\") { id: ID! @wes_pk b_c: Int @wes_unique }\n"
        "type AB @wes_table(name: \"a_b\") { id: ID! @wes_pk c: Int @wes_unique }\n",
        //  A name given in a later table that an earlier one generated
        "type T @wes_table { id: ID! @wes_pk x: Int @wes_index }\n"
        "type U @wes_table { id: ID! @wes_pk y: Int @wes_index(name: \"t_x_idx\") }\n",
    };
    for (size_t i = 0; i < sizeof clash / sizeof clash[0]; i++) {
        assert_int_equal (s_check_sdl (clash[i], true), 1);
    }
}

static void
test_errors_and_extensions_decline (void **state)
{
    (void) state;
    const char *cases[] = {
        /*  an error in a table */
        "type A @wes_table { id: ID! @wes_pk n: Nope }\n",
        /*  a foreign key to a column that is not unique */
        "type A @wes_table { id: ID! @wes_pk b: ID @wes_fk(ref: \"B.x\") }\n"
        "type B @wes_table { id: ID! @wes_pk x: ID }\n",
        /*  a foreign key to what is not a table */
        "type A @wes_table { id: ID! @wes_pk b: ID @wes_fk(ref: \"Q.id\") }\n"
        "type Q { id: ID }\n",
        /*  an extension spreads a type over the document */
        "type A @wes_table { id: ID! @wes_pk }\nextend type A { n: Int }\n",
        /*  a syntax error */
        "type A @wes_table { id: ID! @wes_pk\n",
        /*  a table without a key, after a good one */
        "type A @wes_table { id: ID! @wes_pk }\ntype B @wes_table { n: Int }\n",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal (s_check_sdl (cases[i], true), 1);
    }
    /*  Directives on a table's head that the outline skips, with nested
        parentheses in strings, a comment and lists: streamed, the same */
    assert_int_equal (
        s_check_sdl ("type A @uid(value: \"a(b\" # ) not the end\n"
                     "  , w: [1, \")\"]) @wes_table(name: \"aa\") @weight(value: 3) {\n"
                     "  id: ID! @wes_pk\n}\n"
                     "type B @wes_index(fields: [\"n\"]) @wes_table { id: ID! @wes_pk n: Int }\n",
                     false),
        0);
    /*  A syntax error inside a body, which the stream's outline skips: the
        stream declines, and the whole compile reports that error alone
        (its outline parses the bodies, and stops there). */
    static const char *const bodies[] = {
        "type A @wes_table {\n  id: ID! @wes_pk\n  n: String @oops(\n}\n"
        "type B @wes_table { id: ID! @wes_pk }\n",
        "type A @wes_table { id: ID! @wes_pk }\n"
        "type B @wes_table { id: ID! @wes_pk s: String @d(v: \"a\\qb\") }\n",
        "type B @wes_table { id: ID! @wes_pk n: Int @d(v: 1.5.5) }\n",
        /*  ... and in the arguments of a head's directive, which the
            outline skips too (only @wes_table is kept) */
        "type A @wes_table { id: ID! @wes_pk }\n"
        "type B @uid(v: \"x\" w: ) @wes_table { id: ID! @wes_pk }\n",
        "type B @uid(v: \")\\q\") @wes_table { id: ID! @wes_pk }\n",
    };
    static const char *const want[] = {
        "4:1 expected an argument name after '@oops(', found '}'\n",
        "2:55 invalid escape sequence",
        "1:53 invalid number",
        "2:23 expected a value, found ')'",
        "1:18 invalid escape sequence",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        assert_int_equal (s_check_sdl (bodies[i], true), 1);
        char *dir = wes_test_tmpdir ("streambody");
        char path[4096];
        snprintf (path, sizeof path, "%s/t.graphql", dir);
        assert_int_equal (wes_test_write_file (path, bodies[i]), 0);
        s_result_t r;
        assert_false (s_classic (path, &r));
        const char *text = strchr (r.diags, ' '); /* after the level */
        if (!text || strncmp (text + 1, want[i], strlen (want[i])) != 0 || strchr (r.diags, '\n') == NULL
            || strchr (r.diags, '\n')[1] != '\0') {
            fail_msg ("case %zu: want one error starting \"%s\", got:\n%s", i, want[i], r.diags);
        }
        s_result_free (&r);
        wes_test_rmtree (dir);
        free (dir);
    }
}

static void
test_sink_failure_stops (void **state)
{
    (void) state;
    char path[4096];
    char *dir = s_generated_file ("streamfail", 30, 9, path, sizeof path);
    s_result_t r;
    for (size_t run = 0; run < S_LANE_RUNS; run++) {
        assert_int_equal (s_stream (path, &r, 3, s_lane_runs[run]), -1);
        s_result_free (&r);
        //  The begin fails while the other lanes wait to hand over
        assert_int_equal (s_stream (path, &r, S_BEGIN_FAILS, s_lane_runs[run]), -1);
        s_result_free (&r);
    }
    //  A slow begin: the other lanes build their first tables meanwhile,
    //  and the outputs are the same
    s_result_t first;
    assert_int_equal (s_stream (path, &first, 0, s_lane_runs[0]), 0);
    for (size_t run = 0; run < S_LANE_RUNS; run++) {
        assert_int_equal (s_stream (path, &r, S_BEGIN_SLOW, s_lane_runs[run]), 0);
        assert_string_equal (r.hash, first.hash);
        for (int i = 0; i < 3; i++) {
            assert_string_equal (r.files[i], first.files[i]);
        }
        s_result_free (&r);
    }
    s_result_free (&first);
    //  stdin cannot be read twice: declined
    wes_diag_t *diag = wes_diag_new ("<stdin>");
    s_sink_t sink = {wes_outputs_new (NULL), 0, 0, ""};
    wes_compile_sink_t cs = {s_begin, s_table, s_end, &sink, 0, 0};
    assert_int_equal (wes_compile_file_stream ("-", &cs, diag), 1);
    wes_outputs_destroy (&sink.outputs);
    wes_diag_destroy (&diag);
    wes_test_rmtree (dir);
    free (dir);
}

/*  A file that cannot be written (here: over RLIMIT_FSIZE, as on a full
    disk) fails the compile with the reason, wherever it happens (the
    heads, a lane's spool, the frontier's writes into the files), and
    leaves nothing behind. */
static void
test_write_failure (void **state)
{
    (void) state;
    char path[4096];
    char *dir = s_generated_file ("streamfull", 300, 4, path, sizeof path);
    void (*was) (int) = signal (SIGXFSZ, SIG_IGN); /* EFBIG instead of the signal */
    struct rlimit saved;
    assert_int_equal (getrlimit (RLIMIT_FSIZE, &saved), 0);
    static const rlim_t limits[] = {100, 20000, 200000};
    for (size_t k = 0; k < sizeof limits / sizeof limits[0]; k++) {
        for (size_t run = 0; run < S_LANE_RUNS; run++) {
            struct rlimit lim = {limits[k], saved.rlim_max};
            assert_int_equal (setrlimit (RLIMIT_FSIZE, &lim), 0);
            s_result_t r;
            int rc = s_stream (path, &r, 0, s_lane_runs[run]);
            assert_int_equal (setrlimit (RLIMIT_FSIZE, &saved), 0);
            if (rc != -1 || !strstr (r.error, "File too large")
                || !strstr (r.error, "cannot write")) {
                fail_msg ("limit %u, run %zu: rc %d, error \"%s\"", (unsigned) limits[k], run,
                          rc, r.error);
            }
            s_result_free (&r);
        }
    }
    signal (SIGXFSZ, was);
    wes_test_rmtree (dir);
    free (dir);
}

/*  The hash-only outputs give the same hash, whether they hold the pieces
    for the hash or spool them. */
static void
test_hash_only (void **state)
{
    (void) state;
    char path[4096];
    char *dir = s_generated_file ("streamhash", 50, 5, path, sizeof path);
    s_result_t want;
    assert_true (s_classic (path, &want));
    for (size_t hold = 0; hold < 3; hold++) {
        wes_diag_t *diag = wes_diag_new (path);
        s_sink_t sink = {wes_outputs_new (NULL), 0, 0, ""};
        if (hold < 2) {
            wes_outputs_hold (sink.outputs, hold ? 3000 : 0); /* none, a few, all */
        }
        wes_compile_sink_t cs = {s_begin, s_table, s_end, &sink, 2, 1, hold != 1};
        assert_int_equal (wes_compile_file_stream (path, &cs, diag), 0);
        assert_string_equal (sink.hash, want.hash);
        wes_outputs_destroy (&sink.outputs);
        wes_diag_destroy (&diag);
    }
    s_result_free (&want);
    wes_test_rmtree (dir);
    free (dir);
}

/*  A column's metadata directives are kept as the compact, key-sorted JSON
    jansson would write, whether the compiler writes it straight from the
    AST (plain values) or builds it with jansson (anything else). */
static void
test_metadata_text (void **state)
{
    (void) state;
    const char *sdl = "type T @wes_table {\n"
                      "  id: ID! @wes_pk\n"
                      "  a: Int @uid(value: \"x\") @weight(value: 7) @pii\n"
                      "  b: Int @weight(value: -0)\n"
                      "  c: Int @note(text: \"say \\\"hi\\\"\")\n"
                      "  d: Int @tag(v: \"\xc3\xa9t\xc3\xa9\")\n"
                      "  e: Int @tag(a: 1, b: true, c: null, d: ENUMV)\n"
                      "  f: Int @tag(x: 1) @tag(x: 2)\n"
                      "  g: Int @tag(x: 1.5)\n"
                      "  h: Int @tag(z: 1, a: 2)\n"
                      "  i: Int @zz @aa\n"
                      "  j: Int @tag(x: 99999999999999999999)\n"
                      "  k: Int @tag(l: [1, 2])\n"
                      "  m: Int @tag(s: \"a\\\\b\")\n"
                      "}\n";
    static const struct {
        const char *column;
        const char *json;
    } want[] = {
        {"a", "{\"pii\":{},\"uid\":{\"value\":\"x\"},\"weight\":{\"value\":7}}"},
        {"b", "{\"weight\":{\"value\":0}}"},
        {"c", "{\"note\":{\"text\":\"say \\\"hi\\\"\"}}"},
        {"d", "{\"tag\":{\"v\":\"\xc3\xa9t\xc3\xa9\"}}"},
        {"e", "{\"tag\":{\"a\":1,\"b\":true,\"c\":null,\"d\":\"ENUMV\"}}"},
        {"f", "{\"tag\":[{\"x\":1},{\"x\":2}]}"},
        {"g", "{\"tag\":{\"x\":1.5}}"},
        {"h", "{\"tag\":{\"a\":2,\"z\":1}}"},
        {"i", "{\"aa\":{},\"zz\":{}}"},
        {"j", "{\"tag\":{\"x\":9223372036854775807}}"},
        {"k", "{\"tag\":{\"l\":[1,2]}}"},
        {"m", "{\"tag\":{\"s\":\"a\\\\b\"}}"},
        {"id", NULL},
    };
    char *dir = wes_test_tmpdir ("meta");
    char path[4096];
    snprintf (path, sizeof path, "%s/t.graphql", dir);
    assert_int_equal (wes_test_write_file (path, sdl), 0);
    wes_diag_t *diag = wes_diag_new (path);
    wes_model_t *m = wes_compile_file (path, diag);
    assert_non_null (m);
    const wes_table_t *t = wes_model_find_table (m, "t");
    assert_non_null (t);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const wes_column_t *c = wes_table_find_column (t, want[i].column);
        assert_non_null (c);
        if (!want[i].json) {
            assert_null (c->directives);
            continue;
        }
        assert_non_null (c->directives);
        if (strcmp (c->directives, want[i].json) != 0) {
            fail_msg ("column %s: directives %s, want %s", want[i].column, c->directives,
                      want[i].json);
        }
    }
    wes_model_destroy (&m);
    wes_diag_destroy (&diag);
    //  And the stream agrees with the whole compile on it
    assert_int_equal (s_check (path, false), 0);
    wes_test_rmtree (dir);
    free (dir);
}

/*  Every input of the parser's fuzz corpus: the stream declines it or
    gives the whole compile's bytes. */
static void
test_fuzz_corpus_stream_or_decline (void **state)
{
    (void) state;
    char *out = NULL;
    char cmd[4096];
    snprintf (cmd, sizeof cmd, "ls '%s/tests/fuzz/corpus/parser'", WES_SOURCE_DIR);
    assert_int_equal (wes_test_run (cmd, &out), 0);
    size_t files = 0;
    for (char *name = strtok (out, "\n"); name; name = strtok (NULL, "\n")) {
        char path[4200];
        snprintf (path, sizeof path, "%s/tests/fuzz/corpus/parser/%s", WES_SOURCE_DIR, name);
        s_check (path, true);
        files++;
    }
    assert_true (files >= 30);
    free (out);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_examples_stream),
        cmocka_unit_test (test_forward_references_stream),
        cmocka_unit_test (test_shuffled_schemas_stream),
        cmocka_unit_test (test_many_waiting_stream),
        cmocka_unit_test (test_split_outline_stream),
        cmocka_unit_test (test_cross_table_names_decline),
        cmocka_unit_test (test_errors_and_extensions_decline),
        cmocka_unit_test (test_sink_failure_stops),
        cmocka_unit_test (test_write_failure),
        cmocka_unit_test (test_hash_only),
        cmocka_unit_test (test_metadata_text),
        cmocka_unit_test (test_fuzz_corpus_stream_or_decline),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
