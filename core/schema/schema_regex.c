/*
 * schema_regex.c - the "pattern" keyword: ECMA-262-flavoured regexes compiled once with PCRE2.
 *
 * JSON Schema patterns are unanchored searches (2020-12 validation section 6.3.3). The options
 * bring PCRE2 closer to ECMA-262: UTF mode, \uXXXX escapes (ALT_BSUX), and "$" only at the very
 * end (DOLLAR_ENDONLY). Match data is per thread and reused, so a match does not allocate.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "schema_internal.h"

/* Bounds the work one hostile string can cause against a backtracking-prone pattern. */
#define MATCH_LIMIT 1000000

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
    rc = pcre2_match(re->code, (PCRE2_SPTR)subject, len, 0, 0, md, re->mctx);
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
