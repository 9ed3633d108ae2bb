/* Inside `hdc up` (cluster.c, cluster_steps.c): the nodes of an up in
 * flight, and the executor of the plugin's bootstrap steps on them.
 * boot.c decides when each step runs; the executor does it:
 *   BOOT   writes `boot` to every instance's znode
 *   WAIT   watches every instance's znode for `up` (or `failed:`)
 *   EXEC   runs the step's command in every instance (Docker exec), with
 *          the daemon's environment; its output joins the node's log
 *   PROBE  runs the health probe against the service's first instance
 * Nothing outside those two files includes this header.
 */
#ifndef HDC_CLUSTER_STEPS_H
#define HDC_CLUSTER_STEPS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "boot.h"
#include "cluster.h"
#include "docker.h"
#include "logs.h"
#include "plan.h"
#include "zk.h"

struct up; /* the up in flight (cluster.c) */

/* A node of the cluster: cluster.c owns the array and everything in it;
 * the executor reads it and reports through cluster_steps_host.set_state. */
typedef struct cluster_node {
    struct up *u;
    plan_node *pn;
    int phase;                     /* cluster.c's: where its container is */
    int exit_code;                 /* from its `die` event, or -1 */
    char id[128];                  /* the container's ID once created (a start: its name first) */
    docker_port_binding ports[16]; /* host ports, from inspect */
    size_t n_ports;
    logs_sink *sink;   /* its log file, and the tail for messages */
    docker_call *logs; /* following its log, or NULL */
    int logs_ended;
    int rerun; /* it takes part in the steps (every node of an up; the
                  restarted ones of a start) */
    cluster_node_report rep;
    char why[512];
} cluster_node;

/* What the executor works with; borrowed until cluster_steps_free. */
typedef struct cluster_steps_host {
    uv_loop_t *loop;
    docker *d;
    const struct cluster_ops *ops;
    const plan *plan;
    const char *test_user;
    unsigned memory_mb;  /* the cluster's budget (--memory), for the steps' environment */
    uint64_t start_ms;   /* the up's start (uv_now): step times count from it */
    probe_pacer *pacer;  /* shared by the probes, or NULL */
    cluster_node *nodes; /* plan->n_nodes, in plan order */
    /* A node's state changed: BOOTING, UP, or FAILED with why. */
    void (*set_state)(cluster_node *n, enum cluster_node_state state, const char *why);
} cluster_steps_host;

typedef struct cluster_steps cluster_steps;

/* The executor of one up (host is copied). 0 or UV_ENOMEM. */
int cluster_steps_new(const cluster_steps_host *host, cluster_steps **out);

/* Runs the plugin's steps (boot_run with this executor) with the
 * cluster's ZooKeeper session: cb as boot_run's. */
int cluster_steps_run(cluster_steps *s, zk_session *zk, boot_done_cb cb, void *data,
                      boot_dag **dag);

/* After a failed step: the node its failure names (its log tail belongs
 * in the message), or NULL. */
cluster_node *cluster_steps_blamed(const cluster_steps *s);

/* After step's deadline passed: appends where it was still at work to msg
 * (with what an EXEC command had printed) and returns that node, or NULL. */
cluster_node *cluster_steps_explain(const cluster_steps *s, const char *step, char *msg,
                                    size_t msg_len);

/* When each step started and ended, in ms since the host's start_ms, in
 * descriptor order (0: not reached). Borrowed until cluster_steps_free. */
void cluster_steps_times(const cluster_steps *s, const char *const **names, const uint64_t **start,
                         const uint64_t **end, size_t *n);

void cluster_steps_free(cluster_steps *s);

#endif
