/*  wes_proto.c — the coordinator <-> worker messages and their codec.
    Encoding goes through msgpack-c's packer; decoding walks the raw bytes
    with a small bounded reader of our own (msgpack-c's unpacker is never
    used), so every count and length is checked before anything is read or
    allocated. */
#include "wes_proto.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

/*  Most entries in the body's map, and most items in any array or map
    nested in it: the largest message has 11 keys, the rest is room for
    keys a newer peer adds. */
#define S_MAX_ENTRIES 64u
/*  Longest map key: ours are one to three bytes. */
#define S_MAX_KEY 64u
/*  Deepest nesting: the body's map is level 1, a value in it (labels, or
    an unknown key's array or map) is level 2 and holds only scalars. */
#define S_MAX_DEPTH 2

/*  What a field holds, which decides how it is packed and read. */
typedef enum {
    F_STR,     /* short string: ids, names, versions (WES_PROTO_MAX_SHORT) */
    F_TEXT,    /* long string: sql, message (bounded by the body) */
    F_U32,     /* unsigned 32-bit integer */
    F_U64,     /* unsigned 64-bit integer */
    F_I64,     /* signed 64-bit integer */
    F_KIND,    /* wes_msg_kind_t */
    F_OUTCOME, /* wes_outcome_t */
    F_LABELS   /* array of short strings (labels, n_labels) */
} s_field_kind_t;

/*  One key of one message type. */
typedef struct {
    const char *key;     /* its map key */
    s_field_kind_t kind; /* what it holds */
    size_t offset;       /* where it lives in wes_msg_t */
    bool optional;       /* strings only: may be absent or nil (NULL) */
} s_field_t;

/*  The keys of one message type. */
typedef struct {
    const s_field_t *fields; /* in encoding order */
    size_t n_fields;         /* how many */
} s_spec_t;

#define S_FIELD(key, kind, member, optional)                                                       \
    {                                                                                              \
        key, kind, offsetof (wes_msg_t, member), optional                                          \
    }

static const s_field_t s_ready_fields[] = {
    S_FIELD ("w", F_STR, worker_id, false), S_FIELD ("v", F_STR, version, false),
    S_FIELD ("c", F_U32, capacity, false),  S_FIELD ("l", F_LABELS, labels, false),
    S_FIELD ("a", F_STR, attempt_id, true),
};
static const s_field_t s_heartbeat_fields[] = {
    S_FIELD ("i", F_U32, interval_ms, false),
    S_FIELD ("n", F_U32, liveness, false),
};
static const s_field_t s_assign_fields[] = {
    S_FIELD ("a", F_STR, attempt_id, false),
    S_FIELD ("e", F_U64, epoch, false),
    S_FIELD ("t", F_STR, target, false),
    S_FIELD ("d", F_STR, conninfo, false),
    S_FIELD ("s", F_STR, step_id, false),
    S_FIELD ("k", F_KIND, kind, false),
    S_FIELD ("q", F_TEXT, sql, false),
    S_FIELD ("lt", F_U32, lock_timeout_ms, false),
    S_FIELD ("st", F_U32, statement_timeout_ms, false),
    S_FIELD ("dl", F_U32, deadline_ms, false),
    S_FIELD ("key", F_I64, lock_key, false),
    S_FIELD ("u", F_STR, run, true),
};
static const s_field_t s_progress_fields[] = {
    S_FIELD ("a", F_STR, attempt_id, false),
    S_FIELD ("e", F_U64, epoch, false),
    S_FIELD ("r", F_I64, rows_done, false),
};
static const s_field_t s_result_fields[] = {
    S_FIELD ("a", F_STR, attempt_id, false),  S_FIELD ("e", F_U64, epoch, false),
    S_FIELD ("o", F_OUTCOME, outcome, false), S_FIELD ("x", F_STR, sqlstate, true),
    S_FIELD ("m", F_TEXT, message, true),     S_FIELD ("ms", F_U64, elapsed_ms, false),
    S_FIELD ("r", F_I64, rows_done, false),
};
static const s_field_t s_disconnect_fields[] = {
    S_FIELD ("m", F_TEXT, message, false),
};

#define S_SPEC(array)                                                                              \
    {                                                                                              \
        array, sizeof (array) / sizeof (array[0])                                                  \
    }
/*  Indexed by wes_msg_type_t. */
static const s_spec_t s_specs[] = {
    {NULL, 0},
    S_SPEC (s_ready_fields),
    S_SPEC (s_heartbeat_fields),
    S_SPEC (s_assign_fields),
    S_SPEC (s_progress_fields),
    S_SPEC (s_result_fields),
    S_SPEC (s_disconnect_fields),
};
#define S_N_TYPES (sizeof (s_specs) / sizeof (s_specs[0]))

/*  What a value's leading bytes say it is. */
typedef enum {
    V_NIL,
    V_BOOL,
    V_UINT, /* any integer >= 0, whatever its encoding */
    V_NEG,  /* any integer < 0 */
    V_FLOAT,
    V_STR,
    V_BIN,
    V_EXT,
    V_ARRAY,
    V_MAP
} s_value_class_t;

/*  One value's head, as read by s_read_head. */
typedef struct {
    s_value_class_t cls; /* what it is */
    size_t at;           /* its offset in the body */
    uint64_t u;          /* V_UINT: the value */
    int64_t i;           /* V_NEG: the value */
    uint32_t len;        /* V_STR, V_BIN, V_EXT: payload bytes; V_ARRAY, V_MAP: count */
    const uint8_t *data; /* V_STR, V_BIN, V_EXT: the payload (already stepped over) */
} s_value_t;

/*  A bounded reader over one body. */
typedef struct {
    const uint8_t *base; /* the body's first byte */
    const uint8_t *pos;  /* the next byte to read */
    const uint8_t *end;  /* one past the body's last byte */
    char *reason;        /* where the first failure is described, or NULL */
    size_t reason_size;  /* its size */
    bool failed;         /* a failure was reported */
} s_reader_t;

static int s_fail (s_reader_t *r, const char *format, ...) __attribute__ ((format (printf, 2, 3)));
static void *s_field_ptr (wes_msg_t *msg, const s_field_t *field);
static const void *s_field_cptr (const wes_msg_t *msg, const s_field_t *field);
static int s_check_limits (const wes_msg_t *msg);
static int s_pack_field (msgpack_packer *pk, const wes_msg_t *msg, const s_field_t *field);
static int s_read_head (s_reader_t *r, s_value_t *v);
static int s_skip (s_reader_t *r, int level);
static int s_read_field (s_reader_t *r, wes_msg_t *msg, const s_field_t *field,
                         const char *type_name);
static int s_read_string (s_reader_t *r, const s_value_t *v, const char *key, size_t max,
                          char **out);
static int s_read_body (s_reader_t *r, wes_msg_t *msg);
static bool s_printable (const s_value_t *v);

wes_msg_t *
wes_msg_new (wes_msg_type_t t)
{
    wes_msg_t *self = wes_new (wes_msg_t);
    self->type = t;
    return self;
}

void
wes_msg_destroy (wes_msg_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wes_msg_t *self = *self_p;
    free (self->worker_id);
    free (self->version);
    for (size_t i = 0; i < self->n_labels; i++) {
        free (self->labels[i]);
    }
    free (self->labels);
    free (self->run);
    free (self->attempt_id);
    free (self->target);
    free (self->conninfo);
    free (self->step_id);
    free (self->sql);
    free (self->sqlstate);
    free (self->message);
    free (self);
    *self_p = NULL;
}

void
wes_msg_set (char **field, const char *value)
{
    wes_assert (field != NULL);
    char *copy = wes_strdup (value);
    free (*field);
    *field = copy;
}

void
wes_msg_add_label (wes_msg_t *self, const char *label)
{
    wes_assert (self != NULL && label != NULL);
    self->labels = wes_realloc (self->labels, (self->n_labels + 1) * sizeof (char *));
    self->labels[self->n_labels++] = wes_strdup (label);
}

int
wes_proto_encode (const wes_msg_t *msg, uint8_t header_out[WES_PROTO_HEADER_SIZE], uint8_t **body,
                  size_t *body_len)
{
    wes_assert (msg != NULL && header_out != NULL && body != NULL && body_len != NULL);
    *body = NULL;
    *body_len = 0;
    if (s_check_limits (msg) != 0) {
        return -1;
    }
    const s_spec_t *spec = &s_specs[msg->type];
    size_t n_keys = 0;
    for (size_t i = 0; i < spec->n_fields; i++) {
        const s_field_t *field = &spec->fields[i];
        if (field->optional && *(char *const *)s_field_cptr (msg, field) == NULL) {
            continue; /* an absent optional string is simply left out */
        }
        n_keys++;
    }
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    int rc = msgpack_pack_map (&pk, n_keys);
    for (size_t i = 0; rc == 0 && i < spec->n_fields; i++) {
        rc = s_pack_field (&pk, msg, &spec->fields[i]);
    }
    if (rc != 0) {
        /*  msgpack_sbuffer_write fails only when realloc does. */
        fprintf (stderr, "wesley: out of memory packing a message at %s:%d\n", __FILE__, __LINE__);
        abort ();
    }
    if (sbuf.size > WES_PROTO_MAX_BODY) {
        msgpack_sbuffer_destroy (&sbuf);
        return -1;
    }
    header_out[0] = 'W';
    header_out[1] = 'S';
    header_out[2] = WES_PROTO_VERSION;
    header_out[3] = (uint8_t)msg->type;
    *body_len = sbuf.size;
    *body = (uint8_t *)msgpack_sbuffer_release (&sbuf);
    return 0;
}

wes_msg_t *
wes_proto_decode (const uint8_t *header, size_t header_len, const uint8_t *body, size_t body_len,
                  char *reason, size_t reason_size)
{
    s_reader_t r = {body, body, body ? body + body_len : body, reason, reason_size, false};
    if (reason && reason_size > 0) {
        reason[0] = '\0';
    }
    if (!header || header_len != WES_PROTO_HEADER_SIZE) {
        s_fail (&r, "header is %zu bytes, not %u", header ? header_len : 0, WES_PROTO_HEADER_SIZE);
        return NULL;
    }
    if (header[0] != 'W' || header[1] != 'S') {
        s_fail (&r, "bad signature");
        return NULL;
    }
    if (header[2] != WES_PROTO_VERSION) {
        s_fail (&r, "version %u not supported", (unsigned)header[2]);
        return NULL;
    }
    if (header[3] == 0 || header[3] >= S_N_TYPES) {
        s_fail (&r, "unknown message type %u", (unsigned)header[3]);
        return NULL;
    }
    if (body_len > WES_PROTO_MAX_BODY) {
        s_fail (&r, "body too large (%zu bytes, limit %u)", body_len, WES_PROTO_MAX_BODY);
        return NULL;
    }
    if (!body) {
        r.base = r.pos = r.end = (const uint8_t *)"";
    }
    wes_msg_t *msg = wes_msg_new ((wes_msg_type_t)header[3]);
    if (s_read_body (&r, msg) != 0) {
        wes_msg_destroy (&msg);
        return NULL;
    }
    return msg;
}

const char *
wes_msg_type_name (wes_msg_type_t t)
{
    switch (t) {
    case WES_MSG_READY:
        return "READY";
    case WES_MSG_HEARTBEAT:
        return "HEARTBEAT";
    case WES_MSG_ASSIGN:
        return "ASSIGN";
    case WES_MSG_PROGRESS:
        return "PROGRESS";
    case WES_MSG_RESULT:
        return "RESULT";
    case WES_MSG_DISCONNECT:
        return "DISCONNECT";
    }
    return "UNKNOWN";
}

const char *
wes_outcome_name (wes_outcome_t o)
{
    switch (o) {
    case WES_OUTCOME_OK:
        return "ok";
    case WES_OUTCOME_SKIPPED:
        return "skipped";
    case WES_OUTCOME_RETRYABLE:
        return "retryable";
    case WES_OUTCOME_FAILED:
        return "failed";
    }
    return "unknown";
}

/*  Describes the first failure only (later ones are consequences). Always
    returns -1 so callers can `return s_fail (...)`. */
static int
s_fail (s_reader_t *r, const char *format, ...)
{
    if (r->failed) {
        return -1;
    }
    r->failed = true;
    if (r->reason && r->reason_size > 0) {
        va_list args;
        va_start (args, format);
        vsnprintf (r->reason, r->reason_size, format, args);
        va_end (args);
    }
    return -1;
}

static void *
s_field_ptr (wes_msg_t *msg, const s_field_t *field)
{
    return (char *)msg + field->offset;
}

static const void *
s_field_cptr (const wes_msg_t *msg, const s_field_t *field)
{
    return (const char *)msg + field->offset;
}

/*  0 when every field of msg's type is within the limits, else -1. */
static int
s_check_limits (const wes_msg_t *msg)
{
    if (msg->type == 0 || (size_t)msg->type >= S_N_TYPES) {
        return -1;
    }
    const s_spec_t *spec = &s_specs[msg->type];
    for (size_t i = 0; i < spec->n_fields; i++) {
        const s_field_t *field = &spec->fields[i];
        const void *p = s_field_cptr (msg, field);
        switch (field->kind) {
        case F_STR:
        case F_TEXT: {
            const char *s = *(char *const *)p;
            size_t max = field->kind == F_STR ? WES_PROTO_MAX_SHORT : WES_PROTO_MAX_BODY;
            if (s && strnlen (s, max + 1) > max) {
                return -1;
            }
            break;
        }
        case F_KIND: {
            wes_msg_kind_t kind = *(const wes_msg_kind_t *)p;
            if ((int)kind < WES_KIND_TX || (int)kind > WES_KIND_BATCHED) {
                return -1;
            }
            break;
        }
        case F_OUTCOME: {
            wes_outcome_t outcome = *(const wes_outcome_t *)p;
            if ((int)outcome < WES_OUTCOME_OK || (int)outcome > WES_OUTCOME_FAILED) {
                return -1;
            }
            break;
        }
        case F_LABELS:
            if (msg->n_labels > WES_PROTO_MAX_LABELS) {
                return -1;
            }
            for (size_t l = 0; l < msg->n_labels; l++) {
                if (!msg->labels[l]
                    || strnlen (msg->labels[l], WES_PROTO_MAX_SHORT + 1) > WES_PROTO_MAX_SHORT) {
                    return -1;
                }
            }
            break;
        case F_U32:
        case F_U64:
        case F_I64:
            break; /* the C type is the limit */
        }
    }
    return 0;
}

/*  Packs one key and its value (nothing for an absent optional string). A
    required string that is NULL is packed as "". */
static int
s_pack_field (msgpack_packer *pk, const wes_msg_t *msg, const s_field_t *field)
{
    const void *p = s_field_cptr (msg, field);
    const char *s = NULL;
    if (field->kind == F_STR || field->kind == F_TEXT) {
        s = *(char *const *)p;
        if (!s && field->optional) {
            return 0;
        }
    }
    size_t key_len = strlen (field->key);
    int rc = msgpack_pack_str (pk, key_len);
    rc = rc ? rc : msgpack_pack_str_body (pk, field->key, key_len);
    if (rc) {
        return rc;
    }
    switch (field->kind) {
    case F_STR:
    case F_TEXT: {
        size_t len = s ? strlen (s) : 0;
        rc = msgpack_pack_str (pk, len);
        return rc ? rc : msgpack_pack_str_body (pk, s ? s : "", len);
    }
    case F_U32:
        return msgpack_pack_uint32 (pk, *(const uint32_t *)p);
    case F_U64:
        return msgpack_pack_uint64 (pk, *(const uint64_t *)p);
    case F_I64:
        return msgpack_pack_int64 (pk, *(const int64_t *)p);
    case F_KIND:
        return msgpack_pack_int (pk, (int)*(const wes_msg_kind_t *)p);
    case F_OUTCOME:
        return msgpack_pack_int (pk, (int)*(const wes_outcome_t *)p);
    case F_LABELS:
        rc = msgpack_pack_array (pk, msg->n_labels);
        for (size_t l = 0; rc == 0 && l < msg->n_labels; l++) {
            size_t len = strlen (msg->labels[l]);
            rc = msgpack_pack_str (pk, len);
            rc = rc ? rc : msgpack_pack_str_body (pk, msg->labels[l], len);
        }
        return rc;
    }
    return -1;
}

/*  Big-endian integers of n bytes at p (the caller checked they exist). */
static uint64_t
s_be (const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

/*  Reads the head of one value: its type byte, the fixed-size bytes that
    follow it, and for strings, binaries and extensions the payload too,
    each checked against the bytes left. For arrays and maps only the
    count is read, checked against the bytes left (each item takes at
    least one byte); the caller applies its own item limit. */
static int
s_read_head (s_reader_t *r, s_value_t *v)
{
    memset (v, 0, sizeof *v);
    v->at = (size_t)(r->pos - r->base);
    if (r->pos >= r->end) {
        return s_fail (r, "truncated: value expected at byte %zu", v->at);
    }
    uint8_t b = *r->pos++;
    size_t left = (size_t)(r->end - r->pos);
    size_t extra = 0;        /* fixed bytes after the type byte */
    const char *what = NULL; /* for the truncation message */
    if (b <= 0x7f) {
        v->cls = V_UINT;
        v->u = b;
        return 0;
    }
    if (b >= 0xe0) {
        v->cls = V_NEG;
        v->i = (int64_t)(int8_t)b;
        return 0;
    }
    if (b >= 0x80 && b <= 0x8f) {
        v->cls = V_MAP;
        v->len = b & 0x0f;
    }
    else if (b >= 0x90 && b <= 0x9f) {
        v->cls = V_ARRAY;
        v->len = b & 0x0f;
    }
    else if (b >= 0xa0 && b <= 0xbf) {
        v->cls = V_STR;
        v->len = b & 0x1f;
    }
    else {
        switch (b) {
        case 0xc0:
            v->cls = V_NIL;
            return 0;
        case 0xc2:
        case 0xc3:
            v->cls = V_BOOL;
            v->u = b == 0xc3;
            return 0;
        case 0xc4:
        case 0xc5:
        case 0xc6:
            v->cls = V_BIN;
            extra = (size_t)1 << (b - 0xc4);
            what = "binary";
            break;
        case 0xc7:
        case 0xc8:
        case 0xc9:
            v->cls = V_EXT;
            extra = (size_t)1 << (b - 0xc7);
            what = "extension";
            break;
        case 0xca:
        case 0xcb:
            v->cls = V_FLOAT;
            if (left < (b == 0xca ? 4u : 8u)) {
                return s_fail (r, "truncated float at byte %zu", v->at);
            }
            r->pos += b == 0xca ? 4 : 8;
            return 0;
        case 0xcc:
        case 0xcd:
        case 0xce:
        case 0xcf: {
            size_t n = (size_t)1 << (b - 0xcc);
            if (left < n) {
                return s_fail (r, "truncated integer at byte %zu", v->at);
            }
            v->cls = V_UINT;
            v->u = s_be (r->pos, n);
            r->pos += n;
            return 0;
        }
        case 0xd0:
        case 0xd1:
        case 0xd2:
        case 0xd3: {
            size_t n = (size_t)1 << (b - 0xd0);
            if (left < n) {
                return s_fail (r, "truncated integer at byte %zu", v->at);
            }
            uint64_t raw = s_be (r->pos, n);
            r->pos += n;
            int64_t value;
            if (n == 1) {
                value = (int8_t)raw;
            }
            else if (n == 2) {
                value = (int16_t)raw;
            }
            else if (n == 4) {
                value = (int32_t)raw;
            }
            else {
                value = raw > (uint64_t)INT64_MAX ? -(int64_t)(~raw) - 1 : (int64_t)raw;
            }
            if (value >= 0) {
                v->cls = V_UINT;
                v->u = (uint64_t)value;
            }
            else {
                v->cls = V_NEG;
                v->i = value;
            }
            return 0;
        }
        case 0xd4:
        case 0xd5:
        case 0xd6:
        case 0xd7:
        case 0xd8: {
            size_t n = 1 + ((size_t)1 << (b - 0xd4));
            if (left < n) {
                return s_fail (r, "truncated extension at byte %zu", v->at);
            }
            v->cls = V_EXT;
            v->len = (uint32_t)n - 1;
            v->data = r->pos + 1;
            r->pos += n;
            return 0;
        }
        case 0xd9:
        case 0xda:
        case 0xdb:
            v->cls = V_STR;
            extra = (size_t)1 << (b - 0xd9);
            what = "string";
            break;
        case 0xdc:
        case 0xdd:
            v->cls = V_ARRAY;
            extra = (size_t)2 << (b - 0xdc);
            what = "array";
            break;
        case 0xde:
        case 0xdf:
            v->cls = V_MAP;
            extra = (size_t)2 << (b - 0xde);
            what = "map";
            break;
        default: /* 0xc1: never used */
            return s_fail (r, "invalid type byte 0x%02x at byte %zu", b, v->at);
        }
        if (left < extra) {
            return s_fail (r, "truncated %s at byte %zu", what, v->at);
        }
        v->len = (uint32_t)s_be (r->pos, extra);
        r->pos += extra;
        left -= extra;
    }
    switch (v->cls) {
    case V_STR:
    case V_BIN:
        if (left < v->len) {
            return s_fail (r, "truncated %s at byte %zu", v->cls == V_STR ? "string" : "binary",
                           v->at);
        }
        v->data = r->pos;
        r->pos += v->len;
        return 0;
    case V_EXT:
        /*  One byte of extension type, then the payload. */
        if (left < 1 || left - 1 < v->len) {
            return s_fail (r, "truncated extension at byte %zu", v->at);
        }
        v->data = r->pos + 1;
        r->pos += 1 + (size_t)v->len;
        return 0;
    case V_ARRAY:
        if (v->len > left) {
            return s_fail (r, "truncated array at byte %zu (%u items, %zu bytes left)", v->at,
                           v->len, left);
        }
        return 0;
    case V_MAP:
        if (v->len > left / 2) {
            return s_fail (r, "truncated map at byte %zu (%u entries, %zu bytes left)", v->at,
                           v->len, left);
        }
        return 0;
    default:
        return 0;
    }
}

/*  Steps over one value at nesting level `level` (a value of the body's
    map is at level 2), bounding its items and depth. */
static int
s_skip (s_reader_t *r, int level)
{
    s_value_t v;
    if (s_read_head (r, &v) != 0) {
        return -1;
    }
    if (v.cls != V_ARRAY && v.cls != V_MAP) {
        return 0;
    }
    if (level > S_MAX_DEPTH) {
        return s_fail (r, "nesting deeper than %d at byte %zu", S_MAX_DEPTH, v.at);
    }
    if (v.len > S_MAX_ENTRIES) {
        return s_fail (r, "%s at byte %zu holds %u items (limit %u)",
                       v.cls == V_ARRAY ? "array" : "map", v.at, v.len, S_MAX_ENTRIES);
    }
    size_t items = v.cls == V_MAP ? 2 * (size_t)v.len : v.len;
    for (size_t i = 0; i < items; i++) {
        if (s_skip (r, level + 1) != 0) {
            return -1;
        }
    }
    return 0;
}

/*  Copies a string value into *out after checking its length and that it
    holds no NUL byte. */
static int
s_read_string (s_reader_t *r, const s_value_t *v, const char *key, size_t max, char **out)
{
    if (v->len > max) {
        return s_fail (r, "key \"%s\" at byte %zu: string of %u bytes exceeds %zu", key, v->at,
                       v->len, max);
    }
    if (memchr (v->data, '\0', v->len) != NULL) {
        return s_fail (r, "key \"%s\" at byte %zu: string holds a NUL byte", key, v->at);
    }
    *out = wes_strndup ((const char *)v->data, v->len);
    return 0;
}

/*  Reads the value of one known key into msg. */
static int
s_read_field (s_reader_t *r, wes_msg_t *msg, const s_field_t *field, const char *type_name)
{
    s_value_t v;
    if (s_read_head (r, &v) != 0) {
        return -1;
    }
    void *p = s_field_ptr (msg, field);
    const char *key = field->key;
    switch (field->kind) {
    case F_STR:
    case F_TEXT: {
        if (v.cls == V_NIL && field->optional) {
            return 0;
        }
        if (v.cls != V_STR) {
            return s_fail (r, "%s key \"%s\" at byte %zu is not a string", type_name, key, v.at);
        }
        size_t max = field->kind == F_STR ? WES_PROTO_MAX_SHORT : WES_PROTO_MAX_BODY;
        return s_read_string (r, &v, key, max, (char **)p);
    }
    case F_LABELS: {
        if (v.cls != V_ARRAY) {
            return s_fail (r, "%s key \"%s\" at byte %zu is not an array", type_name, key, v.at);
        }
        if (v.len > WES_PROTO_MAX_LABELS) {
            return s_fail (r, "too many labels (%u, limit %u)", v.len, WES_PROTO_MAX_LABELS);
        }
        if (v.len > 0) {
            msg->labels = wes_alloc (v.len * sizeof (char *));
        }
        for (uint32_t l = 0; l < v.len; l++) {
            s_value_t item;
            if (s_read_head (r, &item) != 0) {
                return -1;
            }
            if (item.cls != V_STR) {
                return s_fail (r, "label %u at byte %zu is not a string", l, item.at);
            }
            char *label = NULL;
            if (s_read_string (r, &item, key, WES_PROTO_MAX_SHORT, &label) != 0) {
                return -1;
            }
            msg->labels[msg->n_labels++] = label;
        }
        return 0;
    }
    case F_U32:
    case F_U64:
    case F_I64:
    case F_KIND:
    case F_OUTCOME:
        break;
    }
    if (v.cls != V_UINT && v.cls != V_NEG) {
        return s_fail (r, "%s key \"%s\" at byte %zu is not an integer", type_name, key, v.at);
    }
    switch (field->kind) {
    case F_U32:
        if (v.cls == V_NEG || v.u > UINT32_MAX) {
            return s_fail (r, "%s key \"%s\" at byte %zu out of range", type_name, key, v.at);
        }
        *(uint32_t *)p = (uint32_t)v.u;
        return 0;
    case F_U64:
        if (v.cls == V_NEG) {
            return s_fail (r, "%s key \"%s\" at byte %zu is negative", type_name, key, v.at);
        }
        *(uint64_t *)p = v.u;
        return 0;
    case F_I64:
        if (v.cls == V_UINT && v.u > (uint64_t)INT64_MAX) {
            return s_fail (r, "%s key \"%s\" at byte %zu out of range", type_name, key, v.at);
        }
        *(int64_t *)p = v.cls == V_UINT ? (int64_t)v.u : v.i;
        return 0;
    case F_KIND:
        if (v.cls == V_NEG || v.u > WES_KIND_BATCHED) {
            return s_fail (r, "%s key \"%s\" at byte %zu: no such step kind", type_name, key, v.at);
        }
        *(wes_msg_kind_t *)p = (wes_msg_kind_t)v.u;
        return 0;
    case F_OUTCOME:
        if (v.cls == V_NEG || v.u < WES_OUTCOME_OK || v.u > WES_OUTCOME_FAILED) {
            return s_fail (r, "%s key \"%s\" at byte %zu: no such outcome", type_name, key, v.at);
        }
        *(wes_outcome_t *)p = (wes_outcome_t)v.u;
        return 0;
    default:
        return s_fail (r, "internal: field kind %d", (int)field->kind);
    }
}

/*  Reads the body's map into msg: known keys into their fields, unknown
    keys skipped, duplicates refused, required keys checked, nothing left
    over. */
static int
s_read_body (s_reader_t *r, wes_msg_t *msg)
{
    const char *type_name = wes_msg_type_name (msg->type);
    const s_spec_t *spec = &s_specs[msg->type];
    s_value_t map;
    if (r->pos >= r->end) {
        return s_fail (r, "%s body is empty", type_name);
    }
    if (s_read_head (r, &map) != 0) {
        return -1;
    }
    if (map.cls != V_MAP) {
        return s_fail (r, "%s body is not a map", type_name);
    }
    if (map.len > S_MAX_ENTRIES) {
        return s_fail (r, "%s body holds %u keys (limit %u)", type_name, map.len, S_MAX_ENTRIES);
    }
    const uint8_t *seen_key[S_MAX_ENTRIES]; /* every key read so far, for duplicates */
    uint32_t seen_len[S_MAX_ENTRIES];
    uint64_t seen_fields = 0; /* bit i: spec->fields[i] was read */
    for (uint32_t e = 0; e < map.len; e++) {
        s_value_t key;
        if (s_read_head (r, &key) != 0) {
            return -1;
        }
        if (key.cls != V_STR) {
            return s_fail (r, "%s key at byte %zu is not a string", type_name, key.at);
        }
        if (key.len > S_MAX_KEY) {
            return s_fail (r, "%s key at byte %zu is longer than %u bytes", type_name, key.at,
                           S_MAX_KEY);
        }
        for (uint32_t s = 0; s < e; s++) {
            if (seen_len[s] == key.len && memcmp (seen_key[s], key.data, key.len) == 0) {
                return s_fail (r, "%s key at byte %zu is a duplicate%s%.*s%s", type_name, key.at,
                               s_printable (&key) ? " (\"" : "",
                               s_printable (&key) ? (int)key.len : 0, (const char *)key.data,
                               s_printable (&key) ? "\")" : "");
            }
        }
        seen_key[e] = key.data;
        seen_len[e] = key.len;
        const s_field_t *field = NULL;
        size_t index = 0;
        for (size_t f = 0; f < spec->n_fields; f++) {
            const char *name = spec->fields[f].key;
            if (strlen (name) == key.len && memcmp (name, key.data, key.len) == 0) {
                field = &spec->fields[f];
                index = f;
                break;
            }
        }
        if (field) {
            if (s_read_field (r, msg, field, type_name) != 0) {
                return -1;
            }
            seen_fields |= (uint64_t)1 << index;
        }
        else if (s_skip (r, 2) != 0) {
            return -1;
        }
    }
    if (r->pos != r->end) {
        size_t extra = (size_t)(r->end - r->pos);
        return s_fail (r, "%s: %zu trailing byte%s after the map at byte %zu", type_name, extra,
                       extra == 1 ? "" : "s", (size_t)(r->pos - r->base));
    }
    for (size_t f = 0; f < spec->n_fields; f++) {
        if (!spec->fields[f].optional && !(seen_fields & ((uint64_t)1 << f))) {
            return s_fail (r, "%s lacks key \"%s\"", type_name, spec->fields[f].key);
        }
    }
    return 0;
}

/*  True when a string value is short printable ASCII, fit for a reason. */
static bool
s_printable (const s_value_t *v)
{
    if (v->len == 0 || v->len > 16) {
        return false;
    }
    for (uint32_t i = 0; i < v->len; i++) {
        if (v->data[i] < 0x20 || v->data[i] > 0x7e) {
            return false;
        }
    }
    return true;
}
