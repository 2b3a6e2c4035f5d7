/*
 * conn.c - accepting connections and the per-connection state the module keeps.
 *
 * h2o owns the connection objects; the module hangs its own (struct http_conn: listener,
 * client-certificate verdict) on the socket's on_close hook, which h2o's server side leaves
 * unused, and finds it again from any request through the connection's socket.
 */
#include <stdlib.h>
#include <sys/socket.h>

#include "http.h"

/* Connections taken per wake-up of a listening socket, so that one busy listener does not
 * starve the loop's other sockets. */
#define HTTP_ACCEPT_BATCH 64

static void on_conn_close(void *data)
{
    http_conn *conn = data;
    http_module *m = conn->loop->m;
    h2o_linklist_unlink(&conn->link);
    if (conn->cert_identity != NULL)
        m->host->identity_release(conn->cert_identity);
    inlet_support_conn_release(&conn->ticket);
    http_budget_conn_closed(conn); /* the loop's next sweep no longer counts it */
    m->host->metric_add(m->metrics.connections, -1);
    free(conn);
}

http_conn *http_conn_of_socket(h2o_socket_t *sock)
{
    if (sock == NULL || sock->on_close.cb != on_conn_close)
        return NULL;
    return sock->on_close.data;
}

http_conn *http_conn_of(h2o_req_t *req)
{
    return http_conn_of_socket(req->conn->callbacks->get_socket(req->conn));
}

/*
 * The listener's connection limits, before h2o allocates anything for the connection. Behind a
 * PROXY protocol load balancer the socket's peer is the balancer, so only the listener's own
 * limit applies there (the device's address is known only once h2o read the PROXY line).
 */
static bool admit(http_module *m, http_loop_listener *ll, h2o_socket_t *sock,
                  inlet_support_conn_ticket *t)
{
    const inlet_support_listener *l = ll->base.listener;
    struct sockaddr_storage peer;
    const struct sockaddr *sa = NULL;

    if (!http_listener_cfg(l)->proxy_protocol &&
        h2o_socket_getpeername(sock, (struct sockaddr *)&peer) != 0)
        sa = (const struct sockaddr *)&peer;
    switch (inlet_support_conn_admit(l, sa, t)) {
    case INLET_SUPPORT_CONN_ADMITTED:
        return true;
    case INLET_SUPPORT_CONN_LISTENER_FULL:
        m->host->metric_add(m->metrics.refused_listener, 1);
        break;
    case INLET_SUPPORT_CONN_ADDRESS_FULL:
        m->host->metric_add(m->metrics.refused_address, 1);
        break;
    }
    return false;
}

void http_conn_on_accept(h2o_socket_t *listen_sock, const char *err)
{
    http_loop_listener *ll = listen_sock->data;
    http_loop *loop = (http_loop *)ll->base.loop;
    http_module *m = loop->m;

    if (err != NULL)
        return;
    for (int i = 0; i < HTTP_ACCEPT_BATCH; i++) {
        h2o_socket_t *sock = h2o_evloop_socket_accept(listen_sock);
        if (sock == NULL)
            break;
        inlet_support_conn_ticket ticket;
        if (!admit(m, ll, sock, &ticket)) {
            h2o_socket_close(sock);
            continue;
        }
        http_conn *conn = calloc(1, sizeof(*conn));
        if (conn == NULL) {
            inlet_support_conn_release(&ticket);
            h2o_socket_close(sock);
            continue;
        }
        conn->ticket = ticket;
        conn->loop = loop;
        conn->listener = ll->base.listener;
        conn->sock = sock;
        h2o_linklist_insert(&loop->conns, &conn->link);
        sock->on_close.cb = on_conn_close;
        sock->on_close.data = conn;
        m->host->metric_add(m->metrics.connections, 1);
        m->host->metric_add(m->metrics.connections_total, 1);
        h2o_accept(&ll->accept_ctx, sock);
    }
}

bool http_conns_writing(http_loop *loop)
{
    for (h2o_linklist_t *n = loop->conns.next; n != &loop->conns; n = n->next)
        if (h2o_socket_is_writing(H2O_STRUCT_FROM_MEMBER(http_conn, link, n)->sock))
            return true;
    return false;
}

void http_conns_shutdown(http_loop *loop)
{
    /* h2o then sees an error on each socket and closes the connection its usual way,
     * freeing everything it holds for it. */
    for (h2o_linklist_t *n = loop->conns.next; n != &loop->conns; n = n->next)
        shutdown(h2o_socket_get_fd(H2O_STRUCT_FROM_MEMBER(http_conn, link, n)->sock), SHUT_RDWR);
}
