/* The Docker calls that stream (see docker.h): logs, a container's files
 * as a tar archive, events, image builds and exec. Each is a call of the
 * table in docker.c (docker_call.h) whose reply is read as it comes, by
 * the demultiplexer (demux.c) or the line splitter (lines.c).
 *
 * Decisions a newcomer might question:
 * - The build context is archived by libarchive into a temporary file in
 *   uv_queue_work, then streamed by http's body_file: the context can be
 *   large and archiving reads the disk, so it must not run on the loop nor
 *   sit in memory. The file is removed when the call ends.
 * - Streaming requests collect the body of an error reply instead of
 *   streaming it, so that Docker's message reaches the callback.
 * - Deadlines (docker.c's table): a stream's head must come within T
 *   (HDC_DOCKER_TIMEOUT); its body has none, since a followed log may be
 *   silent for hours. A build's head counts from the end of the
 *   context's upload, which http bounds piece by piece instead: a large
 *   context to a busy engine is never cut, a silent engine fails it.
 * - Exec: after the hijacked stream closes, GET /exec/{id}/json gives the
 *   exit code. The daemon closes the stream once the process has exited,
 *   but should the inspect still say Running, it is asked again (bounded)
 *   instead of reporting a made-up code.
 */
#define _GNU_SOURCE /* mkstemp */
#include "docker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "docker_call.h"
#include "docker_json.h"
#include "util.h"

/* How often an exec still reported running is inspected again. */
#define EXEC_INSPECT_TRIES 200

static char *strdup_or_null(const char *s) {
    return s ? strdup(s) : NULL;
}

/* ---- logs and events ----------------------------------------------------- */

static int logs_on_piece(void *data, int stream, const char *buf, size_t len) {
    docker_call *c = data;

    if (stream == DEMUX_SYSTEMERR) {
        docker__stream_error(c, DOCKER_ESTREAM, "%s: Docker engine: %.*s", c->op->what,
                             (int)(len > 1000 ? 1000 : len), buf);
        return DOCKER_ESTREAM;
    }
    if (c->canceled)
        return UV_ECANCELED;
    if (stream == DEMUX_STDIN)
        return 0;
    c->on_output(c->data, stream, buf, len);
    return 0;
}

/* A stream's reply is complete: the end of the stream. */
static void ok_stream_end(docker_call *c, const http_response *res) {
    int rc = 0;

    if (c->have_dm)
        rc = demux_finish(&c->dm);
    else if (c->have_ln)
        rc = lines_finish(&c->ln);
    if (c->stream_msg) {
        docker__fail(c, c->stream_err, c->stream_msg);
        return;
    }
    if (rc) {
        docker__failf(c, c->have_dm ? DOCKER_ESTREAM : DOCKER_EPROTO, "%s: %s", c->op->what,
                      hdc_strerror(rc));
        return;
    }
    c->finished = 1;
    c->cb.plain(c->data, 0, NULL);
    docker__call_free(c);
}

/* Starts a stream call of row op: its typed callback is set by the caller;
 * the reply's bytes go to its demultiplexer or line splitter. */
static docker_call *stream_new(docker *d, enum docker_op op, docker_cb cb, void *data) {
    docker_call *c = docker__call_new(d, op, data);

    if (c) {
        c->cb.plain = cb;
        c->ok = ok_stream_end;
    }
    return c;
}

int docker_logs(docker *d, const char *id, const docker_logs_opts *opts, docker_output_cb on_output,
                docker_cb cb, void *data, docker_call **out) {
    static const docker_logs_opts none;
    docker_call *c;

    if (!id || !on_output || !cb)
        return UV_EINVAL;
    if (!opts)
        opts = &none;
    if (!(c = stream_new(d, OP_LOGS, cb, data)))
        return d->closing ? UV_EINVAL : UV_ENOMEM;
    c->on_output = on_output;
    demux_init(&c->dm, opts->tty, 0, logs_on_piece, c);
    c->have_dm = 1;
    return docker__send(c, docker_logs_target(id, opts), NULL, 0, out);
}

int docker_container_archive(docker *d, const char *id, const char *path,
                             docker_output_cb on_output, docker_cb cb, void *data,
                             docker_call **out) {
    docker_call *c;
    char *e_path, *q, *target;

    if (!id || !path || !on_output || !cb)
        return UV_EINVAL;
    e_path = docker_url_escape(path);
    q = e_path ? util_asprintf("?path=%s", e_path) : NULL;
    free(e_path);
    if (!q)
        return UV_ENOMEM;
    if (!(c = stream_new(d, OP_ARCHIVE, cb, data))) {
        free(q);
        return d->closing ? UV_EINVAL : UV_ENOMEM;
    }
    c->on_output = on_output;
    demux_init(&c->dm, 1, 0, logs_on_piece, c); /* raw: a tar stream, not frames */
    c->have_dm = 1;
    target = docker__path(OP_ARCHIVE, id, q);
    free(q);
    return docker__send(c, target, NULL, 0, out);
}

static int events_on_line(void *data, char *line, size_t len) {
    docker_call *c = data;
    json_error_t jerr;
    json_t *ev;

    if (c->canceled)
        return UV_ECANCELED;
    while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\r'))
        len--;
    if (len == 0)
        return 0;
    ev = json_loadb(line, len, 0, &jerr);
    if (!ev || !json_is_object(ev)) {
        docker__stream_error(c, DOCKER_EPROTO,
                             "%s: an event from the Docker engine is not JSON: %s", c->op->what,
                             ev ? "not an object" : jerr.text);
        json_decref(ev);
        return DOCKER_EPROTO;
    }
    c->on_event(c->data, ev);
    json_decref(ev);
    return 0;
}

int docker_events(docker *d, const docker_events_opts *opts, docker_event_cb on_event, docker_cb cb,
                  void *data, docker_call **out) {
    static const docker_events_opts none;
    docker_call *c;

    if (!on_event || !cb)
        return UV_EINVAL;
    if (!opts)
        opts = &none;
    if (!(c = stream_new(d, OP_EVENTS, cb, data)))
        return d->closing ? UV_EINVAL : UV_ENOMEM;
    c->on_event = on_event;
    lines_init(&c->ln, 0, events_on_line, c);
    c->have_ln = 1;
    return docker__send(c, docker_events_target(opts), NULL, 0, out);
}

/* ---- build ----------------------------------------------------------------- */

static int build_on_line(void *data, char *line, size_t len) {
    docker_call *c = data;
    docker_build_progress p;
    json_t *root = NULL;
    int rc;

    if (c->canceled)
        return UV_ECANCELED;
    rc = docker_build_line_parse(line, len, &root, &p);
    if (rc == DOCKER_EPROTO) {
        docker__stream_error(c, DOCKER_EPROTO, "build: a line of build output is not JSON: %.200s",
                             line);
        json_decref(root);
        return rc;
    }
    if (!root) /* an empty line */
        return 0;
    if (p.aux_id && !c->image_id)
        c->image_id = strdup(p.aux_id);
    if (rc == DOCKER_EBUILD)
        docker__stream_error(c, DOCKER_EBUILD, "%s", p.error ? p.error : "build failed");
    if (c->on_progress)
        c->on_progress(c->data, &p);
    json_decref(root);
    /* After an error Docker ends the stream itself: read on to its end. */
    return 0;
}

static void build_ok(docker_call *c, const http_response *res) {
    int rc = lines_finish(&c->ln);

    if (c->stream_msg) {
        docker__fail(c, c->stream_err, c->stream_msg);
        return;
    }
    if (rc) {
        docker__failf(c, DOCKER_EPROTO, "build: %s", hdc_strerror(rc));
        return;
    }
    if (!c->image_id) {
        docker__failf(c, DOCKER_EPROTO, "build: the output ended without an image ID");
        return;
    }
    c->finished = 1;
    c->cb.id(c->data, 0, NULL, c->image_id);
    docker__call_free(c);
}

static void build_work(uv_work_t *w) {
    docker_call *c = w->data;
    const char *tmp = getenv("TMPDIR");
    int fd;

    if (!tmp || !*tmp)
        tmp = "/tmp";
    c->tar_path = util_asprintf("%s/hdc-context-XXXXXX", tmp);
    if (!c->tar_path) {
        c->work_rc = UV_ENOMEM;
        return;
    }
    fd = mkstemp(c->tar_path);
    if (fd < 0) {
        snprintf(c->err, sizeof(c->err), "cannot create a temporary file in %s: %s", tmp,
                 strerror(errno));
        free(c->tar_path);
        c->tar_path = NULL;
        c->work_rc = DOCKER_ECONTEXT;
        return;
    }
    close(fd);
    c->work_rc = docker_context_archive(c->context_dir, c->tar_path, c->err, sizeof(c->err));
}

static void build_after_work(uv_work_t *w, int status) {
    docker_call *c = w->data;
    docker *d = c->d;
    int rc;

    d->n_work--;
    if (c->canceled || d->closing || status == UV_ECANCELED) {
        docker__failf(c, UV_ECANCELED, "build: canceled");
    } else if (c->work_rc) {
        docker__failf(c, c->work_rc, "build: context %s: %s", c->context_dir,
                      c->err[0] ? c->err : hdc_strerror(c->work_rc));
    } else {
        char *target = c->target; /* the request owns it now */
        c->target = NULL;
        rc = docker__request(c, NULL, target, NULL, 0, c->tar_path, "application/x-tar");
        if (rc)
            docker__failf(c, rc, "build: %s", hdc_strerror(rc));
    }
    docker__maybe_free(d);
}

int docker_build(docker *d, const docker_build_opts *opts, docker_build_progress_cb on_progress,
                 docker_id_cb cb, void *data, docker_call **out) {
    docker_call *c;
    int rc;

    if (!opts || !opts->context_dir || !cb)
        return UV_EINVAL;
    if (!(c = docker__call_new(d, OP_BUILD, data)))
        return d->closing ? UV_EINVAL : UV_ENOMEM;
    c->cb.id = cb;
    c->ok = build_ok;
    c->on_progress = on_progress;
    c->context_dir = strdup(opts->context_dir);
    c->target = docker_build_target(opts);
    if (!c->context_dir || !c->target) {
        c->finished = 1;
        docker__call_free(c);
        return UV_ENOMEM;
    }
    lines_init(&c->ln, 0, build_on_line, c);
    c->have_ln = 1;
    c->work.data = c;
    rc = uv_queue_work(d->loop, &c->work, build_work, build_after_work);
    if (rc) {
        c->finished = 1;
        docker__call_free(c);
        return rc;
    }
    d->n_work++;
    if (out)
        *out = c;
    return 0;
}

/* ---- exec ------------------------------------------------------------------ */

static void exec_inspect(docker_call *c);

static void exec_inspect_ok(docker_call *c, const http_response *res) {
    json_t *root = docker__json(c, res), *code;

    if (!root)
        return;
    code = json_object_get(root, "ExitCode");
    if (json_is_true(json_object_get(root, "Running")) || !json_is_integer(code)) {
        json_decref(root);
        if (++c->inspect_tries < EXEC_INSPECT_TRIES) {
            exec_inspect(c);
            return;
        }
        docker__failf(c, DOCKER_EPROTO,
                      "exec: the command's output ended but Docker still "
                      "reports it running");
        return;
    }
    c->finished = 1;
    c->cb.exec(c->data, 0, NULL, (int)json_integer_value(code));
    json_decref(root);
    docker__call_free(c);
}

static void exec_inspect(docker_call *c) {
    char *id = docker_url_escape(c->exec_id);
    char *target = id ? util_asprintf(V "/exec/%s/json", id) : NULL;
    int rc;

    free(id);
    c->ok = exec_inspect_ok;
    c->on_head = NULL;
    docker__deadline(c, DEADLINE_QUICK);
    rc = docker__request(c, "GET", target, NULL, HTTP_BUFFER_BODY, NULL, NULL);
    if (rc)
        docker__failf(c, rc, "exec: %s", hdc_strerror(rc));
}

/* The hijacked stream has ended. */
static void exec_stream_ok(docker_call *c, const http_response *res) {
    int rc = demux_finish(&c->dm);

    if (c->stream_msg) {
        docker__fail(c, c->stream_err, c->stream_msg);
        return;
    }
    if (rc) {
        docker__failf(c, DOCKER_ESTREAM, "exec: %s", hdc_strerror(rc));
        return;
    }
    exec_inspect(c);
}

/* The stream is hijacked: the command's stdin goes out, then EOF. */
static void exec_upgraded(docker_call *c, const http_response *res) {
    if ((res->status == 101 || res->status == 200) && c->req && c->has_stdin) {
        if (c->stdin_len > 0)
            http_request_write(c->req, c->stdin_data, c->stdin_len);
        http_request_shutdown(c->req);
    }
}

static void exec_created(docker_call *c, const http_response *res) {
    json_t *root = docker__json(c, res), *body;
    char *id, *target;
    int rc;

    if (!root)
        return;
    c->exec_id = strdup_or_null(json_string_value(json_object_get(root, "Id")));
    json_decref(root);
    if (!c->exec_id) {
        docker__failf(c, DOCKER_EPROTO, "exec: no Id in the Docker engine's reply");
        return;
    }
    if (c->canceled || c->d->closing) {
        docker__failf(c, UV_ECANCELED, "exec: canceled");
        return;
    }
    body = json_pack("{s:b,s:b}", "Detach", 0, "Tty", c->tty);
    id = docker_url_escape(c->exec_id);
    target = id ? util_asprintf(V "/exec/%s/start", id) : NULL;
    free(id);
    if (!body) {
        free(target);
        docker__fail(c, UV_ENOMEM, NULL);
        return;
    }
    c->ok = exec_stream_ok;
    c->on_head = exec_upgraded;
    docker__deadline(c, DEADLINE_HEAD); /* the command runs as long as it runs */
    rc = docker__request(c, "POST", target, body, HTTP_UPGRADE, NULL, NULL);
    json_decref(body);
    if (rc)
        docker__failf(c, rc, "exec: %s", hdc_strerror(rc));
}

int docker_exec(docker *d, const char *id, const docker_exec_opts *opts, docker_output_cb on_output,
                docker_exec_cb cb, void *data, docker_call **out) {
    json_t *body;
    docker_call *c;
    int rc;

    if (!id || !opts || !on_output || !cb || opts->n_cmd == 0)
        return UV_EINVAL;
    if (!(body = docker_exec_create_body(opts)))
        return UV_EINVAL;
    if (!(c = docker__call_new(d, OP_EXEC, data))) {
        json_decref(body);
        return d->closing ? UV_EINVAL : UV_ENOMEM;
    }
    c->cb.exec = cb;
    c->ok = exec_created;
    c->on_output = on_output;
    c->tty = opts->tty != 0;
    if (opts->stdin_data) {
        c->has_stdin = 1;
        c->stdin_len = opts->stdin_len;
        c->stdin_data = malloc(opts->stdin_len ? opts->stdin_len : 1);
        if (!c->stdin_data) {
            json_decref(body);
            c->finished = 1;
            docker__call_free(c);
            return UV_ENOMEM;
        }
        memcpy(c->stdin_data, opts->stdin_data, opts->stdin_len);
    }
    demux_init(&c->dm, c->tty, 0, logs_on_piece, c);
    c->have_dm = 1;
    rc = docker__send(c, docker__path(OP_EXEC, id, NULL), body, HTTP_BUFFER_BODY, out);
    json_decref(body);
    return rc;
}

/* ---- the build context ---------------------------------------------------- */

int docker_context_archive(const char *dir, const char *tar_path, char *err, size_t err_len) {
    struct archive *disk = NULL, *w = NULL;
    struct archive_entry *entry = NULL;
    char *root = NULL, buf[65536];
    size_t root_len;
    int rc = DOCKER_ECONTEXT;

    if (err_len)
        err[0] = '\0';
    root = strdup(dir);
    if (!root)
        return UV_ENOMEM;
    root_len = strlen(root);
    while (root_len > 1 && root[root_len - 1] == '/')
        root[--root_len] = '\0';

    disk = archive_read_disk_new();
    w = archive_write_new();
    if (!disk || !w) {
        rc = UV_ENOMEM;
        goto exit;
    }
    archive_read_disk_set_symlink_physical(disk);
    archive_read_disk_set_standard_lookup(disk);
    /* pax_restricted: plain ustar unless a name or size needs pax headers. */
    if (archive_write_set_format_pax_restricted(w) != ARCHIVE_OK ||
        archive_write_open_filename(w, tar_path) != ARCHIVE_OK) {
        snprintf(err, err_len, "%s: %s", tar_path, archive_error_string(w));
        goto exit;
    }
    if (archive_read_disk_open(disk, root) != ARCHIVE_OK) {
        snprintf(err, err_len, "%s: %s", root, archive_error_string(disk));
        goto exit;
    }
    for (;;) {
        const char *path, *rel;
        int r;

        archive_entry_free(entry);
        entry = archive_entry_new();
        if (!entry) {
            rc = UV_ENOMEM;
            goto exit;
        }
        r = archive_read_next_header2(disk, entry);
        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            snprintf(err, err_len, "%s", archive_error_string(disk));
            goto exit;
        }
        archive_read_disk_descend(disk);
        path = archive_entry_pathname(entry);
        if (!path || strncmp(path, root, root_len) != 0)
            continue;
        rel = path + root_len;
        while (*rel == '/')
            rel++;
        if (!*rel)
            continue; /* the directory itself */
        archive_entry_copy_pathname(entry, rel);
        if (archive_write_header(w, entry) != ARCHIVE_OK) {
            snprintf(err, err_len, "%s: %s", rel, archive_error_string(w));
            goto exit;
        }
        if (archive_entry_filetype(entry) == AE_IFREG && archive_entry_size(entry) > 0) {
            la_ssize_t n;
            while ((n = archive_read_data(disk, buf, sizeof(buf))) > 0) {
                if (archive_write_data(w, buf, (size_t)n) != n) {
                    snprintf(err, err_len, "%s: %s", rel, archive_error_string(w));
                    goto exit;
                }
            }
            if (n < 0) {
                snprintf(err, err_len, "%s/%s: %s", root, rel, archive_error_string(disk));
                goto exit;
            }
        }
    }
    if (archive_write_close(w) != ARCHIVE_OK) {
        snprintf(err, err_len, "%s: %s", tar_path, archive_error_string(w));
        goto exit;
    }
    rc = 0;
exit:
    archive_entry_free(entry);
    if (disk)
        archive_read_free(disk);
    if (w)
        archive_write_free(w);
    free(root);
    return rc;
}
