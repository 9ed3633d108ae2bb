/* `hdc start NAME...`: stopped clusters (by `hdc stop`, or by an engine
 * restart) brought back with their data; and the flow `hdc restart NAME
 * [NODE...]` (restart.c) shares: the nodes stopped first, then started
 * as a start does.
 *
 * A start, per cluster: the survey (what it is), the containers (which
 * run), the plugin and the plan (from the labels and the network's
 * subnet), then cluster_up in its resume mode: ZooKeeper first, the
 * restarted nodes' znodes reset to `wait`, their containers started, the
 * plugin's steps of their services run again, every probe green, the
 * record `up`. Then the client node, if the cluster has one, and one
 * detached log writer for every cluster that came up.
 *
 * Decisions a newcomer might question:
 * - Which nodes a start starts: those not running. When ZooKeeper is not
 *   running but some services are, their agents have lost their
 *   rendezvous: the whole cluster is stopped first, then started, so
 *   that every daemon starts in the plugin's order.
 * - Published ports: Docker gives a stopped container new ephemeral host
 *   ports when it starts again, so a start prints the endpoints as they
 *   now are; `hdc status NAME --json` is the authority (docs/cli.md).
 * - A start that fails leaves the cluster as it is, data and record
 *   included (cluster.h): nothing of a start is ever removed.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "cluster_query.h"
#include "cluster_stop.h"
#include "cluster_survey.h"
#include "cmd.h"
#include "plan.h"
#include "util.h"

typedef struct start_run start_run;

/* One cluster started. */
typedef struct start_one {
    start_run *s;
    const char *name;
    const char *const *only; /* restart: the nodes or services (n_only 0: all) */
    size_t n_only;
    int stop_first; /* restart, or a start whose ZooKeeper is gone */
    char *dist, *logs_root, *holder;
    unsigned datanodes;
    /* As its up gave them (labels): the steps' environment again. */
    char *test_user;
    unsigned memory_mb;
    plugin *plug;
    plan plan;
    const char **hosts; /* the nodes to start, NULL-terminated */
    size_t n_hosts;
    char client[160]; /* its client node's container, if stopped, else "" */
    cluster *c;
    int done;
    int came_up;     /* its nodes started: a log writer follows them */
    int have_writer; /* in a writer's arguments already */
} start_one;

struct start_run {
    runner r;
    const cmd_ctx *ctx;
    start_one *ones;
    size_t n;
    int interrupted;
    json_t *json;      /* --json: an array, dumped at the end */
    probe_pacer pacer; /* every cluster's probes */
};

static void finish(start_one *o, int ok) {
    o->done = 1;
    if (!ok)
        o->s->r.status = RUNNER_FAILED;
}

static void fail(start_one *o, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(start_one *o, int status, const char *fmt, ...) {
    char msg[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    runner_fail(&o->s->r, status, "%s", msg);
    o->done = 1;
}

/* ---- the end: the client node, and what is printed ----------------------------------- */

static void print_up(start_one *o, const cluster_report *r) {
    if (o->s->ctx->json) {
        json_t *endpoints = json_array();
        for (size_t i = 0; i < r->n_endpoints; i++) {
            const cluster_endpoint *e = &r->endpoints[i];
            char url[64];
            snprintf(url, sizeof(url), "127.0.0.1:%d", e->host_port);
            json_array_append_new(endpoints, json_pack("{s:s, s:s, s:s, s:i, s:s}", "service",
                                                       e->service, "hostname", e->hostname, "role",
                                                       e->role, "port", e->port, "address", url));
        }
        json_array_append_new(o->s->json,
                              json_pack("{s:s, s:s, s:s, s:o}", "cluster", o->name, "dist", o->dist,
                                        "state", "up", "endpoints", endpoints));
        return;
    }
    printf("%s (%s) is up again in %.1f s; logs in %s/%s\n", o->name, o->dist, r->total_ms / 1000.0,
           o->logs_root, o->name);
    for (size_t i = 0; i < r->n_endpoints; i++) {
        const cluster_endpoint *e = &r->endpoints[i];
        printf("  %-16s %-10s %5d -> 127.0.0.1:%d\n", e->hostname, e->role, e->port, e->host_port);
    }
    fflush(stdout);
}

static void client_started(void *data, int status, const char *msg) {
    start_one *o = data;

    /* Its agent reads `up` in its znode: it starts its daemon at once. */
    if (status != 0)
        fprintf(stderr,
                "hdc: %s: the cluster is up, but its client node did not start: %s: "
                "`hdc client %s` after `docker rm -f %s` makes it again\n",
                o->name, msg != NULL ? msg : hdc_strerror(status), o->name, o->client);
    finish(o, 1);
}

static void up_done(void *data, const cluster_report *r) {
    start_one *o = data;

    o->c = NULL;
    if (r->status != 0) {
        fprintf(stderr, "hdc: %s\n", r->message);
        finish(o, 0);
        return;
    }
    o->came_up = 1;
    print_up(o, r);
    if (o->client[0] != '\0' &&
        docker_container_start(o->s->r.d, o->client, client_started, o, NULL) == 0)
        return;
    finish(o, 1);
}

/* ---- the plan, and the start --------------------------------------------------------- */

static void network_inspected(void *data, int status, const char *msg,
                              const docker_network_info *info) {
    start_one *o = data;
    start_run *s = o->s;
    char err[1024], pool_spec[64];
    const char *size;
    plan_pool pool;
    cluster_up_opts uo = {0};

    if (status != 0) {
        fail(o, RUNNER_FAILED, "%s: cannot inspect its network hdc_%s: %s", o->name, o->name, msg);
        return;
    }
    /* The cluster's own subnet is the whole pool: index 0 is it. */
    size = strchr(info->subnet, '/');
    snprintf(pool_spec, sizeof(pool_spec), "%s:%s", info->subnet, size != NULL ? size + 1 : "");
    if (plan_pool_parse(pool_spec, &pool, err, sizeof(err)) != 0 ||
        plan_make(&o->plan, o->plug->desc, o->name, o->datanodes, &pool, 0, err, sizeof(err)) !=
            0) {
        fail(o, RUNNER_FAILED, "%s: cannot plan it again: %s", o->name, err);
        return;
    }
    uo.logs_root = o->logs_root;
    uo.test_user = o->test_user != NULL ? o->test_user : s->ctx->env.test_user;
    uo.memory_mb = o->memory_mb;
    uo.restart = o->hosts;
    uo.holder = o->holder;
    uo.pacer = &s->pacer;
    if (s->interrupted || cluster_up(&s->r.loop, s->r.d, &o->plan, &uo, NULL, up_done, o, &o->c)) {
        o->c = NULL;
        fail(o, RUNNER_FAILED, "%s: %s", o->name,
             s->interrupted ? "interrupted" : "cannot start it");
    }
}

static int add_host(start_one *o, const char *host) {
    size_t cap = o->n_hosts + 1;

    if (util_grow(&o->hosts, &cap, o->n_hosts + 2, sizeof(*o->hosts)) != 0 ||
        (host = strdup(host)) == NULL)
        return UV_ENOMEM;
    o->hosts[o->n_hosts++] = host;
    o->hosts[o->n_hosts] = NULL;
    return 0;
}

static void stopped(void *data, int status, const char *msg, size_t n);

static int is_service(const cluster_container *c, const char *service) {
    return c->service != NULL && strcmp(c->service, service) == 0;
}

/* Which nodes start; then the plugin and the network. */
static void listed(void *data, int status, const char *msg, const cluster_container *list,
                   size_t n) {
    start_one *o = data;
    start_run *s = o->s;
    unsigned char *chosen = calloc(n + 1, 1);
    const char *unknown = NULL;
    int zk_runs = 0, services_run = 0, err = 0;

    if (status != 0 || chosen == NULL) {
        free(chosen);
        fail(o, RUNNER_FAILED, "%s: cannot list its containers: %s", o->name,
             msg != NULL ? msg : hdc_strerror(UV_ENOMEM));
        return;
    }
    /* After a restart's stop, its nodes; else every node not running. */
    cluster_stop_select(list, n, o->only, o->n_only, chosen, &unknown);
    for (size_t i = 0; i < n; i++) {
        int runs = cluster_container_active(list[i].state);
        int zk = is_service(&list[i], "zookeeper");
        zk_runs |= zk && runs;
        services_run |= !zk && runs && strcmp(list[i].state, "paused") != 0;
    }
    if (!zk_runs && services_run && !o->stop_first) {
        fprintf(stderr,
                "hdc: %s: its ZooKeeper is not running, some services are: stopping "
                "them first, so that every daemon starts in order\n",
                o->name);
        free(chosen);
        o->stop_first = 1;
        /* Copied by cluster_stop: the survey's info is not needed. */
        cluster_info ci = {.name = (char *)o->name};
        if (cluster_stop(&s->r.loop, s->r.d, &ci, NULL, 0, stopped, o) != 0)
            fail(o, RUNNER_FAILED, "%s: cannot stop it", o->name);
        return;
    }
    for (size_t i = 0; i < n && err == 0; i++) {
        const cluster_container *c = &list[i];
        int runs = cluster_container_active(c->state);
        if (is_service(c, "client") || c->hostname == NULL) {
            /* The client node starts once the cluster is up. */
            if (!runs)
                snprintf(o->client, sizeof(o->client), "%s", c->name);
            continue;
        }
        if (!runs && (o->n_only == 0 || chosen[i]))
            err = add_host(o, c->hostname);
    }
    free(chosen);
    if (err != 0) {
        fail(o, RUNNER_FAILED, "out of memory");
        return;
    }
    if (o->n_hosts == 0) {
        /* Everything runs: a start has nothing to do. */
        if (o->client[0] == '\0') {
            if (!s->ctx->json)
                printf("%s is up already: `hdc status %s` checks it, `hdc restart %s` restarts "
                       "it\n",
                       o->name, o->name, o->name);
            finish(o, 1);
            return;
        }
    }
    if (runner_load(s->ctx->plugin_path, s->ctx->env.plugin_path, o->dist, &o->plug) != 0) {
        o->done = 1;
        s->r.status = RUNNER_FAILED;
        return;
    }
    {
        char net[96];
        snprintf(net, sizeof(net), "hdc_%s", o->name);
        if (docker_network_inspect(s->r.d, net, network_inspected, o, NULL) != 0)
            fail(o, RUNNER_FAILED, "%s: cannot ask Docker", o->name);
    }
}

static void stopped(void *data, int status, const char *msg, size_t n) {
    start_one *o = data;

    if (status == UV_EINVAL) { /* a node or service it has not */
        fail(o, RUNNER_USAGE, "%s", msg);
        return;
    }
    if (status != 0) {
        fail(o, RUNNER_FAILED, "%s: the cluster is left as it is", msg);
        return;
    }
    if (o->s->interrupted) {
        fail(o, RUNNER_FAILED,
             "%s: interrupted after its nodes stopped: `hdc start %s` starts "
             "them again",
             o->name, o->name);
        return;
    }
    if (cluster_list(&o->s->r.loop, o->s->r.d, o->name, listed, o) != 0)
        fail(o, RUNNER_FAILED, "%s: cannot ask Docker", o->name);
}

static void surveyed(void *data, int status, const char *msg, const cluster_info *list, size_t n) {
    start_one *o = data;
    start_run *s = o->s;
    const cluster_info *ci = n > 0 ? &list[0] : NULL;
    int err;

    if (status != 0) {
        fail(o, RUNNER_FAILED, "%s", msg);
        return;
    }
    if (ci == NULL || ci->containers == 0 || ci->dist == NULL) {
        fail(o, RUNNER_USAGE, "no cluster named '%s' to start%s; `hdc ls` lists them", o->name,
             ci != NULL ? " (only its network or volumes are left: `hdc down` it)" : "");
        return;
    }
    if (ci->state == CLUSTER_CREATING) {
        fail(o, RUNNER_FAILED,
             "cluster '%s' is being created by an `hdc up` that runs%s: wait for it", o->name,
             ci->owner_is == OWNER_UNKNOWN ? " where this hdc cannot see it" : "");
        return;
    }
    o->dist = strdup(ci->dist);
    o->datanodes = ci->datanodes > 0 ? ci->datanodes : 1;
    o->memory_mb = ci->memory_mb;
    /* Made before the label: the environment's, as before. */
    o->test_user = ci->test_user != NULL ? strdup(ci->test_user) : NULL;
    /* The logs go where the up put them (hdc.logs is <root>/<name>). */
    if (ci->logs_dir != NULL && strrchr(ci->logs_dir, '/') != NULL)
        o->logs_root =
            util_asprintf("%.*s", (int)(strrchr(ci->logs_dir, '/') - ci->logs_dir), ci->logs_dir);
    else
        o->logs_root = strdup(cmd_logs_root(&s->ctx->env));
    /* A holder that is gone let the cluster go: it is nobody's now. */
    o->holder = strdup(ci->has_record && ci->holder_is != OWNER_GONE ? ci->record.holder : "");
    if (o->dist == NULL || o->logs_root == NULL || o->holder == NULL) {
        fail(o, RUNNER_FAILED, "out of memory");
        return;
    }
    if (o->stop_first)
        err = cluster_stop(&s->r.loop, s->r.d, ci, o->only, o->n_only, stopped, o);
    else
        err = cluster_list(&s->r.loop, s->r.d, o->name, listed, o);
    if (err != 0)
        fail(o, RUNNER_FAILED, "%s: cannot ask Docker", o->name);
}

/* ---- the run ------------------------------------------------------------------------- */

static void interrupted(runner *r, int signum) {
    start_run *s = r->ctx;

    s->interrupted = 1;
    fprintf(stderr,
            "\nhdc: %s: stopping the starts under way (the clusters are left as they "
            "are, with their data)\n",
            runner_signal_name(signum));
    for (size_t i = 0; i < s->n; i++)
        if (s->ones[i].c != NULL)
            cluster_cancel(s->ones[i].c);
}

/* One detached `hdc logs -f --write-root ROOT NAME...` per logs root for
 * the clusters that came up: it resumes every node's log where the last
 * writer left it. */
static void spawn_log_writers(start_run *s) {
    const char **args = calloc(s->n + 5, sizeof(*args));

    for (size_t i = 0; args != NULL && i < s->n; i++) {
        size_t k = 0;
        if (!s->ones[i].came_up || s->ones[i].have_writer)
            continue;
        args[k++] = "logs";
        args[k++] = "-f";
        args[k++] = "--write-root";
        args[k++] = s->ones[i].logs_root;
        for (size_t j = i; j < s->n; j++) {
            start_one *o = &s->ones[j];
            if (!o->came_up || strcmp(o->logs_root, args[3]) != 0)
                continue;
            args[k++] = o->name;
            o->have_writer = 1;
        }
        args[k] = NULL;
        if (runner_spawn_detached(&s->r, args) != 0)
            fprintf(stderr, "hdc: cannot start the log writer; `hdc logs NAME` still shows the "
                            "logs\n");
    }
    free(args);
}

int cmd_start_run(const cmd_ctx *ctx, const char *const *names, size_t n_names,
                  const char *const *only, size_t n_only, int restart) {
    start_run s = {.ctx = ctx, .n = n_names};
    int err;

    probe_pacer_init(&s.pacer, PROBE_FLEET_RATE);
    if ((s.ones = calloc(n_names, sizeof(*s.ones))) == NULL ||
        (ctx->json && (s.json = json_array()) == NULL)) {
        free(s.ones);
        runner_error("out of memory");
        return RUNNER_FAILED;
    }
    if ((err = runner_open(&s.r, NULL)) != 0) {
        free(s.ones);
        json_decref(s.json);
        return err;
    }
    runner_on_signal(&s.r, interrupted, &s);
    for (size_t i = 0; i < n_names; i++) {
        start_one *o = &s.ones[i];
        *o = (start_one){.s = &s, .name = names[i], .only = only, .n_only = n_only};
        o->stop_first = restart;
        if (cluster_survey(&s.r.loop, s.r.d, o->name, surveyed, o) != 0)
            fail(o, RUNNER_FAILED, "%s: cannot ask Docker", o->name);
    }
    runner_hold_signals(&s.r, 1);
    for (;;) {
        size_t done = 0;
        for (size_t i = 0; i < n_names; i++)
            done += s.ones[i].done;
        if (done == n_names)
            break;
        uv_run(&s.r.loop, UV_RUN_ONCE);
    }
    runner_hold_signals(&s.r, 0);
    if (!s.interrupted)
        spawn_log_writers(&s);
    err = runner_finish(&s.r);
    if (s.json != NULL) {
        json_dumpf(s.json, stdout, JSON_INDENT(2));
        printf("\n");
        json_decref(s.json);
    }
    for (size_t i = 0; i < n_names; i++) {
        start_one *o = &s.ones[i];
        for (size_t k = 0; k < o->n_hosts; k++)
            free((char *)o->hosts[k]);
        free(o->hosts);
        free(o->dist);
        free(o->logs_root);
        free(o->holder);
        free(o->test_user);
        plan_free(&o->plan);
        if (o->plug != NULL)
            plugin_unload(o->plug);
    }
    free(s.ones);
    return err;
}

/* ---- the command --------------------------------------------------------------------- */

int cmd_start_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_start_opts *o, char *err,
                    size_t err_len) {
    char why[256];

    o->names = calloc((size_t)argc, sizeof(*o->names));
    if (o->names == NULL)
        return util_fail(err, err_len, RUNNER_USAGE, "out of memory");
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-')
            return util_fail(err, err_len, RUNNER_USAGE, "%s: unknown flag '%s'", argv[0], argv[i]);
        if (plan_name_check(argv[i], why, sizeof(why)) != 0)
            return util_fail(err, err_len, RUNNER_USAGE, "%s: %s", argv[0], why);
        for (size_t k = 0; k < o->n_names; k++)
            if (strcmp(o->names[k], argv[i]) == 0)
                return util_fail(err, err_len, RUNNER_USAGE, "%s: '%s' is named twice", argv[0],
                                 argv[i]);
        o->names[o->n_names++] = argv[i];
    }
    if (o->n_names == 0)
        return util_fail(err, err_len, RUNNER_USAGE, "%s: give the names of the clusters", argv[0]);
    return 0;
}

static int parse(const cmd_ctx *ctx, int argc, char **argv, void *opts, char *err, size_t err_len) {
    return cmd_start_parse(ctx, argc, argv, opts, err, err_len);
}

static int run(const cmd_ctx *ctx, void *opts) {
    cmd_start_opts *o = opts;

    return cmd_start_run(ctx, o->names, o->n_names, NULL, 0, 0);
}

static void free_opts(void *opts) {
    cmd_start_opts *o = opts;

    free(o->names);
}

const cmd cmd_start = {
    .name = "start",
    .usage = "hdc start NAME...",
    .summary = "start stopped clusters again, with their data",
    .opts_size = sizeof(cmd_start_opts),
    .parse = parse,
    .run = run,
    .free = free_opts,
};
