/* test_teltonika_kit.c - the Teltonika module (modules/teltonika) against the test kit's fake
 * host: a tracker over real TCP, its IMEI known to the fake, and the 4-byte record count it gets
 * back only once the test completes the submission (0 on a Kafka failure or a refusal). No
 * Kafka, no inletd: the module's contract with the core, not the broker, is what is tested. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "inlet/module_test.h"
#include "../../modules/teltonika/teltonika.h"

#define IMEI "356307042441013"

static uint16_t crc16(const uint8_t *p, size_t n) /* CRC-16/IBM, as the trackers send it */
{
    uint16_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = crc & 1 ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
    }
    return crc;
}

/* A Codec 8 packet of one record without I/O elements; returns its length. */
static size_t packet(uint8_t *out, uint64_t ts_ms)
{
    uint8_t data[33] = {0x08, 1};
    for (int i = 0; i < 8; i++)
        data[2 + i] = (uint8_t)(ts_ms >> (56 - 8 * i));
    /* priority, lon, lat, alt, angle, satellites, speed, then event id and I/O counts: 0 */
    data[32] = 1;
    uint32_t len = htonl(sizeof(data)), crc = htonl(crc16(data, sizeof(data)));
    memset(out, 0, 4);
    memcpy(out + 4, &len, 4);
    memcpy(out + 8, data, sizeof(data));
    memcpy(out + 8 + sizeof(data), &crc, 4);
    return 8 + sizeof(data) + 4;
}

static int recv_all(int fd, uint8_t *buf, size_t n, int timeout_ms)
{
    for (size_t got = 0; got < n;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, timeout_ms) != 1)
            return -1;
        ssize_t r = recv(fd, buf + got, n - got, 0);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* The tracker's answer to a packet: the records count, or -1 if none came. */
static long answer(int fd, int timeout_ms)
{
    uint8_t b[4];
    return recv_all(fd, b, 4, timeout_ms) == 0
               ? (long)((uint32_t)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3])
               : -1;
}

int main(void)
{
    inlet_test_host *t = inlet_test_host_new("teltonika");
    inlet_test_host_add_imei(t, IMEI, "demo", "truck-0042");

    /* A free port, then the module's configuration as its option table's defaults give it. */
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    int probe = socket(AF_INET, SOCK_STREAM, 0);
    INLET_TEST_CHECK(bind(probe, (struct sockaddr *)&a, sizeof(a)) == 0 &&
                     getsockname(probe, (struct sockaddr *)&a, &alen) == 0);
    close(probe);
    char address[64];
    snprintf(address, sizeof(address), "127.0.0.1:%u", ntohs(a.sin_port));
    tlt_listener_config listener = {.address = address};
    tlt_config cfg = {.threads = 1,
                      .max_packet_size = 65536,
                      .idle_timeout_ms = 600000,
                      .handshake_timeout_ms = 10000,
                      .max_inflight_per_thread = 100,
                      .shutdown_timeout_ms = 2000,
                      .listeners = {&listener, 1}};
    char err[512] = "";
    void *state = NULL;
    const inlet_module_desc *desc = inlet_module_entry();
    int rc = inlet_test_module_create(t, desc, &cfg, &state, err, sizeof(err));
    if (rc == 0)
        rc = desc->start(state, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "teltonika: %s\n", err);
    INLET_TEST_CHECK(rc == 0);
    if (rc != 0)
        return INLET_TEST_DONE();

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    INLET_TEST_CHECK(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    uint8_t hello[2 + 15] = {0, 15}, yes = 0;
    memcpy(hello + 2, IMEI, 15);
    INLET_TEST_CHECK(send(fd, hello, sizeof(hello), 0) == (ssize_t)sizeof(hello));
    INLET_TEST_CHECK(recv_all(fd, &yes, 1, 5000) == 0 && yes == 0x01); /* IMEI accepted */

    /* One record: submitted for the IMEI's device, acknowledged only after the completion. */
    uint8_t pk[64];
    size_t n = packet(pk, 1764547200000ull);
    INLET_TEST_CHECK(send(fd, pk, n, 0) == (ssize_t)n);
    INLET_TEST_CHECK(inlet_test_host_wait_submitted(t, 1, 5000) == 0);
    const inlet_test_submission *s = inlet_test_host_submission(t, 0);
    INLET_TEST_CHECK(s && s->form == INLET_FORM_BATCH);
    INLET_TEST_CHECK_STR(s->schema, "teltonika.avl");
    INLET_TEST_CHECK_STR(s->device_id, "truck-0042");
    INLET_TEST_CHECK_STR(s->source, "teltonika");
    INLET_TEST_CHECK(s->body && strstr(s->body, IMEI) != NULL);
    INLET_TEST_CHECK(answer(fd, 300) == -1); /* nothing before Kafka acknowledged */
    inlet_test_host_complete(t, 0, INLET_OK);
    INLET_TEST_CHECK(answer(fd, 5000) == 1);

    /* Kafka failed it: the tracker is told 0 and keeps the record to resend. */
    n = packet(pk, 1764547201000ull);
    INLET_TEST_CHECK(send(fd, pk, n, 0) == (ssize_t)n);
    INLET_TEST_CHECK(inlet_test_host_wait_submitted(t, 2, 5000) == 0);
    inlet_test_host_complete(t, 1, INLET_E_POSSIBLY_PERSISTED);
    INLET_TEST_CHECK(answer(fd, 5000) == 0);

    /* Refused by the core (schema, ACL): 0 at once, nothing pending. */
    inlet_test_host_refuse(t, INLET_E_FORBIDDEN, "acl", 0);
    n = packet(pk, 1764547202000ull);
    INLET_TEST_CHECK(send(fd, pk, n, 0) == (ssize_t)n);
    INLET_TEST_CHECK(answer(fd, 5000) == 0);
    inlet_test_host_refuse(t, INLET_OK, NULL, 0);
    INLET_TEST_CHECK(inlet_test_host_metric(t, "inlet_teltonika_records_total", NULL) == 1);

    /* Shutdown with a packet in flight: answered once completed, then the connection ends. */
    n = packet(pk, 1764547203000ull);
    INLET_TEST_CHECK(send(fd, pk, n, 0) == (ssize_t)n);
    INLET_TEST_CHECK(inlet_test_host_wait_submitted(t, 4, 5000) == 0);
    desc->stop_accepting(state);
    inlet_test_host_complete(t, 3, INLET_OK);
    desc->stop(state);
    INLET_TEST_CHECK(answer(fd, 2000) == 1);
    desc->destroy(state);
    close(fd);
    INLET_TEST_CHECK(inlet_test_host_identities_held(t) == 0);
    INLET_TEST_CHECK(inlet_test_host_free(t) == 0);
    return INLET_TEST_DONE();
}
