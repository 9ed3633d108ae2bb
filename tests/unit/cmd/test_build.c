/* engine/cmd/build.c's parse: DIST and its flags, the cache from the
 * environment unless --dist-cache, and what it refuses (with the message
 * hdc prints after "hdc: "). Whether DIST is a plugin, and whether the
 * tarball can be read, is run's to find out. */
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

static int parse_in(const cmd_ctx *c, cmd_build_opts *o, char *err, size_t len, int argc,
                    char **argv) {
    memset(o, 0, sizeof(*o));
    err[0] = '\0';
    return cmd_build_parse(c, argc, argv, o, err, len);
}

static int parse(cmd_build_opts *o, char *err, size_t len, int argc, char **argv) {
    return parse_in(&ctx, o, err, len, argc, argv);
}

static void dist_alone(void **state) {
    char *argv[] = {"build", "apache_3.3.6", NULL};
    cmd_build_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), 2, argv), 0);
    assert_string_equal(o.dist, "apache_3.3.6");
    assert_null(o.dist_cache);
    assert_null(o.hadoop_tarball);
    assert_false(o.nocache);
    assert_string_equal(err, "");
}

static void flags_before_and_after_dist(void **state) {
    char *a[] = {"build",
                 "apache_2.6.0",
                 "--dist-cache",
                 "/cache",
                 "--hadoop-tarball",
                 "/t/hadoop.tar.gz",
                 "--no-cache",
                 NULL};
    char *b[] = {"build", "--no-cache", "--hadoop-tarball", "/t.tgz", "apache_2.6.0", NULL};
    cmd_build_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), 7, a), 0);
    assert_string_equal(o.dist, "apache_2.6.0");
    assert_string_equal(o.dist_cache, "/cache");
    assert_string_equal(o.hadoop_tarball, "/t/hadoop.tar.gz");
    assert_true(o.nocache);
    assert_int_equal(parse(&o, err, sizeof(err), 5, b), 0);
    assert_string_equal(o.dist, "apache_2.6.0");
    assert_null(o.dist_cache);
    assert_string_equal(o.hadoop_tarball, "/t.tgz");
    assert_true(o.nocache);
}

static void the_cache_is_hdc_dist_cache_unless_the_flag_says(void **state) {
    cmd_ctx env = {.env = {.dist_cache = "/env-cache"}};
    char *plain[] = {"build", "d", NULL};
    char *flag[] = {"build", "--dist-cache", "/flag-cache", "d", NULL};
    char *empty[] = {"build", "d", "--dist-cache", "", NULL};
    cmd_build_opts o;
    char err[256];

    assert_int_equal(parse_in(&env, &o, err, sizeof(err), 2, plain), 0);
    assert_string_equal(o.dist_cache, "/env-cache");
    assert_int_equal(parse_in(&env, &o, err, sizeof(err), 4, flag), 0);
    assert_string_equal(o.dist_cache, "/flag-cache");
    assert_int_equal(parse_in(&env, &o, err, sizeof(err), 4, empty), 0);
    assert_string_equal(o.dist_cache, "");
}

static void a_value_is_taken_whatever_it_looks_like(void **state) {
    char *a[] = {"build", "d", "--hadoop-tarball", "--no-cache", NULL};
    char *b[] = {"build", "d", "--hadoop-tarball", "", NULL};
    char *c[] = {"build", "d", "--dist-cache", "a", "--dist-cache", "b", NULL};
    cmd_build_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), 4, a), 0);
    assert_string_equal(o.hadoop_tarball, "--no-cache");
    assert_false(o.nocache);
    assert_int_equal(parse(&o, err, sizeof(err), 4, b), 0);
    assert_string_equal(o.hadoop_tarball, "");
    assert_int_equal(parse(&o, err, sizeof(err), 6, c), 0);
    assert_string_equal(o.dist_cache, "b");
}

/* Whether it names a plugin is for run (plugin_find refuses ''). */
static void any_word_is_a_dist_to_parse(void **state) {
    char *empty[] = {"build", "", NULL};
    char *odd[] = {"build", "Not A Dist", NULL};
    cmd_build_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), 2, empty), 0);
    assert_string_equal(o.dist, "");
    assert_int_equal(parse(&o, err, sizeof(err), 2, odd), 0);
    assert_string_equal(o.dist, "Not A Dist");
}

static void refusals_name_the_first_bad_argument(void **state) {
    char *none[] = {"build", NULL};
    char *flags_only[] = {"build", "--no-cache", "--dist-cache", "/c", NULL};
    char *flag[] = {"build", "--frobnicate", NULL};
    char *flag_first[] = {"build", "--frobnicate", "d", "e", NULL};
    char *two[] = {"build", "apache_2.6.0", "apache_3.3.6", NULL};
    char *tarball[] = {"build", "apache_2.6.0", "--hadoop-tarball", NULL};
    char *cache[] = {"build", "apache_2.6.0", "--dist-cache", NULL};
    char *cache_no_dist[] = {"build", "--dist-cache", NULL};
    char *eq[] = {"build", "d", "--dist-cache=/c", NULL};
    char *dash[] = {"build", "-", NULL};
    cmd_build_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), 1, none), RUNNER_USAGE);
    assert_string_equal(err, "build: which distribution? 'hdc plugins' lists them");
    assert_int_equal(parse(&o, err, sizeof(err), 4, flags_only), RUNNER_USAGE);
    assert_string_equal(err, "build: which distribution? 'hdc plugins' lists them");
    assert_int_equal(parse(&o, err, sizeof(err), 2, flag), RUNNER_USAGE);
    assert_string_equal(err, "build: unexpected argument '--frobnicate'");
    assert_int_equal(parse(&o, err, sizeof(err), 4, flag_first), RUNNER_USAGE);
    assert_string_equal(err, "build: unexpected argument '--frobnicate'");
    assert_int_equal(parse(&o, err, sizeof(err), 3, two), RUNNER_USAGE);
    assert_string_equal(err, "build: unexpected argument 'apache_3.3.6'");
    assert_int_equal(parse(&o, err, sizeof(err), 3, tarball), RUNNER_USAGE);
    assert_string_equal(err, "build: unexpected argument '--hadoop-tarball'");
    assert_int_equal(parse(&o, err, sizeof(err), 3, cache), RUNNER_USAGE);
    assert_string_equal(err, "build: unexpected argument '--dist-cache'");
    assert_int_equal(parse(&o, err, sizeof(err), 2, cache_no_dist), RUNNER_USAGE);
    assert_string_equal(err, "build: unexpected argument '--dist-cache'");
    assert_int_equal(parse(&o, err, sizeof(err), 3, eq), RUNNER_USAGE);
    assert_string_equal(err, "build: unexpected argument '--dist-cache=/c'");
    assert_int_equal(parse(&o, err, sizeof(err), 2, dash), RUNNER_USAGE);
    assert_string_equal(err, "build: unexpected argument '-'");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dist_alone),
        cmocka_unit_test(flags_before_and_after_dist),
        cmocka_unit_test(the_cache_is_hdc_dist_cache_unless_the_flag_says),
        cmocka_unit_test(a_value_is_taken_whatever_it_looks_like),
        cmocka_unit_test(any_word_is_a_dist_to_parse),
        cmocka_unit_test(refusals_name_the_first_bad_argument),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
