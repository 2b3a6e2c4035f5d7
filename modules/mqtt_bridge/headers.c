/* headers.c - see headers.h. */
#include "headers.h"

#include <string.h>
#include <strings.h>

/* Names a device must not set: the core's own headers and ours. */
static bool reserved_header(const char *name, size_t len)
{
    return (len >= 6 && strncasecmp(name, "inlet-", 6) == 0) ||
           (len == 12 && strncasecmp(name, "content-type", 12) == 0) ||
           (len == 10 && strncasecmp(name, "mqtt-topic", 10) == 0);
}

/* MQTT 5.0 §3.3.2.3.7: user properties, in order. */
void bridge_headers_collect(const bridge_upstream_config *cfg, const char *topic, size_t topic_len,
                            const MQTTAsync_message *msg, bridge_headers *hd)
{
    hd->n = 0;
    hd->names_used = 0;
    hd->event_id[0] = '\0';
    hd->h[hd->n++] = (inlet_header){"mqtt-topic", topic, topic_len};

    if (cfg->mqtt_version != BRIDGE_MQTT_5 || msg->struct_version < 1)
        return;
    const MQTTProperties *props = &msg->properties;
    for (int i = 0; i < props->count; i++) {
        const MQTTProperty *p = &props->array[i];
        if (p->identifier != MQTTPROPERTY_CODE_USER_PROPERTY)
            continue;
        const char *name = p->value.data.data;
        size_t nlen = p->value.data.len > 0 ? (size_t)p->value.data.len : 0;
        const char *val = p->value.value.data;
        size_t vlen = p->value.value.len > 0 ? (size_t)p->value.value.len : 0;
        if (!name || nlen == 0 || memchr(name, '\0', nlen))
            continue;
        if (cfg->event_id_property && !hd->event_id[0] && strlen(cfg->event_id_property) == nlen &&
            memcmp(cfg->event_id_property, name, nlen) == 0) {
            if (vlen <= BRIDGE_EVENT_ID_MAX) {
                if (vlen > 0) /* a property without a value has val NULL (found by fuzzing) */
                    memcpy(hd->event_id, val, vlen);
                hd->event_id[vlen] = '\0';
            }
            continue;
        }
        if (!cfg->user_properties || reserved_header(name, nlen) || hd->n > BRIDGE_MAX_HEADERS ||
            hd->names_used + nlen + 1 > sizeof(hd->names))
            continue;
        char *copy = hd->names + hd->names_used;
        memcpy(copy, name, nlen);
        copy[nlen] = '\0';
        hd->names_used += nlen + 1;
        hd->h[hd->n++] = (inlet_header){copy, val ? val : "", vlen};
    }
}
