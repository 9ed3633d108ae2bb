/* A fleet of ups: one cluster per member, brought up concurrently on one
 * loop, at most `parallel` of them alive at once. It is what `hdc up`
 * (every DIST of the command line at once) and `hdc matrix` (a cluster per
 * DIST for the length of its test) share: the plugins, the plans made
 * before anything is created, the slots, the ups and their cancel.
 *
 * A member is alive from the start of its up until the command releases
 * it (fleet_release); the next member waiting for a slot starts then.
 *
 * Conventions, as in libuv: calls return 0 or a negative error; a hook is
 * called exactly once per member and event, never from inside the call
 * that caused it.
 */
#ifndef HDC_FLEET_H
#define HDC_FLEET_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "cluster.h"
#include "docker.h"
#include "images.h"
#include "plan.h"
#include "plugin_host.h"

typedef struct fleet fleet;
typedef struct fleet_member fleet_member;

enum fleet_state {
    FLEET_IDLE,     /* added, not launched */
    FLEET_WAITING,  /* launched, waiting for a slot */
    FLEET_UP,       /* its up runs (or, with follow, its logs are followed) */
    FLEET_ENDED,    /* its up has called back */
    FLEET_RELEASED, /* its slot is free */
};

struct fleet_member {
    fleet *f;
    const char *dist;
    char name[PLAN_MAX_NAME + 1];
    plugin *plug; /* owned: unloaded by fleet_free */
    plan plan;    /* made by fleet_add; handed to cluster_up at the start */
    /* Fixed at its start, in the labels of every object of it. */
    cluster_identity id;
    char *logs_dir, *keys_dir; /* absolute; id points at them */
    cluster *c;                /* the up, while FLEET_UP */
    enum fleet_state state;
    int ready;  /* with follow: it came up, its logs are being followed */
    void *data; /* the command's */
    /* With fleet_opts.images: what its cluster runs, once resolved (the
     * stand-in's or not: images->stand_in); NULL before. */
    const cluster_images *images;
    /* Why its up could not start (done with r NULL), or NULL. */
    const char *why;
    int resolving; /* waiting for its distribution's images */
};

typedef struct fleet_hooks {
    /* Optional: the member's up starts now (it had a slot). */
    void (*started)(fleet_member *m);
    /* Optional: a line of the build of image, which the resolution of the
     * member's distribution's images found out of date (fleet_opts.images). */
    void (*building)(fleet_member *m, const char *image, const char *line);
    /* Optional: a node of the member's cluster changed state. */
    void (*progress)(fleet_member *m, const cluster_node_report *rep);
    /* With follow: the cluster is up; its logs go on until fleet_stop. */
    void (*ready)(fleet_member *m, const cluster_report *r);
    /* The up has ended: r->status 0 when the cluster came up (without
     * follow, or after fleet_stop), else the failure. r is NULL when the
     * up could not start (status says why). */
    void (*done)(fleet_member *m, int status, const cluster_report *r);
} fleet_hooks;

typedef struct fleet_opts {
    unsigned datanodes;
    unsigned timeout_s; /* of each up; 0: the steps' deadlines only */
    unsigned parallel;  /* members alive at once; 0: all */
    int publish_classic, rm_on_failure, follow;
    const char *logs_root;   /* clusters' logs go to <root>/<name>/ */
    const char *keys_root;   /* their clients' keys to <root>/<name>/ */
    uint64_t ttl_s;          /* their time-to-live (hdc.expires); 0: none */
    unsigned boot_timeout_s; /* the agents' wait for `boot`; 0: forever */
    int held;                /* the clusters live while this process runs */
    const char *test_user;   /* NULL: "hdc" */
    const char *subnet_pool; /* HDC_SUBNET_POOL; NULL: the default */
    unsigned memory_mb;      /* each cluster's budget (--memory), MB; 0: the declared limits;
                                fleet_add refuses one below a cluster's minimum */
    /* Where the build contexts and the release cache are: each
     * distribution's images are resolved by identity (images_resolve),
     * once, before the first up of it. NULL: none (REPO:latest). */
    const images_opts *images;
} fleet_opts;

/* A fleet; o and hooks are copied, data is the command's; the roots are
 * made absolute (the labels name them for any hdc, run from anywhere),
 * and this process named as the owner (owner.h). Members are
 * added (and planned) before any I/O; fleet_attach then gives the fleet
 * the loop and the Docker client its ups run on. */
int fleet_new(const fleet_opts *o, const fleet_hooks *hooks, void *data, fleet **out);
void fleet_attach(fleet *f, uv_loop_t *loop, docker *d);
void *fleet_data(const fleet *f);

/* Adds the cluster `name` of plug's distribution (plug is handed over)
 * and plans it, so that a pool or a count the plan refuses, or a build
 * context its images need (fleet_opts.images), is found before anything
 * is created: 0, or PLAN_EINVAL (IMAGES_EMISSING) with the reason in err. */
int fleet_add(fleet *f, plugin *plug, const char *name, fleet_member **out, char *err,
              size_t err_len);

size_t fleet_size(const fleet *f);
fleet_member *fleet_at(const fleet *f, size_t i);

/* Starts m's up as soon as a slot is free (at once when there is one),
 * after its distribution's images are resolved (fleet_opts.images). */
void fleet_launch(fleet_member *m);

/* m's cluster is done with: its slot goes to the next member waiting. */
void fleet_release(fleet_member *m);

/* Ends following a member's logs (follow, after ready): done follows. */
void fleet_stop(fleet_member *m);

/* Cancels every up still coming up (done follows with UV_ECANCELED) and
 * starts nothing more: members still waiting stay so. Members that came
 * up (ready) go on until fleet_stop. */
void fleet_cancel(fleet *f);
int fleet_canceled(const fleet *f);

/* Whether every member launched has ended. */
int fleet_settled(const fleet *f);

void fleet_free(fleet *f);

#endif
