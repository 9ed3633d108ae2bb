/* `hdc status NAME`: each node of a cluster (service, host, container,
 * Docker's state, address, published endpoints), then each probe of its
 * distribution, run once through the published port of its service's
 * first instance: green, or not green and why.
 *
 * Decisions a newcomer might question:
 * - The exit status says whether the cluster is whole: 1 when a node is
 *   not running or a probe is not green (after the whole report, with a
 *   line naming them), as when there is no such cluster or Docker failed;
 *   a CI step can gate on `hdc status NAME` (docs/cli.md).
 * - The plugin is looked up with plugin_find, not runner_load: a cluster
 *   whose distribution has no plugin here is still listed, with the note
 *   "status: no probes: ..." and no list of the known distributions.
 * - The loop runs until every probe has ended; then the verdicts are
 *   printed, and with --json the whole document is dumped once.
 * - The probes are an array sized from the distribution's list before the
 *   first starts: each probe's callback holds a pointer into it.
 * - Whether the cluster runs hdc's test stand-in is asked of its images
 *   (the label hdc.stand-in), beside the listing: a stand-in cluster says
 *   so in its last line, whatever its name.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_query.h"
#include "cmd.h"
#include "images.h"
#include "plan.h"
#include "plugin_host.h"
#include "probe.h"
#include "util.h"

typedef struct status_probe {
    const hdc_probe *probe;
    char address[64];
    int status;
    char why[512];
} status_probe;

typedef struct status_ctx {
    runner *r;
    const cmd_ctx *cc;
    const char *name;
    json_t *root; /* --json: dumped once the probes are done */
    plugin *plug; /* the cluster's distribution */
    status_probe *probes;
    size_t n_probes;
    size_t n_nodes;
    char *down;   /* the hosts not running, ", "-joined (malloc'd), or NULL */
    char *off;    /* the hosts running off their network (`hdc fault`), likewise */
    int stand_in; /* 1: it runs hdc's test stand-in; -1: unknown */
} status_ctx;

static void stand_in_known(void *data, int status, const char *msg, const char *const *clusters,
                           size_t n) {
    status_ctx *ctx = data;

    ctx->stand_in = status == 0 ? images_among(clusters, n, ctx->name) : -1;
}

static void probed(void *data, int status, const probe_result *res) {
    status_probe *sp = data;

    sp->status = status;
    snprintf(sp->why, sizeof(sp->why), "%s", res->why);
}

/* Each probe of the cluster's distribution, once, through the published
 * port of its service's first instance. */
static void start_probes(status_ctx *ctx, const cluster_container *list, size_t n) {
    char err[1024];
    plugin_path pp;
    unsigned datanodes = 0;
    size_t count = 0;

    if (plugin_path_init(&pp, ctx->cc->plugin_path, ctx->cc->env.plugin_path) != 0)
        return;
    if (plugin_find(&pp, list[0].dist, &ctx->plug, err, sizeof(err)) != 0) {
        fprintf(stderr, "hdc: status: no probes: %s\n", err);
        plugin_path_free(&pp);
        return;
    }
    plugin_path_free(&pp);
    /* The requested count, as the cluster was made: the instances of its
     * first scaled service. */
    for (const hdc_service *s = ctx->plug->desc->services; s != NULL && s->name != NULL; s++) {
        if (s->instances != HDC_COUNT_DATANODES)
            continue;
        for (size_t i = 0; i < n; i++)
            datanodes += strcmp(list[i].service, s->name) == 0;
        break;
    }
    for (const hdc_probe *p = ctx->plug->desc->probes; p != NULL && p->name != NULL; p++)
        count++;
    if (count == 0)
        return;
    ctx->probes = calloc(count, sizeof(*ctx->probes));
    if (ctx->probes == NULL) {
        runner_fail(ctx->r, RUNNER_FAILED, "status: no probes: out of memory");
        return;
    }
    for (const hdc_probe *p = ctx->plug->desc->probes; p != NULL && p->name != NULL; p++) {
        const hdc_service *svc = plugin_service(ctx->plug->desc, p->service);
        const hdc_port *port = plugin_port(svc, p->port_role);
        status_probe *sp = &ctx->probes[ctx->n_probes];
        for (size_t i = 0; i < n && sp->address[0] == '\0'; i++) {
            if (strcmp(list[i].service, p->service) != 0)
                continue;
            for (size_t k = 0; k < list[i].n_ports; k++)
                if (list[i].ports[k].port == port->port && list[i].ports[k].host_port != 0)
                    snprintf(sp->address, sizeof(sp->address), "http://127.0.0.1:%u",
                             list[i].ports[k].host_port);
        }
        sp->probe = p;
        sp->status = UV_EADDRNOTAVAIL;
        snprintf(sp->why, sizeof(sp->why), "%s is not running", p->service);
        ctx->n_probes++;
        if (sp->address[0] != '\0') {
            probe_target t = {.desc = ctx->plug->desc,
                              .probe = p,
                              .cluster = ctx->name,
                              .datanodes = datanodes > 0 ? datanodes : 1,
                              .address = sp->address};
            if (probe_start(&ctx->r->loop, &t, 0, probed, sp, NULL) != 0)
                snprintf(sp->why, sizeof(sp->why), "the probe could not start");
        }
    }
}

static size_t red_probes(const status_ctx *ctx) {
    size_t red = 0;

    for (size_t i = 0; i < ctx->n_probes; i++)
        red += ctx->probes[i].status != 0;
    return red;
}

static int healthy(const status_ctx *ctx) {
    return ctx->down == NULL && ctx->off == NULL && red_probes(ctx) == 0;
}

/* A node not running (what), or off its network: named in the verdict. */
static void note(char **list, const char *host, const char *what) {
    char *more = util_asprintf("%s%s%s%s", *list != NULL ? *list : "", *list != NULL ? ", " : "",
                               host, what);

    if (more == NULL)
        return;
    free(*list);
    *list = more;
}

/* The exit status: 1 with what is wrong when a node is down or a probe
 * is not green. */
static void verdict(status_ctx *ctx) {
    size_t red = red_probes(ctx);

    if (ctx->n_nodes == 0 || healthy(ctx))
        return;
    if (ctx->down != NULL || ctx->off != NULL) {
        char hint[160] = "";
        if (ctx->off != NULL || (ctx->down != NULL && strstr(ctx->down, "(paused)") != NULL))
            snprintf(hint, sizeof(hint), "; `hdc fault %s NODE unpause|reconnect` undoes a fault",
                     ctx->name);
        runner_fail(ctx->r, RUNNER_FAILED,
                    "status: %s is not whole: %s%s%s%s%s%s%zu of %zu probes not green; `hdc logs "
                    "%s SERVICE` shows why%s",
                    ctx->name, ctx->down != NULL ? "not running: " : "",
                    ctx->down != NULL ? ctx->down : "", ctx->down != NULL ? "; " : "",
                    ctx->off != NULL ? "off its network: " : "", ctx->off != NULL ? ctx->off : "",
                    ctx->off != NULL ? "; " : "", red, ctx->n_probes, ctx->name, hint);
    } else
        runner_fail(ctx->r, RUNNER_FAILED,
                    "status: %s is not whole: %zu of %zu probes not green; `hdc logs %s SERVICE` "
                    "shows why",
                    ctx->name, red, ctx->n_probes, ctx->name);
}

/* After the loop: the probes' verdicts, with the rest of status. */
static void report_probes(status_ctx *ctx) {
    json_t *arr = json_array();

    for (size_t i = 0; i < ctx->n_probes; i++) {
        status_probe *sp = &ctx->probes[i];
        if (ctx->cc->json)
            json_array_append_new(arr, json_pack("{s:s, s:s, s:b, s:s}", "name", sp->probe->name,
                                                 "service", sp->probe->service, "healthy",
                                                 sp->status == 0, "why", sp->why));
        else
            printf("probe %-20s %s%s%s\n", sp->probe->name, sp->status == 0 ? "green" : "NOT green",
                   sp->status == 0 ? "" : ": ", sp->status == 0 ? "" : sp->why);
    }
    if (ctx->n_nodes > 0 && ctx->stand_in == 1 && !ctx->cc->json)
        printf("images: hdc's test stand-in (tests/fixtures/fakehadoop), NOT Hadoop\n");
    if (ctx->cc->json && ctx->root != NULL) {
        json_object_set_new(ctx->root, "stand_in",
                            ctx->stand_in >= 0 ? json_boolean(ctx->stand_in) : json_null());
        json_object_set_new(ctx->root, "probes", arr);
        json_object_set_new(ctx->root, "healthy", json_boolean(healthy(ctx)));
        json_dumpf(ctx->root, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(ctx->root);
    } else {
        json_decref(arr);
    }
    if (ctx->plug != NULL)
        plugin_unload(ctx->plug);
}

static void listed(void *data, int status, const char *msg, const cluster_container *list,
                   size_t n) {
    status_ctx *ctx = data;
    json_t *nodes = json_array();

    if (status != 0 || n == 0) {
        if (status != 0)
            runner_fail(ctx->r, RUNNER_FAILED, "%s", msg);
        else
            runner_fail(ctx->r, RUNNER_FAILED, "status: no cluster named '%s'; `hdc ls` lists them",
                        ctx->name);
        json_decref(nodes);
        return;
    }
    if (!ctx->cc->json)
        printf("%-16s %-16s %-28s %-9s %-15s %s\n", "SERVICE", "HOST", "CONTAINER", "STATE",
               "ADDRESS", "ENDPOINTS");
    ctx->n_nodes = n;
    for (size_t i = 0; i < n; i++) {
        const cluster_container *c = &list[i];
        json_t *eps = json_array();
        /* A paused node is frozen; a running node without an address is off
         * its network: both are what `hdc fault` leaves. */
        if (strcmp(c->state, "running") != 0)
            note(&ctx->down, c->hostname[0] != '\0' ? c->hostname : c->name,
                 strcmp(c->state, "paused") == 0 ? " (paused)" : "");
        else if (c->address[0] == '\0')
            note(&ctx->off, c->hostname[0] != '\0' ? c->hostname : c->name, "");
        char text[1024] = "";
        size_t used = 0;
        for (size_t k = 0; k < c->n_ports; k++) {
            if (c->ports[k].host_port == 0)
                continue;
            json_array_append_new(eps, json_pack("{s:i, s:s, s:i}", "port", c->ports[k].port,
                                                 "host_ip", c->ports[k].host_ip, "host_port",
                                                 c->ports[k].host_port));
            used +=
                (size_t)snprintf(text + used, sizeof(text) - used, "%s%d->%s:%d", used ? " " : "",
                                 c->ports[k].port, c->ports[k].host_ip, c->ports[k].host_port);
            if (used >= sizeof(text))
                used = sizeof(text) - 1;
        }
        if (ctx->cc->json)
            json_array_append_new(nodes,
                                  json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:o}", "service",
                                            c->service, "hostname", c->hostname, "container",
                                            c->name, "state", c->state, "exit_code", c->exit_code,
                                            "address", c->address, "endpoints", eps));
        else {
            printf("%-16s %-16s %-28s %-9s %-15s %s\n", c->service, c->hostname, c->name, c->state,
                   c->address, text);
            json_decref(eps);
        }
    }
    if (ctx->cc->json)
        ctx->root = json_pack("{s:s, s:s, s:o}", "cluster", ctx->name, "dist", list[0].dist,
                              "nodes", nodes);
    else
        json_decref(nodes);
    start_probes(ctx, list, n);
}

int cmd_status_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_status_opts *o, char *err,
                     size_t err_len) {
    char why[256];

    if (argc != 2)
        return util_fail(err, err_len, RUNNER_USAGE,
                         "status: give one cluster name; `hdc ls` lists them");
    if (plan_name_check(argv[1], why, sizeof(why)) != 0)
        return util_fail(err, err_len, RUNNER_USAGE, "status: %s", why);
    o->name = argv[1];
    return 0;
}

static int parse(const cmd_ctx *ctx, int argc, char **argv, void *opts, char *err, size_t err_len) {
    return cmd_status_parse(ctx, argc, argv, opts, err, err_len);
}

static int run(const cmd_ctx *cc, void *opts) {
    cmd_status_opts *o = opts;
    status_ctx ctx = {.cc = cc, .name = o->name};
    runner r;
    int err;

    if ((err = runner_open(&r, NULL)) != 0)
        return err;
    ctx.r = &r;
    if (cluster_list(&r.loop, r.d, ctx.name, listed, &ctx) != 0)
        r.status = RUNNER_FAILED;
    if (images_stand_in_clusters(r.d, stand_in_known, &ctx) != 0)
        ctx.stand_in = -1;
    /* The listing, then the probes it started, to their end. */
    uv_run(&r.loop, UV_RUN_DEFAULT);
    report_probes(&ctx);
    verdict(&ctx);
    err = runner_finish(&r);
    free(ctx.probes);
    free(ctx.down);
    free(ctx.off);
    return err;
}

const cmd cmd_status = {
    .name = "status",
    .usage = "hdc status NAME [--json]",
    .summary = "each node: container, state, address, endpoints; and every probe, once",
    .opts_size = sizeof(cmd_status_opts),
    .parse = parse,
    .run = run,
};
