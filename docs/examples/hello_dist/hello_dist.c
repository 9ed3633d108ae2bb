/* hello_dist: an example distribution plugin, built out of hdc's tree
 * against the installed SDK (see README.md here, and docs/plugins.md).
 *
 * It is NOT Hadoop. Its one image (context/) runs a toy daemon with the
 * shape of one: a master, and N workers (one per `hdc up --datanodes N`)
 * that register with it by hostname. The bootstrap boots the master, waits
 * for it, boots the workers, and is done when the master's /status counts
 * every worker. A client node (hdc's generic one) makes `hdc client` and
 * `hdc matrix` work too.
 *
 * HELLO_CONTEXT is the build context's absolute path (the Makefile passes
 * it): a plugin kept out of hdc's tree names its own context so.
 */
#include <hdc/plugin.h>

#ifndef HELLO_CONTEXT
#error "build with -DHELLO_CONTEXT='\"/path/to/context\"' (the Makefile does)"
#endif

static const hdc_image images[] = {
    {.name = "hello", .context = HELLO_CONTEXT},
    {0},
};

static const hdc_service services[] = {
    {.name = "master",
     .image = "hello",
     .ports = (const hdc_port[]){{"http", 8080}, {0}},
     /* Where the daemon writes its own logs: `hdc export-logs` copies them. */
     .env = HDC_LIST("HDC_LOG_DIRS=/var/log/hello"),
     .daemon = "exec /opt/hello/bin/hello-daemon master 8080",
     .user = "hello",
     .ready_port = "http",
     .heap_mb = 32,
     .memory_mb = 128},
    {.name = "worker",
     .image = "hello",
     .instances = HDC_COUNT_DATANODES, /* worker1 .. workerN */
     .ports = (const hdc_port[]){{"http", 8081}, {0}},
     .env = HDC_LIST("HDC_LOG_DIRS=/var/log/hello"),
     .daemon = "exec /opt/hello/bin/hello-daemon worker master:8080 8081",
     .user = "hello",
     .ready_port = "http",
     .heap_mb = 32,
     .memory_mb = 128},
    /* The client node: created by `hdc client`, never by `hdc up`. */
    {.name = "client",
     .image = "hdc/client:latest",
     .flags = HDC_SERVICE_CLIENT,
     .ports = (const hdc_port[]){{"ssh", 22}, {0}},
     .daemon = "exec /usr/lib/hdc/hdc-client-init",
     .ready_port = "ssh"},
    {0},
};

static const hdc_step steps[] = {
    {.name = "boot-master", .kind = HDC_STEP_BOOT, .service = "master", .timeout_s = 30},
    {.name = "master-up",
     .kind = HDC_STEP_WAIT,
     .service = "master",
     .timeout_s = 60,
     .after = HDC_LIST("boot-master")},
    /* Runs again on `hdc start`: it only overwrites a file. */
    {.name = "greet",
     .kind = HDC_STEP_EXEC,
     .service = "master",
     .user = "hello",
     .command = "echo \"hello from $HDC_DIST cluster $HDC_CLUSTER, $HDC_DATANODES workers\" "
                ">/var/log/hello/greeting.txt",
     .timeout_s = 30,
     .after = HDC_LIST("master-up")},
    {.name = "boot-workers",
     .kind = HDC_STEP_BOOT,
     .service = "worker",
     .timeout_s = 30,
     .after = HDC_LIST("master-up")},
    {.name = "workers-up",
     .kind = HDC_STEP_WAIT,
     .service = "worker",
     .timeout_s = 60,
     .after = HDC_LIST("boot-workers")},
    {.name = "workers-registered",
     .kind = HDC_STEP_PROBE,
     .probe = "workers",
     .timeout_s = 60,
     .after = HDC_LIST("workers-up")},
    {0},
};

static const hdc_probe probes[] = {
    /* Healthy when the master counts as many workers as were asked for. */
    {.name = "workers",
     .service = "master",
     .port_role = "http",
     .path = "/status",
     .checks =
         (const hdc_check[]){{.path = "workers", .op = HDC_OP_EQ, .count_of = "worker"}, {0}}},
    {0},
};

HDC_PLUGIN_EXPORT const hdc_plugin_desc hdc_plugin = {
    HDC_PLUGIN_HEADER,
    .name = "hello_dist", /* the file is hello_dist.so */
    .description = "an example distribution out of hdc's tree: a toy master and workers, "
                   "not Hadoop",
    .images = images,
    .services = services,
    .steps = steps,
    .probes = probes,
};
