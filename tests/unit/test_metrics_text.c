/*  test_metrics_text.c — coordinator/wes_metrics without a fleet: the
    exposition text (label escaping, histogram buckets cumulative with the
    bound inclusive, +Inf, _sum/_count, every state and phase present),
    the bounded SQLSTATE label set, the health window, address parsing and
    listening (port 0 resolved, a port in use refused). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coordinator/wes_metrics.h"

static void
s_has (const char *text, const char *line)
{
    if (!strstr (text, line)) {
        fail_msg ("missing from the exposition: %s\n---\n%s", line, text);
    }
}

static void
test_render (void **state)
{
    (void)state;
    wes_metrics_t *m = wes_metrics_new ("a\"b\\c\nd", 7, 1000);
    assert_non_null (m);
    wes_metrics_step_duration (m, WES_STEP_TX, 0.01);   /* on the bound: le="0.01" */
    wes_metrics_step_duration (m, WES_STEP_TX, 0.011);  /* next bucket */
    wes_metrics_step_duration (m, WES_STEP_TX, 5000.0); /* above 1 h: +Inf only */
    wes_metrics_step_duration (m, WES_STEP_BATCHED, 2);
    wes_metrics_dispatch_latency (m, -1); /* a clock step back counts as 0 */
    wes_metrics_checkpoint_write (m, 0.002);
    wes_metrics_retry (m, "55P03");
    wes_metrics_retry (m, "55P03");
    wes_metrics_retry (m, NULL);
    wes_metrics_retry (m, "bad\"1");
    wes_metrics_gauges_t g;
    memset (&g, 0, sizeof g);
    g.steps[WES_SS_SUCCEEDED] = 3;
    g.steps[WES_SS_RETRY_WAIT] = 1;
    g.targets[WES_MPHASE_DONE] = 2;
    g.workers_connected = 4;
    g.workers_busy = 1;
    g.run_state = WES_RUN_FINISHED;
    wes_metrics_set_gauges (m, &g);
    char *t = wes_metrics_render (m);
    s_has (t, "# TYPE wesley_up gauge\nwesley_up 1\n");
    s_has (t, "wesley_run_info{run=\"a\\\"b\\\\c\\nd\",epoch=\"7\"} 1\n");
    s_has (t, "wesley_steps{state=\"pending\"} 0\n");
    s_has (t, "wesley_steps{state=\"succeeded\"} 3\n");
    s_has (t, "wesley_steps{state=\"retry_wait\"} 1\n");
    s_has (t, "wesley_steps{state=\"unknown\"} 0\n");
    s_has (t, "wesley_targets{phase=\"expand\"} 0\n");
    s_has (t, "wesley_targets{phase=\"done\"} 2\n");
    s_has (t, "wesley_targets{phase=\"failed\"} 0\n");
    s_has (t, "wesley_workers_connected 4\n");
    s_has (t, "wesley_workers_busy 1\n");
    s_has (t, "wesley_run_state{state=\"finished\"} 1\n");
    s_has (t, "wesley_run_state{state=\"running\"} 0\n");
    s_has (t, "# TYPE wesley_step_duration_seconds histogram\n");
    s_has (t, "wesley_step_duration_seconds_bucket{kind=\"tx\",le=\"0.01\"} 1\n");
    s_has (t, "wesley_step_duration_seconds_bucket{kind=\"tx\",le=\"0.025\"} 2\n");
    s_has (t, "wesley_step_duration_seconds_bucket{kind=\"tx\",le=\"3600\"} 2\n");
    s_has (t, "wesley_step_duration_seconds_bucket{kind=\"tx\",le=\"+Inf\"} 3\n");
    s_has (t, "wesley_step_duration_seconds_sum{kind=\"tx\"} 5000.021\n");
    s_has (t, "wesley_step_duration_seconds_count{kind=\"tx\"} 3\n");
    s_has (t, "wesley_step_duration_seconds_bucket{kind=\"batched\",le=\"1\"} 0\n");
    s_has (t, "wesley_step_duration_seconds_bucket{kind=\"batched\",le=\"2.5\"} 1\n");
    s_has (t, "wesley_step_duration_seconds_count{kind=\"nontx\"} 0\n");
    s_has (t, "wesley_dispatch_latency_seconds_bucket{le=\"0.0005\"} 1\n");
    s_has (t, "wesley_dispatch_latency_seconds_sum 0\n");
    s_has (t, "wesley_checkpoint_write_seconds_bucket{le=\"0.001\"} 0\n");
    s_has (t, "wesley_checkpoint_write_seconds_bucket{le=\"0.0025\"} 1\n");
    s_has (t, "wesley_checkpoint_write_seconds_count 1\n");
    s_has (t, "# TYPE wesley_step_retries_total counter\n");
    s_has (t, "wesley_step_retries_total{sqlstate=\"55P03\"} 2\n");
    s_has (t, "wesley_step_retries_total{sqlstate=\"none\"} 1\n");
    s_has (t, "wesley_step_retries_total{sqlstate=\"other\"} 1\n");
    /*  Every sample line is NAME[{...}] VALUE; no raw newline in a label. */
    char *copy = strdup (t);
    char *save = NULL;
    for (char *l = strtok_r (copy, "\n", &save); l; l = strtok_r (NULL, "\n", &save)) {
        if (l[0] == '#') {
            assert_true (strncmp (l, "# HELP ", 7) == 0 || strncmp (l, "# TYPE ", 7) == 0);
            continue;
        }
        assert_true (l[0] == 'w' || l[0] == 'p');
        assert_non_null (strrchr (l, ' '));
    }
    free (copy);
    free (t);
    wes_metrics_destroy (&m);
    assert_null (m);
    wes_metrics_destroy (&m);
}

static void
test_sqlstate_bound (void **state)
{
    (void)state;
    wes_metrics_t *m = wes_metrics_new ("r", 1, 1000);
    char code[8];
    for (int i = 0; i < WES_METRICS_MAX_SQLSTATES + 10; i++) {
        snprintf (code, sizeof code, "X%04d", i);
        wes_metrics_retry (m, code);
    }
    char *t = wes_metrics_render (m);
    size_t lines = 0;
    for (const char *p = t; (p = strstr (p, "wesley_step_retries_total{")); p++) {
        lines++;
    }
    assert_int_equal (lines, WES_METRICS_MAX_SQLSTATES + 1);
    s_has (t, "wesley_step_retries_total{sqlstate=\"other\"} 10\n");
    free (t);
    wes_metrics_destroy (&m);
}

static void
test_health (void **state)
{
    (void)state;
    wes_metrics_t *m = wes_metrics_new ("r", 1, 1000);
    assert_false (wes_metrics_healthy (m, 5000)); /* never ticked */
    wes_metrics_tick (m, 5000);
    assert_true (wes_metrics_healthy (m, 5000));
    assert_true (wes_metrics_healthy (m, 6000));
    assert_false (wes_metrics_healthy (m, 6001));
    wes_metrics_destroy (&m);
}

static void
test_address (void **state)
{
    (void)state;
    char host[64];
    uint16_t port = 1;
    assert_int_equal (wes_metrics_parse_address ("127.0.0.1:0", host, sizeof host, &port), 0);
    assert_string_equal (host, "127.0.0.1");
    assert_int_equal (port, 0);
    assert_int_equal (wes_metrics_parse_address (":9187", host, sizeof host, &port), 0);
    assert_string_equal (host, "");
    assert_int_equal (port, 9187);
    assert_int_equal (wes_metrics_parse_address ("[::1]:80", host, sizeof host, &port), 0);
    assert_string_equal (host, "::1");
    assert_int_equal (wes_metrics_parse_address ("0.0.0.0:65535", host, sizeof host, &port), 0);
    const char *bad[] = {"", "80", "x:", "x:65536", "x:-1", "::1:80", "a:1b", "[::1:80", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal (wes_metrics_parse_address (bad[i], host, sizeof host, &port), -1);
    }
    assert_int_equal (wes_metrics_parse_address ("averyveryverylonghostname:1", host, 8, &port),
                      -1);
}

static void
test_listen (void **state)
{
    (void)state;
    wes_metrics_t *a = wes_metrics_new ("r", 1, 1000);
    char *error = NULL;
    assert_null (wes_metrics_address (a));
    assert_int_equal (wes_metrics_listen (a, "127.0.0.1:0", &error), 0);
    const char *addr = wes_metrics_address (a);
    assert_non_null (addr);
    assert_true (strncmp (addr, "127.0.0.1:", 10) == 0 && strcmp (addr, "127.0.0.1:0") != 0);
    assert_int_equal (wes_metrics_listen (a, "127.0.0.1:0", &error), -1);
    assert_non_null (error);
    free (error);
    error = NULL;
    wes_metrics_t *b = wes_metrics_new ("r", 1, 1000);
    assert_int_equal (wes_metrics_listen (b, addr, &error), -1); /* in use */
    assert_non_null (strstr (error, addr));
    free (error);
    error = NULL;
    assert_int_equal (wes_metrics_listen (b, "nope", &error), -1);
    free (error);
    wes_metrics_destroy (&b);
    wes_metrics_destroy (&a);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_render), cmocka_unit_test (test_sqlstate_bound),
        cmocka_unit_test (test_health), cmocka_unit_test (test_address),
        cmocka_unit_test (test_listen),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
