/* The HTTP/1.1 client of hdc: one code path for the Docker Engine API (unix
 * socket or TCP) and the health probes (TCP), on the libuv loop.
 *
 * Two layers. The bottom one, http_parser, is a pure function over byte
 * spans wrapped around llhttp: it turns bytes into head / body / complete /
 * upgrade events and never touches a socket, so the tests can split input
 * at every byte and the fuzzer can feed it anything. The top one owns the
 * sockets: a request borrows one connection for its whole exchange, and
 * goes back to a small per-client pool of idle keep-alive connections when
 * the response ended cleanly.
 *
 * Decisions a newcomer may question:
 * - Idle pooled connections keep reading. That is how a peer's close of an
 *   idle connection is noticed (the connection is dropped); when the close
 *   races with a new request anyway, a request that fails on a reused
 *   connection before any response byte is retried once on a new one.
 * - on_done is never called from inside an API call: every failure found
 *   synchronously, and every cancellation, goes through the request's own
 *   timer started with timeout 0. The same timer carries the deadlines. A
 *   request's memory lives until its last libuv callback has returned, so
 *   callbacks arriving after on_done (cancelled writes, file reads) are
 *   harmless.
 * - Two deadlines, because a stream must not be cut but a silent peer must
 *   not hang us: the whole request's (from the start), and the head's,
 *   which is restarted each time the peer is to act (accept, take the next
 *   piece of the body, answer once the request is out) and ends with the
 *   head. A large upload that makes progress is never cut; the body after
 *   the head is bounded only by the whole deadline.
 * - http_client_new ignores SIGPIPE when nobody has chosen what to do with
 *   it: a peer closing a socket we are writing to must give EPIPE to one
 *   request, not kill hdc, and libuv cannot ask for MSG_NOSIGNAL.
 */
#include "http.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <llhttp.h>

#define READ_SIZE  (64 * 1024)
#define FILE_CHUNK (256 * 1024)
#define POOL_MAX   4
#define MAX_BODY   ((size_t)64 << 20)

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* ======================= the pure response parser ======================= */

enum { P_IDLE, P_MESSAGE, P_RAW, P_DONE };

struct http_parser {
    llhttp_t ll;
    http_parser_cbs cbs;
    void *data;
    unsigned flags;
    int state;
    int err;    /* sticky error, once failed */
    int cb_err; /* the error a callback stopped llhttp with */
    int paused;
    int in_head, field_open, value_open, interim, upgrading, keep_alive, have_head;
    char *head;
    size_t head_len, head_cap;
    size_t n;
    size_t name_off[HTTP_MAX_HEADERS], value_off[HTTP_MAX_HEADERS];
    http_header hdrs[HTTP_MAX_HEADERS];
    http_response res;
};

static int p_stop(http_parser *p, int err) {
    p->cb_err = err < 0 ? err : HTTP_EPARSE;
    return -1;
}

static int p_append(http_parser *p, const char *at, size_t len) {
    size_t need = p->head_len + len;
    if (len == 0)
        return 0;
    if (need > HTTP_MAX_HEAD)
        return p_stop(p, HTTP_EPARSE);
    if (need > p->head_cap) {
        size_t cap = p->head_cap ? p->head_cap : 512;
        while (cap < need)
            cap *= 2;
        char *head = realloc(p->head, cap);
        if (head == NULL)
            return p_stop(p, UV_ENOMEM);
        p->head = head;
        p->head_cap = cap;
    }
    memcpy(p->head + p->head_len, at, len);
    p->head_len = need;
    return 0;
}

static int p_on_message_begin(llhttp_t *ll) {
    http_parser *p = ll->data;
    p->state = P_MESSAGE;
    p->in_head = 1;
    p->head_len = 0;
    p->n = 0;
    p->field_open = p->value_open = 0;
    p->interim = p->upgrading = p->have_head = 0;
    return 0;
}

static int p_open_field(http_parser *p) {
    if (p->field_open)
        return 0;
    if (p->n == HTTP_MAX_HEADERS)
        return p_stop(p, HTTP_EPARSE);
    p->name_off[p->n] = p->head_len;
    p->field_open = 1;
    return 0;
}

static int p_on_header_field(llhttp_t *ll, const char *at, size_t len) {
    http_parser *p = ll->data;
    if (!p->in_head)
        return 0; /* trailers are read and dropped */
    if (p_open_field(p) != 0)
        return -1;
    return p_append(p, at, len);
}

static int p_on_header_field_complete(llhttp_t *ll) {
    http_parser *p = ll->data;
    if (!p->in_head)
        return 0;
    if (p_open_field(p) != 0)
        return -1;
    return p_append(p, "", 1);
}

static int p_on_header_value(llhttp_t *ll, const char *at, size_t len) {
    http_parser *p = ll->data;
    if (!p->in_head)
        return 0;
    if (!p->value_open) {
        p->value_off[p->n] = p->head_len;
        p->value_open = 1;
    }
    return p_append(p, at, len);
}

static int p_on_header_value_complete(llhttp_t *ll) {
    http_parser *p = ll->data;
    if (!p->in_head)
        return 0;
    if (!p->field_open)
        return p_stop(p, HTTP_EPARSE);
    if (!p->value_open)
        p->value_off[p->n] = p->head_len;
    if (p_append(p, "", 1) != 0)
        return -1;
    p->n++;
    p->field_open = p->value_open = 0;
    return 0;
}

static int p_on_headers_complete(llhttp_t *ll) {
    http_parser *p = ll->data;
    int status = ll->status_code;
    int ret = 0;

    p->in_head = 0;
    if (status >= 100 && status < 200 && status != 101) {
        p->interim = 1;
        return 1;
    }
    for (size_t i = 0; i < p->n; i++) {
        p->hdrs[i].name = p->head + p->name_off[i];
        p->hdrs[i].value = p->head + p->value_off[i];
    }
    p->res = (http_response){.status = status, .headers = p->hdrs, .n_headers = p->n};
    p->have_head = 1;
    if (p->flags & HTTP_PARSER_HEAD) {
        ret = 1;
    } else if (status == 101 ||
               ((p->flags & HTTP_PARSER_UPGRADE) && status == 200 &&
                !(ll->flags & (F_CHUNKED | F_CONTENT_LENGTH | F_TRANSFER_ENCODING)))) {
        p->upgrading = 1;
        ret = 2;
    }
    if (p->cbs.on_head != NULL) {
        int rc = p->cbs.on_head(p->data, &p->res);
        if (rc != 0)
            return p_stop(p, rc);
    }
    return ret;
}

static int p_on_body(llhttp_t *ll, const char *at, size_t len) {
    http_parser *p = ll->data;
    if (p->cbs.on_body != NULL && len > 0) {
        int rc = p->cbs.on_body(p->data, at, len);
        if (rc != 0)
            return p_stop(p, rc);
    }
    return 0;
}

static int p_on_message_complete(llhttp_t *ll) {
    http_parser *p = ll->data;
    p->state = P_IDLE;
    if (p->interim) {
        p->interim = 0;
        return 0;
    }
    p->keep_alive = llhttp_should_keep_alive(ll);
    if (p->upgrading)
        return 0; /* the raw stream completes at EOF */
    if (p->cbs.on_complete != NULL) {
        int rc = p->cbs.on_complete(p->data);
        if (rc == HTTP_PARSER_PAUSE)
            return HPE_PAUSED;
        if (rc != 0)
            return p_stop(p, rc);
    }
    return 0;
}

static const llhttp_settings_t p_settings = {
    .on_message_begin = p_on_message_begin,
    .on_header_field = p_on_header_field,
    .on_header_value = p_on_header_value,
    .on_header_field_complete = p_on_header_field_complete,
    .on_header_value_complete = p_on_header_value_complete,
    .on_headers_complete = p_on_headers_complete,
    .on_body = p_on_body,
    .on_message_complete = p_on_message_complete,
};

int http_parser_new(unsigned flags, const http_parser_cbs *cbs, void *data, http_parser **out) {
    http_parser *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return UV_ENOMEM;
    llhttp_init(&p->ll, HTTP_RESPONSE, &p_settings);
    p->ll.data = p;
    if (cbs != NULL)
        p->cbs = *cbs;
    p->data = data;
    p->flags = flags;
    p->state = P_IDLE;
    *out = p;
    return 0;
}

void http_parser_free(http_parser *p) {
    if (p == NULL)
        return;
    free(p->head);
    free(p);
}

static int p_fail(http_parser *p, int err) {
    p->err = err < 0 ? err : HTTP_EPARSE;
    return p->err;
}

static int p_raw(http_parser *p, const char *buf, size_t len) {
    if (len == 0 || p->cbs.on_body == NULL)
        return 0;
    int rc = p->cbs.on_body(p->data, buf, len);
    return rc != 0 ? p_fail(p, rc) : 0;
}

ssize_t http_parser_feed(http_parser *p, const char *buf, size_t len) {
    llhttp_errno_t e;
    int rc;

    if (p->err != 0)
        return p->err;
    if (p->state == P_DONE)
        return p_fail(p, HTTP_EPARSE);
    if (p->state == P_RAW) {
        rc = p_raw(p, buf, len);
        return rc != 0 ? rc : (ssize_t)len;
    }
    if (len == 0)
        return 0;
    if (p->paused) {
        llhttp_resume(&p->ll);
        p->paused = 0;
    }
    p->cb_err = 0;
    e = llhttp_execute(&p->ll, buf, len);
    switch (e) {
    case HPE_OK: return len;
    case HPE_PAUSED: p->paused = 1; return llhttp_get_error_pos(&p->ll) - buf;
    case HPE_PAUSED_UPGRADE: {
        size_t off = llhttp_get_error_pos(&p->ll) - buf;
        p->state = P_RAW;
        if (p->cbs.on_upgrade != NULL && (rc = p->cbs.on_upgrade(p->data, off)) != 0)
            return p_fail(p, rc);
        rc = p_raw(p, buf + off, len - off);
        return rc != 0 ? rc : (ssize_t)len;
    }
    default: return p_fail(p, p->cb_err != 0 ? p->cb_err : HTTP_EPARSE);
    }
}

int http_parser_finish(http_parser *p) {
    llhttp_errno_t e;
    int rc;

    if (p->err != 0)
        return p->err;
    switch (p->state) {
    case P_RAW:
        p->state = P_DONE;
        if (p->cbs.on_complete != NULL && (rc = p->cbs.on_complete(p->data)) != 0 &&
            rc != HTTP_PARSER_PAUSE)
            return p_fail(p, rc);
        return 0;
    case P_MESSAGE:
        p->cb_err = 0;
        e = llhttp_finish(&p->ll);
        if (e != HPE_OK && e != HPE_PAUSED)
            return p_fail(p, p->cb_err != 0 ? p->cb_err : HTTP_ETRUNC);
        if (p->state != P_IDLE)
            return p_fail(p, HTTP_ETRUNC);
        p->state = P_DONE;
        return 0;
    default: p->state = P_DONE; return 0;
    }
}

const http_response *http_parser_response(const http_parser *p) {
    return p->have_head ? &p->res : NULL;
}

int http_parser_keep_alive(const http_parser *p) {
    return p->keep_alive;
}

int http_parser_upgraded(const http_parser *p) {
    return p->have_head && p->upgrading;
}

/* ============================ the I/O layer ============================= */

typedef struct http_conn http_conn;

struct http_conn {
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } h;
    uv_connect_t connect;
    http_client *client;
    http_request *req; /* NULL while idle in the pool */
    http_conn *next, *prev;
    int closing, eof;
    char buf[READ_SIZE];
};

struct http_client {
    uv_loop_t *loop;
    char *path; /* unix socket, or NULL for TCP */
    struct sockaddr_storage addr;
    char *host;
    http_conn *conns;   /* all open connections, idle first when pooled */
    http_request *reqs; /* all requests not yet freed */
    uv_timer_t handle;  /* never started: it makes the close callback asynchronous */
    int refs;           /* the handle, connections and requests alive */
    int closing;
    void (*close_cb)(void *data);
    void *close_data;
};

struct http_request {
    http_client *client;
    http_request *next, *prev;
    http_conn *conn;
    http_request_cbs cbs;
    void *data;
    unsigned flags, pflags;
    size_t max_body;
    char *head;
    size_t head_len;
    char *body;
    size_t body_len;
    char *file_path;
    uv_file fd;
    uint64_t file_size, file_off;
    char *chunk;
    uv_fs_t fs;
    uv_write_t write;
    uv_timer_t timer;
    uint64_t end_at;  /* loop time of the whole request's deadline, or 0 */
    uint64_t head_ms; /* opts.head_timeout_ms */
    uint64_t head_at; /* loop time of the head's deadline, or 0 */
    http_parser *parser;
    char *rbody;
    size_t rbody_len, rbody_cap;
    int pending; /* libuv requests whose callbacks are still to come */
    int err;     /* the status of a deferred on_done */
    unsigned done : 1, deferred : 1, freeing : 1, reused : 1, retried : 1, retry_wait : 1,
        got_bytes : 1, sent : 1, complete : 1, upgraded : 1, fd_open : 1, headed : 1;
};

static void dispatch(http_request *req, int fresh);
static void settle(http_request *req);

static void client_unref(http_client *client) {
    if (--client->refs > 0 || !client->closing)
        return;
    void (*cb)(void *) = client->close_cb;
    void *data = client->close_data;
    free(client->path);
    free(client->host);
    free(client);
    if (cb != NULL)
        cb(data);
}

static void conn_unlink(http_conn *conn) {
    http_client *client = conn->client;
    if (conn->prev != NULL)
        conn->prev->next = conn->next;
    else
        client->conns = conn->next;
    if (conn->next != NULL)
        conn->next->prev = conn->prev;
    conn->next = conn->prev = NULL;
}

static void conn_link_front(http_conn *conn) {
    http_client *client = conn->client;
    conn->prev = NULL;
    conn->next = client->conns;
    if (client->conns != NULL)
        client->conns->prev = conn;
    client->conns = conn;
}

static void conn_closed(uv_handle_t *handle) {
    http_conn *conn = handle->data;
    http_client *client = conn->client;
    free(conn);
    client_unref(client);
}

static void conn_close(http_conn *conn) {
    if (conn->closing)
        return;
    conn->closing = 1;
    if (conn->req != NULL) {
        conn->req->conn = NULL;
        conn->req = NULL;
    }
    conn_unlink(conn);
    uv_close(&conn->h.handle, conn_closed);
}

static http_conn *conn_new(http_client *client) {
    http_conn *conn = calloc(1, sizeof(*conn));
    if (conn == NULL)
        return NULL;
    conn->client = client;
    if (client->path != NULL)
        uv_pipe_init(client->loop, &conn->h.pipe, 0);
    else
        uv_tcp_init(client->loop, &conn->h.tcp);
    conn->h.handle.data = conn;
    client->refs++;
    conn_link_front(conn);
    return conn;
}

/* Puts a connection whose exchange ended cleanly back in the pool. */
static void pool_put(http_conn *conn) {
    http_client *client = conn->client;
    int idle = 0;

    conn->req->conn = NULL;
    conn->req = NULL;
    for (http_conn *c = client->conns; c != NULL; c = c->next)
        idle += c->req == NULL && c != conn;
    if (client->closing || idle >= POOL_MAX) {
        conn_close(conn);
        return;
    }
    conn_unlink(conn);
    conn_link_front(conn);
    /* An idle connection does not keep the loop alive, as an idle libuv
     * handle would not: a program whose work is done can end. */
    uv_unref(&conn->h.handle);
}

static http_conn *pool_get(http_client *client) {
    for (http_conn *c = client->conns; c != NULL; c = c->next) {
        if (c->req == NULL && !c->closing && !c->eof) {
            uv_ref(&c->h.handle);
            return c;
        }
    }
    return NULL;
}

static void req_closed(uv_handle_t *handle) {
    http_request *req = handle->data;
    http_client *client = req->client;

    if (req->prev != NULL)
        req->prev->next = req->next;
    else
        client->reqs = req->next;
    if (req->next != NULL)
        req->next->prev = req->prev;
    http_parser_free(req->parser);
    free(req->head);
    free(req->body);
    free(req->file_path);
    free(req->chunk);
    free(req->rbody);
    free(req);
    client_unref(client);
}

static void fs_closed(uv_fs_t *fs) {
    http_request *req = container_of(fs, http_request, fs);
    uv_fs_req_cleanup(fs);
    req->pending--;
    settle(req);
}

/* Called after each libuv callback of the request: frees it once done and
 * quiet, or starts the retry that waited for the old attempt to go quiet. */
static void settle(http_request *req) {
    if (req->freeing || req->pending > 0)
        return;
    if (req->done) {
        if (req->fd_open) {
            req->fd_open = 0;
            if (uv_fs_close(req->client->loop, &req->fs, req->fd, fs_closed) == 0) {
                req->pending++;
                return;
            }
        }
        req->freeing = 1;
        uv_close((uv_handle_t *)&req->timer, req_closed);
        return;
    }
    if (req->retry_wait && !req->deferred) {
        req->retry_wait = 0;
        dispatch(req, 1);
    }
}

static void finish(http_request *req, int status) {
    http_conn *conn = req->conn;
    const http_response *head;
    http_response res;

    if (req->done)
        return;
    req->done = 1;
    uv_timer_stop(&req->timer);
    if (conn != NULL) {
        if (status == 0 && !req->upgraded && req->sent && !conn->eof &&
            http_parser_keep_alive(req->parser))
            pool_put(conn);
        else
            conn_close(conn);
    }
    head = req->parser != NULL ? http_parser_response(req->parser) : NULL;
    if (head != NULL) {
        res = *head;
        if ((req->flags & HTTP_BUFFER_BODY) && !req->upgraded) {
            res.body = req->rbody != NULL ? req->rbody : "";
            res.body_len = req->rbody_len;
        }
    }
    req->cbs.on_done(req->data, status, head != NULL ? &res : NULL);
    settle(req);
}

static void timer_cb(uv_timer_t *timer) {
    http_request *req = timer->data;
    finish(req, req->deferred ? req->err : UV_ETIMEDOUT);
}

/* Starts the timer for the nearer deadline: the whole request's or the
 * head's. */
static void arm(http_request *req) {
    uint64_t at = req->end_at, now;

    if (req->done || req->deferred)
        return;
    if (req->head_at != 0 && (at == 0 || req->head_at < at))
        at = req->head_at;
    if (at == 0) {
        uv_timer_stop(&req->timer);
        return;
    }
    now = uv_now(req->client->loop);
    uv_timer_start(&req->timer, timer_cb, at > now ? at - now : 0, 0);
}

/* The peer is to act next (accept the connection, take the next piece of
 * the request, send the head): until the head has come, it has head_ms
 * from now. */
static void wait_for_peer(http_request *req) {
    if (req->head_ms == 0 || req->headed)
        return;
    req->head_at = uv_now(req->client->loop) + req->head_ms;
    arm(req);
}

/* Ends the request with err from the next loop iteration: for failures found
 * inside an API call, and for cancellation. The connection closes now. */
static void fail_later(http_request *req, int err) {
    if (req->done || req->deferred)
        return;
    req->deferred = 1;
    req->err = err;
    if (req->conn != NULL)
        conn_close(req->conn);
    uv_timer_start(&req->timer, timer_cb, 0, 0);
}

/* The connection failed before the response was complete. */
static void fail_io(http_request *req, int err) {
    if (!req->got_bytes && req->reused && !req->retried) {
        req->retried = 1;
        if (req->conn != NULL)
            conn_close(req->conn);
        req->retry_wait = 1;
        settle(req);
        return;
    }
    finish(req, err);
}

/* ---- parser events of a request ---- */

static int conn_on_head(void *data, const http_response *res) {
    http_request *req = data;
    req->headed = 1;
    req->head_at = 0;
    arm(req);
    req->upgraded = http_parser_upgraded(req->parser);
    if ((req->flags & HTTP_BUFFER_BODY) && !req->upgraded && !(req->pflags & HTTP_PARSER_HEAD)) {
        const char *cl = http_response_header(res, "Content-Length");
        if (cl != NULL && strtoull(cl, NULL, 10) > req->max_body)
            return HTTP_ETOOBIG;
    }
    if (req->cbs.on_head != NULL)
        req->cbs.on_head(req->data, res);
    return req->done || req->deferred ? UV_ECANCELED : 0;
}

static int conn_on_body(void *data, const char *buf, size_t len) {
    http_request *req = data;
    if ((req->flags & HTTP_BUFFER_BODY) && !req->upgraded) {
        size_t need = req->rbody_len + len;
        if (need > req->max_body)
            return HTTP_ETOOBIG;
        if (need + 1 > req->rbody_cap) {
            size_t cap = req->rbody_cap ? req->rbody_cap : 4096;
            while (cap < need + 1)
                cap *= 2;
            char *b = realloc(req->rbody, cap);
            if (b == NULL)
                return UV_ENOMEM;
            req->rbody = b;
            req->rbody_cap = cap;
        }
        memcpy(req->rbody + req->rbody_len, buf, len);
        req->rbody_len = need;
        req->rbody[need] = '\0';
        return 0;
    }
    if (req->cbs.on_data != NULL)
        req->cbs.on_data(req->data, buf, len);
    return req->done || req->deferred ? UV_ECANCELED : 0;
}

static int conn_on_upgrade(void *data, size_t offset) {
    http_request *req = data;
    req->upgraded = 1;
    return 0;
}

static int conn_on_complete(void *data) {
    http_request *req = data;
    req->complete = 1;
    return req->upgraded ? 0 : HTTP_PARSER_PAUSE;
}

static const http_parser_cbs parser_cbs = {
    .on_head = conn_on_head,
    .on_body = conn_on_body,
    .on_upgrade = conn_on_upgrade,
    .on_complete = conn_on_complete,
};

/* ---- reading ---- */

static void alloc_cb(uv_handle_t *handle, size_t size, uv_buf_t *buf) {
    http_conn *conn = handle->data;
    *buf = uv_buf_init(conn->buf, sizeof(conn->buf));
}

static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
    http_conn *conn = stream->data;
    http_request *req = conn->req;
    ssize_t n;

    if (nread == 0 || conn->closing)
        return;
    if (req == NULL) {
        /* Idle: the peer closed the connection, or sent what nobody asked for. */
        conn_close(conn);
        return;
    }
    if (nread < 0) {
        if (nread == UV_EOF)
            conn->eof = 1;
        if (!req->got_bytes) {
            fail_io(req, nread == UV_EOF ? HTTP_ETRUNC : (int)nread);
            return;
        }
        if (nread != UV_EOF) {
            finish(req, (int)nread);
            return;
        }
        int rc = http_parser_finish(req->parser);
        if (req->done || req->deferred)
            return;
        finish(req, rc != 0 ? rc : req->complete ? 0 : HTTP_ETRUNC);
        return;
    }
    req->got_bytes = 1;
    n = http_parser_feed(req->parser, buf->base, (size_t)nread);
    if (req->done || req->deferred)
        return;
    if (n < 0) {
        finish(req, (int)n);
        return;
    }
    if (req->complete) {
        if (n < nread)
            conn->eof = 1; /* bytes after the response: never reuse */
        finish(req, 0);
    }
}

/* ---- writing ---- */

static int stale(http_request *req, uv_stream_t *stream) {
    return req->done || req->deferred || req->retry_wait || req->conn == NULL ||
           &req->conn->h.stream != stream;
}

static void write_cb(uv_write_t *w, int status);

static void fs_read_cb(uv_fs_t *fs) {
    http_request *req = container_of(fs, http_request, fs);
    ssize_t result = fs->result;

    uv_fs_req_cleanup(fs);
    req->pending--;
    if (req->done || req->deferred || req->retry_wait || req->conn == NULL) {
        settle(req);
        return;
    }
    if (result <= 0) {
        finish(req, result < 0 ? (int)result : UV_EIO); /* the file shrank */
        return;
    }
    req->file_off += (uint64_t)result;
    uv_buf_t b = uv_buf_init(req->chunk, (unsigned)result);
    int rc = uv_write(&req->write, &req->conn->h.stream, &b, 1, write_cb);
    if (rc != 0) {
        finish(req, rc);
        return;
    }
    req->pending++;
}

static void write_cb(uv_write_t *w, int status) {
    http_request *req = container_of(w, http_request, write);

    req->pending--;
    if (status == UV_ECANCELED || stale(req, w->handle)) {
        settle(req);
        return;
    }
    if (status < 0) {
        fail_io(req, status);
        return;
    }
    if (req->fd_open && req->file_off < req->file_size) {
        size_t n = FILE_CHUNK;
        wait_for_peer(req); /* it took the last piece: the next one */
        if (req->file_size - req->file_off < n)
            n = (size_t)(req->file_size - req->file_off);
        uv_buf_t b = uv_buf_init(req->chunk, (unsigned)n);
        int rc = uv_fs_read(req->client->loop, &req->fs, req->fd, &b, 1, (int64_t)req->file_off,
                            fs_read_cb);
        if (rc != 0) {
            finish(req, rc);
            return;
        }
        req->pending++;
        return;
    }
    req->sent = 1;
    wait_for_peer(req); /* the request is out: the head is due */
}

/* Starts the exchange on req->conn, now connected. */
static void send_request(http_request *req) {
    uv_buf_t bufs[2];
    unsigned n = 0;
    int rc;

    http_parser_free(req->parser);
    req->parser = NULL;
    rc = http_parser_new(req->pflags, &parser_cbs, req, &req->parser);
    if (rc != 0)
        goto fail;
    req->got_bytes = req->complete = req->upgraded = req->sent = req->headed = 0;
    req->rbody_len = 0;
    req->file_off = 0;
    bufs[n++] = uv_buf_init(req->head, (unsigned)req->head_len);
    if (req->body_len > 0)
        bufs[n++] = uv_buf_init(req->body, (unsigned)req->body_len);
    wait_for_peer(req);
    rc = uv_write(&req->write, &req->conn->h.stream, bufs, n, write_cb);
    if (rc != 0)
        goto fail;
    req->pending++;
    return;
fail:
    fail_later(req, rc);
}

static void connect_cb(uv_connect_t *c, int status) {
    http_conn *conn = container_of(c, http_conn, connect);
    http_request *req = conn->req;

    if (status == UV_ECANCELED || conn->closing)
        return;
    if (req == NULL) {
        conn_close(conn);
        return;
    }
    if (status == 0)
        status = uv_read_start(&conn->h.stream, alloc_cb, read_cb);
    if (status != 0) {
        finish(req, status);
        return;
    }
    send_request(req);
}

/* Finds the request a connection: an idle one from the pool unless fresh,
 * else a new one. */
static void dispatch(http_request *req, int fresh) {
    http_client *client = req->client;
    http_conn *conn = fresh ? NULL : pool_get(client);
    int rc = 0;

    if (conn != NULL) {
        req->reused = 1;
        conn->req = req;
        req->conn = conn;
        send_request(req);
        return;
    }
    req->reused = 0;
    conn = conn_new(client);
    if (conn == NULL) {
        fail_later(req, UV_ENOMEM);
        return;
    }
    conn->req = req;
    req->conn = conn;
    wait_for_peer(req); /* to accept the connection */
    if (client->path != NULL) {
        uv_pipe_connect(&conn->connect, &conn->h.pipe, client->path, connect_cb);
    } else {
        uv_tcp_nodelay(&conn->h.tcp, 1);
        rc = uv_tcp_connect(&conn->connect, &conn->h.tcp, (const struct sockaddr *)&client->addr,
                            connect_cb);
    }
    if (rc != 0)
        fail_later(req, rc);
}

/* ---- body files ---- */

static int head_end(http_request *req, int with_length, uint64_t length) {
    char tail[64];
    int n = with_length ? snprintf(tail, sizeof(tail), "Content-Length: %llu\r\n\r\n",
                                   (unsigned long long)length)
                        : snprintf(tail, sizeof(tail), "\r\n");
    char *head = realloc(req->head, req->head_len + (size_t)n + 1);
    if (head == NULL)
        return UV_ENOMEM;
    memcpy(head + req->head_len, tail, (size_t)n + 1);
    req->head = head;
    req->head_len += (size_t)n;
    return 0;
}

static void fs_stat_cb(uv_fs_t *fs) {
    http_request *req = container_of(fs, http_request, fs);
    ssize_t result = fs->result;
    uint64_t size = fs->statbuf.st_size;
    int rc;

    uv_fs_req_cleanup(fs);
    req->pending--;
    if (req->done || req->deferred) {
        settle(req);
        return;
    }
    if (result < 0) {
        finish(req, (int)result);
        return;
    }
    req->file_size = size;
    req->chunk = malloc(FILE_CHUNK);
    rc = req->chunk == NULL ? UV_ENOMEM : head_end(req, 1, size);
    if (rc != 0) {
        finish(req, rc);
        return;
    }
    dispatch(req, 0);
}

static void fs_open_cb(uv_fs_t *fs) {
    http_request *req = container_of(fs, http_request, fs);
    ssize_t result = fs->result;
    int rc;

    uv_fs_req_cleanup(fs);
    req->pending--;
    if (result >= 0) {
        req->fd = (uv_file)result;
        req->fd_open = 1;
    }
    if (req->done || req->deferred) {
        settle(req);
        return;
    }
    if (result < 0) {
        finish(req, (int)result);
        return;
    }
    rc = uv_fs_fstat(req->client->loop, &req->fs, req->fd, fs_stat_cb);
    if (rc != 0) {
        finish(req, rc);
        return;
    }
    req->pending++;
}

/* ---- the API ---- */

static int has_crlf(const char *s) {
    return strpbrk(s, "\r\n") != NULL;
}

/* The request head up to, not including, Content-Length and the blank line. */
static int head_start(http_request *req, const http_client *client, const http_request_opts *opts) {
    size_t cap = strlen(opts->method) + strlen(opts->target) + strlen(client->host) + 128;
    int own_host = 0;
    char *s;
    size_t len;

    if (has_crlf(opts->method) || has_crlf(opts->target) || strchr(opts->method, ' ') ||
        strchr(opts->target, ' '))
        return UV_EINVAL;
    for (size_t i = 0; i < opts->n_headers; i++) {
        const http_header *h = &opts->headers[i];
        if (h->name == NULL || h->value == NULL || has_crlf(h->name) || has_crlf(h->value) ||
            strchr(h->name, ':'))
            return UV_EINVAL;
        cap += strlen(h->name) + strlen(h->value) + 4;
        own_host |= strcasecmp(h->name, "Host") == 0;
    }
    s = malloc(cap);
    if (s == NULL)
        return UV_ENOMEM;
    len = (size_t)sprintf(s, "%s %s HTTP/1.1\r\n", opts->method, opts->target);
    if (!own_host)
        len += (size_t)sprintf(s + len, "Host: %s\r\n", client->host);
    for (size_t i = 0; i < opts->n_headers; i++) {
        const http_header *h = &opts->headers[i];
        if (strcasecmp(h->name, "Content-Length") == 0)
            continue;
        len += (size_t)sprintf(s + len, "%s: %s\r\n", h->name, h->value);
    }
    if (opts->flags & HTTP_UPGRADE)
        len += (size_t)sprintf(s + len, "Connection: Upgrade\r\nUpgrade: tcp\r\n");
    req->head = s;
    req->head_len = len;
    return 0;
}

int http_request_start(http_client *client, const http_request_opts *opts,
                       const http_request_cbs *cbs, void *data, http_request **out) {
    http_request *req = NULL;
    int rc;

    if (client == NULL || opts == NULL || cbs == NULL || cbs->on_done == NULL ||
        opts->method == NULL || opts->target == NULL ||
        (opts->body_file != NULL && opts->body != NULL && opts->body_len > 0))
        return UV_EINVAL;
    if (client->closing)
        return UV_EINVAL;
    req = calloc(1, sizeof(*req));
    if (req == NULL)
        return UV_ENOMEM;
    req->client = client;
    req->cbs = *cbs;
    req->data = data;
    req->flags = opts->flags;
    req->max_body = opts->max_body ? opts->max_body : MAX_BODY;
    req->pflags = (opts->flags & HTTP_UPGRADE ? HTTP_PARSER_UPGRADE : 0) |
                  (strcasecmp(opts->method, "HEAD") == 0 ? HTTP_PARSER_HEAD : 0);
    rc = head_start(req, client, opts);
    if (rc != 0)
        goto fail;
    if (opts->body_file != NULL) {
        req->file_path = strdup(opts->body_file);
        if (req->file_path == NULL) {
            rc = UV_ENOMEM;
            goto fail;
        }
    } else {
        int has_body = opts->body != NULL && opts->body_len > 0;
        int wants_length = has_body || strcasecmp(opts->method, "POST") == 0 ||
                           strcasecmp(opts->method, "PUT") == 0 ||
                           strcasecmp(opts->method, "PATCH") == 0;
        if (has_body) {
            req->body = malloc(opts->body_len);
            if (req->body == NULL) {
                rc = UV_ENOMEM;
                goto fail;
            }
            memcpy(req->body, opts->body, opts->body_len);
            req->body_len = opts->body_len;
        }
        rc = head_end(req, wants_length, req->body_len);
        if (rc != 0)
            goto fail;
    }

    uv_timer_init(client->loop, &req->timer);
    req->timer.data = req;
    req->next = client->reqs;
    if (client->reqs != NULL)
        client->reqs->prev = req;
    client->reqs = req;
    client->refs++;
    if (opts->timeout_ms > 0)
        req->end_at = uv_now(client->loop) + opts->timeout_ms;
    req->head_ms = opts->head_timeout_ms;
    arm(req);
    if (req->file_path != NULL) {
        rc =
            uv_fs_open(client->loop, &req->fs, req->file_path, O_RDONLY | O_CLOEXEC, 0, fs_open_cb);
        if (rc != 0)
            fail_later(req, rc);
        else
            req->pending++;
    } else {
        dispatch(req, 0);
    }
    if (out != NULL)
        *out = req;
    return 0;

fail:
    free(req->head);
    free(req->body);
    free(req->file_path);
    free(req);
    return rc;
}

int http_request_cancel(http_request *req) {
    if (req == NULL || req->done)
        return UV_EINVAL;
    if (req->deferred)
        return UV_EALREADY;
    fail_later(req, UV_ECANCELED);
    return 0;
}

typedef struct raw_write {
    union {
        uv_write_t write;
        uv_shutdown_t shutdown;
    } u;
    http_request *req;
    char data[];
} raw_write;

static void raw_done(raw_write *w, int status) {
    http_request *req = w->req;
    free(w);
    req->pending--;
    if (status < 0 && status != UV_ECANCELED && !req->done && !req->deferred) {
        finish(req, status);
        return;
    }
    settle(req);
}

static void raw_write_cb(uv_write_t *w, int status) {
    raw_done(container_of(w, raw_write, u.write), status);
}

static void raw_shutdown_cb(uv_shutdown_t *s, int status) {
    raw_done(container_of(s, raw_write, u.shutdown), status);
}

int http_request_write(http_request *req, const void *buf, size_t len) {
    raw_write *w;
    int rc;

    if (req == NULL || req->done || req->deferred || !req->upgraded || req->conn == NULL)
        return UV_EINVAL;
    w = malloc(sizeof(*w) + len);
    if (w == NULL)
        return UV_ENOMEM;
    w->req = req;
    memcpy(w->data, buf, len);
    uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
    rc = uv_write(&w->u.write, &req->conn->h.stream, &b, 1, raw_write_cb);
    if (rc != 0) {
        free(w);
        return rc;
    }
    req->pending++;
    return 0;
}

int http_request_shutdown(http_request *req) {
    raw_write *w;
    int rc;

    if (req == NULL || req->done || req->deferred || !req->upgraded || req->conn == NULL)
        return UV_EINVAL;
    w = malloc(sizeof(*w));
    if (w == NULL)
        return UV_ENOMEM;
    w->req = req;
    rc = uv_shutdown(&w->u.shutdown, &req->conn->h.stream, raw_shutdown_cb);
    if (rc != 0) {
        free(w);
        return rc;
    }
    req->pending++;
    return 0;
}

/* "unix:///path", "tcp://host:port", "http://host:port[/...]"; the host is a
 * numeric IPv4 or [IPv6] address, or localhost. */
static int parse_address(http_client *client, const char *address) {
    const char *rest;
    char host[64];
    const char *port, *end;
    size_t hl;
    int rc;

    if (strncmp(address, "unix://", 7) == 0) {
        if (address[7] == '\0')
            return UV_EINVAL;
        client->path = strdup(address + 7);
        return client->path != NULL ? 0 : UV_ENOMEM;
    }
    if (strncmp(address, "tcp://", 6) == 0)
        rest = address + 6;
    else if (strncmp(address, "http://", 7) == 0)
        rest = address + 7;
    else
        return UV_EINVAL;
    if (rest[0] == '[') {
        end = strchr(rest, ']');
        if (end == NULL || end[1] != ':')
            return UV_EINVAL;
        hl = (size_t)(end - rest - 1);
        if (hl >= sizeof(host))
            return UV_EINVAL;
        memcpy(host, rest + 1, hl);
        port = end + 2;
    } else {
        end = strchr(rest, ':');
        if (end == NULL)
            return UV_EINVAL;
        hl = (size_t)(end - rest);
        if (hl >= sizeof(host))
            return UV_EINVAL;
        memcpy(host, rest, hl);
        port = end + 1;
    }
    host[hl] = '\0';
    char *pend;
    unsigned long p = strtoul(port, &pend, 10);
    if (pend == port || p == 0 || p > 65535 || (*pend != '\0' && *pend != '/'))
        return UV_EINVAL;
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    if (strchr(host, ':') != NULL)
        rc = uv_ip6_addr(host, (int)p, (struct sockaddr_in6 *)&client->addr);
    else
        rc = uv_ip4_addr(host, (int)p, (struct sockaddr_in *)&client->addr);
    if (rc != 0)
        return UV_EINVAL;
    if (client->host == NULL) {
        size_t n = (size_t)(pend - rest);
        client->host = malloc(n + 1);
        if (client->host == NULL)
            return UV_ENOMEM;
        memcpy(client->host, rest, n);
        client->host[n] = '\0';
    }
    return 0;
}

int http_client_new(uv_loop_t *loop, const char *address, const char *host_header,
                    http_client **out) {
    http_client *client;
    int rc;

    if (loop == NULL || address == NULL || out == NULL)
        return UV_EINVAL;
    client = calloc(1, sizeof(*client));
    if (client == NULL)
        return UV_ENOMEM;
    client->loop = loop;
    if (host_header != NULL && (client->host = strdup(host_header)) == NULL) {
        rc = UV_ENOMEM;
        goto fail;
    }
    rc = parse_address(client, address);
    if (rc != 0)
        goto fail;
    if (client->host == NULL && (client->host = strdup("localhost")) == NULL) {
        rc = UV_ENOMEM;
        goto fail;
    }
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL &&
        !(sa.sa_flags & SA_SIGINFO))
        signal(SIGPIPE, SIG_IGN);
    uv_timer_init(loop, &client->handle);
    uv_unref((uv_handle_t *)&client->handle);
    client->handle.data = client;
    client->refs = 1;
    *out = client;
    return 0;
fail:
    free(client->path);
    free(client->host);
    free(client);
    return rc;
}

static void client_handle_closed(uv_handle_t *handle) {
    client_unref(handle->data);
}

void http_client_close(http_client *client, void (*cb)(void *data), void *data) {
    if (client == NULL || client->closing)
        return;
    client->closing = 1;
    client->close_cb = cb;
    client->close_data = data;
    for (http_request *req = client->reqs; req != NULL; req = req->next)
        fail_later(req, UV_ECANCELED);
    while (client->conns != NULL)
        conn_close(client->conns);
    uv_close((uv_handle_t *)&client->handle, client_handle_closed);
}

const char *http_response_header(const http_response *res, const char *name) {
    if (res == NULL || name == NULL)
        return NULL;
    for (size_t i = 0; i < res->n_headers; i++)
        if (strcasecmp(res->headers[i].name, name) == 0)
            return res->headers[i].value;
    return NULL;
}
