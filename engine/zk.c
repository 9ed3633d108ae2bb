/* ZooKeeper on the libuv loop: sessions, reads and writes, watches, and
 * zk_wait_for, the rendezvous of the bootstrap protocol (docs/design.md).
 *
 * libzookeeper-mt runs an IO thread and a completion thread per handle, and
 * calls its watchers and completions on the latter. Nothing of ours runs
 * there but a copy and a push: each callback fills a message (embedded in
 * the request or watch it belongs to, so a completion never allocates but
 * for a value), appends it to the session's mutex-protected queue and calls
 * uv_async_send. Sends coalesce, so each wake-up drains the whole queue, in
 * order, on the loop thread; every user callback runs there.
 *
 * Decisions a newcomer would otherwise question:
 * - One zk_session may own several zhandle_t over its life ("conns"): when
 *   the server expires the session, the dead handle is closed and a new one
 *   made; waits are re-armed on it, ephemerals re-created. Every message
 *   says which conn it came from, and anything from a conn that is no longer
 *   current, or from a wait's arm that has been superseded (seq), is
 *   dropped.
 * - zookeeper_init (it resolves names) and zookeeper_close (it joins the
 *   library's threads and can wait for the server) block, so both run on the
 *   libuv thread pool, never on the loop and never in a library callback.
 *   Only after the close returned are the library's threads gone; then the
 *   queue is drained one last time, and the requests and watch contexts that
 *   never completed (watches pending at close are never delivered) are
 *   completed with an error and freed by us.
 * - Waits re-arm rather than trust the library's own re-registration: after
 *   every node event and every (re)connection, an exists-watch is set and
 *   then the value read, so a value written while we were away is seen. A
 *   superseded watch context stays registered until it fires or the conn
 *   closes; its event is then ignored.
 * - Session events are delivered by the library to every registered watcher
 *   as well as to the global one; node watchers ignore them without touching
 *   their context, so a context is only ever read for its one node event.
 * - A call that loses its connection while the session lives is sent again
 *   once the library has reconnected (the session event says so): the
 *   library tells the disconnection before it fails the calls in flight, so
 *   a failed call waits in s->deferred, in the order it was made, and no
 *   timer is involved. Calls made while disconnected wait there too, rather
 *   than in the library, which would fail them at each connection attempt.
 *   A set and a get are safe to send twice. A create sent again that finds
 *   the node reads it: if it holds our value (and, ephemeral, our session
 *   owns it), our first attempt landed and the create succeeded. A delete
 *   sent again that finds no node succeeded. zk_verdict is that decision.
 * - The library never learns that a session expired while it cannot reach
 *   the server; the server expires it once the session timeout passes
 *   without a word from us. So a disconnection that lasts one negotiated
 *   session timeout (a deadline, started at the disconnection) is taken as
 *   the expiry it surely is by then, and handled as the server's would be.
 */
#include "zk.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zookeeper/zookeeper.h>

typedef struct zk_conn zk_conn;
typedef struct zk_req zk_req;
typedef struct zk_wctx zk_wctx;
typedef struct zk_msg zk_msg;
typedef struct zk_eph zk_eph;

enum msg_kind { MSG_SESSION, MSG_WATCH, MSG_DONE };

/* What crosses from the library's threads to the loop. */
struct zk_msg {
    zk_msg *next;
    int kind;
    zk_conn *conn; /* MSG_SESSION */
    zk_wctx *wctx; /* MSG_WATCH */
    zk_req *req;   /* MSG_DONE */
    int state;     /* MSG_SESSION: the new state */
    int type;      /* MSG_WATCH: ZOO_CREATED_EVENT, ... */
    int rc;        /* MSG_DONE */
    int nomem;     /* MSG_DONE: the value could not be copied */
    char *value;   /* MSG_DONE of a get: a copy, NUL-terminated */
    size_t len;
    int64_t owner; /* MSG_DONE of a get: the node's ephemeral owner, or 0 */
};

enum conn_state { CONN_INIT, CONN_LIVE, CONN_CLOSING };

/* One zhandle_t: one server-side session. */
struct zk_conn {
    zk_session *s;
    zk_conn *next; /* in s->conns */
    zhandle_t *zh; /* written by the init work, read after it */
    int init_errno;
    uv_work_t work; /* init, then close */
    int state;
    int close_after_init;
    int early_state;  /* a session state seen before the init work ended */
    int connected;    /* has been connected at least once */
    int up;           /* connected now */
    unsigned epoch;   /* how many times it connected */
    zk_req *reqs;     /* calls given to the library, not yet completed */
    zk_wctx *watches; /* watch contexts the library may hold */
};

enum req_kind {
    REQ_CREATE,
    REQ_PARENT,
    REQ_EPHEMERAL,
    REQ_GET,
    REQ_SET,
    REQ_DELETE,
    REQ_EXISTS,
    REQ_ARM_EXISTS,
    REQ_ARM_GET,
};

/* One library call. The library's completion context. */
struct zk_req {
    zk_req *next, *prev; /* in conn->reqs or s->deferred */
    zk_session *s;
    zk_conn *conn; /* NULL while deferred */
    int kind;
    zk_msg msg;
    char *path;
    char *value;
    size_t len;
    unsigned flags;
    zk_done_cb done_cb;
    zk_get_cb get_cb;
    zk_exists_cb exists_cb;
    zk_watch_cb watch_cb;
    void *data;
    zk_wait *wait;  /* REQ_ARM_*: the wait, NULL once it ended */
    unsigned seq;   /* REQ_ARM_*: the arm it belongs to */
    zk_wctx *wctx;  /* REQ_EXISTS, REQ_ARM_EXISTS: the watch to set */
    unsigned order; /* when it was made: deferred calls are kept in this order */
    unsigned epoch; /* conn->epoch when it was given to the library */
    int retried;    /* sent again after a connection loss */
    int checking;   /* REQ_CREATE sent again found the node: reading it */
};

/* One watch: the library's watcher context. */
struct zk_wctx {
    zk_wctx *next, *prev; /* in conn->watches */
    zk_conn *conn;        /* read by the library's thread: never changes */
    zk_msg msg;
    int fired;      /* written by the library's thread only */
    int registered; /* the library holds it (its call succeeded) */
    zk_wait *wait;  /* the wait it serves, NULL once the wait ended */
    unsigned seq;
    zk_watch_cb watch_cb; /* a zk_exists watch */
    void *data;
    int told; /* watch_cb called */
};

struct zk_wait {
    zk_wait *next, *prev; /* in s->waits */
    zk_session *s;
    char *path;
    char **accept;
    uv_timer_t timer;
    zk_wait_cb cb;
    void *data;
    unsigned seq;
    int done;
    int canceled;
    char *last; /* the last value read */
    size_t last_len;
};

struct zk_eph {
    zk_eph *next;
    char *path;
    char *value;
    size_t len;
};

struct zk_session {
    uv_loop_t *loop;
    char *hosts;
    unsigned session_timeout_ms;
    unsigned connect_timeout_ms;
    zk_event_cb on_event;
    void *event_data;
    zk_connect_cb connect_cb; /* NULL once called */
    void *connect_data;
    uv_async_t async;
    uv_timer_t connect_timer;
    uv_timer_t expiry_timer; /* a disconnection as long as the session timeout */
    int handles;             /* open handles of ours, for the close */
    uv_mutex_t lock;         /* guards head, tail, lost_state */
    zk_msg *head, *tail;
    zk_conn *lost_state; /* a session event could not be queued */
    zk_conn *cur;        /* the current conn, NULL when dead */
    zk_conn *conns;      /* every conn not yet closed */
    zk_req *deferred;    /* calls waiting for a connection, in order */
    unsigned next_order;
    zk_wait *waits;
    zk_eph *ephemerals;
    int ever_connected;
    int dead; /* the first connection failed, or worse */
    int closing;
    zk_close_cb close_cb;
    void *close_data;
    int64_t session_id;
    unsigned negotiated_ms; /* the session timeout the server granted */
    char session_passwd[16];
    char err[256];
};

/* ---- the library's log ----------------------------------------------------- */

static volatile int g_log_on;
static zk_log_fn volatile g_log_fn;
static uv_once_t g_once = UV_ONCE_INIT;

static void lib_log(const char *line) {
    zk_log_fn fn = g_log_fn;
    if (!g_log_on)
        return;
    if (fn)
        fn(line);
    else
        fprintf(stderr, "zookeeper: %s\n", line);
}

static void init_once(void) {
    zoo_set_debug_level(ZOO_LOG_LEVEL_WARN);
}

void zk_set_log(int on, zk_log_fn fn) {
    g_log_fn = fn;
    g_log_on = on;
}

/* ---- small things ------------------------------------------------------------ */

static char *dup_bytes(const void *p, size_t len) {
    char *c = malloc(len + 1);
    if (c == NULL)
        return NULL;
    if (len > 0)
        memcpy(c, p, len);
    c[len] = '\0';
    return c;
}

static int valid_path(const char *path) {
    size_t n;
    if (path == NULL || path[0] != '/')
        return 0;
    n = strlen(path);
    if (n > 1 && path[n - 1] == '/')
        return 0;
    return strstr(path, "//") == NULL;
}

static int map_rc(zk_session *s, int rc, int nomem) {
    if (nomem)
        return UV_ENOMEM;
    switch (rc) {
    case ZOK: return 0;
    case ZNONODE: return ZK_ENONODE;
    case ZNODEEXISTS: return ZK_ENODEEXISTS;
    case ZNOTEMPTY: return ZK_ENOTEMPTY;
    case ZBADVERSION: return ZK_EBADVERSION;
    case ZCONNECTIONLOSS:
    case ZOPERATIONTIMEOUT: return ZK_ECONNLOSS;
    case ZSESSIONEXPIRED:
    case ZINVALIDSTATE: return ZK_EEXPIRED;
    case ZCLOSING: return s->closing ? UV_ECANCELED : s->dead ? UV_ENOTCONN : ZK_EEXPIRED;
    case ZNOAUTH:
    case ZAUTHFAILED: return ZK_ENOAUTH;
    case ZBADARGUMENTS: return ZK_EBADARGS;
    default:
        snprintf(s->err, sizeof(s->err), "ZooKeeper error %d: %s", rc, zerror(rc));
        return ZK_EAPI;
    }
}

int zk_value_matches(const char *const *accept, const char *value, size_t len) {
    size_t i, n;
    if (accept == NULL || value == NULL)
        return 0;
    for (i = 0; accept[i] != NULL; i++) {
        n = strlen(accept[i]);
        if (n > 0 && accept[i][n - 1] == '*') {
            if (len >= n - 1 && memcmp(value, accept[i], n - 1) == 0)
                return 1;
        } else if (len == n && memcmp(value, accept[i], n) == 0) {
            return 1;
        }
    }
    return 0;
}

const char *zk_session_error(const zk_session *s) {
    return s->err;
}

int64_t zk_session_id(const zk_session *s) {
    return s->session_id;
}

unsigned zk_session_timeout(const zk_session *s) {
    return s->negotiated_ms;
}

enum zk_verdict zk_verdict(enum zk_call call, int status, int retried, int gone, int *out) {
    *out = status;
    if (status == ZK_ECONNLOSS) {
        if (gone == 0)
            return ZK_VERDICT_RETRY;
        *out = gone;
        return ZK_VERDICT_DONE;
    }
    if (!retried)
        return ZK_VERDICT_DONE;
    /* The first attempt may have landed before its answer was lost. */
    if (call == ZK_CALL_CREATE && status == ZK_ENODEEXISTS)
        return ZK_VERDICT_CHECK;
    if (call == ZK_CALL_DELETE && status == ZK_ENONODE)
        *out = 0;
    return ZK_VERDICT_DONE;
}

int zk_session_identity(const zk_session *s, int64_t *id, char passwd[16]) {
    if (!s->ever_connected || s->cur == NULL || !s->cur->connected)
        return UV_ENOTCONN;
    *id = s->session_id;
    memcpy(passwd, s->session_passwd, 16);
    return 0;
}

/* ---- the queue: the only thing the library's threads touch ------------------- */

static void push(zk_session *s, zk_msg *m) {
    m->next = NULL;
    uv_mutex_lock(&s->lock);
    if (s->tail)
        s->tail->next = m;
    else
        s->head = m;
    s->tail = m;
    uv_mutex_unlock(&s->lock);
    uv_async_send(&s->async);
}

/* The handle's watcher: session events only. */
static void global_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx) {
    zk_conn *c = ctx;
    zk_msg *m;
    if (type != ZOO_SESSION_EVENT)
        return;
    m = calloc(1, sizeof(*m));
    if (m == NULL) {
        /* The loop will look at the handle's state instead. */
        uv_mutex_lock(&c->s->lock);
        c->s->lost_state = c;
        uv_mutex_unlock(&c->s->lock);
        uv_async_send(&c->s->async);
        return;
    }
    m->kind = MSG_SESSION;
    m->conn = c;
    m->state = state;
    push(c->s, m);
}

/* A watch's watcher. Session events reach every watcher: they are ignored
 * here without reading ctx, which may be gone by then. */
static void node_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx) {
    zk_wctx *w = ctx;
    if (type == ZOO_SESSION_EVENT || w->fired)
        return;
    w->fired = 1;
    w->msg.kind = MSG_WATCH;
    w->msg.wctx = w;
    w->msg.type = type;
    push(w->conn->s, &w->msg);
}

static void done_push(int rc, const void *data) {
    zk_req *r = (zk_req *)data;
    r->msg.kind = MSG_DONE;
    r->msg.req = r;
    r->msg.rc = rc;
    push(r->s, &r->msg);
}

static void void_done(int rc, const void *data) {
    done_push(rc, data);
}

static void string_done(int rc, const char *value, const void *data) {
    done_push(rc, data);
}

static void stat_done(int rc, const struct Stat *stat, const void *data) {
    done_push(rc, data);
}

static void data_done(int rc, const char *value, int len, const struct Stat *stat,
                      const void *data) {
    zk_req *r = (zk_req *)data;
    if (rc == ZOK) {
        r->msg.len = len > 0 ? (size_t)len : 0;
        r->msg.value = dup_bytes(value ? value : "", r->msg.len);
        r->msg.nomem = r->msg.value == NULL;
        r->msg.owner = stat != NULL ? stat->ephemeralOwner : 0;
    }
    done_push(rc, data);
}

/* ---- lists ------------------------------------------------------------------ */

#define LIST_ADD(head, x)       \
    do {                        \
        (x)->prev = NULL;       \
        (x)->next = (head);     \
        if (head)               \
            (head)->prev = (x); \
        (head) = (x);           \
    } while (0)
#define LIST_DEL(head, x)                \
    do {                                 \
        if ((x)->prev)                   \
            (x)->prev->next = (x)->next; \
        else                             \
            (head) = (x)->next;          \
        if ((x)->next)                   \
            (x)->next->prev = (x)->prev; \
        (x)->next = (x)->prev = NULL;    \
    } while (0)

static void free_req(zk_req *r) {
    free(r->path);
    free(r->value);
    free(r->msg.value);
    free(r);
}

static void free_wctx(zk_wctx *w) {
    free(w);
}

/* ---- requests -------------------------------------------------------------- */

static zk_req *new_req(zk_session *s, int kind, const char *path, const void *value, size_t len) {
    zk_req *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->s = s;
    r->kind = kind;
    r->path = strdup(path);
    r->len = len;
    if (value != NULL)
        r->value = dup_bytes(value, len);
    if (r->path == NULL || (value != NULL && r->value == NULL)) {
        free_req(r);
        return NULL;
    }
    return r;
}

static int conn_ready(zk_conn *c) {
    return c != NULL && c->state == CONN_LIVE;
}

/* Hands r to the library on c. Errors come back through the queue, so that
 * every request ends in one place and no callback runs inside the call. */
static void issue(zk_conn *c, zk_req *r) {
    int rc = ZSYSTEMERROR;
    int ephemeral = (r->flags & ZK_CREATE_EPHEMERAL) ? ZOO_EPHEMERAL : 0;
    int vlen = (int)r->len;

    r->conn = c;
    r->epoch = c->epoch;
    LIST_ADD(c->reqs, r);
    if (r->wctx != NULL) {
        r->wctx->conn = c;
        LIST_ADD(c->watches, r->wctx);
    }
    if (r->checking) {
        rc = zoo_aget(c->zh, r->path, 0, data_done, r);
        goto issued;
    }
    switch (r->kind) {
    case REQ_CREATE:
    case REQ_PARENT:
    case REQ_EPHEMERAL:
        rc = zoo_acreate(c->zh, r->path, r->value, r->value ? vlen : -1, &ZOO_OPEN_ACL_UNSAFE,
                         ephemeral, string_done, r);
        break;
    case REQ_GET:
    case REQ_ARM_GET: rc = zoo_aget(c->zh, r->path, 0, data_done, r); break;
    case REQ_SET: rc = zoo_aset(c->zh, r->path, r->value, vlen, -1, stat_done, r); break;
    case REQ_DELETE: rc = zoo_adelete(c->zh, r->path, -1, void_done, r); break;
    case REQ_EXISTS:
    case REQ_ARM_EXISTS:
        if (r->wctx != NULL)
            rc = zoo_awexists(c->zh, r->path, node_watcher, r->wctx, stat_done, r);
        else
            rc = zoo_aexists(c->zh, r->path, 0, stat_done, r);
        break;
    }
issued:
    if (rc != ZOK) {
        r->msg.kind = MSG_DONE;
        r->msg.req = r;
        r->msg.rc = rc;
        push(c->s, &r->msg);
    }
}

static int conn_up(zk_conn *c) {
    return conn_ready(c) && c->up;
}

/* Keeps r for the next connection, in the order the calls were made, so
 * that a call sent again goes before those made after it. */
static void defer(zk_session *s, zk_req *r) {
    zk_req **p = &s->deferred, *prev = NULL;
    r->conn = NULL;
    while (*p && (*p)->order <= r->order) {
        prev = *p;
        p = &(*p)->next;
    }
    r->prev = prev;
    r->next = *p;
    if (*p)
        (*p)->prev = r;
    *p = r;
}

static void submit(zk_session *s, zk_req *r) {
    if (r->order == 0)
        r->order = ++s->next_order;
    if (conn_up(s->cur))
        issue(s->cur, r);
    else
        defer(s, r);
}

/* Makes r ready to be sent again: its last answer is forgotten. */
static void req_reset(zk_req *r) {
    free(r->msg.value);
    r->msg.value = NULL;
    r->msg.len = 0;
    r->msg.nomem = 0;
    r->msg.owner = 0;
}

/* r lost its connection (r->conn, the current one): it goes again once the
 * library has reconnected, or at once if it already has. */
static void retry(zk_session *s, zk_req *r) {
    zk_conn *c = r->conn;
    if (r->wctx != NULL)
        LIST_DEL(c->watches, r->wctx); /* the library never held it */
    req_reset(r);
    r->retried = 1;
    if (conn_up(s->cur) && (s->cur != c || c->epoch != r->epoch))
        issue(s->cur, r);
    else
        defer(s, r);
}

static void flush_deferred(zk_session *s) {
    while (s->deferred && conn_up(s->cur)) {
        zk_req *r = s->deferred;
        LIST_DEL(s->deferred, r);
        issue(s->cur, r);
    }
}

/* ---- waits ----------------------------------------------------------------- */

static void wait_closed(uv_handle_t *h) {
    zk_wait *w = h->data;
    size_t i;
    for (i = 0; w->accept && w->accept[i]; i++)
        free(w->accept[i]);
    free(w->accept);
    free(w->path);
    free(w->last);
    free(w);
}

/* Forgets w in every request and watch that still points at it. */
static void detach_wait(zk_session *s, zk_wait *w) {
    zk_conn *c;
    zk_req *r;
    zk_wctx *x;
    for (c = s->conns; c; c = c->next) {
        for (r = c->reqs; r; r = r->next)
            if (r->wait == w)
                r->wait = NULL;
        for (x = c->watches; x; x = x->next)
            if (x->wait == w)
                x->wait = NULL;
    }
}

static void wait_end(zk_wait *w, int status, const char *value, size_t len) {
    zk_session *s = w->s;
    if (w->done)
        return;
    w->done = 1;
    LIST_DEL(s->waits, w);
    detach_wait(s, w);
    uv_timer_stop(&w->timer);
    w->cb(w->data, status, value, len);
    uv_close((uv_handle_t *)&w->timer, wait_closed);
}

/* Sets an exists-watch on w's path and, once set, reads the value. */
static void wait_arm(zk_wait *w) {
    zk_session *s = w->s;
    zk_req *r;
    zk_wctx *x;

    if (w->done || s->closing || !conn_ready(s->cur) || !s->cur->up)
        return; /* armed again on the next connection */
    r = new_req(s, REQ_ARM_EXISTS, w->path, NULL, 0);
    x = calloc(1, sizeof(*x));
    if (r == NULL || x == NULL) {
        free(x);
        if (r)
            free_req(r);
        wait_end(w, UV_ENOMEM, NULL, 0);
        return;
    }
    w->seq++;
    r->wait = w;
    r->seq = w->seq;
    x->wait = w;
    x->seq = w->seq;
    r->wctx = x;
    issue(s->cur, r);
}

static void arm_all(zk_session *s) {
    zk_wait *w, *next;
    for (w = s->waits; w; w = next) {
        next = w->next;
        wait_arm(w);
    }
}

static void wait_timeout(uv_timer_t *t) {
    zk_wait *w = t->data;
    if (w->canceled)
        wait_end(w, UV_ECANCELED, NULL, 0);
    else
        wait_end(w, UV_ETIMEDOUT, w->last, w->last_len);
}

/* The failures after which a wait waits for the next connection. */
static int transient(int rc) {
    return rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT || rc == ZSESSIONEXPIRED ||
           rc == ZINVALIDSTATE || rc == ZCLOSING;
}

static void wait_arm_done(zk_req *r) {
    zk_session *s = r->s;
    zk_wait *w = r->wait;
    zk_req *g;
    int rc = r->msg.rc;

    if (rc == ZOK || rc == ZNONODE) {
        r->wctx->registered = 1;
    } else {
        LIST_DEL(r->conn->watches, r->wctx);
        free_wctx(r->wctx);
    }
    if (w == NULL || w->done || r->seq != w->seq || r->conn != s->cur)
        return;
    if (rc == ZOK) {
        g = new_req(s, REQ_ARM_GET, w->path, NULL, 0);
        if (g == NULL) {
            wait_end(w, UV_ENOMEM, NULL, 0);
            return;
        }
        g->wait = w;
        g->seq = w->seq;
        issue(r->conn, g);
    } else if (rc != ZNONODE && !transient(rc)) {
        wait_end(w, map_rc(s, rc, 0), NULL, 0);
    }
}

static void wait_get_done(zk_req *r) {
    zk_session *s = r->s;
    zk_wait *w = r->wait;
    int rc = r->msg.rc;
    char *v;

    if (w == NULL || w->done)
        return;
    if (rc == ZOK && !r->msg.nomem) {
        /* Any read is news, even of an older arm. */
        v = dup_bytes(r->msg.value, r->msg.len);
        if (v != NULL) {
            free(w->last);
            w->last = v;
            w->last_len = r->msg.len;
        }
        if (zk_value_matches((const char *const *)w->accept, r->msg.value, r->msg.len))
            wait_end(w, 0, r->msg.value, r->msg.len);
    } else if (rc != ZNONODE && !transient(rc) && r->seq == w->seq) {
        wait_end(w, map_rc(s, rc, r->msg.nomem), NULL, 0);
    }
}

/* ---- ephemerals -------------------------------------------------------------- */

static void eph_remember(zk_session *s, const char *path, const char *value, size_t len) {
    zk_eph *e;
    char *v = dup_bytes(value ? value : "", value ? len : 0);
    if (v == NULL)
        return;
    for (e = s->ephemerals; e; e = e->next) {
        if (strcmp(e->path, path) == 0) {
            free(e->value);
            e->value = v;
            e->len = value ? len : 0;
            return;
        }
    }
    e = calloc(1, sizeof(*e));
    if (e == NULL || (e->path = strdup(path)) == NULL) {
        free(e);
        free(v);
        return;
    }
    e->value = v;
    e->len = value ? len : 0;
    e->next = s->ephemerals;
    s->ephemerals = e;
}

static void eph_update(zk_session *s, const char *path, const char *value, size_t len,
                       int deleted) {
    zk_eph **p, *e;
    for (p = &s->ephemerals; (e = *p) != NULL; p = &e->next) {
        if (strcmp(e->path, path) != 0)
            continue;
        if (deleted) {
            *p = e->next;
            free(e->path);
            free(e->value);
            free(e);
        } else {
            eph_remember(s, path, value, len);
        }
        return;
    }
}

static void eph_recreate(zk_session *s) {
    zk_eph *e;
    zk_req *r;
    for (e = s->ephemerals; e; e = e->next) {
        r = new_req(s, REQ_EPHEMERAL, e->path, e->value, e->len);
        if (r == NULL)
            continue;
        r->flags = ZK_CREATE_EPHEMERAL;
        issue(s->cur, r);
    }
}

/* ---- completions on the loop ---------------------------------------------------- */

/* The call a request is, for zk_verdict; -1 for a wait's own reads. */
static int call_of(const zk_req *r) {
    if (r->checking)
        return ZK_CALL_GET;
    switch (r->kind) {
    case REQ_CREATE:
    case REQ_PARENT:
    case REQ_EPHEMERAL: return ZK_CALL_CREATE;
    case REQ_SET: return ZK_CALL_SET;
    case REQ_DELETE: return ZK_CALL_DELETE;
    case REQ_GET: return ZK_CALL_GET;
    case REQ_EXISTS: return ZK_CALL_EXISTS;
    default: return -1;
    }
}

/* Whether the node a create sent again found is the one it made. */
static int created_by_us(const zk_req *r) {
    int64_t owner = (r->flags & ZK_CREATE_EPHEMERAL) ? r->s->session_id : 0;
    return r->msg.value != NULL && r->msg.len == r->len &&
           (r->len == 0 || memcmp(r->msg.value, r->value, r->len) == 0) && r->msg.owner == owner;
}

/* Whether a call is done (it may be sent again, or be checked first). */
static int settle(zk_req *r, int *status) {
    zk_session *s = r->s;
    zk_conn *c = r->conn;
    int call = call_of(r);
    int gone;

    if (call < 0)
        return 1;
    /* A conn that is no longer current has been closed or expired. */
    gone = c != NULL && c == s->cur && conn_ready(c) && !s->closing && !s->dead ? 0
           : s->closing                                                         ? UV_ECANCELED
           : s->dead                                                            ? UV_ENOTCONN
                                                                                : ZK_EEXPIRED;
    switch (zk_verdict(call, *status, r->retried, gone, status)) {
    case ZK_VERDICT_RETRY: retry(s, r); return 0;
    case ZK_VERDICT_CHECK:
        if (r->kind != REQ_CREATE)
            return 1; /* a parent or a re-created ephemeral: "exists" is fine */
        req_reset(r);
        r->checking = 1;
        submit(s, r);
        return 0;
    case ZK_VERDICT_DONE: break;
    }
    if (r->checking) {
        if (*status == ZK_ENONODE && gone == 0) {
            /* Deleted since: create it after all. */
            req_reset(r);
            r->checking = 0;
            submit(s, r);
            return 0;
        }
        if (*status == 0)
            *status = created_by_us(r) ? 0 : ZK_ENODEEXISTS;
        else if (*status == ZK_ENONODE)
            *status = ZK_ENODEEXISTS;
    }
    return 1;
}

static void req_done(zk_req *r) {
    zk_session *s = r->s;
    int rc = r->msg.rc;
    int status = map_rc(s, rc, r->msg.nomem);
    zk_wctx *x = r->wctx;

    if (r->conn != NULL)
        LIST_DEL(r->conn->reqs, r);
    if (!settle(r, &status))
        return;
    switch (r->kind) {
    case REQ_ARM_EXISTS: wait_arm_done(r); break;
    case REQ_ARM_GET: wait_get_done(r); break;
    case REQ_PARENT: break;
    case REQ_EPHEMERAL:
        if (status != 0 && status != ZK_ENODEEXISTS && !transient(rc))
            snprintf(s->err, sizeof(s->err), "could not re-create ephemeral %s: %s", r->path,
                     hdc_strerror(status));
        break;
    case REQ_CREATE:
        if (status == 0 && (r->flags & ZK_CREATE_EPHEMERAL))
            eph_remember(s, r->path, r->value, r->len);
        r->done_cb(r->data, status);
        break;
    case REQ_SET:
        if (status == 0)
            eph_update(s, r->path, r->value, r->len, 0);
        r->done_cb(r->data, status);
        break;
    case REQ_DELETE:
        if (status == 0)
            eph_update(s, r->path, NULL, 0, 1);
        r->done_cb(r->data, status);
        break;
    case REQ_GET:
        r->get_cb(r->data, status, status == 0 ? r->msg.value : NULL, status == 0 ? r->msg.len : 0);
        break;
    case REQ_EXISTS:
        if (x != NULL) {
            if (rc == ZOK || rc == ZNONODE) {
                x->registered = 1;
            } else {
                LIST_DEL(r->conn->watches, x);
            }
        }
        r->exists_cb(r->data, rc == ZNONODE ? 0 : status, rc == ZOK);
        if (x != NULL && !x->registered) {
            /* The watch was never set: say so, once, after cb. */
            x->watch_cb(x->data, rc == ZNONODE ? 0 : status);
            free_wctx(x);
        }
        break;
    }
    free_req(r);
}

static void watch_fired(zk_wctx *x) {
    zk_conn *c = x->conn;
    zk_wait *w = x->wait;
    LIST_DEL(c->watches, x);
    if (x->watch_cb != NULL) {
        if (!x->told) {
            x->told = 1;
            x->watch_cb(x->data, 0);
        }
    } else if (w != NULL && !w->done && x->seq == w->seq && c == c->s->cur) {
        wait_arm(w);
    }
    free_wctx(x);
}

static void emit(zk_session *s, enum zk_event ev) {
    if (s->on_event)
        s->on_event(s->event_data, s, ev);
}

static void close_conn(zk_conn *c);
static int open_conn(zk_session *s);
static void fail_waits(zk_session *s, int status);

static void connect_done(zk_session *s, int status) {
    zk_connect_cb cb = s->connect_cb;
    if (cb == NULL)
        return;
    s->connect_cb = NULL;
    cb(s->connect_data, status, s);
}

static void fail_deferred(zk_session *s, int status);

/* "40 s", "2.5 s" */
static void format_seconds(char *buf, size_t len, unsigned ms) {
    if (ms % 1000 == 0)
        snprintf(buf, len, "%u s", ms / 1000);
    else
        snprintf(buf, len, "%.1f s", ms / 1000.0);
}

/* The session of c is gone (the server said so, or we could not reach it
 * for a whole session timeout): what was pending fails with ZK_EEXPIRED,
 * and a new session is made; waits and ephemerals follow it. */
static void expire(zk_conn *c, int ours) {
    zk_session *s = c->s;
    char t[32];
    int rc;

    c->up = 0;
    uv_timer_stop(&s->expiry_timer);
    format_seconds(t, sizeof(t), s->negotiated_ms ? s->negotiated_ms : s->session_timeout_ms);
    snprintf(s->err, sizeof(s->err),
             "ZooKeeper session 0x%" PRIx64 " at %s expired: %s for longer than the %s session "
             "timeout",
             (uint64_t)s->session_id, s->hosts,
             ours ? "ZooKeeper was unreachable" : "the server did not hear from this client", t);
    s->cur = NULL;
    close_conn(c);
    fail_deferred(s, ZK_EEXPIRED);
    emit(s, ZK_EVENT_EXPIRED);
    if (!s->closing && !s->dead && (rc = open_conn(s)) != 0) {
        snprintf(s->err, sizeof(s->err), "cannot renew the ZooKeeper session at %s: %s", s->hosts,
                 uv_strerror(rc));
        s->dead = 1;
        fail_deferred(s, rc);
        fail_waits(s, rc);
    }
}

static void expiry_deadline(uv_timer_t *t) {
    zk_session *s = t->data;
    zk_conn *c = s->cur;
    if (c == NULL || !conn_ready(c) || c->up || s->closing || s->dead)
        return;
    expire(c, 1);
}

static void session_state(zk_conn *c, int state) {
    zk_session *s = c->s;
    const clientid_t *id;
    int was_up = c->up;

    if (c != s->cur || s->closing)
        return;
    if (state == ZOO_CONNECTED_STATE || state == ZOO_READONLY_STATE) {
        c->up = 1;
        if (!was_up)
            c->epoch++;
        uv_timer_stop(&s->expiry_timer);
        id = zoo_client_id(c->zh);
        s->session_id = id->client_id;
        s->negotiated_ms = (unsigned)zoo_recv_timeout(c->zh);
        memcpy(s->session_passwd, id->passwd, sizeof(s->session_passwd));
        if (!c->connected) {
            c->connected = 1;
            if (!s->ever_connected) {
                s->ever_connected = 1;
                uv_timer_stop(&s->connect_timer);
                s->err[0] = '\0';
                connect_done(s, 0);
            } else {
                eph_recreate(s);
                emit(s, ZK_EVENT_RENEWED);
            }
        } else if (!was_up) {
            emit(s, ZK_EVENT_RECONNECTED);
        }
        if (!was_up && c == s->cur && !s->closing) {
            arm_all(s);
            flush_deferred(s);
        }
    } else if (state == ZOO_EXPIRED_SESSION_STATE) {
        expire(c, 0);
    } else if (state == ZOO_AUTH_FAILED_STATE) {
        c->up = 0;
        snprintf(s->err, sizeof(s->err), "ZooKeeper at %s refused the authentication", s->hosts);
        s->dead = 1;
        s->cur = NULL;
        close_conn(c);
        connect_done(s, ZK_ENOAUTH);
        fail_deferred(s, ZK_ENOAUTH);
        fail_waits(s, ZK_ENOAUTH);
    } else {
        /* CONNECTING, ASSOCIATING, NOTCONNECTED: the library reconnects. */
        c->up = 0;
        if (was_up) {
            uv_timer_start(&s->expiry_timer, expiry_deadline,
                           s->negotiated_ms ? s->negotiated_ms : s->session_timeout_ms, 0);
            emit(s, ZK_EVENT_DISCONNECTED);
        }
    }
}

static void drain(zk_session *s) {
    zk_msg *m, *next;
    zk_conn *lost;

    for (;;) {
        uv_mutex_lock(&s->lock);
        m = s->head;
        s->head = s->tail = NULL;
        lost = s->lost_state;
        s->lost_state = NULL;
        uv_mutex_unlock(&s->lock);
        if (m == NULL && lost == NULL)
            return;
        if (lost != NULL && lost->state != CONN_INIT && lost->zh != NULL)
            session_state(lost, zoo_state(lost->zh));
        for (; m; m = next) {
            next = m->next;
            switch (m->kind) {
            case MSG_SESSION:
                if (m->conn->state == CONN_INIT)
                    m->conn->early_state = m->state;
                else
                    session_state(m->conn, m->state);
                free(m);
                break;
            case MSG_WATCH: watch_fired(m->wctx); break;
            case MSG_DONE: req_done(m->req); break;
            }
        }
    }
}

static void on_async(uv_async_t *a) {
    drain(a->data);
}

/* ---- conns: init and close on the thread pool ------------------------------------ */

static void finish_close(zk_session *s);

static void init_work(uv_work_t *w) {
    zk_conn *c = w->data;
    errno = 0;
    c->zh = zookeeper_init2(c->s->hosts, global_watcher, (int)c->s->session_timeout_ms, NULL, c, 0,
                            lib_log);
    c->init_errno = errno;
}

/* Calls made from the callbacks go to a new list: they are not failed. */
static void fail_deferred(zk_session *s, int status) {
    zk_req *list = s->deferred;
    s->deferred = NULL;
    while (list) {
        zk_req *r = list;
        list = r->next;
        r->next = r->prev = NULL;
        r->conn = NULL;
        r->msg.rc = ZSYSTEMERROR;
        switch (r->kind) {
        case REQ_CREATE:
        case REQ_SET:
        case REQ_DELETE: r->done_cb(r->data, status); break;
        case REQ_GET: r->get_cb(r->data, status, NULL, 0); break;
        case REQ_EXISTS:
            r->exists_cb(r->data, status, 0);
            if (r->wctx) {
                r->wctx->watch_cb(r->wctx->data, status);
                free_wctx(r->wctx);
                r->wctx = NULL;
            }
            break;
        default: break;
        }
        free_req(r);
    }
}

static void fail_waits(zk_session *s, int status) {
    while (s->waits)
        wait_end(s->waits, status, NULL, 0);
}

static void conn_free(zk_conn *c) {
    zk_session *s = c->s;
    zk_conn **p;
    for (p = &s->conns; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            break;
        }
    }
    free(c);
    if (s->conns == NULL && s->closing)
        finish_close(s);
}

static void after_init(uv_work_t *w, int status) {
    zk_conn *c = w->data;
    zk_session *s = c->s;

    if (c->zh == NULL) {
        /* The library says ENOENT when a name does not resolve, EINVAL for
         * a malformed host list. */
        if (c->init_errno == ENOENT)
            snprintf(s->err, sizeof(s->err), "cannot resolve the ZooKeeper hosts %s", s->hosts);
        else if (c->init_errno == EINVAL || c->init_errno == 0)
            snprintf(s->err, sizeof(s->err),
                     "invalid ZooKeeper host list \"%s\" "
                     "(expected host:port[,host:port...])",
                     s->hosts);
        else
            snprintf(s->err, sizeof(s->err), "cannot start a ZooKeeper client for %s: %s", s->hosts,
                     strerror(c->init_errno));
        if (s->cur == c)
            s->cur = NULL;
        if (!s->closing) {
            s->dead = 1;
            uv_timer_stop(&s->connect_timer);
            connect_done(s, c->init_errno == ENOENT                         ? UV_EAI_NONAME
                            : c->init_errno == EINVAL || c->init_errno == 0 ? UV_EINVAL
                                                                            : -c->init_errno);
            fail_deferred(s, UV_ENOTCONN);
            fail_waits(s, UV_ENOTCONN);
        }
        conn_free(c);
        return;
    }
    c->state = CONN_LIVE;
    if (c->close_after_init || s->closing || c != s->cur) {
        close_conn(c);
        return;
    }
    if (c->early_state)
        session_state(c, c->early_state);
    flush_deferred(s);
}

/* Starts a new conn as s->cur. On failure nothing has been called. */
static int open_conn(zk_session *s) {
    zk_conn *c = calloc(1, sizeof(*c));
    int rc;
    if (c == NULL)
        return UV_ENOMEM;
    c->s = s;
    c->state = CONN_INIT;
    c->work.data = c;
    rc = uv_queue_work(s->loop, &c->work, init_work, after_init);
    if (rc != 0) {
        free(c);
        return rc;
    }
    c->next = s->conns;
    s->conns = c;
    s->cur = c;
    return 0;
}

static void close_work(uv_work_t *w) {
    zk_conn *c = w->data;
    zookeeper_close(c->zh);
}

static void after_close(uv_work_t *w, int status) {
    zk_conn *c = w->data;
    zk_session *s = c->s;
    int err = s->closing ? UV_ECANCELED : s->dead ? UV_ENOTCONN : ZK_EEXPIRED;

    /* The library's threads are gone: whatever it had to say is queued. */
    c->zh = NULL;
    drain(s);
    while (c->reqs) {
        zk_req *r = c->reqs;
        r->msg.rc = ZCLOSING;
        req_done(r);
    }
    while (c->watches) {
        zk_wctx *x = c->watches;
        LIST_DEL(c->watches, x);
        if (x->watch_cb != NULL && !x->told) {
            x->told = 1;
            x->watch_cb(x->data, err);
        }
        free_wctx(x);
    }
    conn_free(c);
}

static void close_conn(zk_conn *c) {
    zk_session *s = c->s;
    zk_wctx *x;
    int err;

    if (c->state == CONN_INIT) {
        c->close_after_init = 1;
        return;
    }
    if (c->state == CONN_CLOSING)
        return;
    c->state = CONN_CLOSING;
    c->up = 0;
    /* The server dropped its watches with the session: tell their owners now. */
    if (!s->closing) {
        err = s->dead ? UV_ENOTCONN : ZK_EEXPIRED;
        for (x = c->watches; x; x = x->next) {
            if (x->watch_cb != NULL && !x->told) {
                x->told = 1;
                x->watch_cb(x->data, err);
            }
        }
    }
    if (uv_queue_work(s->loop, &c->work, close_work, after_close) != 0) {
        /* Cannot happen with a valid loop; run it here rather than leak. */
        close_work(&c->work);
        after_close(&c->work, 0);
    }
}

/* ---- the session --------------------------------------------------------------- */

static void session_closed(uv_handle_t *h);

static void connect_timeout(uv_timer_t *t) {
    zk_session *s = t->data;
    unsigned ms = s->connect_timeout_ms;
    zk_conn *c = s->cur;

    if (s->ever_connected || s->closing)
        return;
    if (ms % 1000 == 0)
        snprintf(s->err, sizeof(s->err), "ZooKeeper at %s did not answer within %u s", s->hosts,
                 ms / 1000);
    else
        snprintf(s->err, sizeof(s->err), "ZooKeeper at %s did not answer within %.1f s", s->hosts,
                 ms / 1000.0);
    s->dead = 1;
    s->cur = NULL;
    if (c != NULL)
        close_conn(c);
    connect_done(s, UV_ETIMEDOUT);
    fail_deferred(s, UV_ENOTCONN);
    fail_waits(s, UV_ENOTCONN);
}

int zk_connect(uv_loop_t *loop, const zk_options *opts, zk_session **out, zk_connect_cb cb,
               void *data) {
    zk_session *s;
    int rc;

    if (loop == NULL || opts == NULL || opts->hosts == NULL || opts->hosts[0] == '\0' ||
        out == NULL || cb == NULL)
        return UV_EINVAL;
    uv_once(&g_once, init_once);
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return UV_ENOMEM;
    s->loop = loop;
    s->hosts = strdup(opts->hosts);
    if (s->hosts == NULL) {
        free(s);
        return UV_ENOMEM;
    }
    s->session_timeout_ms =
        opts->session_timeout_ms ? opts->session_timeout_ms : ZK_SESSION_TIMEOUT_DEFAULT_MS;
    s->connect_timeout_ms = opts->connect_timeout_ms ? opts->connect_timeout_ms : 10000;
    s->on_event = opts->on_event;
    s->event_data = opts->event_data;
    s->connect_cb = cb;
    s->connect_data = data;
    rc = uv_mutex_init(&s->lock);
    if (rc != 0)
        goto fail_mutex;
    rc = uv_async_init(loop, &s->async, on_async);
    if (rc != 0)
        goto fail_async;
    s->async.data = s;
    uv_timer_init(loop, &s->connect_timer);
    s->connect_timer.data = s;
    uv_timer_init(loop, &s->expiry_timer);
    s->expiry_timer.data = s;
    s->handles = 3;
    rc = open_conn(s);
    if (rc != 0)
        goto fail_open;
    uv_timer_start(&s->connect_timer, connect_timeout, s->connect_timeout_ms, 0);
    *out = s;
    return 0;

fail_open:
    /* Nothing ran yet: the handles close on the loop, s is freed after. */
    s->connect_cb = NULL;
    s->closing = 1;
    uv_close((uv_handle_t *)&s->connect_timer, session_closed);
    uv_close((uv_handle_t *)&s->expiry_timer, session_closed);
    uv_close((uv_handle_t *)&s->async, session_closed);
    return rc;

fail_async:
    uv_mutex_destroy(&s->lock);
fail_mutex:
    free(s->hosts);
    free(s);
    return rc;
}

static void session_closed(uv_handle_t *h) {
    zk_session *s = h->data;
    zk_eph *e;
    if (--s->handles > 0)
        return;
    while ((e = s->ephemerals) != NULL) {
        s->ephemerals = e->next;
        free(e->path);
        free(e->value);
        free(e);
    }
    uv_mutex_destroy(&s->lock);
    if (s->close_cb)
        s->close_cb(s->close_data, s);
    free(s->hosts);
    free(s);
}

static void finish_close(zk_session *s) {
    drain(s);
    connect_done(s, UV_ECANCELED);
    fail_deferred(s, UV_ECANCELED);
    fail_waits(s, UV_ECANCELED);
    uv_close((uv_handle_t *)&s->connect_timer, session_closed);
    uv_close((uv_handle_t *)&s->expiry_timer, session_closed);
    uv_close((uv_handle_t *)&s->async, session_closed);
}

int zk_close(zk_session *s, zk_close_cb cb, void *data) {
    zk_conn *c, *next;
    if (s == NULL)
        return UV_EINVAL;
    if (s->closing)
        return UV_EALREADY;
    s->closing = 1;
    s->close_cb = cb;
    s->close_data = data;
    uv_timer_stop(&s->connect_timer);
    uv_timer_stop(&s->expiry_timer);
    s->cur = NULL;
    if (s->conns == NULL) {
        finish_close(s);
        return 0;
    }
    for (c = s->conns; c; c = next) {
        next = c->next;
        close_conn(c);
    }
    return 0;
}

/* ---- the calls ------------------------------------------------------------------ */

static int check(zk_session *s, const char *path) {
    if (s == NULL)
        return UV_EINVAL;
    if (s->closing)
        return UV_EINVAL;
    if (s->dead)
        return UV_ENOTCONN;
    if (!valid_path(path))
        return ZK_EBADARGS;
    return 0;
}

int zk_create(zk_session *s, const char *path, const void *value, size_t len, unsigned flags,
              zk_done_cb cb, void *data) {
    zk_req *r, *p;
    char *parent;
    size_t i;
    int rc = check(s, path);

    if (rc != 0)
        return rc;
    if (cb == NULL || len > INT32_MAX)
        return UV_EINVAL;
    r = new_req(s, REQ_CREATE, path, value ? value : "", value ? len : 0);
    if (r == NULL)
        return UV_ENOMEM;
    r->flags = flags;
    r->done_cb = cb;
    r->data = data;
    if (flags & ZK_CREATE_PARENTS) {
        /* A session's requests are served in order, so the parents exist
         * (or failed to) before the node is created; their own errors
         * (mostly "exists") do not matter. */
        parent = strdup(path);
        if (parent == NULL) {
            free_req(r);
            return UV_ENOMEM;
        }
        for (i = 1; parent[i]; i++) {
            if (parent[i] != '/')
                continue;
            parent[i] = '\0';
            p = new_req(s, REQ_PARENT, parent, "", 0);
            parent[i] = '/';
            if (p == NULL) {
                free(parent);
                free_req(r);
                return UV_ENOMEM;
            }
            submit(s, p);
        }
        free(parent);
    }
    submit(s, r);
    return 0;
}

int zk_get(zk_session *s, const char *path, zk_get_cb cb, void *data) {
    zk_req *r;
    int rc = check(s, path);
    if (rc != 0)
        return rc;
    if (cb == NULL)
        return UV_EINVAL;
    r = new_req(s, REQ_GET, path, NULL, 0);
    if (r == NULL)
        return UV_ENOMEM;
    r->get_cb = cb;
    r->data = data;
    submit(s, r);
    return 0;
}

int zk_set(zk_session *s, const char *path, const void *value, size_t len, zk_done_cb cb,
           void *data) {
    zk_req *r;
    int rc = check(s, path);
    if (rc != 0)
        return rc;
    if (cb == NULL || len > INT32_MAX)
        return UV_EINVAL;
    r = new_req(s, REQ_SET, path, value ? value : "", value ? len : 0);
    if (r == NULL)
        return UV_ENOMEM;
    r->done_cb = cb;
    r->data = data;
    submit(s, r);
    return 0;
}

int zk_delete(zk_session *s, const char *path, zk_done_cb cb, void *data) {
    zk_req *r;
    int rc = check(s, path);
    if (rc != 0)
        return rc;
    if (cb == NULL)
        return UV_EINVAL;
    r = new_req(s, REQ_DELETE, path, NULL, 0);
    if (r == NULL)
        return UV_ENOMEM;
    r->done_cb = cb;
    r->data = data;
    submit(s, r);
    return 0;
}

int zk_exists(zk_session *s, const char *path, zk_exists_cb cb, zk_watch_cb watch_cb, void *data) {
    zk_req *r;
    zk_wctx *x = NULL;
    int rc = check(s, path);
    if (rc != 0)
        return rc;
    if (cb == NULL)
        return UV_EINVAL;
    r = new_req(s, REQ_EXISTS, path, NULL, 0);
    if (r == NULL)
        return UV_ENOMEM;
    if (watch_cb != NULL) {
        x = calloc(1, sizeof(*x));
        if (x == NULL) {
            free_req(r);
            return UV_ENOMEM;
        }
        x->watch_cb = watch_cb;
        x->data = data;
    }
    r->exists_cb = cb;
    r->data = data;
    r->wctx = x;
    submit(s, r);
    return 0;
}

int zk_wait_for(zk_session *s, const char *path, const char *const *accept, uint64_t timeout_ms,
                zk_wait_cb cb, void *data, zk_wait **out) {
    zk_wait *w;
    size_t i, n = 0;
    int rc = check(s, path);

    if (rc != 0)
        return rc;
    if (cb == NULL || accept == NULL || accept[0] == NULL)
        return UV_EINVAL;
    while (accept[n])
        n++;
    w = calloc(1, sizeof(*w));
    if (w == NULL)
        return UV_ENOMEM;
    w->s = s;
    w->cb = cb;
    w->data = data;
    w->path = strdup(path);
    w->accept = calloc(n + 1, sizeof(*w->accept));
    if (w->path == NULL || w->accept == NULL)
        goto nomem;
    for (i = 0; i < n; i++)
        if ((w->accept[i] = strdup(accept[i])) == NULL)
            goto nomem;
    uv_timer_init(s->loop, &w->timer);
    w->timer.data = w;
    if (timeout_ms > 0)
        uv_timer_start(&w->timer, wait_timeout, timeout_ms, 0);
    LIST_ADD(s->waits, w);
    wait_arm(w);
    if (out)
        *out = w;
    return 0;

nomem:
    for (i = 0; w->accept && w->accept[i]; i++)
        free(w->accept[i]);
    free(w->accept);
    free(w->path);
    free(w);
    return UV_ENOMEM;
}

int zk_wait_cancel(zk_wait *w) {
    if (w == NULL || w->done || w->canceled)
        return UV_EINVAL;
    w->canceled = 1;
    uv_timer_stop(&w->timer);
    return uv_timer_start(&w->timer, wait_timeout, 0, 0);
}
