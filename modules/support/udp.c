/* udp.c - bound UDP sockets and printable peer addresses (inlet/support.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "inlet/support.h"

char *inlet_support_addr_format(const struct sockaddr *addr, char *out, size_t out_len)
{
    char ip[INET6_ADDRSTRLEN];
    if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)addr;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
        snprintf(out, out_len, "%s:%u", ip, ntohs(a->sin_port));
    } else if (addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)addr;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
        snprintf(out, out_len, "[%s]:%u", ip, ntohs(a->sin6_port));
    } else {
        snprintf(out, out_len, "?");
    }
    return out;
}

int inlet_support_udp_bind(const char *address, char *bound, size_t bound_len, char *err,
                           size_t err_len)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    if (inlet_support_addr_resolve(address, &ss, &len, err, err_len) != 0)
        return -1;
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, err_len, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    if (ss.ss_family == AF_INET6)
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
        snprintf(err, err_len, "%s: bind: %s", address, strerror(errno));
        close(fd);
        return -1;
    }
    len = sizeof(ss);
    if (bound && getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        inlet_support_addr_format((struct sockaddr *)&ss, bound, bound_len);
    return fd;
}
