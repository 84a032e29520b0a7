/*  wes_mem.h — allocation that aborts with file and line on out of memory.
    The checkpoint store is the source of truth, so crash-only is safe. */
#ifndef WES_MEM_H
#define WES_MEM_H

#include <stddef.h>

void *wes_mem_alloc_ (size_t size, const char *file, int line);
void *wes_mem_realloc_ (void *ptr, size_t size, const char *file, int line);
char *wes_mem_strdup_ (const char *s, const char *file, int line);
char *wes_mem_strndup_ (const char *s, size_t n, const char *file, int line);

/*  Zeroed allocation; never returns NULL. */
#define wes_alloc(size) wes_mem_alloc_ ((size), __FILE__, __LINE__)
/*  Not zeroed (the caller writes before it reads); never returns NULL. */
void *wes_mem_alloc_raw_ (size_t size, const char *file, int line);
#define wes_alloc_raw(size) wes_mem_alloc_raw_ ((size), __FILE__, __LINE__)
#define wes_realloc(ptr, size) wes_mem_realloc_ ((ptr), (size), __FILE__, __LINE__)
/*  strdup (NULL) returns NULL. */
#define wes_strdup(s) wes_mem_strdup_ ((s), __FILE__, __LINE__)
#define wes_strndup(s, n) wes_mem_strndup_ ((s), (n), __FILE__, __LINE__)
#define wes_new(type) ((type *) wes_alloc (sizeof (type)))

/*  Asserts that stay on in release builds (broken internal invariants only). */
void wes_assert_fail_ (const char *expr, const char *file, int line);
#define wes_assert(expr) ((expr) ? (void) 0 : wes_assert_fail_ (#expr, __FILE__, __LINE__))

#define WES_MUST_USE __attribute__ ((warn_unused_result))

#endif
