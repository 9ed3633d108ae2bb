/* How an up ends (cluster_up.h): one path, whatever the cause. It stops
 * every stream and the ZooKeeper session, gives a dead node's log a moment
 * to end, writes the record, removes what it must (--rm-on-failure, or
 * what it made after a racing down's pass; the loser of a race its own
 * network only), and reports once every callback has come, so nothing of
 * the up runs after the report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_up.h"
#include "util.h"

/* ---- the end ------------------------------------------------------------------------------ */

void cluster__report_to(up *u, cluster_up_cb cb) {
    cluster_node_report *reps = calloc(u->plan.n_nodes, sizeof(*reps));
    const char *const *names;
    const uint64_t *start, *end;
    size_t n_steps;
    cluster_report r;

    cluster_steps_times(u->exec, &names, &start, &end, &n_steps);
    r = (cluster_report){
        .status = u->status,
        .message = u->status != 0 ? u->message : NULL,
        .plan = &u->plan,
        .nodes = reps,
        .endpoints = u->endpoints,
        .n_endpoints = u->n_endpoints,
        .network_ms = u->network_ms,
        .zookeeper_ms = u->zookeeper_ms,
        .containers_ms = u->containers_ms,
        .steps_ms = u->steps_ms,
        .total_ms = u->ready_ms != 0 ? u->ready_ms : cluster__elapsed(u),
        .step_names = names,
        .step_start_ms = start,
        .step_end_ms = end,
        .n_steps = n_steps,
        .logs_dir = u->logs_dir,
        .logs_backup = u->logs_backup,
    };
    for (size_t i = 0; reps != NULL && i < u->plan.n_nodes; i++)
        reps[i] = u->nodes[i].rep;
    cb(u->data, &r);
    free(reps);
}

void cluster__free(up *u) {
    cluster_steps_free(u->exec);
    free(u->nodes);
    free(u->endpoints);
    free(u->logs_dir);
    free(u->logs_backup);
    free(u->test_user);
    plan_free(&u->plan);
    free(u);
}

static void report_and_free(up *u) {
    cluster__report_to(u, u->cb);
    cluster__free(u);
}

static void removed(void *data, int status, const char *msg, unsigned count) {
    up *u = data;
    size_t used = strlen(u->message);

    if (status != 0)
        snprintf(u->message + used, sizeof(u->message) - used,
                 "\n(removing the cluster failed too: %s)", msg);
    else if (u->removed)
        snprintf(u->message + used, sizeof(u->message) - used,
                 "\n(a `hdc down` of it ran meanwhile: what this up made after it is removed "
                 "too)");
    else
        snprintf(u->message + used, sizeof(u->message) - used,
                 "\n(the cluster was removed: --rm-on-failure)");
    report_and_free(u);
}

static void own_network_removed(void *data, int status, const char *msg) {
    report_and_free(data);
}

/* Every log file closed: what is left to remove, then the report. */
static void sink_closed(void *data) {
    up *u = data;

    if (--u->sinks_open > 0)
        return;
    /* The loser of a race removes the network it made, and nothing else. */
    if (u->lost_race && u->network_id[0] != '\0' &&
        u->ops->network_remove(u->d, u->network_id, own_network_removed, u, NULL) == 0)
        return;
    /* Removed on request (--rm-on-failure), or by a down that raced this
     * up: what the up made after the down's pass goes too. */
    if (u->status != 0 && (u->opts.rm_on_failure || u->removed) && u->network_id[0] != '\0' &&
        !u->lost_race && u->ops->down(u->loop, u->d, u->plan.cluster, removed, u) == 0)
        return;
    /* What is left, and what removes it (a held cluster's holder does). */
    if (u->status != 0 && u->network_id[0] != '\0' && !u->lost_race && !u->removed &&
        !u->opts.held) {
        size_t used = strlen(u->message);
        snprintf(u->message + used, sizeof(u->message) - used,
                 "\n(the cluster is left as it failed, for inspection: `hdc down %s` removes it, "
                 "and so does `hdc gc` once this hdc has exited)",
                 u->plan.cluster);
    }
    if (u->status != 0 && u->resume && !u->removed) {
        size_t used = strlen(u->message);
        snprintf(u->message + used, sizeof(u->message) - used,
                 "\n(the cluster is left as it is, with its data: `hdc status %s` shows what "
                 "runs, `hdc start %s` tries again, `hdc stop %s` stops it)",
                 u->plan.cluster, u->plan.cluster, u->plan.cluster);
    }
    report_and_free(u);
}

static void close_sinks(up *u) {
    u->sinks_open = 1;
    for (size_t i = 0; i < u->plan.n_nodes; i++) {
        if (u->nodes[i].sink != NULL) {
            u->sinks_open++;
            logs_sink_close(u->nodes[i].sink, sink_closed, u);
            u->nodes[i].sink = NULL;
        }
    }
    sink_closed(u);
}

/* Appends "\nlast lines of <host>'s log:\n..." to the message. */
static void append_tail(up *u, node_rt *n) {
    char tail[4096];
    size_t used = strlen(u->message);

    if (n == NULL || n->sink == NULL)
        return;
    logs_sink_tail(n->sink, CLUSTER_LOG_TAIL_LINES, tail, sizeof(tail));
    if (tail[0] == '\0') {
        snprintf(u->message + used, sizeof(u->message) - used,
                 "\n(%s has logged nothing; its log: %s/%s.log)", n->pn->hostname, u->logs_dir,
                 n->pn->hostname);
        return;
    }
    snprintf(u->message + used, sizeof(u->message) - used,
             "\nlast lines of %s's log (%s/%s.log):\n%s%s", n->pn->hostname, u->logs_dir,
             n->pn->hostname, tail, tail[strlen(tail) - 1] == '\n' ? "" : "\n");
}

/* A step failed on a node: if its container has exited, that is what the
 * user is told (with its log tail), not the step's command. */
static void autopsied(void *data, int status, const char *msg, const docker_container_info *info) {
    up *u = data;
    node_rt *n = u->dead;

    cluster__landed(u);
    u->autopsy = RES_DONE;
    if (status == 0 && !info->running && !u->died) {
        u->died = 1;
        snprintf(u->message, sizeof(u->message),
                 "%s: service %s (container %s) exited with status %d during step '%s'",
                 u->plan.cluster, n->pn->hostname, n->pn->container, info->exit_code,
                 u->failed_step != NULL ? u->failed_step : "?");
        cluster__node_set_state(n, CLUSTER_NODE_FAILED, u->message);
    }
    cluster__advance(u);
}

static void zk_closed(void *data, zk_session *s) {
    up *u = data;

    cluster__landed(u);
    u->zk = NULL;
    cluster__advance(u);
}

/* Closes the session, connected or still connecting (its connect then
 * calls back UV_ECANCELED), once. */
static void close_session(up *u) {
    if (u->zk == NULL || u->zk_closing)
        return;
    u->zk_closing = 1;
    u->inflight++;
    if (u->ops->zk_close(u->zk, zk_closed, u) != 0) {
        cluster__landed(u);
        u->zk = NULL;
    }
}

static void timer_closed(uv_handle_t *h) {
    up *u = h->data;

    cluster__landed(u);
    cluster__advance(u);
}

static void settled(uv_timer_t *t) {
    up *u = t->data;

    u->settling = 0;
    cluster__advance(u);
}

/* A container died: its log stream has a moment to deliver its last
 * lines (it ends when the container stops). */
void cluster__settle(up *u) {
    if (u->dead == NULL || u->dead->logs == NULL || !u->timer_open)
        return;
    u->settling = 1;
    uv_timer_stop(&u->timer);
    uv_timer_start(&u->timer, settled, LOG_SETTLE_MS, 0);
}

/* Stops everything still running, once; when every call and stream has
 * called back, closes the log files and reports. With --follow, after
 * success, only the ZooKeeper session goes: the logs and the events go on
 * until cluster_cancel. */
void cluster__wind_down(up *u) {
    int following = u->ready && u->opts.follow && !u->failing && !u->ended;

    if (following) {
        if (u->netwatch_call != NULL)
            u->ops->call_cancel(u->netwatch_call);
        close_session(u);
        return;
    }
    if (!u->ended) {
        u->ended = 1;
        if (u->failing && u->dead != NULL)
            cluster__settle(u);
        if (u->dag != NULL)
            boot_cancel(u->dag); /* steps_done follows */
        /* A start that fails leaves the record as it was: its data is
         * never the `hdc gc` of a failed cluster's. */
        if (u->failing && u->record == RES_DONE && !u->removed && !u->lost_race && !u->resume &&
            u->last_record == RES_TODO)
            cluster__write_record(u, &u->last_record, RECORD_FAILED);
    }
    if (u->dag != NULL || u->settling || u->record == RES_BUSY || u->last_record == RES_BUSY)
        return;
    if (u->failing && u->status == CLUSTER_EFAILED && u->dead != NULL && !u->died &&
        u->dead->id[0] != '\0' && u->autopsy == RES_TODO) {
        u->autopsy = RES_DONE;
        if (u->ops->container_inspect(u->d, u->dead->id, autopsied, u, NULL) == 0) {
            u->inflight++;
            u->autopsy = RES_BUSY;
        }
    }
    if (u->autopsy == RES_BUSY)
        return;
    if (u->events_call != NULL)
        u->ops->call_cancel(u->events_call);
    if (u->netwatch_call != NULL)
        u->ops->call_cancel(u->netwatch_call);
    for (size_t i = 0; i < u->plan.n_nodes; i++)
        if (u->nodes[i].logs != NULL)
            u->ops->call_cancel(u->nodes[i].logs);
    close_session(u);
    if (u->timer_open) {
        u->timer_open = 0;
        u->inflight++;
        uv_close((uv_handle_t *)&u->timer, timer_closed);
    }
    if (u->inflight > 0 || u->sinks_open > 0)
        return;
    u->sinks_open = 1; /* once */
    if (u->failing)
        append_tail(u, u->dead);
    close_sinks(u);
}

void cluster__deadline(uv_timer_t *t) {
    up *u = t->data;

    cluster__fail(u, UV_ETIMEDOUT, NULL, "%s: not up within --timeout %u s", u->plan.cluster,
                  u->opts.timeout_s);
}
