/* The pure parts of engine/zk: the value patterns of zk_wait_for, error
 * texts, and argument checks that need no server. The behaviour against a
 * real ZooKeeper is tests/integration/test_zk_watch.c. */
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
        cmocka_unit_test(errors_have_texts),
        cmocka_unit_test(connect_rejects_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
