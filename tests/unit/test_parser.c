/*  test_parser.c — the SDL parser and the AST JSON: every conformance file
    parses (from a file and from memory, to the same tree); the
    libgraphqlparser kitchen sink equals its oracle JSON as a whole tree;
    error messages and positions; block strings; the AST of constructs the
    oracle lacks; limits (nesting, token size, list size, truncation at
    every byte); and the speed of a 150,000-field schema. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "schema/wes_ast.h"
#include "schema/wes_parser.h"
#include "util/wes_buf.h"
#include "util/wes_diag.h"
#include "util/wes_limits.h"
#include "wes_testutil.h"

#define S_SPEC WES_CONFORMANCE_DIR "/graphql-spec"
#define S_EXAMPLES WES_CONFORMANCE_DIR "/wesley-examples"

static const char *const s_conformance_files[] = {
    S_SPEC "/graphql-js/kitchenSinkSDL.graphql",
    S_SPEC "/graphql-js/schema-kitchen-sink.graphql",
    S_SPEC "/libgraphqlparser/schema-kitchen-sink.graphql",
    S_EXAMPLES "/ecommerce.graphql",
    S_EXAMPLES "/freaky-rls-schema.graphql",
    S_EXAMPLES "/rpc-example.graphql",
    S_EXAMPLES "/schema-v1.graphql",
    S_EXAMPLES "/schema-v2.graphql",
    S_EXAMPLES "/schema.graphql",
};
#define S_CONFORMANCE_COUNT (sizeof s_conformance_files / sizeof s_conformance_files[0])

/*  Parses src from memory; fails the test on a syntax error. */
static wes_ast_doc_t *
s_parse_ok (const char *src)
{
    wes_diag_t *diag = wes_diag_new ("test.graphql");
    wes_ast_doc_t *doc = wes_parse_buffer ("test.graphql", src, strlen (src), diag);
    if (!doc) {
        fail_msg ("<%s> did not parse: %u:%u %s", src, wes_diag_line (diag, 0),
                  wes_diag_col (diag, 0), wes_diag_message (diag, 0));
    }
    assert_int_equal (wes_diag_errors (diag), 0);
    wes_diag_destroy (&diag);
    return doc;
}

/*  Parses src, which must fail with exactly one error: message at line:col.
    Prints a mismatch and returns false, so that one run shows them all. */
static bool
s_error_is (const char *src, uint32_t line, uint32_t col, const char *message)
{
    wes_diag_t *diag = wes_diag_new ("test.graphql");
    wes_ast_doc_t *doc = wes_parse_buffer ("test.graphql", src, strlen (src), diag);
    bool ok = true;
    if (doc) {
        print_message ("expected error '%s' for <%s>, but it parsed\n", message, src);
        wes_ast_doc_destroy (&doc);
        ok = false;
    }
    else if (wes_diag_errors (diag) != 1 || wes_diag_count (diag) != 1
             || strcmp (wes_diag_message (diag, 0), message) != 0 || wes_diag_line (diag, 0) != line
             || wes_diag_col (diag, 0) != col) {
        print_message ("for <%s>:\n  got      %u:%u %s (%zu errors)\n  expected %u:%u %s\n", src,
                       wes_diag_line (diag, 0), wes_diag_col (diag, 0), wes_diag_message (diag, 0),
                       wes_diag_errors (diag), line, col, message);
        ok = false;
    }
    wes_diag_destroy (&diag);
    return ok;
}

static void
s_check_error (const char *src, uint32_t line, uint32_t col, const char *message)
{
    if (!s_error_is (src, line, col, message)) {
        fail_msg ("wrong or no error");
    }
}

/*  Prints the first difference between two JSON trees (for a readable
    failure), and returns whether they are equal. */
static bool
s_json_diff (const json_t *a, const json_t *b, const char *path)
{
    if (json_equal ((json_t *)a, (json_t *)b)) {
        return true;
    }
    char sub[512];
    if (json_is_object (a) && json_is_object (b)) {
        const char *key;
        json_t *va;
        json_object_foreach ((json_t *)a, key, va)
        {
            json_t *vb = json_object_get (b, key);
            snprintf (sub, sizeof sub, "%s.%s", path, key);
            if (!vb) {
                print_message ("only in ours: %s\n", sub);
                return false;
            }
            if (!s_json_diff (va, vb, sub)) {
                return false;
            }
        }
        json_object_foreach ((json_t *)b, key, va)
        {
            if (!json_object_get (a, key)) {
                print_message ("only in oracle: %s.%s\n", path, key);
                return false;
            }
        }
    }
    else if (json_is_array (a) && json_is_array (b)) {
        if (json_array_size (a) != json_array_size (b)) {
            print_message ("%s: %zu items, oracle has %zu\n", path, json_array_size (a),
                           json_array_size (b));
            return false;
        }
        for (size_t i = 0; i < json_array_size (a); i++) {
            snprintf (sub, sizeof sub, "%s[%zu]", path, i);
            if (!s_json_diff (json_array_get (a, i), json_array_get (b, i), sub)) {
                return false;
            }
        }
    }
    char *ja = json_dumps (a, JSON_COMPACT | JSON_ENCODE_ANY);
    char *jb = json_dumps (b, JSON_COMPACT | JSON_ENCODE_ANY);
    print_message ("%s: ours %.300s\n   oracle %.300s\n", path, ja, jb);
    free (ja);
    free (jb);
    return false;
}

/*  (a) Every conformance file parses, from a file and from memory, into
    the same tree. */
static void
test_conformance_files_parse (void **state)
{
    (void)state;
    /*  Definitions per file: lines of the sources that start a definition
        (grep), and for libgraphqlparser's the oracle's count. */
    static const size_t expected_defs[] = {38, 37, 16, 12, 10, 4, 1, 1, 8};
    for (size_t i = 0; i < S_CONFORMANCE_COUNT; i++) {
        const char *path = s_conformance_files[i];
        wes_diag_t *diag = wes_diag_new (path);
        wes_ast_doc_t *from_file = wes_parse_file (path, diag);
        if (!from_file) {
            fail_msg ("%s: %u:%u %s", path, wes_diag_line (diag, 0), wes_diag_col (diag, 0),
                      wes_diag_message (diag, 0));
        }
        assert_int_equal (wes_diag_count (diag), 0);
        assert_string_equal (wes_ast_doc_file (from_file), path);
        size_t len;
        char *data = wes_test_read_file (path, &len);
        assert_non_null (data);
        wes_ast_doc_t *from_memory = wes_parse_buffer (path, data, len, diag);
        assert_non_null (from_memory);
        assert_true (wes_ast_doc_count (from_file) > 0);
        assert_int_equal (wes_ast_doc_count (from_file), expected_defs[i]);
        size_t n = 0;
        for (const wes_ast_def_t *d = wes_ast_doc_defs (from_file); d; d = d->next) {
            n++;
        }
        assert_int_equal (n, wes_ast_doc_count (from_file));
        json_t *a = wes_ast_to_json (from_file);
        json_t *b = wes_ast_to_json (from_memory);
        assert_true (json_equal (a, b));
        json_decref (a);
        json_decref (b);
        free (data);
        wes_ast_doc_destroy (&from_file);
        wes_ast_doc_destroy (&from_memory);
        assert_null (from_file);
        wes_diag_destroy (&diag);
    }
}

/*  (b) The libgraphqlparser kitchen sink equals libgraphqlparser's own JSON
    AST: kinds, names, values, every loc, nulls — the whole tree. */
static void
test_oracle_json (void **state)
{
    (void)state;
    wes_diag_t *diag = wes_diag_new ("sink");
    wes_ast_doc_t *doc =
        wes_parse_file (S_SPEC "/libgraphqlparser/schema-kitchen-sink.graphql", diag);
    assert_non_null (doc);
    json_t *ours = wes_ast_to_json (doc);
    json_error_t error;
    json_t *oracle =
        json_load_file (S_SPEC "/libgraphqlparser/schema-kitchen-sink.json", 0, &error);
    if (!oracle) {
        fail_msg ("oracle: %s", error.text);
    }
    if (!s_json_diff (ours, oracle, "$")) {
        fail_msg ("AST JSON differs from libgraphqlparser's oracle");
    }
    assert_true (json_equal (ours, oracle));
    /*  Key order follows libgraphqlparser's too. */
    json_t *first_field = json_array_get (
        json_object_get (json_array_get (json_object_get (ours, "definitions"), 1), "fields"), 0);
    const char *expected_keys[] = {"kind", "loc", "name", "arguments", "type", "directives"};
    size_t k = 0;
    const char *key;
    json_t *value;
    json_object_foreach (first_field, key, value)
    {
        assert_true (k < 6);
        assert_string_equal (key, expected_keys[k]);
        k++;
    }
    assert_int_equal (k, 6);
    /*  A mutated tree must not compare equal: the comparison has teeth. */
    json_t *def0 = json_array_get (json_object_get (ours, "definitions"), 0);
    json_object_set_new (json_object_get (json_object_get (def0, "loc"), "end"), "column",
                         json_integer (3));
    assert_false (json_equal (ours, oracle));
    json_decref (ours);
    json_decref (oracle);
    wes_ast_doc_destroy (&doc);
    wes_diag_destroy (&diag);
}

/*  (c) Error messages: what was expected, what was found, line:col. */
static void
test_errors (void **state)
{
    (void)state;
    bool ok = true;
    ok &= s_error_is ("type User {\n  id!: ID\n}", 2, 5,
                      "expected ':' after field name 'id', found '!'");
    ok &= s_error_is ("# users\n\ntype User {\n  id: ID\n", 5, 1,
                      "unexpected end of file, expected '}' to close type 'User' opened at 3:1");
    ok &= s_error_is ("\"\"\"doc\"\"\"\ninput In {\n  a: Int", 3, 9,
                      "unexpected end of file, expected '}' to close input 'In' opened at 2:1");
    ok &= s_error_is ("enum E {\n  A", 2, 4,
                      "unexpected end of file, expected '}' to close enum 'E' opened at 1:1");
    ok &= s_error_is ("schema {\n  query: Q", 2, 11,
                      "unexpected end of file, expected '}' to close schema opened at 1:1");
    ok &= s_error_is ("query { a }", 1, 1,
                      "schema files may contain only type system definitions, found 'query' (an "
                      "executable definition)");
    ok &= s_error_is ("type A { a: Int }\n{ a }", 2, 1,
                      "schema files may contain only type system definitions, found '{' (an "
                      "executable definition)");
    ok &= s_error_is ("fragment F on T { a }", 1, 1,
                      "schema files may contain only type system definitions, found 'fragment' (an "
                      "executable definition)");
    ok &= s_error_is ("mutation M { a }", 1, 1,
                      "schema files may contain only type system definitions, found 'mutation' (an "
                      "executable definition)");
    ok &= s_error_is ("type T { a: [String }", 1, 21,
                      "expected ']' to close the list type opened at 1:13, found '}'");
    ok &= s_error_is ("type T { a(x: Int = $v): Int }", 1, 21,
                      "variable '$v' not allowed: schema files take constant values only");
    ok &= s_error_is ("scalar S @d(x: [1, $v])", 1, 20,
                      "variable '$v' not allowed: schema files take constant values only");
    ok &= s_error_is ("enum E { A true }", 1, 12, "'true' cannot be an enum value (in enum 'E')");
    ok &= s_error_is ("enum E { null }", 1, 10, "'null' cannot be an enum value (in enum 'E')");
    ok &= s_error_is ("directive @d on FIELD | FOO", 1, 25,
                      "unknown directive location 'FOO' for directive '@d' (expected one of QUERY, "
                      "MUTATION, SUBSCRIPTION, FIELD, FRAGMENT_DEFINITION, FRAGMENT_SPREAD, "
                      "INLINE_FRAGMENT, VARIABLE_DEFINITION, SCHEMA, SCALAR, OBJECT, "
                      "FIELD_DEFINITION, ARGUMENT_DEFINITION, INTERFACE, UNION, ENUM, ENUM_VALUE, "
                      "INPUT_OBJECT, INPUT_FIELD_DEFINITION)");
    ok &= s_error_is ("directive @d(x: Int)", 1, 21,
                      "unexpected end of file, expected 'on' and the locations of directive '@d'");
    ok &= s_error_is ("directive d on FIELD", 1, 11,
                      "expected '@' and a name after 'directive', found 'd'");
    ok &= s_error_is ("directive @d on", 1, 16,
                      "unexpected end of file, expected a directive location for directive '@d'");
    ok &= s_error_is ("extend type T", 1, 14,
                      "unexpected end of file, expected 'implements', a directive or '{' after "
                      "'extend type T'");
    ok &= s_error_is ("extend scalar S\ntype T", 2, 1,
                      "expected a directive after 'extend scalar S', found 'type'");
    ok &= s_error_is ("extend schema", 1, 14,
                      "unexpected end of file, expected a directive or '{' after 'extend schema'");
    ok &= s_error_is ("extend union U", 1, 15,
                      "unexpected end of file, expected a directive or '=' after 'extend union U'");
    ok &= s_error_is ("extend foo", 1, 8,
                      "expected schema, scalar, type, interface, union, enum or input after "
                      "'extend', found 'foo'");
    ok &= s_error_is ("extend directive @d on FIELD", 1, 8,
                      "expected schema, scalar, type, interface, union, enum or input after "
                      "'extend', found 'directive'");
    ok &= s_error_is ("type T { a: Int = 1 }", 1, 17,
                      "expected a field name or '}' to close type 'T' opened at 1:1, found '='");
    ok &= s_error_is ("type T @d( ) { a: Int }", 1, 12,
                      "expected an argument name after '@d(', found ')'");
    ok &= s_error_is ("type T @d(a: 1 2) { a: Int }", 1, 16,
                      "expected an argument name or ')' to close the arguments of directive '@d', "
                      "found '2'");
    ok &= s_error_is ("union U = A | ", 1, 15,
                      "unexpected end of file, expected a member type name for union 'U'");
    ok &= s_error_is ("union U = | | A", 1, 13,
                      "expected a member type name for union 'U', found '|'");
    ok &=
        s_error_is ("schema { foo: Q }", 1, 10,
                    "expected 'query', 'mutation' or 'subscription' in schema opened at 1:1, found "
                    "'foo'");
    ok &=
        s_error_is ("schema { }", 1, 10,
                    "expected 'query', 'mutation' or 'subscription' in schema opened at 1:1, found "
                    "'}'");
    ok &= s_error_is ("schema { query Q }", 1, 16,
                      "expected ':' after operation type 'query', found 'Q'");
    ok &= s_error_is ("schema @d", 1, 10,
                      "unexpected end of file, expected '{' and the operation types of the schema");
    ok &= s_error_is ("scalar", 1, 7, "unexpected end of file, expected a name after 'scalar'");
    ok &= s_error_is ("type 123", 1, 6, "expected a name after 'type', found '123'");
    ok &= s_error_is ("", 1, 1,
                      "unexpected end of file, expected a type system definition (the document is "
                      "empty)");
    ok &= s_error_is ("# only a comment\n,,,\n", 3, 1,
                      "unexpected end of file, expected a type system definition (the document is "
                      "empty)");
    ok &= s_error_is ("foo", 1, 1,
                      "expected a type system definition (schema, scalar, type, interface, union, "
                      "enum, input, directive or extend), found 'foo'");
    ok &= s_error_is ("type T { a: Int }}", 1, 18,
                      "expected a type system definition (schema, scalar, type, interface, union, "
                      "enum, input, directive or extend), found '}'");
    ok &= s_error_is ("\"desc\"", 1, 7,
                      "unexpected end of file, expected a definition after the description");
    ok &=
        s_error_is ("\"desc\" 42", 1, 8, "expected a definition after the description, found '42'");
    ok &=
        s_error_is ("\"desc\" extend type T @d", 1, 8,
                    "a description is not allowed on an extension ('extend' after the description "
                    "at 1:1)");
    ok &= s_error_is ("type T { f(): Int }", 1, 12,
                      "expected an argument definition for field 'f', found ')'");
    ok &= s_error_is ("type T { f(a: Int b): Int }", 1, 20,
                      "expected ':' after argument name 'b', found ')'");
    ok &= s_error_is ("type T { f(a: Int, 1): Int }", 1, 20,
                      "expected an argument name or ')' to close the arguments of field 'f' opened "
                      "at 1:11, found '1'");
    ok &= s_error_is ("input I { a: Int = }", 1, 20, "expected a value, found '}'");
    ok &= s_error_is ("input I { a Int }", 1, 13,
                      "expected ':' after input field name 'a', found 'Int'");
    ok &=
        s_error_is ("type T { a: Int @ }", 1, 19, "expected a directive name after '@', found '}'");
    ok &= s_error_is ("type T {\n  a: \"x\"\n}", 2, 6,
                      "expected a type for field 'a', found string \"x\"");
    ok &= s_error_is ("type T { a: [] }", 1, 14, "expected a type inside '[' ']', found ']'");
    ok &= s_error_is ("type T implements { a: Int }", 1, 19,
                      "expected an interface name after 'implements', found '{'");
    ok &= s_error_is ("type T implements A & { a: Int }", 1, 23,
                      "expected an interface name after 'implements', found '{'");
    ok &= s_error_is ("type T { \"doc\" }", 1, 16,
                      "expected a field name after the description, found '}'");
    ok &= s_error_is ("input I { a: Int = [1, 2 }", 1, 26, "expected a value, found '}'");
    ok &= s_error_is ("input I { a: Int = [1, 2", 1, 25,
                      "unexpected end of file, expected ']' to close the list opened at 1:20");
    ok &= s_error_is ("input I { a: In = {x: 1", 1, 24,
                      "unexpected end of file, expected '}' to close the object value opened at "
                      "1:19");
    ok &= s_error_is ("input I { a: In = {x 1} }", 1, 22,
                      "expected ':' after object field name 'x', found '1'");
    ok &= s_error_is ("input I { a: In = {1: 1} }", 1, 20,
                      "expected an object field name or '}' to close the object value, found '1'");
    ok &= s_error_is ("type T { a: Int! ! }", 1, 18,
                      "expected a field name or '}' to close type 'T' opened at 1:1, found '!'");
    ok &= s_error_is ("type T { a: String @d(x: \"abc) }", 1, 26,
                      "unterminated string, found end of file");
    /*  Lexical errors come through with their own position. */
    ok &= s_error_is ("type T { a: Int @d(x: 01) }", 1, 24,
                      "invalid number: unexpected digit '1' after a leading '0'");
    ok &= s_error_is ("type T {\n\ta: Int %\n}", 2, 9, "unexpected character '%'");
    /*  \r\n, \r and \n all end a line. */
    ok &= s_error_is ("type T {\r\n  a: Int\r  b: Int\n  c!\r\n}", 4, 4,
                      "expected ':' after field name 'c', found '!'");
    /*  Long names are clipped in messages (at 60 bytes, with "..."). */
    char src[300];
    char expected[300];
    memcpy (src, "type ", 5);
    memset (src + 5, 'N', 100);
    memcpy (src + 105, " {", 3);
    snprintf (expected, sizeof expected,
              "unexpected end of file, expected '}' to close type '%.60s...' opened at 1:1",
              src + 5);
    ok &= s_error_is (src, 1, 108, expected);
    assert_true (ok);
}

/*  The description of the first definition of src. */
static void
s_check_description (const char *src, const char *expected, bool block)
{
    wes_ast_doc_t *doc = s_parse_ok (src);
    const wes_ast_def_t *def = wes_ast_doc_defs (doc);
    assert_non_null (def->description);
    assert_int_equal (def->description->kind, WES_VALUE_STRING);
    assert_int_equal (def->description->block, block);
    if (strcmp (def->description->text, expected) != 0) {
        fail_msg ("description of <%s>:\n  got      <%s>\n  expected <%s>", src,
                  def->description->text, expected);
    }
    wes_ast_doc_destroy (&doc);
}

/*  (d) Block strings are dedented as the spec says; escapes are decoded. */
static void
test_strings (void **state)
{
    (void)state;
    s_check_description (
        "\"\"\"\n    Hello,\n      World!\n\n    Yours,\n      GraphQL.\n  \"\"\"\n"
        "scalar S",
        "Hello,\n  World!\n\nYours,\n  GraphQL.", true);
    s_check_description ("\"\"\"  first\n    second\n  \"\"\" type T", "  first\nsecond", true);
    s_check_description ("\"\"\"\r\n\tTabbed\r\n\t  more\r\n\"\"\" enum E", "Tabbed\n  more", true);
    s_check_description ("\"\"\"a \\\"\"\" b \\n\"\"\" union U", "a \"\"\" b \\n", true);
    s_check_description ("\"\"\"   \n\n   \"\"\" input I", "", true);
    s_check_description ("\"caf\\u00e9 \\\"q\\\" \\\\ \\/ \\t\\uD83D\\uDE00\\u{1F680}\" scalar S",
                         "caf\xC3\xA9 \"q\" \\ / \t\xF0\x9F\x98\x80\xF0\x9F\x9A\x80", false);

    /*  Descriptions on fields, arguments, enum values and input fields, and
        string values in arguments and defaults. */
    wes_ast_doc_t *doc = s_parse_ok ("type T {\n"
                                     "  \"\"\"\n    field doc\n  \"\"\"\n"
                                     "  f(\"arg doc\" a: String = \"\"\"  x\n  y\"\"\"): Int\n"
                                     "}\n"
                                     "enum E { \"v doc\" V }\n"
                                     "input I { \"\"\"i doc\"\"\" i: Int @d(s: \"\\u0041\") }");
    const wes_ast_def_t *t = wes_ast_doc_defs (doc);
    assert_string_equal (t->fields->description->text, "field doc");
    assert_string_equal (t->fields->args->description->text, "arg doc");
    assert_false (t->fields->args->description->block);
    assert_string_equal (t->fields->args->default_value->text, "  x\ny");
    assert_true (t->fields->args->default_value->block);
    const wes_ast_def_t *e = t->next;
    assert_string_equal (e->values->description->text, "v doc");
    const wes_ast_def_t *in = e->next;
    assert_string_equal (in->input_fields->description->text, "i doc");
    assert_string_equal (in->input_fields->directives->args->value->text, "A");
    /*  A field's loc starts at its description (graphql-js). */
    assert_int_equal (t->fields->loc.start.line, 2);
    assert_int_equal (t->fields->loc.start.col, 3);
    assert_int_equal (t->fields->loc.end.line, 6);
    wes_ast_doc_destroy (&doc);
}

/*  The AST of the type-system grammar, including what the oracle lacks. */
static void
test_ast (void **state)
{
    (void)state;
    wes_ast_doc_t *doc = s_parse_ok (
        "\"\"\"The schema\"\"\" schema @s { query: Q mutation: M subscription: S }\n"
        "type Q implements & A & B @wes_table(name: \"q\") @x { id: ID! @wes_pk, tags: "
        "[[String!]]! }\n"
        "interface A implements B { id: ID! }\n"
        "type Empty {}\n"
        "type NoBody\n"
        "union U = | A | B\n"
        "union V\n"
        "enum E { X @deprecated(reason: \"no\") Y }\n"
        "input In { a: Int = -42, b: [Float] = [1.5, 2e3], c: In2 = {x: ENUM_V, y: null, z: "
        "true, w: false} }\n"
        "directive @d(a: Int = 1) repeatable on | OBJECT | FIELD_DEFINITION\n"
        "extend schema @s2\n"
        "extend type Q implements C @y\n"
        "extend interface A { more: Int }\n"
        "extend union U = C\n"
        "extend enum E { Z }\n"
        "extend input In @z\n"
        "extend scalar Date @w\n");
    assert_int_equal (wes_ast_doc_count (doc), 17);
    const wes_ast_def_t *d = wes_ast_doc_defs (doc);

    /*  schema */
    assert_int_equal (d->kind, WES_DEF_SCHEMA);
    assert_false (d->extend);
    assert_null (d->name.value);
    assert_string_equal (d->description->text, "The schema");
    assert_string_equal (d->directives->name.value, "s");
    const wes_ast_operation_type_t *op = d->operations;
    assert_string_equal (op->operation, "query");
    assert_string_equal (op->type.value, "Q");
    assert_string_equal (op->next->operation, "mutation");
    assert_string_equal (op->next->next->operation, "subscription");
    assert_null (op->next->next->next);
    assert_int_equal (d->loc.start.col, 1);
    assert_int_equal (d->keyword.col, 18);

    /*  type with legacy leading '&', directives with arguments, wrappers */
    d = d->next;
    assert_int_equal (d->kind, WES_DEF_OBJECT);
    assert_string_equal (d->name.value, "Q");
    assert_string_equal (d->interfaces->value, "A");
    assert_string_equal (d->interfaces->next->value, "B");
    assert_null (d->interfaces->next->next);
    const wes_ast_directive_t *table = wes_ast_find_directive (d->directives, "wes_table");
    assert_non_null (table);
    assert_null (wes_ast_find_directive (d->directives, "nope"));
    const wes_ast_argument_t *name = wes_ast_find_argument (table->args, "name");
    assert_non_null (name);
    assert_string_equal (name->value->text, "q");
    assert_null (wes_ast_find_argument (table->args, "nope"));
    assert_null (wes_ast_find_directive (d->directives, "x")->args);
    const wes_ast_field_t *f = d->fields;
    assert_string_equal (f->name.value, "id");
    assert_null (f->args);
    assert_int_equal (f->type->kind, WES_TYPE_NON_NULL);
    assert_int_equal (f->type->of->kind, WES_TYPE_NAMED);
    assert_string_equal (wes_ast_type_name (f->type)->value, "ID");
    f = f->next;
    assert_int_equal (f->type->kind, WES_TYPE_NON_NULL);
    assert_int_equal (f->type->of->kind, WES_TYPE_LIST);
    assert_int_equal (f->type->of->of->kind, WES_TYPE_LIST);
    assert_int_equal (f->type->of->of->of->kind, WES_TYPE_NON_NULL);
    assert_string_equal (wes_ast_type_name (f->type)->value, "String");
    assert_null (f->next);

    d = d->next; /* interface implementing an interface */
    assert_int_equal (d->kind, WES_DEF_INTERFACE);
    assert_string_equal (d->interfaces->value, "B");
    d = d->next; /* type Empty {} */
    assert_true (d->has_body);
    assert_null (d->fields);
    d = d->next; /* type NoBody */
    assert_false (d->has_body);
    assert_null (d->fields);
    d = d->next; /* union with leading '|' */
    assert_int_equal (d->kind, WES_DEF_UNION);
    assert_true (d->has_body);
    assert_string_equal (d->members->value, "A");
    assert_string_equal (d->members->next->value, "B");
    d = d->next; /* union V */
    assert_false (d->has_body);
    assert_null (d->members);
    d = d->next; /* enum */
    assert_int_equal (d->kind, WES_DEF_ENUM);
    assert_string_equal (d->values->name.value, "X");
    assert_string_equal (d->values->directives->args->value->text, "no");
    assert_string_equal (d->values->next->name.value, "Y");

    d = d->next; /* input with const defaults */
    assert_int_equal (d->kind, WES_DEF_INPUT);
    const wes_ast_input_value_t *iv = d->input_fields;
    assert_int_equal (iv->default_value->kind, WES_VALUE_INT);
    assert_string_equal (iv->default_value->text, "-42");
    iv = iv->next;
    assert_int_equal (iv->default_value->kind, WES_VALUE_LIST);
    assert_int_equal (iv->default_value->items->kind, WES_VALUE_FLOAT);
    assert_string_equal (iv->default_value->items->text, "1.5");
    assert_string_equal (iv->default_value->items->next->text, "2e3");
    iv = iv->next;
    const wes_ast_object_field_t *of = iv->default_value->fields;
    assert_int_equal (iv->default_value->kind, WES_VALUE_OBJECT);
    assert_string_equal (of->name.value, "x");
    assert_int_equal (of->value->kind, WES_VALUE_ENUM);
    assert_string_equal (of->value->text, "ENUM_V");
    assert_int_equal (of->next->value->kind, WES_VALUE_NULL);
    assert_int_equal (of->next->next->value->kind, WES_VALUE_BOOLEAN);
    assert_true (of->next->next->value->boolean);
    assert_false (of->next->next->next->value->boolean);

    d = d->next; /* directive definition */
    assert_int_equal (d->kind, WES_DEF_DIRECTIVE);
    assert_string_equal (d->name.value, "d");
    assert_true (d->repeatable);
    assert_string_equal (d->args->name.value, "a");
    assert_string_equal (d->locations->value, "OBJECT");
    assert_string_equal (d->locations->next->value, "FIELD_DEFINITION");

    /*  extensions */
    static const wes_def_kind_t ext_kinds[] = {WES_DEF_SCHEMA, WES_DEF_OBJECT, WES_DEF_INTERFACE,
                                               WES_DEF_UNION,  WES_DEF_ENUM,   WES_DEF_INPUT,
                                               WES_DEF_SCALAR};
    for (size_t i = 0; i < 7; i++) {
        d = d->next;
        assert_non_null (d);
        assert_true (d->extend);
        assert_int_equal (d->kind, ext_kinds[i]);
        assert_null (d->description);
        assert_int_equal (d->loc.start.line, 11 + i);
        assert_int_equal (d->loc.start.col, 1);
        assert_int_equal (d->keyword.col, 8);
    }
    assert_null (d->next);

    /*  The JSON of what libgraphqlparser's format lacks uses graphql-js
        names, and empty bodies are [] while absent ones are null. */
    json_t *j = wes_ast_to_json (doc);
    json_t *defs = json_object_get (j, "definitions");
    static const char *const kinds[] = {
        "SchemaDefinition",         "ObjectTypeDefinition", "InterfaceTypeDefinition",
        "ObjectTypeDefinition",     "ObjectTypeDefinition", "UnionTypeDefinition",
        "UnionTypeDefinition",      "EnumTypeDefinition",   "InputObjectTypeDefinition",
        "DirectiveDefinition",      "SchemaExtension",      "TypeExtensionDefinition",
        "InterfaceTypeExtension",   "UnionTypeExtension",   "EnumTypeExtension",
        "InputObjectTypeExtension", "ScalarTypeExtension",
    };
    assert_int_equal (json_array_size (defs), 17);
    for (size_t i = 0; i < 17; i++) {
        assert_string_equal (json_string_value (json_object_get (json_array_get (defs, i), "kind")),
                             kinds[i]);
    }
    json_t *schema = json_array_get (defs, 0);
    assert_string_equal (
        json_string_value (json_object_get (json_object_get (schema, "description"), "value")),
        "The schema");
    assert_true (json_is_array (json_object_get (json_array_get (defs, 3), "fields")));
    assert_int_equal (json_array_size (json_object_get (json_array_get (defs, 3), "fields")), 0);
    assert_true (json_is_null (json_object_get (json_array_get (defs, 4), "fields")));
    assert_true (json_is_null (json_object_get (json_array_get (defs, 6), "types")));
    assert_true (json_is_true (json_object_get (json_array_get (defs, 9), "repeatable")));
    json_t *iface = json_array_get (defs, 2);
    assert_string_equal (
        json_string_value (json_object_get (
            json_object_get (json_array_get (json_object_get (iface, "interfaces"), 0), "name"),
            "value")),
        "B");
    /*  extend type: the inner definition starts at `type`. */
    json_t *ext = json_array_get (defs, 11);
    json_t *inner = json_object_get (ext, "definition");
    assert_int_equal (json_integer_value (json_object_get (
                          json_object_get (json_object_get (ext, "loc"), "start"), "column")),
                      1);
    assert_int_equal (json_integer_value (json_object_get (
                          json_object_get (json_object_get (inner, "loc"), "start"), "column")),
                      8);
    assert_string_equal (json_string_value (json_object_get (inner, "kind")),
                         "ObjectTypeDefinition");
    /*  Values: kinds and JSON types. */
    json_t *fields = json_object_get (json_array_get (defs, 8), "fields");
    json_t *obj = json_object_get (json_array_get (fields, 2), "defaultValue");
    assert_string_equal (json_string_value (json_object_get (obj, "kind")), "ObjectValue");
    json_t *ofs = json_object_get (obj, "fields");
    assert_string_equal (json_string_value (json_object_get (
                             json_object_get (json_array_get (ofs, 0), "value"), "kind")),
                         "EnumValue");
    assert_true (json_is_true (
        json_object_get (json_object_get (json_array_get (ofs, 2), "value"), "value")));
    json_t *list = json_object_get (json_array_get (fields, 1), "defaultValue");
    assert_string_equal (json_string_value (json_object_get (
                             json_array_get (json_object_get (list, "values"), 1), "kind")),
                         "FloatValue");
    /*  Document loc: first token to the end of the last. */
    json_t *dloc = json_object_get (j, "loc");
    assert_int_equal (json_integer_value (json_object_get (json_object_get (dloc, "end"), "line")),
                      17);
    assert_int_equal (
        json_integer_value (json_object_get (json_object_get (dloc, "end"), "column")), 22);
    json_decref (j);
    wes_ast_doc_destroy (&doc);

    /*  Keywords are contextual: they are ordinary names elsewhere. */
    doc = s_parse_ok ("type type { type: type, input(enum: on = extend): query, on: [schema!] }\n"
                      "enum on { type query fragment }\n"
                      "directive @on(on: on) on FIELD");
    assert_int_equal (wes_ast_doc_count (doc), 3);
    assert_string_equal (wes_ast_doc_defs (doc)->name.value, "type");
    assert_string_equal (wes_ast_doc_defs (doc)->fields->next->args->default_value->text, "extend");
    wes_ast_doc_destroy (&doc);
}

/*  Builds "prefix" + n x open + middle + n x close + suffix. */
static char *
s_nested (const char *prefix, const char *open, size_t n, const char *middle, const char *close,
          const char *suffix)
{
    wes_buf_t *buf = wes_buf_new ();
    wes_buf_puts (buf, prefix);
    for (size_t i = 0; i < n; i++) {
        wes_buf_puts (buf, open);
    }
    wes_buf_puts (buf, middle);
    for (size_t i = 0; i < n; i++) {
        wes_buf_puts (buf, close);
    }
    wes_buf_puts (buf, suffix);
    char *s = wes_buf_steal (buf);
    wes_buf_destroy (&buf);
    return s;
}

/*  (e) Limits: nesting, token size, list size, input size. */
static void
test_limits (void **state)
{
    (void)state;
    char expected[160];
    const size_t max = WES_MAX_NESTING;
    /*  List values, object values, list types: WES_MAX_NESTING levels are
        fine, one more is an error where the extra level opens. */
    struct {
        const char *prefix, *open, *middle, *close, *suffix, *what;
        size_t prefix_cols, open_cols;
    } forms[] = {
        {"scalar S @d(x: ", "[", "1", "]", ")", "value", 15, 1},
        {"scalar S @d(x: ", "{a: ", "1", "}", ")", "value", 15, 4},
        {"type T { f: ", "[", "Int", "]!", " }", "type", 12, 1},
    };
    for (size_t i = 0; i < 3; i++) {
        char *ok = s_nested (forms[i].prefix, forms[i].open, max, forms[i].middle, forms[i].close,
                             forms[i].suffix);
        wes_ast_doc_destroy (&(wes_ast_doc_t *){s_parse_ok (ok)});
        free (ok);
        char *deep = s_nested (forms[i].prefix, forms[i].open, max + 1, forms[i].middle,
                               forms[i].close, forms[i].suffix);
        snprintf (expected, sizeof expected, "%s nested deeper than %u levels (WES_MAX_NESTING)",
                  forms[i].what, (unsigned)max);
        s_check_error (deep, 1, (uint32_t)(forms[i].prefix_cols + max * forms[i].open_cols + 1),
                       expected);
        free (deep);
    }
    /*  Far deeper than any stack could take recursively: still one error. */
    char *abyss = s_nested ("scalar S @d(x: ", "[", 1000000, "", "", "");
    snprintf (expected, sizeof expected, "value nested deeper than %u levels (WES_MAX_NESTING)",
              (unsigned)max);
    s_check_error (abyss, 1, (uint32_t)(16 + max), expected);
    free (abyss);

    /*  A token over WES_MAX_TOKEN_BYTES. */
    size_t tmax = WES_MAX_TOKEN_BYTES;
    char *big = malloc (tmax + 64);
    assert_non_null (big);
    strcpy (big, "scalar S @d(x: \"");
    size_t at = strlen (big);
    memset (big + at, 'y', tmax + 1);
    strcpy (big + at + tmax + 1, "\")");
    snprintf (expected, sizeof expected, "token longer than %u bytes (WES_MAX_TOKEN_BYTES)",
              (unsigned)tmax);
    s_check_error (big, 1, 16, expected);
    /*  ... and one of exactly the limit is accepted. */
    strcpy (big + at + tmax, "\")");
    wes_ast_doc_t *doc = s_parse_ok (big);
    assert_int_equal (strlen (wes_ast_doc_defs (doc)->directives->args->value->text), tmax);
    wes_ast_doc_destroy (&doc);
    free (big);

    /*  A list over WES_MAX_LIST_ITEMS. */
    wes_buf_t *buf = wes_buf_new ();
    wes_buf_puts (buf, "union U =");
    for (size_t i = 0; i <= WES_MAX_LIST_ITEMS; i++) {
        wes_buf_puts (buf, " | A");
    }
    snprintf (expected, sizeof expected, "too many union members (the limit is %u)",
              (unsigned)WES_MAX_LIST_ITEMS);
    wes_diag_t *diag = wes_diag_new ("u");
    assert_null (wes_parse_buffer ("u", wes_buf_data (buf), wes_buf_len (buf), diag));
    assert_int_equal (wes_diag_errors (diag), 1);
    assert_int_equal (wes_diag_col (diag, 0), 10 + 4 * WES_MAX_LIST_ITEMS + 3);
    assert_string_equal (wes_diag_message (diag, 0), expected);
    wes_diag_destroy (&diag);
    wes_buf_destroy (&buf);

    /*  Input over WES_MAX_SDL_BYTES is refused before it is read. */
    diag = wes_diag_new ("huge");
    assert_null (wes_parse_buffer ("huge", "scalar S", (size_t)WES_MAX_SDL_BYTES + 1, diag));
    assert_int_equal (wes_diag_errors (diag), 1);
    assert_non_null (strstr (wes_diag_message (diag, 0), "WES_MAX_SDL_BYTES"));
    wes_diag_destroy (&diag);

    /*  A file that can not be opened. */
    diag = wes_diag_new ("missing");
    assert_null (wes_parse_file ("/nonexistent/schema.graphql", diag));
    assert_int_equal (wes_diag_errors (diag), 1);
    assert_string_equal (wes_diag_message (diag, 0),
                         "cannot open '/nonexistent/schema.graphql': No such file or directory");
    assert_int_equal (wes_diag_line (diag, 0), 0);
    wes_diag_destroy (&diag);
    /*  A directory opens but can not be read. */
    diag = wes_diag_new ("dir");
    assert_null (wes_parse_file ("/", diag));
    assert_int_equal (wes_diag_errors (diag), 1);
    assert_string_equal (wes_diag_message (diag, 0),
                         "cannot read the input after 0 bytes: Is a directory");
    assert_int_equal (wes_diag_line (diag, 0), 1);
    wes_diag_destroy (&diag);
    /*  A NULL diag is allowed; NULL data is empty input. */
    assert_null (wes_parse_buffer ("x", "type {", 6, NULL));
    diag = wes_diag_new ("null");
    assert_null (wes_parse_buffer ("null", NULL, 0, diag));
    assert_int_equal (wes_diag_errors (diag), 1);
    wes_diag_destroy (&diag);
}

/*  (e) Every prefix of every conformance file, in an exactly sized heap
    copy (so a sanitizer sees any overread), gives a document or an error
    with a position — never a crash. */
static void
test_truncation (void **state)
{
    (void)state;
    for (size_t f = 0; f < 3; f++) {
        size_t len;
        char *data = wes_test_read_file (s_conformance_files[f], &len);
        assert_non_null (data);
        size_t docs = 0;
        for (size_t cut = 0; cut <= len; cut++) {
            char *copy = malloc (cut ? cut : 1);
            assert_non_null (copy);
            memcpy (copy, data, cut);
            wes_diag_t *diag = wes_diag_new ("cut");
            wes_ast_doc_t *doc = wes_parse_buffer ("cut", copy, cut, diag);
            if (doc) {
                docs++;
                assert_int_equal (wes_diag_errors (diag), 0);
                json_t *j = wes_ast_to_json (doc);
                assert_non_null (j);
                json_decref (j);
                wes_ast_doc_destroy (&doc);
            }
            else {
                assert_int_equal (wes_diag_errors (diag), 1);
                assert_true (wes_diag_line (diag, 0) >= 1);
                assert_true (wes_diag_col (diag, 0) >= 1);
            }
            wes_diag_destroy (&diag);
            free (copy);
        }
        /*  The whole file parses, and so do some prefixes ending at a
            definition boundary; most prefixes do not. */
        assert_true (docs >= 2);
        assert_true (docs < len / 2);
        free (data);
    }
}

/*  10,000 tables, 150,000 fields (about 15 MB) parse in well under a
    second in an optimised build. */
static void
test_speed (void **state)
{
    (void)state;
    wes_buf_t *buf = wes_buf_new ();
    for (int t = 0; t < 10000; t++) {
        wes_buf_printf (buf, "\"\"\"\n  Table number %d.\n\"\"\"\ntype Table%d @wes_table {\n", t,
                        t);
        for (int f = 0; f < 15; f++) {
            wes_buf_printf (buf,
                            "  some_column_name_%d: [String!]! @wes_default(value: \"x%d\") "
                            "@wes_check(expr: \"length(c) > %d\")\n",
                            f, f, f);
        }
        wes_buf_puts (buf, "}\n");
    }
    size_t len = wes_buf_len (buf);
    assert_true (len > 14u * 1000u * 1000u);
    struct timespec t0;
    struct timespec t1;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    wes_diag_t *diag = wes_diag_new ("big");
    wes_ast_doc_t *doc = wes_parse_buffer ("big", wes_buf_data (buf), len, diag);
    clock_gettime (CLOCK_MONOTONIC, &t1);
    assert_non_null (doc);
    assert_int_equal (wes_ast_doc_count (doc), 10000);
    size_t fields = 0;
    for (const wes_ast_def_t *d = wes_ast_doc_defs (doc); d; d = d->next) {
        for (const wes_ast_field_t *f = d->fields; f; f = f->next) {
            fields++;
        }
    }
    assert_int_equal (fields, 150000);
    double seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    print_message ("parsed %zu bytes, 150000 fields in %.3f s\n", len, seconds);
#if defined(__SANITIZE_ADDRESS__) || defined(__OPTIMIZE__) == 0
    const double limit = 10.0; /* sanitizer or -O0 builds: only catch blow-ups */
#else
    const double limit = 1.0;
#endif
    assert_true (seconds < limit);
    wes_ast_doc_destroy (&doc);
    wes_diag_destroy (&diag);
    wes_buf_destroy (&buf);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_conformance_files_parse),
        cmocka_unit_test (test_oracle_json),
        cmocka_unit_test (test_errors),
        cmocka_unit_test (test_strings),
        cmocka_unit_test (test_ast),
        cmocka_unit_test (test_limits),
        cmocka_unit_test (test_truncation),
        cmocka_unit_test (test_speed),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
