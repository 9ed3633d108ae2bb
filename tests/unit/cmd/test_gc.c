/* engine/cmd/gc.c: its parse (--stopped, --older-than, --images, and what it
 * refuses) and what it removes: the clusters nothing will come back for,
 * never one that is up or coming up, stopped ones only when asked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster_survey.h"
#include "cmd.h"

static const cmd_ctx ctx;

static int parse(cmd_gc_opts *o, char *err, size_t len, int argc, char **argv) {
    memset(o, 0, sizeof(*o));
    err[0] = '\0';
    return cmd_gc.parse(&ctx, argc, argv, o, err, len);
}

static void the_flags(void **state) {
    char *none[] = {"gc", NULL};
    char *both[] = {"gc", "--stopped", "--older-than", "2d", NULL};
    cmd_gc_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), 1, none), 0);
    assert_false(o.stopped);
    assert_int_equal(o.older_than_s, 0);
    assert_int_equal(parse(&o, err, sizeof(err), 4, both), 0);
    assert_true(o.stopped);
    assert_int_equal(o.older_than_s, 2 * 86400);
    assert_false(o.images);
    {
        char *images[] = {"gc", "--images", NULL};
        assert_int_equal(parse(&o, err, sizeof(err), 2, images), 0);
        assert_true(o.images);
        assert_false(o.stopped);
    }
}

static void refusals_say_what_is_wrong(void **state) {
    static const struct {
        int argc;
        char *argv[4];
        const char *want;
    } cases[] = {
        {2,
         {"gc", "extra"},
         "gc: unexpected argument 'extra': gc takes no cluster name (`hdc down NAME` removes one)"},
        {2,
         {"gc", "--frobnicate"},
         "gc: unknown flag '--frobnicate'; 'hdc help gc' shows the usage"},
        {2, {"gc", "--image"}, "gc: unknown flag '--image'; 'hdc help gc' shows the usage"},
        {2, {"gc", "--older-than"}, "--older-than needs a value"},
        {3,
         {"gc", "--older-than", "soon"},
         "--older-than 'soon': give a duration from 1s to 365d, such as 90s, 30m, 2h or 7d"},
    };
    cmd_gc_opts o;
    char err[256];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(parse(&o, err, sizeof(err), cases[i].argc, (char **)cases[i].argv),
                         RUNNER_USAGE);
        if (strcmp(err, cases[i].want) != 0)
            fail_msg("case %zu: '%s', want '%s'", i, err, cases[i].want);
    }
}

static void what_it_removes(void **state) {
    static const struct {
        enum cluster_state s;
        enum owner_liveness owner;
        int64_t since;
        int stopped;
        uint64_t older_than;
        int want;
    } rows[] = {
        /* Always: nothing will come back for them. */
        {CLUSTER_ORPHANED, OWNER_GONE, 990, 0, 0, 1},
        {CLUSTER_EXPIRED, OWNER_UNKNOWN, 990, 0, 0, 1},
        {CLUSTER_FAILED, OWNER_GONE, 990, 0, 0, 1},
        /* A failed up still running, or running elsewhere: not yet... */
        {CLUSTER_FAILED, OWNER_ALIVE, 990, 0, 0, 0},
        {CLUSTER_FAILED, OWNER_UNKNOWN, 990, 0, 0, 0},
        /* ...unless failed for longer than --older-than. */
        {CLUSTER_FAILED, OWNER_UNKNOWN, 100, 0, 600, 1},
        {CLUSTER_FAILED, OWNER_UNKNOWN, 990, 0, 600, 0},
        /* Stopped: kept, unless asked. */
        {CLUSTER_STOPPED, OWNER_GONE, 100, 0, 0, 0},
        {CLUSTER_STOPPED, OWNER_GONE, 990, 1, 0, 1},
        {CLUSTER_STOPPED, OWNER_GONE, 100, 0, 600, 1},
        {CLUSTER_STOPPED, OWNER_GONE, 990, 0, 600, 0},
        /* Never what is up or coming up, whatever the flags. */
        {CLUSTER_UP, OWNER_GONE, 100, 1, 1, 0},
        {CLUSTER_DEGRADED, OWNER_GONE, 100, 1, 1, 0},
        {CLUSTER_CREATING, OWNER_ALIVE, 100, 1, 1, 0},
        {CLUSTER_CREATING, OWNER_UNKNOWN, 100, 1, 1, 0},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        cluster_info ci = {.name = "c", .state = rows[i].s, .owner_is = rows[i].owner};
        cmd_gc_opts o = {.stopped = rows[i].stopped, .older_than_s = rows[i].older_than};
        ci.has_record = 1;
        ci.record.since = rows[i].since;
        if (cmd_gc_takes(&ci, &o, 1000) != rows[i].want)
            fail_msg("row %zu: %s, owner %s: want %s", i, cluster_state_name(rows[i].s),
                     owner_liveness_name(rows[i].owner), rows[i].want ? "removed" : "kept");
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_flags),
        cmocka_unit_test(refusals_say_what_is_wrong),
        cmocka_unit_test(what_it_removes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
