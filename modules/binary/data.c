/*
 * data.c - DATA frames onto inlet_request (host->submit()), completions onto ACKs.
 *
 * Each DATA frame takes the next slot of the connection's ring (window slots, in arrival
 * order). A frame refused at once gets its answer in its slot straight away; a submitted one
 * when Kafka's completion comes. ACKs leave from the head of the ring only, so they go out in
 * the order the frames arrived (docs/BINARY.md, Order), whatever order the answers come in.
 * An ACK 0x00 is only ever written for a completion with INLET_OK: Kafka has the event.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binary.h"

static uint8_t status_for(inlet_status st)
{
    switch (st) {
    case INLET_OK:
        return BIN_ST_OK;
    case INLET_E_UNAUTHENTICATED:
    case INLET_E_FORBIDDEN:
        return BIN_ST_NOT_AUTHORIZED;
    case INLET_E_INVALID:
    case INLET_E_MEDIA_TYPE:
        return BIN_ST_PAYLOAD_INVALID;
    case INLET_E_UNKNOWN_SCHEMA:
        return BIN_ST_UNKNOWN_SCHEMA;
    case INLET_E_TOO_LARGE:
    case INLET_E_QUOTA:
        return BIN_ST_QUOTA;
    case INLET_E_UNAVAILABLE:
    case INLET_E_POSSIBLY_PERSISTED:
        return BIN_ST_UNAVAILABLE;
    case INLET_E_SHUTTING_DOWN:
        return BIN_ST_SHUTTING_DOWN;
    default:
        return BIN_ST_UNSPECIFIED;
    }
}

static uint16_t retry_for(const bin_module *m, uint8_t status)
{
    if (status == BIN_ST_UNAVAILABLE || status == BIN_ST_QUOTA || status == BIN_ST_SHUTTING_DOWN)
        return (uint16_t)m->host->retry_after_s();
    return 0;
}

static void slot_answer(bin_module *m, bin_slot *s, uint8_t status, uint8_t flags,
                        const char *reason)
{
    s->done = true;
    s->status = status;
    s->flags = flags;
    s->retry_after = retry_for(m, status);
    free(s->reason);
    s->reason = NULL;
    if (status != BIN_ST_OK && reason != NULL && reason[0] != '\0')
        s->reason = strndup(reason, BIN_MAX_REASON); /* NULL on failure: sent without */
}

void bin_data_free_slots(bin_conn *c)
{
    if (c->slots == NULL)
        return;
    for (uint32_t i = 0; i < (uint32_t)c->loop->m->cfg->window; i++)
        free(c->slots[i].reason);
    free(c->slots);
    c->slots = NULL;
}

void bin_data_flush_acks(bin_conn *c)
{
    bin_module *m = c->loop->m;
    uint32_t w = (uint32_t)m->cfg->window;
    uint8_t buf[BIN_MAX_SERVER_FRAME];

    while (c->state == BIN_CONN_OPEN && c->count > 0 && c->slots[c->head].done) {
        bin_slot *s = &c->slots[c->head];
        size_t n = bin_encode_ack(buf, sizeof(buf), s->seq, s->flags, s->status, s->retry_after,
                                  s->reason);
        free(s->reason);
        s->reason = NULL;
        s->done = false;
        c->head = (c->head + 1) % w;
        c->count--;
        if (s->status == BIN_ST_OK)
            c->loop->n_acks_ok++; /* published once per iteration */
        else
            bin_count_ack(m, s->status);
        if (!bin_conn_send(c, buf, n))
            return;
    }
    if (c->state == BIN_CONN_OPEN && c->bye && c->count == 0)
        bin_conn_close(c, true, BIN_ST_OK, NULL, BIN_CLOSE_BYE);
}

/* The schema and version of this frame: named, or the previous frame's. */
static bool resolve_schema(bin_conn *c, const bin_data *d)
{
    if (d->schema.len == 0) {
        if (c->has_schema)
            return true;
        bin_conn_close(c, true, BIN_ST_MALFORMED,
                       "schema_len 0 but no earlier DATA frame named a schema", BIN_CLOSE_PROTOCOL);
        return false;
    }
    if (memchr(d->schema.p, '\0', d->schema.len) != NULL) {
        bin_conn_close(c, true, BIN_ST_MALFORMED, "schema name contains NUL", BIN_CLOSE_PROTOCOL);
        return false;
    }
    memcpy(c->schema, d->schema.p, d->schema.len);
    c->schema[d->schema.len] = '\0';
    snprintf(c->version, sizeof(c->version), "v%u", d->version);
    c->has_schema = true;
    return true;
}

bool bin_data_handle(bin_conn *c, const bin_header *h, const uint8_t *body)
{
    bin_loop *loop = c->loop;
    bin_module *m = loop->m;
    const inlet_host *host = m->host;
    uint32_t w = (uint32_t)m->cfg->window;
    bin_data d;
    uint8_t st = 0;
    const char *why = NULL;

    if (!bin_credential_check(c))
        return false;
    if (bin_decode_data(h, body, &d, &st, &why) != 0) {
        bin_conn_close(c, true, st, why, BIN_CLOSE_PROTOCOL);
        return false;
    }
    if (c->count >= w) {
        bin_conn_close(c, true, BIN_ST_WINDOW, "more unacknowledged DATA frames than the window",
                       BIN_CLOSE_WINDOW);
        return false;
    }
    if (!resolve_schema(c, &d))
        return false;

    uint32_t idx = (c->head + c->count) % w;
    bin_slot *s = &c->slots[idx];
    s->seq = h->seq;
    s->done = false;
    c->count++;

    const char *ct = host->content_type_for_coap(d.format);
    if (ct == NULL) {
        char text[80];
        snprintf(text, sizeof(text), "format %u is not a Content-Format inletd decodes", d.format);
        slot_answer(m, s, BIN_ST_PAYLOAD_INVALID, 0, text);
        bin_data_flush_acks(c);
        return c->state == BIN_CONN_OPEN;
    }

    inlet_request r;
    memset(&r, 0, sizeof(r));
    r.size = sizeof(r);
    r.identity = c->identity;
    r.form = INLET_FORM_PAYLOAD;
    r.body = d.payload.p; /* borrowed: the core copies what it keeps before returning */
    r.body_len = d.payload.len;
    r.content_type = ct;
    r.schema = c->schema;
    r.schema_version = c->version;
    if (d.event_id.len > 0) {
        memcpy(loop->eid, d.event_id.p, d.event_id.len);
        loop->eid[d.event_id.len] = '\0';
        r.event_id = loop->eid;
    }
    r.source = "binary";
    r.peer = c->peer[0] ? c->peer : NULL;
    r.received_at_us = host->now_us();
    r.queue = loop->base.queue;

    bin_pending *p = inlet_support_pending_get(&loop->base.pending);
    if (p == NULL) {
        slot_answer(m, s, BIN_ST_UNSPECIFIED, 0, "out of memory");
        bin_data_flush_acks(c);
        return c->state == BIN_CONN_OPEN;
    }
    p->conn = c;
    p->slot = idx;
    r.opaque = p;

    inlet_rejection *rej = NULL;
    inlet_status ist = host->submit(m->mod, &r, &rej);
    if (ist != INLET_OK) {
        /* nothing was produced: "not stored" (no POSSIBLY_STORED flag) */
        slot_answer(m, s, status_for(ist), 0,
                    rej != NULL && rej->message != NULL ? rej->message : host->status_name(ist));
        if (ist == INLET_E_QUOTA && rej != NULL && rej->retry_after_s > 0)
            s->retry_after = (uint16_t)rej->retry_after_s; /* the bucket's refill time */
        if (rej != NULL)
            host->rejection_free(rej);
        inlet_support_pending_put(&loop->base.pending, p);
        if (host->log_enabled(m->mod, INLET_LOG_DEBUG))
            BIN_LOG(m, INLET_LOG_DEBUG, "%s/%s: DATA seq %u for %s@%s refused: %s",
                    c->identity->tenant, c->identity->device_id, h->seq, c->schema, c->version,
                    s->reason ? s->reason : "");
        bin_data_flush_acks(c);
        return c->state == BIN_CONN_OPEN;
    }
    bin_list_push(&loop->pending, &p->link);
    c->refs++; /* the pending record's */
    c->inflight++;
    loop->inflight++; /* the gauge follows once per iteration */
    return true;
}

void bin_data_on_completion(void *ctx, const inlet_completion *comp)
{
    bin_loop *loop = ctx;
    bin_module *m = loop->m;
    bin_pending *p = comp->opaque;
    bin_conn *c = p->conn;
    uint32_t idx = p->slot;

    bin_list_unlink(&p->link);
    inlet_support_pending_put(&loop->base.pending, p);
    loop->inflight--;
    c->inflight--;
    if (c->state == BIN_CONN_OPEN && c->slots != NULL) {
        if (comp->status == INLET_OK) {
            slot_answer(m, &c->slots[idx], BIN_ST_OK, 0, NULL);
        } else {
            /* Handed to Kafka, not confirmed. The core tells which: never left inletd ("not
             * persisted: safe to resend", no flag) or may be in Kafka ("possibly persisted",
             * POSSIBLY_STORED: resend with the same event_id). */
            char why[BIN_MAX_REASON + 1];
            const char *kerr = NULL;
            int maybe = comp->status == INLET_E_POSSIBLY_PERSISTED;
            for (size_t i = 0; i < comp->n_events && kerr == NULL; i++)
                if (comp->events[i].status == comp->status)
                    kerr = comp->events[i].error;
            if (kerr == NULL)
                kerr = m->host->status_name(comp->status);
            snprintf(why, sizeof(why), "Kafka did not acknowledge the event: %s", kerr);
            slot_answer(m, &c->slots[idx], status_for(comp->status),
                        maybe ? BIN_FLAG_POSSIBLY_STORED : 0, why);
        }
        bin_data_flush_acks(c);
        if (c->state == BIN_CONN_OPEN)
            bin_conn_wake(c);
    }
    bin_conn_unref(c);
}
