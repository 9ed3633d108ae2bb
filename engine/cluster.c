/* `hdc up` of one cluster: created on Docker and bootstrapped through
 * ZooKeeper, all on the loop.
 *
 * The up is a state machine. Each resource of the cluster has a state of
 * its own (enum res, enum node_phase): the images, the network, the
 * record, the log directory, the ZooKeeper session, the znodes, the
 * volumes, every node's container, the steps. One function, cluster__advance(),
 * starts whatever those states now allow, in the order of the bootstrap
 * protocol (docs/design.md), or winds everything down once the up has
 * failed or is done. Every callback records what it learned in its
 * resource and calls cluster__advance(); nothing else starts work, so reordering
 * the bring-up is a change of cluster__advance()'s preconditions only.
 *
 *   images      every image the cluster needs is there (else: build it)
 *   network     hdc_<cluster> with a subnet of the pool; an overlapping
 *               subnet is retried with the next
 *   ZooKeeper   its container created: the reservation of the name (of
 *               two ups of one name, one creates it); then the record
 *               ("creating"), a previous run's logs moved aside, the
 *               container started, a session through its published port
 *   znodes      every instance's `wait`, before any agent can look
 *   volumes     the ones services share
 *   containers  every service container created and started at once
 *   steps       the plugin's DAG (boot.c), done by cluster_steps.c
 *   record      "up" (or "failed" when the up fails and leaves it)
 * From the network on, an events stream watches the cluster's objects: a
 * container that dies fails the up at once, naming the service and the
 * last lines of its log; one destroyed, or the network, means a `hdc down`
 * of this name: the up stops and leaves the rest to it.
 *
 * The up's state is cluster_up.h; the events streams it watches are
 * cluster_watch.c, and how it ends (wind_down, the report) cluster_end.c.
 *
 * Decisions a newcomer might question:
 * - Docker, ZooKeeper and the probes are reached through a table of
 *   operations (cluster_ops.h), so tests/unit/test_cluster.c drives every
 *   phase against fakes, without a daemon.
 * - Every container's log is followed into logs/<cluster>/<host>.log from
 *   its start, and its tail kept in memory (logs.c): a failure message
 *   needs no extra round trip. When a container dies, the message waits
 *   (at most LOG_SETTLE_MS) for its log stream to end, so the last lines
 *   are really the last.
 * - Ending is one path (wind_down) whatever the cause: it stops every
 *   stream and the ZooKeeper session and calls back only once all of them
 *   have called back, so nothing of this file runs after the callback.
 */
#define _GNU_SOURCE /* asprintf */
#include "cluster_up.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster_ops.h"
#include "cluster_record.h"
#include "cluster_steps.h"
#include "logs.h"
#include "plugin_host.h"
#include "util.h"

/* ---- small things --------------------------------------------------------------- */

uint64_t cluster__elapsed(const up *u) {
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

/* A node's state as the user sees it: progress hears every change. */
void cluster__node_set_state(node_rt *n, enum cluster_node_state state, const char *why) {
    if (n->rep.state == state || n->rep.state == CLUSTER_NODE_FAILED)
        return;
    n->rep.state = state;
    n->rep.elapsed_ms = cluster__elapsed(n->u);
    if (why != NULL) {
        snprintf(n->why, sizeof(n->why), "%.*s", (int)sizeof(n->why) - 1, why);
        n->rep.why = n->why;
    }
    if (n->u->progress != NULL)
        n->u->progress(n->u->data, &n->rep);
}

node_rt *cluster__node_by_container(up *u, const char *name_or_id) {
    for (size_t i = 0; i < u->plan.n_nodes; i++) {
        node_rt *n = &u->nodes[i];
        if (strcmp(n->pn->container, name_or_id) == 0 ||
            (n->id[0] != '\0' && strcmp(n->id, name_or_id) == 0))
            return n;
    }
    return NULL;
}

/* The first failure decides the outcome; everything then winds down. */
void cluster__fail(up *u, int status, node_rt *node, const char *fmt, ...) {
    va_list ap;

    if (u->failing || u->ended)
        return;
    u->failing = 1;
    u->status = status;
    va_start(ap, fmt);
    vsnprintf(u->message, sizeof(u->message), fmt, ap);
    va_end(ap);
    u->dead = node;
    if (node != NULL)
        cluster__node_set_state(node, CLUSTER_NODE_FAILED, u->message);
    cluster__advance(u);
}

/* A call's or a piece of work's callback has come. */
void cluster__landed(up *u) {
    u->inflight--;
}

/* ---- images -------------------------------------------------------------------------- */

static void image_checked(void *data, int status, const char *msg, const docker_image_info *info) {
    up *u = data;
    size_t used = strlen(u->missing);

    cluster__landed(u);
    u->images_pending--;
    if (status == DOCKER_ENOTFOUND) {
        u->images_missing = 1;
        snprintf(u->missing + used, sizeof(u->missing) - used, "%s%s", used ? ", " : "", msg);
    } else if (status != 0) {
        cluster__fail(u, status, NULL, "%s: %s", u->plan.cluster, msg);
        return;
    }
    if (u->images_pending > 0)
        return;
    if (u->images_missing) {
        cluster__fail(u, CLUSTER_ENOIMAGE, NULL,
                      "%s: images missing (%s): run `hdc build %s` (and `hdc build-base`) first",
                      u->plan.cluster, u->missing, u->plan.desc->name);
        return;
    }
    u->images = RES_DONE;
    cluster__advance(u);
}

/* Every image the cluster runs, each once: ZooKeeper's and the services'
 * (the client's is `hdc client`'s). */
static void check_images(up *u) {
    const hdc_plugin_desc *desc = u->plan.desc;
    size_t n = 0, n_services = 0;
    char **refs;

    for (const hdc_service *s = desc->services; s != NULL && s->name != NULL; s++)
        n_services++;
    refs = calloc(n_services + 2, sizeof(*refs));

    u->images = RES_BUSY;
    if (refs == NULL) {
        cluster__fail(u, UV_ENOMEM, NULL, "%s: out of memory", u->plan.cluster);
        return;
    }
    refs[n++] = strdup(u->opts.images != NULL && u->opts.images->zookeeper[0] != '\0'
                           ? u->opts.images->zookeeper
                           : CLUSTER_ZK_IMAGE);
    for (const hdc_service *s = desc->services; s != NULL && s->name != NULL; s++) {
        char ref[256];
        int seen = 0;
        if (s->flags & HDC_SERVICE_CLIENT)
            continue;
        cluster_images_ref(u->opts.images, desc, s->image, ref, sizeof(ref));
        for (size_t i = 0; i < n; i++)
            seen |= refs[i] != NULL && strcmp(refs[i], ref) == 0;
        if (!seen)
            refs[n++] = strdup(ref);
    }
    /* Counted before any is asked for: no callback comes from inside a
     * call, but a failure to ask ends the count early. */
    u->images_pending = n;
    for (size_t i = 0; i < n; i++) {
        int err = refs[i] != NULL ? u->ops->image_inspect(u->d, refs[i], image_checked, u, NULL)
                                  : UV_ENOMEM;
        if (err == 0) {
            u->inflight++;
            continue;
        }
        u->images_pending -= n - i;
        cluster__fail(u, err, NULL, "%s: cannot ask Docker about image %s: %s", u->plan.cluster,
                      refs[i] != NULL ? refs[i] : "?", hdc_strerror(err));
        break;
    }
    for (size_t i = 0; i < n; i++)
        free(refs[i]);
    free(refs);
}

/* ---- the network ----------------------------------------------------------------------- */

static void network_created(void *data, int status, const char *msg, const char *id);

static int create_network(up *u) {
    docker_kv labels[CLUSTER_LABELS_MAX];
    cluster_label_bufs bufs;
    docker_network_opts no = {
        .name = u->plan.network,
        .subnet = u->plan.subnet,
        .gateway = u->plan.gateway,
        .labels = labels,
        .n_labels = cluster_labels(&u->plan, u->opts.id, labels, &bufs),
    };
    int err = u->ops->network_create(u->d, &no, network_created, u, NULL);

    if (err == 0) {
        u->inflight++;
        u->network = RES_BUSY;
    }
    return err;
}

static void network_created(void *data, int status, const char *msg, const char *id) {
    up *u = data;

    cluster__landed(u);
    if (status == 0) {
        /* Ours, whatever happens next: --rm-on-failure removes it. */
        snprintf(u->network_id, sizeof(u->network_id), "%s", id);
        u->network = RES_DONE;
        u->network_ms = cluster__elapsed(u);
        cluster__advance(u);
        return;
    }
    if (status == DOCKER_EOVERLAP && !u->failing &&
        ++u->subnet_tries < plan_pool_count(&u->opts.pool) && u->subnet_tries < 64) {
        plan_readdress(&u->plan, &u->opts.pool, ++u->subnet_index);
        if (create_network(u) == 0)
            return;
    }
    if (status == DOCKER_EOVERLAP)
        cluster__fail(u, status, NULL,
                      "%s: every subnet tried in the pool overlaps a network in use: set "
                      "HDC_SUBNET_POOL to a free range",
                      u->plan.cluster);
    else if (status == DOCKER_ECONFLICT)
        cluster__fail(u, CLUSTER_EEXISTS, NULL,
                      "cluster '%s' exists already (network %s): run `hdc down %s` first, or "
                      "choose another --name",
                      u->plan.cluster, u->plan.network, u->plan.cluster);
    else
        cluster__fail(u, status, NULL, "%s: cannot create network %s: %s", u->plan.cluster,
                      u->plan.network, msg);
}

/* ---- the record ---------------------------------------------------------------------------- */

static void record_written(void *data, int status, const char *msg) {
    up *u = data;
    enum res *which = u->record == RES_BUSY ? &u->record : &u->last_record;

    cluster__landed(u);
    *which = RES_DONE;
    /* Without a record, `hdc ls` and `hdc gc` still judge by the owner:
     * an up is not failed for it. */
    if (status != 0 && status != UV_ECANCELED && !u->failing)
        fprintf(stderr, "hdc: %s: cannot write its record in %s: %s\n", u->plan.cluster,
                u->nodes[0].pn->container, msg != NULL ? msg : hdc_strerror(status));
    cluster__advance(u);
}

/* Writes the record into ZooKeeper's container: which is the resource. */
void cluster__write_record(up *u, enum res *which, enum cluster_record_state state) {
    cluster_record r = {.state = state, .since = (int64_t)time(NULL)};
    void *tar = NULL;
    size_t len = 0;
    int err;

    *which = RES_DONE;
    if (u->ops->container_put_archive == NULL || u->nodes[0].id[0] == '\0')
        return;
    if (u->opts.held && u->opts.id != NULL && u->opts.id->owner != NULL)
        snprintf(r.holder, sizeof(r.holder), "%s", u->opts.id->owner);
    else if (u->resume && u->opts.holder != NULL)
        snprintf(r.holder, sizeof(r.holder), "%s", u->opts.holder);
    if (cluster_record_tar(&r, &tar, &len) != 0)
        return;
    err = u->ops->container_put_archive(u->d, u->nodes[0].id, CLUSTER_RECORD_DIR, tar, len,
                                        record_written, u, NULL);
    free(tar);
    if (err == 0) {
        u->inflight++;
        *which = RES_BUSY;
    }
}

/* ---- the log directory -------------------------------------------------------------------- */

static void logs_work(uv_work_t *w) {
    up *u = w->data;
    int moved = 0;

    u->logs_rc = logs_prepare_dir(u->opts.logs_root, u->plan.cluster, (int)getpid(), &moved,
                                  u->logs_err, sizeof(u->logs_err));
    if (u->logs_rc == 0 && moved)
        u->logs_backup =
            util_asprintf("%s.backup.%d/%s", u->opts.logs_root, (int)getpid(), u->plan.cluster);
}

static void logs_ready(uv_work_t *w, int status) {
    up *u = w->data;

    cluster__landed(u);
    u->logs = RES_DONE;
    if (u->logs_rc != 0)
        cluster__fail(u, u->logs_rc, NULL, "%s: %s", u->plan.cluster, u->logs_err);
    cluster__advance(u);
}

/* Only once ZooKeeper's container is ours is a previous run's log
 * directory moved aside: never another up's. */
static void prepare_logs(up *u) {
    u->logs_work.data = u;
    if (uv_queue_work(u->loop, &u->logs_work, logs_work, logs_ready) != 0) {
        u->logs = RES_DONE;
        cluster__fail(u, UV_EIO, NULL, "%s: cannot queue work on the thread pool", u->plan.cluster);
        return;
    }
    u->inflight++;
    u->logs = RES_BUSY;
}

/* ---- a node's container -------------------------------------------------------------------- */

static void node_created(void *data, int status, const char *msg, const char *id) {
    node_rt *n = data;
    up *u = n->u;

    cluster__landed(u);
    if (status == 0) {
        snprintf(n->id, sizeof(n->id), "%s", id);
        n->phase = NODE_CREATED;
        cluster__node_set_state(n, CLUSTER_NODE_CREATED, NULL);
        cluster__advance(u);
        return;
    }
    n->phase = NODE_TODO;
    if (status == DOCKER_ENOTFOUND && msg != NULL && strstr(msg, "network") != NULL) {
        u->removed = 1;
        cluster__fail(u, CLUSTER_EFAILED, NULL,
                      "%s: its network was removed while it came up (`hdc down %s`?): stopped",
                      u->plan.cluster, u->plan.cluster);
    } else if (status == DOCKER_ENOTFOUND)
        cluster__fail(u, CLUSTER_ENOIMAGE, NULL,
                      "%s: cannot create container %s: %s: run `hdc build %s` first",
                      u->plan.cluster, n->pn->container, msg, u->plan.desc->name);
    else if (status == DOCKER_ECONFLICT && n->pn->svc == NULL) {
        /* Another up of this name created it first: leave all to it. */
        u->lost_race = 1;
        cluster__fail(
            u, CLUSTER_EEXISTS, NULL,
            "cluster '%s' exists already (container %s): another `hdc up` of that name holds "
            "it; `hdc down %s` removes it",
            u->plan.cluster, n->pn->container, u->plan.cluster);
    } else if (status == DOCKER_ECONFLICT)
        cluster__fail(
            u, CLUSTER_EEXISTS, NULL,
            "%s: container %s exists already (a cluster of that name was not removed): run "
            "`hdc down %s` or `hdc gc`",
            u->plan.cluster, n->pn->container, u->plan.cluster);
    else
        cluster__fail(u, status, NULL, "%s: cannot create container %s: %s", u->plan.cluster,
                      n->pn->container, msg);
}

static void create_node(up *u, node_rt *n) {
    cluster_spec_in in = {
        .plan = &u->plan,
        .node = n->pn,
        .test_user = u->test_user,
        .publish_classic = u->opts.publish_classic,
        .network = u->network_id,
        .id = u->opts.id,
        .boot_timeout_s = u->opts.boot_timeout_s,
        .memory_mb = u->opts.memory_mb,
        .images = u->opts.images,
    };
    cluster_spec *sp = malloc(sizeof(*sp));
    int err = UV_ENOMEM;

    if (sp != NULL) {
        cluster_container_spec(&in, sp);
        err = u->ops->container_create(u->d, &sp->opts, node_created, n, NULL);
        free(sp);
    }
    if (err != 0) {
        cluster__fail(u, err, NULL, "%s: cannot create container %s: %s", u->plan.cluster,
                      n->pn->container, hdc_strerror(err));
        return;
    }
    u->inflight++;
    n->phase = NODE_CREATING;
}

static void log_output(void *data, int stream, const char *buf, size_t len) {
    node_rt *n = data;

    if (n->sink != NULL)
        logs_sink_append(n->sink, buf, len);
}

static void log_ended(void *data, int status, const char *msg) {
    node_rt *n = data;
    up *u = n->u;

    cluster__landed(u);
    n->logs = NULL;
    n->logs_ended = 1;
    /* The node that failed the up has said its last: settled. */
    if (u->settling && u->dead == n)
        u->settling = 0;
    cluster__advance(u);
}

/* Its log into logs/<cluster>/<host>.log, from its start. */
static void follow_logs(up *u, node_rt *n) {
    docker_logs_opts lo = {.follow = 1};
    char *path = util_asprintf("%s/%s.log", u->logs_dir, n->pn->hostname);

    if (path == NULL || logs_sink_open(u->loop, path, 0, &n->sink) != 0)
        n->sink = NULL;
    free(path);
    if (n->sink == NULL)
        return;
    if (u->ops->logs(u->d, n->id, &lo, log_output, log_ended, n, &n->logs) != 0) {
        n->logs = NULL;
        return;
    }
    u->inflight++;
    n->logs_ended = 0;
}

static void node_inspected(void *data, int status, const char *msg,
                           const docker_container_info *info) {
    node_rt *n = data;
    up *u = n->u;

    cluster__landed(u);
    if (status != 0) {
        cluster__fail(u, status, n, "%s: cannot inspect container %s: %s", u->plan.cluster,
                      n->pn->container, msg);
        return;
    }
    if (!n->rerun && !info->running) {
        u->died = 1; /* said here: no autopsy to tell it again */
        cluster__fail(u, CLUSTER_EFAILED, n,
                      "%s: %s is not running (%s) though the start left it as it was: `hdc "
                      "restart %s %s` starts it again",
                      u->plan.cluster, n->pn->hostname, info->status != NULL ? info->status : "?",
                      u->plan.cluster, n->pn->hostname);
        return;
    }
    /* Names until now (a start knows its containers by name): events
     * and the record use either. */
    if (info->id != NULL)
        snprintf(n->id, sizeof(n->id), "%s", info->id);
    n->n_ports = 0;
    for (size_t i = 0; i < info->n_ports && n->n_ports < 16; i++) {
        if (info->ports[i].host_port == 0)
            continue;
        n->ports[n->n_ports] = info->ports[i];
        n->ports[n->n_ports].host_ip = NULL; /* borrowed from info: not kept */
        n->n_ports++;
    }
    n->phase = NODE_READY;
    cluster__node_set_state(n, CLUSTER_NODE_WAITING, NULL);
    cluster__advance(u);
}

static void node_started(void *data, int status, const char *msg) {
    node_rt *n = data;
    up *u = n->u;
    int err;

    cluster__landed(u);
    if (status == DOCKER_ENOTFOUND) /* removed between its create and its start */
        u->removed = 1;
    if (status != 0 && msg != NULL && strstr(msg, "is ambiguous") != NULL && !u->failing) {
        n->phase = NODE_CREATED; /* started again once the other network is gone */
        u->net_blocked = 1;
        if (u->netwatch == RES_TODO)
            cluster__watch_networks(u);
        cluster__advance(u);
        return;
    }
    if (status != 0) {
        cluster__fail(u, status, n, "%s: cannot start container %s: %s", u->plan.cluster,
                      n->pn->container, msg);
        return;
    }
    if (u->failing) {
        cluster__advance(u);
        return;
    }
    /* A start leaves the files to the log writer it spawns after: it
     * resumes each from its cursor, so nothing is written twice. */
    if (!u->resume)
        follow_logs(u, n);
    err = u->ops->container_inspect(u->d, n->id, node_inspected, n, NULL);
    if (err != 0) {
        cluster__fail(u, err, n, "%s: cannot inspect container %s", u->plan.cluster,
                      n->pn->container);
        return;
    }
    u->inflight++;
    n->phase = NODE_INSPECTING;
}

/* `hdc start`: a node left running; its published ports are read. */
static void inspect_node(up *u, node_rt *n) {
    int err = u->ops->container_inspect(u->d, n->id, node_inspected, n, NULL);

    if (err != 0) {
        cluster__fail(u, err, n, "%s: cannot inspect container %s", u->plan.cluster,
                      n->pn->container);
        return;
    }
    u->inflight++;
    n->phase = NODE_INSPECTING;
}

static void start_node(up *u, node_rt *n) {
    int err = u->ops->container_start(u->d, n->id, node_started, n, NULL);

    if (err != 0) {
        cluster__fail(u, err, n, "%s: cannot start container %s", u->plan.cluster,
                      n->pn->container);
        return;
    }
    u->inflight++;
    n->phase = NODE_STARTING;
}

/* ---- ZooKeeper's session, and the znodes ------------------------------------------------------ */

static void zk_connected(void *data, int status, zk_session *s) {
    up *u = data;

    cluster__landed(u);
    /* Connected or not, the session is there, for wind_down to close. */
    u->session = RES_DONE;
    if (status != 0 && status != UV_ECANCELED && !u->failing && !u->ended) {
        cluster__fail(u, status, &u->nodes[0], "%s: ZooKeeper did not answer: %s", u->plan.cluster,
                      u->ops->zk_session_error(s));
        return; /* fail advanced */
    }
    if (status == 0) {
        u->zookeeper_ms = cluster__elapsed(u);
        cluster__node_set_state(&u->nodes[0], CLUSTER_NODE_UP, NULL);
    }
    cluster__advance(u);
}

static void connect_zk(up *u) {
    node_rt *zk = &u->nodes[0];
    char hosts[64];
    zk_options zo = {
        .hosts = hosts,
        .session_timeout_ms = ZK_SESSION_TIMEOUT_MS,
        .connect_timeout_ms = ZK_CONNECT_TIMEOUT_MS,
    };

    if (zk->n_ports == 0) {
        cluster__fail(u, UV_EADDRNOTAVAIL, zk, "%s: ZooKeeper's port 2181 is not published",
                      u->plan.cluster);
        return;
    }
    snprintf(hosts, sizeof(hosts), "127.0.0.1:%u", zk->ports[0].host_port);
    if (u->ops->zk_connect(u->loop, &zo, &u->zk, zk_connected, u) != 0) {
        u->zk = NULL;
        cluster__fail(u, UV_EIO, zk, "%s: cannot start a ZooKeeper session", u->plan.cluster);
        return;
    }
    u->inflight++;
    u->session = RES_BUSY;
}

static void znode_written(void *data, int status) {
    node_rt *n = data;
    up *u = n->u;

    cluster__landed(u);
    /* An up's agent may have made its znode `wait` first. */
    if (status == ZK_ENODEEXISTS && !u->resume)
        status = 0;
    if (status != 0) {
        cluster__fail(
            u, status, NULL, "%s: cannot write %s in ZooKeeper: %s", u->plan.cluster, n->pn->znode,
            status == ZK_EEXPIRED ? u->ops->zk_session_error(u->zk) : hdc_strerror(status));
        return;
    }
    if (--u->znodes_pending == 0)
        u->znodes = RES_DONE;
    cluster__advance(u);
}

/* Every instance's znode reads `wait` before any agent can look; on a
 * start, every restarted instance's again (it read `up`, and an agent
 * that reads `up` starts its daemon at once: the plugin's order would
 * not hold). */
static void write_znodes(up *u) {
    u->znodes = RES_BUSY;
    for (size_t i = 1; i < u->plan.n_nodes; i++)
        u->znodes_pending += !u->nodes[i].pn->is_client && u->nodes[i].rerun;
    for (size_t i = 1; i < u->plan.n_nodes; i++) {
        node_rt *n = &u->nodes[i];
        int err;
        if (n->pn->is_client || !n->rerun)
            continue;
        if (u->resume)
            err = u->ops->zk_set(u->zk, n->pn->znode, "wait", 4, znode_written, n);
        else
            err = u->ops->zk_create(u->zk, n->pn->znode, "wait", 4, ZK_CREATE_PARENTS,
                                    znode_written, n);
        if (err != 0) {
            cluster__fail(u, err, NULL, "%s: cannot write %s in ZooKeeper: %s", u->plan.cluster,
                          n->pn->znode, hdc_strerror(err));
            return;
        }
        u->inflight++;
    }
    if (u->znodes_pending == 0)
        u->znodes = RES_DONE;
}

/* ---- volumes ------------------------------------------------------------------------------ */

static void volume_created(void *data, int status, const char *msg) {
    up *u = data;

    cluster__landed(u);
    if (status != 0) {
        cluster__fail(u, status, NULL, "%s: cannot create a volume: %s", u->plan.cluster, msg);
        return;
    }
    if (--u->volumes_pending == 0)
        u->volumes = RES_DONE;
    cluster__advance(u);
}

/* The named volumes services share (hdc_<cluster>_<name>), labelled so
 * that `hdc down` finds them; the client's too, though `up` does not
 * create the client. */
static void create_volumes(up *u) {
    docker_kv labels[CLUSTER_LABELS_MAX];
    cluster_label_bufs bufs;
    size_t n_labels = cluster_labels(&u->plan, u->opts.id, labels, &bufs);
    char **done = NULL;
    size_t n_done = 0, cap = 0;

    u->volumes = RES_BUSY;
    u->volumes_pending = 1; /* held until every volume is asked for */
    for (const hdc_service *s = u->plan.desc->services; s != NULL && s->name != NULL; s++) {
        for (const hdc_volume *v = s->volumes; v != NULL && v->name != NULL; v++) {
            char *name = util_asprintf("hdc_%s_%s", u->plan.cluster, v->name);
            int seen = 0, err;
            for (size_t i = 0; name != NULL && i < n_done; i++)
                seen |= strcmp(done[i], name) == 0;
            if (name == NULL || seen || util_grow(&done, &cap, n_done + 1, sizeof(*done)) != 0) {
                free(name);
                continue;
            }
            done[n_done++] = name;
            err = u->ops->volume_create(u->d, name, labels, n_labels, volume_created, u, NULL);
            if (err != 0) {
                cluster__fail(u, err, NULL, "%s: cannot create volume %s: %s", u->plan.cluster,
                              name, hdc_strerror(err));
                continue;
            }
            u->inflight++;
            u->volumes_pending++;
        }
    }
    for (size_t i = 0; i < n_done; i++)
        free(done[i]);
    free(done);
    if (--u->volumes_pending == 0)
        u->volumes = RES_DONE;
}

/* ---- the steps ------------------------------------------------------------------------------ */

static void endpoints(up *u) {
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

/* Appends to the message, after the whole-up deadline, what was still
 * pending: the steps, and the nodes not up. */
static void explain_pending(up *u, const boot_report *rep) {
    size_t used = strlen(u->message);
    int first = 1;

    for (size_t i = 0; i < rep->n_steps && used < sizeof(u->message); i++) {
        const boot_step_report *s = &rep->steps[i];
        if (s->state != BOOT_CANCELED && s->state != BOOT_SKIPPED && s->state != BOOT_RUNNING)
            continue;
        used += (size_t)snprintf(u->message + used, sizeof(u->message) - used, "%s'%s'",
                                 first ? "; steps not done: " : ", ", s->step->name);
        first = 0;
    }
    first = 1;
    for (size_t i = 1; i < u->plan.n_nodes && used < sizeof(u->message); i++) {
        node_rt *n = &u->nodes[i];
        if (n->pn->is_client || n->rep.state == CLUSTER_NODE_UP)
            continue;
        used += (size_t)snprintf(u->message + used, sizeof(u->message) - used, "%s%s (%s)",
                                 first ? "; nodes not up: " : ", ", n->pn->hostname,
                                 cluster_node_state_name(n->rep.state));
        first = 0;
    }
}

static void steps_done(void *data, const boot_report *rep) {
    up *u = data;

    cluster__landed(u);
    u->dag = NULL;
    u->steps = RES_DONE;
    u->steps_ms = cluster__elapsed(u);
    /* A failed step names the node to blame: its log tail goes in the message. */
    if (u->dead == NULL)
        u->dead = cluster_steps_blamed(u->exec);
    if (rep->status == 0 && !u->failing) {
        u->ready_ms = cluster__elapsed(u);
        endpoints(u);
        cluster__advance(u);
        return;
    }
    if (u->failing && u->status == UV_ETIMEDOUT)
        explain_pending(u, rep);
    u->failed_step = rep->failed_step;
    if (!u->failing) {
        u->failing = 1;
        u->status = rep->status == UV_ECANCELED ? UV_ECANCELED : CLUSTER_EFAILED;
        snprintf(u->message, sizeof(u->message), "%s: %s", u->plan.cluster,
                 rep->message != NULL ? rep->message : "the bootstrap failed");
        if (rep->status == UV_ETIMEDOUT && rep->failed_step != NULL) {
            node_rt *n =
                cluster_steps_explain(u->exec, rep->failed_step, u->message, sizeof(u->message));
            if (u->dead == NULL)
                u->dead = n;
        }
    }
    cluster__advance(u);
}

static void run_steps(up *u) {
    int err;

    u->containers_ms = cluster__elapsed(u);
    err = cluster_steps_run(u->exec, u->zk, steps_done, u, &u->dag);
    if (err != 0) {
        u->dag = NULL;
        u->steps = RES_DONE;
        cluster__fail(u, err, NULL, "%s: the bootstrap could not start: %s", u->plan.cluster,
                      hdc_strerror(err));
        return;
    }
    u->inflight++;
    u->steps = RES_BUSY;
}

/* ---- the transition function ------------------------------------------------------------------ */

void cluster__report_to(up *u, cluster_up_cb cb);

/* Up: with --follow, said at once (the logs go on until cluster_cancel,
 * and the ZooKeeper session, not needed any more, is closed). */
static void succeeded(up *u) {
    u->ready = 1;
    if (!u->opts.follow) {
        cluster__wind_down(u);
        return;
    }
    if (u->timer_open)
        uv_timer_stop(&u->timer);
    cluster__wind_down(u);
    if (u->opts.on_ready != NULL)
        cluster__report_to(u, u->opts.on_ready);
}

void cluster__advance(up *u) {
    node_rt *zk = &u->nodes[0];
    int all_ready = 1;

    if (u->ended || u->failing) {
        cluster__wind_down(u);
        return;
    }
    if (u->images == RES_TODO)
        check_images(u);
    if (u->images != RES_DONE)
        return;
    if (u->network == RES_TODO && create_network(u) != 0)
        cluster__fail(u, UV_EIO, NULL, "%s: cannot create network %s", u->plan.cluster,
                      u->plan.network);
    if (u->network != RES_DONE || u->failing)
        return;
    if (u->events == RES_TODO)
        cluster__watch_events(u);
    if (zk->phase == NODE_TODO)
        create_node(u, zk);
    if (zk->phase < NODE_CREATED || u->failing)
        return;
    /* ZooKeeper's container is ours: the name is reserved. */
    if (u->record == RES_TODO)
        cluster__write_record(u, &u->record, RECORD_CREATING);
    /* The volumes are named after the cluster: made only once the name is
     * ours, or a losing up of the same name would "create" (Docker: find)
     * the winner's and then remove them with what it made. */
    if (u->volumes == RES_TODO)
        create_volumes(u);
    if (u->logs == RES_TODO)
        prepare_logs(u);
    if (u->logs != RES_DONE || u->failing)
        return;
    if (zk->phase == NODE_CREATED && !u->net_blocked)
        start_node(u, zk);
    else if (zk->phase == NODE_RUNNING)
        inspect_node(u, zk);
    if (zk->phase == NODE_READY && u->session == RES_TODO)
        connect_zk(u);
    if (u->session == RES_DONE && u->znodes == RES_TODO)
        write_znodes(u);
    if (u->failing)
        return;
    /* An up creates and starts the service containers while ZooKeeper
     * starts: their agents wait for ZooKeeper and for `boot`, and the
     * znodes are made `wait` by whichever comes first, the agent or
     * write_znodes. They start once ZooKeeper's container runs (its name
     * resolves on the network). A start resets the znodes of the nodes it
     * restarts to `wait` first: an agent that read `up` would start its
     * daemon at once. */
    if (u->volumes != RES_DONE)
        return;
    for (size_t i = 1; i < u->plan.n_nodes && !u->failing; i++) {
        node_rt *n = &u->nodes[i];
        int may_start = u->resume ? u->znodes == RES_DONE : zk->phase >= NODE_INSPECTING;
        if (n->pn->is_client)
            continue;
        if (n->phase == NODE_TODO)
            create_node(u, n);
        else if (n->phase == NODE_CREATED && !u->net_blocked && may_start)
            start_node(u, n);
        else if (n->phase == NODE_RUNNING && may_start)
            inspect_node(u, n);
        all_ready &= n->phase == NODE_READY;
    }
    if (!all_ready || u->znodes != RES_DONE || u->record == RES_BUSY || u->failing)
        return;
    if (u->steps == RES_TODO)
        run_steps(u);
    if (u->steps != RES_DONE || u->failing)
        return;
    if (u->last_record == RES_TODO)
        cluster__write_record(u, &u->last_record, RECORD_UP);
    if (u->last_record != RES_DONE)
        return;
    if (!u->ready)
        succeeded(u);
}

/* `hdc start`, `hdc restart`: everything exists. The containers are
 * known by name; the restarted nodes are to be started, the others only
 * inspected. */
static void resume(up *u) {
    u->resume = 1;
    u->images = u->network = u->record = u->logs = u->volumes = RES_DONE;
    for (size_t i = 0; i < u->plan.n_nodes; i++) {
        node_rt *n = &u->nodes[i];
        n->rerun = 0;
        for (const char *const *h = u->opts.restart; *h != NULL; h++)
            n->rerun |= strcmp(*h, n->pn->hostname) == 0;
        if (n->pn->is_client)
            continue;
        snprintf(n->id, sizeof(n->id), "%s", n->pn->container);
        n->phase = n->rerun ? NODE_CREATED : NODE_RUNNING;
        n->rep.state = CLUSTER_NODE_CREATED;
    }
}

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
    u->ops = opts->ops != NULL ? opts->ops : &cluster_real_ops;
    u->progress = progress;
    u->cb = cb;
    u->data = data;
    u->start_ms = uv_now(loop);
    u->started = (int64_t)time(NULL);
    u->subnet_index = plan_pool_start(&u->opts.pool, u->plan.cluster);
    u->logs_dir = util_asprintf("%s/%s", opts->logs_root, u->plan.cluster);
    u->test_user = strdup(opts->test_user != NULL ? opts->test_user : "hdc");
    u->nodes = calloc(u->plan.n_nodes + 1, sizeof(*u->nodes));
    if (u->nodes == NULL || u->logs_dir == NULL || u->test_user == NULL) {
        cluster__free(u);
        return UV_ENOMEM;
    }
    for (size_t i = 0; i < u->plan.n_nodes; i++) {
        node_rt *n = &u->nodes[i];
        n->u = u;
        n->pn = &u->plan.nodes[i];
        n->logs_ended = 1;
        n->rerun = 1;
        n->rep.cluster = u->plan.cluster;
        n->rep.node = n->pn;
        n->rep.state = CLUSTER_NODE_PLANNED;
    }
    if (opts->restart != NULL)
        resume(u);
    {
        cluster_steps_host host = {
            .loop = loop,
            .d = d,
            .ops = u->ops,
            .plan = &u->plan,
            .test_user = u->test_user,
            .memory_mb = opts->memory_mb,
            .start_ms = u->start_ms,
            .pacer = opts->pacer,
            .nodes = u->nodes,
            .set_state = cluster__node_set_state,
        };
        if ((rc = cluster_steps_new(&host, &u->exec)) != 0) {
            cluster__free(u);
            return rc;
        }
    }
    uv_timer_init(loop, &u->timer);
    u->timer.data = u;
    u->timer_open = 1;
    if (opts->timeout_s > 0)
        uv_timer_start(&u->timer, cluster__deadline, (uint64_t)opts->timeout_s * 1000, 0);
    /* The first calls go out from the loop: nothing is called back from
     * inside cluster_up. */
    cluster__advance(u);
    if (out != NULL)
        *out = (cluster *)u;
    return 0;
}

int cluster_cancel(cluster *c) {
    up *u = (up *)c;

    if (u->ended)
        return UV_EALREADY;
    if (u->ready) {
        u->ended = 1;
        u->ready = 1;
        cluster__advance(u);
        return 0;
    }
    cluster__fail(u, UV_ECANCELED, NULL, "%s: interrupted", u->plan.cluster);
    return 0;
}
