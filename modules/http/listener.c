/*
 * listener.c - listener addresses and listening sockets.
 *
 * Every loop binds its own socket for every listener with SO_REUSEPORT, so that the kernel
 * spreads connections over the loops. The binds happen in start(), on the core's thread, so
 * that "address in use" is reported to the operator before anything runs.
 */
#include <netdb.h>
#include <stdio.h>

#include "http.h"

int http_listener_resolve(http_listener *l, const char *address, char *err, size_t err_len)
{
    snprintf(l->name, sizeof(l->name), "%s", address);
    return inlet_support_addr_resolve(address, &l->addr, &l->addrlen, err, err_len);
}

int http_listener_bind(http_listener *l, bool first, char *err, size_t err_len)
{
    char why[160];
    int fd = inlet_support_listen(&l->addr, l->addrlen, H2O_SOMAXCONN, first, why, sizeof(why));
    if (fd < 0)
        snprintf(err, err_len, "listeners[%zu] %s: %s", l->index, l->name, why);
    return fd;
}

void http_listener_describe(const http_listener *l, char *buf, size_t len)
{
    char host[NI_MAXHOST], port[NI_MAXSERV];
    if (getnameinfo((const struct sockaddr *)&l->addr, l->addrlen, host, sizeof(host), port,
                    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(buf, len, "%s", l->name);
        return;
    }
    snprintf(buf, len, l->addr.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
}
