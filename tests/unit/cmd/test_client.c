/* engine/cmd/client.c's parse: NAME and its flags, the defaults, and what
 * it refuses, first error first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmd.h"

static int argc_of(char **argv) {
    int n = 0;

    while (argv[n] != NULL)
        n++;
    return n;
}

static int parse_in(const cmd_ctx *ctx, cmd_client_opts *o, char *err, size_t len, char **argv) {
    memset(o, 0, sizeof(*o));
    err[0] = '\0';
    return cmd_client_parse(ctx, argc_of(argv), argv, o, err, len);
}

static int parse(cmd_client_opts *o, char *err, size_t len, char **argv) {
    static const cmd_ctx ctx;

    return parse_in(&ctx, o, err, len, argv);
}

static void a_name_alone_takes_the_defaults(void **state) {
    char *argv[] = {"client", "c1", NULL};
    cmd_client_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), argv), 0);
    assert_string_equal(o.name, "c1");
    assert_int_equal(o.port, 3333);
    assert_null(o.client_dist);
    assert_null(o.test_user);
}

static void every_flag_before_or_after_the_name(void **state) {
    char *after[] = {"client", "c1",          "--port", "2222", "--client-dist",
                     "cdh6",   "--test-user", "alice",  NULL};
    char *before[] = {"client", "--test-user", "alice", "--port", "0", "c-2", NULL};
    cmd_client_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), after), 0);
    assert_string_equal(o.name, "c1");
    assert_int_equal(o.port, 2222);
    assert_string_equal(o.client_dist, "cdh6");
    assert_string_equal(o.test_user, "alice");
    assert_int_equal(parse(&o, err, sizeof(err), before), 0);
    assert_string_equal(o.name, "c-2");
    assert_int_equal(o.port, 0); /* any free port */
    assert_string_equal(o.test_user, "alice");
}

static void ports_at_the_edges_and_a_plus_sign(void **state) {
    char *top[] = {"client", "c1", "--port", "65535", NULL};
    char *plus[] = {"client", "c1", "--port", "+22", NULL};
    char *twice[] = {"client", "c1", "--port", "1", "--port", "2", NULL};
    cmd_client_opts o;
    char err[256];

    assert_int_equal(parse(&o, err, sizeof(err), top), 0);
    assert_int_equal(o.port, 65535);
    assert_int_equal(parse(&o, err, sizeof(err), plus), RUNNER_USAGE); /* digits only */
    assert_string_equal(err, "--port '+22': give a whole number from 0 to 65535");
    assert_int_equal(parse(&o, err, sizeof(err), twice), 0);
    assert_int_equal(o.port, 2);
}

/* HDC_TEST_USER comes from the context's snapshot, never from getenv, and
 * --test-user wins over it. */
static void the_test_user_comes_from_the_context(void **state) {
    cmd_ctx ctx = {.env = {.test_user = "from-ctx"}};
    char *plain[] = {"client", "c1", NULL};
    char *flag[] = {"client", "c1", "--test-user", "bob", NULL};
    cmd_client_opts o;
    char err[256];

    setenv("HDC_TEST_USER", "from-environ", 1);
    assert_int_equal(parse_in(&ctx, &o, err, sizeof(err), plain), 0);
    assert_string_equal(o.test_user, "from-ctx");
    assert_int_equal(parse_in(&ctx, &o, err, sizeof(err), flag), 0);
    assert_string_equal(o.test_user, "bob");
    assert_int_equal(parse(&o, err, sizeof(err), plain), 0);
    assert_null(o.test_user);
    unsetenv("HDC_TEST_USER");
}

static void refusals_say_what_is_wrong(void **state) {
    static const struct {
        char *argv[8];
        const char *err;
    } cases[] = {
        {{"client", NULL}, "client: give a cluster name"},
        {{"client", "--frobnicate", NULL}, "client: unexpected argument '--frobnicate'"},
        {{"client", "-p", "c1", NULL}, "client: unexpected argument '-p'"},
        {{"client", "c1", "extra", NULL}, "client: unexpected argument 'extra'"},
        {{"client", "c1", "--port", "70000", NULL},
         "--port '70000': give a whole number from 0 to 65535"},
        {{"client", "c1", "--port", "65536", NULL},
         "--port '65536': give a whole number from 0 to 65535"},
        {{"client", "c1", "--port", "x", NULL}, "--port 'x': give a whole number from 0 to 65535"},
        {{"client", "c1", "--port", "-1", NULL},
         "--port '-1': give a whole number from 0 to 65535"},
        {{"client", "c1", "--port", "", NULL}, "--port '': give a whole number from 0 to 65535"},
        {{"client", "c1", "--port", "22x", NULL},
         "--port '22x': give a whole number from 0 to 65535"},
        {{"client", "c1", "--port", NULL}, "--port needs a value"},
        {{"client", "c1", "--client-dist", NULL}, "client: unexpected argument '--client-dist'"},
        {{"client", "c1", "--test-user", NULL}, "client: unexpected argument '--test-user'"},
        {{"client", "", NULL}, "client: a cluster name cannot be empty"},
        {{"client", "c1-Upper", NULL},
         "client: cluster name 'c1-Upper' has 'U': use only a-z, 0-9 and '-'"},
        {{"client", "c.1", NULL}, "client: cluster name 'c.1' has '.': use only a-z, 0-9 and '-'"},
        /* What is not text is shown escaped: the message stays valid text. */
        {{"client", "caf\xc3\xa9", NULL},
         "client: cluster name 'caf\xc3\xa9' has '\xc3\xa9' (U+00E9): use only a-z, 0-9 and '-'"},
        {{"client", "c1", "--fr\xffob", NULL}, "client: unexpected argument '--fr\\xffob'"},
        {{"client", "c1", "--\xc3\xa9", NULL}, "client: unexpected argument '--\xc3\xa9'"},
        /* The first error wins: the arguments in order, then the name. */
        {{"client", "--frobnicate", "--port", "x", NULL},
         "client: unexpected argument '--frobnicate'"},
        {{"client", "--port", "x", "--frobnicate", NULL},
         "--port 'x': give a whole number from 0 to 65535"},
        {{"client", "Bad", "--port", "x", NULL}, "--port 'x': give a whole number from 0 to 65535"},
        {{"client", "Bad", "extra", NULL}, "client: unexpected argument 'extra'"},
        {{"client", "--port", "1", NULL}, "client: give a cluster name"},
    };
    cmd_client_opts o;
    char err[256];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *argv[8];
        memcpy(argv, cases[i].argv, sizeof(argv));
        assert_int_equal(parse(&o, err, sizeof(err), argv), RUNNER_USAGE);
        assert_string_equal(err, cases[i].err);
    }
}

static void the_table_entry_parses_as_the_module_does(void **state) {
    static const cmd_ctx ctx;
    char *argv[] = {"client", "c1", "--port", "4444", NULL};
    char *bad[] = {"client", "c1", "--frob\x1b", NULL};
    cmd_client_opts *o;
    char err[256];

    /* The table's options start with cmd_client_opts; run also learns
     * whether --port was given (3333, else any free port, without it). */
    assert_true(cmd_client.opts_size >= sizeof(cmd_client_opts));
    o = calloc(1, cmd_client.opts_size);
    assert_non_null(o);
    assert_int_equal(cmd_client.parse(&ctx, 4, argv, o, err, sizeof(err)), 0);
    assert_string_equal(o->name, "c1");
    assert_int_equal(o->port, 4444);
    memset(o, 0, cmd_client.opts_size);
    assert_int_equal(cmd_client.parse(&ctx, 3, bad, o, err, sizeof(err)), RUNNER_USAGE);
    assert_string_equal(err, "client: unexpected argument '--frob\\x1b'");
    free(o);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_name_alone_takes_the_defaults),
        cmocka_unit_test(every_flag_before_or_after_the_name),
        cmocka_unit_test(ports_at_the_edges_and_a_plus_sign),
        cmocka_unit_test(the_test_user_comes_from_the_context),
        cmocka_unit_test(refusals_say_what_is_wrong),
        cmocka_unit_test(the_table_entry_parses_as_the_module_does),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
