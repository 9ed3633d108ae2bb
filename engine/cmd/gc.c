/* `hdc gc [--stopped] [--older-than DURATION]`: removes, as `hdc down
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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster_query.h"
#include "cluster_survey.h"
#include "cmd.h"
#include "util.h"

/* One cluster being removed. */
typedef struct gc_one {
    runner *r;
    char *name;
} gc_one;

typedef struct gc_ctx {
    runner *r;
    const cmd_gc_opts *o;
    gc_one *ones; /* malloc'd */
    size_t n;
} gc_ctx;

int cmd_gc_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_gc_opts *o, char *err,
                 size_t err_len) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--stopped") == 0) {
            o->stopped = 1;
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
        gc->n++;
        fprintf(
            stderr, "hdc: gc: %s is %s%s: removing it\n", ci->name, cluster_state_name(ci->state),
            ci->state == CLUSTER_FAILED && ci->owner_is == OWNER_GONE ? " and its up is gone" : "");
        if (cluster_down(&gc->r->loop, gc->r->d, one->name, removed, one) != 0)
            runner_fail(gc->r, RUNNER_FAILED, "gc: cannot remove %s: cannot ask Docker", one->name);
    }
    if (gc->n == 0)
        fprintf(stderr, "hdc: gc: nothing to remove (`hdc ls` shows every cluster and its "
                        "state)\n");
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
    return err;
}

const cmd cmd_gc = {
    .name = "gc",
    .usage = "hdc gc [--stopped] [--older-than DURATION]",
    .summary = "remove orphaned and expired clusters, failed ones whose up is gone, and what a "
               "killed up left; stopped ones only when asked",
    .opts_size = sizeof(cmd_gc_opts),
    .parse = parse,
    .run = run,
};
