/* `hdc ls`: the clusters on this Docker engine, one row each, from their
 * containers' labels: name, distribution, nodes, how many run, age. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cluster_query.h"
#include "cmd.h"

typedef struct ls_ctx {
    runner *r;
    int json;
} ls_ctx;

/* "42s", "7m", "5h", "3d"; "?" when unknown. */
static void age(int64_t created, char *out, size_t len) {
    int64_t s = (int64_t)time(NULL) - created;

    if (created <= 0)
        snprintf(out, len, "?");
    else if (s < 120)
        snprintf(out, len, "%llds", (long long)s);
    else if (s < 7200)
        snprintf(out, len, "%lldm", (long long)(s / 60));
    else if (s < 172800)
        snprintf(out, len, "%lldh", (long long)(s / 3600));
    else
        snprintf(out, len, "%lldd", (long long)(s / 86400));
}

static void listed(void *data, int status, const char *msg, const cluster_container *list,
                   size_t n) {
    ls_ctx *ctx = data;
    json_t *arr;

    if (status != 0) {
        runner_fail(ctx->r, RUNNER_FAILED, "%s", msg);
        return;
    }
    arr = json_array();
    if (!ctx->json)
        printf("%-20s %-16s %-6s %-8s %s\n", "NAME", "DIST", "NODES", "RUNNING", "AGE");
    for (size_t i = 0; i < n;) {
        size_t j = i, running = 0;
        int64_t created = list[i].created;
        char when[32];
        for (; j < n && strcmp(list[j].cluster, list[i].cluster) == 0; j++) {
            running += strcmp(list[j].state, "running") == 0;
            if (list[j].created > 0 && (created <= 0 || list[j].created < created))
                created = list[j].created;
        }
        age(created, when, sizeof(when));
        if (ctx->json)
            json_array_append_new(arr, json_pack("{s:s, s:s, s:i, s:i, s:s, s:I}", "name",
                                                 list[i].cluster, "dist", list[i].dist, "nodes",
                                                 (int)(j - i), "running", (int)running, "state",
                                                 running == j - i ? "running"
                                                 : running == 0   ? "stopped"
                                                                  : "degraded",
                                                 "created", (json_int_t)created));
        else
            printf("%-20s %-16s %-6zu %-8zu %s\n", list[i].cluster, list[i].dist, j - i, running,
                   when);
        i = j;
    }
    if (ctx->json) {
        json_dumpf(arr, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
    }
    json_decref(arr);
}

static int parse(const cmd_ctx *ctx, int argc, char **argv, void *opts, char *err, size_t err_len) {
    return cmd_no_args_parse("ls", argc, argv, err, err_len);
}

static int run(const cmd_ctx *cc, void *opts) {
    ls_ctx ctx = {.json = cc->json};
    runner r;
    int err;

    if ((err = runner_open(&r, NULL)) != 0)
        return err;
    ctx.r = &r;
    if (cluster_list(&r.loop, r.d, NULL, listed, &ctx) != 0)
        r.status = RUNNER_FAILED;
    return runner_finish(&r);
}

const cmd cmd_ls = {
    .name = "ls",
    .usage = "hdc ls [--json]",
    .summary = "clusters on this Docker engine, with state and age",
    .parse = parse,
    .run = run,
};
