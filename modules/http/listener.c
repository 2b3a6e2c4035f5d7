/*
 * listener.c - listener addresses and listening sockets.
 *
 * Every loop binds its own socket for every listener with SO_REUSEPORT, so that the kernel
 * spreads connections over the loops. The binds happen in start(), on the core's thread, so
 * that "address in use" is reported to the operator before anything runs.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"

int http_listener_resolve(http_listener *l, const char *address, char *err, size_t err_len)
{
    char host[256];
    const char *port;
    struct addrinfo hints, *res = NULL;

    snprintf(l->name, sizeof(l->name), "%s", address);
    if (address[0] == '[') {
        const char *close = strchr(address, ']');
        if (close == NULL || close[1] != ':' || (size_t)(close - address - 1) >= sizeof(host)) {
            snprintf(err, err_len, "\"%s\" is not [ipv6]:port", address);
            return -1;
        }
        memcpy(host, address + 1, (size_t)(close - address - 1));
        host[close - address - 1] = '\0';
        port = close + 2;
    } else {
        const char *colon = strrchr(address, ':');
        if (colon == NULL || (size_t)(colon - address) >= sizeof(host) ||
            strchr(address, ':') != colon) {
            snprintf(err, err_len, "\"%s\" is not host:port", address);
            return -1;
        }
        memcpy(host, address, (size_t)(colon - address));
        host[colon - address] = '\0';
        port = colon + 1;
    }
    char *end;
    long pnum = strtol(port, &end, 10);
    if (port[0] == '\0' || *end != '\0' || pnum < 0 || pnum > 65535) {
        snprintf(err, err_len, "\"%s\": bad port", address);
        return -1;
    }

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    bool any = host[0] == '\0' || strcmp(host, "*") == 0;
    int rc = getaddrinfo(any ? "0.0.0.0" : host, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, err_len, "\"%s\": %s", address, gai_strerror(rc));
        return -1;
    }
    memcpy(&l->addr, res->ai_addr, res->ai_addrlen);
    l->addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static int bind_listener(const struct sockaddr *addr, socklen_t addrlen, char *err, size_t err_len)
{
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int on = 1;
    if (fd < 0) {
        snprintf(err, err_len, "socket: %s", strerror(errno));
        return -1;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0) {
        snprintf(err, err_len, "setsockopt: %s", strerror(errno));
        goto fail;
    }
    if (addr->sa_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
    if (bind(fd, addr, addrlen) != 0) {
        snprintf(err, err_len, "bind: %s", strerror(errno));
        goto fail;
    }
    if (listen(fd, H2O_SOMAXCONN) != 0) {
        snprintf(err, err_len, "listen: %s", strerror(errno));
        goto fail;
    }
    return fd;

fail:
    close(fd);
    return -1;
}

/*
 * SO_REUSEPORT lets a second process of the same user bind the same port silently and steal
 * half of its connections. Probing with a plain bind first turns that into "address in use";
 * SO_REUSEADDR on the probe keeps TIME_WAIT leftovers of a previous run from failing it.
 */
static int probe_address_free(const struct sockaddr *addr, socklen_t addrlen, char *err,
                              size_t err_len)
{
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int on = 1;
    if (fd < 0) {
        snprintf(err, err_len, "socket: %s", strerror(errno));
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (addr->sa_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
    int rc = bind(fd, addr, addrlen);
    int e = errno;
    close(fd);
    if (rc != 0) {
        snprintf(err, err_len, "bind: %s", strerror(e));
        return -1;
    }
    return 0;
}

static in_port_t addr_port(const struct sockaddr_storage *ss)
{
    return ss->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)ss)->sin6_port
                                     : ((const struct sockaddr_in *)ss)->sin_port;
}

int http_listener_bind(http_listener *l, bool first, char *err, size_t err_len)
{
    char why[160];
    if (first && addr_port(&l->addr) != 0 &&
        probe_address_free((struct sockaddr *)&l->addr, l->addrlen, why, sizeof(why)) != 0)
        goto fail;
    int fd = bind_listener((struct sockaddr *)&l->addr, l->addrlen, why, sizeof(why));
    if (fd < 0)
        goto fail;
    if (first) {
        /* fix an ephemeral port (":0") so that every loop binds the same one */
        struct sockaddr_storage actual;
        socklen_t len = sizeof(actual);
        if (getsockname(fd, (struct sockaddr *)&actual, &len) == 0 && len == l->addrlen)
            memcpy(&l->addr, &actual, len);
    }
    return fd;

fail:
    snprintf(err, err_len, "listeners[%zu] %s: %s", l->index, l->name, why);
    return -1;
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
