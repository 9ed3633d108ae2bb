/* `hdc up` of one cluster: create it on Docker and run its bootstrap. The
 * bootstrap protocol is docs/design.md; the steps' executor is
 * cluster_steps.c, a node's container cluster_spec.c, and the clusters
 * found by label cluster_query.c.
 *
 * Conventions, as in libuv: calls return 0 or a negative error; when one
 * fails its callback is never called, when it succeeds the callback is
 * called exactly once, never from inside the call.
 */
#ifndef HDC_CLUSTER_H
#define HDC_CLUSTER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "cluster_spec.h"
#include "docker.h"
#include "err.h" /* CLUSTER_EEXISTS, CLUSTER_ENOIMAGE, CLUSTER_EFAILED */
#include "hdc/plugin.h"
#include "plan.h"
#include "probe.h"

struct cluster_ops;

#define CLUSTER_LOG_TAIL_LINES 20

enum cluster_node_state {
    CLUSTER_NODE_PLANNED,
    CLUSTER_NODE_CREATED, /* the container exists */
    CLUSTER_NODE_WAITING, /* it runs; its agent waits for `boot` */
    CLUSTER_NODE_BOOTING, /* `boot` written */
    CLUSTER_NODE_UP,
    CLUSTER_NODE_FAILED,
};

typedef struct cluster cluster;
struct cluster_report;

typedef struct cluster_up_opts {
    plan_pool pool;        /* where another subnet is taken when the plan's
                                overlaps a network in use */
    unsigned timeout_s;    /* the whole `up`; 0: only the steps' deadlines */
    int publish_classic;   /* host port = container port */
    int rm_on_failure;     /* remove what was created if the up fails */
    int follow;            /* after success, go on writing logs until canceled */
    const char *logs_root; /* "logs": the cluster's go to <root>/<name>/; a
                                     previous run's are moved to <root>.backup.<pid>/ */
    const char *test_user; /* HDC_TEST_USER; NULL: "hdc" */
    /* Labels of every object it creates: owner, time-to-live, paths
     * (borrowed until the callback); NULL: the cluster's name and plan only. */
    const cluster_identity *id;
    int held;                      /* the cluster lives only while its owner runs
                                (hdc matrix): its record names the owner */
    unsigned boot_timeout_s;       /* the agents give up on `boot` after it; 0: never */
    const struct cluster_ops *ops; /* Docker, ZooKeeper, probes; NULL: the real ones */
    /* With follow: called once when the cluster is up (the report as the
     * final callback would give it), before the logs go on. */
    void (*on_ready)(void *data, const struct cluster_report *report);
    /* `hdc start`, `hdc restart`: the cluster exists and nothing is
     * created (no image check, no network, no volume; the logs are not
     * moved aside). The nodes whose hostnames restart lists
     * (NULL-terminated) are started again, ZooKeeper first if listed: their
     * znodes are reset to `wait` before their containers start, then the
     * plugin's steps of their services run again (probes all run). The
     * other nodes must be running: they are only inspected (their ports).
     * On success the record says `up` again, with holder; a failure
     * leaves the record as it was. NULL: an up. */
    const char *const *restart;
    const char *holder; /* with restart: the record's holder, kept ("" or NULL: none) */
    /* The cluster's memory budget (--memory), MB, split among its
     * containers (cluster_memory_of); 0: each its declared limit. */
    unsigned memory_mb;
    /* The cap every probe of the ups it is shared by keeps (a fleet's);
     * borrowed until the callback. NULL: none. */
    probe_pacer *pacer;
    /* The images to run, resolved by identity (images_resolve); borrowed
     * until the callback. NULL: REPO:latest (cluster_image_ref). */
    const cluster_images *images;
} cluster_up_opts;

/* A node as the progress callback and the report see it. Borrowed. */
typedef struct cluster_node_report {
    const char *cluster;
    const plan_node *node;
    enum cluster_node_state state;
    uint64_t elapsed_ms; /* since the up started, at this state */
    const char *why;     /* FAILED: the reason, else NULL */
} cluster_node_report;

typedef struct cluster_endpoint {
    const char *service;
    const char *hostname;
    const char *role;
    int port;      /* in the container */
    int host_port; /* on 127.0.0.1 */
} cluster_endpoint;

/* The outcome. Borrowed: valid only during the callback. */
typedef struct cluster_report {
    int status;          /* 0, CLUSTER_E*, DOCKER_E*, UV_ECANCELED, ... */
    const char *message; /* NULL on success; else what failed, where, and
                                     the last lines of the service's log */
    const plan *plan;
    const cluster_node_report *nodes; /* plan->n_nodes, in plan order */
    const cluster_endpoint *endpoints;
    size_t n_endpoints;
    /* Phases, in ms since the start (0 if not reached). */
    uint64_t network_ms, zookeeper_ms, containers_ms, steps_ms, total_ms;
    const char *const *step_names; /* the steps in descriptor order */
    const uint64_t *step_start_ms; /* since the start */
    const uint64_t *step_end_ms;
    size_t n_steps;
    const char *logs_dir;    /* <root>/<cluster> */
    const char *logs_backup; /* where a previous run's logs went, or NULL */
} cluster_report;

typedef void (*cluster_progress_cb)(void *data, const cluster_node_report *node);
typedef void (*cluster_up_cb)(void *data, const cluster_report *report);

/* Creates the cluster p plans (plan_make, in subnet plan_pool_start of
 * opts->pool) on d and bootstraps it. p is handed over: cluster_up moves
 * it into the up and leaves *p empty, whatever it returns. progress
 * (optional) hears every node state change. cb gets the report when the
 * cluster is up (every step done, every probe green) or at the first
 * failure; with opts->follow, after a success, only once cluster_cancel is
 * called (the logs are written until then). *out (optional) is valid until
 * cb. */
int cluster_up(uv_loop_t *loop, docker *d, plan *p, const cluster_up_opts *opts,
               cluster_progress_cb progress, cluster_up_cb cb, void *data, cluster **out);

/* Stops an up under way (as a failure, UV_ECANCELED), or ends --follow. */
int cluster_cancel(cluster *c);

const char *cluster_node_state_name(enum cluster_node_state s);

#endif
