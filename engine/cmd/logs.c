/* `hdc logs`: still in engine/cli.c; this forwards to it until it moves
 * here. */
#include "cmd.h"

static int parse(const cmd_ctx *ctx, int argc, char **argv, void *opts, char *err, size_t err_len) {
    return 0;
}

static int run(const cmd_ctx *ctx, void *opts) {
    return cmd_legacy_run();
}

const cmd cmd_logs = {
    .name = "logs",
    .usage = "hdc logs NAME [SERVICE...] [-f] [--write-to DIR] | "
             "--write-root ROOT [-f] NAME...",
    .summary = "the nodes' logs, prefixed by host (or each to DIR/<host>.log, "
               "ROOT/<name>/<host>.log)",
    .parse = parse,
    .run = run,
};
