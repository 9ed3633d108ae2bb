/* The commands of hdc (docs/cli.md): one file each in engine/cmd/, each
 * exporting a `cmd` {name, parse, run, usage}. parse is pure: it turns the
 * arguments into the command's options or refuses them with a message,
 * touching nothing, so tests/unit/cmd/ checks every command's parse in C;
 * run does the work on a runner (engine/runner.h) and returns the exit
 * status. cmd.c reads the global flags and the environment once and
 * dispatches.
 */
#ifndef HDC_CMD_H
#define HDC_CMD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "runner.h"

/* What hdc reads of its environment, taken once, so that parsing is a
 * function of its arguments. */
typedef struct cmd_env {
    const char *docker_host;  /* DOCKER_HOST */
    const char *plugin_path;  /* HDC_PLUGIN_PATH */
    const char *logs_dir;     /* HDC_LOGS_DIR: NULL or "": "logs" */
    const char *state_dir;    /* HDC_STATE_DIR: NULL or "": ".hdc" */
    const char *test_user;    /* HDC_TEST_USER */
    const char *subnet_pool;  /* HDC_SUBNET_POOL */
    const char *dist_cache;   /* HDC_DIST_CACHE */
    const char *clusters_dir; /* HDC_CLUSTERS_DIR: the build contexts */
    const char *share_dir;    /* HDC_SHARE_DIR: hdc's data (cmd_share_dir) */
    const char *boot_timeout; /* HDC_BOOT_TIMEOUT: the agents' wait for `boot` */
    int no_color;             /* NO_COLOR is set */
} cmd_env;

/* What every command is given. */
typedef struct cmd_ctx {
    const char *plugin_path; /* --plugin-path, or NULL */
    int json;                /* --json */
    cmd_env env;
} cmd_ctx;

typedef struct cmd {
    const char *name;
    const char *usage;
    const char *summary;
    size_t opts_size; /* of the command's options, which parse fills */
    /* argv[0] is the command's name. 0, or RUNNER_USAGE with what is
     * wrong in err (the line the user sees after "hdc: "). */
    int (*parse)(const cmd_ctx *ctx, int argc, char **argv, void *opts, char *err, size_t err_len);
    /* The exit status. */
    int (*run)(const cmd_ctx *ctx, void *opts);
    /* Optional: what parse allocated. */
    void (*free)(void *opts);
} cmd;

/* `hdc ARGS...`: the exit status. */
int cmd_main(int argc, char **argv);

/* The commands, in the order `hdc help` lists them; NULL-terminated. */
extern const cmd *const cmd_table[];
const cmd *cmd_find(const char *name);

/* hdc's usage: every command's usage line and summary. */
void cmd_usage(FILE *f);

/* The directory of logs (HDC_LOGS_DIR, else "logs") and of keys and state
 * (HDC_STATE_DIR, else ".hdc"). */
const char *cmd_logs_root(const cmd_env *env);
const char *cmd_state_dir(const cmd_env *env);

/* The root of hdc's data (clusters/, client_side_tests/): HDC_SHARE_DIR,
 * else, for an installed hdc (one whose directory is not its build
 * directory), PREFIX/share/hdc found from its bin/; else the source tree
 * (an hdc run from its build tree). Static storage: the first call decides. */
const char *cmd_share_dir(const cmd_env *env);

/* The build contexts: HDC_CLUSTERS_DIR, else cmd_share_dir's clusters/. */
const char *cmd_clusters_dir(const cmd_env *env);

/* Where a client node's client_side_tests/<dist>/initialize.sh is looked
 * for, in order (client_opts.init_dirs): the current directory's
 * client_side_tests, then cmd_share_dir's. NULL-terminated, static. */
const char *const *cmd_client_tests_dirs(const cmd_env *env);

/* hdc-agent, for the base images: next to this hdc when it is there,
 * else PREFIX/libexec/hdc/hdc-agent for an installed hdc, else in the
 * build directory. */
void cmd_agent_path(char *out, size_t len);

/* A run of image builds (build, build-base): a signal cancels the job in
 * flight (cmd_builds_catch), and its end is reported. */
struct images_job;
typedef struct cmd_builds {
    runner *r;
    struct images_job *job; /* the builds in flight, or NULL */
    int interrupted;
} cmd_builds;
void cmd_builds_catch(cmd_builds *b);

/* What build and build-base print of a build: each line of its output on
 * stderr, "IMAGE | LINE"; and its end (data: the cmd_builds, whose job it
 * ends). */
void cmd_build_progress(void *data, const char *image, const char *line);
void cmd_build_done(void *data, int status, const char *msg);

/* What down and gc say of the removal of cluster name (NULL: every one). */
void cmd_report_down(runner *r, const char *name, int status, const char *msg, unsigned removed);

/* A decimal in [min, max] for flag, digits only, written to *out: 0, or
 * RUNNER_USAGE with "FLAG 'S': give a whole number from MIN to MAX" (or
 * "FLAG needs a value" for s NULL) in err. Every number flag of every
 * command goes through it. */
int cmd_uint(const char *flag, const char *s, unsigned min, unsigned max, unsigned *out, char *err,
             size_t err_len);

/* How long the agents of a new cluster wait for `boot` (docs/design.md,
 * hdc-agent) when HDC_BOOT_TIMEOUT does not say: long enough for a slow
 * host's up, short enough that an abandoned cluster stops costing. A
 * longer --timeout lengthens it. */
#define CMD_BOOT_TIMEOUT_S 600u

/* The agents' wait for `boot` of an up bounded by timeout_s (0: none):
 * HDC_BOOT_TIMEOUT, else the default or timeout_s and a minute, whichever
 * is longer. 0, or RUNNER_USAGE with the reason in err. */
int cmd_boot_timeout(const cmd_env *env, unsigned timeout_s, unsigned *out, char *err,
                     size_t err_len);

/* Before Docker is touched: the logs and state directories are, or can
 * be made, writable directories (nothing is made), and HDC_LOGS_KEEP is a
 * number. 0, or RUNNER_USAGE with what to do in err. */
int cmd_check_dirs(const cmd_env *env, char *err, size_t err_len);

/* A duration for flag: digits with an optional unit (s, m, h, d; none:
 * seconds), in [min_s, max_s] seconds, written to *out in seconds: 0, or
 * RUNNER_USAGE with the reason in err. */
int cmd_duration(const char *flag, const char *s, uint64_t min_s, uint64_t max_s, uint64_t *out,
                 char *err, size_t err_len);

/* ---- each command's options -------------------------------------------- */

typedef struct cmd_build_base_opts {
    const char *base_image, *zk_base_image;
    int nocache;
    int stand_in; /* --stand-in: a base for the test stand-in, tagged apart */
} cmd_build_base_opts;
int cmd_build_base_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_build_base_opts *o,
                         char *err, size_t err_len);

typedef struct cmd_build_opts {
    const char *dist;
    const char *dist_cache, *hadoop_tarball;
    int nocache;
} cmd_build_opts;
int cmd_build_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_build_opts *o, char *err,
                    size_t err_len);

typedef struct cmd_up_target {
    const char *dist;
    char name[33];
} cmd_up_target;
/* --memory MB (up, matrix): at most 64 TiB. */
#define CMD_MAX_MEMORY_MB (64u * 1024 * 1024)
typedef struct cmd_up_opts {
    cmd_up_target *targets; /* malloc'd */
    size_t n_targets, cap;
    unsigned datanodes, timeout_s;
    uint64_t ttl_s;          /* --ttl; 0: none */
    unsigned boot_timeout_s; /* HDC_BOOT_TIMEOUT, else CMD_BOOT_TIMEOUT_S or --timeout's */
    const char *test_user;
    int publish_classic, yes, follow, rm_on_failure;
    unsigned memory_mb; /* --memory: each cluster's budget, MB; 0: the declared limits */
} cmd_up_opts;
int cmd_up_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_up_opts *o, char *err,
                 size_t err_len);

typedef struct cmd_status_opts {
    const char *name;
} cmd_status_opts;
int cmd_status_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_status_opts *o, char *err,
                     size_t err_len);

typedef struct cmd_logs_opts {
    const char **names; /* the clusters (malloc'd) */
    size_t n_names;
    const char **services; /* services or hosts to show; none: all (malloc'd) */
    size_t n_services;
    int follow;
    int retry; /* --retry: -f waits for an engine that went away */
    const char *write_to, *write_root;
} cmd_logs_opts;
int cmd_logs_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_logs_opts *o, char *err,
                   size_t err_len);

typedef struct cmd_exec_opts {
    const char *name, *service;
    const char *user; /* --user, or NULL: the node's own user */
    char **cmd;       /* borrowed from argv */
    size_t n_cmd;
} cmd_exec_opts;
int cmd_exec_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_exec_opts *o, char *err,
                   size_t err_len);

typedef struct cmd_client_opts {
    const char *name;
    uint16_t port;
    const char *client_dist, *test_user;
} cmd_client_opts;
int cmd_client_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_client_opts *o, char *err,
                     size_t err_len);

typedef struct cmd_down_opts {
    const char **names; /* malloc'd */
    size_t n_names;
    int all;
} cmd_down_opts;
int cmd_down_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_down_opts *o, char *err,
                   size_t err_len);

/* `hdc start NAME...`, `hdc stop NAME...` */
typedef struct cmd_start_opts {
    const char **names; /* malloc'd */
    size_t n_names;
} cmd_start_opts;
int cmd_start_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_start_opts *o, char *err,
                    size_t err_len);
/* The starts of start.c, for restart.c too: names' clusters started
 * (restart: only's nodes or services, all when n_only is 0, stopped
 * first). The exit status. */
int cmd_start_run(const cmd_ctx *ctx, const char *const *names, size_t n_names,
                  const char *const *only, size_t n_only, int restart);

/* `hdc restart NAME [NODE|SERVICE...]` */
typedef struct cmd_restart_opts {
    const char *name;
    const char **only; /* malloc'd */
    size_t n_only;
} cmd_restart_opts;
int cmd_restart_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_restart_opts *o, char *err,
                      size_t err_len);

typedef struct cmd_export_logs_opts {
    const char *name, *dir;
} cmd_export_logs_opts;
int cmd_export_logs_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_export_logs_opts *o,
                          char *err, size_t err_len);

typedef struct cmd_matrix_opts {
    const char **dists; /* malloc'd */
    size_t n_dists, cap_dists;
    unsigned parallel; /* clusters alive at once; 0: all */
    const char *junit; /* --junit FILE, or NULL */
    int keep, keep_failed, bundle_all;
    unsigned timeout_s; /* of each up; 0: the steps' deadlines only */
    unsigned datanodes;
    unsigned memory_mb;      /* --memory, as up's */
    unsigned boot_timeout_s; /* as up's */
    uint64_t ttl_s;          /* --ttl: each cluster's time-to-live; 0: none */
    const char *test_user;   /* --test-user, or NULL: $HDC_TEST_USER, "hdc" */
    char *const *cmd;        /* after `--`, borrowed from argv */
    size_t n_cmd;
} cmd_matrix_opts;
/* `matrix DIST... [flags] -- CMD [ARG...]`: flags may stand between the
 * DISTs; everything after the first `--` is the command. */
int cmd_matrix_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_matrix_opts *o, char *err,
                     size_t err_len);

enum cmd_help_output { CMD_HELP_USAGE, CMD_HELP_MAN, CMD_HELP_BASH };
typedef struct cmd_help_opts {
    const char *topic; /* a command's name, or NULL */
    int output;        /* enum cmd_help_output: --man, --completion bash */
} cmd_help_opts;
int cmd_help_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_help_opts *o, char *err,
                   size_t err_len);
/* hdc(1) in roff, and the bash completion script, from cmd_table. */
void cmd_help_man(FILE *f);
void cmd_help_bash(FILE *f);

typedef struct cmd_gc_opts {
    int stopped;           /* --stopped: stopped clusters too */
    uint64_t older_than_s; /* --older-than: stopped and failed ones, after that long */
    int images;            /* --images: then the images no cluster uses (images_gc_pick) */
} cmd_gc_opts;
int cmd_gc_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_gc_opts *o, char *err,
                 size_t err_len);
/* Whether gc removes the cluster, at now (Unix seconds). */
struct cluster_info;
int cmd_gc_takes(const struct cluster_info *ci, const cmd_gc_opts *o, int64_t now);

enum cmd_fault_action {
    CMD_FAULT_KILL,
    CMD_FAULT_STOP,
    CMD_FAULT_PAUSE,
    CMD_FAULT_UNPAUSE,
    CMD_FAULT_DISCONNECT,
    CMD_FAULT_RECONNECT,
};
typedef struct cmd_fault_opts {
    const char *name, *target; /* the cluster; a node's hostname or a service */
    int action;                /* enum cmd_fault_action */
    uint64_t for_s;            /* --for: undone after that long; 0: left in place */
} cmd_fault_opts;
int cmd_fault_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_fault_opts *o, char *err,
                    size_t err_len);
/* "kill", "disconnect", ... */
const char *cmd_fault_action_name(enum cmd_fault_action a);

/* ls and plugins take no arguments. */
int cmd_no_args_parse(const char *name, int argc, char **argv, char *err, size_t err_len);

extern const cmd cmd_build_base, cmd_build, cmd_up, cmd_ls, cmd_status, cmd_logs, cmd_exec,
    cmd_client, cmd_down, cmd_stop, cmd_start, cmd_restart, cmd_gc, cmd_export_logs, cmd_matrix,
    cmd_plugins, cmd_help;
extern const cmd cmd_fault;

#endif
