/* What each cluster is (cluster_survey.h).
 *
 * Decisions a newcomer might question:
 * - Containers, networks and volumes are listed at once and counted by
 *   label: a network or volumes left without containers (an up killed
 *   early) is a cluster too, which gc can judge by its owner label.
 * - The identity is read from whichever object has the label first: every
 *   object of a cluster carries the same values (cluster_spec.c).
 * - A record that cannot be read (no ZooKeeper container yet, an old
 *   cluster, an engine error) is no record: the state then rests on the
 *   owner, which never makes a live up an orphan.
 */
#include "cluster_survey.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

/* A record is a few hundred bytes; a tar of it a few blocks. */
#define RECORD_TAR_MAX (64 * 1024)

/* ---- the census: pure ----------------------------------------------------------------- */

static const char *label(const docker_object *o, const char *key) {
    return json_string_value(json_object_get(o->labels, key));
}

static char *dup_or_null(const char *s) {
    return s != NULL ? strdup(s) : NULL;
}

static int64_t label_time(const docker_object *o, const char *key) {
    const char *s = label(o, key);

    return s != NULL ? strtoll(s, NULL, 10) : 0;
}

static cluster_info *find_or_add(cluster_census *c, const char *name) {
    cluster_info *ci;

    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->list[i].name, name) == 0)
            return &c->list[i];
    if (util_grow(&c->list, &c->cap, c->n + 1, sizeof(*c->list)) != 0)
        return NULL;
    ci = &c->list[c->n];
    memset(ci, 0, sizeof(*ci));
    if ((ci->name = strdup(name)) == NULL)
        return NULL;
    c->n++;
    return ci;
}

/* The identity, from the first object that has it. */
static int take_identity(cluster_info *ci, const docker_object *o) {
    if (ci->dist == NULL && label(o, "hdc.dist") != NULL &&
        (ci->dist = strdup(label(o, "hdc.dist"))) == NULL)
        return UV_ENOMEM;
    if (ci->datanodes == 0 && label(o, "hdc.datanodes") != NULL)
        ci->datanodes = (unsigned)strtoul(label(o, "hdc.datanodes"), NULL, 10);
    if (ci->memory_mb == 0 && label(o, "hdc.memory") != NULL)
        ci->memory_mb = (unsigned)strtoul(label(o, "hdc.memory"), NULL, 10);
    if (ci->test_user == NULL && label(o, "hdc.test-user") != NULL &&
        (ci->test_user = strdup(label(o, "hdc.test-user"))) == NULL)
        return UV_ENOMEM;
    if (ci->owner == NULL && label(o, "hdc.owner") != NULL) {
        ci->owner = strdup(label(o, "hdc.owner"));
        ci->logs_dir = dup_or_null(label(o, "hdc.logs"));
        ci->keys_dir = dup_or_null(label(o, "hdc.keys"));
        ci->created = label_time(o, "hdc.created");
        ci->expires = label_time(o, "hdc.expires");
        if (ci->owner == NULL)
            return UV_ENOMEM;
    }
    return 0;
}

int cluster_census_add(cluster_census *c, enum cluster_object_kind kind, const docker_object *objs,
                       size_t n) {
    for (size_t i = 0; i < n; i++) {
        const docker_object *o = &objs[i];
        const char *name = label(o, "hdc.cluster");
        const char *service = label(o, "hdc.service");
        cluster_info *ci;
        if (name == NULL)
            continue;
        if ((ci = find_or_add(c, name)) == NULL || take_identity(ci, o) != 0)
            return UV_ENOMEM;
        switch (kind) {
        case CLUSTER_CONTAINERS:
            ci->containers++;
            if (o->state != NULL && strcmp(o->state, "exited") != 0 &&
                strcmp(o->state, "dead") != 0 && strcmp(o->state, "created") != 0)
                ci->running++;
            if (service != NULL && strcmp(service, "zookeeper") == 0 && ci->zookeeper == NULL &&
                (ci->zookeeper = strdup(o->id)) == NULL)
                return UV_ENOMEM;
            /* Made before hdc.created: the oldest container tells. */
            if (ci->owner == NULL && o->created > 0 &&
                (ci->created == 0 || o->created < ci->created))
                ci->created = o->created;
            break;
        case CLUSTER_NETWORKS: ci->networks++; break;
        case CLUSTER_VOLUMES: ci->volumes++; break;
        }
    }
    return 0;
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const cluster_info *)a)->name, ((const cluster_info *)b)->name);
}

void cluster_census_judge(cluster_census *c, int64_t now) {
    if (c->n > 1) /* qsort wants a list, even of none */
        qsort(c->list, c->n, sizeof(*c->list), by_name);
    for (size_t i = 0; i < c->n; i++) {
        cluster_info *ci = &c->list[i];
        cluster_facts f = {
            .record = ci->has_record ? &ci->record : NULL,
            .owner = ci->owner,
            .expires = ci->expires,
            .containers = ci->containers,
            .running = ci->running,
            .now = now,
        };
        f.owner_is = ci->owner_is = owner_liveness(ci->owner);
        f.holder_is = ci->holder_is = ci->has_record && ci->record.holder[0] != '\0'
                                          ? owner_liveness(ci->record.holder)
                                          : OWNER_UNKNOWN;
        ci->state = cluster_state_of(&f);
    }
}

void cluster_census_free(cluster_census *c) {
    for (size_t i = 0; i < c->n; i++) {
        cluster_info *ci = &c->list[i];
        free(ci->name);
        free(ci->dist);
        free(ci->test_user);
        free(ci->owner);
        free(ci->logs_dir);
        free(ci->keys_dir);
        free(ci->zookeeper);
    }
    free(c->list);
    memset(c, 0, sizeof(*c));
}

/* ---- the survey: Docker's lists, then each record ---------------------------------------- */

typedef struct survey survey;

/* The record of one cluster, being read. */
typedef struct record_read {
    survey *s;
    cluster_info *ci;
    char *tar;
    size_t len;
    int too_big;
} record_read;

struct survey {
    docker *d;
    cluster_survey_cb cb;
    void *data;
    cluster_census census;
    record_read *reads;
    size_t pending;
    int status;
    char msg[1024];
};

static void end(survey *s) {
    if (s->status == 0)
        cluster_census_judge(&s->census, (int64_t)time(NULL));
    s->cb(s->data, s->status, s->status != 0 ? s->msg : NULL, s->census.list,
          s->status != 0 ? 0 : s->census.n);
    for (size_t i = 0; s->reads != NULL && i < s->census.n; i++)
        free(s->reads[i].tar);
    free(s->reads);
    cluster_census_free(&s->census);
    free(s);
}

static void release(survey *s) {
    if (--s->pending == 0)
        end(s);
}

static void record_piece(void *data, int stream, const char *buf, size_t len) {
    record_read *r = data;
    char *grown;

    if (r->too_big || r->len + len > RECORD_TAR_MAX) {
        r->too_big = 1;
        return;
    }
    if ((grown = realloc(r->tar, r->len + len)) == NULL) {
        r->too_big = 1;
        return;
    }
    r->tar = grown;
    memcpy(r->tar + r->len, buf, len);
    r->len += len;
}

static void record_read_done(void *data, int status, const char *msg) {
    record_read *r = data;

    if (status == 0 && !r->too_big && cluster_record_untar(r->tar, r->len, &r->ci->record) == 0)
        r->ci->has_record = 1;
    release(r->s);
}

/* Every list is in: each cluster with a ZooKeeper container has its
 * record read from it. */
static void read_records(survey *s) {
    s->reads = calloc(s->census.n + 1, sizeof(*s->reads));
    if (s->reads == NULL) {
        s->status = UV_ENOMEM;
        snprintf(s->msg, sizeof(s->msg), "out of memory");
        return;
    }
    for (size_t i = 0; i < s->census.n; i++) {
        record_read *r = &s->reads[i];
        r->s = s;
        r->ci = &s->census.list[i];
        if (r->ci->zookeeper == NULL)
            continue;
        if (docker_container_archive(s->d, r->ci->zookeeper, CLUSTER_RECORD_DIR CLUSTER_RECORD_FILE,
                                     record_piece, record_read_done, r, NULL) == 0)
            s->pending++;
    }
}

static void listed(survey *s, enum cluster_object_kind kind, int status, const char *msg,
                   const docker_object *objs, size_t n) {
    if (status != 0 && s->status == 0) {
        s->status = status;
        snprintf(s->msg, sizeof(s->msg), "%s", msg != NULL ? msg : hdc_strerror(status));
    }
    if (status == 0 && s->status == 0 && cluster_census_add(&s->census, kind, objs, n) != 0) {
        s->status = UV_ENOMEM;
        snprintf(s->msg, sizeof(s->msg), "out of memory");
    }
    /* The last list: the records, held by one more reference. */
    if (s->pending == 1 && s->status == 0)
        read_records(s);
    release(s);
}

static void containers_listed(void *data, int status, const char *msg, const docker_object *objs,
                              size_t n) {
    listed(data, CLUSTER_CONTAINERS, status, msg, objs, n);
}

static void networks_listed(void *data, int status, const char *msg, const docker_object *objs,
                            size_t n) {
    listed(data, CLUSTER_NETWORKS, status, msg, objs, n);
}

static void volumes_listed(void *data, int status, const char *msg, const docker_object *objs,
                           size_t n) {
    listed(data, CLUSTER_VOLUMES, status, msg, objs, n);
}

int cluster_survey(uv_loop_t *loop, docker *d, const char *name, cluster_survey_cb cb, void *data) {
    static const struct {
        int (*list)(docker *d, const char *label, docker_list_cb cb, void *data, docker_call **out);
        docker_list_cb done;
    } lists[] = {
        {docker_container_list, containers_listed},
        {docker_network_list, networks_listed},
        {docker_volume_list, volumes_listed},
    };
    survey *s;
    char *filter;
    int err = 0;

    (void)loop;
    if (cb == NULL)
        return UV_EINVAL;
    filter = name != NULL ? util_asprintf("hdc.cluster=%s", name) : strdup("hdc.cluster");
    s = calloc(1, sizeof(*s));
    if (filter == NULL || s == NULL) {
        free(filter);
        free(s);
        return UV_ENOMEM;
    }
    s->d = d;
    s->cb = cb;
    s->data = data;
    s->pending = 1; /* held until every list is asked for */
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]) && err == 0; i++) {
        err = lists[i].list(d, filter, lists[i].done, s, NULL);
        if (err == 0)
            s->pending++;
    }
    free(filter);
    if (s->pending == 1) { /* nothing asked: nothing will call back */
        free(s);
        return err;
    }
    if (err != 0) {
        s->status = err;
        snprintf(s->msg, sizeof(s->msg), "cannot ask Docker: %s", hdc_strerror(err));
    }
    /* The reference held while asking: released from the loop, never from
     * inside this call, by the lists' callbacks (pending stays > 0 here). */
    s->pending--;
    return 0;
}

/* ---- letting a held cluster go ------------------------------------------------------------ */

typedef struct release_op {
    docker *d;
    cluster_release_cb cb;
    void *data;
} release_op;

static void released(void *data, int status, const char *msg) {
    release_op *r = data;

    r->cb(r->data, status, msg);
    free(r);
}

static void release_surveyed(void *data, int status, const char *msg, const cluster_info *list,
                             size_t n) {
    release_op *r = data;
    cluster_record rec;
    void *tar;
    size_t len;
    int err;

    if (status == 0 && (n == 0 || list[0].zookeeper == NULL || !list[0].has_record)) {
        status = DOCKER_ENOTFOUND;
        msg = "no record to rewrite (no ZooKeeper container, or none written)";
    }
    if (status != 0) {
        released(r, status, msg);
        return;
    }
    rec = list[0].record;
    rec.holder[0] = '\0';
    if ((err = cluster_record_tar(&rec, &tar, &len)) != 0) {
        released(r, err, hdc_strerror(err));
        return;
    }
    err = docker_container_put_archive(r->d, list[0].zookeeper, CLUSTER_RECORD_DIR, tar, len,
                                       released, r, NULL);
    free(tar);
    if (err != 0)
        released(r, err, hdc_strerror(err));
}

int cluster_release(uv_loop_t *loop, docker *d, const char *name, cluster_release_cb cb,
                    void *data) {
    release_op *r = calloc(1, sizeof(*r));
    int err;

    if (r == NULL)
        return UV_ENOMEM;
    r->d = d;
    r->cb = cb;
    r->data = data;
    err = cluster_survey(loop, d, name, release_surveyed, r);
    if (err != 0)
        free(r);
    return err;
}
