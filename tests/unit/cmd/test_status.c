/* engine/cmd/status.c's parse: one cluster name, and what it refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmd.h"

static const cmd_ctx ctx;

static int parse(cmd_status_opts *o, char *err, size_t len, int argc, char **argv) {
    memset(o, 0, sizeof(*o));
    err[0] = '\0';
    return cmd_status_parse(&ctx, argc, argv, o, err, len);
}

static void one_name_is_taken(void **state) {
    char *a[] = {"status", "c-1", NULL};
    char *digit[] = {"status", "0abc", NULL};
    cmd_status_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), 2, a), 0);
    assert_string_equal(o.name, "c-1");
    assert_string_equal(err, "");
    assert_int_equal(parse(&o, err, sizeof(err), 2, digit), 0);
    assert_string_equal(o.name, "0abc");
}

static void not_one_name_is_refused(void **state) {
    char *none[] = {"status", NULL};
    char *two[] = {"status", "c1", "c2", NULL};
    char *flag[] = {"status", "c1", "--frobnicate", NULL};
    cmd_status_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), 1, none), RUNNER_USAGE);
    assert_string_equal(err, "status: give one cluster name; `hdc ls` lists them");
    assert_int_equal(parse(&o, err, sizeof(err), 3, two), RUNNER_USAGE);
    assert_string_equal(err, "status: give one cluster name; `hdc ls` lists them");
    assert_int_equal(parse(&o, err, sizeof(err), 3, flag), RUNNER_USAGE);
    assert_string_equal(err, "status: give one cluster name; `hdc ls` lists them");
}

static void a_bad_name_is_refused(void **state) {
    char *empty[] = {"status", "", NULL};
    char *upper[] = {"status", "c-Upper", NULL};
    char *flag[] = {"status", "--frobnicate", NULL};
    char *longer[] = {"status", "c-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL};
    cmd_status_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), 2, empty), RUNNER_USAGE);
    assert_string_equal(err, "status: a cluster name cannot be empty");
    assert_int_equal(parse(&o, err, sizeof(err), 2, upper), RUNNER_USAGE);
    assert_string_equal(err, "status: cluster name 'c-Upper' has 'U': use only a-z, 0-9 and '-'");
    assert_int_equal(parse(&o, err, sizeof(err), 2, flag), RUNNER_USAGE);
    assert_string_equal(
        err, "status: cluster name '--frobnicate' must start with a lowercase letter or a digit");
    assert_int_equal(parse(&o, err, sizeof(err), 2, longer), RUNNER_USAGE);
    assert_string_equal(
        err,
        "status: cluster name 'c-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' is longer than 32 characters");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_name_is_taken),
        cmocka_unit_test(not_one_name_is_refused),
        cmocka_unit_test(a_bad_name_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
