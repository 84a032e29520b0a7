/*  wes_testflags.h — the flags a `--help` text lists, as a set of "--name"
    strings: test_help checks that every flag line states its default and
    that every flag a parser accepts is listed; test_deploy checks that
    every flag a manifest passes is one the program lists. A flag line is
    indented 1 to 4 spaces and starts with "-"; its head is the text before
    the first run of two spaces ("-o, --out DIR", "--bind ENDPOINT"). */
#ifndef WES_TESTFLAGS_H
#define WES_TESTFLAGS_H

#include <stdbool.h>
#include <stddef.h>

#define WES_TEST_MAX_FLAGS 1024

/*  A plain value: start it as {0}, end it with wes_test_flags_free. The
    fields are for reading. */
typedef struct {
    char *names[WES_TEST_MAX_FLAGS]; /* owned, each "--name" once, in order of addition */
    size_t n;                        /* how many */
} wes_test_flags_t;

/*  Adds the len bytes at name unless the set holds them already; fails the
    running cmocka test when the set is full. */
void wes_test_flags_add (wes_test_flags_t *self, const char *name, size_t len);
bool wes_test_flags_has (const wes_test_flags_t *self, const char *name);
/*  Frees the names; the set is empty again. */
void wes_test_flags_free (wes_test_flags_t *self);
/*  Adds the "--" flags named in the head of one flag line (head_len bytes
    at head): "--out" from "-o, --out DIR", "--x" from "--x=V". */
void wes_test_flags_scan_head (wes_test_flags_t *self, const char *head, size_t head_len);
/*  Adds the flags of every flag line of a help text. */
void wes_test_flags_from_help (wes_test_flags_t *self, const char *help);

#endif
