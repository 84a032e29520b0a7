/*  test_security.c — issue 5: CURVE, keygen, secrets, 0600 files. One
    fleet (two databases in one cluster, the blog -> blog-v2 plan), the real
    `wesley run` coordinator and real `wesley-worker` processes over tcp
    loopback, certificates made by `wesley keygen`:

    - keygen writes CZMQ-layout files, the secret exactly 0600 under umask 0,
      refuses to overwrite and refuses bad names;
    - a CURVE run with authorized workers finishes drift-clean; its database
      role needs a password (a pg_hba scram rule) that reaches psql only
      through a 0600 passfile: the password is in no log line, not in the
      state file (nor its -wal), not in `status` / `status --json`, not in
      an ASSIGN a test DEALER receives, and in no /proc/PID/cmdline sampled
      while the run is live; the state file and its -wal/-shm are 0600;
    - a worker whose key is not allowed and a worker without keys never
      register and never get a step; the coordinator logs both refusals;
    - a revoked worker (its certificate removed mid-run, while it holds an
      attempt) is dropped, never gets another step, is refused on
      reconnect, and the run finishes with another worker;
    - a worker with keys does not register with a plaintext coordinator;
      `wesley cancel`'s request file is 0600;
    - the CLIs refuse half-given keys, a public certificate given as a
      secret one, and a password in the targets file in any syntax;
    - without keys, `wesley run`/`resume` and `wesley-worker` refuse to
      start (exit 2, no state file) unless --insecure-dev, loopback too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <czmq.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "plan/wes_plan.h"
#include "plan/wes_step.h"
#include "proto/wes_curve.h"
#include "proto/wes_proto.h"
#include "wes_fleetfix.h"
#include "wes_pgfix.h"
#include "wes_testassert.h"
#include "wes_testutil.h"

#define S_DBS 2
#define S_ROLE "wes_secret"
#define S_RUN_MS 120000
#define S_EVENT_MS 30000
#define S_COORD_FLAGS "--heartbeat-ms 200 --quiet"

typedef struct {
    wes_fleetfix_t *f;  /* the fleet */
    char *dir;          /* keys and files of this test */
    char own[600];      /* every pair made by keygen */
    char allow[600];    /* the coordinator's allow directory */
    char password[64];  /* the database role's password */
    char passfile[700]; /* the workers' passfile */
    char targets[700];  /* targets file naming the role (no password) */
} s_env_t;

static s_env_t s_env;
/*  The last coordinator started, so that a failed test cannot leave one
    behind to confuse the next (it would take the next run's cancel file). */
static int s_coord_pid;

/* ------------------------------------------------------------- helpers */

static int
s_mode (const char *path)
{
    struct stat st;
    return stat (path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

/*  The file at path holds needle within timeout_ms (printed when not). */
static bool
s_wait_log (const char *path, const char *needle, int timeout_ms)
{
    char *text = wes_test_wait_file (path, needle, 1, timeout_ms);
    free (text);
    return text != NULL;
}

/*  Bytes (any, NUL included) of a file contain needle. */
static bool
s_file_holds (const char *path, const char *needle)
{
    size_t len = 0;
    char *data = wes_test_read_file (path, &len);
    bool found = false;
    size_t n = strlen (needle);
    for (size_t i = 0; data && n <= len && i + n <= len && !found; i++) {
        found = memcmp (data + i, needle, n) == 0;
    }
    free (data);
    return found;
}

static void
s_worker_log (int k, char *out, size_t size)
{
    snprintf (out, size, "%s/worker%d.log", wes_fleetfix_dir (s_env.f), k);
}

/*  A fresh run: no state file, empty logs, no workers. */
static void
s_reset (void)
{
    if (s_coord_pid > 0) {
        kill (-s_coord_pid, SIGKILL);
        (void) wes_test_wait (s_coord_pid, 5000);
        s_coord_pid = 0;
    }
    for (int k = 0; k < WES_FLEETFIX_MAX_WORKERS; k++) {
        wes_fleetfix_signal_worker (s_env.f, k, SIGKILL);
        char log[700];
        s_worker_log (k, log, sizeof log);
        (void)unlink (log);
    }
    const char *suffix[] = {"", "-wal", "-shm", ".cancel"};
    for (size_t i = 0; i < 4; i++) {
        char path[700];
        snprintf (path, sizeof path, "%s%s", wes_fleetfix_state (s_env.f), suffix[i]);
        (void)unlink (path);
    }
    (void)unlink (wes_fleetfix_coord_log (s_env.f));
}

static void
s_keygen (const char *name)
{
    char cmd[1400], *out = NULL;
    snprintf (cmd, sizeof cmd, "'%s' keygen --out '%s' --name %s", WES_WESLEY_BIN, s_env.own, name);
    int rc = wes_test_run (cmd, &out);
    if (rc != 0) {
        fail_msg ("%s: exit %d: %s", cmd, rc, out ? out : "");
    }
    free (out);
}

static void
s_allow (const char *name)
{
    char from[700], to[700];
    snprintf (from, sizeof from, "%s/%s.cert", s_env.own, name);
    snprintf (to, sizeof to, "%s/%s.cert", s_env.allow, name);
    char *text = wes_test_read_file (from, NULL);
    assert_non_null (text);
    assert_int_equal (wes_test_write_file (to, text), 0);
    free (text);
}

/*  Coordinator flags: CURVE with our allow directory. */
static void
s_coord_curve (char *out, size_t size, const char *more)
{
    snprintf (out, size, "%s --curve-secret %s/coord.cert_secret --curve-allow %s %s",
              S_COORD_FLAGS, s_env.own, s_env.allow, more ? more : "");
}

/*  Worker flags: CURVE with the pair NAME. */
static void
s_worker_curve (char *out, size_t size, const char *name)
{
    snprintf (out, size, "--curve-secret %s/%s.cert_secret --curve-server %s/coord.cert", s_env.own,
              name, s_env.own);
}

static int
s_start_curve_coord (const char *more)
{
    char extra[2400];
    s_coord_curve (extra, sizeof extra, more);
    int pid = wes_fleetfix_start_coord (s_env.f, false, extra);
    assert_true (pid > 0);
    s_coord_pid = pid;
    assert_non_null (wes_fleetfix_endpoint (s_env.f, S_EVENT_MS));
    return pid;
}

static void
s_start_curve_worker (int k, const char *name)
{
    char extra[1400];
    s_worker_curve (extra, sizeof extra, name);
    assert_true (wes_fleetfix_start_worker (s_env.f, k, extra) > 0);
}

static int
s_wait_coord (int pid, int timeout_ms)
{
    int rc = wes_test_wait (pid, timeout_ms);
    if (rc != 0) {
        fprintf (stderr, "coordinator exit %d\n", rc);
        wes_fleetfix_dump_log (s_env.f);
    }
    return rc;
}

/*  Position just after the first line holding needle in the coordinator
    log, or -1. */
static long
s_log_after (const char *needle)
{
    char *text = wes_test_read_file (wes_fleetfix_coord_log (s_env.f), NULL);
    const char *p = text ? strstr (text, needle) : NULL;
    long at = p ? (long)(p - text) : -1;
    free (text);
    return at;
}

static int
s_log_count_from (long from, const char *needle)
{
    char *text = wes_test_read_file (wes_fleetfix_coord_log (s_env.f), NULL);
    int n = 0;
    if (text && from >= 0 && (size_t)from <= strlen (text)) {
        n = (int)wes_test_count (text + from, needle);
    }
    free (text);
    return n;
}

/* ------------------------------------------------------------- setup */

static int
s_setup (void **state)
{
    (void)state;
    umask (0); /* every mode below must come from the code, not the umask */
    zsys_handler_set (NULL);
    memset (&s_env, 0, sizeof s_env);
    s_env.f = wes_fleetfix_new (S_DBS, 3000, NULL);
    if (!s_env.f) {
        return -1;
    }
    s_env.dir = wes_test_tmpdir ("security");
    snprintf (s_env.own, sizeof s_env.own, "%s/keys", s_env.dir);
    snprintf (s_env.allow, sizeof s_env.allow, "%s/allow", s_env.dir);
    if (mkdir (s_env.allow, 0700) != 0) {
        return -1;
    }
    return 0;
}

static int
s_teardown (void **state)
{
    (void)state;
    wes_fleetfix_destroy (&s_env.f);
    if (s_env.dir) {
        wes_test_rmtree (s_env.dir);
    }
    free (s_env.dir);
    return 0;
}

/* ------------------------------------------------------------- tests */

/*  1. keygen: CZMQ layout, modes under umask 0, no overwrite, bad names. */
static void
test_keygen (void **state)
{
    (void)state;
    s_keygen ("coord");
    for (int k = 0; k < 4; k++) {
        char name[8];
        snprintf (name, sizeof name, "w%d", k);
        s_keygen (name);
    }
    char pub[700], sec[700];
    snprintf (pub, sizeof pub, "%s/w0.cert", s_env.own);
    snprintf (sec, sizeof sec, "%s/w0.cert_secret", s_env.own);
    assert_int_equal (s_mode (s_env.own), 0700);
    assert_int_equal (s_mode (pub), 0644);
    assert_int_equal (s_mode (sec), 0600);
    /*  CZMQ reads both; the public file holds no secret key. */
    zcert_t *s = zcert_load (sec);
    assert_non_null (s);
    assert_string_not_equal (zcert_secret_txt (s), "0000000000000000000000000000000000000000");
    zconfig_t *pc = zconfig_load (pub);
    assert_non_null (pc);
    assert_string_equal (zconfig_get (pc, "curve/public-key", ""), zcert_public_txt (s));
    assert_null (zconfig_get (pc, "curve/secret-key", NULL));
    assert_string_equal (zconfig_get (pc, "metadata/name", ""), "w0");
    zconfig_destroy (&pc);
    char *error = NULL;
    zcert_t *again = wes_curve_load_secret (sec, &error);
    assert_non_null (again);
    assert_string_equal (zcert_public_txt (again), zcert_public_txt (s));
    zcert_destroy (&again);

    /*  No overwrite without --force: the key stays. */
    char cmd[1400], *out = NULL;
    snprintf (cmd, sizeof cmd, "'%s' keygen --out '%s' --name w0", WES_WESLEY_BIN, s_env.own);
    wes_test_expect (cmd, 1, "exists");
    zcert_t *same = zcert_load (sec);
    assert_string_equal (zcert_public_txt (same), zcert_public_txt (s));
    zcert_destroy (&same);
    /*  --force: a new pair, still 0600. */
    snprintf (cmd, sizeof cmd, "'%s' keygen --out '%s' --name w0 --force", WES_WESLEY_BIN,
              s_env.own);
    wes_test_expect (cmd, 0, "w0.cert_secret");
    assert_int_equal (s_mode (sec), 0600);
    zcert_t *fresh = zcert_load (sec);
    assert_string_not_equal (zcert_public_txt (fresh), zcert_public_txt (s));
    zcert_destroy (&fresh);
    zcert_destroy (&s);

    /*  Bad names and usage: exit 2, nothing written. */
    const char *bad[] = {"--name 'a/b'",
                         "--name .hidden",
                         "--name ''",
                         "--name 'a b'",
                         "--name "
                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                         "",
                         "--name x --bogus"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf (cmd, sizeof cmd, "'%s' keygen --out '%s/bad' %s", WES_WESLEY_BIN, s_env.dir,
                  bad[i]);
        int rc = wes_test_run (cmd, &out);
        if (rc != 2) {
            fail_msg ("%s: exit %d: %s", cmd, rc, out ? out : "");
        }
        free (out);
    }
    snprintf (cmd, sizeof cmd, "%s/bad", s_env.dir);
    assert_int_equal (access (cmd, F_OK), -1);
    snprintf (cmd, sizeof cmd, "'%s' keygen --help", WES_WESLEY_BIN);
    out = wes_test_expect_output (cmd, 0, "--force");
    wes_test_has (out, "default");
    free (out);
    s_allow ("w0");
    s_allow ("w1");
}

/*  The CLIs refuse half-given keys, wrong certificates and passwords. */
static void
test_cli_refusals (void **state)
{
    (void)state;
    wes_fleetfix_t *f = s_env.f;
    char cmd[12000], *out = NULL;
    /*  Half-given keys, a missing file, a public certificate where the
        secret one is needed (w1.cert alone in the allow directory, so
        that no NAME.cert_secret stands beside it), a missing directory. */
    char args[5][1600];
    const char *says[5] = {"--curve-allow", "--curve-secret", "missing", "only a public key",
                           "nowhere"};
    snprintf (args[0], sizeof args[0], "--curve-secret %s/coord.cert_secret", s_env.own);
    snprintf (args[1], sizeof args[1], "--curve-allow %s", s_env.allow);
    snprintf (args[2], sizeof args[2], "--curve-secret %s/missing.cert_secret --curve-allow %s",
              s_env.own, s_env.allow);
    snprintf (args[3], sizeof args[3], "--curve-secret %s/w1.cert --curve-allow %s", s_env.allow,
              s_env.allow);
    snprintf (args[4], sizeof args[4],
              "--curve-secret %s/coord.cert_secret --curve-allow %s/nowhere", s_env.own, s_env.own);
    for (size_t i = 0; i < 5; i++) {
        snprintf (cmd, sizeof cmd, "'%s' run --plan '%s' --targets '%s' --state '%s/refused.db' %s",
                  WES_WESLEY_BIN, wes_fleetfix_plan (f), wes_fleetfix_targets (f), s_env.dir,
                  args[i]);
        int rc = wes_test_run (cmd, &out);
        if (rc != 2 || !strstr (out, says[i])) {
            fail_msg ("%s: exit %d: %s", cmd, rc, out ? out : "");
        }
        free (out);
    }
    /*  Nothing was written for a refused run. */
    snprintf (cmd, sizeof cmd, "%s/refused.db", s_env.dir);
    assert_int_equal (access (cmd, F_OK), -1);
    /*  The worker: half-given keys, a public certificate as its secret. */
    snprintf (args[0], sizeof args[0], "--curve-secret %s/w0.cert_secret", s_env.own);
    snprintf (args[1], sizeof args[1], "--curve-server %s/coord.cert", s_env.own);
    snprintf (args[2], sizeof args[2], "--curve-secret %s/w1.cert --curve-server %s/coord.cert",
              s_env.allow, s_env.own);
    for (size_t i = 0; i < 3; i++) {
        snprintf (cmd, sizeof cmd, "'%s' --connect tcp://127.0.0.1:1 %s", WES_WORKER_BIN, args[i]);
        int rc = wes_test_run (cmd, &out);
        if (rc != 2 || !strstr (out, i < 2 ? "or neither" : "only a public key")) {
            fail_msg ("%s: exit %d: %s", cmd, rc, out ? out : "");
        }
        free (out);
    }
    /*  No keys and no --insecure-dev: refused (exit 2) whatever the
        endpoint, loopback included, and the message names both ways out. */
    const char *eps[] = {"tcp://10.1.2.3:5555", "tcp://127.0.0.1:1", "ipc:///nowhere"};
    for (size_t i = 0; i < sizeof eps / sizeof eps[0]; i++) {
        snprintf (cmd, sizeof cmd, "'%s' --connect %s", WES_WORKER_BIN, eps[i]);
        int rc = wes_test_run (cmd, &out);
        if (rc != 2 || !strstr (out, "wesley keygen") || !strstr (out, "--curve-secret")
            || !strstr (out, "--curve-server") || !strstr (out, "--insecure-dev")) {
            fail_msg ("%s: exit %d: %s", cmd, rc, out ? out : "");
        }
        free (out);
    }
    /*  The coordinator likewise: run (loopback by default, or given),
        run --resume-existing and resume, before any state file exists. */
    char nokeys[700];
    snprintf (nokeys, sizeof nokeys, "%s/nokeys.db", s_env.dir);
    const char *more[] = {"", "--bind tcp://127.0.0.1:!", "--resume-existing", NULL};
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) {
        if (more[i]) {
            snprintf (cmd, sizeof cmd, "'%s' run --plan '%s' --targets '%s' --state '%s' %s",
                      WES_WESLEY_BIN, wes_fleetfix_plan (f), wes_fleetfix_targets (f), nokeys,
                      more[i]);
        }
        else {
            snprintf (cmd, sizeof cmd, "'%s' resume --state '%s'", WES_WESLEY_BIN, nokeys);
        }
        int rc = wes_test_run (cmd, &out);
        if (rc != 2 || !strstr (out, "wesley keygen") || !strstr (out, "--curve-secret")
            || !strstr (out, "--curve-allow") || !strstr (out, "--insecure-dev")) {
            fail_msg ("%s: exit %d: %s", cmd, rc, out ? out : "");
        }
        free (out);
        assert_int_equal (access (nokeys, F_OK), -1);
    }
    /*  Help lists the new flags with defaults. */
    snprintf (cmd, sizeof cmd, "'%s' run --help", WES_WESLEY_BIN);
    out = wes_test_expect_output (cmd, 0, "--curve-secret");
    wes_test_has (out, "--curve-allow");
    wes_test_has (out, "--insecure-dev");
    free (out);
    snprintf (cmd, sizeof cmd, "'%s' --help", WES_WORKER_BIN);
    wes_test_expect (cmd, 0, "--curve-server");

    /*  A password in the targets file, in every syntax: exit 2, the message
        says passfile / service file and does not repeat the password. */
    const char *forms[] = {"t host=/tmp dbname=a password=Hunter2pw",
                           "t host=/tmp dbname=a PASSWORD = 'Hunter2pw'",
                           "t postgresql://u:Hunter2pw@localhost/a",
                           "t postgres://u:Hunter2pw@[::1/a",
                           "t postgresql://u@localhost/a?password=Hunter2pw",
                           "t host=/tmp dbname=a PGPASSWORD=Hunter2pw"};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        char path[700], line[300];
        snprintf (path, sizeof path, "%s/pw-targets-%zu.txt", s_env.dir, i);
        snprintf (line, sizeof line, "%s\n", forms[i]);
        assert_int_equal (wes_test_write_file (path, line), 0);
        snprintf (cmd, sizeof cmd,
                  "'%s' run --plan '%s' --targets '%s' --state '%s/pw-%zu.db' --insecure-dev",
                  WES_WESLEY_BIN, wes_fleetfix_plan (f), path, s_env.dir, i);
        int rc = wes_test_run (cmd, &out);
        if (rc != 2 || !strstr (out, "passfile") || !strstr (out, "service file")
            || strstr (out, "Hunter2pw")) {
            fail_msg ("%s: exit %d: %s", forms[i], rc, out ? out : "");
        }
        free (out);
    }
}

/*  Registers as worker "spy" with its own allowed certificate, takes one
    ASSIGN, checks no field of it holds the password, says goodbye. */
static void
s_spy (const char *endpoint)
{
    zcert_t *cert = zcert_new ();
    char path[700];
    snprintf (path, sizeof path, "%s/spy.cert", s_env.allow);
    assert_int_equal (zcert_save_public (cert, path), 0);
    char server_path[700];
    snprintf (server_path, sizeof server_path, "%s/coord.cert", s_env.own);
    zcert_t *server = zcert_load (server_path);
    assert_non_null (server);
    zsock_t *d = zsock_new (ZMQ_DEALER);
    zsock_set_identity (d, "spy");
    wes_curve_apply_client (d, cert, zcert_public_txt (server));
    assert_int_equal (zsock_connect (d, "%s", endpoint), 0);
    wes_msg_t *ready = wes_msg_new (WES_MSG_READY);
    wes_msg_set (&ready->worker_id, "spy");
    wes_msg_set (&ready->version, "test");
    ready->capacity = 1;
    uint8_t header[WES_PROTO_HEADER_SIZE];
    uint8_t *body = NULL;
    size_t len = 0;
    assert_int_equal (wes_proto_encode (ready, header, &body, &len), 0);
    zmsg_t *m = zmsg_new ();
    zmsg_addmem (m, header, sizeof header);
    zmsg_addmem (m, body, len);
    free (body);
    assert_int_equal (zmsg_send (&m, d), 0);
    wes_msg_destroy (&ready);
    wes_msg_t *assign = NULL;
    int64_t until = wes_test_now_ms () + S_EVENT_MS;
    zpoller_t *poller = zpoller_new (d, NULL);
    while (!assign && wes_test_now_ms () < until) {
        if (!zpoller_wait (poller, 100)) {
            continue;
        }
        zmsg_t *in = zmsg_recv (d);
        if (!in || zmsg_size (in) != 2) {
            zmsg_destroy (&in);
            continue;
        }
        zframe_t *h = zmsg_first (in);
        zframe_t *b = zmsg_next (in);
        char reason[128];
        wes_msg_t *msg = wes_proto_decode (zframe_data (h), zframe_size (h), zframe_data (b),
                                           zframe_size (b), reason, sizeof reason);
        zmsg_destroy (&in);
        assert_non_null (msg);
        if (msg->type == WES_MSG_ASSIGN) {
            assign = msg;
            break;
        }
        if (msg->type == WES_MSG_HEARTBEAT) {
            wes_msg_t *hb = wes_msg_new (WES_MSG_HEARTBEAT);
            assert_int_equal (wes_proto_encode (hb, header, &body, &len), 0);
            zmsg_t *o = zmsg_new ();
            zmsg_addmem (o, header, sizeof header);
            zmsg_addmem (o, body, len);
            free (body);
            (void)zmsg_send (&o, d);
            wes_msg_destroy (&hb);
        }
        wes_msg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    assert_non_null (assign);
    /*  It is this run's ASSIGN (the role), and no field carries the secret. */
    wes_test_has (assign->conninfo, "user=" S_ROLE);
    const char *fields[] = {assign->attempt_id, assign->target, assign->conninfo, assign->step_id,
                            assign->sql};
    for (size_t i = 0; i < 5; i++) {
        assert_non_null (fields[i]);
        assert_null (strstr (fields[i], s_env.password));
    }
    assert_null (strstr (assign->conninfo, "password"));
    wes_msg_destroy (&assign);
    wes_msg_t *bye = wes_msg_new (WES_MSG_DISCONNECT);
    wes_msg_set (&bye->message, "spy done");
    assert_int_equal (wes_proto_encode (bye, header, &body, &len), 0);
    m = zmsg_new ();
    zmsg_addmem (m, header, sizeof header);
    zmsg_addmem (m, body, len);
    free (body);
    (void)zmsg_send (&m, d);
    wes_msg_destroy (&bye);
    zsock_set_linger (d, 1000);
    zsock_destroy (&d);
    zcert_destroy (&cert);
    zcert_destroy (&server);
    (void)unlink (path);
}

/*  Walks /proc: every command line, NULs as spaces. Returns how many
    hold needle; counts the worker and psql processes seen. */
static int
s_scan_proc (const char *needle, int *workers, int *psqls)
{
    DIR *d = opendir ("/proc");
    assert_non_null (d);
    struct dirent *e;
    int hits = 0;
    static char buf[1 << 16];
    while ((e = readdir (d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') {
            continue;
        }
        char path[300];
        snprintf (path, sizeof path, "/proc/%s/cmdline", e->d_name);
        int fd = open (path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        ssize_t n = read (fd, buf, sizeof buf - 1);
        close (fd);
        if (n <= 0) {
            continue;
        }
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\0') {
                buf[i] = ' ';
            }
        }
        buf[n] = '\0';
        hits += strstr (buf, needle) != NULL;
        *workers += strstr (buf, "wesley-worker") != NULL;
        *psqls += strstr (buf, "/psql ") != NULL;
    }
    closedir (d);
    return hits;
}

/*  2, 6, 7: an authorized CURVE run whose role needs a password that
    reaches psql only through a passfile; the password is nowhere; the
    state file and its -wal/-shm are 0600. */
static void
test_curve_run_secrets (void **state)
{
    (void)state;
    wes_fleetfix_t *f = s_env.f;
    wes_pgfix_t *pg = wes_fleetfix_pg (f);
    s_reset ();
    /*  A role that needs its password over the unix socket. */
    srand ((unsigned)(time (NULL) ^ getpid ()));
    snprintf (s_env.password, sizeof s_env.password, "Pw%08x%08xZ", (unsigned)rand (),
              (unsigned)rand ());
    char sql[256];
    snprintf (sql, sizeof sql, "CREATE ROLE " S_ROLE " LOGIN SUPERUSER PASSWORD '%s'",
              s_env.password);
    assert_int_equal (wes_pgfix_exec (pg, NULL, sql), 0);
    assert_int_equal (wes_pgfix_hba_prepend (pg, "local all " S_ROLE " scram-sha-256"), 0);
    snprintf (s_env.passfile, sizeof s_env.passfile, "%s/pgpass", s_env.dir);
    int fd = open (s_env.passfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true (fd >= 0);
    char line[128];
    int n = snprintf (line, sizeof line, "*:*:*:%s:%s\n", S_ROLE, s_env.password);
    assert_int_equal (write (fd, line, (size_t)n), n);
    close (fd);
    /*  Without the passfile the role is refused; with it, admitted: the
        password is really needed and really comes from the passfile. */
    char ci[1400];
    snprintf (ci, sizeof ci, "host=%s port=%d user=%s dbname=postgres passfile=/nonexistent/pgpass",
              wes_pgfix_dir (pg), wes_pgfix_port (pg), S_ROLE);
    PGconn *c = PQconnectdb (ci);
    assert_int_not_equal (PQstatus (c), CONNECTION_OK);
    PQfinish (c);
    snprintf (ci, sizeof ci, "host=%s port=%d user=%s dbname=postgres passfile=%s",
              wes_pgfix_dir (pg), wes_pgfix_port (pg), S_ROLE, s_env.passfile);
    c = PQconnectdb (ci);
    assert_int_equal (PQstatus (c), CONNECTION_OK);
    PQfinish (c);
    /*  Targets: the role, no password. */
    snprintf (s_env.targets, sizeof s_env.targets, "%s/targets-role.txt", s_env.dir);
    FILE *tf = fopen (s_env.targets, "w");
    assert_non_null (tf);
    for (size_t i = 0; i < S_DBS; i++) {
        fprintf (tf, "%s host=%s port=%d user=%s dbname=%s\n", wes_fleetfix_db (f, i),
                 wes_pgfix_dir (pg), wes_pgfix_port (pg), S_ROLE, wes_fleetfix_db (f, i));
    }
    fclose (tf);
    assert_int_equal (setenv ("PGPASSFILE", s_env.passfile, 1), 0);

    char more[800];
    snprintf (more, sizeof more, "--targets %s", s_env.targets);
    int coord = s_start_curve_coord (more);
    const char *state_path = wes_fleetfix_state (f);
    char wal[700], shm[700];
    snprintf (wal, sizeof wal, "%s-wal", state_path);
    snprintf (shm, sizeof shm, "%s-shm", state_path);
    /*  7: while the coordinator holds it, the store and its WAL files. */
    assert_int_equal (s_mode (state_path), 0600);
    assert_int_equal (s_mode (wal), 0600);
    assert_int_equal (s_mode (shm), 0600);
    /*  Messages: a worker of our own takes an ASSIGN and reads it. */
    s_spy (wes_fleetfix_endpoint (f, S_EVENT_MS));
    s_start_curve_worker (0, "w0");
    s_start_curve_worker (1, "w1");
    /*  Sampled while the run is live: command lines and the WAL. */
    int samples = 0, workers_seen = 0, psqls_seen = 0, cmd_hits = 0, wal_hits = 0;
    int rc = -1;
    int64_t until = wes_test_now_ms () + S_RUN_MS;
    while (wes_test_now_ms () < until) {
        rc = wes_test_wait (coord, 0);
        if (rc >= 0) {
            break;
        }
        cmd_hits += s_scan_proc (s_env.password, &workers_seen, &psqls_seen);
        wal_hits += s_file_holds (wal, s_env.password);
        samples++;
    }
    if (rc != 0) {
        rc = s_wait_coord (coord, 1000);
    }
    unsetenv ("PGPASSFILE");
    assert_int_equal (rc, 0);
    printf ("# /proc sampled %d times while live: %d worker and %d psql command lines seen\n",
            samples, workers_seen, psqls_seen);
    assert_true (samples > 0);
    assert_true (workers_seen > 0);
    assert_int_equal (cmd_hits, 0);
    assert_int_equal (wal_hits, 0);
    /*  2: the run finished drift-clean, over CURVE, by the two workers. */
    assert_int_equal (wes_fleetfix_check (f), 0);
    const char *log = wes_fleetfix_coord_log (f);
    assert_true (wes_test_count_file (log, "CURVE on") > 0);
    assert_true (wes_test_count_file (log, "worker w0 authenticated by CURVE key") > 0);
    assert_true (wes_test_count_file (log, "to worker spy") > 0);
    assert_true (
        wes_test_count_file (log, "to worker w0") + wes_test_count_file (log, "to worker w1") > 0);
    /*  6: the password is in no log line, not in the state file, not in status. */
    assert_false (s_file_holds (log, s_env.password));
    for (int k = 0; k < 2; k++) {
        char wl[700];
        s_worker_log (k, wl, sizeof wl);
        assert_true (wes_test_count_file (wl, "CURVE") > 0);
        assert_false (s_file_holds (wl, s_env.password));
    }
    assert_false (s_file_holds (state_path, s_env.password));
    assert_false (s_file_holds (wal, s_env.password));
    assert_true (s_file_holds (state_path, "user=" S_ROLE)); /* the right bytes were read */
    char cmd[1400], *out = NULL;
    snprintf (cmd, sizeof cmd, "'%s' status --state '%s'", WES_WESLEY_BIN, state_path);
    out = wes_test_expect_output (cmd, 0, "finished");
    assert_null (strstr (out, s_env.password));
    free (out);
    int src = -1;
    out = wes_fleetfix_status_json (f, &src);
    assert_int_equal (src, 0);
    wes_test_has (out, "finished");
    assert_null (strstr (out, s_env.password));
    free (out);
    assert_int_equal (s_mode (state_path), 0600);
}

/*  3 and 5: a worker whose key is not allowed and a worker without keys
    never register; the coordinator logs both refusals with the peer. */
static void
test_unknown_and_plaintext_refused (void **state)
{
    (void)state;
    wes_fleetfix_t *f = s_env.f;
    s_reset ();
    int coord = s_start_curve_coord (NULL);
    s_start_curve_worker (2, "w2"); /* a good certificate, but not in the allow dir */
    /*  No keys at all: plaintext as asked (the alias of --insecure-dev). */
    assert_true (wes_fleetfix_start_worker (f, 3, "--insecure") > 0);
    const char *log = wes_fleetfix_coord_log (f);
    assert_true (s_wait_log (log, "refused: its CURVE key is not allowed", S_EVENT_MS));
    assert_true (s_wait_log (log, "refused: it does not speak CURVE", S_EVENT_MS));
    /*  With the peer's address: a refusal whose connection closed before
        its address was asked logs "from ?"; the workers keep retrying, so
        addressed lines follow (at most one per reason every 5 s). */
    char *seen = wes_test_wait_file (log, "worker connection from 127.0.0.1:", 2, S_EVENT_MS);
    assert_non_null (seen);
    free (seen);
    /*  And the workers say why they get nowhere. */
    char wl[700];
    s_worker_log (2, wl, sizeof wl);
    assert_true (s_wait_log (wl, "the coordinator refused this worker's CURVE key", S_EVENT_MS));
    s_worker_log (3, wl, sizeof wl);
    assert_true (s_wait_log (wl, "the coordinator requires CURVE", S_EVENT_MS));
    /*  Both keep trying while an allowed worker does the run. */
    s_start_curve_worker (1, "w1");
    assert_int_equal (s_wait_coord (coord, S_RUN_MS), 0);
    assert_true (wes_test_count_file (log, "to worker w1") > 0);
    const char *never[] = {"worker w2 ready", "worker w3 ready",         "to worker w2",
                           "to worker w3",    "worker w2 authenticated", "peer w2",
                           "peer w3"};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
        if (wes_test_count_file (log, never[i]) != 0) {
            fail_msg ("coordinator log holds \"%s\"", never[i]);
        }
    }
    /*  Store: no instance ever went to them (events and status). */
    int src = -1;
    char *out = wes_fleetfix_status_json (f, &src);
    assert_null (strstr (out, "\"w2\""));
    assert_null (strstr (out, "\"w3\""));
    free (out);
    assert_false (s_file_holds (wes_fleetfix_state (f), "to worker w2"));
    assert_false (s_file_holds (wes_fleetfix_state (f), "to worker w3"));
    assert_true (s_file_holds (wes_fleetfix_state (f), "to worker w1"));
}

static bool
s_held_by_w0 (const wes_store_step_t *row, const char *step_id, void *arg)
{
    (void)step_id;
    (void)arg;
    return row->worker && strcmp (row->worker, "w0") == 0
           && (row->state == WES_SS_DISPATCHED || row->state == WES_SS_RUNNING);
}

/*  4: a worker revoked while it holds an attempt is dropped, never gets
    another step, is refused on reconnect; the run ends with another. */
static void
test_revoked (void **state)
{
    (void)state;
    wes_fleetfix_t *f = s_env.f;
    s_reset ();
    /*  Hold every step's advisory key on every database, so that attempts
        wait (and stay in flight) until we let go. */
    wes_plan_t *plan = wes_plan_load (wes_fleetfix_plan (f), NULL);
    assert_non_null (plan);
    PGconn *held[S_DBS];
    for (size_t i = 0; i < S_DBS; i++) {
        held[i] = wes_fleetfix_connect (f, wes_fleetfix_db (f, i));
        assert_non_null (held[i]);
        for (size_t s = 0; s < wes_plan_count (plan); s++) {
            char sql[128];
            snprintf (sql, sizeof sql, "SELECT pg_advisory_lock(%lld)",
                      (long long)wes_step_lock_key (wes_plan_step (plan, s)));
            PGresult *r = wes_pgfix_query (held[i], sql);
            assert_non_null (r);
            PQclear (r);
        }
    }
    wes_plan_destroy (&plan);
    int coord = s_start_curve_coord (NULL);
    s_start_curve_worker (0, "w0");
    char worker[64] = "", attempt[64] = "";
    assert_true (wes_fleetfix_wait_step (f, s_held_by_w0, NULL, S_EVENT_MS, worker, sizeof worker,
                                         attempt, sizeof attempt));
    /*  Revoke: its certificate leaves the allow directory. */
    char cert[700];
    snprintf (cert, sizeof cert, "%s/w0.cert", s_env.allow);
    assert_int_equal (unlink (cert), 0);
    const char *log = wes_fleetfix_coord_log (f);
    assert_true (s_wait_log (log, "worker w0 revoked", S_EVENT_MS));
    long at = s_log_after ("worker w0 revoked");
    assert_true (at >= 0);
    /*  Its reconnect is refused at the handshake. */
    assert_true (s_wait_log (log, "refused: its CURVE key is not allowed", S_EVENT_MS));
    /*  Let go; an allowed worker finishes the run. */
    for (size_t i = 0; i < S_DBS; i++) {
        PQfinish (held[i]);
    }
    s_start_curve_worker (1, "w1");
    assert_int_equal (s_wait_coord (coord, S_RUN_MS), 0);
    assert_int_equal (s_log_count_from (at, "to worker w0"), 0);
    assert_true (s_log_count_from (at, "to worker w1") > 0);
    assert_true (wes_test_count_file (log, "worker w0 lost: revoked") > 0);
    /*  Its attempt was handled like a dead worker's: UNKNOWN, requeued. */
    assert_true (s_file_holds (wes_fleetfix_state (f),
                               "worker w0 revoked (certificate removed from the allow directory) "
                               "while holding attempt"));
    assert_int_equal (wes_fleetfix_check (f), 0);
    /*  Put it back for later tests. */
    s_allow ("w0");
}

/*  5 (the other way) and 7 (cancel file): a worker with keys does not
    register with a plaintext coordinator; `wesley cancel` writes its
    request 0600. */
static void
test_keys_against_plaintext (void **state)
{
    (void)state;
    wes_fleetfix_t *f = s_env.f;
    s_reset ();
    int coord = wes_fleetfix_start_coord (f, false, S_COORD_FLAGS " --insecure-dev");
    assert_true (coord > 0);
    s_coord_pid = coord;
    assert_non_null (wes_fleetfix_endpoint (f, S_EVENT_MS));
    s_start_curve_worker (1, "w1");
    const char *log = wes_fleetfix_coord_log (f);
    /*  Both sides read the other's greeting at once: the side that sees
        the mechanism mismatch first closes, and the other may then see
        only a reset ("handshake failed"). Either way the refusal is
        logged on both sides and the worker never registers. */
    char *text = wes_test_wait_file (log, "worker connection from", 1, S_EVENT_MS);
    assert_non_null (text);
    assert_true (strstr (text, "refused: it speaks CURVE but this coordinator runs without")
                 || strstr (text, "refused: handshake failed"));
    free (text);
    assert_true (wes_test_count_file (log, "CURVE off") > 0);
    char wl[700];
    s_worker_log (1, wl, sizeof wl);
    text = wes_test_wait_file (wl, "; retrying", 1, S_EVENT_MS);
    assert_non_null (text);
    assert_true (strstr (text, "the coordinator runs without CURVE keys")
                 || strstr (text, "handshake failed"));
    free (text);
    assert_int_equal (wes_test_count_file (log, "worker w1 ready"), 0);
    /*  The cancel request of `wesley cancel` while the coordinator is
        stopped (so that the file stays long enough to be looked at). */
    assert_int_equal (kill (coord, SIGSTOP), 0);
    char clog[700];
    snprintf (clog, sizeof clog, "%s/cancel.log", s_env.dir);
    char *argv[] = {(char *)WES_WESLEY_BIN, "cancel", "--state", (char *)wes_fleetfix_state (f),
                    NULL};
    int cancel = wes_test_spawn (argv, clog);
    assert_true (cancel > 0);
    char req[700];
    snprintf (req, sizeof req, "%s.cancel", wes_fleetfix_state (f));
    int64_t until = wes_test_now_ms () + S_EVENT_MS;
    while (access (req, F_OK) != 0 && wes_test_now_ms () < until) {
        wes_test_sleep_ms (20);
    }
    int mode = s_mode (req);
    assert_int_equal (kill (coord, SIGCONT), 0);
    assert_int_equal (mode, 0600);
    int crc = wes_test_wait (cancel, S_EVENT_MS);
    if (crc != 0) {
        char *ctext = wes_test_read_file (clog, NULL);
        fprintf (stderr, "wesley cancel exit %d: %s\n", crc, ctext ? ctext : "");
        free (ctext);
    }
    assert_int_equal (crc, 0);
    assert_int_equal (s_wait_coord (coord, S_EVENT_MS), 4);
    assert_int_equal (wes_test_count_file (log, "worker w1 ready"), 0);
    assert_int_equal (wes_test_count_file (log, "to worker w1"), 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_keygen),
        cmocka_unit_test (test_cli_refusals),
        cmocka_unit_test (test_curve_run_secrets),
        cmocka_unit_test (test_unknown_and_plaintext_refused),
        cmocka_unit_test (test_revoked),
        cmocka_unit_test (test_keys_against_plaintext),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
