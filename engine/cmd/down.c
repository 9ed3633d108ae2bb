/* `hdc down NAME... | --all`: every container, network and volume labelled
 * with the clusters' names (or with any hdc.cluster), removed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_query.h"
#include "cmd.h"
#include "plan.h"
#include "util.h"

typedef struct down_one {
    runner *r;
    const char *name; /* NULL: every cluster */
} down_one;

static void down_done(void *data, int status, const char *msg, unsigned removed) {
    down_one *d = data;

    cmd_report_down(d->r, d->name, status, msg, removed);
}

int cmd_down_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_down_opts *o, char *err,
                   size_t err_len) {
    char why[256];

    o->names = calloc((size_t)argc, sizeof(*o->names));
    if (o->names == NULL)
        return util_fail(err, err_len, RUNNER_USAGE, "out of memory");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--all") == 0)
            o->all = 1;
        else if (argv[i][0] == '-')
            return util_fail(err, err_len, RUNNER_USAGE, "down: unknown flag '%s'", argv[i]);
        else if (plan_name_check(argv[i], why, sizeof(why)) != 0)
            return util_fail(err, err_len, RUNNER_USAGE, "down: %s", why);
        else
            o->names[o->n_names++] = argv[i];
    }
    if (o->all == (o->n_names > 0))
        return util_fail(err, err_len, RUNNER_USAGE, "down: give cluster names, or --all");
    return 0;
}

static int run(const cmd_ctx *ctx, void *opts) {
    cmd_down_opts *o = opts;
    size_t n = o->all ? 1 : o->n_names;
    down_one *downs = calloc(n, sizeof(*downs));
    runner r;
    int err;

    if (downs == NULL) {
        runner_error("out of memory");
        return RUNNER_FAILED;
    }
    if ((err = runner_open(&r, NULL)) != 0) {
        free(downs);
        return err;
    }
    for (size_t i = 0; i < n; i++) {
        downs[i].r = &r;
        downs[i].name = o->all ? NULL : o->names[i];
        if (cluster_down(&r.loop, r.d, downs[i].name, down_done, &downs[i]) != 0)
            r.status = RUNNER_FAILED;
    }
    err = runner_finish(&r);
    free(downs);
    return err;
}

static int parse(const cmd_ctx *ctx, int argc, char **argv, void *opts, char *err, size_t err_len) {
    return cmd_down_parse(ctx, argc, argv, opts, err, err_len);
}

static void free_opts(void *opts) {
    cmd_down_opts *o = opts;

    free(o->names);
}

const cmd cmd_down = {
    .name = "down",
    .usage = "hdc down NAME... | --all",
    .summary = "stop and remove clusters",
    .opts_size = sizeof(cmd_down_opts),
    .parse = parse,
    .run = run,
    .free = free_opts,
};
