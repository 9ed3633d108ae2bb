/* Release artifacts: the published checksum formats, and fetching through
 * curl (a file:// URL stands for the Apache archive) into a cache, checked
 * against a pinned or published SHA-512; a download canceled. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "fetch.h"

/* sha512 of "hello\n" */
#define HELLO_SHA512                                                   \
    "e7c22b994c59d9cf2b48e549b1e24666636045930d3da7c1acb299d1c3b7f931" \
    "f94aae41edda2c2b207a36e10f8bcb8d45223e54878f5b316e7ce3b6bc019629"

static char tmp[256];

static int make_tmp(void **state) {
    snprintf(tmp, sizeof(tmp), "/tmp/hdc-test-fetch-XXXXXX");
    assert_non_null(mkdtemp(tmp));
    return 0;
}

static int remove_tmp(void **state) {
    char cmd[512];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    return system(cmd);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void published_formats_parse(void **state) {
    char out[129];
    const char *bsd = "SHA512 (hadoop-3.3.6.tar.gz) = " HELLO_SHA512 "\n";
    const char *coreutils = HELLO_SHA512 "  hadoop-3.3.6.tar.gz\n";
    const char *gpg =
        "hadoop-2.7.7.tar.gz:    MD5 = 2A 5B 0E 58 1E 29 3B 7E  0D 6B 2E 9D 5C 32 1A 07\n"
        "hadoop-2.7.7.tar.gz:   SHA1 = D0F8 9B 35 1F 2A 05 2D 3C  37 8B 9D 3E 35 55 22 47 2A 47 56 "
        "0B\n"
        "hadoop-2.7.7.tar.gz: SHA512 = E7C22B99 4C59D9CF 2B48E549 B1E24666 63604593 0D3DA7C1\n"
        "                              ACB299D1 C3B7F931 F94AAE41 EDDA2C2B 207A36E1 0F8BCB8D\n"
        "                              45223E54 878F5B31 6E7CE3B6 BC019629\n"
        "hadoop-2.7.7.tar.gz: SHA256 = 5ED0 0000 0000 0000\n";

    assert_int_equal(fetch_parse_sha512(bsd, strlen(bsd), out), 0);
    assert_string_equal(out, HELLO_SHA512);
    assert_int_equal(fetch_parse_sha512(coreutils, strlen(coreutils), out), 0);
    assert_string_equal(out, HELLO_SHA512);
    assert_int_equal(fetch_parse_sha512(gpg, strlen(gpg), out), 0);
    assert_string_equal(out, HELLO_SHA512);
    assert_int_equal(fetch_parse_sha512("no digest here", 14, out), -1);
    assert_int_equal(fetch_parse_sha512("SHA512 = abc", 12, out), -1);
    assert_int_equal(fetch_parse_sha512("", 0, out), -1);
}

static void unpinned_means_null_or_zeros(void **state) {
    char zeros[129];

    memset(zeros, '0', 128);
    zeros[128] = '\0';
    assert_true(fetch_sha512_unpinned(NULL));
    assert_true(fetch_sha512_unpinned(zeros));
    assert_false(fetch_sha512_unpinned(HELLO_SHA512));
}

typedef struct outcome {
    int calls, status;
    char msg[8192], path[4400];
} outcome;

static void on_fetched(void *data, int status, const char *msg, const char *path) {
    outcome *o = data;

    o->calls++;
    o->status = status;
    snprintf(o->msg, sizeof(o->msg), "%s", msg != NULL ? msg : "");
    snprintf(o->path, sizeof(o->path), "%s", path != NULL ? path : "");
}

static void run_fetch_flags(const char *cache, const hdc_artifact *a, unsigned flags, outcome *o) {
    uv_loop_t loop;

    memset(o, 0, sizeof(*o));
    uv_loop_init(&loop);
    assert_int_equal(fetch_artifact(&loop, cache, a, flags, NULL, on_fetched, o, NULL), 0);
    assert_int_equal(o->calls, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(o->calls, 1);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void run_fetch(const char *cache, const hdc_artifact *a, outcome *o) {
    run_fetch_flags(cache, a, 0, o);
}

/* --hadoop-tarball: never downloaded; its own .sha512 beats the pin (a test
 * stand-in is not the release); without one, the pin decides. */
static void a_given_file_is_checked_not_fetched(void **state) {
    char dir[512], file[600], sums[700];
    hdc_artifact a = {
        .file = "given.tar.gz", .url = "file:///nonexistent/x", .sha512 = HELLO_SHA512};
    outcome o;
    char other[129];

    snprintf(dir, sizeof(dir), "%s/given", tmp);
    mkdir(dir, 0755);
    snprintf(file, sizeof(file), "%s/given.tar.gz", dir);
    write_file(file, "not hello\n");
    run_fetch_flags(dir, &a, FETCH_GIVEN, &o);
    assert_int_equal(o.status, FETCH_ECHECKSUM); /* against the pin */
    snprintf(sums, sizeof(sums), "%s.sha512", file);
    /* sha512("not hello\n") is not known here: a wrong one must fail too. */
    memset(other, 'b', 128);
    other[128] = '\0';
    {
        char line[300];
        snprintf(line, sizeof(line), "%s  given.tar.gz\n", other);
        write_file(sums, line);
    }
    run_fetch_flags(dir, &a, FETCH_GIVEN, &o);
    assert_int_equal(o.status, FETCH_ECHECKSUM);
    write_file(file, "hello\n");
    write_file(sums, HELLO_SHA512 "  given.tar.gz\n");
    a.sha512 = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00"
               "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";
    run_fetch_flags(dir, &a, FETCH_GIVEN, &o); /* its own sum wins over the pin */
    assert_int_equal(o.status, 0);
    a.file = "missing.tar.gz";
    run_fetch_flags(dir, &a, FETCH_GIVEN, &o);
    assert_int_equal(o.status, FETCH_EDOWNLOAD);
    assert_non_null(strstr(o.msg, "no such file"));
}

static void downloads_and_checks_the_published_sum(void **state) {
    char src[512], sums[600], url[600], cache[512], cached[600];
    hdc_artifact a = {.file = "rel.tar.gz", .url = url};
    outcome o;
    struct stat st;

    snprintf(src, sizeof(src), "%s/archive", tmp);
    mkdir(src, 0755);
    snprintf(src, sizeof(src), "%s/archive/rel.tar.gz", tmp);
    write_file(src, "hello\n");
    snprintf(sums, sizeof(sums), "%s.sha512", src);
    write_file(sums, "SHA512 (rel.tar.gz) = " HELLO_SHA512 "\n");
    snprintf(url, sizeof(url), "file://%s", src);
    snprintf(cache, sizeof(cache), "%s/cache/dist", tmp);

    run_fetch(cache, &a, &o);
    assert_int_equal(o.status, 0);
    snprintf(cached, sizeof(cached), "%s/rel.tar.gz", cache);
    assert_string_equal(o.path, cached);
    assert_int_equal(stat(cached, &st), 0);
    assert_int_equal(st.st_size, 6);

    /* Cached now: the source may go; the pin is checked against the cache. */
    unlink(src);
    a.sha512 = HELLO_SHA512;
    run_fetch(cache, &a, &o);
    assert_int_equal(o.status, 0);
}

static void a_wrong_checksum_is_refused_and_not_cached(void **state) {
    char src[512], url[600], cache[512], cached[600], part[620];
    char wrong[129];
    hdc_artifact a = {.file = "bad.tar.gz", .url = url, .sha512 = wrong};
    outcome o;
    struct stat st;

    memset(wrong, 'a', 128);
    wrong[128] = '\0';
    snprintf(src, sizeof(src), "%s/bad.tar.gz", tmp);
    write_file(src, "hello\n");
    snprintf(url, sizeof(url), "file://%s", src);
    snprintf(cache, sizeof(cache), "%s/cache2", tmp);
    run_fetch(cache, &a, &o);
    assert_int_equal(o.status, FETCH_ECHECKSUM);
    assert_non_null(strstr(o.msg, "not the expected"));
    snprintf(cached, sizeof(cached), "%s/bad.tar.gz", cache);
    snprintf(part, sizeof(part), "%s.part", cached);
    assert_int_not_equal(stat(cached, &st), 0);
    assert_int_not_equal(stat(part, &st), 0);
}

static void no_network_says_where_to_put_the_file(void **state) {
    char cache[512];
    hdc_artifact a = {.file = "hadoop-9.9.9.tar.gz",
                      .url = "file:///nonexistent/hadoop-9.9.9.tar.gz",
                      .sha512 = HELLO_SHA512};
    outcome o;

    snprintf(cache, sizeof(cache), "%s/cache3", tmp);
    run_fetch(cache, &a, &o);
    assert_int_equal(o.status, FETCH_EDOWNLOAD);
    assert_non_null(strstr(o.msg, "hadoop-9.9.9.tar.gz"));
    assert_non_null(strstr(o.msg, cache));
    assert_non_null(strstr(o.msg, "--hadoop-tarball"));

    /* Unpinned and no published sum to be had: said as plainly. */
    a.sha512 = NULL;
    run_fetch(cache, &a, &o);
    assert_int_equal(o.status, FETCH_EDOWNLOAD);
    assert_non_null(strstr(o.msg, "published SHA-512"));
}

static void bad_arguments_are_refused(void **state) {
    uv_loop_t loop;
    hdc_artifact a = {.file = "../x", .url = "file:///x"};
    outcome o;

    uv_loop_init(&loop);
    assert_int_equal(fetch_artifact(&loop, "/tmp", &a, 0, NULL, on_fetched, &o, NULL), UV_EINVAL);
    a.file = "x";
    a.url = NULL;
    assert_int_equal(fetch_artifact(&loop, "/tmp", &a, 0, NULL, on_fetched, &o, NULL), UV_EINVAL);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- a download canceled ---- */

typedef struct canceling {
    fetch *f;
    outcome o;
    int downloading;
} canceling;

/* curl has connected: it runs, waiting for an answer that never comes. */
static void on_connection(uv_stream_t *server, int status) {
    canceling *c = server->data;

    if (!c->downloading) {
        c->downloading = 1;
        fetch_cancel(c->f);
    }
}

static void on_canceled(void *data, int status, const char *msg, const char *path) {
    canceling *c = data;

    on_fetched(&c->o, status, msg, path);
}

static void a_download_is_canceled(void **state) {
    uv_loop_t loop;
    uv_tcp_t server;
    struct sockaddr_in addr;
    struct sockaddr_storage bound;
    int len = sizeof(bound);
    char url[128], cache[300];
    hdc_artifact a = {.file = "x.tar.gz", .sha512 = HELLO_SHA512};
    canceling c = {0};

    uv_loop_init(&loop);
    /* Listening, never accepting: the kernel completes curl's connect and
     * the request then waits for an answer that never comes. */
    uv_tcp_init(&loop, &server);
    server.data = &c;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    assert_int_equal(uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&server, 8, on_connection), 0);
    uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &len);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/x.tar.gz",
             ntohs(((struct sockaddr_in *)&bound)->sin_port));
    a.url = url;
    snprintf(cache, sizeof(cache), "%s/cancel", tmp);
    assert_int_equal(mkdir(cache, 0755), 0);
    assert_int_equal(fetch_artifact(&loop, cache, &a, 0, NULL, on_canceled, &c, &c.f), 0);
    while (c.o.calls == 0)
        uv_run(&loop, UV_RUN_ONCE);
    assert_true(c.downloading);
    assert_int_equal(c.o.status, UV_ECANCELED);
    assert_string_equal(c.o.msg, "fetching x.tar.gz: canceled");
    uv_close((uv_handle_t *)&server, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(published_formats_parse),
        cmocka_unit_test(unpinned_means_null_or_zeros),
        cmocka_unit_test(downloads_and_checks_the_published_sum),
        cmocka_unit_test(a_given_file_is_checked_not_fetched),
        cmocka_unit_test(a_wrong_checksum_is_refused_and_not_cached),
        cmocka_unit_test(no_network_says_where_to_put_the_file),
        cmocka_unit_test(bad_arguments_are_refused),
        cmocka_unit_test(a_download_is_canceled),
    };
    return cmocka_run_group_tests(tests, make_tmp, remove_tmp);
}
