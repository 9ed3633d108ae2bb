/* Who owns a cluster: the process that made it, named so that any hdc can
 * tell, where that can be known, whether it still runs. The name is
 * "<machine-id>/<boot-id>/<pid-namespace>/<pid>/<start-time>": the kernel's boot id
 * (a reboot ends every process), the PID namespace's inode (PIDs mean
 * something only inside one), the PID, and the process's start time in
 * clock ticks since boot (a PID is reused; its start time is not); in
 * front of them the machine id ("-" where there is none), so that a name
 * from before a reboot of this very host reads as gone, not unknown.
 *
 * An owner runs, is gone, or is unknown: unknown when hdc runs elsewhere
 * (another host, or a CI container with the engine's socket mounted, in a
 * PID namespace of its own), where a PID means nothing. Pure but for a
 * few reads of /proc, which never block.
 */
#ifndef HDC_OWNER_H
#define HDC_OWNER_H

#include <stddef.h>
#include <sys/types.h>

#define OWNER_MAX 160 /* bytes of an owner's name, with its NUL */

enum owner_liveness {
    OWNER_ALIVE,
    OWNER_GONE,
    OWNER_UNKNOWN, /* another host or PID namespace, or a name hdc did not write */
};

/* This process's name. 0, or a negative errno (no /proc). */
int owner_self(char out[OWNER_MAX]);

/* The name of process pid as seen from here (for tests: a child's). */
int owner_of(pid_t pid, char out[OWNER_MAX]);

enum owner_liveness owner_liveness(const char *owner);

const char *owner_liveness_name(enum owner_liveness l);

#endif
