/*  wes_diag.c — diagnostics list. */
#include "wes_diag.h"

#include <stdarg.h>
#include <stdlib.h>

#include "wes_limits.h"
#include "wes_mem.h"

typedef struct {
    wes_diag_level_t level; /* error or warning */
    uint32_t line;          /* 1-based, 0 = none */
    uint32_t col;           /* 1-based, 0 = none */
    char *message;          /* owned */
} s_item_t;

struct wes_diag {
    char *file;      /* input name, owned */
    s_item_t *items; /* stored diagnostics */
    size_t count;    /* stored */
    size_t errors;   /* all errors, stored or not */
    size_t warnings; /* all warnings, stored or not */
};

wes_diag_t *
wes_diag_new (const char *file)
{
    wes_diag_t *self = wes_new (wes_diag_t);
    self->file = wes_strdup (file ? file : "<input>");
    self->items = wes_alloc (sizeof (s_item_t) * WES_MAX_DIAGNOSTICS);
    return self;
}

void
wes_diag_destroy (wes_diag_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wes_diag_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        free (self->items[i].message);
    }
    free (self->items);
    free (self->file);
    free (self);
    *self_p = NULL;
}

void
wes_diag_add (wes_diag_t *self, wes_diag_level_t level, uint32_t line, uint32_t col,
              const char *fmt, ...)
{
    if (level == WES_DIAG_ERROR) {
        self->errors++;
    }
    else {
        self->warnings++;
    }
    if (self->count >= WES_MAX_DIAGNOSTICS) {
        return;
    }
    char msg[1024];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (msg, sizeof msg, fmt, ap);
    va_end (ap);
    s_item_t *it = &self->items[self->count++];
    it->level = level;
    it->line = line;
    it->col = col;
    it->message = wes_strdup (msg);
}

size_t
wes_diag_errors (const wes_diag_t *self)
{
    return self->errors;
}

size_t
wes_diag_warnings (const wes_diag_t *self)
{
    return self->warnings;
}

size_t
wes_diag_count (const wes_diag_t *self)
{
    return self->count;
}

wes_diag_level_t
wes_diag_level (const wes_diag_t *self, size_t i)
{
    wes_assert (i < self->count);
    return self->items[i].level;
}

uint32_t
wes_diag_line (const wes_diag_t *self, size_t i)
{
    wes_assert (i < self->count);
    return self->items[i].line;
}

uint32_t
wes_diag_col (const wes_diag_t *self, size_t i)
{
    wes_assert (i < self->count);
    return self->items[i].col;
}

const char *
wes_diag_message (const wes_diag_t *self, size_t i)
{
    wes_assert (i < self->count);
    return self->items[i].message;
}

const char *
wes_diag_file (const wes_diag_t *self)
{
    return self->file;
}

void
wes_diag_print (const wes_diag_t *self, FILE *out)
{
    for (size_t i = 0; i < self->count; i++) {
        const s_item_t *it = &self->items[i];
        const char *lv = it->level == WES_DIAG_ERROR ? "error" : "warning";
        if (it->line) {
            fprintf (out, "%s:%u:%u: %s: %s\n", self->file, it->line, it->col, lv, it->message);
        }
        else {
            fprintf (out, "%s: %s: %s\n", self->file, lv, it->message);
        }
    }
    size_t dropped = self->errors + self->warnings - self->count;
    if (dropped) {
        fprintf (out, "%s: note: %zu more diagnostics not shown\n", self->file, dropped);
    }
}
