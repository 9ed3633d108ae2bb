/* `hdc build`: still in engine/cli.c; this forwards to it until it moves
 * here. */
#include "cmd.h"

static int parse(const cmd_ctx *ctx, int argc, char **argv, void *opts, char *err, size_t err_len) {
    return 0;
}

static int run(const cmd_ctx *ctx, void *opts) {
    return cmd_legacy_run();
}

const cmd cmd_build = {
    .name = "build",
    .usage = "hdc build DIST [--dist-cache DIR] [--hadoop-tarball FILE]",
    .summary = "a distribution's images",
    .parse = parse,
    .run = run,
};
