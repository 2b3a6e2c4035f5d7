/* host_instance.h - host functions scoped to one module instance (ABI 1.5). */
#ifndef INLET_HOST_INSTANCE_H
#define INLET_HOST_INSTANCE_H

#include "inlet/module.h"

const char *inlet_host_instance_name(inlet_module_ctx *mod);
inlet_metric *inlet_host_metric_counter_for(inlet_module_ctx *mod, const char *name,
                                            const char *help, const char *labels);
inlet_metric *inlet_host_metric_gauge_for(inlet_module_ctx *mod, const char *name, const char *help,
                                          const char *labels);

#endif
