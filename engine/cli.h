/* The hdc command line (CLI.md): parses a command and its flags, refuses bad
 * usage with exit 2 before anything is created, runs the command on one
 * libuv loop, and returns its exit status (0 done, 1 the work failed, 2 bad
 * usage or input). */
#ifndef HDC_CLI_H
#define HDC_CLI_H

#define CLI_OK     0
#define CLI_FAILED 1
#define CLI_USAGE  2

int cli_main(int argc, char **argv);
/* Whether a command is still here (not yet in engine/cmd/). */
int cli_has(const char *name);

#endif
