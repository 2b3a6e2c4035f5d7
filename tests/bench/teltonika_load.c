/*
 * teltonika_load.c - Teltonika load generator for the benchmark: many tracker connections, each
 * sending Codec 8 packets of -r records and waiting for the 4-byte acknowledgement before the
 * next (as a tracker does), measuring records per second and packet -> ack latency. Not a test;
 * tests/bench/teltonika_run drives it and writes docs/BENCHMARKS.md's Teltonika section.
 *
 *   teltonika_load -p 28027 -c 500 -r 10 -d 15 -W 2 -D 100
 *
 *   -c connections  -r records per packet  -d measured seconds (after -W warm-up seconds)
 *   -D devices: connection i sends IMEI 3500000000000<i % D> (15 digits)
 *
 * Prints one JSON line: connections, packets and records acknowledged in the window,
 * records_per_s, p50_ms, p99_ms, errors (answers other than the record count, closes).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct conn {
    int fd;
    int state; /* 0 connecting, 1 await imei answer, 2 await ack, 3 dead */
    int64_t sent_at;
    uint8_t in[8];
    size_t in_len;
    long seq;
} conn;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint16_t crc16(const uint8_t *p, size_t n)
{
    uint16_t c = 0;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int b = 0; b < 8; b++)
            c = (c & 1) ? (uint16_t)((c >> 1) ^ 0xA001) : (uint16_t)(c >> 1);
    }
    return c;
}

static void put(uint8_t **w, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--)
        *(*w)++ = (uint8_t)(v >> (8 * i));
}

/* A Codec 8 packet of r records with a few IO elements, like an FMB920's periodic records. */
static size_t make_packet(uint8_t *out, int r, uint64_t ts_ms)
{
    uint8_t *w = out + 8;
    *w++ = 0x08;
    *w++ = (uint8_t)r;
    for (int i = 0; i < r; i++) {
        put(&w, ts_ms + (uint64_t)i * 1000, 8);
        *w++ = 0;                                  /* priority */
        put(&w, (uint64_t)(uint32_t)252797000, 4); /* lon 25.2797 */
        put(&w, (uint64_t)(uint32_t)546872000, 4); /* lat 54.6872 */
        put(&w, 112, 2);                           /* altitude */
        put(&w, 270, 2);                           /* angle */
        *w++ = 9;                                  /* satellites */
        put(&w, 61, 2);                            /* speed */
        *w++ = 0;                                  /* event io */
        *w++ = 6;                                  /* N */
        *w++ = 3;                                  /* N1 */
        *w++ = 239, *w++ = 1, *w++ = 240, *w++ = 1, *w++ = 21, *w++ = 4;
        *w++ = 2; /* N2 */
        *w++ = 66, put(&w, 12345, 2), *w++ = 67, put(&w, 4012, 2);
        *w++ = 1; /* N4 */
        *w++ = 16, put(&w, 123456789, 4);
        *w++ = 0; /* N8 */
    }
    *w++ = (uint8_t)r;
    size_t data = (size_t)(w - out - 8);
    memset(out, 0, 4);
    out[4] = (uint8_t)(data >> 24), out[5] = (uint8_t)(data >> 16);
    out[6] = (uint8_t)(data >> 8), out[7] = (uint8_t)data;
    uint16_t c = crc16(out + 8, data);
    put(&w, c, 4);
    return (size_t)(w - out);
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int port = 28027, n = 500, records = 10, secs = 15, warm = 2, devices = 100, opt;
    while ((opt = getopt(argc, argv, "p:c:r:d:W:D:")) != -1) {
        switch (opt) {
        case 'p':
            port = atoi(optarg);
            break;
        case 'c':
            n = atoi(optarg);
            break;
        case 'r':
            records = atoi(optarg);
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
        default:
            return 2;
        }
    }
    conn *cs = calloc((size_t)n, sizeof(*cs));
    size_t lat_cap = 1 << 22, n_lat = 0;
    int64_t *lat = malloc(lat_cap * sizeof(*lat));
    uint8_t pkt[65536];
    int ep = epoll_create1(0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);

    for (int i = 0; i < n; i++) {
        conn *c = &cs[i];
        c->fd = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
            fprintf(stderr, "connect: %s\n", strerror(errno));
            return 1;
        }
        char imei[18];
        snprintf(imei + 2, 16, "35%013d", i % devices);
        imei[0] = 0, imei[1] = 15;
        if (send(c->fd, imei, 17, 0) != 17)
            return 1;
        c->state = 1;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    }

    int64_t start = now_ns(), t_begin = start + (int64_t)warm * 1000000000,
            t_end = t_begin + (int64_t)secs * 1000000000;
    long packets = 0, errors = 0;
    struct epoll_event evs[256];
    for (;;) {
        int64_t now = now_ns();
        if (now >= t_end)
            break;
        int k = epoll_wait(ep, evs, 256, 100);
        for (int e = 0; e < k; e++) {
            conn *c = evs[e].data.ptr;
            ssize_t r = recv(c->fd, c->in + c->in_len, (c->state == 1 ? 1 : 4) - c->in_len, 0);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN)
                    continue;
                errors++;
                c->state = 3;
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                close(c->fd);
                continue;
            }
            c->in_len += (size_t)r;
            now = now_ns();
            if (c->state == 1) {
                if (c->in[0] != 1) {
                    fprintf(stderr, "IMEI refused\n");
                    return 1;
                }
            } else {
                if (c->in_len < 4)
                    continue;
                uint32_t ack = (uint32_t)c->in[0] << 24 | c->in[1] << 16 | c->in[2] << 8 | c->in[3];
                if (ack != (uint32_t)records)
                    errors++;
                else if (c->sent_at >= t_begin && now < t_end) {
                    packets++;
                    if (n_lat < lat_cap)
                        lat[n_lat++] = now - c->sent_at;
                }
            }
            c->in_len = 0;
            uint64_t ts = 1764000000000ull + (uint64_t)(c->seq++) * 10000 + (uint64_t)(c - cs);
            size_t len = make_packet(pkt, records, ts);
            c->sent_at = now_ns();
            if (send(c->fd, pkt, len, MSG_NOSIGNAL) != (ssize_t)len) {
                errors++;
                c->state = 3;
                continue;
            }
            c->state = 2;
        }
    }
    qsort(lat, n_lat, sizeof(*lat), cmp64);
    double p50 = n_lat ? lat[n_lat / 2] / 1e6 : 0, p99 = n_lat ? lat[n_lat * 99 / 100] / 1e6 : 0;
    printf("{\"connections\": %d, \"packets\": %ld, \"records\": %ld, \"records_per_s\": %.0f, "
           "\"p50_ms\": %.2f, \"p99_ms\": %.2f, \"errors\": %ld}\n",
           n, packets, packets * records, (double)packets * records / secs, p50, p99, errors);
    return 0;
}
