/* The events streams an up watches (cluster_up.h): its containers dying
 * or being removed, and for a moment another network of its name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster_up.h"

/* ---- events: a container that dies fails the up ------------------------------------------- */

static void on_event(void *data, const json_t *ev) {
    up *u = data;
    const char *type = json_string_value(json_object_get(ev, "Type"));
    const char *action = json_string_value(json_object_get(ev, "Action"));
    json_t *attrs = json_object_get(json_object_get(ev, "Actor"), "Attributes");
    const char *name = json_string_value(json_object_get(attrs, "name"));
    const char *code = json_string_value(json_object_get(attrs, "exitCode"));
    node_rt *n;

    if (action == NULL || name == NULL || u->ready || (type != NULL && strcmp(type, "container")))
        return;
    n = cluster__node_by_container(u, name);
    if (n == NULL)
        return;
    if (strcmp(action, "die") == 0)
        n->exit_code = code != NULL ? atoi(code) : -1;
    /* Removed by someone else (our own removals come after the events
     * end): a down of this name runs, whatever else happened. */
    if (strcmp(action, "destroy") == 0 && !u->ended)
        u->removed = 1;
    if (u->failing || u->ended)
        return;
    if (strcmp(action, "destroy") == 0) {
        cluster__fail(u, CLUSTER_EFAILED, NULL,
                      "%s: container %s was removed while it came up (`hdc down %s`?): stopped",
                      u->plan.cluster, n->pn->container, u->plan.cluster);
        return;
    }
    if (strcmp(action, "die") != 0)
        return;
    u->died = 1;
    cluster__fail(u, CLUSTER_EFAILED, n,
                  "%s: service %s (container %s) exited with status %s during the bootstrap",
                  u->plan.cluster, n->pn->hostname, n->pn->container, code != NULL ? code : "?");
}

static void events_ended(void *data, int status, const char *msg) {
    up *u = data;

    cluster__landed(u);
    u->events_call = NULL;
    u->events = RES_DONE;
    if (status != 0 && status != UV_ECANCELED && !u->ready)
        cluster__fail(u, status, NULL, "%s: the Docker events stream broke: %s", u->plan.cluster,
                      msg != NULL ? msg : hdc_strerror(status));
    cluster__advance(u);
}

/* From the network on, the cluster's containers dying or being removed. */
void cluster__watch_events(up *u) {
    static const char *const types[] = {"container"};
    static const char *const actions[] = {"die", "destroy"};
    docker_events_opts eo = {
        .types = types, .n_types = 1, .events = actions, .n_events = 2, .n_labels = 1};
    char label[64];
    const char *labels[1] = {label};
    int err;

    snprintf(label, sizeof(label), "hdc.cluster=%s", u->plan.cluster);
    eo.labels = labels;
    err = u->ops->events(u->d, &eo, on_event, events_ended, u, &u->events_call);
    if (err != 0) {
        u->events = RES_DONE;
        cluster__fail(u, err, NULL, "%s: cannot watch Docker's events: %s", u->plan.cluster,
                      hdc_strerror(err));
        return;
    }
    u->inflight++;
    u->events = RES_BUSY;
}

/* ---- a name shared for a moment ------------------------------------------------------------ */

/* Two ups of one name can both create a network hdc_<name> (Docker's
 * duplicate check is not atomic); the one that loses the race for
 * ZooKeeper's container removes its own (sink_closed). Until it has, Docker
 * cannot start a container on the name ("is ambiguous"): the winner waits
 * for the other network's destroy event, replayed from the up's start so
 * that one that came first is not missed, and starts again. The watch ends
 * by itself after NETWORK_WAIT_S: the other network is then not going. */
static void netwatch_event(void *data, const json_t *ev) {
    up *u = data;
    const char *id = json_string_value(json_object_get(json_object_get(ev, "Actor"), "ID"));

    if (id == NULL || strcmp(id, u->network_id) == 0 || !u->net_blocked)
        return;
    u->net_blocked = 0;
    cluster__advance(u);
}

static void netwatch_ended(void *data, int status, const char *msg) {
    up *u = data;

    cluster__landed(u);
    u->netwatch_call = NULL;
    u->netwatch = RES_DONE;
    if (u->net_blocked && !u->failing)
        cluster__fail(
            u, CLUSTER_EEXISTS, NULL,
            "%s: another network is named %s and was not removed within %d s (left by an `hdc "
            "up` of this name that was killed?): `docker network ls --filter name=%s` lists "
            "them; remove the one whose ID is not %.12s",
            u->plan.cluster, u->plan.network, NETWORK_WAIT_S, u->plan.network, u->network_id);
    else
        cluster__advance(u);
}

void cluster__watch_networks(up *u) {
    static const char *const types[] = {"network"};
    static const char *const actions[] = {"destroy"};
    const char *networks[1] = {u->plan.network};
    docker_events_opts eo = {
        .types = types,
        .n_types = 1,
        .events = actions,
        .n_events = 1,
        .networks = networks,
        .n_networks = 1,
        .since = u->started - 1,
        .until = (int64_t)time(NULL) + NETWORK_WAIT_S,
    };
    int err = u->ops->events(u->d, &eo, netwatch_event, netwatch_ended, u, &u->netwatch_call);

    if (err != 0) {
        u->netwatch = RES_DONE;
        cluster__fail(u, err, NULL, "%s: cannot watch Docker's events: %s", u->plan.cluster,
                      hdc_strerror(err));
        return;
    }
    u->inflight++;
    u->netwatch = RES_BUSY;
}
