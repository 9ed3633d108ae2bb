/* engine/cmd/export_logs.c's parse: NAME DIR, and what it refuses. The
 * directory is made by run, not by parse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmd.h"

static const cmd_ctx ctx;

static int parse(cmd_export_logs_opts *o, char *err, size_t len, int argc, char **argv) {
    memset(o, 0, sizeof(*o));
    err[0] = '\0';
    return cmd_export_logs_parse(&ctx, argc, argv, o, err, len);
}

static void name_and_dir_are_taken_and_nothing_is_made(void **state) {
    char tmp[] = "/tmp/hdc-test-export-XXXXXX";
    char dir[64];
    char *a[] = {"export-logs", "c1", dir, NULL};
    cmd_export_logs_opts o;
    struct stat st;
    char err[256];

    assert_non_null(mkdtemp(tmp));
    snprintf(dir, sizeof(dir), "%s/out", tmp);
    assert_int_equal(parse(&o, err, sizeof(err), 3, a), 0);
    assert_string_equal(o.name, "c1");
    assert_string_equal(o.dir, dir);
    assert_string_equal(err, "");
    assert_int_not_equal(stat(dir, &st), 0);
    assert_int_equal(rmdir(tmp), 0);
}

static void not_two_arguments_is_refused(void **state) {
    char *none[] = {"export-logs", NULL};
    char *flag[] = {"export-logs", "--frobnicate", NULL};
    char *one[] = {"export-logs", "c1", NULL};
    char *three[] = {"export-logs", "c1", "a", "b", NULL};
    cmd_export_logs_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), 1, none), RUNNER_USAGE);
    assert_string_equal(err, "export-logs: usage: hdc export-logs NAME DIR");
    assert_int_equal(parse(&o, err, sizeof(err), 2, flag), RUNNER_USAGE);
    assert_string_equal(err, "export-logs: usage: hdc export-logs NAME DIR");
    assert_int_equal(parse(&o, err, sizeof(err), 2, one), RUNNER_USAGE);
    assert_string_equal(err, "export-logs: usage: hdc export-logs NAME DIR");
    assert_int_equal(parse(&o, err, sizeof(err), 4, three), RUNNER_USAGE);
    assert_string_equal(err, "export-logs: usage: hdc export-logs NAME DIR");
}

static void a_bad_name_is_refused(void **state) {
    char *empty[] = {"export-logs", "", "dir", NULL};
    char *upper[] = {"export-logs", "c-Upper", "dir", NULL};
    char *flag[] = {"export-logs", "--frobnicate", "dir", NULL};
    cmd_export_logs_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), 3, empty), RUNNER_USAGE);
    assert_string_equal(err, "export-logs: a cluster name cannot be empty");
    assert_int_equal(parse(&o, err, sizeof(err), 3, upper), RUNNER_USAGE);
    assert_string_equal(err,
                        "export-logs: cluster name 'c-Upper' has 'U': use only a-z, 0-9 and '-'");
    assert_int_equal(parse(&o, err, sizeof(err), 3, flag), RUNNER_USAGE);
    assert_string_equal(err, "export-logs: cluster name '--frobnicate' must start with a "
                             "lowercase letter or a digit");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(name_and_dir_are_taken_and_nothing_is_made),
        cmocka_unit_test(not_two_arguments_is_refused),
        cmocka_unit_test(a_bad_name_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
