/* `hdc up`: still in engine/cli.c; this forwards to it until it moves
 * here. */
#include "cmd.h"

static int parse(const cmd_ctx *ctx, int argc, char **argv, void *opts, char *err, size_t err_len) {
    return 0;
}

static int run(const cmd_ctx *ctx, void *opts) {
    return cmd_legacy_run();
}

const cmd cmd_up = {
    .name = "up",
    .usage = "hdc up DIST [--name NAME] [DIST [--name NAME]]... [--datanodes N] "
             "[--timeout S] [--publish-classic] [-y] [--follow] [--rm-on-failure]",
    .summary = "create and bootstrap clusters, concurrently; returns when every probe is green",
    .parse = parse,
    .run = run,
};
