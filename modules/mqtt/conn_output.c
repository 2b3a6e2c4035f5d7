/*
 * conn_output.c - the bounded output side of a connection: buffers recycled per loop, socket and
 * TLS writes, flushing, and the half-close after the last packet. A client that does not read
 * is disconnected once max_output_buffer is reached, never buffered without bound.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "mqtt.h"

static ssize_t io_write(mqtt_conn *c, const uint8_t *buf, size_t len)
{
    return inlet_support_stream_write(c->fd, c->ssl, buf, len);
}

/* ---- output ---- */

/* Output buffers of MQTT_OUT_SMALL bytes are recycled per loop: an acknowledgement is written
 * within the iteration that queued it, so a busy connection would otherwise malloc and free a
 * buffer for each one, and an idle connection must hold none. */
static uint8_t *out_get(mqtt_loop *loop)
{
    uint8_t *b = loop->free_out;
    if (b == NULL)
        return malloc(MQTT_OUT_SMALL);
    memcpy(&loop->free_out, b, sizeof(loop->free_out));
    loop->n_free_out--;
    return b;
}

void mqtt_conn_out_release(mqtt_conn *c)
{
    mqtt_loop *loop = c->loop;
    if (c->out != NULL && c->out_cap == MQTT_OUT_SMALL && loop->n_free_out < MQTT_OUT_CACHE) {
        memcpy(c->out, &loop->free_out, sizeof(loop->free_out));
        loop->free_out = c->out;
        loop->n_free_out++;
    } else {
        free(c->out);
    }
    c->out = NULL;
    c->out_off = c->out_len = c->out_cap = 0;
}

void mqtt_out_cache_free(mqtt_loop *loop)
{
    while (loop->free_out != NULL) {
        uint8_t *b = loop->free_out;
        memcpy(&loop->free_out, b, sizeof(loop->free_out));
        free(b);
    }
    loop->n_free_out = 0;
}

uint8_t *mqtt_conn_out_reserve(mqtt_conn *c, size_t len)
{
    mqtt_module *m = c->loop->m;
    if (c->state == MQTT_CONN_CLOSED)
        return NULL;
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    if ((uint64_t)c->out_len - c->out_off + len > m->cfg->max_output_buffer) {
        /* The client does not read what it asked for: never buffer without bound. */
        MQTT_LOG(m, INLET_LOG_DEBUG, "%s: a client stopped reading; %u bytes unsent, closing",
                 c->listener->name, c->out_len - c->out_off);
        mqtt_conn_abort(c, MQTT_CLOSE_SLOW_READER);
        return NULL;
    }
    if (c->out_len + len > c->out_cap) {
        if (c->out_off > 0) {
            memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
            c->out_len -= c->out_off;
            c->out_off = 0;
        }
        size_t cap = c->out_cap ? (size_t)c->out_cap * 2 : MQTT_OUT_SMALL;
        if (cap < c->out_len + len)
            cap = c->out_len + len;
        if (cap > m->cfg->max_output_buffer)
            cap = (size_t)m->cfg->max_output_buffer;
        uint8_t *p =
            c->out == NULL && cap == MQTT_OUT_SMALL ? out_get(c->loop) : realloc(c->out, cap);
        if (p == NULL) {
            mqtt_conn_abort(c, MQTT_CLOSE_INTERNAL);
            return NULL;
        }
        c->out = p;
        c->out_cap = (uint32_t)cap;
    }
    return c->out + c->out_len;
}

void mqtt_conn_out_commit(mqtt_conn *c, size_t len)
{
    c->out_len += (uint32_t)len;
    if (!c->in_flush) {
        mqtt_list_push(&c->loop->flush, &c->flush_link);
        c->in_flush = true;
    }
}

bool mqtt_conn_send(mqtt_conn *c, const uint8_t *data, size_t len)
{
    uint8_t *p = mqtt_conn_out_reserve(c, len);
    if (p == NULL)
        return false;
    memcpy(p, data, len);
    mqtt_conn_out_commit(c, len);
    return true;
}

/* All output of a closing connection is out: say so (FIN, or TLS close_notify and FIN) and
 * keep reading until the client closes too, so that unread input does not turn our close into
 * a reset that could destroy the DISCONNECT or CONNACK we just sent. */
static void shut_write(mqtt_conn *c)
{
    if (c->ssl != NULL) {
        ERR_clear_error();
        (void)SSL_shutdown(c->ssl);
        ERR_clear_error();
    }
    shutdown(c->fd, SHUT_WR);
}

void mqtt_conn_flush(mqtt_conn *c)
{
    if (c->state == MQTT_CONN_CLOSED || c->state == MQTT_CONN_TLS_HANDSHAKE)
        return;
    while (c->out_off < c->out_len) {
        ssize_t n = io_write(c, c->out + c->out_off, c->out_len - c->out_off);
        if (n > 0) {
            c->out_off += (uint32_t)n;
        } else if (n == IO_AGAIN || n == IO_AGAIN_READ) {
            c->want_write = n == IO_AGAIN; /* EPOLLOUT will come; else the next EPOLLIN */
            return;
        } else {
            mqtt_conn_abort(c, MQTT_CLOSE_IO_ERROR);
            return;
        }
    }
    mqtt_conn_out_release(c); /* an idle connection holds no buffer */
    if (c->state == MQTT_CONN_CLOSING) {
        if (c->eof) /* all said, and the client has finished too */
            mqtt_conn_abort(c, (enum mqtt_close_reason)c->close_reason);
        else
            shut_write(c);
    }
}
