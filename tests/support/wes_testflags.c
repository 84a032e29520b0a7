/*  wes_testflags.c — the flags a --help text lists. */
#include "wes_testflags.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/wes_mem.h"

void
wes_test_flags_add (wes_test_flags_t *self, const char *name, size_t len)
{
    for (size_t i = 0; i < self->n; i++) {
        if (strlen (self->names[i]) == len && strncmp (self->names[i], name, len) == 0) {
            return;
        }
    }
    assert_true (self->n < WES_TEST_MAX_FLAGS);
    self->names[self->n++] = wes_strndup (name, len);
}

bool
wes_test_flags_has (const wes_test_flags_t *self, const char *name)
{
    for (size_t i = 0; i < self->n; i++) {
        if (strcmp (self->names[i], name) == 0) {
            return true;
        }
    }
    return false;
}

void
wes_test_flags_free (wes_test_flags_t *self)
{
    for (size_t i = 0; i < self->n; i++) {
        free (self->names[i]);
    }
    self->n = 0;
}

void
wes_test_flags_scan_head (wes_test_flags_t *self, const char *head, size_t head_len)
{
    const char *stop = head + head_len;
    for (const char *p = head; p < stop;) {
        while (p < stop && (*p == ' ' || *p == ',')) {
            p++;
        }
        const char *tok = p;
        while (p < stop && *p != ' ' && *p != ',' && *p != '=') {
            p++;
        }
        if (p - tok >= 3 && tok[0] == '-' && tok[1] == '-') {
            wes_test_flags_add (self, tok, (size_t)(p - tok));
        }
        while (p < stop && *p != ' ' && *p != ',') {
            p++;
        }
    }
}

void
wes_test_flags_from_help (wes_test_flags_t *self, const char *help)
{
    for (const char *line = help; line && *line;) {
        const char *end = strchr (line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen (line);
        size_t indent = 0;
        while (indent < len && line[indent] == ' ') {
            indent++;
        }
        if (indent >= 1 && indent <= 4 && indent < len && line[indent] == '-') {
            const char *head = line + indent;
            const char *gap = strstr (head, "  ");
            const char *stop = gap && gap < line + len ? gap : line + len;
            wes_test_flags_scan_head (self, head, (size_t)(stop - head));
        }
        line = end ? end + 1 : NULL;
    }
}
