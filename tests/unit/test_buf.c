/*  test_buf.c — wes_buf: appends, printf, and SQL quoting of identifiers
    and literals (quote characters doubled, wherever they stand). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/wes_buf.h"

static void
test_quoting (void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *ident;
        const char *literal;
    } cases[] = {
        {"", "\"\"", "''"},
        {"plain", "\"plain\"", "'plain'"},
        {"it's", "\"it's\"", "'it''s'"},
        {"a\"b", "\"a\"\"b\"", "'a\"b'"},
        {"'", "\"'\"", "''''"},
        {"\"", "\"\"\"\"", "'\"'"},
        {"''x''", "\"''x''\"", "'''''x'''''"},
        {"end'", "\"end'\"", "'end'''"},
        {"\"start", "\"\"\"start\"", "'\"start'"},
        {"back\\slash", "\"back\\slash\"", "'back\\slash'"},
    };
    wes_buf_t *b = wes_buf_new ();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wes_buf_reset (b);
        wes_buf_put_ident (b, cases[i].in);
        assert_string_equal (wes_buf_data (b), cases[i].ident);
        assert_int_equal (wes_buf_len (b), strlen (cases[i].ident));
        wes_buf_reset (b);
        wes_buf_puts (b, "x=");
        wes_buf_put_literal (b, cases[i].in);
        assert_int_equal (strncmp (wes_buf_data (b), "x=", 2), 0);
        assert_string_equal (wes_buf_data (b) + 2, cases[i].literal);
    }
    /*  Long values grow the buffer across the runs. */
    char big[5000];
    for (size_t i = 0; i < sizeof big - 1; i++) {
        big[i] = i % 7 == 0 ? '\'' : 'a';
    }
    big[sizeof big - 1] = '\0';
    wes_buf_reset (b);
    wes_buf_put_literal (b, big);
    size_t quotes = 0;
    for (size_t i = 0; big[i]; i++) {
        quotes += big[i] == '\'';
    }
    assert_int_equal (wes_buf_len (b), strlen (big) + quotes + 2);
    const char *d = wes_buf_data (b);
    for (size_t i = 0, k = 1; big[i]; i++) {
        assert_int_equal (d[k], big[i]);
        k += big[i] == '\'' ? 2 : 1;
    }
    wes_buf_destroy (&b);
}

/*  The quoting of every length around the first pass's run (64 bytes),
    with quotes where the run ends, against a byte-by-byte reference. */
static void
test_quoting_lengths (void **state)
{
    (void)state;
    wes_buf_t *b = wes_buf_new ();
    for (size_t n = 0; n <= 140; n++) {
        for (size_t at = 0; at < 6; at++) {
            static const size_t where[6] = {0, 62, 63, 64, 65, 139};
            char in[141];
            for (size_t i = 0; i < n; i++) {
                in[i] = (char) ('a' + i % 26);
            }
            in[n] = '\0';
            if (where[at] < n) {
                in[where[at]] = '"';
            }
            if (n > 0) {
                in[n - 1] = '"';
            }
            char want[300];
            size_t k = 0;
            want[k++] = '"';
            for (size_t i = 0; i < n; i++) {
                want[k++] = in[i];
                if (in[i] == '"') {
                    want[k++] = '"';
                }
            }
            want[k++] = '"';
            want[k] = '\0';
            wes_buf_reset (b);
            wes_buf_puts (b, "x");
            wes_buf_put_ident (b, in);
            assert_string_equal (wes_buf_data (b) + 1, want);
            assert_int_equal (wes_buf_len (b), k + 1);
        }
    }
    wes_buf_destroy (&b);
}

/*  Appending across growth, replacing a byte, truncating, stealing. */
static void
test_edit (void **state)
{
    (void) state;
    wes_buf_t *b = wes_buf_new ();
    for (int i = 0; i < 1000; i++) {
        wes_buf_append (b, "{x}", 3);
    }
    assert_int_equal (wes_buf_len (b), 3000);
    wes_buf_set (b, 0, ',');
    wes_buf_truncate (b, 2999);
    assert_int_equal (wes_buf_len (b), 2999);
    assert_memory_equal (wes_buf_data (b), ",x}{x}", 6);
    assert_int_equal (wes_buf_data (b)[2999], '\0');
    assert_memory_equal (wes_buf_data (b) + 2995, "x}{x", 4); /* the last "}" went */
    char *taken = wes_buf_steal (b);
    assert_int_equal (strlen (taken), 2999);
    assert_int_equal (wes_buf_len (b), 0);
    wes_buf_lit (b, "again");
    assert_string_equal (wes_buf_data (b), "again");
    free (taken);
    wes_buf_destroy (&b);
    assert_null (b);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_quoting),
        cmocka_unit_test (test_quoting_lengths),
        cmocka_unit_test (test_edit),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
