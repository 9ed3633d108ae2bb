/* `hdc up DIST [--name NAME]...`: creates and bootstraps clusters, all at
 * once on one loop (a fleet, engine/fleet.h), and returns when every probe
 * is green or at the first failure, naming the service and the last lines
 * of its log. On a terminal a live table shows each node's state.
 *
 * Decisions a newcomer might question:
 * - Every name is looked up (cluster_survey.h) before any up starts, and
 *   a question about what is left of a cluster of the name (stopped,
 *   failed, orphaned, expired) is asked only then: no question blocks the
 *   loop work of another cluster. A cluster that is up or being created
 *   is never replaced.
 * - After `up` returns, one detached `hdc logs -f --write-root ROOT
 *   NAME...` keeps the log files of every cluster that came up growing
 *   (rewriting each from the start, so nothing is lost between the two).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster_query.h"
#include "cluster_survey.h"
#include "cmd.h"
#include "fleet.h"
#include "images.h"
#include "plan.h"
#include "util.h"

typedef struct up_run up_run;

/* One cluster of the command line. */
typedef struct target {
    up_run *u;
    const cmd_up_target *arg;
    fleet_member *m;
    char *logs_dir;
    int done, ok;
    int listed;               /* its name was looked up */
    enum cluster_state state; /* of a cluster of its name, if leftovers */
    size_t leftovers;         /* objects of that cluster */
    int printed;              /* its endpoints were printed */
    json_t *report;           /* for --json */
} target;

/* Its images are hdc's test stand-in's (label hdc.stand-in), as resolved. */
static int stand_in(const target *t) {
    return t->m != NULL && t->m->images != NULL && t->m->images->stand_in;
}

/* A row of the live table: a node. */
typedef struct row {
    const target *t;
    char host[64];
    char state[16];
    uint64_t ms;
} row;

struct up_run {
    runner r;
    const cmd_ctx *ctx;
    const cmd_up_opts *o;
    fleet *f;
    target *targets;
    size_t n;
    const char *logs_root;
    int tty, color;
    int interrupted;    /* SIGINT, SIGTERM, SIGHUP: start nothing more */
    images_opts images; /* where each DIST's images are resolved from */
    row *rows;
    size_t n_rows, cap_rows;
    size_t rows_drawn;
};

/* ---- parse --------------------------------------------------------------------- */

int cmd_up_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_up_opts *o, char *err,
                 size_t err_len) {
    char why[256];

    o->datanodes = 1;
    o->test_user = ctx->env.test_user != NULL ? ctx->env.test_user : "hdc";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int rc;
        if (strcmp(a, "--name") == 0) {
            if (o->n_targets == 0 || i + 1 >= argc)
                return util_fail(err, err_len, RUNNER_USAGE,
                                 "up: --name NAME follows the distribution it names");
            /* Checked here: an empty name must not fall back to the default. */
            if (plan_name_check(argv[++i], why, sizeof(why)) != 0)
                return util_fail(err, err_len, RUNNER_USAGE, "up: %s", why);
            snprintf(o->targets[o->n_targets - 1].name, sizeof(o->targets[0].name), "%s", argv[i]);
        } else if (strcmp(a, "--datanodes") == 0) {
            rc = cmd_uint(a, i + 1 < argc ? argv[++i] : NULL, 1, PLUGIN_MAX_INSTANCES,
                          &o->datanodes, err, err_len);
            if (rc != 0)
                return rc;
        } else if (strcmp(a, "--memory") == 0) {
            rc = cmd_uint(a, i + 1 < argc ? argv[++i] : NULL, 1, CMD_MAX_MEMORY_MB, &o->memory_mb,
                          err, err_len);
            if (rc != 0)
                return rc;
        } else if (strcmp(a, "--timeout") == 0) {
            rc =
                cmd_uint(a, i + 1 < argc ? argv[++i] : NULL, 1, 86400, &o->timeout_s, err, err_len);
            if (rc != 0)
                return rc;
        } else if (strcmp(a, "--ttl") == 0) {
            rc = cmd_duration(a, i + 1 < argc ? argv[++i] : NULL, 1, 365 * 86400, &o->ttl_s, err,
                              err_len);
            if (rc != 0)
                return rc;
        } else if (strcmp(a, "--test-user") == 0 && i + 1 < argc) {
            o->test_user = argv[++i];
        } else if (strcmp(a, "--publish-classic") == 0) {
            o->publish_classic = 1;
        } else if (strcmp(a, "-y") == 0 || strcmp(a, "--yes") == 0) {
            o->yes = 1;
        } else if (strcmp(a, "--follow") == 0) {
            o->follow = 1;
        } else if (strcmp(a, "--rm-on-failure") == 0) {
            o->rm_on_failure = 1;
        } else if (a[0] == '-') {
            return util_fail(err, err_len, RUNNER_USAGE,
                             "up: unknown flag '%s'; 'hdc help up' shows the usage", a);
        } else {
            if (util_grow(&o->targets, &o->cap, o->n_targets + 1, sizeof(*o->targets)) != 0)
                return util_fail(err, err_len, RUNNER_USAGE, "out of memory");
            memset(&o->targets[o->n_targets], 0, sizeof(o->targets[0]));
            o->targets[o->n_targets++].dist = a;
        }
    }
    if (o->n_targets == 0)
        return util_fail(err, err_len, RUNNER_USAGE,
                         "up: which distribution? 'hdc plugins' lists them");
    if (o->publish_classic && o->n_targets > 1)
        return util_fail(err, err_len, RUNNER_USAGE,
                         "up: --publish-classic binds fixed host ports: one cluster at a time");
    if (plan_user_check(o->test_user == ctx->env.test_user ? "HDC_TEST_USER" : "--test-user",
                        o->test_user, why, sizeof(why)) != 0)
        return util_fail(err, err_len, RUNNER_USAGE, "up: %s", why);
    if (cmd_boot_timeout(&ctx->env, o->timeout_s, &o->boot_timeout_s, why, sizeof(why)) != 0)
        return util_fail(err, err_len, RUNNER_USAGE, "up: %s", why);
    /* Names: the default one where none is given, valid, and each once. */
    for (size_t i = 0; i < o->n_targets; i++) {
        cmd_up_target *t = &o->targets[i];
        if (t->name[0] == '\0' && plan_default_name(t->dist, t->name, sizeof(t->name)) != 0)
            return util_fail(err, err_len, RUNNER_USAGE,
                             "up: '%s' gives no valid default name: pass --name", t->dist);
        if (plan_name_check(t->name, why, sizeof(why)) != 0)
            return util_fail(err, err_len, RUNNER_USAGE, "up: %s", why);
        for (size_t k = 0; k < i; k++)
            if (strcmp(o->targets[k].name, t->name) == 0)
                return util_fail(err, err_len, RUNNER_USAGE,
                                 "up: two clusters named '%s': give each its own --name", t->name);
    }
    return 0;
}

/* ---- the live table and the report ----------------------------------------------- */

static const char *state_color(const char *state, int color) {
    if (!color)
        return "";
    if (strcmp(state, "up") == 0)
        return "\033[32m";
    if (strcmp(state, "failed") == 0)
        return "\033[31m";
    return "\033[33m";
}

static void draw(up_run *u) {
    if (u->rows_drawn > 0)
        fprintf(stderr, "\033[%zuA", u->rows_drawn);
    for (size_t i = 0; i < u->n_rows; i++)
        fprintf(stderr, "\r\033[K%-16s %-20s %s%-8s%s %6.1fs\n", u->rows[i].t->arg->name,
                u->rows[i].host, state_color(u->rows[i].state, u->color), u->rows[i].state,
                u->color ? "\033[0m" : "", u->rows[i].ms / 1000.0);
    u->rows_drawn = u->n_rows;
    fflush(stderr);
}

static void progress(fleet_member *m, const cluster_node_report *rep) {
    target *t = m->data;
    up_run *u = t->u;
    const char *state = cluster_node_state_name(rep->state);
    size_t i;

    if (!u->tty) {
        fprintf(stderr, "%s %s %s %.1fs%s%s\n", t->arg->name, rep->node->hostname, state,
                rep->elapsed_ms / 1000.0, rep->why != NULL ? ": " : "",
                rep->why != NULL ? rep->why : "");
        return;
    }
    for (i = 0; i < u->n_rows; i++)
        if (u->rows[i].t == t && strcmp(u->rows[i].host, rep->node->hostname) == 0)
            break;
    if (i == u->n_rows) {
        if (util_grow(&u->rows, &u->cap_rows, u->n_rows + 1, sizeof(*u->rows)) != 0)
            return;
        u->n_rows++;
        u->rows[i].t = t;
        snprintf(u->rows[i].host, sizeof(u->rows[i].host), "%s", rep->node->hostname);
    }
    snprintf(u->rows[i].state, sizeof(u->rows[i].state), "%s", state);
    u->rows[i].ms = rep->elapsed_ms;
    draw(u);
}

static json_t *report_json(const target *t, const cluster_report *r) {
    json_t *nodes = json_array(), *endpoints = json_array(), *steps = json_array();
    json_t *phases, *o;

    for (size_t i = 0; i < r->plan->n_nodes; i++) {
        const cluster_node_report *n = &r->nodes[i];
        if (n->node->is_client)
            continue;
        json_array_append_new(nodes, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?}", "service",
                                               n->node->service, "hostname", n->node->hostname,
                                               "container", n->node->container, "address",
                                               n->node->address, "state",
                                               cluster_node_state_name(n->state), "why", n->why));
    }
    for (size_t i = 0; i < r->n_endpoints; i++) {
        const cluster_endpoint *e = &r->endpoints[i];
        char url[64];
        snprintf(url, sizeof(url), "127.0.0.1:%d", e->host_port);
        json_array_append_new(endpoints, json_pack("{s:s, s:s, s:s, s:i, s:s}", "service",
                                                   e->service, "hostname", e->hostname, "role",
                                                   e->role, "port", e->port, "address", url));
    }
    for (size_t i = 0; i < r->n_steps; i++)
        json_array_append_new(steps, json_pack("{s:s, s:I, s:I}", "name", r->step_names[i],
                                               "start_ms", (json_int_t)r->step_start_ms[i],
                                               "end_ms", (json_int_t)r->step_end_ms[i]));
    phases = json_pack("{s:I, s:I, s:I, s:I, s:I}", "network_ms", (json_int_t)r->network_ms,
                       "zookeeper_ms", (json_int_t)r->zookeeper_ms, "containers_ms",
                       (json_int_t)r->containers_ms, "steps_ms", (json_int_t)r->steps_ms,
                       "total_ms", (json_int_t)r->total_ms);
    o = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:o, s:o, s:o, s:o}", "cluster", t->arg->name, "dist",
                  t->arg->dist, "state", r->status == 0 ? "up" : "failed", "error", r->message,
                  "subnet", r->plan->subnet, "nodes", nodes, "endpoints", endpoints, "phases",
                  phases, "steps", steps);
    if (o != NULL)
        json_object_set_new(o, "stand_in", json_boolean(stand_in(t)));
    return o;
}

/* A cluster is up: its endpoints (with --follow, as soon as it is). */
static void print_ready(target *t, const cluster_report *r) {
    if (t->u->ctx->json || t->printed)
        return;
    t->printed = 1;
    printf("%s (%s%s) is up in %.1f s; logs in %s\n", t->arg->name, t->arg->dist,
           stand_in(t) ? ", hdc's test stand-in, NOT Hadoop" : "", r->total_ms / 1000.0,
           t->logs_dir);
    for (size_t i = 0; i < r->n_endpoints; i++) {
        const cluster_endpoint *e = &r->endpoints[i];
        printf("  %-16s %-10s %5d -> 127.0.0.1:%d\n", e->hostname, e->role, e->port, e->host_port);
    }
    fflush(stdout);
}

/* ---- the ups ------------------------------------------------------------------------ */

static void ready(fleet_member *m, const cluster_report *r) {
    target *t = m->data;

    if (t->u->tty && t->u->rows_drawn > 0)
        draw(t->u);
    print_ready(t, r);
    t->u->rows_drawn = 0; /* the table goes on below what was printed */
}

static void done(fleet_member *m, int status, const cluster_report *r) {
    target *t = m->data;
    up_run *u = t->u;

    t->done = 1;
    if (r == NULL) {
        if (m->why != NULL)
            runner_fail(&u->r, RUNNER_FAILED, "%s: %s", t->arg->name, m->why);
        else
            runner_fail(&u->r, RUNNER_FAILED, "%s: cannot start: %s", t->arg->name,
                        hdc_strerror(status));
        return;
    }
    t->ok = r->status == 0;
    if (u->tty && u->rows_drawn > 0)
        draw(u);
    if (u->ctx->json)
        t->report = report_json(t, r);
    if (r->logs_backup != NULL)
        fprintf(stderr, "hdc: %s: moved the logs of a previous run to %s\n", t->arg->name,
                r->logs_backup);
    if (r->status != 0)
        fprintf(stderr, "hdc: %s\n", r->message);
    else
        print_ready(t, r);
    /* A redraw of the live table must not climb over what was printed. */
    u->rows_drawn = 0;
    if (r->status != 0 && !(u->o->follow && t->printed && r->status == UV_ECANCELED))
        u->r.status = RUNNER_FAILED;
}

/* ---- leftovers of a stopped cluster of the same name ------------------------------- */

static void leftovers_removed(void *data, int status, const char *msg, unsigned removed) {
    target *t = data;

    if (t->u->interrupted) {
        t->done = 1;
        t->u->r.status = RUNNER_FAILED;
        return;
    }
    if (status != 0) {
        t->done = 1;
        runner_fail(&t->u->r, RUNNER_FAILED,
                    "%s: cannot remove the leftovers of a previous run: %s", t->arg->name, msg);
        return;
    }
    fleet_launch(t->m);
}

static void surveyed(void *data, int status, const char *msg, const cluster_info *list, size_t n) {
    target *t = data;
    up_run *u = t->u;

    if (u->interrupted) {
        t->done = 1;
        u->r.status = RUNNER_FAILED;
        return;
    }
    if (status != 0) {
        t->done = 1;
        runner_fail(&u->r, RUNNER_FAILED, "%s", msg);
        return;
    }
    t->listed = 1;
    if (n == 0)
        return;
    t->state = list[0].state;
    t->leftovers = list[0].containers + list[0].networks + list[0].volumes;
    switch (t->state) {
    case CLUSTER_CREATING:
        t->done = 1;
        runner_fail(&u->r, RUNNER_FAILED,
                    "cluster '%s' is being created by another hdc (its owner runs%s): wait for "
                    "it, or choose another --name",
                    t->arg->name,
                    list[0].owner_is == OWNER_UNKNOWN ? " where this hdc cannot see it" : "");
        return;
    case CLUSTER_UP:
    case CLUSTER_DEGRADED:
        t->done = 1;
        runner_fail(&u->r, RUNNER_FAILED,
                    "cluster '%s' exists and runs (%s): use it, run `hdc down %s` first, or "
                    "choose another --name",
                    t->arg->name, cluster_state_name(t->state), t->arg->name);
        return;
    default: /* decided once every target is surveyed (decide) */ return;
    }
}

static const char *article(const char *word) {
    return strchr("aeiou", word[0]) != NULL ? "an" : "a";
}

/* Every target surveyed, nothing started yet: what is left of a stopped,
 * failed, orphaned or expired cluster of the name is replaced with -y or
 * after asking on a TTY, else refused; then the ups start. No question is
 * asked while another cluster's up runs on the loop. */
static void decide(up_run *u) {
    for (size_t i = 0; i < u->n; i++) {
        target *t = &u->targets[i];
        const char *state = cluster_state_name(t->state);
        int answer = u->o->yes;
        if (t->done)
            continue;
        if (t->leftovers == 0) {
            leftovers_removed(t, 0, NULL, 0);
            continue;
        }
        if (!answer && isatty(fileno(stdin)) && isatty(fileno(stderr))) {
            char line[16];
            fprintf(stderr, "hdc: %s %s cluster '%s' is there (%zu objects)%s; replace it? [yN] ",
                    article(state), state, t->arg->name, t->leftovers,
                    t->state == CLUSTER_STOPPED ? " with its data (`hdc start` keeps it)" : "");
            answer = fgets(line, sizeof(line), stdin) != NULL && (line[0] == 'y' || line[0] == 'Y');
        }
        if ((!answer || u->interrupted) && t->state == CLUSTER_STOPPED) {
            /* Its data is there: starting it is what is wanted most often. */
            t->done = 1;
            runner_fail(&u->r, RUNNER_FAILED,
                        "cluster '%s' is stopped, with its data: `hdc start %s` starts it "
                        "again; -y replaces it with a new one (its data lost), `hdc down %s` "
                        "removes it",
                        t->arg->name, t->arg->name, t->arg->name);
            continue;
        }
        if (!answer || u->interrupted) {
            t->done = 1;
            runner_fail(&u->r, RUNNER_FAILED,
                        "%s %s cluster '%s' is there: replace it with -y, remove it with `hdc "
                        "down %s`, or choose another --name",
                        article(state), state, t->arg->name, t->arg->name);
            continue;
        }
        fprintf(stderr, "hdc: %s: replacing the %s cluster of that name\n", t->arg->name, state);
        if (cluster_down(&u->r.loop, u->r.d, t->arg->name, leftovers_removed, t) != 0)
            leftovers_removed(t, UV_EIO, "cannot list its objects", 0);
    }
}

/* ---- the end ------------------------------------------------------------------------- */

/* After `hdc up` returns, one detached `hdc logs -f --write-root ROOT
 * NAME...` keeps logs/<cluster>/<host>.log of every cluster that came up
 * growing until their containers stop. */
static void spawn_log_writer(up_run *u) {
    const char **args = calloc(u->n + 5, sizeof(*args));
    size_t k = 0;

    if (args == NULL)
        return;
    args[k++] = "logs";
    args[k++] = "-f";
    args[k++] = "--write-root";
    args[k++] = u->logs_root;
    for (size_t i = 0; i < u->n; i++)
        if (u->targets[i].ok && !u->o->follow)
            args[k++] = u->targets[i].arg->name;
    if (k > 4 && runner_spawn_detached(&u->r, args) != 0)
        fprintf(stderr, "hdc: cannot start the log writer; `hdc logs NAME` still shows the "
                        "logs\n");
    free(args);
}

static void interrupted(runner *r, int signum) {
    up_run *u = r->ctx;

    u->interrupted = 1;
    fprintf(stderr, "\nhdc: %s: stopping the ups under way%s\n", runner_signal_name(signum),
            u->o->rm_on_failure ? " and removing what they created (--rm-on-failure)" : "");
    fleet_cancel(u->f);
    for (size_t i = 0; i < u->n; i++) /* --follow ends too */
        if (u->targets[i].m != NULL)
            fleet_stop(u->targets[i].m);
}

/* A DIST's images were out of date: their build, as `hdc build` shows it. */
static void building(fleet_member *m, const char *image, const char *line) {
    fprintf(stderr, "%s | %s\n", image, line);
}

static int all_listed(const up_run *u) {
    for (size_t i = 0; i < u->n; i++)
        if (!u->targets[i].done && !u->targets[i].listed)
            return 0;
    return 1;
}

static int all_done(const up_run *u) {
    for (size_t i = 0; i < u->n; i++)
        if (!u->targets[i].done)
            return 0;
    return 1;
}

static void print_json(const up_run *u) {
    json_t *arr = json_array();

    for (size_t i = 0; i < u->n; i++)
        if (u->targets[i].report != NULL)
            json_array_append_new(arr, json_incref(u->targets[i].report));
    json_dumpf(arr, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
    json_decref(arr);
}

/* Loads every plugin and plans every cluster: RUNNER_USAGE (the reason
 * printed) when one is refused, before anything is created. */
static int prepare(up_run *u) {
    fleet_opts fo = {
        .datanodes = u->o->datanodes,
        .timeout_s = u->o->timeout_s,
        .publish_classic = u->o->publish_classic,
        .rm_on_failure = u->o->rm_on_failure,
        .follow = u->o->follow,
        .logs_root = u->logs_root,
        .keys_root = cmd_state_dir(&u->ctx->env),
        .ttl_s = u->o->ttl_s,
        .boot_timeout_s = u->o->boot_timeout_s,
        .test_user = u->o->test_user,
        .subnet_pool = u->ctx->env.subnet_pool,
        .memory_mb = u->o->memory_mb,
        .images = &u->images,
    };
    fleet_hooks hooks = {.progress = progress, .ready = ready, .done = done, .building = building};
    char err[512];

    if (cmd_check_dirs(&u->ctx->env, err, sizeof(err)) != 0) {
        runner_error("up: %s", err);
        return RUNNER_USAGE;
    }
    if (fleet_new(&fo, &hooks, u, &u->f) != 0)
        return RUNNER_FAILED;
    for (size_t i = 0; i < u->n; i++) {
        target *t = &u->targets[i];
        plugin *plug;
        t->u = u;
        t->arg = &u->o->targets[i];
        if (runner_load(u->ctx->plugin_path, u->ctx->env.plugin_path, t->arg->dist, &plug) != 0)
            return RUNNER_USAGE;
        if (fleet_add(u->f, plug, t->arg->name, &t->m, err, sizeof(err)) != 0) {
            runner_error("up: %s", err);
            return RUNNER_USAGE;
        }
        t->m->data = t;
        t->logs_dir = util_asprintf("%s/%s", u->logs_root, t->arg->name);
        if (t->logs_dir == NULL)
            return RUNNER_FAILED;
    }
    return 0;
}

static int run(const cmd_ctx *ctx, void *opts) {
    up_run *u = calloc(1, sizeof(*u));
    int status;

    if (u == NULL)
        return RUNNER_FAILED;
    u->ctx = ctx;
    u->o = opts;
    u->n = u->o->n_targets;
    u->logs_root = cmd_logs_root(&ctx->env);
    u->images = (images_opts){.clusters_dir = cmd_clusters_dir(&ctx->env),
                              .dist_cache = ctx->env.dist_cache};
    u->targets = calloc(u->n, sizeof(*u->targets));
    if (u->targets == NULL) {
        free(u);
        return RUNNER_FAILED;
    }
    /* Everything is checked before Docker is asked anything. */
    status = prepare(u);
    if (status == 0)
        status = runner_open(&u->r, NULL);
    if (status != 0)
        goto exit;
    fleet_attach(u->f, &u->r.loop, u->r.d);
    runner_on_signal(&u->r, interrupted, u);
    runner_hold_signals(&u->r, 1);
    u->tty = isatty(fileno(stderr)) && !ctx->json;
    u->color = u->tty && !ctx->env.no_color;
    for (size_t i = 0; i < u->n; i++) {
        target *t = &u->targets[i];
        if (cluster_survey(&u->r.loop, u->r.d, t->arg->name, surveyed, t) != 0) {
            runner_fail(&u->r, RUNNER_FAILED, "%s: cannot ask Docker", t->arg->name);
            t->done = 1;
        }
    }
    /* First every name is looked up; then, with nothing else running,
     * leftovers are decided on and the ups start. */
    while (!all_listed(u))
        uv_run(&u->r.loop, UV_RUN_ONCE);
    decide(u);
    /* Before waiting: the signal handle alone would wait forever. */
    while (!all_done(u))
        uv_run(&u->r.loop, UV_RUN_ONCE);
    runner_hold_signals(&u->r, 0);
    spawn_log_writer(u);
    if (ctx->json)
        print_json(u);
    status = runner_finish(&u->r);

exit:
    for (size_t i = 0; i < u->n; i++) {
        json_decref(u->targets[i].report);
        free(u->targets[i].logs_dir);
    }
    fleet_free(u->f);
    free(u->targets);
    free(u->rows);
    free(u);
    return status;
}

static int parse(const cmd_ctx *ctx, int argc, char **argv, void *opts, char *err, size_t err_len) {
    return cmd_up_parse(ctx, argc, argv, opts, err, err_len);
}

static void free_opts(void *opts) {
    cmd_up_opts *o = opts;

    free(o->targets);
}

const cmd cmd_up = {
    .name = "up",
    .usage = "hdc up DIST [--name NAME] [DIST [--name NAME]]... [--datanodes N] [--timeout S] "
             "[--ttl DURATION] [--memory MB] [--publish-classic] [-y] [--follow] [--rm-on-failure]",
    .summary = "create and bootstrap clusters, concurrently; returns when every probe is green",
    .opts_size = sizeof(cmd_up_opts),
    .parse = parse,
    .run = run,
    .free = free_opts,
};
