/*
 * schema_regex.c - the "pattern" keyword: ECMA-262-flavoured regexes compiled once with PCRE2.
 *
 * JSON Schema patterns are unanchored searches (2020-12 validation section 6.3.3). The options
 * bring PCRE2 closer to ECMA-262: UTF mode, \uXXXX escapes (ALT_BSUX), and "$" only at the very
 * end (DOLLAR_ENDONLY). Match data is per thread and reused, so a match does not allocate.
 *
 * Work is bounded twice (docs/SECURITY.md): one string against one pattern by PCRE2's match
 * limit, and one request by a budget of matching time across all its strings (begun by the
 * router per submission, inlet_schema_budget_begin()). A string that hits the match limit, or a
 * match that ends past the budget, exhausts the request's budget: every later match of that
 * request fails at once, and the router refuses the request as too complex.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "schema_internal.h"

/* Bounds the work one hostile string can cause against a backtracking-prone pattern: far above
 * what a sane pattern needs on a string of a payload, about a millisecond of backtracking. */
#define MATCH_LIMIT 100000

/* This thread's current request: matching time left, and whether it ran out. */
static _Thread_local struct {
    bool active;
    bool exhausted;
    int64_t left_ns;
} budget;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void inlet_schema_budget_begin(int64_t regex_us)
{
    budget.active = regex_us > 0;
    budget.exhausted = false;
    budget.left_ns = regex_us * 1000;
}

int inlet_schema_budget_exhausted(void)
{
    return budget.exhausted;
}

void inlet_schema_budget_end(void)
{
    budget.active = false;
    budget.exhausted = false;
}

struct schema_regex {
    pcre2_code *code;
    pcre2_match_context *mctx; /* read-only once built, so shared between threads */
};

static pthread_key_t match_data_key;
static pthread_once_t match_data_once = PTHREAD_ONCE_INIT;
static int match_data_key_ok;

static void match_data_destroy(void *md)
{
    pcre2_match_data_free(md);
}

static void match_data_key_create(void)
{
    match_data_key_ok = pthread_key_create(&match_data_key, match_data_destroy) == 0;
}

/* One ovector pair suffices: only "did it match" matters. */
static pcre2_match_data *thread_match_data(void)
{
    pcre2_match_data *md;

    pthread_once(&match_data_once, match_data_key_create);
    if (!match_data_key_ok)
        return NULL;
    md = pthread_getspecific(match_data_key);
    if (!md) {
        md = pcre2_match_data_create(1, NULL);
        if (md && pthread_setspecific(match_data_key, md) != 0) {
            pcre2_match_data_free(md);
            md = NULL;
        }
    }
    return md;
}

int schema_regex_compile(const char *src, size_t len, schema_regex **out, char *err, size_t err_len)
{
    int code;
    PCRE2_SIZE offset;
    PCRE2_UCHAR msg[160];
    schema_regex *re = calloc(1, sizeof(*re));

    if (!re) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    re->code =
        pcre2_compile((PCRE2_SPTR)src, len,
                      PCRE2_UTF | PCRE2_ALT_BSUX | PCRE2_DOLLAR_ENDONLY | PCRE2_NEVER_BACKSLASH_C,
                      &code, &offset, NULL);
    if (!re->code) {
        pcre2_get_error_message(code, msg, sizeof(msg));
        snprintf(err, err_len, "invalid regular expression at offset %zu: %s", (size_t)offset,
                 (const char *)msg);
        goto fail;
    }
    /* JIT is an optimisation; where it is unavailable the interpreter gives the same answer. */
    (void)pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE);
    re->mctx = pcre2_match_context_create(NULL);
    if (!re->mctx) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    pcre2_set_match_limit(re->mctx, MATCH_LIMIT);
    *out = re;
    return 0;

fail:
    schema_regex_free(re);
    return -1;
}

int schema_regex_search(const schema_regex *re, const char *subject, size_t len)
{
    pcre2_match_data *md = thread_match_data();
    int rc;

    if (!md)
        return -1;
    if (budget.exhausted)
        return -1;
    int64_t start = budget.active ? now_ns() : 0;
    rc = pcre2_match(re->code, (PCRE2_SPTR)subject, len, 0, 0, md, re->mctx);
    if (budget.active) {
        budget.left_ns -= now_ns() - start;
        if (budget.left_ns < 0)
            budget.exhausted = true;
    }
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT)
        budget.exhausted = budget.active;
    if (rc >= 0)
        return 1;
    return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

void schema_regex_free(schema_regex *re)
{
    if (!re)
        return;
    pcre2_code_free(re->code);
    pcre2_match_context_free(re->mctx);
    free(re);
}
