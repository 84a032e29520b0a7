/*  wes_advisory.h — advisory-lock keys (D004). A key is the signed 64-bit
    integer made of the first 8 bytes (big-endian) of SHA-256 of a stable
    name: "wesley:" + the qualified table a step changes, or
    "wesley:database" for steps without one. Every process computes the same
    key without asking anyone. */
#ifndef WES_ADVISORY_H
#define WES_ADVISORY_H

#include <stdint.h>

/*  table may be NULL (database-wide step); schema NULL means "public".
    The name hashed is "wesley:<schema>.<table>" or "wesley:database". */
int64_t wes_advisory_key (const char *schema, const char *table);

#endif
