/*  wes_emit_ts.h — TypeScript types for consumers (D001): one interface per
    table with its row shape, an insert type where defaulted or nullable
    columns are optional, and each enum as a string union. Type-checks under
    `tsc --strict`. */
#ifndef WES_EMIT_TS_H
#define WES_EMIT_TS_H

#include "wes_model.h"

/*  Caller frees the result. */
char *wes_emit_ts (const wes_model_t *model);

/*  The same text streamed to cb (jansson's dump callback shape: 0 ok, -1
    stops) in chunks, never held at once. hash is wes_model_hash (model)'s,
    computed when NULL. Returns 0, or -1 when cb failed. */
int wes_emit_ts_write (const wes_model_t *model, const char *hash, json_dump_callback_t cb,
                       void *arg);

#endif
