/* engine/cmd/matrix.c's parse: DISTs, flags between them, the command
 * after `--`, and what it refuses. */
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

static int parse(cmd_matrix_opts *a, char *err, size_t err_len, ...) {
    static char *argv[64];
    va_list ap;
    int argc = 0;

    argv[argc++] = "matrix";
    va_start(ap, err_len);
    for (char *s; (s = va_arg(ap, char *)) != NULL;)
        argv[argc++] = s;
    va_end(ap);
    argv[argc] = NULL;
    err[0] = '\0';
    memset(a, 0, sizeof(*a));
    return cmd_matrix_parse(&ctx, argc, argv, a, err, err_len);
}

static void args_take_dists_flags_and_the_command(void **state) {
    cmd_matrix_opts a;
    char err[256];

    assert_int_equal(parse(&a, err, sizeof(err), "apache_2.6.0", "--parallel", "2", "apache_3.3.6",
                           "--junit=out.xml", "--keep-failed", "--timeout", "60", "--datanodes=3",
                           "--ttl", "3h", "--memory=6000", "--", "pytest", "-x", "--keep", "--",
                           NULL),
                     0);
    assert_int_equal(a.n_dists, 2);
    assert_string_equal(a.dists[0], "apache_2.6.0");
    assert_string_equal(a.dists[1], "apache_3.3.6");
    assert_int_equal(a.parallel, 2);
    assert_string_equal(a.junit, "out.xml");
    assert_int_equal(a.keep, 0);
    assert_int_equal(a.keep_failed, 1);
    assert_int_equal(a.timeout_s, 60);
    assert_int_equal(a.datanodes, 3);
    assert_int_equal(a.ttl_s, 3 * 3600);
    assert_int_equal(a.memory_mb, 6000);
    assert_int_equal(a.boot_timeout_s, CMD_BOOT_TIMEOUT_S);
    /* Everything after the first `--` is the command's, flags included. */
    assert_int_equal(a.n_cmd, 4);
    assert_string_equal(a.cmd[0], "pytest");
    assert_string_equal(a.cmd[2], "--keep");
    assert_string_equal(a.cmd[3], "--");
    free(a.dists);
}

static void args_defaults(void **state) {
    cmd_matrix_opts a;
    char err[256];

    assert_int_equal(parse(&a, err, sizeof(err), "testdist", "--", "true", NULL), 0);
    assert_int_equal(a.parallel, 0);
    assert_int_equal(a.datanodes, 1);
    assert_int_equal(a.timeout_s, 0);
    assert_null(a.junit);
    assert_int_equal(a.keep + a.keep_failed + a.bundle_all, 0);
    free(a.dists);
}

static void args_errors_say_what_is_wrong(void **state) {
    static const struct {
        const char *args[6];
        const char *want;
    } cases[] = {
        {{"testdist", NULL}, "no `--`"},
        {{"testdist", "--", NULL}, "no command after `--`"},
        {{"--", "true", NULL}, "which distributions"},
        {{"testdist", "--parallel", "0", "--", "true", NULL}, "--parallel '0'"},
        {{"testdist", "--parallel", "x2", "--", "true", NULL}, "--parallel 'x2'"},
        {{"testdist", "--parallel", "-1", "--", "true", NULL}, "--parallel '-1'"},
        {{"testdist", "--parallel", "+2", "--", "true", NULL}, "matrix: --parallel '+2'"},
        {{"testdist", "--parallel", "--", "true", NULL}, "--parallel needs a value"},
        {{"testdist", "--datanodes", "65", "--", "true", NULL}, "--datanodes '65'"},
        {{"testdist", "--timeout", "0", "--", "true", NULL}, "--timeout '0'"},
        {{"testdist", "--memory", "0", "--", "true", NULL}, "--memory '0'"},
        {{"testdist", "--junit", "--", "true", NULL}, "--junit needs a file name"},
        {{"testdist", "--ttl", "--", "true", NULL}, "matrix: --ttl needs a value"},
        {{"testdist", "--ttl", "1w", "--", "true", NULL}, "matrix: --ttl '1w': give a duration"},
        {{"testdist", "--frobnicate", "--", "true", NULL}, "unknown flag '--frobnicate'"},
        {{"testdist", "testdist", "--", "true", NULL}, "'testdist' is given twice"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *argv[8] = {"matrix"};
        int argc = 1;
        cmd_matrix_opts a;
        char err[256] = "";
        for (int k = 0; cases[i].args[k] != NULL; k++)
            argv[argc++] = (char *)cases[i].args[k];
        argv[argc] = NULL;
        memset(&a, 0, sizeof(a));
        assert_int_equal(cmd_matrix_parse(&ctx, argc, argv, &a, err, sizeof(err)), RUNNER_USAGE);
        free(a.dists);
        if (strstr(err, cases[i].want) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].want);
    }
}

static void args_take_any_number_of_dists(void **state) {
    char *argv[104];
    char names[100][16];
    int argc = 0;
    cmd_matrix_opts a;
    char err[256];

    argv[argc++] = "matrix";
    for (int i = 0; i < 100; i++) {
        snprintf(names[i], sizeof(names[i]), "d%d", i);
        argv[argc++] = names[i];
    }
    argv[argc++] = "--";
    argv[argc++] = "true";
    argv[argc] = NULL;
    memset(&a, 0, sizeof(a));
    assert_int_equal(cmd_matrix_parse(&ctx, argc, argv, &a, err, sizeof(err)), 0);
    assert_int_equal(a.n_dists, 100);
    assert_string_equal(a.dists[99], "d99");
    free(a.dists);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(args_take_dists_flags_and_the_command),
        cmocka_unit_test(args_defaults),
        cmocka_unit_test(args_errors_say_what_is_wrong),
        cmocka_unit_test(args_take_any_number_of_dists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
