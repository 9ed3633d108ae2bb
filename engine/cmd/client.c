/* `hdc client NAME [--port PORT] [--client-dist DIST] [--test-user USER]`:
 * the cluster's client node (engine/client.c does the work): created with
 * sshd on 127.0.0.1:PORT, its client_side_tests/<dist>/initialize.sh run
 * in it, and how to log in printed on stdout. A client node that exists
 * already is reported, not replaced.
 *
 * Decisions a newcomer might question:
 * - initialize.sh is looked for in the current directory first, then in
 *   hdc's source tree: a library's repository can bring its own.
 * - A new client node gets a detached `hdc logs NAME HOST -f --write-to
 *   DIR` of its own, so that its log joins the cluster's in
 *   logs/<cluster>/ as the other nodes' do (hdc up's writer was started
 *   before the node existed). It is best effort: the node is up either way.
 * - No such cluster exits 2, like the other refusals found before anything
 *   is created.
 * - Without --port, ssh goes to 3333 when it is free and else to a port
 *   Docker chooses (printed); an explicit --port is that port or a
 *   failure, since a script that names a port relies on it.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "cmd.h"
#include "plan.h"
#include "util.h"

/* What run is given: parse's options, and whether --port was given
 * (cmd_client_opts, in cmd.h, has no room for it). */
typedef struct client_args {
    cmd_client_opts o;
    int port_given;
} client_args;

typedef struct client_ctx {
    runner *r;
    const char *name;
    int json;
    char *logs_dir; /* logs/<cluster>: where the node's log writer writes */
} client_ctx;

static void print_json(const client_ctx *ctx, const client_info *info) {
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:b}", "cluster", ctx->name,
                          "container", info->container, "hostname", info->hostname, "address",
                          info->address, "user", info->user, "key", info->key, "ssh_port",
                          (int)info->ssh_port, "existed", info->existed);

    json_dumpf(o, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
    json_decref(o);
}

static void done(void *data, int status, const char *msg, const client_info *info) {
    client_ctx *ctx = data;

    if (status != 0) {
        runner_fail(ctx->r, status == CLIENT_ENOCLUSTER ? RUNNER_USAGE : RUNNER_FAILED,
                    "client: %s", msg);
        return;
    }
    if (!info->existed) {
        const char *args[] = {"logs",        ctx->name, info->hostname, "-f", "--write-to",
                              ctx->logs_dir, NULL};
        runner_spawn_detached(ctx->r, args);
    }
    if (info->port_taken != 0)
        fprintf(stderr, "hdc: client: %s: port %u of 127.0.0.1 is taken: ssh is on port %u\n",
                ctx->name, info->port_taken, info->ssh_port);
    if (ctx->json) {
        print_json(ctx, info);
        return;
    }
    printf("%s: the client node %s (%s) %s\n", ctx->name, info->hostname, info->address,
           info->existed ? "runs already" : "is up");
    printf("  ssh -i %s -p %u %s@127.0.0.1\n", info->key, info->ssh_port, info->user);
    printf("  hdc exec %s %s -- CMD   (as %s; --user root for root)\n", ctx->name, info->hostname,
           info->user);
}

/* initialize.sh's output: progress, so stderr. */
static void init_output(void *data, int stream, const char *buf, size_t len) {
    fwrite(buf, 1, len, stderr);
}

static int parse_args(const cmd_ctx *ctx, int argc, char **argv, cmd_client_opts *o,
                      int *port_given, char *err, size_t err_len) {
    char why[256], shown[160];
    int rc;

    o->port = 3333;
    *port_given = 0;
    o->test_user = ctx->env.test_user;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0) {
            unsigned port;
            rc = cmd_uint("--port", i + 1 < argc ? argv[++i] : NULL, 0, 65535, &port, err, err_len);
            if (rc != 0)
                return rc;
            o->port = (uint16_t)port;
            *port_given = 1;
        } else if (strcmp(argv[i], "--client-dist") == 0 && i + 1 < argc) {
            o->client_dist = argv[++i];
        } else if (strcmp(argv[i], "--test-user") == 0 && i + 1 < argc) {
            o->test_user = argv[++i];
        } else if (argv[i][0] == '-' || o->name != NULL) {
            return util_fail(err, err_len, RUNNER_USAGE, "client: unexpected argument '%s'",
                             plan_escape(argv[i], shown, sizeof(shown)));
        } else {
            o->name = argv[i];
        }
    }
    if (o->name == NULL)
        return util_fail(err, err_len, RUNNER_USAGE, "client: give a cluster name");
    if (plan_name_check(o->name, why, sizeof(why)) != 0)
        return util_fail(err, err_len, RUNNER_USAGE, "client: %s", why);
    if (o->test_user != NULL &&
        plan_user_check(o->test_user == ctx->env.test_user ? "HDC_TEST_USER" : "--test-user",
                        o->test_user, why, sizeof(why)) != 0)
        return util_fail(err, err_len, RUNNER_USAGE, "client: %s", why);
    return 0;
}

int cmd_client_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_client_opts *o, char *err,
                     size_t err_len) {
    int port_given;

    return parse_args(ctx, argc, argv, o, &port_given, err, err_len);
}

static int parse(const cmd_ctx *ctx, int argc, char **argv, void *opts, char *err, size_t err_len) {
    client_args *a = opts;

    return parse_args(ctx, argc, argv, &a->o, &a->port_given, err, err_len);
}

static int run(const cmd_ctx *cc, void *opts) {
    const client_args *a = opts;
    const cmd_client_opts *o = &a->o;
    client_ctx ctx = {.name = o->name, .json = cc->json};
    images_opts io = {.clusters_dir = cmd_clusters_dir(&cc->env), .dist_cache = cc->env.dist_cache};
    client_opts co = {
        .cluster = o->name,
        .client_dist = o->client_dist,
        .port = o->port,
        .any_port_if_taken = !a->port_given,
        .key_dir = cmd_state_dir(&cc->env),
        /* --test-user, else the cluster's, else HDC_TEST_USER. */
        .test_user = o->test_user != cc->env.test_user ? o->test_user : NULL,
        .default_test_user = cc->env.test_user,
        .init_dirs = cmd_client_tests_dirs(&cc->env),
        .init_output = init_output,
        .resolve_from = &io,
        .building = cmd_build_progress,
    };
    plugin_path pp;
    runner r;
    int err;

    ctx.logs_dir = util_asprintf("%s/%s", cmd_logs_root(&cc->env), o->name);
    if (ctx.logs_dir == NULL) {
        runner_error("client: out of memory");
        return RUNNER_FAILED;
    }
    if (plugin_path_init(&pp, cc->plugin_path, cc->env.plugin_path) != 0) {
        runner_error("client: cannot read the plugin path");
        err = RUNNER_USAGE;
        goto exit;
    }
    co.plugins = &pp;
    if ((err = runner_open(&r, NULL)) != 0)
        goto exit;
    ctx.r = &r;
    err = client_start(&r.loop, r.d, &co, done, &ctx);
    if (err != 0)
        runner_fail(&r, RUNNER_FAILED, "client: %s", hdc_strerror(err));
    err = runner_finish(&r);

exit:
    plugin_path_free(&pp);
    free(ctx.logs_dir);
    return err;
}

const cmd cmd_client = {
    .name = "client",
    .usage = "hdc client NAME [--port PORT] [--client-dist DIST] [--test-user USER]",
    .summary =
        "start the cluster's client node, with ssh on 127.0.0.1:PORT (default 3333, else a free "
        "one), and run "
        "client_side_tests/<dist>/initialize.sh in it",
    .opts_size = sizeof(client_args),
    .parse = parse,
    .run = run,
};
