/* A probe on a port role its service does not declare. */
#include "minimal.h"

static const hdc_probe probes[] = {
    {.name = "nn-live", .service = "namenode", .port_role = "http", .path = "/jmx"},
    {0},
};

HDC_PLUGIN_EXPORT const hdc_plugin_desc hdc_plugin = {
    HDC_PLUGIN_HEADER,      .name = "bad_port_role", .services = minimal_services,
    .steps = minimal_steps, .probes = probes,
};
