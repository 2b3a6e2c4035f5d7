/*
 * token.c - opaque bearer tokens. Only the SHA-256 of each token is configured and kept; a
 * presented token is hashed here and looked up in the set's token index (token_index.c).
 */
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include "ident_error.h"
#include "identity.h"
#include "tenant.h"
#include "tenant_set.h"
#include "token.h"
#include "token_index.h"

#define DIGEST_LEN INLET_TOKEN_DIGEST_LEN

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

inlet_status inlet_token_auth(inlet_tenants *ts, const char *token, size_t len, int64_t now_s,
                              inlet_identity **out, char *msg, size_t msg_len)
{
    unsigned char md[DIGEST_LEN];
    const inlet_token_entry *e;

    *out = NULL;
    if (token_digest(token, len, md)) {
        inlet_ident_msgf(msg, msg_len, "SHA-256 failed");
        return INLET_E_INTERNAL;
    }
    e = inlet_token_index_find(&ts->tokens, md);
    if (!e) {
        inlet_ident_msgf(msg, msg_len, "unknown bearer token");
        return INLET_E_UNAUTHENTICATED;
    }
    if (e->not_after_us && now_s * 1000000 >= e->not_after_us) {
        inlet_ident_msgf(msg, msg_len, "the token of %s/%s is past its not_after", e->tenant->name,
                         e->device);
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
    b->expires_at_us = e->not_after_us;
    return INLET_OK;
}
