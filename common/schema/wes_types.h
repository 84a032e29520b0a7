/*  wes_types.h — PostgreSQL types for Wesley: the GraphQL scalar mapping
    (DESIGN.md section 8) and normalisation of type names written by users
    (@wes_column(type: "...")) to the spelling of PostgreSQL's format_type(),
    so that "int4", "integer" and "INT" are one type in the model. */
#ifndef WES_TYPES_H
#define WES_TYPES_H

#include <stddef.h>

/*  The PostgreSQL type of a built-in GraphQL scalar ("ID" -> "uuid",
    "DateTime" -> "timestamp with time zone"), or NULL when the scalar is not
    one Wesley maps. */
const char *wes_type_for_scalar (const char *scalar);

/*  Normalises a user-written PostgreSQL type name, case-insensitively:
    int/int4/integer -> integer, varchar(64) -> character varying(64),
    timestamptz -> timestamp with time zone, numeric(12, 2) ->
    numeric(12,2), T[] -> normalised T plus "[]"; an unknown name (an
    extension type such as citext) is kept, lower-cased, as written.
    Returns 0 and *out_p (caller frees), or -1 and an explanation in err
    (serial types, empty names, malformed modifiers). */
int wes_type_normalize (const char *written, char **out_p, char *err, size_t err_size)
    __attribute__ ((warn_unused_result));

/*  What kind of literal a column of this (normalised) type takes. */
typedef enum {
    WES_TYPE_CLASS_TEXT,    /* text, character varying, character, citext */
    WES_TYPE_CLASS_INTEGER, /* smallint, integer, bigint */
    WES_TYPE_CLASS_NUMBER,  /* numeric, real, double precision */
    WES_TYPE_CLASS_BOOLEAN, /* boolean */
    WES_TYPE_CLASS_OTHER    /* everything else, arrays included */
} wes_type_class_t;

wes_type_class_t wes_type_class (const char *type);

#endif
