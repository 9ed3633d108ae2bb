/* The pure half of engine/docker.c, without an engine: request bodies
 * (container create with a static address, ports, hosts, binds; network
 * create with IPAM; exec create), targets with their escaped filters,
 * reply parsing (container, network and image inspect; build progress
 * lines with errorDetail; error replies; invalid JSON), and the archive of
 * a build context. Plus one call against an address where no engine
 * listens, which must fail with a message saying what to do. */
#define _GNU_SOURCE /* strcasestr */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>
#include <jansson.h>
#include <uv.h>

#include "docker.h"

/* The value at a path of keys in o ("HostConfig", "ExtraHosts", NULL). */
static json_t *at(json_t *o, ...) {
    va_list ap;
    const char *k;

    va_start(ap, o);
    while (o && (k = va_arg(ap, const char *)) != NULL)
        o = json_object_get(o, k);
    va_end(ap);
    return o;
}

static void assert_json_equal(const json_t *got, const char *want_text) {
    json_t *want = json_loads(want_text, 0, NULL);
    assert_non_null(want);
    if (!json_equal((json_t *)got, want)) {
        char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
        char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
        fail_msg("got  %s\nwant %s", g, w);
    }
    json_decref(want);
}

static void test_container_create_body_has_static_address_hosts_and_ports(void **state) {
    const char *env[] = {"A=1", "B=two words"};
    const char *cmd[] = {"/peer", "serve"};
    const char *aliases[] = {"alpha", "alpha.hdc"};
    const char *hosts[] = {"beta:172.29.5.11"};
    const char *binds[] = {"/srv/data:/data:ro"};
    const char *vols[] = {"/scratch"};
    docker_kv labels[] = {{"hdc.cluster", "c1"}, {"hdc.service", "zk"}};
    docker_port ports[] = {{2181, NULL, 0}, {9870, "tcp", 19870}, {53, "udp", 0}};
    docker_container_opts o = {
        .name = "c1_zk_1",
        .image = "hdc/zk:1",
        .hostname = "alpha",
        .user = "1000:1000",
        .working_dir = "/work",
        .labels = labels,
        .n_labels = 2,
        .env = env,
        .n_env = 2,
        .cmd = cmd,
        .n_cmd = 2,
        .network = "hdc_c1",
        .ipv4 = "172.29.5.10",
        .aliases = aliases,
        .n_aliases = 2,
        .extra_hosts = hosts,
        .n_extra_hosts = 1,
        .ports = ports,
        .n_ports = 3,
        .binds = binds,
        .n_binds = 1,
        .volumes = vols,
        .n_volumes = 1,
        .tty = 1,
    };
    json_t *b = docker_container_create_body(&o);

    assert_non_null(b);
    assert_string_equal(json_string_value(at(b, "Image", NULL)), "hdc/zk:1");
    assert_string_equal(json_string_value(at(b, "Hostname", NULL)), "alpha");
    assert_string_equal(json_string_value(at(b, "User", NULL)), "1000:1000");
    assert_string_equal(json_string_value(at(b, "WorkingDir", NULL)), "/work");
    assert_true(json_is_true(at(b, "Tty", NULL)));
    assert_json_equal(at(b, "Labels", NULL), "{\"hdc.cluster\":\"c1\",\"hdc.service\":\"zk\"}");
    assert_json_equal(at(b, "Env", NULL), "[\"A=1\",\"B=two words\"]");
    assert_json_equal(at(b, "Cmd", NULL), "[\"/peer\",\"serve\"]");
    assert_null(at(b, "Entrypoint", NULL));
    assert_json_equal(at(b, "ExposedPorts", NULL),
                      "{\"2181/tcp\":{},\"9870/tcp\":{},\"53/udp\":{}}");
    assert_json_equal(at(b, "HostConfig", "PortBindings", NULL),
                      "{\"2181/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"\"}],"
                      "\"9870/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"19870\"}],"
                      "\"53/udp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"\"}]}");
    assert_json_equal(at(b, "HostConfig", "ExtraHosts", NULL), "[\"beta:172.29.5.11\"]");
    assert_json_equal(at(b, "HostConfig", "Binds", NULL), "[\"/srv/data:/data:ro\"]");
    assert_json_equal(at(b, "Volumes", NULL), "{\"/scratch\":{}}");
    assert_string_equal(json_string_value(at(b, "HostConfig", "NetworkMode", NULL)), "hdc_c1");
    assert_json_equal(at(b, "NetworkingConfig", NULL),
                      "{\"EndpointsConfig\":{\"hdc_c1\":{"
                      "\"IPAMConfig\":{\"IPv4Address\":\"172.29.5.10\"},"
                      "\"Aliases\":[\"alpha\",\"alpha.hdc\"]}}}");
    json_decref(b);
}

static void test_container_create_body_refuses_bad_options(void **state) {
    docker_container_opts o = {.name = "x"};
    json_t *b;

    /* No image. */
    assert_null(docker_container_create_body(&o));
    /* An address without a network. */
    o.image = "scratch-image";
    o.ipv4 = "10.0.0.2";
    assert_null(docker_container_create_body(&o));
    /* Minimal: no network, ports or hosts keys at all. */
    o.ipv4 = NULL;
    b = docker_container_create_body(&o);
    assert_non_null(b);
    assert_null(at(b, "NetworkingConfig", NULL));
    assert_null(at(b, "ExposedPorts", NULL));
    assert_null(at(b, "HostConfig", "ExtraHosts", NULL));
    json_decref(b);
}

static void test_entrypoint_and_exec_bodies(void **state) {
    const char *ep[] = {"/hdc-agent", "--"};
    const char *cmd[] = {"/peer", "exec"};
    docker_container_opts o = {.image = "i", .entrypoint = ep, .n_entrypoint = 2, .init = 1};
    docker_exec_opts e = {
        .cmd = cmd, .n_cmd = 2, .user = "hdfs", .stdin_data = "x", .stdin_len = 1};
    json_t *b = docker_container_create_body(&o);

    assert_json_equal(at(b, "Entrypoint", NULL), "[\"/hdc-agent\",\"--\"]");
    assert_true(json_is_true(at(b, "HostConfig", "Init", NULL)));
    json_decref(b);

    b = docker_exec_create_body(&e);
    assert_json_equal(b, "{\"AttachStdin\":true,\"AttachStdout\":true,\"AttachStderr\":true,"
                         "\"Tty\":false,\"Cmd\":[\"/peer\",\"exec\"],\"User\":\"hdfs\"}");
    json_decref(b);
    e.stdin_data = NULL;
    e.n_cmd = 0;
    assert_null(docker_exec_create_body(&e));
}

static void test_network_create_body_has_explicit_ipam(void **state) {
    docker_kv labels[] = {{"hdc.test", "1-2"}};
    docker_network_opts o = {.name = "hdc_c1",
                             .subnet = "172.29.5.0/24",
                             .gateway = "172.29.5.1",
                             .labels = labels,
                             .n_labels = 1};
    json_t *b = docker_network_create_body(&o);

    assert_json_equal(b, "{\"Name\":\"hdc_c1\",\"Driver\":\"bridge\",\"CheckDuplicate\":true,"
                         "\"Internal\":false,\"Labels\":{\"hdc.test\":\"1-2\"},"
                         "\"IPAM\":{\"Driver\":\"default\",\"Config\":[{"
                         "\"Subnet\":\"172.29.5.0/24\",\"Gateway\":\"172.29.5.1\"}]}}");
    json_decref(b);
    o.subnet = NULL; /* a gateway without a subnet */
    assert_null(docker_network_create_body(&o));
    o.name = "";
    assert_null(docker_network_create_body(&o));
}

static void test_filters_are_json_then_url_escaped(void **state) {
    const char *types[] = {"container"};
    const char *labels[] = {"hdc.test=42-1700000000"};
    const char *events[] = {"start", "die"};
    docker_filter f[] = {{"type", types, 1}, {"name", NULL, 0}, {"label", labels, 1}};
    docker_events_opts eo = {.types = types,
                             .n_types = 1,
                             .labels = labels,
                             .n_labels = 1,
                             .events = events,
                             .n_events = 2,
                             .since = 1700000000};
    char *s;

    s = docker_filters_json(f, 3);
    assert_string_equal(s, "{\"type\":[\"container\"],\"label\":[\"hdc.test=42-1700000000\"]}");
    free(s);
    assert_null(docker_filters_json(f + 1, 1));

    s = docker_url_escape("{\"a\":[\"k=v w/x\"]}~._-");
    assert_string_equal(s, "%7B%22a%22%3A%5B%22k%3Dv%20w%2Fx%22%5D%7D~._-");
    free(s);

    s = docker_events_target(&eo);
    assert_string_equal(s, "/v1.41/events?since=1700000000&filters="
                           "%7B%22type%22%3A%5B%22container%22%5D%2C%22label%22%3A%5B%22"
                           "hdc.test%3D42-1700000000%22%5D%2C%22event%22%3A%5B%22start%22"
                           "%2C%22die%22%5D%7D");
    free(s);

    s = docker_list_target("/containers/json?all=1", "hdc.cluster=c1");
    assert_string_equal(s, "/v1.41/containers/json?all=1&filters="
                           "%7B%22label%22%3A%5B%22hdc.cluster%3Dc1%22%5D%7D");
    free(s);
    s = docker_list_target("/networks", NULL);
    assert_string_equal(s, "/v1.41/networks");
    free(s);
}

static void test_logs_and_build_targets(void **state) {
    docker_logs_opts lo = {
        .streams = DOCKER_STDERR, .follow = 1, .timestamps = 1, .since = 5, .tail = "10"};
    docker_kv args[] = {{"V", "2.6.0"}};
    docker_kv labels[] = {{"hdc.test", "x y"}};
    docker_build_opts bo = {.context_dir = "/tmp",
                            .tag = "hdc/peer:test",
                            .buildargs = args,
                            .n_buildargs = 1,
                            .labels = labels,
                            .n_labels = 1};
    char *s;

    s = docker_logs_target("c1_zk_1", &lo);
    assert_string_equal(s, "/v1.41/containers/c1_zk_1/logs?stdout=0&stderr=1&follow=1"
                           "&timestamps=1&since=5&tail=10");
    free(s);
    memset(&lo, 0, sizeof(lo));
    s = docker_logs_target("abc", &lo);
    assert_string_equal(s, "/v1.41/containers/abc/logs?stdout=1&stderr=1&follow=0"
                           "&timestamps=0&since=0&tail=all");
    free(s);

    s = docker_build_target(&bo);
    assert_string_equal(s, "/v1.41/build?rm=1&forcerm=1&t=hdc%2Fpeer%3Atest"
                           "&buildargs=%7B%22V%22%3A%222.6.0%22%7D"
                           "&labels=%7B%22hdc.test%22%3A%22x%20y%22%7D");
    free(s);
}

static void test_build_progress_lines(void **state) {
    docker_build_progress p;
    json_t *root;
    const char *l;

    l = "{\"stream\":\"Step 1/3 : FROM scratch\\n\"}";
    assert_int_equal(docker_build_line_parse(l, strlen(l), &root, &p), 0);
    assert_string_equal(p.stream, "Step 1/3 : FROM scratch\n");
    assert_null(p.error);
    assert_null(p.aux_id);
    json_decref(root);

    l = "{\"aux\":{\"ID\":\"sha256:0123abcd\"}}";
    assert_int_equal(docker_build_line_parse(l, strlen(l), &root, &p), 0);
    assert_string_equal(p.aux_id, "sha256:0123abcd");
    json_decref(root);

    l = "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":1},\"progress\":\"[=> ]\","
        "\"id\":\"abc\"}";
    assert_int_equal(docker_build_line_parse(l, strlen(l), &root, &p), 0);
    assert_string_equal(p.status, "Downloading");
    assert_string_equal(p.progress, "[=> ]");
    assert_string_equal(p.id, "abc");
    json_decref(root);

    /* A failure after output began: inside a 200 reply. */
    l = "{\"errorDetail\":{\"code\":1,\"message\":\"The command '/bin/sh -c false' returned a "
        "non-zero code: 1\"},\"error\":\"The command '/bin/sh -c false' returned a non-zero "
        "code: 1\"}";
    assert_int_equal(docker_build_line_parse(l, strlen(l), &root, &p), DOCKER_EBUILD);
    assert_string_equal(p.error, "The command '/bin/sh -c false' returned a non-zero code: 1");
    json_decref(root);

    /* error without errorDetail. */
    l = "{\"error\":\"COPY failed: no source files\"}";
    assert_int_equal(docker_build_line_parse(l, strlen(l), &root, &p), DOCKER_EBUILD);
    assert_string_equal(p.error, "COPY failed: no source files");
    json_decref(root);

    /* Blank lines are nothing; invalid JSON and non-objects are errors. */
    assert_int_equal(docker_build_line_parse(" \r", 2, &root, &p), 0);
    assert_null(root);
    l = "{\"stream\":\"cut";
    assert_int_equal(docker_build_line_parse(l, strlen(l), &root, &p), DOCKER_EPROTO);
    assert_null(root);
    l = "[1,2]";
    assert_int_equal(docker_build_line_parse(l, strlen(l), &root, &p), DOCKER_EPROTO);
    json_decref(root);
}

static const char *container_json =
    "{\"Id\":\"f00dfeed\",\"Name\":\"/hdctest_alpha\","
    "\"State\":{\"Status\":\"exited\",\"Running\":false,\"ExitCode\":3,\"Pid\":0},"
    "\"Config\":{\"Hostname\":\"alpha\",\"Image\":\"hdc/peer:t\",\"Tty\":false,"
    "\"Labels\":{\"hdc.test\":\"1\"}},"
    "\"NetworkSettings\":{\"Ports\":{\"7000/tcp\":[{\"HostIp\":\"127.0.0.1\","
    "\"HostPort\":\"49153\"}],\"8000/tcp\":null,\"53/udp\":[{\"HostIp\":\"127.0.0.1\","
    "\"HostPort\":\"40000\"}]},"
    "\"Networks\":{\"hdc_t\":{\"IPAddress\":\"172.29.5.10\",\"Gateway\":\"172.29.5.1\"}}}}";

static void test_container_inspect_parsing(void **state) {
    json_t *root = json_loads(container_json, 0, NULL);
    docker_container_info info;

    assert_non_null(root);
    assert_int_equal(docker_container_info_parse(root, &info), 0);
    assert_string_equal(info.id, "f00dfeed");
    assert_string_equal(info.name, "hdctest_alpha");
    assert_string_equal(info.hostname, "alpha");
    assert_string_equal(info.image, "hdc/peer:t");
    assert_string_equal(info.status, "exited");
    assert_false(info.running);
    assert_int_equal(info.exit_code, 3);
    assert_string_equal(info.ip_address, "172.29.5.10");
    assert_int_equal(info.n_networks, 1);
    assert_string_equal(info.networks[0].network, "hdc_t");
    assert_string_equal(info.networks[0].gateway, "172.29.5.1");
    assert_int_equal(docker_container_host_port(&info, 7000, NULL), 49153);
    assert_int_equal(docker_container_host_port(&info, 8000, "tcp"), 0);
    assert_int_equal(docker_container_host_port(&info, 53, "udp"), 40000);
    assert_int_equal(docker_container_host_port(&info, 53, "tcp"), 0);
    assert_string_equal(json_string_value(json_object_get(info.labels, "hdc.test")), "1");
    docker_container_info_clear(&info);
    json_decref(root);

    /* Not an inspect reply. */
    root = json_loads("{\"message\":\"x\"}", 0, NULL);
    assert_int_equal(docker_container_info_parse(root, &info), DOCKER_EPROTO);
    json_decref(root);
    root = json_loads("[]", 0, NULL);
    assert_int_equal(docker_container_info_parse(root, &info), DOCKER_EPROTO);
    json_decref(root);
}

static void test_network_and_image_inspect_parsing(void **state) {
    json_t *root = json_loads("{\"Name\":\"hdc_t\",\"Id\":\"n1\",\"Driver\":\"bridge\","
                              "\"IPAM\":{\"Driver\":\"default\",\"Config\":[{\"Subnet\":"
                              "\"172.29.5.0/24\",\"Gateway\":\"172.29.5.1\"}]},"
                              "\"Labels\":{\"a\":\"b\"}}",
                              0, NULL);
    docker_network_info n;
    docker_image_info im;

    assert_int_equal(docker_network_info_parse(root, &n), 0);
    assert_string_equal(n.id, "n1");
    assert_string_equal(n.name, "hdc_t");
    assert_string_equal(n.subnet, "172.29.5.0/24");
    assert_string_equal(n.gateway, "172.29.5.1");
    json_decref(root);

    root =
        json_loads("{\"Id\":\"sha256:ab\",\"Size\":812345,\"Config\":{\"Labels\":null}}", 0, NULL);
    assert_int_equal(docker_image_info_parse(root, &im), 0);
    assert_string_equal(im.id, "sha256:ab");
    assert_int_equal(im.size, 812345);
    assert_null(im.labels);
    json_decref(root);
    assert_int_equal(docker_image_info_parse(NULL, &im), DOCKER_EPROTO);
}

static void test_error_replies_carry_dockers_message(void **state) {
    char *msg;
    const char *b;

    b = "{\"message\":\"No such container: nope\"}\n";
    assert_int_equal(docker_api_error("container inspect", 404, b, strlen(b), &msg),
                     DOCKER_ENOTFOUND);
    assert_string_equal(msg, "No such container: nope");
    free(msg);

    b = "{\"message\":\"Conflict. The container name \\\"/x\\\" is already in use\"}";
    assert_int_equal(docker_api_error("container create", 409, b, strlen(b), &msg),
                     DOCKER_ECONFLICT);
    assert_non_null(strstr(msg, "already in use"));
    free(msg);

    b = "{\"message\":\"Pool overlaps with other one on this address space\"}";
    assert_int_equal(docker_api_error("network create", 403, b, strlen(b), &msg), DOCKER_EOVERLAP);
    assert_string_equal(msg, "Pool overlaps with other one on this address space");
    free(msg);

    b = "<html>bad gateway</html>\n";
    assert_int_equal(docker_api_error("version", 502, b, strlen(b), &msg), DOCKER_EAPI);
    assert_string_equal(msg, "version: HTTP 502 from the Docker engine: <html>bad gateway</html>");
    free(msg);

    assert_int_equal(docker_api_error("container start", 500, NULL, 0, &msg), DOCKER_EAPI);
    assert_string_equal(msg, "container start: HTTP 500 from the Docker engine");
    free(msg);
}

/* Files listed in a tar, as "name:size;" in archive order. */
static void list_tar(const char *path, char *out, size_t len) {
    struct archive *a = archive_read_new();
    struct archive_entry *e;

    out[0] = '\0';
    archive_read_support_format_tar(a);
    assert_int_equal(archive_read_open_filename(a, path, 10240), ARCHIVE_OK);
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        size_t n = strlen(out);
        snprintf(out + n, len - n, "%s:%lld;", archive_entry_pathname(e),
                 (long long)archive_entry_size(e));
    }
    archive_read_free(a);
}

static void test_build_context_is_archived_with_relative_paths(void **state) {
    char dir[] = "/tmp/hdc-test-context-XXXXXX";
    char p[512], tar[512], listing[4096], err[256];
    FILE *f;

    assert_non_null(mkdtemp(dir));
    snprintf(p, sizeof(p), "%s/Dockerfile", dir);
    f = fopen(p, "w");
    fputs("FROM scratch\nCOPY peer /peer\n", f);
    fclose(f);
    snprintf(p, sizeof(p), "%s/sub", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/sub/a.txt", dir);
    f = fopen(p, "w");
    fputs("12345", f);
    fclose(f);
    snprintf(tar, sizeof(tar), "%s.tar", dir);

    assert_int_equal(docker_context_archive(dir, tar, err, sizeof(err)), 0);
    list_tar(tar, listing, sizeof(listing));
    assert_non_null(strstr(listing, "Dockerfile:29;"));
    assert_non_null(strstr(listing, "sub/a.txt:5;"));
    assert_null(strstr(listing, dir + 1)); /* no absolute or host paths */

    /* A missing directory is an error with a reason. */
    snprintf(p, sizeof(p), "%s/missing", dir);
    assert_int_equal(docker_context_archive(p, tar, err, sizeof(err)), DOCKER_ECONTEXT);
    assert_true(strlen(err) > 0);

    unlink(tar);
    snprintf(p, sizeof(p), "rm -rf '%s'", dir);
    assert_int_equal(system(p), 0);
}

/* ---- no engine ---- */

typedef struct noengine {
    int calls;
    int status;
    char msg[512];
    docker *d;
} noengine;

static void on_version(void *data, int status, const char *msg, const docker_version *v) {
    noengine *n = data;
    n->calls++;
    n->status = status;
    snprintf(n->msg, sizeof(n->msg), "%s", msg ? msg : "");
    assert_null(v);
}

static void test_no_engine_says_what_to_do(void **state) {
    uv_loop_t loop;
    noengine n = {0};
    char addr[128];

    snprintf(addr, sizeof(addr), "unix:///tmp/hdc-no-docker-%d.sock", (int)getpid());
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(docker_new(&loop, addr, &n.d), 0);
    assert_int_equal(docker_version_get(n.d, on_version, &n), 0);
    assert_int_equal(n.calls, 0); /* never from inside the call */
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(n.calls, 1);
    assert_int_equal(n.status, DOCKER_ENOENGINE);
    {
        char want[256];
        snprintf(want, sizeof(want),
                 "no Docker engine at %s: run scripts/setup.sh or set DOCKER_HOST", addr);
        assert_string_equal(n.msg, want);
    }
    docker_close(n.d, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_docker_host_is_honoured(void **state) {
    uv_loop_t loop;
    docker *d;

    assert_int_equal(uv_loop_init(&loop), 0);
    setenv("DOCKER_HOST", "tcp://127.0.0.1:1", 1);
    assert_int_equal(docker_new(&loop, NULL, &d), 0);
    assert_string_equal(docker_address(d), "tcp://127.0.0.1:1");
    docker_close(d, NULL, NULL);
    setenv("DOCKER_HOST", "", 1);
    assert_int_equal(docker_new(&loop, NULL, &d), 0);
    assert_string_equal(docker_address(d), DOCKER_DEFAULT_HOST);
    docker_close(d, NULL, NULL);
    unsetenv("DOCKER_HOST");
    assert_int_equal(docker_new(&loop, "ssh://host", &d), UV_EINVAL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}


/* ---- the I/O half, against a fake engine on a unix socket ----
 *
 * The fake reads one request per connection (head and Content-Length
 * body), answers with the canned bytes of the first route whose target
 * prefix matches, and closes the connection unless the route says to
 * hang (a stream that never ends, to be canceled). */

typedef struct route {
    const char *method, *prefix;
    const char *reply; /* sent as is; NULL: built by the test */
    size_t reply_len;  /* 0: strlen(reply) */
    int hang;
} route;

typedef struct fake_conn fake_conn;

typedef struct fake {
    uv_pipe_t server;
    char path[108];
    const route *routes;
    size_t n_routes;
    int exec_inspects; /* GET /exec/e1/json seen */
    char *build_body;  /* the tar of the last POST /build */
    size_t build_body_len;
    char targets[4096]; /* every request line's target, ' '-joined */
    fake_conn *conns[16];
    size_t n_conns;
} fake;

struct fake_conn {
    uv_pipe_t pipe;
    fake *f;
    char *buf;
    size_t len;
    int answered;
    int closed;
};

static void fake_conn_closed(uv_handle_t *h) {
    fake_conn *c = h->data;
    free(c->buf);
    free(c);
}

static void fake_conn_close(fake_conn *c) {
    if (c->closed)
        return;
    c->closed = 1;
    for (size_t i = 0; i < c->f->n_conns; i++)
        if (c->f->conns[i] == c)
            c->f->conns[i] = c->f->conns[--c->f->n_conns];
    uv_close((uv_handle_t *)&c->pipe, fake_conn_closed);
}

static void fake_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf) {
    static char slab[65536];
    *buf = uv_buf_init(slab, sizeof(slab));
}

typedef struct fake_write {
    uv_write_t w;
    fake_conn *c;
    int close_after;
    char data[];
} fake_write;

static void fake_written(uv_write_t *w, int status) {
    fake_write *fw = (fake_write *)w;
    if (fw->close_after)
        fake_conn_close(fw->c);
    free(fw);
}

static void fake_send(fake_conn *c, const char *p, size_t n, int close_after) {
    fake_write *fw = malloc(sizeof(*fw) + n);
    uv_buf_t b;

    memcpy(fw->data, p, n);
    fw->c = c;
    fw->close_after = close_after;
    b = uv_buf_init(fw->data, (unsigned)n);
    if (uv_write(&fw->w, (uv_stream_t *)&c->pipe, &b, 1, fake_written) != 0) {
        free(fw);
        fake_conn_close(c);
    }
}

/* A whole request is in c->buf: answer it. */
static void fake_answer(fake_conn *c, const char *method, const char *target, const char *body,
                        size_t body_len) {
    fake *f = c->f;
    size_t n = strlen(f->targets);

    snprintf(f->targets + n, sizeof(f->targets) - n, "%s%s %s", n ? " " : "", method, target);
    if (strcmp(method, "POST") == 0 && strncmp(target, "/v1.41/build", 12) == 0) {
        free(f->build_body);
        f->build_body = malloc(body_len + 1);
        memcpy(f->build_body, body, body_len);
        f->build_body_len = body_len;
    }
    if (strncmp(target, "/v1.41/exec/e1/json", 19) == 0) {
        /* First still running, then exited with 7: the retry path. */
        const char *r = f->exec_inspects++ == 0
                            ? "HTTP/1.1 200 OK\r\nContent-Length: "
                              "35\r\n\r\n{\"Running\":true,\"ExitCode\":null}\n  "
                            : "HTTP/1.1 200 OK\r\nContent-Length: "
                              "31\r\n\r\n{\"Running\":false,\"ExitCode\":7}\n";
        fake_send(c, r, strlen(r), 1);
        return;
    }
    for (size_t i = 0; i < f->n_routes; i++) {
        const route *r = &f->routes[i];
        if (strcmp(r->method, method) == 0 && strncmp(target, r->prefix, strlen(r->prefix)) == 0) {
            fake_send(c, r->reply, r->reply_len ? r->reply_len : strlen(r->reply), !r->hang);
            return;
        }
    }
    {
        const char *r = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 31\r\n\r\n"
                        "{\"message\":\"fake: no route\"}\n  ";
        fake_send(c, r, strlen(r), 1);
    }
}

static void fake_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    fake_conn *c = s->data;
    char *end, method[16], target[1024];
    size_t head_len, body_len = 0;
    const char *cl;

    if (nread < 0) {
        fake_conn_close(c);
        return;
    }
    if (c->answered || nread == 0)
        return; /* after an answer: stdin of an exec, ignored */
    c->buf = realloc(c->buf, c->len + (size_t)nread + 1);
    memcpy(c->buf + c->len, buf->base, (size_t)nread);
    c->len += (size_t)nread;
    c->buf[c->len] = '\0';
    end = strstr(c->buf, "\r\n\r\n");
    if (!end)
        return;
    head_len = (size_t)(end - c->buf) + 4;
    cl = strcasestr(c->buf, "\r\nContent-Length:");
    if (cl && cl < end)
        body_len = strtoul(cl + 17, NULL, 10);
    if (c->len < head_len + body_len)
        return;
    if (sscanf(c->buf, "%15s %1023s", method, target) != 2) {
        fake_conn_close(c);
        return;
    }
    c->answered = 1;
    fake_answer(c, method, target, c->buf + head_len, body_len);
}

static void fake_connection(uv_stream_t *server, int status) {
    fake *f = server->data;
    fake_conn *c = calloc(1, sizeof(*c));

    c->f = f;
    uv_pipe_init(server->loop, &c->pipe, 0);
    c->pipe.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->pipe) != 0) {
        c->closed = 1;
        uv_close((uv_handle_t *)&c->pipe, fake_conn_closed);
        return;
    }
    if (f->n_conns < 16)
        f->conns[f->n_conns++] = c;
    uv_read_start((uv_stream_t *)&c->pipe, fake_alloc, fake_read);
}

static void fake_start(uv_loop_t *loop, fake *f, const route *routes, size_t n) {
    memset(f, 0, sizeof(*f));
    f->routes = routes;
    f->n_routes = n;
    snprintf(f->path, sizeof(f->path), "/tmp/hdc-fake-docker-%d.sock", (int)getpid());
    unlink(f->path);
    assert_int_equal(uv_pipe_init(loop, &f->server, 0), 0);
    f->server.data = f;
    assert_int_equal(uv_pipe_bind(&f->server, f->path), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&f->server, 16, fake_connection), 0);
}

static void fake_stop(fake *f) {
    while (f->n_conns > 0)
        fake_conn_close(f->conns[0]);
    uv_close((uv_handle_t *)&f->server, NULL);
    unlink(f->path);
    free(f->build_body);
}

/* Outcome of one call, recorded by the callbacks below. */
typedef struct got {
    int calls;
    int status;
    int code;
    int inside_call;   /* set while the starting call runs */
    int called_inside; /* a callback ran from inside the starting call */
    char msg[512];
    char id[128];
    char out[512], err[512];
    int events;
    int progress;
    int closed;
} got;

static void got_end(got *g, int status, const char *msg) {
    g->calls++;
    g->status = status;
    if (g->inside_call)
        g->called_inside = 1;
    snprintf(g->msg, sizeof(g->msg), "%s", msg ? msg : "");
}

static void got_plain(void *data, int status, const char *msg) {
    got_end(data, status, msg);
}

static void got_id(void *data, int status, const char *msg, const char *id) {
    got *g = data;
    snprintf(g->id, sizeof(g->id), "%s", id ? id : "(null)");
    got_end(g, status, msg);
}

static void got_code(void *data, int status, const char *msg, int code) {
    got *g = data;
    g->code = code;
    got_end(g, status, msg);
}

static void got_output(void *data, int stream, const char *buf, size_t len) {
    got *g = data;
    char *dst = stream == 2 ? g->err : g->out;
    size_t n = strlen(dst);
    snprintf(dst + n, 512 - n, "%.*s", (int)len, buf);
}

static void got_event(void *data, const json_t *ev) {
    got *g = data;
    const char *a = json_string_value(json_object_get(ev, "Action"));
    size_t n = strlen(g->out);
    g->events++;
    snprintf(g->out + n, sizeof(g->out) - n, "[%s]", a ? a : "?");
}

static void got_progress(void *data, const docker_build_progress *p) {
    got *g = data;
    size_t n = strlen(g->out);
    g->progress++;
    if (p->stream)
        snprintf(g->out + n, sizeof(g->out) - n, "%s", p->stream);
}

static void got_closed(void *data) {
    got *g = data;
    g->closed++;
}

#define OK200       "HTTP/1.1 200 OK\r\n"
#define FRAME(t, n) "\x0" #t "\0\0\0\0\0\0" n

static const route fake_routes[] = {
    {"GET", "/v1.41/containers/nope/logs",
     "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 39\r\n\r\n"
     "{\"message\":\"No such container: nope\"}\n ",
     0, 0},
    /* stdout "a\n", then a daemon-side error frame, close-delimited. */
    {"GET", "/v1.41/containers/sys/logs",
     OK200 "Connection: close\r\n\r\n\x01\0\0\0\0\0\0\x02"
           "a\n\x03\0\0\0\0\0\0\x04"
           "boom",
     8 * 2 + 2 + 4 + sizeof(OK200 "Connection: close\r\n\r\n") - 1, 0},
    /* A frame announcing 100 bytes, carrying 5. */
    {"GET", "/v1.41/containers/trunc/logs",
     OK200 "Connection: close\r\n\r\n\x02\0\0\0\0\0\0\x64short",
     8 + 5 + sizeof(OK200 "Connection: close\r\n\r\n") - 1, 0},
    /* A TTY's raw stream. */
    {"GET", "/v1.41/containers/tty/logs", OK200 "Content-Length: 12\r\n\r\n\x01\x02raw bytes\n", 0,
     0},
    {"GET", "/v1.41/containers/hang/logs", OK200 "Transfer-Encoding: chunked\r\n\r\n", 0, 1},
    /* Two events, cut across chunks, then a line that is not JSON. */
    {"GET", "/v1.41/events?filters=",
     OK200 "Transfer-Encoding: chunked\r\n\r\n"
           "14\r\n{\"Action\":\"start\"}\n{\r\n"
           "10\r\n\"Action\":\"die\"}\n\r\n"
           "9\r\nnot json\n\r\n0\r\n\r\n",
     0, 0},
    {"GET", "/v1.41/events", OK200 "Transfer-Encoding: chunked\r\n\r\n", 0, 1},
    {"POST", "/v1.41/networks/create",
     "HTTP/1.1 403 Forbidden\r\nContent-Length: 64\r\n\r\n"
     "{\"message\":\"Pool overlaps with other one on this address space\"}",
     0, 0},
    {"POST", "/v1.41/containers/c1/wait?condition=not-running",
     OK200 "Content-Length: 33\r\n\r\n{\"Error\":null,\"StatusCode\":5}\n   ", 0, 0},
    {"POST", "/v1.41/containers/c1/exec",
     "HTTP/1.1 201 Created\r\nContent-Length: 12\r\n\r\n{\"Id\":\"e1\"}\n", 0, 0},
    {"POST", "/v1.41/exec/e1/start",
     "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
     "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
     "\x01\0\0\0\0\0\0\x04out\n\x02\0\0\0\0\0\0\x04"
     "err\n",
     sizeof("HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
            "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n") -
         1 + 24,
     0},
    {"POST", "/v1.41/build?rm=1&forcerm=1&t=bad",
     OK200
     "Transfer-Encoding: chunked\r\n\r\n"
     "1e\r\n{\"stream\":\"Step 1/2 : FROM\"}\r\n\r\n"
     "47\r\n{\"errorDetail\":{\"message\":\"boom in step 2\"},\"error\":\"boom in step 2\"}\r\n\r\n"
     "0\r\n\r\n",
     0, 0},
    {"POST", "/v1.41/build",
     OK200 "Transfer-Encoding: chunked\r\n\r\n"
           "2e\r\n{\"stream\":\"Step 1/1 : FROM scratch\\n\"}\r\n{\"aux\"\r\n"
           "1c\r\n:{\"ID\":\"sha256:feedface\"}}\r\n\r\n"
           "0\r\n\r\n",
     0, 0},
};

static void run_loop_until(uv_loop_t *loop, const int *flag) {
    for (int i = 0; i < 100000 && !*flag; i++)
        uv_run(loop, UV_RUN_ONCE);
    assert_true(*flag);
}

static void test_streams_and_errors_against_a_fake_engine(void **state) {
    uv_loop_t loop;
    fake f;
    docker *d;
    char addr[160];
    got g;
    docker_stream *s;
    docker_logs_opts tty = {.tty = 1};

    assert_int_equal(uv_loop_init(&loop), 0);
    fake_start(&loop, &f, fake_routes, sizeof(fake_routes) / sizeof(fake_routes[0]));
    snprintf(addr, sizeof(addr), "unix://%s", f.path);
    assert_int_equal(docker_new(&loop, addr, &d), 0);

    /* An error reply to a streaming call: Docker's message. */
    memset(&g, 0, sizeof(g));
    g.inside_call = 1;
    assert_int_equal(docker_logs(d, "nope", NULL, got_output, got_plain, &g, NULL), 0);
    g.inside_call = 0;
    run_loop_until(&loop, &g.calls);
    assert_false(g.called_inside);
    assert_int_equal(g.status, DOCKER_ENOTFOUND);
    assert_string_equal(g.msg, "No such container: nope");

    /* Output before a daemon-side error frame is delivered; the error ends it. */
    memset(&g, 0, sizeof(g));
    assert_int_equal(docker_logs(d, "sys", NULL, got_output, got_plain, &g, NULL), 0);
    run_loop_until(&loop, &g.calls);
    assert_string_equal(g.out, "a\n");
    assert_int_equal(g.status, DOCKER_ESTREAM);
    assert_non_null(strstr(g.msg, "boom"));

    /* A stream ending inside a frame. */
    memset(&g, 0, sizeof(g));
    assert_int_equal(docker_logs(d, "trunc", NULL, got_output, got_plain, &g, NULL), 0);
    run_loop_until(&loop, &g.calls);
    assert_string_equal(g.err, "short");
    assert_int_equal(g.status, DOCKER_ESTREAM);
    assert_non_null(strstr(g.msg, "ended inside a frame"));

    /* TTY: raw bytes, even ones that would be a bad frame header. */
    memset(&g, 0, sizeof(g));
    assert_int_equal(docker_logs(d, "tty", &tty, got_output, got_plain, &g, NULL), 0);
    run_loop_until(&loop, &g.calls);
    assert_int_equal(g.status, 0);
    assert_string_equal(g.out, "\x01\x02raw bytes\n");

    /* A stream that never ends, canceled: exactly one callback, UV_ECANCELED. */
    memset(&g, 0, sizeof(g));
    assert_int_equal(docker_logs(d, "hang", NULL, got_output, got_plain, &g, &s), 0);
    for (int i = 0; i < 20; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(g.calls, 0);
    assert_int_equal(docker_stream_cancel(s), 0);
    run_loop_until(&loop, &g.calls);
    assert_int_equal(g.status, UV_ECANCELED);

    /* Events: objects across chunk boundaries; a line that is not JSON
     * ends the stream with DOCKER_EPROTO. */
    {
        const char *types[] = {"container"};
        docker_events_opts eo = {.types = types, .n_types = 1};
        memset(&g, 0, sizeof(g));
        assert_int_equal(docker_events(d, &eo, got_event, got_plain, &g, NULL), 0);
        run_loop_until(&loop, &g.calls);
        assert_string_equal(g.out, "[start][die]");
        assert_int_equal(g.status, DOCKER_EPROTO);
        assert_non_null(strstr(g.msg, "not JSON"));
    }

    /* Network create: an overlap is told apart. */
    {
        docker_network_opts no = {.name = "n", .subnet = "10.9.0.0/24"};
        memset(&g, 0, sizeof(g));
        assert_int_equal(docker_network_create(d, &no, got_id, &g), 0);
        run_loop_until(&loop, &g.calls);
        assert_int_equal(g.status, DOCKER_EOVERLAP);
        assert_string_equal(g.msg, "Pool overlaps with other one on this address space");
    }

    /* Wait gives the exit code. */
    memset(&g, 0, sizeof(g));
    assert_int_equal(docker_container_wait(d, "c1", got_code, &g), 0);
    run_loop_until(&loop, &g.calls);
    assert_int_equal(g.status, 0);
    assert_int_equal(g.code, 5);

    /* Exec: create, hijacked start with frames in the same read as the
     * 101 head, then inspect (running once, then 7). */
    {
        const char *cmd[] = {"true"};
        docker_exec_opts eo = {.cmd = cmd, .n_cmd = 1};
        memset(&g, 0, sizeof(g));
        g.code = -100;
        assert_int_equal(docker_exec(d, "c1", &eo, got_output, got_code, &g, NULL), 0);
        run_loop_until(&loop, &g.calls);
        assert_int_equal(g.status, 0);
        assert_string_equal(g.out, "out\n");
        assert_string_equal(g.err, "err\n");
        assert_int_equal(g.code, 7);
        assert_int_equal(f.exec_inspects, 2);
    }

    /* Build: progress lines cut across chunks, the context sent as a tar. */
    {
        char dir[] = "/tmp/hdc-test-fake-build-XXXXXX", p[256], cmd[300];
        docker_build_opts bo = {.context_dir = dir};
        struct archive *a;
        struct archive_entry *e;
        int found = 0;
        FILE *fp;

        assert_non_null(mkdtemp(dir));
        snprintf(p, sizeof(p), "%s/Dockerfile", dir);
        fp = fopen(p, "w");
        fputs("FROM scratch\n", fp);
        fclose(fp);
        memset(&g, 0, sizeof(g));
        assert_int_equal(docker_build(d, &bo, got_progress, got_id, &g, NULL), 0);
        run_loop_until(&loop, &g.calls);
        assert_int_equal(g.status, 0);
        assert_string_equal(g.id, "sha256:feedface");
        assert_string_equal(g.out, "Step 1/1 : FROM scratch\n");
        assert_int_equal(g.progress, 2);
        a = archive_read_new();
        archive_read_support_format_tar(a);
        assert_int_equal(archive_read_open_memory(a, f.build_body, f.build_body_len), ARCHIVE_OK);
        while (archive_read_next_header(a, &e) == ARCHIVE_OK)
            found |= strcmp(archive_entry_pathname(e), "Dockerfile") == 0;
        archive_read_free(a);
        assert_true(found);

        /* errorDetail inside the 200 reply: the call's error, Docker's message. */
        bo.tag = "bad";
        memset(&g, 0, sizeof(g));
        assert_int_equal(docker_build(d, &bo, got_progress, got_id, &g, NULL), 0);
        run_loop_until(&loop, &g.calls);
        assert_int_equal(g.status, DOCKER_EBUILD);
        assert_string_equal(g.msg, "boom in step 2");
        assert_int_equal(g.progress, 2);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
    }

    /* Closing with streams in flight: each ends with UV_ECANCELED, then
     * the close callback. */
    {
        got g1, g2;
        memset(&g1, 0, sizeof(g1));
        memset(&g2, 0, sizeof(g2));
        assert_int_equal(docker_logs(d, "hang", NULL, got_output, got_plain, &g1, NULL), 0);
        assert_int_equal(docker_events(d, NULL, got_event, got_plain, &g2, NULL), 0);
        for (int i = 0; i < 20; i++)
            uv_run(&loop, UV_RUN_NOWAIT);
        docker_close(d, got_closed, &g1);
        run_loop_until(&loop, &g1.closed);
        assert_int_equal(g1.calls, 1);
        assert_int_equal(g1.status, UV_ECANCELED);
        assert_int_equal(g2.calls, 1);
        assert_int_equal(g2.status, UV_ECANCELED);
    }

    assert_non_null(strstr(f.targets, "GET /v1.41/containers/tty/logs?stdout=1&stderr=1"));
    fake_stop(&f);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_container_create_body_has_static_address_hosts_and_ports),
        cmocka_unit_test(test_container_create_body_refuses_bad_options),
        cmocka_unit_test(test_entrypoint_and_exec_bodies),
        cmocka_unit_test(test_network_create_body_has_explicit_ipam),
        cmocka_unit_test(test_filters_are_json_then_url_escaped),
        cmocka_unit_test(test_logs_and_build_targets),
        cmocka_unit_test(test_build_progress_lines),
        cmocka_unit_test(test_container_inspect_parsing),
        cmocka_unit_test(test_network_and_image_inspect_parsing),
        cmocka_unit_test(test_error_replies_carry_dockers_message),
        cmocka_unit_test(test_build_context_is_archived_with_relative_paths),
        cmocka_unit_test(test_no_engine_says_what_to_do),
        cmocka_unit_test(test_docker_host_is_honoured),
        cmocka_unit_test(test_streams_and_errors_against_a_fake_engine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
