/* `hdc client`: the client node of a running cluster, created on request.
 *
 * Each step starts from the callback of the one before:
 *   ZooKeeper's container  tells the cluster's distribution, datanode
 *                          count and network (its labels) and where
 *                          ZooKeeper answers on 127.0.0.1
 *   the network            its subnet: the cluster's plan is made again
 *                          from it, so the client gets the address and
 *                          hostname every node's /etc/hosts already has
 *   the key pair           made once per cluster with ssh-keygen, on the
 *                          thread pool
 *   /client = boot         written before the container exists, so its
 *                          agent starts sshd at once
 *   the container          created, started, and waited for through its
 *                          znode (`up`, or `failed:` with the reason)
 *
 * Decisions a newcomer might question:
 * - A client that exists already is reported, not replaced: a second
 *   `hdc client` only tells how to reach it.
 * - Whether the ssh port is free is learnt from Docker, not probed: the
 *   start of a container whose port is taken fails ("port is already
 *   allocated", or the proxy's "address already in use"); then the
 *   container is removed and, if any port will do, created again with
 *   host port 0 for Docker to choose. A bind() on this host would race
 *   with other processes and says nothing of a remote engine.
 * - A container this call made is removed when the start fails before the
 *   node is up, so that nothing blocks a retry; once the node is up it
 *   stays, whatever follows (initialize.sh can be rerun by hand).
 */
#include "client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster.h"
#include "cluster_query.h"
#include "cluster_spec.h"
#include "plan.h"
#include "util.h"
#include "zk.h"

#define CLIENT_UP_TIMEOUT_MS 120000

typedef struct client {
    uv_loop_t *loop;
    docker *d;
    client_opts opts;
    char *cluster, *client_dist, *key_dir, *test_user;
    client_cb cb;
    void *data;

    char dist[64];
    unsigned datanodes;
    char zk_hosts[64];
    char network[96], network_id[80], subnet[32];
    plugin *cluster_plug, *client_plug;
    plan plan;
    plan_node *node;

    uv_work_t work;
    char *key_path; /* made by key_work */
    char pubkey[1024];
    int key_rc;
    char *init; /* the init script's text, read with the key */
    size_t init_len;
    char *init_path; /* the initialize.sh found, or NULL */

    cluster_images images; /* resolved here (opts.resolve_from) */
    int resolved;

    zk_session *zk;
    char container_id[80];
    int made;      /* the container is this call's, and not up yet */
    uint16_t port; /* asked of Docker: opts.port, then 0 if it was taken */
    uint16_t port_taken;
    uint16_t ssh_port;
    int existed;
    void (*after_remove)(struct client *c);

    int status;
    char msg[8192];
    size_t msg_head_at, msg_head; /* where the log's heading starts and ends */
} client;

static void inspect_client(client *c);
static void initialize(client *c);
static void create(client *c);

static void free_client(client *c) {
    if (c->cluster_plug != NULL)
        plugin_unload(c->cluster_plug);
    if (c->client_plug != NULL && c->client_plug != c->cluster_plug)
        plugin_unload(c->client_plug);
    plan_free(&c->plan);
    free(c->cluster);
    free(c->client_dist);
    free(c->key_dir);
    free(c->test_user);
    free(c->init);
    free(c->key_path);
    free(c->init_path);
    free(c);
}

static void report(client *c) {
    client_info info = {
        .container = c->node != NULL ? c->node->container : "",
        .hostname = c->node != NULL ? c->node->hostname : "",
        .address = c->node != NULL ? c->node->address : "",
        .user = c->test_user,
        .key = c->key_path,
        .ssh_port = c->ssh_port,
        .port_taken = c->port_taken,
        .existed = c->existed,
    };

    c->cb(c->data, c->status, c->status != 0 ? c->msg : NULL, c->status == 0 ? &info : NULL);
    free_client(c);
}

static void zk_closed(void *data, zk_session *s) {
    client *c = data;

    c->zk = NULL;
    report(c);
}

/* The end, success or not: the session is closed first. */
static void finish(client *c) {
    if (c->zk != NULL && zk_close(c->zk, zk_closed, c) == 0)
        return;
    report(c);
}

static void removed(void *data, int status, const char *msg) {
    client *c = data;
    size_t used;

    c->made = 0;
    if (status == 0 || status == DOCKER_ENOTFOUND) {
        c->after_remove(c);
        return;
    }
    if (c->status == 0) { /* on the way to another port */
        c->status = status;
        snprintf(c->msg, sizeof(c->msg),
                 "%s: port %u of 127.0.0.1 is taken; trying another needs the client node "
                 "removed first",
                 c->cluster, c->port_taken);
    }
    used = strlen(c->msg);
    snprintf(c->msg + used, sizeof(c->msg) - used,
             " (%s could not be removed: %s: `docker rm -f %s`)", c->node->container, msg,
             c->node->container);
    finish(c);
}

/* Removes the container this call made, then goes on with then. */
static void remove_made(client *c, void (*then)(client *c)) {
    c->after_remove = then;
    if (docker_container_remove(c->d, c->container_id, 1, 1, removed, c, NULL) != 0)
        removed(c, UV_EIO, "Docker was not asked");
}

static void fail(client *c, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The end of a start that failed; a container it made and that is not up
 * goes first. */
static void fail(client *c, int status, const char *fmt, ...) {
    va_list ap;

    c->status = status;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
    va_end(ap);
    if (c->made) {
        remove_made(c, finish);
        return;
    }
    finish(c);
}

/* ---- the container ---------------------------------------------------------- */

#define CLIENT_LOG_TAIL_LINES "20"

static void tail_output(void *data, int stream, const char *buf, size_t len) {
    client *c = data;
    size_t used = strlen(c->msg);

    if (len > sizeof(c->msg) - used - 1)
        len = sizeof(c->msg) - used - 1;
    memcpy(c->msg + used, buf, len);
    c->msg[used + len] = '\0';
}

static void tail_done(void *data, int status, const char *msg) {
    client *c = data;
    size_t used = strlen(c->msg);

    if (used == c->msg_head) { /* no log: no heading either */
        used = c->msg_head_at;
        c->msg[used] = '\0';
    }
    while (used > 0 && c->msg[used - 1] == '\n')
        c->msg[--used] = '\0';
    if (c->made) {
        remove_made(c, finish);
        return;
    }
    finish(c);
}

static void fail_with_log(client *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The node failed: the last lines of its log follow the message (its
 * container is removed, and its log with it). */
static void fail_with_log(client *c, int status, const char *fmt, ...) {
    docker_logs_opts lo = {.tail = CLIENT_LOG_TAIL_LINES};
    va_list ap;

    c->status = status;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
    va_end(ap);
    c->msg_head_at = strlen(c->msg);
    snprintf(c->msg + c->msg_head_at, sizeof(c->msg) - c->msg_head_at,
             "\nthe last " CLIENT_LOG_TAIL_LINES " lines of its log:\n");
    c->msg_head = strlen(c->msg);
    if (docker_logs(c->d, c->container_id, &lo, tail_output, tail_done, c, NULL) != 0)
        tail_done(c, UV_EIO, NULL);
}

static void inspected(void *data, int status, const char *msg, const docker_container_info *info) {
    client *c = data;
    const hdc_port *port;

    if (status != 0) {
        fail(c, status, "%s: cannot inspect the client node: %s", c->cluster, msg);
        return;
    }
    if (!info->running) {
        fail(c, CLUSTER_EFAILED,
             "%s: the client node %s exists but is %s: `docker rm -f %s` and try again, "
             "or `hdc down %s`",
             c->cluster, c->node->container, info->status, c->node->container, c->cluster);
        return;
    }
    port = c->node->svc->ports;
    if (c->node->svc->ready_port != NULL)
        port = plugin_port(c->node->svc, c->node->svc->ready_port);
    c->ssh_port = port != NULL ? docker_container_host_port(info, (uint16_t)port->port, NULL) : 0;
    if (!c->existed && c->init != NULL) {
        initialize(c);
        return;
    }
    finish(c);
}

static void initialized(void *data, int status, const char *msg, int exit_code) {
    client *c = data;

    if (status != 0) {
        fail(c, status, "%s: cannot run %s in the client node: %s", c->cluster, c->init_path, msg);
        return;
    }
    if (exit_code != 0) {
        fail(c, CLUSTER_EFAILED,
             "%s: %s exited with status %d in the client node (its "
             "output is above); the node is up: fix and rerun it with "
             "`hdc exec %s client -- bash -s < %s`",
             c->cluster, c->init_path, exit_code, c->cluster, c->init_path);
        return;
    }
    finish(c);
}

static void forward_init_output(void *data, int stream, const char *buf, size_t len) {
    client *c = data;

    if (c->opts.init_output != NULL)
        c->opts.init_output(c->data, stream, buf, len);
}

/* The distribution's initialize.sh, as root, with the cluster's env. */
static void initialize(client *c) {
    char user_env[160];
    const char *cmd[] = {"bash", "-s"};
    const char *env[] = {user_env};
    docker_exec_opts eo = {
        .cmd = cmd,
        .n_cmd = 2,
        .env = env,
        .n_env = 1,
        .user = "root",
        .stdin_data = c->init,
        .stdin_len = c->init_len,
    };

    snprintf(user_env, sizeof(user_env), "HDC_TEST_USER=%s", c->test_user);
    if (docker_exec(c->d, c->node->container, &eo, forward_init_output, initialized, c, NULL) != 0)
        fail(c, UV_EIO, "%s: cannot run %s in the client node", c->cluster, c->init_path);
}

static void inspect_client(client *c) {
    if (docker_container_inspect(c->d, c->node->container, inspected, c, NULL) != 0)
        fail(c, UV_EIO, "%s: cannot ask Docker about the client node", c->cluster);
}

static void znode_seen(void *data, int status, const char *value, size_t len) {
    client *c = data;

    if (status == UV_ETIMEDOUT) {
        fail_with_log(c, CLUSTER_EFAILED,
                      "%s: the client node did not come up within %d s (its znode reads "
                      "'%.*s'): it is removed; see its log below, fix, and run `hdc client %s` "
                      "again",
                      c->cluster, CLIENT_UP_TIMEOUT_MS / 1000, value != NULL ? (int)len : 6,
                      value != NULL ? value : "(none)", c->cluster);
        return;
    }
    if (status != 0) {
        fail(c, status, "%s: cannot watch /client: %s", c->cluster, hdc_strerror(status));
        return;
    }
    if (len >= 7 && strncmp(value, "failed:", 7) == 0) {
        fail_with_log(c, CLUSTER_EFAILED,
                      "%s: the client node failed: %.*s: it is removed; see its log below, "
                      "fix, and run `hdc client %s` again",
                      c->cluster, (int)(len - 7), value + 7, c->cluster);
        return;
    }
    c->made = 0; /* up: it stays, whatever follows */
    inspect_client(c);
}

/* Docker's ways of saying that a published port is taken. */
static int port_taken(const char *msg) {
    return msg != NULL && (strstr(msg, "port is already allocated") != NULL ||
                           strstr(msg, "address already in use") != NULL);
}

static void started(void *data, int status, const char *msg) {
    static const char *const up_or_failed[] = {"up", "failed:*", NULL};
    client *c = data;

    if (status != 0 && c->port != 0 && port_taken(msg)) {
        if (c->opts.any_port_if_taken) {
            c->port_taken = c->port;
            c->port = 0;
            remove_made(c, create);
            return;
        }
        fail(c, DOCKER_ECONFLICT,
             "%s: port %u of 127.0.0.1 is taken: give another --port, or --port 0 for one "
             "Docker chooses",
             c->cluster, c->port);
        return;
    }
    if (status != 0) {
        fail(c, status, "%s: cannot start the client node: %s", c->cluster, msg);
        return;
    }
    if (zk_wait_for(c->zk, c->node->znode, up_or_failed, CLIENT_UP_TIMEOUT_MS, znode_seen, c,
                    NULL) != 0)
        fail(c, UV_EIO, "%s: cannot watch %s", c->cluster, c->node->znode);
}

static void created(void *data, int status, const char *msg, const char *id) {
    client *c = data;

    if (status == DOCKER_ECONFLICT) {
        c->existed = 1;
        inspect_client(c);
        return;
    }
    if (status == DOCKER_ENOTFOUND) {
        fail(c, CLUSTER_ENOIMAGE, "%s: %s: run `hdc build %s` first", c->cluster, msg,
             c->client_plug->desc->name);
        return;
    }
    if (status != 0) {
        fail(c, status, "%s: cannot create the client node: %s", c->cluster, msg);
        return;
    }
    snprintf(c->container_id, sizeof(c->container_id), "%s", id);
    c->made = 1;
    if (docker_container_start(c->d, c->container_id, started, c, NULL) != 0)
        fail(c, UV_EIO, "%s: cannot start the client node", c->cluster);
}

static void images_resolved(void *data, int status, const char *msg, const cluster_images *images) {
    client *c = data;

    if (status != 0) {
        fail(c, status, "%s: %s", c->cluster, msg);
        return;
    }
    c->images = *images;
    c->resolved = 1;
    create(c);
}

/* Its images first, when they are to be resolved here: only a client that
 * is created needs them. */
static int resolve(client *c) {
    int err;

    if (c->opts.images != NULL || c->opts.resolve_from == NULL || c->resolved)
        return 0;
    err = images_resolve(c->loop, c->d, c->client_plug->desc, c->opts.resolve_from,
                         c->opts.building, images_resolved, c, NULL);
    if (err != 0)
        fail(c, err, "%s: cannot resolve the images of %s: %s", c->cluster,
             c->client_plug->desc->name, hdc_strerror(err));
    return 1;
}

static void create(client *c) {
    char key_env[1100];
    const char *extra[] = {key_env};
    const hdc_service *svc = c->node->svc;
    cluster_spec_in in = {
        .plan = &c->plan,
        .node = c->node,
        .image_desc = c->client_plug->desc,
        .test_user = c->test_user,
        .host_port_of = svc->ready_port != NULL ? svc->ready_port
                        : svc->ports != NULL    ? svc->ports[0].role
                                                : NULL,
        .host_port = c->port,
        .extra_env = extra,
        .n_extra_env = 1,
        .network = c->network_id,
        .images = c->opts.images != NULL ? c->opts.images
                  : c->resolved          ? &c->images
                                         : NULL,
    };
    cluster_spec *sp;
    int err;

    if (resolve(c))
        return;
    if ((sp = malloc(sizeof(*sp))) == NULL) {
        fail(c, UV_ENOMEM, "out of memory");
        return;
    }
    snprintf(key_env, sizeof(key_env), "HDC_SSH_PUBKEY=%s", c->pubkey);
    cluster_container_spec(&in, sp);
    err = docker_container_create(c->d, &sp->opts, created, c, NULL);
    free(sp);
    if (err != 0)
        fail(c, err, "%s: cannot create the client node: %s", c->cluster, hdc_strerror(err));
}

/* ---- ZooKeeper: /client = boot before the container exists ------------------ */

static void boot_written(void *data, int status) {
    client *c = data;

    if (status != 0) {
        fail(c, status, "%s: cannot write %s: %s", c->cluster, c->node->znode,
             hdc_strerror(status));
        return;
    }
    create(c);
}

static void boot_created(void *data, int status) {
    client *c = data;

    if (status == ZK_ENODEEXISTS) {
        if (zk_set(c->zk, c->node->znode, "boot", 4, boot_written, c) != 0)
            fail(c, UV_EIO, "%s: cannot write %s", c->cluster, c->node->znode);
        return;
    }
    boot_written(c, status);
}

static void zk_connected(void *data, int status, zk_session *s) {
    client *c = data;

    if (status != 0) {
        fail(c, status, "%s: the cluster's ZooKeeper did not answer: %s", c->cluster,
             zk_session_error(s));
        return;
    }
    if (zk_create(c->zk, c->node->znode, "boot", 4, ZK_CREATE_PARENTS, boot_created, c) != 0)
        fail(c, UV_EIO, "%s: cannot write %s", c->cluster, c->node->znode);
}

/* ---- the key pair, on the thread pool ---------------------------------------- */

static void key_work(uv_work_t *w) {
    client *c = w->data;
    char *dir = util_asprintf("%s/%s", c->key_dir, c->cluster);
    char *pub = NULL, *cmd = NULL;
    struct stat st;
    FILE *f;

    c->key_path = dir != NULL ? util_asprintf("%s/id_ed25519", dir) : NULL;
    pub = c->key_path != NULL ? util_asprintf("%s.pub", c->key_path) : NULL;
    if (pub == NULL) {
        c->key_rc = UV_ENOMEM;
        snprintf(c->msg, sizeof(c->msg), "out of memory");
        goto exit;
    }
    if ((c->key_rc = util_mkdir_p(dir, 0700)) != 0) {
        snprintf(c->msg, sizeof(c->msg), "cannot create %s: %s: set HDC_STATE_DIR", dir,
                 strerror(-c->key_rc));
        goto exit;
    }
    if (stat(c->key_path, &st) != 0) {
        cmd = util_asprintf("ssh-keygen -q -t ed25519 -N '' -C 'hdc %s' -f '%s' "
                            "</dev/null >/dev/null 2>&1",
                            c->cluster, c->key_path);
        if (cmd == NULL || system(cmd) != 0) {
            c->key_rc = UV_EIO;
            snprintf(c->msg, sizeof(c->msg),
                     "ssh-keygen could not make %s: install "
                     "openssh-client (scripts/setup.sh does)",
                     c->key_path);
            goto exit;
        }
    }
    for (const char *const *d = c->opts.init_dirs; d != NULL && *d != NULL; d++) {
        free(c->init_path);
        c->init_path = util_asprintf("%s/%s/initialize.sh", *d, c->client_plug->desc->name);
        if (c->init_path != NULL && stat(c->init_path, &st) == 0)
            break;
        free(c->init_path);
        c->init_path = NULL;
    }
    if (c->init_path != NULL) {
        FILE *in = fopen(c->init_path, "r");
        char buf[65536];
        size_t n = in != NULL ? fread(buf, 1, sizeof(buf), in) : 0;
        if (in == NULL || ferror(in) || n == sizeof(buf)) {
            c->key_rc = UV_EIO;
            snprintf(c->msg, sizeof(c->msg), "cannot read %s (or it is over 64 KiB)", c->init_path);
        } else if ((c->init = malloc(n + 1)) != NULL) {
            memcpy(c->init, buf, n);
            c->init_len = n;
        }
        if (in != NULL)
            fclose(in);
        if (c->key_rc != 0)
            goto exit;
    }
    f = fopen(pub, "r");
    if (f == NULL || fgets(c->pubkey, sizeof(c->pubkey), f) == NULL) {
        c->key_rc = UV_EIO;
        snprintf(c->msg, sizeof(c->msg), "cannot read %s: remove %s and try again", pub, dir);
    }
    if (f != NULL)
        fclose(f);
    c->pubkey[strcspn(c->pubkey, "\n")] = '\0';
exit:
    free(cmd);
    free(pub);
    free(dir);
}

static void key_done(uv_work_t *w, int status) {
    client *c = w->data;
    zk_options zo = {.hosts = c->zk_hosts, .connect_timeout_ms = 30000};

    if (c->key_rc != 0) {
        char why[sizeof(c->msg)];
        snprintf(why, sizeof(why), "%s", c->msg);
        fail(c, c->key_rc, "%s: %s", c->cluster, why);
        return;
    }
    if (zk_connect(c->loop, &zo, &c->zk, zk_connected, c) != 0) {
        c->zk = NULL;
        fail(c, UV_EIO, "%s: cannot start a ZooKeeper session", c->cluster);
    }
}

/* ---- the cluster: its labels, network and plan ------------------------------ */

static void network_inspected(void *data, int status, const char *msg,
                              const docker_network_info *info) {
    client *c = data;
    char err[1024], pool_spec[64];
    plan_pool pool;
    const char *size;

    if (status != 0) {
        fail(c, status, "%s: cannot inspect network %s: %s", c->cluster, c->network, msg);
        return;
    }
    snprintf(c->network_id, sizeof(c->network_id), "%s", info->id);
    snprintf(c->subnet, sizeof(c->subnet), "%s", info->subnet);
    if (plugin_find(c->opts.plugins, c->dist, &c->cluster_plug, err, sizeof(err)) != 0) {
        fail(c, PLUGIN_ENOTFOUND, "%s runs %s: %s", c->cluster, c->dist, err);
        return;
    }
    if (c->client_dist == NULL) {
        c->client_plug = c->cluster_plug;
    } else if (plugin_find(c->opts.plugins, c->client_dist, &c->client_plug, err, sizeof(err)) !=
               0) {
        fail(c, PLUGIN_ENOTFOUND, "--client-dist: %s", err);
        return;
    }
    /* The cluster's own subnet is the whole pool: index 0 is it. */
    size = strchr(c->subnet, '/');
    snprintf(pool_spec, sizeof(pool_spec), "%s:%s", c->subnet, size != NULL ? size + 1 : "");
    if (plan_pool_parse(pool_spec, &pool, err, sizeof(err)) != 0 ||
        plan_make(&c->plan, c->cluster_plug->desc, c->cluster, c->datanodes, &pool, 0, err,
                  sizeof(err)) != 0) {
        fail(c, PLAN_EINVAL, "%s: cannot plan the client node: %s", c->cluster, err);
        return;
    }
    for (size_t i = 0; i < c->plan.n_nodes && c->node == NULL; i++)
        if (c->plan.nodes[i].is_client)
            c->node = &c->plan.nodes[i];
    if (c->node == NULL) {
        fail(c, CLIENT_ENOCLIENT, "%s: distribution %s declares no client node", c->cluster,
             c->dist);
        return;
    }
    /* The client's image comes from the client distribution's own client
     * service, with the cluster's node's name and address. */
    if (c->client_plug != c->cluster_plug) {
        const hdc_service *svc = NULL;
        for (const hdc_service *s = c->client_plug->desc->services; s && s->name; s++)
            if (s->flags & HDC_SERVICE_CLIENT)
                svc = s;
        if (svc == NULL) {
            fail(c, CLIENT_ENOCLIENT, "--client-dist %s declares no client node", c->client_dist);
            return;
        }
        c->node->svc = svc;
    }
    c->work.data = c;
    if (uv_queue_work(c->loop, &c->work, key_work, key_done) != 0)
        fail(c, UV_EIO, "%s: cannot queue work on the thread pool", c->cluster);
}

static void zookeeper(void *data, int status, const char *msg, const docker_container_info *info) {
    client *c = data;
    const char *dist =
        json_string_value(json_object_get(info != NULL ? info->labels : NULL, "hdc.dist"));
    const char *dn =
        json_string_value(json_object_get(info != NULL ? info->labels : NULL, "hdc.datanodes"));
    const char *user =
        json_string_value(json_object_get(info != NULL ? info->labels : NULL, "hdc.test-user"));
    uint16_t port;

    if (status == DOCKER_ENOTFOUND) {
        fail(c, CLIENT_ENOCLUSTER,
             "no cluster named '%s' (or its ZooKeeper is gone): "
             "`hdc ls` lists them",
             c->cluster);
        return;
    }
    if (status != 0) {
        fail(c, status, "%s: %s", c->cluster, msg);
        return;
    }
    port = docker_container_host_port(info, PLAN_ZK_PORT, NULL);
    if (dist == NULL || !info->running || port == 0 || info->n_networks == 0) {
        fail(c, CLUSTER_EFAILED,
             "%s: its ZooKeeper is not running: `hdc start %s` starts the cluster again",
             c->cluster, c->cluster);
        return;
    }
    snprintf(c->dist, sizeof(c->dist), "%s", dist);
    if (c->test_user == NULL) {
        const char *fallback =
            c->opts.default_test_user != NULL ? c->opts.default_test_user : "hdc";
        if ((c->test_user = strdup(user != NULL ? user : fallback)) == NULL) {
            fail(c, UV_ENOMEM, "out of memory");
            return;
        }
    }
    c->datanodes = dn != NULL ? (unsigned)strtoul(dn, NULL, 10) : 1;
    snprintf(c->zk_hosts, sizeof(c->zk_hosts), "127.0.0.1:%u", port);
    snprintf(c->network, sizeof(c->network), "%s", info->networks[0].network);
    if (docker_network_inspect(c->d, c->network, network_inspected, c, NULL) != 0)
        fail(c, UV_EIO, "%s: cannot ask Docker", c->cluster);
}

int client_start(uv_loop_t *loop, docker *d, const client_opts *opts, client_cb cb, void *data) {
    client *c;
    char zk_name[96];
    int err;

    if (opts == NULL || opts->cluster == NULL || opts->plugins == NULL || opts->key_dir == NULL ||
        cb == NULL)
        return UV_EINVAL;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return UV_ENOMEM;
    c->loop = loop;
    c->d = d;
    c->opts = *opts;
    c->cb = cb;
    c->data = data;
    c->cluster = strdup(opts->cluster);
    c->client_dist = opts->client_dist != NULL ? strdup(opts->client_dist) : NULL;
    c->key_dir = strdup(opts->key_dir);
    c->test_user = opts->test_user != NULL ? strdup(opts->test_user) : NULL;
    c->port = opts->port;
    snprintf(zk_name, sizeof(zk_name), "%s_zookeeper_1", opts->cluster);
    err = docker_container_inspect(d, zk_name, zookeeper, c, NULL);
    if (err != 0)
        free_client(c);
    return err;
}

void client_forget_key(const char *key_dir, const char *name) {
    static const char *const files[] = {"id_ed25519", "id_ed25519.pub"};
    char *dir = util_asprintf("%s/%s", key_dir, name);

    for (size_t i = 0; dir != NULL && i < 2; i++) {
        char *path = util_asprintf("%s/%s", dir, files[i]);
        if (path != NULL)
            unlink(path);
        free(path);
    }
    if (dir != NULL)
        rmdir(dir);
    free(dir);
}
