/*  wes_records.h — Wesley's record of the expressions it creates
    (defaults, CHECKs, partial-index predicates, policies): each one's
    source text next to what PostgreSQL renders for it, in
    wesley.expressions, so that introspection (wes_introspect) reads back
    the text the schema wrote. SQL text only: no database connection. */
#ifndef WES_RECORDS_H
#define WES_RECORDS_H

#include <stddef.h>

#include "util/wes_buf.h"

/*  DDL creating wesley.expressions (idempotent). */
extern const char *const wes_records_ddl;

/*  Appends to out one SQL statement recording an expression Wesley just
    created (kind: "default" with object = column; "check" with object =
    constraint; "index_where" with object = index; "policy_using" and
    "policy_check" with object = policy), with what PostgreSQL renders for
    it now. Run it in the transaction that created the object, after it. */
void wes_records_sql (wes_buf_t *out, const char *kind, const char *table, const char *object,
                      const char *source);

/*  Many records of one kind at once (what schema.sql uses): one INSERT per
    WES_RECORDS_ROWS records, the records as a VALUES list joined
    to the catalog, with the same effect as one wes_records_sql per
    record. Call wes_records_row for each record (rows is the
    caller's counter, 0 before the first), then wes_records_end
    once (nothing when no row was added). kind as above; the (table, object)
    pairs of one kind must be distinct. */
#define WES_RECORDS_ROWS 1000
void wes_records_row (wes_buf_t *out, const char *kind, size_t *rows, const char *table,
                      const char *object, const char *source);
void wes_records_end (wes_buf_t *out, const char *kind, size_t *rows);

#endif
