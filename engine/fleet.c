/* A fleet of ups (fleet.h).
 *
 * Decisions a newcomer might question:
 * - The plan of each cluster is made when it is added, not when its up
 *   starts: a command refuses bad input (a pool, a count) with exit 2
 *   before it creates anything, and the plan made then is the one the up
 *   uses.
 * - Slots count clusters alive, not ups in flight: a slot is freed when
 *   the command releases the member, so `parallel` bounds the host's
 *   memory for the whole life of each cluster.
 * - A distribution's images are resolved once per fleet, by its first
 *   member to start, and the members of that distribution that start
 *   meanwhile wait for it: two ups of one version never build the same
 *   image side by side. A member waiting holds its slot: the resolution
 *   is the start of its up.
 */
#include "fleet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster_spec.h" /* cluster_memory_check */
#include "owner.h"
#include "util.h"

/* A distribution's images, resolved for every member of it. */
typedef struct resolution {
    fleet *f;
    const char *dist;    /* the first member's */
    fleet_member *first; /* whose hook hears the builds */
    images_job *job;     /* in flight, or NULL */
    int done, status;
    char *msg;
    cluster_images images;
} resolution;

struct fleet {
    uv_loop_t *loop;
    docker *d;
    fleet_opts opts;
    char *logs_root, *keys_root; /* absolute; opts point at them */
    char owner[OWNER_MAX];
    fleet_hooks hooks;
    void *data;
    fleet_member **members;
    size_t n, cap;
    probe_pacer pacer; /* every member's probes */
    size_t alive;      /* members started and not released */
    int canceled;
    resolution **resolutions;
    size_t n_res, cap_res;
};

int fleet_new(const fleet_opts *o, const fleet_hooks *hooks, void *data, fleet **out) {
    fleet *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return UV_ENOMEM;
    f->opts = *o;
    f->hooks = *hooks;
    f->data = data;
    probe_pacer_init(&f->pacer, PROBE_FLEET_RATE);
    *out = f;
    f->logs_root = util_abspath(o->logs_root != NULL ? o->logs_root : "logs");
    f->keys_root = util_abspath(o->keys_root != NULL ? o->keys_root : ".hdc");
    if (f->logs_root == NULL || f->keys_root == NULL)
        return UV_ENOMEM;
    f->opts.logs_root = f->logs_root;
    f->opts.keys_root = f->keys_root;
    /* Without /proc the owner is "": unknown to every reader, so only a
     * time-to-live ends such a cluster. */
    if (owner_self(f->owner) != 0)
        f->owner[0] = '\0';
    return 0;
}

void fleet_attach(fleet *f, uv_loop_t *loop, docker *d) {
    f->loop = loop;
    f->d = d;
}

void *fleet_data(const fleet *f) {
    return f->data;
}

int fleet_add(fleet *f, plugin *plug, const char *name, fleet_member **out, char *err,
              size_t err_len) {
    fleet_member *m;
    plan_pool pool;
    int rc;

    if (util_grow(&f->members, &f->cap, f->n + 1, sizeof(*f->members)) != 0 ||
        (m = calloc(1, sizeof(*m))) == NULL) {
        plugin_unload(plug);
        return util_fail(err, err_len, UV_ENOMEM, "out of memory");
    }
    m->f = f;
    m->plug = plug;
    m->dist = plug->desc->name;
    snprintf(m->name, sizeof(m->name), "%s", name);
    f->members[f->n++] = m;
    rc = plan_pool_parse(f->opts.subnet_pool, &pool, err, err_len);
    if (rc == 0)
        rc = plan_make(&m->plan, plug->desc, name, f->opts.datanodes, &pool,
                       plan_pool_start(&pool, name), err, err_len);
    if (rc == 0)
        rc = cluster_memory_check(&m->plan, f->opts.memory_mb, err, err_len);
    if (rc == 0 && f->opts.images != NULL) {
        /* Its images' identities need their build contexts. */
        char why[4608];
        rc = images_check(plug->desc, f->opts.images, why, sizeof(why));
        if (rc != 0)
            snprintf(err, err_len,
                     "%s: %s: its images' identities are computed from it (HDC_CLUSTERS_DIR "
                     "names where the build contexts are)",
                     m->dist, why);
    }
    if (out != NULL)
        *out = m;
    return rc;
}

size_t fleet_size(const fleet *f) {
    return f->n;
}

fleet_member *fleet_at(const fleet *f, size_t i) {
    return i < f->n ? f->members[i] : NULL;
}

static void up_progress(void *data, const cluster_node_report *rep) {
    fleet_member *m = data;

    if (m->f->hooks.progress != NULL)
        m->f->hooks.progress(m, rep);
}

static void up_ready(void *data, const cluster_report *r) {
    fleet_member *m = data;

    m->ready = 1;
    if (m->f->hooks.ready != NULL)
        m->f->hooks.ready(m, r);
}

static void up_done(void *data, const cluster_report *r) {
    fleet_member *m = data;

    m->c = NULL;
    m->state = FLEET_ENDED;
    m->f->hooks.done(m, r->status, r);
}

/* The up could not start: told from the loop, never from inside a call. */
typedef struct start_failure {
    uv_idle_t idle;
    fleet_member *m;
    int status;
} start_failure;

static void failure_closed(uv_handle_t *h) {
    free(h->data);
}

static void failure_told(uv_idle_t *idle) {
    start_failure *sf = idle->data;
    fleet_member *m = sf->m;

    uv_close((uv_handle_t *)idle, failure_closed);
    m->state = FLEET_ENDED;
    m->f->hooks.done(m, sf->status, NULL);
}

/* What the labels of m's objects say: made at its start. */
static int identify(fleet_member *m) {
    fleet *f = m->f;

    free(m->logs_dir);
    free(m->keys_dir);
    m->logs_dir = util_asprintf("%s/%s", f->logs_root, m->name);
    m->keys_dir = util_asprintf("%s/%s", f->keys_root, m->name);
    if (m->logs_dir == NULL || m->keys_dir == NULL)
        return UV_ENOMEM;
    m->id = (cluster_identity){
        .owner = f->owner,
        .created = (int64_t)time(NULL),
        .logs_dir = m->logs_dir,
        .keys_dir = m->keys_dir,
    };
    if (f->opts.ttl_s > 0)
        m->id.expires = m->id.created + (int64_t)f->opts.ttl_s;
    return 0;
}

/* Its up could not start: done, with why, from the loop. */
static void start_failed(fleet_member *m, int err, const char *why, int from_call) {
    fleet *f = m->f;
    start_failure *sf;

    m->c = NULL;
    m->why = why;
    if (from_call) {
        sf = calloc(1, sizeof(*sf));
        if (sf != NULL && uv_idle_init(f->loop, &sf->idle) == 0) {
            sf->m = m;
            sf->status = err;
            sf->idle.data = sf;
            uv_idle_start(&sf->idle, failure_told);
            return;
        }
        free(sf);
    }
    m->state = FLEET_ENDED;
    f->hooks.done(m, err, NULL);
}

/* The up itself, its images resolved (or not asked for). */
static void go(fleet_member *m, int from_call) {
    fleet *f = m->f;
    cluster_up_opts uo = {
        .timeout_s = f->opts.timeout_s,
        .publish_classic = f->opts.publish_classic,
        .rm_on_failure = f->opts.rm_on_failure,
        .follow = f->opts.follow,
        .logs_root = f->opts.logs_root,
        .test_user = f->opts.test_user,
        .id = &m->id,
        .held = f->opts.held,
        .boot_timeout_s = f->opts.boot_timeout_s,
        .memory_mb = f->opts.memory_mb,
        .on_ready = up_ready,
        .pacer = &f->pacer,
        .images = m->images,
    };
    int err;

    err = identify(m);
    if (err == 0)
        err = plan_pool_parse(f->opts.subnet_pool, &uo.pool, NULL, 0);
    if (err == 0)
        err = cluster_up(f->loop, f->d, &m->plan, &uo, up_progress, up_done, m, &m->c);
    if (err != 0)
        start_failed(m, err, NULL, from_call);
}

/* A resolution has ended: its members waiting go on, or fail with it. */
static void resolution_told(resolution *r, fleet_member *m, int from_call) {
    m->resolving = 0;
    if (r->status != 0) {
        start_failed(m, r->status, r->msg, from_call);
        return;
    }
    m->images = &r->images;
    if (m->f->canceled)
        start_failed(m, UV_ECANCELED, NULL, from_call);
    else
        go(m, from_call);
}

static void resolve_building(void *data, const char *image, const char *line) {
    resolution *r = data;

    if (r->f->hooks.building != NULL)
        r->f->hooks.building(r->first, image, line);
}

static void resolved(void *data, int status, const char *msg, const cluster_images *images) {
    resolution *r = data;
    fleet *f = r->f;

    r->job = NULL;
    r->done = 1;
    r->status = status;
    if (status == 0)
        r->images = *images;
    else
        r->msg = util_asprintf("%s", msg != NULL ? msg : hdc_strerror(status));
    for (size_t i = 0; i < f->n; i++)
        if (f->members[i]->resolving && strcmp(f->members[i]->dist, r->dist) == 0)
            resolution_told(r, f->members[i], 0);
}

/* m's distribution's resolution: the one of the fleet, else a new one. */
static resolution *resolution_of(fleet_member *m) {
    fleet *f = m->f;
    resolution *r;
    int err;

    for (size_t i = 0; i < f->n_res; i++)
        if (strcmp(f->resolutions[i]->dist, m->dist) == 0)
            return f->resolutions[i];
    if (util_grow(&f->resolutions, &f->cap_res, f->n_res + 1, sizeof(*f->resolutions)) != 0 ||
        (r = calloc(1, sizeof(*r))) == NULL)
        return NULL;
    f->resolutions[f->n_res++] = r;
    *r = (resolution){.f = f, .dist = m->dist, .first = m};
    err = images_resolve(f->loop, f->d, m->plug->desc, f->opts.images, resolve_building, resolved,
                         r, &r->job);
    if (err != 0) {
        r->done = 1;
        r->status = err;
        r->msg = util_asprintf("%s: cannot resolve its images: %s", m->dist, hdc_strerror(err));
    }
    return r;
}

static void start(fleet_member *m) {
    fleet *f = m->f;
    resolution *r;

    f->alive++;
    m->state = FLEET_UP;
    if (f->hooks.started != NULL)
        f->hooks.started(m);
    if (f->opts.images == NULL) {
        go(m, 1);
        return;
    }
    if ((r = resolution_of(m)) == NULL) {
        start_failed(m, UV_ENOMEM, NULL, 1);
        return;
    }
    m->resolving = 1;
    if (r->done)
        resolution_told(r, m, 1);
}

/* Starts the members waiting while there is a free slot, in order. */
static void pump(fleet *f) {
    for (size_t i = 0; i < f->n && !f->canceled; i++) {
        if (f->opts.parallel > 0 && f->alive >= f->opts.parallel)
            return;
        if (f->members[i]->state == FLEET_WAITING)
            start(f->members[i]);
    }
}

void fleet_launch(fleet_member *m) {
    if (m->state != FLEET_IDLE)
        return;
    m->state = FLEET_WAITING;
    pump(m->f);
}

void fleet_release(fleet_member *m) {
    fleet *f = m->f;

    if (m->state == FLEET_UP || m->state == FLEET_ENDED) {
        m->state = FLEET_RELEASED;
        f->alive--;
    }
    pump(f);
}

void fleet_stop(fleet_member *m) {
    if (m->c != NULL)
        cluster_cancel(m->c);
}

void fleet_cancel(fleet *f) {
    f->canceled = 1;
    for (size_t i = 0; i < f->n_res; i++)
        if (f->resolutions[i]->job != NULL)
            images_cancel(f->resolutions[i]->job);
    for (size_t i = 0; i < f->n; i++)
        if (f->members[i]->c != NULL && !f->members[i]->ready)
            cluster_cancel(f->members[i]->c);
}

int fleet_canceled(const fleet *f) {
    return f->canceled;
}

int fleet_settled(const fleet *f) {
    for (size_t i = 0; i < f->n; i++)
        if (f->members[i]->state == FLEET_UP ||
            (f->members[i]->state == FLEET_WAITING && !f->canceled))
            return 0;
    return 1;
}

void fleet_free(fleet *f) {
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->n; i++) {
        plan_free(&f->members[i]->plan);
        plugin_unload(f->members[i]->plug);
        free(f->members[i]->logs_dir);
        free(f->members[i]->keys_dir);
        free(f->members[i]);
    }
    free(f->members);
    for (size_t i = 0; i < f->n_res; i++) {
        free(f->resolutions[i]->msg);
        free(f->resolutions[i]);
    }
    free(f->resolutions);
    free(f->logs_root);
    free(f->keys_root);
    free(f);
}
