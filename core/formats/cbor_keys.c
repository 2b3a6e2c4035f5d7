/*
 * cbor_keys.c - UTF-8 well-formedness, duplicate map keys and key quoting for cbor_decode.c.
 *
 * Small maps are searched pairwise; larger ones are sorted (by key, then position) so that
 * the duplicate reported is the second occurrence that comes first in the document either way.
 */
#include "formats/cbor_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Up to this many members, duplicate keys are looked for pairwise; beyond, by sorting. */
#define SMALL_MAP 16

/* Offset of the first byte not part of a well-formed UTF-8 sequence (RFC 3629 §4), else n. */
size_t inlet_utf8_check(const uint8_t *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        uint8_t c = s[i];
        uint8_t lo = 0x80, hi = 0xbf;
        size_t more;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            more = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            more = 2;
            if (c == 0xe0)
                lo = 0xa0; /* overlong */
            else if (c == 0xed)
                hi = 0x9f; /* surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
            more = 3;
            if (c == 0xf0)
                lo = 0x90; /* overlong */
            else if (c == 0xf4)
                hi = 0x8f; /* above U+10FFFF */
        } else {
            return i;
        }
        if (n - i <= more || s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k <= more; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return i;
        i += more + 1;
    }
    return n;
}

static int same_key(const inlet_member *a, const inlet_member *b)
{
    return a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0;
}

typedef struct key_ref {
    const inlet_member *m;
    uint32_t index;
} key_ref;

static int key_ref_cmp(const void *pa, const void *pb)
{
    const key_ref *a = pa, *b = pb;
    size_t n = a->m->key_len < b->m->key_len ? a->m->key_len : b->m->key_len;
    int c = memcmp(a->m->key, b->m->key, n);

    if (c)
        return c;
    if (a->m->key_len != b->m->key_len)
        return a->m->key_len < b->m->key_len ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

/* Valid UTF-8 text for a message: quoted, at most 60 bytes, cut at a character boundary. */
void inlet_cbor_quote(const char *s, size_t n, char out[72])
{
    int cut = 0;

    if (n > 60) {
        n = 60;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
        cut = 1;
    }
    snprintf(out, 72, "\"%.*s%s\"", (int)n, s, cut ? "..." : "");
}

int inlet_cbor_find_duplicate(inlet_arena *a, const inlet_member *members, uint32_t n,
                              uint32_t *dup_out, uint32_t *first_out)
{
    uint32_t dup = UINT32_MAX, first = 0;

    if (n <= SMALL_MAP) {
        for (uint32_t j = 1; j < n && dup == UINT32_MAX; j++)
            for (uint32_t i = 0; i < j; i++)
                if (same_key(&members[i], &members[j])) {
                    dup = j;
                    first = i;
                    break;
                }
    } else {
        key_ref *refs = inlet_arena_alloc(a, sizeof(*refs) * n);
        if (!refs)
            return -1;
        for (uint32_t i = 0; i < n; i++)
            refs[i] = (key_ref){&members[i], i};
        qsort(refs, n, sizeof(*refs), key_ref_cmp);
        for (uint32_t k = 1; k < n; k++)
            if (same_key(refs[k - 1].m, refs[k].m) && refs[k].index < dup) {
                dup = refs[k].index;
                first = refs[k - 1].index;
            }
    }
    if (dup == UINT32_MAX)
        return 0;
    *dup_out = dup;
    *first_out = first;
    return 1;
}
