/* Health probes against a small HTTP server on the same loop whose answers
 * follow a script: "503" answers 503, a JSON text answers 200 with it, and
 * the last entry repeats. The probe is the resourcemanager's of a test
 * descriptor: healthy when clusterMetrics.activeNodes equals the number of
 * nodemanagers, which is the requested datanode count. */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "probe.h"

static const hdc_port rm_ports[] = {{"http-ui", 8088}, {0}};
static const hdc_port nm_ports[] = {{"http-ui", 8042}, {0}};
static const hdc_service services[] = {
    {.name = "resourcemanager", .image = "debian:bookworm", .ports = rm_ports},
    {.name = "nodemanager",
     .image = "debian:bookworm",
     .ports = nm_ports,
     .instances = HDC_COUNT_DATANODES},
    {0},
};
static const hdc_check active_nodes[] = {
    {.path = "clusterMetrics.activeNodes", .op = HDC_OP_EQ, .count_of = "nodemanager"},
    {0},
};
static const hdc_probe probes[] = {
    {.name = "resourcemanager",
     .service = "resourcemanager",
     .port_role = "http-ui",
     .path = "/ws/v1/cluster/metrics",
     .checks = active_nodes},
    {0},
};
static const hdc_plugin_desc desc = {
    HDC_PLUGIN_HEADER,
    .name = "probe-test",
    .services = services,
    .probes = probes,
};

#define ONE_NODE  "{\"clusterMetrics\":{\"activeNodes\":1}}"
#define TWO_NODES "{\"clusterMetrics\":{\"activeNodes\":2}}"

typedef struct server server;

typedef struct conn {
    uv_tcp_t tcp;
    server *srv;
    char buf[4096];
    size_t len;
} conn;

#define MAX_SEEN 64

struct server {
    uv_loop_t *loop;
    uv_tcp_t tcp;
    int port;
    const char *const *script; /* NULL-terminated */
    size_t answered;
    char last_target[256];
    /* What the probe did, in uv_now of the shared loop: each request's
     * arrival and the moment its answer went out (after delay_ms). */
    uint64_t delay_ms;
    uint64_t arrived[MAX_SEEN], sent[MAX_SEEN];
    size_t n_arrived, n_sent;
    unsigned in_flight, max_in_flight, connections;
};

/* An answer held back for delay_ms, as a busy daemon's would be. */
typedef struct held {
    uv_timer_t timer;
    uv_stream_t *stream;
    server *srv;
    char *out;
    size_t len;
} held;

typedef struct outcome {
    int calls;
    int status;
    int healthy;
    int http_status;
    unsigned attempts;
    char why[256];
} outcome;

static void on_probe(void *data, int status, const probe_result *res) {
    outcome *o = data;

    o->calls++;
    o->status = status;
    o->healthy = res->healthy;
    o->http_status = res->http_status;
    o->attempts = res->attempts;
    snprintf(o->why, sizeof(o->why), "%s", res->why);
}

static void conn_closed(uv_handle_t *h) {
    free(h->data);
}

static void written(uv_write_t *w, int status) {
    free(w->data);
    free(w);
}

static void conn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
    conn *c = h->data;

    *buf = uv_buf_init(c->buf + c->len, (unsigned)(sizeof(c->buf) - c->len));
}

static void send_answer(server *srv, uv_stream_t *s, char *out, size_t len) {
    uv_write_t *w = malloc(sizeof(*w));
    uv_buf_t ob = uv_buf_init(out, (unsigned)len);

    if (srv->n_sent < MAX_SEEN)
        srv->sent[srv->n_sent++] = uv_now(srv->loop);
    srv->in_flight--;
    w->data = out;
    uv_write(w, s, &ob, 1, written);
}

static void held_closed(uv_handle_t *h) {
    free(h->data);
}

static void held_fired(uv_timer_t *t) {
    held *h = t->data;

    send_answer(h->srv, h->stream, h->out, h->len);
    uv_close((uv_handle_t *)t, held_closed);
}

/* Answers every complete request in c->buf with the script's next entry. */
static void conn_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
    conn *c = s->data;
    server *srv = c->srv;
    char *end;

    if (n < 0) {
        uv_close((uv_handle_t *)s, conn_closed);
        return;
    }
    c->len += (size_t)n;
    while ((end = memmem(c->buf, c->len, "\r\n\r\n", 4)) != NULL) {
        size_t req_len = (size_t)(end - c->buf) + 4;
        size_t i = 0;
        const char *entry;
        char *out = malloc(1024);
        int len;

        if (srv->n_arrived < MAX_SEEN)
            srv->arrived[srv->n_arrived++] = uv_now(srv->loop);
        if (++srv->in_flight > srv->max_in_flight)
            srv->max_in_flight = srv->in_flight;
        sscanf(c->buf, "GET %255s", srv->last_target);
        while (srv->script[i + 1] != NULL && i < srv->answered)
            i++;
        entry = srv->script[i];
        srv->answered++;
        if (strcmp(entry, "503") == 0)
            len = snprintf(out, 1024,
                           "HTTP/1.1 503 Service Unavailable\r\n"
                           "Content-Length: 0\r\n\r\n");
        else
            len = snprintf(out, 1024,
                           "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                           "Content-Length: %zu\r\n\r\n%s",
                           strlen(entry), entry);
        if (srv->delay_ms > 0) {
            held *h = calloc(1, sizeof(*h));
            *h = (held){.stream = s, .srv = srv, .out = out, .len = (size_t)len};
            uv_timer_init(srv->loop, &h->timer);
            h->timer.data = h;
            uv_timer_start(&h->timer, held_fired, srv->delay_ms, 0);
        } else {
            send_answer(srv, s, out, (size_t)len);
        }
        memmove(c->buf, c->buf + req_len, c->len - req_len);
        c->len -= req_len;
    }
}

static void server_accept(uv_stream_t *listener, int status) {
    server *srv = listener->data;
    conn *c = calloc(1, sizeof(*c));

    assert_int_equal(status, 0);
    srv->connections++;
    c->srv = srv;
    uv_tcp_init(srv->loop, &c->tcp);
    c->tcp.data = c;
    assert_int_equal(uv_accept(listener, (uv_stream_t *)&c->tcp), 0);
    uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_read);
}

static void server_start(server *srv, uv_loop_t *loop, const char *const *script) {
    struct sockaddr_in addr;
    struct sockaddr_storage bound;
    int len = sizeof(bound);

    memset(srv, 0, sizeof(*srv));
    srv->loop = loop;
    srv->script = script;
    uv_tcp_init(loop, &srv->tcp);
    srv->tcp.data = srv;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    assert_int_equal(uv_tcp_bind(&srv->tcp, (const struct sockaddr *)&addr, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&srv->tcp, 16, server_accept), 0);
    uv_tcp_getsockname(&srv->tcp, (struct sockaddr *)&bound, &len);
    srv->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
}

static void close_any(uv_handle_t *h, void *arg) {
    if (!uv_is_closing(h))
        uv_close(h, h->type == UV_TCP && h->data != NULL && h->data != arg ? conn_closed : NULL);
}

static void loop_finish(uv_loop_t *loop, server *srv) {
    uv_walk(loop, close_any, srv);
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(loop), 0);
}

/* A free port nobody listens on. */
static int dead_port(uv_loop_t *loop) {
    server srv;
    static const char *const script[] = {"503", NULL};
    int port;

    server_start(&srv, loop, script);
    port = srv.port;
    uv_close((uv_handle_t *)&srv.tcp, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    return port;
}

static void run_paced_probe(uv_loop_t *loop, int port, unsigned datanodes, uint64_t timeout_ms,
                            probe_pacer *pacer, outcome *o) {
    char address[64];
    probe_target target = {
        .desc = &desc,
        .probe = &probes[0],
        .cluster = "t",
        .datanodes = datanodes,
        .address = address,
        .pacer = pacer,
    };

    snprintf(address, sizeof(address), "http://127.0.0.1:%d", port);
    memset(o, 0, sizeof(*o));
    assert_int_equal(probe_start(loop, &target, timeout_ms, on_probe, o, NULL), 0);
    assert_int_equal(o->calls, 0); /* never from inside probe_start */
}

static void run_probe(uv_loop_t *loop, int port, unsigned datanodes, uint64_t timeout_ms,
                      outcome *o) {
    run_paced_probe(loop, port, datanodes, timeout_ms, NULL, o);
}

static void healthy_after_unavailable_and_short_answers(void **state) {
    static const char *const script[] = {"503", "503", ONE_NODE, TWO_NODES, NULL};
    uv_loop_t loop;
    server srv;
    outcome o;

    uv_loop_init(&loop);
    server_start(&srv, &loop, script);
    run_probe(&loop, srv.port, 2, 30000, &o);
    while (o.calls == 0)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.status, 0);
    assert_true(o.healthy);
    assert_int_equal(o.http_status, 200);
    assert_int_equal(o.attempts, 4);
    assert_string_equal(srv.last_target, "/ws/v1/cluster/metrics");
    loop_finish(&loop, &srv);
}

static void unhealthy_until_deadline_says_why(void **state) {
    static const char *const script[] = {ONE_NODE, NULL};
    uv_loop_t loop;
    server srv;
    outcome o;
    uint64_t start;

    uv_loop_init(&loop);
    server_start(&srv, &loop, script);
    start = uv_now(&loop);
    run_probe(&loop, srv.port, 3, 700, &o);
    while (o.calls == 0)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(o.status, UV_ETIMEDOUT);
    assert_false(o.healthy);
    assert_true(o.attempts >= 2);
    assert_true(uv_now(&loop) - start >= 700);
    assert_non_null(strstr(o.why, "activeNodes"));
    assert_non_null(strstr(o.why, "1"));
    assert_non_null(strstr(o.why, "3"));
    loop_finish(&loop, &srv);
}

static void nobody_listening_is_retried_then_reported(void **state) {
    uv_loop_t loop;
    outcome o;

    uv_loop_init(&loop);
    run_probe(&loop, dead_port(&loop), 1, 500, &o);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.status, UV_ETIMEDOUT);
    assert_int_equal(o.http_status, 0);
    assert_true(o.attempts >= 2);
    assert_non_null(strstr(o.why, "refused"));
    loop_finish(&loop, NULL);
}

static void zero_timeout_makes_one_attempt(void **state) {
    static const char *const script[] = {"503", TWO_NODES, NULL};
    uv_loop_t loop;
    server srv;
    outcome o;

    uv_loop_init(&loop);
    server_start(&srv, &loop, script);
    run_probe(&loop, srv.port, 2, 0, &o);
    while (o.calls == 0)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(o.status, UV_ETIMEDOUT);
    assert_int_equal(o.attempts, 1);
    assert_int_equal(o.http_status, 503);
    assert_non_null(strstr(o.why, "503"));
    loop_finish(&loop, &srv);
}

static void cancel_calls_back_once(void **state) {
    uv_loop_t loop;
    outcome o;
    probe *p;
    char address[64];
    probe_target target = {
        .desc = &desc,
        .probe = &probes[0],
        .cluster = "t",
        .datanodes = 1,
        .address = address,
    };

    uv_loop_init(&loop);
    snprintf(address, sizeof(address), "http://127.0.0.1:%d", dead_port(&loop));
    memset(&o, 0, sizeof(o));
    assert_int_equal(probe_start(&loop, &target, 60000, on_probe, &o, &p), 0);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(probe_cancel(p), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.status, UV_ECANCELED);
    loop_finish(&loop, NULL);
}

/* A daemon slow to answer (120 ms) is never asked twice at once: the
 * next attempt comes PROBE_INTERVAL_MS after the answer, not after the
 * question, and every attempt goes over the one kept-alive connection. */
static void one_attempt_at_a_time_spaced_from_its_end(void **state) {
    static const char *const script[] = {ONE_NODE, NULL};
    uv_loop_t loop;
    server srv;
    outcome o;

    uv_loop_init(&loop);
    server_start(&srv, &loop, script);
    srv.delay_ms = 120;
    run_probe(&loop, srv.port, 3, 1000, &o);
    while (o.calls == 0)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(o.status, UV_ETIMEDOUT);
    assert_true(srv.n_arrived >= 3);
    assert_int_equal(srv.max_in_flight, 1);
    assert_int_equal(srv.connections, 1);
    for (size_t i = 1; i < srv.n_arrived; i++)
        assert_true(srv.arrived[i] >= srv.sent[i - 1] + PROBE_INTERVAL_MS);
    loop_finish(&loop, &srv);
}

/* A fast daemon is asked about every PROBE_INTERVAL_MS, not after a
 * backoff: in 600 ms of unhealthy answers, several attempts. */
static void fast_answers_are_asked_again_soon(void **state) {
    static const char *const script[] = {ONE_NODE, NULL};
    uv_loop_t loop;
    server srv;
    outcome o;

    uv_loop_init(&loop);
    server_start(&srv, &loop, script);
    run_probe(&loop, srv.port, 3, 600, &o);
    while (o.calls == 0)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(o.status, UV_ETIMEDOUT);
    assert_true(o.attempts >= 4);
    assert_true(o.attempts <= 600 / PROBE_INTERVAL_MS + 1);
    for (size_t i = 1; i < srv.n_arrived; i++)
        assert_true(srv.arrived[i] >= srv.sent[i - 1] + PROBE_INTERVAL_MS);
    loop_finish(&loop, &srv);
}

/* Two probes sharing a pacer of 10 attempts a second make at most one
 * attempt per 100 ms between them (alone, each would make one per 50). */
static void probes_sharing_a_pacer_keep_its_cap(void **state) {
    static const char *const script[] = {ONE_NODE, NULL};
    uv_loop_t loop;
    server a, b;
    outcome oa, ob;
    probe_pacer pacer;

    uv_loop_init(&loop);
    probe_pacer_init(&pacer, 10);
    assert_int_equal(pacer.gap_ms, 100);
    server_start(&a, &loop, script);
    server_start(&b, &loop, script);
    run_paced_probe(&loop, a.port, 3, 800, &pacer, &oa);
    run_paced_probe(&loop, b.port, 3, 800, &pacer, &ob);
    while (oa.calls == 0 || ob.calls == 0)
        uv_run(&loop, UV_RUN_ONCE);
    assert_true(oa.attempts >= 1 && ob.attempts >= 1);
    assert_true(oa.attempts + ob.attempts <= 800 / 100 + 1);
    uv_close((uv_handle_t *)&b.tcp, NULL);
    loop_finish(&loop, &a);
}

static void bad_target_is_refused(void **state) {
    uv_loop_t loop;
    outcome o;
    probe_target target = {.desc = &desc, .probe = &probes[0], .address = NULL};

    uv_loop_init(&loop);
    assert_int_equal(probe_start(&loop, &target, 100, on_probe, &o, NULL), UV_EINVAL);
    loop_finish(&loop, NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(healthy_after_unavailable_and_short_answers),
        cmocka_unit_test(unhealthy_until_deadline_says_why),
        cmocka_unit_test(nobody_listening_is_retried_then_reported),
        cmocka_unit_test(zero_timeout_makes_one_attempt),
        cmocka_unit_test(cancel_calls_back_once),
        cmocka_unit_test(one_attempt_at_a_time_spaced_from_its_end),
        cmocka_unit_test(fast_answers_are_asked_again_soon),
        cmocka_unit_test(probes_sharing_a_pacer_keep_its_cap),
        cmocka_unit_test(bad_target_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
