/*  fuzz_parser.c — libFuzzer harness for the SDL front end. Each input is
    parsed from memory; a document must turn into JSON that survives a dump
    and reload, a failure must leave exactly one error with a position, and
    the streaming lexer (through a FILE*) must produce exactly the tokens of
    the in-memory lexer. Any broken expectation aborts, which the fuzzer
    reports as a crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "schema/wes_ast.h"
#include "schema/wes_lexer.h"
#include "schema/wes_parser.h"
#include "util/wes_diag.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
s_check (int ok, const char *what)
{
    if (!ok) {
        fprintf (stderr, "fuzz_parser: broken expectation: %s\n", what);
        abort ();
    }
}

/*  The FILE* lexer and the memory lexer agree on every token and error. */
static void
s_check_streaming (const uint8_t *data, size_t size)
{
    if (size == 0) {
        return; /* fmemopen refuses an empty buffer */
    }
    FILE *file = fmemopen ((void *)data, size, "r");
    if (!file) {
        return;
    }
    wes_lexer_t *flex = wes_lexer_new_file (file);
    wes_lexer_t *mlex = wes_lexer_new_buffer ((const char *)data, size);
    for (;;) {
        wes_token_t a;
        wes_token_t b;
        int ra = wes_lexer_next (flex, &a);
        int rb = wes_lexer_next (mlex, &b);
        s_check (ra == rb, "stream and memory lexers disagree on success");
        if (ra != 0) {
            s_check (strcmp (wes_lexer_error (flex), wes_lexer_error (mlex)) == 0,
                     "stream and memory lexers report different errors");
            break;
        }
        s_check (a.kind == b.kind && a.len == b.len && memcmp (a.text, b.text, a.len) == 0,
                 "stream and memory lexers give different tokens");
        s_check (memcmp (&a.loc, &b.loc, sizeof a.loc) == 0,
                 "stream and memory lexers give different positions");
        s_check (strlen (a.text) == a.len, "token text holds a NUL");
        if (a.kind == WES_TOK_EOF) {
            break;
        }
    }
    wes_lexer_destroy (&flex);
    wes_lexer_destroy (&mlex);
    fclose (file);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    wes_diag_t *diag = wes_diag_new ("fuzz");
    wes_ast_doc_t *doc = wes_parse_buffer ("fuzz", (const char *)data, size, diag);
    if (doc) {
        s_check (wes_diag_errors (diag) == 0, "a document with errors");
        s_check (wes_ast_doc_count (doc) > 0, "a document without definitions");
        json_t *json = wes_ast_to_json (doc);
        s_check (json != NULL, "no JSON for a document");
        char *text = json_dumps (json, JSON_COMPACT);
        s_check (text != NULL, "JSON of a document does not serialise");
        json_error_t error;
        json_t *back = json_loads (text, 0, &error);
        s_check (back != NULL && json_equal (json, back), "JSON of a document does not reload");
        json_decref (back);
        free (text);
        json_decref (json);
        wes_ast_doc_destroy (&doc);
    }
    else {
        s_check (wes_diag_errors (diag) == 1, "a failed parse without exactly one error");
        s_check (wes_diag_line (diag, 0) >= 1 && wes_diag_col (diag, 0) >= 1,
                 "an error without a position");
        s_check (strlen (wes_diag_message (diag, 0)) > 0, "an empty error message");
    }
    wes_diag_destroy (&diag);
    s_check_streaming (data, size);
    return 0;
}
