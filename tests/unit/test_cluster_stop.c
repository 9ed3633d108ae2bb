/* engine/cluster_stop.c's choice of containers: hostnames, services, all,
 * and a name that chooses nothing. (The stops themselves run against the
 * engine: tests/faults/test_stop_start.sh.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cluster_stop.h"

static const cluster_container list[] = {
    {.service = "zookeeper", .hostname = "zookeeper", .name = "c1_zookeeper_1"},
    {.service = "namenode", .hostname = "namenode", .name = "c1_namenode_1"},
    {.service = "datanode", .hostname = "datanode1", .name = "c1_datanode_1"},
    {.service = "datanode", .hostname = "datanode2", .name = "c1_datanode_2"},
    {.service = NULL, .hostname = NULL, .name = "c1_unlabelled"},
};
#define N (sizeof(list) / sizeof(list[0]))

static void none_named_chooses_all(void **state) {
    unsigned char chosen[N];
    const char *unknown = NULL;

    assert_int_equal(cluster_stop_select(list, N, NULL, 0, chosen, &unknown), 0);
    for (size_t i = 0; i < N; i++)
        assert_int_equal(chosen[i], 1);
}

static void a_host_or_a_service(void **state) {
    const char *const host[] = {"datanode2"};
    const char *const service[] = {"datanode", "namenode"};
    unsigned char chosen[N];
    const char *unknown = NULL;

    assert_int_equal(cluster_stop_select(list, N, host, 1, chosen, &unknown), 0);
    assert_memory_equal(chosen, ((unsigned char[]){0, 0, 0, 1, 0}), N);
    assert_int_equal(cluster_stop_select(list, N, service, 2, chosen, &unknown), 0);
    assert_memory_equal(chosen, ((unsigned char[]){0, 1, 1, 1, 0}), N);
}

static void a_name_that_chooses_nothing_is_named(void **state) {
    const char *const names[] = {"datanode1", "datanode3"};
    unsigned char chosen[N];
    const char *unknown = NULL;

    assert_int_equal(cluster_stop_select(list, N, names, 2, chosen, &unknown), UV_EINVAL);
    assert_string_equal(unknown, "datanode3");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(none_named_chooses_all),
        cmocka_unit_test(a_host_or_a_service),
        cmocka_unit_test(a_name_that_chooses_nothing_is_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
