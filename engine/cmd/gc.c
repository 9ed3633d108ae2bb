/* `hdc gc`: still in engine/cli.c; this forwards to it until it moves
 * here. */
#include "cmd.h"

static int parse(const cmd_ctx *ctx, int argc, char **argv, void *opts, char *err, size_t err_len) {
    return 0;
}

static int run(const cmd_ctx *ctx, void *opts) {
    return cmd_legacy_run();
}

const cmd cmd_gc = {
    .name = "gc",
    .usage = "hdc gc",
    .summary = "remove clusters of which no container runs",
    .parse = parse,
    .run = run,
};
