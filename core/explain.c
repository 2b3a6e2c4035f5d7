/* explain.c - see explain.h. */
#include "explain.h"

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "daemon.h"
#include "pipeline/normalize.h"
#include "pipeline/rejection.h"

typedef struct explain_args {
    const char *dir, *tenant, *device, *schema, *protocol, *token, *cert, *payload, *ctype;
} explain_args;

static void usage(FILE *out)
{
    fprintf(out, "usage: inletd explain -c DIR --tenant T --device D --schema NAME@vN\n"
                 "                      [--protocol P] [--token TOKEN | --cert PEM]\n"
                 "                      [--payload FILE [--content-type TYPE]]\n");
}

/* What each protocol answers for a status: modules/http/respond.c, modules/mqtt/publish.c,
 * modules/coap/respond.c (a module's own table decides; this is for reading). */
static const char *answers(inlet_status st)
{
    switch (st) {
    case INLET_OK:
        return "HTTP 200, MQTT PUBACK 0x00, CoAP 2.04 (once Kafka acknowledges)";
    case INLET_E_UNAUTHENTICATED:
        return "HTTP 401, MQTT 0x87 (a revoked connection is ended), CoAP 4.01";
    case INLET_E_FORBIDDEN:
        return "HTTP 403, MQTT 0x87, CoAP 4.03";
    case INLET_E_INVALID:
        return "HTTP 400, MQTT 0x99, CoAP 4.00";
    case INLET_E_UNKNOWN_SCHEMA:
        return "HTTP 400, MQTT 0x90, CoAP 4.00";
    case INLET_E_MEDIA_TYPE:
        return "HTTP 415, MQTT 0x99, CoAP 4.15";
    case INLET_E_TOO_LARGE:
        return "HTTP 413, MQTT 0x97, CoAP 4.13";
    default:
        return "HTTP 503 (500 for an internal error), MQTT 0x80, CoAP 5.03";
    }
}

static int64_t now_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

/* The tokens[j] of the file configuring this token, as "file:line", or "" */
static void token_where(const inlet_tenant_files *tf, const char *token, char *out, size_t len)
{
    char hex[65];
    inlet_token_hash_hex(token, strlen(token), hex);
    out[0] = '\0';
    for (size_t i = 0; i < tf->n; i++) {
        const inlet_token_conf *t = tf->confs[i]->tokens.items;
        for (size_t j = 0; j < tf->confs[i]->tokens.count; j++)
            if (t[j].sha256 && strcasecmp(t[j].sha256, hex) == 0)
                snprintf(out, len, "tenant %s tokens[%zu] at %s:%d", tf->confs[i]->name, j,
                         inlet_conf_marks_path(tf->marks[i]),
                         inlet_conf_marks_item_line(tf->marks[i], &t[j]));
    }
}

/* A PEM chain (leaf first) as DER for inlet_tenants_auth_cert; returns the count, -1 on error. */
static int read_chain(const char *path, uint8_t **der, size_t *len, int cap)
{
    FILE *f = fopen(path, "r");
    X509 *x;
    int n = 0;
    if (!f)
        return -1;
    while (n < cap && (x = PEM_read_X509(f, NULL, NULL, NULL))) {
        unsigned char *p = NULL;
        int l = i2d_X509(x, &p);
        X509_free(x);
        if (l <= 0)
            break;
        der[n] = p;
        len[n++] = (size_t)l;
    }
    fclose(f);
    return n > 0 ? n : -1;
}

static inlet_status authenticate(const explain_args *a, inlet_tenants *ts,
                                 const inlet_tenant_files *tf, inlet_identity **id)
{
    char msg[512] = "", where[512];
    inlet_status st;

    if (a->token) {
        st = inlet_tenants_auth_bearer(ts, a->token, strlen(a->token), now_us() / 1000000, id, msg,
                                       sizeof(msg));
        if (st != INLET_OK) {
            printf("credential: bearer token refused: %s\n", msg);
            return st;
        }
        token_where(tf, a->token, where, sizeof(where));
        printf("credential: %s token of %s/%s%s%s\n",
               (*id)->method == INLET_AUTH_JWT ? "JWT" : "opaque", (*id)->tenant, (*id)->device_id,
               where[0] ? ", " : "", where);
    } else if (a->cert) {
        uint8_t *der[8];
        size_t len[8];
        int n = read_chain(a->cert, der, len, 8);
        if (n < 0) {
            printf("credential: %s: no PEM certificate\n", a->cert);
            return INLET_E_UNAUTHENTICATED;
        }
        st = inlet_tenants_auth_cert(ts, (const uint8_t *const *)der, len, (size_t)n, id, msg,
                                     sizeof(msg));
        for (int i = 0; i < n; i++)
            OPENSSL_free(der[i]);
        if (st != INLET_OK) {
            printf("credential: certificate refused: %s\n", msg);
            return st;
        }
        printf("credential: certificate of %s/%s (mtls of tenant %s)\n", (*id)->tenant,
               (*id)->device_id, (*id)->tenant);
    } else {
        st = inlet_identity_for_device(ts, a->tenant, a->device, INLET_AUTH_TOKEN, id);
        if (st != INLET_OK) {
            printf("credential: none given, and tenant %s is not configured\n", a->tenant);
            return INLET_E_UNAUTHENTICATED;
        }
        printf("credential: none given; assuming %s/%s authenticated by token\n", a->tenant,
               a->device);
        return INLET_OK;
    }
    if (strcmp((*id)->tenant, a->tenant) != 0 || strcmp((*id)->device_id, a->device) != 0) {
        printf("credential: it authenticates %s/%s, not %s/%s: events are sent as %s/%s\n",
               (*id)->tenant, (*id)->device_id, a->tenant, a->device, (*id)->tenant,
               (*id)->device_id);
    }
    return INLET_OK;
}

static void explain_acl(const inlet_identity *id, const explain_args *a, const char *name,
                        const char *version, const inlet_tenant_files *tf)
{
    char reason[512] = "", where[512];
    size_t rule = SIZE_MAX;
    inlet_status st =
        inlet_acl_check_rule(id, a->protocol, name, version, reason, sizeof(reason), &rule);
    if (rule == SIZE_MAX) {
        printf("acl: no rule of tenant %s matches %s over %s: denied (%s)\n", id->tenant,
               id->device_id, a->protocol, reason);
        return;
    }
    const char *w = inlet_tenant_files_rule_where(tf, id->tenant, rule, where, sizeof(where));
    printf("acl: rule acl[%zu]%s%s %s", rule, w ? " at " : "", w ? w : "",
           st == INLET_OK ? "allows" : "denies");
    if (st == INLET_OK)
        printf("\n");
    else
        printf(" (%s)\n", reason);
}

static int decide(inlet_status st, const char *message, const inlet_rejection *rej)
{
    printf("decision: %s%s%s\n",
           st == INLET_OK ? "accepted" : "refused: ", st == INLET_OK ? "" : inlet_status_name(st),
           "");
    if (message && *message)
        printf("reason: %s\n", message);
    for (size_t i = 0; rej && i < rej->n_errors; i++)
        printf("error: %s %s: %s\n", inlet_status_name(rej->errors[i].status),
               rej->errors[i].pointer[0] ? rej->errors[i].pointer : "(the event)",
               rej->errors[i].message);
    printf("answer: %s\n", answers(st));
    return st == INLET_OK ? 0 : 1;
}

static int read_payload(const char *path, char **out, size_t *len, char *err, size_t err_len)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 1u << 16, used = 0, n;
    char *buf = malloc(cap);
    if (!f || !buf) {
        snprintf(err, err_len, "%s: cannot read", path);
        goto fail;
    }
    while ((n = fread(buf + used, 1, cap - used, f)) > 0) {
        used += n;
        if (used == cap) {
            char *nb = cap < (1u << 24) ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                snprintf(err, err_len, "%s: larger than 16 MiB", path);
                goto fail;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    *out = buf;
    *len = used;
    return 0;
fail:
    if (f)
        fclose(f);
    free(buf);
    return -1;
}

static int explain_run(const explain_args *a, inlet_daemon *d, const inlet_tenant_files *tf)
{
    char name[256], version[64];
    inlet_identity *id = NULL;
    const char *at = strrchr(a->schema, '@');
    int rc;

    if (!at || at == a->schema || (size_t)(at - a->schema) >= sizeof(name) ||
        strlen(at + 1) >= sizeof(version)) {
        fprintf(stderr, "inletd explain: --schema is NAME@vN\n");
        return 2;
    }
    snprintf(name, sizeof(name), "%.*s", (int)(at - a->schema), a->schema);
    snprintf(version, sizeof(version), "%s", at + 1);

    inlet_status st = authenticate(a, d->tenants, tf, &id);
    if (st != INLET_OK)
        return decide(st, "the credential is not valid", NULL);
    /* What the daemon does first with an identity on every submit: expiry, revocation. */
    inlet_identity *fresh = NULL;
    char why[512] = "";
    if (inlet_identity_refresh(d->tenants, id, &fresh, why, sizeof(why)) != INLET_OK) {
        inlet_identity_release(id);
        return decide(INLET_E_UNAUTHENTICATED, why, NULL);
    }
    inlet_identity_release(fresh);

    const inlet_schema *schema = inlet_schemas_find(d->schemas, name, version);
    if (schema)
        printf("schema: %s@%s, topic %s%s\n", inlet_schema_name(schema),
               inlet_schema_version(schema), inlet_identity_topic_prefix(id),
               inlet_schema_topic(schema));
    else
        printf("schema: %s@%s is not loaded from %s\n", name, version, d->settings.schema_dir);
    explain_acl(id, a, name, version, tf);

    if (!a->payload) {
        /* Without a payload: the checks that do not depend on it, in the daemon's order. */
        char reason[512] = "";
        if (!schema)
            st = INLET_E_UNKNOWN_SCHEMA;
        else
            st = inlet_acl_check_source(id, a->protocol, name, version, reason, sizeof(reason));
        printf("payload: none given, not validated\n");
        rc = decide(st, reason, NULL);
        inlet_identity_release(id);
        return rc;
    }

    char *body = NULL;
    size_t body_len = 0;
    char err[512];
    if (read_payload(a->payload, &body, &body_len, err, sizeof(err)) != 0) {
        fprintf(stderr, "inletd explain: %s\n", err);
        inlet_identity_release(id);
        return 2;
    }
    inlet_request req = {
        .size = sizeof(req),
        .identity = id,
        .form = INLET_FORM_PAYLOAD,
        .body = body,
        .body_len = body_len,
        .content_type = a->ctype,
        .schema = name,
        .schema_version = version,
        .source = a->protocol,
    };
    inlet_normalize_input in = {
        .req = &req,
        .schemas = d->schemas,
        .topic_prefix = inlet_identity_topic_prefix(id),
        .max_events = (size_t)d->settings.max_events,
        .received_at_us = now_us(),
    };
    inlet_envelope *envs = NULL;
    size_t n = 0;
    inlet_rejection *rej = NULL;
    st = inlet_normalize(&in, &envs, &n, &rej);
    if (st == INLET_OK && strcmp(id->device_id, a->device) != 0) {
        printf("device: the payload would be sent as %s, not %s\n", id->device_id, a->device);
    }
    for (size_t i = 0; i < n; i++)
        printf("event: %s -> topic %s, key %.*s\n", envs[i].event_id, envs[i].topic,
               (int)envs[i].key_len, (const char *)envs[i].key);
    rc = decide(st, rej ? rej->message : NULL, rej);
    inlet_envelopes_free(envs, n);
    inlet_rejection_free(rej);
    free(body);
    inlet_identity_release(id);
    return rc;
}

int inlet_explain_main(int argc, char **argv)
{
    enum { O_TENANT = 1000, O_DEVICE, O_SCHEMA, O_PROTOCOL, O_TOKEN, O_CERT, O_PAYLOAD, O_CTYPE };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"tenant", required_argument, NULL, O_TENANT},
        {"device", required_argument, NULL, O_DEVICE},
        {"schema", required_argument, NULL, O_SCHEMA},
        {"protocol", required_argument, NULL, O_PROTOCOL},
        {"token", required_argument, NULL, O_TOKEN},
        {"cert", required_argument, NULL, O_CERT},
        {"payload", required_argument, NULL, O_PAYLOAD},
        {"content-type", required_argument, NULL, O_CTYPE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    explain_args a = {.protocol = "http"};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            a.dir = optarg;
            break;
        case O_TENANT:
            a.tenant = optarg;
            break;
        case O_DEVICE:
            a.device = optarg;
            break;
        case O_SCHEMA:
            a.schema = optarg;
            break;
        case O_PROTOCOL:
            a.protocol = optarg;
            break;
        case O_TOKEN:
            a.token = optarg;
            break;
        case O_CERT:
            a.cert = optarg;
            break;
        case O_PAYLOAD:
            a.payload = optarg;
            break;
        case O_CTYPE:
            a.ctype = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc || !a.dir || !a.tenant || !a.device || !a.schema || (a.token && a.cert)) {
        usage(stderr);
        return 2;
    }
    inlet_daemon d;
    inlet_tenant_files tf = {0};
    inlet_conf_errors *errs = inlet_conf_errors_new();
    int rc = 3;
    if (!errs)
        return 3;
    if (inlet_daemon_load_ex(&d, a.dir, INLET_LOAD_NO_MODULES, &tf, errs) != 0) {
        for (size_t i = 0; i < inlet_conf_errors_count(errs); i++)
            fprintf(stderr, "inletd: %s\n", inlet_conf_errors_get(errs, i));
        goto out;
    }
    printf("input: tenant %s, device %s, schema %s, protocol %s\n", a.tenant, a.device, a.schema,
           a.protocol);
    rc = explain_run(&a, &d, &tf);
out:
    inlet_tenant_files_free(&tf);
    inlet_daemon_free(&d);
    inlet_conf_errors_free(errs);
    return rc;
}
