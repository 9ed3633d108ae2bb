/* The operations an up (cluster.c, cluster_steps.c) performs on Docker,
 * ZooKeeper and the services' endpoints, as a table: cluster_real_ops
 * calls the real modules; tests/unit/test_cluster.c gives fakes that drive
 * every phase of an up without a daemon. Each member has the type of the
 * function it stands for, under the same contract (0 or a negative error;
 * the callback exactly once, never from inside the call).
 */
#ifndef HDC_CLUSTER_OPS_H
#define HDC_CLUSTER_OPS_H

#include <stddef.h>
#include <uv.h>

#include "cluster_query.h"
#include "docker.h"
#include "probe.h"
#include "zk.h"

typedef struct cluster_ops {
    int (*image_inspect)(docker *d, const char *name, docker_image_cb cb, void *data,
                         docker_call **out);
    int (*network_create)(docker *d, const docker_network_opts *opts, docker_id_cb cb, void *data,
                          docker_call **out);
    int (*network_remove)(docker *d, const char *name, docker_cb cb, void *data, docker_call **out);
    int (*volume_create)(docker *d, const char *name, const docker_kv *labels, size_t n_labels,
                         docker_cb cb, void *data, docker_call **out);
    int (*container_create)(docker *d, const docker_container_opts *opts, docker_id_cb cb,
                            void *data, docker_call **out);
    int (*container_start)(docker *d, const char *id, docker_cb cb, void *data, docker_call **out);
    int (*container_inspect)(docker *d, const char *id, docker_container_cb cb, void *data,
                             docker_call **out);
    /* The record (cluster_record.h); NULL: the up keeps none. */
    int (*container_put_archive)(docker *d, const char *id, const char *dir, const void *tar,
                                 size_t len, docker_cb cb, void *data, docker_call **out);
    int (*logs)(docker *d, const char *id, const docker_logs_opts *opts, docker_output_cb on_output,
                docker_cb cb, void *data, docker_call **out);
    int (*events)(docker *d, const docker_events_opts *opts, docker_event_cb on_event, docker_cb cb,
                  void *data, docker_call **out);
    int (*exec)(docker *d, const char *id, const docker_exec_opts *opts, docker_output_cb on_output,
                docker_exec_cb cb, void *data, docker_call **out);
    int (*call_cancel)(docker_call *c);
    int (*down)(uv_loop_t *loop, docker *d, const char *name, cluster_down_cb cb, void *data);

    int (*zk_connect)(uv_loop_t *loop, const zk_options *opts, zk_session **out, zk_connect_cb cb,
                      void *data);
    int (*zk_close)(zk_session *s, zk_close_cb cb, void *data);
    const char *(*zk_session_error)(const zk_session *s);
    int (*zk_create)(zk_session *s, const char *path, const void *value, size_t len, unsigned flags,
                     zk_done_cb cb, void *data);
    int (*zk_set)(zk_session *s, const char *path, const void *value, size_t len, zk_done_cb cb,
                  void *data);
    int (*zk_wait_for)(zk_session *s, const char *path, const char *const *accept,
                       uint64_t timeout_ms, zk_wait_cb cb, void *data, zk_wait **out);
    int (*zk_wait_cancel)(zk_wait *w);

    int (*probe_start)(uv_loop_t *loop, const probe_target *target, uint64_t timeout_ms,
                       probe_cb cb, void *data, probe **out);
    int (*probe_cancel)(probe *p);
} cluster_ops;

extern const cluster_ops cluster_real_ops;

#endif
