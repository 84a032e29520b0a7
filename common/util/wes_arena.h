/*  wes_arena.h — a bump allocator freed in one call. The parser allocates
    every AST node and string from one arena. */
#ifndef WES_ARENA_H
#define WES_ARENA_H

#include <stddef.h>

typedef struct wes_arena wes_arena_t;

/*  block_size 0 means WES_ARENA_BLOCK_BYTES. Never returns NULL. */
wes_arena_t *wes_arena_new (size_t block_size);
void wes_arena_destroy (wes_arena_t **self_p);

/*  Zeroed, aligned for any type; aborts on out of memory. */
void *wes_arena_alloc (wes_arena_t *self, size_t size);
/*  size bytes with no alignment and not zeroed (packed strings). */
void *wes_arena_alloc_bytes (wes_arena_t *self, size_t size);
/*  Copies n bytes and adds a NUL (byte-aligned: strings pack tightly). */
char *wes_arena_strndup (wes_arena_t *self, const char *s, size_t n);
/*  Forgets every allocation (keeps the blocks of the usual size for reuse). */
void wes_arena_reset (wes_arena_t *self);
/*  Bytes handed out so far and bytes reserved from the system. */
size_t wes_arena_used (const wes_arena_t *self);
size_t wes_arena_reserved (const wes_arena_t *self);

#endif
