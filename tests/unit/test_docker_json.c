/* engine/docker_json.c, the pure half of the Docker client: request
 * bodies (container create with a static address, ports, hosts, binds;
 * network create with IPAM; exec create), targets with their escaped
 * filters, and reply parsing (container, network and image inspect; build
 * progress lines with errorDetail; error replies; invalid JSON). */
#define _GNU_SOURCE /* strcasestr */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <uv.h>

#include "docker_json.h"

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

    {
        const char *net_type[] = {"network"}, *nets[] = {"hdc_c1"};
        docker_events_opts no = {.types = net_type,
                                 .n_types = 1,
                                 .networks = nets,
                                 .n_networks = 1,
                                 .since = 5,
                                 .until = 65};
        s = docker_events_target(&no);
        assert_string_equal(s, "/v1.41/events?since=5&until=65&filters="
                               "%7B%22type%22%3A%5B%22network%22%5D%2C%22network%22%3A%5B%22"
                               "hdc_c1%22%5D%7D");
        free(s);
    }

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
    /* A resume cursor: to the nanosecond, nine digits. */
    lo.since = 1714566896;
    lo.since_ns = 1234;
    s = docker_logs_target("abc", &lo);
    assert_string_equal(s, "/v1.41/containers/abc/logs?stdout=1&stderr=1&follow=0"
                           "&timestamps=0&since=1714566896.000001234&tail=all");
    free(s);

    s = docker_build_target(&bo);
    assert_string_equal(s, "/v1.41/build?rm=1&forcerm=1&t=hdc%2Fpeer%3Atest"
                           "&buildargs=%7B%22V%22%3A%222.6.0%22%7D"
                           "&labels=%7B%22hdc.test%22%3A%22x%20y%22%7D");
    free(s);

    /* More tags: each its own t=, after the first. */
    {
        const char *const more[] = {"hdc/peer:latest", "hdc/peer:stand-in", NULL};
        docker_build_opts mo = {.context_dir = "/x", .tag = "hdc/peer:id-0123", .more_tags = more};
        s = docker_build_target(&mo);
        assert_string_equal(s, "/v1.41/build?rm=1&forcerm=1&t=hdc%2Fpeer%3Aid-0123"
                               "&t=hdc%2Fpeer%3Alatest&t=hdc%2Fpeer%3Astand-in");
        free(s);
    }
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
