/* The runner every command shares (runner.h).
 *
 * Decisions a newcomer might question:
 * - SIGINT, SIGTERM and SIGHUP are caught by handles that do not keep the
 *   loop alive unless the command holds them (runner_hold_signals): a
 *   command with nothing to stop cleanly ends as an interrupted program
 *   does, by the signal itself.
 * - The third signal ends the process by that signal, whatever is under
 *   way: the user (or the CI runner's escalation) asked twice to stop
 *   waiting. What an up leaves then is an orphan `hdc gc` removes.
 * - A detached process's handle is closed at once (it is never waited
 *   for), and also after a failed uv_spawn: libuv requires the close of a
 *   handle uv_spawn initialized, whatever it returned.
 */
#include "runner.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static void say(const char *fmt, va_list ap) {
    fputs("hdc: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void runner_error(const char *fmt, ...) {
    va_list ap;

    va_start(ap, fmt);
    say(fmt, ap);
    va_end(ap);
}

void runner_fail(runner *r, int status, const char *fmt, ...) {
    va_list ap;

    va_start(ap, fmt);
    say(fmt, ap);
    va_end(ap);
    if (status > r->status)
        r->status = status;
}

static const int caught[RUNNER_SIGNALS] = {SIGINT, SIGTERM, SIGHUP};

const char *runner_signal_name(int signum) {
    switch (signum) {
    case SIGINT: return "interrupted";
    case SIGTERM: return "terminated";
    case SIGHUP: return "hung up";
    default: return "signaled";
    }
}

/* Ends the process by signum, as if it had not been caught. */
static void die_by(int signum) {
    fflush(stdout);
    signal(signum, SIG_DFL);
    raise(signum);
}

static void on_signal(uv_signal_t *h, int signum) {
    runner *r = h->data;

    if (r->on_signal == NULL)
        die_by(signum);
    switch (++r->signaled) {
    case 1: r->on_signal(r, signum); break;
    case 2:
        fprintf(stderr,
                "hdc: %s again: still cleaning up; a third signal exits at once and "
                "leaves the rest to `hdc gc`\n",
                runner_signal_name(signum));
        break;
    default:
        fprintf(stderr, "hdc: %s a third time: exiting now; `hdc gc` removes what is left\n",
                runner_signal_name(signum));
        die_by(signum);
    }
}

int runner_open(runner *r, const char *who) {
    const char *timeout = getenv("HDC_DOCKER_TIMEOUT");
    const char *pace = getenv("HDC_DOCKER_PACE");
    unsigned pace_max;

    memset(r, 0, sizeof(*r));
    if (docker_timeout_parse(timeout, NULL) != 0) {
        runner_error("%s%sHDC_DOCKER_TIMEOUT '%s': give a whole number of seconds from 1 to %u",
                     who != NULL ? who : "", who != NULL ? ": " : "", timeout,
                     DOCKER_TIMEOUT_MAX_S);
        return RUNNER_USAGE;
    }
    if (docker_pace_parse(pace, &pace_max) != 0) {
        runner_error("%s%sHDC_DOCKER_PACE '%s': give a whole number from 0 (no cap) to %u",
                     who != NULL ? who : "", who != NULL ? ": " : "", pace, DOCKER_PACE_MAX);
        return RUNNER_USAGE;
    }
    uv_loop_init(&r->loop);
    if (docker_new(&r->loop, NULL, &r->d) != 0) {
        const char *host = getenv("DOCKER_HOST");
        runner_error("%s%sDOCKER_HOST '%s' is not unix:// or tcp://: fix it or unset it",
                     who != NULL ? who : "", who != NULL ? ": " : "", host != NULL ? host : "");
        uv_loop_close(&r->loop);
        return RUNNER_USAGE;
    }
    docker_set_pace(r->d, pace_max);
    for (int i = 0; i < RUNNER_SIGNALS; i++) {
        uv_signal_init(&r->loop, &r->signals[i]);
        r->signals[i].data = r;
        uv_signal_start(&r->signals[i], on_signal, caught[i]);
        uv_unref((uv_handle_t *)&r->signals[i]);
    }
    r->open = 1;
    return 0;
}

void runner_on_signal(runner *r, runner_signal_fn fn, void *ctx) {
    r->on_signal = fn;
    r->ctx = ctx;
}

void runner_hold_signals(runner *r, int on) {
    for (int i = 0; i < RUNNER_SIGNALS; i++)
        if (on)
            uv_ref((uv_handle_t *)&r->signals[i]);
        else
            uv_unref((uv_handle_t *)&r->signals[i]);
}

static void close_walk(uv_handle_t *h, void *arg) {
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

int runner_finish(runner *r) {
    uv_run(&r->loop, UV_RUN_DEFAULT);
    docker_close(r->d, NULL, NULL);
    for (int i = 0; i < RUNNER_SIGNALS; i++)
        uv_close((uv_handle_t *)&r->signals[i], NULL);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    uv_walk(&r->loop, close_walk, NULL);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    uv_loop_close(&r->loop);
    r->open = 0;
    return r->status;
}

int runner_load(const char *flag_path, const char *env_path, const char *dist, plugin **out) {
    plugin_path pp;
    char err[1024];
    int rc = plugin_path_init(&pp, flag_path, env_path);

    if (rc == 0)
        rc = plugin_find(&pp, dist, out, err, sizeof(err));
    else
        snprintf(err, sizeof(err), "%s", hdc_strerror(rc));
    if (rc != 0) {
        runner_error("%s", err);
        if (rc == PLUGIN_ENOTFOUND) {
            char names[2048];
            plugin_known_names(&pp, names, sizeof(names));
            fprintf(stderr, "     known distributions: %s\n",
                    names[0] != '\0' ? names : "none (build them: cmake --build build)");
        }
    }
    plugin_path_free(&pp);
    return rc;
}


static void free_handle(uv_handle_t *h) {
    free(h);
}

int runner_spawn_file(runner *r, const char *file, const char *const *args) {
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE}, {.flags = UV_IGNORE}, {.flags = UV_IGNORE}};
    uv_process_options_t po = {
        .file = file,
        .args = (char **)args,
        .flags = UV_PROCESS_DETACHED,
        .stdio = stdio,
        .stdio_count = 3,
    };
    uv_process_t *proc = malloc(sizeof(*proc));
    int rc;

    if (proc == NULL)
        return UV_ENOMEM;
    rc = uv_spawn(&r->loop, proc, &po);
    /* Closed whatever uv_spawn returned: the child is never waited for. */
    uv_close((uv_handle_t *)proc, free_handle);
    return rc;
}


/* A child of runner_run_self. */
typedef struct child {
    uv_process_t proc;
    runner_child_cb done;
    void *data;
    int status;
} child;

static void child_closed(uv_handle_t *h) {
    child *c = h->data;

    c->done(c->data, c->status);
    free(c);
}

static void child_exited(uv_process_t *p, int64_t exit_status, int term_signal) {
    child *c = p->data;

    c->status = term_signal != 0 ? 128 + term_signal : (int)exit_status;
    uv_close((uv_handle_t *)p, child_closed);
}

/* The argv of `hdc ARGS...` (self is the path of this hdc). */
static const char **self_argv(char *self, const char *const *args) {
    const char **argv;
    size_t n = 0;

    while (args[n] != NULL)
        n++;
    argv = calloc(n + 2, sizeof(*argv));
    if (argv != NULL) {
        argv[0] = self;
        memcpy(argv + 1, args, n * sizeof(*argv));
    }
    return argv;
}

int runner_run_self(runner *r, const char *const *args, runner_child_cb done, void *data) {
    char self[4096];
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_INHERIT_FD, .data.fd = 2},
        {.flags = UV_INHERIT_FD, .data.fd = 2},
    };
    uv_process_options_t po = {.stdio = stdio, .stdio_count = 3, .exit_cb = child_exited};
    child *c;
    const char **argv;
    int rc;

    if ((rc = util_self_path(self, sizeof(self))) != 0)
        return rc;
    if ((argv = self_argv(self, args)) == NULL || (c = calloc(1, sizeof(*c))) == NULL) {
        free(argv);
        return UV_ENOMEM;
    }
    po.file = self;
    po.args = (char **)argv;
    c->done = done;
    c->data = data;
    c->proc.data = c;
    rc = uv_spawn(&r->loop, &c->proc, &po);
    free(argv);
    if (rc != 0) /* closed as libuv requires; done is not called */
        uv_close((uv_handle_t *)&c->proc, free_handle);
    return rc;
}

int runner_spawn_detached(runner *r, const char *const *args) {
    char self[4096];
    const char **argv;
    int rc;

    if ((rc = util_self_path(self, sizeof(self))) != 0)
        return rc;
    if ((argv = self_argv(self, args)) == NULL)
        return UV_ENOMEM;
    rc = runner_spawn_file(r, self, argv);
    free(argv);
    return rc;
}
