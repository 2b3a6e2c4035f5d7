/*
 * refusal.c - the refusals the HTTP module decides itself (no or bad credentials, a body it will
 * not hand to the core: 400, 411, 413, 415) reported to the core with host->refusal(), so they
 * are logged and listed like the core's own; and the device's address for inlet_request.peer.
 */
#include "http.h"

void http_peer_of(h2o_req_t *req, char *out, size_t cap)
{
    struct sockaddr_storage ss;
    if (cap)
        out[0] = '\0';
    /* through h2o, so a PROXY protocol line's source address is the one given */
    if (req->conn != NULL && req->conn->callbacks->get_peername != NULL &&
        req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss) != 0)
        inlet_support_addr_format((struct sockaddr *)&ss, out, cap);
}

void http_report_refusal(http_module *m, h2o_req_t *req, inlet_status st, const inlet_identity *id,
                         const char *detail)
{
    char peer[64];
    http_peer_of(req, peer, sizeof(peer));
    m->host->refusal(m->mod, st, peer[0] ? peer : NULL, id, detail);
}

void http_refuse(http_module *m, h2o_req_t *req, const inlet_identity *id, int status,
                 const char *detail)
{
    inlet_status st = status == 413   ? INLET_E_TOO_LARGE
                      : status == 415 ? INLET_E_MEDIA_TYPE
                      : status == 503 ? INLET_E_UNAVAILABLE
                                      : INLET_E_INVALID;
    http_report_refusal(m, req, st, id, detail);
    http_send_problem(m, req, status, detail);
}
