/*
 * framing.c - RFC 9112 section 6 message framing checks that h2o 2.2 does not make.
 *
 * h2o 2.2's HTTP/1 parser lets Transfer-Encoding win over Content-Length and takes the first
 * of several Content-Lengths. A proxy in front of inletd may have chosen the other way, so the
 * bytes it forwarded as one request would be two requests here (request smuggling). Such a
 * request is refused with 400 and its connection closed after the answer, so nothing after its
 * body is ever parsed as a request (RFC 9112 section 6.3 items 3 to 5; section 6.1: "the server
 * MUST close the connection after responding to such a request").
 */
#include <string.h>

#include "http.h"

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/*
 * One Content-Length field value: 1*DIGIT, or a list of identical ones ("42, 42"), which
 * section 6.3 item 5 lets a recipient take as one. *value gets the digits (no leading zeros
 * stripped: "042" and "42" are different texts and refused as conflicting, which is harmless).
 */
static bool content_length_value(h2o_iovec_t v, h2o_iovec_t *value)
{
    size_t i = 0;
    bool have = false;

    while (i < v.len) {
        while (i < v.len && is_ows(v.base[i]))
            i++;
        size_t start = i;
        while (i < v.len && is_digit(v.base[i]))
            i++;
        if (i == start || i - start > 19)
            return false;
        h2o_iovec_t item = h2o_iovec_init(v.base + start, i - start);
        if (have && !h2o_memis(item.base, item.len, value->base, value->len))
            return false;
        *value = item;
        have = true;
        while (i < v.len && is_ows(v.base[i]))
            i++;
        if (i < v.len && v.base[i++] != ',')
            return false;
    }
    return have;
}

/* The last transfer coding of a Transfer-Encoding list ("gzip, chunked" gives "chunked"). */
static h2o_iovec_t last_coding(h2o_iovec_t v)
{
    size_t end = v.len;
    while (end > 0 && (is_ows(v.base[end - 1]) || v.base[end - 1] == ','))
        end--;
    size_t start = end;
    while (start > 0 && v.base[start - 1] != ',')
        start--;
    while (start < end && is_ows(v.base[start]))
        start++;
    return h2o_iovec_init(v.base + start, end - start);
}

/* Header line by header line (obs-fold is refused by h2o's parser before a handler runs). */
bool http_framing_valid(h2o_req_t *req, const char **why)
{
    h2o_iovec_t length = {NULL, 0};
    size_t n_te = 0;
    h2o_iovec_t te_last = {NULL, 0};

    if (req->version >= 0x200) /* HTTP/2 frames the body itself (RFC 9113 section 8.1.1) */
        return true;
    h2o_iovec_t head = http_h2o_http1_request_head(req);
    if (head.base == NULL) { /* fail closed: framing that cannot be checked is not trusted */
        *why = "the request framing cannot be checked";
        return false;
    }
    const char *p = memchr(head.base, '\n', head.len); /* skip the request line */
    const char *end = head.base + head.len;
    while (p != NULL && ++p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL)
            eol = end;
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (colon != NULL) {
            h2o_iovec_t name = h2o_iovec_init(p, (size_t)(colon - p));
            const char *vend = eol;
            if (vend > colon + 1 && vend[-1] == '\r')
                vend--;
            h2o_iovec_t value = h2o_iovec_init(colon + 1, (size_t)(vend - colon - 1));
            if (h2o_lcstris(name.base, name.len, H2O_STRLIT("content-length"))) {
                h2o_iovec_t v = {NULL, 0};
                if (!content_length_value(value, &v)) {
                    *why = "the Content-Length is not a number";
                    return false;
                }
                if (length.base != NULL && !h2o_memis(v.base, v.len, length.base, length.len)) {
                    *why = "the request has conflicting Content-Length fields";
                    return false;
                }
                length = v;
            } else if (h2o_lcstris(name.base, name.len, H2O_STRLIT("transfer-encoding"))) {
                n_te++;
                te_last = last_coding(value);
            }
        }
        p = eol;
    }
    if (n_te == 0)
        return true;
    if (length.base != NULL) {
        *why = "the request has both Content-Length and Transfer-Encoding";
        return false;
    }
    if (req->version < 0x101) { /* section 6.1: HTTP/1.0 has no transfer codings */
        *why = "Transfer-Encoding in an HTTP/1.0 request";
        return false;
    }
    if (!h2o_lcstris(te_last.base, te_last.len, H2O_STRLIT("chunked"))) {
        *why = "the last transfer coding is not chunked";
        return false;
    }
    return true;
}
