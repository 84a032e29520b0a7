/*  wes_cli_lint.c — placeholder until its issue lands. */
#include <stdio.h>

#include "wes_cli.h"

int
wes_cli_lint (int argc, char **argv)
{
    (void) argc;
    (void) argv;
    fprintf (stderr, "wesley: not built yet\n");
    return 2;
}
