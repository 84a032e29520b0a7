/*  test_lexer.c — the GraphQL lexer: punctuators, names, numbers, strings
    and block strings, ignored tokens, positions, errors, the token size
    limit, streaming from a FILE* through the fixed read buffer giving
    exactly the tokens of the in-memory lexer, and skipping a body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "schema/wes_lexer.h"
#include "util/wes_limits.h"
#include "wes_testutil.h"

/*  One lexed token, copied out of the lexer. */
typedef struct {
    wes_token_kind_t kind;
    char *text;
    size_t len;
    wes_loc_t loc;
} s_tok_t;

typedef struct {
    s_tok_t toks[256];
    size_t count;
    int rc;              /* 0, or -1 when lexing stopped with an error */
    char error[256];     /* the lexer's error message */
    wes_pos_t error_pos; /* and its position */
} s_lexed_t;

static void
s_lexed_free (s_lexed_t *lx)
{
    for (size_t i = 0; i < lx->count; i++) {
        free (lx->toks[i].text);
    }
    free (lx);
}

/*  Lexes everything from lexer (up to 256 tokens, EOF included). */
static s_lexed_t *
s_lex_all (wes_lexer_t *lexer)
{
    s_lexed_t *lx = calloc (1, sizeof *lx);
    assert_non_null (lx);
    for (;;) {
        wes_token_t tok;
        lx->rc = wes_lexer_next (lexer, &tok);
        if (lx->rc != 0) {
            snprintf (lx->error, sizeof lx->error, "%s", wes_lexer_error (lexer));
            lx->error_pos = wes_lexer_error_pos (lexer);
            break;
        }
        assert_true (lx->count < 256);
        s_tok_t *t = &lx->toks[lx->count++];
        t->kind = tok.kind;
        t->len = tok.len;
        t->text = malloc (tok.len + 1);
        assert_non_null (t->text);
        memcpy (t->text, tok.text, tok.len + 1);
        t->loc = tok.loc;
        if (tok.kind == WES_TOK_EOF) {
            break;
        }
    }
    return lx;
}

static s_lexed_t *
s_lex (const char *src)
{
    wes_lexer_t *lexer = wes_lexer_new_buffer (src, strlen (src));
    s_lexed_t *lx = s_lex_all (lexer);
    wes_lexer_destroy (&lexer);
    assert_null (lexer);
    return lx;
}

static void
s_check_tok (const s_tok_t *t, wes_token_kind_t kind, const char *text, uint32_t l1, uint32_t c1,
             uint32_t l2, uint32_t c2)
{
    if (t->kind != kind || strcmp (t->text, text) != 0 || t->loc.start.line != l1
        || t->loc.start.col != c1 || t->loc.end.line != l2 || t->loc.end.col != c2) {
        fail_msg ("token: got kind %s '%s' %u:%u-%u:%u, expected %s '%s' %u:%u-%u:%u",
                  wes_token_kind_name (t->kind), t->text, t->loc.start.line, t->loc.start.col,
                  t->loc.end.line, t->loc.end.col, wes_token_kind_name (kind), text, l1, c1, l2,
                  c2);
    }
}

/*  Lexes src, which must fail with message at line:col. */
static void
s_check_error (const char *src, uint32_t line, uint32_t col, const char *message)
{
    s_lexed_t *lx = s_lex (src);
    if (lx->rc == 0) {
        fail_msg ("expected error '%s' for <%s>, but it lexed", message, src);
    }
    if (strcmp (lx->error, message) != 0 || lx->error_pos.line != line
        || lx->error_pos.col != col) {
        fail_msg ("for <%s>: got %u:%u '%s', expected %u:%u '%s'", src, lx->error_pos.line,
                  lx->error_pos.col, lx->error, line, col, message);
    }
    s_lexed_free (lx);
}

/*  Lexes src into exactly one string-ish token with this decoded value. */
#define S_CHECK_VALUE(src, kind, value) s_check_value ((src), (kind), (value), sizeof (value) - 1)

static void
s_check_value (const char *src, wes_token_kind_t kind, const char *value, size_t len)
{
    s_lexed_t *lx = s_lex (src);
    if (lx->rc != 0) {
        fail_msg ("<%s> failed: %s", src, lx->error);
    }
    assert_int_equal (lx->count, 2);
    assert_int_equal (lx->toks[0].kind, kind);
    assert_int_equal (lx->toks[0].len, len);
    if (memcmp (lx->toks[0].text, value, len) != 0) {
        fail_msg ("<%s>: got <%s>, expected <%s>", src, lx->toks[0].text, value);
    }
    assert_int_equal (lx->toks[1].kind, WES_TOK_EOF);
    s_lexed_free (lx);
}

static void
test_punctuators (void **state)
{
    (void)state;
    s_lexed_t *lx = s_lex ("! $ & ( ) ... : = @ [ ] { | }");
    assert_int_equal (lx->rc, 0);
    static const wes_token_kind_t kinds[] = {
        WES_TOK_BANG,     WES_TOK_DOLLAR, WES_TOK_AMP,    WES_TOK_LPAREN, WES_TOK_RPAREN,
        WES_TOK_SPREAD,   WES_TOK_COLON,  WES_TOK_EQUALS, WES_TOK_AT,     WES_TOK_LBRACKET,
        WES_TOK_RBRACKET, WES_TOK_LBRACE, WES_TOK_PIPE,   WES_TOK_RBRACE, WES_TOK_EOF,
    };
    assert_int_equal (lx->count, sizeof kinds / sizeof kinds[0]);
    for (size_t i = 0; i < lx->count; i++) {
        assert_int_equal (lx->toks[i].kind, kinds[i]);
    }
    s_check_tok (&lx->toks[5], WES_TOK_SPREAD, "...", 1, 11, 1, 14);
    s_check_tok (&lx->toks[13], WES_TOK_RBRACE, "}", 1, 29, 1, 30);
    s_check_tok (&lx->toks[14], WES_TOK_EOF, "", 1, 30, 1, 30);
    s_lexed_free (lx);
}

static void
test_names_and_positions (void **state)
{
    (void)state;
    /*  Commas and tabs are ignored; \n, \r\n and \r each end one line;
        comments run to the end of the line. */
    s_lexed_t *lx = s_lex ("_a1,Bz\tc # comment, ignored\r\nd\re\n\n  f_G9");
    assert_int_equal (lx->rc, 0);
    assert_int_equal (lx->count, 7);
    s_check_tok (&lx->toks[0], WES_TOK_NAME, "_a1", 1, 1, 1, 4);
    s_check_tok (&lx->toks[1], WES_TOK_NAME, "Bz", 1, 5, 1, 7);
    s_check_tok (&lx->toks[2], WES_TOK_NAME, "c", 1, 8, 1, 9);
    s_check_tok (&lx->toks[3], WES_TOK_NAME, "d", 2, 1, 2, 2);
    s_check_tok (&lx->toks[4], WES_TOK_NAME, "e", 3, 1, 3, 2);
    s_check_tok (&lx->toks[5], WES_TOK_NAME, "f_G9", 5, 3, 5, 7);
    s_check_tok (&lx->toks[6], WES_TOK_EOF, "", 5, 7, 5, 7);
    s_lexed_free (lx);

    /*  A BOM opening the input takes no columns; a later one is ignored
        white space three bytes wide. */
    lx = s_lex ("\xEF\xBB\xBFtype\xEF\xBB\xBFT");
    assert_int_equal (lx->rc, 0);
    assert_int_equal (lx->count, 3);
    s_check_tok (&lx->toks[0], WES_TOK_NAME, "type", 1, 1, 1, 5);
    s_check_tok (&lx->toks[1], WES_TOK_NAME, "T", 1, 8, 1, 9);
    s_lexed_free (lx);

    /*  End of input repeats, and an empty input is just EOF. */
    wes_lexer_t *lexer = wes_lexer_new_buffer ("", 0);
    wes_token_t tok;
    for (int i = 0; i < 3; i++) {
        assert_int_equal (wes_lexer_next (lexer, &tok), 0);
        assert_int_equal (tok.kind, WES_TOK_EOF);
        assert_int_equal (tok.loc.start.line, 1);
        assert_int_equal (tok.loc.start.col, 1);
    }
    assert_null (wes_lexer_error (lexer));
    wes_lexer_destroy (&lexer);
    wes_lexer_destroy (&lexer); /* safe on NULL */
}

static void
test_numbers (void **state)
{
    (void)state;
    s_lexed_t *lx = s_lex ("0 -0 123 -45 0.5 -1.25 1e10 6.02E+23 1.5e-3 9E0");
    assert_int_equal (lx->rc, 0);
    assert_int_equal (lx->count, 11);
    s_check_tok (&lx->toks[0], WES_TOK_INT, "0", 1, 1, 1, 2);
    s_check_tok (&lx->toks[1], WES_TOK_INT, "-0", 1, 3, 1, 5);
    s_check_tok (&lx->toks[2], WES_TOK_INT, "123", 1, 6, 1, 9);
    s_check_tok (&lx->toks[3], WES_TOK_INT, "-45", 1, 10, 1, 13);
    s_check_tok (&lx->toks[4], WES_TOK_FLOAT, "0.5", 1, 14, 1, 17);
    s_check_tok (&lx->toks[5], WES_TOK_FLOAT, "-1.25", 1, 18, 1, 23);
    s_check_tok (&lx->toks[6], WES_TOK_FLOAT, "1e10", 1, 24, 1, 28);
    s_check_tok (&lx->toks[7], WES_TOK_FLOAT, "6.02E+23", 1, 29, 1, 37);
    s_check_tok (&lx->toks[8], WES_TOK_FLOAT, "1.5e-3", 1, 38, 1, 44);
    s_check_tok (&lx->toks[9], WES_TOK_FLOAT, "9E0", 1, 45, 1, 48);
    s_lexed_free (lx);

    /*  A number ends at punctuation and white space. */
    lx = s_lex ("[1,2]");
    assert_int_equal (lx->rc, 0);
    assert_int_equal (lx->count, 5);
    s_check_tok (&lx->toks[1], WES_TOK_INT, "1", 1, 2, 1, 3);
    s_check_tok (&lx->toks[2], WES_TOK_INT, "2", 1, 4, 1, 5);
    s_lexed_free (lx);

    s_check_error ("01", 1, 2, "invalid number: unexpected digit '1' after a leading '0'");
    s_check_error ("-007", 1, 3, "invalid number: unexpected digit '0' after a leading '0'");
    s_check_error ("-x", 1, 2, "invalid number: expected a digit after '-', found 'x'");
    s_check_error ("-", 1, 2, "invalid number: expected a digit after '-', found end of file");
    s_check_error ("1.", 1, 3, "invalid number: expected a digit after '.', found end of file");
    s_check_error ("1.e5", 1, 3, "invalid number: expected a digit after '.', found 'e'");
    s_check_error ("1e", 1, 3,
                   "invalid number: expected a digit in the exponent, found end of file");
    s_check_error ("2E+x", 1, 4, "invalid number: expected a digit in the exponent, found 'x'");
    s_check_error ("12abc", 1, 3, "invalid number: unexpected 'a' after '12'");
    s_check_error ("0x1F", 1, 2, "invalid number: unexpected 'x' after '0'");
    s_check_error ("1.5.2", 1, 4, "invalid number: unexpected '.' after '1.5'");
    s_check_error ("1e3_", 1, 4, "invalid number: unexpected '_' after '1e3'");
}

static void
test_strings (void **state)
{
    (void)state;
    S_CHECK_VALUE ("\"\"", WES_TOK_STRING, "");
    S_CHECK_VALUE ("\"simple\"", WES_TOK_STRING, "simple");
    S_CHECK_VALUE ("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\"", WES_TOK_STRING, "q\" b\\ s/ \b\f\n\r\t");
    S_CHECK_VALUE ("\"\\u00e9\\u00C9\"", WES_TOK_STRING, "\xC3\xA9\xC3\x89");
    S_CHECK_VALUE ("\"\\u20AC\"", WES_TOK_STRING, "\xE2\x82\xAC");
    /*  A surrogate pair written as two escapes is one code point. */
    S_CHECK_VALUE ("\"\\uD83D\\uDE00\"", WES_TOK_STRING, "\xF0\x9F\x98\x80");
    /*  The draft's variable-width escape. */
    S_CHECK_VALUE ("\"\\u{1F600}\\u{41}\\u{0000e9}\"", WES_TOK_STRING,
                   "\xF0\x9F\x98\x80"
                   "A\xC3\xA9");
    /*  Raw UTF-8 passes through unchanged; so does a tab. */
    S_CHECK_VALUE ("\"caf\xC3\xA9\t\xF0\x9F\x98\x80\"", WES_TOK_STRING,
                   "caf\xC3\xA9\t\xF0\x9F\x98\x80");

    s_lexed_t *lx = s_lex ("  \"a\\u00e9\"  ");
    assert_int_equal (lx->rc, 0);
    /*  Positions count source bytes, not decoded ones. */
    s_check_tok (&lx->toks[0], WES_TOK_STRING, "a\xC3\xA9", 1, 3, 1, 12);
    s_lexed_free (lx);

    s_check_error ("\"abc", 1, 1, "unterminated string, found end of file");
    s_check_error ("x \"ab\ncd\"", 1, 3, "unterminated string, found end of line");
    s_check_error ("\"ab\rcd\"", 1, 1, "unterminated string, found end of line");
    s_check_error ("\"a\\qb\"", 1, 3, "invalid escape sequence: '\\' followed by 'q'");
    s_check_error ("\"a\\", 1, 3, "invalid escape sequence: '\\' followed by end of file");
    s_check_error ("\"\\u12\"", 1, 2,
                   "invalid Unicode escape: expected four hex digits after '\\u'");
    s_check_error ("\"\\uD83D\"", 1, 2,
                   "invalid Unicode escape: leading surrogate \\uD83D is not followed by a "
                   "trailing surrogate");
    s_check_error ("\"\\uD83D\\u0041\"", 1, 2,
                   "invalid Unicode escape: leading surrogate \\uD83D is not followed by a "
                   "trailing surrogate");
    s_check_error ("\"\\uDE00\"", 1, 2, "invalid Unicode escape: lone trailing surrogate \\uDE00");
    s_check_error ("\"\\u{110000}\"", 1, 2, "invalid Unicode escape: '\\u{...}' beyond U+10FFFF");
    s_check_error ("\"\\u{D800}\"", 1, 2,
                   "invalid Unicode escape: surrogate U+D800 is not a character");
    s_check_error ("\"\\u{}\"", 1, 2, "invalid Unicode escape: empty '\\u{}'");
    s_check_error ("\"\\u{12x}\"", 1, 2,
                   "invalid Unicode escape: expected a hex digit or '}' in '\\u{...}', found 'x'");
    s_check_error ("\"\\u0000\"", 1, 2,
                   "invalid Unicode escape: U+0000 in a string is not supported");
    s_check_error ("\"ab\xFF\"", 1, 4, "invalid UTF-8 byte 0xFF in string");
    s_check_error ("\"\xC0\xAF\"", 1, 2, "invalid UTF-8 byte 0xC0 in string");     /* overlong */
    s_check_error ("\"\xED\xA0\x80\"", 1, 2, "invalid UTF-8 byte 0xED in string"); /* surrogate */
    s_check_error ("\"\xE2\x82\"", 1, 2, "invalid UTF-8 byte 0xE2 in string");     /* truncated */

    /*  A NUL byte inside a string can not live in a C string. */
    wes_lexer_t *lexer = wes_lexer_new_buffer ("\"a\0b\"", 5);
    wes_token_t tok;
    assert_int_equal (wes_lexer_next (lexer, &tok), -1);
    assert_string_equal (wes_lexer_error (lexer), "NUL character in string (not supported)");
    assert_int_equal (wes_lexer_error_pos (lexer).col, 3);
    /*  Errors are sticky. */
    assert_int_equal (wes_lexer_next (lexer, &tok), -1);
    wes_lexer_destroy (&lexer);
}

static void
test_block_strings (void **state)
{
    (void)state;
    /*  The spec's example: common indentation and blank first/last lines go. */
    S_CHECK_VALUE ("\"\"\"\n    Hello,\n      World!\n\n    Yours,\n      GraphQL.\n  \"\"\"",
                   WES_TOK_BLOCK_STRING, "Hello,\n  World!\n\nYours,\n  GraphQL.");
    /*  The first line keeps its indentation and does not count. */
    S_CHECK_VALUE ("\"\"\"  first\n    second\n      third\n  \"\"\"", WES_TOK_BLOCK_STRING,
                   "  first\nsecond\n  third");
    /*  \""" is the only escape; other backslashes are literal. */
    S_CHECK_VALUE ("\"\"\"a \\\"\"\" b \\n \\u0041\"\"\"", WES_TOK_BLOCK_STRING,
                   "a \"\"\" b \\n \\u0041");
    S_CHECK_VALUE ("\"\"\"\"\"\"", WES_TOK_BLOCK_STRING, "");
    S_CHECK_VALUE ("\"\"\"   \n  \t  \n \"\"\"", WES_TOK_BLOCK_STRING, "");
    /*  Tabs are white space for indentation; \r\n and \r become \n. */
    S_CHECK_VALUE ("\"\"\"\r\n\t\ta\r\n\t\t  b\r\t\tc\r\n\"\"\"", WES_TOK_BLOCK_STRING,
                   "a\n  b\nc");
    /*  Lines shorter than the common indent (blank ones) become empty. */
    S_CHECK_VALUE ("\"\"\"\n    a\n  \n    b\n\"\"\"", WES_TOK_BLOCK_STRING, "a\n\nb");
    /*  Quotes that are not three in a row are content. */
    S_CHECK_VALUE ("\"\"\"say \"hi\" and \"\"twice\"\" ok\"\"\"", WES_TOK_BLOCK_STRING,
                   "say \"hi\" and \"\"twice\"\" ok");

    /*  Positions: the token spans lines; the next token's line counts them. */
    s_lexed_t *lx = s_lex ("\"\"\"\n  one\r\n  two\r  \"\"\" x");
    assert_int_equal (lx->rc, 0);
    s_check_tok (&lx->toks[0], WES_TOK_BLOCK_STRING, "one\ntwo", 1, 1, 4, 6);
    s_check_tok (&lx->toks[1], WES_TOK_NAME, "x", 4, 7, 4, 8);
    s_lexed_free (lx);

    s_check_error ("x \"\"\"abc\n  def", 1, 3, "unterminated block string, found end of file");
    s_check_error ("\"\"\"ab\xFF\"\"\"", 1, 6, "invalid UTF-8 byte 0xFF in block string");
}

static void
test_errors (void **state)
{
    (void)state;
    s_check_error ("type %", 1, 6, "unexpected character '%'");
    s_check_error ("a\n  ?", 2, 3, "unexpected character '?'");
    s_check_error ("caf\xC3\xA9", 1, 4, "unexpected character U+00E9");
    s_check_error ("\xFF", 1, 1, "unexpected character byte 0xFF (not UTF-8)");
    s_check_error ("\x01", 1, 1, "unexpected character U+0001");
    s_check_error (". a", 1, 1, "unexpected character '.', expected '...'");
    s_check_error ("..", 1, 1, "unexpected character '.', expected '...'");
    s_check_error ("'single'", 1, 1, "unexpected character '''");
    /*  A NUL byte outside a string. */
    wes_lexer_t *lexer = wes_lexer_new_buffer ("a\0", 2);
    wes_token_t tok;
    assert_int_equal (wes_lexer_next (lexer, &tok), 0);
    assert_int_equal (wes_lexer_next (lexer, &tok), -1);
    assert_string_equal (wes_lexer_error (lexer), "unexpected character U+0000");
    wes_lexer_destroy (&lexer);

    /*  The token kind names used in messages. */
    assert_string_equal (wes_token_kind_name (WES_TOK_EOF), "end of file");
    assert_string_equal (wes_token_kind_name (WES_TOK_PIPE), "'|'");
    assert_string_equal (wes_token_kind_name (WES_TOK_BLOCK_STRING), "block string");
}

/*  A token of exactly WES_MAX_TOKEN_BYTES is fine; one byte more is refused
    at the token's start, for names, strings and block strings alike. */
static void
test_token_limit (void **state)
{
    (void)state;
    size_t max = WES_MAX_TOKEN_BYTES;
    char *src = malloc (max + 16);
    assert_non_null (src);
    const char *forms[] = {"name", "string", "block"};
    for (size_t f = 0; f < 3; f++) {
        for (size_t extra = 0; extra < 2; extra++) {
            size_t n = max + extra;
            size_t len = 0;
            src[len++] = ' ';
            if (f == 1) {
                src[len++] = '"';
            }
            else if (f == 2) {
                memcpy (src + len, "\"\"\"", 3);
                len += 3;
            }
            memset (src + len, 'x', n);
            len += n;
            if (f == 1) {
                src[len++] = '"';
            }
            else if (f == 2) {
                memcpy (src + len, "\"\"\"", 3);
                len += 3;
            }
            wes_lexer_t *lexer = wes_lexer_new_buffer (src, len);
            wes_token_t tok;
            int rc = wes_lexer_next (lexer, &tok);
            if (extra == 0) {
                if (rc != 0) {
                    fail_msg ("%s of %zu bytes: %s", forms[f], n, wes_lexer_error (lexer));
                }
                assert_int_equal (tok.len, max);
                assert_int_equal (strlen (tok.text), max);
            }
            else {
                assert_int_equal (rc, -1);
                char expected[128];
                snprintf (expected, sizeof expected,
                          "token longer than %u bytes (WES_MAX_TOKEN_BYTES)", (unsigned)max);
                assert_string_equal (wes_lexer_error (lexer), expected);
                assert_int_equal (wes_lexer_error_pos (lexer).line, 1);
                assert_int_equal (wes_lexer_error_pos (lexer).col, 2);
            }
            wes_lexer_destroy (&lexer);
        }
    }
    free (src);

    /*  Input longer than WES_MAX_SDL_BYTES is refused before a byte is read
        (the data is never looked at). */
    wes_lexer_t *lexer = wes_lexer_new_buffer ("type", (size_t)WES_MAX_SDL_BYTES + 1);
    wes_token_t tok;
    assert_int_equal (wes_lexer_next (lexer, &tok), -1);
    assert_non_null (strstr (wes_lexer_error (lexer), "WES_MAX_SDL_BYTES"));
    wes_lexer_destroy (&lexer);
}

/*  Lexes data through a FILE* and compares with the in-memory lexer, token
    by token, text and positions included. */
static size_t
s_check_stream_equal (const char *data, size_t len)
{
    FILE *file = fmemopen ((void *)data, len, "r");
    assert_non_null (file);
    wes_lexer_t *flex = wes_lexer_new_file (file);
    wes_lexer_t *mlex = wes_lexer_new_buffer (data, len);
    size_t count = 0;
    for (;;) {
        wes_token_t a;
        wes_token_t b;
        int ra = wes_lexer_next (flex, &a);
        int rb = wes_lexer_next (mlex, &b);
        assert_int_equal (ra, rb);
        if (ra != 0) {
            assert_string_equal (wes_lexer_error (flex), wes_lexer_error (mlex));
            assert_int_equal (wes_lexer_error_pos (flex).line, wes_lexer_error_pos (mlex).line);
            assert_int_equal (wes_lexer_error_pos (flex).col, wes_lexer_error_pos (mlex).col);
            break;
        }
        assert_int_equal (a.kind, b.kind);
        assert_int_equal (a.len, b.len);
        assert_memory_equal (a.text, b.text, a.len);
        assert_memory_equal (&a.loc, &b.loc, sizeof a.loc);
        count++;
        if (a.kind == WES_TOK_EOF) {
            break;
        }
    }
    wes_lexer_destroy (&flex);
    wes_lexer_destroy (&mlex);
    fclose (file);
    return count;
}

static void
test_streaming (void **state)
{
    (void)state;
    /*  The conformance files. */
    const char *files[] = {
        WES_CONFORMANCE_DIR "/graphql-spec/graphql-js/kitchenSinkSDL.graphql",
        WES_CONFORMANCE_DIR "/graphql-spec/graphql-js/schema-kitchen-sink.graphql",
        WES_CONFORMANCE_DIR "/graphql-spec/libgraphqlparser/schema-kitchen-sink.graphql",
        WES_CONFORMANCE_DIR "/wesley-examples/freaky-rls-schema.graphql",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        size_t len;
        char *data = wes_test_read_file (files[i], &len);
        assert_non_null (data);
        assert_true (s_check_stream_equal (data, len) > 100);
        free (data);
    }
    /*  Tokens and multi-byte lookahead (\r\n, ..., """, \""", \uXXXX\uXXXX,
        UTF-8) straddling the read buffer's edges: shift a tricky snippet
        across every offset around the 16 KiB boundaries. */
    static const char snippet[] =
        "a\r\n... \"\"\"x\\\"\"\"y\"\"\" \"\\uD83D\\uDE00\xC3\xA9\" 1.5e3 "
        "\xEF\xBB\xBF"
        "b";
    size_t total = 3 * 16384 + 64;
    char *buf = malloc (total);
    assert_non_null (buf);
    for (size_t shift = 16384 - 40; shift < 16384 + 8; shift++) {
        memset (buf, ' ', total);
        memcpy (buf + shift, snippet, sizeof snippet - 1);
        memcpy (buf + 2 * 16384 - 20 + (shift % 20), snippet, sizeof snippet - 1);
        assert_int_equal (s_check_stream_equal (buf, total), 2 * 6 + 1);
    }
    /*  An error after the first buffer is reported at the same place. */
    memset (buf, '\n', total);
    buf[total - 2] = '%';
    assert_int_equal (s_check_stream_equal (buf, total), 0);
    free (buf);
}


/*  wes_lexer_skip_parens: the arguments after a '(' skipped to the
    matching ')', past strings, comments and nested parentheses. */
static void
test_skip_parens (void **state)
{
    (void) state;
    static const char text[] = "(a: \")(\" # ) in a comment\n  b: [(1)], c: \"\"\"\n)\"\"\") next";
    wes_lexer_t *lexer = wes_lexer_new_buffer (text, sizeof text - 1);
    wes_token_t tok;
    assert_int_equal (wes_lexer_next (lexer, &tok), 0);
    assert_int_equal (tok.kind, WES_TOK_LPAREN);
    wes_pos_t end;
    assert_int_equal (wes_lexer_skip_parens (lexer, &end), 0);
    assert_int_equal (end.line, 3);
    assert_int_equal (end.col, 6);
    assert_int_equal (wes_lexer_next (lexer, &tok), 0);
    assert_int_equal (tok.kind, WES_TOK_NAME);
    assert_string_equal (tok.text, "next");
    assert_int_equal (tok.loc.start.col, 7);
    wes_lexer_destroy (&lexer);
    //  Unterminated: an error at the '(' it started after
    lexer = wes_lexer_new_buffer ("(a: (1)", 7);
    assert_int_equal (wes_lexer_next (lexer, &tok), 0);
    assert_int_equal (wes_lexer_skip_parens (lexer, &end), -1);
    assert_non_null (strstr (wes_lexer_error (lexer), "unterminated '('"));
    wes_lexer_destroy (&lexer);
}

/*  Lexes data (\n line ends only, no BOM) from memory and through a FILE*
    and checks every token against the bytes at its offset: its line and
    column counted from the offset, a name's text, a plain string's quotes
    and length. Returns the tokens. */
static size_t
s_check_offsets (const char *data, size_t len)
{
    size_t tokens = 0;
    FILE *file = fmemopen ((void *) data, len, "r");
    assert_non_null (file);
    wes_lexer_t *lexers[2] = {wes_lexer_new_buffer (data, len), wes_lexer_new_file (file)};
    for (size_t i = 0; i < 2; i++) {
        size_t line = 1;
        size_t line_at = 0; /* offset of the line's first byte */
        size_t seen = 0;    /* bytes counted so far */
        tokens = 0;
        for (;;) {
            wes_token_t tok;
            assert_int_equal (wes_lexer_next (lexers[i], &tok), 0);
            if (tok.kind == WES_TOK_EOF) {
                break;
            }
            tokens++;
            assert_true (tok.offset >= seen && tok.offset < len);
            for (; seen < tok.offset; seen++) {
                if (data[seen] == '\n') {
                    line++;
                    line_at = seen + 1;
                }
            }
            assert_int_equal (tok.loc.start.line, line);
            assert_int_equal (tok.loc.start.col, tok.offset - line_at + 1);
            if (tok.kind == WES_TOK_NAME || tok.kind <= WES_TOK_RBRACE || tok.kind == WES_TOK_INT) {
                assert_memory_equal (data + tok.offset, tok.text, tok.len);
                assert_int_equal (tok.text[tok.len], '\0');
                assert_int_equal (tok.loc.end.line, line);
                assert_int_equal (tok.loc.end.col, tok.loc.start.col + tok.len);
            }
            if (tok.kind == WES_TOK_STRING && !memchr (tok.text, '\\', tok.len)
                && data[tok.offset + 1] != '"' && !memchr (data + tok.offset + 1, '\\', tok.len)) {
                assert_int_equal (data[tok.offset], '"');
                assert_memory_equal (data + tok.offset + 1, tok.text, tok.len);
                assert_int_equal (data[tok.offset + 1 + tok.len], '"');
                assert_int_equal (tok.loc.end.col, tok.loc.start.col + tok.len + 2);
            }
        }
        wes_lexer_destroy (&lexers[i]);
    }
    fclose (file);
    return tokens;
}

static void
test_offsets (void **state)
{
    (void) state;
    const char *files[] = {
        WES_CONFORMANCE_DIR "/graphql-spec/graphql-js/schema-kitchen-sink.graphql",
        WES_CONFORMANCE_DIR "/wesley-examples/freaky-rls-schema.graphql",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        size_t len;
        char *data = wes_test_read_file (files[i], &len);
        assert_non_null (data);
        if (!memchr (data, '\r', len)) {
            assert_true (s_check_offsets (data, len) > 100);
        }
        free (data);
    }
    /*  Names of 15 to 18 bytes, plain strings (empty too) and integers
        shifted over the read buffer's first edge: each ends before, at
        and after it. */
    static const char snippet[] = "abcdefghijklmno abcdefghijklmnop\tabcdefghijklmnopq,"
                                  "abcdefghijklmnopqr \"\" \"s t\" (x:\"y\") 12,-3 0\n@z{}";
    size_t total = 2 * 16384;
    char *buf = malloc (total);
    assert_non_null (buf);
    for (size_t shift = 16384 - sizeof snippet - 2; shift < 16384 + 2; shift++) {
        memset (buf, ' ', total);
        for (size_t k = 100; k < shift; k += 100) {
            buf[k] = '\n';
        }
        memcpy (buf + shift, snippet, sizeof snippet - 1);
        assert_int_equal (s_check_offsets (buf, total), 18);
    }
    free (buf);
}

/*  Skips the body opening at the first '{' of text with
    wes_lexer_skip_braces, then lexes the next token; the same from a FILE*
    through the read buffer when the text is first shifted by pad spaces.
    Expects the position the full lexer gives just past the matching '}'
    and the same next token. */
static void
s_check_skip (const char *text, size_t pad)
{
    size_t len = strlen (text);
    char *buf = malloc (pad + len);
    assert_non_null (buf);
    memset (buf, ' ', pad);
    memcpy (buf + pad, text, len);
    //  The full lexer: tokens up to the matching '}', then the next one
    wes_lexer_t *full = wes_lexer_new_buffer (buf, pad + len);
    wes_token_t tok;
    size_t depth = 0;
    do {
        assert_int_equal (wes_lexer_next (full, &tok), 0);
        depth += tok.kind == WES_TOK_LBRACE;
        depth -= tok.kind == WES_TOK_RBRACE;
    } while (depth > 0);
    wes_pos_t want_end = tok.loc.end;
    assert_int_equal (wes_lexer_next (full, &tok), 0);
    wes_token_t want_next = tok;
    char *want_text = strdup (tok.text);
    //  Skipping, in memory and streamed
    FILE *file = fmemopen (buf, pad + len, "rb");
    assert_non_null (file);
    wes_lexer_t *skims[2] = {wes_lexer_new_buffer (buf, pad + len), wes_lexer_new_file (file)};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal (wes_lexer_next (skims[i], &tok), 0);
        assert_int_equal (tok.kind, WES_TOK_LBRACE);
        wes_pos_t end;
        assert_int_equal (wes_lexer_skip_braces (skims[i], &end), 0);
        assert_int_equal (end.line, want_end.line);
        assert_int_equal (end.col, want_end.col);
        assert_int_equal (wes_lexer_next (skims[i], &tok), 0);
        assert_int_equal (tok.kind, want_next.kind);
        assert_string_equal (tok.text, want_text);
        assert_int_equal (tok.loc.start.line, want_next.loc.start.line);
        assert_int_equal (tok.loc.start.col, want_next.loc.start.col);
        wes_lexer_destroy (&skims[i]);
    }
    fclose (file);
    free (want_text);
    wes_lexer_destroy (&full);
    free (buf);
}

static void
test_skip_braces (void **state)
{
    (void)state;
    static const char *const bodies[] = {
        "{} next",
        "{ a: Int }\nnext",
        "{\n  a: Int @d(x: {y: {z: [1, {w: 2}]}})\n  b: String = \"}\"\n} next",
        "{ s: String = \"a \\\" } \\\\\" t: Int } next",
        "{ \"\"\"doc with } and { and \\\"\"\" and \"\"\" a: Int } next",
        "{ \"\"\"\r\n  multi\r  line }\n  \"\"\" a: Int }\r\n\r\n  next",
        "{ # a comment with } and \" and \"\"\"\n a: Int } next",
        "{ a: Int # trailing }\r b: Int }\rnext",
        "{\xEF\xBB\xBF a: Int @d(s: \"\xC3\xA9}\") } next",
        "{ a: Int }}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        s_check_skip (bodies[i], 0);
        s_check_skip (bodies[i], 3);
    }
    //  Bodies straddling the read buffer's edges
    for (size_t pad = 16384 - 30; pad < 16384 + 4; pad++) {
        s_check_skip (bodies[5], pad);
        s_check_skip (bodies[3], pad);
    }
    //  A long body: runs of plain bytes longer than the read buffer
    size_t big = 3 * 16384;
    char *text = malloc (big + 16);
    assert_non_null (text);
    memset (text, 'x', big);
    text[0] = '{';
    text[100] = '\n';
    memcpy (text + big, "} after", 8);
    s_check_skip (text, 7);
    free (text);
    //  Errors: no matching '}', a line terminator inside a string
    static const char *const bad[] = {"{ a: Int", "{ a: String = \"x\n\" }", "{ \"\"\" }",
                                      "{ a: String = \"x\\"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wes_lexer_t *lex = wes_lexer_new_buffer (bad[i], strlen (bad[i]));
        wes_token_t tok;
        assert_int_equal (wes_lexer_next (lex, &tok), 0);
        wes_pos_t end;
        assert_int_equal (wes_lexer_skip_braces (lex, &end), -1);
        assert_non_null (wes_lexer_error (lex));
        assert_int_equal (wes_lexer_next (lex, &tok), -1);
        wes_lexer_destroy (&lex);
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_punctuators),   cmocka_unit_test (test_names_and_positions),
        cmocka_unit_test (test_numbers),       cmocka_unit_test (test_strings),
        cmocka_unit_test (test_block_strings), cmocka_unit_test (test_errors),
        cmocka_unit_test (test_token_limit),   cmocka_unit_test (test_streaming),
        cmocka_unit_test (test_skip_braces),
        cmocka_unit_test (test_offsets),
        cmocka_unit_test (test_skip_parens),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
