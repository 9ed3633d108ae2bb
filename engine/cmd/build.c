/* `hdc build DIST`: builds the images the distribution's plugin declares,
 * with the build output on stderr; first the base images, as build-base
 * does with its defaults, when hdc/base is not on the engine. The plugin
 * and its build contexts (and --hadoop-tarball) are checked before Docker
 * is asked, so that a bad DIST or a missing file is refused untouched.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cluster_spec.h"
#include "cmd.h"
#include "images.h"
#include "plugin_host.h"
#include "util.h"

typedef struct build_ctx {
    runner *r;
    cmd_builds b;
    const hdc_plugin_desc *desc;
    images_opts *io;
    char agent[4096];
} build_ctx;

static void build_dist(build_ctx *bc) {
    int err = images_build_dist(&bc->r->loop, bc->r->d, bc->desc, bc->io, cmd_build_progress,
                                cmd_build_done, &bc->b, &bc->b.job);

    if (err != 0) {
        runner_hold_signals(bc->r, 0);
        runner_fail(bc->r, RUNNER_FAILED, "build %s: %s", bc->desc->name, hdc_strerror(err));
    }
}

static void base_built(void *data, int status, const char *msg) {
    build_ctx *bc = data;

    bc->b.job = NULL;
    if (status == 0 && bc->b.interrupted) {
        status = UV_ECANCELED;
        msg = "canceled";
    }
    if (status != 0) {
        runner_hold_signals(bc->r, 0);
        runner_fail(bc->r, RUNNER_FAILED, "build-base (needed first): %s", msg);
        return;
    }
    build_dist(bc);
}

static void base_checked(void *data, int status, const char *msg, const docker_image_info *info) {
    build_ctx *bc = data;
    images_opts base = *bc->io;
    int err;

    if (bc->b.interrupted) {
        runner_hold_signals(bc->r, 0);
        runner_fail(bc->r, RUNNER_FAILED, "build %s: canceled", bc->desc->name);
        return;
    }
    if (status != DOCKER_ENOTFOUND) {
        if (status != 0) {
            runner_hold_signals(bc->r, 0);
            runner_fail(bc->r, RUNNER_FAILED, "build %s: %s", bc->desc->name, msg);
            return;
        }
        build_dist(bc);
        return;
    }
    fprintf(stderr,
            "hdc: %s is missing: building the base images first (hdc build-base; "
            "its default JDK layer)\n",
            CLUSTER_BASE_IMAGE);
    base.agent_path = bc->agent;
    err = images_build_base(&bc->r->loop, bc->r->d, &base, cmd_build_progress, base_built, bc,
                            &bc->b.job);
    if (err != 0) {
        runner_hold_signals(bc->r, 0);
        runner_fail(bc->r, RUNNER_FAILED,
                    "build-base: %s is missing: build it (cmake --build build)", bc->agent);
    }
}

int cmd_build_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_build_opts *o, char *err,
                    size_t err_len) {
    o->dist_cache = ctx->env.dist_cache;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dist-cache") == 0 && i + 1 < argc)
            o->dist_cache = argv[++i];
        else if (strcmp(argv[i], "--hadoop-tarball") == 0 && i + 1 < argc)
            o->hadoop_tarball = argv[++i];
        else if (strcmp(argv[i], "--no-cache") == 0)
            o->nocache = 1;
        else if (argv[i][0] != '-' && o->dist == NULL)
            o->dist = argv[i];
        else
            return util_fail(err, err_len, RUNNER_USAGE, "build: unexpected argument '%s'",
                             argv[i]);
    }
    if (o->dist == NULL)
        return util_fail(err, err_len, RUNNER_USAGE,
                         "build: which distribution? 'hdc plugins' lists them");
    return 0;
}

static int parse(const cmd_ctx *ctx, int argc, char **argv, void *opts, char *err, size_t err_len) {
    return cmd_build_parse(ctx, argc, argv, opts, err, err_len);
}

static int run(const cmd_ctx *ctx, void *opts) {
    cmd_build_opts *o = opts;
    images_opts io = {
        .clusters_dir = cmd_clusters_dir(&ctx->env),
        .dist_cache = o->dist_cache,
        .hadoop_tarball = o->hadoop_tarball,
        .nocache = o->nocache,
    };
    build_ctx bc = {.io = &io};
    plugin *p = NULL;
    char why[2048];
    runner r;
    int err;

    if (runner_load(ctx->plugin_path, ctx->env.plugin_path, o->dist, &p) != 0)
        return RUNNER_USAGE;
    if (images_check(p->desc, &io, why, sizeof(why)) != 0) {
        runner_error("build %s: %s", o->dist, why);
        err = RUNNER_USAGE;
        goto exit;
    }
    if (p->desc->images == NULL || p->desc->images[0].name == NULL) {
        fprintf(stderr, "hdc: build %s: it declares no images: nothing to build\n", o->dist);
        err = RUNNER_OK;
        goto exit;
    }
    if ((err = runner_open(&r, NULL)) != 0)
        goto exit;
    bc.r = &r;
    bc.b.r = &r;
    cmd_builds_catch(&bc.b);
    bc.desc = p->desc;
    cmd_agent_path(bc.agent, sizeof(bc.agent));
    /* The base first, if it is not there: every image starts from it. */
    err = docker_image_inspect(r.d, CLUSTER_BASE_IMAGE, base_checked, &bc, NULL);
    if (err != 0) {
        runner_hold_signals(&r, 0);
        runner_fail(&r, RUNNER_FAILED, "build %s: %s", o->dist, hdc_strerror(err));
    }
    err = runner_finish(&r);

exit:
    plugin_unload(p);
    return err;
}

const cmd cmd_build = {
    .name = "build",
    .usage = "hdc build DIST [--dist-cache DIR] [--hadoop-tarball FILE]",
    .summary = "a distribution's images",
    .opts_size = sizeof(cmd_build_opts),
    .parse = parse,
    .run = run,
};
