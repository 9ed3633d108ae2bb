/* engine/cluster_record.c: the record (JSON in a one-file tar, as Docker's
 * archive endpoint takes and gives it) and what a cluster is, all told:
 * the states `hdc ls` shows and the ones `hdc gc` removes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "cluster_record.h"

static void a_record_round_trips_through_json_and_tar(void **state) {
    cluster_record r = {.state = RECORD_UP, .since = 1700000000}, back;
    char *text;
    void *tar;
    size_t len;

    snprintf(r.holder, sizeof(r.holder), "%s", "m/b/4026531836/42/123");
    text = cluster_record_encode(&r);
    assert_non_null(text);
    assert_int_equal(cluster_record_decode(text, strlen(text), &back), 0);
    assert_int_equal(back.state, RECORD_UP);
    assert_int_equal(back.since, 1700000000);
    assert_string_equal(back.holder, r.holder);
    free(text);
    for (int s = RECORD_CREATING; s <= RECORD_STOPPED; s++) {
        r.state = (enum cluster_record_state)s;
        assert_int_equal(cluster_record_tar(&r, &tar, &len), 0);
        assert_int_equal(len % 512, 0);
        assert_int_equal(cluster_record_untar(tar, len, &back), 0);
        assert_int_equal(back.state, s);
        assert_string_equal(back.holder, r.holder);
        free(tar);
    }
}

static void what_is_not_a_record_is_refused(void **state) {
    static const char *const bad[] = {
        "",
        "not json",
        "[]",
        "{}",
        "{\"state\": \"none\"}",
        "{\"state\": \"sideways\", \"since\": 1}",
        "{\"state\": 3}",
    };
    cluster_record r;
    char junk[1024] = {0};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (cluster_record_decode(bad[i], strlen(bad[i]), &r) != UV_EINVAL)
            fail_msg("'%s' was taken", bad[i]);
    /* A record without holder is one that no command holds. */
    assert_int_equal(cluster_record_decode("{\"state\":\"failed\",\"since\":5}", 28, &r), 0);
    assert_int_equal(r.state, RECORD_FAILED);
    assert_string_equal(r.holder, "");
    assert_int_equal(cluster_record_untar(junk, sizeof(junk), &r), UV_EINVAL);
    assert_int_equal(cluster_record_untar("x", 1, &r), UV_EINVAL);
}

/* One row: the facts, and the state they make. */
typedef struct row {
    const char *what;
    int has_record;
    enum cluster_record_state record;
    int held;
    const char *owner;
    int64_t expires;
    size_t containers, running;
    enum owner_liveness owner_is, holder_is;
    enum cluster_state want;
} row;

static void every_state_from_its_facts(void **state) {
    static const row rows[] = {
        {"an up at work", 1, RECORD_CREATING, 0, "o", 0, 4, 4, OWNER_ALIVE, OWNER_GONE,
         CLUSTER_CREATING},
        {"an up at work, before ZooKeeper's container", 0, RECORD_NONE, 0, "o", 0, 0, 0,
         OWNER_ALIVE, OWNER_GONE, CLUSTER_CREATING},
        {"an up killed", 1, RECORD_CREATING, 0, "o", 0, 4, 4, OWNER_GONE, OWNER_GONE,
         CLUSTER_ORPHANED},
        {"an up killed before the record", 0, RECORD_NONE, 0, "o", 0, 1, 1, OWNER_GONE, OWNER_GONE,
         CLUSTER_ORPHANED},
        {"an up elsewhere: never taken for an orphan", 1, RECORD_CREATING, 0, "o", 0, 4, 4,
         OWNER_UNKNOWN, OWNER_UNKNOWN, CLUSTER_CREATING},
        {"an up elsewhere, past its time-to-live", 1, RECORD_CREATING, 0, "o", 100, 4, 4,
         OWNER_UNKNOWN, OWNER_UNKNOWN, CLUSTER_EXPIRED},
        {"up, its up long gone", 1, RECORD_UP, 0, "o", 0, 5, 5, OWNER_GONE, OWNER_GONE, CLUSTER_UP},
        {"up, a node exited", 1, RECORD_UP, 0, "o", 0, 5, 4, OWNER_GONE, OWNER_GONE,
         CLUSTER_DEGRADED},
        {"up, every container stopped (an engine restart)", 1, RECORD_UP, 0, "o", 0, 5, 0,
         OWNER_GONE, OWNER_GONE, CLUSTER_STOPPED},
        {"stopped by hdc stop", 1, RECORD_STOPPED, 0, "o", 0, 5, 0, OWNER_GONE, OWNER_GONE,
         CLUSTER_STOPPED},
        {"failed", 1, RECORD_FAILED, 0, "o", 0, 5, 3, OWNER_GONE, OWNER_GONE, CLUSTER_FAILED},
        {"up past its time-to-live", 1, RECORD_UP, 0, "o", 100, 5, 5, OWNER_GONE, OWNER_GONE,
         CLUSTER_EXPIRED},
        {"up before its time-to-live", 1, RECORD_UP, 0, "o", 2000, 5, 5, OWNER_GONE, OWNER_GONE,
         CLUSTER_UP},
        {"held by a matrix that runs", 1, RECORD_UP, 1, "o", 0, 5, 5, OWNER_ALIVE, OWNER_ALIVE,
         CLUSTER_UP},
        {"held by a matrix killed", 1, RECORD_UP, 1, "o", 0, 5, 5, OWNER_GONE, OWNER_GONE,
         CLUSTER_ORPHANED},
        {"held by a matrix elsewhere", 1, RECORD_UP, 1, "o", 0, 5, 5, OWNER_UNKNOWN, OWNER_UNKNOWN,
         CLUSTER_UP},
        {"from before records, running", 0, RECORD_NONE, 0, NULL, 0, 5, 5, OWNER_UNKNOWN,
         OWNER_UNKNOWN, CLUSTER_UP},
        {"from before records, a node exited", 0, RECORD_NONE, 0, NULL, 0, 5, 2, OWNER_UNKNOWN,
         OWNER_UNKNOWN, CLUSTER_DEGRADED},
        {"from before records, stopped", 0, RECORD_NONE, 0, NULL, 0, 5, 0, OWNER_UNKNOWN,
         OWNER_UNKNOWN, CLUSTER_STOPPED},
        {"from before records, a network alone", 0, RECORD_NONE, 0, NULL, 0, 0, 0, OWNER_UNKNOWN,
         OWNER_UNKNOWN, CLUSTER_ORPHANED},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const row *w = &rows[i];
        cluster_record r = {.state = w->record, .since = 1};
        cluster_facts f = {
            .record = w->has_record ? &r : NULL,
            .owner = w->owner,
            .expires = w->expires,
            .containers = w->containers,
            .running = w->running,
            .now = 1000,
            .owner_is = w->owner_is,
            .holder_is = w->holder_is,
        };
        enum cluster_state got;
        if (w->held)
            snprintf(r.holder, sizeof(r.holder), "%s", "holder");
        got = cluster_state_of(&f);
        if (got != w->want)
            fail_msg("%s: %s, want %s", w->what, cluster_state_name(got),
                     cluster_state_name(w->want));
    }
}

static void gc_takes_what_nothing_will_come_back_for(void **state) {
    /* Orphaned and expired always; failed when its owner is gone. */
    assert_true(cluster_collectable(CLUSTER_ORPHANED, OWNER_GONE, 0));
    assert_true(cluster_collectable(CLUSTER_EXPIRED, OWNER_UNKNOWN, 0));
    assert_true(cluster_collectable(CLUSTER_FAILED, OWNER_GONE, 0));
    assert_false(cluster_collectable(CLUSTER_FAILED, OWNER_ALIVE, 0));
    assert_false(cluster_collectable(CLUSTER_FAILED, OWNER_UNKNOWN, 0));
    /* Stopped ones only when asked; never what is up or coming up. */
    assert_false(cluster_collectable(CLUSTER_STOPPED, OWNER_GONE, 0));
    assert_true(cluster_collectable(CLUSTER_STOPPED, OWNER_GONE, 1));
    for (int stopped = 0; stopped <= 1; stopped++) {
        assert_false(cluster_collectable(CLUSTER_UP, OWNER_GONE, stopped));
        assert_false(cluster_collectable(CLUSTER_DEGRADED, OWNER_GONE, stopped));
        assert_false(cluster_collectable(CLUSTER_CREATING, OWNER_ALIVE, stopped));
        assert_false(cluster_collectable(CLUSTER_CREATING, OWNER_UNKNOWN, stopped));
    }
    assert_string_equal(cluster_state_name(CLUSTER_ORPHANED), "orphaned");
    assert_string_equal(cluster_record_state_name(RECORD_STOPPED), "stopped");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_record_round_trips_through_json_and_tar),
        cmocka_unit_test(what_is_not_a_record_is_refused),
        cmocka_unit_test(every_state_from_its_facts),
        cmocka_unit_test(gc_takes_what_nothing_will_come_back_for),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
