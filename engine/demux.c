/* Docker's multiplexed stream (see demux.h), demultiplexed by a small
 * state machine over byte spans.
 *
 * Decisions a newcomer might question:
 * - Payload is passed on in pieces, straight out of the caller's buffer,
 *   instead of being gathered into whole frames: no copy, no allocation,
 *   and a frame's size (up to max_frame) never costs memory. Callers that
 *   want lines split them themselves (Docker's frames are not lines
 *   anyway: it cuts lines at 16 KiB).
 * - Only a header is ever buffered (8 bytes), since a read may end inside
 *   one.
 * - Errors are sticky and nothing is delivered after one: a stream that
 *   lost its framing cannot be resynchronised, and a caller that sees the
 *   error once should not have to guard against more output. A frame whose
 *   size is over the cap is refused before any of it is delivered, so a
 *   corrupt header never turns into gigabytes of "output".
 * - The size is assembled from unsigned bytes: with plain char, a size byte
 *   >= 0x80 would be sign-extended into a huge or negative value.
 */
#include "demux.h"

#include <string.h>

void demux_init(demux *d, int raw, uint32_t max_frame, demux_cb cb, void *data) {
    memset(d, 0, sizeof(*d));
    d->cb = cb;
    d->data = data;
    d->raw = raw != 0;
    d->max_frame = max_frame ? max_frame : DEMUX_MAX_FRAME;
    d->stream = DEMUX_STDOUT;
}

/* A complete header is in d->hdr: check it and start its frame. */
static int take_header(demux *d) {
    const unsigned char *h = d->hdr;
    uint32_t size;

    if (h[0] > DEMUX_SYSTEMERR)
        return DEMUX_EBADTYPE;
    if (h[1] != 0 || h[2] != 0 || h[3] != 0)
        return DEMUX_EPADDING;
    size = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 | (uint32_t)h[7];
    if (size > d->max_frame)
        return DEMUX_ETOOBIG;
    d->stream = h[0];
    d->left = size;
    d->hdr_len = 0;
    d->frames++;
    return 0;
}

int demux_feed(demux *d, const char *buf, size_t len) {
    const unsigned char *p = (const unsigned char *)buf;
    const unsigned char *end = p + len;
    int rc;

    if (d->error)
        return d->error;
    if (len == 0)
        return 0;

    if (d->raw) {
        rc = d->cb(d->data, DEMUX_STDOUT, buf, len);
        if (rc)
            d->error = rc;
        return rc;
    }

    while (p < end) {
        if (d->left == 0) {
            /* Between frames or inside a header. A header that is whole
             * in the buffer is read in place. */
            if (d->hdr_len == 0 && (size_t)(end - p) >= sizeof(d->hdr)) {
                memcpy(d->hdr, p, sizeof(d->hdr));
                p += sizeof(d->hdr);
            } else {
                size_t want = sizeof(d->hdr) - d->hdr_len;
                size_t n = (size_t)(end - p) < want ? (size_t)(end - p) : want;
                memcpy(d->hdr + d->hdr_len, p, n);
                d->hdr_len += n;
                p += n;
                if (d->hdr_len < sizeof(d->hdr))
                    break;
            }
            rc = take_header(d);
            if (rc) {
                d->error = rc;
                return rc;
            }
            continue;
        }
        {
            size_t n = (size_t)(end - p) < d->left ? (size_t)(end - p) : d->left;
            d->left -= (uint32_t)n;
            rc = d->cb(d->data, d->stream, (const char *)p, n);
            p += n;
            if (rc) {
                d->error = rc;
                return rc;
            }
        }
    }
    return 0;
}

int demux_finish(demux *d) {
    if (d->error)
        return d->error;
    if (!d->raw && (d->left != 0 || d->hdr_len != 0))
        d->error = DEMUX_ETRUNC;
    return d->error;
}
