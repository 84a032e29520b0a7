/*  wes_parser.h — GraphQL SDL parser: the whole type-system grammar of the
    current GraphQL specification (October 2021 edition and later drafts).
    Input streams through wes_lexer, which holds no more than one token. */
#ifndef WES_PARSER_H
#define WES_PARSER_H

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

#endif
