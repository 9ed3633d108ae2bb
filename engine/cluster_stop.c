/* A cluster's containers stopped (cluster_stop.h).
 *
 * Decisions a newcomer might question:
 * - Two waves: every chosen container but ZooKeeper at once, then
 *   ZooKeeper. An agent whose session ends while its daemon runs would
 *   log errors for nothing; ZooKeeper going last costs one round trip.
 * - The record is written before the first stop, not after the last: a
 *   stop interrupted half way leaves a cluster that `hdc ls` calls
 *   stopped or degraded, never a failed one that `hdc gc` may take.
 * - A container already stopped is stopped again: Docker answers at once
 *   (304), so a second `hdc stop` is the same as the first.
 * - The cluster is healed first (cluster_heal.h): a node `hdc fault` left
 *   paused is unpaused (Docker would stop it only by SIGKILL after the
 *   grace), one left off its network joined to it again (it would start
 *   again without it).
 */
#include "cluster_stop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster_heal.h"
#include "cluster_record.h"
#include "util.h"

typedef struct stop_op {
    uv_loop_t *loop;
    docker *d;
    cluster_stop_cb cb;
    void *data;
    char *name;           /* the cluster's */
    char *zookeeper;      /* its ZooKeeper container's ID, or NULL */
    int whole;            /* every container: the record says stopped */
    int last_asked;       /* ZooKeeper's wave has started */
    cluster_record rec;   /* as read (its holder is kept), or empty */
    char **first, **last; /* the waves: containers' names */
    size_t n_first, n_last, pending, stopped;
    int status;
    char msg[1024];
    const char *const *only;
    size_t n_only;
} stop_op;

static int chooses(const cluster_container *c, const char *name) {
    return (c->hostname != NULL && strcmp(c->hostname, name) == 0) ||
           (c->service != NULL && strcmp(c->service, name) == 0);
}

int cluster_stop_select(const cluster_container *list, size_t n, const char *const *only,
                        size_t n_only, unsigned char *chosen, const char **unknown) {
    for (size_t i = 0; i < n; i++) {
        chosen[i] = n_only == 0;
        for (size_t k = 0; k < n_only; k++)
            chosen[i] |= chooses(&list[i], only[k]);
    }
    for (size_t k = 0; k < n_only; k++) {
        int found = 0;
        for (size_t i = 0; i < n; i++)
            found |= chooses(&list[i], only[k]);
        if (!found) {
            *unknown = only[k];
            return UV_EINVAL;
        }
    }
    return 0;
}

static void op_free(stop_op *s) {
    for (size_t i = 0; i < s->n_first; i++)
        free(s->first[i]);
    for (size_t i = 0; i < s->n_last; i++)
        free(s->last[i]);
    free(s->first);
    free(s->last);
    free(s->name);
    free(s->zookeeper);
    free(s);
}

static void end(stop_op *s) {
    s->cb(s->data, s->status, s->status != 0 ? s->msg : NULL, s->stopped);
    op_free(s);
}

static void note(stop_op *s, int status, const char *what, const char *msg) {
    if (status == 0 || s->status != 0)
        return;
    s->status = status;
    snprintf(s->msg, sizeof(s->msg), "%s: cannot stop %s: %s", s->name, what,
             msg != NULL ? msg : hdc_strerror(status));
}

static void wave(stop_op *s, char **names, size_t n);

/* A wave is over: ZooKeeper's turn (once), unless a stop failed. */
static void settle(stop_op *s) {
    if (s->n_last > 0 && s->status == 0 && !s->last_asked) {
        s->last_asked = 1;
        wave(s, s->last, s->n_last);
        return;
    }
    end(s);
}

static void one_stopped(void *data, int status, const char *msg) {
    stop_op *s = data;

    if (status == 0 || status == DOCKER_ENOTFOUND)
        s->stopped++;
    else
        note(s, status, "a container", msg);
    if (--s->pending == 0)
        settle(s);
}

/* Stops names[0..n) at once; one_stopped counts them back. */
static void wave(stop_op *s, char **names, size_t n) {
    s->pending = 1; /* held until every stop is asked for */
    for (size_t i = 0; i < n; i++) {
        int err = docker_container_stop(s->d, names[i], CLUSTER_STOP_GRACE_S, one_stopped, s, NULL);
        if (err == 0)
            s->pending++;
        else
            note(s, err, names[i], NULL);
    }
    if (--s->pending == 0)
        settle(s);
}

static void record_written(void *data, int status, const char *msg) {
    stop_op *s = data;

    /* Without it, `hdc ls` judges by the containers: not a reason to
     * leave the cluster running. */
    if (status != 0)
        fprintf(stderr, "hdc: %s: cannot write its record (stopped): %s\n", s->name,
                msg != NULL ? msg : hdc_strerror(status));
    wave(s, s->first, s->n_first);
}

static void write_record(stop_op *s) {
    cluster_record r = s->rec;
    void *tar = NULL;
    size_t len = 0;

    r.state = RECORD_STOPPED;
    r.since = (int64_t)time(NULL);
    if (s->whole && s->zookeeper != NULL && cluster_record_tar(&r, &tar, &len) == 0 &&
        docker_container_put_archive(s->d, s->zookeeper, CLUSTER_RECORD_DIR, tar, len,
                                     record_written, s, NULL) == 0) {
        free(tar);
        return;
    }
    free(tar);
    wave(s, s->first, s->n_first);
}

static int add(char ***v, size_t *n, const char *name) {
    size_t cap = *n;

    if (util_grow(v, &cap, *n + 1, sizeof(**v)) != 0 || ((*v)[*n] = strdup(name)) == NULL)
        return UV_ENOMEM;
    (*n)++;
    return 0;
}

static void listed(void *data, int status, const char *msg, const cluster_container *list,
                   size_t n) {
    stop_op *s = data;
    unsigned char *chosen = calloc(n + 1, 1);
    const char *unknown = NULL;
    int err = 0;

    if (status != 0 || chosen == NULL) {
        free(chosen);
        note(s, status != 0 ? status : UV_ENOMEM, "its containers", msg);
        end(s);
        return;
    }
    if (cluster_stop_select(list, n, s->only, s->n_only, chosen, &unknown) != 0) {
        free(chosen);
        s->status = UV_EINVAL;
        snprintf(s->msg, sizeof(s->msg),
                 "%s has no node or service '%s': `hdc status %s` lists them", s->name, unknown,
                 s->name);
        end(s);
        return;
    }
    for (size_t i = 0; i < n && err == 0; i++) {
        int zk = list[i].service != NULL && strcmp(list[i].service, "zookeeper") == 0;
        if (chosen[i])
            err = zk ? add(&s->last, &s->n_last, list[i].name)
                     : add(&s->first, &s->n_first, list[i].name);
    }
    free(chosen);
    if (err != 0) {
        note(s, err, "its containers", NULL);
        end(s);
        return;
    }
    s->only = NULL; /* borrowed until here */
    write_record(s);
}

/* Healed or not (a node that cannot be healed is stopped all the same):
 * the containers. */
static void healed(void *data, int status, const char *msg, unsigned n) {
    stop_op *s = data;

    if (status != 0)
        fprintf(stderr, "hdc: %s: %s (stopping it all the same)\n", s->name, msg);
    if (cluster_list(s->loop, s->d, s->name, listed, s) != 0) {
        note(s, UV_EIO, "its containers", "cannot ask Docker");
        end(s);
    }
}

int cluster_stop(uv_loop_t *loop, docker *d, const cluster_info *ci, const char *const *only,
                 size_t n_only, cluster_stop_cb cb, void *data) {
    stop_op *s;
    int err;

    if (ci == NULL || ci->name == NULL || cb == NULL)
        return UV_EINVAL;
    if ((s = calloc(1, sizeof(*s))) == NULL)
        return UV_ENOMEM;
    *s = (stop_op){.d = d, .cb = cb, .data = data, .only = only, .n_only = n_only};
    s->whole = n_only == 0;
    if (ci->has_record)
        s->rec = ci->record;
    s->name = strdup(ci->name);
    s->zookeeper = ci->zookeeper != NULL ? strdup(ci->zookeeper) : NULL;
    if (s->name == NULL || (ci->zookeeper != NULL && s->zookeeper == NULL)) {
        op_free(s);
        return UV_ENOMEM;
    }
    s->loop = loop;
    err = cluster_heal(loop, d, s->name, healed, s);
    if (err != 0)
        op_free(s);
    return err;
}
