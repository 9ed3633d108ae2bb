/* hdc: the command. engine/cmd/cmd.c reads the arguments and runs it. */
#include "cmd/cmd.h"

int main(int argc, char **argv) {
    return cmd_main(argc, argv);
}
