/*  test_curve.c — proto/wes_curve: key pairs (files, modes, no overwrite,
    --force), loading with errors for every kind of wrong file, and the
    allow directory's key set (added, removed, unreadable: fail closed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/wes_curve.h"
#include "wes_testutil.h"

static char *s_dir;

static int
s_setup (void **state)
{
    (void)state;
    umask (0);
    zsys_handler_set (NULL);
    s_dir = wes_test_tmpdir ("curve");
    return s_dir ? 0 : -1;
}

static int
s_teardown (void **state)
{
    (void)state;
    wes_test_rmtree (s_dir);
    free (s_dir);
    return 0;
}

static int
s_mode (const char *path)
{
    struct stat st;
    return stat (path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static void
s_expect (const char *error, const char *needle)
{
    assert_non_null (error);
    if (!strstr (error, needle)) {
        fail_msg ("error \"%s\" lacks \"%s\"", error, needle);
    }
}

static void
test_names (void **state)
{
    (void)state;
    assert_true (wes_curve_valid_name ("w1"));
    assert_true (wes_curve_valid_name ("coord.eu-1_a"));
    char long_ok[65], long_bad[66];
    memset (long_ok, 'a', 64);
    long_ok[64] = '\0';
    memset (long_bad, 'a', 65);
    long_bad[65] = '\0';
    assert_true (wes_curve_valid_name (long_ok));
    assert_false (wes_curve_valid_name (long_bad));
    const char *bad[] = {"", ".x", "a/b", "a b", "a\nb", "..", "é"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false (wes_curve_valid_name (bad[i]));
    }
    assert_false (wes_curve_valid_name (NULL));
    char *error = NULL;
    assert_int_equal (wes_curve_keygen (s_dir, "../up", false, NULL, NULL, &error), -1);
    s_expect (error, "not 1-64 characters");
    free (error);
}

static void
test_keygen_and_load (void **state)
{
    (void)state;
    char out[600];
    snprintf (out, sizeof out, "%s/a/b", s_dir);
    char *pub = NULL, *sec = NULL, *error = NULL;
    assert_int_equal (wes_curve_keygen (out, "w1", false, &pub, &sec, &error), 0);
    assert_null (error);
    assert_int_equal (s_mode (out), 0700);
    assert_int_equal (s_mode (pub), 0644);
    assert_int_equal (s_mode (sec), 0600);
    zcert_t *s = wes_curve_load_secret (sec, &error);
    assert_non_null (s);
    zcert_t *p = wes_curve_load_public (pub, &error);
    assert_non_null (p);
    assert_string_equal (zcert_public_txt (p), zcert_public_txt (s));
    zcert_destroy (&p);
    /*  Again without force: refused, the pair unchanged. */
    assert_int_equal (wes_curve_keygen (out, "w1", false, NULL, NULL, &error), -1);
    s_expect (error, "exists");
    free (error);
    error = NULL;
    zcert_t *same = wes_curve_load_secret (sec, &error);
    assert_string_equal (zcert_public_txt (same), zcert_public_txt (s));
    zcert_destroy (&same);
    /*  With force: a new pair, modes kept exact, no leftovers. */
    assert_int_equal (wes_curve_keygen (out, "w1", true, NULL, NULL, &error), 0);
    zcert_t *fresh = wes_curve_load_secret (sec, &error);
    assert_string_not_equal (zcert_public_txt (fresh), zcert_public_txt (s));
    zcert_destroy (&fresh);
    zcert_destroy (&s);
    assert_int_equal (s_mode (sec), 0600);
    char leftover[700];
    snprintf (leftover, sizeof leftover, "%s.new", sec);
    assert_int_equal (access (leftover, F_OK), -1);
    /*  The public certificate alone is not a secret one. */
    char lone_dir[600], lone[700];
    snprintf (lone_dir, sizeof lone_dir, "%s/lone", s_dir);
    assert_int_equal (mkdir (lone_dir, 0700), 0);
    snprintf (lone, sizeof lone, "%s/w1.cert", lone_dir);
    char *text = wes_test_read_file (pub, NULL);
    assert_int_equal (wes_test_write_file (lone, text), 0);
    free (text);
    assert_null (wes_curve_load_secret (lone, &error));
    s_expect (error, "only a public key");
    free (error);
    error = NULL;
    /*  Missing, a directory, not a certificate. */
    snprintf (lone, sizeof lone, "%s/missing.cert", lone_dir);
    assert_null (wes_curve_load_public (lone, &error));
    s_expect (error, "No such file");
    free (error);
    error = NULL;
    assert_null (wes_curve_load_public (lone_dir, &error));
    s_expect (error, "is not a file");
    free (error);
    error = NULL;
    snprintf (lone, sizeof lone, "%s/junk.cert", lone_dir);
    assert_int_equal (wes_test_write_file (lone, "curve\n    nothing = \"here\"\n"), 0);
    assert_null (wes_curve_load_public (lone, &error));
    s_expect (error, "not a CURVE certificate");
    free (error);
    error = NULL;
    /*  A regular file where the output directory should be. */
    assert_int_equal (wes_curve_keygen (lone, "x", false, NULL, NULL, &error), -1);
    s_expect (error, "not a directory");
    free (error);
    free (pub);
    free (sec);
}

static void
test_allow_dir (void **state)
{
    (void)state;
    char keys[600], allow[600];
    snprintf (keys, sizeof keys, "%s/keys", s_dir);
    snprintf (allow, sizeof allow, "%s/allow", s_dir);
    char *error = NULL;
    assert_null (wes_curve_allow_new (allow, &error));
    s_expect (error, "No such file");
    free (error);
    error = NULL;
    assert_int_equal (mkdir (allow, 0700), 0);
    wes_curve_allow_t *a = wes_curve_allow_new (allow, &error);
    assert_non_null (a);
    assert_int_equal (wes_curve_allow_count (a), 0);
    char *pub1 = NULL, *pub2 = NULL;
    assert_int_equal (wes_curve_keygen (keys, "k1", false, &pub1, NULL, &error), 0);
    assert_int_equal (wes_curve_keygen (keys, "k2", false, &pub2, NULL, &error), 0);
    zcert_t *c1 = wes_curve_load_public (pub1, &error);
    zcert_t *c2 = wes_curve_load_public (pub2, &error);
    char to[700];
    snprintf (to, sizeof to, "%s/k1.cert", allow);
    char *text = wes_test_read_file (pub1, NULL);
    assert_int_equal (wes_test_write_file (to, text), 0);
    free (text);
    /*  Junk and hidden files are no keys. */
    snprintf (to, sizeof to, "%s/README", allow);
    assert_int_equal (wes_test_write_file (to, "not a certificate\n"), 0);
    assert_true (wes_curve_allow_refresh (a) == 1);
    assert_true (wes_curve_allow_has (a, zcert_public_txt (c1)));
    assert_false (wes_curve_allow_has (a, zcert_public_txt (c2)));
    assert_false (wes_curve_allow_has (a, NULL));
    assert_int_equal (wes_curve_allow_count (a), 1);
    /*  Removed: revoked at the next refresh. */
    snprintf (to, sizeof to, "%s/k1.cert", allow);
    assert_int_equal (unlink (to), 0);
    assert_true (wes_curve_allow_refresh (a) >= 0);
    assert_false (wes_curve_allow_has (a, zcert_public_txt (c1)));
    /*  The directory gone: nobody is allowed (fail closed), and back. */
    text = wes_test_read_file (pub2, NULL);
    snprintf (to, sizeof to, "%s/k2.cert", allow);
    assert_int_equal (wes_test_write_file (to, text), 0);
    assert_true (wes_curve_allow_refresh (a) >= 0);
    assert_true (wes_curve_allow_has (a, zcert_public_txt (c2)));
    char moved[700];
    snprintf (moved, sizeof moved, "%s/moved", s_dir);
    assert_int_equal (rename (allow, moved), 0);
    assert_int_equal (wes_curve_allow_refresh (a), -1);
    assert_false (wes_curve_allow_has (a, zcert_public_txt (c2)));
    assert_int_equal (rename (moved, allow), 0);
    assert_int_equal (wes_curve_allow_refresh (a), 1);
    assert_true (wes_curve_allow_has (a, zcert_public_txt (c2)));
    assert_string_equal (wes_curve_allow_dir (a), allow);
    free (text);
    /*  A file where the directory should be. */
    assert_null (wes_curve_allow_new (pub1, &error));
    s_expect (error, "is not a directory");
    free (error);
    zcert_destroy (&c1);
    zcert_destroy (&c2);
    free (pub1);
    free (pub2);
    wes_curve_allow_destroy (&a);
    wes_curve_allow_destroy (&a);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_names),
        cmocka_unit_test (test_keygen_and_load),
        cmocka_unit_test (test_allow_dir),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
