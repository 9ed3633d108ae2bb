/* Two containers that find each other by hostname, driven through
 * engine/docker.c against the real dockerd:
 *
 *  - ping and version answer (API 1.41);
 *  - builds a FROM-scratch image around a `gcc -static` program
 *    (tests/integration/docker/peer.c) with docker_build, checking the
 *    streamed progress, then image inspect (ID and label);
 *  - creates a network with an explicit subnet (another one on overlap),
 *    sees the same subnet again refused as DOCKER_EOVERLAP, and inspect
 *    give the subnet and gateway back;
 *  - runs "alpha" and "beta" with static addresses, hostnames and
 *    ExtraHosts for each other; each connects to the other by name and
 *    they exchange a line; list by label finds both; inspect gives state,
 *    address, hostname and the port published on 127.0.0.1;
 *  - follows both containers' logs and sees those lines on the right
 *    streams; cancels one log stream, the other ends at the container's end;
 *  - execs the program in alpha with stdin, and gets its output on both
 *    streams and its exit code, 3;
 *  - stops alpha (wait gives 0) and kills beta; sees start and die events
 *    (exit codes 0 and 137) through an events stream filtered by the
 *    test's label;
 *  - removes everything, and (second test) finds nothing left carrying the
 *    test's unique label hdc.test=<pid>-<time>.
 * Cleanup by label also runs at teardown, so a failure leaves nothing.
 * Without an engine the test fails, saying so. */
#define _GNU_SOURCE /* asprintf */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <uv.h>

#include "demux.h"
#include "docker.h"

/* Not a timing assertion: only a guard so a broken engine fails the test
 * instead of hanging it. */
#define GUARD_MS (180 * 1000)

static uv_loop_t loop;
static docker *dk;
static char uniq[64];  /* <pid>-<time> */
static char label[96]; /* hdc.test=<uniq> */
static char tag[128];  /* hdc-test-peer:<uniq> */
static char net_name[128];
static char names[2][128]; /* alpha's and beta's container names */
static const char *hosts[2] = {"alpha", "beta"};
static char ips[2][32];
static char tmpdir[256];
static time_t t_start;
static int scenario_passed;

/* ---- running the loop until something happened ---- */

static int guard_fired;

static void on_guard(uv_timer_t *t) {
    guard_fired = 1;
}

static void run_until(const int *flag, const char *what) {
    uv_timer_t guard;

    guard_fired = 0;
    uv_timer_init(&loop, &guard);
    uv_timer_start(&guard, on_guard, GUARD_MS, 0);
    while (!*flag && !guard_fired)
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    if (!*flag)
        fail_msg("no answer from Docker within %d s while waiting for %s", GUARD_MS / 1000, what);
}

/* One call's outcome. */
typedef struct res {
    int done;
    int status;
    int code;
    char msg[1024];
    char id[256];
    size_t n;
} res;

static void res_set(res *r, int status, const char *msg) {
    r->done = 1;
    r->status = status;
    snprintf(r->msg, sizeof(r->msg), "%s", msg ? msg : "");
}

static void on_plain(void *data, int status, const char *msg) {
    res_set(data, status, msg);
}

static void on_id(void *data, int status, const char *msg, const char *id) {
    res *r = data;
    snprintf(r->id, sizeof(r->id), "%s", id ? id : "");
    res_set(r, status, msg);
}

static void on_code(void *data, int status, const char *msg, int code) {
    res *r = data;
    r->code = code;
    res_set(r, status, msg);
}

static void on_ping(void *data, int status, const char *msg, const char *api_version) {
    res *r = data;
    snprintf(r->id, sizeof(r->id), "%s", api_version ? api_version : "");
    res_set(r, status, msg);
}

typedef struct image_seen {
    res r;
    char label[128];
} image_seen;

static void on_image(void *data, int status, const char *msg, const docker_image_info *info) {
    image_seen *x = data;
    if (info) {
        const char *v = json_string_value(json_object_get(info->labels, "hdc.test"));
        snprintf(x->r.id, sizeof(x->r.id), "%s", info->id);
        snprintf(x->label, sizeof(x->label), "%s", v ? v : "");
    }
    res_set(&x->r, status, msg);
}

typedef struct network_seen {
    res r;
    char subnet[64], gateway[64];
} network_seen;

static void on_network(void *data, int status, const char *msg, const docker_network_info *info) {
    network_seen *x = data;
    if (info) {
        snprintf(x->subnet, sizeof(x->subnet), "%s", info->subnet);
        snprintf(x->gateway, sizeof(x->gateway), "%s", info->gateway);
    }
    res_set(&x->r, status, msg);
}

static void on_version(void *data, int status, const char *msg, const docker_version *v) {
    res *r = data;
    if (v)
        snprintf(r->id, sizeof(r->id), "%s (API %s)", v->version, v->api_version);
    res_set(r, status, msg);
}

/* Asserts a call's outcome was success, naming the step. */
#define EXPECT_OK(r, step)                                                           \
    do {                                                                             \
        if ((r).status != 0)                                                         \
            fail_msg("%s failed: %s (%s)", step, (r).msg, hdc_strerror((r).status)); \
    } while (0)

/* ---- output collected from streams ---- */

typedef struct text {
    char *buf;
    size_t len;
} text;

static void text_add(text *t, const char *p, size_t n) {
    char *b = realloc(t->buf, t->len + n + 1);
    if (!b)
        abort();
    memcpy(b + t->len, p, n);
    t->buf = b;
    t->len += n;
    b[t->len] = '\0';
}

static const char *text_str(const text *t) {
    return t->buf ? t->buf : "";
}

typedef struct logs {
    text out, err;
    res end;
    docker_call *stream;
    int want_seen; /* every expected line is there */
    int idx;
} logs;

static logs lg[2];

static void check_logs(logs *l) {
    char a[128], b[128], c[128];
    int me = l->idx, peer = 1 - l->idx;

    snprintf(a, sizeof(a), "%s got: pong from %s\n", hosts[me], hosts[peer]);
    snprintf(b, sizeof(b), "%s served: ping from %s\n", hosts[me], hosts[peer]);
    snprintf(c, sizeof(c), "%s ready\n", hosts[me]);
    l->want_seen = strstr(text_str(&l->out), a) && strstr(text_str(&l->out), b) &&
                   strstr(text_str(&l->err), c);
}

static void on_log_output(void *data, int stream, const char *buf, size_t len) {
    logs *l = data;
    text_add(stream == DEMUX_STDERR ? &l->err : &l->out, buf, len);
    check_logs(l);
}

static void on_log_end(void *data, int status, const char *msg) {
    logs *l = data;
    res_set(&l->end, status, msg);
}

/* ---- events ---- */

typedef struct events {
    int start[2], die[2];
    int all_seen;
    char die_exit[2][16];
    res end;
    docker_call *stream;
} events;

static events ev;

static void on_events_end(void *data, int status, const char *msg) {
    events *x = data;
    res_set(&x->end, status, msg);
}

static void on_event(void *data, const json_t *e) {
    events *x = data;
    const char *action = json_string_value(json_object_get(e, "Action"));
    const json_t *attrs = json_object_get(json_object_get(e, "Actor"), "Attributes");
    const char *name = json_string_value(json_object_get(attrs, "name"));
    const char *lab = json_string_value(json_object_get(attrs, "hdc.test"));

    if (!action || !name || !lab || strcmp(lab, uniq) != 0)
        return;
    for (int i = 0; i < 2; i++) {
        if (strcmp(name, names[i]) != 0)
            continue;
        if (strcmp(action, "start") == 0)
            x->start[i]++;
        if (strcmp(action, "die") == 0) {
            const char *code = json_string_value(json_object_get(attrs, "exitCode"));
            x->die[i]++;
            snprintf(x->die_exit[i], sizeof(x->die_exit[i]), "%s", code ? code : "?");
        }
    }
    x->all_seen = x->start[0] && x->start[1] && x->die[0] && x->die[1];
}

/* ---- build progress ---- */

typedef struct build {
    res r; /* first: on_id sees a build as a res */
    size_t lines;
    text stream;
    char aux_id[128];
} build;

static void on_progress(void *data, const docker_build_progress *p) {
    build *b = data;
    b->lines++;
    if (p->stream)
        text_add(&b->stream, p->stream, strlen(p->stream));
    if (p->aux_id)
        snprintf(b->aux_id, sizeof(b->aux_id), "%s", p->aux_id);
}

/* ---- exec ---- */

typedef struct execout {
    res r; /* first: on_code sees an execout as a res */
    text out, err;
} execout;

static void on_exec_output(void *data, int stream, const char *buf, size_t len) {
    execout *x = data;
    text_add(stream == DEMUX_STDERR ? &x->err : &x->out, buf, len);
}

/* ---- container info ---- */

typedef struct inspect {
    res r;
    int running;
    char ip[64], hostname[64];
    uint16_t host_port;
} inspect;

static void on_inspect(void *data, int status, const char *msg, const docker_container_info *info) {
    inspect *x = data;
    if (info) {
        x->running = info->running;
        snprintf(x->ip, sizeof(x->ip), "%s", info->ip_address);
        snprintf(x->hostname, sizeof(x->hostname), "%s", info->hostname);
        x->host_port = docker_container_host_port(info, 7000, "tcp");
    }
    res_set(&x->r, status, msg);
}

/* ---- lists and cleanup ---- */

typedef struct listing {
    res r;
    char ids[64][128];
    char names[64][128];
    size_t n;
} listing;

static void on_list(void *data, int status, const char *msg, const docker_object *objs, size_t n) {
    listing *l = data;
    l->n = 0;
    for (size_t i = 0; i < n && i < 64; i++) {
        snprintf(l->ids[i], sizeof(l->ids[i]), "%s", objs[i].id);
        snprintf(l->names[i], sizeof(l->names[i]), "%s", objs[i].name);
        l->n++;
    }
    l->r.n = n;
    res_set(&l->r, status, msg);
}

typedef int (*list_fn)(docker *, const char *, docker_list_cb, void *, docker_call **);

static int list_labelled(list_fn fn, listing *l, const char *what) {
    memset(l, 0, sizeof(*l));
    if (fn(dk, label, on_list, l, NULL) != 0)
        return -1;
    run_until(&l->r.done, what);
    return l->r.status;
}

/* Removes whatever carries the test's label: containers, then networks,
 * then images. Returns how many removals failed. */
static int cleanup_by_label(void) {
    listing l;
    int failed = 0;

    if (!dk)
        return 0;
    if (list_labelled(docker_container_list, &l, "container list") == 0) {
        for (size_t i = 0; i < l.n; i++) {
            res r = {0};
            if (docker_container_remove(dk, l.ids[i], 1, 1, on_plain, &r, NULL) == 0) {
                run_until(&r.done, "container remove");
                if (r.status && r.status != DOCKER_ENOTFOUND) {
                    fprintf(stderr, "cleanup: container %s: %s\n", l.names[i], r.msg);
                    failed++;
                }
            }
        }
    }
    if (list_labelled(docker_network_list, &l, "network list") == 0) {
        for (size_t i = 0; i < l.n; i++) {
            res r = {0};
            if (docker_network_remove(dk, l.ids[i], on_plain, &r, NULL) == 0) {
                run_until(&r.done, "network remove");
                if (r.status && r.status != DOCKER_ENOTFOUND) {
                    fprintf(stderr, "cleanup: network %s: %s\n", l.names[i], r.msg);
                    failed++;
                }
            }
        }
    }
    if (list_labelled(docker_image_list, &l, "image list") == 0) {
        for (size_t i = 0; i < l.n; i++) {
            res r = {0};
            if (docker_image_remove(dk, l.ids[i], 1, on_plain, &r, NULL) == 0) {
                run_until(&r.done, "image remove");
                if (r.status && r.status != DOCKER_ENOTFOUND) {
                    fprintf(stderr, "cleanup: image %s: %s\n", l.ids[i], r.msg);
                    failed++;
                }
            }
        }
    }
    return failed;
}

/* ---- set-up ---- */

static int group_setup(void **state) {
    char *addr = getenv("DOCKER_HOST");

    t_start = time(NULL);
    snprintf(uniq, sizeof(uniq), "%d-%lld", (int)getpid(), (long long)t_start);
    snprintf(label, sizeof(label), "hdc.test=%s", uniq);
    snprintf(tag, sizeof(tag), "hdc-test-peer:%s", uniq);
    snprintf(net_name, sizeof(net_name), "hdc-test-%s", uniq);
    for (int i = 0; i < 2; i++)
        snprintf(names[i], sizeof(names[i]), "hdc-test-%s-%s", uniq, hosts[i]);
    if (uv_loop_init(&loop) != 0)
        return -1;
    if (docker_new(&loop, NULL, &dk) != 0) {
        fprintf(stderr, "cannot use DOCKER_HOST=%s\n", addr ? addr : "");
        return -1;
    }
    return 0;
}

static int group_teardown(void **state) {
    char cmd[512];

    for (int i = 0; i < 2; i++)
        if (lg[i].stream && !lg[i].end.done)
            docker_call_cancel(lg[i].stream);
    if (ev.stream && !ev.end.done)
        docker_call_cancel(ev.stream);
    cleanup_by_label();
    docker_close(dk, NULL, NULL);
    dk = NULL;
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    if (tmpdir[0]) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
    for (int i = 0; i < 2; i++) {
        free(lg[i].out.buf);
        free(lg[i].err.buf);
    }
    return 0;
}

/* Builds peer.c statically into dir/ctx/peer, with a Dockerfile next to it. */
static void make_context(char *ctx, size_t len) {
    char cmd[2048], *path;
    FILE *f;

    snprintf(tmpdir, sizeof(tmpdir), "%s/hdc-docker-test-XXXXXX",
             getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir))
        fail_msg("mkdtemp %s failed", tmpdir);
    snprintf(ctx, len, "%s/ctx", tmpdir);
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && gcc -static -O1 -o '%s/peer' '%s'", ctx, ctx,
             HDC_SOURCE_DIR "/tests/integration/docker/peer.c");
    if (system(cmd) != 0)
        fail_msg("could not compile the test program with gcc -static: %s", cmd);
    if (asprintf(&path, "%s/Dockerfile", ctx) < 0)
        fail_msg("out of memory");
    f = fopen(path, "w");
    if (!f)
        fail_msg("cannot write %s", path);
    fputs("FROM scratch\nCOPY peer /peer\nENTRYPOINT [\"/peer\"]\n", f);
    fclose(f);
    free(path);
}

/* ---- the scenario ---- */

static void test_two_containers_reach_each_other_by_hostname(void **state) {
    char ctx[512];
    res r;
    static build b;
    static execout ex;
    res wait_alpha;
    int octet, rc;

    /* 0. An engine answers. */
    memset(&r, 0, sizeof(r));
    assert_int_equal(docker_version_get(dk, on_version, &r, NULL), 0);
    run_until(&r.done, "version");
    if (r.status != 0)
        fail_msg("Docker is needed for this test: %s", r.msg);
    printf("engine at %s: %s\n", docker_address(dk), r.id);
    memset(&r, 0, sizeof(r));
    assert_int_equal(docker_ping(dk, on_ping, &r, NULL), 0);
    run_until(&r.done, "ping");
    EXPECT_OK(r, "ping");
    assert_string_equal(r.id, "1.41");

    /* 1. The image, from a static program, its progress streamed. */
    make_context(ctx, sizeof(ctx));
    {
        docker_kv labels[] = {{"hdc.test", uniq}};
        docker_build_opts bo = {.context_dir = ctx, .tag = tag, .labels = labels, .n_labels = 1};
        memset(&b, 0, sizeof(b));
        assert_int_equal(docker_build(dk, &bo, on_progress, on_id, &b, NULL), 0);
        assert_false(b.r.done); /* never from inside the call */
        run_until(&b.r.done, "build");
    }
    EXPECT_OK(b.r, "build");
    printf("build: %zu progress lines, image %s\n", b.lines, b.r.id);
    assert_true(b.lines >= 4);
    if (!strstr(text_str(&b.stream), "Step 1/") || !strstr(text_str(&b.stream), " : FROM scratch"))
        fail_msg("unexpected build output:\n%s", text_str(&b.stream));
    assert_non_null(strstr(text_str(&b.stream), "COPY peer /peer"));
    assert_true(strncmp(b.r.id, "sha256:", 7) == 0);
    assert_string_equal(b.r.id, b.aux_id);
    free(b.stream.buf);
    {
        image_seen im;
        memset(&im, 0, sizeof(im));
        assert_int_equal(docker_image_inspect(dk, tag, on_image, &im, NULL), 0);
        run_until(&im.r.done, "image inspect");
        EXPECT_OK(im.r, "image inspect");
        assert_string_equal(im.r.id, b.r.id);
        assert_string_equal(im.label, uniq);
    }

    /* 2. A network with an explicit subnet; another one on overlap. */
    octet = (int)(getpid() % 200);
    for (int attempt = 0;; attempt++) {
        char subnet[32], gw[32];
        docker_kv labels[] = {{"hdc.test", uniq}};
        docker_network_opts no = {
            .name = net_name, .subnet = subnet, .gateway = gw, .labels = labels, .n_labels = 1};
        int o = (octet + attempt * 37) % 250;
        snprintf(subnet, sizeof(subnet), "172.29.%d.0/24", o);
        snprintf(gw, sizeof(gw), "172.29.%d.1", o);
        snprintf(ips[0], sizeof(ips[0]), "172.29.%d.10", o);
        snprintf(ips[1], sizeof(ips[1]), "172.29.%d.11", o);
        memset(&r, 0, sizeof(r));
        assert_int_equal(docker_network_create(dk, &no, on_id, &r, NULL), 0);
        run_until(&r.done, "network create");
        if (r.status == DOCKER_EOVERLAP && attempt < 20) {
            printf("network: %s overlaps (%s), trying another\n", subnet, r.msg);
            continue;
        }
        EXPECT_OK(r, "network create");
        printf("network %s: %s\n", net_name, subnet);
        {
            /* The same subnet again: reported as an overlap, distinctly. */
            char dup[160];
            docker_network_opts again = no;
            snprintf(dup, sizeof(dup), "%s-dup", net_name);
            again.name = dup;
            memset(&r, 0, sizeof(r));
            assert_int_equal(docker_network_create(dk, &again, on_id, &r, NULL), 0);
            run_until(&r.done, "network create (overlapping)");
            if (r.status != DOCKER_EOVERLAP)
                fail_msg("an overlapping subnet gave %d (%s), not DOCKER_EOVERLAP", r.status,
                         r.msg);
        }
        {
            network_seen ns;
            memset(&ns, 0, sizeof(ns));
            assert_int_equal(docker_network_inspect(dk, net_name, on_network, &ns, NULL), 0);
            run_until(&ns.r.done, "network inspect");
            EXPECT_OK(ns.r, "network inspect");
            assert_string_equal(ns.subnet, subnet);
            assert_string_equal(ns.gateway, gw);
        }
        break;
    }

    /* 3. Events from now on, filtered by the test's label. `since` makes
     * the engine replay anything that happens before the stream is set up. */
    {
        const char *types[] = {"container"};
        const char *labels[] = {label};
        const char *actions[] = {"start", "die"};
        docker_events_opts eo = {.types = types,
                                 .n_types = 1,
                                 .labels = labels,
                                 .n_labels = 1,
                                 .events = actions,
                                 .n_events = 2,
                                 .since = (int64_t)t_start - 1};
        memset(&ev, 0, sizeof(ev));
        assert_int_equal(docker_events(dk, &eo, on_event, on_events_end, &ev, &ev.stream), 0);
    }

    /* 4. Two containers with static addresses, hostnames and each other in
     * /etc/hosts; alpha publishes its port on 127.0.0.1. */
    for (int i = 0; i < 2; i++) {
        char extra[64];
        const char *extra_hosts[] = {extra};
        const char *cmd[] = {"serve", hosts[i], hosts[1 - i]};
        const char *aliases[] = {hosts[i]};
        docker_kv labels[] = {{"hdc.test", uniq}};
        docker_port ports[] = {{7000, "tcp", 0}};
        docker_container_opts co = {
            .name = names[i],
            .image = tag,
            .hostname = hosts[i],
            .labels = labels,
            .n_labels = 1,
            .cmd = cmd,
            .n_cmd = 3,
            .network = net_name,
            .ipv4 = ips[i],
            .aliases = aliases,
            .n_aliases = 1,
            .extra_hosts = extra_hosts,
            .n_extra_hosts = 1,
            .ports = ports,
            .n_ports = i == 0 ? 1 : 0,
        };
        snprintf(extra, sizeof(extra), "%s:%s", hosts[1 - i], ips[1 - i]);
        memset(&r, 0, sizeof(r));
        assert_int_equal(docker_container_create(dk, &co, on_id, &r, NULL), 0);
        run_until(&r.done, "container create");
        EXPECT_OK(r, "container create");
    }
    for (int i = 0; i < 2; i++) {
        memset(&r, 0, sizeof(r));
        assert_int_equal(docker_container_start(dk, names[i], on_plain, &r, NULL), 0);
        run_until(&r.done, "container start");
        EXPECT_OK(r, "container start");
    }
    {
        listing l;
        assert_int_equal(list_labelled(docker_container_list, &l, "container list"), 0);
        assert_int_equal(l.n, 2);
        assert_true((strcmp(l.names[0], names[0]) == 0 && strcmp(l.names[1], names[1]) == 0) ||
                    (strcmp(l.names[0], names[1]) == 0 && strcmp(l.names[1], names[0]) == 0));
    }
    memset(&wait_alpha, 0, sizeof(wait_alpha));
    assert_int_equal(docker_container_wait(dk, names[0], on_code, &wait_alpha, NULL), 0);

    /* 5. What inspect says. */
    for (int i = 0; i < 2; i++) {
        inspect x;
        memset(&x, 0, sizeof(x));
        assert_int_equal(docker_container_inspect(dk, names[i], on_inspect, &x, NULL), 0);
        run_until(&x.r.done, "container inspect");
        EXPECT_OK(x.r, "container inspect");
        assert_true(x.running);
        assert_string_equal(x.ip, ips[i]);
        assert_string_equal(x.hostname, hosts[i]);
        if (i == 0)
            assert_true(x.host_port > 0);
        else
            assert_int_equal(x.host_port, 0);
    }

    /* 6. Both logs, followed: each side served the other and got its reply. */
    for (int i = 0; i < 2; i++) {
        docker_logs_opts lo = {.follow = 1};
        memset(&lg[i], 0, sizeof(lg[i]));
        lg[i].idx = i;
        assert_int_equal(
            docker_logs(dk, names[i], &lo, on_log_output, on_log_end, &lg[i], &lg[i].stream), 0);
    }
    for (int i = 0; i < 2; i++) {
        run_until(&lg[i].want_seen, "the exchange in the logs");
        printf("%s stdout:\n%s%s stderr:\n%s", hosts[i], text_str(&lg[i].out), hosts[i],
               text_str(&lg[i].err));
    }
    /* stdout lines never leak into stderr and the other way round. */
    assert_null(strstr(text_str(&lg[0].err), "got:"));
    assert_null(strstr(text_str(&lg[0].out), "ready"));

    /* 7. Exec with stdin: output on both streams and the real exit code. */
    {
        const char *cmd[] = {"/peer", "exec"};
        docker_exec_opts eo = {.cmd = cmd, .n_cmd = 2, .stdin_data = "hello\n", .stdin_len = 6};
        memset(&ex, 0, sizeof(ex));
        ex.r.code = -100;
        assert_int_equal(docker_exec(dk, names[0], &eo, on_exec_output, on_code, &ex, NULL), 0);
        run_until(&ex.r.done, "exec");
        EXPECT_OK(ex.r, "exec");
        printf("exec: exit %d, stdout %sstderr %s", ex.r.code, text_str(&ex.out),
               text_str(&ex.err));
        assert_string_equal(text_str(&ex.out), "exec in alpha: hello\n");
        assert_string_equal(text_str(&ex.err), "exec stderr\n");
        assert_int_equal(ex.r.code, 3);
        free(ex.out.buf);
        free(ex.err.buf);
    }

    /* 8. Cancel alpha's log stream; beta's ends by itself at stop. */
    assert_int_equal(docker_call_cancel(lg[0].stream), 0);
    run_until(&lg[0].end.done, "the canceled log stream to end");
    assert_int_equal(lg[0].end.status, UV_ECANCELED);

    /* alpha stops (SIGTERM: exit 0), beta is killed (SIGKILL: 137). */
    memset(&r, 0, sizeof(r));
    assert_int_equal(docker_container_stop(dk, names[0], 10, on_plain, &r, NULL), 0);
    run_until(&r.done, "container stop");
    EXPECT_OK(r, "container stop");
    memset(&r, 0, sizeof(r));
    assert_int_equal(docker_container_kill(dk, names[1], "SIGKILL", on_plain, &r, NULL), 0);
    run_until(&r.done, "container kill");
    EXPECT_OK(r, "container kill");
    run_until(&wait_alpha.done, "wait");
    EXPECT_OK(wait_alpha, "wait");
    assert_int_equal(wait_alpha.code, 0); /* the program exits 0 on SIGTERM */
    run_until(&lg[1].end.done, "beta's log stream to end");
    EXPECT_OK(lg[1].end, "beta's log stream");

    /* 9. start and die, for both, through the label filter. */
    run_until(&ev.all_seen, "start and die events of both containers");
    assert_int_equal(ev.start[0], 1);
    assert_int_equal(ev.start[1], 1);
    assert_string_equal(ev.die_exit[0], "0");
    assert_string_equal(ev.die_exit[1], "137");
    assert_int_equal(docker_call_cancel(ev.stream), 0);
    run_until(&ev.end.done, "the events stream to end");
    assert_int_equal(ev.end.status, UV_ECANCELED);

    /* 10. Remove everything; a second inspect says it is gone. */
    for (int i = 0; i < 2; i++) {
        memset(&r, 0, sizeof(r));
        assert_int_equal(docker_container_remove(dk, names[i], 1, 1, on_plain, &r, NULL), 0);
        run_until(&r.done, "container remove");
        EXPECT_OK(r, "container remove");
    }
    {
        inspect x;
        memset(&x, 0, sizeof(x));
        assert_int_equal(docker_container_inspect(dk, names[0], on_inspect, &x, NULL), 0);
        run_until(&x.r.done, "container inspect");
        assert_int_equal(x.r.status, DOCKER_ENOTFOUND);
        assert_non_null(strstr(x.r.msg, "No such container"));
    }
    memset(&r, 0, sizeof(r));
    assert_int_equal(docker_network_remove(dk, net_name, on_plain, &r, NULL), 0);
    run_until(&r.done, "network remove");
    EXPECT_OK(r, "network remove");
    memset(&r, 0, sizeof(r));
    assert_int_equal(docker_image_remove(dk, tag, 1, on_plain, &r, NULL), 0);
    run_until(&r.done, "image remove");
    EXPECT_OK(r, "image remove");
    rc = 0;
    (void)rc;
    scenario_passed = 1;
}

/* A build that fails after output began (COPY of a file the context lacks):
 * the errorDetail inside the 200 reply becomes the call's error, with
 * Docker's message. */
static void test_failed_build_reports_dockers_message(void **state) {
    char ctx[512], path[600], cmd[1100];
    docker_kv labels[] = {{"hdc.test", uniq}};
    docker_build_opts bo = {.context_dir = ctx, .labels = labels, .n_labels = 1};
    static build b;
    FILE *f;

    snprintf(ctx, sizeof(ctx), "%s/hdc-docker-test-bad-%s",
             getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", uniq);
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", ctx);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof(path), "%s/Dockerfile", ctx);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("FROM scratch\nCOPY not-in-context /x\n", f);
    fclose(f);
    memset(&b, 0, sizeof(b));
    assert_int_equal(docker_build(dk, &bo, on_progress, on_id, &b, NULL), 0);
    run_until(&b.r.done, "the failing build");
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", ctx);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", ctx);
    printf("failing build: %zu progress lines, status %d: %s\n", b.lines, b.r.status, b.r.msg);
    free(b.stream.buf);
    assert_int_equal(b.r.status, DOCKER_EBUILD);
    assert_true(b.lines >= 1); /* output began before the error */
    assert_non_null(strstr(b.r.msg, "not-in-context"));
}

/* Lists what carries the test's label; prints each as "prefix kind name". */
static int count_labelled(const char *prefix) {
    listing l;
    int n = 0;

    if (list_labelled(docker_container_list, &l, "container list") != 0)
        fail_msg("container list: %s", l.r.msg);
    for (size_t i = 0; i < l.n; i++, n++)
        fprintf(stderr, "%s container %s\n", prefix, l.names[i]);
    if (list_labelled(docker_network_list, &l, "network list") != 0)
        fail_msg("network list: %s", l.r.msg);
    for (size_t i = 0; i < l.n; i++, n++)
        fprintf(stderr, "%s network %s\n", prefix, l.names[i]);
    if (list_labelled(docker_image_list, &l, "image list") != 0)
        fail_msg("image list: %s", l.r.msg);
    for (size_t i = 0; i < l.n; i++, n++)
        fprintf(stderr, "%s image %s\n", prefix, l.ids[i]);
    return n;
}

/* After a passing scenario nothing carries the label; after a failed one,
 * the cleanup by label must leave nothing. */
static void test_nothing_labelled_remains(void **state) {
    int left = count_labelled(scenario_passed ? "left over by the scenario:"
                                              : "left by the failed scenario:");

    if (left > 0)
        cleanup_by_label();
    assert_int_equal(count_labelled("left over after cleanup:"), 0);
    if (scenario_passed)
        assert_int_equal(left, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_containers_reach_each_other_by_hostname),
        cmocka_unit_test(test_failed_build_reports_dockers_message),
        cmocka_unit_test(test_nothing_labelled_remains),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
