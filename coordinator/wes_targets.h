/*  wes_targets.h — the fleet's targets file: one database per line,
        NAME [group=GROUP] CONNINFO
    where CONNINFO (the rest of the line) is a libpq connection string or
    URI. Blank lines and `#` comments (a `#` at the start of a line or after
    whitespace, outside single quotes) are ignored. Names and groups are
    [A-Za-z0-9_.-], at most WES_TARGET_NAME_MAX bytes, names unique. A
    conninfo carrying a password is refused: secrets belong in a passfile
    or service file. Errors name file:line. */
#ifndef WES_TARGETS_H
#define WES_TARGETS_H

#include <stddef.h>

#include "util/wes_mem.h"

#define WES_TARGET_NAME_MAX 64
/*  Most targets one run may drive (the fleet DAG is targets x steps). */
#define WES_TARGETS_MAX 100000

typedef struct wes_targets wes_targets_t;

/*  Parses text (len bytes; need not be NUL-terminated); file names the
    source in errors. NULL with *error (caller frees) on the first error. */
wes_targets_t *wes_targets_parse (const char *text, size_t len, const char *file, char **error);
/*  Reads and parses the file at path. */
wes_targets_t *wes_targets_load (const char *path, char **error);
void wes_targets_destroy (wes_targets_t **self_p);

size_t wes_targets_count (const wes_targets_t *self);
/*  Target i (borrowed). group is NULL when the line gave none. */
const char *wes_targets_name (const wes_targets_t *self, size_t i);
const char *wes_targets_conninfo (const wes_targets_t *self, size_t i);
const char *wes_targets_group (const wes_targets_t *self, size_t i);
/*  Source line of target i (1-based). */
size_t wes_targets_line (const wes_targets_t *self, size_t i);

#endif
