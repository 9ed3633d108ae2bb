/* hdc matrix's pure parts (engine/matrix.c): its cluster names, the output's
 * tail, XML escaping and the JUnit report (parsed back with a small
 * checker of well-formedness and the junit-10 shape). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "matrix.h"
#include "plan.h"

/* ---- names ----------------------------------------------------------------------- */

static void names_are_the_default_name_and_the_pid(void **state) {
    char name[PLAN_MAX_NAME + 1], err[256];

    assert_int_equal(
        matrix_cluster_name("apache_2.6.0", 4242, name, sizeof(name), err, sizeof(err)), 0);
    assert_string_equal(name, "apache260-m4242");
    assert_int_equal(matrix_cluster_name("testdist_crash", 7, name, sizeof(name), err, sizeof(err)),
                     0);
    assert_string_equal(name, "testdistcrash-m7");
}

static void long_names_are_shortened_to_a_valid_name(void **state) {
    char name[PLAN_MAX_NAME + 1], err[256];
    const char *dist = "averyveryverylongdistname_1.2.3"; /* averyveryverylongdistname123 */

    assert_int_equal(matrix_cluster_name(dist, 4194304, name, sizeof(name), err, sizeof(err)), 0);
    assert_true(strlen(name) <= PLAN_MAX_NAME);
    assert_non_null(strstr(name, "-m4194304"));
    assert_int_equal(plan_name_check(name, err, sizeof(err)), 0);
    assert_string_equal(name, "averyveryverylongdistna-m4194304");
    /* A distribution without a valid default name has no matrix name. */
    assert_int_equal(matrix_cluster_name("a_distribution_whose_name_is_much_too_long", 1, name,
                                         sizeof(name), err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "no valid cluster name"));
}

/* ---- the tail ---------------------------------------------------------------------- */

static void the_tail_keeps_the_last_bytes_and_counts_the_rest(void **state) {
    matrix_tail t;

    assert_int_equal(matrix_tail_init(&t, 8), 0);
    matrix_tail_append(&t, "abc", 3);
    matrix_tail_append(&t, "defg", 4);
    assert_int_equal(t.len, 7);
    assert_int_equal(t.cut, 0);
    matrix_tail_append(&t, "hij", 3);
    assert_int_equal(t.len, 8);
    assert_int_equal(t.cut, 2);
    assert_memory_equal(t.buf, "cdefghij", 8);
    matrix_tail_append(&t, "0123456789AB", 12);
    assert_int_equal(t.len, 8);
    assert_int_equal(t.cut, 2 + 8 + 4);
    assert_memory_equal(t.buf, "456789AB", 8);
    matrix_tail_free(&t);
}

/* ---- XML escaping -------------------------------------------------------------------- */

static void escape_checks(const char *in, size_t len, int attr, const char *want) {
    char *got = matrix_xml_escape(in, len, attr);

    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void markup_characters_are_escaped(void **state) {
    const char *s = "a<b>&c\"d'e";

    escape_checks(s, strlen(s), 0, "a&lt;b&gt;&amp;c\"d'e");
    escape_checks(s, strlen(s), 1, "a&lt;b&gt;&amp;c&quot;d&apos;e");
    escape_checks("]]>", 3, 0, "]]&gt;");
    escape_checks("&amp;", 5, 0, "&amp;amp;");
}

static void whitespace_survives_and_controls_are_dropped(void **state) {
    const char s[] = "t\tn\nr\rz\0x\x01\x1b[31my\x7f";

    escape_checks(s, sizeof(s) - 1, 0, "t\tn\nr&#13;zx[31my");
    escape_checks(s, sizeof(s) - 1, 1, "t&#9;n&#10;r&#13;zx[31my");
}

static void invalid_utf8_becomes_the_replacement_character(void **state) {
    /* A lone continuation byte, a truncated sequence, an overlong '/', a
     * surrogate, and beyond U+10FFFF; valid é and 😀 stay. */
    const char s[] = "\xc3\xa9|\x80|\xe2\x82|\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|"
                     "\xf0\x9f\x98\x80|\xef\xbf\xbe";
    char *got = matrix_xml_escape(s, sizeof(s) - 1, 0);

    assert_non_null(got);
    assert_string_equal(got, "\xc3\xa9|\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|"
                             "\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
                             "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
                             "\xf0\x9f\x98\x80|\xef\xbf\xbd");
    free(got);
}

/* ---- the report -------------------------------------------------------------------- */

/* A small XML checker: well-formed elements (names match, attributes
 * quoted, only the five entities and numeric references), no character
 * below 0x20 but tab, newline and carriage return. It records the elements
 * seen, in order, as "/"-joined paths. */
typedef struct xml_check {
    const char *p;
    char paths[256][128];
    size_t n_paths;
    char stack[16][32];
    size_t depth;
} xml_check;

static void xml_text(xml_check *x, char stop) {
    while (*x->p != '\0' && *x->p != stop) {
        unsigned char c = (unsigned char)*x->p;
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            fail_msg("control character 0x%02x in the XML", c);
        if (c == '<' && stop != '<')
            fail_msg("a raw '<' in an attribute");
        if (c == '&') {
            const char *end = strchr(x->p, ';');
            assert_non_null(end);
            if (strncmp(x->p, "&amp;", 5) != 0 && strncmp(x->p, "&lt;", 4) != 0 &&
                strncmp(x->p, "&gt;", 4) != 0 && strncmp(x->p, "&quot;", 6) != 0 &&
                strncmp(x->p, "&apos;", 6) != 0 && strncmp(x->p, "&#", 2) != 0)
                fail_msg("unknown entity at '%.10s'", x->p);
            x->p = end + 1;
            continue;
        }
        x->p++;
    }
}

static void xml_element(xml_check *x) {
    char name[32], path[128] = "";
    size_t n = 0;

    assert_int_equal(*x->p, '<');
    x->p++;
    while (*x->p != '\0' && strchr(" />\n", *x->p) == NULL && n < sizeof(name) - 1)
        name[n++] = *x->p++;
    name[n] = '\0';
    assert_true(n > 0);
    for (size_t i = 0; i < x->depth; i++) {
        strcat(path, x->stack[i]);
        strcat(path, "/");
    }
    strcat(path, name);
    assert_true(x->n_paths < 256);
    snprintf(x->paths[x->n_paths++], sizeof(x->paths[0]), "%s", path);
    for (;;) {
        while (*x->p == ' ' || *x->p == '\n')
            x->p++;
        if (*x->p == '/') {
            assert_int_equal(x->p[1], '>');
            x->p += 2;
            return;
        }
        if (*x->p == '>') {
            x->p++;
            break;
        }
        while (*x->p != '\0' && *x->p != '=')
            x->p++;
        assert_int_equal(x->p[0], '=');
        assert_int_equal(x->p[1], '"');
        x->p += 2;
        xml_text(x, '"');
        assert_int_equal(*x->p, '"');
        x->p++;
    }
    snprintf(x->stack[x->depth++], sizeof(x->stack[0]), "%s", name);
    for (;;) {
        xml_text(x, '<');
        assert_int_equal(*x->p, '<');
        if (x->p[1] == '/') {
            size_t len = strlen(name);
            assert_int_equal(strncmp(x->p + 2, name, len), 0);
            assert_int_equal(x->p[2 + len], '>');
            x->p += 3 + len;
            x->depth--;
            return;
        }
        xml_element(x);
    }
}

static void xml_parse(xml_check *x, const char *doc) {
    const char *decl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

    memset(x, 0, sizeof(*x));
    assert_int_equal(strncmp(doc, decl, strlen(decl)), 0);
    x->p = doc + strlen(decl);
    xml_element(x);
    while (*x->p == '\n')
        x->p++;
    assert_int_equal(*x->p, '\0');
}

static const char nasty[] = "ok <tag> & \"quotes\" 'apos' ]]> \x1b[31mred\x1b[0m \x01\x02"
                            "\xff\xfe bad utf-8 \xc3\xa9\n\r\n</system-out><x>";

static void the_report_has_the_junit_shape(void **state) {
    matrix_result r[3] = {
        {.dist = "apache_3.3.6",
         .cluster = "apache336-m1",
         .outcome = MATRIX_PASSED,
         .output = nasty,
         .output_len = sizeof(nasty) - 1,
         .time_s = 61.25},
        {.dist = "apache_2.6.0",
         .cluster = "apache260-m1",
         .outcome = MATRIX_FAILED,
         .failure_type = "bootstrap",
         .message = "apache260-m1: step 'boot-nn': service namenode failed\nlast lines <&>"},
        {.dist = "testdist",
         .cluster = "testdist-m1",
         .outcome = MATRIX_ERROR,
         .failure_type = "interrupted",
         .message = "interrupted"},
    };
    matrix_suite suite = {.started = 1764064800,
                          .time_s = 62.5,
                          .hostname = "ci\"host",
                          .command = "sh -c 'test -r x && echo <ok>'"};
    static const char *want[] = {
        "testsuites",
        "testsuites/testsuite",
        "testsuites/testsuite/properties",
        "testsuites/testsuite/properties/property",
        "testsuites/testsuite/testcase",
        "testsuites/testsuite/testcase/system-out",
        "testsuites/testsuite/testcase",
        "testsuites/testsuite/testcase/failure",
        "testsuites/testsuite/testcase",
        "testsuites/testsuite/testcase/error",
    };
    char *xml = matrix_junit_xml(r, 3, &suite);
    xml_check *x = calloc(1, sizeof(*x));

    assert_non_null(xml);
    xml_parse(x, xml);
    assert_int_equal(x->n_paths, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < x->n_paths; i++)
        assert_string_equal(x->paths[i], want[i]);
    assert_non_null(strstr(xml, "<testsuites name=\"hdc matrix\" tests=\"3\" failures=\"1\" "
                                "errors=\"1\" time=\"62.500\">"));
    assert_non_null(strstr(xml, "<testsuite name=\"hdc matrix\" tests=\"3\" failures=\"1\" "
                                "errors=\"1\" skipped=\"0\" time=\"62.500\" "
                                "timestamp=\"2025-11-25T10:00:00\" hostname=\"ci&quot;host\">"));
    assert_non_null(strstr(xml, "<testcase classname=\"hdc.matrix\" name=\"apache_3.3.6\" "
                                "time=\"61.250\">"));
    /* The message attribute is the first line; the body has it all. */
    assert_non_null(strstr(xml, "<failure message=\"apache260-m1: step &apos;boot-nn&apos;: "
                                "service namenode failed\" type=\"bootstrap\">"));
    assert_non_null(strstr(xml, "last lines &lt;&amp;&gt;</failure>"));
    assert_non_null(strstr(xml, "<error message=\"interrupted\" type=\"interrupted\">"));
    /* The nasty output cannot close its element or add one. */
    assert_non_null(strstr(xml, "&lt;/system-out&gt;&lt;x&gt;</system-out>"));
    assert_non_null(strstr(xml, "]]&gt;"));
    assert_null(strstr(xml, "\x1b"));
    assert_non_null(strstr(xml, "\xc3\xa9"));
    free(x);
    free(xml);
}

static void a_cut_output_says_so_and_starts_at_a_character(void **state) {
    /* The tail starts inside a 3-byte character (its last two bytes). */
    const char out[] = "\x82\xac rest of the output\n";
    matrix_result r = {.dist = "d",
                       .cluster = "d-m1",
                       .outcome = MATRIX_PASSED,
                       .output = out,
                       .output_len = sizeof(out) - 1,
                       .output_cut = 70000,
                       .log_path = "logs/d-m1/matrix.log"};
    matrix_suite suite = {.started = 0};
    char *xml = matrix_junit_xml(&r, 1, &suite);

    assert_non_null(xml);
    assert_non_null(strstr(xml, "<system-out>[hdc: the first 70000 bytes are cut; "
                                "logs/d-m1/matrix.log has them all]\n rest of the output\n"
                                "</system-out>"));
    free(xml);
}

static void a_stand_in_run_says_so(void **state) {
    matrix_result r[2] = {
        {.dist = "apache_2.6.0", .cluster = "a-m1", .outcome = MATRIX_PASSED, .stand_in = 1},
        {.dist = "testdist", .cluster = "t-m1", .outcome = MATRIX_PASSED},
    };
    matrix_suite suite = {.started = 0};
    static const char *want[] = {
        "testsuites",
        "testsuites/testsuite",
        "testsuites/testsuite/properties",
        "testsuites/testsuite/properties/property",
        "testsuites/testsuite/testcase",
        "testsuites/testsuite/testcase",
    };
    char *xml = matrix_junit_xml(r, 2, &suite);
    xml_check *x = calloc(1, sizeof(*x));

    assert_non_null(xml);
    xml_parse(x, xml);
    assert_int_equal(x->n_paths, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < x->n_paths; i++)
        assert_string_equal(x->paths[i], want[i]);
    assert_non_null(strstr(xml, "<property name=\"stand-in\" value=\"apache_2.6.0\"/>"));
    assert_non_null(strstr(xml, "name=\"apache_2.6.0\" status=\"stand-in\" time="));
    assert_non_null(strstr(xml, "name=\"testdist\" time="));
    free(x);
    free(xml);
}

static void an_empty_matrix_is_still_a_report(void **state) {
    matrix_suite suite = {.started = 0};
    char *xml = matrix_junit_xml(NULL, 0, &suite);
    xml_check *x = calloc(1, sizeof(*x));

    assert_non_null(xml);
    xml_parse(x, xml);
    assert_int_equal(x->n_paths, 2);
    assert_non_null(strstr(xml, "tests=\"0\" failures=\"0\" errors=\"0\""));
    free(x);
    free(xml);
}

static void the_command_line_quotes_what_needs_it(void **state) {
    char *cmd[] = {"pytest", "-k", "a and b", "", "x'y"};
    char *line = matrix_command_line(cmd, 5);
    char *many[400];
    char *cut;

    assert_string_equal(line, "pytest -k 'a and b' '' 'x'y'");
    free(line);
    for (int i = 0; i < 400; i++)
        many[i] = "argument";
    cut = matrix_command_line(many, 400);
    assert_int_equal(strlen(cut), 1022);
    assert_string_equal(cut + 1019, "...");
    free(cut);
}

static void the_summary_has_a_line_per_dist_and_the_count(void **state) {
    matrix_result r[] = {
        {.dist = "apache_2.6.0", .cluster = "apache260-m1", .outcome = MATRIX_PASSED, .time_s = 1},
        {.dist = "apache_3.3.6",
         .cluster = "apache336-m1",
         .outcome = MATRIX_FAILED,
         .message = "apache336-m1: datanode1 exited\nlast lines",
         .time_s = 2.5},
        {.dist = "b", .cluster = "b-m1", .outcome = MATRIX_ERROR, .message = "interrupted"},
    };
    char buf[2048] = "";
    FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");
    json_t *js;

    matrix_summary(f, r, 3, "true");
    fclose(f);
    assert_non_null(strstr(buf, "hdc: matrix summary (true):"));
    assert_non_null(strstr(buf, "apache_2.6.0 passed"));
    /* the cluster's own message is not prefixed again; others are */
    assert_non_null(strstr(buf, "apache_3.3.6 failed"));
    assert_non_null(strstr(buf, "2.5 s  apache336-m1: datanode1 exited\n"));
    assert_non_null(strstr(buf, "b-m1: interrupted"));
    assert_null(strstr(buf, "last lines"));
    assert_non_null(strstr(buf, "  1 of 3 passed\n"));
    js = matrix_results_json(r, 3);
    assert_int_equal(json_array_size(js), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(js, 2), "result")),
                        "interrupted");
    json_decref(js);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_command_line_quotes_what_needs_it),
        cmocka_unit_test(the_summary_has_a_line_per_dist_and_the_count),
        cmocka_unit_test(names_are_the_default_name_and_the_pid),
        cmocka_unit_test(long_names_are_shortened_to_a_valid_name),
        cmocka_unit_test(the_tail_keeps_the_last_bytes_and_counts_the_rest),
        cmocka_unit_test(markup_characters_are_escaped),
        cmocka_unit_test(whitespace_survives_and_controls_are_dropped),
        cmocka_unit_test(invalid_utf8_becomes_the_replacement_character),
        cmocka_unit_test(the_report_has_the_junit_shape),
        cmocka_unit_test(a_stand_in_run_says_so),
        cmocka_unit_test(a_cut_output_says_so_and_starts_at_a_character),
        cmocka_unit_test(an_empty_matrix_is_still_a_report),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
