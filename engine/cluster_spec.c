/* A node's container as hdc creates it (cluster_spec.h): pure, so that
 * `hdc up` and `hdc client` create alike and tests/unit/test_cluster_spec.c
 * checks it without Docker.
 */
#include "cluster_spec.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "plugin_host.h"
#include "util.h"

/* ---- memory ---- */

static uint64_t declared_memory(const plan_node *n) {
    return n->svc == NULL ? CLUSTER_ZK_MEMORY_MB : plugin_memory_mb(n->svc);
}

uint64_t cluster_memory_min(const plan *p) {
    uint64_t sum = 0;

    for (size_t i = 0; i < p->n_nodes; i++)
        if (!p->nodes[i].is_client)
            sum += declared_memory(&p->nodes[i]);
    return sum;
}

/* value scaled by budget / minimum, rounded down; value when no budget. */
static unsigned scaled(const plan *p, const plan_node *n, uint64_t value, unsigned budget_mb) {
    uint64_t min = cluster_memory_min(p);

    if (budget_mb == 0 || n->is_client || min == 0 || budget_mb <= min)
        return (unsigned)value;
    return (unsigned)(value * budget_mb / min);
}

unsigned cluster_memory_of(const plan *p, const plan_node *n, unsigned budget_mb) {
    return scaled(p, n, declared_memory(n), budget_mb);
}

unsigned cluster_heap_of(const plan *p, const plan_node *n, unsigned budget_mb) {
    return n->svc == NULL ? 0 : scaled(p, n, plugin_heap_mb(n->svc), budget_mb);
}

int cluster_memory_check(const plan *p, unsigned budget_mb, char *err, size_t err_len) {
    uint64_t min = cluster_memory_min(p);

    if (budget_mb == 0 || budget_mb >= min)
        return 0;
    util_set_err(err, err_len,
                 "%s: --memory %u MB is below the cluster's minimum, %llu MB (the sum of the "
                 "memory the plugin %s declares for each of its containers with %u datanode%s, "
                 "ZooKeeper's %d MB included): give --memory %llu or more, or leave it out",
                 p->cluster, budget_mb, (unsigned long long)min, p->desc->name, p->datanodes,
                 p->datanodes == 1 ? "" : "s", CLUSTER_ZK_MEMORY_MB, (unsigned long long)min);
    return PLAN_EINVAL;
}

/* HDC_<WHAT>_<SERVICE>=value: the service's name in capitals, '-' as '_'. */
static void service_var(char *out, size_t len, const char *what, const char *service,
                        unsigned value) {
    size_t used = (size_t)snprintf(out, len, "HDC_%s_", what);

    for (const char *c = service; *c != '\0' && used + 1 < len; c++)
        out[used++] = *c == '-' ? '_' : (char)toupper((unsigned char)*c);
    snprintf(out + used, len - used, "=%u", value);
}

void cluster_image_ref(const hdc_plugin_desc *desc, const char *image, char *out, size_t len) {
    if (strchr(image, '/') != NULL || strchr(image, ':') != NULL)
        snprintf(out, len, "%s", image);
    else
        snprintf(out, len, "hdc/%s-%s:latest", desc->name, image);
}

void cluster_images_ref(const cluster_images *images, const hdc_plugin_desc *desc,
                        const char *image, char *out, size_t len) {
    for (size_t i = 0; images != NULL && i < images->n; i++)
        if (strcmp(images->name[i], image) == 0) {
            snprintf(out, len, "%s", images->ref[i]);
            return;
        }
    cluster_image_ref(desc, image, out, len);
}

size_t cluster_labels(const plan *p, const cluster_identity *id, docker_kv *out,
                      cluster_label_bufs *bufs) {
    size_t n = 0;

    out[n++] = (docker_kv){"hdc.cluster", p->cluster};
    out[n++] = (docker_kv){"hdc.dist", p->desc->name};
    if (id == NULL)
        return n;
    if (id->owner != NULL)
        out[n++] = (docker_kv){"hdc.owner", id->owner};
    snprintf(bufs->created, sizeof(bufs->created), "%lld", (long long)id->created);
    out[n++] = (docker_kv){"hdc.created", bufs->created};
    if (id->expires > 0) {
        snprintf(bufs->expires, sizeof(bufs->expires), "%lld", (long long)id->expires);
        out[n++] = (docker_kv){"hdc.expires", bufs->expires};
    }
    if (id->logs_dir != NULL)
        out[n++] = (docker_kv){"hdc.logs", id->logs_dir};
    if (id->keys_dir != NULL)
        out[n++] = (docker_kv){"hdc.keys", id->keys_dir};
    return n;
}

void cluster_container_spec(const cluster_spec_in *in, cluster_spec *sp) {
    const plan *p = in->plan;
    const plan_node *n = in->node;
    const hdc_service *svc = n->svc;
    const hdc_plugin_desc *image_desc = in->image_desc != NULL ? in->image_desc : p->desc;
    docker_container_opts *o = &sp->opts;
    size_t n_env = 0, n_cmd = 0, n_ports = 0, n_binds = 0, n_labels;

    memset(sp, 0, sizeof(*sp));
    n_labels = cluster_labels(p, in->id, sp->labels, &sp->label_bufs);
    snprintf(sp->label_bufs.datanodes, sizeof(sp->label_bufs.datanodes), "%u", p->datanodes);
    sp->labels[n_labels++] = (docker_kv){"hdc.service", n->service};
    sp->labels[n_labels++] = (docker_kv){"hdc.hostname", n->hostname};
    sp->labels[n_labels++] = (docker_kv){"hdc.datanodes", sp->label_bufs.datanodes};
    /* What `hdc start` gives the steps again, and `hdc client` the node. */
    sp->labels[n_labels++] =
        (docker_kv){"hdc.test-user", in->test_user != NULL ? in->test_user : "hdc"};
    if (in->memory_mb > 0) {
        snprintf(sp->label_bufs.memory, sizeof(sp->label_bufs.memory), "%u", in->memory_mb);
        sp->labels[n_labels++] = (docker_kv){"hdc.memory", sp->label_bufs.memory};
    }
    /* Its static address: Docker forgets it when the node is taken off the
     * network (`hdc fault NAME NODE disconnect`), and reconnecting must
     * give it back (cluster_heal.c). */
    sp->labels[n_labels++] = (docker_kv){"hdc.address", n->address};

    if (svc == NULL) {
        snprintf(sp->image, sizeof(sp->image), "%s",
                 in->images != NULL && in->images->zookeeper[0] != '\0' ? in->images->zookeeper
                                                                        : CLUSTER_ZK_IMAGE);
        sp->ports[n_ports++] = (docker_port){.port = PLAN_ZK_PORT,
                                             .host_port = in->publish_classic ? PLAN_ZK_PORT : 0};
    } else {
        cluster_images_ref(in->images, image_desc, svc->image, sp->image, sizeof(sp->image));
        snprintf(sp->env_buf[n_env++], sizeof(sp->env_buf[0]), "HDC_CLUSTER=%s", p->cluster);
        snprintf(sp->env_buf[n_env++], sizeof(sp->env_buf[0]), "HDC_DIST=%s", p->desc->name);
        snprintf(sp->env_buf[n_env++], sizeof(sp->env_buf[0]), "HDC_SERVICE=%s", n->service);
        snprintf(sp->env_buf[n_env++], sizeof(sp->env_buf[0]), "HDC_INSTANCE=%u", n->instance);
        snprintf(sp->env_buf[n_env++], sizeof(sp->env_buf[0]), "HDC_DATANODES=%u", p->datanodes);
        snprintf(sp->env_buf[n_env++], sizeof(sp->env_buf[0]), "HDC_TEST_USER=%s",
                 in->test_user != NULL ? in->test_user : "hdc");
        snprintf(sp->env_buf[n_env++], sizeof(sp->env_buf[0]), "HDC_ZK=zookeeper:%d", PLAN_ZK_PORT);
        snprintf(sp->env_buf[n_env++], sizeof(sp->env_buf[0]), "HDC_HEAP_MB=%u",
                 cluster_heap_of(p, n, in->memory_mb));
        snprintf(sp->env_buf[n_env++], sizeof(sp->env_buf[0]), "HDC_MEMORY_MB=%u",
                 cluster_memory_of(p, n, in->memory_mb));
        /* Every service's, from its first node, for the cluster's
         * configuration (a nodemanager's limits in every yarn-site.xml). */
        for (size_t i = 0; i < p->n_nodes && n_env + 2 <= 40; i++) {
            const plan_node *other = &p->nodes[i];
            if (other->svc == NULL || other->instance > 1)
                continue;
            service_var(sp->env_buf[n_env++], sizeof(sp->env_buf[0]), "HEAP", other->service,
                        cluster_heap_of(p, other, in->memory_mb));
            service_var(sp->env_buf[n_env++], sizeof(sp->env_buf[0]), "MEMORY", other->service,
                        cluster_memory_of(p, other, in->memory_mb));
        }
        for (size_t i = 0; i < n_env; i++)
            sp->env[i] = sp->env_buf[i];
        for (const char *const *e = svc->env; e != NULL && *e != NULL && n_env < 72; e++)
            sp->env[n_env++] = *e;
        for (size_t i = 0; i < in->n_extra_env && n_env < 80; i++)
            sp->env[n_env++] = in->extra_env[i];
        for (const hdc_port *pt = svc->ports; pt != NULL && pt->role != NULL && n_ports < 16;
             pt++) {
            /* Several instances cannot share a fixed host port: only the
             * first gets the classic one. */
            int fixed = in->publish_classic && n->instance == 1;
            sp->ports[n_ports] = (docker_port){.port = (uint16_t)pt->port,
                                               .host_port = fixed ? (uint16_t)pt->port : 0};
            if (in->host_port_of != NULL && strcmp(pt->role, in->host_port_of) == 0)
                sp->ports[n_ports].host_port = in->host_port;
            n_ports++;
        }
        for (const hdc_volume *v = svc->volumes; v != NULL && v->name != NULL && n_binds < 8; v++) {
            /* nocopy: Docker would otherwise copy the image's files into a
             * new volume at each container's create, and containers created
             * at the same instant collide ("file exists"). A shared volume
             * starts empty, as the classic host directory did. */
            snprintf(sp->bind_buf[n_binds], sizeof(sp->bind_buf[0]), "hdc_%s_%s:%s:nocopy",
                     p->cluster, v->name, v->path);
            sp->binds[n_binds] = sp->bind_buf[n_binds];
            n_binds++;
        }
        /* The entrypoint is the image's hdc-agent. */
        snprintf(sp->service_arg, sizeof(sp->service_arg), "%s", n->znode + 1);
        sp->cmd[n_cmd++] = "--zk";
        sp->cmd[n_cmd++] = "zookeeper:2181";
        sp->cmd[n_cmd++] = "--service";
        sp->cmd[n_cmd++] = sp->service_arg;
        if (in->boot_timeout_s > 0) {
            snprintf(sp->boot_timeout, sizeof(sp->boot_timeout), "%u", in->boot_timeout_s);
            sp->cmd[n_cmd++] = "--boot-timeout";
            sp->cmd[n_cmd++] = sp->boot_timeout;
        }
        if (svc->user != NULL) {
            sp->cmd[n_cmd++] = "--user";
            sp->cmd[n_cmd++] = svc->user;
        }
        if (svc->ready_port != NULL) {
            snprintf(sp->ready_port, sizeof(sp->ready_port), "tcp:%d",
                     plugin_port(svc, svc->ready_port)->port);
            sp->cmd[n_cmd++] = "--ready";
            sp->cmd[n_cmd++] = sp->ready_port;
        }
        if (svc->ready != NULL) {
            snprintf(sp->ready_sh, sizeof(sp->ready_sh), "sh:%s", svc->ready);
            sp->cmd[n_cmd++] = "--ready";
            sp->cmd[n_cmd++] = sp->ready_sh;
        }
        sp->cmd[n_cmd++] = "--";
        sp->cmd[n_cmd++] = "/bin/sh";
        sp->cmd[n_cmd++] = "-c";
        sp->cmd[n_cmd++] = svc->daemon != NULL ? svc->daemon : "exec sleep infinity";
    }
    sp->aliases[0] = n->hostname;
    o->name = n->container;
    o->image = sp->image;
    o->hostname = n->hostname;
    o->labels = sp->labels;
    o->n_labels = n_labels;
    o->env = sp->env;
    o->n_env = n_env;
    o->cmd = sp->cmd;
    o->n_cmd = n_cmd;
    o->network = in->network;
    o->ipv4 = n->address;
    o->aliases = sp->aliases;
    o->n_aliases = 1;
    o->extra_hosts = (const char *const *)p->extra_hosts;
    o->n_extra_hosts = p->n_nodes;
    o->ports = sp->ports;
    o->n_ports = n_ports;
    o->binds = sp->binds;
    o->n_binds = n_binds;
    /* A client node is the user's test environment: limited only when its
     * plugin says how much it gets. */
    o->memory_mb = n->is_client && (n->svc == NULL || n->svc->memory_mb == 0)
                       ? 0
                       : cluster_memory_of(p, n, in->memory_mb);
}
