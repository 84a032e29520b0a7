/*  test_jsonw.c — the streamed outputs are byte for byte what the jansson
    trees and the in-memory emitters give: schema.json and the canonical
    bytes against json_dumps of wes_model_to_document_json and
    wes_model_to_canonical_json, for every Wesley example and for awkward
    hand-built models (unsorted, invalid UTF-8, escapes, nested metadata,
    shared directive values); the streaming emitters against wes_emit_sql
    and wes_emit_ts at every chunking; write errors reported. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "schema/wes_compile.h"
#include "schema/wes_emit_sql.h"
#include "schema/wes_emit_ts.h"
#include "schema/wes_jsonw.h"
#include "schema/wes_model.h"
#include "util/wes_buf.h"

static int
s_to_buf (const char *data, size_t len, void *arg)
{
    wes_buf_append ((wes_buf_t *)arg, data, len);
    return 0;
}

/*  Fails after a number of calls. */
typedef struct {
    int calls_left;
} s_failing_t;

static int
s_failing (const char *data, size_t len, void *arg)
{
    (void)data;
    (void)len;
    s_failing_t *f = arg;
    return f->calls_left-- > 0 ? 0 : -1;
}

/*  Checks every streamed form of m against its reference. */
static void
s_check_model (const wes_model_t *m, const char *what)
{
    /*  Canonical bytes. */
    json_t *canon = wes_model_to_canonical_json (m);
    char *want = json_dumps (canon, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref (canon);
    size_t len = 0;
    char *got = wes_model_canonical_bytes (m, &len);
    if (strcmp (want, got) != 0 || len != strlen (want)) {
        fail_msg ("%s: canonical bytes differ\nwant %s\ngot  %s", what, want, got);
    }
    free (got);
    free (want);

    /*  schema.json. */
    json_t *doc = wes_model_to_document_json (m);
    want = json_dumps (doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref (doc);
    wes_buf_t *buf = wes_buf_new ();
    assert_int_equal (wes_model_write_document (m, NULL, s_to_buf, buf), 0);
    if (strcmp (want, wes_buf_data (buf)) != 0) {
        fail_msg ("%s: schema.json differs\nwant %s\ngot  %s", what, want, wes_buf_data (buf));
    }
    free (want);

    /*  The hash is the SHA-256 of the canonical bytes (as before). */
    char h1[65], h2[65];
    wes_model_hash (m, h1);
    wes_buf_reset (buf);
    assert_int_equal (wes_model_write_canonical (m, s_to_buf, buf), 0);
    json_t *j = json_loads (wes_buf_data (buf), 0, NULL);
    assert_non_null (j);
    json_decref (j);
    wes_model_hash (m, h2);
    assert_string_equal (h1, h2);

    /*  The emitters: streamed equals in memory. */
    char *sql = wes_emit_sql (m);
    wes_buf_reset (buf);
    assert_int_equal (wes_emit_sql_write (m, h1, s_to_buf, buf), 0);
    assert_string_equal (sql, wes_buf_data (buf));
    assert_non_null (strstr (sql, h1));
    free (sql);
    char *ts = wes_emit_ts (m);
    wes_buf_reset (buf);
    assert_int_equal (wes_emit_ts_write (m, NULL, s_to_buf, buf), 0);
    assert_string_equal (ts, wes_buf_data (buf));
    free (ts);
    wes_buf_destroy (&buf);

    /*  A failing receiver is reported. */
    s_failing_t f = {0};
    assert_int_equal (wes_model_write_document (m, h1, s_failing, &f), -1);
    f.calls_left = 0;
    assert_int_equal (wes_emit_sql_write (m, h1, s_failing, &f), -1);
    f.calls_left = 0;
    assert_int_equal (wes_emit_ts_write (m, h1, s_failing, &f), -1);
}

static void
test_examples_stream_like_jansson (void **state)
{
    (void)state;
    const char *examples[] = {"ecommerce",         "schema",    "rpc-example",
                              "freaky-rls-schema", "schema-v1", "schema-v2"};
    for (size_t e = 0; e < sizeof examples / sizeof examples[0]; e++) {
        char path[1024];
        snprintf (path, sizeof path, "%s/wesley-examples/%s.graphql", WES_CONFORMANCE_DIR,
                  examples[e]);
        wes_diag_t *diag = wes_diag_new (path);
        wes_model_t *m = wes_compile_file (path, diag);
        if (!m) {
            wes_diag_print (diag, stderr);
            fail_msg ("%s does not compile", examples[e]);
        }
        s_check_model (m, examples[e]);
        wes_model_destroy (&m);
        wes_diag_destroy (&diag);
    }
}

static void
test_awkward_model_streams_like_jansson (void **state)
{
    (void)state;
    wes_model_t *m = wes_model_new ();
    /*  Added out of order and never canonicalized: the arrays keep this
        order, the meta objects are sorted like jansson sorts keys. */
    const char *names[] = {
        "zeta", "Alpha", "m\"id", "b\\s", "tab\there", "bad\xff", "\xc3\xa9t\xc3\xa9"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        wes_table_t *t = wes_model_add_table (m, names[i]);
        assert_non_null (t);
        wes_model_put_str (m, &t->gql_name, i % 2 ? names[i] : NULL);
        const char *cols[] = {"z", "a", "bad\xfe", "new\nline", "a/b"};
        for (size_t j = 0; j < sizeof cols / sizeof cols[0]; j++) {
            wes_column_t *c = wes_table_add_column (t, cols[j], j % 2 ? "text" : "\"my type\"[]");
            assert_non_null (c);
            c->not_null = j % 2;
            c->ordinal = (int)(100 - j);
            wes_model_set_str (&c->default_expr, j == 1 ? "'x\\y'" : NULL);
            wes_model_put_str (m, &c->gql_name, cols[j]);
            if (j == 2) {
                json_t *d = json_pack ("{s:{s:i,s:[s,f,n,b]},s:{}}", "weight", "value", 9, "list",
                                       "q\"uote", 1.5, 1, "pii");
                wes_model_put_directives (m, &c->directives, d);
            }
            if (j == 3) {
                /*  The same value again: the model shares one copy. */
                json_t *d = json_pack ("{s:{},s:{s:[s,f,n,b],s:i}}", "pii", "weight", "list",
                                       "q\"uote", 1.5, 1, "value", 9);
                wes_model_put_directives (m, &c->directives, d);
                assert_ptr_equal (c->directives, t->columns[2]->directives);
                json_t *back = wes_model_directives_json (c->directives);
                assert_int_equal (json_integer_value (
                                      json_object_get (json_object_get (back, "weight"), "value")),
                                  9);
                json_decref (back);
            }
        }
        wes_constraint_t *k = wes_table_add_constraint (t, WES_CON_CHECK, "ck\x01");
        wes_model_set_str (&k->check_expr, "a > 0 -- \"c\"");
        wes_constraint_t *fk = wes_table_add_constraint (t, WES_CON_FOREIGN, "fk");
        wes_constraint_add_column (fk, "a");
        wes_model_set_str (&fk->ref_table, names[0]);
        wes_constraint_add_ref_column (fk, "z");
        fk->on_update = WES_FK_SET_NULL;
        wes_index_t *ix = wes_table_add_index (t, "ix");
        wes_index_add_column (ix, "a");
        wes_model_set_str (&ix->where, "a IS NOT NULL");
        wes_policy_t *p = wes_table_add_policy (t, "pol", WES_POLICY_UPDATE);
        wes_policy_add_role (p, "r2");
        wes_policy_add_role (p, "r1");
        wes_model_set_str (&p->check_expr, "true");
        t->rls_enabled = i % 3 == 0;
        t->relations = json_pack ("[{s:s,s:b}]", "field", names[i], "list", 1);
        if (i == 0) {
            wes_model_put_directives (m, &t->directives,
                                      json_pack ("{s:{s:s}}", "uid", "value", "tbl:1"));
            wes_model_put_directives (m, &t->columns[0]->directives, json_object ());
            assert_null (t->columns[0]->directives);
        }
    }
    wes_enum_t *e = wes_model_add_enum (m, "z_enum");
    wes_enum_add_value (e, "A");
    wes_enum_add_value (e, "b'c");
    e = wes_model_add_enum (m, "a_enum");
    wes_model_put_str (m, &e->gql_name, "AEnum");
    s_check_model (m, "awkward, unsorted");
    wes_model_canonicalize (m);
    s_check_model (m, "awkward, canonical");
    wes_model_destroy (&m);

    /*  The empty model. */
    m = wes_model_new ();
    s_check_model (m, "empty");
    wes_model_destroy (&m);
}

static void
test_writer_layout (void **state)
{
    (void)state;
    /*  Nesting, empty containers and top-level scalars, in both layouts. */
    json_t *tree = json_pack ("{s:[],s:{},s:[{s:[i,{}]},[]],s:s}", "a", "b", "c", "e", 7, "f", "x");
    assert_non_null (tree);
    for (size_t indent = 0; indent <= 4; indent += 2) {
        wes_buf_t *buf = wes_buf_new ();
        wes_jsonw_t *w = wes_jsonw_new (indent, s_to_buf, buf);
        wes_jsonw_object_begin (w);
        assert_true (wes_jsonw_key_stable (w, "a"));
        wes_jsonw_array_begin (w);
        wes_jsonw_array_end (w);
        assert_true (wes_jsonw_key (w, "b"));
        wes_jsonw_object_begin (w);
        wes_jsonw_object_end (w);
        assert_true (wes_jsonw_key (w, "c"));
        wes_jsonw_array_begin (w);
        json_t *inner = json_pack ("{s:[i,{}]}", "e", 7);
        wes_jsonw_value_stable (w, inner);
        wes_jsonw_array_begin (w);
        wes_jsonw_array_end (w);
        wes_jsonw_array_end (w);
        assert_false (wes_jsonw_key (w, "bad\xff"));
        assert_false (wes_jsonw_key_stable (w, "bad\xfe"));
        assert_true (wes_jsonw_key (w, "f"));
        wes_jsonw_string (w, "x");
        wes_jsonw_object_end (w);
        assert_int_equal (wes_jsonw_flush (w), 0);
        wes_jsonw_destroy (&w);
        char *want =
            json_dumps (tree, (indent ? JSON_INDENT (indent) : JSON_COMPACT) | JSON_SORT_KEYS);
        assert_string_equal (wes_buf_data (buf), want);
        free (want);
        json_decref (inner);
        wes_buf_destroy (&buf);
    }
    json_decref (tree);

    /*  Lossy strings: invalid UTF-8 becomes U+FFFD, never a dropped value. */
    json_t *s = wes_json_string_lossy ("a\xff"
                                       "b");
    assert_string_equal (json_string_value (s), "a\xef\xbf\xbd"
                                                "b");
    json_decref (s);
    /*  Big strings and many distinct ones go through the chunking. */
    wes_buf_t *buf = wes_buf_new ();
    wes_jsonw_t *w = wes_jsonw_new (2, s_to_buf, buf);
    json_t *arr = json_array ();
    char *big = malloc (200000);
    memset (big, 'q', 199999);
    big[199999] = '\0';
    wes_jsonw_array_begin (w);
    wes_jsonw_string (w, big);
    json_array_append_new (arr, json_string (big));
    char (*many)[16] = malloc (5000 * sizeof *many);
    for (int i = 0; i < 5000; i++) {
        snprintf (many[i], sizeof many[i], "s%d", i);
        wes_jsonw_string_stable (w, many[i]);
        wes_jsonw_int (w, i * 37 - 100);
        json_array_append_new (arr, json_string (many[i]));
        json_array_append_new (arr, json_integer (i * 37 - 100));
    }
    wes_jsonw_array_end (w);
    assert_int_equal (wes_jsonw_flush (w), 0);
    wes_jsonw_destroy (&w);
    char *want = json_dumps (arr, JSON_INDENT (2) | JSON_SORT_KEYS);
    assert_string_equal (wes_buf_data (buf), want);
    free (want);
    free (many);
    free (big);
    json_decref (arr);
    wes_buf_destroy (&buf);
}

/*  Every byte inside a string, as a value (each form) and as a key: the
    writer's bytes are jansson's (the plain fast path must not take a byte
    jansson escapes or refuses). */
static void
test_every_byte (void **state)
{
    (void)state;
    for (int b = 1; b < 256; b++) {
        char str[4] = {'a', (char)b, 'z', '\0'};
        for (size_t indent = 0; indent <= 2; indent += 2) {
            wes_buf_t *buf = wes_buf_new ();
            wes_jsonw_t *w = wes_jsonw_new (indent, s_to_buf, buf);
            json_t *tree = json_object ();
            json_t *arr = json_array ();
            wes_jsonw_object_begin (w);
            bool key_ok = wes_jsonw_key_stable (w, str);
            if (key_ok) {
                wes_jsonw_int (w, 1);
                assert_int_equal (json_object_set_new (tree, str, json_integer (1)), 0);
            }
            else {
                assert_int_not_equal (json_object_set_new (tree, str, json_integer (1)), 0);
            }
            assert_true (wes_jsonw_key_stable (w, "v"));
            wes_jsonw_array_begin (w);
            wes_jsonw_string (w, str);
            wes_jsonw_string_stable (w, str);
            json_array_append_new (arr, wes_json_string_lossy (str));
            json_array_append_new (arr, wes_json_string_lossy (str));
            wes_jsonw_array_end (w);
            json_object_set_new (tree, "v", arr);
            wes_jsonw_object_end (w);
            assert_int_equal (wes_jsonw_flush (w), 0);
            wes_jsonw_destroy (&w);
            char *want =
                json_dumps (tree, (indent ? JSON_INDENT (indent) : JSON_COMPACT) | JSON_SORT_KEYS);
            if (strcmp (wes_buf_data (buf), want) != 0) {
                fail_msg ("byte 0x%02X: want %s, got %s", (unsigned)b, want, wes_buf_data (buf));
            }
            free (want);
            json_decref (tree);
            wes_buf_destroy (&buf);
        }
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_examples_stream_like_jansson),
        cmocka_unit_test (test_awkward_model_streams_like_jansson),
        cmocka_unit_test (test_writer_layout),
        cmocka_unit_test (test_every_byte),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
