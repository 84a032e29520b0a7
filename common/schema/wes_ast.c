/* PLACEHOLDER: being written by the parser work. */
#include "wes_ast.h"
wes_ast_doc_t *wes_ast_doc_new (const char *file) { (void) file; return NULL; }
void wes_ast_doc_destroy (wes_ast_doc_t **self_p) { (void) self_p; }
const char *wes_ast_doc_file (const wes_ast_doc_t *self) { (void) self; return ""; }
size_t wes_ast_doc_count (const wes_ast_doc_t *self) { (void) self; return 0; }
json_t *wes_ast_to_json (const wes_ast_doc_t *self) { (void) self; return json_object (); }
