/* The bootstrap runner: a plugin's steps run as a DAG on the libuv loop.
 *
 * boot schedules and the caller's executor acts: boot starts every step
 * whose dependencies are done (so independent steps run concurrently), arms
 * one uv_timer per step for its deadline, and at the first failure stops:
 * it cancels the running steps, starts nothing new and reports which step
 * failed and why. It never talks to Docker or ZooKeeper, which is what lets
 * tests drive it with a fake executor.
 *
 * Decisions a newcomer might question:
 * - The run ends only when every started step has called done, even after
 *   a cancel: when the callback runs, no executor work is left in flight,
 *   so the caller may free what the executor used.
 * - The callback is called from the close callback of boot's last timer,
 *   so it is never called from inside boot_run or from inside an
 *   executor's call into boot, and the loop may be closed from it. The
 *   extra `anchor` timer exists so that this holds for zero steps too.
 * - Executors may call done from inside start_step or cancel_step: the
 *   scheduler is not reentrant; a nested call only asks it for another
 *   pass.
 * - The DAG check (boot_check) lives here and plugin_host.c calls it: one
 *   definition of a valid step graph.
 */
#include "boot.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct boot_node {
    boot_dag *dag;
    const hdc_step *step;
    boot_step_report *rep;
    uv_timer_t timer;   /* the step's deadline */
    size_t *dependents; /* indices of the steps that wait for this one */
    size_t n_dependents;
    size_t deps_left; /* dependencies not done yet */
    int active;       /* started, and done not called yet */
    int cancel_sent;
} boot_node;

struct boot_dag {
    uv_loop_t *loop;
    const boot_executor *exec;
    void *exec_ctx;
    boot_done_cb cb;
    void *data;
    boot_node *nodes;
    boot_step_report *reps;
    size_t *edges; /* storage for every node's dependents */
    size_t n;
    size_t n_active;
    size_t n_done;
    int stopping;  /* failed or canceled: start nothing new */
    int finishing; /* handles are closing; cb follows */
    int in_schedule;
    int again;
    int status;
    const char *failed_step;
    char message[512];
    uint64_t start_ms, end_ms;
    uv_timer_t anchor;
    size_t closing;
};

static void schedule(boot_dag *dag);

static size_t count_steps(const hdc_step *steps) {
    size_t n = 0;

    while (n <= BOOT_MAX_STEPS && steps[n].name != NULL)
        n++;
    return n;
}

static long find_step(const hdc_step *steps, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(steps[i].name, name) == 0)
            return (long)i;
    return -1;
}

/* Depth-first search over `after` edges. color: 0 unseen, 1 on the current
 * path, 2 finished. path holds the current path, for the message. */
static int find_cycle(const hdc_step *steps, size_t n, size_t i, unsigned char *color, size_t *path,
                      size_t depth, char *err, size_t err_len) {
    const char *const *after = steps[i].after;

    color[i] = 1;
    path[depth] = i;
    for (size_t k = 0; after != NULL && after[k] != NULL; k++) {
        size_t j = (size_t)find_step(steps, n, after[k]);
        if (color[j] == 1) {
            size_t from = 0;
            size_t used;

            while (path[from] != j)
                from++;
            used = (size_t)snprintf(err, err_len, "steps form a cycle: ");
            for (size_t p = from; p <= depth && used < err_len; p++)
                used += (size_t)snprintf(err + used, err_len - used, "'%s' after ",
                                         steps[path[p]].name);
            if (used < err_len)
                snprintf(err + used, err_len - used, "'%s'", steps[j].name);
            return BOOT_EINVALID;
        }
        if (color[j] == 0 && find_cycle(steps, n, j, color, path, depth + 1, err, err_len) != 0)
            return BOOT_EINVALID;
    }
    color[i] = 2;
    return 0;
}

int boot_check(const hdc_step *steps, char *err, size_t err_len) {
    unsigned char color[BOOT_MAX_STEPS] = {0};
    size_t path[BOOT_MAX_STEPS];
    char scratch[1];
    size_t n;

    if (err == NULL || err_len == 0) {
        err = scratch;
        err_len = sizeof(scratch);
    }
    if (steps == NULL)
        return 0;
    n = count_steps(steps);
    if (n > BOOT_MAX_STEPS) {
        util_set_err(err, err_len, "more than %d steps (is the list {0}-terminated?)",
                     BOOT_MAX_STEPS);
        return BOOT_EINVALID;
    }
    for (size_t i = 0; i < n; i++) {
        const hdc_step *s = &steps[i];

        if (s->name[0] == '\0') {
            util_set_err(err, err_len, "step %zu has an empty name", i + 1);
            return BOOT_EINVALID;
        }
        if (find_step(steps, i, s->name) >= 0) {
            util_set_err(err, err_len, "two steps are named '%s'", s->name);
            return BOOT_EINVALID;
        }
        if (s->timeout_s == 0) {
            util_set_err(err, err_len, "step '%s' has no deadline (timeout_s must be > 0)",
                         s->name);
            return BOOT_EINVALID;
        }
        for (size_t k = 0; s->after != NULL && s->after[k] != NULL; k++) {
            if (k >= BOOT_MAX_STEPS) {
                util_set_err(err, err_len,
                             "step '%s': `after` has more than %d names "
                             "(is it NULL-terminated?)",
                             s->name, BOOT_MAX_STEPS);
                return BOOT_EINVALID;
            }
            if (strcmp(s->after[k], s->name) == 0) {
                util_set_err(err, err_len, "step '%s' depends on itself", s->name);
                return BOOT_EINVALID;
            }
            if (find_step(steps, n, s->after[k]) < 0) {
                util_set_err(err, err_len, "step '%s' depends on unknown step '%s'", s->name,
                             s->after[k]);
                return BOOT_EINVALID;
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        if (color[i] == 0 && find_cycle(steps, n, i, color, path, 0, err, err_len) != 0)
            return BOOT_EINVALID;
    return 0;
}

const char *boot_state_name(enum boot_state state) {
    switch (state) {
    case BOOT_PENDING: return "pending";
    case BOOT_RUNNING: return "running";
    case BOOT_DONE: return "done";
    case BOOT_FAILED: return "failed";
    case BOOT_CANCELED: return "canceled";
    case BOOT_SKIPPED: return "skipped";
    }
    return "unknown";
}

static void progress(boot_node *node) {
    boot_dag *dag = node->dag;

    if (dag->exec->progress != NULL)
        dag->exec->progress(dag->exec_ctx, node->rep);
}

static void free_dag(boot_dag *dag) {
    for (size_t i = 0; i < dag->n; i++)
        free((char *)dag->reps[i].why);
    free(dag->edges);
    free(dag->reps);
    free(dag->nodes);
    free(dag);
}

static void on_closed(uv_handle_t *handle) {
    boot_dag *dag = handle->data;
    boot_report report;

    if (--dag->closing > 0)
        return;
    report.status = dag->status;
    report.failed_step = dag->failed_step;
    report.message = dag->message[0] != '\0' ? dag->message : NULL;
    report.steps = dag->reps;
    report.n_steps = dag->n;
    report.start_ms = dag->start_ms;
    report.end_ms = dag->end_ms;
    dag->cb(dag->data, &report);
    free_dag(dag);
}

static void finish(boot_dag *dag) {
    if (dag->finishing)
        return;
    dag->finishing = 1;
    dag->end_ms = uv_now(dag->loop);
    dag->closing = dag->n + 1;
    for (size_t i = 0; i < dag->n; i++) {
        if (dag->reps[i].state == BOOT_PENDING)
            dag->reps[i].state = BOOT_SKIPPED;
        dag->nodes[i].timer.data = dag;
        uv_close((uv_handle_t *)&dag->nodes[i].timer, on_closed);
    }
    uv_close((uv_handle_t *)&dag->anchor, on_closed);
}

/* The first failure stops the run and names it; later ones are recorded
 * on their own step only. */
static void stop(boot_dag *dag, int status, const char *failed_step, const char *why) {
    if (dag->stopping)
        return;
    dag->stopping = 1;
    dag->status = status != 0 ? status : UV_EINVAL;
    dag->failed_step = failed_step;
    if (failed_step != NULL)
        snprintf(dag->message, sizeof(dag->message), "step '%s': %s", failed_step, why);
    else
        snprintf(dag->message, sizeof(dag->message), "%s", why);
}

static void node_fail(boot_node *node, int status, const char *why) {
    boot_dag *dag = node->dag;

    uv_timer_stop(&node->timer);
    node->rep->state = BOOT_FAILED;
    node->rep->end_ms = uv_now(dag->loop);
    node->rep->why = strdup(why);
    stop(dag, status, node->step->name, why);
    progress(node);
}

static void on_step_done(void *token, int status, const char *why) {
    boot_node *node = token;
    boot_dag *dag = node->dag;
    char text[128];

    if (!node->active)
        return; /* a second call, or after start_step failed: ignored */
    node->active = 0;
    dag->n_active--;
    if (node->rep->state == BOOT_RUNNING) {
        if (status == 0) {
            uv_timer_stop(&node->timer);
            node->rep->state = BOOT_DONE;
            node->rep->end_ms = uv_now(dag->loop);
            dag->n_done++;
            for (size_t k = 0; k < node->n_dependents; k++)
                dag->nodes[node->dependents[k]].deps_left--;
            progress(node);
        } else {
            if (why == NULL) {
                snprintf(text, sizeof(text), "%s", hdc_strerror(status));
                why = text;
            }
            node_fail(node, status, why);
        }
    }
    schedule(dag);
}

static void on_deadline(uv_timer_t *timer) {
    boot_node *node = timer->data;
    boot_dag *dag = node->dag;
    char why[64];

    if (!node->active || node->rep->state != BOOT_RUNNING)
        return;
    snprintf(why, sizeof(why), "deadline of %u s passed", node->step->timeout_s);
    node_fail(node, UV_ETIMEDOUT, why);
    node->cancel_sent = 1;
    dag->exec->cancel_step(dag->exec_ctx, node->step, node);
    schedule(dag);
}

static void start(boot_node *node) {
    boot_dag *dag = node->dag;
    char why[160];
    int rc;

    node->rep->state = BOOT_RUNNING;
    node->rep->start_ms = uv_now(dag->loop);
    node->active = 1;
    dag->n_active++;
    uv_timer_start(&node->timer, on_deadline, (uint64_t)node->step->timeout_s * 1000, 0);
    progress(node);
    rc = dag->exec->start_step(dag->exec_ctx, node->step, on_step_done, node);
    if (rc < 0 && node->active) {
        node->active = 0;
        dag->n_active--;
        snprintf(why, sizeof(why), "could not start: %s", hdc_strerror(rc));
        node_fail(node, rc, why);
    }
}

/* Starts what can start, cancels what must stop, ends the run when nothing
 * is left in flight. Nested calls (from executor callbacks) ask for one
 * more pass instead of recursing. */
static void schedule(boot_dag *dag) {
    if (dag->in_schedule) {
        dag->again = 1;
        return;
    }
    dag->in_schedule = 1;
    do {
        dag->again = 0;
        for (size_t i = 0; i < dag->n && !dag->stopping; i++) {
            boot_node *node = &dag->nodes[i];
            if (node->rep->state == BOOT_PENDING && node->deps_left == 0)
                start(node);
        }
        if (dag->stopping) {
            for (size_t i = 0; i < dag->n; i++) {
                boot_node *node = &dag->nodes[i];
                if (!node->active || node->cancel_sent)
                    continue;
                node->cancel_sent = 1;
                if (node->rep->state == BOOT_RUNNING) {
                    uv_timer_stop(&node->timer);
                    node->rep->state = BOOT_CANCELED;
                    node->rep->end_ms = uv_now(dag->loop);
                    progress(node);
                }
                dag->exec->cancel_step(dag->exec_ctx, node->step, node);
            }
        }
        if (dag->n_active == 0 && (dag->stopping || dag->n_done == dag->n))
            finish(dag);
    } while (dag->again);
    dag->in_schedule = 0;
}

int boot_run(uv_loop_t *loop, const hdc_step *steps, const boot_executor *exec, void *exec_ctx,
             boot_done_cb cb, void *data, boot_dag **out) {
    boot_dag *dag = NULL;
    size_t n, n_edges = 0, used = 0;
    int rc;

    if (loop == NULL || steps == NULL || exec == NULL || exec->start_step == NULL ||
        exec->cancel_step == NULL || cb == NULL)
        return UV_EINVAL;
    rc = boot_check(steps, NULL, 0);
    if (rc != 0)
        return rc;
    n = count_steps(steps);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; steps[i].after != NULL && steps[i].after[k] != NULL; k++)
            n_edges++;

    rc = UV_ENOMEM;
    dag = calloc(1, sizeof(*dag));
    if (dag == NULL)
        goto exit;
    dag->nodes = calloc(n + 1, sizeof(*dag->nodes));
    dag->reps = calloc(n + 1, sizeof(*dag->reps));
    dag->edges = calloc(n_edges + 1, sizeof(*dag->edges));
    if (dag->nodes == NULL || dag->reps == NULL || dag->edges == NULL)
        goto exit;
    dag->loop = loop;
    dag->exec = exec;
    dag->exec_ctx = exec_ctx;
    dag->cb = cb;
    dag->data = data;
    dag->n = n;

    /* Each node's dependents, packed into edges. */
    for (size_t j = 0; j < n; j++) {
        boot_node *node = &dag->nodes[j];

        node->dependents = dag->edges + used;
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; steps[i].after != NULL && steps[i].after[k] != NULL; k++)
                if (strcmp(steps[i].after[k], steps[j].name) == 0) {
                    node->dependents[node->n_dependents++] = i;
                    dag->nodes[i].deps_left++;
                }
        used += node->n_dependents;
    }
    for (size_t i = 0; i < n; i++) {
        boot_node *node = &dag->nodes[i];

        node->dag = dag;
        node->step = &steps[i];
        node->rep = &dag->reps[i];
        node->rep->step = &steps[i];
        uv_timer_init(loop, &node->timer);
        node->timer.data = node;
    }
    uv_timer_init(loop, &dag->anchor);
    dag->anchor.data = dag;
    dag->start_ms = uv_now(loop);
    if (out != NULL)
        *out = dag;
    schedule(dag);
    dag = NULL;
    rc = 0;

exit:
    if (dag != NULL) {
        free(dag->edges);
        free(dag->reps);
        free(dag->nodes);
        free(dag);
    }
    return rc;
}

int boot_cancel(boot_dag *dag) {
    if (dag == NULL)
        return UV_EINVAL;
    if (dag->stopping || dag->finishing)
        return UV_EALREADY;
    stop(dag, UV_ECANCELED, NULL, "bootstrap canceled");
    schedule(dag);
    return 0;
}
