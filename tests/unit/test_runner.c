/* engine/runner.c: a spawn that fails leaves no handle behind (libuv
 * requires the close of a handle uv_spawn initialized: under ASan a
 * missing close, or a free before it, is a use after free in the close
 * walk), one that succeeds is detached; DOCKER_HOST refused with 2; the
 * worst exit status wins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_failed_spawn_is_closed_and_the_loop_ends_clean),
        cmocka_unit_test(a_detached_spawn_is_not_waited_for),
        cmocka_unit_test(a_bad_docker_host_is_bad_usage),
        cmocka_unit_test(the_worst_status_stays),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
