/* The program inside the two containers of test_docker_two_containers,
 * built with gcc -static into a FROM-scratch image.
 *
 *   peer serve ME PEER   listen on TCP 7000 and answer each "ping from X"
 *                        line with "pong from ME"; meanwhile find PEER's
 *                        address in /etc/hosts, connect, say "ping from ME"
 *                        and print the reply. Runs until SIGTERM (exit 0).
 *   peer exec            print the hostname and a line read from stdin on
 *                        stdout, a line on stderr, and exit 3.
 *
 * A static glibc program cannot use NSS in a scratch image, so /etc/hosts
 * (which Docker writes from ExtraHosts) is read by hand. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PORT 7000

static void on_term(int sig) {
    (void)sig;
    _exit(0);
}

static int lookup(const char *name, struct in_addr *addr) {
    FILE *f = fopen("/etc/hosts", "r");
    char line[512];

    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        char *save = NULL, *ip = strtok_r(line, " \t\r\n", &save), *tok;
        if (!ip || ip[0] == '#')
            continue;
        while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
            if (strcmp(tok, name) == 0 && inet_pton(AF_INET, ip, addr) == 1) {
                fclose(f);
                return 0;
            }
        }
    }
    fclose(f);
    return -1;
}

static int read_line(int fd, char *buf, size_t len) {
    size_t n = 0;
    while (n + 1 < len) {
        ssize_t r = read(fd, buf + n, 1);
        if (r <= 0)
            break;
        if (buf[n++] == '\n')
            break;
    }
    buf[n] = '\0';
    return (int)n;
}

static int client(const char *me, const char *peer) {
    struct sockaddr_in sa;
    char reply[256];
    int fd = -1;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(PORT);
    if (lookup(peer, &sa.sin_addr) != 0) {
        fprintf(stderr, "%s: no %s in /etc/hosts\n", me, peer);
        return 1;
    }
    /* The peer may not listen yet: it starts at about the same time. */
    for (int i = 0; i < 600; i++) {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
            break;
        close(fd);
        fd = -1;
        usleep(100 * 1000);
    }
    if (fd < 0) {
        fprintf(stderr, "%s: cannot connect to %s: %s\n", me, peer, strerror(errno));
        return 1;
    }
    dprintf(fd, "ping from %s\n", me);
    if (read_line(fd, reply, sizeof(reply)) <= 0) {
        fprintf(stderr, "%s: no reply from %s\n", me, peer);
        return 1;
    }
    printf("%s got: %s", me, reply);
    close(fd);
    return 0;
}

static int serve(const char *me, const char *peer) {
    struct sockaddr_in sa;
    int one = 1, lfd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(PORT);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 16) != 0) {
        fprintf(stderr, "%s: cannot listen on %d: %s\n", me, PORT, strerror(errno));
        return 1;
    }
    fprintf(stderr, "%s ready\n", me);
    if (fork() == 0)
        _exit(client(me, peer) == 0 ? 0 : 1);
    for (;;) {
        char line[256];
        int c = accept(lfd, NULL, NULL);
        if (c < 0)
            continue;
        if (read_line(c, line, sizeof(line)) > 0) {
            printf("%s served: %s", me, line);
            dprintf(c, "pong from %s\n", me);
        }
        close(c);
    }
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    setvbuf(stderr, NULL, _IONBF, 0);
    signal(SIGTERM, on_term);
    signal(SIGCHLD, SIG_IGN);
    if (argc == 2 && strcmp(argv[1], "exec") == 0) {
        char host[256] = "?", in[256] = "";
        gethostname(host, sizeof(host));
        if (!fgets(in, sizeof(in), stdin))
            strcpy(in, "(no stdin)\n");
        printf("exec in %s: %s", host, in);
        fprintf(stderr, "exec stderr\n");
        return 3;
    }
    if (argc == 4 && strcmp(argv[1], "serve") == 0)
        return serve(argv[2], argv[3]);
    fprintf(stderr, "usage: peer serve ME PEER | peer exec\n");
    return 2;
}
