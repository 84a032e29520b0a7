/*  test_types.c — scalar mapping and type-name normalisation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "schema/wes_types.h"

static void
s_norm_is (const char *in, const char *want)
{
    char *out = NULL;
    char err[256];
    int rc = wes_type_normalize (in, &out, err, sizeof err);
    if (rc != 0) {
        fail_msg ("normalize(%s) failed: %s", in, err);
    }
    if (strcmp (out, want) != 0) {
        fail_msg ("normalize(%s) = '%s', want '%s'", in, out, want);
    }
    free (out);
}

static void
s_norm_fails (const char *in, const char *msg_part)
{
    char *out = NULL;
    char err[256];
    int rc = wes_type_normalize (in, &out, err, sizeof err);
    if (rc == 0) {
        fail_msg ("normalize(%s) = '%s', want an error", in, out);
    }
    assert_null (out);
    if (!strstr (err, msg_part)) {
        fail_msg ("normalize(%s): error '%s' lacks '%s'", in, err, msg_part);
    }
}

static void
test_scalars (void **state)
{
    (void)state;
    assert_string_equal (wes_type_for_scalar ("ID"), "uuid");
    assert_string_equal (wes_type_for_scalar ("String"), "text");
    assert_string_equal (wes_type_for_scalar ("Int"), "integer");
    assert_string_equal (wes_type_for_scalar ("Float"), "double precision");
    assert_string_equal (wes_type_for_scalar ("Boolean"), "boolean");
    assert_string_equal (wes_type_for_scalar ("DateTime"), "timestamp with time zone");
    assert_string_equal (wes_type_for_scalar ("Date"), "date");
    assert_string_equal (wes_type_for_scalar ("Time"), "time without time zone");
    assert_string_equal (wes_type_for_scalar ("JSON"), "jsonb");
    assert_string_equal (wes_type_for_scalar ("UUID"), "uuid");
    assert_string_equal (wes_type_for_scalar ("BigInt"), "bigint");
    assert_string_equal (wes_type_for_scalar ("Decimal"), "numeric");
    assert_string_equal (wes_type_for_scalar ("Inet"), "inet");
    assert_string_equal (wes_type_for_scalar ("CIDR"), "cidr");
    assert_string_equal (wes_type_for_scalar ("MacAddr"), "macaddr");
    assert_null (wes_type_for_scalar ("string"));
    assert_null (wes_type_for_scalar ("Mystery"));
    assert_null (wes_type_for_scalar (NULL));
}

static void
test_normalize (void **state)
{
    (void)state;
    s_norm_is ("int", "integer");
    s_norm_is ("INT4", "integer");
    s_norm_is ("Integer", "integer");
    s_norm_is ("int8", "bigint");
    s_norm_is ("BIGINT", "bigint");
    s_norm_is ("int2", "smallint");
    s_norm_is ("smallint", "smallint");
    s_norm_is ("varchar(64)", "character varying(64)");
    s_norm_is ("VARCHAR ( 64 )", "character varying(64)");
    s_norm_is ("character varying(10)", "character varying(10)");
    s_norm_is ("character  varying", "character varying");
    s_norm_is ("varchar", "character varying");
    s_norm_is ("char(3)", "character(3)");
    s_norm_is ("char", "character(1)");
    s_norm_is ("bool", "boolean");
    s_norm_is ("float8", "double precision");
    s_norm_is ("double   precision", "double precision");
    s_norm_is ("float", "double precision");
    s_norm_is ("float(10)", "real");
    s_norm_is ("float(40)", "double precision");
    s_norm_is ("float4", "real");
    s_norm_is ("REAL", "real");
    s_norm_is ("decimal(12,2)", "numeric(12,2)");
    s_norm_is ("numeric(12, 2)", "numeric(12,2)");
    s_norm_is ("numeric(10)", "numeric(10,0)");
    s_norm_is ("decimal", "numeric");
    s_norm_is ("timestamptz", "timestamp with time zone");
    s_norm_is ("timestamp with time zone", "timestamp with time zone");
    s_norm_is ("timestamp", "timestamp without time zone");
    s_norm_is ("timestamp(3)", "timestamp(3) without time zone");
    s_norm_is ("timestamptz(6)", "timestamp(6) with time zone");
    s_norm_is ("TIMESTAMP (3) WITH TIME ZONE", "timestamp(3) with time zone");
    s_norm_is ("time", "time without time zone");
    s_norm_is ("timetz", "time with time zone");
    s_norm_is ("json", "json");
    s_norm_is ("JSONB", "jsonb");
    s_norm_is ("uuid", "uuid");
    s_norm_is (" text ", "text");
    s_norm_is ("bytea", "bytea");
    s_norm_is ("inet", "inet");
    s_norm_is ("cidr", "cidr");
    s_norm_is ("macaddr", "macaddr");
    s_norm_is ("date", "date");
    s_norm_is ("interval", "interval");
    s_norm_is ("text[]", "text[]");
    s_norm_is ("int[]", "integer[]");
    s_norm_is ("INT4 [ ]", "integer[]");
    s_norm_is ("integer[][]", "integer[]");
    s_norm_is ("varchar(5)[3]", "character varying(5)[]");
    s_norm_is ("CITEXT", "citext");
    s_norm_is ("geometry(Point, 4326)", "geometry(point,4326)");
    s_norm_is ("vector(3)", "vector(3)");
}

static void
test_normalize_errors (void **state)
{
    (void)state;
    s_norm_fails ("serial", "identity");
    s_norm_fails ("BIGSERIAL", "use a default");
    s_norm_fails ("smallserial", "not supported");
    s_norm_fails ("", "empty");
    s_norm_fails ("   ", "empty");
    s_norm_fails ("varchar(x)", "length");
    s_norm_fails ("varchar(0)", "length");
    s_norm_fails ("numeric(2,5)", "scale");
    s_norm_fails ("timestamp(9)", "precision");
    s_norm_fails ("text(5)", "no modifier");
    s_norm_fails ("integer(5)", "no modifier");
    s_norm_fails ("numeric(12,2", "malformed");
    s_norm_fails ("text[x]", "malformed array");
    s_norm_fails ("[]", "malformed array");
}

static void
test_class (void **state)
{
    (void)state;
    assert_int_equal (wes_type_class ("text"), WES_TYPE_CLASS_TEXT);
    assert_int_equal (wes_type_class ("character varying(5)"), WES_TYPE_CLASS_TEXT);
    assert_int_equal (wes_type_class ("character varying"), WES_TYPE_CLASS_TEXT);
    assert_int_equal (wes_type_class ("character(1)"), WES_TYPE_CLASS_TEXT);
    assert_int_equal (wes_type_class ("citext"), WES_TYPE_CLASS_TEXT);
    assert_int_equal (wes_type_class ("integer"), WES_TYPE_CLASS_INTEGER);
    assert_int_equal (wes_type_class ("bigint"), WES_TYPE_CLASS_INTEGER);
    assert_int_equal (wes_type_class ("smallint"), WES_TYPE_CLASS_INTEGER);
    assert_int_equal (wes_type_class ("numeric(12,2)"), WES_TYPE_CLASS_NUMBER);
    assert_int_equal (wes_type_class ("numeric"), WES_TYPE_CLASS_NUMBER);
    assert_int_equal (wes_type_class ("real"), WES_TYPE_CLASS_NUMBER);
    assert_int_equal (wes_type_class ("double precision"), WES_TYPE_CLASS_NUMBER);
    assert_int_equal (wes_type_class ("boolean"), WES_TYPE_CLASS_BOOLEAN);
    assert_int_equal (wes_type_class ("text[]"), WES_TYPE_CLASS_OTHER);
    assert_int_equal (wes_type_class ("jsonb"), WES_TYPE_CLASS_OTHER);
    assert_int_equal (wes_type_class ("timestamp with time zone"), WES_TYPE_CLASS_OTHER);
    assert_int_equal (wes_type_class (NULL), WES_TYPE_CLASS_OTHER);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_scalars),
        cmocka_unit_test (test_normalize),
        cmocka_unit_test (test_normalize_errors),
        cmocka_unit_test (test_class),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
