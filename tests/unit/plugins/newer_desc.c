/* A descriptor bigger than this hdc's, as a newer header's (fields
 * appended) would be: the size says so, and hdc reads no further. */
#include "minimal.h"

HDC_PLUGIN_EXPORT const hdc_plugin_desc hdc_plugin = {
    .abi_version = HDC_PLUGIN_ABI_VERSION,
    .size = sizeof(hdc_plugin_desc) + 8,
    .name = "newer_desc",
    .services = minimal_services,
    .steps = minimal_steps,
};
