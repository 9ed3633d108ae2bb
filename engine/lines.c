/* Line splitting for JSON-lines streams (see lines.h).
 *
 * Decisions a newcomer might question:
 * - Every line is copied into the splitter's own buffer, even when it is
 *   whole inside the span fed: the callback gets a NUL-terminated, writable
 *   line (handy for parsers), and these streams are small (events, build
 *   progress), so the copy costs nothing that matters.
 * - "\r" is dropped only right before "\n": a lone "\r" (progress bars)
 *   stays in the line.
 * - The limit counts the line without its terminator; a line is refused as
 *   soon as it is known to be too long, not when its end arrives.
 * - lines_finish passes on an unterminated last line rather than dropping
 *   it: a JSON parser will tell whether it was cut.
 */
#include "lines.h"

#include <stdlib.h>
#include <string.h>

void lines_init(lines *l, size_t max_line, lines_cb cb, void *data) {
    memset(l, 0, sizeof(*l));
    l->cb = cb;
    l->data = data;
    l->max_line = max_line ? max_line : LINES_MAX_LINE;
}

void lines_free(lines *l) {
    free(l->buf);
    l->buf = NULL;
    l->len = l->cap = 0;
}

static int append(lines *l, const char *p, size_t n) {
    /* +2: room for a "\r" that may precede the "\n", and the NUL. */
    if (l->len + n + 2 > l->cap) {
        size_t cap = l->cap ? l->cap : 256;
        char *b;
        while (cap < l->len + n + 2)
            cap *= 2;
        b = realloc(l->buf, cap);
        if (!b)
            return LINES_ENOMEM;
        l->buf = b;
        l->cap = cap;
    }
    memcpy(l->buf + l->len, p, n);
    l->len += n;
    return 0;
}

/* The buffer holds a complete line (without "\n"): pass it on. */
static int emit(lines *l) {
    size_t n = l->len;
    int rc;

    if (n > 0 && l->buf[n - 1] == '\r')
        n--;
    if (n > l->max_line)
        return LINES_ETOOLONG;
    if (!l->buf && (rc = append(l, "", 0)) != 0)
        return rc;
    l->buf[n] = '\0';
    l->len = 0;
    return l->cb(l->data, l->buf, n);
}

int lines_feed(lines *l, const char *buf, size_t len) {
    const char *p = buf, *end = buf + len;
    int rc;

    if (l->error)
        return l->error;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);
        size_t total = l->len + n;
        /* The line so far may be one byte over the limit if that byte is
         * a "\r" which the "\n" still to come will remove; emit
         * checks the finished line. */
        if (total > l->max_line + 1 || (!nl && total == l->max_line + 1 && p[n - 1] != '\r')) {
            l->error = LINES_ETOOLONG;
            return l->error;
        }
        if ((rc = append(l, p, n)) != 0) {
            l->error = rc;
            return rc;
        }
        if (!nl)
            break;
        p = nl + 1;
        if ((rc = emit(l)) != 0) {
            l->error = rc;
            return rc;
        }
    }
    return 0;
}

int lines_finish(lines *l) {
    int rc;

    if (l->error)
        return l->error;
    if (l->len == 0)
        return 0;
    if (l->len > l->max_line) {
        l->error = LINES_ETOOLONG;
        return l->error;
    }
    /* An unterminated last line keeps a trailing "\r": only "\r\n" ends a line. */
    if ((rc = append(l, "", 0)) != 0)
        return l->error = rc;
    l->buf[l->len] = '\0';
    rc = l->cb(l->data, l->buf, l->len);
    l->len = 0;
    if (rc)
        l->error = rc;
    return rc;
}
