/* `hdc logs NAME [SERVICE...] [-f] [--write-to DIR]`: one cluster's nodes'
 * logs on stdout, each line prefixed "HOST | ", or each node's to
 * DIR/<host>.log; `hdc logs --write-root ROOT [-f] NAME...`: several
 * clusters, each node's to ROOT/<name>/<host>.log (the one detached writer
 * `hdc up` leaves for all its clusters). With -f the streams follow until
 * the containers stop or SIGINT (SIGTERM, SIGHUP), which ends them and exits 0.
 *
 * Decisions a newcomer might question:
 * - A line for stdout is gathered in its node's buffer and printed whole,
 *   so that nodes' lines never interleave mid-line; a line longer than the
 *   buffer is cut into several. stdout is flushed once per loop iteration,
 *   not once per frame.
 * - Each cluster's followed nodes are an array sized from its listing:
 *   every stream's callback holds a pointer into it, so it never moves.
 * - The exit status is the last failure's, not the worst: a later Docker
 *   failure (1) replaces an earlier "no cluster named" (2), as it always
 *   has.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_query.h"
#include "cmd.h"
#include "docker.h"
#include "logs.h"
#include "plan.h"
#include "util.h"

/* One node whose log is streamed. */
typedef struct log_follow {
    struct logs_ctx *ctx;
    char host[64];
    char line[8192];
    size_t len;
    docker_call *stream; /* NULL once ended */
    logs_sink *sink;     /* --write-to, --write-root: the file; else NULL */
} log_follow;

/* One cluster whose logs are streamed. */
typedef struct logs_query {
    struct logs_ctx *ctx;
    const char *name;
    char *dir;           /* where its <host>.log files go, or NULL for stdout */
    log_follow *follows; /* its wanted nodes, once listed */
    size_t n_follows;
} logs_query;

typedef struct logs_ctx {
    runner *r;
    const cmd_logs_opts *o;
    logs_query *queries; /* one per cluster */
    size_t n_listed;
    uv_check_t flush; /* stdout, once per loop iteration */
    size_t width;     /* of the widest host yet */
} logs_ctx;

static void flush_line(log_follow *f) {
    printf("%-*s | %.*s\n", (int)f->ctx->width, f->host, (int)f->len, f->line);
    f->len = 0;
}

static void output(void *data, int stream, const char *buf, size_t len) {
    log_follow *f = data;

    if (f->sink != NULL) {
        logs_sink_append(f->sink, buf, len);
        return;
    }
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n' || f->len == sizeof(f->line)) {
            flush_line(f);
            if (buf[i] == '\n')
                continue;
        }
        f->line[f->len++] = buf[i];
    }
}

/* Once per loop iteration, after the reads: what arrived goes out
 * together, not one write per frame. */
static void flush_stdout(uv_check_t *check) {
    fflush(stdout);
}

static void ended(void *data, int status, const char *msg) {
    log_follow *f = data;

    f->stream = NULL;
    if (f->sink != NULL) {
        logs_sink_close(f->sink, NULL, NULL);
        f->sink = NULL;
    }
    if (f->len > 0)
        flush_line(f);
    if (status != 0 && status != UV_ECANCELED) {
        runner_error("logs of %s: %s", f->host, msg);
        f->ctx->r->status = RUNNER_FAILED;
    }
}

/* Whether c is one of the services or hosts asked for (all, when none). */
static int wanted(const cmd_logs_opts *o, const cluster_container *c) {
    int yes = o->n_services == 0;

    for (size_t k = 0; k < o->n_services; k++)
        yes |= strcmp(o->services[k], c->service) == 0 || strcmp(o->services[k], c->hostname) == 0;
    return yes;
}

static void listed(void *data, int status, const char *msg, const cluster_container *list,
                   size_t n) {
    logs_query *q = data;
    logs_ctx *ctx = q->ctx;
    size_t n_wanted = 0;

    ctx->n_listed++;
    if (status != 0) {
        runner_error("logs: %s", msg);
        ctx->r->status = RUNNER_FAILED;
        return;
    }
    if (n == 0) {
        runner_error("logs: no cluster named '%s'; `hdc ls` lists them", q->name);
        ctx->r->status = RUNNER_USAGE;
        return;
    }
    for (size_t i = 0; i < n; i++)
        n_wanted += wanted(ctx->o, &list[i]);
    if (n_wanted > 0 && (q->follows = calloc(n_wanted, sizeof(*q->follows))) == NULL) {
        runner_error("logs: out of memory");
        ctx->r->status = RUNNER_FAILED;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        docker_logs_opts lo = {.follow = ctx->o->follow};
        log_follow *f;
        if (!wanted(ctx->o, &list[i]))
            continue;
        f = &q->follows[q->n_follows++];
        f->ctx = ctx;
        snprintf(f->host, sizeof(f->host), "%s", list[i].hostname);
        if (strlen(f->host) > ctx->width)
            ctx->width = strlen(f->host);
        if (q->dir != NULL) {
            char *path = util_asprintf("%s/%s.log", q->dir, f->host);
            int rc = path != NULL ? logs_sink_open(&ctx->r->loop, path, 1, &f->sink) : UV_ENOMEM;
            if (rc != 0)
                runner_error("logs: cannot write %s/%s.log", q->dir, f->host);
            free(path);
            if (rc != 0) {
                ctx->r->status = RUNNER_FAILED;
                continue;
            }
        }
        if (docker_logs(ctx->r->d, list[i].name, &lo, output, ended, f, &f->stream))
            f->stream = NULL;
    }
    if (q->n_follows == 0 && ctx->r->status == 0) {
        runner_error("logs: no service or host of '%s' matches; `hdc status %s` lists them",
                     q->name, q->name);
        ctx->r->status = RUNNER_USAGE;
    }
}

/* Whether a stream is still open. */
static int streaming(const logs_ctx *ctx) {
    for (size_t i = 0; i < ctx->o->n_names; i++)
        for (size_t k = 0; k < ctx->queries[i].n_follows; k++)
            if (ctx->queries[i].follows[k].stream != NULL)
                return 1;
    return 0;
}

/* SIGINT, SIGTERM, SIGHUP: every stream ends (its callback prints what is
 * left); exit 0. */
static void interrupted(runner *r, int signum) {
    logs_ctx *ctx = r->ctx;

    for (size_t i = 0; i < ctx->o->n_names; i++)
        for (size_t k = 0; k < ctx->queries[i].n_follows; k++)
            if (ctx->queries[i].follows[k].stream != NULL)
                docker_call_cancel(ctx->queries[i].follows[k].stream);
}

int cmd_logs_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_logs_opts *o, char *err,
                   size_t err_len) {
    char why[256];

    o->names = calloc((size_t)argc, sizeof(*o->names));
    o->services = calloc((size_t)argc, sizeof(*o->services));
    if (o->names == NULL || o->services == NULL)
        return util_fail(err, err_len, RUNNER_USAGE, "out of memory");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--follow") == 0)
            o->follow = 1;
        else if (strcmp(argv[i], "--write-to") == 0 && i + 1 < argc)
            o->write_to = argv[++i];
        else if (strcmp(argv[i], "--write-root") == 0 && i + 1 < argc)
            o->write_root = argv[++i];
        else if (argv[i][0] == '-')
            return util_fail(err, err_len, RUNNER_USAGE, "logs: unknown flag '%s'", argv[i]);
        else if (o->n_names == 0 || o->write_root != NULL)
            o->names[o->n_names++] = argv[i];
        else
            o->services[o->n_services++] = argv[i];
    }
    if (o->n_names == 0)
        return util_fail(err, err_len, RUNNER_USAGE, "logs: give a cluster name");
    for (size_t i = 0; i < o->n_names; i++)
        if (plan_name_check(o->names[i], why, sizeof(why)) != 0)
            return util_fail(err, err_len, RUNNER_USAGE, "logs: %s", why);
    return 0;
}

static int parse(const cmd_ctx *ctx, int argc, char **argv, void *opts, char *err, size_t err_len) {
    return cmd_logs_parse(ctx, argc, argv, opts, err, err_len);
}

static int run(const cmd_ctx *cc, void *opts) {
    const cmd_logs_opts *o = opts;
    logs_ctx ctx = {.o = o};
    runner r;
    int err;

    ctx.queries = calloc(o->n_names, sizeof(*ctx.queries));
    if (ctx.queries == NULL) {
        runner_error("out of memory");
        return RUNNER_FAILED;
    }
    for (size_t i = 0; i < o->n_names; i++) {
        logs_query *q = &ctx.queries[i];
        q->ctx = &ctx;
        q->name = o->names[i];
        if (o->write_root != NULL)
            q->dir = util_asprintf("%s/%s", o->write_root, o->names[i]);
        else if (o->write_to != NULL)
            q->dir = strdup(o->write_to);
    }
    if ((err = runner_open(&r, NULL)) != 0)
        goto exit;
    ctx.r = &r;
    runner_on_signal(&r, interrupted, &ctx);
    uv_check_init(&r.loop, &ctx.flush);
    uv_check_start(&ctx.flush, flush_stdout);
    uv_unref((uv_handle_t *)&ctx.flush);
    for (size_t i = 0; i < o->n_names; i++) {
        if (cluster_list(&r.loop, r.d, ctx.queries[i].name, listed, &ctx.queries[i]) != 0) {
            runner_error("logs: cannot ask Docker");
            r.status = RUNNER_FAILED;
            ctx.n_listed++;
        }
    }
    /* Until every cluster is listed and every stream has ended: the signals are
     * held meanwhile, so the loop never runs out of work on its own. */
    runner_hold_signals(&r, 1);
    while (ctx.n_listed < o->n_names || streaming(&ctx))
        uv_run(&r.loop, UV_RUN_ONCE);
    runner_hold_signals(&r, 0);
    err = runner_finish(&r);

exit:
    for (size_t i = 0; i < o->n_names; i++) {
        free(ctx.queries[i].follows);
        free(ctx.queries[i].dir);
    }
    free(ctx.queries);
    return err;
}

static void free_opts(void *opts) {
    cmd_logs_opts *o = opts;

    free(o->names);
    free(o->services);
}

const cmd cmd_logs = {
    .name = "logs",
    .usage = "hdc logs NAME [SERVICE...] [-f] [--write-to DIR] | "
             "--write-root ROOT [-f] NAME...",
    .summary = "the nodes' logs, prefixed by host (or each to DIR/<host>.log, "
               "ROOT/<name>/<host>.log)",
    .opts_size = sizeof(cmd_logs_opts),
    .parse = parse,
    .run = run,
    .free = free_opts,
};
