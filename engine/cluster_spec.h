/* A node's container, as `hdc up` and `hdc client` create it, and the
 * images clusters run. Pure: no I/O.
 */
#ifndef HDC_CLUSTER_SPEC_H
#define HDC_CLUSTER_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "docker.h"
#include "hdc/plugin.h"
#include "plan.h"

#define CLUSTER_ZK_IMAGE     "hdc/zookeeper:latest"
#define CLUSTER_BASE_IMAGE   "hdc/base:latest"
#define CLUSTER_CLIENT_IMAGE "hdc/client:latest"

/* ZooKeeper's container: its JVM has -Xmx256m (clusters/zookeeper). */
#define CLUSTER_ZK_MEMORY_MB 512

/* What is fixed when a cluster is created, in labels on every object of
 * it (network, volumes, containers), so that any hdc, anywhere, can tell
 * whose it is and until when: docs/design.md, "State and ownership". */
typedef struct cluster_identity {
    const char *owner;    /* owner.h's name of the process that created it */
    int64_t created;      /* Unix seconds */
    int64_t expires;      /* Unix seconds; 0: no time-to-live (--ttl) */
    const char *logs_dir; /* absolute: where its logs go */
    const char *keys_dir; /* absolute: where its client's key pair goes */
} cluster_identity;

/* Labels of every object of the cluster: hdc.cluster, hdc.dist,
 * hdc.owner, hdc.created, hdc.expires (with a time-to-live), hdc.logs,
 * hdc.keys. out holds CLUSTER_LABELS_MAX; the values point into id, p and
 * bufs. Returns how many. */
#define CLUSTER_LABELS_MAX 12
typedef struct cluster_label_bufs {
    char created[24], expires[24], datanodes[16], memory[16];
} cluster_label_bufs;
size_t cluster_labels(const plan *p, const cluster_identity *id, docker_kv *out,
                      cluster_label_bufs *bufs);

/* The images a cluster runs, as `hdc up` resolved them (images.h,
 * images_resolve): each image its distribution declares, and each of
 * hdc's that a service names by an alias ("hdc/client:latest"), by its
 * identity tag (REPO:id-...), and ZooKeeper's. */
#define CLUSTER_IMAGES_MAX 24
typedef struct cluster_images {
    size_t n;
    char name[CLUSTER_IMAGES_MAX][256]; /* the plugin's image name, or the alias */
    char ref[CLUSTER_IMAGES_MAX][256];
    char zookeeper[256];
    int stand_in; /* they are hdc's test stand-in's (label hdc.stand-in) */
} cluster_images;

/* What runs image (a plugin's image name) of desc: its resolved reference
 * in images (when given and there), else cluster_image_ref's. */
void cluster_images_ref(const cluster_images *images, const hdc_plugin_desc *desc,
                        const char *image, char *out, size_t len);

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
    const char *network;          /* its ID (names can be ambiguous) */
    const cluster_identity *id;   /* its labels; NULL: the cluster's name and plan only */
    unsigned boot_timeout_s;      /* the agent waits that long for `boot`; 0: forever */
    unsigned memory_mb;           /* the cluster's budget (--memory); 0: the declared limits */
    const cluster_images *images; /* as resolved; NULL: cluster_image_ref's and
                                     CLUSTER_ZK_IMAGE */
} cluster_spec_in;

typedef struct cluster_spec {
    docker_container_opts opts; /* points into the buffers below */
    char image[256];
    cluster_label_bufs label_bufs;
    docker_kv labels[CLUSTER_LABELS_MAX + 6];
    char env_buf[40][160];
    const char *env[80];
    const char *cmd[32];
    char ready_port[32], service_arg[80], ready_sh[2048], boot_timeout[16];
    docker_port ports[16];
    char bind_buf[8][256];
    const char *binds[8];
    const char *aliases[1];
} cluster_spec;

void cluster_container_spec(const cluster_spec_in *in, cluster_spec *out);

/* Memory (plugin.h, "Memory"). The cluster's minimum: the declared
 * container memory of every node `hdc up` creates (ZooKeeper's included,
 * the client's not). */
uint64_t cluster_memory_min(const plan *p);
/* A budget of budget_mb (0: none) split among those nodes in proportion to
 * their declared memory: node's container limit and its daemon's heap, MB
 * (ZooKeeper's heap is its image's: 0). A client node gets its declared
 * values (its container no limit unless its service declares memory_mb). */
unsigned cluster_memory_of(const plan *p, const plan_node *n, unsigned budget_mb);
unsigned cluster_heap_of(const plan *p, const plan_node *n, unsigned budget_mb);
/* 0 if budget_mb (> 0) covers the minimum; else PLAN_EINVAL with a
 * message saying the minimum and where it comes from. */
int cluster_memory_check(const plan *p, unsigned budget_mb, char *err, size_t err_len);

/* The image every service of desc runs: a reference as given (with '/' or
 * ':'), else "hdc/<dist>-<image>:latest". */
void cluster_image_ref(const hdc_plugin_desc *desc, const char *image, char *out, size_t len);

#endif
