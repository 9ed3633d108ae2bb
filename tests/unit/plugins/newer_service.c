/* A plugin built against a newer header than hdc's, whose hdc_service has
 * a field appended that this hdc does not know. */
#include "minimal.h"

typedef struct newer_service {
    hdc_service s;
    unsigned future; /* a field of a later layout */
} newer_service;

static const newer_service services[] = {
    {.s = {.name = "namenode", .image = "hdc/test:1", .daemon = "exec sleep 1d"}, .future = 1},
    {{0}, 0},
};

HDC_PLUGIN_EXPORT const hdc_plugin_desc hdc_plugin = {
    .abi_version = HDC_PLUGIN_ABI_VERSION,
    .size = sizeof(hdc_plugin_desc),
    .service_size = sizeof(newer_service),
    .name = "newer_service",
    .services = &services[0].s,
    .steps =
        (const hdc_step[]){
            {.name = "boot-nn", .kind = HDC_STEP_BOOT, .service = "namenode", .timeout_s = 5}, {0}},
};
