/* event_fields.c - see event_fields.h. */
#include "event_fields.h"

#include <stdio.h>
#include <string.h>

#include "formats/rfc3339.h"
#include "pipeline/event_id.h"

#define N_FIELDS 6
enum { F_DEVICE, F_TS, F_USE_CASE, F_SCHEMA, F_EVENT_ID, F_PAYLOAD };

/* Which event field a key names, by length first: one memcmp per member. */
static int field_of(const char *k, size_t n)
{
    switch (n) {
    case 2:
        return memcmp(k, "ts", 2) == 0 ? F_TS : -1;
    case 6:
        return memcmp(k, "schema", 6) == 0 ? F_SCHEMA : -1;
    case 7:
        return memcmp(k, "payload", 7) == 0 ? F_PAYLOAD : -1;
    case 8:
        return memcmp(k, "use_case", 8) == 0   ? F_USE_CASE
               : memcmp(k, "event_id", 8) == 0 ? F_EVENT_ID
                                               : -1;
    case 9:
        return memcmp(k, "device_id", 9) == 0 ? F_DEVICE : -1;
    default:
        return -1;
    }
}

/* A ts already written the way inlet_rfc3339_format writes it (UTC "Z", 0 or 3 fractional
 * digits, no leap second) is kept as it is once it parsed. */
static int ts_is_canonical(const char *s, size_t n)
{
    return (n == 24 || n == 20) && s[10] == 'T' && s[n - 1] == 'Z' && s[17] != '6' &&
           (n == 20 || s[19] == '.');
}

static int is_string(const inlet_value *v)
{
    return v->type == INLET_V_STRING;
}

inlet_status inlet_event_fields_parse(const inlet_request *req, size_t index, const inlet_value *ev,
                                      inlet_event_parts *parts, inlet_rejection_builder *b)
{
    const inlet_identity *id = req->identity;
    const inlet_value *field[N_FIELDS] = {NULL};
    inlet_status st = INLET_OK;
    char msg[512];

    if (ev->type != INLET_V_OBJECT) {
        inlet_rejection_add(b, index, INLET_E_INVALID, "", "an event must be an object");
        return INLET_E_INVALID;
    }
    /* One pass over the members: known fields are picked up, unknown ones refused. */
    for (uint32_t i = 0; i < ev->n; i++) {
        const inlet_member *m = &ev->u.members[i];
        int k = field_of(m->key, m->key_len);
        if (k >= 0) {
            field[k] = &m->value;
            continue;
        }
        char ptr[300];
        snprintf(ptr, sizeof(ptr), "/%.250s", m->key);
        inlet_rejection_add(b, index, INLET_E_INVALID, ptr,
                            "unknown event field (expected device_id, ts, use_case, schema, "
                            "event_id, payload)");
        st = INLET_E_INVALID;
    }

    /* The device may name itself, but only as the identity it authenticated as. */
    const inlet_value *dev = field[F_DEVICE];
    if (dev && !is_string(dev)) {
        inlet_rejection_add(b, index, INLET_E_INVALID, "/device_id", "expected a string");
        st = INLET_E_INVALID;
    } else if (dev &&
               (dev->n != strlen(id->device_id) || memcmp(dev->u.s, id->device_id, dev->n) != 0)) {
        snprintf(msg, sizeof(msg),
                 "device \"%.128s\" does not match the authenticated device "
                 "\"%.128s\" of tenant \"%.64s\"",
                 dev->u.s, id->device_id, id->tenant);
        inlet_rejection_add(b, index, INLET_E_FORBIDDEN, "/device_id", msg);
        return INLET_E_FORBIDDEN;
    }

    const inlet_value *uc = field[F_USE_CASE], *sv = field[F_SCHEMA];
    parts->schema_name = req->schema;
    parts->schema_version = req->schema_version;
    if (uc && !is_string(uc)) {
        inlet_rejection_add(b, index, INLET_E_INVALID, "/use_case", "expected a string");
        st = INLET_E_INVALID;
    } else if (uc) {
        parts->schema_name = uc->u.s;
    }
    if (sv && !is_string(sv)) {
        inlet_rejection_add(b, index, INLET_E_INVALID, "/schema",
                            "expected a string such as \"v1\"");
        st = INLET_E_INVALID;
    } else if (sv) {
        parts->schema_version = sv->u.s;
    }
    if (!parts->schema_name) {
        inlet_rejection_add(b, index, INLET_E_INVALID, "/use_case",
                            "required: the schema name, e.g. \"fleet.position\"");
        st = INLET_E_INVALID;
    }
    if (!parts->schema_version) {
        inlet_rejection_add(b, index, INLET_E_INVALID, "/schema",
                            "required: the schema version, e.g. \"v1\"");
        st = INLET_E_INVALID;
    }

    const inlet_value *ts = field[F_TS];
    parts->ts[0] = '\0';
    if (ts) {
        inlet_time t;
        if (!is_string(ts) || inlet_rfc3339_parse(ts->u.s, ts->n, &t) != 0 ||
            (ts_is_canonical(ts->u.s, ts->n)
                 ? (memcpy(parts->ts, ts->u.s, ts->n + 1), 0)
                 : inlet_rfc3339_format(&t, parts->ts, sizeof(parts->ts)) == 0)) {
            inlet_rejection_add(b, index, INLET_E_INVALID, "/ts",
                                "expected an RFC 3339 date-time such as "
                                "\"2026-11-21T10:15:30.123Z\"");
            st = INLET_E_INVALID;
        }
    }

    const inlet_value *eid = field[F_EVENT_ID];
    parts->event_id = NULL;
    if (eid) {
        if (!is_string(eid) || !inlet_event_id_valid(eid->u.s, eid->n)) {
            inlet_rejection_add(b, index, INLET_E_INVALID, "/event_id",
                                "expected 1 to 64 characters of A-Z a-z 0-9 . _ : -");
            st = INLET_E_INVALID;
        } else {
            parts->event_id = eid->u.s;
            parts->event_id_len = eid->n;
        }
    }

    parts->payload = field[F_PAYLOAD];
    parts->units = NULL;
    if (!parts->payload) {
        inlet_rejection_add(b, index, INLET_E_INVALID, "/payload", "required");
        st = INLET_E_INVALID;
    }
    return st;
}
