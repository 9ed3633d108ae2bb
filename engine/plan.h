/* The cluster plan: from a distribution's descriptor, a cluster name, a
 * datanode count and a subnet, every node the cluster will have: its
 * container name, hostname, znode and static address, and the /etc/hosts
 * lines every node gets. Pure: no I/O, so `hdc up` can refuse bad input
 * before it creates anything, and the tests need no Docker.
 */
#ifndef HDC_PLAN_H
#define HDC_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "err.h" /* PLAN_EINVAL */
#include "hdc/plugin.h"

#define PLAN_MAX_NAME     32
#define PLAN_DEFAULT_POOL "172.29.0.0/16:24"
#define PLAN_ZK_PORT      2181

/* HDC_SUBNET_POOL: "BASE/PREFIX[:SIZE]", e.g. 172.29.0.0/16:24, the
 * range cluster subnets (of /SIZE each) are taken from. */
typedef struct plan_pool {
    uint32_t base;   /* host order */
    unsigned prefix; /* of the pool */
    unsigned size;   /* of each cluster's subnet */
} plan_pool;

typedef struct plan_node {
    const hdc_service *svc; /* NULL for ZooKeeper, which the engine runs */
    const char *service;    /* "zookeeper", "datanode" */
    unsigned instance;      /* 1..N */
    int is_client;          /* HDC_SERVICE_CLIENT: planned (its address is
                                     in every /etc/hosts), created by `hdc client` */
    char container[96];     /* "apache260_datanode_2" */
    char hostname[64];      /* "datanode2" */
    char znode[72];         /* "/datanode2": the agent's rendezvous */
    char address[16];       /* "172.29.3.4" */
} plan_node;

typedef struct plan {
    char cluster[PLAN_MAX_NAME + 1];
    char network[PLAN_MAX_NAME + 5]; /* "hdc_<cluster>" */
    const hdc_plugin_desc *desc;
    unsigned datanodes;
    char subnet[20];  /* "172.29.3.0/24" */
    char gateway[16]; /* "172.29.3.1" */
    plan_node *nodes; /* ZooKeeper first, then the services in order */
    size_t n_nodes;
    char **extra_hosts; /* "hostname:address" for every node, NULL-terminated */
} plan;

/* Cluster names: [a-z0-9][a-z0-9-]{0,31} (docs/cli.md). 0, or PLAN_EINVAL with
 * the reason in err, where the name and the offending character are shown
 * as plan_escape shows them ("has 'é' (U+00E9)", "has '\xff'"). */
int plan_name_check(const char *name, char *err, size_t err_len);

/* The test user's name (--test-user, HDC_TEST_USER), as useradd takes it:
 * 1 to 32 of a-z, 0-9, '_' and '-', starting with a letter or '_'; not
 * root. what names where it came from ("--test-user"). 0, or PLAN_EINVAL
 * with the reason in err. */
int plan_user_check(const char *what, const char *user, char *err, size_t err_len);

/* The classic default name: the distribution without punctuation,
 * "apache_2.6.0" -> "apache260". PLAN_EINVAL if that is not a valid name. */
int plan_default_name(const char *dist, char *out, size_t out_len);

/* A string someone gave (a name, an argument) as a message may quote it:
 * printable ASCII and valid UTF-8 characters from U+00A0 up as they are,
 * every other byte (a control character, a byte that is not UTF-8) as
 * \xNN, so that the message is valid text that moves no terminal. Cut
 * with "..." where it does not fit in out (never inside a character).
 * out is always NUL-terminated (out_len > 0); returns out. */
const char *plan_escape(const char *s, char *out, size_t out_len);

/* Parses spec (NULL: PLAN_DEFAULT_POOL). A pool that overlaps a range no
 * Docker bridge may take (0.0.0.0/8, loopback 127.0.0.0/8, link-local
 * 169.254.0.0/16, multicast 224.0.0.0/4, reserved 240.0.0.0/4) is
 * refused. */
int plan_pool_parse(const char *spec, plan_pool *pool, char *err, size_t err_len);
/* How many subnets the pool holds. */
uint32_t plan_pool_count(const plan_pool *pool);
/* Where a cluster of that name starts looking in the pool: spread by a
 * hash of the name, so clusters started together rarely try the same
 * subnet; on overlap the caller tries index + 1, ... */
uint32_t plan_pool_start(const plan_pool *pool, const char *cluster);

/* Plans cluster `name` of desc with that many datanodes in subnet `index`
 * of pool (taken modulo its count). p is freed with plan_free, also after
 * a failure. */
int plan_make(plan *p, const hdc_plugin_desc *desc, const char *name, unsigned datanodes,
              const plan_pool *pool, uint32_t index, char *err, size_t err_len);
/* Re-addresses p for subnet `index` (after an overlap). */
void plan_readdress(plan *p, const plan_pool *pool, uint32_t index);
void plan_free(plan *p);

/* The first node of service (instance 1), or NULL. */
const plan_node *plan_find(const plan *p, const char *service);

#endif
