/*
 * token_index.c - indexing the configured SHA-256 digests of opaque tokens across all tenants
 * of a set, and finding one.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "device_id.h"
#include "formats/rfc3339.h"
#include "ident_error.h"
#include "tenant.h"
#include "tenant_runtime.h"
#include "token_index.h"

#define DIGEST_LEN INLET_TOKEN_DIGEST_LEN

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int hex_decode_digest(const char *s, unsigned char out[DIGEST_LEN])
{
    if (!s || strlen(s) != 2 * DIGEST_LEN)
        return -1;
    for (size_t i = 0; i < DIGEST_LEN; i++) {
        int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

static int cmp_entry(const void *a, const void *b)
{
    return memcmp(((const inlet_token_entry *)a)->digest, ((const inlet_token_entry *)b)->digest,
                  DIGEST_LEN);
}

static int cmp_entry_key(const void *key, const void *elem)
{
    return memcmp(key, ((const inlet_token_entry *)elem)->digest, DIGEST_LEN);
}

static const char *origin_at(const char *const *origins, size_t i)
{
    return origins && origins[i] ? origins[i] : "tenant";
}

int inlet_token_index_build(inlet_token_index *ix, const inlet_tenant *tenants, size_t n,
                            const inlet_tenant_conf *const *confs, const char *const *origins,
                            char *err, size_t err_len)
{
    size_t total = 0;

    for (size_t i = 0; i < n; i++)
        total += confs[i]->tokens.count;
    if (total == 0)
        return 0;
    ix->entries = calloc(total, sizeof(inlet_token_entry));
    if (!ix->entries)
        return inlet_ident_errf(err, err_len, "tokens: out of memory");
    for (size_t i = 0; i < n; i++) {
        const inlet_token_conf *tc = confs[i]->tokens.items;
        for (size_t j = 0; j < confs[i]->tokens.count; j++) {
            inlet_token_entry *e = &ix->entries[ix->n];
            const char *why;
            if (hex_decode_digest(tc[j].sha256, e->digest))
                return inlet_ident_errf(err, err_len,
                                        "%s: tenant %s: tokens[%zu].sha256: must be 64 hex digits",
                                        origin_at(origins, i), tenants[i].name, j);
            why = tc[j].device ? inlet_device_id_check(tc[j].device, strlen(tc[j].device))
                               : "is missing";
            if (why)
                return inlet_ident_errf(err, err_len, "%s: tenant %s: tokens[%zu].device: %s",
                                        origin_at(origins, i), tenants[i].name, j, why);
            e->not_after_us = 0;
            if (tc[j].not_after) {
                inlet_time t;
                if (inlet_rfc3339_parse(tc[j].not_after, strlen(tc[j].not_after), &t) != 0)
                    return inlet_ident_errf(err, err_len,
                                            "%s: tenant %s: tokens[%zu].not_after: expected an "
                                            "RFC 3339 date-time such as 2027-01-01T00:00:00Z",
                                            origin_at(origins, i), tenants[i].name, j);
                /* 0 means "no end": the epoch itself becomes its first microsecond */
                e->not_after_us = t.epoch_s * 1000000 + t.nanos / 1000;
                if (e->not_after_us == 0)
                    e->not_after_us = 1;
            }
            if (tc[j].disabled)
                continue;
            e->tenant = &tenants[i];
            e->device = strdup(tc[j].device);
            ix->n++;
            if (!e->device)
                return inlet_ident_errf(err, err_len, "tokens: out of memory");
        }
    }
    qsort(ix->entries, ix->n, sizeof(inlet_token_entry), cmp_entry);
    for (size_t i = 1; i < ix->n; i++) {
        const inlet_token_entry *a = &ix->entries[i - 1], *b = &ix->entries[i];
        if (memcmp(a->digest, b->digest, DIGEST_LEN) == 0) {
            size_t at = (size_t)(b->tenant - tenants);
            /* One token must name one device of one tenant, or authentication is ambiguous. */
            return inlet_ident_errf(err, err_len,
                                    "%s: tenant %s: the same token sha256 is configured for "
                                    "%s/%s and %s/%s",
                                    origin_at(origins, at), b->tenant->name, a->tenant->name,
                                    a->device, b->tenant->name, b->device);
        }
    }
    return 0;
}

void inlet_token_index_free(inlet_token_index *ix)
{
    for (size_t i = 0; i < ix->n; i++)
        free(ix->entries[i].device);
    free(ix->entries);
    ix->entries = NULL;
    ix->n = 0;
}

const inlet_token_entry *inlet_token_index_find(const inlet_token_index *ix,
                                                const unsigned char digest[DIGEST_LEN])
{
    /* The search compares digests with memcmp: its timing can reveal only how the digest of a
     * presented token orders against stored digests, never the token. The match itself is
     * decided by CRYPTO_memcmp, which takes the same time wherever the bytes differ. */
    const inlet_token_entry *e =
        ix->n ? bsearch(digest, ix->entries, ix->n, sizeof(inlet_token_entry), cmp_entry_key)
              : NULL;
    return e && CRYPTO_memcmp(e->digest, digest, DIGEST_LEN) == 0 ? e : NULL;
}

int inlet_token_index_maps(const inlet_token_index *ix, const unsigned char digest[DIGEST_LEN],
                           const char *tenant, const char *device)
{
    const inlet_token_entry *e = inlet_token_index_find(ix, digest);
    return e && strcmp(e->tenant->name, tenant) == 0 && strcmp(e->device, device) == 0;
}
