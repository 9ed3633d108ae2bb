/* Image builds: `hdc build-base` (the base layer with hdc-agent, and
 * ZooKeeper's image) and `hdc build DIST` (a distribution's images, from
 * its plugin's descriptor), streamed through the Docker client.
 *
 * Every image has an identity: a SHA-256 over its inputs (the build
 * context's files, paths and modes, the build args, the artifacts' and
 * hdc-agent's content, and the identity of the image it is built FROM),
 * never over local image IDs, so that it means the same on any engine. It
 * is the label hdc.identity and the tag REPO:id-<first 16 hex digits>; the
 * alias REPO:latest stays for people. An image whose identity tag is there
 * (as its alias) is not built again: no build request is sent.
 *
 * Images built from hdc's test stand-in for Hadoop (a tarball holding
 * libexec/hdc-standin), and images FROM them, are labelled
 * hdc.stand-in=true and aliased REPO:stand-in; they take REPO:latest only
 * when no real build holds it, so they never replace what a real build of
 * the same version resolves to. `hdc build-base --stand-in` makes such a
 * base (no JDK needed), and a distribution's stand-in build takes
 * hdc/base:stand-in first.
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

#include "cluster_spec.h" /* cluster_images */
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
    int stand_in; /* build-base: a base for the stand-in only (labelled, tagged apart) */
} images_opts;

#define IMAGES_LABEL_IDENTITY "hdc.identity"
#define IMAGES_LABEL_STAND_IN "hdc.stand-in"
#define IMAGES_STAND_IN_TAG   "stand-in"
/* The tarball digests already taken, by path, size and mtime, in the
 * cache directory (images_cache_dir). */
#define IMAGES_DIGESTS_FILE "identity-digests"

/* The digest cache grows by a line per new tarball; past this size it is
 * written again, compacted (images_digests_compact). */
#define IMAGES_DIGESTS_MAX (64 * 1024)

/* The digest cache's text with the last line of each path only, and of
 * those only the ones keep (NULL: all) says to keep, given the path, size
 * and mtime; malformed lines dropped. malloc'd, or NULL. Pure but for
 * keep. */
char *images_digests_compact(const char *text,
                             int (*keep)(const char *path, long long size, long long mtime_ns));

/* What each distribution was last built from, by kind (a real release or
 * the stand-in), for images_resolve: <cache>/built/<dist>.real and
 * <dist>.stand-in, a line per artifact, rewritten by every build that
 * ends well. */
#define IMAGES_BUILT_DIR "built"

typedef struct images_record_entry {
    char sha256[65];
    int stand_in;
    long long size, mtime_ns; /* of the file when it was built from */
    char path[4096];          /* absolute */
} images_record_entry;

/* The record's line for image's artifact file: 1 and out, else 0. text:
 * the whole file. Pure. */
int images_record_lookup(const char *text, const char *image, const char *file,
                         images_record_entry *out);

/* <cache>/built/<dist>.real (or .stand-in). */
void images_record_path(const char *cache, const char *dist, int stand_in, char *out, size_t len);

/* "hdc/base:id-0123456789abcdef" from "hdc/base:latest" (or "hdc/base")
 * and a 64-hex identity. Pure. */
void images_identity_tag(const char *ref, const char *identity, char *out, size_t len);

/* Whether a tarball's entry name is the stand-in's program
 * ("hadoop-V/libexec/hdc-standin"). Pure. */
int images_is_stand_in_entry(const char *name);

/* The digest cache's line for path (absolute), size and mtime, if any:
 * 1 and its sha256 (and whether the tarball is the stand-in), else 0.
 * text: the whole file. Pure. */
int images_digest_lookup(const char *text, const char *path, long long size, long long mtime_ns,
                         char sha256[65], int *stand_in);

/* The clusters among containers (as docker_container_list gives them, with
 * their hdc.cluster label) that run one of images (the stand-in's, as
 * docker_image_list gives them), each once, into out (room for
 * n_containers); the names are borrowed from containers. Pure. */
size_t images_stand_in_pick(const docker_object *images, size_t n_images,
                            const docker_object *containers, size_t n_containers, const char **out);

/* The clusters on the engine that run the stand-in's images (an image
 * labelled hdc.stand-in=true), by name. Borrowed for the callback. */
typedef void (*images_stand_in_cb)(void *data, int status, const char *msg,
                                   const char *const *clusters, size_t n);
int images_stand_in_clusters(docker *d, images_stand_in_cb cb, void *data);

/* Whether name is among clusters. */
int images_among(const char *const *clusters, size_t n, const char *name);

/* `hdc gc --images`: of images (hdc's, as docker_image_list gives them
 * for the label hdc.image), what to remove: every tag, or the ID of an
 * untagged one, of each image that no container of containers (all of the
 * engine's) runs and that REPO:latest or REPO:stand-in does not name (the
 * newest of its repository, real or stand-in). At most cap refs into out,
 * borrowed from images; returns how many. Pure. */
size_t images_gc_pick(const docker_object *images, size_t n_images, const docker_object *containers,
                      size_t n_containers, const char **out, size_t cap);

/* A line of build output of image (a Docker reference). Borrowed. */
typedef void (*images_progress_cb)(void *data, const char *image, const char *line);
typedef void (*images_cb)(void *data, int status, const char *msg);

typedef struct images_job images_job;

/* Builds hdc/base, hdc/client (sshd on the base) and hdc/zookeeper, one
 * after the other. *out (optional) is valid until cb. */
int images_build_base(uv_loop_t *loop, docker *d, const images_opts *opts,
                      images_progress_cb progress, images_cb cb, void *data, images_job **out);

/* Builds every image desc declares, in order, as "hdc/<dist>-<image>",
 * FROM hdc/base by identity (hdc/base:stand-in first for the stand-in):
 * build arg HDC_BASE; an image built after another of desc gets the
 * other's identity tag as HDC_IMAGE_<name> (the client image FROM its
 * distribution's image). */
int images_build_dist(uv_loop_t *loop, docker *d, const hdc_plugin_desc *desc,
                      const images_opts *opts, images_progress_cb progress, images_cb cb,
                      void *data, images_job **out);

/* What `hdc up` (and `hdc client`) run of desc: each image it declares by
 * its identity tag, and ZooKeeper's. The identities are computed from the
 * inputs as images_build_dist computes them, the release being (unless
 * opts->hadoop_tarball names it) the one the last real build of desc was
 * made from (the record), else the one in the cache, else the one of the
 * last stand-in build: a stand-in is run only where no real release is.
 * An image whose identity tag is on the engine is run as it is; one that
 * is not (an input changed since `hdc build`) is built, said through
 * progress, when every input is here; when one is not (the release is
 * neither recorded, nor cached, nor there any more), the job fails with
 * CLUSTER_ENOIMAGE and a message naming `hdc build`. Nothing is
 * downloaded. ZooKeeper's image is the one hdc/zookeeper:latest names
 * (`hdc build-base`), by its identity tag. images is borrowed for cb. */
typedef void (*images_resolve_cb)(void *data, int status, const char *msg,
                                  const cluster_images *images);
int images_resolve(uv_loop_t *loop, docker *d, const hdc_plugin_desc *desc, const images_opts *opts,
                   images_progress_cb progress, images_resolve_cb cb, void *data, images_job **out);

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
