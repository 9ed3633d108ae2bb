/* The pure half of the Docker client: request targets and bodies built
 * from the option structs of docker.h, and replies parsed into its result
 * structs, with jansson and no I/O, so that tests/unit/test_docker_json.c
 * checks them without an engine and the fuzz targets can feed them.
 */
#ifndef HDC_DOCKER_JSON_H
#define HDC_DOCKER_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "docker.h"

/* %-escapes everything but A-Z a-z 0-9 - . _ ~ (malloc'd; NULL on ENOMEM). */
char *docker_url_escape(const char *s);

typedef struct docker_filter {
    const char *key; /* "label", "type", "event", "name", ... */
    const char *const *values;
    size_t n_values;
} docker_filter;

/* The filters argument Docker wants, e.g. {"type":["container"],
 * "label":["a=b"]}, compact, keys in the given order, filters without
 * values left out; NULL when none is left (or on ENOMEM). malloc'd, not
 * yet URL-escaped. */
char *docker_filters_json(const docker_filter *filters, size_t n);

/* Request targets (malloc'd, with /v1.41 and the escaped query). */
char *docker_build_target(const docker_build_opts *opts);
char *docker_logs_target(const char *id, const docker_logs_opts *opts);
char *docker_events_target(const docker_events_opts *opts);
/* base: "/containers/json?all=1", "/networks", "/images/json". */
char *docker_list_target(const char *base, const char *label);

/* Request bodies (new references; NULL on bad options: a missing image,
 * ipv4 or aliases without a network, ...). */
json_t *docker_container_create_body(const docker_container_opts *opts);
json_t *docker_network_create_body(const docker_network_opts *opts);
json_t *docker_exec_create_body(const docker_exec_opts *opts);
/* A named volume with labels; NULL on ENOMEM. */
json_t *docker_volume_create_body(const char *name, const docker_kv *labels, size_t n_labels);

/* A non-2xx reply: the status to report and Docker's message (malloc'd,
 * into *msg), e.g. 404 -> DOCKER_ENOTFOUND, "No such container: x"; a
 * message mentioning "overlaps" -> DOCKER_EOVERLAP. what names the call
 * for replies without a message ("container create: HTTP 500"). */
int docker_api_error(const char *what, int http_status, const char *body, size_t len, char **msg);

/* Parses one line of build output. *root receives the parsed line (a new
 * reference the caller releases, also on error when it parsed), p borrows
 * from it. Returns 0, DOCKER_EBUILD for an error line (p->error set), or
 * DOCKER_EPROTO when the line is not a JSON object. Empty lines: 0 with
 * every field NULL. */
int docker_build_line_parse(const char *line, size_t len, json_t **root, docker_build_progress *p);

/* Parse inspect replies; the strings borrow from root. 0 or DOCKER_EPROTO.
 * A container info owns two arrays: release them with
 * docker_container_info_clear. */
int docker_container_info_parse(const json_t *root, docker_container_info *out);
void docker_container_info_clear(docker_container_info *info);
int docker_network_info_parse(const json_t *root, docker_network_info *out);
int docker_image_info_parse(const json_t *root, docker_image_info *out);

/* GET /version's reply; absent fields are "". */
void docker_version_parse(const json_t *root, docker_version *out);

/* A list reply (containers, networks, images, or {"Volumes": [...]}) as
 * objects borrowing from root: *out malloc'd (free it), *n its length.
 * 0, DOCKER_EPROTO when it is not a list, or UV_ENOMEM. */
int docker_list_parse(const json_t *root, docker_object **out, size_t *n);

#endif
