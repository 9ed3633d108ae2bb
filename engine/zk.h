/* ZooKeeper sessions on the libuv loop, over libzookeeper-mt.
 *
 * A zk_session is one logical session with a ZooKeeper ensemble. The
 * library's threads never reach the caller: every callback below runs on
 * the loop thread. When the server expires the session, the wrapper makes
 * a new one by itself, re-creates the ephemeral nodes it created, re-arms
 * every zk_wait_for and re-reads the values, and says so through
 * zk_options.on_event.
 *
 * While the session lives, a lost connection is not an error: a call in
 * flight when it broke, or made while it is down, is sent (again) once the
 * library has reconnected; waits re-arm. A session expires when ZooKeeper
 * says so, or when it could not be reached for one whole session timeout
 * (the server has expired it by then): every call pending then fails with
 * ZK_EEXPIRED, and zk_session_error says why.
 *
 * Conventions, as in libuv: every call returns 0 or a negative error (a
 * libuv errno or one of the ZK_E* codes below). When a call that takes a
 * callback fails, the callback is never called; when it succeeds, the
 * callback is called exactly once, never from inside the call. Strings
 * given to a call are copied; pointers given to a callback are borrowed,
 * valid only during that callback.
 */
#ifndef HDC_ZK_H
#define HDC_ZK_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "err.h" /* ZK_E*: the errors of this module */

/* Errors: ZooKeeper's answers are ZK_E* (err.h); timeouts are UV_ETIMEDOUT;
 * operations stopped by zk_close get UV_ECANCELED. Calls never end with
 * ZK_ECONNLOSS: they wait for the connection to come back, or for the
 * session to expire (ZK_EEXPIRED). */

/* The session timeout asked for when zk_options gives none: long enough to
 * ride out a 20 s outage of ZooKeeper (the server grants at most its
 * maxSessionTimeout: clusters/zookeeper/zoo.cfg allows 60 s). */
#define ZK_SESSION_TIMEOUT_DEFAULT_MS 40000

typedef struct zk_session zk_session;
typedef struct zk_wait zk_wait;

/* What happened to the connection, told to zk_options.on_event. */
enum zk_event {
    ZK_EVENT_DISCONNECTED, /* the connection broke; the library reconnects, and
                              calls wait for it */
    ZK_EVENT_RECONNECTED,  /* the same session is back */
    ZK_EVENT_EXPIRED,      /* the server expired the session, or could not be
                              reached for a whole session timeout: ephemeral
                              nodes are gone, pending calls failed with
                              ZK_EEXPIRED; a new session is being made */
    ZK_EVENT_RENEWED,      /* a new session is up: ephemerals re-created,
                              waits re-armed and their values re-read */
};

typedef void (*zk_event_cb)(void *data, zk_session *s, enum zk_event ev);
typedef void (*zk_connect_cb)(void *data, int status, zk_session *s);
typedef void (*zk_close_cb)(void *data, zk_session *s);
typedef void (*zk_done_cb)(void *data, int status);
/* value is NUL-terminated (ZooKeeper values may also hold NULs: use len). */
typedef void (*zk_get_cb)(void *data, int status, const char *value, size_t len);
typedef void (*zk_exists_cb)(void *data, int status, int exists);
/* The node was created, deleted or changed (status 0), or the watch is gone
 * without an event: ZK_EEXPIRED, UV_ECANCELED. */
typedef void (*zk_watch_cb)(void *data, int status);
/* status 0: value is the accepted value read. UV_ETIMEDOUT: value is the
 * last value read (NULL if the node never existed). Other errors: value is
 * NULL. */
typedef void (*zk_wait_cb)(void *data, int status, const char *value, size_t len);

typedef struct zk_options {
    const char *hosts;           /* "host:port[,host:port...]" */
    unsigned session_timeout_ms; /* 0: ZK_SESSION_TIMEOUT_DEFAULT_MS (the server
                                    may clamp it: see zk_session_timeout) */
    unsigned connect_timeout_ms; /* deadline of the first connection; 0: 10000 */
    zk_event_cb on_event;        /* optional */
    void *event_data;
} zk_options;

/* Starts a session. *out is set at once and stays valid until the close
 * callback of zk_close, which the caller must call even if the connection
 * fails. cb gets 0 once connected, or UV_ETIMEDOUT when no server answered
 * within connect_timeout_ms (the session is then dead: only zk_close is
 * left), or UV_ECANCELED if zk_close came first. zk_strerror_session tells
 * the reason in words. */
int zk_connect(uv_loop_t *loop, const zk_options *opts, zk_session **out, zk_connect_cb cb,
               void *data);

/* Ends the session: pending operations and waits complete with UV_ECANCELED
 * (or their real result, if it came first), ephemeral nodes go away, then
 * cb runs and s is freed. The library's blocking close runs on the thread
 * pool. Returns UV_EALREADY if called twice. */
int zk_close(zk_session *s, zk_close_cb cb, void *data);

/* A message for the last failure of the session, e.g. "ZooKeeper at
 * 127.0.0.1:1 did not answer within 5 s", or after an expiry "ZooKeeper
 * session 0x... at HOSTS expired: ZooKeeper was unreachable for longer than
 * the 40 s session timeout"; "" if none. Borrowed. */
const char *zk_session_error(const zk_session *s);
/* The current session id (0 before the first connection). */
int64_t zk_session_id(const zk_session *s);
/* The session timeout the server granted, in ms (0 before the first
 * connection). */
unsigned zk_session_timeout(const zk_session *s);
/* The current session's id and password (16 bytes), for tests that force
 * an expiry by taking the session over. UV_ENOTCONN before a connection. */
int zk_session_identity(const zk_session *s, int64_t *id, char passwd[16]);
enum zk_create_flags {
    ZK_CREATE_PARENTS = 1 << 0,   /* create missing parents (empty values) */
    ZK_CREATE_EPHEMERAL = 1 << 1, /* deleted when the session ends; re-created
                                     by the wrapper after an expiry */
};

/* A create sent again after a lost connection that finds the node holding
 * value (ephemeral: owned by this session) succeeds: its first attempt
 * landed. Any other node there is ZK_ENODEEXISTS. */
int zk_create(zk_session *s, const char *path, const void *value, size_t len, unsigned flags,
              zk_done_cb cb, void *data);
int zk_get(zk_session *s, const char *path, zk_get_cb cb, void *data);
/* Sets the value whatever its version. */
int zk_set(zk_session *s, const char *path, const void *value, size_t len, zk_done_cb cb,
           void *data);
int zk_delete(zk_session *s, const char *path, zk_done_cb cb, void *data);
/* Tells whether path exists. With watch_cb, also leaves a one-shot watch:
 * watch_cb is then called exactly once, after cb, with the node's next
 * event or the reason the watch is gone. Both get data. */
int zk_exists(zk_session *s, const char *path, zk_exists_cb cb, zk_watch_cb watch_cb, void *data);

/* Waits until path holds a value matching one of accept (a NULL-terminated
 * array, copied): "up" matches the value "up" exactly, "failed:*" every
 * value starting with "failed:", "*" any value. The node need not exist
 * yet. Built on watches: the watch is re-armed after every event and every
 * reconnection, and the value re-read after each re-arm, so a value
 * written while disconnected or expired is not missed (a value that is
 * overwritten again before it is read may be). timeout_ms 0: no deadline.
 * *out (optional) is valid until cb, for zk_wait_cancel. */
int zk_wait_for(zk_session *s, const char *path, const char *const *accept, uint64_t timeout_ms,
                zk_wait_cb cb, void *data, zk_wait **out);
/* Ends a wait early: its cb gets UV_ECANCELED (later, not from inside). */
int zk_wait_cancel(zk_wait *w);

/* Whether value matches one of the patterns of zk_wait_for. Pure. */
int zk_value_matches(const char *const *accept, const char *value, size_t len);

/* What becomes of a call once its answer, status (0 or an error), is in:
 * the decision behind "calls survive a lost connection", pure. retried:
 * the call was sent again after a connection loss. gone: 0 while the
 * session lives, else the error the calls of a gone session end with
 * (ZK_EEXPIRED, UV_ECANCELED, UV_ENOTCONN). DONE sets *out to the status
 * to report: a delete sent again that finds no node succeeded. CHECK: a
 * create sent again found its node, which is read to see whether it is
 * ours (the first attempt landed, its answer was lost). */
enum zk_call { ZK_CALL_CREATE, ZK_CALL_SET, ZK_CALL_DELETE, ZK_CALL_GET, ZK_CALL_EXISTS };
enum zk_verdict { ZK_VERDICT_DONE, ZK_VERDICT_RETRY, ZK_VERDICT_CHECK };
enum zk_verdict zk_verdict(enum zk_call call, int status, int retried, int gone, int *out);

/* The library's own log (connection attempts, errors) is dropped unless
 * this is set: then each line, at WARN or worse, goes to fn (which may run
 * on any thread) or, with fn NULL and on nonzero, to stderr. */
typedef void (*zk_log_fn)(const char *line);
void zk_set_log(int on, zk_log_fn fn);

#endif
