/* hdc: the command. Everything happens in engine/cli.c. */
#include "cli.h"

int main(int argc, char **argv) {
    return cli_main(argc, argv);
}
