/* A step refers to a service the plugin does not declare. */
#include "minimal.h"

static const hdc_step steps[] = {
    {.name = "boot-nn", .kind = HDC_STEP_BOOT, .service = "namenode", .timeout_s = 5},
    {.name = "format",
     .kind = HDC_STEP_EXEC,
     .service = "namenod",
     .command = "true",
     .timeout_s = 5,
     .after = HDC_LIST("boot-nn")},
    {0},
};

HDC_PLUGIN_EXPORT const hdc_plugin_desc hdc_plugin = {
    HDC_PLUGIN_HEADER,
    .name = "unknown_service",
    .services = minimal_services,
    .steps = steps,
};
