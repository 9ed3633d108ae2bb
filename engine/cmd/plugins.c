/* `hdc plugins`: every distribution plugin on the search path, with its ABI
 * version and file, and the files refused with the reason. */
#include <jansson.h>
#include <stdio.h>

#include "cmd.h"
#include "plugin_host.h"

static int parse(const cmd_ctx *ctx, int argc, char **argv, void *opts, char *err, size_t err_len) {
    return cmd_no_args_parse("plugins", argc, argv, err, err_len);
}

static void print_json(const plugin_info *list, size_t n) {
    json_t *arr = json_array();

    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:s?, s:i, s:s, s:s?}", "name", list[i].name,
                                             "abi_version", (int)list[i].abi_version, "path",
                                             list[i].path, "error", list[i].error));
    json_dumpf(arr, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
    json_decref(arr);
}

static int run(const cmd_ctx *ctx, void *opts) {
    plugin_path pp;
    plugin_info *list = NULL;
    size_t n = 0;
    int err, status = RUNNER_OK;

    err = plugin_path_init(&pp, ctx->plugin_path, ctx->env.plugin_path);
    if (err == 0)
        err = plugin_list(&pp, &list, &n);
    if (err != 0) {
        runner_error("plugins: cannot search the plugin path: %s", hdc_strerror(err));
        status = RUNNER_FAILED;
    } else if (ctx->json) {
        print_json(list, n);
    } else if (n == 0) {
        fprintf(stderr, "hdc: no plugins found; searched:");
        for (size_t i = 0; i < pp.n; i++)
            fprintf(stderr, " %s", pp.dirs[i]);
        fprintf(stderr, "\n     build them (cmake --build build) or set HDC_PLUGIN_PATH\n");
    } else {
        printf("%-16s %-4s %s\n", "DISTRIBUTION", "ABI", "PATH");
        for (size_t i = 0; i < n; i++) {
            if (list[i].error != NULL)
                printf("%-16s %-4s %s (refused: %s)\n", "-", "-", list[i].path, list[i].error);
            else
                printf("%-16s %-4u %s\n", list[i].name, list[i].abi_version, list[i].path);
        }
    }
    plugin_list_free(list, n);
    plugin_path_free(&pp);
    return status;
}

const cmd cmd_plugins = {
    .name = "plugins",
    .usage = "hdc plugins [--json]",
    .summary = "the distributions found, with ABI version and path",
    .parse = parse,
    .run = run,
};
