/* Docker's multiplexed stream (logs, attach and exec of a container
 * without a TTY), split back into its streams.
 *
 * The stream is a sequence of frames: an 8-byte header {type, 0, 0, 0,
 * size as a big-endian u32} and size bytes of payload; type 0 is stdin,
 * 1 stdout, 2 stderr, 3 an error the daemon reports inside the stream.
 * A container with a TTY sends raw bytes instead: demux passes them through
 * as stdout (raw mode).
 *
 * Pure and incremental: feed it byte spans as they are read, cut anywhere;
 * it calls back with pieces of payload as soon as they are complete, so a
 * frame may arrive in several pieces (never merged across frames). No I/O,
 * no allocation.
 */
#ifndef HDC_DEMUX_H
#define HDC_DEMUX_H

#include <stddef.h>
#include <stdint.h>

#include "err.h" /* DEMUX_EBADTYPE, DEMUX_EPADDING, DEMUX_ETOOBIG, DEMUX_ETRUNC */

/* Docker splits log lines at 16 KiB, so a sane frame is far below this. */
#define DEMUX_MAX_FRAME (16u << 20)

enum demux_stream {
    DEMUX_STDIN = 0,
    DEMUX_STDOUT = 1,
    DEMUX_STDERR = 2,
    DEMUX_SYSTEMERR = 3,
};

/* A piece of one frame's payload (len > 0; buf borrowed for the call).
 * Return 0 to go on; anything else stops the demultiplexer: demux_feed
 * returns that value, now and on every later call. */
typedef int (*demux_cb)(void *data, int stream, const char *buf, size_t len);

typedef struct demux {
    demux_cb cb;
    void *data;
    int raw;   /* TTY: no frames, everything is stdout */
    int error; /* sticky: 0, a DEMUX_E* code, or the cb's value */
    uint32_t max_frame;
    uint32_t left; /* payload bytes of the current frame still due */
    int stream;    /* the current frame's stream */
    unsigned char hdr[8];
    size_t hdr_len;  /* header bytes collected so far */
    uint64_t frames; /* headers read: for tests and statistics */
} demux;

/* raw: nonzero for a TTY stream. max_frame: 0 means DEMUX_MAX_FRAME. */
void demux_init(demux *d, int raw, uint32_t max_frame, demux_cb cb, void *data);

/* Consumes len bytes. Returns 0, or the first error (then sticky). */
int demux_feed(demux *d, const char *buf, size_t len);

/* The stream has ended: returns 0 if it ended on a frame boundary, else
 * DEMUX_ETRUNC (or the sticky error). */
int demux_finish(demux *d);

#endif
