/*  wes_diag.h — diagnostics (errors and warnings) with a source location.
    The parser and the compiler report into one list; the CLI prints it as
    FILE:LINE:COL: error: MESSAGE, or as JSON. */
#ifndef WES_DIAG_H
#define WES_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum { WES_DIAG_ERROR, WES_DIAG_WARNING } wes_diag_level_t;

typedef struct wes_diag wes_diag_t;

/*  file is copied; it names the input in every message. */
wes_diag_t *wes_diag_new (const char *file);
void wes_diag_destroy (wes_diag_t **self_p);

/*  line and col are 1-based; 0 means "no position" (whole file). */
void wes_diag_add (wes_diag_t *self, wes_diag_level_t level, uint32_t line, uint32_t col,
                   const char *fmt, ...) __attribute__ ((format (printf, 5, 6)));

size_t wes_diag_errors (const wes_diag_t *self);
size_t wes_diag_warnings (const wes_diag_t *self);
/*  Number of stored diagnostics (at most WES_MAX_DIAGNOSTICS). */
size_t wes_diag_count (const wes_diag_t *self);
/*  Borrowed views of diagnostic i. */
wes_diag_level_t wes_diag_level (const wes_diag_t *self, size_t i);
uint32_t wes_diag_line (const wes_diag_t *self, size_t i);
uint32_t wes_diag_col (const wes_diag_t *self, size_t i);
const char *wes_diag_message (const wes_diag_t *self, size_t i);
const char *wes_diag_file (const wes_diag_t *self);

/*  Prints every diagnostic, one per line: FILE:LINE:COL: error: MESSAGE. */
void wes_diag_print (const wes_diag_t *self, FILE *out);

#endif
