/* normalize.c - see normalize.h. */
#include "normalize.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include "buf.h"
#include "event_id.h"
#include "formats/arena.h"
#include "formats/json_arena.h"
#include "formats/json_write.h"
#include "rejection.h"
#include "formats/rfc3339.h"
#include "identity/tenant.h"

#define MAX_SCHEMA_ERRORS 8 /* per event; enough to fix a payload, bounded for big batches */

static const char *const event_fields[] = {"device_id", "ts",       "use_case",
                                           "schema",    "event_id", "payload"};

static int content_type_is_json(const char *ct)
{
    if (!ct)
        return 1;
    while (*ct == ' ')
        ct++;
    size_t n = strlen("application/json");
    if (strncasecmp(ct, "application/json", n) != 0)
        return 0;
    ct += n;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == '\0' || *ct == ';';
}

/* Resolve an RFC 6901 pointer below v; NULL if absent. */
static const json_t *json_pointer_get(const json_t *v, const char *ptr)
{
    char token[256];
    while (v && *ptr == '/') {
        ptr++;
        size_t n = 0;
        while (*ptr && *ptr != '/' && n < sizeof(token) - 1) {
            if (ptr[0] == '~' && (ptr[1] == '0' || ptr[1] == '1')) {
                token[n++] = ptr[1] == '0' ? '~' : '/';
                ptr += 2;
            } else {
                token[n++] = *ptr++;
            }
        }
        token[n] = '\0';
        if (json_is_object(v)) {
            v = json_object_get(v, token);
        } else if (json_is_array(v)) {
            char *end;
            unsigned long i = strtoul(token, &end, 10);
            v = *token && !*end ? json_array_get(v, i) : NULL;
        } else {
            v = NULL;
        }
    }
    return *ptr ? NULL : v;
}

/* The Kafka key: the device id, or the value the schema's x-inlet-key points at. */
static int envelope_key(inlet_envelope *env, const inlet_schema *schema, const char *device_id,
                        const json_t *payload)
{
    const char *ptr = inlet_schema_key_pointer(schema);
    const json_t *v = NULL;
    char num[40];
    const char *text = device_id;
    size_t len = strlen(device_id);
    if (ptr && strncmp(ptr, "/payload", 8) == 0 && (ptr[8] == '/' || ptr[8] == '\0'))
        v = json_pointer_get(payload, ptr + 8);
    if (v && json_is_string(v)) {
        text = json_string_value(v);
        len = json_string_length(v);
    } else if (v && json_is_integer(v)) {
        len = (size_t)snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        text = num;
    }
    env->key = malloc(len + 1);
    if (!env->key)
        return -1;
    memcpy(env->key, text, len);
    env->key[len] = '\0';
    env->key_len = len;
    return 0;
}

typedef struct event_parts {
    const char *schema_name;
    const char *schema_version;
    const char *event_id;
    size_t event_id_len;
    char ts[48];
    const json_t *payload;
} event_parts;

/* Take one event object apart. Adds errors to b and returns the event's status. */
static inlet_status event_parse(const inlet_normalize_input *in, size_t index, const json_t *ev,
                                event_parts *parts, inlet_rejection_builder *b)
{
    const inlet_request *req = in->req;
    const inlet_identity *id = req->identity;
    inlet_status st = INLET_OK;
    char msg[512];

    if (!json_is_object(ev)) {
        inlet_rejection_add(b, index, INLET_E_INVALID, "", "an event must be a JSON object");
        return INLET_E_INVALID;
    }
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)ev, key, val)
    {
        size_t k;
        for (k = 0; k < sizeof(event_fields) / sizeof(event_fields[0]); k++)
            if (strcmp(key, event_fields[k]) == 0)
                break;
        if (k == sizeof(event_fields) / sizeof(event_fields[0])) {
            char ptr[300];
            snprintf(ptr, sizeof(ptr), "/%.250s", key);
            inlet_rejection_add(b, index, INLET_E_INVALID, ptr,
                                "unknown event field (expected device_id, ts, use_case, schema, "
                                "event_id, payload)");
            st = INLET_E_INVALID;
        }
    }

    /* The device may name itself, but only as the identity it authenticated as. */
    const json_t *dev = json_object_get(ev, "device_id");
    if (dev && !json_is_string(dev)) {
        inlet_rejection_add(b, index, INLET_E_INVALID, "/device_id", "expected a string");
        st = INLET_E_INVALID;
    } else if (dev && strcmp(json_string_value(dev), id->device_id) != 0) {
        snprintf(msg, sizeof(msg),
                 "device \"%.128s\" does not match the authenticated device "
                 "\"%.128s\" of tenant \"%.64s\"",
                 json_string_value(dev), id->device_id, id->tenant);
        inlet_rejection_add(b, index, INLET_E_FORBIDDEN, "/device_id", msg);
        return INLET_E_FORBIDDEN;
    }

    const json_t *uc = json_object_get(ev, "use_case");
    const json_t *sv = json_object_get(ev, "schema");
    parts->schema_name = req->schema;
    parts->schema_version = req->schema_version;
    if (uc && !json_is_string(uc)) {
        inlet_rejection_add(b, index, INLET_E_INVALID, "/use_case", "expected a string");
        st = INLET_E_INVALID;
    } else if (uc) {
        parts->schema_name = json_string_value(uc);
    }
    if (sv && !json_is_string(sv)) {
        inlet_rejection_add(b, index, INLET_E_INVALID, "/schema",
                            "expected a string such as \"v1\"");
        st = INLET_E_INVALID;
    } else if (sv) {
        parts->schema_version = json_string_value(sv);
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

    const json_t *ts = json_object_get(ev, "ts");
    parts->ts[0] = '\0';
    if (ts) {
        inlet_time t;
        if (!json_is_string(ts) ||
            inlet_rfc3339_parse(json_string_value(ts), json_string_length(ts), &t) != 0 ||
            inlet_rfc3339_format(&t, parts->ts, sizeof(parts->ts)) == 0) {
            inlet_rejection_add(b, index, INLET_E_INVALID, "/ts",
                                "expected an RFC 3339 date-time such as "
                                "\"2026-11-21T10:15:30.123Z\"");
            st = INLET_E_INVALID;
        }
    }

    const json_t *eid = json_object_get(ev, "event_id");
    parts->event_id = NULL;
    if (eid) {
        if (!json_is_string(eid) ||
            !inlet_event_id_valid(json_string_value(eid), json_string_length(eid))) {
            inlet_rejection_add(b, index, INLET_E_INVALID, "/event_id",
                                "expected 1 to 64 characters of A-Z a-z 0-9 . _ : -");
            st = INLET_E_INVALID;
        } else {
            parts->event_id = json_string_value(eid);
            parts->event_id_len = json_string_length(eid);
        }
    }

    parts->payload = json_object_get(ev, "payload");
    if (!parts->payload) {
        inlet_rejection_add(b, index, INLET_E_INVALID, "/payload", "required");
        st = INLET_E_INVALID;
    }
    return st;
}

/* Schema, ACL and payload checks; on success writes the envelope. */
static inlet_status event_finish(const inlet_normalize_input *in, size_t index,
                                 const event_parts *parts, const char *base, const char *received,
                                 inlet_envelope *env, inlet_rejection_builder *b)
{
    const inlet_request *req = in->req;
    const inlet_identity *id = req->identity;
    char msg[512], ptr[64];

    const inlet_schema *schema =
        inlet_schemas_find(in->schemas, parts->schema_name, parts->schema_version);
    if (!schema) {
        snprintf(ptr, sizeof(ptr), "%s", req->form == INLET_FORM_PAYLOAD ? "" : "/use_case");
        snprintf(msg, sizeof(msg), "unknown schema %.128s version %.32s", parts->schema_name,
                 parts->schema_version);
        inlet_rejection_add(b, index, INLET_E_UNKNOWN_SCHEMA, ptr, msg);
        return INLET_E_UNKNOWN_SCHEMA;
    }
    if (inlet_acl_check(id, inlet_schema_name(schema), inlet_schema_version(schema), msg,
                        sizeof(msg)) != INLET_OK) {
        if (in->on_acl_deny)
            in->on_acl_deny(in->ctx, id, inlet_schema_name(schema));
        inlet_rejection_add(b, index, INLET_E_FORBIDDEN, "", msg);
        return INLET_E_FORBIDDEN;
    }

    /* The validator reads inlet_value; until the parser yields one, the payload is copied into
     * this thread's arena, which inlet_normalize resets after the request. */
    inlet_arena *arena = inlet_arena_thread();
    const inlet_value *payload = arena ? inlet_value_from_json(arena, parts->payload) : NULL;
    if (!payload) {
        inlet_rejection_add(b, index, INLET_E_INTERNAL, "", "out of memory");
        return INLET_E_INTERNAL;
    }
    inlet_schema_error errs[MAX_SCHEMA_ERRORS];
    size_t n_err = inlet_schema_validate(schema, payload, base, errs, MAX_SCHEMA_ERRORS);
    if (n_err > 0) {
        for (size_t i = 0; i < n_err && i < MAX_SCHEMA_ERRORS; i++)
            inlet_rejection_add(b, index, INLET_E_INVALID, errs[i].pointer, errs[i].message);
        return INLET_E_INVALID;
    }

    if (parts->event_id)
        snprintf(env->event_id, sizeof(env->event_id), "%.*s", (int)parts->event_id_len,
                 parts->event_id);
    else if (req->form == INLET_FORM_PAYLOAD && req->event_id &&
             inlet_event_id_valid(req->event_id, strlen(req->event_id)))
        snprintf(env->event_id, sizeof(env->event_id), "%s", req->event_id);
    else
        inlet_event_id_generate(in->received_at_us, env->event_id);

    int tn = snprintf(env->topic, sizeof(env->topic), "%s%s", in->topic_prefix,
                      inlet_schema_topic(schema));
    if (tn < 0 || (size_t)tn >= sizeof(env->topic) || tn > 249) {
        inlet_rejection_add(b, index, INLET_E_INTERNAL, "", "topic name too long");
        return INLET_E_INTERNAL;
    }
    env->schema = schema;

    inlet_buf out;
    inlet_buf_init(&out, 512);
    inlet_buf_puts(&out, "{\"tenant\":");
    inlet_buf_json_string(&out, id->tenant, strlen(id->tenant));
    inlet_buf_puts(&out, ",\"device_id\":");
    inlet_buf_json_string(&out, id->device_id, strlen(id->device_id));
    inlet_buf_puts(&out, ",\"event_id\":");
    inlet_buf_json_string(&out, env->event_id, strlen(env->event_id));
    inlet_buf_puts(&out, ",\"ts\":");
    const char *ts = parts->ts[0] ? parts->ts : received;
    inlet_buf_json_string(&out, ts, strlen(ts));
    inlet_buf_puts(&out, ",\"received_at\":");
    inlet_buf_json_string(&out, received, strlen(received));
    inlet_buf_puts(&out, ",\"schema\":");
    inlet_buf_json_string(&out, inlet_schema_name(schema), strlen(inlet_schema_name(schema)));
    inlet_buf_puts(&out, ",\"schema_version\":");
    inlet_buf_json_string(&out, inlet_schema_version(schema), strlen(inlet_schema_version(schema)));
    inlet_buf_puts(&out, ",\"source\":");
    const char *source = req->source ? req->source : "unknown";
    inlet_buf_json_string(&out, source, strlen(source));
    inlet_buf_puts(&out, ",\"payload\":");
    inlet_json_write(&out, parts->payload);
    inlet_buf_putc(&out, '}');
    env->value = inlet_buf_steal(&out, &env->value_len);
    if (!env->value || envelope_key(env, schema, id->device_id, parts->payload) != 0) {
        inlet_rejection_add(b, index, INLET_E_INTERNAL, "", "out of memory");
        return INLET_E_INTERNAL;
    }
    return INLET_OK;
}

void inlet_envelopes_free(inlet_envelope *envs, size_t n)
{
    if (!envs)
        return;
    for (size_t i = 0; i < n; i++) {
        free(envs[i].value);
        free(envs[i].key);
    }
    free(envs);
}

static inlet_status worst(inlet_status a, inlet_status b)
{
    /* Precedence of the overall answer: what the device must fix first. */
    static const int rank[] = {
        [INLET_OK] = 0,           [INLET_E_INVALID] = 1,       [INLET_E_UNKNOWN_SCHEMA] = 2,
        [INLET_E_FORBIDDEN] = 3,  [INLET_E_INTERNAL] = 4,      [INLET_E_UNAUTHENTICATED] = 5,
        [INLET_E_MEDIA_TYPE] = 6, [INLET_E_TOO_LARGE] = 6,     [INLET_E_UNAVAILABLE] = 4,
        [INLET_E_QUOTA] = 4,      [INLET_E_SHUTTING_DOWN] = 4,
    };
    return rank[b] > rank[a] ? b : a;
}

static inlet_status normalize(const inlet_normalize_input *in, inlet_envelope **envs,
                              size_t *n_envs, inlet_rejection **rej)
{
    const inlet_request *req = in->req;
    inlet_rejection_builder b;
    inlet_rejection_builder_init(&b);
    inlet_status st = INLET_OK;
    json_t *root = NULL;
    inlet_envelope *out = NULL;
    size_t n = 0;
    char msg[512];

    *envs = NULL;
    *n_envs = 0;
    *rej = NULL;

    if (!content_type_is_json(req->content_type)) {
        snprintf(msg, sizeof(msg),
                 "content type \"%.100s\" is not supported; send "
                 "application/json",
                 req->content_type);
        *rej = inlet_rejection_simple(INLET_E_MEDIA_TYPE, msg);
        return INLET_E_MEDIA_TYPE;
    }

    json_error_t jerr;
    root = json_loadb(req->body ? req->body : "", req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(msg, sizeof(msg), "malformed JSON at line %d, column %d: %s", jerr.line,
                 jerr.column, jerr.text);
        inlet_rejection_add(&b, 0, INLET_E_INVALID, "", msg);
        *rej = inlet_rejection_finish(&b, INLET_E_INVALID, 0, msg);
        return INLET_E_INVALID;
    }

    const json_t *events = NULL;
    if (req->form == INLET_FORM_BATCH) {
        const char *key;
        json_t *val;
        if (!json_is_object(root)) {
            st = INLET_E_INVALID;
            snprintf(msg, sizeof(msg), "the body must be an object {\"events\": [...]}");
            goto refuse_whole;
        }
        json_object_foreach(root, key, val)
        {
            if (strcmp(key, "events") != 0) {
                st = INLET_E_INVALID;
                snprintf(msg, sizeof(msg),
                         "unknown field \"%.100s\" (the body is "
                         "{\"events\": [...]})",
                         key);
                goto refuse_whole;
            }
        }
        events = json_object_get(root, "events");
        if (!json_is_array(events) || json_array_size(events) == 0) {
            st = INLET_E_INVALID;
            snprintf(msg, sizeof(msg), "\"events\" must be a non-empty array");
            goto refuse_whole;
        }
        n = json_array_size(events);
    } else {
        n = 1;
    }
    if (n > in->max_events) {
        st = INLET_E_TOO_LARGE;
        snprintf(msg, sizeof(msg), "%zu events exceed the limit of %zu per request", n,
                 in->max_events);
        goto refuse_whole;
    }

    out = calloc(n, sizeof(*out));
    if (!out) {
        st = INLET_E_INTERNAL;
        snprintf(msg, sizeof(msg), "out of memory");
        goto refuse_whole;
    }
    char received[48];
    inlet_rfc3339_format_us(in->received_at_us, received, sizeof(received));
    size_t refused = 0;
    for (size_t i = 0; i < n; i++) {
        event_parts parts;
        inlet_status es;
        memset(&parts, 0, sizeof(parts));
        if (req->form == INLET_FORM_PAYLOAD) {
            parts.schema_name = req->schema;
            parts.schema_version = req->schema_version;
            parts.payload = root;
            es = parts.schema_name && parts.schema_version ? INLET_OK : INLET_E_UNKNOWN_SCHEMA;
            if (es != INLET_OK)
                inlet_rejection_add(&b, 0, es, "", "no schema given for the payload");
        } else {
            const json_t *ev = req->form == INLET_FORM_BATCH ? json_array_get(events, i) : root;
            es = event_parse(in, i, ev, &parts, &b);
        }
        if (es == INLET_OK)
            es = event_finish(in, i, &parts, req->form == INLET_FORM_PAYLOAD ? "" : "/payload",
                              received, &out[i], &b);
        if (es != INLET_OK) {
            refused++;
            st = worst(st, es);
        }
    }
    if (refused) {
        if (b.n > 0)
            snprintf(msg, sizeof(msg),
                     "%zu of %zu events refused; nothing was accepted "
                     "(first: event %zu %s: %s)",
                     refused, n, b.errors[0].index,
                     b.errors[0].pointer[0] ? b.errors[0].pointer : "/", b.errors[0].message);
        else
            snprintf(msg, sizeof(msg), "%zu of %zu events refused", refused, n);
        inlet_envelopes_free(out, n);
        json_decref(root);
        *rej = inlet_rejection_finish(&b, st, n, msg);
        return st;
    }
    json_decref(root);
    inlet_rejection_builder_clear(&b);
    *envs = out;
    *n_envs = n;
    return INLET_OK;

refuse_whole:
    json_decref(root);
    inlet_envelopes_free(out, n);
    inlet_rejection_builder_clear(&b);
    inlet_rejection_builder_init(&b);
    inlet_rejection_add(&b, 0, st, "", msg);
    *rej = inlet_rejection_finish(&b, st, 0, msg);
    return st;
}

inlet_status inlet_normalize(const inlet_normalize_input *in, inlet_envelope **envs, size_t *n_envs,
                             inlet_rejection **rej)
{
    /* Every JSON value of the request is released inside normalize(): the arena may reset. */
    inlet_json_arena_install();
    inlet_json_arena_begin();
    inlet_status st = normalize(in, envs, n_envs, rej);
    inlet_json_arena_end();
    inlet_arena *arena = inlet_arena_thread();
    if (arena)
        inlet_arena_reset(arena);
    return st;
}
