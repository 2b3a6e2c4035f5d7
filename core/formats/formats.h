/*
 * formats.h - every payload format the core decodes, and how a content type selects one.
 *
 * A module hands the core bytes and their content type; the core picks the decoder here and
 * gets an inlet_value tree (value.h) that the schema then validates, whatever the format was.
 * Decoders never allocate outside the arena they are given and never keep pointers into the
 * input past their return (raw spans of the JSON parser excepted: they point into the input,
 * which the caller keeps until the envelope is written).
 */
#ifndef INLET_FORMATS_H
#define INLET_FORMATS_H

#include <stddef.h>
#include <stdint.h>

#include "formats/value.h"

typedef enum inlet_format {
    INLET_FMT_JSON = 1u << 0,       /* application/json, CoAP 50 */
    INLET_FMT_CBOR = 1u << 1,       /* application/cbor, CoAP 60 */
    INLET_FMT_SENML_JSON = 1u << 2, /* application/senml+json, CoAP 110 */
    INLET_FMT_SENML_CBOR = 1u << 3, /* application/senml+cbor, CoAP 112 */
    INLET_FMT_OCTETS = 1u << 4,     /* application/octet-stream, CoAP 42: a schema's layout */
} inlet_format;

#define INLET_FMT_ALL 0x1fu

/* Where a decoder stopped: a byte offset into the input, or a JSON pointer into the decoded
 * value when the input was well-formed but not representable (e.g. "/payload/raw"). */
typedef struct inlet_format_error {
    size_t offset;     /* byte offset of the problem in the input */
    char pointer[256]; /* "" when the offset is all that is known */
    char message[256]; /* e.g. "a CBOR undefined has no JSON equivalent" */
} inlet_format_error;

/* The format of a content type ("application/json; charset=utf-8"); NULL or "" is JSON.
 * Parameters are ignored, type and subtype compare case-insensitively (RFC 9110 §8.3.1).
 * Returns 0, or -1 for a content type the core cannot decode. */
int inlet_format_from_content_type(const char *content_type, inlet_format *out);
/* CoAP Content-Format number (RFC 7252 §12.3) → format; -1 if the core does not decode it. */
int inlet_format_from_coap(unsigned content_format, inlet_format *out);
/* The canonical content type, e.g. "application/senml+cbor". Never NULL. */
const char *inlet_format_content_type(inlet_format f);
/* Short name for messages and the x-inlet-formats list: "json", "cbor", "senml+json",
 * "senml+cbor", "octet-stream". */
const char *inlet_format_name(inlet_format f);
int inlet_format_from_name(const char *name, inlet_format *out);

/*
 * JSON (RFC 8259), formats/json_parse.c. Accepts and rejects exactly what jansson's
 * json_loadb(JSON_REJECT_DUPLICATES) does (top level an object or an array; no NUL in
 * strings; duplicate keys, integers outside int64 and real overflow refused; depth bounded)
 * and yields the same values. Each value records its raw source span.
 */
int inlet_json_parse(inlet_arena *a, const void *text, size_t len, inlet_value **out,
                     inlet_format_error *err);
/* inlet_json_parse details: text need not be NUL-terminated and is never written; *out is
 * allocated in a (NULL on failure); raw spans point into text. On failure err->offset is the
 * byte where the offending token starts (the end of the input if it was cut short) and
 * err->message reads "malformed JSON at byte N: " and jansson's words. Documents of 4 GiB or
 * more are refused (raw_len is 32 bits). A value's canonical flag is set when its raw text is
 * what inlet_value_write_json (value_write.h) writes for it. */

/*
 * CBOR (RFC 8949) through libcbor, formats/cbor_decode.c. Maps onto the JSON data model:
 * maps with text keys → objects, arrays, text, integers within int64, floats (finite),
 * true/false/null, byte strings → INLET_V_BYTES (the schema decides whether they are
 * allowed). Refused with their offset: undefined, simple values, non-text keys (unless
 * INLET_CBOR_INT_KEYS), NaN and infinities, integers outside int64, duplicate keys, unknown
 * tags, indefinite nesting deeper than the JSON parser allows, trailing bytes.
 * Tags understood: 0 (date-time text, kept as text), 1 (epoch time, kept as the number),
 * 4 (decimal fraction → real), 55799 (self-described CBOR, skipped).
 */
#define INLET_CBOR_INT_KEYS 1u /* integer map keys allowed, stored as their decimal text */
int inlet_cbor_decode(inlet_arena *a, const void *data, size_t len, unsigned flags,
                      inlet_value **out, inlet_format_error *err);

/*
 * SenML (RFC 8428), formats/senml.c. pack is the decoded SenML pack (JSON array of records,
 * or CBOR with INLET_CBOR_INT_KEYS). Records are resolved as §4.6 says (base name, base
 * time, base unit, base value, base sum; times below 2^28 are relative to received_at_us;
 * bver checked) and records that share a resolved time become one event.
 */
typedef struct inlet_senml_event {
    double time_s;        /* resolved absolute time, seconds since the epoch */
    inlet_value *payload; /* an object: record name (after the base name) → value */
    const char **units;   /* units[i] for payload member i, NULL if the record had none */
} inlet_senml_event;

int inlet_senml_resolve(inlet_arena *a, const inlet_value *pack, int64_t received_at_us,
                        inlet_senml_event **events, size_t *n_events, inlet_format_error *err);

#endif
