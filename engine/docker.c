/* The Docker Engine API on the loop (see docker.h): the client, the table
 * of calls, and the calls that are one request with a buffered reply.
 * The streams (logs, archive, events, build, exec) are docker_stream.c;
 * request bodies, targets and reply parsing are the pure functions of
 * docker_json.c.
 *
 * Decisions a newcomer might question:
 * - The API version is pinned in every path (/v1.41/...): Debian's Docker
 *   20.10 speaks it, and a pinned version keeps reply shapes stable
 *   whatever newer engine answers. No version negotiation.
 * - Every call is a row of one table (docker__ops: its name in messages,
 *   method, path, reply kind and deadline) and one struct (docker_call,
 *   docker_call.h), which is also the handle that cancels it. The public
 *   function of a call sets its typed callback; docker__fail and
 *   reply_ok below are the only readers of it, by the row's reply kind.
 * - Errors are mapped once (docker__on_done): a refused connection becomes
 *   DOCKER_ENOENGINE with a message that says what to do; a non-2xx reply
 *   becomes Docker's own message (docker_api_error).
 *   A deadline that passed becomes UV_ETIMEDOUT with a message naming
 *   the engine's address and HDC_DOCKER_TIMEOUT.
 */
#define _GNU_SOURCE /* vasprintf */
#include "docker.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "docker_call.h"
#include "docker_json.h"
#include "util.h"

/* The grace of a stop that leaves it to the container (Docker's default,
 * which hdc's containers keep), in seconds. */
#define STOP_GRACE_S 10
/* Cap of the error body collected from a streaming reply. */
#define ERRBODY_MAX (64 * 1024)

/* Deadlines, in T = HDC_DOCKER_TIMEOUT: the calls that answer at once get
 * T for the whole request, stop its grace on top (docker_container_stop).
 * Streams, wait and build get T for the head only, counted from the end of
 * the request (for a build, of the context's upload). Exec's stream is
 * one of the streams; its create and inspect are quick. */
const docker_op_row docker__ops[] = {
    [OP_PING] = {"ping", "GET", "/_ping", REPLY_PING, DEADLINE_QUICK},
    [OP_VERSION] = {"version", "GET", V "/version", REPLY_VERSION, DEADLINE_QUICK},
    [OP_IMAGE_INSPECT] = {"image inspect", "GET", V "/images/%s/json", REPLY_IMAGE, DEADLINE_QUICK},
    [OP_IMAGE_REMOVE] = {"image remove", "DELETE", V "/images/%s", REPLY_NONE, DEADLINE_QUICK},
    [OP_IMAGE_LIST] = {"image list", "GET", NULL, REPLY_LIST, DEADLINE_QUICK},
    [OP_NETWORK_CREATE] = {"network create", "POST", V "/networks/create", REPLY_ID,
                           DEADLINE_QUICK},
    [OP_NETWORK_INSPECT] = {"network inspect", "GET", V "/networks/%s", REPLY_NETWORK,
                            DEADLINE_QUICK},
    [OP_NETWORK_REMOVE] = {"network remove", "DELETE", V "/networks/%s", REPLY_NONE,
                           DEADLINE_QUICK},
    [OP_NETWORK_LIST] = {"network list", "GET", NULL, REPLY_LIST, DEADLINE_QUICK},
    [OP_VOLUME_CREATE] = {"volume create", "POST", V "/volumes/create", REPLY_NONE, DEADLINE_QUICK},
    [OP_VOLUME_REMOVE] = {"volume remove", "DELETE", V "/volumes/%s", REPLY_NONE, DEADLINE_QUICK},
    [OP_VOLUME_LIST] = {"volume list", "GET", NULL, REPLY_LIST, DEADLINE_QUICK},
    [OP_CONTAINER_CREATE] = {"container create", "POST", V "/containers/create", REPLY_ID,
                             DEADLINE_QUICK, 1},
    [OP_CONTAINER_START] = {"container start", "POST", V "/containers/%s/start", REPLY_NONE,
                            DEADLINE_QUICK, 1},
    [OP_CONTAINER_STOP] = {"container stop", "POST", V "/containers/%s/stop", REPLY_NONE,
                           DEADLINE_QUICK},
    [OP_CONTAINER_KILL] = {"container kill", "POST", V "/containers/%s/kill", REPLY_NONE,
                           DEADLINE_QUICK},
    [OP_CONTAINER_REMOVE] = {"container remove", "DELETE", V "/containers/%s", REPLY_NONE,
                             DEADLINE_QUICK},
    [OP_CONTAINER_INSPECT] = {"container inspect", "GET", V "/containers/%s/json", REPLY_CONTAINER,
                              DEADLINE_QUICK},
    [OP_CONTAINER_LIST] = {"container list", "GET", NULL, REPLY_LIST, DEADLINE_QUICK},
    /* The head comes at once, the body when the container stops. */
    [OP_CONTAINER_WAIT] = {"container wait", "POST", V "/containers/%s/wait", REPLY_WAIT,
                           DEADLINE_HEAD},
    [OP_LOGS] = {"container logs", "GET", NULL, REPLY_STREAM, DEADLINE_HEAD},
    [OP_ARCHIVE] = {"container archive", "GET", V "/containers/%s/archive", REPLY_STREAM,
                    DEADLINE_HEAD},
    [OP_PUT_ARCHIVE] = {"container put archive", "PUT", V "/containers/%s/archive", REPLY_NONE,
                        DEADLINE_QUICK},
    [OP_EVENTS] = {"events", "GET", NULL, REPLY_STREAM, DEADLINE_HEAD},
    [OP_BUILD] = {"build", "POST", NULL, REPLY_BUILD, DEADLINE_HEAD},
    /* Its first request, the create; the start and the inspect follow. */
    [OP_EXEC] = {"exec", "POST", V "/containers/%s/exec", REPLY_EXEC, DEADLINE_QUICK},
    [OP_CONTAINER_PAUSE] = {"container pause", "POST", V "/containers/%s/pause", REPLY_NONE,
                            DEADLINE_QUICK},
    [OP_CONTAINER_UNPAUSE] = {"container unpause", "POST", V "/containers/%s/unpause", REPLY_NONE,
                              DEADLINE_QUICK},
    [OP_NETWORK_CONNECT] = {"network connect", "POST", V "/networks/%s/connect", REPLY_NONE,
                            DEADLINE_QUICK},
    [OP_NETWORK_DISCONNECT] = {"network disconnect", "POST", V "/networks/%s/disconnect",
                               REPLY_NONE, DEADLINE_QUICK},
};

/* ---- the client ------------------------------------------------------------ */

/* s, digits only (no sign, no blanks, nothing after), to *v <= max. */
static int digits(const char *s, unsigned long max, unsigned long *v) {
    *v = 0;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return UV_EINVAL;
        *v = *v * 10 + (unsigned long)(*s - '0');
        if (*v > max)
            return UV_EINVAL;
    }
    return 0;
}

int docker_timeout_parse(const char *s, unsigned *seconds) {
    unsigned long v = DOCKER_TIMEOUT_DEFAULT_S;

    if (s != NULL && *s != '\0' && (digits(s, DOCKER_TIMEOUT_MAX_S, &v) != 0 || v < 1))
        return UV_EINVAL;
    if (seconds != NULL)
        *seconds = (unsigned)v;
    return 0;
}

int docker_pace_parse(const char *s, unsigned *max) {
    unsigned long v = DOCKER_PACE_DEFAULT;

    if (s != NULL && *s != '\0' && digits(s, DOCKER_PACE_MAX, &v) != 0)
        return UV_EINVAL;
    if (max != NULL)
        *max = (unsigned)v;
    return 0;
}

int docker_new(uv_loop_t *loop, const char *address, docker **out) {
    docker *d;
    unsigned timeout_s;
    int rc;

    *out = NULL;
    if (!address) {
        address = getenv("DOCKER_HOST");
        if (!address || !*address)
            address = DOCKER_DEFAULT_HOST;
    }
    if (strncmp(address, "unix://", 7) != 0 && strncmp(address, "tcp://", 6) != 0)
        return UV_EINVAL;
    if (docker_timeout_parse(getenv("HDC_DOCKER_TIMEOUT"), &timeout_s) != 0)
        return UV_EINVAL;
    d = calloc(1, sizeof(*d));
    if (!d)
        return UV_ENOMEM;
    d->loop = loop;
    d->timeout_s = timeout_s;
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
    uv_timer_init(loop, &d->pace_timer);
    d->pace_timer.data = d; /* stopped, it does not keep the loop alive */
    *out = d;
    return 0;
}

void docker_set_pace(docker *d, unsigned max) {
    d->pace_max = max;
}

void docker__maybe_free(docker *d) {
    void (*cb)(void *) = d->close_cb;
    void *data = d->close_data;

    if (!d->closing || !d->http_closed || !d->pace_timer_closed || d->n_work > 0)
        return;
    free(d->address);
    free(d);
    if (cb)
        cb(data);
}

static void http_closed(void *data) {
    docker *d = data;

    d->http_closed = 1;
    docker__maybe_free(d);
}

static void pace_timer_closed(uv_handle_t *h) {
    docker *d = h->data;

    d->pace_timer_closed = 1;
    docker__maybe_free(d);
}

static void drop(docker_call *c);

void docker_close(docker *d, void (*cb)(void *data), void *data) {
    if (!d || d->closing)
        return;
    d->closing = 1;
    d->close_cb = cb;
    d->close_data = data;
    /* Calls waiting for a slot end canceled, as those in flight do. */
    while (d->waiting != NULL) {
        docker_call *c = d->waiting;
        d->waiting = c->next;
        c->canceled = 1;
        drop(c);
    }
    d->waiting_tail = NULL;
    if (d->dropped == NULL)
        uv_close((uv_handle_t *)&d->pace_timer, pace_timer_closed);
    http_client_close(d->http, http_closed, d);
}

const char *docker_address(const docker *d) {
    return d->address;
}

/* ---- calls ----------------------------------------------------------------- */

docker_call *docker__call_new(docker *d, enum docker_op op, void *data) {
    docker_call *c;

    if (d->closing)
        return NULL;
    c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->d = d;
    c->op = &docker__ops[op];
    c->data = data;
    docker__deadline(c, c->op->deadline);
    return c;
}

void docker__deadline(docker_call *c, enum docker_deadline kind) {
    uint64_t t = (uint64_t)c->d->timeout_s * 1000;

    c->whole_ms = kind == DEADLINE_QUICK ? t : 0;
    c->head_ms = t;
}

static void send_waiting(docker *d);

void docker__call_free(docker_call *c) {
    if (c->pace_slot) {
        c->d->pace_busy--;
        send_waiting(c->d);
    }
    free(c->queued_target);
    json_decref(c->queued_body);
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

/* What a public call returns when docker__call_new gave NULL. */
static int no_call(const docker *d) {
    return d->closing ? UV_EINVAL : UV_ENOMEM;
}

void docker__fail(docker_call *c, int status, const char *msg) {
    void *data = c->data;

    if (c->finished)
        return;
    c->finished = 1;
    if (!msg)
        msg = hdc_strerror(status);
    switch (c->op->reply) {
    case REPLY_NONE:
    case REPLY_STREAM: c->cb.plain(data, status, msg); break;
    case REPLY_ID:
    case REPLY_BUILD: c->cb.id(data, status, msg, NULL); break;
    case REPLY_LIST: c->cb.list(data, status, msg, NULL, 0); break;
    case REPLY_VERSION: c->cb.version(data, status, msg, NULL); break;
    case REPLY_PING: c->cb.ping(data, status, msg, NULL); break;
    case REPLY_IMAGE: c->cb.image(data, status, msg, NULL); break;
    case REPLY_NETWORK: c->cb.network(data, status, msg, NULL); break;
    case REPLY_CONTAINER: c->cb.container(data, status, msg, NULL); break;
    case REPLY_WAIT: c->cb.wait(data, status, msg, -1); break;
    case REPLY_EXEC: c->cb.exec(data, status, msg, -1); break;
    }
    docker__call_free(c);
}

void docker__failf(docker_call *c, int status, const char *fmt, ...) {
    va_list ap;
    char *msg = NULL;

    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    docker__fail(c, status, msg);
    free(msg);
}

/* The message for a transport error (no HTTP reply). */
static void fail_transport(docker_call *c, int status, int got_head) {
    docker *d = c->d;

    if (status == UV_ECANCELED || c->canceled) {
        docker__failf(c, UV_ECANCELED, "%s: canceled", c->op->what);
        return;
    }
    if (status == UV_ETIMEDOUT) {
        uint64_t ms = c->whole_ms ? c->whole_ms : c->head_ms;
        docker__failf(c, UV_ETIMEDOUT,
                      "the Docker engine at %s did not %s %s within %llu s: is it hung? Check it "
                      "with `docker info`, or give it longer with HDC_DOCKER_TIMEOUT=SECONDS "
                      "(now %u)",
                      d->address, got_head ? "finish its answer to" : "answer", c->op->what,
                      (unsigned long long)((ms + 999) / 1000), d->timeout_s);
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
            docker__failf(c, DOCKER_ENOENGINE,
                          "no Docker engine at %s: run scripts/setup.sh or set DOCKER_HOST",
                          d->address);
            return;
        case UV_EACCES:
        case UV_EPERM:
            docker__failf(c, DOCKER_ENOENGINE,
                          "no access to the Docker engine at %s (%s): join the docker group, "
                          "or set DOCKER_HOST",
                          d->address, hdc_strerror(status));
            return;
        default: break;
        }
    }
    docker__failf(c, status, "%s: Docker engine at %s: %s", c->op->what, d->address,
                  hdc_strerror(status));
}

void docker__on_head(void *data, const http_response *res) {
    docker_call *c = data;

    c->http_status = res->status;
    if (c->on_head)
        c->on_head(c, res);
}

/* Body bytes of a streaming reply: to the stream's parser, or collected
 * when the reply is an error. */
void docker__on_data(void *data, const char *buf, size_t len) {
    docker_call *c = data;
    int rc;

    if (c->finished || c->canceled)
        return;
    if (c->http_status >= 300 && c->http_status != 101) {
        size_t n = len;
        char *b;
        if (c->errbody_len + n > ERRBODY_MAX)
            n = ERRBODY_MAX - c->errbody_len;
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

void docker__stream_error(docker_call *c, int status, const char *fmt, ...) {
    va_list ap;

    if (c->stream_msg)
        return;
    va_start(ap, fmt);
    if (vasprintf(&c->stream_msg, fmt, ap) < 0)
        c->stream_msg = NULL;
    va_end(ap);
    c->stream_err = status;
}

void docker__on_done(void *data, int status, const http_response *res) {
    docker_call *c = data;
    const char *body = NULL;
    size_t body_len = 0;

    c->req = NULL;
    if (c->finished) {
        docker__call_free(c);
        return;
    }
    if (c->canceled) {
        docker__failf(c, UV_ECANCELED, "%s: canceled", c->op->what);
        return;
    }
    /* A stream error met while parsing comes first: it is why we canceled. */
    if (c->stream_err && c->stream_msg) {
        docker__fail(c, c->stream_err, c->stream_msg);
        return;
    }
    if (c->stream_err) {
        docker__failf(c, c->have_dm ? DOCKER_ESTREAM : DOCKER_EPROTO, "%s: %s", c->op->what,
                      hdc_strerror(c->stream_err));
        return;
    }
    if (status < 0 || !res) {
        fail_transport(c, status ? status : HTTP_ETRUNC, res != NULL);
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
        rc = docker_api_error(c->op->what, res->status, body, body_len, &msg);
        /* Only a network's create is told apart by "overlaps". */
        if (rc == DOCKER_EOVERLAP && c->op != &docker__ops[OP_NETWORK_CREATE])
            rc = DOCKER_EAPI;
        docker__fail(c, rc, msg);
        free(msg);
        return;
    }
    c->ok(c, res);
}

int docker__request(docker_call *c, const char *method, char *target, const json_t *body,
                    unsigned flags, const char *body_file, const char *content_type) {
    http_request_opts o;
    http_request_cbs cbs;
    http_header hdr[1];
    char *text = NULL;
    int rc;

    if (!target)
        return UV_ENOMEM;
    if (c->d->closing) {
        free(target);
        return UV_ECANCELED;
    }
    memset(&o, 0, sizeof(o));
    memset(&cbs, 0, sizeof(cbs));
    o.method = method ? method : c->op->method;
    o.target = target;
    o.timeout_ms = c->whole_ms;
    o.head_timeout_ms = c->head_ms;
    o.flags = flags;
    o.body_file = body_file;
    if (body) {
        text = json_dumps(body, JSON_COMPACT);
        if (!text) {
            free(target);
            return UV_ENOMEM;
        }
        o.body = text;
        o.body_len = strlen(text);
        content_type = "application/json";
    } else if (c->upload) {
        o.body = c->upload;
        o.body_len = c->upload_len;
        content_type = c->upload_type;
        c->upload = NULL;
    }
    if (content_type) {
        hdr[0].name = "Content-Type";
        hdr[0].value = content_type;
        o.headers = hdr;
        o.n_headers = 1;
    }
    cbs.on_head = docker__on_head;
    cbs.on_done = docker__on_done;
    if (!(flags & HTTP_BUFFER_BODY))
        cbs.on_data = docker__on_data;
    c->http_status = 0;
    rc = http_request_start(c->d->http, &o, &cbs, c, &c->req);
    free(text);
    free(target);
    return rc;
}

/* ---- pacing ------------------------------------------------------------------
 *
 * Creates and starts of many clusters at once (16 clusters: 96 of each)
 * are not all sent at once: at most pace_max are in flight, the others wait
 * in order and are sent as slots free. Their deadlines count from then. */

/* Fails the canceled waiters, from the loop. */
static void dropped_due(uv_timer_t *t) {
    docker *d = t->data;

    while (d->dropped != NULL) {
        docker_call *c = d->dropped;
        d->dropped = c->next;
        docker__fail(c, UV_ECANCELED, NULL);
    }
    if (d->closing && !uv_is_closing((uv_handle_t *)&d->pace_timer))
        uv_close((uv_handle_t *)&d->pace_timer, pace_timer_closed);
}

static void drop(docker_call *c) {
    docker *d = c->d;

    c->next = d->dropped;
    d->dropped = c;
    uv_timer_start(&d->pace_timer, dropped_due, 0, 0);
}

static void send_waiting(docker *d) {
    while (d->waiting != NULL && d->pace_busy < d->pace_max && !d->closing) {
        docker_call *c = d->waiting;
        char *target = c->queued_target;
        int rc;

        d->waiting = c->next;
        if (d->waiting == NULL)
            d->waiting_tail = NULL;
        c->next = NULL;
        c->queued_target = NULL;
        d->pace_busy++;
        c->pace_slot = 1;
        rc = docker__request(c, NULL, target, c->queued_body, c->queued_flags, NULL, NULL);
        if (rc != 0)
            docker__fail(c, rc, NULL); /* frees the slot: the loop goes on */
    }
}

int docker__send(docker_call *c, char *target, const json_t *body, unsigned flags,
                 docker_call **out) {
    docker *d = c->d;
    int rc;

    if (c->op->paced && d->pace_max > 0 && d->pace_busy >= d->pace_max && target != NULL) {
        c->queued_target = target;
        c->queued_body = body != NULL ? json_incref((json_t *)body) : NULL;
        c->queued_flags = flags;
        if (d->waiting_tail != NULL)
            d->waiting_tail->next = c;
        else
            d->waiting = c;
        d->waiting_tail = c;
        if (out)
            *out = c;
        return 0;
    }
    if (c->op->paced && d->pace_max > 0) {
        d->pace_busy++;
        c->pace_slot = 1;
    }
    rc = docker__request(c, NULL, target, body, flags, NULL, NULL);
    if (rc) {
        c->finished = 1;
        docker__call_free(c);
        return rc;
    }
    if (out)
        *out = c;
    return 0;
}

char *docker__path(enum docker_op op, const char *arg, const char *query) {
    char *e = docker_url_escape(arg ? arg : "");
    char *s = NULL;

    if (e) {
        char *path = util_asprintf(docker__ops[op].path, e);
        if (path)
            s = util_asprintf("%s%s", path, query ? query : "");
        free(path);
    }
    free(e);
    return s;
}

int docker_call_cancel(docker_call *c) {
    if (!c || c->finished || c->canceled)
        return UV_EALREADY;
    c->canceled = 1;
    if (c->queued_target != NULL) { /* waiting for a slot: it ends from the loop */
        docker *d = c->d;
        docker_call **p = &d->waiting;
        while (*p != c)
            p = &(*p)->next;
        *p = c->next;
        if (d->waiting_tail == c) {
            d->waiting_tail = NULL;
            for (docker_call *w = d->waiting; w != NULL; w = w->next)
                d->waiting_tail = w;
        }
        drop(c);
        return 0;
    }
    if (c->req)
        http_request_cancel(c->req);
    /* Between requests (archiving a build context): the next step sees
     * canceled and ends the call. */
    return 0;
}

/* ---- replies of the calls of one request --------------------------------------- */

json_t *docker__json(docker_call *c, const http_response *res) {
    json_error_t jerr;
    json_t *root = json_loadb(res->body ? res->body : "", res->body ? res->body_len : 0, 0, &jerr);

    if (!root)
        docker__failf(c, DOCKER_EPROTO, "%s: the Docker engine's reply is not JSON: %s",
                      c->op->what, jerr.text);
    return root;
}

/* Fails the call for a reply that is not what the API says. */
static void unexpected(docker_call *c, const char *what) {
    docker__failf(c, DOCKER_EPROTO, "%s: %s", c->op->what,
                  what ? what : "unexpected reply from the Docker engine");
}

/* Reads the reply of a call of one request and calls back: the only
 * place that calls a successful call's callback. */
static void deliver(docker_call *c, const json_t *root, const http_response *res) {
    const char *s;
    int rc;

    switch (c->op->reply) {
    case REPLY_NONE:
        c->finished = 1;
        c->cb.plain(c->data, 0, NULL);
        break;
    case REPLY_ID:
        if (!(s = json_string_value(json_object_get(root, "Id")))) {
            unexpected(c, "no Id in the Docker engine's reply");
            return;
        }
        c->finished = 1;
        c->cb.id(c->data, 0, NULL, s);
        break;
    case REPLY_PING:
        s = http_response_header(res, "API-Version");
        c->finished = 1;
        c->cb.ping(c->data, 0, NULL, s ? s : "");
        break;
    case REPLY_VERSION: {
        docker_version v;
        docker_version_parse(root, &v);
        c->finished = 1;
        c->cb.version(c->data, 0, NULL, &v);
        break;
    }
    case REPLY_LIST: {
        docker_object *objs = NULL;
        size_t n = 0;
        if ((rc = docker_list_parse(root, &objs, &n)) == UV_ENOMEM) {
            docker__fail(c, rc, NULL);
            return;
        }
        if (rc != 0) {
            unexpected(c, "the Docker engine's reply is not a list");
            return;
        }
        c->finished = 1;
        c->cb.list(c->data, 0, NULL, objs, n);
        free(objs);
        break;
    }
    case REPLY_IMAGE: {
        docker_image_info info;
        if (docker_image_info_parse(root, &info) != 0) {
            unexpected(c, NULL);
            return;
        }
        c->finished = 1;
        c->cb.image(c->data, 0, NULL, &info);
        break;
    }
    case REPLY_NETWORK: {
        docker_network_info info;
        if (docker_network_info_parse(root, &info) != 0) {
            unexpected(c, NULL);
            return;
        }
        c->finished = 1;
        c->cb.network(c->data, 0, NULL, &info);
        break;
    }
    case REPLY_CONTAINER: {
        docker_container_info info;
        if ((rc = docker_container_info_parse(root, &info)) == UV_ENOMEM) {
            docker__fail(c, rc, NULL);
            return;
        }
        if (rc != 0) {
            unexpected(c, NULL);
            return;
        }
        c->finished = 1;
        c->cb.container(c->data, 0, NULL, &info);
        docker_container_info_clear(&info);
        break;
    }
    case REPLY_WAIT: {
        const json_t *code = json_object_get(root, "StatusCode");
        s = json_string_value(json_object_get(json_object_get(root, "Error"), "Message"));
        if (s && *s) {
            docker__failf(c, DOCKER_EAPI, "%s", s);
            return;
        }
        if (!json_is_integer(code)) {
            unexpected(c, "no StatusCode in the Docker engine's reply");
            return;
        }
        c->finished = 1;
        c->cb.wait(c->data, 0, NULL, (int)json_integer_value(code));
        break;
    }
    case REPLY_STREAM:
    case REPLY_BUILD:
    case REPLY_EXEC:
        unexpected(c, NULL); /* docker_stream.c reads those */
        return;
    }
    docker__call_free(c);
}

/* A 2xx reply of a call of one request. */
static void reply_ok(docker_call *c, const http_response *res) {
    json_t *root = NULL;

    if (c->op->reply != REPLY_NONE && c->op->reply != REPLY_PING && !(root = docker__json(c, res)))
        return;
    deliver(c, root, res);
    json_decref(root);
}

/* Starts a call of one request; cb was set by the caller. */
static int one_request(docker_call *c, char *target, const json_t *body, docker_call **out) {
    c->ok = reply_ok;
    return docker__send(c, target, body, HTTP_BUFFER_BODY, out);
}

/* ---- the calls of one request ------------------------------------------------ */

int docker_ping(docker *d, docker_ping_cb cb, void *data, docker_call **out) {
    docker_call *c;

    if (!cb)
        return UV_EINVAL;
    if (!(c = docker__call_new(d, OP_PING, data)))
        return no_call(d);
    c->cb.ping = cb;
    return one_request(c, strdup(c->op->path), NULL, out);
}

int docker_version_get(docker *d, docker_version_cb cb, void *data, docker_call **out) {
    docker_call *c;

    if (!cb)
        return UV_EINVAL;
    if (!(c = docker__call_new(d, OP_VERSION, data)))
        return no_call(d);
    c->cb.version = cb;
    return one_request(c, strdup(c->op->path), NULL, out);
}

int docker_image_inspect(docker *d, const char *name, docker_image_cb cb, void *data,
                         docker_call **out) {
    docker_call *c;

    if (!name || !cb)
        return UV_EINVAL;
    if (!(c = docker__call_new(d, OP_IMAGE_INSPECT, data)))
        return no_call(d);
    c->cb.image = cb;
    return one_request(c, docker__path(OP_IMAGE_INSPECT, name, NULL), NULL, out);
}

int docker_image_remove(docker *d, const char *name, int force, docker_cb cb, void *data,
                        docker_call **out) {
    docker_call *c;

    if (!name || !cb)
        return UV_EINVAL;
    if (!(c = docker__call_new(d, OP_IMAGE_REMOVE, data)))
        return no_call(d);
    c->cb.plain = cb;
    return one_request(c, docker__path(OP_IMAGE_REMOVE, name, force ? "?force=1" : NULL), NULL,
                       out);
}

/* The three lists by label, and the image list. */
static int list(docker *d, enum docker_op op, const char *base, const char *label,
                docker_list_cb cb, void *data, docker_call **out) {
    docker_call *c;

    if (!cb)
        return UV_EINVAL;
    if (!(c = docker__call_new(d, op, data)))
        return no_call(d);
    c->cb.list = cb;
    return one_request(c, docker_list_target(base, label), NULL, out);
}

int docker_image_list(docker *d, const char *label, docker_list_cb cb, void *data,
                      docker_call **out) {
    return list(d, OP_IMAGE_LIST, "/images/json", label, cb, data, out);
}

int docker_network_list(docker *d, const char *label, docker_list_cb cb, void *data,
                        docker_call **out) {
    return list(d, OP_NETWORK_LIST, "/networks", label, cb, data, out);
}

int docker_volume_list(docker *d, const char *label, docker_list_cb cb, void *data,
                       docker_call **out) {
    return list(d, OP_VOLUME_LIST, "/volumes", label, cb, data, out);
}

int docker_container_list(docker *d, const char *label, docker_list_cb cb, void *data,
                          docker_call **out) {
    return list(d, OP_CONTAINER_LIST, "/containers/json?all=1", label, cb, data, out);
}

int docker_network_create(docker *d, const docker_network_opts *opts, docker_id_cb cb, void *data,
                          docker_call **out) {
    docker_call *c;
    json_t *body;
    int rc;

    if (!opts || !cb)
        return UV_EINVAL;
    if (!(body = docker_network_create_body(opts)))
        return UV_EINVAL;
    if (!(c = docker__call_new(d, OP_NETWORK_CREATE, data))) {
        json_decref(body);
        return no_call(d);
    }
    c->cb.id = cb;
    rc = one_request(c, strdup(c->op->path), body, out);
    json_decref(body);
    return rc;
}

int docker_network_inspect(docker *d, const char *name, docker_network_cb cb, void *data,
                           docker_call **out) {
    docker_call *c;

    if (!name || !cb)
        return UV_EINVAL;
    if (!(c = docker__call_new(d, OP_NETWORK_INSPECT, data)))
        return no_call(d);
    c->cb.network = cb;
    return one_request(c, docker__path(OP_NETWORK_INSPECT, name, NULL), NULL, out);
}

/* The removals and the container calls that answer with nothing. */
static int plain(docker *d, enum docker_op op, const char *name, const char *query, docker_cb cb,
                 void *data, docker_call **out) {
    docker_call *c;

    if (!name || !cb)
        return UV_EINVAL;
    if (!(c = docker__call_new(d, op, data)))
        return no_call(d);
    c->cb.plain = cb;
    return one_request(c, docker__path(op, name, query), NULL, out);
}

int docker_network_remove(docker *d, const char *name, docker_cb cb, void *data,
                          docker_call **out) {
    return plain(d, OP_NETWORK_REMOVE, name, NULL, cb, data, out);
}

int docker_volume_create(docker *d, const char *name, const docker_kv *labels, size_t n_labels,
                         docker_cb cb, void *data, docker_call **out) {
    docker_call *c;
    json_t *body;
    int rc;

    if (!name || !cb)
        return UV_EINVAL;
    if (!(body = docker_volume_create_body(name, labels, n_labels)))
        return UV_ENOMEM;
    if (!(c = docker__call_new(d, OP_VOLUME_CREATE, data))) {
        json_decref(body);
        return no_call(d);
    }
    c->cb.plain = cb;
    rc = one_request(c, strdup(c->op->path), body, out);
    json_decref(body);
    return rc;
}

int docker_volume_remove(docker *d, const char *name, int force, docker_cb cb, void *data,
                         docker_call **out) {
    return plain(d, OP_VOLUME_REMOVE, name, force ? "?force=1" : NULL, cb, data, out);
}

int docker_container_put_archive(docker *d, const char *id, const char *dir, const void *tar,
                                 size_t len, docker_cb cb, void *data, docker_call **out) {
    docker_call *c;
    char *e_dir, *query, *target;

    if (!id || !dir || !tar || !cb)
        return UV_EINVAL;
    e_dir = docker_url_escape(dir);
    query = e_dir ? util_asprintf("?path=%s", e_dir) : NULL;
    free(e_dir);
    target = query ? docker__path(OP_PUT_ARCHIVE, id, query) : NULL;
    free(query);
    if (!target)
        return UV_ENOMEM;
    if (!(c = docker__call_new(d, OP_PUT_ARCHIVE, data))) {
        free(target);
        return no_call(d);
    }
    c->cb.plain = cb;
    c->upload = tar;
    c->upload_len = len;
    c->upload_type = "application/x-tar";
    return one_request(c, target, NULL, out);
}

int docker_container_create(docker *d, const docker_container_opts *opts, docker_id_cb cb,
                            void *data, docker_call **out) {
    docker_call *c;
    json_t *body;
    char *target = NULL, *name = NULL;
    int rc;

    if (!opts || !cb)
        return UV_EINVAL;
    if (!(body = docker_container_create_body(opts)))
        return UV_EINVAL;
    if (!(c = docker__call_new(d, OP_CONTAINER_CREATE, data))) {
        json_decref(body);
        return no_call(d);
    }
    c->cb.id = cb;
    if (opts->name) {
        name = docker_url_escape(opts->name);
        target = name ? util_asprintf("%s?name=%s", c->op->path, name) : NULL;
    } else {
        target = strdup(c->op->path);
    }
    rc = one_request(c, target, body, out);
    free(name);
    json_decref(body);
    return rc;
}

int docker_container_start(docker *d, const char *id, docker_cb cb, void *data, docker_call **out) {
    return plain(d, OP_CONTAINER_START, id, NULL, cb, data, out);
}

int docker_container_stop(docker *d, const char *id, int timeout_s, docker_cb cb, void *data,
                          docker_call **out) {
    docker_call *c;
    char q[32] = "";

    if (!id || !cb)
        return UV_EINVAL;
    if (!(c = docker__call_new(d, OP_CONTAINER_STOP, data)))
        return no_call(d);
    c->cb.plain = cb;
    if (timeout_s >= 0)
        snprintf(q, sizeof(q), "?t=%d", timeout_s);
    /* Docker answers once the container has stopped: after the grace. */
    c->whole_ms += (uint64_t)(timeout_s >= 0 ? timeout_s : STOP_GRACE_S) * 1000;
    c->head_ms = c->whole_ms;
    return one_request(c, docker__path(OP_CONTAINER_STOP, id, q), NULL, out);
}

int docker_container_kill(docker *d, const char *id, const char *signal, docker_cb cb, void *data,
                          docker_call **out) {
    char *sig, *q;
    int rc;

    if (!id || !cb)
        return UV_EINVAL;
    sig = docker_url_escape(signal ? signal : "SIGKILL");
    q = sig ? util_asprintf("?signal=%s", sig) : NULL;
    rc = q ? plain(d, OP_CONTAINER_KILL, id, q, cb, data, out) : UV_ENOMEM;
    free(sig);
    free(q);
    return rc;
}

int docker_container_remove(docker *d, const char *id, int force, int volumes, docker_cb cb,
                            void *data, docker_call **out) {
    char q[32];

    snprintf(q, sizeof(q), "?force=%d&v=%d", force ? 1 : 0, volumes ? 1 : 0);
    return plain(d, OP_CONTAINER_REMOVE, id, q, cb, data, out);
}

int docker_container_inspect(docker *d, const char *id, docker_container_cb cb, void *data,
                             docker_call **out) {
    docker_call *c;

    if (!id || !cb)
        return UV_EINVAL;
    if (!(c = docker__call_new(d, OP_CONTAINER_INSPECT, data)))
        return no_call(d);
    c->cb.container = cb;
    return one_request(c, docker__path(OP_CONTAINER_INSPECT, id, NULL), NULL, out);
}

static int wait_for(docker *d, const char *id, const char *query, docker_wait_cb cb, void *data,
                    docker_call **out) {
    docker_call *c;

    if (!id || !cb)
        return UV_EINVAL;
    if (!(c = docker__call_new(d, OP_CONTAINER_WAIT, data)))
        return no_call(d);
    c->cb.wait = cb;
    return one_request(c, docker__path(OP_CONTAINER_WAIT, id, query), NULL, out);
}

int docker_container_wait(docker *d, const char *id, docker_wait_cb cb, void *data,
                          docker_call **out) {
    return wait_for(d, id, "?condition=not-running", cb, data, out);
}

int docker_container_wait_removed(docker *d, const char *id, docker_wait_cb cb, void *data,
                                  docker_call **out) {
    return wait_for(d, id, "?condition=removed", cb, data, out);
}

int docker_container_pause(docker *d, const char *id, docker_cb cb, void *data, docker_call **out) {
    return plain(d, OP_CONTAINER_PAUSE, id, NULL, cb, data, out);
}

int docker_container_unpause(docker *d, const char *id, docker_cb cb, void *data,
                             docker_call **out) {
    return plain(d, OP_CONTAINER_UNPAUSE, id, NULL, cb, data, out);
}

/* The body of a connect: the container, and its endpoint's static address
 * and aliases when given. */
static json_t *connect_body(const char *container, const char *ipv4, const char *const *aliases,
                            size_t n_aliases) {
    json_t *names = json_array(), *ep;

    for (size_t i = 0; names && i < n_aliases; i++) {
        if (!aliases[i] || json_array_append_new(names, json_string(aliases[i]))) {
            json_decref(names);
            return NULL;
        }
    }
    /* "o" hands each value to its container, on failure too. */
    ep = ipv4 ? json_pack("{s:o, s:{s:s}}", "Aliases", names, "IPAMConfig", "IPv4Address", ipv4)
              : json_pack("{s:o}", "Aliases", names);
    return json_pack("{s:s, s:o}", "Container", container, "EndpointConfig", ep);
}

/* The calls on a network that carry a body: connect and disconnect. */
static int on_network(docker *d, enum docker_op op, const char *network, json_t *body, docker_cb cb,
                      void *data, docker_call **out) {
    docker_call *c;
    int rc;

    if (!body)
        return UV_EINVAL;
    if (!(c = docker__call_new(d, op, data))) {
        json_decref(body);
        return no_call(d);
    }
    c->cb.plain = cb;
    rc = one_request(c, docker__path(op, network, NULL), body, out);
    json_decref(body);
    return rc;
}

int docker_network_connect(docker *d, const char *network, const char *container, const char *ipv4,
                           const char *const *aliases, size_t n_aliases, docker_cb cb, void *data,
                           docker_call **out) {
    if (!network || !container || !cb || (n_aliases > 0 && !aliases))
        return UV_EINVAL;
    return on_network(d, OP_NETWORK_CONNECT, network,
                      connect_body(container, ipv4, aliases, n_aliases), cb, data, out);
}

int docker_network_disconnect(docker *d, const char *network, const char *container, int force,
                              docker_cb cb, void *data, docker_call **out) {
    if (!network || !container || !cb)
        return UV_EINVAL;
    return on_network(d, OP_NETWORK_DISCONNECT, network,
                      json_pack("{s:s, s:b}", "Container", container, "Force", force ? 1 : 0), cb,
                      data, out);
}
