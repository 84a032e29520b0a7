/*  wes_emit_sql.h — PostgreSQL DDL for a whole model, applying to an empty
    database with `psql -v ON_ERROR_STOP=1 -f`. Deterministic order: enums,
    tables (columns in declaration order, primary key inline), then foreign
    keys, other constraints, indexes, row-level security and policies.
    Every identifier is quoted. */
#ifndef WES_EMIT_SQL_H
#define WES_EMIT_SQL_H

#include "wes_model.h"

/*  Caller frees the result. */
char *wes_emit_sql (const wes_model_t *model);

/*  The same text streamed to cb (jansson's dump callback shape: 0 ok, -1
    stops) in chunks, never held at once. hash is wes_model_hash (model)'s,
    computed when NULL. Returns 0, or -1 when cb failed. */
int wes_emit_sql_write (const wes_model_t *model, const char *hash, json_dump_callback_t cb,
                        void *arg);

#endif
