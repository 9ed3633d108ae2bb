/* The smallest valid descriptor parts, shared by the bad test plugins: each
 * of them breaks one thing. */
#ifndef TEST_PLUGIN_MINIMAL_H
#define TEST_PLUGIN_MINIMAL_H

#include "hdc/plugin.h"

static const hdc_service minimal_services[] = {
    {.name = "namenode",
     .image = "hdc/test:1",
     .ports = (const hdc_port[]){{"http-ui", 9870}, {0}},
     .daemon = "exec sleep 1d"},
    {0},
};

static const hdc_step minimal_steps[] = {
    {.name = "boot-nn", .kind = HDC_STEP_BOOT, .service = "namenode", .timeout_s = 5},
    {0},
};

#endif
