/* Image builds: `hdc build-base` (the base layer with hdc-agent, and
 * ZooKeeper's image) and `hdc build DIST` (a distribution's images, from
 * its plugin's descriptor), streamed through the Docker client.
 *
 * A build context is staged in a temporary directory (on the thread pool):
 * the context directory, plus the files the engine adds (hdc-agent for the
 * base, the artifacts a plugin declares, hdc-client-init for the image of a
 * client service), then archived by docker_build.
 *
 * Conventions, as in libuv: calls return 0 or a negative error; when one
 * fails its callback is never called, when it succeeds the callback is
 * called exactly once, never from inside the call.
 */
#ifndef HDC_IMAGES_H
#define HDC_IMAGES_H

#include <uv.h>

#include "docker.h"
#include "err.h" /* IMAGES_EMISSING */
#include "hdc/plugin.h"

typedef struct images_opts {
    const char *clusters_dir;   /* build contexts: <dir>/base, <dir>/zookeeper, ... */
    const char *agent_path;     /* the hdc-agent copied into the base image */
    const char *base_image;     /* the base's BASE_IMAGE (the JDK layer); NULL: the
                                     Dockerfile's default */
    const char *zk_base_image;  /* ZooKeeper's BASE_IMAGE; NULL: debian:bookworm */
    const char *dist_cache;     /* where artifacts are cached (and looked for first);
                                     NULL: ~/.cache/hdc/dist */
    const char *hadoop_tarball; /* stands for every image's first artifact, or NULL */
    int nocache;
} images_opts;

/* A line of build output of image (a Docker reference). Borrowed. */
typedef void (*images_progress_cb)(void *data, const char *image, const char *line);
typedef void (*images_cb)(void *data, int status, const char *msg);

typedef struct images_job images_job;

/* Builds hdc/base, hdc/client (sshd on the base) and hdc/zookeeper, one
 * after the other. *out (optional) is valid until cb. */
int images_build_base(uv_loop_t *loop, docker *d, const images_opts *opts,
                      images_progress_cb progress, images_cb cb, void *data, images_job **out);

/* Builds every image desc declares, in order, as "hdc/<dist>-<image>". */
int images_build_dist(uv_loop_t *loop, docker *d, const hdc_plugin_desc *desc,
                      const images_opts *opts, images_progress_cb progress, images_cb cb,
                      void *data, images_job **out);

/* Stops the builds: the one in flight (the engine stops it when its
 * connection closes) or the artifact's download; nothing more starts; cb
 * follows with UV_ECANCELED. */
void images_cancel(images_job *job);

/* Checks, before anything is built, that every context directory desc
 * needs, and --hadoop-tarball if given, can be found. 0, or
 * IMAGES_EMISSING with what is missing in err. Artifacts not given are
 * fetched (cache, else download) and checked when the build runs. */
int images_check(const hdc_plugin_desc *desc, const images_opts *opts, char *err, size_t err_len);

/* Where artifacts are cached: dist_cache, else ~/.cache/hdc/dist. */
void images_cache_dir(const images_opts *opts, char *out, size_t len);

/* Where a plugin's relative context lives: <clusters_dir>/<context>; an
 * absolute context as is. */
void images_context_dir(const images_opts *opts, const char *context, char *out, size_t len);

#endif
