/* The first layout of the plugin ABI (HDC_PLUGIN_ABI_VERSION 1, before
 * the descriptor carried its structs' sizes and hdc_service its memory):
 * a copy of include/hdc/plugin.h's structs as first published, for a test
 * plugin built as an out-of-tree plugin of that time was. Only the structs
 * a descriptor lists are copied; a plugin including this header must not
 * include hdc/plugin.h. */
#ifndef TEST_PLUGIN_ABI_V1_H
#define TEST_PLUGIN_ABI_V1_H

#include <stddef.h>
#include <stdint.h>

#define HDC_PLUGIN_ABI_VERSION 1
#define HDC_PLUGIN_EXPORT      __attribute__((visibility("default")))
#define HDC_LIST(...)          ((const char *const[]){__VA_ARGS__, NULL})
#define HDC_PLUGIN_HEADER      .abi_version = HDC_PLUGIN_ABI_VERSION, .size = sizeof(hdc_plugin_desc)
#define HDC_COUNT_DATANODES    (-1)

typedef struct hdc_artifact {
    const char *file;
    const char *url;
    const char *sha512;
} hdc_artifact;

typedef struct hdc_image {
    const char *name;
    const char *context;
    const char *const *build_args;
    const hdc_artifact *artifacts;
} hdc_image;

typedef struct hdc_port {
    const char *role;
    int port;
} hdc_port;

typedef struct hdc_volume {
    const char *name;
    const char *path;
} hdc_volume;

enum hdc_service_flags { HDC_SERVICE_CLIENT = 1 << 0 };

typedef struct hdc_service {
    const char *name;
    const char *image;
    const char *hostname;
    const hdc_port *ports;
    const char *const *env;
    const hdc_volume *volumes;
    const char *daemon;
    const char *user;
    const char *ready_port;
    const char *ready;
    int instances;
    unsigned flags;
} hdc_service;

enum hdc_step_kind { HDC_STEP_BOOT = 1, HDC_STEP_WAIT, HDC_STEP_EXEC, HDC_STEP_PROBE };

typedef struct hdc_step {
    const char *name;
    int kind;
    const char *service;
    const char *command;
    const char *user;
    const char *probe;
    const char *const *after;
    unsigned timeout_s;
} hdc_step;

typedef struct hdc_check {
    const char *path;
    int op;
    const char *value;
    const char *count_of;
} hdc_check;

typedef struct hdc_probe {
    const char *name;
    const char *service;
    const char *port_role;
    const char *path;
    const hdc_check *checks;
    void *judge; /* a callback; none in the test */
} hdc_probe;

typedef struct hdc_plugin_desc {
    uint32_t abi_version;
    uint32_t size;
    const char *name;
    const char *description;
    const hdc_image *images;
    const hdc_service *services;
    const hdc_step *steps;
    const hdc_probe *probes;
} hdc_plugin_desc;

extern HDC_PLUGIN_EXPORT const hdc_plugin_desc hdc_plugin;

#endif
