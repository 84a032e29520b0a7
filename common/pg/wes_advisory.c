/*  wes_advisory.c — advisory-lock key derivation. */
#include "wes_advisory.h"

#include <stdio.h>
#include <string.h>

#include "util/wes_buf.h"
#include "util/wes_sha256.h"

int64_t
wes_advisory_key (const char *schema, const char *table)
{
    wes_buf_t *name = wes_buf_new ();
    if (table) {
        wes_buf_printf (name, "wesley:%s.%s", schema ? schema : "public", table);
    }
    else {
        wes_buf_puts (name, "wesley:database");
    }
    uint8_t digest[32];
    wes_sha256 (wes_buf_data (name), wes_buf_len (name), digest);
    wes_buf_destroy (&name);
    uint64_t u = 0;
    for (int i = 0; i < 8; i++) {
        u = (u << 8) | digest[i];
    }
    int64_t key;
    memcpy (&key, &u, sizeof key); /* two's complement reinterpretation, no UB */
    return key;
}
