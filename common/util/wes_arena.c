/*  wes_arena.c — bump allocator over a list of blocks. */
#include "wes_arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wes_limits.h"
#include "wes_mem.h"

typedef struct s_block {
    struct s_block *next; /* previous block, freed with the arena */
    size_t size;          /* usable bytes in data */
    size_t used;          /* bytes handed out from data */
    alignas (max_align_t) unsigned char data[];
} s_block_t;

struct wes_arena {
    unsigned char *cur; /* the current block's first free byte */
    unsigned char *end; /* one past the current block's last byte */
    s_block_t *head;    /* current block; older blocks hang off next */
    s_block_t *spare;   /* blocks of block_size a reset kept, for reuse */
    size_t block_size;  /* default size of a new block */
    size_t used;        /* bytes handed out, but for the current block's */
    size_t reserved;    /* total bytes of blocks, spare ones too */
};

static void *s_take_new (wes_arena_t *self, size_t size, size_t align)
    __attribute__ ((noinline));

/*  size bytes at an offset that is a multiple of align (a power of two
    no larger than max_align_t's): from the current block when they fit
    (inlined: this runs for every AST node and string), else from a new
    block. Strings take align 1, so a short name costs its bytes and
    nothing more. */
static inline void *
s_take (wes_arena_t *self, size_t size, size_t align)
{
    uintptr_t at = ((uintptr_t) self->cur + align - 1) & ~(uintptr_t) (align - 1);
    if (self->cur && at <= (uintptr_t) self->end && (uintptr_t) self->end - at >= size) {
        self->cur = (unsigned char *) at + size;
        return (void *) at;
    }
    return s_take_new (self, size, align);
}

wes_arena_t *
wes_arena_new (size_t block_size)
{
    wes_arena_t *self = wes_new (wes_arena_t);
    self->block_size = block_size ? block_size : WES_ARENA_BLOCK_BYTES;
    return self;
}

void
wes_arena_destroy (wes_arena_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wes_arena_t *self = *self_p;
    s_block_t *lists[2] = {self->head, self->spare};
    for (int i = 0; i < 2; i++) {
        s_block_t *b = lists[i];
        while (b) {
            s_block_t *next = b->next;
            free (b);
            b = next;
        }
    }
    free (self);
    *self_p = NULL;
}

/*  The three allocators are declared inline (the header's declarations
    keep them external) so that the link-time optimiser takes them into
    the parser: a node's memset of a constant size is then a few stores. */
inline void *
wes_arena_alloc (wes_arena_t *self, size_t size)
{
    wes_assert (self);
    const size_t align = alignof (max_align_t);
    void *p = s_take (self, size ? size : 1, align);
    memset (p, 0, size ? size : 1);
    return p;
}

inline void *
wes_arena_alloc_bytes (wes_arena_t *self, size_t size)
{
    wes_assert (self);
    return s_take (self, size ? size : 1, 1);
}

inline char *
wes_arena_strndup (wes_arena_t *self, const char *s, size_t n)
{
    wes_assert (n < SIZE_MAX);
    char *p = s_take (self, n + 1, 1);
    memcpy (p, s, n);
    p[n] = '\0';
    return p;
}

/*  The slow way of s_take: a new block (a large request gets a block of
    its own, and the current block keeps being filled). */
static void *
s_take_new (wes_arena_t *self, size_t size, size_t align)
{
    (void) align; /* a block's data is aligned for anything */
    size_t bsize = size > self->block_size ? size : self->block_size;
    s_block_t *b;
    if (bsize == self->block_size && self->spare) {
        b = self->spare;
        self->spare = b->next;
    }
    else {
        /*  Not zeroed: wes_arena_alloc zeroes what it hands out, the other
            calls write it. */
        b = wes_alloc_raw (sizeof (s_block_t) + bsize);
        b->size = bsize;
        self->reserved += bsize;
    }
    b->next = NULL;
    b->used = size;
    if (self->head && bsize > self->block_size) {
        //  Behind the current block, which keeps being filled
        self->used += size;
        b->next = self->head->next;
        self->head->next = b;
    }
    else {
        if (self->head) {
            self->head->used = (size_t) (self->cur - self->head->data);
            self->used += self->head->used;
        }
        b->next = self->head;
        self->head = b;
        self->cur = b->data + size;
        self->end = b->data + bsize;
    }
    return b->data;
}

void
wes_arena_reset (wes_arena_t *self)
{
    wes_assert (self);
    if (!self->head) {
        return;
    }
    //  Blocks of the usual size wait for reuse (an arena reset again and
    //  again, one per definition, then allocates nothing); bigger ones go
    s_block_t *b = self->head->next;
    while (b) {
        s_block_t *next = b->next;
        if (b->size == self->block_size) {
            b->next = self->spare;
            self->spare = b;
        }
        else {
            self->reserved -= b->size;
            free (b);
        }
        b = next;
    }
    self->head->next = NULL;
    self->head->used = 0;
    self->used = 0;
    self->cur = self->head->data;
    self->end = self->head->data + self->head->size;
}

size_t
wes_arena_used (const wes_arena_t *self)
{
    return self->used + (self->head ? (size_t) (self->cur - self->head->data) : 0);
}

size_t
wes_arena_reserved (const wes_arena_t *self)
{
    return self->reserved;
}
