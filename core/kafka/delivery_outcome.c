/* delivery_outcome.c - see delivery_outcome.h. */
#include "delivery_outcome.h"

inlet_delivery_outcome inlet_delivery_outcome_of(rd_kafka_resp_err_t err, rd_kafka_msg_status_t ms)
{
    inlet_delivery_outcome o = {INLET_OK, NULL};
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
        return o;
    if (ms == RD_KAFKA_MSG_STATUS_NOT_PERSISTED) {
        o.status = INLET_E_UNAVAILABLE;
        o.error = "not persisted: safe to resend";
    } else {
        o.status = INLET_E_POSSIBLY_PERSISTED;
        o.error = "possibly persisted: resend with the same event_id";
    }
    return o;
}

inlet_status inlet_delivery_status_for_module(inlet_status st, uint32_t abi_minor)
{
    if (st == INLET_E_POSSIBLY_PERSISTED && abi_minor < 5)
        return INLET_E_UNAVAILABLE;
    return st;
}
