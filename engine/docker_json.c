/* Request targets and bodies, and replies parsed (docker_json.h): pure
 * functions over jansson values and strings, no I/O. */
#define _GNU_SOURCE
#include "docker_json.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "util.h"

#define V "/v" DOCKER_API_VERSION

static const char *jstr(const json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static const char *jstr_or_null(const json_t *o, const char *key) {
    return json_string_value(json_object_get(o, key));
}

char *docker_url_escape(const char *s) {
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = malloc(3 * n + 1), *o = out;

    if (!out)
        return NULL;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            *o++ = (char)ch;
        } else {
            *o++ = '%';
            *o++ = hex[ch >> 4];
            *o++ = hex[ch & 15];
        }
    }
    *o = '\0';
    return out;
}

char *docker_filters_json(const docker_filter *filters, size_t n) {
    json_t *root = json_object();
    char *s = NULL;

    if (!root)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        json_t *arr;
        if (!filters[i].key || filters[i].n_values == 0)
            continue;
        arr = json_object_get(root, filters[i].key);
        if (!arr) {
            arr = json_array();
            if (json_object_set_new(root, filters[i].key, arr) != 0)
                goto exit;
        }
        for (size_t j = 0; j < filters[i].n_values; j++)
            if (filters[i].values[j] &&
                json_array_append_new(arr, json_string(filters[i].values[j])) != 0)
                goto exit;
    }
    if (json_object_size(root) > 0)
        s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
exit:
    json_decref(root);
    return s;
}

/* Appends "&key=<escaped value>" (or "?" first) to *t. */
static int q_add(char **t, const char *key, const char *value) {
    char *e = docker_url_escape(value), *n;

    if (!e)
        return -1;
    n = util_asprintf("%s%c%s=%s", *t, strchr(*t, '?') ? '&' : '?', key, e);
    free(e);
    if (!n)
        return -1;
    free(*t);
    *t = n;
    return 0;
}

static int q_add_filters(char **t, const docker_filter *f, size_t n) {
    char *js = docker_filters_json(f, n);
    int rc;

    if (!js)
        return 0; /* no filter (or ENOMEM, which the next step meets) */
    rc = q_add(t, "filters", js);
    free(js);
    return rc;
}

/* A JSON object of string values from key/value pairs, as text. */
static char *kv_json(const docker_kv *kv, size_t n) {
    json_t *o = json_object();
    char *s;

    for (size_t i = 0; o && i < n; i++)
        if (kv[i].key)
            json_object_set_new(o, kv[i].key, json_string(kv[i].value ? kv[i].value : ""));
    s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return s;
}

char *docker_build_target(const docker_build_opts *opts) {
    char *t = strdup(V "/build?rm=1&forcerm=1");
    char *js;

    if (!t)
        return NULL;
    if (opts->tag && q_add(&t, "t", opts->tag))
        goto fail;
    for (const char *const *m = opts->more_tags; m && *m; m++)
        if (q_add(&t, "t", *m))
            goto fail;
    if (opts->dockerfile && q_add(&t, "dockerfile", opts->dockerfile))
        goto fail;
    if (opts->nocache && q_add(&t, "nocache", "1"))
        goto fail;
    if (opts->n_buildargs) {
        js = kv_json(opts->buildargs, opts->n_buildargs);
        if (!js || q_add(&t, "buildargs", js)) {
            free(js);
            goto fail;
        }
        free(js);
    }
    if (opts->n_labels) {
        js = kv_json(opts->labels, opts->n_labels);
        if (!js || q_add(&t, "labels", js)) {
            free(js);
            goto fail;
        }
        free(js);
    }
    return t;
fail:
    free(t);
    return NULL;
}

char *docker_logs_target(const char *id, const docker_logs_opts *opts) {
    unsigned streams = opts->streams ? opts->streams : DOCKER_STDOUT | DOCKER_STDERR;
    char *e = docker_url_escape(id), *t, *tail = NULL;
    char since[48];

    if (!e)
        return NULL;
    if (opts->tail)
        tail = docker_url_escape(opts->tail);
    /* Docker reads "SECONDS.NANOSECONDS" (nine digits) as an exact time. */
    if (opts->since_ns > 0)
        snprintf(since, sizeof(since), "%" PRId64 ".%09d", opts->since, (int)opts->since_ns);
    else
        snprintf(since, sizeof(since), "%" PRId64, opts->since);
    t = util_asprintf(V "/containers/%s/logs?stdout=%d&stderr=%d&follow=%d&timestamps=%d"
                        "&since=%s&tail=%s",
                      e, (streams & DOCKER_STDOUT) ? 1 : 0, (streams & DOCKER_STDERR) ? 1 : 0,
                      opts->follow ? 1 : 0, opts->timestamps ? 1 : 0, since, tail ? tail : "all");
    free(e);
    free(tail);
    return t;
}

char *docker_events_target(const docker_events_opts *opts) {
    docker_filter f[5] = {
        {"type", opts->types, opts->n_types},
        {"label", opts->labels, opts->n_labels},
        {"event", opts->events, opts->n_events},
        {"container", opts->containers, opts->n_containers},
        {"network", opts->networks, opts->n_networks},
    };
    char *t = strdup(V "/events");
    char num[32];

    if (!t)
        return NULL;
    if (opts->since) {
        snprintf(num, sizeof(num), "%" PRId64, opts->since);
        if (q_add(&t, "since", num))
            goto fail;
    }
    if (opts->until) {
        snprintf(num, sizeof(num), "%" PRId64, opts->until);
        if (q_add(&t, "until", num))
            goto fail;
    }
    if (q_add_filters(&t, f, 5))
        goto fail;
    return t;
fail:
    free(t);
    return NULL;
}

char *docker_list_target(const char *base, const char *label) {
    char *t = util_asprintf(V "%s", base);
    docker_filter f = {"label", &label, 1};

    if (t && label && q_add_filters(&t, &f, 1)) {
        free(t);
        return NULL;
    }
    return t;
}

static json_t *str_array(const char *const *v, size_t n) {
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(v[i] ? v[i] : ""));
    return a;
}

static json_t *kv_object(const docker_kv *kv, size_t n) {
    json_t *o = json_object();
    for (size_t i = 0; o && i < n; i++)
        if (kv[i].key)
            json_object_set_new(o, kv[i].key, json_string(kv[i].value ? kv[i].value : ""));
    return o;
}

static void set_str(json_t *o, const char *key, const char *v) {
    if (v)
        json_object_set_new(o, key, json_string(v));
}

json_t *docker_container_create_body(const docker_container_opts *o) {
    json_t *b, *host, *exposed, *bindings;
    char key[32];

    if (!o->image || !*o->image)
        return NULL;
    if (!o->network && (o->ipv4 || o->n_aliases))
        return NULL;
    b = json_object();
    host = json_object();
    if (!b || !host) {
        json_decref(b);
        json_decref(host);
        return NULL;
    }
    json_object_set_new(b, "Image", json_string(o->image));
    set_str(b, "Hostname", o->hostname);
    set_str(b, "Domainname", o->domainname);
    set_str(b, "User", o->user);
    set_str(b, "WorkingDir", o->working_dir);
    if (o->n_labels)
        json_object_set_new(b, "Labels", kv_object(o->labels, o->n_labels));
    if (o->n_env)
        json_object_set_new(b, "Env", str_array(o->env, o->n_env));
    if (o->n_cmd)
        json_object_set_new(b, "Cmd", str_array(o->cmd, o->n_cmd));
    if (o->n_entrypoint)
        json_object_set_new(b, "Entrypoint", str_array(o->entrypoint, o->n_entrypoint));
    json_object_set_new(b, "Tty", json_boolean(o->tty));
    json_object_set_new(b, "OpenStdin", json_boolean(o->open_stdin));
    json_object_set_new(b, "AttachStdout", json_false());
    json_object_set_new(b, "AttachStderr", json_false());
    if (o->n_volumes) {
        json_t *vols = json_object();
        for (size_t i = 0; i < o->n_volumes; i++)
            if (o->volumes[i])
                json_object_set_new(vols, o->volumes[i], json_object());
        json_object_set_new(b, "Volumes", vols);
    }
    if (o->n_ports) {
        exposed = json_object();
        bindings = json_object();
        for (size_t i = 0; i < o->n_ports; i++) {
            char hp[8] = "";
            snprintf(key, sizeof(key), "%u/%s", (unsigned)o->ports[i].port,
                     o->ports[i].proto ? o->ports[i].proto : "tcp");
            if (o->ports[i].host_port)
                snprintf(hp, sizeof(hp), "%u", (unsigned)o->ports[i].host_port);
            json_object_set_new(exposed, key, json_object());
            json_object_set_new(bindings, key,
                                json_pack("[{s:s,s:s}]", "HostIp", "127.0.0.1", "HostPort", hp));
        }
        json_object_set_new(b, "ExposedPorts", exposed);
        json_object_set_new(host, "PortBindings", bindings);
    }
    if (o->n_binds)
        json_object_set_new(host, "Binds", str_array(o->binds, o->n_binds));
    if (o->n_extra_hosts)
        json_object_set_new(host, "ExtraHosts", str_array(o->extra_hosts, o->n_extra_hosts));
    if (o->init)
        json_object_set_new(host, "Init", json_true());
    if (o->memory_mb > 0) {
        /* MemorySwap = Memory: no swap beyond the limit. */
        json_int_t bytes = (json_int_t)o->memory_mb * 1024 * 1024;
        json_object_set_new(host, "Memory", json_integer(bytes));
        json_object_set_new(host, "MemorySwap", json_integer(bytes));
    }
    if (o->network) {
        json_t *ep = json_object(), *eps = json_object();
        json_object_set_new(host, "NetworkMode", json_string(o->network));
        if (o->ipv4)
            json_object_set_new(ep, "IPAMConfig", json_pack("{s:s}", "IPv4Address", o->ipv4));
        if (o->n_aliases)
            json_object_set_new(ep, "Aliases", str_array(o->aliases, o->n_aliases));
        json_object_set_new(eps, o->network, ep);
        json_object_set_new(b, "NetworkingConfig", json_pack("{s:o}", "EndpointsConfig", eps));
    }
    json_object_set_new(b, "HostConfig", host);
    return b;
}

json_t *docker_network_create_body(const docker_network_opts *o) {
    json_t *b;

    if (!o->name || !*o->name || (o->gateway && !o->subnet))
        return NULL;
    b = json_object();
    if (!b)
        return NULL;
    json_object_set_new(b, "Name", json_string(o->name));
    json_object_set_new(b, "Driver", json_string(o->driver ? o->driver : "bridge"));
    json_object_set_new(b, "CheckDuplicate", json_true());
    json_object_set_new(b, "Internal", json_boolean(o->internal));
    if (o->n_labels)
        json_object_set_new(b, "Labels", kv_object(o->labels, o->n_labels));
    if (o->subnet) {
        json_t *cfg = json_pack("{s:s}", "Subnet", o->subnet);
        if (cfg && o->gateway)
            json_object_set_new(cfg, "Gateway", json_string(o->gateway));
        json_object_set_new(b, "IPAM",
                            json_pack("{s:s,s:[o]}", "Driver", "default", "Config", cfg));
    }
    return b;
}

json_t *docker_exec_create_body(const docker_exec_opts *o) {
    json_t *b;

    if (o->n_cmd == 0 || !o->cmd)
        return NULL;
    b = json_object();
    if (!b)
        return NULL;
    json_object_set_new(b, "AttachStdin", json_boolean(o->stdin_data != NULL));
    json_object_set_new(b, "AttachStdout", json_true());
    json_object_set_new(b, "AttachStderr", json_true());
    json_object_set_new(b, "Tty", json_boolean(o->tty));
    json_object_set_new(b, "Cmd", str_array(o->cmd, o->n_cmd));
    if (o->n_env)
        json_object_set_new(b, "Env", str_array(o->env, o->n_env));
    set_str(b, "User", o->user);
    set_str(b, "WorkingDir", o->working_dir);
    return b;
}

json_t *docker_volume_create_body(const char *name, const docker_kv *labels, size_t n_labels) {
    json_t *lb = kv_object(labels, n_labels);

    return lb ? json_pack("{s:s, s:o}", "Name", name, "Labels", lb) : NULL;
}

int docker_api_error(const char *what, int http_status, const char *body, size_t len, char **msg) {
    json_t *root = NULL;
    const char *m = NULL;
    int rc;

    if (body && len > 0)
        root = json_loadb(body, len, 0, NULL);
    if (root)
        m = json_string_value(json_object_get(root, "message"));
    switch (http_status) {
    case 404: rc = DOCKER_ENOTFOUND; break;
    case 409: rc = DOCKER_ECONFLICT; break;
    default: rc = DOCKER_EAPI; break;
    }
    if (m && strstr(m, "overlaps"))
        rc = DOCKER_EOVERLAP;
    if (m && *m) {
        *msg = strdup(m);
    } else if (body && len > 0 && !root) {
        /* Not JSON: a proxy's page, or plain text. Quote its start. */
        size_t n = len;
        while (n > 0 && (body[n - 1] == '\n' || body[n - 1] == '\r'))
            n--;
        *msg = util_asprintf("%s: HTTP %d from the Docker engine: %.*s", what, http_status,
                             (int)(n > 300 ? 300 : n), body);
    } else {
        *msg = util_asprintf("%s: HTTP %d from the Docker engine", what, http_status);
    }
    json_decref(root);
    return rc;
}

int docker_build_line_parse(const char *line, size_t len, json_t **root, docker_build_progress *p) {
    json_error_t jerr;
    json_t *r, *aux, *ed;
    size_t i = 0;

    memset(p, 0, sizeof(*p));
    *root = NULL;
    while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n'))
        i++;
    if (i == len)
        return 0;
    r = json_loadb(line, len, 0, &jerr);
    if (!r)
        return DOCKER_EPROTO;
    *root = r;
    if (!json_is_object(r))
        return DOCKER_EPROTO;
    p->raw = r;
    p->stream = jstr_or_null(r, "stream");
    p->status = jstr_or_null(r, "status");
    p->progress = jstr_or_null(r, "progress");
    p->id = jstr_or_null(r, "id");
    aux = json_object_get(r, "aux");
    p->aux_id = jstr_or_null(aux, "ID");
    ed = json_object_get(r, "errorDetail");
    p->error = jstr_or_null(ed, "message");
    if (!p->error)
        p->error = jstr_or_null(r, "error");
    if (p->error || ed)
        return DOCKER_EBUILD;
    return 0;
}

int docker_container_info_parse(const json_t *root, docker_container_info *out) {
    const json_t *cfg, *state, *ns, *nets, *ports, *v;
    const char *key;
    size_t n;

    memset(out, 0, sizeof(*out));
    if (!json_is_object(root) || !json_is_string(json_object_get(root, "Id")))
        return DOCKER_EPROTO;
    cfg = json_object_get(root, "Config");
    state = json_object_get(root, "State");
    if (!json_is_object(state))
        return DOCKER_EPROTO;
    out->raw = root;
    out->id = jstr(root, "Id");
    out->name = jstr(root, "Name");
    if (out->name[0] == '/')
        out->name++;
    out->image = jstr(cfg, "Image");
    out->hostname = jstr(cfg, "Hostname");
    out->tty = json_is_true(json_object_get(cfg, "Tty"));
    out->labels = json_object_get(cfg, "Labels");
    if (!json_is_object(out->labels))
        out->labels = NULL;
    out->status = jstr(state, "Status");
    out->running = json_is_true(json_object_get(state, "Running"));
    out->exit_code = (int)json_integer_value(json_object_get(state, "ExitCode"));
    out->pid = json_integer_value(json_object_get(state, "Pid"));
    out->ip_address = "";

    ns = json_object_get(root, "NetworkSettings");
    nets = json_object_get(ns, "Networks");
    if (json_is_object(nets) && (n = json_object_size(nets)) > 0) {
        out->networks = calloc(n, sizeof(*out->networks));
        if (!out->networks)
            return UV_ENOMEM;
        json_object_foreach((json_t *)nets, key, v) {
            docker_endpoint *e = &out->networks[out->n_networks++];
            e->network = key;
            e->ip_address = jstr(v, "IPAddress");
            e->gateway = jstr(v, "Gateway");
            if (!out->ip_address[0])
                out->ip_address = e->ip_address;
        }
    }
    ports = json_object_get(ns, "Ports");
    if (json_is_object(ports)) {
        size_t cap = 0;
        json_object_foreach((json_t *)ports, key, v) {
            cap += json_is_array(v) && json_array_size(v) > 0 ? json_array_size(v) : 1;
        }
        if (cap > 0) {
            out->ports = calloc(cap, sizeof(*out->ports));
            if (!out->ports) {
                docker_container_info_clear(out);
                return UV_ENOMEM;
            }
        }
        json_object_foreach((json_t *)ports, key, v) {
            unsigned long port = strtoul(key, NULL, 10);
            const char *slash = strchr(key, '/');
            docker_port_binding pb;
            memset(&pb, 0, sizeof(pb));
            if (port == 0 || port > 65535)
                continue;
            pb.port = (uint16_t)port;
            snprintf(pb.proto, sizeof(pb.proto), "%s", slash ? slash + 1 : "tcp");
            pb.host_ip = "";
            if (json_is_array(v) && json_array_size(v) > 0) {
                size_t i;
                json_t *b;
                json_array_foreach(v, i, b) {
                    unsigned long hp = strtoul(jstr(b, "HostPort"), NULL, 10);
                    pb.host_ip = jstr(b, "HostIp");
                    pb.host_port = hp <= 65535 ? (uint16_t)hp : 0;
                    out->ports[out->n_ports++] = pb;
                }
            } else {
                out->ports[out->n_ports++] = pb;
            }
        }
    }
    return 0;
}

void docker_container_info_clear(docker_container_info *info) {
    free(info->networks);
    free(info->ports);
    info->networks = NULL;
    info->ports = NULL;
    info->n_networks = info->n_ports = 0;
}

uint16_t docker_container_host_port(const docker_container_info *info, uint16_t port,
                                    const char *proto) {
    if (!proto)
        proto = "tcp";
    for (size_t i = 0; i < info->n_ports; i++)
        if (info->ports[i].port == port && strcmp(info->ports[i].proto, proto) == 0 &&
            info->ports[i].host_port)
            return info->ports[i].host_port;
    return 0;
}

int docker_network_info_parse(const json_t *root, docker_network_info *out) {
    const json_t *cfg;

    memset(out, 0, sizeof(*out));
    if (!json_is_object(root) || !json_is_string(json_object_get(root, "Id")))
        return DOCKER_EPROTO;
    out->raw = root;
    out->id = jstr(root, "Id");
    out->name = jstr(root, "Name");
    out->driver = jstr(root, "Driver");
    cfg = json_array_get(json_object_get(json_object_get(root, "IPAM"), "Config"), 0);
    out->subnet = jstr(cfg, "Subnet");
    out->gateway = jstr(cfg, "Gateway");
    out->labels = json_object_get(root, "Labels");
    if (!json_is_object(out->labels))
        out->labels = NULL;
    return 0;
}

int docker_image_info_parse(const json_t *root, docker_image_info *out) {
    memset(out, 0, sizeof(*out));
    if (!json_is_object(root) || !json_is_string(json_object_get(root, "Id")))
        return DOCKER_EPROTO;
    out->raw = root;
    out->id = jstr(root, "Id");
    out->size = json_integer_value(json_object_get(root, "Size"));
    out->labels = json_object_get(json_object_get(root, "Config"), "Labels");
    if (!json_is_object(out->labels))
        out->labels = NULL;
    return 0;
}

void docker_version_parse(const json_t *root, docker_version *v) {
    v->version = jstr(root, "Version");
    v->api_version = jstr(root, "ApiVersion");
    v->min_api_version = jstr(root, "MinAPIVersion");
    v->os = jstr(root, "Os");
    v->arch = jstr(root, "Arch");
    v->kernel_version = jstr(root, "KernelVersion");
}

int docker_list_parse(const json_t *root, docker_object **out, size_t *n_out) {
    const json_t *list = root, *o;
    docker_object *objs;
    size_t i, n;

    *out = NULL;
    *n_out = 0;
    /* Volumes come as {"Volumes": [...], "Warnings": ...}. */
    if (json_is_object(root) && json_is_array(json_object_get(root, "Volumes")))
        list = json_object_get(root, "Volumes");
    if (!json_is_array(list))
        return DOCKER_EPROTO;
    n = json_array_size(list);
    objs = calloc(n ? n : 1, sizeof(*objs));
    if (!objs)
        return UV_ENOMEM;
    json_array_foreach(list, i, o) {
        const char *name = jstr_or_null(o, "Name");
        json_t *arr;
        if (!name && (arr = json_object_get(o, "Names")) && json_array_size(arr) > 0) {
            name = json_string_value(json_array_get(arr, 0));
            if (name && name[0] == '/')
                name++;
        }
        if (!name && (arr = json_object_get(o, "RepoTags")) && json_array_size(arr) > 0)
            name = json_string_value(json_array_get(arr, 0));
        objs[i].id = jstr_or_null(o, "Id") ? jstr(o, "Id") : name ? name : "";
        objs[i].name = name ? name : "";
        objs[i].labels =
            json_is_object(json_object_get(o, "Labels")) ? json_object_get(o, "Labels") : NULL;
        objs[i].state = jstr_or_null(o, "State");
        objs[i].raw = o;
        /* Only containers give an integer (networks an RFC 3339 string). */
        objs[i].created = json_is_integer(json_object_get(o, "Created"))
                              ? (int64_t)json_integer_value(json_object_get(o, "Created"))
                              : 0;
    }
    *out = objs;
    *n_out = n;
    return 0;
}
