/* The real operations of an up (cluster_ops.h): Docker, ZooKeeper and the
 * probes themselves. */
#include "cluster_ops.h"

const cluster_ops cluster_real_ops = {
    .image_inspect = docker_image_inspect,
    .network_create = docker_network_create,
    .network_remove = docker_network_remove,
    .volume_create = docker_volume_create,
    .container_create = docker_container_create,
    .container_start = docker_container_start,
    .container_inspect = docker_container_inspect,
    .container_put_archive = docker_container_put_archive,
    .logs = docker_logs,
    .events = docker_events,
    .exec = docker_exec,
    .call_cancel = docker_call_cancel,
    .down = cluster_down,
    .zk_connect = zk_connect,
    .zk_close = zk_close,
    .zk_session_error = zk_session_error,
    .zk_create = zk_create,
    .zk_set = zk_set,
    .zk_wait_for = zk_wait_for,
    .zk_wait_cancel = zk_wait_cancel,
    .probe_start = probe_start,
    .probe_cancel = probe_cancel,
};
