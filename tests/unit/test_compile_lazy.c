/*  test_compile_lazy.c — wes_compile_file reads a file twice and never
    holds its whole AST (the bodies of object, interface and input types
    are read again when their turn comes). Whatever the input, it must give
    exactly what parsing the whole document and wes_compile give: the same
    diagnostics in the same order, and the same model. Also the parser's
    one-definition-at-a-time interface and the AST copies it relies on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "schema/wes_compile.h"
#include "schema/wes_parser.h"
#include "wes_testutil.h"
#include "util/wes_arena.h"

/*  The diagnostics as one text, and the model's schema.json (or "-"). */
static char *
s_outcome (wes_model_t *m, wes_diag_t *diag)
{
    size_t size = 0;
    char *text = NULL;
    FILE *out = open_memstream (&text, &size);
    assert_non_null (out);
    for (size_t i = 0; i < wes_diag_count (diag); i++) {
        fprintf (out, "%d %u:%u %s\n", (int)wes_diag_level (diag, i), wes_diag_line (diag, i),
                 wes_diag_col (diag, i), wes_diag_message (diag, i));
    }
    fprintf (out, "errors %zu warnings %zu\n", wes_diag_errors (diag), wes_diag_warnings (diag));
    if (m) {
        json_t *doc = wes_model_to_document_json (m);
        char *js = json_dumps (doc, JSON_INDENT (1) | JSON_SORT_KEYS);
        fputs (js, out);
        free (js);
        json_decref (doc);
    }
    else {
        fputs ("-", out);
    }
    fclose (out);
    return text;
}

/*  Compiles path both ways and compares; returns whether it compiled. */
static bool
s_same_both_ways (const char *path)
{
    wes_diag_t *d1 = wes_diag_new (path);
    wes_ast_doc_t *doc = wes_parse_file (path, d1);
    wes_model_t *m1 = doc ? wes_compile (doc, d1) : NULL;
    wes_ast_doc_destroy (&doc);
    char *want = s_outcome (m1, d1);

    wes_diag_t *d2 = wes_diag_new (path);
    wes_model_t *m2 = wes_compile_file (path, d2);
    char *got = s_outcome (m2, d2);
    if (strcmp (want, got) != 0) {
        fail_msg ("%s: the file compile differs from the whole-AST compile\n--- whole\n%s\n--- "
                  "file\n%s",
                  path, want, got);
    }
    bool ok = m2 != NULL;
    free (want);
    free (got);
    wes_model_destroy (&m1);
    wes_model_destroy (&m2);
    wes_diag_destroy (&d1);
    wes_diag_destroy (&d2);
    return ok;
}

static bool
s_same_for_sdl (const char *sdl)
{
    char *dir = wes_test_tmpdir ("lazy");
    char path[4096];
    snprintf (path, sizeof path, "%s/t.graphql", dir);
    assert_int_equal (wes_test_write_file (path, sdl), 0);
    bool ok = s_same_both_ways (path);
    wes_test_rmtree (dir);
    free (dir);
    return ok;
}

static void
test_examples_same_both_ways (void **state)
{
    (void)state;
    const char *files[] = {
        "wesley-examples/ecommerce.graphql",
        "wesley-examples/schema.graphql",
        "wesley-examples/rpc-example.graphql",
        "wesley-examples/freaky-rls-schema.graphql",
        "wesley-examples/schema-v1.graphql",
        "wesley-examples/schema-v2.graphql",
        "graphql-spec/graphql-js/kitchenSinkSDL.graphql",
        "graphql-spec/graphql-js/schema-kitchen-sink.graphql",
        "graphql-spec/libgraphqlparser/schema-kitchen-sink.graphql",
    };
    int compiled = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[1024];
        snprintf (path, sizeof path, "%s/%s", WES_CONFORMANCE_DIR, files[i]);
        compiled += s_same_both_ways (path);
    }
    assert_true (compiled >= 6);
}

static void
test_errors_same_both_ways (void **state)
{
    (void)state;
    static const char *cases[] = {
        /*  Forward references: enum, table and FK target after their use. */
        "type Post @wes_table {\n"
        "  id: ID! @wes_pk\n"
        "  state: State! @wes_default(value: \"OPEN\")\n"
        "  author: ID! @wes_fk(ref: \"User.id\", onDelete: CASCADE) @wes_index\n"
        "  writer: User @wes_belongsTo(field: \"author\")\n"
        "}\n"
        "enum State { OPEN CLOSED }\n"
        "\"\"\"A user.\"\"\"\n"
        "type User @wes_table(name: \"users\") @audited(by: \"x\") {\n"
        "  id: ID! @wes_pk @uid(value: \"u\")\n"
        "  posts: [Post!]! @wes_hasMany\n"
        "  email: String! @wes_unique @pii\n"
        "}\n",
        /*  Foreign key errors, checked after every table. */
        "type A @wes_table {\n"
        "  id: ID! @wes_pk\n"
        "  b: ID! @wes_fk(ref: \"B.nope\", onDelete: SET_NULL)\n"
        "  c: ID @wes_fk(ref: \"Nope.id\")\n"
        "  d: Int @wes_fk(ref: \"B.id\", onUpdate: EXPLODE)\n"
        "  e: ID @wes_fk(ref: \"bad\")\n"
        "  f: ID @wes_fk(ref: \"Q.id\")\n"
        "}\n"
        "type B @wes_table { id: ID! @wes_pk name: String }\n"
        "type Q { id: ID }\n",
        /*  Duplicates, refused names, types that are not columns. */
        "type T @wes_table { id: ID! @wes_pk id: ID x: Mystery y: [[Int]] z: Q }\n"
        "type T @wes_table { id: ID! @wes_pk }\n"
        "type Q { a: Int @wes_pk }\n"
        "type L @wes_table(name: "
        "\"a_very_long_table_name_that_is_longer_than_sixty_three_bytes_in_total_xx\") {\n"
        "  id: ID! @wes_pk\n"
        "}\n"
        "type N @wes_table { name: String }\n"
        "interface I { a: Int @wes_index }\n"
        "input In { a: Int @wes_unique @mystery }\n"
        "union U = T | Q\n"
        "scalar S @wes_table\n"
        "enum E { A A B }\n",
        /*  Declarations, schema definition, misplaced and typo'd directives. */
        "directive @wes_pk(x: Int) repeatable on FIELD_DEFINITION | OBJECT\n"
        "directive @audit(level: Int @deprecated) on OBJECT\n"
        "schema @wes_index { query: Query }\n"
        "type Query { me: String @wes_uniq }\n"
        "type T @wes_table @primarykey @wes_rls(select: \"true\", roles: [\"a\"]) @audit {\n"
        "  id: ID! @wes_pk @wes_pk\n"
        "  v: Int @wes_check(expr: \"v > 0\") @wes_default(value: 3)\n"
        "  w: String @wes_column(name: \"ww\", type: \"varchar(10)\") @wes_renamedFrom(name: "
        "\"old\")\n"
        "}\n",
        /*  Constraint names settled across tables. */
        "type A @wes_table @wes_unique(fields: [\"x\", \"y\"], name: \"dup\") "
        "@wes_index(fields: [\"x\"]) @wes_check(expr: \"x <> y\") {\n"
        "  id: ID! @wes_pk\n  x: Int\n  y: Int @wes_index(name: \"dup\")\n"
        "}\n"
        "type B @wes_table @wes_tenant(by: \"org\") {\n"
        "  id: ID! @wes_pk\n  org: ID!\n  a: ID @wes_fk(ref: \"A.id\")\n"
        "}\n",
        /*  Extensions: compiled from the whole AST. */
        "type T @wes_table { id: ID! @wes_pk }\n"
        "extend type T @weight(value: 2) { x: Int }\n"
        "extend enum E { C }\n"
        "enum E { A }\n",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        (void)s_same_for_sdl (cases[i]);
    }
    /*  A syntax error anywhere fails the same way. */
    assert_false (s_same_for_sdl ("type T @wes_table { id: ID! @wes_pk }\ntype U { x: }\n"));
    assert_false (s_same_for_sdl (""));
    /*  A file that cannot be read. */
    wes_diag_t *diag = wes_diag_new ("nope");
    assert_null (wes_compile_file ("/nonexistent/dir/schema.graphql", diag));
    assert_true (wes_diag_errors (diag) > 0);
    wes_diag_destroy (&diag);
}

static void
test_parser_one_definition_at_a_time (void **state)
{
    (void)state;
    char *dir = wes_test_tmpdir ("lazy");
    char path[4096];
    snprintf (path, sizeof path, "%s/t.graphql", dir);
    assert_int_equal (wes_test_write_file (path, "\"d\" type A @x(a: [1, {b: \"c\"}]) { f(a: "
                                                 "Int = 2 @y): [A!]! @z }\n"
                                                 "enum E { X @q Y }\nschema { query: A }\n"
                                                 "directive @d(a: Int) repeatable on OBJECT\n"),
                      0);
    wes_diag_t *diag = wes_diag_new (path);
    wes_ast_doc_t *whole = wes_parse_file (path, diag);
    assert_non_null (whole);
    wes_parser_t *parser = wes_parser_new_file (path, diag);
    assert_non_null (parser);
    wes_arena_t *scratch = wes_arena_new (0);
    wes_ast_doc_t *copy = wes_ast_doc_new (path);
    const wes_ast_def_t *def;
    size_t n = 0;
    while ((def = wes_parser_next (parser, scratch)) != NULL) {
        wes_ast_doc_append (copy, wes_ast_def_copy (def, wes_ast_doc_arena (copy), true));
        wes_arena_reset (scratch);
        n++;
    }
    assert_false (wes_parser_failed (parser));
    assert_null (wes_parser_next (parser, scratch));
    assert_int_equal (n, wes_ast_doc_count (whole));
    /*  Copies of the definitions read one by one are the whole document. */
    wes_ast_doc_set_loc (copy, wes_ast_doc_loc (whole));
    json_t *a = wes_ast_to_json (whole);
    json_t *b = wes_ast_to_json (copy);
    assert_true (json_equal (a, b));
    json_decref (a);
    json_decref (b);
    /*  Without its body a definition keeps its head. */
    const wes_ast_def_t *first = wes_ast_doc_defs (whole);
    wes_ast_def_t *head = wes_ast_def_copy (first, scratch, false);
    assert_string_equal (head->name.value, "A");
    assert_non_null (head->directives);
    assert_null (head->fields);
    assert_true (head->has_body);
    wes_ast_directive_t *dcopy = wes_ast_directive_copy (first->directives, scratch);
    assert_string_equal (dcopy->args->value->items->next->fields->value->text, "c");
    wes_parser_destroy (&parser);
    wes_ast_doc_destroy (&copy);
    wes_ast_doc_destroy (&whole);

    /*  A syntax error stops the definitions and is reported once. */
    assert_int_equal (wes_test_write_file (path, "type A { a: Int }\ntype B { b: }\n"), 0);
    wes_diag_t *d2 = wes_diag_new (path);
    parser = wes_parser_new_file (path, d2);
    assert_non_null (wes_parser_next (parser, scratch));
    assert_null (wes_parser_next (parser, scratch));
    assert_true (wes_parser_failed (parser));
    assert_int_equal (wes_diag_errors (d2), 1);
    wes_parser_destroy (&parser);
    wes_diag_destroy (&d2);
    assert_null (wes_parser_new_file ("/nonexistent/x.graphql", diag));
    wes_arena_destroy (&scratch);
    wes_diag_destroy (&diag);
    wes_test_rmtree (dir);
    free (dir);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_examples_same_both_ways),
        cmocka_unit_test (test_errors_same_both_ways),
        cmocka_unit_test (test_parser_one_definition_at_a_time),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
