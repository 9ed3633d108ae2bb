/* engine/cmd/gc.c's parse: gc takes no arguments, and says which one it
 * was given. */
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

static int parse(char *err, size_t len, int argc, char **argv) {
    err[0] = '\0';
    return cmd_gc.parse(&ctx, argc, argv, NULL, err, len);
}

static void nothing_is_accepted(void **state) {
    char *argv[] = {"gc", NULL};
    char err[256];

    assert_int_equal(parse(err, sizeof(err), 1, argv), 0);
    assert_string_equal(err, "");
}

static void any_argument_is_refused_by_the_first(void **state) {
    char *extra[] = {"gc", "extra", NULL};
    char *flag[] = {"gc", "--frobnicate", NULL};
    char *stopped[] = {"gc", "--stopped", NULL};
    char *older[] = {"gc", "--older-than", "1h", NULL};
    char *images[] = {"gc", "--images", "--stopped", NULL};
    char *dashes[] = {"gc", "--", "x", NULL};
    char err[256];

    assert_int_equal(parse(err, sizeof(err), 2, extra), RUNNER_USAGE);
    assert_string_equal(err, "gc: unexpected argument 'extra': it takes none");
    assert_int_equal(parse(err, sizeof(err), 2, flag), RUNNER_USAGE);
    assert_string_equal(err, "gc: unexpected argument '--frobnicate': it takes none");
    assert_int_equal(parse(err, sizeof(err), 2, stopped), RUNNER_USAGE);
    assert_string_equal(err, "gc: unexpected argument '--stopped': it takes none");
    assert_int_equal(parse(err, sizeof(err), 3, older), RUNNER_USAGE);
    assert_string_equal(err, "gc: unexpected argument '--older-than': it takes none");
    assert_int_equal(parse(err, sizeof(err), 3, images), RUNNER_USAGE);
    assert_string_equal(err, "gc: unexpected argument '--images': it takes none");
    assert_int_equal(parse(err, sizeof(err), 3, dashes), RUNNER_USAGE);
    assert_string_equal(err, "gc: unexpected argument '--': it takes none");
}

static void the_table_entry(void **state) {
    assert_string_equal(cmd_gc.name, "gc");
    assert_ptr_equal(cmd_find("gc"), &cmd_gc);
    assert_null(cmd_gc.free);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nothing_is_accepted),
        cmocka_unit_test(any_argument_is_refused_by_the_first),
        cmocka_unit_test(the_table_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
