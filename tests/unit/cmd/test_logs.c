/* engine/cmd/logs.c's parse: one cluster and its services, or
 * --write-root and several clusters; the flags; and what it refuses, the
 * first refusal in the order the old command line found it. */
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

static int parse(cmd_logs_opts *o, char *err, size_t len, int argc, char **argv) {
    memset(o, 0, sizeof(*o));
    err[0] = '\0';
    return cmd_logs_parse(&ctx, argc, argv, o, err, len);
}

static void release(cmd_logs_opts *o) {
    free(o->names);
    free(o->services);
}

static void one_cluster_and_its_services(void **state) {
    char *plain[] = {"logs", "c1", NULL};
    char *svc[] = {"logs", "c1", "namenode", "dn-1", "-f", NULL};
    char *to[] = {"logs", "--follow", "c1", "--write-to", "/d", "Not_A_Name", NULL};
    cmd_logs_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), 2, plain), 0);
    assert_int_equal(o.n_names, 1);
    assert_string_equal(o.names[0], "c1");
    assert_int_equal(o.n_services, 0);
    assert_false(o.follow);
    assert_false(o.retry);
    assert_null(o.write_to);
    assert_null(o.write_root);
    release(&o);

    assert_int_equal(parse(&o, err, sizeof(err), 5, svc), 0);
    assert_int_equal(o.n_names, 1);
    assert_int_equal(o.n_services, 2);
    assert_string_equal(o.services[0], "namenode");
    assert_string_equal(o.services[1], "dn-1");
    assert_true(o.follow);
    release(&o);

    /* A service is not a cluster name: it is not checked as one. */
    assert_int_equal(parse(&o, err, sizeof(err), 6, to), 0);
    assert_true(o.follow);
    assert_string_equal(o.write_to, "/d");
    assert_int_equal(o.n_services, 1);
    assert_string_equal(o.services[0], "Not_A_Name");
    assert_string_equal(err, "");
    release(&o);
}

static void write_root_takes_every_later_word_as_a_cluster(void **state) {
    char *root[] = {"logs", "--write-root", "/r", "-f", "c1", "c2", "c3", NULL};
    char *mixed[] = {"logs", "c1", "s1", "--write-root", "/r", "c2", NULL};
    cmd_logs_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), 7, root), 0);
    assert_string_equal(o.write_root, "/r");
    assert_true(o.follow);
    assert_int_equal(o.n_names, 3);
    assert_string_equal(o.names[2], "c3");
    assert_int_equal(o.n_services, 0);
    release(&o);

    /* Before --write-root a second word is a service, after it a cluster. */
    assert_int_equal(parse(&o, err, sizeof(err), 6, mixed), 0);
    assert_int_equal(o.n_names, 2);
    assert_string_equal(o.names[0], "c1");
    assert_string_equal(o.names[1], "c2");
    assert_int_equal(o.n_services, 1);
    assert_string_equal(o.services[0], "s1");
    release(&o);
}

static void refusals_say_what_is_wrong(void **state) {
    char *none[] = {"logs", NULL};
    char *follow[] = {"logs", "-f", NULL};
    char *root_only[] = {"logs", "--write-root", "/r", NULL};
    char *unknown[] = {"logs", "--frobnicate", NULL};
    char *after[] = {"logs", "c1", "-x", NULL};
    char *to_last[] = {"logs", "c1", "--write-to", NULL};
    char *root_last[] = {"logs", "--write-root", NULL};
    char *empty[] = {"logs", "", NULL};
    char *under[] = {"logs", "c_a", NULL};
    char *longer[] = {"logs", "c-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL};
    cmd_logs_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), 1, none), RUNNER_USAGE);
    assert_string_equal(err, "logs: give a cluster name");
    release(&o);
    assert_int_equal(parse(&o, err, sizeof(err), 2, follow), RUNNER_USAGE);
    assert_string_equal(err, "logs: give a cluster name");
    release(&o);
    assert_int_equal(parse(&o, err, sizeof(err), 3, root_only), RUNNER_USAGE);
    assert_string_equal(err, "logs: give a cluster name");
    release(&o);
    assert_int_equal(parse(&o, err, sizeof(err), 2, unknown), RUNNER_USAGE);
    assert_string_equal(err, "logs: unknown flag '--frobnicate'");
    release(&o);
    assert_int_equal(parse(&o, err, sizeof(err), 3, after), RUNNER_USAGE);
    assert_string_equal(err, "logs: unknown flag '-x'");
    release(&o);
    assert_int_equal(parse(&o, err, sizeof(err), 3, to_last), RUNNER_USAGE);
    assert_string_equal(err, "logs: unknown flag '--write-to'");
    release(&o);
    assert_int_equal(parse(&o, err, sizeof(err), 2, root_last), RUNNER_USAGE);
    assert_string_equal(err, "logs: unknown flag '--write-root'");
    release(&o);
    assert_int_equal(parse(&o, err, sizeof(err), 2, empty), RUNNER_USAGE);
    assert_string_equal(err, "logs: a cluster name cannot be empty");
    release(&o);
    assert_int_equal(parse(&o, err, sizeof(err), 2, under), RUNNER_USAGE);
    assert_string_equal(err, "logs: cluster name 'c_a' has '_': use only a-z, 0-9 and '-'");
    release(&o);
    assert_int_equal(parse(&o, err, sizeof(err), 2, longer), RUNNER_USAGE);
    assert_string_equal(
        err, "logs: cluster name 'c-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' is longer than 32 characters");
    release(&o);
}

static void the_first_refusal_wins(void **state) {
    /* Flags are read first, over the whole line; then the names, in order. */
    char *flag_after_bad[] = {"logs", "B_ad", "-x", NULL};
    char *two_bad[] = {"logs", "--write-root", "/r", "c1", "B_ad", "C_d", NULL};
    cmd_logs_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), 3, flag_after_bad), RUNNER_USAGE);
    assert_string_equal(err, "logs: unknown flag '-x'");
    release(&o);
    assert_int_equal(parse(&o, err, sizeof(err), 6, two_bad), RUNNER_USAGE);
    assert_string_equal(err, "logs: cluster name 'B_ad' must start with a lowercase letter or a "
                             "digit");
    release(&o);
}

static void retry_goes_with_follow(void **state) {
    char *retry[] = {"logs", "c1", "-f", "--retry", NULL};
    char *root[] = {"logs", "--write-root", "/r", "--retry", "-f", "c1", NULL};
    char *alone[] = {"logs", "c1", "--retry", NULL};
    cmd_logs_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), 4, retry), 0);
    assert_true(o.follow);
    assert_true(o.retry);
    assert_int_equal(o.n_services, 0);
    release(&o);
    assert_int_equal(parse(&o, err, sizeof(err), 6, root), 0);
    assert_true(o.retry);
    assert_int_equal(o.n_names, 1);
    release(&o);
    /* Without -f there is nothing to wait for. */
    assert_int_equal(parse(&o, err, sizeof(err), 3, alone), RUNNER_USAGE);
    assert_string_equal(err, "logs: --retry waits for the engine while following: give -f too");
    release(&o);
}

static void many_clusters_and_services_are_all_kept(void **state) {
    char *argv[2004] = {"logs", "--write-root", "/r"};
    char *svc[2003] = {"logs", "c1"};
    char names[2000][16];
    cmd_logs_opts o;
    char err[256];

    for (int i = 0; i < 2000; i++) {
        snprintf(names[i], sizeof(names[i]), "c%d", i);
        argv[i + 3] = names[i];
        svc[i + 2] = names[i];
    }
    assert_int_equal(parse(&o, err, sizeof(err), 2003, argv), 0);
    assert_int_equal(o.n_names, 2000);
    assert_string_equal(o.names[1999], "c1999");
    release(&o);
    assert_int_equal(parse(&o, err, sizeof(err), 2002, svc), 0);
    assert_int_equal(o.n_names, 1);
    assert_int_equal(o.n_services, 2000);
    release(&o);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_cluster_and_its_services),
        cmocka_unit_test(write_root_takes_every_later_word_as_a_cluster),
        cmocka_unit_test(refusals_say_what_is_wrong),
        cmocka_unit_test(the_first_refusal_wins),
        cmocka_unit_test(many_clusters_and_services_are_all_kept),
        cmocka_unit_test(retry_goes_with_follow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
