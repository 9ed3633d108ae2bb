/* Three steps waiting for each other in a circle. */
#include "minimal.h"

static const hdc_step steps[] = {
    {.name = "boot-nn",
     .kind = HDC_STEP_BOOT,
     .service = "namenode",
     .timeout_s = 5,
     .after = HDC_LIST("dirs")},
    {.name = "nn-up",
     .kind = HDC_STEP_WAIT,
     .service = "namenode",
     .timeout_s = 5,
     .after = HDC_LIST("boot-nn")},
    {.name = "dirs",
     .kind = HDC_STEP_EXEC,
     .service = "namenode",
     .command = "true",
     .timeout_s = 5,
     .after = HDC_LIST("nn-up")},
    {0},
};

HDC_PLUGIN_EXPORT const hdc_plugin_desc hdc_plugin = {
    HDC_PLUGIN_HEADER,
    .name = "cycle",
    .services = minimal_services,
    .steps = steps,
};
