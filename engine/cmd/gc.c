/* `hdc gc`: removes, as `hdc down NAME` does, every cluster none of whose
 * containers is active (all exited or dead): what is left of clusters
 * whose containers all stopped.
 *
 * Decisions a newcomer might question:
 * - A cluster with a container created, running, restarting or paused is
 *   left alone: created is what another `hdc up` at work looks like, and
 *   gc must never pull a cluster from under it.
 * - Only clusters with containers are seen: a network or volume without
 *   containers is left for `hdc down NAME`.
 * - Each removal reports with the messages of `hdc down NAME`
 *   (cmd_report_down).
 * - The names are copied out of the listing (borrowed for its callback)
 *   into one allocation sized to the clusters found, which the removals
 *   use until the loop ends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_query.h"
#include "cmd.h"

/* One cluster being removed. */
typedef struct gc_one {
    runner *r;
    const char *name; /* in gc_ctx.ones' allocation */
} gc_one;

typedef struct gc_ctx {
    runner *r;
    gc_one *ones; /* malloc'd, the names after the array */
    size_t n;
} gc_ctx;

/* The end of the run of containers of list[i]'s cluster (the list is
 * sorted by cluster), and in *idle whether none of them is active. */
static size_t group_end(const cluster_container *list, size_t n, size_t i, int *idle) {
    size_t j = i;

    *idle = 1;
    for (; j < n && strcmp(list[j].cluster, list[i].cluster) == 0; j++)
        if (cluster_container_active(list[j].state))
            *idle = 0;
    return j;
}

static void removed(void *data, int status, const char *msg, unsigned count) {
    gc_one *one = data;

    cmd_report_down(one->r, one->name, status, msg, count);
}

static void listed(void *data, int status, const char *msg, const cluster_container *list,
                   size_t n) {
    gc_ctx *gc = data;
    size_t n_idle = 0, names_len = 0;
    char *names;
    int idle;

    if (status != 0) {
        runner_fail(gc->r, RUNNER_FAILED, "gc: %s", msg);
        return;
    }
    for (size_t i = 0; i < n;) {
        size_t j = group_end(list, n, i, &idle);
        if (idle) {
            n_idle++;
            names_len += strlen(list[i].cluster) + 1;
        }
        i = j;
    }
    if (n_idle == 0) {
        fprintf(stderr, "hdc: gc: nothing left over\n");
        return;
    }
    gc->ones = malloc(n_idle * sizeof(*gc->ones) + names_len);
    if (gc->ones == NULL) {
        runner_fail(gc->r, RUNNER_FAILED, "gc: out of memory");
        return;
    }
    names = (char *)(gc->ones + n_idle);
    for (size_t i = 0; i < n;) {
        size_t j = group_end(list, n, i, &idle);
        if (idle) {
            gc_one *one = &gc->ones[gc->n++];
            size_t len = strlen(list[i].cluster) + 1;
            memcpy(names, list[i].cluster, len);
            one->r = gc->r;
            one->name = names;
            names += len;
            cluster_down(&gc->r->loop, gc->r->d, one->name, removed, one);
        }
        i = j;
    }
}

static int parse(const cmd_ctx *ctx, int argc, char **argv, void *opts, char *err, size_t err_len) {
    return cmd_no_args_parse("gc", argc, argv, err, err_len);
}

static int run(const cmd_ctx *cc, void *opts) {
    gc_ctx gc = {0};
    runner r;
    int err;

    if ((err = runner_open(&r, NULL)) != 0)
        return err;
    gc.r = &r;
    if (cluster_list(&r.loop, r.d, NULL, listed, &gc) != 0)
        r.status = RUNNER_FAILED;
    err = runner_finish(&r);
    free(gc.ones);
    return err;
}

const cmd cmd_gc = {
    .name = "gc",
    .usage = "hdc gc",
    .summary = "remove clusters of which no container runs",
    .parse = parse,
    .run = run,
};
