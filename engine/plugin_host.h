/* The plugin host: finds distribution plugins on the search path, loads
 * them (dlopen), refuses malformed ones with a message naming the file and
 * the reason, and evaluates their probes' predicates. The ABI itself is
 * include/hdc/plugin.h.
 *
 * Every call that can fail returns 0 or a negative error (PLUGIN_E* of err.h,
 * or UV_ENOMEM) and, where it takes err/err_len, writes a message for the
 * user there: "plugins/bad.so: step 'format' depends on unknown step
 * 'boot-nn'".
 */
#ifndef HDC_PLUGIN_HOST_H
#define HDC_PLUGIN_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "err.h" /* PLUGIN_E*: the errors of this module */
#include "hdc/plugin.h"

#define PLUGIN_MAX_INSTANCES   64
#define PLUGIN_MAX_MEMORY_MB   (1024u * 1024u) /* a service's heap or container: 1 TiB */
#define PLUGIN_MIN_OVERHEAD_MB 64u             /* memory_mb - heap_mb, at least */

/* A loaded plugin. Read-only for callers; desc and everything it points to
 * live until plugin_unload. desc is always in this hdc's layout: a plugin
 * built against an older header is copied into it (plugin.h, "How the ABI
 * evolves"). */
typedef struct plugin {
    char *path; /* as opened */
    void *dl;   /* the dlopen handle */
    const hdc_plugin_desc *desc;
    hdc_plugin_desc copy; /* desc points here */
    void *owned[4];       /* the lists of copy, in the current layout */
} plugin;

/* Directories searched, in order. */
typedef struct plugin_path {
    char **dirs;
    size_t n;
} plugin_path;

/* One file found by plugin_list. */
typedef struct plugin_info {
    char *path;
    char *name;           /* the distribution, or NULL if refused */
    uint32_t abi_version; /* as the file declares it; 0 if unknown */
    char *error;          /* why the file was refused, or NULL */
} plugin_info;

/* The search path: the directories of cli_path (--plugin-path), then those
 * of env_path ($HDC_PLUGIN_PATH), both ':'-separated and either NULL, then
 * the installed and the build directory; an installed hdc (one not in its
 * build directory), <prefix>/lib/hdc/plugins from its bin/ instead of
 * both. Empty entries are skipped: the
 * current directory is searched only if named (e.g. "."). pp is freed with
 * plugin_path_free, also after a failure. */
int plugin_path_init(plugin_path *pp, const char *cli_path, const char *env_path);
/* Appends dir (copied) unless already there. pp may start zeroed. */
int plugin_path_add(plugin_path *pp, const char *dir);
void plugin_path_free(plugin_path *pp);

/* Loads the plugin in file (a path: "bad.so" means "./bad.so", never a
 * library search), checks its ABI and validates its descriptor. */
int plugin_load(const char *file, plugin **out, char *err, size_t err_len);
/* The first <dir>/<dist>.so on the path; its descriptor must be named dist. */
int plugin_find(const plugin_path *pp, const char *dist, plugin **out, char *err, size_t err_len);
/* Every *.so on the path, loaded and unloaded again; a name found in an
 * earlier directory hides later files of that name. Refused files are
 * listed with their error. */
int plugin_list(const plugin_path *pp, plugin_info **out, size_t *n_out);
void plugin_list_free(plugin_info *list, size_t n);
/* The names of the distributions found on the path (refused files left
 * out), space-separated into out: "apache_2.6.0 apache_3.3.6", or "" when
 * there is none. */
void plugin_known_names(const plugin_path *pp, char *out, size_t out_len);
void plugin_unload(plugin *p);

/* What plugin_load checks after the ABI: names valid and unique, steps
 * refer to known services, steps and probes and form a DAG (boot_check),
 * probes refer to known services and the port roles they declare, counts
 * in range. The message has no file name. */
int plugin_validate(const hdc_plugin_desc *desc, char *err, size_t err_len);

/* Lookups by name: NULL if absent. */
const hdc_service *plugin_service(const hdc_plugin_desc *desc, const char *name);
const hdc_probe *plugin_probe(const hdc_plugin_desc *desc, const char *name);
const hdc_port *plugin_port(const hdc_service *svc, const char *role);

/* A service's maximum heap and container memory, MB, with hdc's defaults
 * for 0 (HDC_DEFAULT_HEAP_MB; heap + HDC_DEFAULT_OVERHEAD_MB). */
unsigned plugin_heap_mb(const hdc_service *svc);
unsigned plugin_memory_mb(const hdc_service *svc);

/* How many instances of svc a cluster with that many datanodes has. */
unsigned plugin_instances(const hdc_service *svc, unsigned datanodes);

/* Judges a probe's 2xx answer body[0..len): every check, then the judge
 * callback. Returns 1 if healthy, 0 if not, with the reason in why
 * ("clusterMetrics.activeNodes is 1, want == 2 (instances of nodemanager)"). */
int plugin_judge(const hdc_plugin_desc *desc, const hdc_probe *probe, const char *body, size_t len,
                 const char *cluster, unsigned datanodes, char *why, size_t why_len);

/* The functions given to plugin callbacks (hdc_probe_ctx.host). */
extern const hdc_host plugin_host;

#endif
