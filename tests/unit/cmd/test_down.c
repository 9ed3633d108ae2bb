/* engine/cmd/down.c's parse: names, --all, and what it refuses. */
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

static int parse(cmd_down_opts *o, char *err, size_t len, int argc, char **argv) {
    memset(o, 0, sizeof(*o));
    return cmd_down_parse(&ctx, argc, argv, o, err, len);
}

static void names_and_all(void **state) {
    char *a[] = {"down", "c1", "c-2", NULL};
    char *b[] = {"down", "--all", NULL};
    cmd_down_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), 3, a), 0);
    assert_int_equal(o.n_names, 2);
    assert_string_equal(o.names[1], "c-2");
    assert_false(o.all);
    free(o.names);
    assert_int_equal(parse(&o, err, sizeof(err), 2, b), 0);
    assert_true(o.all);
    assert_int_equal(o.n_names, 0);
    free(o.names);
}

static void refusals_say_what_is_wrong(void **state) {
    char *none[] = {"down", NULL};
    char *both[] = {"down", "--all", "c1", NULL};
    char *flag[] = {"down", "--force", NULL};
    char *bad[] = {"down", "Bad_Name", NULL};
    cmd_down_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), 1, none), RUNNER_USAGE);
    assert_string_equal(err, "down: give cluster names, or --all");
    free(o.names);
    assert_int_equal(parse(&o, err, sizeof(err), 3, both), RUNNER_USAGE);
    assert_string_equal(err, "down: give cluster names, or --all");
    free(o.names);
    assert_int_equal(parse(&o, err, sizeof(err), 2, flag), RUNNER_USAGE);
    assert_string_equal(err, "down: unknown flag '--force'");
    free(o.names);
    assert_int_equal(parse(&o, err, sizeof(err), 2, bad), RUNNER_USAGE);
    assert_non_null(strstr(err, "Bad_Name"));
    free(o.names);
}

static void many_names_are_all_kept(void **state) {
    char *argv[202] = {"down"};
    char names[200][16];
    cmd_down_opts o;
    char err[256];

    for (int i = 0; i < 200; i++) {
        snprintf(names[i], sizeof(names[i]), "c%d", i);
        argv[i + 1] = names[i];
    }
    assert_int_equal(parse(&o, err, sizeof(err), 201, argv), 0);
    assert_int_equal(o.n_names, 200);
    free(o.names);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_and_all),
        cmocka_unit_test(refusals_say_what_is_wrong),
        cmocka_unit_test(many_names_are_all_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
