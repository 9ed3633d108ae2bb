/* `hdc client`: still in engine/cli.c; this forwards to it until it moves
 * here. */
#include "cmd.h"

static int parse(const cmd_ctx *ctx, int argc, char **argv, void *opts, char *err, size_t err_len) {
    return 0;
}

static int run(const cmd_ctx *ctx, void *opts) {
    return cmd_legacy_run();
}

const cmd cmd_client = {
    .name = "client",
    .usage = "hdc client NAME [--port PORT] [--client-dist DIST] [--test-user USER]",
    .summary =
        "start the cluster's client node, with ssh on 127.0.0.1:PORT (default 3333), and run "
        "client_side_tests/<dist>/initialize.sh in it",
    .parse = parse,
    .run = run,
};
