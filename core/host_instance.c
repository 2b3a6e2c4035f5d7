/* host_instance.c - host functions scoped to one module instance (ABI 1.5): its name and
 * metrics labelled with it. */
#include <stdio.h>
#include <string.h>

#include "host_instance.h"
#include "metrics.h"
#include "module_ctx.h"

const char *inlet_host_instance_name(inlet_module_ctx *mod)
{
    return mod && mod->instance ? mod->instance : "module";
}

/* `module="<instance>"` followed by the caller's labels, if any. */
static void scoped_labels(inlet_module_ctx *mod, const char *labels, char *out, size_t out_len)
{
    if (labels && labels[0])
        snprintf(out, out_len, "module=\"%s\",%s", inlet_host_instance_name(mod), labels);
    else
        snprintf(out, out_len, "module=\"%s\"", inlet_host_instance_name(mod));
}

inlet_metric *inlet_host_metric_counter_for(inlet_module_ctx *mod, const char *name,
                                            const char *help, const char *labels)
{
    char buf[512];
    scoped_labels(mod, labels, buf, sizeof(buf));
    return inlet_metric_counter(name, help, buf);
}

inlet_metric *inlet_host_metric_gauge_for(inlet_module_ctx *mod, const char *name, const char *help,
                                          const char *labels)
{
    char buf[512];
    scoped_labels(mod, labels, buf, sizeof(buf));
    return inlet_metric_gauge(name, help, buf);
}
