/* engine/zk against a real ZooKeeper server (tests/integration/zk-server.sh):
 * watches, zk_wait_for's deadline, a server restart and a session expiry in
 * the middle of a wait, calls in flight when the connection is lost (the
 * server stopped with SIGSTOP, or killed and restarted), a session expired
 * by an unreachable server, 50 sessions on one loop, an unreachable server.
 * Every test ends with all sessions closed and uv_loop_close succeeding, so
 * a handle or request left behind fails it (and ASan reports leaks).
 * Timings are printed, not asserted, except that a deadline is never early
 * (and generous guards against hangs). ZK_TEST_FILTER="*expiry*" runs one. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>
#include <zookeeper/zookeeper.h>

#include "zk.h"

static char g_dir[256];
static char g_hosts[64];
static char g_script[512];

/* ---- helpers ---------------------------------------------------------------- */

static double ms_since(uint64_t t0) {
    return (double)(uv_hrtime() - t0) / 1e6;
}

static int server(const char *cmd, char *out, size_t outlen) {
    char line[1024];
    FILE *p;
    int rc;
    snprintf(line, sizeof(line), "bash %s %s %s", g_script, cmd, g_dir);
    p = popen(line, "r");
    if (p == NULL)
        return -1;
    if (out != NULL) {
        out[0] = '\0';
        if (fgets(out, (int)outlen, p) != NULL)
            out[strcspn(out, "\n")] = '\0';
    }
    while (fgets(line, sizeof(line), p) != NULL)
        ;
    rc = pclose(p);
    return rc;
}

static void tick(uv_timer_t *t) {
}

/* Runs the loop until *flag reaches want; fails the test after max_ms. */
static void run_until(uv_loop_t *loop, const int *flag, int want, unsigned max_ms) {
    uv_timer_t guard;
    uint64_t t0 = uv_hrtime();
    uv_timer_init(loop, &guard);
    uv_timer_start(&guard, tick, 20, 20);
    while (*flag < want) {
        uv_run(loop, UV_RUN_ONCE);
        if (ms_since(t0) > max_ms) {
            fail_msg("gave up after %u ms waiting (%d of %d)", max_ms, *flag, want);
        }
    }
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
}

/* Like run_until, but gives up quietly: returns whether *flag got there. */
static int run_until_or_not(uv_loop_t *loop, const int *flag, int want, unsigned max_ms) {
    uv_timer_t guard;
    uint64_t t0 = uv_hrtime();
    uv_timer_init(loop, &guard);
    uv_timer_start(&guard, tick, 20, 20);
    while (*flag < want && ms_since(t0) <= max_ms)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return *flag >= want;
}

static void run_for(uv_loop_t *loop, unsigned ms) {
    int never = 0;
    uv_timer_t guard;
    uint64_t t0 = uv_hrtime();
    uv_timer_init(loop, &guard);
    uv_timer_start(&guard, tick, 20, 20);
    while (ms_since(t0) < ms && !never)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
}

typedef struct sess {
    zk_session *s;
    int connected; /* 1 on success */
    int connect_status;
    int closed;
    int events[4]; /* counts of enum zk_event */
    void (*on_event)(struct sess *, enum zk_event);
    void *user;
} sess;

static void on_connect(void *data, int status, zk_session *s) {
    sess *x = data;
    x->connect_status = status;
    x->connected = 1;
}

static void on_closed(void *data, zk_session *s) {
    ((sess *)data)->closed++;
}

static void on_event(void *data, zk_session *s, enum zk_event ev) {
    sess *x = data;
    x->events[ev]++;
    static const char *const names[] = {"disconnected", "reconnected", "expired", "renewed"};
    printf("# session 0x%llx: %s\n", (unsigned long long)zk_session_id(s), names[ev]);
    if (x->on_event)
        x->on_event(x, ev);
}

static void open_sess(uv_loop_t *loop, sess *x, const char *hosts, unsigned session_ms) {
    zk_options o = {hosts, session_ms, 10000, on_event, x};
    int rc = zk_connect(loop, &o, &x->s, on_connect, x);
    assert_int_equal(rc, 0);
}

static void connect_sess(uv_loop_t *loop, sess *x, unsigned session_ms) {
    memset(x, 0, sizeof(*x));
    open_sess(loop, x, g_hosts, session_ms);
    run_until(loop, &x->connected, 1, 15000);
    if (x->connect_status != 0)
        fail_msg("connect: %s", zk_session_error(x->s));
}

static void close_sess(uv_loop_t *loop, sess *x) {
    assert_int_equal(zk_close(x->s, on_closed, x), 0);
    run_until(loop, &x->closed, 1, 15000);
}

static void finish_loop(uv_loop_t *loop) {
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(loop), 0);
}

typedef struct op {
    int done;
    int status;
    char value[256];
    size_t len;
    int exists;
    uint64_t at;
} op;

static void op_done(void *data, int status) {
    op *o = data;
    o->status = status;
    o->at = uv_hrtime();
    o->done++;
}

static void op_get(void *data, int status, const char *value, size_t len) {
    op *o = data;
    o->status = status;
    o->at = uv_hrtime();
    if (value != NULL) {
        snprintf(o->value, sizeof(o->value), "%.*s", (int)len, value);
        o->len = len;
    } else {
        o->value[0] = '\0';
        o->len = (size_t)-1;
    }
    o->done++;
}

static void op_exists(void *data, int status, int exists) {
    op *o = data;
    o->status = status;
    o->exists = exists;
    o->done++;
}

/* Synchronous helpers for the writer side, driving the loop. A call made
 * while its session is disconnected waits for the reconnection, which the
 * library may take a while to make after a server restart: the guard
 * against a hang is generous. */
#define CALL_GUARD_MS 60000

static int sync_set(uv_loop_t *loop, sess *x, const char *path, const char *value) {
    op o = {0};
    assert_int_equal(zk_set(x->s, path, value, strlen(value), op_done, &o), 0);
    run_until(loop, &o.done, 1, CALL_GUARD_MS);
    return o.status;
}

static int sync_create(uv_loop_t *loop, sess *x, const char *path, const char *value,
                       unsigned flags) {
    op o = {0};
    assert_int_equal(zk_create(x->s, path, value, strlen(value), flags, op_done, &o), 0);
    run_until(loop, &o.done, 1, CALL_GUARD_MS);
    return o.status;
}

static int sync_get(uv_loop_t *loop, sess *x, const char *path, op *o) {
    memset(o, 0, sizeof(*o));
    assert_int_equal(zk_get(x->s, path, op_get, o), 0);
    run_until(loop, &o->done, 1, CALL_GUARD_MS);
    return o->status;
}

/* Writes, whether the node exists or not. */
static void put(uv_loop_t *loop, sess *x, const char *path, const char *value) {
    int rc, i;
    for (i = 0; i < 100; i++) {
        rc = sync_set(loop, x, path, value);
        if (rc == ZK_ENONODE)
            rc = sync_create(loop, x, path, value, ZK_CREATE_PARENTS);
        if (rc == 0)
            return;
        if (rc != ZK_ECONNLOSS && rc != ZK_ENODEEXISTS)
            fail_msg("writing %s: %s", path, hdc_strerror(rc));
        run_for(loop, 100);
    }
    fail_msg("could not write %s", path);
}

static const char *const UP_OR_FAILED[] = {"up", "failed:*", NULL};

/* ---- tests -------------------------------------------------------------------- */

static void basic_calls_work(void **state) {
    uv_loop_t loop;
    sess a;
    op o;

    uv_loop_init(&loop);
    connect_sess(&loop, &a, 10000);
    assert_true(zk_session_id(a.s) != 0);

    assert_int_equal(sync_create(&loop, &a, "/basic/x/y", "v1", ZK_CREATE_PARENTS), 0);
    assert_int_equal(sync_create(&loop, &a, "/basic/x/y", "v1", 0), ZK_ENODEEXISTS);
    assert_int_equal(sync_get(&loop, &a, "/basic/x/y", &o), 0);
    assert_string_equal(o.value, "v1");
    assert_int_equal(sync_set(&loop, &a, "/basic/x/y", "v2"), 0);
    assert_int_equal(sync_get(&loop, &a, "/basic/x/y", &o), 0);
    assert_string_equal(o.value, "v2");
    assert_int_equal(sync_get(&loop, &a, "/basic/x", &o), 0);
    assert_string_equal(o.value, "");

    memset(&o, 0, sizeof(o));
    assert_int_equal(zk_delete(a.s, "/basic/x", op_done, &o), 0);
    run_until(&loop, &o.done, 1, 5000);
    assert_int_equal(o.status, ZK_ENOTEMPTY);
    memset(&o, 0, sizeof(o));
    assert_int_equal(zk_delete(a.s, "/basic/x/y", op_done, &o), 0);
    run_until(&loop, &o.done, 1, 5000);
    assert_int_equal(o.status, 0);
    assert_int_equal(sync_get(&loop, &a, "/basic/x/y", &o), ZK_ENONODE);
    assert_int_equal(sync_set(&loop, &a, "/basic/x/y", "v"), ZK_ENONODE);

    memset(&o, 0, sizeof(o));
    assert_int_equal(zk_exists(a.s, "/basic/x", op_exists, NULL, &o), 0);
    run_until(&loop, &o.done, 1, 5000);
    assert_int_equal(o.status, 0);
    assert_int_equal(o.exists, 1);
    memset(&o, 0, sizeof(o));
    assert_int_equal(zk_exists(a.s, "/basic/none", op_exists, NULL, &o), 0);
    run_until(&loop, &o.done, 1, 5000);
    assert_int_equal(o.exists, 0);

    assert_int_equal(zk_get(a.s, "no-slash", op_get, &o), ZK_EBADARGS);
    assert_int_equal(zk_get(a.s, "/trailing/", op_get, &o), ZK_EBADARGS);
    assert_int_equal(zk_session_timeout(a.s), 10000);
    close_sess(&loop, &a);

    /* No timeout given: 40 s, which the server grants (its maximum is 60 s). */
    connect_sess(&loop, &a, 0);
    printf("# default session timeout: %u ms granted\n", zk_session_timeout(a.s));
    assert_int_equal(zk_session_timeout(a.s), ZK_SESSION_TIMEOUT_DEFAULT_MS);
    close_sess(&loop, &a);
    finish_loop(&loop);
}

typedef struct lat {
    op watch;
    int exists_done;
} lat;

static void lat_exists(void *data, int status, int exists) {
    ((lat *)data)->exists_done++;
}

static void lat_watch(void *data, int status) {
    op_done(&((lat *)data)->watch, status);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void watch_fires_after_write(void **state) {
    enum { N = 20 };
    uv_loop_t loop;
    sess reader, writer;
    double lat_ms[N];
    op sets[N];
    int i;

    uv_loop_init(&loop);
    connect_sess(&loop, &reader, 10000);
    connect_sess(&loop, &writer, 10000);
    put(&loop, &writer, "/lat", "0");
    for (i = 0; i < N; i++) {
        lat l = {0};
        char v[16];
        uint64_t t0;
        assert_int_equal(zk_exists(reader.s, "/lat", lat_exists, lat_watch, &l), 0);
        run_until(&loop, &l.exists_done, 1, 5000);
        snprintf(v, sizeof(v), "%d", i + 1);
        t0 = uv_hrtime();
        memset(&sets[i], 0, sizeof(sets[i]));
        assert_int_equal(zk_set(writer.s, "/lat", v, strlen(v), op_done, &sets[i]), 0);
        run_until(&loop, &l.watch.done, 1, 5000);
        assert_int_equal(l.watch.status, 0);
        lat_ms[i] = (double)(l.watch.at - t0) / 1e6;
        run_until(&loop, &sets[i].done, 1, 5000);
        assert_int_equal(sets[i].status, 0);
    }
    qsort(lat_ms, N, sizeof(lat_ms[0]), cmp_double);
    printf("# watch latency, write call to watch callback, %d runs: median %.2f ms, "
           "max %.2f ms (issue asks < 50 ms)\n",
           N, lat_ms[N / 2], lat_ms[N - 1]);

    /* A watch left pending at close is told UV_ECANCELED. */
    {
        lat l = {0};
        assert_int_equal(zk_exists(reader.s, "/lat", lat_exists, lat_watch, &l), 0);
        run_until(&loop, &l.exists_done, 1, 5000);
        close_sess(&loop, &reader);
        assert_int_equal(l.watch.done, 1);
        assert_int_equal(l.watch.status, UV_ECANCELED);
    }
    close_sess(&loop, &writer);
    finish_loop(&loop);
}

static void wait_cb(void *data, int status, const char *value, size_t len) {
    op_get(data, status, value, len);
}

static void wait_for_sees_value_and_times_out_at_deadline(void **state) {
    uv_loop_t loop;
    sess a, w;
    op o = {0}, o2 = {0}, o3 = {0};
    uint64_t t0;
    double took;
    zk_wait *handle;

    uv_loop_init(&loop);
    connect_sess(&loop, &a, 10000);
    connect_sess(&loop, &w, 10000);

    /* A node that never appears: times out, not before its deadline. */
    uv_update_time(&loop);
    t0 = uv_hrtime();
    assert_int_equal(zk_wait_for(a.s, "/never", UP_OR_FAILED, 700, wait_cb, &o, NULL), 0);
    run_until(&loop, &o.done, 1, 10000);
    took = ms_since(t0);
    printf("# wait_for with a 700 ms deadline returned after %.1f ms\n", took);
    assert_int_equal(o.status, UV_ETIMEDOUT);
    assert_true(o.len == (size_t)-1); /* never existed: no value */
    assert_true(took >= 699.0);

    /* A node stuck at "wait": the timeout reports the last value seen. */
    put(&loop, &w, "/stuck", "wait");
    memset(&o, 0, sizeof(o));
    uv_update_time(&loop);
    t0 = uv_hrtime();
    assert_int_equal(zk_wait_for(a.s, "/stuck", UP_OR_FAILED, 500, wait_cb, &o, NULL), 0);
    run_until(&loop, &o.done, 1, 10000);
    took = ms_since(t0);
    assert_int_equal(o.status, UV_ETIMEDOUT);
    assert_string_equal(o.value, "wait");
    assert_true(took >= 499.0);

    /* Values that do not match are skipped; a prefix pattern matches. */
    memset(&o, 0, sizeof(o));
    put(&loop, &w, "/svc", "wait");
    assert_int_equal(zk_wait_for(a.s, "/svc", UP_OR_FAILED, 10000, wait_cb, &o, NULL), 0);
    run_for(&loop, 100);
    put(&loop, &w, "/svc", "boot");
    run_for(&loop, 100);
    assert_int_equal(o.done, 0);
    t0 = uv_hrtime();
    put(&loop, &w, "/svc", "failed:exited with status 3");
    run_until(&loop, &o.done, 1, 5000);
    printf("# wait_for saw the value %.2f ms after the write began\n", (double)(o.at - t0) / 1e6);
    assert_int_equal(o.status, 0);
    assert_string_equal(o.value, "failed:exited with status 3");

    /* A node created after the wait began. */
    assert_int_equal(zk_wait_for(a.s, "/later/node", UP_OR_FAILED, 10000, wait_cb, &o2, NULL), 0);
    run_for(&loop, 100);
    put(&loop, &w, "/later/node", "up");
    run_until(&loop, &o2.done, 1, 5000);
    assert_int_equal(o2.status, 0);
    assert_string_equal(o2.value, "up");

    /* Canceled: called back later, not from inside zk_wait_cancel. */
    assert_int_equal(zk_wait_for(a.s, "/never", UP_OR_FAILED, 0, wait_cb, &o3, &handle), 0);
    assert_int_equal(zk_wait_cancel(handle), 0);
    assert_int_equal(o3.done, 0);
    run_until(&loop, &o3.done, 1, 5000);
    assert_int_equal(o3.status, UV_ECANCELED);

    /* Pending at close: UV_ECANCELED. */
    memset(&o3, 0, sizeof(o3));
    assert_int_equal(zk_wait_for(a.s, "/never", UP_OR_FAILED, 0, wait_cb, &o3, NULL), 0);
    run_for(&loop, 50);
    close_sess(&loop, &a);
    assert_int_equal(o3.done, 1);
    assert_int_equal(o3.status, UV_ECANCELED);
    close_sess(&loop, &w);
    finish_loop(&loop);
}

static void wait_survives_server_restart(void **state) {
    uv_loop_t loop;
    sess a, w;
    op o = {0};
    int64_t id;
    char port[32];
    uint64_t t0;

    uv_loop_init(&loop);
    connect_sess(&loop, &a, 30000);
    connect_sess(&loop, &w, 30000);
    id = zk_session_id(a.s);
    put(&loop, &w, "/restart", "wait");
    assert_int_equal(zk_wait_for(a.s, "/restart", UP_OR_FAILED, 60000, wait_cb, &o, NULL), 0);
    run_for(&loop, 200);

    t0 = uv_hrtime();
    assert_int_equal(server("stop", NULL, 0), 0);
    run_for(&loop, 3000);
    assert_int_equal(a.events[ZK_EVENT_DISCONNECTED], 1);
    assert_int_equal(o.done, 0);
    assert_int_equal(server("start", port, sizeof(port)), 0);
    printf("# server down for %.0f ms, back on port %s\n", ms_since(t0), port);
    assert_string_equal(port, strchr(g_hosts, ':') + 1);

    put(&loop, &w, "/restart", "up");
    run_until(&loop, &o.done, 1, 30000);
    printf("# wait completed %.0f ms after the server was stopped\n", ms_since(t0));
    assert_int_equal(o.status, 0);
    assert_string_equal(o.value, "up");
    assert_int_equal(a.events[ZK_EVENT_RECONNECTED], 1);
    assert_int_equal(a.events[ZK_EVENT_EXPIRED], 0);
    assert_true(zk_session_id(a.s) == id);

    close_sess(&loop, &a);
    close_sess(&loop, &w);
    finish_loop(&loop);
}

static void quiet(const char *line) {
}

/* Takes the session over with a second handle and closes it: the server
 * then ends the session, and the first handle learns it has expired. */
static void steal_and_close(zk_session *s) {
    int64_t id;
    clientid_t cid;
    zhandle_t *zh;
    int i;

    assert_int_equal(zk_session_identity(s, &id, cid.passwd), 0);
    cid.client_id = id;
    zh = zookeeper_init2(g_hosts, NULL, 30000, &cid, NULL, 0, quiet);
    assert_non_null(zh);
    /* It may not get the session (the server may answer "expired" while
     * the first handle holds it): the caller then tries again. */
    for (i = 0; i < 200 && zoo_state(zh) != ZOO_CONNECTED_STATE &&
                zoo_state(zh) != ZOO_EXPIRED_SESSION_STATE;
         i++)
        usleep(10000);
    zookeeper_close(zh);
}

typedef struct expiry {
    uv_loop_t *loop;
    sess *writer;
    op set_during;
    int wrote_during;
} expiry;

static void write_during_expiry(sess *x, enum zk_event ev) {
    expiry *e = x->user;
    if (ev != ZK_EVENT_EXPIRED || e->wrote_during)
        return;
    /* The reader has no session now: whatever is written here must still
     * be seen by its wait, by the re-read after re-arming. */
    e->wrote_during = 1;
    assert_int_equal(zk_set(e->writer->s, "/exp/during", "up", 2, op_done, &e->set_during), 0);
}

static void wait_survives_session_expiry(void **state) {
    uv_loop_t loop;
    sess a, w;
    op during = {0}, after = {0}, eph = {0};
    expiry e = {0};
    int64_t id;
    uint64_t t0;
    int i;

    uv_loop_init(&loop);
    connect_sess(&loop, &a, 10000);
    connect_sess(&loop, &w, 10000);
    e.loop = &loop;
    e.writer = &w;
    a.user = &e;
    a.on_event = write_during_expiry;
    id = zk_session_id(a.s);
    put(&loop, &w, "/exp/during", "wait");
    put(&loop, &w, "/exp/after", "wait");
    assert_int_equal(sync_create(&loop, &a, "/exp/eph", "mine", ZK_CREATE_EPHEMERAL), 0);
    assert_int_equal(zk_wait_for(a.s, "/exp/during", UP_OR_FAILED, 60000, wait_cb, &during, NULL),
                     0);
    assert_int_equal(zk_wait_for(a.s, "/exp/after", UP_OR_FAILED, 60000, wait_cb, &after, NULL), 0);
    run_for(&loop, 200);

    t0 = uv_hrtime();
    /* Both handles reconnect to the session in turn; if ours holds it when
     * the other closes, the session survives: then steal it again. */
    for (i = 0; i < 5 && a.events[ZK_EVENT_EXPIRED] == 0; i++) {
        steal_and_close(a.s);
        run_until_or_not(&loop, &a.events[ZK_EVENT_EXPIRED], 1, 5000);
    }
    printf("# expiry forced after %d take-over(s)\n", i);
    run_until(&loop, &a.events[ZK_EVENT_RENEWED], 1, 30000);
    printf("# session 0x%llx expired and was renewed as 0x%llx in %.0f ms\n",
           (unsigned long long)id, (unsigned long long)zk_session_id(a.s), ms_since(t0));
    assert_int_equal(a.events[ZK_EVENT_EXPIRED], 1);
    assert_true(zk_session_id(a.s) != id);
    assert_int_equal(e.wrote_during, 1);

    run_until(&loop, &during.done, 1, 10000);
    assert_int_equal(during.status, 0);
    assert_string_equal(during.value, "up");

    assert_int_equal(after.done, 0);
    put(&loop, &w, "/exp/after", "failed:gone");
    run_until(&loop, &after.done, 1, 10000);
    assert_int_equal(after.status, 0);
    assert_string_equal(after.value, "failed:gone");

    /* The ephemeral node was re-created by the new session. */
    assert_int_equal(zk_wait_for(w.s, "/exp/eph", (const char *const[]){"mine", NULL}, 10000,
                                 wait_cb, &eph, NULL),
                     0);
    run_until(&loop, &eph.done, 1, 15000);
    assert_int_equal(eph.status, 0);

    close_sess(&loop, &a);
    close_sess(&loop, &w);
    finish_loop(&loop);
}

/* ---- calls across a lost connection --------------------------------------------- */

static pid_t server_pid(void) {
    char path[300];
    long pid = 0;
    FILE *f;
    snprintf(path, sizeof(path), "%s/pid", g_dir);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%ld", &pid), 1);
    fclose(f);
    assert_true(pid > 1);
    return (pid_t)pid;
}

/* The calls in flight when the connection is lost, one of each kind. */
typedef struct inflight {
    op set, create, eph, del, get;
} inflight;

static void start_inflight(sess *a, const char *dir, inflight *f) {
    char p[5][64];
    memset(f, 0, sizeof(*f));
    snprintf(p[0], sizeof(p[0]), "%s/set", dir);
    snprintf(p[1], sizeof(p[1]), "%s/new/child", dir);
    snprintf(p[2], sizeof(p[2]), "%s/eph", dir);
    snprintf(p[3], sizeof(p[3]), "%s/del", dir);
    assert_int_equal(zk_set(a->s, p[0], "new", 3, op_done, &f->set), 0);
    assert_int_equal(zk_create(a->s, p[1], "made", 4, ZK_CREATE_PARENTS, op_done, &f->create), 0);
    assert_int_equal(zk_create(a->s, p[2], "mine", 4, ZK_CREATE_EPHEMERAL, op_done, &f->eph), 0);
    assert_int_equal(zk_delete(a->s, p[3], op_done, &f->del), 0);
    /* Made after the set: it reads what the set wrote. */
    assert_int_equal(zk_get(a->s, p[0], op_get, &f->get), 0);
}

static int inflight_done(const inflight *f) {
    return f->set.done + f->create.done + f->eph.done + f->del.done + f->get.done;
}

static void run_until_inflight_done(uv_loop_t *loop, inflight *f) {
    op *ops[] = {&f->set, &f->create, &f->eph, &f->del, &f->get};
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        run_until(loop, &ops[i]->done, 1, 30000);
}

static void check_inflight(uv_loop_t *loop, sess *w, const char *dir, const inflight *f) {
    char p[64];
    op o;
    assert_int_equal(f->set.status, 0);
    assert_int_equal(f->create.status, 0);
    assert_int_equal(f->eph.status, 0);
    assert_int_equal(f->del.status, 0);
    assert_int_equal(f->get.status, 0);
    assert_string_equal(f->get.value, "new");
    snprintf(p, sizeof(p), "%s/set", dir);
    assert_int_equal(sync_get(loop, w, p, &o), 0);
    assert_string_equal(o.value, "new");
    snprintf(p, sizeof(p), "%s/new/child", dir);
    assert_int_equal(sync_get(loop, w, p, &o), 0);
    assert_string_equal(o.value, "made");
    snprintf(p, sizeof(p), "%s/eph", dir);
    assert_int_equal(sync_get(loop, w, p, &o), 0);
    assert_string_equal(o.value, "mine");
    snprintf(p, sizeof(p), "%s/del", dir);
    assert_int_equal(sync_get(loop, w, p, &o), ZK_ENONODE);
}

static void prepare_inflight(uv_loop_t *loop, sess *w, const char *dir) {
    char p[64];
    snprintf(p, sizeof(p), "%s/set", dir);
    put(loop, w, p, "old");
    snprintf(p, sizeof(p), "%s/del", dir);
    put(loop, w, p, "doomed");
}

/* The server is killed with the calls unread in its socket, so none of
 * them landed: each must be sent again on the same session once the
 * server is back (it keeps its sessions across a restart). */
static void calls_in_flight_are_sent_again_after_a_lost_connection(void **state) {
    uv_loop_t loop;
    sess a, w;
    inflight f;
    pid_t pid;
    int64_t id;
    char port[32];

    uv_loop_init(&loop);
    connect_sess(&loop, &a, 30000);
    connect_sess(&loop, &w, 30000);
    id = zk_session_id(a.s);
    prepare_inflight(&loop, &w, "/loss");

    pid = server_pid();
    assert_int_equal(kill(pid, SIGSTOP), 0);
    start_inflight(&a, "/loss", &f);
    run_for(&loop, 300);
    assert_int_equal(kill(pid, SIGKILL), 0);
    run_until(&loop, &a.events[ZK_EVENT_DISCONNECTED], 1, 10000);
    /* Lost, and not failed: they wait for the connection. */
    run_for(&loop, 500);
    if (inflight_done(&f) != 0)
        printf("# ended while disconnected (status): set %d (%d), create %d (%d), eph %d (%d), "
               "del %d (%d), get %d (%d)\n",
               f.set.done, f.set.status, f.create.done, f.create.status, f.eph.done, f.eph.status,
               f.del.done, f.del.status, f.get.done, f.get.status);
    assert_int_equal(inflight_done(&f), 0);

    assert_int_equal(server("start", port, sizeof(port)), 0);
    assert_string_equal(port, strchr(g_hosts, ':') + 1);
    run_until_inflight_done(&loop, &f);
    assert_int_equal(inflight_done(&f), 5);
    assert_int_equal(a.events[ZK_EVENT_EXPIRED], 0);
    assert_true(zk_session_id(a.s) == id);
    check_inflight(&loop, &w, "/loss", &f);

    close_sess(&loop, &a);
    close_sess(&loop, &w);
    finish_loop(&loop);
}

typedef struct resume {
    pid_t pid;
    int resumed;
} resume;

static void resume_on_disconnect(sess *x, enum zk_event ev) {
    resume *r = x->user;
    if (ev == ZK_EVENT_DISCONNECTED && !r->resumed) {
        r->resumed = 1;
        kill(r->pid, SIGCONT);
    }
}

/* The server is stopped with the calls unread (as `docker pause` does), and
 * resumed once the client has given the connection up: the calls are sent
 * again on the same session. (Here the server drops what the old connection
 * sent; a_create_whose_answer_was_lost_finds_its_own_node covers calls that
 * landed.) */
static void calls_survive_a_server_paused_until_the_client_gives_up(void **state) {
    uv_loop_t loop;
    sess a, w;
    inflight f;
    resume r = {0};
    int64_t id;

    uv_loop_init(&loop);
    /* The client gives the connection up after 2/3 of it (8 s); the server
     * expires the session after all of it: room to come back. */
    connect_sess(&loop, &a, 12000);
    connect_sess(&loop, &w, 30000);
    id = zk_session_id(a.s);
    prepare_inflight(&loop, &w, "/lost");
    r.pid = server_pid();
    a.user = &r;
    a.on_event = resume_on_disconnect;

    assert_int_equal(kill(r.pid, SIGSTOP), 0);
    start_inflight(&a, "/lost", &f);
    run_until(&loop, &a.events[ZK_EVENT_DISCONNECTED], 1, 30000);
    assert_int_equal(r.resumed, 1);
    run_until_inflight_done(&loop, &f);
    assert_int_equal(inflight_done(&f), 5);
    assert_int_equal(a.events[ZK_EVENT_EXPIRED], 0);
    assert_true(zk_session_id(a.s) == id);
    check_inflight(&loop, &w, "/lost", &f);

    close_sess(&loop, &a);
    close_sess(&loop, &w);
    finish_loop(&loop);
}

/* A TCP proxy on the test's loop, between a session and the server, that
 * can swallow the server's answers or drop the client's requests, and cut
 * every connection: a call can then land while its answer is lost. */
enum { PROXY_PASS, PROXY_SWALLOW_ANSWERS, PROXY_DROP_REQUESTS };

typedef struct proxy proxy;
typedef struct pconn {
    proxy *p;
    struct pconn *next;
    uv_tcp_t client, server;
    uv_connect_t creq;
    int handles;
    int closing;
} pconn;

struct proxy {
    uv_loop_t *loop;
    uv_tcp_t listener;
    int port;
    int mode;
    pconn *conns;
    int open; /* handles not yet closed */
};

typedef struct pxwrite {
    uv_write_t w;
    char data[];
} pxwrite;

static void palloc(uv_handle_t *h, size_t hint, uv_buf_t *b) {
    b->base = malloc(65536);
    b->len = b->base ? 65536 : 0;
}

static void pconn_closed(uv_handle_t *h) {
    pconn *c = h->data;
    proxy *p = c->p;
    p->open--;
    if (--c->handles > 0)
        return;
    for (pconn **q = &p->conns; *q; q = &(*q)->next) {
        if (*q == c) {
            *q = c->next;
            break;
        }
    }
    free(c);
}

static void pconn_close(pconn *c) {
    if (c->closing)
        return;
    c->closing = 1;
    uv_close((uv_handle_t *)&c->client, pconn_closed);
    uv_close((uv_handle_t *)&c->server, pconn_closed);
}

static void pwritten(uv_write_t *w, int status) {
    free(w);
}

static void forward(pconn *c, uv_stream_t *to, const uv_buf_t *b, ssize_t n) {
    pxwrite *pw = malloc(sizeof(*pw) + (size_t)n);
    uv_buf_t out;
    assert_non_null(pw);
    memcpy(pw->data, b->base, (size_t)n);
    out = uv_buf_init(pw->data, (unsigned)n);
    if (uv_write(&pw->w, to, &out, 1, pwritten) != 0) {
        free(pw);
        pconn_close(c);
    }
}

static void pxread(uv_stream_t *from, ssize_t n, const uv_buf_t *b) {
    pconn *c = from->data;
    int from_client = from == (uv_stream_t *)&c->client;
    if (n < 0) {
        pconn_close(c);
    } else if (n > 0 && !c->closing) {
        if (from_client && c->p->mode != PROXY_DROP_REQUESTS)
            forward(c, (uv_stream_t *)&c->server, b, n);
        else if (!from_client && c->p->mode != PROXY_SWALLOW_ANSWERS)
            forward(c, (uv_stream_t *)&c->client, b, n);
    }
    free(b->base);
}

static void pconnected(uv_connect_t *r, int status) {
    pconn *c = r->data;
    if (status != 0 || c->closing) {
        pconn_close(c);
        return;
    }
    uv_read_start((uv_stream_t *)&c->client, palloc, pxread);
    uv_read_start((uv_stream_t *)&c->server, palloc, pxread);
}

static void paccept(uv_stream_t *l, int status) {
    proxy *p = l->data;
    pconn *c = calloc(1, sizeof(*c));
    struct sockaddr_in to;
    assert_non_null(c);
    c->p = p;
    c->client.data = c->server.data = c->creq.data = c;
    uv_tcp_init(p->loop, &c->client);
    uv_tcp_init(p->loop, &c->server);
    c->handles = 2;
    p->open += 2;
    c->next = p->conns;
    p->conns = c;
    if (status != 0 || uv_accept(l, (uv_stream_t *)&c->client) != 0) {
        pconn_close(c);
        return;
    }
    uv_ip4_addr("127.0.0.1", atoi(strchr(g_hosts, ':') + 1), &to);
    if (uv_tcp_connect(&c->creq, &c->server, (struct sockaddr *)&to, pconnected) != 0)
        pconn_close(c);
}

static void proxy_start(uv_loop_t *loop, proxy *p) {
    struct sockaddr_in a;
    int len = sizeof(a);
    memset(p, 0, sizeof(*p));
    p->loop = loop;
    uv_tcp_init(loop, &p->listener);
    p->listener.data = p;
    p->open = 1;
    uv_ip4_addr("127.0.0.1", 0, &a);
    assert_int_equal(uv_tcp_bind(&p->listener, (struct sockaddr *)&a, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&p->listener, 16, paccept), 0);
    assert_int_equal(uv_tcp_getsockname(&p->listener, (struct sockaddr *)&a, &len), 0);
    p->port = ntohs(a.sin_port);
}

/* Cuts every connection: the client finds its connection lost at once. */
static void proxy_cut(proxy *p) {
    for (pconn *c = p->conns; c; c = c->next)
        pconn_close(c);
}

static void proxy_listener_closed(uv_handle_t *h) {
    ((proxy *)h->data)->open--;
}

static void proxy_stop(proxy *p) {
    proxy_cut(p);
    uv_close((uv_handle_t *)&p->listener, proxy_listener_closed);
    while (p->open > 0)
        uv_run(p->loop, UV_RUN_ONCE);
}

/* The calls land while their answers are swallowed; the connection is then
 * cut, and each call, sent again, finds its own work done: a create its
 * node (ephemeral: owned by its session), a delete no node. A create whose
 * node another session made first still fails. */
static void a_create_whose_answer_was_lost_finds_its_own_node(void **state) {
    uv_loop_t loop;
    proxy px;
    sess a, w;
    op del = {0}, made = {0}, eph = {0}, seen = {0}, theirs = {0}, o;
    char hosts[64];
    int64_t id;

    uv_loop_init(&loop);
    proxy_start(&loop, &px);
    snprintf(hosts, sizeof(hosts), "127.0.0.1:%d", px.port);
    memset(&a, 0, sizeof(a));
    open_sess(&loop, &a, hosts, 30000);
    run_until(&loop, &a.connected, 1, 15000);
    assert_int_equal(a.connect_status, 0);
    id = zk_session_id(a.s);
    connect_sess(&loop, &w, 30000);
    put(&loop, &w, "/check/del", "doomed");

    px.mode = PROXY_SWALLOW_ANSWERS;
    assert_int_equal(zk_delete(a.s, "/check/del", op_done, &del), 0);
    assert_int_equal(zk_create(a.s, "/check/made", "made", 4, 0, op_done, &made), 0);
    assert_int_equal(zk_create(a.s, "/check/eph", "mine", 4, ZK_CREATE_EPHEMERAL, op_done, &eph),
                     0);
    /* A session's calls are applied in order: once the last is seen, all
     * three have landed. */
    assert_int_equal(zk_wait_for(w.s, "/check/eph", (const char *const[]){"mine", NULL}, 15000,
                                 wait_cb, &seen, NULL),
                     0);
    run_until(&loop, &seen.done, 1, 20000);
    assert_int_equal(seen.status, 0);
    assert_int_equal(del.done + made.done + eph.done, 0);
    px.mode = PROXY_PASS;
    proxy_cut(&px);
    run_until(&loop, &del.done, 1, 20000);
    run_until(&loop, &made.done, 1, 20000);
    run_until(&loop, &eph.done, 1, 20000);
    assert_int_equal(del.status, 0);
    assert_int_equal(made.status, 0);
    assert_int_equal(eph.status, 0);
    assert_int_equal(a.events[ZK_EVENT_DISCONNECTED], 1);
    assert_int_equal(a.events[ZK_EVENT_EXPIRED], 0);
    assert_true(zk_session_id(a.s) == id);
    assert_int_equal(sync_get(&loop, &w, "/check/made", &o), 0);
    assert_string_equal(o.value, "made");
    assert_int_equal(sync_get(&loop, &w, "/check/del", &o), ZK_ENONODE);

    /* The create never reaches the server; another session makes the node
     * with another value meanwhile: the create sent again is refused. */
    run_until(&loop, &a.events[ZK_EVENT_RECONNECTED], 1, 20000);
    px.mode = PROXY_DROP_REQUESTS;
    assert_int_equal(zk_create(a.s, "/check/theirs", "ours", 4, 0, op_done, &theirs), 0);
    run_for(&loop, 200);
    assert_int_equal(sync_create(&loop, &w, "/check/theirs", "theirs", 0), 0);
    px.mode = PROXY_PASS;
    proxy_cut(&px);
    run_until(&loop, &theirs.done, 1, 20000);
    assert_int_equal(theirs.status, ZK_ENODEEXISTS);

    close_sess(&loop, &a);
    close_sess(&loop, &w);
    proxy_stop(&px);
    finish_loop(&loop);
}

/* Before each test that stops the server: it runs, and is not stopped (a
 * failed test before may have left it so). */
static int server_running(void **state) {
    char port[32], path[64], st[512];
    pid_t pid = server_pid();
    FILE *f;
    int alive = 0;
    /* A killed server may linger as a zombie: look at its state. */
    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    if ((f = fopen(path, "r")) != NULL) {
        if (fgets(st, sizeof(st), f) != NULL && strrchr(st, ')') != NULL)
            alive = strrchr(st, ')')[2] != 'Z' && strrchr(st, ')')[2] != 'X';
        fclose(f);
    }
    if (alive) {
        kill(pid, SIGCONT);
        return 0;
    }
    return server("start", port, sizeof(port)) == 0 ? 0 : -1;
}

/* The server stays stopped for longer than the session timeout: the client
 * takes the session as expired, fails what was pending with that reason,
 * keeps its waits, and makes a new session once the server answers. */
static void an_unreachable_server_expires_the_session(void **state) {
    uv_loop_t loop;
    sess a, w;
    op set = {0}, wt = {0};
    pid_t pid;
    int64_t id;
    char want[256];

    uv_loop_init(&loop);
    connect_sess(&loop, &a, 3000);
    connect_sess(&loop, &w, 30000);
    id = zk_session_id(a.s);
    put(&loop, &w, "/unreach/x", "wait");
    assert_int_equal(zk_wait_for(a.s, "/unreach/x", UP_OR_FAILED, 0, wait_cb, &wt, NULL), 0);
    run_for(&loop, 200);

    pid = server_pid();
    assert_int_equal(kill(pid, SIGSTOP), 0);
    assert_int_equal(zk_set(a.s, "/unreach/x", "up", 2, op_done, &set), 0);
    run_until_or_not(&loop, &a.events[ZK_EVENT_EXPIRED], 1, 30000);
    kill(pid, SIGCONT);
    assert_int_equal(a.events[ZK_EVENT_EXPIRED], 1);
    printf("# %s\n", zk_session_error(a.s));
    assert_int_equal(set.done, 1);
    assert_int_equal(set.status, ZK_EEXPIRED);
    snprintf(want, sizeof(want),
             "ZooKeeper session 0x%llx at %s expired: ZooKeeper was unreachable for longer than "
             "the 3 s session timeout",
             (unsigned long long)id, g_hosts);
    assert_string_equal(zk_session_error(a.s), want);
    assert_int_equal(wt.done, 0);

    run_until(&loop, &a.events[ZK_EVENT_RENEWED], 1, 30000);
    assert_true(zk_session_id(a.s) != id);
    assert_int_equal(sync_set(&loop, &a, "/unreach/x", "up"), 0);
    run_until(&loop, &wt.done, 1, 10000);
    assert_int_equal(wt.status, 0);
    assert_string_equal(wt.value, "up");

    close_sess(&loop, &a);
    close_sess(&loop, &w);
    finish_loop(&loop);
}

static void fifty_sessions_on_one_loop(void **state) {
    enum { N = 50 };
    uv_loop_t loop;
    static sess ss[N];
    static op waits[N];
    sess w;
    int i, connected = 0, done = 0, closed = 0;
    char path[64];
    uint64_t t0;

    uv_loop_init(&loop);
    connect_sess(&loop, &w, 10000);
    t0 = uv_hrtime();
    for (i = 0; i < N; i++) {
        memset(&ss[i], 0, sizeof(ss[i]));
        open_sess(&loop, &ss[i], g_hosts, 10000);
    }
    for (;;) {
        connected = 0;
        for (i = 0; i < N; i++)
            connected += ss[i].connected;
        if (connected == N)
            break;
        run_for(&loop, 10);
        assert_true(ms_since(t0) < 60000);
    }
    printf("# %d sessions connected in %.0f ms\n", N, ms_since(t0));
    for (i = 0; i < N; i++) {
        assert_int_equal(ss[i].connect_status, 0);
        memset(&waits[i], 0, sizeof(waits[i]));
        snprintf(path, sizeof(path), "/many/s%d", i);
        assert_int_equal(zk_wait_for(ss[i].s, path, UP_OR_FAILED, 60000, wait_cb, &waits[i], NULL),
                         0);
    }
    run_for(&loop, 200);
    t0 = uv_hrtime();
    for (i = 0; i < N; i++) {
        snprintf(path, sizeof(path), "/many/s%d", i);
        put(&loop, &w, path, i % 2 ? "up" : "failed:odd one out");
    }
    for (;;) {
        done = 0;
        for (i = 0; i < N; i++)
            done += waits[i].done;
        if (done == N)
            break;
        run_for(&loop, 10);
        assert_true(ms_since(t0) < 60000);
    }
    printf("# %d waits completed %.0f ms after the first write\n", N, ms_since(t0));
    for (i = 0; i < N; i++) {
        assert_int_equal(waits[i].status, 0);
        assert_string_equal(waits[i].value, i % 2 ? "up" : "failed:odd one out");
    }
    t0 = uv_hrtime();
    for (i = 0; i < N; i++)
        assert_int_equal(zk_close(ss[i].s, on_closed, &ss[i]), 0);
    for (;;) {
        closed = 0;
        for (i = 0; i < N; i++)
            closed += ss[i].closed;
        if (closed == N)
            break;
        run_for(&loop, 10);
        assert_true(ms_since(t0) < 120000);
    }
    printf("# %d sessions closed in %.0f ms\n", N, ms_since(t0));
    close_sess(&loop, &w);
    finish_loop(&loop);
}

static int closed_port(void) {
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void unreachable_server_fails_within_deadline(void **state) {
    uv_loop_t loop;
    sess a = {0};
    char hosts[64], want[128];
    zk_options o = {hosts, 10000, 2000, on_event, &a};
    op g = {0}, wt = {0};
    uint64_t t0;
    double took;

    uv_loop_init(&loop);
    snprintf(hosts, sizeof(hosts), "127.0.0.1:%d", closed_port());
    uv_update_time(&loop);
    t0 = uv_hrtime();
    assert_int_equal(zk_connect(&loop, &o, &a.s, on_connect, &a), 0);
    assert_int_equal(zk_wait_for(a.s, "/x", UP_OR_FAILED, 0, wait_cb, &wt, NULL), 0);
    assert_int_equal(a.connected, 0);
    run_until(&loop, &a.connected, 1, 20000);
    took = ms_since(t0);
    printf("# unreachable %s: \"%s\" after %.0f ms (deadline 2000 ms)\n", hosts,
           zk_session_error(a.s), took);
    assert_int_equal(a.connect_status, UV_ETIMEDOUT);
    snprintf(want, sizeof(want), "ZooKeeper at %s did not answer within 2 s", hosts);
    assert_string_equal(zk_session_error(a.s), want);
    assert_true(took >= 1999.0);
    /* The wait given before the connection failed ends with it. */
    run_until(&loop, &wt.done, 1, 5000);
    assert_int_equal(wt.status, UV_ENOTCONN);
    /* The session is dead; calls say so at once. */
    assert_int_equal(zk_get(a.s, "/x", op_get, &g), UV_ENOTCONN);
    close_sess(&loop, &a);
    finish_loop(&loop);
}

static void unresolvable_host_gives_an_error(void **state) {
    uv_loop_t loop;
    sess a = {0};
    zk_options o = {"no-such-host.invalid:2181", 10000, 3000, NULL, NULL};

    uv_loop_init(&loop);
    assert_int_equal(zk_connect(&loop, &o, &a.s, on_connect, &a), 0);
    run_until(&loop, &a.connected, 1, 20000);
    printf("# unresolvable host: status %s, \"%s\"\n", hdc_strerror(a.connect_status),
           zk_session_error(a.s));
    assert_int_equal(a.connect_status, UV_EAI_NONAME);
    assert_string_equal(zk_session_error(a.s),
                        "cannot resolve the ZooKeeper hosts no-such-host.invalid:2181");
    close_sess(&loop, &a);
    finish_loop(&loop);
}

static void close_before_connected_cancels_connect(void **state) {
    uv_loop_t loop;
    sess a = {0};
    zk_options o = {g_hosts, 10000, 5000, NULL, NULL};

    uv_loop_init(&loop);
    assert_int_equal(zk_connect(&loop, &o, &a.s, on_connect, &a), 0);
    assert_int_equal(zk_close(a.s, on_closed, &a), 0);
    assert_int_equal(a.connected, 0);
    assert_int_equal(a.closed, 0);
    run_until(&loop, &a.closed, 1, 15000);
    assert_int_equal(a.connected, 1);
    assert_int_equal(a.connect_status, UV_ECANCELED);
    finish_loop(&loop);
}

/* ---- sanitizers ------------------------------------------------------------------ */

/* About one run in ten of the expiry test, libzookeeper-mt 3.8.0 loses one
 * completion entry of a zoo_awexists issued just as the session expires:
 * the entry, with its reply buffer and watcher registration, is never
 * processed nor freed by the library (our request is completed by zk.c when
 * the handle closes). That leak is the library's own: suppress it, and only
 * it, by the library function that allocated it. Our allocations never run
 * inside zoo_awexists (completions are never synchronous), so this hides
 * nothing of ours. The slow unwinder is needed to see through the library,
 * which is built without frame pointers. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
    return "leak:zoo_awexists\n";
}
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
    return "fast_unwind_on_malloc=0";
}

/* ---- setup ---------------------------------------------------------------------- */

static int start_server(void **state) {
    const char *src = getenv("HDC_SOURCE_DIR");
    char port[32];
    if (src == NULL)
        src = HDC_SOURCE_DIR;
    snprintf(g_script, sizeof(g_script), "%s/tests/integration/zk-server.sh", src);
    snprintf(g_dir, sizeof(g_dir), "/tmp/hdc-zk-test-XXXXXX");
    if (mkdtemp(g_dir) == NULL)
        return -1;
    if (server("start", port, sizeof(port)) != 0 || port[0] == '\0') {
        fprintf(stderr, "could not start ZooKeeper with %s\n", g_script);
        return -1;
    }
    snprintf(g_hosts, sizeof(g_hosts), "127.0.0.1:%s", port);
    printf("# ZooKeeper at %s, data in %s\n", g_hosts, g_dir);
    return 0;
}

static int stop_server(void **state) {
    char cmd[512];
    server("stop", NULL, 0);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(basic_calls_work),
        cmocka_unit_test(watch_fires_after_write),
        cmocka_unit_test(wait_for_sees_value_and_times_out_at_deadline),
        cmocka_unit_test(wait_survives_server_restart),
        cmocka_unit_test(wait_survives_session_expiry),
        cmocka_unit_test_setup(calls_in_flight_are_sent_again_after_a_lost_connection,
                               server_running),
        cmocka_unit_test_setup(calls_survive_a_server_paused_until_the_client_gives_up,
                               server_running),
        cmocka_unit_test_setup(a_create_whose_answer_was_lost_finds_its_own_node, server_running),
        cmocka_unit_test_setup(an_unreachable_server_expires_the_session, server_running),
        cmocka_unit_test(fifty_sessions_on_one_loop),
        cmocka_unit_test(unreachable_server_fails_within_deadline),
        cmocka_unit_test(unresolvable_host_gives_an_error),
        cmocka_unit_test(close_before_connected_cancels_connect),
    };
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (getenv("ZK_TEST_FILTER") != NULL) /* e.g. "*expiry*" */
        cmocka_set_test_filter(getenv("ZK_TEST_FILTER"));
    return cmocka_run_group_tests(tests, start_server, stop_server);
}
