/* `hdc matrix DIST... -- CMD`: what a CI job runs to test a library against
 * several Hadoop versions on one host. Per DIST, one after the other on the
 * loop and all DISTs at once (a fleet, engine/fleet.h: at most --parallel
 * clusters alive):
 *   up        the up of <default name>-m<pid>, which goes on writing the
 *             nodes' logs to logs/<cluster>/ until the testcase is decided
 *   client    client_start: the client node (ssh on any free port), and
 *             client_side_tests/<dist>/initialize.sh in it, as `hdc client`
 *   command   CMD by Docker exec in the client node as the test user, in
 *             its home; its output to logs/<cluster>/matrix.log and to
 *             stdout, each line prefixed "[DIST] "
 *   bundle    for a failed DIST (every DIST with --bundle-all): a child
 *             `hdc export-logs NAME logs/<cluster>/bundle`
 *   down      cluster_down, unless --keep (or --keep-failed and it failed)
 * then a JUnit XML report (--junit) and a summary on stderr.
 *
 * Decisions a newcomer might question:
 * - A DIST that fails at any phase is a failed testcase, never the end of
 *   the run: the others go on. Only bad usage (exit 2) stops everything,
 *   and it is found before anything is created: every plugin is loaded and
 *   every name checked first.
 * - The cluster names carry the pid, so two matrix runs (two CI jobs on one
 *   host) never collide, and a name taken anyway (CLUSTER_EEXISTS) is not
 *   ours: it is never torn down.
 * - --parallel counts clusters alive, not ups in flight: a slot is freed
 *   when a cluster is torn down, so N bounds the host's memory.
 * - The logs bundle is the real `hdc export-logs` run as a child process:
 *   one implementation of what CI keeps.
 * - SIGINT (or SIGTERM, how CI systems cancel a job) cancels the ups and
 *   the commands in flight and tears down everything the run created,
 *   whatever --keep says; the report is written with what is known
 *   (undecided DISTs are <error type="interrupted">).
 * - The command's stdout and stderr both go to stdout (to stderr with
 *   --json, which prints the results as JSON on stdout), each stream split
 *   into lines on its own so that they never mix within a line.
 */
#define _GNU_SOURCE /* vasprintf */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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
#include "cluster_survey.h"
#include "cmd.h"
#include "docker.h"
#include "fleet.h"
#include "images.h"
#include "logs.h"
#include "matrix.h"
#include "plan.h"
#include "plugin_host.h"
#include "util.h"

#define LINE_MAX_BYTES 4096

/* ---- arguments (pure) --------------------------------------------------------- */

static int fail(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The message (prefixed "matrix: ") in err; RUNNER_USAGE. */
static int fail(char *err, size_t err_len, const char *fmt, ...) {
    va_list ap;
    int n = snprintf(err, err_len, "matrix: ");

    if (n > 0 && (size_t)n < err_len) {
        va_start(ap, fmt);
        vsnprintf(err + n, err_len - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return RUNNER_USAGE;
}

/* A flag's value, as "--flag V" or "--flag=V"; NULL if the flag is not
 * this one. *i moves past a separate value. */
static const char *flag_value(int argc, char **argv, int *i, const char *flag, int *missing) {
    size_t n = strlen(flag);

    *missing = 0;
    if (strncmp(argv[*i], flag, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != '\0')
        return NULL;
    if (*i + 1 >= argc || strcmp(argv[*i + 1], "--") == 0) {
        *missing = 1;
        return "";
    }
    return argv[++*i];
}

/* A number flag through cmd_uint, its message prefixed as matrix's are. */
static int parse_uint(const char *flag, const char *s, unsigned min, unsigned max, unsigned *out,
                      char *err, size_t err_len) {
    char why[256];

    if (cmd_uint(flag, s, min, max, out, why, sizeof(why)) != 0)
        return fail(err, err_len, "%s", why);
    return 0;
}

int cmd_matrix_parse(const cmd_ctx *ctx, int argc, char **argv, cmd_matrix_opts *out, char *err,
                     size_t err_len) {
    char why[256];

    static const struct {
        const char *flag;
        unsigned min, max;
        size_t offset;
    } numbers[] = {
        {"--parallel", 1, 1000, offsetof(cmd_matrix_opts, parallel)},
        {"--timeout", 1, 86400, offsetof(cmd_matrix_opts, timeout_s)},
        {"--datanodes", 1, PLUGIN_MAX_INSTANCES, offsetof(cmd_matrix_opts, datanodes)},
        {"--memory", 1, CMD_MAX_MEMORY_MB, offsetof(cmd_matrix_opts, memory_mb)},
    };
    int dash = -1;

    out->datanodes = 1;
    for (int i = 1; i < argc && dash < 0; i++) {
        const char *a = argv[i], *v;
        int missing = 0, matched = 0;

        if (strcmp(a, "--") == 0) {
            dash = i;
            break;
        }
        for (size_t k = 0; k < sizeof(numbers) / sizeof(numbers[0]) && !matched; k++) {
            v = flag_value(argc, argv, &i, numbers[k].flag, &missing);
            if (v == NULL)
                continue;
            matched = 1;
            if (missing)
                return fail(err, err_len, "%s needs a value", numbers[k].flag);
            if (parse_uint(numbers[k].flag, v, numbers[k].min, numbers[k].max,
                           (unsigned *)((char *)out + numbers[k].offset), err, err_len) != 0)
                return RUNNER_USAGE;
        }
        if (matched)
            continue;
        if ((v = flag_value(argc, argv, &i, "--junit", &missing)) != NULL) {
            if (missing || *v == '\0')
                return fail(err, err_len, "--junit needs a file name");
            out->junit = v;
        } else if ((v = flag_value(argc, argv, &i, "--test-user", &missing)) != NULL) {
            if (missing || *v == '\0')
                return fail(err, err_len, "--test-user needs a user name");
            if (plan_user_check("--test-user", v, why, sizeof(why)) != 0)
                return fail(err, err_len, "%s", why);
            out->test_user = v;
        } else if ((v = flag_value(argc, argv, &i, "--ttl", &missing)) != NULL) {
            if (cmd_duration("--ttl", missing ? NULL : v, 1, 365 * 86400, &out->ttl_s, why,
                             sizeof(why)) != 0)
                return fail(err, err_len, "%s", why);
        } else if (strcmp(a, "--keep") == 0) {
            out->keep = 1;
        } else if (strcmp(a, "--keep-failed") == 0) {
            out->keep_failed = 1;
        } else if (strcmp(a, "--bundle-all") == 0) {
            out->bundle_all = 1;
        } else if (a[0] == '-') {
            return fail(err, err_len,
                        "unknown flag '%s'; 'hdc help matrix' shows the "
                        "usage",
                        a);
        } else {
            for (size_t k = 0; k < out->n_dists; k++)
                if (strcmp(out->dists[k], a) == 0)
                    return fail(err, err_len,
                                "'%s' is given twice: its clusters would "
                                "have one name; give each DIST once",
                                a);
            if (util_grow(&out->dists, &out->cap_dists, out->n_dists + 1, sizeof(*out->dists)) != 0)
                return fail(err, err_len, "out of memory");
            out->dists[out->n_dists++] = a;
        }
    }
    if (out->n_dists == 0)
        return fail(err, err_len, "which distributions? 'hdc plugins' lists them");
    if (dash < 0)
        return fail(err, err_len,
                    "no `--`: give the command after it: hdc matrix "
                    "DIST... -- CMD [ARG...]");
    if (dash + 1 >= argc)
        return fail(err, err_len,
                    "no command after `--`: hdc matrix DIST... -- CMD "
                    "[ARG...]");
    out->cmd = argv + dash + 1;
    out->n_cmd = (size_t)(argc - dash - 1);
    if (out->test_user == NULL && ctx->env.test_user != NULL &&
        plan_user_check("HDC_TEST_USER", ctx->env.test_user, why, sizeof(why)) != 0)
        return fail(err, err_len, "%s", why);
    if (cmd_boot_timeout(&ctx->env, out->timeout_s, &out->boot_timeout_s, why, sizeof(why)) != 0)
        return fail(err, err_len, "%s", why);
    return 0;
}

/* ---- the run ---------------------------------------------------------------- */

enum matrix_phase {
    MATRIX_WAITING, /* for a slot */
    MATRIX_UP,
    MATRIX_CLIENT,
    MATRIX_COMMAND,
    MATRIX_BUNDLE,
    MATRIX_DOWN,
    MATRIX_DONE,
};

typedef struct matrix_run matrix_run;

/* One DIST. */
typedef struct target {
    matrix_run *m;
    const char *dist;
    char name[PLAN_MAX_NAME + 1];
    char *logs_dir;
    char *log_path; /* logs/<cluster>/matrix.log */
    fleet_member *member;
    enum matrix_phase phase;
    int ready;           /* the cluster came up */
    int following;       /* its up follows the nodes' logs */
    int decided;         /* the testcase's outcome is known */
    docker_call *stream; /* the command in flight */
    int created;         /* objects of ours may exist: tear down */
    int kept;
    enum matrix_outcome outcome;
    const char *failure_type;
    char *message;
    uint64_t start_ms, end_ms;
    logs_sink *log;
    char line[2][LINE_MAX_BYTES];
    size_t line_len[2];
    matrix_tail out;
    int has_output;
    char user[64];
    char container[96];
} target;

struct matrix_run {
    runner r;
    const cmd_ctx *ctx;
    cmd_matrix_opts args;
    plugin_path pp;
    fleet *f;
    target *t;
    size_t n;
    int interrupted;
    int teardown_failed;
    int json;
    const char *logs_root, *key_dir, *test_user;
    char *command; /* CMD as one line, for messages */
    time_t started;
    uint64_t start_ms;
    images_opts images; /* where each DIST's images are resolved from */
};

static void report_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void report_error(const char *fmt, ...) {
    va_list ap;

    fputs("hdc: matrix: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void decided(target *t);
static void teardown(target *t);
static void down_done(void *data, int status, const char *msg, unsigned removed);

static double seconds(uint64_t from, uint64_t to) {
    return to > from ? (double)(to - from) / 1000.0 : 0.0;
}

static void set_outcome(target *t, enum matrix_outcome o, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void set_outcome(target *t, enum matrix_outcome o, const char *type, const char *fmt, ...) {
    va_list ap;

    t->outcome = o;
    t->failure_type = type;
    free(t->message);
    t->message = NULL;
    if (fmt != NULL) {
        va_start(ap, fmt);
        if (vasprintf(&t->message, fmt, ap) < 0)
            t->message = NULL;
        va_end(ap);
    }
}

/* The DIST is done: its slot goes to the next one. */
static void finish(target *t) {
    t->phase = MATRIX_DONE;
    if (t->member != NULL)
        fleet_release(t->member);
}

/* ---- the command ------------------------------------------------------------------- */

static void flush_line(target *t, int k) {
    FILE *f = t->m->json ? stderr : stdout;

    fprintf(f, "[%s] %.*s\n", t->dist, (int)t->line_len[k], t->line[k]);
    t->line_len[k] = 0;
}

static void command_output(void *data, int stream, const char *buf, size_t len) {
    target *t = data;
    int k = stream == DOCKER_STDERR ? 1 : 0;

    t->has_output = 1;
    if (t->log != NULL)
        logs_sink_append(t->log, buf, len);
    matrix_tail_append(&t->out, buf, len);
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n') {
            flush_line(t, k);
            continue;
        }
        if (t->line_len[k] == sizeof(t->line[k]))
            flush_line(t, k);
        t->line[k][t->line_len[k]++] = buf[i];
    }
    fflush(t->m->json ? stderr : stdout);
}

static void log_closed(void *data) {
    target *t = data;

    if (logs_sink_error(t->log) != 0)
        report_error("[%s] writing %s failed: %s", t->dist, t->log_path,
                     hdc_strerror(logs_sink_error(t->log)));
    t->log = NULL;
}

static void command_done(void *data, int status, const char *msg, int exit_code) {
    target *t = data;
    matrix_run *m = t->m;

    t->stream = NULL;
    for (int k = 0; k < 2; k++)
        if (t->line_len[k] > 0)
            flush_line(t, k);
    if (status == UV_ECANCELED && m->interrupted)
        set_outcome(t, MATRIX_ERROR, "interrupted", "interrupted while %s ran", m->command);
    else if (status != 0)
        set_outcome(t, MATRIX_FAILED, "command",
                    "%s could not run in the client "
                    "node: %s",
                    m->command, msg != NULL ? msg : hdc_strerror(status));
    else if (exit_code != 0)
        set_outcome(t, MATRIX_FAILED, "command", "%s exited with status %d", m->command, exit_code);
    else
        set_outcome(t, MATRIX_PASSED, NULL, NULL);
    decided(t);
}

static void make_dir(const char *path) {
    int rc = util_mkdir_p(path, 0755);

    if (rc != 0)
        report_error("cannot create %s: %s", path, hdc_strerror(rc));
}

static void run_command(target *t) {
    matrix_run *m = t->m;
    char home[128], env_home[160], env_user[96], env_logname[96];
    const char *env[3];
    docker_exec_opts eo = {0};
    int err;

    /* hdc-client-init creates the user with useradd's default home. */
    snprintf(home, sizeof(home), "/home/%s", t->user);
    snprintf(env_home, sizeof(env_home), "HOME=%s", home);
    snprintf(env_user, sizeof(env_user), "USER=%s", t->user);
    snprintf(env_logname, sizeof(env_logname), "LOGNAME=%s", t->user);
    env[0] = env_home, env[1] = env_user, env[2] = env_logname;
    eo.cmd = (const char *const *)m->args.cmd;
    eo.n_cmd = m->args.n_cmd;
    eo.env = env;
    eo.n_env = 3;
    eo.user = t->user;
    eo.working_dir = home;

    t->phase = MATRIX_COMMAND;
    err = docker_exec(m->r.d, t->container, &eo, command_output, command_done, t, &t->stream);
    if (err != 0) {
        t->stream = NULL;
        command_done(t, err, hdc_strerror(err), -1);
    }
}

/* ---- the client node ------------------------------------------------------------ */

static void client_done(void *data, int status, const char *msg, const client_info *info) {
    target *t = data;

    if (status != 0) {
        set_outcome(t, MATRIX_FAILED, "client", "the client node did not come up: %s",
                    msg != NULL ? msg : "unknown error");
        decided(t);
        return;
    }
    if (t->m->interrupted) {
        set_outcome(t, MATRIX_ERROR, "interrupted",
                    "interrupted before the command "
                    "ran");
        decided(t);
        return;
    }
    snprintf(t->user, sizeof(t->user), "%s", info->user);
    snprintf(t->container, sizeof(t->container), "%s", info->container);
    run_command(t);
}

/* The client's initialize.sh (as `hdc client` runs it): its output goes to
 * matrix.log and stderr, not into the command's report. */
static void init_output(void *data, int stream, const char *buf, size_t len) {
    target *t = data;

    if (t->log != NULL)
        logs_sink_append(t->log, buf, len);
    fwrite(buf, 1, len, stderr);
}

static void start_client(target *t) {
    matrix_run *m = t->m;
    client_opts co = {
        .cluster = t->name,
        .plugins = &m->pp,
        .port = 0,
        .key_dir = m->key_dir,
        .test_user = m->test_user,
        .init_dirs = cmd_client_tests_dirs(&m->ctx->env),
        .init_output = init_output,
        .images = t->member->images,
    };
    int err;

    make_dir(m->logs_root);
    make_dir(t->logs_dir);
    if (logs_sink_open(&m->r.loop, t->log_path, 1, &t->log) != 0)
        t->log = NULL;
    t->phase = MATRIX_CLIENT;
    err = client_start(&m->r.loop, m->r.d, &co, client_done, t);
    if (err != 0) {
        set_outcome(t, MATRIX_FAILED, "client",
                    "cannot start the client node of %s: "
                    "%s",
                    t->name, hdc_strerror(err));
        decided(t);
    }
}

/* ---- the cluster ---------------------------------------------------------------- */

/* Up: the nodes' logs go on into logs/<cluster>/ (the up follows them)
 * while the client node starts and the command runs. */
static void up_ready(fleet_member *member, const cluster_report *r) {
    target *t = member->data;

    t->ready = 1;
    t->created = 1;
    if (t->m->interrupted) {
        set_outcome(t, MATRIX_ERROR, "interrupted", "interrupted while %s came up", t->name);
        decided(t);
        return;
    }
    fprintf(stderr, "hdc: matrix: [%s] %s is up in %.1f s; starting its client node\n", t->dist,
            t->name, r->total_ms / 1000.0);
    start_client(t);
}

static void after_follow(target *t);

/* The up's end: a failure, or the end of following the logs of a cluster
 * that came up (once the testcase is decided: decided). */
static void up_done(fleet_member *member, int status, const cluster_report *r) {
    target *t = member->data;
    matrix_run *m = t->m;

    t->following = 0;
    if (t->ready) {
        if (t->decided)
            after_follow(t);
        return;
    }
    if (r == NULL && m->interrupted) {
        set_outcome(t, MATRIX_ERROR, "interrupted", "interrupted before %s came up", t->name);
        decided(t);
        return;
    }
    if (r == NULL) {
        if (member->why != NULL) /* its images */
            set_outcome(t, MATRIX_FAILED, "images", "%s: %s", t->name, member->why);
        else
            set_outcome(t, MATRIX_FAILED, "bootstrap", "%s: cannot start the up: %s", t->name,
                        hdc_strerror(status));
        decided(t);
        return;
    }
    if (r->status == 0) { /* up without on_ready: not with follow, but safe */
        up_ready(member, r);
        return;
    }
    /* A name that is taken belongs to someone else: never ours to remove. */
    t->created = r->status != CLUSTER_EEXISTS;
    if (m->interrupted)
        set_outcome(t, MATRIX_ERROR, "interrupted", "interrupted while %s came up", t->name);
    else
        set_outcome(t, MATRIX_FAILED, "bootstrap", "%s",
                    r->message != NULL ? r->message : "the cluster did not come up");
    decided(t);
}

/* A DIST's images were out of date: their build, as `hdc build` shows it. */
static void building(fleet_member *member, const char *image, const char *line) {
    fprintf(stderr, "%s | %s\n", image, line);
}

/* The up of t's cluster starts: it had a slot. */
static void up_started(fleet_member *member) {
    target *t = member->data;

    t->phase = MATRIX_UP;
    t->following = 1;
    t->start_ms = uv_now(&t->m->r.loop);
    fprintf(stderr, "hdc: matrix: [%s] bringing up %s\n", t->dist, t->name);
}

/* ---- bundle and teardown ------------------------------------------------------------ */

static void client_log_written(void *data) {
    teardown(data);
}

static void bundled(void *data, int status) {
    target *t = data;
    logs_sink *sink = NULL;
    char *path;

    if (status != 0)
        report_error("[%s] the logs bundle of %s is incomplete (export-logs: %s %d)", t->dist,
                     t->name, status > 128 ? "signal" : "status",
                     status > 128 ? status - 128 : status);
    /* A client node that failed was removed (a retry must find nothing):
     * its log is what its failure says, last lines included. */
    if (t->failure_type != NULL && strcmp(t->failure_type, "client") == 0 && t->message != NULL &&
        (path = util_asprintf("%s/bundle/client.log", t->logs_dir)) != NULL) {
        if (logs_sink_open(&t->m->r.loop, path, 1, &sink) != 0)
            sink = NULL;
        free(path);
    }
    if (sink == NULL) {
        teardown(t);
        return;
    }
    logs_sink_append(sink, t->message, strlen(t->message));
    logs_sink_append(sink, "\n", 1);
    logs_sink_close(sink, client_log_written, t);
}

/* `hdc export-logs NAME logs/<cluster>/bundle`, as a child. 0, or an error
 * (nothing started). */
static int bundle(target *t) {
    char *dir = util_asprintf("%s/bundle", t->logs_dir);
    const char *args[] = {"export-logs", t->name, dir, NULL};
    int err = dir != NULL ? 0 : UV_ENOMEM;

    make_dir(t->m->logs_root);
    make_dir(t->logs_dir);
    if (err == 0)
        err = runner_run_self(&t->m->r, args, bundled, t);
    if (err != 0)
        report_error("[%s] cannot run export-logs for %s: %s", t->dist, t->name, hdc_strerror(err));
    else
        fprintf(stderr, "hdc: matrix: [%s] writing the logs bundle of %s to %s\n", t->dist, t->name,
                dir);
    free(dir);
    return err;
}

/* The testcase is decided: report it, stop following the logs, then
 * bundle and tear down. */
static void decided(target *t) {
    matrix_run *m = t->m;
    int failed = t->outcome != MATRIX_PASSED;

    t->decided = 1;
    t->end_ms = uv_now(&m->r.loop);
    if (t->log != NULL) {
        char end[256];
        int n = snprintf(end, sizeof(end), "[hdc: %s]\n",
                         t->outcome == MATRIX_PASSED   ? "passed"
                         : t->outcome == MATRIX_FAILED ? "failed"
                                                       : "interrupted");
        logs_sink_append(t->log, end, (size_t)n);
        logs_sink_close(t->log, log_closed, t);
    }
    if (failed) {
        const char *msg = t->message != NULL ? t->message : "failed";
        const char *nl = strchr(msg, '\n');
        fprintf(stderr, "hdc: matrix: [%s] %s after %.1f s: %.*s\n", t->dist,
                t->outcome == MATRIX_ERROR ? "interrupted" : "FAILED",
                seconds(t->start_ms, t->end_ms), nl != NULL ? (int)(nl - msg) : (int)strlen(msg),
                msg);
    } else {
        fprintf(stderr, "hdc: matrix: [%s] passed in %.1f s\n", t->dist,
                seconds(t->start_ms, t->end_ms));
    }
    if (t->following) {
        fleet_stop(t->member); /* up_done goes on once the logs are written */
        return;
    }
    after_follow(t);
}

static void after_follow(target *t) {
    matrix_run *m = t->m;
    int failed = t->outcome != MATRIX_PASSED;

    if (t->created && !m->interrupted && (failed || m->args.bundle_all)) {
        t->phase = MATRIX_BUNDLE;
        if (bundle(t) == 0)
            return;
    }
    teardown(t);
}

static void down_done(void *data, int status, const char *msg, unsigned removed) {
    target *t = data;

    if (status != 0) {
        report_error("[%s] removing %s failed: %s; `hdc down %s` retries", t->dist, t->name, msg,
                     t->name);
        t->m->teardown_failed = 1;
    } else {
        /* client.c makes the key even when the node then fails: the name
         * was this run's, so is the key. */
        client_forget_key(t->m->key_dir, t->name);
    }
    finish(t);
}

static void kept(void *data, int status, const char *msg) {
    target *t = data;

    if (status != 0)
        report_error("[%s] %s is kept, but `hdc gc` may take it once this matrix ends (its "
                     "record could not be rewritten: %s)",
                     t->dist, t->name, msg);
    fprintf(stderr, "hdc: matrix: [%s] %s is kept: `hdc down %s` removes it\n", t->dist, t->name,
            t->name);
    finish(t);
}

static void teardown(target *t) {
    matrix_run *m = t->m;
    int failed = t->outcome != MATRIX_PASSED;

    if (!t->created) {
        finish(t);
        return;
    }
    if (!m->interrupted && (m->args.keep || (m->args.keep_failed && failed))) {
        t->kept = 1;
        /* Held until now: let go, or gc would take it once we exit. */
        if (cluster_release(&m->r.loop, m->r.d, t->name, kept, t) != 0)
            kept(t, UV_ENOMEM, "out of memory");
        return;
    }
    t->phase = MATRIX_DOWN;
    if (cluster_down(&m->r.loop, m->r.d, t->name, down_done, t) != 0)
        down_done(t, UV_EIO, "cannot ask Docker", 0);
}

/* ---- SIGINT, SIGTERM, SIGHUP ------------------------------------------------------------------------ */

static void interrupted(runner *r, int signum) {
    matrix_run *m = r->ctx;

    m->interrupted = 1;
    fprintf(stderr, "\nhdc: matrix: %s: stopping, then removing the clusters of this run\n",
            runner_signal_name(signum));
    fleet_cancel(m->f); /* the ups still coming up; nothing more starts */
    for (size_t i = 0; i < m->n; i++) {
        target *t = &m->t[i];
        if (t->phase == MATRIX_WAITING) {
            set_outcome(t, MATRIX_ERROR, "interrupted",
                        "interrupted before %s was "
                        "started",
                        t->name);
            t->phase = MATRIX_DONE;
        } else if (t->phase == MATRIX_COMMAND && t->stream != NULL) {
            docker_call_cancel(t->stream);
        } else if (t->phase == MATRIX_DONE && t->kept) {
            /* Kept before the interrupt: removed too. */
            t->kept = 0;
            t->phase = MATRIX_DOWN;
            if (cluster_down(&m->r.loop, m->r.d, t->name, down_done, t) != 0)
                down_done(t, UV_EIO, "cannot ask Docker", 0);
        }
        /* A client on its way is waited for; a bundle runs to its end. */
    }
}

/* ---- the end: report and summary ------------------------------------------------------ */

/* Every DIST's result, for the report and the summary (malloc'd). */
static matrix_result *results(const matrix_run *m) {
    matrix_result *res = calloc(m->n + 1, sizeof(*res));

    for (size_t i = 0; res != NULL && i < m->n; i++) {
        const target *t = &m->t[i];
        res[i] = (matrix_result){
            .dist = t->dist,
            .cluster = t->name,
            .outcome = t->outcome,
            .failure_type = t->failure_type,
            .message = t->message,
            .output = t->has_output ? t->out.buf : NULL,
            .output_len = t->out.len,
            .output_cut = t->out.cut,
            .log_path = t->log_path,
            .logs_dir = t->logs_dir,
            .kept = t->kept,
            .time_s = seconds(t->start_ms, t->end_ms),
            .stand_in =
                t->member != NULL && t->member->images != NULL && t->member->images->stand_in,
        };
    }
    return res;
}

static int write_junit(matrix_run *m, const matrix_result *res) {
    char host[256] = "";
    matrix_suite suite = {
        .started = m->started,
        .time_s = seconds(m->start_ms, uv_now(&m->r.loop)),
        .hostname = host,
        .command = m->command,
    };
    char *xml;
    FILE *f;
    int ok;

    gethostname(host, sizeof(host) - 1);
    xml = matrix_junit_xml(res, m->n, &suite);
    if (xml == NULL) {
        report_error("cannot write %s: out of memory", m->args.junit);
        return -1;
    }
    f = fopen(m->args.junit, "w");
    ok = f != NULL && fputs(xml, f) >= 0;
    if (f != NULL && fclose(f) != 0)
        ok = 0;
    if (!ok)
        report_error("cannot write the JUnit report %s: %s", m->args.junit, strerror(errno));
    free(xml);
    return ok ? 0 : -1;
}

/* Kept clusters go on writing their nodes' logs after we return, as after
 * `hdc up`: a detached `hdc logs NAME -f --write-to DIR`. */
static void spawn_log_writer(target *t) {
    const char *args[] = {"logs", t->name, "-f", "--write-to", t->logs_dir, NULL};

    if (runner_spawn_detached(&t->m->r, args) != 0)
        report_error("[%s] cannot start the log writer of %s", t->dist, t->name);
}

/* ---- the command's entry ------------------------------------------------------------- */

/* Loads every plugin, names and plans every cluster: 0, or RUNNER_USAGE
 * (the reason printed) before anything is created. */
static int prepare(matrix_run *m) {
    fleet_opts fo = {
        .datanodes = m->args.datanodes,
        .timeout_s = m->args.timeout_s,
        .parallel = m->args.parallel,
        .follow = 1,
        .logs_root = m->logs_root,
        .keys_root = m->key_dir,
        .boot_timeout_s = m->args.boot_timeout_s,
        .held = 1, /* a matrix killed leaves clusters gc removes */
        .ttl_s = m->args.ttl_s,
        .test_user = m->test_user,
        .subnet_pool = m->ctx->env.subnet_pool,
        .memory_mb = m->args.memory_mb,
        .images = &m->images,
    };
    fleet_hooks hooks = {
        .started = up_started, .ready = up_ready, .done = up_done, .building = building};
    char err[1024];
    long pid = (long)getpid();

    if (cmd_check_dirs(&m->ctx->env, err, sizeof(err)) != 0) {
        report_error("%s", err);
        return RUNNER_USAGE;
    }
    if (plugin_path_init(&m->pp, m->ctx->plugin_path, m->ctx->env.plugin_path) != 0) {
        report_error("cannot read the plugin path");
        return RUNNER_USAGE;
    }
    if (fleet_new(&fo, &hooks, m, &m->f) != 0 ||
        (m->t = calloc(m->args.n_dists, sizeof(*m->t))) == NULL) {
        report_error("out of memory");
        return RUNNER_FAILED;
    }
    for (size_t i = 0; i < m->args.n_dists; i++) {
        target *t = &m->t[i];
        plugin *plug;
        t->m = m;
        t->dist = m->args.dists[i];
        m->n++;
        if (matrix_tail_init(&t->out, MATRIX_OUTPUT_CAP) != 0) {
            report_error("out of memory");
            return RUNNER_FAILED;
        }
        if (runner_load(m->ctx->plugin_path, m->ctx->env.plugin_path, t->dist, &plug) != 0)
            return RUNNER_USAGE;
        if (matrix_cluster_name(t->dist, pid, t->name, sizeof(t->name), err, sizeof(err)) != 0) {
            plugin_unload(plug);
            report_error("%s", err);
            return RUNNER_USAGE;
        }
        for (size_t k = 0; k < i; k++)
            if (strcmp(m->t[k].name, t->name) == 0) {
                plugin_unload(plug);
                report_error("'%s' and '%s' would both be cluster %s: run them in two "
                             "matrices",
                             m->t[k].dist, t->dist, t->name);
                return RUNNER_USAGE;
            }
        if (fleet_add(m->f, plug, t->name, &t->member, err, sizeof(err)) != 0) {
            report_error("%s", err);
            return RUNNER_USAGE;
        }
        t->member->data = t;
        t->logs_dir = util_asprintf("%s/%s", m->logs_root, t->name);
        t->log_path = util_asprintf("%s/matrix.log", t->logs_dir != NULL ? t->logs_dir : "");
        if (t->logs_dir == NULL || t->log_path == NULL) {
            report_error("out of memory");
            return RUNNER_FAILED;
        }
    }
    return 0;
}

static int junit_dir_ok(const char *file) {
    char dir[4096];
    char *slash;

    snprintf(dir, sizeof(dir), "%s", file);
    slash = strrchr(dir, '/');
    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    return access(dir, W_OK) == 0;
}

static int all_done(const matrix_run *m) {
    for (size_t i = 0; i < m->n; i++)
        if (m->t[i].phase != MATRIX_DONE)
            return 0;
    return 1;
}

/* After every DIST is done: the report, the summary, the exit status. */
static int end(matrix_run *m) {
    int status = m->interrupted || m->teardown_failed;
    matrix_result *res;

    for (size_t i = 0; i < m->n; i++)
        if (m->t[i].outcome != MATRIX_PASSED)
            status = 1;
    res = results(m);
    if (res == NULL) {
        report_error("out of memory");
        status = 1;
    } else if (m->args.junit != NULL && write_junit(m, res) != 0) {
        status = 1;
    } else if (m->args.junit != NULL) {
        fprintf(stderr, "hdc: matrix: JUnit report in %s\n", m->args.junit);
    }
    if (res != NULL) {
        matrix_summary(stderr, res, m->n, m->command);
        if (m->json) {
            json_t *arr = matrix_results_json(res, m->n);
            json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
            fputc('\n', stdout);
            json_decref(arr);
        }
    }
    free(res);
    for (size_t i = 0; i < m->n; i++)
        if (m->t[i].kept)
            spawn_log_writer(&m->t[i]);
    runner_finish(&m->r);
    return status;
}

static int run(const cmd_ctx *ctx, void *opts) {
    matrix_run *m = calloc(1, sizeof(*m));
    int status;

    if (m == NULL) {
        report_error("out of memory");
        return RUNNER_FAILED;
    }
    m->ctx = ctx;
    m->args = *(cmd_matrix_opts *)opts;
    m->json = ctx->json;
    m->logs_root = cmd_logs_root(&ctx->env);
    m->images = (images_opts){.clusters_dir = cmd_clusters_dir(&ctx->env),
                              .dist_cache = ctx->env.dist_cache};
    m->key_dir = cmd_state_dir(&ctx->env);
    m->test_user = m->args.test_user != NULL    ? m->args.test_user
                   : ctx->env.test_user != NULL ? ctx->env.test_user
                                                : "hdc";
    status = RUNNER_USAGE;
    if (m->args.junit != NULL && !junit_dir_ok(m->args.junit)) {
        report_error("--junit %s: its directory is not there or not writable", m->args.junit);
        goto exit;
    }
    m->command = matrix_command_line(m->args.cmd, m->args.n_cmd);
    if (m->command == NULL) {
        report_error("out of memory");
        status = RUNNER_FAILED;
        goto exit;
    }
    if ((status = prepare(m)) != 0 || (status = runner_open(&m->r, "matrix")) != 0)
        goto exit;
    fleet_attach(m->f, &m->r.loop, m->r.d);
    runner_on_signal(&m->r, interrupted, m);
    runner_hold_signals(&m->r, 1);
    m->started = time(NULL);
    m->start_ms = uv_now(&m->r.loop);
    for (size_t i = 0; i < m->n; i++)
        fleet_launch(m->t[i].member);
    while (!all_done(m))
        uv_run(&m->r.loop, UV_RUN_ONCE);
    runner_hold_signals(&m->r, 0);
    status = end(m);

exit:
    for (size_t i = 0; i < m->n; i++) {
        matrix_tail_free(&m->t[i].out);
        free(m->t[i].message);
        free(m->t[i].logs_dir);
        free(m->t[i].log_path);
    }
    fleet_free(m->f);
    free(m->command);
    plugin_path_free(&m->pp);
    free(m->t);
    free(m);
    return status;
}

static int parse(const cmd_ctx *ctx, int argc, char **argv, void *opts, char *err, size_t err_len) {
    return cmd_matrix_parse(ctx, argc, argv, opts, err, err_len);
}

static void free_opts(void *opts) {
    cmd_matrix_opts *o = opts;

    free(o->dists);
}

const cmd cmd_matrix = {
    .name = "matrix",
    .usage = "hdc matrix DIST... [--parallel N] [--junit FILE] [--keep] [--keep-failed] -- CMD "
             "[ARG...]",
    .summary = "a cluster per DIST, CMD in each client node, a JUnit report (also: --timeout S, "
               "--datanodes N, --memory MB, --ttl DURATION, --bundle-all, --test-user USER)",
    .opts_size = sizeof(cmd_matrix_opts),
    .parse = parse,
    .run = run,
    .free = free_opts,
};
