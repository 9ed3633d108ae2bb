/* Two services with the same name. */
#include "minimal.h"

static const hdc_service services[] = {
    {.name = "namenode", .image = "hdc/test:1"},
    {.name = "datanode", .image = "hdc/test:1"},
    {.name = "namenode", .image = "hdc/test:1"},
    {0},
};

HDC_PLUGIN_EXPORT const hdc_plugin_desc hdc_plugin = {
    HDC_PLUGIN_HEADER,
    .name = "dup_service",
    .services = services,
    .steps = minimal_steps,
};
