/*  wes_compile.h — turns a parsed SDL document into the schema model:
    the wes_ directive set and its aliases (DESIGN.md section 8), the scalar
    mapping, naming, and validation. */
#ifndef WES_COMPILE_H
#define WES_COMPILE_H

#include "../util/wes_diag.h"
#include "wes_ast.h"
#include "wes_model.h"

/*  Returns the canonical model (caller owns), or NULL when any error was
    reported into diag. Warnings (unknown directives, kept as metadata) do not
    fail the compile. */
wes_model_t *wes_compile (const wes_ast_doc_t *doc, wes_diag_t *diag);

/*  Parse + compile a file in one call (NULL on any error, reported in diag). */
wes_model_t *wes_compile_file (const char *path, wes_diag_t *diag);

#endif
