/*
 * token.c - opaque bearer tokens. Only the SHA-256 of each token is configured and kept; a
 * presented token is hashed, looked up by digest in a sorted array and confirmed in constant
 * time.
 */
#include <stdlib.h>
#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "tenant.h"
#include "tenant_internal.h"

#define DIGEST_LEN 32

/* OpenSSL 3 looks the algorithm up on every EVP_Digest(EVP_sha256()) call; on the per-request
 * auth path that showed in profiles. Fetch it once and keep a context per thread. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static pthread_key_t sha256_ctx_key; /* the thread's EVP_MD_CTX, freed when the thread ends */

static void sha256_ctx_free(void *ctx)
{
    EVP_MD_CTX_free(ctx);
}

static void sha256_fetch(void)
{
    if (pthread_key_create(&sha256_ctx_key, sha256_ctx_free) == 0)
        sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static int token_digest(const char *token, size_t len, unsigned char md[DIGEST_LEN])
{
    unsigned int md_len = 0;

    pthread_once(&sha256_once, sha256_fetch);
    if (!sha256_md)
        return -1;
    EVP_MD_CTX *sha256_ctx = pthread_getspecific(sha256_ctx_key);
    if (!sha256_ctx) {
        if (!(sha256_ctx = EVP_MD_CTX_new()))
            return -1;
        if (pthread_setspecific(sha256_ctx_key, sha256_ctx) != 0) {
            EVP_MD_CTX_free(sha256_ctx);
            return -1;
        }
    }
    if (EVP_DigestInit_ex2(sha256_ctx, sha256_md, NULL) != 1 ||
        EVP_DigestUpdate(sha256_ctx, token, len) != 1 ||
        EVP_DigestFinal_ex(sha256_ctx, md, &md_len) != 1 || md_len != DIGEST_LEN)
        return -1;
    return 0;
}

void inlet_token_hash_hex(const char *token, size_t len, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[DIGEST_LEN];

    out[0] = '\0';
    if (token_digest(token, len, md))
        return;
    for (size_t i = 0; i < DIGEST_LEN; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 0xf];
    }
    out[64] = '\0';
}

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

int inlet_token_index_build(inlet_tenants *ts, const inlet_tenant_conf *const *confs,
                            const char *const *origins, char *err, size_t err_len)
{
    size_t total = 0;

    for (size_t i = 0; i < ts->n; i++)
        total += confs[i]->tokens.count;
    if (total == 0)
        return 0;
    ts->tokens = calloc(total, sizeof(inlet_token_entry));
    if (!ts->tokens)
        return inlet_ident_errf(err, err_len, "tokens: out of memory");
    for (size_t i = 0; i < ts->n; i++) {
        const inlet_token_conf *tc = confs[i]->tokens.items;
        for (size_t j = 0; j < confs[i]->tokens.count; j++) {
            inlet_token_entry *e = &ts->tokens[ts->n_tokens];
            const char *why;
            if (hex_decode_digest(tc[j].sha256, e->digest))
                return inlet_ident_errf(err, err_len,
                                        "%s: tenant %s: tokens[%zu].sha256: must be 64 hex digits",
                                        origin_at(origins, i), ts->tenants[i].name, j);
            why = tc[j].device ? inlet_device_id_check(tc[j].device, strlen(tc[j].device))
                               : "is missing";
            if (why)
                return inlet_ident_errf(err, err_len, "%s: tenant %s: tokens[%zu].device: %s",
                                        origin_at(origins, i), ts->tenants[i].name, j, why);
            e->tenant = &ts->tenants[i];
            e->device = strdup(tc[j].device);
            ts->n_tokens++;
            if (!e->device)
                return inlet_ident_errf(err, err_len, "tokens: out of memory");
        }
    }
    qsort(ts->tokens, ts->n_tokens, sizeof(inlet_token_entry), cmp_entry);
    for (size_t i = 1; i < ts->n_tokens; i++) {
        const inlet_token_entry *a = &ts->tokens[i - 1], *b = &ts->tokens[i];
        if (memcmp(a->digest, b->digest, DIGEST_LEN) == 0) {
            size_t at = (size_t)(b->tenant - ts->tenants);
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

void inlet_token_index_free(inlet_tenants *ts)
{
    for (size_t i = 0; i < ts->n_tokens; i++)
        free(ts->tokens[i].device);
    free(ts->tokens);
    ts->tokens = NULL;
    ts->n_tokens = 0;
}

inlet_status inlet_token_auth(inlet_tenants *ts, const char *token, size_t len,
                              inlet_identity **out, char *msg, size_t msg_len)
{
    unsigned char md[DIGEST_LEN];
    const inlet_token_entry *e;

    *out = NULL;
    if (token_digest(token, len, md)) {
        inlet_ident_msgf(msg, msg_len, "SHA-256 failed");
        return INLET_E_INTERNAL;
    }
    /* The search compares digests with memcmp: its timing can reveal only how a digest of the
     * presented token orders against stored digests, never the token. The match itself is
     * decided by CRYPTO_memcmp, which takes the same time wherever the bytes differ. */
    e = ts->n_tokens
            ? bsearch(md, ts->tokens, ts->n_tokens, sizeof(inlet_token_entry), cmp_entry_key)
            : NULL;
    if (!e || CRYPTO_memcmp(e->digest, md, DIGEST_LEN) != 0) {
        inlet_ident_msgf(msg, msg_len, "unknown bearer token");
        return INLET_E_UNAUTHENTICATED;
    }
    if (inlet_identity_new(ts, e->tenant, e->device, strlen(e->device), INLET_AUTH_TOKEN, out)) {
        inlet_ident_msgf(msg, msg_len, "out of memory");
        return INLET_E_INTERNAL;
    }
    /* Remember which token this identity came from, so a reload that removes it revokes
     * long-lived connections too (inlet_identity_refresh). */
    inlet_identity_block *b = (inlet_identity_block *)(void *)*out;
    b->has_token = 1;
    memcpy(b->token_digest, md, DIGEST_LEN);
    return INLET_OK;
}

int inlet_token_still_valid(const inlet_tenants *ts, const unsigned char digest[32],
                            const char *tenant, const char *device)
{
    const inlet_token_entry *e = ts->n_tokens ? bsearch(digest, ts->tokens, ts->n_tokens,
                                                        sizeof(inlet_token_entry), cmp_entry_key)
                                              : NULL;
    return e && CRYPTO_memcmp(e->digest, digest, DIGEST_LEN) == 0 &&
           strcmp(e->tenant->name, tenant) == 0 && strcmp(e->device, device) == 0;
}
