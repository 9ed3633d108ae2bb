/* engine/owner.c: a process's name, and whether it runs: this one runs, a
 * child that exited is gone (reaped or not), a PID reused by another process is gone, a
 * name from elsewhere is unknown. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "owner.h"

static void this_process_runs(void **state) {
    char me[OWNER_MAX];

    assert_int_equal(owner_self(me), 0);
    assert_int_equal(owner_liveness(me), OWNER_ALIVE);
    assert_string_equal(owner_liveness_name(OWNER_ALIVE), "alive");
}

/* A child that waits until *release is closed, then exits; its name in
 * name, taken while it surely runs. */
static pid_t waiting_child(char name[OWNER_MAX], int *release) {
    int fds[2];
    pid_t pid;
    char c;

    assert_int_equal(pipe(fds), 0);
    pid = fork();
    if (pid == 0) {
        close(fds[1]);
        (void)read(fds[0], &c, 1);
        _exit(0);
    }
    close(fds[0]);
    assert_int_equal(owner_of(pid, name), 0);
    *release = fds[1];
    return pid;
}

static void an_exited_child_is_gone(void **state) {
    char child[OWNER_MAX];
    int release;
    pid_t pid = waiting_child(child, &release);

    assert_int_equal(owner_liveness(child), OWNER_ALIVE);
    close(release);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    assert_int_equal(owner_liveness(child), OWNER_GONE);
}

static void a_zombie_is_gone(void **state) {
    char child[OWNER_MAX];
    int release;
    siginfo_t info;
    pid_t pid = waiting_child(child, &release);

    close(release);
    /* Exited, not reaped: what a PID 1 that never reaps leaves. */
    assert_int_equal(waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT), 0);
    assert_int_equal(owner_liveness(child), OWNER_GONE);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
}

static void a_reused_pid_is_gone(void **state) {
    char me[OWNER_MAX], other[OWNER_MAX];
    char *last;

    /* This PID with another start time: the process the name meant has
     * ended, whoever holds the PID now. */
    assert_int_equal(owner_self(me), 0);
    snprintf(other, sizeof(other), "%s", me);
    last = strrchr(other, '/');
    snprintf(last + 1, sizeof(other) - (size_t)(last + 1 - other), "1");
    assert_int_equal(owner_liveness(other), OWNER_GONE);
}

static void names_from_elsewhere_are_unknown(void **state) {
    char me[OWNER_MAX], other_ns[OWNER_MAX];
    char machine[40], boot[40];
    unsigned long long ns, t;
    long pid;

    assert_int_equal(owner_self(me), 0);
    assert_int_equal(sscanf(me, "%39[^/]/%39[^/]/%llu/%ld/%llu", machine, boot, &ns, &pid, &t), 5);
    /* another PID namespace on this host */
    snprintf(other_ns, sizeof(other_ns), "%s/%s/%llu/%ld/%llu", machine, boot, ns + 1, pid, t);
    assert_int_equal(owner_liveness(other_ns), OWNER_UNKNOWN);
    /* another host */
    assert_int_equal(owner_liveness("-/00000000-0000-0000-0000-000000000000/1/1/1"), OWNER_UNKNOWN);
    /* this host before a reboot, when it has a machine id */
    if (strcmp(machine, "-") != 0) {
        snprintf(other_ns, sizeof(other_ns), "%s/00000000-0000-0000-0000-000000000000/1/1/1",
                 machine);
        assert_int_equal(owner_liveness(other_ns), OWNER_GONE);
    }
    /* not a name hdc wrote */
    assert_int_equal(owner_liveness(""), OWNER_UNKNOWN);
    assert_int_equal(owner_liveness(NULL), OWNER_UNKNOWN);
    assert_int_equal(owner_liveness("ci-job-42"), OWNER_UNKNOWN);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(this_process_runs),
        cmocka_unit_test(an_exited_child_is_gone),
        cmocka_unit_test(a_zombie_is_gone),
        cmocka_unit_test(a_reused_pid_is_gone),
        cmocka_unit_test(names_from_elsewhere_are_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
