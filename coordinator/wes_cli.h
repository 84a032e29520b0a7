/*  wes_cli.h — the `wesley` verbs. Each takes the arguments after its verb
    name and returns the process exit code. */
#ifndef WES_CLI_H
#define WES_CLI_H

int wes_cli_parse (int argc, char **argv);
int wes_cli_compile (int argc, char **argv);
int wes_cli_hash (int argc, char **argv);
int wes_cli_apply (int argc, char **argv);
int wes_cli_drift (int argc, char **argv);

#endif
