/*  wes_names.h — naming rules shared by the compiler and its consumers:
    snake_case of GraphQL names, PostgreSQL identifier checks, and generated
    constraint and index names that follow PostgreSQL's own conventions
    (<table>_pkey, <table>_<cols>_key, _fkey, _check, _idx). */
#ifndef WES_NAMES_H
#define WES_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/*  snake_case of a GraphQL name: OrderItem -> order_item, HTTPServer ->
    http_server, userID -> user_id, createdAt -> created_at; a name already
    in snake_case is returned unchanged. Only ASCII letters change case.
    Caller frees. */
char *wes_name_snake (const char *name);

/*  True when name can be a PostgreSQL identifier as is: non-empty and at
    most WES_MAX_IDENT_BYTES bytes (longer names are refused, never
    truncated). */
bool wes_name_fits (const char *name);

/*  A generated name in PostgreSQL's style: table, then each column, then
    label, joined by '_' ("orders_user_id_fkey"; "orders_check" when there
    are no columns). pass > 0 appends the number to the label ("_key1"), as
    PostgreSQL does on a collision. When the result would be longer than
    WES_MAX_IDENT_BYTES it is shortened deterministically: its first bytes
    (cut at a UTF-8 character boundary), '_', and 8 hex digits of SHA-256 of
    the full name, so that different long names stay different.
    Caller frees. */
char *wes_name_generate (const char *table, const char *const *columns, size_t n_columns,
                         const char *label, unsigned pass);

#endif
