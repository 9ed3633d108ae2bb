/* The cluster plan: every node of a cluster, named and addressed before
 * anything is created.
 *
 * Decisions a newcomer might question:
 * - Addresses are static and assigned here, in a fixed order (ZooKeeper
 *   first, then the descriptor's services, instances in order), so every
 *   node's /etc/hosts can be complete when its container is created: no
 *   node ever resolves a peer that is not there yet, and nothing rewrites
 *   /etc/hosts later (the classic scripts' weakness).
 * - The client node is planned with the rest though `hdc up` does not
 *   create it: its address is reserved and in every /etc/hosts, so a
 *   client started later resolves, and is resolved by, every node.
 * - Each instance has its own znode, named after its hostname: with three
 *   datanodes, three agents report, and a WAIT step waits for all three.
 */
#include "plan.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "plugin_host.h"

static int fail(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t err_len, const char *fmt, ...) {
    va_list ap;

    if (err != NULL && err_len > 0) {
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return PLAN_EINVAL;
}

/* The length of the UTF-8 character at s (1 to 4) and its code point, or
 * 0 when s does not start a valid one (overlong, a surrogate, past
 * U+10FFFF, cut short). */
static size_t utf8_char(const unsigned char *s, uint32_t *cp) {
    size_t n;
    uint32_t c, min;

    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xe0) == 0xc0)
        n = 2;
    else if ((s[0] & 0xf0) == 0xe0)
        n = 3;
    else if ((s[0] & 0xf8) == 0xf0)
        n = 4;
    else
        return 0;
    c = s[0] & (0x7fu >> n); /* the lead byte's payload */
    min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) /* the NUL of a string cut short too */
            return 0;
        c = c << 6 | (s[i] & 0x3fu);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return n;
}

/* The character at p as a message shows it, in unit (NUL-terminated): itself
 * if it is printable, else each of its bytes as \xNN (one byte if p does not
 * start a UTF-8 character). *adv: the bytes it takes in p; *cp: its code
 * point, or -1 for a byte that is not UTF-8. Returns unit's length. */
static size_t show_char(const unsigned char *p, char unit[17], size_t *adv, long *cp) {
    uint32_t c = 0;
    size_t n = utf8_char(p, &c), len = 0;

    *cp = n > 0 ? (long)c : -1;
    if (n > 0 && ((c >= 0x20 && c < 0x7f) || c >= 0xa0)) {
        memcpy(unit, p, n);
        unit[n] = '\0';
        *adv = n;
        return n;
    }
    *adv = n > 0 ? n : 1;
    for (size_t i = 0; i < *adv; i++)
        len += (size_t)snprintf(unit + len, 17 - len, "\\x%02x", p[i]);
    return len;
}

const char *plan_escape(const char *s, char *out, size_t out_len) {
    const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
    size_t total = 0, used = 0, room;
    char unit[17];
    size_t adv;
    long cp;

    if (out_len == 0)
        return out;
    for (const unsigned char *q = p; *q != '\0'; q += adv)
        total += show_char(q, unit, &adv, &cp);
    /* All of it, or what fits before "...". */
    room = total < out_len || out_len < 4 ? out_len - 1 : out_len - 4;
    for (; *p != '\0'; p += adv) {
        size_t len = show_char(p, unit, &adv, &cp);
        if (used + len > room)
            break;
        memcpy(out + used, unit, len);
        used += len;
    }
    if (*p != '\0' && out_len >= 4) {
        memcpy(out + used, "...", 3);
        used += 3;
    }
    out[used] = '\0';
    return out;
}

int plan_name_check(const char *name, char *err, size_t err_len) {
    size_t len = name != NULL ? strlen(name) : 0;
    char shown[160];

    if (len == 0)
        return fail(err, err_len, "a cluster name cannot be empty");
    plan_escape(name, shown, sizeof(shown));
    if (len > PLAN_MAX_NAME)
        return fail(err, err_len, "cluster name '%s' is longer than %d characters", shown,
                    PLAN_MAX_NAME);
    if (!islower((unsigned char)name[0]) && !isdigit((unsigned char)name[0]))
        return fail(err, err_len, "cluster name '%s' must start with a lowercase letter or a digit",
                    shown);
    for (size_t i = 1; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        char unit[17], code[16] = "";
        size_t adv;
        long cp;

        if (islower(c) || isdigit(c) || c == '-')
            continue;
        show_char((const unsigned char *)name + i, unit, &adv, &cp);
        if (cp >= 0x80 || (cp >= 0 && cp < 0x20) || cp == 0x7f)
            snprintf(code, sizeof(code), " (U+%04lX)", (unsigned long)cp);
        return fail(err, err_len, "cluster name '%s' has '%s'%s: use only a-z, 0-9 and '-'", shown,
                    unit, code);
    }
    return 0;
}

int plan_user_check(const char *what, const char *user, char *err, size_t err_len) {
    size_t len = user != NULL ? strlen(user) : 0;
    int ok = len > 0 && len <= 32 && (islower((unsigned char)user[0]) || user[0] == '_');

    for (size_t i = 1; ok && i < len; i++) {
        unsigned char c = (unsigned char)user[i];
        ok = islower(c) || isdigit(c) || c == '_' || c == '-';
    }
    if (!ok) {
        char shown[160];
        return fail(err, err_len,
                    "%s '%s': a user name is 1 to 32 of a-z, 0-9, '_' and '-', starting with a "
                    "letter or '_'",
                    what, plan_escape(user, shown, sizeof(shown)));
    }
    if (strcmp(user, "root") == 0)
        return fail(err, err_len,
                    "%s 'root': the test user is an unprivileged user: choose another", what);
    return 0;
}

int plan_default_name(const char *dist, char *out, size_t out_len) {
    size_t n = 0;

    for (const char *s = dist; *s != '\0'; s++) {
        if (!isalnum((unsigned char)*s))
            continue;
        if (n + 1 >= out_len)
            return PLAN_EINVAL;
        out[n++] = (char)tolower((unsigned char)*s);
    }
    if (out_len == 0)
        return PLAN_EINVAL;
    out[n] = '\0';
    return plan_name_check(out, NULL, 0);
}

/* Ranges no bridge of Docker's may take: a cluster's subnet there would
 * break the host (loopback, link-local) or could not carry unicast. */
static const struct {
    uint32_t base;
    unsigned prefix;
    const char *cidr, *what;
} forbidden[] = {
    {0x00000000u, 8, "0.0.0.0/8", "'this network'"},   {0x7f000000u, 8, "127.0.0.0/8", "loopback"},
    {0xa9fe0000u, 16, "169.254.0.0/16", "link-local"}, {0xe0000000u, 4, "224.0.0.0/4", "multicast"},
    {0xf0000000u, 4, "240.0.0.0/4", "reserved"},
};

int plan_pool_parse(const char *spec, plan_pool *pool, char *err, size_t err_len) {
    char addr[32], shown[160];
    unsigned long prefix, size = 24;
    const char *slash;
    char *end;
    struct in_addr in;
    uint32_t base, mask;

    if (spec == NULL || *spec == '\0')
        spec = PLAN_DEFAULT_POOL;
    plan_escape(spec, shown, sizeof(shown));
    /* BASE/PREFIX, then either nothing or :SIZE. */
    slash = strchr(spec, '/');
    if (slash == NULL || (size_t)(slash - spec) >= sizeof(addr))
        goto malformed;
    memcpy(addr, spec, (size_t)(slash - spec));
    addr[slash - spec] = '\0';
    if (inet_pton(AF_INET, addr, &in) != 1 || !isdigit((unsigned char)slash[1]))
        goto malformed;
    prefix = strtoul(slash + 1, &end, 10);
    if (*end == ':') {
        if (!isdigit((unsigned char)end[1]))
            goto malformed;
        size = strtoul(end + 1, &end, 10);
    }
    if (*end != '\0')
        goto malformed;
    if (prefix < 8 || prefix > 28 || size < prefix || size > 28)
        return fail(err, err_len,
                    "subnet pool '%s': the pool's prefix must be 8..28 and the "
                    "cluster subnets' size between it and 28: fix HDC_SUBNET_POOL",
                    shown);
    base = ntohl(in.s_addr);
    mask = ~0u << (32 - prefix);
    for (size_t i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
        unsigned shorter = forbidden[i].prefix < prefix ? forbidden[i].prefix : (unsigned)prefix;
        uint32_t m = ~0u << (32 - shorter);

        if ((base & m) == (forbidden[i].base & m))
            return fail(err, err_len,
                        "subnet pool '%s' overlaps %s (%s), where no Docker bridge may be: "
                        "set HDC_SUBNET_POOL in a private range (10.0.0.0/8, 172.16.0.0/12, "
                        "192.168.0.0/16), e.g. %s",
                        shown, forbidden[i].cidr, forbidden[i].what, PLAN_DEFAULT_POOL);
    }
    if ((base & ~mask) != 0)
        return fail(err, err_len,
                    "subnet pool '%s': %s has bits set past /%lu: use %u.%u.%u.%u/%lu", shown, addr,
                    prefix, (base & mask) >> 24, ((base & mask) >> 16) & 255,
                    ((base & mask) >> 8) & 255, (base & mask) & 255, prefix);
    pool->base = base;
    pool->prefix = (unsigned)prefix;
    pool->size = (unsigned)size;
    return 0;

malformed:
    return fail(err, err_len,
                "subnet pool '%s' is not BASE/PREFIX[:SIZE] (e.g. %s): fix HDC_SUBNET_POOL", shown,
                PLAN_DEFAULT_POOL);
}

uint32_t plan_pool_count(const plan_pool *pool) {
    return (uint32_t)1 << (pool->size - pool->prefix);
}

uint32_t plan_pool_start(const plan_pool *pool, const char *cluster) {
    uint32_t h = 2166136261u; /* FNV-1a */

    for (const char *s = cluster; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h % plan_pool_count(pool);
}

static void format_ip(uint32_t ip, char out[16]) {
    snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

static int build_hosts(plan *p) {
    if (p->extra_hosts != NULL) {
        for (char **h = p->extra_hosts; *h != NULL; h++)
            free(*h);
        free(p->extra_hosts);
    }
    p->extra_hosts = calloc(p->n_nodes + 1, sizeof(char *));
    if (p->extra_hosts == NULL)
        return UV_ENOMEM;
    for (size_t i = 0; i < p->n_nodes; i++) {
        size_t len = strlen(p->nodes[i].hostname) + strlen(p->nodes[i].address) + 2;
        p->extra_hosts[i] = malloc(len);
        if (p->extra_hosts[i] == NULL)
            return UV_ENOMEM;
        snprintf(p->extra_hosts[i], len, "%s:%s", p->nodes[i].hostname, p->nodes[i].address);
    }
    return 0;
}

void plan_readdress(plan *p, const plan_pool *pool, uint32_t index) {
    uint32_t span = (uint32_t)1 << (32 - pool->size);
    uint32_t net = pool->base + (index % plan_pool_count(pool)) * span;
    char ip[16];

    format_ip(net, ip);
    snprintf(p->subnet, sizeof(p->subnet), "%s/%u", ip, pool->size);
    format_ip(net + 1, p->gateway);
    for (size_t i = 0; i < p->n_nodes; i++)
        format_ip(net + 2 + (uint32_t)i, p->nodes[i].address);
    build_hosts(p);
}

static int add(plan *p, const hdc_service *svc, const char *service, unsigned instance,
               int numbered) {
    plan_node *n = &p->nodes[p->n_nodes++];
    const char *host = svc != NULL && svc->hostname != NULL ? svc->hostname : service;

    n->svc = svc;
    n->service = service;
    n->instance = instance;
    n->is_client = svc != NULL && (svc->flags & HDC_SERVICE_CLIENT) != 0;
    snprintf(n->container, sizeof(n->container), "%s_%s_%u", p->cluster, service, instance);
    if (numbered)
        snprintf(n->hostname, sizeof(n->hostname), "%s%u", host, instance);
    else
        snprintf(n->hostname, sizeof(n->hostname), "%s", host);
    snprintf(n->znode, sizeof(n->znode), "/%s", n->hostname);
    return 0;
}

int plan_make(plan *p, const hdc_plugin_desc *desc, const char *name, unsigned datanodes,
              const plan_pool *pool, uint32_t index, char *err, size_t err_len) {
    size_t total = 1;
    uint32_t usable = ((uint32_t)1 << (32 - pool->size)) - 3; /* net, gateway, broadcast */
    int rc;

    memset(p, 0, sizeof(*p));
    rc = plan_name_check(name, err, err_len);
    if (rc != 0)
        return rc;
    if (datanodes < 1 || datanodes > PLUGIN_MAX_INSTANCES)
        return fail(err, err_len, "--datanodes %u: it must be between 1 and %d", datanodes,
                    PLUGIN_MAX_INSTANCES);
    snprintf(p->cluster, sizeof(p->cluster), "%s", name);
    snprintf(p->network, sizeof(p->network), "hdc_%s", name);
    p->desc = desc;
    p->datanodes = datanodes;
    for (const hdc_service *s = desc->services; s != NULL && s->name != NULL; s++)
        total += plugin_instances(s, datanodes);
    if (total > usable)
        return fail(err, err_len,
                    "%zu nodes do not fit in a /%u subnet (%u addresses): ask for fewer "
                    "datanodes or set HDC_SUBNET_POOL with a larger size",
                    total, pool->size, usable);
    p->nodes = calloc(total, sizeof(*p->nodes));
    if (p->nodes == NULL)
        return UV_ENOMEM;
    add(p, NULL, "zookeeper", 1, 0);
    for (const hdc_service *s = desc->services; s != NULL && s->name != NULL; s++) {
        unsigned count = plugin_instances(s, datanodes);
        int numbered = s->instances > 1 || s->instances == HDC_COUNT_DATANODES;
        for (unsigned i = 1; i <= count; i++)
            add(p, s, s->name, i, numbered);
    }
    plan_readdress(p, pool, index);
    if (p->extra_hosts == NULL || p->extra_hosts[p->n_nodes - 1] == NULL)
        return UV_ENOMEM;
    return 0;
}

void plan_free(plan *p) {
    if (p->extra_hosts != NULL) {
        for (char **h = p->extra_hosts; *h != NULL; h++)
            free(*h);
        free(p->extra_hosts);
    }
    free(p->nodes);
    memset(p, 0, sizeof(*p));
}

const plan_node *plan_find(const plan *p, const char *service) {
    for (size_t i = 0; i < p->n_nodes; i++)
        if (strcmp(p->nodes[i].service, service) == 0)
            return &p->nodes[i];
    return NULL;
}
