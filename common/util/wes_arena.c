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
    s_block_t *head;   /* current block; older blocks hang off next */
    s_block_t *spare;  /* blocks of block_size a reset kept, for reuse */
    size_t block_size; /* default size of a new block */
    size_t used;       /* total bytes handed out */
    size_t reserved;   /* total bytes of blocks, spare ones too */
};

static void *s_take (wes_arena_t *self, size_t size, size_t align);

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

void *
wes_arena_alloc (wes_arena_t *self, size_t size)
{
    wes_assert (self);
    const size_t align = alignof (max_align_t);
    void *p = s_take (self, size ? size : 1, align);
    memset (p, 0, size ? size : 1);
    return p;
}

void *
wes_arena_alloc_bytes (wes_arena_t *self, size_t size)
{
    wes_assert (self);
    return s_take (self, size ? size : 1, 1);
}

char *
wes_arena_strndup (wes_arena_t *self, const char *s, size_t n)
{
    wes_assert (n < SIZE_MAX);
    char *p = s_take (self, n + 1, 1);
    memcpy (p, s, n);
    p[n] = '\0';
    return p;
}

/*  size bytes at an offset that is a multiple of align (a power of two
    no larger than max_align_t's): from the current block when they fit,
    else from a new block (a large request gets a block of its own, and
    the current block keeps being filled). Strings take align 1, so a
    short name costs its bytes and nothing more. */
static void *
s_take (wes_arena_t *self, size_t size, size_t align)
{
    if (self->head) {
        size_t at = (self->head->used + align - 1) & ~(align - 1);
        if (at <= self->head->size && self->head->size - at >= size) {
            self->used += size + (at - self->head->used);
            self->head->used = at + size;
            return self->head->data + at;
        }
    }
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
    self->used += size;
    if (self->head && bsize > self->block_size) {
        b->next = self->head->next;
        self->head->next = b;
    }
    else {
        b->next = self->head;
        self->head = b;
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
}

size_t
wes_arena_used (const wes_arena_t *self)
{
    return self->used;
}

size_t
wes_arena_reserved (const wes_arena_t *self)
{
    return self->reserved;
}
