/* `hdc exec NAME SERVICE [--user USER] -- CMD [ARG...]`: runs CMD (an
 * argument vector, not a shell line) through Docker exec in the first node
 * of the cluster whose service or hostname is SERVICE, as the node's own
 * user or USER. CMD's stdout and stderr go to hdc's as they come; hdc exits
 * with CMD's status.
 *
 * Decisions a newcomer might question:
 * - The node's own user is the one real Hadoop expects there: the daemon's
 *   (hdc_service.user: hdfs on a namenode) on a service node, the test user
 *   on the client node, root on ZooKeeper and for a service whose user is
 *   NULL. Root is no HDFS superuser, so running as root by default would
 *   make `hdfs dfsadmin` and writes into /user/<test user> fail on a real
 *   cluster. The user comes from the cluster's plugin; the client node's
 *   test user from its container (HDC_TEST_USER, set when it was made).
 * - The `--` is required, after NAME SERVICE and the options: CMD's own
 *   flags (even `-h`, `--json`, `--user`) are then never hdc's, and an
 *   unknown flag before it is a usage error rather than a silent part of
 *   CMD.
 * - No such cluster or node exits 2 (bad input, nothing was run), so a
 *   script can tell it from a CMD that failed with 1.
 * - A CMD the node does not have never runs: Docker's runtime fails the
 *   exec and the daemon writes its error ("OCI runtime exec failed: ...")
 *   on the command's stdout, with exit code 126 (or 127). So stdout is
 *   held back while it reads as the start of that error, and if it was
 *   that error, with that code, it becomes hdc's message on stderr. A
 *   command's own output is held back for at most those few bytes.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_query.h"
#include "cmd.h"
#include "plan.h"
#include "plugin_host.h"
#include "util.h"

#define USAGE "hdc exec NAME SERVICE [--user USER] -- CMD [ARG...]"

/* How the daemon's error starts when the runtime could not start CMD, and
 * when the user is not in the node's passwd file (Docker 20.10 says the
 * first for both, newer engines the second alone). */
#define RUNTIME_FAILED "OCI runtime exec failed"
#define NO_USER        "unable to find user"

typedef struct exec_ctx {
    const cmd_ctx *cc;
    runner *r;
    const cmd_exec_opts *o;
    char host[64];      /* the node's, for messages */
    char container[96]; /* its container */
    char user[64];      /* who CMD runs as */
    /* stdout held back while it may be the runtime's error. */
    char held[4096];
    size_t n_held;
    int passing; /* it was not: stdout goes through */
} exec_ctx;

static void put(FILE *f, const char *buf, size_t len) {
    fwrite(buf, 1, len, f);
    fflush(f);
}

static void release(exec_ctx *ctx) {
    put(stdout, ctx->held, ctx->n_held);
    ctx->n_held = 0;
    ctx->passing = 1;
}

/* How much of the held bytes may still be the start of one of Docker's
 * errors: 0 if none (they are CMD's output), else the length of the
 * longest start they match. */
static size_t docker_error_start(const exec_ctx *ctx, const char **which) {
    static const char *const starts[] = {RUNTIME_FAILED, NO_USER};

    for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
        size_t len = strlen(starts[i]), cmp = ctx->n_held < len ? ctx->n_held : len;

        if (memcmp(ctx->held, starts[i], cmp) == 0) {
            *which = starts[i];
            return len;
        }
    }
    return 0;
}

static void output(void *data, int stream, const char *buf, size_t len) {
    exec_ctx *ctx = data;
    const char *which;

    if (stream == 2 || ctx->passing) {
        put(stream == 2 ? stderr : stdout, buf, len);
        return;
    }
    if (len > sizeof(ctx->held) - ctx->n_held) {
        release(ctx);
        put(stdout, buf, len);
        return;
    }
    memcpy(ctx->held + ctx->n_held, buf, len);
    ctx->n_held += len;
    if (docker_error_start(ctx, &which) == 0)
        release(ctx);
}

/* Docker's error, held back: the part that says why, escaped, in out
 * ("exec: \"x\": executable file not found in $PATH", "unable to find user
 * x: no matching entries in passwd file"). */
static void runtime_why(const exec_ctx *ctx, char *out, size_t len) {
    char *text = strndup(ctx->held, ctx->n_held), *why;
    size_t n;

    if (text == NULL) {
        snprintf(out, len, "%s", RUNTIME_FAILED);
        return;
    }
    n = strcspn(text, "\r\n");
    text[n] = '\0';
    if (n > 9 && strcmp(text + n - 9, ": unknown") == 0)
        text[n - 9] = '\0';
    why = strstr(text, "exec: \"");
    if (why == NULL)
        why = strstr(text, NO_USER);
    plan_escape(why != NULL ? why : text, out, len);
    free(text);
}

/* The node has no such user: Docker refused before CMD ran. */
static void no_user(exec_ctx *ctx, const char *why) {
    char shown[160];

    plan_escape(ctx->user, shown, sizeof(shown));
    if (ctx->o->user != NULL)
        runner_fail(ctx->r, RUNNER_USAGE,
                    "exec: %s has no user '%s' (%s): give a user it has, or leave out --user to "
                    "run as the node's own user",
                    ctx->host, shown, why);
    else
        runner_fail(ctx->r, RUNNER_FAILED,
                    "exec: %s has no user '%s', the user its distribution runs there (%s): its "
                    "image is not the one its plugin describes; give --user root to run there "
                    "anyway",
                    ctx->host, shown, why);
}

static void finished(void *data, int status, const char *msg, int exit_code) {
    exec_ctx *ctx = data;
    char shown[160], why[512];
    const char *which = NULL;
    int missing;

    if (status != 0) {
        release(ctx);
        if (strstr(msg, NO_USER) != NULL) {
            plan_escape(msg, why, sizeof(why));
            no_user(ctx, why);
            return;
        }
        runner_fail(ctx->r, RUNNER_FAILED, "exec: %s", msg);
        return;
    }
    if (ctx->n_held < docker_error_start(ctx, &which) || which == NULL ||
        (exit_code != 126 && exit_code != 127)) {
        release(ctx);
        ctx->r->status = exit_code;
        return;
    }
    /* CMD never ran. Docker 20.10 says 126 whether it is missing or not
     * executable; 127 for missing, as a shell and newer engines say. */
    runtime_why(ctx, why, sizeof(why));
    if (strstr(why, NO_USER) != NULL) {
        no_user(ctx, why);
        return;
    }
    missing = strstr(why, "not found") != NULL || strstr(why, "no such file") != NULL;
    runner_error("exec: '%s' is not in %s (or not executable): %s: %s",
                 plan_escape(ctx->o->cmd[0], shown, sizeof(shown)), ctx->host, why,
                 missing ? "give a command the node has, by its full path if it is not on PATH"
                         : "give an executable file");
    ctx->r->status = missing ? 127 : exit_code;
}

static void start(exec_ctx *ctx) {
    const cmd_exec_opts *o = ctx->o;
    docker_exec_opts eo = {
        .cmd = (const char *const *)o->cmd, .n_cmd = o->n_cmd, .user = ctx->user};

    if (docker_exec(ctx->r->d, ctx->container, &eo, output, finished, ctx, NULL) != 0)
        runner_fail(ctx->r, RUNNER_FAILED, "exec: cannot ask Docker to run a command in %s",
                    ctx->host);
}

/* The client node's test user, from its container's environment. */
static void inspected(void *data, int status, const char *msg, const docker_container_info *info) {
    exec_ctx *ctx = data;
    const json_t *env =
        json_object_get(json_object_get(info != NULL ? info->raw : NULL, "Config"), "Env");
    static const char key[] = "HDC_TEST_USER=";
    size_t i;
    json_t *e;

    if (status != 0) {
        runner_fail(ctx->r, RUNNER_FAILED, "exec: cannot inspect %s: %s", ctx->host, msg);
        return;
    }
    json_array_foreach(env, i, e) {
        const char *kv = json_string_value(e);

        if (kv != NULL && strncmp(kv, key, sizeof(key) - 1) == 0 && kv[sizeof(key) - 1] != '\0') {
            snprintf(ctx->user, sizeof(ctx->user), "%s", kv + sizeof(key) - 1);
            start(ctx);
            return;
        }
    }
    runner_fail(ctx->r, RUNNER_FAILED,
                "exec: %s has no HDC_TEST_USER in its environment, so its test user is unknown: "
                "give --user USER",
                ctx->host);
}

/* Runs CMD as the node's own user: its service's, from the plugin. */
static void as_node_user(exec_ctx *ctx, const cluster_container *c) {
    plugin_path pp;
    plugin *plug = NULL;
    const hdc_service *svc;
    char err[512];
    int client = 0;

    if (plugin_path_init(&pp, ctx->cc->plugin_path, ctx->cc->env.plugin_path) != 0) {
        runner_fail(ctx->r, RUNNER_FAILED, "exec: out of memory");
        return;
    }
    if (c->dist == NULL) {
        snprintf(err, sizeof(err), "its container has no hdc.dist label");
    } else if (plugin_find(&pp, c->dist, &plug, err, sizeof(err)) != 0) {
        plug = NULL;
    }
    plugin_path_free(&pp);
    if (plug == NULL) {
        runner_fail(ctx->r, RUNNER_FAILED,
                    "exec: cannot tell which user %s runs as: %s: give --user USER", ctx->host,
                    err);
        return;
    }
    /* No such service in the plugin: ZooKeeper, which hdc adds. */
    svc = plugin_service(plug->desc, c->service);
    if (svc != NULL && (svc->flags & HDC_SERVICE_CLIENT))
        client = 1;
    else
        snprintf(ctx->user, sizeof(ctx->user), "%s",
                 svc != NULL && svc->user != NULL ? svc->user : "root");
    plugin_unload(plug);
    if (!client)
        start(ctx);
    else if (docker_container_inspect(ctx->r->d, ctx->container, inspected, ctx, NULL) != 0)
        runner_fail(ctx->r, RUNNER_FAILED, "exec: cannot ask Docker about %s", ctx->host);
}

static void listed(void *data, int status, const char *msg, const cluster_container *list,
                   size_t n) {
    exec_ctx *ctx = data;
    const cmd_exec_opts *o = ctx->o;
    char shown[160];

    if (status != 0) {
        runner_fail(ctx->r, RUNNER_FAILED, "exec: %s", msg);
        return;
    }
    if (n == 0) {
        runner_fail(ctx->r, RUNNER_USAGE, "exec: no cluster named '%s'; `hdc ls` lists them",
                    o->name);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(list[i].service, o->service) != 0 && strcmp(list[i].hostname, o->service) != 0)
            continue;
        snprintf(ctx->host, sizeof(ctx->host), "%s", list[i].hostname);
        snprintf(ctx->container, sizeof(ctx->container), "%s", list[i].name);
        if (o->user == NULL) {
            as_node_user(ctx, &list[i]);
            return;
        }
        snprintf(ctx->user, sizeof(ctx->user), "%s", o->user);
        start(ctx);
        return;
    }
    runner_fail(ctx->r, RUNNER_USAGE,
                "exec: no service or host '%s' in '%s'; `hdc status %s` lists them",
                plan_escape(o->service, shown, sizeof(shown)), o->name, o->name);
}

/* What Docker takes as a user: a name or a uid, optionally ":group" (a
 * name or a gid); names of letters, digits, '_', '-' and '.', not starting
 * with '-'. 0 if user is one. */
static int user_check(const char *user) {
    const char *colon = strchr(user, ':');
    size_t parts[2] = {colon != NULL ? (size_t)(colon - user) : strlen(user),
                       colon != NULL ? strlen(colon + 1) : 1};
    const char *part[2] = {user, colon != NULL ? colon + 1 : "x"};

    for (int k = 0; k < 2; k++) {
        if (parts[k] == 0 || parts[k] > 32 || part[k][0] == '-')
            return -1;
        for (size_t i = 0; i < parts[k]; i++) {
            unsigned char c = (unsigned char)part[k][i];

            if (!isalnum(c) && c != '_' && c != '-' && c != '.')
                return -1;
        }
    }
    return 0;
}

int cmd_exec_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_exec_opts *o, char *err,
                   size_t err_len) {
    char why[256], shown[160];
    const char *pos[2];
    int dash = 0, n_pos = 0, n_user = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            dash = i;
            break;
        }
    }
    /* The shape first: NAME SERVICE, then `--` and a CMD. */
    for (int i = 1; i < dash; i++) {
        if (strcmp(argv[i], "--user") == 0) {
            n_user++;
            i++;
        } else if (n_pos < 2) {
            pos[n_pos++] = argv[i];
        } else {
            n_pos++;
        }
    }
    if (dash == 0 || dash + 1 >= argc || n_pos != 2)
        return util_fail(err, err_len, RUNNER_USAGE, "exec: usage: " USAGE);
    for (int i = 1; i < dash; i++) {
        if (strcmp(argv[i], "--user") != 0)
            continue;
        if (i + 1 >= dash)
            return util_fail(err, err_len, RUNNER_USAGE,
                             "exec: --user needs a user name before the `--`: " USAGE);
        if (n_user > 1)
            return util_fail(err, err_len, RUNNER_USAGE,
                             "exec: --user is given %d times: give it once", n_user);
        if (user_check(argv[i + 1]) != 0)
            return util_fail(err, err_len, RUNNER_USAGE,
                             "exec: --user '%s' is not a user: give a name or a uid of the node "
                             "(letters, digits, '_', '-', '.'), optionally with :GROUP",
                             plan_escape(argv[i + 1], shown, sizeof(shown)));
        o->user = argv[++i];
    }
    if (plan_name_check(pos[0], why, sizeof(why)) != 0)
        return util_fail(err, err_len, RUNNER_USAGE, "exec: %s", why);
    o->name = pos[0];
    o->service = pos[1];
    o->cmd = argv + dash + 1;
    o->n_cmd = (size_t)(argc - dash - 1);
    return 0;
}

static int parse(const cmd_ctx *ctx, int argc, char **argv, void *opts, char *err, size_t err_len) {
    return cmd_exec_parse(ctx, argc, argv, opts, err, err_len);
}

static int run(const cmd_ctx *cc, void *opts) {
    exec_ctx ctx = {.cc = cc, .o = opts};
    runner r;
    int err;

    if ((err = runner_open(&r, NULL)) != 0)
        return err;
    ctx.r = &r;
    if (cluster_list(&r.loop, r.d, ctx.o->name, listed, &ctx) != 0)
        r.status = RUNNER_FAILED;
    return runner_finish(&r);
}

const cmd cmd_exec = {
    .name = "exec",
    .usage = USAGE,
    .summary = "run a command in a node, as its own user; the exit status is CMD's",
    .opts_size = sizeof(cmd_exec_opts),
    .parse = parse,
    .run = run,
};
