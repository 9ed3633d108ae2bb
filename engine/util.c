/* Helpers written once (engine/util.h). */
#define _GNU_SOURCE /* vasprintf */
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

int util_mkdir_p(const char *path, mode_t mode) {
    char *copy = strdup(path);
    int rc = 0;

    if (copy == NULL)
        return UV_ENOMEM;
    for (char *p = copy + 1; *p != '\0' && rc == 0; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(copy, mode) != 0 && errno != EEXIST)
            rc = -errno;
        *p = '/';
    }
    if (rc == 0 && mkdir(copy, mode) != 0 && errno != EEXIST)
        rc = -errno;
    free(copy);
    return rc;
}

char *util_abspath(const char *path) {
    char *cwd, *abs;

    if (path[0] == '/')
        return strdup(path);
    cwd = getcwd(NULL, 0);
    if (cwd == NULL)
        return NULL;
    /* "." and "./x" read better without the dot. */
    while (path[0] == '.' && path[1] == '/')
        path += 2;
    if (strcmp(path, ".") == 0 || path[0] == '\0')
        abs = strdup(cwd);
    else
        abs = util_asprintf("%s%s%s", cwd, strcmp(cwd, "/") == 0 ? "" : "/", path);
    free(cwd);
    return abs;
}

int util_writable_dir(const char *dir) {
    char *path = strdup(dir);
    struct stat st;
    int rc;

    if (path == NULL)
        return UV_ENOMEM;
    /* Up to the nearest part that exists: it must be a directory we may
     * write in (write to add an entry, search to reach it). */
    while (stat(path, &st) != 0) {
        char *slash = strrchr(path, '/');
        if (errno != ENOENT) {
            rc = -errno;
            goto exit;
        }
        if (slash == NULL) {
            strcpy(path, ".");
            continue;
        }
        if (slash == path)
            slash[1] = '\0';
        else
            *slash = '\0';
    }
    if (!S_ISDIR(st.st_mode))
        rc = UV_ENOTDIR;
    else
        rc = access(path, W_OK | X_OK) == 0 ? 0 : -errno;
exit:
    free(path);
    return rc;
}

int util_self_path(char *out, size_t len) {
    ssize_t n;

    if (len == 0)
        return UV_EINVAL;
    out[0] = '\0';
    n = readlink("/proc/self/exe", out, len - 1);
    if (n < 0)
        return -errno;
    if ((size_t)n >= len - 1) {
        out[0] = '\0';
        return UV_ENAMETOOLONG;
    }
    out[n] = '\0';
    return 0;
}

int util_self_dir(char *out, size_t len) {
    int rc = util_self_path(out, len);
    char *slash;

    if (rc != 0)
        return rc;
    slash = strrchr(out, '/');
    if (slash == NULL) {
        out[0] = '\0';
        return UV_ENOENT;
    }
    *slash = '\0';
    return 0;
}

void util_set_err(char *err, size_t err_len, const char *fmt, ...) {
    va_list ap;

    if (err == NULL || err_len == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

int util_fail(char *err, size_t err_len, int code, const char *fmt, ...) {
    va_list ap;

    if (err != NULL && err_len > 0) {
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return code;
}

char *util_asprintf(const char *fmt, ...) {
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    return n < 0 ? NULL : s;
}

int util_grow(void *items, size_t *cap, size_t need, size_t size) {
    void *old, *grown;
    size_t n;

    if (need <= *cap)
        return 0;
    n = *cap > 0 ? *cap : 8;
    while (n < need)
        n *= 2;
    if (n > SIZE_MAX / size)
        return UV_ENOMEM;
    memcpy(&old, items, sizeof(old));
    grown = realloc(old, n * size);
    if (grown == NULL)
        return UV_ENOMEM;
    memcpy(items, &grown, sizeof(grown));
    *cap = n;
    return 0;
}
