/*  wes_jsonw.h — streams a big JSON document to a jansson dump callback
    without building its tree: the caller walks its data and says "object",
    "key", "string", ...; every key and scalar is encoded by jansson
    (json_dumpb of the value), and the writer lays them out exactly as
    json_dumps (tree, JSON_COMPACT or JSON_INDENT (n), with JSON_SORT_KEYS)
    would, provided the caller gives each object's keys in sorted order.
    Strings the caller promises are stable for the writer's lifetime are
    encoded once and copied after that: the big schema files repeat a few
    thousand distinct strings millions of times. */
#ifndef WES_JSONW_H
#define WES_JSONW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct wes_jsonw wes_jsonw_t;

/*  indent 0 writes compact JSON (JSON_COMPACT), else JSON_INDENT (indent).
    Output goes to cb in chunks of up to a few dozen KiB. Never NULL. */
wes_jsonw_t *wes_jsonw_new (size_t indent, json_dump_callback_t cb, void *arg);
void wes_jsonw_destroy (wes_jsonw_t **self_p);

void wes_jsonw_object_begin (wes_jsonw_t *self);
void wes_jsonw_object_end (wes_jsonw_t *self);
void wes_jsonw_array_begin (wes_jsonw_t *self);
void wes_jsonw_array_end (wes_jsonw_t *self);

/*  The next member's key. False (nothing written) when jansson would refuse
    the key (invalid UTF-8) and so drop the member: then skip its value. The
    _stable form caches the encoding by pointer. */
bool wes_jsonw_key (wes_jsonw_t *self, const char *key);
bool wes_jsonw_key_stable (wes_jsonw_t *self, const char *key);

/*  A string (NULL writes null). Invalid UTF-8 becomes U+FFFD, as the
    model's jansson trees do. */
void wes_jsonw_string (wes_jsonw_t *self, const char *s);
void wes_jsonw_string_stable (wes_jsonw_t *self, const char *s);
void wes_jsonw_bool (wes_jsonw_t *self, bool b);
void wes_jsonw_null (wes_jsonw_t *self);
void wes_jsonw_int (wes_jsonw_t *self, json_int_t n);
/*  Any jansson value (NULL writes null), dumped by jansson with sorted keys
    at the current depth. _stable caches by pointer (value not changed while
    the writer lives). */
void wes_jsonw_value (wes_jsonw_t *self, const json_t *value);
void wes_jsonw_value_stable (wes_jsonw_t *self, const json_t *value);

/*  A value already dumped by jansson at depth 0 with this writer's layout
    (json_dumps (value, JSON_INDENT (indent) | JSON_SORT_KEYS), or
    JSON_COMPACT when indent is 0), laid out at the current depth; cached
    by pointer (text not changed while the writer lives). */
void wes_jsonw_dumped_stable (wes_jsonw_t *self, const char *text);

/*  Raw bytes, for a caller that adds a newline after the document. */
void wes_jsonw_raw (wes_jsonw_t *self, const char *data, size_t len);

/*  A value the caller writes itself, compact (an indent 0 writer only):
    wes_jsonw_value_begin puts what goes before a value here (a comma),
    then the caller writes the value's bytes with wes_jsonw_raw and, for
    its strings, wes_jsonw_raw_string: s encoded as wes_jsonw_string
    encodes it (NULL: null), nothing before it. For a fixed shape written
    millions of times, the writer's bookkeeping costs more than the
    bytes. */
void wes_jsonw_value_begin (wes_jsonw_t *self);
void wes_jsonw_raw_string (wes_jsonw_t *self, const char *s);
/*  Inside such a value: a member's key and ':' (after a ',' when comma),
    or false, nothing written, when jansson would refuse the key; an
    integer; any jansson value (compact, keys sorted). */
bool wes_jsonw_raw_key (wes_jsonw_t *self, const char *key, bool comma);
void wes_jsonw_raw_int (wes_jsonw_t *self, json_int_t n);
void wes_jsonw_raw_value (wes_jsonw_t *self, const json_t *value);

/*  Forgets every encoding cached by pointer (the _stable forms): for a
    writer that outlives the strings it was given, e.g. one table's records
    freed before the next table is written. Cheap (a new cache generation). */
void wes_jsonw_forget (wes_jsonw_t *self);

/*  Hands everything written so far to cb. Returns 0, or -1 when cb failed
    (now or earlier: after a failure nothing more is written). */
int wes_jsonw_flush (wes_jsonw_t *self);

/*  A jansson string for s: as json_string, but invalid UTF-8 becomes U+FFFD
    instead of failing. Never NULL. */
json_t *wes_json_string_lossy (const char *s);

#endif
