/*
 * schema.h - versioned JSON Schemas (2020-12 keyword subset) compiled once and validated against
 * payloads, and the registry of schemas/<name>/v<N>.json.
 *
 * Supported keywords: type, properties, required, additionalProperties, enum, const, minimum,
 * maximum, exclusiveMinimum, exclusiveMaximum, minLength, maxLength, pattern, items, minItems,
 * maxItems, format (date-time, asserted), contentEncoding ("base64url" only, asserted: a byte
 * string is valid there as a string, counted in base64url characters; a string must be
 * base64url; not combined with pattern, format, const or enum). A byte string anywhere else is
 * an error. Annotations accepted and ignored: $schema, $id, $comment, title, description,
 * examples, default, deprecated, readOnly, writeOnly.
 * Inlet keys at the top level: x-inlet-topic (required), x-inlet-key (JSON pointer into the
 * event used as Kafka key; default /device_id), x-inlet-formats (the payload formats accepted,
 * by name: json, cbor, senml+json, senml+cbor, octet-stream), x-inlet-layout (the binary frame
 * layout that turns application/octet-stream payloads into an object, layout.h),
 * x-inlet-topic-partitions and x-inlet-topic-replication (how `inletd topics` creates the topic;
 * nothing else reads them). In the schema of a
 * property: x-inlet-unit (the SenML unit of that field). Any other keyword is a load error.
 */
#ifndef INLET_SCHEMA_H
#define INLET_SCHEMA_H

#include <jansson.h>
#include <stddef.h>

#include "formats/value.h"

typedef struct inlet_schema inlet_schema;
typedef struct inlet_schemas inlet_schemas;

typedef struct inlet_schema_error {
    char pointer[256]; /* JSON pointer of the failing value, prefixed with base_pointer */
    char message[256]; /* e.g. "123.4 is greater than maximum 90" */
} inlet_schema_error;

/* Compile a schema document. origin names it in errors ("schemas/x/v1.json"); errors name the
 * pointer of the offending keyword: "schemas/x/v1.json: /properties/lat/maximum: must be a
 * number". doc is borrowed. */
int inlet_schema_compile(const json_t *doc, const char *origin, inlet_schema **out, char *err,
                         size_t err_len);
void inlet_schema_free(inlet_schema *s);

/*
 * Validate instance (borrowed; NULL is one error, "no value"). Returns the number of errors
 * found (0 = valid), writing at most max_errs of them; base_pointer ("" or e.g. "/payload")
 * prefixes every error pointer. Does not allocate on the valid path (it runs once per event).
 */
size_t inlet_schema_validate(const inlet_schema *s, const inlet_value *instance,
                             const char *base_pointer, inlet_schema_error *errs, size_t max_errs);

/*
 * The CPU one request may spend matching "pattern" keywords, across all its strings: this
 * thread's validations until inlet_schema_budget_end() share regex_us microseconds of matching
 * (0 = no budget; a string still stops at PCRE2's match limit). Once spent, or once one string
 * hits the match limit, every later pattern check fails at once ("could not be matched") and
 * inlet_schema_budget_exhausted() is 1, for the caller to refuse the request as too complex.
 */
#define INLET_SCHEMA_REGEX_BUDGET_US 50000
void inlet_schema_budget_begin(int64_t regex_us);
int inlet_schema_budget_exhausted(void);
void inlet_schema_budget_end(void);

/* The payload formats (INLET_FMT_* bits, formats/formats.h) a schema accepts: its
 * x-inlet-formats list, or by default every format but octet-stream, which needs a layout. */
unsigned inlet_schema_formats(const inlet_schema *s);
/* The schema's x-inlet-layout, compiled; NULL if it has none. */
const struct inlet_layout *inlet_schema_layout(const inlet_schema *s);
/* x-inlet-unit of the top-level property name (SenML units, RFC 8428 §12.1); NULL if the
 * schema declares none. */
const char *inlet_schema_property_unit(const inlet_schema *s, const char *name, size_t name_len);

/* name and version are NULL for a schema compiled outside the registry; topic is NULL when the
 * document has no x-inlet-topic (the registry refuses such a file). */
const char *inlet_schema_name(const inlet_schema *s);    /* "fleet.position" (registry only) */
const char *inlet_schema_version(const inlet_schema *s); /* "v1" (registry only) */
const char *inlet_schema_topic(const inlet_schema *s);   /* x-inlet-topic */
/* x-inlet-topic-partitions / x-inlet-topic-replication; 0 when the schema does not declare it. */
int inlet_schema_topic_partitions(const inlet_schema *s);
int inlet_schema_topic_replication(const inlet_schema *s);
/* x-inlet-key: JSON pointer into the event whose value is the Kafka key; "/device_id" if the
 * schema does not say. */
const char *inlet_schema_key_pointer(const inlet_schema *s);

/* Load every schemas_dir/<name>/v<N>.json (name: [a-z0-9._-]+, N: a positive integer without
 * leading zeros); other files are ignored. Any v*.json that fails to parse or compile, or lacks
 * x-inlet-topic, fails the load; err names the file (and line:column for JSON syntax). */
int inlet_schemas_load(const char *schemas_dir, inlet_schemas **out, char *err, size_t err_len);
void inlet_schemas_free(inlet_schemas *r);
/* version is "v1" (a bare "1" is accepted too). NULL if absent. */
const inlet_schema *inlet_schemas_find(const inlet_schemas *r, const char *name,
                                       const char *version);
size_t inlet_schemas_count(const inlet_schemas *r);
const inlet_schema *inlet_schemas_at(const inlet_schemas *r, size_t i);

#endif
