/* A cluster's record and state (cluster_record.h).
 *
 * Decision: the record is a tar of one small JSON file because that is what
 * Docker's archive endpoint reads and writes; libarchive makes and reads
 * the tar in memory, so nothing touches the disk.
 */
#include "cluster_record.h"

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static const char *const state_names[] = {
    [RECORD_NONE] = "none",     [RECORD_CREATING] = "creating", [RECORD_UP] = "up",
    [RECORD_FAILED] = "failed", [RECORD_STOPPED] = "stopped",
};

const char *cluster_record_state_name(enum cluster_record_state s) {
    return s <= RECORD_STOPPED ? state_names[s] : "?";
}

char *cluster_record_encode(const cluster_record *r) {
    json_t *o = json_pack("{s:s, s:I, s:s}", "state", cluster_record_state_name(r->state), "since",
                          (json_int_t)r->since, "holder", r->holder);
    char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

    json_decref(o);
    return text;
}

int cluster_record_decode(const char *text, size_t len, cluster_record *out) {
    json_t *o = json_loadb(text, len, 0, NULL);
    const char *state = json_string_value(json_object_get(o, "state"));
    const char *holder = json_string_value(json_object_get(o, "holder"));
    int rc = UV_EINVAL;

    memset(out, 0, sizeof(*out));
    for (int s = RECORD_CREATING; state != NULL && s <= RECORD_STOPPED; s++)
        if (strcmp(state, state_names[s]) == 0) {
            out->state = (enum cluster_record_state)s;
            rc = 0;
        }
    if (rc == 0) {
        out->since = json_integer_value(json_object_get(o, "since"));
        snprintf(out->holder, sizeof(out->holder), "%s", holder != NULL ? holder : "");
    }
    json_decref(o);
    return rc;
}

int cluster_record_tar(const cluster_record *r, void **tar, size_t *len) {
    char *text = cluster_record_encode(r);
    size_t cap = 4096, used = 0;
    struct archive *a = archive_write_new();
    struct archive_entry *e = archive_entry_new();
    void *buf = malloc(cap);
    int rc = UV_ENOMEM;

    if (text == NULL || a == NULL || e == NULL || buf == NULL)
        goto exit;
    rc = UV_EINVAL;
    if (archive_write_set_format_ustar(a) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
        archive_write_open_memory(a, buf, cap, &used) != ARCHIVE_OK)
        goto exit;
    archive_entry_set_pathname(e, CLUSTER_RECORD_FILE);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)strlen(text));
    archive_entry_set_mtime(e, (time_t)r->since, 0);
    if (archive_write_header(a, e) != ARCHIVE_OK ||
        archive_write_data(a, text, strlen(text)) != (la_ssize_t)strlen(text) ||
        archive_write_close(a) != ARCHIVE_OK)
        goto exit;
    *tar = buf;
    *len = used;
    buf = NULL;
    rc = 0;
exit:
    if (a != NULL)
        archive_write_free(a);
    archive_entry_free(e);
    free(text);
    free(buf);
    return rc;
}

int cluster_record_untar(const void *tar, size_t len, cluster_record *out) {
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    char text[4096];
    la_ssize_t n;
    int rc = UV_EINVAL;

    memset(out, 0, sizeof(*out));
    if (a == NULL)
        return UV_ENOMEM;
    archive_read_support_format_tar(a);
    if (archive_read_open_memory(a, tar, len) == ARCHIVE_OK &&
        archive_read_next_header(a, &e) == ARCHIVE_OK &&
        (n = archive_read_data(a, text, sizeof(text) - 1)) > 0)
        rc = cluster_record_decode(text, (size_t)n, out);
    archive_read_free(a);
    return rc;
}

/* ---- what a cluster is ------------------------------------------------------- */

static const char *const cluster_state_names[] = {
    [CLUSTER_CREATING] = "creating", [CLUSTER_UP] = "up",           [CLUSTER_DEGRADED] = "degraded",
    [CLUSTER_FAILED] = "failed",     [CLUSTER_STOPPED] = "stopped", [CLUSTER_ORPHANED] = "orphaned",
    [CLUSTER_EXPIRED] = "expired",
};

const char *cluster_state_name(enum cluster_state s) {
    return s <= CLUSTER_EXPIRED ? cluster_state_names[s] : "?";
}

enum cluster_state cluster_state_of(const cluster_facts *f) {
    const cluster_record *r = f->record;

    if (f->expires > 0 && f->now >= f->expires)
        return CLUSTER_EXPIRED;
    /* Neither a record nor an owner: made by an hdc from before records
     * (or by hand): what its containers do is all there is to go on. */
    if (f->owner == NULL && (r == NULL || r->state == RECORD_NONE)) {
        if (f->containers == 0) /* a network or volumes alone */
            return CLUSTER_ORPHANED;
        if (f->running == 0)
            return CLUSTER_STOPPED;
        return f->running < f->containers ? CLUSTER_DEGRADED : CLUSTER_UP;
    }
    /* No record: its up has not created ZooKeeper's container yet, or
     * died before: it is at work while its owner may run. */
    if (r == NULL || r->state == RECORD_NONE || r->state == RECORD_CREATING)
        return f->owner_is == OWNER_GONE ? CLUSTER_ORPHANED : CLUSTER_CREATING;
    if (r->state == RECORD_FAILED)
        return CLUSTER_FAILED;
    /* Up, or stopped: held clusters (hdc matrix) end with their holder. */
    if (r->holder[0] != '\0' && f->holder_is == OWNER_GONE)
        return CLUSTER_ORPHANED;
    if (f->running == 0)
        return CLUSTER_STOPPED;
    if (f->running < f->containers)
        return CLUSTER_DEGRADED;
    return CLUSTER_UP;
}

int cluster_collectable(enum cluster_state s, enum owner_liveness owner_is, int stopped_too) {
    switch (s) {
    case CLUSTER_ORPHANED:
    case CLUSTER_EXPIRED: return 1;
    case CLUSTER_FAILED: return owner_is == OWNER_GONE;
    case CLUSTER_STOPPED: return stopped_too;
    default: return 0;
    }
}
