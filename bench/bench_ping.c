/* bench_ping: COUNT sequential GET /_ping to the Docker engine through hdc's
 * HTTP client, on one keep-alive connection, and one line of figures, laid
 * out like the curl line of bench/ping.sh so the two compare at a glance. */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct bench {
    uv_loop_t *loop;
    http_client *client;
    int count, done, err;
} bench;

static void bench_next(bench *b);

static void bench_on_done(void *data, int status, const http_response *res) {
    bench *b = data;
    if (status != 0 || res == NULL || res->status != 200) {
        fprintf(stderr, "bench_ping: GET /_ping failed: %s (HTTP %d)\n",
                status != 0 ? hdc_strerror(status) : "unexpected status",
                res != NULL ? res->status : 0);
        b->err = 1;
        http_client_close(b->client, NULL, NULL);
        return;
    }
    if (++b->done == b->count) {
        http_client_close(b->client, NULL, NULL);
        return;
    }
    bench_next(b);
}

static void bench_next(bench *b) {
    static const http_request_cbs cbs = {.on_done = bench_on_done};
    http_request_opts opts = {
        .method = "GET",
        .target = "/_ping",
        .timeout_ms = 10000,
        .flags = HTTP_BUFFER_BODY,
    };
    int rc = http_request_start(b->client, &opts, &cbs, b, NULL);
    if (rc != 0) {
        fprintf(stderr, "bench_ping: cannot start a request: %s\n", hdc_strerror(rc));
        b->err = 1;
        http_client_close(b->client, NULL, NULL);
    }
}

int main(int argc, char **argv) {
    bench b = {.count = 1000};
    const char *host = getenv("DOCKER_HOST");
    int opt, rc;

    while ((opt = getopt(argc, argv, "n:H:")) != -1) {
        switch (opt) {
        case 'n': b.count = atoi(optarg); break;
        case 'H': host = optarg; break;
        default: fprintf(stderr, "usage: bench_ping -n COUNT [-H DOCKER_HOST]\n"); return 2;
        }
    }
    if (b.count <= 0) {
        fprintf(stderr, "bench_ping: COUNT must be positive\n");
        return 2;
    }
    if (host == NULL || host[0] == '\0')
        host = "unix:///var/run/docker.sock";
    b.loop = uv_default_loop();
    rc = http_client_new(b.loop, host, strncmp(host, "unix://", 7) == 0 ? "docker" : NULL,
                         &b.client);
    if (rc != 0) {
        fprintf(stderr, "bench_ping: bad DOCKER_HOST %s: %s\n", host, hdc_strerror(rc));
        return 1;
    }
    uint64_t start = uv_hrtime();
    bench_next(&b);
    uv_run(b.loop, UV_RUN_DEFAULT);
    double secs = (double)(uv_hrtime() - start) / 1e9;
    uv_loop_close(b.loop);
    if (b.err)
        return 1;
    printf("hdc: %d pings in %.3f s: %.0f/s\n", b.done, secs, b.done / secs);
    return 0;
}
