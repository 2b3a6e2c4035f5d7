/*
 * tenant.c - the tenant option table, building the immutable runtime tenant set from parsed
 * configuration, and the reference-counted identities handed to modules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tenant.h"
#include "tenant_internal.h"

#define TOPIC_PREFIX_MAX 200
#define BEARER_MAX       8192

static const char *const jwt_alg_values[] = {"HS256", "RS256", "ES256", NULL};
static const char *const cert_id_values[] = {"cn", "san_dns", "san_uri", NULL};
static const char *const acl_effect_values[] = {"allow", "deny", NULL};

static const inlet_option device_options[] = {
    {.name = "id",
     .type = INLET_OPT_STRING,
     .offset = offsetof(inlet_device_conf, id),
     .flags = INLET_OPT_REQUIRED,
     .description = "Device id: 1..128 bytes of UTF-8 without control characters, '+', '#' or "
                    "'/'."},
    {.name = "groups",
     .type = INLET_OPT_STRING_LIST,
     .offset = offsetof(inlet_device_conf, groups),
     .description = "Groups the device belongs to, for ACL rules."},
    INLET_OPTIONS_END,
};

static const inlet_option token_options[] = {
    {.name = "sha256",
     .type = INLET_OPT_STRING,
     .offset = offsetof(inlet_token_conf, sha256),
     .flags = INLET_OPT_REQUIRED,
     .description = "SHA-256 of the bearer token as 64 hex digits (inlet-token hash)."},
    {.name = "device",
     .type = INLET_OPT_STRING,
     .offset = offsetof(inlet_token_conf, device),
     .flags = INLET_OPT_REQUIRED,
     .description = "The device this token authenticates."},
    INLET_OPTIONS_END,
};

static const inlet_option jwt_key_options[] = {
    {.name = "kid",
     .type = INLET_OPT_STRING,
     .offset = offsetof(inlet_jwt_key_conf, kid),
     .description = "Key id matched against the JWT header's kid; unique across all tenants."},
    {.name = "alg",
     .type = INLET_OPT_ENUM,
     .offset = offsetof(inlet_jwt_key_conf, alg),
     .enum_values = jwt_alg_values,
     .flags = INLET_OPT_REQUIRED,
     .description = "The one algorithm this key accepts; a token whose header names another "
                    "is refused."},
    {.name = "secret_file",
     .type = INLET_OPT_PATH,
     .offset = offsetof(inlet_jwt_key_conf, secret_file),
     .flags = INLET_OPT_SECRET,
     .description =
         "HS256: file holding the shared secret: at least 32 raw bytes, used exactly as stored "
         "(a trailing newline is part of it)."},
    {.name = "public_key_file",
     .type = INLET_OPT_PATH,
     .offset = offsetof(inlet_jwt_key_conf, public_key_file),
     .description = "RS256/ES256: PEM public key or certificate that verifies tokens."},
    {.name = "private_key_file",
     .type = INLET_OPT_PATH,
     .offset = offsetof(inlet_jwt_key_conf, private_key_file),
     .flags = INLET_OPT_SECRET,
     .description = "RS256/ES256: PEM private key, used only by inlet-token to mint tokens."},
    {.name = "issuer",
     .type = INLET_OPT_STRING,
     .offset = offsetof(inlet_jwt_key_conf, issuer),
     .description = "Required value of the iss claim; also selects the key when a token has no "
                    "kid."},
    {.name = "audience",
     .type = INLET_OPT_STRING_LIST,
     .offset = offsetof(inlet_jwt_key_conf, audience),
     .description =
         "The aud claim must contain one of these; with none configured, a token carrying aud "
         "is refused (RFC 7519 4.1.3)."},
    {.name = "device_claim",
     .type = INLET_OPT_STRING,
     .offset = offsetof(inlet_jwt_key_conf, device_claim),
     .default_value = "sub",
     .description = "Claim holding the device id."},
    {.name = "clock_skew",
     .type = INLET_OPT_DURATION,
     .offset = offsetof(inlet_jwt_key_conf, clock_skew_ms),
     .default_value = "60s",
     .min = 0,
     .max = 600000,
     .description = "Leeway applied to exp, nbf and iat."},
    {.name = "max_lifetime",
     .type = INLET_OPT_DURATION,
     .offset = offsetof(inlet_jwt_key_conf, max_lifetime_ms),
     .default_value = "0",
     .min = 0,
     .max = 366LL * 24 * 3600 * 1000,
     .description = "Longest accepted exp - iat, and exp - now (0 = unbounded)."},
    INLET_OPTIONS_END,
};

static const inlet_option mtls_options[] = {
    {.name = "ca_file",
     .type = INLET_OPT_PATH,
     .offset = offsetof(inlet_mtls_conf, ca_file),
     .description = "PEM bundle of the CAs that issue this tenant's device certificates."},
    {.name = "device_id_from",
     .type = INLET_OPT_ENUM,
     .offset = offsetof(inlet_mtls_conf, device_id_from),
     .enum_values = cert_id_values,
     .default_value = "cn",
     .description = "Where the device id is read from: subject CN, first SAN dNSName or first "
                    "SAN URI (which must itself be a valid device id, e.g. urn:dev:meter-9)."},
    INLET_OPTIONS_END,
};

static const inlet_option acl_rule_options[] = {
    {.name = "effect",
     .type = INLET_OPT_ENUM,
     .offset = offsetof(inlet_acl_rule_conf, effect),
     .enum_values = acl_effect_values,
     .flags = INLET_OPT_REQUIRED,
     .description = "allow or deny."},
    {.name = "devices",
     .type = INLET_OPT_STRING_LIST,
     .offset = offsetof(inlet_acl_rule_conf, devices),
     .description = "Device ids the rule applies to, or \"*\"."},
    {.name = "groups",
     .type = INLET_OPT_STRING_LIST,
     .offset = offsetof(inlet_acl_rule_conf, groups),
     .description = "Device groups the rule applies to (with devices: either matches)."},
    {.name = "schemas",
     .type = INLET_OPT_STRING_LIST,
     .offset = offsetof(inlet_acl_rule_conf, schemas),
     .flags = INLET_OPT_REQUIRED,
     .description = "\"name@v1\", \"name@*\", \"name\" (any version) or \"*\"."},
    {.name = "reason",
     .type = INLET_OPT_STRING,
     .offset = offsetof(inlet_acl_rule_conf, reason),
     .description = "Message returned when this rule denies."},
    INLET_OPTIONS_END,
};

const inlet_option inlet_tenant_options[] = {
    {.name = "tenant",
     .type = INLET_OPT_STRING,
     .offset = offsetof(inlet_tenant_conf, name),
     .flags = INLET_OPT_REQUIRED,
     .description = "Tenant name: 1..64 of A-Z a-z 0-9 . _ -."},
    {.name = "topic_prefix",
     .type = INLET_OPT_STRING,
     .offset = offsetof(inlet_tenant_conf, topic_prefix),
     .default_value = "",
     .description = "Prepended to the Kafka topic of every event of this tenant."},
    {.name = "devices",
     .type = INLET_OPT_SECTION_LIST,
     .offset = offsetof(inlet_tenant_conf, devices),
     .section = device_options,
     .section_size = sizeof(inlet_device_conf),
     .description = "Known devices and their groups."},
    {.name = "tokens",
     .type = INLET_OPT_SECTION_LIST,
     .offset = offsetof(inlet_tenant_conf, tokens),
     .section = token_options,
     .section_size = sizeof(inlet_token_conf),
     .description = "Opaque bearer tokens, stored as SHA-256."},
    {.name = "jwt",
     .type = INLET_OPT_SECTION_LIST,
     .offset = offsetof(inlet_tenant_conf, jwt),
     .section = jwt_key_options,
     .section_size = sizeof(inlet_jwt_key_conf),
     .description = "Keys that verify JSON Web Tokens."},
    {.name = "mtls",
     .type = INLET_OPT_SECTION,
     .offset = offsetof(inlet_tenant_conf, mtls),
     .section = mtls_options,
     .description = "TLS client certificate authentication."},
    {.name = "acl",
     .type = INLET_OPT_SECTION_LIST,
     .offset = offsetof(inlet_tenant_conf, acl),
     .section = acl_rule_options,
     .section_size = sizeof(inlet_acl_rule_conf),
     .description = "Ordered rules; the first that matches decides, no match denies."},
    INLET_OPTIONS_END,
};

static int tenant_name_valid(const char *s)
{
    size_t len = s ? strlen(s) : 0;

    if (len == 0 || len > INLET_TENANT_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* Kafka topic names allow only [A-Za-z0-9._-]. */
static int topic_prefix_valid(const char *s)
{
    size_t len = strlen(s);

    if (len > TOPIC_PREFIX_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_device(const void *a, const void *b)
{
    return strcmp(((const inlet_device *)a)->id, ((const inlet_device *)b)->id);
}

static int cmp_device_key(const void *key, const void *elem)
{
    return strcmp((const char *)key, ((const inlet_device *)elem)->id);
}

static int cmp_tenant_ptr(const void *a, const void *b)
{
    return strcmp((*(const inlet_tenant *const *)a)->name, (*(const inlet_tenant *const *)b)->name);
}

static int cmp_tenant_key(const void *key, const void *elem)
{
    return strcmp((const char *)key, (*(const inlet_tenant *const *)elem)->name);
}

static int cmp_group_key(const void *key, const void *elem)
{
    return strcmp((const char *)key, *(char *const *)elem);
}

static void tenant_free(inlet_tenant *t)
{
    free(t->name);
    free(t->topic_prefix);
    for (size_t i = 0; i < t->n_groups; i++)
        free(t->group_names[i]);
    free(t->group_names);
    for (size_t i = 0; i < t->n_devices; i++) {
        free(t->devices[i].id);
        free(t->devices[i].groups);
    }
    free(t->devices);
    for (size_t i = 0; i < t->n_keys; i++)
        inlet_jwt_key_free(&t->keys[i]);
    free(t->keys);
    X509_STORE_free(t->ca);
    inlet_acl_free(t);
}

/* The tenant's group table: every group any device names, sorted and unique. */
static int tenant_build_groups(inlet_tenant *t, const inlet_tenant_conf *c, const char *where,
                               char *err, size_t err_len)
{
    const inlet_device_conf *dc = c->devices.items;
    size_t total = 0, n = 0;

    for (size_t i = 0; i < c->devices.count; i++)
        total += dc[i].groups.count;
    if (total == 0)
        return 0;
    t->group_names = calloc(total, sizeof(char *));
    if (!t->group_names)
        return inlet_ident_errf(err, err_len, "%s: out of memory", where);
    for (size_t i = 0; i < c->devices.count; i++) {
        for (size_t j = 0; j < dc[i].groups.count; j++) {
            const char *g = dc[i].groups.items[j];
            const char *why = inlet_device_id_check(g, strlen(g));
            if (why)
                return inlet_ident_errf(err, err_len, "%s: devices[%zu].groups[%zu]: group %s",
                                        where, i, j, why);
            t->group_names[n] = strdup(g);
            if (!t->group_names[n])
                return inlet_ident_errf(err, err_len, "%s: out of memory", where);
            t->n_groups = ++n;
        }
    }
    qsort(t->group_names, n, sizeof(char *), cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < n; i++) {
        if (u > 0 && strcmp(t->group_names[u - 1], t->group_names[i]) == 0) {
            free(t->group_names[i]);
            continue;
        }
        t->group_names[u++] = t->group_names[i];
    }
    t->n_groups = u;
    t->group_words = (u + 63) / 64;
    return 0;
}

static int tenant_build_devices(inlet_tenant *t, const inlet_tenant_conf *c, const char *where,
                                char *err, size_t err_len)
{
    const inlet_device_conf *dc = c->devices.items;

    if (tenant_build_groups(t, c, where, err, err_len))
        return -1;
    if (c->devices.count == 0)
        return 0;
    t->devices = calloc(c->devices.count, sizeof(inlet_device));
    if (!t->devices)
        return inlet_ident_errf(err, err_len, "%s: out of memory", where);
    for (size_t i = 0; i < c->devices.count; i++) {
        inlet_device *d = &t->devices[i];
        const char *why = dc[i].id ? inlet_device_id_check(dc[i].id, strlen(dc[i].id)) : "missing";
        if (why)
            return inlet_ident_errf(err, err_len, "%s: devices[%zu].id: device id %s", where, i,
                                    why);
        t->n_devices = i + 1;
        d->id = strdup(dc[i].id);
        d->groups = t->group_words ? calloc(t->group_words, sizeof(uint64_t)) : NULL;
        if (!d->id || (t->group_words && !d->groups))
            return inlet_ident_errf(err, err_len, "%s: out of memory", where);
        for (size_t j = 0; j < dc[i].groups.count; j++) {
            char **g = bsearch(dc[i].groups.items[j], t->group_names, t->n_groups, sizeof(char *),
                               cmp_group_key);
            size_t bit = (size_t)(g - t->group_names);
            d->groups[bit / 64] |= UINT64_C(1) << (bit % 64);
        }
    }
    qsort(t->devices, t->n_devices, sizeof(inlet_device), cmp_device);
    for (size_t i = 1; i < t->n_devices; i++) {
        if (strcmp(t->devices[i - 1].id, t->devices[i].id) == 0)
            return inlet_ident_errf(err, err_len, "%s: devices: device \"%s\" is listed twice",
                                    where, t->devices[i].id);
    }
    return 0;
}

static int tenant_build(inlet_tenant *t, const inlet_tenant_conf *c, const char *origin, char *err,
                        size_t err_len)
{
    char where[256], why[512];

    if (!tenant_name_valid(c->name))
        return inlet_ident_errf(
            err, err_len, "%s: tenant: name must be 1..64 characters of A-Z a-z 0-9 . _ -", origin);
    snprintf(where, sizeof(where), "%s: tenant %s", origin, c->name);
    t->name = strdup(c->name);
    t->topic_prefix = strdup(c->topic_prefix ? c->topic_prefix : "");
    if (!t->name || !t->topic_prefix)
        return inlet_ident_errf(err, err_len, "%s: out of memory", where);
    if (!topic_prefix_valid(t->topic_prefix))
        return inlet_ident_errf(err, err_len,
                                "%s: topic_prefix: at most %d characters of A-Z a-z 0-9 . _ -",
                                where, TOPIC_PREFIX_MAX);
    if (tenant_build_devices(t, c, where, err, err_len))
        return -1;

    if (c->jwt.count) {
        const inlet_jwt_key_conf *kc = c->jwt.items;
        t->keys = calloc(c->jwt.count, sizeof(inlet_jwt_key));
        if (!t->keys)
            return inlet_ident_errf(err, err_len, "%s: out of memory", where);
        for (size_t i = 0; i < c->jwt.count; i++) {
            t->n_keys = i + 1;
            t->keys[i].tenant = t;
            if (inlet_jwt_key_load(&t->keys[i], &kc[i], why, sizeof(why)))
                return inlet_ident_errf(err, err_len, "%s: jwt[%zu]: %s", where, i, why);
        }
    }

    if (c->mtls.device_id_from < INLET_CERT_ID_CN || c->mtls.device_id_from > INLET_CERT_ID_SAN_URI)
        return inlet_ident_errf(err, err_len, "%s: mtls.device_id_from: out of range", where);
    t->device_id_from = c->mtls.device_id_from;
    if (c->mtls.ca_file && inlet_cert_ca_load(t, c->mtls.ca_file, why, sizeof(why)))
        return inlet_ident_errf(err, err_len, "%s: mtls.ca_file: %s", where, why);

    if (inlet_acl_compile(t, &c->acl, why, sizeof(why)))
        return inlet_ident_errf(err, err_len, "%s: %s", where, why);
    return 0;
}

static void tenants_free(inlet_tenants *ts)
{
    inlet_token_index_free(ts);
    inlet_jwt_index_free(ts);
    for (size_t i = 0; i < ts->n; i++)
        tenant_free(&ts->tenants[i]);
    free(ts->tenants);
    free(ts->by_name);
    free(ts);
}

int inlet_tenants_build(const inlet_tenant_conf *const *confs, const char *const *origins, size_t n,
                        inlet_tenants **out, char *err, size_t err_len)
{
    inlet_tenants *ts = calloc(1, sizeof(*ts));

    *out = NULL;
    if (!ts)
        return inlet_ident_errf(err, err_len, "tenants: out of memory");
    atomic_init(&ts->refs, 1);
    ts->tenants = calloc(n ? n : 1, sizeof(inlet_tenant));
    ts->by_name = calloc(n ? n : 1, sizeof(inlet_tenant *));
    if (!ts->tenants || !ts->by_name) {
        inlet_ident_errf(err, err_len, "tenants: out of memory");
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        const char *origin = origins && origins[i] ? origins[i] : "tenant";
        ts->n = i + 1;
        if (tenant_build(&ts->tenants[i], confs[i], origin, err, err_len))
            goto fail;
        ts->by_name[i] = &ts->tenants[i];
    }
    qsort(ts->by_name, n, sizeof(inlet_tenant *), cmp_tenant_ptr);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(ts->by_name[i - 1]->name, ts->by_name[i]->name) == 0) {
            size_t second = (size_t)(ts->by_name[i] - ts->tenants);
            size_t first = (size_t)(ts->by_name[i - 1] - ts->tenants);
            if (second < first)
                second = first;
            inlet_ident_errf(err, err_len, "%s: tenant %s is defined twice",
                             origins && origins[second] ? origins[second] : "tenant",
                             ts->by_name[i]->name);
            goto fail;
        }
    }
    if (inlet_token_index_build(ts, confs, origins, err, err_len))
        goto fail;
    if (inlet_jwt_index_build(ts, origins, err, err_len))
        goto fail;
    *out = ts;
    return 0;

fail:
    tenants_free(ts);
    return -1;
}

void inlet_tenants_ref(inlet_tenants *ts)
{
    if (ts)
        atomic_fetch_add_explicit(&ts->refs, 1, memory_order_relaxed);
}

void inlet_tenants_release(inlet_tenants *ts)
{
    if (ts && atomic_fetch_sub_explicit(&ts->refs, 1, memory_order_acq_rel) == 1)
        tenants_free(ts);
}

size_t inlet_tenants_count(const inlet_tenants *ts)
{
    return ts ? ts->n : 0;
}

const inlet_tenant *inlet_tenants_find(const inlet_tenants *ts, const char *name)
{
    const inlet_tenant *const *t =
        bsearch(name, ts->by_name, ts->n, sizeof(inlet_tenant *), cmp_tenant_key);
    return t ? *t : NULL;
}

inlet_status inlet_tenants_auth_bearer(inlet_tenants *ts, const char *token, size_t len,
                                       int64_t now_s, inlet_identity **out, char *msg,
                                       size_t msg_len)
{
    size_t dots = 0;

    *out = NULL;
    if (!ts) {
        inlet_ident_msgf(msg, msg_len, "no tenants loaded");
        return INLET_E_UNAUTHENTICATED;
    }
    if (!token || len == 0) {
        inlet_ident_msgf(msg, msg_len, "empty bearer token");
        return INLET_E_UNAUTHENTICATED;
    }
    if (len > BEARER_MAX) {
        inlet_ident_msgf(msg, msg_len, "bearer token longer than %d bytes", BEARER_MAX);
        return INLET_E_UNAUTHENTICATED;
    }
    for (size_t i = 0; i < len; i++)
        dots += token[i] == '.';
    /* A JWS in compact serialization is exactly three dot-separated parts (RFC 7515 7.1). */
    if (dots == 2)
        return inlet_jwt_auth(ts, token, len, now_s, out, msg, msg_len);
    return inlet_token_auth(ts, token, len, out, msg, msg_len);
}

inlet_status inlet_identity_new(inlet_tenants *ts, const inlet_tenant *t, const char *device,
                                size_t len, inlet_auth_method method, inlet_identity **out)
{
    size_t rule_words = (t->n_rules + 63) / 64;
    inlet_identity_block *b;
    const inlet_device *d;
    char *dev;

    *out = NULL;
    /* One block: header, rule bits, then the device id. sizeof(*b) is a multiple of its
     * alignment, which is at least uint64_t's. */
    b = calloc(1, sizeof(*b) + rule_words * sizeof(uint64_t) + len + 1);
    if (!b)
        return INLET_E_INTERNAL;
    b->rules = (uint64_t *)(void *)(b + 1);
    dev = (char *)(b->rules + rule_words);
    memcpy(dev, device, len);
    dev[len] = '\0';
    d = t->n_devices ? bsearch(dev, t->devices, t->n_devices, sizeof(inlet_device), cmp_device_key)
                     : NULL;
    b->groups = d ? d->groups : NULL;
    inlet_acl_device_rules(t, dev, b->groups, b->rules);

    b->pub.size = sizeof(inlet_identity);
    b->pub.tenant = t->name;
    b->pub.device_id = dev;
    b->pub.method = method;
    b->tenant = t;
    inlet_tenants_ref(ts);
    b->ts = ts;
    atomic_init(&b->refs, 1);
    *out = &b->pub;
    return INLET_OK;
}

void inlet_identity_ref(const inlet_identity *id)
{
    if (id) {
        inlet_identity_block *b = (inlet_identity_block *)(void *)id;
        atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    }
}

void inlet_identity_release(const inlet_identity *id)
{
    if (id) {
        inlet_identity_block *b = (inlet_identity_block *)(void *)id;
        if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1) {
            inlet_tenants_release(b->ts);
            free(b);
        }
    }
}

const char *inlet_identity_topic_prefix(const inlet_identity *id)
{
    return inlet_identity_block_of(id)->tenant->topic_prefix;
}

inlet_status inlet_identity_for_device(inlet_tenants *ts, const char *tenant, const char *device,
                                       inlet_auth_method method, inlet_identity **out)
{
    const inlet_tenant *t;

    *out = NULL;
    if (!ts || !tenant || !device)
        return INLET_E_INVALID;
    t = inlet_tenants_find(ts, tenant);
    if (!t || inlet_device_id_check(device, strlen(device)))
        return INLET_E_INVALID;
    return inlet_identity_new(ts, t, device, strlen(device), method, out);
}

inlet_status inlet_identity_refresh(inlet_tenants *ts, const inlet_identity *id,
                                    inlet_identity **out, char *msg, size_t msg_len)
{
    const inlet_identity_block *old = inlet_identity_block_of(id);
    *out = NULL;
    if (old->ts == ts) {
        inlet_identity_ref(id);
        *out = (inlet_identity *)id;
        return INLET_OK;
    }
    if (old->has_token &&
        !inlet_token_still_valid(ts, old->token_digest, id->tenant, id->device_id)) {
        inlet_ident_msgf(msg, msg_len, "the token of %s/%s was revoked by a configuration reload",
                         id->tenant, id->device_id);
        return INLET_E_UNAUTHENTICATED;
    }
    if (inlet_identity_for_device(ts, id->tenant, id->device_id, id->method, out) != INLET_OK) {
        inlet_ident_msgf(msg, msg_len, "tenant %s is no longer configured", id->tenant);
        return INLET_E_UNAUTHENTICATED;
    }
    inlet_identity_block *fresh = (inlet_identity_block *)(void *)*out;
    fresh->has_token = old->has_token;
    memcpy(fresh->token_digest, old->token_digest, sizeof(fresh->token_digest));
    return INLET_OK;
}
