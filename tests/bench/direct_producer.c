/*
 * direct_producer.c - the benchmark baseline: a plain librdkafka producer with the same settings
 * inletd uses (idempotent, acks=all, murmur2, lz4, linger) sending the same envelopes and
 * headers to the same broker. Prints one JSON line with events/s and ack latency percentiles.
 *
 *   direct_producer -b 127.0.0.1:29092 -t bench.fleet.updates.v1 -n 200000 -w 64 -d 100
 *
 * -w bounds the events in flight (like -w HTTP connections each waiting for its answer);
 * -d is the number of distinct device keys.
 */
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t *sent_at, *latency;
static long delivered, failed, in_flight;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    long i = (long)(intptr_t)m->_private;
    latency[delivered + failed] = now_ns() - sent_at[i];
    if (m->err)
        failed++;
    else
        delivered++;
    in_flight--;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *brokers = "127.0.0.1:9092", *topic = "bench.fleet.updates.v1";
    long n = 100000, window = 64, devices = 100;
    const char *linger = "5", *compression = "lz4";
    int c;
    while ((c = getopt(argc, argv, "b:t:n:w:d:l:z:")) != -1) {
        switch (c) {
        case 'b':
            brokers = optarg;
            break;
        case 't':
            topic = optarg;
            break;
        case 'n':
            n = atol(optarg);
            break;
        case 'w':
            window = atol(optarg);
            break;
        case 'd':
            devices = atol(optarg);
            break;
        case 'l':
            linger = optarg;
            break;
        case 'z':
            compression = optarg;
            break;
        default:
            fprintf(stderr, "usage: %s -b brokers -t topic -n count -w window -d devices\n",
                    argv[0]);
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
        {"compression.codec", compression},
        {"linger.ms", linger},
        {"queue.buffering.max.messages", "100000"},
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
    sent_at = calloc((size_t)n, sizeof(*sent_at));
    latency = calloc((size_t)n, sizeof(*latency));

    /* Warm up: metadata and the idempotent producer id, outside the measurement. */
    rd_kafka_producev(rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_VALUE("{}", 2), RD_KAFKA_V_END);
    rd_kafka_flush(rk, 10000);
    delivered = failed = in_flight = 0;

    char value[1024], key[32];
    int64_t start = now_ns();
    for (long i = 0; i < n; i++) {
        while (in_flight >= window)
            rd_kafka_poll(rk, 1);
        snprintf(key, sizeof(key), "truck-%04ld", i % devices);
        int len = snprintf(value, sizeof(value),
                           "{\"tenant\":\"bench\",\"device_id\":\"%s\",\"event_id\":"
                           "\"019aa5c2-6c3e-7b1f-9d0e-%012ld\",\"ts\":\"2026-11-21T10:15:30.123Z\","
                           "\"received_at\":\"2026-11-21T10:15:30.741Z\",\"schema\":"
                           "\"fleet.position\",\"schema_version\":\"v1\",\"source\":\"http\","
                           "\"payload\":{\"lat\":52.52,\"lon\":13.405,\"speed_kmh\":61.2,"
                           "\"heading_deg\":270,\"status\":\"delivering\"}}",
                           key, i);
        rd_kafka_headers_t *h = rd_kafka_headers_new(6);
        rd_kafka_header_add(h, "inlet-tenant", -1, "bench", -1);
        rd_kafka_header_add(h, "inlet-schema", -1, "fleet.position", -1);
        rd_kafka_header_add(h, "inlet-schema-version", -1, "v1", -1);
        rd_kafka_header_add(h, "inlet-source", -1, "http", -1);
        rd_kafka_header_add(h, "content-type", -1, "application/json", -1);
        rd_kafka_header_add(h, "inlet-event-id", -1, value + 60, 36);
        sent_at[i] = now_ns();
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(
                    rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_VALUE(value, (size_t)len), RD_KAFKA_V_KEY(key, strlen(key)),
                    RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE((void *)(intptr_t)i),
                    RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 1);
        if (e) {
            fprintf(stderr, "produce: %s\n", rd_kafka_err2str(e));
            return 1;
        }
        in_flight++;
        rd_kafka_poll(rk, 0);
    }
    while (in_flight > 0)
        rd_kafka_poll(rk, 10);
    double secs = (double)(now_ns() - start) / 1e9;
    long total = delivered + failed;
    qsort(latency, (size_t)total, sizeof(*latency), cmp64);
    printf("{\"events\":%ld,\"failed\":%ld,\"seconds\":%.3f,\"events_per_s\":%.0f,"
           "\"p50_ms\":%.2f,\"p99_ms\":%.2f}\n",
           delivered, failed, secs, (double)delivered / secs,
           total ? (double)latency[total / 2] / 1e6 : 0.0,
           total ? (double)latency[(long)((double)total * 0.99)] / 1e6 : 0.0);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    free(sent_at);
    free(latency);
    return failed ? 1 : 0;
}
