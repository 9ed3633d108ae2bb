/* The right ABI version but a descriptor smaller than any layout's, as a
 * descriptor written by hand without HDC_PLUGIN_HEADER may have. */
#include "minimal.h"

HDC_PLUGIN_EXPORT const hdc_plugin_desc hdc_plugin = {
    .abi_version = HDC_PLUGIN_ABI_VERSION,
    .size = 16,
    .name = "bad_size",
    .services = minimal_services,
    .steps = minimal_steps,
};
