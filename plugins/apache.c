/* The Apache Hadoop family: one source, compiled once per release into
 * apache_<version>.so (CMakeLists.txt, section "plugins"). A cluster is a
 * namenode, N datanodes, a resourcemanager, N nodemanagers and a job
 * history server, from one image built from the release tarball
 * (clusters/apache: the Dockerfile and hdc-hadoop-conf, which writes the
 * cluster's *-site.xml before every daemon starts), and a client node
 * (clusters/apache-client) that `hdc client` starts.
 *
 * Definitions from CMake:
 *   HADOOP_VERSION     "3.3.6"
 *   HADOOP_SHA512      the published SHA-512 of hadoop-<version>.tar.gz (hex),
 *                      pinned; undefined: the published .sha512/.mds is used
 *   NN_HTTP_PORT       namenode web UI: 50070 (2.x) or 9870 (3.x)
 *   DN_HTTP_PORT       datanode web UI: 50075 or 9864
 *   DN_DATA_PORT       datanode data transfer: 50010 or 9866
 *   DN_IPC_PORT        datanode IPC: 50020 or 9867
 * Everything else is the same in 2.x and 3.x (8020, 8030-8033, 8088, 8040,
 * 8042, 10020, 10033, 19888).
 *
 * Decisions a newcomer might question:
 * - The namenode is formatted only when its name directory has no
 *   `current` (a cluster's first start): a restarted namenode container
 *   keeps its namespace. A new `hdc up` creates new containers, so it
 *   starts formatted afresh.
 * - `up` means ready: the namenode is up once it is out of safe mode, the
 *   workers once their web ports answer, and the PROBE steps at the end
 *   wait until the masters count every worker. Deadlines are sized for real
 *   Hadoop on a loaded host (JVM start, safe mode), not for the test
 *   stand-in, which is up in a second.
 * - The HDFS directories a MapReduce job needs are made before any YARN
 *   daemon boots: the history server and log aggregation need them at start.
 */
#include "hdc/plugin.h"

#include <stdio.h>
#include <string.h>

#ifndef HADOOP_VERSION
#error "HADOOP_VERSION must be defined (\"2.6.0\")"
#endif
#if !defined(NN_HTTP_PORT) || !defined(DN_HTTP_PORT) || !defined(DN_DATA_PORT) || \
    !defined(DN_IPC_PORT)
#error "NN_HTTP_PORT, DN_HTTP_PORT, DN_DATA_PORT and DN_IPC_PORT must be defined"
#endif

#ifdef HADOOP_SHA512
#define PINNED_SHA512 HADOOP_SHA512
#else
#define PINNED_SHA512 NULL /* the checksum Apache publishes is fetched and used */
#endif

/* Where the daemons write their own logs: `hdc export-logs` copies it. */
#define LOG_DIRS "HDC_LOG_DIRS=/tmp/logs"

/* Software installed on the client under /usr/local is seen by the tasks
 * on every nodemanager, as in the classic setup. */
#define SHARED_LOCAL ((const hdc_volume[]){{"local", "/usr/local"}, {0}})

/* Memory (plugin.h, "Memory"): each daemon's heap and container, small
 * test-cluster values that `hdc up --memory` scales. A nodemanager's
 * container holds its heap (256), the YARN containers it may run
 * (yarn.nodemanager.resource.memory-mb: 1024 at least, room for an
 * ApplicationMaster and one task of 512 each) and a margin of 256 for its
 * JVM; clusters/apache/hdc-hadoop-conf derives memory-mb from these
 * numbers, which it reads from HDC_MEMORY_NODEMANAGER and
 * HDC_HEAP_NODEMANAGER. */
#define NM_MEMORY_MB (256 + 1024 + 256)

#define DIST_NAME "apache_" HADOOP_VERSION
#define TARBALL   "hadoop-" HADOOP_VERSION ".tar.gz"

/* Every daemon first writes the cluster's configuration
 * (clusters/apache/hdc-hadoop-conf), then replaces the shell. */
#define CONF "/usr/lib/hdc/hdc-hadoop-conf && "

static const hdc_image images[] = {
    {.name = "hadoop",
     .context = "apache",
     .build_args = HDC_LIST("HADOOP_VERSION=" HADOOP_VERSION),
     .artifacts =
         (const hdc_artifact[]){
             {.file = TARBALL,
              .url = "https://archive.apache.org/dist/hadoop/common/hadoop-" HADOOP_VERSION
                     "/" TARBALL,
              .sha512 = PINNED_SHA512},
             {0}}},
    /* The client node: the image above plus sshd and hdc-client-init
     * (which hdc build adds to the context of a client service's image),
     * so that the release is stored once. */
    {.name = "client", .context = "apache-client"},
    {0},
};

static const hdc_service services[] = {
    {.name = "namenode",
     .image = "hadoop",
     .ports = (const hdc_port[]){{"http-ui", NN_HTTP_PORT}, {"rpc", 8020}, {0}},
     .env = HDC_LIST(LOG_DIRS),
     .daemon = CONF "{ test -d /data/hadoop/dfs/name/current"
                    " || hdfs namenode -format -nonInteractive -clusterid \"hdc-$HDC_CLUSTER\"; }"
                    " && exec hdfs namenode",
     .user = "hdfs",
     .heap_mb = 512,
     .memory_mb = 768,
     .ready_port = "http-ui",
     .ready = "hdfs dfsadmin -safemode get 2>/dev/null | grep -q 'Safe mode is OFF'"},
    {.name = "datanode",
     .image = "hadoop",
     .instances = HDC_COUNT_DATANODES,
     .ports =
         (const hdc_port[]){
             {"http-ui", DN_HTTP_PORT}, {"data", DN_DATA_PORT}, {"ipc", DN_IPC_PORT}, {0}},
     .env = HDC_LIST(LOG_DIRS),
     .daemon = CONF "exec hdfs datanode",
     .user = "hdfs",
     .heap_mb = 256,
     .memory_mb = 512,
     .ready_port = "http-ui"},
    {.name = "resourcemanager",
     .image = "hadoop",
     .ports = (const hdc_port[]){{"http-ui", 8088},
                                 {"rpc", 8032},
                                 {"scheduler", 8030},
                                 {"resource-tracker", 8031},
                                 {"admin", 8033},
                                 {0}},
     .env = HDC_LIST(LOG_DIRS),
     .daemon = CONF "exec yarn resourcemanager",
     .user = "yarn",
     .heap_mb = 512,
     .memory_mb = 768,
     .ready_port = "http-ui"},
    {.name = "nodemanager",
     .image = "hadoop",
     .instances = HDC_COUNT_DATANODES,
     .ports = (const hdc_port[]){{"http-ui", 8042}, {"localizer", 8040}, {0}},
     .env = HDC_LIST(LOG_DIRS),
     .volumes = SHARED_LOCAL,
     .daemon = CONF "exec yarn nodemanager",
     .user = "yarn",
     /* NM_MEMORY_MB: its heap, yarn.nodemanager.resource.memory-mb and
      * hdc-hadoop-conf's margin (see there). */
     .heap_mb = 256,
     .memory_mb = NM_MEMORY_MB,
     .ready_port = "http-ui"},
    {.name = "historyserver",
     .image = "hadoop",
     .ports = (const hdc_port[]){{"http-ui", 19888}, {"rpc", 10020}, {"admin", 10033}, {0}},
     .env = HDC_LIST(LOG_DIRS),
     .daemon = CONF "exec mapred historyserver",
     .user = "mapred",
     .heap_mb = 256,
     .memory_mb = 512,
     .ready_port = "http-ui"},
    {.name = "client",
     .image = "client",
     .flags = HDC_SERVICE_CLIENT,
     .ports = (const hdc_port[]){{"ssh", 22}, {0}},
     .volumes = SHARED_LOCAL,
     .daemon = CONF "exec /usr/lib/hdc/hdc-client-init",
     .ready_port = "ssh"},
    {0},
};

/* The HDFS directories of a MapReduce cluster, made as the HDFS superuser
 * once the namenode is out of safe mode. One command, so that one exec
 * reports the first failure with its output; few `hdfs` calls, since each
 * starts a JVM. */
#define HDFS_DIRS                                                                          \
    "set -e; "                                                                             \
    "hdfs dfs -mkdir -p /tmp /tmp/hadoop-yarn/staging /mr-history/tmp /mr-history/done"    \
    " /user/mapred \"/user/$HDC_TEST_USER\" /app-logs; "                                   \
    "hdfs dfs -chown -R mapred:hadoop /tmp/hadoop-yarn/staging /mr-history /user/mapred; " \
    "hdfs dfs -chown \"$HDC_TEST_USER:hadoop\" \"/user/$HDC_TEST_USER\"; "                 \
    "hdfs dfs -chown yarn:hadoop /app-logs; "                                              \
    "hdfs dfs -chmod -R 1777 /tmp/hadoop-yarn/staging /mr-history; "                       \
    "hdfs dfs -chmod 1777 /tmp /app-logs"

static const hdc_step steps[] = {
    /* HDFS: the namenode and the datanodes start together; datanodes retry
     * until the namenode answers. */
    {.name = "boot-namenode", .kind = HDC_STEP_BOOT, .service = "namenode", .timeout_s = 30},
    {.name = "boot-datanodes", .kind = HDC_STEP_BOOT, .service = "datanode", .timeout_s = 30},
    {.name = "namenode-up",
     .kind = HDC_STEP_WAIT,
     .service = "namenode",
     .timeout_s = 180,
     .after = HDC_LIST("boot-namenode")},
    {.name = "datanodes-up",
     .kind = HDC_STEP_WAIT,
     .service = "datanode",
     .timeout_s = 180,
     .after = HDC_LIST("boot-datanodes")},
    {.name = "hdfs-dirs",
     .kind = HDC_STEP_EXEC,
     .service = "namenode",
     .user = "hdfs",
     .command = HDFS_DIRS,
     .timeout_s = 180,
     .after = HDC_LIST("namenode-up")},

    /* YARN and the job history server, once HDFS has their directories. */
    {.name = "boot-resourcemanager",
     .kind = HDC_STEP_BOOT,
     .service = "resourcemanager",
     .timeout_s = 30,
     .after = HDC_LIST("hdfs-dirs")},
    {.name = "boot-nodemanagers",
     .kind = HDC_STEP_BOOT,
     .service = "nodemanager",
     .timeout_s = 30,
     .after = HDC_LIST("hdfs-dirs")},
    {.name = "boot-historyserver",
     .kind = HDC_STEP_BOOT,
     .service = "historyserver",
     .timeout_s = 30,
     .after = HDC_LIST("hdfs-dirs")},
    {.name = "resourcemanager-up",
     .kind = HDC_STEP_WAIT,
     .service = "resourcemanager",
     .timeout_s = 180,
     .after = HDC_LIST("boot-resourcemanager")},
    {.name = "nodemanagers-up",
     .kind = HDC_STEP_WAIT,
     .service = "nodemanager",
     .timeout_s = 180,
     .after = HDC_LIST("boot-nodemanagers")},
    {.name = "historyserver-up",
     .kind = HDC_STEP_WAIT,
     .service = "historyserver",
     .timeout_s = 180,
     .after = HDC_LIST("boot-historyserver")},

    /* Health: the masters count every worker, the history server answers. */
    {.name = "datanodes-live",
     .kind = HDC_STEP_PROBE,
     .probe = "live-datanodes",
     .timeout_s = 180,
     .after = HDC_LIST("namenode-up", "datanodes-up")},
    {.name = "nodemanagers-active",
     .kind = HDC_STEP_PROBE,
     .probe = "active-nodemanagers",
     .timeout_s = 180,
     .after = HDC_LIST("resourcemanager-up", "nodemanagers-up")},
    {.name = "historyserver-answers",
     .kind = HDC_STEP_PROBE,
     .probe = "history-info",
     .timeout_s = 120,
     .after = HDC_LIST("historyserver-up")},
    {0},
};

/* ---- the nodemanagers' probe ------------------------------------------------
 *
 * The resourcemanager's list of nodes rather than its metrics: the count of
 * RUNNING nodes is the metrics' activeNodes, and the list also says which
 * nodes are not RUNNING and why. A nodemanager that marks itself UNHEALTHY
 * (a disk over the utilization threshold, a health script saying ERROR)
 * keeps heartbeating, so nothing else would show it: the up would only time
 * out. The states are asked for by name because without them Hadoop 2.x
 * lists only NEW, RUNNING and UNHEALTHY nodes, and only 2.6.0's names are
 * used, since a name a release does not know is an error there. */
#define NM_STATES "NEW,RUNNING,UNHEALTHY,DECOMMISSIONED,LOST,REBOOTED"

/* How much of one node's health report goes into the reason. */
#define NM_REPORT_MAX 160

/* Copies the JSON string text (quoted, as json_get writes it) into out,
 * unquoted; "..." ends a text cut to fit. */
static void json_unquote(const char *text, char *out, size_t out_len) {
    const char *p = text + (*text == '"');
    size_t n = 0;

    for (; *p != '\0' && *p != '"' && n + 1 < out_len; p++) {
        char ch = *p;
        if (ch == '\\' && p[1] != '\0') {
            switch (*++p) {
            case 'n':
            case 'r':
            case 't': ch = ' '; break;
            case 'u': /* another control character */
                ch = '?';
                for (int i = 0; i < 4 && p[1] != '\0'; i++)
                    p++;
                break;
            default: ch = *p; break;
            }
        }
        out[n++] = ch;
    }
    out[n] = '\0';
    if (*p != '\0' && *p != '"' && n >= 3)
        memcpy(out + n - 3, "...", 3);
}

/* A node's field as text, unquoted and cut to out_len; "" if absent. */
static void node_field(const hdc_probe_ctx *ctx, const char *json, size_t len, const char *node,
                       const char *field, char *out, size_t out_len) {
    char path[96], text[2048];

    snprintf(path, sizeof(path), "%s.%s", node, field);
    if (ctx->host->json_get(json, len, path, text, sizeof(text)) < 0 || strcmp(text, "null") == 0) {
        out[0] = '\0';
        return;
    }
    json_unquote(text, out, out_len);
}

/* Healthy when as many nodemanagers are RUNNING as were asked for; if not,
 * why says how many are, and names every other node the resourcemanager
 * knows with its state and health report:
 *   1 of 2 nodemanagers RUNNING; nodemanager2:45454 UNHEALTHY: 1/1
 *   local-dirs usable space is below configured utilization percentage... */
static int judge_nodemanagers(const char *json, size_t len, const hdc_probe_ctx *ctx, char *why,
                              size_t why_len) {
    char head[4], node[64], id[320], state[32], report[NM_REPORT_MAX + 1];
    char others[2048] = "";
    size_t used = 0;
    unsigned known = 0, running = 0;
    int single;

    if (ctx->host->json_get(json, len, "nodes", head, sizeof(head)) < 0) {
        snprintf(why, why_len, "the resourcemanager's answer has no \"nodes\"");
        return 0;
    }
    /* {"nodes":null} when no node has registered; one node may come as an
     * object rather than a list of one. */
    single =
        ctx->host->json_get(json, len, "nodes.node", head, sizeof(head)) >= 0 && head[0] == '{';
    for (unsigned i = 0; i < 1024; i++) {
        if (single && i > 0)
            break;
        if (single)
            snprintf(node, sizeof(node), "nodes.node");
        else
            snprintf(node, sizeof(node), "nodes.node.%u", i);
        if (ctx->host->json_get(json, len, node, NULL, 0) < 0)
            break;
        known++;
        node_field(ctx, json, len, node, "state", state, sizeof(state));
        if (strcmp(state, "RUNNING") == 0) {
            running++;
            continue;
        }
        node_field(ctx, json, len, node, "id", id, sizeof(id));
        node_field(ctx, json, len, node, "healthReport", report, sizeof(report));
        if (used < sizeof(others))
            used += (size_t)snprintf(others + used, sizeof(others) - used, "; %s %s%s%s",
                                     id[0] != '\0' ? id : "a node", state[0] != '\0' ? state : "?",
                                     report[0] != '\0' ? ": " : "", report);
    }
    if (running == ctx->datanodes)
        return 1;
    if (known == 0)
        snprintf(why, why_len,
                 "0 of %u nodemanagers RUNNING: none has registered with the "
                 "resourcemanager yet",
                 ctx->datanodes);
    else if (known < ctx->datanodes)
        snprintf(why, why_len, "%u of %u nodemanagers RUNNING, %u registered%s", running,
                 ctx->datanodes, known, others);
    else
        snprintf(why, why_len, "%u of %u nodemanagers RUNNING%s", running, ctx->datanodes, others);
    return 0;
}

static const hdc_probe probes[] = {
    {.name = "live-datanodes",
     .service = "namenode",
     .port_role = "http-ui",
     .path = "/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState",
     .checks =
         (const hdc_check[]){
             {.path = "/beans/0/NumLiveDataNodes", .op = HDC_OP_EQ, .count_of = "datanode"}, {0}}},
    {.name = "active-nodemanagers",
     .service = "resourcemanager",
     .port_role = "http-ui",
     .path = "/ws/v1/cluster/nodes?states=" NM_STATES,
     .judge = judge_nodemanagers},
    /* The history server answers, and runs the release the image was built
     * for (a tarball of another version under this name shows here). */
    {.name = "history-info",
     .service = "historyserver",
     .port_role = "http-ui",
     .path = "/ws/v1/history/info",
     .checks = (const hdc_check[]){{.path = "historyInfo.hadoopVersion",
                                    .op = HDC_OP_EQ,
                                    .value = "\"" HADOOP_VERSION "\""},
                                   {0}}},
    {0},
};

HDC_PLUGIN_EXPORT const hdc_plugin_desc hdc_plugin = {
    HDC_PLUGIN_HEADER,
    .name = DIST_NAME,
    .description =
        "Apache Hadoop " HADOOP_VERSION ": HDFS, YARN and the MapReduce job history server",
    .images = images,
    .services = services,
    .steps = steps,
    .probes = probes,
};
