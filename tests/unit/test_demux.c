/* The demultiplexer of Docker's multiplexed stream: the same output however
 * the input is cut (every split point, one byte at a time, random chunks
 * from a fixed seed), raw mode, and malformed streams (bad type, nonzero
 * padding, a size over the cap, a stream that ends inside a header or
 * before the announced size) that give an error, never a crash or a hang. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "demux.h"

/* What the callbacks saw: consecutive pieces of the same stream merged,
 * which is what does not depend on where reads end. Each record is
 * "<stream>:<bytes>" separated by '|'; the bytes are hex-escaped. */
typedef struct transcript {
    char *text;
    size_t len, cap;
    int last_stream;
    size_t calls;
    int stop_after; /* return 99 from the n-th call, if > 0 */
} transcript;

static void tr_put(transcript *t, const char *s, size_t n) {
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->text = realloc(t->text, t->cap);
        assert_non_null(t->text);
    }
    memcpy(t->text + t->len, s, n);
    t->len += n;
    t->text[t->len] = '\0';
}

static int on_piece(void *data, int stream, const char *buf, size_t len) {
    transcript *t = data;
    char tmp[8];

    assert_true(len > 0);
    assert_true(stream >= 0 && stream <= 3);
    if (stream != t->last_stream) {
        snprintf(tmp, sizeof(tmp), "|%d:", stream);
        tr_put(t, tmp, strlen(tmp));
        t->last_stream = stream;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '|') {
            tr_put(t, (const char *)&c, 1);
        } else {
            snprintf(tmp, sizeof(tmp), "\\x%02x", c);
            tr_put(t, tmp, 4);
        }
    }
    t->calls++;
    if (t->stop_after > 0 && t->calls == (size_t)t->stop_after)
        return 99;
    return 0;
}

static void tr_init(transcript *t) {
    memset(t, 0, sizeof(*t));
    t->last_stream = -1;
    tr_put(t, "", 0);
}

static void tr_free(transcript *t) {
    free(t->text);
}

/* A stream under construction. */
typedef struct stream {
    char *buf;
    size_t len, cap;
} stream;

static void st_raw(stream *s, const void *p, size_t n) {
    if (s->len + n > s->cap) {
        s->cap = (s->len + n) * 2 + 64;
        s->buf = realloc(s->buf, s->cap);
        assert_non_null(s->buf);
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
}

static void st_frame(stream *s, int type, const void *payload, uint32_t size) {
    unsigned char h[8] = {(unsigned char)type,
                          0,
                          0,
                          0,
                          (unsigned char)(size >> 24),
                          (unsigned char)(size >> 16),
                          (unsigned char)(size >> 8),
                          (unsigned char)size};
    st_raw(s, h, sizeof(h));
    if (payload)
        st_raw(s, payload, size);
}

typedef struct result {
    transcript t;
    int feed_rc; /* first nonzero return of demux_feed, or 0 */
    int finish_rc;
    uint64_t frames;
} result;

/* Feeds s cut at the given chunk sizes (cycled; a size of 0 means the rest). */
static void run_chunks(const stream *s, int raw, uint32_t max_frame, const size_t *chunks,
                       size_t n_chunks, int stop_after, result *r) {
    demux d;
    size_t off = 0, i = 0;

    tr_init(&r->t);
    r->t.stop_after = stop_after;
    r->feed_rc = 0;
    demux_init(&d, raw, max_frame, on_piece, &r->t);
    while (off < s->len) {
        size_t n = chunks[i++ % n_chunks];
        int rc;
        if (n == 0 || n > s->len - off)
            n = s->len - off;
        rc = demux_feed(&d, s->buf + off, n);
        if (rc && !r->feed_rc)
            r->feed_rc = rc;
        if (rc) {
            /* Sticky: later calls return the same error and deliver nothing. */
            size_t before = r->t.len;
            assert_int_equal(demux_feed(&d, s->buf, s->len), rc);
            assert_int_equal(r->t.len, before);
            break;
        }
        off += n;
    }
    r->finish_rc = demux_finish(&d);
    r->frames = d.frames;
}

static void run_whole(const stream *s, int raw, uint32_t max_frame, result *r) {
    size_t all = 0;
    run_chunks(s, raw, max_frame, &all, 1, 0, r);
}

/* Every way of cutting s must give what feeding it whole gives. */
static void check_all_cuts(const stream *s, int raw, uint32_t max_frame, const result *want) {
    result r;

    /* Cut in two at every point. */
    for (size_t cut = 0; cut <= s->len; cut++) {
        size_t chunks[2] = {cut, 0};
        if (cut == 0)
            continue;
        run_chunks(s, raw, max_frame, chunks, 2, 0, &r);
        assert_string_equal(r.t.text, want->t.text);
        assert_int_equal(r.feed_rc, want->feed_rc);
        assert_int_equal(r.finish_rc, want->finish_rc);
        tr_free(&r.t);
    }
    /* One byte at a time. */
    {
        size_t one = 1;
        run_chunks(s, raw, max_frame, &one, 1, 0, &r);
        assert_string_equal(r.t.text, want->t.text);
        assert_int_equal(r.feed_rc, want->feed_rc);
        assert_int_equal(r.finish_rc, want->finish_rc);
        tr_free(&r.t);
    }
    /* Random chunk sizes, fixed seed. */
    srand(20261125);
    for (int round = 0; round < 200; round++) {
        size_t chunks[64];
        for (size_t i = 0; i < 64; i++)
            chunks[i] = 1 + (size_t)rand() % (round % 3 == 0 ? 7 : 300);
        run_chunks(s, raw, max_frame, chunks, 64, 0, &r);
        assert_string_equal(r.t.text, want->t.text);
        assert_int_equal(r.feed_rc, want->feed_rc);
        assert_int_equal(r.finish_rc, want->finish_rc);
        tr_free(&r.t);
    }
}

/* A realistic stream: stdout and stderr lines, an empty frame, a frame
 * whose size bytes are >= 0x80 (200 and 1000 bytes), stdin and a
 * daemon-side error. */
static void make_good(stream *s, char **expect) {
    static char big[1000];
    transcript t;

    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)('a' + i % 26);
    big[sizeof(big) - 1] = '\n';
    st_frame(s, 1, "hello from stdout\n", 18);
    st_frame(s, 2, "warning: on stderr\n", 19);
    st_frame(s, 1, "", 0);
    st_frame(s, 1, big, 200);
    st_frame(s, 1, "two frames, one stream\n", 23);
    st_frame(s, 0, "in\n", 3);
    st_frame(s, 2, big, sizeof(big));
    st_frame(s, 3, "daemon: boom", 12);
    st_frame(s, 1, "\x00\xff\x80 binary", 10);

    /* The transcript those frames must give. */
    tr_init(&t);
    on_piece(&t, 1, "hello from stdout\n", 18);
    on_piece(&t, 2, "warning: on stderr\n", 19);
    on_piece(&t, 1, big, 200);
    on_piece(&t, 1, "two frames, one stream\n", 23);
    on_piece(&t, 0, "in\n", 3);
    on_piece(&t, 2, big, sizeof(big));
    on_piece(&t, 3, "daemon: boom", 12);
    on_piece(&t, 1, "\x00\xff\x80 binary", 10);
    *expect = t.text;
}

static void test_frames_give_same_output_at_every_split(void **state) {
    stream s = {0};
    char *expect;
    result whole;

    make_good(&s, &expect);
    run_whole(&s, 0, 0, &whole);
    assert_string_equal(whole.t.text, expect);
    assert_int_equal(whole.feed_rc, 0);
    assert_int_equal(whole.finish_rc, 0);
    assert_int_equal(whole.frames, 9);
    check_all_cuts(&s, 0, 0, &whole);
    tr_free(&whole.t);
    free(expect);
    free(s.buf);
}

/* A 40000-byte frame (size bytes 0x00 0x00 0x9c 0x40) among small ones:
 * random cuts only, as every cut of it would be slow for nothing. */
static void test_large_frame_at_random_cuts(void **state) {
    static char big[40000];
    stream s = {0};
    result whole, r;

    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)(' ' + i % 90);
    st_frame(&s, 1, "a\n", 2);
    st_frame(&s, 2, big, sizeof(big));
    st_frame(&s, 1, "b\n", 2);
    run_whole(&s, 0, 0, &whole);
    assert_int_equal(whole.finish_rc, 0);
    assert_int_equal(whole.frames, 3);
    srand(7);
    for (int round = 0; round < 50; round++) {
        size_t chunks[32];
        for (size_t i = 0; i < 32; i++)
            chunks[i] = 1 + (size_t)rand() % 5000;
        run_chunks(&s, 0, 0, chunks, 32, 0, &r);
        assert_string_equal(r.t.text, whole.t.text);
        assert_int_equal(r.finish_rc, 0);
        tr_free(&r.t);
    }
    tr_free(&whole.t);
    free(s.buf);
}

static void test_empty_stream_is_fine(void **state) {
    demux d;
    transcript t;

    tr_init(&t);
    demux_init(&d, 0, 0, on_piece, &t);
    assert_int_equal(demux_feed(&d, "", 0), 0);
    assert_int_equal(demux_finish(&d), 0);
    assert_int_equal(t.calls, 0);
    tr_free(&t);
}

static void test_raw_mode_passes_bytes_through_as_stdout(void **state) {
    stream s = {0};
    result whole;
    transcript t;

    /* Bytes that would be a bad header in framed mode. */
    static const char tty[] = "\x07\x01\x02 tty output\r\n$ ";
    st_raw(&s, tty, sizeof(tty) - 1);
    run_whole(&s, 1, 0, &whole);
    tr_init(&t);
    on_piece(&t, 1, s.buf, s.len);
    assert_string_equal(whole.t.text, t.text);
    assert_int_equal(whole.finish_rc, 0);
    check_all_cuts(&s, 1, 0, &whole);
    tr_free(&t);
    tr_free(&whole.t);
    free(s.buf);
}

/* A malformed stream: its error and the output before it do not depend on
 * where reads end. Returns the error seen (from feed or finish). */
static int check_malformed(const stream *s, uint32_t max_frame, const char *want_text) {
    result whole;
    int err;

    run_whole(s, 0, max_frame, &whole);
    err = whole.feed_rc ? whole.feed_rc : whole.finish_rc;
    assert_int_not_equal(err, 0);
    assert_string_equal(whole.t.text, want_text);
    /* After a feed error, finish reports the same one. */
    if (whole.feed_rc)
        assert_int_equal(whole.finish_rc, whole.feed_rc);
    check_all_cuts(s, 0, max_frame, &whole);
    tr_free(&whole.t);
    return err;
}

static void test_truncated_header_is_an_error_at_finish(void **state) {
    stream s = {0};

    st_frame(&s, 1, "ok\n", 3);
    st_raw(&s, "\x01\x00\x00", 3);
    assert_int_equal(check_malformed(&s, 0, "|1:ok\\x0a"), DEMUX_ETRUNC);
    free(s.buf);
}

static void test_stream_ending_before_announced_size_is_truncated(void **state) {
    stream s = {0};

    /* Announces 100 bytes, carries 5: the frame is "longer than what came". */
    st_frame(&s, 1, "ok\n", 3);
    st_frame(&s, 2, NULL, 100);
    st_raw(&s, "short", 5);
    assert_int_equal(check_malformed(&s, 0, "|1:ok\\x0a|2:short"), DEMUX_ETRUNC);
    free(s.buf);
}

static void test_bad_type_is_an_error(void **state) {
    stream s = {0};

    st_frame(&s, 1, "ok\n", 3);
    st_frame(&s, 4, "nope", 4);
    assert_int_equal(check_malformed(&s, 0, "|1:ok\\x0a"), DEMUX_EBADTYPE);
    free(s.buf);
    memset(&s, 0, sizeof(s));
    st_frame(&s, 0xff, "nope", 4);
    assert_int_equal(check_malformed(&s, 0, ""), DEMUX_EBADTYPE);
    free(s.buf);
}

static void test_nonzero_padding_is_an_error(void **state) {
    stream s = {0};

    st_frame(&s, 2, "ok\n", 3);
    st_raw(&s, "\x01\x00\x01\x00\x00\x00\x00\x01x", 9);
    assert_int_equal(check_malformed(&s, 0, "|2:ok\\x0a"), DEMUX_EPADDING);
    free(s.buf);
}

static void test_huge_size_is_refused_before_any_payload(void **state) {
    stream s = {0};

    /* 0xffffffff: with signed chars this would read as -1. */
    st_frame(&s, 1, "ok\n", 3);
    st_raw(&s, "\x01\x00\x00\x00\xff\xff\xff\xff", 8);
    st_raw(&s, "payload that must not be delivered", 34);
    assert_int_equal(check_malformed(&s, 0, "|1:ok\\x0a"), DEMUX_ETOOBIG);
    free(s.buf);

    /* Just over a small cap, and exactly at it. */
    memset(&s, 0, sizeof(s));
    st_frame(&s, 1, "0123456789", 10);
    st_frame(&s, 1, "0123456789X", 11);
    assert_int_equal(check_malformed(&s, 10, "|1:0123456789"), DEMUX_ETOOBIG);
    free(s.buf);

    /* The default cap is 16 MiB. */
    memset(&s, 0, sizeof(s));
    st_frame(&s, 1, NULL, DEMUX_MAX_FRAME + 1);
    assert_int_equal(check_malformed(&s, 0, ""), DEMUX_ETOOBIG);
    free(s.buf);
}

static void test_callback_can_stop_the_stream(void **state) {
    stream s = {0};
    char *expect;
    size_t one = 1;
    result r;

    make_good(&s, &expect);
    run_chunks(&s, 0, 0, &one, 1, 3, &r);
    assert_int_equal(r.feed_rc, 99);
    assert_int_equal(r.finish_rc, 99);
    assert_int_equal(r.t.calls, 3);
    tr_free(&r.t);
    free(expect);
    free(s.buf);
}

static void test_messages_name_the_problem(void **state) {
    assert_non_null(strstr(hdc_strerror(DEMUX_EBADTYPE), "type"));
    assert_non_null(strstr(hdc_strerror(DEMUX_ETRUNC), "ended"));
    assert_non_null(strstr(hdc_strerror(DEMUX_ETOOBIG), "larger"));
    assert_non_null(strstr(hdc_strerror(DEMUX_EPADDING), "padding"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frames_give_same_output_at_every_split),
        cmocka_unit_test(test_large_frame_at_random_cuts),
        cmocka_unit_test(test_empty_stream_is_fine),
        cmocka_unit_test(test_raw_mode_passes_bytes_through_as_stdout),
        cmocka_unit_test(test_truncated_header_is_an_error_at_finish),
        cmocka_unit_test(test_stream_ending_before_announced_size_is_truncated),
        cmocka_unit_test(test_bad_type_is_an_error),
        cmocka_unit_test(test_nonzero_padding_is_an_error),
        cmocka_unit_test(test_huge_size_is_refused_before_any_payload),
        cmocka_unit_test(test_callback_can_stop_the_stream),
        cmocka_unit_test(test_messages_name_the_problem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
