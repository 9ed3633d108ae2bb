/* libFuzzer target for the demultiplexer. The first byte chooses where the
 * rest is cut in two (bits 3..7: at that many 31sts of its length), the
 * mode (bit 2: raw) and the frame cap (bits 0..1);
 * both halves are fed, then finish. Checked: no crash, no read outside
 * the input, the pieces add up to no more than the input, nothing is
 * delivered after an error, and feeding the same input whole gives the
 * same output and the same verdict. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "demux.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct sink {
    unsigned char out[1 << 16];
    size_t len;   /* bytes kept (the first 64 KiB) */
    size_t total; /* bytes delivered */
    int last_stream;
    int dead; /* an error was returned: nothing may follow */
} sink;

static int on_piece(void *data, int stream, const char *buf, size_t len) {
    sink *s = data;

    if (s->dead || len == 0 || stream < 0 || stream > 3)
        abort();
    for (size_t i = 0; i < len && s->len < sizeof(s->out); i++)
        s->out[s->len++] = (unsigned char)(buf[i] ^ stream);
    s->total += len;
    return 0;
}

static int run(const uint8_t *in, size_t len, size_t cut, int raw, uint32_t cap, sink *s) {
    demux d;
    int rc;

    memset(s, 0, sizeof(*s));
    demux_init(&d, raw, cap, on_piece, s);
    rc = demux_feed(&d, (const char *)in, cut);
    if (rc == 0)
        rc = demux_feed(&d, (const char *)in + cut, len - cut);
    if (rc)
        s->dead = 1;
    if (rc == 0)
        rc = demux_finish(&d);
    if (s->total > len)
        abort();
    if (demux_finish(&d) != rc || (rc && demux_feed(&d, "\x01\0\0\0\0\0\0\1x", 9) != rc))
        abort();
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static sink a, b;
    static const uint32_t caps[4] = {0, 1, 16, 300};
    size_t cut;
    int raw, ra, rb;
    uint32_t cap;

    if (size < 1)
        return 0;
    raw = (data[0] >> 2) & 1;
    cap = caps[data[0] & 3];
    cut = (size - 1) * (size_t)(data[0] >> 3) / 31;
    data++;
    size--;
    ra = run(data, size, cut, raw, cap, &a);
    rb = run(data, size, size, raw, cap, &b);
    if (ra != rb || a.total != b.total || a.len != b.len || memcmp(a.out, b.out, a.len) != 0)
        abort();
    return 0;
}
