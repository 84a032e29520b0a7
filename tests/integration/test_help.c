/*  test_help.c — every command documents every flag. For each verb that
    `wesley --help` lists, and for wesley-worker: `--help` exits 0, every
    flag line of the help (a line indented 1-4 spaces that starts with
    "-", with its deeper-indented continuation lines) says its default or
    that it is required, and an unknown flag before --help is refused
    (exit 2), so `--help` can prove that the flags before it are known.
    Then every "--flag" string literal in the .c files of coordinator/ and worker/
    (read from WES_SOURCE_DIR) must be a flag line of some help text: a
    flag the parser knows but no help lists fails. Real binaries. */
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
#include <strings.h>

#include "wes_testflags.h"
#include "wes_testutil.h"

#define WES_TEST_MAX_FLAGS 1024
#define S_MAX_VERBS 64

static bool
s_exempt (const char *header)
{
    /*  --help, -h and --version document themselves. */
    return strstr (header, "--help") || strstr (header, "--version")
           || strncmp (header, "-h ", 3) == 0;
}

/*  Walks the flag lines of a help text: adds each flag named in a line's
    head (the text before the first run of two spaces) to flags, and
    counts in *bad (printing the command and the line) each entry (head,
    rest of the line, continuation lines) that says neither "default" nor
    "required". Returns the number of flag lines. */
static size_t
s_check_help (const char *command, const char *help, wes_test_flags_t *flags, int *bad)
{
    size_t entries = 0;
    char *copy = strdup (help);
    char *save = NULL;
    char header[256] = "";
    int entry_indent = -1;
    bool documented = true;
    for (char *line = strtok_r (copy, "\n", &save);; line = strtok_r (NULL, "\n", &save)) {
        int indent = 0;
        while (line && line[indent] == ' ') {
            indent++;
        }
        bool is_flag = line && indent >= 1 && indent <= 4 && line[indent] == '-';
        bool continues =
            line && entry_indent >= 0 && !is_flag && indent > entry_indent && line[indent] != '\0';
        if (entry_indent >= 0 && !continues) {
            /*  The entry before ends here. */
            if (!documented && !s_exempt (header)) {
                fprintf (stderr,
                         "%s --help: the flag line \"%s\" states no default and does not say "
                         "required\n",
                         command, header);
                (*bad)++;
            }
            entry_indent = -1;
        }
        if (!line) {
            break;
        }
        if (continues) {
            documented =
                documented || strcasestr (line, "default") || strcasestr (line, "required");
            continue;
        }
        if (!is_flag) {
            continue;
        }
        entries++;
        entry_indent = indent;
        const char *head = line + indent;
        const char *gap = strstr (head, "  ");
        size_t head_len = gap ? (size_t)(gap - head) : strlen (head);
        snprintf (header, sizeof header, "%.*s", (int)head_len, head);
        documented = strcasestr (head, "default") || strcasestr (head, "required");
        wes_test_flags_scan_head (flags, head, head_len);
    }
    free (copy);
    return entries;
}

/*  Runs cmd; counts in *bad (printed) an exit status other than want;
    returns the output (caller frees). */
static char *
s_run (const char *cmd, int want, int *bad)
{
    char *out = NULL;
    int rc = wes_test_run (cmd, &out);
    if (rc != want) {
        fprintf (stderr, "`%s` exited %d, want %d:\n%s\n", cmd, rc, want, out ? out : "");
        (*bad)++;
    }
    return out ? out : strdup ("");
}

/*  The verbs `wesley --help` lists: the lines after "verbs:" up to the
    first blank one, "  NAME  summary". */
static size_t
s_verbs (const char *help, char verbs[][32], size_t max)
{
    const char *p = strstr (help, "verbs:\n");
    assert_non_null (p);
    p += strlen ("verbs:\n");
    size_t n = 0;
    while (*p == ' ' && n < max) {
        while (*p == ' ') {
            p++;
        }
        size_t len = strcspn (p, " \n");
        assert_true (len > 0 && len < 32);
        snprintf (verbs[n++], 32, "%.*s", (int)len, p);
        p = strchr (p, '\n');
        if (!p) {
            break;
        }
        p++;
    }
    return n;
}

/*  Every help: exit 0, flags documented; an unknown flag before --help
    refused. Fills flags with the union of listed flags; returns the number
    of problems (each printed). */
static int
s_all_helps (wes_test_flags_t *flags)
{
    int bad = 0;
    char cmd[1024];
    snprintf (cmd, sizeof cmd, "'%s' --help", WES_WESLEY_BIN);
    char *top = s_run (cmd, 0, &bad);
    assert_true (s_check_help ("wesley", top, flags, &bad) >= 2); /* --log-format, --log-level */
    char verbs[S_MAX_VERBS][32];
    size_t n = s_verbs (top, verbs, S_MAX_VERBS);
    free (top);
    assert_true (n >= 10);
    for (size_t i = 0; i < n; i++) {
        snprintf (cmd, sizeof cmd, "'%s' %.31s --help", WES_WESLEY_BIN, verbs[i]);
        char *help = s_run (cmd, 0, &bad);
        char name[64];
        snprintf (name, sizeof name, "wesley %.31s", verbs[i]);
        if (!strstr (help, "usage")) {
            fprintf (stderr, "%s --help: no usage line\n", name);
            bad++;
        }
        s_check_help (name, help, flags, &bad);
        free (help);
        snprintf (cmd, sizeof cmd, "'%s' %.31s --no-such-flag --help", WES_WESLEY_BIN, verbs[i]);
        free (s_run (cmd, 2, &bad));
    }
    assert_true (WES_WORKER_BIN[0] != '\0');
    snprintf (cmd, sizeof cmd, "'%s' --help", WES_WORKER_BIN);
    char *help = s_run (cmd, 0, &bad);
    assert_true (s_check_help ("wesley-worker", help, flags, &bad) >= 5);
    free (help);
    snprintf (cmd, sizeof cmd, "'%s' --no-such-flag --help", WES_WORKER_BIN);
    free (s_run (cmd, 2, &bad));
    return bad;
}

static void
test_every_help_documents_its_flags (void **state)
{
    (void)state;
    /*  The walker itself: a flag line without a default is caught. */
    wes_test_flags_t scratch = {0};
    int bad = 0;
    assert_int_equal (s_check_help ("self-test (this one is expected)",
                                    "usage: x\n  --a N   a thing (default: 1)\n"
                                    "  -o, --out DIR  where\n"
                                    "                 (required)\n"
                                    "  --b  nothing said\n"
                                    "exit: 0\n",
                                    &scratch, &bad),
                      3);
    assert_int_equal (bad, 1);
    assert_true (wes_test_flags_has (&scratch, "--out") && wes_test_flags_has (&scratch, "--a")
                 && wes_test_flags_has (&scratch, "--b"));
    wes_test_flags_free (&scratch);
    wes_test_flags_t flags = {0};
    int problems = s_all_helps (&flags);
    wes_test_flags_free (&flags);
    assert_int_equal (problems, 0);
}

/*  Every whole string literal "--name" in dir/ *.c: appended to out. */
static void
s_source_flags (const char *dir, wes_test_flags_t *out, char where[][160], size_t *n_where)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/%s", WES_SOURCE_DIR, dir);
    DIR *d = opendir (path);
    assert_non_null (d);
    struct dirent *e;
    while ((e = readdir (d)) != NULL) {
        size_t len = strlen (e->d_name);
        if (len < 3 || strcmp (e->d_name + len - 2, ".c") != 0) {
            continue;
        }
        char file[1400];
        snprintf (file, sizeof file, "%s/%.255s", path, e->d_name);
        char *text = wes_test_read_file (file, NULL);
        assert_non_null (text);
        for (const char *p = text; (p = strstr (p, "\"--")) != NULL; p++) {
            const char *q = p + 3;
            if (!islower ((unsigned char)*q) && !isdigit ((unsigned char)*q)) {
                continue;
            }
            while (islower ((unsigned char)*q) || isdigit ((unsigned char)*q) || *q == '-') {
                q++;
            }
            if (*q != '"' || (p > text && p[-1] == '\\')) {
                continue; /* part of a longer string (a message, an SQL comment) */
            }
            size_t before = out->n;
            wes_test_flags_add (out, p + 1, (size_t)(q - p - 1));
            if (out->n > before && *n_where < WES_TEST_MAX_FLAGS) {
                snprintf (where[(*n_where)++], 160, "%.20s/%.120s", dir, e->d_name);
            }
        }
        free (text);
    }
    closedir (d);
}

static void
test_every_parsed_flag_is_in_some_help (void **state)
{
    (void)state;
    wes_test_flags_t listed = {0};
    (void)s_all_helps (&listed); /* its problems are the other test's */
    wes_test_flags_t known = {0};
    static char where[WES_TEST_MAX_FLAGS][160];
    size_t n_where = 0;
    s_source_flags ("coordinator", &known, where, &n_where);
    s_source_flags ("worker", &known, where, &n_where);
    assert_true (known.n >= 20); /* the scan found the parsers */
    assert_true (wes_test_flags_has (&known, "--plan") && wes_test_flags_has (&known, "--connect"));
    int missing = 0;
    for (size_t i = 0; i < known.n; i++) {
        const char *f = known.names[i];
        if (strcmp (f, "--help") == 0 || strcmp (f, "--version") == 0) {
            continue;
        }
        if (!wes_test_flags_has (&listed, f)) {
            fprintf (stderr, "%s: the parser knows %s, but no --help lists it\n", where[i], f);
            missing++;
        }
    }
    wes_test_flags_free (&known);
    wes_test_flags_free (&listed);
    assert_int_equal (missing, 0);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_every_help_documents_its_flags),
        cmocka_unit_test (test_every_parsed_flag_is_in_some_help),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
