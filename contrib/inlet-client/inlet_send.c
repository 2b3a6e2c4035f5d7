/*
 * inlet-send - send payloads to inletd over the Inlet binary protocol (docs/BINARY.md) and
 * print each acknowledgement. Built on inlet_client.h.
 *
 *   inlet-send -p 7000 -t TOKEN -s fleet.position -v 1 -x 1f4dea8007fd70d00264010e03
 *
 *   -H host (127.0.0.1)  -p port (7000)  -t token  -d device id claim  -k keep alive s
 *   -s schema  -v version number (1)  -f format: CoAP Content-Format number or layout|json|
 *   cbor|senml+json|senml+cbor (layout)  -e event id  -n frames to send (1; event ids get
 *   "-<i>" appended when n > 1)  payload: -x hex | -i file ("-": stdin) | -j text
 *   -T TLS  -C CA file  -c client certificate  -K client key  -S server name  -q quiet
 *
 * Prints "seq N: 0xSS text[ (possibly stored)][ retry after Ns][: reason]" per ACK. Exit 0:
 * every frame accepted; 1: some refused; 2: usage or connection error; 3: HELLO refused.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "inlet_client.h"

static void usage(void)
{
    fprintf(
        stderr,
        "usage: inlet-send [-H host] [-p port] [-t token] [-d device] [-k keepalive] -s schema\n"
        "                  [-v version] [-f format] [-e event_id] [-n count] [-q]\n"
        "                  (-x hex | -i file | -j text) [-T [-C ca] [-c cert -K key] [-S name]]\n");
}

static int parse_format(const char *s)
{
    static const struct {
        const char *name;
        int cf;
    } names[] = {{"layout", 42}, {"octet-stream", 42}, {"json", 50},
                 {"cbor", 60},   {"senml+json", 110},  {"senml+cbor", 112}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(s, names[i].name) == 0)
            return names[i].cf;
    char *end;
    long v = strtol(s, &end, 10);
    return *end == '\0' && v >= 0 && v <= 65535 ? (int)v : -1;
}

static int hex_decode(const char *hex, uint8_t **out, size_t *len)
{
    size_t n = strlen(hex);
    if (n % 2)
        return -1;
    *out = malloc(n / 2 + 1);
    if (*out == NULL)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return -1;
        (*out)[i] = (uint8_t)v;
    }
    *len = n / 2;
    return 0;
}

static int read_file(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    size_t cap = 4096, n = 0;
    if (f == NULL)
        return -1;
    *out = malloc(cap);
    while (*out) {
        size_t r = fread(*out + n, 1, cap - n, f);
        n += r;
        if (n < cap)
            break;
        uint8_t *p = realloc(*out, cap *= 2);
        if (p == NULL)
            free(*out);
        *out = p;
    }
    if (f != stdin)
        fclose(f);
    *len = n;
    return *out ? 0 : -1;
}

static void print_ack(const inlet_answer *a)
{
    printf("seq %u: 0x%02X %s", a->seq, a->status, inlet_status_text(a->status));
    if (a->flags & INLET_ACK_FLAG_POSSIBLY_STORED)
        printf(" (possibly stored)");
    if (a->retry_after)
        printf(" retry after %us", a->retry_after);
    if (a->reason[0])
        printf(": %s", a->reason);
    printf("\n");
}

int main(int argc, char **argv)
{
    inlet_client_config cfg;
    const char *schema = NULL, *event_id = NULL;
    int version = 1, format = INLET_FORMAT_LAYOUT, quiet = 0;
    long count = 1;
    uint8_t *payload = NULL;
    size_t len = 0;
    int opt, rc = 2;

    memset(&cfg, 0, sizeof(cfg));
    while ((opt = getopt(argc, argv, "H:p:t:d:k:s:v:f:e:n:x:i:j:TC:c:K:S:qh")) != -1) {
        switch (opt) {
        case 'H':
            cfg.host = optarg;
            break;
        case 'p':
            cfg.port = optarg;
            break;
        case 't':
            cfg.token = optarg;
            break;
        case 'd':
            cfg.device = optarg;
            break;
        case 'k':
            cfg.keep_alive = (uint16_t)atoi(optarg);
            break;
        case 's':
            schema = optarg;
            break;
        case 'v':
            version = atoi(optarg);
            break;
        case 'f':
            format = parse_format(optarg);
            break;
        case 'e':
            event_id = optarg;
            break;
        case 'n':
            count = atol(optarg);
            break;
        case 'x':
            if (hex_decode(optarg, &payload, &len) != 0) {
                fprintf(stderr, "inlet-send: -x: not hex\n");
                return 2;
            }
            break;
        case 'i':
            if (read_file(optarg, &payload, &len) != 0) {
                perror(optarg);
                return 2;
            }
            break;
        case 'j':
            len = strlen(optarg);
            payload = (uint8_t *)strdup(optarg);
            break;
        case 'T':
            cfg.tls = 1;
            break;
        case 'C':
            cfg.ca_file = optarg;
            break;
        case 'c':
            cfg.cert_file = optarg;
            break;
        case 'K':
            cfg.key_file = optarg;
            break;
        case 'S':
            cfg.server_name = optarg;
            break;
        case 'q':
            quiet = 1;
            break;
        default:
            usage();
            return 2;
        }
    }
    if (schema == NULL || payload == NULL || version < 1 || version > 255 || format < 0 ||
        count < 1) {
        usage();
        return 2;
    }

    char err[300];
    inlet_answer a;
    memset(&a, 0, sizeof(a));
    inlet_client *c = inlet_client_connect(&cfg, &a, err, sizeof(err));
    if (c == NULL) {
        fprintf(stderr, "inlet-send: %s\n", err);
        free(payload);
        return a.type == INLET_FRAME_WELCOME && a.status != 0 ? 3 : 2;
    }
    long sent = 0, acked = 0, refused = 0;
    while (acked < count) {
        while (sent < count && inlet_client_unacked(c) < inlet_client_window(c)) {
            char eid[80];
            const char *e = event_id;
            if (event_id && count > 1) {
                snprintf(eid, sizeof(eid), "%s-%ld", event_id, sent);
                e = eid;
            }
            int s = inlet_client_send(c, (uint16_t)format, schema, (uint8_t)version, e, payload,
                                      len, NULL);
            if (s != 0) {
                fprintf(stderr, "inlet-send: sending DATA: error %d\n", s);
                goto out;
            }
            sent++;
        }
        int r = inlet_client_read(c, &a, 60000);
        if (r != 0) {
            fprintf(stderr, "inlet-send: %ld of %ld frames unacknowledged: error %d\n",
                    count - acked, count, r);
            goto out;
        }
        if (a.type == INLET_FRAME_CLOSE) {
            fprintf(stderr, "inlet-send: server closed: 0x%02X %s%s%s\n", a.status,
                    inlet_status_text(a.status), a.reason[0] ? ": " : "", a.reason);
            goto out;
        }
        if (a.type != INLET_FRAME_ACK)
            continue;
        acked++;
        if (a.status != INLET_STATUS_OK)
            refused++;
        if (!quiet || a.status != INLET_STATUS_OK)
            print_ack(&a);
    }
    /* BYE: the server answers CLOSE 0x00 once nothing is owed */
    if (inlet_client_bye(c) == 0)
        while (inlet_client_read(c, &a, 5000) == 0 && a.type != INLET_FRAME_CLOSE)
            ;
    rc = refused ? 1 : 0;
out:
    inlet_client_close(c);
    free(payload);
    return rc;
}
