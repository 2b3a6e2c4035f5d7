/*
 * coap_load.c - CoAP load generator for tests/bench/coap_run: many simulated devices, each its
 * own UDP socket (a distinct source port, so a distinct CoAP endpoint and, over DTLS, session),
 * each keeping -w confirmable POSTs outstanding (closed loop: an answer sends the next).
 *
 *   coap_load -p 25683 -c 1000 -w 1 -d 15 -W 3 -D 100            plain UDP, token t=bench-token-N
 *   coap_load -p 25684 -c 200 -w 1 -d 15 -k                       DTLS-PSK, bench-NNNN@bench
 *   coap_load -p 25684 -c 1000 -k -I                               idle DTLS sessions: handshake,
 *                                                                  one request each, print
 *                                                                  "ready", hold until stdin closes
 *
 * Plain UDP is raw datagrams (no libcoap): the answer is matched by token; an empty ACK then a
 * separate CON response is handled (and ACKed). DTLS uses libcoap's client API (one context,
 * one session per device); libcoap does the handshakes, retransmissions and separate responses.
 * Prints one JSON line: requests/s of 2.04 answers in the measured -d seconds (after -W warm-up),
 * p50/p99 request -> final response (from the first transmission), errors (non-2.04),
 * lost (plain UDP: datagrams retransmitted after 1 s without an answer), separate (empty ACKs).
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
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <coap3/coap.h>

#define MAX_WINDOW    16
#define SAMPLES_MAX   (1 << 21)
#define RETRANSMIT_NS (1000000000LL) /* loopback: 1 s (RFC 7252 ACK_TIMEOUT is 2 s) */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static const char BODY[] = "{\"lat\":52.52,\"lon\":13.405,\"speed_kmh\":61.2,\"heading_deg\":270,"
                           "\"status\":\"delivering\"}";

/* ---- statistics ---- */

static int64_t *samples;
static long n_samples, ok, errors, lost, separate, seen_total;
static int measuring;
static unsigned rng = 12345;

static void record(int64_t lat_ns, int good)
{
    if (!measuring)
        return;
    seen_total++;
    if (good)
        ok++;
    else
        errors++;
    if (n_samples < SAMPLES_MAX) {
        samples[n_samples++] = lat_ns;
    } else { /* reservoir */
        rng = rng * 1103515245u + 12345u;
        long j = (long)(rng % (unsigned)seen_total);
        if (j < SAMPLES_MAX)
            samples[j] = lat_ns;
    }
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(double p)
{
    if (n_samples == 0)
        return 0;
    long i = (long)(p * (double)(n_samples - 1));
    return (double)samples[i] / 1e6;
}

/* ---- plain UDP, raw datagrams ---- */

typedef struct udp_dev {
    int fd;
    uint16_t mid;
    int device;
    int64_t sent[MAX_WINDOW]; /* 0 = free */
    int64_t last_tx[MAX_WINDOW];
    uint16_t sent_mid[MAX_WINDOW];
    uint8_t msg[MAX_WINDOW][256]; /* the datagram, for retransmissions */
    uint16_t msg_len[MAX_WINDOW];
} udp_dev;

static size_t put_opt(uint8_t *p, unsigned delta, const void *v, size_t len)
{
    size_t i = 0;
    unsigned dn = delta < 13 ? delta : 13, ln = len < 13 ? (unsigned)len : 13;
    p[i++] = (uint8_t)(dn << 4 | ln);
    if (dn == 13)
        p[i++] = (uint8_t)(delta - 13);
    if (ln == 13)
        p[i++] = (uint8_t)(len - 13);
    memcpy(p + i, v, len);
    return i + len;
}

static size_t build_request(uint8_t *b, uint16_t mid, uint32_t token, int device)
{
    size_t n = 0;
    char q[40];
    b[n++] = 0x44; /* ver 1, CON, TKL 4 */
    b[n++] = 0x02; /* POST */
    b[n++] = (uint8_t)(mid >> 8);
    b[n++] = (uint8_t)mid;
    memcpy(b + n, &token, 4);
    n += 4;
    n += put_opt(b + n, 11, "e", 1);
    n += put_opt(b + n, 0, "fleet.position", 14);
    n += put_opt(b + n, 0, "v1", 2);
    uint8_t cf = 50;
    n += put_opt(b + n, 1, &cf, 1);
    int ql = snprintf(q, sizeof(q), "t=bench-token-%d", device);
    n += put_opt(b + n, 3, q, (size_t)ql);
    b[n++] = 0xFF;
    memcpy(b + n, BODY, sizeof(BODY) - 1);
    return n + sizeof(BODY) - 1;
}

static void udp_send(udp_dev *d, int idx, int slot)
{
    uint8_t *b = d->msg[slot];
    uint32_t token = (uint32_t)idx << 4 | (uint32_t)slot;
    d->mid++;
    size_t n = build_request(b, d->mid, token, d->device);
    d->msg_len[slot] = (uint16_t)n;
    d->sent[slot] = d->last_tx[slot] = now_ns();
    d->sent_mid[slot] = d->mid;
    if (send(d->fd, b, n, 0) < 0 && errno != EAGAIN)
        perror("send");
}

static int run_udp(const char *host, int port, int conns, int window, int devices, int warm,
                   int secs)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &sa.sin_addr);
    udp_dev *dv = calloc((size_t)conns, sizeof(*dv));
    int ep = epoll_create1(0);
    for (int i = 0; i < conns; i++) {
        dv[i].fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        if (dv[i].fd < 0 || connect(dv[i].fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
            perror("socket");
            return 1;
        }
        dv[i].device = i % devices;
        dv[i].mid = (uint16_t)(i * 7919);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, dv[i].fd, &ev);
    }
    for (int i = 0; i < conns; i++)
        for (int s = 0; s < window; s++)
            udp_send(&dv[i], i, s);
    int64_t start = now_ns(), t_measure = start + (int64_t)warm * 1000000000,
            t_end = t_measure + (int64_t)secs * 1000000000, last_scan = start;
    struct epoll_event evs[256];
    uint8_t buf[1500];
    for (;;) {
        int64_t t = now_ns();
        if (!measuring && t >= t_measure)
            measuring = 1;
        if (t >= t_end)
            break;
        int n = epoll_wait(ep, evs, 256, 50);
        for (int k = 0; k < n; k++) {
            int i = (int)evs[k].data.u32;
            udp_dev *d = &dv[i];
            ssize_t r;
            while ((r = recv(d->fd, buf, sizeof(buf), 0)) >= 4) {
                int type = (buf[0] >> 4) & 3, tkl = buf[0] & 15;
                uint8_t code = buf[1];
                uint16_t mid = (uint16_t)(buf[2] << 8 | buf[3]);
                if (type == 2 && code == 0) { /* empty ACK: a separate response follows */
                    if (measuring)
                        separate++;
                    continue;
                }
                if (type == 0) { /* separate CON response: ACK it */
                    uint8_t ack[4] = {0x60, 0, (uint8_t)(mid >> 8), (uint8_t)mid};
                    send(d->fd, ack, 4, 0);
                }
                if (tkl != 4 || r < 8)
                    continue;
                uint32_t token;
                memcpy(&token, buf + 4, 4);
                int slot = (int)(token & 15);
                if ((int)(token >> 4) != i || slot >= window || !d->sent[slot])
                    continue;
                if (type == 2 && mid != d->sent_mid[slot])
                    continue;
                record(now_ns() - d->sent[slot], code == 0x44);
                udp_send(d, i, slot);
            }
        }
        if (t - last_scan > 100000000) { /* unanswered: retransmit the same CON (same MID) */
            last_scan = t;
            for (int i = 0; i < conns; i++)
                for (int s = 0; s < window; s++)
                    if (dv[i].sent[s] && t - dv[i].last_tx[s] > RETRANSMIT_NS) {
                        if (measuring)
                            lost++;
                        dv[i].last_tx[s] = t;
                        send(dv[i].fd, dv[i].msg[s], dv[i].msg_len[s], 0);
                    }
        }
    }
    return 0;
}

/* ---- DTLS-PSK with libcoap's client ---- */

typedef struct dtls_dev {
    coap_session_t *s;
    char identity[64];
    char key[64];
    int64_t sent[MAX_WINDOW];
    int done_first;
} dtls_dev;

static dtls_dev *ddv;
static int d_window, d_idle, d_answered;

static void dtls_send(int idx, int slot)
{
    dtls_dev *d = &ddv[idx];
    coap_pdu_t *pdu = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_POST,
                                    coap_new_message_id(d->s), coap_session_max_pdu_size(d->s));
    if (!pdu)
        return;
    uint32_t token = (uint32_t)idx << 4 | (uint32_t)slot;
    uint8_t cf[4];
    coap_add_token(pdu, 4, (const uint8_t *)&token);
    coap_add_option(pdu, COAP_OPTION_URI_PATH, 1, (const uint8_t *)"e");
    coap_add_option(pdu, COAP_OPTION_URI_PATH, 14, (const uint8_t *)"fleet.position");
    coap_add_option(pdu, COAP_OPTION_URI_PATH, 2, (const uint8_t *)"v1");
    coap_add_option(pdu, COAP_OPTION_CONTENT_FORMAT, coap_encode_var_safe(cf, sizeof(cf), 50), cf);
    coap_add_data(pdu, sizeof(BODY) - 1, (const uint8_t *)BODY);
    d->sent[slot] = now_ns();
    coap_send(d->s, pdu);
}

static coap_response_t on_response(coap_session_t *s, const coap_pdu_t *sent,
                                   const coap_pdu_t *received, const coap_mid_t mid)
{
    (void)s;
    (void)sent;
    (void)mid;
    coap_bin_const_t tok = coap_pdu_get_token(received);
    if (tok.length != 4)
        return COAP_RESPONSE_OK;
    uint32_t token;
    memcpy(&token, tok.s, 4);
    int idx = (int)(token >> 4), slot = (int)(token & 15);
    dtls_dev *d = &ddv[idx];
    if (!d->sent[slot])
        return COAP_RESPONSE_OK;
    record(now_ns() - d->sent[slot], coap_pdu_get_code(received) == COAP_RESPONSE_CODE(204));
    d->sent[slot] = 0;
    if (!d->done_first) {
        d->done_first = 1;
        d_answered++;
    }
    if (!d_idle)
        dtls_send(idx, slot);
    return COAP_RESPONSE_OK;
}

static int run_dtls(const char *host, int port, int conns, int window, int devices, int warm,
                    int secs)
{
    coap_startup();
    coap_set_log_level(LOG_WARNING);
    coap_context_t *ctx = coap_new_context(NULL);
    coap_register_response_handler(ctx, on_response);
    coap_address_t dst;
    coap_address_init(&dst);
    dst.addr.sin.sin_family = AF_INET;
    dst.addr.sin.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, host, &dst.addr.sin.sin_addr);
    dst.size = sizeof(dst.addr.sin);
    ddv = calloc((size_t)conns, sizeof(*ddv));
    d_window = window;
    for (int i = 0; i < conns; i++) {
        dtls_dev *d = &ddv[i];
        snprintf(d->identity, sizeof(d->identity), "bench-%04d@bench", i % devices);
        snprintf(d->key, sizeof(d->key), "bench-psk-%d", i % devices);
        coap_dtls_cpsk_t setup;
        memset(&setup, 0, sizeof(setup));
        setup.version = COAP_DTLS_CPSK_SETUP_VERSION;
        setup.psk_info.identity.s = (const uint8_t *)d->identity;
        setup.psk_info.identity.length = strlen(d->identity);
        setup.psk_info.key.s = (const uint8_t *)d->key;
        setup.psk_info.key.length = strlen(d->key);
        d->s = coap_new_client_session_psk2(ctx, NULL, &dst, COAP_PROTO_DTLS, &setup);
        if (!d->s) {
            fprintf(stderr, "session %d failed\n", i);
            return 1;
        }
        for (int s = 0; s < (d_idle ? 1 : window); s++)
            dtls_send(i, s);
        if (i % 50 == 49) /* let handshakes progress while opening more */
            coap_io_process(ctx, COAP_IO_NO_WAIT);
    }
    if (d_idle) {
        int64_t deadline = now_ns() + 300LL * 1000000000;
        while (d_answered < conns && now_ns() < deadline)
            coap_io_process(ctx, 100);
        printf("ready %d\n", d_answered);
        fflush(stdout);
        struct pollfd pfd = {.fd = 0, .events = POLLIN};
        for (;;) { /* hold the sessions until stdin closes */
            coap_io_process(ctx, 200);
            if (poll(&pfd, 1, 0) > 0) {
                char c;
                if (read(0, &c, 1) <= 0)
                    break;
            }
        }
        return 0;
    }
    int64_t start = now_ns(), t_measure = start + (int64_t)warm * 1000000000,
            t_end = t_measure + (int64_t)secs * 1000000000;
    while (now_ns() < t_end) {
        if (!measuring && now_ns() >= t_measure)
            measuring = 1;
        coap_io_process(ctx, 50);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    int port = 5683, conns = 100, window = 1, secs = 10, warm = 2, devices = 100, dtls = 0, c;
    while ((c = getopt(argc, argv, "h:p:c:w:d:W:D:kI")) != -1) {
        switch (c) {
        case 'h':
            host = optarg;
            break;
        case 'p':
            port = atoi(optarg);
            break;
        case 'c':
            conns = atoi(optarg);
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
        case 'k':
            dtls = 1;
            break;
        case 'I':
            d_idle = 1;
            break;
        default:
            fprintf(stderr, "usage: coap_load [-h host] [-p port] [-c devices] [-w window] "
                            "[-d secs] [-W warmup] [-D tokens] [-k (DTLS-PSK)] [-I (idle)]\n");
            return 2;
        }
    }
    if (window < 1 || window > MAX_WINDOW || conns < 1 || devices < 1 || conns >= (1 << 27)) {
        fprintf(stderr, "coap_load: -w 1..%d, -c >= 1\n", MAX_WINDOW);
        return 2;
    }
    samples = malloc(sizeof(int64_t) * SAMPLES_MAX);
    int rc = dtls ? run_dtls(host, port, conns, window, devices, warm, secs)
                  : run_udp(host, port, conns, window, devices, warm, secs);
    if (rc || d_idle)
        return rc;
    qsort(samples, (size_t)n_samples, sizeof(int64_t), cmp64);
    printf("{\"mode\":\"%s\",\"devices\":%d,\"window\":%d,\"seconds\":%d,\"ok\":%ld,"
           "\"errors\":%ld,\"lost\":%ld,\"separate\":%ld,\"req_per_s\":%.0f,\"p50_ms\":%.2f,"
           "\"p99_ms\":%.2f}\n",
           dtls ? "dtls" : "udp", conns, window, secs, ok, errors, lost, separate,
           (double)ok / secs, pct(0.50), pct(0.99));
    return 0;
}
