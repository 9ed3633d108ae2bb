/* A cluster on Docker: `hdc up` (create it and run its bootstrap), and the
 * calls that find, describe and remove clusters by their labels (`hdc ls`,
 * `status`, `down`, `gc`). The bootstrap protocol is docs/architecture.md.
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

#include "docker.h"
#include "err.h" /* CLUSTER_EEXISTS, CLUSTER_ENOIMAGE, CLUSTER_EFAILED */
#include "hdc/plugin.h"
#include "plan.h"

#define CLUSTER_ZK_IMAGE       "hdc/zookeeper:latest"
#define CLUSTER_BASE_IMAGE     "hdc/base:latest"
#define CLUSTER_CLIENT_IMAGE   "hdc/client:latest"
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
    const hdc_plugin_desc *desc;
    const char *name;
    unsigned datanodes;
    unsigned timeout_s;      /* the whole `up`; 0: only the steps' deadlines */
    int publish_classic;     /* host port = container port */
    int rm_on_failure;       /* remove what was created if the up fails */
    int follow;              /* after success, go on writing logs until canceled */
    const char *logs_root;   /* "logs": the cluster's go to <root>/<name>/; a
                                     previous run's are moved to <root>.backup.<pid>/ */
    const char *test_user;   /* HDC_TEST_USER; NULL: "hdc" */
    const char *subnet_pool; /* HDC_SUBNET_POOL; NULL: the default */
    /* With follow: called once when the cluster is up (the report as the
     * final callback would give it), before the logs go on. */
    void (*on_ready)(void *data, const struct cluster_report *report);
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

/* Creates cluster opts->name of opts->desc on d and bootstraps it. progress
 * (optional) hears every node state change. cb gets the report when the
 * cluster is up (every step done, every probe green) or at the first
 * failure; with opts->follow, after a success, only once cluster_cancel is
 * called (the logs are written until then). *out (optional) is valid until
 * cb. */
int cluster_up(uv_loop_t *loop, docker *d, const cluster_up_opts *opts,
               cluster_progress_cb progress, cluster_up_cb cb, void *data, cluster **out);

/* Stops an up under way (as a failure, UV_ECANCELED), or ends --follow. */
int cluster_cancel(cluster *c);

/* ---- clusters found by label ------------------------------------------- */

/* Removes everything labelled hdc.cluster=name: containers (with their
 * anonymous volumes), then the network, then the named volumes. name NULL:
 * every hdc object (down --all). removed counts the objects removed. */
typedef void (*cluster_down_cb)(void *data, int status, const char *msg, unsigned removed);
int cluster_down(uv_loop_t *loop, docker *d, const char *name, cluster_down_cb cb, void *data);

/* A container of a cluster, as `hdc ls` and `hdc status` show it. */
typedef struct cluster_container {
    const char *cluster, *dist, *service, *hostname, *name, *state, *address;
    int exit_code;
    int64_t created; /* Unix seconds */
    const docker_port_binding *ports;
    size_t n_ports;
} cluster_container;

/* Every container labelled hdc.cluster (=name, or any when NULL), sorted
 * by cluster then name. Borrowed for the callback. */
typedef void (*cluster_list_cb)(void *data, int status, const char *msg,
                                const cluster_container *list, size_t n);
int cluster_list(uv_loop_t *loop, docker *d, const char *name, cluster_list_cb cb, void *data);

/* A node's container, as `hdc up` (and `hdc client`) create it: image,
 * hostname, static address, every node in /etc/hosts, labels, the HDC_*
 * environment, ports published on 127.0.0.1, shared volumes, and the
 * agent's arguments. */
typedef struct cluster_spec_in {
    const plan *plan;
    const plan_node *node;
    const hdc_plugin_desc *image_desc; /* whose image; NULL: the plan's */
    const char *test_user;
    int publish_classic;
    const char *host_port_of; /* publish this port role on host_port */
    uint16_t host_port;
    const char *const *extra_env; /* more KEY=VALUE */
    size_t n_extra_env;
    const char *network; /* its ID (names can be ambiguous) */
} cluster_spec_in;

typedef struct cluster_spec {
    docker_container_opts opts; /* points into the buffers below */
    char image[256];
    char label_buf[5][96];
    docker_kv labels[5];
    char env_buf[8][160];
    const char *env[48];
    const char *cmd[32];
    char ready_port[32], service_arg[80], ready_sh[2048];
    docker_port ports[16];
    char bind_buf[8][256];
    const char *binds[8];
    const char *aliases[1];
} cluster_spec;

void cluster_container_spec(const cluster_spec_in *in, cluster_spec *out);

/* The image every service of desc runs: a reference as given (with '/' or
 * ':'), else "hdc/<dist>-<image>:latest". */
void cluster_image_ref(const hdc_plugin_desc *desc, const char *image, char *out, size_t len);

const char *cluster_node_state_name(enum cluster_node_state s);

#endif
