/* test_spool.c - the spool's pieces: record encode/decode and CRC, segment scans of torn and
 * damaged tails, the journal's group commit, bounds, recovery and segment deletion, and the
 * forwarder against librdkafka's mock cluster (a broker that goes down and comes back). The
 * whole path against a real broker and a killed inletd: tests/integration/test_spool.py. */
#include <dirent.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "config/config.h"
#include "config/settings.h"
#include "identity/tenant.h"
#include "kafka/producer.h"
#include "spool/crc32c.h"
#include "spool/forwarder.h"
#include "spool/journal.h"
#include "spool/record.h"
#include "spool/rejected.h"
#include "spool/segment.h"

static void sleep_ms(int ms)
{
    struct timespec d = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&d, NULL);
}

static int64_t ts_base = 1000; /* spooled_at of event 0 */

static int encode_event(inlet_buf *b, int i, size_t pad)
{
    char value[4096], key[32], id[32];
    int n = snprintf(value, sizeof(value), "{\"event\":%d,\"pad\":\"%*s\"}", i, (int)pad, "");
    snprintf(key, sizeof(key), "dev-%d", i % 7);
    snprintf(id, sizeof(id), "ev-%d", i);
    inlet_spool_header hs[3] = {
        {"inlet-event-id", 14, id, strlen(id)},
        {"inlet-tenant", 12, "demo", 4},
        {"no-value", 8, NULL, 0},
    };
    inlet_spool_record r = {.spooled_at_us = ts_base + i,
                            .topic = "spool.test",
                            .topic_len = 10,
                            .key = key,
                            .key_len = strlen(key),
                            .value = value,
                            .value_len = (size_t)n,
                            .n_headers = 3,
                            .headers = hs};
    return inlet_spool_record_encode(b, &r);
}

static void test_crc(void)
{
    /* RFC 3720 B.4: 32 bytes of zeros, and "123456789" */
    uint8_t zeros[32] = {0};
    CHECK(inlet_crc32c(0, zeros, 32) == 0x8a9136aa);
    CHECK(inlet_crc32c(0, "123456789", 9) == 0xe3069283);
    CHECK(inlet_crc32c(inlet_crc32c(0, "1234", 4), "56789", 5) == 0xe3069283);
}

static void test_record(void)
{
    inlet_buf b;
    inlet_buf_init(&b, 64);
    CHECK(encode_event(&b, 42, 5) == 0);
    inlet_spool_record r;
    size_t used = 0;
    CHECK(inlet_spool_record_decode((uint8_t *)b.data, b.len, &r, &used) == INLET_SPOOL_REC_OK);
    CHECK(used == b.len);
    CHECK(r.spooled_at_us == 1042);
    CHECK(r.topic_len == 10 && memcmp(r.topic, "spool.test", 10) == 0);
    CHECK(r.key_len == 5 && memcmp(r.key, "dev-0", 5) == 0);
    CHECK(r.value_len > 10 && memcmp(r.value, "{\"event\":42", 11) == 0);
    CHECK(r.n_headers == 3);
    inlet_spool_header_iter it;
    inlet_spool_header h;
    inlet_spool_header_iter_init(&it, &r);
    CHECK(inlet_spool_header_next(&it, &h) && h.name_len == 14 && h.value_len == 5 &&
          memcmp(h.value, "ev-42", 5) == 0);
    CHECK(inlet_spool_header_next(&it, &h) && h.value_len == 4);
    CHECK(inlet_spool_header_next(&it, &h) && h.value == NULL && h.name_len == 8);
    CHECK(!inlet_spool_header_next(&it, &h));

    /* every prefix is short, never OK */
    int short_ok = 1;
    for (size_t k = 0; k < b.len; k++)
        if (inlet_spool_record_decode((uint8_t *)b.data, k, &r, &used) != INLET_SPOOL_REC_SHORT)
            short_ok = 0;
    CHECK(short_ok);
    /* every flipped bit is caught: by the CRC, or (in the length) as short or impossible */
    int flips_caught = 1;
    for (size_t k = 0; k < b.len; k++) {
        for (int bit = 0; bit < 8; bit++) {
            b.data[k] ^= (char)(1 << bit);
            if (inlet_spool_record_decode((uint8_t *)b.data, b.len, &r, &used) ==
                INLET_SPOOL_REC_OK)
                flips_caught = 0;
            b.data[k] ^= (char)(1 << bit);
        }
    }
    CHECK(flips_caught);

    /* a field too long to frame is refused at encode */
    inlet_spool_record big = {.topic = "t", .topic_len = 70000};
    CHECK(inlet_spool_record_encode(&b, &big) == -1);
    inlet_buf_free(&b);
}

static void test_scan(void)
{
    inlet_buf b;
    inlet_buf_init(&b, 256);
    uint8_t hdr[INLET_SPOOL_HEADER_LEN];
    inlet_spool_segment_header(hdr, 77);
    inlet_buf_append(&b, hdr, sizeof(hdr));
    for (int i = 0; i < 3; i++)
        encode_event(&b, i, 10);
    size_t whole = b.len;
    inlet_spool_scan s;
    inlet_spool_scan_bytes((uint8_t *)b.data, b.len, &s);
    CHECK(s.n_records == 3 && s.valid_end == whole && s.status == INLET_SPOOL_REC_OK);
    CHECK(s.first_spooled_at_us == 1000);

    /* a torn fourth record: half of it written */
    inlet_buf rec;
    inlet_buf_init(&rec, 64);
    encode_event(&rec, 3, 10);
    inlet_buf_append(&b, rec.data, rec.len / 2);
    inlet_spool_scan_bytes((uint8_t *)b.data, b.len, &s);
    CHECK(s.n_records == 3 && s.valid_end == whole && s.status == INLET_SPOOL_REC_SHORT);
    /* garbage instead */
    b.len = whole;
    inlet_buf_append(&b, "\xff\x00garbage-garbage-garbage", 24);
    inlet_spool_scan_bytes((uint8_t *)b.data, b.len, &s);
    CHECK(s.n_records == 3 && s.valid_end == whole && s.status != INLET_SPOOL_REC_OK);
    /* zeros (a file extended but never written, as after a power cut) */
    b.len = whole;
    inlet_buf_append(&b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 28);
    inlet_spool_scan_bytes((uint8_t *)b.data, b.len, &s);
    CHECK(s.n_records == 3 && s.valid_end == whole && s.status == INLET_SPOOL_REC_BAD);
    /* not a segment */
    inlet_spool_scan_bytes((const uint8_t *)"INLSPL02xxxxxxxx", 16, &s);
    CHECK(s.status == INLET_SPOOL_REC_BAD && s.n_records == 0);
    uint64_t first = 0;
    CHECK(inlet_spool_segment_name_parse("00000000000000000077.seg", &first) == 0 && first == 77);
    CHECK(inlet_spool_segment_name_parse("0000000000000000077.seg", &first) == -1);
    CHECK(inlet_spool_segment_name_parse("0000000000000000007x.seg", &first) == -1);
    inlet_buf_free(&rec);
    inlet_buf_free(&b);
}

static atomic_int done_ok, done_fail;

static void on_done(void *arg, int ok)
{
    (void)arg;
    atomic_fetch_add(ok ? &done_ok : &done_fail, 1);
}

static size_t count_segments(const char *dir, uint64_t *last_first)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        uint64_t f;
        if (inlet_spool_segment_name_parse(e->d_name, &f) == 0) {
            n++;
            if (last_first && f >= *last_first)
                *last_first = f;
        }
    }
    if (d)
        closedir(d);
    return n;
}

/* Read every record from seq on, across segments, as the forwarder would; count them and
 * check their order. */
static uint64_t read_all(inlet_journal *j, uint64_t seq, int *in_order)
{
    uint64_t n = 0;
    uint64_t first;
    int expect = (int)seq;
    *in_order = 1;
    while (inlet_journal_segment_at(j, seq, &first) == 0) {
        inlet_seg_reader r;
        if (inlet_seg_reader_open(&r, inlet_journal_dirfd(j), first) != 0)
            break;
        inlet_spool_record rec;
        off_t off;
        size_t len;
        while (inlet_seg_reader_next(&r, &rec, &off, &len) == INLET_SEG_RECORD) {
            char want[32];
            int w = snprintf(want, sizeof(want), "{\"event\":%d,", expect);
            if (rec.value_len < (size_t)w || memcmp(rec.value, want, (size_t)w) != 0)
                *in_order = 0;
            expect++;
            n++;
        }
        uint64_t next = r.seq;
        inlet_seg_reader_close(&r);
        if (next == seq)
            break;
        seq = next;
    }
    return n;
}

static int wait_done(int want, int ms)
{
    for (int t = 0; t < ms && atomic_load(&done_ok) + atomic_load(&done_fail) < want; t += 5)
        sleep_ms(5);
    return atomic_load(&done_ok) + atomic_load(&done_fail) >= want;
}

static void test_journal(inlet_spool_settings *s)
{
    char err[512];
    inlet_spool_metrics m;
    inlet_spool_metrics_init(&m);
    inlet_journal *j = NULL;
    CHECK(inlet_journal_open(s, &m, &j, err, sizeof(err)) == 0);
    if (!j) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    CHECK(inlet_journal_start(j, err, sizeof(err)) == 0);
    /* a second inletd on the same directory is refused */
    inlet_journal *j2 = NULL;
    CHECK(inlet_journal_open(s, &m, &j2, err, sizeof(err)) == -1);
    CHECK_CONTAINS(err, "in use by another inletd");

    /* 200 records of ~1 KB, in batches of 4: several 64 KB segments */
    int appended = 0;
    for (int i = 0; i < 200; i += 4) {
        inlet_buf b;
        inlet_buf_init(&b, 4096);
        for (int k = 0; k < 4; k++)
            encode_event(&b, i + k, 1000);
        char why[256];
        CHECK(inlet_journal_append(j, b.data, b.len, 4, on_done, NULL, why, sizeof(why)) ==
              INLET_JOURNAL_OK);
        appended++;
        inlet_buf_free(&b);
    }
    CHECK(wait_done(appended, 5000));
    CHECK(atomic_load(&done_ok) == appended && atomic_load(&done_fail) == 0);
    CHECK(inlet_journal_durable(j) == 200);
    CHECK(inlet_metric_value(m.backlog_events) == 200);
    CHECK(inlet_metric_value(m.appended) == 200);
    CHECK(inlet_metric_value(m.fsyncs) >= 1);
    size_t segs = count_segments(s->dir, NULL);
    CHECK(segs >= 3);

    /* full: max_bytes 256 KB; append until refused, and the refusal stores nothing */
    int refused = 0;
    uint64_t before_full = 0;
    for (int i = 200; i < 600 && !refused; i++) {
        inlet_buf b;
        inlet_buf_init(&b, 2048);
        encode_event(&b, i, 1000);
        char why[256];
        uint64_t d0 = inlet_journal_durable(j);
        inlet_journal_status st =
            inlet_journal_append(j, b.data, b.len, 1, on_done, NULL, why, sizeof(why));
        if (st == INLET_JOURNAL_FULL) {
            refused = 1;
            before_full = (uint64_t)i;
            CHECK_CONTAINS(why, "the spool is full");
            (void)d0;
        } else {
            appended++;
        }
        inlet_buf_free(&b);
    }
    CHECK(refused);
    CHECK(inlet_metric_value(m.refused_full) == 1);
    CHECK(wait_done(appended, 5000));
    CHECK(inlet_journal_durable(j) == before_full);
    CHECK(inlet_metric_value(m.disk_bytes) <= (int64_t)s->max_bytes);
    inlet_journal_free(j);

    /* power cut mid-write: half a record, then garbage, at the end of the last segment */
    uint64_t last = 0;
    count_segments(s->dir, &last);
    char path[512], name[32];
    inlet_spool_segment_name(name, sizeof(name), last);
    snprintf(path, sizeof(path), "%s/%s", s->dir, name);
    struct stat st0;
    CHECK(stat(path, &st0) == 0);
    int fd = open(path, O_WRONLY | O_APPEND);
    inlet_buf b;
    inlet_buf_init(&b, 2048);
    encode_event(&b, 9999, 500);
    CHECK(write(fd, b.data, b.len / 3) == (ssize_t)(b.len / 3));
    CHECK(write(fd, "garbage\xff\xfe", 9) == 9);
    close(fd);
    int64_t torn = (int64_t)(b.len / 3 + 9);
    inlet_buf_free(&b);

    inlet_metric_set(m.backlog_events, 0);
    int64_t cut0 = inlet_metric_value(m.truncated_bytes);
    CHECK(inlet_journal_open(s, &m, &j, err, sizeof(err)) == 0);
    if (!j) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    struct stat st1;
    CHECK(stat(path, &st1) == 0 && st1.st_size == st0.st_size); /* cut at the last whole one */
    CHECK(inlet_metric_value(m.truncated_bytes) - cut0 == torn);
    CHECK(inlet_journal_durable(j) == before_full);
    CHECK(inlet_journal_first_unacked(j) == 0);
    CHECK(inlet_metric_value(m.backlog_events) == (int64_t)before_full);
    int in_order = 0;
    CHECK(read_all(j, 0, &in_order) == before_full);
    CHECK(in_order);

    /* Kafka acknowledged the first 100: the segments holding only those go, the checkpoint
     * says 100, and a restart forwards from there */
    size_t segs_before = count_segments(s->dir, NULL);
    inlet_journal_acked(j, 100, 100, 0, 0);
    CHECK(count_segments(s->dir, NULL) < segs_before);
    CHECK(inlet_journal_first_unacked(j) == 100);
    inlet_journal_free(j);
    CHECK(inlet_journal_open(s, &m, &j, err, sizeof(err)) == 0);
    if (!j)
        return;
    CHECK(inlet_journal_first_unacked(j) == 100);
    CHECK(read_all(j, 100, &in_order) >= before_full - 100); /* whole segments: from <= 100 */
    /* everything acknowledged: only the (new, empty) write segment is left after a restart */
    inlet_journal_acked(j, before_full, before_full - 100, 0, 0);
    inlet_journal_free(j);
    CHECK(inlet_journal_open(s, &m, &j, err, sizeof(err)) == 0);
    if (!j)
        return;
    CHECK(count_segments(s->dir, NULL) == 1);
    CHECK(inlet_journal_first_unacked(j) == before_full);
    CHECK(inlet_journal_durable(j) == before_full);
    inlet_journal_free(j);
}

/* on_max_age: refuse. While the forwarder reports an oldest event older than max_age, appends
 * are refused (nothing written); once it reports a young one, they pass again. */
static void test_max_age_refuses(inlet_spool_settings *s)
{
    char err[512], why[256];
    inlet_spool_metrics m;
    inlet_spool_metrics_init(&m);
    inlet_journal *j = NULL;
    s->max_age_ms = 1000;
    s->on_max_age = INLET_SPOOL_AGE_REFUSE;
    CHECK(inlet_journal_open(s, &m, &j, err, sizeof(err)) == 0);
    if (!j)
        return;
    CHECK(inlet_journal_start(j, err, sizeof(err)) == 0);
    inlet_buf b;
    inlet_buf_init(&b, 512);
    encode_event(&b, 0, 10);
    uint64_t d0 = inlet_journal_durable(j);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
    inlet_journal_acked(j, inlet_journal_first_unacked(j), 0, 0, now_us - 5000000);
    CHECK(inlet_metric_value(m.over_age) == 1);
    CHECK(inlet_journal_append(j, b.data, b.len, 1, on_done, NULL, why, sizeof(why)) ==
          INLET_JOURNAL_AGED);
    CHECK_CONTAINS(why, "older than its max_age");
    CHECK(inlet_metric_value(m.refused_age) >= 1);
    sleep_ms(50);
    CHECK(inlet_journal_durable(j) == d0);
    inlet_journal_acked(j, inlet_journal_first_unacked(j), 0, 0, now_us);
    CHECK(inlet_metric_value(m.over_age) == 0);
    CHECK(inlet_journal_append(j, b.data, b.len, 1, on_done, NULL, why, sizeof(why)) ==
          INLET_JOURNAL_OK);
    inlet_buf_free(&b);
    inlet_journal_free(j);
    s->max_age_ms = 0;
}

/* Events from..to-1, one append each. */
static void append_events(inlet_journal *j, int from, int to)
{
    for (int i = from; i < to; i++) {
        inlet_buf b;
        inlet_buf_init(&b, 512);
        encode_event(&b, i, 50);
        char why[256];
        CHECK(inlet_journal_append(j, b.data, b.len, 1, on_done, NULL, why, sizeof(why)) ==
              INLET_JOURNAL_OK);
        inlet_buf_free(&b);
    }
}

static void test_forwarder(inlet_settings *settings)
{
    char err[1024];
    inlet_kafka_settings *k = &settings->kafka;
    free(k->bootstrap_servers);
    k->bootstrap_servers = strdup("unused:9092");
    k->delivery_timeout_ms = 1500;
    k->health_interval_ms = 100;
    k->properties.keys = calloc(1, sizeof(char *));
    k->properties.values = calloc(1, sizeof(char *));
    k->properties.keys[0] = strdup("test.mock.num.brokers");
    k->properties.values[0] = strdup("1");
    k->properties.count = 1;
    inlet_producer *p = NULL;
    CHECK(inlet_producer_new(k, &p, err, sizeof(err)) == 0);
    if (!p)
        return;
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(inlet_producer_handle(p));
    rd_kafka_mock_topic_create(mc, "spool.test", 3, 1);
    CHECK(inlet_producer_start(p, err, sizeof(err)) == 0);

    inlet_spool_metrics m;
    inlet_spool_metrics_init(&m);
    inlet_journal *j = NULL;
    inlet_forwarder *f = NULL;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    ts_base = (int64_t)now.tv_sec * 1000000;
    settings->spool.max_inflight = 50;
    CHECK(inlet_journal_open(&settings->spool, &m, &j, err, sizeof(err)) == 0);
    if (!j)
        return;
    uint64_t base = inlet_journal_first_unacked(j);
    CHECK(inlet_forwarder_new(j, p, &settings->spool, &m, &f, err, sizeof(err)) == 0);
    CHECK(inlet_journal_start(j, err, sizeof(err)) == 0);
    CHECK(inlet_forwarder_start(f, err, sizeof(err)) == 0);
    for (int t = 0; t < 5000 && !inlet_producer_ready(p); t += 10)
        sleep_ms(10);

    int64_t fwd0 = inlet_metric_value(m.forwarded);
    atomic_store(&done_ok, 0);
    atomic_store(&done_fail, 0);
    append_events(j, 0, 100);
    CHECK(wait_done(100, 5000));
    for (int t = 0; t < 10000 && inlet_metric_value(m.forwarded) - fwd0 < 100; t += 10)
        sleep_ms(10);
    CHECK(inlet_metric_value(m.forwarded) - fwd0 == 100);

    /* the broker goes down: appends still succeed (the disk has them), deliveries time out, and
     * once it is back the forwarder produces everything from the first failure again */
    rd_kafka_mock_broker_set_down(mc, 1);
    append_events(j, 100, 200);
    CHECK(wait_done(200, 5000));
    sleep_ms(2500); /* past the delivery timeout */
    int64_t during = inlet_metric_value(m.forwarded) - fwd0;
    CHECK(during < 200);
    CHECK(inlet_metric_value(m.oldest_age_ms) >= 0);
    rd_kafka_mock_broker_set_up(mc, 1);
    for (int t = 0; t < 20000 && inlet_metric_value(m.forwarded) - fwd0 < 200; t += 10)
        sleep_ms(10);
    CHECK(inlet_metric_value(m.forwarded) - fwd0 >= 200);
    for (int t = 0; t < 2000 && inlet_journal_first_unacked(j) < base + 200; t += 10)
        sleep_ms(10);
    CHECK(inlet_journal_first_unacked(j) == base + 200);
    CHECK(inlet_metric_value(m.backlog_events) == 0);

    /* nothing in flight any more: this forwarder can go before the producer */
    inlet_journal_stop(j);
    inlet_forwarder_stop(f);
    inlet_forwarder_free(f);
    inlet_journal_free(j);

    /* on_max_age: drop: events older than max_age are dropped unforwarded, each counted, even
     * while Kafka is down; the checkpoint moves past them */
    settings->spool.max_age_ms = 1000;
    settings->spool.on_max_age = INLET_SPOOL_AGE_DROP;
    CHECK(inlet_journal_open(&settings->spool, &m, &j, err, sizeof(err)) == 0);
    if (!j)
        return;
    base = inlet_journal_first_unacked(j);
    CHECK(inlet_forwarder_new(j, p, &settings->spool, &m, &f, err, sizeof(err)) == 0);
    CHECK(inlet_journal_start(j, err, sizeof(err)) == 0);
    CHECK(inlet_forwarder_start(f, err, sizeof(err)) == 0);
    rd_kafka_mock_broker_set_down(mc, 1);
    ts_base = 1000; /* 1970 */
    int64_t exp0 = inlet_metric_value(m.expired), fwd1 = inlet_metric_value(m.forwarded);
    atomic_store(&done_ok, 0);
    atomic_store(&done_fail, 0);
    append_events(j, 0, 50);
    CHECK(wait_done(50, 5000));
    for (int t = 0; t < 5000 && inlet_journal_first_unacked(j) < base + 50; t += 10)
        sleep_ms(10);
    CHECK(inlet_metric_value(m.expired) - exp0 == 50);
    CHECK(inlet_metric_value(m.forwarded) == fwd1);
    CHECK(inlet_journal_first_unacked(j) == base + 50);
    rd_kafka_mock_broker_set_up(mc, 1);
    settings->spool.max_age_ms = 0;
    settings->spool.on_max_age = INLET_SPOOL_AGE_REFUSE;

    inlet_journal_stop(j);
    inlet_forwarder_stop(f);
    inlet_producer_drain(p, 2000);
    inlet_producer_free(p);
    inlet_forwarder_free(f);
    inlet_journal_free(j);
}

/* The tenant's ack, and ack_schemas: first match wins, else ack, else kafka. */
static inlet_tenants *tenants_from(const char *yaml, char *err, size_t err_len)
{
    inlet_conf_file *f = NULL;
    inlet_tenant_conf tc;
    inlet_tenants *ts = NULL;
    memset(&tc, 0, sizeof(tc));
    if (inlet_conf_load_string("t.yaml", yaml, strlen(yaml), &f, err, err_len) == 0 &&
        inlet_conf_apply(f, inlet_conf_root(f), inlet_tenant_options, &tc, NULL, err, err_len) ==
            0) {
        const inlet_tenant_conf *confs[] = {&tc};
        const char *origins[] = {"t.yaml:1"};
        inlet_tenants_build(confs, origins, 1, &ts, err, err_len);
    }
    inlet_conf_release(inlet_tenant_options, &tc);
    inlet_conf_file_free(f);
    return ts;
}

static void test_ack_policy(void)
{
    char err[512];
    inlet_identity *id = NULL;
    inlet_tenants *ts = tenants_from("tenant: a\n", err, sizeof(err));
    CHECK(ts && inlet_identity_for_device(ts, "a", "d1", INLET_AUTH_TOKEN, &id) == INLET_OK);
    CHECK(inlet_identity_ack_mode(id, "fleet.position", "v1") == INLET_ACK_KAFKA);
    CHECK(!inlet_tenants_use_spool(ts));
    inlet_identity_release(id);
    inlet_tenants_release(ts);

    /* spool one schema only */
    ts = tenants_from("tenant: a\nack_schemas: [{schemas: [\"driver.panic@*\"], ack: spool}]\n",
                      err, sizeof(err));
    CHECK(ts && inlet_identity_for_device(ts, "a", "d1", INLET_AUTH_TOKEN, &id) == INLET_OK);
    CHECK(inlet_identity_ack_mode(id, "driver.panic", "v1") == INLET_ACK_SPOOL);
    CHECK(inlet_identity_ack_mode(id, "driver.panic", "v7") == INLET_ACK_SPOOL);
    CHECK(inlet_identity_ack_mode(id, "fleet.position", "v1") == INLET_ACK_KAFKA);
    CHECK(inlet_tenants_use_spool(ts));
    inlet_identity_release(id);
    inlet_tenants_release(ts);

    /* everything but one version; the first matching rule decides */
    ts = tenants_from("tenant: a\nack: spool\nack_schemas:\n"
                      "  - {schemas: [\"fleet.position@v1\"], ack: kafka}\n"
                      "  - {schemas: [\"fleet.position\"], ack: spool}\n",
                      err, sizeof(err));
    CHECK(ts && inlet_identity_for_device(ts, "a", "d1", INLET_AUTH_TOKEN, &id) == INLET_OK);
    CHECK(inlet_identity_ack_mode(id, "fleet.position", "v1") == INLET_ACK_KAFKA);
    CHECK(inlet_identity_ack_mode(id, "fleet.position", "1") == INLET_ACK_KAFKA);
    CHECK(inlet_identity_ack_mode(id, "fleet.position", "v2") == INLET_ACK_SPOOL);
    CHECK(inlet_identity_ack_mode(id, "coldchain.temp", "v1") == INLET_ACK_SPOOL);
    inlet_identity_release(id);
    inlet_tenants_release(ts);

    /* refused: a bad pattern, an unknown mode */
    CHECK(tenants_from("tenant: a\nack_schemas: [{schemas: [\"@v1\"], ack: spool}]\n", err,
                       sizeof(err)) == NULL);
    CHECK_CONTAINS(err, "ack_schemas[0].schemas[0]");
    CHECK(tenants_from("tenant: a\nack: disk\n", err, sizeof(err)) == NULL);
    CHECK_CONTAINS(err, "ack");
}

static void rm_rf(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char p[512];
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        if (unlink(p) != 0)
            rm_rf(p); /* rejected/ */
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

/* rejected/: a kept record is two fsynced files that describe it exactly; the bound counts
 * what is there already (also across a reopen) and refuses past it, writing nothing. */
static void test_rejected(const char *dir)
{
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY);
    CHECK(dirfd >= 0);
    inlet_spool_rejected r;
    CHECK(inlet_spool_rejected_open(&r, dirfd, 4096) == 0);
    CHECK(r.bytes == 0);
    inlet_spool_header hs[] = {{"inlet-event-id", 14, "ev-1", 4}, {"empty", 5, NULL, 0}};
    inlet_spool_record rec = {.spooled_at_us = 42,
                              .topic = "t.v1",
                              .topic_len = 4,
                              .key = "k\xff",
                              .key_len = 2, /* not UTF-8: written as key_hex */
                              .value = "{\"a\":1}",
                              .value_len = 7,
                              .n_headers = 2,
                              .headers = hs};
    inlet_buf b;
    inlet_buf_init(&b, 256);
    CHECK(inlet_spool_record_encode(&b, &rec) == 0);
    inlet_spool_record dec;
    size_t used;
    CHECK(inlet_spool_record_decode((const uint8_t *)b.data, b.len, &dec, &used) ==
          INLET_SPOOL_REC_OK);
    CHECK(inlet_spool_rejected_keep(&r, 7, &dec, "too large") == INLET_REJECTED_KEPT);
    uint64_t after_one = r.bytes;
    CHECK(after_one > 7);

    char path[512], text[2048];
    snprintf(path, sizeof(path), "%s/rejected/00000000000000000007.value", dir);
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0 && read(fd, text, sizeof(text)) == 7 && memcmp(text, "{\"a\":1}", 7) == 0);
    if (fd >= 0)
        close(fd);
    snprintf(path, sizeof(path), "%s/rejected/00000000000000000007.json", dir);
    fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
    if (fd >= 0)
        close(fd);
    CHECK(n > 0);
    text[n > 0 ? n : 0] = '\0';
    CHECK(strstr(text, "\"topic\": \"t.v1\"") && strstr(text, "\"key_hex\": \"6bff\"") &&
          strstr(text, "\"inlet-event-id\": \"ev-1\"") && strstr(text, "\"empty\": null") &&
          strstr(text, "\"error\": \"too large\"") && strstr(text, "\"seq\": 7") &&
          strstr(text, "\"value_file\": \"00000000000000000007.value\"") &&
          strstr(text, "\"spooled_at_us\": 42"));
    inlet_spool_rejected_close(&r);

    /* reopened with room for about one more: the second fits, the third does not */
    CHECK(inlet_spool_rejected_open(&r, dirfd, 2 * after_one + 4) == 0);
    CHECK(r.bytes == after_one);
    CHECK(inlet_spool_rejected_keep(&r, 8, &dec, "too large") == INLET_REJECTED_KEPT);
    CHECK(inlet_spool_rejected_keep(&r, 9, &dec, "too large") == INLET_REJECTED_FULL);
    snprintf(path, sizeof(path), "%s/rejected/00000000000000000009.value", dir);
    CHECK(access(path, F_OK) != 0);
    inlet_spool_rejected_close(&r);
    inlet_buf_free(&b);
    close(dirfd);
}

int main(void)
{
    char err[512];
    test_crc();
    test_record();
    test_scan();
    test_ack_policy();

    inlet_settings settings;
    memset(&settings, 0, sizeof(settings));
    if (inlet_conf_defaults(inlet_settings_options, &settings, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    char dir[] = "/tmp/spool-unit-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    free(settings.spool.dir);
    settings.spool.dir = strdup(dir);
    settings.spool.segment_size = 64 * 1024;
    settings.spool.max_bytes = 256 * 1024;
    test_journal(&settings.spool);
    rm_rf(dir);
    CHECK(mkdtemp(dir) != NULL || 1);
    mkdir(dir, 0700);
    settings.spool.max_bytes = 4 << 20;
    test_max_age_refuses(&settings.spool);
    rm_rf(dir);
    mkdir(dir, 0700);
    test_forwarder(&settings);
    rm_rf(dir);
    mkdir(dir, 0700);
    test_rejected(dir);
    rm_rf(dir);
    inlet_conf_release(inlet_settings_options, &settings);
    return check_done();
}
