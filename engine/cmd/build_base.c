/* `hdc build-base`: still in engine/cli.c; this forwards to it until it moves
 * here. */
#include "cmd.h"

static int parse(const cmd_ctx *ctx, int argc, char **argv, void *opts, char *err, size_t err_len) {
    return 0;
}

static int run(const cmd_ctx *ctx, void *opts) {
    return cmd_legacy_run();
}

const cmd cmd_build_base = {
    .name = "build-base",
    .usage = "hdc build-base [--base-image IMAGE] [--no-cache]",
    .summary = "the base image (hdc-agent, users; BASE_IMAGE is the JDK layer) and ZooKeeper's",
    .parse = parse,
    .run = run,
};
