/*  wes_names.c — snake_case, identifier length checks and generated
    constraint/index names. */
#include "wes_names.h"

#include <stdio.h>
#include <string.h>

#include "../util/wes_buf.h"
#include "../util/wes_limits.h"
#include "../util/wes_mem.h"
#include "../util/wes_sha256.h"

static bool
s_upper (char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool
s_lower_or_digit (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

char *
wes_name_snake (const char *name)
{
    wes_assert (name);
    size_t len = strlen (name);
    //  At most one '_' before each byte: written straight into the result
    //  (this runs for every table, enum and camelCase field)
    char *out = wes_alloc (2 * len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (s_upper (c)) {
            /*  A word starts at an upper-case letter that follows a lower-case
                letter or digit (createdAt), or that ends a run of capitals
                and starts a lower-case word (HTTPServer: the S). */
            bool boundary = false;
            if (i > 0) {
                char prev = name[i - 1];
                if (s_lower_or_digit (prev)) {
                    boundary = true;
                }
                else if (s_upper (prev) && i + 1 < len && name[i + 1] >= 'a'
                         && name[i + 1] <= 'z') {
                    boundary = true;
                }
            }
            if (boundary && n > 0 && out[n - 1] != '_') {
                out[n++] = '_';
            }
            out[n++] = (char) (c - 'A' + 'a');
        }
        else {
            out[n++] = c;
        }
    }
    out[n] = '\0';
    return wes_realloc (out, n + 1);
}

bool
wes_name_fits (const char *name)
{
    if (!name) {
        return false;
    }
    size_t len = strlen (name);
    return len > 0 && len <= WES_MAX_IDENT_BYTES;
}

char *
wes_name_generate (const char *table, const char *const *columns, size_t n_columns,
                   const char *label, unsigned pass)
{
    wes_assert (table && label);
    wes_buf_t *buf = wes_buf_new ();
    wes_buf_puts (buf, table);
    for (size_t i = 0; i < n_columns; i++) {
        wes_buf_puts (buf, "_");
        wes_buf_puts (buf, columns[i]);
    }
    wes_buf_puts (buf, "_");
    wes_buf_puts (buf, label);
    if (pass > 0) {
        wes_buf_printf (buf, "%u", pass);
    }
    if (wes_buf_len (buf) > WES_MAX_IDENT_BYTES) {
        char hex[65];
        wes_sha256_hex (wes_buf_data (buf), wes_buf_len (buf), hex);
        size_t keep = WES_MAX_IDENT_BYTES - 9;
        const char *full = wes_buf_data (buf);
        /*  Never cut inside a UTF-8 sequence: back up over continuation
            bytes to the start of the character at the cut. */
        while (keep > 0 && ((unsigned char)full[keep] & 0xC0) == 0x80) {
            keep--;
        }
        char *out = wes_alloc (keep + 10);
        memcpy (out, full, keep);
        out[keep] = '_';
        memcpy (out + keep + 1, hex, 8);
        out[keep + 9] = '\0';
        wes_buf_destroy (&buf);
        return out;
    }
    char *out = wes_buf_steal (buf);
    wes_buf_destroy (&buf);
    return out;
}
