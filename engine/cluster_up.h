/* The state of one `hdc up`, shared by the three files of the up:
 * cluster.c (the resources and the transition function, advance),
 * cluster_watch.c (the events streams it watches) and cluster_end.c
 * (winding down and the report). Internal to the cluster module: nothing
 * else includes it. The design is cluster.c's opening comment.
 */
#ifndef HDC_CLUSTER_UP_H
#define HDC_CLUSTER_UP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "cluster.h"
#include "cluster_ops.h"
#include "cluster_record.h"
#include "cluster_steps.h"
#include "logs.h"

#define LOG_SETTLE_MS         1000
#define NETWORK_WAIT_S        60 /* for another network of our name to go */
#define ZK_CONNECT_TIMEOUT_MS 60000
#define ZK_SESSION_TIMEOUT_MS 40000

typedef struct up up;
typedef cluster_node node_rt;

/* Where a resource of the cluster is. */
enum res { RES_TODO, RES_BUSY, RES_DONE };

/* Where a node's container is (cluster_node.phase). */
enum node_phase {
    NODE_TODO,
    NODE_CREATING,
    NODE_CREATED,
    NODE_RUNNING, /* `hdc start`: left running, its ports to be read */
    NODE_STARTING,
    NODE_INSPECTING, /* started: its published ports being read */
    NODE_READY,
};

struct up {
    uv_loop_t *loop;
    docker *d;
    const cluster_ops *ops;
    cluster_up_opts opts;
    char *logs_dir, *test_user;
    cluster_progress_cb progress;
    cluster_up_cb cb;
    void *data;
    plan plan;
    node_rt *nodes; /* plan.n_nodes; ZooKeeper first */
    uint64_t start_ms;
    int64_t started; /* Unix seconds */
    int resume;      /* `hdc start`, `hdc restart` (opts.restart) */

    /* The resources, in the order an up needs them. */
    enum res images, network, events, record, logs, session, znodes, volumes, steps, last_record;
    size_t images_pending, znodes_pending, volumes_pending;
    int images_missing;
    char missing[2048]; /* the images not there, for the message */
    char network_id[80];
    uint32_t subnet_index, subnet_tries;
    docker_call *events_call;
    /* Another network of our name, for a moment (see watch_networks). */
    enum res netwatch;
    docker_call *netwatch_call;
    int net_blocked; /* a start waits for it to go */
    uv_work_t logs_work;
    int logs_rc;
    char logs_err[1024];
    char *logs_backup; /* where a previous run's logs went, or NULL */
    zk_session *zk;
    int zk_closing; /* zk_close asked: zk_closed follows */
    cluster_steps *exec;
    boot_dag *dag;
    uv_timer_t timer; /* the whole-up deadline, then log settling */
    int timer_open;

    /* Phases' ends, in ms since the start (0 if not reached). */
    uint64_t network_ms, zookeeper_ms, containers_ms, steps_ms, ready_ms;
    cluster_endpoint *endpoints;
    size_t n_endpoints;

    /* The end. */
    int status;       /* the outcome once decided, else 0 */
    int failing;      /* a failure is decided */
    int ready;        /* success: up, the record written */
    int ended;        /* wind_down under way */
    int settling;     /* waiting for the dead node's last log lines */
    int lost_race;    /* another up of this name holds it */
    int removed;      /* a `hdc down` of this name removes it */
    int died;         /* the failure is a container's death, said so */
    enum res autopsy; /* a failed step's node: did it die? */
    const char *failed_step;
    size_t inflight; /* calls and work started and not yet called back */
    int sinks_open;
    node_rt *dead; /* the node whose death failed the up */
    char message[8192];
};

/* ---- cluster.c ---- */

/* Starts what the resources' states allow, or winds down (the one place
 * that starts work: every callback records its outcome, then calls it). */
void cluster__advance(up *u);
/* The first failure decides the outcome (later ones are dropped); node,
 * when one is to blame, is marked failed; then advance. */
void cluster__fail(up *u, int status, node_rt *node, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A call's or a piece of work's callback has come (inflight). */
void cluster__landed(up *u);
uint64_t cluster__elapsed(const up *u);
void cluster__node_set_state(node_rt *n, enum cluster_node_state state, const char *why);
node_rt *cluster__node_by_container(up *u, const char *name_or_id);
/* Writes the record into ZooKeeper's container: which is the resource. */
void cluster__write_record(up *u, enum res *which, enum cluster_record_state state);

/* ---- cluster_watch.c ---- */

/* From the network on: the cluster's containers dying or being removed. */
void cluster__watch_events(up *u);
/* Another network of our name: waits for its destroy. */
void cluster__watch_networks(up *u);

/* ---- cluster_end.c ---- */

/* Stops everything, once; reports when all has called back. */
void cluster__wind_down(up *u);
/* A container died: its log stream has a moment to end. */
void cluster__settle(up *u);
/* The report as it stands, to cb (the final callback, or on_ready). */
void cluster__report_to(up *u, cluster_up_cb cb);
/* --timeout passed. */
void cluster__deadline(uv_timer_t *t);
/* Frees the up (after its report, or when cluster_up fails). */
void cluster__free(up *u);

#endif
