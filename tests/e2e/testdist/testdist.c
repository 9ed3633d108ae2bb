/* testdist: the test distribution. A master and N workers (one per
 * requested datanode) built from testsvc, on the same base image as real
 * distributions (hdc-agent as entrypoint), so that `hdc up` runs its whole
 * path (network, ZooKeeper, agents, steps, exec, probes) in seconds and
 * without Hadoop.
 *
 * Compiled twice: testdist.so, and with -DTESTDIST_CRASH testdist_crash.so,
 * whose workers' daemon exits with status 3 right after boot, and whose
 * client node's too (`hdc client NAME --client-dist testdist_crash`: a
 * client node that fails).
 * TESTDIST_CONTEXT is the build context directory (set by CMake).
 */
#include "hdc/plugin.h"

#ifdef TESTDIST_CRASH
#define DIST_NAME     "testdist_crash"
#define WORKER_DAEMON "exec testsvc exit 3"
#define CLIENT_DAEMON "echo 'testdist_crash: the client node exits on purpose' >&2; exit 3"
#else
#define DIST_NAME     "testdist"
#define WORKER_DAEMON "exec testsvc worker master 8080 8081"
#define CLIENT_DAEMON "exec /usr/lib/hdc/hdc-client-init"
#endif

static const hdc_image images[] = {
    {.name = "testsvc", .context = TESTDIST_CONTEXT},
    {0},
};

static const hdc_service services[] = {
    {.name = "master",
     .image = "testsvc",
     .ports = (const hdc_port[]){{"http-ui", 8080}, {0}},
     .env = HDC_LIST("HDC_LOG_DIRS=/var/log:/nonexistent/logs"),
     .volumes = (const hdc_volume[]){{"shared", "/shared"}, {0}},
     .daemon = "exec testsvc master 8080",
     .ready_port = "http-ui"},
    {.name = "worker",
     .image = "testsvc",
     .instances = HDC_COUNT_DATANODES,
     .volumes = (const hdc_volume[]){{"shared", "/shared"}, {0}},
     .ports = (const hdc_port[]){{"http-ui", 8081}, {0}},
     .daemon = WORKER_DAEMON,
     .ready_port = "http-ui"},
    /* The client node: hdc's generic one, created by `hdc client`. */
    {.name = "client",
     .image = "hdc/client:latest",
     .flags = HDC_SERVICE_CLIENT,
     .ports = (const hdc_port[]){{"ssh", 22}, {0}},
     .volumes = (const hdc_volume[]){{"shared", "/shared"}, {0}},
     .daemon = CLIENT_DAEMON,
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
    {.name = "hosts-master",
     .kind = HDC_STEP_EXEC,
     .service = "master",
     .command = "testsvc hosts-check",
     .timeout_s = 30,
     .after = HDC_LIST("master-up")},
    {.name = "hosts-workers",
     .kind = HDC_STEP_EXEC,
     .service = "worker",
     .command = "testsvc hosts-check",
     .timeout_s = 30,
     .after = HDC_LIST("workers-up")},
    {.name = "workers-registered",
     .kind = HDC_STEP_PROBE,
     .probe = "workers",
     .timeout_s = 60,
     .after = HDC_LIST("workers-up")},
    {0},
};

static const hdc_probe probes[] = {
    {.name = "workers",
     .service = "master",
     .port_role = "http-ui",
     .path = "/status",
     .checks =
         (const hdc_check[]){{.path = "workers", .op = HDC_OP_EQ, .count_of = "worker"}, {0}}},
    {0},
};

HDC_PLUGIN_EXPORT const hdc_plugin_desc hdc_plugin = {
    HDC_PLUGIN_HEADER,
    .name = DIST_NAME,
    .description = "hdc's test distribution: a master and workers, not Hadoop",
    .images = images,
    .services = services,
    .steps = steps,
    .probes = probes,
};
