/*
 * mqtt_load.c - MQTT load generator for the benchmark: many connections publishing at QoS 0 or 1,
 * measuring messages per second and the PUBLISH -> PUBACK latency. Not a test; tests/bench/
 * mqtt_run drives it and writes docs/BENCHMARKS.md's MQTT section.
 *
 *   mqtt_load -p 28883 -c 1000 -q 1 -s 100 -w 4 -d 15 -D 100 -S 8 -T 2
 *
 *   -c connections   -q QoS (0 or 1)   -s payload bytes   -w messages in flight per connection
 *   (QoS 1: unacknowledged PUBLISHes; QoS 0: PUBLISHes sent before a PINGREQ whose PINGRESP
 *   must come back before the next batch, so that a flood stays out of the kernel's buffers:
 *   the server answers the PINGREQ only after reading every publish before it)   -d measured
 *   seconds (after -W warm-up seconds)   -D devices (device bench-<i>,
 *   token bench-token-<i>)   -S source addresses 127.0.0.2 .. (ephemeral ports per address are
 *   limited)   -T threads   -V 4|5 (MQTT 3.1.1 or 5)   -t topic template (%s = device)
 *   -M port of inletd's HTTP /metrics (QoS 0: what inletd delivered to Kafka in the window)
 *
 * Prints one JSON line: connections, messages acknowledged (QoS 1) or delivered to Kafka
 * (QoS 0, from inletd's inlet_mqtt_qos0_total counters) in the measured window, msgs_per_s,
 * p50_ms and p99_ms (QoS 1), errors (QoS 0: dropped).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum state { CONNECTING, AWAIT_CONNACK, READY, DEAD };

typedef struct conn {
    int fd;
    int state;
    int id;
    uint8_t in[8192];
    size_t in_len;
    uint8_t *out;
    size_t out_off, out_len, out_cap;
    int64_t *sent_at; /* per window slot (packet id = slot + 1) */
    int in_flight;
    uint16_t *free_slots;
    int n_free;
    long seq;
    bool started; /* QoS 1: the first window went out */
} conn;

typedef struct worker {
    pthread_t thread;
    int epfd;
    conn *conns;
    int n;
    uint32_t *lat_us; /* latency samples in the measured window */
    size_t n_lat, cap_lat;
    long counted; /* acked (QoS 1) or sent (QoS 0) in the window */
    long total;   /* QoS 1: every PUBACK 0 of the run, warm-up and tail included */
    long errors;
} worker;

static const char *host = "127.0.0.1", *topic_tmpl = "devices/%s/bench.blob/v1";
static int port = 1883, n_conns = 1000, qos = 1, size = 100, window = 4, secs = 15, warm = 3;
static int devices = 100, sources = 8, n_threads = 2, version = 5, metrics_port = 0;
static atomic_int connected, failed;
static atomic_llong t_start_ns, t_end_ns; /* the measured window */
static atomic_int stop;
static long counted_override = -1, dropped = 0; /* QoS 0 with -M: from inletd's counters */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static size_t put_varint(uint8_t *p, size_t n)
{
    size_t i = 0;
    do {
        uint8_t b = n % 128;
        n /= 128;
        p[i++] = (uint8_t)(b | (n ? 0x80 : 0));
    } while (n);
    return i;
}

static size_t put_str(uint8_t *p, const char *s)
{
    size_t l = strlen(s);
    p[0] = (uint8_t)(l >> 8);
    p[1] = (uint8_t)l;
    memcpy(p + 2, s, l);
    return l + 2;
}

static int out_reserve(conn *c, size_t n)
{
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    if (c->out_len + n <= c->out_cap)
        return 0;
    size_t cap = c->out_cap * 2 + n + 4096;
    uint8_t *p = realloc(c->out, cap);
    if (!p)
        return -1;
    c->out = p;
    c->out_cap = cap;
    return 0;
}

static void queue_connect(conn *c)
{
    char cid[64], user[64], pass[64];
    uint8_t body[512];
    size_t n = 0;
    int dev = c->id % devices;
    snprintf(cid, sizeof(cid), "load-%d", c->id);
    snprintf(user, sizeof(user), "bench-%04d", dev);
    snprintf(pass, sizeof(pass), "bench-token-%d", dev);
    n += put_str(body + n, "MQTT");
    body[n++] = (uint8_t)version;
    body[n++] = 0xC2; /* user name, password, clean start */
    body[n++] = 0;
    body[n++] = 60; /* keep alive */
    if (version == 5)
        body[n++] = 0; /* no properties */
    n += put_str(body + n, cid);
    n += put_str(body + n, user);
    n += put_str(body + n, pass);
    out_reserve(c, n + 5);
    uint8_t *w = c->out + c->out_len;
    w[0] = 0x10;
    size_t h = 1 + put_varint(w + 1, n);
    memcpy(w + h, body, n);
    c->out_len += h + n;
}

static void queue_publish(conn *c, uint16_t packet_id)
{
    char topic[128], dev[32];
    snprintf(dev, sizeof(dev), "bench-%04d", c->id % devices);
    snprintf(topic, sizeof(topic), topic_tmpl, dev);
    /* {"seq":N,"data":"..."} with the data padded so the payload is exactly `size` bytes */
    char head[64];
    int hl = snprintf(head, sizeof(head), "{\"seq\":%ld,\"data\":\"", c->seq++);
    int pad = size - hl - 2;
    if (pad < 0)
        pad = 0;
    size_t tl = strlen(topic);
    size_t rem = 2 + tl + (qos ? 2 : 0) + (version == 5 ? 1 : 0) + (size_t)hl + (size_t)pad + 2;
    out_reserve(c, rem + 5);
    uint8_t *w = c->out + c->out_len;
    size_t i = 0;
    w[i++] = (uint8_t)(0x30 | (qos << 1));
    i += put_varint(w + i, rem);
    w[i++] = (uint8_t)(tl >> 8);
    w[i++] = (uint8_t)tl;
    memcpy(w + i, topic, tl);
    i += tl;
    if (qos) {
        w[i++] = (uint8_t)(packet_id >> 8);
        w[i++] = (uint8_t)packet_id;
    }
    if (version == 5)
        w[i++] = 0;
    memcpy(w + i, head, (size_t)hl);
    i += (size_t)hl;
    memset(w + i, 'x', (size_t)pad);
    i += (size_t)pad;
    w[i++] = '"';
    w[i++] = '}';
    c->out_len += i;
}

static void mark_dead(worker *wk, conn *c, const char *why)
{
    if (c->state != DEAD) {
        if (atomic_load(&stop) == 0)
            fprintf(stderr, "connection %d: %s\n", c->id, why);
        wk->errors++;
        c->state = DEAD;
        epoll_ctl(wk->epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
}

static void flush(worker *wk, conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        mark_dead(wk, c, strerror(errno));
        return;
    }
}

static bool in_window(int64_t t)
{
    int64_t s = atomic_load(&t_start_ns), e = atomic_load(&t_end_ns);
    return s != 0 && t >= s && (e == 0 || t < e);
}

static void fill_window(conn *c)
{
    if (atomic_load(&t_end_ns) != 0)
        return; /* the measurement is over: let the in-flight messages finish */
    while (c->n_free > 0) {
        uint16_t slot = c->free_slots[--c->n_free];
        c->sent_at[slot] = now_ns();
        queue_publish(c, (uint16_t)(slot + 1));
        c->in_flight++;
    }
}

/* QoS 0: a batch of `window` PUBLISHes and a PINGREQ, once the previous PINGRESP is in. */
static void send_batch(worker *wk, conn *c)
{
    if (c->in_flight != 0 || atomic_load(&t_end_ns) != 0)
        return;
    for (int i = 0; i < window; i++) {
        queue_publish(c, 0);
        if (in_window(now_ns()))
            wk->counted++;
    }
    out_reserve(c, 2);
    c->out[c->out_len++] = 0xC0;
    c->out[c->out_len++] = 0x00;
    c->in_flight = 1;
    flush(wk, c);
}

static void on_packet(worker *wk, conn *c, uint8_t type, const uint8_t *body, size_t len)
{
    if (type == 2) { /* CONNACK */
        if (len < 2 || body[1] != 0) {
            mark_dead(wk, c, "CONNECT refused");
            atomic_fetch_add(&failed, 1);
            return;
        }
        c->state = READY;
        atomic_fetch_add(&connected, 1);
        return;
    }
    if (type == 4 && len >= 2) { /* PUBACK */
        uint16_t id = (uint16_t)(body[0] << 8 | body[1]);
        int slot = id - 1;
        if (slot < 0 || slot >= window)
            return;
        int64_t t = now_ns();
        if (len >= 3 && body[2] >= 0x80) {
            wk->errors++;
        } else {
            wk->total++;
            if (in_window(c->sent_at[slot]) && in_window(t)) {
                wk->counted++;
                if (wk->n_lat == wk->cap_lat) {
                    wk->cap_lat = wk->cap_lat ? wk->cap_lat * 2 : 1 << 16;
                    wk->lat_us = realloc(wk->lat_us, wk->cap_lat * sizeof(*wk->lat_us));
                }
                wk->lat_us[wk->n_lat++] = (uint32_t)((t - c->sent_at[slot]) / 1000);
            }
        }
        c->free_slots[c->n_free++] = (uint16_t)slot;
        c->in_flight--;
        return;
    }
    if (type == 13) { /* PINGRESP: the QoS 0 batch was read, send the next */
        c->in_flight = 0;
        return;
    }
    if (type == 14) /* DISCONNECT */
        mark_dead(wk, c, "DISCONNECT from the server");
}

static void on_readable(worker *wk, conn *c)
{
    for (;;) {
        ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
        if (n == 0) {
            mark_dead(wk, c, "EOF");
            return;
        }
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                mark_dead(wk, c, strerror(errno));
            break;
        }
        c->in_len += (size_t)n;
        size_t off = 0;
        while (c->in_len - off >= 2) {
            size_t rem = 0, mult = 1, i = 1;
            while (i < 5 && off + i < c->in_len) {
                rem += (c->in[off + i] & 0x7F) * mult;
                mult *= 128;
                if (!(c->in[off + i++] & 0x80))
                    break;
            }
            if (off + i + rem > c->in_len)
                break;
            on_packet(wk, c, c->in[off] >> 4, c->in + off + i, rem);
            if (c->state == DEAD)
                return;
            off += i + rem;
        }
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
    }
    if (c->state == READY && qos == 1) {
        fill_window(c);
        flush(wk, c);
    } else if (c->state == READY) {
        send_batch(wk, c);
    }
}

static void on_writable(worker *wk, conn *c)
{
    if (c->state == CONNECTING) {
        int err = 0;
        socklen_t l = sizeof(err);
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err) {
            mark_dead(wk, c, strerror(err));
            atomic_fetch_add(&failed, 1);
            return;
        }
        c->state = AWAIT_CONNACK;
        queue_connect(c);
    }
    flush(wk, c);
}

static void *worker_main(void *arg)
{
    worker *wk = arg;
    struct epoll_event evs[256];
    while (!atomic_load(&stop)) {
        int n = epoll_wait(wk->epfd, evs, 256, 50);
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (c->state == DEAD)
                continue;
            if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
                on_readable(wk, c);
            if (c->state != DEAD && (evs[i].events & EPOLLOUT))
                on_writable(wk, c);
        }
        /* start the windows (QoS 1) or batches (QoS 0) once CONNACKs are in */
        if (atomic_load(&t_end_ns) == 0) {
            for (int i = 0; i < wk->n; i++) {
                conn *c = &wk->conns[i];
                if (c->state == READY && !c->started) {
                    c->started = true;
                    if (qos == 1) {
                        fill_window(c);
                        flush(wk, c);
                    } else {
                        send_batch(wk, c);
                    }
                }
            }
        }
    }
    return NULL;
}

static int open_conn(worker *wk, conn *c)
{
    struct sockaddr_in src, dst;
    int one = 1;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    memset(&src, 0, sizeof(src));
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1 + (uint32_t)(c->id % sources));
    /* the kernel picks the port per source address, so each address has its own range */
    setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    if (bind(c->fd, (struct sockaddr *)&src, sizeof(src)) != 0)
        return -1;
    memset(&dst, 0, sizeof(dst));
    dst.sin_family = AF_INET;
    dst.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, host, &dst.sin_addr);
    if (connect(c->fd, (struct sockaddr *)&dst, sizeof(dst)) != 0 && errno != EINPROGRESS)
        return -1;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c};
    return epoll_ctl(wk->epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

/* inlet_mqtt_qos0_total{module="mqtt",result="<result>"} from inletd's /metrics (plain
 * HTTP/1.0); the instance is conf.d/mqtt.yaml's. */
static double qos0_counter(const char *result)
{
    struct sockaddr_in a;
    char req[] = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", key[96];
    static char buf[1 << 20];
    size_t len = 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)metrics_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        send(fd, req, sizeof(req) - 1, 0) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    for (ssize_t n;
         len < sizeof(buf) - 1 && (n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0)) > 0;)
        len += (size_t)n;
    close(fd);
    buf[len] = '\0';
    snprintf(key, sizeof(key), "\ninlet_mqtt_qos0_total{module=\"mqtt\",result=\"%s\"} ", result);
    const char *p = strstr(buf, key);
    return p ? atof(p + strlen(key)) : 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int o;
    while ((o = getopt(argc, argv, "h:p:c:q:s:w:d:W:D:S:T:V:t:M:")) != -1) {
        switch (o) {
        case 'h':
            host = optarg;
            break;
        case 'p':
            port = atoi(optarg);
            break;
        case 'c':
            n_conns = atoi(optarg);
            break;
        case 'q':
            qos = atoi(optarg);
            break;
        case 's':
            size = atoi(optarg);
            break;
        case 'w':
            window = atoi(optarg);
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
        case 'T':
            n_threads = atoi(optarg);
            break;
        case 'V':
            version = atoi(optarg);
            break;
        case 't':
            topic_tmpl = optarg;
            break;
        case 'M':
            metrics_port = atoi(optarg);
            break;
        default:
            fprintf(stderr, "usage: see the comment at the top of mqtt_load.c\n");
            return 2;
        }
    }
    if (n_conns < 1 || n_threads < 1 || window < 1 || window > 65535 || (qos != 0 && qos != 1) ||
        sources < 1 || devices < 1 || size < 16) {
        fprintf(stderr, "mqtt_load: bad arguments\n");
        return 2;
    }
    worker *wks = calloc((size_t)n_threads, sizeof(*wks));
    conn *conns = calloc((size_t)n_conns, sizeof(*conns));
    for (int t = 0; t < n_threads; t++) {
        wks[t].epfd = epoll_create1(EPOLL_CLOEXEC);
        wks[t].conns = conns + (size_t)n_conns * t / n_threads;
        wks[t].n = (int)((size_t)n_conns * (t + 1) / n_threads - (size_t)n_conns * t / n_threads);
    }
    for (int t = 0; t < n_threads; t++) {
        for (int i = 0; i < wks[t].n; i++) {
            conn *c = &wks[t].conns[i];
            c->id = (int)(c - conns);
            c->sent_at = calloc((size_t)window, sizeof(*c->sent_at));
            c->free_slots = calloc((size_t)window, sizeof(*c->free_slots));
            for (int s = 0; s < window; s++)
                c->free_slots[c->n_free++] = (uint16_t)(window - 1 - s);
            if (open_conn(&wks[t], c) != 0) {
                fprintf(stderr, "connection %d: %s\n", c->id, strerror(errno));
                return 1;
            }
        }
        pthread_create(&wks[t].thread, NULL, worker_main, &wks[t]);
    }
    int64_t deadline = now_ns() + 60 * 1000000000LL;
    while (atomic_load(&connected) + atomic_load(&failed) < n_conns && now_ns() < deadline)
        usleep(10000);
    if (atomic_load(&connected) < n_conns) {
        fprintf(stderr, "mqtt_load: only %d of %d connections were accepted\n",
                atomic_load(&connected), n_conns);
        atomic_store(&stop, 1);
        return 1;
    }
    sleep((unsigned)warm);
    double d0 = 0, x0 = 0;
    if (qos == 0 && metrics_port) {
        d0 = qos0_counter("delivered");
        x0 = qos0_counter("dropped");
    }
    int64_t t0 = now_ns();
    atomic_store(&t_start_ns, t0);
    sleep((unsigned)secs);
    int64_t t1 = now_ns();
    atomic_store(&t_end_ns, t1);
    if (qos == 0 && metrics_port) {
        counted_override = (long)(qos0_counter("delivered") - d0);
        dropped = (long)(qos0_counter("dropped") - x0);
    }
    sleep(2); /* let the last acknowledgements of the window arrive */
    atomic_store(&stop, 1);

    long counted = 0, errors = 0, total = 0;
    size_t n_lat = 0;
    for (int t = 0; t < n_threads; t++) {
        pthread_join(wks[t].thread, NULL);
        counted += wks[t].counted;
        total += wks[t].total;
        errors += wks[t].errors;
        n_lat += wks[t].n_lat;
    }
    if (counted_override >= 0) {
        counted = counted_override;
        errors += dropped;
    }
    uint32_t *lat = malloc((n_lat ? n_lat : 1) * sizeof(*lat));
    size_t k = 0;
    for (int t = 0; t < n_threads; t++) {
        memcpy(lat + k, wks[t].lat_us, wks[t].n_lat * sizeof(*lat));
        k += wks[t].n_lat;
    }
    qsort(lat, n_lat, sizeof(*lat), cmp_u32);
    double seconds = (double)(t1 - t0) / 1e9;
    printf("{\"connections\":%d,\"qos\":%d,\"size\":%d,\"window\":%d,\"seconds\":%.3f,"
           "\"messages\":%ld,\"msgs_per_s\":%.0f,\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"errors\":%ld,"
           "\"total\":%ld}\n",
           n_conns, qos, size, window, seconds, counted, (double)counted / seconds,
           n_lat ? lat[n_lat / 2] / 1000.0 : 0.0,
           n_lat ? lat[(size_t)((double)n_lat * 0.99)] / 1000.0 : 0.0, errors, total);
    return 0;
}
