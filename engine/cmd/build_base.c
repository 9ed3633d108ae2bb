/* `hdc build-base`: builds hdc/base (hdc-agent, the hadoop group and users
 * on a JDK layer), then hdc/client and hdc/zookeeper, with the build output
 * on stderr. hdc-agent is looked for before Docker is asked: a missing one
 * is bad usage (build it), not a failed build.
 *
 * --stand-in builds a base for hdc's test stand-in only (on debian:bookworm
 * unless --base-image says otherwise: it needs no JDK): labelled
 * hdc.stand-in=true and tagged hdc/base:stand-in, so that a real build
 * never starts from it (images.h).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "images.h"
#include "util.h"

int cmd_build_base_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_build_base_opts *o,
                         char *err, size_t err_len) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--base-image") == 0 && i + 1 < argc)
            o->base_image = argv[++i];
        else if (strcmp(argv[i], "--zk-base-image") == 0 && i + 1 < argc)
            o->zk_base_image = argv[++i];
        else if (strcmp(argv[i], "--no-cache") == 0)
            o->nocache = 1;
        else if (strcmp(argv[i], "--stand-in") == 0)
            o->stand_in = 1;
        else
            return util_fail(err, err_len, RUNNER_USAGE, "build-base: unexpected argument '%s'",
                             argv[i]);
    }
    return 0;
}

static int parse(const cmd_ctx *ctx, int argc, char **argv, void *opts, char *err, size_t err_len) {
    return cmd_build_base_parse(ctx, argc, argv, opts, err, err_len);
}

static void done(void *data, int status, const char *msg) {
    char line[8192];

    snprintf(line, sizeof(line), "build-base: %s", msg != NULL ? msg : "");
    cmd_build_done(data, status, status != 0 ? line : NULL);
}

static int run(const cmd_ctx *ctx, void *opts) {
    cmd_build_base_opts *o = opts;
    char agent[4096];
    images_opts io = {
        .clusters_dir = cmd_clusters_dir(&ctx->env),
        .agent_path = agent,
        .base_image = o->base_image != NULL || !o->stand_in ? o->base_image : "debian:bookworm",
        .zk_base_image = o->zk_base_image,
        .nocache = o->nocache,
        .stand_in = o->stand_in,
    };
    runner r;
    cmd_builds b = {.r = &r};
    int err;

    cmd_agent_path(agent, sizeof(agent));
    if (access(agent, X_OK) != 0) {
        runner_error("build-base: %s is missing: build it (cmake --build build)", agent);
        return RUNNER_USAGE;
    }
    if ((err = runner_open(&r, NULL)) != 0)
        return err;
    cmd_builds_catch(&b);
    err = images_build_base(&r.loop, r.d, &io, cmd_build_progress, done, &b, &b.job);
    if (err != 0) {
        runner_hold_signals(&r, 0);
        runner_fail(&r, RUNNER_FAILED, "build-base: %s", hdc_strerror(err));
    }
    return runner_finish(&r);
}

const cmd cmd_build_base = {
    .name = "build-base",
    .usage = "hdc build-base [--base-image IMAGE] [--stand-in] [--no-cache]",
    .summary = "the base image (hdc-agent, users; BASE_IMAGE is the JDK layer) and ZooKeeper's",
    .opts_size = sizeof(cmd_build_base_opts),
    .parse = parse,
    .run = run,
};
