/* The pure parts of `hdc matrix` (engine/cmd/matrix.c): its clusters'
 * names, the tail of a command's output, XML escaping and the JUnit report,
 * which tests/unit/test_matrix.c checks without Docker.
 */
#ifndef HDC_MATRIX_H
#define HDC_MATRIX_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#define MATRIX_OUTPUT_CAP 65536 /* of each command's output, kept for the report */

/* ---- pure parts ------------------------------------------------------------ */

/* The cluster of dist in the matrix run of process pid: its default name
 * (plan_default_name) shortened as needed, then "-m<pid>"; a valid name
 * of at most PLAN_MAX_NAME characters. 0, or -1 with the reason in err. */
int matrix_cluster_name(const char *dist, long pid, char *out, size_t len, char *err,
                        size_t err_len);

/* Keeps the last `cap` bytes appended; `cut` counts the bytes dropped. */
typedef struct matrix_tail {
    char *buf;
    size_t len, cap, cut;
} matrix_tail;

int matrix_tail_init(matrix_tail *t, size_t cap);
void matrix_tail_append(matrix_tail *t, const char *buf, size_t len);
void matrix_tail_free(matrix_tail *t);

/* s[0..len) as XML character data (attr 0) or an attribute value (attr 1):
 * & < > " ' escaped; tab, newline and carriage return kept (as character
 * references in attributes, so they survive normalization); other control
 * characters dropped; invalid UTF-8, U+FFFE and U+FFFF replaced by U+FFFD.
 * malloc'd, NUL-terminated; NULL on ENOMEM. */
char *matrix_xml_escape(const char *s, size_t len, int attr);

enum matrix_outcome {
    MATRIX_PASSED,
    MATRIX_FAILED, /* <failure>: the cluster, its client or the command */
    MATRIX_ERROR,  /* <error>: interrupted before it was decided */
};

/* One DIST's testcase. */
typedef struct matrix_result {
    const char *dist; /* the testcase's name */
    const char *cluster;
    enum matrix_outcome outcome;
    const char *failure_type; /* "bootstrap", "client", "command", "interrupted" */
    const char *message;      /* the whole message; the attribute gets its first line */
    const char *output;       /* the command's output (its tail), or NULL */
    size_t output_len;
    size_t output_cut;    /* bytes dropped before output */
    const char *log_path; /* where the whole output is, or NULL */
    const char *logs_dir; /* the cluster's logs */
    int kept;             /* the cluster was kept (--keep, --keep-failed) */
    double time_s;
    int stand_in; /* its images were hdc's test stand-in's, not Hadoop */
} matrix_result;

typedef struct matrix_suite {
    time_t started;
    double time_s;
    const char *hostname; /* or NULL */
    const char *command;  /* a property of the suite, or NULL */
} matrix_suite;

/* The JUnit XML report (the Ant/Jenkins junit-10 shape: <testsuites>, one
 * <testsuite name="hdc matrix">, a <testcase classname="hdc.matrix"> per
 * result; a result that ran the stand-in gets status="stand-in" and is
 * named in the suite's property "stand-in"). malloc'd; NULL on ENOMEM. */
char *matrix_junit_xml(const matrix_result *results, size_t n, const matrix_suite *suite);

/* CMD as one line for messages, each argument quoted that needs it, cut
 * with "..." past 1023 bytes. malloc'd; NULL on ENOMEM. */
char *matrix_command_line(char *const *cmd, size_t n);

/* "passed", "failed", "interrupted". */
const char *matrix_outcome_name(enum matrix_outcome o);

/* The summary a person reads at the end of a run: a line per DIST (its
 * outcome, time, and the first line of its message), then the count. */
void matrix_summary(FILE *f, const matrix_result *results, size_t n, const char *command);

/* The results as JSON (`hdc --json matrix`): a new reference, or NULL. */
json_t *matrix_results_json(const matrix_result *results, size_t n);

#endif
