/* The cluster plan: names, the subnet pool, node naming and addressing, and
 * the /etc/hosts lines, on a descriptor shaped like a Hadoop distribution. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "plan.h"

static const hdc_service services[] = {
    {.name = "namenode", .image = "hadoop"},
    {.name = "datanode", .image = "hadoop", .instances = HDC_COUNT_DATANODES},
    {.name = "resourcemanager", .image = "hadoop", .hostname = "rm"},
    {.name = "journal", .image = "hadoop", .instances = 2},
    {.name = "client", .image = "client", .flags = HDC_SERVICE_CLIENT},
    {0},
};
static const hdc_plugin_desc desc = {HDC_PLUGIN_HEADER, .name = "apache_2.6.0",
                                     .services = services};

static void names_follow_the_cli_contract(void **state) {
    char err[256];

    assert_int_equal(plan_name_check("apache260", err, sizeof(err)), 0);
    assert_int_equal(plan_name_check("0-a-b", err, sizeof(err)), 0);
    assert_int_equal(plan_name_check("abcdefghijklmnopqrstuvwxyz012345", err, sizeof(err)), 0);
    assert_int_equal(plan_name_check("abcdefghijklmnopqrstuvwxyz0123456", err, sizeof(err)),
                     PLAN_EINVAL);
    assert_non_null(strstr(err, "longer than 32"));
    assert_int_equal(plan_name_check("-a", err, sizeof(err)), PLAN_EINVAL);
    assert_non_null(strstr(err, "must start"));
    assert_int_equal(plan_name_check("Apache", err, sizeof(err)), PLAN_EINVAL);
    assert_int_equal(plan_name_check("a_b", err, sizeof(err)), PLAN_EINVAL);
    assert_non_null(strstr(err, "'_'"));
    assert_int_equal(plan_name_check("", err, sizeof(err)), PLAN_EINVAL);
    assert_int_equal(plan_name_check(NULL, err, sizeof(err)), PLAN_EINVAL);
}

static void names_in_messages_are_valid_text(void **state) {
    char err[256];

    /* A two-byte character is shown whole, with its code point. */
    assert_int_equal(plan_name_check("caf\xc3\xa9", err, sizeof(err)), PLAN_EINVAL);
    assert_string_equal(err, "cluster name 'caf\xc3\xa9' has '\xc3\xa9' (U+00E9): use only a-z, "
                             "0-9 and '-'");
    assert_int_equal(plan_name_check("a\xe2\x82\xac", err, sizeof(err)), PLAN_EINVAL);
    assert_non_null(strstr(err, "has '\xe2\x82\xac' (U+20AC)"));
    assert_int_equal(plan_name_check("a\xf0\x9f\x90\x98", err, sizeof(err)), PLAN_EINVAL);
    assert_non_null(strstr(err, "(U+1F418)"));
    /* A byte that is not UTF-8 is escaped, in the name too. */
    assert_int_equal(plan_name_check("ab\xff", err, sizeof(err)), PLAN_EINVAL);
    assert_string_equal(err, "cluster name 'ab\\xff' has '\\xff': use only a-z, 0-9 and '-'");
    /* Half of a character, an overlong form, a surrogate. */
    assert_int_equal(plan_name_check("ab\xc3", err, sizeof(err)), PLAN_EINVAL);
    assert_non_null(strstr(err, "has '\\xc3':"));
    assert_int_equal(plan_name_check("a\xc0\xaf", err, sizeof(err)), PLAN_EINVAL);
    assert_non_null(strstr(err, "'a\\xc0\\xaf' has '\\xc0':"));
    assert_int_equal(plan_name_check("a\xed\xa0\x80", err, sizeof(err)), PLAN_EINVAL);
    assert_non_null(strstr(err, "has '\\xed':"));
    /* Control characters, C0 and C1, never reach the terminal raw. */
    assert_int_equal(plan_name_check("a\tb", err, sizeof(err)), PLAN_EINVAL);
    assert_string_equal(err, "cluster name 'a\\x09b' has '\\x09' (U+0009): use only a-z, 0-9 "
                             "and '-'");
    assert_int_equal(plan_name_check("a\xc2\x9b", err, sizeof(err)), PLAN_EINVAL);
    assert_non_null(strstr(err, "has '\\xc2\\x9b' (U+009B)"));
    assert_int_equal(plan_name_check("\x1b[31m", err, sizeof(err)), PLAN_EINVAL);
    assert_string_equal(err, "cluster name '\\x1b[31m' must start with a lowercase letter or a "
                             "digit");
    /* Printable ASCII as before. */
    assert_int_equal(plan_name_check("a b", err, sizeof(err)), PLAN_EINVAL);
    assert_string_equal(err, "cluster name 'a b' has ' ': use only a-z, 0-9 and '-'");
}

static void escape_cuts_between_characters(void **state) {
    char out[8];
    char big[600];

    assert_string_equal(plan_escape("abc", out, sizeof(out)), "abc");
    assert_string_equal(plan_escape("abcdefg", out, sizeof(out)), "abcdefg");
    assert_string_equal(plan_escape("abcdefgh", out, sizeof(out)), "abcd...");
    /* \xff does not fit whole after "ab": cut before it. */
    assert_string_equal(plan_escape("ab\xff\xff", out, sizeof(out)), "ab...");
    assert_string_equal(plan_escape("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", out, sizeof(out)),
                        "\xc3\xa9\xc3\xa9...");
    assert_string_equal(plan_escape("\xc3\xa9\xc3\xa9\xc3\xa9", out, sizeof(out)),
                        "\xc3\xa9\xc3\xa9\xc3\xa9");
    assert_string_equal(plan_escape(NULL, out, sizeof(out)), "");
    assert_string_equal(plan_escape("abcdef", out, 3), "ab");
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(plan_name_check(big, out, 0), PLAN_EINVAL);
    {
        char err[256];
        assert_int_equal(plan_name_check(big, err, sizeof(err)), PLAN_EINVAL);
        assert_non_null(strstr(err, "...' is longer than 32"));
    }
}

static void default_name_drops_punctuation(void **state) {
    char name[40];

    assert_int_equal(plan_default_name("apache_2.6.0", name, sizeof(name)), 0);
    assert_string_equal(name, "apache260");
    assert_int_equal(plan_default_name("Apache_3.3.6", name, sizeof(name)), 0);
    assert_string_equal(name, "apache336");
    assert_int_equal(plan_default_name("._-", name, sizeof(name)), PLAN_EINVAL);
    assert_int_equal(plan_default_name("apache_2.6.0", name, 4), PLAN_EINVAL);
}

static void pool_parses_and_refuses(void **state) {
    plan_pool pool;
    char err[256];

    assert_int_equal(plan_pool_parse(NULL, &pool, err, sizeof(err)), 0);
    assert_int_equal(pool.prefix, 16);
    assert_int_equal(pool.size, 24);
    assert_int_equal(plan_pool_count(&pool), 256);
    assert_int_equal(plan_pool_parse("10.200.0.0/20:26", &pool, err, sizeof(err)), 0);
    assert_int_equal(plan_pool_count(&pool), 64);
    assert_int_equal(plan_pool_parse("10.200.0.0/16", &pool, err, sizeof(err)), 0);
    assert_int_equal(pool.size, 24);

    const char *bad[] = {"10.200.0.0",
                         "10.200.0.0/16x",
                         "10.200.0.0/16:",
                         "10.200.0.0/16:24x",
                         "10.300.0.0/16",
                         "10.200.0.0/4",
                         "10.200.0.0/16:12",
                         "10.200.0.0/16:30",
                         "/16",
                         "10.200.0.0/",
                         NULL};
    for (size_t i = 0; bad[i] != NULL; i++) {
        err[0] = '\0';
        assert_int_equal(plan_pool_parse(bad[i], &pool, err, sizeof(err)), PLAN_EINVAL);
        assert_non_null(strstr(err, "HDC_SUBNET_POOL"));
    }
    assert_int_equal(plan_pool_parse("10.200.1.0/16", &pool, err, sizeof(err)), PLAN_EINVAL);
    assert_non_null(strstr(err, "use 10.200.0.0/16"));
}

static void pool_refuses_ranges_no_bridge_may_take(void **state) {
    static const struct {
        const char *spec, *range;
    } bad[] = {
        {"127.0.0.0/8:24", "overlaps 127.0.0.0/8 (loopback)"},
        {"127.1.0.0/16", "overlaps 127.0.0.0/8 (loopback)"},
        {"169.254.0.0/16:24", "overlaps 169.254.0.0/16 (link-local)"},
        {"169.254.8.0/24:28", "overlaps 169.254.0.0/16 (link-local)"},
        {"169.0.0.0/8:24", "overlaps 169.254.0.0/16 (link-local)"}, /* holds it */
        {"224.0.0.0/8", "overlaps 224.0.0.0/4 (multicast)"},
        {"239.255.0.0/16", "overlaps 224.0.0.0/4 (multicast)"},
        {"0.0.0.0/8:24", "overlaps 0.0.0.0/8 ('this network')"},
        {"240.0.0.0/8", "overlaps 240.0.0.0/4 (reserved)"},
        {"255.255.255.0/28:28", "overlaps 240.0.0.0/4 (reserved)"},
        /* The range is checked before the bits past the prefix. */
        {"127.0.0.1/8", "overlaps 127.0.0.0/8 (loopback)"},
    };
    static const char *const good[] = {"10.0.0.0/8",     "172.16.0.0/12:24", "192.168.0.0/16:24",
                                       "126.0.0.0/8",    "128.0.0.0/8",      "169.253.0.0/16",
                                       "169.255.0.0/16", "223.255.0.0/16",   NULL};
    plan_pool pool;
    char err[512];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(plan_pool_parse(bad[i].spec, &pool, err, sizeof(err)), PLAN_EINVAL);
        assert_non_null(strstr(err, bad[i].range));
        assert_non_null(strstr(err, "set HDC_SUBNET_POOL in a private range"));
    }
    assert_int_equal(plan_pool_parse("127.0.0.0/8:24", &pool, err, sizeof(err)), PLAN_EINVAL);
    assert_string_equal(err, "subnet pool '127.0.0.0/8:24' overlaps 127.0.0.0/8 (loopback), where "
                             "no Docker bridge may be: set HDC_SUBNET_POOL in a private range "
                             "(10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16), e.g. 172.29.0.0/16:24");
    for (size_t i = 0; good[i] != NULL; i++)
        assert_int_equal(plan_pool_parse(good[i], &pool, err, sizeof(err)), 0);
    /* A spec that is not text is shown escaped. */
    assert_int_equal(plan_pool_parse("10.0.0.0/8\xff", &pool, err, sizeof(err)), PLAN_EINVAL);
    assert_non_null(strstr(err, "'10.0.0.0/8\\xff' is not"));
}

static void pool_start_spreads_names(void **state) {
    plan_pool pool;
    uint32_t a, b;

    plan_pool_parse(NULL, &pool, NULL, 0);
    a = plan_pool_start(&pool, "apache260");
    b = plan_pool_start(&pool, "apache336");
    assert_true(a < 256 && b < 256);
    assert_int_not_equal(a, b);
    assert_int_equal(a, plan_pool_start(&pool, "apache260"));
}

static void plan_names_and_addresses_every_node(void **state) {
    plan_pool pool;
    plan p;
    char err[256];

    plan_pool_parse("172.29.0.0/16:24", &pool, NULL, 0);
    assert_int_equal(plan_make(&p, &desc, "apache260", 3, &pool, 5, err, sizeof(err)), 0);
    assert_string_equal(p.network, "hdc_apache260");
    assert_string_equal(p.subnet, "172.29.5.0/24");
    assert_string_equal(p.gateway, "172.29.5.1");
    /* zookeeper, namenode, 3 datanodes, rm, 2 journals, client */
    assert_int_equal(p.n_nodes, 9);
    assert_string_equal(p.nodes[0].service, "zookeeper");
    assert_null(p.nodes[0].svc);
    assert_string_equal(p.nodes[0].container, "apache260_zookeeper_1");
    assert_string_equal(p.nodes[0].address, "172.29.5.2");
    assert_string_equal(p.nodes[1].hostname, "namenode");
    assert_string_equal(p.nodes[1].znode, "/namenode");
    assert_string_equal(p.nodes[3].container, "apache260_datanode_2");
    assert_string_equal(p.nodes[3].hostname, "datanode2");
    assert_string_equal(p.nodes[3].znode, "/datanode2");
    assert_string_equal(p.nodes[3].address, "172.29.5.5");
    assert_int_equal(p.nodes[3].instance, 2);
    assert_string_equal(p.nodes[5].hostname, "rm");
    assert_string_equal(p.nodes[5].container, "apache260_resourcemanager_1");
    assert_string_equal(p.nodes[7].hostname, "journal2");
    assert_true(p.nodes[8].is_client);
    assert_false(p.nodes[7].is_client);
    assert_string_equal(p.extra_hosts[0], "zookeeper:172.29.5.2");
    assert_string_equal(p.extra_hosts[8], "client:172.29.5.10");
    assert_null(p.extra_hosts[9]);
    assert_ptr_equal(plan_find(&p, "datanode"), &p.nodes[2]);
    assert_null(plan_find(&p, "nothing"));

    plan_readdress(&p, &pool, 256 + 7); /* modulo the pool */
    assert_string_equal(p.subnet, "172.29.7.0/24");
    assert_string_equal(p.nodes[3].address, "172.29.7.5");
    assert_string_equal(p.extra_hosts[3], "datanode2:172.29.7.5");
    plan_free(&p);
}

static void plan_refuses_bad_counts_and_names(void **state) {
    plan_pool pool;
    plan p;
    char err[256];

    plan_pool_parse("172.29.0.0/16:28", &pool, NULL, 0);
    assert_int_equal(plan_make(&p, &desc, "a", 0, &pool, 0, err, sizeof(err)), PLAN_EINVAL);
    assert_non_null(strstr(err, "--datanodes 0"));
    plan_free(&p);
    assert_int_equal(plan_make(&p, &desc, "a", 65, &pool, 0, err, sizeof(err)), PLAN_EINVAL);
    plan_free(&p);
    /* A /28 holds 13 nodes: 6 + 8 datanodes do not fit. */
    assert_int_equal(plan_make(&p, &desc, "a", 8, &pool, 0, err, sizeof(err)), PLAN_EINVAL);
    assert_non_null(strstr(err, "do not fit"));
    plan_free(&p);
    assert_int_equal(plan_make(&p, &desc, "a", 7, &pool, 0, err, sizeof(err)), 0);
    plan_free(&p);
    assert_int_equal(plan_make(&p, &desc, "A", 1, &pool, 0, err, sizeof(err)), PLAN_EINVAL);
    plan_free(&p);
}

static void test_users_are_names_useradd_takes_and_not_root(void **state) {
    char err[256];

    assert_int_equal(plan_user_check("--test-user", "hdc", err, sizeof(err)), 0);
    assert_int_equal(plan_user_check("--test-user", "_ci-user_2", err, sizeof(err)), 0);
    assert_int_equal(plan_user_check("--test-user", "a b", err, sizeof(err)), PLAN_EINVAL);
    assert_string_equal(err, "--test-user 'a b': a user name is 1 to 32 of a-z, 0-9, '_' and '-', "
                             "starting with a letter or '_'");
    assert_int_equal(plan_user_check("HDC_TEST_USER", "", err, sizeof(err)), PLAN_EINVAL);
    assert_int_equal(plan_user_check("x", "Alice", err, sizeof(err)), PLAN_EINVAL);
    assert_int_equal(plan_user_check("x", "1abc", err, sizeof(err)), PLAN_EINVAL);
    assert_int_equal(plan_user_check("x", "a23456789012345678901234567890123", err, sizeof(err)),
                     PLAN_EINVAL);
    assert_int_equal(plan_user_check("x", "root", err, sizeof(err)), PLAN_EINVAL);
    assert_non_null(strstr(err, "unprivileged"));
    assert_int_equal(plan_user_check("x", "al\xe9", err, sizeof(err)), PLAN_EINVAL);
    assert_non_null(strstr(err, "x 'al\\xe9': a user name"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_users_are_names_useradd_takes_and_not_root),
        cmocka_unit_test(names_follow_the_cli_contract),
        cmocka_unit_test(names_in_messages_are_valid_text),
        cmocka_unit_test(escape_cuts_between_characters),
        cmocka_unit_test(default_name_drops_punctuation),
        cmocka_unit_test(pool_parses_and_refuses),
        cmocka_unit_test(pool_refuses_ranges_no_bridge_may_take),
        cmocka_unit_test(pool_start_spreads_names),
        cmocka_unit_test(plan_names_and_addresses_every_node),
        cmocka_unit_test(plan_refuses_bad_counts_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
