/*  wes_sha256.h — SHA-256 through OpenSSL EVP, for the schema hash (D014)
    and advisory-lock keys (D004). */
#ifndef WES_SHA256_H
#define WES_SHA256_H

#include <stddef.h>
#include <stdint.h>

/*  32 raw bytes of SHA-256 of data. */
void wes_sha256 (const void *data, size_t len, uint8_t out[32]);
/*  64 lowercase hex digits and a NUL. */
void wes_sha256_hex (const void *data, size_t len, char out[65]);

#endif
