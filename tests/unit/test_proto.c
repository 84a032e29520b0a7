/*  test_proto.c — the coordinator <-> worker codec: round trips of every
    message type with edge values; every encoding truncated at every byte
    offset is refused; bad headers, oversized bodies, wrong value types for
    every key, missing, duplicate and unknown keys, trailing bytes, nesting,
    limits on both sides. Bodies with deliberate faults are built here with
    msgpack-c's packer, independently of the codec's own key table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "proto/wes_proto.h"

#define S_N_TYPES 6

static const wes_msg_type_t s_types[S_N_TYPES] = {WES_MSG_READY,  WES_MSG_HEARTBEAT,
                                                  WES_MSG_ASSIGN, WES_MSG_PROGRESS,
                                                  WES_MSG_RESULT, WES_MSG_DISCONNECT};

/*  ---- messages ---------------------------------------------------------- */

/*  A string of n copies of c (caller frees). */
static char *
s_repeat (char c, size_t n)
{
    char *s = malloc (n + 1);
    assert_non_null (s);
    memset (s, c, n);
    s[n] = '\0';
    return s;
}

/*  A message of type t with every field of its type set. */
static wes_msg_t *
s_full (wes_msg_type_t t)
{
    wes_msg_t *m = wes_msg_new (t);
    switch (t) {
    case WES_MSG_READY:
        wes_msg_set (&m->worker_id, "worker-7@host.example");
        wes_msg_set (&m->version, "0.1.0");
        m->capacity = 3;
        wes_msg_add_label (m, "eu-west");
        wes_msg_add_label (m, "ssd");
        wes_msg_set (&m->attempt_id, "att-000042");
        break;
    case WES_MSG_HEARTBEAT:
        m->interval_ms = 1000;
        m->liveness = 3;
        break;
    case WES_MSG_ASSIGN:
        wes_msg_set (&m->attempt_id, "att-000043");
        wes_msg_set (&m->run, "3e19d369d0c5");
        m->epoch = 7;
        wes_msg_set (&m->target, "shard-12");
        wes_msg_set (&m->conninfo, "host=db12 port=5432 dbname=app");
        wes_msg_set (&m->step_id, "0002-index-user_email_idx");
        m->kind = WES_KIND_NONTX;
        wes_msg_set (&m->sql, "\\set ON_ERROR_STOP 1\nCREATE INDEX CONCURRENTLY \"i\" ON \"t\" "
                              "(\"c\");\n-- caf\xc3\xa9\n");
        m->lock_timeout_ms = 5000;
        m->statement_timeout_ms = 0;
        m->deadline_ms = 3600000;
        m->lock_key = -8070450532247928832LL;
        break;
    case WES_MSG_PROGRESS:
        wes_msg_set (&m->attempt_id, "att-000044");
        m->epoch = 9;
        m->rows_done = 123456789012LL;
        break;
    case WES_MSG_RESULT:
        wes_msg_set (&m->attempt_id, "att-000045");
        m->epoch = 11;
        m->outcome = WES_OUTCOME_RETRYABLE;
        wes_msg_set (&m->sqlstate, "55P03");
        wes_msg_set (&m->message, "canceling statement due to lock timeout");
        m->elapsed_ms = 5012;
        m->rows_done = 0;
        break;
    case WES_MSG_DISCONNECT:
        wes_msg_set (&m->message, "worker shutting down (SIGTERM)");
        break;
    }
    return m;
}

static void
s_assert_str (const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        assert_ptr_equal (a, b);
    }
    else {
        assert_string_equal (a, b);
    }
}

/*  Every field the type carries is equal in a and b. */
static void
s_assert_same (const wes_msg_t *a, const wes_msg_t *b)
{
    assert_int_equal (a->type, b->type);
    switch (a->type) {
    case WES_MSG_READY:
        s_assert_str (a->worker_id, b->worker_id);
        s_assert_str (a->version, b->version);
        assert_int_equal (a->capacity, b->capacity);
        assert_int_equal (a->n_labels, b->n_labels);
        for (size_t i = 0; i < a->n_labels; i++) {
            assert_string_equal (a->labels[i], b->labels[i]);
        }
        s_assert_str (a->attempt_id, b->attempt_id);
        break;
    case WES_MSG_HEARTBEAT:
        assert_int_equal (a->interval_ms, b->interval_ms);
        assert_int_equal (a->liveness, b->liveness);
        break;
    case WES_MSG_ASSIGN:
        s_assert_str (a->attempt_id, b->attempt_id);
        s_assert_str (a->run, b->run);
        assert_true (a->epoch == b->epoch);
        s_assert_str (a->target, b->target);
        s_assert_str (a->conninfo, b->conninfo);
        s_assert_str (a->step_id, b->step_id);
        assert_int_equal (a->kind, b->kind);
        s_assert_str (a->sql, b->sql);
        assert_int_equal (a->lock_timeout_ms, b->lock_timeout_ms);
        assert_int_equal (a->statement_timeout_ms, b->statement_timeout_ms);
        assert_int_equal (a->deadline_ms, b->deadline_ms);
        assert_true (a->lock_key == b->lock_key);
        break;
    case WES_MSG_PROGRESS:
        s_assert_str (a->attempt_id, b->attempt_id);
        assert_true (a->epoch == b->epoch);
        assert_true (a->rows_done == b->rows_done);
        break;
    case WES_MSG_RESULT:
        s_assert_str (a->attempt_id, b->attempt_id);
        assert_true (a->epoch == b->epoch);
        assert_int_equal (a->outcome, b->outcome);
        s_assert_str (a->sqlstate, b->sqlstate);
        s_assert_str (a->message, b->message);
        assert_true (a->elapsed_ms == b->elapsed_ms);
        assert_true (a->rows_done == b->rows_done);
        break;
    case WES_MSG_DISCONNECT:
        s_assert_str (a->message, b->message);
        break;
    }
}

/*  Decodes from exactly sized copies (so the sanitizer sees any overread);
    returns the message or NULL with the reason in reason. */
static wes_msg_t *
s_decode (const uint8_t *header, size_t header_len, const uint8_t *body, size_t body_len,
          char *reason, size_t reason_size)
{
    uint8_t *h = malloc (header_len ? header_len : 1);
    uint8_t *b = malloc (body_len ? body_len : 1);
    assert_non_null (h);
    assert_non_null (b);
    if (header_len) {
        memcpy (h, header, header_len);
    }
    if (body_len) {
        memcpy (b, body, body_len);
    }
    reason[0] = '\0';
    wes_msg_t *m = wes_proto_decode (h, header_len, b, body_len, reason, reason_size);
    free (h);
    free (b);
    if (m) {
        assert_string_equal (reason, "");
    }
    else {
        assert_true (strlen (reason) > 0);
    }
    return m;
}

/*  Encodes m, decodes it, checks equality and that re-encoding gives the
    same bytes. */
static void
s_round_trip (const wes_msg_t *m)
{
    uint8_t header[WES_PROTO_HEADER_SIZE];
    uint8_t *body = NULL;
    size_t len = 0;
    assert_int_equal (wes_proto_encode (m, header, &body, &len), 0);
    assert_non_null (body);
    assert_true (len > 0 && len <= WES_PROTO_MAX_BODY);
    assert_int_equal (header[0], 'W');
    assert_int_equal (header[1], 'S');
    assert_int_equal (header[2], WES_PROTO_VERSION);
    assert_int_equal (header[3], m->type);
    char reason[256];
    wes_msg_t *back = s_decode (header, sizeof header, body, len, reason, sizeof reason);
    if (!back) {
        fail_msg ("%s does not decode: %s", wes_msg_type_name (m->type), reason);
    }
    s_assert_same (m, back);
    uint8_t header2[WES_PROTO_HEADER_SIZE];
    uint8_t *body2 = NULL;
    size_t len2 = 0;
    assert_int_equal (wes_proto_encode (back, header2, &body2, &len2), 0);
    assert_memory_equal (header, header2, sizeof header);
    assert_int_equal (len, len2);
    assert_memory_equal (body, body2, len);
    free (body);
    free (body2);
    wes_msg_destroy (&back);
    assert_null (back);
}

/*  Encoding m fails and allocates nothing. */
static void
s_encode_refused (const wes_msg_t *m)
{
    uint8_t header[WES_PROTO_HEADER_SIZE];
    uint8_t *body = (uint8_t *)"sentinel";
    size_t len = 99;
    assert_int_equal (wes_proto_encode (m, header, &body, &len), -1);
    assert_null (body);
    assert_int_equal (len, 0);
}

/*  ---- hand-built bodies ------------------------------------------------- */

/*  What a key of a message type holds, as this test sees it. */
typedef enum {
    C_STR,     /* required string */
    C_OPTSTR,  /* optional string: absent or nil is NULL */
    C_U32,     /* unsigned 32-bit */
    C_U64,     /* unsigned 64-bit */
    C_I64,     /* signed 64-bit */
    C_KIND,    /* 0..2 */
    C_OUTCOME, /* 1..4 */
    C_LABELS   /* array of strings */
} s_class_t;

typedef struct {
    const char *key;
    s_class_t cls;
} s_key_t;

typedef struct {
    const s_key_t *keys;
    size_t n;
} s_keys_t;

static const s_key_t s_ready_keys[] = {
    {"w", C_STR}, {"v", C_STR}, {"c", C_U32}, {"l", C_LABELS}, {"a", C_OPTSTR}};
static const s_key_t s_heartbeat_keys[] = {{"i", C_U32}, {"n", C_U32}};
static const s_key_t s_assign_keys[] = {{"a", C_STR},  {"e", C_U64},  {"t", C_STR},  {"d", C_STR},
                                        {"s", C_STR},  {"k", C_KIND}, {"q", C_STR},  {"lt", C_U32},
                                        {"st", C_U32}, {"dl", C_U32}, {"key", C_I64}};
static const s_key_t s_progress_keys[] = {{"a", C_STR}, {"e", C_U64}, {"r", C_I64}};
static const s_key_t s_result_keys[] = {{"a", C_STR},    {"e", C_U64},    {"o", C_OUTCOME},
                                        {"x", C_OPTSTR}, {"m", C_OPTSTR}, {"ms", C_U64},
                                        {"r", C_I64}};
static const s_key_t s_disconnect_keys[] = {{"m", C_STR}};

static s_keys_t
s_keys_of (wes_msg_type_t t)
{
    switch (t) {
    case WES_MSG_READY:
        return (s_keys_t){s_ready_keys, 5};
    case WES_MSG_HEARTBEAT:
        return (s_keys_t){s_heartbeat_keys, 2};
    case WES_MSG_ASSIGN:
        return (s_keys_t){s_assign_keys, 11};
    case WES_MSG_PROGRESS:
        return (s_keys_t){s_progress_keys, 3};
    case WES_MSG_RESULT:
        return (s_keys_t){s_result_keys, 7};
    case WES_MSG_DISCONNECT:
        return (s_keys_t){s_disconnect_keys, 1};
    }
    return (s_keys_t){NULL, 0};
}

/*  Values a test may put under a key. */
typedef enum {
    X_VALID, /* a valid value of the key's class */
    X_ZERO,
    X_ONE,
    X_TWO,
    X_THREE,
    X_FIVE,
    X_NEG,      /* -1 */
    X_INT_MIN,  /* INT64_MIN */
    X_BIG,      /* 2^32 */
    X_HUGE,     /* 2^64 - 1 */
    X_U64_ONE,  /* 1 as uint64 (non-canonical) */
    X_I8_ONE,   /* 1 as int8 (non-canonical) */
    X_STR,      /* "1" */
    X_EMPTYSTR, /* "" */
    X_NIL,
    X_BOOL,
    X_FLOAT,
    X_DOUBLE,
    X_BIN,
    X_EXT,
    X_FIXEXT,
    X_EMPTYARRAY,
    X_ARRAY_STR,  /* ["x", "yy"] */
    X_ARRAY_INT,  /* [1] */
    X_NESTED,     /* [[]] */
    X_MAP,        /* {"k": 1} */
    X_MAP_NESTED, /* {"k": {}} */
    X_COUNT
} s_value_t;

static void
s_pack_cstr (msgpack_packer *pk, const char *s)
{
    size_t len = strlen (s);
    assert_int_equal (msgpack_pack_str (pk, len), 0);
    assert_int_equal (msgpack_pack_str_body (pk, s, len), 0);
}

static void
s_pack_value (msgpack_packer *pk, s_class_t cls, s_value_t x)
{
    switch (x) {
    case X_VALID:
        switch (cls) {
        case C_STR:
        case C_OPTSTR:
            s_pack_cstr (pk, "value");
            return;
        case C_U32:
            msgpack_pack_uint32 (pk, 4000000000u);
            return;
        case C_U64:
            msgpack_pack_uint64 (pk, 1ull << 40);
            return;
        case C_I64:
            msgpack_pack_int64 (pk, -5);
            return;
        case C_KIND:
            msgpack_pack_int (pk, 2);
            return;
        case C_OUTCOME:
            msgpack_pack_int (pk, 4);
            return;
        case C_LABELS:
            msgpack_pack_array (pk, 1);
            s_pack_cstr (pk, "lbl");
            return;
        }
        return;
    case X_ZERO:
        msgpack_pack_int (pk, 0);
        return;
    case X_ONE:
        msgpack_pack_int (pk, 1);
        return;
    case X_TWO:
        msgpack_pack_int (pk, 2);
        return;
    case X_THREE:
        msgpack_pack_int (pk, 3);
        return;
    case X_FIVE:
        msgpack_pack_int (pk, 5);
        return;
    case X_NEG:
        msgpack_pack_int (pk, -1);
        return;
    case X_INT_MIN:
        msgpack_pack_int64 (pk, INT64_MIN);
        return;
    case X_BIG:
        msgpack_pack_uint64 (pk, 1ull << 32);
        return;
    case X_HUGE:
        msgpack_pack_uint64 (pk, UINT64_MAX);
        return;
    case X_U64_ONE:
        msgpack_pack_fix_uint64 (pk, 1);
        return;
    case X_I8_ONE:
        msgpack_pack_fix_int8 (pk, 1);
        return;
    case X_STR:
        s_pack_cstr (pk, "1");
        return;
    case X_EMPTYSTR:
        s_pack_cstr (pk, "");
        return;
    case X_NIL:
        msgpack_pack_nil (pk);
        return;
    case X_BOOL:
        msgpack_pack_true (pk);
        return;
    case X_FLOAT:
        msgpack_pack_float (pk, 1.0f);
        return;
    case X_DOUBLE:
        msgpack_pack_double (pk, 1.0);
        return;
    case X_BIN:
        msgpack_pack_bin (pk, 3);
        msgpack_pack_bin_body (pk, "abc", 3);
        return;
    case X_EXT:
        msgpack_pack_ext (pk, 5, 7);
        msgpack_pack_ext_body (pk, "abcde", 5);
        return;
    case X_FIXEXT:
        msgpack_pack_ext (pk, 4, 1);
        msgpack_pack_ext_body (pk, "abcd", 4);
        return;
    case X_EMPTYARRAY:
        msgpack_pack_array (pk, 0);
        return;
    case X_ARRAY_STR:
        msgpack_pack_array (pk, 2);
        s_pack_cstr (pk, "x");
        s_pack_cstr (pk, "yy");
        return;
    case X_ARRAY_INT:
        msgpack_pack_array (pk, 1);
        msgpack_pack_int (pk, 1);
        return;
    case X_NESTED:
        msgpack_pack_array (pk, 1);
        msgpack_pack_array (pk, 0);
        return;
    case X_MAP:
        msgpack_pack_map (pk, 1);
        s_pack_cstr (pk, "k");
        msgpack_pack_int (pk, 1);
        return;
    case X_MAP_NESTED:
        msgpack_pack_map (pk, 1);
        s_pack_cstr (pk, "k");
        msgpack_pack_map (pk, 0);
        return;
    case X_COUNT:
        break;
    }
    fail_msg ("bad test value %d", (int)x);
}

/*  Whether the codec must accept value x under a key of class cls. */
static bool
s_accepts (s_class_t cls, s_value_t x)
{
    if (x == X_VALID) {
        return true;
    }
    bool small = x == X_ZERO || x == X_ONE || x == X_TWO || x == X_THREE || x == X_FIVE
                 || x == X_U64_ONE || x == X_I8_ONE;
    switch (cls) {
    case C_STR:
        return x == X_STR || x == X_EMPTYSTR;
    case C_OPTSTR:
        return x == X_STR || x == X_EMPTYSTR || x == X_NIL;
    case C_U32:
        return small;
    case C_U64:
        return small || x == X_BIG || x == X_HUGE;
    case C_I64:
        return small || x == X_BIG || x == X_NEG || x == X_INT_MIN;
    case C_KIND:
        return x == X_ZERO || x == X_ONE || x == X_TWO || x == X_U64_ONE || x == X_I8_ONE;
    case C_OUTCOME:
        return x == X_ONE || x == X_TWO || x == X_THREE || x == X_U64_ONE || x == X_I8_ONE;
    case C_LABELS:
        return x == X_EMPTYARRAY || x == X_ARRAY_STR;
    }
    return false;
}

/*  How to build one body. */
typedef struct {
    wes_msg_type_t type;
    int omit;        /* index of a key left out, or -1 */
    int odd;         /* index of a key given `value`, or -1 */
    s_value_t value; /* the odd key's value */
    int dup;         /* index of a key written twice, or -1 */
    int unknown;     /* how many unknown keys to add */
    s_value_t unknown_value;
} s_build_t;

static s_build_t
s_plain (wes_msg_type_t t)
{
    return (s_build_t){t, -1, -1, X_VALID, -1, 0, X_NIL};
}

/*  Packs the body b describes (caller frees *body). */
static void
s_build (const s_build_t *b, uint8_t **body, size_t *len)
{
    s_keys_t keys = s_keys_of (b->type);
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    size_t n = keys.n - (b->omit >= 0) + (b->dup >= 0) + (size_t)b->unknown;
    msgpack_pack_map (&pk, n);
    for (int i = 0; i < b->unknown; i++) {
        char key[32];
        snprintf (key, sizeof key, "future_%d", i);
        s_pack_cstr (&pk, key);
        s_pack_value (&pk, C_STR, b->unknown_value);
    }
    for (size_t i = 0; i < keys.n; i++) {
        if ((int)i == b->omit) {
            continue;
        }
        int times = (int)i == b->dup ? 2 : 1;
        for (int k = 0; k < times; k++) {
            s_pack_cstr (&pk, keys.keys[i].key);
            s_pack_value (&pk, keys.keys[i].cls, (int)i == b->odd ? b->value : X_VALID);
        }
    }
    *len = sbuf.size;
    *body = (uint8_t *)msgpack_sbuffer_release (&sbuf);
}

static void
s_header (uint8_t header[WES_PROTO_HEADER_SIZE], wes_msg_type_t t)
{
    header[0] = 'W';
    header[1] = 'S';
    header[2] = WES_PROTO_VERSION;
    header[3] = (uint8_t)t;
}

/*  Builds and decodes b; returns the message or NULL (reason filled). */
static wes_msg_t *
s_try (const s_build_t *b, char *reason, size_t reason_size)
{
    uint8_t header[WES_PROTO_HEADER_SIZE];
    s_header (header, b->type);
    uint8_t *body = NULL;
    size_t len = 0;
    s_build (b, &body, &len);
    wes_msg_t *m = s_decode (header, sizeof header, body, len, reason, reason_size);
    free (body);
    return m;
}

/*  Decoding body under type t fails with a reason containing expect. */
static void
s_refused (wes_msg_type_t t, const uint8_t *body, size_t len, const char *expect)
{
    uint8_t header[WES_PROTO_HEADER_SIZE];
    s_header (header, t);
    char reason[256];
    wes_msg_t *m = s_decode (header, sizeof header, body, len, reason, sizeof reason);
    if (m) {
        wes_msg_destroy (&m);
        fail_msg ("%s body accepted, expected \"%s\"", wes_msg_type_name (t), expect);
    }
    if (!strstr (reason, expect)) {
        fail_msg ("reason \"%s\" lacks \"%s\"", reason, expect);
    }
}

/*  ---- tests ------------------------------------------------------------- */

static void
test_round_trip_every_type (void **state)
{
    (void)state;
    for (int i = 0; i < S_N_TYPES; i++) {
        wes_msg_t *m = s_full (s_types[i]);
        s_round_trip (m);
        wes_msg_destroy (&m);
    }
}

static void
test_round_trip_edges (void **state)
{
    (void)state;
    /*  Zeroed messages: required strings NULL go out as "", optional ones
        stay absent. */
    for (int i = 0; i < S_N_TYPES; i++) {
        wes_msg_t *m = wes_msg_new (s_types[i]);
        if (s_types[i] == WES_MSG_RESULT) {
            m->outcome = WES_OUTCOME_OK;
        }
        uint8_t header[WES_PROTO_HEADER_SIZE];
        uint8_t *body = NULL;
        size_t len = 0;
        assert_int_equal (wes_proto_encode (m, header, &body, &len), 0);
        char reason[256];
        wes_msg_t *back = s_decode (header, sizeof header, body, len, reason, sizeof reason);
        if (!back) {
            fail_msg ("zeroed %s: %s", wes_msg_type_name (s_types[i]), reason);
        }
        if (s_types[i] == WES_MSG_ASSIGN) {
            assert_string_equal (back->attempt_id, "");
            assert_string_equal (back->sql, "");
        }
        if (s_types[i] == WES_MSG_READY) {
            assert_string_equal (back->worker_id, "");
            assert_null (back->attempt_id);
            assert_int_equal (back->n_labels, 0);
        }
        if (s_types[i] == WES_MSG_RESULT) {
            assert_null (back->sqlstate);
            assert_null (back->message);
        }
        if (s_types[i] == WES_MSG_DISCONNECT) {
            assert_string_equal (back->message, "");
        }
        free (body);
        wes_msg_destroy (&back);
        wes_msg_destroy (&m);
    }

    /*  Empty strings, extreme integers. */
    wes_msg_t *m = s_full (WES_MSG_ASSIGN);
    wes_msg_set (&m->target, "");
    wes_msg_set (&m->conninfo, "");
    wes_msg_set (&m->sql, "");
    m->epoch = UINT64_MAX;
    m->lock_key = INT64_MIN;
    m->lock_timeout_ms = UINT32_MAX;
    m->statement_timeout_ms = UINT32_MAX;
    m->deadline_ms = 0;
    m->kind = WES_KIND_BATCHED;
    s_round_trip (m);
    m->lock_key = INT64_MAX;
    m->epoch = 0;
    m->kind = WES_KIND_TX;
    s_round_trip (m);
    m->lock_key = -1;
    m->epoch = (uint64_t)1 << 53;
    s_round_trip (m);
    wes_msg_destroy (&m);

    m = s_full (WES_MSG_PROGRESS);
    m->rows_done = INT64_MIN;
    m->epoch = UINT64_MAX;
    s_round_trip (m);
    m->rows_done = -1;
    s_round_trip (m);
    wes_msg_destroy (&m);

    for (int o = WES_OUTCOME_OK; o <= WES_OUTCOME_FAILED; o++) {
        m = s_full (WES_MSG_RESULT);
        m->outcome = (wes_outcome_t)o;
        m->elapsed_ms = UINT64_MAX;
        m->rows_done = INT64_MAX;
        wes_msg_set (&m->sqlstate, o == WES_OUTCOME_FAILED ? "" : NULL);
        wes_msg_set (&m->message, o == WES_OUTCOME_OK ? NULL : "");
        s_round_trip (m);
        wes_msg_destroy (&m);
    }

    m = s_full (WES_MSG_HEARTBEAT);
    m->interval_ms = UINT32_MAX;
    m->liveness = 0;
    s_round_trip (m);
    wes_msg_destroy (&m);

    /*  Max lengths: short strings of exactly WES_PROTO_MAX_SHORT bytes,
        WES_PROTO_MAX_LABELS labels of that length. */
    char *longest = s_repeat ('w', WES_PROTO_MAX_SHORT);
    m = s_full (WES_MSG_READY);
    wes_msg_set (&m->worker_id, longest);
    wes_msg_set (&m->version, longest);
    wes_msg_set (&m->attempt_id, longest);
    m->capacity = UINT32_MAX;
    while (m->n_labels < WES_PROTO_MAX_LABELS) {
        wes_msg_add_label (m, longest);
    }
    s_round_trip (m);
    wes_msg_destroy (&m);
    m = s_full (WES_MSG_ASSIGN);
    wes_msg_set (&m->attempt_id, longest);
    wes_msg_set (&m->target, longest);
    wes_msg_set (&m->conninfo, longest);
    wes_msg_set (&m->step_id, longest);
    s_round_trip (m);
    /*  The largest SQL that fits the body. */
    char *sql = s_repeat ('q', WES_PROTO_MAX_BODY - 6 * WES_PROTO_MAX_SHORT);
    wes_msg_set (&m->sql, sql);
    s_round_trip (m);
    free (sql);
    wes_msg_destroy (&m);
    free (longest);

    /*  A long failure message and a multi-byte one. */
    m = s_full (WES_MSG_RESULT);
    char *text = s_repeat ('m', 100000);
    wes_msg_set (&m->message, text);
    s_round_trip (m);
    wes_msg_set (&m->message, "\xe2\x9c\x93 d\xc3\xa9j\xc3\xa0 vu\n\ttab");
    s_round_trip (m);
    free (text);
    wes_msg_destroy (&m);
}

static void
test_encode_refuses_limits (void **state)
{
    (void)state;
    char *too_long = s_repeat ('x', WES_PROTO_MAX_SHORT + 1);
    wes_msg_t *m = s_full (WES_MSG_READY);
    wes_msg_set (&m->worker_id, too_long);
    s_encode_refused (m);
    wes_msg_destroy (&m);

    m = s_full (WES_MSG_READY);
    wes_msg_add_label (m, too_long);
    s_encode_refused (m);
    wes_msg_destroy (&m);

    m = s_full (WES_MSG_READY);
    while (m->n_labels <= WES_PROTO_MAX_LABELS) {
        wes_msg_add_label (m, "l");
    }
    s_encode_refused (m);
    wes_msg_destroy (&m);

    m = s_full (WES_MSG_ASSIGN);
    wes_msg_set (&m->step_id, too_long);
    s_encode_refused (m);
    m->kind = (wes_msg_kind_t)3;
    wes_msg_set (&m->step_id, "ok");
    s_encode_refused (m);
    m->kind = WES_KIND_TX;
    char *sql = s_repeat ('q', WES_PROTO_MAX_BODY);
    wes_msg_set (&m->sql, sql); /* the string alone fits; with the rest it does not */
    s_encode_refused (m);
    free (sql);
    wes_msg_destroy (&m);

    m = s_full (WES_MSG_RESULT);
    m->outcome = (wes_outcome_t)0;
    s_encode_refused (m);
    m->outcome = (wes_outcome_t)5;
    s_encode_refused (m);
    wes_msg_set (&m->sqlstate, too_long);
    m->outcome = WES_OUTCOME_FAILED;
    s_encode_refused (m);
    wes_msg_destroy (&m);

    m = wes_msg_new ((wes_msg_type_t)0);
    s_encode_refused (m);
    m->type = (wes_msg_type_t)7;
    s_encode_refused (m);
    wes_msg_destroy (&m);
    free (too_long);
}

static void
test_truncated_at_every_offset (void **state)
{
    (void)state;
    for (int i = 0; i < S_N_TYPES; i++) {
        wes_msg_t *m = s_full (s_types[i]);
        uint8_t header[WES_PROTO_HEADER_SIZE];
        uint8_t *body = NULL;
        size_t len = 0;
        assert_int_equal (wes_proto_encode (m, header, &body, &len), 0);
        char reason[256];
        for (size_t cut = 0; cut < len; cut++) {
            wes_msg_t *back = s_decode (header, sizeof header, body, cut, reason, sizeof reason);
            if (back) {
                wes_msg_destroy (&back);
                fail_msg ("%s truncated to %zu of %zu bytes was accepted",
                          wes_msg_type_name (s_types[i]), cut, len);
            }
        }
        for (size_t cut = 0; cut < WES_PROTO_HEADER_SIZE; cut++) {
            assert_null (s_decode (header, cut, body, len, reason, sizeof reason));
            assert_non_null (strstr (reason, "header"));
        }
        /*  The whole thing decodes. */
        wes_msg_t *back = s_decode (header, sizeof header, body, len, reason, sizeof reason);
        assert_non_null (back);
        wes_msg_destroy (&back);
        /*  And a truncated body under NULL pointer fails cleanly. */
        assert_null (wes_proto_decode (header, sizeof header, NULL, 0, reason, sizeof reason));
        assert_null (wes_proto_decode (NULL, 0, body, len, reason, sizeof reason));
        free (body);
        wes_msg_destroy (&m);
    }
}

static void
test_bad_header (void **state)
{
    (void)state;
    wes_msg_t *m = s_full (WES_MSG_HEARTBEAT);
    uint8_t header[WES_PROTO_HEADER_SIZE];
    uint8_t *body = NULL;
    size_t len = 0;
    assert_int_equal (wes_proto_encode (m, header, &body, &len), 0);
    char reason[256];
    uint8_t bad[WES_PROTO_HEADER_SIZE + 1];

    memcpy (bad, header, sizeof header);
    bad[0] = 'X';
    assert_null (s_decode (bad, 4, body, len, reason, sizeof reason));
    assert_string_equal (reason, "bad signature");
    memcpy (bad, header, sizeof header);
    bad[1] = 's';
    assert_null (s_decode (bad, 4, body, len, reason, sizeof reason));
    assert_string_equal (reason, "bad signature");

    memcpy (bad, header, sizeof header);
    bad[2] = 9;
    assert_null (s_decode (bad, 4, body, len, reason, sizeof reason));
    assert_string_equal (reason, "version 9 not supported");
    bad[2] = 0;
    assert_null (s_decode (bad, 4, body, len, reason, sizeof reason));
    assert_string_equal (reason, "version 0 not supported");

    memcpy (bad, header, sizeof header);
    const uint8_t types[] = {0, 7, 42, 255};
    for (size_t i = 0; i < sizeof types; i++) {
        bad[3] = types[i];
        assert_null (s_decode (bad, 4, body, len, reason, sizeof reason));
        assert_non_null (strstr (reason, "unknown message type"));
    }

    memcpy (bad, header, sizeof header);
    bad[4] = 0;
    assert_null (s_decode (bad, 5, body, len, reason, sizeof reason));
    assert_string_equal (reason, "header is 5 bytes, not 4");

    /*  A body of another type: the header's type decides what is required. */
    s_header (bad, WES_MSG_ASSIGN);
    assert_null (s_decode (bad, 4, body, len, reason, sizeof reason));
    assert_non_null (strstr (reason, "ASSIGN lacks key \"a\""));

    /*  A tiny reason buffer is never overrun; no buffer at all is fine. */
    char tiny[8];
    memset (tiny, 'z', sizeof tiny);
    bad[0] = 'X';
    assert_null (wes_proto_decode (bad, 4, body, len, tiny, 6));
    assert_string_equal (tiny, "bad s");
    assert_int_equal (tiny[6], 'z');
    assert_null (wes_proto_decode (bad, 4, body, len, NULL, 0));
    free (body);
    wes_msg_destroy (&m);
}

static void
test_oversized_body (void **state)
{
    (void)state;
    uint8_t header[WES_PROTO_HEADER_SIZE];
    s_header (header, WES_MSG_ASSIGN);
    size_t len = WES_PROTO_MAX_BODY + 1;
    uint8_t *body = calloc (1, len);
    assert_non_null (body);
    body[0] = 0x80; /* an empty map, then zeros */
    char reason[256];
    assert_null (wes_proto_decode (header, sizeof header, body, len, reason, sizeof reason));
    assert_non_null (strstr (reason, "body too large"));
    /*  At the limit, the size is fine and the contents decide. */
    assert_null (wes_proto_decode (header, sizeof header, body, len - 1, reason, sizeof reason));
    assert_non_null (strstr (reason, "trailing bytes"));
    /*  A string claiming more bytes than the body holds. */
    const uint8_t str32[] = {0x81, 0xa1, 'q', 0xdb, 0xff, 0xff, 0xff, 0xff, 'a'};
    s_refused (WES_MSG_ASSIGN, str32, sizeof str32, "truncated string at byte 3");
    const uint8_t arr32[] = {0x81, 0xa1, 'l', 0xdd, 0xff, 0xff, 0xff, 0xff, 0xa0};
    s_refused (WES_MSG_READY, arr32, sizeof arr32, "truncated array at byte 3");
    const uint8_t map32[] = {0xdf, 0x7f, 0xff, 0xff, 0xff, 0xa0, 0xc0};
    s_refused (WES_MSG_READY, map32, sizeof map32, "truncated map at byte 0");
    const uint8_t bin32[] = {0x81, 0xa2, 'z', 'z', 0xc6, 0x00, 0x10, 0x00, 0x00, 0x00};
    s_refused (WES_MSG_READY, bin32, sizeof bin32, "truncated binary at byte 4");
    const uint8_t ext32[] = {0x81, 0xa2, 'z', 'z', 0xc9, 0x00, 0x00, 0x00, 0x01, 0x05};
    s_refused (WES_MSG_READY, ext32, sizeof ext32, "truncated extension at byte 4");
    free (body);
}

static void
test_wrong_value_types (void **state)
{
    (void)state;
    char reason[256];
    size_t checked = 0;
    for (int t = 0; t < S_N_TYPES; t++) {
        s_keys_t keys = s_keys_of (s_types[t]);
        for (size_t k = 0; k < keys.n; k++) {
            for (int x = 0; x < X_COUNT; x++) {
                s_build_t b = s_plain (s_types[t]);
                b.odd = (int)k;
                b.value = (s_value_t)x;
                wes_msg_t *m = s_try (&b, reason, sizeof reason);
                bool accepted = m != NULL;
                if (accepted != s_accepts (keys.keys[k].cls, (s_value_t)x)) {
                    wes_msg_destroy (&m);
                    fail_msg ("%s key \"%s\" value #%d: %s (%s)", wes_msg_type_name (s_types[t]),
                              keys.keys[k].key, x, accepted ? "accepted" : "refused", reason);
                }
                if (!accepted && keys.keys[k].cls != C_LABELS) {
                    char quoted[16];
                    snprintf (quoted, sizeof quoted, "\"%s\"", keys.keys[k].key);
                    if (!strstr (reason, quoted)) {
                        fail_msg ("reason \"%s\" does not name key %s", reason, quoted);
                    }
                }
                wes_msg_destroy (&m);
                checked++;
            }
        }
    }
    assert_true (checked == (size_t)X_COUNT * (5 + 2 + 11 + 3 + 7 + 1));

    /*  Accepted values land in the right fields. */
    s_build_t b = s_plain (WES_MSG_ASSIGN);
    b.odd = 1; /* "e" */
    b.value = X_HUGE;
    wes_msg_t *m = s_try (&b, reason, sizeof reason);
    assert_non_null (m);
    assert_true (m->epoch == UINT64_MAX);
    assert_true (m->lock_key == -5);
    assert_int_equal (m->kind, WES_KIND_BATCHED);
    assert_int_equal (m->lock_timeout_ms, 4000000000u);
    assert_string_equal (m->sql, "value");
    wes_msg_destroy (&m);
    b.odd = 10; /* "key" */
    b.value = X_INT_MIN;
    m = s_try (&b, reason, sizeof reason);
    assert_non_null (m);
    assert_true (m->lock_key == INT64_MIN);
    wes_msg_destroy (&m);
    b = s_plain (WES_MSG_READY);
    b.odd = 3;
    b.value = X_ARRAY_STR;
    m = s_try (&b, reason, sizeof reason);
    assert_non_null (m);
    assert_int_equal (m->n_labels, 2);
    assert_string_equal (m->labels[0], "x");
    assert_string_equal (m->labels[1], "yy");
    assert_string_equal (m->attempt_id, "value");
    wes_msg_destroy (&m);
    b.odd = 4; /* "a" nil: no attempt held */
    b.value = X_NIL;
    m = s_try (&b, reason, sizeof reason);
    assert_non_null (m);
    assert_null (m->attempt_id);
    wes_msg_destroy (&m);
}

static void
test_missing_keys (void **state)
{
    (void)state;
    char reason[256];
    for (int t = 0; t < S_N_TYPES; t++) {
        s_keys_t keys = s_keys_of (s_types[t]);
        for (size_t k = 0; k < keys.n; k++) {
            s_build_t b = s_plain (s_types[t]);
            b.omit = (int)k;
            wes_msg_t *m = s_try (&b, reason, sizeof reason);
            if (keys.keys[k].cls == C_OPTSTR) {
                assert_non_null (m);
                wes_msg_destroy (&m);
                continue;
            }
            if (m) {
                wes_msg_destroy (&m);
                fail_msg ("%s without \"%s\" accepted", wes_msg_type_name (s_types[t]),
                          keys.keys[k].key);
            }
            char expect[64];
            snprintf (expect, sizeof expect, "%s lacks key \"%s\"", wes_msg_type_name (s_types[t]),
                      keys.keys[k].key);
            assert_string_equal (reason, expect);
        }
    }
    /*  An empty map lacks the first required key. */
    const uint8_t empty[] = {0x80};
    s_refused (WES_MSG_ASSIGN, empty, sizeof empty, "ASSIGN lacks key \"a\"");
}

static void
test_duplicate_keys (void **state)
{
    (void)state;
    char reason[256];
    for (int t = 0; t < S_N_TYPES; t++) {
        s_keys_t keys = s_keys_of (s_types[t]);
        for (size_t k = 0; k < keys.n; k++) {
            s_build_t b = s_plain (s_types[t]);
            b.dup = (int)k;
            wes_msg_t *m = s_try (&b, reason, sizeof reason);
            if (m) {
                wes_msg_destroy (&m);
                fail_msg ("%s with \"%s\" twice accepted", wes_msg_type_name (s_types[t]),
                          keys.keys[k].key);
            }
            char expect[32];
            snprintf (expect, sizeof expect, "duplicate (\"%s\")", keys.keys[k].key);
            if (!strstr (reason, expect)) {
                fail_msg ("reason \"%s\" lacks %s", reason, expect);
            }
        }
    }
    /*  Unknown keys may not repeat either. */
    const uint8_t twice[] = {0x83, 0xa1, 'm', 0xa0, 0xa2, 'z', 'z', 0x01, 0xa2, 'z', 'z', 0x02};
    s_refused (WES_MSG_DISCONNECT, twice, sizeof twice, "duplicate");
}

static void
test_unknown_keys_and_nesting (void **state)
{
    (void)state;
    char reason[256];
    for (int x = 0; x < X_COUNT; x++) {
        s_build_t b = s_plain (WES_MSG_RESULT);
        b.unknown = 3;
        b.unknown_value = (s_value_t)x;
        wes_msg_t *m = s_try (&b, reason, sizeof reason);
        bool deep = x == X_NESTED || x == X_MAP_NESTED;
        if (deep) {
            assert_null (m);
            assert_non_null (strstr (reason, "nesting deeper than 2"));
        }
        else {
            if (!m) {
                fail_msg ("unknown key with value #%d refused: %s", x, reason);
            }
            assert_string_equal (m->attempt_id, "value");
            assert_int_equal (m->outcome, WES_OUTCOME_FAILED);
            wes_msg_destroy (&m);
        }
    }
    /*  64 entries are fine, 65 are not. */
    s_build_t b = s_plain (WES_MSG_HEARTBEAT);
    b.unknown = 62;
    wes_msg_t *m = s_try (&b, reason, sizeof reason);
    assert_non_null (m);
    assert_int_equal (m->interval_ms, 4000000000u);
    wes_msg_destroy (&m);
    b.unknown = 63;
    assert_null (s_try (&b, reason, sizeof reason));
    assert_non_null (strstr (reason, "limit 64"));

    /*  An unknown key's array may hold 64 items, not 65. */
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 2);
    s_pack_cstr (&pk, "m");
    s_pack_cstr (&pk, "bye");
    s_pack_cstr (&pk, "zz");
    msgpack_pack_array (&pk, 65);
    for (int i = 0; i < 65; i++) {
        msgpack_pack_nil (&pk);
    }
    s_refused (WES_MSG_DISCONNECT, (const uint8_t *)sbuf.data, sbuf.size, "limit 64");
    msgpack_sbuffer_clear (&sbuf);
    msgpack_pack_map (&pk, 2);
    s_pack_cstr (&pk, "m");
    s_pack_cstr (&pk, "bye");
    s_pack_cstr (&pk, "zz");
    msgpack_pack_array (&pk, 64);
    for (int i = 0; i < 64; i++) {
        msgpack_pack_nil (&pk);
    }
    uint8_t header[WES_PROTO_HEADER_SIZE];
    s_header (header, WES_MSG_DISCONNECT);
    m = s_decode (header, sizeof header, (const uint8_t *)sbuf.data, sbuf.size, reason,
                  sizeof reason);
    assert_non_null (m);
    assert_string_equal (m->message, "bye");
    wes_msg_destroy (&m);

    /*  A key that is not a string, or too long, or the reserved byte. */
    const uint8_t int_key[] = {0x81, 0x01, 0xa0};
    s_refused (WES_MSG_DISCONNECT, int_key, sizeof int_key, "key at byte 1 is not a string");
    msgpack_sbuffer_clear (&sbuf);
    msgpack_pack_map (&pk, 2);
    s_pack_cstr (&pk, "m");
    s_pack_cstr (&pk, "bye");
    char long_key[66];
    memset (long_key, 'k', 65);
    long_key[65] = '\0';
    s_pack_cstr (&pk, long_key);
    msgpack_pack_nil (&pk);
    s_refused (WES_MSG_DISCONNECT, (const uint8_t *)sbuf.data, sbuf.size, "longer than 64");
    msgpack_sbuffer_destroy (&sbuf);
    const uint8_t reserved[] = {0x82, 0xa1, 'm', 0xa0, 0xa1, 'z', 0xc1};
    s_refused (WES_MSG_DISCONNECT, reserved, sizeof reserved, "invalid type byte 0xc1 at byte 6");
}

static void
test_body_shape (void **state)
{
    (void)state;
    const uint8_t array[] = {0x91, 0xa0};
    s_refused (WES_MSG_DISCONNECT, array, sizeof array, "body is not a map");
    const uint8_t nil[] = {0xc0};
    s_refused (WES_MSG_DISCONNECT, nil, sizeof nil, "body is not a map");
    s_refused (WES_MSG_DISCONNECT, (const uint8_t *)"", 0, "body is empty");

    /*  Trailing bytes after a complete map, for every type. */
    for (int i = 0; i < S_N_TYPES; i++) {
        wes_msg_t *m = s_full (s_types[i]);
        uint8_t header[WES_PROTO_HEADER_SIZE];
        uint8_t *body = NULL;
        size_t len = 0;
        assert_int_equal (wes_proto_encode (m, header, &body, &len), 0);
        uint8_t *longer = malloc (len + 2);
        assert_non_null (longer);
        memcpy (longer, body, len);
        longer[len] = 0xc0;
        longer[len + 1] = 0x80;
        s_refused (s_types[i], longer, len + 1, "1 trailing byte after");
        s_refused (s_types[i], longer, len + 2, "2 trailing bytes after");
        /*  Two whole messages back to back are one too many. */
        uint8_t *twice = malloc (2 * len);
        assert_non_null (twice);
        memcpy (twice, body, len);
        memcpy (twice + len, body, len);
        s_refused (s_types[i], twice, 2 * len, "trailing bytes");
        free (twice);
        free (longer);
        free (body);
        wes_msg_destroy (&m);
    }
}

static void
test_string_limits (void **state)
{
    (void)state;
    char reason[256];
    /*  A short field one byte over its limit, a label over it, too many
        labels, a NUL inside a string. */
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    char *over = s_repeat ('x', WES_PROTO_MAX_SHORT + 1);
    for (int round = 0; round < 5; round++) {
        msgpack_sbuffer_clear (&sbuf);
        msgpack_pack_map (&pk, 4);
        s_pack_cstr (&pk, "w");
        s_pack_cstr (&pk, round == 0 ? over : "w1");
        s_pack_cstr (&pk, "v");
        if (round == 3) {
            msgpack_pack_str (&pk, 3);
            msgpack_pack_str_body (&pk, "a\0b", 3);
        }
        else {
            s_pack_cstr (&pk, "1");
        }
        s_pack_cstr (&pk, "c");
        msgpack_pack_int (&pk, 1);
        s_pack_cstr (&pk, "l");
        size_t n = round == 2 ? WES_PROTO_MAX_LABELS + 1 : 2;
        msgpack_pack_array (&pk, n);
        for (size_t i = 0; i < n; i++) {
            if (round == 4 && i == 1) {
                msgpack_pack_str (&pk, 2);
                msgpack_pack_str_body (&pk, "\0x", 2);
            }
            else {
                s_pack_cstr (&pk, round == 1 && i == 1 ? over : "lbl");
            }
        }
        uint8_t header[WES_PROTO_HEADER_SIZE];
        s_header (header, WES_MSG_READY);
        wes_msg_t *m = s_decode (header, sizeof header, (const uint8_t *)sbuf.data, sbuf.size,
                                 reason, sizeof reason);
        assert_null (m);
        const char *expect[] = {
            "key \"w\" at byte 3: string of 1025 bytes exceeds 1024",
            "string of 1025 bytes exceeds 1024", "too many labels (65, limit 64)",
            "key \"v\" at byte 8: string holds a NUL byte", "string holds a NUL byte"};
        if (!strstr (reason, expect[round])) {
            fail_msg ("round %d: reason \"%s\" lacks \"%s\"", round, reason, expect[round]);
        }
    }
    msgpack_sbuffer_destroy (&sbuf);
    free (over);
    /*  The SQL is bounded only by the body. */
    wes_msg_t *m = s_full (WES_MSG_ASSIGN);
    char *sql = s_repeat ('s', 1000000);
    wes_msg_set (&m->sql, sql);
    s_round_trip (m);
    free (sql);
    wes_msg_destroy (&m);
}

static void
test_helpers (void **state)
{
    (void)state;
    assert_string_equal (wes_msg_type_name (WES_MSG_READY), "READY");
    assert_string_equal (wes_msg_type_name (WES_MSG_HEARTBEAT), "HEARTBEAT");
    assert_string_equal (wes_msg_type_name (WES_MSG_ASSIGN), "ASSIGN");
    assert_string_equal (wes_msg_type_name (WES_MSG_PROGRESS), "PROGRESS");
    assert_string_equal (wes_msg_type_name (WES_MSG_RESULT), "RESULT");
    assert_string_equal (wes_msg_type_name (WES_MSG_DISCONNECT), "DISCONNECT");
    assert_string_equal (wes_msg_type_name ((wes_msg_type_t)9), "UNKNOWN");
    assert_string_equal (wes_outcome_name (WES_OUTCOME_OK), "ok");
    assert_string_equal (wes_outcome_name (WES_OUTCOME_SKIPPED), "skipped");
    assert_string_equal (wes_outcome_name (WES_OUTCOME_RETRYABLE), "retryable");
    assert_string_equal (wes_outcome_name (WES_OUTCOME_FAILED), "failed");
    assert_string_equal (wes_outcome_name ((wes_outcome_t)0), "unknown");

    wes_msg_t *m = wes_msg_new (WES_MSG_READY);
    assert_int_equal (m->type, WES_MSG_READY);
    assert_null (m->worker_id);
    wes_msg_set (&m->worker_id, "a");
    wes_msg_set (&m->worker_id, "bb");
    assert_string_equal (m->worker_id, "bb");
    wes_msg_set (&m->worker_id, NULL);
    assert_null (m->worker_id);
    const char *label = "x";
    wes_msg_add_label (m, label);
    assert_ptr_not_equal (m->labels[0], label);
    assert_int_equal (m->n_labels, 1);
    wes_msg_destroy (&m);
    assert_null (m);
    wes_msg_destroy (&m);
    wes_msg_destroy (NULL);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_round_trip_every_type),
        cmocka_unit_test (test_round_trip_edges),
        cmocka_unit_test (test_encode_refuses_limits),
        cmocka_unit_test (test_truncated_at_every_offset),
        cmocka_unit_test (test_bad_header),
        cmocka_unit_test (test_oversized_body),
        cmocka_unit_test (test_wrong_value_types),
        cmocka_unit_test (test_missing_keys),
        cmocka_unit_test (test_duplicate_keys),
        cmocka_unit_test (test_unknown_keys_and_nesting),
        cmocka_unit_test (test_body_shape),
        cmocka_unit_test (test_string_limits),
        cmocka_unit_test (test_helpers),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
