/* The Docker Engine API on the loop (see docker.h): each call is one HTTP
 * request (exec is three) on engine/http.c, its reply parsed with jansson
 * and handed to a typed callback.
 *
 * Decisions a newcomer might question:
 * - The API version is pinned in every path (/v1.41/...): Debian's Docker
 *   20.10 speaks it, and a pinned version keeps reply shapes stable
 *   whatever newer engine answers. No version negotiation.
 * - One struct (call) serves every kind of request and is also the
 *   docker_stream handle: which user callback it holds is told by `kind`,
 *   and call_finish is the single place that calls it, so "exactly once"
 *   is checked in one place (c->finished).
 * - Errors are mapped once (call_on_done): a refused connection becomes
 *   DOCKER_ENOENGINE with a message that says what to do; a non-2xx reply
 *   becomes Docker's own message (docker_api_error). Streaming requests
 *   collect the body of an error reply instead of streaming it.
 * - The build context is archived by libarchive into a temporary file in
 *   uv_queue_work, then streamed by http's body_file: the context can be
 *   large and archiving reads the disk, so it must not run on the loop nor
 *   sit in memory. The file is removed when the request ends.
 * - Exec: after the hijacked stream closes, GET /exec/{id}/json gives the
 *   exit code. The daemon closes the stream once the process has exited,
 *   but should the inspect still say Running, it is asked again (bounded)
 *   instead of reporting a made-up code.
 * - Request bodies, targets and reply parsing are pure functions below the
 *   I/O part, so they are unit-tested without an engine.
 */
#define _GNU_SOURCE /* vasprintf */
#include "docker.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "demux.h"
#include "http.h"
#include "lines.h"

#define V "/v" DOCKER_API_VERSION

/* Deadlines of the calls that answer at once (ms). Streams, build, wait
 * and exec have none. */
#define DOCKER_TIMEOUT_MS    (120 * 1000)
#define DOCKER_STOP_GRACE_MS (60 * 1000)
/* Cap of the error body collected from a streaming reply. */
#define DOCKER_ERRBODY_MAX (64 * 1024)
/* How often an exec still reported running is inspected again. */
#define DOCKER_EXEC_INSPECT_TRIES 200

struct docker {
    uv_loop_t *loop;
    http_client *http;
    char *address;
    int closing;
    size_t n_work; /* build contexts being archived */
    int http_closed;
    void (*close_cb)(void *data);
    void *close_data;
};

enum call_kind {
    K_PLAIN,
    K_ID,
    K_LIST,
    K_VERSION,
    K_PING,
    K_IMAGE,
    K_NETWORK,
    K_CONTAINER,
    K_WAIT,
    K_EXEC,
    K_BUILD,
    K_LOGS,
    K_EVENTS,
};

typedef struct docker_stream call;
/* Interprets a 2xx reply and finishes the call. */
typedef void (*call_ok_fn)(call *c, const http_response *res);

struct docker_stream {
    docker *d;
    enum call_kind kind;
    const char *what; /* "container create": for messages */
    union {
        docker_cb plain;
        docker_id_cb id;
        docker_list_cb list;
        docker_version_cb version;
        docker_ping_cb ping;
        docker_image_cb image;
        docker_network_cb network;
        docker_container_cb container;
        docker_wait_cb wait;
        docker_exec_cb exec;
    } cb;
    void *data;
    call_ok_fn ok;
    http_request *req; /* the request in flight, or NULL */
    int finished;
    int canceled;
    int overlap_hint; /* network create: map "overlaps" */

    /* Streams. */
    int http_status; /* of the current streaming reply */
    char *errbody;   /* body of a non-2xx streaming reply */
    size_t errbody_len;
    int stream_err; /* first error met while streaming */
    char *stream_msg;
    lines ln;
    demux dm;
    int have_ln, have_dm;
    docker_output_cb on_output;
    docker_event_cb on_event;
    docker_build_progress_cb on_progress;

    /* Build. */
    uv_work_t work;
    char *context_dir;
    char *tar_path;
    char *target;
    char *image_id;
    char err[512];
    int work_rc;

    /* Exec. */
    char *exec_id;
    void *stdin_data;
    size_t stdin_len;
    int has_stdin;
    int tty;
    int inspect_tries;
};

/* ---- small helpers ------------------------------------------------------ */

static char *xstrdup(const char *s) {
    return s ? strdup(s) : NULL;
}

static char *xasprintf(const char *fmt, ...) {
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    return n < 0 ? NULL : s;
}

static const char *jstr(const json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static const char *jstr_or_null(const json_t *o, const char *key) {
    return json_string_value(json_object_get(o, key));
}

/* ---- the client --------------------------------------------------------- */

int docker_new(uv_loop_t *loop, const char *address, docker **out) {
    docker *d;
    int rc;

    *out = NULL;
    if (!address) {
        address = getenv("DOCKER_HOST");
        if (!address || !*address)
            address = DOCKER_DEFAULT_HOST;
    }
    if (strncmp(address, "unix://", 7) != 0 && strncmp(address, "tcp://", 6) != 0)
        return UV_EINVAL;
    d = calloc(1, sizeof(*d));
    if (!d)
        return UV_ENOMEM;
    d->loop = loop;
    d->address = strdup(address);
    if (!d->address) {
        free(d);
        return UV_ENOMEM;
    }
    rc = http_client_new(loop, address, strncmp(address, "unix://", 7) == 0 ? "docker" : NULL,
                         &d->http);
    if (rc) {
        free(d->address);
        free(d);
        return rc;
    }
    *out = d;
    return 0;
}

static void docker__maybe_free(docker *d) {
    void (*cb)(void *) = d->close_cb;
    void *data = d->close_data;

    if (!d->closing || !d->http_closed || d->n_work > 0)
        return;
    free(d->address);
    free(d);
    if (cb)
        cb(data);
}

static void docker__http_closed(void *data) {
    docker *d = data;
    d->http_closed = 1;
    docker__maybe_free(d);
}

void docker_close(docker *d, void (*cb)(void *data), void *data) {
    if (!d || d->closing)
        return;
    d->closing = 1;
    d->close_cb = cb;
    d->close_data = data;
    http_client_close(d->http, docker__http_closed, d);
}

const char *docker_address(const docker *d) {
    return d->address;
}

/* ---- calls -------------------------------------------------------------- */

static call *call_new(docker *d, enum call_kind kind, const char *what, void *data) {
    call *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->d = d;
    c->kind = kind;
    c->what = what;
    c->data = data;
    return c;
}

static void call_free(call *c) {
    if (c->have_ln)
        lines_free(&c->ln);
    if (c->tar_path) {
        unlink(c->tar_path);
        free(c->tar_path);
    }
    free(c->errbody);
    free(c->stream_msg);
    free(c->context_dir);
    free(c->target);
    free(c->image_id);
    free(c->exec_id);
    free(c->stdin_data);
    free(c);
}

/* Ends the call with an error: the user's callback, with empty results. */
static void call_fail(call *c, int status, const char *msg) {
    void *data = c->data;

    if (c->finished)
        return;
    c->finished = 1;
    if (!msg)
        msg = hdc_strerror(status);
    switch (c->kind) {
    case K_PLAIN:
    case K_LOGS:
    case K_EVENTS: c->cb.plain(data, status, msg); break;
    case K_ID:
    case K_BUILD: c->cb.id(data, status, msg, NULL); break;
    case K_LIST: c->cb.list(data, status, msg, NULL, 0); break;
    case K_VERSION: c->cb.version(data, status, msg, NULL); break;
    case K_PING: c->cb.ping(data, status, msg, NULL); break;
    case K_IMAGE: c->cb.image(data, status, msg, NULL); break;
    case K_NETWORK: c->cb.network(data, status, msg, NULL); break;
    case K_CONTAINER: c->cb.container(data, status, msg, NULL); break;
    case K_WAIT: c->cb.wait(data, status, msg, -1); break;
    case K_EXEC: c->cb.exec(data, status, msg, -1); break;
    }
    call_free(c);
}

static void call_failf(call *c, int status, const char *fmt, ...) {
    va_list ap;
    char *msg = NULL;

    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    call_fail(c, status, msg);
    free(msg);
}

/* The message for a transport error (no HTTP reply). */
static void call_fail_transport(call *c, int status, int got_head) {
    docker *d = c->d;

    if (status == UV_ECANCELED || c->canceled) {
        call_failf(c, UV_ECANCELED, "%s: canceled", c->what);
        return;
    }
    if (!got_head) {
        switch (status) {
        case UV_ENOENT:
        case UV_ECONNREFUSED:
        case UV_ENOTSOCK:
        case UV_EHOSTUNREACH:
        case UV_ENETUNREACH:
        case UV_EADDRNOTAVAIL:
        case UV_EAI_NONAME:
        case UV_ENOTDIR:
            call_failf(c, DOCKER_ENOENGINE,
                       "no Docker engine at %s: run scripts/setup.sh or set DOCKER_HOST",
                       d->address);
            return;
        case UV_EACCES:
        case UV_EPERM:
            call_failf(c, DOCKER_ENOENGINE,
                       "no access to the Docker engine at %s (%s): join the docker group, "
                       "or set DOCKER_HOST",
                       d->address, uv_strerror(status));
            return;
        default: break;
        }
    }
    call_failf(c, status, "%s: Docker engine at %s: %s", c->what, d->address, hdc_strerror(status));
}

static void call_on_head(void *data, const http_response *res) {
    call *c = data;
    c->http_status = res->status;
}

/* Body bytes of a streaming reply: to the stream's parser, or collected
 * when the reply is an error. */
static void call_on_data(void *data, const char *buf, size_t len) {
    call *c = data;
    int rc;

    if (c->finished || c->canceled)
        return;
    if (c->http_status >= 300 && c->http_status != 101) {
        size_t n = len;
        char *b;
        if (c->errbody_len + n > DOCKER_ERRBODY_MAX)
            n = DOCKER_ERRBODY_MAX - c->errbody_len;
        if (n == 0)
            return;
        b = realloc(c->errbody, c->errbody_len + n + 1);
        if (!b)
            return;
        memcpy(b + c->errbody_len, buf, n);
        c->errbody = b;
        c->errbody_len += n;
        b[c->errbody_len] = '\0';
        return;
    }
    if (c->stream_err)
        return;
    if (c->have_dm)
        rc = demux_feed(&c->dm, buf, len);
    else if (c->have_ln)
        rc = lines_feed(&c->ln, buf, len);
    else
        return;
    if (rc && !c->stream_err) {
        c->stream_err = rc;
        /* Nothing more is wanted from this reply. */
        if (c->req)
            http_request_cancel(c->req);
    }
}

/* Records the first stream error with its message. */
static void call_stream_error(call *c, int status, const char *fmt, ...) {
    va_list ap;

    if (c->stream_msg)
        return;
    va_start(ap, fmt);
    if (vasprintf(&c->stream_msg, fmt, ap) < 0)
        c->stream_msg = NULL;
    va_end(ap);
    c->stream_err = status;
}

static void call_on_done(void *data, int status, const http_response *res) {
    call *c = data;
    const char *body = NULL;
    size_t body_len = 0;

    c->req = NULL;
    if (c->finished) {
        call_free(c);
        return;
    }
    if (c->canceled) {
        call_failf(c, UV_ECANCELED, "%s: canceled", c->what);
        return;
    }
    /* A stream error met while parsing comes first: it is why we canceled. */
    if (c->stream_err && c->stream_msg) {
        call_fail(c, c->stream_err, c->stream_msg);
        return;
    }
    if (c->stream_err) {
        const char *m = c->have_dm ? hdc_strerror(c->stream_err) : hdc_strerror(c->stream_err);
        call_failf(c, c->have_dm ? DOCKER_ESTREAM : DOCKER_EPROTO, "%s: %s", c->what, m);
        return;
    }
    if (status < 0 || !res) {
        call_fail_transport(c, status ? status : HTTP_ETRUNC, res != NULL);
        return;
    }
    if (res->status >= 300 && res->status != 304) {
        char *msg = NULL;
        int rc;
        if (res->body) {
            body = res->body;
            body_len = res->body_len;
        } else {
            body = c->errbody;
            body_len = c->errbody_len;
        }
        rc = docker_api_error(c->what, res->status, body, body_len, &msg);
        if (rc == DOCKER_EOVERLAP && !c->overlap_hint)
            rc = DOCKER_EAPI;
        call_fail(c, rc, msg);
        free(msg);
        return;
    }
    c->ok(c, res);
}

/* Starts c's (next) request. body: a JSON body (borrowed), or NULL. */
static int call_start(call *c, const char *method, const char *target, const json_t *body,
                      unsigned flags, uint64_t timeout_ms, const char *body_file,
                      const char *content_type) {
    http_request_opts o;
    http_request_cbs cbs;
    http_header hdr[1];
    char *text = NULL;
    int rc;

    if (c->d->closing)
        return UV_ECANCELED;
    memset(&o, 0, sizeof(o));
    memset(&cbs, 0, sizeof(cbs));
    o.method = method;
    o.target = target;
    o.timeout_ms = timeout_ms;
    o.flags = flags;
    o.body_file = body_file;
    if (body) {
        text = json_dumps(body, JSON_COMPACT);
        if (!text)
            return UV_ENOMEM;
        o.body = text;
        o.body_len = strlen(text);
        content_type = "application/json";
    }
    if (content_type) {
        hdr[0].name = "Content-Type";
        hdr[0].value = content_type;
        o.headers = hdr;
        o.n_headers = 1;
    }
    cbs.on_head = call_on_head;
    cbs.on_done = call_on_done;
    if (!(flags & HTTP_BUFFER_BODY))
        cbs.on_data = call_on_data;
    c->http_status = 0;
    rc = http_request_start(c->d->http, &o, &cbs, c, &c->req);
    free(text);
    return rc;
}

int docker_stream_cancel(docker_stream *s) {
    if (!s || s->finished || s->canceled)
        return UV_EALREADY;
    s->canceled = 1;
    if (s->req)
        http_request_cancel(s->req);
    /* Between requests (archiving a build context): the next step sees
     * canceled and ends the call. */
    return 0;
}

/* ---- replies of the simple calls ---------------------------------------- */

static void ok_plain(call *c, const http_response *res) {
    c->finished = 1;
    c->cb.plain(c->data, 0, NULL);
    call_free(c);
}

/* Parses a buffered JSON body; on failure ends the call. */
static json_t *call_json(call *c, const http_response *res) {
    json_error_t jerr;
    json_t *root = json_loadb(res->body ? res->body : "", res->body ? res->body_len : 0, 0, &jerr);
    if (!root)
        call_failf(c, DOCKER_EPROTO, "%s: the Docker engine's reply is not JSON: %s", c->what,
                   jerr.text);
    return root;
}

static void ok_id(call *c, const http_response *res) {
    json_t *root = call_json(c, res);
    const char *id;

    if (!root)
        return;
    id = json_string_value(json_object_get(root, "Id"));
    if (!id) {
        json_decref(root);
        call_failf(c, DOCKER_EPROTO, "%s: no Id in the Docker engine's reply", c->what);
        return;
    }
    c->finished = 1;
    c->cb.id(c->data, 0, NULL, id);
    json_decref(root);
    call_free(c);
}

static void ok_list(call *c, const http_response *res) {
    json_t *root = call_json(c, res), *o;
    docker_object *objs;
    size_t i, n;

    if (!root)
        return;
    /* Volumes come as {"Volumes": [...], "Warnings": ...}. */
    if (json_is_object(root) && json_is_array(json_object_get(root, "Volumes"))) {
        json_t *list = json_incref(json_object_get(root, "Volumes"));
        json_decref(root);
        root = list;
    }
    if (!json_is_array(root)) {
        json_decref(root);
        call_failf(c, DOCKER_EPROTO, "%s: the Docker engine's reply is not a list", c->what);
        return;
    }
    n = json_array_size(root);
    objs = calloc(n ? n : 1, sizeof(*objs));
    if (!objs) {
        json_decref(root);
        call_fail(c, UV_ENOMEM, NULL);
        return;
    }
    json_array_foreach(root, i, o) {
        const char *name = jstr_or_null(o, "Name");
        json_t *arr;
        if (!name && (arr = json_object_get(o, "Names")) && json_array_size(arr) > 0) {
            name = json_string_value(json_array_get(arr, 0));
            if (name && name[0] == '/')
                name++;
        }
        if (!name && (arr = json_object_get(o, "RepoTags")) && json_array_size(arr) > 0)
            name = json_string_value(json_array_get(arr, 0));
        objs[i].id = jstr_or_null(o, "Id") ? jstr(o, "Id") : name ? name : "";
        objs[i].name = name ? name : "";
    }
    c->finished = 1;
    c->cb.list(c->data, 0, NULL, objs, n);
    free(objs);
    json_decref(root);
    call_free(c);
}

static void ok_version(call *c, const http_response *res) {
    json_t *root = call_json(c, res);
    docker_version v;

    if (!root)
        return;
    v.version = jstr(root, "Version");
    v.api_version = jstr(root, "ApiVersion");
    v.min_api_version = jstr(root, "MinAPIVersion");
    v.os = jstr(root, "Os");
    v.arch = jstr(root, "Arch");
    v.kernel_version = jstr(root, "KernelVersion");
    c->finished = 1;
    c->cb.version(c->data, 0, NULL, &v);
    json_decref(root);
    call_free(c);
}

static void ok_ping(call *c, const http_response *res) {
    const char *v = http_response_header(res, "API-Version");
    c->finished = 1;
    c->cb.ping(c->data, 0, NULL, v ? v : "");
    call_free(c);
}

static void ok_image(call *c, const http_response *res) {
    json_t *root = call_json(c, res);
    docker_image_info info;

    if (!root)
        return;
    if (docker_image_info_parse(root, &info) != 0) {
        json_decref(root);
        call_failf(c, DOCKER_EPROTO, "%s: unexpected reply from the Docker engine", c->what);
        return;
    }
    c->finished = 1;
    c->cb.image(c->data, 0, NULL, &info);
    json_decref(root);
    call_free(c);
}

static void ok_network(call *c, const http_response *res) {
    json_t *root = call_json(c, res);
    docker_network_info info;

    if (!root)
        return;
    if (docker_network_info_parse(root, &info) != 0) {
        json_decref(root);
        call_failf(c, DOCKER_EPROTO, "%s: unexpected reply from the Docker engine", c->what);
        return;
    }
    c->finished = 1;
    c->cb.network(c->data, 0, NULL, &info);
    json_decref(root);
    call_free(c);
}

static void ok_container(call *c, const http_response *res) {
    json_t *root = call_json(c, res);
    docker_container_info info;
    int rc;

    if (!root)
        return;
    if ((rc = docker_container_info_parse(root, &info)) != 0) {
        json_decref(root);
        if (rc == UV_ENOMEM)
            call_fail(c, rc, NULL);
        else
            call_failf(c, DOCKER_EPROTO, "%s: unexpected reply from the Docker engine", c->what);
        return;
    }
    c->finished = 1;
    c->cb.container(c->data, 0, NULL, &info);
    docker_container_info_clear(&info);
    json_decref(root);
    call_free(c);
}

static void ok_wait(call *c, const http_response *res) {
    json_t *root = call_json(c, res), *code, *err;
    const char *emsg;

    if (!root)
        return;
    code = json_object_get(root, "StatusCode");
    err = json_object_get(root, "Error");
    emsg = json_string_value(json_object_get(err, "Message"));
    if (emsg && *emsg) {
        call_failf(c, DOCKER_EAPI, "%s", emsg);
    } else if (!json_is_integer(code)) {
        call_failf(c, DOCKER_EPROTO, "%s: no StatusCode in the Docker engine's reply", c->what);
    } else {
        c->finished = 1;
        c->cb.wait(c->data, 0, NULL, (int)json_integer_value(code));
        call_free(c);
    }
    json_decref(root);
}

/* Allocates a call and starts its one request; on failure nothing is
 * called and the error is returned. */
static int simple(docker *d, enum call_kind kind, const char *what, void (*cb)(void), void *data,
                  call_ok_fn ok, const char *method, const char *target, const json_t *body,
                  unsigned flags, uint64_t timeout_ms, int overlap_hint) {
    call *c;
    int rc;

    if (!target)
        return UV_ENOMEM;
    if (d->closing)
        return UV_EINVAL;
    c = call_new(d, kind, what, data);
    if (!c)
        return UV_ENOMEM;
    /* Every member of the union is a function pointer of the same size;
     * the caller passes the one that matches kind. */
    memcpy(&c->cb, &cb, sizeof(cb));
    c->ok = ok;
    c->overlap_hint = overlap_hint;
    rc = call_start(c, method, target, body, flags | HTTP_BUFFER_BODY, timeout_ms, NULL, NULL);
    if (rc) {
        c->finished = 1;
        call_free(c);
    }
    return rc;
}

#define FN(f) ((void (*)(void))(f))

/* "/v1.41" + fmt with one escaped path argument. */
static char *path1(const char *fmt, const char *arg, const char *suffix) {
    char *e = docker_url_escape(arg ? arg : "");
    char *s = NULL;
    if (e)
        s = xasprintf(fmt, e, suffix ? suffix : "");
    free(e);
    return s;
}

int docker_ping(docker *d, docker_ping_cb cb, void *data) {
    if (!cb)
        return UV_EINVAL;
    return simple(d, K_PING, "ping", FN(cb), data, ok_ping, "GET", "/_ping", NULL, 0,
                  DOCKER_TIMEOUT_MS, 0);
}

int docker_version_get(docker *d, docker_version_cb cb, void *data) {
    if (!cb)
        return UV_EINVAL;
    return simple(d, K_VERSION, "version", FN(cb), data, ok_version, "GET", V "/version", NULL, 0,
                  DOCKER_TIMEOUT_MS, 0);
}

int docker_image_inspect(docker *d, const char *name, docker_image_cb cb, void *data) {
    char *t;
    int rc;

    if (!name || !cb)
        return UV_EINVAL;
    t = path1(V "/images/%s/json%s", name, NULL);
    rc = simple(d, K_IMAGE, "image inspect", FN(cb), data, ok_image, "GET", t, NULL, 0,
                DOCKER_TIMEOUT_MS, 0);
    free(t);
    return rc;
}

int docker_image_remove(docker *d, const char *name, int force, docker_cb cb, void *data) {
    char *t;
    int rc;

    if (!name || !cb)
        return UV_EINVAL;
    t = path1(V "/images/%s%s", name, force ? "?force=1" : "");
    rc = simple(d, K_PLAIN, "image remove", FN(cb), data, ok_plain, "DELETE", t, NULL, 0,
                DOCKER_TIMEOUT_MS, 0);
    free(t);
    return rc;
}

int docker_image_list(docker *d, const char *label, docker_list_cb cb, void *data) {
    char *t;
    int rc;

    if (!cb)
        return UV_EINVAL;
    t = docker_list_target("/images/json", label);
    rc = simple(d, K_LIST, "image list", FN(cb), data, ok_list, "GET", t, NULL, 0,
                DOCKER_TIMEOUT_MS, 0);
    free(t);
    return rc;
}

int docker_network_create(docker *d, const docker_network_opts *opts, docker_id_cb cb, void *data) {
    json_t *body;
    int rc;

    if (!opts || !cb)
        return UV_EINVAL;
    body = docker_network_create_body(opts);
    if (!body)
        return UV_EINVAL;
    rc = simple(d, K_ID, "network create", FN(cb), data, ok_id, "POST", V "/networks/create", body,
                0, DOCKER_TIMEOUT_MS, 1);
    json_decref(body);
    return rc;
}

int docker_network_inspect(docker *d, const char *name, docker_network_cb cb, void *data) {
    char *t;
    int rc;

    if (!name || !cb)
        return UV_EINVAL;
    t = path1(V "/networks/%s%s", name, NULL);
    rc = simple(d, K_NETWORK, "network inspect", FN(cb), data, ok_network, "GET", t, NULL, 0,
                DOCKER_TIMEOUT_MS, 0);
    free(t);
    return rc;
}

int docker_network_remove(docker *d, const char *name, docker_cb cb, void *data) {
    char *t;
    int rc;

    if (!name || !cb)
        return UV_EINVAL;
    t = path1(V "/networks/%s%s", name, NULL);
    rc = simple(d, K_PLAIN, "network remove", FN(cb), data, ok_plain, "DELETE", t, NULL, 0,
                DOCKER_TIMEOUT_MS, 0);
    free(t);
    return rc;
}

int docker_volume_create(docker *d, const char *name, const docker_kv *labels, size_t n_labels,
                         docker_cb cb, void *data) {
    json_t *body, *lb = json_object();
    int rc;

    if (!name || !cb || !lb)
        return UV_EINVAL;
    for (size_t i = 0; i < n_labels; i++)
        json_object_set_new(lb, labels[i].key, json_string(labels[i].value ? labels[i].value : ""));
    body = json_pack("{s:s, s:o}", "Name", name, "Labels", lb);
    if (!body)
        return UV_ENOMEM;
    rc = simple(d, K_PLAIN, "volume create", FN(cb), data, ok_plain, "POST", V "/volumes/create",
                body, 0, DOCKER_TIMEOUT_MS, 0);
    json_decref(body);
    return rc;
}

int docker_volume_remove(docker *d, const char *name, int force, docker_cb cb, void *data) {
    char *t;
    int rc;

    if (!name || !cb)
        return UV_EINVAL;
    t = path1(V "/volumes/%s%s", name, force ? "?force=1" : NULL);
    rc = simple(d, K_PLAIN, "volume remove", FN(cb), data, ok_plain, "DELETE", t, NULL, 0,
                DOCKER_TIMEOUT_MS, 0);
    free(t);
    return rc;
}

int docker_volume_list(docker *d, const char *label, docker_list_cb cb, void *data) {
    char *t;
    int rc;

    if (!cb)
        return UV_EINVAL;
    t = docker_list_target("/volumes", label);
    rc = simple(d, K_LIST, "volume list", FN(cb), data, ok_list, "GET", t, NULL, 0,
                DOCKER_TIMEOUT_MS, 0);
    free(t);
    return rc;
}

int docker_network_list(docker *d, const char *label, docker_list_cb cb, void *data) {
    char *t;
    int rc;

    if (!cb)
        return UV_EINVAL;
    t = docker_list_target("/networks", label);
    rc = simple(d, K_LIST, "network list", FN(cb), data, ok_list, "GET", t, NULL, 0,
                DOCKER_TIMEOUT_MS, 0);
    free(t);
    return rc;
}

int docker_container_create(docker *d, const docker_container_opts *opts, docker_id_cb cb,
                            void *data) {
    json_t *body;
    char *t, *name = NULL;
    int rc;

    if (!opts || !cb)
        return UV_EINVAL;
    body = docker_container_create_body(opts);
    if (!body)
        return UV_EINVAL;
    if (opts->name) {
        name = docker_url_escape(opts->name);
        t = name ? xasprintf(V "/containers/create?name=%s", name) : NULL;
    } else {
        t = strdup(V "/containers/create");
    }
    rc = simple(d, K_ID, "container create", FN(cb), data, ok_id, "POST", t, body, 0,
                DOCKER_TIMEOUT_MS, 0);
    free(name);
    free(t);
    json_decref(body);
    return rc;
}

int docker_container_start(docker *d, const char *id, docker_cb cb, void *data) {
    char *t;
    int rc;

    if (!id || !cb)
        return UV_EINVAL;
    t = path1(V "/containers/%s/start%s", id, NULL);
    rc = simple(d, K_PLAIN, "container start", FN(cb), data, ok_plain, "POST", t, NULL, 0,
                DOCKER_TIMEOUT_MS, 0);
    free(t);
    return rc;
}

int docker_container_stop(docker *d, const char *id, int timeout_s, docker_cb cb, void *data) {
    char q[32] = "";
    char *t;
    int rc;

    if (!id || !cb)
        return UV_EINVAL;
    if (timeout_s >= 0)
        snprintf(q, sizeof(q), "?t=%d", timeout_s);
    t = path1(V "/containers/%s/stop%s", id, q);
    rc = simple(d, K_PLAIN, "container stop", FN(cb), data, ok_plain, "POST", t, NULL, 0,
                DOCKER_TIMEOUT_MS + (timeout_s > 0 ? (uint64_t)timeout_s * 1000 : 0) +
                    DOCKER_STOP_GRACE_MS,
                0);
    free(t);
    return rc;
}

int docker_container_kill(docker *d, const char *id, const char *signal, docker_cb cb, void *data) {
    char *t, *sig, *q;
    int rc;

    if (!id || !cb)
        return UV_EINVAL;
    sig = docker_url_escape(signal ? signal : "SIGKILL");
    q = sig ? xasprintf("?signal=%s", sig) : NULL;
    t = q ? path1(V "/containers/%s/kill%s", id, q) : NULL;
    rc = simple(d, K_PLAIN, "container kill", FN(cb), data, ok_plain, "POST", t, NULL, 0,
                DOCKER_TIMEOUT_MS, 0);
    free(sig);
    free(q);
    free(t);
    return rc;
}

int docker_container_remove(docker *d, const char *id, int force, int volumes, docker_cb cb,
                            void *data) {
    char q[32];
    char *t;
    int rc;

    if (!id || !cb)
        return UV_EINVAL;
    snprintf(q, sizeof(q), "?force=%d&v=%d", force ? 1 : 0, volumes ? 1 : 0);
    t = path1(V "/containers/%s%s", id, q);
    rc = simple(d, K_PLAIN, "container remove", FN(cb), data, ok_plain, "DELETE", t, NULL, 0,
                DOCKER_TIMEOUT_MS, 0);
    free(t);
    return rc;
}

int docker_container_inspect(docker *d, const char *id, docker_container_cb cb, void *data) {
    char *t;
    int rc;

    if (!id || !cb)
        return UV_EINVAL;
    t = path1(V "/containers/%s/json%s", id, NULL);
    rc = simple(d, K_CONTAINER, "container inspect", FN(cb), data, ok_container, "GET", t, NULL, 0,
                DOCKER_TIMEOUT_MS, 0);
    free(t);
    return rc;
}

int docker_container_list(docker *d, const char *label, docker_list_cb cb, void *data) {
    char *t;
    int rc;

    if (!cb)
        return UV_EINVAL;
    t = docker_list_target("/containers/json?all=1", label);
    rc = simple(d, K_LIST, "container list", FN(cb), data, ok_list, "GET", t, NULL, 0,
                DOCKER_TIMEOUT_MS, 0);
    free(t);
    return rc;
}

int docker_container_wait(docker *d, const char *id, docker_wait_cb cb, void *data) {
    char *t;
    int rc;

    if (!id || !cb)
        return UV_EINVAL;
    t = path1(V "/containers/%s/wait%s", id, "?condition=not-running");
    rc = simple(d, K_WAIT, "container wait", FN(cb), data, ok_wait, "POST", t, NULL, 0, 0, 0);
    free(t);
    return rc;
}

/* ---- logs and events ----------------------------------------------------- */

static int logs_on_piece(void *data, int stream, const char *buf, size_t len) {
    call *c = data;

    if (stream == DEMUX_SYSTEMERR) {
        call_stream_error(c, DOCKER_ESTREAM, "%s: Docker engine: %.*s", c->what,
                          (int)(len > 1000 ? 1000 : len), buf);
        return DOCKER_ESTREAM;
    }
    if (c->canceled)
        return UV_ECANCELED;
    if (stream == DEMUX_STDIN)
        return 0;
    c->on_output(c->data, stream, buf, len);
    return 0;
}

/* A stream's reply is complete: the end of the stream. */
static void ok_stream_end(call *c, const http_response *res) {
    int rc = 0;

    if (c->have_dm)
        rc = demux_finish(&c->dm);
    else if (c->have_ln)
        rc = lines_finish(&c->ln);
    if (c->stream_msg) {
        call_fail(c, c->stream_err, c->stream_msg);
        return;
    }
    if (rc) {
        call_failf(c, c->have_dm ? DOCKER_ESTREAM : DOCKER_EPROTO, "%s: %s", c->what,
                   c->have_dm ? hdc_strerror(rc) : hdc_strerror(rc));
        return;
    }
    c->finished = 1;
    c->cb.plain(c->data, 0, NULL);
    call_free(c);
}

static int start_stream(call *c, const char *target, docker_stream **out) {
    int rc = call_start(c, "GET", target, NULL, 0, 0, NULL, NULL);
    if (rc) {
        c->finished = 1;
        call_free(c);
        return rc;
    }
    if (out)
        *out = c;
    return 0;
}

int docker_logs(docker *d, const char *id, const docker_logs_opts *opts, docker_output_cb on_output,
                docker_cb cb, void *data, docker_stream **out) {
    docker_logs_opts none;
    call *c;
    char *t;
    int rc;

    if (!id || !on_output || !cb)
        return UV_EINVAL;
    if (d->closing)
        return UV_EINVAL;
    if (!opts) {
        memset(&none, 0, sizeof(none));
        opts = &none;
    }
    t = docker_logs_target(id, opts);
    if (!t)
        return UV_ENOMEM;
    c = call_new(d, K_LOGS, "container logs", data);
    if (!c) {
        free(t);
        return UV_ENOMEM;
    }
    c->cb.plain = cb;
    c->ok = ok_stream_end;
    c->on_output = on_output;
    demux_init(&c->dm, opts->tty, 0, logs_on_piece, c);
    c->have_dm = 1;
    rc = start_stream(c, t, out);
    free(t);
    return rc;
}

int docker_container_archive(docker *d, const char *id, const char *path,
                             docker_output_cb on_output, docker_cb cb, void *data,
                             docker_stream **out) {
    char *e_id, *e_path, *t;
    call *c;
    int rc;

    if (!id || !path || !on_output || !cb || d->closing)
        return UV_EINVAL;
    e_id = docker_url_escape(id);
    e_path = docker_url_escape(path);
    t = e_id && e_path ? xasprintf(V "/containers/%s/archive?path=%s", e_id, e_path) : NULL;
    free(e_id);
    free(e_path);
    if (!t)
        return UV_ENOMEM;
    c = call_new(d, K_LOGS, "container archive", data);
    if (!c) {
        free(t);
        return UV_ENOMEM;
    }
    c->cb.plain = cb;
    c->ok = ok_stream_end;
    c->on_output = on_output;
    demux_init(&c->dm, 1, 0, logs_on_piece, c); /* raw: a tar stream, not frames */
    c->have_dm = 1;
    rc = start_stream(c, t, out);
    free(t);
    return rc;
}

static int events_on_line(void *data, char *line, size_t len) {
    call *c = data;
    json_error_t jerr;
    json_t *ev;

    if (c->canceled)
        return UV_ECANCELED;
    while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\r'))
        len--;
    if (len == 0)
        return 0;
    ev = json_loadb(line, len, 0, &jerr);
    if (!ev || !json_is_object(ev)) {
        call_stream_error(c, DOCKER_EPROTO, "%s: an event from the Docker engine is not JSON: %s",
                          c->what, ev ? "not an object" : jerr.text);
        json_decref(ev);
        return DOCKER_EPROTO;
    }
    c->on_event(c->data, ev);
    json_decref(ev);
    return 0;
}

int docker_events(docker *d, const docker_events_opts *opts, docker_event_cb on_event, docker_cb cb,
                  void *data, docker_stream **out) {
    docker_events_opts none;
    call *c;
    char *t;
    int rc;

    if (!on_event || !cb)
        return UV_EINVAL;
    if (d->closing)
        return UV_EINVAL;
    if (!opts) {
        memset(&none, 0, sizeof(none));
        opts = &none;
    }
    t = docker_events_target(opts);
    if (!t)
        return UV_ENOMEM;
    c = call_new(d, K_EVENTS, "events", data);
    if (!c) {
        free(t);
        return UV_ENOMEM;
    }
    c->cb.plain = cb;
    c->ok = ok_stream_end;
    c->on_event = on_event;
    lines_init(&c->ln, 0, events_on_line, c);
    c->have_ln = 1;
    rc = start_stream(c, t, out);
    free(t);
    return rc;
}

/* ---- build ----------------------------------------------------------------- */

static int build_on_line(void *data, char *line, size_t len) {
    call *c = data;
    docker_build_progress p;
    json_t *root = NULL;
    int rc;

    if (c->canceled)
        return UV_ECANCELED;
    rc = docker_build_line_parse(line, len, &root, &p);
    if (rc == DOCKER_EPROTO) {
        call_stream_error(c, DOCKER_EPROTO, "build: a line of build output is not JSON: %.200s",
                          line);
        json_decref(root);
        return rc;
    }
    if (!root) /* an empty line */
        return 0;
    if (p.aux_id && !c->image_id)
        c->image_id = strdup(p.aux_id);
    if (rc == DOCKER_EBUILD)
        call_stream_error(c, DOCKER_EBUILD, "%s", p.error ? p.error : "build failed");
    if (c->on_progress)
        c->on_progress(c->data, &p);
    json_decref(root);
    /* After an error Docker ends the stream itself: read on to its end. */
    return 0;
}

static void build_ok(call *c, const http_response *res) {
    int rc = lines_finish(&c->ln);

    if (c->stream_msg) {
        call_fail(c, c->stream_err, c->stream_msg);
        return;
    }
    if (rc) {
        call_failf(c, DOCKER_EPROTO, "build: %s", hdc_strerror(rc));
        return;
    }
    if (!c->image_id) {
        call_failf(c, DOCKER_EPROTO, "build: the output ended without an image ID");
        return;
    }
    c->finished = 1;
    c->cb.id(c->data, 0, NULL, c->image_id);
    call_free(c);
}

static void build_work(uv_work_t *w) {
    call *c = w->data;
    const char *tmp = getenv("TMPDIR");
    int fd;

    if (!tmp || !*tmp)
        tmp = "/tmp";
    c->tar_path = xasprintf("%s/hdc-context-XXXXXX", tmp);
    if (!c->tar_path) {
        c->work_rc = UV_ENOMEM;
        return;
    }
    fd = mkstemp(c->tar_path);
    if (fd < 0) {
        snprintf(c->err, sizeof(c->err), "cannot create a temporary file in %s: %s", tmp,
                 strerror(errno));
        free(c->tar_path);
        c->tar_path = NULL;
        c->work_rc = DOCKER_ECONTEXT;
        return;
    }
    close(fd);
    c->work_rc = docker_context_archive(c->context_dir, c->tar_path, c->err, sizeof(c->err));
}

static void build_after_work(uv_work_t *w, int status) {
    call *c = w->data;
    docker *d = c->d;
    int rc;

    d->n_work--;
    if (c->canceled || d->closing || status == UV_ECANCELED) {
        call_failf(c, UV_ECANCELED, "build: canceled");
    } else if (c->work_rc) {
        call_failf(c, c->work_rc, "build: context %s: %s", c->context_dir,
                   c->err[0] ? c->err : hdc_strerror(c->work_rc));
    } else {
        rc = call_start(c, "POST", c->target, NULL, 0, 0, c->tar_path, "application/x-tar");
        if (rc)
            call_failf(c, rc, "build: %s", hdc_strerror(rc));
    }
    docker__maybe_free(d);
}

int docker_build(docker *d, const docker_build_opts *opts, docker_build_progress_cb on_progress,
                 docker_id_cb cb, void *data, docker_stream **out) {
    call *c;
    int rc;

    if (!opts || !opts->context_dir || !cb)
        return UV_EINVAL;
    if (d->closing)
        return UV_EINVAL;
    c = call_new(d, K_BUILD, "build", data);
    if (!c)
        return UV_ENOMEM;
    c->cb.id = cb;
    c->ok = build_ok;
    c->on_progress = on_progress;
    c->context_dir = strdup(opts->context_dir);
    c->target = docker_build_target(opts);
    if (!c->context_dir || !c->target) {
        c->finished = 1;
        call_free(c);
        return UV_ENOMEM;
    }
    lines_init(&c->ln, 0, build_on_line, c);
    c->have_ln = 1;
    c->work.data = c;
    rc = uv_queue_work(d->loop, &c->work, build_work, build_after_work);
    if (rc) {
        c->finished = 1;
        call_free(c);
        return rc;
    }
    d->n_work++;
    if (out)
        *out = c;
    return 0;
}

/* ---- exec ------------------------------------------------------------------ */

static void exec_inspect(call *c);

static void exec_inspect_ok(call *c, const http_response *res) {
    json_t *root = call_json(c, res), *code;

    if (!root)
        return;
    code = json_object_get(root, "ExitCode");
    if (json_is_true(json_object_get(root, "Running")) || !json_is_integer(code)) {
        json_decref(root);
        if (++c->inspect_tries < DOCKER_EXEC_INSPECT_TRIES) {
            exec_inspect(c);
            return;
        }
        call_failf(c, DOCKER_EPROTO,
                   "exec: the command's output ended but Docker still "
                   "reports it running");
        return;
    }
    c->finished = 1;
    c->cb.exec(c->data, 0, NULL, (int)json_integer_value(code));
    json_decref(root);
    call_free(c);
}

static void exec_inspect(call *c) {
    char *t = path1(V "/exec/%s/json%s", c->exec_id, NULL);
    int rc;

    c->ok = exec_inspect_ok;
    rc = t ? call_start(c, "GET", t, NULL, HTTP_BUFFER_BODY, DOCKER_TIMEOUT_MS, NULL, NULL)
           : UV_ENOMEM;
    free(t);
    if (rc)
        call_failf(c, rc, "exec: %s", hdc_strerror(rc));
}

/* The hijacked stream has ended. */
static void exec_stream_ok(call *c, const http_response *res) {
    int rc = demux_finish(&c->dm);

    if (c->stream_msg) {
        call_fail(c, c->stream_err, c->stream_msg);
        return;
    }
    if (rc) {
        call_failf(c, DOCKER_ESTREAM, "exec: %s", hdc_strerror(rc));
        return;
    }
    exec_inspect(c);
}

static void exec_on_head(void *data, const http_response *res) {
    call *c = data;

    c->http_status = res->status;
    if ((res->status == 101 || res->status == 200) && c->req) {
        if (c->has_stdin) {
            if (c->stdin_len > 0)
                http_request_write(c->req, c->stdin_data, c->stdin_len);
            http_request_shutdown(c->req);
        }
    }
}

static void exec_created(call *c, const http_response *res) {
    json_t *root = call_json(c, res), *body;
    http_request_opts o;
    http_request_cbs cbs;
    http_header hdr[1] = {{"Content-Type", "application/json"}};
    char *t, *text;
    int rc;

    if (!root)
        return;
    c->exec_id = xstrdup(json_string_value(json_object_get(root, "Id")));
    json_decref(root);
    if (!c->exec_id) {
        call_failf(c, DOCKER_EPROTO, "exec: no Id in the Docker engine's reply");
        return;
    }
    if (c->canceled) {
        call_failf(c, UV_ECANCELED, "exec: canceled");
        return;
    }
    if (c->d->closing) {
        call_failf(c, UV_ECANCELED, "exec: canceled");
        return;
    }
    body = json_pack("{s:b,s:b}", "Detach", 0, "Tty", c->tty);
    text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    t = path1(V "/exec/%s/start%s", c->exec_id, NULL);
    if (!t || !text) {
        free(t);
        free(text);
        call_fail(c, UV_ENOMEM, NULL);
        return;
    }
    memset(&o, 0, sizeof(o));
    memset(&cbs, 0, sizeof(cbs));
    o.method = "POST";
    o.target = t;
    o.headers = hdr;
    o.n_headers = 1;
    o.body = text;
    o.body_len = strlen(text);
    o.flags = HTTP_UPGRADE;
    cbs.on_head = exec_on_head;
    cbs.on_data = call_on_data;
    cbs.on_done = call_on_done;
    c->ok = exec_stream_ok;
    c->http_status = 0;
    rc = http_request_start(c->d->http, &o, &cbs, c, &c->req);
    free(t);
    free(text);
    if (rc)
        call_failf(c, rc, "exec: %s", hdc_strerror(rc));
}

int docker_exec(docker *d, const char *id, const docker_exec_opts *opts, docker_output_cb on_output,
                docker_exec_cb cb, void *data, docker_stream **out) {
    json_t *body;
    call *c;
    char *t;
    int rc;

    if (!id || !opts || !on_output || !cb || opts->n_cmd == 0)
        return UV_EINVAL;
    if (d->closing)
        return UV_EINVAL;
    body = docker_exec_create_body(opts);
    if (!body)
        return UV_EINVAL;
    c = call_new(d, K_EXEC, "exec", data);
    t = path1(V "/containers/%s/exec%s", id, NULL);
    if (!c || !t) {
        free(c);
        free(t);
        json_decref(body);
        return UV_ENOMEM;
    }
    c->cb.exec = cb;
    c->ok = exec_created;
    c->on_output = on_output;
    c->tty = opts->tty != 0;
    if (opts->stdin_data) {
        c->has_stdin = 1;
        c->stdin_len = opts->stdin_len;
        c->stdin_data = malloc(opts->stdin_len ? opts->stdin_len : 1);
        if (!c->stdin_data) {
            free(t);
            json_decref(body);
            c->finished = 1;
            call_free(c);
            return UV_ENOMEM;
        }
        memcpy(c->stdin_data, opts->stdin_data, opts->stdin_len);
    }
    demux_init(&c->dm, c->tty, 0, logs_on_piece, c);
    c->have_dm = 1;
    rc = call_start(c, "POST", t, body, HTTP_BUFFER_BODY, DOCKER_TIMEOUT_MS, NULL, NULL);
    free(t);
    json_decref(body);
    if (rc) {
        c->finished = 1;
        call_free(c);
        return rc;
    }
    if (out)
        *out = c;
    return 0;
}

/* ---- pure functions ------------------------------------------------------ */

char *docker_url_escape(const char *s) {
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = malloc(3 * n + 1), *o = out;

    if (!out)
        return NULL;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            *o++ = (char)ch;
        } else {
            *o++ = '%';
            *o++ = hex[ch >> 4];
            *o++ = hex[ch & 15];
        }
    }
    *o = '\0';
    return out;
}

char *docker_filters_json(const docker_filter *filters, size_t n) {
    json_t *root = json_object();
    char *s = NULL;

    if (!root)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        json_t *arr;
        if (!filters[i].key || filters[i].n_values == 0)
            continue;
        arr = json_object_get(root, filters[i].key);
        if (!arr) {
            arr = json_array();
            if (json_object_set_new(root, filters[i].key, arr) != 0)
                goto exit;
        }
        for (size_t j = 0; j < filters[i].n_values; j++)
            if (filters[i].values[j] &&
                json_array_append_new(arr, json_string(filters[i].values[j])) != 0)
                goto exit;
    }
    if (json_object_size(root) > 0)
        s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
exit:
    json_decref(root);
    return s;
}

/* Appends "&key=<escaped value>" (or "?" first) to *t. */
static int q_add(char **t, const char *key, const char *value) {
    char *e = docker_url_escape(value), *n;

    if (!e)
        return -1;
    n = xasprintf("%s%c%s=%s", *t, strchr(*t, '?') ? '&' : '?', key, e);
    free(e);
    if (!n)
        return -1;
    free(*t);
    *t = n;
    return 0;
}

static int q_add_filters(char **t, const docker_filter *f, size_t n) {
    char *js = docker_filters_json(f, n);
    int rc;

    if (!js)
        return 0; /* no filter (or ENOMEM, which the next step meets) */
    rc = q_add(t, "filters", js);
    free(js);
    return rc;
}

/* A JSON object of string values from key/value pairs, as text. */
static char *kv_json(const docker_kv *kv, size_t n) {
    json_t *o = json_object();
    char *s;

    for (size_t i = 0; o && i < n; i++)
        if (kv[i].key)
            json_object_set_new(o, kv[i].key, json_string(kv[i].value ? kv[i].value : ""));
    s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return s;
}

char *docker_build_target(const docker_build_opts *opts) {
    char *t = strdup(V "/build?rm=1&forcerm=1");
    char *js;

    if (!t)
        return NULL;
    if (opts->tag && q_add(&t, "t", opts->tag))
        goto fail;
    if (opts->dockerfile && q_add(&t, "dockerfile", opts->dockerfile))
        goto fail;
    if (opts->nocache && q_add(&t, "nocache", "1"))
        goto fail;
    if (opts->n_buildargs) {
        js = kv_json(opts->buildargs, opts->n_buildargs);
        if (!js || q_add(&t, "buildargs", js)) {
            free(js);
            goto fail;
        }
        free(js);
    }
    if (opts->n_labels) {
        js = kv_json(opts->labels, opts->n_labels);
        if (!js || q_add(&t, "labels", js)) {
            free(js);
            goto fail;
        }
        free(js);
    }
    return t;
fail:
    free(t);
    return NULL;
}

char *docker_logs_target(const char *id, const docker_logs_opts *opts) {
    unsigned streams = opts->streams ? opts->streams : DOCKER_STDOUT | DOCKER_STDERR;
    char *e = docker_url_escape(id), *t, *tail = NULL;

    if (!e)
        return NULL;
    if (opts->tail)
        tail = docker_url_escape(opts->tail);
    t = xasprintf(V "/containers/%s/logs?stdout=%d&stderr=%d&follow=%d&timestamps=%d"
                    "&since=%" PRId64 "&tail=%s",
                  e, (streams & DOCKER_STDOUT) ? 1 : 0, (streams & DOCKER_STDERR) ? 1 : 0,
                  opts->follow ? 1 : 0, opts->timestamps ? 1 : 0, opts->since, tail ? tail : "all");
    free(e);
    free(tail);
    return t;
}

char *docker_events_target(const docker_events_opts *opts) {
    docker_filter f[4] = {
        {"type", opts->types, opts->n_types},
        {"label", opts->labels, opts->n_labels},
        {"event", opts->events, opts->n_events},
        {"container", opts->containers, opts->n_containers},
    };
    char *t = strdup(V "/events");
    char num[32];

    if (!t)
        return NULL;
    if (opts->since) {
        snprintf(num, sizeof(num), "%" PRId64, opts->since);
        if (q_add(&t, "since", num))
            goto fail;
    }
    if (opts->until) {
        snprintf(num, sizeof(num), "%" PRId64, opts->until);
        if (q_add(&t, "until", num))
            goto fail;
    }
    if (q_add_filters(&t, f, 4))
        goto fail;
    return t;
fail:
    free(t);
    return NULL;
}

char *docker_list_target(const char *base, const char *label) {
    char *t = xasprintf(V "%s", base);
    docker_filter f = {"label", &label, 1};

    if (t && label && q_add_filters(&t, &f, 1)) {
        free(t);
        return NULL;
    }
    return t;
}

static json_t *str_array(const char *const *v, size_t n) {
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(v[i] ? v[i] : ""));
    return a;
}

static json_t *kv_object(const docker_kv *kv, size_t n) {
    json_t *o = json_object();
    for (size_t i = 0; o && i < n; i++)
        if (kv[i].key)
            json_object_set_new(o, kv[i].key, json_string(kv[i].value ? kv[i].value : ""));
    return o;
}

static void set_str(json_t *o, const char *key, const char *v) {
    if (v)
        json_object_set_new(o, key, json_string(v));
}

json_t *docker_container_create_body(const docker_container_opts *o) {
    json_t *b, *host, *exposed, *bindings;
    char key[32];

    if (!o->image || !*o->image)
        return NULL;
    if (!o->network && (o->ipv4 || o->n_aliases))
        return NULL;
    b = json_object();
    host = json_object();
    if (!b || !host) {
        json_decref(b);
        json_decref(host);
        return NULL;
    }
    json_object_set_new(b, "Image", json_string(o->image));
    set_str(b, "Hostname", o->hostname);
    set_str(b, "Domainname", o->domainname);
    set_str(b, "User", o->user);
    set_str(b, "WorkingDir", o->working_dir);
    if (o->n_labels)
        json_object_set_new(b, "Labels", kv_object(o->labels, o->n_labels));
    if (o->n_env)
        json_object_set_new(b, "Env", str_array(o->env, o->n_env));
    if (o->n_cmd)
        json_object_set_new(b, "Cmd", str_array(o->cmd, o->n_cmd));
    if (o->n_entrypoint)
        json_object_set_new(b, "Entrypoint", str_array(o->entrypoint, o->n_entrypoint));
    json_object_set_new(b, "Tty", json_boolean(o->tty));
    json_object_set_new(b, "OpenStdin", json_boolean(o->open_stdin));
    json_object_set_new(b, "AttachStdout", json_false());
    json_object_set_new(b, "AttachStderr", json_false());
    if (o->n_volumes) {
        json_t *vols = json_object();
        for (size_t i = 0; i < o->n_volumes; i++)
            if (o->volumes[i])
                json_object_set_new(vols, o->volumes[i], json_object());
        json_object_set_new(b, "Volumes", vols);
    }
    if (o->n_ports) {
        exposed = json_object();
        bindings = json_object();
        for (size_t i = 0; i < o->n_ports; i++) {
            char hp[8] = "";
            snprintf(key, sizeof(key), "%u/%s", (unsigned)o->ports[i].port,
                     o->ports[i].proto ? o->ports[i].proto : "tcp");
            if (o->ports[i].host_port)
                snprintf(hp, sizeof(hp), "%u", (unsigned)o->ports[i].host_port);
            json_object_set_new(exposed, key, json_object());
            json_object_set_new(bindings, key,
                                json_pack("[{s:s,s:s}]", "HostIp", "127.0.0.1", "HostPort", hp));
        }
        json_object_set_new(b, "ExposedPorts", exposed);
        json_object_set_new(host, "PortBindings", bindings);
    }
    if (o->n_binds)
        json_object_set_new(host, "Binds", str_array(o->binds, o->n_binds));
    if (o->n_extra_hosts)
        json_object_set_new(host, "ExtraHosts", str_array(o->extra_hosts, o->n_extra_hosts));
    if (o->init)
        json_object_set_new(host, "Init", json_true());
    if (o->network) {
        json_t *ep = json_object(), *eps = json_object();
        json_object_set_new(host, "NetworkMode", json_string(o->network));
        if (o->ipv4)
            json_object_set_new(ep, "IPAMConfig", json_pack("{s:s}", "IPv4Address", o->ipv4));
        if (o->n_aliases)
            json_object_set_new(ep, "Aliases", str_array(o->aliases, o->n_aliases));
        json_object_set_new(eps, o->network, ep);
        json_object_set_new(b, "NetworkingConfig", json_pack("{s:o}", "EndpointsConfig", eps));
    }
    json_object_set_new(b, "HostConfig", host);
    return b;
}

json_t *docker_network_create_body(const docker_network_opts *o) {
    json_t *b;

    if (!o->name || !*o->name || (o->gateway && !o->subnet))
        return NULL;
    b = json_object();
    if (!b)
        return NULL;
    json_object_set_new(b, "Name", json_string(o->name));
    json_object_set_new(b, "Driver", json_string(o->driver ? o->driver : "bridge"));
    json_object_set_new(b, "CheckDuplicate", json_true());
    json_object_set_new(b, "Internal", json_boolean(o->internal));
    if (o->n_labels)
        json_object_set_new(b, "Labels", kv_object(o->labels, o->n_labels));
    if (o->subnet) {
        json_t *cfg = json_pack("{s:s}", "Subnet", o->subnet);
        if (cfg && o->gateway)
            json_object_set_new(cfg, "Gateway", json_string(o->gateway));
        json_object_set_new(b, "IPAM",
                            json_pack("{s:s,s:[o]}", "Driver", "default", "Config", cfg));
    }
    return b;
}

json_t *docker_exec_create_body(const docker_exec_opts *o) {
    json_t *b;

    if (o->n_cmd == 0 || !o->cmd)
        return NULL;
    b = json_object();
    if (!b)
        return NULL;
    json_object_set_new(b, "AttachStdin", json_boolean(o->stdin_data != NULL));
    json_object_set_new(b, "AttachStdout", json_true());
    json_object_set_new(b, "AttachStderr", json_true());
    json_object_set_new(b, "Tty", json_boolean(o->tty));
    json_object_set_new(b, "Cmd", str_array(o->cmd, o->n_cmd));
    if (o->n_env)
        json_object_set_new(b, "Env", str_array(o->env, o->n_env));
    set_str(b, "User", o->user);
    set_str(b, "WorkingDir", o->working_dir);
    return b;
}

int docker_api_error(const char *what, int http_status, const char *body, size_t len, char **msg) {
    json_t *root = NULL;
    const char *m = NULL;
    int rc;

    if (body && len > 0)
        root = json_loadb(body, len, 0, NULL);
    if (root)
        m = json_string_value(json_object_get(root, "message"));
    switch (http_status) {
    case 404: rc = DOCKER_ENOTFOUND; break;
    case 409: rc = DOCKER_ECONFLICT; break;
    default: rc = DOCKER_EAPI; break;
    }
    if (m && strstr(m, "overlaps"))
        rc = DOCKER_EOVERLAP;
    if (m && *m) {
        *msg = strdup(m);
    } else if (body && len > 0 && !root) {
        /* Not JSON: a proxy's page, or plain text. Quote its start. */
        size_t n = len;
        while (n > 0 && (body[n - 1] == '\n' || body[n - 1] == '\r'))
            n--;
        *msg = xasprintf("%s: HTTP %d from the Docker engine: %.*s", what, http_status,
                         (int)(n > 300 ? 300 : n), body);
    } else {
        *msg = xasprintf("%s: HTTP %d from the Docker engine", what, http_status);
    }
    json_decref(root);
    return rc;
}

int docker_build_line_parse(const char *line, size_t len, json_t **root, docker_build_progress *p) {
    json_error_t jerr;
    json_t *r, *aux, *ed;
    size_t i = 0;

    memset(p, 0, sizeof(*p));
    *root = NULL;
    while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n'))
        i++;
    if (i == len)
        return 0;
    r = json_loadb(line, len, 0, &jerr);
    if (!r)
        return DOCKER_EPROTO;
    *root = r;
    if (!json_is_object(r))
        return DOCKER_EPROTO;
    p->raw = r;
    p->stream = jstr_or_null(r, "stream");
    p->status = jstr_or_null(r, "status");
    p->progress = jstr_or_null(r, "progress");
    p->id = jstr_or_null(r, "id");
    aux = json_object_get(r, "aux");
    p->aux_id = jstr_or_null(aux, "ID");
    ed = json_object_get(r, "errorDetail");
    p->error = jstr_or_null(ed, "message");
    if (!p->error)
        p->error = jstr_or_null(r, "error");
    if (p->error || ed)
        return DOCKER_EBUILD;
    return 0;
}

int docker_container_info_parse(const json_t *root, docker_container_info *out) {
    const json_t *cfg, *state, *ns, *nets, *ports, *v;
    const char *key;
    size_t n;

    memset(out, 0, sizeof(*out));
    if (!json_is_object(root) || !json_is_string(json_object_get(root, "Id")))
        return DOCKER_EPROTO;
    cfg = json_object_get(root, "Config");
    state = json_object_get(root, "State");
    if (!json_is_object(state))
        return DOCKER_EPROTO;
    out->raw = root;
    out->id = jstr(root, "Id");
    out->name = jstr(root, "Name");
    if (out->name[0] == '/')
        out->name++;
    out->image = jstr(cfg, "Image");
    out->hostname = jstr(cfg, "Hostname");
    out->tty = json_is_true(json_object_get(cfg, "Tty"));
    out->labels = json_object_get(cfg, "Labels");
    if (!json_is_object(out->labels))
        out->labels = NULL;
    out->status = jstr(state, "Status");
    out->running = json_is_true(json_object_get(state, "Running"));
    out->exit_code = (int)json_integer_value(json_object_get(state, "ExitCode"));
    out->pid = json_integer_value(json_object_get(state, "Pid"));
    out->ip_address = "";

    ns = json_object_get(root, "NetworkSettings");
    nets = json_object_get(ns, "Networks");
    if (json_is_object(nets) && (n = json_object_size(nets)) > 0) {
        out->networks = calloc(n, sizeof(*out->networks));
        if (!out->networks)
            return UV_ENOMEM;
        json_object_foreach((json_t *)nets, key, v) {
            docker_endpoint *e = &out->networks[out->n_networks++];
            e->network = key;
            e->ip_address = jstr(v, "IPAddress");
            e->gateway = jstr(v, "Gateway");
            if (!out->ip_address[0])
                out->ip_address = e->ip_address;
        }
    }
    ports = json_object_get(ns, "Ports");
    if (json_is_object(ports)) {
        size_t cap = 0;
        json_object_foreach((json_t *)ports, key, v) {
            cap += json_is_array(v) && json_array_size(v) > 0 ? json_array_size(v) : 1;
        }
        if (cap > 0) {
            out->ports = calloc(cap, sizeof(*out->ports));
            if (!out->ports) {
                docker_container_info_clear(out);
                return UV_ENOMEM;
            }
        }
        json_object_foreach((json_t *)ports, key, v) {
            unsigned long port = strtoul(key, NULL, 10);
            const char *slash = strchr(key, '/');
            docker_port_binding pb;
            memset(&pb, 0, sizeof(pb));
            if (port == 0 || port > 65535)
                continue;
            pb.port = (uint16_t)port;
            snprintf(pb.proto, sizeof(pb.proto), "%s", slash ? slash + 1 : "tcp");
            pb.host_ip = "";
            if (json_is_array(v) && json_array_size(v) > 0) {
                size_t i;
                json_t *b;
                json_array_foreach(v, i, b) {
                    unsigned long hp = strtoul(jstr(b, "HostPort"), NULL, 10);
                    pb.host_ip = jstr(b, "HostIp");
                    pb.host_port = hp <= 65535 ? (uint16_t)hp : 0;
                    out->ports[out->n_ports++] = pb;
                }
            } else {
                out->ports[out->n_ports++] = pb;
            }
        }
    }
    return 0;
}

void docker_container_info_clear(docker_container_info *info) {
    free(info->networks);
    free(info->ports);
    info->networks = NULL;
    info->ports = NULL;
    info->n_networks = info->n_ports = 0;
}

uint16_t docker_container_host_port(const docker_container_info *info, uint16_t port,
                                    const char *proto) {
    if (!proto)
        proto = "tcp";
    for (size_t i = 0; i < info->n_ports; i++)
        if (info->ports[i].port == port && strcmp(info->ports[i].proto, proto) == 0 &&
            info->ports[i].host_port)
            return info->ports[i].host_port;
    return 0;
}

int docker_network_info_parse(const json_t *root, docker_network_info *out) {
    const json_t *cfg;

    memset(out, 0, sizeof(*out));
    if (!json_is_object(root) || !json_is_string(json_object_get(root, "Id")))
        return DOCKER_EPROTO;
    out->raw = root;
    out->id = jstr(root, "Id");
    out->name = jstr(root, "Name");
    out->driver = jstr(root, "Driver");
    cfg = json_array_get(json_object_get(json_object_get(root, "IPAM"), "Config"), 0);
    out->subnet = jstr(cfg, "Subnet");
    out->gateway = jstr(cfg, "Gateway");
    out->labels = json_object_get(root, "Labels");
    if (!json_is_object(out->labels))
        out->labels = NULL;
    return 0;
}

int docker_image_info_parse(const json_t *root, docker_image_info *out) {
    memset(out, 0, sizeof(*out));
    if (!json_is_object(root) || !json_is_string(json_object_get(root, "Id")))
        return DOCKER_EPROTO;
    out->raw = root;
    out->id = jstr(root, "Id");
    out->size = json_integer_value(json_object_get(root, "Size"));
    out->labels = json_object_get(json_object_get(root, "Config"), "Labels");
    if (!json_is_object(out->labels))
        out->labels = NULL;
    return 0;
}

/* ---- the build context ---------------------------------------------------- */

int docker_context_archive(const char *dir, const char *tar_path, char *err, size_t err_len) {
    struct archive *disk = NULL, *w = NULL;
    struct archive_entry *entry = NULL;
    char *root = NULL, buf[65536];
    size_t root_len;
    int rc = DOCKER_ECONTEXT;

    if (err_len)
        err[0] = '\0';
    root = strdup(dir);
    if (!root)
        return UV_ENOMEM;
    root_len = strlen(root);
    while (root_len > 1 && root[root_len - 1] == '/')
        root[--root_len] = '\0';

    disk = archive_read_disk_new();
    w = archive_write_new();
    if (!disk || !w) {
        rc = UV_ENOMEM;
        goto exit;
    }
    archive_read_disk_set_symlink_physical(disk);
    archive_read_disk_set_standard_lookup(disk);
    /* pax_restricted: plain ustar unless a name or size needs pax headers. */
    if (archive_write_set_format_pax_restricted(w) != ARCHIVE_OK ||
        archive_write_open_filename(w, tar_path) != ARCHIVE_OK) {
        snprintf(err, err_len, "%s: %s", tar_path, archive_error_string(w));
        goto exit;
    }
    if (archive_read_disk_open(disk, root) != ARCHIVE_OK) {
        snprintf(err, err_len, "%s: %s", root, archive_error_string(disk));
        goto exit;
    }
    for (;;) {
        const char *path, *rel;
        int r;

        archive_entry_free(entry);
        entry = archive_entry_new();
        if (!entry) {
            rc = UV_ENOMEM;
            goto exit;
        }
        r = archive_read_next_header2(disk, entry);
        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            snprintf(err, err_len, "%s", archive_error_string(disk));
            goto exit;
        }
        archive_read_disk_descend(disk);
        path = archive_entry_pathname(entry);
        if (!path || strncmp(path, root, root_len) != 0)
            continue;
        rel = path + root_len;
        while (*rel == '/')
            rel++;
        if (!*rel)
            continue; /* the directory itself */
        archive_entry_copy_pathname(entry, rel);
        if (archive_write_header(w, entry) != ARCHIVE_OK) {
            snprintf(err, err_len, "%s: %s", rel, archive_error_string(w));
            goto exit;
        }
        if (archive_entry_filetype(entry) == AE_IFREG && archive_entry_size(entry) > 0) {
            la_ssize_t n;
            while ((n = archive_read_data(disk, buf, sizeof(buf))) > 0) {
                if (archive_write_data(w, buf, (size_t)n) != n) {
                    snprintf(err, err_len, "%s: %s", rel, archive_error_string(w));
                    goto exit;
                }
            }
            if (n < 0) {
                snprintf(err, err_len, "%s/%s: %s", root, rel, archive_error_string(disk));
                goto exit;
            }
        }
    }
    if (archive_write_close(w) != ARCHIVE_OK) {
        snprintf(err, err_len, "%s: %s", tar_path, archive_error_string(w));
        goto exit;
    }
    rc = 0;
exit:
    archive_entry_free(entry);
    if (disk)
        archive_read_free(disk);
    if (w)
        archive_write_free(w);
    free(root);
    return rc;
}
