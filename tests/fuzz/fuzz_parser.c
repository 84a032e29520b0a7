/*  fuzz_parser.c — libFuzzer harness for the SDL front end. Each input is
    parsed from memory; a document must turn into JSON that survives a dump
    and reload, a failure must leave exactly one error with a position, and
    the streaming lexer (through a FILE*) must produce exactly the tokens of
    the in-memory lexer, and skipping a body (wes_lexer_skip_braces, what
    the streaming compile's outline does) must end where the lexer finds
    the matching '}'. Any broken expectation aborts, which the fuzzer
    reports as a crash. */
#include <stdbool.h>
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

/*  The index-th token (from 1) is a '{'. Wherever the lexer reads on to
    its matching '}', skipping from the '{' ends just past that '}', and
    the next token read after either is the same. */
static void
s_check_skip_at (const uint8_t *data, size_t size, size_t index)
{
    wes_lexer_t *full = wes_lexer_new_buffer ((const char *)data, size);
    wes_lexer_t *skim = wes_lexer_new_buffer ((const char *)data, size);
    wes_token_t a;
    wes_token_t b;
    for (size_t i = 0; i < index; i++) {
        int ra = wes_lexer_next (full, &a);
        int rb = wes_lexer_next (skim, &b);
        s_check (ra == 0 && rb == 0, "the tokens before a '{' do not lex twice alike");
    }
    s_check (a.kind == WES_TOK_LBRACE && b.kind == WES_TOK_LBRACE, "not at the '{'");
    bool matched = true;
    for (size_t depth = 1; depth > 0;) {
        if (wes_lexer_next (full, &a) != 0 || a.kind == WES_TOK_EOF) {
            matched = false;
            break;
        }
        depth += a.kind == WES_TOK_LBRACE;
        depth -= a.kind == WES_TOK_RBRACE;
    }
    wes_pos_t end;
    int rs = wes_lexer_skip_braces (skim, &end);
    if (matched) {
        s_check (rs == 0, "skipping fails where the lexer finds the matching '}'");
        s_check (end.line == a.loc.end.line && end.col == a.loc.end.col,
                 "skipping ends elsewhere than the matching '}'");
        if (wes_lexer_next (full, &a) == 0) {
            s_check (wes_lexer_next (skim, &b) == 0, "the token after a skipped body fails");
            s_check (a.kind == b.kind && a.len == b.len && memcmp (a.text, b.text, a.len) == 0
                         && memcmp (&a.loc, &b.loc, sizeof a.loc) == 0,
                     "the token after a skipped body differs");
        }
    }
    else if (rs != 0) {
        s_check (wes_lexer_next (skim, &b) != 0, "a failed skip does not stay failed");
    }
    wes_lexer_destroy (&full);
    wes_lexer_destroy (&skim);
}

/*  s_check_skip_at for the first few '{' of the input. */
static void
s_check_skip (const uint8_t *data, size_t size)
{
    wes_lexer_t *lex = wes_lexer_new_buffer ((const char *)data, size);
    size_t index = 0;
    size_t checked = 0;
    wes_token_t t;
    while (checked < 8 && wes_lexer_next (lex, &t) == 0 && t.kind != WES_TOK_EOF) {
        index++;
        if (t.kind == WES_TOK_LBRACE) {
            checked++;
            s_check_skip_at (data, size, index);
        }
    }
    wes_lexer_destroy (&lex);
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
    s_check_skip (data, size);
    return 0;
}
