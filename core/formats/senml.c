/*
 * senml.c - SenML packs (RFC 8428) into events, see formats.h.
 *
 * senml_records.c resolves each record; here records that share a resolved time and base name
 * become one event, since a pack links measurements taken together through their time
 * (§4.5.4) and a base name names the thing measured (§5.1.6: one pack, two devices, two events
 * per time). Events
 * come in the order of their first record, fields in record order. Sorting by time and name
 * finds the groups and any repeated name in O(n log n), whatever the pack's size.
 */
#include "formats/formats.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/senml_records.h"

typedef struct slot {
    const inlet_senml_record *rec;
    const char *key; /* the payload field: n as written, else the resolved name */
    uint32_t key_len;
    uint32_t group;
} slot;

static int key_cmp(const slot *a, const slot *b)
{
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(a->key, b->key, n);

    if (c)
        return c;
    return a->key_len < b->key_len ? -1 : a->key_len > b->key_len;
}

/* The base name in force for a record: its resolved name without the name as written. */
static int base_cmp(const slot *a, const slot *b)
{
    size_t na = a->rec->name_len - a->rec->n_len, nb = b->rec->name_len - b->rec->n_len;
    int c = memcmp(a->rec->name, b->rec->name, na < nb ? na : nb);

    if (c)
        return c;
    return na < nb ? -1 : na > nb;
}

static int by_time_key_index(const void *pa, const void *pb)
{
    const slot *a = *(const slot *const *)pa, *b = *(const slot *const *)pb;
    int c;

    if (a->rec->time_s != b->rec->time_s)
        return a->rec->time_s < b->rec->time_s ? -1 : 1;
    c = base_cmp(a, b);
    if (c)
        return c;
    c = key_cmp(a, b);
    if (c)
        return c;
    return a->rec->index < b->rec->index ? -1 : a->rec->index > b->rec->index;
}

typedef struct group {
    uint32_t first; /* index of its first record */
    uint32_t count;
    uint32_t rank; /* position among the events */
} group;

static int by_first(const void *pa, const void *pb)
{
    const group *a = *(const group *const *)pa, *b = *(const group *const *)pb;
    return a->first < b->first ? -1 : a->first > b->first;
}

static int out_of_memory(inlet_format_error *err)
{
    err->offset = 0;
    err->pointer[0] = '\0';
    snprintf(err->message, sizeof(err->message), "out of memory resolving SenML");
    return -1;
}

/* Group the sorted slots into runs of one time; refuse a name repeated within a run, naming
 * the repeat that comes first in the pack. Returns the number of groups, or -1. */
static long find_groups(slot **sorted, size_t n, group *groups, inlet_format_error *err)
{
    uint32_t dup = UINT32_MAX, dup_of = 0;
    long n_groups = 0;

    for (size_t i = 0; i < n; i++) {
        const slot *s = sorted[i];
        if (i == 0 || s->rec->time_s != sorted[i - 1]->rec->time_s ||
            base_cmp(s, sorted[i - 1]) != 0) {
            groups[n_groups] = (group){.first = s->rec->index};
            n_groups++;
        } else if (key_cmp(s, sorted[i - 1]) == 0 && s->rec->index < dup) {
            dup = s->rec->index;
            dup_of = sorted[i - 1]->rec->index;
        }
        group *g = &groups[n_groups - 1];
        if (s->rec->index < g->first)
            g->first = s->rec->index;
        g->count++;
        sorted[i]->group = (uint32_t)(n_groups - 1);
    }
    if (dup != UINT32_MAX) {
        const slot *s = NULL;
        for (size_t i = 0; i < n && !s; i++)
            if (sorted[i]->rec->index == dup)
                s = sorted[i];
        err->offset = 0;
        snprintf(err->pointer, sizeof(err->pointer), "/%" PRIu32, dup);
        snprintf(err->message, sizeof(err->message),
                 "record %" PRIu32 ": field \"%.*s\" is already set at this time by record "
                 "%" PRIu32 "; records of one time and base name become one event, so their "
                 "names must differ",
                 dup, s->key_len > 64 ? 64 : (int)s->key_len, s->key, dup_of);
        return -1;
    }
    return n_groups;
}

int inlet_senml_resolve(inlet_arena *a, const inlet_value *pack, int64_t received_at_us,
                        inlet_senml_event **events, size_t *n_events, inlet_format_error *err)
{
    inlet_senml_record *recs;
    inlet_senml_event *ev;
    size_t n;
    slot *slots, **sorted;
    group *groups, **ranked;
    long n_groups;

    *events = NULL;
    *n_events = 0;
    if (inlet_senml_resolve_records(a, pack, received_at_us, &recs, &n, err) != 0)
        return -1;
    slots = inlet_arena_alloc(a, sizeof(*slots) * n);
    sorted = inlet_arena_alloc(a, sizeof(*sorted) * n);
    groups = inlet_arena_alloc(a, sizeof(*groups) * n);
    ranked = inlet_arena_alloc(a, sizeof(*ranked) * n);
    if (!slots || !sorted || !groups || !ranked)
        return out_of_memory(err);
    for (size_t i = 0; i < n; i++) {
        const inlet_senml_record *r = &recs[i];
        slots[i].rec = r;
        /* the name as written keeps payload fields short; without one, the full name */
        slots[i].key = r->n_len ? r->n : r->name;
        slots[i].key_len = r->n_len ? r->n_len : r->name_len;
        sorted[i] = &slots[i];
    }
    qsort(sorted, n, sizeof(*sorted), by_time_key_index);
    n_groups = find_groups(sorted, n, groups, err);
    if (n_groups < 0)
        return -1;

    for (long g = 0; g < n_groups; g++)
        ranked[g] = &groups[g];
    qsort(ranked, (size_t)n_groups, sizeof(*ranked), by_first);
    ev = inlet_arena_calloc(a, sizeof(*ev) * (size_t)n_groups);
    if (!ev)
        return out_of_memory(err);
    for (long k = 0; k < n_groups; k++) {
        group *g = ranked[k];
        inlet_value *payload = inlet_arena_calloc(a, sizeof(*payload));
        g->rank = (uint32_t)k;
        ev[k].time_s = recs[g->first].time_s;
        ev[k].payload = payload;
        ev[k].units = inlet_arena_calloc(a, sizeof(*ev[k].units) * g->count);
        if (!payload || !ev[k].units)
            return out_of_memory(err);
        payload->type = INLET_V_OBJECT;
        payload->u.members = inlet_arena_calloc(a, sizeof(inlet_member) * g->count);
        if (!payload->u.members)
            return out_of_memory(err);
    }
    /* fields in record order */
    for (size_t i = 0; i < n; i++) {
        const slot *s = &slots[i];
        inlet_senml_event *e = &ev[groups[s->group].rank];
        inlet_member *m = &e->payload->u.members[e->payload->n];
        m->key = s->key;
        m->key_len = s->key_len;
        m->value = s->rec->value;
        e->units[e->payload->n] = s->rec->unit;
        e->payload->n++;
    }
    *events = ev;
    *n_events = (size_t)n_groups;
    return 0;
}
