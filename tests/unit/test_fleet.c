/* engine/fleet.c: plans refused before anything starts, slots (at most
 * `parallel` clusters alive, the next one started when one is released),
 * and every launched member called back once. The ups run against an
 * address where no Docker engine listens, so each fails at once: what is
 * tested is the fleet's order, not Docker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "fleet.h"

typedef struct seen {
    fleet *f;
    size_t started, done, alive, most_alive;
    char order[16]; /* the members' names' last letters, in start order */
    int statuses[8];
} seen;

static plugin *good(void) {
    plugin *p = NULL;
    char err[512];

    if (plugin_load(HDC_TEST_PLUGIN_DIR "/good.so", &p, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    return p;
}

static void started(fleet_member *m) {
    seen *s = fleet_data(m->f);

    s->order[s->started++] = m->name[strlen(m->name) - 1];
    if (++s->alive > s->most_alive)
        s->most_alive = s->alive;
}

static void done(fleet_member *m, int status, const cluster_report *r) {
    seen *s = fleet_data(m->f);

    s->statuses[s->done++] = status;
    s->alive--;
    fleet_release(m); /* as `hdc matrix` does after its teardown */
}

static void plans_are_checked_when_added(void **state) {
    fleet_opts o = {.datanodes = 64, .subnet_pool = "10.0.0.0/24:28"};
    fleet_hooks h = {.done = done};
    fleet *f;
    char err[512];

    assert_int_equal(fleet_new(&o, &h, NULL, &f), 0);
    assert_int_equal(fleet_add(f, good(), "c1", NULL, err, sizeof(err)), PLAN_EINVAL);
    assert_non_null(strstr(err, "do not fit in a /28 subnet"));
    fleet_free(f);
    o.datanodes = 1;
    o.subnet_pool = "garbage";
    assert_int_equal(fleet_new(&o, &h, NULL, &f), 0);
    assert_int_equal(fleet_add(f, good(), "c1", NULL, err, sizeof(err)), PLAN_EINVAL);
    assert_non_null(strstr(err, "subnet pool 'garbage'"));
    fleet_free(f);
}

/* A fleet of n members (ca, cb, ...) with one slot, on a loop whose
 * Docker client has no engine: every up fails at its first call. */
typedef struct bench {
    uv_loop_t loop;
    docker *d;
    fleet *f;
    seen s;
} bench;

static void bench_open(bench *b, size_t n) {
    fleet_opts o = {.datanodes = 1, .parallel = 1, .logs_root = "/tmp/hdc-fleet-test-logs"};
    fleet_hooks h = {.started = started, .done = done};
    char name[8], err[512];

    memset(b, 0, sizeof(*b));
    uv_loop_init(&b->loop);
    assert_int_equal(docker_new(&b->loop, "unix:///nonexistent/docker.sock", &b->d), 0);
    assert_int_equal(fleet_new(&o, &h, &b->s, &b->f), 0);
    b->s.f = b->f;
    for (size_t i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "c%c", (char)('a' + i));
        assert_int_equal(fleet_add(b->f, good(), name, NULL, err, sizeof(err)), 0);
    }
    fleet_attach(b->f, &b->loop, b->d);
}

static void bench_close(bench *b) {
    docker_close(b->d, NULL, NULL);
    uv_run(&b->loop, UV_RUN_DEFAULT);
    fleet_free(b->f);
    assert_int_equal(uv_loop_close(&b->loop), 0);
}

static void one_slot_starts_one_cluster_at_a_time(void **state) {
    bench b;

    bench_open(&b, 3);
    for (size_t i = 0; i < fleet_size(b.f); i++)
        fleet_launch(fleet_at(b.f, i));
    assert_int_equal(b.s.started, 1); /* the other two wait for the slot */
    while (!fleet_settled(b.f))
        uv_run(&b.loop, UV_RUN_ONCE);
    assert_int_equal(b.s.done, 3);
    assert_int_equal(b.s.most_alive, 1);
    assert_memory_equal(b.s.order, "abc", 3);
    for (size_t i = 0; i < 3; i++) /* no engine answers: each up failed */
        assert_int_equal(b.s.statuses[i], DOCKER_ENOENGINE);
    bench_close(&b);
}

static void a_canceled_fleet_starts_nothing_more(void **state) {
    bench b;

    bench_open(&b, 2);
    fleet_launch(fleet_at(b.f, 0));
    fleet_launch(fleet_at(b.f, 1));
    fleet_cancel(b.f);
    assert_true(fleet_canceled(b.f));
    while (!fleet_settled(b.f))
        uv_run(&b.loop, UV_RUN_ONCE);
    assert_int_equal(b.s.started, 1);
    assert_int_equal(b.s.done, 1);
    assert_int_equal(fleet_at(b.f, 1)->state, FLEET_WAITING);
    bench_close(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plans_are_checked_when_added),
        cmocka_unit_test(one_slot_starts_one_cluster_at_a_time),
        cmocka_unit_test(a_canceled_fleet_starts_nothing_more),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
