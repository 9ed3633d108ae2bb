/* engine/fleet.c: plans refused before anything starts, slots (at most
 * `parallel` clusters alive, the next one started when one is released),
 * every launched member called back once, and one resolution of a
 * distribution's images shared by its members. The ups run against an
 * address where no Docker engine listens, so each fails at once: what is
 * tested is the fleet's order, not Docker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static void a_missing_build_context_is_refused_when_added(void **state) {
    images_opts io = {.clusters_dir = "/nonexistent/hdc-clusters"};
    fleet_opts o = {.datanodes = 1, .images = &io};
    fleet_hooks h = {.done = done};
    fleet *f;
    char err[1024];

    assert_int_equal(fleet_new(&o, &h, NULL, &f), 0);
    assert_int_equal(fleet_add(f, good(), "c1", NULL, err, sizeof(err)), IMAGES_EMISSING);
    assert_non_null(strstr(err, "/nonexistent/hdc-clusters/good is not a directory"));
    assert_non_null(strstr(err, "HDC_CLUSTERS_DIR"));
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

/* Two clusters of one distribution, its images resolved from a cache
 * that holds no release: one resolution, its failure told to both. */
static void members_of_one_distribution_share_its_resolution(void **state) {
    char dir[] = "/tmp/hdc-fleet-test-XXXXXX", ctx[64], cache[64];
    images_opts io = {.clusters_dir = dir, .dist_cache = cache};
    fleet_opts o = {.datanodes = 1, .logs_root = "/tmp/hdc-fleet-test-logs", .images = &io};
    fleet_hooks h = {.started = started, .done = done};
    fleet_member *a, *b;
    bench k;
    char err[1024];

    assert_non_null(mkdtemp(dir));
    snprintf(ctx, sizeof(ctx), "%s/good", dir);
    snprintf(cache, sizeof(cache), "%s/cache", dir);
    assert_int_equal(mkdir(ctx, 0755), 0);
    memset(&k, 0, sizeof(k));
    uv_loop_init(&k.loop);
    assert_int_equal(docker_new(&k.loop, "unix:///nonexistent/docker.sock", &k.d), 0);
    assert_int_equal(fleet_new(&o, &h, &k.s, &k.f), 0);
    k.s.f = k.f;
    assert_int_equal(fleet_add(k.f, good(), "ca", &a, err, sizeof(err)), 0);
    assert_int_equal(fleet_add(k.f, good(), "cb", &b, err, sizeof(err)), 0);
    fleet_attach(k.f, &k.loop, k.d);
    fleet_launch(a);
    fleet_launch(b);
    while (!fleet_settled(k.f))
        uv_run(&k.loop, UV_RUN_ONCE);
    assert_int_equal(k.s.started, 2);
    assert_int_equal(k.s.done, 2);
    assert_int_equal(k.s.statuses[0], CLUSTER_ENOIMAGE);
    assert_int_equal(k.s.statuses[1], CLUSTER_ENOIMAGE);
    assert_non_null(a->why);
    assert_ptr_equal(a->why, b->why); /* one resolution, not two */
    assert_non_null(strstr(a->why, "no release to run"));
    assert_non_null(strstr(a->why, "run `hdc build good`"));
    assert_null(a->images);
    bench_close(&k);
    assert_int_equal(rmdir(ctx), 0);
    assert_int_equal(rmdir(dir), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plans_are_checked_when_added),
        cmocka_unit_test(one_slot_starts_one_cluster_at_a_time),
        cmocka_unit_test(a_canceled_fleet_starts_nothing_more),
        cmocka_unit_test(a_missing_build_context_is_refused_when_added),
        cmocka_unit_test(members_of_one_distribution_share_its_resolution),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
