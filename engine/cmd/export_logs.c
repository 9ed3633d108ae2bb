/* `hdc export-logs NAME DIR`: everything CI keeps of a cluster, in DIR:
 * per node its container log (<host>.log), its inspect JSON
 * (<host>.inspect.json) and, for every directory its service names in
 * HDC_LOG_DIRS (the daemons' own logs), a tar of it (<host>.<dir>.tar, '/'
 * as '_').
 *
 * Decisions a newcomer might question:
 * - DIR is made (one level) in run, before Docker is asked anything, and a
 *   DIR that cannot be made is bad input (exit 2): parse touches nothing.
 * - A tar's file is made only when its first bytes come: a directory that
 *   is not in the container is noted, not an error, and leaves no empty
 *   tar behind.
 * - Every file in flight holds a count on the export (pending); the
 *   listing holds one too until it has started them all, so the summary
 *   line is printed once, after the last file is closed.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cluster_query.h"
#include "cmd.h"
#include "docker.h"
#include "logs.h"
#include "plan.h"
#include "util.h"

typedef struct export_ctx {
    runner *r;
    const char *name, *dir;
    size_t pending;
    unsigned files;
} export_ctx;

typedef struct export_file {
    export_ctx *ctx;
    logs_sink *sink; /* NULL until opened */
    char *path;
    char what[600];
} export_file;

static void release(export_ctx *ctx) {
    if (--ctx->pending == 0 && ctx->r->status == 0)
        fprintf(stderr, "hdc: %s: %u files written to %s\n", ctx->name, ctx->files, ctx->dir);
}

/* Opens f's file if it is not open yet. */
static int open_sink(export_file *f) {
    if (f->sink != NULL)
        return 0;
    if (logs_sink_open(&f->ctx->r->loop, f->path, 1, &f->sink) != 0) {
        runner_fail(f->ctx->r, RUNNER_FAILED, "export-logs: cannot write %s", f->path);
        f->sink = NULL;
        return -1;
    }
    f->ctx->files++;
    return 0;
}

/* A file of the export, opened at once, or when its first bytes come
 * (lazy). NULL when it could not be opened (the error is printed). */
static export_file *new_file(export_ctx *ctx, const char *file, const char *what, int lazy) {
    export_file *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return NULL;
    f->ctx = ctx;
    f->path = util_asprintf("%s/%s", ctx->dir, file);
    snprintf(f->what, sizeof(f->what), "%s", what);
    if (f->path == NULL || (!lazy && open_sink(f) != 0)) {
        free(f->path);
        free(f);
        return NULL;
    }
    ctx->pending++;
    return f;
}

static void output(void *data, int stream, const char *buf, size_t len) {
    export_file *f = data;

    if (open_sink(f) == 0)
        logs_sink_append(f->sink, buf, len);
}

static void file_closed(void *data) {
    export_file *f = data;
    export_ctx *ctx = f->ctx;

    if (logs_sink_error(f->sink) != 0)
        runner_fail(ctx->r, RUNNER_FAILED, "export-logs: writing %s failed: %s", f->what,
                    hdc_strerror(logs_sink_error(f->sink)));
    free(f->path);
    free(f);
    release(ctx);
}

static void stream_done(void *data, int status, const char *msg) {
    export_file *f = data;

    if (status == DOCKER_ENOTFOUND)
        fprintf(stderr, "hdc: export-logs: %s: not there (%s)\n", f->what, msg);
    else if (status != 0)
        runner_fail(f->ctx->r, RUNNER_FAILED, "export-logs: %s: %s", f->what, msg);
    /* logs_sink_error is read in the close callback, before the free. */
    if (f->sink == NULL) {
        export_ctx *ctx = f->ctx;
        free(f->path);
        free(f);
        release(ctx);
        return;
    }
    logs_sink_close(f->sink, file_closed, f);
}

/* The inspect JSON into f, then a tar of each of the node's HDC_LOG_DIRS. */
static void inspected(void *data, int status, const char *msg, const docker_container_info *info) {
    export_file *f = data;
    export_ctx *ctx = f->ctx;
    char *text;
    json_t *env, *v;
    size_t i;

    if (status != 0) {
        stream_done(f, status, msg);
        return;
    }
    text = json_dumps(info->raw, JSON_INDENT(2));
    if (text != NULL) {
        logs_sink_append(f->sink, text, strlen(text));
        logs_sink_append(f->sink, "\n", 1);
        free(text);
    }
    /* The daemons' own log directories, as the service's env names them. */
    env = json_object_get(json_object_get(info->raw, "Config"), "Env");
    json_array_foreach(env, i, v) {
        const char *kv = json_string_value(v);
        char dirs[1024], *save = NULL;
        if (kv == NULL || strncmp(kv, "HDC_LOG_DIRS=", 13) != 0)
            continue;
        snprintf(dirs, sizeof(dirs), "%s", kv + 13);
        for (char *d = strtok_r(dirs, ":", &save); d != NULL; d = strtok_r(NULL, ":", &save)) {
            char file[512], what[512];
            export_file *tf;
            snprintf(file, sizeof(file), "%s.%s.tar", info->hostname, d + (d[0] == '/'));
            for (size_t k = strlen(info->hostname) + 1; file[k] != '\0'; k++)
                if (file[k] == '/')
                    file[k] = '_';
            snprintf(what, sizeof(what), "%s:%s", info->hostname, d);
            tf = new_file(ctx, file, what, 1);
            if (tf != NULL && docker_container_archive(ctx->r->d, info->id, d, output, stream_done,
                                                       tf, NULL) != 0)
                stream_done(tf, UV_EIO, "cannot ask Docker");
        }
    }
    stream_done(f, 0, NULL);
}

static void listed(void *data, int status, const char *msg, const cluster_container *list,
                   size_t n) {
    export_ctx *ctx = data;

    if (status != 0 || n == 0) {
        if (status != 0)
            runner_fail(ctx->r, RUNNER_FAILED, "export-logs: %s", msg);
        else
            runner_fail(ctx->r, RUNNER_FAILED,
                        "export-logs: no cluster named '%s'; `hdc ls` lists them", ctx->name);
        return;
    }
    ctx->pending = 1;
    for (size_t i = 0; i < n; i++) {
        char file[256], what[256];
        docker_logs_opts lo = {0};
        export_file *f;

        snprintf(file, sizeof(file), "%s.log", list[i].hostname);
        snprintf(what, sizeof(what), "the log of %s", list[i].hostname);
        f = new_file(ctx, file, what, 0);
        if (f != NULL &&
            docker_logs(ctx->r->d, list[i].name, &lo, output, stream_done, f, NULL) != 0)
            stream_done(f, UV_EIO, "cannot ask Docker");
        snprintf(file, sizeof(file), "%s.inspect.json", list[i].hostname);
        snprintf(what, sizeof(what), "the inspect of %s", list[i].hostname);
        f = new_file(ctx, file, what, 0);
        if (f != NULL && docker_container_inspect(ctx->r->d, list[i].name, inspected, f, NULL) != 0)
            stream_done(f, UV_EIO, "cannot ask Docker");
    }
    release(ctx);
}

int cmd_export_logs_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_export_logs_opts *o,
                          char *err, size_t err_len) {
    char why[256];

    if (argc != 3)
        return util_fail(err, err_len, RUNNER_USAGE,
                         "export-logs: usage: hdc export-logs NAME DIR");
    if (plan_name_check(argv[1], why, sizeof(why)) != 0)
        return util_fail(err, err_len, RUNNER_USAGE, "export-logs: %s", why);
    o->name = argv[1];
    o->dir = argv[2];
    return 0;
}

static int parse(const cmd_ctx *ctx, int argc, char **argv, void *opts, char *err, size_t err_len) {
    return cmd_export_logs_parse(ctx, argc, argv, opts, err, err_len);
}

static int run(const cmd_ctx *cc, void *opts) {
    const cmd_export_logs_opts *o = opts;
    export_ctx ctx = {.name = o->name, .dir = o->dir};
    runner r;
    int err;

    if (mkdir(o->dir, 0755) != 0 && errno != EEXIST) {
        runner_error("export-logs: cannot create %s: %s", o->dir, strerror(errno));
        return RUNNER_USAGE;
    }
    if ((err = runner_open(&r, NULL)) != 0)
        return err;
    ctx.r = &r;
    if (cluster_list(&r.loop, r.d, ctx.name, listed, &ctx) != 0)
        r.status = RUNNER_FAILED;
    return runner_finish(&r);
}

const cmd cmd_export_logs = {
    .name = "export-logs",
    .usage = "hdc export-logs NAME DIR",
    .summary = "each node's log, inspect JSON and daemon log directories (HDC_LOG_DIRS), for CI",
    .opts_size = sizeof(cmd_export_logs_opts),
    .parse = parse,
    .run = run,
};
