/* delivery_outcome.c - see delivery_outcome.h. */
#include "delivery_outcome.h"

/* The one text of a batch the broker refused for its size; compared by address. */
static const char too_large_text[] =
    "not persisted (safe to resend): Kafka refused the batch as larger than the topic's "
    "max.message.bytes";

inlet_delivery_outcome inlet_delivery_outcome_of(rd_kafka_resp_err_t err, rd_kafka_msg_status_t ms)
{
    inlet_delivery_outcome o = {INLET_OK, NULL};
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
        return o;
    if (ms == RD_KAFKA_MSG_STATUS_NOT_PERSISTED) {
        o.status = INLET_E_UNAVAILABLE;
        o.error = err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
                          err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE
                      ? too_large_text
                      : "not persisted: safe to resend";
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

int inlet_delivery_refused_too_large(const char *error)
{
    return error == too_large_text;
}
