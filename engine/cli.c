/* The hdc command line (CLI.md).
 *
 * Each command is a function from its arguments to an exit status: 0 when
 * the work was done, 1 when it failed (a service did not come up, a command
 * in the cluster failed), 2 for bad usage or bad input. Arguments are
 * checked completely before a command touches Docker, so a refused command
 * has created nothing.
 *
 * Decisions a newcomer might question:
 * - Global flags (--plugin-path, --json) are accepted before or after the
 *   command name: CI scripts write them both ways.
 * - Messages for the user go to stderr as one line "hdc: <what failed>:
 *   <why>: <what to do>"; stdout carries only what was asked for (tables,
 *   or JSON with --json), so it can be piped.
 */
#include "cli.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin.h"

typedef struct cli_opts {
    const char *plugin_path; /* --plugin-path, or NULL */
    int json;                /* --json */
} cli_opts;

typedef struct cli_command {
    const char *name;
    int (*run)(const cli_opts *opts, int argc, char **argv);
    const char *usage;
    const char *summary;
} cli_command;

static void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void cli_error(const char *fmt, ...) {
    va_list ap;

    fputs("hdc: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int cli_plugins(const cli_opts *opts, int argc, char **argv) {
    plugin_path pp;
    plugin_info *list = NULL;
    size_t n = 0;
    int err;
    int status = CLI_OK;

    if (argc > 1) {
        cli_error("plugins: unexpected argument '%s': it takes none", argv[1]);
        return CLI_USAGE;
    }
    err = plugin_path_init(&pp, opts->plugin_path, getenv("HDC_PLUGIN_PATH"));
    if (err == 0)
        err = plugin_list(&pp, &list, &n);
    if (err != 0) {
        cli_error("plugins: cannot search the plugin path: %s", plugin_strerror(err));
        status = CLI_FAILED;
        goto exit;
    }

    if (opts->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, json_pack("{s:s?, s:i, s:s, s:s?}", "name", list[i].name,
                                                 "abi_version", (int)list[i].abi_version,
                                                 "path", list[i].path, "error", list[i].error));
        json_dumpf(arr, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(arr);
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

exit:
    plugin_list_free(list, n);
    plugin_path_free(&pp);
    return status;
}

static int cli_help(const cli_opts *opts, int argc, char **argv);

static const cli_command cli_commands[] = {
    {"plugins", cli_plugins, "hdc plugins [--json]",
     "the distributions found, with ABI version and path"},
    {"help", cli_help, "hdc help [COMMAND]", "this text, or a command's usage"},
    {NULL, NULL, NULL, NULL},
};

static void cli_usage(FILE *f) {
    fprintf(f, "usage: hdc [--plugin-path DIRS] [--json] COMMAND [ARGS]\n\ncommands:\n");
    for (const cli_command *c = cli_commands; c->name != NULL; c++)
        fprintf(f, "  %-40s %s\n", c->usage, c->summary);
    fprintf(f, "\nenvironment: DOCKER_HOST, HDC_PLUGIN_PATH, HDC_DIST_CACHE, "
               "HDC_SUBNET_POOL, NO_COLOR\n");
}

static const cli_command *cli_find(const char *name) {
    for (const cli_command *c = cli_commands; c->name != NULL; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

static int cli_help(const cli_opts *opts, int argc, char **argv) {
    const cli_command *c;

    if (argc < 2) {
        cli_usage(stdout);
        return CLI_OK;
    }
    c = cli_find(argv[1]);
    if (c == NULL) {
        cli_error("help: unknown command '%s'; 'hdc help' lists them", argv[1]);
        return CLI_USAGE;
    }
    printf("usage: %s\n%s\n", c->usage, c->summary);
    return CLI_OK;
}

/* Takes the global flags out of argv wherever they stand, leaving the
 * command and its own arguments in order. Returns the new argc, or -1. */
static int cli_global_flags(int argc, char **argv, cli_opts *opts) {
    int out = 1;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            opts->json = 1;
        } else if (strcmp(argv[i], "--plugin-path") == 0) {
            if (i + 1 >= argc) {
                cli_error("--plugin-path needs a value: a ':'-separated list of directories");
                return -1;
            }
            opts->plugin_path = argv[++i];
        } else if (strncmp(argv[i], "--plugin-path=", 14) == 0) {
            opts->plugin_path = argv[i] + 14;
        } else if (strcmp(argv[i], "--") == 0) {
            while (i < argc)
                argv[out++] = argv[i++];
        } else {
            argv[out++] = argv[i];
        }
    }
    argv[out] = NULL;
    return out;
}

int cli_main(int argc, char **argv) {
    cli_opts opts = {0};
    const cli_command *c;

    argc = cli_global_flags(argc, argv, &opts);
    if (argc < 0)
        return CLI_USAGE;
    if (argc < 2) {
        cli_usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        cli_usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("hdc %s (plugin ABI %d)\n", HDC_VERSION, HDC_PLUGIN_ABI_VERSION);
        return CLI_OK;
    }
    c = cli_find(argv[1]);
    if (c == NULL) {
        cli_error("unknown command '%s'; 'hdc help' lists them", argv[1]);
        return CLI_USAGE;
    }
    for (int i = 2; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: %s\n%s\n", c->usage, c->summary);
            return CLI_OK;
        }
    }
    return c->run(&opts, argc - 1, argv + 1);
}
