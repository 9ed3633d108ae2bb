/* hdc plugin ABI: the one header a distribution plugin includes.
 *
 * The model. A plugin is a shared object (apache_2.6.0.so) that exports
 * exactly one symbol, `hdc_plugin`: a const hdc_plugin_desc. The descriptor
 * is plain data saying what a cluster of this distribution is made of:
 *
 *   images    what to build (a build context under hdc's clusters/ directory)
 *   services  the containers (image, hostname, ports by role, environment,
 *             volumes, the daemon hdc-agent starts and its readiness check,
 *             how many instances)
 *   steps     the bootstrap, as a DAG: boot a service, wait until it is up,
 *             exec a command in it, probe it; each with a deadline
 *   probes    HTTP health checks: a service's port (by role), a path, and a
 *             predicate on the JSON answer, as data or as a callback
 *
 * hdc does all the I/O (Docker, ZooKeeper, HTTP): a plugin never sees libuv,
 * sockets or the Docker API. hdc checks the first two fields (ABI version
 * and descriptor size) before it reads anything else, then validates the
 * whole descriptor, and refuses the plugin, naming the file and the reason,
 * if anything is wrong.
 *
 * How the ABI evolves (docs/plugins.md, "How the ABI evolves"). A plugin
 * built against an older header keeps loading in a newer hdc:
 * - The structs that can grow are the descriptor and the four it lists
 *   (hdc_image, hdc_service, hdc_step, hdc_probe). The descriptor carries
 *   its own size and, through HDC_PLUGIN_HEADER, the size of each of them
 *   as the plugin was built (image_size, ...): hdc walks a plugin's arrays
 *   with the plugin's sizes, never its own.
 * - Fields are only ever appended, never removed, reordered or retyped.
 *   A field that an older (smaller) struct lacks reads as zero, and zero
 *   always means the default; hdc copies an older descriptor into the
 *   current layout, zero-filled, when it loads it.
 * - A size of 0 in the descriptor, or a descriptor that ends before that
 *   size field, means the first layout's (HDC_PLUGIN_ABI_VERSION 1 as
 *   first published, without these fields).
 * - A plugin built against a newer header than hdc's is refused when any
 *   of its sizes is bigger than hdc knows, and says to upgrade hdc: hdc
 *   cannot tell whether it may ignore what it does not know.
 * - hdc_host and hdc_probe_ctx are filled by hdc and only grow by
 *   appending; the descriptor says which sizes the plugin was built with
 *   (host_size, ctx_size), and hdc refuses a plugin that expects more than
 *   it gives.
 * - hdc_artifact, hdc_port, hdc_volume and hdc_check are frozen: what
 *   they would need goes in a new field of the struct that lists them.
 * - HDC_PLUGIN_ABI_VERSION changes only with an incompatible change (one
 *   these rules do not allow); hdc then refuses every other version with a
 *   message saying to rebuild the plugin against the new header.
 *
 * Conventions.
 * - Lists end with an empty element: arrays of structs with {0} (their
 *   first field NULL), lists of strings with NULL (see HDC_LIST).
 * - Everything is borrowed from the plugin and must stay valid while it is
 *   loaded: use static storage (string literals, static const arrays).
 * - Commands (daemon, ready, exec steps) are shell text, run with /bin/sh -c
 *   inside the container, with these variables set by hdc:
 *     HDC_CLUSTER    the cluster's name (apache260)
 *     HDC_DIST       the distribution (the descriptor's name)
 *     HDC_SERVICE    the service's name (datanode)
 *     HDC_INSTANCE   the instance number, 1..N
 *     HDC_DATANODES  the requested datanode count (hdc up --datanodes N)
 *     HDC_TEST_USER  the test user's login on the client node
 *     HDC_ZK         ZooKeeper's address (zookeeper:2181)
 * - A service's env may set HDC_LOG_DIRS=dir[:dir...]: the directories
 *   where its daemon writes its own logs, which `hdc export-logs` copies out.
 * - Hostnames: a service with one instance has its hostname; instance i of
 *   a service that can have several is <hostname><i> (datanode1, datanode2).
 * - Memory: hdc creates every service's container with a memory limit
 *   (no swap) and gives its daemon a maximum heap, both declared per
 *   service (hdc_service.heap_mb, memory_mb) and read by the daemon from
 *     HDC_HEAP_MB    its maximum heap (-Xmx), MB
 *     HDC_MEMORY_MB  its container's limit, MB
 *     HDC_HEAP_<SERVICE>, HDC_MEMORY_<SERVICE>
 *                    the same for every service of the cluster (the name in
 *                    capitals, '-' as '_': HDC_MEMORY_NODEMANAGER), so that
 *                    any node can write the cluster's configuration
 *   `hdc up --memory MB` scales every container of the cluster (ZooKeeper's
 *   included, the client's not) by the same factor from those declared
 *   values, which are therefore also the minimum.
 * - The engine runs ZooKeeper itself: no plugin service may be called
 *   "zookeeper".
 *
 * Build a plugin with -fvisibility=hidden so that hdc_plugin, marked with
 * HDC_PLUGIN_EXPORT, is the only symbol it exports. docs/plugins.md has an
 * example.
 */
#ifndef HDC_PLUGIN_H
#define HDC_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HDC_PLUGIN_ABI_VERSION 1
#define HDC_PLUGIN_SYMBOL      "hdc_plugin"

#if defined(__GNUC__)
#define HDC_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define HDC_PLUGIN_EXPORT
#endif

/* A NULL-terminated list of strings, for env, build_args and after. */
#define HDC_LIST(...) ((const char *const[]){__VA_ARGS__, NULL})

/* The layout fields of every descriptor: its ABI version and the sizes of
 * the structs this plugin is built with. */
#define HDC_PLUGIN_HEADER                                                                          \
    .abi_version = HDC_PLUGIN_ABI_VERSION, .size = sizeof(hdc_plugin_desc),                        \
    .image_size = sizeof(hdc_image), .service_size = sizeof(hdc_service),                          \
    .step_size = sizeof(hdc_step), .probe_size = sizeof(hdc_probe), .host_size = sizeof(hdc_host), \
    .ctx_size = sizeof(hdc_probe_ctx)

/* hdc_service.heap_mb and memory_mb when 0: a small daemon's. */
#define HDC_DEFAULT_HEAP_MB 256
/* memory_mb when 0: heap_mb plus this much for the JVM beyond its heap
 * (metaspace, threads, code cache, direct buffers). */
#define HDC_DEFAULT_OVERHEAD_MB 256

/* hdc_service.instances: as many as `hdc up --datanodes N` asks (default 1). */
#define HDC_COUNT_DATANODES (-1)

/* A file the engine fetches into an image's build context before building:
 * from the cache directory (--dist-cache DIR, HDC_DIST_CACHE, else
 * ~/.cache/hdc/dist) when it is there, else downloaded from url into it;
 * checked either way against sha512, or when sha512 is NULL against the
 * checksum published next to url (<url>.sha512, or <url>.mds) or a
 * <file>.sha512 next to the cached file. `hdc build --hadoop-tarball FILE`
 * stands for the first artifact of every image (not checked: the user
 * chose it). */
typedef struct hdc_artifact {
    const char *file; /* name in the build context: "hadoop-2.6.0.tar.gz" */
    const char *url;
    const char *sha512; /* 128 hex digits, or NULL: the published one */
} hdc_artifact;

typedef struct hdc_image {
    const char *name;              /* "hadoop"; services refer to it */
    const char *context;           /* directory under clusters/: "apache", or an
                                        absolute path (a plugin's own, out of tree) */
    const char *const *build_args; /* "KEY=VALUE", NULL-terminated, or NULL */
    const hdc_artifact *artifacts; /* {0}-terminated, or NULL */
} hdc_image;

/* A container port. The role names it for probes and for `hdc status`:
 * "http-ui", "rpc", "ipc", "data", ... (free text, unique in its service).
 * hdc publishes every port on 127.0.0.1 (an ephemeral host port, or the
 * same number with --publish-classic). */
typedef struct hdc_port {
    const char *role;
    int port;
} hdc_port;

/* A volume shared by every service of the cluster that names it, mounted
 * at path: e.g. {"logs", "/tmp/logs"} in every service. */
typedef struct hdc_volume {
    const char *name;
    const char *path;
} hdc_volume;

enum hdc_service_flags {
    /* The client node: not created by `hdc up`, only by `hdc client`; no
     * step may refer to it. */
    HDC_SERVICE_CLIENT = 1 << 0,
};

typedef struct hdc_service {
    const char *name;          /* [a-z0-9-]: "namenode"; the znode /<name> */
    const char *image;         /* one of this plugin's images, or a Docker
                                     reference with '/' or ':' used as is */
    const char *hostname;      /* NULL: the name */
    const hdc_port *ports;     /* {0}-terminated, or NULL */
    const char *const *env;    /* "KEY=VALUE", NULL-terminated, or NULL */
    const hdc_volume *volumes; /* {0}-terminated, or NULL */
    /* What hdc-agent runs once the service is booted, in the foreground: if
     * it exits, the service has failed. NULL: nothing (the container only
     * runs the agent, e.g. a client node with its own sshd in the image). */
    const char *daemon;
    const char *user; /* the daemon runs as this user; NULL: root */
    /* Readiness, checked by the agent after starting the daemon until both
     * hold (the wait step's deadline bounds it): the port with this role
     * accepts TCP connections, and this command exits 0. Either may be
     * NULL; both NULL: up as soon as the daemon is started. */
    const char *ready_port;
    const char *ready;
    int instances;  /* 0 or 1: one; N (up to 64); HDC_COUNT_DATANODES */
    unsigned flags; /* enum hdc_service_flags */
    /* Appended after the first layout (see "How the ABI evolves"). */
    /* The daemon's maximum heap, MB (HDC_HEAP_MB: the plugin's daemon or
     * configuration passes it on as -Xmx); 0: HDC_DEFAULT_HEAP_MB. */
    unsigned heap_mb;
    /* The container's memory limit, MB, swap included (none): the heap,
     * the JVM's own, and whatever else runs in it (a nodemanager's
     * containers); at least heap_mb + 64. 0: heap_mb +
     * HDC_DEFAULT_OVERHEAD_MB. With `hdc up --memory`, the weight of this
     * container in the cluster's budget. */
    unsigned memory_mb;
} hdc_service;

enum hdc_step_kind {
    HDC_STEP_BOOT = 1, /* tell the service's agents to start the daemon */
    HDC_STEP_WAIT,     /* until every instance of the service is up */
    HDC_STEP_EXEC,     /* run command in every instance; fails unless it exits 0 */
    HDC_STEP_PROBE,    /* retry the probe until its predicate holds */
};

/* A bootstrap step. A step starts once every step in `after` is done;
 * steps that do not depend on each other run at the same time. The first
 * failure (or passed deadline) stops the bootstrap. */
typedef struct hdc_step {
    const char *name;         /* unique: "format", "boot-namenode" */
    int kind;                 /* enum hdc_step_kind */
    const char *service;      /* BOOT, WAIT, EXEC */
    const char *command;      /* EXEC: shell text */
    const char *user;         /* EXEC: run as; NULL: root */
    const char *probe;        /* PROBE: a probe's name */
    const char *const *after; /* step names, NULL-terminated, or NULL */
    unsigned timeout_s;       /* deadline, > 0 */
} hdc_step;

enum hdc_op {
    HDC_OP_EQ = 1, /* equal JSON values (numbers compare by value) */
    HDC_OP_NE,
    HDC_OP_LT, /* LT..GE: numbers only */
    HDC_OP_LE,
    HDC_OP_GT,
    HDC_OP_GE,
    HDC_OP_EXISTS, /* the path is present (no value, no count_of) */
};

/* A predicate on a probe's JSON answer: the value at path compared with
 * either value (JSON text: "3", "true", "\"ACTIVE\"") or the number of
 * instances of the service count_of (for a scaled service, the requested
 * count). path is a JSON pointer ("/beans/0/NumLiveDataNodes") or dotted
 * ("clusterMetrics.activeNodes", a number indexes an array). */
typedef struct hdc_check {
    const char *path;
    int op; /* enum hdc_op */
    const char *value;
    const char *count_of;
} hdc_check;

/* Functions of hdc a callback may use (the plugin links against nothing). */
typedef struct hdc_host {
    /* The value at path (as in hdc_check) in the JSON text json[0..len),
     * written as compact JSON to out (NUL-terminated, truncated to
     * out_len). Returns its full length, or -1 if json is not JSON or has
     * nothing at path. */
    int (*json_get)(const char *json, size_t len, const char *path, char *out, size_t out_len);
    /* The number at path: 0, or -1 if absent or not a number. */
    int (*json_number)(const char *json, size_t len, const char *path, double *out);
} hdc_host;

/* What a probe callback knows about the cluster. */
typedef struct hdc_probe_ctx {
    const char *cluster;
    const char *service; /* the probe's service */
    unsigned datanodes;  /* the requested datanode count */
    const hdc_host *host;
} hdc_probe_ctx;

/* Judges a probe's answer (an HTTP 2xx body, NUL-terminated): returns 1 if
 * healthy; 0 if not (yet), with the reason in why. */
typedef int (*hdc_judge_fn)(const char *json_body, size_t len, const hdc_probe_ctx *ctx, char *why,
                            size_t why_len);

/* An HTTP GET on a service's port. Healthy when the answer is 2xx, every
 * check holds and judge (if any) returns 1. `hdc status` runs every probe;
 * `hdc up` waits for those its PROBE steps name. */
typedef struct hdc_probe {
    const char *name;
    const char *service;
    const char *port_role;   /* a role of one of the service's ports */
    const char *path;        /* "/ws/v1/cluster/metrics" */
    const hdc_check *checks; /* {0}-terminated, or NULL */
    hdc_judge_fn judge;      /* or NULL */
} hdc_probe;

typedef struct hdc_plugin_desc {
    uint32_t abi_version; /* HDC_PLUGIN_ABI_VERSION: first, always */
    uint32_t size;        /* sizeof(hdc_plugin_desc): second, always */
    const char *name;     /* the distribution: "apache_2.6.0" = the file's name */
    const char *description;
    const hdc_image *images; /* each list {0}-terminated */
    const hdc_service *services;
    const hdc_step *steps;
    const hdc_probe *probes;
    /* Appended after the first layout: the sizes the plugin was built with
     * (HDC_PLUGIN_HEADER sets them); 0: the first layout's. */
    uint32_t image_size;
    uint32_t service_size;
    uint32_t step_size;
    uint32_t probe_size;
    uint32_t host_size; /* the hdc_host and hdc_probe_ctx it reads */
    uint32_t ctx_size;
} hdc_plugin_desc;

/* The one symbol a plugin defines:
 *   HDC_PLUGIN_EXPORT const hdc_plugin_desc hdc_plugin = { HDC_PLUGIN_HEADER, ... }; */
extern HDC_PLUGIN_EXPORT const hdc_plugin_desc hdc_plugin;

#ifdef __cplusplus
}
#endif

#endif
