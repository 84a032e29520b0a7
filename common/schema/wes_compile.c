/* PLACEHOLDER: being written by the compiler work. */
#include "wes_compile.h"
wes_model_t *wes_compile (const wes_ast_doc_t *doc, wes_diag_t *diag) { (void) doc; wes_diag_add (diag, WES_DIAG_ERROR, 0, 0, "compiler not built yet"); return NULL; }
wes_model_t *wes_compile_file (const char *path, wes_diag_t *diag) { (void) path; wes_diag_add (diag, WES_DIAG_ERROR, 0, 0, "compiler not built yet"); return NULL; }
