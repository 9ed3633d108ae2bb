/* The plugin host: search path, dlopen, ABI check, descriptor validation,
 * and the evaluation of probe predicates (include/hdc/plugin.h).
 *
 * Decisions a newcomer might question:
 * - A plugin is refused at load time for anything that would otherwise
 *   surface minutes into a bootstrap (a step naming an unknown service, a
 *   cycle, a probe on a port role nobody declares): a plugin that loads is
 *   one the engine can run. The step graph is checked by boot_check, the
 *   same code the runner uses.
 * - Files are opened RTLD_NOW | RTLD_LOCAL, and always by a path containing
 *   a '/': dlopen never searches the system's library path for a plugin,
 *   and the current directory is searched only when named.
 * - ABI version and descriptor size are read before anything else in the
 *   descriptor: they are the only fields every past and future layout
 *   shares.
 * - A plugin built against an older header (smaller structs) is copied
 *   into the current layout when it loads, each field it lacks zero, which
 *   is every field's default (plugin.h, "How the ABI evolves"): the rest of
 *   hdc reads one layout only, and indexes arrays with its own sizeof.
 * - Callbacks get host services (JSON lookups) through a table of
 *   functions (plugin_host), so hdc needs no -rdynamic and plugins link
 *   against nothing.
 */
#include "plugin_host.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "boot.h"
#include "plan.h" /* plan_escape */
#include "util.h"

/* Where `cmake --install` puts the plugins: HDC_PLUGIN_INSTALL_DIR as
 * configured (what a build-tree hdc names), and the same directory from
 * the installed hdc's bin/ (what an installed hdc searches, wherever its
 * prefix was moved or --prefix put it). */
#ifndef HDC_PLUGIN_INSTALL_DIR
#define HDC_PLUGIN_INSTALL_DIR "/usr/local/lib/hdc/plugins"
#endif
#ifndef HDC_PLUGIN_INSTALL_REL
#define HDC_PLUGIN_INSTALL_REL "../lib/hdc/plugins"
#endif

#define MAX_LIST 256 /* items in any descriptor list: a guard against a missing {0} */

/* ---- search path ---- */

int plugin_path_add(plugin_path *pp, const char *dir) {
    char **dirs;
    char *copy;

    for (size_t i = 0; i < pp->n; i++)
        if (strcmp(pp->dirs[i], dir) == 0)
            return 0;
    copy = strdup(dir);
    if (copy == NULL)
        return UV_ENOMEM;
    dirs = realloc(pp->dirs, (pp->n + 1) * sizeof(*dirs));
    if (dirs == NULL) {
        free(copy);
        return UV_ENOMEM;
    }
    dirs[pp->n++] = copy;
    pp->dirs = dirs;
    return 0;
}

static int add_list(plugin_path *pp, const char *list) {
    char dir[4096];

    while (list != NULL && *list != '\0') {
        size_t len = strcspn(list, ":");

        if (len > 0 && len < sizeof(dir)) {
            int rc;

            memcpy(dir, list, len);
            dir[len] = '\0';
            rc = plugin_path_add(pp, dir);
            if (rc != 0)
                return rc;
        }
        list += len;
        if (*list == ':')
            list++;
    }
    return 0;
}

/* An installed hdc's plugin directory into out: 1. An hdc is installed
 * when its directory is not the build directory it was built in (as
 * cmd_share_dir decides too); an installed one searches its own prefix
 * only, never the build tree. 0: this hdc runs from its build tree. */
static int installed_dir(char *out, size_t len) {
    char self[4096], self_real[PATH_MAX], build_real[PATH_MAX], real[PATH_MAX];

    if (util_self_dir(self, sizeof(self)) != 0 || realpath(self, self_real) == NULL)
        return 0;
#ifdef HDC_BUILD_DIR
    if (realpath(HDC_BUILD_DIR, build_real) != NULL && strcmp(self_real, build_real) == 0)
        return 0;
#endif
    if (snprintf(out, len, "%s/%s", self_real, HDC_PLUGIN_INSTALL_REL) >= (int)len)
        return 0;
    if (realpath(out, real) != NULL && strlen(real) < len)
        memcpy(out, real, strlen(real) + 1);
    return 1;
}

int plugin_path_init(plugin_path *pp, const char *cli_path, const char *env_path) {
    char dir[4096];
    int rc;

    pp->dirs = NULL;
    pp->n = 0;
    rc = add_list(pp, cli_path);
    if (rc == 0)
        rc = add_list(pp, env_path);
    if (rc != 0 || installed_dir(dir, sizeof(dir)))
        return rc == 0 ? plugin_path_add(pp, dir) : rc;
    rc = plugin_path_add(pp, HDC_PLUGIN_INSTALL_DIR);
#ifdef HDC_PLUGIN_BUILD_DIR
    if (rc == 0)
        rc = plugin_path_add(pp, HDC_PLUGIN_BUILD_DIR);
#endif
    return rc;
}

void plugin_path_free(plugin_path *pp) {
    for (size_t i = 0; i < pp->n; i++)
        free(pp->dirs[i]);
    free(pp->dirs);
    pp->dirs = NULL;
    pp->n = 0;
}

/* ---- validation ---- */

static int valid_chars(const char *s, size_t max, const char *first, const char *rest) {
    size_t n = strlen(s);

    if (n == 0 || n > max || strchr(first, s[0]) == NULL)
        return 0;
    for (size_t i = 1; i < n; i++)
        if (strchr(rest, s[i]) == NULL)
            return 0;
    return 1;
}

#define LOWER_DIGITS "abcdefghijklmnopqrstuvwxyz0123456789"
#define ALNUM        LOWER_DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

static int valid_dist_name(const char *s) {
    return valid_chars(s, 64, ALNUM, ALNUM "._-");
}

static int valid_service_name(const char *s) {
    return valid_chars(s, 32, LOWER_DIGITS, LOWER_DIGITS "-");
}

static int valid_hostname(const char *s) {
    return valid_chars(s, 63, LOWER_DIGITS, LOWER_DIGITS "-.");
}

static int valid_image_name(const char *s) {
    return valid_chars(s, 64, LOWER_DIGITS, LOWER_DIGITS "._-");
}

static int valid_kv(const char *s) {
    const char *eq = strchr(s, '=');
    return eq != NULL && eq != s;
}

/* Counts a {0}- or NULL-terminated list: every list's items begin with a
 * pointer (a name, or the string itself) that is NULL in the last one.
 * More than MAX_LIST means the terminator is missing. */
static size_t count_items(const void *list, size_t stride) {
    size_t n = 0;

    while (list != NULL && n <= MAX_LIST &&
           *(const char *const *)((const char *)list + n * stride) != NULL)
        n++;
    return n;
}

#define COUNT(list) count_items((list), sizeof(*(list)))

static int check_strings(const char *const *list, const char *what, const char *owner, char *err,
                         size_t err_len) {
    size_t n = COUNT(list);

    if (n > MAX_LIST) {
        util_set_err(err, err_len, "%s: %s has more than %d entries (is it NULL-terminated?)",
                     owner, what, MAX_LIST);
        return PLUGIN_EINVALID;
    }
    for (size_t i = 0; i < n; i++)
        if (!valid_kv(list[i])) {
            util_set_err(err, err_len, "%s: %s entry '%s' is not KEY=VALUE", owner, what, list[i]);
            return PLUGIN_EINVALID;
        }
    return 0;
}

static int is_hex(const char *s, size_t n) {
    if (strlen(s) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strchr("0123456789abcdefABCDEF", s[i]) == NULL)
            return 0;
    return 1;
}

static const hdc_image *find_image(const hdc_plugin_desc *d, const char *name) {
    for (size_t i = 0; d->images != NULL && d->images[i].name != NULL; i++)
        if (strcmp(d->images[i].name, name) == 0)
            return &d->images[i];
    return NULL;
}

const hdc_service *plugin_service(const hdc_plugin_desc *d, const char *name) {
    for (size_t i = 0; d->services != NULL && d->services[i].name != NULL; i++)
        if (strcmp(d->services[i].name, name) == 0)
            return &d->services[i];
    return NULL;
}

const hdc_probe *plugin_probe(const hdc_plugin_desc *d, const char *name) {
    for (size_t i = 0; d->probes != NULL && d->probes[i].name != NULL; i++)
        if (strcmp(d->probes[i].name, name) == 0)
            return &d->probes[i];
    return NULL;
}

const hdc_port *plugin_port(const hdc_service *svc, const char *role) {
    for (size_t i = 0; svc->ports != NULL && svc->ports[i].role != NULL; i++)
        if (strcmp(svc->ports[i].role, role) == 0)
            return &svc->ports[i];
    return NULL;
}

unsigned plugin_instances(const hdc_service *svc, unsigned datanodes) {
    if (svc->instances == HDC_COUNT_DATANODES)
        return datanodes > 0 ? datanodes : 1;
    return svc->instances > 0 ? (unsigned)svc->instances : 1;
}

static int validate_images(const hdc_plugin_desc *d, char *err, size_t err_len) {
    size_t n = COUNT(d->images);

    if (n > MAX_LIST) {
        util_set_err(err, err_len, "more than %d images (is the list {0}-terminated?)", MAX_LIST);
        return PLUGIN_EINVALID;
    }
    for (size_t i = 0; i < n; i++) {
        const hdc_image *im = &d->images[i];
        char owner[128];
        size_t n_art;

        snprintf(owner, sizeof(owner), "image '%s'", im->name);
        if (!valid_image_name(im->name)) {
            util_set_err(err, err_len, "image name '%s' is not [a-z0-9][a-z0-9._-]*", im->name);
            return PLUGIN_EINVALID;
        }
        if (find_image(d, im->name) != im) {
            util_set_err(err, err_len, "two images are named '%s'", im->name);
            return PLUGIN_EINVALID;
        }
        /* Relative contexts stay inside clusters/; an absolute one is a
         * plugin author's own directory, out of hdc's tree. */
        if (im->context == NULL || im->context[0] == '\0' || strcmp(im->context, "..") == 0 ||
            strncmp(im->context, "../", 3) == 0 || strstr(im->context, "/../") != NULL ||
            (strlen(im->context) >= 3 &&
             strcmp(im->context + strlen(im->context) - 3, "/..") == 0)) {
            util_set_err(err, err_len,
                         "%s: context must be a directory under clusters/ or an absolute path, "
                         "not '%s'",
                         owner, im->context != NULL ? im->context : "(null)");
            return PLUGIN_EINVALID;
        }
        if (check_strings(im->build_args, "build_args", owner, err, err_len) != 0)
            return PLUGIN_EINVALID;
        n_art = COUNT(im->artifacts);
        if (n_art > MAX_LIST) {
            util_set_err(err, err_len, "%s: more than %d artifacts (is the list {0}-terminated?)",
                         owner, MAX_LIST);
            return PLUGIN_EINVALID;
        }
        for (size_t k = 0; k < n_art; k++) {
            const hdc_artifact *a = &im->artifacts[k];
            if (a->file[0] == '\0' || strchr(a->file, '/') != NULL || a->file[0] == '.') {
                util_set_err(err, err_len, "%s: artifact file '%s' must be a plain file name",
                             owner, a->file);
                return PLUGIN_EINVALID;
            }
            if (a->url == NULL || a->url[0] == '\0') {
                util_set_err(err, err_len, "%s: artifact '%s' has no url", owner, a->file);
                return PLUGIN_EINVALID;
            }
            if (a->sha512 != NULL && !is_hex(a->sha512, 128)) {
                util_set_err(err, err_len,
                             "%s: artifact '%s': sha512 must be 128 hex digits "
                             "(or NULL: the one published next to the url)",
                             owner, a->file);
                return PLUGIN_EINVALID;
            }
        }
    }
    return 0;
}

static void list_roles(const hdc_service *svc, char *buf, size_t len) {
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; svc->ports != NULL && svc->ports[i].role != NULL && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", svc->ports[i].role);
    if (buf[0] == '\0')
        snprintf(buf, len, "no ports");
}

static int validate_services(const hdc_plugin_desc *d, char *err, size_t err_len) {
    size_t n = COUNT(d->services);

    if (n == 0) {
        util_set_err(err, err_len, "no services");
        return PLUGIN_EINVALID;
    }
    if (n > MAX_LIST) {
        util_set_err(err, err_len, "more than %d services (is the list {0}-terminated?)", MAX_LIST);
        return PLUGIN_EINVALID;
    }
    for (size_t i = 0; i < n; i++) {
        const hdc_service *s = &d->services[i];
        char owner[128];
        size_t n_ports, n_vols;

        snprintf(owner, sizeof(owner), "service '%s'", s->name);
        if (!valid_service_name(s->name)) {
            util_set_err(err, err_len,
                         "service name '%s' is not [a-z0-9][a-z0-9-]* "
                         "(up to 32 characters)",
                         s->name);
            return PLUGIN_EINVALID;
        }
        if (strcmp(s->name, "zookeeper") == 0) {
            util_set_err(err, err_len,
                         "service name 'zookeeper' is reserved: "
                         "hdc runs ZooKeeper itself");
            return PLUGIN_EINVALID;
        }
        if (plugin_service(d, s->name) != s) {
            util_set_err(err, err_len, "two services are named '%s'", s->name);
            return PLUGIN_EINVALID;
        }
        if (s->image == NULL || s->image[0] == '\0') {
            util_set_err(err, err_len, "%s has no image", owner);
            return PLUGIN_EINVALID;
        }
        if (strpbrk(s->image, "/:") == NULL && find_image(d, s->image) == NULL) {
            util_set_err(err, err_len,
                         "%s uses unknown image '%s' (declare it in images, "
                         "or give a Docker reference with '/' or ':')",
                         owner, s->image);
            return PLUGIN_EINVALID;
        }
        if (s->hostname != NULL && !valid_hostname(s->hostname)) {
            util_set_err(err, err_len, "%s: hostname '%s' is not a valid host name", owner,
                         s->hostname);
            return PLUGIN_EINVALID;
        }
        n_ports = COUNT(s->ports);
        if (n_ports > MAX_LIST) {
            util_set_err(err, err_len, "%s: more than %d ports (is the list {0}-terminated?)",
                         owner, MAX_LIST);
            return PLUGIN_EINVALID;
        }
        for (size_t k = 0; k < n_ports; k++) {
            const hdc_port *p = &s->ports[k];
            if (p->role[0] == '\0') {
                util_set_err(err, err_len, "%s: port %d has an empty role", owner, p->port);
                return PLUGIN_EINVALID;
            }
            if (plugin_port(s, p->role) != p) {
                util_set_err(err, err_len, "%s declares port role '%s' twice", owner, p->role);
                return PLUGIN_EINVALID;
            }
            if (p->port < 1 || p->port > 65535) {
                util_set_err(err, err_len, "%s: port '%s' is %d, not 1..65535", owner, p->role,
                             p->port);
                return PLUGIN_EINVALID;
            }
        }
        if (check_strings(s->env, "env", owner, err, err_len) != 0)
            return PLUGIN_EINVALID;
        n_vols = COUNT(s->volumes);
        if (n_vols > MAX_LIST) {
            util_set_err(err, err_len, "%s: more than %d volumes (is the list {0}-terminated?)",
                         owner, MAX_LIST);
            return PLUGIN_EINVALID;
        }
        for (size_t k = 0; k < n_vols; k++) {
            const hdc_volume *v = &s->volumes[k];
            if (!valid_image_name(v->name)) {
                util_set_err(err, err_len, "%s: volume name '%s' is not [a-z0-9][a-z0-9._-]*",
                             owner, v->name);
                return PLUGIN_EINVALID;
            }
            if (v->path == NULL || v->path[0] != '/') {
                util_set_err(err, err_len, "%s: volume '%s' needs an absolute path", owner,
                             v->name);
                return PLUGIN_EINVALID;
            }
        }
        if (s->ready_port != NULL && plugin_port(s, s->ready_port) == NULL) {
            char roles[256];
            list_roles(s, roles, sizeof(roles));
            util_set_err(err, err_len, "%s: ready_port '%s' is not one of its port roles (%s)",
                         owner, s->ready_port, roles);
            return PLUGIN_EINVALID;
        }
        if (s->instances != HDC_COUNT_DATANODES &&
            (s->instances < 0 || s->instances > PLUGIN_MAX_INSTANCES)) {
            util_set_err(err, err_len, "%s: instances is %d, not 1..%d or HDC_COUNT_DATANODES",
                         owner, s->instances, PLUGIN_MAX_INSTANCES);
            return PLUGIN_EINVALID;
        }
        if (s->heap_mb > PLUGIN_MAX_MEMORY_MB || s->memory_mb > PLUGIN_MAX_MEMORY_MB) {
            util_set_err(err, err_len, "%s: heap_mb %u or memory_mb %u is over %u MB", owner,
                         s->heap_mb, s->memory_mb, PLUGIN_MAX_MEMORY_MB);
            return PLUGIN_EINVALID;
        }
        if (s->memory_mb != 0 && s->memory_mb < plugin_heap_mb(s) + PLUGIN_MIN_OVERHEAD_MB) {
            util_set_err(err, err_len,
                         "%s: memory_mb %u leaves less than %u MB beyond its %u MB heap for the "
                         "JVM itself: raise memory_mb (0: heap + %u)",
                         owner, s->memory_mb, PLUGIN_MIN_OVERHEAD_MB, plugin_heap_mb(s),
                         HDC_DEFAULT_OVERHEAD_MB);
            return PLUGIN_EINVALID;
        }
        if ((s->flags & ~(unsigned)HDC_SERVICE_CLIENT) != 0) {
            util_set_err(err, err_len, "%s: unknown flags 0x%x", owner, s->flags);
            return PLUGIN_EINVALID;
        }
    }
    return 0;
}

static const char *kind_name(int kind) {
    switch (kind) {
    case HDC_STEP_BOOT: return "boot";
    case HDC_STEP_WAIT: return "wait";
    case HDC_STEP_EXEC: return "exec";
    case HDC_STEP_PROBE: return "probe";
    }
    return "?";
}

static int validate_steps(const hdc_plugin_desc *d, char *err, size_t err_len) {
    size_t n = COUNT(d->steps);
    int rc;

    if (n > MAX_LIST) {
        util_set_err(err, err_len, "more than %d steps (is the list {0}-terminated?)", MAX_LIST);
        return PLUGIN_EINVALID;
    }
    for (size_t i = 0; i < n; i++) {
        const hdc_step *st = &d->steps[i];
        const char *kind = kind_name(st->kind);
        const hdc_service *svc;

        if (st->kind < HDC_STEP_BOOT || st->kind > HDC_STEP_PROBE) {
            util_set_err(err, err_len, "step '%s' has unknown kind %d", st->name, st->kind);
            return PLUGIN_EINVALID;
        }
        if (st->kind == HDC_STEP_PROBE) {
            const hdc_probe *probe = st->probe != NULL ? plugin_probe(d, st->probe) : NULL;

            if (probe == NULL) {
                util_set_err(err, err_len, "step '%s' probes unknown probe '%s'", st->name,
                             st->probe != NULL ? st->probe : "(null)");
                return PLUGIN_EINVALID;
            }
            if (plugin_service(d, probe->service)->flags & HDC_SERVICE_CLIENT) {
                util_set_err(err, err_len,
                             "step '%s' probes the client service '%s', which "
                             "`hdc up` does not create",
                             st->name, probe->service);
                return PLUGIN_EINVALID;
            }
            if (st->service != NULL) {
                util_set_err(err, err_len,
                             "step '%s' (probe) names a service: the probe "
                             "says which",
                             st->name);
                return PLUGIN_EINVALID;
            }
        } else {
            if (st->service == NULL) {
                util_set_err(err, err_len, "step '%s' (%s) names no service", st->name, kind);
                return PLUGIN_EINVALID;
            }
            svc = plugin_service(d, st->service);
            if (svc == NULL) {
                util_set_err(err, err_len, "step '%s' refers to unknown service '%s'", st->name,
                             st->service);
                return PLUGIN_EINVALID;
            }
            if (svc->flags & HDC_SERVICE_CLIENT) {
                util_set_err(err, err_len,
                             "step '%s' refers to the client service '%s', "
                             "which `hdc up` does not create",
                             st->name, st->service);
                return PLUGIN_EINVALID;
            }
            if (st->probe != NULL) {
                util_set_err(err, err_len, "step '%s' (%s) names a probe: only probe steps do",
                             st->name, kind);
                return PLUGIN_EINVALID;
            }
        }
        if (st->kind == HDC_STEP_EXEC && (st->command == NULL || st->command[0] == '\0')) {
            util_set_err(err, err_len, "step '%s' (exec) has no command", st->name);
            return PLUGIN_EINVALID;
        }
        if (st->kind != HDC_STEP_EXEC && (st->command != NULL || st->user != NULL)) {
            util_set_err(err, err_len,
                         "step '%s' (%s) has a command or user: only exec "
                         "steps run one",
                         st->name, kind);
            return PLUGIN_EINVALID;
        }
    }
    rc = boot_check(d->steps, err, err_len);
    if (rc != 0)
        return PLUGIN_EINVALID;

    /* A service no step boots would keep its agent waiting forever. */
    for (size_t i = 0; d->services[i].name != NULL; i++) {
        const hdc_service *s = &d->services[i];
        int booted = 0;

        if (s->flags & HDC_SERVICE_CLIENT)
            continue;
        for (size_t k = 0; k < n && !booted; k++)
            booted = d->steps[k].kind == HDC_STEP_BOOT && strcmp(d->steps[k].service, s->name) == 0;
        if (!booted) {
            util_set_err(err, err_len, "service '%s' is never booted: no boot step names it",
                         s->name);
            return PLUGIN_EINVALID;
        }
    }
    return 0;
}

static int valid_json_path(const char *path) {
    if (path[0] == '/' || path[0] == '\0')
        return 1;
    /* Dotted: no empty segment. */
    if (path[0] == '.' || path[strlen(path) - 1] == '.' || strstr(path, "..") != NULL)
        return 0;
    return 1;
}

static int validate_probes(const hdc_plugin_desc *d, char *err, size_t err_len) {
    size_t n = COUNT(d->probes);

    if (n > MAX_LIST) {
        util_set_err(err, err_len, "more than %d probes (is the list {0}-terminated?)", MAX_LIST);
        return PLUGIN_EINVALID;
    }
    for (size_t i = 0; i < n; i++) {
        const hdc_probe *p = &d->probes[i];
        const hdc_service *svc;
        size_t n_checks;

        if (p->name[0] == '\0') {
            util_set_err(err, err_len, "probe %zu has an empty name", i + 1);
            return PLUGIN_EINVALID;
        }
        if (plugin_probe(d, p->name) != p) {
            util_set_err(err, err_len, "two probes are named '%s'", p->name);
            return PLUGIN_EINVALID;
        }
        svc = p->service != NULL ? plugin_service(d, p->service) : NULL;
        if (svc == NULL) {
            util_set_err(err, err_len, "probe '%s' refers to unknown service '%s'", p->name,
                         p->service != NULL ? p->service : "(null)");
            return PLUGIN_EINVALID;
        }
        if (p->port_role == NULL || plugin_port(svc, p->port_role) == NULL) {
            char roles[256];
            list_roles(svc, roles, sizeof(roles));
            util_set_err(err, err_len,
                         "probe '%s' uses port role '%s', which service '%s' "
                         "does not declare (it has: %s)",
                         p->name, p->port_role != NULL ? p->port_role : "(null)", svc->name, roles);
            return PLUGIN_EINVALID;
        }
        if (p->path == NULL || p->path[0] != '/') {
            util_set_err(err, err_len, "probe '%s': path must start with '/'", p->name);
            return PLUGIN_EINVALID;
        }
        n_checks = COUNT(p->checks);
        if (n_checks > MAX_LIST) {
            util_set_err(err, err_len,
                         "probe '%s': more than %d checks (is the list "
                         "{0}-terminated?)",
                         p->name, MAX_LIST);
            return PLUGIN_EINVALID;
        }
        for (size_t k = 0; k < n_checks; k++) {
            const hdc_check *c = &p->checks[k];

            if (!valid_json_path(c->path)) {
                util_set_err(err, err_len, "probe '%s': check path '%s' has an empty segment",
                             p->name, c->path);
                return PLUGIN_EINVALID;
            }
            if (c->op < HDC_OP_EQ || c->op > HDC_OP_EXISTS) {
                util_set_err(err, err_len, "probe '%s': check on '%s' has unknown op %d", p->name,
                             c->path, c->op);
                return PLUGIN_EINVALID;
            }
            if (c->op == HDC_OP_EXISTS) {
                if (c->value != NULL || c->count_of != NULL) {
                    util_set_err(err, err_len,
                                 "probe '%s': check on '%s' (exists) takes no "
                                 "value and no count_of",
                                 p->name, c->path);
                    return PLUGIN_EINVALID;
                }
                continue;
            }
            if ((c->value == NULL) == (c->count_of == NULL)) {
                util_set_err(err, err_len,
                             "probe '%s': check on '%s' needs either a value "
                             "or count_of",
                             p->name, c->path);
                return PLUGIN_EINVALID;
            }
            if (c->count_of != NULL && plugin_service(d, c->count_of) == NULL) {
                util_set_err(err, err_len,
                             "probe '%s': check on '%s' counts unknown service "
                             "'%s'",
                             p->name, c->path, c->count_of);
                return PLUGIN_EINVALID;
            }
            if (c->value != NULL) {
                json_error_t jerr;
                json_t *v = json_loads(c->value, JSON_DECODE_ANY, &jerr);
                int numeric = v != NULL && json_is_number(v);

                json_decref(v);
                if (v == NULL) {
                    util_set_err(err, err_len,
                                 "probe '%s': check on '%s': value '%s' is not "
                                 "JSON (strings need quotes: \"\\\"ACTIVE\\\"\")",
                                 p->name, c->path, c->value);
                    return PLUGIN_EINVALID;
                }
                if (c->op >= HDC_OP_LT && c->op <= HDC_OP_GE && !numeric) {
                    util_set_err(err, err_len,
                                 "probe '%s': check on '%s' orders by value "
                                 "'%s', which is not a number",
                                 p->name, c->path, c->value);
                    return PLUGIN_EINVALID;
                }
            }
        }
    }
    return 0;
}

int plugin_validate(const hdc_plugin_desc *d, char *err, size_t err_len) {
    int rc;

    if (d->name == NULL || !valid_dist_name(d->name)) {
        util_set_err(err, err_len,
                     "distribution name '%s' is not [A-Za-z0-9][A-Za-z0-9._-]* "
                     "(up to 64 characters)",
                     d->name != NULL ? d->name : "(null)");
        return PLUGIN_EINVALID;
    }
    rc = validate_images(d, err, err_len);
    if (rc == 0)
        rc = validate_services(d, err, err_len);
    if (rc == 0)
        rc = validate_probes(d, err, err_len);
    if (rc == 0)
        rc = validate_steps(d, err, err_len);
    return rc;
}

/* ---- layouts ---- */

/* The sizes of the structs that can grow. */
typedef struct layout {
    size_t desc, image, service, step, probe, host, ctx;
} layout;

static const layout current = {
    sizeof(hdc_plugin_desc), sizeof(hdc_image), sizeof(hdc_service),   sizeof(hdc_step),
    sizeof(hdc_probe),       sizeof(hdc_host),  sizeof(hdc_probe_ctx),
};

/* The first layout, as published with ABI version 1: the descriptor up to
 * probes, hdc_service up to flags. When a struct grows, its entry here
 * becomes offsetof(struct, its first appended field). */
static const layout first = {
    offsetof(hdc_plugin_desc, image_size),
    sizeof(hdc_image),
    offsetof(hdc_service, heap_mb),
    sizeof(hdc_step),
    sizeof(hdc_probe),
    sizeof(hdc_host),
    sizeof(hdc_probe_ctx),
};

unsigned plugin_heap_mb(const hdc_service *svc) {
    return svc->heap_mb > 0 ? svc->heap_mb : HDC_DEFAULT_HEAP_MB;
}

unsigned plugin_memory_mb(const hdc_service *svc) {
    return svc->memory_mb > 0 ? svc->memory_mb : plugin_heap_mb(svc) + HDC_DEFAULT_OVERHEAD_MB;
}

/* One size the plugin declares, in [first, current]: else refused. */
static int check_size(const char *file, const char *what, size_t size, size_t min, size_t max,
                      char *err, size_t err_len) {
    if (size > max) {
        util_set_err(err, err_len,
                     "%s: built against a newer include/hdc/plugin.h than this hdc's (its %s is "
                     "%zu bytes, this hdc knows %zu): upgrade hdc, or rebuild the plugin against "
                     "this hdc's header",
                     file, what, size, max);
        return PLUGIN_EABI;
    }
    if (size < min) {
        util_set_err(err, err_len,
                     "%s: its %s is %zu bytes, smaller than any layout's (%zu): declare hdc_plugin "
                     "with HDC_PLUGIN_HEADER and rebuild the plugin against include/hdc/plugin.h",
                     file, what, size, min);
        return PLUGIN_EABI;
    }
    return 0;
}

/* The plugin's list of items of `size` bytes, copied into a {0}-terminated
 * array of items of `want` bytes, each zero-filled past size (at most
 * MAX_LIST + 1 items: validation says a longer list lacks its {0}). */
static int upgrade_list(const void *list, size_t size, size_t want, const void **out,
                        void **owned) {
    size_t n = count_items(list, size);
    char *copy;

    *owned = NULL;
    *out = list;
    if (list == NULL)
        return 0;
    if (n > MAX_LIST + 1)
        n = MAX_LIST + 1;
    copy = calloc(n + 1, want);
    if (copy == NULL)
        return UV_ENOMEM;
    for (size_t i = 0; i < n; i++)
        memcpy(copy + i * want, (const char *)list + i * size, size < want ? size : want);
    *out = copy;
    *owned = copy;
    return 0;
}

/* Checks the layout the plugin declares and writes its descriptor in the
 * current one into p (p->copy, p->owned). */
static int upgrade(const char *file, const hdc_plugin_desc *desc, plugin *p, char *err,
                   size_t err_len) {
    hdc_plugin_desc *d = &p->copy;
    layout l;
    int rc;

    rc = check_size(file, "descriptor", desc->size, first.desc, current.desc, err, err_len);
    if (rc != 0)
        return rc;
    memset(d, 0, sizeof(*d));
    memcpy(d, desc, desc->size);
    l = (layout){
        .desc = desc->size,
        .image = d->image_size > 0 ? d->image_size : first.image,
        .service = d->service_size > 0 ? d->service_size : first.service,
        .step = d->step_size > 0 ? d->step_size : first.step,
        .probe = d->probe_size > 0 ? d->probe_size : first.probe,
        .host = d->host_size > 0 ? d->host_size : first.host,
        .ctx = d->ctx_size > 0 ? d->ctx_size : first.ctx,
    };
    if ((rc = check_size(file, "hdc_image", l.image, first.image, current.image, err, err_len)) ||
        (rc = check_size(file, "hdc_service", l.service, first.service, current.service, err,
                         err_len)) ||
        (rc = check_size(file, "hdc_step", l.step, first.step, current.step, err, err_len)) ||
        (rc = check_size(file, "hdc_probe", l.probe, first.probe, current.probe, err, err_len)) ||
        (rc = check_size(file, "hdc_host", l.host, first.host, current.host, err, err_len)) ||
        (rc = check_size(file, "hdc_probe_ctx", l.ctx, first.ctx, current.ctx, err, err_len)))
        return rc;
    if (upgrade_list(desc->images, l.image, current.image, (const void **)&d->images,
                     &p->owned[0]) != 0 ||
        upgrade_list(desc->services, l.service, current.service, (const void **)&d->services,
                     &p->owned[1]) != 0 ||
        upgrade_list(desc->steps, l.step, current.step, (const void **)&d->steps, &p->owned[2]) !=
            0 ||
        upgrade_list(desc->probes, l.probe, current.probe, (const void **)&d->probes,
                     &p->owned[3]) != 0) {
        util_set_err(err, err_len, "%s: out of memory", file);
        return UV_ENOMEM;
    }
    /* What the rest of hdc sees: the current layout. */
    d->size = (uint32_t)current.desc;
    d->image_size = (uint32_t)current.image;
    d->service_size = (uint32_t)current.service;
    d->step_size = (uint32_t)current.step;
    d->probe_size = (uint32_t)current.probe;
    d->host_size = (uint32_t)current.host;
    d->ctx_size = (uint32_t)current.ctx;
    return 0;
}

static void free_plugin(plugin *p) {
    if (p == NULL)
        return;
    for (size_t i = 0; i < sizeof(p->owned) / sizeof(p->owned[0]); i++)
        free(p->owned[i]);
    free(p->path);
    free(p);
}

/* ---- loading ---- */

/* Loads file; *abi_seen gets the ABI version the file declares (0 if it
 * declares none), for plugin_list. */
static int load(const char *file, plugin **out, char *err, size_t err_len, uint32_t *abi_seen) {
    char path[4096];
    char reason[1024];
    const hdc_plugin_desc *desc;
    plugin *p = NULL;
    void *dl = NULL;
    const char *dlmsg;
    int rc;

    *out = NULL;
    *abi_seen = 0;
    /* A name without '/' would make dlopen search the library path. */
    if (strchr(file, '/') == NULL)
        snprintf(path, sizeof(path), "./%s", file);
    else
        snprintf(path, sizeof(path), "%s", file);

    dlerror();
    dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (dl == NULL) {
        dlmsg = dlerror();
        if (dlmsg == NULL)
            dlmsg = "unknown error";
        /* dlerror usually starts with the path: say it once. */
        if (strncmp(dlmsg, path, strlen(path)) == 0 && dlmsg[strlen(path)] == ':')
            dlmsg += strlen(path) + 1;
        while (*dlmsg == ' ')
            dlmsg++;
        util_set_err(err, err_len, "%s: cannot load: %s", file, dlmsg);
        rc = PLUGIN_EOPEN;
        goto exit;
    }
    desc = dlsym(dl, HDC_PLUGIN_SYMBOL);
    if (desc == NULL) {
        util_set_err(err, err_len,
                     "%s: no symbol '%s': not an hdc plugin, or hdc_plugin is "
                     "not marked HDC_PLUGIN_EXPORT",
                     file, HDC_PLUGIN_SYMBOL);
        rc = PLUGIN_ESYMBOL;
        goto exit;
    }
    *abi_seen = desc->abi_version;
    if (desc->abi_version != HDC_PLUGIN_ABI_VERSION) {
        util_set_err(err, err_len,
                     "%s: wrong ABI version %u (this hdc speaks %d): rebuild the "
                     "plugin against include/hdc/plugin.h",
                     file, desc->abi_version, HDC_PLUGIN_ABI_VERSION);
        rc = PLUGIN_EABI;
        goto exit;
    }
    rc = UV_ENOMEM;
    p = calloc(1, sizeof(*p));
    if (p == NULL || (p->path = strdup(file)) == NULL) {
        util_set_err(err, err_len, "%s: out of memory", file);
        goto exit;
    }
    rc = upgrade(file, desc, p, err, err_len);
    if (rc != 0)
        goto exit;
    rc = plugin_validate(&p->copy, reason, sizeof(reason));
    if (rc != 0) {
        util_set_err(err, err_len, "%s: %s", file, reason);
        goto exit;
    }
    p->dl = dl;
    p->desc = &p->copy;
    *out = p;
    p = NULL;
    dl = NULL;
    rc = 0;

exit:
    free_plugin(p);
    if (dl != NULL)
        dlclose(dl);
    return rc;
}

int plugin_load(const char *file, plugin **out, char *err, size_t err_len) {
    uint32_t abi;

    return load(file, out, err, err_len, &abi);
}

void plugin_unload(plugin *p) {
    if (p == NULL)
        return;
    dlclose(p->dl);
    free_plugin(p);
}

static void join_dirs(const plugin_path *pp, char *buf, size_t len) {
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < pp->n && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", pp->dirs[i]);
}

int plugin_find(const plugin_path *pp, const char *dist, plugin **out, char *err, size_t err_len) {
    char file[4096];
    char dirs[2048], shown[160];
    int rc;

    *out = NULL;
    /* dist is the user's: shown escaped, so the message is valid text. */
    plan_escape(dist, shown, sizeof(shown));
    if (!valid_dist_name(dist)) {
        util_set_err(err, err_len, "'%s' is not a distribution name (e.g. apache_2.6.0)", shown);
        return PLUGIN_ENOTFOUND;
    }
    for (size_t i = 0; i < pp->n; i++) {
        snprintf(file, sizeof(file), "%s/%s.so", pp->dirs[i], dist);
        if (access(file, F_OK) != 0)
            continue;
        rc = plugin_load(file, out, err, err_len);
        if (rc != 0)
            return rc;
        if (strcmp((*out)->desc->name, dist) != 0) {
            util_set_err(err, err_len,
                         "%s: declares distribution '%s', but the file is named "
                         "for '%s'",
                         file, (*out)->desc->name, dist);
            plugin_unload(*out);
            *out = NULL;
            return PLUGIN_EINVALID;
        }
        return 0;
    }
    join_dirs(pp, dirs, sizeof(dirs));
    util_set_err(err, err_len,
                 "no plugin '%s' in %s (`hdc plugins` lists those found; "
                 "--plugin-path or HDC_PLUGIN_PATH add directories)",
                 shown, dirs[0] != '\0' ? dirs : "an empty search path");
    return PLUGIN_ENOTFOUND;
}

static int is_so(const struct dirent *e) {
    size_t n = strlen(e->d_name);
    return e->d_name[0] != '.' && n > 3 && strcmp(e->d_name + n - 3, ".so") == 0;
}

static int seen_stem(const plugin_info *list, size_t n, const char *file) {
    const char *base = strrchr(file, '/') + 1;

    for (size_t i = 0; i < n; i++)
        if (strcmp(strrchr(list[i].path, '/') + 1, base) == 0)
            return 1;
    return 0;
}

int plugin_list(const plugin_path *pp, plugin_info **out, size_t *n_out) {
    plugin_info *list = NULL;
    size_t n = 0;
    struct dirent **names = NULL;
    int n_names = 0;
    int rc = 0;

    for (size_t d = 0; d < pp->n && rc == 0; d++) {
        n_names = scandir(pp->dirs[d], &names, is_so, alphasort);
        if (n_names < 0) {
            names = NULL;
            n_names = 0;
            continue;
        }
        for (int i = 0; i < n_names && rc == 0; i++) {
            char file[4096];
            char err[1024];
            plugin_info *grown;
            plugin_info *info;
            plugin *p;
            uint32_t abi;

            snprintf(file, sizeof(file), "%s/%s", pp->dirs[d], names[i]->d_name);
            if (seen_stem(list, n, file))
                continue;
            grown = realloc(list, (n + 1) * sizeof(*list));
            if (grown == NULL) {
                rc = UV_ENOMEM;
                break;
            }
            list = grown;
            info = &list[n++];
            memset(info, 0, sizeof(*info));
            info->path = strdup(file);
            if (load(file, &p, err, sizeof(err), &abi) == 0) {
                info->name = strdup(p->desc->name);
                plugin_unload(p);
            } else {
                info->error = strdup(err);
            }
            info->abi_version = abi;
            if (info->path == NULL || (info->name == NULL && info->error == NULL))
                rc = UV_ENOMEM;
        }
        for (int i = 0; i < n_names; i++)
            free(names[i]);
        free(names);
        names = NULL;
    }
    if (rc != 0) {
        plugin_list_free(list, n);
        list = NULL;
        n = 0;
    }
    *out = list;
    *n_out = n;
    return rc;
}

void plugin_known_names(const plugin_path *pp, char *out, size_t out_len) {
    plugin_info *list = NULL;
    size_t n = 0, used = 0;

    if (out_len == 0)
        return;
    out[0] = '\0';
    if (plugin_list(pp, &list, &n) != 0)
        return;
    for (size_t i = 0; i < n; i++) {
        if (list[i].name == NULL)
            continue;
        used += (size_t)snprintf(out + used, out_len - used, "%s%s", used ? " " : "", list[i].name);
        if (used >= out_len) {
            used = out_len - 1;
            break;
        }
    }
    plugin_list_free(list, n);
}

void plugin_list_free(plugin_info *list, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(list[i].path);
        free(list[i].name);
        free(list[i].error);
    }
    free(list);
}

/* ---- probe predicates ---- */

/* The node at path: a JSON pointer ("/a/0/b", RFC 6901) or dotted
 * ("a.0.b"); a number indexes an array. Borrowed from root. */
static json_t *json_at(json_t *root, const char *path) {
    json_t *node = root;
    char seg[256];
    int pointer = path[0] == '/';
    const char *sep = pointer ? "/" : ".";
    const char *p = pointer ? path + 1 : path;

    if (path[0] == '\0')
        return root;
    for (;;) {
        size_t len = strcspn(p, sep);
        size_t out = 0;

        if (len >= sizeof(seg))
            return NULL;
        for (size_t i = 0; i < len; i++) {
            if (pointer && p[i] == '~' && i + 1 < len && (p[i + 1] == '0' || p[i + 1] == '1')) {
                seg[out++] = p[i + 1] == '0' ? '~' : '/';
                i++;
            } else {
                seg[out++] = p[i];
            }
        }
        seg[out] = '\0';
        if (json_is_object(node)) {
            node = json_object_get(node, seg);
        } else if (json_is_array(node)) {
            char *end;
            unsigned long idx;

            if (seg[0] < '0' || seg[0] > '9')
                return NULL;
            errno = 0;
            idx = strtoul(seg, &end, 10);
            if (*end != '\0' || errno != 0)
                return NULL;
            node = json_array_get(node, idx);
        } else {
            return NULL;
        }
        if (node == NULL)
            return NULL;
        p += len;
        if (*p == '\0')
            return node;
        p++;
    }
}

static void render(const json_t *v, char *buf, size_t len) {
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

    snprintf(buf, len, "%s", s != NULL ? s : "?");
    free(s);
}

static int host_json_get(const char *json, size_t len, const char *path, char *out,
                         size_t out_len) {
    json_t *root = json_loadb(json, len, JSON_DECODE_ANY, NULL);
    json_t *v;
    char *s = NULL;
    int rc = -1;

    if (root == NULL || path == NULL)
        goto exit;
    v = json_at(root, path);
    if (v == NULL)
        goto exit;
    s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s == NULL)
        goto exit;
    if (out != NULL && out_len > 0)
        snprintf(out, out_len, "%s", s);
    rc = (int)strlen(s);

exit:
    free(s);
    json_decref(root);
    return rc;
}

static int host_json_number(const char *json, size_t len, const char *path, double *out) {
    json_t *root = json_loadb(json, len, JSON_DECODE_ANY, NULL);
    json_t *v = root != NULL && path != NULL ? json_at(root, path) : NULL;
    int rc = -1;

    if (v != NULL && json_is_number(v)) {
        *out = json_number_value(v);
        rc = 0;
    }
    json_decref(root);
    return rc;
}

const hdc_host plugin_host = {
    .json_get = host_json_get,
    .json_number = host_json_number,
};

static const char *op_text(int op) {
    static const char *const text[] = {"?", "==", "!=", "<", "<=", ">", ">=", "exists"};
    return op >= HDC_OP_EQ && op <= HDC_OP_EXISTS ? text[op] : "?";
}

/* 1 if check holds on root; else 0 with the reason in why. */
static int check_holds(const hdc_plugin_desc *d, const hdc_check *c, json_t *root,
                       unsigned datanodes, char *why, size_t why_len) {
    json_t *got = json_at(root, c->path);
    json_t *want = NULL;
    char got_text[128], want_text[192];
    int holds = 0;

    if (got == NULL) {
        util_set_err(why, why_len, "%s is absent", c->path);
        return 0;
    }
    if (c->op == HDC_OP_EXISTS)
        return 1;
    if (c->count_of != NULL) {
        const hdc_service *svc = plugin_service(d, c->count_of);
        want = json_integer(svc != NULL ? plugin_instances(svc, datanodes) : 0);
    } else {
        want = json_loads(c->value, JSON_DECODE_ANY, NULL);
    }
    if (want == NULL) {
        util_set_err(why, why_len, "%s: cannot read the expected value", c->path);
        return 0;
    }
    if (json_is_number(got) && json_is_number(want)) {
        double a = json_number_value(got), b = json_number_value(want);
        switch (c->op) {
        case HDC_OP_EQ: holds = a == b; break;
        case HDC_OP_NE: holds = a != b; break;
        case HDC_OP_LT: holds = a < b; break;
        case HDC_OP_LE: holds = a <= b; break;
        case HDC_OP_GT: holds = a > b; break;
        case HDC_OP_GE: holds = a >= b; break;
        }
    } else if (c->op == HDC_OP_EQ) {
        holds = json_equal(got, want);
    } else if (c->op == HDC_OP_NE) {
        holds = !json_equal(got, want);
    }
    if (!holds) {
        render(got, got_text, sizeof(got_text));
        render(want, want_text, sizeof(want_text));
        if (c->count_of != NULL)
            util_set_err(why, why_len, "%s is %s, want %s %s (instances of %s)", c->path, got_text,
                         op_text(c->op), want_text, c->count_of);
        else
            util_set_err(why, why_len, "%s is %s, want %s %s", c->path, got_text, op_text(c->op),
                         want_text);
    }
    json_decref(want);
    return holds;
}

int plugin_judge(const hdc_plugin_desc *desc, const hdc_probe *probe, const char *body, size_t len,
                 const char *cluster, unsigned datanodes, char *why, size_t why_len) {
    json_t *root = NULL;
    json_error_t jerr;
    char *copy = NULL;
    int healthy = 0;

    util_set_err(why, why_len, "%s", "");
    if (probe->checks != NULL && probe->checks[0].path != NULL) {
        root = json_loadb(body, len, JSON_DECODE_ANY, &jerr);
        if (root == NULL) {
            util_set_err(why, why_len, "the answer is not JSON: %s (line %d, column %d)", jerr.text,
                         jerr.line, jerr.column);
            goto exit;
        }
        for (size_t i = 0; probe->checks[i].path != NULL; i++)
            if (!check_holds(desc, &probe->checks[i], root, datanodes, why, why_len))
                goto exit;
    }
    if (probe->judge != NULL) {
        hdc_probe_ctx ctx = {
            .cluster = cluster,
            .service = probe->service,
            .datanodes = datanodes,
            .host = &plugin_host,
        };
        char scratch[256] = "";

        /* The callback is promised a NUL-terminated body. */
        copy = malloc(len + 1);
        if (copy == NULL) {
            util_set_err(why, why_len, "out of memory");
            goto exit;
        }
        memcpy(copy, body, len);
        copy[len] = '\0';
        if (why == NULL || why_len == 0) {
            why = scratch;
            why_len = sizeof(scratch);
        }
        if (probe->judge(copy, len, &ctx, why, why_len) != 1) {
            if (why[0] == '\0')
                util_set_err(why, why_len, "the plugin judged the answer unhealthy");
            goto exit;
        }
    }
    healthy = 1;

exit:
    free(copy);
    json_decref(root);
    return healthy;
}
