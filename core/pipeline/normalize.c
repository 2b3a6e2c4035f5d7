/* normalize.c - see normalize.h. */
#include "normalize.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "formats/rfc3339.h"
#include "identity/tenant.h"
#include "pipeline/event_fields.h"
#include "pipeline/event_id.h"
#include "pipeline/rejection.h"
#include "schema/layout.h"

#define MAX_SCHEMA_ERRORS 8 /* per event; enough to fix a payload, bounded for big batches */

/* What the body decoded into: either one value in the event shapes (JSON, CBOR) or a list of
 * ready event parts (SenML, a binary layout). */
typedef struct decoded {
    inlet_format format;
    const inlet_value *root;  /* JSON, CBOR */
    inlet_event_parts *parts; /* SenML, octet-stream: n parts, schema from the request */
    size_t n;
} decoded;

typedef struct nctx {
    const inlet_normalize_input *in;
    inlet_arena *arena;
    inlet_rejection_builder b;
    char received[48];
    const inlet_schema *topic_schema; /* last topic computed, reused for the batch */
    const char *topic;
    /* The last schema looked up and allowed: events of a batch mostly share it, and the ACL's
     * verdict depends only on the identity and the schema. */
    const char *last_name, *last_version;
    const inlet_schema *last_allowed;
    inlet_envelope_frame frame; /* for frame.schema */
    inlet_buf scratch;          /* each envelope is written here, then copied to the arena */
} nctx;

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

/* "line 1, column 12 (byte 11)": people read lines, machines bytes. */
static void describe_offset(const char *text, size_t len, size_t off, char *out, size_t out_len)
{
    size_t line = 1, col = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        if (text[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    snprintf(out, out_len, "line %zu, column %zu (byte %zu)", line, col, off);
}

static const char *need_schema_msg =
    "this format names no schema: send it to a resource that does (HTTP "
    "/ingest/<schema>/<version>, MQTT devices/<device>/<schema>/<version>)";

/* Decode the body. On failure *msg says why and the status is returned. */
static inlet_status decode(nctx *c, decoded *d, char *msg, size_t msg_len)
{
    const inlet_request *req = c->in->req;
    const char *body = req->body ? req->body : "";
    inlet_format_error ferr;
    inlet_value *v = NULL;
    char where[96];

    memset(d, 0, sizeof(*d));
    memset(&ferr, 0, sizeof(ferr));
    if (inlet_format_from_content_type(req->content_type, &d->format) != 0) {
        snprintf(msg, msg_len,
                 "content type \"%.100s\" is not supported; send application/json, "
                 "application/cbor, application/senml+json, application/senml+cbor or "
                 "application/octet-stream",
                 req->content_type);
        return INLET_E_MEDIA_TYPE;
    }
    switch (d->format) {
    case INLET_FMT_JSON:
        if (inlet_json_parse(c->arena, body, req->body_len, &v, &ferr) != 0) {
            describe_offset(body, req->body_len, ferr.offset, where, sizeof(where));
            snprintf(msg, msg_len, "malformed JSON at %s: %.200s", where, ferr.message);
            return INLET_E_INVALID;
        }
        d->root = v;
        return INLET_OK;
    case INLET_FMT_CBOR:
        if (inlet_cbor_decode(c->arena, body, req->body_len, 0, &v, &ferr) != 0) {
            snprintf(msg, msg_len, "CBOR at byte %zu: %.200s", ferr.offset, ferr.message);
            return INLET_E_INVALID;
        }
        d->root = v;
        return INLET_OK;
    case INLET_FMT_SENML_JSON:
    case INLET_FMT_SENML_CBOR: {
        if (!req->schema || !req->schema_version) {
            snprintf(msg, msg_len, "SenML: %s", need_schema_msg);
            return INLET_E_INVALID;
        }
        int rc =
            d->format == INLET_FMT_SENML_JSON
                ? inlet_json_parse(c->arena, body, req->body_len, &v, &ferr)
                : inlet_cbor_decode(c->arena, body, req->body_len, INLET_CBOR_INT_KEYS, &v, &ferr);
        if (rc != 0) {
            if (d->format == INLET_FMT_SENML_JSON)
                describe_offset(body, req->body_len, ferr.offset, where, sizeof(where));
            else
                snprintf(where, sizeof(where), "byte %zu", ferr.offset);
            snprintf(msg, msg_len, "malformed SenML %s at %s: %.200s",
                     d->format == INLET_FMT_SENML_JSON ? "JSON" : "CBOR", where, ferr.message);
            return INLET_E_INVALID;
        }
        inlet_senml_event *evs = NULL;
        size_t n = 0;
        if (inlet_senml_resolve(c->arena, v, c->in->received_at_us, &evs, &n, &ferr) != 0) {
            snprintf(msg, msg_len, "SenML%s%s: %.200s", ferr.pointer[0] ? " " : "", ferr.pointer,
                     ferr.message);
            return INLET_E_INVALID;
        }
        d->n = n;
        d->parts = inlet_arena_calloc(c->arena, sizeof(*d->parts) * (n ? n : 1));
        if (!d->parts) {
            snprintf(msg, msg_len, "out of memory");
            return INLET_E_INTERNAL;
        }
        for (size_t i = 0; i < n; i++) {
            inlet_event_parts *p = &d->parts[i];
            p->schema_name = req->schema;
            p->schema_version = req->schema_version;
            p->payload = evs[i].payload;
            p->units = evs[i].units;
            double us = floor(evs[i].time_s * 1e6 + 0.5);
            if (!(us > -6.2e16 && us < 2.5e17) ||
                inlet_rfc3339_format_us((int64_t)us, p->ts, sizeof(p->ts)) == 0) {
                snprintf(msg, msg_len, "SenML: record time %.17g is out of range", evs[i].time_s);
                return INLET_E_INVALID;
            }
        }
        return INLET_OK;
    }
    case INLET_FMT_OCTETS: {
        if (!req->schema || !req->schema_version) {
            snprintf(msg, msg_len, "application/octet-stream: %s", need_schema_msg);
            return INLET_E_INVALID;
        }
        const inlet_schema *s =
            inlet_schemas_find(c->in->schemas, req->schema, req->schema_version);
        if (!s) {
            snprintf(msg, msg_len, "unknown schema %.128s version %.32s", req->schema,
                     req->schema_version);
            return INLET_E_UNKNOWN_SCHEMA;
        }
        const inlet_layout *l = inlet_schema_layout(s);
        if (!l) {
            snprintf(msg, msg_len,
                     "schema %.128s %.32s has no binary layout (x-inlet-layout); "
                     "application/octet-stream is not accepted",
                     inlet_schema_name(s), inlet_schema_version(s));
            return INLET_E_MEDIA_TYPE;
        }
        if (inlet_layout_decode(l, c->arena, body, req->body_len, &v, &ferr) != 0) {
            snprintf(msg, msg_len, "binary frame at byte %zu: %.200s", ferr.offset, ferr.message);
            return INLET_E_INVALID;
        }
        d->parts = inlet_arena_calloc(c->arena, sizeof(*d->parts));
        if (!d->parts) {
            snprintf(msg, msg_len, "out of memory");
            return INLET_E_INTERNAL;
        }
        d->n = 1;
        d->parts->schema_name = req->schema;
        d->parts->schema_version = req->schema_version;
        d->parts->payload = v;
        return INLET_OK;
    }
    }
    snprintf(msg, msg_len, "unsupported format");
    return INLET_E_MEDIA_TYPE;
}

/* SenML records carry units; a field whose schema names a unit takes only that unit. */
static inlet_status check_units(nctx *c, size_t index, const inlet_schema *schema,
                                const inlet_event_parts *parts, const char *base)
{
    const inlet_value *p = parts->payload;
    inlet_status st = INLET_OK;
    if (!parts->units || p->type != INLET_V_OBJECT)
        return INLET_OK;
    for (uint32_t i = 0; i < p->n; i++) {
        const inlet_member *m = &p->u.members[i];
        const char *want = inlet_schema_property_unit(schema, m->key, m->key_len);
        const char *got = parts->units[i];
        if (!want || (got && strcmp(want, got) == 0))
            continue;
        char ptr[300], msg[300];
        snprintf(ptr, sizeof(ptr), "%s/%.250s", base, m->key);
        if (got)
            snprintf(msg, sizeof(msg), "unit \"%.64s\" is not the schema's unit \"%.64s\"", got,
                     want);
        else
            snprintf(msg, sizeof(msg), "no unit given; the schema's unit is \"%.64s\"", want);
        inlet_rejection_add(&c->b, index, INLET_E_INVALID, ptr, msg);
        st = INLET_E_INVALID;
    }
    return st;
}

static const char *event_topic(nctx *c, const inlet_schema *schema)
{
    if (c->topic_schema == schema)
        return c->topic;
    const char *prefix = c->in->topic_prefix ? c->in->topic_prefix : "";
    const char *topic = inlet_schema_topic(schema);
    size_t np = strlen(prefix), nt = strlen(topic);
    if (np + nt > 249)
        return NULL;
    if (np > 0) {
        char *t = inlet_arena_alloc(c->arena, np + nt + 1);
        if (!t)
            return NULL;
        memcpy(t, prefix, np);
        memcpy(t + np, topic, nt + 1);
        topic = t;
    }
    c->topic_schema = schema;
    c->topic = topic;
    return topic;
}

/* Schema, format, units, ACL and payload checks; on success writes the envelope. */
static inlet_status event_finish(nctx *c, size_t index, inlet_format format,
                                 const inlet_event_parts *parts, inlet_envelope *env)
{
    const inlet_request *req = c->in->req;
    const inlet_identity *id = req->identity;
    /* Error pointers are relative to the payload when the body is the payload. */
    const char *base =
        req->form == INLET_FORM_PAYLOAD || !(format & (INLET_FMT_JSON | INLET_FMT_CBOR))
            ? ""
            : "/payload";
    char msg[512];

    const inlet_schema *schema = NULL;
    int cached = c->last_allowed && strcmp(c->last_name, parts->schema_name) == 0 &&
                 strcmp(c->last_version, parts->schema_version) == 0;
    if (cached)
        schema = c->last_allowed;
    else
        schema = inlet_schemas_find(c->in->schemas, parts->schema_name, parts->schema_version);
    inlet_rejection_current_schema(&c->b, schema ? inlet_schema_name(schema) : NULL,
                                   schema ? inlet_schema_version(schema) : NULL);
    if (!schema) {
        snprintf(msg, sizeof(msg), "unknown schema %.128s version %.32s", parts->schema_name,
                 parts->schema_version);
        inlet_rejection_add(&c->b, index, INLET_E_UNKNOWN_SCHEMA, base[0] ? "/use_case" : "", msg);
        return INLET_E_UNKNOWN_SCHEMA;
    }
    if (!(inlet_schema_formats(schema) & format)) {
        snprintf(msg, sizeof(msg), "schema %.128s %.32s does not accept %s",
                 inlet_schema_name(schema), inlet_schema_version(schema),
                 inlet_format_content_type(format));
        inlet_rejection_add(&c->b, index, INLET_E_MEDIA_TYPE, "", msg);
        return INLET_E_MEDIA_TYPE;
    }
    if (!cached) {
        if (inlet_acl_check_source(id, req->source, inlet_schema_name(schema),
                                   inlet_schema_version(schema), msg, sizeof(msg)) != INLET_OK) {
            if (c->in->on_acl_deny)
                c->in->on_acl_deny(c->in->ctx, id, inlet_schema_name(schema));
            inlet_rejection_add(&c->b, index, INLET_E_FORBIDDEN, "", msg);
            return INLET_E_FORBIDDEN;
        }
        c->last_name = parts->schema_name;
        c->last_version = parts->schema_version;
        c->last_allowed = schema;
    }

    inlet_status st = check_units(c, index, schema, parts, base);
    inlet_schema_error errs[MAX_SCHEMA_ERRORS];
    size_t n_err = inlet_schema_validate(schema, parts->payload, base, errs, MAX_SCHEMA_ERRORS);
    if (n_err > 0) {
        for (size_t i = 0; i < n_err && i < MAX_SCHEMA_ERRORS; i++)
            inlet_rejection_add(&c->b, index, INLET_E_INVALID, errs[i].pointer, errs[i].message);
        return INLET_E_INVALID;
    }
    if (st != INLET_OK)
        return st;

    if (parts->event_id)
        snprintf(env->event_id, sizeof(env->event_id), "%.*s", (int)parts->event_id_len,
                 parts->event_id);
    else if (req->form == INLET_FORM_PAYLOAD && req->event_id &&
             inlet_event_id_valid(req->event_id, strlen(req->event_id)))
        snprintf(env->event_id, sizeof(env->event_id), "%s", req->event_id);
    else
        inlet_event_id_generate(c->in->received_at_us, env->event_id);

    env->topic = event_topic(c, schema);
    if (!env->topic) {
        inlet_rejection_add(&c->b, index, INLET_E_INTERNAL, "", "topic name too long");
        return INLET_E_INTERNAL;
    }
    env->schema = schema;
    if ((c->frame.schema != schema &&
         inlet_envelope_frame_build(c->arena, &c->frame, id, schema, c->received,
                                    req->source ? req->source : "unknown") != 0) ||
        inlet_envelope_write(env, c->arena, &c->scratch, &c->frame, id,
                             parts->ts[0] ? parts->ts : c->received, parts->payload) != 0) {
        c->frame.schema = NULL;
        inlet_rejection_add(&c->b, index, INLET_E_INTERNAL, "", "out of memory");
        return INLET_E_INTERNAL;
    }
    return INLET_OK;
}

void inlet_envelopes_free(inlet_envelope *envs, size_t n)
{
    if (!envs)
        return;
    (void)n; /* the values live in the submission's arena */
    free(envs);
}

/* The event shapes of JSON and CBOR: where the events are in root. */
static inlet_status find_events(const inlet_request *req, const inlet_value *root,
                                const inlet_value **events, size_t *n, char *msg, size_t msg_len)
{
    *events = NULL;
    *n = 1;
    if (req->form != INLET_FORM_BATCH)
        return INLET_OK;
    if (root->type != INLET_V_OBJECT) {
        snprintf(msg, msg_len, "the body must be an object {\"events\": [...]}");
        return INLET_E_INVALID;
    }
    for (uint32_t i = 0; i < root->n; i++) {
        if (strcmp(root->u.members[i].key, "events") != 0) {
            snprintf(msg, msg_len, "unknown field \"%.100s\" (the body is {\"events\": [...]})",
                     root->u.members[i].key);
            return INLET_E_INVALID;
        }
    }
    const inlet_value *ev = inlet_value_get(root, "events");
    if (!ev || ev->type != INLET_V_ARRAY || ev->n == 0) {
        snprintf(msg, msg_len, "\"events\" must be a non-empty array");
        return INLET_E_INVALID;
    }
    *events = ev;
    *n = ev->n;
    return INLET_OK;
}

inlet_status inlet_normalize(const inlet_normalize_input *in, inlet_envelope **envs, size_t *n_envs,
                             inlet_rejection **rej)
{
    const inlet_request *req = in->req;
    nctx c = {.in = in, .arena = in->arena ? in->arena : inlet_arena_thread()};
    inlet_envelope *out = NULL;
    const inlet_value *events = NULL;
    decoded d;
    size_t n = 0;
    char msg[512];
    inlet_status st;

    *envs = NULL;
    *n_envs = 0;
    *rej = NULL;
    inlet_rejection_builder_init(&c.b);
    if (!c.arena) {
        st = INLET_E_INTERNAL;
        snprintf(msg, sizeof(msg), "out of memory");
        goto refuse_whole;
    }

    st = decode(&c, &d, msg, sizeof(msg));
    if (st != INLET_OK)
        goto refuse_whole;
    if (d.root) {
        st = find_events(req, d.root, &events, &n, msg, sizeof(msg));
        if (st != INLET_OK)
            goto refuse_whole;
    } else {
        n = d.n;
        if (n == 0) {
            st = INLET_E_INVALID;
            snprintf(msg, sizeof(msg), "the body holds no event");
            goto refuse_whole;
        }
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
    inlet_rfc3339_format_us(in->received_at_us, c.received, sizeof(c.received));
    size_t refused = 0;
    for (size_t i = 0; i < n; i++) {
        inlet_event_parts local;
        const inlet_event_parts *parts = &local;
        inlet_status es = INLET_OK;
        inlet_rejection_current_schema(&c.b, NULL, NULL);
        if (!d.root) {
            parts = &d.parts[i];
        } else if (req->form == INLET_FORM_PAYLOAD) {
            memset(&local, 0, sizeof(local));
            local.schema_name = req->schema;
            local.schema_version = req->schema_version;
            local.payload = d.root;
            if (!local.schema_name || !local.schema_version) {
                es = INLET_E_UNKNOWN_SCHEMA;
                inlet_rejection_add(&c.b, 0, es, "", "no schema given for the payload");
            }
        } else {
            const inlet_value *ev = events ? &events->u.items[i] : d.root;
            es = inlet_event_fields_parse(req, i, ev, &local, &c.b);
        }
        if (es == INLET_OK)
            es = event_finish(&c, i, d.format, parts, &out[i]);
        if (es != INLET_OK) {
            refused++;
            st = worst(st, es);
        }
    }
    if (refused) {
        if (c.b.n > 0)
            snprintf(msg, sizeof(msg),
                     "%zu of %zu events refused; nothing was accepted "
                     "(first: event %zu %s: %s)",
                     refused, n, c.b.errors[0].index,
                     c.b.errors[0].pointer[0] ? c.b.errors[0].pointer : "/", c.b.errors[0].message);
        else
            snprintf(msg, sizeof(msg), "%zu of %zu events refused", refused, n);
        inlet_envelopes_free(out, n);
        inlet_buf_free(&c.scratch);
        *rej = inlet_rejection_finish(&c.b, st, n, msg);
        return st;
    }
    inlet_buf_free(&c.scratch);
    inlet_rejection_builder_clear(&c.b);
    *envs = out;
    *n_envs = n;
    return INLET_OK;

refuse_whole:
    inlet_envelopes_free(out, n);
    inlet_buf_free(&c.scratch);
    inlet_rejection_builder_clear(&c.b);
    inlet_rejection_builder_init(&c.b);
    inlet_rejection_add(&c.b, 0, st, "", msg);
    *rej = inlet_rejection_finish(&c.b, st, 0, msg);
    return st;
}
