/*  wes_cli_deadcols.c — placeholder until its issue lands. */
#include <stdio.h>

#include "wes_cli.h"

int
wes_cli_dead_columns (int argc, char **argv)
{
    (void) argc;
    (void) argv;
    fprintf (stderr, "wesley: not built yet\n");
    return 2;
}
