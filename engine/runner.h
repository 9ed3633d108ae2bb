/* What every command of engine/cmd/ shares once it has parsed its
 * arguments: the loop, the Docker client, the signals, loading a plugin,
 * printing an error, and starting the detached hdc processes that outlive
 * a command (the log writer). A command owns one runner for its run.
 *
 * Messages for the user go to stderr as one line "hdc: <what failed>:
 * <why>: <what to do>"; stdout carries only what was asked for.
 */
#ifndef HDC_RUNNER_H
#define HDC_RUNNER_H

#include <stddef.h>
#include <uv.h>

#include "docker.h"
#include "plugin_host.h"

/* Exit statuses (docs/cli.md). */
enum runner_exit {
    RUNNER_OK = 0,     /* the work was done */
    RUNNER_FAILED = 1, /* the work failed: a service did not come up, a command failed */
    RUNNER_USAGE = 2,  /* bad usage or input: nothing was created or changed */
};

typedef struct runner runner;

/* What a command does on SIGINT, SIGTERM or SIGHUP: stop cleanly. */
typedef void (*runner_signal_fn)(runner *r, int signum);

#define RUNNER_SIGNALS 3 /* SIGINT, SIGTERM, SIGHUP */

struct runner {
    uv_loop_t loop;
    docker *d;
    uv_signal_t signals[RUNNER_SIGNALS];
    unsigned signaled;          /* how many have come */
    runner_signal_fn on_signal; /* NULL: end as an interrupted program does */
    void *ctx;                  /* the command's */
    int status;                 /* the exit status: RUNNER_OK until something fails */
    int open;
};

/* The loop and a Docker client for $DOCKER_HOST. RUNNER_USAGE, with the
 * message printed, when DOCKER_HOST is not an address hdc can use (who:
 * "matrix" prefixes it, or NULL); else 0. */
int runner_open(runner *r, const char *who);

/* What a command does on the first SIGINT, SIGTERM or SIGHUP (a user's
 * ^C, a CI job cancelled, a terminal closed): fn stops its work cleanly.
 * CI runners escalate, so a second signal never aborts that cleanup (it
 * is told it goes on), and a third ends the process at once, by the
 * signal, leaving what is not cleaned up to `hdc gc`. The handles keep the
 * loop alive only while runner_hold_signals is on. */
void runner_on_signal(runner *r, runner_signal_fn fn, void *ctx);
void runner_hold_signals(runner *r, int on);

/* "interrupted" (SIGINT), "terminated" (SIGTERM), "hung up" (SIGHUP). */
const char *runner_signal_name(int signum);

/* Runs the loop until the command's work is done, closes everything, and
 * returns the exit status. */
int runner_finish(runner *r);

/* "hdc: " fmt "\n" on stderr. */
void runner_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The error, and the exit status the command ends with (the worst yet). */
void runner_fail(runner *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The plugin of dist on the search path: flag_path (--plugin-path), then
 * env_path ($HDC_PLUGIN_PATH), then the installed and the build directory.
 * On failure the reason is printed (with the known distributions when
 * there is no such plugin) and the error returned. */
int runner_load(const char *flag_path, const char *env_path, const char *dist, plugin **out);

/* Runs `hdc ARGS...` (args NULL-terminated) detached from this process:
 * its own session, no stdio. 0, or a negative error (nothing runs then). */
int runner_spawn_detached(runner *r, const char *const *args);

/* Runs `hdc ARGS...` as a child whose output goes to stderr (stdout stays
 * the command's), and calls done(data, status) when it has exited: its
 * exit status, or 128 + a signal's number. 0, or a negative error (then
 * nothing runs and done is never called). */
typedef void (*runner_child_cb)(void *data, int status);
int runner_run_self(runner *r, const char *const *args, runner_child_cb done, void *data);

/* The same with another program: file, argv args (args[0] its name). */
int runner_spawn_file(runner *r, const char *file, const char *const *args);

#endif
