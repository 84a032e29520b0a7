/*  wes_mem.c — allocation that aborts on out of memory, and release asserts. */
#include "wes_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_oom (size_t size, const char *file, int line)
{
    fprintf (stderr, "wesley: out of memory allocating %zu bytes at %s:%d\n", size, file, line);
    abort ();
}

void *
wes_mem_alloc_ (size_t size, const char *file, int line)
{
    void *p = calloc (1, size ? size : 1);
    if (!p) {
        s_oom (size, file, line);
    }
    return p;
}

void *
wes_mem_alloc_raw_ (size_t size, const char *file, int line)
{
    void *p = malloc (size ? size : 1);
    if (!p) {
        s_oom (size, file, line);
    }
    return p;
}

void *
wes_mem_realloc_ (void *ptr, size_t size, const char *file, int line)
{
    void *p = realloc (ptr, size ? size : 1);
    if (!p) {
        s_oom (size, file, line);
    }
    return p;
}

char *
wes_mem_strdup_ (const char *s, const char *file, int line)
{
    if (!s) {
        return NULL;
    }
    return wes_mem_strndup_ (s, strlen (s), file, line);
}

char *
wes_mem_strndup_ (const char *s, size_t n, const char *file, int line)
{
    if (!s) {
        return NULL;
    }
    char *p = malloc (n + 1);
    if (!p) {
        s_oom (n + 1, file, line);
    }
    memcpy (p, s, n);
    p[n] = '\0';
    return p;
}

void
wes_assert_fail_ (const char *expr, const char *file, int line)
{
    fprintf (stderr, "wesley: internal error: assertion '%s' failed at %s:%d\n", expr, file, line);
    abort ();
}
