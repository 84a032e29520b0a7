/*  wes_proto.h — the coordinator <-> worker messages (DESIGN.md section 6)
    and their codec. The only code in Wesley that touches msgpack.

    A message is two ZeroMQ frames:
      1. header, 4 bytes: 'W' 'S' (signature), version (WES_PROTO_VERSION),
         type (wes_msg_type_t);
      2. body: one msgpack map whose keys are short strings (below).
    The decoder bounds every frame before unpacking it: the body is at most
    WES_PROTO_MAX_BODY bytes; every string, array and map count is checked
    against the bytes left and the limits below; unknown keys are skipped;
    a missing required key, a wrong type, trailing bytes after the map, or
    anything truncated is "malformed" with a reason — never OK, never a
    crash. */
#ifndef WES_PROTO_H
#define WES_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/wes_mem.h"

#define WES_PROTO_VERSION 1
#define WES_PROTO_HEADER_SIZE 4
/*  Largest body accepted (a step's rendered SQL dominates). The sockets
    are also capped with ZMQ_MAXMSGSIZE at this value plus slack. */
#define WES_PROTO_MAX_BODY (4u * 1024u * 1024u)
/*  Longest string field other than sql/message (ids, names, versions). */
#define WES_PROTO_MAX_SHORT 1024u
/*  Most labels a worker may announce. */
#define WES_PROTO_MAX_LABELS 64u

typedef enum {
    WES_MSG_READY = 1,     /* worker -> coordinator: I am here */
    WES_MSG_HEARTBEAT = 2, /* both ways; the reply to READY carries the negotiated timing */
    WES_MSG_ASSIGN = 3,    /* coordinator -> worker: run one attempt of one step */
    WES_MSG_PROGRESS = 4,  /* worker -> coordinator: a long step moved on */
    WES_MSG_RESULT = 5,    /* worker -> coordinator: how the attempt ended */
    WES_MSG_DISCONNECT = 6 /* either way: going away, with a reason */
} wes_msg_type_t;

typedef enum {
    WES_OUTCOME_OK = 1,        /* applied by this attempt */
    WES_OUTCOME_SKIPPED = 2,   /* already in the target's ledger: applied before */
    WES_OUTCOME_RETRYABLE = 3, /* failed, worth another attempt (lock timeout, deadlock, ...) */
    WES_OUTCOME_FAILED = 4     /* failed permanently */
} wes_outcome_t;

typedef enum { WES_KIND_TX = 0, WES_KIND_NONTX = 1, WES_KIND_BATCHED = 2 } wes_msg_kind_t;

/*  One decoded or to-be-encoded message. Only the fields of its type are
    meaningful. Strings are owned by the message (wes_msg_destroy frees). */
typedef struct {
    wes_msg_type_t type;
    /* READY (key: "w" worker id, "v" version, "c" capacity, "l" labels) */
    char *worker_id;
    char *version;
    uint32_t capacity;
    char **labels;
    size_t n_labels;
    /* READY, RESULT: the attempt the worker still holds after a reconnect ("a"), or NULL */
    /* HEARTBEAT ("i" interval ms, "n" liveness: missed beats before dead); 0 = not negotiating */
    uint32_t interval_ms;
    uint32_t liveness;
    /* ASSIGN ("a" attempt id, "e" epoch, "t" target, "d" conninfo without secrets,
       "s" step id, "k" kind, "q" sql: the rendered psql script, "lt" lock timeout ms,
       "st" statement timeout ms, "dl" deadline ms for the whole attempt, "key" lock key,
       "u" run label for the worker's logs, optional: older coordinators omit it) */
    char *run;
    char *attempt_id;
    uint64_t epoch;
    char *target;
    char *conninfo;
    char *step_id;
    wes_msg_kind_t kind;
    char *sql;
    uint32_t lock_timeout_ms;
    uint32_t statement_timeout_ms;
    uint32_t deadline_ms;
    int64_t lock_key;
    /* PROGRESS ("a", "e", "r" rows done) */
    int64_t rows_done;
    /* RESULT ("a", "e", "o" outcome, "x" sqlstate, "m" message, "ms" elapsed ms, "r" rows) */
    wes_outcome_t outcome;
    char *sqlstate;
    char *message;
    uint64_t elapsed_ms;
    /* DISCONNECT ("m" reason, in message) */
} wes_msg_t;

/*  The reason a coordinator gives in the DISCONNECT it sends every worker
    when its run has ended: WES_PROTO_RUN_FINISHED when every step
    succeeded, WES_PROTO_RUN_ENDED when it stopped, failed or was
    cancelled. A worker started with --exit-when-run-ends exits on either. */
#define WES_PROTO_RUN_FINISHED "run finished"
#define WES_PROTO_RUN_ENDED "run ended"

/*  A zeroed message of type t. */
wes_msg_t *wes_msg_new (wes_msg_type_t t);
void wes_msg_destroy (wes_msg_t **self_p);
/*  Replaces a string field with a copy of value (NULL ok). */
void wes_msg_set (char **field, const char *value);
void wes_msg_add_label (wes_msg_t *self, const char *label);

/*  Encodes msg: header into header_out, body into a new buffer (*body,
    *body_len; caller frees). Returns 0, or -1 when a field breaks a limit
    (nothing allocated). */
int wes_proto_encode (const wes_msg_t *msg, uint8_t header_out[WES_PROTO_HEADER_SIZE],
                      uint8_t **body, size_t *body_len) WES_MUST_USE;

/*  Decodes one message from its two frames. Returns the message (caller
    destroys), or NULL with a short reason in reason (never NULL on
    failure): "bad signature", "version 9 not supported", "body too large",
    "truncated string at byte 17", "ASSIGN lacks key \"q\"", ... */
wes_msg_t *wes_proto_decode (const uint8_t *header, size_t header_len, const uint8_t *body,
                             size_t body_len, char *reason, size_t reason_size);

const char *wes_msg_type_name (wes_msg_type_t t);
const char *wes_outcome_name (wes_outcome_t o);

#endif
