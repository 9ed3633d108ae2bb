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
 */
#define _GNU_SOURCE /* nftw flags */
#include "images.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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
};

static void job_next(images_job *job);

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

static void item_arg(build_item *it, const char *key, const char *value) {
    if (it->n_args >= MAX_ARGS || value == NULL)
        return;
    snprintf(it->arg_buf[it->n_args][0], 512, "%s", key);
    snprintf(it->arg_buf[it->n_args][1], 512, "%s", value);
    it->args[it->n_args].key = it->arg_buf[it->n_args][0];
    it->args[it->n_args].value = it->arg_buf[it->n_args][1];
    it->n_args++;
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

/* ---- the sequence ------------------------------------------------------------ */

static void job_end(images_job *job) {
    job->cb(job->data, job->status, job->status != 0 ? job->msg : NULL);
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
    docker_kv label = {"hdc.image", it->tag};
    docker_build_opts bo = {
        .context_dir = job->staged,
        .tag = it->tag,
        .buildargs = it->args,
        .n_buildargs = it->n_args,
        .labels = &label,
        .n_labels = 1,
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
        char *line = util_asprintf("building %s from %s", it->tag, it->context);
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
    while (job->next_fetch < it->n_extras && it->extra_fetch[job->next_fetch] == NULL)
        job->next_fetch++;
    if (job->next_fetch == it->n_extras) {
        job_stage(job);
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

static void job_next(images_job *job) {
    job->next_fetch = 0;
    job_fetch_next(job);
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
    it = &job->items[job->n_items++];
    snprintf(it->tag, sizeof(it->tag), "%s", CLUSTER_BASE_IMAGE);
    images_context_dir(opts, "base", it->context, sizeof(it->context));
    snprintf(it->extra_src[0], sizeof(it->extra_src[0]), "%s", opts->agent_path);
    snprintf(it->extra_dst[0], sizeof(it->extra_dst[0]), "hdc-agent");
    it->n_extras = 1;
    item_arg(it, "BASE_IMAGE", opts->base_image);

    it = &job->items[job->n_items++];
    snprintf(it->tag, sizeof(it->tag), "%s", CLUSTER_CLIENT_IMAGE);
    images_context_dir(opts, "client", it->context, sizeof(it->context));
    item_arg(it, "HDC_BASE", CLUSTER_BASE_IMAGE);

    it = &job->items[job->n_items++];
    snprintf(it->tag, sizeof(it->tag), "%s", CLUSTER_ZK_IMAGE);
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

int images_build_dist(uv_loop_t *loop, docker *d, const hdc_plugin_desc *desc,
                      const images_opts *opts, images_progress_cb progress, images_cb cb,
                      void *data, images_job **out) {
    images_job *job;

    if (desc == NULL || opts->clusters_dir == NULL || cb == NULL)
        return UV_EINVAL;
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
    for (const hdc_image *im = desc->images; im != NULL && im->name != NULL; im++) {
        build_item *it;
        if (job->n_items == MAX_ITEMS)
            break;
        it = &job->items[job->n_items++];
        cluster_image_ref(desc, im->name, it->tag, sizeof(it->tag));
        images_context_dir(opts, im->context, it->context, sizeof(it->context));
        item_arg(it, "HDC_BASE", CLUSTER_BASE_IMAGE);
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
                /* Checked where it is (its .sha512, or the pin), never fetched. */
                const char *slash = strrchr(opts->hadoop_tarball, '/');
                snprintf(it->extra_src[k], sizeof(it->extra_src[k]), "%s", opts->hadoop_tarball);
                snprintf(it->given_file[k], sizeof(it->given_file[k]), "%s",
                         slash != NULL ? slash + 1 : opts->hadoop_tarball);
                if (slash == NULL)
                    snprintf(it->given_dir[k], sizeof(it->given_dir[k]), ".");
                else
                    snprintf(
                        it->given_dir[k], sizeof(it->given_dir[k]), "%.*s",
                        (int)(slash == opts->hadoop_tarball ? 1 : slash - opts->hadoop_tarball),
                        opts->hadoop_tarball);
                it->given[k] = (hdc_artifact){it->given_file[k], ar->url, ar->sha512};
                it->extra_fetch[k] = &it->given[k];
            } else {
                snprintf(it->extra_src[k], sizeof(it->extra_src[k]), "%s/%s", job->cache, ar->file);
                it->extra_fetch[k] = ar;
            }
            snprintf(it->extra_dst[k], sizeof(it->extra_dst[k]), "%s", ar->file);
        }
        if (runs_client(desc, im) && it->n_extras < MAX_EXTRAS) {
            size_t k = it->n_extras++;
            client_init_path(opts, it->extra_src[k], sizeof(it->extra_src[k]));
            snprintf(it->extra_dst[k], sizeof(it->extra_dst[k]), "%s", CLIENT_INIT);
        }
    }
    if (images_check(desc, opts, NULL, 0) != 0) {
        free(job);
        return IMAGES_EMISSING;
    }
    return job_start(job, out);
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
