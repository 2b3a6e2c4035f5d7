/*
 * soak_load.c - rate-limited mixed HTTP + MQTT load for the soak (tests/bench/soak). Not a test.
 *
 *   soak_load -H 28480 -M 28483 -r 5000 -R 30000 -c 64 -C 200 -w 8 -d 1800 -i 10 -D 100
 *
 *   -H/-M   inletd's HTTP and MQTT ports (0: that protocol is off)
 *   -r/-R   HTTP events/s and MQTT messages/s, paced from the start (a token bucket per
 *           protocol; what could not be sent on time because every connection was full is
 *           reported as "behind", so a stall shows instead of hiding in the latency)
 *   -c/-C   HTTP keep-alive connections (one request in flight each) and MQTT 5 connections
 *   -w      MQTT QoS 1 PUBLISHes unacknowledged per connection
 *   -d -i   seconds to run, seconds per report   -D devices (truck-<dddd>, token bench-token-<d>)
 *
 * Every event is one fleet.position event with its own event_id (s<h|m><conn>-<seq>): a POST
 * /ingest of {"events": [event]}, or a PUBLISH of the event to devices/<device>/events. An HTTP
 * event counts as acked on 200 with "accepted":1, an MQTT one on a PUBACK below 0x80; anything
 * else is a refusal, counted by HTTP status or MQTT reason code. A closed connection counts its
 * unanswered events as "lost_conn" and reconnects after 200 ms.
 *
 * Prints one JSON line per interval: t (s since start), http_ok, mqtt_ok, behind, lost_conn,
 * refusals {"http_503": n, "mqtt_0x97": n, ...}, and latency p50/p99/max in ms (send to answer)
 * over both protocols and per protocol, for the events answered in that interval.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_WINDOW 64
#define IN_CAP     16384
/* Latency histogram: 0.1 ms buckets to 100 ms, then 10 ms buckets to 120 s. */
#define FINE     1000
#define COARSE   12000
#define NBUCKETS (FINE + COARSE)

enum proto { HTTP, MQTT };
enum cstate { DOWN, CONNECTING, AWAIT_CONNACK, READY };

typedef struct hist {
    uint32_t b[NBUCKETS];
    uint64_t n;
    int64_t max_us;
} hist;

typedef struct conn {
    int fd, id, state;
    enum proto proto;
    int64_t retry_at;
    uint8_t in[IN_CAP];
    size_t in_len;
    char *out;
    size_t out_off, out_len, out_cap;
    int in_flight;
    int64_t sent_at[MAX_WINDOW]; /* HTTP: slot 0; MQTT: packet id - 1 (0 = free) */
    long seq;
} conn;

static struct {
    int http_port, mqtt_port, http_conns, mqtt_conns, window, devices;
    double http_rate, mqtt_rate;
    int secs, interval;
} opt = {0, 0, 64, 200, 8, 100, 1000, 1000, 1800, 10};

static hist h_all, h_http, h_mqtt;
static uint64_t http_ok, mqtt_ok, lost_conn;
static uint64_t http_sent, mqtt_sent;
static uint64_t refused_http[600], refused_mqtt[256];
static int epfd;

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void hist_add(hist *h, int64_t us)
{
    size_t i = us < 100000 ? (size_t)(us / 100) : FINE + (size_t)((us - 100000) / 10000);
    if (i >= NBUCKETS)
        i = NBUCKETS - 1;
    h->b[i]++;
    h->n++;
    if (us > h->max_us)
        h->max_us = us;
}

static double hist_pct(const hist *h, double p)
{
    if (!h->n)
        return 0;
    uint64_t want = (uint64_t)(p * (double)h->n + 0.5), seen = 0;
    if (want < 1)
        want = 1;
    for (size_t i = 0; i < NBUCKETS; i++) {
        seen += h->b[i];
        if (seen >= want)
            return i < FINE ? (double)(i + 1) * 0.1 : 100.0 + (double)(i - FINE + 1) * 10.0;
    }
    return (double)h->max_us / 1000.0;
}

static void answered(conn *c, int64_t sent_at)
{
    int64_t us = now_us() - sent_at;
    hist_add(&h_all, us);
    hist_add(c->proto == HTTP ? &h_http : &h_mqtt, us);
}

static int out_append(conn *c, const void *p, size_t n)
{
    if (c->out_len + n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap * 2 : 4096;
        while (cap < c->out_len + n)
            cap *= 2;
        char *o = realloc(c->out, cap);
        if (!o)
            return -1;
        c->out = o;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    return 0;
}

static void watch(conn *c, bool want_out)
{
    struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void flush_out(conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN)
                break;
            return;
        }
        c->out_off += (size_t)n;
    }
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    watch(c, c->out_len > 0 || c->state == CONNECTING);
}

static int device_of(const conn *c)
{
    return c->id % opt.devices;
}

static int event_json(char *buf, size_t cap, conn *c)
{
    return snprintf(buf, cap,
                    "{\"device_id\":\"truck-%04d\",\"event_id\":\"s%c%d-%ld\","
                    "\"ts\":\"2026-11-21T10:15:30.123Z\",\"use_case\":\"fleet.position\","
                    "\"schema\":\"v1\",\"payload\":{\"lat\":52.52,\"lon\":13.405,"
                    "\"speed_kmh\":61.2,\"heading_deg\":270,\"status\":\"delivering\"}}",
                    device_of(c), c->proto == HTTP ? 'h' : 'm', c->id, c->seq);
}

static size_t varint(uint8_t *p, size_t v)
{
    size_t n = 0;
    do {
        uint8_t b = v % 128;
        v /= 128;
        p[n++] = b | (v ? 0x80 : 0);
    } while (v);
    return n;
}

static void put_str(uint8_t *p, size_t *off, const char *s)
{
    size_t n = strlen(s);
    p[(*off)++] = (uint8_t)(n >> 8);
    p[(*off)++] = (uint8_t)n;
    memcpy(p + *off, s, n);
    *off += n;
}

static void mqtt_connect(conn *c)
{
    char client[32], user[32], pass[32];
    snprintf(client, sizeof(client), "soak-%d", c->id);
    snprintf(user, sizeof(user), "truck-%04d", device_of(c));
    snprintf(pass, sizeof(pass), "bench-token-%d", device_of(c));
    uint8_t body[256], pkt[264];
    size_t n = 0;
    put_str(body, &n, "MQTT");
    body[n++] = 5;    /* protocol level: MQTT 5 */
    body[n++] = 0xC2; /* user name, password, clean start */
    body[n++] = 0;
    body[n++] = 60; /* keep alive */
    body[n++] = 0;  /* no properties */
    put_str(body, &n, client);
    put_str(body, &n, user);
    put_str(body, &n, pass);
    pkt[0] = 0x10;
    size_t h = 1 + varint(pkt + 1, n);
    memcpy(pkt + h, body, n);
    out_append(c, pkt, h + n);
    c->state = AWAIT_CONNACK;
}

static bool send_one(conn *c, int64_t t)
{
    char ev[512];
    int elen = event_json(ev, sizeof(ev), c);
    if (c->proto == HTTP) {
        char head[256];
        int hlen = snprintf(head, sizeof(head),
                            "POST /ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                            "application/json\r\nAuthorization: Bearer bench-token-%d\r\n"
                            "Content-Length: %d\r\n\r\n{\"events\":[",
                            device_of(c), elen + 13);
        out_append(c, head, (size_t)hlen);
        out_append(c, ev, (size_t)elen);
        out_append(c, "]}", 2);
        c->sent_at[0] = t;
    } else {
        int slot = 0;
        while (slot < opt.window && c->sent_at[slot])
            slot++;
        if (slot == opt.window)
            return false;
        char topic[48];
        snprintf(topic, sizeof(topic), "devices/truck-%04d/events", device_of(c));
        uint8_t hdr[96];
        size_t vh = 0, tl = strlen(topic);
        uint8_t var[64];
        put_str(var, &vh, topic);
        var[vh++] = (uint8_t)((slot + 1) >> 8);
        var[vh++] = (uint8_t)(slot + 1);
        var[vh++] = 0; /* no properties */
        (void)tl;
        hdr[0] = 0x32; /* PUBLISH, QoS 1 */
        size_t h = 1 + varint(hdr + 1, vh + (size_t)elen);
        out_append(c, hdr, h);
        out_append(c, var, vh);
        out_append(c, ev, (size_t)elen);
        c->sent_at[slot] = t;
    }
    c->seq++;
    c->in_flight++;
    return true;
}

static void conn_down(conn *c, int64_t t)
{
    if (c->fd >= 0) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    lost_conn += (uint64_t)c->in_flight;
    c->in_flight = 0;
    memset(c->sent_at, 0, sizeof(c->sent_at));
    c->in_len = c->out_off = c->out_len = 0;
    c->state = DOWN;
    c->retry_at = t + 200000;
}

static void conn_up(conn *c)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    a.sin_port = htons((uint16_t)(c->proto == HTTP ? opt.http_port : opt.mqtt_port));
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
    c->state = CONNECTING;
    if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS)
        conn_down(c, now_us());
}

static bool ready(const conn *c)
{
    if (c->state != READY)
        return false;
    return c->proto == HTTP ? c->in_flight == 0 : c->in_flight < opt.window;
}

/* One HTTP answer; returns bytes consumed, 0 if incomplete, -1 on garbage. */
static long http_answer(conn *c)
{
    uint8_t *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    if (!end)
        return c->in_len == IN_CAP ? -1 : 0;
    int status = 0;
    if (sscanf((char *)c->in, "HTTP/1.1 %d", &status) != 1)
        return -1;
    size_t hlen = (size_t)(end - c->in) + 4, clen = 0;
    for (uint8_t *p = c->in; p < end; p++)
        if ((*p == '\n') && !strncasecmp((char *)p + 1, "content-length:", 15))
            clen = strtoul((char *)p + 16, NULL, 10);
    if (hlen + clen > IN_CAP)
        return -1;
    if (c->in_len < hlen + clen)
        return 0;
    if (status == 200 && memmem(c->in + hlen, clen, "\"accepted\":1", 12))
        http_ok++;
    else
        refused_http[status > 0 && status < 600 ? status : 0]++;
    if (c->in_flight) {
        answered(c, c->sent_at[0]);
        c->in_flight = 0;
        c->sent_at[0] = 0;
    }
    return (long)(hlen + clen);
}

/* One MQTT packet; returns bytes consumed, 0 if incomplete, -1 to drop the connection. */
static long mqtt_packet(conn *c)
{
    if (c->in_len < 2)
        return 0;
    size_t rl = 0, mul = 1, i = 1;
    for (;;) {
        if (i >= c->in_len)
            return 0;
        rl += (c->in[i] & 0x7f) * mul;
        mul *= 128;
        if (!(c->in[i++] & 0x80))
            break;
        if (i > 4)
            return -1;
    }
    if (i + rl > IN_CAP)
        return -1;
    if (c->in_len < i + rl)
        return 0;
    const uint8_t *p = c->in + i;
    switch (c->in[0] >> 4) {
    case 2: /* CONNACK */
        if (rl < 2 || p[1] >= 0x80)
            return -1;
        c->state = READY;
        break;
    case 4: { /* PUBACK */
        if (rl < 2)
            return -1;
        int id = (p[0] << 8) | p[1];
        uint8_t rc = rl >= 3 ? p[2] : 0;
        if (id < 1 || id > opt.window || !c->sent_at[id - 1])
            return -1;
        answered(c, c->sent_at[id - 1]);
        c->sent_at[id - 1] = 0;
        c->in_flight--;
        if (rc < 0x80)
            mqtt_ok++;
        else
            refused_mqtt[rc]++;
        break;
    }
    case 14: /* DISCONNECT */
        return -1;
    default:
        break;
    }
    return (long)(i + rl);
}

static void on_event(conn *c, uint32_t events, int64_t t)
{
    if (c->state == CONNECTING && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int err = 0;
        socklen_t l = sizeof(err);
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err) {
            conn_down(c, t);
            return;
        }
        if (c->proto == HTTP)
            c->state = READY;
        else
            mqtt_connect(c);
    }
    if (events & EPOLLIN) {
        for (;;) {
            ssize_t n = recv(c->fd, c->in + c->in_len, IN_CAP - c->in_len, 0);
            if (n == 0 || (n < 0 && errno != EAGAIN)) {
                conn_down(c, t);
                return;
            }
            if (n < 0)
                break;
            c->in_len += (size_t)n;
            for (;;) {
                long used = c->proto == HTTP ? http_answer(c) : mqtt_packet(c);
                if (used < 0) {
                    conn_down(c, t);
                    return;
                }
                if (used == 0)
                    break;
                memmove(c->in, c->in + used, c->in_len - (size_t)used);
                c->in_len -= (size_t)used;
            }
            if (c->in_len == IN_CAP) {
                conn_down(c, t);
                return;
            }
        }
    }
    flush_out(c);
}

static void report(double t, uint64_t behind)
{
    printf("{\"t\":%.1f,\"http_ok\":%llu,\"mqtt_ok\":%llu,\"http_sent\":%llu,\"mqtt_sent\":%llu,"
           "\"behind\":%llu,\"lost_conn\":%llu,\"refusals\":{",
           t, (unsigned long long)http_ok, (unsigned long long)mqtt_ok,
           (unsigned long long)http_sent, (unsigned long long)mqtt_sent, (unsigned long long)behind,
           (unsigned long long)lost_conn);
    const char *sep = "";
    for (int s = 0; s < 600; s++)
        if (refused_http[s]) {
            printf("%s\"http_%d\":%llu", sep, s, (unsigned long long)refused_http[s]);
            sep = ",";
        }
    for (int r = 0; r < 256; r++)
        if (refused_mqtt[r]) {
            printf("%s\"mqtt_0x%02x\":%llu", sep, r, (unsigned long long)refused_mqtt[r]);
            sep = ",";
        }
    printf("},\"p50_ms\":%.1f,\"p99_ms\":%.1f,\"max_ms\":%.1f,\"http_p99_ms\":%.1f,"
           "\"mqtt_p99_ms\":%.1f,\"answered\":%llu}\n",
           hist_pct(&h_all, 0.50), hist_pct(&h_all, 0.99), (double)h_all.max_us / 1000.0,
           hist_pct(&h_http, 0.99), hist_pct(&h_mqtt, 0.99), (unsigned long long)h_all.n);
    fflush(stdout);
    memset(&h_all, 0, sizeof(h_all));
    memset(&h_http, 0, sizeof(h_http));
    memset(&h_mqtt, 0, sizeof(h_mqtt));
    memset(refused_http, 0, sizeof(refused_http));
    memset(refused_mqtt, 0, sizeof(refused_mqtt));
    http_ok = mqtt_ok = lost_conn = 0;
}

/* Sends what the rate allows by now over connections with room, round-robin from *next. */
static uint64_t pace(conn *cs, int n, double rate, uint64_t *sent, int *next, int64_t t0, int64_t t)
{
    if (!n)
        return 0;
    uint64_t due = (uint64_t)(rate * (double)(t - t0) / 1e6);
    int idle = 0;
    while (*sent < due && idle < n) {
        conn *c = &cs[*next];
        *next = (*next + 1) % n;
        if (!ready(c)) {
            idle++;
            continue;
        }
        idle = 0;
        if (send_one(c, t))
            (*sent)++;
        flush_out(c);
    }
    return due - *sent;
}

int main(int argc, char **argv)
{
    int o;
    while ((o = getopt(argc, argv, "H:M:r:R:c:C:w:d:i:D:")) != -1) {
        switch (o) {
        case 'H':
            opt.http_port = atoi(optarg);
            break;
        case 'M':
            opt.mqtt_port = atoi(optarg);
            break;
        case 'r':
            opt.http_rate = atof(optarg);
            break;
        case 'R':
            opt.mqtt_rate = atof(optarg);
            break;
        case 'c':
            opt.http_conns = atoi(optarg);
            break;
        case 'C':
            opt.mqtt_conns = atoi(optarg);
            break;
        case 'w':
            opt.window = atoi(optarg);
            break;
        case 'd':
            opt.secs = atoi(optarg);
            break;
        case 'i':
            opt.interval = atoi(optarg);
            break;
        case 'D':
            opt.devices = atoi(optarg);
            break;
        default:
            fprintf(stderr, "usage: soak_load -H port -M port -r http/s -R mqtt/s -c conns -C "
                            "conns -w window -d secs -i interval -D devices\n");
            return 2;
        }
    }
    if (opt.window < 1 || opt.window > MAX_WINDOW || opt.devices < 1 || opt.interval < 1) {
        fprintf(stderr, "soak_load: -w 1..%d, -D and -i at least 1\n", MAX_WINDOW);
        return 2;
    }
    int nh = opt.http_port ? opt.http_conns : 0, nm = opt.mqtt_port ? opt.mqtt_conns : 0;
    conn *hs = calloc((size_t)nh + 1, sizeof(conn)), *ms = calloc((size_t)nm + 1, sizeof(conn));
    epfd = epoll_create1(0);
    if (!hs || !ms || epfd < 0)
        return 1;
    for (int i = 0; i < nh; i++) {
        hs[i] = (conn){.fd = -1, .id = i, .proto = HTTP};
        conn_up(&hs[i]);
    }
    for (int i = 0; i < nm; i++) {
        ms[i] = (conn){.fd = -1, .id = i, .proto = MQTT};
        conn_up(&ms[i]);
    }
    int64_t t0 = now_us(), end = t0 + (int64_t)opt.secs * 1000000;
    int64_t next_report = t0 + (int64_t)opt.interval * 1000000;
    int nh_next = 0, nm_next = 0;
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(epfd, evs, 256, 1);
        int64_t t = now_us();
        for (int i = 0; i < n; i++)
            on_event(evs[i].data.ptr, evs[i].events, t);
        for (int i = 0; i < nh; i++)
            if (hs[i].state == DOWN && t >= hs[i].retry_at)
                conn_up(&hs[i]);
        for (int i = 0; i < nm; i++)
            if (ms[i].state == DOWN && t >= ms[i].retry_at)
                conn_up(&ms[i]);
        uint64_t behind = 0;
        if (t < end) {
            behind += pace(hs, nh, opt.http_rate, &http_sent, &nh_next, t0, t);
            behind += pace(ms, nm, opt.mqtt_rate, &mqtt_sent, &nm_next, t0, t);
        }
        if (t >= next_report) {
            report((double)(t - t0) / 1e6, behind);
            next_report += (int64_t)opt.interval * 1000000;
            if (t >= end)
                break;
        }
    }
    return 0;
}
