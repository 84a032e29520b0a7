/*  wes_emit_ts.h — TypeScript types for consumers (D001): one interface per
    table with its row shape, an insert type where defaulted or nullable
    columns are optional, and each enum as a string union. Type-checks under
    `tsc --strict`. */
#ifndef WES_EMIT_TS_H
#define WES_EMIT_TS_H

#include "../util/wes_buf.h"
#include "wes_model.h"

/*  Caller frees the result. */
char *wes_emit_ts (const wes_model_t *model);

/*  The same text streamed to cb (jansson's dump callback shape: 0 ok, -1
    stops) in chunks, never held at once. hash is wes_model_hash (model)'s,
    computed when NULL. Returns 0, or -1 when cb failed. */
int wes_emit_ts_write (const wes_model_t *model, const char *hash, json_dump_callback_t cb,
                       void *arg);

/*  The same in pieces, for a writer that holds one table at a time
    (wes_outputs): the head, each table in name order, the tail. */
typedef struct wes_ts_names wes_ts_names_t;
/*  The TypeScript names of every enum of enums (a model whose tables are
    not read) and of the n_tables tables (SQL and GraphQL names, any order;
    the strings are borrowed and must outlive the names). */
wes_ts_names_t *wes_ts_names_new (const wes_model_t *enums, size_t n_tables,
                                  const char *const *sql_names, const char *const *gql_names);
/*  Names for another thread: base's names (read only; base must outlive
    it), with scratch space of its own for wes_emit_ts_table. */
wes_ts_names_t *wes_ts_names_share (const wes_ts_names_t *base);
void wes_ts_names_destroy (wes_ts_names_t **self_p);
/*  The header (with hash) and the enums. */
void wes_emit_ts_head (wes_buf_t *out, const wes_ts_names_t *names, const char *hash);
/*  One table's row and insert interfaces (t must be one of the named). */
void wes_emit_ts_table (wes_buf_t *out, wes_ts_names_t *names, const wes_table_t *t);
/*  The Tables map. */
void wes_emit_ts_tail (wes_buf_t *out, const wes_ts_names_t *names);

#endif
