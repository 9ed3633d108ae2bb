/* Inside the Docker client (engine/docker.c, engine/docker_stream.c): the
 * table of calls and the one struct every call is, whatever its kind.
 * Nothing outside those two files includes this header.
 *
 * A call is one row of docker__ops (what it is called in messages, its
 * method and path, how its reply is read, its deadline) plus the typed
 * callback of that reply kind. The public function of each call sets the
 * callback in the union member of its kind, so the compiler checks it;
 * docker__fail and reply_ok (docker.c) are the only places that read the union, each
 * by the row's kind, and they are the only places that call back, so
 * "exactly once" is kept in one place (c->finished).
 */
#ifndef HDC_DOCKER_CALL_H
#define HDC_DOCKER_CALL_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

#include "demux.h"
#include "docker.h"
#include "http.h"
#include "lines.h"

#define V "/v" DOCKER_API_VERSION

/* How a reply is read, and which member of docker_call.cb gets it. */
enum docker_reply {
    REPLY_NONE,      /* cb.plain */
    REPLY_ID,        /* cb.id: the Id of the reply */
    REPLY_LIST,      /* cb.list */
    REPLY_VERSION,   /* cb.version */
    REPLY_PING,      /* cb.ping */
    REPLY_IMAGE,     /* cb.image */
    REPLY_NETWORK,   /* cb.network */
    REPLY_CONTAINER, /* cb.container */
    REPLY_WAIT,      /* cb.wait */
    REPLY_STREAM,    /* cb.plain at the end of a stream (logs, archive, events) */
    REPLY_BUILD,     /* cb.id: the image built */
    REPLY_EXEC,      /* cb.exec: the command's exit code */
};

enum docker_op {
    OP_PING,
    OP_VERSION,
    OP_IMAGE_INSPECT,
    OP_IMAGE_REMOVE,
    OP_IMAGE_LIST,
    OP_NETWORK_CREATE,
    OP_NETWORK_INSPECT,
    OP_NETWORK_REMOVE,
    OP_NETWORK_LIST,
    OP_VOLUME_CREATE,
    OP_VOLUME_REMOVE,
    OP_VOLUME_LIST,
    OP_CONTAINER_CREATE,
    OP_CONTAINER_START,
    OP_CONTAINER_STOP,
    OP_CONTAINER_KILL,
    OP_CONTAINER_REMOVE,
    OP_CONTAINER_INSPECT,
    OP_CONTAINER_LIST,
    OP_CONTAINER_WAIT,
    OP_LOGS,
    OP_ARCHIVE,
    OP_PUT_ARCHIVE,
    OP_EVENTS,
    OP_BUILD,
    OP_EXEC,
    OP_CONTAINER_PAUSE,
    OP_CONTAINER_UNPAUSE,
    OP_NETWORK_CONNECT,
    OP_NETWORK_DISCONNECT,
};

/* What bounds a request, in the engine's timeout T (HDC_DOCKER_TIMEOUT):
 * http's two deadlines (http.h). */
enum docker_deadline {
    DEADLINE_QUICK, /* the whole request within T: calls that answer at once */
    DEADLINE_HEAD,  /* the reply's head within T of the end of the request, the
                       body unbounded: streams, wait, build, exec's stream */
};

/* A row of the table. */
typedef struct docker_op_row {
    const char *what;   /* "container create": for messages */
    const char *method; /* of the (first) request */
    const char *path;   /* V "/containers/%s/start": %s is the escaped object; NULL: built
                           by the call (a query of filters, a build's options) */
    enum docker_reply reply;
    enum docker_deadline deadline; /* of the (first) request */
    int paced;                     /* one of the calls docker_set_pace caps */
} docker_op_row;

extern const docker_op_row docker__ops[];

struct docker {
    uv_loop_t *loop;
    http_client *http;
    char *address;
    unsigned timeout_s; /* T: HDC_DOCKER_TIMEOUT, read once */
    int closing;
    size_t n_work; /* build contexts being archived */
    int http_closed;
    void (*close_cb)(void *data);
    void *close_data;
    /* Pacing (docker_set_pace): paced calls in flight, those waiting for
     * one to end (a FIFO), and canceled waiters, failed from pace_timer so
     * that a cancel never calls back from inside itself. */
    unsigned pace_max; /* 0: no cap */
    unsigned pace_busy;
    docker_call *waiting, *waiting_tail, *dropped;
    uv_timer_t pace_timer;
    int pace_timer_closed;
};

/* Interprets a 2xx reply: the next request of the call, or its end. */
typedef void (*call_ok_fn)(docker_call *c, const http_response *res);

struct docker_call {
    docker *d;
    const docker_op_row *op;
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
    /* Optional: the head of the current reply is in (exec: the stream is
     * hijacked, its stdin may go out). */
    void (*on_head)(docker_call *c, const http_response *res);
    uint64_t whole_ms, head_ms; /* deadlines of the current request (http's timeout_ms and
                                   head_timeout_ms); 0: none */
    http_request *req;          /* the request in flight, or NULL */
    /* A body of raw bytes for the next request (borrowed until it is
     * sent: http copies it), with its content type. */
    const void *upload;
    size_t upload_len;
    const char *upload_type;
    int finished;
    int canceled;
    int pace_slot;       /* holds one of d->pace_busy */
    docker_call *next;   /* in d->waiting or d->dropped */
    char *queued_target; /* a waiting call's request, sent when a slot frees */
    json_t *queued_body;
    unsigned queued_flags;

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

/* A new call of row op, or NULL (ENOMEM, or d closing: the caller returns
 * UV_ENOMEM or UV_EINVAL as docker_closing(d) tells). */
docker_call *docker__call_new(docker *d, enum docker_op op, void *data);
/* Sets the deadlines of the call's next request (docker__call_new sets the
 * row's). */
void docker__deadline(docker_call *c, enum docker_deadline kind);
void docker__call_free(docker_call *c);

/* Sends the call's (next) request with the call's deadlines: method of
 * its row unless given; target malloc'd by the caller and freed here;
 * body a JSON body (borrowed) or NULL. flags: http_flags; body_file and
 * content_type for a build. On failure nothing is called back: the caller
 * frees the call or fails it. */
int docker__request(docker_call *c, const char *method, char *target, const json_t *body,
                    unsigned flags, const char *body_file, const char *content_type);

/* The first request of a call, sent: on success *out (optional) is the
 * call; on failure the call is freed and the error returned. */
int docker__send(docker_call *c, char *target, const json_t *body, unsigned flags,
                 docker_call **out);

/* Ends the call with an error: its callback, with empty results. */
void docker__fail(docker_call *c, int status, const char *msg);
void docker__failf(docker_call *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the first error met in a stream, with its message. */
void docker__stream_error(docker_call *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Parses a buffered JSON body; on failure ends the call and returns NULL. */
json_t *docker__json(docker_call *c, const http_response *res);

/* http callbacks every request of a call uses. */
void docker__on_head(void *data, const http_response *res);
void docker__on_data(void *data, const char *buf, size_t len);
void docker__on_done(void *data, int status, const http_response *res);

/* The row's path with arg escaped into its %s, and query appended
 * (malloc'd; NULL on ENOMEM). */
char *docker__path(enum docker_op op, const char *arg, const char *query);

/* After the build context was archived (docker_stream.c), or anything
 * else that kept d alive: frees d if it is closed and idle. */
void docker__maybe_free(docker *d);

#endif
