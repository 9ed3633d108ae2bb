/* HTTP/1.1 client on the libuv loop: the one HTTP stack of hdc, serving the
 * Docker Engine API (unix socket or TCP) and the health probes (TCP).
 *
 * A client is bound to one endpoint and keeps a small pool of idle
 * keep-alive connections to it. Each request runs on a connection of its
 * own until its response is complete; bodies are delivered as they arrive
 * (streams such as logs, events and build progress are never buffered
 * whole) unless the caller asks for a buffered body. A request that asks
 * for an upgrade (Docker's attach / exec start) hands the connection over
 * as a raw byte stream once the 101 (or hijacked 200) headers are read.
 *
 * Conventions, as in libuv: every call returns 0 or a negative error
 * (a libuv errno, or one of the HTTP_E* codes below). When a call that takes
 * callbacks fails, none of them is ever called; when it succeeds, on_done is
 * called exactly once, never from inside the call that started the request.
 */
#ifndef HDC_HTTP_H
#define HDC_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "err.h" /* HTTP_EPARSE, HTTP_ETOOBIG, HTTP_ETRUNC */

typedef struct http_client http_client;
typedef struct http_request http_request;

typedef struct http_header {
    const char *name;
    const char *value;
} http_header;

/* A response as seen by the callbacks. Every pointer in it is borrowed:
 * valid only during the callback that receives it. */
typedef struct http_response {
    int status;                 /* e.g. 200, 101 */
    const http_header *headers; /* names as sent by the peer */
    size_t n_headers;
    const char *body; /* with HTTP_BUFFER_BODY: the whole body (NUL-terminated) */
    size_t body_len;
} http_response;

enum http_flags {
    HTTP_BUFFER_BODY = 1 << 0, /* collect the body and give it to on_done */
    HTTP_UPGRADE = 1 << 1,     /* Upgrade: tcp; after the headers the connection is raw */
};

typedef struct http_request_opts {
    const char *method;         /* "GET", "POST", ... */
    const char *target;         /* path with query, already escaped */
    const http_header *headers; /* extra headers; Host, Content-Length added for you */
    size_t n_headers;
    const void *body; /* in-memory body (copied), or NULL */
    size_t body_len;
    const char *body_file; /* or: stream this file as the body (e.g. a tar context) */
    uint64_t timeout_ms;   /* whole request deadline; 0 = none (streams) */
    /* How long the peer may keep the request waiting before the response
     * head: to connect, to take each piece of the body, and from the end
     * of the request to the end of the head. Never the body: a stream's
     * body may be slow or silent. 0 = none. */
    uint64_t head_timeout_ms;
    size_t max_body; /* cap for HTTP_BUFFER_BODY; 0 = 64 MiB */
    unsigned flags;  /* enum http_flags */
} http_request_opts;

typedef struct http_request_cbs {
    /* Optional: the status line and headers are complete. */
    void (*on_head)(void *data, const http_response *res);
    /* Optional: body bytes as they arrive, de-chunked; after an upgrade,
     * the raw stream, starting with any bytes read together with the
     * headers. Not called for HTTP_BUFFER_BODY requests. */
    void (*on_data)(void *data, const char *buf, size_t len);
    /* Required, called exactly once: status 0 when a whole response was
     * read (whatever its HTTP status: check res->status), or a negative
     * error (UV_ETIMEDOUT when a deadline passed), with res NULL if no
     * head had arrived. After an upgrade, 0 when the peer closed the
     * stream. */
    void (*on_done)(void *data, int status, const http_response *res);
} http_request_cbs;

/* address: "unix:///var/run/docker.sock", "tcp://127.0.0.1:2375" or
 * "http://127.0.0.1:8080". host_header: the Host header to send (Docker
 * over a unix socket wants "docker"); NULL derives it from the address. */
int http_client_new(uv_loop_t *loop, const char *address, const char *host_header,
                    http_client **out);

/* Cancels every request in flight (each gets on_done with UV_ECANCELED),
 * closes the connections and frees the client once its handles are closed;
 * cb (optional) is called then. */
void http_client_close(http_client *client, void (*cb)(void *data), void *data);

int http_request_start(http_client *client, const http_request_opts *opts,
                       const http_request_cbs *cbs, void *data, http_request **out);
/* *out (optional) is valid until on_done returns: the request is freed
 * then, so drop any pointer to it in on_done. */

/* Aborts the request: its connection is closed and on_done follows with
 * UV_ECANCELED (unless on_done already ran: then this is a no-op error). */
int http_request_cancel(http_request *req);

/* After an upgrade: write to the raw stream (copied), and half-close it. */
int http_request_write(http_request *req, const void *buf, size_t len);
int http_request_shutdown(http_request *req);
/* Both may be called from on_head on (the 101 or hijacked 200 head); before
 * an upgrade, or after on_done, they return UV_EINVAL. */

/* The value of header name (case-insensitive) in res, or NULL. */
const char *http_response_header(const http_response *res, const char *name);

/* ---- The response parser: a pure function over byte spans ----------------
 *
 * The I/O layer above feeds it what it reads; the unit tests and the fuzzer
 * feed it canned bytes split anywhere. It never allocates more than
 * HTTP_MAX_HEAD bytes of head and never blocks or reads a clock.
 *
 * Events, in order, for each response: on_head (status and headers), then
 * on_body for every run of de-chunked body bytes, then on_complete. Interim
 * 1xx responses other than 101 are skipped. Several responses may follow
 * one another (keep-alive). A 101, or with HTTP_PARSER_UPGRADE a 200 with
 * neither Content-Length nor chunked encoding (Docker's hijack), ends the
 * HTTP part: on_upgrade gets the offset, in the buffer being fed, of the
 * first byte of the raw stream; every raw byte from there on, those of that
 * same buffer included, goes to on_body, and on_complete follows only at
 * http_parser_finish (EOF).
 *
 * Callbacks return 0 to go on, or a negative error to stop: the parser then
 * fails for good with that error. on_complete may also return
 * HTTP_PARSER_PAUSE: http_parser_feed then returns at once with the number
 * of bytes consumed, and a later feed resumes with the bytes after them.
 * The http_response given to on_head stays valid until the next response
 * begins or the parser is freed. */

#define HTTP_MAX_HEAD     (64 * 1024) /* status line and headers, bytes */
#define HTTP_MAX_HEADERS  100
#define HTTP_PARSER_PAUSE 1

enum http_parser_flags {
    HTTP_PARSER_UPGRADE = 1 << 0, /* the request asked for an upgrade (hijack) */
    HTTP_PARSER_HEAD = 1 << 1,    /* the request was a HEAD: responses have no body */
};

typedef struct http_parser http_parser;

typedef struct http_parser_cbs {
    int (*on_head)(void *data, const http_response *res);
    int (*on_body)(void *data, const char *buf, size_t len);
    int (*on_upgrade)(void *data, size_t offset);
    int (*on_complete)(void *data);
} http_parser_cbs;

/* flags: enum http_parser_flags. cbs is copied; any callback may be NULL. */
int http_parser_new(unsigned flags, const http_parser_cbs *cbs, void *data, http_parser **out);
void http_parser_free(http_parser *p);

/* Returns the number of bytes consumed (len, unless on_complete paused),
 * or a negative error: HTTP_EPARSE, or what a callback returned. Once it
 * has failed, the parser keeps returning the same error. */
ssize_t http_parser_feed(http_parser *p, const char *buf, size_t len);

/* The peer closed the connection: completes a close-delimited body or a
 * raw stream (on_complete), and returns 0, or HTTP_ETRUNC inside a
 * response, or the parser's earlier error. */
int http_parser_finish(http_parser *p);

/* The head of the current (or last) response, or NULL before any. */
const http_response *http_parser_response(const http_parser *p);

/* After on_complete: whether the connection may carry another request. */
int http_parser_keep_alive(const http_parser *p);

/* From on_head on: whether this response turns the connection raw. */
int http_parser_upgraded(const http_parser *p);

#endif
