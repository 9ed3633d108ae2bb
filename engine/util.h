/* What several modules need and none owns: making directories, finding
 * the running executable, formatting a message into a caller's buffer,
 * growing an array. No I/O beyond the file system calls named here, so
 * every layer may use it (hdc-agent included).
 */
#ifndef HDC_UTIL_H
#define HDC_UTIL_H

#include <stddef.h>
#include <sys/types.h>

/* Creates path and its missing parents (like mkdir -p) with mode. 0, or
 * a negative errno naming the first failure. Blocking: the thread pool's,
 * or before the loop runs. */
int util_mkdir_p(const char *path, mode_t mode);

/* path made absolute against the current directory (not resolved: it
 * need not exist), malloc'd; NULL on ENOMEM or when there is no current
 * directory. */
char *util_abspath(const char *path);

/* Whether dir is, or mkdir -p could make it, a directory this process
 * may create files in, without making anything: 0, or a negative errno
 * (EACCES, ENOTDIR, EROFS...) of the path or of its nearest existing
 * parent. */
int util_writable_dir(const char *dir);

/* The running executable's path (/proc/self/exe), and its directory. 0,
 * or a negative errno; out is "" then. */
int util_self_path(char *out, size_t len);
int util_self_dir(char *out, size_t len);

/* Writes the message into err (nothing when err is NULL or err_len 0). */
void util_set_err(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The same, returning code: for
 * `return util_fail(err, err_len, PLAN_EINVAL, "...", ...)`. */
int util_fail(char *err, size_t err_len, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A malloc'd formatted string, or NULL on ENOMEM. */
char *util_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Makes room for `need` items of `size` bytes in the array *items points
 * at (a T **), whose capacity is *cap; grows it by doubling. 0, or
 * UV_ENOMEM with the array unchanged. */
int util_grow(void *items, size_t *cap, size_t need, size_t size);

#endif
