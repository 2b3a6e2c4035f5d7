/*
 * mqtt_idle.c - open many idle MQTT connections, for measuring inletd's memory per connection.
 * tests/bench/mqtt_run drives it: it reads inletd's RSS before, starts this, waits for "ready",
 * reads the RSS again, then closes our stdin to end the run.
 *
 *   mqtt_idle -p 28883 -c 10000 -D 100 -S 8 -V 4
 *
 * Each connection sends CONNECT (user bench-<i % D>, password bench-token-<i % D>, keep alive
 * -k seconds), waits for CONNACK 0 and then stays silent. Connections are opened at most -b at a
 * time (the listen backlog), from -S source addresses 127.0.0.2.. so that no address runs out of
 * ephemeral ports. Prints "ready <n>" once every CONNACK is in, then waits for EOF on stdin.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { CONNECTING, AWAIT_CONNACK, IDLE, DEAD };

typedef struct conn {
    int fd;
    uint8_t state;
    uint8_t got;
    uint8_t ack[4];
} conn;

static int port = 1883, n_conns = 10000, devices = 100, sources = 8, version = 4;
static int keep_alive = 600, batch = 2000;

static size_t put_str(uint8_t *p, const char *s)
{
    size_t l = strlen(s);
    p[0] = (uint8_t)(l >> 8);
    p[1] = (uint8_t)l;
    memcpy(p + 2, s, l);
    return l + 2;
}

static int send_connect(conn *c, int i)
{
    uint8_t pkt[256], body[240];
    char cid[32], user[32], pass[48];
    size_t n = 0;
    snprintf(cid, sizeof(cid), "idle-%d", i);
    snprintf(user, sizeof(user), "bench-%04d", i % devices);
    snprintf(pass, sizeof(pass), "bench-token-%d", i % devices);
    n += put_str(body + n, "MQTT");
    body[n++] = (uint8_t)version;
    body[n++] = 0xC2;
    body[n++] = (uint8_t)(keep_alive >> 8);
    body[n++] = (uint8_t)keep_alive;
    if (version == 5)
        body[n++] = 0;
    n += put_str(body + n, cid);
    n += put_str(body + n, user);
    n += put_str(body + n, pass);
    pkt[0] = 0x10;
    pkt[1] = (uint8_t)n; /* < 128 */
    memcpy(pkt + 2, body, n);
    return send(c->fd, pkt, n + 2, MSG_NOSIGNAL) == (ssize_t)(n + 2) ? 0 : -1;
}

static int open_conn(int epfd, conn *c, int i)
{
    struct sockaddr_in src, dst;
    int one = 1;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    memset(&src, 0, sizeof(src));
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1 + (uint32_t)(i % sources));
    setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    if (bind(c->fd, (struct sockaddr *)&src, sizeof(src)) != 0)
        return -1;
    memset(&dst, 0, sizeof(dst));
    dst.sin_family = AF_INET;
    dst.sin_port = htons((uint16_t)port);
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&dst, sizeof(dst)) != 0 && errno != EINPROGRESS)
        return -1;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)i};
    return epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

int main(int argc, char **argv)
{
    int o;
    while ((o = getopt(argc, argv, "p:c:D:S:V:k:b:")) != -1) {
        switch (o) {
        case 'p':
            port = atoi(optarg);
            break;
        case 'c':
            n_conns = atoi(optarg);
            break;
        case 'D':
            devices = atoi(optarg);
            break;
        case 'S':
            sources = atoi(optarg);
            break;
        case 'V':
            version = atoi(optarg);
            break;
        case 'k':
            keep_alive = atoi(optarg);
            break;
        case 'b':
            batch = atoi(optarg);
            break;
        default:
            fprintf(stderr, "usage: see the comment at the top of mqtt_idle.c\n");
            return 2;
        }
    }
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if ((rlim_t)n_conns + 16 > rl.rlim_cur) {
        fprintf(stderr, "mqtt_idle: %d connections need more descriptors than the limit %llu\n",
                n_conns, (unsigned long long)rl.rlim_cur);
        return 2;
    }
    conn *conns = calloc((size_t)n_conns, sizeof(*conns));
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    int opened = 0, idle = 0, pending = 0;
    time_t deadline = time(NULL) + 300;
    struct epoll_event evs[512];

    while (idle < n_conns && time(NULL) < deadline) {
        while (opened < n_conns && pending < batch) {
            if (open_conn(epfd, &conns[opened], opened) != 0) {
                fprintf(stderr, "connection %d: %s\n", opened, strerror(errno));
                return 1;
            }
            opened++;
            pending++;
        }
        int n = epoll_wait(epfd, evs, 512, 100);
        for (int k = 0; k < n; k++) {
            int i = (int)evs[k].data.u32;
            conn *c = &conns[i];
            if (c->state == CONNECTING && (evs[k].events & EPOLLOUT)) {
                int err = 0;
                socklen_t l = sizeof(err);
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
                if (err || send_connect(c, i) != 0) {
                    fprintf(stderr, "connection %d: %s\n", i, strerror(err ? err : errno));
                    return 1;
                }
                c->state = AWAIT_CONNACK;
                struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
                epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
            } else if (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                ssize_t r = recv(c->fd, c->ack + c->got, sizeof(c->ack) - c->got, 0);
                if (r <= 0 && !(r < 0 && errno == EAGAIN)) {
                    fprintf(stderr, "connection %d closed by the server\n", i);
                    return 1;
                }
                if (r > 0)
                    c->got = (uint8_t)(c->got + r);
                if (c->state == AWAIT_CONNACK && c->got >= 4) {
                    if (c->ack[0] != 0x20 || c->ack[3] != 0) {
                        fprintf(stderr, "connection %d: CONNACK %u\n", i, c->ack[3]);
                        return 1;
                    }
                    c->state = IDLE;
                    idle++;
                    pending--;
                    /* idle from now on: stop watching, the kernel keeps the socket */
                    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
                }
            }
        }
    }
    if (idle < n_conns) {
        fprintf(stderr, "mqtt_idle: only %d of %d connections established\n", idle, n_conns);
        return 1;
    }
    printf("ready %d\n", idle);
    fflush(stdout);
    char b[64];
    while (read(0, b, sizeof(b)) > 0) /* hold the connections until stdin closes */
        ;
    return 0;
}
