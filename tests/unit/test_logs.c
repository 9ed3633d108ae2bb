/* Log sinks: bytes land in the file in order, the tail answers the last
 * lines, close calls back once after everything is written; and the
 * classic move-aside of a previous run's logs. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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

/* Makes dir (and its parents), with a file in it, then sets its mtime. */
static void make_copy(const char *dir, time_t mtime) {
    char cmd[1200], file[1100];
    struct timespec times[2] = {{mtime, 0}, {mtime, 0}};
    FILE *f;

    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", dir);
    assert_int_equal(system(cmd), 0);
    snprintf(file, sizeof(file), "%s/master.log", dir);
    f = fopen(file, "w");
    assert_non_null(f);
    fputs("a run\n", f);
    fclose(f);
    assert_int_equal(utimensat(AT_FDCWD, dir, times, 0), 0);
}

static int exists(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Whether the path fmt gives is there. */
static int exists(const char *fmt, ...) {
    char path[1200];
    struct stat st;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    return stat(path, &st) == 0;
}

static void keep_counts_are_whole_numbers(void **state) {
    static const char *const bad[] = {
        "x", "-1", "+1", "1x", " 1", "1.5", "1000001", "99999999999999999999999", NULL};
    unsigned keep = 99;
    char err[256];

    assert_int_equal(logs_keep_parse(NULL, &keep, err, sizeof(err)), 0);
    assert_int_equal(keep, LOGS_KEEP_DEFAULT);
    assert_int_equal(LOGS_KEEP_DEFAULT, 5);
    assert_int_equal(logs_keep_parse("", &keep, err, sizeof(err)), 0);
    assert_int_equal(keep, 5);
    assert_int_equal(logs_keep_parse("0", &keep, err, sizeof(err)), 0);
    assert_int_equal(keep, 0);
    assert_int_equal(logs_keep_parse("12", &keep, err, sizeof(err)), 0);
    assert_int_equal(keep, 12);
    assert_int_equal(logs_keep_parse("1000000", &keep, err, sizeof(err)), 0);
    assert_int_equal(keep, 1000000);
    for (size_t i = 0; bad[i] != NULL; i++) {
        err[0] = '\0';
        assert_int_equal(logs_keep_parse(bad[i], &keep, err, sizeof(err)), UV_EINVAL);
        assert_non_null(strstr(err, "HDC_LOGS_KEEP"));
        assert_non_null(strstr(err, "give a whole number from 0 to 1000000"));
    }
    assert_int_equal(logs_keep_parse("ten", &keep, err, sizeof(err)), UV_EINVAL);
    assert_string_equal(err, "HDC_LOGS_KEEP 'ten': give a whole number from 0 to 1000000, the "
                             "moved copies of a cluster's logs kept (default 5)");
    /* What is not text is not quoted. */
    assert_int_equal(logs_keep_parse("\x1b[2J", &keep, err, sizeof(err)), UV_EINVAL);
    assert_null(strchr(err, '\x1b'));
}

static void prune_keeps_the_newest_copies_of_one_cluster(void **state) {
    /* pid: the copy's mtime (not in pid order: pids wrap). */
    static const struct {
        int pid;
        time_t mtime;
    } copies[] = {{100, 1000}, {101, 7000}, {102, 3000}, {103, 6000},
                  {104, 2000}, {105, 5000}, {106, 4000}};
    char root[512], dir[1100], err[256];
    FILE *f;

    snprintf(root, sizeof(root), "%s/p/logs", tmp);
    for (size_t i = 0; i < sizeof(copies) / sizeof(copies[0]); i++) {
        snprintf(dir, sizeof(dir), "%s.backup.%d/c1", root, copies[i].pid);
        make_copy(dir, copies[i].mtime);
    }
    /* Another cluster beside two of them; names that are no copies. */
    snprintf(dir, sizeof(dir), "%s.backup.100/c2", root);
    make_copy(dir, 500);
    snprintf(dir, sizeof(dir), "%s.backup.104/c2", root);
    make_copy(dir, 500);
    snprintf(dir, sizeof(dir), "%s.backup.x/c1", root);
    make_copy(dir, 10);
    snprintf(dir, sizeof(dir), "%s/p/logs2.backup.1/c1", tmp);
    make_copy(dir, 10);
    snprintf(dir, sizeof(dir), "%s.backup.107/c1x", root);
    make_copy(dir, 20);
    snprintf(dir, sizeof(dir), "%s.backup.107/c1", root); /* a file, not a copy */
    f = fopen(dir, "w");
    assert_non_null(f);
    fclose(f);

    assert_int_equal(logs_prune_backups(root, "c1", 3, err, sizeof(err)), 0);
    /* The three newest: 101 (7000), 103 (6000), 105 (5000). */
    assert_true(exists("%s.backup.101/c1/master.log", root));
    assert_true(exists("%s.backup.103/c1", root));
    assert_true(exists("%s.backup.105/c1", root));
    assert_false(exists("%s.backup.106/c1", root));
    assert_false(exists("%s.backup.102/c1", root));
    /* An emptied pid directory goes; one that holds another cluster stays. */
    assert_false(exists("%s.backup.106", root));
    assert_false(exists("%s.backup.102", root));
    assert_false(exists("%s.backup.100/c1", root));
    assert_true(exists("%s.backup.100/c2/master.log", root));
    assert_true(exists("%s.backup.104/c2/master.log", root));
    /* What is not a copy of c1 is not touched. */
    assert_true(exists("%s.backup.x/c1", root));
    assert_true(exists("%s/p/logs2.backup.1/c1", tmp));
    assert_true(exists("%s.backup.107/c1x", root));
    assert_true(exists("%s.backup.107/c1", root));

    /* Keeping 3 of 3 removes nothing; 0 removes them all. */
    assert_int_equal(logs_prune_backups(root, "c1", 3, err, sizeof(err)), 0);
    assert_true(exists("%s.backup.105/c1", root));
    assert_int_equal(logs_prune_backups(root, "c1", 0, err, sizeof(err)), 0);
    for (int pid = 100; pid <= 106; pid++)
        assert_false(exists("%s.backup.%d/%s", root, pid, "c1"));
    assert_false(exists("%s.backup.101", root));
    assert_true(exists("%s.backup.100/c2", root));
    /* No copies at all, and a root whose directory is not there. */
    assert_int_equal(logs_prune_backups(root, "c9", 1, err, sizeof(err)), 0);
    assert_int_not_equal(logs_prune_backups("/nonexistent/dir/logs", "c1", 1, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "/nonexistent/dir"));
}

/* Sets the mtime of <root>/c1, as if its run had started at t. */
static void set_mtime(const char *root, time_t t) {
    char dir[1100];
    struct timespec times[2] = {{t, 0}, {t, 0}};

    snprintf(dir, sizeof(dir), "%s/c1", root);
    assert_int_equal(utimensat(AT_FDCWD, dir, times, 0), 0);
}

static void each_move_keeps_hdc_logs_keep_copies(void **state) {
    char root[512], err[256];
    int moved = -1;

    snprintf(root, sizeof(root), "%s/m", tmp);
    assert_int_equal(mkdir(root, 0755), 0);
    snprintf(root, sizeof(root), "%s/m/logs", tmp);
    setenv("HDC_LOGS_KEEP", "2", 1);
    for (int pid = 1; pid <= 5; pid++) {
        /* Each run's directory made at time 1000 * pid. */
        assert_int_equal(logs_prepare_dir(root, "c1", pid, &moved, err, sizeof(err)), 0);
        set_mtime(root, 1000 * pid);
    }
    /* Four moves (the first up had nothing to move): the last two kept. */
    assert_int_equal(moved, 1);
    assert_true(exists("%s.backup.5/c1", root));
    assert_true(exists("%s.backup.4/c1", root));
    assert_false(exists("%s.backup.3", root));
    assert_false(exists("%s.backup.2", root));
    assert_true(exists("%s/c1", root));

    /* 0 keeps none: nothing is reported as moved. */
    setenv("HDC_LOGS_KEEP", "0", 1);
    assert_int_equal(logs_prepare_dir(root, "c1", 6, &moved, err, sizeof(err)), 0);
    assert_int_equal(moved, 0);
    assert_false(exists("%s.backup.6", root));
    assert_false(exists("%s.backup.5", root));
    assert_true(exists("%s/c1", root));

    /* A bad value is refused before anything moves. */
    setenv("HDC_LOGS_KEEP", "all", 1);
    assert_int_equal(logs_prepare_dir(root, "c1", 7, &moved, err, sizeof(err)), UV_EINVAL);
    assert_non_null(strstr(err, "HDC_LOGS_KEEP 'all'"));
    assert_true(exists("%s/c1", root));
    assert_false(exists("%s.backup.7", root));

    /* Unset: the default, 5. */
    unsetenv("HDC_LOGS_KEEP");
    for (int pid = 10; pid <= 17; pid++) {
        set_mtime(root, 1000 * pid); /* the run that pid moves */
        assert_int_equal(logs_prepare_dir(root, "c1", pid, &moved, err, sizeof(err)), 0);
        assert_int_equal(moved, 1);
    }
    for (int pid = 10; pid <= 17; pid++)
        assert_int_equal(exists("%s.backup.%d/c1", root, pid), pid >= 13);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bytes_land_in_order_and_close_calls_back_once),
        cmocka_unit_test(truncate_replaces_what_was_there),
        cmocka_unit_test(tail_gives_the_last_lines),
        cmocka_unit_test(unwritable_path_keeps_the_tail),
        cmocka_unit_test(previous_logs_are_moved_aside),
        cmocka_unit_test(keep_counts_are_whole_numbers),
        cmocka_unit_test(prune_keeps_the_newest_copies_of_one_cluster),
        cmocka_unit_test(each_move_keeps_hdc_logs_keep_copies),
    };
    return cmocka_run_group_tests(tests, make_tmp, remove_tmp);
}
