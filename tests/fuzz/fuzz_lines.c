/* libFuzzer target for the JSON-lines splitter. The first byte picks where
 * the rest is cut in two (bits 3..7: at that many 31sts of its length) and
 * the line limit (bits 0..2). Checked: no crash, lines
 * never contain "\n", never exceed the limit, and feeding the input whole
 * gives the same lines and the same verdict. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lines.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct sink {
    uint64_t hash;
    size_t n;
    size_t max_line;
} sink;

static int on_line(void *data, char *line, size_t len) {
    sink *s = data;

    if (len > s->max_line || memchr(line, '\n', len) || line[len] != '\0')
        abort();
    for (size_t i = 0; i < len; i++)
        s->hash = (s->hash ^ (unsigned char)line[i]) * 1099511628211u;
    s->hash = (s->hash ^ 0x100) * 1099511628211u;
    s->n++;
    return 0;
}

static int run(const uint8_t *in, size_t len, size_t cut, size_t max_line, sink *s) {
    lines l;
    int rc;

    memset(s, 0, sizeof(*s));
    s->hash = 14695981039346656037u;
    s->max_line = max_line;
    lines_init(&l, max_line, on_line, s);
    rc = lines_feed(&l, (const char *)in, cut);
    if (rc == 0)
        rc = lines_feed(&l, (const char *)in + cut, len - cut);
    if (rc == 0)
        rc = lines_finish(&l);
    lines_free(&l);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sink a, b;
    size_t max_line, cut;
    int ra, rb;

    if (size < 1)
        return 0;
    max_line = 1 + (size_t)(data[0] & 7) * 3;
    cut = (size - 1) * (size_t)(data[0] >> 3) / 31;
    data++;
    size--;
    ra = run(data, size, cut, max_line, &a);
    rb = run(data, size, size, max_line, &b);
    if (ra != rb || a.n != b.n || a.hash != b.hash)
        abort();
    return 0;
}
