/* A Docker engine that is there and never answers: it listens on the unix
 * socket given, accepts every connection, and never reads from nor writes
 * to one, until SIGTERM or SIGINT. It prints "listening" once connections
 * are accepted. For tests/integration/test_silent_engine.sh, which must run
 * where neither python3, socat nor nc may be installed. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
    stop = 1;
}

int main(int argc, char **argv) {
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: accept returns */
    int fd;

    if (argc != 2 || strlen(argv[1]) >= sizeof(a.sun_path)) {
        fprintf(stderr, "usage: silent_engine SOCKET\n");
        return 2;
    }
    strcpy(a.sun_path, argv[1]);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 64) != 0) {
        fprintf(stderr, "silent_engine: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    printf("listening\n");
    fflush(stdout);
    while (!stop) {
        /* Kept open and never read: the peer waits for an answer. */
        if (accept(fd, NULL, NULL) < 0 && errno != EINTR) {
            fprintf(stderr, "silent_engine: accept: %s\n", strerror(errno));
            break;
        }
    }
    unlink(argv[1]);
    return stop ? 0 : 1;
}
