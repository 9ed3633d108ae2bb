/* A cluster's record: the part of its state that changes (creating, up,
 * failed, stopped) and who holds it, kept in a small file in its ZooKeeper
 * container. Labels cannot change after creation, and ZooKeeper is down
 * whenever a cluster is stopped, so the record lives where both can be
 * read and written: a file written and read through Docker's archive
 * endpoint, which works on a stopped container and on any engine.
 *
 * And what a cluster is, all told: from its record, its labels, its
 * containers and whether its owner runs (owner.h), one state as `hdc ls`
 * shows it and `hdc gc` decides on. Pure: no I/O; the reads and writes go
 * through the callers' Docker calls.
 */
#ifndef HDC_CLUSTER_RECORD_H
#define HDC_CLUSTER_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "owner.h"

/* The file, in the ZooKeeper container's root directory. */
#define CLUSTER_RECORD_DIR  "/"
#define CLUSTER_RECORD_FILE "hdc-record.json"

enum cluster_record_state {
    RECORD_NONE, /* no record (yet): the up had not created ZooKeeper's container */
    RECORD_CREATING,
    RECORD_UP,
    RECORD_FAILED,
    RECORD_STOPPED,
};

typedef struct cluster_record {
    enum cluster_record_state state;
    int64_t since;          /* Unix seconds */
    char holder[OWNER_MAX]; /* "": the cluster outlives the command that made it;
                                else it lives only while this owner runs */
} cluster_record;

/* The record as the file holds it (JSON): malloc'd, NULL on ENOMEM. */
char *cluster_record_encode(const cluster_record *r);
/* 0, or UV_EINVAL when text is not a record. */
int cluster_record_decode(const char *text, size_t len, cluster_record *out);

/* The tar Docker's archive endpoint takes to write the file (malloc'd into
 * *tar), and the file read back from the tar it gives. 0, UV_ENOMEM, or
 * UV_EINVAL. */
int cluster_record_tar(const cluster_record *r, void **tar, size_t *len);
int cluster_record_untar(const void *tar, size_t len, cluster_record *out);

const char *cluster_record_state_name(enum cluster_record_state s);

/* ---- what a cluster is ------------------------------------------------------ */

enum cluster_state {
    CLUSTER_CREATING, /* an up at work (its owner runs, or cannot be known to be gone) */
    CLUSTER_UP,       /* every container runs */
    CLUSTER_DEGRADED, /* up, but a container exited (a probe red: hdc status says) */
    CLUSTER_FAILED,   /* its up failed and left it for inspection */
    CLUSTER_STOPPED,  /* no container runs; its data is kept for a later start */
    CLUSTER_ORPHANED, /* its owner is gone before it was up, or while holding it */
    CLUSTER_EXPIRED,  /* its time-to-live has passed */
};

/* What is known of a cluster. */
typedef struct cluster_facts {
    const cluster_record *record; /* NULL: none could be read */
    const char *owner;            /* hdc.owner, or NULL */
    int64_t expires;              /* hdc.expires, or 0 */
    size_t containers;            /* of it, the client's included */
    size_t running;               /* of those, running (or restarting, paused) */
    size_t created;               /* of those, created but never started */
    int64_t now;                  /* Unix seconds */
    /* The owner's and the holder's liveness (owner.h), as the caller found
     * them: tests give them. */
    enum owner_liveness owner_is, holder_is;
} cluster_facts;

enum cluster_state cluster_state_of(const cluster_facts *f);
const char *cluster_state_name(enum cluster_state s);

/* Whether `hdc gc` removes a cluster in that state whose owner is `owner_is`
 * (failed ones only when their owner is gone); stopped ones only with
 * --stopped. */
int cluster_collectable(enum cluster_state s, enum owner_liveness owner_is, int stopped_too);

#endif
