/* `hdc fault NAME TARGET ACTION [--for DURATION]`: a node broken on
 * purpose, so that a client library's tests can see how their code copes.
 * TARGET is a node's hostname (datanode1) or a service (datanode: each of
 * its nodes). ACTION: kill (SIGKILL), stop, pause, unpause, disconnect
 * (off the cluster's network, and with it its published ports), reconnect.
 * With --for, hdc stays in the foreground and undoes the fault when the
 * time is up or on the first signal.
 *
 * Decisions a newcomer might question:
 * - A kill is in place once the container has exited: Docker answers a
 *   kill with a signal named as soon as it is sent, and a start that came
 *   before the exit would do nothing.
 * - Reconnecting is cluster_heal's (cluster_heal.h), the very code `hdc
 *   down` and `hdc gc` run first: one place knows a node's address.
 * - The undo of a kill or a stop is a start: the node's agent starts its
 *   daemon again at once (docs/design.md, hdc-agent). Where a node cannot
 *   be undone, the message says what to run.
 * - --for without a fault to undo (unpause, reconnect) is refused by the
 *   parse, as is any bad input: nothing is touched then.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster_heal.h"
#include "cluster_query.h"
#include "cmd.h"
#include "plan.h"
#include "util.h"

#define FAULT_FOR_MAX_S (7 * 86400)

static const char *const action_names[] = {
    [CMD_FAULT_KILL] = "kill",
    [CMD_FAULT_STOP] = "stop",
    [CMD_FAULT_PAUSE] = "pause",
    [CMD_FAULT_UNPAUSE] = "unpause",
    [CMD_FAULT_DISCONNECT] = "disconnect",
    [CMD_FAULT_RECONNECT] = "reconnect",
};
#define N_ACTIONS (sizeof(action_names) / sizeof(action_names[0]))

/* What each action did, as a participle, and its undo. */
static const char *const done_names[] = {
    [CMD_FAULT_KILL] = "killed",
    [CMD_FAULT_STOP] = "stopped",
    [CMD_FAULT_PAUSE] = "paused",
    [CMD_FAULT_UNPAUSE] = "unpaused",
    [CMD_FAULT_DISCONNECT] = "disconnected",
    [CMD_FAULT_RECONNECT] = "reconnected",
};

#define USAGE \
    "hdc fault NAME NODE|SERVICE kill|stop|pause|unpause|disconnect|reconnect [--for DURATION]"

const char *cmd_fault_action_name(enum cmd_fault_action a) {
    return (size_t)a < N_ACTIONS ? action_names[a] : "?";
}

/* A node or service name as hdc makes them: the plan's hostnames and
 * services are short, lower-case, and never start with '-'. */
static int target_ok(const char *s) {
    size_t n = strlen(s);

    if (n == 0 || n > 63 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
        return 0;
    for (; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
            return 0;
    return 1;
}

int cmd_fault_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_fault_opts *o, char *err,
                    size_t err_len) {
    const char *pos[3];
    const char *for_s = NULL;
    size_t n_pos = 0;
    char why[256], shown[160];

    o->action = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--for") == 0) {
            if (i + 1 >= argc)
                return util_fail(err, err_len, RUNNER_USAGE,
                                 "fault: --for needs a value: seconds, or a duration (30s, 2m)");
            for_s = argv[++i];
        } else if (strncmp(a, "--for=", 6) == 0) {
            for_s = a + 6;
        } else if (a[0] == '-' && a[1] != '\0') {
            return util_fail(err, err_len, RUNNER_USAGE, "fault: unknown flag '%s'; usage: %s",
                             plan_escape(a, shown, sizeof(shown)), USAGE);
        } else if (n_pos == 3) {
            return util_fail(err, err_len, RUNNER_USAGE,
                             "fault: unexpected argument '%s'; usage: %s",
                             plan_escape(a, shown, sizeof(shown)), USAGE);
        } else {
            pos[n_pos++] = a;
        }
    }
    if (n_pos < 3)
        return util_fail(err, err_len, RUNNER_USAGE, "fault: usage: %s", USAGE);
    if (plan_name_check(pos[0], why, sizeof(why)) != 0)
        return util_fail(err, err_len, RUNNER_USAGE, "fault: %s", why);
    if (!target_ok(pos[1]))
        return util_fail(err, err_len, RUNNER_USAGE,
                         "fault: '%s' is not a node or service name; `hdc status %s` lists the "
                         "nodes",
                         plan_escape(pos[1], shown, sizeof(shown)), pos[0]);
    for (size_t k = 0; k < N_ACTIONS; k++)
        if (strcmp(pos[2], action_names[k]) == 0)
            o->action = (int)k;
    if (o->action < 0)
        return util_fail(err, err_len, RUNNER_USAGE,
                         "fault: unknown action '%s': give kill, stop, pause, unpause, disconnect "
                         "or reconnect",
                         plan_escape(pos[2], shown, sizeof(shown)));
    if (for_s != NULL) {
        int rc = cmd_duration("--for", for_s, 1, FAULT_FOR_MAX_S, &o->for_s, err, err_len);
        if (rc != 0) {
            /* cmd_duration's message, under this command's name. */
            char inner[256];
            snprintf(inner, sizeof(inner), "%s", err);
            return util_fail(err, err_len, RUNNER_USAGE, "fault: %s", inner);
        }
        if (o->action == CMD_FAULT_UNPAUSE || o->action == CMD_FAULT_RECONNECT)
            return util_fail(err, err_len, RUNNER_USAGE,
                             "fault: --for undoes a fault: %s has nothing to undo; drop --for",
                             action_names[o->action]);
    }
    o->name = pos[0];
    o->target = pos[1];
    return 0;
}

/* ---- the run ------------------------------------------------------------------ */

enum phase { LISTING, APPLYING, WAITING, UNDOING, DONE };

typedef struct fault_ctx fault_ctx;

typedef struct fault_node {
    fault_ctx *f;
    char id[80];
    char host[80];
    int in_place; /* the fault is on it (and to be undone) */
    int failed;
} fault_node;

struct fault_ctx {
    runner *r;
    const cmd_fault_opts *o;
    enum phase phase;
    fault_node *nodes;
    size_t n;
    size_t pending;
    char network[96];
    uv_timer_t timer;
    int timer_on;
    int interrupted; /* a signal came before the fault was in place */
    int signum;
};

static void undo(fault_ctx *f);

/* The hosts of the nodes that are (in_place) or are not in place, ", "-joined. */
static void hosts(const fault_ctx *f, int in_place, char *out, size_t len) {
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; i < f->n && used < len; i++)
        if (f->nodes[i].in_place == in_place)
            used += (size_t)snprintf(out + used, len - used, "%s%s", used ? ", " : "",
                                     f->nodes[i].host);
}

static void finish(fault_ctx *f) {
    f->phase = DONE;
    if (f->timer_on) {
        uv_close((uv_handle_t *)&f->timer, NULL);
        f->timer_on = 0;
    }
    runner_hold_signals(f->r, 0);
}

/* ---- undo ---- */

static void undone_one(fault_node *fn, int status, const char *msg) {
    fault_ctx *f = fn->f;
    const cmd_fault_opts *o = f->o;

    if (status == 0) {
        fn->in_place = 0;
    } else {
        fn->failed = 1;
        runner_fail(f->r, RUNNER_FAILED, "fault: %s: cannot undo the %s: %s: %s", fn->host,
                    action_names[o->action], msg != NULL ? msg : hdc_strerror(status),
                    o->action == CMD_FAULT_DISCONNECT ? "run `hdc fault NAME NODE reconnect`"
                    : o->action == CMD_FAULT_PAUSE    ? "run `hdc fault NAME NODE unpause`"
                                                      : "run `hdc restart NAME NODE`");
    }
    if (--f->pending > 0)
        return;
    {
        char done[512];
        hosts(f, 0, done, sizeof(done));
        if (done[0] != '\0')
            fprintf(stderr, "hdc: fault: %s: %s %s\n", o->name, done,
                    o->action == CMD_FAULT_DISCONNECT ? "reconnected"
                    : o->action == CMD_FAULT_PAUSE    ? "unpaused"
                                                      : "started again");
    }
    finish(f);
}

static void undone(void *data, int status, const char *msg) {
    undone_one(data, status, msg);
}

static void reconnected(void *data, int status, const char *msg, unsigned healed) {
    undone_one(data, status, msg);
}

static void undo(fault_ctx *f) {
    const cmd_fault_opts *o = f->o;

    f->phase = UNDOING;
    if (f->timer_on)
        uv_timer_stop(&f->timer);
    f->pending = 1;
    for (size_t i = 0; i < f->n; i++) {
        fault_node *fn = &f->nodes[i];
        const char *id = fn->id;
        int err;
        if (!fn->in_place)
            continue;
        switch (o->action) {
        case CMD_FAULT_PAUSE: err = docker_container_unpause(f->r->d, id, undone, fn, NULL); break;
        case CMD_FAULT_DISCONNECT:
            err = cluster_heal_nodes(&f->r->loop, f->r->d, &id, 1, CLUSTER_HEAL_RECONNECT,
                                     reconnected, fn);
            break;
        default: err = docker_container_start(f->r->d, id, undone, fn, NULL); break;
        }
        f->pending++;
        if (err != 0)
            undone_one(fn, err, NULL);
    }
    if (--f->pending == 0)
        finish(f);
}

static void time_up(uv_timer_t *t) {
    fault_ctx *f = t->data;

    fprintf(stderr, "hdc: fault: %s: %llu s are up: undoing the %s\n", f->o->name,
            (unsigned long long)f->o->for_s, action_names[f->o->action]);
    undo(f);
}

static void on_signal(runner *r, int signum) {
    fault_ctx *f = r->ctx;

    if (f->phase == WAITING) {
        fprintf(stderr, "hdc: fault: %s: undoing the %s\n", runner_signal_name(signum),
                action_names[f->o->action]);
        undo(f);
    } else if (f->phase == LISTING || f->phase == APPLYING) {
        f->interrupted = 1;
        f->signum = signum;
    }
}

/* ---- the fault ---- */

/* Every node's fault asked and answered: what was done, and what undoes it. */
static void applied(fault_ctx *f) {
    const cmd_fault_opts *o = f->o;
    char done[512];
    size_t n_done = 0;

    for (size_t i = 0; i < f->n; i++)
        n_done += f->nodes[i].in_place;
    hosts(f, 1, done, sizeof(done));
    if (o->for_s == 0) {
        if (n_done > 0) {
            const char *how = o->action == CMD_FAULT_DISCONNECT ? "reconnect"
                              : o->action == CMD_FAULT_PAUSE    ? "unpause"
                                                                : NULL;
            if (how != NULL)
                fprintf(stderr, "hdc: fault: %s: %s %s; `hdc fault %s %s %s` undoes it\n", o->name,
                        done, done_names[o->action], o->name, o->target, how);
            else if (o->action == CMD_FAULT_KILL || o->action == CMD_FAULT_STOP)
                fprintf(stderr, "hdc: fault: %s: %s %s; `hdc restart %s %s` undoes it\n", o->name,
                        done, done_names[o->action], o->name, o->target);
            else
                fprintf(stderr, "hdc: fault: %s: %s %s\n", o->name, done, done_names[o->action]);
        }
        finish(f);
        return;
    }
    if (n_done == 0) {
        finish(f);
        return;
    }
    if (f->interrupted || f->r->status != RUNNER_OK) {
        /* Interrupted, or a node refused: what is in place is undone now. */
        if (f->interrupted)
            fprintf(stderr, "hdc: fault: %s: undoing the %s\n", runner_signal_name(f->signum),
                    action_names[o->action]);
        else
            fprintf(stderr, "hdc: fault: %s: %s %s; undoing that too, as not every node could be\n",
                    o->name, done, done_names[o->action]);
        undo(f);
        return;
    }
    {
        char until[32] = "";
        time_t t = time(NULL) + (time_t)o->for_s;
        struct tm tm;
        if (localtime_r(&t, &tm) != NULL)
            strftime(until, sizeof(until), "%H:%M:%S", &tm);
        fprintf(stderr, "hdc: fault: %s: %s %s for %llu s: undone at %s, or on ^C\n", o->name, done,
                done_names[o->action], (unsigned long long)o->for_s, until);
    }
    f->phase = WAITING;
    uv_timer_start(&f->timer, time_up, o->for_s * 1000, 0);
}

/* A node's fault answered: status 0 (in place), 1 (nothing was to be
 * done: not a failure, and nothing to undo), or the error. */
static void applied_one(fault_node *fn, int status, const char *msg) {
    fault_ctx *f = fn->f;

    if (status == 0) {
        fn->in_place = 1;
    } else if (status == 1) {
        /* Nothing to say more. */
    } else {
        fn->failed = 1;
        runner_fail(f->r, RUNNER_FAILED, "fault: %s: %s: %s", fn->host, action_names[f->o->action],
                    msg != NULL ? msg : hdc_strerror(status));
    }
    if (--f->pending == 0)
        applied(f);
}

static void did(void *data, int status, const char *msg) {
    applied_one(data, status, msg);
}

static void exited(void *data, int status, const char *msg, int exit_code) {
    applied_one(data, status, msg);
}

/* A kill is in place once the container is no longer running. */
static void killed(void *data, int status, const char *msg) {
    fault_node *fn = data;
    int err;

    if (status != 0) {
        applied_one(fn, status, msg);
        return;
    }
    err = docker_container_wait(fn->f->r->d, fn->id, exited, fn, NULL);
    if (err != 0)
        applied_one(fn, err, NULL);
}

static void healed(void *data, int status, const char *msg, unsigned n) {
    fault_node *fn = data;

    if (status == 0 && n == 0) {
        fprintf(stderr, "hdc: fault: %s: %s is on its network already\n", fn->f->o->name, fn->host);
        status = 1;
    }
    applied_one(fn, status, msg);
}

static int apply_one(fault_ctx *f, fault_node *fn) {
    docker *d = f->r->d;
    const char *id = fn->id;

    switch ((enum cmd_fault_action)f->o->action) {
    case CMD_FAULT_KILL: return docker_container_kill(d, id, "SIGKILL", killed, fn, NULL);
    case CMD_FAULT_STOP: return docker_container_stop(d, id, -1, did, fn, NULL);
    case CMD_FAULT_PAUSE: return docker_container_pause(d, id, did, fn, NULL);
    case CMD_FAULT_UNPAUSE: return docker_container_unpause(d, id, did, fn, NULL);
    case CMD_FAULT_DISCONNECT:
        return docker_network_disconnect(d, f->network, id, 1, did, fn, NULL);
    case CMD_FAULT_RECONNECT:
        return cluster_heal_nodes(&f->r->loop, d, &id, 1, CLUSTER_HEAL_RECONNECT, healed, fn);
    }
    return UV_EINVAL;
}

/* Whether the fault is for node c: by its hostname, or by its service
 * when no node has target as its hostname. */
static int picked(const cluster_container *c, const char *target, int by_host) {
    return strcmp(by_host ? c->hostname : c->service, target) == 0;
}

static void listed(void *data, int status, const char *msg, const cluster_container *list,
                   size_t n) {
    fault_ctx *f = data;
    const cmd_fault_opts *o = f->o;
    size_t count = 0;
    int by_host = 0;

    if (status != 0) {
        runner_fail(f->r, RUNNER_FAILED, "fault: %s", msg);
        finish(f);
        return;
    }
    if (n == 0) {
        runner_fail(f->r, RUNNER_USAGE, "fault: no cluster named '%s'; `hdc ls` lists them",
                    o->name);
        finish(f);
        return;
    }
    /* A hostname names one node; else a service names each of its nodes. */
    for (size_t i = 0; i < n; i++)
        by_host |= strcmp(list[i].hostname, o->target) == 0;
    for (size_t i = 0; i < n; i++)
        count += picked(&list[i], o->target, by_host);
    if (count == 0) {
        char names[1024];
        size_t used = 0;
        names[0] = '\0';
        for (size_t i = 0; i < n && used < sizeof(names); i++)
            used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s", used ? ", " : "",
                                     list[i].hostname);
        runner_fail(f->r, RUNNER_USAGE, "fault: %s has no node or service '%s': its nodes are %s",
                    o->name, o->target, names);
        finish(f);
        return;
    }
    f->nodes = calloc(count, sizeof(*f->nodes));
    if (f->nodes == NULL) {
        runner_fail(f->r, RUNNER_FAILED, "fault: out of memory");
        finish(f);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        fault_node *fn = &f->nodes[f->n];
        if (!picked(&list[i], o->target, by_host))
            continue;
        f->n++;
        fn->f = f;
        snprintf(fn->id, sizeof(fn->id), "%s", list[i].name);
        snprintf(fn->host, sizeof(fn->host), "%s", list[i].hostname);
    }
    f->phase = APPLYING;
    f->pending = 1;
    for (size_t i = 0; i < f->n; i++) {
        int err = apply_one(f, &f->nodes[i]);
        f->pending++;
        if (err != 0)
            applied_one(&f->nodes[i], err, NULL);
    }
    if (--f->pending == 0)
        applied(f);
}

static int parse(const cmd_ctx *ctx, int argc, char **argv, void *opts, char *err, size_t err_len) {
    return cmd_fault_parse(ctx, argc, argv, opts, err, err_len);
}

static int run(const cmd_ctx *cc, void *opts) {
    const cmd_fault_opts *o = opts;
    fault_ctx f = {.o = o};
    runner r;
    int err;

    if ((err = runner_open(&r, NULL)) != 0)
        return err;
    f.r = &r;
    cluster_network_name(o->name, f.network, sizeof(f.network));
    if (o->for_s > 0) {
        /* The fault is undone on the first signal, whenever it comes. */
        uv_timer_init(&r.loop, &f.timer);
        f.timer.data = &f;
        f.timer_on = 1;
        runner_on_signal(&r, on_signal, &f);
        runner_hold_signals(&r, 1);
    }
    if (cluster_list(&r.loop, r.d, o->name, listed, &f) != 0) {
        runner_fail(&r, RUNNER_FAILED, "fault: cannot ask Docker");
        finish(&f);
    }
    err = runner_finish(&r);
    free(f.nodes);
    return err;
}

const cmd cmd_fault = {
    .name = "fault",
    .usage = USAGE,
    .summary = "break a node on purpose (kill, stop, pause, disconnect) and undo it; with --for, "
               "undone when the time is up or on ^C",
    .opts_size = sizeof(cmd_fault_opts),
    .parse = parse,
    .run = run,
};
