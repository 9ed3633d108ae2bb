/* Where a cluster's logs go: logs/<cluster>/<node>.log, one file per
 * container, written from the loop as the bytes arrive, with the last lines
 * kept in memory for failure messages ("the last 20 lines of its log").
 * And the classic move-aside of a previous run's logs.
 *
 * Conventions, as in libuv: calls return 0 or a negative error; a close
 * callback is called exactly once, never from inside the call.
 */
#ifndef HDC_LOGS_H
#define HDC_LOGS_H

#include <stddef.h>
#include <uv.h>

#define LOGS_TAIL_BYTES 16384 /* kept in memory per sink */

typedef struct logs_sink logs_sink;

/* Opens (creating; appending, or emptying it first with truncate) path on
 * the loop; bytes appended before the file is open are queued. An open that
 * fails is reported by logs_sink_error, and the sink then only keeps its
 * tail. */
int logs_sink_open(uv_loop_t *loop, const char *path, int truncate, logs_sink **out);

/* Appends buf[0..len) (copied): written in order, one write at a time. */
void logs_sink_append(logs_sink *s, const char *buf, size_t len);

/* The last `lines` complete or partial lines appended (at most
 * LOGS_TAIL_BYTES), copied to out (NUL-terminated, truncated to out_len).
 * Returns the length written. */
size_t logs_sink_tail(const logs_sink *s, unsigned lines, char *out, size_t out_len);

/* 0, or the first error opening or writing the file. */
int logs_sink_error(const logs_sink *s);

/* Writes what is queued, closes the file, then calls cb (optional) and
 * frees the sink. */
void logs_sink_close(logs_sink *s, void (*cb)(void *data), void *data);

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
