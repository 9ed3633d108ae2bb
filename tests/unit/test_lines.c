/* The JSON-lines splitter: "\n" and "\r\n" endings, empty lines, a lone
 * "\r" kept, the same lines however the input is cut (every split point,
 * one byte at a time, random chunks from a fixed seed), the last
 * unterminated line at finish, and the length limit (an error, even when
 * the newline never comes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lines.h"

typedef struct seen {
    char text[8192]; /* lines joined as "[line]" */
    size_t len;
    size_t calls;
    int stop_after;
} seen;

static int on_line(void *data, char *line, size_t len) {
    seen *s = data;

    assert_int_equal(line[len], '\0');
    assert_null(memchr(line, '\n', len));
    assert_true(s->len + len + 3 < sizeof(s->text));
    s->text[s->len++] = '[';
    memcpy(s->text + s->len, line, len);
    s->len += len;
    s->text[s->len++] = ']';
    s->text[s->len] = '\0';
    s->calls++;
    if (s->stop_after > 0 && s->calls == (size_t)s->stop_after)
        return 42;
    return 0;
}

typedef struct outcome {
    seen s;
    int feed_rc;
    int finish_rc;
} outcome;

static void run(const char *in, size_t len, size_t max_line, const size_t *chunks, size_t n_chunks,
                outcome *o) {
    lines l;
    size_t off = 0, i = 0;

    memset(o, 0, sizeof(*o));
    lines_init(&l, max_line, on_line, &o->s);
    while (off < len) {
        size_t n = chunks[i++ % n_chunks];
        int rc;
        if (n == 0 || n > len - off)
            n = len - off;
        rc = lines_feed(&l, in + off, n);
        if (rc) {
            o->feed_rc = rc;
            assert_int_equal(lines_feed(&l, "x\n", 2), rc);
            break;
        }
        off += n;
    }
    o->finish_rc = lines_finish(&l);
    lines_free(&l);
}

static void check(const char *in, size_t max_line, const char *want, int want_feed,
                  int want_finish) {
    size_t len = strlen(in), all = 0, one = 1;
    outcome o;

    run(in, len, max_line, &all, 1, &o);
    assert_string_equal(o.s.text, want);
    assert_int_equal(o.feed_rc, want_feed);
    assert_int_equal(o.finish_rc, want_finish);
    for (size_t cut = 1; cut < len; cut++) {
        size_t chunks[2] = {cut, 0};
        run(in, len, max_line, chunks, 2, &o);
        assert_string_equal(o.s.text, want);
        assert_int_equal(o.feed_rc, want_feed);
        assert_int_equal(o.finish_rc, want_finish);
    }
    run(in, len, max_line, &one, 1, &o);
    assert_string_equal(o.s.text, want);
    assert_int_equal(o.feed_rc, want_feed);
    assert_int_equal(o.finish_rc, want_finish);
    srand(1125);
    for (int round = 0; round < 100; round++) {
        size_t chunks[16];
        for (size_t i = 0; i < 16; i++)
            chunks[i] = 1 + (size_t)rand() % 13;
        run(in, len, max_line, chunks, 16, &o);
        assert_string_equal(o.s.text, want);
        assert_int_equal(o.feed_rc, want_feed);
        assert_int_equal(o.finish_rc, want_finish);
    }
}

static void test_lf_and_crlf_endings_give_the_same_lines_at_every_split(void **state) {
    check("{\"stream\":\"Step 1/3 : FROM scratch\\n\"}\r\n"
          "{\"status\":\"x\"}\n"
          "\r\n"
          "\n"
          "{\"aux\":{\"ID\":\"sha256:abc\"}}\r\n",
          0,
          "[{\"stream\":\"Step 1/3 : FROM scratch\\n\"}][{\"status\":\"x\"}][][]"
          "[{\"aux\":{\"ID\":\"sha256:abc\"}}]",
          0, 0);
}

static void test_lone_carriage_return_stays_in_the_line(void **state) {
    check("a\rb\r\nc\r\r\n", 0, "[a\rb][c\r]", 0, 0);
}

static void test_unterminated_last_line_comes_at_finish(void **state) {
    check("one\ntwo", 0, "[one][two]", 0, 0);
    /* A trailing "\r" without "\n" is content. */
    check("one\ntwo\r", 0, "[one][two\r]", 0, 0);
    check("", 0, "", 0, 0);
}

static void test_line_over_the_limit_is_an_error(void **state) {
    /* Exactly at the limit, with either ending. */
    check("12345678\n", 8, "[12345678]", 0, 0);
    check("12345678\r\nab\n", 8, "[12345678][ab]", 0, 0);
    /* One over. */
    check("ok\n123456789\nnever\n", 8, "[ok]", LINES_ETOOLONG, LINES_ETOOLONG);
    check("ok\n12345678\r\r\n", 8, "[ok]", LINES_ETOOLONG, LINES_ETOOLONG);
    /* No newline ever: refused while feeding, not buffered forever. */
    check("ok\n123456789abcdefghij", 8, "[ok]", LINES_ETOOLONG, LINES_ETOOLONG);
    /* At the limit but ending in "\r" with no "\n": finish refuses it. */
    check("ok\n12345678\r", 8, "[ok]", 0, LINES_ETOOLONG);
}

static void test_endless_line_is_refused_early(void **state) {
    lines l;
    seen s;
    char junk[4096];
    int rc = 0;
    size_t fed = 0;

    memset(&s, 0, sizeof(s));
    memset(junk, 'x', sizeof(junk));
    lines_init(&l, 10000, on_line, &s);
    while (rc == 0 && fed < (1u << 30)) {
        rc = lines_feed(&l, junk, sizeof(junk));
        fed += sizeof(junk);
    }
    assert_int_equal(rc, LINES_ETOOLONG);
    assert_true(fed <= 10000 + sizeof(junk));
    assert_true(l.cap < 65536);
    lines_free(&l);
}

static void test_callback_can_stop_the_stream(void **state) {
    lines l;
    seen s;

    memset(&s, 0, sizeof(s));
    s.stop_after = 2;
    lines_init(&l, 0, on_line, &s);
    assert_int_equal(lines_feed(&l, "a\nb\nc\nd\n", 8), 42);
    assert_string_equal(s.text, "[a][b]");
    assert_int_equal(lines_feed(&l, "e\n", 2), 42);
    assert_int_equal(lines_finish(&l), 42);
    assert_string_equal(s.text, "[a][b]");
    lines_free(&l);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lf_and_crlf_endings_give_the_same_lines_at_every_split),
        cmocka_unit_test(test_lone_carriage_return_stays_in_the_line),
        cmocka_unit_test(test_unterminated_last_line_comes_at_finish),
        cmocka_unit_test(test_line_over_the_limit_is_an_error),
        cmocka_unit_test(test_endless_line_is_refused_early),
        cmocka_unit_test(test_callback_can_stop_the_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
