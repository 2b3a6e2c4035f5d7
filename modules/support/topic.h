/*
 * topic.h - topic patterns: how a module routes a message by its topic (or path).
 *
 * A topic is a string of levels separated by '/', as in MQTT. A pattern is matched level by
 * level like an MQTT topic filter (MQTT 5.0 §4.7): each of its levels is a literal, "+" (any one
 * level), "#" (the rest, zero levels or more; last only) or a placeholder "{name}" that matches
 * one NON-EMPTY level and captures it. The placeholder names are the caller's (the MQTT listener
 * has {device}, {schema}, {version}; the bridge also {tenant}); each may appear once.
 *
 * Use: compile every configured pattern at create() with inlet_support_topic_compile(), then
 * match each message's topic with inlet_support_topic_match() on the loop (no allocation, no
 * lock), and read the captured levels from the spans. What a capture means (a device that must
 * be the authenticated one, a schema name) stays the module's business.
 *
 * Pure: no core, no OpenSSL. The unit tests include topic.c and utf8.c directly.
 */
#ifndef INLET_SUPPORT_TOPIC_H
#define INLET_SUPPORT_TOPIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "utf8.h"

/* Longest pattern or filter, in bytes (an MQTT string). */
#define INLET_SUPPORT_TOPIC_MAX 65535u
/* Most placeholder names one syntax may have. */
#define INLET_SUPPORT_TOPIC_MAX_FIELDS 8

typedef enum inlet_support_topic_kind {
    INLET_SUPPORT_TOPIC_LITERAL = 0, /* this exact level */
    INLET_SUPPORT_TOPIC_ANY,         /* '+': any one level, not kept */
    INLET_SUPPORT_TOPIC_REST,        /* '#': zero or more remaining levels (last only) */
    INLET_SUPPORT_TOPIC_FIELD,       /* "{name}": any one non-empty level, kept */
} inlet_support_topic_kind;

typedef struct inlet_support_topic_level {
    uint8_t kind;  /* inlet_support_topic_kind */
    uint8_t field; /* FIELD: index into the syntax's names */
    size_t len;    /* LITERAL: bytes of literal */
    char *literal; /* LITERAL: the level, NUL-terminated; owned */
} inlet_support_topic_level;

/* What a caller's patterns may contain. */
typedef struct inlet_support_topic_syntax {
    /* Placeholder names without braces, NULL-terminated (at most MAX_FIELDS); a capture goes to
     * the span of the name's index. */
    const char *const *fields;
    /* Checks on the pattern text beyond well-formed UTF-8 (INLET_SUPPORT_UTF8_STRICT...). */
    unsigned utf8_flags;
    /* A topic starting with '$' never matches a pattern whose first level is a wildcard or a
     * placeholder (MQTT 5.0 §4.7.2: "$SYS/..." is the server's, not a device's). */
    bool dollar_rule;
} inlet_support_topic_syntax;

typedef struct inlet_support_topic_pattern {
    inlet_support_topic_level *levels; /* owned */
    size_t n;
    unsigned fields;  /* bit (1u << field) for each placeholder present */
    uint8_t n_fields; /* names in the syntax: entries of a match's spans */
    bool dollar_rule;
} inlet_support_topic_pattern;

/* A captured level: points into the topic given to inlet_support_topic_match(). */
typedef struct inlet_support_topic_span {
    const char *p; /* NULL: the pattern has no such placeholder */
    size_t len;
} inlet_support_topic_span;

/*
 * Compile text (1..INLET_SUPPORT_TOPIC_MAX bytes of UTF-8) into *out. Wildcards and placeholders
 * must be whole levels, a placeholder appears at most once, '#' only last; levels may be empty as
 * in MQTT. On error *out is empty and err says what, without a key prefix ("level \"a+\": ...").
 */
int inlet_support_topic_compile(inlet_support_topic_pattern *out, const char *text,
                                const inlet_support_topic_syntax *syntax, char *err,
                                size_t err_len);
void inlet_support_topic_free(inlet_support_topic_pattern *p);

/*
 * Does topic (topic_len bytes, no NUL needed) match p? spans has an entry per name of the
 * syntax (or INLET_SUPPORT_TOPIC_MAX_FIELDS); all are reset, then the captures filled.
 */
bool inlet_support_topic_match(const inlet_support_topic_pattern *p, const char *topic,
                               size_t topic_len, inlet_support_topic_span *spans);

/* The MQTT filter that subscribes to what p matches (placeholders become '+') in buf, NUL
 * included; returns its length, 0 if buf is too small. */
size_t inlet_support_topic_filter(const inlet_support_topic_pattern *p, char *buf, size_t buf_len);

/* A topic filter as MQTT 3.1.1 / 5.0 §4.7.1 define it ('+' and '#' whole levels, '#' last). */
int inlet_support_topic_filter_check(const char *filter, char *err, size_t err_len);

#endif
