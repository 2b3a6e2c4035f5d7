/*
 * listeners.c - a module's configured listeners: resolved, checked and given their server TLS
 * contexts at create(), on the core's thread, so that every mistake is reported before anything
 * runs (see support.h for the option table entries that configure them).
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

const char *const inlet_support_client_auth_values[] = {"none", "optional", "require", NULL};
const char *const inlet_support_tls_version_values[] = {"tls1.2", "tls1.3", NULL};

static int listener_init(inlet_support_listener *ls, size_t i, const char *address,
                         const inlet_support_tls_setup *setup, char *err, size_t err_len)
{
    inlet_support_listener *l = &ls[i];
    char why[200];

    l->index = i;
    snprintf(l->name, sizeof(l->name), "%s", address);
    if (inlet_support_addr_resolve(address, &l->addr, &l->addrlen, why, sizeof(why)) != 0) {
        snprintf(err, err_len, "listeners[%zu].address: %s", i, why);
        return -1;
    }
    for (size_t j = 0; j < i; j++) {
        if (ls[j].addrlen == l->addrlen && memcmp(&ls[j].addr, &l->addr, l->addrlen) == 0) {
            snprintf(err, err_len, "listeners[%zu].address: %s is already listeners[%zu]", i,
                     l->name, j);
            return -1;
        }
    }
    if (l->tls->cert == NULL)
        return 0;
    l->ssl_ctx = inlet_support_tls_server_new(l->tls, setup, i, why, sizeof(why));
    if (l->ssl_ctx == NULL) {
        snprintf(err, err_len, "listeners[%zu].tls.%s", i, why);
        return -1;
    }
    if (setup->ready != NULL)
        setup->ready(l->ssl_ctx, l);
    return 0;
}

int inlet_support_listeners_new(inlet_support_listener **out, size_t *n,
                                const inlet_section_list *list, size_t item_size, size_t address_at,
                                size_t tls_at, const inlet_support_tls_setup *setup, char *err,
                                size_t err_len)
{
    *out = NULL;
    *n = 0;
    if (list->count == 0) {
        snprintf(err, err_len, "listeners: at least one listener is needed");
        return -1;
    }
    /* Every section is checked before any file is read: the cheap mistakes first. */
    for (size_t i = 0; i < list->count; i++) {
        const char *item = (const char *)list->items + i * item_size;
        const inlet_support_tls_config *tls = (const void *)(item + tls_at);
        if (inlet_support_tls_config_check(i, tls, err, err_len) != 0)
            return -1;
    }
    *out = calloc(list->count, sizeof(**out));
    if (*out == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    /* A module that does not configure limits still gets the documented defaults. */
    const inlet_support_conn_limits_config defaults = {
        atoll(INLET_SUPPORT_MAX_CONNECTIONS_DEFAULT),
        atoll(INLET_SUPPORT_MAX_CONNECTIONS_PER_IP_DEFAULT)};
    for (size_t i = 0; i < list->count; i++) {
        const char *item = (const char *)list->items + i * item_size;
        inlet_support_listener *l = &(*out)[i];
        *n = i + 1;
        l->cfg = item;
        l->tls = (const void *)(item + tls_at);
        const char *address = *(char *const *)(const void *)(item + address_at);
        if (listener_init(*out, i, address, setup, err, err_len) != 0 ||
            inlet_support_listener_set_limits(l, &defaults, err, err_len) != 0)
            return -1;
    }
    return 0;
}

void inlet_support_listeners_free(inlet_support_listener *ls, size_t n)
{
    for (size_t i = 0; ls != NULL && i < n; i++) {
        SSL_CTX_free(ls[i].ssl_ctx);
        inlet_support_listener_free_limits(&ls[i]);
    }
    free(ls);
}

/* "address:port" as bound (an ephemeral port shows its number once the first loop bound it). */
static void describe(const inlet_support_listener *l, char *buf, size_t len)
{
    char host[NI_MAXHOST], port[NI_MAXSERV];
    if (getnameinfo((const struct sockaddr *)&l->addr, l->addrlen, host, sizeof(host), port,
                    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(buf, len, "%s", l->name);
        return;
    }
    snprintf(buf, len, l->addr.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
}

void inlet_support_listeners_log(const inlet_host *host, inlet_module_ctx *mod,
                                 const inlet_support_listener *ls, size_t n, const char *scheme,
                                 const char *tls_scheme)
{
    static const char *const auth_note[] = {"", ", mTLS optional", ", mTLS"};
    for (size_t i = 0; i < n; i++) {
        const inlet_support_listener *l = &ls[i];
        char where[NI_MAXHOST + 16];
        describe(l, where, sizeof(where));
        host->log(mod, INLET_LOG_INFO, "listening on %s (%s%s)", where,
                  l->ssl_ctx != NULL ? tls_scheme : scheme,
                  l->ssl_ctx != NULL ? auth_note[l->tls->client_auth] : "");
    }
}
