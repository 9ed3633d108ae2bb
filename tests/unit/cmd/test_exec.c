/* engine/cmd/exec.c's parse: NAME SERVICE -- CMD, CMD left as it is, and
 * what it refuses. */
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

static int argc_of(char **argv) {
    int n = 0;

    while (argv[n] != NULL)
        n++;
    return n;
}

static int parse(cmd_exec_opts *o, char *err, size_t len, char **argv) {
    memset(o, 0, sizeof(*o));
    err[0] = '\0';
    return cmd_exec_parse(&ctx, argc_of(argv), argv, o, err, len);
}

static void name_service_and_command(void **state) {
    char *argv[] = {"exec", "c1", "namenode", "--", "hdfs", "dfs", "-ls", "/", NULL};
    cmd_exec_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), argv), 0);
    assert_string_equal(o.name, "c1");
    assert_string_equal(o.service, "namenode");
    assert_int_equal(o.n_cmd, 4);
    assert_ptr_equal(o.cmd, argv + 4); /* borrowed, not copied */
    assert_string_equal(o.cmd[0], "hdfs");
    assert_string_equal(o.cmd[3], "/");
}

static void a_one_word_command(void **state) {
    char *argv[] = {"exec", "c-2", "nn1.c-2", "--", "true", NULL};
    cmd_exec_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), argv), 0);
    assert_string_equal(o.service, "nn1.c-2");
    assert_int_equal(o.n_cmd, 1);
    assert_string_equal(o.cmd[0], "true");
}

static void the_command_keeps_its_flags_and_dashes(void **state) {
    char *argv[] = {"exec", "c1", "namenode", "--", "sh", "-h", "--json", "--", "x", NULL};
    cmd_exec_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), argv), 0);
    assert_int_equal(o.n_cmd, 5);
    assert_string_equal(o.cmd[1], "-h");
    assert_string_equal(o.cmd[2], "--json");
    assert_string_equal(o.cmd[3], "--");
    assert_string_equal(o.cmd[4], "x");
}

static void a_service_may_look_like_a_flag(void **state) {
    char *argv[] = {"exec", "c1", "-x", "--", "true", NULL};
    cmd_exec_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), argv), 0);
    assert_string_equal(o.service, "-x");
}

static void usage_errors(void **state) {
    static const char *const usage =
        "exec: usage: hdc exec NAME SERVICE [--user USER] -- CMD [ARG...]";
    char *none[] = {"exec", NULL};
    char *flag[] = {"exec", "--frobnicate", NULL};
    char *name[] = {"exec", "c1", NULL};
    char *service[] = {"exec", "c1", "namenode", NULL};
    char *no_dash[] = {"exec", "c1", "namenode", "hostname", NULL};
    char *no_cmd[] = {"exec", "c1", "namenode", "--", NULL};
    char *no_service[] = {"exec", "c1", "--", "hostname", NULL};
    char *extra[] = {"exec", "c1", "namenode", "extra", "--", "hostname", NULL};
    char *user_after[] = {"exec", "c1", "--", "namenode", "--user", "root", "id", NULL};
    char *first_dash[] = {"exec", "--", "c1", "namenode", "--", "true", NULL};
    char **cases[] = {none,   flag,       name,  service,    no_dash,
                      no_cmd, no_service, extra, user_after, first_dash};
    cmd_exec_opts o;
    char err[256];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(parse(&o, err, sizeof(err), cases[i]), RUNNER_USAGE);
        assert_string_equal(err, usage);
    }
}

static void bad_names_are_refused_after_the_shape(void **state) {
    char *empty[] = {"exec", "", "namenode", "--", "true", NULL};
    char *dot[] = {"exec", "c.a", "namenode", "--", "true", NULL};
    char *upper[] = {"exec", "Bad", "namenode", "--", "true", NULL};
    char *dash[] = {"exec", "-c", "namenode", "--", "true", NULL};
    char *longer[] = {"exec", "a23456789012345678901234567890123", "nn", "--", "true", NULL};
    char *bad_and_short[] = {"exec", "Bad", "namenode", NULL};
    cmd_exec_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), empty), RUNNER_USAGE);
    assert_string_equal(err, "exec: a cluster name cannot be empty");
    assert_int_equal(parse(&o, err, sizeof(err), dot), RUNNER_USAGE);
    assert_string_equal(err, "exec: cluster name 'c.a' has '.': use only a-z, 0-9 and '-'");
    assert_int_equal(parse(&o, err, sizeof(err), upper), RUNNER_USAGE);
    assert_string_equal(err,
                        "exec: cluster name 'Bad' must start with a lowercase letter or a digit");
    assert_int_equal(parse(&o, err, sizeof(err), dash), RUNNER_USAGE);
    assert_string_equal(err,
                        "exec: cluster name '-c' must start with a lowercase letter or a digit");
    assert_int_equal(parse(&o, err, sizeof(err), longer), RUNNER_USAGE);
    assert_string_equal(
        err, "exec: cluster name 'a23456789012345678901234567890123' is longer than 32 characters");
    /* The shape is checked first. */
    assert_int_equal(parse(&o, err, sizeof(err), bad_and_short), RUNNER_USAGE);
    assert_string_equal(err, "exec: usage: hdc exec NAME SERVICE [--user USER] -- CMD [ARG...]");
}

static void a_user_may_be_given_before_the_dash(void **state) {
    char *before[] = {"exec", "c1", "namenode", "--user", "hdfs", "--", "id", NULL};
    char *first[] = {"exec", "--user", "hdfs:supergroup", "c1", "client", "--", "id", NULL};
    char *in_cmd[] = {"exec", "c1", "client", "--", "id", "--user", "x", NULL};
    char *none[] = {"exec", "c1", "client", "--", "id", NULL};
    cmd_exec_opts o;
    char err[256];

    memset(&o, 0, sizeof(o));
    assert_int_equal(parse(&o, err, sizeof(err), before), 0);
    assert_string_equal(o.user, "hdfs");
    assert_string_equal(o.service, "namenode");
    assert_int_equal(o.n_cmd, 1);
    memset(&o, 0, sizeof(o));
    assert_int_equal(parse(&o, err, sizeof(err), first), 0);
    assert_string_equal(o.user, "hdfs:supergroup");
    assert_string_equal(o.name, "c1");
    assert_string_equal(o.service, "client");
    /* After the `--`, --user is CMD's; none given: the node's own user. */
    memset(&o, 0, sizeof(o));
    assert_int_equal(parse(&o, err, sizeof(err), in_cmd), 0);
    assert_null(o.user);
    assert_int_equal(o.n_cmd, 3);
    memset(&o, 0, sizeof(o));
    assert_int_equal(parse(&o, err, sizeof(err), none), 0);
    assert_null(o.user);
}

static void bad_users_are_refused(void **state) {
    char *missing[] = {"exec", "c1", "client", "--user", "--", "id", NULL};
    char *twice[] = {"exec", "c1", "client", "--user", "a", "--user", "b", "--", "id", NULL};
    char *shell[] = {"exec", "c1", "client", "--user", "a;b", "--", "id", NULL};
    char *dash[] = {"exec", "c1", "client", "--user", "-a", "--", "id", NULL};
    char *no_group[] = {"exec", "c1", "client", "--user", "a:", "--", "id", NULL};
    cmd_exec_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), missing), RUNNER_USAGE);
    assert_non_null(strstr(err, "--user needs a user name"));
    assert_int_equal(parse(&o, err, sizeof(err), twice), RUNNER_USAGE);
    assert_string_equal(err, "exec: --user is given 2 times: give it once");
    assert_int_equal(parse(&o, err, sizeof(err), shell), RUNNER_USAGE);
    assert_non_null(strstr(err, "--user 'a;b' is not a user"));
    assert_int_equal(parse(&o, err, sizeof(err), dash), RUNNER_USAGE);
    assert_non_null(strstr(err, "--user '-a' is not a user"));
    assert_int_equal(parse(&o, err, sizeof(err), no_group), RUNNER_USAGE);
    assert_non_null(strstr(err, "--user 'a:' is not a user"));
}

static void names_in_refusals_are_valid_text(void **state) {
    char *accent[] = {"exec", "caf\xc3\xa9", "namenode", "--", "true", NULL};
    char *latin1[] = {"exec", "caf\xe9", "namenode", "--", "true", NULL};
    char *escape[] = {"exec", "\x1b[2J", "namenode", "--", "true", NULL};
    cmd_exec_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), accent), RUNNER_USAGE);
    assert_string_equal(
        err, "exec: cluster name 'caf\xc3\xa9' has '\xc3\xa9' (U+00E9): use only a-z, 0-9 and '-'");
    assert_int_equal(parse(&o, err, sizeof(err), latin1), RUNNER_USAGE);
    assert_string_equal(err,
                        "exec: cluster name 'caf\\xe9' has '\\xe9': use only a-z, 0-9 and '-'");
    assert_int_equal(parse(&o, err, sizeof(err), escape), RUNNER_USAGE);
    assert_string_equal(
        err, "exec: cluster name '\\x1b[2J' must start with a lowercase letter or a digit");
}

static void the_table_entry_parses_as_the_module_does(void **state) {
    char *argv[] = {"exec", "c1", "namenode", "--", "true", NULL};
    cmd_exec_opts o;
    char err[256];

    memset(&o, 0, sizeof(o));
    assert_int_equal(cmd_exec.opts_size, sizeof(cmd_exec_opts));
    assert_int_equal(cmd_exec.parse(&ctx, 5, argv, &o, err, sizeof(err)), 0);
    assert_string_equal(o.name, "c1");
    assert_null(cmd_exec.free);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(name_service_and_command),
        cmocka_unit_test(a_one_word_command),
        cmocka_unit_test(the_command_keeps_its_flags_and_dashes),
        cmocka_unit_test(a_service_may_look_like_a_flag),
        cmocka_unit_test(usage_errors),
        cmocka_unit_test(bad_names_are_refused_after_the_shape),
        cmocka_unit_test(a_user_may_be_given_before_the_dash),
        cmocka_unit_test(bad_users_are_refused),
        cmocka_unit_test(names_in_refusals_are_valid_text),
        cmocka_unit_test(the_table_entry_parses_as_the_module_does),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
