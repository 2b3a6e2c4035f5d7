/*
 * router.h - the event path shared by every module: submit() normalizes a request into
 * envelopes, hands them to the producer and arranges for one completion on the module's queue.
 * It also holds the current "world" (tenants and schemas), swapped whole on reload.
 */
#ifndef INLET_ROUTER_H
#define INLET_ROUTER_H

#include "inlet/module.h"
#include "kafka/producer.h"
#include "schema/schema.h"
#include "identity/tenant.h"

typedef struct inlet_world {
    inlet_tenants *tenants;
    inlet_schemas *schemas;
} inlet_world;

/* producer is borrowed and must outlive the router. */
void inlet_router_init(inlet_producer *producer, size_t max_events, int retry_after_s);
/* The spool for ack: spool events (borrowed; NULL = none), before modules start. */
struct inlet_spool;
void inlet_router_set_spool(struct inlet_spool *spool);
/* Install tenants and schemas (ownership passes to the router); the previous world is freed
 * once the last submission using it finished. */
void inlet_router_set_world(inlet_tenants *tenants, inlet_schemas *schemas);
/* The current world with a reference; release it with inlet_router_world_release(). */
const inlet_world *inlet_router_world_acquire(void);
void inlet_router_world_release(const inlet_world *w);
/* Refuse every submission from now on with INLET_E_SHUTTING_DOWN. */
void inlet_router_shutdown(void);
/* Free the world (at exit). */
void inlet_router_fini(void);

inlet_status inlet_router_submit(inlet_module_ctx *mod, const inlet_request *req,
                                 inlet_rejection **rej);
int inlet_router_kafka_ready(void);
int inlet_router_retry_after_s(void);

#endif
