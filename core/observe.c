/* observe.c - see observe.h. */
#include "observe.h"

#include <stdio.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "config/config.h"
#include "log.h"
#include "metric_labels.h"
#include "metrics.h"
#include "refusals.h"

static void build_info(void)
{
    char labels[160];
    snprintf(labels, sizeof(labels), "version=\"%s\",abi=\"%d.%d\",librdkafka=\"%s\"",
             INLET_VERSION, INLET_ABI_MAJOR, INLET_ABI_MINOR, rd_kafka_version_str());
    inlet_metric_set(inlet_metric_gauge("inlet_build_info",
                                        "Always 1; the labels say which inletd is running.",
                                        labels),
                     1);
}

void inlet_observe_apply(const inlet_settings *s)
{
    inlet_log_set_level((inlet_log_level)s->log_level);
    inlet_log_set_format((inlet_log_format)s->log_format);
    inlet_refusals_configure((size_t)s->recent_refusals, (unsigned)s->refusal_log_burst,
                             (unsigned)((s->refusal_log_window_ms + 999) / 1000));
    build_info();
}

int inlet_observe_reload(const char *main_path, char *err, size_t err_len)
{
    inlet_conf_file *f = NULL;
    inlet_settings s;
    memset(&s, 0, sizeof(s));
    if (inlet_conf_load(main_path, &f, err, err_len) != 0)
        return -1;
    const inlet_conf_node *root = inlet_conf_root(f);
    int rc = root ? inlet_conf_apply(f, root, inlet_settings_options, &s, NULL, err, err_len) : -1;
    if (!root)
        snprintf(err, err_len, "%s: empty", main_path);
    inlet_conf_file_free(f);
    if (rc != 0)
        return -1;
    inlet_observe_apply(&s);
    inlet_conf_release(inlet_settings_options, &s);
    return 0;
}

void inlet_observe_shutdown(void)
{
    inlet_refusals_shutdown();
    inlet_metric_labels_shutdown();
}
