/* fuzz_http_headers.c - libFuzzer target for the HTTP module's header parsers
 * (modules/http/parse.c): the Authorization bearer credential and the Content-Type media type.
 *
 * 1. http_parse_bearer() on the input: a token must lie inside it, carry no surrounding
 *    whitespace, and parse back to itself from "Bearer <token>"; "well formed" must agree with
 *    a straightforward b64token check.
 * 2. http_parse_media_type() on the input: type and subtype must be non-empty runs of tchar
 *    inside it; the canonical "type/subtype" parses to the same; and what the core's decoder
 *    table (inlet_format_from_content_type) makes of a value we accept it makes of the bare
 *    "type/subtype" too, so that no parameter changes the format.
 * The module's parse.c is included: the fuzz build links against inlet_core only. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../modules/http/parse.c"
#include "formats/formats.h"

#define ASSERT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static bool inside(const char *p, size_t n, const char *lo, size_t len)
{
    return p >= lo && p + n <= lo + len;
}

static bool ref_b64token(const char *t, size_t n)
{
    size_t i = 0;
    for (; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'))
            break;
    }
    if (i == 0)
        return false;
    while (i < n && t[i] == '=')
        i++;
    return i == n;
}

static void check_bearer(const char *v, size_t len)
{
    const char *tok;
    size_t n;
    bool wf;
    if (!http_parse_bearer(v, len, &tok, &n, &wf))
        return;
    ASSERT(inside(tok, n, v, len));
    if (n > 0) {
        ASSERT(tok[0] != ' ' && tok[0] != '\t');
        ASSERT(tok[n - 1] != ' ' && tok[n - 1] != '\t');
    }
    ASSERT(wf == ref_b64token(tok, n));
    if (n == 0 || n > 4096)
        return;
    char *again = malloc(n + 7);
    memcpy(again, "Bearer ", 7);
    memcpy(again + 7, tok, n);
    const char *tok2;
    size_t n2;
    bool wf2;
    ASSERT(http_parse_bearer(again, n + 7, &tok2, &n2, &wf2));
    ASSERT(n2 == n && memcmp(tok2, tok, n) == 0 && wf2 == wf);
    free(again);
}

static bool all_tchar(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_tchar((unsigned char)p[i]))
            return false;
    return n > 0;
}

static void check_media_type(const char *v, size_t len)
{
    http_media_type mt;
    if (!http_parse_media_type(v, len, &mt))
        return;
    ASSERT(inside(mt.type, mt.type_len, v, len) && all_tchar(mt.type, mt.type_len));
    ASSERT(inside(mt.subtype, mt.subtype_len, v, len) && all_tchar(mt.subtype, mt.subtype_len));

    size_t n = mt.type_len + 1 + mt.subtype_len;
    char *bare = malloc(n + 1);
    memcpy(bare, mt.type, mt.type_len);
    bare[mt.type_len] = '/';
    memcpy(bare + mt.type_len + 1, mt.subtype, mt.subtype_len);
    bare[n] = '\0';
    http_media_type again;
    ASSERT(http_parse_media_type(bare, n, &again));
    ASSERT(again.type_len == mt.type_len && again.subtype_len == mt.subtype_len &&
           again.n_params == 0);

    /* the core gets the value as a C string: only values without NUL compare */
    if (memchr(v, '\0', len) == NULL) {
        char *whole = malloc(len + 1);
        memcpy(whole, v, len);
        whole[len] = '\0';
        inlet_format f1, f2;
        int r1 = inlet_format_from_content_type(whole, &f1);
        int r2 = inlet_format_from_content_type(bare, &f2);
        ASSERT(r1 == r2);
        if (r1 == 0)
            ASSERT(f1 == f2);
        free(whole);
    }
    free(bare);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_bearer((const char *)data, size);
    check_media_type((const char *)data, size);
    return 0;
}
