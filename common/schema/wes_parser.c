/* PLACEHOLDER: being written by the parser work. */
#include "wes_parser.h"
wes_ast_doc_t *wes_parse_file (const char *path, wes_diag_t *diag) { (void) path; wes_diag_add (diag, WES_DIAG_ERROR, 0, 0, "parser not built yet"); return NULL; }
wes_ast_doc_t *wes_parse_buffer (const char *name, const char *data, size_t len, wes_diag_t *diag) { (void) name; (void) data; (void) len; wes_diag_add (diag, WES_DIAG_ERROR, 0, 0, "parser not built yet"); return NULL; }
