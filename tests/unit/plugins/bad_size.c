/* The right ABI version but a descriptor of another size, as a plugin built
 * against an edited header would have. */
#include "minimal.h"

HDC_PLUGIN_EXPORT const hdc_plugin_desc hdc_plugin = {
    .abi_version = HDC_PLUGIN_ABI_VERSION,
    .size = sizeof(hdc_plugin_desc) - sizeof(void *),
    .name = "bad_size",
    .services = minimal_services,
    .steps = minimal_steps,
};
