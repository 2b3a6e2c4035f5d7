/* settings.c - the option table of inletd.yaml. */
#include "settings.h"

#include <stddef.h>

static const char *const log_levels[] = {"error", "warn", "info", "debug", NULL};
static const char *const compressions[] = {"none", "gzip", "snappy", "lz4", "zstd", NULL};

#define KOPT(name, type, field, def, lo, hi, desc)                                                 \
    {                                                                                              \
        name, type, offsetof(inlet_kafka_settings, field), def, lo, hi, NULL, NULL, 0, 0, desc     \
    }

static const inlet_option kafka_options[] = {
    {"bootstrap_servers", INLET_OPT_STRING, offsetof(inlet_kafka_settings, bootstrap_servers), NULL,
     0, 0, NULL, NULL, 0, INLET_OPT_REQUIRED, "Kafka bootstrap servers, host:port[,...]."},
    KOPT("client_id", INLET_OPT_STRING, client_id, "inletd", 0, 0, "Kafka client.id."),
    {"compression", INLET_OPT_ENUM, offsetof(inlet_kafka_settings, compression), "lz4", 0, 0,
     compressions, NULL, 0, 0, "Producer compression codec."},
    KOPT("linger", INLET_OPT_DURATION, linger_ms, "5ms", 0, 1000,
         "How long the producer waits to fill a batch (linger.ms)."),
    KOPT("delivery_timeout", INLET_OPT_DURATION, delivery_timeout_ms, "10s", 100, 600000,
         "Time limit for Kafka to acknowledge an event; after it the device gets a refusal."),
    KOPT("max_queue_messages", INLET_OPT_INT, max_queue_messages, "100000", 1, 10000000,
         "Events waiting for Kafka at most; beyond it devices are refused (503)."),
    KOPT("max_queue_bytes", INLET_OPT_SIZE, max_queue_bytes, "256m", 1048576, 2147483647,
         "Bytes waiting for Kafka at most; beyond it devices are refused (503)."),
    KOPT("health_interval", INLET_OPT_DURATION, health_interval_ms, "1s", 100, 60000,
         "How often the core asks Kafka for metadata to decide readiness."),
    {"properties", INLET_OPT_STRING_MAP, offsetof(inlet_kafka_settings, properties), NULL, 0, 0,
     NULL, NULL, 0, 0, "Any librdkafka producer property, passed through (applied last)."},
    INLET_OPTIONS_END,
};

#define SOPT(name, type, field, def, lo, hi, desc)                                                 \
    {                                                                                              \
        name, type, offsetof(inlet_settings, field), def, lo, hi, NULL, NULL, 0, 0, desc           \
    }

const inlet_option inlet_settings_options[] = {
    SOPT("module_dir", INLET_OPT_PATH, module_dir, NULL, 0, 0,
         "Directory of protocol modules (<name>.so); default: $INLET_MODULE_DIR, else "
         "<prefix>/lib/inlet/modules (a binary run from its build tree: the tree's modules/)."),
    SOPT("schema_dir", INLET_OPT_PATH, schema_dir, "schemas", 0, 0,
         "Directory of schemas/<name>/v<N>.json."),
    SOPT("tenants_dir", INLET_OPT_PATH, tenants_dir, NULL, 0, 0,
         "Optional directory of tenant files, in addition to tenant files in conf.d/."),
    {"log_level", INLET_OPT_ENUM, offsetof(inlet_settings, log_level), "info", 0, 0, log_levels,
     NULL, 0, 0, "Log verbosity."},
    SOPT("shutdown_timeout", INLET_OPT_DURATION, shutdown_timeout_ms, "10s", 0, 300000,
         "On SIGTERM, how long to wait for Kafka to acknowledge events in flight."),
    SOPT("retry_after", INLET_OPT_DURATION, retry_after_ms, "2s", 1000, 3600000,
         "Retry-After given to devices refused because Kafka is unavailable."),
    SOPT("max_events", INLET_OPT_INT, max_events, "1000", 1, 100000,
         "Most events accepted in one request (a module may set a lower limit)."),
    {"kafka", INLET_OPT_SECTION, offsetof(inlet_settings, kafka), NULL, 0, 0, NULL, kafka_options,
     0, INLET_OPT_REQUIRED, "The Kafka producer."},
    INLET_OPTIONS_END,
};
