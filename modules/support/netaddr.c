/*
 * netaddr.c - listener addresses and listening sockets.
 *
 * Every loop binds its own socket for every listener with SO_REUSEPORT, so that the kernel
 * spreads connections over the loops.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inlet/support.h"

/* Split address into host and port; port points into address. */
static int split_host_port(const char *address, char *host, size_t host_len, const char **port,
                           char *err, size_t err_len)
{
    if (address[0] == '[') {
        const char *close = strchr(address, ']');
        if (close == NULL || close[1] != ':' || (size_t)(close - address - 1) >= host_len) {
            snprintf(err, err_len, "\"%s\" is not [ipv6]:port", address);
            return -1;
        }
        memcpy(host, address + 1, (size_t)(close - address - 1));
        host[close - address - 1] = '\0';
        *port = close + 2;
        return 0;
    }
    const char *colon = strrchr(address, ':');
    if (colon == NULL || (size_t)(colon - address) >= host_len || strchr(address, ':') != colon) {
        snprintf(err, err_len, "\"%s\" is not host:port", address);
        return -1;
    }
    memcpy(host, address, (size_t)(colon - address));
    host[colon - address] = '\0';
    *port = colon + 1;
    return 0;
}

int inlet_support_addr_resolve(const char *address, struct sockaddr_storage *addr,
                               socklen_t *addrlen, char *err, size_t err_len)
{
    char host[256];
    const char *port;
    struct addrinfo hints, *res = NULL;

    if (split_host_port(address, host, sizeof(host), &port, err, err_len) != 0)
        return -1;
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
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    *addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static int bind_listener(const struct sockaddr *addr, socklen_t addrlen, int backlog, char *err,
                         size_t err_len)
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
    if (listen(fd, backlog) != 0) {
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

int inlet_support_listen(struct sockaddr_storage *addr, socklen_t addrlen, int backlog, bool first,
                         char *err, size_t err_len)
{
    if (first && addr_port(addr) != 0 &&
        probe_address_free((struct sockaddr *)addr, addrlen, err, err_len) != 0)
        return -1;
    int fd = bind_listener((struct sockaddr *)addr, addrlen, backlog, err, err_len);
    if (fd < 0)
        return -1;
    if (first) {
        /* fix an ephemeral port (":0") so that every loop binds the same one */
        struct sockaddr_storage actual;
        socklen_t len = sizeof(actual);
        if (getsockname(fd, (struct sockaddr *)&actual, &len) == 0 && len == addrlen)
            memcpy(addr, &actual, len);
    }
    return fd;
}

char *inlet_support_addr_format(const struct sockaddr *sa, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN];
    if (cap)
        out[0] = '\0';
    if (sa == NULL)
        return out;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        if (inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host)))
            snprintf(out, cap, "%s:%u", host, (unsigned)ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            if (inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], host, sizeof(host)))
                snprintf(out, cap, "%s:%u", host, (unsigned)ntohs(in6->sin6_port));
        } else if (inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host))) {
            snprintf(out, cap, "[%s]:%u", host, (unsigned)ntohs(in6->sin6_port));
        }
    }
    return out;
}

void inlet_support_peer_of_fd(int fd, char *out, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0) {
        if (cap)
            out[0] = '\0';
        return;
    }
    inlet_support_addr_format((struct sockaddr *)&ss, out, cap);
}
