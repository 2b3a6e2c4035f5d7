/* host.c - the inlet_host table: the only way modules reach the core. */
#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>

#include "admin/admin.h"
#include "formats/formats.h"
#include "host_instance.h"
#include "log.h"
#include "metrics.h"
#include "module_ctx.h"
#include "refusals.h"
#include "kafka/queue.h"
#include "pipeline/quota.h"
#include "pipeline/rejection.h"
#include "pipeline/router.h"
#include "identity/tenant.h"

static void host_log(inlet_module_ctx *mod, inlet_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    inlet_vlogf(level, mod && mod->instance ? mod->instance : "module", fmt, ap);
    va_end(ap);
}

static int host_log_enabled(inlet_module_ctx *mod, inlet_log_level level)
{
    (void)mod;
    return level <= inlet_log_get_level();
}

static int64_t host_now_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static inlet_status host_auth_bearer(const char *token, size_t len, inlet_identity **out, char *msg,
                                     size_t msg_len)
{
    char dummy[8];
    if (!msg) {
        msg = dummy;
        msg_len = sizeof(dummy);
    }
    *out = NULL;
    const inlet_world *w = inlet_router_world_acquire();
    if (!w) {
        snprintf(msg, msg_len, "no tenants loaded");
        return INLET_E_UNAUTHENTICATED;
    }
    inlet_status st = inlet_tenants_auth_bearer(w->tenants, token, len, host_now_us() / 1000000,
                                                out, msg, msg_len);
    inlet_router_world_release(w);
    return st;
}

static inlet_status host_auth_cert_chain(const uint8_t *const *chain, const size_t *chain_len,
                                         size_t n, inlet_identity **out, char *msg, size_t msg_len)
{
    char dummy[8];
    if (!msg) {
        msg = dummy;
        msg_len = sizeof(dummy);
    }
    *out = NULL;
    const inlet_world *w = inlet_router_world_acquire();
    if (!w) {
        snprintf(msg, msg_len, "no tenants loaded");
        return INLET_E_UNAUTHENTICATED;
    }
    inlet_status st = inlet_tenants_auth_cert(w->tenants, chain, chain_len, n, out, msg, msg_len);
    inlet_router_world_release(w);
    return st;
}

static inlet_status host_auth_psk(const char *identity, size_t len, uint8_t *key, size_t key_cap,
                                  size_t *key_len, inlet_identity **out, char *msg, size_t msg_len)
{
    char dummy[8];
    if (!msg) {
        msg = dummy;
        msg_len = sizeof(dummy);
    }
    *out = NULL;
    *key_len = 0;
    const inlet_world *w = inlet_router_world_acquire();
    if (!w) {
        snprintf(msg, msg_len, "no tenants loaded");
        return INLET_E_UNAUTHENTICATED;
    }
    inlet_status st =
        inlet_tenants_auth_psk(w->tenants, identity, len, key, key_cap, key_len, out, msg, msg_len);
    inlet_router_world_release(w);
    return st;
}

static inlet_status host_authorize(const inlet_identity *id, const char *schema,
                                   const char *version, char *msg, size_t msg_len)
{
    char dummy[8];
    if (!msg) {
        msg = dummy;
        msg_len = sizeof(dummy);
    }
    const inlet_world *w = inlet_router_world_acquire();
    if (!w)
        return INLET_E_UNAVAILABLE;
    inlet_status st = INLET_OK;
    if (!inlet_schemas_find(w->schemas, schema, version)) {
        snprintf(msg, msg_len, "unknown schema %s version %s", schema, version);
        st = INLET_E_UNKNOWN_SCHEMA;
    } else {
        st = inlet_acl_check(id, schema, version, msg, msg_len);
    }
    inlet_router_world_release(w);
    return st;
}

static inlet_status host_identity_for_device(const char *tenant, const char *device_id,
                                             inlet_identity **out, char *msg, size_t msg_len)
{
    char dummy[8];
    if (!msg) {
        msg = dummy;
        msg_len = sizeof(dummy);
    }
    *out = NULL;
    const inlet_world *w = inlet_router_world_acquire();
    if (!w) {
        snprintf(msg, msg_len, "no tenants loaded");
        return INLET_E_UNAUTHENTICATED;
    }
    inlet_status st =
        inlet_identity_for_device(w->tenants, tenant, device_id, INLET_AUTH_TOKEN, out);
    if (st != INLET_OK)
        snprintf(msg, msg_len, "no tenant \"%s\" or invalid device id", tenant);
    inlet_router_world_release(w);
    return st;
}

static inlet_status host_identity_for_imei(const char *imei, size_t len, inlet_identity **out,
                                           char *msg, size_t msg_len)
{
    char dummy[8];
    if (!msg) {
        msg = dummy;
        msg_len = sizeof(dummy);
    }
    *out = NULL;
    const inlet_world *w = inlet_router_world_acquire();
    if (!w) {
        snprintf(msg, msg_len, "no tenants loaded");
        return INLET_E_UNAUTHENTICATED;
    }
    inlet_status st = inlet_tenants_auth_imei(w->tenants, imei, len, out, msg, msg_len);
    inlet_router_world_release(w);
    return st;
}

static const char *host_content_type_for_coap(unsigned content_format)
{
    inlet_format f;
    return inlet_format_from_coap(content_format, &f) == 0 ? inlet_format_content_type(f) : NULL;
}

static int host_content_type_supported(const char *content_type)
{
    inlet_format f;
    return content_type && inlet_format_from_content_type(content_type, &f) == 0;
}

/* ABI 1.5 connection quotas: the tenant files' limits.connections (pipeline/quota.c). */
static inlet_status host_connection_open(inlet_module_ctx *mod, const inlet_identity *id, char *msg,
                                         size_t msg_len)
{
    (void)mod;
    return inlet_quota_connection_open(id, msg, msg_len);
}

static void host_connection_close(inlet_module_ctx *mod, const inlet_identity *id)
{
    (void)mod;
    inlet_quota_connection_close(id);
}

static void host_refusal(inlet_module_ctx *mod, inlet_status status, const char *peer,
                         const inlet_identity *id, const char *detail)
{
    inlet_refusal r = {
        .module = mod ? mod->instance : NULL,
        .protocol = mod && mod->desc ? mod->desc->name : NULL,
        .status = status,
        .peer = peer,
        .tenant = id ? id->tenant : NULL,
        .device = id ? id->device_id : NULL,
        .detail = detail,
    };
    inlet_refusal_record(&r);
}

static const inlet_host host_table = {
    .abi_major = INLET_ABI_MAJOR,
    .abi_minor = INLET_ABI_MINOR,
    .size = sizeof(inlet_host),
    .log = host_log,
    .log_enabled = host_log_enabled,
    .auth_bearer = host_auth_bearer,
    .auth_cert_chain = host_auth_cert_chain,
    .identity_ref = inlet_identity_ref,
    .identity_release = inlet_identity_release,
    .authorize = host_authorize,
    .submit = inlet_router_submit,
    .rejection_free = inlet_rejection_free,
    .queue_new = inlet_queue_new,
    .queue_fd = inlet_queue_fd,
    .queue_drain = inlet_queue_drain,
    .queue_pending = inlet_queue_pending,
    .queue_free = inlet_queue_free,
    .kafka_ready = inlet_router_kafka_ready,
    .retry_after_s = inlet_router_retry_after_s,
    .metric_counter = inlet_metric_counter,
    .metric_gauge = inlet_metric_gauge,
    .metric_add = inlet_metric_add,
    .metrics_render = inlet_metrics_render,
    .now_us = host_now_us,
    .identity_for_device = host_identity_for_device,
    .status_name = inlet_status_name,
    .content_type_for_coap = host_content_type_for_coap,
    .content_type_supported = host_content_type_supported,
    .auth_psk = host_auth_psk,
    .identity_for_imei = host_identity_for_imei,
    .identity_expires_at = inlet_identity_expires_at,
    .instance_name = inlet_host_instance_name,
    .metric_counter_for = inlet_host_metric_counter_for,
    .metric_gauge_for = inlet_host_metric_gauge_for,
    .connection_open = host_connection_open,
    .connection_close = host_connection_close,
    .refusal = host_refusal,
    .admin_resource = inlet_admin_resource,
};

const inlet_host *inlet_host_table(void)
{
    return &host_table;
}
