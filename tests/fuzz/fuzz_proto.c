/*  fuzz_proto.c — libFuzzer harness for the coordinator <-> worker codec.
    An input is a header (its first 4 bytes) and a body (the rest). It is
    decoded as it is, and again under a valid header of the type its fourth
    byte picks, so the fuzzer spends its time in the body reader. A decoded
    message must encode again, decode to the same fields, re-encode to the
    same bytes, and its canonical encoding truncated or with a byte added
    must be refused. A refusal must carry a reason. Any broken expectation
    aborts, which the fuzzer reports as a crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/wes_proto.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
s_check (int ok, const char *what)
{
    if (!ok) {
        fprintf (stderr, "fuzz_proto: broken expectation: %s\n", what);
        abort ();
    }
}

static int
s_str_same (const char *a, const char *b)
{
    if (!a || !b) {
        return a == b;
    }
    return strcmp (a, b) == 0;
}

/*  Every field of a and b is equal (fields outside the type stay zero). */
static int
s_same (const wes_msg_t *a, const wes_msg_t *b)
{
    if (a->n_labels != b->n_labels) {
        return 0;
    }
    for (size_t i = 0; i < a->n_labels; i++) {
        if (!s_str_same (a->labels[i], b->labels[i])) {
            return 0;
        }
    }
    return a->type == b->type && s_str_same (a->worker_id, b->worker_id)
           && s_str_same (a->version, b->version) && a->capacity == b->capacity
           && a->interval_ms == b->interval_ms && a->liveness == b->liveness
           && s_str_same (a->attempt_id, b->attempt_id) && a->epoch == b->epoch
           && s_str_same (a->target, b->target) && s_str_same (a->conninfo, b->conninfo)
           && s_str_same (a->step_id, b->step_id) && a->kind == b->kind
           && s_str_same (a->sql, b->sql) && a->lock_timeout_ms == b->lock_timeout_ms
           && a->statement_timeout_ms == b->statement_timeout_ms
           && a->deadline_ms == b->deadline_ms && a->lock_key == b->lock_key
           && a->rows_done == b->rows_done && a->outcome == b->outcome
           && s_str_same (a->sqlstate, b->sqlstate) && s_str_same (a->message, b->message)
           && a->elapsed_ms == b->elapsed_ms;
}

/*  Decodes an exactly sized copy of body[0..len) and expects a refusal. */
static void
s_expect_refused (const uint8_t *header, const uint8_t *body, size_t len, const char *what)
{
    uint8_t *copy = malloc (len ? len : 1);
    s_check (copy != NULL, "out of memory");
    if (len) {
        memcpy (copy, body, len);
    }
    char reason[256];
    wes_msg_t *m = wes_proto_decode (header, WES_PROTO_HEADER_SIZE, copy, len, reason,
                                     sizeof reason);
    s_check (m == NULL, what);
    s_check (reason[0] != '\0', "a refusal without a reason");
    free (copy);
}

/*  Decodes one message; checks either outcome. */
static void
s_one (const uint8_t *header, size_t header_len, const uint8_t *body, size_t body_len)
{
    char reason[256];
    memset (reason, 0, sizeof reason);
    wes_msg_t *m = wes_proto_decode (header, header_len, body, body_len, reason, sizeof reason);
    if (!m) {
        s_check (reason[0] != '\0', "a refusal without a reason");
        s_check (memchr (reason, '\0', sizeof reason) != NULL, "an unterminated reason");
        return;
    }
    s_check (header_len == WES_PROTO_HEADER_SIZE, "a header of the wrong size accepted");
    s_check (body_len <= WES_PROTO_MAX_BODY, "an oversized body accepted");
    s_check (m->type == header[3], "the message has another type than its header");

    uint8_t h1[WES_PROTO_HEADER_SIZE];
    uint8_t *b1 = NULL;
    size_t l1 = 0;
    s_check (wes_proto_encode (m, h1, &b1, &l1) == 0, "a decoded message does not encode");
    s_check (memcmp (h1, header, WES_PROTO_HEADER_SIZE) == 0, "the header changed");
    s_check (l1 <= body_len, "the canonical encoding is longer than the input");

    wes_msg_t *again = wes_proto_decode (h1, sizeof h1, b1, l1, reason, sizeof reason);
    s_check (again != NULL, "a canonical encoding does not decode");
    s_check (s_same (m, again), "a round trip changed a field");

    uint8_t h2[WES_PROTO_HEADER_SIZE];
    uint8_t *b2 = NULL;
    size_t l2 = 0;
    s_check (wes_proto_encode (again, h2, &b2, &l2) == 0, "a re-decoded message does not encode");
    s_check (l1 == l2 && memcmp (b1, b2, l1) == 0, "encoding is not canonical");

    s_expect_refused (h1, b1, l1 - 1, "a canonical encoding less its last byte accepted");
    s_expect_refused (h1, b1, l1 / 2, "half a canonical encoding accepted");
    uint8_t *longer = malloc (l1 + 1);
    s_check (longer != NULL, "out of memory");
    memcpy (longer, b1, l1);
    longer[l1] = 0xc0;
    s_expect_refused (h1, longer, l1 + 1, "a trailing byte accepted");
    free (longer);

    free (b1);
    free (b2);
    wes_msg_destroy (&again);
    wes_msg_destroy (&m);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < WES_PROTO_HEADER_SIZE) {
        s_one (data, size, NULL, 0);
        return 0;
    }
    /*  Exactly sized copies, so that any overread of either frame shows. */
    size_t body_len = size - WES_PROTO_HEADER_SIZE;
    uint8_t *header = malloc (WES_PROTO_HEADER_SIZE);
    uint8_t *body = malloc (body_len ? body_len : 1);
    s_check (header && body, "out of memory");
    memcpy (header, data, WES_PROTO_HEADER_SIZE);
    memcpy (body, data + WES_PROTO_HEADER_SIZE, body_len);
    s_one (header, WES_PROTO_HEADER_SIZE, body, body_len);
    header[0] = 'W';
    header[1] = 'S';
    header[2] = WES_PROTO_VERSION;
    header[3] = (uint8_t)(1 + data[3] % 6);
    s_one (header, WES_PROTO_HEADER_SIZE, body, body_len);
    free (header);
    free (body);
    return 0;
}
