/* Declares ABI version 7. */
#include "minimal.h"

HDC_PLUGIN_EXPORT const hdc_plugin_desc hdc_plugin = {
    .abi_version = 7,
    .size = sizeof(hdc_plugin_desc),
    .name = "bad_abi",
    .services = minimal_services,
    .steps = minimal_steps,
};
