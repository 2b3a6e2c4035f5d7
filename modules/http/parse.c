/*
 * parse.c - bearer credentials and media types (see parse.h), without h2o.
 */
#include <string.h>

#include "parse.h"

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* tchar, RFC 9110 section 5.6.2 */
static bool is_tchar(unsigned char c)
{
    return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool lc_equal(const char *a, const char *lower, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = a[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != lower[i])
            return false;
    }
    return true;
}

static bool is_b64token(const char *t, size_t n)
{
    size_t i = 0;
    while (i < n && (is_alnum((unsigned char)t[i]) || strchr("-._~+/", t[i]) != NULL) &&
           t[i] != '\0')
        i++;
    if (i == 0)
        return false;
    while (i < n && t[i] == '=')
        i++;
    return i == n;
}

bool http_parse_bearer(const char *v, size_t len, const char **token, size_t *token_len,
                       bool *well_formed)
{
    static const char scheme[] = "bearer";
    const size_t slen = sizeof(scheme) - 1;
    size_t i = 0;

    while (i < len && is_ows(v[i]))
        i++;
    if (len - i <= slen || !lc_equal(v + i, scheme, slen) || !is_ows(v[i + slen]))
        return false;
    i += slen;
    while (i < len && is_ows(v[i]))
        i++;
    size_t end = len;
    while (end > i && is_ows(v[end - 1]))
        end--;
    *token = v + i;
    *token_len = end - i;
    *well_formed = is_b64token(*token, *token_len);
    return true;
}

static size_t skip_ows(const char *v, size_t i, size_t len)
{
    while (i < len && is_ows(v[i]))
        i++;
    return i;
}

static size_t token_end(const char *v, size_t i, size_t len)
{
    while (i < len && is_tchar((unsigned char)v[i]))
        i++;
    return i;
}

/* A quoted-string from v[i] == '"'; returns the index after the closing quote, or 0. */
static size_t quoted_end(const char *v, size_t i, size_t len)
{
    for (i++; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c == '"')
            return i + 1;
        if (c == '\\') { /* quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ) */
            if (++i >= len)
                return 0;
            c = (unsigned char)v[i];
            if (!(c == '\t' || c >= 0x20) || c == 0x7f)
                return 0;
            continue;
        }
        /* qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text */
        if (!(c == '\t' || c >= 0x20) || c == 0x7f)
            return 0;
    }
    return 0;
}

bool http_parse_media_type(const char *v, size_t len, http_media_type *out)
{
    memset(out, 0, sizeof(*out));
    while (len > 0 && is_ows(v[len - 1]))
        len--;
    size_t i = skip_ows(v, 0, len);

    size_t e = token_end(v, i, len);
    if (e == i || e >= len || v[e] != '/')
        return false;
    out->type = v + i;
    out->type_len = e - i;
    i = e + 1;
    e = token_end(v, i, len);
    if (e == i)
        return false;
    out->subtype = v + i;
    out->subtype_len = e - i;
    i = e;

    while (i < len) {
        i = skip_ows(v, i, len);
        if (i >= len || v[i] != ';')
            return false;
        i = skip_ows(v, i + 1, len);
        if (i >= len || v[i] == ';') /* an empty parameter is allowed */
            continue;
        e = token_end(v, i, len);
        if (e == i || e >= len || v[e] != '=')
            return false;
        i = e + 1;
        if (i < len && v[i] == '"') {
            if ((e = quoted_end(v, i, len)) == 0)
                return false;
        } else {
            e = token_end(v, i, len);
            if (e == i)
                return false;
        }
        out->n_params++;
        i = e;
    }
    return true;
}
