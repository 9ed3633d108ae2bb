/* Clusters found by their labels (cluster_query.h): every object hdc
 * creates carries hdc.cluster, so listing and removing need no state of
 * our own.
 *
 * Decisions a newcomer might question:
 * - `down` removes in the order objects hold each other: containers (with
 *   their anonymous volumes), then networks, then named volumes, each kind
 *   listed only once the kind before is gone, from one table (down_kinds).
 * - A down may race an `hdc up` of the same name that is still creating
 *   containers: the containers are listed again after each pass until a
 *   listing is empty, and a network or volume still in use sends the down
 *   back to them. The up stops when it sees one of its containers removed
 *   (cluster.c), so this converges in a few rounds; DOWN_ROUNDS bounds it.
 * - `down` heals the cluster first (cluster_heal.h): what `hdc fault` left
 *   paused is unpaused, so that its removal stops it as any other node.
 */
#define _GNU_SOURCE /* strptime, timegm */
#include "cluster_query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster_heal.h"

/* ---- clusters found by label ------------------------------------------------ */

/* Rounds of a down racing an up of the same name (see cluster_down):
 * each round removes what the up made since the last; the up stops at the
 * first container it loses, so a few rounds are the most it takes. */
#define DOWN_ROUNDS 32

typedef struct down {
    docker *d;
    cluster_down_cb cb;
    void *data;
    char label[80];
    size_t pending;
    unsigned removed;
    unsigned round;
    int busy; /* a network or volume still in use: containers came */
    int status;
    char msg[1024];
    size_t kind;        /* index in down_kinds */
    size_t removed_now; /* by this pass */
    int failed_now;     /* a removal of this pass failed */
} down;

static void down_end(down *w) {
    w->cb(w->data, w->status, w->status != 0 ? w->msg : NULL, w->removed);
    free(w);
}

/* A network with endpoints, a volume in use: a container of an up still
 * at work holds it; the containers are gone through again. */
static int in_use(int status, const char *msg) {
    return status == DOCKER_ECONFLICT ||
           (status == DOCKER_EAPI && msg != NULL && strstr(msg, "active endpoints") != NULL);
}

static void down_note(down *w, int status, const char *msg) {
    if (status == 0) {
        w->removed++;
        w->removed_now++;
    } else if (in_use(status, msg) && w->kind > 0) {
        w->busy = 1;
    } else if (status != DOCKER_ENOTFOUND && status != DOCKER_ECONFLICT) {
        /* Gone already, or going (a concurrent down), is not a failure;
         * anything else is kept to say, and a container is tried again. */
        w->failed_now = 1;
        if (w->status == 0) {
            w->status = status;
            snprintf(w->msg, sizeof(w->msg), "%s", msg != NULL ? msg : hdc_strerror(status));
        }
    }
}

/* What `down` removes, in order: containers first (they hold the network
 * and the volumes), then networks, then volumes. */
typedef struct down_kind {
    int (*list)(docker *d, const char *label, docker_list_cb cb, void *data, docker_call **out);
    int (*remove)(docker *d, const docker_object *obj, docker_cb cb, void *data);
} down_kind;

/* A container's removal: when another down is removing it already, the
 * end of that removal. */
typedef struct down_one {
    docker *d;
    docker_cb cb;
    void *data;
    char id[80];
} down_one;

static void down_one_gone(void *data, int status, const char *msg, int exit_code) {
    down_one *one = data;

    one->cb(one->data, DOCKER_ENOTFOUND, NULL); /* removed, not by us */
    free(one);
}

static void down_one_removed(void *data, int status, const char *msg) {
    down_one *one = data;

    if (status == DOCKER_ECONFLICT &&
        docker_container_wait_removed(one->d, one->id, down_one_gone, one, NULL) == 0)
        return;
    one->cb(one->data, status, msg);
    free(one);
}

static int down_container(docker *d, const docker_object *o, docker_cb cb, void *data) {
    down_one *one = calloc(1, sizeof(*one));
    int err;

    if (one == NULL)
        return UV_ENOMEM;
    *one = (down_one){.d = d, .cb = cb, .data = data};
    snprintf(one->id, sizeof(one->id), "%s", o->id);
    err = docker_container_remove(d, o->id, 1, 1, down_one_removed, one, NULL);
    if (err != 0)
        free(one);
    return err;
}

static int down_network(docker *d, const docker_object *o, docker_cb cb, void *data) {
    return docker_network_remove(d, o->id, cb, data, NULL);
}

static int down_volume(docker *d, const docker_object *o, docker_cb cb, void *data) {
    return docker_volume_remove(d, o->name, 1, cb, data, NULL);
}

static const down_kind down_kinds[] = {
    {docker_container_list, down_container},
    {docker_network_list, down_network},
    {docker_volume_list, down_volume},
};
#define DOWN_KINDS (sizeof(down_kinds) / sizeof(down_kinds[0]))

static void down_listed(void *data, int status, const char *msg, const docker_object *objs,
                        size_t n);

/* Lists the kind of w->kind, or ends. */
static void down_list(down *w) {
    if (w->kind == DOWN_KINDS ||
        down_kinds[w->kind].list(w->d, w->label, down_listed, w, NULL) != 0)
        down_end(w);
}

/* One object gone; after the last of its kind, what comes next: the
 * containers listed again until none is left (an up at work may have made
 * one meanwhile) until a pass removes none, then the next kind; a network
 * or volume still in use sends the down back to the containers. */
static void down_removed(void *data, int status, const char *msg) {
    down *w = data;

    down_note(w, status, msg);
    if (--w->pending > 0)
        return;
    if (w->busy || (w->kind == 0 && (w->removed_now > 0 || w->failed_now))) {
        if (++w->round == DOWN_ROUNDS) {
            if (w->status == 0) {
                w->status = DOCKER_ECONFLICT;
                snprintf(w->msg, sizeof(w->msg),
                         "objects of it keep coming back after %u rounds of removal: is an `hdc "
                         "up` of this name looping? stop it, then run this again",
                         DOWN_ROUNDS);
            }
            down_end(w);
            return;
        }
        w->busy = 0;
        w->kind = 0;
        /* A container's removal that failed (the engine's storage driver
         * can fail one now and then) is tried again with the next pass:
         * only the last pass's failure is said. */
        w->status = 0;
    } else {
        w->kind++;
    }
    down_list(w);
}

static void down_listed(void *data, int status, const char *msg, const docker_object *objs,
                        size_t n) {
    down *w = data;

    if (status != 0) {
        down_note(w, status, msg);
        down_end(w);
        return;
    }
    w->removed_now = 0;
    w->failed_now = 0;
    w->pending = 1; /* held until every removal is asked for */
    for (size_t i = 0; i < n; i++)
        if (down_kinds[w->kind].remove(w->d, &objs[i], down_removed, w) == 0)
            w->pending++;
    down_removed(w, DOCKER_ENOTFOUND, NULL);
}

/* The nodes healed: the removal proper. Whether the heal failed does not
 * matter to a removal that forces. */
static void down_healed(void *data, int status, const char *msg, unsigned healed) {
    down_list(data);
}

int cluster_down(uv_loop_t *loop, docker *d, const char *name, cluster_down_cb cb, void *data) {
    down *w = calloc(1, sizeof(*w));
    int err;

    if (w == NULL)
        return UV_ENOMEM;
    w->d = d;
    w->cb = cb;
    w->data = data;
    if (name != NULL)
        snprintf(w->label, sizeof(w->label), "hdc.cluster=%s", name);
    else
        snprintf(w->label, sizeof(w->label), "hdc.cluster");
    /* Paused nodes unpaused and every node on its network first (`hdc
     * fault`): a paused node would not stop on its signal. */
    if (cluster_heal(loop, d, name, down_healed, w) == 0)
        return 0;
    err = down_kinds[0].list(d, w->label, down_listed, w, NULL);
    if (err != 0)
        free(w);
    return err;
}

typedef struct lister {
    docker *d;
    cluster_list_cb cb;
    void *data;
    cluster_container *list;
    size_t n, cap;
    size_t pending;
    int status;
    char msg[1024];
} lister;

static char *label_dup(const json_t *labels, const char *key) {
    const char *v = json_string_value(json_object_get(labels, key));

    return strdup(v != NULL ? v : "");
}

static int64_t parse_created(const char *s) {
    struct tm tm = {0};

    if (s == NULL || strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
        return 0;
    return (int64_t)timegm(&tm);
}

static void lister_end(lister *l) {
    l->cb(l->data, l->status, l->status != 0 ? l->msg : NULL, l->list, l->n);
    for (size_t i = 0; i < l->n; i++) {
        cluster_container *c = &l->list[i];
        free((char *)c->cluster);
        free((char *)c->dist);
        free((char *)c->service);
        free((char *)c->hostname);
        free((char *)c->name);
        free((char *)c->state);
        free((char *)c->address);
        for (size_t k = 0; k < c->n_ports; k++)
            free((char *)c->ports[k].host_ip);
        free((void *)c->ports);
    }
    free(l->list);
    free(l);
}

static int container_cmp(const void *a, const void *b) {
    const cluster_container *x = a, *y = b;
    int c = strcmp(x->cluster, y->cluster);

    return c != 0 ? c : strcmp(x->name, y->name);
}

static void lister_inspected(void *data, int status, const char *msg,
                             const docker_container_info *info) {
    lister *l = data;

    if (status == 0 && l->n < l->cap) {
        cluster_container *c = &l->list[l->n++];
        docker_port_binding *ports = calloc(info->n_ports + 1, sizeof(*ports));
        c->cluster = label_dup(info->labels, "hdc.cluster");
        c->dist = label_dup(info->labels, "hdc.dist");
        c->service = label_dup(info->labels, "hdc.service");
        c->hostname = strdup(info->hostname != NULL ? info->hostname : "");
        c->name = strdup(info->name != NULL ? info->name : "");
        c->state = strdup(info->status != NULL ? info->status : "");
        c->address = strdup(info->ip_address != NULL ? info->ip_address : "");
        c->exit_code = info->exit_code;
        c->created = parse_created(json_string_value(json_object_get(info->raw, "Created")));
        for (size_t k = 0; ports != NULL && k < info->n_ports; k++) {
            ports[k] = info->ports[k];
            ports[k].host_ip = strdup(info->ports[k].host_ip != NULL ? info->ports[k].host_ip : "");
        }
        c->ports = ports;
        c->n_ports = ports != NULL ? info->n_ports : 0;
    } else if (status != 0 && status != DOCKER_ENOTFOUND && l->status == 0) {
        l->status = status;
        snprintf(l->msg, sizeof(l->msg), "%s", msg);
    }
    if (--l->pending > 0)
        return;
    if (l->n > 1)
        qsort(l->list, l->n, sizeof(*l->list), container_cmp);
    lister_end(l);
}

static void lister_listed(void *data, int status, const char *msg, const docker_object *objs,
                          size_t n) {
    lister *l = data;

    if (status != 0) {
        l->status = status;
        snprintf(l->msg, sizeof(l->msg), "%s", msg);
        lister_end(l);
        return;
    }
    l->list = calloc(n + 1, sizeof(*l->list));
    l->cap = n;
    l->pending = 1;
    for (size_t i = 0; l->list != NULL && i < n; i++)
        if (docker_container_inspect(l->d, objs[i].id, lister_inspected, l, NULL) == 0)
            l->pending++;
    lister_inspected(l, DOCKER_ENOTFOUND, NULL, NULL);
}

int cluster_list(uv_loop_t *loop, docker *d, const char *name, cluster_list_cb cb, void *data) {
    lister *l = calloc(1, sizeof(*l));
    char label[80];
    int err;

    if (l == NULL)
        return UV_ENOMEM;
    l->d = d;
    l->cb = cb;
    l->data = data;
    if (name != NULL)
        snprintf(label, sizeof(label), "hdc.cluster=%s", name);
    else
        snprintf(label, sizeof(label), "hdc.cluster");
    err = docker_container_list(d, label, lister_listed, l, NULL);
    if (err != 0)
        free(l);
    return err;
}

int cluster_container_active(const char *state) {
    return strcmp(state, "exited") != 0 && strcmp(state, "dead") != 0;
}
