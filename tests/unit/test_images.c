/* engine/images.c: image identity. The pure parts (the identity tag, the
 * stand-in's entry, the digest cache's lookup), then `hdc build-base`
 * against a fake engine that keeps images, tags and labels as Docker does:
 * a second build with nothing changed sends no build request, a changed
 * base rebuilds what is built FROM it, and a stand-in build never moves
 * what REPO:latest resolves to when a real build holds it.
 */
#define _GNU_SOURCE /* asprintf, strcasestr */
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
#include <jansson.h>
#include <uv.h>

#include "images.h"

/* ---- the pure parts ---------------------------------------------------------- */

static const char id64[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static void identity_tag_replaces_the_tag_with_id_and_16_hex(void **state) {
    char out[256];

    images_identity_tag("hdc/base:latest", id64, out, sizeof(out));
    assert_string_equal(out, "hdc/base:id-0123456789abcdef");
    images_identity_tag("hdc/base", id64, out, sizeof(out));
    assert_string_equal(out, "hdc/base:id-0123456789abcdef");
    /* A registry's port is not a tag. */
    images_identity_tag("localhost:5000/hdc/base", id64, out, sizeof(out));
    assert_string_equal(out, "localhost:5000/hdc/base:id-0123456789abcdef");
    images_identity_tag("localhost:5000/hdc/base:stand-in", id64, out, sizeof(out));
    assert_string_equal(out, "localhost:5000/hdc/base:id-0123456789abcdef");
    images_identity_tag("hdc/apache_2.6.0-hadoop:latest", id64, out, sizeof(out));
    assert_string_equal(out, "hdc/apache_2.6.0-hadoop:id-0123456789abcdef");
    /* Cut, never overrun. */
    images_identity_tag("hdc/base:latest", id64, out, 10);
    assert_string_equal(out, "hdc/base:");
}

static void the_stand_in_is_its_program_one_level_down(void **state) {
    assert_true(images_is_stand_in_entry("hadoop-2.6.0/libexec/hdc-standin"));
    assert_true(images_is_stand_in_entry("./hadoop-3.3.6/libexec/hdc-standin"));
    assert_false(images_is_stand_in_entry("libexec/hdc-standin"));
    assert_false(images_is_stand_in_entry("/libexec/hdc-standin"));
    assert_false(images_is_stand_in_entry("a/b/libexec/hdc-standin"));
    assert_false(images_is_stand_in_entry("hadoop-2.6.0/libexec/hdc-standin.sh"));
    assert_false(images_is_stand_in_entry("hadoop-2.6.0/bin/hadoop"));
    assert_false(images_is_stand_in_entry(""));
}

static void digest_lookup_wants_path_size_and_mtime_and_takes_the_last(void **state) {
    char sha[65] = "";
    int si = -1;
    char *text = NULL;
    const char *a = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const char *b = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    assert_true(asprintf(&text,
                         "%s 0 100 5 /c/hadoop-2.6.0.tar.gz\n"
                         "garbage line\n"
                         "%s 1 200 6 /c/hadoop-3.3.6.tar.gz\n"
                         "%s 1 101 7 /c/hadoop-2.6.0.tar.gz\n"
                         "%s 0 9 9 /c/with space.tar.gz",
                         a, b, b, a) > 0);
    assert_int_equal(images_digest_lookup(text, "/c/hadoop-3.3.6.tar.gz", 200, 6, sha, &si), 1);
    assert_string_equal(sha, b);
    assert_int_equal(si, 1);
    /* The last line for a path wins: the old size no longer matches. */
    assert_int_equal(images_digest_lookup(text, "/c/hadoop-2.6.0.tar.gz", 100, 5, sha, &si), 0);
    assert_int_equal(images_digest_lookup(text, "/c/hadoop-2.6.0.tar.gz", 101, 7, sha, &si), 1);
    assert_string_equal(sha, b);
    /* A changed mtime or size: not known. */
    assert_int_equal(images_digest_lookup(text, "/c/hadoop-3.3.6.tar.gz", 200, 7, sha, &si), 0);
    assert_int_equal(images_digest_lookup(text, "/c/hadoop-3.3.6.tar.gz", 201, 6, sha, &si), 0);
    /* The whole path, spaces and all, and no prefix of it. */
    assert_int_equal(images_digest_lookup(text, "/c/with space.tar.gz", 9, 9, sha, &si), 1);
    assert_string_equal(sha, a);
    assert_int_equal(si, 0);
    assert_int_equal(images_digest_lookup(text, "/c/with", 9, 9, sha, &si), 0);
    assert_int_equal(images_digest_lookup(text, "/c/hadoop", 200, 6, sha, &si), 0);
    assert_int_equal(images_digest_lookup("", "/c/x", 0, 0, sha, &si), 0);
    /* Not 64 hex digits: not a line. */
    assert_int_equal(images_digest_lookup("abc 0 1 1 /c/x\n", "/c/x", 1, 1, sha, &si), 0);
    free(text);
}

/* Objects as docker_*_list gives them, from JSON (borrowed from root). */
static size_t objects(json_t *root, docker_object *out) {
    size_t i;
    json_t *o;

    json_array_foreach(root, i, o) {
        out[i] = (docker_object){.id = json_string_value(json_object_get(o, "Id")),
                                 .labels = json_object_get(o, "Labels"),
                                 .raw = o};
    }
    return json_array_size(root);
}

static void gc_keeps_what_runs_and_the_newest_of_each_repository(void **state) {
    json_t *ims =
        json_loads("["
                   "{\"Id\":\"sha256:a\",\"RepoTags\":[\"hdc/base:latest\",\"hdc/base:id-a\"]},"
                   "{\"Id\":\"sha256:b\",\"RepoTags\":[\"hdc/base:id-b\"]},"
                   "{\"Id\":\"sha256:c\",\"RepoTags\":[\"hdc/base:stand-in\"]},"
                   "{\"Id\":\"sha256:d\",\"RepoTags\":[\"hdc/x-hadoop:id-d\"]},"
                   "{\"Id\":\"sha256:e\",\"RepoTags\":[\"<none>:<none>\"]},"
                   "{\"Id\":\"sha256:f\",\"RepoTags\":null},"
                   "{\"Id\":\"sha256:g\",\"RepoTags\":[\"h:5000/hdc/y:id-g\",\"hdc/y:old\"]}"
                   "]",
                   0, NULL);
    json_t *cts = json_loads("[{\"Id\":\"c1\",\"ImageID\":\"sha256:d\"},"
                             "{\"Id\":\"c2\",\"ImageID\":\"sha256:f\"}]",
                             0, NULL);
    docker_object im[8], ct[4];
    size_t n_im = objects(ims, im), n_ct = objects(cts, ct);
    const char *out[16];
    size_t n = images_gc_pick(im, n_im, ct, n_ct, out, 16);

    /* a: latest; c: stand-in; d, f: a container runs them. */
    assert_int_equal(n, 4);
    assert_string_equal(out[0], "hdc/base:id-b");
    assert_string_equal(out[1], "sha256:e"); /* dangling: by ID */
    assert_string_equal(out[2], "h:5000/hdc/y:id-g");
    assert_string_equal(out[3], "hdc/y:old");
    /* Never past cap. */
    assert_int_equal(images_gc_pick(im, n_im, ct, n_ct, out, 2), 2);
    assert_int_equal(images_gc_pick(im, n_im, ct, 0, out, 16), 6);
    json_decref(ims);
    json_decref(cts);
}

static void stand_in_clusters_are_those_running_a_stand_in_image(void **state) {
    json_t *ims = json_loads("[{\"Id\":\"sha256:s1\"},{\"Id\":\"sha256:s2\"}]", 0, NULL);
    json_t *cts =
        json_loads("[{\"Id\":\"1\",\"ImageID\":\"sha256:r\",\"Labels\":{\"hdc.cluster\":\"real\"}},"
                   "{\"Id\":\"2\",\"ImageID\":\"sha256:s1\",\"Labels\":{\"hdc.cluster\":\"fake\"}},"
                   "{\"Id\":\"3\",\"ImageID\":\"sha256:s2\",\"Labels\":{\"hdc.cluster\":\"fake\"}},"
                   "{\"Id\":\"4\",\"ImageID\":\"sha256:s2\",\"Labels\":{}},"
                   "{\"Id\":\"5\",\"Labels\":{\"hdc.cluster\":\"noimage\"}},"
                   "{\"Id\":\"6\",\"ImageID\":\"sha256:s2\",\"Labels\":{\"hdc.cluster\":\"two\"}}]",
                   0, NULL);
    docker_object im[4], ct[8];
    size_t n_im = objects(ims, im), n_ct = objects(cts, ct);
    const char *out[8];
    size_t n = images_stand_in_pick(im, n_im, ct, n_ct, out);

    assert_int_equal(n, 2);
    assert_string_equal(out[0], "fake");
    assert_string_equal(out[1], "two");
    assert_true(images_among(out, n, "two"));
    assert_false(images_among(out, n, "real"));
    assert_int_equal(images_stand_in_pick(im, 0, ct, n_ct, out), 0);
    json_decref(ims);
    json_decref(cts);
}

/* ---- a fake engine that keeps images ------------------------------------------
 *
 * One request per connection (head and Content-Length body), answered and
 * closed. GET /images/NAME/json answers from the tags; POST /build makes a
 * new image with the build's labels and gives it every t=. */

#define MAX_TAGS 32

typedef struct fake {
    uv_pipe_t server;
    char path[108];
    char tag[MAX_TAGS][4096];
    int image_of[MAX_TAGS];
    json_t *labels[64]; /* of each image, by number */
    int n_tags, n_images;
    int builds;
    char last_args[4096]; /* the last build's buildargs, decoded */
} fake;

typedef struct fake_conn {
    uv_pipe_t pipe;
    fake *f;
    char *buf;
    size_t len;
    int answered;
} fake_conn;

static void url_decode(const char *s, size_t n, char *out, size_t len) {
    size_t o = 0;

    for (size_t i = 0; i < n && o + 1 < len; i++) {
        unsigned v;
        if (s[i] == '%' && i + 2 < n && sscanf(s + i + 1, "%2x", &v) == 1) {
            out[o++] = (char)v;
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
}

static int fake_find(const fake *f, const char *ref) {
    for (int i = 0; i < f->n_tags; i++)
        if (strcmp(f->tag[i], ref) == 0)
            return f->image_of[i];
    return -1;
}

static void fake_set_tag(fake *f, const char *ref, int image) {
    for (int i = 0; i < f->n_tags; i++)
        if (strcmp(f->tag[i], ref) == 0) {
            f->image_of[i] = image;
            return;
        }
    assert_true(f->n_tags < MAX_TAGS);
    snprintf(f->tag[f->n_tags], sizeof(f->tag[0]), "%s", ref);
    f->image_of[f->n_tags++] = image;
}

static void conn_closed(uv_handle_t *h) {
    fake_conn *c = h->data;
    free(c->buf);
    free(c);
}

static void written(uv_write_t *w, int status) {
    fake_conn *c = w->data;
    free(w);
    uv_close((uv_handle_t *)&c->pipe, conn_closed);
}

static void reply(fake_conn *c, const char *status, const char *body) {
    char *r = NULL;
    uv_write_t *w = malloc(sizeof(*w));
    int n = asprintf(&r,
                     "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     status, strlen(body), body);
    /* uv_write copies nothing: keep the bytes in the connection. */
    free(c->buf);
    c->buf = r;
    w->data = c;
    uv_buf_t b = uv_buf_init(r, (unsigned)n);
    if (uv_write(w, (uv_stream_t *)&c->pipe, &b, 1, written) != 0) {
        free(w);
        uv_close((uv_handle_t *)&c->pipe, conn_closed);
    }
}

static void answer(fake_conn *c, const char *method, const char *target) {
    fake *f = c->f;
    char name[512], body[8192];

    if (strcmp(method, "GET") == 0 && strncmp(target, "/v1.41/images/", 14) == 0) {
        const char *end = strstr(target, "/json");
        int img;
        url_decode(target + 14, (size_t)(end - target - 14), name, sizeof(name));
        if (strchr(strrchr(name, '/') ? strrchr(name, '/') : name, ':') == NULL)
            strcat(name, ":latest");
        if ((img = fake_find(f, name)) < 0) {
            snprintf(body, sizeof(body), "{\"message\":\"No such image: %s\"}", name);
            reply(c, "404 Not Found", body);
        } else {
            char *labels = json_dumps(f->labels[img], JSON_COMPACT);
            snprintf(body, sizeof(body),
                     "{\"Id\":\"sha256:img%d\",\"Size\":1,\"Config\":{\"Labels\":%s}}", img,
                     labels);
            free(labels);
            reply(c, "200 OK", body);
        }
        return;
    }
    if (strcmp(method, "POST") == 0 && strncmp(target, "/v1.41/build?", 13) == 0) {
        int img = f->n_images++;
        char *q = strdup(target + 13);
        char *save = NULL;
        f->builds++;
        f->labels[img] = json_object();
        f->last_args[0] = '\0';
        for (char *kv = strtok_r(q, "&", &save); kv != NULL; kv = strtok_r(NULL, "&", &save)) {
            char value[4096];
            char *eq = strchr(kv, '=');
            if (eq == NULL)
                continue;
            url_decode(eq + 1, strlen(eq + 1), value, sizeof(value));
            if (strncmp(kv, "t=", 2) == 0) {
                fake_set_tag(f, value, img);
            } else if (strncmp(kv, "labels=", 7) == 0) {
                json_decref(f->labels[img]);
                f->labels[img] = json_loads(value, 0, NULL);
                assert_non_null(f->labels[img]);
            } else if (strncmp(kv, "buildargs=", 10) == 0) {
                snprintf(f->last_args, sizeof(f->last_args), "%s", value);
            }
        }
        free(q);
        snprintf(
            body, sizeof(body),
            "{\"stream\":\"Step 1/1 : FROM scratch\\n\"}\n{\"aux\":{\"ID\":\"sha256:img%d\"}}\n",
            img);
        reply(c, "200 OK", body);
        return;
    }
    reply(c, "500 Internal Server Error", "{\"message\":\"fake: no route\"}");
}

static void fake_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf) {
    static char slab[65536];
    *buf = uv_buf_init(slab, sizeof(slab));
}

static void fake_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    fake_conn *c = s->data;
    char *end, method[16], target[2048];
    size_t head_len, body_len = 0;
    const char *cl;

    if (nread < 0) {
        if (!c->answered)
            uv_close((uv_handle_t *)&c->pipe, conn_closed);
        return;
    }
    if (c->answered || nread == 0)
        return;
    c->buf = realloc(c->buf, c->len + (size_t)nread + 1);
    memcpy(c->buf + c->len, buf->base, (size_t)nread);
    c->len += (size_t)nread;
    c->buf[c->len] = '\0';
    if ((end = strstr(c->buf, "\r\n\r\n")) == NULL)
        return;
    head_len = (size_t)(end - c->buf) + 4;
    cl = strcasestr(c->buf, "\r\nContent-Length:");
    if (cl != NULL && cl < end)
        body_len = strtoul(cl + 17, NULL, 10);
    if (c->len < head_len + body_len)
        return;
    assert_int_equal(sscanf(c->buf, "%15s %2047s", method, target), 2);
    c->answered = 1;
    uv_read_stop(s);
    answer(c, method, target);
}

static void fake_connection(uv_stream_t *server, int status) {
    fake_conn *c = calloc(1, sizeof(*c));

    c->f = server->data;
    uv_pipe_init(server->loop, &c->pipe, 0);
    c->pipe.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->pipe) != 0) {
        uv_close((uv_handle_t *)&c->pipe, conn_closed);
        return;
    }
    uv_read_start((uv_stream_t *)&c->pipe, fake_alloc, fake_read);
}

/* ---- builds against it -------------------------------------------------------- */

typedef struct world {
    uv_loop_t loop;
    fake f;
    docker *d;
    char dir[64];
    char clusters[128], agent[128];
} world;

typedef struct outcome {
    int calls, status;
    char msg[1024];
    char said[8192]; /* the progress lines, joined */
} outcome;

static void said(void *data, const char *image, const char *line) {
    outcome *o = data;
    size_t n = strlen(o->said);
    snprintf(o->said + n, sizeof(o->said) - n, "%s\n", line);
}

static void done(void *data, int status, const char *msg) {
    outcome *o = data;
    o->calls++;
    o->status = status;
    snprintf(o->msg, sizeof(o->msg), "%s", msg != NULL ? msg : "");
}

static void write_file(const char *dir, const char *name, const char *text) {
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    assert_non_null(f = fopen(path, "w"));
    fputs(text, f);
    fclose(f);
}

static void context(world *w, const char *name) {
    char dir[512];

    snprintf(dir, sizeof(dir), "%s/%s", w->clusters, name);
    assert_int_equal(mkdir(dir, 0755), 0);
    write_file(dir, "Dockerfile", "FROM scratch\n");
}

static int world_setup(void **state) {
    world *w = calloc(1, sizeof(*w));
    char addr[160];

    snprintf(w->dir, sizeof(w->dir), "/tmp/hdc-test-images-XXXXXX");
    assert_non_null(mkdtemp(w->dir));
    snprintf(w->clusters, sizeof(w->clusters), "%s/clusters", w->dir);
    assert_int_equal(mkdir(w->clusters, 0755), 0);
    context(w, "base");
    context(w, "client");
    context(w, "zookeeper");
    snprintf(w->agent, sizeof(w->agent), "%s/hdc-agent", w->dir);
    write_file(w->dir, "hdc-agent", "#!/bin/sh\n");
    assert_int_equal(chmod(w->agent, 0755), 0);

    assert_int_equal(uv_loop_init(&w->loop), 0);
    snprintf(w->f.path, sizeof(w->f.path), "%s/engine.sock", w->dir);
    assert_int_equal(uv_pipe_init(&w->loop, &w->f.server, 0), 0);
    w->f.server.data = &w->f;
    assert_int_equal(uv_pipe_bind(&w->f.server, w->f.path), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&w->f.server, 16, fake_connection), 0);
    snprintf(addr, sizeof(addr), "unix://%s", w->f.path);
    assert_int_equal(docker_new(&w->loop, addr, &w->d), 0);
    *state = w;
    return 0;
}

static void closed(void *data) {
    *(int *)data = 1;
}

static int world_teardown(void **state) {
    world *w = *state;
    char cmd[256];
    int c = 0;

    docker_close(w->d, closed, &c);
    uv_close((uv_handle_t *)&w->f.server, NULL);
    while (uv_run(&w->loop, UV_RUN_ONCE) != 0)
        ;
    assert_true(c);
    assert_int_equal(uv_loop_close(&w->loop), 0);
    for (int i = 0; i < w->f.n_images; i++)
        json_decref(w->f.labels[i]);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", w->dir);
    assert_int_equal(system(cmd), 0);
    free(w);
    return 0;
}

/* build-base, run to its end: how many build requests it sent. */
static int build_base(world *w, int stand_in, const char *base_image, outcome *o) {
    images_opts io = {.clusters_dir = w->clusters,
                      .agent_path = w->agent,
                      .base_image = base_image,
                      .dist_cache = w->dir,
                      .stand_in = stand_in};
    int before = w->f.builds;

    memset(o, 0, sizeof(*o));
    assert_int_equal(images_build_base(&w->loop, w->d, &io, said, done, o, NULL), 0);
    while (o->calls == 0 && uv_run(&w->loop, UV_RUN_ONCE) != 0)
        ;
    assert_int_equal(o->calls, 1);
    return w->f.builds - before;
}

static const char *label(world *w, const char *ref, const char *key) {
    int img = fake_find(&w->f, ref);
    return img < 0 ? NULL : json_string_value(json_object_get(w->f.labels[img], key));
}

static void a_second_build_with_nothing_changed_sends_no_build(void **state) {
    world *w = *state;
    outcome o;
    char id_tag[256];

    assert_int_equal(build_base(w, 0, "jdk:8", &o), 3);
    assert_int_equal(o.status, 0);
    /* Each image: its identity label, its identity tag, the alias. */
    assert_non_null(label(w, "hdc/base:latest", IMAGES_LABEL_IDENTITY));
    assert_string_equal(label(w, "hdc/base:latest", "hdc.image"), "hdc/base:latest");
    assert_null(label(w, "hdc/base:latest", IMAGES_LABEL_STAND_IN));
    images_identity_tag("hdc/base", label(w, "hdc/base:latest", IMAGES_LABEL_IDENTITY), id_tag,
                        sizeof(id_tag));
    assert_int_equal(fake_find(&w->f, id_tag), fake_find(&w->f, "hdc/base:latest"));
    assert_int_not_equal(fake_find(&w->f, "hdc/client:latest"), -1);
    assert_int_not_equal(fake_find(&w->f, "hdc/zookeeper:latest"), -1);
    /* The client is built FROM the base by its identity tag. */
    assert_non_null(strstr(w->f.last_args, "\"BASE_IMAGE\"")); /* zookeeper's, last */

    assert_int_equal(build_base(w, 0, "jdk:8", &o), 0);
    assert_int_equal(o.status, 0);
    assert_non_null(strstr(o.said, "hdc/base:latest is up to date"));
    assert_non_null(strstr(o.said, "hdc/client:latest is up to date"));
}

static void a_changed_base_rebuilds_what_is_built_from_it(void **state) {
    world *w = *state;
    outcome o;
    char dir[512];
    int base, client, zk;

    assert_int_equal(build_base(w, 0, "jdk:8", &o), 3);
    base = fake_find(&w->f, "hdc/base:latest");
    client = fake_find(&w->f, "hdc/client:latest");
    zk = fake_find(&w->f, "hdc/zookeeper:latest");

    /* A file of the base's context: the base and the client, not ZooKeeper. */
    snprintf(dir, sizeof(dir), "%s/base", w->clusters);
    write_file(dir, "motd", "changed\n");
    assert_int_equal(build_base(w, 0, "jdk:8", &o), 2);
    assert_int_not_equal(fake_find(&w->f, "hdc/base:latest"), base);
    assert_int_not_equal(fake_find(&w->f, "hdc/client:latest"), client);
    assert_int_equal(fake_find(&w->f, "hdc/zookeeper:latest"), zk);
    assert_non_null(strstr(w->f.last_args, "hdc/base:id-"));

    /* Another JDK layer (a build arg): the same. */
    base = fake_find(&w->f, "hdc/base:latest");
    assert_int_equal(build_base(w, 0, "jdk:11", &o), 2);
    assert_int_not_equal(fake_find(&w->f, "hdc/base:latest"), base);
    /* A mode counts as content. */
    snprintf(dir, sizeof(dir), "%s/base/motd", w->clusters);
    assert_int_equal(chmod(dir, 0700), 0);
    assert_int_equal(build_base(w, 0, "jdk:11", &o), 2);
    assert_int_equal(build_base(w, 0, "jdk:11", &o), 0);
}

static void a_stand_in_never_moves_what_a_real_build_resolves_to(void **state) {
    world *w = *state;
    outcome o;
    int base, client;

    assert_int_equal(build_base(w, 0, "jdk:8", &o), 3);
    base = fake_find(&w->f, "hdc/base:latest");
    client = fake_find(&w->f, "hdc/client:latest");

    /* The stand-in's: labelled, tagged :stand-in; latest stays the real one. */
    assert_int_equal(build_base(w, 1, "debian:bookworm", &o), 2);
    assert_int_equal(o.status, 0);
    assert_int_equal(fake_find(&w->f, "hdc/base:latest"), base);
    assert_int_equal(fake_find(&w->f, "hdc/client:latest"), client);
    assert_string_equal(label(w, "hdc/base:stand-in", IMAGES_LABEL_STAND_IN), "true");
    assert_string_equal(label(w, "hdc/client:stand-in", IMAGES_LABEL_STAND_IN), "true");
    assert_non_null(strstr(o.said, "hdc/base:latest is a real build"));
    /* Unchanged: nothing sent, and still nothing moved. */
    assert_int_equal(build_base(w, 1, "debian:bookworm", &o), 0);
    assert_int_equal(fake_find(&w->f, "hdc/base:latest"), base);
    /* The real one again: up to date, though the stand-in was built since. */
    assert_int_equal(build_base(w, 0, "jdk:8", &o), 0);
}

static void a_stand_in_takes_latest_only_while_no_real_build_has_it(void **state) {
    world *w = *state;
    outcome o;
    int real;

    assert_int_equal(build_base(w, 1, "debian:bookworm", &o), 3);
    assert_int_equal(fake_find(&w->f, "hdc/base:latest"), fake_find(&w->f, "hdc/base:stand-in"));
    /* A real build takes latest from it, and keeps it. */
    assert_int_equal(build_base(w, 0, "jdk:8", &o), 2);
    real = fake_find(&w->f, "hdc/base:latest");
    assert_int_not_equal(real, fake_find(&w->f, "hdc/base:stand-in"));
    assert_null(label(w, "hdc/base:latest", IMAGES_LABEL_STAND_IN));
    assert_int_equal(build_base(w, 1, "debian:bookworm", &o), 0);
    assert_int_equal(fake_find(&w->f, "hdc/base:latest"), real);
}

static void an_engine_that_is_not_there_is_said(void **state) {
    world *w = *state;
    images_opts io = {.clusters_dir = w->clusters, .agent_path = w->agent};
    outcome o = {0};
    docker *d;

    assert_int_equal(docker_new(&w->loop, "unix:///nonexistent/hdc-test.sock", &d), 0);
    assert_int_equal(images_build_base(&w->loop, d, &io, said, done, &o, NULL), 0);
    while (o.calls == 0 && uv_run(&w->loop, UV_RUN_ONCE) != 0)
        ;
    assert_int_equal(o.calls, 1);
    assert_int_not_equal(o.status, 0);
    assert_non_null(strstr(o.msg, "cannot ask Docker whether hdc/base:latest is built"));
    {
        int c = 0;
        docker_close(d, closed, &c);
        while (!c && uv_run(&w->loop, UV_RUN_ONCE) != 0)
            ;
    }
}

static int keep_all_but_c(const char *path, long long size, long long mtime_ns) {
    return strcmp(path, "/c/gone.tar.gz") != 0;
}

static void digests_compact_keeps_the_last_line_of_each_file_still_there(void **state) {
    const char *a = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const char *b = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    char *text = NULL, *want = NULL, *out;

    assert_true(asprintf(&text,
                         "%s 0 100 5 /c/hadoop-2.6.0.tar.gz\n"
                         "%s 1 200 6 /c/with space.tar.gz\n"
                         "garbage line\n"
                         "%s 1 101 7 /c/hadoop-2.6.0.tar.gz\n"
                         "%s 0 9 9 /c/gone.tar.gz",
                         a, b, b, a) > 0);
    assert_true(asprintf(&want,
                         "%s 1 200 6 /c/with space.tar.gz\n"
                         "%s 1 101 7 /c/hadoop-2.6.0.tar.gz\n",
                         b, b) > 0);
    assert_non_null(out = images_digests_compact(text, keep_all_but_c));
    assert_string_equal(out, want);
    free(out);
    /* Without keep: every file's last line, the malformed one dropped. */
    assert_non_null(out = images_digests_compact(text, NULL));
    assert_non_null(strstr(out, "/c/gone.tar.gz\n"));
    assert_null(strstr(out, "garbage"));
    assert_null(strstr(out, " 100 5 "));
    free(out);
    assert_non_null(out = images_digests_compact("", NULL));
    assert_string_equal(out, "");
    free(out);
    free(text);
    free(want);
}

/* ---- what `hdc up` runs: images_resolve -------------------------------------------- */

/* A distribution of two images: the release's (one artifact) and one FROM
 * it, as apache's hadoop and client. */
static const hdc_artifact fake_artifacts[] = {
    {.file = "hadoop-9.9.9.tar.gz", .url = "https://example.invalid/hadoop-9.9.9.tar.gz"}, {0}};
static const hdc_image fake_images[] = {
    {.name = "hadoop", .context = "dist", .artifacts = fake_artifacts},
    {.name = "client", .context = "distclient"},
    {0}};
/* Its client node runs hdc's client image by its alias, as testdist's. */
static const hdc_service fake_services[] = {
    {.name = "client", .image = "hdc/client:latest", .flags = HDC_SERVICE_CLIENT}, {0}};
static const hdc_plugin_desc fake_dist = {
    .name = "fake_9.9.9", .images = fake_images, .services = fake_services};

/* DIR/hadoop-9.9.9.tar.gz (the stand-in's when stand_in) and its .sha512. */
static void tarball(world *w, const char *dir, int stand_in, char *out, size_t len) {
    char cmd[2048];

    snprintf(out, len, "%s/%s/hadoop-9.9.9.tar.gz", w->dir, dir);
    snprintf(cmd, sizeof(cmd),
             "set -e; d='%s/%s'; rm -rf \"$d\"; mkdir -p \"$d/t/hadoop-9.9.9/libexec\";"
             " echo %s > \"$d/t/hadoop-9.9.9/libexec/%s\";"
             " tar -C \"$d/t\" -czf \"$d/hadoop-9.9.9.tar.gz\" hadoop-9.9.9;"
             " cd \"$d\" && sha512sum hadoop-9.9.9.tar.gz > hadoop-9.9.9.tar.gz.sha512",
             w->dir, dir, dir, stand_in ? "hdc-standin" : "hadoop");
    assert_int_equal(system(cmd), 0);
}

static void dist_contexts(world *w) {
    context(w, "dist");
    context(w, "distclient");
}

/* hdc build fake_9.9.9 --hadoop-tarball FILE: how many builds it sent. */
static int build_dist(world *w, const char *file, outcome *o) {
    images_opts io = {.clusters_dir = w->clusters, .dist_cache = w->dir, .hadoop_tarball = file};
    int before = w->f.builds;

    memset(o, 0, sizeof(*o));
    assert_int_equal(images_build_dist(&w->loop, w->d, &fake_dist, &io, said, done, o, NULL), 0);
    while (o->calls == 0 && uv_run(&w->loop, UV_RUN_ONCE) != 0)
        ;
    assert_int_equal(o->calls, 1);
    return w->f.builds - before;
}

/* The stand-in's base and fake_9.9.9 built from the stand-in tarball,
 * whose path goes to file. */
static void stand_in_built(world *w, char *file, size_t len) {
    outcome o;

    dist_contexts(w);
    tarball(w, "standin", 1, file, len);
    assert_int_equal(build_base(w, 1, "debian:bookworm", &o), 3);
    assert_int_equal(build_dist(w, file, &o), 2);
    assert_int_equal(o.status, 0);
}

typedef struct resolved_outcome {
    outcome o;
    cluster_images images;
} resolved_outcome;

static void resolved(void *data, int status, const char *msg, const cluster_images *images) {
    resolved_outcome *r = data;

    r->o.calls++;
    r->o.status = status;
    snprintf(r->o.msg, sizeof(r->o.msg), "%s", msg != NULL ? msg : "");
    if (status == 0)
        r->images = *images;
    else
        assert_null(images);
}

/* What hdc up runs of fake_9.9.9 (cache: the world's, or another
 * directory): how many builds it sent. */
static int resolve(world *w, const char *cache, resolved_outcome *r) {
    images_opts io = {.clusters_dir = w->clusters, .dist_cache = cache ? cache : w->dir};
    int before = w->f.builds;

    memset(r, 0, sizeof(*r));
    assert_int_equal(images_resolve(&w->loop, w->d, &fake_dist, &io, said, resolved, r, NULL), 0);
    while (r->o.calls == 0 && uv_run(&w->loop, UV_RUN_ONCE) != 0)
        ;
    assert_int_equal(r->o.calls, 1);
    return w->f.builds - before;
}

static const char *ref_of(const resolved_outcome *r, const char *name) {
    for (size_t i = 0; i < r->images.n; i++)
        if (strcmp(r->images.name[i], name) == 0)
            return r->images.ref[i];
    return NULL;
}

static void up_runs_the_identity_tags_of_the_last_build_and_builds_nothing(void **state) {
    world *w = *state;
    resolved_outcome r;
    char file[512];
    int hadoop;

    stand_in_built(w, file, sizeof(file));
    hadoop = fake_find(&w->f, "hdc/fake_9.9.9-hadoop:latest");

    assert_int_equal(resolve(w, NULL, &r), 0);
    assert_int_equal(r.o.status, 0);
    assert_int_equal(r.images.n, 3);
    assert_true(r.images.stand_in);
    /* hdc's client image, named by its alias: pinned to its identity tag. */
    assert_int_equal(strncmp(ref_of(&r, "hdc/client:latest"), "hdc/client:id-", 14), 0);
    assert_int_equal(fake_find(&w->f, ref_of(&r, "hdc/client:latest")),
                     fake_find(&w->f, "hdc/client:latest"));
    assert_int_equal(strncmp(ref_of(&r, "hadoop"), "hdc/fake_9.9.9-hadoop:id-", 25), 0);
    assert_int_equal(fake_find(&w->f, ref_of(&r, "hadoop")), hadoop);
    assert_int_equal(fake_find(&w->f, ref_of(&r, "client")),
                     fake_find(&w->f, "hdc/fake_9.9.9-client:latest"));
    assert_int_equal(strncmp(r.images.zookeeper, "hdc/zookeeper:id-", 17), 0);
    assert_int_equal(fake_find(&w->f, r.images.zookeeper),
                     fake_find(&w->f, "hdc/zookeeper:latest"));

    /* The alias moved (another checkout's build): nothing changes. */
    fake_set_tag(&w->f, "hdc/fake_9.9.9-hadoop:latest", fake_find(&w->f, "hdc/base:latest"));
    assert_int_equal(resolve(w, NULL, &r), 0);
    assert_int_equal(r.o.status, 0);
    assert_int_equal(fake_find(&w->f, ref_of(&r, "hadoop")), hadoop);
}

static void up_builds_what_changed_when_every_input_is_here_and_says_so(void **state) {
    world *w = *state;
    resolved_outcome r;
    char file[512], dir[512], before[256];

    stand_in_built(w, file, sizeof(file));
    assert_int_equal(resolve(w, NULL, &r), 0);
    snprintf(before, sizeof(before), "%s", ref_of(&r, "hadoop"));

    /* The release's context changed: it and the image FROM it are built. */
    snprintf(dir, sizeof(dir), "%s/dist", w->clusters);
    write_file(dir, "hdc-hadoop-conf", "changed\n");
    assert_int_equal(resolve(w, NULL, &r), 2);
    assert_int_equal(r.o.status, 0);
    assert_string_not_equal(ref_of(&r, "hadoop"), before);
    assert_int_not_equal(fake_find(&w->f, ref_of(&r, "hadoop")), -1);
    assert_non_null(strstr(r.o.said, "is not built for its inputs"));
    assert_non_null(strstr(w->f.last_args, ref_of(&r, "hadoop"))); /* the client FROM it */
    assert_int_equal(resolve(w, NULL, &r), 0);

    /* Changed again, the release it was built from gone: refused, naming
     * hdc build, and nothing built. */
    assert_int_equal(unlink(file), 0);
    write_file(dir, "hdc-hadoop-conf", "changed again\n");
    assert_int_equal(resolve(w, NULL, &r), 0);
    assert_int_equal(r.o.status, CLUSTER_ENOIMAGE);
    assert_non_null(strstr(r.o.msg, "is not there any more: run `hdc build fake_9.9.9`"));
}

static void up_without_a_release_here_names_hdc_build(void **state) {
    world *w = *state;
    outcome o;
    resolved_outcome r;
    char empty[512];

    dist_contexts(w);
    assert_int_equal(build_base(w, 1, "debian:bookworm", &o), 3);
    snprintf(empty, sizeof(empty), "%s/empty-cache", w->dir);
    assert_int_equal(resolve(w, empty, &r), 0);
    assert_int_equal(r.o.status, CLUSTER_ENOIMAGE);
    assert_non_null(strstr(r.o.msg, "no release to run: hadoop-9.9.9.tar.gz is not in"));
    assert_non_null(strstr(r.o.msg, "run `hdc build fake_9.9.9`"));
}

static void up_runs_a_real_build_before_the_stand_in(void **state) {
    world *w = *state;
    outcome o;
    resolved_outcome r;
    char standin[512], real[512], stand_in_ref[256];

    stand_in_built(w, standin, sizeof(standin));
    tarball(w, "real", 0, real, sizeof(real));
    assert_int_equal(resolve(w, NULL, &r), 0);
    assert_true(r.images.stand_in);
    snprintf(stand_in_ref, sizeof(stand_in_ref), "%s", ref_of(&r, "hadoop"));

    assert_int_equal(build_base(w, 0, "jdk:8", &o), 2);
    assert_int_equal(build_dist(w, real, &o), 2);
    assert_int_equal(o.status, 0);
    assert_int_equal(resolve(w, NULL, &r), 0);
    assert_int_equal(r.o.status, 0);
    assert_false(r.images.stand_in);
    assert_string_not_equal(ref_of(&r, "hadoop"), stand_in_ref);
    assert_null(label(w, ref_of(&r, "hadoop"), IMAGES_LABEL_STAND_IN));
    /* A stand-in build since does not change that. */
    assert_int_equal(build_dist(w, standin, &o), 0);
    assert_int_equal(resolve(w, NULL, &r), 0);
    assert_false(r.images.stand_in);
}

static void record_lookup_takes_image_and_file_and_the_path_whole(void **state) {
    const char *text = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef 1 10 20 "
                       "hadoop hadoop-2.6.0.tar.gz /tmp/a dir/hadoop-2.6.0.tar.gz\n"
                       "garbage line\n"
                       "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210 0 30 40 "
                       "other hadoop-2.6.0.tar.gz /tmp/other\n";
    images_record_entry e;

    assert_true(images_record_lookup(text, "hadoop", "hadoop-2.6.0.tar.gz", &e));
    assert_int_equal(e.sha256[0], '0');
    assert_true(e.stand_in);
    assert_int_equal(e.size, 10);
    assert_int_equal(e.mtime_ns, 20);
    assert_string_equal(e.path, "/tmp/a dir/hadoop-2.6.0.tar.gz");
    assert_true(images_record_lookup(text, "other", "hadoop-2.6.0.tar.gz", &e));
    assert_false(e.stand_in);
    assert_false(images_record_lookup(text, "hadoop", "hadoop-3.3.6.tar.gz", &e));
    assert_false(images_record_lookup(NULL, "hadoop", "hadoop-2.6.0.tar.gz", &e));
    assert_false(images_record_lookup("", "hadoop", "hadoop-2.6.0.tar.gz", &e));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(identity_tag_replaces_the_tag_with_id_and_16_hex),
        cmocka_unit_test(the_stand_in_is_its_program_one_level_down),
        cmocka_unit_test(digest_lookup_wants_path_size_and_mtime_and_takes_the_last),
        cmocka_unit_test(gc_keeps_what_runs_and_the_newest_of_each_repository),
        cmocka_unit_test(stand_in_clusters_are_those_running_a_stand_in_image),
        cmocka_unit_test_setup_teardown(a_second_build_with_nothing_changed_sends_no_build,
                                        world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(a_changed_base_rebuilds_what_is_built_from_it, world_setup,
                                        world_teardown),
        cmocka_unit_test_setup_teardown(a_stand_in_never_moves_what_a_real_build_resolves_to,
                                        world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(a_stand_in_takes_latest_only_while_no_real_build_has_it,
                                        world_setup, world_teardown),
        cmocka_unit_test(record_lookup_takes_image_and_file_and_the_path_whole),
        cmocka_unit_test(digests_compact_keeps_the_last_line_of_each_file_still_there),
        cmocka_unit_test_setup_teardown(
            up_runs_the_identity_tags_of_the_last_build_and_builds_nothing, world_setup,
            world_teardown),
        cmocka_unit_test_setup_teardown(up_builds_what_changed_when_every_input_is_here_and_says_so,
                                        world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(up_without_a_release_here_names_hdc_build, world_setup,
                                        world_teardown),
        cmocka_unit_test_setup_teardown(up_runs_a_real_build_before_the_stand_in, world_setup,
                                        world_teardown),
        cmocka_unit_test_setup_teardown(an_engine_that_is_not_there_is_said, world_setup,
                                        world_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
