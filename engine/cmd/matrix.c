/* `hdc matrix`: still in engine/cli.c; this forwards to it until it moves
 * here. */
#include "cmd.h"

static int parse(const cmd_ctx *ctx, int argc, char **argv, void *opts, char *err, size_t err_len) {
    return 0;
}

static int run(const cmd_ctx *ctx, void *opts) {
    return cmd_legacy_run();
}

const cmd cmd_matrix = {
    .name = "matrix",
    .usage =
        "hdc matrix DIST... [--parallel N] [--junit FILE] [--keep] [--keep-failed] -- CMD [ARG...]",
    .summary = "a cluster per DIST, CMD in each client node, a JUnit report (also: --timeout S, "
               "--datanodes N, --bundle-all, --test-user USER)",
    .parse = parse,
    .run = run,
};
