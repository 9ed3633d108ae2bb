/* The plugin host: loading and refusing the small plugins built from
 * tests/unit/plugins/ (into HDC_TEST_PLUGIN_DIR), the search path, finding
 * and listing, the validation of in-memory descriptors, and the
 * evaluation of probe predicates. */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "plugin_host.h"

#ifndef HDC_TEST_PLUGIN_DIR
#error "HDC_TEST_PLUGIN_DIR must name the directory of the test plugins"
#endif

#define PLUGIN_DIR HDC_TEST_PLUGIN_DIR

static void assert_contains(const char *haystack, const char *needle) {
    if (strstr(haystack, needle) == NULL)
        fail_msg("\"%s\"\n  does not contain \"%s\"", haystack, needle);
}

static void loads_a_good_plugin(void **state) {
    char err[1024] = "";
    plugin *p = NULL;
    const hdc_service *dn;

    assert_int_equal(plugin_load(PLUGIN_DIR "/good.so", &p, err, sizeof(err)), 0);
    assert_non_null(p);
    assert_string_equal(p->path, PLUGIN_DIR "/good.so");
    assert_int_equal(p->desc->abi_version, HDC_PLUGIN_ABI_VERSION);
    assert_string_equal(p->desc->name, "good");
    dn = plugin_service(p->desc, "datanode");
    assert_non_null(dn);
    assert_int_equal(plugin_instances(dn, 3), 3);
    assert_int_equal(plugin_instances(dn, 0), 1);
    assert_int_equal(plugin_instances(plugin_service(p->desc, "namenode"), 3), 1);
    assert_int_equal(plugin_port(dn, "http-ui")->port, 50075);
    assert_null(plugin_port(dn, "rpc"));
    assert_non_null(plugin_probe(p->desc, "rm-metrics"));
    assert_null(plugin_service(p->desc, "zookeeper"));
    /* -fvisibility=hidden: hdc_plugin is the only symbol exported. */
    assert_non_null(dlsym(p->dl, HDC_PLUGIN_SYMBOL));
    assert_null(dlsym(p->dl, "good_helper"));
    plugin_unload(p);
}

/* Loads PLUGIN_DIR/<file> and expects refusal rc with the message
 * "PLUGIN_DIR/<file>: <reason>". */
static void expect_refusal(const char *file, int rc, const char *reason) {
    char path[1024], err[1024] = "", want[2048];
    plugin *p = (plugin *)1;

    snprintf(path, sizeof(path), "%s/%s", PLUGIN_DIR, file);
    snprintf(want, sizeof(want), "%s: %s", path, reason);
    assert_int_equal(plugin_load(path, &p, err, sizeof(err)), rc);
    assert_null(p);
    assert_string_equal(err, want);
}

static void refuses_a_file_without_the_symbol(void **state) {
    expect_refusal("no_symbol.so", PLUGIN_ESYMBOL,
                   "no symbol 'hdc_plugin': not an hdc plugin, or hdc_plugin is not marked "
                   "HDC_PLUGIN_EXPORT");
}

static void refuses_a_wrong_abi_version(void **state) {
    expect_refusal("bad_abi.so", PLUGIN_EABI,
                   "wrong ABI version 7 (this hdc speaks 1): rebuild the plugin against "
                   "include/hdc/plugin.h");
}

static void refuses_a_descriptor_smaller_than_any_layout(void **state) {
    char reason[512];

    snprintf(reason, sizeof(reason),
             "its descriptor is 16 bytes, smaller than any layout's (%zu): declare hdc_plugin "
             "with HDC_PLUGIN_HEADER and rebuild the plugin against include/hdc/plugin.h",
             offsetof(hdc_plugin_desc, image_size));
    expect_refusal("bad_size.so", PLUGIN_EABI, reason);
}

/* tests/unit/plugins/old_layout.c is built with a copy of the first
 * layout's structs (abi_v1.h): smaller services, no sizes. */
static void loads_a_plugin_of_the_first_layout_with_defaults(void **state) {
    char err[1024] = "";
    plugin *p = NULL;
    const hdc_service *nn, *dn, *client;

    assert_int_equal(plugin_load(PLUGIN_DIR "/old_layout.so", &p, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    /* hdc sees its own layout. */
    assert_int_equal(p->desc->size, sizeof(hdc_plugin_desc));
    assert_int_equal(p->desc->service_size, sizeof(hdc_service));
    assert_string_equal(p->desc->name, "old_layout");
    assert_string_equal(p->desc->description, "built against the first layout");
    /* Indexed with the plugin's own element size: every field where it was. */
    nn = plugin_service(p->desc, "namenode");
    dn = plugin_service(p->desc, "datanode");
    client = plugin_service(p->desc, "client");
    assert_non_null(nn);
    assert_non_null(dn);
    assert_non_null(client);
    assert_ptr_equal(dn, &p->desc->services[1]);
    assert_null(p->desc->services[3].name);
    assert_int_equal(plugin_port(nn, "rpc")->port, 8020);
    assert_string_equal(nn->user, "hdfs");
    assert_string_equal(nn->ready_port, "http-ui");
    assert_string_equal(nn->env[0], "HDC_LOG_DIRS=/tmp/logs");
    assert_int_equal(dn->instances, HDC_COUNT_DATANODES);
    assert_int_equal(plugin_instances(dn, 3), 3);
    assert_int_equal(client->flags, HDC_SERVICE_CLIENT);
    /* What the first layout lacks reads as zero: hdc's defaults. */
    assert_int_equal(nn->heap_mb, 0);
    assert_int_equal(nn->memory_mb, 0);
    assert_int_equal(plugin_heap_mb(nn), HDC_DEFAULT_HEAP_MB);
    assert_int_equal(plugin_memory_mb(dn), HDC_DEFAULT_HEAP_MB + HDC_DEFAULT_OVERHEAD_MB);
    assert_non_null(plugin_probe(p->desc, "live"));
    assert_string_equal(p->desc->steps[2].after[0], "boot-dn");
    plugin_unload(p);
}

static void reads_the_memory_a_plugin_declares(void **state) {
    char err[1024] = "";
    plugin *p = NULL;
    const hdc_service *nn, *dn;

    assert_int_equal(plugin_load(PLUGIN_DIR "/good.so", &p, err, sizeof(err)), 0);
    nn = plugin_service(p->desc, "namenode");
    dn = plugin_service(p->desc, "datanode");
    assert_int_equal(plugin_heap_mb(nn), 512);
    assert_int_equal(plugin_memory_mb(nn), 768);
    assert_int_equal(plugin_heap_mb(dn), HDC_DEFAULT_HEAP_MB);
    assert_int_equal(plugin_memory_mb(dn), HDC_DEFAULT_HEAP_MB + HDC_DEFAULT_OVERHEAD_MB);
    plugin_unload(p);
}

static void refuses_a_descriptor_from_a_newer_header(void **state) {
    char reason[512];

    snprintf(reason, sizeof(reason),
             "built against a newer include/hdc/plugin.h than this hdc's (its descriptor is %zu "
             "bytes, this hdc knows %zu): upgrade hdc, or rebuild the plugin against this hdc's "
             "header",
             sizeof(hdc_plugin_desc) + 8, sizeof(hdc_plugin_desc));
    expect_refusal("newer_desc.so", PLUGIN_EABI, reason);
}

static void refuses_a_service_from_a_newer_header(void **state) {
    char reason[512];

    snprintf(reason, sizeof(reason),
             "built against a newer include/hdc/plugin.h than this hdc's (its hdc_service is %zu "
             "bytes, this hdc knows %zu): upgrade hdc, or rebuild the plugin against this hdc's "
             "header",
             sizeof(hdc_service) + sizeof(void *), sizeof(hdc_service));
    expect_refusal("newer_service.so", PLUGIN_EABI, reason);
}

static void refuses_a_step_on_an_unknown_service(void **state) {
    expect_refusal("unknown_service.so", PLUGIN_EINVALID,
                   "step 'format' refers to unknown service 'namenod'");
}

static void refuses_a_step_after_an_unknown_step(void **state) {
    expect_refusal("unknown_step.so", PLUGIN_EINVALID,
                   "step 'format' depends on unknown step 'boot-nn'");
}

static void refuses_a_step_cycle(void **state) {
    expect_refusal("cycle.so", PLUGIN_EINVALID,
                   "steps form a cycle: 'boot-nn' after 'dirs' after 'nn-up' after 'boot-nn'");
}

static void refuses_duplicate_service_names(void **state) {
    expect_refusal("dup_service.so", PLUGIN_EINVALID, "two services are named 'namenode'");
}

static void refuses_a_probe_on_an_undeclared_port_role(void **state) {
    expect_refusal("bad_port_role.so", PLUGIN_EINVALID,
                   "probe 'nn-live' uses port role 'http', which service 'namenode' does "
                   "not declare (it has: http-ui)");
}

static void refuses_a_missing_file(void **state) {
    char err[1024];
    plugin *p;

    assert_int_equal(plugin_load(PLUGIN_DIR "/absent.so", &p, err, sizeof(err)), PLUGIN_EOPEN);
    assert_null(p);
    assert_string_equal(err, PLUGIN_DIR "/absent.so: cannot load: cannot open shared object file: "
                                        "No such file or directory");
    /* A bare name is a file in the current directory, never a library search
     * (libc.so.6 would be found by dlopen("libc.so.6")). */
    assert_int_equal(plugin_load("libc.so.6", &p, err, sizeof(err)), PLUGIN_EOPEN);
    assert_contains(err, "libc.so.6: cannot load:");
}

static void search_path_is_cli_then_env_then_installed_and_build_dirs(void **state) {
    plugin_path pp;

    assert_int_equal(plugin_path_init(&pp, "/a::/b:", ":/c:/a::"), 0);
    assert_int_equal(pp.n, 5);
    assert_string_equal(pp.dirs[0], "/a");
    assert_string_equal(pp.dirs[1], "/b");
    assert_string_equal(pp.dirs[2], "/c");
    assert_string_equal(pp.dirs[3], HDC_PLUGIN_INSTALL_DIR);
    assert_string_equal(pp.dirs[4], HDC_PLUGIN_BUILD_DIR);
    plugin_path_free(&pp);

    /* Nothing given: never the current directory. */
    assert_int_equal(plugin_path_init(&pp, NULL, ""), 0);
    assert_int_equal(pp.n, 2);
    for (size_t i = 0; i < pp.n; i++)
        assert_true(pp.dirs[i][0] == '/');
    plugin_path_free(&pp);
}

static void finds_a_plugin_by_distribution_name(void **state) {
    plugin_path pp;
    char err[1024];
    plugin *p;

    assert_int_equal(plugin_path_init(&pp, "/nonexistent:" PLUGIN_DIR, NULL), 0);
    assert_int_equal(plugin_find(&pp, "good", &p, err, sizeof(err)), 0);
    assert_string_equal(p->path, PLUGIN_DIR "/good.so");
    assert_string_equal(p->desc->name, "good");
    plugin_unload(p);

    assert_int_equal(plugin_find(&pp, "cycle", &p, err, sizeof(err)), PLUGIN_EINVALID);
    assert_null(p);
    assert_contains(err, PLUGIN_DIR "/cycle.so: steps form a cycle");

    assert_int_equal(plugin_find(&pp, "misnamed", &p, err, sizeof(err)), PLUGIN_EINVALID);
    assert_null(p);
    assert_string_equal(err, PLUGIN_DIR "/misnamed.so: declares distribution 'other', but the file "
                                        "is named for 'misnamed'");

    assert_int_equal(plugin_find(&pp, "apache_9.9.9", &p, err, sizeof(err)), PLUGIN_ENOTFOUND);
    assert_contains(err, "no plugin 'apache_9.9.9' in /nonexistent, " PLUGIN_DIR ", ");
    assert_int_equal(plugin_find(&pp, "../good", &p, err, sizeof(err)), PLUGIN_ENOTFOUND);
    assert_contains(err, "'../good' is not a distribution name");
    plugin_path_free(&pp);
}

static const plugin_info *info_of(const plugin_info *list, size_t n, const char *file) {
    for (size_t i = 0; i < n; i++) {
        const char *base = strrchr(list[i].path, '/') + 1;
        if (strcmp(base, file) == 0)
            return &list[i];
    }
    fail_msg("%s not listed", file);
    return NULL;
}

static void lists_every_plugin_found_with_its_abi_and_error(void **state) {
    plugin_path pp = {0};
    plugin_info *list;
    const plugin_info *i;
    size_t n;

    assert_int_equal(plugin_path_add(&pp, PLUGIN_DIR), 0);
    assert_int_equal(plugin_list(&pp, &list, &n), 0);
    assert_int_equal(n, 13);
    /* Sorted by file name within a directory. */
    for (size_t k = 1; k < n; k++)
        assert_true(strcmp(list[k - 1].path, list[k].path) < 0);
    i = info_of(list, n, "good.so");
    assert_string_equal(i->name, "good");
    assert_int_equal(i->abi_version, 1);
    assert_null(i->error);
    i = info_of(list, n, "bad_abi.so");
    assert_null(i->name);
    assert_int_equal(i->abi_version, 7);
    assert_contains(i->error, "wrong ABI version 7");
    i = info_of(list, n, "no_symbol.so");
    assert_int_equal(i->abi_version, 0);
    assert_contains(i->error, "no symbol 'hdc_plugin'");
    i = info_of(list, n, "misnamed.so");
    assert_string_equal(i->name, "other");
    plugin_list_free(list, n);
    plugin_path_free(&pp);
}

static void an_earlier_directory_hides_a_later_plugin_of_that_name(void **state) {
    char tmp[] = "/tmp/hdc-test-plugin-XXXXXX";
    char link[256], err[1024];
    plugin_path pp = {0};
    plugin_info *list;
    size_t n;
    plugin *p;

    assert_non_null(mkdtemp(tmp));
    snprintf(link, sizeof(link), "%s/good.so", tmp);
    assert_int_equal(symlink(PLUGIN_DIR "/bad_abi.so", link), 0);
    assert_int_equal(plugin_path_add(&pp, tmp), 0);
    assert_int_equal(plugin_path_add(&pp, PLUGIN_DIR), 0);

    assert_int_equal(plugin_list(&pp, &list, &n), 0);
    assert_int_equal(n, 13);
    assert_string_equal(info_of(list, n, "good.so")->path, link);
    assert_int_equal(info_of(list, n, "good.so")->abi_version, 7);
    plugin_list_free(list, n);

    /* The first file found is the plugin: no falling back to a later one. */
    assert_int_equal(plugin_find(&pp, "good", &p, err, sizeof(err)), PLUGIN_EABI);
    assert_contains(err, link);

    plugin_path_free(&pp);
    unlink(link);
    rmdir(tmp);
}

/* ---- validation of in-memory descriptors ---- */

typedef struct fixture {
    hdc_image images[2];
    hdc_service services[5];
    hdc_port nn_ports[3];
    hdc_step steps[6];
    hdc_probe probes[2];
    hdc_check checks[3];
    hdc_plugin_desc desc;
} fixture;

/* Lists the fixture points to (at file scope: a compound literal in a
 * function would die with it). */
static const hdc_port dn_ports[] = {{"http-ui", 9864}, {0}};
static const char *const after_boot_nn[] = {"boot-nn", NULL};
static const char *const after_nn_up[] = {"nn-up", NULL};
static const char *const after_nn_up_boot_dn[] = {"nn-up", "boot-dn", NULL};
static const char *const bad_build_args[] = {"=x", NULL};
static const char *const bad_env[] = {"HADOOP_HOME", NULL};

static void fixture_init(fixture *f) {

    memset(f, 0, sizeof(*f));
    f->images[0] = (hdc_image){.name = "hadoop", .context = "apache"};
    f->nn_ports[0] = (hdc_port){"http-ui", 9870};
    f->nn_ports[1] = (hdc_port){"rpc", 8020};
    f->services[0] = (hdc_service){.name = "namenode",
                                   .image = "hadoop",
                                   .ports = f->nn_ports,
                                   .daemon = "exec hdfs namenode"};
    f->services[1] = (hdc_service){
        .name = "datanode", .image = "hadoop", .ports = dn_ports, .instances = HDC_COUNT_DATANODES};
    f->services[2] =
        (hdc_service){.name = "client", .image = "hdc/client:1", .flags = HDC_SERVICE_CLIENT};
    f->steps[0] =
        (hdc_step){.name = "boot-nn", .kind = HDC_STEP_BOOT, .service = "namenode", .timeout_s = 5};
    f->steps[1] =
        (hdc_step){.name = "boot-dn", .kind = HDC_STEP_BOOT, .service = "datanode", .timeout_s = 5};
    f->steps[2] = (hdc_step){.name = "nn-up",
                             .kind = HDC_STEP_WAIT,
                             .service = "namenode",
                             .timeout_s = 5,
                             .after = after_boot_nn};
    f->steps[3] = (hdc_step){.name = "dirs",
                             .kind = HDC_STEP_EXEC,
                             .service = "namenode",
                             .command = "hdfs dfs -mkdir /tmp",
                             .user = "hdfs",
                             .timeout_s = 5,
                             .after = after_nn_up};
    f->steps[4] = (hdc_step){.name = "live",
                             .kind = HDC_STEP_PROBE,
                             .probe = "nn-live",
                             .timeout_s = 5,
                             .after = after_nn_up_boot_dn};
    f->checks[0] = (hdc_check){"/beans/0/NumLiveDataNodes", HDC_OP_EQ, .count_of = "datanode"};
    f->checks[1] = (hdc_check){"beans.0.State", HDC_OP_EQ, .value = "\"active\""};
    f->probes[0] = (hdc_probe){.name = "nn-live",
                               .service = "namenode",
                               .port_role = "http-ui",
                               .path = "/jmx",
                               .checks = f->checks};
    f->desc =
        (hdc_plugin_desc){HDC_PLUGIN_HEADER,       .name = "apache_3.3.6", .images = f->images,
                          .services = f->services, .steps = f->steps,      .probes = f->probes};
}

typedef struct bad_case {
    const char *what;
    void (*mutate)(fixture *f);
    const char *reason;
} bad_case;

static void m_dist_name(fixture *f) {
    f->desc.name = "apache 2.6";
}
static void m_zookeeper(fixture *f) {
    f->services[2].name = "zookeeper";
}
static void m_service_name(fixture *f) {
    f->services[1].name = "Data_Node";
}
static void m_unknown_image(fixture *f) {
    f->services[1].image = "hadop";
}
static void m_dup_image(fixture *f) {
    f->images[1] = f->images[0];
}
static void m_context(fixture *f) {
    f->images[0].context = "../etc";
}
static void m_build_arg(fixture *f) {
    f->images[0].build_args = bad_build_args;
}
static void m_artifact(fixture *f) {
    static const hdc_artifact a[] = {{"hadoop.tgz", "https://x", "abc"}, {0}};
    f->images[0].artifacts = a;
}
static void m_dup_role(fixture *f) {
    f->nn_ports[1].role = "http-ui";
}
static void m_port_range(fixture *f) {
    f->nn_ports[1].port = 70000;
}
static void m_ready_port(fixture *f) {
    f->services[0].ready_port = "web";
}
static void m_instances(fixture *f) {
    f->services[1].instances = 65;
}
static void m_negative(fixture *f) {
    f->services[1].instances = -2;
}
static void m_hostname(fixture *f) {
    f->services[0].hostname = "name_node";
}
static void m_env(fixture *f) {
    f->services[0].env = bad_env;
}
static void m_volume(fixture *f) {
    static const hdc_volume v[] = {{"logs", "tmp/logs"}, {0}};
    f->services[0].volumes = v;
}
static void m_flags(fixture *f) {
    f->services[0].flags = 0x80;
}
static void m_memory_under_heap(fixture *f) {
    f->services[0].heap_mb = 512;
    f->services[0].memory_mb = 512 + 63;
}
static void m_memory_under_default_heap(fixture *f) {
    f->services[1].memory_mb = 300;
}
static void m_memory_huge(fixture *f) {
    f->services[1].heap_mb = 2u * 1024 * 1024;
}
static void m_no_services(fixture *f) {
    f->desc.services = NULL;
}
static void m_never_booted(fixture *f) {
    f->steps[1] = f->steps[2];
    f->steps[2] = f->steps[3];
    f->steps[3] = f->steps[4];
    f->steps[3].after = after_nn_up;
    memset(&f->steps[4], 0, sizeof(f->steps[4]));
}
static void m_kind(fixture *f) {
    f->steps[2].kind = 9;
}
static void m_no_command(fixture *f) {
    f->steps[3].command = NULL;
}
static void m_boot_command(fixture *f) {
    f->steps[0].command = "hdfs namenode";
}
static void m_step_no_service(fixture *f) {
    f->steps[2].service = NULL;
}
static void m_step_client(fixture *f) {
    f->steps[3].service = "client";
}
static void m_unknown_probe(fixture *f) {
    f->steps[4].probe = "nn-alive";
}
static void m_probe_client(fixture *f) {
    static const hdc_port ssh[] = {{"ssh", 22}, {0}};
    f->services[2].ports = ssh;
    f->probes[0].service = "client";
    f->probes[0].port_role = "ssh";
    f->probes[0].checks = NULL;
}
static void m_zero_timeout(fixture *f) {
    f->steps[3].timeout_s = 0;
}
static void m_dup_probe(fixture *f) {
    /* probes[1] is the terminator; grow into a bigger array. */
    static hdc_probe two[3];
    two[0] = f->probes[0];
    two[1] = f->probes[0];
    f->desc.probes = two;
}
static void m_probe_service(fixture *f) {
    f->probes[0].service = "secondarynamenode";
}
static void m_probe_path(fixture *f) {
    f->probes[0].path = "jmx";
}
static void m_check_both(fixture *f) {
    f->checks[1].count_of = "datanode";
}
static void m_check_neither(fixture *f) {
    f->checks[1].value = NULL;
}
static void m_check_json(fixture *f) {
    f->checks[1].value = "active";
}
static void m_check_order(fixture *f) {
    f->checks[1].op = HDC_OP_GE;
}
static void m_check_op(fixture *f) {
    f->checks[1].op = 0;
}
static void m_check_count(fixture *f) {
    f->checks[0].count_of = "datanodes";
}
static void m_check_exists(fixture *f) {
    f->checks[1].op = HDC_OP_EXISTS;
}
static void m_check_path(fixture *f) {
    f->checks[1].path = "beans..State";
}

static const bad_case bad_cases[] = {
    {"dist name", m_dist_name,
     "distribution name 'apache 2.6' is not "
     "[A-Za-z0-9][A-Za-z0-9._-]* (up to 64 characters)"},
    {"zookeeper", m_zookeeper, "service name 'zookeeper' is reserved: hdc runs ZooKeeper itself"},
    {"service name", m_service_name,
     "service name 'Data_Node' is not [a-z0-9][a-z0-9-]* "
     "(up to 32 characters)"},
    {"unknown image", m_unknown_image,
     "service 'datanode' uses unknown image 'hadop' "
     "(declare it in images, or give a Docker reference with '/' or ':')"},
    {"duplicate image", m_dup_image, "two images are named 'hadoop'"},
    {"context", m_context,
     "image 'hadoop': context must be a directory under clusters/ "
     "or an absolute path, not '../etc'"},
    {"build arg", m_build_arg, "image 'hadoop': build_args entry '=x' is not KEY=VALUE"},
    {"artifact", m_artifact,
     "image 'hadoop': artifact 'hadoop.tgz': sha512 must be 128 hex "
     "digits (or NULL: the one published next to the url)"},
    {"duplicate role", m_dup_role, "service 'namenode' declares port role 'http-ui' twice"},
    {"port range", m_port_range, "service 'namenode': port 'rpc' is 70000, not 1..65535"},
    {"ready port", m_ready_port,
     "service 'namenode': ready_port 'web' is not one of its "
     "port roles (http-ui, rpc)"},
    {"instances", m_instances,
     "service 'datanode': instances is 65, not 1..64 or "
     "HDC_COUNT_DATANODES"},
    {"negative instances", m_negative,
     "service 'datanode': instances is -2, not 1..64 or "
     "HDC_COUNT_DATANODES"},
    {"hostname", m_hostname, "service 'namenode': hostname 'name_node' is not a valid host name"},
    {"env", m_env, "service 'namenode': env entry 'HADOOP_HOME' is not KEY=VALUE"},
    {"volume", m_volume, "service 'namenode': volume 'logs' needs an absolute path"},
    {"flags", m_flags, "service 'namenode': unknown flags 0x80"},
    {"memory under its heap", m_memory_under_heap,
     "service 'namenode': memory_mb 575 leaves less than 64 MB beyond its 512 MB heap for the "
     "JVM itself: raise memory_mb (0: heap + 256)"},
    {"memory under the default heap", m_memory_under_default_heap,
     "service 'datanode': memory_mb 300 leaves less than 64 MB beyond its 256 MB heap for the "
     "JVM itself: raise memory_mb (0: heap + 256)"},
    {"memory too big", m_memory_huge,
     "service 'datanode': heap_mb 2097152 or memory_mb 0 is over 1048576 MB"},
    {"no services", m_no_services, "no services"},
    {"never booted", m_never_booted, "service 'datanode' is never booted: no boot step names it"},
    {"kind", m_kind, "step 'nn-up' has unknown kind 9"},
    {"exec without command", m_no_command, "step 'dirs' (exec) has no command"},
    {"boot with command", m_boot_command,
     "step 'boot-nn' (boot) has a command or user: "
     "only exec steps run one"},
    {"step without service", m_step_no_service, "step 'nn-up' (wait) names no service"},
    {"step on client", m_step_client,
     "step 'dirs' refers to the client service 'client', "
     "which `hdc up` does not create"},
    {"unknown probe", m_unknown_probe, "step 'live' probes unknown probe 'nn-alive'"},
    {"probe step on client", m_probe_client,
     "step 'live' probes the client service "
     "'client', which `hdc up` does not create"},
    {"zero timeout", m_zero_timeout, "step 'dirs' has no deadline (timeout_s must be > 0)"},
    {"duplicate probe", m_dup_probe, "two probes are named 'nn-live'"},
    {"probe service", m_probe_service,
     "probe 'nn-live' refers to unknown service "
     "'secondarynamenode'"},
    {"probe path", m_probe_path, "probe 'nn-live': path must start with '/'"},
    {"value and count", m_check_both,
     "probe 'nn-live': check on 'beans.0.State' needs either "
     "a value or count_of"},
    {"neither", m_check_neither,
     "probe 'nn-live': check on 'beans.0.State' needs either a "
     "value or count_of"},
    {"not JSON", m_check_json,
     "probe 'nn-live': check on 'beans.0.State': value 'active' is "
     "not JSON (strings need quotes: \"\\\"ACTIVE\\\"\")"},
    {"order on string", m_check_order,
     "probe 'nn-live': check on 'beans.0.State' orders by "
     "value '\"active\"', which is not a number"},
    {"op", m_check_op, "probe 'nn-live': check on 'beans.0.State' has unknown op 0"},
    {"count of unknown", m_check_count,
     "probe 'nn-live': check on '/beans/0/NumLiveDataNodes' "
     "counts unknown service 'datanodes'"},
    {"exists with value", m_check_exists,
     "probe 'nn-live': check on 'beans.0.State' (exists) "
     "takes no value and no count_of"},
    {"check path", m_check_path,
     "probe 'nn-live': check path 'beans..State' has an empty "
     "segment"},
};

static void validate_accepts_the_fixture(void **state) {
    char err[512] = "";
    fixture f;

    fixture_init(&f);
    if (plugin_validate(&f.desc, err, sizeof(err)) != 0)
        fail_msg("refused: %s", err);
}

static void validate_refuses_each_malformed_field(void **state) {
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        char err[512] = "";
        fixture f;
        int rc;

        fixture_init(&f);
        bad_cases[i].mutate(&f);
        rc = plugin_validate(&f.desc, err, sizeof(err));
        if (rc != PLUGIN_EINVALID || strcmp(err, bad_cases[i].reason) != 0)
            fail_msg("case '%s': rc %d, message\n  \"%s\", want\n  \"%s\"", bad_cases[i].what, rc,
                     err, bad_cases[i].reason);
    }
}

/* ---- probe predicates ---- */

static int judge(const fixture *f, const char *body, char *why, size_t why_len) {
    return plugin_judge(&f->desc, &f->probes[0], body, strlen(body), "c1", 3, why, why_len);
}

static void judges_probe_answers_by_checks(void **state) {
    char why[256];
    fixture f;

    fixture_init(&f);
    assert_int_equal(judge(&f,
                           "{\"beans\":[{\"NumLiveDataNodes\":3,"
                           "\"State\":\"active\"}]}",
                           why, sizeof(why)),
                     1);
    assert_string_equal(why, "");
    /* Numbers compare by value: 3.0 == 3. */
    assert_int_equal(judge(&f,
                           "{\"beans\":[{\"NumLiveDataNodes\":3.0,"
                           "\"State\":\"active\"}]}",
                           why, sizeof(why)),
                     1);
    assert_int_equal(judge(&f,
                           "{\"beans\":[{\"NumLiveDataNodes\":1,"
                           "\"State\":\"active\"}]}",
                           why, sizeof(why)),
                     0);
    assert_string_equal(why, "/beans/0/NumLiveDataNodes is 1, want == 3 (instances of datanode)");
    assert_int_equal(judge(&f,
                           "{\"beans\":[{\"NumLiveDataNodes\":3,"
                           "\"State\":\"standby\"}]}",
                           why, sizeof(why)),
                     0);
    assert_string_equal(why, "beans.0.State is \"standby\", want == \"active\"");
    assert_int_equal(judge(&f, "{\"beans\":[]}", why, sizeof(why)), 0);
    assert_string_equal(why, "/beans/0/NumLiveDataNodes is absent");
    assert_int_equal(judge(&f, "<html>", why, sizeof(why)), 0);
    assert_contains(why, "the answer is not JSON: ");

    f.checks[1] = (hdc_check){"/beans/0/NumLiveDataNodes", HDC_OP_GE, .value = "2"};
    f.checks[0] = (hdc_check){.path = "beans", .op = HDC_OP_EXISTS};
    assert_int_equal(judge(&f, "{\"beans\":[{\"NumLiveDataNodes\":1}]}", why, sizeof(why)), 0);
    assert_string_equal(why, "/beans/0/NumLiveDataNodes is 1, want >= 2");
    assert_int_equal(judge(&f, "{\"beans\":[{\"NumLiveDataNodes\":2}]}", why, sizeof(why)), 1);

    /* No checks, no judge: any 2xx answer is healthy, JSON or not. */
    f.probes[0].checks = NULL;
    assert_int_equal(judge(&f, "<html>", why, sizeof(why)), 1);
}

static void judges_probe_answers_by_plugin_callback(void **state) {
    static const char ok[] = "{\"clusterMetrics\":{\"activeNodes\":2}}";
    static const char short_[] = "{\"clusterMetrics\":{\"activeNodes\":1}}";
    char err[1024], why[256];
    const hdc_probe *probe;
    plugin *p;

    assert_int_equal(plugin_load(PLUGIN_DIR "/good.so", &p, err, sizeof(err)), 0);
    probe = plugin_probe(p->desc, "rm-metrics");
    assert_non_null(probe);
    assert_int_equal(plugin_judge(p->desc, probe, ok, strlen(ok), "c1", 2, why, sizeof(why)), 1);
    assert_int_equal(
        plugin_judge(p->desc, probe, short_, strlen(short_), "c1", 2, why, sizeof(why)), 0);
    assert_string_equal(why, "c1: 1 active nodes of 2");
    /* The body the callback gets is NUL-terminated even if the caller's is not. */
    assert_int_equal(plugin_judge(p->desc, probe, "{}xyz", 2, "c1", 2, why, sizeof(why)), 0);
    assert_string_equal(why, "no clusterMetrics.activeNodes in {}");
    plugin_unload(p);
}

static void host_table_looks_up_json_paths(void **state) {
    static const char doc[] = "{\"a/b\":{\"c~d\":[10,{\"e\":\"x\"}]},\"n\":null}";
    char out[64];
    double num;

    assert_int_equal(plugin_host.json_get(doc, strlen(doc), "/a~1b/c~0d/1", out, sizeof(out)), 9);
    assert_string_equal(out, "{\"e\":\"x\"}");
    assert_int_equal(plugin_host.json_number(doc, strlen(doc), "/a~1b/c~0d/0", &num), 0);
    assert_true(num == 10);
    assert_int_equal(plugin_host.json_get(doc, strlen(doc), "n", out, sizeof(out)), 4);
    assert_string_equal(out, "null");
    assert_int_equal(plugin_host.json_get(doc, strlen(doc), "", out, 4), (int)strlen(doc));
    assert_string_equal(out, "{\"a");
    assert_int_equal(plugin_host.json_number(doc, strlen(doc), "n", &num), -1);
    assert_int_equal(plugin_host.json_get(doc, strlen(doc), "/a~1b/c~0d/2", out, sizeof(out)), -1);
    assert_int_equal(plugin_host.json_get(doc, strlen(doc), "/a~1b/c~0d/-1", out, sizeof(out)), -1);
    assert_int_equal(plugin_host.json_get("{", 1, "a", out, sizeof(out)), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loads_a_good_plugin),
        cmocka_unit_test(refuses_a_file_without_the_symbol),
        cmocka_unit_test(refuses_a_wrong_abi_version),
        cmocka_unit_test(refuses_a_descriptor_smaller_than_any_layout),
        cmocka_unit_test(loads_a_plugin_of_the_first_layout_with_defaults),
        cmocka_unit_test(reads_the_memory_a_plugin_declares),
        cmocka_unit_test(refuses_a_descriptor_from_a_newer_header),
        cmocka_unit_test(refuses_a_service_from_a_newer_header),
        cmocka_unit_test(refuses_a_step_on_an_unknown_service),
        cmocka_unit_test(refuses_a_step_after_an_unknown_step),
        cmocka_unit_test(refuses_a_step_cycle),
        cmocka_unit_test(refuses_duplicate_service_names),
        cmocka_unit_test(refuses_a_probe_on_an_undeclared_port_role),
        cmocka_unit_test(refuses_a_missing_file),
        cmocka_unit_test(search_path_is_cli_then_env_then_installed_and_build_dirs),
        cmocka_unit_test(finds_a_plugin_by_distribution_name),
        cmocka_unit_test(lists_every_plugin_found_with_its_abi_and_error),
        cmocka_unit_test(an_earlier_directory_hides_a_later_plugin_of_that_name),
        cmocka_unit_test(validate_accepts_the_fixture),
        cmocka_unit_test(validate_refuses_each_malformed_field),
        cmocka_unit_test(judges_probe_answers_by_checks),
        cmocka_unit_test(judges_probe_answers_by_plugin_callback),
        cmocka_unit_test(host_table_looks_up_json_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
