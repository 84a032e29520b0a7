/*  wes_buf.c — growable byte buffer. */
#include "wes_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wes_mem.h"

struct wes_buf {
    char *data;      /* NUL-terminated contents */
    size_t len;      /* bytes used, without the NUL */
    size_t capacity; /* bytes allocated */
};

wes_buf_t *
wes_buf_new (void)
{
    wes_buf_t *self = wes_new (wes_buf_t);
    self->capacity = 256;
    self->data = wes_alloc (self->capacity);
    return self;
}

void
wes_buf_destroy (wes_buf_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    free ((*self_p)->data);
    free (*self_p);
    *self_p = NULL;
}

static void s_grow (wes_buf_t *self, size_t extra) __attribute__ ((noinline));

/*  Room for extra more bytes and the NUL. Small, so that it inlines: the
    emitters append a few bytes at a time, millions of times. */
static inline void
s_reserve (wes_buf_t *self, size_t extra)
{
    if (self->len + extra + 1 > self->capacity) {
        s_grow (self, extra);
    }
}

static void
s_grow (wes_buf_t *self, size_t extra)
{
    size_t cap = self->capacity;
    while (self->len + extra + 1 > cap) {
        cap *= 2;
    }
    self->data = wes_realloc (self->data, cap);
    self->capacity = cap;
}

/*  Declared inline (the header's declaration keeps it external) so that
    the link-time optimiser takes it into the emitters' loops. */
inline void
wes_buf_append (wes_buf_t *self, const char *data, size_t len)
{
    s_reserve (self, len);
    memcpy (self->data + self->len, data, len);
    self->len += len;
    self->data[self->len] = '\0';
}

void
wes_buf_puts (wes_buf_t *self, const char *s)
{
    wes_buf_append (self, s, strlen (s));
}

void
wes_buf_printf (wes_buf_t *self, const char *fmt, ...)
{
    //  Formatted straight into the room there is; formatted again only
    //  when it did not fit
    va_list ap;
    va_start (ap, fmt);
    va_list ap2;
    va_copy (ap2, ap);
    size_t room = self->capacity - self->len;
    int n = vsnprintf (self->data + self->len, room, fmt, ap);
    va_end (ap);
    wes_assert (n >= 0);
    if ((size_t) n >= room) {
        s_reserve (self, (size_t) n);
        vsnprintf (self->data + self->len, (size_t) n + 1, fmt, ap2);
    }
    va_end (ap2);
    self->len += (size_t) n;
}

static void
s_put_quoted (wes_buf_t *self, const char *s, char q)
{
    //  Room for the worst case (every byte a quote, doubled), then one pass
    size_t len = strlen (s);
    s_reserve (self, 2 * len + 2);
    char *o = self->data + self->len;
    *o++ = q;
    if (!memchr (s, q, len)) {
        memcpy (o, s, len); /* the usual case: no quote to double */
        o += len;
        len = 0;
    }
    for (size_t i = 0; i < len; i++) {
        *o++ = s[i];
        if (s[i] == q) {
            *o++ = q; /* the quote, doubled */
        }
    }
    *o++ = q;
    self->len = (size_t) (o - self->data);
    self->data[self->len] = '\0';
}

void
wes_buf_put_ident (wes_buf_t *self, const char *s)
{
    s_put_quoted (self, s, '"');
}

void
wes_buf_put_literal (wes_buf_t *self, const char *s)
{
    /* standard_conforming_strings is on by default since 9.1: a backslash is
       an ordinary character inside '...'. */
    s_put_quoted (self, s, '\'');
}

void
wes_buf_reset (wes_buf_t *self)
{
    self->len = 0;
    self->data[0] = '\0';
}

void
wes_buf_set (wes_buf_t *self, size_t at, char c)
{
    wes_assert (self && at < self->len);
    self->data[at] = c;
}

void
wes_buf_truncate (wes_buf_t *self, size_t len)
{
    wes_assert (self && len <= self->len);
    self->len = len;
    self->data[len] = '\0';
}

const char *
wes_buf_data (const wes_buf_t *self)
{
    return self->data;
}

size_t
wes_buf_len (const wes_buf_t *self)
{
    return self->len;
}

char *
wes_buf_steal (wes_buf_t *self)
{
    char *out = self->data;
    self->capacity = 256;
    self->data = wes_alloc (self->capacity);
    self->len = 0;
    return out;
}
