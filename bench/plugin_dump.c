/* plugin_dump: prints what a distribution plugin declares, read from the .so
 * itself through include/hdc/plugin.h, so that a benchmark weighs the real
 * step DAG and the real readiness conditions, not a copy that could drift.
 *
 *   plugin_dump PLUGIN.so steps     name kind service after,after (or -) probe (or -)
 *   plugin_dump PLUGIN.so services  name<TAB>instances<TAB>ready_port<TAB>ready<TAB>user<TAB>image
 *   plugin_dump PLUGIN.so probes    name<TAB>service<TAB>count_of
 *   plugin_dump PLUGIN.so execs     step<TAB>service<TAB>user<TAB>command
 *
 * "steps" is the format bench/cold_up.sh reads (space separated; it reads
 * the first four fields, kind being enum hdc_step_kind). In the
 * others a missing value is "-", instances is -1 for "as many as
 * --datanodes", ready_port is the port number of the service's ready_port
 * role (0: none), and tabs or newlines inside a value become spaces.
 * Client services (HDC_SERVICE_CLIENT) are left out: `hdc up` never starts
 * them. Built by the benchmarks with `cc -I include -o X bench/plugin_dump.c -ldl`.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "hdc/plugin.h"

/* s with tabs and newlines as spaces, or "-" when NULL or empty. */
static void put(const char *s) {
    if (s == NULL || *s == '\0') {
        fputs("-", stdout);
        return;
    }
    for (; *s; s++)
        putchar(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s);
}

static int port_of(const hdc_service *sv, const char *role) {
    for (const hdc_port *p = sv->ports; role && p && p->role; p++)
        if (strcmp(p->role, role) == 0)
            return p->port;
    return 0;
}

int main(int argc, char **argv) {
    void *dl = argc == 3 ? dlopen(argv[1], RTLD_NOW | RTLD_LOCAL) : NULL;
    const hdc_plugin_desc *d = dl ? dlsym(dl, HDC_PLUGIN_SYMBOL) : NULL;
    const char *mode = argc == 3 ? argv[2] : "";

    if (d == NULL || d->abi_version != HDC_PLUGIN_ABI_VERSION) {
        fprintf(stderr, "plugin_dump: cannot load %s (or another ABI)\n", argc > 1 ? argv[1] : "?");
        return 1;
    }
    if (strcmp(mode, "steps") == 0) {
        for (const hdc_step *s = d->steps; s->name != NULL; s++) {
            printf("%s %d %s ", s->name, s->kind, s->service ? s->service : "-");
            if (s->after == NULL || s->after[0] == NULL)
                printf("-");
            for (int i = 0; s->after && s->after[i]; i++)
                printf("%s%s", i ? "," : "", s->after[i]);
            printf(" %s\n", s->probe ? s->probe : "-");
        }
    } else if (strcmp(mode, "services") == 0) {
        for (const hdc_service *sv = d->services; sv->name != NULL; sv++) {
            if (sv->flags & HDC_SERVICE_CLIENT)
                continue;
            printf("%s\t%d\t%d\t", sv->name, sv->instances == 0 ? 1 : sv->instances,
                   port_of(sv, sv->ready_port));
            put(sv->ready);
            putchar('\t');
            put(sv->user);
            putchar('\t');
            put(sv->image);
            putchar('\n');
        }
    } else if (strcmp(mode, "probes") == 0) {
        for (const hdc_probe *p = d->probes; p->name != NULL; p++) {
            const char *count_of = NULL;
            for (const hdc_check *c = p->checks; c && c->path; c++)
                if (c->count_of)
                    count_of = c->count_of;
            printf("%s\t%s\t", p->name, p->service);
            put(count_of);
            putchar('\n');
        }
    } else if (strcmp(mode, "execs") == 0) {
        for (const hdc_step *s = d->steps; s->name != NULL; s++) {
            if (s->kind != HDC_STEP_EXEC)
                continue;
            printf("%s\t%s\t", s->name, s->service);
            put(s->user);
            putchar('\t');
            put(s->command);
            putchar('\n');
        }
    } else {
        fprintf(stderr, "usage: plugin_dump PLUGIN.so steps|services|probes|execs\n");
        return 2;
    }
    return 0;
}
