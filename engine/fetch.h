/* Release artifacts (Hadoop tarballs): taken from a cache directory, or
 * downloaded into it, and checked against their SHA-512 either way: the
 * one the plugin pins, or the one the project publishes next to the file
 * (<url>.sha512, or <url>.mds for old Hadoop releases).
 *
 * Downloads and digests are done by curl and sha512sum, run as child
 * processes from the loop: hdc has no TLS or hash code of its own.
 *
 * Conventions, as in libuv: fetch_artifact returns 0 or a negative error;
 * when it fails its callback is never called, when it succeeds the callback
 * is called exactly once, never from inside the call.
 */
#ifndef HDC_FETCH_H
#define HDC_FETCH_H

#include <stddef.h>
#include <uv.h>

#include "err.h" /* FETCH_EDOWNLOAD, FETCH_ECHECKSUM */
#include "hdc/plugin.h"

typedef struct fetch fetch;

/* status 0: path (borrowed) is the checked file in the cache. Else msg
 * says what failed and what to do. */
typedef void (*fetch_cb)(void *data, int status, const char *msg, const char *path);
/* A line about what is being done ("downloading URL"). Borrowed. */
typedef void (*fetch_progress_cb)(void *data, const char *line);

enum fetch_flags {
    /* A file the user gave (--hadoop-tarball): never downloaded, and its
     * own <file>.sha512, when there is one, is what it is checked against
     * (a test stand-in comes with one); else the pin, else the published. */
    FETCH_GIVEN = 1 << 0,
};

/* Makes sure cache_dir/<a->file> is there and checked. a is copied. *out
 * (optional) is valid until cb. */
int fetch_artifact(uv_loop_t *loop, const char *cache_dir, const hdc_artifact *a, unsigned flags,
                   fetch_progress_cb progress, fetch_cb cb, void *data, fetch **out);

/* Stops a fetch: a download or check under way is killed, and cb follows
 * with UV_ECANCELED. */
void fetch_cancel(fetch *f);

/* The SHA-512 in a published checksum file, in any of the forms Apache
 * used: "SHA512 (f) = hex", "hex  f", or gpg's "f: SHA512 = HEX HEX ..."
 * among other digests. Writes 128 lowercase hex digits and a NUL to out.
 * 0, or -1 when there is none. Pure. */
int fetch_parse_sha512(const char *text, size_t len, char out[129]);

/* Whether a pinned sha512 is absent (NULL or all zeros): then the
 * published one is used. Pure. */
int fetch_sha512_unpinned(const char *sha512);

#endif
