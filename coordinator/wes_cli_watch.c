/*  wes_cli_watch.c — placeholder until its issue lands. */
#include <stdio.h>

#include "wes_cli.h"

int
wes_cli_watch (int argc, char **argv)
{
    (void) argc;
    (void) argv;
    fprintf (stderr, "wesley: not built yet\n");
    return 2;
}
