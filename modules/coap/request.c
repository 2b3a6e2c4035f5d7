/*
 * request.c - one CoAP request on a loop: retransmissions answered from the exchange cache,
 * the resource from its Uri-Path, the device from its DTLS session or (where a listener allows
 * it) a Uri-Query token, Block1 reassembly, and the submission whose Kafka result answers it.
 *
 * A request that reaches the core is not answered here: the handler turns libcoap's response
 * into an unsent NON with no code (libcoap 4.3.1 sends a response only if it is not a NON or
 * has a code), and loop.c sends the ACK itself, piggybacked when Kafka answers within
 * ack_timeout, else an empty ACK then and the response later as a CON (RFC 7252 §5.2.2).
 */
#include <stdio.h>
#include <string.h>

#include "coap_module.h"

const coap_listener *coap_loop_listener_of(coap_loop *l, coap_session_t *session);
void coap_loop_timer_add(coap_loop *l, coap_pending *p);
void coap_loop_timer_remove(coap_loop *l, coap_pending *p);

#define QUERY_MAX 8

typedef struct coap_req {
    coap_loop *l;
    coap_module *m;
    coap_session_t *session;
    const coap_pdu_t *pdu;
    coap_pdu_t *response;
    coap_exchange *ex; /* NULL once the cache has no entry for it */
    const struct coap_opts *o;
    int method_slot;
    char diag[160];
} coap_req;

/* Answer now (piggybacked on libcoap's ACK for a CON, or its NON), remembered for duplicates. */
static void answer_now(coap_req *r, const coap_answer *a)
{
    coap_answer_fill(r->response, a);
    if (r->ex)
        coap_answer_remember(r->ex, a);
    coap_count(r->m, r->method_slot, a->code);
}

static void peer_of(coap_session_t *session, char *out, size_t cap)
{
    const coap_address_t *remote = session ? coap_session_get_addr_remote(session) : NULL;
    if (remote != NULL)
        inlet_support_addr_format(&remote->addr.sa, out, cap);
    else if (cap)
        out[0] = '\0';
}

/* What a CoAP refusal code is in the core's words, for host->refusal(). */
static inlet_status status_of_code(uint8_t code)
{
    switch (code) {
    case COAP_CODE(4, 1):
        return INLET_E_UNAUTHENTICATED;
    case COAP_CODE(4, 3):
        return INLET_E_FORBIDDEN;
    case COAP_CODE(4, 13):
        return INLET_E_TOO_LARGE;
    case COAP_CODE(4, 15):
        return INLET_E_MEDIA_TYPE;
    case COAP_CODE(4, 29):
        return INLET_E_QUOTA;
    case COAP_CODE(5, 3):
        return INLET_E_UNAVAILABLE;
    default:
        return code >= COAP_CODE(5, 0) ? INLET_E_INTERNAL : INLET_E_INVALID;
    }
}

/* Refused before submit() (which reports its own): diag goes to the device, detail (NULL: diag)
 * to the core's refusal log. */
static void refuse_detail(coap_req *r, uint8_t code, const char *diag, const char *detail)
{
    char peer[64];
    peer_of(r->session, peer, sizeof(peer));
    r->m->host->refusal(r->m->mod, status_of_code(code), peer[0] ? peer : NULL, NULL,
                        detail ? detail : diag);
    coap_answer a;
    coap_answer_init(&a, code);
    snprintf(r->diag, sizeof(r->diag), "%s", diag);
    a.payload = r->diag;
    a.payload_len = strlen(r->diag);
    if (code == COAP_CODE(5, 3) || code == COAP_CODE(4, 29))
        a.max_age = (uint32_t)r->m->host->retry_after_s();
    if (code == COAP_CODE(4, 13))
        a.size1 = (uint32_t)r->m->cfg->max_body_size;
    answer_now(r, &a);
}

static void refuse(coap_req *r, uint8_t code, const char *diag)
{
    refuse_detail(r, code, diag, NULL);
}

/* The options a request is handled by, from one walk over the PDU (libcoap's
 * coap_check_option() walks from the start for each): Uri-Path and Uri-Query as pointers into
 * the PDU, the first Content-Format, Size1 and Block1. */
typedef struct coap_opts {
    const char *seg[COAP_ROUTE_SEGMENTS + 1];
    size_t seglen[COAP_ROUTE_SEGMENTS + 1], nseg;
    const char *q[QUERY_MAX];
    size_t qlen[QUERY_MAX], nq;
    bool q_over;
    bool has_cf, has_size1, has_block1;
    uint32_t cf, size1, block1;
} coap_opts;

static void put_uint(coap_opt_t *opt, bool *has, uint32_t *v)
{
    if (!*has) {
        *has = true;
        *v = coap_decode_var_bytes(coap_opt_value(opt), coap_opt_length(opt));
    }
}

static void scan_options(const coap_pdu_t *pdu, coap_opts *o)
{
    coap_opt_iterator_t oi;
    coap_opt_t *opt;

    memset(o, 0, sizeof(*o));
    coap_option_iterator_init(pdu, &oi, COAP_OPT_ALL);
    while ((opt = coap_option_next(&oi)) != NULL) {
        switch (oi.number) {
        case COAP_OPTION_URI_PATH:
            /* one more than a pattern may have: such a path matches none */
            if (o->nseg < COAP_ROUTE_SEGMENTS + 1) {
                o->seg[o->nseg] = (const char *)coap_opt_value(opt);
                o->seglen[o->nseg++] = coap_opt_length(opt);
            }
            break;
        case COAP_OPTION_URI_QUERY:
            if (o->nq == QUERY_MAX) {
                o->q_over = true;
                break;
            }
            o->q[o->nq] = (const char *)coap_opt_value(opt);
            o->qlen[o->nq++] = coap_opt_length(opt);
            break;
        case COAP_OPTION_CONTENT_FORMAT:
            put_uint(opt, &o->has_cf, &o->cf);
            break;
        case COAP_OPTION_SIZE1:
            put_uint(opt, &o->has_size1, &o->size1);
            break;
        case COAP_OPTION_BLOCK1:
            put_uint(opt, &o->has_block1, &o->block1);
            break;
        default:
            break;
        }
    }
}

static void well_known(coap_req *r)
{
    char buf[512];
    if (coap_pdu_get_code(r->pdu) != COAP_REQUEST_CODE_GET) {
        refuse(r, COAP_CODE(4, 5), "GET only");
        return;
    }
    size_t n = coap_route_link_format(&r->m->routes, buf, sizeof(buf));
    coap_answer a;
    coap_answer_init(&a, COAP_CODE(2, 5));
    a.content_format = COAP_MEDIATYPE_APPLICATION_LINK_FORMAT; /* 40 */
    a.payload = buf;
    a.payload_len = n;
    coap_answer_fill(r->response, &a);
    coap_count(r->m, r->method_slot, a.code);
    /* GET is safe and idempotent: no need to keep the answer. */
}

/* The device: its DTLS session's, or a Uri-Query token where the listener allows one. */
static inlet_identity *authenticate(coap_req *r, const coap_listener *ls, const char *const *q,
                                    const size_t *qlen, size_t nq, bool q_overflow)
{
    const inlet_host *host = r->m->host;
    inlet_identity *id = NULL;
    inlet_status st;
    const char *why = NULL;

    if (ls->cfg->security == COAP_SECURITY_DTLS) {
        id = coap_dtls_identity(r->l, r->session, &st, &why);
        if (!id)
            refuse(r,
                   st == INLET_E_UNAUTHENTICATED ? COAP_CODE(4, 1)
                   : st == INLET_E_QUOTA         ? COAP_CODE(4, 29)
                                                 : COAP_CODE(5, 3),
                   why);
        return id;
    }
    const char *tok;
    size_t tok_len;
    int has = q_overflow ? -1 : coap_route_query_token(q, qlen, nq, &tok, &tok_len);
    if (!ls->cfg->allow_token || has == 0) {
        refuse(r, COAP_CODE(4, 1),
               ls->cfg->allow_token ? "authentication required: Uri-Query t=<token>"
                                    : "authentication required: use coaps:// (DTLS)");
        return NULL;
    }
    if (has < 0) {
        refuse(r, COAP_CODE(4, 0), "more than one t= query");
        return NULL;
    }
    char msg[128];
    st = host->auth_bearer(tok, tok_len, &id, msg, sizeof(msg));
    if (st != INLET_OK) {
        char detail[160];
        snprintf(detail, sizeof(detail), "bearer token refused: %s", msg);
        refuse_detail(r, st == INLET_E_UNAUTHENTICATED ? COAP_CODE(4, 1) : COAP_CODE(5, 3),
                      "invalid token", detail);
        return NULL;
    }
    return id;
}

/* The body: the payload, or the last block of a Block1 transfer (then *body_owned). Returns
 * false when the request was answered (2.31 Continue or a refusal). */
static bool take_body(coap_req *r, const coap_listener *ls, unsigned cf, const uint8_t **body,
                      size_t *body_len, uint8_t **body_owned, int32_t *block1)
{
    size_t len = 0;
    const uint8_t *data = NULL;
    uint32_t b1 = r->o->block1, size1 = r->o->size1;
    bool has_size1 = r->o->has_size1;

    coap_get_data(r->pdu, &len, &data);
    if (!r->o->has_block1) {
        if (len > r->m->cfg->max_body_size || (has_size1 && size1 > r->m->cfg->max_body_size)) {
            refuse(r, COAP_CODE(4, 13), "request body larger than max_body_size");
            return false;
        }
        *body = data;
        *body_len = len;
        return true;
    }
    /* Block1 value: NUM << 4 | M << 3 | SZX (RFC 7959 §2.2). */
    uint32_t num = b1 >> 4;
    int more = (b1 >> 3) & 1;
    unsigned szx = b1 & 7;
    uint8_t key[COAP_BLOCK1_KEY_MAX];
    size_t kl = 0;
    const coap_address_t *remote = coap_session_get_addr_remote(r->session);
    key[kl++] = (uint8_t)ls->index;
    memcpy(key + kl, &remote->addr, remote->size);
    kl += remote->size;
    /* the request's other options that name it: path and query (§2.3) */
    coap_opt_iterator_t oi;
    coap_opt_t *opt;
    coap_option_iterator_init(r->pdu, &oi, COAP_OPT_ALL);
    while ((opt = coap_option_next(&oi)) != NULL) {
        if (oi.number != COAP_OPTION_URI_PATH && oi.number != COAP_OPTION_URI_QUERY)
            continue;
        size_t ol = coap_opt_length(opt);
        if (kl + 3 + ol > sizeof(key))
            break;
        key[kl++] = (uint8_t)oi.number;
        key[kl++] = (uint8_t)(ol >> 8);
        key[kl++] = (uint8_t)ol;
        memcpy(key + kl, coap_opt_value(opt), ol);
        kl += ol;
    }
    uint8_t *out = NULL;
    size_t out_len = 0;
    coap_block1_result res =
        coap_block1_put(&r->l->blocks, key, kl, num, more, szx, data, len, cf,
                        has_size1 ? size1 : 0, inlet_support_monotonic_ms(), &out, &out_len);
    coap_answer a;
    switch (res) {
    case COAP_BLOCK1_CONTINUE:
    case COAP_BLOCK1_DUPLICATE:
        coap_answer_init(&a, COAP_CODE(2, 31)); /* Continue (RFC 7959 §2.9.1) */
        a.block1 = (int32_t)(num << 4 | 1u << 3 | szx);
        answer_now(r, &a);
        return false;
    case COAP_BLOCK1_COMPLETE:
        *body_owned = out;
        *body = out;
        *body_len = out_len;
        *block1 = (int32_t)(num << 4 | szx);
        return true;
    case COAP_BLOCK1_TOO_LARGE:
        refuse(r, COAP_CODE(4, 13), "request body larger than max_body_size");
        return false;
    case COAP_BLOCK1_INCOMPLETE:
        refuse(r, COAP_CODE(4, 8), "block out of sequence or its transfer is gone");
        return false;
    case COAP_BLOCK1_BAD:
        refuse(r, COAP_CODE(4, 0), "Block1: size does not match the block size");
        return false;
    case COAP_BLOCK1_BUSY:
    default:
        refuse(r, COAP_CODE(5, 3), "too many block-wise transfers in progress");
        return false;
    }
}

/* Answer a duplicate from the cache (RFC 7252 §4.5); true if it was one. */
static bool retransmission(coap_req *r, const coap_exchange_key *key)
{
    coap_exchange *e = coap_exchange_find(&r->l->exchanges, key, inlet_support_monotonic_ms());
    if (!e)
        return false;
    r->m->host->metric_add(r->m->metrics.retransmissions, 1);
    coap_answer a;
    switch (e->state) {
    case COAP_EXCHANGE_PENDING:
        /* Still waiting for Kafka and within ack_timeout: the ACK is on its way. */
        coap_pdu_set_type(r->response, COAP_MESSAGE_NON);
        break;
    case COAP_EXCHANGE_EMPTY_ACKED:
        /* libcoap sends an empty ACK for a CON left without a code. */
        if (coap_pdu_get_type(r->pdu) != COAP_MESSAGE_CON)
            coap_pdu_set_type(r->response, COAP_MESSAGE_NON);
        break;
    case COAP_EXCHANGE_ANSWERED:
        if (coap_pdu_get_type(r->pdu) != COAP_MESSAGE_CON) {
            /* A duplicate NON is silently ignored (§4.5). */
            coap_pdu_set_type(r->response, COAP_MESSAGE_NON);
            break;
        }
        coap_answer_from_exchange(&a, e);
        coap_answer_fill(r->response, &a);
        break;
    }
    return true;
}

void coap_request_handler(coap_resource_t *resource, coap_session_t *session,
                          const coap_pdu_t *request, const coap_string_t *query,
                          coap_pdu_t *response)
{
    (void)resource;
    (void)query;
    coap_loop *l = coap_get_app_data(coap_session_get_context(session));
    coap_module *m = l->m;
    const inlet_host *host = m->host;
    coap_req r = {.l = l, .m = m, .session = session, .pdu = request, .response = response};
    r.method_slot = coap_method_slot(coap_pdu_get_code(request));
    const coap_listener *ls = coap_loop_listener_of(l, session);
    inlet_identity *id = NULL;
    uint8_t *owned = NULL;
    coap_pending *p = NULL;

    if (!ls) {
        refuse(&r, COAP_CODE(5, 0), "no listener");
        return;
    }
    const coap_address_t *remote = coap_session_get_addr_remote(session);
    coap_exchange_key key;
    coap_exchange_key_make(&key, ls->index, &remote->addr, remote->size, coap_pdu_get_mid(request));
    if (retransmission(&r, &key))
        return;

    coap_opts o;
    scan_options(request, &o);
    r.o = &o;
    coap_route_match route;
    coap_route_match_path(&m->routes, o.seg, o.seglen, o.nseg, &route);
    if (route.kind == COAP_ROUTE_WELL_KNOWN) {
        well_known(&r);
        return;
    }
    /* Only requests that may produce are remembered: a GET elsewhere is harmless to repeat. */
    r.ex = coap_exchange_insert(&l->exchanges, &key, inlet_support_monotonic_ms());
    if (route.kind == COAP_ROUTE_NONE) {
        refuse(&r, COAP_CODE(4, 4), "no such resource (GET /.well-known/core lists them)");
        return;
    }
    if (coap_pdu_get_code(request) != COAP_REQUEST_CODE_POST) {
        refuse(&r, COAP_CODE(4, 5), "POST only");
        return;
    }
    if ((id = authenticate(&r, ls, o.q, o.qlen, o.nq, o.q_over)) == NULL)
        return;
    if (m->routes.n_routes) {
        /* Matched above for any tenant; now for this device's: another tenant's route is not
         * a resource for it. */
        coap_route_match_tenant(&m->routes, id->tenant, o.seg, o.seglen, o.nseg, &route);
        if (route.kind != COAP_ROUTE_INGEST && route.kind != COAP_ROUTE_PAYLOAD) {
            refuse(&r, COAP_CODE(4, 4), "no such resource (GET /.well-known/core lists them)");
            goto done;
        }
    }

    uint32_t cf = o.cf;
    const char *ctype = NULL;
    if (!o.has_cf || (ctype = host->content_type_for_coap(cf)) == NULL) {
        refuse(&r, COAP_CODE(4, 15),
               "Content-Format 50 (JSON), 60 (CBOR), 110 (SenML JSON), 112 (SenML CBOR) or 42 "
               "(binary layout) required");
        goto done;
    }
    const uint8_t *body = NULL;
    size_t body_len = 0;
    int32_t block1 = -1;
    if (!take_body(&r, ls, cf, &body, &body_len, &owned, &block1))
        goto done;
    if (body_len == 0) {
        refuse(&r, COAP_CODE(4, 0), "the request body is empty");
        goto done;
    }
    if (l->inflight >= (size_t)m->cfg->max_inflight_per_thread ||
        (p = inlet_support_pending_get(&l->base.pending)) == NULL) {
        refuse(&r, COAP_CODE(5, 3), "too many requests in flight; retry after Max-Age");
        goto done;
    }

    inlet_request req;
    memset(&req, 0, sizeof(req));
    req.size = sizeof(req);
    req.identity = id;
    req.form = route.kind == COAP_ROUTE_PAYLOAD ? INLET_FORM_PAYLOAD : INLET_FORM_BATCH;
    req.schema = route.kind == COAP_ROUTE_PAYLOAD ? route.schema : NULL;
    req.schema_version = route.kind == COAP_ROUTE_PAYLOAD ? route.version : NULL;
    req.body = body; /* borrowed: the core copies what it keeps */
    req.body_len = body_len;
    req.content_type = ctype;
    req.source = "coap";
    char peer[64];
    peer_of(r.session, peer, sizeof(peer));
    req.peer = peer[0] ? peer : NULL;
    req.received_at_us = host->now_us();
    req.max_events = (size_t)m->cfg->max_events;
    req.queue = l->base.queue;
    req.opaque = p;
    inlet_rejection *rej = NULL;
    inlet_status st = host->submit(m->mod, &req, &rej);
    if (st != INLET_OK) {
        coap_answer a;
        coap_answer_for_status(m, &a, st, rej, r.diag, sizeof(r.diag));
        a.block1 = block1;
        answer_now(&r, &a);
        if (rej)
            host->rejection_free(rej);
        inlet_support_pending_put(&l->base.pending, p);
        goto done;
    }

    /* Accepted: the answer waits for Kafka (loop.c). */
    host->metric_add(m->metrics.events, 1);
    host->metric_add(m->metrics.in_flight, 1);
    l->inflight++;
    coap_bin_const_t tok = coap_pdu_get_token(request);
    p->session = coap_session_reference(session);
    p->key = key;
    p->mid = coap_pdu_get_mid(request);
    p->token_len = (uint8_t)(tok.length <= 8 ? tok.length : 8);
    memcpy(p->token, tok.s, p->token_len);
    p->con = coap_pdu_get_type(request) == COAP_MESSAGE_CON;
    p->block1 = block1;
    p->method_slot = r.method_slot;
    coap_pdu_set_type(response, COAP_MESSAGE_NON); /* nothing sent now: see the top */
    if (p->con)
        coap_loop_timer_add(l, p);

done:
    free(owned);
    if (id)
        host->identity_release(id);
}

void coap_request_on_completion(void *ctx, const inlet_completion *c)
{
    coap_loop *l = ctx;
    coap_module *m = l->m;
    coap_pending *p = c->opaque;
    char diag[160];
    coap_answer a;

    if (c->status == INLET_OK) {
        coap_answer_init(&a, COAP_CODE(2, 4));
    } else {
        /* The diagnostic payload says what the core said of the deciding event: "not
         * persisted: safe to resend" or "possibly persisted: resend with the same event_id". */
        const char *err = NULL;
        for (size_t i = 0; i < c->n_events && !err; i++)
            if (c->events[i].status == c->status)
                err = c->events[i].error;
        inlet_rejection rej = {.size = sizeof(rej), .status = c->status, .message = err};
        coap_answer_for_status(m, &a, c->status, err ? &rej : NULL, diag, sizeof(diag));
    }
    a.block1 = p->block1;
    coap_exchange *e = coap_exchange_find(&l->exchanges, &p->key, inlet_support_monotonic_ms());
    if (p->con && !p->empty_acked) {
        coap_loop_timer_remove(l, p);
        coap_send_answer(p->session, COAP_MESSAGE_ACK, p->mid, p->token, p->token_len, &a);
        if (e)
            coap_answer_remember(e, &a);
    } else {
        /* After an empty ACK the answer is a separate CON, retransmitted by libcoap until
         * acknowledged (§5.2.2); a NON request gets a NON (§5.2.3). Duplicates of the request
         * keep getting the empty ACK (CON) or nothing (NON). */
        coap_send_answer(p->session, p->con ? COAP_MESSAGE_CON : COAP_MESSAGE_NON, 0, p->token,
                         p->token_len, &a);
        l->coap_kick |= p->con; /* libcoap retransmits it: its timer must know (loop.c) */
        if (e && !p->con)
            coap_answer_remember(e, &a);
    }
    coap_count(m, p->method_slot, a.code);
    coap_session_release(p->session);
    m->host->metric_add(m->metrics.in_flight, -1);
    l->inflight--;
    inlet_support_pending_put(&l->base.pending, p);
}
