/* Exports a descriptor under another name: the loader finds no hdc_plugin. */
#include "minimal.h"

HDC_PLUGIN_EXPORT const hdc_plugin_desc hdc_plugin_v2 = {
    HDC_PLUGIN_HEADER,
    .name = "no_symbol",
    .services = minimal_services,
    .steps = minimal_steps,
};
