/* The Docker Engine API (v1.41, Docker 20.10) on the libuv loop: typed
 * asynchronous calls over engine/http.h, results parsed with jansson.
 *
 * Conventions, as in libuv and the rest of hdc:
 * - Every call returns 0 or a negative error (a libuv errno or DOCKER_E*).
 *   When it fails, its callbacks are never called; when it succeeds, the
 *   final callback is called exactly once, never from inside the call.
 * - The final callback receives status (0 or a negative error) and msg:
 *   NULL on success, else a message for a person, e.g. Docker's own
 *   "No such container: x", or "no Docker engine at unix:///var/run/
 *   docker.sock: run scripts/setup.sh or set DOCKER_HOST".
 * - Arguments are copied during the call: the caller may free them as soon
 *   as it returns. Results are borrowed: every pointer a callback receives
 *   (msg, ids, info structs, json_t) is valid only during that callback;
 *   copy what you keep (json_incref a json_t).
 * - Every call takes an optional docker_call **out: the handle that
 *   cancels it (docker_call_cancel), valid until its final callback has
 *   been called.
 * - Every call has deadlines that fit it, in T = HDC_DOCKER_TIMEOUT
 *   seconds (default 30): a call that answers at once must answer whole
 *   within T (stop: its grace plus T); a stream, a wait, a build and
 *   exec's stream must start answering within T of the end of the request
 *   (a build: of the context's upload), and then may run for as long as
 *   they run. A deadline that passes fails the call with UV_ETIMEDOUT and
 *   a message naming the engine's address and HDC_DOCKER_TIMEOUT.
 *
 * Request bodies and reply parsing are the pure functions of
 * docker_json.h.
 */
#ifndef HDC_DOCKER_H
#define HDC_DOCKER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "err.h" /* DOCKER_E*: the errors of this module */

#define DOCKER_API_VERSION       "1.41"
#define DOCKER_DEFAULT_HOST      "unix:///var/run/docker.sock"
#define DOCKER_TIMEOUT_DEFAULT_S 30 /* HDC_DOCKER_TIMEOUT unset or empty */
#define DOCKER_TIMEOUT_MAX_S     3600

typedef struct docker docker;
typedef struct docker_call docker_call;

typedef struct docker_kv {
    const char *key;
    const char *value;
} docker_kv;

/* ---- the client ------------------------------------------------------- */

/* address: "unix:///path" or "tcp://host:port"; NULL means $DOCKER_HOST, or
 * DOCKER_DEFAULT_HOST when that is unset or empty. Connects lazily: a
 * missing engine shows as DOCKER_ENOENGINE in the first call's callback.
 * Reads HDC_DOCKER_TIMEOUT once (docker_timeout_parse). UV_EINVAL for any
 * other scheme, or a bad HDC_DOCKER_TIMEOUT. */
int docker_new(uv_loop_t *loop, const char *address, docker **out);

/* The value of HDC_DOCKER_TIMEOUT (s, NULL when unset): digits only, from
 * 1 to DOCKER_TIMEOUT_MAX_S; NULL or "": DOCKER_TIMEOUT_DEFAULT_S. 0 and
 * the seconds in *seconds (optional), or UV_EINVAL. Pure. */
int docker_timeout_parse(const char *s, unsigned *seconds);

/* The value of HDC_DOCKER_PACE (NULL when unset): digits only, 0 (no cap)
 * to DOCKER_PACE_MAX, else UV_EINVAL; unset or empty: DOCKER_PACE_DEFAULT
 * (docs/performance.md has the measurement that chose it). */
#define DOCKER_PACE_DEFAULT 0
#define DOCKER_PACE_MAX     1024
int docker_pace_parse(const char *s, unsigned *max);

/* At most max container creates and starts in flight at once (0, the
 * default: no cap); the others wait in order and are sent as slots free,
 * their deadlines counted from then. A waiting call canceled ends with
 * UV_ECANCELED from the loop. */
void docker_set_pace(docker *d, unsigned max);

/* Cancels every call in flight (each final callback follows with
 * UV_ECANCELED), then frees d and calls cb (optional). No call may be
 * started on d after this. */
void docker_close(docker *d, void (*cb)(void *data), void *data);

/* The address in use, as configured ("unix:///var/run/docker.sock"). */
const char *docker_address(const docker *d);

/* Cancels a call: its final callback follows with UV_ECANCELED (or with
 * the outcome already on its way). Returns 0, or UV_EALREADY if the call
 * is ending anyway. A call that changes the engine (a create, a start) may
 * have been carried out all the same. */
int docker_call_cancel(docker_call *c);

/* ---- callbacks shared by several calls -------------------------------- */

typedef void (*docker_cb)(void *data, int status, const char *msg);
/* id: the created object's ID, or the image ID of a build. */
typedef void (*docker_id_cb)(void *data, int status, const char *msg, const char *id);

/* One object of a list: its ID and name (a container's without the
 * leading "/", an image's first repo:tag or ""). */
typedef struct docker_object {
    const char *id;
    const char *name;
    const json_t *labels; /* its Labels object, or NULL */
    const char *state;    /* containers: "running", "exited", "created"...; else NULL */
    int64_t created;      /* containers: Unix seconds; else 0 */
    const json_t *raw;    /* the list's entry (ImageID, RepoTags, ...) */
} docker_object;
typedef void (*docker_list_cb)(void *data, int status, const char *msg, const docker_object *objs,
                               size_t n);

/* A piece of a stream: stream is DOCKER_STDOUT (1) or DOCKER_STDERR (2)
 * (the same numbers as DEMUX_STDOUT / DEMUX_STDERR), the bytes borrowed
 * for the call. Pieces do not follow line boundaries. */
typedef void (*docker_output_cb)(void *data, int stream, const char *buf, size_t len);

/* ---- engine ----------------------------------------------------------- */

typedef struct docker_version {
    const char *version;     /* "20.10.24+dfsg1" */
    const char *api_version; /* "1.41" */
    const char *min_api_version;
    const char *os, *arch, *kernel_version;
} docker_version;
typedef void (*docker_version_cb)(void *data, int status, const char *msg, const docker_version *v);

/* GET /_ping: api_version is the engine's API-Version header (or ""). */
typedef void (*docker_ping_cb)(void *data, int status, const char *msg, const char *api_version);
int docker_ping(docker *d, docker_ping_cb cb, void *data, docker_call **out);
int docker_version_get(docker *d, docker_version_cb cb, void *data, docker_call **out);

/* ---- images ------------------------------------------------------------ */

typedef struct docker_image_info {
    const char *id; /* "sha256:..." */
    int64_t size;
    const json_t *labels; /* object, or NULL */
    const json_t *raw;    /* the whole inspect reply */
} docker_image_info;
typedef void (*docker_image_cb)(void *data, int status, const char *msg,
                                const docker_image_info *info);

int docker_image_inspect(docker *d, const char *name, docker_image_cb cb, void *data,
                         docker_call **out);
int docker_image_remove(docker *d, const char *name, int force, docker_cb cb, void *data,
                        docker_call **out);
/* Images carrying label ("key" or "key=value"); NULL: all. */
int docker_image_list(docker *d, const char *label, docker_list_cb cb, void *data,
                      docker_call **out);

typedef struct docker_build_opts {
    const char *context_dir; /* archived as the build context */
    const char *dockerfile;  /* path inside the context; NULL: "Dockerfile" */
    const char *tag;         /* "name:tag", or NULL */
    /* Further "name:tag"s, NULL-terminated, or NULL. */
    const char *const *more_tags;
    const docker_kv *buildargs;
    size_t n_buildargs;
    const docker_kv *labels; /* set on the image */
    size_t n_labels;
    int nocache;
} docker_build_opts;

/* One line of build output, as it arrives. Fields absent from the line
 * are NULL. */
typedef struct docker_build_progress {
    const char *stream; /* output text, usually ending in "\n" */
    const char *status; /* e.g. a pull's status */
    const char *progress;
    const char *id;
    const char *aux_id; /* aux.ID: the image built */
    const char *error;  /* errorDetail.message, else error */
    const json_t *raw;
} docker_build_progress;
typedef void (*docker_build_progress_cb)(void *data, const docker_build_progress *p);

/* Archives context_dir (off the loop, into a temporary file), POSTs it to
 * /build and streams each progress line to on_progress (optional) as it
 * arrives. cb gets the image ID; an errorDetail in the output fails the
 * call with DOCKER_EBUILD and Docker's message. The context is sent as is:
 * .dockerignore is not applied. out (optional) cancels the build. */
int docker_build(docker *d, const docker_build_opts *opts, docker_build_progress_cb on_progress,
                 docker_id_cb cb, void *data, docker_call **out);

/* ---- networks ---------------------------------------------------------- */

typedef struct docker_network_opts {
    const char *name;
    const char *driver;  /* NULL: "bridge" */
    const char *subnet;  /* "172.29.7.0/24": needed for static addresses */
    const char *gateway; /* "172.29.7.1", or NULL */
    const docker_kv *labels;
    size_t n_labels;
    int internal;
} docker_network_opts;

typedef struct docker_network_info {
    const char *id, *name, *driver;
    const char *subnet, *gateway; /* of the first IPAM config, or "" */
    const json_t *labels;
    const json_t *raw;
} docker_network_info;
typedef void (*docker_network_cb)(void *data, int status, const char *msg,
                                  const docker_network_info *info);

/* cb gets the network ID; DOCKER_EOVERLAP when the subnet overlaps one in
 * use (try another), DOCKER_ECONFLICT when the name is taken. */
int docker_network_create(docker *d, const docker_network_opts *opts, docker_id_cb cb, void *data,
                          docker_call **out);
int docker_network_inspect(docker *d, const char *name, docker_network_cb cb, void *data,
                           docker_call **out);
int docker_network_remove(docker *d, const char *name, docker_cb cb, void *data, docker_call **out);
int docker_network_list(docker *d, const char *label, docker_list_cb cb, void *data,
                        docker_call **out);
/* Joins a container (running or not) to a network: at address ipv4 (NULL:
 * one the engine picks; a static address needs the network's subnet), with
 * the names aliases on it. */
int docker_network_connect(docker *d, const char *network, const char *container, const char *ipv4,
                           const char *const *aliases, size_t n_aliases, docker_cb cb, void *data,
                           docker_call **out);
/* Takes a container off a network, and with it the ports it publishes
 * there. force: even when the engine cannot reach the container's
 * endpoint. */
int docker_network_disconnect(docker *d, const char *network, const char *container, int force,
                              docker_cb cb, void *data, docker_call **out);

/* ---- volumes ------------------------------------------------------------ */

/* Named volumes, for what services of a cluster share. A volume's id in a
 * docker_object list is its name. */
int docker_volume_create(docker *d, const char *name, const docker_kv *labels, size_t n_labels,
                         docker_cb cb, void *data, docker_call **out);
int docker_volume_remove(docker *d, const char *name, int force, docker_cb cb, void *data,
                         docker_call **out);
int docker_volume_list(docker *d, const char *label, docker_list_cb cb, void *data,
                       docker_call **out);

/* ---- containers -------------------------------------------------------- */

typedef struct docker_port {
    uint16_t port;      /* in the container */
    const char *proto;  /* "tcp" (NULL) or "udp" */
    uint16_t host_port; /* on 127.0.0.1; 0: ephemeral */
} docker_port;

typedef struct docker_container_opts {
    const char *name; /* or NULL */
    const char *image;
    const char *hostname, *domainname;
    const char *user, *working_dir;
    const docker_kv *labels;
    size_t n_labels;
    const char *const *env; /* "KEY=value" */
    size_t n_env;
    const char *const *cmd; /* n_cmd == 0: the image's */
    size_t n_cmd;
    const char *const *entrypoint; /* n_entrypoint == 0: the image's */
    size_t n_entrypoint;
    const char *network;        /* the one network to join, or NULL */
    const char *ipv4;           /* static address on it, or NULL */
    const char *const *aliases; /* names on that network */
    size_t n_aliases;
    const char *const *extra_hosts; /* "host:ip", written into /etc/hosts */
    size_t n_extra_hosts;
    const docker_port *ports; /* published on 127.0.0.1 */
    size_t n_ports;
    const char *const *binds; /* "/host:/container[:ro]" or "volume:/container" */
    size_t n_binds;
    const char *const *volumes; /* anonymous volumes: "/data" */
    size_t n_volumes;
    int tty;
    int open_stdin;
    int init;           /* docker-init as PID 1 */
    unsigned memory_mb; /* HostConfig.Memory and MemorySwap (no swap), MB; 0: no limit */
} docker_container_opts;

typedef struct docker_endpoint {
    const char *network;
    const char *ip_address; /* "" when not connected */
    const char *gateway;
} docker_endpoint;

typedef struct docker_port_binding {
    uint16_t port; /* in the container */
    char proto[8]; /* "tcp", "udp" */
    const char *host_ip;
    uint16_t host_port; /* 0 when not published */
} docker_port_binding;

typedef struct docker_container_info {
    const char *id;
    const char *name;  /* without the leading "/" */
    const char *image; /* as given at create */
    const char *hostname;
    const char *status; /* "created", "running", "exited", ... */
    int running;
    int exit_code;
    int64_t pid;
    int tty;
    const char *ip_address; /* on the first network, or "" */
    docker_endpoint *networks;
    size_t n_networks;
    docker_port_binding *ports;
    size_t n_ports;
    const json_t *labels; /* object, or NULL */
    const json_t *raw;
} docker_container_info;
typedef void (*docker_container_cb)(void *data, int status, const char *msg,
                                    const docker_container_info *info);

/* cb gets the container ID. */
int docker_container_create(docker *d, const docker_container_opts *opts, docker_id_cb cb,
                            void *data, docker_call **out);
/* Starting a running container or stopping a stopped one succeeds. */
int docker_container_start(docker *d, const char *id, docker_cb cb, void *data, docker_call **out);
/* timeout_s: seconds between SIGTERM and SIGKILL; < 0: the container's
 * (its deadline then counts Docker's default, 10 s, plus T). */
int docker_container_stop(docker *d, const char *id, int timeout_s, docker_cb cb, void *data,
                          docker_call **out);
/* signal: "SIGTERM", "9", ...; NULL: SIGKILL. */
int docker_container_kill(docker *d, const char *id, const char *signal, docker_cb cb, void *data,
                          docker_call **out);
int docker_container_remove(docker *d, const char *id, int force, int volumes, docker_cb cb,
                            void *data, docker_call **out);
/* Freezes every process of a running container (the cgroup freezer), and
 * thaws them. Docker refuses to pause a paused container or to unpause one
 * that is not (DOCKER_ECONFLICT or DOCKER_EAPI, with its message). */
int docker_container_pause(docker *d, const char *id, docker_cb cb, void *data, docker_call **out);
int docker_container_unpause(docker *d, const char *id, docker_cb cb, void *data,
                             docker_call **out);
int docker_container_inspect(docker *d, const char *id, docker_container_cb cb, void *data,
                             docker_call **out);
/* All containers (running or not) carrying label; NULL: all. */
int docker_container_list(docker *d, const char *label, docker_list_cb cb, void *data,
                          docker_call **out);

/* Waits until the container is not running (no deadline once the engine
 * has started its answer) and gives its exit code. */
typedef void (*docker_wait_cb)(void *data, int status, const char *msg, int exit_code);
int docker_container_wait(docker *d, const char *id, docker_wait_cb cb, void *data,
                          docker_call **out);
/* Waits until the container is removed (by whoever removes it): cb 0, or
 * DOCKER_ENOTFOUND when it was gone already. */
int docker_container_wait_removed(docker *d, const char *id, docker_wait_cb cb, void *data,
                                  docker_call **out);

/* ---- logs, events, exec ------------------------------------------------ */

/* Streams: as bits in docker_logs_opts.streams, and as the stream number
 * given to a docker_output_cb. */
#define DOCKER_STDOUT 1u
#define DOCKER_STDERR 2u

typedef struct docker_logs_opts {
    unsigned streams; /* DOCKER_STDOUT | DOCKER_STDERR; 0: both */
    int follow;       /* go on until the container stops */
    int timestamps;   /* prefix each line with RFC3339Nano and " " */
    int64_t since;    /* Unix seconds; 0 (and since_ns 0): from the start */
    int32_t since_ns; /* and nanoseconds (0-999999999): since is inclusive */
    const char *tail; /* "all" (NULL) or a count of lines */
    int tty;          /* the container has a TTY: raw bytes, no frames */
} docker_logs_opts;

/* Streams the container's logs to on_output. cb: 0 when the stream ended
 * (without follow, or when the container stopped), UV_ECANCELED after
 * docker_call_cancel, DOCKER_ESTREAM for a malformed stream or a
 * daemon-side error. */
int docker_logs(docker *d, const char *id, const docker_logs_opts *opts, docker_output_cb on_output,
                docker_cb cb, void *data, docker_call **out);

/* Streams a tar archive of path inside the container (a file or a
 * directory) to on_output as it comes. cb: 0 at its end, DOCKER_ENOTFOUND
 * when path is not there. */
int docker_container_archive(docker *d, const char *id, const char *path,
                             docker_output_cb on_output, docker_cb cb, void *data,
                             docker_call **out);

/* Writes the files of a tar archive (tar, len: copied before the call
 * returns) into directory dir of the container, running or not. cb: 0, or
 * DOCKER_ENOTFOUND when the container or dir is not there. */
int docker_container_put_archive(docker *d, const char *id, const char *dir, const void *tar,
                                 size_t len, docker_cb cb, void *data, docker_call **out);

typedef struct docker_events_opts {
    const char *const *types; /* "container", "network", "image", ... */
    size_t n_types;
    const char *const *labels; /* "key=value" */
    size_t n_labels;
    const char *const *events; /* "start", "die", ... */
    size_t n_events;
    const char *const *containers; /* names or IDs */
    size_t n_containers;
    /* Names or IDs. A network's events carry no labels: this is how to
     * pick them. */
    const char *const *networks;
    size_t n_networks;
    int64_t since, until; /* Unix seconds; 0: now / never */
} docker_events_opts;

/* One event object (Type, Action, Actor{ID, Attributes}, time, timeNano),
 * borrowed for the call. */
typedef void (*docker_event_cb)(void *data, const json_t *event);

/* Streams the engine's events matching opts to on_event until canceled
 * (or until `until`). A line that is not JSON ends the stream with
 * DOCKER_EPROTO. */
int docker_events(docker *d, const docker_events_opts *opts, docker_event_cb on_event, docker_cb cb,
                  void *data, docker_call **out);

typedef struct docker_exec_opts {
    const char *const *cmd;
    size_t n_cmd;
    const char *const *env; /* "KEY=value" */
    size_t n_env;
    const char *user, *working_dir;
    int tty;
    const void *stdin_data; /* written to the command's stdin, which is
                                     then closed; NULL: no stdin */
    size_t stdin_len;
} docker_exec_opts;

/* exit_code: the command's, when status is 0. */
typedef void (*docker_exec_cb)(void *data, int status, const char *msg, int exit_code);

/* Runs a command in a running container: its output goes to on_output as
 * it comes (demultiplexed unless tty), and cb gets its exit code. */
int docker_exec(docker *d, const char *id, const docker_exec_opts *opts, docker_output_cb on_output,
                docker_exec_cb cb, void *data, docker_call **out);

/* The host port bound to port/proto ("tcp" if NULL) in info, or 0. */
uint16_t docker_container_host_port(const docker_container_info *info, uint16_t port,
                                    const char *proto);

/* Archives dir into a tar file at tar_path (pax/ustar; paths relative to
 * dir, symlinks kept as links). Blocking: docker_build runs it off the
 * loop. 0, or DOCKER_ECONTEXT with the reason in err. */
int docker_context_archive(const char *dir, const char *tar_path, char *err, size_t err_len);

#endif
