/* Where a cluster's logs go: logs/<cluster>/<node>.log, one file per
 * container, written from the loop as the bytes arrive, with the last lines
 * kept in memory for failure messages ("the last 20 lines of its log").
 * And the classic move-aside of a previous run's logs.
 *
 * Resuming (logs_sink_resume): each <host>.log has a cursor, the file
 * logs/<cluster>/.cursor/<host> (the log's name without ".log"), which
 * holds the Docker timestamp of the newest line written to the log, as
 * one line "2024-05-01T12:34:56.123456789Z\n" (UTC, nine digits: always
 * 31 bytes, rewritten in place). A writer that starts again asks Docker
 * for the lines since that time (Docker's since is inclusive) and drops
 * those at or before it, so that across stop/start, restarts of the
 * writer or of the engine no line is lost and none is written twice.
 * The cursor is written after the lines it covers: a writer killed
 * between the two writes leaves a cursor that is behind its log, and the
 * next one writes those lines (or the end of a line cut in the middle)
 * again: a line may then be written twice, never lost.
 *
 * One writer per cluster (logs_lock_take): whoever holds
 * logs/<cluster>/.writer.lock writes the cluster's files; a process that
 * cannot take it keeps only tails in memory (logs_sink_resume with a NULL
 * path).
 *
 * Conventions, as in libuv: calls return 0 or a negative error; a close
 * callback is called exactly once, never from inside the call.
 */
#ifndef HDC_LOGS_H
#define HDC_LOGS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define LOGS_TAIL_BYTES 16384 /* kept in memory per sink */

typedef struct logs_sink logs_sink;

/* Opens (creating; appending, or emptying it first with truncate) path on
 * the loop; bytes appended before the file is open are queued. An open that
 * fails is reported by logs_sink_error, and the sink then only keeps its
 * tail. */
int logs_sink_open(uv_loop_t *loop, const char *path, int truncate, logs_sink **out);

/* Appends buf[0..len) (copied): written in order, one write at a time. A
 * resuming sink (below) takes Docker's timestamped output: it splits it
 * into lines and writes them without their timestamps. */
void logs_sink_append(logs_sink *s, const char *buf, size_t len);

/* The last `lines` complete or partial lines appended (at most
 * LOGS_TAIL_BYTES), copied to out (NUL-terminated, truncated to out_len).
 * Returns the length written. */
size_t logs_sink_tail(const logs_sink *s, unsigned lines, char *out, size_t out_len);

/* 0, or the first error opening or writing the file. */
int logs_sink_error(const logs_sink *s);

/* Writes what is queued (a resuming sink: ends a cut line and persists
 * its cursor), closes the file, then calls cb (optional) and frees the
 * sink. */
void logs_sink_close(logs_sink *s, void (*cb)(void *data), void *data);

/* ---- Docker's timestamps, and resuming from a cursor ---------------------- */

/* A time as Docker stamps a log line: Unix seconds and nanoseconds.
 * {0, 0}: none (from the start). */
typedef struct logs_time {
    int64_t sec;
    int32_t nsec;
} logs_time;

#define LOGS_TIME_LEN 30 /* "2024-05-01T12:34:56.123456789Z" */

/* Parses RFC 3339 as Docker writes it with timestamps=1:
 * "YYYY-MM-DDTHH:MM:SS", an optional fraction of 1 to 9 digits, then "Z"
 * or "+HH:MM"/"-HH:MM"; years 1970 to 9999. The whole of buf[0..len) must
 * be the time. 0, or UV_EINVAL. Pure. */
int logs_time_parse(const char *buf, size_t len, logs_time *t);

/* <0, 0, >0 as a is before, at or after b. */
int logs_time_cmp(logs_time a, logs_time b);

/* t as LOGS_TIME_LEN characters (UTC, nine digits) and a NUL. */
void logs_time_format(logs_time t, char out[LOGS_TIME_LEN + 1]);

/* A cursor file's contents: one time (logs_time_parse), then only
 * whitespace. 0, or UV_EINVAL (a torn or foreign file: the caller then
 * starts from the beginning, which repeats lines but loses none). Pure. */
int logs_cursor_parse(const char *buf, size_t len, logs_time *t);

/* Docker's timestamped output, split into lines whatever its pieces:
 * each line's timestamp and the space after it are taken off, and a line
 * stamped at or before `after` is dropped (since is inclusive, and a
 * resumed stream starts at the cursor's line). A line whose start is not a
 * timestamp is kept whole (never lost). Lines within one stream are not
 * compared with each other: Docker stamps stdout and stderr apart, so
 * their order in its log is not always the order of their stamps. */
typedef struct logs_stamped {
    int state;
    char prefix[48]; /* the start of a line, until its space */
    size_t n_prefix;
    logs_time after; /* lines at or before it are dropped; {0,0}: none */
    logs_time line;  /* the current line's timestamp, {0,0} if it had none */
} logs_stamped;

/* A piece of a kept line without its timestamp (borrowed for the call);
 * end: the piece ends the line (its last byte is the '\n'); ts: the
 * line's timestamp, or NULL when it had none. */
typedef void (*logs_piece_fn)(void *data, const char *buf, size_t len, int end,
                              const logs_time *ts);

void logs_stamped_init(logs_stamped *p, logs_time after);
void logs_stamped_feed(logs_stamped *p, const char *buf, size_t len, logs_piece_fn fn, void *data);
/* The stream ended: a kept line it cut is ended with a '\n' (given to fn),
 * a timestamp not yet followed by its space is given as text; then ready
 * for the next line. */
void logs_stamped_end(logs_stamped *p, logs_piece_fn fn, void *data);

/* The cursor file of a log: <dir>/.cursor/<name without .log>. Malloc'd,
 * NULL when out of memory. */
char *logs_cursor_path(const char *log_path);

/* Called once a resuming sink knows where to start: status 0, or the
 * error opening the log (the sink then keeps only its tail, and
 * logs_sink_error says why); since: the time to ask Docker for lines
 * from (docker_logs_opts since/since_ns; {0,0}: from the start). Called
 * exactly once, never from inside logs_sink_resume, before a close's
 * callback (with UV_ECANCELED if the sink was closed first). */
typedef void (*logs_resume_cb)(void *data, int status, logs_time since);

/* A sink for Docker's output with timestamps=1 (docker_logs_opts
 * .timestamps): lines are split by the sink, stripped of their timestamp
 * (the file and the tail hold the bare lines) and those at or before the
 * cursor dropped (logs_stamped).
 *
 * persist 1: path is appended to, from its cursor (logs_cursor_path):
 * read asynchronously when the sink opens, and rewritten (one pwrite) after
 * each write of the log that completes lines, and at close, with the
 * newest of their timestamps. No cursor, an unreadable one, or an empty
 * or missing log: the log is emptied and written again from Docker's
 * whole log (since {0,0}): the lines in it all came from there.
 * persist 0: path is emptied first, and the cursor is only kept in memory
 * (logs_sink_next_stream), for `hdc logs --write-to`.
 * path NULL: no file, only the tail (a process without the cluster's
 * lock); since {0,0}.
 *
 * Append (logs_sink_append) only after cb: until then, nothing is
 * dropped. */
int logs_sink_resume(uv_loop_t *loop, const char *path, int persist, logs_resume_cb cb, void *data,
                     logs_sink **out);

/* Before another stream of the same container on a resuming sink (the
 * container started again, the engine came back): a line the last stream
 * cut is ended with a '\n', and from now on lines at or before the newest
 * line taken are dropped. Returns that time: the since of the new stream
 * ({0,0}: from the start). The first stream after cb may call it too (it
 * returns cb's since). */
logs_time logs_sink_next_stream(logs_sink *s);

/* ---- one writer per cluster ----------------------------------------------- */

typedef struct logs_lock logs_lock;

/* status 0: lock is held (the caller owns it until logs_lock_release);
 * UV_EBUSY: another process holds it (lock NULL); another error: the
 * directory or the lock file could not be made (lock NULL). */
typedef void (*logs_lock_cb)(void *data, int status, logs_lock *lock);

/* Takes the exclusive lock <dir>/.writer.lock (flock, not waiting),
 * creating dir (and its parents) and the file if need be, on the thread
 * pool (open and mkdir touch the disk), and writes the holder's pid into
 * it for people. The descriptor is close-on-exec: a child spawned by the
 * holder never inherits the lock. cb is called exactly once, never from
 * inside the call. Within one process a second take is UV_EBUSY as well. */
int logs_lock_take(uv_loop_t *loop, const char *dir, logs_lock_cb cb, void *data);

/* Releases the lock at once (flock LOCK_UN: the next take succeeds as soon
 * as this returns, so a writer may be spawned right after) and closes the
 * file on the thread pool; lock is freed then. The process ending
 * releases it too. */
void logs_lock_release(logs_lock *lock);

/* ---- moving a previous run aside ------------------------------------------ */

#define LOGS_KEEP_DEFAULT 5       /* moved copies of a cluster's logs kept */
#define LOGS_KEEP_MAX     1000000 /* HDC_LOGS_KEEP's largest value */

/* Before a fresh start of cluster: moves <root>/<cluster> aside to
 * <root>.backup.<pid>/<cluster> if it exists, then creates <root>/<cluster>;
 * then keeps the last $HDC_LOGS_KEEP (default LOGS_KEEP_DEFAULT) moved
 * copies of cluster's logs (logs_prune_backups). Blocking (file system
 * calls): run it on the thread pool. moved is set to 1 when the old logs
 * were moved and kept (not with HDC_LOGS_KEEP=0). Returns 0 or a negative
 * errno, with the path and the reason in err; UV_EINVAL, before anything
 * is moved, for an HDC_LOGS_KEEP that is not a number of copies. A copy
 * that cannot be pruned does not fail it. */
int logs_prepare_dir(const char *root, const char *cluster, int pid, int *moved, char *err,
                     size_t err_len);

/* HDC_LOGS_KEEP's value: NULL or "" gives LOGS_KEEP_DEFAULT; else digits
 * only, 0 to LOGS_KEEP_MAX. 0, or UV_EINVAL with what to do in err. Pure. */
int logs_keep_parse(const char *value, unsigned *keep, char *err, size_t err_len);

/* Removes all but the `keep` newest moved copies of cluster's logs, the
 * directories <root>.backup.<pid>/<cluster> (newest: the latest mtime of
 * that directory), and each <root>.backup.<pid> left empty by it.
 * Blocking. 0, or the first error (the others are still tried), with the
 * path and the reason in err. */
int logs_prune_backups(const char *root, const char *cluster, unsigned keep, char *err,
                       size_t err_len);

#endif
