/*
 * dead_letter.c - see dead_letter.h. One record per refused request (not per event): its value
 * is the body exactly as the device sent it, its key the device id, and headers say why:
 *
 *   inlet-dlq-reason   the refusal's status word (invalid, unsupported_media_type, unknown_schema)
 *   inlet-dlq-message  the refusal's one-line message
 *   inlet-dlq-pointer  JSON pointer of the first error ("" for the whole body)
 *   inlet-dlq-index    the event index of the first error in a batch
 *   inlet-dlq-errors   how many errors the refusal lists
 *   inlet-tenant, inlet-device, inlet-source, inlet-content-type, inlet-peer (when known),
 *   inlet-schema, inlet-schema-version (when the request names them), inlet-received-at (µs)
 */
#include "dead_letter.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "metrics.h"
#include "quota.h"
#include "rejection.h"
#include "identity/tenant.h"

int inlet_dead_letter_applies(inlet_status st)
{
    return st == INLET_E_INVALID || st == INLET_E_MEDIA_TYPE || st == INLET_E_UNKNOWN_SCHEMA;
}

static void count(const char *name, const char *help, const char *tenant, const char *reason)
{
    char labels[200];
    if (reason)
        snprintf(labels, sizeof(labels), "tenant=\"%.64s\",reason=\"%s\"", tenant, reason);
    else
        snprintf(labels, sizeof(labels), "tenant=\"%.64s\"", tenant);
    inlet_metric_add(inlet_metric_counter(name, help, labels), 1);
}

static void dropped(const char *tenant, const char *reason)
{
    count("inlet_dead_letter_dropped_total",
          "Refused requests not copied to the dead-letter topic: over its rate, or Kafka refused "
          "the record.",
          tenant, reason);
}

static void add(rd_kafka_headers_t *h, const char *name, const char *value)
{
    if (value)
        rd_kafka_header_add(h, name, -1, value, -1);
}

void inlet_dead_letter_offer(inlet_producer *p, const inlet_request *req, inlet_status st,
                             const inlet_rejection *rej)
{
    const inlet_identity *id = req->identity;
    int64_t rate = 0;
    const char *topic = inlet_identity_dead_letter(id, &rate);
    if (!topic || !p || !inlet_dead_letter_applies(st))
        return;
    if (!inlet_quota_dead_letter_take(id->tenant, rate)) {
        dropped(id->tenant, "rate");
        return;
    }

    const inlet_event_error *first = rej && rej->n_errors ? &rej->errors[0] : NULL;
    char index[24], n_errors[24], received[24], message[512];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    snprintf(index, sizeof(index), "%zu", first ? first->index : 0);
    snprintf(n_errors, sizeof(n_errors), "%zu", rej ? rej->n_errors : 0);
    snprintf(received, sizeof(received), "%lld",
             (long long)(req->received_at_us ? req->received_at_us
                                             : (int64_t)tv.tv_sec * 1000000 + tv.tv_usec));
    snprintf(message, sizeof(message), "%s",
             rej && rej->message ? rej->message : inlet_status_name(st));

    rd_kafka_headers_t *h = rd_kafka_headers_new(16);
    add(h, "inlet-dlq-reason", inlet_status_name(st));
    add(h, "inlet-dlq-message", message);
    add(h, "inlet-dlq-pointer", first && first->pointer ? first->pointer : "");
    add(h, "inlet-dlq-index", index);
    add(h, "inlet-dlq-errors", n_errors);
    add(h, "inlet-tenant", id->tenant);
    add(h, "inlet-device", id->device_id);
    add(h, "inlet-source", req->source ? req->source : "unknown");
    add(h, "inlet-content-type", req->content_type ? req->content_type : "application/json");
    add(h, "inlet-peer", req->peer);
    add(h, "inlet-schema", req->schema);
    add(h, "inlet-schema-version", req->schema_version);
    add(h, "inlet-received-at", received);

    /* No slot: nobody waits for this record's delivery report (best effort). */
    rd_kafka_resp_err_t e =
        inlet_producer_send(p, topic, id->device_id, strlen(id->device_id), (const char *)req->body,
                            req->body ? req->body_len : 0, h, NULL);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_headers_destroy(h);
        dropped(id->tenant, "kafka");
        return;
    }
    count("inlet_dead_letter_produced_total",
          "Refused requests handed to the producer for the tenant's dead-letter topic.", id->tenant,
          NULL);
}
