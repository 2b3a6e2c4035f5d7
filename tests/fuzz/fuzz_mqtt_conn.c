/* fuzz_mqtt_conn.c - libFuzzer target for the MQTT connection state machine: the real module
 * (build/modules/mqtt.so, instrumented like the core) runs in-process with one loop and one
 * plaintext listener, and every input is one client connection's byte stream: CONNECT (its
 * password "tok-<device>" authenticates <device>), PUBLISH with properties, topic aliases and
 * packet ids, PUBREL, PING, DISCONNECT, garbage. What the module does with it is its own: framing,
 * CONNECT handling and session attach, the topic mapping, aliases, the packet-id table, acks
 * when the completion comes, protocol errors and closing.
 *
 * The host is the core's own table with authentication and submit replaced: a token names its
 * device; submit completes through a real completion queue, succeeding or failing as the first
 * payload byte says, so both acks and refusals are exercised. The first input byte selects
 * whether a write is split (to exercise incomplete packets). ASan/UBSan catch what goes wrong;
 * a connection must end within the timeout. */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config/config.h"
#include "identity/tenant.h"
#include "kafka/queue.h"
#include "pipeline/rejection.h"

const inlet_host *inlet_host_table(void); /* core/host.c */

#define ASSERT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const char tenant_yaml[] = "tenant: demo\n"
                                  "devices: [{id: truck-0042}, {id: d}]\n"
                                  "acl: [{effect: allow, schemas: [\"*\"]}]\n";
static const char mqtt_yaml[] = "threads: 1\n"
                                "receive_maximum: 8\n"
                                "topic_aliases: 4\n"
                                "max_packet_size: 16k\n"
                                "max_connect_size: 2k\n"
                                "connect_timeout: 1s\n"
                                "max_keep_alive: 1m\n"
                                "listeners: [{address: \"127.0.0.1:0\"}]\n"
                                "mappings:\n"
                                "  - topic: \"devices/{device}/{schema}/{version}\"\n"
                                "  - topic: \"devices/{device}/events\"\n"
                                "    form: events\n"
                                "  - topic: \"t/#\"\n"
                                "    schema: fleet.position\n"
                                "    version: v1\n";

static inlet_tenants *tenants;
static inlet_host host;
static int port;

static inlet_status fake_auth_bearer(const char *token, size_t len, inlet_identity **out, char *msg,
                                     size_t msg_len)
{
    char device[64];
    *out = NULL;
    if (len < 5 || len >= sizeof(device) + 4 || memcmp(token, "tok-", 4) != 0) {
        snprintf(msg ? msg : device, msg ? msg_len : sizeof(device), "invalid token");
        return INLET_E_UNAUTHENTICATED;
    }
    memcpy(device, token + 4, len - 4);
    device[len - 4] = '\0';
    return inlet_identity_for_device(tenants, "demo", device, INLET_AUTH_JWT, out) == INLET_OK
               ? INLET_OK
               : INLET_E_UNAUTHENTICATED;
}

static inlet_status fake_auth_cert(const uint8_t *const *chain, const size_t *chain_len, size_t n,
                                   inlet_identity **out, char *msg, size_t msg_len)
{
    (void)chain, (void)chain_len, (void)n, (void)msg, (void)msg_len;
    *out = NULL;
    return INLET_E_UNAUTHENTICATED;
}

/* The first payload byte decides: 'R' refused (status from the second byte), 'F' Kafka fails,
 * anything else succeeds. */
static inlet_status fake_submit(inlet_module_ctx *mod, const inlet_request *req,
                                inlet_rejection **rej)
{
    const uint8_t *b = req->body;
    (void)mod;
    if (rej)
        *rej = NULL;
    ASSERT(req->identity && req->queue && (req->body || req->body_len == 0));
    for (size_t i = 0; i < req->n_headers; i++)
        ASSERT(req->headers[i].name && req->headers[i].name[0]);
    if (req->body_len >= 2 && b[0] == 'R') {
        inlet_status st = (inlet_status)(1 + b[1] % 10);
        if (rej)
            *rej = inlet_rejection_simple(st, "refused by the fuzzer");
        return st;
    }
    inlet_submission *sub = inlet_submission_new(req->queue, req->opaque, 1);
    if (!sub)
        return INLET_E_INTERNAL;
    sub->slots[0].result.status =
        req->body_len >= 1 && b[0] == 'F' ? INLET_E_UNAVAILABLE : INLET_OK;
    sub->slots[0].result.partition = -1;
    sub->slots[0].result.offset = -1;
    inlet_submission_put(sub, 2); /* the slot and the guard */
    return INLET_OK;
}

static int64_t no_expiry(const inlet_identity *id)
{
    (void)id;
    return 0;
}

static void die(const char *what, const char *err)
{
    fprintf(stderr, "fuzz_mqtt_conn: %s: %s\n", what, err);
    exit(1);
}

static int listener_port(void)
{
    /* The listener bound 127.0.0.1:0; find the port the kernel chose among our sockets. */
    for (int fd = 3; fd < 1024; fd++) {
        struct sockaddr_in a;
        socklen_t len = sizeof(a);
        int listening = 0;
        socklen_t l2 = sizeof(listening);
        if (getsockname(fd, (struct sockaddr *)&a, &len) == 0 && a.sin_family == AF_INET &&
            getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &l2) == 0 && listening)
            return ntohs(a.sin_port);
    }
    return -1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static char module_cfg[4096];
    char err[512];
    inlet_conf_file *f = NULL;
    inlet_tenant_conf tc;
    const inlet_tenant_conf *tcs[] = {&tc};
    const char *origins[] = {"fuzz"};
    (void)argc, (void)argv;

    memset(&tc, 0, sizeof(tc));
    if (inlet_conf_load_string("t.yaml", tenant_yaml, strlen(tenant_yaml), &f, err, sizeof(err)) ||
        inlet_conf_apply(f, inlet_conf_root(f), inlet_tenant_options, &tc, NULL, err,
                         sizeof(err)) ||
        inlet_tenants_build(tcs, origins, 1, &tenants, err, sizeof(err)))
        die("tenants", err);
    inlet_conf_file_free(f);
    inlet_conf_release(inlet_tenant_options, &tc);

    void *so = dlopen(INLET_BUILD_DIR "/modules/mqtt.so", RTLD_NOW | RTLD_LOCAL);
    if (!so)
        die("dlopen", dlerror());
    inlet_module_entry_fn entry = (inlet_module_entry_fn)dlsym(so, INLET_MODULE_ENTRY_SYMBOL);
    const inlet_module_desc *desc = entry ? entry() : NULL;
    if (!desc || desc->config_size > sizeof(module_cfg))
        die("module", "no descriptor");
    if (inlet_conf_load_string("mqtt.yaml", mqtt_yaml, strlen(mqtt_yaml), &f, err, sizeof(err)) ||
        inlet_conf_apply(f, inlet_conf_root(f), desc->options, module_cfg, NULL, err, sizeof(err)))
        die("mqtt.yaml", err);
    inlet_conf_file_free(f);

    host = *inlet_host_table();
    host.auth_bearer = fake_auth_bearer;
    host.auth_cert_chain = fake_auth_cert;
    host.submit = fake_submit;
    host.identity_expires_at = no_expiry;
    void *state = NULL;
    if (desc->create(&host, NULL, module_cfg, &state, err, sizeof(err)) ||
        desc->start(state, err, sizeof(err)))
        die("start", err);
    port = listener_port();
    if (port <= 0)
        die("listener", "no port");
    return 0; /* the module runs until the process exits */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    char buf[4096];

    if (size == 0 || fd < 0)
        goto done;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
        goto done;
    size_t split = data[0] % 4 == 0 ? (size - 1) / 2 : size - 1;
    const uint8_t *p = data + 1;
    if (split > 0 && send(fd, p, split, MSG_NOSIGNAL) < 0)
        goto done;
    if (split < size - 1) {
        usleep(200);
        if (send(fd, p + split, size - 1 - split, MSG_NOSIGNAL) < 0)
            goto done;
    }
    /* Read the answers for a moment: acks come once the completion is drained. Then close: the
     * server must cope with a client that goes away at any point. */
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    for (int i = 0; i < 20 && poll(&pfd, 1, 5) > 0; i++) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n <= 0)
            break;
    }
done:
    if (fd >= 0)
        close(fd);
    return 0;
}
