/* `hdc client`: the client node of a running cluster, where a library's
 * tests run. It is planned with the cluster (its address and hostname are
 * in every node's /etc/hosts from the start) but created only on request,
 * from the cluster's distribution or, with --client-dist, another one's
 * client image. Login is by ssh key only: a key pair per cluster, made on
 * first use, its public half given to the node at creation.
 *
 * Conventions, as in libuv: client_start returns 0 or a negative error;
 * when it fails its callback is never called, when it succeeds the callback
 * is called exactly once, never from inside the call.
 */
#ifndef HDC_CLIENT_H
#define HDC_CLIENT_H

#include <stdint.h>
#include <uv.h>

#include "docker.h"
#include "err.h" /* CLIENT_ENOCLUSTER, CLIENT_ENOCLIENT */
#include "images.h"
#include "plugin_host.h"

typedef struct client_opts {
    const char *cluster;
    const char *client_dist; /* whose client image; NULL: the cluster's own */
    const plugin_path *plugins;
    uint16_t port;         /* host port for ssh on 127.0.0.1; 0: any free one */
    int any_port_if_taken; /* port is taken: any free one instead (Docker's
                              choice); else the start fails, naming it */
    const char *key_dir;   /* the key pair: <key_dir>/<cluster>/id_ed25519 */
    const char *test_user; /* NULL: the cluster's (its up's, label hdc.test-user), else
                              default_test_user, else "hdc" */
    const char *default_test_user;
    /* Where to look for <dir>/<dist>/initialize.sh (dist: the client's
     * distribution), in order; the first found runs as root in a new client
     * node once it is up (bash, the script on stdin). NULL-terminated,
     * borrowed until the callback; NULL: none. */
    const char *const *init_dirs;
    docker_output_cb init_output; /* its output, as it comes (optional) */
    /* The client distribution's images, resolved (`hdc matrix`: its
     * fleet's); NULL: resolved here (images_resolve) from resolve_from. */
    const cluster_images *images;
    const images_opts *resolve_from; /* with images NULL; NULL: REPO:latest */
    images_progress_cb building;     /* the lines of a build that resolving needs */
} client_opts;

/* The client node, up. Borrowed: valid only during the callback. */
typedef struct client_info {
    const char *container;
    const char *hostname;
    const char *address; /* on the cluster's network */
    const char *user;    /* the unprivileged test user */
    const char *key;     /* the private key's path */
    uint16_t ssh_port;   /* on 127.0.0.1 */
    uint16_t port_taken; /* the port asked for, taken (any_port_if_taken):
                            ssh_port is another one; 0: it was not */
    int existed;         /* it was there already: nothing was created */
} client_info;

/* status 0 with info; else msg says what failed and what to do. A start
 * that fails before the node is up (its create, its start, the node
 * failing) removes the container it made, so that a retry starts afresh;
 * the node stays when only initialize.sh failed. */
typedef void (*client_cb)(void *data, int status, const char *msg, const client_info *info);

int client_start(uv_loop_t *loop, docker *d, const client_opts *opts, client_cb cb, void *data);

/* Removes the key pair client_start made for cluster `name` under key_dir (once
 * the cluster is gone). Blocking: a few unlinks. */
void client_forget_key(const char *key_dir, const char *name);

#endif
