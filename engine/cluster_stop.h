/* `hdc stop` and the first half of `hdc restart`: a cluster's containers
 * stopped, their data kept (nothing is removed), ZooKeeper last, so that
 * no agent loses its rendezvous while its daemon still runs. A whole
 * cluster's record says `stopped` first (cluster_record.h), so that
 * `hdc ls` and `hdc gc` judge it stopped, not degraded, as it goes down.
 *
 * Conventions, as in libuv: calls return 0 or a negative error; when one
 * fails its callback is never called, when it succeeds the callback is
 * called exactly once, never from inside the call.
 */
#ifndef HDC_CLUSTER_STOP_H
#define HDC_CLUSTER_STOP_H

#include <stddef.h>
#include <uv.h>

#include "cluster_query.h"
#include "cluster_survey.h"
#include "docker.h"

/* Seconds a daemon has between SIGTERM and SIGKILL (Docker's default). */
#define CLUSTER_STOP_GRACE_S 10

/* Which of list the names in only (hostnames, or services: every
 * instance) choose: chosen[i] set to 1 or 0; n_only 0 chooses all. 0, or
 * UV_EINVAL with *unknown the first name that chooses nothing. Pure. */
int cluster_stop_select(const cluster_container *list, size_t n, const char *const *only,
                        size_t n_only, unsigned char *chosen, const char **unknown);

/* stopped: the containers stopped (those already stopped count too). msg
 * says what failed, naming the container. */
typedef void (*cluster_stop_cb)(void *data, int status, const char *msg, size_t stopped);

/* Stops the containers of ci (as cluster_survey gave it; copied) that
 * only (borrowed until cb) chooses (n_only 0: all of them, the client's too, and the record
 * then says `stopped`, its holder kept). An unknown name in only fails
 * the stop before anything is stopped (UV_EINVAL, msg naming it). */
int cluster_stop(uv_loop_t *loop, docker *d, const cluster_info *ci, const char *const *only,
                 size_t n_only, cluster_stop_cb cb, void *data);

#endif
