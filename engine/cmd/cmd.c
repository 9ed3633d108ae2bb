/* hdc's entry: the global flags, the environment, the table of commands,
 * and the dispatch to a command's parse, then its run (cmd.h).
 *
 * Decisions a newcomer might question:
 * - Global flags (--plugin-path, --json) are accepted before or after the
 *   command name: CI scripts write them both ways. Everything after `--`
 *   is the command's.
 * - A command's -h/--help anywhere before `--` prints its usage and does
 *   nothing else, whatever else the line holds.
 */
#include "cmd.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hdc/plugin.h"
#include "images.h"
#include "logs.h"
#include "util.h"

const cmd *const cmd_table[] = {
    &cmd_build_base,  &cmd_build,  &cmd_up,      &cmd_ls,   &cmd_status, &cmd_logs,    &cmd_exec,
    &cmd_client,      &cmd_fault,  &cmd_down,    &cmd_stop, &cmd_start,  &cmd_restart, &cmd_gc,
    &cmd_export_logs, &cmd_matrix, &cmd_plugins, &cmd_help, NULL,
};


const cmd *cmd_find(const char *name) {
    for (const cmd *const *c = cmd_table; *c != NULL; c++)
        if (strcmp((*c)->name, name) == 0)
            return *c;
    return NULL;
}

const char *cmd_logs_root(const cmd_env *env) {
    return env->logs_dir != NULL && *env->logs_dir != '\0' ? env->logs_dir : "logs";
}

const char *cmd_state_dir(const cmd_env *env) {
    return env->state_dir != NULL && *env->state_dir != '\0' ? env->state_dir : ".hdc";
}

/* Where an install puts hdc's data and hdc-agent, from the installed
 * hdc's bin/ (CMakeLists.txt passes them, from its GNUInstallDirs). */
#ifndef HDC_INSTALL_SHARE_REL
#define HDC_INSTALL_SHARE_REL "../share/hdc"
#endif
#ifndef HDC_INSTALL_LIBEXEC_REL
#define HDC_INSTALL_LIBEXEC_REL "../libexec/hdc"
#endif

/* Whether this hdc is an installed one: its directory is not the build
 * directory it was built in (engine/plugin_host.c decides the same). An
 * installed hdc finds its data, agent and plugins from its own bin/ and
 * never reaches into the build or source tree. */
static int installed(void) {
    static int known, answer;
    char self[4096], self_real[PATH_MAX], build_real[PATH_MAX];

    if (!known) {
        known = 1;
        answer =
            util_self_dir(self, sizeof(self)) == 0 && realpath(self, self_real) != NULL &&
            (realpath(HDC_BUILD_DIR, build_real) == NULL || strcmp(self_real, build_real) != 0);
    }
    return answer;
}

/* rel, from this hdc's directory, into out: resolved when it exists, as
 * joined when it does not (a message then names where it was looked for). */
static void beside_self(const char *rel, char *out, size_t len) {
    char self[4096], joined[8200], real[PATH_MAX];

    if (util_self_dir(self, sizeof(self)) != 0)
        snprintf(self, sizeof(self), ".");
    snprintf(joined, sizeof(joined), "%s/%s", self, rel);
    snprintf(out, len, "%s", realpath(joined, real) != NULL ? real : joined);
}

const char *cmd_share_dir(const cmd_env *env) {
    static char dir[4096];

    if (env->share_dir != NULL && *env->share_dir != '\0')
        return env->share_dir;
    if (dir[0] == '\0') {
        if (installed())
            beside_self(HDC_INSTALL_SHARE_REL, dir, sizeof(dir));
        else
            snprintf(dir, sizeof(dir), "%s", HDC_SOURCE_DIR);
    }
    return dir;
}

const char *cmd_clusters_dir(const cmd_env *env) {
    static char dir[4200];

    if (env->clusters_dir != NULL && *env->clusters_dir != '\0')
        return env->clusters_dir;
    snprintf(dir, sizeof(dir), "%s/clusters", cmd_share_dir(env));
    return dir;
}

const char *const *cmd_client_tests_dirs(const cmd_env *env) {
    static char dir[4200];
    static const char *const dirs[] = {"client_side_tests", dir, NULL};

    snprintf(dir, sizeof(dir), "%s/client_side_tests", cmd_share_dir(env));
    return dirs;
}

void cmd_agent_path(char *out, size_t len) {
    char dir[4096];

    if (util_self_dir(dir, sizeof(dir)) == 0) {
        snprintf(out, len, "%s/hdc-agent", dir);
        if (access(out, X_OK) == 0)
            return;
    }
    if (installed())
        beside_self(HDC_INSTALL_LIBEXEC_REL "/hdc-agent", out, len);
    else
        snprintf(out, len, "%s/hdc-agent", HDC_BUILD_DIR);
}

void cmd_build_progress(void *data, const char *image, const char *line) {
    fprintf(stderr, "%s | %s\n", image, line);
}

void cmd_build_done(void *data, int status, const char *msg) {
    cmd_builds *b = data;

    b->job = NULL;
    runner_hold_signals(b->r, 0);
    if (status != 0)
        runner_fail(b->r, RUNNER_FAILED, "%s", msg);
}

static void builds_interrupted(runner *r, int signum) {
    cmd_builds *b = r->ctx;

    b->interrupted = 1;
    fprintf(stderr, "\nhdc: %s: stopping the build\n", runner_signal_name(signum));
    if (b->job != NULL)
        images_cancel(b->job);
}

void cmd_builds_catch(cmd_builds *b) {
    runner_on_signal(b->r, builds_interrupted, b);
    runner_hold_signals(b->r, 1);
}

void cmd_report_down(runner *r, const char *name, int status, const char *msg, unsigned removed) {
    if (status != 0)
        runner_fail(r, RUNNER_FAILED, "down %s: %s", name != NULL ? name : "--all", msg);
    else if (removed == 0 && name != NULL)
        runner_fail(r, RUNNER_FAILED, "down: no cluster named '%s'; `hdc ls` lists them", name);
    else
        fprintf(stderr, "hdc: %s: removed %u containers, networks and volumes\n",
                name != NULL ? name : "every cluster", removed);
}

int cmd_uint(const char *flag, const char *s, unsigned min, unsigned max, unsigned *out, char *err,
             size_t err_len) {
    char *end;
    unsigned long v;

    if (s == NULL)
        return util_fail(err, err_len, RUNNER_USAGE, "%s needs a value", flag);
    /* Digits only: strtoul would take a sign and leading blanks too. */
    errno = 0;
    v = strtoul(s, &end, 10);
    if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v < min || v > max)
        return util_fail(err, err_len, RUNNER_USAGE, "%s '%s': give a whole number from %u to %u",
                         flag, s, min, max);
    *out = (unsigned)v;
    return 0;
}

int cmd_duration(const char *flag, const char *s, uint64_t min_s, uint64_t max_s, uint64_t *out,
                 char *err, size_t err_len) {
    static const struct {
        char unit;
        uint64_t seconds;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
    uint64_t v = 0, scale = 0;
    const char *p = s;

    if (s == NULL)
        return util_fail(err, err_len, RUNNER_USAGE, "%s needs a value", flag);
    for (; *p >= '0' && *p <= '9' && v <= max_s; p++)
        v = 10 * v + (uint64_t)(*p - '0');
    if (p != s && p[0] != '\0' && p[1] == '\0')
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
            if (units[i].unit == *p)
                scale = units[i].seconds;
    if (p != s && *p == '\0')
        scale = 1;
    if (scale == 0 || v > max_s / scale || v * scale < min_s)
        return util_fail(err, err_len, RUNNER_USAGE,
                         "%s '%s': give a duration from %llus to %llud, such as 90s, 30m, 2h or "
                         "7d",
                         flag, s, (unsigned long long)min_s, (unsigned long long)(max_s / 86400));
    *out = v * scale;
    return 0;
}

int cmd_boot_timeout(const cmd_env *env, unsigned timeout_s, unsigned *out, char *err,
                     size_t err_len) {
    uint64_t s;
    int rc;

    if (env->boot_timeout != NULL && env->boot_timeout[0] != '\0') {
        rc = cmd_duration("HDC_BOOT_TIMEOUT", env->boot_timeout, 1, 7 * 86400, &s, err, err_len);
        *out = (unsigned)s;
        return rc;
    }
    *out = CMD_BOOT_TIMEOUT_S;
    if (timeout_s > 0 && timeout_s + 60 > *out)
        *out = timeout_s + 60;
    return 0;
}

int cmd_check_dirs(const cmd_env *env, char *err, size_t err_len) {
    unsigned keep;

    if (logs_keep_parse(getenv("HDC_LOGS_KEEP"), &keep, err, err_len) != 0)
        return RUNNER_USAGE;
    const struct {
        const char *dir, *var, *what;
    } dirs[] = {
        {cmd_logs_root(env), "HDC_LOGS_DIR", "the clusters' logs"},
        {cmd_state_dir(env), "HDC_STATE_DIR", "the clients' keys"},
    };

    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        int rc = util_writable_dir(dirs[i].dir);
        if (rc != 0)
            return util_fail(err, err_len, RUNNER_USAGE,
                             "cannot write %s to '%s': %s: make it a writable directory or set "
                             "%s to one",
                             dirs[i].what, dirs[i].dir, hdc_strerror(rc), dirs[i].var);
    }
    return 0;
}

int cmd_no_args_parse(const char *name, int argc, char **argv, char *err, size_t err_len) {
    if (argc > 1)
        return util_fail(err, err_len, RUNNER_USAGE, "%s: unexpected argument '%s': it takes none",
                         name, argv[1]);
    return 0;
}

void cmd_usage(FILE *f) {
    fprintf(f, "usage: hdc [--plugin-path DIRS] [--json] COMMAND [ARGS]\n\ncommands:\n");
    for (const cmd *const *c = cmd_table; *c != NULL; c++)
        fprintf(f, "  %s\n      %s\n", (*c)->usage, (*c)->summary);
    fprintf(f, "\nenvironment (docs/cli.md says what each does): DOCKER_HOST, "
               "HDC_DOCKER_TIMEOUT,\n  HDC_PLUGIN_PATH, HDC_DIST_CACHE, HDC_SUBNET_POOL, "
               "HDC_LOGS_DIR, HDC_LOGS_KEEP,\n  HDC_STATE_DIR, HDC_TEST_USER, HDC_BOOT_TIMEOUT, "
               "HDC_CLUSTERS_DIR, HDC_SHARE_DIR,\n  NO_COLOR\n");
}

/* Takes the global flags out of argv wherever they stand, leaving the
 * command and its own arguments in order. Returns the new argc, or -1. */
static int global_flags(int argc, char **argv, cmd_ctx *ctx) {
    int out = 1;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            ctx->json = 1;
        } else if (strcmp(argv[i], "--plugin-path") == 0) {
            if (i + 1 >= argc) {
                runner_error("--plugin-path needs a value: a ':'-separated list of directories");
                return -1;
            }
            ctx->plugin_path = argv[++i];
        } else if (strncmp(argv[i], "--plugin-path=", 14) == 0) {
            ctx->plugin_path = argv[i] + 14;
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

static void read_env(cmd_env *env) {
    env->docker_host = getenv("DOCKER_HOST");
    env->plugin_path = getenv("HDC_PLUGIN_PATH");
    env->logs_dir = getenv("HDC_LOGS_DIR");
    env->state_dir = getenv("HDC_STATE_DIR");
    env->test_user = getenv("HDC_TEST_USER");
    env->subnet_pool = getenv("HDC_SUBNET_POOL");
    env->dist_cache = getenv("HDC_DIST_CACHE");
    env->clusters_dir = getenv("HDC_CLUSTERS_DIR");
    env->share_dir = getenv("HDC_SHARE_DIR");
    env->boot_timeout = getenv("HDC_BOOT_TIMEOUT");
    env->no_color = getenv("NO_COLOR") != NULL;
}

/* Parses and runs c with argv (argv[0] its name). */
static int dispatch(const cmd_ctx *ctx, const cmd *c, int argc, char **argv) {
    char err[2048];
    void *opts = calloc(1, c->opts_size > 0 ? c->opts_size : 1);
    int status;

    if (opts == NULL) {
        runner_error("out of memory");
        return RUNNER_FAILED;
    }
    err[0] = '\0';
    status = c->parse(ctx, argc, argv, opts, err, sizeof(err));
    if (status != 0) {
        if (err[0] != '\0')
            runner_error("%s", err);
    } else {
        status = c->run(ctx, opts);
    }
    if (c->free != NULL)
        c->free(opts);
    free(opts);
    return status;
}

int cmd_main(int argc, char **argv) {
    cmd_ctx ctx = {0};
    const cmd *c;
    read_env(&ctx.env);
    argc = global_flags(argc, argv, &ctx);
    if (argc < 0)
        return RUNNER_USAGE;
    if (argc < 2) {
        cmd_usage(stderr);
        return RUNNER_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        cmd_usage(stdout);
        return RUNNER_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("hdc %s (plugin ABI %d)\n", HDC_VERSION, HDC_PLUGIN_ABI_VERSION);
        return RUNNER_OK;
    }
    c = cmd_find(argv[1]);
    if (c == NULL) {
        runner_error("unknown command '%s'; 'hdc help' lists them", argv[1]);
        return RUNNER_USAGE;
    }
    for (int i = 2; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: %s\n%s\n", c->usage, c->summary);
            return RUNNER_OK;
        }
    }
    return dispatch(&ctx, c, argc - 1, argv + 1);
}
