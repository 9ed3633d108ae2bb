/* What each cluster on the engine is, all told: its containers, network
 * and volumes found by label, the identity its labels fix (owner,
 * time-to-live, paths), the record kept in its ZooKeeper container, and
 * from them one state (cluster_record.h): what `hdc ls` shows, what `hdc
 * gc` removes, what `hdc up -y` may replace.
 *
 * The census is pure (objects in, clusters out) so tests give it objects;
 * cluster_survey asks Docker for them and for the records.
 *
 * Conventions, as in libuv: calls return 0 or a negative error; when one
 * fails its callback is never called, when it succeeds the callback is
 * called exactly once, never from inside the call.
 */
#ifndef HDC_CLUSTER_SURVEY_H
#define HDC_CLUSTER_SURVEY_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "cluster_record.h"
#include "docker.h"
#include "owner.h"

typedef struct cluster_info {
    char *name, *dist;
    unsigned datanodes;        /* hdc.datanodes, or 0 */
    char *test_user;           /* hdc.test-user (its up's --test-user), or NULL */
    unsigned memory_mb;        /* hdc.memory (its up's --memory), or 0 */
    char *owner;               /* hdc.owner, or NULL (made before owners) */
    char *logs_dir, *keys_dir; /* hdc.logs, hdc.keys, or NULL */
    int64_t created;           /* hdc.created, else its oldest container's; 0: unknown */
    int64_t expires;           /* hdc.expires; 0: no time-to-live */
    size_t containers;         /* the client's included */
    size_t running;            /* of those, running, restarting or paused */
    size_t networks, volumes;
    char *zookeeper;              /* the ID of its ZooKeeper container, or NULL */
    int has_record;               /* the record could be read */
    cluster_record record;        /* if has_record */
    enum owner_liveness owner_is; /* the owner's, and the record's holder's */
    enum owner_liveness holder_is;
    enum cluster_state state;
} cluster_info;

/* The clusters, sorted by name once judged. */
typedef struct cluster_census {
    cluster_info *list;
    size_t n, cap;
} cluster_census;

enum cluster_object_kind { CLUSTER_CONTAINERS, CLUSTER_NETWORKS, CLUSTER_VOLUMES };

/* Counts objects (as docker_*_list gives them) into the clusters their
 * hdc.cluster label names; an object without one is skipped. 0 or
 * UV_ENOMEM. */
int cluster_census_add(cluster_census *c, enum cluster_object_kind kind, const docker_object *objs,
                       size_t n);

/* Sorts the clusters and gives each its liveness and state at now (Unix
 * seconds), from its records as read (has_record) and owner_liveness. */
void cluster_census_judge(cluster_census *c, int64_t now);

void cluster_census_free(cluster_census *c);

/* Every cluster (name NULL), or the one named (then n is 0 or 1). The
 * list is borrowed for the callback. */
typedef void (*cluster_survey_cb)(void *data, int status, const char *msg, const cluster_info *list,
                                  size_t n);
int cluster_survey(uv_loop_t *loop, docker *d, const char *name, cluster_survey_cb cb, void *data);

/* A held cluster (hdc matrix's) let go: its record rewritten without a
 * holder, so that it outlives the command (matrix --keep). cb: 0, or why
 * not (no such cluster, or no record to rewrite: DOCKER_ENOTFOUND). */
typedef void (*cluster_release_cb)(void *data, int status, const char *msg);
int cluster_release(uv_loop_t *loop, docker *d, const char *name, cluster_release_cb cb,
                    void *data);

#endif
