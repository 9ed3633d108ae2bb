/* Tests of engine/http.c: first the pure response parser, fed canned
 * responses split at every byte and in random pieces; then the client on a
 * real loop, against a small HTTP server written here on the same loop
 * (TCP on 127.0.0.1 and a unix socket in a temporary directory). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "http.h"

/* ============================ parser tests ============================ */

/* Every parser event, written down in a form that does not depend on how
 * the input was split: body runs are joined. */
typedef struct transcript {
    char *s;
    size_t len, cap;
    char last;
    int pause_on_complete;
} transcript;

static void tr_add(transcript *t, const char *buf, size_t len) {
    if (t->len + len + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 1024;
        while (cap < t->len + len + 1)
            cap *= 2;
        t->s = realloc(t->s, cap);
        assert_non_null(t->s);
        t->cap = cap;
    }
    memcpy(t->s + t->len, buf, len);
    t->len += len;
    t->s[t->len] = '\0';
}

static void tr_str(transcript *t, const char *s) {
    tr_add(t, s, strlen(s));
}

static void tr_end_body(transcript *t) {
    if (t->last == 'B')
        tr_str(t, "\n");
}

static int tr_on_head(void *data, const http_response *res) {
    transcript *t = data;
    char line[64];
    tr_end_body(t);
    snprintf(line, sizeof(line), "H%d", res->status);
    tr_str(t, line);
    for (size_t i = 0; i < res->n_headers; i++) {
        tr_str(t, " ");
        tr_str(t, res->headers[i].name);
        tr_str(t, "=");
        tr_str(t, res->headers[i].value);
    }
    tr_str(t, "\n");
    t->last = 'H';
    return 0;
}

static int tr_on_body(void *data, const char *buf, size_t len) {
    transcript *t = data;
    assert_true(len > 0);
    if (t->last != 'B')
        tr_str(t, "B:");
    tr_add(t, buf, len);
    t->last = 'B';
    return 0;
}

static int tr_on_upgrade(void *data, size_t offset) {
    transcript *t = data;
    tr_end_body(t);
    tr_str(t, "U\n");
    t->last = 'U';
    return 0;
}

static int tr_on_complete(void *data) {
    transcript *t = data;
    tr_end_body(t);
    tr_str(t, "C\n");
    t->last = 'C';
    return t->pause_on_complete ? HTTP_PARSER_PAUSE : 0;
}

static const http_parser_cbs tr_cbs = {
    .on_head = tr_on_head,
    .on_body = tr_on_body,
    .on_upgrade = tr_on_upgrade,
    .on_complete = tr_on_complete,
};

static void tr_error(transcript *t, int err) {
    char line[32];
    tr_end_body(t);
    snprintf(line, sizeof(line), "E%d\n", err);
    tr_str(t, line);
}

/* Feeds input in pieces ending at cuts[0..n_cuts), then the rest, then EOF;
 * returns the transcript (to free). Pauses are resumed at once. */
static char *parse_pieces(const char *input, size_t len, unsigned flags, const size_t *cuts,
                          size_t n_cuts, int pause) {
    transcript t = {.pause_on_complete = pause};
    http_parser *p;
    size_t at = 0;

    assert_int_equal(http_parser_new(flags, &tr_cbs, &t, &p), 0);
    tr_str(&t, "");
    for (size_t i = 0; i <= n_cuts; i++) {
        size_t end = i < n_cuts ? cuts[i] : len;
        while (at < end) {
            ssize_t n = http_parser_feed(p, input + at, end - at);
            if (n < 0) {
                tr_error(&t, (int)n);
                /* The error sticks. */
                assert_int_equal(http_parser_feed(p, "x", 1), n);
                assert_int_equal(http_parser_finish(p), n);
                goto out;
            }
            assert_true((size_t)n <= end - at);
            assert_true(n > 0 || pause);
            at += (size_t)n;
        }
    }
    int rc = http_parser_finish(p);
    if (rc != 0)
        tr_error(&t, rc);
    else
        tr_str(&t, "F\n");
out:
    http_parser_free(p);
    return t.s;
}

static uint32_t rng_state;

static uint32_t rng(void) {
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8;
}

/* The transcript of input must be expected whole, cut at every byte
 * boundary (or every stride-th for long inputs), fed one byte at a time,
 * and in random pieces from a fixed seed. */
static void check_splits(const char *input, size_t len, unsigned flags, const char *expected) {
    char *s = parse_pieces(input, len, flags, NULL, 0, 0);
    if (strcmp(s, expected) != 0)
        print_error("whole input gave:\n%s\nexpected:\n%s\n", s, expected);
    assert_string_equal(s, expected);
    free(s);

    size_t stride = len > 4096 ? 997 : 1;
    for (size_t cut = 0; cut <= len; cut += stride) {
        for (int pause = 0; pause <= 1; pause++) {
            s = parse_pieces(input, len, flags, &cut, 1, pause);
            if (strcmp(s, expected) != 0)
                print_error("cut at %zu (pause %d) gave:\n%s\n", cut, pause, s);
            assert_string_equal(s, expected);
            free(s);
        }
    }

    size_t *cuts = malloc((len + 1) * sizeof(*cuts));
    assert_non_null(cuts);
    if (len <= 4096) {
        for (size_t i = 0; i < len; i++)
            cuts[i] = i + 1;
        s = parse_pieces(input, len, flags, cuts, len, 0);
        assert_string_equal(s, expected);
        free(s);
    }
    rng_state = 20261125;
    for (int round = 0; round < 40; round++) {
        size_t n = 0, at = 0;
        size_t max = 1 + round % 17 + (len > 4096 ? 3000 : 0);
        while (at < len) {
            at += 1 + rng() % max;
            if (at > len)
                at = len;
            cuts[n++] = at;
        }
        s = parse_pieces(input, len, flags, cuts, n, round & 1);
        assert_string_equal(s, expected);
        free(s);
    }
    free(cuts);
}

#define CHECK(input, flags, expected) check_splits(input, sizeof(input) - 1, flags, expected)

static char eparse[32], etrunc[32];

static int parser_setup(void **state) {
    snprintf(eparse, sizeof(eparse), "E%d\n", HTTP_EPARSE);
    snprintf(etrunc, sizeof(etrunc), "E%d\n", HTTP_ETRUNC);
    return 0;
}

static char *cat(const char *a, const char *b) {
    static char buf[4096];
    snprintf(buf, sizeof(buf), "%s%s", a, b);
    return buf;
}

static void test_parser_content_length(void **state) {
    CHECK("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
          "X-Empty:\r\n\r\nhello",
          0, "H200 Content-Type=text/plain Content-Length=5 X-Empty=\nB:hello\nC\nF\n");
}

static void test_parser_docker_ping(void **state) {
    CHECK("HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nCache-Control: no-cache, no-store, "
          "must-revalidate\r\nDocker-Experimental: false\r\nOstype: linux\r\nPragma: "
          "no-cache\r\nServer: Docker/20.10.24+dfsg1 (linux)\r\nDate: Wed, 25 Nov 2026 "
          "09:11:03 GMT\r\nContent-Length: 2\r\nContent-Type: text/plain; "
          "charset=utf-8\r\n\r\nOK",
          0,
          "H200 Api-Version=1.41 Cache-Control=no-cache, no-store, must-revalidate "
          "Docker-Experimental=false Ostype=linux Pragma=no-cache Server=Docker/20.10.24+dfsg1 "
          "(linux) Date=Wed, 25 Nov 2026 09:11:03 GMT Content-Length=2 "
          "Content-Type=text/plain; charset=utf-8\nB:OK\nC\nF\n");
}

static void test_parser_chunked_with_extensions_and_trailers(void **state) {
    CHECK("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          "5;name=value\r\nhello\r\n6;flag\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n",
          0, "H200 Transfer-Encoding=chunked\nB:hello world\nC\nF\n");
}

static void test_parser_close_delimited_body(void **state) {
    CHECK("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end\r\nof the stream", 0,
          "H200 Connection=close\nB:until the end\r\nof the stream\nC\nF\n");
}

static void test_parser_two_keepalive_responses(void **state) {
    CHECK("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK"
          "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nnot found\r\n0\r\n\r\n",
          0,
          "H200 Content-Length=2\nB:OK\nC\n"
          "H404 Transfer-Encoding=chunked\nB:not found\nC\nF\n");
}

static void test_parser_101_upgrade_then_raw_bytes(void **state) {
    /* The raw part looks like HTTP on purpose: it must not be parsed. */
    CHECK("HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
          "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
          "\x01\x00\x00\x00\x00\x00\x00\x03hi\nHTTP/1.1 200 OK\r\n\r\n",
          0,
          "H101 Content-Type=application/vnd.docker.raw-stream Connection=Upgrade Upgrade=tcp\n"
          "U\nB:\x01\x00\x00\x00\x00\x00\x00\x03hi\nHTTP/1.1 200 OK\r\n\r\n\nC\nF\n");
}

static void test_parser_101_upgrade_without_raw_bytes(void **state) {
    CHECK("HTTP/1.1 101 Switching Protocols\r\nUpgrade: tcp\r\nConnection: Upgrade\r\n\r\n",
          HTTP_PARSER_UPGRADE, "H101 Upgrade=tcp Connection=Upgrade\nU\nC\nF\n");
}

static void test_parser_hijacked_200(void **state) {
    const char in[] = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
                      "\r\nraw bytes\r\n\r\nmore";
    /* Asked for an upgrade: the connection is raw after the head. */
    check_splits(in, sizeof(in) - 1, HTTP_PARSER_UPGRADE,
                 "H200 Content-Type=application/vnd.docker.raw-stream\nU\n"
                 "B:raw bytes\r\n\r\nmore\nC\nF\n");
    /* Not asked: a body delimited by the close. */
    check_splits(in, sizeof(in) - 1, 0,
                 "H200 Content-Type=application/vnd.docker.raw-stream\n"
                 "B:raw bytes\r\n\r\nmore\nC\nF\n");
    /* Asked, but the 200 has a length: an ordinary response. */
    CHECK("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", HTTP_PARSER_UPGRADE,
          "H200 Content-Length=3\nB:abc\nC\nF\n");
}

static void test_parser_204_304_without_body(void **state) {
    CHECK("HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n"
          "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n"
          "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
          0, "H204 X-A=1\nC\nH304 ETag=\"v1\"\nC\nH200 Content-Length=0\nC\nF\n");
}

static void test_parser_interim_100_is_skipped(void **state) {
    CHECK("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", 0,
          "H200 Content-Length=1\nB:x\nC\nF\n");
}

static void test_parser_head_response_has_no_body(void **state) {
    CHECK("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", HTTP_PARSER_HEAD,
          "H200 Content-Length=100\nC\nF\n");
}

static void test_parser_bad_status_line(void **state) {
    CHECK("HTTP/1.1 abc OK\r\n\r\n", 0, eparse);
    CHECK("garbage\r\n\r\n", 0, eparse);
    CHECK("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0, eparse);
}

static void test_parser_bad_chunk_size(void **state) {
    CHECK("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 0,
          cat("H200 Transfer-Encoding=chunked\n", eparse));
}

static void test_parser_truncated_at_eof(void **state) {
    CHECK("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 0,
          cat("H200 Content-Length=10\nB:abc\n", etrunc));
    CHECK("HTTP/1.1 200 OK\r\nContent-Le", 0, etrunc);
    CHECK("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", 0,
          cat("H200 Transfer-Encoding=chunked\nB:hel\n", etrunc));
}

static void test_parser_garbage_after_headers(void **state) {
    CHECK("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOKgarbage, not a response", 0,
          cat("H200 Content-Length=2\nB:OK\nC\n", eparse));
    CHECK("HTTP/1.1 200 OK\r\nno colon in this line\r\n\r\n", 0, eparse);
    CHECK("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nOK", 0, eparse);
}

static void test_parser_header_overflow(void **state) {
    size_t len = HTTP_MAX_HEAD + 1024;
    char *in = malloc(len + 64);
    size_t n = (size_t)sprintf(in, "HTTP/1.1 200 OK\r\nX-Big: ");
    memset(in + n, 'a', len - n);
    n = len;
    n += (size_t)sprintf(in + n, "\r\nContent-Length: 0\r\n\r\n");
    check_splits(in, n, 0, eparse);

    /* Too many headers, each of them small. */
    n = (size_t)sprintf(in, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i <= HTTP_MAX_HEADERS; i++)
        n += (size_t)sprintf(in + n, "X-%d: v\r\n", i);
    n += (size_t)sprintf(in + n, "\r\n");
    check_splits(in, n, 0, eparse);
    free(in);
}

static int stop_on_head(void *data, const http_response *res) {
    return UV_ECANCELED;
}

static void test_parser_pause_and_callback_errors(void **state) {
    const char two[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK"
                       "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    transcript t = {.pause_on_complete = 1};
    http_parser *p;

    /* A pause in on_complete returns the bytes of the first response. */
    assert_int_equal(http_parser_new(0, &tr_cbs, &t, &p), 0);
    ssize_t n = http_parser_feed(p, two, sizeof(two) - 1);
    assert_int_equal(n, strlen("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK"));
    assert_non_null(http_parser_response(p));
    assert_int_equal(http_parser_response(p)->status, 200);
    assert_true(http_parser_keep_alive(p));
    assert_int_equal(http_parser_feed(p, two + n, sizeof(two) - 1 - (size_t)n),
                     sizeof(two) - 1 - (size_t)n);
    assert_int_equal(http_parser_finish(p), 0);
    /* Bytes after EOF are an error. */
    assert_int_equal(http_parser_feed(p, "x", 1), HTTP_EPARSE);
    http_parser_free(p);
    free(t.s);

    /* Connection: close means no reuse. */
    t = (transcript){0};
    assert_int_equal(http_parser_new(0, &tr_cbs, &t, &p), 0);
    const char closing[] = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
    assert_int_equal(http_parser_feed(p, closing, sizeof(closing) - 1), sizeof(closing) - 1);
    assert_false(http_parser_keep_alive(p));
    http_parser_free(p);
    free(t.s);

    /* A callback's error stops the parser and sticks. */
    http_parser_cbs cbs = {.on_head = stop_on_head};
    assert_int_equal(http_parser_new(0, &cbs, NULL, &p), 0);
    assert_int_equal(http_parser_feed(p, closing, sizeof(closing) - 1), UV_ECANCELED);
    assert_int_equal(http_parser_finish(p), UV_ECANCELED);
    http_parser_free(p);

    /* EOF before any byte is clean; so is an empty feed. */
    assert_int_equal(http_parser_new(0, NULL, NULL, &p), 0);
    assert_int_equal(http_parser_feed(p, "", 0), 0);
    assert_null(http_parser_response(p));
    assert_int_equal(http_parser_finish(p), 0);
    http_parser_free(p);
}

/* ========================= a server on the loop ========================= */

typedef union thandle {
    uv_handle_t h;
    uv_stream_t s;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
} thandle;

typedef struct tsrv tsrv;

typedef struct tconn {
    thandle u;
    tsrv *srv;
    char *buf;
    size_t len, cap;
    int echo, closing;
    struct tconn *next, *prev;
} tconn;

struct tsrv {
    uv_loop_t *loop;
    thandle l;
    int is_unix, closed;
    char dir[64], path[128], address[192];
    int accepted, requests;
    tconn *conns;
    tconn *stream_conn;
    int stream_sent;
    int silent;        /* accept, then never read nor answer (a hung engine) */
    uint64_t tick_ms;  /* /slowstream: a chunk every tick_ms */
    uint64_t pause_ms; /* stop reading for pause_ms after each read (a slow reader) */
    tconn *paused;     /* the connection whose reading waits for the timer */
    uv_timer_t timer;  /* /slowstream's ticks, or a paused reader's restart */
    void (*on_request)(tsrv *srv, const char *target);
    void *ctx;
};

typedef struct twrite {
    uv_write_t w;
    tconn *c;
    int close_after;
    char data[];
} twrite;

static void tconn_closed(uv_handle_t *h) {
    tconn *c = h->data;
    if (c->prev)
        c->prev->next = c->next;
    else
        c->srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c->buf);
    free(c);
}

static void tconn_close(tconn *c) {
    if (c->closing)
        return;
    c->closing = 1;
    if (c->srv->stream_conn == c)
        c->srv->stream_conn = NULL;
    if (c->srv->paused == c)
        c->srv->paused = NULL;
    uv_close(&c->u.h, tconn_closed);
}

static void twrite_cb(uv_write_t *w, int status) {
    twrite *tw = (twrite *)w;
    if (tw->close_after)
        tconn_close(tw->c);
    free(tw);
}

static void tconn_write(tconn *c, const char *data, size_t len, int close_after) {
    if (c->closing)
        return;
    twrite *tw = malloc(sizeof(*tw) + len);
    assert_non_null(tw);
    tw->c = c;
    tw->close_after = close_after;
    memcpy(tw->data, data, len);
    uv_buf_t b = uv_buf_init(tw->data, (unsigned)len);
    if (uv_write(&tw->w, &c->u.s, &b, 1, twrite_cb) != 0) {
        free(tw);
        tconn_close(c);
    }
}

static void tconn_printf(tconn *c, int close_after, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    tconn_write(c, buf, (size_t)n, close_after);
}

static uint32_t fnv1a(const char *p, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h;
}

/* The value of a request header, copied into out; "" when absent. */
static void req_header(const char *head, size_t head_len, const char *name, char *out,
                       size_t out_len) {
    size_t nl = strlen(name);
    out[0] = '\0';
    for (const char *p = head; p && p < head + head_len; p = strstr(p, "\r\n")) {
        if (p[0] == '\r')
            p += 2;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            size_t vl = strcspn(v, "\r");
            if (vl >= out_len)
                vl = out_len - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return;
        }
    }
}

static void tsrv_stream_next(tsrv *srv) {
    tconn *c = srv->stream_conn;
    if (c == NULL)
        return;
    if (srv->stream_sent < 4) {
        tconn_printf(c, 0, "5\r\npart%d\r\n", srv->stream_sent++);
    } else {
        tconn_write(c, "0\r\n\r\n", 5, 0);
        srv->stream_conn = NULL;
    }
}

static void tsrv_timer(uv_timer_t *t);

static void tsrv_handle(tconn *c, const char *head, size_t head_len, const char *body,
                        size_t body_len) {
    tsrv *srv = c->srv;
    char method[16] = "", target[256] = "", host[64], upgrade[64], connection[64];

    sscanf(head, "%15s %255s", method, target);
    req_header(head, head_len, "Host", host, sizeof(host));
    req_header(head, head_len, "Upgrade", upgrade, sizeof(upgrade));
    req_header(head, head_len, "Connection", connection, sizeof(connection));
    srv->requests++;

    if (strcmp(target, "/hello") == 0) {
        tconn_printf(c, 0, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Host: %s\r\n\r\nhello", host);
    } else if (strcmp(target, "/then-close") == 0) {
        tconn_printf(c, 1, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK");
    } else if (strcmp(target, "/stream") == 0) {
        tconn_printf(c, 0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        srv->stream_conn = c;
        srv->stream_sent = 0;
        tsrv_stream_next(srv);
    } else if (strcmp(target, "/slowstream") == 0) {
        /* The head at once, then a chunk every tick_ms. */
        tconn_printf(c, 0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        srv->stream_conn = c;
        srv->stream_sent = 0;
        uv_timer_start(&srv->timer, tsrv_timer, srv->tick_ms, srv->tick_ms);
    } else if (strcmp(target, "/big") == 0) {
        char big[1000];
        memset(big, 'x', sizeof(big));
        tconn_printf(c, 0, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
        tconn_write(c, big, sizeof(big), 0);
    } else if (strcmp(target, "/bigchunked") == 0) {
        char chunk[100];
        memset(chunk, 'y', sizeof(chunk));
        tconn_printf(c, 0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < 10; i++) {
            tconn_printf(c, 0, "64\r\n");
            tconn_write(c, chunk, sizeof(chunk), 0);
            tconn_printf(c, 0, "\r\n");
        }
        tconn_printf(c, 0, "0\r\n\r\n");
    } else if (strcmp(target, "/upload") == 0) {
        char reply[64];
        int n = snprintf(reply, sizeof(reply), "len=%zu sum=%08x", body_len, fnv1a(body, body_len));
        tconn_printf(c, 0, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", n, reply);
    } else if (strcmp(target, "/upgrade") == 0 || strcmp(target, "/hijack") == 0) {
        if (strcasecmp(upgrade, "tcp") != 0 || strcasecmp(connection, "Upgrade") != 0) {
            tconn_printf(c, 0, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        } else if (target[1] == 'u') {
            tconn_printf(c, 0,
                         "HTTP/1.1 101 UPGRADED\r\nContent-Type: "
                         "application/vnd.docker.raw-stream\r\nConnection: "
                         "Upgrade\r\nUpgrade: tcp\r\n\r\nwelcome:");
            c->echo = 1;
        } else {
            tconn_printf(c, 0,
                         "HTTP/1.1 200 OK\r\nContent-Type: "
                         "application/vnd.docker.raw-stream\r\n\r\nwelcome:");
            c->echo = 1;
        }
    } else if (strcmp(target, "/drop") == 0) {
        tconn_close(c);
    } else if (strcmp(target, "/trunc") == 0) {
        tconn_printf(c, 1, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    } else if (strcmp(target, "/slow") == 0) {
        /* No answer. */
    } else {
        tconn_printf(c, 0, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    }
    if (srv->on_request != NULL)
        srv->on_request(srv, target);
}

static void tconn_process(tconn *c) {
    while (!c->echo && !c->closing) {
        char *end = c->len >= 4 ? memmem(c->buf, c->len, "\r\n\r\n", 4) : NULL;
        char cl[32];
        if (end == NULL)
            return;
        size_t head_len = (size_t)(end - c->buf) + 4;
        req_header(c->buf, head_len, "Content-Length", cl, sizeof(cl));
        size_t body_len = strtoul(cl, NULL, 10);
        if (c->len < head_len + body_len)
            return;
        c->buf[head_len - 1] = '\0'; /* the head as a string, for sscanf */
        tsrv_handle(c, c->buf, head_len - 1, c->buf + head_len, body_len);
        memmove(c->buf, c->buf + head_len + body_len, c->len - head_len - body_len);
        c->len -= head_len + body_len;
        c->buf[c->len] = '\0';
    }
    if (c->echo && c->len > 0) {
        tconn_write(c, c->buf, c->len, 0);
        c->len = 0;
    }
}

static void tconn_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf) {
    *buf = uv_buf_init(malloc(65536), 65536);
}

static void tconn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    tconn *c = s->data;
    if (nread < 0) {
        tconn_close(c);
    } else if (nread > 0 && !c->closing) {
        if (c->len + (size_t)nread + 1 > c->cap) {
            c->cap = (c->len + (size_t)nread + 1) * 2;
            c->buf = realloc(c->buf, c->cap);
            assert_non_null(c->buf);
        }
        memcpy(c->buf + c->len, buf->base, (size_t)nread);
        c->len += (size_t)nread;
        c->buf[c->len] = '\0';
        tconn_process(c);
        if (c->srv->pause_ms > 0 && !c->closing) {
            uv_read_stop(&c->u.s);
            c->srv->paused = c;
            uv_timer_start(&c->srv->timer, tsrv_timer, c->srv->pause_ms, 0);
        }
    }
    free(buf->base);
}

static void tsrv_timer(uv_timer_t *t) {
    tsrv *srv = t->data;
    tconn *c = srv->paused;

    if (c != NULL) {
        srv->paused = NULL;
        assert_int_equal(uv_read_start(&c->u.s, tconn_alloc, tconn_read), 0);
        return;
    }
    tsrv_stream_next(srv);
    if (srv->stream_conn == NULL)
        uv_timer_stop(t);
}

static void tsrv_on_connection(uv_stream_t *l, int status) {
    tsrv *srv = l->data;
    assert_int_equal(status, 0);
    tconn *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    c->srv = srv;
    if (srv->is_unix)
        uv_pipe_init(srv->loop, &c->u.pipe, 0);
    else
        uv_tcp_init(srv->loop, &c->u.tcp);
    c->u.h.data = c;
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    assert_int_equal(uv_accept(l, &c->u.s), 0);
    srv->accepted++;
    if (srv->silent)
        return;
    assert_int_equal(uv_read_start(&c->u.s, tconn_alloc, tconn_read), 0);
}

static void tsrv_start(tsrv *srv, uv_loop_t *loop, int is_unix) {
    memset(srv, 0, sizeof(*srv));
    srv->loop = loop;
    srv->is_unix = is_unix;
    assert_int_equal(uv_timer_init(loop, &srv->timer), 0);
    srv->timer.data = srv;
    if (is_unix) {
        strcpy(srv->dir, "/tmp/hdc-test-http-XXXXXX");
        assert_non_null(mkdtemp(srv->dir));
        snprintf(srv->path, sizeof(srv->path), "%s/s.sock", srv->dir);
        assert_int_equal(uv_pipe_init(loop, &srv->l.pipe, 0), 0);
        assert_int_equal(uv_pipe_bind(&srv->l.pipe, srv->path), 0);
        snprintf(srv->address, sizeof(srv->address), "unix://%s", srv->path);
    } else {
        struct sockaddr_in addr;
        struct sockaddr_storage bound;
        int len = sizeof(bound);
        assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &addr), 0);
        assert_int_equal(uv_tcp_init(loop, &srv->l.tcp), 0);
        assert_int_equal(uv_tcp_bind(&srv->l.tcp, (struct sockaddr *)&addr, 0), 0);
        assert_int_equal(uv_tcp_getsockname(&srv->l.tcp, (struct sockaddr *)&bound, &len), 0);
        srv->address[0] = '\0';
        snprintf(srv->address, sizeof(srv->address), "tcp://127.0.0.1:%d",
                 ntohs(((struct sockaddr_in *)&bound)->sin_port));
    }
    srv->l.h.data = srv;
    assert_int_equal(uv_listen(&srv->l.s, 16, tsrv_on_connection), 0);
}

static void tsrv_closed(uv_handle_t *h) {
    ((tsrv *)h->data)->closed = 1;
}

static void tsrv_stop(tsrv *srv) {
    if (!uv_is_closing((uv_handle_t *)&srv->timer))
        uv_close((uv_handle_t *)&srv->timer, NULL);
    if (!uv_is_closing(&srv->l.h))
        uv_close(&srv->l.h, tsrv_closed);
    for (tconn *c = srv->conns; c != NULL; c = c->next)
        tconn_close(c);
}

/* ========================== client-side helpers ========================== */

static int g_in_start;

typedef struct call {
    int done, status, http_status, head_calls, data_calls, data_calls_at_done;
    char *data;
    size_t data_len;
    char *body;
    size_t body_len;
    char x_host[64];
    http_request *req;
    void (*after_done)(struct call *c);
    void (*after_data)(struct call *c);
    void *ctx;
} call;

static void call_on_head(void *data, const http_response *res) {
    call *c = data;
    assert_false(g_in_start);
    c->head_calls++;
    c->http_status = res->status;
}

static void call_on_data(void *data, const char *buf, size_t len) {
    call *c = data;
    assert_false(g_in_start);
    assert_int_equal(c->done, 0);
    c->data = realloc(c->data, c->data_len + len + 1);
    memcpy(c->data + c->data_len, buf, len);
    c->data_len += len;
    c->data[c->data_len] = '\0';
    c->data_calls++;
    if (c->after_data != NULL)
        c->after_data(c);
}

static void call_on_done(void *data, int status, const http_response *res) {
    call *c = data;
    assert_false(g_in_start);
    c->done++;
    c->status = status;
    c->req = NULL;
    c->data_calls_at_done = c->data_calls;
    if (res != NULL) {
        const char *h = http_response_header(res, "x-host");
        c->http_status = res->status;
        if (h != NULL)
            snprintf(c->x_host, sizeof(c->x_host), "%s", h);
        if (res->body != NULL) {
            assert_int_equal(res->body[res->body_len], '\0');
            c->body = malloc(res->body_len + 1);
            memcpy(c->body, res->body, res->body_len + 1);
            c->body_len = res->body_len;
        }
    }
    if (c->after_done != NULL)
        c->after_done(c);
}

static const http_request_cbs call_cbs = {
    .on_head = call_on_head,
    .on_data = call_on_data,
    .on_done = call_on_done,
};

static void call_reset(call *c) {
    free(c->data);
    free(c->body);
    void (*after_done)(call *) = c->after_done;
    void *ctx = c->ctx;
    memset(c, 0, sizeof(*c));
    c->after_done = after_done;
    c->ctx = ctx;
}

/* Starts a request; on_done must not run inside this call (g_in_start). */
static int start(http_client *client, call *c, const char *method, const char *target,
                 unsigned flags, uint64_t timeout_ms, size_t max_body) {
    http_request_opts opts = {
        .method = method,
        .target = target,
        .flags = flags,
        .timeout_ms = timeout_ms,
        .max_body = max_body,
    };
    g_in_start = 1;
    int rc = http_request_start(client, &opts, &call_cbs, c, &c->req);
    g_in_start = 0;
    return rc;
}

static void watchdog_cb(uv_timer_t *t) {
    *(int *)t->data = 1;
}

/* Runs the loop until *flag; a watchdog turns a hang into a failure. */
static void run_until(uv_loop_t *loop, const int *flag) {
    uv_timer_t dog;
    int fired = 0;
    uv_timer_init(loop, &dog);
    dog.data = &fired;
    uv_timer_start(&dog, watchdog_cb, 20000, 0);
    while (!*flag && !fired)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&dog, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    assert_false(fired);
}

typedef struct fixture {
    uv_loop_t loop;
    tsrv srv;
    http_client *client;
    int client_closed;
} fixture;

static void fixture_client_closed(void *data) {
    fixture *f = data;
    f->client_closed++;
}

static void fixture_open(fixture *f, int is_unix, const char *host) {
    memset(f, 0, sizeof(*f));
    assert_int_equal(uv_loop_init(&f->loop), 0);
    tsrv_start(&f->srv, &f->loop, is_unix);
    assert_int_equal(http_client_new(&f->loop, f->srv.address, host, &f->client), 0);
}

/* Closes everything and checks that no handle is left behind. */
static void fixture_close(fixture *f) {
    if (f->client != NULL && !f->client_closed) {
        http_client_close(f->client, fixture_client_closed, f);
        run_until(&f->loop, &f->client_closed);
    }
    assert_int_equal(f->client_closed, 1);
    tsrv_stop(&f->srv);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    if (f->srv.is_unix) {
        unlink(f->srv.path);
        rmdir(f->srv.dir);
    }
}

/* ============================== loop tests ============================== */

typedef struct seq {
    fixture *f;
    int left, finished;
    call c;
} seq;

static void seq_next(call *c) {
    seq *s = c->ctx;
    assert_int_equal(c->status, 0);
    assert_int_equal(c->http_status, 200);
    assert_string_equal(c->data, "hello");
    if (--s->left == 0) {
        s->finished = 1;
        return;
    }
    call_reset(c);
    assert_int_equal(start(s->f->client, c, "GET", "/hello", 0, 5000, 0), 0);
}

static void run_sequence(fixture *f, int n) {
    seq s = {.f = f, .left = n};
    s.c.after_done = seq_next;
    s.c.ctx = &s;
    assert_int_equal(start(f->client, &s.c, "GET", "/hello", 0, 5000, 0), 0);
    run_until(&f->loop, &s.finished);
    call_reset(&s.c);
}

static void test_keepalive_sequential_requests_share_one_tcp_connection(void **state) {
    fixture f;
    fixture_open(&f, 0, NULL);
    run_sequence(&f, 10);
    assert_int_equal(f.srv.requests, 10);
    assert_int_equal(f.srv.accepted, 1);
    fixture_close(&f);
}

static void test_keepalive_over_unix_socket_with_host_header(void **state) {
    fixture f;
    call c = {0};
    fixture_open(&f, 1, "docker");
    run_sequence(&f, 5);
    assert_int_equal(f.srv.accepted, 1);
    assert_int_equal(start(f.client, &c, "GET", "/hello", HTTP_BUFFER_BODY, 5000, 0), 0);
    run_until(&f.loop, &c.done);
    assert_string_equal(c.x_host, "docker");
    assert_string_equal(c.body, "hello");
    assert_int_equal(c.data_calls, 0);
    assert_int_equal(f.srv.accepted, 1);
    call_reset(&c);
    fixture_close(&f);
}

typedef struct chain {
    fixture *f;
    call second;
} chain;

static void chain_start_second(call *c) {
    chain *ch = c->ctx;
    assert_int_equal(c->status, 0);
    assert_int_equal(start(ch->f->client, &ch->second, "GET", "/hello", 0, 5000, 0), 0);
}

static void test_server_closing_idle_connection_then_next_request_succeeds(void **state) {
    fixture f;
    chain ch = {.f = &f};
    call first = {.after_done = chain_start_second, .ctx = &ch};

    /* At once: the second request goes out on the connection the server is
     * closing, and is retried on a new one. */
    fixture_open(&f, 0, NULL);
    assert_int_equal(start(f.client, &first, "GET", "/then-close", 0, 5000, 0), 0);
    run_until(&f.loop, &ch.second.done);
    assert_int_equal(ch.second.status, 0);
    assert_int_equal(ch.second.http_status, 200);
    assert_string_equal(ch.second.data, "hello");
    assert_int_equal(f.srv.accepted, 2);
    call_reset(&first);
    call_reset(&ch.second);

    /* Later: the close was seen while idle and the connection dropped. */
    first.after_done = NULL;
    assert_int_equal(start(f.client, &first, "GET", "/then-close", 0, 5000, 0), 0);
    run_until(&f.loop, &first.done);
    while (f.srv.conns != NULL)
        uv_run(&f.loop, UV_RUN_ONCE);
    for (int i = 0; i < 10; i++)
        uv_run(&f.loop, UV_RUN_NOWAIT);
    call_reset(&ch.second);
    assert_int_equal(start(f.client, &ch.second, "GET", "/hello", 0, 5000, 0), 0);
    run_until(&f.loop, &ch.second.done);
    assert_int_equal(ch.second.status, 0);
    assert_string_equal(ch.second.data, "hello");
    assert_int_equal(f.srv.accepted, 3);
    call_reset(&first);
    call_reset(&ch.second);
    fixture_close(&f);
}

static void test_concurrent_requests_use_separate_connections_then_the_pool(void **state) {
    fixture f;
    call c[3] = {{0}};
    fixture_open(&f, 0, NULL);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 3; i++)
            assert_int_equal(start(f.client, &c[i], "GET", "/hello", 0, 5000, 0), 0);
        for (int i = 0; i < 3; i++) {
            run_until(&f.loop, &c[i].done);
            assert_int_equal(c[i].status, 0);
            assert_string_equal(c[i].data, "hello");
            call_reset(&c[i]);
        }
        assert_int_equal(f.srv.accepted, 3);
    }
    fixture_close(&f);
}

static void test_failure_on_reused_connection_is_retried_once_only(void **state) {
    fixture f;
    call c = {0};
    fixture_open(&f, 0, NULL);
    run_sequence(&f, 1);
    assert_int_equal(f.srv.accepted, 1);
    /* The server drops the reused connection, then the new one too. */
    assert_int_equal(start(f.client, &c, "GET", "/drop", 0, 5000, 0), 0);
    run_until(&f.loop, &c.done);
    assert_int_equal(c.status, HTTP_ETRUNC);
    assert_int_equal(f.srv.accepted, 2);
    assert_int_equal(f.srv.requests, 3);
    call_reset(&c);
    /* On a new connection there is no retry at all. */
    assert_int_equal(start(f.client, &c, "GET", "/drop", 0, 5000, 0), 0);
    run_until(&f.loop, &c.done);
    assert_int_equal(c.status, HTTP_ETRUNC);
    assert_int_equal(f.srv.accepted, 3);
    call_reset(&c);
    fixture_close(&f);
}

static void test_truncated_response_gives_etrunc_with_head(void **state) {
    fixture f;
    call c = {0};
    fixture_open(&f, 1, "docker");
    assert_int_equal(start(f.client, &c, "GET", "/trunc", 0, 5000, 0), 0);
    run_until(&f.loop, &c.done);
    assert_int_equal(c.status, HTTP_ETRUNC);
    assert_int_equal(c.http_status, 200);
    assert_string_equal(c.data, "abc");
    call_reset(&c);
    fixture_close(&f);
}

/* Every start path: a fresh connection, a pooled one, a connect that fails
 * inside uv_tcp_connect, a missing body file; on_done comes later for all
 * (call_on_done also asserts it is not inside start()). */
static void test_on_done_is_never_called_inside_request_start(void **state) {
    fixture f;
    call c[4] = {{0}};
    http_client *bad;
    fixture_open(&f, 0, NULL);
    run_sequence(&f, 1);
    assert_int_equal(http_client_new(&f.loop, "tcp://255.255.255.255:80", NULL, &bad), 0);
    assert_int_equal(start(f.client, &c[0], "GET", "/hello", 0, 5000, 0), 0);
    assert_int_equal(start(f.client, &c[1], "GET", "/hello", 0, 5000, 0), 0);
    assert_int_equal(start(bad, &c[2], "GET", "/", 0, 5000, 0), 0);
    http_request_opts opts = {
        .method = "PUT", .target = "/upload", .body_file = "/nonexistent/hdc/body"};
    g_in_start = 1;
    assert_int_equal(http_request_start(f.client, &opts, &call_cbs, &c[3], &c[3].req), 0);
    g_in_start = 0;
    for (int i = 0; i < 4; i++)
        assert_int_equal(c[i].done, 0);
    for (int i = 0; i < 4; i++) {
        run_until(&f.loop, &c[i].done);
        assert_int_equal(c[i].done, 1);
        assert_int_equal(c[i].status == 0, i < 2);
        call_reset(&c[i]);
    }
    http_client_close(bad, NULL, NULL);
    fixture_close(&f);
}

static void test_timeout_gives_etimedout(void **state) {
    fixture f;
    call c = {0};
    fixture_open(&f, 0, NULL);
    assert_int_equal(start(f.client, &c, "GET", "/slow", 0, 50, 0), 0);
    run_until(&f.loop, &c.done);
    assert_int_equal(c.status, UV_ETIMEDOUT);
    assert_int_equal(c.head_calls, 0);
    assert_int_equal(f.srv.requests, 1);
    call_reset(&c);
    fixture_close(&f);
}

static call *g_cancel_target;
static int g_cancel_rc, g_cancel_again_rc;

static void cancel_on_request(tsrv *srv, const char *target) {
    if (strcmp(target, "/slow") == 0 && g_cancel_target != NULL) {
        g_cancel_rc = http_request_cancel(g_cancel_target->req);
        g_cancel_again_rc = http_request_cancel(g_cancel_target->req);
        g_cancel_target = NULL;
    }
}

static void test_cancel_gives_ecanceled_exactly_once(void **state) {
    fixture f;
    call c = {0}, d = {0};
    fixture_open(&f, 0, NULL);

    /* Cancelled while the server holds the request. */
    g_cancel_target = &c;
    f.srv.on_request = cancel_on_request;
    assert_int_equal(start(f.client, &c, "GET", "/slow", 0, 0, 0), 0);
    run_until(&f.loop, &c.done);
    assert_int_equal(g_cancel_rc, 0);
    assert_int_not_equal(g_cancel_again_rc, 0);
    assert_int_equal(c.status, UV_ECANCELED);

    /* Cancelled before it was even connected. */
    assert_int_equal(start(f.client, &d, "GET", "/hello", 0, 0, 0), 0);
    assert_int_equal(http_request_cancel(d.req), 0);
    assert_int_equal(d.done, 0);
    run_until(&f.loop, &d.done);
    assert_int_equal(d.status, UV_ECANCELED);

    for (int i = 0; i < 10; i++)
        uv_run(&f.loop, UV_RUN_NOWAIT);
    fixture_close(&f);
    assert_int_equal(c.done, 1);
    assert_int_equal(d.done, 1);
    call_reset(&c);
    call_reset(&d);
}

static void stream_next(call *c) {
    tsrv_stream_next(c->ctx);
}

static void test_streaming_body_arrives_in_pieces_before_done(void **state) {
    fixture f;
    call c = {.after_data = stream_next};
    fixture_open(&f, 1, "docker");
    c.ctx = &f.srv;
    assert_int_equal(start(f.client, &c, "GET", "/stream", 0, 0, 0), 0);
    run_until(&f.loop, &c.done);
    assert_int_equal(c.status, 0);
    assert_string_equal(c.data, "part0part1part2part3");
    assert_true(c.data_calls >= 4);
    assert_int_equal(c.data_calls_at_done, c.data_calls);
    assert_null(c.body);
    call_reset(&c);
    fixture_close(&f);
}

static void cancel_from_on_data(call *c) {
    assert_int_equal(http_request_cancel(c->req), 0);
}

static void close_client_from_on_data(call *c) {
    fixture *f = c->ctx;
    http_client_close(f->client, fixture_client_closed, f);
}

static void test_cancel_or_close_from_inside_on_data(void **state) {
    fixture f;
    call c = {.after_data = cancel_from_on_data};
    fixture_open(&f, 0, NULL);
    assert_int_equal(start(f.client, &c, "GET", "/stream", 0, 0, 0), 0);
    run_until(&f.loop, &c.done);
    assert_int_equal(c.status, UV_ECANCELED);
    assert_int_equal(c.data_calls, 1);
    assert_string_equal(c.data, "part0");
    call_reset(&c);

    c.after_data = close_client_from_on_data;
    c.ctx = &f;
    assert_int_equal(start(f.client, &c, "GET", "/stream", 0, 0, 0), 0);
    run_until(&f.loop, &f.client_closed);
    assert_int_equal(c.done, 1);
    assert_int_equal(c.status, UV_ECANCELED);
    assert_int_equal(c.data_calls, 1);
    call_reset(&c);
    fixture_close(&f);
}

static void test_buffered_body_over_max_body_gives_etoobig(void **state) {
    fixture f;
    call c = {0};
    fixture_open(&f, 0, NULL);

    assert_int_equal(start(f.client, &c, "GET", "/big", HTTP_BUFFER_BODY, 5000, 100), 0);
    run_until(&f.loop, &c.done);
    assert_int_equal(c.status, HTTP_ETOOBIG);
    assert_int_equal(c.data_calls, 0);
    call_reset(&c);

    assert_int_equal(start(f.client, &c, "GET", "/bigchunked", HTTP_BUFFER_BODY, 5000, 999), 0);
    run_until(&f.loop, &c.done);
    assert_int_equal(c.status, HTTP_ETOOBIG);
    assert_int_equal(c.data_calls, 0);
    call_reset(&c);

    /* Right at the limit it fits. */
    assert_int_equal(start(f.client, &c, "GET", "/bigchunked", HTTP_BUFFER_BODY, 5000, 1000), 0);
    run_until(&f.loop, &c.done);
    assert_int_equal(c.status, 0);
    assert_int_equal(c.body_len, 1000);
    assert_int_equal(c.data_calls, 0);
    call_reset(&c);
    fixture_close(&f);
}

static void test_body_file_uploads_intact(void **state) {
    fixture f;
    call c = {0};
    char path[] = "/tmp/hdc-test-http-body-XXXXXX";
    size_t size = 3 * 1024 * 1024 + 12345;
    char *data = malloc(size);
    char expected[64];

    rng_state = 42;
    for (size_t i = 0; i < size; i++)
        data[i] = (char)(rng() & 0xff);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, size), (ssize_t)size);
    close(fd);
    snprintf(expected, sizeof(expected), "len=%zu sum=%08x", size, fnv1a(data, size));

    fixture_open(&f, 1, "docker");
    for (int round = 0; round < 2; round++) {
        http_request_opts opts = {
            .method = "POST",
            .target = "/upload",
            .headers = (const http_header[]){{"Content-Type", "application/x-tar"}},
            .n_headers = 1,
            .body_file = path,
            .flags = HTTP_BUFFER_BODY,
        };
        g_in_start = 1;
        assert_int_equal(http_request_start(f.client, &opts, &call_cbs, &c, &c.req), 0);
        g_in_start = 0;
        run_until(&f.loop, &c.done);
        assert_int_equal(c.status, 0);
        assert_string_equal(c.body, expected);
        call_reset(&c);
    }
    /* An in-memory body too, on the same connection. */
    http_request_opts opts = {
        .method = "POST",
        .target = "/upload",
        .body = data,
        .body_len = 1000,
    };
    snprintf(expected, sizeof(expected), "len=1000 sum=%08x", fnv1a(data, 1000));
    g_in_start = 1;
    assert_int_equal(http_request_start(f.client, &opts, &call_cbs, &c, &c.req), 0);
    g_in_start = 0;
    run_until(&f.loop, &c.done);
    assert_int_equal(c.status, 0);
    assert_string_equal(c.data, expected);
    assert_int_equal(f.srv.accepted, 1);
    call_reset(&c);

    /* A missing file reaches on_done. */
    opts = (http_request_opts){
        .method = "POST", .target = "/upload", .body_file = "/nonexistent/hdc/body.tar"};
    g_in_start = 1;
    assert_int_equal(http_request_start(f.client, &opts, &call_cbs, &c, &c.req), 0);
    g_in_start = 0;
    run_until(&f.loop, &c.done);
    assert_int_equal(c.status, UV_ENOENT);
    call_reset(&c);

    fixture_close(&f);
    unlink(path);
    free(data);
}

typedef struct echo {
    call c;
    int wrote, shut;
} echo;

static void echo_on_data(call *c) {
    echo *e = (echo *)c;
    if (!e->wrote && strcmp(c->data, "welcome:") == 0) {
        e->wrote = 1;
        assert_int_equal(http_request_write(c->req, "ping", 4), 0);
        assert_int_equal(http_request_write(c->req, "pong", 4), 0);
    } else if (!e->shut && strcmp(c->data, "welcome:pingpong") == 0) {
        e->shut = 1;
        assert_int_equal(http_request_shutdown(c->req), 0);
    }
}

static void run_echo(fixture *f, const char *target, int expect_status) {
    echo e = {0};
    e.c.after_data = echo_on_data;
    assert_int_equal(start(f->client, &e.c, "POST", target, HTTP_UPGRADE, 0, 0), 0);
    run_until(&f->loop, &e.c.done);
    assert_int_equal(e.c.status, 0);
    assert_int_equal(e.c.http_status, expect_status);
    assert_string_equal(e.c.data, "welcome:pingpong");
    assert_int_equal(e.shut, 1);
    call_reset(&e.c);
}

static void test_upgrade_101_raw_stream_echo(void **state) {
    fixture f;
    fixture_open(&f, 1, "docker");
    run_echo(&f, "/upgrade", 101);
    /* The upgraded connection never goes back to the pool. */
    run_sequence(&f, 1);
    assert_int_equal(f.srv.accepted, 2);
    fixture_close(&f);
}

static void test_hijacked_200_raw_stream_echo(void **state) {
    fixture f;
    fixture_open(&f, 0, NULL);
    run_echo(&f, "/hijack", 200);
    fixture_close(&f);
}

static void test_connection_refused_and_missing_socket(void **state) {
    fixture f;
    call c = {0};
    char address[256];
    http_client *client;

    /* A port nobody listens on: bind one, then close it. */
    fixture_open(&f, 0, NULL);
    snprintf(address, sizeof(address), "%s", f.srv.address);
    uv_close(&f.srv.l.h, tsrv_closed);
    run_until(&f.loop, &f.srv.closed);
    assert_int_equal(http_client_new(&f.loop, address, NULL, &client), 0);
    assert_int_equal(start(client, &c, "GET", "/hello", 0, 5000, 0), 0);
    run_until(&f.loop, &c.done);
    assert_int_equal(c.status, UV_ECONNREFUSED);
    assert_null(c.data);
    call_reset(&c);
    http_client_close(client, NULL, NULL);

    /* A unix socket that does not exist. */
    snprintf(address, sizeof(address), "unix:///tmp/hdc-test-http-none-%d/none.sock",
             (int)getpid());
    assert_int_equal(http_client_new(&f.loop, address, "docker", &client), 0);
    assert_int_equal(start(client, &c, "GET", "/_ping", 0, 5000, 0), 0);
    run_until(&f.loop, &c.done);
    assert_int_equal(c.status, UV_ENOENT);
    call_reset(&c);
    http_client_close(client, NULL, NULL);

    /* A connect that fails inside uv_tcp_connect still ends in on_done. */
    assert_int_equal(http_client_new(&f.loop, "tcp://255.255.255.255:80", NULL, &client), 0);
    assert_int_equal(start(client, &c, "GET", "/", 0, 5000, 0), 0);
    run_until(&f.loop, &c.done);
    assert_true(c.status < 0);
    call_reset(&c);
    http_client_close(client, NULL, NULL);

    /* Bad addresses are refused at once. */
    assert_int_equal(http_client_new(&f.loop, "ftp://x", NULL, &client), UV_EINVAL);
    assert_int_equal(http_client_new(&f.loop, "tcp://127.0.0.1", NULL, &client), UV_EINVAL);
    assert_int_equal(http_client_new(&f.loop, "tcp://not-an-ip:80", NULL, &client), UV_EINVAL);
    fixture_close(&f);
}

typedef struct closing {
    fixture *f;
    call calls[3];
    int seen;
} closing;

static closing *g_closing;

static void close_on_third_request(tsrv *srv, const char *target) {
    if (strcmp(target, "/slow") == 0 && ++g_closing->seen == 3)
        http_client_close(g_closing->f->client, fixture_client_closed, g_closing->f);
}

static void test_client_close_cancels_in_flight_and_frees_all(void **state) {
    fixture f;
    closing cl = {.f = &f};
    fixture_open(&f, 0, NULL);
    run_sequence(&f, 1); /* leaves an idle connection in the pool */
    g_closing = &cl;
    f.srv.on_request = close_on_third_request;
    for (int i = 0; i < 3; i++)
        assert_int_equal(start(f.client, &cl.calls[i], "GET", "/slow", 0, 0, 0), 0);
    run_until(&f.loop, &f.client_closed);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(cl.calls[i].done, 1);
        assert_int_equal(cl.calls[i].status, UV_ECANCELED);
        call_reset(&cl.calls[i]);
    }
    fixture_close(&f);
    assert_int_equal(f.client_closed, 1);
}

static void test_invalid_requests_fail_at_once_without_callbacks(void **state) {
    fixture f;
    call c = {0};
    http_header bad[] = {{"X-Injected", "a\r\nHost: evil"}};
    http_request_opts opts = {.method = "GET", .target = "/hello", .headers = bad, .n_headers = 1};
    fixture_open(&f, 0, NULL);
    assert_int_equal(http_request_start(f.client, &opts, &call_cbs, &c, &c.req), UV_EINVAL);
    opts = (http_request_opts){.method = "GET", .target = "/a b"};
    assert_int_equal(http_request_start(f.client, &opts, &call_cbs, &c, &c.req), UV_EINVAL);
    opts = (http_request_opts){.method = "GET"};
    assert_int_equal(http_request_start(f.client, &opts, &call_cbs, &c, &c.req), UV_EINVAL);
    assert_int_not_equal(http_request_cancel(NULL), 0);
    /* A HEAD reply carries no body, whatever its Content-Length says. */
    assert_int_equal(start(f.client, &c, "HEAD", "/hello", HTTP_BUFFER_BODY, 5000, 1), 0);
    for (int i = 0; i < 10; i++)
        uv_run(&f.loop, UV_RUN_NOWAIT);
    run_until(&f.loop, &c.done);
    assert_int_equal(c.status, 0);
    assert_int_equal(c.body_len, 0);
    call_reset(&c);
    fixture_close(&f);
    assert_int_equal(c.done, 0);
}

static void test_strerror_and_header_lookup(void **state) {
    http_header h[] = {{"Content-Type", "text/plain"}, {"API-Version", "1.41"}};
    http_response res = {.status = 200, .headers = h, .n_headers = 2};
    assert_string_equal(http_response_header(&res, "api-version"), "1.41");
    assert_null(http_response_header(&res, "Content-Length"));
    assert_non_null(strstr(hdc_strerror(HTTP_ETOOBIG), "larger"));
    assert_non_null(strstr(hdc_strerror(HTTP_ETRUNC), "closed"));
    assert_non_null(hdc_strerror(HTTP_EPARSE));
    assert_string_equal(hdc_strerror(UV_ECONNREFUSED), uv_strerror(UV_ECONNREFUSED));
}

/* ---- the head deadline ---- */

static int start_opts(http_client *client, call *c, const http_request_opts *opts) {
    g_in_start = 1;
    int rc = http_request_start(client, opts, &call_cbs, c, &c->req);
    g_in_start = 0;
    return rc;
}

static uint64_t now_ms(uv_loop_t *loop) {
    uv_update_time(loop);
    return uv_now(loop);
}

/* Writes size bytes of noise to a new file named from the template path;
 * returns them (to free). */
static char *noise_file(char *path, size_t size) {
    char *data = malloc(size);
    int fd = mkstemp(path);

    assert_non_null(data);
    assert_true(fd >= 0);
    rng_state = 7;
    for (size_t i = 0; i < size; i++)
        data[i] = (char)(rng() & 0xff);
    assert_int_equal(write(fd, data, size), (ssize_t)size);
    close(fd);
    return data;
}

/* A server that accepts and never reads nor answers, over TCP and a unix
 * socket: a request fails with UV_ETIMEDOUT once the head deadline has
 * passed, and so does an upload it stops taking (the socket buffers full). */
static void test_head_timeout_fails_requests_a_silent_server_never_answers(void **state) {
    char path[] = "/tmp/hdc-test-http-body-XXXXXX";
    char *data = noise_file(path, 16 * 1024 * 1024);

    for (int is_unix = 0; is_unix < 2; is_unix++) {
        fixture f;
        call c = {0};
        http_request_opts o = {.method = "GET", .target = "/_ping", .head_timeout_ms = 100};
        uint64_t t0, elapsed;

        fixture_open(&f, is_unix, NULL);
        f.srv.silent = 1;
        t0 = now_ms(&f.loop);
        assert_int_equal(start_opts(f.client, &c, &o), 0);
        run_until(&f.loop, &c.done);
        elapsed = now_ms(&f.loop) - t0;
        assert_int_equal(c.status, UV_ETIMEDOUT);
        assert_int_equal(c.head_calls, 0);
        assert_int_equal(f.srv.accepted, 1);
        assert_true(elapsed >= 100 && elapsed < 5000);
        call_reset(&c);

        o = (http_request_opts){
            .method = "POST", .target = "/upload", .body_file = path, .head_timeout_ms = 100};
        assert_int_equal(start_opts(f.client, &c, &o), 0);
        run_until(&f.loop, &c.done);
        assert_int_equal(c.status, UV_ETIMEDOUT);
        assert_int_equal(f.srv.accepted, 2);
        call_reset(&c);
        fixture_close(&f);
    }
    unlink(path);
    free(data);
}

/* A listener whose accept queue is full and that never accepts: the
 * kernel drops the client's SYN, so its connect never completes. The head
 * deadline bounds it. */
static void test_head_timeout_bounds_a_connect_that_never_completes(void **state) {
    uv_loop_t loop;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int lfd = socket(AF_INET, SOCK_STREAM, 0), fill[3];
    char address[64];
    http_client *client;
    call c = {0};
    http_request_opts o = {.method = "GET", .target = "/", .head_timeout_ms = 100};

    assert_true(lfd >= 0);
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(lfd, 0), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &len), 0);
    for (int i = 0; i < 3; i++) {
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assert_true(fill[i] >= 0);
        connect(fill[i], (struct sockaddr *)&a, sizeof(a)); /* queued, or left pending */
    }
    snprintf(address, sizeof(address), "tcp://127.0.0.1:%d", ntohs(a.sin_port));
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(http_client_new(&loop, address, NULL, &client), 0);
    assert_int_equal(start_opts(client, &c, &o), 0);
    run_until(&loop, &c.done);
    assert_int_equal(c.status, UV_ETIMEDOUT);
    assert_int_equal(c.head_calls, 0);
    call_reset(&c);
    http_client_close(client, NULL, NULL);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
    for (int i = 0; i < 3; i++)
        close(fill[i]);
    close(lfd);
}

/* A head at once, then a chunk every 60 ms: a head deadline of 30 ms never
 * cuts the stream; a whole deadline still does. */
static void test_head_timeout_spares_a_slow_stream(void **state) {
    fixture f;
    call c = {0};
    http_request_opts o = {.method = "GET", .target = "/slowstream", .head_timeout_ms = 30};
    uint64_t t0;

    fixture_open(&f, 1, "docker");
    f.srv.tick_ms = 60;
    t0 = now_ms(&f.loop);
    assert_int_equal(start_opts(f.client, &c, &o), 0);
    run_until(&f.loop, &c.done);
    assert_int_equal(c.status, 0);
    assert_string_equal(c.data, "part0part1part2part3");
    assert_true(now_ms(&f.loop) - t0 >= 4 * 60);
    call_reset(&c);

    o.timeout_ms = 100;
    assert_int_equal(start_opts(f.client, &c, &o), 0);
    run_until(&f.loop, &c.done);
    assert_int_equal(c.status, UV_ETIMEDOUT);
    assert_int_equal(c.head_calls, 1);
    call_reset(&c);
    fixture_close(&f);
}

static int g_requests_at_done;

static void note_requests(call *c) {
    g_requests_at_done = ((tsrv *)c->ctx)->requests;
}

/* A server that reads 64 KiB every 10 ms: a 3 MiB upload takes far longer
 * than the head deadline (200 ms), which counts only from its end. */
static void test_head_timeout_counts_from_the_end_of_the_upload(void **state) {
    char path[] = "/tmp/hdc-test-http-body-XXXXXX";
    size_t size = 3 * 1024 * 1024;
    char *data = noise_file(path, size);
    char expected[64];
    fixture f;
    call c = {0};
    http_request_opts o = {.method = "POST",
                           .target = "/upload",
                           .body_file = path,
                           .head_timeout_ms = 200,
                           .flags = HTTP_BUFFER_BODY};
    uint64_t t0;

    snprintf(expected, sizeof(expected), "len=%zu sum=%08x", size, fnv1a(data, size));
    fixture_open(&f, 1, "docker");
    f.srv.pause_ms = 10;
    t0 = now_ms(&f.loop);
    assert_int_equal(start_opts(f.client, &c, &o), 0);
    run_until(&f.loop, &c.done);
    assert_int_equal(c.status, 0);
    assert_string_equal(c.body, expected);
    assert_true(now_ms(&f.loop) - t0 > 200);
    call_reset(&c);

    /* The whole upload is taken, then no answer: the deadline passes after
     * the server had the request. */
    c.after_done = note_requests;
    c.ctx = &f.srv;
    o.target = "/slow";
    assert_int_equal(start_opts(f.client, &c, &o), 0);
    run_until(&f.loop, &c.done);
    assert_int_equal(c.status, UV_ETIMEDOUT);
    assert_int_equal(g_requests_at_done, 2);
    c.after_done = NULL;
    call_reset(&c);
    fixture_close(&f);
    unlink(path);
    free(data);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parser_content_length),
        cmocka_unit_test(test_parser_docker_ping),
        cmocka_unit_test(test_parser_chunked_with_extensions_and_trailers),
        cmocka_unit_test(test_parser_close_delimited_body),
        cmocka_unit_test(test_parser_two_keepalive_responses),
        cmocka_unit_test(test_parser_101_upgrade_then_raw_bytes),
        cmocka_unit_test(test_parser_101_upgrade_without_raw_bytes),
        cmocka_unit_test(test_parser_hijacked_200),
        cmocka_unit_test(test_parser_204_304_without_body),
        cmocka_unit_test(test_parser_interim_100_is_skipped),
        cmocka_unit_test(test_parser_head_response_has_no_body),
        cmocka_unit_test(test_parser_bad_status_line),
        cmocka_unit_test(test_parser_bad_chunk_size),
        cmocka_unit_test(test_parser_truncated_at_eof),
        cmocka_unit_test(test_parser_garbage_after_headers),
        cmocka_unit_test(test_parser_header_overflow),
        cmocka_unit_test(test_parser_pause_and_callback_errors),
        cmocka_unit_test(test_strerror_and_header_lookup),
        cmocka_unit_test(test_invalid_requests_fail_at_once_without_callbacks),
        cmocka_unit_test(test_keepalive_sequential_requests_share_one_tcp_connection),
        cmocka_unit_test(test_keepalive_over_unix_socket_with_host_header),
        cmocka_unit_test(test_server_closing_idle_connection_then_next_request_succeeds),
        cmocka_unit_test(test_concurrent_requests_use_separate_connections_then_the_pool),
        cmocka_unit_test(test_failure_on_reused_connection_is_retried_once_only),
        cmocka_unit_test(test_truncated_response_gives_etrunc_with_head),
        cmocka_unit_test(test_on_done_is_never_called_inside_request_start),
        cmocka_unit_test(test_timeout_gives_etimedout),
        cmocka_unit_test(test_cancel_gives_ecanceled_exactly_once),
        cmocka_unit_test(test_streaming_body_arrives_in_pieces_before_done),
        cmocka_unit_test(test_cancel_or_close_from_inside_on_data),
        cmocka_unit_test(test_buffered_body_over_max_body_gives_etoobig),
        cmocka_unit_test(test_body_file_uploads_intact),
        cmocka_unit_test(test_upgrade_101_raw_stream_echo),
        cmocka_unit_test(test_hijacked_200_raw_stream_echo),
        cmocka_unit_test(test_connection_refused_and_missing_socket),
        cmocka_unit_test(test_client_close_cancels_in_flight_and_frees_all),
        cmocka_unit_test(test_head_timeout_fails_requests_a_silent_server_never_answers),
        cmocka_unit_test(test_head_timeout_bounds_a_connect_that_never_completes),
        cmocka_unit_test(test_head_timeout_spares_a_slow_stream),
        cmocka_unit_test(test_head_timeout_counts_from_the_end_of_the_upload),
    };
    return cmocka_run_group_tests(tests, parser_setup, NULL);
}
