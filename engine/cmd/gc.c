/* `hdc gc [--stopped] [--older-than DURATION] [--images]`: removes, as `hdc down
 * NAME` does, the clusters nothing will come back for: orphaned ones (the
 * command that made or held them is gone before they were up), expired
 * ones (their --ttl passed), failed ones whose owner is gone, and networks
 * and volumes left alone by an up killed early. Stopped clusters keep
 * their data for a later start unless asked: --stopped takes every one,
 * --older-than D the stopped and failed ones that have been so for D.
 *
 * Decisions a newcomer might question:
 * - What a cluster is comes from the survey (cluster_survey.h), the very
 *   state `hdc ls` shows: never an up at work (its owner runs, or runs
 *   where this hdc cannot see, in another PID namespace or host), never a
 *   cluster that is up.
 * - The decision is a pure function (cmd_gc_takes) with its test.
 * - Each removal reports with the messages of `hdc down NAME`
 *   (cmd_report_down), after a line saying why it goes.
 * - Each removal heals the cluster first, as `hdc down` does (cluster_down
 *   runs cluster_heal): what `hdc fault` left paused is unpaused.
 * - --images runs after the clusters are removed, so that their images are
 *   free by then: hdc's images (label hdc.image) that no container uses
 *   and that are not what REPO:latest or REPO:stand-in name, dangling ones
 *   included (images_gc_pick), removed one at a time by tag without
 *   force: an image Docker still needs (a child built FROM it, a container
 *   made meanwhile) is kept with Docker's reason, not a failure.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster_query.h"
#include "cluster_survey.h"
#include "cmd.h"
#include "images.h"
#include "util.h"

/* One cluster being removed. */
typedef struct gc_ctx gc_ctx;

typedef struct gc_one {
    runner *r;
    gc_ctx *gc;
    char *name;
} gc_one;

struct gc_ctx {
    runner *r;
    const cmd_gc_opts *o;
    gc_one *ones; /* malloc'd */
    size_t n;
    size_t removing; /* clusters whose removal has not called back */
    int surveyed;
    /* --images: the hdc images (copied from the list), then what goes. */
    json_t *images;
    char **refs;
    size_t n_refs, next_ref, images_removed, images_kept;
};

static void images_next(gc_ctx *gc);

static void image_removed(void *data, int status, const char *msg) {
    gc_ctx *gc = data;
    const char *ref = gc->refs[gc->next_ref];

    if (status == 0) {
        gc->images_removed++;
        fprintf(stderr, "hdc: gc: removed image %s\n", ref);
    } else if (status == DOCKER_ECONFLICT || status == DOCKER_ENOTFOUND) {
        gc->images_kept += status == DOCKER_ECONFLICT;
        fprintf(stderr, "hdc: gc: %s image %s: %s\n",
                status == DOCKER_ECONFLICT ? "kept" : "already gone:", ref,
                msg != NULL ? msg : hdc_strerror(status));
    } else {
        runner_fail(gc->r, RUNNER_FAILED, "gc: cannot remove image %s: %s", ref,
                    msg != NULL ? msg : hdc_strerror(status));
    }
    gc->next_ref++;
    images_next(gc);
}

static void images_next(gc_ctx *gc) {
    int err;

    if (gc->next_ref == gc->n_refs) {
        fprintf(stderr, "hdc: gc: images: %zu removed, %zu kept by Docker%s\n", gc->images_removed,
                gc->images_kept,
                gc->n_refs == 0 ? " (every hdc image is in use or the newest of its repository)"
                                : "");
        return;
    }
    err = docker_image_remove(gc->r->d, gc->refs[gc->next_ref], 0, image_removed, gc, NULL);
    if (err != 0)
        runner_fail(gc->r, RUNNER_FAILED, "gc: cannot remove image %s: %s", gc->refs[gc->next_ref],
                    hdc_strerror(err));
}

/* Every container of the engine: which images are in use. */
static void containers_listed(void *data, int status, const char *msg, const docker_object *objs,
                              size_t n) {
    gc_ctx *gc = data;
    size_t n_images = json_array_size(gc->images), cap = n_images * 8 + 1;
    docker_object *images = calloc(n_images + 1, sizeof(*images));
    const char **refs = calloc(cap, sizeof(*refs));
    size_t k;
    json_t *im;

    if (status != 0 || images == NULL || refs == NULL) {
        runner_fail(gc->r, RUNNER_FAILED, "gc: images: %s", status != 0 ? msg : "out of memory");
        goto exit;
    }
    json_array_foreach(gc->images, k, im) {
        images[k].id = json_string_value(json_object_get(im, "Id"));
        images[k].raw = im;
    }
    gc->n_refs = images_gc_pick(images, n_images, objs, n, refs, cap);
    if ((gc->refs = calloc(gc->n_refs + 1, sizeof(*gc->refs))) == NULL) {
        gc->n_refs = 0;
        runner_fail(gc->r, RUNNER_FAILED, "gc: images: out of memory");
        goto exit;
    }
    for (size_t i = 0; i < gc->n_refs; i++)
        if ((gc->refs[i] = strdup(refs[i])) == NULL) {
            gc->n_refs = i;
            runner_fail(gc->r, RUNNER_FAILED, "gc: images: out of memory");
            goto exit;
        }
    images_next(gc);

exit:
    free(images);
    free(refs);
}

static void images_listed(void *data, int status, const char *msg, const docker_object *objs,
                          size_t n) {
    gc_ctx *gc = data;
    int err;

    if (status != 0) {
        runner_fail(gc->r, RUNNER_FAILED, "gc: images: %s", msg);
        return;
    }
    gc->images = json_array();
    for (size_t i = 0; i < n; i++)
        if (objs[i].raw != NULL)
            json_array_append(gc->images, (json_t *)objs[i].raw);
    if ((err = docker_container_list(gc->r->d, NULL, containers_listed, gc, NULL)) != 0)
        runner_fail(gc->r, RUNNER_FAILED, "gc: images: %s", hdc_strerror(err));
}

/* The clusters' part is done: the images, if asked. */
static void clusters_done(gc_ctx *gc) {
    int err;

    if (!gc->o->images || !gc->surveyed || gc->removing > 0)
        return;
    gc->surveyed = 0; /* once */
    if ((err = docker_image_list(gc->r->d, "hdc.image", images_listed, gc, NULL)) != 0)
        runner_fail(gc->r, RUNNER_FAILED, "gc: images: %s", hdc_strerror(err));
}

int cmd_gc_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_gc_opts *o, char *err,
                 size_t err_len) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--stopped") == 0) {
            o->stopped = 1;
        } else if (strcmp(a, "--images") == 0) {
            o->images = 1;
        } else if (strcmp(a, "--older-than") == 0) {
            int rc = cmd_duration(a, i + 1 < argc ? argv[++i] : NULL, 1, 365 * 86400,
                                  &o->older_than_s, err, err_len);
            if (rc != 0)
                return rc;
        } else if (a[0] == '-') {
            return util_fail(err, err_len, RUNNER_USAGE,
                             "gc: unknown flag '%s'; 'hdc help gc' shows the usage", a);
        } else {
            return util_fail(err, err_len, RUNNER_USAGE,
                             "gc: unexpected argument '%s': gc takes no cluster name (`hdc down "
                             "NAME` removes one)",
                             a);
        }
    }
    return 0;
}

/* Since when a cluster has been in its state: its record's change, else
 * its creation; 0 unknown. */
static int64_t since(const cluster_info *ci) {
    return ci->has_record && ci->record.since > 0 ? ci->record.since : ci->created;
}

int cmd_gc_takes(const cluster_info *ci, const cmd_gc_opts *o, int64_t now) {
    int64_t t = since(ci);

    if (cluster_collectable(ci->state, ci->owner_is, o->stopped))
        return 1;
    return o->older_than_s > 0 && (ci->state == CLUSTER_STOPPED || ci->state == CLUSTER_FAILED) &&
           t > 0 && now - t >= (int64_t)o->older_than_s;
}

static void removed(void *data, int status, const char *msg, unsigned count) {
    gc_one *one = data;

    cmd_report_down(one->r, one->name, status, msg, count);
    one->gc->removing--;
    clusters_done(one->gc);
}

static void surveyed(void *data, int status, const char *msg, const cluster_info *list, size_t n) {
    gc_ctx *gc = data;
    int64_t now = (int64_t)time(NULL);

    if (status != 0) {
        runner_fail(gc->r, RUNNER_FAILED, "gc: %s", msg);
        return;
    }
    gc->ones = calloc(n + 1, sizeof(*gc->ones));
    if (gc->ones == NULL) {
        runner_fail(gc->r, RUNNER_FAILED, "gc: out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const cluster_info *ci = &list[i];
        gc_one *one = &gc->ones[gc->n];
        if (!cmd_gc_takes(ci, gc->o, now))
            continue;
        if ((one->name = strdup(ci->name)) == NULL) {
            runner_fail(gc->r, RUNNER_FAILED, "gc: out of memory");
            return;
        }
        one->r = gc->r;
        one->gc = gc;
        gc->n++;
        fprintf(
            stderr, "hdc: gc: %s is %s%s: removing it\n", ci->name, cluster_state_name(ci->state),
            ci->state == CLUSTER_FAILED && ci->owner_is == OWNER_GONE ? " and its up is gone" : "");
        if (cluster_down(&gc->r->loop, gc->r->d, one->name, removed, one) != 0)
            runner_fail(gc->r, RUNNER_FAILED, "gc: cannot remove %s: cannot ask Docker", one->name);
        else
            gc->removing++;
    }
    if (gc->n == 0)
        fprintf(stderr, "hdc: gc: nothing to remove (`hdc ls` shows every cluster and its "
                        "state)\n");
    gc->surveyed = 1;
    clusters_done(gc);
}

static int parse(const cmd_ctx *ctx, int argc, char **argv, void *opts, char *err, size_t err_len) {
    return cmd_gc_parse(ctx, argc, argv, opts, err, err_len);
}

static int run(const cmd_ctx *cc, void *opts) {
    gc_ctx gc = {.o = opts};
    runner r;
    int err;

    if ((err = runner_open(&r, NULL)) != 0)
        return err;
    gc.r = &r;
    if (cluster_survey(&r.loop, r.d, NULL, surveyed, &gc) != 0)
        r.status = RUNNER_FAILED;
    err = runner_finish(&r);
    for (size_t i = 0; i < gc.n; i++)
        free(gc.ones[i].name);
    free(gc.ones);
    for (size_t i = 0; i < gc.n_refs; i++)
        free(gc.refs[i]);
    free(gc.refs);
    json_decref(gc.images);
    return err;
}

const cmd cmd_gc = {
    .name = "gc",
    .usage = "hdc gc [--stopped] [--older-than DURATION] [--images]",
    .summary = "remove orphaned and expired clusters, failed ones whose up is gone, and what a "
               "killed up left; stopped ones only when asked; --images: unused old images",
    .opts_size = sizeof(cmd_gc_opts),
    .parse = parse,
    .run = run,
};
