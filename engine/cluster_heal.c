/* Undoing the faults `hdc fault` leaves (cluster_heal.h): each node
 * inspected, unpaused if paused, then joined to its network again if it is
 * off it.
 *
 * Decisions a newcomer might question:
 * - A node's static address comes from its label hdc.address, set at its
 *   creation (cluster_spec.c): once a node is off its network Docker no
 *   longer shows the address, and another must not be picked, since every
 *   node's /etc/hosts names it. A node made before that label finds its
 *   own line among the ExtraHosts it was created with.
 * - A node is unpaused before it is reconnected: the engine would connect
 *   a paused one, but its processes could not answer the address's
 *   neighbours until they thaw, and a down that follows stops it anyway.
 * - Every node is healed whatever became of the others: the first failure
 *   is what the callback says.
 */
#include "cluster_heal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct heal {
    docker *d;
    cluster_heal_cb cb;
    void *data;
    unsigned what;
    size_t pending;
    unsigned healed;
    int status;
    char msg[1024];
} heal;

/* One node being healed: what it needs, kept from its inspect. */
typedef struct heal_node {
    heal *h;
    char id[80];
    char host[80];    /* its hostname, for messages and as its alias */
    char network[96]; /* hdc_<cluster> */
    char address[64];
    int reconnect;
    int healed;
} heal_node;

void cluster_network_name(const char *name, char *out, size_t len) {
    snprintf(out, len, "hdc_%s", name);
}

static const char *label(const docker_container_info *info, const char *key) {
    return json_string_value(json_object_get(info->labels, key));
}

/* The node's hostname: its label, else the container's own. */
static const char *host_of(const docker_container_info *info) {
    const char *h = label(info, "hdc.hostname");

    if (h == NULL || *h == '\0')
        h = info->hostname;
    return h != NULL ? h : "";
}

int cluster_node_address(const docker_container_info *info, char *out, size_t len) {
    const char *a = label(info, "hdc.address");
    const char *host = host_of(info);
    const json_t *hosts, *e;
    size_t i, n = strlen(host);

    if (a != NULL && *a != '\0') {
        snprintf(out, len, "%s", a);
        return 0;
    }
    hosts = json_object_get(json_object_get(info->raw, "HostConfig"), "ExtraHosts");
    json_array_foreach(hosts, i, e) {
        const char *s = json_string_value(e);
        if (n > 0 && s != NULL && strncmp(s, host, n) == 0 && s[n] == ':' && s[n + 1] != '\0') {
            snprintf(out, len, "%s", s + n + 1);
            return 0;
        }
    }
    return UV_ENOENT;
}

int cluster_node_connected(const docker_container_info *info) {
    const char *cluster = label(info, "hdc.cluster");
    char net[96];

    if (cluster == NULL)
        return 1; /* not a node of hdc's: nothing to say */
    cluster_network_name(cluster, net, sizeof(net));
    for (size_t i = 0; i < info->n_networks; i++)
        if (info->networks[i].network != NULL && strcmp(info->networks[i].network, net) == 0)
            return 1;
    return 0;
}

static void note(heal *h, const char *host, const char *what, int status, const char *msg) {
    if (h->status != 0)
        return;
    h->status = status;
    snprintf(h->msg, sizeof(h->msg), "%s: %s: %s", host, what,
             msg != NULL ? msg : hdc_strerror(status));
}

/* One node (or the hold of the start) done: after the last, the callback. */
static void heal_done(heal *h) {
    if (--h->pending > 0)
        return;
    h->cb(h->data, h->status, h->status != 0 ? h->msg : NULL, h->healed);
    free(h);
}

static void node_done(heal_node *hn) {
    heal *h = hn->h;

    h->healed += hn->healed;
    free(hn);
    heal_done(h);
}

static void connected(void *data, int status, const char *msg) {
    heal_node *hn = data;

    if (status == 0)
        hn->healed = 1;
    else
        note(hn->h, hn->host, "network connect", status, msg);
    node_done(hn);
}

static void reconnect(heal_node *hn) {
    const char *aliases[] = {hn->host};
    int err;

    if (!hn->reconnect) {
        node_done(hn);
        return;
    }
    err = docker_network_connect(hn->h->d, hn->network, hn->id, hn->address, aliases,
                                 hn->host[0] != '\0' ? 1 : 0, connected, hn, NULL);
    if (err != 0) {
        note(hn->h, hn->host, "network connect", err, NULL);
        node_done(hn);
    }
}

static void unpaused(void *data, int status, const char *msg) {
    heal_node *hn = data;

    if (status == 0)
        hn->healed = 1;
    else
        note(hn->h, hn->host, "unpause", status, msg);
    reconnect(hn);
}

static void inspected(void *data, int status, const char *msg, const docker_container_info *info) {
    heal *h = data;
    heal_node *hn;
    const char *cluster;
    int paused;

    if (status != 0) {
        /* Gone meanwhile (a concurrent down) is nothing to heal. */
        if (status != DOCKER_ENOTFOUND)
            note(h, "a node", "inspect", status, msg);
        heal_done(h);
        return;
    }
    cluster = label(info, "hdc.cluster");
    paused = (h->what & CLUSTER_HEAL_UNPAUSE) && info->status != NULL &&
             strcmp(info->status, "paused") == 0;
    if ((hn = calloc(1, sizeof(*hn))) == NULL) {
        note(h, host_of(info), "heal", UV_ENOMEM, NULL);
        heal_done(h);
        return;
    }
    hn->h = h;
    snprintf(hn->id, sizeof(hn->id), "%s", info->id != NULL ? info->id : "");
    snprintf(hn->host, sizeof(hn->host), "%s", host_of(info));
    if ((h->what & CLUSTER_HEAL_RECONNECT) && cluster != NULL && !cluster_node_connected(info)) {
        cluster_network_name(cluster, hn->network, sizeof(hn->network));
        if (cluster_node_address(info, hn->address, sizeof(hn->address)) == 0)
            hn->reconnect = 1;
        else
            note(h, hn->host, "network connect", UV_ENOENT,
                 "its address on the network is not known (no label hdc.address)");
    }
    if (paused) {
        int err = docker_container_unpause(h->d, hn->id, unpaused, hn, NULL);
        if (err == 0)
            return;
        note(h, hn->host, "unpause", err, NULL);
    }
    reconnect(hn);
}

static heal *heal_new(docker *d, unsigned what, cluster_heal_cb cb, void *data) {
    heal *h = calloc(1, sizeof(*h));

    if (h != NULL)
        *h = (heal){.d = d, .cb = cb, .data = data, .what = what, .pending = 1};
    return h;
}

static void listed(void *data, int status, const char *msg, const docker_object *objs, size_t n) {
    heal *h = data;

    if (status != 0)
        note(h, "the cluster's nodes", "container list", status, msg);
    for (size_t i = 0; status == 0 && i < n; i++) {
        int err = docker_container_inspect(h->d, objs[i].id, inspected, h, NULL);
        if (err == 0)
            h->pending++;
        else
            note(h, objs[i].name, "inspect", err, NULL);
    }
    heal_done(h); /* the list's hold */
}

int cluster_heal(uv_loop_t *loop, docker *d, const char *name, cluster_heal_cb cb, void *data) {
    heal *h;
    char label[80];
    int err;

    if (cb == NULL)
        return UV_EINVAL;
    if ((h = heal_new(d, CLUSTER_HEAL_ALL, cb, data)) == NULL)
        return UV_ENOMEM;
    if (name != NULL)
        snprintf(label, sizeof(label), "hdc.cluster=%s", name);
    else
        snprintf(label, sizeof(label), "hdc.cluster");
    err = docker_container_list(d, label, listed, h, NULL);
    if (err != 0)
        free(h);
    return err;
}

int cluster_heal_nodes(uv_loop_t *loop, docker *d, const char *const *containers, size_t n,
                       unsigned what, cluster_heal_cb cb, void *data) {
    heal *h;
    int err = UV_EINVAL;

    if (cb == NULL || (n > 0 && containers == NULL) || n == 0)
        return UV_EINVAL;
    if ((h = heal_new(d, what, cb, data)) == NULL)
        return UV_ENOMEM;
    h->pending = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = docker_container_inspect(d, containers[i], inspected, h, NULL);
        if (rc == 0)
            h->pending++;
        else
            err = rc;
    }
    if (h->pending == 0) {
        free(h);
        return err;
    }
    /* A call that did not start is a failure to say, later. */
    if (h->pending < n)
        note(h, "a node", "inspect", err, NULL);
    return 0;
}
