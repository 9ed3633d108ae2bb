/* `hdc ls`: the clusters on this Docker engine, one row each, with the
 * state they are in (cluster_survey.h): name, distribution, state, nodes,
 * how many run, age, and when a time-to-live ends it.
 *
 * Decision: the state is the survey's, the one `hdc gc` acts on, so what
 * ls calls orphaned is exactly what gc removes (with failed ones whose
 * owner is gone, shown as failed).
 *
 * A cluster that runs an image labelled hdc.stand-in (hdc's test stand-in,
 * not Hadoop) says "stand-in" in the last column: asked of the engine
 * first, then the survey.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster_survey.h"
#include "cmd.h"
#include "images.h"
#include "util.h"

typedef struct ls_ctx {
    runner *r;
    int json;
    char **stand_in; /* the clusters that run the stand-in (copied) */
    size_t n_stand_in;
} ls_ctx;

/* "42s", "7m", "5h", "3d" since (or, negative, until) then; "?" when
 * unknown. */
static void span(int64_t seconds, char *out, size_t len) {
    int64_t s = seconds < 0 ? -seconds : seconds;

    if (s < 120)
        snprintf(out, len, "%llds", (long long)s);
    else if (s < 7200)
        snprintf(out, len, "%lldm", (long long)(s / 60));
    else if (s < 172800)
        snprintf(out, len, "%lldh", (long long)(s / 3600));
    else
        snprintf(out, len, "%lldd", (long long)(s / 86400));
}

static int runs_stand_in(const ls_ctx *ctx, const cluster_info *ci) {
    return images_among((const char *const *)ctx->stand_in, ctx->n_stand_in, ci->name);
}

static json_t *row_json(const ls_ctx *ctx, const cluster_info *ci) {
    json_t *o = json_pack("{s:s, s:s?, s:s, s:I, s:I, s:I, s:s, s:s?, s:s?}", "name", ci->name,
                          "dist", ci->dist, "state", cluster_state_name(ci->state), "nodes",
                          (json_int_t)ci->containers, "running", (json_int_t)ci->running, "created",
                          (json_int_t)ci->created, "owner", owner_liveness_name(ci->owner_is),
                          "logs", ci->logs_dir, "keys", ci->keys_dir);

    json_object_set_new(o, "expires", ci->expires > 0 ? json_integer(ci->expires) : json_null());
    json_object_set_new(o, "stand_in", json_boolean(runs_stand_in(ctx, ci)));
    return o;
}

static void surveyed(void *data, int status, const char *msg, const cluster_info *list, size_t n) {
    ls_ctx *ctx = data;
    int64_t now = (int64_t)time(NULL);
    json_t *arr;

    if (status != 0) {
        runner_fail(ctx->r, RUNNER_FAILED, "%s", msg);
        return;
    }
    if (ctx->json) {
        arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, row_json(ctx, &list[i]));
        json_dumpf(arr, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(arr);
        return;
    }
    printf("%-20s %-16s %-9s %-6s %-8s %-5s %-5s %s\n", "NAME", "DIST", "STATE", "NODES", "RUNNING",
           "AGE", "TTL", "IMAGES");
    for (size_t i = 0; i < n; i++) {
        const cluster_info *ci = &list[i];
        char age[24] = "?", ttl[24] = "-";
        if (ci->created > 0)
            span(now - ci->created, age, sizeof(age));
        if (ci->expires > now)
            span(ci->expires - now, ttl, sizeof(ttl));
        else if (ci->expires > 0)
            snprintf(ttl, sizeof(ttl), "over");
        printf("%-20s %-16s %-9s %-6zu %-8zu %-5s %-5s %s\n", ci->name, ci->dist ? ci->dist : "?",
               cluster_state_name(ci->state), ci->containers, ci->running, age, ttl,
               runs_stand_in(ctx, ci) ? "stand-in" : "-");
    }
}

static void stand_in_known(void *data, int status, const char *msg, const char *const *clusters,
                           size_t n) {
    ls_ctx *ctx = data;

    if (status != 0) {
        runner_fail(ctx->r, RUNNER_FAILED, "%s", msg);
        return;
    }
    ctx->stand_in = calloc(n > 0 ? n : 1, sizeof(*ctx->stand_in));
    for (size_t i = 0; ctx->stand_in != NULL && i < n; i++)
        if ((ctx->stand_in[ctx->n_stand_in] = strdup(clusters[i])) != NULL)
            ctx->n_stand_in++;
    if (cluster_survey(&ctx->r->loop, ctx->r->d, NULL, surveyed, ctx) != 0)
        runner_fail(ctx->r, RUNNER_FAILED, "ls: cannot ask Docker for the clusters");
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
    if (images_stand_in_clusters(r.d, stand_in_known, &ctx) != 0)
        r.status = RUNNER_FAILED;
    err = runner_finish(&r);
    for (size_t i = 0; i < ctx.n_stand_in; i++)
        free(ctx.stand_in[i]);
    free(ctx.stand_in);
    return err;
}

const cmd cmd_ls = {
    .name = "ls",
    .usage = "hdc ls [--json]",
    .summary = "clusters on this Docker engine: state (creating, up, degraded, failed, stopped, "
               "orphaned, expired), nodes, age, time-to-live, stand-in",
    .parse = parse,
    .run = run,
};
