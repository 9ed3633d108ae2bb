/* The bootstrap runner with a fake executor: each step's command says what
 * the fake does ("ok 50": succeed after 50 ms, "fail 20", "hang" until
 * canceled, "sync-ok" / "sync-fail": call done from inside start_step,
 * "refuse": start_step returns an error). The fake logs events as
 * "+a" (started), "-a" (succeeded), "!a" (failed), "xa" (cancel asked). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "boot.h"

#define MAX_STEPS 16

typedef struct fake fake;

typedef struct fake_step {
    fake *f;
    uv_timer_t timer;
    const hdc_step *step;
    boot_step_done_fn done;
    void *token;
    int status;
    int finished;
} fake_step;

struct fake {
    uv_loop_t loop;
    char log[1024];
    int sync_cancel; /* cancel_step calls done from inside */
    int in_boot_run;
    int cb_calls;
    int cb_inside_boot_run;
    size_t running, max_running;
    size_t n_progress;
    fake_step *active[MAX_STEPS * 2];
    size_t n_active;
    /* The report, copied. */
    int status;
    char message[256];
    char failed_step[64];
    size_t n_steps;
    enum boot_state states[MAX_STEPS];
    uint64_t start_ms[MAX_STEPS], end_ms[MAX_STEPS];
    char why[MAX_STEPS][128];
    uint64_t run_ms;
    boot_dag *dag;
};

static void logf_(fake *f, const char *fmt, ...) {
    size_t used = strlen(f->log);
    va_list ap;

    if (used > 0 && used < sizeof(f->log) - 1)
        f->log[used++] = ' ';
    va_start(ap, fmt);
    vsnprintf(f->log + used, sizeof(f->log) - used, fmt, ap);
    va_end(ap);
}

/* Position of event in the log, or -1. */
static int at(const fake *f, const char *event) {
    size_t n = strlen(event);

    for (const char *p = f->log; (p = strstr(p, event)) != NULL; p++)
        if ((p == f->log || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return (int)(p - f->log);
    return -1;
}

static void on_fake_closed(uv_handle_t *h) {
    free(h->data);
}

static void finish_step(fake_step *fs, int status, const char *why) {
    fake *f = fs->f;

    if (fs->finished)
        return;
    fs->finished = 1;
    f->running--;
    for (size_t i = 0; i < f->n_active; i++)
        if (f->active[i] == fs)
            f->active[i] = f->active[--f->n_active];
    logf_(f, "%c%s", status == 0 ? '-' : '!', fs->step->name);
    uv_timer_stop(&fs->timer);
    uv_close((uv_handle_t *)&fs->timer, on_fake_closed);
    fs->done(fs->token, status, why);
}

static void on_fake_timer(uv_timer_t *t) {
    fake_step *fs = t->data;
    finish_step(fs, fs->status, fs->status == 0 ? NULL : "disk on fire");
}

static void on_fake_cancel_timer(uv_timer_t *t) {
    finish_step(t->data, UV_ECANCELED, "canceled");
}

static int fake_start(void *ctx, const hdc_step *step, boot_step_done_fn done, void *token) {
    fake *f = ctx;
    const char *cmd = step->command;
    fake_step *fs;

    if (strcmp(cmd, "refuse") == 0)
        return UV_EBUSY;
    fs = calloc(1, sizeof(*fs));
    assert_non_null(fs);
    fs->f = f;
    fs->step = step;
    fs->done = done;
    fs->token = token;
    uv_timer_init(&f->loop, &fs->timer);
    fs->timer.data = fs;
    f->active[f->n_active++] = fs;
    if (++f->running > f->max_running)
        f->max_running = f->running;
    logf_(f, "+%s", step->name);
    if (strcmp(cmd, "sync-ok") == 0) {
        finish_step(fs, 0, NULL);
    } else if (strcmp(cmd, "sync-fail") == 0) {
        finish_step(fs, UV_EIO, "failed at once");
    } else if (strncmp(cmd, "ok ", 3) == 0 || strncmp(cmd, "fail ", 5) == 0) {
        fs->status = cmd[0] == 'o' ? 0 : UV_EIO;
        uv_timer_start(&fs->timer, on_fake_timer, strtoull(strchr(cmd, ' ') + 1, NULL, 10), 0);
    } else {
        assert_string_equal(cmd, "hang");
    }
    return 0;
}

static void fake_cancel(void *ctx, const hdc_step *step, void *token) {
    fake *f = ctx;

    logf_(f, "x%s", step->name);
    for (size_t i = 0; i < f->n_active; i++) {
        fake_step *fs = f->active[i];
        if (fs->token != token)
            continue;
        if (f->sync_cancel) {
            finish_step(fs, UV_ECANCELED, "canceled");
        } else {
            uv_timer_stop(&fs->timer);
            uv_timer_start(&fs->timer, on_fake_cancel_timer, 0, 0);
        }
        return;
    }
    fail_msg("cancel of step %s, which is not running", step->name);
}

static void fake_progress(void *ctx, const boot_step_report *r) {
    fake *f = ctx;
    f->n_progress++;
    assert_true(r->state != BOOT_PENDING && r->state != BOOT_SKIPPED);
}

static const boot_executor fake_exec = {
    .start_step = fake_start,
    .cancel_step = fake_cancel,
    .progress = fake_progress,
};

static void on_boot_done(void *data, const boot_report *r) {
    fake *f = data;

    f->cb_calls++;
    if (f->in_boot_run)
        f->cb_inside_boot_run = 1;
    assert_int_equal(f->running, 0); /* every started step has ended */
    f->status = r->status;
    snprintf(f->message, sizeof(f->message), "%s", r->message ? r->message : "(null)");
    snprintf(f->failed_step, sizeof(f->failed_step), "%s",
             r->failed_step ? r->failed_step : "(null)");
    f->n_steps = r->n_steps;
    for (size_t i = 0; i < r->n_steps && i < MAX_STEPS; i++) {
        f->states[i] = r->steps[i].state;
        f->start_ms[i] = r->steps[i].start_ms;
        f->end_ms[i] = r->steps[i].end_ms;
        snprintf(f->why[i], sizeof(f->why[i]), "%s", r->steps[i].why ? r->steps[i].why : "");
    }
    f->run_ms = r->end_ms - r->start_ms;
}

static void fake_init(fake *f) {
    memset(f, 0, sizeof(*f));
    assert_int_equal(uv_loop_init(&f->loop), 0);
    f->status = 1; /* "no report yet" */
}

/* Runs steps to the end; returns boot_run's result. */
static int run(fake *f, const hdc_step *steps) {
    int rc;

    f->in_boot_run = 1;
    rc = boot_run(&f->loop, steps, &fake_exec, f, on_boot_done, f, &f->dag);
    f->in_boot_run = 0;
    if (rc == 0)
        assert_int_equal(f->cb_calls, 0);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    return rc;
}

static void fake_close(fake *f) {
    /* boot closed all its handles before calling back: nothing is left. */
    assert_int_equal(uv_loop_close(&f->loop), 0);
}

#define STEP(n, cmd, ...)                                                                  \
    {                                                                                      \
        .name = n, .kind = HDC_STEP_EXEC, .service = "s", .command = cmd, .timeout_s = 10, \
        .after = HDC_LIST(__VA_ARGS__)                                                     \
    }
#define ROOT(n, cmd) \
    { .name = n, .kind = HDC_STEP_EXEC, .service = "s", .command = cmd, .timeout_s = 10 }

/* The step lists are at file scope: HDC_LIST is a compound literal, which
 * in a function would not be a constant (nor outlive the call). */

static const hdc_step diamond[] = {
    STEP("d", "ok 10", "b", "c"),
    STEP("b", "ok 30", "a"),
    ROOT("a", "ok 20"),
    STEP("c", "ok 10", "a"),
    {0},
};

static void runs_steps_in_dependency_order(void **state) {
    fake f;

    fake_init(&f);
    assert_int_equal(run(&f, diamond), 0);
    assert_int_equal(f.cb_calls, 1);
    assert_int_equal(f.status, 0);
    assert_string_equal(f.message, "(null)");
    assert_string_equal(f.failed_step, "(null)");
    assert_int_equal(f.n_steps, 4);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(f.states[i], BOOT_DONE);
    assert_true(at(&f, "-a") < at(&f, "+b"));
    assert_true(at(&f, "-a") < at(&f, "+c"));
    assert_true(at(&f, "-b") < at(&f, "+d"));
    assert_true(at(&f, "-c") < at(&f, "+d"));
    /* The recorded times agree: d starts after b and c end. */
    assert_true(f.start_ms[0] >= f.end_ms[1] && f.start_ms[0] >= f.end_ms[3]);
    assert_true(f.end_ms[1] - f.start_ms[1] >= 30);
    assert_int_equal(f.n_progress, 8); /* a start and an end per step */
    fake_close(&f);
}

static const hdc_step two_roots[] = {
    ROOT("a", "ok 100"),
    ROOT("b", "ok 100"),
    STEP("c", "ok 1", "a", "b"),
    {0},
};

static void starts_independent_steps_concurrently(void **state) {
    fake f;

    fake_init(&f);
    assert_int_equal(run(&f, two_roots), 0);
    assert_int_equal(f.status, 0);
    /* Both started before either finished. */
    assert_true(at(&f, "+b") < at(&f, "-a"));
    assert_true(at(&f, "+a") < at(&f, "-b"));
    assert_int_equal(f.max_running, 2);
    fake_close(&f);
}

static const hdc_step slow_first[] = {
    {.name = "slow", .kind = HDC_STEP_EXEC, .service = "s", .command = "hang", .timeout_s = 1},
    STEP("next", "ok 1", "slow"),
    {0},
};

static void fails_a_step_whose_deadline_passed(void **state) {
    fake f;

    fake_init(&f);
    assert_int_equal(run(&f, slow_first), 0);
    assert_int_equal(f.cb_calls, 1);
    assert_int_equal(f.status, UV_ETIMEDOUT);
    assert_string_equal(f.message, "step 'slow': deadline of 1 s passed");
    assert_string_equal(f.failed_step, "slow");
    assert_string_equal(f.why[0], "deadline of 1 s passed");
    assert_int_equal(f.states[0], BOOT_FAILED);
    assert_int_equal(f.states[1], BOOT_SKIPPED);
    assert_true(at(&f, "xslow") >= 0); /* the executor was told */
    assert_true(at(&f, "+next") < 0);
    assert_true(f.end_ms[0] - f.start_ms[0] >= 1000);
    fake_close(&f);
}

static const hdc_step one_fails[] = {
    ROOT("a", "fail 20"),   ROOT("b", "hang"), STEP("c", "ok 1", "a"),
    STEP("d", "ok 1", "b"), ROOT("e", "ok 5"), {0},
};

static void first_failure_cancels_running_steps(int sync_cancel) {
    fake f;

    fake_init(&f);
    f.sync_cancel = sync_cancel;
    assert_int_equal(run(&f, one_fails), 0);
    assert_int_equal(f.cb_calls, 1);
    assert_int_equal(f.status, UV_EIO);
    assert_string_equal(f.message, "step 'a': disk on fire");
    assert_string_equal(f.failed_step, "a");
    assert_int_equal(f.states[0], BOOT_FAILED);
    assert_int_equal(f.states[1], BOOT_CANCELED);
    assert_int_equal(f.states[2], BOOT_SKIPPED);
    assert_int_equal(f.states[3], BOOT_SKIPPED);
    assert_int_equal(f.states[4], BOOT_DONE); /* ended before the failure */
    assert_true(at(&f, "xb") > at(&f, "!a"));
    assert_true(at(&f, "xa") < 0); /* a had already ended */
    assert_true(at(&f, "+c") < 0 && at(&f, "+d") < 0);
    fake_close(&f);
}

static void first_failure_cancels_running_steps_async(void **state) {
    first_failure_cancels_running_steps(0);
}

static void first_failure_cancels_running_steps_sync(void **state) {
    first_failure_cancels_running_steps(1);
}

static void reports_a_step_the_executor_could_not_start(void **state) {
    static const hdc_step steps[] = {
        ROOT("a", "hang"),
        ROOT("b", "refuse"),
        {0},
    };
    fake f;

    fake_init(&f);
    assert_int_equal(run(&f, steps), 0);
    assert_int_equal(f.status, UV_EBUSY);
    assert_string_equal(f.failed_step, "b");
    assert_string_equal(f.message, "step 'b': could not start: resource busy or locked");
    assert_int_equal(f.states[0], BOOT_CANCELED);
    assert_int_equal(f.states[1], BOOT_FAILED);
    fake_close(&f);
}

static const hdc_step circle[] = {
    ROOT("start", "ok 1"),
    STEP("a", "ok 1", "start", "c"),
    STEP("b", "ok 1", "a"),
    STEP("c", "ok 1", "b"),
    {0},
};

static void refuses_a_cycle(void **state) {
    char err[256];
    fake f;

    assert_int_equal(boot_check(circle, err, sizeof(err)), BOOT_EINVALID);
    assert_string_equal(err, "steps form a cycle: 'a' after 'c' after 'b' after 'a'");
    fake_init(&f);
    assert_int_equal(run(&f, circle), BOOT_EINVALID);
    assert_int_equal(f.cb_calls, 0);
    assert_string_equal(f.log, ""); /* nothing started */
    fake_close(&f);
}

static const hdc_step unknown_dep[] = {ROOT("a", "ok 1"), STEP("b", "ok 1", "boot-nn"), {0}};
static const hdc_step self_dep[] = {STEP("a", "ok 1", "a"), {0}};

static void refuses_malformed_steps(void **state) {
    static const hdc_step dup[] = {ROOT("a", "ok 1"), ROOT("a", "ok 1"), {0}};
    static const hdc_step no_deadline[] = {
        {.name = "a", .kind = HDC_STEP_EXEC, .service = "s", .command = "ok 1"}, {0}};
    char err[256];

    assert_int_equal(boot_check(unknown_dep, err, sizeof(err)), BOOT_EINVALID);
    assert_string_equal(err, "step 'b' depends on unknown step 'boot-nn'");
    assert_int_equal(boot_check(self_dep, err, sizeof(err)), BOOT_EINVALID);
    assert_string_equal(err, "step 'a' depends on itself");
    assert_int_equal(boot_check(dup, err, sizeof(err)), BOOT_EINVALID);
    assert_string_equal(err, "two steps are named 'a'");
    assert_int_equal(boot_check(no_deadline, err, sizeof(err)), BOOT_EINVALID);
    assert_string_equal(err, "step 'a' has no deadline (timeout_s must be > 0)");
    assert_int_equal(boot_check(unknown_dep, NULL, 0), BOOT_EINVALID);
}

static const hdc_step no_steps[] = {{0}};
static const hdc_step sync_chain[] = {
    ROOT("a", "sync-ok"),
    STEP("b", "sync-ok", "a"),
    STEP("c", "sync-ok", "b"),
    {0},
};

static const hdc_step sync_fail[] = {
    ROOT("a", "sync-ok"),
    STEP("b", "sync-fail", "a"),
    STEP("c", "sync-ok", "b"),
    {0},
};

static void never_calls_back_from_inside_boot_run(void **state) {
    fake f;

    /* run() asserts that cb was not called before boot_run returned. */
    fake_init(&f);
    assert_int_equal(run(&f, no_steps), 0);
    assert_int_equal(f.cb_calls, 1);
    assert_int_equal(f.status, 0);
    assert_int_equal(f.n_steps, 0);
    fake_close(&f);

    fake_init(&f);
    assert_int_equal(run(&f, sync_chain), 0);
    assert_string_equal(f.log, "+a -a +b -b +c -c"); /* all inside boot_run */
    assert_int_equal(f.cb_calls, 1);
    assert_int_equal(f.cb_inside_boot_run, 0);
    assert_int_equal(f.status, 0);
    fake_close(&f);

    fake_init(&f);
    assert_int_equal(run(&f, sync_fail), 0);
    assert_int_equal(f.cb_calls, 1);
    assert_int_equal(f.status, UV_EIO);
    assert_string_equal(f.message, "step 'b': failed at once");
    assert_int_equal(f.states[2], BOOT_SKIPPED);
    fake_close(&f);
}

static void on_cancel_timer(uv_timer_t *t) {
    fake *f = t->data;

    assert_int_equal(boot_cancel(f->dag), 0);
    assert_int_equal(boot_cancel(f->dag), UV_EALREADY);
    uv_close((uv_handle_t *)t, NULL);
}

static const hdc_step hang_and_wait[] = {
    ROOT("a", "hang"),
    ROOT("b", "ok 5"),
    STEP("c", "ok 1", "a"),
    {0},
};

static void boot_cancel_stops_the_run(void **state) {
    uv_timer_t timer;
    fake f;

    fake_init(&f);
    uv_timer_init(&f.loop, &timer);
    timer.data = &f;
    uv_timer_start(&timer, on_cancel_timer, 30, 0);
    assert_int_equal(run(&f, hang_and_wait), 0);
    assert_int_equal(f.cb_calls, 1);
    assert_int_equal(f.status, UV_ECANCELED);
    assert_string_equal(f.message, "bootstrap canceled");
    assert_string_equal(f.failed_step, "(null)");
    assert_int_equal(f.states[0], BOOT_CANCELED);
    assert_int_equal(f.states[1], BOOT_DONE);
    assert_int_equal(f.states[2], BOOT_SKIPPED);
    fake_close(&f);
}

static void refuses_bad_arguments(void **state) {
    static const hdc_step steps[] = {ROOT("a", "ok 1"), {0}};
    static const boot_executor no_cancel = {.start_step = fake_start};
    uv_loop_t loop;

    uv_loop_init(&loop);
    assert_int_equal(boot_run(&loop, steps, &no_cancel, NULL, on_boot_done, NULL, NULL), UV_EINVAL);
    assert_int_equal(boot_run(&loop, steps, &fake_exec, NULL, NULL, NULL, NULL), UV_EINVAL);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(runs_steps_in_dependency_order),
        cmocka_unit_test(starts_independent_steps_concurrently),
        cmocka_unit_test(fails_a_step_whose_deadline_passed),
        cmocka_unit_test(first_failure_cancels_running_steps_async),
        cmocka_unit_test(first_failure_cancels_running_steps_sync),
        cmocka_unit_test(reports_a_step_the_executor_could_not_start),
        cmocka_unit_test(refuses_a_cycle),
        cmocka_unit_test(refuses_malformed_steps),
        cmocka_unit_test(never_calls_back_from_inside_boot_run),
        cmocka_unit_test(boot_cancel_stops_the_run),
        cmocka_unit_test(refuses_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
