/*  wes_bits.h — bit counts for the masks of SIMD scans (the outline's
    line count), without a call into libgcc where the target has no
    popcount instruction (x86-64's baseline has none). */
#ifndef WES_BITS_H
#define WES_BITS_H

#include <stdint.h>

/*  The bits set in x. */
static inline unsigned
wes_bits_count (uint32_t x)
{
    x = x - ((x >> 1) & 0x55555555u);
    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
    x = (x + (x >> 4)) & 0x0f0f0f0fu;
    return (x * 0x01010101u) >> 24;
}

#endif
