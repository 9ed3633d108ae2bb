/* `hdc matrix DIST... -- CMD`: what a CI job runs to test a library against
 * several Hadoop versions on one host. Per DIST, one after the other on the
 * loop and all DISTs at once (at most --parallel clusters alive):
 *   up        cluster_up of <default name>-m<pid>, which goes on writing the
 *             nodes' logs to logs/<cluster>/ until the testcase is decided
 *   client    client_start: the client node (ssh on any free port), and
 *             client_side_tests/<dist>/initialize.sh in it, as `hdc client`
 *   command   CMD by Docker exec in the client node as the test user, in
 *             its home; its output to logs/<cluster>/matrix.log and to
 *             stdout, each line prefixed "[DIST] "
 *   bundle    for a failed DIST (every DIST with --bundle-all): a child
 *             `hdc export-logs NAME logs/<cluster>/bundle`
 *   down      cluster_down, unless --keep (or --keep-failed and it failed)
 * then a JUnit XML report (--junit) and a summary on stderr.
 *
 * Decisions a newcomer might question:
 * - A DIST that fails at any phase is a failed testcase, never the end of
 *   the run: the others go on. Only bad usage (exit 2) stops everything,
 *   and it is found before anything is created: every plugin is loaded and
 *   every name checked first.
 * - The cluster names carry the pid, so two matrix runs (two CI jobs on one
 *   host) never collide, and a name taken anyway (CLUSTER_EEXISTS) is not
 *   ours: it is never torn down.
 * - --parallel counts clusters alive, not ups in flight: a slot is freed
 *   when a cluster is torn down, so N bounds the host's memory.
 * - The logs bundle is the real `hdc export-logs` run as a child process:
 *   one implementation of what CI keeps.
 * - SIGINT (or SIGTERM, how CI systems cancel a job) cancels the ups and
 *   the commands in flight and tears down everything the run created,
 *   whatever --keep says; the report is written with what is known
 *   (undecided DISTs are <error type="interrupted">).
 * - The command's stdout and stderr both go to stdout (to stderr with
 *   --json, which prints the results as JSON on stdout), each stream split
 *   into lines on its own so that they never mix within a line.
 */
#define _GNU_SOURCE /* vasprintf */
#include "matrix.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "client.h"
#include "cluster.h"
#include "cluster_query.h"
#include "cluster_spec.h"
#include "docker.h"
#include "logs.h"
#include "plan.h"
#include "plugin.h"

#define MATRIX_LINE_MAX 4096

/* ---- arguments and names (pure) ------------------------------------------------ */

static int matrix_fail(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int matrix_fail(char *err, size_t err_len, const char *fmt, ...) {
    va_list ap;

    if (err != NULL && err_len > 0) {
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* A flag's value, as "--flag V" or "--flag=V"; NULL if the flag is not
 * this one. *i moves past a separate value. */
static const char *matrix_flag_value(int argc, char **argv, int *i, const char *flag,
                                     int *missing) {
    size_t n = strlen(flag);

    *missing = 0;
    if (strncmp(argv[*i], flag, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != '\0')
        return NULL;
    if (*i + 1 >= argc || strcmp(argv[*i + 1], "--") == 0) {
        *missing = 1;
        return "";
    }
    return argv[++*i];
}

static int matrix_uint(const char *flag, const char *s, unsigned min, unsigned max, unsigned *out,
                       char *err, size_t err_len) {
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (*s == '\0' || *end != '\0' || s[0] == '-' || s[0] == '+' || errno != 0 || v < min ||
        v > max)
        return matrix_fail(err, err_len, "%s '%s': give a whole number from %u to %u", flag, s, min,
                           max);
    *out = (unsigned)v;
    return 0;
}

int matrix_parse_args(int argc, char **argv, matrix_args *out, char *err, size_t err_len) {
    static const struct {
        const char *flag;
        unsigned min, max;
        size_t offset;
    } numbers[] = {
        {"--parallel", 1, 1000, offsetof(matrix_args, parallel)},
        {"--timeout", 1, 86400, offsetof(matrix_args, timeout_s)},
        {"--datanodes", 1, PLUGIN_MAX_INSTANCES, offsetof(matrix_args, datanodes)},
    };
    int dash = -1;

    memset(out, 0, sizeof(*out));
    out->datanodes = 1;
    for (int i = 1; i < argc && dash < 0; i++) {
        const char *a = argv[i], *v;
        int missing = 0, matched = 0;

        if (strcmp(a, "--") == 0) {
            dash = i;
            break;
        }
        for (size_t k = 0; k < sizeof(numbers) / sizeof(numbers[0]) && !matched; k++) {
            v = matrix_flag_value(argc, argv, &i, numbers[k].flag, &missing);
            if (v == NULL)
                continue;
            matched = 1;
            if (missing)
                return matrix_fail(err, err_len, "%s needs a value", numbers[k].flag);
            if (matrix_uint(numbers[k].flag, v, numbers[k].min, numbers[k].max,
                            (unsigned *)((char *)out + numbers[k].offset), err, err_len) != 0)
                return -1;
        }
        if (matched)
            continue;
        if ((v = matrix_flag_value(argc, argv, &i, "--junit", &missing)) != NULL) {
            if (missing || *v == '\0')
                return matrix_fail(err, err_len, "--junit needs a file name");
            out->junit = v;
        } else if ((v = matrix_flag_value(argc, argv, &i, "--test-user", &missing)) != NULL) {
            if (missing || *v == '\0')
                return matrix_fail(err, err_len, "--test-user needs a user name");
            out->test_user = v;
        } else if (strcmp(a, "--keep") == 0) {
            out->keep = 1;
        } else if (strcmp(a, "--keep-failed") == 0) {
            out->keep_failed = 1;
        } else if (strcmp(a, "--bundle-all") == 0) {
            out->bundle_all = 1;
        } else if (a[0] == '-') {
            return matrix_fail(err, err_len,
                               "unknown flag '%s'; 'hdc help matrix' shows the "
                               "usage",
                               a);
        } else {
            if (out->n_dists == MATRIX_MAX_DISTS)
                return matrix_fail(err, err_len, "at most %d distributions in one matrix",
                                   MATRIX_MAX_DISTS);
            for (size_t k = 0; k < out->n_dists; k++)
                if (strcmp(out->dists[k], a) == 0)
                    return matrix_fail(err, err_len,
                                       "'%s' is given twice: its clusters would "
                                       "have one name; give each DIST once",
                                       a);
            out->dists[out->n_dists++] = a;
        }
    }
    if (out->n_dists == 0)
        return matrix_fail(err, err_len, "which distributions? 'hdc plugins' lists them");
    if (dash < 0)
        return matrix_fail(err, err_len,
                           "no `--`: give the command after it: hdc matrix "
                           "DIST... -- CMD [ARG...]");
    if (dash + 1 >= argc)
        return matrix_fail(err, err_len,
                           "no command after `--`: hdc matrix DIST... -- CMD "
                           "[ARG...]");
    out->cmd = argv + dash + 1;
    out->n_cmd = (size_t)(argc - dash - 1);
    return 0;
}

int matrix_cluster_name(const char *dist, long pid, char *out, size_t len, char *err,
                        size_t err_len) {
    char base[PLAN_MAX_NAME + 1], suffix[32], msg[256];
    size_t keep;

    if (plan_default_name(dist, base, sizeof(base)) != 0)
        return matrix_fail(err, err_len, "'%s' gives no valid cluster name", dist);
    snprintf(suffix, sizeof(suffix), "-m%ld", pid);
    if (strlen(suffix) >= PLAN_MAX_NAME)
        return matrix_fail(err, err_len, "pid %ld is too long for a cluster name", pid);
    keep = PLAN_MAX_NAME - strlen(suffix);
    if (strlen(base) < keep)
        keep = strlen(base);
    while (keep > 0 && base[keep - 1] == '-')
        keep--;
    if (keep == 0)
        return matrix_fail(err, err_len, "'%s' gives no valid cluster name", dist);
    if ((size_t)snprintf(out, len, "%.*s%s", (int)keep, base, suffix) >= len)
        return matrix_fail(err, err_len, "no room for the name of '%s'", dist);
    if (plan_name_check(out, msg, sizeof(msg)) != 0)
        return matrix_fail(err, err_len, "%s", msg);
    return 0;
}

/* ---- the output's tail (pure) ---------------------------------------------------- */

int matrix_tail_init(matrix_tail *t, size_t cap) {
    memset(t, 0, sizeof(*t));
    t->buf = malloc(cap > 0 ? cap : 1);
    if (t->buf == NULL)
        return UV_ENOMEM;
    t->cap = cap;
    return 0;
}

void matrix_tail_append(matrix_tail *t, const char *buf, size_t len) {
    if (t->buf == NULL || len == 0)
        return;
    if (len >= t->cap) {
        t->cut += t->len + (len - t->cap);
        memcpy(t->buf, buf + (len - t->cap), t->cap);
        t->len = t->cap;
        return;
    }
    if (t->len + len > t->cap) {
        size_t drop = t->len + len - t->cap;
        memmove(t->buf, t->buf + drop, t->len - drop);
        t->len -= drop;
        t->cut += drop;
    }
    memcpy(t->buf + t->len, buf, len);
    t->len += len;
}

void matrix_tail_free(matrix_tail *t) {
    free(t->buf);
    memset(t, 0, sizeof(*t));
}

/* ---- XML (pure) ------------------------------------------------------------------ */

/* A growing string. */
typedef struct matrix_buf {
    char *s;
    size_t len, cap;
    int oom;
} matrix_buf;

static void matrix_buf_add(matrix_buf *b, const char *s, size_t n) {
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap > 0 ? b->cap : 256;
        char *p;
        while (cap < b->len + n + 1)
            cap *= 2;
        p = realloc(b->s, cap);
        if (p == NULL) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void matrix_buf_str(matrix_buf *b, const char *s) {
    matrix_buf_add(b, s, strlen(s));
}

static void matrix_buf_printf(matrix_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void matrix_buf_printf(matrix_buf *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0)
        matrix_buf_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* The length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, at most U+10FFFF), or 0. */
static size_t matrix_utf8_len(const unsigned char *s, size_t avail, uint32_t *cp) {
    size_t n;
    uint32_t c, min;

    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        n = 2, c = s[0] & 0x1F, min = 0x80;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        n = 3, c = s[0] & 0x0F, min = 0x800;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        n = 4, c = s[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return n;
}

static void matrix_xml_add(matrix_buf *b, const char *s, size_t len, int attr) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        uint32_t cp;
        size_t n = matrix_utf8_len(u + i, len - i, &cp);
        const char *rep = NULL;

        if (n == 0) {
            matrix_buf_str(b, "\xEF\xBF\xBD"); /* U+FFFD for a byte that is not UTF-8 */
            i++;
            continue;
        }
        switch (cp) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = attr ? "&quot;" : "\""; break;
        case '\'': rep = attr ? "&apos;" : "'"; break;
        case '\t': rep = attr ? "&#9;" : "\t"; break;
        case '\n': rep = attr ? "&#10;" : "\n"; break;
        case '\r': rep = attr ? "&#13;" : "&#13;"; break;
        case 0xFFFE:
        case 0xFFFF: rep = "\xEF\xBF\xBD"; break;
        default:
            if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))
                rep = ""; /* control characters: not allowed (or discouraged) in XML 1.0 */
            break;
        }
        if (rep != NULL)
            matrix_buf_str(b, rep);
        else
            matrix_buf_add(b, s + i, n);
        i += n;
    }
}

char *matrix_xml_escape(const char *s, size_t len, int attr) {
    matrix_buf b = {0};

    matrix_buf_add(&b, "", 0);
    matrix_xml_add(&b, s, len, attr);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

static void matrix_xml_attr(matrix_buf *b, const char *name, const char *value) {
    matrix_buf_printf(b, " %s=\"", name);
    matrix_xml_add(b, value, strlen(value), 1);
    matrix_buf_str(b, "\"");
}

/* A failure's message attribute: its first line. */
static void matrix_xml_first_line(matrix_buf *b, const char *msg) {
    const char *nl = strchr(msg, '\n');

    matrix_buf_str(b, " message=\"");
    matrix_xml_add(b, msg, nl != NULL ? (size_t)(nl - msg) : strlen(msg), 1);
    matrix_buf_str(b, "\"");
}

static void matrix_junit_case(matrix_buf *b, const matrix_result *r) {
    matrix_buf_str(b, "    <testcase classname=\"hdc.matrix\"");
    matrix_xml_attr(b, "name", r->dist);
    matrix_buf_printf(b, " time=\"%.3f\">\n", r->time_s > 0 ? r->time_s : 0.0);
    if (r->outcome != MATRIX_PASSED) {
        const char *el = r->outcome == MATRIX_ERROR ? "error" : "failure";
        const char *msg = r->message != NULL ? r->message : "failed";
        matrix_buf_printf(b, "      <%s", el);
        matrix_xml_first_line(b, msg);
        matrix_xml_attr(b, "type", r->failure_type != NULL ? r->failure_type : "failure");
        matrix_buf_str(b, ">");
        if (r->cluster != NULL && strncmp(msg, r->cluster, strlen(r->cluster)) != 0) {
            matrix_buf_str(b, "cluster ");
            matrix_xml_add(b, r->cluster, strlen(r->cluster), 0);
            matrix_buf_str(b, ": ");
        }
        matrix_xml_add(b, msg, strlen(msg), 0);
        matrix_buf_printf(b, "</%s>\n", el);
    }
    if (r->output != NULL) {
        const char *out = r->output;
        size_t len = r->output_len;
        matrix_buf_str(b, "      <system-out>");
        if (r->output_cut > 0) {
            /* Start at a character, not inside one. */
            for (int k = 0; k < 3 && len > 0 && ((unsigned char)out[0] & 0xC0) == 0x80; k++)
                out++, len--;
            matrix_buf_printf(b, "[hdc: the first %zu bytes are cut", r->output_cut);
            if (r->log_path != NULL) {
                matrix_buf_str(b, "; ");
                matrix_xml_add(b, r->log_path, strlen(r->log_path), 0);
                matrix_buf_str(b, " has them all");
            }
            matrix_buf_str(b, "]\n");
        }
        matrix_xml_add(b, out, len, 0);
        matrix_buf_str(b, "</system-out>\n");
    }
    matrix_buf_str(b, "    </testcase>\n");
}

char *matrix_junit_xml(const matrix_result *results, size_t n, const matrix_suite *suite) {
    matrix_buf b = {0};
    size_t failures = 0, errors = 0;
    char stamp[32] = "1970-01-01T00:00:00";
    struct tm tm;
    char counts[160];

    for (size_t i = 0; i < n; i++) {
        failures += results[i].outcome == MATRIX_FAILED;
        errors += results[i].outcome == MATRIX_ERROR;
    }
    if (gmtime_r(&suite->started, &tm) != NULL)
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(counts, sizeof(counts), " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\"", n, failures,
             errors);

    matrix_buf_str(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    matrix_buf_printf(&b, "<testsuites name=\"hdc matrix\"%s time=\"%.3f\">\n", counts,
                      suite->time_s);
    matrix_buf_printf(&b,
                      "  <testsuite name=\"hdc matrix\"%s skipped=\"0\" time=\"%.3f\" "
                      "timestamp=\"%s\"",
                      counts, suite->time_s, stamp);
    if (suite->hostname != NULL && suite->hostname[0] != '\0')
        matrix_xml_attr(&b, "hostname", suite->hostname);
    matrix_buf_str(&b, ">\n");
    if (suite->command != NULL) {
        matrix_buf_str(&b, "    <properties>\n      <property name=\"command\"");
        matrix_xml_attr(&b, "value", suite->command);
        matrix_buf_str(&b, "/>\n    </properties>\n");
    }
    for (size_t i = 0; i < n; i++)
        matrix_junit_case(&b, &results[i]);
    matrix_buf_str(&b, "  </testsuite>\n</testsuites>\n");
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/* ---- the run ----------------------------------------------------------------------- */

enum matrix_phase {
    MATRIX_WAITING,
    MATRIX_UP,
    MATRIX_CLIENT,
    MATRIX_COMMAND,
    MATRIX_BUNDLE,
    MATRIX_DOWN,
    MATRIX_DONE,
};

typedef struct matrix_run matrix_run;

/* One DIST. */
typedef struct matrix_target {
    matrix_run *m;
    const char *dist;
    char name[PLAN_MAX_NAME + 1];
    char logs_dir[4096];
    char log_path[4200]; /* logs/<cluster>/matrix.log */
    plugin *plug;
    enum matrix_phase phase;
    cluster *c;          /* the up in flight, then following the logs */
    int ready;           /* the cluster came up */
    int decided;         /* the testcase's outcome is known */
    docker_call *stream; /* the command in flight */
    int created;         /* objects of ours may exist: tear down */
    int kept;
    enum matrix_outcome outcome;
    const char *failure_type;
    char *message;
    uint64_t start_ms, end_ms;
    logs_sink *log;
    char line[2][MATRIX_LINE_MAX];
    size_t line_len[2];
    matrix_tail out;
    int has_output;
    char user[64];
    char container[96];
    uv_process_t proc;   /* export-logs */
    uv_process_t writer; /* the log writer of a kept cluster */
} matrix_target;

struct matrix_run {
    uv_loop_t loop;
    docker *d;
    uv_signal_t sigint, sigterm; /* CI systems cancel a job with either */
    matrix_args args;
    plugin_path pp;
    matrix_target t[MATRIX_MAX_DISTS];
    size_t n, next, alive;
    int interrupted;
    int teardown_failed;
    int json;
    const char *logs_root, *key_dir, *test_user;
    char command[1024]; /* CMD as one line, for messages */
    time_t started;
    uint64_t start_ms;
};

static void matrix_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void matrix_error(const char *fmt, ...) {
    va_list ap;

    fputs("hdc: matrix: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void matrix_start(matrix_target *t);
static void matrix_after_test(matrix_target *t);
static void matrix_teardown(matrix_target *t);
static void matrix_down_done(void *data, int status, const char *msg, unsigned removed);

static double matrix_seconds(uint64_t from, uint64_t to) {
    return to > from ? (double)(to - from) / 1000.0 : 0.0;
}

/* Starts the next DISTs while there is a free slot. */
static void matrix_pump(matrix_run *m) {
    unsigned limit = m->args.parallel > 0 ? m->args.parallel : MATRIX_MAX_DISTS;

    while (!m->interrupted && m->next < m->n && m->alive < limit) {
        m->alive++;
        matrix_start(&m->t[m->next++]);
    }
}

static void matrix_set_outcome(matrix_target *t, enum matrix_outcome o, const char *type,
                               const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void matrix_set_outcome(matrix_target *t, enum matrix_outcome o, const char *type,
                               const char *fmt, ...) {
    va_list ap;

    t->outcome = o;
    t->failure_type = type;
    free(t->message);
    t->message = NULL;
    if (fmt != NULL) {
        va_start(ap, fmt);
        if (vasprintf(&t->message, fmt, ap) < 0)
            t->message = NULL;
        va_end(ap);
    }
}

/* The DIST is done: its slot goes to the next one. */
static void matrix_finish(matrix_target *t) {
    matrix_run *m = t->m;

    t->phase = MATRIX_DONE;
    m->alive--;
    matrix_pump(m);
}

/* ---- the command ------------------------------------------------------------------- */

static void matrix_flush_line(matrix_target *t, int k) {
    FILE *f = t->m->json ? stderr : stdout;

    fprintf(f, "[%s] %.*s\n", t->dist, (int)t->line_len[k], t->line[k]);
    t->line_len[k] = 0;
}

static void matrix_output(void *data, int stream, const char *buf, size_t len) {
    matrix_target *t = data;
    int k = stream == DOCKER_STDERR ? 1 : 0;

    t->has_output = 1;
    if (t->log != NULL)
        logs_sink_append(t->log, buf, len);
    matrix_tail_append(&t->out, buf, len);
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n') {
            matrix_flush_line(t, k);
            continue;
        }
        if (t->line_len[k] == sizeof(t->line[k]))
            matrix_flush_line(t, k);
        t->line[k][t->line_len[k]++] = buf[i];
    }
    fflush(t->m->json ? stderr : stdout);
}

static void matrix_log_closed(void *data) {
    matrix_target *t = data;

    if (logs_sink_error(t->log) != 0)
        matrix_error("[%s] writing %s failed: %s", t->dist, t->log_path,
                     hdc_strerror(logs_sink_error(t->log)));
    t->log = NULL;
}

static void matrix_command_done(void *data, int status, const char *msg, int exit_code) {
    matrix_target *t = data;
    matrix_run *m = t->m;

    t->stream = NULL;
    for (int k = 0; k < 2; k++)
        if (t->line_len[k] > 0)
            matrix_flush_line(t, k);
    if (status == UV_ECANCELED && m->interrupted)
        matrix_set_outcome(t, MATRIX_ERROR, "interrupted", "interrupted while %s ran", m->command);
    else if (status != 0)
        matrix_set_outcome(t, MATRIX_FAILED, "command",
                           "%s could not run in the client "
                           "node: %s",
                           m->command, msg != NULL ? msg : hdc_strerror(status));
    else if (exit_code != 0)
        matrix_set_outcome(t, MATRIX_FAILED, "command", "%s exited with status %d", m->command,
                           exit_code);
    else
        matrix_set_outcome(t, MATRIX_PASSED, NULL, NULL);
    matrix_after_test(t);
}

static void matrix_mkdir(const char *path) {
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        matrix_error("cannot create %s: %s", path, strerror(errno));
}

static void matrix_run_command(matrix_target *t) {
    matrix_run *m = t->m;
    char home[128], env_home[160], env_user[96], env_logname[96];
    const char *env[3];
    docker_exec_opts eo = {0};
    int err;

    /* hdc-client-init creates the user with useradd's default home. */
    snprintf(home, sizeof(home), "/home/%s", t->user);
    snprintf(env_home, sizeof(env_home), "HOME=%s", home);
    snprintf(env_user, sizeof(env_user), "USER=%s", t->user);
    snprintf(env_logname, sizeof(env_logname), "LOGNAME=%s", t->user);
    env[0] = env_home, env[1] = env_user, env[2] = env_logname;
    eo.cmd = (const char *const *)m->args.cmd;
    eo.n_cmd = m->args.n_cmd;
    eo.env = env;
    eo.n_env = 3;
    eo.user = t->user;
    eo.working_dir = home;

    t->phase = MATRIX_COMMAND;
    err = docker_exec(m->d, t->container, &eo, matrix_output, matrix_command_done, t, &t->stream);
    if (err != 0) {
        t->stream = NULL;
        matrix_command_done(t, err, hdc_strerror(err), -1);
    }
}

/* ---- the client node ------------------------------------------------------------ */

static void matrix_client_done(void *data, int status, const char *msg, const client_info *info) {
    matrix_target *t = data;

    if (status != 0) {
        matrix_set_outcome(t, MATRIX_FAILED, "client", "the client node did not come up: %s",
                           msg != NULL ? msg : "unknown error");
        matrix_after_test(t);
        return;
    }
    if (t->m->interrupted) {
        matrix_set_outcome(t, MATRIX_ERROR, "interrupted",
                           "interrupted before the command "
                           "ran");
        matrix_after_test(t);
        return;
    }
    snprintf(t->user, sizeof(t->user), "%s", info->user);
    snprintf(t->container, sizeof(t->container), "%s", info->container);
    matrix_run_command(t);
}

/* The client's initialize.sh (as `hdc client` runs it): its output goes to
 * matrix.log and stderr, not into the command's report. */
static void matrix_init_output(void *data, int stream, const char *buf, size_t len) {
    matrix_target *t = data;

    if (t->log != NULL)
        logs_sink_append(t->log, buf, len);
    fwrite(buf, 1, len, stderr);
}

static void matrix_start_client(matrix_target *t) {
    static const char *const init_dirs[] = {"client_side_tests",
                                            HDC_SOURCE_DIR "/client_side_tests", NULL};
    matrix_run *m = t->m;
    client_opts co = {
        .cluster = t->name,
        .plugins = &m->pp,
        .port = 0,
        .key_dir = m->key_dir,
        .test_user = m->test_user,
        .init_dirs = init_dirs,
        .init_output = matrix_init_output,
    };
    int err;

    matrix_mkdir(m->logs_root);
    matrix_mkdir(t->logs_dir);
    if (logs_sink_open(&m->loop, t->log_path, 1, &t->log) != 0)
        t->log = NULL;
    t->phase = MATRIX_CLIENT;
    err = client_start(&m->loop, m->d, &co, matrix_client_done, t);
    if (err != 0) {
        matrix_set_outcome(t, MATRIX_FAILED, "client",
                           "cannot start the client node of %s: "
                           "%s",
                           t->name, hdc_strerror(err));
        matrix_after_test(t);
    }
}

/* ---- the cluster ---------------------------------------------------------------- */

/* Up: the nodes' logs go on into logs/<cluster>/ (the up follows them)
 * while the client node starts and the command runs. */
static void matrix_up_ready(void *data, const cluster_report *r) {
    matrix_target *t = data;

    t->ready = 1;
    t->created = 1;
    if (t->m->interrupted) {
        matrix_set_outcome(t, MATRIX_ERROR, "interrupted", "interrupted while %s came up", t->name);
        matrix_after_test(t);
        return;
    }
    fprintf(stderr, "hdc: matrix: [%s] %s is up in %.1f s; starting its client node\n", t->dist,
            t->name, r->total_ms / 1000.0);
    matrix_start_client(t);
}

static void matrix_after_follow(matrix_target *t);

/* The up's end: a failure, or the end of following the logs of a cluster
 * that came up (once the testcase is decided: matrix_after_test). */
static void matrix_up_done(void *data, const cluster_report *r) {
    matrix_target *t = data;
    matrix_run *m = t->m;

    t->c = NULL;
    if (t->ready) {
        if (t->decided)
            matrix_after_follow(t);
        return;
    }
    if (r->status == 0) { /* up without on_ready: not with follow, but safe */
        matrix_up_ready(t, r);
        return;
    }
    /* A name that is taken belongs to someone else: never ours to remove. */
    t->created = r->status != CLUSTER_EEXISTS;
    if (m->interrupted)
        matrix_set_outcome(t, MATRIX_ERROR, "interrupted", "interrupted while %s came up", t->name);
    else
        matrix_set_outcome(t, MATRIX_FAILED, "bootstrap", "%s",
                           r->message != NULL ? r->message : "the cluster did not come up");
    matrix_after_test(t);
}

static void matrix_start(matrix_target *t) {
    matrix_run *m = t->m;
    cluster_up_opts uo = {
        .timeout_s = m->args.timeout_s,
        .logs_root = m->logs_root,
        .test_user = m->test_user,
        .follow = 1,
        .on_ready = matrix_up_ready,
    };
    plan p = {0};
    int err;

    t->phase = MATRIX_UP;
    t->start_ms = uv_now(&m->loop);
    fprintf(stderr, "hdc: matrix: [%s] bringing up %s\n", t->dist, t->name);
    err = plan_pool_parse(getenv("HDC_SUBNET_POOL"), &uo.pool, NULL, 0);
    if (err == 0)
        err = plan_make(&p, t->plug->desc, t->name, m->args.datanodes, &uo.pool,
                        plan_pool_start(&uo.pool, t->name), NULL, 0);
    if (err == 0)
        err = cluster_up(&m->loop, m->d, &p, &uo, NULL, matrix_up_done, t, &t->c);
    plan_free(&p);
    if (err != 0) {
        t->c = NULL;
        matrix_set_outcome(t, MATRIX_FAILED, "bootstrap", "%s: cannot start the up: %s", t->name,
                           hdc_strerror(err));
        matrix_after_test(t);
    }
}

/* ---- bundle and teardown ------------------------------------------------------------ */

static void matrix_proc_closed(uv_handle_t *h) {
    matrix_target *t = h->data;

    matrix_teardown(t);
}

static void matrix_bundle_exited(uv_process_t *p, int64_t exit_status, int term_signal) {
    matrix_target *t = p->data;

    if (exit_status != 0 || term_signal != 0)
        matrix_error("[%s] the logs bundle of %s is incomplete (export-logs: %s %d)", t->dist,
                     t->name, term_signal != 0 ? "signal" : "status",
                     term_signal != 0 ? term_signal : (int)exit_status);
    uv_close((uv_handle_t *)p, matrix_proc_closed);
}

/* `hdc export-logs NAME logs/<cluster>/bundle`, as a child. 0, or an error
 * (nothing started). */
static int matrix_bundle(matrix_target *t) {
    char self[2048], dir[4200];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    char *args[] = {self, "export-logs", t->name, dir, NULL};
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_INHERIT_FD, .data.fd = 2}, /* stdout stays the commands' */
        {.flags = UV_INHERIT_FD, .data.fd = 2},
    };
    uv_process_options_t po = {
        .file = self,
        .args = args,
        .exit_cb = matrix_bundle_exited,
        .stdio = stdio,
        .stdio_count = 3,
    };
    int err;

    if (n <= 0)
        return UV_ENOENT;
    self[n] = '\0';
    matrix_mkdir(t->m->logs_root);
    matrix_mkdir(t->logs_dir);
    snprintf(dir, sizeof(dir), "%s/bundle", t->logs_dir);
    t->proc.data = t;
    err = uv_spawn(&t->m->loop, &t->proc, &po);
    if (err != 0) {
        /* uv_spawn initialized the handle: it is closed, not reused. */
        uv_close((uv_handle_t *)&t->proc, NULL);
        matrix_error("[%s] cannot run export-logs for %s: %s", t->dist, t->name, hdc_strerror(err));
        return err;
    }
    fprintf(stderr, "hdc: matrix: [%s] writing the logs bundle of %s to %s\n", t->dist, t->name,
            dir);
    return 0;
}

/* The testcase is decided: report it, stop following the logs, then
 * bundle and tear down. */
static void matrix_after_test(matrix_target *t) {
    matrix_run *m = t->m;
    int failed = t->outcome != MATRIX_PASSED;

    t->decided = 1;
    t->end_ms = uv_now(&m->loop);
    if (t->log != NULL) {
        char end[256];
        int n = snprintf(end, sizeof(end), "[hdc: %s]\n",
                         t->outcome == MATRIX_PASSED   ? "passed"
                         : t->outcome == MATRIX_FAILED ? "failed"
                                                       : "interrupted");
        logs_sink_append(t->log, end, (size_t)n);
        logs_sink_close(t->log, matrix_log_closed, t);
    }
    if (failed) {
        const char *msg = t->message != NULL ? t->message : "failed";
        const char *nl = strchr(msg, '\n');
        fprintf(stderr, "hdc: matrix: [%s] %s after %.1f s: %.*s\n", t->dist,
                t->outcome == MATRIX_ERROR ? "interrupted" : "FAILED",
                matrix_seconds(t->start_ms, t->end_ms),
                nl != NULL ? (int)(nl - msg) : (int)strlen(msg), msg);
    } else {
        fprintf(stderr, "hdc: matrix: [%s] passed in %.1f s\n", t->dist,
                matrix_seconds(t->start_ms, t->end_ms));
    }
    if (t->c != NULL) {
        cluster_cancel(t->c); /* matrix_up_done goes on once the logs are written */
        return;
    }
    matrix_after_follow(t);
}

static void matrix_after_follow(matrix_target *t) {
    matrix_run *m = t->m;
    int failed = t->outcome != MATRIX_PASSED;

    if (t->created && !m->interrupted && (failed || m->args.bundle_all)) {
        t->phase = MATRIX_BUNDLE;
        if (matrix_bundle(t) == 0)
            return;
    }
    matrix_teardown(t);
}

/* The client's key pair (client.c makes it even when the node then fails):
 * the name was this run's, so is the key. */
static void matrix_forget_key(matrix_target *t) {
    char path[4200];

    snprintf(path, sizeof(path), "%s/%s/id_ed25519", t->m->key_dir, t->name);
    unlink(path);
    snprintf(path, sizeof(path), "%s/%s/id_ed25519.pub", t->m->key_dir, t->name);
    unlink(path);
    snprintf(path, sizeof(path), "%s/%s", t->m->key_dir, t->name);
    rmdir(path);
}

static void matrix_down_done(void *data, int status, const char *msg, unsigned removed) {
    matrix_target *t = data;

    if (status != 0) {
        matrix_error("[%s] removing %s failed: %s; `hdc down %s` retries", t->dist, t->name, msg,
                     t->name);
        t->m->teardown_failed = 1;
    } else {
        matrix_forget_key(t);
    }
    matrix_finish(t);
}

static void matrix_teardown(matrix_target *t) {
    matrix_run *m = t->m;
    int failed = t->outcome != MATRIX_PASSED;

    if (!t->created) {
        matrix_finish(t);
        return;
    }
    if (!m->interrupted && (m->args.keep || (m->args.keep_failed && failed))) {
        t->kept = 1;
        fprintf(stderr, "hdc: matrix: [%s] %s is kept: `hdc down %s` removes it\n", t->dist,
                t->name, t->name);
        matrix_finish(t);
        return;
    }
    t->phase = MATRIX_DOWN;
    if (cluster_down(&m->loop, m->d, t->name, matrix_down_done, t) != 0)
        matrix_down_done(t, UV_EIO, "cannot ask Docker", 0);
}

/* ---- SIGINT ------------------------------------------------------------------------ */

static void matrix_on_sigint(uv_signal_t *h, int signum) {
    matrix_run *m = h->data;

    if (m->interrupted) {
        fprintf(stderr, "hdc: matrix: still tearing down what this run created\n");
        return;
    }
    m->interrupted = 1;
    fprintf(stderr, "\nhdc: matrix: %s: stopping, then removing the clusters of this run\n",
            signum == SIGTERM ? "terminated" : "interrupted");
    for (size_t i = 0; i < m->n; i++) {
        matrix_target *t = &m->t[i];
        if (t->phase == MATRIX_WAITING) {
            matrix_set_outcome(t, MATRIX_ERROR, "interrupted",
                               "interrupted before %s was "
                               "started",
                               t->name);
            t->phase = MATRIX_DONE;
        } else if (t->phase == MATRIX_UP && t->c != NULL) {
            cluster_cancel(t->c);
        } else if (t->phase == MATRIX_COMMAND && t->stream != NULL) {
            docker_call_cancel(t->stream);
        } else if (t->phase == MATRIX_DONE && t->kept) {
            /* Kept before the interrupt: removed too. */
            t->kept = 0;
            m->alive++;
            t->phase = MATRIX_DOWN;
            if (cluster_down(&m->loop, m->d, t->name, matrix_down_done, t) != 0)
                matrix_down_done(t, UV_EIO, "cannot ask Docker", 0);
        }
        /* A client on its way is waited for; a bundle runs to its end. */
    }
}

/* ---- the end: report and summary ------------------------------------------------------ */

static int matrix_write_junit(matrix_run *m) {
    matrix_result res[MATRIX_MAX_DISTS];
    char host[256] = "";
    matrix_suite suite = {
        .started = m->started,
        .time_s = matrix_seconds(m->start_ms, uv_now(&m->loop)),
        .hostname = host,
        .command = m->command,
    };
    char *xml;
    FILE *f;
    int ok;

    gethostname(host, sizeof(host) - 1);
    for (size_t i = 0; i < m->n; i++) {
        matrix_target *t = &m->t[i];
        res[i] = (matrix_result){
            .dist = t->dist,
            .cluster = t->name,
            .outcome = t->outcome,
            .failure_type = t->failure_type,
            .message = t->message,
            .output = t->has_output ? t->out.buf : NULL,
            .output_len = t->out.len,
            .output_cut = t->out.cut,
            .log_path = t->log_path,
            .time_s = matrix_seconds(t->start_ms, t->end_ms),
        };
    }
    xml = matrix_junit_xml(res, m->n, &suite);
    if (xml == NULL) {
        matrix_error("cannot write %s: out of memory", m->args.junit);
        return -1;
    }
    f = fopen(m->args.junit, "w");
    ok = f != NULL && fputs(xml, f) >= 0;
    if (f != NULL && fclose(f) != 0)
        ok = 0;
    if (!ok)
        matrix_error("cannot write the JUnit report %s: %s", m->args.junit, strerror(errno));
    free(xml);
    return ok ? 0 : -1;
}

static const char *matrix_outcome_name(const matrix_target *t) {
    return t->outcome == MATRIX_PASSED   ? "passed"
           : t->outcome == MATRIX_FAILED ? "failed"
                                         : "interrupted";
}

static void matrix_summary(matrix_run *m) {
    size_t width = 4, passed = 0;

    for (size_t i = 0; i < m->n; i++)
        if (strlen(m->t[i].dist) > width)
            width = strlen(m->t[i].dist);
    fprintf(stderr, "\nhdc: matrix summary (%s):\n", m->command);
    for (size_t i = 0; i < m->n; i++) {
        const matrix_target *t = &m->t[i];
        const char *msg = t->message != NULL ? t->message : "";
        const char *nl = strchr(msg, '\n');
        /* Messages of the cluster's own start with its name. */
        int named = strncmp(msg, t->name, strlen(t->name)) == 0;
        passed += t->outcome == MATRIX_PASSED;
        fprintf(stderr, "  %-*s %-11s %7.1f s  %s%s%.*s\n", (int)width, t->dist,
                matrix_outcome_name(t), matrix_seconds(t->start_ms, t->end_ms),
                named ? "" : t->name, msg[0] != '\0' && !named ? ": " : "",
                nl != NULL ? (int)(nl - msg) : (int)strlen(msg), msg);
    }
    fprintf(stderr, "  %zu of %zu passed\n", passed, m->n);
    if (m->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < m->n; i++) {
            const matrix_target *t = &m->t[i];
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:f, s:s, s:b}",
                                                 "dist", t->dist, "cluster", t->name, "result",
                                                 matrix_outcome_name(t), "type", t->failure_type,
                                                 "message", t->message, "time_s",
                                                 matrix_seconds(t->start_ms, t->end_ms), "logs",
                                                 t->logs_dir, "kept", t->kept));
        }
        json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
        fputc('\n', stdout);
        json_decref(arr);
    }
}

/* Kept clusters go on writing their nodes' logs after we return, as after
 * `hdc up`: a detached `hdc logs NAME -f --write-to DIR`. */
static void matrix_spawn_log_writer(matrix_target *t) {
    char self[2048];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    char *args[] = {self, "logs", t->name, "-f", "--write-to", t->logs_dir, NULL};
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE}, {.flags = UV_IGNORE}, {.flags = UV_IGNORE}};
    uv_process_options_t po = {
        .file = self,
        .args = args,
        .flags = UV_PROCESS_DETACHED,
        .stdio = stdio,
        .stdio_count = 3,
    };

    if (n <= 0)
        return;
    self[n] = '\0';
    t->writer.data = t;
    if (uv_spawn(&t->m->loop, &t->writer, &po) != 0)
        matrix_error("[%s] cannot start the log writer of %s", t->dist, t->name);
    uv_close((uv_handle_t *)&t->writer, NULL);
}

/* ---- the command's entry ------------------------------------------------------------- */

static void matrix_list_known(const char *path_flag) {
    plugin_path pp;
    char names[2048];

    if (plugin_path_init(&pp, path_flag, getenv("HDC_PLUGIN_PATH")) != 0)
        return;
    plugin_known_names(&pp, names, sizeof(names));
    fprintf(stderr, "     known distributions: %s\n",
            names[0] != '\0' ? names : "none (build them: cmake --build build)");
    plugin_path_free(&pp);
}

static void matrix_join_command(matrix_run *m) {
    size_t used = 0;

    m->command[0] = '\0';
    for (size_t i = 0; i < m->args.n_cmd && used < sizeof(m->command) - 1; i++) {
        const char *a = m->args.cmd[i];
        int quote = a[0] == '\0' || strpbrk(a, " \t\n'\"\\$&|;<>()*?") != NULL;
        used += (size_t)snprintf(m->command + used, sizeof(m->command) - used, "%s%s%s%s",
                                 i > 0 ? " " : "", quote ? "'" : "", a, quote ? "'" : "");
    }
    if (used >= sizeof(m->command) - 1)
        snprintf(m->command + sizeof(m->command) - 5, 5, "...");
}

/* Loads every plugin and names every cluster: 0, or CLI usage (2). */
static int matrix_prepare(matrix_run *m, const char *path_flag) {
    char err[1024];
    long pid = (long)getpid();

    if (plugin_path_init(&m->pp, path_flag, getenv("HDC_PLUGIN_PATH")) != 0) {
        matrix_error("cannot read the plugin path");
        return 2;
    }
    for (size_t i = 0; i < m->args.n_dists; i++) {
        matrix_target *t = &m->t[i];
        t->m = m;
        t->dist = m->args.dists[i];
        if (plugin_find(&m->pp, t->dist, &t->plug, err, sizeof(err)) != 0) {
            fprintf(stderr, "hdc: %s\n", err);
            matrix_list_known(path_flag);
            return 2;
        }
        if (matrix_cluster_name(t->dist, pid, t->name, sizeof(t->name), err, sizeof(err)) != 0) {
            matrix_error("%s", err);
            return 2;
        }
        for (size_t k = 0; k < i; k++)
            if (strcmp(m->t[k].name, t->name) == 0) {
                matrix_error("'%s' and '%s' would both be cluster %s: run them in two "
                             "matrices",
                             m->t[k].dist, t->dist, t->name);
                return 2;
            }
        snprintf(t->logs_dir, sizeof(t->logs_dir), "%s/%s", m->logs_root, t->name);
        snprintf(t->log_path, sizeof(t->log_path), "%s/matrix.log", t->logs_dir);
        if (matrix_tail_init(&t->out, MATRIX_OUTPUT_CAP) != 0) {
            matrix_error("out of memory");
            return 2;
        }
        m->n++;
    }
    return 0;
}

static int matrix_junit_dir_ok(const char *file) {
    char dir[4096];
    char *slash;

    snprintf(dir, sizeof(dir), "%s", file);
    slash = strrchr(dir, '/');
    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    return access(dir, W_OK) == 0;
}

static int matrix_all_done(const matrix_run *m) {
    for (size_t i = 0; i < m->n; i++)
        if (m->t[i].phase != MATRIX_DONE)
            return 0;
    return 1;
}

static void matrix_close_walk(uv_handle_t *h, void *arg) {
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* The loop, the Docker client and the signals. 0, or 2 (bad DOCKER_HOST). */
static int matrix_loop_open(matrix_run *m) {
    uv_loop_init(&m->loop);
    if (docker_new(&m->loop, NULL, &m->d) != 0) {
        matrix_error("DOCKER_HOST '%s' is not unix:// or tcp://: fix it or unset it",
                     getenv("DOCKER_HOST") != NULL ? getenv("DOCKER_HOST") : "");
        uv_loop_close(&m->loop);
        return 2;
    }
    uv_signal_init(&m->loop, &m->sigint);
    m->sigint.data = m;
    uv_signal_start(&m->sigint, matrix_on_sigint, SIGINT);
    uv_signal_init(&m->loop, &m->sigterm);
    m->sigterm.data = m;
    uv_signal_start(&m->sigterm, matrix_on_sigint, SIGTERM);
    return 0;
}

/* After every DIST is done: the report, the summary, the exit status. */
static int matrix_end(matrix_run *m) {
    int status = m->interrupted || m->teardown_failed;

    for (size_t i = 0; i < m->n; i++)
        if (m->t[i].outcome != MATRIX_PASSED)
            status = 1;
    if (m->args.junit != NULL && matrix_write_junit(m) != 0)
        status = 1;
    else if (m->args.junit != NULL)
        fprintf(stderr, "hdc: matrix: JUnit report in %s\n", m->args.junit);
    matrix_summary(m);
    for (size_t i = 0; i < m->n; i++)
        if (m->t[i].kept)
            matrix_spawn_log_writer(&m->t[i]);

    docker_close(m->d, NULL, NULL);
    uv_close((uv_handle_t *)&m->sigint, NULL);
    uv_close((uv_handle_t *)&m->sigterm, NULL);
    uv_run(&m->loop, UV_RUN_DEFAULT);
    uv_walk(&m->loop, matrix_close_walk, NULL);
    uv_run(&m->loop, UV_RUN_DEFAULT);
    uv_loop_close(&m->loop);
    return status;
}

int matrix_main(const char *path_flag, int json, int argc, char **argv) {
    matrix_run *m = calloc(1, sizeof(*m));
    const char *env;
    char err[1024];
    int status = 2;

    if (m == NULL) {
        matrix_error("out of memory");
        return 1;
    }
    m->json = json;
    env = getenv("HDC_LOGS_DIR");
    m->logs_root = env != NULL && *env != '\0' ? env : "logs";
    env = getenv("HDC_STATE_DIR");
    m->key_dir = env != NULL && *env != '\0' ? env : ".hdc";
    if (matrix_parse_args(argc, argv, &m->args, err, sizeof(err)) != 0) {
        matrix_error("%s", err);
        goto exit;
    }
    m->test_user = m->args.test_user != NULL         ? m->args.test_user
                   : getenv("HDC_TEST_USER") != NULL ? getenv("HDC_TEST_USER")
                                                     : "hdc";
    if (m->args.junit != NULL && !matrix_junit_dir_ok(m->args.junit)) {
        matrix_error("--junit %s: its directory is not there or not writable", m->args.junit);
        goto exit;
    }
    matrix_join_command(m);
    if (matrix_prepare(m, path_flag) != 0 || matrix_loop_open(m) != 0)
        goto exit;

    m->started = time(NULL);
    m->start_ms = uv_now(&m->loop);
    matrix_pump(m);
    while (!matrix_all_done(m))
        uv_run(&m->loop, UV_RUN_ONCE);
    status = matrix_end(m);

exit:
    for (size_t i = 0; i < MATRIX_MAX_DISTS; i++) {
        if (m->t[i].plug != NULL)
            plugin_unload(m->t[i].plug);
        matrix_tail_free(&m->t[i].out);
        free(m->t[i].message);
    }
    plugin_path_free(&m->pp);
    free(m);
    return status;
}
