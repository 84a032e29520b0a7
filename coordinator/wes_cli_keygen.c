/*  wes_cli_keygen.c — `wesley keygen`: writes a CURVE certificate pair in
    CZMQ's layout for the coordinator or a worker (see proto/wes_curve.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/wes_curve.h"
#include "wes_cli.h"

static const char *s_usage =
    "usage: wesley keygen --out DIR --name NAME [--force]\n"
    "  Writes a CURVE certificate pair in CZMQ's layout:\n"
    "    DIR/NAME.cert         the public certificate (mode 0644): give a worker's to\n"
    "                          the coordinator (--curve-allow DIR), the coordinator's\n"
    "                          to every worker (--curve-server FILE)\n"
    "    DIR/NAME.cert_secret  the secret certificate (mode 0600, whatever the umask):\n"
    "                          stays with its owner (--curve-secret FILE)\n"
    "  --out DIR    where to write (created 0700 when missing; required)\n"
    "  --name NAME  1-64 of [A-Za-z0-9._-], not starting with a dot (required)\n"
    "  --force      replace an existing pair (default: refuse to overwrite)\n"
    "exit: 0 written, 1 cannot write, 2 usage\n";

int
wes_cli_keygen (int argc, char **argv)
{
    const char *out = NULL, *name = NULL;
    bool force = false;
    for (int i = 0; i < argc; i++) {
        const char *f = argv[i];
        if (strcmp (f, "--help") == 0 || strcmp (f, "-h") == 0) {
            fputs (s_usage, stdout);
            return 0;
        }
        if (strcmp (f, "--force") == 0) {
            force = true;
            continue;
        }
        const char **slot = strcmp (f, "--out") == 0    ? &out
                            : strcmp (f, "--name") == 0 ? &name
                                                        : NULL;
        if (!slot || i + 1 >= argc) {
            fprintf (stderr, "wesley keygen: unknown or incomplete argument '%s'\n%s", f, s_usage);
            return 2;
        }
        *slot = argv[++i];
    }
    if (!out || !name) {
        fprintf (stderr, "wesley keygen: give --out DIR and --name NAME\n%s", s_usage);
        return 2;
    }
    if (!wes_curve_valid_name (name)) {
        fprintf (stderr,
                 "wesley keygen: --name: \"%.80s\" is not 1-%u characters of [A-Za-z0-9._-] "
                 "(not starting with a dot)\n",
                 name, WES_CURVE_MAX_NAME);
        return 2;
    }
    char *pub = NULL, *sec = NULL, *error = NULL;
    if (wes_curve_keygen (out, name, force, &pub, &sec, &error) != 0) {
        fprintf (stderr, "wesley keygen: %s\n", error ? error : "failed");
        free (error);
        return 1;
    }
    printf ("public certificate: %s\nsecret certificate: %s (0600)\n", pub, sec);
    free (pub);
    free (sec);
    return 0;
}
