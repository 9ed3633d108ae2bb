/* A line splitter for streams of JSON lines (Docker's events and build
 * progress): lines end with "\n" or "\r\n" and are cut anywhere by reads.
 *
 * Pure and incremental: feed byte spans as they arrive; each complete line
 * is passed to the callback without its terminator. A line longer than the
 * limit is an error, so a peer that never sends a newline cannot make us
 * buffer without bound.
 */
#ifndef HDC_LINES_H
#define HDC_LINES_H

#include <stddef.h>

#include "err.h" /* LINES_ETOOLONG, LINES_ENOMEM */

/* Default line limit: Docker's build output and events lines are small,
 * but an event's attributes carry every label of the container. */
#define LINES_MAX_LINE (1u << 20)

/* A complete line without "\n" / "\r\n" (borrowed for the call; it is
 * also NUL-terminated at line[len]). Empty lines are passed too. Return 0
 * to go on, anything else to stop: lines_feed returns that value, now and
 * on every later call. */
typedef int (*lines_cb)(void *data, char *line, size_t len);

typedef struct lines {
    lines_cb cb;
    void *data;
    char *buf; /* the unterminated tail of what was fed */
    size_t len, cap;
    size_t max_line;
    int error; /* sticky */
} lines;

/* max_line: 0 means LINES_MAX_LINE. Never fails; memory is taken on demand. */
void lines_init(lines *l, size_t max_line, lines_cb cb, void *data);
void lines_free(lines *l);

/* Returns 0 or the first error (then sticky). */
int lines_feed(lines *l, const char *buf, size_t len);

/* The stream has ended: a last line without terminator, if any, is passed
 * to the callback. Returns 0 or the error. */
int lines_finish(lines *l);

#endif
