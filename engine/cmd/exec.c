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
 * - A CMD the node does not have never runs: Docker's runtime fails the
 *   exec and the daemon writes its error ("OCI runtime exec failed: ...")
 *   on the command's stdout, with exit code 126 (or 127). So stdout is
 *   held back while it reads as the start of that error, and if it was
 *   that error, with that code, it becomes hdc's message on stderr. A
 *   command's own output is held back for at most those few bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_query.h"
#include "cmd.h"
#include "plan.h"
#include "util.h"

/* How the daemon's error starts when the runtime could not start CMD. */
#define RUNTIME_FAILED "OCI runtime exec failed"

typedef struct exec_ctx {
    runner *r;
    const cmd_exec_opts *o;
    char host[64]; /* the node's, for messages */
    /* stdout held back while it may be the runtime's error. */
    char held[4096];
    size_t n_held;
    int passing; /* it was not: stdout goes through */
} exec_ctx;

static void put(FILE *f, const char *buf, size_t len) {
    fwrite(buf, 1, len, f);
    fflush(f);
}

static void release(exec_ctx *ctx) {
    put(stdout, ctx->held, ctx->n_held);
    ctx->n_held = 0;
    ctx->passing = 1;
}

static void output(void *data, int stream, const char *buf, size_t len) {
    exec_ctx *ctx = data;
    size_t cmp;

    if (stream == 2 || ctx->passing) {
        put(stream == 2 ? stderr : stdout, buf, len);
        return;
    }
    if (len > sizeof(ctx->held) - ctx->n_held) {
        release(ctx);
        put(stdout, buf, len);
        return;
    }
    memcpy(ctx->held + ctx->n_held, buf, len);
    ctx->n_held += len;
    cmp = ctx->n_held < strlen(RUNTIME_FAILED) ? ctx->n_held : strlen(RUNTIME_FAILED);
    if (memcmp(ctx->held, RUNTIME_FAILED, cmp) != 0)
        release(ctx);
}

/* The runtime's error, held back: the part that says why, escaped, in out
 * ("exec: \"x\": executable file not found in $PATH"). */
static void runtime_why(const exec_ctx *ctx, char *out, size_t len) {
    char *text = strndup(ctx->held, ctx->n_held), *why;
    size_t n;

    if (text == NULL) {
        snprintf(out, len, "%s", RUNTIME_FAILED);
        return;
    }
    n = strcspn(text, "\r\n");
    text[n] = '\0';
    if (n > 9 && strcmp(text + n - 9, ": unknown") == 0)
        text[n - 9] = '\0';
    why = strstr(text, "exec: \"");
    plan_escape(why != NULL ? why : text, out, len);
    free(text);
}

static void finished(void *data, int status, const char *msg, int exit_code) {
    exec_ctx *ctx = data;
    char shown[160], why[512];
    int missing;

    if (status != 0) {
        release(ctx);
        runner_fail(ctx->r, RUNNER_FAILED, "exec: %s", msg);
        return;
    }
    if (ctx->n_held < strlen(RUNTIME_FAILED) || (exit_code != 126 && exit_code != 127)) {
        release(ctx);
        ctx->r->status = exit_code;
        return;
    }
    /* CMD never ran. Docker 20.10 says 126 whether it is missing or not
     * executable; 127 for missing, as a shell and newer engines say. */
    runtime_why(ctx, why, sizeof(why));
    missing = strstr(why, "not found") != NULL || strstr(why, "no such file") != NULL;
    runner_error("exec: '%s' is not in %s (or not executable): %s: %s",
                 plan_escape(ctx->o->cmd[0], shown, sizeof(shown)), ctx->host, why,
                 missing ? "give a command the node has, by its full path if it is not on PATH"
                         : "give an executable file");
    ctx->r->status = missing ? 127 : exit_code;
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
        snprintf(ctx->host, sizeof(ctx->host), "%s", list[i].hostname);
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
