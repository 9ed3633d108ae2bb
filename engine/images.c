/* Image builds, one after the other, each from a staged context.
 *
 * Decisions a newcomer might question:
 * - Contexts are copied into a temporary directory before docker_build
 *   archives them, so that the files the engine adds (hdc-agent, a Hadoop
 *   tarball from the cache) never land in the source tree. The copy and the
 *   removal afterwards run on libuv's thread pool: they are disk work.
 * - Builds run one at a time: Docker builds them in parallel no faster on
 *   one disk, and the progress reads as one story.
 * - Artifacts are taken from --hadoop-tarball or the cache directory; what
 *   is missing is named with where to put it. Downloading them (https) is
 *   not done by hdc yet: see docs/status.md.
 * - The context of a distribution's image that a client service runs also
 *   gets hdc-client-init (the client node's daemon, clusters/client), so
 *   that its client image can be built FROM the distribution's own image
 *   plus sshd (clusters/apache-client) instead of copying the release onto
 *   hdc/client: the release is then stored once per version.
 * - An image's identity (images.h) is computed on the thread pool before
 *   anything is staged: unchanged inputs end at one image inspect. A
 *   tarball is read once per path, size and mtime: its SHA-256 (and
 *   whether it is the stand-in, from its entry names) is kept in
 *   IMAGES_DIGESTS_FILE, so an unchanged one is neither hashed nor checked
 *   again (it was checked against its SHA-512 before it was recorded).
 * - Identities chain through build args: HDC_BASE (and HDC_IMAGE_<name>)
 *   carry the identity tag of the image a Dockerfile is FROM, and every
 *   build arg is an input, so a changed base changes everything above it.
 */
#define _GNU_SOURCE /* nftw flags */
#include "images.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <nettle/sha2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster.h"
#include "cluster_query.h"
#include "cluster_spec.h"
#include "fetch.h"
#include "util.h"

#define MAX_ITEMS  16
#define MAX_EXTRAS 8
#define MAX_ARGS   16
#define MAX_PINS   8

/* The client node's daemon, in the client context, for the images of
 * client services (see above). */
#define CLIENT_CONTEXT "client"
#define CLIENT_INIT    "hdc-client-init"

typedef struct build_item {
    char tag[256];
    char context[4096];
    char extra_src[MAX_EXTRAS][4096];
    char extra_dst[MAX_EXTRAS][256];
    const hdc_artifact *extra_fetch[MAX_EXTRAS]; /* to fetch into the cache first, or NULL */
    hdc_artifact given[MAX_EXTRAS]; /* --hadoop-tarball, as an artifact in its directory */
    char given_dir[MAX_EXTRAS][2048];
    char given_file[MAX_EXTRAS][256];
    size_t n_extras;
    docker_kv args[MAX_ARGS];
    char arg_buf[MAX_ARGS][2][512];
    size_t n_args;

    /* Identity (images.h). */
    char repo[200];                 /* "hdc/base" */
    char extra_sha[MAX_EXTRAS][65]; /* an artifact's SHA-256, from the digest cache */
    int extra_known[MAX_EXTRAS];    /* ... when it was there: nothing to fetch or hash */
    int extra_stand_in[MAX_EXTRAS];
    int extra_gone[MAX_EXTRAS]; /* resolve: known from the record, its file gone: no rebuild */
    int from_base;              /* FROM hdc/base, resolved by the job (HDC_BASE) */
    int from_item;              /* FROM an earlier item of the job (HDC_BASE), or -1 */
    int dist_image;             /* a distribution's: HDC_IMAGE_<name> of the earlier ones */
    char name[64];              /* the plugin's image name */
    char content[65];           /* the context's and the extras' digest */
    char identity[65];          /* content, args and what it is FROM */
    char from_identity[128];    /* of what it is FROM, when that is hdc's */
    char id_tag[256];
    char alias[256];  /* REPO:latest, or REPO:stand-in */
    char latest[256]; /* REPO:latest, also given to a stand-in when free, or "" */
    int stand_in;
} build_item;

struct images_job {
    uv_loop_t *loop;
    docker *d;
    images_progress_cb progress;
    images_cb cb;
    void *data;
    int nocache;
    char cache[2048]; /* where artifacts are fetched */
    build_item items[MAX_ITEMS];
    size_t n_items, next;
    size_t next_fetch; /* of the current item's extras */
    uv_work_t work;
    char staged[4096]; /* the current staged context, or "" */
    int status;
    char msg[8192];
    char line[4096]; /* a progress line being assembled */
    size_t line_len;
    docker_call *call; /* the build in flight, or NULL */
    fetch *fetching;   /* the artifact being fetched, or NULL */
    int canceled;
    int stand_in;       /* an image so far was the stand-in's: so are the ones after */
    int dist;           /* images_build_dist: FROM hdc/base, resolved once */
    int has_artifacts;  /* a Hadoop release is in: it needs a base with a JDK */
    char base_ref[256]; /* what HDC_BASE names, once resolved */
    char base_identity[128];
    docker_call *inspect; /* an inspect in flight, or NULL */

    /* images_build_dist and images_resolve: what the builds record. */
    char dist_name[64];
    int recorded;
    /* images_resolve: run what is built, build only from local inputs. */
    int resolve;
    char *record[2]; /* the records, real and stand-in, read once (look_work) */
    int records_read;
    /* The aliases of hdc's own images it runs (ZooKeeper's first, then a
     * service's "hdc/...:latest"), pinned to the identity tags they carry. */
    char pins[MAX_PINS][256];
    size_t n_pins, next_pin;
    int pinned;
    images_resolve_cb resolved;
    cluster_images res;
};

static void job_next(images_job *job);
static void job_end(images_job *job);

void images_cache_dir(const images_opts *opts, char *out, size_t len) {
    const char *home = getenv("HOME");

    if (opts->dist_cache != NULL && *opts->dist_cache != '\0')
        snprintf(out, len, "%s", opts->dist_cache);
    else
        snprintf(out, len, "%s/.cache/hdc/dist", home != NULL && *home != '\0' ? home : "/tmp");
}

void images_context_dir(const images_opts *opts, const char *context, char *out, size_t len) {
    if (context[0] == '/')
        snprintf(out, len, "%s", context);
    else
        snprintf(out, len, "%s/%s", opts->clusters_dir, context);
}

/* "repo:tag" into out (len), cut if need be. */
static void repo_tag(char *out, size_t len, const char *repo, const char *tag) {
    size_t r = strlen(repo), t = strlen(tag);

    if (len == 0)
        return;
    if (r > len - 1)
        r = len - 1;
    memmove(out, repo, r);
    out[r] = '\0';
    if (r + 1 < len) {
        out[r] = ':';
        if (t > len - r - 2)
            t = len - r - 2;
        memcpy(out + r + 1, tag, t);
        out[r + 1 + t] = '\0';
    }
}

static void item_arg(build_item *it, const char *key, const char *value) {
    if (it->n_args >= MAX_ARGS || value == NULL)
        return;
    snprintf(it->arg_buf[it->n_args][0], 512, "%s", key);
    snprintf(it->arg_buf[it->n_args][1], 512, "%s", value);
    it->args[it->n_args].key = it->arg_buf[it->n_args][0];
    it->args[it->n_args].value = it->arg_buf[it->n_args][1];
    it->n_args++;
}

/* tag: "repo:latest" (the alias, in messages); from: the item it is FROM. */
static void item_names(build_item *it, const char *tag, int from) {
    const char *slash, *colon;

    if (tag != it->tag)
        snprintf(it->tag, sizeof(it->tag), "%s", tag);
    slash = strrchr(it->tag, '/');
    colon = strrchr(slash != NULL ? slash : it->tag, ':');
    snprintf(it->repo, sizeof(it->repo), "%.*s",
             colon != NULL ? (int)(colon - it->tag) : (int)strlen(it->tag), it->tag);
    it->from_item = from;
}

/* Extra k of it is the file at path, standing for the artifact ar: checked
 * where it is (its .sha512, or ar's pin), never fetched. */
static void item_give(build_item *it, size_t k, const char *path, const hdc_artifact *ar) {
    const char *slash = strrchr(path, '/');

    if (it->extra_src[k] != path)
        snprintf(it->extra_src[k], sizeof(it->extra_src[k]), "%s", path);
    snprintf(it->given_file[k], sizeof(it->given_file[k]), "%s", slash != NULL ? slash + 1 : path);
    if (slash == NULL)
        snprintf(it->given_dir[k], sizeof(it->given_dir[k]), ".");
    else
        snprintf(it->given_dir[k], sizeof(it->given_dir[k]), "%.*s",
                 (int)(slash == path ? 1 : slash - path), path);
    it->given[k] = (hdc_artifact){it->given_file[k], ar->url, ar->sha512};
    it->extra_fetch[k] = &it->given[k];
}

/* ---- staging, on the thread pool ------------------------------------------ */

static int copy_file(const char *src, const char *dst, mode_t mode, char *err, size_t err_len) {
    char buf[65536];
    int in = open(src, O_RDONLY | O_CLOEXEC);
    int out = -1;
    ssize_t n;
    int rc = 0;

    if (in < 0) {
        snprintf(err, err_len, "cannot read %s: %s", src, strerror(errno));
        return -1;
    }
    out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode & 07777);
    if (out < 0) {
        snprintf(err, err_len, "cannot write %s: %s", dst, strerror(errno));
        close(in);
        return -1;
    }
    while ((n = read(in, buf, sizeof(buf))) > 0) {
        if (write(out, buf, (size_t)n) != n) {
            snprintf(err, err_len, "cannot write %s: %s", dst, strerror(errno));
            rc = -1;
            break;
        }
    }
    if (n < 0) {
        snprintf(err, err_len, "cannot read %s: %s", src, strerror(errno));
        rc = -1;
    }
    close(in);
    if (close(out) != 0 && rc == 0) {
        snprintf(err, err_len, "cannot write %s: %s", dst, strerror(errno));
        rc = -1;
    }
    return rc;
}

/* Copies the tree at src into dst (which exists). */
static int copy_tree(const char *src, const char *dst, char *err, size_t err_len) {
    DIR *dir = opendir(src);
    struct dirent *e;
    int rc = 0;

    if (dir == NULL) {
        snprintf(err, err_len, "cannot read build context %s: %s", src, strerror(errno));
        return -1;
    }
    while (rc == 0 && (e = readdir(dir)) != NULL) {
        char from[4096], to[4096];
        struct stat st;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(from, sizeof(from), "%s/%s", src, e->d_name);
        snprintf(to, sizeof(to), "%s/%s", dst, e->d_name);
        if (lstat(from, &st) != 0) {
            snprintf(err, err_len, "cannot read %s: %s", from, strerror(errno));
            rc = -1;
        } else if (S_ISDIR(st.st_mode)) {
            if (mkdir(to, st.st_mode & 07777) != 0) {
                snprintf(err, err_len, "cannot create %s: %s", to, strerror(errno));
                rc = -1;
            } else {
                rc = copy_tree(from, to, err, err_len);
            }
        } else if (S_ISLNK(st.st_mode)) {
            char target[4096];
            ssize_t n = readlink(from, target, sizeof(target) - 1);
            if (n < 0 || (target[n] = '\0', symlink(target, to) != 0)) {
                snprintf(err, err_len, "cannot copy link %s: %s", from, strerror(errno));
                rc = -1;
            }
        } else if (S_ISREG(st.st_mode)) {
            rc = copy_file(from, to, st.st_mode, err, err_len);
        }
    }
    closedir(dir);
    return rc;
}

static void stage_work(uv_work_t *w) {
    images_job *job = w->data;
    build_item *it = &job->items[job->next];
    const char *tmp = getenv("TMPDIR");
    struct stat st;

    snprintf(job->staged, sizeof(job->staged), "%s/hdc-build-XXXXXX",
             tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
    if (mkdtemp(job->staged) == NULL) {
        job->status = UV_EIO;
        snprintf(job->msg, sizeof(job->msg), "cannot create a directory in %s: %s: set TMPDIR",
                 tmp != NULL ? tmp : "/tmp", strerror(errno));
        job->staged[0] = '\0';
        return;
    }
    if (copy_tree(it->context, job->staged, job->msg, sizeof(job->msg)) != 0) {
        job->status = IMAGES_EMISSING;
        return;
    }
    for (size_t i = 0; i < it->n_extras; i++) {
        char *to;
        int rc;
        if (stat(it->extra_src[i], &st) != 0) {
            job->status = IMAGES_EMISSING;
            snprintf(job->msg, sizeof(job->msg), "%s is missing: %s", it->extra_src[i],
                     strerror(errno));
            return;
        }
        to = util_asprintf("%s/%s", job->staged, it->extra_dst[i]);
        rc = to != NULL ? copy_file(it->extra_src[i], to, st.st_mode, job->msg, sizeof(job->msg))
                        : -1;
        free(to);
        if (rc != 0) {
            job->status = UV_EIO;
            return;
        }
    }
}

static int unstage_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    remove(path);
    return 0;
}

static void unstage_work(uv_work_t *w) {
    images_job *job = w->data;

    if (job->staged[0] != '\0')
        nftw(job->staged, unstage_entry, 16, FTW_DEPTH | FTW_PHYS);
    job->staged[0] = '\0';
}

/* ---- identity: pure parts --------------------------------------------------- */

void images_identity_tag(const char *ref, const char *identity, char *out, size_t len) {
    const char *slash = strrchr(ref, '/');
    const char *colon = strrchr(slash != NULL ? slash : ref, ':');
    int repo_len = colon != NULL ? (int)(colon - ref) : (int)strlen(ref);

    snprintf(out, len, "%.*s:id-%.16s", repo_len, ref, identity);
}

int images_is_stand_in_entry(const char *name) {
    static const char tail[] = "/libexec/hdc-standin";
    size_t n = strlen(name), t = sizeof(tail) - 1;

    if (n >= 2 && name[0] == '.' && name[1] == '/')
        name += 2, n -= 2;
    return n > t && strcmp(name + n - t, tail) == 0 && memchr(name, '/', n - t) == NULL;
}

/* Lines: "<sha256> <0|1> <size> <mtime ns> <path>". The last line for a
 * path wins: a changed file is appended again. */
int images_digest_lookup(const char *text, const char *path, long long size, long long mtime_ns,
                         char sha256[65], int *stand_in) {
    int found = 0;

    for (const char *line = text; line != NULL && *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
        char sha[65], p[4096];
        int si, off = 0;
        long long sz, mt;
        if (len < sizeof(p) + 128 &&
            sscanf(line, "%64[0-9a-f] %d %lld %lld %n", sha, &si, &sz, &mt, &off) == 4 && off > 0 &&
            (size_t)off < len && strlen(sha) == 64) {
            snprintf(p, sizeof(p), "%.*s", (int)(len - (size_t)off), line + off);
            if (strcmp(p, path) == 0) {
                found = sz == size && mt == mtime_ns;
                if (found) {
                    memcpy(sha256, sha, 65);
                    *stand_in = si != 0;
                }
            }
        }
        line = end != NULL ? end + 1 : NULL;
    }
    return found;
}

/* A digest line's path (borrowed from line, len bytes), or 0. */
static size_t digest_line_path(const char *line, size_t len, const char **path) {
    char sha[65];
    int si, off = 0;
    long long sz, mt;

    if (len >= 8192 || sscanf(line, "%64[0-9a-f] %d %lld %lld %n", sha, &si, &sz, &mt, &off) != 4 ||
        off <= 0 || (size_t)off >= len || strlen(sha) != 64)
        return 0;
    *path = line + off;
    return len - (size_t)off;
}

char *images_digests_compact(const char *text,
                             int (*keep)(const char *path, long long size, long long mtime_ns)) {
    size_t len = strlen(text), used = 0;
    char *out = malloc(len + 2); /* a last line gets its newline */

    if (out == NULL)
        return NULL;
    for (const char *line = text; *line != '\0';) {
        const char *end = strchr(line, '\n'), *path, *later, *lpath;
        size_t n = end != NULL ? (size_t)(end - line) : strlen(line);
        size_t plen = digest_line_path(line, n, &path);
        int last = plen > 0;
        /* The last line of a path wins: an earlier one is dropped. */
        for (later = end != NULL ? end + 1 : line + n; last && *later != '\0';) {
            const char *lend = strchr(later, '\n');
            size_t ln = lend != NULL ? (size_t)(lend - later) : strlen(later);
            size_t lplen = digest_line_path(later, ln, &lpath);
            last = !(lplen == plen && memcmp(lpath, path, plen) == 0);
            later = lend != NULL ? lend + 1 : later + ln;
        }
        if (last && keep != NULL) {
            char p[4096];
            long long sz = 0, mt = 0;
            snprintf(p, sizeof(p), "%.*s", (int)plen, path);
            sscanf(line, "%*s %*d %lld %lld", &sz, &mt);
            last = plen < sizeof(p) && keep(p, sz, mt);
        }
        if (last) {
            memcpy(out + used, line, n);
            used += n;
            out[used++] = '\n';
        }
        line = end != NULL ? end + 1 : line + n;
    }
    out[used] = '\0';
    return out;
}

/* Lines: "<sha256> <0|1> <size> <mtime ns> <image> <file> <path>". */
int images_record_lookup(const char *text, const char *image, const char *file,
                         images_record_entry *out) {
    int found = 0;

    for (const char *line = text; line != NULL && *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
        char sha[65], im[64], f[256];
        int si, off = 0;
        long long sz, mt;
        if (len < sizeof(out->path) + 512 &&
            sscanf(line, "%64[0-9a-f] %d %lld %lld %63s %255s %n", sha, &si, &sz, &mt, im, f,
                   &off) == 6 &&
            off > 0 && (size_t)off < len && strlen(sha) == 64 && strcmp(im, image) == 0 &&
            strcmp(f, file) == 0) {
            memcpy(out->sha256, sha, sizeof(sha));
            out->stand_in = si != 0;
            out->size = sz;
            out->mtime_ns = mt;
            snprintf(out->path, sizeof(out->path), "%.*s", (int)(len - (size_t)off), line + off);
            found = 1;
        }
        line = end != NULL ? end + 1 : NULL;
    }
    return found;
}

void images_record_path(const char *cache, const char *dist, int stand_in, char *out, size_t len) {
    snprintf(out, len, "%s/%s/%s.%s", cache, IMAGES_BUILT_DIR, dist,
             stand_in ? IMAGES_STAND_IN_TAG : "real");
}

/* ---- identity: on the thread pool --------------------------------------------- */

/* A NUL-terminated string, with its NUL: a field separator that no part of
 * a field can forge. */
static void hash_str(struct sha256_ctx *c, const char *s) {
    sha256_update(c, strlen(s) + 1, (const uint8_t *)s);
}

/* The digest as 64 lowercase hex digits; c starts over. */
static void hash_hex(struct sha256_ctx *c, char out[65]) {
    uint8_t d[SHA256_DIGEST_SIZE];

    sha256_digest(c, sizeof(d), d);
    for (size_t i = 0; i < sizeof(d); i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static char *read_text(const char *path) {
    FILE *f = fopen(path, "r");
    struct stat st;
    char *text = NULL;

    if (f == NULL)
        return NULL;
    if (fstat(fileno(f), &st) == 0 && st.st_size < (64 << 20) &&
        (text = malloc((size_t)st.st_size + 1)) != NULL)
        text[fread(text, 1, (size_t)st.st_size, f)] = '\0';
    fclose(f);
    return text;
}

static long long mtime_ns(const struct stat *st) {
    return (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

/* A file's bytes into c. */
static int hash_file(struct sha256_ctx *c, const char *path, char *err, size_t err_len) {
    char buf[65536];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return util_fail(err, err_len, IMAGES_EMISSING, "cannot read %s: %s", path,
                         strerror(errno));
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        sha256_update(c, (size_t)n, (const uint8_t *)buf);
    close(fd);
    if (n < 0)
        return util_fail(err, err_len, UV_EIO, "cannot read %s: %s", path, strerror(errno));
    return 0;
}

/* A tarball read once: its SHA-256 as its bytes pass, and its entry
 * names through libarchive on the way (stopped at the stand-in's). */
typedef struct tar_scan {
    int fd;
    struct sha256_ctx c;
    char buf[65536];
    int failed;
} tar_scan;

static la_ssize_t tar_scan_read(struct archive *a, void *data, const void **buf) {
    tar_scan *t = data;
    ssize_t n = read(t->fd, t->buf, sizeof(t->buf));

    if (n < 0) {
        t->failed = errno;
        return -1;
    }
    sha256_update(&t->c, (size_t)n, (const uint8_t *)t->buf);
    *buf = t->buf;
    return n;
}

static int hash_tarball(const char *path, char sha[65], int *stand_in, char *err, size_t err_len) {
    tar_scan *t = calloc(1, sizeof(*t));
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    ssize_t n;
    int rc = 0;

    *stand_in = 0;
    if (t == NULL || a == NULL) {
        rc = util_fail(err, err_len, UV_ENOMEM, "out of memory");
        goto exit;
    }
    sha256_init(&t->c);
    if ((t->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        rc = util_fail(err, err_len, IMAGES_EMISSING, "cannot read %s: %s", path, strerror(errno));
        goto exit;
    }
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    if (archive_read_open(a, t, NULL, tar_scan_read, NULL) == ARCHIVE_OK)
        while (!*stand_in && archive_read_next_header(a, &e) == ARCHIVE_OK)
            *stand_in = images_is_stand_in_entry(archive_entry_pathname(e));
    /* What libarchive did not read (after the stand-in's entry, or not a
     * tarball at all) is hashed all the same. */
    while (!t->failed && (n = read(t->fd, t->buf, sizeof(t->buf))) > 0)
        sha256_update(&t->c, (size_t)n, (const uint8_t *)t->buf);
    if (t->failed || n < 0) {
        rc = util_fail(err, err_len, UV_EIO, "cannot read %s: %s", path,
                       strerror(t->failed ? t->failed : errno));
        goto exit;
    }
    hash_hex(&t->c, sha);

exit:
    if (a != NULL)
        archive_read_free(a);
    if (t != NULL && t->fd > 0)
        close(t->fd);
    free(t);
    return rc;
}

static int path_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every path under dir (relative to root), into *paths. */
static int list_tree(const char *root, const char *rel, char ***paths, size_t *n, size_t *cap,
                     char *err, size_t err_len) {
    char dir[4096];
    DIR *d;
    struct dirent *e;
    int rc = 0;

    snprintf(dir, sizeof(dir), "%s%s%s", root, *rel ? "/" : "", rel);
    if ((d = opendir(dir)) == NULL)
        return util_fail(err, err_len, IMAGES_EMISSING, "cannot read build context %s: %s", dir,
                         strerror(errno));
    while (rc == 0 && (e = readdir(d)) != NULL) {
        char *p;
        struct stat st;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        p = util_asprintf("%s%s%s", rel, *rel ? "/" : "", e->d_name);
        if (p == NULL || util_grow(paths, cap, *n + 1, sizeof(**paths)) != 0) {
            free(p);
            rc = util_fail(err, err_len, UV_ENOMEM, "out of memory");
            break;
        }
        (*paths)[(*n)++] = p;
        snprintf(dir, sizeof(dir), "%s/%s", root, p);
        if (lstat(dir, &st) == 0 && S_ISDIR(st.st_mode))
            rc = list_tree(root, p, paths, n, cap, err, err_len);
    }
    closedir(d);
    return rc;
}

/* The context's files: sorted paths, each with its type and mode, and its
 * bytes (a link: its target). Owners and times are not inputs. */
static int hash_context(struct sha256_ctx *c, const char *root, char *err, size_t err_len) {
    char **paths = NULL;
    size_t n = 0, cap = 0;
    int rc = list_tree(root, "", &paths, &n, &cap, err, err_len);

    if (rc == 0)
        qsort(paths, n, sizeof(*paths), path_cmp);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char full[4096], mode[32];
        struct stat st;
        snprintf(full, sizeof(full), "%s/%s", root, paths[i]);
        if (lstat(full, &st) != 0) {
            rc = util_fail(err, err_len, IMAGES_EMISSING, "cannot read %s: %s", full,
                           strerror(errno));
            break;
        }
        snprintf(mode, sizeof(mode), "%o", (unsigned)st.st_mode);
        hash_str(c, paths[i]);
        hash_str(c, mode);
        if (S_ISREG(st.st_mode)) {
            rc = hash_file(c, full, err, err_len);
        } else if (S_ISLNK(st.st_mode)) {
            char target[4096];
            ssize_t len = readlink(full, target, sizeof(target) - 1);
            target[len > 0 ? len : 0] = '\0';
            hash_str(c, target);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    return rc;
}

/* images_resolve, for extra k of it (a declared artifact, not given): 1
 * when the record settles it (its digest known: the file unchanged, or
 * gone), 0 when a file is to be looked up and checked as for a build (the
 * cache's, or the recorded one changed), -1 (job->status set) when there
 * is no release to run. real, stand_in: the records' texts, or NULL. */
static int resolve_source(images_job *job, build_item *it, size_t k, const char *real,
                          const char *stand_in) {
    const hdc_artifact *ar = it->extra_fetch[k];
    images_record_entry e;
    struct stat st;
    int rec = images_record_lookup(real, it->name, it->extra_dst[k], &e);

    /* A real release first: the last built, else the cache's (what `hdc
     * build DIST` takes); the stand-in only where there is neither. */
    if (!rec && stat(it->extra_src[k], &st) == 0)
        return 0;
    if (!rec)
        rec = images_record_lookup(stand_in, it->name, it->extra_dst[k], &e);
    if (!rec) {
        job->status = CLUSTER_ENOIMAGE;
        snprintf(job->msg, sizeof(job->msg),
                 "%s: no release to run: %s is not in %s and no `hdc build %s` is recorded "
                 "there: run `hdc build %s` (--hadoop-tarball FILE for a file of your own)",
                 job->dist_name, it->extra_dst[k], job->cache, job->dist_name, job->dist_name);
        return -1;
    }
    if (stat(e.path, &st) != 0) {
        /* Gone: its images can still be run, not built again. */
        snprintf(it->extra_src[k], sizeof(it->extra_src[k]), "%s", e.path);
        it->extra_gone[k] = 1;
    } else {
        item_give(it, k, e.path, ar);
        if (st.st_size != e.size || mtime_ns(&st) != e.mtime_ns)
            return 0; /* changed since: looked at again */
    }
    memcpy(it->extra_sha[k], e.sha256, sizeof(e.sha256));
    it->extra_stand_in[k] = e.stand_in;
    it->extra_known[k] = 1;
    return 1;
}

/* Before any fetch: which artifacts the digest cache (and, to resolve,
 * the record) knows unchanged. */
static void look_work(uv_work_t *w) {
    images_job *job = w->data;
    build_item *it = &job->items[job->next];
    char file[4096];
    char *text;

    snprintf(file, sizeof(file), "%s/%s", job->cache, IMAGES_DIGESTS_FILE);
    text = read_text(file);
    if (job->resolve && !job->records_read) {
        job->records_read = 1;
        for (int kind = 0; kind < 2; kind++) {
            images_record_path(job->cache, job->dist_name, kind, file, sizeof(file));
            job->record[kind] = read_text(file);
        }
    }
    for (size_t k = 0; k < it->n_extras; k++) {
        char *abs;
        struct stat st;
        int rc;
        it->extra_known[k] = 0;
        it->extra_gone[k] = 0;
        if (it->extra_fetch[k] == NULL)
            continue;
        if (job->resolve && it->extra_fetch[k] != &it->given[k] &&
            (rc = resolve_source(job, it, k, job->record[0], job->record[1])) != 0) {
            if (rc < 0)
                break;
            continue;
        }
        if (text == NULL || stat(it->extra_src[k], &st) != 0)
            continue;
        abs = realpath(it->extra_src[k], NULL);
        if (abs != NULL)
            it->extra_known[k] =
                images_digest_lookup(text, abs, (long long)st.st_size, mtime_ns(&st),
                                     it->extra_sha[k], &it->extra_stand_in[k]);
        free(abs);
    }
    free(text);
}

/* After a build that ended well: what each artifact was, in the record of
 * its kind (images_record_path), written whole and renamed into place. */
static void record_work(uv_work_t *w) {
    images_job *job = w->data;
    char file[4096], tmp[4200], dir[4096];
    FILE *f;

    images_record_path(job->cache, job->dist_name, job->stand_in, file, sizeof(file));
    snprintf(dir, sizeof(dir), "%s/%s", job->cache, IMAGES_BUILT_DIR);
    snprintf(tmp, sizeof(tmp), "%s.%d.tmp", file, (int)getpid());
    if (util_mkdir_p(dir, 0755) != 0 || (f = fopen(tmp, "w")) == NULL)
        return; /* no record: `hdc up` finds the cache's, or asks for a build */
    for (size_t i = 0; i < job->n_items; i++) {
        const build_item *it = &job->items[i];
        for (size_t k = 0; k < it->n_extras; k++) {
            struct stat st;
            char *abs;
            if (it->extra_fetch[k] == NULL || (abs = realpath(it->extra_src[k], NULL)) == NULL)
                continue;
            if (stat(abs, &st) == 0)
                fprintf(f, "%s %d %lld %lld %s %s %s\n", it->extra_sha[k], it->extra_stand_in[k],
                        (long long)st.st_size, mtime_ns(&st), it->name, it->extra_dst[k], abs);
            free(abs);
        }
    }
    if (fclose(f) != 0 || rename(tmp, file) != 0)
        remove(tmp);
}

/* Whether the file at path is there as it was: size and mtime. */
static int unchanged(const char *path, long long size, long long mtime) {
    struct stat st;

    return stat(path, &st) == 0 && (long long)st.st_size == size && mtime_ns(&st) == mtime;
}

/* Past IMAGES_DIGESTS_MAX bytes, the cache is written again with the last
 * line of each file still there as it was. A line another hdc appends
 * meanwhile may be lost: it is only a cache. */
static void compact_digests(const char *file) {
    char tmp[4200];
    char *text = read_text(file), *kept;
    FILE *f;

    if (text == NULL || strlen(text) <= IMAGES_DIGESTS_MAX) {
        free(text);
        return;
    }
    kept = images_digests_compact(text, unchanged);
    snprintf(tmp, sizeof(tmp), "%s.%d.tmp", file, (int)getpid());
    if (kept != NULL && (f = fopen(tmp, "w")) != NULL) {
        fputs(kept, f);
        if (fclose(f) != 0 || rename(tmp, file) != 0)
            remove(tmp);
    }
    free(kept);
    free(text);
}

static void record_digest(images_job *job, const char *path, const char *sha, int stand_in) {
    char file[4096];
    char *abs = realpath(path, NULL);
    struct stat st;
    FILE *f;

    snprintf(file, sizeof(file), "%s/%s", job->cache, IMAGES_DIGESTS_FILE);
    if (abs == NULL || stat(abs, &st) != 0 || util_mkdir_p(job->cache, 0755) != 0 ||
        (f = fopen(file, "a")) == NULL) {
        free(abs);
        return; /* only a cache: the next build hashes it again */
    }
    fprintf(f, "%s %d %lld %lld %s\n", sha, stand_in, (long long)st.st_size, mtime_ns(&st), abs);
    fclose(f);
    free(abs);
    compact_digests(file);
}

/* The content digest: the context, then each extra by the name it gets. */
static void identity_work(uv_work_t *w) {
    images_job *job = w->data;
    build_item *it = &job->items[job->next];
    struct sha256_ctx c;

    sha256_init(&c);
    hash_str(&c, "hdc image content 1");
    if (hash_context(&c, it->context, job->msg, sizeof(job->msg)) != 0) {
        job->status = IMAGES_EMISSING;
        return;
    }
    for (size_t k = 0; k < it->n_extras; k++) {
        hash_str(&c, it->extra_dst[k]);
        if (it->extra_fetch[k] != NULL) {
            if (!it->extra_known[k]) {
                int rc = hash_tarball(it->extra_src[k], it->extra_sha[k], &it->extra_stand_in[k],
                                      job->msg, sizeof(job->msg));
                if (rc != 0) {
                    job->status = rc;
                    return;
                }
                record_digest(job, it->extra_src[k], it->extra_sha[k], it->extra_stand_in[k]);
            }
            hash_str(&c, it->extra_sha[k]);
            it->stand_in |= it->extra_stand_in[k];
        } else {
            struct sha256_ctx f;
            char sha[65];
            int rc;
            sha256_init(&f);
            if ((rc = hash_file(&f, it->extra_src[k], job->msg, sizeof(job->msg))) != 0) {
                job->status = rc;
                return;
            }
            hash_hex(&f, sha);
            hash_str(&c, sha);
        }
    }
    hash_hex(&c, it->content);
}

static int arg_cmp(const void *a, const void *b) {
    return strcmp(((const docker_kv *)a)->key, ((const docker_kv *)b)->key);
}

/* content, the build args by key (HDC_BASE among them: the identity of what
 * it is FROM) and whether it is the stand-in's. On the loop: cheap. */
static void item_identity(build_item *it) {
    docker_kv sorted[MAX_ARGS];
    struct sha256_ctx c;

    memcpy(sorted, it->args, it->n_args * sizeof(*sorted));
    qsort(sorted, it->n_args, sizeof(*sorted), arg_cmp);
    sha256_init(&c);
    hash_str(&c, "hdc image identity 1");
    hash_str(&c, it->content);
    hash_str(&c, it->from_identity);
    for (size_t i = 0; i < it->n_args; i++) {
        hash_str(&c, sorted[i].key);
        hash_str(&c, sorted[i].value);
    }
    hash_str(&c, it->stand_in ? "stand-in" : "real");
    hash_hex(&c, it->identity);
    images_identity_tag(it->repo, it->identity, it->id_tag, sizeof(it->id_tag));
    repo_tag(it->alias, sizeof(it->alias), it->repo, it->stand_in ? IMAGES_STAND_IN_TAG : "latest");
    it->latest[0] = '\0';
}

/* ---- which clusters run the stand-in ------------------------------------------ */

size_t images_stand_in_pick(const docker_object *images, size_t n_images,
                            const docker_object *containers, size_t n_containers,
                            const char **out) {
    size_t n = 0;

    for (size_t i = 0; i < n_containers; i++) {
        const char *image = json_string_value(json_object_get(containers[i].raw, "ImageID"));
        const char *name = json_string_value(json_object_get(containers[i].labels, "hdc.cluster"));
        int stand_in = 0;
        if (image == NULL || name == NULL || images_among(out, n, name))
            continue;
        for (size_t k = 0; k < n_images && !stand_in; k++)
            stand_in = strcmp(images[k].id, image) == 0;
        if (stand_in)
            out[n++] = name;
    }
    return n;
}

int images_among(const char *const *clusters, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(clusters[i], name) == 0)
            return 1;
    return 0;
}

/* Whether ref's tag is the alias of the newest image of its repository. */
static int is_newest_tag(const char *ref) {
    const char *slash = strrchr(ref, '/');
    const char *colon = strrchr(slash != NULL ? slash : ref, ':');

    return colon != NULL &&
           (strcmp(colon + 1, "latest") == 0 || strcmp(colon + 1, IMAGES_STAND_IN_TAG) == 0);
}

size_t images_gc_pick(const docker_object *images, size_t n_images, const docker_object *containers,
                      size_t n_containers, const char **out, size_t cap) {
    size_t n = 0;

    for (size_t i = 0; i < n_images; i++) {
        const json_t *tags = json_object_get(images[i].raw, "RepoTags");
        size_t n_tags = 0, k;
        const json_t *t;
        int keep = 0;
        json_array_foreach(tags, k, t) {
            const char *ref = json_string_value(t);
            if (ref == NULL || strcmp(ref, "<none>:<none>") == 0)
                continue;
            n_tags++;
            keep |= is_newest_tag(ref);
        }
        for (size_t c = 0; c < n_containers && !keep; c++) {
            const char *id = json_string_value(json_object_get(containers[c].raw, "ImageID"));
            keep = id != NULL && strcmp(id, images[i].id) == 0;
        }
        if (keep)
            continue;
        if (n_tags == 0) {
            if (n < cap)
                out[n++] = images[i].id;
            continue;
        }
        json_array_foreach(tags, k, t) {
            const char *ref = json_string_value(t);
            if (ref != NULL && strcmp(ref, "<none>:<none>") != 0 && n < cap)
                out[n++] = ref;
        }
    }
    return n;
}

typedef struct stand_in_ask {
    docker *d;
    images_stand_in_cb cb;
    void *data;
    docker_object *images; /* copied: the list is borrowed */
    char **ids;
    size_t n_images;
} stand_in_ask;

static void stand_in_ask_free(stand_in_ask *a) {
    for (size_t i = 0; i < a->n_images; i++)
        free(a->ids[i]);
    free(a->ids);
    free(a->images);
    free(a);
}

static void stand_in_containers(void *data, int status, const char *msg, const docker_object *objs,
                                size_t n) {
    stand_in_ask *a = data;
    const char **out = calloc(n > 0 ? n : 1, sizeof(*out));

    if (status == 0 && out == NULL)
        a->cb(a->data, UV_ENOMEM, "out of memory", NULL, 0);
    else if (status != 0)
        a->cb(a->data, status, msg, NULL, 0);
    else
        a->cb(a->data, 0, NULL, out, images_stand_in_pick(a->images, a->n_images, objs, n, out));
    free(out);
    stand_in_ask_free(a);
}

static void stand_in_images(void *data, int status, const char *msg, const docker_object *objs,
                            size_t n) {
    stand_in_ask *a = data;
    int err;

    if (status != 0) {
        a->cb(a->data, status, msg, NULL, 0);
        stand_in_ask_free(a);
        return;
    }
    a->images = calloc(n > 0 ? n : 1, sizeof(*a->images));
    a->ids = calloc(n > 0 ? n : 1, sizeof(*a->ids));
    for (size_t i = 0; a->images != NULL && a->ids != NULL && i < n; i++) {
        if ((a->ids[i] = strdup(objs[i].id)) == NULL)
            break;
        a->images[i].id = a->ids[i];
        a->n_images++;
    }
    if (a->n_images != n) {
        a->cb(a->data, UV_ENOMEM, "out of memory", NULL, 0);
        stand_in_ask_free(a);
        return;
    }
    if ((err = docker_container_list(a->d, "hdc.cluster", stand_in_containers, a, NULL)) != 0) {
        a->cb(a->data, err, hdc_strerror(err), NULL, 0);
        stand_in_ask_free(a);
    }
}

int images_stand_in_clusters(docker *d, images_stand_in_cb cb, void *data) {
    stand_in_ask *a = calloc(1, sizeof(*a));
    int err;

    if (a == NULL)
        return UV_ENOMEM;
    *a = (stand_in_ask){.d = d, .cb = cb, .data = data};
    if ((err = docker_image_list(d, IMAGES_LABEL_STAND_IN "=true", stand_in_images, a, NULL)) != 0)
        free(a);
    return err;
}

/* ---- the sequence ------------------------------------------------------------ */

static void pin_next(images_job *job);

static void recorded(uv_work_t *w, int status) {
    job_end(w->data);
}

/* The end: a build's record, or a resolution's pins, then the callback. */
static void job_end(images_job *job) {
    if (job->status == 0 && job->dist && job->has_artifacts && !job->resolve && !job->recorded) {
        job->recorded = 1;
        job->work.data = job;
        if (uv_queue_work(job->loop, &job->work, record_work, recorded) == 0)
            return;
    }
    if (job->status == 0 && job->resolve && !job->pinned) {
        pin_next(job);
        return;
    }
    if (job->resolved != NULL) {
        job->res.stand_in = job->stand_in;
        job->resolved(job->data, job->status, job->status != 0 ? job->msg : NULL,
                      job->status == 0 ? &job->res : NULL);
    } else {
        job->cb(job->data, job->status, job->status != 0 ? job->msg : NULL);
    }
    free(job->record[0]);
    free(job->record[1]);
    free(job);
}

static void unstaged(uv_work_t *w, int status) {
    images_job *job = w->data;

    if (job->status != 0 || ++job->next == job->n_items)
        job_end(job);
    else
        job_next(job);
}

static void unstage(images_job *job) {
    job->work.data = job;
    if (uv_queue_work(job->loop, &job->work, unstage_work, unstaged) != 0)
        job_end(job);
}

static void build_progress(void *data, const docker_build_progress *p) {
    images_job *job = data;
    const char *text = p->stream != NULL ? p->stream : p->status;

    if (job->progress == NULL || text == NULL)
        return;
    /* Docker's stream pieces are not whole lines: hand out whole lines. */
    for (const char *c = text; *c != '\0'; c++) {
        if (*c == '\n' || job->line_len == sizeof(job->line) - 1) {
            job->line[job->line_len] = '\0';
            if (job->line_len > 0)
                job->progress(job->data, job->items[job->next].tag, job->line);
            job->line_len = 0;
        }
        if (*c != '\n' && *c != '\r')
            job->line[job->line_len++] = *c;
    }
    if (p->stream == NULL && job->line_len > 0) {
        job->line[job->line_len] = '\0';
        job->progress(job->data, job->items[job->next].tag, job->line);
        job->line_len = 0;
    }
}

static void built(void *data, int status, const char *msg, const char *id) {
    images_job *job = data;

    job->call = NULL;
    if (status != 0) {
        job->status = status;
        snprintf(job->msg, sizeof(job->msg), "building %s failed: %s", job->items[job->next].tag,
                 msg != NULL ? msg : hdc_strerror(status));
    }
    unstage(job);
}

static void staged(uv_work_t *w, int status) {
    images_job *job = w->data;
    build_item *it = &job->items[job->next];
    docker_kv labels[] = {{"hdc.image", it->tag},
                          {IMAGES_LABEL_IDENTITY, it->identity},
                          {IMAGES_LABEL_STAND_IN, "true"}};
    const char *more[] = {it->alias, it->latest[0] != '\0' ? it->latest : NULL, NULL};
    docker_build_opts bo = {
        .context_dir = job->staged,
        .tag = it->id_tag,
        .more_tags = more,
        .buildargs = it->args,
        .n_buildargs = it->n_args,
        .labels = labels,
        .n_labels = it->stand_in ? 3 : 2,
        .nocache = job->nocache,
    };
    int err;

    if (job->canceled && job->status == 0) {
        job->status = UV_ECANCELED;
        snprintf(job->msg, sizeof(job->msg), "building %s: canceled", it->tag);
    }
    if (job->status != 0) {
        unstage(job);
        return;
    }
    if (job->progress != NULL) {
        char *line =
            util_asprintf("building %s (%s%s) from %s", it->alias, it->id_tag,
                          it->stand_in ? ", hdc's test stand-in, NOT Hadoop" : "", it->context);
        if (line != NULL)
            job->progress(job->data, it->tag, line);
        free(line);
    }
    err = docker_build(job->d, &bo, build_progress, built, job, &job->call);
    if (err != 0)
        built(job, err, hdc_strerror(err), NULL);
}

static void job_stage(images_job *job) {
    job->work.data = job;
    if (uv_queue_work(job->loop, &job->work, stage_work, staged) != 0) {
        job->status = UV_EIO;
        snprintf(job->msg, sizeof(job->msg), "cannot queue work on the thread pool");
        job_end(job);
    }
}

static void job_fetch_next(images_job *job);
static void job_identify(images_job *job);

static void job_fetch_progress(void *data, const char *line) {
    images_job *job = data;

    if (job->progress != NULL)
        job->progress(job->data, job->items[job->next].tag, line);
}

static void job_fetched(void *data, int status, const char *msg, const char *path) {
    images_job *job = data;

    job->fetching = NULL;
    if (status != 0) {
        job->status = status;
        snprintf(job->msg, sizeof(job->msg), "%s", msg);
        job_end(job);
        return;
    }
    job->next_fetch++;
    job_fetch_next(job);
}

/* The current item's artifacts, one after the other, then its staging. */
static void job_fetch_next(images_job *job) {
    build_item *it = &job->items[job->next];
    int err;

    if (job->canceled) {
        job->status = UV_ECANCELED;
        snprintf(job->msg, sizeof(job->msg), "building %s: canceled", it->tag);
        job_end(job);
        return;
    }
    while (job->next_fetch < it->n_extras &&
           (it->extra_fetch[job->next_fetch] == NULL || it->extra_known[job->next_fetch]))
        job->next_fetch++;
    if (job->next_fetch == it->n_extras) {
        job_identify(job);
        return;
    }
    {
        size_t k = job->next_fetch;
        int given = it->extra_fetch[k] == &it->given[k];
        err = fetch_artifact(job->loop, given ? it->given_dir[k] : job->cache, it->extra_fetch[k],
                             given ? FETCH_GIVEN : 0, job_fetch_progress, job_fetched, job,
                             &job->fetching);
    }
    if (err != 0) {
        job->status = err;
        snprintf(job->msg, sizeof(job->msg), "cannot fetch %s: %s", it->extra_dst[job->next_fetch],
                 hdc_strerror(err));
        job_end(job);
    }
}

/* ---- identity, then whether to build ------------------------------------------ */

static void item_done(images_job *job) {
    if (++job->next == job->n_items)
        job_end(job);
    else
        job_next(job);
}

static void fail_now(images_job *job, int status, const char *what) {
    job->status = status;
    snprintf(job->msg, sizeof(job->msg), "%s", what);
    job_end(job);
}

/* An image's label, or NULL. */
static const char *label_of(const docker_image_info *info, const char *key) {
    return info != NULL && info->labels != NULL
               ? json_string_value(json_object_get(info->labels, key))
               : NULL;
}

/* Whether info is the image of identity (its label says so). */
static int is_identity(const docker_image_info *info, const char *identity) {
    const char *v = label_of(info, IMAGES_LABEL_IDENTITY);
    return v != NULL && strcmp(v, identity) == 0;
}

static int has_identity(const docker_image_info *info) {
    return label_of(info, IMAGES_LABEL_IDENTITY) != NULL;
}

static int is_stand_in(const docker_image_info *info) {
    const char *v = label_of(info, IMAGES_LABEL_STAND_IN);
    return v != NULL && strcmp(v, "true") == 0;
}

static int job_inspect(images_job *job, const char *ref, docker_image_cb cb) {
    int err = docker_image_inspect(job->d, ref, cb, job, &job->inspect);

    if (err != 0) {
        job->status = err;
        snprintf(job->msg, sizeof(job->msg), "cannot ask Docker whether %s is built: %s", ref,
                 hdc_strerror(err));
        job_end(job);
    }
    return err;
}

static int inspect_failed(images_job *job, int status, const char *msg, const char *ref) {
    job->inspect = NULL;
    if (job->canceled) {
        fail_now(job, UV_ECANCELED, "building: canceled");
        return 1;
    }
    if (status != 0 && status != DOCKER_ENOTFOUND) {
        job->status = status;
        snprintf(job->msg, sizeof(job->msg), "cannot ask Docker whether %s is built: %s", ref,
                 msg != NULL ? msg : hdc_strerror(status));
        job_end(job);
        return 1;
    }
    return 0;
}

static void say(images_job *job, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(images_job *job, const char *fmt, ...) {
    char line[1024];
    va_list ap;

    if (job->progress == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    job->progress(job->data, job->items[job->next].tag, line);
}

static void latest_checked(void *data, int status, const char *msg, const docker_image_info *info) {
    images_job *job = data;
    build_item *it = &job->items[job->next];

    if (inspect_failed(job, status, msg, it->tag))
        return;
    /* A stand-in takes the familiar alias only from nobody, another
     * stand-in or an image built before identities (the test suite's and
     * the quickstart's, then): never from a real build. */
    if (status == DOCKER_ENOTFOUND || is_stand_in(info) || !has_identity(info))
        repo_tag(it->latest, sizeof(it->latest), it->repo, "latest");
    else
        say(job, "%s is a real build: the stand-in is %s only", it->tag, it->alias);
    job_stage(job);
}

static void up_to_date(images_job *job) {
    build_item *it = &job->items[job->next];

    say(job, "%s is up to date (%s%s): nothing to build", it->alias, it->id_tag,
        it->stand_in ? ", hdc's test stand-in, NOT Hadoop" : "");
    item_done(job);
}

/* An up-to-date stand-in: REPO:latest as well, unless a real build has
 * it. Missing (removed since) or another stand-in's, it is given again by
 * a build, which Docker's cache makes a matter of tags. */
static void latest_of_up_to_date(void *data, int status, const char *msg,
                                 const docker_image_info *info) {
    images_job *job = data;
    build_item *it = &job->items[job->next];

    if (inspect_failed(job, status, msg, it->tag))
        return;
    if (status == 0 &&
        (is_identity(info, it->identity) || (!is_stand_in(info) && has_identity(info)))) {
        up_to_date(job);
        return;
    }
    repo_tag(it->latest, sizeof(it->latest), it->repo, "latest");
    job_stage(job);
}

/* Not built for its inputs: built now; a stand-in's after a look at
 * whether REPO:latest is free for it. */
static void item_build(images_job *job) {
    if (job->items[job->next].stand_in)
        job_inspect(job, job->items[job->next].tag, latest_checked);
    else
        job_stage(job);
}

static void alias_checked(void *data, int status, const char *msg, const docker_image_info *info) {
    images_job *job = data;
    build_item *it = &job->items[job->next];

    if (inspect_failed(job, status, msg, it->alias))
        return;
    if (status == 0 && is_identity(info, it->identity) && !job->nocache) {
        if (it->stand_in)
            job_inspect(job, it->tag, latest_of_up_to_date);
        else
            up_to_date(job);
        return;
    }
    item_build(job);
}

static void res_add(cluster_images *r, const char *name, const char *ref) {
    if (r->n == CLUSTER_IMAGES_MAX)
        return;
    snprintf(r->name[r->n], sizeof(r->name[0]), "%s", name);
    snprintf(r->ref[r->n], sizeof(r->ref[0]), "%s", ref);
    r->n++;
}

/* images_resolve: the image of its identity is there, or is built when
 * every input is here. */
static void resolve_checked(void *data, int status, const char *msg,
                            const docker_image_info *info) {
    images_job *job = data;
    build_item *it = &job->items[job->next];

    if (inspect_failed(job, status, msg, it->id_tag))
        return;
    if (status == 0 && is_identity(info, it->identity)) {
        item_done(job);
        return;
    }
    for (size_t k = 0; k < it->n_extras; k++)
        if (it->extra_gone[k]) {
            job->status = CLUSTER_ENOIMAGE;
            snprintf(job->msg, sizeof(job->msg),
                     "%s: %s is not built for its inputs (%s: the build context or the base "
                     "changed since `hdc build %s`), and %s, the release it was built from, is "
                     "not there any more: run `hdc build %s` (--hadoop-tarball FILE for a file "
                     "of your own)",
                     job->dist_name, it->repo, it->id_tag, job->dist_name, it->extra_src[k],
                     job->dist_name);
            job_end(job);
            return;
        }
    say(job,
        "%s is not built for its inputs (an input changed since `hdc build %s`, or it was "
        "never built here): building it from what is here",
        it->id_tag, job->dist_name);
    item_build(job);
}

/* images_resolve, at the end: each alias of hdc's own images it runs, by
 * the identity tag it carries now (an image built before identities by
 * its image ID). */
static void pin_checked(void *data, int status, const char *msg, const docker_image_info *info) {
    images_job *job = data;
    const char *id;
    char ref[256], pinned[256];

    memcpy(ref, job->pins[job->next_pin], sizeof(ref));
    if (inspect_failed(job, status, msg, ref))
        return;
    if (status == DOCKER_ENOTFOUND) {
        job->status = CLUSTER_ENOIMAGE;
        snprintf(job->msg, sizeof(job->msg),
                 "%s is missing: run `hdc build-base` (`hdc build-base --stand-in` for hdc's "
                 "test stand-in)",
                 ref);
        job_end(job);
        return;
    }
    id = label_of(info, IMAGES_LABEL_IDENTITY);
    if (id != NULL && strlen(id) == 64)
        images_identity_tag(ref, id, pinned, sizeof(pinned));
    else
        snprintf(pinned, sizeof(pinned), "%s", info->id);
    if (job->next_pin == 0)
        snprintf(job->res.zookeeper, sizeof(job->res.zookeeper), "%s", pinned);
    else
        res_add(&job->res, ref, pinned);
    job->next_pin++;
    pin_next(job);
}

static void pin_next(images_job *job) {
    int err;

    if (job->next_pin == job->n_pins) {
        job->pinned = 1;
        job_end(job);
        return;
    }
    err = docker_image_inspect(job->d, job->pins[job->next_pin], pin_checked, job, &job->inspect);
    if (err != 0) {
        job->status = err;
        snprintf(job->msg, sizeof(job->msg), "cannot ask Docker about %s: %s",
                 job->pins[job->next_pin], hdc_strerror(err));
        job->pinned = 1;
        job_end(job);
    }
}

/* ZooKeeper's image, and the services' that are hdc's by an alias
 * ("hdc/client:latest"): what pin_next pins. */
static void pins_of(images_job *job, const hdc_plugin_desc *desc) {
    static const char latest[] = ":latest";

    snprintf(job->pins[job->n_pins++], sizeof(job->pins[0]), "%s", CLUSTER_ZK_IMAGE);
    for (const hdc_service *s = desc->services; s != NULL && s->name != NULL; s++) {
        size_t len = s->image != NULL ? strlen(s->image) : 0;
        int seen = 0;
        if (len <= 4 + sizeof(latest) - 1 || strncmp(s->image, "hdc/", 4) != 0 ||
            strcmp(s->image + len - (sizeof(latest) - 1), latest) != 0 || job->n_pins == MAX_PINS)
            continue;
        for (size_t i = 0; i < job->n_pins; i++)
            seen |= strcmp(job->pins[i], s->image) == 0;
        if (!seen)
            snprintf(job->pins[job->n_pins++], sizeof(job->pins[0]), "%s", s->image);
    }
}

/* The args that name what it is FROM, its identity, then the alias. */
static void item_decide(images_job *job) {
    build_item *it = &job->items[job->next];

    if (it->from_item >= 0) {
        const build_item *from = &job->items[it->from_item];
        item_arg(it, "HDC_BASE", from->id_tag);
        memcpy(it->from_identity, from->identity, sizeof(from->identity));
        it->stand_in |= from->stand_in;
    } else if (it->from_base) {
        item_arg(it, "HDC_BASE", job->base_ref);
        snprintf(it->from_identity, sizeof(it->from_identity), "%s", job->base_identity);
        it->stand_in |= job->stand_in;
    }
    if (it->dist_image)
        for (size_t i = 0; i < job->next; i++) {
            char key[128];
            snprintf(key, sizeof(key), "HDC_IMAGE_%s", job->items[i].name);
            item_arg(it, key, job->items[i].id_tag);
        }
    item_identity(it);
    if (job->resolve) {
        res_add(&job->res, it->name, it->id_tag);
        job_inspect(job, it->id_tag, resolve_checked);
        return;
    }
    job_inspect(job, it->alias, alias_checked);
}

static void base_found(images_job *job, const char *ref, const docker_image_info *info) {
    const char *id = label_of(info, IMAGES_LABEL_IDENTITY);

    /* What is built on the stand-in's base is the stand-in's too. */
    job->stand_in |= is_stand_in(info);

    if (id != NULL && strlen(id) == 64) {
        images_identity_tag(ref, id, job->base_ref, sizeof(job->base_ref));
        snprintf(job->base_identity, sizeof(job->base_identity), "%s", id);
    } else {
        /* Built before identities: its image ID stands for it. */
        snprintf(job->base_ref, sizeof(job->base_ref), "%s", ref);
        snprintf(job->base_identity, sizeof(job->base_identity), "%s", info->id);
    }
    item_decide(job);
}

static void base_latest_checked(void *data, int status, const char *msg,
                                const docker_image_info *info) {
    images_job *job = data;

    if (inspect_failed(job, status, msg, CLUSTER_BASE_IMAGE))
        return;
    if (status == DOCKER_ENOTFOUND) {
        fail_now(job, IMAGES_EMISSING,
                 CLUSTER_BASE_IMAGE " is missing: build it first: hdc build-base");
        return;
    }
    if (!job->stand_in && job->has_artifacts && is_stand_in(info)) {
        fail_now(job, IMAGES_EMISSING,
                 CLUSTER_BASE_IMAGE " is the base of hdc's test stand-in (hdc build-base "
                                    "--stand-in, no JDK needed): a Hadoop release needs a base "
                                    "with a JDK: run hdc build-base --base-image IMAGE (a JDK "
                                    "image; the default has one), then build again");
        return;
    }
    base_found(job, CLUSTER_BASE_IMAGE, info);
}

static void base_stand_in_checked(void *data, int status, const char *msg,
                                  const docker_image_info *info) {
    images_job *job = data;

    if (inspect_failed(job, status, msg, "hdc/base:" IMAGES_STAND_IN_TAG))
        return;
    if (status == DOCKER_ENOTFOUND)
        job_inspect(job, CLUSTER_BASE_IMAGE, base_latest_checked);
    else
        base_found(job, "hdc/base:" IMAGES_STAND_IN_TAG, info);
}

static void identified(uv_work_t *w, int status) {
    images_job *job = w->data;
    build_item *it = &job->items[job->next];

    if (job->canceled && job->status == 0) {
        fail_now(job, UV_ECANCELED, "building: canceled");
        return;
    }
    if (job->status != 0) {
        job_end(job);
        return;
    }
    /* A distribution's images after its stand-in's are the stand-in's. */
    if (job->dist) {
        job->stand_in |= it->stand_in;
        it->stand_in |= job->stand_in;
    }
    if (it->from_base && job->base_ref[0] == '\0')
        job_inspect(job, job->stand_in ? "hdc/base:" IMAGES_STAND_IN_TAG : CLUSTER_BASE_IMAGE,
                    job->stand_in ? base_stand_in_checked : base_latest_checked);
    else
        item_decide(job);
}

static void job_identify(images_job *job) {
    job->work.data = job;
    if (uv_queue_work(job->loop, &job->work, identity_work, identified) != 0)
        fail_now(job, UV_EIO, "cannot queue work on the thread pool");
}

static void looked(uv_work_t *w, int status) {
    images_job *job = w->data;

    if (job->status != 0) {
        job_end(job);
        return;
    }
    job->next_fetch = 0;
    job_fetch_next(job);
}

static void job_next(images_job *job) {
    job->work.data = job;
    if (uv_queue_work(job->loop, &job->work, look_work, looked) != 0)
        fail_now(job, UV_EIO, "cannot queue work on the thread pool");
}

static int job_start(images_job *job, images_job **out) {
    if (job->n_items == 0) {
        free(job);
        return UV_EINVAL;
    }
    if (out != NULL)
        *out = job;
    job_next(job);
    return 0;
}

void images_cancel(images_job *job) {
    job->canceled = 1;
    if (job->call != NULL)
        docker_call_cancel(job->call);
    if (job->fetching != NULL)
        fetch_cancel(job->fetching);
    if (job->inspect != NULL)
        docker_call_cancel(job->inspect);
}

int images_build_base(uv_loop_t *loop, docker *d, const images_opts *opts,
                      images_progress_cb progress, images_cb cb, void *data, images_job **out) {
    images_job *job;
    build_item *it;

    if (opts->clusters_dir == NULL || opts->agent_path == NULL || cb == NULL)
        return UV_EINVAL;
    if (access(opts->agent_path, X_OK) != 0)
        return IMAGES_EMISSING;
    job = calloc(1, sizeof(*job));
    if (job == NULL)
        return UV_ENOMEM;
    *job = (images_job){.loop = loop,
                        .d = d,
                        .progress = progress,
                        .cb = cb,
                        .data = data,
                        .nocache = opts->nocache};
    images_cache_dir(opts, job->cache, sizeof(job->cache));
    it = &job->items[job->n_items++];
    item_names(it, CLUSTER_BASE_IMAGE, -1);
    it->stand_in = opts->stand_in;
    images_context_dir(opts, "base", it->context, sizeof(it->context));
    snprintf(it->extra_src[0], sizeof(it->extra_src[0]), "%s", opts->agent_path);
    snprintf(it->extra_dst[0], sizeof(it->extra_dst[0]), "hdc-agent");
    it->n_extras = 1;
    item_arg(it, "BASE_IMAGE", opts->base_image);

    it = &job->items[job->n_items++];
    item_names(it, CLUSTER_CLIENT_IMAGE, 0);
    images_context_dir(opts, "client", it->context, sizeof(it->context));

    it = &job->items[job->n_items++];
    item_names(it, CLUSTER_ZK_IMAGE, -1);
    images_context_dir(opts, "zookeeper", it->context, sizeof(it->context));
    item_arg(it, "BASE_IMAGE",
             opts->zk_base_image != NULL ? opts->zk_base_image : "debian:bookworm");
    return job_start(job, out);
}

/* Whether a client service of desc runs im (so its context needs CLIENT_INIT). */
static int runs_client(const hdc_plugin_desc *desc, const hdc_image *im) {
    for (const hdc_service *s = desc->services; s != NULL && s->name != NULL; s++)
        if ((s->flags & HDC_SERVICE_CLIENT) && s->image != NULL && strcmp(s->image, im->name) == 0)
            return 1;
    return 0;
}

static void client_init_path(const images_opts *opts, char *out, size_t len) {
    images_context_dir(opts, CLIENT_CONTEXT "/" CLIENT_INIT, out, len);
}

/* A job for every image desc declares (images_build_dist,
 * images_resolve), not started. */
static images_job *dist_job(uv_loop_t *loop, docker *d, const hdc_plugin_desc *desc,
                            const images_opts *opts, images_progress_cb progress, void *data) {
    images_job *job = calloc(1, sizeof(*job));

    if (job == NULL)
        return NULL;
    *job = (images_job){.loop = loop,
                        .d = d,
                        .progress = progress,
                        .data = data,
                        .nocache = opts->nocache,
                        .dist = 1};
    snprintf(job->dist_name, sizeof(job->dist_name), "%s", desc->name);
    images_cache_dir(opts, job->cache, sizeof(job->cache));
    for (const hdc_image *im = desc->images; im != NULL && im->name != NULL; im++) {
        build_item *it;
        if (job->n_items == MAX_ITEMS)
            break;
        it = &job->items[job->n_items++];
        cluster_image_ref(desc, im->name, it->tag, sizeof(it->tag));
        item_names(it, it->tag, -1);
        it->from_base = 1;
        it->dist_image = 1;
        snprintf(it->name, sizeof(it->name), "%s", im->name);
        images_context_dir(opts, im->context, it->context, sizeof(it->context));
        item_arg(it, "HDC_DIST", desc->name);
        for (const char *const *a = im->build_args; a != NULL && *a != NULL; a++) {
            const char *eq = strchr(*a, '=');
            char key[256];
            snprintf(key, sizeof(key), "%.*s", (int)(eq - *a), *a);
            item_arg(it, key, eq + 1);
        }
        for (const hdc_artifact *ar = im->artifacts;
             ar != NULL && ar->file != NULL && it->n_extras < MAX_EXTRAS; ar++) {
            size_t k = it->n_extras++;
            if (ar == im->artifacts && opts->hadoop_tarball != NULL) {
                item_give(it, k, opts->hadoop_tarball, ar);
            } else {
                snprintf(it->extra_src[k], sizeof(it->extra_src[k]), "%s/%s", job->cache, ar->file);
                it->extra_fetch[k] = ar;
            }
            snprintf(it->extra_dst[k], sizeof(it->extra_dst[k]), "%s", ar->file);
            job->has_artifacts = 1;
        }
        if (runs_client(desc, im) && it->n_extras < MAX_EXTRAS) {
            size_t k = it->n_extras++;
            client_init_path(opts, it->extra_src[k], sizeof(it->extra_src[k]));
            snprintf(it->extra_dst[k], sizeof(it->extra_dst[k]), "%s", CLIENT_INIT);
        }
    }
    return job;
}

int images_build_dist(uv_loop_t *loop, docker *d, const hdc_plugin_desc *desc,
                      const images_opts *opts, images_progress_cb progress, images_cb cb,
                      void *data, images_job **out) {
    images_job *job;

    if (desc == NULL || opts->clusters_dir == NULL || cb == NULL)
        return UV_EINVAL;
    if (images_check(desc, opts, NULL, 0) != 0)
        return IMAGES_EMISSING;
    if ((job = dist_job(loop, d, desc, opts, progress, data)) == NULL)
        return UV_ENOMEM;
    job->cb = cb;
    return job_start(job, out);
}

int images_resolve(uv_loop_t *loop, docker *d, const hdc_plugin_desc *desc, const images_opts *opts,
                   images_progress_cb progress, images_resolve_cb cb, void *data,
                   images_job **out) {
    images_job *job;
    int err;

    /* A context missing is found on the thread pool, and said, by the
     * job (callers check first: fleet_add). */
    if (desc == NULL || opts->clusters_dir == NULL || cb == NULL)
        return UV_EINVAL;
    if ((job = dist_job(loop, d, desc, opts, progress, data)) == NULL)
        return UV_ENOMEM;
    job->resolved = cb;
    job->resolve = 1;
    job->nocache = 0;
    pins_of(job, desc);
    if (job->n_items > 0)
        return job_start(job, out);
    /* Nothing of its own to build: the pins only. */
    err = docker_image_inspect(d, job->pins[0], pin_checked, job, &job->inspect);
    if (err != 0) {
        free(job);
        return err;
    }
    if (out != NULL)
        *out = job;
    return 0;
}

int images_check(const hdc_plugin_desc *desc, const images_opts *opts, char *err, size_t err_len) {
    for (const hdc_image *im = desc->images; im != NULL && im->name != NULL; im++) {
        char dir[4096];
        struct stat st;
        images_context_dir(opts, im->context, dir, sizeof(dir));
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            if (err != NULL)
                snprintf(err, err_len, "image '%s': its build context %s is not a directory",
                         im->name, dir);
            return IMAGES_EMISSING;
        }
        /* Only --hadoop-tarball is checked here: the other artifacts are
         * fetched (or found in the cache) when the build runs. */
        if (im->artifacts != NULL && im->artifacts[0].file != NULL &&
            opts->hadoop_tarball != NULL && access(opts->hadoop_tarball, R_OK) != 0) {
            if (err != NULL)
                snprintf(err, err_len, "--hadoop-tarball %s: %s", opts->hadoop_tarball,
                         strerror(errno));
            return IMAGES_EMISSING;
        }
        if (runs_client(desc, im)) {
            char init[4096];
            client_init_path(opts, init, sizeof(init));
            if (access(init, R_OK) != 0) {
                if (err != NULL)
                    snprintf(err, err_len, "image '%s' (a client service's): %s: %s", im->name,
                             init, strerror(errno));
                return IMAGES_EMISSING;
            }
        }
    }
    return 0;
}
