/* engine/cmd/start.c's parse (shared by `hdc stop`) and restart.c's:
 * names, nodes, and what they refuse. */
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

static int parse(cmd_start_opts *o, char *err, size_t len, int argc, char **argv) {
    memset(o, 0, sizeof(*o));
    return cmd_start_parse(&ctx, argc, argv, o, err, len);
}

static int parse_restart(cmd_restart_opts *o, char *err, size_t len, int argc, char **argv) {
    memset(o, 0, sizeof(*o));
    return cmd_restart_parse(&ctx, argc, argv, o, err, len);
}

static void start_and_stop_take_names(void **state) {
    char *a[] = {"start", "c1", "c-2", NULL};
    cmd_start_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), 3, a), 0);
    assert_int_equal(o.n_names, 2);
    assert_string_equal(o.names[0], "c1");
    assert_string_equal(o.names[1], "c-2");
    free(o.names);
}

static void start_refusals_say_what_is_wrong(void **state) {
    char *none[] = {"stop", NULL};
    char *flag[] = {"start", "-y", "c1", NULL};
    char *bad[] = {"start", "Bad_Name", NULL};
    char *twice[] = {"stop", "c1", "c1", NULL};
    cmd_start_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), 1, none), RUNNER_USAGE);
    assert_string_equal(err, "stop: give the names of the clusters");
    free(o.names);
    assert_int_equal(parse(&o, err, sizeof(err), 3, flag), RUNNER_USAGE);
    assert_string_equal(err, "start: unknown flag '-y'");
    free(o.names);
    assert_int_equal(parse(&o, err, sizeof(err), 2, bad), RUNNER_USAGE);
    assert_non_null(strstr(err, "Bad_Name"));
    free(o.names);
    assert_int_equal(parse(&o, err, sizeof(err), 3, twice), RUNNER_USAGE);
    assert_string_equal(err, "stop: 'c1' is named twice");
    free(o.names);
}

static void restart_takes_a_name_and_nodes(void **state) {
    char *all[] = {"restart", "c1", NULL};
    char *some[] = {"restart", "c1", "datanode1", "nodemanager", NULL};
    char *zk[] = {"restart", "c1", "datanode1", "zookeeper", NULL};
    cmd_restart_opts o;
    char err[256];

    assert_int_equal(parse_restart(&o, err, sizeof(err), 2, all), 0);
    assert_string_equal(o.name, "c1");
    assert_int_equal(o.n_only, 0);
    free(o.only);
    assert_int_equal(parse_restart(&o, err, sizeof(err), 4, some), 0);
    assert_int_equal(o.n_only, 2);
    assert_string_equal(o.only[0], "datanode1");
    assert_string_equal(o.only[1], "nodemanager");
    free(o.only);
    /* ZooKeeper goes: the whole cluster restarts. */
    assert_int_equal(parse_restart(&o, err, sizeof(err), 4, zk), 0);
    assert_int_equal(o.n_only, 0);
    free(o.only);
}

static void restart_refusals_say_what_is_wrong(void **state) {
    char *none[] = {"restart", NULL};
    char *flag[] = {"restart", "c1", "--all", NULL};
    char *bad[] = {"restart", "c1", "data node", NULL};
    cmd_restart_opts o;
    char err[256];

    assert_int_equal(parse_restart(&o, err, sizeof(err), 1, none), RUNNER_USAGE);
    assert_string_equal(err, "restart: give the cluster's name (and nodes or services)");
    free(o.only);
    assert_int_equal(parse_restart(&o, err, sizeof(err), 3, flag), RUNNER_USAGE);
    assert_string_equal(err, "restart: unknown flag '--all'");
    free(o.only);
    assert_int_equal(parse_restart(&o, err, sizeof(err), 3, bad), RUNNER_USAGE);
    assert_string_equal(err, "restart: 'data node' is not a node or service name");
    free(o.only);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(start_and_stop_take_names),
        cmocka_unit_test(start_refusals_say_what_is_wrong),
        cmocka_unit_test(restart_takes_a_name_and_nodes),
        cmocka_unit_test(restart_refusals_say_what_is_wrong),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
