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

/* Errors of our own, below libuv's range. */
#define HTTP_EPARSE    (-30001) /* the peer sent something that is not HTTP */
#define HTTP_ETOOBIG   (-30002) /* a buffered body exceeded max_body */
#define HTTP_ETRUNC    (-30003) /* the connection closed inside a response */

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
    const char *body;           /* with HTTP_BUFFER_BODY: the whole body (NUL-terminated) */
    size_t body_len;
} http_response;

enum http_flags {
    HTTP_BUFFER_BODY = 1 << 0, /* collect the body and give it to on_done */
    HTTP_UPGRADE     = 1 << 1, /* Upgrade: tcp; after the headers the connection is raw */
};

typedef struct http_request_opts {
    const char *method;          /* "GET", "POST", ... */
    const char *target;          /* path with query, already escaped */
    const http_header *headers;  /* extra headers; Host, Content-Length added for you */
    size_t n_headers;
    const void *body;            /* in-memory body (copied), or NULL */
    size_t body_len;
    const char *body_file;       /* or: stream this file as the body (e.g. a tar context) */
    uint64_t timeout_ms;         /* whole request deadline; 0 = none (streams) */
    size_t max_body;             /* cap for HTTP_BUFFER_BODY; 0 = 64 MiB */
    unsigned flags;              /* enum http_flags */
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
     * error, with res NULL if no head had arrived. After an upgrade, 0
     * when the peer closed the stream. */
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

/* Aborts the request: its connection is closed and on_done follows with
 * UV_ECANCELED (unless on_done already ran: then this is a no-op error). */
int http_request_cancel(http_request *req);

/* After an upgrade: write to the raw stream (copied), and half-close it. */
int http_request_write(http_request *req, const void *buf, size_t len);
int http_request_shutdown(http_request *req);

/* The value of header name (case-insensitive) in res, or NULL. */
const char *http_response_header(const http_response *res, const char *name);

/* A message for any error these calls return or pass to on_done. */
const char *http_strerror(int err);

#endif
