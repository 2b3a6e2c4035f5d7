/* rejection.c - see rejection.h. */
#include "rejection.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rejection_impl {
    inlet_rejection pub; /* first, so the public pointer is the allocation */
    inlet_event_error *errors;
    char **strings;
    size_t n_strings;
    char *message;
    char schema[160];
} rejection_impl;

void inlet_rejection_builder_init(inlet_rejection_builder *b)
{
    memset(b, 0, sizeof(*b));
}

static const char *keep(inlet_rejection_builder *b, const char *s)
{
    if (b->n_strings == b->cap_strings) {
        size_t cap = b->cap_strings ? b->cap_strings * 2 : 8;
        char **n = realloc(b->strings, cap * sizeof(*n));
        if (!n) {
            b->oom = 1;
            return "";
        }
        b->strings = n;
        b->cap_strings = cap;
    }
    char *copy = strdup(s ? s : "");
    if (!copy) {
        b->oom = 1;
        return "";
    }
    b->strings[b->n_strings++] = copy;
    return copy;
}

static void append(inlet_rejection_builder *b, size_t index, inlet_status status,
                   const char *pointer, const char *message)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4;
        inlet_event_error *n = realloc(b->errors, cap * sizeof(*n));
        if (!n) {
            b->oom = 1;
            return;
        }
        b->errors = n;
        b->cap = cap;
    }
    inlet_event_error *e = &b->errors[b->n++];
    e->index = index;
    e->status = status;
    e->pointer = keep(b, pointer);
    e->message = keep(b, message);
}

void inlet_rejection_add(inlet_rejection_builder *b, size_t index, inlet_status status,
                         const char *pointer, const char *message)
{
    if (b->n >= INLET_REJECTION_MAX_ERRORS) {
        if (b->omitted++ == 0)
            b->first_omitted = index;
        return;
    }
    if (!b->schema[0] && b->cur_name)
        snprintf(b->schema, sizeof(b->schema), "%s@%s", b->cur_name,
                 b->cur_version ? b->cur_version : "");
    append(b, index, status, pointer, message);
}

void inlet_rejection_current_schema(inlet_rejection_builder *b, const char *name,
                                    const char *version)
{
    b->cur_name = name;
    b->cur_version = version;
}

const char *inlet_rejection_schema(const inlet_rejection *rej)
{
    const rejection_impl *r = (const rejection_impl *)rej;
    return r && r->schema[0] ? r->schema : NULL;
}

void inlet_rejection_builder_clear(inlet_rejection_builder *b)
{
    for (size_t i = 0; i < b->n_strings; i++)
        free(b->strings[i]);
    free(b->strings);
    free(b->errors);
    inlet_rejection_builder_init(b);
}

/* The entry after the listed ones: how many were left out, at the first of them. */
static void append_omitted(inlet_rejection_builder *b, inlet_status status)
{
    char text[96];

    snprintf(text, sizeof(text), "%zu more error%s not listed (a refusal lists at most %d)",
             b->omitted, b->omitted == 1 ? "" : "s", INLET_REJECTION_MAX_ERRORS);
    append(b, b->first_omitted, status, "", text);
    b->omitted = 0;
}

inlet_rejection *inlet_rejection_finish(inlet_rejection_builder *b, inlet_status status,
                                        size_t n_events, const char *message)
{
    if (b->omitted)
        append_omitted(b, status);
    rejection_impl *r = calloc(1, sizeof(*r));
    char *msg = strdup(message ? message : inlet_status_name(status));
    if (!r || !msg) {
        free(r);
        free(msg);
        inlet_rejection_builder_clear(b);
        return NULL;
    }
    r->pub.size = sizeof(r->pub);
    r->pub.status = status;
    r->pub.message = msg;
    r->pub.n_events = n_events;
    r->pub.n_errors = b->n;
    r->pub.errors = b->errors;
    r->errors = b->errors;
    r->strings = b->strings;
    r->n_strings = b->n_strings;
    r->message = msg;
    memcpy(r->schema, b->schema, sizeof(r->schema));
    inlet_rejection_builder_init(b);
    return &r->pub;
}

inlet_rejection *inlet_rejection_simple(inlet_status status, const char *message)
{
    inlet_rejection_builder b;
    inlet_rejection_builder_init(&b);
    return inlet_rejection_finish(&b, status, 0, message);
}

void inlet_rejection_free(inlet_rejection *rej)
{
    if (!rej)
        return;
    rejection_impl *r = (rejection_impl *)rej;
    for (size_t i = 0; i < r->n_strings; i++)
        free(r->strings[i]);
    free(r->strings);
    free(r->errors);
    free(r->message);
    free(r);
}

const char *inlet_status_name(inlet_status status)
{
    switch (status) {
    case INLET_OK:
        return "ok";
    case INLET_E_UNAUTHENTICATED:
        return "unauthenticated";
    case INLET_E_FORBIDDEN:
        return "forbidden";
    case INLET_E_INVALID:
        return "invalid";
    case INLET_E_UNKNOWN_SCHEMA:
        return "unknown_schema";
    case INLET_E_MEDIA_TYPE:
        return "unsupported_media_type";
    case INLET_E_TOO_LARGE:
        return "too_large";
    case INLET_E_UNAVAILABLE:
        return "unavailable";
    case INLET_E_QUOTA:
        return "quota_exceeded";
    case INLET_E_SHUTTING_DOWN:
        return "shutting_down";
    case INLET_E_INTERNAL:
        return "internal_error";
    case INLET_E_POSSIBLY_PERSISTED:
        return "possibly_persisted";
    }
    return "unknown";
}
