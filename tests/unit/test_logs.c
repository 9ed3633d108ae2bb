/* Log sinks: bytes land in the file in order, the tail answers the last
 * lines, close calls back once after everything is written; and the
 * classic move-aside of a previous run's logs. */
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
#include <uv.h>

#include "logs.h"

static char tmp[256];

static int make_tmp(void **state) {
    snprintf(tmp, sizeof(tmp), "/tmp/hdc-test-logs-XXXXXX");
    assert_non_null(mkdtemp(tmp));
    return 0;
}

static int remove_tmp(void **state) {
    char cmd[512];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    return system(cmd);
}

static void closed(void *data) {
    (*(int *)data)++;
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    char *buf;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc(*len + 1);
    assert_int_equal(fread(buf, 1, *len, f), *len);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static void bytes_land_in_order_and_close_calls_back_once(void **state) {
    uv_loop_t loop;
    logs_sink *s;
    char path[512], expect[200000];
    size_t len = 0, got_len;
    int calls = 0;
    char *got;

    uv_loop_init(&loop);
    snprintf(path, sizeof(path), "%s/node.log", tmp);
    assert_int_equal(logs_sink_open(&loop, path, 0, &s), 0);
    for (int i = 0; i < 5000; i++) {
        char line[40];
        int n = snprintf(line, sizeof(line), "line %d\n", i);
        /* Split each line in two appends, as reads split them. */
        logs_sink_append(s, line, 3);
        logs_sink_append(s, line + 3, (size_t)n - 3);
        memcpy(expect + len, line, (size_t)n);
        len += (size_t)n;
        if (i % 1000 == 0)
            uv_run(&loop, UV_RUN_NOWAIT);
    }
    logs_sink_close(s, closed, &calls);
    assert_int_equal(calls, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(calls, 1);
    got = slurp(path, &got_len);
    assert_int_equal(got_len, len);
    assert_memory_equal(got, expect, len);
    free(got);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void truncate_replaces_what_was_there(void **state) {
    uv_loop_t loop;
    logs_sink *s;
    char path[512];
    size_t len;
    int calls = 0;
    char *got;
    FILE *f;

    uv_loop_init(&loop);
    snprintf(path, sizeof(path), "%s/again.log", tmp);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("an earlier writer's text\n", f);
    fclose(f);
    assert_int_equal(logs_sink_open(&loop, path, 1, &s), 0);
    logs_sink_append(s, "fresh\n", 6);
    logs_sink_close(s, closed, &calls);
    uv_run(&loop, UV_RUN_DEFAULT);
    got = slurp(path, &len);
    assert_string_equal(got, "fresh\n");
    free(got);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void tail_gives_the_last_lines(void **state) {
    uv_loop_t loop;
    logs_sink *s;
    char path[512], out[256];
    int calls = 0;

    uv_loop_init(&loop);
    snprintf(path, sizeof(path), "%s/tail.log", tmp);
    assert_int_equal(logs_sink_open(&loop, path, 0, &s), 0);
    logs_sink_tail(s, 3, out, sizeof(out));
    assert_string_equal(out, "");
    logs_sink_append(s, "a\nb\nc\n", 6);
    logs_sink_tail(s, 2, out, sizeof(out));
    assert_string_equal(out, "b\nc\n");
    logs_sink_tail(s, 10, out, sizeof(out));
    assert_string_equal(out, "a\nb\nc\n");
    logs_sink_append(s, "partial", 7);
    logs_sink_tail(s, 2, out, sizeof(out));
    assert_string_equal(out, "c\npartial");
    /* More than the ring holds: the tail is still the last lines. */
    for (int i = 0; i < 10000; i++) {
        char line[40];
        int n = snprintf(line, sizeof(line), "\nnumber %d", i);
        logs_sink_append(s, line, (size_t)n);
    }
    logs_sink_tail(s, 2, out, sizeof(out));
    assert_string_equal(out, "number 9998\nnumber 9999");
    /* A small buffer keeps the end. */
    logs_sink_tail(s, 2, out, 5);
    assert_string_equal(out, "9999");
    logs_sink_close(s, closed, &calls);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(calls, 1);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void unwritable_path_keeps_the_tail(void **state) {
    uv_loop_t loop;
    logs_sink *s;
    char out[64];
    int calls = 0;

    uv_loop_init(&loop);
    assert_int_equal(logs_sink_open(&loop, "/nonexistent-dir/x.log", 0, &s), 0);
    logs_sink_append(s, "still here\n", 11);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(logs_sink_error(s), UV_ENOENT);
    logs_sink_append(s, "and this\n", 9);
    logs_sink_tail(s, 2, out, sizeof(out));
    assert_string_equal(out, "still here\nand this\n");
    logs_sink_close(s, closed, &calls);
    assert_int_equal(calls, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(calls, 1);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void previous_logs_are_moved_aside(void **state) {
    char root[512], path[1024], err[256];
    struct stat st;
    int moved = -1;
    FILE *f;

    snprintf(root, sizeof(root), "%s/logs", tmp);
    assert_int_equal(logs_prepare_dir(root, "c1", 42, &moved, err, sizeof(err)), 0);
    assert_int_equal(moved, 0);
    snprintf(path, sizeof(path), "%s/c1/namenode.log", root);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("old run\n", f);
    fclose(f);
    assert_int_equal(logs_prepare_dir(root, "c1", 42, &moved, err, sizeof(err)), 0);
    assert_int_equal(moved, 1);
    assert_int_not_equal(stat(path, &st), 0);
    snprintf(path, sizeof(path), "%s.backup.42/c1/namenode.log", root);
    assert_int_equal(stat(path, &st), 0);
    snprintf(path, sizeof(path), "%s/c1", root);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    /* Another cluster's logs are not touched. */
    assert_int_equal(logs_prepare_dir(root, "c2", 43, &moved, err, sizeof(err)), 0);
    assert_int_equal(stat(path, &st), 0);
    /* A root that cannot be made says which path. */
    assert_int_not_equal(logs_prepare_dir("/proc/nope/logs", "c1", 1, &moved, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "/proc/nope/logs"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bytes_land_in_order_and_close_calls_back_once),
        cmocka_unit_test(truncate_replaces_what_was_there),
        cmocka_unit_test(tail_gives_the_last_lines),
        cmocka_unit_test(unwritable_path_keeps_the_tail),
        cmocka_unit_test(previous_logs_are_moved_aside),
    };
    return cmocka_run_group_tests(tests, make_tmp, remove_tmp);
}
