/* engine/util.c: mkdir -p, absolute paths, writable directories, the
 * executable's own path, messages into a caller's buffer, growing an
 * array. */
#define _GNU_SOURCE
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

#include "util.h"

static void mkdir_p_makes_every_parent_and_is_idempotent(void **state) {
    char base[] = "/tmp/hdc-util-XXXXXX";
    char *deep;
    struct stat st;

    assert_non_null(mkdtemp(base));
    deep = util_asprintf("%s/a/b/c", base);
    assert_int_equal(util_mkdir_p(deep, 0755), 0);
    assert_int_equal(stat(deep, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(util_mkdir_p(deep, 0755), 0); /* there already */
    free(deep);
    deep = util_asprintf("rm -rf '%s'", base);
    assert_int_equal(system(deep), 0);
    free(deep);
}

static void mkdir_p_says_why_it_failed(void **state) {
    assert_int_equal(util_mkdir_p("/proc/hdc-cannot/x", 0755), UV_ENOENT);
    assert_int_equal(util_mkdir_p("/dev/null/x", 0755), UV_ENOTDIR);
}

static void the_executable_and_its_directory(void **state) {
    char path[4096], dir[4096], small[4];

    assert_int_equal(util_self_path(path, sizeof(path)), 0);
    assert_non_null(strstr(path, "test_util"));
    assert_int_equal(util_self_dir(dir, sizeof(dir)), 0);
    assert_int_equal(strncmp(path, dir, strlen(dir)), 0);
    assert_int_equal(path[strlen(dir)], '/');
    assert_int_equal(util_self_path(small, sizeof(small)), UV_ENAMETOOLONG);
    assert_string_equal(small, "");
}

static void abspath_joins_the_current_directory(void **state) {
    char *cwd = getcwd(NULL, 0), *want, *got;

    got = util_abspath("/already/absolute");
    assert_string_equal(got, "/already/absolute");
    free(got);
    want = util_asprintf("%s/logs", cwd);
    got = util_abspath("logs");
    assert_string_equal(got, want);
    free(got);
    got = util_abspath("./logs");
    assert_string_equal(got, want);
    free(got);
    got = util_abspath(".");
    assert_string_equal(got, cwd);
    free(got);
    free(want);
    free(cwd);
}

static void writable_dir_says_why_not_without_making_it(void **state) {
    char base[] = "/tmp/hdc-util-XXXXXX";
    char *dir, *file;
    FILE *f;

    assert_non_null(mkdtemp(base));
    dir = util_asprintf("%s/new/logs", base);
    assert_int_equal(util_writable_dir(dir), 0);
    assert_int_equal(access(dir, F_OK), -1); /* nothing made */
    assert_int_equal(util_writable_dir(base), 0);
    file = util_asprintf("%s/file", base);
    f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(util_writable_dir(file), UV_ENOTDIR);
    assert_int_equal(util_writable_dir("/dev/null"), UV_ENOTDIR);
    free(dir);
    dir = util_asprintf("%s/file/below", base); /* a file on the way */
    assert_int_equal(util_writable_dir(dir), UV_ENOTDIR);
    assert_int_equal(util_writable_dir("relative/not/there"), 0);
    free(dir);
    free(file);
    dir = util_asprintf("rm -rf '%s'", base);
    assert_int_equal(system(dir), 0);
    free(dir);
}

static void fail_writes_the_message_and_returns_the_code(void **state) {
    char err[16];

    assert_int_equal(util_fail(err, sizeof(err), -7, "%s %d", "code", 42), -7);
    assert_string_equal(err, "code 42");
    assert_int_equal(util_fail(err, sizeof(err), 2, "%s", "a message longer than sixteen"), 2);
    assert_int_equal(strlen(err), sizeof(err) - 1);
    assert_int_equal(util_fail(NULL, 0, 3, "nowhere"), 3);
}

static void grow_doubles_and_keeps_the_items(void **state) {
    int *items = NULL;
    size_t cap = 0;

    for (int i = 0; i < 1000; i++) {
        assert_int_equal(util_grow(&items, &cap, (size_t)i + 1, sizeof(*items)), 0);
        items[i] = i;
    }
    assert_true(cap >= 1000 && cap < 2048);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(items[i], i);
    assert_int_equal(util_grow(&items, &cap, SIZE_MAX / 2, sizeof(*items)), UV_ENOMEM);
    assert_int_equal(items[999], 999); /* unchanged after a failure */
    free(items);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mkdir_p_makes_every_parent_and_is_idempotent),
        cmocka_unit_test(mkdir_p_says_why_it_failed),
        cmocka_unit_test(the_executable_and_its_directory),
        cmocka_unit_test(abspath_joins_the_current_directory),
        cmocka_unit_test(writable_dir_says_why_not_without_making_it),
        cmocka_unit_test(fail_writes_the_message_and_returns_the_code),
        cmocka_unit_test(grow_doubles_and_keeps_the_items),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
