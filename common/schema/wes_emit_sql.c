/* PLACEHOLDER: being written by the emitter work. */
#include "wes_emit_sql.h"
char *wes_emit_sql (const wes_model_t *model) { (void) model; return wes_strdup (""); }
