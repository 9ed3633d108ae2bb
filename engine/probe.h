/* Health probes: an HTTP GET on a service's published port, judged by the
 * plugin's predicate (plugin_judge), retried every PROBE_INTERVAL_MS after
 * the previous answer until healthy or until a deadline, on one kept-alive
 * connection, under a rate cap that the probes of a fleet share. The same
 * HTTP client as Docker's (engine/http).
 *
 * Conventions, as in libuv: probe_start returns 0 or a negative error;
 * when it fails the callback is never called, when it succeeds the callback
 * is called exactly once, never from inside probe_start, and only after the
 * probe's handles are closed (the loop may be closed from it).
 */
#ifndef HDC_PROBE_H
#define HDC_PROBE_H

#include <stdint.h>
#include <uv.h>

#include "hdc/plugin.h"

typedef struct probe probe;

/* The pause between an answer and the next attempt of the same probe. */
#define PROBE_INTERVAL_MS 50

/* A cap on how often the probes that share it may start an attempt, all
 * together: at most one every gap_ms. 16 clusters' probes at 50 ms would
 * otherwise ask 640 times a second on 2 cores, each a JMX query of a JVM.
 * Plain data, owned by the caller (a fleet); one loop only. */
typedef struct probe_pacer {
    uint64_t gap_ms;  /* between two attempts' starts */
    uint64_t next_ms; /* uv_now before which no attempt may start */
} probe_pacer;

/* The cap of a fleet: 16 clusters' probes share 100 attempts a second. */
#define PROBE_FLEET_RATE 100

/* At most per_second attempts a second (0: no cap). */
void probe_pacer_init(probe_pacer *p, unsigned per_second);

/* What to probe. Every pointer is borrowed until the callback. */
typedef struct probe_target {
    const hdc_plugin_desc *desc;
    const hdc_probe *probe;
    const char *cluster;
    unsigned datanodes;
    const char *address; /* "http://127.0.0.1:32768" */
    probe_pacer *pacer;  /* shared cap, or NULL: none */
} probe_target;

/* The outcome. Borrowed: valid only during the callback. */
typedef struct probe_result {
    int healthy;     /* 1 when the last answer was judged healthy */
    int http_status; /* of the last answer; 0 if none came */
    unsigned attempts;
    uint64_t elapsed_ms;
    const char *why; /* "" when healthy, else the last reason:
                                     "connection refused",
                                     "clusterMetrics.activeNodes is 1, want == 2 ..." */
} probe_result;

/* status: 0 when healthy; UV_ETIMEDOUT when the deadline passed first (the
 * result says why the last attempt failed); UV_ECANCELED after
 * probe_cancel; another negative error if the probe could not run. */
typedef void (*probe_cb)(void *data, int status, const probe_result *res);

/* Probes target until healthy or until timeout_ms has passed; with
 * timeout_ms 0 it makes one attempt only (for `hdc status`). One attempt at
 * a time: the next starts PROBE_INTERVAL_MS after the previous one ended
 * (later if the pacer says so). *out (optional) is valid until cb. */
int probe_start(uv_loop_t *loop, const probe_target *target, uint64_t timeout_ms, probe_cb cb,
                void *data, probe **out);

/* Stops the probe; cb follows with UV_ECANCELED unless it already ran or
 * is about to with a result. UV_EALREADY if the probe is ending. */
int probe_cancel(probe *p);

#endif
