/* engine/cmd/build_base.c's parse: the images and --no-cache, and what it
 * refuses (with the message hdc prints after "hdc: "). */
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

static int parse(cmd_build_base_opts *o, char *err, size_t len, int argc, char **argv) {
    memset(o, 0, sizeof(*o));
    err[0] = '\0';
    return cmd_build_base_parse(&ctx, argc, argv, o, err, len);
}

static void no_arguments_leave_the_defaults(void **state) {
    char *argv[] = {"build-base", NULL};
    cmd_build_base_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), 1, argv), 0);
    assert_null(o.base_image);
    assert_null(o.zk_base_image);
    assert_false(o.nocache);
    assert_string_equal(err, "");
}

static void images_and_no_cache_in_any_order(void **state) {
    char *a[] = {"build-base", "--base-image", "debian:bookworm", "--no-cache", NULL};
    char *b[] = {"build-base", "--no-cache",   "--zk-base-image",
                 "alpine:3",   "--base-image", "eclipse-temurin:11-jdk",
                 NULL};
    cmd_build_base_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), 4, a), 0);
    assert_string_equal(o.base_image, "debian:bookworm");
    assert_null(o.zk_base_image);
    assert_true(o.nocache);
    assert_int_equal(parse(&o, err, sizeof(err), 6, b), 0);
    assert_string_equal(o.base_image, "eclipse-temurin:11-jdk");
    assert_string_equal(o.zk_base_image, "alpine:3");
    assert_true(o.nocache);
}

static void a_value_is_taken_whatever_it_looks_like(void **state) {
    char *a[] = {"build-base", "--base-image", "--no-cache", NULL};
    char *b[] = {"build-base", "--base-image", "a", "--base-image", "b", NULL};
    char *c[] = {"build-base", "--zk-base-image", "", NULL};
    cmd_build_base_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), 3, a), 0);
    assert_string_equal(o.base_image, "--no-cache");
    assert_false(o.nocache);
    assert_int_equal(parse(&o, err, sizeof(err), 5, b), 0);
    assert_string_equal(o.base_image, "b");
    assert_int_equal(parse(&o, err, sizeof(err), 3, c), 0);
    assert_string_equal(o.zk_base_image, "");
}

static void refusals_name_the_first_bad_argument(void **state) {
    char *flag[] = {"build-base", "--frobnicate", "--no-cache", NULL};
    char *extra[] = {"build-base", "extra", NULL};
    char *base[] = {"build-base", "--base-image", NULL};
    char *zk[] = {"build-base", "--no-cache", "--zk-base-image", NULL};
    char *eq[] = {"build-base", "--base-image=debian:bookworm", NULL};
    char *after[] = {"build-base", "--base-image", "x", "bogus", "--frobnicate", NULL};
    cmd_build_base_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), 3, flag), RUNNER_USAGE);
    assert_string_equal(err, "build-base: unexpected argument '--frobnicate'");
    assert_int_equal(parse(&o, err, sizeof(err), 2, extra), RUNNER_USAGE);
    assert_string_equal(err, "build-base: unexpected argument 'extra'");
    assert_int_equal(parse(&o, err, sizeof(err), 2, base), RUNNER_USAGE);
    assert_string_equal(err, "build-base: unexpected argument '--base-image'");
    assert_int_equal(parse(&o, err, sizeof(err), 3, zk), RUNNER_USAGE);
    assert_string_equal(err, "build-base: unexpected argument '--zk-base-image'");
    assert_int_equal(parse(&o, err, sizeof(err), 2, eq), RUNNER_USAGE);
    assert_string_equal(err, "build-base: unexpected argument '--base-image=debian:bookworm'");
    assert_int_equal(parse(&o, err, sizeof(err), 5, after), RUNNER_USAGE);
    assert_string_equal(err, "build-base: unexpected argument 'bogus'");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_arguments_leave_the_defaults),
        cmocka_unit_test(images_and_no_cache_in_any_order),
        cmocka_unit_test(a_value_is_taken_whatever_it_looks_like),
        cmocka_unit_test(refusals_name_the_first_bad_argument),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
