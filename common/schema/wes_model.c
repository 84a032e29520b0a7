/* PLACEHOLDER: being written by the compiler work. */
#include "wes_model.h"
#include <string.h>
void wes_model_destroy (wes_model_t **self_p) { (void) self_p; }
size_t wes_model_table_count (const wes_model_t *self) { (void) self; return 0; }
size_t wes_model_enum_count (const wes_model_t *self) { (void) self; return 0; }
void wes_model_hash (const wes_model_t *self, char hex_out[65]) { (void) self; memset (hex_out, '0', 64); hex_out[64] = 0; }
json_t *wes_model_to_document_json (const wes_model_t *self) { (void) self; return json_object (); }
