/* libFuzzer target for the HTTP response parser: the first byte picks where
 * the rest is split in two (and its top bit asks for an upgrade, as Docker's
 * attach does); the parser must never crash, hang or leak, whatever comes. */
#include "http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fuzz_state {
    size_t body, events;
} fuzz_state;

static int fuzz_on_head(void *data, const http_response *res) {
    fuzz_state *s = data;
    for (size_t i = 0; i < res->n_headers; i++)
        s->body += strlen(res->headers[i].name) + strlen(res->headers[i].value);
    s->events++;
    return 0;
}

static int fuzz_on_body(void *data, const char *buf, size_t len) {
    fuzz_state *s = data;
    for (size_t i = 0; i < len; i++)
        s->body += (unsigned char)buf[i];
    return 0;
}

static int fuzz_on_upgrade(void *data, size_t offset) {
    ((fuzz_state *)data)->events++;
    return 0;
}

static int fuzz_on_complete(void *data) {
    fuzz_state *s = data;
    /* Pause now and then, as the I/O layer does after each response. */
    return ++s->events % 3 == 0 ? HTTP_PARSER_PAUSE : 0;
}

static int fuzz_feed(http_parser *p, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = http_parser_feed(p, buf, len);
        if (n < 0)
            return (int)n;
        if ((size_t)n > len)
            abort();
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const http_parser_cbs cbs = {
        .on_head = fuzz_on_head,
        .on_body = fuzz_on_body,
        .on_upgrade = fuzz_on_upgrade,
        .on_complete = fuzz_on_complete,
    };
    fuzz_state state = {0};
    http_parser *p;

    if (size < 1)
        return 0;
    unsigned flags = data[0] & 0x80 ? HTTP_PARSER_UPGRADE : 0;
    const char *buf = (const char *)data + 1;
    size_t len = size - 1;
    size_t split = len * (data[0] & 0x7f) / 0x7f;

    if (http_parser_new(flags, &cbs, &state, &p) != 0)
        return 0;
    if (fuzz_feed(p, buf, split) == 0 && fuzz_feed(p, buf + split, len - split) == 0)
        (void)http_parser_finish(p);
    (void)http_parser_response(p);
    http_parser_free(p);
    return 0;
}
