/* Valid, but declares a distribution other than its file's name. */
#include "minimal.h"

HDC_PLUGIN_EXPORT const hdc_plugin_desc hdc_plugin = {
    HDC_PLUGIN_HEADER,
    .name = "other",
    .services = minimal_services,
    .steps = minimal_steps,
};
