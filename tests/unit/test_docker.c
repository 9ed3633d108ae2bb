/* engine/docker.c and docker_stream.c without a real engine: the archive
 * of a build context, a call where no engine listens (which must fail
 * with a message saying what to do), DOCKER_HOST, and the calls and
 * streams against a fake engine on a unix socket. The pure half is
 * tests/unit/test_docker_json.c. */
#define _GNU_SOURCE /* strcasestr */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>
#include <jansson.h>
#include <uv.h>

#include "docker.h"
static void list_tar(const char *path, char *out, size_t len) {
    struct archive *a = archive_read_new();
    struct archive_entry *e;

    out[0] = '\0';
    archive_read_support_format_tar(a);
    assert_int_equal(archive_read_open_filename(a, path, 10240), ARCHIVE_OK);
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        size_t n = strlen(out);
        snprintf(out + n, len - n, "%s:%lld;", archive_entry_pathname(e),
                 (long long)archive_entry_size(e));
    }
    archive_read_free(a);
}

static void test_build_context_is_archived_with_relative_paths(void **state) {
    char dir[] = "/tmp/hdc-test-context-XXXXXX";
    char p[512], tar[512], listing[4096], err[256];
    FILE *f;

    assert_non_null(mkdtemp(dir));
    snprintf(p, sizeof(p), "%s/Dockerfile", dir);
    f = fopen(p, "w");
    fputs("FROM scratch\nCOPY peer /peer\n", f);
    fclose(f);
    snprintf(p, sizeof(p), "%s/sub", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/sub/a.txt", dir);
    f = fopen(p, "w");
    fputs("12345", f);
    fclose(f);
    snprintf(tar, sizeof(tar), "%s.tar", dir);

    assert_int_equal(docker_context_archive(dir, tar, err, sizeof(err)), 0);
    list_tar(tar, listing, sizeof(listing));
    assert_non_null(strstr(listing, "Dockerfile:29;"));
    assert_non_null(strstr(listing, "sub/a.txt:5;"));
    assert_null(strstr(listing, dir + 1)); /* no absolute or host paths */

    /* A missing directory is an error with a reason. */
    snprintf(p, sizeof(p), "%s/missing", dir);
    assert_int_equal(docker_context_archive(p, tar, err, sizeof(err)), DOCKER_ECONTEXT);
    assert_true(strlen(err) > 0);

    unlink(tar);
    snprintf(p, sizeof(p), "rm -rf '%s'", dir);
    assert_int_equal(system(p), 0);
}

/* ---- no engine ---- */

typedef struct noengine {
    int calls;
    int status;
    char msg[512];
    docker *d;
} noengine;

static void on_version(void *data, int status, const char *msg, const docker_version *v) {
    noengine *n = data;
    n->calls++;
    n->status = status;
    snprintf(n->msg, sizeof(n->msg), "%s", msg ? msg : "");
    assert_null(v);
}

static void test_no_engine_says_what_to_do(void **state) {
    uv_loop_t loop;
    noengine n = {0};
    char addr[128];

    snprintf(addr, sizeof(addr), "unix:///tmp/hdc-no-docker-%d.sock", (int)getpid());
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(docker_new(&loop, addr, &n.d), 0);
    assert_int_equal(docker_version_get(n.d, on_version, &n, NULL), 0);
    assert_int_equal(n.calls, 0); /* never from inside the call */
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(n.calls, 1);
    assert_int_equal(n.status, DOCKER_ENOENGINE);
    {
        char want[256];
        snprintf(want, sizeof(want),
                 "no Docker engine at %s: run scripts/setup.sh or set DOCKER_HOST", addr);
        assert_string_equal(n.msg, want);
    }
    docker_close(n.d, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_docker_host_is_honoured(void **state) {
    uv_loop_t loop;
    docker *d;

    assert_int_equal(uv_loop_init(&loop), 0);
    setenv("DOCKER_HOST", "tcp://127.0.0.1:1", 1);
    assert_int_equal(docker_new(&loop, NULL, &d), 0);
    assert_string_equal(docker_address(d), "tcp://127.0.0.1:1");
    docker_close(d, NULL, NULL);
    setenv("DOCKER_HOST", "", 1);
    assert_int_equal(docker_new(&loop, NULL, &d), 0);
    assert_string_equal(docker_address(d), DOCKER_DEFAULT_HOST);
    docker_close(d, NULL, NULL);
    unsetenv("DOCKER_HOST");
    assert_int_equal(docker_new(&loop, "ssh://host", &d), UV_EINVAL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}


/* ---- the I/O half, against a fake engine on a unix socket ----
 *
 * The fake reads one request per connection (head and Content-Length
 * body), answers with the canned bytes of the first route whose target
 * prefix matches, and closes the connection unless the route says to
 * hang (a stream that never ends, to be canceled). */

typedef struct route {
    const char *method, *prefix;
    const char *reply; /* sent as is; NULL: built by the test */
    size_t reply_len;  /* 0: strlen(reply) */
    int hang;
} route;

typedef struct fake_conn fake_conn;

typedef struct fake {
    uv_pipe_t server;
    char path[108];
    const route *routes;
    size_t n_routes;
    int exec_inspects; /* GET /exec/e1/json seen */
    char *build_body;  /* the tar of the last POST /build or PUT archive */
    size_t build_body_len;
    char targets[4096]; /* every request line's target, ' '-joined */
    fake_conn *conns[16];
    size_t n_conns;
    int silent; /* accept, then never read nor answer: a hung engine */
    /* Container starts held unanswered until fake_release: how many are
     * held now, and the most ever held at once. */
    int hold_starts;
    fake_conn *held[16];
    size_t n_held, max_held;
} fake;

struct fake_conn {
    uv_pipe_t pipe;
    fake *f;
    char *buf;
    size_t len;
    int answered;
    int closed;
};

static void fake_conn_closed(uv_handle_t *h) {
    fake_conn *c = h->data;
    free(c->buf);
    free(c);
}

static void fake_conn_close(fake_conn *c) {
    if (c->closed)
        return;
    c->closed = 1;
    for (size_t i = 0; i < c->f->n_conns; i++)
        if (c->f->conns[i] == c)
            c->f->conns[i] = c->f->conns[--c->f->n_conns];
    uv_close((uv_handle_t *)&c->pipe, fake_conn_closed);
}

static void fake_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf) {
    static char slab[65536];
    *buf = uv_buf_init(slab, sizeof(slab));
}

typedef struct fake_write {
    uv_write_t w;
    fake_conn *c;
    int close_after;
    char data[];
} fake_write;

static void fake_written(uv_write_t *w, int status) {
    fake_write *fw = (fake_write *)w;
    if (fw->close_after)
        fake_conn_close(fw->c);
    free(fw);
}

static void fake_send(fake_conn *c, const char *p, size_t n, int close_after) {
    fake_write *fw = malloc(sizeof(*fw) + n);
    uv_buf_t b;

    memcpy(fw->data, p, n);
    fw->c = c;
    fw->close_after = close_after;
    b = uv_buf_init(fw->data, (unsigned)n);
    if (uv_write(&fw->w, (uv_stream_t *)&c->pipe, &b, 1, fake_written) != 0) {
        free(fw);
        fake_conn_close(c);
    }
}

/* A whole request is in c->buf: answer it. */
static void fake_answer(fake_conn *c, const char *method, const char *target, const char *body,
                        size_t body_len) {
    fake *f = c->f;
    size_t n = strlen(f->targets);

    snprintf(f->targets + n, sizeof(f->targets) - n, "%s%s %s", n ? " " : "", method, target);
    if ((strcmp(method, "POST") == 0 && strncmp(target, "/v1.41/build", 12) == 0) ||
        (strcmp(method, "POST") == 0 && strncmp(target, "/v1.41/networks/", 16) == 0) ||
        strcmp(method, "PUT") == 0) {
        free(f->build_body);
        f->build_body = malloc(body_len + 1);
        memcpy(f->build_body, body, body_len);
        f->build_body_len = body_len;
    }
    if (f->hold_starts && strcmp(method, "POST") == 0 &&
        strncmp(target, "/v1.41/containers/", 18) == 0 && strstr(target, "/start") != NULL) {
        f->held[f->n_held++] = c;
        if (f->n_held > f->max_held)
            f->max_held = f->n_held;
        return;
    }
    if (strncmp(target, "/v1.41/exec/e1/json", 19) == 0) {
        /* First still running, then exited with 7: the retry path. */
        const char *r = f->exec_inspects++ == 0
                            ? "HTTP/1.1 200 OK\r\nContent-Length: "
                              "35\r\n\r\n{\"Running\":true,\"ExitCode\":null}\n  "
                            : "HTTP/1.1 200 OK\r\nContent-Length: "
                              "31\r\n\r\n{\"Running\":false,\"ExitCode\":7}\n";
        fake_send(c, r, strlen(r), 1);
        return;
    }
    for (size_t i = 0; i < f->n_routes; i++) {
        const route *r = &f->routes[i];
        if (strcmp(r->method, method) == 0 && strncmp(target, r->prefix, strlen(r->prefix)) == 0) {
            fake_send(c, r->reply, r->reply_len ? r->reply_len : strlen(r->reply), !r->hang);
            return;
        }
    }
    {
        const char *r = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 31\r\n\r\n"
                        "{\"message\":\"fake: no route\"}\n  ";
        fake_send(c, r, strlen(r), 1);
    }
}

static void fake_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    fake_conn *c = s->data;
    char *end, method[16], target[1024];
    size_t head_len, body_len = 0;
    const char *cl;

    if (nread < 0) {
        fake_conn_close(c);
        return;
    }
    if (c->answered || nread == 0)
        return; /* after an answer: stdin of an exec, ignored */
    c->buf = realloc(c->buf, c->len + (size_t)nread + 1);
    memcpy(c->buf + c->len, buf->base, (size_t)nread);
    c->len += (size_t)nread;
    c->buf[c->len] = '\0';
    end = strstr(c->buf, "\r\n\r\n");
    if (!end)
        return;
    head_len = (size_t)(end - c->buf) + 4;
    cl = strcasestr(c->buf, "\r\nContent-Length:");
    if (cl && cl < end)
        body_len = strtoul(cl + 17, NULL, 10);
    if (c->len < head_len + body_len)
        return;
    if (sscanf(c->buf, "%15s %1023s", method, target) != 2) {
        fake_conn_close(c);
        return;
    }
    c->answered = 1;
    fake_answer(c, method, target, c->buf + head_len, body_len);
}

static void fake_connection(uv_stream_t *server, int status) {
    fake *f = server->data;
    fake_conn *c = calloc(1, sizeof(*c));

    c->f = f;
    uv_pipe_init(server->loop, &c->pipe, 0);
    c->pipe.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->pipe) != 0) {
        c->closed = 1;
        uv_close((uv_handle_t *)&c->pipe, fake_conn_closed);
        return;
    }
    if (f->n_conns < 16)
        f->conns[f->n_conns++] = c;
    if (f->silent)
        return;
    uv_read_start((uv_stream_t *)&c->pipe, fake_alloc, fake_read);
}

static void fake_start(uv_loop_t *loop, fake *f, const route *routes, size_t n) {
    memset(f, 0, sizeof(*f));
    f->routes = routes;
    f->n_routes = n;
    snprintf(f->path, sizeof(f->path), "/tmp/hdc-fake-docker-%d.sock", (int)getpid());
    unlink(f->path);
    assert_int_equal(uv_pipe_init(loop, &f->server, 0), 0);
    f->server.data = f;
    assert_int_equal(uv_pipe_bind(&f->server, f->path), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&f->server, 16, fake_connection), 0);
}

/* Answers the oldest held start: 204. */
static void fake_release(fake *f) {
    static const char r[] = "HTTP/1.1 204 No Content\r\n\r\n";
    fake_conn *c = f->held[0];

    memmove(f->held, f->held + 1, --f->n_held * sizeof(f->held[0]));
    fake_send(c, r, strlen(r), 1);
}

static void fake_stop(fake *f) {
    while (f->n_conns > 0)
        fake_conn_close(f->conns[0]);
    uv_close((uv_handle_t *)&f->server, NULL);
    unlink(f->path);
    free(f->build_body);
}

/* Outcome of one call, recorded by the callbacks below. */
typedef struct got {
    int calls;
    int status;
    int code;
    int inside_call;   /* set while the starting call runs */
    int called_inside; /* a callback ran from inside the starting call */
    char msg[512];
    char id[128];
    char out[512], err[512];
    int events;
    int progress;
    int closed;
} got;

static void got_end(got *g, int status, const char *msg) {
    g->calls++;
    g->status = status;
    if (g->inside_call)
        g->called_inside = 1;
    snprintf(g->msg, sizeof(g->msg), "%s", msg ? msg : "");
}

static void got_plain(void *data, int status, const char *msg) {
    got_end(data, status, msg);
}

static void got_id(void *data, int status, const char *msg, const char *id) {
    got *g = data;
    snprintf(g->id, sizeof(g->id), "%s", id ? id : "(null)");
    got_end(g, status, msg);
}

static void got_code(void *data, int status, const char *msg, int code) {
    got *g = data;
    g->code = code;
    got_end(g, status, msg);
}

/* Each object as "id:name:state:cluster" ('-' for what it lacks), ' '-joined. */
static void got_list(void *data, int status, const char *msg, const docker_object *objs, size_t n) {
    got *g = data;

    for (size_t i = 0; i < n; i++) {
        const char *cluster = json_string_value(json_object_get(objs[i].labels, "hdc.cluster"));
        size_t used = strlen(g->out);
        snprintf(g->out + used, sizeof(g->out) - used, "%s%s:%s:%s:%s", i ? " " : "", objs[i].id,
                 objs[i].name, objs[i].state ? objs[i].state : "-", cluster ? cluster : "-");
    }
    got_end(g, status, msg);
}

static void got_output(void *data, int stream, const char *buf, size_t len) {
    got *g = data;
    char *dst = stream == 2 ? g->err : g->out;
    size_t n = strlen(dst);
    snprintf(dst + n, 512 - n, "%.*s", (int)len, buf);
}

static void got_event(void *data, const json_t *ev) {
    got *g = data;
    const char *a = json_string_value(json_object_get(ev, "Action"));
    size_t n = strlen(g->out);
    g->events++;
    snprintf(g->out + n, sizeof(g->out) - n, "[%s]", a ? a : "?");
}

static void got_progress(void *data, const docker_build_progress *p) {
    got *g = data;
    size_t n = strlen(g->out);
    g->progress++;
    if (p->stream)
        snprintf(g->out + n, sizeof(g->out) - n, "%s", p->stream);
}

static void got_closed(void *data) {
    got *g = data;
    g->closed++;
}

#define OK200       "HTTP/1.1 200 OK\r\n"
#define FRAME(t, n) "\x0" #t "\0\0\0\0\0\0" n

static const route fake_routes[] = {
    {"GET", "/v1.41/containers/nope/logs",
     "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 39\r\n\r\n"
     "{\"message\":\"No such container: nope\"}\n ",
     0, 0},
    /* stdout "a\n", then a daemon-side error frame, close-delimited. */
    {"GET", "/v1.41/containers/sys/logs",
     OK200 "Connection: close\r\n\r\n\x01\0\0\0\0\0\0\x02"
           "a\n\x03\0\0\0\0\0\0\x04"
           "boom",
     8 * 2 + 2 + 4 + sizeof(OK200 "Connection: close\r\n\r\n") - 1, 0},
    /* A frame announcing 100 bytes, carrying 5. */
    {"GET", "/v1.41/containers/trunc/logs",
     OK200 "Connection: close\r\n\r\n\x02\0\0\0\0\0\0\x64short",
     8 + 5 + sizeof(OK200 "Connection: close\r\n\r\n") - 1, 0},
    /* A TTY's raw stream. */
    {"GET", "/v1.41/containers/tty/logs", OK200 "Content-Length: 12\r\n\r\n\x01\x02raw bytes\n", 0,
     0},
    {"GET", "/v1.41/containers/hang/logs", OK200 "Transfer-Encoding: chunked\r\n\r\n", 0, 1},
    /* Two events, cut across chunks, then a line that is not JSON. */
    {"GET", "/v1.41/events?filters=",
     OK200 "Transfer-Encoding: chunked\r\n\r\n"
           "14\r\n{\"Action\":\"start\"}\n{\r\n"
           "10\r\n\"Action\":\"die\"}\n\r\n"
           "9\r\nnot json\n\r\n0\r\n\r\n",
     0, 0},
    {"GET", "/v1.41/events", OK200 "Transfer-Encoding: chunked\r\n\r\n", 0, 1},
    {"POST", "/v1.41/networks/create",
     "HTTP/1.1 403 Forbidden\r\nContent-Length: 64\r\n\r\n"
     "{\"message\":\"Pool overlaps with other one on this address space\"}",
     0, 0},
    {"POST", "/v1.41/containers/c1/wait?condition=not-running",
     OK200 "Content-Length: 33\r\n\r\n{\"Error\":null,\"StatusCode\":5}\n   ", 0, 0},
    {"POST", "/v1.41/containers/c1/exec",
     "HTTP/1.1 201 Created\r\nContent-Length: 12\r\n\r\n{\"Id\":\"e1\"}\n", 0, 0},
    /* An exec whose stream stays open and silent. */
    {"POST", "/v1.41/containers/c2/exec",
     "HTTP/1.1 201 Created\r\nContent-Length: 12\r\n\r\n{\"Id\":\"e2\"}\n", 0, 0},
    {"POST", "/v1.41/exec/e2/start",
     "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
     "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n",
     0, 1},
    {"POST", "/v1.41/exec/e1/start",
     "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
     "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
     "\x01\0\0\0\0\0\0\x04out\n\x02\0\0\0\0\0\0\x04"
     "err\n",
     sizeof("HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
            "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n") -
         1 + 24,
     0},
    {"POST", "/v1.41/build?rm=1&forcerm=1&t=bad",
     OK200
     "Transfer-Encoding: chunked\r\n\r\n"
     "1e\r\n{\"stream\":\"Step 1/2 : FROM\"}\r\n\r\n"
     "47\r\n{\"errorDetail\":{\"message\":\"boom in step 2\"},\"error\":\"boom in step 2\"}\r\n\r\n"
     "0\r\n\r\n",
     0, 0},
    {"POST", "/v1.41/build",
     OK200 "Transfer-Encoding: chunked\r\n\r\n"
           "2e\r\n{\"stream\":\"Step 1/1 : FROM scratch\\n\"}\r\n{\"aux\"\r\n"
           "1c\r\n:{\"ID\":\"sha256:feedface\"}}\r\n\r\n"
           "0\r\n\r\n",
     0, 0},
};

static void run_loop_until(uv_loop_t *loop, const int *flag) {
    for (int i = 0; i < 100000 && !*flag; i++)
        uv_run(loop, UV_RUN_ONCE);
    assert_true(*flag);
}

static void test_streams_and_errors_against_a_fake_engine(void **state) {
    uv_loop_t loop;
    fake f;
    docker *d;
    char addr[160];
    got g;
    docker_call *s;
    docker_logs_opts tty = {.tty = 1};

    assert_int_equal(uv_loop_init(&loop), 0);
    fake_start(&loop, &f, fake_routes, sizeof(fake_routes) / sizeof(fake_routes[0]));
    snprintf(addr, sizeof(addr), "unix://%s", f.path);
    assert_int_equal(docker_new(&loop, addr, &d), 0);

    /* An error reply to a streaming call: Docker's message. */
    memset(&g, 0, sizeof(g));
    g.inside_call = 1;
    assert_int_equal(docker_logs(d, "nope", NULL, got_output, got_plain, &g, NULL), 0);
    g.inside_call = 0;
    run_loop_until(&loop, &g.calls);
    assert_false(g.called_inside);
    assert_int_equal(g.status, DOCKER_ENOTFOUND);
    assert_string_equal(g.msg, "No such container: nope");

    /* Output before a daemon-side error frame is delivered; the error ends it. */
    memset(&g, 0, sizeof(g));
    assert_int_equal(docker_logs(d, "sys", NULL, got_output, got_plain, &g, NULL), 0);
    run_loop_until(&loop, &g.calls);
    assert_string_equal(g.out, "a\n");
    assert_int_equal(g.status, DOCKER_ESTREAM);
    assert_non_null(strstr(g.msg, "boom"));

    /* A stream ending inside a frame. */
    memset(&g, 0, sizeof(g));
    assert_int_equal(docker_logs(d, "trunc", NULL, got_output, got_plain, &g, NULL), 0);
    run_loop_until(&loop, &g.calls);
    assert_string_equal(g.err, "short");
    assert_int_equal(g.status, DOCKER_ESTREAM);
    assert_non_null(strstr(g.msg, "ended inside a frame"));

    /* TTY: raw bytes, even ones that would be a bad frame header. */
    memset(&g, 0, sizeof(g));
    assert_int_equal(docker_logs(d, "tty", &tty, got_output, got_plain, &g, NULL), 0);
    run_loop_until(&loop, &g.calls);
    assert_int_equal(g.status, 0);
    assert_string_equal(g.out, "\x01\x02raw bytes\n");

    /* A stream that never ends, canceled: exactly one callback, UV_ECANCELED. */
    memset(&g, 0, sizeof(g));
    assert_int_equal(docker_logs(d, "hang", NULL, got_output, got_plain, &g, &s), 0);
    for (int i = 0; i < 20; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(g.calls, 0);
    assert_int_equal(docker_call_cancel(s), 0);
    run_loop_until(&loop, &g.calls);
    assert_int_equal(g.status, UV_ECANCELED);

    /* Events: objects across chunk boundaries; a line that is not JSON
     * ends the stream with DOCKER_EPROTO. */
    {
        const char *types[] = {"container"};
        docker_events_opts eo = {.types = types, .n_types = 1};
        memset(&g, 0, sizeof(g));
        assert_int_equal(docker_events(d, &eo, got_event, got_plain, &g, NULL), 0);
        run_loop_until(&loop, &g.calls);
        assert_string_equal(g.out, "[start][die]");
        assert_int_equal(g.status, DOCKER_EPROTO);
        assert_non_null(strstr(g.msg, "not JSON"));
    }

    /* Network create: an overlap is told apart. */
    {
        docker_network_opts no = {.name = "n", .subnet = "10.9.0.0/24"};
        memset(&g, 0, sizeof(g));
        assert_int_equal(docker_network_create(d, &no, got_id, &g, NULL), 0);
        run_loop_until(&loop, &g.calls);
        assert_int_equal(g.status, DOCKER_EOVERLAP);
        assert_string_equal(g.msg, "Pool overlaps with other one on this address space");
    }

    /* Wait gives the exit code. */
    memset(&g, 0, sizeof(g));
    assert_int_equal(docker_container_wait(d, "c1", got_code, &g, NULL), 0);
    run_loop_until(&loop, &g.calls);
    assert_int_equal(g.status, 0);
    assert_int_equal(g.code, 5);

    /* Exec: create, hijacked start with frames in the same read as the
     * 101 head, then inspect (running once, then 7). */
    {
        const char *cmd[] = {"true"};
        docker_exec_opts eo = {.cmd = cmd, .n_cmd = 1};
        memset(&g, 0, sizeof(g));
        g.code = -100;
        assert_int_equal(docker_exec(d, "c1", &eo, got_output, got_code, &g, NULL), 0);
        run_loop_until(&loop, &g.calls);
        assert_int_equal(g.status, 0);
        assert_string_equal(g.out, "out\n");
        assert_string_equal(g.err, "err\n");
        assert_int_equal(g.code, 7);
        assert_int_equal(f.exec_inspects, 2);
    }

    /* Build: progress lines cut across chunks, the context sent as a tar. */
    {
        char dir[] = "/tmp/hdc-test-fake-build-XXXXXX", p[256], cmd[300];
        docker_build_opts bo = {.context_dir = dir};
        struct archive *a;
        struct archive_entry *e;
        int found = 0;
        FILE *fp;

        assert_non_null(mkdtemp(dir));
        snprintf(p, sizeof(p), "%s/Dockerfile", dir);
        fp = fopen(p, "w");
        fputs("FROM scratch\n", fp);
        fclose(fp);
        memset(&g, 0, sizeof(g));
        assert_int_equal(docker_build(d, &bo, got_progress, got_id, &g, NULL), 0);
        run_loop_until(&loop, &g.calls);
        assert_int_equal(g.status, 0);
        assert_string_equal(g.id, "sha256:feedface");
        assert_string_equal(g.out, "Step 1/1 : FROM scratch\n");
        assert_int_equal(g.progress, 2);
        a = archive_read_new();
        archive_read_support_format_tar(a);
        assert_int_equal(archive_read_open_memory(a, f.build_body, f.build_body_len), ARCHIVE_OK);
        while (archive_read_next_header(a, &e) == ARCHIVE_OK)
            found |= strcmp(archive_entry_pathname(e), "Dockerfile") == 0;
        archive_read_free(a);
        assert_true(found);

        /* errorDetail inside the 200 reply: the call's error, Docker's message. */
        bo.tag = "bad";
        memset(&g, 0, sizeof(g));
        assert_int_equal(docker_build(d, &bo, got_progress, got_id, &g, NULL), 0);
        run_loop_until(&loop, &g.calls);
        assert_int_equal(g.status, DOCKER_EBUILD);
        assert_string_equal(g.msg, "boom in step 2");
        assert_int_equal(g.progress, 2);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
    }

    /* Closing with streams in flight: each ends with UV_ECANCELED, then
     * the close callback. */
    {
        got g1, g2;
        memset(&g1, 0, sizeof(g1));
        memset(&g2, 0, sizeof(g2));
        assert_int_equal(docker_logs(d, "hang", NULL, got_output, got_plain, &g1, NULL), 0);
        assert_int_equal(docker_events(d, NULL, got_event, got_plain, &g2, NULL), 0);
        for (int i = 0; i < 20; i++)
            uv_run(&loop, UV_RUN_NOWAIT);
        docker_close(d, got_closed, &g1);
        run_loop_until(&loop, &g1.closed);
        assert_int_equal(g1.calls, 1);
        assert_int_equal(g1.status, UV_ECANCELED);
        assert_int_equal(g2.calls, 1);
        assert_int_equal(g2.status, UV_ECANCELED);
    }

    assert_non_null(strstr(f.targets, "GET /v1.41/containers/tty/logs?stdout=1&stderr=1"));
    fake_stop(&f);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static const route archive_routes[] = {
    {"PUT", "/v1.41/containers/zk/archive?path=%2Fdata", OK200 "Content-Length: 0\r\n\r\n", 0, 0},
    {"PUT", "/v1.41/containers/gone/archive",
     "HTTP/1.1 404 Not Found\r\nContent-Length: 37\r\n\r\n"
     "{\"message\":\"No such container: gone\"}",
     0, 0},
    {"GET", "/v1.41/containers/json",
     OK200 "Content-Length: 112\r\n\r\n"
           "[{\"Id\":\"c1\",\"Names\":[\"/a_zookeeper_1\"],\"State\":\"exited\","
           "\"Labels\":{\"hdc.cluster\":\"a\"}},{\"Id\":\"c2\",\"Labels\":null}]",
     0, 0},
};

/* A tar written into a container, and what a list says of each object. */
static void test_put_archive_and_the_labels_of_a_list(void **state) {
    static const char tar[1024] = "record"; /* the bytes, as they are */
    uv_loop_t loop;
    fake f;
    docker *d;
    char addr[160];
    got g;

    assert_int_equal(uv_loop_init(&loop), 0);
    fake_start(&loop, &f, archive_routes, sizeof(archive_routes) / sizeof(archive_routes[0]));
    snprintf(addr, sizeof(addr), "unix://%s", f.path);
    assert_int_equal(docker_new(&loop, addr, &d), 0);

    memset(&g, 0, sizeof(g));
    assert_int_equal(
        docker_container_put_archive(d, "zk", "/data", tar, sizeof(tar), got_plain, &g, NULL), 0);
    run_loop_until(&loop, &g.calls);
    assert_int_equal(g.status, 0);
    assert_int_equal(f.build_body_len, sizeof(tar));
    assert_memory_equal(f.build_body, tar, sizeof(tar));
    assert_non_null(strstr(f.targets, "PUT /v1.41/containers/zk/archive?path=%2Fdata"));

    memset(&g, 0, sizeof(g));
    assert_int_equal(
        docker_container_put_archive(d, "gone", "/", tar, sizeof(tar), got_plain, &g, NULL), 0);
    run_loop_until(&loop, &g.calls);
    assert_int_equal(g.status, DOCKER_ENOTFOUND);
    assert_string_equal(g.msg, "No such container: gone");
    assert_int_equal(docker_container_put_archive(d, "zk", "/", NULL, 0, got_plain, &g, NULL),
                     UV_EINVAL);

    memset(&g, 0, sizeof(g));
    assert_int_equal(docker_container_list(d, "hdc.cluster", got_list, &g, NULL), 0);
    run_loop_until(&loop, &g.calls);
    assert_int_equal(g.status, 0);
    assert_string_equal(g.out, "c1:a_zookeeper_1:exited:a c2::-:-");

    docker_close(d, NULL, NULL);
    fake_stop(&f);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static const route fault_routes[] = {
    {"POST", "/v1.41/containers/c1/pause", "HTTP/1.1 204 No Content\r\n\r\n", 0, 0},
    {"POST", "/v1.41/containers/c1/unpause",
     "HTTP/1.1 409 Conflict\r\nContent-Length: 40\r\n\r\n"
     "{\"message\":\"Container c1 is not paused\"}",
     0, 0},
    {"POST", "/v1.41/networks/hdc_a/connect", OK200 "Content-Length: 0\r\n\r\n", 0, 0},
    {"POST", "/v1.41/networks/hdc_a/disconnect", OK200 "Content-Length: 0\r\n\r\n", 0, 0},
};

/* The calls `hdc fault` makes: pause, unpause (Docker's refusal as its
 * message), a network's connect at a static address with an alias, and a
 * forced disconnect: their targets and bodies. */
static void test_pause_unpause_connect_and_disconnect(void **state) {
    const char *aliases[] = {"datanode1"};
    uv_loop_t loop;
    fake f;
    docker *d;
    char addr[160];
    got g;
    json_t *body;

    assert_int_equal(uv_loop_init(&loop), 0);
    fake_start(&loop, &f, fault_routes, sizeof(fault_routes) / sizeof(fault_routes[0]));
    snprintf(addr, sizeof(addr), "unix://%s", f.path);
    assert_int_equal(docker_new(&loop, addr, &d), 0);

    memset(&g, 0, sizeof(g));
    g.inside_call = 1;
    assert_int_equal(docker_container_pause(d, "c1", got_plain, &g, NULL), 0);
    g.inside_call = 0;
    run_loop_until(&loop, &g.calls);
    assert_false(g.called_inside);
    assert_int_equal(g.status, 0);
    assert_non_null(strstr(f.targets, "POST /v1.41/containers/c1/pause"));

    memset(&g, 0, sizeof(g));
    assert_int_equal(docker_container_unpause(d, "c1", got_plain, &g, NULL), 0);
    run_loop_until(&loop, &g.calls);
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.status, DOCKER_ECONFLICT);
    assert_string_equal(g.msg, "Container c1 is not paused");

    memset(&g, 0, sizeof(g));
    assert_int_equal(
        docker_network_connect(d, "hdc_a", "c1", "172.29.3.4", aliases, 1, got_plain, &g, NULL), 0);
    run_loop_until(&loop, &g.calls);
    assert_int_equal(g.status, 0);
    body = json_loadb(f.build_body, f.build_body_len, 0, NULL);
    assert_non_null(body);
    assert_string_equal(json_string_value(json_object_get(body, "Container")), "c1");
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(body, "EndpointConfig"), "IPAMConfig"), "IPv4Address")),
        "172.29.3.4");
    assert_string_equal(
        json_string_value(
            json_array_get(json_object_get(json_object_get(body, "EndpointConfig"), "Aliases"), 0)),
        "datanode1");
    json_decref(body);

    /* Without an address: the engine picks one; no IPAMConfig is sent. */
    memset(&g, 0, sizeof(g));
    assert_int_equal(docker_network_connect(d, "hdc_a", "c2", NULL, NULL, 0, got_plain, &g, NULL),
                     0);
    run_loop_until(&loop, &g.calls);
    assert_int_equal(g.status, 0);
    body = json_loadb(f.build_body, f.build_body_len, 0, NULL);
    assert_non_null(body);
    assert_null(json_object_get(json_object_get(body, "EndpointConfig"), "IPAMConfig"));
    json_decref(body);

    memset(&g, 0, sizeof(g));
    assert_int_equal(docker_network_disconnect(d, "hdc_a", "c1", 1, got_plain, &g, NULL), 0);
    run_loop_until(&loop, &g.calls);
    assert_int_equal(g.status, 0);
    body = json_loadb(f.build_body, f.build_body_len, 0, NULL);
    assert_non_null(body);
    assert_string_equal(json_string_value(json_object_get(body, "Container")), "c1");
    assert_true(json_is_true(json_object_get(body, "Force")));
    json_decref(body);

    /* A network with no such route: Docker's error, as for any call. */
    memset(&g, 0, sizeof(g));
    assert_int_equal(docker_network_disconnect(d, "hdc_b", "c1", 0, got_plain, &g, NULL), 0);
    run_loop_until(&loop, &g.calls);
    assert_int_equal(g.calls, 1);
    assert_true(g.status < 0);
    assert_string_equal(g.msg, "fake: no route");

    /* Refused before anything is sent. */
    assert_int_equal(docker_container_pause(d, NULL, got_plain, &g, NULL), UV_EINVAL);
    assert_int_equal(docker_network_connect(d, "hdc_a", NULL, NULL, NULL, 0, got_plain, &g, NULL),
                     UV_EINVAL);
    assert_int_equal(docker_network_disconnect(d, "hdc_a", "c1", 1, NULL, &g, NULL), UV_EINVAL);

    docker_close(d, NULL, NULL);
    fake_stop(&f);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- pacing ---- */

static void run_a_while(uv_loop_t *loop) {
    for (int i = 0; i < 50; i++)
        uv_run(loop, UV_RUN_NOWAIT);
}

/* With a pace of 2, five container starts: two reach the engine, the
 * others wait and go in order as answers come; a waiting call canceled
 * ends canceled, from the loop; docker_close ends the waiting ones. */
static void test_pacing_caps_the_starts_in_flight(void **state) {
    uv_loop_t loop;
    fake f;
    docker *d;
    char addr[160], id[8];
    got g[6];

    assert_int_equal(uv_loop_init(&loop), 0);
    fake_start(&loop, &f, NULL, 0);
    f.hold_starts = 1;
    snprintf(addr, sizeof(addr), "unix://%s", f.path);
    assert_int_equal(docker_new(&loop, addr, &d), 0);
    docker_set_pace(d, 2);
    memset(g, 0, sizeof(g));
    docker_call *calls[6];
    for (int i = 0; i < 6; i++) {
        snprintf(id, sizeof(id), "c%d", i + 1);
        assert_int_equal(docker_container_start(d, id, got_plain, &g[i], &calls[i]), 0);
    }
    while (f.n_held < 2)
        uv_run(&loop, UV_RUN_ONCE);
    run_a_while(&loop);
    assert_int_equal(f.n_held, 2);
    assert_string_equal(f.targets,
                        "POST /v1.41/containers/c1/start POST /v1.41/containers/c2/start");

    g[4].inside_call = 1;
    assert_int_equal(docker_call_cancel(calls[4]), 0); /* c5, waiting */
    g[4].inside_call = 0;
    assert_int_equal(g[4].calls, 0);
    run_a_while(&loop);
    assert_int_equal(g[4].calls, 1);
    assert_int_equal(g[4].status, UV_ECANCELED);
    assert_false(g[4].called_inside);

    fake_release(&f); /* c1 answered: c3 goes */
    while (g[0].calls == 0 || f.n_held < 2)
        uv_run(&loop, UV_RUN_ONCE);
    fake_release(&f); /* c2: c4 goes */
    while (g[1].calls == 0 || f.n_held < 2)
        uv_run(&loop, UV_RUN_ONCE);
    run_a_while(&loop);
    assert_int_equal(f.max_held, 2);
    assert_string_equal(f.targets,
                        "POST /v1.41/containers/c1/start POST /v1.41/containers/c2/start "
                        "POST /v1.41/containers/c3/start POST /v1.41/containers/c4/start");
    assert_int_equal(g[0].status, 0);
    assert_int_equal(g[1].status, 0);

    /* c3 and c4 in flight, c6 waiting: the close ends all three. */
    docker_close(d, NULL, NULL);
    fake_stop(&f);
    uv_run(&loop, UV_RUN_DEFAULT);
    for (int i = 2; i < 6; i++) {
        assert_int_equal(g[i].calls, 1);
        if (i != 4)
            assert_int_equal(g[i].status, UV_ECANCELED);
    }
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_docker_pace_takes_0_to_1024(void **state) {
    const char *bad[] = {"-1", "1025", " 4", "4 ", "x", "99999999999999999999"};
    unsigned v = 99;

    assert_int_equal(docker_pace_parse(NULL, &v), 0);
    assert_int_equal(v, DOCKER_PACE_DEFAULT);
    assert_int_equal(docker_pace_parse("0", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(docker_pace_parse("1024", &v), 0);
    assert_int_equal(v, 1024);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(docker_pace_parse(bad[i], &v), UV_EINVAL);
}

/* ---- deadlines ---- */

static void test_docker_timeout_takes_whole_seconds_from_1_to_3600(void **state) {
    const char *bad[] = {"0", "3601", "+5", " 5", "5 ", "5s", "-1", "1.5", "99999999999999999999"};
    uv_loop_t loop;
    unsigned s = 0;
    docker *d;

    assert_int_equal(docker_timeout_parse(NULL, &s), 0);
    assert_int_equal(s, DOCKER_TIMEOUT_DEFAULT_S);
    assert_int_equal(DOCKER_TIMEOUT_DEFAULT_S, 30);
    assert_int_equal(docker_timeout_parse("", &s), 0);
    assert_int_equal(s, 30);
    assert_int_equal(docker_timeout_parse("1", &s), 0);
    assert_int_equal(s, 1);
    assert_int_equal(docker_timeout_parse("3600", &s), 0);
    assert_int_equal(s, 3600);
    assert_int_equal(docker_timeout_parse("007", NULL), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(docker_timeout_parse(bad[i], &s), UV_EINVAL);

    /* docker_new reads it, and refuses a bad one. */
    assert_int_equal(uv_loop_init(&loop), 0);
    setenv("HDC_DOCKER_TIMEOUT", "soon", 1);
    assert_int_equal(docker_new(&loop, "unix:///tmp/none.sock", &d), UV_EINVAL);
    assert_null(d);
    unsetenv("HDC_DOCKER_TIMEOUT");
    assert_int_equal(uv_loop_close(&loop), 0);
}

static uint64_t now_ms(uv_loop_t *loop) {
    uv_update_time(loop);
    return uv_now(loop);
}

static void woken(uv_timer_t *t) {
    *(int *)t->data = 1;
}

/* Runs the loop for ms, whatever happens meanwhile. */
static void run_for(uv_loop_t *loop, uint64_t ms) {
    uv_timer_t t;
    int done = 0;

    uv_timer_init(loop, &t);
    t.data = &done;
    uv_timer_start(&t, woken, ms, 0);
    while (!done)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
}

/* What a call against the silent engine must say. */
static void assert_timed_out(const got *g, const char *addr, const char *what, unsigned s) {
    char want[256];

    assert_int_equal(g->calls, 1);
    assert_false(g->called_inside);
    assert_int_equal(g->status, UV_ETIMEDOUT);
    snprintf(want, sizeof(want), "the Docker engine at %s did not answer %s within %u s: ", addr,
             what, s);
    if (strncmp(g->msg, want, strlen(want)) != 0)
        fail_msg("'%s' does not start with '%s'", g->msg, want);
    assert_non_null(strstr(g->msg, "HDC_DOCKER_TIMEOUT"));
}

/* An engine that accepts connections and never answers: a quick call, the
 * streams, a wait, a stop, an exec and a build each fail with UV_ETIMEDOUT once
 * HDC_DOCKER_TIMEOUT (1 s here) has passed, with a message naming the
 * engine's address; a stop waits its grace on top. */
static void test_a_silent_engine_fails_every_kind_of_call_in_time(void **state) {
    uv_loop_t loop;
    fake f;
    docker *d;
    char addr[160], dir[] = "/tmp/hdc-test-silent-build-XXXXXX", p[256];
    docker_build_opts bo = {.context_dir = dir};
    docker_logs_opts follow = {.follow = 1};
    const char *cmd[] = {"true"};
    docker_exec_opts eo = {.cmd = cmd, .n_cmd = 1};
    got g[8];
    uint64_t t0, t_quick = 0, t_stop = 0;
    FILE *fp;
    int all = 0;

    assert_non_null(mkdtemp(dir));
    snprintf(p, sizeof(p), "%s/Dockerfile", dir);
    fp = fopen(p, "w");
    fputs("FROM scratch\n", fp);
    fclose(fp);
    assert_int_equal(uv_loop_init(&loop), 0);
    fake_start(&loop, &f, NULL, 0);
    f.silent = 1;
    snprintf(addr, sizeof(addr), "unix://%s", f.path);
    setenv("HDC_DOCKER_TIMEOUT", "1", 1);
    assert_int_equal(docker_new(&loop, addr, &d), 0);
    unsetenv("HDC_DOCKER_TIMEOUT");

    memset(g, 0, sizeof(g));
    for (int i = 0; i < 8; i++)
        g[i].inside_call = 1;
    t0 = now_ms(&loop);
    assert_int_equal(docker_container_list(d, "hdc.cluster", got_list, &g[0], NULL), 0);
    assert_int_equal(docker_events(d, NULL, got_event, got_plain, &g[1], NULL), 0);
    assert_int_equal(docker_logs(d, "c1", &follow, got_output, got_plain, &g[2], NULL), 0);
    assert_int_equal(docker_container_wait(d, "c1", got_code, &g[3], NULL), 0);
    assert_int_equal(docker_build(d, &bo, got_progress, got_id, &g[4], NULL), 0);
    assert_int_equal(docker_container_stop(d, "c1", 1, got_plain, &g[5], NULL), 0);
    assert_int_equal(docker_container_archive(d, "c1", "/etc", got_output, got_plain, &g[6], NULL),
                     0);
    assert_int_equal(docker_exec(d, "c1", &eo, got_output, got_code, &g[7], NULL), 0);
    for (int i = 0; i < 8; i++)
        g[i].inside_call = 0;
    for (int i = 0; i < 100000 && all < 8; i++) {
        uv_run(&loop, UV_RUN_ONCE);
        if (g[0].calls && !t_quick)
            t_quick = now_ms(&loop) - t0;
        if (g[5].calls && !t_stop)
            t_stop = now_ms(&loop) - t0;
        all = 0;
        for (int j = 0; j < 8; j++)
            all += g[j].calls;
    }
    assert_int_equal(all, 8);
    assert_timed_out(&g[0], addr, "container list", 1);
    assert_timed_out(&g[1], addr, "events", 1);
    assert_timed_out(&g[2], addr, "container logs", 1);
    assert_timed_out(&g[3], addr, "container wait", 1);
    assert_timed_out(&g[4], addr, "build", 1);
    assert_timed_out(&g[5], addr, "container stop", 2);
    assert_timed_out(&g[6], addr, "container archive", 1);
    assert_timed_out(&g[7], addr, "exec", 1);
    assert_true(t_quick >= 1000 && t_quick < 1900);
    assert_true(t_stop >= 2000 && t_stop < 4000);
    assert_string_equal(f.targets, ""); /* it never read a byte */

    docker_close(d, NULL, NULL);
    fake_stop(&f);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    snprintf(p, sizeof(p), "rm -rf '%s'", dir);
    assert_int_equal(system(p), 0);
}

/* Once the engine has started its answer, a stream runs as long as it
 * runs: a followed log and an exec's hijacked stream, both silent after
 * their head, outlive HDC_DOCKER_TIMEOUT (1 s) until canceled. */
static void test_streams_outlive_the_deadline_once_the_head_came(void **state) {
    uv_loop_t loop;
    fake f;
    docker *d;
    char addr[160];
    got g[2];
    docker_call *calls[2];
    const char *cmd[] = {"sleep", "1000"};
    docker_exec_opts eo = {.cmd = cmd, .n_cmd = 2};
    docker_logs_opts follow = {.follow = 1};

    assert_int_equal(uv_loop_init(&loop), 0);
    fake_start(&loop, &f, fake_routes, sizeof(fake_routes) / sizeof(fake_routes[0]));
    snprintf(addr, sizeof(addr), "unix://%s", f.path);
    setenv("HDC_DOCKER_TIMEOUT", "1", 1);
    assert_int_equal(docker_new(&loop, addr, &d), 0);
    unsetenv("HDC_DOCKER_TIMEOUT");

    memset(g, 0, sizeof(g));
    assert_int_equal(docker_logs(d, "hang", &follow, got_output, got_plain, &g[0], &calls[0]), 0);
    assert_int_equal(docker_exec(d, "c2", &eo, got_output, got_code, &g[1], &calls[1]), 0);
    run_for(&loop, 2500);
    assert_int_equal(g[0].calls, 0);
    assert_int_equal(g[1].calls, 0);
    assert_non_null(strstr(f.targets, "POST /v1.41/exec/e2/start"));
    for (int i = 0; i < 2; i++) {
        assert_int_equal(docker_call_cancel(calls[i]), 0);
        run_loop_until(&loop, &g[i].calls);
        assert_int_equal(g[i].status, UV_ECANCELED);
    }

    docker_close(d, NULL, NULL);
    fake_stop(&f);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_context_is_archived_with_relative_paths),
        cmocka_unit_test(test_no_engine_says_what_to_do),
        cmocka_unit_test(test_docker_host_is_honoured),
        cmocka_unit_test(test_streams_and_errors_against_a_fake_engine),
        cmocka_unit_test(test_put_archive_and_the_labels_of_a_list),
        cmocka_unit_test(test_pause_unpause_connect_and_disconnect),
        cmocka_unit_test(test_pacing_caps_the_starts_in_flight),
        cmocka_unit_test(test_docker_pace_takes_0_to_1024),
        cmocka_unit_test(test_docker_timeout_takes_whole_seconds_from_1_to_3600),
        cmocka_unit_test(test_a_silent_engine_fails_every_kind_of_call_in_time),
        cmocka_unit_test(test_streams_outlive_the_deadline_once_the_head_came),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
