/* engine/cmd/ls.c's parse: ls takes no arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cmd.h"

static void nothing_is_taken(void **state) {
    static const cmd_ctx ctx;
    char *argv[] = {"ls", NULL};
    char err[256] = "";

    assert_int_equal(cmd_ls.parse(&ctx, 1, argv, NULL, err, sizeof(err)), 0);
    assert_string_equal(err, "");
}

static void an_argument_is_refused(void **state) {
    static const cmd_ctx ctx;
    char *argv[] = {"ls", "x", NULL};
    char err[256] = "";

    assert_int_equal(cmd_ls.parse(&ctx, 2, argv, NULL, err, sizeof(err)), RUNNER_USAGE);
    assert_string_equal(err, "ls: unexpected argument 'x': it takes none");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nothing_is_taken),
        cmocka_unit_test(an_argument_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
