/*
 * mqtt_direct.c - the MQTT benchmark's baseline: a plain librdkafka producer with inletd's
 * producer settings (idempotent, acks=all, murmur2, lz4, linger) sending the envelopes the MQTT
 * scenarios produce (a bench.blob payload of -s bytes, the same headers) to the same broker,
 * with as many messages in flight as the MQTT scenario allows (connections x window).
 * Prints one JSON line like mqtt_load: msgs_per_s, p50_ms, p99_ms (produce -> delivery report).
 *
 *   mqtt_direct -b 127.0.0.1:29192 -t bench.mqtt.v1 -s 100 -w 4000 -d 10 -D 100
 *
 * -n COUNT sends exactly COUNT messages (no warm-up wait) instead of running -d seconds, for
 * tests/bench/instructions, which counts instructions per message.
 */
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t *lat;
static size_t n_lat, cap_lat;
static long in_flight, failed, delivered;
static int64_t t_start, t_end;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    int64_t sent = (int64_t)(intptr_t)m->_private, now = now_ns();
    in_flight--;
    if (m->err) {
        failed++;
        return;
    }
    delivered++;
    if (sent >= t_start && now < t_end) {
        if (n_lat == cap_lat) {
            cap_lat = cap_lat ? cap_lat * 2 : 1 << 16;
            lat = realloc(lat, cap_lat * sizeof(*lat));
        }
        lat[n_lat++] = now - sent;
    }
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *brokers = "127.0.0.1:9092", *topic = "bench.mqtt.v1", *linger = "5";
    long window = 4000, devices = 100, fixed = 0;
    int size = 100, secs = 10, c;
    while ((c = getopt(argc, argv, "b:t:s:w:d:D:l:n:")) != -1) {
        switch (c) {
        case 'b':
            brokers = optarg;
            break;
        case 't':
            topic = optarg;
            break;
        case 's':
            size = atoi(optarg);
            break;
        case 'w':
            window = atol(optarg);
            break;
        case 'd':
            secs = atoi(optarg);
            break;
        case 'D':
            devices = atol(optarg);
            break;
        case 'l':
            linger = optarg;
            break;
        case 'n':
            fixed = atol(optarg);
            break;
        default:
            fprintf(stderr, "usage: see the comment at the top of mqtt_direct.c\n");
            return 2;
        }
    }
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *props[][2] = {
        {"bootstrap.servers", brokers},
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"partitioner", "murmur2_random"},
        {"compression.codec", "lz4"},
        {"linger.ms", linger},
        {"queue.buffering.max.messages", "200000"},
    };
    for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++)
        if (rd_kafka_conf_set(conf, props[i][0], props[i][1], err, sizeof(err)) !=
            RD_KAFKA_CONF_OK) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!rk) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_producev(rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_VALUE("{}", 2), RD_KAFKA_V_END);
    rd_kafka_flush(rk, 10000);
    in_flight = failed = 0;

    char *data = malloc((size_t)size + 1);
    memset(data, 'x', (size_t)size);
    char *value = malloc((size_t)size + 1024);
    char key[32], eid[48];
    long seq = 0, counted = 0;
    t_start = now_ns() + 2 * 1000000000LL; /* 2 s warm-up, like mqtt_load */
    t_end = t_start + (int64_t)secs * 1000000000LL;
    if (fixed > 0) { /* every message counts */
        t_start = 0;
        t_end = INT64_MAX;
    }
    int64_t t_run = now_ns();
    while (fixed > 0 ? seq < fixed : now_ns() < t_end) {
        while (in_flight >= window)
            rd_kafka_poll(rk, 1);
        snprintf(key, sizeof(key), "bench-%04ld", seq % devices);
        snprintf(eid, sizeof(eid), "019aa5c2-6c3e-7b1f-9d0e-%012ld", seq);
        char head[64];
        int hl = snprintf(head, sizeof(head), "{\"seq\":%ld,\"data\":\"", seq);
        int pad = size - hl - 2 > 0 ? size - hl - 2 : 0;
        int len = snprintf(value, (size_t)size + 1024,
                           "{\"tenant\":\"bench\",\"device_id\":\"%s\",\"event_id\":\"%s\","
                           "\"ts\":\"2026-11-21T10:15:30.123Z\",\"received_at\":"
                           "\"2026-11-21T10:15:30.741Z\",\"schema\":\"bench.blob\","
                           "\"schema_version\":\"v1\",\"source\":\"mqtt\",\"payload\":%s%.*s\"}}",
                           key, eid, head, pad, data);
        rd_kafka_headers_t *h = rd_kafka_headers_new(6);
        rd_kafka_header_add(h, "inlet-tenant", -1, "bench", -1);
        rd_kafka_header_add(h, "inlet-schema", -1, "bench.blob", -1);
        rd_kafka_header_add(h, "inlet-schema-version", -1, "v1", -1);
        rd_kafka_header_add(h, "inlet-source", -1, "mqtt", -1);
        rd_kafka_header_add(h, "content-type", -1, "application/json", -1);
        rd_kafka_header_add(h, "inlet-event-id", -1, eid, -1);
        int64_t now = now_ns();
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(
                    rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_VALUE(value, (size_t)len), RD_KAFKA_V_KEY(key, strlen(key)),
                    RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE((void *)(intptr_t)now),
                    RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 1);
        if (e) {
            fprintf(stderr, "produce: %s\n", rd_kafka_err2str(e));
            return 1;
        }
        in_flight++;
        seq++;
        rd_kafka_poll(rk, 0);
    }
    while (in_flight > 0)
        rd_kafka_poll(rk, 10);
    counted = (long)n_lat;
    double run_s = fixed > 0 ? (double)(now_ns() - t_run) / 1e9 : (double)secs;
    qsort(lat, n_lat, sizeof(*lat), cmp64);
    struct rusage ru; /* the whole process: main thread and librdkafka's */
    getrusage(RUSAGE_SELF, &ru);
    double cpu_us = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
                    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    printf("{\"window\":%ld,\"size\":%d,\"seconds\":%.3f,\"messages\":%ld,\"msgs_per_s\":%.0f,"
           "\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"errors\":%ld,\"cpu_us_per_msg\":%.1f}\n",
           window, size, run_s, counted, (double)counted / run_s,
           n_lat ? (double)lat[n_lat / 2] / 1e6 : 0.0,
           n_lat ? (double)lat[(size_t)((double)n_lat * 0.99)] / 1e6 : 0.0, failed,
           cpu_us / (double)(delivered ? delivered : 1));
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return failed ? 1 : 0;
}
