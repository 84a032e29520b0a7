/*  test_names.c — snake_case, identifier length and generated names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "schema/wes_names.h"
#include "util/wes_limits.h"

static void
s_snake_is (const char *in, const char *want)
{
    char *got = wes_name_snake (in);
    if (strcmp (got, want) != 0) {
        fail_msg ("snake(%s) = %s, want %s", in, got, want);
    }
    free (got);
}

static void
test_snake (void **state)
{
    (void)state;
    s_snake_is ("OrderItem", "order_item");
    s_snake_is ("HTTPServer", "http_server");
    s_snake_is ("userID", "user_id");
    s_snake_is ("createdAt", "created_at");
    s_snake_is ("created_at", "created_at");
    s_snake_is ("user", "user");
    s_snake_is ("User", "user");
    s_snake_is ("ID", "id");
    s_snake_is ("A", "a");
    s_snake_is ("address2Line", "address2_line");
    s_snake_is ("HTTP2Server", "http2_server");
    s_snake_is ("already_Snake", "already_snake");
    s_snake_is ("_private", "_private");
    s_snake_is ("getHTTPResponseCode", "get_http_response_code");
    s_snake_is ("UserRole", "user_role");
    s_snake_is ("", "");
}

static void
test_fits (void **state)
{
    (void)state;
    char name[WES_MAX_IDENT_BYTES + 2];
    memset (name, 'a', sizeof name);
    name[WES_MAX_IDENT_BYTES] = '\0';
    assert_true (wes_name_fits (name));
    name[WES_MAX_IDENT_BYTES] = 'a';
    name[WES_MAX_IDENT_BYTES + 1] = '\0';
    assert_false (wes_name_fits (name));
    assert_false (wes_name_fits (""));
    assert_false (wes_name_fits (NULL));
    assert_true (wes_name_fits ("x"));
}

static void
test_generate (void **state)
{
    (void)state;
    const char *one[] = {"user_id"};
    const char *two[] = {"a", "b"};
    char *n = wes_name_generate ("orders", NULL, 0, "pkey", 0);
    assert_string_equal (n, "orders_pkey");
    free (n);
    n = wes_name_generate ("orders", one, 1, "fkey", 0);
    assert_string_equal (n, "orders_user_id_fkey");
    free (n);
    n = wes_name_generate ("t", two, 2, "key", 0);
    assert_string_equal (n, "t_a_b_key");
    free (n);
    n = wes_name_generate ("t", two, 2, "key", 2);
    assert_string_equal (n, "t_a_b_key2");
    free (n);
    n = wes_name_generate ("t", NULL, 0, "check", 1);
    assert_string_equal (n, "t_check1");
    free (n);
}

static void
test_generate_long (void **state)
{
    (void)state;
    char table[61];
    memset (table, 't', 60);
    table[60] = '\0';
    const char *c1[] = {"column_one"};
    const char *c2[] = {"column_two"};
    char *a = wes_name_generate (table, c1, 1, "idx", 0);
    char *b = wes_name_generate (table, c2, 1, "idx", 0);
    char *a2 = wes_name_generate (table, c1, 1, "idx", 0);
    char *a1 = wes_name_generate (table, c1, 1, "idx", 1);
    assert_int_equal (strlen (a), WES_MAX_IDENT_BYTES);
    assert_int_equal (strlen (b), WES_MAX_IDENT_BYTES);
    assert_string_not_equal (a, b);
    assert_string_not_equal (a, a1);
    assert_string_equal (a, a2);
    assert_memory_equal (a, table, 54);
    assert_int_equal (a[54], '_');
    for (int i = 55; i < 63; i++) {
        assert_true ((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f'));
    }
    free (a);
    free (b);
    free (a1);
    free (a2);

    /*  A multi-byte character straddling the cut is not split. */
    char t2[80];
    memset (t2, 'x', 53);
    memcpy (t2 + 53, "\xc3\xa9", 2); /* é at bytes 53-54 */
    memset (t2 + 55, 'y', 20);
    t2[75] = '\0';
    char *u = wes_name_generate (t2, NULL, 0, "key", 0);
    assert_true (strlen (u) <= WES_MAX_IDENT_BYTES);
    assert_int_equal (u[53], '_');
    free (u);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_snake),
        cmocka_unit_test (test_fits),
        cmocka_unit_test (test_generate),
        cmocka_unit_test (test_generate_long),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
