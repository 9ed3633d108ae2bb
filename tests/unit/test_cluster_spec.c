/* engine/cluster_spec.c: image references and a node's
 * container as `hdc up` creates it (the rest is end to end:
 * tests/integration/test_cluster_up.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cluster_spec.h"

static const hdc_port nn_ports[] = {{"http-ui", 9870}, {"rpc", 8020}, {0}};
static const hdc_port dn_ports[] = {{"http-ui", 9864}, {0}};
static const hdc_volume shared[] = {{"local", "/usr/local"}, {0}};
static const hdc_service services[] = {
    {.name = "namenode",
     .image = "hadoop",
     .ports = nn_ports,
     .user = "hdfs",
     .env = HDC_LIST("A=1"),
     .daemon = "exec hdfs namenode",
     .ready_port = "http-ui",
     .ready = "hdfs dfsadmin -safemode get | grep -q OFF"},
    {.name = "datanode",
     .image = "debian:bookworm",
     .ports = dn_ports,
     .instances = HDC_COUNT_DATANODES,
     .volumes = shared,
     .daemon = "exec hdfs datanode"},
    {0},
};
static const hdc_plugin_desc desc = {HDC_PLUGIN_HEADER, .name = "apache_3.3.6",
                                     .services = services};

/* The value of label key, or NULL. */
static const char *label(const docker_container_opts *o, const char *key) {
    for (size_t i = 0; i < o->n_labels; i++)
        if (strcmp(o->labels[i].key, key) == 0)
            return o->labels[i].value;
    return NULL;
}

static int has(const char *const *list, size_t n, const char *want) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], want) == 0)
            return 1;
    return 0;
}

static void image_references(void **state) {
    char ref[128];

    cluster_image_ref(&desc, "hadoop", ref, sizeof(ref));
    assert_string_equal(ref, "hdc/apache_3.3.6-hadoop:latest");
    cluster_image_ref(&desc, "debian:bookworm", ref, sizeof(ref));
    assert_string_equal(ref, "debian:bookworm");
    cluster_image_ref(&desc, "hdc/client", ref, sizeof(ref));
    assert_string_equal(ref, "hdc/client");
    {
        /* Resolved (hdc up): the identity tags, else as above. */
        cluster_images im = {.n = 2};
        snprintf(im.name[0], sizeof(im.name[0]), "hadoop");
        snprintf(im.ref[0], sizeof(im.ref[0]), "hdc/apache_3.3.6-hadoop:id-0123456789abcdef");
        snprintf(im.name[1], sizeof(im.name[1]), "hdc/client:latest");
        snprintf(im.ref[1], sizeof(im.ref[1]), "hdc/client:id-fedcba9876543210");
        cluster_images_ref(&im, &desc, "hadoop", ref, sizeof(ref));
        assert_string_equal(ref, "hdc/apache_3.3.6-hadoop:id-0123456789abcdef");
        cluster_images_ref(&im, &desc, "hdc/client:latest", ref, sizeof(ref));
        assert_string_equal(ref, "hdc/client:id-fedcba9876543210");
        cluster_images_ref(&im, &desc, "client", ref, sizeof(ref));
        assert_string_equal(ref, "hdc/apache_3.3.6-client:latest");
        cluster_images_ref(NULL, &desc, "hadoop", ref, sizeof(ref));
        assert_string_equal(ref, "hdc/apache_3.3.6-hadoop:latest");
    }
}

static void a_service_container_has_all_it_needs(void **state) {
    plan_pool pool;
    plan p;
    cluster_spec sp;
    const char *pub = "HDC_SSH_PUBKEY=ssh-ed25519 AAAA";
    cluster_spec_in in = {
        .test_user = "alice", .network = "netid", .extra_env = &pub, .n_extra_env = 1};
    const docker_container_opts *o = &sp.opts;

    plan_pool_parse("172.29.0.0/16:24", &pool, NULL, 0);
    assert_int_equal(plan_make(&p, &desc, "c1", 2, &pool, 3, NULL, 0), 0);
    in.plan = &p;
    in.node = &p.nodes[1]; /* namenode */
    cluster_container_spec(&in, &sp);
    assert_string_equal(o->name, "c1_namenode_1");
    assert_string_equal(o->image, "hdc/apache_3.3.6-hadoop:latest");
    assert_string_equal(o->hostname, "namenode");
    assert_string_equal(o->ipv4, "172.29.3.3");
    assert_string_equal(o->network, "netid");
    assert_int_equal(o->n_extra_hosts, 4); /* zookeeper, namenode, 2 datanodes */
    assert_int_equal(o->n_labels, 7);
    assert_string_equal(label(o, "hdc.cluster"), "c1");
    assert_string_equal(label(o, "hdc.test-user"), "alice"); /* for hdc start and client */
    assert_null(label(o, "hdc.memory"));                     /* no --memory */
    assert_string_equal(label(o, "hdc.address"), "172.29.3.3");
    assert_string_equal(label(o, "hdc.service"), "namenode");
    assert_string_equal(label(o, "hdc.hostname"), "namenode");
    assert_string_equal(label(o, "hdc.datanodes"), "2");
    assert_null(label(o, "hdc.owner")); /* no identity given */
    assert_true(has(o->env, o->n_env, "HDC_CLUSTER=c1"));
    assert_true(has(o->env, o->n_env, "HDC_DIST=apache_3.3.6"));
    assert_true(has(o->env, o->n_env, "HDC_TEST_USER=alice"));
    assert_true(has(o->env, o->n_env, "HDC_ZK=zookeeper:2181"));
    assert_true(has(o->env, o->n_env, "A=1"));
    assert_true(has(o->env, o->n_env, pub));
    /* The agent's arguments: znode, user, readiness, then the daemon. */
    assert_string_equal(o->cmd[0], "--zk");
    assert_true(has(o->cmd, o->n_cmd, "namenode"));
    assert_true(has(o->cmd, o->n_cmd, "hdfs"));
    assert_true(has(o->cmd, o->n_cmd, "tcp:9870"));
    assert_true(has(o->cmd, o->n_cmd, "sh:hdfs dfsadmin -safemode get | grep -q OFF"));
    assert_string_equal(o->cmd[o->n_cmd - 1], "exec hdfs namenode");
    assert_string_equal(o->cmd[o->n_cmd - 4], "--");
    assert_int_equal(o->n_ports, 2);
    assert_int_equal(o->ports[0].host_port, 0); /* ephemeral */

    /* A scaled instance: numbered, with the shared volume (nocopy). */
    in.node = &p.nodes[3];
    in.publish_classic = 1;
    cluster_container_spec(&in, &sp);
    assert_string_equal(o->name, "c1_datanode_2");
    assert_string_equal(o->hostname, "datanode2");
    assert_string_equal(o->image, "debian:bookworm");
    assert_int_equal(o->n_binds, 1);
    assert_string_equal(o->binds[0], "hdc_c1_local:/usr/local:nocopy");
    assert_int_equal(o->ports[0].host_port, 0); /* only instance 1 gets the classic port */
    assert_true(has(o->env, o->n_env, "HDC_INSTANCE=2"));

    /* ZooKeeper: the engine's own image, its port, no agent. */
    in.node = &p.nodes[0];
    cluster_container_spec(&in, &sp);
    assert_string_equal(o->image, CLUSTER_ZK_IMAGE);
    assert_int_equal(o->n_cmd, 0);
    assert_int_equal(o->ports[0].port, 2181);
    assert_int_equal(o->ports[0].host_port, 2181); /* publish_classic */
    plan_free(&p);
}

static void every_object_carries_the_identity(void **state) {
    plan_pool pool;
    plan p;
    cluster_spec sp;
    cluster_identity id = {.owner = "m/b/1/2/3",
                           .created = 1700000000,
                           .expires = 1700003600,
                           .logs_dir = "/abs/logs/c1",
                           .keys_dir = "/abs/keys"};
    cluster_spec_in in = {.id = &id, .boot_timeout_s = 240};
    docker_kv net[CLUSTER_LABELS_MAX];
    cluster_label_bufs bufs;
    size_t n;

    plan_pool_parse(NULL, &pool, NULL, 0);
    assert_int_equal(plan_make(&p, &desc, "c1", 1, &pool, 0, NULL, 0), 0);
    in.plan = &p;
    in.node = &p.nodes[1];
    cluster_container_spec(&in, &sp);
    assert_string_equal(label(&sp.opts, "hdc.owner"), "m/b/1/2/3");
    assert_string_equal(label(&sp.opts, "hdc.created"), "1700000000");
    assert_string_equal(label(&sp.opts, "hdc.expires"), "1700003600");
    assert_string_equal(label(&sp.opts, "hdc.logs"), "/abs/logs/c1");
    assert_string_equal(label(&sp.opts, "hdc.keys"), "/abs/keys");
    /* the agent gives up on `boot` after the deadline hdc sets */
    assert_true(has(sp.opts.cmd, sp.opts.n_cmd, "--boot-timeout"));
    assert_true(has(sp.opts.cmd, sp.opts.n_cmd, "240"));
    /* the network's and the volumes' labels: the same, without a node's */
    n = cluster_labels(&p, &id, net, &bufs);
    assert_int_equal(n, 7);
    id.expires = 0;
    assert_int_equal(cluster_labels(&p, &id, net, &bufs), 6); /* no --ttl */
    plan_free(&p);
}

/* Memory: a service declaring 512/1024, one of hdc's defaults (256/512),
 * ZooKeeper's CLUSTER_ZK_MEMORY_MB, and a client outside the budget. */
static const hdc_service mem_services[] = {
    {.name = "name-node", .image = "hadoop", .daemon = "d", .heap_mb = 512, .memory_mb = 1024},
    {.name = "datanode", .image = "hadoop", .daemon = "d", .instances = HDC_COUNT_DATANODES},
    {.name = "client", .image = "hadoop", .flags = HDC_SERVICE_CLIENT},
    {0},
};
static const hdc_plugin_desc mem_desc = {HDC_PLUGIN_HEADER, .name = "mem",
                                         .services = mem_services};

static const plan_node *node_named(const plan *p, const char *host) {
    for (size_t i = 0; i < p->n_nodes; i++)
        if (strcmp(p->nodes[i].hostname, host) == 0)
            return &p->nodes[i];
    fail_msg("no node %s", host);
    return NULL;
}

/* The node's container limit and HDC_* memory variables for a budget. */
static void expect_limits(const plan *p, const char *host, unsigned budget, unsigned memory,
                          const char *heap_var) {
    cluster_spec sp;
    cluster_spec_in in = {.plan = p, .node = node_named(p, host), .memory_mb = budget};
    char want[64];

    cluster_container_spec(&in, &sp);
    /* A client node's container has no limit unless its plugin gives one. */
    assert_int_equal(sp.opts.memory_mb, in.node->is_client ? 0 : memory);
    /* The budget is a label, for `hdc start` (none without one). */
    snprintf(want, sizeof(want), "%u", budget);
    if (budget > 0)
        assert_string_equal(label(&sp.opts, "hdc.memory"), want);
    else
        assert_null(label(&sp.opts, "hdc.memory"));
    snprintf(want, sizeof(want), "HDC_MEMORY_MB=%u", memory);
    if (in.node->svc != NULL) {
        assert_true(has(sp.opts.env, sp.opts.n_env, want));
        assert_true(has(sp.opts.env, sp.opts.n_env, heap_var));
    }
}

static void containers_get_the_declared_memory_or_a_share_of_the_budget(void **state) {
    plan_pool pool;
    plan p;
    cluster_spec sp;
    cluster_spec_in in = {0};
    char err[512];

    plan_pool_parse("172.29.0.0/16:24", &pool, NULL, 0);
    assert_int_equal(plan_make(&p, &mem_desc, "m1", 2, &pool, 3, NULL, 0), 0);
    /* ZooKeeper 512 + name-node 1024 + 2 datanodes of 512; not the client. */
    assert_int_equal(cluster_memory_min(&p), 2560);

    /* No budget: what is declared (hdc's defaults for 0). */
    expect_limits(&p, "zookeeper", 0, CLUSTER_ZK_MEMORY_MB, NULL);
    expect_limits(&p, "name-node", 0, 1024, "HDC_HEAP_MB=512");
    expect_limits(&p, "datanode2", 0, 512, "HDC_HEAP_MB=256");
    expect_limits(&p, "client", 0, 512, "HDC_HEAP_MB=256");

    /* Twice the minimum: every share, heaps too, twice; the client's
     * declared values stay (and its container is not limited). */
    assert_int_equal(cluster_memory_check(&p, 5120, err, sizeof(err)), 0);
    expect_limits(&p, "zookeeper", 5120, 1024, NULL);
    expect_limits(&p, "name-node", 5120, 2048, "HDC_HEAP_MB=1024");
    expect_limits(&p, "datanode1", 5120, 1024, "HDC_HEAP_MB=512");
    expect_limits(&p, "client", 5120, 512, "HDC_HEAP_MB=256");
    /* The shares never exceed the budget. */
    {
        unsigned sum = 0;
        for (size_t i = 0; i < p.n_nodes; i++)
            if (!p.nodes[i].is_client)
                sum += cluster_memory_of(&p, &p.nodes[i], 4000);
        assert_true(sum <= 4000);
        assert_true(sum > 4000 - p.n_nodes);
    }

    /* Every node knows every service's limits, by name in capitals. */
    in = (cluster_spec_in){.plan = &p, .node = node_named(&p, "datanode1"), .memory_mb = 5120};
    cluster_container_spec(&in, &sp);
    assert_true(has(sp.opts.env, sp.opts.n_env, "HDC_MEMORY_NAME_NODE=2048"));
    assert_true(has(sp.opts.env, sp.opts.n_env, "HDC_HEAP_NAME_NODE=1024"));
    assert_true(has(sp.opts.env, sp.opts.n_env, "HDC_MEMORY_DATANODE=1024"));
    assert_true(has(sp.opts.env, sp.opts.n_env, "HDC_HEAP_DATANODE=512"));

    /* Below the minimum: refused, saying the minimum and where it is from. */
    assert_int_equal(cluster_memory_check(&p, 2559, err, sizeof(err)), PLAN_EINVAL);
    assert_string_equal(err, "m1: --memory 2559 MB is below the cluster's minimum, 2560 MB (the "
                             "sum of the memory the plugin mem declares for each of its "
                             "containers with 2 datanodes, ZooKeeper's 512 MB included): give "
                             "--memory 2560 or more, or leave it out");
    assert_int_equal(cluster_memory_check(&p, 2560, err, sizeof(err)), 0);
    plan_free(&p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(image_references),
        cmocka_unit_test(a_service_container_has_all_it_needs),
        cmocka_unit_test(every_object_carries_the_identity),
        cmocka_unit_test(containers_get_the_declared_memory_or_a_share_of_the_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
