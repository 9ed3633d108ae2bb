/* `hdc logs NAME [SERVICE...] [-f [--retry]] [--write-to DIR]`: one
 * cluster's nodes' logs on stdout, each line prefixed "HOST | ", or each
 * node's to DIR/<host>.log; `hdc logs --write-root ROOT [-f] NAME...`:
 * several clusters, each node's to ROOT/<name>/<host>.log, the one
 * detached writer `hdc up` (and `hdc start`) leaves for its clusters.
 *
 * Every stream asks Docker for timestamps: they are taken off before a
 * line is shown or written, and the newest one shown is where a stream
 * starts again (Docker's since), so that no line is shown twice or lost
 * when a stream has to start again.
 *
 * The writer (--write-root) holds each cluster's lock (logs_lock_take; a
 * cluster whose lock another process holds is left to it, and a writer
 * that writes no cluster exits 0), resumes each node from its cursor
 * (logs_sink_resume), and with -f follows the cluster's containers'
 * `start` events: a node that stops and starts again (`hdc restart`, a
 * fault, `docker start`) is streamed again from its cursor. It ends when
 * every container of its clusters has stopped or is removed, on SIGINT,
 * SIGTERM or SIGHUP (exit 0), or when the engine goes away (exit 1).
 *
 * A followed stream that ends is explained by an inspect of its
 * container: stopped (the normal end: one line on stderr once every
 * followed container has), removed, or no answer: the engine went away,
 * said on stderr, exit 1; with --retry the engine is pinged with a
 * backoff until it answers (there is no event for an engine coming back:
 * the one poll here) and the streams start again from their last line.
 *
 * Decisions a newcomer might question:
 * - A line for stdout is gathered in its node's buffer and printed whole,
 *   so that nodes' lines never interleave mid-line; a line longer than the
 *   buffer is cut into several. stdout is flushed once per loop iteration,
 *   not once per frame.
 * - Each cluster's followed nodes are an array sized from its listing:
 *   every stream's callback holds a pointer into it, so it never moves.
 * - When all its containers have stopped, the writer lets its lock go,
 *   then lists the cluster once more: a container started meanwhile (an
 *   `hdc restart` whose own writer found the lock still held) is taken up
 *   again under the lock, so that no moment is left without a writer.
 * - The locks are let go only after the files (and their cursors) are
 *   closed: the next writer starts from the last line written.
 * - The exit status is the last failure's, not the worst: a later Docker
 *   failure (1) replaces an earlier "no cluster named" (2), as it always
 *   has.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster_query.h"
#include "cmd.h"
#include "docker.h"
#include "logs.h"
#include "plan.h"
#include "util.h"

#define RETRY_FIRST_MS 250  /* --retry: the first ping after the engine went away */
#define RETRY_MAX_MS   5000 /* and the longest wait between two */
#define QUICK_ENDS_MAX 3    /* streams of a running container that ended with nothing */

enum follow_state {
    F_OPENING,   /* its file opens */
    F_STREAMING, /* its log streams */
    F_CHECKING,  /* its stream ended: stopped, removed, or no engine? */
    F_AWAY,      /* the engine went away: streamed again when it answers (--retry) */
    F_STOPPED,   /* its container is not running (the writer waits for a start) */
    F_ENDED,     /* nothing more: removed, failed, canceled, or not followed */
};

/* One node whose log is streamed. */
typedef struct log_follow {
    struct logs_query *q;
    char host[64];
    char container[256];
    char line[8192]; /* stdout: the line being gathered */
    size_t len;
    logs_stamped split; /* stdout: the timestamps taken off */
    logs_time last;     /* stdout: the newest line printed */
    docker_call *stream, *check;
    logs_sink *sink; /* --write-to, --write-root: the file; else NULL */
    int state;
    int started;    /* a start event came while it could not be streamed */
    int got_output; /* since its stream started */
    unsigned quick_ends;
    int stream_status; /* how its last stream ended */
} log_follow;

/* One cluster whose logs are streamed. */
typedef struct logs_query {
    struct logs_ctx *ctx;
    const char *name;
    char *dir;           /* where its <host>.log files go, or NULL for stdout */
    int writer;          /* --write-root: locked, resumed from cursors */
    log_follow *follows; /* its wanted nodes, once listed */
    size_t n_follows;
    logs_lock *lock;
    docker_call *events;
    int64_t events_since; /* Unix seconds: events are replayed from there */
    int events_lost;      /* its events stream ended while the engine was away */
    int busy;             /* a listing or a lock under way */
    int rechecking;       /* the lock let go: is a container running again? */
    int recheck_lost;     /* that listing failed while the engine was away */
    int settled;          /* nothing more to do */
    size_t sinks_open;
} logs_query;

typedef struct logs_ctx {
    runner *r;
    const cmd_logs_opts *o;
    logs_query *queries; /* one per cluster */
    uv_check_t flush;    /* stdout, once per loop iteration */
    uv_timer_t retry;    /* --retry: the next ping */
    docker_call *ping;
    uint64_t backoff_ms;
    int away;     /* the engine went away and has not answered since */
    int stopping; /* a signal, or the engine went away without --retry */
    size_t width; /* of the widest host yet */
} logs_ctx;

static void start_stream(log_follow *f);
static void follow_begin(log_follow *f);
static void query_check(logs_query *q);
static void start_events(logs_query *q);
static void recheck(logs_query *q);
static void settle(logs_query *q, const char *why);

/* ---- stdout ---------------------------------------------------------------- */

static void flush_line(log_follow *f) {
    printf("%-*s | %.*s\n", (int)f->q->ctx->width, f->host, (int)f->len, f->line);
    f->len = 0;
}

static void print_piece(void *data, const char *buf, size_t len, int end, const logs_time *ts) {
    log_follow *f = data;

    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n' || f->len == sizeof(f->line)) {
            flush_line(f);
            if (buf[i] == '\n')
                continue;
        }
        f->line[f->len++] = buf[i];
    }
    if (end && ts != NULL && logs_time_cmp(*ts, f->last) > 0)
        f->last = *ts;
}

/* Once per loop iteration, after the reads: what arrived goes out
 * together, not one write per frame. */
static void flush_stdout(uv_check_t *check) {
    fflush(stdout);
}

/* stdout's logs_sink_next_stream: a cut line ends, and the next stream
 * starts after the newest line printed. */
static logs_time stdout_next_stream(log_follow *f) {
    logs_stamped_end(&f->split, print_piece, f);
    if (f->len > 0)
        flush_line(f);
    logs_stamped_init(&f->split, f->last);
    return f->last;
}

/* ---- streams ----------------------------------------------------------------- */

static void output(void *data, int stream, const char *buf, size_t len) {
    log_follow *f = data;

    f->got_output = 1;
    if (f->sink != NULL)
        logs_sink_append(f->sink, buf, len);
    else
        logs_stamped_feed(&f->split, buf, len, print_piece, f);
}

static const char *names_of(const logs_ctx *ctx, char *out, size_t len) {
    size_t n = 0;

    out[0] = '\0';
    if (ctx->o->write_root != NULL)
        n += (size_t)snprintf(out, len, "--write-root %s ", ctx->o->write_root);
    for (size_t i = 0; i < ctx->o->n_names && n < len; i++)
        n += (size_t)snprintf(out + n, len - n, "%s%s", i > 0 ? " " : "", ctx->o->names[i]);
    return out;
}

static void cancel_all(logs_ctx *ctx) {
    uv_timer_stop(&ctx->retry);
    if (ctx->ping != NULL)
        docker_call_cancel(ctx->ping);
    for (size_t i = 0; i < ctx->o->n_names; i++) {
        logs_query *q = &ctx->queries[i];
        if (q->events != NULL)
            docker_call_cancel(q->events);
        for (size_t k = 0; k < q->n_follows; k++) {
            log_follow *f = &q->follows[k];
            if (f->stream != NULL)
                docker_call_cancel(f->stream);
            if (f->check != NULL)
                docker_call_cancel(f->check);
            if (f->state == F_AWAY)
                f->state = F_ENDED;
        }
    }
    for (size_t i = 0; i < ctx->o->n_names; i++)
        query_check(&ctx->queries[i]);
}

static void retry_fire(uv_timer_t *t);

/* No answer from the engine. why: what was seen. */
static void engine_away(logs_ctx *ctx, const char *why) {
    char names[1024];

    if (ctx->stopping || ctx->away)
        return;
    names_of(ctx, names, sizeof(names));
    if (!ctx->o->retry) {
        runner_error("logs: the Docker engine at %s went away: %s; `hdc logs %s -f --retry` "
                     "waits for it",
                     docker_address(ctx->r->d), why, names);
        ctx->r->status = RUNNER_FAILED;
        ctx->stopping = 1;
        cancel_all(ctx);
        return;
    }
    runner_error("logs: the Docker engine at %s went away: %s; waiting for it (--retry)",
                 docker_address(ctx->r->d), why);
    ctx->away = 1;
    ctx->backoff_ms = RETRY_FIRST_MS;
    uv_timer_start(&ctx->retry, retry_fire, ctx->backoff_ms, 0);
}

/* The engine answers again: whatever the outage broke starts again. */
static void engine_back(logs_ctx *ctx) {
    runner_error("logs: the Docker engine at %s answers again: resuming",
                 docker_address(ctx->r->d));
    ctx->away = 0;
    for (size_t i = 0; i < ctx->o->n_names; i++) {
        logs_query *q = &ctx->queries[i];
        if (q->settled)
            continue;
        if (q->events_lost) {
            q->events_lost = 0;
            start_events(q);
        }
        if (q->recheck_lost) {
            q->recheck_lost = 0;
            recheck(q);
        }
        for (size_t k = 0; k < q->n_follows; k++)
            if (q->follows[k].state == F_AWAY)
                start_stream(&q->follows[k]);
    }
}

static void pinged(void *data, int status, const char *msg, const char *api_version) {
    logs_ctx *ctx = data;

    ctx->ping = NULL;
    if (ctx->stopping)
        return;
    if (status != 0) {
        ctx->backoff_ms = ctx->backoff_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : ctx->backoff_ms * 2;
        uv_timer_start(&ctx->retry, retry_fire, ctx->backoff_ms, 0);
        return;
    }
    if (ctx->away)
        engine_back(ctx);
}

static void retry_fire(uv_timer_t *t) {
    logs_ctx *ctx = t->data;

    if (ctx->stopping || ctx->ping != NULL)
        return;
    if (docker_ping(ctx->r->d, pinged, ctx, &ctx->ping) != 0)
        uv_timer_start(&ctx->retry, retry_fire, ctx->backoff_ms, 0);
}

static void checked(void *data, int status, const char *msg, const docker_container_info *info) {
    log_follow *f = data;
    logs_ctx *ctx = f->q->ctx;
    char why[512];

    f->check = NULL;
    if (ctx->stopping || status == UV_ECANCELED) {
        f->state = F_ENDED;
    } else if (status == 0 && (info->running || f->started)) {
        f->started = 0;
        if (f->stream_status != 0 || f->quick_ends >= QUICK_ENDS_MAX) {
            /* The engine answers and the container runs: the stream itself
             * fails. */
            runner_error("logs of %s: %s", f->host,
                         f->stream_status != 0 ? hdc_strerror(f->stream_status)
                                               : "Docker keeps ending its log stream");
            ctx->r->status = RUNNER_FAILED;
            f->state = F_ENDED;
        } else {
            start_stream(f); /* stopped and started again meanwhile */
        }
    } else if (status == 0) {
        f->state = F_STOPPED;
    } else if (status == DOCKER_ENOTFOUND) {
        f->state = F_ENDED; /* removed */
    } else {
        f->state = F_AWAY;
        snprintf(why, sizeof(why),
                 "the log stream of %s %s%s%s, and the engine does not answer (%s)", f->host,
                 f->stream_status != 0 ? "broke (" : "ended",
                 f->stream_status != 0 ? hdc_strerror(f->stream_status) : "",
                 f->stream_status != 0 ? ")" : "", hdc_strerror(status));
        engine_away(ctx, why);
    }
    query_check(f->q);
}

static void ended(void *data, int status, const char *msg) {
    log_follow *f = data;
    logs_ctx *ctx = f->q->ctx;
    int err;

    f->stream = NULL;
    f->stream_status = status;
    if (status == UV_ECANCELED || ctx->stopping) {
        f->state = F_ENDED;
    } else if (!ctx->o->follow) {
        if (status != 0) {
            runner_error("logs of %s: %s", f->host, msg);
            ctx->r->status = RUNNER_FAILED;
        }
        f->state = F_ENDED;
    } else {
        /* Why did it end? The container stopped, or was removed, or the
         * engine is gone. */
        f->quick_ends = f->got_output ? 0 : f->quick_ends + 1;
        f->state = F_CHECKING;
        err = docker_container_inspect(ctx->r->d, f->container, checked, f, &f->check);
        if (err != 0) {
            f->check = NULL;
            checked(f, err, hdc_strerror(err), NULL);
            return;
        }
    }
    query_check(f->q);
}

static void start_stream(log_follow *f) {
    logs_ctx *ctx = f->q->ctx;
    logs_time since = f->sink != NULL ? logs_sink_next_stream(f->sink) : stdout_next_stream(f);
    docker_logs_opts lo = {
        .follow = ctx->o->follow, .timestamps = 1, .since = since.sec, .since_ns = since.nsec};
    int err;

    f->got_output = 0;
    f->started = 0;
    f->state = F_STREAMING;
    err = docker_logs(ctx->r->d, f->container, &lo, output, ended, f, &f->stream);
    if (err != 0) {
        f->stream = NULL;
        f->state = F_ENDED;
        runner_error("logs of %s: cannot ask Docker: %s", f->host, hdc_strerror(err));
        ctx->r->status = RUNNER_FAILED;
    }
}

static void sink_ready(void *data, int status, logs_time since) {
    log_follow *f = data;
    logs_ctx *ctx = f->q->ctx;

    if (status == UV_ECANCELED || ctx->stopping) {
        f->state = F_ENDED;
    } else {
        if (status != 0) {
            runner_error("logs: cannot write %s/%s.log: %s", f->q->dir, f->host,
                         hdc_strerror(status));
            ctx->r->status = RUNNER_FAILED;
        }
        start_stream(f); /* the tail is kept all the same */
    }
    query_check(f->q);
}

/* ---- the cluster's events (the writer with -f) -------------------------------- */

static log_follow *follow_of(logs_query *q, const char *container) {
    for (size_t k = 0; container != NULL && k < q->n_follows; k++)
        if (strcmp(q->follows[k].container, container) == 0)
            return &q->follows[k];
    return NULL;
}

static void on_event(void *data, const json_t *ev) {
    logs_query *q = data;
    const char *action = json_string_value(json_object_get(ev, "Action"));
    json_t *attrs = json_object_get(json_object_get(ev, "Actor"), "Attributes");
    log_follow *f = follow_of(q, json_string_value(json_object_get(attrs, "name")));
    json_int_t t = json_integer_value(json_object_get(ev, "time"));

    if (t > q->events_since)
        q->events_since = t;
    if (f == NULL || action == NULL || q->ctx->stopping)
        return;
    if (strcmp(action, "start") == 0) {
        if (f->state == F_STOPPED && q->lock != NULL && !q->rechecking)
            follow_begin(f);
        else if (f->state == F_CHECKING || f->state == F_STOPPED)
            f->started = 1; /* streamed once checked, or once locked again */
    } else if (strcmp(action, "destroy") == 0 && f->state == F_STOPPED) {
        f->state = F_ENDED;
        query_check(q);
    }
}

static void events_pinged(void *data, int status, const char *msg, const char *api_version) {
    logs_query *q = data;

    if (q->ctx->stopping || q->settled)
        return;
    if (status != 0) {
        q->events_lost = 1;
        engine_away(q->ctx, "its events stream ended and it does not answer");
    } else {
        start_events(q); /* from the last event seen: none is missed */
    }
}

static void events_ended(void *data, int status, const char *msg) {
    logs_query *q = data;

    q->events = NULL;
    if (q->ctx->stopping || q->settled || status == UV_ECANCELED)
        return;
    if (q->ctx->away) {
        q->events_lost = 1;
        return;
    }
    if (docker_ping(q->ctx->r->d, events_pinged, q, NULL) != 0) {
        q->events_lost = 1;
        engine_away(q->ctx, "its events stream ended");
    }
}

static void start_events(logs_query *q) {
    static const char *const types[] = {"container"};
    static const char *const actions[] = {"start", "destroy"};
    char label[80];
    const char *labels[1] = {label};
    docker_events_opts eo = {.types = types,
                             .n_types = 1,
                             .labels = labels,
                             .n_labels = 1,
                             .events = actions,
                             .n_events = 2,
                             .since = q->events_since};
    int err;

    snprintf(label, sizeof(label), "hdc.cluster=%s", q->name);
    err = docker_events(q->ctx->r->d, &eo, on_event, events_ended, q, &q->events);
    if (err != 0) {
        q->events = NULL;
        runner_error("logs: cannot watch the events of %s: %s; a node that starts again is not "
                     "followed",
                     q->name, hdc_strerror(err));
    }
}

/* ---- the lock, and the end of a cluster ------------------------------------------ */

/* A cluster's files are closed, cursors written: its lock may go, and
 * the writer that let it go looks once more. */
static void sink_closed(void *data) {
    logs_query *q = data;

    if (--q->sinks_open > 0)
        return;
    if (q->lock != NULL) {
        logs_lock_release(q->lock);
        q->lock = NULL;
    }
    if (!q->rechecking || q->settled)
        return;
    if (q->ctx->stopping)
        settle(q, NULL);
    else
        recheck(q);
}

static void settle(logs_query *q, const char *why) {
    if (q->settled)
        return;
    q->settled = 1;
    if (q->events != NULL)
        docker_call_cancel(q->events);
    if (why != NULL && q->ctx->o->follow && !q->ctx->stopping)
        runner_error("logs: %s", why);
}

static void relocked(void *data, int status, logs_lock *lock) {
    logs_query *q = data;

    q->busy = 0;
    if (status != 0 || q->ctx->stopping) {
        if (lock != NULL)
            logs_lock_release(lock);
        settle(q, NULL); /* another writer took it over, or the end */
        return;
    }
    q->lock = lock;
    q->rechecking = 0;
    for (size_t k = 0; k < q->n_follows; k++)
        if (q->follows[k].started && q->follows[k].state == F_STOPPED)
            follow_begin(&q->follows[k]);
    query_check(q);
}

static void rechecked(void *data, int status, const char *msg, const cluster_container *list,
                      size_t n) {
    logs_query *q = data;
    int running = 0;
    char why[300];

    q->busy = 0;
    if (q->ctx->stopping) {
        settle(q, NULL);
        return;
    }
    if (status != 0) {
        q->recheck_lost = 1;
        engine_away(q->ctx, msg);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        log_follow *f = follow_of(q, list[i].name);
        if (f != NULL && f->state == F_STOPPED && strcmp(list[i].state, "running") == 0)
            f->started = 1;
    }
    /* Running now, or started since the lock went (its event came). */
    for (size_t k = 0; k < q->n_follows; k++)
        running |= q->follows[k].state == F_STOPPED && q->follows[k].started;
    if (!running) {
        snprintf(why, sizeof(why), "every container of %s has stopped", q->name);
        settle(q, why);
        return;
    }
    q->busy = 1;
    if (logs_lock_take(&q->ctx->r->loop, q->dir, relocked, q) != 0) {
        q->busy = 0;
        settle(q, NULL);
    }
}

/* The writer's lock let go: is a container of it running again? */
static void recheck(logs_query *q) {
    q->busy = 1;
    if (cluster_list(&q->ctx->r->loop, q->ctx->r->d, q->name, rechecked, q) != 0) {
        q->busy = 0;
        settle(q, NULL);
    }
}

/* Whether q has ended: every node stopped, removed or ended. */
static void query_check(logs_query *q) {
    int removed = 1;
    char why[300];

    if (q->settled || q->busy || q->rechecking)
        return;
    for (size_t k = 0; k < q->n_follows; k++) {
        int s = q->follows[k].state;
        if (s != F_STOPPED && s != F_ENDED)
            return;
        removed &= s == F_ENDED;
    }
    if (q->ctx->stopping || !q->ctx->o->follow || q->n_follows == 0) {
        settle(q, NULL);
        return;
    }
    if (removed) {
        snprintf(why, sizeof(why), "the containers of %s were removed", q->name);
        settle(q, why);
        return;
    }
    if (!q->writer || q->lock == NULL) {
        snprintf(why, sizeof(why), "every container of %s has stopped", q->name);
        settle(q, why);
        return;
    }
    /* The writer: its files are closed (their cursors written), then the
     * lock goes (sink_closed), then a last look. */
    q->rechecking = 1;
    for (size_t k = 0; k < q->n_follows; k++) {
        log_follow *f = &q->follows[k];
        if (f->sink != NULL) {
            logs_sink_close(f->sink, sink_closed, q);
            f->sink = NULL;
        }
    }
    if (q->sinks_open == 0) {
        q->sinks_open = 1;
        sink_closed(q);
    }
}

/* Its file, or (stdout) its stream. */
static void follow_begin(log_follow *f) {
    logs_query *q = f->q;
    char *path;
    int rc;

    if (q->dir == NULL || f->sink != NULL) {
        start_stream(f);
        return;
    }
    path = util_asprintf("%s/%s.log", q->dir, f->host);
    rc = path != NULL ? logs_sink_resume(&q->ctx->r->loop, path, q->writer, sink_ready, f, &f->sink)
                      : UV_ENOMEM;
    free(path);
    if (rc != 0) {
        f->sink = NULL;
        f->state = F_ENDED;
        runner_error("logs: cannot write %s/%s.log: %s", q->dir, f->host, hdc_strerror(rc));
        q->ctx->r->status = RUNNER_FAILED;
        return;
    }
    q->sinks_open++;
    f->state = F_OPENING;
}

/* ---- listing ------------------------------------------------------------------- */

static void start_follows(logs_query *q) {
    for (size_t k = 0; k < q->n_follows; k++) {
        logs_stamped_init(&q->follows[k].split, q->follows[k].last);
        follow_begin(&q->follows[k]);
    }
    query_check(q);
}

static void locked(void *data, int status, logs_lock *lock) {
    logs_query *q = data;

    q->busy = 0;
    if (q->ctx->stopping) {
        if (lock != NULL)
            logs_lock_release(lock);
        settle(q, NULL);
        return;
    }
    if (status == UV_EBUSY) {
        /* Said once, to whoever started this writer by hand. */
        runner_error("logs: another process holds %s/.writer.lock: it writes the logs of %s",
                     q->dir, q->name);
        settle(q, NULL);
        return;
    }
    if (status != 0) {
        runner_error("logs: cannot lock %s/.writer.lock: %s", q->dir, hdc_strerror(status));
        q->ctx->r->status = RUNNER_FAILED;
        settle(q, NULL);
        return;
    }
    q->lock = lock;
    if (q->ctx->o->follow)
        start_events(q);
    start_follows(q);
}

/* Whether c is one of the services or hosts asked for (all, when none). */
static int wanted(const cmd_logs_opts *o, const cluster_container *c) {
    int yes = o->n_services == 0;

    for (size_t k = 0; k < o->n_services; k++)
        yes |= strcmp(o->services[k], c->service) == 0 || strcmp(o->services[k], c->hostname) == 0;
    return yes;
}

static void listed(void *data, int status, const char *msg, const cluster_container *list,
                   size_t n) {
    logs_query *q = data;
    logs_ctx *ctx = q->ctx;
    size_t n_wanted = 0;

    q->busy = 0;
    if (status != 0) {
        runner_error("logs: %s", msg);
        ctx->r->status = RUNNER_FAILED;
        settle(q, NULL);
        return;
    }
    if (n == 0) {
        runner_error("logs: no cluster named '%s'; `hdc ls` lists them", q->name);
        ctx->r->status = RUNNER_USAGE;
        settle(q, NULL);
        return;
    }
    for (size_t i = 0; i < n; i++)
        n_wanted += wanted(ctx->o, &list[i]);
    if (n_wanted > 0 && (q->follows = calloc(n_wanted, sizeof(*q->follows))) == NULL) {
        runner_error("logs: out of memory");
        ctx->r->status = RUNNER_FAILED;
        settle(q, NULL);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        log_follow *f;
        if (!wanted(ctx->o, &list[i]))
            continue;
        f = &q->follows[q->n_follows++];
        f->q = q;
        f->state = F_ENDED;
        snprintf(f->host, sizeof(f->host), "%s", list[i].hostname);
        snprintf(f->container, sizeof(f->container), "%s", list[i].name);
        if (strlen(f->host) > ctx->width)
            ctx->width = strlen(f->host);
    }
    if (q->n_follows == 0) {
        runner_error("logs: no service or host of '%s' matches; `hdc status %s` lists them",
                     q->name, q->name);
        ctx->r->status = RUNNER_USAGE;
        settle(q, NULL);
        return;
    }
    if (ctx->stopping) {
        settle(q, NULL);
        return;
    }
    if (!q->writer) {
        start_follows(q);
        return;
    }
    q->busy = 1;
    if (logs_lock_take(&ctx->r->loop, q->dir, locked, q) != 0) {
        q->busy = 0;
        runner_error("logs: cannot lock %s/.writer.lock", q->dir);
        ctx->r->status = RUNNER_FAILED;
        settle(q, NULL);
    }
}

static int all_settled(const logs_ctx *ctx) {
    for (size_t i = 0; i < ctx->o->n_names; i++)
        if (!ctx->queries[i].settled)
            return 0;
    return 1;
}

/* SIGINT, SIGTERM, SIGHUP: every stream ends (what is left is printed or
 * written, the cursors saved); exit 0. */
static void interrupted(runner *r, int signum) {
    logs_ctx *ctx = r->ctx;

    ctx->stopping = 1;
    cancel_all(ctx);
}


int cmd_logs_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_logs_opts *o, char *err,
                   size_t err_len) {
    char why[256];

    o->names = calloc((size_t)argc, sizeof(*o->names));
    o->services = calloc((size_t)argc, sizeof(*o->services));
    if (o->names == NULL || o->services == NULL)
        return util_fail(err, err_len, RUNNER_USAGE, "out of memory");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--follow") == 0)
            o->follow = 1;
        else if (strcmp(argv[i], "--retry") == 0)
            o->retry = 1;
        else if (strcmp(argv[i], "--write-to") == 0 && i + 1 < argc)
            o->write_to = argv[++i];
        else if (strcmp(argv[i], "--write-root") == 0 && i + 1 < argc)
            o->write_root = argv[++i];
        else if (argv[i][0] == '-')
            return util_fail(err, err_len, RUNNER_USAGE, "logs: unknown flag '%s'", argv[i]);
        else if (o->n_names == 0 || o->write_root != NULL)
            o->names[o->n_names++] = argv[i];
        else
            o->services[o->n_services++] = argv[i];
    }
    if (o->n_names == 0)
        return util_fail(err, err_len, RUNNER_USAGE, "logs: give a cluster name");
    for (size_t i = 0; i < o->n_names; i++)
        if (plan_name_check(o->names[i], why, sizeof(why)) != 0)
            return util_fail(err, err_len, RUNNER_USAGE, "logs: %s", why);
    if (o->retry && !o->follow)
        return util_fail(err, err_len, RUNNER_USAGE,
                         "logs: --retry waits for the engine while following: give -f too");
    return 0;
}

static int parse(const cmd_ctx *ctx, int argc, char **argv, void *opts, char *err, size_t err_len) {
    return cmd_logs_parse(ctx, argc, argv, opts, err, err_len);
}

static int run(const cmd_ctx *cc, void *opts) {
    const cmd_logs_opts *o = opts;
    logs_ctx ctx = {.o = o};
    runner r;
    int err;

    ctx.queries = calloc(o->n_names, sizeof(*ctx.queries));
    if (ctx.queries == NULL) {
        runner_error("out of memory");
        return RUNNER_FAILED;
    }
    for (size_t i = 0; i < o->n_names; i++) {
        logs_query *q = &ctx.queries[i];
        q->ctx = &ctx;
        q->name = o->names[i];
        q->writer = o->write_root != NULL;
        if (o->write_root != NULL)
            q->dir = util_asprintf("%s/%s", o->write_root, o->names[i]);
        else if (o->write_to != NULL)
            q->dir = strdup(o->write_to);
    }
    if ((err = runner_open(&r, NULL)) != 0)
        goto exit;
    ctx.r = &r;
    runner_on_signal(&r, interrupted, &ctx);
    uv_check_init(&r.loop, &ctx.flush);
    uv_check_start(&ctx.flush, flush_stdout);
    uv_unref((uv_handle_t *)&ctx.flush);
    uv_timer_init(&r.loop, &ctx.retry);
    ctx.retry.data = &ctx;
    for (size_t i = 0; i < o->n_names; i++) {
        logs_query *q = &ctx.queries[i];
        /* Events are replayed from the listing on: a start between the
         * listing and the watch is not missed. */
        q->events_since = (int64_t)time(NULL);
        q->busy = 1;
        if (cluster_list(&r.loop, r.d, q->name, listed, q) != 0) {
            runner_error("logs: cannot ask Docker");
            r.status = RUNNER_FAILED;
            q->busy = 0;
            settle(q, NULL);
        }
    }
    /* Until every cluster has ended: the signals are held meanwhile, so
     * the loop never runs out of work on its own. */
    runner_hold_signals(&r, 1);
    while (!all_settled(&ctx))
        uv_run(&r.loop, UV_RUN_ONCE);
    runner_hold_signals(&r, 0);
    /* What is left: a line cut on stdout, the files (then their locks). */
    uv_timer_stop(&ctx.retry);
    for (size_t i = 0; i < o->n_names; i++) {
        logs_query *q = &ctx.queries[i];
        for (size_t k = 0; k < q->n_follows; k++) {
            log_follow *f = &q->follows[k];
            if (f->sink != NULL) {
                logs_sink_close(f->sink, sink_closed, q);
                f->sink = NULL;
            } else if (q->dir == NULL) {
                stdout_next_stream(f);
            }
        }
        if (q->sinks_open == 0 && q->lock != NULL) {
            logs_lock_release(q->lock);
            q->lock = NULL;
        }
    }
    fflush(stdout);
    err = runner_finish(&r);

exit:
    for (size_t i = 0; i < o->n_names; i++) {
        free(ctx.queries[i].follows);
        free(ctx.queries[i].dir);
    }
    free(ctx.queries);
    return err;
}

static void free_opts(void *opts) {
    cmd_logs_opts *o = opts;

    free(o->names);
    free(o->services);
}

const cmd cmd_logs = {
    .name = "logs",
    .usage = "hdc logs NAME [SERVICE...] [-f [--retry]] [--write-to DIR] | "
             "--write-root ROOT [-f] NAME...",
    .summary = "the nodes' logs, prefixed by host (or each to DIR/<host>.log, "
               "ROOT/<name>/<host>.log)",
    .opts_size = sizeof(cmd_logs_opts),
    .parse = parse,
    .run = run,
    .free = free_opts,
};
