/* engine/runner.c: a spawn that fails leaves no handle behind (libuv
 * requires the close of a handle uv_spawn initialized: under ASan a
 * missing close, or a free before it, is a use after free in the close
 * walk), one that succeeds is detached; DOCKER_HOST refused with 2; the
 * worst exit status wins; SIGINT, SIGTERM and SIGHUP alike: the first
 * stops the command cleanly, a second never aborts that, a third ends the
 * process by the signal. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "runner.h"

/* Reads every handle of the loop from this (instrumented) file: libuv's
 * own walk is not instrumented, so a handle freed while still in the loop
 * shows here, as a use after free under ASan. */
static void count_handle(uv_handle_t *h, void *arg) {
    size_t *n = arg;

    *n += h->type == UV_PROCESS;
}

static void a_failed_spawn_is_closed_and_the_loop_ends_clean(void **state) {
    const char *args[] = {"nope", NULL};
    size_t processes = 0;
    runner r;

    assert_int_equal(runner_open(&r, NULL), 0);
    assert_int_equal(runner_spawn_file(&r, "/nonexistent/hdc-no-such-program", args), UV_ENOENT);
    assert_int_equal(runner_spawn_file(&r, "/nonexistent/hdc-no-such-program", args), UV_ENOENT);
    uv_walk(&r.loop, count_handle, &processes);
    assert_int_equal(processes, 2); /* closing, not freed */
    assert_int_equal(runner_finish(&r), RUNNER_OK);
}

static void a_detached_spawn_is_not_waited_for(void **state) {
    const char *args[] = {"true", NULL};
    runner r;

    assert_int_equal(runner_open(&r, NULL), 0);
    assert_int_equal(runner_spawn_file(&r, "/bin/true", args), 0);
    assert_int_equal(runner_finish(&r), RUNNER_OK);
}

static void a_bad_docker_host_is_bad_usage(void **state) {
    runner r;

    setenv("DOCKER_HOST", "ftp://x", 1);
    assert_int_equal(runner_open(&r, NULL), RUNNER_USAGE);
    assert_int_equal(runner_open(&r, "matrix"), RUNNER_USAGE);
    unsetenv("DOCKER_HOST");
}

static void the_worst_status_stays(void **state) {
    runner r;

    assert_int_equal(runner_open(&r, NULL), 0);
    runner_fail(&r, RUNNER_USAGE, "first: %s", "bad usage");
    runner_fail(&r, RUNNER_FAILED, "then: %s", "a failure");
    assert_int_equal(runner_finish(&r), RUNNER_USAGE);
}

static int stops, last_signal;

static void stop(runner *r, int signum) {
    stops++;
    last_signal = signum;
}

/* In a child: raises sig and runs the loop until the runner has seen it. */
static void deliver(runner *r, int sig, unsigned want_signaled) {
    raise(sig);
    for (int i = 0; i < 1000 && r->signaled < want_signaled; i++)
        uv_run(&r->loop, UV_RUN_ONCE);
}

static void three_signals_stop_go_on_then_exit(void **state) {
    int fds[2], status;
    char out[1024] = "";
    ssize_t n, got = 0;
    pid_t pid;

    assert_int_equal(pipe(fds), 0);
    pid = fork();
    if (pid == 0) {
        runner r;
        dup2(fds[1], 2);
        close(fds[0]);
        if (runner_open(&r, NULL) != 0)
            _exit(10);
        runner_on_signal(&r, stop, NULL);
        runner_hold_signals(&r, 1);
        deliver(&r, SIGTERM, 1);
        if (stops != 1 || last_signal != SIGTERM)
            _exit(11);
        deliver(&r, SIGHUP, 2);
        if (stops != 1) /* the cleanup goes on */
            _exit(12);
        deliver(&r, SIGINT, 3); /* ends the process */
        _exit(13);
    }
    close(fds[1]);
    while ((n = read(fds[0], out + got, sizeof(out) - 1 - (size_t)got)) > 0)
        got += n;
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFSIGNALED(status))
        fail_msg("the child exited %d; its stderr: %s", WEXITSTATUS(status), out);
    assert_int_equal(WTERMSIG(status), SIGINT);
    assert_non_null(strstr(out, "hdc: hung up again: still cleaning up; a third signal exits at "
                                "once and leaves the rest to `hdc gc`\n"));
    assert_non_null(strstr(out, "hdc: interrupted a third time: exiting now; `hdc gc` removes "
                                "what is left\n"));
}

static void without_a_stop_a_signal_ends_the_process(void **state) {
    int status;
    pid_t pid = fork();

    if (pid == 0) {
        runner r;
        if (runner_open(&r, NULL) != 0)
            _exit(10);
        runner_hold_signals(&r, 1);
        deliver(&r, SIGHUP, 1);
        _exit(13);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGHUP);
    assert_string_equal(runner_signal_name(SIGTERM), "terminated");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_failed_spawn_is_closed_and_the_loop_ends_clean),
        cmocka_unit_test(a_detached_spawn_is_not_waited_for),
        cmocka_unit_test(a_bad_docker_host_is_bad_usage),
        cmocka_unit_test(the_worst_status_stays),
        cmocka_unit_test(three_signals_stop_go_on_then_exit),
        cmocka_unit_test(without_a_stop_a_signal_ends_the_process),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
