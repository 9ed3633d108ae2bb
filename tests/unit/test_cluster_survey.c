/* engine/cluster_survey.c's census: objects as Docker lists them, counted
 * into clusters by label, each given its identity and judged: a killed up
 * (owner gone) is orphaned, a live one is creating, a network alone is a
 * cluster too, a time-to-live passed is expired. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster_survey.h"

static char alive[OWNER_MAX], gone[OWNER_MAX];

/* This process, and this process with another start time: a process that
 * had our PID once. */
static int owners(void **state) {
    char *slash;

    if (owner_self(alive) != 0)
        return -1;
    snprintf(gone, sizeof(gone), "%s", alive);
    slash = strrchr(gone, '/');
    snprintf(slash + 1, sizeof(gone) - (size_t)(slash + 1 - gone), "1");
    return 0;
}

/* A listed object of cluster `cluster` (owner NULL: no identity labels). */
static docker_object object(const char *id, const char *cluster, const char *service,
                            const char *state, const char *owner, const char *expires) {
    json_t *labels = json_pack("{s:s, s:s}", "hdc.cluster", cluster, "hdc.dist", "testdist");

    if (service != NULL)
        json_object_set_new(labels, "hdc.service", json_string(service));
    if (owner != NULL) {
        json_object_set_new(labels, "hdc.owner", json_string(owner));
        json_object_set_new(labels, "hdc.created", json_string("100"));
        json_object_set_new(labels, "hdc.logs", json_string("/abs/logs/x"));
    }
    if (expires != NULL)
        json_object_set_new(labels, "hdc.expires", json_string(expires));
    return (docker_object){.id = id, .name = id, .labels = labels, .state = state, .created = 50};
}

static void free_objects(docker_object *o, size_t n) {
    for (size_t i = 0; i < n; i++)
        json_decref((json_t *)o[i].labels);
}

static const cluster_info *find(const cluster_census *c, const char *name) {
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->list[i].name, name) == 0)
            return &c->list[i];
    fail_msg("no cluster %s", name);
    return NULL;
}

static void objects_are_counted_into_their_clusters(void **state) {
    docker_object containers[] = {
        object("z1", "live", "zookeeper", "running", alive, NULL),
        object("m1", "live", "master", "created", alive, NULL),
        object("z2", "killed", "zookeeper", "running", gone, NULL),
        object("w2", "killed", "worker", "exited", gone, NULL),
        object("o1", "old", "master", "running", NULL, NULL),
        object("o2", "old", "worker", "exited", NULL, NULL),
    };
    docker_object networks[] = {
        object("n1", "live", NULL, NULL, alive, NULL),
        object("n3", "early", NULL, NULL, gone, NULL),
        object("n4", "elsewhere", NULL, NULL, "m/b/1/2/3", "150"),
    };
    docker_object volumes[] = {object("v3", "early", NULL, NULL, gone, NULL)};
    docker_object unlabelled = {.id = "x", .name = "x", .labels = NULL};
    cluster_census c = {0};
    const cluster_info *ci;

    /* The up's test user and memory budget, on its containers. */
    json_object_set_new((json_t *)containers[0].labels, "hdc.test-user", json_string("alice"));
    json_object_set_new((json_t *)containers[0].labels, "hdc.memory", json_string("6144"));

    assert_int_equal(cluster_census_add(&c, CLUSTER_CONTAINERS, containers, 6), 0);
    assert_int_equal(cluster_census_add(&c, CLUSTER_NETWORKS, networks, 3), 0);
    assert_int_equal(cluster_census_add(&c, CLUSTER_VOLUMES, volumes, 1), 0);
    assert_int_equal(cluster_census_add(&c, CLUSTER_CONTAINERS, &unlabelled, 1), 0);
    /* The record of `killed` says creating, as a killed up leaves it. */
    ((cluster_info *)find(&c, "killed"))->has_record = 1;
    ((cluster_info *)find(&c, "killed"))->record.state = RECORD_CREATING;
    cluster_census_judge(&c, 200);

    assert_int_equal(c.n, 5);
    assert_string_equal(c.list[0].name, "early"); /* sorted */
    ci = find(&c, "live");
    assert_int_equal(ci->containers, 2);
    assert_int_equal(ci->running, 1); /* created is not running */
    assert_int_equal(ci->networks, 1);
    assert_string_equal(ci->zookeeper, "z1");
    assert_string_equal(ci->logs_dir, "/abs/logs/x");
    assert_int_equal(ci->created, 100);
    assert_int_equal(ci->owner_is, OWNER_ALIVE);
    assert_int_equal(ci->state, CLUSTER_CREATING);
    assert_string_equal(ci->test_user, "alice");
    assert_int_equal(ci->memory_mb, 6144);
    ci = find(&c, "killed");
    assert_null(ci->test_user); /* made before the label */
    assert_int_equal(ci->memory_mb, 0);
    assert_int_equal(ci->owner_is, OWNER_GONE);
    assert_int_equal(ci->state, CLUSTER_ORPHANED);
    ci = find(&c, "early"); /* an up killed after its network */
    assert_int_equal(ci->containers, 0);
    assert_int_equal(ci->networks, 1);
    assert_int_equal(ci->volumes, 1);
    assert_int_equal(ci->state, CLUSTER_ORPHANED);
    ci = find(&c, "elsewhere"); /* another host's: only its time-to-live ends it */
    assert_int_equal(ci->owner_is, OWNER_UNKNOWN);
    assert_int_equal(ci->expires, 150);
    assert_int_equal(ci->state, CLUSTER_EXPIRED);
    ci = find(&c, "old"); /* no owner, no record: its containers say */
    assert_null(ci->owner);
    assert_int_equal(ci->created, 50);
    assert_int_equal(ci->state, CLUSTER_DEGRADED);
    cluster_census_free(&c);
    free_objects(containers, 6);
    free_objects(networks, 3);
    free_objects(volumes, 1);
}

static void a_held_cluster_ends_with_its_holder(void **state) {
    docker_object containers[] = {object("z", "m", "zookeeper", "running", gone, NULL)};
    cluster_census c = {0};

    assert_int_equal(cluster_census_add(&c, CLUSTER_CONTAINERS, containers, 1), 0);
    c.list[0].has_record = 1;
    c.list[0].record.state = RECORD_UP;
    snprintf(c.list[0].record.holder, sizeof(c.list[0].record.holder), "%s", alive);
    cluster_census_judge(&c, 200);
    assert_int_equal(c.list[0].holder_is, OWNER_ALIVE);
    assert_int_equal(c.list[0].state, CLUSTER_UP);
    snprintf(c.list[0].record.holder, sizeof(c.list[0].record.holder), "%s", gone);
    cluster_census_judge(&c, 200);
    assert_int_equal(c.list[0].state, CLUSTER_ORPHANED);
    cluster_census_free(&c);
    free_objects(containers, 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(objects_are_counted_into_their_clusters),
        cmocka_unit_test(a_held_cluster_ends_with_its_holder),
    };
    return cmocka_run_group_tests(tests, owners, NULL);
}
