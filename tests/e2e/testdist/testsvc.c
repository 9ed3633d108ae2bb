/* The daemons of the test distribution (testdist), which exercises hdc's
 * engine without Hadoop. It is not Hadoop and does nothing Hadoop does; it
 * only behaves the way the engine needs to see:
 *
 *   testsvc master PORT          HTTP on PORT: GET /register?host=H records
 *                                a worker; GET /status answers
 *                                {"workers": N, "hosts": [...]} with the
 *                                workers heard from in the last 10 s.
 *   testsvc worker MASTER PORT SELFPORT
 *                                registers with MASTER:PORT every second,
 *                                resolving MASTER by name (so a broken
 *                                /etc/hosts fails), and answers HTTP 200 on
 *                                SELFPORT.
 *   testsvc hosts-check          every name in /etc/hosts resolves forward
 *                                to its address and back to its name through
 *                                the C library; prints each, exits 1 on a
 *                                mismatch.
 *   testsvc exit STATUS          prints a line and exits with STATUS (a
 *                                daemon that dies during boot).
 *
 * A fixture, so plain blocking code: one request per connection, poll().
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS 128

static struct {
    char host[128];
    time_t seen;
} workers[MAX_WORKERS];

static int listen_on(int port) {
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, 64) != 0) {
        fprintf(stderr, "testsvc: cannot listen on port %d: %m\n", port);
        exit(1);
    }
    return fd;
}

static void respond(int fd, int status, const char *body) {
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     status, status == 200 ? "OK" : "Not Found", strlen(body));
    if (write(fd, head, (size_t)n) < 0 || write(fd, body, strlen(body)) < 0)
        return;
}

static void master_record(const char *host) {
    time_t now = time(NULL);
    int free_slot = -1;

    for (int i = 0; i < MAX_WORKERS; i++) {
        if (strcmp(workers[i].host, host) == 0) {
            workers[i].seen = now;
            return;
        }
        if (free_slot < 0 && workers[i].host[0] == '\0')
            free_slot = i;
    }
    if (free_slot >= 0) {
        snprintf(workers[free_slot].host, sizeof(workers[free_slot].host), "%s", host);
        workers[free_slot].seen = now;
        printf("master: worker %s registered\n", host);
        fflush(stdout);
    }
}

static void master_status(int fd) {
    char body[8192];
    size_t len = 0;
    int n = 0;
    time_t now = time(NULL);

    len += (size_t)snprintf(body + len, sizeof(body) - len, "{\"hosts\": [");
    for (int i = 0; i < MAX_WORKERS; i++) {
        if (workers[i].host[0] == '\0' || now - workers[i].seen > 10)
            continue;
        len += (size_t)snprintf(body + len, sizeof(body) - len, "%s\"%s\"", n ? ", " : "",
                                workers[i].host);
        n++;
    }
    snprintf(body + len, sizeof(body) - len, "], \"workers\": %d}", n);
    respond(fd, 200, body);
}

static _Noreturn void master(int port) {
    int lfd = listen_on(port);

    printf("master: listening on %d\n", port);
    fflush(stdout);
    for (;;) {
        char req[2048];
        char host[128];
        ssize_t n;
        int fd = accept(lfd, NULL, NULL);

        if (fd < 0)
            continue;
        n = read(fd, req, sizeof(req) - 1);
        req[n > 0 ? n : 0] = '\0';
        if (sscanf(req, "GET /register?host=%127[a-zA-Z0-9.-]", host) == 1) {
            master_record(host);
            respond(fd, 200, "{\"registered\": true}");
        } else if (strncmp(req, "GET /status ", 12) == 0) {
            master_status(fd);
        } else {
            respond(fd, 404, "{}");
        }
        close(fd);
    }
}

static int register_once(const char *master_host, const char *port, const char *self) {
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai;
    char req[256];
    int fd, rc;

    rc = getaddrinfo(master_host, port, &hints, &ai);
    if (rc != 0) {
        fprintf(stderr, "worker: cannot resolve %s: %s\n", master_host, gai_strerror(rc));
        return -1;
    }
    fd = socket(AF_INET, SOCK_STREAM, 0);
    rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    if (rc == 0) {
        int n = snprintf(req, sizeof(req), "GET /register?host=%s HTTP/1.1\r\nHost: %s\r\n\r\n",
                         self, master_host);
        rc = write(fd, req, (size_t)n) == n ? 0 : -1;
        if (rc == 0)
            rc = read(fd, req, sizeof(req)) > 0 ? 0 : -1;
    }
    close(fd);
    return rc;
}

static _Noreturn void worker(const char *master_host, const char *port, int self_port) {
    char self[128];
    int lfd = listen_on(self_port);
    int registered = 0;

    gethostname(self, sizeof(self));
    for (;;) {
        struct pollfd p = {.fd = lfd, .events = POLLIN};

        if (register_once(master_host, port, self) == 0 && !registered) {
            printf("worker %s: registered with %s:%s\n", self, master_host, port);
            fflush(stdout);
            registered = 1;
        }
        /* Answer readiness checks while waiting for the next heartbeat. */
        while (poll(&p, 1, 1000) == 1) {
            int fd = accept(lfd, NULL, NULL);
            if (fd >= 0) {
                char buf[1024];
                if (read(fd, buf, sizeof(buf)) >= 0)
                    respond(fd, 200, "{\"ok\": true}");
                close(fd);
            }
        }
    }
}

static int hosts_check(void) {
    FILE *f = fopen("/etc/hosts", "r");
    char line[512];
    int bad = 0, checked = 0;

    if (f == NULL) {
        perror("hosts-check: /etc/hosts");
        return 1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        char ip[64], name[256], back[NI_MAXHOST];
        struct addrinfo hints = {.ai_family = AF_INET}, *ai;
        struct sockaddr_in sin = {.sin_family = AF_INET};
        char got[64] = "";

        if (sscanf(line, "%63s %255s", ip, name) != 2 || ip[0] == '#' ||
            inet_pton(AF_INET, ip, &sin.sin_addr) != 1 || strncmp(ip, "127.", 4) == 0)
            continue;
        checked++;
        if (getaddrinfo(name, NULL, &hints, &ai) == 0) {
            inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, got, sizeof(got));
            freeaddrinfo(ai);
        }
        if (getnameinfo((struct sockaddr *)&sin, sizeof(sin), back, sizeof(back), NULL, 0,
                        NI_NAMEREQD) != 0)
            back[0] = '\0';
        if (strcmp(got, ip) != 0 || strcmp(back, name) != 0) {
            printf("BAD %s -> %s, %s -> %s\n", name, got[0] ? got : "(none)", ip,
                   back[0] ? back : "(none)");
            bad++;
        } else {
            printf("ok %s <-> %s\n", name, ip);
        }
    }
    fclose(f);
    if (checked == 0) {
        printf("BAD: no addresses in /etc/hosts\n");
        return 1;
    }
    return bad ? 1 : 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* A peer that hangs up (a readiness check) must not kill the daemon. */
    signal(SIGPIPE, SIG_IGN);
    if (argc == 3 && strcmp(argv[1], "master") == 0)
        master(atoi(argv[2]));
    if (argc == 5 && strcmp(argv[1], "worker") == 0)
        worker(argv[2], argv[3], atoi(argv[4]));
    if (argc == 2 && strcmp(argv[1], "hosts-check") == 0)
        return hosts_check();
    if (argc == 3 && strcmp(argv[1], "exit") == 0) {
        printf("testsvc: exiting with status %s as asked\n", argv[2]);
        return atoi(argv[2]);
    }
    fprintf(stderr, "usage: testsvc master PORT | worker MASTER PORT SELFPORT | hosts-check"
                    " | exit STATUS\n");
    return 2;
}
