/* engine/cluster_heal.c against a fake engine on a unix socket: a paused
 * node is unpaused, a node off its network is connected again at its
 * label's address (or its own ExtraHosts line) with its hostname as alias,
 * a whole node is left alone; one callback, never from inside the call,
 * whatever fails; a failure names the node and what failed. */
#define _GNU_SOURCE /* strcasestr */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <uv.h>

#include "cluster_heal.h"

/* ---- a fake engine: one request per connection, answered by route ---- */

typedef struct route {
    const char *method, *prefix;
    int status;
    const char *body; /* JSON */
} route;

typedef struct fake {
    uv_pipe_t server;
    char path[108];
    const route *routes;
    size_t n_routes;
    char log[16384]; /* "METHOD TARGET BODY\n" per request */
} fake;

typedef struct conn {
    uv_pipe_t pipe;
    fake *f;
    char *buf;
    size_t len;
    int answered;
} conn;

typedef struct reply {
    uv_write_t w;
    conn *c;
    char data[];
} reply;

static void conn_closed(uv_handle_t *h) {
    conn *c = h->data;
    free(c->buf);
    free(c);
}

static void written(uv_write_t *w, int status) {
    reply *r = (reply *)w;
    uv_close((uv_handle_t *)&r->c->pipe, conn_closed);
    free(r);
}

static void answer(conn *c, const char *method, const char *target, const char *body, size_t blen) {
    fake *f = c->f;
    const route *hit = NULL;
    const char *text = "{\"message\":\"fake: no route\"}";
    int status = 500;
    size_t n = strlen(f->log);
    reply *r;
    uv_buf_t b;
    int len;

    snprintf(f->log + n, sizeof(f->log) - n, "%s %s %.*s\n", method, target, (int)blen, body);
    for (size_t i = 0; i < f->n_routes && hit == NULL; i++)
        if (strcmp(f->routes[i].method, method) == 0 &&
            strncmp(target, f->routes[i].prefix, strlen(f->routes[i].prefix)) == 0)
            hit = &f->routes[i];
    if (hit != NULL) {
        status = hit->status;
        text = hit->body;
    }
    r = malloc(sizeof(*r) + strlen(text) + 128);
    len = sprintf(r->data, "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n\r\n%s", status, strlen(text),
                  text);
    r->c = c;
    b = uv_buf_init(r->data, (unsigned)len);
    assert_int_equal(uv_write(&r->w, (uv_stream_t *)&c->pipe, &b, 1, written), 0);
}

static void alloc_cb(uv_handle_t *h, size_t size, uv_buf_t *buf) {
    static char slab[65536];
    *buf = uv_buf_init(slab, sizeof(slab));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    conn *c = s->data;
    char *end, method[16], target[1024];
    const char *cl;
    size_t head, blen = 0;

    if (nread < 0) {
        if (!c->answered)
            uv_close((uv_handle_t *)&c->pipe, conn_closed);
        c->answered = 1;
        return;
    }
    if (c->answered || nread == 0)
        return;
    c->buf = realloc(c->buf, c->len + (size_t)nread + 1);
    memcpy(c->buf + c->len, buf->base, (size_t)nread);
    c->len += (size_t)nread;
    c->buf[c->len] = '\0';
    if ((end = strstr(c->buf, "\r\n\r\n")) == NULL)
        return;
    head = (size_t)(end - c->buf) + 4;
    cl = strcasestr(c->buf, "\r\nContent-Length:");
    if (cl != NULL && cl < end)
        blen = strtoul(cl + 17, NULL, 10);
    if (c->len < head + blen)
        return;
    assert_int_equal(sscanf(c->buf, "%15s %1023s", method, target), 2);
    c->answered = 1;
    uv_read_stop(s);
    answer(c, method, target, c->buf + head, blen);
}

static void on_connection(uv_stream_t *server, int status) {
    conn *c = calloc(1, sizeof(*c));

    c->f = server->data;
    uv_pipe_init(server->loop, &c->pipe, 0);
    c->pipe.data = c;
    assert_int_equal(uv_accept(server, (uv_stream_t *)&c->pipe), 0);
    uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, on_read);
}

static void fake_start(uv_loop_t *loop, fake *f, const route *routes, size_t n) {
    memset(f, 0, sizeof(*f));
    f->routes = routes;
    f->n_routes = n;
    snprintf(f->path, sizeof(f->path), "/tmp/hdc-fake-heal-%d.sock", (int)getpid());
    unlink(f->path);
    assert_int_equal(uv_pipe_init(loop, &f->server, 0), 0);
    f->server.data = f;
    assert_int_equal(uv_pipe_bind(&f->server, f->path), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&f->server, 16, on_connection), 0);
}

static void fake_stop(fake *f) {
    uv_close((uv_handle_t *)&f->server, NULL);
    unlink(f->path);
}

/* ---- the nodes of cluster a (network hdc_a) ---- */

#define LIST_A                                                               \
    "[{\"Id\":\"zk\",\"Names\":[\"/a_zookeeper_1\"],\"State\":\"running\"}," \
    "{\"Id\":\"dn1\",\"Names\":[\"/a_datanode_1\"],\"State\":\"paused\"},"   \
    "{\"Id\":\"dn2\",\"Names\":[\"/a_datanode_2\"],\"State\":\"running\"},"  \
    "{\"Id\":\"nn\",\"Names\":[\"/a_namenode_1\"],\"State\":\"exited\"}]"

/* A whole node. */
#define ZK                                                                                        \
    "{\"Id\":\"zk\",\"Name\":\"/a_zookeeper_1\",\"State\":{\"Status\":\"running\","               \
    "\"Running\":true},\"Config\":{\"Hostname\":\"zookeeper\",\"Labels\":{\"hdc.cluster\":\"a\"," \
    "\"hdc.hostname\":\"zookeeper\",\"hdc.address\":\"172.29.3.2\"}},\"NetworkSettings\":"        \
    "{\"Networks\":{\"hdc_a\":{\"IPAddress\":\"172.29.3.2\"}}}}"
/* Paused and off its network: unpaused, then connected at its label's address. */
#define DN1                                                                                   \
    "{\"Id\":\"dn1\",\"Name\":\"/a_datanode_1\",\"State\":{\"Status\":\"paused\","            \
    "\"Running\":true,\"Paused\":true},\"Config\":{\"Hostname\":\"datanode1\",\"Labels\":"    \
    "{\"hdc.cluster\":\"a\",\"hdc.hostname\":\"datanode1\",\"hdc.address\":\"172.29.3.4\"}}," \
    "\"NetworkSettings\":{\"Networks\":{}}}"
/* Off its network, made before the label: its own ExtraHosts line. */
#define DN2                                                                                       \
    "{\"Id\":\"dn2\",\"Name\":\"/a_datanode_2\",\"State\":{\"Status\":\"running\","               \
    "\"Running\":true},\"Config\":{\"Hostname\":\"datanode2\",\"Labels\":{\"hdc.cluster\":\"a\"," \
    "\"hdc.hostname\":\"datanode2\"}},\"HostConfig\":{\"ExtraHosts\":[\"datanode1:172.29.3.4\","  \
    "\"datanode2:172.29.3.5\",\"datanode22:172.29.3.9\"]},\"NetworkSettings\":{\"Networks\":{}}}"
/* Stopped, off its network: connected all the same (Docker can). */
#define NN                                                                                        \
    "{\"Id\":\"nn\",\"Name\":\"/a_namenode_1\",\"State\":{\"Status\":\"exited\","                 \
    "\"Running\":false},\"Config\":{\"Hostname\":\"namenode\",\"Labels\":{\"hdc.cluster\":\"a\"," \
    "\"hdc.hostname\":\"namenode\",\"hdc.address\":\"172.29.3.3\"}},\"NetworkSettings\":"         \
    "{\"Networks\":{}}}"
/* Off its network, and no way to know its address. */
#define LOST                                                                                       \
    "{\"Id\":\"lost\",\"Name\":\"/b_datanode_1\",\"State\":{\"Status\":\"running\","               \
    "\"Running\":true},\"Config\":{\"Hostname\":\"datanode1\",\"Labels\":{\"hdc.cluster\":\"b\"}}" \
    ","                                                                                            \
    "\"NetworkSettings\":{\"Networks\":{}}}"

static const route routes[] = {
    {"GET", "/v1.41/containers/json", 200, LIST_A},
    {"GET", "/v1.41/containers/zk/json", 200, ZK},
    {"GET", "/v1.41/containers/dn1/json", 200, DN1},
    {"GET", "/v1.41/containers/dn2/json", 200, DN2},
    {"GET", "/v1.41/containers/nn/json", 200, NN},
    {"GET", "/v1.41/containers/lost/json", 200, LOST},
    {"GET", "/v1.41/containers/gone/json", 404, "{\"message\":\"No such container: gone\"}"},
    {"POST", "/v1.41/containers/dn1/unpause", 204, ""},
    {"POST", "/v1.41/networks/hdc_a/connect", 200, ""},
    /* hdc_b has no route: its connect fails with the fake's 500. */
};

typedef struct got {
    int calls;
    int inside;
    int called_inside;
    int status;
    unsigned healed;
    char msg[512];
} got;

static void healed(void *data, int status, const char *msg, unsigned n) {
    got *g = data;

    g->calls++;
    g->called_inside |= g->inside;
    g->status = status;
    g->healed = n;
    snprintf(g->msg, sizeof(g->msg), "%s", msg != NULL ? msg : "");
}

/* Runs the loop until the callback came (the fake's server keeps it alive). */
static void run_until(uv_loop_t *loop, const got *g) {
    for (int i = 0; i < 100000 && g->calls == 0; i++)
        uv_run(loop, UV_RUN_ONCE);
    /* A second callback would come on the turns that follow. */
    for (int i = 0; i < 50; i++)
        uv_run(loop, UV_RUN_NOWAIT);
}

typedef struct bench {
    uv_loop_t loop;
    fake f;
    docker *d;
} bench;

static void bench_open(bench *b) {
    char addr[160];

    assert_int_equal(uv_loop_init(&b->loop), 0);
    fake_start(&b->loop, &b->f, routes, sizeof(routes) / sizeof(routes[0]));
    snprintf(addr, sizeof(addr), "unix://%s", b->f.path);
    assert_int_equal(docker_new(&b->loop, addr, &b->d), 0);
}

static void bench_close(bench *b) {
    docker_close(b->d, NULL, NULL);
    fake_stop(&b->f);
    uv_run(&b->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&b->loop), 0);
}

/* The body of the connect request for container id, from the log. */
static json_t *connect_of(const fake *f, const char *id) {
    char needle[64];
    const char *p = f->log;

    snprintf(needle, sizeof(needle), "\"Container\":\"%s\"", id);
    while ((p = strstr(p, "POST /v1.41/networks/")) != NULL) {
        const char *body = strchr(p, ' ');
        const char *eol = strchr(p, '\n');
        body = body != NULL ? strchr(body + 1, ' ') : NULL;
        if (body != NULL && eol != NULL && body < eol) {
            json_t *j = json_loadb(body + 1, (size_t)(eol - body - 1), 0, NULL);
            if (j != NULL &&
                strcmp(json_string_value(json_object_get(j, "Container")) ?: "", id) == 0)
                return j;
            json_decref(j);
        }
        p = eol != NULL ? eol : p + 1;
    }
    return NULL;
}

static const char *ipv4_of(const json_t *connect) {
    return json_string_value(json_object_get(
        json_object_get(json_object_get(connect, "EndpointConfig"), "IPAMConfig"), "IPv4Address"));
}

static const char *alias_of(const json_t *connect) {
    return json_string_value(
        json_array_get(json_object_get(json_object_get(connect, "EndpointConfig"), "Aliases"), 0));
}

static void a_cluster_is_unpaused_and_reconnected(void **state) {
    bench b;
    got g = {0};
    json_t *j;

    bench_open(&b);
    g.inside = 1;
    assert_int_equal(cluster_heal(&b.loop, b.d, "a", healed, &g), 0);
    g.inside = 0;
    run_until(&b.loop, &g);
    assert_int_equal(g.calls, 1);
    assert_false(g.called_inside);
    assert_int_equal(g.status, 0);
    assert_string_equal(g.msg, "");
    assert_int_equal(g.healed, 3); /* dn1, dn2, nn; zk was whole */
    assert_non_null(strstr(b.f.log, "GET /v1.41/containers/json?all=1&filters="));
    assert_non_null(strstr(b.f.log, "hdc.cluster%3Da"));
    assert_non_null(strstr(b.f.log, "POST /v1.41/containers/dn1/unpause"));
    /* The unpause comes before the connect of that node. */
    assert_true(strstr(b.f.log, "POST /v1.41/containers/dn1/unpause") <
                strstr(b.f.log, "\"Container\":\"dn1\""));
    assert_null(strstr(b.f.log, "\"Container\":\"zk\""));
    assert_null(strstr(b.f.log, "containers/dn2/unpause"));

    j = connect_of(&b.f, "dn1");
    assert_non_null(j);
    assert_string_equal(ipv4_of(j), "172.29.3.4");
    assert_string_equal(alias_of(j), "datanode1");
    json_decref(j);
    j = connect_of(&b.f, "dn2"); /* from its own ExtraHosts line, not datanode22's */
    assert_non_null(j);
    assert_string_equal(ipv4_of(j), "172.29.3.5");
    assert_string_equal(alias_of(j), "datanode2");
    json_decref(j);
    j = connect_of(&b.f, "nn");
    assert_non_null(j);
    assert_string_equal(ipv4_of(j), "172.29.3.3");
    json_decref(j);
    assert_non_null(strstr(b.f.log, "POST /v1.41/networks/hdc_a/connect"));
    bench_close(&b);
}

static void only_what_is_asked_of_the_nodes_named(void **state) {
    const char *nodes[] = {"dn1", "gone"};
    bench b;
    got g = {0};

    bench_open(&b);
    g.inside = 1;
    assert_int_equal(cluster_heal_nodes(&b.loop, b.d, nodes, 2, CLUSTER_HEAL_RECONNECT, healed, &g),
                     0);
    g.inside = 0;
    run_until(&b.loop, &g);
    assert_int_equal(g.calls, 1);
    assert_false(g.called_inside);
    assert_int_equal(g.status, 0); /* a node gone meanwhile is nothing to heal */
    assert_int_equal(g.healed, 1);
    assert_null(strstr(b.f.log, "unpause"));
    assert_null(strstr(b.f.log, "containers/json?"));
    assert_non_null(strstr(b.f.log, "\"Container\":\"dn1\""));
    bench_close(&b);

    /* Unpause only: no connect. */
    bench_open(&b);
    memset(&g, 0, sizeof(g));
    assert_int_equal(cluster_heal_nodes(&b.loop, b.d, nodes, 1, CLUSTER_HEAL_UNPAUSE, healed, &g),
                     0);
    run_until(&b.loop, &g);
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.healed, 1);
    assert_non_null(strstr(b.f.log, "POST /v1.41/containers/dn1/unpause"));
    assert_null(strstr(b.f.log, "/connect"));
    bench_close(&b);

    /* Nothing to heal: refused at once. */
    assert_int_equal(cluster_heal_nodes(NULL, NULL, nodes, 0, CLUSTER_HEAL_ALL, healed, &g),
                     UV_EINVAL);
}

static void a_failure_names_the_node_and_the_rest_is_healed(void **state) {
    const char *nodes[] = {"lost", "dn1"};
    bench b;
    got g = {0};

    bench_open(&b);
    assert_int_equal(cluster_heal_nodes(&b.loop, b.d, nodes, 2, CLUSTER_HEAL_ALL, healed, &g), 0);
    run_until(&b.loop, &g);
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.status, UV_ENOENT);
    assert_non_null(strstr(g.msg, "datanode1: network connect: its address on the network is not "
                                  "known"));
    assert_int_equal(g.healed, 1); /* dn1 all the same */
    bench_close(&b);
}

static void the_address_of_a_node(void **state) {
    json_t *labels = json_pack("{s:s, s:s}", "hdc.cluster", "a", "hdc.hostname", "datanode1");
    json_t *raw = json_pack("{s:{s:[s, s]}}", "HostConfig", "ExtraHosts", "datanode10:10.0.0.10",
                            "datanode1:10.0.0.1");
    docker_endpoint eps[] = {{.network = "bridge", .ip_address = "172.17.0.2"},
                             {.network = "hdc_a", .ip_address = "10.0.0.1"}};
    docker_container_info info = {.labels = labels, .raw = raw, .hostname = "datanode1"};
    char out[64];

    assert_int_equal(cluster_node_address(&info, out, sizeof(out)), 0);
    assert_string_equal(out, "10.0.0.1");
    json_object_set_new(labels, "hdc.address", json_string("10.0.0.7"));
    assert_int_equal(cluster_node_address(&info, out, sizeof(out)), 0);
    assert_string_equal(out, "10.0.0.7"); /* the label wins */
    info.raw = NULL;
    json_object_del(labels, "hdc.address");
    assert_int_equal(cluster_node_address(&info, out, sizeof(out)), UV_ENOENT);

    assert_false(cluster_node_connected(&info));
    info.networks = eps;
    info.n_networks = 1;
    assert_false(cluster_node_connected(&info)); /* another network is not its own */
    info.n_networks = 2;
    assert_true(cluster_node_connected(&info));
    cluster_network_name("a", out, sizeof(out));
    assert_string_equal(out, "hdc_a");
    json_decref(labels);
    json_decref(raw);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_cluster_is_unpaused_and_reconnected),
        cmocka_unit_test(only_what_is_asked_of_the_nodes_named),
        cmocka_unit_test(a_failure_names_the_node_and_the_rest_is_healed),
        cmocka_unit_test(the_address_of_a_node),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
