/* test_udp_json.c - unit tests of the example module against the fake host of
 * inlet/module_test.h: real UDP datagrams in, the replies the module sends once the test
 * completes its submissions; no Kafka, no inletd. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "inlet/module_test.h"

#define TOKEN "tok-truck-0042"
#define BATCH "{\"events\":[{\"use_case\":\"fleet.position\",\"schema\":\"v1\",\"payload\":{}}]}"

typedef struct udp_config { /* the module's, as its option table describes it */
    char *address;
    int64_t max_inflight;
} udp_config;

static int device = -1; /* the test's UDP socket, "connected" to the module */

/* A free UDP port on 127.0.0.1, as "127.0.0.1:<port>". */
static void free_address(char *out, size_t len)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0)
        abort();
    snprintf(out, len, "127.0.0.1:%u", ntohs(a.sin_port));
    close(fd);
}

static void send_text(const char *text)
{
    INLET_TEST_CHECK(send(device, text, strlen(text), 0) == (ssize_t)strlen(text));
}

/* The next reply within timeout_ms, or "" if none came. */
static const char *reply(int timeout_ms)
{
    static char buf[1024];
    struct pollfd p = {device, POLLIN, 0};
    buf[0] = '\0';
    if (poll(&p, 1, timeout_ms) == 1) {
        ssize_t n = recv(device, buf, sizeof(buf) - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
    }
    return buf;
}

int main(void)
{
    inlet_test_host *t = inlet_test_host_new("udp-test");
    inlet_test_host_add_token(t, TOKEN, "demo", "truck-0042");
    char address[64], err[256] = "";
    free_address(address, sizeof(address));
    udp_config cfg = {address, 2};
    void *state = NULL;
    const inlet_module_desc *desc = inlet_module_entry();
    INLET_TEST_CHECK(inlet_test_module_create(t, desc, &cfg, &state, err, sizeof(err)) == 0);
    INLET_TEST_CHECK(desc->start(state, err, sizeof(err)) == 0);

    struct sockaddr_in to = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                             .sin_port = htons((uint16_t)atoi(strchr(address, ':') + 1))};
    device = socket(AF_INET, SOCK_DGRAM, 0);
    INLET_TEST_CHECK(connect(device, (struct sockaddr *)&to, sizeof(to)) == 0);

    /* Accepted: submitted as a batch from the token's device, answered only after the ack. */
    send_text(TOKEN "\n" BATCH);
    INLET_TEST_CHECK(inlet_test_host_wait_submitted(t, 1, 5000) == 0);
    const inlet_test_submission *s = inlet_test_host_submission(t, 0);
    INLET_TEST_CHECK(s && s->form == INLET_FORM_BATCH && s->submit_status == INLET_OK);
    INLET_TEST_CHECK_STR(s->body, BATCH);
    INLET_TEST_CHECK_STR(s->device_id, "truck-0042");
    INLET_TEST_CHECK_STR(s->source, "udp");
    INLET_TEST_CHECK(s->peer && strncmp(s->peer, "127.0.0.1:", 10) == 0);
    INLET_TEST_CHECK_STR(reply(200), ""); /* nothing before Kafka acknowledged */
    const char *ids[] = {"evt-1"};
    INLET_TEST_CHECK(inlet_test_host_complete_events(t, 0, INLET_OK, 1, ids) == 0);
    INLET_TEST_CHECK_STR(reply(5000), "OK evt-1\n");

    /* A Kafka failure and a possibly persisted event: the device is told to retry. */
    send_text(TOKEN "\n" BATCH);
    INLET_TEST_CHECK(inlet_test_host_wait_submitted(t, 2, 5000) == 0);
    inlet_test_host_complete(t, 1, INLET_E_UNAVAILABLE);
    INLET_TEST_CHECK_STR(reply(5000), "ERR unavailable retry\n");
    send_text(TOKEN "\n" BATCH);
    INLET_TEST_CHECK(inlet_test_host_wait_submitted(t, 3, 5000) == 0);
    inlet_test_host_complete(t, 2, INLET_E_POSSIBLY_PERSISTED);
    INLET_TEST_CHECK_STR(reply(5000), "ERR possibly_persisted retry\n");

    /* Unknown token: answered at once, nothing submitted, reported as a refusal. */
    send_text("wrong\n" BATCH);
    INLET_TEST_CHECK_STR(reply(5000), "ERR unauthenticated \n");
    INLET_TEST_CHECK(inlet_test_host_submitted(t) == 3);
    INLET_TEST_CHECK(inlet_test_host_refusals(t, INLET_E_UNAUTHENTICATED) == 1);

    /* Refused by the core (schema, ACL...): the rejection's message goes back. */
    inlet_test_host_refuse(t, INLET_E_INVALID, "/payload/lat: 99 is greater than 90", 0);
    send_text(TOKEN "\n" BATCH);
    INLET_TEST_CHECK_STR(reply(5000), "ERR invalid /payload/lat: 99 is greater than 90\n");
    inlet_test_host_refuse(t, INLET_OK, NULL, 0);

    /* Back-pressure: max_inflight 2 waiting for Kafka, the third is refused at once. */
    send_text(TOKEN "\n" BATCH);
    send_text(TOKEN "\n" BATCH);
    INLET_TEST_CHECK(inlet_test_host_wait_submitted(t, 6, 5000) == 0);
    send_text(TOKEN "\n" BATCH);
    INLET_TEST_CHECK_STR(reply(5000), "ERR unavailable \n");
    INLET_TEST_CHECK(inlet_test_host_submitted(t) == 6);
    INLET_TEST_CHECK(inlet_test_host_complete_all(t, INLET_OK) == 2);
    INLET_TEST_CHECK(strncmp(reply(5000), "OK test-", 8) == 0);
    INLET_TEST_CHECK(strncmp(reply(5000), "OK test-", 8) == 0);

    /* Completed before submit() returns: the answer still comes from the queue. */
    inlet_test_host_complete_on_submit(t, 1, INLET_OK);
    send_text(TOKEN "\n" BATCH);
    INLET_TEST_CHECK(strncmp(reply(5000), "OK test-6-0", 11) == 0);

    /* Metrics are the instance's: module="udp-test". */
    INLET_TEST_CHECK(inlet_test_host_metric(t, "inlet_udp_datagrams_total",
                                            "module=\"udp-test\",result=\"ok\"") == 4);
    INLET_TEST_CHECK(inlet_test_host_metric(t, "inlet_udp_datagrams_total",
                                            "module=\"udp-test\",result=\"error\"") == 5);

    /* A submission left pending when inletd stops: stop() waits for its completion. */
    inlet_test_host_complete_on_submit(t, 0, INLET_OK);
    send_text(TOKEN "\n" BATCH);
    INLET_TEST_CHECK(inlet_test_host_wait_submitted(t, 8, 5000) == 0);
    desc->stop_accepting(state);
    send_text(TOKEN "\n" BATCH); /* no longer read */
    inlet_test_host_complete(t, 7, INLET_OK);
    desc->stop(state);
    INLET_TEST_CHECK(strncmp(reply(1000), "OK test-7-0", 11) == 0);
    INLET_TEST_CHECK(inlet_test_host_submitted(t) == 8);
    desc->destroy(state);

    close(device);
    INLET_TEST_CHECK(inlet_test_host_identities_held(t) == 0);
    INLET_TEST_CHECK(inlet_test_host_free(t) == 0); /* no contract violation */
    return INLET_TEST_DONE();
}
