/* `hdc export-logs`: still in engine/cli.c; this forwards to it until it moves
 * here. */
#include "cmd.h"

static int parse(const cmd_ctx *ctx, int argc, char **argv, void *opts, char *err, size_t err_len) {
    return 0;
}

static int run(const cmd_ctx *ctx, void *opts) {
    return cmd_legacy_run();
}

const cmd cmd_export_logs = {
    .name = "export-logs",
    .usage = "hdc export-logs NAME DIR",
    .summary = "each node's log, inspect JSON and daemon log directories (HDC_LOG_DIRS), for CI",
    .parse = parse,
    .run = run,
};
