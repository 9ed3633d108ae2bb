/* `hdc exec NAME SERVICE -- CMD [ARG...]`: runs CMD (an argument vector,
 * not a shell line) through Docker exec in the first node of the cluster
 * whose service or hostname is SERVICE, as the container's default user.
 * CMD's stdout and stderr go to hdc's as they come; hdc exits with CMD's
 * status.
 *
 * Decisions a newcomer might question:
 * - The `--` is required, right after SERVICE: CMD's own flags (even
 *   `-h`, `--json`) are then never hdc's, and a misplaced flag such as
 *   `--user` before it is a usage error rather than a silent part of CMD.
 * - No such cluster or node exits 2 (bad input, nothing was run), so a
 *   script can tell it from a CMD that failed with 1.
 */
#include <stdio.h>
#include <string.h>

#include "cluster_query.h"
#include "cmd.h"
#include "plan.h"
#include "util.h"

typedef struct exec_ctx {
    runner *r;
    const cmd_exec_opts *o;
} exec_ctx;

static void output(void *data, int stream, const char *buf, size_t len) {
    FILE *f = stream == 2 ? stderr : stdout;

    fwrite(buf, 1, len, f);
    fflush(f);
}

static void finished(void *data, int status, const char *msg, int exit_code) {
    exec_ctx *ctx = data;

    if (status != 0) {
        runner_fail(ctx->r, RUNNER_FAILED, "exec: %s", msg);
        return;
    }
    ctx->r->status = exit_code;
}

static void listed(void *data, int status, const char *msg, const cluster_container *list,
                   size_t n) {
    exec_ctx *ctx = data;
    const cmd_exec_opts *o = ctx->o;
    char shown[160];

    if (status != 0) {
        runner_fail(ctx->r, RUNNER_FAILED, "exec: %s", msg);
        return;
    }
    if (n == 0) {
        runner_fail(ctx->r, RUNNER_USAGE, "exec: no cluster named '%s'; `hdc ls` lists them",
                    o->name);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        docker_exec_opts eo = {.cmd = (const char *const *)o->cmd, .n_cmd = o->n_cmd};

        if (strcmp(list[i].service, o->service) != 0 && strcmp(list[i].hostname, o->service) != 0)
            continue;
        if (docker_exec(ctx->r->d, list[i].name, &eo, output, finished, ctx, NULL) != 0)
            ctx->r->status = RUNNER_FAILED;
        return;
    }
    runner_fail(ctx->r, RUNNER_USAGE,
                "exec: no service or host '%s' in '%s'; `hdc status %s` lists them",
                plan_escape(o->service, shown, sizeof(shown)), o->name, o->name);
}

int cmd_exec_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_exec_opts *o, char *err,
                   size_t err_len) {
    char why[256];
    int dash = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            dash = i;
            break;
        }
    }
    if (dash != 3 || dash + 1 >= argc)
        return util_fail(err, err_len, RUNNER_USAGE,
                         "exec: usage: hdc exec NAME SERVICE -- CMD [ARG...]");
    if (plan_name_check(argv[1], why, sizeof(why)) != 0)
        return util_fail(err, err_len, RUNNER_USAGE, "exec: %s", why);
    o->name = argv[1];
    o->service = argv[2];
    o->cmd = argv + dash + 1;
    o->n_cmd = (size_t)(argc - dash - 1);
    return 0;
}

static int parse(const cmd_ctx *ctx, int argc, char **argv, void *opts, char *err, size_t err_len) {
    return cmd_exec_parse(ctx, argc, argv, opts, err, err_len);
}

static int run(const cmd_ctx *cc, void *opts) {
    exec_ctx ctx = {.o = opts};
    runner r;
    int err;

    if ((err = runner_open(&r, NULL)) != 0)
        return err;
    ctx.r = &r;
    if (cluster_list(&r.loop, r.d, ctx.o->name, listed, &ctx) != 0)
        r.status = RUNNER_FAILED;
    return runner_finish(&r);
}

const cmd cmd_exec = {
    .name = "exec",
    .usage = "hdc exec NAME SERVICE -- CMD [ARG...]",
    .summary = "run a command in a node; the exit status is CMD's",
    .opts_size = sizeof(cmd_exec_opts),
    .parse = parse,
    .run = run,
};
