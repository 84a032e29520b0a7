/*  wes_str.h — string comparison for hot paths. The compiler compares
    short names (directive, argument, column and type names) hundreds of
    thousands of times in a big schema; most differ in their first bytes.
    A call of the C library's vectorised strcmp costs more there than
    these loops, which the compiler inlines. */
#ifndef WES_STR_H
#define WES_STR_H

#include <stdbool.h>

/*  a and b (NUL-terminated) are the same string. */
static inline bool
wes_str_eq (const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

/*  strcmp's order (bytes compared as unsigned char): <0, 0, >0. */
static inline int
wes_str_cmp (const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return (int) (unsigned char) *a - (int) (unsigned char) *b;
}

#endif
