/* The pure parts of `hdc matrix` (engine/cmd/matrix.c runs it): the names
 * of its clusters, the tail of each command's output, XML escaping and the
 * JUnit XML report, so that tests/unit/test_matrix.c checks them without
 * Docker.
 */
#define _GNU_SOURCE /* vasprintf */
#include "matrix.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "plan.h"
#include "util.h"

/* ---- names ------------------------------------------------------------------ */

int matrix_cluster_name(const char *dist, long pid, char *out, size_t len, char *err,
                        size_t err_len) {
    char base[PLAN_MAX_NAME + 1], suffix[32], msg[256];
    size_t keep;

    if (plan_default_name(dist, base, sizeof(base)) != 0)
        return util_fail(err, err_len, -1, "'%s' gives no valid cluster name", dist);
    snprintf(suffix, sizeof(suffix), "-m%ld", pid);
    if (strlen(suffix) >= PLAN_MAX_NAME)
        return util_fail(err, err_len, -1, "pid %ld is too long for a cluster name", pid);
    keep = PLAN_MAX_NAME - strlen(suffix);
    if (strlen(base) < keep)
        keep = strlen(base);
    while (keep > 0 && base[keep - 1] == '-')
        keep--;
    if (keep == 0)
        return util_fail(err, err_len, -1, "'%s' gives no valid cluster name", dist);
    if ((size_t)snprintf(out, len, "%.*s%s", (int)keep, base, suffix) >= len)
        return util_fail(err, err_len, -1, "no room for the name of '%s'", dist);
    if (plan_name_check(out, msg, sizeof(msg)) != 0)
        return util_fail(err, err_len, -1, "%s", msg);
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

static void buf_add(matrix_buf *b, const char *s, size_t n) {
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

static void buf_str(matrix_buf *b, const char *s) {
    buf_add(b, s, strlen(s));
}

static void buf_printf(matrix_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void buf_printf(matrix_buf *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0)
        buf_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* The length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, at most U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s, size_t avail, uint32_t *cp) {
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

static void xml_add(matrix_buf *b, const char *s, size_t len, int attr) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        uint32_t cp;
        size_t n = utf8_len(u + i, len - i, &cp);
        const char *rep = NULL;

        if (n == 0) {
            buf_str(b, "\xEF\xBF\xBD"); /* U+FFFD for a byte that is not UTF-8 */
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
            buf_str(b, rep);
        else
            buf_add(b, s + i, n);
        i += n;
    }
}

char *matrix_xml_escape(const char *s, size_t len, int attr) {
    matrix_buf b = {0};

    buf_add(&b, "", 0);
    xml_add(&b, s, len, attr);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

static void xml_attr(matrix_buf *b, const char *name, const char *value) {
    buf_printf(b, " %s=\"", name);
    xml_add(b, value, strlen(value), 1);
    buf_str(b, "\"");
}

/* A failure's message attribute: its first line. */
static void xml_first_line(matrix_buf *b, const char *msg) {
    const char *nl = strchr(msg, '\n');

    buf_str(b, " message=\"");
    xml_add(b, msg, nl != NULL ? (size_t)(nl - msg) : strlen(msg), 1);
    buf_str(b, "\"");
}

static void junit_case(matrix_buf *b, const matrix_result *r) {
    buf_str(b, "    <testcase classname=\"hdc.matrix\"");
    xml_attr(b, "name", r->dist);
    if (r->stand_in)
        buf_str(b, " status=\"stand-in\"");
    buf_printf(b, " time=\"%.3f\">\n", r->time_s > 0 ? r->time_s : 0.0);
    if (r->outcome != MATRIX_PASSED) {
        const char *el = r->outcome == MATRIX_ERROR ? "error" : "failure";
        const char *msg = r->message != NULL ? r->message : "failed";
        buf_printf(b, "      <%s", el);
        xml_first_line(b, msg);
        xml_attr(b, "type", r->failure_type != NULL ? r->failure_type : "failure");
        buf_str(b, ">");
        if (r->cluster != NULL && strncmp(msg, r->cluster, strlen(r->cluster)) != 0) {
            buf_str(b, "cluster ");
            xml_add(b, r->cluster, strlen(r->cluster), 0);
            buf_str(b, ": ");
        }
        xml_add(b, msg, strlen(msg), 0);
        buf_printf(b, "</%s>\n", el);
    }
    if (r->output != NULL) {
        const char *out = r->output;
        size_t len = r->output_len;
        buf_str(b, "      <system-out>");
        if (r->output_cut > 0) {
            /* Start at a character, not inside one. */
            for (int k = 0; k < 3 && len > 0 && ((unsigned char)out[0] & 0xC0) == 0x80; k++)
                out++, len--;
            buf_printf(b, "[hdc: the first %zu bytes are cut", r->output_cut);
            if (r->log_path != NULL) {
                buf_str(b, "; ");
                xml_add(b, r->log_path, strlen(r->log_path), 0);
                buf_str(b, " has them all");
            }
            buf_str(b, "]\n");
        }
        xml_add(b, out, len, 0);
        buf_str(b, "</system-out>\n");
    }
    buf_str(b, "    </testcase>\n");
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

    buf_str(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    buf_printf(&b, "<testsuites name=\"hdc matrix\"%s time=\"%.3f\">\n", counts, suite->time_s);
    buf_printf(&b,
               "  <testsuite name=\"hdc matrix\"%s skipped=\"0\" time=\"%.3f\" "
               "timestamp=\"%s\"",
               counts, suite->time_s, stamp);
    if (suite->hostname != NULL && suite->hostname[0] != '\0')
        xml_attr(&b, "hostname", suite->hostname);
    buf_str(&b, ">\n");
    {
        size_t stand_ins = 0;
        for (size_t i = 0; i < n; i++)
            stand_ins += results[i].stand_in != 0;
        if (suite->command != NULL || stand_ins > 0)
            buf_str(&b, "    <properties>\n");
        if (suite->command != NULL) {
            buf_str(&b, "      <property name=\"command\"");
            xml_attr(&b, "value", suite->command);
            buf_str(&b, "/>\n");
        }
        if (stand_ins > 0) {
            /* The DISTs whose images were the stand-in's: not Hadoop. */
            buf_str(&b, "      <property name=\"stand-in\" value=\"");
            for (size_t i = 0, k = 0; i < n; i++)
                if (results[i].stand_in) {
                    buf_str(&b, k++ > 0 ? " " : "");
                    xml_add(&b, results[i].dist, strlen(results[i].dist), 1);
                }
            buf_str(&b, "\"/>\n");
        }
        if (suite->command != NULL || stand_ins > 0)
            buf_str(&b, "    </properties>\n");
    }
    for (size_t i = 0; i < n; i++)
        junit_case(&b, &results[i]);
    buf_str(&b, "  </testsuite>\n</testsuites>\n");
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/* ---- the command line and the summary ----------------------------------------- */

char *matrix_command_line(char *const *cmd, size_t n) {
    char line[1024];
    size_t used = 0;

    line[0] = '\0';
    for (size_t i = 0; i < n && used < sizeof(line) - 1; i++) {
        const char *a = cmd[i];
        int quote = a[0] == '\0' || strpbrk(a, " \t\n'\"\\$&|;<>()*?") != NULL;
        used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s%s%s", i > 0 ? " " : "",
                                 quote ? "'" : "", a, quote ? "'" : "");
    }
    if (used >= sizeof(line) - 1)
        snprintf(line + sizeof(line) - 5, 5, "...");
    return strdup(line);
}

const char *matrix_outcome_name(enum matrix_outcome o) {
    return o == MATRIX_PASSED ? "passed" : o == MATRIX_FAILED ? "failed" : "interrupted";
}

void matrix_summary(FILE *f, const matrix_result *results, size_t n, const char *command) {
    size_t width = 4, passed = 0;

    for (size_t i = 0; i < n; i++)
        if (strlen(results[i].dist) > width)
            width = strlen(results[i].dist);
    fprintf(f, "\nhdc: matrix summary (%s):\n", command);
    for (size_t i = 0; i < n; i++) {
        const matrix_result *r = &results[i];
        const char *msg = r->message != NULL ? r->message : "";
        const char *nl = strchr(msg, '\n');
        /* Messages of the cluster's own start with its name. */
        int named = strncmp(msg, r->cluster, strlen(r->cluster)) == 0;
        passed += r->outcome == MATRIX_PASSED;
        fprintf(f, "  %-*s %-11s %7.1f s  %s%s%.*s\n", (int)width, r->dist,
                matrix_outcome_name(r->outcome), r->time_s, named ? "" : r->cluster,
                msg[0] != '\0' && !named ? ": " : "",
                nl != NULL ? (int)(nl - msg) : (int)strlen(msg), msg);
    }
    fprintf(f, "  %zu of %zu passed\n", passed, n);
}

json_t *matrix_results_json(const matrix_result *results, size_t n) {
    json_t *arr = json_array();

    for (size_t i = 0; arr != NULL && i < n; i++) {
        const matrix_result *r = &results[i];
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:f, s:s?, s:b}", "dist",
                                             r->dist, "cluster", r->cluster, "result",
                                             matrix_outcome_name(r->outcome), "type",
                                             r->failure_type, "message", r->message, "time_s",
                                             r->time_s, "logs", r->logs_dir, "kept", r->kept));
    }
    return arr;
}
