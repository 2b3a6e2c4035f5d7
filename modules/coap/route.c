/*
 * route.c - Uri-Path patterns, Uri-Query tokens and the RFC 6690 resource list. Pure. The table
 * of routes (configured, per tenant, then the defaults) is route_table.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"

static bool name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

bool coap_route_name_ok(const char *seg, size_t len)
{
    if (len == 0 || len > COAP_ROUTE_NAME_MAX)
        return false;
    for (size_t j = 0; j < len; j++)
        if (!name_char((unsigned char)seg[j]))
            return false;
    return true;
}

void coap_route_pattern_free(coap_route_pattern *p)
{
    free(p->text);
    for (size_t i = 0; i < p->n; i++)
        free(p->seg[i]);
    memset(p, 0, sizeof(*p));
}

int coap_route_compile_pattern(coap_route_pattern *p, const char *text, char *err, size_t err_len)
{
    int seen = 0;

    memset(p, 0, sizeof(*p));
    if ((p->text = strdup(text)) == NULL)
        goto oom;
    const char *s = text[0] == '/' ? text + 1 : text;
    while (*s) {
        const char *e = strchr(s, '/');
        size_t l = e ? (size_t)(e - s) : strlen(s);
        if (l == 0 || p->n == COAP_ROUTE_SEGMENTS) {
            snprintf(err, err_len, "\"%s\": %s", text,
                     l == 0 ? "empty path segment" : "more than 8 segments");
            goto fail;
        }
        if (l == 8 && memcmp(s, "{schema}", 8) == 0) {
            p->placeholder[p->n] = 1;
        } else if (l == 9 && memcmp(s, "{version}", 9) == 0) {
            p->placeholder[p->n] = 2;
        } else {
            if (memchr(s, '{', l) || memchr(s, '}', l)) {
                snprintf(err, err_len, "\"%s\": only {schema} and {version} are placeholders",
                         text);
                goto fail;
            }
            if ((p->seg[p->n] = strndup(s, l)) == NULL)
                goto oom;
        }
        if (p->placeholder[p->n] & seen) {
            snprintf(err, err_len, "\"%s\": a placeholder appears twice", text);
            goto fail;
        }
        seen |= p->placeholder[p->n];
        p->n++;
        s += l + (e != NULL);
    }
    if (p->n == 0) {
        snprintf(err, err_len, "\"%s\": a resource path needs a segment", text);
        goto fail;
    }
    p->fields = seen;
    return 0;

oom:
    snprintf(err, err_len, "out of memory");
fail:
    coap_route_pattern_free(p);
    return -1;
}

int coap_route_compile(coap_route_pattern *p, const char *text, bool payload, char *err,
                       size_t err_len)
{
    if (coap_route_compile_pattern(p, text, err, err_len) != 0)
        return -1;
    if (payload ? p->fields != 3 : p->fields != 0) {
        snprintf(err, err_len, "\"%s\": %s", text,
                 payload ? "needs {schema} and {version}" : "takes no placeholders");
        coap_route_pattern_free(p);
        return -1;
    }
    return 0;
}

bool coap_route_match_one(const coap_route_pattern *p, const char *const *seg, const size_t *len,
                          size_t n, coap_route_match *out)
{
    if (p->n != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (p->seg[i]) {
            if (strlen(p->seg[i]) != len[i] || memcmp(p->seg[i], seg[i], len[i]) != 0)
                return false;
            continue;
        }
        if (!coap_route_name_ok(seg[i], len[i]))
            return false;
        char *dst = p->placeholder[i] == 1 ? out->schema : out->version;
        memcpy(dst, seg[i], len[i]);
        dst[len[i]] = '\0';
    }
    return true;
}

int coap_route_query_token(const char *const *q, const size_t *qlen, size_t n, const char **tok,
                           size_t *tok_len)
{
    int found = 0;

    *tok = NULL;
    *tok_len = 0;
    for (size_t i = 0; i < n; i++) {
        if (qlen[i] < 2 || q[i][0] != 't' || q[i][1] != '=')
            continue;
        if (found)
            return -1;
        found = 1;
        *tok = q[i] + 2;
        *tok_len = qlen[i] - 2;
    }
    return found;
}

/* A pattern as an RFC 6690 target: placeholders stay as written, which a client cannot mistake
 * for a resource to GET ("{" is not a valid path character unencoded, RFC 3986 3.3). */
static int put_pattern(char *buf, size_t cap, size_t *at, const coap_route_pattern *p)
{
    for (size_t i = 0; i < p->n; i++) {
        const char *s = p->seg[i] ? p->seg[i] : p->placeholder[i] == 1 ? "{schema}" : "{version}";
        int w = snprintf(buf + *at, cap - *at, "/%s", s);
        if (w < 0 || (size_t)w >= cap - *at)
            return -1;
        *at += (size_t)w;
    }
    return 0;
}

size_t coap_route_link_format(const coap_route_table *t, char *buf, size_t cap)
{
    size_t at = 0;
    int w;

    /* ct: the Content-Formats the core decodes (JSON 50, CBOR 60, SenML JSON 110, SenML CBOR
     * 112; octet-stream 42 for schemas with a binary layout, bare payloads only). */
    if (cap < 2)
        return 0;
    buf[at++] = '<';
    if (put_pattern(buf, cap, &at, &t->ingest))
        return 0;
    w = snprintf(buf + at, cap - at, ">;rt=\"inlet.events\";ct=\"50 60 110 112\";if=\"core.p\",<");
    if (w < 0 || (size_t)w >= cap - at)
        return 0;
    at += (size_t)w;
    if (put_pattern(buf, cap, &at, &t->payload))
        return 0;
    w = snprintf(buf + at, cap - at,
                 ">;rt=\"inlet.payload\";ct=\"42 50 60 110 112\";if=\"core.p\"");
    if (w < 0 || (size_t)w >= cap - at)
        return 0;
    return at + (size_t)w;
}
