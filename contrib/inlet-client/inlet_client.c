/*
 * inlet_client.c - the Inlet binary protocol client (inlet_client.h, docs/BINARY.md).
 * libc and POSIX sockets; OpenSSL only with INLET_CLIENT_TLS.
 */
#include "inlet_client.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifdef INLET_CLIENT_TLS
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#endif

/* ---- codec ---- */

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void header(uint8_t *out, uint32_t length, uint8_t type, uint8_t flags, uint16_t seq)
{
    wr32(out, length);
    out[4] = type;
    out[5] = flags;
    wr16(out + 6, seq);
}

int inlet_encode_hello(uint8_t *out, size_t cap, uint16_t keep_alive, const char *device,
                       const void *token, size_t token_len)
{
    size_t dlen = device ? strlen(device) : 0;
    size_t body = 5 + dlen + token_len;
    if (dlen > 128 || token_len > 4096 || INLET_HEADER_LEN + body > cap)
        return INLET_CLIENT_E_ARG;
    header(out, (uint32_t)body, INLET_FRAME_HELLO, 0, 0);
    uint8_t *b = out + INLET_HEADER_LEN;
    b[0] = INLET_PROTOCOL_VERSION;
    b[1] = token_len > 0 ? 1 : 0;
    wr16(b + 2, keep_alive);
    b[4] = (uint8_t)dlen;
    if (dlen > 0)
        memcpy(b + 5, device, dlen);
    if (token_len > 0)
        memcpy(b + 5 + dlen, token, token_len);
    return (int)(INLET_HEADER_LEN + body);
}

int inlet_encode_data(uint8_t *out, size_t cap, uint16_t seq, uint16_t format, const char *schema,
                      uint8_t version, const char *event_id, const void *payload,
                      size_t payload_len)
{
    size_t slen = schema ? strlen(schema) : 0;
    size_t elen = event_id ? strlen(event_id) : 0;
    if (slen > 128 || (schema && (slen == 0 || version == 0)) || elen > 64 ||
        (event_id && elen == 0))
        return INLET_CLIENT_E_ARG;
    size_t body = 3 + (slen ? slen + 1 : 0) + (event_id ? 1 + elen : 0) + payload_len;
    if (INLET_HEADER_LEN + body > cap || body > UINT32_MAX)
        return INLET_CLIENT_E_ARG;
    header(out, (uint32_t)body, INLET_FRAME_DATA, event_id ? INLET_DATA_FLAG_EVENT_ID : 0, seq);
    uint8_t *b = out + INLET_HEADER_LEN;
    wr16(b, format);
    b[2] = (uint8_t)slen;
    b += 3;
    if (slen) {
        memcpy(b, schema, slen);
        b += slen;
        *b++ = version;
    }
    if (event_id) {
        *b++ = (uint8_t)elen;
        memcpy(b, event_id, elen);
        b += elen;
    }
    if (payload_len)
        memcpy(b, payload, payload_len);
    return (int)(INLET_HEADER_LEN + body);
}

int inlet_encode_ping(uint8_t *out, size_t cap, uint16_t seq)
{
    if (cap < INLET_HEADER_LEN)
        return INLET_CLIENT_E_ARG;
    header(out, 0, INLET_FRAME_PING, 0, seq);
    return INLET_HEADER_LEN;
}

int inlet_encode_bye(uint8_t *out, size_t cap)
{
    if (cap < INLET_HEADER_LEN)
        return INLET_CLIENT_E_ARG;
    header(out, 0, INLET_FRAME_BYE, 0, 0);
    return INLET_HEADER_LEN;
}

int inlet_parse_frame(const uint8_t *buf, size_t len, uint32_t max_body, inlet_frame *f)
{
    if (len < INLET_HEADER_LEN)
        return 0;
    f->length = rd32(buf);
    f->type = buf[4];
    f->flags = buf[5];
    f->seq = rd16(buf + 6);
    if (f->length > max_body)
        return INLET_CLIENT_E_PROTOCOL;
    if (len - INLET_HEADER_LEN < f->length)
        return 0;
    f->body = buf + INLET_HEADER_LEN;
    return (int)(INLET_HEADER_LEN + f->length);
}

static void copy_reason(inlet_answer *a, const uint8_t *p, size_t n)
{
    if (n > INLET_MAX_REASON)
        n = INLET_MAX_REASON;
    memcpy(a->reason, p, n);
    a->reason[n] = '\0';
}

int inlet_decode_answer(const inlet_frame *f, inlet_answer *a)
{
    const uint8_t *b = f->body;
    memset(a, 0, sizeof(*a));
    a->type = f->type;
    a->flags = f->flags;
    a->seq = f->seq;
    switch (f->type) {
    case INLET_FRAME_WELCOME:
        if (f->length < 12)
            return INLET_CLIENT_E_PROTOCOL;
        a->status = b[0];
        a->window = rd16(b + 2);
        a->keep_alive = rd16(b + 4);
        a->max_frame = rd32(b + 6);
        a->retry_after = rd16(b + 10);
        copy_reason(a, b + 12, f->length - 12);
        return 0;
    case INLET_FRAME_ACK:
    case INLET_FRAME_CLOSE:
        if (f->length < 3)
            return INLET_CLIENT_E_PROTOCOL;
        a->status = b[0];
        a->retry_after = rd16(b + 1);
        copy_reason(a, b + 3, f->length - 3);
        return 0;
    case INLET_FRAME_PONG:
        return f->length == 0 ? 0 : INLET_CLIENT_E_PROTOCOL;
    default:
        return INLET_CLIENT_E_PROTOCOL;
    }
}

const char *inlet_status_text(uint8_t status)
{
    switch (status) {
    case 0x00:
        return "accepted";
    case 0x80:
        return "unspecified error";
    case 0x81:
        return "malformed frame";
    case 0x82:
        return "protocol error";
    case 0x84:
        return "unsupported protocol version";
    case 0x86:
        return "bad credentials";
    case 0x87:
        return "not authorized";
    case 0x88:
        return "unavailable";
    case 0x8B:
        return "server shutting down";
    case 0x8D:
        return "keep alive timeout";
    case 0x90:
        return "unknown schema";
    case 0x93:
        return "window exceeded";
    case 0x95:
        return "frame too large";
    case 0x97:
        return "quota exceeded";
    case 0x99:
        return "payload invalid";
    default:
        return "unknown status";
    }
}

/* ---- blocking connection ---- */

#define IN_CAP (8u + 12u + INLET_MAX_REASON + 64u) /* the largest server frame, and some */

struct inlet_client {
    int fd;
#ifdef INLET_CLIENT_TLS
    SSL_CTX *ctx;
    SSL *ssl;
#endif
    unsigned window;
    unsigned unacked;
    uint32_t max_frame;
    uint16_t next_seq;
    int closed;
    char schema[129];
    uint8_t version;
    uint8_t *out; /* one DATA frame */
    size_t out_cap;
    uint8_t in[IN_CAP];
    size_t in_len;
};

static int io_write(inlet_client *c, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w;
#ifdef INLET_CLIENT_TLS
        if (c->ssl) {
            int r = SSL_write(c->ssl, p, (int)n);
            w = r > 0 ? r : -1;
            if (r <= 0)
                errno = EIO;
        } else
#endif
            w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return INLET_CLIENT_E_IO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int io_read(inlet_client *c, int timeout_ms)
{
#ifdef INLET_CLIENT_TLS
    if (!(c->ssl && SSL_pending(c->ssl) > 0))
#endif
    {
        struct pollfd pfd = {c->fd, POLLIN, 0};
        int r;
        do
            r = poll(&pfd, 1, timeout_ms);
        while (r < 0 && errno == EINTR);
        if (r == 0)
            return INLET_CLIENT_E_TIMEOUT;
        if (r < 0)
            return INLET_CLIENT_E_IO;
    }
    ssize_t n;
#ifdef INLET_CLIENT_TLS
    if (c->ssl) {
        int r = SSL_read(c->ssl, c->in + c->in_len, (int)(IN_CAP - c->in_len));
        if (r <= 0)
            return SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN ? INLET_CLIENT_E_CLOSED
                                                                     : INLET_CLIENT_E_IO;
        n = r;
    } else
#endif
    {
        do
            n = recv(c->fd, c->in + c->in_len, IN_CAP - c->in_len, 0);
        while (n < 0 && errno == EINTR);
        if (n == 0)
            return INLET_CLIENT_E_CLOSED;
        if (n < 0)
            return INLET_CLIENT_E_IO;
    }
    c->in_len += (size_t)n;
    return 0;
}

int inlet_client_read(inlet_client *c, inlet_answer *a, int timeout_ms)
{
    for (;;) {
        inlet_frame f;
        if (c->in_len == 0 && c->closed)
            return INLET_CLIENT_E_CLOSED;
        int n = inlet_parse_frame(c->in, c->in_len, IN_CAP - INLET_HEADER_LEN, &f);
        if (n < 0)
            return n;
        if (n > 0) {
            int rc = inlet_decode_answer(&f, a);
            memmove(c->in, c->in + n, c->in_len - (size_t)n);
            c->in_len -= (size_t)n;
            if (rc != 0)
                return rc;
            if (a->type == INLET_FRAME_ACK && c->unacked > 0)
                c->unacked--;
            if (a->type == INLET_FRAME_CLOSE)
                c->closed = 1;
            return 0;
        }
        if (c->closed)
            return INLET_CLIENT_E_CLOSED;
        int rc = io_read(c, timeout_ms);
        if (rc == INLET_CLIENT_E_CLOSED)
            c->closed = 1;
        if (rc != 0)
            return rc;
    }
}

static int tcp_connect(const inlet_client_config *cfg, char *err, size_t err_len)
{
    struct addrinfo hints, *res = NULL, *ai;
    int fd = -1, one = 1;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(cfg->host ? cfg->host : "127.0.0.1", cfg->port ? cfg->port : "7000",
                         &hints, &res);
    if (rc != 0) {
        snprintf(err, err_len, "%s: %s", cfg->host, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        close(fd);
        fd = -1;
    }
    if (fd < 0)
        snprintf(err, err_len, "connect %s:%s: %s", cfg->host ? cfg->host : "127.0.0.1",
                 cfg->port ? cfg->port : "7000", strerror(errno));
    else
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    freeaddrinfo(res);
    return fd;
}

#ifdef INLET_CLIENT_TLS
static int tls_start(inlet_client *c, const inlet_client_config *cfg, char *err, size_t err_len)
{
    const char *name = cfg->server_name ? cfg->server_name : cfg->host ? cfg->host : "127.0.0.1";
    c->ctx = SSL_CTX_new(TLS_client_method());
    if (c->ctx == NULL)
        goto fail;
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    if (cfg->ca_file) {
        if (SSL_CTX_load_verify_locations(c->ctx, cfg->ca_file, NULL) != 1)
            goto fail;
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    }
    if (cfg->cert_file &&
        (SSL_CTX_use_certificate_chain_file(c->ctx, cfg->cert_file) != 1 ||
         SSL_CTX_use_PrivateKey_file(c->ctx, cfg->key_file ? cfg->key_file : cfg->cert_file,
                                     SSL_FILETYPE_PEM) != 1))
        goto fail;
    if ((c->ssl = SSL_new(c->ctx)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
        goto fail;
    SSL_set_tlsext_host_name(c->ssl, name);
    if (cfg->ca_file) {
        X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);
        X509_VERIFY_PARAM_set1_host(vp, name, 0);
        if (strspn(name, "0123456789.:") == strlen(name))
            X509_VERIFY_PARAM_set1_ip_asc(vp, name);
    }
    if (SSL_connect(c->ssl) != 1)
        goto fail;
    return 0;
fail:
    snprintf(err, err_len, "TLS: %s", ERR_reason_error_string(ERR_get_error()));
    return -1;
}
#endif

inlet_client *inlet_client_connect(const inlet_client_config *cfg, inlet_answer *welcome, char *err,
                                   size_t err_len)
{
    inlet_client *c = calloc(1, sizeof(*c));
    inlet_answer w;
    uint8_t hello[8 + 5 + 128 + 4096];
    int timeout = cfg->timeout_ms > 0 ? cfg->timeout_ms : 10000;

    if (c == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    if ((c->fd = tcp_connect(cfg, err, err_len)) < 0)
        goto fail;
    if (cfg->tls) {
#ifdef INLET_CLIENT_TLS
        if (tls_start(c, cfg, err, err_len) != 0)
            goto fail;
#else
        snprintf(err, err_len, "built without TLS (INLET_CLIENT_TLS)");
        goto fail;
#endif
    }
    size_t tlen = cfg->token ? strlen(cfg->token) : 0;
    int n =
        inlet_encode_hello(hello, sizeof(hello), cfg->keep_alive, cfg->device, cfg->token, tlen);
    if (n < 0) {
        snprintf(err, err_len, "device id or token too long");
        goto fail;
    }
    if (io_write(c, hello, (size_t)n) != 0) {
        snprintf(err, err_len, "sending HELLO: %s", strerror(errno));
        goto fail;
    }
    int rc = inlet_client_read(c, &w, timeout);
    if (rc == 0 && w.type != INLET_FRAME_WELCOME)
        rc = INLET_CLIENT_E_PROTOCOL;
    if (rc != 0) {
        snprintf(err, err_len, "waiting for WELCOME: error %d", rc);
        goto fail;
    }
    if (welcome)
        *welcome = w;
    if (w.status != INLET_STATUS_OK || w.window == 0) {
        snprintf(err, err_len, "HELLO refused: 0x%02X %s%s%s", w.status,
                 inlet_status_text(w.status), w.reason[0] ? ": " : "", w.reason);
        goto fail;
    }
    c->window = w.window;
    c->max_frame = w.max_frame;
    return c;
fail:
    inlet_client_close(c);
    return NULL;
}

int inlet_client_send(inlet_client *c, uint16_t format, const char *schema, uint8_t version,
                      const char *event_id, const void *payload, size_t len, uint16_t *seq)
{
    if (c->closed)
        return INLET_CLIENT_E_CLOSED;
    if (c->unacked >= c->window)
        return INLET_CLIENT_E_WINDOW;
    size_t need = INLET_HEADER_LEN + 3 + 130 + 65 + len;
    if (len > c->max_frame)
        return INLET_CLIENT_E_ARG;
    if (need > c->out_cap) {
        uint8_t *p = realloc(c->out, need);
        if (p == NULL)
            return INLET_CLIENT_E_ARG;
        c->out = p;
        c->out_cap = need;
    }
    const char *s = schema;
    if (schema && c->schema[0] && version == c->version && strcmp(schema, c->schema) == 0)
        s = NULL; /* the same as the previous frame: schema_len 0 */
    int n = inlet_encode_data(c->out, c->out_cap, c->next_seq, format, s, version, event_id,
                              payload, len);
    if (n < 0)
        return n;
    if (io_write(c, c->out, (size_t)n) != 0)
        return INLET_CLIENT_E_IO;
    if (schema && s) {
        snprintf(c->schema, sizeof(c->schema), "%s", schema);
        c->version = version;
    }
    if (seq)
        *seq = c->next_seq;
    c->next_seq++;
    c->unacked++;
    return 0;
}

int inlet_client_ping(inlet_client *c)
{
    uint8_t b[INLET_HEADER_LEN];
    inlet_encode_ping(b, sizeof(b), 0);
    return io_write(c, b, sizeof(b));
}

int inlet_client_bye(inlet_client *c)
{
    uint8_t b[INLET_HEADER_LEN];
    inlet_encode_bye(b, sizeof(b));
    return io_write(c, b, sizeof(b));
}

unsigned inlet_client_unacked(const inlet_client *c)
{
    return c->unacked;
}

unsigned inlet_client_window(const inlet_client *c)
{
    return c->window;
}

void inlet_client_close(inlet_client *c)
{
    if (c == NULL)
        return;
#ifdef INLET_CLIENT_TLS
    if (c->ssl) {
        SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }
    SSL_CTX_free(c->ctx);
#endif
    if (c->fd >= 0)
        close(c->fd);
    free(c->out);
    free(c);
}
