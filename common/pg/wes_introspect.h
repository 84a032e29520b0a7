/*  wes_introspect.h — reads a live database (libpq, pg_catalog) into the
    same schema model the compiler builds, so that `wesley hash --db` and
    `wesley hash SCHEMA` agree for a database built from SCHEMA.

    Scope: the tables, enums, constraints, indexes and policies of one schema
    (default "public"); Wesley's own `wesley` schema is never part of it.

    Expressions (defaults, CHECKs, partial-index predicates, policies) are
    normalised by PostgreSQL when stored (`'x'` becomes `'x'::text`, BETWEEN
    becomes AND), so no text rule can map the SDL's spelling to the
    catalog's. Whenever Wesley creates such an expression it records, in
    wesley.expressions, the source text next to what PostgreSQL rendered for
    it. Introspection uses the recorded source text exactly when the catalog
    still renders the expression the same way; any other expression (created
    by hand, or changed since) appears as PostgreSQL renders it — and so
    shows up as drift. */
#ifndef WES_INTROSPECT_H
#define WES_INTROSPECT_H

#include <libpq-fe.h>

#include "schema/wes_model.h"
#include "util/wes_mem.h"

/*  DDL creating wesley.expressions (idempotent). */
extern const char *const wes_introspect_expressions_ddl;

/*  Reads schema `schema` (NULL: public) over conn. Returns the canonical
    model (caller owns), or NULL with *error set (caller frees). */
wes_model_t *wes_introspect (PGconn *conn, const char *schema, char **error);

/*  Connects with conninfo, introspects, disconnects. Never puts conninfo in
    an error message (it may hold a password). */
wes_model_t *wes_introspect_conninfo (const char *conninfo, const char *schema, char **error);

#include "util/wes_buf.h"

/*  Appends to out one SQL statement recording an expression Wesley just
    created (kind: "default" with object = column; "check" with object =
    constraint; "index_where" with object = index; "policy_using" and
    "policy_check" with object = policy), with what PostgreSQL renders for
    it now. Run it in the transaction that created the object, after it. */
void wes_introspect_record_sql (wes_buf_t *out, const char *kind, const char *table,
                                const char *object, const char *source);

/*  Many records of one kind at once (what schema.sql uses): one INSERT per
    WES_INTROSPECT_RECORD_ROWS records, the records as a VALUES list joined
    to the catalog, with the same effect as one wes_introspect_record_sql per
    record. Call wes_introspect_records_row for each record (rows is the
    caller's counter, 0 before the first), then wes_introspect_records_end
    once (nothing when no row was added). kind as above; the (table, object)
    pairs of one kind must be distinct. */
#define WES_INTROSPECT_RECORD_ROWS 1000
void wes_introspect_records_row (wes_buf_t *out, const char *kind, size_t *rows, const char *table,
                                 const char *object, const char *source);
void wes_introspect_records_end (wes_buf_t *out, const char *kind, size_t *rows);

#endif
