/*  wes_parser.h — GraphQL SDL parser: the whole type-system grammar of the
    current GraphQL specification (October 2021 edition and later drafts).
    Input streams through wes_lexer, which holds no more than one token. */
#ifndef WES_PARSER_H
#define WES_PARSER_H

#include <stdbool.h>
#include <stddef.h>

#include "../util/wes_diag.h"
#include "wes_ast.h"

/*  Parses the file at path. On success returns the document (caller owns);
    on any syntax error returns NULL with at least one error in diag, each
    with line:column, what was expected and what was found. "-" reads stdin.
    Never reads more than WES_MAX_SDL_BYTES. */
wes_ast_doc_t *wes_parse_file (const char *path, wes_diag_t *diag);

/*  Same, from memory; name is used in messages. */
wes_ast_doc_t *wes_parse_buffer (const char *name, const char *data, size_t len, wes_diag_t *diag);

/*  A parser that hands out one definition at a time, for a consumer that
    keeps only what it needs of each (wes_compile_file does, so that a big
    schema never exists as one AST). */
typedef struct wes_parser wes_parser_t;

/*  Opens the file at path (not stdin); NULL with an error in diag when it
    cannot be opened. */
wes_parser_t *wes_parser_new_file (const char *path, wes_diag_t *diag);
void wes_parser_destroy (wes_parser_t **self_p);
/*  The next definition, its nodes and strings allocated in arena (the
    caller may reset the arena before the next call), exactly as
    wes_parse_file would build it; NULL at the end of the input or at the
    first syntax error (wes_parser_failed says which). */
const wes_ast_def_t *wes_parser_next (wes_parser_t *self, wes_arena_t *arena);
/*  Goes to definition at of an earlier parse of the same file (its byte
    offset and position): the next wes_parser_next reads from there. 0, or
    -1 (an error in diag) after a syntax error or when the file cannot be
    read there. */
int wes_parser_seek (wes_parser_t *self, const wes_ast_def_t *at);
/*  From now on, the bodies of object, interface and input types are
    skipped, not parsed (wes_lexer_skip_braces): their definitions come
    with has_body set and no fields. An error inside a body goes unseen;
    for an outline of the document that a full parse follows. */
void wes_parser_skip_bodies (wes_parser_t *self);
/*  True when a syntax error was reported into diag. */
bool wes_parser_failed (const wes_parser_t *self);

#endif
