/*  wes_jsonw.c — JSON streamed in jansson's layout, values encoded by
    jansson. The layout rules are jansson's dump.c: "{" then, for each
    member, a newline and the indentation of the member's depth (nothing
    when compact), the key, ": " (":" when compact), the value, "," between
    members; after the last member a newline and the container's own
    indentation, then "}". An empty container is "{}" or "[]". */
#include "wes_jsonw.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../util/wes_mem.h"

/*  Bytes gathered before they go to the callback. */
#define S_OUT_BYTES (64u * 1024u)
/*  Small integers (ordinals) whose encoding is cached. */
#define S_INT_CACHE 4096

typedef struct {
    const void *key; /* the cached string or value (by pointer), NULL when free */
    size_t depth;    /* values: the depth the encoding is laid out for */
    size_t off;      /* its encoding in enc */
    size_t len;      /* bytes of the encoding; SIZE_MAX: refused as a key */
    uint32_t gen;    /* the writer's generation it was cached in (older: free) */
} s_slot_t;

struct wes_jsonw {
    json_dump_callback_t cb;     /* where output goes */
    void *arg;                   /* cb's argument */
    size_t indent;               /* spaces per level; 0: compact */
    char *out;                   /* pending output */
    size_t out_len;              /* bytes in out */
    bool failed;                 /* cb failed: write nothing more */
    bool *has_items;             /* per open container: a member was written */
    size_t depth;                /* open containers */
    size_t depth_cap;            /* entries in has_items */
    bool after_key;              /* a key was written, its value comes next */
    char *enc;                   /* cached encodings, back to back */
    size_t enc_len;              /* bytes used in enc */
    size_t enc_cap;              /* bytes allocated for enc */
    s_slot_t *slots;             /* cache by pointer: strings (depth 0) and keys (depth 1) */
    size_t n_slots;              /* slots in use */
    size_t cap_slots;            /* power of two */
    s_slot_t *vslots;            /* cache by pointer: jansson values (with depth) */
    size_t n_vslots;             /* vslots in use */
    size_t cap_vslots;           /* power of two */
    uint32_t gen;                /* cache generation (wes_jsonw_forget starts a new one) */
    char ints[S_INT_CACHE][8];   /* cached small integers: length byte, then the digits */
    json_t *jstr;                /* reused jansson string for encoding */
    json_t *jint;                /* reused jansson integer */
    char *scratch;               /* json_dumpb's output */
    size_t scratch_cap;          /* bytes of scratch */
    char lit_true[8], lit_false[8], lit_null[8]; /* jansson's spellings */
};

static void s_put (wes_jsonw_t *self, const char *data, size_t len);
static inline void s_put_byte (wes_jsonw_t *self, char c);
static inline size_t s_plain_len (const char *s);
static void s_put_quoted (wes_jsonw_t *self, const char *s, size_t len, const char *tail,
                          size_t tail_len);
static void s_newline (wes_jsonw_t *self, size_t depth);
static void s_end (wes_jsonw_t *self, const char *closer);
static void s_before_value (wes_jsonw_t *self);
static size_t s_dump (wes_jsonw_t *self, const json_t *value, size_t flags);
static bool s_encode_string (wes_jsonw_t *self, const char *s, bool lossy);
static size_t s_enc_add (wes_jsonw_t *self, const char *data, size_t len);
static s_slot_t *s_slot (s_slot_t **slots, size_t *n, size_t *cap, const void *key, size_t depth,
                         uint32_t gen);
static void s_put_reindented (wes_jsonw_t *self, const char *text, size_t len);

wes_jsonw_t *
wes_jsonw_new (size_t indent, json_dump_callback_t cb, void *arg)
{
    wes_assert (cb);
    wes_jsonw_t *self = wes_new (wes_jsonw_t);
    self->cb = cb;
    self->arg = arg;
    self->indent = indent;
    self->out = wes_alloc (S_OUT_BYTES);
    self->depth_cap = 16;
    self->has_items = wes_alloc (self->depth_cap * sizeof (bool));
    self->enc_cap = 4096;
    self->enc = wes_alloc (self->enc_cap);
    self->cap_slots = 1024;
    self->slots = wes_alloc (self->cap_slots * sizeof (s_slot_t));
    self->cap_vslots = 64;
    self->vslots = wes_alloc (self->cap_vslots * sizeof (s_slot_t));
    self->scratch_cap = 256;
    self->scratch = wes_alloc (self->scratch_cap);
    self->jstr = json_string ("");
    self->jint = json_integer (0);
    wes_assert (self->jstr && self->jint);
    json_t *lit[3] = {json_true (), json_false (), json_null ()};
    char *dst[3] = {self->lit_true, self->lit_false, self->lit_null};
    for (size_t i = 0; i < 3; i++) {
        size_t n = json_dumpb (lit[i], dst[i], sizeof self->lit_true - 1, JSON_ENCODE_ANY);
        wes_assert (n > 0 && n < sizeof self->lit_true);
        dst[i][n] = '\0';
    }
    return self;
}

void
wes_jsonw_destroy (wes_jsonw_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wes_jsonw_t *self = *self_p;
    free (self->out);
    free (self->has_items);
    free (self->enc);
    free (self->slots);
    free (self->vslots);
    free (self->scratch);
    json_decref (self->jstr);
    json_decref (self->jint);
    free (self);
    *self_p = NULL;
}

void
wes_jsonw_object_begin (wes_jsonw_t *self)
{
    s_before_value (self);
    s_put_byte (self, '{');
    if (self->depth + 1 >= self->depth_cap) {
        self->depth_cap *= 2;
        self->has_items = wes_realloc (self->has_items, self->depth_cap * sizeof (bool));
    }
    self->has_items[++self->depth] = false;
}

void
wes_jsonw_object_end (wes_jsonw_t *self)
{
    s_end (self, "}");
}

void
wes_jsonw_array_begin (wes_jsonw_t *self)
{
    s_before_value (self);
    s_put_byte (self, '[');
    if (self->depth + 1 >= self->depth_cap) {
        self->depth_cap *= 2;
        self->has_items = wes_realloc (self->has_items, self->depth_cap * sizeof (bool));
    }
    self->has_items[++self->depth] = false;
}

void
wes_jsonw_array_end (wes_jsonw_t *self)
{
    s_end (self, "]");
}

bool
wes_jsonw_key (wes_jsonw_t *self, const char *key)
{
    wes_assert (self->depth > 0 && !self->after_key && key);
    if (!s_encode_string (self, key, false)) {
        return false;
    }
    if (self->has_items[self->depth]) {
        s_put_byte (self, ',');
    }
    self->has_items[self->depth] = true;
    s_newline (self, self->depth);
    s_put (self, self->scratch, strlen (self->scratch));
    s_put (self, self->indent ? ": " : ":", self->indent ? 2 : 1);
    self->after_key = true;
    return true;
}

bool
wes_jsonw_key_stable (wes_jsonw_t *self, const char *key)
{
    wes_assert (self->depth > 0 && !self->after_key && key);
    size_t plain = s_plain_len (key);
    if (plain != SIZE_MAX) {
        if (self->has_items[self->depth]) {
            s_put_byte (self, ',');
        }
        self->has_items[self->depth] = true;
        s_newline (self, self->depth);
        s_put_quoted (self, key, plain, self->indent ? ": " : ":", self->indent ? 2 : 1);
        self->after_key = true;
        return true;
    }
    //  A key's slot holds its encoding followed by the separator (":" or ": ")
    s_slot_t *slot = s_slot (&self->slots, &self->n_slots, &self->cap_slots, key, 1, self->gen);
    if (!slot->key) {
        slot->key = key;
        if (s_encode_string (self, key, false)) {
            size_t n = strlen (self->scratch);
            slot->off = s_enc_add (self, self->scratch, n);
            s_enc_add (self, self->indent ? ": " : ":", self->indent ? 2 : 1);
            slot->len = self->enc_len - slot->off;
        }
        else {
            slot->len = SIZE_MAX;
        }
    }
    if (slot->len == SIZE_MAX) {
        return false;
    }
    size_t off = slot->off, len = slot->len;
    if (self->has_items[self->depth]) {
        s_put_byte (self, ',');
    }
    self->has_items[self->depth] = true;
    s_newline (self, self->depth);
    s_put (self, self->enc + off, len);
    self->after_key = true;
    return true;
}

void
wes_jsonw_string (wes_jsonw_t *self, const char *s)
{
    if (!s) {
        wes_jsonw_null (self);
        return;
    }
    s_before_value (self);
    wes_jsonw_raw_string (self, s);
}

void
wes_jsonw_string_stable (wes_jsonw_t *self, const char *s)
{
    if (!s) {
        wes_jsonw_null (self);
        return;
    }
    s_before_value (self);
    //  A plain string is copied as it is: cheaper than its cache slot
    size_t plain = s_plain_len (s);
    if (plain != SIZE_MAX) {
        s_put_quoted (self, s, plain, "", 0);
        return;
    }
    s_slot_t *slot = s_slot (&self->slots, &self->n_slots, &self->cap_slots, s, 0, self->gen);
    if (!slot->key) {
        slot->key = s;
        wes_assert (s_encode_string (self, s, true));
        slot->len = strlen (self->scratch);
        slot->off = s_enc_add (self, self->scratch, slot->len);
    }
    s_put (self, self->enc + slot->off, slot->len);
}

void
wes_jsonw_bool (wes_jsonw_t *self, bool b)
{
    s_before_value (self);
    const char *lit = b ? self->lit_true : self->lit_false;
    s_put (self, lit, strlen (lit));
}

void
wes_jsonw_null (wes_jsonw_t *self)
{
    s_before_value (self);
    s_put (self, self->lit_null, strlen (self->lit_null));
}

/*  n as jansson writes it, nothing before it. */
static void
s_int (wes_jsonw_t *self, json_int_t n)
{
    if (n >= 0 && n < S_INT_CACHE && self->ints[n][0] > 0) {
        s_put (self, self->ints[n] + 1, (size_t)self->ints[n][0]);
        return;
    }
    json_integer_set (self->jint, n);
    size_t len = s_dump (self, self->jint, JSON_ENCODE_ANY);
    if (n >= 0 && n < S_INT_CACHE && len < sizeof self->ints[n]) {
        self->ints[n][0] = (char)len;
        memcpy (self->ints[n] + 1, self->scratch, len);
    }
    s_put (self, self->scratch, len);
}

void
wes_jsonw_int (wes_jsonw_t *self, json_int_t n)
{
    s_before_value (self);
    s_int (self, n);
}

void
wes_jsonw_value (wes_jsonw_t *self, const json_t *value)
{
    if (!value) {
        wes_jsonw_null (self);
        return;
    }
    s_before_value (self);
    size_t flags = (self->indent ? JSON_INDENT (self->indent) : JSON_COMPACT) | JSON_SORT_KEYS
                   | JSON_ENCODE_ANY;
    size_t len = s_dump (self, value, flags);
    s_put_reindented (self, self->scratch, len);
}

void
wes_jsonw_value_stable (wes_jsonw_t *self, const json_t *value)
{
    if (!value) {
        wes_jsonw_null (self);
        return;
    }
    s_before_value (self);
    s_slot_t *slot = s_slot (&self->vslots, &self->n_vslots, &self->cap_vslots, value, self->depth,
                            self->gen);
    if (!slot->key) {
        size_t flags = (self->indent ? JSON_INDENT (self->indent) : JSON_COMPACT) | JSON_SORT_KEYS
                       | JSON_ENCODE_ANY;
        size_t len = s_dump (self, value, flags);
        slot->key = value;
        slot->depth = self->depth;
        slot->off = self->enc_len;
        size_t pad = self->depth * self->indent;
        size_t from = 0;
        for (size_t i = 0; i < len; i++) {
            if (self->scratch[i] == '\n') {
                s_enc_add (self, self->scratch + from, i + 1 - from);
                for (size_t k = 0; k < pad; k++) {
                    s_enc_add (self, " ", 1);
                }
                from = i + 1;
            }
        }
        s_enc_add (self, self->scratch + from, len - from);
        slot->len = self->enc_len - slot->off;
    }
    s_put (self, self->enc + slot->off, slot->len);
}

void
wes_jsonw_dumped_stable (wes_jsonw_t *self, const char *text)
{
    if (!text) {
        wes_jsonw_null (self);
        return;
    }
    s_before_value (self);
    s_slot_t *slot = s_slot (&self->vslots, &self->n_vslots, &self->cap_vslots, text, self->depth,
                            self->gen);
    if (!slot->key) {
        slot->key = text;
        slot->off = self->enc_len;
        size_t pad = self->depth * self->indent;
        size_t from = 0, len = strlen (text);
        for (size_t i = 0; i < len; i++) {
            if (text[i] == '\n') {
                s_enc_add (self, text + from, i + 1 - from);
                for (size_t k = 0; k < pad; k++) {
                    s_enc_add (self, " ", 1);
                }
                from = i + 1;
            }
        }
        s_enc_add (self, text + from, len - from);
        slot->len = self->enc_len - slot->off;
    }
    s_put (self, self->enc + slot->off, slot->len);
}

void
wes_jsonw_raw (wes_jsonw_t *self, const char *data, size_t len)
{
    s_put (self, data, len);
}

void
wes_jsonw_value_begin (wes_jsonw_t *self)
{
    wes_assert (self && self->indent == 0);
    s_before_value (self);
}

void
wes_jsonw_raw_string (wes_jsonw_t *self, const char *s)
{
    if (!s) {
        s_put (self, "null", 4);
        return;
    }
    size_t plain = s_plain_len (s);
    if (plain != SIZE_MAX) {
        s_put_quoted (self, s, plain, "", 0);
        return;
    }
    wes_assert (s_encode_string (self, s, true));
    s_put (self, self->scratch, strlen (self->scratch));
}

bool
wes_jsonw_raw_key (wes_jsonw_t *self, const char *key, bool comma)
{
    size_t plain = s_plain_len (key);
    if (plain != SIZE_MAX) {
        if (comma) {
            s_put_byte (self, ',');
        }
        s_put_quoted (self, key, plain, ":", 1);
        return true;
    }
    if (!s_encode_string (self, key, false)) {
        return false;
    }
    if (comma) {
        s_put_byte (self, ',');
    }
    s_put (self, self->scratch, strlen (self->scratch));
    s_put_byte (self, ':');
    return true;
}

void
wes_jsonw_raw_int (wes_jsonw_t *self, json_int_t n)
{
    s_int (self, n);
}

void
wes_jsonw_raw_value (wes_jsonw_t *self, const json_t *value)
{
    wes_assert (self->indent == 0);
    if (!value) {
        s_put (self, "null", 4);
        return;
    }
    size_t len = s_dump (self, value, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    s_put (self, self->scratch, len);
}

int
wes_jsonw_flush (wes_jsonw_t *self)
{
    if (!self->failed && self->out_len > 0) {
        if (self->cb (self->out, self->out_len, self->arg) != 0) {
            self->failed = true;
        }
    }
    self->out_len = 0;
    return self->failed ? -1 : 0;
}

void
wes_jsonw_forget (wes_jsonw_t *self)
{
    wes_assert (self);
    self->gen++;
    if (self->gen == 0) { /* wrapped: no slot may look current */
        memset (self->slots, 0, self->cap_slots * sizeof (s_slot_t));
        memset (self->vslots, 0, self->cap_vslots * sizeof (s_slot_t));
    }
    self->n_slots = 0;
    self->n_vslots = 0;
    self->enc_len = 0;
}

json_t *
wes_json_string_lossy (const char *s)
{
    json_t *j = json_string (s);
    if (j) {
        return j;
    }
    size_t len = strlen (s);
    char *out = wes_alloc (len * 3 + 1);
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t need = *p < 0x80           ? 1
                      : (*p >> 5) == 0x6  ? 2
                      : (*p >> 4) == 0xE  ? 3
                      : (*p >> 3) == 0x1E ? 4
                                          : 0;
        bool ok = need > 0;
        for (size_t k = 1; ok && k < need; k++) {
            ok = (p[k] & 0xC0) == 0x80;
        }
        if (ok) {
            json_t *probe = json_stringn ((const char *)p, need);
            ok = probe != NULL;
            json_decref (probe);
        }
        if (ok) {
            memcpy (out + n, p, need);
            n += need;
            p += need;
        }
        else {
            memcpy (out + n, "\xEF\xBF\xBD", 3);
            n += 3;
            p++;
        }
    }
    j = json_stringn (out, n);
    free (out);
    wes_assert (j);
    return j;
}

/*  One byte of output (punctuation): s_put without the copy. */
static inline void
s_put_byte (wes_jsonw_t *self, char c)
{
    if (self->out_len + 1 > S_OUT_BYTES) {
        (void)wes_jsonw_flush (self);
    }
    self->out[self->out_len++] = c;
}

/*  Appends to the pending output, handing full chunks to the callback. */
static void
s_put (wes_jsonw_t *self, const char *data, size_t len)
{
    if (self->out_len + len > S_OUT_BYTES) {
        (void)wes_jsonw_flush (self);
        if (len > S_OUT_BYTES) {
            if (!self->failed && self->cb (data, len, self->arg) != 0) {
                self->failed = true;
            }
            return;
        }
    }
    memcpy (self->out + self->out_len, data, len);
    self->out_len += len;
}

/*  The length of s when it is printable ASCII without '"' or '\\' (jansson
    writes such a string as it is, between quotes: nothing escaped, nothing
    to validate), else SIZE_MAX. */
static inline size_t
s_plain_len (const char *s)
{
    //  0x20 to 0x7E but '"' (0x22) and '\\' (0x5C); NUL ends the string
    static const unsigned char plain[256] = {
#define S_8(c) [c] = 1, [c + 1] = 1, [c + 2] = 1, [c + 3] = 1, [c + 4] = 1, [c + 5] = 1, \
                   [c + 6] = 1, [c + 7] = 1
        [0x20] = 1, [0x21] = 1, [0x23] = 1, [0x24] = 1, [0x25] = 1, [0x26] = 1, [0x27] = 1,
        S_8 (0x28), S_8 (0x30), S_8 (0x38), S_8 (0x40), S_8 (0x48), S_8 (0x50),
        [0x58] = 1, [0x59] = 1, [0x5A] = 1, [0x5B] = 1, [0x5D] = 1, [0x5E] = 1, [0x5F] = 1,
        S_8 (0x60), S_8 (0x68), S_8 (0x70), [0x78] = 1, [0x79] = 1, [0x7A] = 1,
        [0x7B] = 1, [0x7C] = 1, [0x7D] = 1, [0x7E] = 1,
#undef S_8
    };
    size_t len = 0;
    unsigned char c;
    while (plain[c = (unsigned char) s[len]]) {
        len++;
    }
    return c == '\0' ? len : SIZE_MAX;
}

/*  '"', len bytes of s, '"', then tail: a plain string (s_plain_len) as
    jansson encodes it. */
static void
s_put_quoted (wes_jsonw_t *self, const char *s, size_t len, const char *tail, size_t tail_len)
{
    size_t need = len + 2 + tail_len;
    if (need > S_OUT_BYTES) {
        s_put_byte (self, '"');
        s_put (self, s, len);
        s_put_byte (self, '"');
        s_put (self, tail, tail_len);
        return;
    }
    if (self->out_len + need > S_OUT_BYTES) {
        (void) wes_jsonw_flush (self);
    }
    char *o = self->out + self->out_len;
    o[0] = '"';
    memcpy (o + 1, s, len);
    o[len + 1] = '"';
    memcpy (o + len + 2, tail, tail_len);
    self->out_len += need;
}

static void
s_newline (wes_jsonw_t *self, size_t depth)
{
    if (self->indent == 0) {
        return;
    }
    size_t n = 1 + depth * self->indent;
    if (self->out_len + n > S_OUT_BYTES) {
        (void)wes_jsonw_flush (self);
    }
    if (n > S_OUT_BYTES) {
        s_put (self, "\n", 1);
        for (size_t i = 1; i < n; i++) {
            s_put (self, " ", 1);
        }
        return;
    }
    self->out[self->out_len] = '\n';
    memset (self->out + self->out_len + 1, ' ', n - 1);
    self->out_len += n;
}

/*  Closes the innermost container. */
static void
s_end (wes_jsonw_t *self, const char *closer)
{
    wes_assert (self->depth > 0 && !self->after_key);
    if (self->has_items[self->depth]) {
        s_newline (self, self->depth - 1);
    }
    self->depth--;
    s_put_byte (self, closer[0]);
}

/*  The separator before a value: none after a key or at the top, else (in
    an array) a comma between items and the item's line break. */
static void
s_before_value (wes_jsonw_t *self)
{
    if (self->after_key) {
        self->after_key = false;
        return;
    }
    if (self->depth == 0) {
        return;
    }
    if (self->has_items[self->depth]) {
        s_put_byte (self, ',');
    }
    self->has_items[self->depth] = true;
    s_newline (self, self->depth);
}

/*  json_dumpb of value into scratch (NUL-terminated); returns its length. */
static size_t
s_dump (wes_jsonw_t *self, const json_t *value, size_t flags)
{
    size_t n = json_dumpb (value, self->scratch, self->scratch_cap, flags);
    wes_assert (n > 0);
    if (n >= self->scratch_cap) {
        while (self->scratch_cap <= n) {
            self->scratch_cap *= 2;
        }
        self->scratch = wes_realloc (self->scratch, self->scratch_cap);
        n = json_dumpb (value, self->scratch, self->scratch_cap, flags);
        wes_assert (n > 0 && n < self->scratch_cap);
    }
    self->scratch[n] = '\0';
    return n;
}

/*  jansson's encoding of the string s into scratch. False when jansson
    refuses s (invalid UTF-8) and lossy is off; with lossy, bad bytes
    become U+FFFD. */
static bool
s_encode_string (wes_jsonw_t *self, const char *s, bool lossy)
{
    //  Printable ASCII without '"' or '\\' is its own encoding in jansson
    //  (nothing escaped, nothing to validate): quote it and be done
    size_t len = 0;
    for (unsigned char c; (c = (unsigned char)s[len]) != '\0'; len++) {
        if (c < 0x20 || c > 0x7E || c == '"' || c == '\\') {
            break;
        }
    }
    if (s[len] == '\0') {
        if (len + 3 > self->scratch_cap) {
            while (self->scratch_cap < len + 3) {
                self->scratch_cap *= 2;
            }
            self->scratch = wes_realloc (self->scratch, self->scratch_cap);
        }
        self->scratch[0] = '"';
        memcpy (self->scratch + 1, s, len);
        self->scratch[len + 1] = '"';
        self->scratch[len + 2] = '\0';
        return true;
    }
    if (json_string_set (self->jstr, s) == 0) {
        s_dump (self, self->jstr, JSON_ENCODE_ANY);
        return true;
    }
    if (!lossy) {
        return false;
    }
    json_t *j = wes_json_string_lossy (s);
    s_dump (self, j, JSON_ENCODE_ANY);
    json_decref (j);
    return true;
}

static size_t
s_enc_add (wes_jsonw_t *self, const char *data, size_t len)
{
    if (self->enc_len + len > self->enc_cap) {
        while (self->enc_len + len > self->enc_cap) {
            self->enc_cap *= 2;
        }
        self->enc = wes_realloc (self->enc, self->enc_cap);
    }
    size_t off = self->enc_len;
    memcpy (self->enc + off, data, len);
    self->enc_len += len;
    return off;
}

static size_t
s_ptr_hash (const void *p, size_t depth)
{
    uint64_t h = ((uint64_t)(uintptr_t)p ^ (uint64_t)depth) * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 20);
}

/*  The cache slot for (key, depth): found, or free (key NULL) and ready to
    fill. Grows the table at half full. */
static s_slot_t *
s_slot (s_slot_t **slots, size_t *n, size_t *cap, const void *key, size_t depth, uint32_t gen)
{
    if ((*n + 1) * 2 > *cap) {
        size_t ncap = *cap * 2;
        s_slot_t *fresh = wes_alloc (ncap * sizeof (s_slot_t));
        for (size_t i = 0; i < *cap; i++) {
            const s_slot_t *old = &(*slots)[i];
            if (!old->key || old->gen != gen) {
                continue;
            }
            size_t j = s_ptr_hash (old->key, old->depth) & (ncap - 1);
            while (fresh[j].key) {
                j = (j + 1) & (ncap - 1);
            }
            fresh[j] = *old;
        }
        free (*slots);
        *slots = fresh;
        *cap = ncap;
    }
    size_t mask = *cap - 1;
    size_t i = s_ptr_hash (key, depth) & mask;
    while ((*slots)[i].key && (*slots)[i].gen == gen
           && ((*slots)[i].key != key || (*slots)[i].depth != depth)) {
        i = (i + 1) & mask;
    }
    if (!(*slots)[i].key || (*slots)[i].gen != gen) {
        (*n)++;
        (*slots)[i].key = NULL;
        (*slots)[i].depth = depth;
        (*slots)[i].gen = gen;
    }
    return &(*slots)[i];
}

/*  text as dumped at depth 0, laid out for the current depth: every line
    break is followed by the current depth's indentation. */
static void
s_put_reindented (wes_jsonw_t *self, const char *text, size_t len)
{
    size_t pad = self->depth * self->indent;
    if (pad == 0) {
        s_put (self, text, len);
        return;
    }
    size_t from = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n') {
            s_put (self, text + from, i - from);
            s_newline (self, self->depth);
            from = i + 1;
        }
    }
    s_put (self, text + from, len - from);
}
