/*
 * layout.h - declarative binary layouts (a schema's "x-inlet-layout"): fixed binary frames
 * turned into the JSON data model, which the rest of the schema then validates. The vocabulary
 * follows Kaitai Struct's (seq, type u1/u2be/s4le/f8be/str/bytes, size, enum, bit fields),
 * kept small; docs/FORMATS.md is the reference.
 */
#ifndef INLET_LAYOUT_H
#define INLET_LAYOUT_H

#include <jansson.h>
#include <stddef.h>

#include "formats/formats.h"

typedef struct inlet_layout inlet_layout;

/* Compile the x-inlet-layout value doc (borrowed). origin names the schema file in errors,
 * which name the pointer of the offending keyword ("/x-inlet-layout/seq/2/type: ..."). */
int inlet_layout_compile(const json_t *doc, const char *origin, inlet_layout **out, char *err,
                         size_t err_len);
void inlet_layout_free(inlet_layout *l);

/* Decode one frame into an object value in arena a. Trailing or missing bytes are an error
 * (err->offset is where, err->message says which field). */
int inlet_layout_decode(const inlet_layout *l, inlet_arena *a, const void *data, size_t len,
                        inlet_value **out, inlet_format_error *err);

/* Member keys and enum texts of a decoded tree point into l rather than the arena: l must
 * outlive the tree, as the schema that owns it does while its submission is being handled.
 * A value error (enum, UTF-8, int64 range, NaN) also sets err->pointer to "/<id>". */

/* The seq fields, for checks against the rest of the schema: how many, and field i's id (NULL
 * for a padding field), its length in *len. */
size_t inlet_layout_count(const inlet_layout *l);
const char *inlet_layout_id(const inlet_layout *l, size_t i, size_t *len);

#endif
