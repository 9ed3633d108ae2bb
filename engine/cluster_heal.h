/* Undoing the faults `hdc fault` leaves on a cluster's nodes: a paused
 * node is unpaused, a node taken off its network (hdc_<cluster>) is joined
 * to it again at its own static address, with its hostname as its alias.
 * `hdc down` and `hdc gc` heal a cluster before they remove it, `hdc fault`
 * heals the nodes it faulted when its time is up.
 *
 * Conventions, as in libuv: calls return 0 or a negative error; when one
 * fails its callback is never called, when it succeeds the callback is
 * called exactly once, never from inside the call.
 */
#ifndef HDC_CLUSTER_HEAL_H
#define HDC_CLUSTER_HEAL_H

#include <stddef.h>
#include <uv.h>

#include "docker.h"

/* What to undo. */
#define CLUSTER_HEAL_UNPAUSE   1u
#define CLUSTER_HEAL_RECONNECT 2u
#define CLUSTER_HEAL_ALL       (CLUSTER_HEAL_UNPAUSE | CLUSTER_HEAL_RECONNECT)

/* healed: how many nodes were unpaused or reconnected. status: 0, or the
 * first failure, with msg naming the node and what failed ("datanode1:
 * network connect: ..."); the other nodes are healed all the same. */
typedef void (*cluster_heal_cb)(void *data, int status, const char *msg, unsigned healed);

/* Every node of cluster name (NULL: of every cluster) unpaused and joined
 * to its network again, running or not. */
int cluster_heal(uv_loop_t *loop, docker *d, const char *name, cluster_heal_cb cb, void *data);

/* The same for the containers named (names or IDs, of any cluster), and
 * only what `what` says. */
int cluster_heal_nodes(uv_loop_t *loop, docker *d, const char *const *containers, size_t n,
                       unsigned what, cluster_heal_cb cb, void *data);

/* The network of cluster name ("hdc_<name>") into out. */
void cluster_network_name(const char *name, char *out, size_t len);

/* Where the node of info sits on its cluster's network, whether it is on
 * it now or not: its label hdc.address, else its own line of the
 * /etc/hosts entries it was created with (clusters made before the label).
 * 0 and the address in out, or UV_ENOENT. Pure. */
int cluster_node_address(const docker_container_info *info, char *out, size_t len);

/* Whether the node of info is on its cluster's network now. Pure. */
int cluster_node_connected(const docker_container_info *info);

#endif
