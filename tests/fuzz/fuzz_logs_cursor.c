/* libFuzzer target for Docker's timestamps and the resume cursor
 * (engine/logs.c). The input is read three ways:
 * - as a cursor file (logs_cursor_parse): no crash, and a time it accepts
 *   is formatted and parsed back to the same time;
 * - as Docker's timestamped output (logs_stamped), after a cursor: the
 *   first byte picks where the rest is cut in two (at that many 255ths of
 *   its length). Checked: pieces never hold a '\n' but at a line's end,
 *   no kept line is stamped at or before the cursor, and the output is
 *   the same cut or whole. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct seen {
    uint64_t hash;
    size_t lines, stamped;
    logs_time after;
} seen;

static void piece(void *data, const char *buf, size_t len, int end, const logs_time *ts) {
    seen *s = data;
    const char *nl = memchr(buf, '\n', len);

    if (end ? (len == 0 || nl != buf + len - 1) : nl != NULL)
        abort();
    if (ts != NULL && logs_time_cmp(*ts, s->after) <= 0)
        abort();
    for (size_t i = 0; i < len; i++)
        s->hash = (s->hash ^ (unsigned char)buf[i]) * 1099511628211u;
    if (end) {
        s->lines++;
        s->stamped += ts != NULL;
        s->hash = (s->hash ^ (ts != NULL ? (uint64_t)ts->sec ^ (uint64_t)ts->nsec : 0x100)) *
                  1099511628211u;
    }
}

static void split(const char *in, size_t len, size_t cut, logs_time after, seen *s) {
    logs_stamped p;

    memset(s, 0, sizeof(*s));
    s->hash = 14695981039346656037u;
    s->after = after;
    logs_stamped_init(&p, after);
    logs_stamped_feed(&p, in, cut, piece, s);
    logs_stamped_feed(&p, in + cut, len - cut, piece, s);
    logs_stamped_end(&p, piece, s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char cursor[] = "2024-05-01T12:00:00.000000002Z";
    char text[LOGS_TIME_LEN + 1];
    logs_time t, back, after;
    seen a, b;
    size_t cut;

    if (logs_cursor_parse((const char *)data, size, &t) == 0) {
        logs_time_format(t, text);
        if (logs_time_parse(text, LOGS_TIME_LEN, &back) != 0 || logs_time_cmp(t, back) != 0)
            abort();
    }
    if (size < 1)
        return 0;
    if (logs_time_parse(cursor, strlen(cursor), &after) != 0)
        abort();
    cut = (size - 1) * (size_t)data[0] / 255;
    split((const char *)data + 1, size - 1, cut, after, &a);
    split((const char *)data + 1, size - 1, size - 1, after, &b);
    if (a.hash != b.hash || a.lines != b.lines || a.stamped != b.stamped)
        abort();
    return 0;
}
