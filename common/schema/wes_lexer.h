/*  wes_lexer.h — the GraphQL lexical grammar (current spec and draft). The
    lexer streams: it reads its input through a small fixed read buffer and
    holds no more than the current token, whose text is bounded by
    WES_MAX_TOKEN_BYTES; at most WES_MAX_SDL_BYTES of input are accepted. */
#ifndef WES_LEXER_H
#define WES_LEXER_H

#include <stddef.h>
#include <stdio.h>

#include "../util/wes_mem.h"
#include "wes_ast.h"

typedef enum {
    WES_TOK_EOF,         /* end of input */
    WES_TOK_BANG,        /* ! */
    WES_TOK_DOLLAR,      /* $ */
    WES_TOK_AMP,         /* & */
    WES_TOK_LPAREN,      /* ( */
    WES_TOK_RPAREN,      /* ) */
    WES_TOK_SPREAD,      /* ... */
    WES_TOK_COLON,       /* : */
    WES_TOK_EQUALS,      /* = */
    WES_TOK_AT,          /* @ */
    WES_TOK_LBRACKET,    /* [ */
    WES_TOK_RBRACKET,    /* ] */
    WES_TOK_LBRACE,      /* { */
    WES_TOK_PIPE,        /* | */
    WES_TOK_RBRACE,      /* } */
    WES_TOK_NAME,        /* /[_A-Za-z][_0-9A-Za-z]*\/ */
    WES_TOK_INT,         /* IntValue: text holds the digits as written */
    WES_TOK_FLOAT,       /* FloatValue: text holds the number as written */
    WES_TOK_STRING,      /* "...": text holds the decoded value */
    WES_TOK_BLOCK_STRING /* """...""": text holds the dedented BlockStringValue */
} wes_token_kind_t;

/*  The current token. text and len are borrowed from the lexer and valid
    until the next call of wes_lexer_next; text is NUL-terminated (a string
    value never contains a NUL: \u0000 is refused). */
typedef struct {
    wes_token_kind_t kind; /* what it is */
    wes_loc_t loc;         /* first byte, and one past the last byte */
    const char *text;      /* punctuator, name, number or decoded string */
    size_t len;            /* bytes in text */
    size_t offset;         /* byte offset of its first byte in the input */
} wes_token_t;

typedef struct wes_lexer wes_lexer_t;

/*  A lexer over memory (borrowed; must outlive the lexer). Input longer than
    WES_MAX_SDL_BYTES makes the first wes_lexer_next fail. Never NULL. */
wes_lexer_t *wes_lexer_new_buffer (const char *data, size_t len);
/*  A lexer reading file through fread (borrowed, not closed). Never NULL. */
wes_lexer_t *wes_lexer_new_file (FILE *file);
/*  The same for a file already positioned at byte offset of its input, a
    token's first byte at position pos (as an earlier lexer of the whole
    input reported them: wes_token_t offset and loc.start), so that
    positions and the input limit count from the input's start. */
wes_lexer_t *wes_lexer_new_file_at (FILE *file, size_t offset, wes_pos_t pos);
void wes_lexer_destroy (wes_lexer_t **self_p);

/*  Reads the next token into *token. Returns 0, or -1 on a lexical error
    (then wes_lexer_error says what and where, and every later call fails
    again). At the end of input returns 0 with a WES_TOK_EOF token, again and
    again. */
int wes_lexer_next (wes_lexer_t *self, wes_token_t *token) WES_MUST_USE;

/*  Skips what follows a '{' just read, up to and including its matching
    '}', without making tokens: braces are counted outside strings, block
    strings and comments, and line terminators keep the positions right.
    Nothing is checked beyond that (an outline of the document reads the
    bodies it does not need this way; a full parse finds any error inside).
    Returns 0 with *end just past the '}', or -1 at the end of input or at
    a line terminator inside a string (then wes_lexer_error says so). */
int wes_lexer_skip_braces (wes_lexer_t *self, wes_pos_t *end) WES_MUST_USE;
/*  The same for what follows a '(' just read, up to its matching ')' (an
    outline skips the arguments of directives it does not keep). */
int wes_lexer_skip_parens (wes_lexer_t *self, wes_pos_t *end) WES_MUST_USE;

/*  The last error: a message saying what was found ("unterminated string",
    "unexpected character '%'") and where; NULL and 0:0 when none. */
const char *wes_lexer_error (const wes_lexer_t *self);
wes_pos_t wes_lexer_error_pos (const wes_lexer_t *self);

/*  A short human name of a token kind: "'!'", "name", "string", "end of file". */
const char *wes_token_kind_name (wes_token_kind_t kind);

#endif
