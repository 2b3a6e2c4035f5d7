/*
 * accept.c - accepting connections on an epoll loop's listening sockets: a bounded batch per
 * readiness, the listener's connection limits before anything is allocated, and a one-second
 * pause when the process is out of descriptors or memory (the listening socket stays readable,
 * so without the pause the loop would spin on it).
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "support.h"

/* Watch (events EPOLLIN) or stop watching (0) every listening socket the loop still has. */
static void listeners_watch(inlet_support_acceptor *a, uint32_t events)
{
    inlet_support_loop *l = a->loop;
    for (size_t i = 0; i < l->set->n_listeners; i++) {
        inlet_support_loop_listener *ll = inlet_support_loop_listener_at(l, i);
        struct epoll_event ev;
        if (ll->fd < 0)
            continue;
        memset(&ev, 0, sizeof(ev));
        ev.events = events;
        ev.data.ptr = (char *)ll + a->tag_at;
        epoll_ctl(a->epfd, EPOLL_CTL_MOD, ll->fd, &ev);
    }
}

void inlet_support_accept_run(inlet_support_acceptor *a, inlet_support_loop_listener *ll,
                              uint64_t now_ms)
{
    const inlet_host *host = a->loop->set->host;

    for (int i = 0; i < a->batch && ll->fd >= 0; i++) {
        struct sockaddr_storage peer;
        socklen_t peer_len = sizeof(peer);
        int fd = accept4(ll->fd, (struct sockaddr *)&peer, &peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            inlet_support_conn_ticket ticket;
            switch (inlet_support_conn_admit(ll->listener, (struct sockaddr *)&peer, &ticket)) {
            case INLET_SUPPORT_CONN_ADMITTED:
                /* ownership of fd and ticket passes to the module */
                a->accepted(a->loop, ll->listener, fd, &peer, &ticket);
                break;
            case INLET_SUPPORT_CONN_LISTENER_FULL:
                if (a->refused_listener)
                    host->metric_add(a->refused_listener, 1);
                close(fd);
                break;
            case INLET_SUPPORT_CONN_ADDRESS_FULL:
                if (a->refused_address)
                    host->metric_add(a->refused_address, 1);
                close(fd);
                break;
            }
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            host->log(a->loop->set->mod, INLET_LOG_WARN,
                      "loop %zu: accept: %s; pausing accept for 1s", a->loop->index,
                      strerror(errno));
            a->paused = true;
            a->resume_ms = now_ms + 1000;
            listeners_watch(a, 0);
        }
        return; /* EAGAIN and anything else: wait for the next readiness */
    }
}

bool inlet_support_accept_tick(inlet_support_acceptor *a, uint64_t now_ms)
{
    if (!a->paused)
        return false;
    if (now_ms >= a->resume_ms) {
        a->paused = false;
        listeners_watch(a, EPOLLIN);
    }
    return true;
}
