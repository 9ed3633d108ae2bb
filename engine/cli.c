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

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "client.h"
#include "cluster.h"
#include "cluster_query.h"
#include "cluster_spec.h"
#include "docker.h"
#include "images.h"
#include "logs.h"
#include "matrix.h"
#include "plan.h"
#include "plugin.h"
#include "probe.h"

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
        cli_error("plugins: cannot search the plugin path: %s", hdc_strerror(err));
        status = CLI_FAILED;
        goto exit;
    }

    if (opts->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, json_pack("{s:s?, s:i, s:s, s:s?}", "name", list[i].name,
                                                 "abi_version", (int)list[i].abi_version, "path",
                                                 list[i].path, "error", list[i].error));
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


/* ---- shared by the commands that talk to Docker ----------------------------- */

/* A command's loop and Docker client. */
typedef struct cli_run {
    uv_loop_t loop;
    docker *d;
    uv_signal_t sigint;
    int sigint_open;
    void (*on_sigint)(struct cli_run *run);
    void *ctx;
    int status; /* the exit status */
} cli_run;

static void cli_on_sigint(uv_signal_t *h, int signum) {
    cli_run *run = h->data;

    if (run->on_sigint != NULL) {
        run->on_sigint(run);
        return;
    }
    /* A command with nothing to stop cleanly ends as an interrupted
     * program does. */
    uv_signal_stop(h);
    signal(SIGINT, SIG_DFL);
    raise(SIGINT);
}

static int cli_run_init(cli_run *run) {
    int err;

    memset(run, 0, sizeof(*run));
    uv_loop_init(&run->loop);
    err = docker_new(&run->loop, NULL, &run->d);
    if (err != 0) {
        cli_error("DOCKER_HOST '%s' is not unix:// or tcp://: fix it or unset it",
                  getenv("DOCKER_HOST") != NULL ? getenv("DOCKER_HOST") : "");
        uv_loop_close(&run->loop);
        return CLI_USAGE;
    }
    uv_signal_init(&run->loop, &run->sigint);
    run->sigint.data = run;
    run->sigint_open = 1;
    uv_signal_start(&run->sigint, cli_on_sigint, SIGINT);
    uv_unref((uv_handle_t *)&run->sigint);
    return 0;
}

static void cli_close_walk(uv_handle_t *h, void *arg) {
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* Runs the loop until the command's work is done, then closes everything. */
static int cli_run_finish(cli_run *run) {
    uv_run(&run->loop, UV_RUN_DEFAULT);
    docker_close(run->d, NULL, NULL);
    if (run->sigint_open)
        uv_close((uv_handle_t *)&run->sigint, NULL);
    uv_run(&run->loop, UV_RUN_DEFAULT);
    uv_walk(&run->loop, cli_close_walk, NULL);
    uv_run(&run->loop, UV_RUN_DEFAULT);
    uv_loop_close(&run->loop);
    return run->status;
}

/* Parses a decimal in [min, max] for flag; exits 2 on anything else. */
static int cli_uint(const char *flag, const char *s, unsigned min, unsigned max, unsigned *out) {
    char *end;
    unsigned long v;

    if (s == NULL) {
        cli_error("%s needs a value", flag);
        return -1;
    }
    v = strtoul(s, &end, 10);
    if (*s == '\0' || *end != '\0' || s[0] == '-' || v < min || v > max) {
        cli_error("%s '%s': give a whole number from %u to %u", flag, s, min, max);
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}

/* Whether a container of that state may be in use: anything but exited
 * or dead (created is an `hdc up` at work, restarting is Docker's). */
static int cli_container_active(const char *state) {
    return strcmp(state, "exited") != 0 && strcmp(state, "dead") != 0;
}

static int cli_is_tty(FILE *f) {
    return isatty(fileno(f));
}

static const char *cli_clusters_dir(void) {
    const char *env = getenv("HDC_CLUSTERS_DIR");
    return env != NULL && *env != '\0' ? env : HDC_SOURCE_DIR "/clusters";
}

/* hdc-agent: next to this hdc, else in the build directory. */
static void cli_agent_path(char *out, size_t len) {
    char self[2048];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

    if (n > 0) {
        char *slash;
        self[n] = '\0';
        slash = strrchr(self, '/');
        if (slash != NULL) {
            *slash = '\0';
            snprintf(out, len, "%s/hdc-agent", self);
            if (access(out, X_OK) == 0)
                return;
        }
    }
    snprintf(out, len, "%s/hdc-agent", HDC_BUILD_DIR);
}

/* After "no plugin X": the names that are there. */
static void cli_list_known(const cli_opts *opts) {
    plugin_path pp;
    char names[2048];

    if (plugin_path_init(&pp, opts->plugin_path, getenv("HDC_PLUGIN_PATH")) != 0)
        return;
    plugin_known_names(&pp, names, sizeof(names));
    fprintf(stderr, "     known distributions: %s\n",
            names[0] != '\0' ? names : "none (build them: cmake --build build)");
    plugin_path_free(&pp);
}

static int cli_load(const cli_opts *opts, const char *dist, plugin **out) {
    plugin_path pp;
    char err[1024];
    int rc = plugin_path_init(&pp, opts->plugin_path, getenv("HDC_PLUGIN_PATH"));

    if (rc == 0)
        rc = plugin_find(&pp, dist, out, err, sizeof(err));
    else
        snprintf(err, sizeof(err), "%s", hdc_strerror(rc));
    plugin_path_free(&pp);
    if (rc != 0) {
        cli_error("%s", err);
        if (rc == PLUGIN_ENOTFOUND)
            cli_list_known(opts);
    }
    return rc;
}

/* ---- build-base, build ------------------------------------------------------ */

static void cli_build_progress(void *data, const char *image, const char *line) {
    fprintf(stderr, "%s | %s\n", image, line);
}

static void cli_build_done(void *data, int status, const char *msg) {
    cli_run *run = data;

    if (status != 0) {
        cli_error("%s", msg);
        run->status = CLI_FAILED;
    }
}

static int cli_build_base(const cli_opts *opts, int argc, char **argv) {
    char agent[4096];
    images_opts io = {.clusters_dir = cli_clusters_dir(), .agent_path = agent};
    cli_run run;
    int err;

    cli_agent_path(agent, sizeof(agent));
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--base-image") == 0 && i + 1 < argc) {
            io.base_image = argv[++i];
        } else if (strcmp(argv[i], "--zk-base-image") == 0 && i + 1 < argc) {
            io.zk_base_image = argv[++i];
        } else if (strcmp(argv[i], "--no-cache") == 0) {
            io.nocache = 1;
        } else {
            cli_error("build-base: unexpected argument '%s'", argv[i]);
            return CLI_USAGE;
        }
    }
    if (access(agent, X_OK) != 0) {
        cli_error("build-base: %s is missing: build it (cmake --build build)", agent);
        return CLI_USAGE;
    }
    if ((err = cli_run_init(&run)) != 0)
        return err;
    err = images_build_base(&run.loop, run.d, &io, cli_build_progress, cli_build_done, &run);
    if (err != 0) {
        cli_error("build-base: %s", hdc_strerror(err));
        run.status = CLI_FAILED;
    }
    return cli_run_finish(&run);
}

typedef struct build_ctx {
    cli_run *run;
    const hdc_plugin_desc *desc;
    images_opts *io;
    char agent[4096];
} build_ctx;

static void build_dist_now(build_ctx *bc) {
    int err = images_build_dist(&bc->run->loop, bc->run->d, bc->desc, bc->io, cli_build_progress,
                                cli_build_done, bc->run);

    if (err != 0) {
        cli_error("build %s: %s", bc->desc->name, hdc_strerror(err));
        bc->run->status = CLI_FAILED;
    }
}

static void build_base_done(void *data, int status, const char *msg) {
    build_ctx *bc = data;

    if (status != 0) {
        cli_error("build-base (needed first): %s", msg);
        bc->run->status = CLI_FAILED;
        return;
    }
    build_dist_now(bc);
}

static void build_base_checked(void *data, int status, const char *msg,
                               const docker_image_info *info) {
    build_ctx *bc = data;
    images_opts base = *bc->io;
    int err;

    if (status != DOCKER_ENOTFOUND) {
        if (status != 0) {
            cli_error("build %s: %s", bc->desc->name, msg);
            bc->run->status = CLI_FAILED;
            return;
        }
        build_dist_now(bc);
        return;
    }
    fprintf(stderr,
            "hdc: %s is missing: building the base images first (hdc build-base; "
            "its default JDK layer)\n",
            CLUSTER_BASE_IMAGE);
    base.agent_path = bc->agent;
    err = images_build_base(&bc->run->loop, bc->run->d, &base, cli_build_progress, build_base_done,
                            bc);
    if (err != 0) {
        cli_error("build-base: %s is missing: build it (cmake --build build)", bc->agent);
        bc->run->status = CLI_FAILED;
    }
}

static int cli_build(const cli_opts *opts, int argc, char **argv) {
    images_opts io = {.clusters_dir = cli_clusters_dir(), .dist_cache = getenv("HDC_DIST_CACHE")};
    const char *dist = NULL;
    plugin *p = NULL;
    char err_msg[2048];
    cli_run run;
    int err;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dist-cache") == 0 && i + 1 < argc) {
            io.dist_cache = argv[++i];
        } else if (strcmp(argv[i], "--hadoop-tarball") == 0 && i + 1 < argc) {
            io.hadoop_tarball = argv[++i];
        } else if (strcmp(argv[i], "--no-cache") == 0) {
            io.nocache = 1;
        } else if (argv[i][0] != '-' && dist == NULL) {
            dist = argv[i];
        } else {
            cli_error("build: unexpected argument '%s'", argv[i]);
            return CLI_USAGE;
        }
    }
    if (dist == NULL) {
        cli_error("build: which distribution? 'hdc plugins' lists them");
        return CLI_USAGE;
    }
    if (cli_load(opts, dist, &p) != 0)
        return CLI_USAGE;
    if (images_check(p->desc, &io, err_msg, sizeof(err_msg)) != 0) {
        cli_error("build %s: %s", dist, err_msg);
        plugin_unload(p);
        return CLI_USAGE;
    }
    if (p->desc->images == NULL || p->desc->images[0].name == NULL) {
        fprintf(stderr, "hdc: build %s: it declares no images: nothing to build\n", dist);
        plugin_unload(p);
        return CLI_OK;
    }
    if ((err = cli_run_init(&run)) != 0) {
        plugin_unload(p);
        return err;
    }
    {
        build_ctx bc = {.run = &run, .desc = p->desc, .io = &io};
        cli_agent_path(bc.agent, sizeof(bc.agent));
        /* The base first, if it is not there: every image starts from it. */
        err = docker_image_inspect(run.d, CLUSTER_BASE_IMAGE, build_base_checked, &bc, NULL);
        if (err != 0) {
            cli_error("build %s: %s", dist, hdc_strerror(err));
            run.status = CLI_FAILED;
        }
        err = cli_run_finish(&run);
    }
    plugin_unload(p);
    return err;
}

/* ---- up ------------------------------------------------------------------- */

typedef struct up_target {
    struct up_all *all;
    const char *dist;
    char name[PLAN_MAX_NAME + 1];
    plugin *plug;
    plan plan; /* made once, when the target is checked; handed to cluster_up */
    plan_pool pool;
    cluster *c;
    char logs_dir[4096];
    int done, ok;
    int listed;       /* its name was looked up */
    size_t leftovers; /* containers of a stopped cluster of its name */
    int printed;      /* its endpoints were printed */
    json_t *report;   /* for --json */
    /* The live view: one row per node. */
    size_t n_rows;
    size_t first_row;
} up_target;

typedef struct up_all {
    cli_run *run;
    up_target targets[16];
    size_t n;
    unsigned datanodes, timeout_s;
    int publish_classic, yes, follow, rm_on_failure;
    const char *test_user;
    const char *logs_root;
    int json;
    int tty, color;
    int interrupted; /* SIGINT: start nothing more */
    size_t rows_drawn;
    /* The live table's rows. */
    struct {
        up_target *t;
        char host[64];
        char state[16];
        uint64_t ms;
    } rows[512];
    size_t n_rows;
} up_all;

static const char *cli_state_color(const char *state, int color) {
    if (!color)
        return "";
    if (strcmp(state, "up") == 0)
        return "\033[32m";
    if (strcmp(state, "failed") == 0)
        return "\033[31m";
    return "\033[33m";
}

static void up_draw(up_all *all) {
    if (all->rows_drawn > 0)
        fprintf(stderr, "\033[%zuA", all->rows_drawn);
    for (size_t i = 0; i < all->n_rows; i++)
        fprintf(stderr, "\r\033[K%-16s %-20s %s%-8s%s %6.1fs\n", all->rows[i].t->name,
                all->rows[i].host, cli_state_color(all->rows[i].state, all->color),
                all->rows[i].state, all->color ? "\033[0m" : "", all->rows[i].ms / 1000.0);
    all->rows_drawn = all->n_rows;
    fflush(stderr);
}

static void up_progress(void *data, const cluster_node_report *rep) {
    up_target *t = data;
    up_all *all = t->all;
    const char *state = cluster_node_state_name(rep->state);
    size_t i;

    if (!all->tty) {
        fprintf(stderr, "%s %s %s %.1fs%s%s\n", t->name, rep->node->hostname, state,
                rep->elapsed_ms / 1000.0, rep->why != NULL ? ": " : "",
                rep->why != NULL ? rep->why : "");
        return;
    }
    for (i = 0; i < all->n_rows; i++)
        if (all->rows[i].t == t && strcmp(all->rows[i].host, rep->node->hostname) == 0)
            break;
    if (i == all->n_rows) {
        if (all->n_rows == sizeof(all->rows) / sizeof(all->rows[0]))
            return;
        all->n_rows++;
        all->rows[i].t = t;
        snprintf(all->rows[i].host, sizeof(all->rows[i].host), "%s", rep->node->hostname);
    }
    snprintf(all->rows[i].state, sizeof(all->rows[i].state), "%s", state);
    all->rows[i].ms = rep->elapsed_ms;
    up_draw(all);
}

static json_t *up_report_json(const up_target *t, const cluster_report *r) {
    json_t *nodes = json_array(), *endpoints = json_array(), *steps = json_array();
    json_t *phases;

    for (size_t i = 0; i < r->plan->n_nodes; i++) {
        const cluster_node_report *n = &r->nodes[i];
        if (n->node->is_client)
            continue;
        json_array_append_new(nodes, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?}", "service",
                                               n->node->service, "hostname", n->node->hostname,
                                               "container", n->node->container, "address",
                                               n->node->address, "state",
                                               cluster_node_state_name(n->state), "why", n->why));
    }
    for (size_t i = 0; i < r->n_endpoints; i++) {
        const cluster_endpoint *e = &r->endpoints[i];
        char url[64];
        snprintf(url, sizeof(url), "127.0.0.1:%d", e->host_port);
        json_array_append_new(endpoints, json_pack("{s:s, s:s, s:s, s:i, s:s}", "service",
                                                   e->service, "hostname", e->hostname, "role",
                                                   e->role, "port", e->port, "address", url));
    }
    for (size_t i = 0; i < r->n_steps; i++)
        json_array_append_new(steps, json_pack("{s:s, s:I, s:I}", "name", r->step_names[i],
                                               "start_ms", (json_int_t)r->step_start_ms[i],
                                               "end_ms", (json_int_t)r->step_end_ms[i]));
    phases = json_pack("{s:I, s:I, s:I, s:I, s:I}", "network_ms", (json_int_t)r->network_ms,
                       "zookeeper_ms", (json_int_t)r->zookeeper_ms, "containers_ms",
                       (json_int_t)r->containers_ms, "steps_ms", (json_int_t)r->steps_ms,
                       "total_ms", (json_int_t)r->total_ms);
    return json_pack("{s:s, s:s, s:s, s:s?, s:s, s:o, s:o, s:o, s:o}", "cluster", t->name, "dist",
                     t->dist, "state", r->status == 0 ? "up" : "failed", "error", r->message,
                     "subnet", r->plan->subnet, "nodes", nodes, "endpoints", endpoints, "phases",
                     phases, "steps", steps);
}

/* A cluster is up: its endpoints (with --follow, as soon as it is). */
static void up_print_ready(up_target *t, const cluster_report *r) {
    if (t->all->json || t->printed)
        return;
    t->printed = 1;
    printf("%s (%s) is up in %.1f s; logs in %s\n", t->name, t->dist, r->total_ms / 1000.0,
           t->logs_dir);
    for (size_t i = 0; i < r->n_endpoints; i++) {
        const cluster_endpoint *e = &r->endpoints[i];
        printf("  %-16s %-10s %5d -> 127.0.0.1:%d\n", e->hostname, e->role, e->port, e->host_port);
    }
    fflush(stdout);
}

static void up_ready(void *data, const cluster_report *r) {
    up_target *t = data;

    if (t->all->tty && t->all->rows_drawn > 0)
        up_draw(t->all);
    up_print_ready(t, r);
    t->all->rows_drawn = 0; /* the table goes on below what was printed */
}

static void up_done(void *data, const cluster_report *r) {
    up_target *t = data;
    up_all *all = t->all;

    t->done = 1;
    t->c = NULL;
    t->ok = r->status == 0;
    if (all->tty && all->rows_drawn > 0)
        up_draw(all);
    if (all->json)
        t->report = up_report_json(t, r);
    if (r->logs_backup != NULL)
        fprintf(stderr, "hdc: %s: moved the logs of a previous run to %s\n", t->name,
                r->logs_backup);
    if (r->status != 0)
        fprintf(stderr, "hdc: %s\n", r->message);
    else
        up_print_ready(t, r);
    /* A redraw of the live table must not climb over what was printed. */
    all->rows_drawn = 0;
    if (r->status != 0 && !(all->follow && t->printed && r->status == UV_ECANCELED))
        all->run->status = CLI_FAILED;
}

static void up_start(up_target *t) {
    up_all *all = t->all;
    cluster_up_opts uo = {
        .pool = t->pool,
        .timeout_s = all->timeout_s,
        .publish_classic = all->publish_classic,
        .rm_on_failure = all->rm_on_failure,
        .follow = all->follow,
        .on_ready = up_ready,
        .logs_root = all->logs_root,
        .test_user = all->test_user,
    };
    int err =
        cluster_up(&all->run->loop, all->run->d, &t->plan, &uo, up_progress, up_done, t, &t->c);

    if (err != 0) {
        cli_error("%s: cannot start: %s", t->name, hdc_strerror(err));
        t->done = 1;
        all->run->status = CLI_FAILED;
    }
}

/* Leftovers of a stopped cluster of that name: removed with -y (or after
 * asking on a TTY); a running one is never touched. */
static void up_start(up_target *t);

static void up_leftovers_removed(void *data, int status, const char *msg, unsigned removed) {
    up_target *t = data;

    if (t->all->interrupted) {
        t->done = 1;
        t->all->run->status = CLI_FAILED;
        return;
    }
    if (status != 0) {
        cli_error("%s: cannot remove the leftovers of a previous run: %s", t->name, msg);
        t->done = 1;
        t->all->run->status = CLI_FAILED;
        return;
    }
    if (removed > 0)
        fprintf(stderr, "hdc: %s: removed %u leftovers of a stopped run\n", t->name, removed);
    up_start(t);
}

static void up_listed(void *data, int status, const char *msg, const cluster_container *list,
                      size_t n) {
    up_target *t = data;
    up_all *all = t->all;
    int running = 0;

    if (all->interrupted) {
        t->done = 1;
        all->run->status = CLI_FAILED;
        return;
    }
    if (status != 0) {
        cli_error("%s", msg);
        t->done = 1;
        all->run->status = CLI_FAILED;
        return;
    }
    for (size_t i = 0; i < n; i++)
        running |= cli_container_active(list[i].state);
    if (running) {
        cli_error("cluster '%s' exists and runs (or is being created): use it, run "
                  "`hdc down %s` first, or choose another --name",
                  t->name, t->name);
        t->done = 1;
        all->run->status = CLI_FAILED;
        return;
    }
    /* Decided once every target is listed (up_decide): no question is
     * asked while another cluster's up runs on the loop. */
    t->leftovers = n;
    t->listed = 1;
}

/* Every target listed, nothing started yet: leftovers of stopped clusters
 * are removed with -y, after asking on a TTY, else refused; then the ups
 * start. */
static void up_decide(up_all *all) {
    for (size_t i = 0; i < all->n; i++) {
        up_target *t = &all->targets[i];
        int answer = all->yes;
        if (t->done)
            continue;
        if (t->leftovers == 0) {
            up_leftovers_removed(t, 0, NULL, 0);
            continue;
        }
        if (!answer && cli_is_tty(stdin) && cli_is_tty(stderr)) {
            char line[16];
            fprintf(stderr,
                    "hdc: a stopped cluster '%s' is left over (%zu containers); "
                    "remove it? [yN] ",
                    t->name, t->leftovers);
            answer = fgets(line, sizeof(line), stdin) != NULL && (line[0] == 'y' || line[0] == 'Y');
        }
        if (!answer || all->interrupted) {
            cli_error("a stopped cluster '%s' is left over: remove it with `hdc down %s` "
                      "(or pass -y), or choose another --name",
                      t->name, t->name);
            t->done = 1;
            all->run->status = CLI_FAILED;
            continue;
        }
        if (cluster_down(&all->run->loop, all->run->d, t->name, up_leftovers_removed, t) != 0)
            up_leftovers_removed(t, UV_EIO, "cannot list its objects", 0);
    }
}

static void cli_free_handle(uv_handle_t *h) {
    free(h);
}

/* Runs `hdc ARGS...` detached from this process (its own session, no
 * stdio), for the log writers that outlive a command. args ends with NULL. */
static int cli_spawn_detached(uv_loop_t *loop, const char *const *args) {
    char self[2048];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    char *argv[64];
    size_t k = 0;
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE}, {.flags = UV_IGNORE}, {.flags = UV_IGNORE}};
    uv_process_options_t po = {
        .file = self,
        .args = argv,
        .flags = UV_PROCESS_DETACHED,
        .stdio = stdio,
        .stdio_count = 3,
    };
    uv_process_t *proc;

    if (n <= 0)
        return UV_ENOENT;
    self[n] = '\0';
    argv[k++] = self;
    for (size_t i = 0; args[i] != NULL && k < 63; i++)
        argv[k++] = (char *)args[i];
    argv[k] = NULL;
    proc = malloc(sizeof(*proc));
    if (proc == NULL)
        return UV_ENOMEM;
    if (uv_spawn(loop, proc, &po) != 0) {
        free(proc);
        return UV_EIO;
    }
    uv_close((uv_handle_t *)proc, cli_free_handle);
    return 0;
}

/* After `hdc up` returns, one detached `hdc logs -f --write-root ROOT
 * NAME...` keeps logs/<cluster>/<host>.log of every cluster that came up
 * growing (rewriting each from the start, so nothing is lost between the
 * two) until their containers stop. */
static void up_spawn_log_writer(up_all *all) {
    const char *args[64] = {"logs", "-f", "--write-root", all->logs_root};
    size_t k = 4;

    for (size_t i = 0; i < all->n && k < 63; i++)
        if (all->targets[i].ok && !all->follow)
            args[k++] = all->targets[i].name;
    args[k] = NULL;
    if (k > 4 && cli_spawn_detached(&all->run->loop, args) != 0)
        fprintf(stderr, "hdc: cannot start the log writer; `hdc logs NAME` still shows the "
                        "logs\n");
}

static void up_interrupted(cli_run *run) {
    up_all *all = run->ctx;

    all->interrupted = 1;
    fprintf(stderr, "\nhdc: interrupted: stopping (clusters are left for inspection; "
                    "`hdc down NAME` removes them)\n");
    for (size_t i = 0; i < all->n; i++)
        if (all->targets[i].c != NULL)
            cluster_cancel(all->targets[i].c);
}

static int cli_up(const cli_opts *opts, int argc, char **argv) {
    up_all *all = calloc(1, sizeof(*all));
    cli_run run;
    int status = CLI_USAGE;
    int err;

    all->datanodes = 1;
    all->logs_root = getenv("HDC_LOGS_DIR") != NULL && *getenv("HDC_LOGS_DIR") != '\0'
                         ? getenv("HDC_LOGS_DIR")
                         : "logs";
    all->test_user = getenv("HDC_TEST_USER") != NULL ? getenv("HDC_TEST_USER") : "hdc";
    all->json = opts->json;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--name") == 0) {
            if (all->n == 0 || i + 1 >= argc) {
                cli_error("up: --name NAME follows the distribution it names");
                goto exit;
            }
            snprintf(all->targets[all->n - 1].name, sizeof(all->targets[0].name), "%.32s",
                     argv[++i]);
            if (strlen(argv[i]) > PLAN_MAX_NAME) {
                cli_error("up: cluster name '%s' is longer than %d characters", argv[i],
                          PLAN_MAX_NAME);
                goto exit;
            }
        } else if (strcmp(a, "--datanodes") == 0) {
            if (cli_uint(a, argv[i + 1 < argc ? ++i : i + 1], 1, PLUGIN_MAX_INSTANCES,
                         &all->datanodes) != 0)
                goto exit;
        } else if (strcmp(a, "--timeout") == 0) {
            if (cli_uint(a, argv[i + 1 < argc ? ++i : i + 1], 1, 86400, &all->timeout_s) != 0)
                goto exit;
        } else if (strcmp(a, "--test-user") == 0 && i + 1 < argc) {
            all->test_user = argv[++i];
        } else if (strcmp(a, "--publish-classic") == 0) {
            all->publish_classic = 1;
        } else if (strcmp(a, "-y") == 0 || strcmp(a, "--yes") == 0) {
            all->yes = 1;
        } else if (strcmp(a, "--follow") == 0) {
            all->follow = 1;
        } else if (strcmp(a, "--rm-on-failure") == 0) {
            all->rm_on_failure = 1;
        } else if (a[0] == '-') {
            cli_error("up: unknown flag '%s'; 'hdc help up' shows the usage", a);
            goto exit;
        } else {
            if (all->n == sizeof(all->targets) / sizeof(all->targets[0])) {
                cli_error("up: at most 16 clusters at once");
                goto exit;
            }
            all->targets[all->n].dist = a;
            all->targets[all->n].all = all;
            all->n++;
        }
    }
    if (all->n == 0) {
        cli_error("up: which distribution? 'hdc plugins' lists them");
        goto exit;
    }
    if (all->publish_classic && all->n > 1) {
        cli_error("up: --publish-classic binds fixed host ports: one cluster at a time");
        goto exit;
    }
    /* Everything is checked before anything is created. */
    for (size_t i = 0; i < all->n; i++) {
        up_target *t = &all->targets[i];
        char err_msg[256];
        if (t->name[0] == '\0' && plan_default_name(t->dist, t->name, sizeof(t->name)) != 0) {
            cli_error("up: '%s' gives no valid default name: pass --name", t->dist);
            goto exit;
        }
        if (plan_name_check(t->name, err_msg, sizeof(err_msg)) != 0) {
            cli_error("up: %s", err_msg);
            goto exit;
        }
        for (size_t k = 0; k < i; k++) {
            if (strcmp(all->targets[k].name, t->name) == 0) {
                cli_error("up: two clusters named '%s': give each its own --name", t->name);
                goto exit;
            }
        }
        if (cli_load(opts, t->dist, &t->plug) != 0)
            goto exit;
        /* The plan refuses what Docker would (a pool that is not one, more
         * nodes than a subnet holds) before anything is touched. */
        {
            char plan_err[512];
            int rc =
                plan_pool_parse(getenv("HDC_SUBNET_POOL"), &t->pool, plan_err, sizeof(plan_err));
            if (rc == 0)
                rc = plan_make(&t->plan, t->plug->desc, t->name, all->datanodes, &t->pool,
                               plan_pool_start(&t->pool, t->name), plan_err, sizeof(plan_err));
            if (rc != 0) {
                cli_error("up: %s", plan_err);
                goto exit;
            }
        }
        snprintf(t->logs_dir, sizeof(t->logs_dir), "%s/%s", all->logs_root, t->name);
    }
    if ((err = cli_run_init(&run)) != 0) {
        status = err;
        goto exit;
    }
    all->run = &run;
    run.ctx = all;
    run.on_sigint = up_interrupted;
    uv_ref((uv_handle_t *)&run.sigint);
    all->tty = cli_is_tty(stderr) && !all->json;
    all->color = all->tty && getenv("NO_COLOR") == NULL;
    for (size_t i = 0; i < all->n; i++) {
        up_target *t = &all->targets[i];
        if (cluster_list(&run.loop, run.d, t->name, up_listed, t) != 0) {
            cli_error("%s: cannot ask Docker", t->name);
            run.status = CLI_FAILED;
            t->done = 1;
        }
    }
    /* First every name is looked up; then, with nothing else running,
     * leftovers are decided on and the ups start. */
    for (;;) {
        int waiting = 0;
        for (size_t i = 0; i < all->n; i++)
            waiting |= !all->targets[i].done && !all->targets[i].listed;
        if (!waiting)
            break;
        uv_run(&run.loop, UV_RUN_ONCE);
    }
    up_decide(all);
    /* The loop ends when every cluster is done: drop the signal's ref then. */
    for (;;) {
        int pending = 0;
        for (size_t i = 0; i < all->n; i++)
            pending |= !all->targets[i].done;
        if (!pending)
            break; /* before waiting: the SIGINT handle alone would wait forever */
        uv_run(&run.loop, UV_RUN_ONCE);
    }
    uv_unref((uv_handle_t *)&run.sigint);
    up_spawn_log_writer(all);
    if (all->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < all->n; i++)
            if (all->targets[i].report != NULL)
                json_array_append_new(arr, all->targets[i].report);
        json_dumpf(arr, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(arr);
    }
    status = cli_run_finish(&run);

exit:
    for (size_t i = 0; i < all->n; i++) {
        plan_free(&all->targets[i].plan);
        if (all->targets[i].plug != NULL)
            plugin_unload(all->targets[i].plug);
    }
    free(all);
    return status;
}

/* ---- ls, status ------------------------------------------------------------- */

typedef struct status_probe {
    struct list_ctx *ctx;
    const hdc_probe *probe;
    char address[64];
    int status;
    char why[512];
} status_probe;

typedef struct list_ctx {
    cli_run *run;
    const cli_opts *opts;
    const char *name; /* status: the cluster */
    int json;
    json_t *root; /* status --json, dumped once the probes are done */
    plugin *plug; /* status: the cluster's distribution */
    status_probe probes[32];
    size_t n_probes;
} list_ctx;

static void cli_age(int64_t created, char *out, size_t len) {
    int64_t s = (int64_t)time(NULL) - created;

    if (created <= 0)
        snprintf(out, len, "?");
    else if (s < 120)
        snprintf(out, len, "%llds", (long long)s);
    else if (s < 7200)
        snprintf(out, len, "%lldm", (long long)(s / 60));
    else if (s < 172800)
        snprintf(out, len, "%lldh", (long long)(s / 3600));
    else
        snprintf(out, len, "%lldd", (long long)(s / 86400));
}

static void ls_listed(void *data, int status, const char *msg, const cluster_container *list,
                      size_t n) {
    list_ctx *ctx = data;
    json_t *arr = json_array();

    if (status != 0) {
        cli_error("%s", msg);
        ctx->run->status = CLI_FAILED;
        json_decref(arr);
        return;
    }
    if (!ctx->json)
        printf("%-20s %-16s %-6s %-8s %s\n", "NAME", "DIST", "NODES", "RUNNING", "AGE");
    for (size_t i = 0; i < n;) {
        size_t j = i, running = 0;
        int64_t created = list[i].created;
        char age[32];
        for (; j < n && strcmp(list[j].cluster, list[i].cluster) == 0; j++) {
            running += strcmp(list[j].state, "running") == 0;
            if (list[j].created > 0 && (created <= 0 || list[j].created < created))
                created = list[j].created;
        }
        cli_age(created, age, sizeof(age));
        if (ctx->json)
            json_array_append_new(arr, json_pack("{s:s, s:s, s:i, s:i, s:s, s:I}", "name",
                                                 list[i].cluster, "dist", list[i].dist, "nodes",
                                                 (int)(j - i), "running", (int)running, "state",
                                                 running == j - i ? "running"
                                                 : running == 0   ? "stopped"
                                                                  : "degraded",
                                                 "created", (json_int_t)created));
        else
            printf("%-20s %-16s %-6zu %-8zu %s\n", list[i].cluster, list[i].dist, j - i, running,
                   age);
        i = j;
    }
    if (ctx->json) {
        json_dumpf(arr, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
    }
    json_decref(arr);
}

static int cli_ls(const cli_opts *opts, int argc, char **argv) {
    list_ctx ctx = {.json = opts->json};
    cli_run run;
    int err;

    if (argc > 1) {
        cli_error("ls: unexpected argument '%s': it takes none", argv[1]);
        return CLI_USAGE;
    }
    if ((err = cli_run_init(&run)) != 0)
        return err;
    ctx.run = &run;
    if (cluster_list(&run.loop, run.d, NULL, ls_listed, &ctx) != 0)
        run.status = CLI_FAILED;
    return cli_run_finish(&run);
}

static void status_probed(void *data, int status, const probe_result *res) {
    status_probe *sp = data;

    sp->status = status;
    snprintf(sp->why, sizeof(sp->why), "%s", res->why);
}

/* Each probe of the cluster's distribution, once, through the published
 * port of its service's first instance. */
static void status_start_probes(list_ctx *ctx, const cluster_container *list, size_t n) {
    char err[1024];
    plugin_path pp;
    unsigned datanodes = 0;

    if (plugin_path_init(&pp, ctx->opts->plugin_path, getenv("HDC_PLUGIN_PATH")) != 0)
        return;
    if (plugin_find(&pp, list[0].dist, &ctx->plug, err, sizeof(err)) != 0) {
        fprintf(stderr, "hdc: status: no probes: %s\n", err);
        plugin_path_free(&pp);
        return;
    }
    plugin_path_free(&pp);
    /* The requested count, as the cluster was made: the instances of its
     * first scaled service. */
    for (const hdc_service *s = ctx->plug->desc->services; s != NULL && s->name != NULL; s++) {
        if (s->instances != HDC_COUNT_DATANODES)
            continue;
        for (size_t i = 0; i < n; i++)
            datanodes += strcmp(list[i].service, s->name) == 0;
        break;
    }
    for (const hdc_probe *p = ctx->plug->desc->probes;
         p != NULL && p->name != NULL && ctx->n_probes < 32; p++) {
        const hdc_service *svc = plugin_service(ctx->plug->desc, p->service);
        const hdc_port *port = plugin_port(svc, p->port_role);
        status_probe *sp = &ctx->probes[ctx->n_probes];
        for (size_t i = 0; i < n && sp->address[0] == '\0'; i++) {
            if (strcmp(list[i].service, p->service) != 0)
                continue;
            for (size_t k = 0; k < list[i].n_ports; k++)
                if (list[i].ports[k].port == port->port && list[i].ports[k].host_port != 0)
                    snprintf(sp->address, sizeof(sp->address), "http://127.0.0.1:%u",
                             list[i].ports[k].host_port);
        }
        sp->ctx = ctx;
        sp->probe = p;
        sp->status = UV_EADDRNOTAVAIL;
        snprintf(sp->why, sizeof(sp->why), "%s is not running", p->service);
        ctx->n_probes++;
        if (sp->address[0] != '\0') {
            probe_target t = {.desc = ctx->plug->desc,
                              .probe = p,
                              .cluster = ctx->name,
                              .datanodes = datanodes > 0 ? datanodes : 1,
                              .address = sp->address};
            if (probe_start(&ctx->run->loop, &t, 0, status_probed, sp, NULL) != 0)
                snprintf(sp->why, sizeof(sp->why), "the probe could not start");
        }
    }
}

/* After the loop: the probes' verdicts, with the rest of status. */
static void status_report_probes(list_ctx *ctx) {
    json_t *arr = json_array();

    for (size_t i = 0; i < ctx->n_probes; i++) {
        status_probe *sp = &ctx->probes[i];
        if (ctx->json)
            json_array_append_new(arr, json_pack("{s:s, s:s, s:b, s:s}", "name", sp->probe->name,
                                                 "service", sp->probe->service, "healthy",
                                                 sp->status == 0, "why", sp->why));
        else
            printf("probe %-20s %s%s%s\n", sp->probe->name, sp->status == 0 ? "green" : "NOT green",
                   sp->status == 0 ? "" : ": ", sp->status == 0 ? "" : sp->why);
    }
    if (ctx->json && ctx->root != NULL) {
        json_object_set_new(ctx->root, "probes", arr);
        json_dumpf(ctx->root, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(ctx->root);
    } else {
        json_decref(arr);
    }
    if (ctx->plug != NULL)
        plugin_unload(ctx->plug);
}

static void status_listed(void *data, int status, const char *msg, const cluster_container *list,
                          size_t n) {
    list_ctx *ctx = data;
    json_t *nodes = json_array();

    if (status != 0 || n == 0) {
        if (status != 0)
            cli_error("%s", msg);
        else
            cli_error("status: no cluster named '%s'; `hdc ls` lists them", ctx->name);
        ctx->run->status = CLI_FAILED;
        json_decref(nodes);
        return;
    }
    if (!ctx->json)
        printf("%-16s %-16s %-28s %-9s %-15s %s\n", "SERVICE", "HOST", "CONTAINER", "STATE",
               "ADDRESS", "ENDPOINTS");
    for (size_t i = 0; i < n; i++) {
        const cluster_container *c = &list[i];
        json_t *eps = json_array();
        char text[1024] = "";
        size_t used = 0;
        for (size_t k = 0; k < c->n_ports; k++) {
            if (c->ports[k].host_port == 0)
                continue;
            json_array_append_new(eps, json_pack("{s:i, s:s, s:i}", "port", c->ports[k].port,
                                                 "host_ip", c->ports[k].host_ip, "host_port",
                                                 c->ports[k].host_port));
            used +=
                (size_t)snprintf(text + used, sizeof(text) - used, "%s%d->%s:%d", used ? " " : "",
                                 c->ports[k].port, c->ports[k].host_ip, c->ports[k].host_port);
            if (used >= sizeof(text))
                used = sizeof(text) - 1;
        }
        if (ctx->json)
            json_array_append_new(nodes,
                                  json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:o}", "service",
                                            c->service, "hostname", c->hostname, "container",
                                            c->name, "state", c->state, "exit_code", c->exit_code,
                                            "address", c->address, "endpoints", eps));
        else {
            printf("%-16s %-16s %-28s %-9s %-15s %s\n", c->service, c->hostname, c->name, c->state,
                   c->address, text);
            json_decref(eps);
        }
    }
    if (ctx->json)
        ctx->root = json_pack("{s:s, s:s, s:o}", "cluster", ctx->name, "dist", list[0].dist,
                              "nodes", nodes);
    else
        json_decref(nodes);
    status_start_probes(ctx, list, n);
}

static int cli_status(const cli_opts *opts, int argc, char **argv) {
    list_ctx ctx = {.json = opts->json, .opts = opts};
    char err_msg[256];
    cli_run run;
    int err;

    if (argc != 2) {
        cli_error("status: give one cluster name; `hdc ls` lists them");
        return CLI_USAGE;
    }
    if (plan_name_check(argv[1], err_msg, sizeof(err_msg)) != 0) {
        cli_error("status: %s", err_msg);
        return CLI_USAGE;
    }
    ctx.name = argv[1];
    if ((err = cli_run_init(&run)) != 0)
        return err;
    ctx.run = &run;
    if (cluster_list(&run.loop, run.d, ctx.name, status_listed, &ctx) != 0)
        run.status = CLI_FAILED;
    uv_run(&run.loop, UV_RUN_DEFAULT);
    status_report_probes(&ctx);
    return cli_run_finish(&run);
}

/* ---- down, gc ------------------------------------------------------------ */

typedef struct down_ctx {
    cli_run *run;
    const char *name;
} down_ctx;

static void down_done(void *data, int status, const char *msg, unsigned removed) {
    down_ctx *ctx = data;

    if (status != 0) {
        cli_error("down %s: %s", ctx->name != NULL ? ctx->name : "--all", msg);
        ctx->run->status = CLI_FAILED;
    } else if (removed == 0 && ctx->name != NULL) {
        cli_error("down: no cluster named '%s'; `hdc ls` lists them", ctx->name);
        ctx->run->status = CLI_FAILED;
    } else {
        fprintf(stderr, "hdc: %s: removed %u containers, networks and volumes\n",
                ctx->name != NULL ? ctx->name : "every cluster", removed);
    }
}

static int cli_down(const cli_opts *opts, int argc, char **argv) {
    down_ctx ctx[64];
    int all = 0, n = 0;
    char err_msg[256];
    cli_run run;
    int err;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--all") == 0) {
            all = 1;
        } else if (argv[i][0] == '-') {
            cli_error("down: unknown flag '%s'", argv[i]);
            return CLI_USAGE;
        } else if (plan_name_check(argv[i], err_msg, sizeof(err_msg)) != 0) {
            cli_error("down: %s", err_msg);
            return CLI_USAGE;
        } else if (n < 64) {
            ctx[n++].name = argv[i];
        }
    }
    if ((all && n > 0) || (!all && n == 0)) {
        cli_error("down: give cluster names, or --all");
        return CLI_USAGE;
    }
    if ((err = cli_run_init(&run)) != 0)
        return err;
    if (all)
        ctx[n++].name = NULL;
    for (int i = 0; i < n; i++) {
        ctx[i].run = &run;
        if (cluster_down(&run.loop, run.d, ctx[i].name, down_done, &ctx[i]) != 0)
            run.status = CLI_FAILED;
    }
    return cli_run_finish(&run);
}

typedef struct gc_ctx {
    cli_run *run;
    char names[64][PLAN_MAX_NAME + 1];
    down_ctx downs[64];
    size_t n;
} gc_ctx;

static void gc_listed(void *data, int status, const char *msg, const cluster_container *list,
                      size_t n) {
    gc_ctx *gc = data;

    if (status != 0) {
        cli_error("gc: %s", msg);
        gc->run->status = CLI_FAILED;
        return;
    }
    /* A cluster all of whose containers have exited is a leftover; one with
     * a container just created may be another `hdc up` at work. */
    for (size_t i = 0; i < n;) {
        size_t j = i;
        int running = 0;
        for (; j < n && strcmp(list[j].cluster, list[i].cluster) == 0; j++)
            running |= cli_container_active(list[j].state);
        if (!running && gc->n < 64) {
            snprintf(gc->names[gc->n], sizeof(gc->names[0]), "%s", list[i].cluster);
            gc->downs[gc->n].run = gc->run;
            gc->downs[gc->n].name = gc->names[gc->n];
            cluster_down(&gc->run->loop, gc->run->d, gc->names[gc->n], down_done,
                         &gc->downs[gc->n]);
            gc->n++;
        }
        i = j;
    }
    if (gc->n == 0)
        fprintf(stderr, "hdc: gc: nothing left over\n");
}

static int cli_gc(const cli_opts *opts, int argc, char **argv) {
    gc_ctx *gc;
    cli_run run;
    int err;

    if (argc > 1) {
        cli_error("gc: unexpected argument '%s': it takes none", argv[1]);
        return CLI_USAGE;
    }
    if ((err = cli_run_init(&run)) != 0)
        return err;
    gc = calloc(1, sizeof(*gc));
    gc->run = &run;
    if (cluster_list(&run.loop, run.d, NULL, gc_listed, gc) != 0)
        run.status = CLI_FAILED;
    err = cli_run_finish(&run);
    free(gc);
    return err;
}

/* ---- logs, exec ------------------------------------------------------------ */

/* One cluster whose logs are followed. */
typedef struct logs_query {
    struct logs_ctx *ctx;
    const char *name;
    char dir[4200]; /* where its <host>.log files go, or "" for stdout */
} logs_query;

typedef struct log_follow {
    struct logs_ctx *ctx;
    char host[64];
    char line[8192];
    size_t len;
    docker_call *stream;
    logs_sink *sink; /* --write-to: the file, else NULL */
} log_follow;

#define LOGS_MAX_FOLLOWS 1024

typedef struct logs_ctx {
    cli_run *run;
    logs_query *queries; /* one per cluster */
    size_t n_queries, n_listed;
    char **services;
    int n_services;
    int follow;
    uv_check_t flush; /* stdout, once per loop iteration */
    log_follow follows[LOGS_MAX_FOLLOWS];
    size_t n;
    size_t width;
} logs_ctx;

static void log_flush_line(log_follow *f) {
    printf("%-*s | %.*s\n", (int)f->ctx->width, f->host, (int)f->len, f->line);
    f->len = 0;
}

static void log_output(void *data, int stream, const char *buf, size_t len) {
    log_follow *f = data;

    if (f->sink != NULL) {
        logs_sink_append(f->sink, buf, len);
        return;
    }
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n' || f->len == sizeof(f->line)) {
            log_flush_line(f);
            if (buf[i] == '\n')
                continue;
        }
        f->line[f->len++] = buf[i];
    }
}

/* Once per loop iteration, after the reads: what arrived goes out
 * together, not one write per frame. */
static void logs_flush(uv_check_t *check) {
    fflush(stdout);
}

static void log_ended(void *data, int status, const char *msg) {
    log_follow *f = data;

    f->stream = NULL;
    if (f->sink != NULL) {
        logs_sink_close(f->sink, NULL, NULL);
        f->sink = NULL;
    }
    if (f->len > 0)
        log_flush_line(f);
    if (status != 0 && status != UV_ECANCELED) {
        cli_error("logs of %s: %s", f->host, msg);
        f->ctx->run->status = CLI_FAILED;
    }
}

static void logs_listed(void *data, int status, const char *msg, const cluster_container *list,
                        size_t n) {
    logs_query *q = data;
    logs_ctx *ctx = q->ctx;
    size_t before = ctx->n;

    ctx->n_listed++;
    if (status != 0) {
        cli_error("logs: %s", msg);
        ctx->run->status = CLI_FAILED;
        return;
    }
    if (n == 0) {
        cli_error("logs: no cluster named '%s'; `hdc ls` lists them", q->name);
        ctx->run->status = CLI_USAGE;
        return;
    }
    for (size_t i = 0; i < n && ctx->n < LOGS_MAX_FOLLOWS; i++) {
        int wanted = ctx->n_services == 0;
        for (int k = 0; k < ctx->n_services; k++)
            wanted |= strcmp(ctx->services[k], list[i].service) == 0 ||
                      strcmp(ctx->services[k], list[i].hostname) == 0;
        if (!wanted)
            continue;
        log_follow *f = &ctx->follows[ctx->n++];
        docker_logs_opts lo = {.follow = ctx->follow};
        f->ctx = ctx;
        snprintf(f->host, sizeof(f->host), "%s", list[i].hostname);
        if (strlen(f->host) > ctx->width)
            ctx->width = strlen(f->host);
        if (q->dir[0] != '\0') {
            char path[4400];
            snprintf(path, sizeof(path), "%s/%s.log", q->dir, f->host);
            if (logs_sink_open(&ctx->run->loop, path, 1, &f->sink) != 0) {
                cli_error("logs: cannot write %s", path);
                ctx->run->status = CLI_FAILED;
                continue;
            }
        }
        if (docker_logs(ctx->run->d, list[i].name, &lo, log_output, log_ended, f, &f->stream))
            f->stream = NULL;
    }
    if (ctx->n == before && ctx->run->status == 0) {
        cli_error("logs: no service or host of '%s' matches; `hdc status %s` lists them", q->name,
                  q->name);
        ctx->run->status = CLI_USAGE;
    }
}

static void logs_interrupted(cli_run *run) {
    logs_ctx *ctx = run->ctx;

    for (size_t i = 0; i < ctx->n; i++)
        if (ctx->follows[i].stream != NULL)
            docker_call_cancel(ctx->follows[i].stream);
}

/* hdc logs NAME [SERVICE...] [-f] [--write-to DIR]: one cluster, to stdout
 * or to DIR/<host>.log; hdc logs --write-root ROOT [-f] NAME...: several
 * clusters, each to ROOT/<name>/<host>.log (the one detached writer
 * `hdc up` leaves for all its clusters). */
static int cli_logs(const cli_opts *opts, int argc, char **argv) {
    logs_ctx *ctx;
    const char *write_to = NULL, *write_root = NULL;
    char **names;
    size_t n_names = 0;
    char err_msg[256];
    cli_run run;
    int err;

    ctx = calloc(1, sizeof(*ctx));
    ctx->services = calloc((size_t)argc, sizeof(char *));
    names = calloc((size_t)argc, sizeof(char *));
    ctx->queries = calloc((size_t)argc, sizeof(logs_query));
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--follow") == 0)
            ctx->follow = 1;
        else if (strcmp(argv[i], "--write-to") == 0 && i + 1 < argc)
            write_to = argv[++i];
        else if (strcmp(argv[i], "--write-root") == 0 && i + 1 < argc)
            write_root = argv[++i];
        else if (argv[i][0] == '-') {
            cli_error("logs: unknown flag '%s'", argv[i]);
            err = CLI_USAGE;
            goto exit;
        } else if (n_names == 0 || write_root != NULL)
            names[n_names++] = argv[i];
        else
            ctx->services[ctx->n_services++] = argv[i];
    }
    if (n_names == 0) {
        cli_error("logs: give a cluster name");
        err = CLI_USAGE;
        goto exit;
    }
    for (size_t i = 0; i < n_names; i++) {
        logs_query *q = &ctx->queries[ctx->n_queries++];
        if (plan_name_check(names[i], err_msg, sizeof(err_msg)) != 0) {
            cli_error("logs: %s", err_msg);
            err = CLI_USAGE;
            goto exit;
        }
        q->ctx = ctx;
        q->name = names[i];
        if (write_root != NULL)
            snprintf(q->dir, sizeof(q->dir), "%s/%s", write_root, names[i]);
        else if (write_to != NULL)
            snprintf(q->dir, sizeof(q->dir), "%s", write_to);
    }
    if ((err = cli_run_init(&run)) != 0)
        goto exit;
    ctx->run = &run;
    run.ctx = ctx;
    run.on_sigint = logs_interrupted;
    uv_check_init(&run.loop, &ctx->flush);
    uv_check_start(&ctx->flush, logs_flush);
    uv_unref((uv_handle_t *)&ctx->flush);
    for (size_t i = 0; i < ctx->n_queries; i++) {
        if (cluster_list(&run.loop, run.d, ctx->queries[i].name, logs_listed, &ctx->queries[i]) !=
            0) {
            cli_error("logs: cannot ask Docker");
            run.status = CLI_FAILED;
            ctx->n_listed++;
        }
    }
    uv_ref((uv_handle_t *)&run.sigint);
    /* Until every cluster is listed and every stream has ended. */
    for (;;) {
        int active = 0;
        for (size_t i = 0; i < ctx->n; i++)
            active |= ctx->follows[i].stream != NULL;
        if (ctx->n_listed == ctx->n_queries && !active)
            break;
        uv_run(&run.loop, UV_RUN_ONCE);
    }
    uv_unref((uv_handle_t *)&run.sigint);
    err = cli_run_finish(&run);

exit:
    free(names);
    free(ctx->queries);
    free(ctx->services);
    free(ctx);
    return err;
}

typedef struct exec_ctx {
    cli_run *run;
    const char *name;
    const char *service;
    char **cmd;
    int n_cmd;
    int found;
} exec_ctx;

static void exec_out(void *data, int stream, const char *buf, size_t len) {
    fwrite(buf, 1, len, stream == 2 ? stderr : stdout);
    fflush(stream == 2 ? stderr : stdout);
}

static void exec_finished(void *data, int status, const char *msg, int exit_code) {
    exec_ctx *ctx = data;

    if (status != 0) {
        cli_error("exec: %s", msg);
        ctx->run->status = CLI_FAILED;
        return;
    }
    ctx->run->status = exit_code;
}

static void exec_listed(void *data, int status, const char *msg, const cluster_container *list,
                        size_t n) {
    exec_ctx *ctx = data;

    if (status != 0) {
        cli_error("exec: %s", msg);
        ctx->run->status = CLI_FAILED;
        return;
    }
    if (n == 0) {
        cli_error("exec: no cluster named '%s'; `hdc ls` lists them", ctx->name);
        ctx->run->status = CLI_USAGE;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(list[i].service, ctx->service) != 0 &&
            strcmp(list[i].hostname, ctx->service) != 0)
            continue;
        docker_exec_opts eo = {.cmd = (const char *const *)ctx->cmd, .n_cmd = (size_t)ctx->n_cmd};
        ctx->found = 1;
        if (docker_exec(ctx->run->d, list[i].name, &eo, exec_out, exec_finished, ctx, NULL) != 0)
            ctx->run->status = CLI_FAILED;
        return;
    }
    cli_error("exec: no service or host '%s' in '%s'; `hdc status %s` lists them", ctx->service,
              ctx->name, ctx->name);
    ctx->run->status = CLI_USAGE;
}

static int cli_exec(const cli_opts *opts, int argc, char **argv) {
    exec_ctx ctx = {0};
    char err_msg[256];
    cli_run run;
    int dash = 0, err;

    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--") == 0) {
            dash = i;
            break;
        }
    if (dash != 3 || dash + 1 >= argc) {
        cli_error("exec: usage: hdc exec NAME SERVICE -- CMD [ARG...]");
        return CLI_USAGE;
    }
    if (plan_name_check(argv[1], err_msg, sizeof(err_msg)) != 0) {
        cli_error("exec: %s", err_msg);
        return CLI_USAGE;
    }
    ctx.name = argv[1];
    ctx.service = argv[2];
    ctx.cmd = argv + dash + 1;
    ctx.n_cmd = argc - dash - 1;
    if ((err = cli_run_init(&run)) != 0)
        return err;
    ctx.run = &run;
    if (cluster_list(&run.loop, run.d, argv[1], exec_listed, &ctx) != 0)
        run.status = CLI_FAILED;
    return cli_run_finish(&run);
}


/* ---- export-logs ---------------------------------------------------------- */

/* Everything CI keeps of a cluster: per node its container log
 * (<host>.log), its inspect JSON (<host>.inspect.json) and, for every
 * directory its service names in HDC_LOG_DIRS (the daemons' own logs), a
 * tar of it (<host>.<dir>.tar). */
typedef struct export_ctx {
    cli_run *run;
    const char *name, *dir;
    size_t pending;
    unsigned files;
} export_ctx;

typedef struct export_file {
    export_ctx *ctx;
    logs_sink *sink; /* NULL until opened */
    char path[4200];
    char what[600];
} export_file;

static void export_release(export_ctx *ctx) {
    if (--ctx->pending == 0 && ctx->run->status == 0)
        fprintf(stderr, "hdc: %s: %u files written to %s\n", ctx->name, ctx->files, ctx->dir);
}

/* The file is made when its first bytes come (lazy), or at once: a
 * directory that is not there leaves no empty tar behind. */
static int export_sink(export_file *f) {
    if (f->sink != NULL)
        return 0;
    if (logs_sink_open(&f->ctx->run->loop, f->path, 1, &f->sink) != 0) {
        cli_error("export-logs: cannot write %s", f->path);
        f->ctx->run->status = CLI_FAILED;
        f->sink = NULL;
        return -1;
    }
    f->ctx->files++;
    return 0;
}

static export_file *export_open(export_ctx *ctx, const char *file, const char *what, int lazy) {
    export_file *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return NULL;
    f->ctx = ctx;
    snprintf(f->path, sizeof(f->path), "%s/%s", ctx->dir, file);
    snprintf(f->what, sizeof(f->what), "%s", what);
    if (!lazy && export_sink(f) != 0) {
        free(f);
        return NULL;
    }
    ctx->pending++;
    return f;
}

static void export_output(void *data, int stream, const char *buf, size_t len) {
    export_file *f = data;

    if (export_sink(f) == 0)
        logs_sink_append(f->sink, buf, len);
}

static void export_file_closed(void *data) {
    export_file *f = data;
    export_ctx *ctx = f->ctx;

    if (logs_sink_error(f->sink) != 0) {
        cli_error("export-logs: writing %s failed: %s", f->what,
                  hdc_strerror(logs_sink_error(f->sink)));
        ctx->run->status = CLI_FAILED;
    }
    free(f);
    export_release(ctx);
}

static void export_stream_done(void *data, int status, const char *msg) {
    export_file *f = data;

    if (status == DOCKER_ENOTFOUND) {
        fprintf(stderr, "hdc: export-logs: %s: not there (%s)\n", f->what, msg);
    } else if (status != 0) {
        cli_error("export-logs: %s: %s", f->what, msg);
        f->ctx->run->status = CLI_FAILED;
    }
    /* logs_sink_error is read in the close callback, before the free. */
    if (f->sink == NULL) {
        export_ctx *ctx = f->ctx;
        free(f);
        export_release(ctx);
        return;
    }
    logs_sink_close(f->sink, export_file_closed, f);
}

static void export_inspected(void *data, int status, const char *msg,
                             const docker_container_info *info) {
    export_file *f = data;
    export_ctx *ctx = f->ctx;
    json_t *env;
    size_t i;
    json_t *v;

    if (status != 0) {
        export_stream_done(f, status, msg);
        return;
    }
    {
        char *text = json_dumps(info->raw, JSON_INDENT(2));
        if (text != NULL) {
            logs_sink_append(f->sink, text, strlen(text));
            logs_sink_append(f->sink, "\n", 1);
            free(text);
        }
    }
    /* The daemons' own log directories, as the service's env names them. */
    env = json_object_get(json_object_get(info->raw, "Config"), "Env");
    json_array_foreach(env, i, v) {
        const char *kv = json_string_value(v);
        char dirs[1024], *save = NULL;
        if (kv == NULL || strncmp(kv, "HDC_LOG_DIRS=", 13) != 0)
            continue;
        snprintf(dirs, sizeof(dirs), "%s", kv + 13);
        for (char *d = strtok_r(dirs, ":", &save); d != NULL; d = strtok_r(NULL, ":", &save)) {
            char file[512], what[512];
            export_file *tf;
            size_t k;
            snprintf(file, sizeof(file), "%s.%s.tar", info->hostname, d + (d[0] == '/'));
            for (k = strlen(info->hostname) + 1; file[k] != '\0'; k++)
                if (file[k] == '/')
                    file[k] = '_';
            snprintf(what, sizeof(what), "%s:%s", info->hostname, d);
            tf = export_open(ctx, file, what, 1);
            if (tf != NULL && docker_container_archive(ctx->run->d, info->id, d, export_output,
                                                       export_stream_done, tf, NULL) != 0)
                export_stream_done(tf, UV_EIO, "cannot ask Docker");
        }
    }
    export_stream_done(f, 0, NULL);
}

static void export_listed(void *data, int status, const char *msg, const cluster_container *list,
                          size_t n) {
    export_ctx *ctx = data;

    if (status != 0 || n == 0) {
        if (status != 0)
            cli_error("export-logs: %s", msg);
        else
            cli_error("export-logs: no cluster named '%s'; `hdc ls` lists them", ctx->name);
        ctx->run->status = CLI_FAILED;
        return;
    }
    ctx->pending = 1;
    for (size_t i = 0; i < n; i++) {
        char file[256], what[256];
        docker_logs_opts lo = {0};
        export_file *f;

        snprintf(file, sizeof(file), "%s.log", list[i].hostname);
        snprintf(what, sizeof(what), "the log of %s", list[i].hostname);
        f = export_open(ctx, file, what, 0);
        if (f != NULL && docker_logs(ctx->run->d, list[i].name, &lo, export_output,
                                     export_stream_done, f, NULL) != 0)
            export_stream_done(f, UV_EIO, "cannot ask Docker");
        snprintf(file, sizeof(file), "%s.inspect.json", list[i].hostname);
        snprintf(what, sizeof(what), "the inspect of %s", list[i].hostname);
        f = export_open(ctx, file, what, 0);
        if (f != NULL &&
            docker_container_inspect(ctx->run->d, list[i].name, export_inspected, f, NULL) != 0)
            export_stream_done(f, UV_EIO, "cannot ask Docker");
    }
    export_release(ctx);
}

static int cli_export_logs(const cli_opts *opts, int argc, char **argv) {
    export_ctx ctx = {0};
    char err_msg[256];
    cli_run run;
    int err;

    if (argc != 3) {
        cli_error("export-logs: usage: hdc export-logs NAME DIR");
        return CLI_USAGE;
    }
    if (plan_name_check(argv[1], err_msg, sizeof(err_msg)) != 0) {
        cli_error("export-logs: %s", err_msg);
        return CLI_USAGE;
    }
    if (mkdir(argv[2], 0755) != 0 && errno != EEXIST) {
        cli_error("export-logs: cannot create %s: %s", argv[2], strerror(errno));
        return CLI_USAGE;
    }
    ctx.name = argv[1];
    ctx.dir = argv[2];
    if ((err = cli_run_init(&run)) != 0)
        return err;
    ctx.run = &run;
    if (cluster_list(&run.loop, run.d, ctx.name, export_listed, &ctx) != 0)
        run.status = CLI_FAILED;
    return cli_run_finish(&run);
}


/* ---- client --------------------------------------------------------------- */

typedef struct client_ctx {
    cli_run *run;
    const char *name;
    int json;
    char logs_dir[4096];
} client_ctx;

static void client_done(void *data, int status, const char *msg, const client_info *info) {
    client_ctx *ctx = data;

    if (status != 0) {
        cli_error("client: %s", msg);
        ctx->run->status = status == CLIENT_ENOCLUSTER ? CLI_USAGE : CLI_FAILED;
        return;
    }
    if (!info->existed) {
        /* Its log joins the cluster's, as the other nodes' do. */
        const char *args[] = {"logs",        ctx->name, info->hostname, "-f", "--write-to",
                              ctx->logs_dir, NULL};
        cli_spawn_detached(&ctx->run->loop, args);
    }
    if (ctx->json) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:b}", "cluster", ctx->name,
                              "container", info->container, "hostname", info->hostname, "address",
                              info->address, "user", info->user, "key", info->key, "ssh_port",
                              (int)info->ssh_port, "existed", info->existed);
        json_dumpf(o, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(o);
        return;
    }
    printf("%s: the client node %s (%s) %s\n", ctx->name, info->hostname, info->address,
           info->existed ? "runs already" : "is up");
    printf("  ssh -i %s -p %u %s@127.0.0.1\n", info->key, info->ssh_port, info->user);
    printf("  hdc exec %s %s -- CMD   (as root)\n", ctx->name, info->hostname);
}

static void client_init_output(void *data, int stream, const char *buf, size_t len) {
    fwrite(buf, 1, len, stderr);
}

static int cli_client(const cli_opts *opts, int argc, char **argv) {
    static const char *const init_dirs[] = {"client_side_tests",
                                            HDC_SOURCE_DIR "/client_side_tests", NULL};
    client_ctx ctx = {.json = opts->json};
    client_opts co = {.port = 3333, .init_dirs = init_dirs, .init_output = client_init_output};
    plugin_path pp;
    char err_msg[256];
    const char *state = getenv("HDC_STATE_DIR");
    const char *logs_root = getenv("HDC_LOGS_DIR");
    cli_run run;
    int err;

    co.test_user = getenv("HDC_TEST_USER");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0) {
            unsigned port;
            if (cli_uint("--port", i + 1 < argc ? argv[++i] : NULL, 0, 65535, &port) != 0)
                return CLI_USAGE;
            co.port = (uint16_t)port;
        } else if (strcmp(argv[i], "--client-dist") == 0 && i + 1 < argc) {
            co.client_dist = argv[++i];
        } else if (strcmp(argv[i], "--test-user") == 0 && i + 1 < argc) {
            co.test_user = argv[++i];
        } else if (argv[i][0] == '-' || ctx.name != NULL) {
            cli_error("client: unexpected argument '%s'", argv[i]);
            return CLI_USAGE;
        } else {
            ctx.name = argv[i];
        }
    }
    if (ctx.name == NULL || plan_name_check(ctx.name, err_msg, sizeof(err_msg)) != 0) {
        cli_error("client: %s", ctx.name == NULL ? "give a cluster name" : err_msg);
        return CLI_USAGE;
    }
    co.cluster = ctx.name;
    co.key_dir = state != NULL && *state != '\0' ? state : ".hdc";
    snprintf(ctx.logs_dir, sizeof(ctx.logs_dir), "%s/%s",
             logs_root != NULL && *logs_root != '\0' ? logs_root : "logs", ctx.name);
    if (plugin_path_init(&pp, opts->plugin_path, getenv("HDC_PLUGIN_PATH")) != 0) {
        cli_error("client: cannot read the plugin path");
        return CLI_USAGE;
    }
    co.plugins = &pp;
    if ((err = cli_run_init(&run)) != 0) {
        plugin_path_free(&pp);
        return err;
    }
    ctx.run = &run;
    err = client_start(&run.loop, run.d, &co, client_done, &ctx);
    if (err != 0) {
        cli_error("client: %s", hdc_strerror(err));
        run.status = CLI_FAILED;
    }
    err = cli_run_finish(&run);
    plugin_path_free(&pp);
    return err;
}

/* ---- matrix (engine/matrix.c) ---------------------------------------------- */

static int cli_matrix(const cli_opts *opts, int argc, char **argv) {
    return CLI_USAGE; /* moved to engine/cmd/matrix.c */
}

static int cli_help(const cli_opts *opts, int argc, char **argv);

static const cli_command cli_commands[] = {
    {"build-base", cli_build_base, "hdc build-base [--base-image IMAGE] [--no-cache]",
     "the base image (hdc-agent, users; BASE_IMAGE is the JDK layer) and ZooKeeper's"},
    {"build", cli_build, "hdc build DIST [--dist-cache DIR] [--hadoop-tarball FILE]",
     "a distribution's images"},
    {"up", cli_up,
     "hdc up DIST [--name NAME] [DIST [--name NAME]]... [--datanodes N] "
     "[--timeout S] [--publish-classic] [-y] [--follow] [--rm-on-failure]",
     "create and bootstrap clusters, concurrently; returns when every probe is green"},
    {"ls", cli_ls, "hdc ls [--json]", "clusters on this Docker engine, with state and age"},
    {"status", cli_status, "hdc status NAME [--json]",
     "each node: container, state, address, endpoints; and every probe, once"},
    {"logs", cli_logs,
     "hdc logs NAME [SERVICE...] [-f] [--write-to DIR] | "
     "--write-root ROOT [-f] NAME...",
     "the nodes' logs, prefixed by host (or each to DIR/<host>.log, "
     "ROOT/<name>/<host>.log)"},
    {"exec", cli_exec, "hdc exec NAME SERVICE -- CMD [ARG...]",
     "run a command in a node; the exit status is CMD's"},
    {"client", cli_client, "hdc client NAME [--port PORT] [--client-dist DIST] [--test-user USER]",
     "start the cluster's client node, with ssh on 127.0.0.1:PORT (default 3333), and run "
     "client_side_tests/<dist>/initialize.sh in it"},
    {"down", cli_down, "hdc down NAME... | --all", "stop and remove clusters"},
    {"gc", cli_gc, "hdc gc", "remove clusters of which no container runs"},
    {"export-logs", cli_export_logs, "hdc export-logs NAME DIR",
     "each node's log, inspect JSON and daemon log directories (HDC_LOG_DIRS), for CI"},
    {"matrix", cli_matrix,
     "hdc matrix DIST... [--parallel N] [--junit FILE] [--keep] [--keep-failed] -- CMD [ARG...]",
     "a cluster per DIST, CMD in each client node, a JUnit report (also: --timeout S, "
     "--datanodes N, --bundle-all, --test-user USER)"},
    {"plugins", cli_plugins, "hdc plugins [--json]",
     "the distributions found, with ABI version and path"},
    {"help", cli_help, "hdc help [COMMAND]", "this text, or a command's usage"},
    {NULL, NULL, NULL, NULL},
};

static void cli_usage(FILE *f) {
    fprintf(f, "usage: hdc [--plugin-path DIRS] [--json] COMMAND [ARGS]\n\ncommands:\n");
    for (const cli_command *c = cli_commands; c->name != NULL; c++)
        fprintf(f, "  %s\n      %s\n", c->usage, c->summary);
    fprintf(f, "\nenvironment: DOCKER_HOST, HDC_PLUGIN_PATH, HDC_DIST_CACHE, "
               "HDC_SUBNET_POOL, NO_COLOR\n");
}

int cli_has(const char *name) {
    for (const cli_command *c = cli_commands; c->name != NULL; c++)
        if (strcmp(c->name, name) == 0)
            return 1;
    return 0;
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
