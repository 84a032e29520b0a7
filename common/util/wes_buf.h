/*  wes_buf.h — a growable byte buffer for building text (SQL, TypeScript). */
#ifndef WES_BUF_H
#define WES_BUF_H

#include <stddef.h>

typedef struct wes_buf wes_buf_t;

wes_buf_t *wes_buf_new (void);
void wes_buf_destroy (wes_buf_t **self_p);

void wes_buf_append (wes_buf_t *self, const char *data, size_t len);
void wes_buf_puts (wes_buf_t *self, const char *s);
/*  wes_buf_puts of a string literal, its length known at compile time. */
#define wes_buf_lit(self, lit) wes_buf_append ((self), "" lit, sizeof (lit) - 1)
void wes_buf_printf (wes_buf_t *self, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
/*  Appends s as a double-quoted SQL identifier ("a""b"). */
void wes_buf_put_ident (wes_buf_t *self, const char *s);
/*  Appends s as a single-quoted SQL string literal ('it''s'). */
void wes_buf_put_literal (wes_buf_t *self, const char *s);
void wes_buf_reset (wes_buf_t *self);
/*  Keeps the first len bytes (len at most the length). */
void wes_buf_truncate (wes_buf_t *self, size_t len);
/*  Replaces the byte at (below the length) with c. */
void wes_buf_set (wes_buf_t *self, size_t at, char c);

/*  Borrowed, NUL-terminated, valid until the next change. */
const char *wes_buf_data (const wes_buf_t *self);
size_t wes_buf_len (const wes_buf_t *self);
/*  Hands the contents to the caller and empties the buffer. */
char *wes_buf_steal (wes_buf_t *self);

#endif
