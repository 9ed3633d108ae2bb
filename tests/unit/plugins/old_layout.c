/* A plugin built against the first layout of the ABI (abi_v1.h): smaller
 * services, no sizes in its descriptor. It must load, with every field it
 * lacks at its default (heap and container memory: hdc's). */
#include "abi_v1.h"

static const hdc_service services[] = {
    {.name = "namenode",
     .image = "hdc/test:1",
     .ports = (const hdc_port[]){{"http-ui", 9870}, {"rpc", 8020}, {0}},
     .env = HDC_LIST("HDC_LOG_DIRS=/tmp/logs"),
     .daemon = "exec sleep 1d",
     .user = "hdfs",
     .ready_port = "http-ui"},
    {.name = "datanode",
     .image = "hdc/test:1",
     .ports = (const hdc_port[]){{"http-ui", 9864}, {0}},
     .daemon = "exec sleep 1d",
     .user = "hdfs",
     .instances = HDC_COUNT_DATANODES},
    {.name = "client", .image = "hdc/client:1", .flags = HDC_SERVICE_CLIENT},
    {0},
};

static const hdc_step steps[] = {
    {.name = "boot-nn", .kind = HDC_STEP_BOOT, .service = "namenode", .timeout_s = 5},
    {.name = "boot-dn",
     .kind = HDC_STEP_BOOT,
     .service = "datanode",
     .timeout_s = 5,
     .after = HDC_LIST("boot-nn")},
    {.name = "live",
     .kind = HDC_STEP_PROBE,
     .probe = "live",
     .timeout_s = 5,
     .after = HDC_LIST("boot-dn")},
    {0},
};

static const hdc_probe probes[] = {
    {.name = "live",
     .service = "namenode",
     .port_role = "http-ui",
     .path = "/jmx",
     .checks = (const hdc_check[]){{"/beans/0/NumLiveDataNodes", 1, NULL, "datanode"}, {0}}},
    {0},
};

HDC_PLUGIN_EXPORT const hdc_plugin_desc hdc_plugin = {
    HDC_PLUGIN_HEADER,    .name = "old_layout", .description = "built against the first layout",
    .services = services, .steps = steps,       .probes = probes,
};
