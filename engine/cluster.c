/* `hdc up` of one cluster: created on Docker and bootstrapped through
 * ZooKeeper, all on the loop. This file follows the order in which an up
 * runs.
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
 *   steps      the plugin's DAG (boot.c), each step done by
 *              cluster_steps.c on the nodes of its service
 * From the network on, an events stream watches the cluster's containers:
 * a `die` fails the up at once, naming the service and the last lines of
 * its log, instead of waiting for a deadline.
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
#define _GNU_SOURCE /* asprintf */
#include "cluster.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster_query.h"
#include "cluster_spec.h"
#include "cluster_steps.h"
#include "logs.h"
#include "plugin_host.h"
#include "probe.h"
#include "util.h"
#include "zk.h"

#define LOG_SETTLE_MS         1000
#define ZK_CONNECT_TIMEOUT_MS 60000
#define ZK_SESSION_TIMEOUT_MS 20000

typedef struct up up;
typedef cluster_node node_rt;

struct up {
    uv_loop_t *loop;
    docker *d;
    cluster_up_opts opts;
    char *logs_dir, *test_user;
    cluster_progress_cb progress;
    cluster_up_cb cb;
    void *data;

    plan plan;
    char network_id[80]; /* ours: the name alone may be ambiguous */
    int lost_race;       /* another up of this name holds it */
    char *logs_backup;   /* where a previous run's logs went, or NULL */
    uv_work_t logs_work;
    int logs_rc;
    char logs_err[1024];
    uint32_t subnet_index, subnet_tries;
    node_rt *nodes; /* plan.n_nodes */
    char zk_hosts[64];
    zk_session *zk;
    docker_call *events;
    cluster_steps *steps;
    boot_dag *dag;
    uv_timer_t timer; /* the whole-up deadline, then log settling */
    int timer_open;

    uint64_t start_ms;
    uint64_t network_ms, zookeeper_ms, containers_ms, steps_ms, ready_ms;
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

/* In the order an up runs them. */
static void up_fail(up *u, int status, node_rt *node, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static uint64_t up_elapsed(const up *u);
static void node_set_state(node_rt *n, enum cluster_node_state state, const char *why);
static node_rt *up_node_by_container(up *u, const char *name_or_id);
static void up_append_tail(up *u, node_rt *n);
static void up_deadline(uv_timer_t *t);
static void up_check_images(up *u);
static void up_image_checked(void *data, int status, const char *msg,
                             const docker_image_info *info);
static void up_create_network(up *u);
static void up_network_created(void *data, int status, const char *msg, const char *id);
static void up_watch_events(up *u);
static int node_create(up *u, node_rt *n);
static void node_created(void *data, int status, const char *msg, const char *id);
static void up_logs_work(uv_work_t *w);
static void up_logs_ready(uv_work_t *w, int status);
static void node_start(node_rt *n);
static void node_started(void *data, int status, const char *msg);
static void node_log_output(void *data, int stream, const char *buf, size_t len);
static void node_follow_logs(node_rt *n);
static void node_inspected(void *data, int status, const char *msg,
                           const docker_container_info *info);
static void up_zk_connected(void *data, int status, zk_session *s);
static void znode_written(void *data, int status);
static void up_volumes(up *u);
static void volume_created(void *data, int status, const char *msg);
static void up_containers(up *u);
static void up_run_steps(up *u);
static void up_steps_done(void *data, const boot_report *rep);
static void up_endpoints(up *u);
static void up_event(void *data, const json_t *ev);
static void up_settle(up *u);
static void up_settled(uv_timer_t *t);
static void up_events_ended(void *data, int status, const char *msg);
static void up_finish(up *u);
static int up_stopping(up *u);
static void up_waited(up *u);
static void node_log_ended(void *data, int status, const char *msg);
static void up_maybe_done(up *u);
static void up_zk_closed(void *data, zk_session *s);
static void up_timer_closed(uv_handle_t *h);
static void up_close_sinks(up *u);
static void up_sink_closed(void *data);
static void up_removed(void *data, int status, const char *msg, unsigned removed);
static void up_own_network_removed(void *data, int status, const char *msg);
static void up_report_to(up *u, cluster_up_cb cb);
static void up_report(up *u);
static void up_free(up *u);

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

/* ---- the entry ----------------------------------------------------------- */

int cluster_up(uv_loop_t *loop, docker *d, plan *p, const cluster_up_opts *opts,
               cluster_progress_cb progress, cluster_up_cb cb, void *data, cluster **out) {
    up *u;
    int rc;

    if (p == NULL || p->desc == NULL || opts == NULL || opts->logs_root == NULL || cb == NULL) {
        plan_free(p);
        return UV_EINVAL;
    }
    u = calloc(1, sizeof(*u));
    if (u == NULL) {
        plan_free(p);
        return UV_ENOMEM;
    }
    u->plan = *p;
    memset(p, 0, sizeof(*p));
    u->loop = loop;
    u->d = d;
    u->opts = *opts;
    u->progress = progress;
    u->cb = cb;
    u->data = data;
    u->start_ms = uv_now(loop);
    u->subnet_index = plan_pool_start(&u->opts.pool, u->plan.cluster);
    if (asprintf(&u->logs_dir, "%s/%s", opts->logs_root, u->plan.cluster) < 0)
        u->logs_dir = NULL;
    u->test_user = strdup(opts->test_user != NULL ? opts->test_user : "hdc");
    u->nodes = calloc(u->plan.n_nodes + 1, sizeof(*u->nodes));
    if (u->nodes == NULL || u->logs_dir == NULL || u->test_user == NULL) {
        up_free(u);
        return UV_ENOMEM;
    }
    for (size_t i = 0; i < u->plan.n_nodes; i++) {
        node_rt *n = &u->nodes[i];
        n->u = u;
        n->pn = &u->plan.nodes[i];
        n->logs_ended = 1;
        n->rep.cluster = u->plan.cluster;
        n->rep.node = n->pn;
        n->rep.state = CLUSTER_NODE_PLANNED;
    }
    {
        cluster_steps_host host = {
            .loop = loop,
            .d = d,
            .plan = &u->plan,
            .test_user = u->test_user,
            .start_ms = u->start_ms,
            .nodes = u->nodes,
            .set_state = node_set_state,
        };
        if ((rc = cluster_steps_new(&host, &u->steps)) != 0) {
            up_free(u);
            return rc;
        }
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

static void up_deadline(uv_timer_t *t) {
    up *u = t->data;

    up_fail(u, UV_ETIMEDOUT, NULL, "%s: not up within --timeout %u s", u->plan.cluster,
            u->opts.timeout_s);
}

/* ---- images -------------------------------------------------------------- */

static void up_check_images(up *u) {
    char refs[17][256];
    size_t n = 0;

    snprintf(refs[n++], 256, "%s", CLUSTER_ZK_IMAGE);
    for (const hdc_service *s = u->plan.desc->services; s != NULL && s->name != NULL && n < 17;
         s++) {
        char ref[256];
        int seen = 0;
        if (s->flags & HDC_SERVICE_CLIENT)
            continue;
        cluster_image_ref(u->plan.desc, s->image, ref, sizeof(ref));
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
        char *what = strdup(u->message);
        u->failing = 1;
        if (u->status == CLUSTER_ENOIMAGE)
            snprintf(u->message, sizeof(u->message),
                     "%s: images missing (%s): run `hdc build %s` (and `hdc build-base`) "
                     "first",
                     u->plan.cluster, what != NULL ? what : "", u->plan.desc->name);
        else
            snprintf(u->message, sizeof(u->message), "%s: %s", u->plan.cluster,
                     what != NULL ? what : "");
        free(what);
        up_finish(u);
        return;
    }
    u->message[0] = '\0';
    up_create_network(u);
}

/* ---- the network: the reservation ---------------------------------------- */

static void up_create_network(up *u) {
    docker_kv labels[] = {{"hdc.cluster", u->plan.cluster}, {"hdc.dist", u->plan.desc->name}};
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
    if (status == DOCKER_EOVERLAP && ++u->subnet_tries < plan_pool_count(&u->opts.pool) &&
        u->subnet_tries < 64) {
        docker_kv labels[] = {{"hdc.cluster", u->plan.cluster}, {"hdc.dist", u->plan.desc->name}};
        docker_network_opts no = {
            .name = u->plan.network,
            .labels = labels,
            .n_labels = 2,
        };
        plan_readdress(&u->plan, &u->opts.pool, ++u->subnet_index);
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

/* ---- ZooKeeper, then every container ------------------------------------- */

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

static void node_created(void *data, int status, const char *msg, const char *id) {
    node_rt *n = data;
    up *u = n->u;

    if (status != 0) {
        u->pending--;
        if (status == DOCKER_ENOTFOUND)
            up_fail(u, CLUSTER_ENOIMAGE, NULL,
                    "%s: cannot create container %s: %s: run "
                    "`hdc build %s` first",
                    u->plan.cluster, n->pn->container, msg, u->plan.desc->name);
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

static void up_logs_work(uv_work_t *w) {
    node_rt *n = w->data;
    up *u = n->u;
    int moved = 0;

    u->logs_rc = logs_prepare_dir(u->opts.logs_root, u->plan.cluster, (int)getpid(), &moved,
                                  u->logs_err, sizeof(u->logs_err));
    if (u->logs_rc == 0 && moved)
        u->logs_backup =
            util_asprintf("%s.backup.%d/%s", u->opts.logs_root, (int)getpid(), u->plan.cluster);
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

static void node_start(node_rt *n) {
    up *u = n->u;

    if (docker_container_start(u->d, n->id, node_started, n, NULL) != 0) {
        u->pending--;
        up_fail(u, UV_EIO, n, "%s: cannot start container %s", u->plan.cluster, n->pn->container);
        up_stopping(u);
    }
}

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
        char *path = util_asprintf("%s/%s.log", u->logs_dir, n->pn->hostname);
        if (path == NULL || logs_sink_open(u->loop, path, 0, &n->sink) != 0)
            n->sink = NULL;
        free(path);
    }
    if (n->sink != NULL)
        node_follow_logs(n);
    if (docker_container_inspect(u->d, n->id, node_inspected, n, NULL) != 0) {
        u->pending--;
        up_fail(u, UV_EIO, n, "%s: cannot inspect container %s", u->plan.cluster, n->pn->container);
        up_stopping(u);
    }
}

static void node_log_output(void *data, int stream, const char *buf, size_t len) {
    node_rt *n = data;

    if (n->sink != NULL)
        logs_sink_append(n->sink, buf, len);
}

static void node_follow_logs(node_rt *n) {
    docker_logs_opts opts = {.follow = 1};
    int err = docker_logs(n->u->d, n->id, &opts, node_log_output, node_log_ended, n, &n->logs);

    n->logs_ended = err != 0;
    if (err != 0)
        n->logs = NULL;
}

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

/* The named volumes services share (hdc_<cluster>_<name>), labelled so
 * that `hdc down` finds them; the client's too, though `up` does not
 * create the client. */
static void up_volumes(up *u) {
    docker_kv labels[] = {{"hdc.cluster", u->plan.cluster}, {"hdc.dist", u->plan.desc->name}};
    char done[32][128];
    size_t n_done = 0;

    u->pending = 1;
    for (const hdc_service *s = u->plan.desc->services; s != NULL && s->name != NULL; s++) {
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

static void volume_created(void *data, int status, const char *msg) {
    up *u = data;

    u->pending--;
    if (status != 0)
        up_fail(u, status, NULL, "%s: cannot create a volume: %s", u->plan.cluster, msg);
    if (up_stopping(u) || u->pending > 0)
        return;
    up_containers(u);
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

/* ---- the steps ----------------------------------------------------------- */

static void up_run_steps(up *u) {
    int err;

    u->containers_ms = up_elapsed(u);
    err = cluster_steps_run(u->steps, u->zk, up_steps_done, u, &u->dag);
    if (err != 0) {
        u->dag = NULL;
        up_fail(u, err, NULL, "%s: the bootstrap could not start: %s", u->plan.cluster,
                hdc_strerror(err));
    }
}

static void up_steps_done(void *data, const boot_report *rep) {
    up *u = data;

    u->dag = NULL;
    u->steps_ms = up_elapsed(u);
    /* A failed step names the node to blame: its log tail goes in the message. */
    if (u->dead == NULL)
        u->dead = cluster_steps_blamed(u->steps);
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
        if (rep->status == UV_ETIMEDOUT && rep->failed_step != NULL) {
            node_rt *n =
                cluster_steps_explain(u->steps, rep->failed_step, u->message, sizeof(u->message));
            if (u->dead == NULL)
                u->dead = n;
        }
    }
    up_settle(u);
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

/* ---- events: a container that dies fails the up -------------------------- */

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

static void up_settled(uv_timer_t *t) {
    up *u = t->data;

    up_finish(u);
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

/* ---- the end ------------------------------------------------------------- */

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

/* Once ending: when every call and stream has called back, close the log
 * files and report. */
static void up_maybe_done(up *u) {
    if (!u->finishing || u->waits > 0 || u->pending > 0 || u->closing)
        return;
    u->closing = 1;
    up_close_sinks(u);
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

/* Gives the report to cb: the final callback, or with --follow the ready
 * one. */
static void up_report_to(up *u, cluster_up_cb cb) {
    cluster_node_report *reps = calloc(u->plan.n_nodes, sizeof(*reps));
    const char *const *names;
    const uint64_t *start, *end;
    size_t n_steps;
    cluster_report r;

    cluster_steps_times(u->steps, &names, &start, &end, &n_steps);
    r = (cluster_report){
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
        .step_names = names,
        .step_start_ms = start,
        .step_end_ms = end,
        .n_steps = n_steps,
        .logs_dir = u->logs_dir,
        .logs_backup = u->logs_backup,
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
    cluster_steps_free(u->steps);
    free(u->nodes);
    free(u->endpoints);
    free(u->logs_dir);
    free(u->logs_backup);
    free(u->test_user);
    plan_free(&u->plan);
    free(u);
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
