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
 * - A resuming sink's cursor is rewritten in place with one pwrite of a
 *   fixed-width line (31 bytes), after the log write whose complete lines
 *   it covers: no temporary file and rename per write, and a process
 *   killed at any point leaves either the old cursor or the new one. A
 *   cursor behind its log repeats lines; one ahead would lose them, so it
 *   is never written before the lines are.
 * - The cursor is the newest timestamp written, not the last line's:
 *   Docker stamps stdout and stderr apart, so two lines of the two streams
 *   within a few microseconds may come out of order; a resume at exactly
 *   that point may then miss the earlier-stamped one (Docker's since
 *   cannot ask for it without repeating others).
 * - The lock is a flock (released by the kernel when its holder dies, so
 *   no stale lock to judge); taking it opens a file, so it runs on the
 *   thread pool; letting it go is an unlock of an open descriptor, done
 *   at once so that the next writer can be spawned right after.
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
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

typedef struct logs_buf {
    char *data;
    size_t len, cap;
} logs_buf;

/* Where a resuming sink's opening is. */
enum open_step {
    OPEN_LOG,
    OPEN_STAT,
    OPEN_MKDIR,
    OPEN_CURSOR,
    OPEN_READ,
    OPEN_TRUNCATE,
    OPEN_NONE
};

struct logs_sink {
    uv_loop_t *loop;
    uv_fs_t req;
    uv_file fd; /* -1 until open */
    int opening;
    int writing; /* `out` is being written, or the cursor */
    int error;
    logs_buf out, fill;

    char ring[LOGS_TAIL_BYTES];
    size_t ring_start; /* index of the oldest byte */
    size_t ring_len;

    /* A resuming sink (logs_sink_resume). */
    int stamped;
    int persist;
    enum open_step step;
    char *path, *cursor_path;
    uv_file cursor_fd;   /* -1: no cursor file */
    int64_t log_size;    /* at open */
    char cursor_buf[64]; /* read, then written */
    logs_stamped split;
    logs_time since;  /* where this sink started */
    logs_time taken;  /* newest complete line appended */
    logs_time fill_t; /* newest complete line in fill */
    logs_time out_t;  /* ... in out */
    logs_time done_t; /* newest complete line written */
    logs_time saved;  /* in the cursor file */
    logs_time saving; /* being written there */
    logs_resume_cb resume_cb;
    void *resume_data;

    int closing;
    int in_close;   /* inside logs_sink_close: a free must be deferred */
    int in_cb;      /* inside the resume callback: a free waits for its end */
    int free_later; /* freed once the resume callback returns */
    void (*close_cb)(void *data);
    void *close_data;
};

static const logs_time no_time;

static int time_none(logs_time t) {
    return t.sec == 0 && t.nsec == 0;
}

static logs_time time_max(logs_time a, logs_time b) {
    return logs_time_cmp(a, b) >= 0 ? a : b;
}

static void sink_pump(logs_sink *s);

static void sink_free(logs_sink *s) {
    free(s->out.data);
    free(s->fill.data);
    free(s->path);
    free(s->cursor_path);
    if (s->close_cb != NULL)
        s->close_cb(s->close_data);
    free(s);
}

/* The sink's last request ended (a close, or the no-op that defers a
 * free): pump on, which frees it once nothing is left. */
static void sink_closed(uv_fs_t *req) {
    logs_sink *s = req->data;

    uv_fs_req_cleanup(req);
    s->writing = 0;
    sink_pump(s);
}

static void sink_written(uv_fs_t *req) {
    logs_sink *s = req->data;

    if (req->result < 0 && s->error == 0)
        s->error = (int)req->result;
    uv_fs_req_cleanup(req);
    s->writing = 0;
    s->out.len = 0;
    if (s->error == 0)
        s->done_t = time_max(s->done_t, s->out_t);
    sink_pump(s);
}

static void cursor_written(uv_fs_t *req) {
    logs_sink *s = req->data;

    /* A cursor that cannot be written is not worth failing the log for:
     * the next writer then repeats lines, it loses none. */
    if (req->result == (ssize_t)(LOGS_TIME_LEN + 1))
        s->saved = s->saving;
    else
        s->persist = 0;
    uv_fs_req_cleanup(req);
    s->writing = 0;
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

/* Starts the next write (everything filled so far), then the cursor that
 * it completes, or finishes a close once nothing is left. */
static void sink_pump(logs_sink *s) {
    int in_close = s->in_close;

    s->in_close = 0;
    if (s->opening || s->writing)
        return;
    if (s->fill.len > 0 && s->fd >= 0 && s->error == 0) {
        logs_buf t = s->out;
        uv_buf_t buf;
        s->out = s->fill;
        s->fill = t; /* the written buffer's storage fills next */
        s->fill.len = 0;
        s->out_t = s->fill_t;
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
    /* The cursor follows the lines written, never the lines appended. */
    if (s->persist && s->cursor_fd >= 0 && s->error == 0 &&
        logs_time_cmp(s->done_t, s->saved) > 0) {
        uv_buf_t buf;
        s->saving = s->done_t;
        logs_time_format(s->saving, s->cursor_buf);
        s->cursor_buf[LOGS_TIME_LEN] = '\n';
        buf = uv_buf_init(s->cursor_buf, LOGS_TIME_LEN + 1);
        s->writing = 1;
        s->req.data = s;
        if (uv_fs_write(s->loop, &s->req, s->cursor_fd, &buf, 1, 0, cursor_written) == 0)
            return;
        s->writing = 0;
        s->persist = 0;
    }
    if (!s->closing || s->fill.len > 0)
        return;
    s->req.data = s;
    s->writing = 1; /* the close below is in flight */
    if (s->fd >= 0) {
        uv_file fd = s->fd;
        s->fd = -1;
        if (uv_fs_close(s->loop, &s->req, fd, sink_closed) == 0)
            return;
    }
    if (s->cursor_fd >= 0) {
        uv_file fd = s->cursor_fd;
        s->cursor_fd = -1;
        if (uv_fs_close(s->loop, &s->req, fd, sink_closed) == 0)
            return;
    }
    s->writing = 0;
    if (in_close) {
        /* Closing never ends in the call: a no-op request brings us back. */
        s->writing = 1;
        if (uv_fs_stat(s->loop, &s->req, "/", sink_closed) == 0)
            return;
        s->writing = 0; /* cannot defer: the caller's cb runs now, the one exception */
    }
    if (s->in_cb)
        s->free_later = 1;
    else
        sink_free(s);
}

int logs_sink_open(uv_loop_t *loop, const char *path, int truncate, logs_sink **out) {
    logs_sink *s = calloc(1, sizeof(*s));
    int err;

    if (s == NULL)
        return UV_ENOMEM;
    s->loop = loop;
    s->fd = -1;
    s->cursor_fd = -1;
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

/* ---- a resuming sink's opening: log, its size, .cursor/, cursor, read ---- */

static void resume_step(uv_fs_t *req);

/* The opening is over: the caller learns where to start. */
static void resume_done(logs_sink *s, int status) {
    logs_resume_cb cb = s->resume_cb;

    s->opening = 0;
    s->step = OPEN_NONE;
    logs_stamped_init(&s->split, s->since);
    s->taken = s->since;
    s->done_t = s->since;
    s->saved = s->since;
    s->resume_cb = NULL;
    s->in_cb = 1;
    cb(s->resume_data, s->closing && status == 0 ? UV_ECANCELED : status, s->since);
    s->in_cb = 0;
    if (s->free_later)
        sink_free(s);
    else
        sink_pump(s);
}

/* Starts the step after s->step; 0, or the error of starting it. */
static int resume_next(logs_sink *s) {
    char *dir, *slash;
    int err;

    s->req.data = s;
    switch (s->step) {
    case OPEN_LOG:
        if (s->fd < 0 || !s->persist) {
            resume_done(s, s->fd < 0 ? s->error : 0);
            return 0;
        }
        s->step = OPEN_STAT;
        return uv_fs_fstat(s->loop, &s->req, s->fd, resume_step);
    case OPEN_STAT:
        s->step = OPEN_MKDIR;
        dir = strdup(s->cursor_path);
        if (dir == NULL)
            return UV_ENOMEM;
        slash = strrchr(dir, '/');
        *slash = '\0';
        err = uv_fs_mkdir(s->loop, &s->req, dir, 0755, resume_step);
        free(dir);
        return err;
    case OPEN_MKDIR:
        s->step = OPEN_CURSOR;
        return uv_fs_open(s->loop, &s->req, s->cursor_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644,
                          resume_step);
    case OPEN_CURSOR: {
        uv_buf_t buf = uv_buf_init(s->cursor_buf, sizeof(s->cursor_buf));
        s->step = OPEN_READ;
        return uv_fs_read(s->loop, &s->req, s->cursor_fd, &buf, 1, 0, resume_step);
    }
    case OPEN_READ:
        if (!time_none(s->since)) {
            resume_done(s, 0);
            return 0;
        }
        /* From the start: whatever the file holds is written again. */
        s->step = OPEN_TRUNCATE;
        return uv_fs_ftruncate(s->loop, &s->req, s->fd, 0, resume_step);
    default: resume_done(s, s->error); return 0;
    }
}

static void resume_step(uv_fs_t *req) {
    logs_sink *s = req->data;
    ssize_t r = req->result;
    int err;

    switch (s->step) {
    case OPEN_LOG:
        if (r < 0)
            s->error = (int)r;
        else
            s->fd = (uv_file)r;
        break;
    case OPEN_STAT: s->log_size = r == 0 ? (int64_t)req->statbuf.st_size : 0; break;
    case OPEN_MKDIR:
        if (r < 0 && r != UV_EEXIST)
            s->persist = 0;
        break;
    case OPEN_CURSOR:
        if (r < 0)
            s->persist = 0;
        else
            s->cursor_fd = (uv_file)r;
        break;
    case OPEN_READ:
        /* An empty log starts from the beginning whatever the cursor says:
         * it was removed or emptied, and Docker still has every line. */
        if (r <= 0 || s->log_size == 0 || logs_cursor_parse(s->cursor_buf, (size_t)r, &s->since))
            s->since = no_time;
        break;
    case OPEN_TRUNCATE:
        if (r < 0)
            s->error = (int)r;
        break;
    default: break;
    }
    uv_fs_req_cleanup(req);
    /* A cursor that cannot be had: from the start, unpersisted. */
    if (!s->persist && s->step >= OPEN_MKDIR && s->step <= OPEN_CURSOR)
        s->step = OPEN_READ;
    if ((err = resume_next(s)) != 0) {
        if (s->error == 0)
            s->error = err;
        resume_done(s, err);
    }
}

int logs_sink_resume(uv_loop_t *loop, const char *path, int persist, logs_resume_cb cb, void *data,
                     logs_sink **out) {
    logs_sink *s;
    int err;

    if (cb == NULL)
        return UV_EINVAL;
    if ((s = calloc(1, sizeof(*s))) == NULL)
        return UV_ENOMEM;
    s->loop = loop;
    s->fd = -1;
    s->cursor_fd = -1;
    s->opening = 1;
    s->stamped = 1;
    s->persist = path != NULL && persist;
    s->resume_cb = cb;
    s->resume_data = data;
    s->req.data = s;
    s->step = OPEN_LOG;
    if (path != NULL && ((s->path = strdup(path)) == NULL ||
                         (s->persist && (s->cursor_path = logs_cursor_path(path)) == NULL))) {
        free(s->path);
        free(s);
        return UV_ENOMEM;
    }
    if (path == NULL) {
        s->step = OPEN_NONE; /* no file: a no-op request defers cb */
        err = uv_fs_stat(loop, &s->req, "/", resume_step);
    } else {
        err = uv_fs_open(loop, &s->req, path,
                         O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (s->persist ? 0 : O_TRUNC),
                         0644, resume_step);
    }
    if (err != 0) {
        free(s->path);
        free(s->cursor_path);
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

/* Bytes to write (bare: no timestamps), and into the tail. */
static void sink_take(logs_sink *s, const char *buf, size_t len) {
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
}

static void stamped_piece(void *data, const char *buf, size_t len, int end, const logs_time *ts) {
    logs_sink *s = data;

    sink_take(s, buf, len);
    if (end && ts != NULL) {
        s->taken = time_max(s->taken, *ts);
        s->fill_t = time_max(s->fill_t, *ts);
    }
}

void logs_sink_append(logs_sink *s, const char *buf, size_t len) {
    if (len == 0 || s->closing)
        return;
    if (s->stamped)
        logs_stamped_feed(&s->split, buf, len, stamped_piece, s);
    else
        sink_take(s, buf, len);
    sink_pump(s);
}

logs_time logs_sink_next_stream(logs_sink *s) {
    logs_stamped_end(&s->split, stamped_piece, s);
    logs_stamped_init(&s->split, s->taken);
    sink_pump(s);
    return s->taken;
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
    if (s->stamped && !s->opening)
        logs_stamped_end(&s->split, stamped_piece, s);
    s->closing = 1;
    s->close_cb = cb;
    s->close_data = data;
    s->in_close = 1;
    sink_pump(s); /* when busy, their callbacks pump, and the pump closes */
}

/* ---- timestamps ------------------------------------------------------------ */

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    int64_t era;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* n decimal digits at p, or -1. */
static int digits(const char *p, int n) {
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

int logs_time_parse(const char *buf, size_t len, logs_time *t) {
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int year, mon, day, hour, min, sec, nsec = 0, off = 0;
    size_t i = 19;
    int64_t secs;

    if (len < 20 || buf[4] != '-' || buf[7] != '-' || buf[10] != 'T' || buf[13] != ':' ||
        buf[16] != ':')
        return UV_EINVAL;
    year = digits(buf, 4);
    mon = digits(buf + 5, 2);
    day = digits(buf + 8, 2);
    hour = digits(buf + 11, 2);
    min = digits(buf + 14, 2);
    sec = digits(buf + 17, 2);
    if (year < 1970 || mon < 1 || mon > 12 || day < 1 || (unsigned)day > mdays[mon - 1] ||
        hour < 0 || hour > 23 || min < 0 || min > 59 || sec < 0 || sec > 59)
        return UV_EINVAL;
    if (mon == 2 && day == 29 && !(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)))
        return UV_EINVAL;
    if (buf[i] == '.') {
        int n = 0;
        for (i++; i < len && buf[i] >= '0' && buf[i] <= '9'; i++, n++) {
            if (n == 9)
                return UV_EINVAL;
            nsec = nsec * 10 + (buf[i] - '0');
        }
        if (n == 0)
            return UV_EINVAL;
        for (; n < 9; n++)
            nsec *= 10;
    }
    if (i < len && buf[i] == 'Z') {
        i++;
    } else if (i + 6 == len && (buf[i] == '+' || buf[i] == '-') && buf[i + 3] == ':') {
        int oh = digits(buf + i + 1, 2), om = digits(buf + i + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59)
            return UV_EINVAL;
        off = (oh * 60 + om) * 60 * (buf[i] == '+' ? 1 : -1);
        i += 6;
    } else {
        return UV_EINVAL;
    }
    if (i != len)
        return UV_EINVAL;
    secs = days_from_civil(year, (unsigned)mon, (unsigned)day) * 86400 + hour * 3600 + min * 60 +
           sec - off;
    if (secs < 0)
        return UV_EINVAL;
    t->sec = secs;
    t->nsec = nsec;
    return 0;
}

int logs_time_cmp(logs_time a, logs_time b) {
    if (a.sec != b.sec)
        return a.sec < b.sec ? -1 : 1;
    if (a.nsec != b.nsec)
        return a.nsec < b.nsec ? -1 : 1;
    return 0;
}

void logs_time_format(logs_time t, char out[LOGS_TIME_LEN + 1]) {
    int64_t days = t.sec / 86400, rem = t.sec % 86400, y;
    unsigned m, d;
    char buf[80]; /* what the compiler counts for any int; the values fit 30 */

    if (rem < 0) {
        rem += 86400;
        days--;
    }
    civil_from_days(days, &y, &m, &d);
    snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02d.%09dZ", (int)(y % 10000), m % 100,
             d % 100, (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60),
             (int)(t.nsec % 1000000000));
    memcpy(out, buf, LOGS_TIME_LEN);
    out[LOGS_TIME_LEN] = '\0';
}

int logs_cursor_parse(const char *buf, size_t len, logs_time *t) {
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ' ||
                       buf[len - 1] == '\t'))
        len--;
    return logs_time_parse(buf, len, t);
}

char *logs_cursor_path(const char *log_path) {
    const char *slash = strrchr(log_path, '/');
    const char *name = slash != NULL ? slash + 1 : log_path;
    size_t n = strlen(name);
    int dir_len = slash != NULL ? (int)(slash - log_path) : 1;

    if (n > 4 && strcmp(name + n - 4, ".log") == 0)
        n -= 4;
    return util_asprintf("%.*s/.cursor/%.*s", dir_len, slash != NULL ? log_path : ".", (int)n,
                         name);
}

/* ---- splitting Docker's timestamped lines ---------------------------------- */

enum { SPLIT_PREFIX, SPLIT_KEEP, SPLIT_DROP };

void logs_stamped_init(logs_stamped *p, logs_time after) {
    memset(p, 0, sizeof(*p));
    p->state = SPLIT_PREFIX;
    p->after = after;
}

/* The prefix was not a timestamp: it is text of the line, kept. */
static void prefix_is_text(logs_stamped *p, logs_piece_fn fn, void *data) {
    if (p->n_prefix > 0)
        fn(data, p->prefix, p->n_prefix, 0, NULL);
    p->n_prefix = 0;
    p->line = no_time;
    p->state = SPLIT_KEEP;
}

void logs_stamped_feed(logs_stamped *p, const char *buf, size_t len, logs_piece_fn fn, void *data) {
    size_t i = 0;

    while (i < len) {
        const char *nl;
        size_t end;

        if (p->state == SPLIT_PREFIX) {
            char c = buf[i];
            if (c == ' ' && logs_time_parse(p->prefix, p->n_prefix, &p->line) == 0 &&
                !time_none(p->line)) {
                int keep = time_none(p->after) || logs_time_cmp(p->line, p->after) > 0;
                p->n_prefix = 0;
                p->state = keep ? SPLIT_KEEP : SPLIT_DROP;
                i++;
            } else if (c == ' ' || c == '\n' || p->n_prefix == sizeof(p->prefix)) {
                prefix_is_text(p, fn, data); /* c is the line's, read below */
            } else {
                p->prefix[p->n_prefix++] = c;
                i++;
            }
            continue;
        }
        nl = memchr(buf + i, '\n', len - i);
        end = nl != NULL ? (size_t)(nl - buf) + 1 : len;
        if (p->state == SPLIT_KEEP)
            fn(data, buf + i, end - i, nl != NULL, time_none(p->line) ? NULL : &p->line);
        i = end;
        if (nl != NULL) {
            p->state = SPLIT_PREFIX;
            p->n_prefix = 0;
            p->line = no_time;
        }
    }
}

void logs_stamped_end(logs_stamped *p, logs_piece_fn fn, void *data) {
    /* A line cut by the end of its stream is ended but its time not given:
     * the next stream, from the cursor before it, gives it again whole
     * (twice then, never lost). A cut timestamp is dropped: its line comes
     * again too. */
    if (p->state == SPLIT_KEEP)
        fn(data, "\n", 1, 1, NULL);
    p->state = SPLIT_PREFIX;
    p->n_prefix = 0;
    p->line = no_time;
}

/* ---- the writer's lock ---------------------------------------------------- */

struct logs_lock {
    uv_work_t work;
    uv_fs_t close_req;
    uv_loop_t *loop;
    char *dir;
    int fd;
    int status;
    logs_lock_cb cb;
    void *data;
};

static void lock_work(uv_work_t *w) {
    logs_lock *l = w->data;
    char *path = util_asprintf("%s/.writer.lock", l->dir);
    char pid[32];
    int n, written;

    l->fd = -1;
    if (path == NULL) {
        l->status = UV_ENOMEM;
        return;
    }
    if ((l->status = util_mkdir_p(l->dir, 0755)) != 0)
        goto exit;
    if ((l->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
        l->status = -errno;
        goto exit;
    }
    if (flock(l->fd, LOCK_EX | LOCK_NB) != 0) {
        l->status = errno == EWOULDBLOCK ? UV_EBUSY : -errno;
        close(l->fd);
        l->fd = -1;
        goto exit;
    }
    /* For people: who holds it. The lock holds without it. */
    n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
    written = ftruncate(l->fd, 0) == 0 && pwrite(l->fd, pid, (size_t)n, 0) == n;
    (void)written;
    l->status = 0;

exit:
    free(path);
}

static void lock_taken(uv_work_t *w, int status) {
    logs_lock *l = w->data;
    logs_lock_cb cb = l->cb;
    void *data = l->data;

    if (status != 0 && l->status == 0)
        l->status = status; /* canceled */
    if (l->status != 0) {
        int rc = l->status;
        if (l->fd >= 0)
            close(l->fd); /* only after a cancel, which never happens */
        free(l->dir);
        free(l);
        cb(data, rc, NULL);
        return;
    }
    cb(data, 0, l);
}

int logs_lock_take(uv_loop_t *loop, const char *dir, logs_lock_cb cb, void *data) {
    logs_lock *l = calloc(1, sizeof(*l));
    int err;

    if (l == NULL || (l->dir = strdup(dir)) == NULL) {
        free(l);
        return UV_ENOMEM;
    }
    l->loop = loop;
    l->fd = -1;
    l->cb = cb;
    l->data = data;
    l->work.data = l;
    if ((err = uv_queue_work(loop, &l->work, lock_work, lock_taken)) != 0) {
        free(l->dir);
        free(l);
    }
    return err;
}

static void lock_closed(uv_fs_t *req) {
    logs_lock *l = req->data;

    uv_fs_req_cleanup(req);
    free(l->dir);
    free(l);
}

void logs_lock_release(logs_lock *l) {
    /* Unlocking an open descriptor never waits on the disk. */
    flock(l->fd, LOCK_UN);
    l->close_req.data = l;
    if (uv_fs_close(l->loop, &l->close_req, l->fd, lock_closed) != 0) {
        close(l->fd);
        free(l->dir);
        free(l);
    }
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
