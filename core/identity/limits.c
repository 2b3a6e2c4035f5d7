/*
 * limits.c - see limits.h. A burst of 0 means one second's worth, so a configured rate always
 * has a bucket that can hold at least one event; a device's -1 fields take the tenant's
 * device_limits value.
 */
#include "limits.h"

#include <stdlib.h>
#include <string.h>

#include "device_table.h"
#include "ident_error.h"

static void resolve(inlet_limits *l)
{
    if (l->burst <= 0)
        l->burst = l->events_per_second;
    if (l->bytes_burst <= 0)
        l->bytes_burst = l->bytes_per_second;
}

static int64_t pick(int64_t own, int64_t inherited)
{
    return own < 0 ? inherited : own;
}

int inlet_limits_build(inlet_tenant *t, const inlet_tenant_conf *c, const char *where, char *err,
                       size_t err_len)
{
    const inlet_device_conf *dc = c->devices.items;

    t->limits = c->limits;
    resolve(&t->limits);
    t->device_limits = c->device_limits;
    /* merge before resolving: a device that sets only events_per_second gets its own burst */
    for (size_t i = 0; i < c->devices.count; i++) {
        inlet_device *d = (inlet_device *)inlet_device_table_find(&t->devices, dc[i].id);
        const inlet_limits *own = &dc[i].limits, *base = &c->device_limits;
        if (!d)
            continue;
        d->limits.events_per_second = pick(own->events_per_second, base->events_per_second);
        d->limits.burst =
            own->events_per_second >= 0 && own->burst < 0 ? 0 : pick(own->burst, base->burst);
        d->limits.bytes_per_second = pick(own->bytes_per_second, base->bytes_per_second);
        d->limits.bytes_burst = own->bytes_per_second >= 0 && own->bytes_burst < 0
                                    ? 0
                                    : pick(own->bytes_burst, base->bytes_burst);
        d->limits.connections = pick(own->connections, base->connections);
        resolve(&d->limits);
    }
    resolve(&t->device_limits);

    if (c->dead_letter.topic) {
        const char *s = c->dead_letter.topic;
        size_t len = strlen(s);
        if (len == 0 || len > 249)
            return inlet_ident_errf(err, err_len, "%s: dead_letter.topic: 1..249 characters",
                                    where);
        for (size_t i = 0; i < len; i++) {
            char ch = s[i];
            if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
                return inlet_ident_errf(err, err_len,
                                        "%s: dead_letter.topic: only A-Z a-z 0-9 . _ -", where);
        }
        t->dead_letter_topic = strdup(s);
        if (!t->dead_letter_topic)
            return inlet_ident_errf(err, err_len, "%s: out of memory", where);
        t->dead_letter_rate = c->dead_letter.rate;
    }
    return 0;
}
