/* `hdc ls`: the clusters on this Docker engine, one row each, with the
 * state they are in (cluster_survey.h): name, distribution, state, nodes,
 * how many run, age, and when a time-to-live ends it.
 *
 * Decision: the state is the survey's, the one `hdc gc` acts on, so what
 * ls calls orphaned is exactly what gc removes (with failed ones whose
 * owner is gone, shown as failed).
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cluster_survey.h"
#include "cmd.h"

typedef struct ls_ctx {
    runner *r;
    int json;
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

static json_t *row_json(const cluster_info *ci) {
    json_t *o = json_pack("{s:s, s:s?, s:s, s:I, s:I, s:I, s:s, s:s?, s:s?}", "name", ci->name,
                          "dist", ci->dist, "state", cluster_state_name(ci->state), "nodes",
                          (json_int_t)ci->containers, "running", (json_int_t)ci->running, "created",
                          (json_int_t)ci->created, "owner", owner_liveness_name(ci->owner_is),
                          "logs", ci->logs_dir, "keys", ci->keys_dir);

    json_object_set_new(o, "expires", ci->expires > 0 ? json_integer(ci->expires) : json_null());
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
            json_array_append_new(arr, row_json(&list[i]));
        json_dumpf(arr, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(arr);
        return;
    }
    printf("%-20s %-16s %-9s %-6s %-8s %-5s %s\n", "NAME", "DIST", "STATE", "NODES", "RUNNING",
           "AGE", "TTL");
    for (size_t i = 0; i < n; i++) {
        const cluster_info *ci = &list[i];
        char age[24] = "?", ttl[24] = "-";
        if (ci->created > 0)
            span(now - ci->created, age, sizeof(age));
        if (ci->expires > now)
            span(ci->expires - now, ttl, sizeof(ttl));
        else if (ci->expires > 0)
            snprintf(ttl, sizeof(ttl), "over");
        printf("%-20s %-16s %-9s %-6zu %-8zu %-5s %s\n", ci->name, ci->dist ? ci->dist : "?",
               cluster_state_name(ci->state), ci->containers, ci->running, age, ttl);
    }
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
    if (cluster_survey(&r.loop, r.d, NULL, surveyed, &ctx) != 0)
        r.status = RUNNER_FAILED;
    return runner_finish(&r);
}

const cmd cmd_ls = {
    .name = "ls",
    .usage = "hdc ls [--json]",
    .summary = "clusters on this Docker engine: state (creating, up, degraded, failed, stopped, "
               "orphaned, expired), nodes, age, time-to-live",
    .parse = parse,
    .run = run,
};
