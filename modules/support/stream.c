/*
 * stream.c - the byte stream of a TCP connection, plaintext or TLS, as the framed-TCP modules
 * (MQTT, binary, Teltonika) read and write it from their epoll loops: non-blocking reads and
 * writes that say "again" the same way for both, the non-blocking TLS handshake, and the
 * device identity of a TLS client certificate.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "support.h"

ssize_t inlet_support_stream_read(int fd, SSL *ssl, uint8_t *buf, size_t cap,
                                  bool *read_wants_write)
{
    if (ssl == NULL) {
        for (;;) {
            ssize_t n = recv(fd, buf, cap, 0);
            if (n >= 0)
                return n;
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? INLET_SUPPORT_IO_AGAIN
                                                           : INLET_SUPPORT_IO_ERROR;
        }
    }
    ERR_clear_error();
    int n = SSL_read(ssl, buf, cap > INT_MAX ? INT_MAX : (int)cap);
    if (n > 0)
        return n;
    switch (SSL_get_error(ssl, n)) {
    case SSL_ERROR_WANT_READ:
        return INLET_SUPPORT_IO_AGAIN;
    case SSL_ERROR_WANT_WRITE:
        /* a renegotiation or key update: the read continues once the socket is writable */
        *read_wants_write = true;
        return INLET_SUPPORT_IO_AGAIN;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    default:
        ERR_clear_error();
        return INLET_SUPPORT_IO_ERROR;
    }
}

ssize_t inlet_support_stream_write(int fd, SSL *ssl, const uint8_t *buf, size_t len)
{
    if (ssl == NULL) {
        for (;;) {
            ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
            if (n >= 0)
                return n;
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK ? INLET_SUPPORT_IO_AGAIN
                                                           : INLET_SUPPORT_IO_ERROR;
        }
    }
    ERR_clear_error();
    int n = SSL_write(ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    if (n > 0)
        return n;
    switch (SSL_get_error(ssl, n)) {
    case SSL_ERROR_WANT_WRITE:
        return INLET_SUPPORT_IO_AGAIN;
    case SSL_ERROR_WANT_READ:
        return INLET_SUPPORT_IO_AGAIN_READ;
    default:
        ERR_clear_error();
        return INLET_SUPPORT_IO_ERROR;
    }
}

inlet_support_handshake inlet_support_stream_handshake(SSL *ssl, char *why, size_t why_len)
{
    ERR_clear_error();
    int rc = SSL_do_handshake(ssl);
    if (rc == 1)
        return INLET_SUPPORT_HANDSHAKE_DONE;
    switch (SSL_get_error(ssl, rc)) {
    case SSL_ERROR_WANT_READ:
        return INLET_SUPPORT_HANDSHAKE_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return INLET_SUPPORT_HANDSHAKE_WANT_WRITE;
    default:
        inlet_support_openssl_reason(why, why_len);
        return INLET_SUPPORT_HANDSHAKE_FAILED;
    }
}

inlet_status inlet_support_stream_client_identity(const inlet_host *host, SSL *ssl,
                                                  const inlet_support_listener *l,
                                                  inlet_identity **out, char *msg, size_t msg_len)
{
    uint8_t *der[INLET_SUPPORT_MAX_CHAIN];
    size_t len[INLET_SUPPORT_MAX_CHAIN];
    size_t n = 0;
    inlet_status st = INLET_E_UNAUTHENTICATED;

    *out = NULL;
    if (msg_len)
        msg[0] = '\0';
    if (ssl == NULL || l->tls->client_auth == INLET_SUPPORT_CLIENT_AUTH_NONE)
        return INLET_OK;
    X509 *leaf = SSL_get0_peer_certificate(ssl);
    if (leaf == NULL)
        return INLET_OK;
    if (inlet_support_tls_chain_der(ssl, leaf, der, len, &n) != 0)
        goto done;
    st = host->auth_cert_chain((const uint8_t *const *)der, len, n, out, msg, msg_len);
    if (st == INLET_OK && *out == NULL)
        st = INLET_E_INTERNAL; /* a core bug; never treat "no identity" as success */
done:
    if (st != INLET_OK && msg_len && !msg[0])
        snprintf(msg, msg_len, "no tenant CA verifies it");
    inlet_support_tls_chain_free(der, n);
    ERR_clear_error();
    return st;
}
