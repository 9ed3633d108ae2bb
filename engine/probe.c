/* Health probes: is a service answering, and does its answer say the
 * cluster is whole (the namenode sees every datanode, the resourcemanager
 * every nodemanager)?
 *
 * A probe owns one HTTP client bound to the service's published address
 * and makes one request at a time, on a kept-alive connection. An attempt
 * that fails (no connection yet, a non-2xx answer, an answer the plugin
 * judges unhealthy) is retried PROBE_INTERVAL_MS after its end: a worker
 * that registers is seen within about 50 ms (a backoff of 100 ms doubling
 * to 500 ms made cold starts wait up to half a second for it), and a slow
 * daemon is never asked twice at once, since the pause counts from the
 * answer, not from the question. What keeps many probes from flooding the
 * host is the pacer the caller shares between them, not a backoff. The
 * deadline bounds the attempt in flight too: no attempt outlives it.
 *
 * Decision: the callback runs only after the timer and the HTTP client are
 * closed, so a caller may free what it lent (or close the loop) from it.
 */
#include "probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "plugin_host.h"

#define PROBE_ATTEMPT_TIMEOUT_MS 5000

struct probe {
    uv_loop_t *loop;
    probe_target target;
    uint64_t timeout_ms;
    uint64_t start_ms;
    uint64_t deadline_ms;
    probe_cb cb;
    void *data;

    http_client *client;
    http_request *req; /* the attempt in flight, or NULL */
    uv_timer_t timer;  /* the next attempt */

    unsigned attempts;
    int http_status;
    int healthy;
    char why[256];

    int ending;       /* the outcome is decided */
    int status;       /* ... and it is this */
    int open_handles; /* timer and client, until closed */
};

static void attempt_once(probe *p);

void probe_pacer_init(probe_pacer *p, unsigned per_second) {
    p->gap_ms = per_second > 0 ? (1000 + per_second - 1) / per_second : 0;
    p->next_ms = 0;
}

/* The time, not before due, at which the next attempt may start; the slot
 * is taken (an attempt canceled before it only leaves a gap). */
static uint64_t paced(probe *p, uint64_t due) {
    probe_pacer *pc = p->target.pacer;

    if (pc == NULL || pc->gap_ms == 0)
        return due;
    if (due < pc->next_ms)
        due = pc->next_ms;
    pc->next_ms = due + pc->gap_ms;
    return due;
}

static void release(probe *p) {
    probe_result res;

    if (--p->open_handles > 0)
        return;
    res = (probe_result){
        .healthy = p->healthy,
        .http_status = p->http_status,
        .attempts = p->attempts,
        .elapsed_ms = uv_now(p->loop) - p->start_ms,
        .why = p->why,
    };
    p->cb(p->data, p->status, &res);
    free(p);
}

static void timer_closed(uv_handle_t *handle) {
    release(handle->data);
}

static void client_closed(void *data) {
    release(data);
}

/* Decides the outcome and closes everything; the callback follows. */
static void finish(probe *p, int status) {
    http_client *client = p->client;

    p->ending = 1;
    p->status = status;
    p->client = NULL;
    p->req = NULL;
    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&p->timer, timer_closed);
    http_client_close(client, client_closed, p);
}

static void timer_fired(uv_timer_t *timer) {
    attempt_once(timer->data);
}

/* The last attempt failed (p->why says why): try again PROBE_INTERVAL_MS
 * from now, its end, or when the pacer allows; or give up at the deadline. */
static void retry(probe *p) {
    uint64_t now = uv_now(p->loop);
    uint64_t at;

    if (p->timeout_ms == 0 || now >= p->deadline_ms) {
        finish(p, UV_ETIMEDOUT);
        return;
    }
    at = paced(p, now + PROBE_INTERVAL_MS);
    if (at > p->deadline_ms)
        at = p->deadline_ms;
    uv_timer_start(&p->timer, timer_fired, at - now, 0);
}

static void answered(void *data, int status, const http_response *res) {
    probe *p = data;

    p->req = NULL;
    if (p->ending)
        return; /* closing the client canceled us: finish is under way */
    if (status == UV_ECANCELED) {
        finish(p, UV_ECANCELED);
        return;
    }
    if (status < 0) {
        snprintf(p->why, sizeof(p->why), "%s", hdc_strerror(status));
        retry(p);
        return;
    }
    p->http_status = res->status;
    if (res->status < 200 || res->status > 299) {
        snprintf(p->why, sizeof(p->why), "HTTP %d from %s%s", res->status, p->target.address,
                 p->target.probe->path);
        retry(p);
        return;
    }
    p->healthy = plugin_judge(p->target.desc, p->target.probe, res->body, res->body_len,
                              p->target.cluster, p->target.datanodes, p->why, sizeof(p->why));
    if (p->healthy)
        finish(p, 0);
    else
        retry(p);
}

static void attempt_once(probe *p) {
    static const http_header accept_json[] = {{"Accept", "application/json"}};
    static const http_request_cbs cbs = {.on_done = answered};
    uint64_t now = uv_now(p->loop);
    uint64_t timeout = PROBE_ATTEMPT_TIMEOUT_MS;
    http_request_opts opts = {
        .method = "GET",
        .target = p->target.probe->path,
        .headers = accept_json,
        .n_headers = 1,
        .max_body = 4 << 20,
        .flags = HTTP_BUFFER_BODY,
    };
    int err;

    if (p->timeout_ms > 0) {
        if (now >= p->deadline_ms) {
            finish(p, UV_ETIMEDOUT);
            return;
        }
        if (timeout > p->deadline_ms - now)
            timeout = p->deadline_ms - now;
    }
    opts.timeout_ms = timeout;
    p->attempts++;
    p->healthy = 0;
    err = http_request_start(p->client, &opts, &cbs, p, &p->req);
    if (err != 0) {
        p->req = NULL;
        snprintf(p->why, sizeof(p->why), "%s", hdc_strerror(err));
        retry(p);
    }
}

int probe_start(uv_loop_t *loop, const probe_target *target, uint64_t timeout_ms, probe_cb cb,
                void *data, probe **out) {
    probe *p;
    int err;

    if (target == NULL || target->desc == NULL || target->probe == NULL ||
        target->probe->path == NULL || target->address == NULL || cb == NULL)
        return UV_EINVAL;
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return UV_ENOMEM;
    err = http_client_new(loop, target->address, NULL, &p->client);
    if (err != 0) {
        free(p);
        return err;
    }
    p->loop = loop;
    p->target = *target;
    p->timeout_ms = timeout_ms;
    p->start_ms = uv_now(loop);
    p->deadline_ms = p->start_ms + timeout_ms;
    p->cb = cb;
    p->data = data;
    p->open_handles = 2;
    snprintf(p->why, sizeof(p->why), "not probed yet");
    uv_timer_init(loop, &p->timer);
    p->timer.data = p;
    /* The first attempt starts from the loop, so cb can never run inside
     * probe_start. A one-shot probe (status) is not paced. */
    uv_timer_start(&p->timer, timer_fired, timeout_ms > 0 ? paced(p, p->start_ms) - p->start_ms : 0,
                   0);
    if (out != NULL)
        *out = p;
    return 0;
}

int probe_cancel(probe *p) {
    if (p->ending)
        return UV_EALREADY;
    snprintf(p->why, sizeof(p->why), "canceled");
    if (p->req != NULL) {
        /* answered follows with UV_ECANCELED and finishes. */
        http_request_cancel(p->req);
        return 0;
    }
    finish(p, UV_ECANCELED);
    return 0;
}
