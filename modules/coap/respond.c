/*
 * respond.c - CoAP answers: the code for each core status, diagnostic payloads (RFC 7252
 * §5.5.2), the options a refusal carries (Max-Age for 5.03, Size1 for 4.13, Block1 on the
 * answer to a block-wise request), and sending them piggybacked, separate or as NON.
 */
#include <stdio.h>
#include <string.h>

#include "coap_module.h"

const uint8_t coap_code_slots[COAP_CODES - 1] = {
    COAP_CODE(2, 4),  COAP_CODE(2, 5),  COAP_CODE(2, 31), COAP_CODE(4, 0), COAP_CODE(4, 1),
    COAP_CODE(4, 2),  COAP_CODE(4, 3),  COAP_CODE(4, 4),  COAP_CODE(4, 5), COAP_CODE(4, 8),
    COAP_CODE(4, 13), COAP_CODE(4, 15), COAP_CODE(5, 0),  COAP_CODE(5, 3), COAP_CODE(0, 0),
};

int coap_method_slot(coap_pdu_code_t method)
{
    return method == COAP_REQUEST_CODE_GET ? 0 : method == COAP_REQUEST_CODE_POST ? 1 : 2;
}

void coap_count(coap_module *m, int method_slot, uint8_t code)
{
    size_t i = 0;
    while (i < COAP_CODES - 1 && coap_code_slots[i] != code)
        i++;
    m->host->metric_add(m->metrics.requests[method_slot][i], 1);
}

void coap_answer_init(coap_answer *a, uint8_t code)
{
    memset(a, 0, sizeof(*a));
    a->code = code;
    a->block1 = -1;
    a->content_format = -1;
}

static uint8_t code_for_status(inlet_status st)
{
    switch (st) {
    case INLET_OK:
        return COAP_CODE(2, 4); /* 2.04 Changed: the events were stored (RFC 7252 §5.9.1.4) */
    case INLET_E_UNAUTHENTICATED:
        return COAP_CODE(4, 1);
    case INLET_E_FORBIDDEN:
        return COAP_CODE(4, 3);
    case INLET_E_INVALID:
    case INLET_E_UNKNOWN_SCHEMA:
        return COAP_CODE(4, 0);
    case INLET_E_MEDIA_TYPE:
        return COAP_CODE(4, 15);
    case INLET_E_TOO_LARGE:
        return COAP_CODE(4, 13);
    case INLET_E_INTERNAL:
        return COAP_CODE(5, 0);
    case INLET_E_QUOTA:
        return COAP_CODE(4, 29); /* 4.29 Too Many Requests, RFC 8516 */
    case INLET_E_UNAVAILABLE:
    case INLET_E_POSSIBLY_PERSISTED:
    case INLET_E_SHUTTING_DOWN:
    default:
        return COAP_CODE(5, 3);
    }
}

void coap_answer_for_status(coap_module *m, coap_answer *a, inlet_status st,
                            const inlet_rejection *rej, char *diag, size_t diag_len)
{
    coap_answer_init(a, code_for_status(st));
    int n = 0;
    if (rej && rej->n_errors > 0) {
        const inlet_event_error *e = &rej->errors[0];
        /* The JSON pointer first, as HTTP's problem+json "errors" carry it. */
        if (rej->n_events > 1)
            n = snprintf(diag, diag_len, "event %zu: %s: %s", e->index,
                         e->pointer && e->pointer[0] ? e->pointer : "/",
                         e->message ? e->message : m->host->status_name(e->status));
        else
            n = snprintf(diag, diag_len, "%s: %s", e->pointer && e->pointer[0] ? e->pointer : "/",
                         e->message ? e->message : m->host->status_name(e->status));
    } else if (rej && rej->message) {
        n = snprintf(diag, diag_len, "%s", rej->message);
    } else {
        n = snprintf(diag, diag_len, "%s", m->host->status_name(st));
    }
    if (n < 0)
        n = 0;
    a->payload = diag;
    a->payload_len = (size_t)n < diag_len ? (size_t)n : diag_len - 1;
    if (a->code == COAP_CODE(4, 29) && rej && rej->size >= offsetof(inlet_rejection, reserved) &&
        rej->retry_after_s > 0)
        a->max_age = (uint32_t)rej->retry_after_s; /* RFC 8516 §3: when to try again */
    else if (a->code == COAP_CODE(5, 3) || a->code == COAP_CODE(4, 29))
        a->max_age = (uint32_t)m->host->retry_after_s(); /* RFC 7252 §5.9.3.4 */
    if (a->code == COAP_CODE(4, 13))
        a->size1 = (uint32_t)m->cfg->max_body_size; /* RFC 7959 §4 */
}

static void add_uint(coap_pdu_t *pdu, uint16_t opt, uint32_t v)
{
    uint8_t buf[4];
    coap_add_option(pdu, opt, coap_encode_var_safe(buf, sizeof(buf), v), buf);
}

void coap_answer_fill(coap_pdu_t *pdu, const coap_answer *a)
{
    coap_pdu_set_code(pdu, (coap_pdu_code_t)a->code);
    /* Options in ascending number: Content-Format 12, Max-Age 14, Block1 27, Size1 60. */
    if (a->content_format >= 0)
        add_uint(pdu, COAP_OPTION_CONTENT_FORMAT, (uint32_t)a->content_format);
    if (a->max_age)
        add_uint(pdu, COAP_OPTION_MAXAGE, a->max_age);
    if (a->block1 >= 0)
        add_uint(pdu, COAP_OPTION_BLOCK1, (uint32_t)a->block1);
    if (a->size1)
        add_uint(pdu, COAP_OPTION_SIZE1, a->size1);
    if (a->payload_len)
        coap_add_data(pdu, a->payload_len, (const uint8_t *)a->payload);
}

void coap_answer_remember(coap_exchange *e, const coap_answer *a)
{
    e->state = COAP_EXCHANGE_ANSWERED;
    e->code = a->code;
    e->max_age = a->max_age;
    e->size1 = a->size1;
    e->block1 = a->block1;
    size_t n = a->payload_len < COAP_EXCHANGE_DIAG ? a->payload_len : COAP_EXCHANGE_DIAG;
    if (n > 0) /* a 2.04 has no payload, and memcpy from NULL is undefined even for 0 bytes */
        memcpy(e->diag, a->payload, n);
    e->diag_len = (uint8_t)n;
}

void coap_answer_from_exchange(coap_answer *a, const coap_exchange *e)
{
    coap_answer_init(a, e->code);
    a->max_age = e->max_age;
    a->size1 = e->size1;
    a->block1 = e->block1;
    a->payload = e->diag;
    a->payload_len = e->diag_len;
}

void coap_send_empty_ack(coap_session_t *session, uint16_t mid)
{
    coap_pdu_t *pdu = coap_pdu_init(COAP_MESSAGE_ACK, COAP_EMPTY_CODE, mid, 4);
    if (pdu)
        coap_send(session, pdu); /* takes pdu */
}

void coap_send_answer(coap_session_t *session, int type, uint16_t mid, const uint8_t *token,
                      size_t token_len, const coap_answer *a)
{
    /* A separate or NON response is a new message with a new Message ID (RFC 7252 §5.2.2,
     * §5.2.3); a piggybacked one reuses the request's. */
    if (type != COAP_MESSAGE_ACK)
        mid = coap_new_message_id(session);
    coap_pdu_t *pdu = coap_pdu_init((coap_pdu_type_t)type, (coap_pdu_code_t)a->code, mid,
                                    coap_session_max_pdu_size(session));
    if (!pdu)
        return;
    coap_add_token(pdu, token_len, token);
    coap_answer_fill(pdu, a);
    coap_send(session, pdu);
}
