/*  wes_emit_ts.h — TypeScript types for consumers (D001): one interface per
    table with its row shape, an insert type where defaulted or nullable
    columns are optional, and each enum as a string union. Type-checks under
    `tsc --strict`. */
#ifndef WES_EMIT_TS_H
#define WES_EMIT_TS_H

#include "wes_model.h"

/*  Caller frees the result. */
char *wes_emit_ts (const wes_model_t *model);

#endif
