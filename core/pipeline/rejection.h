/* rejection.h - building the inlet_rejection a refused submission returns: every per-event
 * error with its own copy of the strings, freed as one by inlet_rejection_free(). */
#ifndef INLET_REJECTION_H
#define INLET_REJECTION_H

#include "inlet/module.h"

typedef struct inlet_rejection_builder {
    inlet_event_error *errors;
    size_t n, cap;
    char **strings; /* every string the errors point at */
    size_t n_strings, cap_strings;
    int oom;
    size_t omitted;       /* errors past INLET_REJECTION_MAX_ERRORS, only counted */
    size_t first_omitted; /* the event index of the first of them */
    char schema[160];     /* "name@version" of the first refused event's (loaded) schema */
    const char *cur_name, *cur_version; /* the schema of the event being checked, or NULL */
} inlet_rejection_builder;

/* A refusal lists at most this many errors, then one saying how many more there were: a body of
 * 95,000 unknown fields gets 101 entries, not 95,000 (on every protocol). */
#define INLET_REJECTION_MAX_ERRORS 100

void inlet_rejection_builder_init(inlet_rejection_builder *b);
/* Record one event's error; pointer and message are copied. Past INLET_REJECTION_MAX_ERRORS the
 * error is only counted. */
void inlet_rejection_add(inlet_rejection_builder *b, size_t index, inlet_status status,
                         const char *pointer, const char *message);
/* Finish: the overall status and message; n_events found in the body. The builder's content
 * moves into the result (NULL on ENOMEM), and the builder is reset. */
inlet_rejection *inlet_rejection_finish(inlet_rejection_builder *b, inlet_status status,
                                        size_t n_events, const char *message);
void inlet_rejection_builder_clear(inlet_rejection_builder *b);
/* A rejection with no per-event errors. */
inlet_rejection *inlet_rejection_simple(inlet_status status, const char *message);
void inlet_rejection_free(inlet_rejection *rej);
/* The schema of the event being checked (borrowed until the next call), or NULL while it is
 * not known: the first error recorded names it, for per-schema refusal counts. */
void inlet_rejection_current_schema(inlet_rejection_builder *b, const char *name,
                                    const char *version);
/* "name@version" of the first refused event's schema, or NULL when none was known. */
const char *inlet_rejection_schema(const inlet_rejection *rej);
/* Short English name of a status ("forbidden", "unavailable", ...). */
const char *inlet_status_name(inlet_status status);

#endif
