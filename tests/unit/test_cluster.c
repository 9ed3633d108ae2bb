/* engine/cluster.c, the up's state machine, against fake Docker, ZooKeeper
 * and probes (cluster_ops.h): no daemon. The fakes keep every call
 * pending; the test completes them one at a time, in order, as the real
 * ones would complete later (never from inside the call), and can, after
 * any number of them, make a container die, cancel the up, lose ZooKeeper,
 * or remove a container as `hdc down` would. After a happy run has shown
 * how many calls an up makes, every scenario is run at every one of those
 * points: a failure in each phase. Each run checks that the up called back
 * exactly once, and that nothing of it was left in flight.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <uv.h>

#include "cluster.h"
#include "cluster_ops.h"
#include "cluster_record.h"

/* ---- the distribution: a master and workers, every kind of step --------------------- */

static const hdc_service services[] = {
    {.name = "master",
     .image = "svc",
     .ports = (const hdc_port[]){{"http-ui", 8080}, {0}},
     .volumes = (const hdc_volume[]){{"shared", "/shared"}, {0}},
     .daemon = "exec master"},
    {.name = "worker",
     .image = "svc",
     .instances = HDC_COUNT_DATANODES,
     .ports = (const hdc_port[]){{"http-ui", 8081}, {0}},
     .daemon = "exec worker"},
    {0},
};

static const hdc_probe probes[] = {
    {.name = "workers", .service = "master", .port_role = "http-ui", .path = "/status"},
    {0},
};

static const hdc_step steps[] = {
    {.name = "boot-master", .kind = HDC_STEP_BOOT, .service = "master", .timeout_s = 30},
    {.name = "master-up",
     .kind = HDC_STEP_WAIT,
     .service = "master",
     .timeout_s = 30,
     .after = HDC_LIST("boot-master")},
    {.name = "dirs",
     .kind = HDC_STEP_EXEC,
     .service = "master",
     .command = "mkdir -p /shared/x",
     .timeout_s = 30,
     .after = HDC_LIST("master-up")},
    {.name = "boot-workers",
     .kind = HDC_STEP_BOOT,
     .service = "worker",
     .timeout_s = 30,
     .after = HDC_LIST("dirs")},
    {.name = "workers-up",
     .kind = HDC_STEP_WAIT,
     .service = "worker",
     .timeout_s = 30,
     .after = HDC_LIST("boot-workers")},
    {.name = "probe",
     .kind = HDC_STEP_PROBE,
     .probe = "workers",
     .timeout_s = 30,
     .after = HDC_LIST("workers-up")},
    {0},
};

static const hdc_plugin_desc desc = {HDC_PLUGIN_HEADER, .name = "fakedist", .services = services,
                                     .steps = steps, .probes = probes};

/* ---- the fakes ------------------------------------------------------------------------- */

enum kind {
    K_IMAGE,
    K_ID,
    K_PLAIN,
    K_CONTAINER,
    K_STREAM,
    K_EXEC,
    K_ZCONNECT,
    K_ZDONE,
    K_ZWAIT,
    K_ZCLOSE,
    K_PROBE,
    K_DOWN
};

typedef struct call {
    const char *op;
    char arg[128];
    enum kind kind;
    union {
        docker_image_cb image;
        docker_id_cb id;
        docker_cb plain;
        docker_container_cb container;
        docker_exec_cb exec;
        zk_connect_cb zconnect;
        zk_done_cb zdone;
        zk_wait_cb zwait;
        zk_close_cb zclose;
        probe_cb probe;
        cluster_down_cb down;
    } cb;
    void *data;
    docker_event_cb on_event; /* events */
    int canceled;             /* asked to stop: ends with UV_ECANCELED */
    int done;
} call;

/* What the fakes were asked, and the outcome of the up. */
typedef struct fake {
    call calls[1024];
    size_t n;
    int reports;
    int status;
    char message[8192];
    size_t completed;   /* calls completed by the test, of those it may complete */
    size_t up_recorded; /* completed calls when the "up" record was written */
    size_t downs, network_removes, records;
    char record_states[8][16];
} fake;

static fake F;
static docker *const fake_docker = (docker *)&F;
static zk_session *const fake_zk = (zk_session *)&F;

static call *add(const char *op, const char *arg, enum kind kind, void *data) {
    call *c = &F.calls[F.n++];

    assert_true(F.n < sizeof(F.calls) / sizeof(F.calls[0]));
    memset(c, 0, sizeof(*c));
    c->op = op;
    c->kind = kind;
    c->data = data;
    snprintf(c->arg, sizeof(c->arg), "%s", arg != NULL ? arg : "");
    return c;
}

static int f_image_inspect(docker *d, const char *name, docker_image_cb cb, void *data,
                           docker_call **out) {
    add("image_inspect", name, K_IMAGE, data)->cb.image = cb;
    return 0;
}

static int f_network_create(docker *d, const docker_network_opts *o, docker_id_cb cb, void *data,
                            docker_call **out) {
    add("network_create", o->name, K_ID, data)->cb.id = cb;
    return 0;
}

static int f_network_remove(docker *d, const char *name, docker_cb cb, void *data,
                            docker_call **out) {
    F.network_removes++;
    add("network_remove", name, K_PLAIN, data)->cb.plain = cb;
    return 0;
}

static int f_volume_create(docker *d, const char *name, const docker_kv *labels, size_t n,
                           docker_cb cb, void *data, docker_call **out) {
    add("volume_create", name, K_PLAIN, data)->cb.plain = cb;
    return 0;
}

static int f_container_create(docker *d, const docker_container_opts *o, docker_id_cb cb,
                              void *data, docker_call **out) {
    add("container_create", o->name, K_ID, data)->cb.id = cb;
    return 0;
}

static int f_container_start(docker *d, const char *id, docker_cb cb, void *data,
                             docker_call **out) {
    add("container_start", id, K_PLAIN, data)->cb.plain = cb;
    return 0;
}

static int f_container_inspect(docker *d, const char *id, docker_container_cb cb, void *data,
                               docker_call **out) {
    add("container_inspect", id, K_CONTAINER, data)->cb.container = cb;
    return 0;
}

static int f_put_archive(docker *d, const char *id, const char *dir, const void *tar, size_t len,
                         docker_cb cb, void *data, docker_call **out) {
    cluster_record r;

    assert_int_equal(cluster_record_untar(tar, len, &r), 0);
    if (r.state == RECORD_UP)
        F.up_recorded = F.completed;
    snprintf(F.record_states[F.records++ % 8], 16, "%s", cluster_record_state_name(r.state));
    add("put_archive", id, K_PLAIN, data)->cb.plain = cb;
    return 0;
}

static int f_logs(docker *d, const char *id, const docker_logs_opts *o, docker_output_cb out_cb,
                  docker_cb cb, void *data, docker_call **out) {
    call *c = add("logs", id, K_STREAM, data);

    c->cb.plain = cb;
    *out = (docker_call *)c;
    return 0;
}

static int f_events(docker *d, const docker_events_opts *o, docker_event_cb on_event, docker_cb cb,
                    void *data, docker_call **out) {
    /* The watch of a network's name (see watch_networks) is told apart. */
    call *c = add("events", o->n_networks > 0 ? o->networks[0] : NULL, K_STREAM, data);

    c->cb.plain = cb;
    c->on_event = on_event;
    *out = (docker_call *)c;
    return 0;
}

static int f_exec(docker *d, const char *id, const docker_exec_opts *o, docker_output_cb on_output,
                  docker_exec_cb cb, void *data, docker_call **out) {
    call *c = add("exec", id, K_EXEC, data);

    c->cb.exec = cb;
    *out = (docker_call *)c;
    return 0;
}

static int f_call_cancel(docker_call *dc) {
    call *c = (call *)dc;

    if (c->done || c->canceled)
        return UV_EALREADY;
    c->canceled = 1;
    return 0;
}

static int f_down(uv_loop_t *loop, docker *d, const char *name, cluster_down_cb cb, void *data) {
    F.downs++;
    add("down", name, K_DOWN, data)->cb.down = cb;
    return 0;
}

static int f_zk_connect(uv_loop_t *loop, const zk_options *o, zk_session **out, zk_connect_cb cb,
                        void *data) {
    *out = fake_zk;
    add("zk_connect", o->hosts, K_ZCONNECT, data)->cb.zconnect = cb;
    return 0;
}

static int f_zk_close(zk_session *s, zk_close_cb cb, void *data) {
    /* Closing ends what is pending on the session. */
    for (size_t i = 0; i < F.n; i++)
        if (!F.calls[i].done && (F.calls[i].kind == K_ZDONE || F.calls[i].kind == K_ZWAIT ||
                                 F.calls[i].kind == K_ZCONNECT))
            F.calls[i].canceled = 1;
    add("zk_close", NULL, K_ZCLOSE, data)->cb.zclose = cb;
    return 0;
}

static const char *f_zk_session_error(const zk_session *s) {
    return "ZooKeeper at 127.0.0.1:32768 did not answer";
}

static int f_zk_create(zk_session *s, const char *path, const void *v, size_t len, unsigned flags,
                       zk_done_cb cb, void *data) {
    add("zk_create", path, K_ZDONE, data)->cb.zdone = cb;
    return 0;
}

static int f_zk_set(zk_session *s, const char *path, const void *v, size_t len, zk_done_cb cb,
                    void *data) {
    add("zk_set", path, K_ZDONE, data)->cb.zdone = cb;
    return 0;
}

static int f_zk_wait_for(zk_session *s, const char *path, const char *const *accept,
                         uint64_t timeout_ms, zk_wait_cb cb, void *data, zk_wait **out) {
    call *c = add("zk_wait_for", path, K_ZWAIT, data);

    c->cb.zwait = cb;
    *out = (zk_wait *)c;
    return 0;
}

static int f_zk_wait_cancel(zk_wait *w) {
    return f_call_cancel((docker_call *)w);
}

static int f_probe_start(uv_loop_t *loop, const probe_target *t, uint64_t timeout_ms, probe_cb cb,
                         void *data, probe **out) {
    call *c = add("probe_start", t->address, K_PROBE, data);

    c->cb.probe = cb;
    *out = (probe *)c;
    return 0;
}

static int f_probe_cancel(probe *p) {
    return f_call_cancel((docker_call *)p);
}

static const cluster_ops fake_ops = {
    .image_inspect = f_image_inspect,
    .network_create = f_network_create,
    .network_remove = f_network_remove,
    .volume_create = f_volume_create,
    .container_create = f_container_create,
    .container_start = f_container_start,
    .container_inspect = f_container_inspect,
    .container_put_archive = f_put_archive,
    .logs = f_logs,
    .events = f_events,
    .exec = f_exec,
    .call_cancel = f_call_cancel,
    .down = f_down,
    .zk_connect = f_zk_connect,
    .zk_close = f_zk_close,
    .zk_session_error = f_zk_session_error,
    .zk_create = f_zk_create,
    .zk_set = f_zk_set,
    .zk_wait_for = f_zk_wait_for,
    .zk_wait_cancel = f_zk_wait_cancel,
    .probe_start = f_probe_start,
    .probe_cancel = f_probe_cancel,
};

/* ---- completing a call -------------------------------------------------------------------- */

/* How the next completed call ends, when the test says so. */
typedef struct outcome {
    int status;        /* 0: success */
    const char *msg;   /* for a failure */
    int exit_code;     /* exec */
    int running;       /* inspect: 1 unless told */
    const char *value; /* zk_wait_for: "up" unless told */
} outcome;

static void complete(call *c, const outcome *o) {
    int st = c->canceled ? UV_ECANCELED : o->status;
    const char *msg = st != 0 ? (o->msg != NULL ? o->msg : "failed") : NULL;

    c->done = 1;
    switch (c->kind) {
    case K_IMAGE: {
        docker_image_info info = {.id = "sha256:1"};
        c->cb.image(c->data, st, msg, st == 0 ? &info : NULL);
        break;
    }
    case K_ID: {
        char id[160];
        snprintf(id, sizeof(id), "id-%s", c->arg);
        c->cb.id(c->data, st, msg, st == 0 ? id : NULL);
        break;
    }
    case K_PLAIN:
    case K_STREAM: c->cb.plain(c->data, st, msg); break;
    case K_CONTAINER: {
        docker_port_binding ports[1] = {{.port = 2181, .proto = "tcp", .host_port = 32768}};
        docker_container_info info = {
            .id = c->arg,
            .running = o->running,
            .status = o->running ? "running" : "exited",
            .exit_code = o->running ? 0 : 137,
            .ports = ports,
            .n_ports = 1,
        };
        if (strstr(c->arg, "master") != NULL)
            ports[0].port = 8080;
        else if (strstr(c->arg, "worker") != NULL)
            ports[0].port = 8081;
        c->cb.container(c->data, st, msg, st == 0 ? &info : NULL);
        break;
    }
    case K_EXEC: c->cb.exec(c->data, st, msg, st == 0 ? o->exit_code : -1); break;
    case K_ZCONNECT: c->cb.zconnect(c->data, st, fake_zk); break;
    case K_ZDONE: c->cb.zdone(c->data, st); break;
    case K_ZWAIT: {
        const char *v = o->value != NULL ? o->value : "up";
        c->cb.zwait(c->data, st, st == 0 ? v : NULL, st == 0 ? strlen(v) : 0);
        break;
    }
    case K_ZCLOSE: c->cb.zclose(c->data, fake_zk); break;
    case K_PROBE: {
        probe_result res = {.healthy = st == 0, .attempts = 1, .why = st == 0 ? "" : "red"};
        c->cb.probe(c->data, st, &res);
        break;
    }
    case K_DOWN: c->cb.down(c->data, st, msg, 3); break;
    }
}

/* The oldest call that may end now: canceled ones first (streams, waits,
 * probes end only when canceled; everything else in order). */
static call *next_call(void) {
    for (size_t i = 0; i < F.n; i++)
        if (!F.calls[i].done && F.calls[i].canceled)
            return &F.calls[i];
    for (size_t i = 0; i < F.n; i++) {
        call *c = &F.calls[i];
        if (!c->done && c->kind != K_STREAM)
            return c;
    }
    return NULL;
}

static void on_report(void *data, const cluster_report *r) {
    F.reports++;
    F.status = r->status;
    snprintf(F.message, sizeof(F.message), "%s", r->message != NULL ? r->message : "");
}

/* An event of the cluster's events stream. */
static void send_event(const char *action, const char *container, const char *code) {
    for (size_t i = 0; i < F.n; i++) {
        call *c = &F.calls[i];
        if (c->kind == K_STREAM && c->on_event != NULL && !c->done && !c->canceled) {
            json_t *ev =
                json_pack("{s:s, s:s, s:{s:{s:s, s:s?}}}", "Type", "container", "Action", action,
                          "Actor", "Attributes", "name", container, "exitCode", code);
            c->on_event(c->data, ev);
            json_decref(ev);
            return;
        }
    }
}

typedef enum trouble { NONE, DIE, DIE_ZK, CANCEL, ZK_LOST, REMOVED, EXEC_KILLED } trouble;

typedef struct run {
    trouble what;
    size_t after; /* the trouble comes after that many calls completed */
    int rm_on_failure;
    unsigned timeout_s;
    int stall_waits;            /* zk_wait_for never completes (the deadline ends it) */
    int calls_fail;             /* after the trouble, every call in flight fails */
    const char *const *restart; /* `hdc start`: the nodes started again */
} run;

static char logs_base[] = "/tmp/hdc-test-cluster-XXXXXX";
static char logs_root[256]; /* a new one for each run: a run moves the last one's aside */
static unsigned runs;

static void next_logs_root(void) {
    snprintf(logs_root, sizeof(logs_root), "%s/run%u", logs_base, ++runs);
}

/* Runs an up to its end with the fakes, as r says. */
static void run_up(const run *r) {
    uv_loop_t loop;
    plan_pool pool;
    plan p;
    cluster *c = NULL;
    cluster_identity id = {.owner = "m/b/1/2/3", .created = 1, .logs_dir = logs_root};
    cluster_up_opts o = {
        .logs_root = logs_root,
        .ops = &fake_ops,
        .id = &id,
        .rm_on_failure = r->rm_on_failure,
        .timeout_s = r->timeout_s,
        .restart = r->restart,
        .holder = "",
    };
    int troubled = 0, killed = 0;

    memset(&F, 0, sizeof(F));
    next_logs_root();
    uv_loop_init(&loop);
    assert_int_equal(plan_pool_parse(NULL, &pool, NULL, 0), 0);
    o.pool = pool;
    assert_int_equal(plan_make(&p, &desc, "c1", 2, &pool, 0, NULL, 0), 0);
    assert_int_equal(cluster_up(&loop, fake_docker, &p, &o, NULL, on_report, NULL, &c), 0);
    assert_int_equal(F.reports, 0); /* never from inside the call */
    while (F.reports == 0) {
        call *next;
        if (!troubled && F.completed == r->after && r->what != NONE) {
            troubled = 1;
            switch (r->what) {
            case DIE: send_event("die", "c1_worker_1", "137"); break;
            case DIE_ZK: send_event("die", "c1_zookeeper_1", "137"); break;
            case REMOVED: send_event("destroy", "c1_master_1", NULL); break;
            case CANCEL: cluster_cancel(c); break;
            default: break;
            }
        }
        next = next_call();
        /* After the trouble, a session still connecting answers last, once
         * the loop's timers (the log settle) have run: as a real connect
         * to a dead ZooKeeper times out after them. */
        if (next != NULL && troubled && r->calls_fail && next->kind == K_ZCONNECT &&
            !next->canceled && uv_run(&loop, UV_RUN_NOWAIT) + uv_loop_alive(&loop) > 0) {
            uv_run(&loop, UV_RUN_ONCE);
            continue;
        }
        if (next == NULL || (r->stall_waits && next->kind == K_ZWAIT && !next->canceled)) {
            /* Work on the thread pool, a timer: the loop has it. Nothing
             * there and no call to answer: the up is stuck. */
            if (uv_run(&loop, UV_RUN_ONCE) == 0 && next == NULL && next_call() == NULL &&
                F.reports == 0)
                fail_msg("stuck after %zu calls (trouble %d after %zu), no report", F.completed,
                         (int)r->what, r->after);
            continue;
        }
        {
            outcome out = {.running = 1};
            if (!next->canceled) {
                F.completed++;
                if (troubled && r->calls_fail) {
                    out.status = UV_ETIMEDOUT;
                    out.msg = "timed out";
                }
                if (troubled && r->what == ZK_LOST &&
                    (next->kind == K_ZDONE || next->kind == K_ZWAIT || next->kind == K_ZCONNECT)) {
                    out.status = ZK_EEXPIRED;
                    out.msg = "expired";
                }
                if (r->what == EXEC_KILLED && next->kind == K_EXEC) {
                    out.exit_code = 137;
                    killed = 1;
                }
                /* The inspect after the step's failure: the node is dead. */
                if (killed && next->kind == K_CONTAINER)
                    out.running = 0;
            }
            complete(next, &out);
        }
    }
    /* Called back once, and nothing of the up left in flight. */
    for (size_t i = 0; i < F.n; i++)
        if (!F.calls[i].done)
            fail_msg("after the report, %s(%s) is still in flight", F.calls[i].op, F.calls[i].arg);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(F.reports, 1);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- the scenarios ---------------------------------------------------------------------------- */

/* The index of the first call of op on arg (any arg but except, when
 * arg is NULL), in the order they were made; F.n if none. */
static size_t first_call(const char *op, const char *arg, const char *except) {
    for (size_t i = 0; i < F.n; i++)
        if (strcmp(F.calls[i].op, op) == 0 &&
            (arg != NULL ? strcmp(F.calls[i].arg, arg) == 0
                         : except == NULL || strcmp(F.calls[i].arg, except) != 0))
            return i;
    return F.n;
}

static size_t happy_calls; /* how many calls a whole up completes */
static size_t ready_after; /* completed calls when the up is up */

static void a_whole_up(void **state) {
    run r = {.what = NONE};

    run_up(&r);
    assert_int_equal(F.status, 0);
    assert_string_equal(F.message, "");
    happy_calls = F.completed;
    ready_after = F.up_recorded + 1; /* the record's write completed */
    assert_true(happy_calls > 30);
    /* The record: creating once the name is ours, up at the end. */
    assert_int_equal(F.records, 2);
    assert_string_equal(F.record_states[0], "creating");
    assert_string_equal(F.record_states[1], "up");
    assert_int_equal(F.downs, 0);
    /* The service containers are created and started while ZooKeeper
     * starts: before the session is asked for, after ZooKeeper's start. */
    assert_true(first_call("container_create", NULL, "c1_zookeeper_1") <
                first_call("zk_connect", NULL, NULL));
    assert_true(first_call("container_start", NULL, "id-c1_zookeeper_1") <
                first_call("zk_connect", NULL, NULL));
    assert_true(first_call("container_start", "id-c1_zookeeper_1", NULL) <
                first_call("container_start", NULL, "id-c1_zookeeper_1"));
    /* The volumes, named after the cluster, once the name is ours. */
    assert_true(first_call("container_create", "c1_zookeeper_1", NULL) <
                first_call("volume_create", NULL, NULL));
}

static void a_container_dying_in_each_phase(void **state) {
    /* And with whatever was in flight failing after it (a ZooKeeper
     * session still connecting to the dead node times out). */
    for (size_t k = 0; k < 2 * happy_calls; k++) {
        run r = {.what = DIE, .after = k % happy_calls, .calls_fail = k >= happy_calls};
        run_up(&r);
        /* Before the worker exists the event names nothing of ours: no
         * failure; from then on, the up fails naming it. */
        if (F.status == 0)
            continue;
        /* Before the worker exists, a failing call fails the up first. */
        if (r.calls_fail && F.status != CLUSTER_EFAILED)
            continue;
        assert_int_equal(F.status, CLUSTER_EFAILED);
        if (strstr(F.message, "worker1") == NULL || strstr(F.message, "status 137") == NULL)
            fail_msg("after %zu calls: '%s'", k % happy_calls, F.message);
    }
}

/* ZooKeeper's container dying, its session connecting or not, and the
 * calls in flight failing after it: the up ends, once. */
static void zookeeper_dying_in_each_phase(void **state) {
    for (size_t k = 0; k < 2 * happy_calls; k++) {
        run r = {.what = DIE_ZK, .after = k % happy_calls, .calls_fail = k >= happy_calls};
        run_up(&r);
        if (F.status == CLUSTER_EFAILED && strstr(F.message, "zookeeper") == NULL)
            fail_msg("after %zu calls: '%s'", k % happy_calls, F.message);
    }
}

static void a_cancel_in_each_phase(void **state) {
    for (size_t k = 0; k < happy_calls; k++) {
        run r = {.what = CANCEL, .after = k};
        run_up(&r);
        if (k >= ready_after) { /* up already: a cancel only ends it early */
            assert_int_equal(F.status, 0);
            continue;
        }
        if (F.status != UV_ECANCELED)
            fail_msg("cancel after %zu calls: status %d '%s'", k, F.status, F.message);
        assert_non_null(strstr(F.message, "interrupted"));
        assert_int_equal(F.downs, 0); /* left for inspection (and gc) */
    }
}

static void zookeeper_lost_in_each_phase(void **state) {
    size_t failed = 0;

    for (size_t k = 0; k < happy_calls; k++) {
        run r = {.what = ZK_LOST, .after = k};
        run_up(&r);
        failed += F.status != 0;
    }
    /* Every point from the session on fails the up (and none hangs). */
    assert_true(failed > 0);
}

static void a_down_racing_the_up(void **state) {
    for (int rm = 0; rm <= 1; rm++)
        for (size_t k = 0; k < happy_calls; k++) {
            run r = {.what = REMOVED, .after = k, .rm_on_failure = rm};
            run_up(&r);
            if (F.status == 0)
                continue; /* the master did not exist yet */
            assert_non_null(strstr(F.message, "was removed while it came up"));
            /* What the up made after the down's pass is the up's to
             * remove, --rm-on-failure or not. */
            assert_int_equal(F.downs, 1);
            assert_non_null(strstr(F.message, "a `hdc down` of it ran meanwhile"));
        }
}

static void the_loser_of_a_race_removes_only_its_network(void **state) {
    uv_loop_t loop;
    plan_pool pool;
    plan p;
    cluster_up_opts o = {.logs_root = logs_root, .ops = &fake_ops, .rm_on_failure = 1};

    memset(&F, 0, sizeof(F));
    next_logs_root();
    uv_loop_init(&loop);
    plan_pool_parse(NULL, &pool, NULL, 0);
    o.pool = pool;
    assert_int_equal(plan_make(&p, &desc, "c1", 1, &pool, 0, NULL, 0), 0);
    assert_int_equal(cluster_up(&loop, fake_docker, &p, &o, NULL, on_report, NULL, NULL), 0);
    while (F.reports == 0) {
        call *next = next_call();
        outcome out = {.running = 1};
        if (next == NULL) {
            uv_run(&loop, UV_RUN_ONCE);
            continue;
        }
        if (!next->canceled && strcmp(next->op, "container_create") == 0) {
            out.status = DOCKER_ECONFLICT;
            out.msg = "Conflict. The container name is already in use";
        }
        complete(next, &out);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(F.status, CLUSTER_EEXISTS);
    assert_int_equal(F.network_removes, 1);
    assert_int_equal(F.downs, 0);
    assert_int_equal(F.records, 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* Another up's network of the same name, for a moment: ZooKeeper's start
 * is refused as ambiguous; the up waits for that network's destroy (or,
 * when none comes, fails naming it). */
static void a_shared_network_name(int goes) {
    uv_loop_t loop;
    plan_pool pool;
    plan p;
    cluster_up_opts o = {.logs_root = logs_root, .ops = &fake_ops};
    int starts = 0, told = 0;

    memset(&F, 0, sizeof(F));
    next_logs_root();
    uv_loop_init(&loop);
    plan_pool_parse(NULL, &pool, NULL, 0);
    o.pool = pool;
    assert_int_equal(plan_make(&p, &desc, "c1", 1, &pool, 0, NULL, 0), 0);
    assert_int_equal(cluster_up(&loop, fake_docker, &p, &o, NULL, on_report, NULL, NULL), 0);
    while (F.reports == 0) {
        call *next = next_call();
        outcome out = {.running = 1};
        call *watch = NULL;
        for (size_t i = 0; i < F.n; i++)
            if (F.calls[i].kind == K_STREAM && strcmp(F.calls[i].arg, "hdc_c1") == 0 &&
                !F.calls[i].done)
                watch = &F.calls[i];
        if (watch != NULL && !told) {
            told = 1;
            if (goes) { /* the other network goes (ours is not it) */
                json_t *ev = json_pack("{s:s, s:s, s:{s:s}}", "Type", "network", "Action",
                                       "destroy", "Actor", "ID", "0ther");
                watch->on_event(watch->data, ev);
                json_decref(ev);
            } else { /* the watch's --until passes */
                complete(watch, &out);
            }
            continue;
        }
        if (next == NULL) {
            uv_run(&loop, UV_RUN_ONCE);
            continue;
        }
        if (!next->canceled && strcmp(next->op, "container_start") == 0 &&
            strstr(next->arg, "zookeeper") != NULL && starts++ == 0) {
            out.status = DOCKER_EAPI;
            out.msg = "network hdc_c1 is ambiguous (2 matches found on name)";
        }
        complete(next, &out);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_true(told);
    if (goes) {
        assert_int_equal(F.status, 0);
        assert_int_equal(starts, 2);
    } else {
        assert_int_equal(F.status, CLUSTER_EEXISTS);
        if (strstr(F.message, "another network is named hdc_c1") == NULL)
            fail_msg("'%s'", F.message);
    }
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void a_network_name_shared_until_the_other_goes(void **state) {
    a_shared_network_name(1);
}

static void a_network_name_shared_for_good(void **state) {
    a_shared_network_name(0);
}

static void a_failure_removes_the_cluster_with_rm_on_failure(void **state) {
    run r = {.what = DIE, .after = happy_calls - 3, .rm_on_failure = 1};

    run_up(&r);
    assert_int_equal(F.status, CLUSTER_EFAILED);
    assert_int_equal(F.downs, 1);
    assert_non_null(strstr(F.message, "--rm-on-failure"));
}

static void a_failure_is_recorded(void **state) {
    run r = {.what = DIE, .after = happy_calls - 3};

    run_up(&r);
    assert_int_equal(F.status, CLUSTER_EFAILED);
    assert_int_equal(F.records, 2);
    assert_string_equal(F.record_states[1], "failed");
}

static void a_step_whose_node_died_is_told_as_its_death(void **state) {
    run r = {.what = EXEC_KILLED};

    run_up(&r);
    assert_int_equal(F.status, CLUSTER_EFAILED);
    if (strstr(F.message, "master (container c1_master_1) exited with status 137 during step "
                          "'dirs'") == NULL)
        fail_msg("'%s'", F.message);
}

static void the_deadline_names_what_is_pending(void **state) {
    run r = {.timeout_s = 1, .stall_waits = 1};

    run_up(&r);
    assert_int_equal(F.status, UV_ETIMEDOUT);
    if (strstr(F.message, "not up within --timeout 1 s") == NULL ||
        strstr(F.message, "steps not done: 'master-up'") == NULL ||
        strstr(F.message, "nodes not up: master (booting)") == NULL)
        fail_msg("'%s'", F.message);
}

/* ---- hdc start, hdc restart ------------------------------------------------------------- */

/* How many calls of op were made (on arg, when given). */
static size_t calls_of(const char *op, const char *arg) {
    size_t n = 0;

    for (size_t i = 0; i < F.n; i++)
        n += strcmp(F.calls[i].op, op) == 0 && (arg == NULL || strcmp(F.calls[i].arg, arg) == 0);
    return n;
}

static const char *const every_node[] = {"zookeeper", "master", "worker1", "worker2", NULL};
static const char *const worker1_only[] = {"worker1", NULL};

static size_t start_calls; /* how many calls a whole start completes */

/* A stopped cluster started: nothing created, every znode reset with a
 * set (it exists), every container started, ZooKeeper first; the record
 * says up once, at the end. */
static void a_start_of_a_stopped_cluster(void **state) {
    run r = {.restart = every_node};

    run_up(&r);
    assert_int_equal(F.status, 0);
    start_calls = F.completed;
    assert_int_equal(calls_of("image_inspect", NULL), 0);
    assert_int_equal(calls_of("network_create", NULL), 0);
    assert_int_equal(calls_of("volume_create", NULL), 0);
    assert_int_equal(calls_of("container_create", NULL), 0);
    assert_int_equal(calls_of("zk_create", NULL), 0);
    assert_int_equal(calls_of("container_start", NULL), 4);
    assert_string_equal(F.calls[0].op, "events");
    for (size_t i = 0; i < F.n; i++)
        if (strcmp(F.calls[i].op, "container_start") == 0) {
            assert_string_equal(F.calls[i].arg, "c1_zookeeper_1");
            break;
        }
    /* Each znode: `wait` (a set), then `boot` from its BOOT step; the
     * service containers start only once every znode reads `wait`. */
    assert_true(first_call("zk_set", "/worker2", NULL) <
                first_call("container_start", NULL, "c1_zookeeper_1"));
    assert_int_equal(calls_of("zk_set", "/master"), 2);
    assert_int_equal(calls_of("zk_set", "/worker1"), 2);
    assert_int_equal(calls_of("exec", NULL), 1);
    assert_int_equal(calls_of("probe_start", NULL), 1);
    assert_int_equal(F.records, 1);
    assert_string_equal(F.record_states[0], "up");
}

/* One node restarted: only its container starts, only its znode is
 * reset and booted; the others are only inspected, the master's steps
 * (its BOOT, WAIT, EXEC) do not run again; the probe does. */
static void a_restart_of_one_node(void **state) {
    run r = {.restart = worker1_only};

    run_up(&r);
    assert_int_equal(F.status, 0);
    assert_int_equal(calls_of("container_start", NULL), 1);
    assert_int_equal(calls_of("container_start", "c1_worker_1"), 1);
    assert_int_equal(calls_of("container_inspect", "c1_zookeeper_1"), 1);
    assert_int_equal(calls_of("container_inspect", "c1_master_1"), 1);
    assert_int_equal(calls_of("container_inspect", "c1_worker_2"), 1);
    assert_int_equal(calls_of("zk_set", "/worker1"), 2);
    assert_int_equal(calls_of("zk_set", "/worker2"), 0);
    assert_int_equal(calls_of("zk_set", "/master"), 0);
    assert_int_equal(calls_of("zk_wait_for", "/worker1"), 1);
    assert_int_equal(calls_of("zk_wait_for", "/master"), 0);
    assert_int_equal(calls_of("exec", NULL), 0);
    assert_int_equal(calls_of("probe_start", NULL), 1);
    assert_int_equal(calls_of("logs", NULL), 0); /* the writer's, after */
}

/* A start that fails, at any point, never writes `failed`: the record
 * stays as it was (stopped), and the message says how to go on; nothing
 * is removed. */
static void a_start_failing_in_each_phase(void **state) {
    /* Every third point: each death waits a real second for the dead
     * node's log (LOG_SETTLE_MS), and the up's own scenarios above cover
     * every point of the shared machinery already. */
    for (size_t k = 0; k < start_calls; k += 3) {
        run r = {.what = DIE, .after = k, .restart = every_node};
        run_up(&r);
        assert_int_equal(F.downs, 0);
        assert_int_equal(F.network_removes, 0);
        for (size_t i = 0; i < F.records && i < 8; i++)
            assert_string_not_equal(F.record_states[i], "failed");
        if (F.status != 0 && strstr(F.message, "`hdc start c1` tries again") == NULL)
            fail_msg("after %zu calls: '%s'", k, F.message);
    }
}

/* A node the start left as it was, found not running: said, with what
 * starts it. */
static void a_start_finds_a_node_it_left_not_running(void **state) {
    uv_loop_t loop;
    plan_pool pool;
    plan p;
    cluster_up_opts o = {.logs_root = logs_root, .ops = &fake_ops, .restart = worker1_only};

    memset(&F, 0, sizeof(F));
    next_logs_root();
    uv_loop_init(&loop);
    assert_int_equal(plan_pool_parse(NULL, &pool, NULL, 0), 0);
    assert_int_equal(plan_make(&p, &desc, "c1", 2, &pool, 0, NULL, 0), 0);
    assert_int_equal(cluster_up(&loop, fake_docker, &p, &o, NULL, on_report, NULL, NULL), 0);
    while (F.reports == 0) {
        call *next = next_call();
        outcome out = {.running = 1};
        if (next == NULL) {
            uv_run(&loop, UV_RUN_ONCE);
            continue;
        }
        if (!next->canceled && strcmp(next->op, "container_inspect") == 0 &&
            strcmp(next->arg, "c1_worker_2") == 0)
            out.running = 0;
        complete(next, &out);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(F.status, CLUSTER_EFAILED);
    if (strstr(F.message, "worker2 is not running") == NULL ||
        strstr(F.message, "`hdc restart c1 worker2`") == NULL)
        fail_msg("'%s'", F.message);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static int make_logs_root(void **state) {
    return mkdtemp(logs_base) != NULL ? 0 : -1;
}

static int remove_logs_root(void **state) {
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", logs_base);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_whole_up),
        cmocka_unit_test(a_container_dying_in_each_phase),
        cmocka_unit_test(zookeeper_dying_in_each_phase),
        cmocka_unit_test(a_cancel_in_each_phase),
        cmocka_unit_test(zookeeper_lost_in_each_phase),
        cmocka_unit_test(a_down_racing_the_up),
        cmocka_unit_test(the_loser_of_a_race_removes_only_its_network),
        cmocka_unit_test(a_network_name_shared_until_the_other_goes),
        cmocka_unit_test(a_network_name_shared_for_good),
        cmocka_unit_test(a_failure_removes_the_cluster_with_rm_on_failure),
        cmocka_unit_test(a_failure_is_recorded),
        cmocka_unit_test(a_step_whose_node_died_is_told_as_its_death),
        cmocka_unit_test(the_deadline_names_what_is_pending),
        cmocka_unit_test(a_start_of_a_stopped_cluster),
        cmocka_unit_test(a_restart_of_one_node),
        cmocka_unit_test(a_start_failing_in_each_phase),
        cmocka_unit_test(a_start_finds_a_node_it_left_not_running),
    };
    return cmocka_run_group_tests(tests, make_logs_root, remove_logs_root);
}
