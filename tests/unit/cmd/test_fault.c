/* engine/cmd/fault.c's parse: NAME TARGET ACTION [--for DURATION], and
 * what it refuses before anything is touched. */
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

static int parse(cmd_fault_opts *o, char *err, size_t len, char **argv) {
    int argc = 0;

    while (argv[argc] != NULL)
        argc++;
    memset(o, 0, sizeof(*o));
    err[0] = '\0';
    return cmd_fault_parse(&ctx, argc, argv, o, err, len);
}

static void each_action_is_taken(void **state) {
    static const char *const actions[] = {"kill",    "stop",       "pause",
                                          "unpause", "disconnect", "reconnect"};
    cmd_fault_opts o;
    char err[256];

    for (int k = 0; k < 6; k++) {
        char *a[] = {"fault", "c1", "datanode1", (char *)actions[k], NULL};
        assert_int_equal(parse(&o, err, sizeof(err), a), 0);
        assert_string_equal(o.name, "c1");
        assert_string_equal(o.target, "datanode1");
        assert_int_equal(o.action, k);
        assert_string_equal(cmd_fault_action_name(o.action), actions[k]);
        assert_int_equal(o.for_s, 0);
        assert_string_equal(err, "");
    }
    {
        char *svc[] = {"fault", "c1", "datanode", "kill", NULL};
        char *zk[] = {"fault", "c1", "zookeeper", "pause", NULL};
        assert_int_equal(parse(&o, err, sizeof(err), svc), 0);
        assert_string_equal(o.target, "datanode");
        assert_int_equal(parse(&o, err, sizeof(err), zk), 0);
        assert_string_equal(o.target, "zookeeper");
        assert_int_equal(o.action, CMD_FAULT_PAUSE);
    }
}

static void for_takes_a_duration_anywhere(void **state) {
    char *last[] = {"fault", "c1", "datanode1", "disconnect", "--for", "5", NULL};
    char *first[] = {"fault", "--for", "2m", "c1", "datanode1", "pause", NULL};
    char *eq[] = {"fault", "c1", "datanode1", "kill", "--for=90s", NULL};
    cmd_fault_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), last), 0);
    assert_int_equal(o.for_s, 5);
    assert_int_equal(o.action, CMD_FAULT_DISCONNECT);
    assert_int_equal(parse(&o, err, sizeof(err), first), 0);
    assert_int_equal(o.for_s, 120);
    assert_string_equal(o.name, "c1");
    assert_int_equal(parse(&o, err, sizeof(err), eq), 0);
    assert_int_equal(o.for_s, 90);
}

static void bad_for_is_refused(void **state) {
    char *zero[] = {"fault", "c1", "datanode1", "pause", "--for", "0", NULL};
    char *word[] = {"fault", "c1", "datanode1", "pause", "--for", "soon", NULL};
    char *none[] = {"fault", "c1", "datanode1", "pause", "--for", NULL};
    char *longer[] = {"fault", "c1", "datanode1", "pause", "--for", "8d", NULL};
    char *undo[] = {"fault", "c1", "datanode1", "unpause", "--for", "5", NULL};
    char *undo2[] = {"fault", "c1", "datanode1", "reconnect", "--for=5", NULL};
    cmd_fault_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), zero), RUNNER_USAGE);
    assert_string_equal(
        err, "fault: --for '0': give a duration from 1s to 7d, such as 90s, 30m, 2h or 7d");
    assert_int_equal(parse(&o, err, sizeof(err), word), RUNNER_USAGE);
    assert_non_null(strstr(err, "--for 'soon'"));
    assert_int_equal(parse(&o, err, sizeof(err), none), RUNNER_USAGE);
    assert_string_equal(err, "fault: --for needs a value: seconds, or a duration (30s, 2m)");
    assert_int_equal(parse(&o, err, sizeof(err), longer), RUNNER_USAGE);
    assert_int_equal(parse(&o, err, sizeof(err), undo), RUNNER_USAGE);
    assert_string_equal(err,
                        "fault: --for undoes a fault: unpause has nothing to undo; drop --for");
    assert_int_equal(parse(&o, err, sizeof(err), undo2), RUNNER_USAGE);
    assert_non_null(strstr(err, "reconnect has nothing to undo"));
}

static void bad_usage_is_refused(void **state) {
    char *none[] = {"fault", NULL};
    char *two[] = {"fault", "c1", "datanode1", NULL};
    char *four[] = {"fault", "c1", "datanode1", "kill", "now", NULL};
    char *action[] = {"fault", "c1", "datanode1", "explode", NULL};
    char *upper[] = {"fault", "c1", "datanode1", "KILL", NULL};
    char *flag[] = {"fault", "c1", "datanode1", "kill", "--frobnicate", NULL};
    char *name[] = {"fault", "C1", "datanode1", "kill", NULL};
    char *target[] = {"fault", "c1", "data/node", "kill", NULL};
    char *empty[] = {"fault", "c1", "", "kill", NULL};
    cmd_fault_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), none), RUNNER_USAGE);
    assert_string_equal(err, "fault: usage: hdc fault NAME NODE|SERVICE "
                             "kill|stop|pause|unpause|disconnect|reconnect [--for DURATION]");
    assert_int_equal(parse(&o, err, sizeof(err), two), RUNNER_USAGE);
    assert_non_null(strstr(err, "fault: usage: "));
    assert_int_equal(parse(&o, err, sizeof(err), four), RUNNER_USAGE);
    assert_non_null(strstr(err, "fault: unexpected argument 'now'"));
    assert_int_equal(parse(&o, err, sizeof(err), action), RUNNER_USAGE);
    assert_string_equal(err, "fault: unknown action 'explode': give kill, stop, pause, unpause, "
                             "disconnect or reconnect");
    assert_int_equal(parse(&o, err, sizeof(err), upper), RUNNER_USAGE);
    assert_int_equal(parse(&o, err, sizeof(err), flag), RUNNER_USAGE);
    assert_non_null(strstr(err, "fault: unknown flag '--frobnicate'"));
    assert_int_equal(parse(&o, err, sizeof(err), name), RUNNER_USAGE);
    assert_non_null(strstr(err, "fault: cluster name 'C1'"));
    assert_int_equal(parse(&o, err, sizeof(err), target), RUNNER_USAGE);
    assert_string_equal(
        err, "fault: 'data/node' is not a node or service name; `hdc status c1` lists the nodes");
    assert_int_equal(parse(&o, err, sizeof(err), empty), RUNNER_USAGE);
    assert_non_null(strstr(err, "is not a node or service name"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_action_is_taken),
        cmocka_unit_test(for_takes_a_duration_anywhere),
        cmocka_unit_test(bad_for_is_refused),
        cmocka_unit_test(bad_usage_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
