/*
 * cbor_keys.h - the checks cbor_decode.c makes on text strings and map keys: UTF-8
 * well-formedness (RFC 3629 §4), duplicate map keys, and quoting a key for a message.
 * Internal to formats/cbor_decode.c.
 */
#ifndef INLET_CBOR_KEYS_H
#define INLET_CBOR_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "formats/arena.h"
#include "formats/value.h"

/* Offset of the first byte not part of a well-formed UTF-8 sequence (RFC 3629 §4), else n. */
size_t inlet_utf8_check(const uint8_t *s, size_t n);

/* Valid UTF-8 text for a message: quoted, at most 60 bytes, cut at a character boundary. */
void inlet_cbor_quote(const char *s, size_t n, char out[72]);

/* Looks for a key that occurs twice among the n members. Finds the second occurrence that comes
 * first in the document: *dup is its index, *first that of the earlier one. Returns 1 if found,
 * 0 if the keys are unique, -1 if scratch space could not be had from the arena. */
int inlet_cbor_find_duplicate(inlet_arena *a, const inlet_member *members, uint32_t n,
                              uint32_t *dup, uint32_t *first);

#endif
