/* test_coap_pure.c - the CoAP module's pure parts: Uri-Path routes, Uri-Query tokens and the
 * /.well-known/core list (route.c), Block1 reassembly (block1.c) and the (listener, peer,
 * Message ID) deduplication cache (exchange.c). No libcoap needed. */
#include <netinet/in.h>
#include <stdlib.h>

#include "check.h"

#include "../../modules/coap/block1.c"
#include "../../modules/coap/exchange.c"
#include "../../modules/coap/route.c"
#include "../../modules/coap/route_table.c"

/* ---- route.c ---- */

static void table(coap_route_table *t, const char *ingest, const char *payload)
{
    char err[200];
    memset(t, 0, sizeof(*t));
    CHECK(coap_route_compile(&t->ingest, ingest, false, err, sizeof(err)) == 0);
    CHECK(coap_route_compile(&t->payload, payload, true, err, sizeof(err)) == 0);
}

static void free_table(coap_route_table *t)
{
    coap_route_pattern_free(&t->ingest);
    coap_route_pattern_free(&t->payload);
}

/* Match a path given as "a/b/c" (segments split at '/'; "" = no segment). */
static coap_route_kind match(const coap_route_table *t, const char *path, coap_route_match *out)
{
    const char *seg[16];
    size_t len[16], n = 0;
    const char *s = path;
    while (*path && n < 16) {
        const char *e = strchr(s, '/');
        seg[n] = s;
        len[n] = e ? (size_t)(e - s) : strlen(s);
        n++;
        if (!e)
            break;
        s = e + 1;
    }
    coap_route_match_path(t, seg, len, n, out);
    return out->kind;
}

static void test_route_paths(void)
{
    coap_route_table t;
    coap_route_match m;
    table(&t, "/ingest", "/e/{schema}/{version}");

    CHECK(match(&t, "ingest", &m) == COAP_ROUTE_INGEST);
    CHECK(m.schema[0] == '\0' && m.version[0] == '\0');
    CHECK(match(&t, "e/fleet.position/v1", &m) == COAP_ROUTE_PAYLOAD);
    CHECK_STR(m.schema, "fleet.position");
    CHECK_STR(m.version, "v1");
    CHECK(match(&t, "e/cold_chain-2.temp/v10", &m) == COAP_ROUTE_PAYLOAD);
    CHECK_STR(m.schema, "cold_chain-2.temp");
    CHECK(match(&t, ".well-known/core", &m) == COAP_ROUTE_WELL_KNOWN);
    /* not resources */
    CHECK(match(&t, "", &m) == COAP_ROUTE_NONE);
    CHECK(match(&t, "ingest/more", &m) == COAP_ROUTE_NONE);
    CHECK(match(&t, "Ingest", &m) == COAP_ROUTE_NONE);
    CHECK(match(&t, "e/fleet.position", &m) == COAP_ROUTE_NONE);
    CHECK(match(&t, "e/fleet.position/v1/x", &m) == COAP_ROUTE_NONE);
    CHECK(match(&t, "e/Fleet/v1", &m) == COAP_ROUTE_NONE);     /* upper case */
    CHECK(match(&t, "e/fleet%2Fx/v1", &m) == COAP_ROUTE_NONE); /* not a name char */
    CHECK(match(&t, "e//v1", &m) == COAP_ROUTE_NONE);          /* empty placeholder */
    CHECK(match(&t, ".well-known/core/x", &m) == COAP_ROUTE_NONE);
    CHECK(match(&t, ".well-known", &m) == COAP_ROUTE_NONE);
    CHECK(m.schema[0] == '\0');
    /* a segment with a NUL byte or a '/' inside (Uri-Path options may hold any byte) */
    {
        const char *seg[3] = {"e", "a\0b", "v1"};
        size_t len[3] = {1, 3, 2};
        coap_route_match_path(&t, seg, len, 3, &m);
        CHECK(m.kind == COAP_ROUTE_NONE);
        const char *seg2[1] = {"ing/est"};
        size_t len2[1] = {7};
        coap_route_match_path(&t, seg2, len2, 1, &m);
        CHECK(m.kind == COAP_ROUTE_NONE);
    }
    /* placeholder length: 128 bytes is the longest name */
    {
        char big[130];
        memset(big, 'a', sizeof(big));
        const char *seg[3] = {"e", big, "v1"};
        size_t len[3] = {1, 128, 2};
        coap_route_match_path(&t, seg, len, 3, &m);
        CHECK(m.kind == COAP_ROUTE_PAYLOAD && strlen(m.schema) == 128);
        len[1] = 129;
        coap_route_match_path(&t, seg, len, 3, &m);
        CHECK(m.kind == COAP_ROUTE_NONE);
    }
    free_table(&t);

    /* configured paths: no leading '/', placeholders in another order */
    table(&t, "api/v2/events", "{version}/x/{schema}");
    CHECK(match(&t, "api/v2/events", &m) == COAP_ROUTE_INGEST);
    CHECK(match(&t, "ingest", &m) == COAP_ROUTE_NONE);
    CHECK(match(&t, "v3/x/driver.panic", &m) == COAP_ROUTE_PAYLOAD);
    CHECK_STR(m.schema, "driver.panic");
    CHECK_STR(m.version, "v3");
    CHECK(match(&t, ".well-known/core", &m) == COAP_ROUTE_WELL_KNOWN);
    free_table(&t);
}

/* Match path for a device of tenant (NULL: before authentication, any tenant). */
static coap_route_kind match_for(const coap_route_table *t, const char *tenant, const char *path,
                                 coap_route_match *out)
{
    const char *seg[16];
    size_t len[16], n = 0;
    for (const char *s = path; *s && n < 16;) {
        const char *e = strchr(s, '/');
        seg[n] = s;
        len[n++] = e ? (size_t)(e - s) : strlen(s);
        if (!e)
            break;
        s = e + 1;
    }
    coap_route_match_tenant(t, tenant, seg, len, n, out);
    return out->kind;
}

static void test_route_tenants(void)
{
    coap_route_table t;
    coap_route_match m;
    char err[300];
    coap_route_config routes[] = {
        {"acme", "acme/{schema}/{version}", COAP_ROUTE_FORM_PAYLOAD, NULL, NULL},
        {"acme", "pos", COAP_ROUTE_FORM_PAYLOAD, "fleet.position", "v1"},
        {"acme", "bulk", COAP_ROUTE_FORM_EVENTS, NULL, NULL},
        {NULL, "t/{version}", COAP_ROUTE_FORM_PAYLOAD, "coldchain.temp", NULL},
        /* shadows the default /ingest for demo only */
        {"demo", "ingest", COAP_ROUTE_FORM_PAYLOAD, "fleet.position", "v2"},
    };
    memset(&t, 0, sizeof(t));
    table(&t, "/ingest", "/e/{schema}/{version}");
    CHECK(coap_route_table_add(&t, routes, 5, err, sizeof(err)) == 0);
    CHECK(t.n_routes == 5);

    CHECK(match_for(&t, "acme", "acme/driver.panic/v3", &m) == COAP_ROUTE_PAYLOAD);
    CHECK_STR(m.schema, "driver.panic");
    CHECK_STR(m.version, "v3");
    CHECK(match_for(&t, "demo", "acme/driver.panic/v3", &m) == COAP_ROUTE_NONE);
    CHECK(m.schema[0] == '\0');
    CHECK(match_for(&t, NULL, "acme/driver.panic/v3", &m) == COAP_ROUTE_PAYLOAD); /* any */
    CHECK(match_for(&t, "acme", "pos", &m) == COAP_ROUTE_PAYLOAD);
    CHECK_STR(m.schema, "fleet.position");
    CHECK_STR(m.version, "v1");
    CHECK(match_for(&t, "acme2", "pos", &m) == COAP_ROUTE_NONE); /* whole names only */
    CHECK(match_for(&t, "acme", "bulk", &m) == COAP_ROUTE_INGEST);
    CHECK(match_for(&t, "demo", "bulk", &m) == COAP_ROUTE_NONE);
    /* every tenant's route: fixed schema, version from the path */
    CHECK(match_for(&t, "demo", "t/v7", &m) == COAP_ROUTE_PAYLOAD);
    CHECK_STR(m.schema, "coldchain.temp");
    CHECK_STR(m.version, "v7");
    CHECK(match_for(&t, "demo", "t/V7", &m) == COAP_ROUTE_NONE);
    /* the defaults stay for everyone, after the routes: first match wins */
    CHECK(match_for(&t, "acme", "ingest", &m) == COAP_ROUTE_INGEST);
    CHECK(match_for(&t, "demo", "ingest", &m) == COAP_ROUTE_PAYLOAD);
    CHECK_STR(m.version, "v2");
    CHECK(match_for(&t, "acme", "e/fleet.position/v1", &m) == COAP_ROUTE_PAYLOAD);
    CHECK(match_for(&t, "acme", ".well-known/core", &m) == COAP_ROUTE_WELL_KNOWN);
    /* /.well-known/core lists the defaults only */
    char buf[512];
    CHECK(coap_route_link_format(&t, buf, sizeof(buf)) > 0);
    CHECK(strstr(buf, "acme") == NULL && strstr(buf, "bulk") == NULL);
    coap_route_table_free(&t);
    coap_route_table_free(&t); /* idempotent */

    static const struct {
        coap_route_config c;
        const char *err;
    } bad[] = {
        {{"", "a", COAP_ROUTE_FORM_EVENTS, NULL, NULL}, "routes[0].tenant: must not be empty"},
        {{NULL, "a/{x}", COAP_ROUTE_FORM_EVENTS, NULL, NULL}, "routes[0].path: "},
        {{NULL, "a/{schema}", COAP_ROUTE_FORM_EVENTS, NULL, NULL}, "form events takes"},
        {{NULL, "a", COAP_ROUTE_FORM_EVENTS, "s", "v1"}, "form events takes"},
        {{NULL, "a/{schema}", COAP_ROUTE_FORM_PAYLOAD, NULL, NULL}, "form payload needs"},
        {{NULL, "a", COAP_ROUTE_FORM_PAYLOAD, "s", NULL}, "form payload needs"},
        {{NULL, "a/{schema}", COAP_ROUTE_FORM_PAYLOAD, "s", "v1"}, "schema: given twice"},
        {{NULL, "a/{version}", COAP_ROUTE_FORM_PAYLOAD, "s", "v1"}, "version: given twice"},
        {{NULL, "a", COAP_ROUTE_FORM_PAYLOAD, "Fleet", "v1"}, "schema: \"Fleet\" is not a name"},
        {{NULL, NULL, COAP_ROUTE_FORM_EVENTS, NULL, NULL}, "routes[0].path: required"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&t, 0, sizeof(t));
        CHECK(coap_route_table_add(&t, &bad[i].c, 1, err, sizeof(err)) == -1);
        CHECK_CONTAINS(err, bad[i].err);
        coap_route_table_free(&t);
    }
    /* the index of the bad entry */
    memset(&t, 0, sizeof(t));
    coap_route_config two[] = {{NULL, "a", COAP_ROUTE_FORM_EVENTS, NULL, NULL},
                               {NULL, "b//c", COAP_ROUTE_FORM_EVENTS, NULL, NULL}};
    CHECK(coap_route_table_add(&t, two, 2, err, sizeof(err)) == -1);
    CHECK_CONTAINS(err, "routes[1].path: ");
    coap_route_table_free(&t);
}

static void test_route_compile_errors(void)
{
    coap_route_pattern p;
    char err[200];
    static const struct {
        const char *text;
        bool payload;
        const char *why;
    } bad[] = {
        {"", false, "needs a segment"},
        {"/", false, "needs a segment"},
        {"/a//b", false, "empty path segment"},
        {"/1/2/3/4/5/6/7/8/9", false, "more than 8 segments"},
        {"/ingest/{schema}", false, "takes no placeholders"},
        {"/e/{schema}", true, "needs {schema} and {version}"},
        {"/e/{schema}/{schema}/{version}", true, "appears twice"},
        {"/e/{tenant}/{schema}/{version}", true, "only {schema} and {version}"},
        {"/e/x{schema}/{version}", true, "only {schema} and {version}"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        CHECK(coap_route_compile(&p, bad[i].text, bad[i].payload, err, sizeof(err)) == -1);
        CHECK_CONTAINS(err, bad[i].why);
        CHECK(p.text == NULL && p.n == 0); /* freed */
    }
    /* a trailing '/' is tolerated: "/a/" is "/a" */
    CHECK(coap_route_compile(&p, "/a/", false, err, sizeof(err)) == 0);
    CHECK(p.n == 1);
    coap_route_pattern_free(&p);
    CHECK(coap_route_compile(&p, "/1/2/3/4/5/6/7/8", false, err, sizeof(err)) == 0);
    CHECK(p.n == 8);
    coap_route_pattern_free(&p);
}

static int token(const char *const *q, size_t n, const char **tok, size_t *tl)
{
    size_t len[8];
    for (size_t i = 0; i < n; i++)
        len[i] = strlen(q[i]);
    return coap_route_query_token(q, len, n, tok, tl);
}

static void test_route_queries(void)
{
    const char *tok;
    size_t tl;
    CHECK(token(NULL, 0, &tok, &tl) == 0 && tok == NULL && tl == 0);
    const char *q1[] = {"t=abc.def"};
    CHECK(token(q1, 1, &tok, &tl) == 1 && tl == 7 && memcmp(tok, "abc.def", 7) == 0);
    const char *q2[] = {"x=1", "tt=2", "t", "T=3", "t=tok"};
    CHECK(token(q2, 5, &tok, &tl) == 1 && tl == 3 && memcmp(tok, "tok", 3) == 0);
    const char *q3[] = {"t=a", "t=b"}; /* ambiguous: refused */
    CHECK(token(q3, 2, &tok, &tl) == -1);
    const char *q4[] = {"t="}; /* present and empty: the core refuses the empty token */
    CHECK(token(q4, 1, &tok, &tl) == 1 && tl == 0);
    const char *q5[] = {"x=t=a"};
    CHECK(token(q5, 1, &tok, &tl) == 0);
    /* a token with '=' and '&' inside stays whole (one Uri-Query option is one argument) */
    const char *q6[] = {"t=a=b&c"};
    CHECK(token(q6, 1, &tok, &tl) == 1 && tl == 5 && memcmp(tok, "a=b&c", 5) == 0);
}

static void test_route_well_known(void)
{
    coap_route_table t;
    char buf[512];
    table(&t, "/ingest", "/e/{schema}/{version}");
    size_t n = coap_route_link_format(&t, buf, sizeof(buf));
    CHECK(n > 0 && n == strlen(buf));
    CHECK_STR(buf, "</ingest>;rt=\"inlet.events\";ct=\"50 60 110 112\";if=\"core.p\","
                   "</e/{schema}/{version}>;rt=\"inlet.payload\";ct=\"42 50 60 110 112\";"
                   "if=\"core.p\"");
    /* exactly big enough (n + NUL), then one byte short at every size below */
    CHECK(coap_route_link_format(&t, buf, n + 1) == n);
    for (size_t cap = 0; cap <= n; cap++)
        CHECK(coap_route_link_format(&t, buf, cap) == 0);
    free_table(&t);
    table(&t, "in", "p/{schema}/{version}");
    CHECK(coap_route_link_format(&t, buf, sizeof(buf)) > 0);
    CHECK_CONTAINS(buf, "</in>;rt=\"inlet.events\"");
    CHECK_CONTAINS(buf, "</p/{schema}/{version}>;rt=\"inlet.payload\"");
    free_table(&t);
}

/* ---- block1.c ---- */

static uint8_t data[2048];

static coap_block1_result put(coap_block1_table *tb, const char *key, uint32_t num, int more,
                              unsigned szx, size_t len, unsigned cf, uint64_t size1, uint64_t now,
                              uint8_t **body, size_t *body_len)
{
    size_t bs = (size_t)1 << (szx + 4);
    return coap_block1_put(tb, key, strlen(key), num, more, szx, data + num * bs, len, cf, size1,
                           now, body, body_len);
}

static void test_block1_sizes_and_order(void)
{
    coap_block1_table tb;
    uint8_t *body;
    size_t bl;
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7 + 3);
    CHECK(coap_block1_init(&tb, 4, 200, 1000) == 0);

    /* one block only: no transfer state */
    CHECK(put(&tb, "k", 0, 0, 2, 50, 50, 0, 0, &body, &bl) == COAP_BLOCK1_COMPLETE);
    CHECK(bl == 50 && memcmp(body, data, 50) == 0 && coap_block1_active(&tb) == 0);
    free(body);

    /* 16-byte blocks (szx 0): 0, 0 again, 1, 0 again, 1 again, 2 (last, short) */
    CHECK(put(&tb, "a", 0, 1, 0, 16, 50, 37, 10, &body, &bl) == COAP_BLOCK1_CONTINUE);
    CHECK(coap_block1_active(&tb) == 1 && body == NULL);
    CHECK(put(&tb, "a", 0, 1, 0, 16, 50, 37, 11, &body, &bl) == COAP_BLOCK1_DUPLICATE);
    CHECK(put(&tb, "a", 1, 1, 0, 16, 50, 0, 12, &body, &bl) == COAP_BLOCK1_CONTINUE);
    CHECK(put(&tb, "a", 0, 1, 0, 16, 50, 0, 13, &body, &bl) == COAP_BLOCK1_DUPLICATE);
    CHECK(put(&tb, "a", 1, 1, 0, 16, 50, 0, 14, &body, &bl) == COAP_BLOCK1_DUPLICATE);
    CHECK(put(&tb, "a", 2, 0, 0, 5, 50, 0, 15, &body, &bl) == COAP_BLOCK1_COMPLETE);
    CHECK(bl == 37 && memcmp(body, data, 37) == 0);
    CHECK(coap_block1_active(&tb) == 0);
    free(body);
    /* the last block again once the transfer is gone: no transfer for it */
    CHECK(put(&tb, "a", 2, 0, 0, 5, 50, 0, 16, &body, &bl) == COAP_BLOCK1_INCOMPLETE);

    /* a skipped block: 4.08, and the transfer is gone */
    CHECK(put(&tb, "b", 0, 1, 1, 32, 50, 0, 20, &body, &bl) == COAP_BLOCK1_CONTINUE);
    CHECK(put(&tb, "b", 2, 1, 1, 32, 50, 0, 21, &body, &bl) == COAP_BLOCK1_INCOMPLETE);
    CHECK(coap_block1_active(&tb) == 0);
    CHECK(put(&tb, "b", 1, 1, 1, 32, 50, 0, 22, &body, &bl) == COAP_BLOCK1_INCOMPLETE);
    /* a block with no transfer at all */
    CHECK(put(&tb, "never", 3, 0, 1, 10, 50, 0, 23, &body, &bl) == COAP_BLOCK1_INCOMPLETE);
    /* the block size changed mid-transfer, or the Content-Format */
    CHECK(put(&tb, "c", 0, 1, 1, 32, 50, 0, 30, &body, &bl) == COAP_BLOCK1_CONTINUE);
    CHECK(put(&tb, "c", 2, 1, 0, 16, 50, 0, 31, &body, &bl) == COAP_BLOCK1_INCOMPLETE);
    CHECK(put(&tb, "c", 0, 1, 1, 32, 50, 0, 32, &body, &bl) == COAP_BLOCK1_CONTINUE);
    CHECK(put(&tb, "c", 1, 0, 1, 3, 60, 0, 33, &body, &bl) == COAP_BLOCK1_INCOMPLETE);
    /* block 0 with other data restarts the transfer */
    CHECK(put(&tb, "d", 0, 1, 0, 16, 50, 0, 40, &body, &bl) == COAP_BLOCK1_CONTINUE);
    CHECK(put(&tb, "d", 1, 1, 0, 16, 50, 0, 41, &body, &bl) == COAP_BLOCK1_CONTINUE);
    CHECK(coap_block1_put(&tb, "d", 1, 0, 1, 0, data + 100, 16, 50, 0, 42, &body, &bl) ==
          COAP_BLOCK1_CONTINUE);
    /* block 1 of the first attempt is not part of the new one: block 1 comes next */
    CHECK(put(&tb, "d", 1, 0, 0, 1, 50, 0, 44, &body, &bl) == COAP_BLOCK1_COMPLETE);
    CHECK(bl == 17 && memcmp(body, data + 100, 16) == 0 && body[16] == data[16]);
    free(body);

    /* a stored block re-sent with other bytes, or as the last block: out of step (4.08) */
    CHECK(put(&tb, "f", 0, 1, 0, 16, 50, 0, 60, &body, &bl) == COAP_BLOCK1_CONTINUE);
    CHECK(put(&tb, "f", 1, 1, 0, 16, 50, 0, 61, &body, &bl) == COAP_BLOCK1_CONTINUE);
    CHECK(coap_block1_put(&tb, "f", 1, 1, 1, 0, data + 500, 16, 50, 0, 62, &body, &bl) ==
          COAP_BLOCK1_INCOMPLETE);
    CHECK(coap_block1_active(&tb) == 0);
    CHECK(put(&tb, "f", 0, 1, 0, 16, 50, 0, 63, &body, &bl) == COAP_BLOCK1_CONTINUE);
    CHECK(put(&tb, "f", 1, 1, 0, 16, 50, 0, 64, &body, &bl) == COAP_BLOCK1_CONTINUE);
    CHECK(put(&tb, "f", 0, 0, 0, 16, 50, 0, 65, &body, &bl) == COAP_BLOCK1_COMPLETE);
    free(body); /* block 0 as a whole body: a new, one-block request */
    CHECK(coap_block1_active(&tb) == 0);
    CHECK(put(&tb, "g", 0, 1, 0, 16, 50, 0, 66, &body, &bl) == COAP_BLOCK1_CONTINUE);
    CHECK(put(&tb, "g", 1, 1, 0, 16, 50, 0, 67, &body, &bl) == COAP_BLOCK1_CONTINUE);
    CHECK(put(&tb, "g", 1, 0, 0, 16, 50, 0, 68, &body, &bl) == COAP_BLOCK1_INCOMPLETE);

    /* sizes: a middle block shorter or longer than its block size, a last block longer, szx 7 */
    CHECK(put(&tb, "e", 0, 1, 2, 63, 50, 0, 50, &body, &bl) == COAP_BLOCK1_BAD);
    CHECK(put(&tb, "e", 0, 1, 2, 65, 50, 0, 50, &body, &bl) == COAP_BLOCK1_BAD);
    CHECK(put(&tb, "e", 0, 0, 2, 65, 50, 0, 50, &body, &bl) == COAP_BLOCK1_BAD);
    CHECK(put(&tb, "e", 0, 1, 7, 16, 50, 0, 50, &body, &bl) == COAP_BLOCK1_BAD);
    CHECK(put(&tb, "e", 0, 1, 2, 64, 50, 0, 50, &body, &bl) == COAP_BLOCK1_CONTINUE);
    CHECK(put(&tb, "e", 1, 1, 2, 10, 50, 0, 51, &body, &bl) == COAP_BLOCK1_BAD);
    CHECK(coap_block1_active(&tb) == 0); /* a bad block drops its transfer */
    coap_block1_free(&tb);
}

static void test_block1_limits(void)
{
    coap_block1_table tb;
    uint8_t *body;
    size_t bl;
    CHECK(coap_block1_init(&tb, 2, 200, 1000) == 0);

    /* Size1 above max_body: refused at block 0, before anything is stored */
    CHECK(put(&tb, "s", 0, 1, 0, 16, 50, 201, 0, &body, &bl) == COAP_BLOCK1_TOO_LARGE);
    CHECK(coap_block1_active(&tb) == 0);
    CHECK(put(&tb, "s", 0, 1, 0, 16, 50, UINT64_C(0xFFFFFFF0), 0, &body, &bl) ==
          COAP_BLOCK1_TOO_LARGE);
    /* a single unblocked-looking block 0 with a huge Size1 as well */
    CHECK(put(&tb, "s", 0, 0, 0, 16, 50, 100000, 0, &body, &bl) == COAP_BLOCK1_TOO_LARGE);
    /* Size1 == max_body is fine; the blocks' end is checked as well, and drops the transfer */
    CHECK(put(&tb, "s", 0, 1, 0, 16, 50, 200, 0, &body, &bl) == COAP_BLOCK1_CONTINUE);
    for (uint32_t n = 1; n < 12; n++)
        CHECK(put(&tb, "s", n, 1, 0, 16, 50, 0, n, &body, &bl) == COAP_BLOCK1_CONTINUE);
    /* block 12 ends at 208 > 200 */
    CHECK(put(&tb, "s", 12, 1, 0, 16, 50, 0, 20, &body, &bl) == COAP_BLOCK1_TOO_LARGE);
    CHECK(coap_block1_active(&tb) == 0);
    /* a block far out (num 2^20 - 1, 1 KiB) is refused by its end before any lookup */
    CHECK(put(&tb, "s", 0xFFFFF, 0, 6, 1, 50, 0, 21, &body, &bl) == COAP_BLOCK1_TOO_LARGE);
    /* exactly max_body: 12 x 16 + 8 */
    CHECK(put(&tb, "x", 0, 1, 0, 16, 50, 0, 30, &body, &bl) == COAP_BLOCK1_CONTINUE);
    for (uint32_t n = 1; n < 12; n++)
        CHECK(put(&tb, "x", n, 1, 0, 16, 50, 0, 30, &body, &bl) == COAP_BLOCK1_CONTINUE);
    CHECK(put(&tb, "x", 12, 0, 0, 8, 50, 0, 30, &body, &bl) == COAP_BLOCK1_COMPLETE);
    CHECK(bl == 200 && memcmp(body, data, 200) == 0);
    free(body);

    /* at most max_transfers at once; idle ones expire and free their slot */
    CHECK(put(&tb, "t1", 0, 1, 0, 16, 50, 0, 100, &body, &bl) == COAP_BLOCK1_CONTINUE);
    CHECK(put(&tb, "t2", 0, 1, 0, 16, 50, 0, 500, &body, &bl) == COAP_BLOCK1_CONTINUE);
    CHECK(put(&tb, "t3", 0, 1, 0, 16, 50, 0, 600, &body, &bl) == COAP_BLOCK1_BUSY);
    CHECK(coap_block1_active(&tb) == 2);
    /* t1 idle for 1000 ms at 1100: taken for t3 */
    CHECK(put(&tb, "t3", 0, 1, 0, 16, 50, 0, 1100, &body, &bl) == COAP_BLOCK1_CONTINUE);
    CHECK(put(&tb, "t1", 1, 1, 0, 16, 50, 0, 1101, &body, &bl) == COAP_BLOCK1_INCOMPLETE);
    /* activity keeps a transfer alive */
    CHECK(put(&tb, "t2", 1, 1, 0, 16, 50, 0, 1400, &body, &bl) == COAP_BLOCK1_CONTINUE);
    CHECK(coap_block1_expire(&tb, 2099) == 0);
    CHECK(coap_block1_expire(&tb, 2100) == 1); /* t3 (last 1100) */
    CHECK(coap_block1_expire(&tb, 2400) == 1); /* t2 (last 1400) */
    CHECK(coap_block1_active(&tb) == 0);
    coap_block1_free(&tb);
}

/* ---- exchange.c ---- */

static void key_for(coap_exchange_key *k, size_t listener, uint32_t ip, uint16_t port, uint16_t mid)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(ip);
    sa.sin_port = htons(port);
    coap_exchange_key_make(k, listener, &sa, sizeof(sa), mid);
}

static void test_exchange_keying_and_expiry(void)
{
    coap_exchange_cache c;
    coap_exchange_key k, k2;
    CHECK(coap_exchange_cache_init(&c, 0, 1000, 1) == -1);
    CHECK(coap_exchange_cache_init(&c, 8, 1000, 42) == 0);

    key_for(&k, 0, 0x7f000001, 5000, 7);
    CHECK(coap_exchange_find(&c, &k, 0) == NULL);
    coap_exchange *e = coap_exchange_insert(&c, &k, 100);
    CHECK(e && e->state == COAP_EXCHANGE_PENDING && e->block1 == -1 && e->born_ms == 100);
    e->state = COAP_EXCHANGE_ANSWERED;
    e->code = 0x44;
    CHECK(coap_exchange_find(&c, &k, 100) == e);
    /* the same key, built again */
    key_for(&k2, 0, 0x7f000001, 5000, 7);
    CHECK(coap_exchange_find(&c, &k2, 150) == e && e->code == 0x44);
    /* any part differing is another exchange: Message ID, port, address, listener */
    key_for(&k2, 0, 0x7f000001, 5000, 8);
    CHECK(coap_exchange_find(&c, &k2, 150) == NULL);
    key_for(&k2, 0, 0x7f000001, 5001, 7);
    CHECK(coap_exchange_find(&c, &k2, 150) == NULL);
    key_for(&k2, 0, 0x7f000002, 5000, 7);
    CHECK(coap_exchange_find(&c, &k2, 150) == NULL);
    key_for(&k2, 1, 0x7f000001, 5000, 7);
    CHECK(coap_exchange_find(&c, &k2, 150) == NULL);
    /* Message IDs whose bytes swap */
    key_for(&k, 0, 0x7f000001, 5000, 0x0102);
    key_for(&k2, 0, 0x7f000001, 5000, 0x0201);
    CHECK(memcmp(k.b, k2.b, k.len) != 0);
    /* an over-long address is cut at the key's size, never overflowing it */
    uint8_t big[100];
    memset(big, 0xab, sizeof(big));
    coap_exchange_key_make(&k2, 3, big, sizeof(big), 9);
    CHECK(k2.len == COAP_EXCHANGE_KEY_MAX);

    /* lifetime: live for 999 ms after its birth, gone at 1000 */
    key_for(&k, 0, 0x7f000001, 5000, 7);
    CHECK(coap_exchange_find(&c, &k, 1099) == e);
    CHECK(coap_exchange_find(&c, &k, 1100) == NULL);
    /* re-inserting a key replaces the stale entry (a Message ID reused after the lifetime) */
    size_t before = c.count;
    coap_exchange *e2 = coap_exchange_insert(&c, &k, 1200);
    CHECK(e2->state == COAP_EXCHANGE_PENDING && e2->code == 0 && e2->born_ms == 1200);
    CHECK(c.count == before);
    CHECK(coap_exchange_find(&c, &k, 1300) == e2);
    coap_exchange_cache_free(&c);
}

static void test_exchange_bound(void)
{
    coap_exchange_cache c;
    coap_exchange_key k;
    CHECK(coap_exchange_cache_init(&c, 64, 1000000, 7) == 0);
    /* 1000 exchanges from 10 peers: only the newest 64 stay, oldest evicted first */
    for (uint32_t i = 0; i < 1000; i++) {
        key_for(&k, 0, 0x0a000000 + i % 10, 40000, (uint16_t)(i / 10));
        coap_exchange *e = coap_exchange_insert(&c, &k, i);
        e->code = (uint8_t)i;
        CHECK(c.count <= 64);
    }
    CHECK(c.count == 64);
    size_t live = 0;
    for (uint32_t i = 0; i < 1000; i++) {
        key_for(&k, 0, 0x0a000000 + i % 10, 40000, (uint16_t)(i / 10));
        coap_exchange *e = coap_exchange_find(&c, &k, 1000);
        if (i >= 1000 - 64) {
            CHECK(e != NULL && e->code == (uint8_t)i);
        } else {
            CHECK(e == NULL);
        }
        live += e != NULL;
    }
    CHECK(live == 64);
    /* after eviction the hash chains are consistent: every live entry is found by its key */
    for (size_t s = 0; s < c.max; s++) {
        if (!c.slots[s].used)
            continue;
        CHECK(coap_exchange_find(&c, &c.slots[s].key, 1000) == &c.slots[s]);
    }
    /* a cache of one: each insert evicts the previous */
    coap_exchange_cache_free(&c);
    CHECK(coap_exchange_cache_init(&c, 1, 1000, 0) == 0);
    key_for(&k, 0, 1, 1, 1);
    coap_exchange_insert(&c, &k, 0);
    coap_exchange_key k2;
    key_for(&k2, 0, 1, 1, 2);
    coap_exchange_insert(&c, &k2, 0);
    CHECK(coap_exchange_find(&c, &k, 1) == NULL && coap_exchange_find(&c, &k2, 1) != NULL);
    CHECK(c.count == 1);
    coap_exchange_cache_free(&c);
}

int main(void)
{
    test_route_paths();
    test_route_compile_errors();
    test_route_tenants();
    test_route_queries();
    test_route_well_known();
    test_block1_sizes_and_order();
    test_block1_limits();
    test_exchange_keying_and_expiry();
    test_exchange_bound();
    return check_done();
}
