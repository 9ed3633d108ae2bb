/* The apache plugin's probes, judged by the plugin host as `hdc up` and
 * `hdc status` judge them: the nodemanagers' probe counts RUNNING nodes in
 * the resourcemanager's /ws/v1/cluster/nodes and, when too few are, names
 * every other node with its state and health report.
 *
 * The plugin's source is compiled into this test (as 3.3.6), so that its
 * descriptor is at hand without loading the shared object. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "plugin_host.h"

#define HADOOP_VERSION "3.3.6"
#define NN_HTTP_PORT   9870
#define DN_HTTP_PORT   9864
#define DN_DATA_PORT   9866
#define DN_IPC_PORT    9867
#include "../../plugins/apache.c"

#define UNHEALTHY_REPORT                                                                     \
    "1/1 local-dirs usable space is below configured utilization percentage/no more usable " \
    "space [ /tmp/hadoop-yarn/nm-local-dir : used space above threshold of 90.0% ] "         \
    "; 1/1 log-dirs usable space is below configured utilization percentage/no more usable " \
    "space [ /tmp/logs : used space above threshold of 90.0% ] "

static int judge(const char *body, unsigned nodemanagers, char *why, size_t why_len) {
    const hdc_probe *p = plugin_probe(&hdc_plugin, "active-nodemanagers");

    assert_non_null(p);
    return plugin_judge(&hdc_plugin, p, body, strlen(body), "apache336", nodemanagers, why,
                        why_len);
}

static void test_probe_asks_for_every_state(void **state) {
    const hdc_probe *p = plugin_probe(&hdc_plugin, "active-nodemanagers");

    (void)state;
    assert_string_equal(p->path,
                        "/ws/v1/cluster/nodes?states=NEW,RUNNING,UNHEALTHY,DECOMMISSIONED,LOST,"
                        "REBOOTED");
}

static void test_all_running_is_healthy(void **state) {
    char why[256];

    (void)state;
    assert_int_equal(judge("{\"nodes\":{\"node\":[{\"id\":\"nodemanager1:45454\",\"state\":"
                           "\"RUNNING\",\"healthReport\":\"\"},{\"id\":\"nodemanager2:45454\","
                           "\"state\":\"RUNNING\",\"healthReport\":\"\"}]}}",
                           2, why, sizeof(why)),
                     1);
}

static void test_one_node_as_object_is_counted(void **state) {
    char why[256];

    (void)state;
    assert_int_equal(judge("{\"nodes\":{\"node\":{\"id\":\"nodemanager1:45454\",\"state\":"
                           "\"RUNNING\"}}}",
                           1, why, sizeof(why)),
                     1);
}

static void test_unhealthy_node_is_named_with_its_report(void **state) {
    char why[256];

    (void)state;
    assert_int_equal(judge("{\"nodes\":{\"node\":[{\"id\":\"nodemanager1:45454\",\"state\":"
                           "\"RUNNING\",\"healthReport\":\"\"},{\"id\":\"nodemanager2:45454\","
                           "\"state\":\"UNHEALTHY\",\"healthReport\":\"" UNHEALTHY_REPORT "\"}]}}",
                           2, why, sizeof(why)),
                     0);
    assert_non_null(strstr(why, "1 of 2 nodemanagers RUNNING; nodemanager2:45454 UNHEALTHY: 1/1 "
                                "local-dirs usable space is below configured utilization "
                                "percentage/no more usable space"));
    /* A long report is cut, and says so. */
    assert_non_null(strstr(why, "..."));
    assert_null(strstr(why, "log-dirs"));
}

static void test_lost_and_decommissioned_nodes_are_named(void **state) {
    char why[256];

    (void)state;
    assert_int_equal(judge("{\"nodes\":{\"node\":[{\"id\":\"nodemanager1:45454\",\"state\":"
                           "\"LOST\",\"healthReport\":\"\"},{\"id\":\"nodemanager2:45454\","
                           "\"state\":\"DECOMMISSIONED\",\"healthReport\":\"\"}]}}",
                           2, why, sizeof(why)),
                     0);
    assert_string_equal(why, "0 of 2 nodemanagers RUNNING; nodemanager1:45454 LOST; "
                             "nodemanager2:45454 DECOMMISSIONED");
}

static void test_escapes_in_a_report_are_undone(void **state) {
    char why[256];

    (void)state;
    assert_int_equal(judge("{\"nodes\":{\"node\":[{\"id\":\"nodemanager1:45454\",\"state\":"
                           "\"UNHEALTHY\",\"healthReport\":\"ERROR \\\"disk\\\"\\nfull\"}]}}",
                           1, why, sizeof(why)),
                     0);
    assert_string_equal(why, "0 of 1 nodemanagers RUNNING; nodemanager1:45454 UNHEALTHY: ERROR "
                             "\"disk\" full");
}

static void test_missing_nodes_are_counted(void **state) {
    char why[256];

    (void)state;
    assert_int_equal(judge("{\"nodes\":null}", 2, why, sizeof(why)), 0);
    assert_string_equal(why, "0 of 2 nodemanagers RUNNING: none has registered with the "
                             "resourcemanager yet");
    assert_int_equal(judge("{\"nodes\":{\"node\":[{\"id\":\"nodemanager1:45454\",\"state\":"
                           "\"RUNNING\"}]}}",
                           3, why, sizeof(why)),
                     0);
    assert_string_equal(why, "1 of 3 nodemanagers RUNNING, 1 registered");
}

static void test_an_answer_without_nodes_is_not_healthy(void **state) {
    char why[256];

    (void)state;
    assert_int_equal(judge("{\"clusterMetrics\":{\"activeNodes\":2}}", 2, why, sizeof(why)), 0);
    assert_string_equal(why, "the resourcemanager's answer has no \"nodes\"");
    assert_int_equal(judge("not json", 2, why, sizeof(why)), 0);
}

static void test_a_small_why_is_cut_not_overrun(void **state) {
    char why[24];

    (void)state;
    memset(why, 'x', sizeof(why));
    assert_int_equal(judge("{\"nodes\":{\"node\":[{\"id\":\"nodemanager1:45454\",\"state\":"
                           "\"UNHEALTHY\",\"healthReport\":\"" UNHEALTHY_REPORT "\"}]}}",
                           1, why, sizeof(why)),
                     0);
    assert_int_equal(strlen(why), sizeof(why) - 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe_asks_for_every_state),
        cmocka_unit_test(test_all_running_is_healthy),
        cmocka_unit_test(test_one_node_as_object_is_counted),
        cmocka_unit_test(test_unhealthy_node_is_named_with_its_report),
        cmocka_unit_test(test_lost_and_decommissioned_nodes_are_named),
        cmocka_unit_test(test_escapes_in_a_report_are_undone),
        cmocka_unit_test(test_missing_nodes_are_counted),
        cmocka_unit_test(test_an_answer_without_nodes_is_not_healthy),
        cmocka_unit_test(test_a_small_why_is_cut_not_overrun),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
