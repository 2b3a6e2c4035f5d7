/*
 * binary_load.c - load generator for the binary protocol benchmark: many connections, each
 * keeping `window` DATA frames in flight, measuring frames acknowledged per second and the
 * frame -> ACK latency. Built on the reference client's codec (contrib/inlet-client). Not a
 * test; tests/bench/binary_run drives it. Loopback only; every loop is bounded by -d.
 *
 *   binary_load -p 27000 -c 1000 -w 16 -s 40 -d 15 -W 3 -D 100 -S 16
 *
 *   -c connections  -w frames in flight per connection  -s payload bytes (the bench.position40
 *   layout is 40)  -d measured seconds after -W warm-up seconds  -D devices (bench-<i>, token
 *   bench-token-<i>)  -S source addresses 127.0.0.2.. (ephemeral ports)  -x schema name
 *
 * Prints one JSON line: connections, frames (acknowledged 0x00 in the window), frames_per_s,
 * p50_ms, p99_ms, errors (ACKs other than 0x00, in the window), cpu_s (the generator's own CPU
 * time), sent (DATA frames sent in all).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "inlet_client.h"

typedef struct conn {
    int fd;
    int id;
    bool welcomed, dead;
    uint8_t in[4096];
    size_t in_len;
    int64_t *sent_at; /* per seq % window */
    uint16_t next_seq;
    int in_flight;
    long n_sent; /* DATA frames sent */
} conn;

static int port = 7000, n_conns = 1000, window = 16, size = 40, secs = 15, warm = 3;
static int devices = 100, sources = 16;
static const char *schema = "bench.position40";
static uint8_t payload[4096];
static uint32_t *lat_us;
static size_t n_lat, cap_lat;
static long counted, errors;
static int64_t t_start, t_end;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            usleep(100); /* the window keeps this tiny: a few frames per connection */
            continue;
        }
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void fill(conn *c)
{
    uint8_t buf[8192];
    size_t off = 0;
    while (c->in_flight < window) {
        /* the payload's first 8 bytes vary, so frames differ like real positions */
        uint64_t v = ((uint64_t)c->id << 32) | c->next_seq; /* fix_id, u8be */
        for (int i = 0; i < 8; i++)
            payload[i] = (uint8_t)(v >> (56 - 8 * i));
        int n = inlet_encode_data(buf + off, sizeof(buf) - off, c->next_seq, INLET_FORMAT_LAYOUT,
                                  c->next_seq == 0 ? schema : NULL, 1, NULL, payload, (size_t)size);
        if (n < 0)
            break;
        c->sent_at[c->next_seq % window] = now_ns();
        c->next_seq++;
        c->n_sent++;
        c->in_flight++;
        off += (size_t)n;
    }
    if (off > 0 && write_all(c->fd, buf, off) != 0)
        c->dead = true;
}

static void on_frame(conn *c, const inlet_answer *a, int64_t now)
{
    if (a->type == INLET_FRAME_WELCOME) {
        if (a->status != 0) {
            fprintf(stderr, "conn %d: WELCOME 0x%02x %s\n", c->id, a->status, a->reason);
            c->dead = true;
            return;
        }
        c->welcomed = true;
        fill(c);
        return;
    }
    if (a->type != INLET_FRAME_ACK) {
        if (a->type == INLET_FRAME_CLOSE)
            fprintf(stderr, "conn %d: CLOSE 0x%02x %s\n", c->id, a->status, a->reason);
        c->dead = a->type == INLET_FRAME_CLOSE;
        return;
    }
    c->in_flight--;
    if (now >= t_start && now < t_end) {
        if (a->status == 0) {
            counted++;
            if (n_lat == cap_lat) {
                cap_lat = cap_lat ? cap_lat * 2 : 1 << 20;
                lat_us = realloc(lat_us, cap_lat * sizeof(*lat_us));
            }
            lat_us[n_lat++] = (uint32_t)((now - c->sent_at[a->seq % window]) / 1000);
        } else {
            if (errors++ == 0)
                fprintf(stderr, "first refusal: 0x%02x %s\n", a->status, a->reason);
        }
    }
    /* refilled once per read (main()): one send() for every ACK that read brought, not one
     * per ACK */
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int opt;
    while ((opt = getopt(argc, argv, "p:c:w:s:d:W:D:S:x:")) != -1) {
        switch (opt) {
        case 'p':
            port = atoi(optarg);
            break;
        case 'c':
            n_conns = atoi(optarg);
            break;
        case 'w':
            window = atoi(optarg);
            break;
        case 's':
            size = atoi(optarg);
            break;
        case 'd':
            secs = atoi(optarg);
            break;
        case 'W':
            warm = atoi(optarg);
            break;
        case 'D':
            devices = atoi(optarg);
            break;
        case 'S':
            sources = atoi(optarg);
            break;
        case 'x':
            schema = optarg;
            break;
        default:
            return 2;
        }
    }
    if (size > (int)sizeof(payload) || window < 1 || n_conns < 1)
        return 2;
    int ep = epoll_create1(0);
    conn *conns = calloc((size_t)n_conns, sizeof(*conns));
    for (int i = 0; i < n_conns; i++) {
        conn *c = &conns[i];
        struct sockaddr_in src = {.sin_family = AF_INET}, dst = {.sin_family = AF_INET};
        char tok[64];
        uint8_t hello[256];
        int one = 1;
        c->id = i;
        c->sent_at = calloc((size_t)window, sizeof(int64_t));
        c->fd = socket(AF_INET, SOCK_STREAM, 0);
        src.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(i % sources));
        dst.sin_addr.s_addr = htonl(0x7f000001u);
        dst.sin_port = htons((uint16_t)port);
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (bind(c->fd, (struct sockaddr *)&src, sizeof(src)) != 0 ||
            connect(c->fd, (struct sockaddr *)&dst, sizeof(dst)) != 0) {
            perror("connect");
            return 1;
        }
        snprintf(tok, sizeof(tok), "bench-token-%d", i % devices);
        int n = inlet_encode_hello(hello, sizeof(hello), 600, NULL, tok, strlen(tok));
        write_all(c->fd, hello, (size_t)n);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    }
    t_start = now_ns() + (int64_t)warm * 1000000000;
    t_end = t_start + (int64_t)secs * 1000000000;
    int64_t hard_end = t_end + 10ll * 1000000000; /* bounded: the tail drains or we give up */

    struct epoll_event evs[256];
    for (;;) {
        int64_t now = now_ns();
        if (now > hard_end)
            break;
        if (now >= t_end) {
            bool idle = true;
            for (int i = 0; i < n_conns && idle; i++)
                idle = conns[i].dead || conns[i].in_flight == 0;
            if (idle)
                break;
        }
        int n = epoll_wait(ep, evs, 256, 100);
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (c->dead)
                continue;
            ssize_t r = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
            if (r <= 0) {
                if (r < 0 && errno == EINTR)
                    continue;
                c->dead = true;
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                continue;
            }
            c->in_len += (size_t)r;
            int64_t t = now_ns();
            size_t off = 0;
            for (;;) {
                inlet_frame f;
                inlet_answer a;
                int used = inlet_parse_frame(c->in + off, c->in_len - off, 1024, &f);
                if (used <= 0)
                    break;
                if (inlet_decode_answer(&f, &a) == 0)
                    on_frame(c, &a, t);
                off += (size_t)used;
            }
            memmove(c->in, c->in + off, c->in_len - off);
            c->in_len -= off;
            if (c->welcomed && !c->dead && t < t_end)
                fill(c);
        }
    }
    int alive = 0;
    long sent = 0;
    for (int i = 0; i < n_conns; i++) {
        alive += !conns[i].dead;
        sent += conns[i].n_sent;
        close(conns[i].fd);
        free(conns[i].sent_at);
    }
    free(conns);
    close(ep);
    qsort(lat_us, n_lat, sizeof(*lat_us), cmp_u32);
    double p50 = n_lat ? lat_us[n_lat / 2] / 1000.0 : 0,
           p99 = n_lat ? lat_us[n_lat * 99 / 100] / 1000.0 : 0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                   (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    printf("{\"connections\": %d, \"alive\": %d, \"frames\": %ld, \"frames_per_s\": %.0f, "
           "\"p50_ms\": %.2f, \"p99_ms\": %.2f, \"errors\": %ld, \"cpu_s\": %.2f, \"sent\": %ld}\n",
           n_conns, alive, counted, counted / (double)secs, p50, p99, errors, cpu_s, sent);
    free(lat_us);
    return 0;
}
