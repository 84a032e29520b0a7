/*  wes_sha256.c — SHA-256 through OpenSSL EVP. */
#include "wes_sha256.h"

#include <openssl/evp.h>

#include "wes_mem.h"

void
wes_sha256 (const void *data, size_t len, uint8_t out[32])
{
    unsigned int n = 0;
    /* EVP_Digest fails only on allocation failure inside OpenSSL. */
    int ok = EVP_Digest (data, len, out, &n, EVP_sha256 (), NULL);
    wes_assert (ok == 1 && n == 32);
}

void
wes_sha256_hex (const void *data, size_t len, char out[65])
{
    static const char digits[] = "0123456789abcdef";
    uint8_t raw[32];
    wes_sha256 (data, len, raw);
    for (int i = 0; i < 32; i++) {
        out[2 * i] = digits[raw[i] >> 4];
        out[2 * i + 1] = digits[raw[i] & 0xf];
    }
    out[64] = '\0';
}
