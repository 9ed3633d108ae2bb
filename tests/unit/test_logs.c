/* Log sinks: bytes land in the file in order, the tail answers the last
 * lines, close calls back once after everything is written; and the
 * classic move-aside of a previous run's logs. Docker's timestamps: parsed,
 * taken off, lines at or before a cursor dropped at every split; a
 * resuming sink writes each line once across streams and reopenings; one
 * writer holds a cluster's lock. */
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

/* ---- timestamps, the splitter, resuming, the lock ---------------------------- */

static logs_time at(const char *s) {
    logs_time t;

    assert_int_equal(logs_time_parse(s, strlen(s), &t), 0);
    return t;
}

static void timestamps_parse_as_docker_writes_them(void **state) {
    char out[LOGS_TIME_LEN + 1];
    logs_time t;
    const char *bad[] = {
        "",
        "2024-05-01",
        "2024-05-01T12:34:56",   /* no zone */
        "2024-05-01T12:34:56.Z", /* an empty fraction */
        "2024-05-01T12:34:56.1234567890Z",
        "2024-13-01T12:34:56Z",
        "2023-02-29T00:00:00Z",
        "2024-05-01T24:00:00Z",
        "1969-12-31T23:59:59Z",
        "2024-05-01 12:34:56Z",
        "2024-05-01T12:34:56Zx",
        "2024-05-01T12:34:56+0200",
        "2024-05-01T12:34:5aZ",
    };

    t = at("2024-05-01T12:34:56.123456789Z");
    assert_int_equal(t.sec, 1714566896);
    assert_int_equal(t.nsec, 123456789);
    logs_time_format(t, out);
    assert_string_equal(out, "2024-05-01T12:34:56.123456789Z");
    /* Fewer digits are a fraction all the same; zones are taken off. */
    assert_int_equal(at("2024-05-01T12:34:56.5Z").nsec, 500000000);
    assert_int_equal(at("2024-05-01T12:34:56Z").nsec, 0);
    assert_int_equal(at("2024-05-01T14:34:56.1+02:00").sec, 1714566896);
    assert_int_equal(at("2024-05-01T10:04:56-02:30").sec, 1714566896);
    assert_int_equal(at("2024-02-29T00:00:00Z").sec, 1709164800);
    assert_int_equal(at("1970-01-01T00:00:01Z").sec, 1);
    logs_time_format(at("2000-03-01T00:00:00.000000001Z"), out);
    assert_string_equal(out, "2000-03-01T00:00:00.000000001Z");
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        assert_int_equal(logs_time_parse(bad[i], strlen(bad[i]), &t), UV_EINVAL);

    assert_true(logs_time_cmp(at("2024-05-01T12:34:56.1Z"), at("2024-05-01T12:34:56.2Z")) < 0);
    assert_true(logs_time_cmp(at("2024-05-01T12:34:57Z"), at("2024-05-01T12:34:56.9Z")) > 0);
    assert_int_equal(logs_time_cmp(at("2024-05-01T12:34:56.1Z"), at("2024-05-01T12:34:56.100Z")),
                     0);
}

static void a_cursor_file_is_one_time(void **state) {
    logs_time t;

    assert_int_equal(logs_cursor_parse("2024-05-01T12:34:56.123456789Z\n", 31, &t), 0);
    assert_int_equal(t.sec, 1714566896);
    assert_int_equal(logs_cursor_parse("2024-05-01T12:34:56.123456789Z \r\n", 33, &t), 0);
    /* Torn or foreign: refused (the writer then starts from the beginning). */
    assert_int_equal(logs_cursor_parse("2024-05-01T12:34", 16, &t), UV_EINVAL);
    assert_int_equal(logs_cursor_parse("2024-05-01T12:34:56Z\n2024", 25, &t), UV_EINVAL);
    assert_int_equal(logs_cursor_parse("", 0, &t), UV_EINVAL);
    assert_int_equal(logs_cursor_parse("\n", 1, &t), UV_EINVAL);
}

static void the_cursor_lives_in_dot_cursor(void **state) {
    char *p = logs_cursor_path("logs/c1/datanode1.log");

    assert_string_equal(p, "logs/c1/.cursor/datanode1");
    free(p);
    p = logs_cursor_path("/abs/x");
    assert_string_equal(p, "/abs/.cursor/x");
    free(p);
    p = logs_cursor_path("zk.log");
    assert_string_equal(p, "./.cursor/zk");
    free(p);
}

typedef struct gathered {
    char text[4096];
    size_t len;
    logs_time last;
    unsigned lines, stamped;
} gathered;

static void gather(void *data, const char *buf, size_t len, int end, const logs_time *ts) {
    gathered *g = data;

    assert_true(g->len + len < sizeof(g->text));
    memcpy(g->text + g->len, buf, len);
    g->len += len;
    g->text[g->len] = '\0';
    if (end) {
        assert_int_equal(buf[len - 1], '\n');
        g->lines++;
        if (ts != NULL) {
            g->stamped++;
            g->last = *ts;
        }
    } else {
        assert_null(memchr(buf, '\n', len));
    }
}

static const char docker_out[] = "2024-05-01T12:00:00.000000001Z one\n"
                                 "2024-05-01T12:00:00.000000002Z two\n"
                                 "2024-05-01T12:00:00.000000002Z two again\n"
                                 "2024-05-01T12:00:01.000000000Z \n"
                                 "not a time: kept whole\n"
                                 "2024-05-01T12:00:03.5Z three\n";

static void lines_at_or_before_the_cursor_are_dropped_at_every_split(void **state) {
    size_t n = strlen(docker_out);

    for (size_t cut1 = 0; cut1 <= n; cut1++) {
        for (size_t cut2 = cut1; cut2 <= n; cut2 += 7) {
            logs_stamped p;
            gathered g = {0};
            logs_stamped_init(&p, at("2024-05-01T12:00:00.000000002Z"));
            logs_stamped_feed(&p, docker_out, cut1, gather, &g);
            logs_stamped_feed(&p, docker_out + cut1, cut2 - cut1, gather, &g);
            logs_stamped_feed(&p, docker_out + cut2, n - cut2, gather, &g);
            logs_stamped_end(&p, gather, &g);
            /* Both lines stamped at the cursor go: Docker's since is
             * inclusive, and a later one stays; the time is off. */
            assert_string_equal(g.text, "\nnot a time: kept whole\nthree\n");
            assert_int_equal(g.lines, 3);
            assert_int_equal(g.stamped, 2);
            assert_int_equal(logs_time_cmp(g.last, at("2024-05-01T12:00:03.5Z")), 0);
        }
    }
}

static void no_cursor_keeps_all_and_a_cut_line_is_ended(void **state) {
    static const logs_time none;
    logs_stamped p;
    gathered g = {0};

    logs_stamped_init(&p, none);
    logs_stamped_feed(&p, docker_out, strlen(docker_out), gather, &g);
    assert_int_equal(g.lines, 6);
    logs_stamped_feed(&p, "2024-05-01T12:00:04Z cut he", 27, gather, &g);
    logs_stamped_end(&p, gather, &g);
    /* Ended, but its time is not given: the next stream repeats it. */
    assert_int_equal(g.lines, 7);
    assert_int_equal(g.stamped, 5);
    assert_int_equal(logs_time_cmp(g.last, at("2024-05-01T12:00:03.5Z")), 0);
    assert_non_null(
        strstr(g.text, "one\ntwo\ntwo again\n\nnot a time: kept whole\nthree\ncut he\n"));
    /* A timestamp cut before its space is dropped: its line comes again. */
    g.len = 0;
    g.text[0] = '\0';
    logs_stamped_feed(&p, "2024-05-01T12:0", 15, gather, &g);
    logs_stamped_end(&p, gather, &g);
    assert_int_equal(g.len, 0);
}

typedef struct resumed {
    int calls;
    int status;
    logs_time since;
} resumed;

static void on_resume(void *data, int status, logs_time since) {
    resumed *r = data;

    r->calls++;
    r->status = status;
    r->since = since;
}

/* Opens path as a resuming sink, runs the loop until it is ready. */
static logs_sink *resume(uv_loop_t *loop, const char *path, int persist, resumed *r) {
    logs_sink *s;

    memset(r, 0, sizeof(*r));
    assert_int_equal(logs_sink_resume(loop, path, persist, on_resume, r, &s), 0);
    assert_int_equal(r->calls, 0); /* never from inside the call */
    while (r->calls == 0)
        assert_true(uv_run(loop, UV_RUN_ONCE) != 0 || r->calls == 1);
    assert_int_equal(r->calls, 1);
    return s;
}

static void finish(uv_loop_t *loop, logs_sink *s) {
    int calls = 0;

    logs_sink_close(s, closed, &calls);
    assert_int_equal(calls, 0);
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(calls, 1);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void a_resumed_sink_writes_each_line_once(void **state) {
    uv_loop_t loop;
    logs_sink *s;
    resumed r;
    char path[512], cpath[512], out[256];
    size_t len;
    char *got;
    logs_time t;

    uv_loop_init(&loop);
    snprintf(path, sizeof(path), "%s/dn1.log", tmp);
    snprintf(cpath, sizeof(cpath), "%s/.cursor/dn1", tmp);
    /* A log without a cursor: written again from Docker's start. */
    write_file(path, "an earlier writer's text\n");
    s = resume(&loop, path, 1, &r);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.since.sec, 0);
    assert_int_equal(r.since.nsec, 0);
    /* Split anywhere, as frames come. */
    for (size_t i = 0; i < 70; i++)
        logs_sink_append(s, docker_out + i, 1);
    logs_sink_append(s, docker_out + 70, strlen(docker_out) - 70);
    logs_sink_tail(s, 2, out, sizeof(out));
    assert_string_equal(out, "not a time: kept whole\nthree\n");
    finish(&loop, s);
    got = slurp(path, &len);
    assert_string_equal(got, "one\ntwo\ntwo again\n\nnot a time: kept whole\nthree\n");
    free(got);
    got = slurp(cpath, &len);
    assert_string_equal(got, "2024-05-01T12:00:03.500000000Z\n");
    free(got);

    /* Again: the cursor is read back; Docker's since is inclusive, so the
     * line at the cursor comes again, and goes; a later one stays. */
    s = resume(&loop, path, 1, &r);
    assert_int_equal(r.status, 0);
    assert_int_equal(logs_time_cmp(r.since, at("2024-05-01T12:00:03.5Z")), 0);
    t = logs_sink_next_stream(s);
    assert_int_equal(logs_time_cmp(t, r.since), 0);
    logs_sink_append(s, "2024-05-01T12:00:03.500000000Z three\n2024-05-01T12:00:0", 55);
    logs_sink_append(s, "3.500000001Z four\n", 18);
    /* The container stops and starts: a second stream from the newest line. */
    t = logs_sink_next_stream(s);
    assert_int_equal(logs_time_cmp(t, at("2024-05-01T12:00:03.500000001Z")), 0);
    logs_sink_append(s, "2024-05-01T12:00:03.500000001Z four\n2024-05-01T12:00:09Z five\n", 62);
    finish(&loop, s);
    got = slurp(path, &len);
    assert_string_equal(got, "one\ntwo\ntwo again\n\nnot a time: kept whole\nthree\nfour\nfive\n");
    free(got);
    got = slurp(cpath, &len);
    assert_string_equal(got, "2024-05-01T12:00:09.000000000Z\n");
    free(got);

    /* An emptied log starts from the beginning, whatever the cursor says. */
    write_file(path, "");
    s = resume(&loop, path, 1, &r);
    assert_int_equal(r.since.sec, 0);
    finish(&loop, s);
    /* A torn cursor too (lines again, none lost). */
    write_file(path, "x\n");
    write_file(cpath, "2024-05-01T1");
    s = resume(&loop, path, 1, &r);
    assert_int_equal(r.since.sec, 0);
    finish(&loop, s);
    got = slurp(path, &len);
    assert_int_equal(len, 0);
    free(got);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void a_write_to_sink_starts_empty_and_keeps_its_cursor_in_memory(void **state) {
    uv_loop_t loop;
    logs_sink *s;
    resumed r;
    char path[512], cdir[512];
    size_t len;
    char *got;
    struct stat st;

    uv_loop_init(&loop);
    snprintf(path, sizeof(path), "%s/wt/n.log", tmp);
    snprintf(cdir, sizeof(cdir), "%s/wt", tmp);
    assert_int_equal(mkdir(cdir, 0755), 0);
    write_file(path, "old\n");
    s = resume(&loop, path, 0, &r);
    assert_int_equal(r.since.sec, 0);
    logs_sink_append(s, "2024-05-01T12:00:01Z a\n2024-05-01T12:00:02Z b", 45);
    /* The engine went away mid-line: the next stream from "a" on. */
    assert_int_equal(logs_time_cmp(logs_sink_next_stream(s), at("2024-05-01T12:00:01Z")), 0);
    logs_sink_append(s, "2024-05-01T12:00:01Z a\n2024-05-01T12:00:02Z b\n", 46);
    finish(&loop, s);
    got = slurp(path, &len);
    assert_string_equal(got, "a\nb\nb\n");
    free(got);
    snprintf(cdir, sizeof(cdir), "%s/wt/.cursor", tmp);
    assert_int_equal(stat(cdir, &st), -1);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void without_a_path_only_the_tail_is_kept(void **state) {
    uv_loop_t loop;
    logs_sink *s;
    resumed r;
    char out[64];

    uv_loop_init(&loop);
    s = resume(&loop, NULL, 1, &r);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.since.sec, 0);
    logs_sink_append(s, "2024-05-01T12:00:01Z booting\n2024-05-01T12:00:02Z failed\n", 57);
    logs_sink_tail(s, 1, out, sizeof(out));
    assert_string_equal(out, "failed\n");
    assert_int_equal(logs_sink_error(s), 0);
    finish(&loop, s);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void a_sink_closed_while_it_opens_calls_back_canceled_then_closed(void **state) {
    uv_loop_t loop;
    logs_sink *s;
    resumed r = {0};
    char path[512];
    int calls = 0;

    uv_loop_init(&loop);
    snprintf(path, sizeof(path), "%s/early.log", tmp);
    assert_int_equal(logs_sink_resume(&loop, path, 1, on_resume, &r, &s), 0);
    logs_sink_close(s, closed, &calls);
    assert_int_equal(r.calls + calls, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, UV_ECANCELED);
    assert_int_equal(calls, 1);
    assert_int_equal(uv_loop_close(&loop), 0);
}

typedef struct lock_result {
    int calls;
    int status;
    logs_lock *lock;
} lock_result;

static void on_lock(void *data, int status, logs_lock *lock) {
    lock_result *l = data;

    l->calls++;
    l->status = status;
    l->lock = lock;
}

static lock_result take(uv_loop_t *loop, const char *dir) {
    lock_result l = {0};

    assert_int_equal(logs_lock_take(loop, dir, on_lock, &l), 0);
    assert_int_equal(l.calls, 0);
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(l.calls, 1);
    return l;
}

static void one_writer_holds_the_lock(void **state) {
    uv_loop_t loop;
    char dir[512], file[600];
    lock_result a, b;
    struct stat st;

    uv_loop_init(&loop);
    snprintf(dir, sizeof(dir), "%s/lockme/c1", tmp);
    a = take(&loop, dir); /* makes the directories */
    assert_int_equal(a.status, 0);
    assert_non_null(a.lock);
    snprintf(file, sizeof(file), "%s/.writer.lock", dir);
    assert_int_equal(stat(file, &st), 0);
    b = take(&loop, dir);
    assert_int_equal(b.status, UV_EBUSY);
    assert_null(b.lock);
    /* Free as soon as the release returns, before its close has run. */
    logs_lock_release(a.lock);
    b = take(&loop, dir);
    assert_int_equal(b.status, 0);
    logs_lock_release(b.lock);
    uv_run(&loop, UV_RUN_DEFAULT);
    /* A directory that cannot be made. */
    a = take(&loop, "/dev/null/c1");
    assert_int_equal(a.status, UV_ENOTDIR);
    assert_int_equal(uv_loop_close(&loop), 0);
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
        cmocka_unit_test(timestamps_parse_as_docker_writes_them),
        cmocka_unit_test(a_cursor_file_is_one_time),
        cmocka_unit_test(the_cursor_lives_in_dot_cursor),
        cmocka_unit_test(lines_at_or_before_the_cursor_are_dropped_at_every_split),
        cmocka_unit_test(no_cursor_keeps_all_and_a_cut_line_is_ended),
        cmocka_unit_test(a_resumed_sink_writes_each_line_once),
        cmocka_unit_test(a_write_to_sink_starts_empty_and_keeps_its_cursor_in_memory),
        cmocka_unit_test(without_a_path_only_the_tail_is_kept),
        cmocka_unit_test(a_sink_closed_while_it_opens_calls_back_canceled_then_closed),
        cmocka_unit_test(one_writer_holds_the_lock),
    };
    return cmocka_run_group_tests(tests, make_tmp, remove_tmp);
}
