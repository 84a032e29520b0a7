/*  test_arena.c — the bump allocator: alignment, zeroing, blocks of their
    own for big requests, reuse after a reset, and what it counts. */
#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/wes_arena.h"

static void
test_aligned_and_zeroed (void **state)
{
    (void) state;
    wes_arena_t *a = wes_arena_new (256);
    //  A string of odd length, then nodes: each node aligned for anything
    char *s = wes_arena_strndup (a, "abc", 3);
    assert_string_equal (s, "abc");
    for (size_t i = 1; i < 200; i += 7) {
        unsigned char *p = wes_arena_alloc (a, i);
        assert_int_equal ((uintptr_t) p % alignof (max_align_t), 0);
        for (size_t k = 0; k < i; k++) {
            assert_int_equal (p[k], 0);
        }
        memset (p, 0xAB, i); /* dirty it: the next reset hands it out again */
    }
    wes_arena_reset (a);
    for (size_t i = 1; i < 200; i += 7) {
        unsigned char *p = wes_arena_alloc (a, i);
        for (size_t k = 0; k < i; k++) {
            assert_int_equal (p[k], 0);
        }
    }
    wes_arena_destroy (&a);
    assert_null (a);
}

static void
test_strings_pack (void **state)
{
    (void) state;
    wes_arena_t *a = wes_arena_new (1024);
    char *x = wes_arena_strndup (a, "hello world", 5);
    char *y = wes_arena_strndup (a, "yz", 2);
    assert_string_equal (x, "hello");
    assert_string_equal (y, "yz");
    assert_ptr_equal (y, x + 6); /* no padding between strings */
    assert_int_equal (wes_arena_used (a), 9);
    unsigned char *raw = wes_arena_alloc_bytes (a, 3);
    assert_ptr_equal (raw, (unsigned char *) y + 3);
    assert_int_equal (wes_arena_used (a), 12);
    wes_arena_destroy (&a);
}

static void
test_big_requests_and_counts (void **state)
{
    (void) state;
    wes_arena_t *a = wes_arena_new (128);
    char *first = wes_arena_strndup (a, "0123456789", 10);
    assert_int_equal (wes_arena_reserved (a), 128);
    //  Bigger than a block: a block of its own; the current one goes on
    char *big = wes_arena_alloc_bytes (a, 1000);
    memset (big, 'x', 1000);
    assert_int_equal (wes_arena_reserved (a), 128 + 1000);
    char *next = wes_arena_strndup (a, "ab", 2);
    assert_ptr_equal (next, first + 11);
    assert_int_equal (wes_arena_used (a), 11 + 1000 + 3);
    //  Filling the block: a new one of the usual size
    for (int i = 0; i < 40; i++) {
        char *s = wes_arena_strndup (a, "0123456789", 10);
        assert_string_equal (s, "0123456789");
    }
    assert_int_equal (wes_arena_used (a), 11 + 1000 + 3 + 40 * 11);
    size_t reserved = wes_arena_reserved (a);
    assert_true (reserved >= 128 * 4 + 1000);
    //  A reset keeps the usual blocks and lets the big one go
    wes_arena_reset (a);
    assert_int_equal (wes_arena_used (a), 0);
    assert_int_equal (wes_arena_reserved (a), reserved - 1000);
    for (int i = 0; i < 40; i++) {
        (void) wes_arena_strndup (a, "0123456789", 10);
    }
    assert_int_equal (wes_arena_reserved (a), reserved - 1000); /* reused */
    wes_arena_destroy (&a);
}

static void
test_zero_size (void **state)
{
    (void) state;
    wes_arena_t *a = wes_arena_new (0);
    void *p = wes_arena_alloc (a, 0);
    void *q = wes_arena_alloc (a, 0);
    assert_non_null (p);
    assert_ptr_not_equal (p, q);
    wes_arena_destroy (&a);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_aligned_and_zeroed),
        cmocka_unit_test (test_strings_pack),
        cmocka_unit_test (test_big_requests_and_counts),
        cmocka_unit_test (test_zero_size),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
