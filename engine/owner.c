/* The owner of a cluster and whether it runs (owner.h).
 *
 * Decision: "here" is the boot id and the PID namespace together: two
 * hosts never share a boot id, and a container that sees the host's /proc
 * but has a PID namespace of its own is told apart by the namespace. The
 * machine id (often missing in containers) only tells a reboot of this
 * host from another host.
 */
#include "owner.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The first line of path, without its newline. 0 or a negative errno. */
static int read_line(const char *path, char *out, size_t len) {
    FILE *f = fopen(path, "r");
    int rc = 0;

    if (f == NULL)
        return -errno;
    if (fgets(out, (int)len, f) == NULL)
        rc = -EIO;
    fclose(f);
    out[strcspn(out, "\n")] = '\0';
    return rc;
}

/* The start time of pid (field 22 of /proc/PID/stat), or 0, also when
 * it is a zombie (state Z or X): dead, only not yet reaped, which a CI
 * container's PID 1 may never do. */
static unsigned long long start_time(pid_t pid) {
    char path[64], buf[1024], *p;
    unsigned long long t = 0;

    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    if (read_line(path, buf, sizeof(buf)) != 0)
        return 0;
    /* The command name (field 2) may hold spaces and ')': skip past its
     * last ')'; the state (field 3) follows, and field 22 is the 20th
     * after the name. */
    p = strrchr(buf, ')');
    if (p != NULL && (p[1] != ' ' || p[2] == 'Z' || p[2] == 'X'))
        return 0;
    for (int field = 2; p != NULL && field < 22; field++)
        p = strchr(p + 1, ' ');
    if (p != NULL)
        t = strtoull(p + 1, NULL, 10);
    return t;
}

/* The inode of pid's PID namespace, or 0. */
static unsigned long long pid_ns(pid_t pid) {
    char path[64];
    struct stat st;

    snprintf(path, sizeof(path), "/proc/%ld/ns/pid", (long)pid);
    return stat(path, &st) == 0 ? (unsigned long long)st.st_ino : 0;
}

/* This host's machine id, or "-". */
static void machine_id(char *out, size_t len) {
    if (read_line("/etc/machine-id", out, len) != 0 || out[0] == '\0' ||
        strspn(out, "0123456789abcdef") != strlen(out))
        snprintf(out, len, "-");
}

int owner_of(pid_t pid, char out[OWNER_MAX]) {
    char machine[40], boot[40];
    unsigned long long ns = pid_ns(pid), t = start_time(pid);
    int rc = read_line("/proc/sys/kernel/random/boot_id", boot, sizeof(boot));

    out[0] = '\0';
    if (rc != 0)
        return rc;
    if (ns == 0 || t == 0)
        return -ENOENT;
    machine_id(machine, sizeof(machine));
    snprintf(out, OWNER_MAX, "%s/%s/%llu/%ld/%llu", machine, boot, ns, (long)pid, t);
    return 0;
}

int owner_self(char out[OWNER_MAX]) {
    return owner_of(getpid(), out);
}

enum owner_liveness owner_liveness(const char *owner) {
    char machine[40], boot[40], here[40];
    unsigned long long ns, t;
    long pid;

    if (owner == NULL ||
        sscanf(owner, "%39[0-9a-f-]/%39[0-9a-f-]/%llu/%ld/%llu", machine, boot, &ns, &pid, &t) != 5)
        return OWNER_UNKNOWN;
    if (read_line("/proc/sys/kernel/random/boot_id", here, sizeof(here)) != 0)
        return OWNER_UNKNOWN;
    if (strcmp(boot, here) != 0) {
        /* This host before a reboot: gone; another host: nothing known. */
        machine_id(here, sizeof(here));
        return strcmp(machine, "-") != 0 && strcmp(machine, here) == 0 ? OWNER_GONE : OWNER_UNKNOWN;
    }
    if (ns != pid_ns(getpid()))
        return OWNER_UNKNOWN;
    return start_time((pid_t)pid) == t ? OWNER_ALIVE : OWNER_GONE;
}

const char *owner_liveness_name(enum owner_liveness l) {
    switch (l) {
    case OWNER_ALIVE: return "alive";
    case OWNER_GONE: return "gone";
    case OWNER_UNKNOWN: return "unknown";
    }
    return "?";
}
