/* The bootstrap runner: runs a plugin's steps (include/hdc/plugin.h) as a
 * DAG on the libuv loop. It knows nothing of Docker or ZooKeeper: the
 * caller's executor does each step; boot decides when, enforces the
 * deadlines and stops everything at the first failure.
 *
 * Conventions, as in libuv: calls return 0 or a negative error; when
 * boot_run fails its callback is never called, when it succeeds the
 * callback is called exactly once, never from inside boot_run.
 */
#ifndef HDC_BOOT_H
#define HDC_BOOT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "err.h" /* BOOT_EINVALID */
#include "hdc/plugin.h"

#define BOOT_MAX_STEPS 256

typedef struct boot_dag boot_dag;

/* Given to the executor with each step: call it exactly once when the step
 * has ended, with status 0 or a negative error and, on failure, a reason
 * (copied; NULL for the text of status). It may be called from inside
 * start_step or cancel_step. */
typedef void (*boot_step_done_fn)(void *token, int status, const char *why);

enum boot_state {
    BOOT_PENDING, /* not started */
    BOOT_RUNNING,
    BOOT_DONE,
    BOOT_FAILED,   /* failed, or its deadline passed */
    BOOT_CANCELED, /* stopped because another step failed, or boot_cancel */
    BOOT_SKIPPED,  /* never started because the run stopped */
};

typedef struct boot_step_report {
    const hdc_step *step;
    enum boot_state state;
    uint64_t start_ms; /* uv_now when started; 0 if never started */
    uint64_t end_ms;   /* when it ended (or its deadline passed) */
    const char *why;   /* the failure's reason, or NULL */
} boot_step_report;

/* The outcome. Borrowed: valid only during the callback. */
typedef struct boot_report {
    int status;                    /* 0, the failed step's error, UV_ETIMEDOUT
                                     for a deadline, UV_ECANCELED */
    const char *failed_step;       /* NULL unless a step failed */
    const char *message;           /* NULL, or "step 'format': deadline of 30 s passed" */
    const boot_step_report *steps; /* in the order of the step array */
    size_t n_steps;
    uint64_t start_ms, end_ms;
} boot_report;

typedef void (*boot_done_cb)(void *data, const boot_report *report);

/* The caller's side. */
typedef struct boot_executor {
    /* Starts step; returns 0 and later calls done(token, ...) exactly once,
     * or returns a negative error and never calls done. */
    int (*start_step)(void *ctx, const hdc_step *step, boot_step_done_fn done, void *token);
    /* Asks a started step to stop (its deadline passed, another step
     * failed, or boot_cancel). done must still follow, soon: the run ends
     * only when every started step has called it. */
    void (*cancel_step)(void *ctx, const hdc_step *step, void *token);
    /* Optional: a step started (state RUNNING) or ended. The report is
     * borrowed for the call. */
    void (*progress)(void *ctx, const boot_step_report *step);
} boot_executor;

/* Checks that steps ({0}-terminated) form a DAG the runner can run: names
 * present and unique, every `after` names another known step, no cycle, a
 * timeout > 0. Returns 0, or BOOT_EINVALID with the reason in err (e.g.
 * "steps form a cycle: a -> b -> a"). */
int boot_check(const hdc_step *steps, char *err, size_t err_len);

/* Runs steps ({0}-terminated; borrowed until cb) with exec (borrowed, as
 * is exec_ctx). Every step whose dependencies are done is started, and may
 * be started from inside this call. cb gets the report once every started
 * step has ended and boot's handles are closed: the loop may be closed
 * from cb. *out (optional) identifies the run for boot_cancel until cb. */
int boot_run(uv_loop_t *loop, const hdc_step *steps, const boot_executor *exec, void *exec_ctx,
             boot_done_cb cb, void *data, boot_dag **out);

/* Stops the run as a failure would: running steps are canceled, nothing
 * new starts; cb reports UV_ECANCELED. UV_EALREADY if the run is already
 * stopping. */
int boot_cancel(boot_dag *dag);

const char *boot_state_name(enum boot_state state);

#endif
