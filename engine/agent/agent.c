/* hdc-agent: the entrypoint (PID 1) of every service container.
 *
 *   hdc-agent --zk HOST:PORT[,HOST:PORT] --service NAME
 *             [--ready tcp:PORT | --ready http:PORT/PATH | --ready cmd:ARGV
 *              | --ready sh:SHELL-TEXT]...
 *             [--ready-timeout S] [--pidfile FILE] [--user USER] [--zk-timeout S]
 *             [--boot-timeout S] -- DAEMON ARGV...
 *
 * The service side of the bootstrap protocol (docs/design.md): wait on a watch
 * until /NAME reads "boot" (or "up"/"failed:..." when the container restarts
 * after its service was booted), run the daemon, check its readiness, write "up";
 * when the daemon exits, or never gets ready, write "failed:<reason>" so the
 * engine fails fast, and exit with the daemon's status.
 *
 * Exit statuses: the daemon's (128+N if a signal N ended it); 1 when the agent
 * fails (ZooKeeper unreachable, the daemon never ready); 2 for bad usage; 126
 * or 127 when the daemon cannot run; 75 (AGENT_ABANDONED, EX_TEMPFAIL) when
 * --boot-timeout passed without "boot": the `hdc up` that created the cluster
 * is gone, and the daemon was never started.
 *
 * Decisions a newcomer would otherwise question:
 * - As PID 1 the agent reaps every orphan. libuv reaps the children it
 *   spawned (the daemon, cmd: probes) by their pid, so the reaper must not
 *   take those: it peeks with waitid(WNOWAIT) and reaps only the others,
 *   retrying shortly when a libuv child stands first in line. It also makes
 *   itself a child subreaper, so a daemon that forks into the background
 *   (--pidfile) becomes its child even when the agent is not PID 1 (tests).
 * - A daemon from --pidfile is not our spawned child: its end is seen by the
 *   reaper (with its status) or by a pidfd becoming readable; where pidfd_open
 *   is missing, by kill(pid, 0) on a timer, as no event exists for it.
 * - Readiness http: is a plain connect, "GET", and a look at the status line
 *   (2xx): a probe needs no more of HTTP, and the agent stays small.
 * - --boot-timeout counts from the agent's start, on a timer of the agent's
 *   own, not zk_wait_for's: the wait's deadline would start only once
 *   ZooKeeper answered. Reconnections and session renewals do not touch it;
 *   reading "boot" (or "up"/"failed:" on a restart) stops it. An abandoned
 *   agent writes nothing to its znode: "failed:" there would make a later
 *   start of the container run the daemon at once.
 * - ZooKeeper may go away for a while (a 20 s outage, the container paused):
 *   the session timeout is 40 s, and engine/zk.c sends a write that lost its
 *   connection again once it is back. Only an expired session fails a
 *   write; the agent then writes again on the new session that zk.c makes.
 *   The last value ("failed:...") is given FINAL_WRITE_MS to land, so that
 *   an agent whose daemon is gone never waits forever for a ZooKeeper that
 *   is gone too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uv.h>

#include "zk.h"

#define MAX_READY            16
#define ZK_CONNECT_S         60
#define PROBE_TIMEOUT_MS     2000
#define CMD_PROBE_TIMEOUT_MS 30000
#define READY_INTERVAL_MS    50 /* between rounds of readiness checks */
#define KILL_GRACE_MS        5000
#define AGENT_ABANDONED      75 /* no "boot" within --boot-timeout */
#define FINAL_WRITE_MS       60000

enum ready_kind { READY_TCP, READY_HTTP, READY_CMD };

typedef struct ready_spec {
    int kind;
    int port;
    char path[256];   /* http: */
    char **argv;      /* cmd: */
    const char *text; /* as given, for messages */
} ready_spec;

enum phase { WAIT_ZK, WAIT_BOOT, STARTING, UP, ENDING };

typedef struct agent agent;

typedef struct probe {
    agent *a;
    const ready_spec *spec;
    uv_tcp_t tcp;
    uv_connect_t conn;
    uv_write_t wr;
    uv_timer_t timer;
    uv_process_t proc;
    int handles;
    int done;
    int killed;
    uint64_t started_ms; /* uv_now when it started */
    char req[512];
    char buf[256];
    size_t len;
} probe;

struct agent {
    uv_loop_t *loop;
    /* options */
    const char *hosts;
    const char *service;
    char path[512];
    ready_spec ready[MAX_READY];
    int n_ready;
    unsigned ready_timeout_s;
    unsigned zk_timeout_s;
    unsigned boot_timeout_s; /* 0: wait for "boot" forever */
    const char *pidfile;
    const char *user;
    uid_t uid;
    gid_t gid;
    char **env;
    char **argv;
    /* state */
    int phase;
    zk_session *zk;
    uv_signal_t sigterm, sigint, sigchld;
    uv_timer_t reap_timer;
    uv_timer_t boot_deadline;
    uv_process_t daemon;
    int daemon_running; /* the spawned process has not exited */
    pid_t followed;     /* from --pidfile */
    int follow_fd;
    uv_poll_t follow_poll;
    uv_timer_t follow_timer;
    int following;
    uv_timer_t ready_timer; /* the pause between rounds */
    uv_timer_t ready_deadline;
    uv_timer_t kill_timer;
    uint64_t round_cmd_ms; /* the longest cmd: check of this round took this */
    int round_index;
    char last_fail[256];
    probe *probe;
    pid_t probe_pid; /* a cmd: probe libuv has not reaped yet */
    int probes;      /* probes not yet freed */
    int forwarded_signal;
    int exit_status;
    int final_done; /* the last value is written (or cannot be) */
    int exiting;
    char final_value[300];
    uv_timer_t write_timer; /* the deadline of the last value */
};

static agent g_agent;

static void say(agent *a, const char *fmt, ...) {
    va_list ap;
    char line[1024];
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "hdc-agent[%s]: %s\n", a->service ? a->service : "?", line);
}

static void usage(void) {
    fprintf(stderr,
            "usage: hdc-agent --zk HOST:PORT[,HOST:PORT] --service NAME\n"
            "                 [--ready tcp:PORT | --ready http:PORT/PATH | --ready cmd:ARGV\n"
            "                  | --ready sh:SHELL-TEXT]...\n"
            "                 [--ready-timeout S] [--pidfile FILE] [--user USER]\n"
            "                 [--zk-timeout S] [--boot-timeout S] -- DAEMON ARGV...\n"
            "\n"
            "Waits until the znode /NAME reads \"boot\", runs DAEMON (no shell), checks\n"
            "that every --ready passes (default timeout 300 s), writes \"up\" to /NAME, and\n"
            "when DAEMON exits (or never gets ready) writes \"failed:<reason>\" and exits\n"
            "with DAEMON's status (1 if it never got ready). --pidfile: DAEMON forks into\n"
            "the background and writes the daemon's PID to FILE; that process is followed.\n"
            "--zk-timeout: how long to try reaching ZooKeeper at first (default 60 s).\n"
            "--boot-timeout: if /NAME has not read \"boot\" S seconds after the start, the\n"
            "cluster is abandoned: exit 75 without running DAEMON (default 0: wait forever).\n");
}

/* ---- options ------------------------------------------------------------------ */

static char **split_words(const char *s) {
    char **v = NULL, *copy = strdup(s), *tok, *save = NULL;
    size_t n = 0;
    if (copy == NULL)
        return NULL;
    for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char **nv = realloc(v, (n + 2) * sizeof(*v));
        if (nv == NULL)
            break;
        v = nv;
        v[n++] = strdup(tok);
        v[n] = NULL;
    }
    free(copy);
    return v;
}

static void free_words(char **v) {
    size_t i;
    for (i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static int parse_port(const char *s, const char **end) {
    char *e;
    long p = strtol(s, &e, 10);
    if (e == s || p < 1 || p > 65535)
        return -1;
    *end = e;
    return (int)p;
}

static int parse_ready(ready_spec *r, const char *text) {
    const char *end;
    memset(r, 0, sizeof(*r));
    r->text = text;
    if (strncmp(text, "tcp:", 4) == 0) {
        r->kind = READY_TCP;
        r->port = parse_port(text + 4, &end);
        return r->port > 0 && *end == '\0' ? 0 : -1;
    }
    if (strncmp(text, "http:", 5) == 0) {
        r->kind = READY_HTTP;
        r->port = parse_port(text + 5, &end);
        if (r->port < 0 || (*end != '\0' && *end != '/'))
            return -1;
        snprintf(r->path, sizeof(r->path), "%s", *end ? end : "/");
        return 0;
    }
    if (strncmp(text, "cmd:", 4) == 0) {
        r->kind = READY_CMD;
        r->argv = split_words(text + 4);
        return r->argv && r->argv[0] ? 0 : -1;
    }
    if (strncmp(text, "sh:", 3) == 0 && text[3] != '\0') {
        /* Shell text, as plugins write readiness commands. */
        r->kind = READY_CMD;
        r->argv = calloc(4, sizeof(char *));
        if (r->argv == NULL)
            return -1;
        r->argv[0] = strdup("/bin/sh");
        r->argv[1] = strdup("-c");
        r->argv[2] = strdup(text + 3);
        return r->argv[0] && r->argv[1] && r->argv[2] ? 0 : -1;
    }
    return -1;
}

static int parse_args(agent *a, int argc, char **argv) {
    int i;
    char *end;
    a->ready_timeout_s = 300;
    a->zk_timeout_s = ZK_CONNECT_S;
    for (i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(o, "--") == 0) {
            a->argv = argv + i + 1;
            break;
        }
        if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
            usage();
            exit(0);
        }
        if (v == NULL) {
            fprintf(stderr, "hdc-agent: %s needs a value\n", o);
            return -1;
        }
        if (strcmp(o, "--zk") == 0) {
            a->hosts = v;
        } else if (strcmp(o, "--service") == 0) {
            a->service = v;
        } else if (strcmp(o, "--ready") == 0) {
            if (a->n_ready == MAX_READY) {
                fprintf(stderr, "hdc-agent: at most %d --ready\n", MAX_READY);
                return -1;
            }
            if (parse_ready(&a->ready[a->n_ready], v) != 0) {
                fprintf(stderr,
                        "hdc-agent: bad --ready %s (tcp:PORT, http:PORT/PATH or "
                        "cmd:ARGV or sh:SHELL-TEXT)\n",
                        v);
                return -1;
            }
            a->n_ready++;
        } else if (strcmp(o, "--ready-timeout") == 0) {
            long t = strtol(v, &end, 10);
            if (*v == '\0' || *end != '\0' || t < 1 || t > 86400) {
                fprintf(stderr, "hdc-agent: bad --ready-timeout %s (seconds)\n", v);
                return -1;
            }
            a->ready_timeout_s = (unsigned)t;
        } else if (strcmp(o, "--zk-timeout") == 0) {
            long t = strtol(v, &end, 10);
            if (*v == '\0' || *end != '\0' || t < 1 || t > 86400) {
                fprintf(stderr, "hdc-agent: bad --zk-timeout %s (seconds)\n", v);
                return -1;
            }
            a->zk_timeout_s = (unsigned)t;
        } else if (strcmp(o, "--boot-timeout") == 0) {
            unsigned long t;
            /* Digits only: strtoul would take a sign and leading blanks. */
            errno = 0;
            t = strtoul(v, &end, 10);
            if (*v < '0' || *v > '9' || *end != '\0' || errno != 0 || t > UINT_MAX) {
                fprintf(stderr,
                        "hdc-agent: bad --boot-timeout %s (whole seconds; 0: no deadline)\n", v);
                return -1;
            }
            a->boot_timeout_s = (unsigned)t;
        } else if (strcmp(o, "--pidfile") == 0) {
            a->pidfile = v;
        } else if (strcmp(o, "--user") == 0) {
            a->user = v;
        } else {
            fprintf(stderr, "hdc-agent: unknown option %s\n", o);
            return -1;
        }
        i++;
    }
    if (a->hosts == NULL || a->service == NULL) {
        fprintf(stderr, "hdc-agent: --zk and --service are required\n");
        return -1;
    }
    if (a->service[0] == '\0' || strchr(a->service, '/') != NULL) {
        fprintf(stderr, "hdc-agent: bad --service %s (a znode name, no '/')\n", a->service);
        return -1;
    }
    if (a->argv == NULL || a->argv[0] == NULL) {
        fprintf(stderr, "hdc-agent: no daemon given after --\n");
        return -1;
    }
    snprintf(a->path, sizeof(a->path), "/%s", a->service);
    return 0;
}

/* The environment for --user: the agent's, with HOME, USER and LOGNAME set. */
static int setup_user(agent *a) {
    struct passwd *pw;
    extern char **environ;
    size_t n = 0, i, j = 0;
    char *end;
    long id;

    if (a->user == NULL)
        return 0;
    errno = 0;
    pw = getpwnam(a->user);
    if (pw == NULL) {
        id = strtol(a->user, &end, 10);
        if (*a->user == '\0' || *end != '\0' || id < 0) {
            say(a, "no such user %s", a->user);
            return -1;
        }
        a->uid = (uid_t)id;
        a->gid = (gid_t)id;
        return 0;
    }
    a->uid = pw->pw_uid;
    a->gid = pw->pw_gid;
    while (environ[n])
        n++;
    a->env = calloc(n + 4, sizeof(char *));
    if (a->env == NULL)
        return -1;
    for (i = 0; i < n; i++) {
        if (strncmp(environ[i], "HOME=", 5) == 0 || strncmp(environ[i], "USER=", 5) == 0 ||
            strncmp(environ[i], "LOGNAME=", 8) == 0)
            continue;
        a->env[j++] = strdup(environ[i]);
    }
    if (asprintf(&a->env[j++], "HOME=%s", pw->pw_dir) < 0 ||
        asprintf(&a->env[j++], "USER=%s", pw->pw_name) < 0 ||
        asprintf(&a->env[j++], "LOGNAME=%s", pw->pw_name) < 0)
        return -1;
    a->env[j] = NULL;
    return 0;
}

static void spawn_options(agent *a, uv_process_options_t *o, char **argv,
                          uv_stdio_container_t *stdio, int quiet) {
    memset(o, 0, sizeof(*o));
    o->file = argv[0];
    o->args = argv;
    o->env = a->env;
    stdio[0].flags = quiet ? UV_IGNORE : UV_INHERIT_FD;
    stdio[0].data.fd = 0;
    stdio[1].flags = quiet ? UV_IGNORE : UV_INHERIT_FD;
    stdio[1].data.fd = 1;
    stdio[2].flags = quiet ? UV_IGNORE : UV_INHERIT_FD;
    stdio[2].data.fd = 2;
    o->stdio = stdio;
    o->stdio_count = 3;
    if (a->user != NULL) {
        o->flags |= UV_PROCESS_SETUID | UV_PROCESS_SETGID;
        o->uid = a->uid;
        o->gid = a->gid;
    }
}

/* ---- the end ------------------------------------------------------------------ */

static void close_any(uv_handle_t *h, void *arg) {
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void zk_closed(void *data, zk_session *s) {
    agent *a = data;
    a->zk = NULL;
    uv_walk(a->loop, close_any, NULL);
}

/* Closes everything; main() returns a->exit_status once the loop is empty. */
static void shutdown_agent(agent *a) {
    if (a->exiting)
        return;
    a->exiting = 1;
    a->phase = ENDING;
    if (a->zk != NULL && zk_close(a->zk, zk_closed, a) == 0)
        return;
    uv_walk(a->loop, close_any, NULL);
}

/* Exits once the last value is written and no child of ours is left. */
static void maybe_exit(agent *a) {
    if (a->phase == ENDING && a->final_done && !a->daemon_running && !a->following &&
        a->probes == 0)
        shutdown_agent(a);
}

static void set_final(agent *a);

static void final_written(void *data, int status) {
    agent *a = data;
    if (a->final_done)
        return; /* its deadline passed: the agent has moved on */
    if (status == ZK_EEXPIRED) {
        /* Not written: a new session is being made, the write waits for it. */
        say(a, "writing %s = %s again: %s", a->path, a->final_value, zk_session_error(a->zk));
        set_final(a);
        return;
    }
    if (status == 0)
        say(a, "wrote %s = %s", a->path, a->final_value);
    else
        say(a, "could not write %s = %s: %s", a->path, a->final_value, hdc_strerror(status));
    uv_timer_stop(&a->write_timer);
    a->final_done = 1;
    maybe_exit(a);
}

static void final_deadline(uv_timer_t *t) {
    agent *a = t->data;
    if (a->final_done)
        return;
    say(a, "could not write %s = %s: ZooKeeper did not take it within %d s", a->path,
        a->final_value, FINAL_WRITE_MS / 1000);
    a->final_done = 1;
    maybe_exit(a);
}

static void set_final(agent *a) {
    int rc = UV_ENOTCONN;
    if (a->zk != NULL)
        rc = zk_set(a->zk, a->path, a->final_value, strlen(a->final_value), final_written, a);
    if (rc != 0) {
        say(a, "could not write %s = %s: %s", a->path, a->final_value, hdc_strerror(rc));
        uv_timer_stop(&a->write_timer);
        a->final_done = 1;
        maybe_exit(a);
    }
}

static void write_final(agent *a) {
    uv_timer_start(&a->write_timer, final_deadline, FINAL_WRITE_MS, 0);
    set_final(a);
}

static void abort_probe(agent *a);

/* The service is over: report it, then exit with status. */
static void finish(agent *a, int status, const char *fmt, ...) {
    va_list ap;
    char reason[256];
    if (a->phase == ENDING) {
        maybe_exit(a);
        return;
    }
    a->phase = ENDING;
    a->exit_status = status;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    uv_timer_stop(&a->ready_timer);
    uv_timer_stop(&a->ready_deadline);
    abort_probe(a);
    say(a, "failed: %s; exiting with status %d", reason, status);
    snprintf(a->final_value, sizeof(a->final_value), "failed:%s", reason);
    write_final(a);
}

/* ---- the daemon -------------------------------------------------------------------- */

static void describe_status(char *buf, size_t len, int64_t exit_status, int term_signal) {
    if (term_signal != 0)
        snprintf(buf, len, "killed by signal %d (%s)", term_signal, strsignal(term_signal));
    else
        snprintf(buf, len, "exited with status %d", (int)exit_status);
}

static int status_code(int64_t exit_status, int term_signal) {
    return term_signal != 0 ? 128 + term_signal : (int)exit_status;
}

static void daemon_ended(agent *a, int code, const char *how) {
    if (a->phase == ENDING) {
        maybe_exit(a);
        return;
    }
    char stopped[64], killed[64];
    const char *k;
    if (a->forwarded_signal == 0) {
        finish(a, code, "%s", how);
        return;
    }
    snprintf(stopped, sizeof(stopped), "stopped by signal %d (%s)", a->forwarded_signal,
             strsignal(a->forwarded_signal));
    snprintf(killed, sizeof(killed), "killed by signal %d (%s)", a->forwarded_signal,
             strsignal(a->forwarded_signal));
    /* "killed by ..." is news only if it was not our signal. */
    k = strstr(how, "killed by signal");
    if (k != NULL && strcmp(k, killed) == 0)
        finish(a, code, "%s", stopped);
    else
        finish(a, code, "%s; %s", stopped, how);
}

static void start_readiness(agent *a);
static void follow(agent *a, pid_t pid);
static void write_up(agent *a);

static void follow_ended(agent *a, int have_status, int wstatus) {
    char how[128];
    int code = 1;
    if (!a->following)
        return;
    a->following = 0;
    uv_timer_stop(&a->follow_timer);
    if (a->follow_fd >= 0) {
        uv_poll_stop(&a->follow_poll);
        uv_close((uv_handle_t *)&a->follow_poll, NULL);
        close(a->follow_fd);
        a->follow_fd = -1;
    }
    if (have_status && WIFEXITED(wstatus)) {
        code = WEXITSTATUS(wstatus);
        snprintf(how, sizeof(how), "daemon (pid %d) exited with status %d", (int)a->followed, code);
    } else if (have_status && WIFSIGNALED(wstatus)) {
        code = 128 + WTERMSIG(wstatus);
        snprintf(how, sizeof(how), "daemon (pid %d) killed by signal %d (%s)", (int)a->followed,
                 WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
    } else {
        snprintf(how, sizeof(how), "daemon (pid %d) is gone", (int)a->followed);
    }
    daemon_ended(a, code, how);
}

static void on_daemon_exit(uv_process_t *p, int64_t exit_status, int term_signal) {
    agent *a = p->data;
    char how[128];
    FILE *f;
    long pid = 0;

    a->daemon_running = 0;
    uv_close((uv_handle_t *)p, NULL);
    describe_status(how, sizeof(how), exit_status, term_signal);
    if (a->pidfile != NULL && a->phase != ENDING && !a->forwarded_signal && term_signal == 0 &&
        exit_status == 0) {
        /* It forked into the background: follow the PID it wrote. */
        f = fopen(a->pidfile, "r");
        if (f == NULL || fscanf(f, "%ld", &pid) != 1 || pid <= 1) {
            if (f)
                fclose(f);
            finish(a, 1, "%s exited without writing a PID to %s", a->argv[0], a->pidfile);
            return;
        }
        fclose(f);
        follow(a, (pid_t)pid);
        return;
    }
    say(a, "%s %s", a->argv[0], how);
    daemon_ended(a, status_code(exit_status, term_signal), how);
}

static void start_daemon(agent *a) {
    uv_process_options_t o;
    uv_stdio_container_t stdio[3];
    int rc;

    spawn_options(a, &o, a->argv, stdio, 0);
    o.exit_cb = on_daemon_exit;
    a->daemon.data = a;
    rc = uv_spawn(a->loop, &a->daemon, &o);
    if (rc != 0) {
        /* uv_spawn leaves the handle to be closed. */
        uv_close((uv_handle_t *)&a->daemon, NULL);
        finish(a, rc == UV_ENOENT ? 127 : 126, "cannot run %s: %s", a->argv[0], uv_strerror(rc));
        return;
    }
    a->daemon_running = 1;
    a->phase = STARTING;
    say(a, "started %s (pid %d)", a->argv[0], a->daemon.pid);
    start_readiness(a);
}

/* ---- following a daemon from --pidfile ----------------------------------------------- */

static void follow_check(agent *a) {
    int wstatus;
    pid_t r;
    if (!a->following)
        return;
    r = waitpid(a->followed, &wstatus, WNOHANG);
    if (r == a->followed) {
        follow_ended(a, 1, wstatus);
        return;
    }
    if (r == 0)
        return; /* our child, still running */
    if (kill(a->followed, 0) != 0 && errno == ESRCH)
        follow_ended(a, 0, 0);
}

static void on_follow_poll(uv_poll_t *h, int status, int events) {
    follow_check(h->data);
}

static void on_follow_timer(uv_timer_t *t) {
    follow_check(t->data);
}

static void follow(agent *a, pid_t pid) {
    int fd;
    a->followed = pid;
    a->following = 1;
    say(a, "following the daemon's pid %d from %s", (int)pid, a->pidfile);
#ifdef SYS_pidfd_open
    fd = (int)syscall(SYS_pidfd_open, pid, 0);
#else
    fd = -1;
    errno = ENOSYS;
#endif
    if (fd >= 0) {
        a->follow_fd = fd;
        uv_poll_init(a->loop, &a->follow_poll, fd);
        a->follow_poll.data = a;
        uv_poll_start(&a->follow_poll, UV_READABLE, on_follow_poll);
    } else if (errno == ESRCH) {
        follow_ended(a, 0, 0);
        return;
    } else {
        /* No pidfd: no event exists for a process that is not our child. */
        uv_timer_start(&a->follow_timer, on_follow_timer, 200, 200);
    }
    follow_check(a);
    if (a->following && a->n_ready == 0 && a->phase == STARTING)
        write_up(a);
}

/* ---- reaping, signals ------------------------------------------------------------ */

static int spawned_by_libuv(agent *a, pid_t pid) {
    if (a->daemon_running && a->daemon.pid == pid)
        return 1;
    if (a->probe_pid != 0 && a->probe_pid == pid)
        return 1;
    return 0;
}

static void reap(agent *a);

static void on_reap_timer(uv_timer_t *t) {
    reap(t->data);
}

static void reap(agent *a) {
    siginfo_t si;
    int wstatus;
    for (;;) {
        memset(&si, 0, sizeof(si));
        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == 0)
            return;
        if (spawned_by_libuv(a, si.si_pid)) {
            /* libuv reaps its own; look again after it did. */
            uv_timer_start(&a->reap_timer, on_reap_timer, 20, 0);
            return;
        }
        if (waitpid(si.si_pid, &wstatus, WNOHANG) != si.si_pid)
            return;
        if (a->following && si.si_pid == a->followed)
            follow_ended(a, 1, wstatus);
    }
}

static void on_sigchld(uv_signal_t *h, int sig) {
    reap(h->data);
}

static void on_kill_timer(uv_timer_t *t) {
    agent *a = t->data;
    if (a->daemon_running)
        uv_process_kill(&a->daemon, SIGKILL);
    if (a->following)
        kill(a->followed, SIGKILL);
}

static void stop_daemon(agent *a, int sig) {
    if (a->daemon_running)
        uv_process_kill(&a->daemon, sig);
    if (a->following)
        kill(a->followed, sig);
}

static void on_signal(uv_signal_t *h, int sig) {
    agent *a = h->data;
    if (a->daemon_running || a->following) {
        say(a, "got signal %d (%s): passing it to the daemon", sig, strsignal(sig));
        a->forwarded_signal = sig;
        stop_daemon(a, sig);
        return;
    }
    if (a->phase == ENDING)
        return;
    if (a->probes > 0)
        return; /* ending: a killed probe is about to go */
    say(a, "got signal %d (%s) before the daemon started: exiting", sig, strsignal(sig));
    a->exit_status = 128 + sig;
    shutdown_agent(a);
}

/* ---- readiness ----------------------------------------------------------------- */

static void probe_handle_closed(uv_handle_t *h) {
    probe *p = h->data;
    agent *a = p->a;
    if (--p->handles > 0)
        return;
    free(p);
    a->probes--;
    maybe_exit(a);
}

static void ready_result(agent *a, int ok, const char *why);
static void probe_end(probe *p, int ok, const char *why);

/* Stops the running probe, if any; a cmd: probe is killed, and freed once
 * libuv has seen it exit. */
static void abort_probe(agent *a) {
    probe *p = a->probe;
    if (p == NULL)
        return;
    a->probe = NULL;
    if (p->spec->kind == READY_CMD && !p->done) {
        p->killed = 1;
        uv_timer_stop(&p->timer);
        uv_process_kill(&p->proc, SIGKILL);
    } else {
        probe_end(p, 0, "");
    }
}

static void probe_end(probe *p, int ok, const char *why) {
    agent *a = p->a;
    if (p->done)
        return;
    p->done = 1;
    if (p->spec->kind == READY_CMD && uv_now(a->loop) - p->started_ms > a->round_cmd_ms)
        a->round_cmd_ms = uv_now(a->loop) - p->started_ms;
    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&p->timer, probe_handle_closed);
    if (p->spec->kind != READY_CMD) {
        if (!uv_is_closing((uv_handle_t *)&p->tcp))
            uv_close((uv_handle_t *)&p->tcp, probe_handle_closed);
    } else {
        uv_close((uv_handle_t *)&p->proc, probe_handle_closed);
    }
    if (a->probe == p) {
        a->probe = NULL;
        ready_result(a, ok, why);
    }
}

static void probe_timeout(uv_timer_t *t) {
    probe *p = t->data;
    char why[300];
    if (p->spec->kind == READY_CMD) {
        /* Wait for its exit: libuv reaps it. */
        p->killed = 1;
        uv_process_kill(&p->proc, SIGKILL);
        return;
    }
    snprintf(why, sizeof(why), "%s: no answer within %d ms", p->spec->text, PROBE_TIMEOUT_MS);
    probe_end(p, 0, why);
}

static void on_probe_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
    probe *p = s->data;
    char why[300], *eol;
    int major, minor, code;
    if (n < 0) {
        snprintf(why, sizeof(why), "%s: connection closed before a status line", p->spec->text);
        probe_end(p, 0, why);
        return;
    }
    p->len += (size_t)n;
    p->buf[p->len] = '\0';
    eol = strchr(p->buf, '\n');
    if (eol == NULL && p->len < sizeof(p->buf) - 1)
        return;
    if (sscanf(p->buf, "HTTP/%d.%d %d", &major, &minor, &code) == 3) {
        if (code >= 200 && code < 300) {
            probe_end(p, 1, NULL);
            return;
        }
        snprintf(why, sizeof(why), "%s: HTTP %d", p->spec->text, code);
    } else {
        snprintf(why, sizeof(why), "%s: not an HTTP answer", p->spec->text);
    }
    probe_end(p, 0, why);
}

static void probe_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
    probe *p = h->data;
    *buf = uv_buf_init(p->buf + p->len, (unsigned)(sizeof(p->buf) - 1 - p->len));
}

static void on_probe_written(uv_write_t *w, int status) {
    probe *p = w->data;
    char why[300];
    if (status != 0 && !p->done) {
        snprintf(why, sizeof(why), "%s: %s", p->spec->text, uv_strerror(status));
        probe_end(p, 0, why);
    }
}

static void on_probe_connect(uv_connect_t *c, int status) {
    probe *p = c->data;
    char why[300];
    uv_buf_t b;
    if (p->done)
        return;
    if (status != 0) {
        snprintf(why, sizeof(why), "%s: %s", p->spec->text, uv_strerror(status));
        probe_end(p, 0, why);
        return;
    }
    if (p->spec->kind == READY_TCP) {
        probe_end(p, 1, NULL);
        return;
    }
    snprintf(p->req, sizeof(p->req),
             "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\nUser-Agent: hdc-agent\r\n"
             "Connection: close\r\n\r\n",
             p->spec->path, p->spec->port);
    b = uv_buf_init(p->req, (unsigned)strlen(p->req));
    p->wr.data = p;
    if ((status = uv_write(&p->wr, (uv_stream_t *)&p->tcp, &b, 1, on_probe_written)) != 0 ||
        (status = uv_read_start((uv_stream_t *)&p->tcp, probe_alloc, on_probe_read)) != 0) {
        snprintf(why, sizeof(why), "%s: %s", p->spec->text, uv_strerror(status));
        probe_end(p, 0, why);
    }
}

static void on_probe_exit(uv_process_t *proc, int64_t exit_status, int term_signal) {
    probe *p = proc->data;
    char why[300], how[128];
    p->a->probe_pid = 0;
    if (exit_status == 0 && term_signal == 0) {
        probe_end(p, 1, NULL);
        return;
    }
    if (p->killed)
        snprintf(how, sizeof(how), "no result within %d s", CMD_PROBE_TIMEOUT_MS / 1000);
    else
        describe_status(how, sizeof(how), exit_status, term_signal);
    snprintf(why, sizeof(why), "%s: %s", p->spec->text, how);
    probe_end(p, 0, why);
}

static void run_probe(agent *a, const ready_spec *spec) {
    probe *p = calloc(1, sizeof(*p));
    struct sockaddr_in addr;
    uv_process_options_t o;
    uv_stdio_container_t stdio[3];
    char why[300];
    int rc;

    if (p == NULL) {
        ready_result(a, 0, "out of memory");
        return;
    }
    p->a = a;
    p->spec = spec;
    p->started_ms = uv_now(a->loop);
    a->probe = p;
    a->probes++;
    uv_timer_init(a->loop, &p->timer);
    p->timer.data = p;
    p->handles = 1;
    if (spec->kind == READY_CMD) {
        spawn_options(a, &o, spec->argv, stdio, 1);
        o.exit_cb = on_probe_exit;
        p->proc.data = p;
        rc = uv_spawn(a->loop, &p->proc, &o);
        p->handles++;
        if (rc != 0) {
            snprintf(why, sizeof(why), "%s: cannot run: %s", spec->text, uv_strerror(rc));
            probe_end(p, 0, why);
            return;
        }
        a->probe_pid = p->proc.pid;
        uv_timer_start(&p->timer, probe_timeout, CMD_PROBE_TIMEOUT_MS, 0);
        return;
    }
    uv_tcp_init(a->loop, &p->tcp);
    p->tcp.data = p;
    p->handles++;
    uv_ip4_addr("127.0.0.1", spec->port, &addr);
    p->conn.data = p;
    rc = uv_tcp_connect(&p->conn, &p->tcp, (const struct sockaddr *)&addr, on_probe_connect);
    if (rc != 0) {
        snprintf(why, sizeof(why), "%s: %s", spec->text, uv_strerror(rc));
        probe_end(p, 0, why);
        return;
    }
    uv_timer_start(&p->timer, probe_timeout, PROBE_TIMEOUT_MS, 0);
}

static void write_up(agent *a);

static void ready_round(uv_timer_t *t) {
    agent *a = t->data;
    a->round_index = 0;
    a->round_cmd_ms = 0;
    run_probe(a, &a->ready[0]);
}

static void ready_result(agent *a, int ok, const char *why) {
    if (a->phase != STARTING)
        return;
    if (ok) {
        if (++a->round_index < a->n_ready) {
            run_probe(a, &a->ready[a->round_index]);
            return;
        }
        uv_timer_stop(&a->ready_deadline);
        write_up(a);
        return;
    }
    if (strcmp(why, a->last_fail) != 0) {
        say(a, "not ready yet: %s", why);
        snprintf(a->last_fail, sizeof(a->last_fail), "%s", why);
    }
    /* A port or a page is asked again soon after its answer; a command (a
     * JVM on real Hadoop: seconds of CPU) not before as long again as it
     * took, so that it never takes more than half a core. */
    uv_timer_start(&a->ready_timer, ready_round,
                   a->round_cmd_ms > READY_INTERVAL_MS ? a->round_cmd_ms : READY_INTERVAL_MS, 0);
}

static void on_ready_deadline(uv_timer_t *t) {
    agent *a = t->data;
    if (a->phase != STARTING)
        return;
    uv_timer_stop(&a->ready_timer);
    abort_probe(a);
    /* Stop the daemon; the agent exits with 1 once it is gone. */
    a->phase = ENDING;
    a->exit_status = 1;
    say(a, "failed: not ready after %us (%s); stopping the daemon", a->ready_timeout_s,
        a->last_fail[0] ? a->last_fail : "no check passed");
    snprintf(a->final_value, sizeof(a->final_value), "failed:not ready after %us%s%s",
             a->ready_timeout_s, a->last_fail[0] ? ": " : "", a->last_fail);
    if (a->daemon_running || a->following) {
        stop_daemon(a, SIGTERM);
        uv_timer_start(&a->kill_timer, on_kill_timer, KILL_GRACE_MS, 0);
    }
    write_final(a);
}

static void start_readiness(agent *a) {
    if (a->n_ready == 0) {
        if (a->pidfile == NULL)
            write_up(a);
        return; /* with --pidfile and no check: up once the PID is known */
    }
    a->round_cmd_ms = 0;
    uv_timer_start(&a->ready_deadline, on_ready_deadline, a->ready_timeout_s * 1000ull, 0);
    a->round_index = 0;
    run_probe(a, &a->ready[0]);
}

static void up_written(void *data, int status) {
    agent *a = data;
    if (status != 0) {
        /* A lost connection is zk.c's to mend; an expired session is not:
         * write again on the new one. */
        if (a->phase == UP && status == ZK_EEXPIRED) {
            say(a, "writing %s = up again: %s", a->path, zk_session_error(a->zk));
            write_up(a);
            return;
        }
        if (a->phase == UP)
            say(a, "could not write %s = up: %s", a->path, hdc_strerror(status));
        return;
    }
    if (a->phase == UP)
        say(a, "ready: wrote %s = up", a->path);
}

static void write_up(agent *a) {
    int rc;
    a->phase = UP;
    rc = zk_set(a->zk, a->path, "up", 2, up_written, a);
    if (rc != 0)
        say(a, "could not write %s = up: %s", a->path, hdc_strerror(rc));
}

/* ---- ZooKeeper ---------------------------------------------------------------------- */

static void on_boot(void *data, int status, const char *value, size_t len) {
    agent *a = data;
    if (a->phase != WAIT_BOOT)
        return; /* the agent is ending: its value came too late */
    if (status != 0) {
        if (status != UV_ECANCELED) {
            say(a, "waiting for %s: %s (%s)", a->path, hdc_strerror(status),
                zk_session_error(a->zk));
            a->exit_status = 1;
            shutdown_agent(a);
        }
        return;
    }
    uv_timer_stop(&a->boot_deadline);
    if (len == 4 && memcmp(value, "boot", 4) == 0)
        say(a, "%s = boot: starting %s", a->path, a->argv[0]);
    else
        say(a, "%s = %.*s: booted before, this container restarted: starting %s", a->path, (int)len,
            value, a->argv[0]);
    start_daemon(a);
}

/* No "boot" in time: nobody is left to write it. */
static void on_boot_deadline(uv_timer_t *t) {
    agent *a = t->data;
    const char *cluster = getenv("HDC_CLUSTER");
    char down[300];
    if (a->phase != WAIT_ZK && a->phase != WAIT_BOOT)
        return;
    snprintf(down, sizeof(down), "`hdc down %s` removes the cluster",
             cluster != NULL && cluster[0] != '\0' ? cluster : "NAME");
    if (a->phase == WAIT_ZK)
        say(a,
            "%s did not read 'boot' within %u s: ZooKeeper at %s never answered, so no `hdc up` "
            "can boot this cluster; exiting with status %d without starting %s (%s)",
            a->path, a->boot_timeout_s, a->hosts, AGENT_ABANDONED, a->argv[0], down);
    else
        say(a,
            "%s did not read 'boot' within %u s: the `hdc up` that created this cluster is gone; "
            "exiting with status %d without starting %s (%s)",
            a->path, a->boot_timeout_s, AGENT_ABANDONED, a->argv[0], down);
    a->exit_status = AGENT_ABANDONED;
    shutdown_agent(a);
}

static void on_created(void *data, int status) {
    agent *a = data;
    /* `up` or `failed:` mean the service was booted before and this is
     * its container restarting (docker restart, or the daemon's host
     * rebooted): it starts again rather than wait for a boot that will
     * not come. A new cluster's znodes read `wait` before any agent runs. */
    static const char *const boot[] = {"boot", "up", "failed:*", NULL};
    int rc;
    if (a->phase != WAIT_BOOT)
        return;
    if (status == ZK_EEXPIRED) {
        rc = zk_create(a->zk, a->path, "wait", 4, 0, on_created, a);
        if (rc == 0)
            return; /* on the new session */
        status = rc;
    }
    if (status != 0 && status != ZK_ENODEEXISTS) {
        say(a, "cannot create %s: %s", a->path, hdc_strerror(status));
        a->exit_status = 1;
        shutdown_agent(a);
        return;
    }
    say(a, "waiting for %s to read boot", a->path);
    rc = zk_wait_for(a->zk, a->path, boot, 0, on_boot, a, NULL);
    if (rc != 0) {
        say(a, "cannot watch %s: %s", a->path, hdc_strerror(rc));
        a->exit_status = 1;
        shutdown_agent(a);
    }
}

static void on_connected(void *data, int status, zk_session *s) {
    agent *a = data;
    int rc;
    if (a->exiting)
        return; /* cancelled by our own zk_close: the exit status is set */
    if (status != 0) {
        say(a, "%s", zk_session_error(s)[0] ? zk_session_error(s) : hdc_strerror(status));
        a->exit_status = 1;
        shutdown_agent(a);
        return;
    }
    say(a, "connected to ZooKeeper at %s (session timeout %u ms)", a->hosts, zk_session_timeout(s));
    a->phase = WAIT_BOOT;
    rc = zk_create(a->zk, a->path, "wait", 4, 0, on_created, a);
    if (rc != 0)
        on_created(a, rc);
}

static void on_zk_event(void *data, zk_session *s, enum zk_event ev) {
    static const char *const names[] = {"disconnected", "reconnected", "session expired",
                                        "new session"};
    say(data, "ZooKeeper: %s", names[ev]);
}

int main(int argc, char **argv) {
    agent *a = &g_agent;
    zk_options zo;
    int rc;

    a->follow_fd = -1;
    if (parse_args(a, argc, argv) != 0) {
        usage();
        return 2;
    }
    if (setup_user(a) != 0)
        return 2;
    /* Orphans of our daemon become our children, even when not PID 1. */
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    signal(SIGPIPE, SIG_IGN);

    a->loop = uv_default_loop();
    uv_signal_init(a->loop, &a->sigterm);
    uv_signal_init(a->loop, &a->sigint);
    uv_signal_init(a->loop, &a->sigchld);
    a->sigterm.data = a->sigint.data = a->sigchld.data = a;
    uv_signal_start(&a->sigterm, on_signal, SIGTERM);
    uv_signal_start(&a->sigint, on_signal, SIGINT);
    uv_signal_start(&a->sigchld, on_sigchld, SIGCHLD);
    uv_timer_init(a->loop, &a->reap_timer);
    uv_timer_init(a->loop, &a->boot_deadline);
    uv_timer_init(a->loop, &a->follow_timer);
    uv_timer_init(a->loop, &a->ready_timer);
    uv_timer_init(a->loop, &a->ready_deadline);
    uv_timer_init(a->loop, &a->kill_timer);
    uv_timer_init(a->loop, &a->write_timer);
    a->reap_timer.data = a->boot_deadline.data = a->follow_timer.data = a->ready_timer.data = a;
    a->ready_deadline.data = a->kill_timer.data = a->write_timer.data = a;

    memset(&zo, 0, sizeof(zo));
    zo.hosts = a->hosts;
    /* Outlasts a 20 s outage of ZooKeeper (docs/design.md). */
    zo.session_timeout_ms = ZK_SESSION_TIMEOUT_DEFAULT_MS;
    zo.connect_timeout_ms = a->zk_timeout_s * 1000;
    zo.on_event = on_zk_event;
    zo.event_data = a;
    a->phase = WAIT_ZK;
    if (a->boot_timeout_s > 0)
        uv_timer_start(&a->boot_deadline, on_boot_deadline, a->boot_timeout_s * 1000ull, 0);
    rc = zk_connect(a->loop, &zo, &a->zk, on_connected, a);
    if (rc != 0) {
        say(a, "cannot connect to ZooKeeper at %s: %s", a->hosts, hdc_strerror(rc));
        a->zk = NULL;
        a->exit_status = 1;
        shutdown_agent(a);
    }
    uv_run(a->loop, UV_RUN_DEFAULT);
    uv_loop_close(a->loop);
    {
        int i;
        for (i = 0; i < a->n_ready; i++)
            free_words(a->ready[i].argv);
        free_words(a->env);
    }
    return a->exit_status;
}
