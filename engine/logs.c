/* Log files of a cluster's containers, written on the loop.
 *
 * A sink has two buffers: one being written (at most one uv_fs_write in
 * flight, so bytes land in the order they came and the loop never waits on
 * the disk) and one filling with what arrives meanwhile; when a write
 * ends, the buffers swap. A fast log is written in large writes, not one
 * per Docker frame. A ring of the last LOGS_TAIL_BYTES answers "what did
 * this service say last" without reading the file back.
 *
 * Decisions a newcomer might question:
 * - A failure to open or write the file does not stop the cluster (the
 *   container's log is still in Docker): the sink keeps its tail, and the
 *   caller may report logs_sink_error once.
 * - Each fresh up moves the old logs to <root>.backup.<pid>/<cluster>, and
 *   would fill the disk over months of CI; so the move prunes too, per
 *   cluster, to the newest $HDC_LOGS_KEEP copies. Newest is by the mtime of
 *   the moved directory (the time its files were made: a run's start),
 *   not by pid, which wraps. Pruning is best effort: logs that cannot go
 *   never stop an up.
 */
#define _GNU_SOURCE /* nftw's FTW_DEPTH, FTW_PHYS */
#include "logs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

typedef struct logs_buf {
    char *data;
    size_t len, cap;
} logs_buf;

struct logs_sink {
    uv_loop_t *loop;
    uv_fs_t req;
    uv_file fd; /* -1 until open */
    int opening;
    int writing; /* `out` is being written */
    int error;
    logs_buf out, fill;

    char ring[LOGS_TAIL_BYTES];
    size_t ring_start; /* index of the oldest byte */
    size_t ring_len;

    int closing;
    void (*close_cb)(void *data);
    void *close_data;
};

static void sink_pump(logs_sink *s);

static void sink_free(logs_sink *s) {
    free(s->out.data);
    free(s->fill.data);
    if (s->close_cb != NULL)
        s->close_cb(s->close_data);
    free(s);
}

static void sink_closed(uv_fs_t *req) {
    logs_sink *s = req->data;

    uv_fs_req_cleanup(req);
    sink_free(s);
}

static void sink_written(uv_fs_t *req) {
    logs_sink *s = req->data;

    if (req->result < 0 && s->error == 0)
        s->error = (int)req->result;
    uv_fs_req_cleanup(req);
    s->writing = 0;
    s->out.len = 0;
    sink_pump(s);
}

static void sink_opened(uv_fs_t *req) {
    logs_sink *s = req->data;

    s->opening = 0;
    if (req->result < 0)
        s->error = (int)req->result;
    else
        s->fd = (uv_file)req->result;
    uv_fs_req_cleanup(req);
    sink_pump(s);
}

/* Starts the next write (everything filled so far), or finishes a close
 * once nothing is left. */
static void sink_pump(logs_sink *s) {
    if (s->opening || s->writing)
        return;
    if (s->fill.len > 0 && s->fd >= 0 && s->error == 0) {
        logs_buf t = s->out;
        uv_buf_t buf;
        s->out = s->fill;
        s->fill = t; /* the written buffer's storage fills next */
        s->fill.len = 0;
        buf = uv_buf_init(s->out.data, (unsigned)s->out.len);
        s->writing = 1;
        s->req.data = s;
        if (uv_fs_write(s->loop, &s->req, s->fd, &buf, 1, -1, sink_written) == 0)
            return;
        s->writing = 0;
        s->error = UV_EIO;
    }
    if (s->fd < 0 || s->error != 0)
        s->fill.len = 0; /* nothing can be written: keep only the tail */
    if (!s->closing || s->fill.len > 0)
        return;
    if (s->fd >= 0) {
        s->req.data = s;
        if (uv_fs_close(s->loop, &s->req, s->fd, sink_closed) == 0)
            return;
    }
    sink_free(s); /* only from a callback: closing never ends in the call */
}

int logs_sink_open(uv_loop_t *loop, const char *path, int truncate, logs_sink **out) {
    logs_sink *s = calloc(1, sizeof(*s));
    int err;

    if (s == NULL)
        return UV_ENOMEM;
    s->loop = loop;
    s->fd = -1;
    s->opening = 1;
    s->req.data = s;
    err = uv_fs_open(loop, &s->req, path,
                     O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0644,
                     sink_opened);
    if (err != 0) {
        free(s);
        return err;
    }
    *out = s;
    return 0;
}

static void ring_add(logs_sink *s, const char *buf, size_t len) {
    size_t end, first;

    if (len >= LOGS_TAIL_BYTES) {
        memcpy(s->ring, buf + len - LOGS_TAIL_BYTES, LOGS_TAIL_BYTES);
        s->ring_start = 0;
        s->ring_len = LOGS_TAIL_BYTES;
        return;
    }
    /* Copy in at most two pieces, then drop the oldest bytes that overflow. */
    end = (s->ring_start + s->ring_len) % LOGS_TAIL_BYTES;
    first = LOGS_TAIL_BYTES - end < len ? LOGS_TAIL_BYTES - end : len;
    memcpy(s->ring + end, buf, first);
    memcpy(s->ring, buf + first, len - first);
    s->ring_len += len;
    if (s->ring_len > LOGS_TAIL_BYTES) {
        s->ring_start = (s->ring_start + s->ring_len - LOGS_TAIL_BYTES) % LOGS_TAIL_BYTES;
        s->ring_len = LOGS_TAIL_BYTES;
    }
}

void logs_sink_append(logs_sink *s, const char *buf, size_t len) {
    if (len == 0 || s->closing)
        return;
    ring_add(s, buf, len);
    if (s->error != 0 || (s->fd < 0 && !s->opening))
        return;
    if (s->fill.len + len > s->fill.cap) {
        size_t cap = s->fill.cap ? s->fill.cap : 4096;
        char *p;
        while (cap < s->fill.len + len)
            cap *= 2;
        p = realloc(s->fill.data, cap);
        if (p == NULL) {
            s->error = UV_ENOMEM;
            return;
        }
        s->fill.data = p;
        s->fill.cap = cap;
    }
    memcpy(s->fill.data + s->fill.len, buf, len);
    s->fill.len += len;
    sink_pump(s);
}

size_t logs_sink_tail(const logs_sink *s, unsigned lines, char *out, size_t out_len) {
    size_t n = s->ring_len;
    size_t begin = 0; /* offset into the ring's logical contents */
    unsigned seen = 0;
    size_t len;

    if (out_len == 0)
        return 0;
    /* Walk back from the end: a final newline ends the last line, it does
     * not start another. */
    for (size_t i = n; i > 0; i--) {
        char ch = s->ring[(s->ring_start + i - 1) % LOGS_TAIL_BYTES];
        if (ch == '\n' && i != n && ++seen == lines) {
            begin = i;
            break;
        }
    }
    if (lines == 0)
        begin = n;
    len = n - begin;
    if (len > out_len - 1) {
        begin += len - (out_len - 1);
        len = out_len - 1;
    }
    for (size_t i = 0; i < len; i++)
        out[i] = s->ring[(s->ring_start + begin + i) % LOGS_TAIL_BYTES];
    out[len] = '\0';
    return len;
}

int logs_sink_error(const logs_sink *s) {
    return s->error;
}

void logs_sink_close(logs_sink *s, void (*cb)(void *data), void *data) {
    s->closing = 1;
    s->close_cb = cb;
    s->close_data = data;
    if (s->opening || s->writing)
        return; /* their callbacks pump, and the pump closes */
    /* Defer to the loop so cb never runs inside this call. */
    s->req.data = s;
    if (s->fd >= 0) {
        if (uv_fs_close(s->loop, &s->req, s->fd, sink_closed) == 0) {
            s->fd = -1;
            return;
        }
    }
    /* No file: a no-op request on the thread pool brings us back. */
    if (uv_fs_stat(s->loop, &s->req, "/", sink_closed) != 0)
        sink_free(s); /* cannot defer: the caller's cb runs now, the one exception */
}

static int fail(char *err, size_t err_len, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t err_len, int code, const char *fmt, ...) {
    va_list ap;

    if (err != NULL && err_len > 0) {
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return code;
}

int logs_keep_parse(const char *value, unsigned *keep, char *err, size_t err_len) {
    unsigned long n = 0;

    if (value == NULL || *value == '\0') {
        *keep = LOGS_KEEP_DEFAULT;
        return 0;
    }
    for (const char *s = value; *s != '\0' && n <= LOGS_KEEP_MAX; s++) {
        if (*s < '0' || *s > '9') {
            n = LOGS_KEEP_MAX + 1ul;
            break;
        }
        n = n * 10 + (unsigned long)(*s - '0');
    }
    if (n > LOGS_KEEP_MAX) {
        /* Quoted only if it is short printable ASCII: the message stays text. */
        int shown = strlen(value) <= 32;
        for (const char *s = value; shown && *s != '\0'; s++)
            shown = *s >= 0x20 && *s < 0x7f;
        return fail(err, err_len, UV_EINVAL,
                    "HDC_LOGS_KEEP%s%s%s: give a whole number from 0 to %d, the moved copies of "
                    "a cluster's logs kept (default %d)",
                    shown ? " '" : "", shown ? value : "", shown ? "'" : "", LOGS_KEEP_MAX,
                    LOGS_KEEP_DEFAULT);
    }
    *keep = (unsigned)n;
    return 0;
}

typedef struct moved_copy {
    char *dir;  /* <root>.backup.<pid>/<cluster> */
    char *root; /* <root>.backup.<pid> */
    struct timespec mtime;
} moved_copy;

/* Newest first; a tie by name, so that the order is the same each time. */
static int newest_first(const void *a, const void *b) {
    const moved_copy *x = a, *y = b;

    if (x->mtime.tv_sec != y->mtime.tv_sec)
        return x->mtime.tv_sec > y->mtime.tv_sec ? -1 : 1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec)
        return x->mtime.tv_nsec > y->mtime.tv_nsec ? -1 : 1;
    return strcmp(y->dir, x->dir);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    return remove(path) != 0 && errno != ENOENT ? -errno : 0;
}

/* "<base>.backup.<digits>" */
static int is_backup_of(const char *name, const char *base) {
    size_t n = strlen(base);
    const char *pid;

    if (strncmp(name, base, n) != 0 || strncmp(name + n, ".backup.", 8) != 0)
        return 0;
    pid = name + n + 8;
    return *pid != '\0' && strspn(pid, "0123456789") == strlen(pid);
}

int logs_prune_backups(const char *root, const char *cluster, unsigned keep, char *err,
                       size_t err_len) {
    const char *slash = strrchr(root, '/');
    char *parent = slash == NULL   ? strdup(".")
                   : slash == root ? strdup("/")
                                   : strndup(root, (size_t)(slash - root));
    const char *base = slash != NULL ? slash + 1 : root;
    moved_copy *list = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    DIR *d = NULL;
    int rc = 0;

    if (parent == NULL)
        return fail(err, err_len, UV_ENOMEM, "out of memory");
    if (*base == '\0')
        goto exit;
    d = opendir(parent);
    if (d == NULL) {
        rc = fail(err, err_len, -errno, "cannot read %s: %s", parent, strerror(errno));
        goto exit;
    }
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        moved_copy b;

        if (!is_backup_of(e->d_name, base))
            continue;
        b.root = slash != NULL ? util_asprintf("%s/%s", parent, e->d_name) : strdup(e->d_name);
        b.dir = b.root != NULL ? util_asprintf("%s/%s", b.root, cluster) : NULL;
        if (b.dir == NULL || lstat(b.dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            free(b.root);
            free(b.dir);
            continue;
        }
        b.mtime = st.st_mtim;
        if (n == cap) {
            size_t more = cap > 0 ? 2 * cap : 8;
            moved_copy *grown = realloc(list, more * sizeof(*list));
            if (grown == NULL) {
                free(b.root);
                free(b.dir);
                rc = fail(err, err_len, UV_ENOMEM, "out of memory");
                goto exit;
            }
            list = grown;
            cap = more;
        }
        list[n++] = b;
    }
    if (n > 1)
        qsort(list, n, sizeof(*list), newest_first);
    for (size_t i = keep; i < n; i++) {
        int r = nftw(list[i].dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        if (r == -1) /* nftw's own failure, or the callback's -EPERM */
            r = errno == ENOENT ? 0 : -errno;
        if (r != 0 && rc == 0)
            rc = fail(err, err_len, r, "cannot remove %s: %s", list[i].dir, strerror(-r));
        /* Its last cluster gone, the pid's directory goes too. */
        if (rmdir(list[i].root) != 0 && errno != ENOTEMPTY && errno != EEXIST && errno != ENOENT &&
            rc == 0)
            rc = fail(err, err_len, -errno, "cannot remove %s: %s", list[i].root, strerror(errno));
    }

exit:
    if (d != NULL)
        closedir(d);
    for (size_t i = 0; i < n; i++) {
        free(list[i].dir);
        free(list[i].root);
    }
    free(list);
    free(parent);
    return rc;
}

int logs_prepare_dir(const char *root, const char *cluster, int pid, int *moved, char *err,
                     size_t err_len) {
    char dir[4096], backup_root[4096], backup[4200];
    struct stat st;
    unsigned keep;
    int rc;

    *moved = 0;
    if ((rc = logs_keep_parse(getenv("HDC_LOGS_KEEP"), &keep, err, err_len)) != 0)
        return rc;
    snprintf(dir, sizeof(dir), "%s/%s", root, cluster);
    if (mkdir(root, 0755) != 0 && errno != EEXIST)
        return fail(err, err_len, -errno, "cannot create %s: %s", root, strerror(errno));
    if (stat(dir, &st) == 0) {
        snprintf(backup_root, sizeof(backup_root), "%s.backup.%d", root, pid);
        snprintf(backup, sizeof(backup), "%s/%s", backup_root, cluster);
        if (mkdir(backup_root, 0755) != 0 && errno != EEXIST)
            return fail(err, err_len, -errno, "cannot create %s: %s", backup_root, strerror(errno));
        if (rename(dir, backup) != 0)
            return fail(err, err_len, -errno, "cannot move %s to %s: %s", dir, backup,
                        strerror(errno));
        *moved = 1;
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return fail(err, err_len, -errno, "cannot create %s: %s", dir, strerror(errno));
    /* Best effort: what cannot be pruned now is tried again at the next up. */
    logs_prune_backups(root, cluster, keep, NULL, 0);
    if (*moved && stat(backup, &st) != 0)
        *moved = 0; /* pruned at once: HDC_LOGS_KEEP=0 */
    return 0;
}
