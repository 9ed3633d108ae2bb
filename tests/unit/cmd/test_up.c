/* engine/cmd/up.c's parse: DISTs with their names, the flags, the default
 * names, and every refusal with its message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmd.h"

/* Parses `up ARGS...` (NULL-terminated) with env; err gets the message. */
static int parse(const cmd_ctx *ctx, cmd_up_opts *o, char *err, size_t len, ...) {
    char *argv[64] = {"up"};
    int argc = 1;
    va_list ap;

    va_start(ap, len);
    for (char *s; (s = va_arg(ap, char *)) != NULL;)
        argv[argc++] = s;
    va_end(ap);
    memset(o, 0, sizeof(*o));
    err[0] = '\0';
    return cmd_up_parse(ctx, argc, argv, o, err, len);
}

static void dists_names_and_flags(void **state) {
    cmd_ctx ctx = {0};
    cmd_up_opts o;
    char err[256];

    assert_int_equal(parse(&ctx, &o, err, sizeof(err), "apache_2.6.0", "--name", "a1",
                           "apache_3.3.6", "--datanodes", "3", "--timeout", "90", "-y", "--follow",
                           "--rm-on-failure", "--test-user", "alice", NULL),
                     0);
    assert_int_equal(o.n_targets, 2);
    assert_string_equal(o.targets[0].dist, "apache_2.6.0");
    assert_string_equal(o.targets[0].name, "a1");
    assert_string_equal(o.targets[1].name, "apache336"); /* the default name */
    assert_int_equal(o.datanodes, 3);
    assert_int_equal(o.timeout_s, 90);
    assert_true(o.yes && o.follow && o.rm_on_failure);
    assert_false(o.publish_classic);
    assert_string_equal(o.test_user, "alice");
    assert_int_equal(o.memory_mb, 0); /* the declared limits */
    free(o.targets);
}

static void a_memory_budget(void **state) {
    cmd_ctx ctx = {0};
    cmd_up_opts o;
    char err[256];

    assert_int_equal(parse(&ctx, &o, err, sizeof(err), "apache_2.6.0", "--memory", "8192", NULL),
                     0);
    assert_int_equal(o.memory_mb, 8192);
    free(o.targets);
}

static void defaults_come_from_the_environment(void **state) {
    cmd_ctx ctx = {.env = {.test_user = "bob"}};
    cmd_up_opts o;
    char err[256];

    assert_int_equal(parse(&ctx, &o, err, sizeof(err), "testdist", "--publish-classic", NULL), 0);
    assert_int_equal(o.datanodes, 1);
    assert_int_equal(o.timeout_s, 0);
    assert_string_equal(o.test_user, "bob");
    assert_true(o.publish_classic);
    free(o.targets);
    ctx.env.test_user = NULL;
    assert_int_equal(parse(&ctx, &o, err, sizeof(err), "testdist", NULL), 0);
    assert_string_equal(o.test_user, "hdc");
    free(o.targets);
}

static void refusals_say_what_is_wrong(void **state) {
    static const struct {
        const char *args[8];
        const char *want;
    } cases[] = {
        {{NULL}, "up: which distribution? 'hdc plugins' lists them"},
        {{"--name", "a", "testdist", NULL}, "up: --name NAME follows the distribution it names"},
        {{"testdist", "--name", NULL}, "up: --name NAME follows the distribution it names"},
        {{"testdist", "--name", "Bad", NULL},
         "up: cluster name 'Bad' must start with a "
         "lowercase letter or a digit"},
        {{"testdist", "--frobnicate", NULL},
         "up: unknown flag '--frobnicate'; 'hdc help up' shows the usage"},
        {{"testdist", "--test-user", NULL},
         "up: unknown flag '--test-user'; 'hdc help up' shows the usage"},
        {{"testdist", "--datanodes", "0", NULL},
         "--datanodes '0': give a whole number from 1 to 64"},
        {{"testdist", "--datanodes", NULL}, "--datanodes needs a value"},
        {{"testdist", "--memory", "0", NULL},
         "--memory '0': give a whole number from 1 to 67108864"},
        {{"testdist", "--memory", "4g", NULL},
         "--memory '4g': give a whole number from 1 to 67108864"},
        {{"testdist", "--memory", NULL}, "--memory needs a value"},
        {{"testdist", "--datanodes", "+3", NULL},
         "--datanodes '+3': give a whole number from 1 to 64"},
        {{"testdist", "--datanodes", " 3", NULL},
         "--datanodes ' 3': give a whole number from 1 to 64"},
        {{"testdist", "--timeout", "86401", NULL},
         "--timeout '86401': give a whole number from 1 to 86400"},
        {{"testdist", "--ttl", "2w", NULL},
         "--ttl '2w': give a duration from 1s to 365d, such as 90s, 30m, 2h or 7d"},
        {{"testdist", "--ttl", NULL}, "--ttl needs a value"},
        {{"___", NULL}, "up: '___' gives no valid default name: pass --name"},
        {{"testdist", "testdist", NULL},
         "up: two clusters named 'testdist': give each its own --name"},
        {{"a", "--name", "x", "b", "--name", "y", "--publish-classic", NULL},
         "up: --publish-classic binds fixed host ports: one cluster at a time"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *argv[10] = {"up"};
        int argc = 1;
        cmd_ctx ctx = {0};
        cmd_up_opts o = {0};
        char err[256] = "";
        for (int k = 0; cases[i].args[k] != NULL; k++)
            argv[argc++] = (char *)cases[i].args[k];
        assert_int_equal(cmd_up_parse(&ctx, argc, argv, &o, err, sizeof(err)), RUNNER_USAGE);
        if (strcmp(err, cases[i].want) != 0)
            fail_msg("case %zu: '%s', want '%s'", i, err, cases[i].want);
        free(o.targets);
    }
}

static void a_time_to_live_and_the_agents_wait(void **state) {
    cmd_ctx ctx = {0};
    cmd_up_opts o;
    char err[256];

    assert_int_equal(parse(&ctx, &o, err, sizeof(err), "testdist", "--ttl", "2h", NULL), 0);
    assert_int_equal(o.ttl_s, 7200);
    assert_int_equal(o.boot_timeout_s, CMD_BOOT_TIMEOUT_S);
    free(o.targets);
    /* A longer --timeout lengthens the agents' wait; HDC_BOOT_TIMEOUT sets it. */
    assert_int_equal(parse(&ctx, &o, err, sizeof(err), "testdist", "--timeout", "3600", NULL), 0);
    assert_int_equal(o.ttl_s, 0);
    assert_int_equal(o.boot_timeout_s, 3660);
    free(o.targets);
    ctx.env.boot_timeout = "20s";
    assert_int_equal(parse(&ctx, &o, err, sizeof(err), "testdist", "--timeout", "3600", NULL), 0);
    assert_int_equal(o.boot_timeout_s, 20);
    free(o.targets);
    ctx.env.boot_timeout = "soon";
    assert_int_equal(parse(&ctx, &o, err, sizeof(err), "testdist", NULL), RUNNER_USAGE);
    assert_string_equal(err, "up: HDC_BOOT_TIMEOUT 'soon': give a duration from 1s to 7d, such "
                             "as 90s, 30m, 2h or 7d");
    free(o.targets);
}

static void any_number_of_clusters(void **state) {
    char *argv[92] = {"up"};
    char names[30][8];
    int argc = 1;
    cmd_ctx ctx = {0};
    cmd_up_opts o = {0};
    char err[256];

    for (int i = 0; i < 30; i++) {
        snprintf(names[i], sizeof(names[i]), "c%d", i);
        argv[argc++] = "testdist";
        argv[argc++] = "--name";
        argv[argc++] = names[i];
    }
    assert_int_equal(cmd_up_parse(&ctx, 91, argv, &o, err, sizeof(err)), 0);
    assert_int_equal(o.n_targets, 30);
    assert_string_equal(o.targets[29].name, "c29");
    free(o.targets);
}

static void a_name_longer_than_32_is_refused(void **state) {
    cmd_ctx ctx = {0};
    cmd_up_opts o;
    char err[256];

    assert_int_equal(parse(&ctx, &o, err, sizeof(err), "testdist", "--name",
                           "a23456789012345678901234567890123", NULL),
                     RUNNER_USAGE);
    assert_string_equal(err, "up: cluster name 'a23456789012345678901234567890123' is longer "
                             "than 32 characters");
    free(o.targets);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dists_names_and_flags),
        cmocka_unit_test(a_memory_budget),
        cmocka_unit_test(defaults_come_from_the_environment),
        cmocka_unit_test(refusals_say_what_is_wrong),
        cmocka_unit_test(a_time_to_live_and_the_agents_wait),
        cmocka_unit_test(any_number_of_clusters),
        cmocka_unit_test(a_name_longer_than_32_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
