/* `hdc up`: a cluster created on Docker and bootstrapped through ZooKeeper,
 * all on the loop; and the label queries behind ls, status, down and gc.
 *
 * An up goes through these phases, each started from the callback of the
 * one before (docs/architecture.md has the protocol):
 *   images     every image the cluster needs is there (else: build it)
 *   network    hdc_<cluster> with a subnet of the pool: the reservation
 *              of the name; an overlapping subnet is retried with the next
 *   zookeeper  its container started, then a session through its
 *              published port
 *   containers every instance's znode written `wait`, then every service
 *              container created and started at once
 *   steps      the plugin's DAG (boot.c), executed here: BOOT writes
 *              `boot`, WAIT watches for `up` or `failed:`, EXEC runs a
 *              command through Docker exec, PROBE runs probe.c
 * From the start of the containers phase, an events stream watches the
 * cluster's containers: a `die` fails the up at once, naming the service
 * and the last lines of its log, instead of waiting for a deadline.
 *
 * Decisions a newcomer might question:
 * - Every container's log is followed into logs/<cluster>/<host>.log from
 *   its start, and its tail kept in memory (logs.c): a failure message
 *   needs no extra round trip. When a container dies, the message waits
 *   (at most LOG_SETTLE_MS) for its log stream to end, so the last lines
 *   are really the last.
 * - Ending is one path (up_finish) whatever the cause: it stops every
 *   stream and the ZooKeeper session and calls back only once all of them
 *   have called back, so nothing of this file runs after the callback.
 */
#define _GNU_SOURCE /* strptime, timegm */
#include "cluster.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "boot.h"
#include "logs.h"
#include "plugin.h"
#include "probe.h"
#include "zk.h"

#define LOG_SETTLE_MS         1000
#define ZK_CONNECT_TIMEOUT_MS 60000
#define ZK_SESSION_TIMEOUT_MS 20000
#define MAX_STEP_OPS          (PLUGIN_MAX_INSTANCES + 1)
#define OUTPUT_TAIL           2048

typedef struct up up;
typedef struct step_run step_run;

typedef struct node_rt {
    up *u;
    plan_node *pn;
    char id[80];                   /* the container's ID once created */
    docker_port_binding ports[16]; /* host ports, from inspect */
    size_t n_ports;
    logs_sink *sink;
    docker_call *logs; /* following the log, or NULL */
    int logs_ended;
    cluster_node_report rep;
    char why[512];
} node_rt;

/* One sub-operation of a step on one instance. */
typedef struct step_op {
    step_run *run;
    node_rt *node;
    zk_wait *wait;
    docker_call *exec;
    probe *probe;
    int done;
    int interrupted;          /* canceled before it ended (a deadline, a failure) */
    char output[OUTPUT_TAIL]; /* EXEC: the tail of the command's output */
    size_t output_len;
} step_op;

struct step_run {
    up *u;
    const hdc_step *step;
    boot_step_done_fn done;
    void *token;
    step_op ops[MAX_STEP_OPS];
    size_t n_ops, pending;
    int failed;
    int canceled;
    char why[1536];
    step_run *next;
};

struct up {
    uv_loop_t *loop;
    docker *d;
    cluster_up_opts opts;
    char *logs_dir, *test_user;
    cluster_progress_cb progress;
    cluster_up_cb cb;
    void *data;

    plan plan;
    plan_pool pool;
    char network_id[80];    /* ours: the name alone may be ambiguous */
    int lost_race;          /* another up of this name holds it */
    char logs_backup[4200]; /* where a previous run's logs went, or "" */
    uv_work_t logs_work;
    int logs_rc;
    char logs_err[1024];
    uint32_t subnet_index, subnet_tries;
    node_rt *nodes; /* plan.n_nodes */
    char zk_hosts[64];
    zk_session *zk;
    docker_call *events;
    boot_dag *dag;
    step_run *runs;
    uv_timer_t timer; /* the whole-up deadline, then log settling */
    int timer_open;

    uint64_t start_ms;
    uint64_t network_ms, zookeeper_ms, containers_ms, steps_ms, ready_ms;
    const char **step_names;
    uint64_t *step_start, *step_end;
    size_t n_steps;
    cluster_endpoint *endpoints;
    size_t n_endpoints;

    size_t pending; /* calls in flight (the current phase's) */
    int network_created;
    int status;    /* the outcome once decided, else 0 */
    int failing;   /* a failure is decided: stop everything */
    int settling;  /* waiting for the dead node's last log lines */
    int up_done;   /* success: every step done */
    int finishing; /* up_finish under way */
    int closing;   /* ... and the log files are being closed */
    int waits;     /* streams and handles up_finish waits for */
    int sinks_open;
    node_rt *dead; /* the node whose death failed the up */
    char message[8192];
};

static void up_fail(up *u, int status, node_rt *node, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void up_finish(up *u);
static void up_containers(up *u);
static void up_volumes(up *u);
static void up_watch_events(up *u);

static uint64_t up_elapsed(const up *u) {
    return uv_now(u->loop) - u->start_ms;
}

const char *cluster_node_state_name(enum cluster_node_state s) {
    switch (s) {
    case CLUSTER_NODE_PLANNED: return "planned";
    case CLUSTER_NODE_CREATED: return "created";
    case CLUSTER_NODE_WAITING: return "waiting";
    case CLUSTER_NODE_BOOTING: return "booting";
    case CLUSTER_NODE_UP: return "up";
    case CLUSTER_NODE_FAILED: return "failed";
    }
    return "?";
}

void cluster_image_ref(const hdc_plugin_desc *desc, const char *image, char *out, size_t len) {
    if (strchr(image, '/') != NULL || strchr(image, ':') != NULL)
        snprintf(out, len, "%s", image);
    else
        snprintf(out, len, "hdc/%s-%s:latest", desc->name, image);
}

static void node_set_state(node_rt *n, enum cluster_node_state state, const char *why) {
    if (n->rep.state == state || n->rep.state == CLUSTER_NODE_FAILED)
        return;
    n->rep.state = state;
    n->rep.elapsed_ms = up_elapsed(n->u);
    if (why != NULL) {
        snprintf(n->why, sizeof(n->why), "%.*s", (int)sizeof(n->why) - 1, why);
        n->rep.why = n->why;
    }
    if (n->u->progress != NULL)
        n->u->progress(n->u->data, &n->rep);
}

static node_rt *up_node_by_container(up *u, const char *name_or_id) {
    for (size_t i = 0; i < u->plan.n_nodes; i++) {
        node_rt *n = &u->nodes[i];
        if (strcmp(n->pn->container, name_or_id) == 0 ||
            (n->id[0] != '\0' && strcmp(n->id, name_or_id) == 0))
            return n;
    }
    return NULL;
}

/* Appends "\nlast lines of <host>'s log:\n..." to the message. */
static void up_append_tail(up *u, node_rt *n) {
    char tail[4096];
    size_t used = strlen(u->message);

    if (n == NULL || n->sink == NULL)
        return;
    logs_sink_tail(n->sink, CLUSTER_LOG_TAIL_LINES, tail, sizeof(tail));
    if (tail[0] == '\0') {
        snprintf(u->message + used, sizeof(u->message) - used,
                 "\n(%s has logged nothing; its log: %s/%s.log)", n->pn->hostname, u->logs_dir,
                 n->pn->hostname);
        return;
    }
    snprintf(u->message + used, sizeof(u->message) - used,
             "\nlast lines of %s's log (%s/%s.log):\n%s%s", n->pn->hostname, u->logs_dir,
             n->pn->hostname, tail, tail[strlen(tail) - 1] == '\n' ? "" : "\n");
}

/* The first failure decides the outcome; everything is then stopped. */
static void up_fail(up *u, int status, node_rt *node, const char *fmt, ...) {
    va_list ap;

    if (u->failing || u->finishing)
        return;
    u->failing = 1;
    u->status = status;
    va_start(ap, fmt);
    vsnprintf(u->message, sizeof(u->message), fmt, ap);
    va_end(ap);
    u->dead = node;
    if (node != NULL)
        node_set_state(node, CLUSTER_NODE_FAILED, u->message);
    if (u->dag != NULL)
        boot_cancel(u->dag); /* up_finish follows from the boot callback */
    else
        up_finish(u);
}

/* ---- logs ---------------------------------------------------------------- */

static void node_log_output(void *data, int stream, const char *buf, size_t len) {
    node_rt *n = data;

    if (n->sink != NULL)
        logs_sink_append(n->sink, buf, len);
}

static void up_maybe_done(up *u);

static void up_waited(up *u) {
    u->waits--;
    up_maybe_done(u);
}

static void node_log_ended(void *data, int status, const char *msg) {
    node_rt *n = data;
    up *u = n->u;

    n->logs = NULL;
    n->logs_ended = 1;
    if (u->finishing) {
        up_waited(u);
        return;
    }
    /* The node that failed the up has said its last: report now. */
    if (u->failing && u->dead == n && u->dag == NULL && u->settling)
        up_finish(u);
}

static void node_follow_logs(node_rt *n) {
    docker_logs_opts opts = {.follow = 1};
    int err = docker_logs(n->u->d, n->id, &opts, node_log_output, node_log_ended, n, &n->logs);

    n->logs_ended = err != 0;
    if (err != 0)
        n->logs = NULL;
}

/* ---- the end ------------------------------------------------------------- */

/* Gives the report to cb: the final callback, or with --follow the ready
 * one. */
static void up_report_to(up *u, cluster_up_cb cb) {
    cluster_node_report *reps = calloc(u->plan.n_nodes, sizeof(*reps));
    cluster_report r = {
        .status = u->status,
        .message = u->status != 0 ? u->message : NULL,
        .plan = &u->plan,
        .nodes = reps,
        .endpoints = u->endpoints,
        .n_endpoints = u->n_endpoints,
        .network_ms = u->network_ms,
        .zookeeper_ms = u->zookeeper_ms,
        .containers_ms = u->containers_ms,
        .steps_ms = u->steps_ms,
        .total_ms = u->ready_ms != 0 ? u->ready_ms : up_elapsed(u),
        .step_names = u->step_names,
        .step_start_ms = u->step_start,
        .step_end_ms = u->step_end,
        .n_steps = u->n_steps,
        .logs_dir = u->logs_dir,
        .logs_backup = u->logs_backup[0] != '\0' ? u->logs_backup : NULL,
    };

    for (size_t i = 0; reps != NULL && i < u->plan.n_nodes; i++)
        reps[i] = u->nodes[i].rep;
    cb(u->data, &r);
    free(reps);
}

static void up_report(up *u) {
    up_report_to(u, u->cb);
}

static void up_free(up *u) {
    while (u->runs != NULL) {
        step_run *next = u->runs->next;
        free(u->runs);
        u->runs = next;
    }
    free(u->nodes);
    free(u->endpoints);
    free(u->step_names);
    free(u->step_start);
    free(u->step_end);
    free(u->logs_dir);
    free(u->test_user);
    plan_free(&u->plan);
    free(u);
}

static void up_removed(void *data, int status, const char *msg, unsigned removed) {
    up *u = data;
    size_t used = strlen(u->message);

    if (status != 0)
        snprintf(u->message + used, sizeof(u->message) - used,
                 "\n(removing the cluster failed too: %s)", msg);
    else
        snprintf(u->message + used, sizeof(u->message) - used,
                 "\n(the cluster was removed: --rm-on-failure)");
    up_report(u);
    up_free(u);
}

static void up_own_network_removed(void *data, int status, const char *msg) {
    up *u = data;

    up_report(u);
    up_free(u);
}

static void up_sink_closed(void *data) {
    up *u = data;

    if (--u->sinks_open > 0)
        return;
    if (u->lost_race && u->network_id[0] != '\0' &&
        docker_network_remove(u->d, u->network_id, up_own_network_removed, u, NULL) == 0)
        return;
    if (u->status != 0 && u->opts.rm_on_failure && u->network_created && !u->lost_race &&
        cluster_down(u->loop, u->d, u->plan.cluster, up_removed, u) == 0)
        return;
    up_report(u);
    up_free(u);
}

static void up_close_sinks(up *u) {
    u->sinks_open = 1;
    for (size_t i = 0; i < u->plan.n_nodes; i++) {
        if (u->nodes[i].sink != NULL) {
            u->sinks_open++;
            logs_sink_close(u->nodes[i].sink, up_sink_closed, u);
            u->nodes[i].sink = NULL;
        }
    }
    up_sink_closed(u);
}

static void up_zk_closed(void *data, zk_session *s) {
    up *u = data;

    u->zk = NULL;
    up_waited(u);
}

static void up_timer_closed(uv_handle_t *h) {
    up *u = h->data;

    up_waited(u);
}

/* Once ending: when every call and stream has called back, close the log
 * files and report. */
static void up_maybe_done(up *u) {
    if (!u->finishing || u->waits > 0 || u->pending > 0 || u->closing)
        return;
    u->closing = 1;
    up_close_sinks(u);
}

/* Stops everything still running. */
static void up_finish(up *u) {
    if (u->finishing)
        return;
    u->finishing = 1;
    if (u->failing)
        up_append_tail(u, u->dead);
    if (u->events != NULL) {
        u->waits++;
        docker_call_cancel(u->events);
    }
    for (size_t i = 0; i < u->plan.n_nodes; i++) {
        if (u->nodes[i].logs != NULL) {
            u->waits++;
            docker_call_cancel(u->nodes[i].logs);
        }
    }
    if (u->zk != NULL) {
        u->waits++;
        zk_close(u->zk, up_zk_closed, u);
    }
    if (u->timer_open) {
        u->waits++;
        u->timer_open = 0;
        uv_close((uv_handle_t *)&u->timer, up_timer_closed);
    }
    up_maybe_done(u);
}

/* After a call of the current phase returned (u->pending--): 1 if the up
 * is failing, and the caller must not go on. */
static int up_stopping(up *u) {
    if (!u->failing && !u->finishing)
        return 0;
    up_maybe_done(u);
    return 1;
}

/* ---- events: a container that dies fails the up ---------------------------- */

static void up_settled(uv_timer_t *t) {
    up *u = t->data;

    up_finish(u);
}

/* A container died: give its log stream a moment to deliver its last
 * lines (it ends when the container stops), then finish. */
static void up_settle(up *u) {
    if (u->dead == NULL || u->dead->logs_ended || !u->timer_open) {
        up_finish(u);
        return;
    }
    u->settling = 1;
    uv_timer_stop(&u->timer);
    uv_timer_start(&u->timer, up_settled, LOG_SETTLE_MS, 0);
}

static void up_event(void *data, const json_t *ev) {
    up *u = data;
    const char *action = json_string_value(json_object_get(ev, "Action"));
    json_t *attrs = json_object_get(json_object_get(ev, "Actor"), "Attributes");
    const char *name = json_string_value(json_object_get(attrs, "name"));
    const char *code = json_string_value(json_object_get(attrs, "exitCode"));
    node_rt *n;

    if (action == NULL || strcmp(action, "die") != 0 || name == NULL || u->failing ||
        u->finishing || u->up_done)
        return;
    n = up_node_by_container(u, name);
    if (n == NULL)
        return;
    u->failing = 1;
    u->status = CLUSTER_EFAILED;
    u->dead = n;
    snprintf(u->message, sizeof(u->message),
             "%s: service %s (container %s) exited with status %s during the bootstrap",
             u->plan.cluster, n->pn->hostname, n->pn->container, code != NULL ? code : "?");
    node_set_state(n, CLUSTER_NODE_FAILED, u->message);
    if (u->dag != NULL) {
        boot_cancel(u->dag);
        return;
    }
    up_settle(u);
}

static void up_events_ended(void *data, int status, const char *msg) {
    up *u = data;

    u->events = NULL;
    if (u->finishing)
        up_waited(u);
    else if (status != 0 && status != UV_ECANCELED && !u->up_done)
        up_fail(u, status, NULL, "%s: the Docker events stream broke: %s", u->plan.cluster,
                msg != NULL ? msg : hdc_strerror(status));
}

/* ---- steps ---------------------------------------------------------------- */

static step_run *up_run_of(up *u, void *token) {
    for (step_run *r = u->runs; r != NULL; r = r->next)
        if (r->token == token)
            return r;
    return NULL;
}

/* Stops what the step still has running on its instances; each op's
 * callback follows with UV_ECANCELED. */
static void run_cancel_ops(step_run *r) {
    for (size_t i = 0; i < r->n_ops; i++) {
        step_op *o = &r->ops[i];
        if (o->done)
            continue;
        if (o->wait != NULL)
            zk_wait_cancel(o->wait);
        if (o->exec != NULL)
            docker_call_cancel(o->exec);
        if (o->probe != NULL)
            probe_cancel(o->probe);
    }
}

/* Fails the step (the first reason stays) and stops its other instances. */
static void run_fail(step_run *r, const char *why) {
    if (r->failed)
        return;
    r->failed = 1;
    snprintf(r->why, sizeof(r->why), "%s", why);
    run_cancel_ops(r);
}

/* One reference to the step is gone; the step ends with the last. */
static void run_release(step_run *r) {
    up *u = r->u;

    if (--r->pending > 0)
        return;
    if (r->failed) {
        /* The node named in the failure gets its log tail in the message. */
        for (size_t i = 0; i < r->n_ops && u->dead == NULL; i++)
            if (r->ops[i].node->rep.state == CLUSTER_NODE_FAILED)
                u->dead = r->ops[i].node;
        r->done(r->token, CLUSTER_EFAILED, r->why);
    } else {
        r->done(r->token, r->canceled ? UV_ECANCELED : 0, NULL);
    }
}

static void run_op_done(step_op *op, int failed, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* An instance's part of a step is over. */
static void run_op_done(step_op *op, int failed, const char *fmt, ...) {
    char why[1536];
    va_list ap;

    if (op->done)
        return;
    op->done = 1;
    if (failed) {
        va_start(ap, fmt);
        vsnprintf(why, sizeof(why), fmt, ap);
        va_end(ap);
        run_fail(op->run, why);
    }
    run_release(op->run);
}

static void boot_written(void *data, int status) {
    step_op *op = data;

    if (status != 0) {
        run_op_done(op, 1, "cannot write 'boot' to %s: %s", op->node->pn->znode,
                    hdc_strerror(status));
        return;
    }
    node_set_state(op->node, CLUSTER_NODE_BOOTING, NULL);
    run_op_done(op, 0, NULL);
}

static void up_seen(void *data, int status, const char *value, size_t len) {
    step_op *op = data;
    node_rt *n = op->node;

    op->wait = NULL;
    if (status == UV_ECANCELED) {
        op->interrupted = 1;
        run_op_done(op, 0, NULL);
        return;
    }
    if (status == UV_ETIMEDOUT) {
        char why[256];
        snprintf(why, sizeof(why), "not up in time: its znode %s still reads '%.*s'", n->pn->znode,
                 value != NULL ? (int)len : 6, value != NULL ? value : "(none)");
        node_set_state(n, CLUSTER_NODE_FAILED, why); /* its log tail goes in the message */
        run_op_done(op, 1, "%s is %s", n->pn->hostname, why);
        return;
    }
    if (status != 0) {
        run_op_done(op, 1, "cannot watch %s: %s", n->pn->znode, hdc_strerror(status));
        return;
    }
    if (len >= 7 && strncmp(value, "failed:", 7) == 0) {
        char why[256];
        snprintf(why, sizeof(why), "%.*s", (int)(len - 7), value + 7);
        node_set_state(n, CLUSTER_NODE_FAILED, why);
        run_op_done(op, 1, "service %s (container %s) failed: %s", n->pn->hostname,
                    n->pn->container, why);
        return;
    }
    node_set_state(n, CLUSTER_NODE_UP, NULL);
    run_op_done(op, 0, NULL);
}

static void exec_output(void *data, int stream, const char *buf, size_t len) {
    step_op *op = data;

    if (op->node->sink != NULL)
        logs_sink_append(op->node->sink, buf, len);
    if (len >= sizeof(op->output)) {
        buf += len - (sizeof(op->output) - 1);
        len = sizeof(op->output) - 1;
    }
    if (op->output_len + len >= sizeof(op->output)) {
        size_t drop = op->output_len + len - (sizeof(op->output) - 1);
        memmove(op->output, op->output + drop, op->output_len - drop);
        op->output_len -= drop;
    }
    memcpy(op->output + op->output_len, buf, len);
    op->output_len += len;
    op->output[op->output_len] = '\0';
}

static void exec_done(void *data, int status, const char *msg, int exit_code) {
    step_op *op = data;
    node_rt *n = op->node;

    op->exec = NULL;
    if (status == UV_ECANCELED) {
        op->interrupted = 1;
        run_op_done(op, 0, NULL);
        return;
    }
    if (status != 0) {
        run_op_done(op, 1, "step '%s' could not run in %s: %s", op->run->step->name,
                    n->pn->hostname, msg != NULL ? msg : hdc_strerror(status));
        return;
    }
    if (exit_code != 0) {
        run_op_done(op, 1, "in %s, `%s` exited with status %d%s%s", n->pn->hostname,
                    op->run->step->command, exit_code,
                    op->output_len > 0 ? "; its last output:\n" : "", op->output);
        return;
    }
    run_op_done(op, 0, NULL);
}

static void probe_done(void *data, int status, const probe_result *res) {
    step_op *op = data;

    op->probe = NULL;
    if (status == UV_ECANCELED) {
        run_op_done(op, 0, NULL);
        return;
    }
    if (status != 0) {
        run_op_done(op, 1, "probe '%s' not green after %u attempts: %s", op->run->step->probe,
                    res->attempts, res->why);
        return;
    }
    run_op_done(op, 0, NULL);
}

static int run_start_exec(step_op *op) {
    up *u = op->run->u;
    cluster_spec_in in = {.plan = &u->plan, .node = op->node->pn, .test_user = u->test_user};
    cluster_spec *sp = malloc(sizeof(*sp));
    const char *cmd[] = {"/bin/sh", "-c", op->run->step->command};
    docker_exec_opts opts = {.cmd = cmd, .n_cmd = 3, .user = op->run->step->user};
    int err;

    /* The same environment as the daemon's. */
    if (sp == NULL)
        return UV_ENOMEM;
    cluster_container_spec(&in, sp);
    opts.env = sp->opts.env;
    opts.n_env = sp->opts.n_env;
    err = docker_exec(u->d, op->node->id, &opts, exec_output, exec_done, op, &op->exec);
    free(sp);
    return err;
}

static int run_start_probe(step_op *op, uint64_t timeout_ms) {
    up *u = op->run->u;
    const hdc_probe *pr = plugin_probe(u->opts.desc, op->run->step->probe);
    const hdc_service *svc = plugin_service(u->opts.desc, pr->service);
    const hdc_port *port = plugin_port(svc, pr->port_role);
    char address[64];
    uint16_t host_port = 0;
    probe_target target = {
        .desc = u->opts.desc,
        .probe = pr,
        .cluster = u->plan.cluster,
        .datanodes = u->plan.datanodes,
        .address = address,
    };

    for (size_t i = 0; i < op->node->n_ports; i++)
        if (op->node->ports[i].port == port->port)
            host_port = op->node->ports[i].host_port;
    if (host_port == 0)
        return UV_EADDRNOTAVAIL;
    snprintf(address, sizeof(address), "http://127.0.0.1:%u", host_port);
    return probe_start(u->loop, &target, timeout_ms, probe_done, op, &op->probe);
}

static int exec_start_step(void *ctx, const hdc_step *step, boot_step_done_fn done, void *token) {
    static const char *const up_or_failed[] = {"up", "failed:*", NULL};
    up *u = ctx;
    step_run *r = calloc(1, sizeof(*r));
    const char *service = step->service;
    int err = 0;

    if (r == NULL)
        return UV_ENOMEM;
    r->u = u;
    r->step = step;
    r->done = done;
    r->token = token;
    r->next = u->runs;
    u->runs = r;
    if (step->kind == HDC_STEP_PROBE)
        service = plugin_probe(u->opts.desc, step->probe)->service;
    for (size_t i = 0; i < u->plan.n_nodes && r->n_ops < MAX_STEP_OPS; i++) {
        node_rt *n = &u->nodes[i];
        if (n->pn->svc == NULL || n->pn->is_client || strcmp(n->pn->service, service) != 0)
            continue;
        /* A probe asks the service's first instance. */
        if (step->kind == HDC_STEP_PROBE && r->n_ops == 1)
            break;
        r->ops[r->n_ops].run = r;
        r->ops[r->n_ops].node = n;
        r->n_ops++;
    }
    /* One reference per op, and one held until every op is started, so
     * that done cannot come while this loop runs. */
    r->pending = r->n_ops + 1;
    for (size_t i = 0; i < r->n_ops; i++) {
        step_op *op = &r->ops[i];
        uint64_t timeout_ms = (uint64_t)step->timeout_s * 1000;
        /* Our own deadline comes just before boot's, so that the message
         * is ours ("datanode2 is not up: ...") rather than a bare one. */
        if (timeout_ms > 500)
            timeout_ms -= 250;
        if (r->failed) {
            op->done = 1;
            r->pending--;
            continue;
        }
        switch (step->kind) {
        case HDC_STEP_BOOT:
            err = zk_set(u->zk, op->node->pn->znode, "boot", 4, boot_written, op);
            break;
        case HDC_STEP_WAIT:
            err = zk_wait_for(u->zk, op->node->pn->znode, up_or_failed, timeout_ms, up_seen, op,
                              &op->wait);
            break;
        case HDC_STEP_EXEC: err = run_start_exec(op); break;
        case HDC_STEP_PROBE: err = run_start_probe(op, timeout_ms); break;
        default: err = UV_EINVAL;
        }
        if (err != 0) {
            char why[512];
            snprintf(why, sizeof(why), "step '%s' could not start on %s: %s", step->name,
                     op->node->pn->hostname, hdc_strerror(err));
            op->done = 1;
            r->pending--;
            run_fail(r, why);
        }
    }
    run_release(r);
    return 0;
}

static void exec_cancel_step(void *ctx, const hdc_step *step, void *token) {
    step_run *r = up_run_of(ctx, token);

    if (r == NULL || r->canceled)
        return;
    r->canceled = 1;
    run_cancel_ops(r);
}

static void exec_progress(void *ctx, const boot_step_report *rep) {
    up *u = ctx;

    for (size_t i = 0; i < u->n_steps; i++) {
        if (u->step_names[i] != rep->step->name)
            continue;
        if (rep->state == BOOT_RUNNING)
            u->step_start[i] = up_elapsed(u);
        else
            u->step_end[i] = up_elapsed(u);
    }
}

static void up_endpoints(up *u) {
    size_t n = 0;

    for (size_t i = 0; i < u->plan.n_nodes; i++)
        n += u->nodes[i].n_ports;
    u->endpoints = calloc(n + 1, sizeof(*u->endpoints));
    if (u->endpoints == NULL)
        return;
    for (size_t i = 0; i < u->plan.n_nodes; i++) {
        node_rt *nd = &u->nodes[i];
        const hdc_service *svc = nd->pn->svc;
        for (size_t k = 0; k < nd->n_ports; k++) {
            cluster_endpoint *e = &u->endpoints[u->n_endpoints++];
            e->service = nd->pn->service;
            e->hostname = nd->pn->hostname;
            e->role = "client";
            e->port = nd->ports[k].port;
            e->host_port = nd->ports[k].host_port;
            for (const hdc_port *p = svc != NULL ? svc->ports : NULL; p != NULL && p->role; p++)
                if (p->port == e->port)
                    e->role = p->role;
        }
    }
}

/* A step's deadline passed: say where it was still at work, with what the
 * command had printed, and take that node's log tail. */
static void up_explain_deadline(up *u, const char *step) {
    for (step_run *r = u->runs; r != NULL; r = r->next) {
        if (strcmp(r->step->name, step) != 0)
            continue;
        for (size_t i = 0; i < r->n_ops; i++) {
            step_op *op = &r->ops[i];
            size_t used = strlen(u->message);
            if (!op->interrupted)
                continue;
            if (r->step->kind == HDC_STEP_EXEC)
                snprintf(u->message + used, sizeof(u->message) - used,
                         "\nin %s, `%s` was still running%s%s", op->node->pn->hostname,
                         r->step->command, op->output_len ? "; its last output:\n" : "",
                         op->output);
            if (u->dead == NULL)
                u->dead = op->node;
            break;
        }
    }
}

static void up_steps_done(void *data, const boot_report *rep) {
    up *u = data;

    u->dag = NULL;
    u->steps_ms = up_elapsed(u);
    if (rep->status == 0 && !u->failing) {
        u->up_done = 1;
        u->ready_ms = up_elapsed(u);
        up_endpoints(u);
        if (u->opts.follow) {
            /* Up: say so now; the logs go on until cluster_cancel. The
             * ZooKeeper session (and the client's two threads) is not
             * needed any more. */
            if (u->timer_open)
                uv_timer_stop(&u->timer);
            if (u->zk != NULL) {
                zk_session *zk = u->zk;
                u->zk = NULL;
                u->waits++;
                zk_close(zk, up_zk_closed, u);
            }
            if (u->opts.on_ready != NULL)
                up_report_to(u, u->opts.on_ready);
            return;
        }
        up_finish(u);
        return;
    }
    if (!u->failing) {
        u->failing = 1;
        u->status = rep->status == UV_ECANCELED ? UV_ECANCELED : CLUSTER_EFAILED;
        snprintf(u->message, sizeof(u->message), "%s: %s", u->plan.cluster,
                 rep->message != NULL ? rep->message : "the bootstrap failed");
        if (rep->status == UV_ETIMEDOUT && rep->failed_step != NULL)
            up_explain_deadline(u, rep->failed_step);
    }
    up_settle(u);
}

static void up_run_steps(up *u) {
    static const boot_executor exec = {
        .start_step = exec_start_step,
        .cancel_step = exec_cancel_step,
        .progress = exec_progress,
    };
    int err;

    u->containers_ms = up_elapsed(u);
    err = boot_run(u->loop, u->opts.desc->steps, &exec, u, up_steps_done, u, &u->dag);
    if (err != 0) {
        u->dag = NULL;
        up_fail(u, err, NULL, "%s: the bootstrap could not start: %s", u->plan.cluster,
                hdc_strerror(err));
    }
}

/* ---- containers ------------------------------------------------------------ */

static void node_inspected(void *data, int status, const char *msg,
                           const docker_container_info *info);

static void node_started(void *data, int status, const char *msg) {
    node_rt *n = data;
    up *u = n->u;

    if (status != 0) {
        u->pending--;
        up_fail(u, status, n, "%s: cannot start container %s: %s", u->plan.cluster,
                n->pn->container, msg);
        up_stopping(u);
        return;
    }
    if (u->failing) {
        u->pending--;
        up_stopping(u);
        return;
    }
    {
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s.log", u->logs_dir, n->pn->hostname);
        if (logs_sink_open(u->loop, path, 0, &n->sink) != 0)
            n->sink = NULL;
    }
    if (n->sink != NULL)
        node_follow_logs(n);
    if (docker_container_inspect(u->d, n->id, node_inspected, n, NULL) != 0) {
        u->pending--;
        up_fail(u, UV_EIO, n, "%s: cannot inspect container %s", u->plan.cluster, n->pn->container);
        up_stopping(u);
    }
}

static void up_zk_connected(void *data, int status, zk_session *s);

static void node_inspected(void *data, int status, const char *msg,
                           const docker_container_info *info) {
    node_rt *n = data;
    up *u = n->u;

    u->pending--;
    if (status != 0)
        up_fail(u, status, n, "%s: cannot inspect container %s: %s", u->plan.cluster,
                n->pn->container, msg);
    if (up_stopping(u))
        return;
    for (size_t i = 0; i < info->n_ports && n->n_ports < 16; i++) {
        if (info->ports[i].host_port == 0)
            continue;
        n->ports[n->n_ports] = info->ports[i];
        n->ports[n->n_ports].host_ip = NULL; /* borrowed from info: not kept */
        n->n_ports++;
    }
    node_set_state(n, CLUSTER_NODE_WAITING, NULL);
    if (n->pn->svc == NULL) {
        /* ZooKeeper: connect through its published port. */
        zk_options zo = {
            .hosts = u->zk_hosts,
            .session_timeout_ms = ZK_SESSION_TIMEOUT_MS,
            .connect_timeout_ms = ZK_CONNECT_TIMEOUT_MS,
        };
        if (n->n_ports == 0) {
            up_fail(u, UV_EADDRNOTAVAIL, n, "%s: ZooKeeper's port 2181 is not published",
                    u->plan.cluster);
            return;
        }
        snprintf(u->zk_hosts, sizeof(u->zk_hosts), "127.0.0.1:%u", n->ports[0].host_port);
        u->pending++;
        if (zk_connect(u->loop, &zo, &u->zk, up_zk_connected, u) != 0) {
            u->pending--;
            u->zk = NULL;
            up_fail(u, UV_EIO, n, "%s: cannot start a ZooKeeper session", u->plan.cluster);
        }
        return;
    }
    if (u->pending == 0)
        up_run_steps(u);
}

static void node_start(node_rt *n);

static void up_logs_work(uv_work_t *w) {
    node_rt *n = w->data;
    up *u = n->u;
    char root[4096];
    char *slash;
    int moved = 0;

    snprintf(root, sizeof(root), "%s", u->logs_dir);
    slash = strrchr(root, '/');
    if (slash != NULL)
        *slash = '\0';
    else
        snprintf(root, sizeof(root), ".");
    u->logs_rc = logs_prepare_dir(root, u->plan.cluster, (int)getpid(), &moved, u->logs_err,
                                  sizeof(u->logs_err));
    if (u->logs_rc == 0 && moved)
        snprintf(u->logs_backup, sizeof(u->logs_backup), "%s.backup.%d/%s", root, (int)getpid(),
                 u->plan.cluster);
}

static void up_logs_ready(uv_work_t *w, int status) {
    node_rt *n = w->data;
    up *u = n->u;

    if (u->logs_rc != 0 || u->failing) {
        u->pending--;
        if (u->logs_rc != 0)
            up_fail(u, u->logs_rc, NULL, "%s: %s", u->plan.cluster, u->logs_err);
        up_stopping(u);
        return;
    }
    node_start(n);
}

static void node_created(void *data, int status, const char *msg, const char *id) {
    node_rt *n = data;
    up *u = n->u;

    if (status != 0) {
        u->pending--;
        if (status == DOCKER_ENOTFOUND)
            up_fail(u, CLUSTER_ENOIMAGE, NULL,
                    "%s: cannot create container %s: %s: run "
                    "`hdc build %s` first",
                    u->plan.cluster, n->pn->container, msg, u->opts.desc->name);
        else if (status == DOCKER_ECONFLICT && n->pn->svc == NULL) {
            /* Another up of this name created it first: leave all to it. */
            u->lost_race = 1;
            up_fail(u, CLUSTER_EEXISTS, NULL,
                    "cluster '%s' exists already (container %s): another `hdc up` of that "
                    "name holds it; `hdc down %s` removes it",
                    u->plan.cluster, n->pn->container, u->plan.cluster);
        } else if (status == DOCKER_ECONFLICT)
            up_fail(u, CLUSTER_EEXISTS, NULL,
                    "%s: container %s exists already (a cluster of that name was not "
                    "removed): run `hdc down %s` or `hdc gc`",
                    u->plan.cluster, n->pn->container, u->plan.cluster);
        else
            up_fail(u, status, NULL, "%s: cannot create container %s: %s", u->plan.cluster,
                    n->pn->container, msg);
        up_stopping(u);
        return;
    }
    snprintf(n->id, sizeof(n->id), "%s", id);
    node_set_state(n, CLUSTER_NODE_CREATED, NULL);
    if (u->failing) {
        u->pending--;
        up_stopping(u);
        return;
    }
    if (n->pn->svc == NULL) {
        /* ZooKeeper's container name is ours: the cluster is reserved.
         * Only now are a previous run's logs moved aside. */
        u->logs_work.data = n;
        if (uv_queue_work(u->loop, &u->logs_work, up_logs_work, up_logs_ready) == 0)
            return;
        u->pending--;
        up_fail(u, UV_EIO, NULL, "%s: cannot queue work on the thread pool", u->plan.cluster);
        up_stopping(u);
        return;
    }
    node_start(n);
}

static void node_start(node_rt *n) {
    up *u = n->u;

    if (docker_container_start(u->d, n->id, node_started, n, NULL) != 0) {
        u->pending--;
        up_fail(u, UV_EIO, n, "%s: cannot start container %s", u->plan.cluster, n->pn->container);
        up_stopping(u);
    }
}

/* Creates the container of node n. */
void cluster_container_spec(const cluster_spec_in *in, cluster_spec *sp) {
    const plan *p = in->plan;
    const plan_node *n = in->node;
    const hdc_service *svc = n->svc;
    const hdc_plugin_desc *image_desc = in->image_desc != NULL ? in->image_desc : p->desc;
    docker_container_opts *o = &sp->opts;
    size_t n_env = 0, n_cmd = 0, n_ports = 0, n_binds = 0;

    memset(sp, 0, sizeof(*sp));
    snprintf(sp->label_buf[0], sizeof(sp->label_buf[0]), "%s", p->cluster);
    snprintf(sp->label_buf[1], sizeof(sp->label_buf[1]), "%s", n->service);
    snprintf(sp->label_buf[2], sizeof(sp->label_buf[2]), "%s", p->desc->name);
    snprintf(sp->label_buf[3], sizeof(sp->label_buf[3]), "%s", n->hostname);
    snprintf(sp->label_buf[4], sizeof(sp->label_buf[4]), "%u", p->datanodes);
    sp->labels[0] = (docker_kv){"hdc.cluster", sp->label_buf[0]};
    sp->labels[1] = (docker_kv){"hdc.service", sp->label_buf[1]};
    sp->labels[2] = (docker_kv){"hdc.dist", sp->label_buf[2]};
    sp->labels[3] = (docker_kv){"hdc.hostname", sp->label_buf[3]};
    sp->labels[4] = (docker_kv){"hdc.datanodes", sp->label_buf[4]};

    if (svc == NULL) {
        snprintf(sp->image, sizeof(sp->image), "%s", CLUSTER_ZK_IMAGE);
        sp->ports[n_ports++] = (docker_port){.port = PLAN_ZK_PORT,
                                             .host_port = in->publish_classic ? PLAN_ZK_PORT : 0};
    } else {
        cluster_image_ref(image_desc, svc->image, sp->image, sizeof(sp->image));
        snprintf(sp->env_buf[n_env++], sizeof(sp->env_buf[0]), "HDC_CLUSTER=%s", p->cluster);
        snprintf(sp->env_buf[n_env++], sizeof(sp->env_buf[0]), "HDC_DIST=%s", p->desc->name);
        snprintf(sp->env_buf[n_env++], sizeof(sp->env_buf[0]), "HDC_SERVICE=%s", n->service);
        snprintf(sp->env_buf[n_env++], sizeof(sp->env_buf[0]), "HDC_INSTANCE=%u", n->instance);
        snprintf(sp->env_buf[n_env++], sizeof(sp->env_buf[0]), "HDC_DATANODES=%u", p->datanodes);
        snprintf(sp->env_buf[n_env++], sizeof(sp->env_buf[0]), "HDC_TEST_USER=%s",
                 in->test_user != NULL ? in->test_user : "hdc");
        snprintf(sp->env_buf[n_env++], sizeof(sp->env_buf[0]), "HDC_ZK=zookeeper:%d", PLAN_ZK_PORT);
        for (size_t i = 0; i < n_env; i++)
            sp->env[i] = sp->env_buf[i];
        for (const char *const *e = svc->env; e != NULL && *e != NULL && n_env < 40; e++)
            sp->env[n_env++] = *e;
        for (size_t i = 0; i < in->n_extra_env && n_env < 48; i++)
            sp->env[n_env++] = in->extra_env[i];
        for (const hdc_port *pt = svc->ports; pt != NULL && pt->role != NULL && n_ports < 16;
             pt++) {
            /* Several instances cannot share a fixed host port: only the
             * first gets the classic one. */
            int fixed = in->publish_classic && n->instance == 1;
            sp->ports[n_ports] = (docker_port){.port = (uint16_t)pt->port,
                                               .host_port = fixed ? (uint16_t)pt->port : 0};
            if (in->host_port_of != NULL && strcmp(pt->role, in->host_port_of) == 0)
                sp->ports[n_ports].host_port = in->host_port;
            n_ports++;
        }
        for (const hdc_volume *v = svc->volumes; v != NULL && v->name != NULL && n_binds < 8; v++) {
            /* nocopy: Docker would otherwise copy the image's files into a
             * new volume at each container's create, and containers created
             * at the same instant collide ("file exists"). A shared volume
             * starts empty, as the classic host directory did. */
            snprintf(sp->bind_buf[n_binds], sizeof(sp->bind_buf[0]), "hdc_%s_%s:%s:nocopy",
                     p->cluster, v->name, v->path);
            sp->binds[n_binds] = sp->bind_buf[n_binds];
            n_binds++;
        }
        /* The entrypoint is the image's hdc-agent. */
        snprintf(sp->service_arg, sizeof(sp->service_arg), "%s", n->znode + 1);
        sp->cmd[n_cmd++] = "--zk";
        sp->cmd[n_cmd++] = "zookeeper:2181";
        sp->cmd[n_cmd++] = "--service";
        sp->cmd[n_cmd++] = sp->service_arg;
        if (svc->user != NULL) {
            sp->cmd[n_cmd++] = "--user";
            sp->cmd[n_cmd++] = svc->user;
        }
        if (svc->ready_port != NULL) {
            snprintf(sp->ready_port, sizeof(sp->ready_port), "tcp:%d",
                     plugin_port(svc, svc->ready_port)->port);
            sp->cmd[n_cmd++] = "--ready";
            sp->cmd[n_cmd++] = sp->ready_port;
        }
        if (svc->ready != NULL) {
            snprintf(sp->ready_sh, sizeof(sp->ready_sh), "sh:%s", svc->ready);
            sp->cmd[n_cmd++] = "--ready";
            sp->cmd[n_cmd++] = sp->ready_sh;
        }
        sp->cmd[n_cmd++] = "--";
        sp->cmd[n_cmd++] = "/bin/sh";
        sp->cmd[n_cmd++] = "-c";
        sp->cmd[n_cmd++] = svc->daemon != NULL ? svc->daemon : "exec sleep infinity";
    }
    sp->aliases[0] = n->hostname;
    o->name = n->container;
    o->image = sp->image;
    o->hostname = n->hostname;
    o->labels = sp->labels;
    o->n_labels = 5;
    o->env = sp->env;
    o->n_env = n_env;
    o->cmd = sp->cmd;
    o->n_cmd = n_cmd;
    o->network = in->network;
    o->ipv4 = n->address;
    o->aliases = sp->aliases;
    o->n_aliases = 1;
    o->extra_hosts = (const char *const *)p->extra_hosts;
    o->n_extra_hosts = p->n_nodes;
    o->ports = sp->ports;
    o->n_ports = n_ports;
    o->binds = sp->binds;
    o->n_binds = n_binds;
}

/* Creates the container of node n. */
static int node_create(up *u, node_rt *n) {
    cluster_spec_in in = {
        .plan = &u->plan,
        .node = n->pn,
        .test_user = u->test_user,
        .publish_classic = u->opts.publish_classic,
        .network = u->network_id,
    };
    cluster_spec *sp = malloc(sizeof(*sp));
    int err;

    if (sp == NULL)
        return UV_ENOMEM;
    cluster_container_spec(&in, sp);
    u->pending++;
    err = docker_container_create(u->d, &sp->opts, node_created, n, NULL);
    if (err != 0)
        u->pending--;
    free(sp);
    return err;
}

static void znode_written(void *data, int status) {
    node_rt *n = data;
    up *u = n->u;

    u->pending--;
    if (status != 0)
        up_fail(u, status, NULL, "%s: cannot write %s in ZooKeeper: %s", u->plan.cluster,
                n->pn->znode, hdc_strerror(status));
    if (up_stopping(u) || u->pending > 0)
        return;
    up_volumes(u);
}

static void volume_created(void *data, int status, const char *msg) {
    up *u = data;

    u->pending--;
    if (status != 0)
        up_fail(u, status, NULL, "%s: cannot create a volume: %s", u->plan.cluster, msg);
    if (up_stopping(u) || u->pending > 0)
        return;
    up_containers(u);
}

/* The named volumes services share (hdc_<cluster>_<name>), labelled so
 * that `hdc down` finds them; the client's too, though `up` does not
 * create the client. */
static void up_volumes(up *u) {
    docker_kv labels[] = {{"hdc.cluster", u->plan.cluster}, {"hdc.dist", u->opts.desc->name}};
    char done[32][128];
    size_t n_done = 0;

    u->pending = 1;
    for (const hdc_service *s = u->opts.desc->services; s != NULL && s->name != NULL; s++) {
        for (const hdc_volume *v = s->volumes; v != NULL && v->name != NULL; v++) {
            char name[128];
            int seen = 0;
            snprintf(name, sizeof(name), "hdc_%s_%s", u->plan.cluster, v->name);
            for (size_t i = 0; i < n_done; i++)
                seen |= strcmp(done[i], name) == 0;
            if (seen || n_done == 32)
                continue;
            snprintf(done[n_done++], sizeof(done[0]), "%s", name);
            u->pending++;
            if (docker_volume_create(u->d, name, labels, 2, volume_created, u, NULL) != 0)
                u->pending--;
        }
    }
    volume_created(u, 0, NULL);
}

static void up_zk_connected(void *data, int status, zk_session *s) {
    up *u = data;

    u->pending--;
    if (status != 0 && status != UV_ECANCELED)
        up_fail(u, status, &u->nodes[0], "%s: ZooKeeper did not answer: %s", u->plan.cluster,
                zk_session_error(s));
    if (up_stopping(u))
        return;
    u->zookeeper_ms = up_elapsed(u);
    node_set_state(&u->nodes[0], CLUSTER_NODE_UP, NULL);
    /* Every instance's znode reads `wait` before any agent can look. */
    u->pending = 1;
    for (size_t i = 1; i < u->plan.n_nodes; i++) {
        node_rt *n = &u->nodes[i];
        if (n->pn->is_client)
            continue;
        if (zk_create(u->zk, n->pn->znode, "wait", 4, ZK_CREATE_PARENTS, znode_written, n) == 0)
            u->pending++;
    }
    if (--u->pending == 0)
        up_volumes(u);
}

/* From the network on, a container of the cluster that dies (ZooKeeper's
 * included) fails the up at once. */
static void up_watch_events(up *u) {
    docker_events_opts eo = {0};
    char label[64];
    const char *labels[1] = {label};
    static const char *const types[] = {"container"};
    static const char *const die[] = {"die"};
    int err;

    snprintf(label, sizeof(label), "hdc.cluster=%s", u->plan.cluster);
    eo.types = types;
    eo.n_types = 1;
    eo.labels = labels;
    eo.n_labels = 1;
    eo.events = die;
    eo.n_events = 1;
    err = docker_events(u->d, &eo, up_event, up_events_ended, u, &u->events);
    if (err != 0) {
        u->events = NULL;
        up_fail(u, err, NULL, "%s: cannot watch Docker's events: %s", u->plan.cluster,
                hdc_strerror(err));
    }
}

/* Creates and starts every service container at once. */
static void up_containers(up *u) {
    u->pending = 1;
    for (size_t i = 1; i < u->plan.n_nodes && !u->failing; i++) {
        node_rt *n = &u->nodes[i];
        int err;
        if (n->pn->is_client)
            continue;
        err = node_create(u, n);
        if (err != 0)
            up_fail(u, err, NULL, "%s: cannot create container %s: %s", u->plan.cluster,
                    n->pn->container, hdc_strerror(err));
    }
    if (--u->pending == 0 && !up_stopping(u))
        up_run_steps(u);
}

/* ---- network and ZooKeeper -------------------------------------------------- */

static void up_network_created(void *data, int status, const char *msg, const char *id) {
    up *u = data;

    u->pending--;
    if (status == 0) {
        /* Ours, whatever happens next: --rm-on-failure removes it. */
        u->network_created = 1;
        snprintf(u->network_id, sizeof(u->network_id), "%s", id);
    }
    if (up_stopping(u))
        return;
    if (status == DOCKER_EOVERLAP && ++u->subnet_tries < plan_pool_count(&u->pool) &&
        u->subnet_tries < 64) {
        docker_kv labels[] = {{"hdc.cluster", u->plan.cluster}, {"hdc.dist", u->opts.desc->name}};
        docker_network_opts no = {
            .name = u->plan.network,
            .labels = labels,
            .n_labels = 2,
        };
        plan_readdress(&u->plan, &u->pool, ++u->subnet_index);
        no.subnet = u->plan.subnet;
        no.gateway = u->plan.gateway;
        u->pending++;
        if (docker_network_create(u->d, &no, up_network_created, u, NULL) == 0)
            return;
        u->pending--;
    }
    if (status == DOCKER_EOVERLAP) {
        up_fail(u, status, NULL,
                "%s: every subnet tried in the pool overlaps a network in use: set "
                "HDC_SUBNET_POOL to a free range",
                u->plan.cluster);
        return;
    }
    if (status == DOCKER_ECONFLICT) {
        up_fail(u, CLUSTER_EEXISTS, NULL,
                "cluster '%s' exists already (network %s): run `hdc down %s` first, or "
                "choose another --name",
                u->plan.cluster, u->plan.network, u->plan.cluster);
        return;
    }
    if (status != 0) {
        up_fail(u, status, NULL, "%s: cannot create network %s: %s", u->plan.cluster,
                u->plan.network, msg);
        return;
    }
    u->network_ms = up_elapsed(u);
    up_watch_events(u);
    if (node_create(u, &u->nodes[0]) != 0)
        up_fail(u, UV_EIO, NULL, "%s: cannot create ZooKeeper's container", u->plan.cluster);
}

static void up_create_network(up *u) {
    docker_kv labels[] = {{"hdc.cluster", u->plan.cluster}, {"hdc.dist", u->opts.desc->name}};
    docker_network_opts no = {
        .name = u->plan.network,
        .subnet = u->plan.subnet,
        .gateway = u->plan.gateway,
        .labels = labels,
        .n_labels = 2,
    };
    int err;

    u->pending++;
    err = docker_network_create(u->d, &no, up_network_created, u, NULL);
    if (err != 0) {
        u->pending--;
        up_fail(u, err, NULL, "%s: cannot create network: %s", u->plan.cluster, hdc_strerror(err));
    }
}

static void up_image_checked(void *data, int status, const char *msg,
                             const docker_image_info *info) {
    up *u = data;
    size_t used = strlen(u->message);

    if (status == DOCKER_ENOTFOUND) {
        u->status = CLUSTER_ENOIMAGE;
        snprintf(u->message + used, sizeof(u->message) - used, "%s%s", used ? ", " : "", msg);
    } else if (status != 0 && u->status == 0) {
        u->status = status;
        snprintf(u->message + used, sizeof(u->message) - used, "%s%s", used ? ", " : "", msg);
    }
    if (--u->pending > 0 || up_stopping(u))
        return;
    if (u->status != 0) {
        char what[4096];
        snprintf(what, sizeof(what), "%s", u->message);
        u->failing = 1;
        if (u->status == CLUSTER_ENOIMAGE)
            snprintf(u->message, sizeof(u->message),
                     "%s: images missing (%s): run `hdc build %s` (and `hdc build-base`) "
                     "first",
                     u->plan.cluster, what, u->opts.desc->name);
        else
            snprintf(u->message, sizeof(u->message), "%s: %s", u->plan.cluster, what);
        up_finish(u);
        return;
    }
    u->message[0] = '\0';
    up_create_network(u);
}

static void up_check_images(up *u) {
    char refs[17][256];
    size_t n = 0;

    snprintf(refs[n++], 256, "%s", CLUSTER_ZK_IMAGE);
    for (const hdc_service *s = u->opts.desc->services; s != NULL && s->name != NULL && n < 17;
         s++) {
        char ref[256];
        int seen = 0;
        if (s->flags & HDC_SERVICE_CLIENT)
            continue;
        cluster_image_ref(u->opts.desc, s->image, ref, sizeof(ref));
        for (size_t i = 0; i < n; i++)
            seen |= strcmp(refs[i], ref) == 0;
        if (!seen)
            snprintf(refs[n++], 256, "%s", ref);
    }
    u->pending = 1;
    for (size_t i = 0; i < n; i++)
        if (docker_image_inspect(u->d, refs[i], up_image_checked, u, NULL) == 0)
            u->pending++;
    up_image_checked(u, 0, NULL, NULL);
}

static void up_deadline(uv_timer_t *t) {
    up *u = t->data;

    up_fail(u, UV_ETIMEDOUT, NULL, "%s: not up within --timeout %u s", u->plan.cluster,
            u->opts.timeout_s);
}

int cluster_up(uv_loop_t *loop, docker *d, const cluster_up_opts *opts,
               cluster_progress_cb progress, cluster_up_cb cb, void *data, cluster **out) {
    up *u;
    char err[512];
    size_t n_steps = 0;
    int rc;

    if (opts == NULL || opts->desc == NULL || opts->name == NULL || opts->logs_root == NULL ||
        cb == NULL)
        return UV_EINVAL;
    u = calloc(1, sizeof(*u));
    if (u == NULL)
        return UV_ENOMEM;
    u->loop = loop;
    u->d = d;
    u->opts = *opts;
    u->progress = progress;
    u->cb = cb;
    u->data = data;
    u->start_ms = uv_now(loop);
    if (asprintf(&u->logs_dir, "%s/%s", opts->logs_root, opts->name) < 0)
        u->logs_dir = NULL;
    u->test_user = strdup(opts->test_user != NULL ? opts->test_user : "hdc");
    rc = plan_pool_parse(opts->subnet_pool, &u->pool, err, sizeof(err));
    if (rc == 0) {
        u->subnet_index = plan_pool_start(&u->pool, opts->name);
        rc = plan_make(&u->plan, opts->desc, opts->name, opts->datanodes, &u->pool, u->subnet_index,
                       err, sizeof(err));
    }
    for (const hdc_step *s = opts->desc->steps; s != NULL && s->name != NULL; s++)
        n_steps++;
    u->nodes = calloc(u->plan.n_nodes + 1, sizeof(*u->nodes));
    u->step_names = calloc(n_steps + 1, sizeof(char *));
    u->step_start = calloc(n_steps + 1, sizeof(uint64_t));
    u->step_end = calloc(n_steps + 1, sizeof(uint64_t));
    if (rc != 0 || u->nodes == NULL || u->step_names == NULL || u->step_start == NULL ||
        u->step_end == NULL || u->logs_dir == NULL || u->test_user == NULL) {
        up_free(u);
        return rc != 0 ? rc : UV_ENOMEM;
    }
    u->n_steps = n_steps;
    for (size_t i = 0; i < n_steps; i++)
        u->step_names[i] = opts->desc->steps[i].name;
    for (size_t i = 0; i < u->plan.n_nodes; i++) {
        node_rt *n = &u->nodes[i];
        n->u = u;
        n->pn = &u->plan.nodes[i];
        n->logs_ended = 1;
        n->rep.cluster = u->plan.cluster;
        n->rep.node = n->pn;
        n->rep.state = CLUSTER_NODE_PLANNED;
    }
    uv_timer_init(loop, &u->timer);
    u->timer.data = u;
    u->timer_open = 1;
    if (opts->timeout_s > 0)
        uv_timer_start(&u->timer, up_deadline, (uint64_t)opts->timeout_s * 1000, 0);
    up_check_images(u);
    if (out != NULL)
        *out = (cluster *)u;
    return 0;
}

int cluster_cancel(cluster *c) {
    up *u = (up *)c;

    if (u->finishing)
        return UV_EALREADY;
    if (u->up_done) {
        up_finish(u);
        return 0;
    }
    up_fail(u, UV_ECANCELED, NULL, "%s: interrupted", u->plan.cluster);
    return 0;
}

/* ---- clusters found by label ------------------------------------------------ */

typedef struct down {
    docker *d;
    cluster_down_cb cb;
    void *data;
    char label[80];
    size_t pending;
    unsigned removed;
    int status;
    char msg[1024];
    size_t kind; /* index in down_kinds */
} down;

static void down_end(down *w) {
    w->cb(w->data, w->status, w->status != 0 ? w->msg : NULL, w->removed);
    free(w);
}

static void down_note(down *w, int status, const char *msg) {
    if (status == 0) {
        w->removed++;
    } else if (status != DOCKER_ENOTFOUND && w->status == 0) {
        /* Gone already (a concurrent down) is not a failure. */
        w->status = status;
        snprintf(w->msg, sizeof(w->msg), "%s", msg != NULL ? msg : hdc_strerror(status));
    }
}

/* What `down` removes, in order: containers first (they hold the network
 * and the volumes), then networks, then volumes. */
typedef struct down_kind {
    int (*list)(docker *d, const char *label, docker_list_cb cb, void *data, docker_call **out);
    int (*remove)(docker *d, const docker_object *obj, docker_cb cb, void *data);
} down_kind;

static int down_container(docker *d, const docker_object *o, docker_cb cb, void *data) {
    return docker_container_remove(d, o->id, 1, 1, cb, data, NULL);
}

static int down_network(docker *d, const docker_object *o, docker_cb cb, void *data) {
    return docker_network_remove(d, o->id, cb, data, NULL);
}

static int down_volume(docker *d, const docker_object *o, docker_cb cb, void *data) {
    return docker_volume_remove(d, o->name, 1, cb, data, NULL);
}

static const down_kind down_kinds[] = {
    {docker_container_list, down_container},
    {docker_network_list, down_network},
    {docker_volume_list, down_volume},
};

static void down_listed(void *data, int status, const char *msg, const docker_object *objs,
                        size_t n);

/* One object gone; with the last of its kind, the next kind is listed. */
static void down_removed(void *data, int status, const char *msg) {
    down *w = data;

    down_note(w, status, msg);
    if (--w->pending > 0)
        return;
    if (++w->kind == sizeof(down_kinds) / sizeof(down_kinds[0]) ||
        down_kinds[w->kind].list(w->d, w->label, down_listed, w, NULL) != 0)
        down_end(w);
}

static void down_listed(void *data, int status, const char *msg, const docker_object *objs,
                        size_t n) {
    down *w = data;

    if (status != 0) {
        down_note(w, status, msg);
        down_end(w);
        return;
    }
    w->pending = 1; /* held until every removal is asked for */
    for (size_t i = 0; i < n; i++)
        if (down_kinds[w->kind].remove(w->d, &objs[i], down_removed, w) == 0)
            w->pending++;
    down_removed(w, DOCKER_ENOTFOUND, NULL);
}

int cluster_down(uv_loop_t *loop, docker *d, const char *name, cluster_down_cb cb, void *data) {
    down *w = calloc(1, sizeof(*w));
    int err;

    if (w == NULL)
        return UV_ENOMEM;
    w->d = d;
    w->cb = cb;
    w->data = data;
    if (name != NULL)
        snprintf(w->label, sizeof(w->label), "hdc.cluster=%s", name);
    else
        snprintf(w->label, sizeof(w->label), "hdc.cluster");
    err = down_kinds[0].list(d, w->label, down_listed, w, NULL);
    if (err != 0)
        free(w);
    return err;
}

typedef struct lister {
    docker *d;
    cluster_list_cb cb;
    void *data;
    cluster_container *list;
    size_t n, cap;
    size_t pending;
    int status;
    char msg[1024];
} lister;

static char *label_dup(const json_t *labels, const char *key) {
    const char *v = json_string_value(json_object_get(labels, key));

    return strdup(v != NULL ? v : "");
}

static int64_t parse_created(const char *s) {
    struct tm tm = {0};

    if (s == NULL || strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
        return 0;
    return (int64_t)timegm(&tm);
}

static void lister_end(lister *l) {
    l->cb(l->data, l->status, l->status != 0 ? l->msg : NULL, l->list, l->n);
    for (size_t i = 0; i < l->n; i++) {
        cluster_container *c = &l->list[i];
        free((char *)c->cluster);
        free((char *)c->dist);
        free((char *)c->service);
        free((char *)c->hostname);
        free((char *)c->name);
        free((char *)c->state);
        free((char *)c->address);
        for (size_t k = 0; k < c->n_ports; k++)
            free((char *)c->ports[k].host_ip);
        free((void *)c->ports);
    }
    free(l->list);
    free(l);
}

static int container_cmp(const void *a, const void *b) {
    const cluster_container *x = a, *y = b;
    int c = strcmp(x->cluster, y->cluster);

    return c != 0 ? c : strcmp(x->name, y->name);
}

static void lister_inspected(void *data, int status, const char *msg,
                             const docker_container_info *info) {
    lister *l = data;

    if (status == 0 && l->n < l->cap) {
        cluster_container *c = &l->list[l->n++];
        docker_port_binding *ports = calloc(info->n_ports + 1, sizeof(*ports));
        c->cluster = label_dup(info->labels, "hdc.cluster");
        c->dist = label_dup(info->labels, "hdc.dist");
        c->service = label_dup(info->labels, "hdc.service");
        c->hostname = strdup(info->hostname != NULL ? info->hostname : "");
        c->name = strdup(info->name != NULL ? info->name : "");
        c->state = strdup(info->status != NULL ? info->status : "");
        c->address = strdup(info->ip_address != NULL ? info->ip_address : "");
        c->exit_code = info->exit_code;
        c->created = parse_created(json_string_value(json_object_get(info->raw, "Created")));
        for (size_t k = 0; ports != NULL && k < info->n_ports; k++) {
            ports[k] = info->ports[k];
            ports[k].host_ip = strdup(info->ports[k].host_ip != NULL ? info->ports[k].host_ip : "");
        }
        c->ports = ports;
        c->n_ports = ports != NULL ? info->n_ports : 0;
    } else if (status != 0 && status != DOCKER_ENOTFOUND && l->status == 0) {
        l->status = status;
        snprintf(l->msg, sizeof(l->msg), "%s", msg);
    }
    if (--l->pending > 0)
        return;
    qsort(l->list, l->n, sizeof(*l->list), container_cmp);
    lister_end(l);
}

static void lister_listed(void *data, int status, const char *msg, const docker_object *objs,
                          size_t n) {
    lister *l = data;

    if (status != 0) {
        l->status = status;
        snprintf(l->msg, sizeof(l->msg), "%s", msg);
        lister_end(l);
        return;
    }
    l->list = calloc(n + 1, sizeof(*l->list));
    l->cap = n;
    l->pending = 1;
    for (size_t i = 0; l->list != NULL && i < n; i++)
        if (docker_container_inspect(l->d, objs[i].id, lister_inspected, l, NULL) == 0)
            l->pending++;
    lister_inspected(l, DOCKER_ENOTFOUND, NULL, NULL);
}

int cluster_list(uv_loop_t *loop, docker *d, const char *name, cluster_list_cb cb, void *data) {
    lister *l = calloc(1, sizeof(*l));
    char label[80];
    int err;

    if (l == NULL)
        return UV_ENOMEM;
    l->d = d;
    l->cb = cb;
    l->data = data;
    if (name != NULL)
        snprintf(label, sizeof(label), "hdc.cluster=%s", name);
    else
        snprintf(label, sizeof(label), "hdc.cluster");
    err = docker_container_list(d, label, lister_listed, l, NULL);
    if (err != 0)
        free(l);
    return err;
}
