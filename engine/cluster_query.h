/* Clusters found by their labels: what `hdc ls`, `status`, `down`, `gc`,
 * `logs`, `exec` and `export-logs` ask Docker.
 *
 * Conventions, as in libuv: calls return 0 or a negative error; when one
 * fails its callback is never called, when it succeeds the callback is
 * called exactly once, never from inside the call.
 */
#ifndef HDC_CLUSTER_QUERY_H
#define HDC_CLUSTER_QUERY_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "docker.h"

/* Removes everything labelled hdc.cluster=name: containers (with their
 * anonymous volumes), then the network, then the named volumes. name NULL:
 * every hdc object (down --all). removed counts the objects removed. The
 * nodes are healed first (cluster_heal): unpaused, and back on their
 * network. */
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

/* Whether a container in that state may be in use: anything but exited or
 * dead (created is an `hdc up` at work, restarting is Docker's). */
int cluster_container_active(const char *state);

#endif
