/* Demultiplexing throughput: a 64 MiB in-memory stream of realistic frames
 * (log lines of 20..200 bytes, some of 1..16 KiB, an occasional 16 KiB
 * split line, stdout and stderr mixed) fed in 64 KiB reads that cut
 * frames anywhere, over and over until about 1 GiB has passed. Prints one
 * line; it never fails on a time.
 *   bench_demux [-n MiB-total] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "demux.h"

static int on_piece(void *data, int stream, const char *buf, size_t len) {
    uint64_t *sum = data;
    /* Touch the bytes a consumer would: the first and last. */
    *sum += (size_t)stream + len + (unsigned char)buf[0] + (unsigned char)buf[len - 1];
    return 0;
}

int main(int argc, char **argv) {
    size_t cap = 64u << 20, len = 0;
    uint64_t total_mib = 1024, sum = 0, done = 0;
    unsigned seed = 12345;
    unsigned char *s;
    char line[16384];
    uint64_t t0, t1;
    double secs;

    if (argc == 3 && strcmp(argv[1], "-n") == 0)
        total_mib = strtoull(argv[2], NULL, 10);
    s = malloc(cap);
    if (!s)
        return 1;
    for (size_t i = 0; i < sizeof(line); i++)
        line[i] = (char)(' ' + i % 90);
    for (;;) {
        unsigned r, size;
        seed = seed * 1103515245u + 12345u;
        r = seed >> 8;
        if (r % 100 < 85)
            size = 20 + r % 181;
        else if (r % 100 < 99)
            size = 1024 + r % (15 * 1024);
        else
            size = 16384;
        if (len + 8 + size > cap)
            break;
        s[len++] = (unsigned char)(1 + (r >> 20) % 2);
        s[len++] = 0;
        s[len++] = 0;
        s[len++] = 0;
        s[len++] = (unsigned char)(size >> 24);
        s[len++] = (unsigned char)(size >> 16);
        s[len++] = (unsigned char)(size >> 8);
        s[len++] = (unsigned char)size;
        memcpy(s + len, line, size);
        s[len + size - 1] = '\n';
        len += size;
    }

    t0 = uv_hrtime();
    while (done < total_mib << 20) {
        demux d;
        demux_init(&d, 0, 0, on_piece, &sum);
        for (size_t off = 0; off < len; off += 65536) {
            size_t n = len - off < 65536 ? len - off : 65536;
            if (demux_feed(&d, (const char *)s + off, n) != 0)
                return 1;
        }
        if (demux_finish(&d) != 0)
            return 1;
        done += len;
    }
    t1 = uv_hrtime();
    secs = (double)(t1 - t0) / 1e9;
    printf("demux: %.2f GiB in %.2f s: %.2f GB/s\n", (double)done / (1u << 30), secs,
           (double)done / secs / 1e9);
    if (sum == 0) /* keeps the callback's work observable */
        return 1;
    free(s);
    return 0;
}
