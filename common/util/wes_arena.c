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
    size_t block_size; /* default size of a new block */
    size_t used;       /* total bytes handed out */
    size_t reserved;   /* total bytes of blocks */
};

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
    s_block_t *b = self->head;
    while (b) {
        s_block_t *next = b->next;
        free (b);
        b = next;
    }
    free (self);
    *self_p = NULL;
}

void *
wes_arena_alloc (wes_arena_t *self, size_t size)
{
    wes_assert (self);
    const size_t align = alignof (max_align_t);
    size_t need = (size + align - 1) & ~(align - 1);
    if (need == 0) {
        need = align;
    }
    if (!self->head || self->head->size - self->head->used < need) {
        size_t bsize = need > self->block_size ? need : self->block_size;
        s_block_t *b = wes_alloc (sizeof (s_block_t) + bsize);
        b->size = bsize;
        b->used = 0;
        /* Keep filling the current block if a large allocation got its own block. */
        if (self->head && bsize > self->block_size) {
            b->next = self->head->next;
            self->head->next = b;
            b->used = need;
            self->used += need;
            self->reserved += bsize;
            return b->data;
        }
        b->next = self->head;
        self->head = b;
        self->reserved += bsize;
    }
    void *p = self->head->data + self->head->used;
    self->head->used += need;
    self->used += need;
    memset (p, 0, need);
    return p;
}

char *
wes_arena_strndup (wes_arena_t *self, const char *s, size_t n)
{
    char *p = wes_arena_alloc (self, n + 1);
    memcpy (p, s, n);
    p[n] = '\0';
    return p;
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
