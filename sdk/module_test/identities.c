/* identities.c - the fake host's tokens, IMEIs, identities and schema denials. */
#include <stdlib.h>

#include "fake.h"

static void add_credential(inlet_test_host *t, const char *key, const char *tenant,
                           const char *device_id, inlet_auth_method method)
{
    pthread_mutex_lock(&t->mu);
    fake_credential *c = realloc(t->creds, (t->n_creds + 1) * sizeof(*c));
    if (!c)
        abort();
    t->creds = c;
    c[t->n_creds++] =
        (fake_credential){fake_strdup(key), fake_strdup(tenant), fake_strdup(device_id), method};
    pthread_mutex_unlock(&t->mu);
}

void inlet_test_host_add_token(inlet_test_host *t, const char *token, const char *tenant,
                               const char *device_id)
{
    add_credential(t, token, tenant, device_id, INLET_AUTH_TOKEN);
}

void inlet_test_host_add_imei(inlet_test_host *t, const char *imei, const char *tenant,
                              const char *device_id)
{
    add_credential(t, imei, tenant, device_id, INLET_AUTH_IMEI);
}

void inlet_test_host_deny_schema(inlet_test_host *t, const char *schema)
{
    pthread_mutex_lock(&t->mu);
    char **d = realloc(t->denied, (t->n_denied + 1) * sizeof(*d));
    if (!d)
        abort();
    t->denied = d;
    d[t->n_denied++] = fake_strdup(schema);
    pthread_mutex_unlock(&t->mu);
}

int fake_schema_denied(inlet_test_host *t, const char *schema)
{
    for (size_t i = 0; schema && i < t->n_denied; i++)
        if (strcmp(t->denied[i], schema) == 0)
            return 1;
    return 0;
}

/* A new identity (one reference) for the credential; t->mu held. */
static inlet_identity *identity_new(inlet_test_host *t, const char *tenant, const char *device_id,
                                    inlet_auth_method method)
{
    fake_identity *id = calloc(1, sizeof(*id));
    if (!id)
        abort();
    id->pub.size = sizeof(id->pub);
    id->pub.tenant = fake_strdup(tenant);
    id->pub.device_id = fake_strdup(device_id);
    id->pub.method = method;
    atomic_init(&id->refs, 1);
    id->next = t->identities;
    t->identities = id;
    return &id->pub;
}

/* The identity of the credential key of method (or any credential naming tenant and device). */
static inlet_status lookup(inlet_auth_method method, const char *key, size_t len,
                           const char *tenant, inlet_identity **out, char *msg, size_t msg_len)
{
    inlet_test_host *t = inlet_test_current;
    *out = NULL;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < t->n_creds && !*out; i++) {
        const fake_credential *c = &t->creds[i];
        if (tenant ? strcmp(c->tenant, tenant) == 0 && strcmp(c->device_id, key) == 0
                   : c->method == method && strlen(c->key) == len && memcmp(c->key, key, len) == 0)
            *out = identity_new(t, c->tenant, c->device_id, method);
    }
    pthread_mutex_unlock(&t->mu);
    if (!*out && msg && msg_len)
        snprintf(msg, msg_len, "unknown %s", tenant ? "device" : "credential");
    return *out ? INLET_OK : INLET_E_UNAUTHENTICATED;
}

inlet_status fake_auth_bearer(const char *token, size_t len, inlet_identity **out, char *msg,
                              size_t msg_len)
{
    return lookup(INLET_AUTH_TOKEN, token, len, NULL, out, msg, msg_len);
}

inlet_status fake_identity_for_imei(const char *imei, size_t len, inlet_identity **out, char *msg,
                                    size_t msg_len)
{
    return lookup(INLET_AUTH_IMEI, imei, len, NULL, out, msg, msg_len);
}

inlet_status fake_identity_for_device(const char *tenant, const char *device_id,
                                      inlet_identity **out, char *msg, size_t msg_len)
{
    return lookup(INLET_AUTH_TOKEN, device_id, strlen(device_id), tenant, out, msg, msg_len);
}

inlet_status fake_auth_cert_chain(const uint8_t *const *chain, const size_t *chain_len, size_t n,
                                  inlet_identity **out, char *msg, size_t msg_len)
{
    (void)chain, (void)chain_len, (void)n;
    *out = NULL;
    if (msg && msg_len)
        snprintf(msg, msg_len, "the test host knows no certificates");
    return INLET_E_UNAUTHENTICATED;
}

inlet_status fake_auth_psk(const char *psk_identity, size_t len, uint8_t *key, size_t key_cap,
                           size_t *key_len, inlet_identity **out, char *msg, size_t msg_len)
{
    (void)psk_identity, (void)len, (void)key, (void)key_cap;
    *key_len = 0;
    *out = NULL;
    if (msg && msg_len)
        snprintf(msg, msg_len, "the test host knows no pre-shared keys");
    return INLET_E_UNAUTHENTICATED;
}

int64_t fake_identity_expires_at(const inlet_identity *id)
{
    (void)id;
    return 0;
}

void fake_identity_ref(const inlet_identity *id)
{
    fake_identity *f = (fake_identity *)id;
    if (atomic_fetch_add(&f->refs, 1) <= 0)
        fake_violation("identity_ref() on a released identity (%s)", id->device_id);
}

void fake_identity_release(const inlet_identity *id)
{
    if (!id)
        return;
    fake_identity *f = (fake_identity *)id;
    /* Kept allocated until the host is freed, so a use after release is reported, not a crash. */
    if (atomic_fetch_sub(&f->refs, 1) <= 0)
        fake_violation("identity_release() of %s more often than it was referenced", id->device_id);
}

inlet_status fake_authorize(const inlet_identity *id, const char *schema, const char *version,
                            char *msg, size_t msg_len)
{
    inlet_test_host *t = inlet_test_current;
    (void)version;
    if (!id)
        fake_violation("authorize() without an identity");
    pthread_mutex_lock(&t->mu);
    int denied = fake_schema_denied(t, schema);
    pthread_mutex_unlock(&t->mu);
    if (denied && msg && msg_len)
        snprintf(msg, msg_len, "schema %s denied", schema);
    return denied ? INLET_E_FORBIDDEN : INLET_OK;
}

size_t inlet_test_host_identities_held(inlet_test_host *t)
{
    size_t n = 0;
    pthread_mutex_lock(&t->mu);
    for (fake_identity *f = t->identities; f; f = f->next) {
        int r = atomic_load(&f->refs);
        n += r > 0 ? (size_t)r : 0;
    }
    pthread_mutex_unlock(&t->mu);
    return n;
}

void fake_identities_free(inlet_test_host *t)
{
    while (t->identities) {
        fake_identity *f = t->identities;
        t->identities = f->next;
        free((char *)f->pub.tenant);
        free((char *)f->pub.device_id);
        free(f);
    }
}
