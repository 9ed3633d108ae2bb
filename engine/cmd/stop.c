/* `hdc stop NAME...`: every container of the clusters stopped, ZooKeeper
 * last, their data kept (cluster_stop.h); `hdc start` brings them back.
 * The record says `stopped`: `hdc ls` shows it so, `hdc gc` leaves it
 * (but with --stopped), `hdc up` of the name points to `hdc start`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_stop.h"
#include "cluster_survey.h"
#include "cmd.h"

typedef struct stop_one {
    runner *r;
    const char *name;
} stop_one;

static void stopped(void *data, int status, const char *msg, size_t n) {
    stop_one *s = data;

    if (status != 0) {
        runner_fail(s->r, RUNNER_FAILED, "%s: `hdc stop %s` tries again", msg, s->name);
        return;
    }
    printf("%s is stopped (%zu containers, data kept): `hdc start %s` starts it again\n", s->name,
           n, s->name);
}

static void surveyed(void *data, int status, const char *msg, const cluster_info *list, size_t n) {
    stop_one *s = data;

    if (status != 0) {
        runner_fail(s->r, RUNNER_FAILED, "%s", msg);
        return;
    }
    if (n == 0 || list[0].containers == 0) {
        runner_fail(s->r, RUNNER_USAGE, "no cluster named '%s' to stop; `hdc ls` lists them",
                    s->name);
        return;
    }
    if (list[0].state == CLUSTER_CREATING) {
        runner_fail(s->r, RUNNER_FAILED,
                    "cluster '%s' is being created by an `hdc up` that runs: stop that one "
                    "(Ctrl-C), or wait for it",
                    s->name);
        return;
    }
    if (cluster_stop(&s->r->loop, s->r->d, &list[0], NULL, 0, stopped, s) != 0)
        runner_fail(s->r, RUNNER_FAILED, "%s: cannot ask Docker", s->name);
}

static int parse(const cmd_ctx *ctx, int argc, char **argv, void *opts, char *err, size_t err_len) {
    return cmd_start_parse(ctx, argc, argv, opts, err, err_len);
}

static int run(const cmd_ctx *ctx, void *opts) {
    cmd_start_opts *o = opts;
    stop_one *stops = calloc(o->n_names, sizeof(*stops));
    runner r;
    int err;

    if (stops == NULL) {
        runner_error("out of memory");
        return RUNNER_FAILED;
    }
    if ((err = runner_open(&r, NULL)) != 0) {
        free(stops);
        return err;
    }
    for (size_t i = 0; i < o->n_names; i++) {
        stops[i] = (stop_one){.r = &r, .name = o->names[i]};
        if (cluster_survey(&r.loop, r.d, o->names[i], surveyed, &stops[i]) != 0)
            r.status = RUNNER_FAILED;
    }
    err = runner_finish(&r);
    free(stops);
    return err;
}

static void free_opts(void *opts) {
    cmd_start_opts *o = opts;

    free(o->names);
}

const cmd cmd_stop = {
    .name = "stop",
    .usage = "hdc stop NAME...",
    .summary = "stop clusters, keeping their data (`hdc start` starts them again)",
    .opts_size = sizeof(cmd_start_opts),
    .parse = parse,
    .run = run,
    .free = free_opts,
};
