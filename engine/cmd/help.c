/* `hdc help [COMMAND]`: hdc's usage, or a command's. */
#include <stdio.h>

#include "cmd.h"
#include "util.h"

int cmd_help_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_help_opts *o, char *err,
                   size_t err_len) {
    if (argc < 2)
        return 0;
    if (cmd_find(argv[1]) == NULL)
        return util_fail(err, err_len, RUNNER_USAGE,
                         "help: unknown command '%s'; 'hdc help' lists them", argv[1]);
    o->topic = argv[1];
    return 0;
}

static int parse(const cmd_ctx *ctx, int argc, char **argv, void *opts, char *err, size_t err_len) {
    return cmd_help_parse(ctx, argc, argv, opts, err, err_len);
}

static int run(const cmd_ctx *ctx, void *opts) {
    cmd_help_opts *o = opts;
    const cmd *c = o->topic != NULL ? cmd_find(o->topic) : NULL;

    if (c == NULL)
        cmd_usage(stdout);
    else
        printf("usage: %s\n%s\n", c->usage, c->summary);
    return RUNNER_OK;
}

const cmd cmd_help = {
    .name = "help",
    .usage = "hdc help [COMMAND]",
    .summary = "this text, or a command's usage",
    .opts_size = sizeof(cmd_help_opts),
    .parse = parse,
    .run = run,
};
