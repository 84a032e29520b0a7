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
#include "pg/wes_records.h"
#include "util/wes_mem.h"

/*  Reads schema `schema` (NULL: public) over conn. Returns the canonical
    model (caller owns), or NULL with *error set (caller frees). */
wes_model_t *wes_introspect (PGconn *conn, const char *schema, char **error);

/*  Connects with conninfo, introspects, disconnects. Never puts conninfo in
    an error message (it may hold a password). */
wes_model_t *wes_introspect_conninfo (const char *conninfo, const char *schema, char **error);

#endif
