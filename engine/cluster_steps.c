/* The executor of a plugin's bootstrap steps for one `hdc up`
 * (cluster_steps.h): boot.c decides when a step runs and enforces its
 * deadline; this does the step on every instance of its service, each an
 * op of the step's run, and calls boot's done once the last op has ended.
 *
 * Decisions a newcomer might question:
 * - An op's deadline is the step's minus 250 ms, so that a WAIT that runs
 *   out says which node and what its znode still reads, instead of boot's
 *   bare "deadline passed".
 * - The first failed op fails the step and cancels its other ops; the
 *   step ends only when every op has called back, so nothing of a step
 *   outlives it.
 */
#include "cluster_steps.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_ops.h"
#include "cluster_spec.h"
#include "plugin_host.h"
#include "probe.h"

#define OUTPUT_TAIL 2048

typedef struct step_run step_run;

/* One step on one instance. */
typedef struct step_op {
    step_run *run;
    cluster_node *node;
    zk_wait *wait;
    docker_call *exec;
    probe *probe;
    int done;
    int interrupted;          /* canceled before it ended (a deadline, a failure) */
    char output[OUTPUT_TAIL]; /* EXEC: the tail of the command's output */
    size_t output_len;
} step_op;

/* One step, started. */
struct step_run {
    cluster_steps *s;
    const hdc_step *step;
    boot_step_done_fn done;
    void *token;
    step_op *ops;
    size_t n_ops, pending;
    int failed;
    int canceled;
    char why[1536];
    cluster_node *culprit; /* the instance whose failure failed the step */
    step_run *next;
};

struct cluster_steps {
    cluster_steps_host host;
    zk_session *zk;
    step_run *runs; /* every step started, newest first */
    cluster_node *blamed;
    const char **names;
    uint64_t *start, *end;
    size_t n_steps;
};

static const hdc_plugin_desc *desc_of(const cluster_steps *s) {
    return s->host.plan->desc;
}

/* ---- an op's end, and the step's ------------------------------------------- */

/* Stops what the step still has running on its instances; each op's
 * callback follows with UV_ECANCELED. */
static void cancel_ops(step_run *r) {
    for (size_t i = 0; i < r->n_ops; i++) {
        step_op *o = &r->ops[i];
        if (o->done)
            continue;
        if (o->wait != NULL)
            r->s->host.ops->zk_wait_cancel(o->wait);
        if (o->exec != NULL)
            r->s->host.ops->call_cancel(o->exec);
        if (o->probe != NULL)
            r->s->host.ops->probe_cancel(o->probe);
    }
}

/* Fails the step (the first reason stays) and stops its other instances. */
static void run_fail(step_run *r, const char *why) {
    if (r->failed)
        return;
    r->failed = 1;
    snprintf(r->why, sizeof(r->why), "%s", why);
    cancel_ops(r);
}

/* One reference to the step is gone; the step ends with the last. */
static void run_release(step_run *r) {
    cluster_steps *s = r->s;

    if (--r->pending > 0)
        return;
    if (r->failed) {
        /* The node named in the failure gets its log tail in the message. */
        for (size_t i = 0; i < r->n_ops && s->blamed == NULL; i++)
            if (r->ops[i].node->rep.state == CLUSTER_NODE_FAILED)
                s->blamed = r->ops[i].node;
        if (s->blamed == NULL)
            s->blamed = r->culprit;
        r->done(r->token, CLUSTER_EFAILED, r->why);
    } else {
        r->done(r->token, r->canceled ? UV_ECANCELED : 0, NULL);
    }
}

static void op_done(step_op *op, int failed, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* An instance's part of a step is over. */
static void op_done(step_op *op, int failed, const char *fmt, ...) {
    char why[1536];
    va_list ap;

    if (op->done)
        return;
    op->done = 1;
    if (failed) {
        va_start(ap, fmt);
        vsnprintf(why, sizeof(why), fmt, ap);
        va_end(ap);
        if (!op->run->failed)
            op->run->culprit = op->node;
        run_fail(op->run, why);
    }
    run_release(op->run);
}

static void set_state(step_op *op, enum cluster_node_state state, const char *why) {
    op->run->s->host.set_state(op->node, state, why);
}

/* ---- BOOT and WAIT: the znodes ----------------------------------------------- */

static void boot_written(void *data, int status) {
    step_op *op = data;

    if (status != 0) {
        /* An expired session: the session says why (how long it was lost). */
        op_done(op, 1, "cannot write 'boot' to %s: %s", op->node->pn->znode,
                status == ZK_EEXPIRED ? op->run->s->host.ops->zk_session_error(op->run->s->zk)
                                      : hdc_strerror(status));
        return;
    }
    set_state(op, CLUSTER_NODE_BOOTING, NULL);
    op_done(op, 0, NULL);
}

static void up_seen(void *data, int status, const char *value, size_t len) {
    step_op *op = data;
    cluster_node *n = op->node;

    op->wait = NULL;
    if (status == UV_ECANCELED) {
        op->interrupted = 1;
        op_done(op, 0, NULL);
        return;
    }
    if (status == UV_ETIMEDOUT) {
        char why[256];
        snprintf(why, sizeof(why), "not up in time: its znode %s still reads '%.*s'", n->pn->znode,
                 value != NULL ? (int)len : 6, value != NULL ? value : "(none)");
        set_state(op, CLUSTER_NODE_FAILED, why); /* its log tail goes in the message */
        op_done(op, 1, "%s is %s", n->pn->hostname, why);
        return;
    }
    if (status != 0) {
        op_done(op, 1, "cannot watch %s: %s", n->pn->znode, hdc_strerror(status));
        return;
    }
    if (len >= 7 && strncmp(value, "failed:", 7) == 0) {
        char why[256];
        snprintf(why, sizeof(why), "%.*s", (int)(len - 7), value + 7);
        set_state(op, CLUSTER_NODE_FAILED, why);
        op_done(op, 1, "service %s (container %s) failed: %s", n->pn->hostname, n->pn->container,
                why);
        return;
    }
    set_state(op, CLUSTER_NODE_UP, NULL);
    op_done(op, 0, NULL);
}

/* ---- EXEC: a command in the node ------------------------------------------------ */

static void exec_output(void *data, int stream, const char *buf, size_t len) {
    step_op *op = data;

    if (op->node->sink != NULL)
        logs_sink_append(op->node->sink, buf, len);
    if (len >= sizeof(op->output)) {
        buf += len - (sizeof(op->output) - 1);
        len = sizeof(op->output) - 1;
    }
    if (op->output_len + len >= sizeof(op->output)) {
        size_t drop = op->output_len + len - (sizeof(op->output) - 1);
        memmove(op->output, op->output + drop, op->output_len - drop);
        op->output_len -= drop;
    }
    memcpy(op->output + op->output_len, buf, len);
    op->output_len += len;
    op->output[op->output_len] = '\0';
}

static void exec_done(void *data, int status, const char *msg, int exit_code) {
    step_op *op = data;
    cluster_node *n = op->node;

    op->exec = NULL;
    if (status == UV_ECANCELED) {
        op->interrupted = 1;
        op_done(op, 0, NULL);
        return;
    }
    if (status != 0) {
        op_done(op, 1, "step '%s' could not run in %s: %s", op->run->step->name, n->pn->hostname,
                msg != NULL ? msg : hdc_strerror(status));
        return;
    }
    if (exit_code != 0) {
        op_done(op, 1, "in %s, `%s` exited with status %d%s%s", n->pn->hostname,
                op->run->step->command, exit_code, op->output_len > 0 ? "; its last output:\n" : "",
                op->output);
        return;
    }
    op_done(op, 0, NULL);
}

static int start_exec(step_op *op) {
    const cluster_steps_host *h = &op->run->s->host;
    cluster_spec_in in = {.plan = h->plan,
                          .node = op->node->pn,
                          .test_user = h->test_user,
                          .memory_mb = h->memory_mb};
    cluster_spec *sp = malloc(sizeof(*sp));
    const char *cmd[] = {"/bin/sh", "-c", op->run->step->command};
    docker_exec_opts opts = {.cmd = cmd, .n_cmd = 3, .user = op->run->step->user};
    int err;

    /* The same environment as the daemon's. */
    if (sp == NULL)
        return UV_ENOMEM;
    cluster_container_spec(&in, sp);
    opts.env = sp->opts.env;
    opts.n_env = sp->opts.n_env;
    err = h->ops->exec(h->d, op->node->id, &opts, exec_output, exec_done, op, &op->exec);
    free(sp);
    return err;
}

/* ---- PROBE: the service's health ------------------------------------------------ */

static void probe_done(void *data, int status, const probe_result *res) {
    step_op *op = data;

    op->probe = NULL;
    if (status == UV_ECANCELED) {
        op_done(op, 0, NULL);
        return;
    }
    if (status != 0) {
        op_done(op, 1, "probe '%s' not green after %u attempts: %s", op->run->step->probe,
                res->attempts, res->why);
        return;
    }
    op_done(op, 0, NULL);
}

static int start_probe(step_op *op, uint64_t timeout_ms) {
    const cluster_steps_host *h = &op->run->s->host;
    const hdc_probe *pr = plugin_probe(h->plan->desc, op->run->step->probe);
    const hdc_service *svc = plugin_service(h->plan->desc, pr->service);
    const hdc_port *port = plugin_port(svc, pr->port_role);
    char address[64];
    uint16_t host_port = 0;
    probe_target target = {
        .desc = h->plan->desc,
        .probe = pr,
        .cluster = h->plan->cluster,
        .datanodes = h->plan->datanodes,
        .address = address,
        .pacer = h->pacer,
    };

    for (size_t i = 0; i < op->node->n_ports; i++)
        if (op->node->ports[i].port == port->port)
            host_port = op->node->ports[i].host_port;
    if (host_port == 0)
        return UV_EADDRNOTAVAIL;
    snprintf(address, sizeof(address), "http://127.0.0.1:%u", host_port);
    return h->ops->probe_start(h->loop, &target, timeout_ms, probe_done, op, &op->probe);
}

/* ---- the executor boot.c calls ---------------------------------------------------- */

/* Whether node n takes part in step (of whose service it is an
 * instance): a probe asks whoever runs, the other kinds touch only the
 * nodes started by this run (every node of an up; the restarted ones of
 * `hdc start` and `hdc restart`, whose other nodes are left as they run). */
static int takes_part(const cluster_node *n, const hdc_step *step, const char *service) {
    return n->pn->svc != NULL && !n->pn->is_client && strcmp(n->pn->service, service) == 0 &&
           (n->rerun || step->kind == HDC_STEP_PROBE);
}

static int start_step(void *ctx, const hdc_step *step, boot_step_done_fn done, void *token) {
    static const char *const up_or_failed[] = {"up", "failed:*", NULL};
    cluster_steps *s = ctx;
    const cluster_steps_host *h = &s->host;
    const char *service = step->service;
    step_run *r = calloc(1, sizeof(*r));
    size_t n = 0;
    int err = 0;

    if (r == NULL)
        return UV_ENOMEM;
    if (step->kind == HDC_STEP_PROBE)
        service = plugin_probe(desc_of(s), step->probe)->service;
    for (size_t i = 0; i < h->plan->n_nodes; i++)
        n += takes_part(&h->nodes[i], step, service);
    /* A probe asks the service's first instance. */
    if (step->kind == HDC_STEP_PROBE && n > 1)
        n = 1;
    r->ops = calloc(n + 1, sizeof(*r->ops));
    if (r->ops == NULL) {
        free(r);
        return UV_ENOMEM;
    }
    r->s = s;
    r->step = step;
    r->done = done;
    r->token = token;
    r->next = s->runs;
    s->runs = r;
    for (size_t i = 0; i < h->plan->n_nodes && r->n_ops < n; i++) {
        if (!takes_part(&h->nodes[i], step, service))
            continue;
        r->ops[r->n_ops].run = r;
        r->ops[r->n_ops].node = &h->nodes[i];
        r->n_ops++;
    }
    /* One reference per op, and one held until every op is started, so
     * that done cannot come while this loop runs. */
    r->pending = r->n_ops + 1;
    for (size_t i = 0; i < r->n_ops; i++) {
        step_op *op = &r->ops[i];
        uint64_t timeout_ms = (uint64_t)step->timeout_s * 1000;
        /* Our own deadline comes just before boot's, so that the message
         * is ours ("datanode2 is not up: ...") rather than a bare one. */
        if (timeout_ms > 500)
            timeout_ms -= 250;
        if (r->failed) {
            op->done = 1;
            r->pending--;
            continue;
        }
        switch (step->kind) {
        case HDC_STEP_BOOT:
            err = h->ops->zk_set(s->zk, op->node->pn->znode, "boot", 4, boot_written, op);
            break;
        case HDC_STEP_WAIT:
            err = h->ops->zk_wait_for(s->zk, op->node->pn->znode, up_or_failed, timeout_ms, up_seen,
                                      op, &op->wait);
            break;
        case HDC_STEP_EXEC: err = start_exec(op); break;
        case HDC_STEP_PROBE: err = start_probe(op, timeout_ms); break;
        default: err = UV_EINVAL;
        }
        if (err != 0) {
            char why[512];
            snprintf(why, sizeof(why), "step '%s' could not start on %s: %s", step->name,
                     op->node->pn->hostname, hdc_strerror(err));
            op->done = 1;
            r->pending--;
            run_fail(r, why);
        }
    }
    run_release(r);
    return 0;
}

static void cancel_step(void *ctx, const hdc_step *step, void *token) {
    cluster_steps *s = ctx;
    step_run *r = s->runs;

    while (r != NULL && r->token != token)
        r = r->next;
    if (r == NULL || r->canceled)
        return;
    r->canceled = 1;
    cancel_ops(r);
}

static void progress(void *ctx, const boot_step_report *rep) {
    cluster_steps *s = ctx;
    uint64_t now = uv_now(s->host.loop) - s->host.start_ms;

    for (size_t i = 0; i < s->n_steps; i++) {
        if (s->names[i] != rep->step->name)
            continue;
        if (rep->state == BOOT_RUNNING)
            s->start[i] = now;
        else
            s->end[i] = now;
    }
}

/* ---- the executor's life ------------------------------------------------------------- */

int cluster_steps_new(const cluster_steps_host *host, cluster_steps **out) {
    cluster_steps *s = calloc(1, sizeof(*s));
    size_t n = 0;

    if (s == NULL)
        return UV_ENOMEM;
    s->host = *host;
    for (const hdc_step *st = desc_of(s)->steps; st != NULL && st->name != NULL; st++)
        n++;
    s->names = calloc(n + 1, sizeof(*s->names));
    s->start = calloc(n + 1, sizeof(*s->start));
    s->end = calloc(n + 1, sizeof(*s->end));
    if (s->names == NULL || s->start == NULL || s->end == NULL) {
        cluster_steps_free(s);
        return UV_ENOMEM;
    }
    s->n_steps = n;
    for (size_t i = 0; i < n; i++)
        s->names[i] = desc_of(s)->steps[i].name;
    *out = s;
    return 0;
}

int cluster_steps_run(cluster_steps *s, zk_session *zk, boot_done_cb cb, void *data,
                      boot_dag **dag) {
    static const boot_executor exec = {
        .start_step = start_step,
        .cancel_step = cancel_step,
        .progress = progress,
    };

    s->zk = zk;
    return boot_run(s->host.loop, desc_of(s)->steps, &exec, s, cb, data, dag);
}

cluster_node *cluster_steps_blamed(const cluster_steps *s) {
    return s->blamed;
}

cluster_node *cluster_steps_explain(const cluster_steps *s, const char *step, char *msg,
                                    size_t msg_len) {
    cluster_node *blamed = NULL;

    for (step_run *r = s->runs; r != NULL; r = r->next) {
        if (strcmp(r->step->name, step) != 0)
            continue;
        for (size_t i = 0; i < r->n_ops; i++) {
            step_op *op = &r->ops[i];
            size_t used = strlen(msg);
            if (!op->interrupted)
                continue;
            if (r->step->kind == HDC_STEP_EXEC)
                snprintf(msg + used, msg_len - used, "\nin %s, `%s` was still running%s%s",
                         op->node->pn->hostname, r->step->command,
                         op->output_len ? "; its last output:\n" : "", op->output);
            if (blamed == NULL)
                blamed = op->node;
            break;
        }
    }
    return blamed;
}

void cluster_steps_times(const cluster_steps *s, const char *const **names, const uint64_t **start,
                         const uint64_t **end, size_t *n) {
    *names = s->names;
    *start = s->start;
    *end = s->end;
    *n = s->n_steps;
}

void cluster_steps_free(cluster_steps *s) {
    if (s == NULL)
        return;
    while (s->runs != NULL) {
        step_run *next = s->runs->next;
        free(s->runs->ops);
        free(s->runs);
        s->runs = next;
    }
    free(s->names);
    free(s->start);
    free(s->end);
    free(s);
}
