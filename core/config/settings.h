/* settings.h - the main configuration file (<dir>/inletd.yaml): the core's option table. */
#ifndef INLET_SETTINGS_H
#define INLET_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "inlet/options.h"

typedef enum {
    INLET_COMPRESSION_NONE,
    INLET_COMPRESSION_GZIP,
    INLET_COMPRESSION_SNAPPY,
    INLET_COMPRESSION_LZ4,
    INLET_COMPRESSION_ZSTD
} inlet_compression;

/* What a schema whose Kafka topic does not exist does to the daemon (docs/KAFKA.md). */
typedef enum {
    INLET_MISSING_TOPIC_NOT_READY,    /* refuse that schema's events at once, heal when created */
    INLET_MISSING_TOPIC_REFUSE_START, /* refuse to start, and refuse a reload that needs one */
} inlet_missing_topic;

typedef struct inlet_kafka_settings {
    char *bootstrap_servers;
    char *client_id;
    int compression; /* inlet_compression */
    int64_t linger_ms;
    int64_t delivery_timeout_ms;
    int64_t max_queue_messages; /* queue.buffering.max.messages: the bound on in-flight events */
    uint64_t max_queue_bytes;
    int64_t request_timeout_ms;  /* request.timeout.ms (capped at delivery_timeout) */
    int64_t metadata_refresh_ms; /* topic.metadata.refresh.interval.ms */
    int64_t health_interval_ms;
    int missing_topic;        /* inlet_missing_topic */
    inlet_str_map properties; /* passed to librdkafka as they are, after the typed ones */
} inlet_kafka_settings;

typedef enum { INLET_SPOOL_AGE_REFUSE = 0, INLET_SPOOL_AGE_DROP = 1 } inlet_spool_age_policy;

/* The store-and-forward spool (core/spool/, docs/SPOOL.md); dir NULL = no spool. */
typedef struct inlet_spool_settings {
    char *dir;
    uint64_t segment_size;
    uint64_t max_bytes;
    int64_t max_age_ms; /* 0 = unbounded */
    int on_max_age;     /* inlet_spool_age_policy */
    int64_t commit_delay_ms;
    int64_t max_inflight;
    uint64_t rejected_max_bytes; /* copies of records Kafka refused for good (rejected.h) */
} inlet_spool_settings;

typedef struct inlet_settings {
    char *module_dir;
    char *schema_dir;
    char *tenants_dir;
    int log_level;  /* inlet_log_level */
    int log_format; /* inlet_log_format */
    int64_t recent_refusals;
    int64_t refusal_log_burst;
    int64_t refusal_log_window_ms;
    int64_t shutdown_timeout_ms;
    int64_t retry_after_ms;
    int64_t max_events;
    inlet_kafka_settings kafka;
    inlet_spool_settings spool;
} inlet_settings;

extern const inlet_option inlet_settings_options[];

#endif
