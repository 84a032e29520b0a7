/*  test_deploy.c — deploy/ cannot rot. Every .yaml file of deploy/k8s parses
    (libyaml, multi-document) and every document has apiVersion, kind and
    metadata.name. Every container that runs `wesley` or `wesley-worker`
    runs the real binary with the manifest's exact arguments plus a
    trailing --help, which must exit 0 (the parsers refuse an unknown flag
    before --help), and each flag it uses must be listed in that verb's
    --help; each file path given to any container lies under one of its
    volumeMounts; a container with --metrics HOST:PORT has liveness
    (/healthz) and readiness (/readyz) probes on that port; a worker's
    --connect names a Service and port of the manifests; pods run as the
    non-root user of the Dockerfile's final stage, whose USER is non-root.
    Then `cmake --install` of the build directory into a temporary prefix
    installs both programs and their man pages, and the installed wesley
    runs --version. */
#define _GNU_SOURCE /* strcasestr */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "wes_testassert.h"
#include "wes_testflags.h"
#include "wes_testutil.h"

#define S_MAX_ARGS 128
#define S_MAX_SERVICES 32

/* ------------------------------------------------------------ yaml helpers */

static yaml_node_t *
s_get (yaml_document_t *d, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE) {
        return NULL;
    }
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node (d, p->key);
        if (k && k->type == YAML_SCALAR_NODE && strcmp ((char *)k->data.scalar.value, key) == 0) {
            return yaml_document_get_node (d, p->value);
        }
    }
    return NULL;
}

/*  A path of keys: s_path (d, root, "spec", "template", "spec", NULL). */
static yaml_node_t *
s_path (yaml_document_t *d, yaml_node_t *n, ...)
{
    va_list ap;
    va_start (ap, n);
    for (const char *k = va_arg (ap, const char *); n && k; k = va_arg (ap, const char *)) {
        n = s_get (d, n, k);
    }
    va_end (ap);
    return n;
}

static const char *
s_str (yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static size_t
s_len (yaml_node_t *n)
{
    return n && n->type == YAML_SEQUENCE_NODE
               ? (size_t)(n->data.sequence.items.top - n->data.sequence.items.start)
               : 0;
}

static yaml_node_t *
s_item (yaml_document_t *d, yaml_node_t *seq, size_t i)
{
    return yaml_document_get_node (d, seq->data.sequence.items.start[i]);
}

/* ------------------------------------------------------------ help texts */

/* ------------------------------------------------------------ the checks */

/*  What the manifests as a whole must agree on. */
typedef struct {
    const char *file;                   /* the manifest being read */
    long docker_uid;                    /* USER of the Dockerfile's final stage */
    char services[S_MAX_SERVICES][96];  /* "NAME:PORT" of every Service port */
    size_t n_services;                  /* how many */
    char connects[S_MAX_SERVICES][256]; /* every worker --connect endpoint */
    size_t n_connects;                  /* how many */
    int wesley_containers;              /* containers running wesley(-worker) */
    int bad;                            /* problems found (each printed) */
} s_ctx_t;

static void
s_bad (s_ctx_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    fprintf (stderr, "%s: ", c->file);
    vfprintf (stderr, fmt, ap);
    fputc ('\n', stderr);
    va_end (ap);
    c->bad++;
}

/*  Kubernetes expands $(VAR) in command and args from the container's env;
    any value serves for --help, so each becomes "0". Caller frees. */
static char *
s_expand (const char *arg)
{
    size_t n = strlen (arg);
    char *out = malloc (n + 1);
    assert_non_null (out);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        const char *close = arg[i] == '$' && arg[i + 1] == '(' ? strchr (arg + i, ')') : NULL;
        if (close) {
            out[o++] = '0';
            i = (size_t)(close - arg);
        }
        else {
            out[o++] = arg[i];
        }
    }
    out[o] = '\0';
    return out;
}

static void
s_shell_quote (char *cmd, size_t size, const char *arg)
{
    size_t o = strlen (cmd);
    if (o + 3 >= size) {
        return;
    }
    cmd[o++] = ' ';
    cmd[o++] = '\'';
    for (const char *p = arg; *p && o + 5 < size; p++) {
        if (*p == '\'') {
            memcpy (cmd + o, "'\\''", 4);
            o += 4;
        }
        else {
            cmd[o++] = *p;
        }
    }
    cmd[o++] = '\'';
    cmd[o] = '\0';
}

/*  True when path lies under one of the container's volumeMounts. */
static bool
s_under_mount (yaml_document_t *d, yaml_node_t *ctr, const char *path)
{
    yaml_node_t *mounts = s_get (d, ctr, "volumeMounts");
    for (size_t i = 0; i < s_len (mounts); i++) {
        const char *mp = s_str (s_get (d, s_item (d, mounts, i), "mountPath"));
        size_t n = mp ? strlen (mp) : 0;
        while (n > 1 && mp[n - 1] == '/') {
            n--;
        }
        if (n > 0 && strncmp (path, mp, n) == 0 && (path[n] == '/' || path[n] == '\0')) {
            return true;
        }
    }
    return false;
}

/*  The containerPort of a probe's port (a number or a port name), or -1. */
static long
s_probe_port (yaml_document_t *d, yaml_node_t *ctr, yaml_node_t *probe, const char **path)
{
    yaml_node_t *get = s_get (d, probe, "httpGet");
    *path = s_str (s_get (d, get, "path"));
    const char *port = s_str (s_get (d, get, "port"));
    if (!port) {
        return -1;
    }
    if (isdigit ((unsigned char)port[0])) {
        return strtol (port, NULL, 10);
    }
    yaml_node_t *ports = s_get (d, ctr, "ports");
    for (size_t i = 0; i < s_len (ports); i++) {
        yaml_node_t *p = s_item (d, ports, i);
        const char *name = s_str (s_get (d, p, "name"));
        if (name && strcmp (name, port) == 0) {
            const char *cp = s_str (s_get (d, p, "containerPort"));
            return cp ? strtol (cp, NULL, 10) : -1;
        }
    }
    return -1;
}

static void
s_check_container (s_ctx_t *c, yaml_document_t *d, yaml_node_t *ctr, const wes_test_flags_t *top)
{
    const char *cname = s_str (s_get (d, ctr, "name"));
    cname = cname ? cname : "(unnamed)";
    /*  argv as Kubernetes builds it: command, then args. */
    const char *argv[S_MAX_ARGS];
    size_t argc = 0;
    yaml_node_t *cmd = s_get (d, ctr, "command");
    yaml_node_t *args = s_get (d, ctr, "args");
    for (size_t i = 0; i < s_len (cmd) && argc < S_MAX_ARGS; i++) {
        argv[argc++] = s_str (s_item (d, cmd, i));
    }
    for (size_t i = 0; i < s_len (args) && argc < S_MAX_ARGS; i++) {
        argv[argc++] = s_str (s_item (d, args, i));
    }
    for (size_t i = 0; i < argc; i++) {
        if (!argv[i]) {
            s_bad (c, "container %s: command/args item %zu is not a string", cname, i);
            return;
        }
    }
    /*  Every file path given to it lies under a volumeMount (the root
        file system is read-only and holds none of our files). */
    for (size_t i = 1; i < argc; i++) {
        char *a = s_expand (argv[i]);
        if (a[0] == '/' && !s_under_mount (d, ctr, a)) {
            s_bad (c, "container %s: path %s is under none of its volumeMounts", cname, a);
        }
        free (a);
    }
    yaml_node_t *env = s_get (d, ctr, "env");
    for (size_t i = 0; i < s_len (env); i++) {
        yaml_node_t *e = s_item (d, env, i);
        const char *name = s_str (s_get (d, e, "name"));
        const char *value = s_str (s_get (d, e, "value"));
        if (name && value
            && (strcmp (name, "PGPASSFILE") == 0 || strcmp (name, "PGSERVICEFILE") == 0)
            && !s_under_mount (d, ctr, value)) {
            s_bad (c, "container %s: %s=%s is under none of its volumeMounts", cname, name, value);
        }
    }
    /*  Which program: command wesley/wesley-worker, or (no command) args
        that start with the program. */
    if (argc == 0) {
        return;
    }
    const char *base = strrchr (argv[0], '/') ? strrchr (argv[0], '/') + 1 : argv[0];
    const char *bin = NULL;
    bool is_wesley = strcmp (base, "wesley") == 0;
    if (is_wesley) {
        bin = WES_WESLEY_BIN;
    }
    else if (strcmp (base, "wesley-worker") == 0) {
        bin = WES_WORKER_BIN;
    }
    if (!bin) {
        return;
    }
    c->wesley_containers++;
    /*  The real binary with the manifest's arguments and a trailing --help. */
    char line[8192];
    line[0] = '\0';
    s_shell_quote (line, sizeof line, bin);
    for (size_t i = 1; i < argc; i++) {
        char *a = s_expand (argv[i]);
        s_shell_quote (line, sizeof line, a);
        free (a);
    }
    strncat (line, " --help", sizeof line - strlen (line) - 1);
    char *out = NULL;
    int rc = wes_test_run (line, &out);
    if (rc != 0) {
        s_bad (c, "container %s: `%s` exited %d (a flag the program does not accept?):\n%s", cname,
               line + 1, rc, out ? out : "");
    }
    free (out);
    /*  Each flag it uses is listed in that verb's --help (or, for the
        logging flags every verb takes, in `wesley --help`). */
    line[0] = '\0';
    s_shell_quote (line, sizeof line, bin);
    if (is_wesley && argc > 1 && argv[1][0] != '-') {
        s_shell_quote (line, sizeof line, argv[1]); /* the verb */
    }
    strncat (line, " --help", sizeof line - strlen (line) - 1);
    out = NULL;
    if (wes_test_run (line, &out) != 0) {
        s_bad (c, "container %s: `%s` failed:\n%s", cname, line + 1, out ? out : "");
    }
    wes_test_flags_t listed = {0};
    wes_test_flags_from_help (&listed, out ? out : "");
    for (size_t i = 1; i < argc; i++) {
        if (strncmp (argv[i], "--", 2) != 0) {
            continue;
        }
        size_t n = strcspn (argv[i], "=");
        char flag[128];
        snprintf (flag, sizeof flag, "%.*s", (int)n, argv[i]);
        if (!wes_test_flags_has (&listed, flag) && !(is_wesley && wes_test_flags_has (top, flag))) {
            s_bad (c, "container %s: %s is not listed by `%s --help`", cname, flag, argv[0]);
        }
    }
    wes_test_flags_free (&listed);
    free (out);
    /*  --metrics HOST:PORT: the probes ask that port. --connect: noted for
        the Service check. */
    for (size_t i = 1; i + 1 < argc; i++) {
        if (strcmp (argv[i], "--connect") == 0 && c->n_connects < S_MAX_SERVICES) {
            snprintf (c->connects[c->n_connects++], sizeof c->connects[0], "%s", argv[i + 1]);
        }
        if (strcmp (argv[i], "--metrics") != 0) {
            continue;
        }
        const char *colon = strrchr (argv[i + 1], ':');
        long port = colon ? strtol (colon + 1, NULL, 10) : -1;
        const char *probes[2] = {"livenessProbe", "readinessProbe"};
        const char *paths[2] = {"/healthz", "/readyz"};
        for (int k = 0; k < 2; k++) {
            yaml_node_t *probe = s_get (d, ctr, probes[k]);
            const char *path = NULL;
            long pp = probe ? s_probe_port (d, ctr, probe, &path) : -1;
            if (!probe || pp != port || !path || strcmp (path, paths[k]) != 0) {
                s_bad (c, "container %s: %s must be httpGet %s on the --metrics port %ld", cname,
                       probes[k], paths[k], port);
            }
        }
    }
}

static void
s_check_pod (s_ctx_t *c, yaml_document_t *d, yaml_node_t *pod, const wes_test_flags_t *top)
{
    yaml_node_t *sc = s_get (d, pod, "securityContext");
    const char *nonroot = s_str (s_get (d, sc, "runAsNonRoot"));
    const char *uid = s_str (s_get (d, sc, "runAsUser"));
    if (!nonroot || strcmp (nonroot, "true") != 0 || !uid
        || strtol (uid, NULL, 10) != c->docker_uid) {
        s_bad (c,
               "pod securityContext: runAsNonRoot true and runAsUser %ld (the Dockerfile's "
               "USER) wanted",
               c->docker_uid);
    }
    const char *lists[2] = {"initContainers", "containers"};
    for (int l = 0; l < 2; l++) {
        yaml_node_t *ctrs = s_get (d, pod, lists[l]);
        for (size_t i = 0; i < s_len (ctrs); i++) {
            yaml_node_t *ctr = s_item (d, ctrs, i);
            yaml_node_t *csc = s_get (d, ctr, "securityContext");
            const char *ape = s_str (s_get (d, csc, "allowPrivilegeEscalation"));
            const char *rorf = s_str (s_get (d, csc, "readOnlyRootFilesystem"));
            yaml_node_t *drop = s_path (d, csc, "capabilities", "drop", NULL);
            const char *drop0 = s_len (drop) ? s_str (s_item (d, drop, 0)) : NULL;
            if (!ape || strcmp (ape, "false") != 0 || !rorf || strcmp (rorf, "true") != 0 || !drop0
                || strcmp (drop0, "ALL") != 0) {
                s_bad (c,
                       "container %s: securityContext needs allowPrivilegeEscalation false, "
                       "readOnlyRootFilesystem true, capabilities.drop [ALL]",
                       s_str (s_get (d, ctr, "name")));
            }
            if (!s_path (d, ctr, "resources", "requests", NULL)) {
                s_bad (c, "container %s: no resources.requests", s_str (s_get (d, ctr, "name")));
            }
            s_check_container (c, d, ctr, top);
        }
    }
}

static void
s_check_document (s_ctx_t *c, yaml_document_t *d, const wes_test_flags_t *top)
{
    yaml_node_t *root = yaml_document_get_root_node (d);
    const char *api = s_str (s_get (d, root, "apiVersion"));
    const char *kind = s_str (s_get (d, root, "kind"));
    const char *name = s_str (s_path (d, root, "metadata", "name", NULL));
    if (!api || !*api || !kind || !*kind || !name || !*name) {
        s_bad (c, "a document lacks apiVersion, kind or metadata.name");
        return;
    }
    if (s_path (d, root, "metadata", "namespace", NULL)) {
        s_bad (c, "%s %s names a namespace: the manifests are namespace-agnostic", kind, name);
    }
    if (strcmp (kind, "Service") == 0) {
        yaml_node_t *ports = s_path (d, root, "spec", "ports", NULL);
        for (size_t i = 0; i < s_len (ports) && c->n_services < S_MAX_SERVICES; i++) {
            const char *port = s_str (s_get (d, s_item (d, ports, i), "port"));
            snprintf (c->services[c->n_services++], sizeof c->services[0], "%s:%s", name,
                      port ? port : "?");
        }
    }
    yaml_node_t *pod = NULL;
    if (strcmp (kind, "StatefulSet") == 0 || strcmp (kind, "Deployment") == 0
        || strcmp (kind, "Job") == 0 || strcmp (kind, "DaemonSet") == 0) {
        pod = s_path (d, root, "spec", "template", "spec", NULL);
    }
    else if (strcmp (kind, "CronJob") == 0) {
        pod = s_path (d, root, "spec", "jobTemplate", "spec", "template", "spec", NULL);
    }
    else if (strcmp (kind, "Pod") == 0) {
        pod = s_get (d, root, "spec");
    }
    if (pod) {
        s_check_pod (c, d, pod, top);
    }
    if (strcmp (kind, "StatefulSet") == 0) {
        const char *replicas = s_str (s_path (d, root, "spec", "replicas", NULL));
        if (!replicas || strcmp (replicas, "1") != 0
            || s_len (s_path (d, root, "spec", "volumeClaimTemplates", NULL)) == 0) {
            s_bad (c, "StatefulSet %s: replicas 1 and a volumeClaimTemplate wanted", name);
        }
    }
}

/*  The uid of the last USER of the Dockerfile's final stage, or -1. */
static long
s_dockerfile_uid (void)
{
    char *text = wes_test_read_file (WES_SOURCE_DIR "/deploy/Dockerfile", NULL);
    assert_non_null (text);
    long uid = -1;
    bool final_stage = false;
    for (char *line = strtok (text, "\n"); line; line = strtok (NULL, "\n")) {
        if (strncasecmp (line, "FROM ", 5) == 0) {
            uid = -1; /* a new stage: only the last one's USER counts */
            final_stage = true;
        }
        else if (final_stage && strncasecmp (line, "USER ", 5) == 0) {
            const char *u = line + 5;
            while (*u == ' ') {
                u++;
            }
            char *end = NULL;
            long v = strtol (u, &end, 10);
            /*  A name cannot be checked without the image: require a uid. */
            uid = end != u && (*end == '\0' || *end == ':' || *end == ' ') ? v : -2;
        }
    }
    free (text);
    return uid;
}

static void
test_manifests (void **state)
{
    (void)state;
    s_ctx_t c = {0};
    c.docker_uid = s_dockerfile_uid ();
    if (c.docker_uid <= 0) {
        fail_msg ("deploy/Dockerfile: the final stage needs USER with a non-zero numeric uid "
                  "(found %ld)",
                  c.docker_uid);
    }
    /*  The logging flags every verb takes are listed by `wesley --help`. */
    char cmd[1024], *top_help = NULL;
    snprintf (cmd, sizeof cmd, "'%s' --help", WES_WESLEY_BIN);
    assert_int_equal (wes_test_run (cmd, &top_help), 0);
    wes_test_flags_t top = {0};
    wes_test_flags_from_help (&top, top_help);
    free (top_help);
    assert_true (wes_test_flags_has (&top, "--log-format"));
    assert_true (WES_WORKER_BIN[0] != '\0');

    /*  WES_DEPLOY_DIR: check another folder of manifests (to try a change). */
    const char *dir =
        getenv ("WES_DEPLOY_DIR") ? getenv ("WES_DEPLOY_DIR") : WES_SOURCE_DIR "/deploy/k8s";
    DIR *dp = opendir (dir);
    assert_non_null (dp);
    struct dirent *e;
    int files = 0, docs = 0;
    while ((e = readdir (dp)) != NULL) {
        size_t len = strlen (e->d_name);
        if (len < 6 || strcmp (e->d_name + len - 5, ".yaml") != 0) {
            continue;
        }
        char path[1024];
        snprintf (path, sizeof path, "%s/%s", dir, e->d_name);
        c.file = path;
        FILE *f = fopen (path, "rb");
        assert_non_null (f);
        files++;
        yaml_parser_t parser;
        assert_true (yaml_parser_initialize (&parser));
        yaml_parser_set_input_file (&parser, f);
        for (;;) {
            yaml_document_t d;
            if (!yaml_parser_load (&parser, &d)) {
                s_bad (&c, "YAML error at line %zu column %zu: %s", parser.problem_mark.line + 1,
                       parser.problem_mark.column + 1, parser.problem ? parser.problem : "?");
                break;
            }
            if (!yaml_document_get_root_node (&d)) {
                yaml_document_delete (&d);
                break; /* the end of the stream */
            }
            docs++;
            s_check_document (&c, &d, &top);
            yaml_document_delete (&d);
        }
        yaml_parser_delete (&parser);
        fclose (f);
    }
    closedir (dp);
    c.file = "deploy/k8s";
    /*  Every worker --connect tcp://HOST:PORT names a Service port. */
    for (size_t i = 0; i < c.n_connects; i++) {
        const char *hp = strncmp (c.connects[i], "tcp://", 6) == 0 ? c.connects[i] + 6 : "";
        bool found = false;
        for (size_t k = 0; k < c.n_services; k++) {
            found = found || strcmp (c.services[k], hp) == 0;
        }
        if (!found) {
            s_bad (&c, "--connect %s: no Service of the manifests has that name and port",
                   c.connects[i]);
        }
    }
    wes_test_flags_free (&top);
    fprintf (stderr, "%d files, %d documents, %d wesley containers, %d problems\n", files, docs,
             c.wesley_containers, c.bad);
    assert_true (files >= 4);
    assert_true (c.wesley_containers >= 2); /* the coordinator and a worker at least */
    assert_true (c.n_connects >= 1);
    assert_int_equal (c.bad, 0);
}

/*  The checks themselves catch what they are for. */
static void
test_checks_catch_rot (void **state)
{
    (void)state;
    wes_test_flags_t f = {0};
    wes_test_flags_from_help (&f,
                              "usage: x\n  --a N  thing\n  -o, --out DIR  where\n    --deep  no\n"
                              "exit: --not-a-flag-line\n");
    assert_true (wes_test_flags_has (&f, "--a") && wes_test_flags_has (&f, "--out")
                 && wes_test_flags_has (&f, "--deep"));
    assert_false (wes_test_flags_has (&f, "--not-a-flag-line"));
    wes_test_flags_free (&f);
    char *x = s_expand ("/etc/w/worker-$(JOB_COMPLETION_INDEX).cert");
    assert_string_equal (x, "/etc/w/worker-0.cert");
    free (x);
    /*  A flag the program does not know, before --help, is refused. */
    char cmd[1024];
    snprintf (cmd, sizeof cmd, "'%s' run --plan p --no-such-flag x --help", WES_WESLEY_BIN);
    wes_test_expect (cmd, 2, NULL);
    snprintf (cmd, sizeof cmd, "'%s' --connect tcp://a:1 --no-such-flag x --help", WES_WORKER_BIN);
    wes_test_expect (cmd, 2, NULL);
}

static bool
s_is_file (const char *path, bool exec)
{
    struct stat st;
    return stat (path, &st) == 0 && S_ISREG (st.st_mode) && st.st_size > 0
           && (!exec || (st.st_mode & S_IXUSR));
}

static void
test_cmake_install (void **state)
{
    (void)state;
    char *prefix = wes_test_tmpdir ("install");
    assert_non_null (prefix);
    char cmd[4096], *out = NULL;
    snprintf (cmd, sizeof cmd, "'%s' --install '%s' --prefix '%s'", WES_CMAKE_COMMAND,
              WES_BINARY_DIR, prefix);
    int rc = wes_test_run (cmd, &out);
    if (rc != 0) {
        fail_msg ("`%s` exited %d:\n%s", cmd, rc, out ? out : "");
    }
    free (out);
    /*  wesley runs the schema verbs and hands the others to the
        wesley-ops installed beside it (run --help below goes through it). */
    const char *files[5] = {"bin/wesley", "bin/wesley-ops", "bin/wesley-worker",
                            "share/man/man1/wesley.1", "share/man/man1/wesley-worker.1"};
    for (int i = 0; i < 5; i++) {
        char path[2048];
        snprintf (path, sizeof path, "%s/%s", prefix, files[i]);
        if (!s_is_file (path, i < 3)) {
            fail_msg ("cmake --install did not install %s", path);
        }
    }
    snprintf (cmd, sizeof cmd, "'%s/bin/wesley' --version", prefix);
    wes_test_expect (cmd, 0, "wesley 0.");
    snprintf (cmd, sizeof cmd, "'%s/bin/wesley-worker' --version", prefix);
    wes_test_expect (cmd, 0, NULL);
    /*  The man pages carry every verb's help: every flag `wesley run
        --help` and `wesley-worker --help` list is in them. */
    const char *progs[2] = {"wesley", "wesley-worker"};
    const char *helps[2] = {"run --help", "--help"};
    for (int i = 0; i < 2; i++) {
        char path[2048];
        snprintf (path, sizeof path, "%s/share/man/man1/%s.1", prefix, progs[i]);
        char *page = wes_test_read_file (path, NULL);
        assert_non_null (page);
        wes_test_has (page, ".TH ");
        snprintf (cmd, sizeof cmd, "'%s/bin/%s' %s", prefix, progs[i], helps[i]);
        assert_int_equal (wes_test_run (cmd, &out), 0);
        wes_test_flags_t f = {0};
        wes_test_flags_from_help (&f, out);
        free (out);
        assert_true (f.n >= 5);
        for (size_t k = 0; k < f.n; k++) {
            if (!strstr (page, f.names[k])) {
                fail_msg ("%s does not mention %s", path, f.names[k]);
            }
        }
        wes_test_flags_free (&f);
        free (page);
    }
    wes_test_rmtree (prefix);
    free (prefix);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_checks_catch_rot),
        cmocka_unit_test (test_manifests),
        cmocka_unit_test (test_cmake_install),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
