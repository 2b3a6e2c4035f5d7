/*
 * broker_log.h - librdkafka's error and log callbacks turned into one line per broker state
 * change: librdkafka reports a broken connection twice (error_cb and a FAIL log line), repeats
 * it on every reconnect attempt and adds guesses about SASL and security.protocol that mislead
 * on a plaintext cluster whose broker simply died. Here a broker is logged "down" once, with the
 * reason (hints removed), and "up again" once, from the statistics callback's broker states.
 * Recovery notices (librdkafka's NOTICE/INFO levels: idempotent producer epoch bumps,
 * OutOfOrderSequence recovery) are logged at info.
 */
#ifndef INLET_KAFKA_BROKER_LOG_H
#define INLET_KAFKA_BROKER_LOG_H

#include <stddef.h>

/* The reason without librdkafka's misleading hints, into out (always terminated). */
void inlet_broker_log_clean(const char *reason, char *out, size_t out_len);

/* error_cb for the producer (err is an rd_kafka_resp_err_t). Not __FATAL: the producer does
 * that itself. */
void inlet_broker_log_error(int err, const char *reason);
/* log_cb for the producer. */
void inlet_broker_log_line(int level, const char *fac, const char *buf);
/* stats_cb JSON: logs brokers that came back. */
void inlet_broker_log_stats(const char *json, size_t len);
/* Forget every broker (tests). */
void inlet_broker_log_reset(void);

#endif
