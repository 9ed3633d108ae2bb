/* The pure parts of engine/zk: the value patterns of zk_wait_for, what
 * becomes of a call after a lost connection (zk_verdict), error texts, and
 * argument checks that need no server. The behaviour against a real
 * ZooKeeper (a server stopped in the middle of calls, an expiry) is
 * tests/integration/test_zk_watch.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "zk.h"

static int matches(const char *const *accept, const char *value) {
    return zk_value_matches(accept, value, strlen(value));
}

static void exact_value_matches_only_itself(void **state) {
    static const char *const up[] = {"up", NULL};
    assert_true(matches(up, "up"));
    assert_false(matches(up, "u"));
    assert_false(matches(up, "upx"));
    assert_false(matches(up, ""));
    assert_false(matches(up, "UP"));
}

static void star_suffix_matches_a_prefix(void **state) {
    static const char *const acc[] = {"up", "failed:*", NULL};
    assert_true(matches(acc, "failed:"));
    assert_true(matches(acc, "failed:exited with status 3"));
    assert_false(matches(acc, "failed"));
    assert_false(matches(acc, "xfailed:1"));
    assert_true(matches(acc, "up"));
}

static void lone_star_matches_any_value(void **state) {
    static const char *const any[] = {"*", NULL};
    assert_true(matches(any, ""));
    assert_true(matches(any, "whatever"));
}

static void values_with_nul_bytes_compare_by_length(void **state) {
    static const char *const up[] = {"up", NULL};
    static const char *const pre[] = {"ab*", NULL};
    assert_false(zk_value_matches(up, "up\0x", 4));
    assert_true(zk_value_matches(up, "up\0x", 2));
    assert_true(zk_value_matches(pre, "ab\0x", 4));
}

static void empty_pattern_list_matches_nothing(void **state) {
    static const char *const none[] = {NULL};
    assert_false(matches(none, "up"));
    assert_false(zk_value_matches(NULL, "up", 2));
    assert_false(zk_value_matches((const char *const[]){"up", NULL}, NULL, 0));
}

static void errors_have_texts(void **state) {
    assert_string_equal(hdc_strerror(ZK_ENONODE), "no such znode");
    assert_non_null(strstr(hdc_strerror(ZK_ECONNLOSS), "connection"));
    assert_string_equal(hdc_strerror(UV_ETIMEDOUT), uv_strerror(UV_ETIMEDOUT));
}

static enum zk_verdict verdict(enum zk_call call, int status, int retried, int gone, int *out) {
    *out = 12345;
    return zk_verdict(call, status, retried, gone, out);
}

static void lost_connection_retries_every_call_while_the_session_lives(void **state) {
    static const enum zk_call calls[] = {ZK_CALL_CREATE, ZK_CALL_SET, ZK_CALL_DELETE, ZK_CALL_GET,
                                         ZK_CALL_EXISTS};
    int out;
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        assert_int_equal(verdict(calls[i], ZK_ECONNLOSS, 0, 0, &out), ZK_VERDICT_RETRY);
        /* Lost again on its second attempt: sent again again. */
        assert_int_equal(verdict(calls[i], ZK_ECONNLOSS, 1, 0, &out), ZK_VERDICT_RETRY);
    }
}

static void lost_connection_of_a_gone_session_ends_with_its_reason(void **state) {
    int out;
    assert_int_equal(verdict(ZK_CALL_SET, ZK_ECONNLOSS, 0, ZK_EEXPIRED, &out), ZK_VERDICT_DONE);
    assert_int_equal(out, ZK_EEXPIRED);
    assert_int_equal(verdict(ZK_CALL_CREATE, ZK_ECONNLOSS, 1, UV_ECANCELED, &out), ZK_VERDICT_DONE);
    assert_int_equal(out, UV_ECANCELED);
    assert_int_equal(verdict(ZK_CALL_GET, ZK_ECONNLOSS, 0, UV_ENOTCONN, &out), ZK_VERDICT_DONE);
    assert_int_equal(out, UV_ENOTCONN);
    /* An answer that did come stands, whatever became of the session. */
    assert_int_equal(verdict(ZK_CALL_SET, 0, 1, ZK_EEXPIRED, &out), ZK_VERDICT_DONE);
    assert_int_equal(out, 0);
}

static void answers_of_a_first_attempt_are_reported_as_they_are(void **state) {
    int out;
    assert_int_equal(verdict(ZK_CALL_CREATE, ZK_ENODEEXISTS, 0, 0, &out), ZK_VERDICT_DONE);
    assert_int_equal(out, ZK_ENODEEXISTS);
    assert_int_equal(verdict(ZK_CALL_DELETE, ZK_ENONODE, 0, 0, &out), ZK_VERDICT_DONE);
    assert_int_equal(out, ZK_ENONODE);
    assert_int_equal(verdict(ZK_CALL_SET, ZK_ENONODE, 0, 0, &out), ZK_VERDICT_DONE);
    assert_int_equal(out, ZK_ENONODE);
    assert_int_equal(verdict(ZK_CALL_SET, 0, 0, 0, &out), ZK_VERDICT_DONE);
    assert_int_equal(out, 0);
    assert_int_equal(verdict(ZK_CALL_GET, ZK_EEXPIRED, 0, 0, &out), ZK_VERDICT_DONE);
    assert_int_equal(out, ZK_EEXPIRED);
}

static void a_create_sent_again_that_finds_its_node_checks_it(void **state) {
    int out;
    /* The first attempt may have landed: the node is read, not refused. */
    assert_int_equal(verdict(ZK_CALL_CREATE, ZK_ENODEEXISTS, 1, 0, &out), ZK_VERDICT_CHECK);
    assert_int_equal(verdict(ZK_CALL_CREATE, 0, 1, 0, &out), ZK_VERDICT_DONE);
    assert_int_equal(out, 0);
}

static void a_delete_sent_again_that_finds_no_node_succeeded(void **state) {
    int out;
    assert_int_equal(verdict(ZK_CALL_DELETE, ZK_ENONODE, 1, 0, &out), ZK_VERDICT_DONE);
    assert_int_equal(out, 0);
    /* A set sent again is the same set: its "no node" is real. */
    assert_int_equal(verdict(ZK_CALL_SET, ZK_ENONODE, 1, 0, &out), ZK_VERDICT_DONE);
    assert_int_equal(out, ZK_ENONODE);
    assert_int_equal(verdict(ZK_CALL_DELETE, ZK_ENOTEMPTY, 1, 0, &out), ZK_VERDICT_DONE);
    assert_int_equal(out, ZK_ENOTEMPTY);
}

static void default_session_timeout_outlasts_a_20_s_outage(void **state) {
    /* The client finds the connection lost after 2/3 of the timeout, and
     * the server expires the session after all of it. */
    assert_true(ZK_SESSION_TIMEOUT_DEFAULT_MS > 20000);
    assert_true(ZK_SESSION_TIMEOUT_DEFAULT_MS <= 60000); /* zoo.cfg's maxSessionTimeout */
}

static void connect_rejects_bad_arguments(void **state) {
    uv_loop_t loop;
    zk_session *s = NULL;
    zk_options o = {"", 0, 0, NULL, NULL};
    uv_loop_init(&loop);
    assert_int_equal(zk_connect(&loop, &o, &s, (zk_connect_cb)1, NULL), UV_EINVAL);
    o.hosts = "127.0.0.1:1";
    assert_int_equal(zk_connect(&loop, &o, &s, NULL, NULL), UV_EINVAL);
    assert_int_equal(zk_connect(&loop, NULL, &s, (zk_connect_cb)1, NULL), UV_EINVAL);
    assert_null(s);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exact_value_matches_only_itself),
        cmocka_unit_test(star_suffix_matches_a_prefix),
        cmocka_unit_test(lone_star_matches_any_value),
        cmocka_unit_test(values_with_nul_bytes_compare_by_length),
        cmocka_unit_test(empty_pattern_list_matches_nothing),
        cmocka_unit_test(lost_connection_retries_every_call_while_the_session_lives),
        cmocka_unit_test(lost_connection_of_a_gone_session_ends_with_its_reason),
        cmocka_unit_test(answers_of_a_first_attempt_are_reported_as_they_are),
        cmocka_unit_test(a_create_sent_again_that_finds_its_node_checks_it),
        cmocka_unit_test(a_delete_sent_again_that_finds_no_node_succeeded),
        cmocka_unit_test(default_session_timeout_outlasts_a_20_s_outage),
        cmocka_unit_test(errors_have_texts),
        cmocka_unit_test(connect_rejects_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
