/* engine/cmd/help.c's parse: no topic, a command, or an unknown one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cmd.h"

static const cmd_ctx ctx;

static void no_topic_or_a_command(void **state) {
    char *none[] = {"help", NULL};
    char *up[] = {"help", "up", NULL};
    cmd_help_opts o = {0};
    char err[256] = "";

    assert_int_equal(cmd_help_parse(&ctx, 1, none, &o, err, sizeof(err)), 0);
    assert_null(o.topic);
    assert_int_equal(cmd_help_parse(&ctx, 2, up, &o, err, sizeof(err)), 0);
    assert_string_equal(o.topic, "up");
}

static void an_unknown_command_is_refused(void **state) {
    char *argv[] = {"help", "nope", NULL};
    cmd_help_opts o = {0};
    char err[256] = "";

    assert_int_equal(cmd_help_parse(&ctx, 2, argv, &o, err, sizeof(err)), RUNNER_USAGE);
    assert_string_equal(err, "help: unknown command 'nope'; 'hdc help' lists them");
}

static void every_command_is_in_the_table_once(void **state) {
    size_t n = 0;

    for (const cmd *const *c = cmd_table; *c != NULL; c++, n++) {
        assert_ptr_equal(cmd_find((*c)->name), *c);
        assert_non_null((*c)->usage);
        assert_non_null((*c)->parse);
        assert_non_null((*c)->run);
    }
    assert_int_equal(n, 18);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_topic_or_a_command),
        cmocka_unit_test(an_unknown_command_is_refused),
        cmocka_unit_test(every_command_is_in_the_table_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
