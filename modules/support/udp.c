/* udp.c - bound UDP sockets (inlet/support.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "inlet/support.h"

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
