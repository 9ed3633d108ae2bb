/* engine/cmd/cmd.c: what every command shares: numbers, durations, the
 * agents' wait for `boot`, and the directories checked before Docker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmd.h"

static void numbers_take_digits_only(void **state) {
    unsigned v = 0;
    char err[128];

    assert_int_equal(cmd_uint("--n", "42", 1, 64, &v, err, sizeof(err)), 0);
    assert_int_equal(v, 42);
    assert_int_equal(cmd_uint("--n", "+4", 1, 64, &v, err, sizeof(err)), RUNNER_USAGE);
    assert_string_equal(err, "--n '+4': give a whole number from 1 to 64");
    assert_int_equal(cmd_uint("--n", "65", 1, 64, &v, err, sizeof(err)), RUNNER_USAGE);
    assert_int_equal(cmd_uint("--n", NULL, 1, 64, &v, err, sizeof(err)), RUNNER_USAGE);
    assert_string_equal(err, "--n needs a value");
}

static void durations_with_and_without_a_unit(void **state) {
    static const struct {
        const char *s;
        uint64_t want;
    } good[] = {{"90", 90}, {"90s", 90}, {"30m", 1800}, {"2h", 7200}, {"7d", 604800}, {"1s", 1}};
    static const char *const bad[] = {"",   "s",    "1x",   "1h30m",
                                      "-1", "+1h",  "1 h",  "0",
                                      "0s", "366d", "1.5h", "99999999999999999999999d"};
    uint64_t v;
    char err[160];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_int_equal(cmd_duration("--ttl", good[i].s, 1, 365 * 86400, &v, err, sizeof(err)), 0);
        assert_int_equal(v, good[i].want);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (cmd_duration("--ttl", bad[i], 1, 365 * 86400, &v, err, sizeof(err)) != RUNNER_USAGE)
            fail_msg("'%s' was taken", bad[i]);
    assert_string_equal(err, "--ttl '99999999999999999999999d': give a duration from 1s to 365d, "
                             "such as 90s, 30m, 2h or 7d");
    assert_int_equal(cmd_duration("--ttl", NULL, 1, 86400, &v, err, sizeof(err)), RUNNER_USAGE);
    assert_string_equal(err, "--ttl needs a value");
}

static void the_agents_wait_for_boot(void **state) {
    cmd_env env = {0};
    unsigned s;
    char err[160];

    assert_int_equal(cmd_boot_timeout(&env, 0, &s, err, sizeof(err)), 0);
    assert_int_equal(s, CMD_BOOT_TIMEOUT_S);
    assert_int_equal(cmd_boot_timeout(&env, 60, &s, err, sizeof(err)), 0);
    assert_int_equal(s, CMD_BOOT_TIMEOUT_S);
    assert_int_equal(cmd_boot_timeout(&env, 7200, &s, err, sizeof(err)), 0);
    assert_int_equal(s, 7260);
    env.boot_timeout = "3m";
    assert_int_equal(cmd_boot_timeout(&env, 7200, &s, err, sizeof(err)), 0);
    assert_int_equal(s, 180);
    env.boot_timeout = ""; /* set but empty: the default */
    assert_int_equal(cmd_boot_timeout(&env, 0, &s, err, sizeof(err)), 0);
    assert_int_equal(s, CMD_BOOT_TIMEOUT_S);
    env.boot_timeout = "8d";
    assert_int_equal(cmd_boot_timeout(&env, 0, &s, err, sizeof(err)), RUNNER_USAGE);
    assert_string_equal(err, "HDC_BOOT_TIMEOUT '8d': give a duration from 1s to 7d, such as 90s, "
                             "30m, 2h or 7d");
}

static void directories_are_checked_before_docker(void **state) {
    char base[] = "/tmp/hdc-cmd-XXXXXX";
    char *logs, *file, *rm;
    cmd_env env = {0};
    char err[512];
    FILE *f;

    assert_non_null(mkdtemp(base));
    logs = strdup(base);
    file = malloc(strlen(base) + 8);
    sprintf(file, "%s/file", base);
    f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    env.logs_dir = file; /* a file where a directory should be */
    env.state_dir = base;
    assert_int_equal(cmd_check_dirs(&env, err, sizeof(err)), RUNNER_USAGE);
    if (strstr(err, "cannot write the clusters' logs to '") == NULL ||
        strstr(err, "set HDC_LOGS_DIR to one") == NULL)
        fail_msg("'%s'", err);
    env.logs_dir = logs;
    env.state_dir = "/dev/null/keys";
    assert_int_equal(cmd_check_dirs(&env, err, sizeof(err)), RUNNER_USAGE);
    if (strstr(err, "the clients' keys") == NULL || strstr(err, "HDC_STATE_DIR") == NULL)
        fail_msg("'%s'", err);
    env.state_dir = base;
    assert_int_equal(cmd_check_dirs(&env, err, sizeof(err)), 0);
    rm = malloc(strlen(base) + 16);
    sprintf(rm, "rm -rf '%s'", base);
    assert_int_equal(system(rm), 0);
    free(rm);
    free(logs);
    free(file);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(numbers_take_digits_only),
        cmocka_unit_test(durations_with_and_without_a_unit),
        cmocka_unit_test(the_agents_wait_for_boot),
        cmocka_unit_test(directories_are_checked_before_docker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
