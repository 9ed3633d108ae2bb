/* A valid plugin shaped like a small Hadoop cluster: scaled datanodes, a
 * bootstrap DAG, probes as data and as a callback. */
#include <stdio.h>
#include <string.h>

#include "hdc/plugin.h"

/* Not static, yet hidden by -fvisibility=hidden: the test checks that
 * hdc_plugin is the only symbol exported. */
int good_helper(void);
int good_helper(void) {
    return 42;
}

static const hdc_image images[] = {
    {.name = "hadoop",
     .context = "good",
     .build_args = HDC_LIST("HADOOP_VERSION=0.0.1"),
     .artifacts =
         (const hdc_artifact[]){
             {"hadoop-0.0.1.tar.gz", "https://example.invalid/hadoop-0.0.1.tar.gz",
              "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
              "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"},
             {0}}},
    {0},
};

static const hdc_volume logs[] = {{"logs", "/tmp/logs"}, {0}};

static const hdc_service services[] = {
    {.name = "namenode",
     .image = "hadoop",
     .ports = (const hdc_port[]){{"http-ui", 50070}, {"rpc", 8020}, {0}},
     .env = HDC_LIST("HADOOP_ROLE=namenode"),
     .volumes = logs,
     .daemon = "test -d /data/nn/current || hdfs namenode -format; exec hdfs namenode",
     .user = "hdfs",
     .ready_port = "http-ui",
     .heap_mb = 512,
     .memory_mb = 768},
    {.name = "datanode",
     .image = "hadoop",
     .ports = (const hdc_port[]){{"http-ui", 50075}, {0}},
     .volumes = logs,
     .daemon = "exec hdfs datanode",
     .user = "hdfs",
     .ready_port = "http-ui",
     .instances = HDC_COUNT_DATANODES},
    {.name = "resourcemanager",
     .image = "hadoop",
     .ports = (const hdc_port[]){{"http-ui", 8088}, {0}},
     .daemon = "exec yarn resourcemanager",
     .user = "yarn"},
    {.name = "client", .image = "hdc/client:1", .flags = HDC_SERVICE_CLIENT},
    {0},
};

static const hdc_step steps[] = {
    {.name = "boot-nn", .kind = HDC_STEP_BOOT, .service = "namenode", .timeout_s = 10},
    {.name = "boot-dn", .kind = HDC_STEP_BOOT, .service = "datanode", .timeout_s = 10},
    {.name = "nn-up",
     .kind = HDC_STEP_WAIT,
     .service = "namenode",
     .timeout_s = 120,
     .after = HDC_LIST("boot-nn")},
    {.name = "hdfs-dirs",
     .kind = HDC_STEP_EXEC,
     .service = "namenode",
     .user = "hdfs",
     .command = "hdfs dfs -mkdir -p /tmp /user/$HDC_TEST_USER && hdfs dfs -chmod 1777 /tmp",
     .timeout_s = 60,
     .after = HDC_LIST("nn-up")},
    {.name = "boot-rm",
     .kind = HDC_STEP_BOOT,
     .service = "resourcemanager",
     .timeout_s = 10,
     .after = HDC_LIST("hdfs-dirs")},
    {.name = "hdfs-live",
     .kind = HDC_STEP_PROBE,
     .probe = "live-datanodes",
     .timeout_s = 120,
     .after = HDC_LIST("nn-up", "boot-dn")},
    {0},
};

/* rm-metrics as a callback: the same predicate as a check would give. */
static int judge_rm(const char *body, size_t len, const hdc_probe_ctx *ctx, char *why,
                    size_t why_len) {
    double active;

    if (ctx->host->json_number(body, len, "clusterMetrics.activeNodes", &active) != 0) {
        snprintf(why, why_len, "no clusterMetrics.activeNodes in %s", body);
        return 0;
    }
    if (active != ctx->datanodes) {
        snprintf(why, why_len, "%s: %g active nodes of %u", ctx->cluster, active, ctx->datanodes);
        return 0;
    }
    return 1;
}

static const hdc_probe probes[] = {
    {.name = "live-datanodes",
     .service = "namenode",
     .port_role = "http-ui",
     .path = "/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState",
     .checks =
         (const hdc_check[]){
             {.path = "/beans/0/NumLiveDataNodes", .op = HDC_OP_EQ, .count_of = "datanode"},
             {.path = "beans.0.name", .op = HDC_OP_EXISTS},
             {0}}},
    {.name = "rm-metrics",
     .service = "resourcemanager",
     .port_role = "http-ui",
     .path = "/ws/v1/cluster/metrics",
     .judge = judge_rm},
    {0},
};

HDC_PLUGIN_EXPORT const hdc_plugin_desc hdc_plugin = {
    HDC_PLUGIN_HEADER, .name = "good",       .description = "a valid test plugin",
    .images = images,  .services = services, .steps = steps,
    .probes = probes,
};
