/* `hdc restart NAME [NODE|SERVICE...]`: the nodes named (a hostname such
 * as datanode1, or a service: every instance; all when none is named)
 * stopped, then started as `hdc start` starts them (start.c): their
 * znodes reset to `wait`, the plugin's steps of their services run again,
 * every probe green. Naming zookeeper restarts the whole cluster: every
 * agent's rendezvous goes with it. */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "plan.h"
#include "util.h"

int cmd_restart_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_restart_opts *o, char *err,
                      size_t err_len) {
    char why[256];

    o->only = calloc((size_t)argc, sizeof(*o->only));
    if (o->only == NULL)
        return util_fail(err, err_len, RUNNER_USAGE, "out of memory");
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-')
            return util_fail(err, err_len, RUNNER_USAGE, "restart: unknown flag '%s'", argv[i]);
        if (o->name == NULL) {
            if (plan_name_check(argv[i], why, sizeof(why)) != 0)
                return util_fail(err, err_len, RUNNER_USAGE, "restart: %s", why);
            o->name = argv[i];
            continue;
        }
        if (plan_name_check(argv[i], why, sizeof(why)) != 0)
            return util_fail(err, err_len, RUNNER_USAGE,
                             "restart: '%s' is not a node or service name", argv[i]);
        o->only[o->n_only++] = argv[i];
    }
    if (o->name == NULL)
        return util_fail(err, err_len, RUNNER_USAGE,
                         "restart: give the cluster's name (and nodes or services)");
    /* ZooKeeper goes: everything goes. */
    for (size_t k = 0; k < o->n_only; k++)
        if (strcmp(o->only[k], "zookeeper") == 0)
            o->n_only = 0;
    return 0;
}

static int parse(const cmd_ctx *ctx, int argc, char **argv, void *opts, char *err, size_t err_len) {
    return cmd_restart_parse(ctx, argc, argv, opts, err, err_len);
}

static int run(const cmd_ctx *ctx, void *opts) {
    cmd_restart_opts *o = opts;

    return cmd_start_run(ctx, &o->name, 1, o->only, o->n_only, 1);
}

static void free_opts(void *opts) {
    cmd_restart_opts *o = opts;

    free(o->only);
}

const cmd cmd_restart = {
    .name = "restart",
    .usage = "hdc restart NAME [NODE|SERVICE...]",
    .summary = "restart a cluster, or some of its nodes, and run their bootstrap again",
    .opts_size = sizeof(cmd_restart_opts),
    .parse = parse,
    .run = run,
    .free = free_opts,
};
