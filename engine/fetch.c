/* Release artifacts, cached and checked.
 *
 * The steps, each started from the callback of the one before:
 *   look       the cache directory (made if missing) and what is in it,
 *              on the thread pool
 *   expect     the SHA-512 to check against: the plugin's pin, else a
 *              <file>.sha512 next to the cached file, else the checksum
 *              file the project publishes next to the download
 *   download   curl into <file>.part when the file is not cached
 *   check      sha512sum; a downloaded file is renamed into place only
 *              once it matches, so the cache never holds a bad file
 *
 * Decision: the work is done by curl and sha512sum as child processes on
 * the loop (uv_spawn), not by code of ours: hdc has no TLS and no hash of
 * its own, and Debian's tools are the ones a user would trust.
 */
#include "fetch.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

typedef void (*child_done_fn)(fetch *f, int64_t exit_status);

struct fetch {
    uv_loop_t *loop;
    char *cache, *file, *url;
    char pinned[129];
    fetch_progress_cb progress;
    fetch_cb cb;
    void *data;

    char *path, *part, *sums; /* <cache>/<file>, then .part and .sha512 */
    int cached, have_sums;
    unsigned flags;
    char expected[129];
    int published_tries; /* 0: <url>.sha512, 1: <url>.mds */
    int checking_part;

    uv_work_t work;
    uv_fs_t fs;
    uv_process_t proc;
    uv_pipe_t out;
    char *captured;
    size_t cap_len, cap_size;
    int64_t exit_status;
    int open_handles;
    child_done_fn child_done;

    int canceled;
    int status;
    char msg[8192];
};

int fetch_sha512_unpinned(const char *sha512) {
    if (sha512 == NULL)
        return 1;
    for (const char *p = sha512; *p != '\0'; p++)
        if (*p != '0')
            return 0;
    return 1;
}

int fetch_parse_sha512(const char *text, size_t len, char out[129]) {
    size_t start = 0, n = 0;

    /* After a "SHA512" label, if any, and its "=". */
    for (size_t i = 0; i + 6 <= len; i++) {
        if (strncasecmp(text + i, "SHA512", 6) == 0 ||
            (i + 7 <= len && strncasecmp(text + i, "SHA-512", 7) == 0)) {
            const char *eq = memchr(text + i, '=', len - i);
            if (eq != NULL) {
                start = (size_t)(eq - text) + 1;
                break;
            }
        }
    }
    /* 128 hex digits, spaces and line breaks between them allowed (gpg
     * groups them); anything else starts the count again. */
    for (size_t i = start; i < len && n < 128; i++) {
        unsigned char ch = (unsigned char)text[i];
        if (isxdigit(ch))
            out[n++] = (char)tolower(ch);
        else if (!isspace(ch) || n == 128)
            n = 0;
    }
    out[n < 128 ? 0 : 128] = '\0';
    return n == 128 ? 0 : -1;
}

/* ---- the end -------------------------------------------------------------- */

static void free_fetch(fetch *f) {
    free(f->cache);
    free(f->file);
    free(f->url);
    free(f->path);
    free(f->part);
    free(f->sums);
    free(f->captured);
    free(f);
}

static void finish(fetch *f) {
    f->cb(f->data, f->status, f->status != 0 ? f->msg : NULL, f->path);
    free_fetch(f);
}

static void fail(fetch *f, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail(fetch *f, int status, const char *fmt, ...) {
    va_list ap;

    f->status = status;
    va_start(ap, fmt);
    vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
    va_end(ap);
    finish(f);
}

static void say(fetch *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(fetch *f, const char *fmt, ...) {
    char line[4096];
    va_list ap;

    if (f->progress == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    f->progress(f->data, line);
}

/* ---- child processes --------------------------------------------------------- */

static void child_closed(uv_handle_t *h) {
    fetch *f = h->data;

    if (--f->open_handles > 0)
        return;
    if (f->canceled)
        fail(f, UV_ECANCELED, "fetching %s: canceled", f->file);
    else
        f->child_done(f, f->exit_status);
}

static void child_exited(uv_process_t *p, int64_t status, int signal) {
    fetch *f = p->data;

    f->exit_status = signal != 0 ? 128 + signal : status;
    uv_close((uv_handle_t *)p, child_closed);
}

static void child_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
    fetch *f = h->data;

    if (f->cap_size - f->cap_len < 4096) {
        size_t size = f->cap_size * 2 + 8192;
        char *p = size <= (1 << 20) ? realloc(f->captured, size) : NULL;
        if (p == NULL) {
            *buf = uv_buf_init(NULL, 0);
            return;
        }
        f->captured = p;
        f->cap_size = size;
    }
    *buf = uv_buf_init(f->captured + f->cap_len, (unsigned)(f->cap_size - f->cap_len - 1));
}

static void child_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
    fetch *f = s->data;

    if (n > 0) {
        f->cap_len += (size_t)n;
        f->captured[f->cap_len] = '\0';
    } else if (n < 0) {
        uv_close((uv_handle_t *)s, child_closed);
    }
}

/* Runs argv; with capture its stdout is kept in f->captured. done gets the
 * exit status (127 when it could not run). */
static void child_run(fetch *f, char **argv, int capture, child_done_fn done) {
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_IGNORE},
        {.flags = UV_INHERIT_FD, .data.fd = 2},
    };
    uv_process_options_t po = {.file = argv[0], .args = argv, .stdio = stdio, .stdio_count = 3};
    int err;

    if (f->canceled) { /* between two children */
        fail(f, UV_ECANCELED, "fetching %s: canceled", f->file);
        return;
    }
    f->child_done = done;
    f->cap_len = 0;
    f->open_handles = 1;
    f->proc.data = f;
    po.exit_cb = child_exited;
    if (capture) {
        uv_pipe_init(f->loop, &f->out, 0);
        f->out.data = f;
        stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
        stdio[1].data.stream = (uv_stream_t *)&f->out;
        f->open_handles = 2;
    }
    err = uv_spawn(f->loop, &f->proc, &po);
    if (err != 0) {
        f->exit_status = 127;
        if (capture)
            uv_close((uv_handle_t *)&f->out, child_closed);
        uv_close((uv_handle_t *)&f->proc, child_closed);
        return;
    }
    if (capture)
        uv_read_start((uv_stream_t *)&f->out, child_alloc, child_read);
}

/* ---- check ------------------------------------------------------------------- */

static void moved_into_cache(uv_fs_t *req) {
    fetch *f = req->data;
    int rc = (int)req->result;

    uv_fs_req_cleanup(req);
    if (rc < 0) {
        fail(f, rc, "cannot move %s to %s: %s", f->part, f->path, hdc_strerror(rc));
        return;
    }
    finish(f);
}

static void digested(fetch *f, int64_t exit_status) {
    const char *checked = f->checking_part ? f->part : f->path;
    char actual[129];

    if (exit_status != 0 || fetch_parse_sha512(f->captured, f->cap_len, actual) != 0) {
        fail(f, UV_EIO, "sha512sum %s failed (exit %lld): install coreutils", checked,
             (long long)exit_status);
        return;
    }
    if (strcmp(actual, f->expected) != 0) {
        if (f->checking_part)
            remove(f->part); /* never left where a later build could take it */
        fail(f, FETCH_ECHECKSUM,
             "%s has SHA-512 %.16s..., not the expected %.16s...: it is not the release "
             "(or it is damaged): remove it and build again",
             checked, actual, f->expected);
        return;
    }
    say(f, "%s: SHA-512 checked", f->file);
    if (!f->checking_part) {
        finish(f);
        return;
    }
    f->fs.data = f;
    if (uv_fs_rename(f->loop, &f->fs, f->part, f->path, moved_into_cache) != 0)
        fail(f, UV_EIO, "cannot move %s into place", f->part);
}

static void start_check(fetch *f, int part) {
    char *argv[] = {"sha512sum", part ? f->part : f->path, NULL};

    f->checking_part = part;
    child_run(f, argv, 1, digested);
}

/* ---- download ------------------------------------------------------------- */

static void downloaded_file(fetch *f, int64_t exit_status) {
    if (exit_status != 0) {
        remove(f->part);
        fail(f, FETCH_EDOWNLOAD,
             "downloading %s failed (curl exit %lld; no network?): put %s into %s "
             "(--dist-cache DIR or HDC_DIST_CACHE), or pass --hadoop-tarball FILE",
             f->url, (long long)exit_status, f->file, f->cache);
        return;
    }
    start_check(f, 1);
}

static void start_download(fetch *f) {
    char *argv[] = {"curl", "-fSL", "--retry", "2",    "--connect-timeout",
                    "20",   "-o",   f->part,   f->url, NULL};

    say(f, "downloading %s", f->url);
    child_run(f, argv, 0, downloaded_file);
}

/* ---- expect ------------------------------------------------------------------ */

static void have_expected(fetch *f) {
    if (f->cached)
        start_check(f, 0);
    else
        start_download(f);
}

static void downloaded_sum(fetch *f, int64_t exit_status) {
    if (exit_status == 0 && fetch_parse_sha512(f->captured, f->cap_len, f->expected) == 0) {
        have_expected(f);
        return;
    }
    if (++f->published_tries < 2) {
        char url[2100];
        char *argv[] = {"curl", "-fsSL", "--retry", "2", "--connect-timeout", "20", url, NULL};
        snprintf(url, sizeof(url), "%s.mds", f->url);
        child_run(f, argv, 1, downloaded_sum);
        return;
    }
    fail(f, FETCH_EDOWNLOAD,
         "cannot get the published SHA-512 of %s (%s.sha512 or .mds; no network?): put "
         "%s and its %s.sha512 into %s (--dist-cache DIR or HDC_DIST_CACHE), or pass "
         "--hadoop-tarball FILE",
         f->file, f->url, f->file, f->file, f->cache);
}

static void find_expected_sum(fetch *f) {
    char url[2100];
    char *argv[] = {"curl", "-fsSL", "--retry", "2", "--connect-timeout", "20", url, NULL};

    if ((f->flags & FETCH_GIVEN) && !f->cached) {
        fail(f, FETCH_EDOWNLOAD, "%s: no such file", f->path);
        return;
    }
    if (!fetch_sha512_unpinned(f->pinned) && !((f->flags & FETCH_GIVEN) && f->have_sums)) {
        snprintf(f->expected, sizeof(f->expected), "%s", f->pinned);
        have_expected(f);
        return;
    }
    if (f->have_sums) {
        if (fetch_parse_sha512(f->captured, f->cap_len, f->expected) == 0) {
            have_expected(f);
            return;
        }
        fail(f, FETCH_ECHECKSUM, "%s holds no SHA-512: remove it and build again", f->sums);
        return;
    }
    say(f, "getting the published SHA-512 of %s", f->file);
    snprintf(url, sizeof(url), "%s.sha512", f->url);
    child_run(f, argv, 1, downloaded_sum);
}

/* ---- look: on the thread pool ------------------------------------------------ */

static void look_work(uv_work_t *w) {
    fetch *f = w->data;
    struct stat st;
    FILE *sums;

    if ((f->status = util_mkdir_p(f->cache, 0755)) != 0) {
        snprintf(f->msg, sizeof(f->msg), "cannot create the cache %s: %s: set HDC_DIST_CACHE",
                 f->cache, strerror(-f->status));
        return;
    }
    f->cached = stat(f->path, &st) == 0 && S_ISREG(st.st_mode);
    sums = fopen(f->sums, "r");
    if (sums != NULL) {
        char buf[4096];
        size_t n = fread(buf, 1, sizeof(buf) - 1, sums);
        fclose(sums);
        f->captured = malloc(n + 1);
        if (f->captured != NULL) {
            memcpy(f->captured, buf, n);
            f->captured[n] = '\0';
            f->cap_len = n;
            f->cap_size = n + 1;
            f->have_sums = 1;
        }
    }
}

static void looked(uv_work_t *w, int status) {
    fetch *f = w->data;

    if (f->canceled) {
        fail(f, UV_ECANCELED, "fetching %s: canceled", f->file);
        return;
    }
    if (f->status != 0) {
        finish(f);
        return;
    }
    find_expected_sum(f);
}

void fetch_cancel(fetch *f) {
    f->canceled = 1;
    if (f->open_handles > 0 && !uv_is_closing((uv_handle_t *)&f->proc))
        uv_process_kill(&f->proc, SIGTERM);
}

int fetch_artifact(uv_loop_t *loop, const char *cache_dir, const hdc_artifact *a, unsigned flags,
                   fetch_progress_cb progress, fetch_cb cb, void *data, fetch **out) {
    fetch *f;

    if (cache_dir == NULL || a == NULL || a->file == NULL || a->url == NULL || cb == NULL ||
        strchr(a->file, '/') != NULL)
        return UV_EINVAL;
    f = calloc(1, sizeof(*f));
    if (f == NULL)
        return UV_ENOMEM;
    f->loop = loop;
    f->flags = flags;
    f->progress = progress;
    f->cb = cb;
    f->data = data;
    snprintf(f->pinned, sizeof(f->pinned), "%s", a->sha512 != NULL ? a->sha512 : "");
    f->cache = strdup(cache_dir);
    f->file = strdup(a->file);
    f->url = strdup(a->url);
    f->path = util_asprintf("%s/%s", cache_dir, a->file);
    f->part = util_asprintf("%s/%s.part", cache_dir, a->file);
    f->sums = util_asprintf("%s/%s.sha512", cache_dir, a->file);
    if (f->cache == NULL || f->file == NULL || f->url == NULL || f->path == NULL ||
        f->part == NULL || f->sums == NULL) {
        free_fetch(f);
        return UV_ENOMEM;
    }
    f->work.data = f;
    if (uv_queue_work(loop, &f->work, look_work, looked) != 0) {
        free_fetch(f);
        return UV_EIO;
    }
    if (out != NULL)
        *out = f;
    return 0;
}
