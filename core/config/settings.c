/* settings.c - the option table of inletd.yaml. */
#include "settings.h"

#include <stddef.h>

static const char *const log_levels[] = {"error", "warn", "info", "debug", NULL};
static const char *const log_formats[] = {"text", "json", NULL};
static const char *const compressions[] = {"none", "gzip", "snappy", "lz4", "zstd", NULL};
static const char *const missing_topic_modes[] = {"not_ready", "refuse_start", NULL};

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
    KOPT("delivery_timeout", INLET_OPT_DURATION, delivery_timeout_ms, "30s", 100, 600000,
         "Time limit for Kafka to acknowledge an event; after it the device gets a refusal "
         "(not persisted, or possibly persisted). Covers a broker failover: see docs/KAFKA.md."),
    KOPT("request_timeout", INLET_OPT_DURATION, request_timeout_ms, "15s", 100, 600000,
         "How long one produce request may wait for acks=all before it is retried "
         "(request.timeout.ms; at most delivery_timeout)."),
    KOPT("metadata_refresh", INLET_OPT_DURATION, metadata_refresh_ms, "10s", 1000, 3600000,
         "How often the producer refreshes topic metadata on its own "
         "(topic.metadata.refresh.interval.ms); leader changes also trigger a refresh."),
    KOPT("max_queue_messages", INLET_OPT_INT, max_queue_messages, "100000", 1, 10000000,
         "Events waiting for Kafka at most; beyond it devices are refused (503)."),
    KOPT("max_queue_bytes", INLET_OPT_SIZE, max_queue_bytes, "256m", 1048576, 2147483647,
         "Bytes waiting for Kafka at most; beyond it devices are refused (503)."),
    KOPT("health_interval", INLET_OPT_DURATION, health_interval_ms, "1s", 100, 60000,
         "How often the core asks Kafka for metadata (on a connection of its own) to decide "
         "readiness and to find missing topics."),
    {"missing_topic", INLET_OPT_ENUM, offsetof(inlet_kafka_settings, missing_topic), "not_ready", 0,
     0, missing_topic_modes, NULL, 0, 0,
     "A schema whose topic does not exist: not_ready refuses its events at once (503 naming the "
     "topic) until the topic is created; refuse_start refuses to start, or to reload, when Kafka "
     "says a topic is missing."},
    {"properties", INLET_OPT_STRING_MAP, offsetof(inlet_kafka_settings, properties), NULL, 0, 0,
     NULL, NULL, 0, 0, "Any librdkafka producer property, passed through (applied last)."},
    INLET_OPTIONS_END,
};

static const char *const age_policies[] = {"refuse", "drop", NULL};

#define POPT(name, type, field, def, lo, hi, desc)                                                 \
    {                                                                                              \
        name, type, offsetof(inlet_spool_settings, field), def, lo, hi, NULL, NULL, 0, 0, desc     \
    }

static const inlet_option spool_options[] = {
    POPT("dir", INLET_OPT_PATH, dir, NULL, 0, 0,
         "Directory of the spool journal (created if missing; one inletd per directory). Unset: "
         "no spool, and a tenant saying ack: spool is refused at load."),
    POPT("segment_size", INLET_OPT_SIZE, segment_size, "64m", 65536, 1073741824,
         "Size at which the journal starts a new segment file; a segment is deleted once Kafka "
         "acknowledged every record in it."),
    POPT("max_bytes", INLET_OPT_SIZE, max_bytes, "1g", 262144, 1099511627776LL,
         "Disk the segment files may use at most (at least two segments); beyond it spooled "
         "events are refused with 503 / retry later."),
    POPT("max_age", INLET_OPT_DURATION, max_age_ms, "24h", 0, 3650LL * 24 * 3600 * 1000,
         "Oldest an unforwarded event may get (0 = unbounded); what happens then: on_max_age."),
    {"on_max_age", INLET_OPT_ENUM, offsetof(inlet_spool_settings, on_max_age), "refuse", 0, 0,
     age_policies, NULL, 0, 0,
     "refuse: while the oldest unforwarded event is older than max_age, new spooled events are "
     "refused (503) and an error is logged, nothing is dropped; drop: such events are dropped "
     "unforwarded, each counted in inlet_spool_expired_total and logged as an error."},
    POPT("commit_delay", INLET_OPT_DURATION, commit_delay_ms, "0ms", 0, 100,
         "Extra wait before each group fsync to gather more events; acknowledgements always "
         "wait for the fsync that covers them."),
    POPT("max_inflight", INLET_OPT_INT, max_inflight, "10000", 1, 1000000,
         "Spooled events the forwarder has handed to the Kafka producer and not yet seen "
         "acknowledged, at most."),
    POPT("rejected_max_bytes", INLET_OPT_SIZE, rejected_max_bytes, "256m", 0, 1099511627776LL,
         "Disk for copies of spooled records Kafka refuses for good (a record larger than its "
         "topic's max.message.bytes), kept in rejected/ in spool.dir for replay; past it such a "
         "record is dropped and logged."),
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
     NULL, 0, 0, "Log verbosity (SIGHUP applies a change)."},
    {"log_format", INLET_OPT_ENUM, offsetof(inlet_settings, log_format), "text", 0, 0, log_formats,
     NULL, 0, 0,
     "text, or json: one object per line with ts, level, tag, msg and the structured fields of "
     "refusals (SIGHUP applies a change)."},
    SOPT("recent_refusals", INLET_OPT_INT, recent_refusals, "256", 0, 100000,
         "Refusals kept for the admin listener's /refusals and the console (0: none)."),
    SOPT("refusal_log_burst", INLET_OPT_INT, refusal_log_burst, "10", 0, 100000,
         "Refusals logged at info per tenant and reason in each refusal_log_window; the rest are "
         "counted in one \"suppressed\" line."),
    SOPT("refusal_log_window", INLET_OPT_DURATION, refusal_log_window_ms, "10s", 1000, 3600000,
         "The window of refusal_log_burst."),
    SOPT("shutdown_timeout", INLET_OPT_DURATION, shutdown_timeout_ms, "10s", 0, 300000,
         "On SIGTERM, how long to wait for Kafka to acknowledge events in flight."),
    SOPT("retry_after", INLET_OPT_DURATION, retry_after_ms, "2s", 1000, 3600000,
         "Retry-After given to devices refused because Kafka is unavailable."),
    SOPT("max_events", INLET_OPT_INT, max_events, "1000", 1, 100000,
         "Most events accepted in one request (a module may set a lower limit)."),
    {"kafka", INLET_OPT_SECTION, offsetof(inlet_settings, kafka), NULL, 0, 0, NULL, kafka_options,
     0, INLET_OPT_REQUIRED, "The Kafka producer."},
    {"spool", INLET_OPT_SECTION, offsetof(inlet_settings, spool), NULL, 0, 0, NULL, spool_options,
     0, 0, "The store-and-forward spool for tenants and schemas with ack: spool (docs/SPOOL.md)."},
    INLET_OPTIONS_END,
};
