/* test_refusals.c - the refusal recorder (ring order and bound, the per-tenant-and-reason log
 * budget, the summary line) and JSON log lines: every line parses, whatever its fields hold and
 * however long they are. stderr is redirected to a file and read back. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "log.h"
#include "metric_labels.h"
#include "metrics.h"
#include "refusals.h"

static char log_path[64];
static int log_fd = -1, saved_stderr = -1;

static void capture_begin(void)
{
    snprintf(log_path, sizeof(log_path), "/tmp/inlet-test-refusals-XXXXXX");
    log_fd = mkstemp(log_path);
    saved_stderr = dup(STDERR_FILENO);
    dup2(log_fd, STDERR_FILENO);
}

/* Everything logged since capture_begin(); the caller frees it. */
static char *capture_end(void)
{
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    off_t n = lseek(log_fd, 0, SEEK_END);
    char *text = calloc(1, (size_t)n + 1);
    if (pread(log_fd, text, (size_t)n, 0) != n)
        text[0] = '\0';
    close(log_fd);
    unlink(log_path);
    return text;
}

static size_t count_lines_with(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static void refuse(const char *tenant, inlet_status st, const char *detail)
{
    inlet_refusal r = {.module = "http",
                       .protocol = "http",
                       .status = st,
                       .peer = "192.0.2.1:4242",
                       .tenant = tenant,
                       .device = "truck-0042",
                       .detail = detail};
    inlet_refusal_record(&r);
}

static void test_json_lines_parse(void)
{
    char *huge = malloc(6000);
    memset(huge, 'x', 5999);
    huge[5999] = '\0';
    huge[100] = '"';
    huge[200] = '\\';
    huge[300] = '\n';
    huge[400] = '\x01';
    inlet_log_set_format(INLET_LOG_FORMAT_JSON);
    capture_begin();
    inlet_logf(INLET_LOG_INFO, "core", "quote \" backslash \\ tab \t ctl \x02 utf8 \xc3\xa9");
    inlet_log_field f[] = {{"detail", "a \"quoted\"\nvalue"}, {"absent", NULL}, {"big", huge}};
    inlet_log_fields(INLET_LOG_INFO, "refusal", "refused invalid", f, 3);
    inlet_log_fields(INLET_LOG_INFO, "refusal", huge, f, 3);
    inlet_log_fields(INLET_LOG_DEBUG, "refusal", "below the level", f, 1);
    char *text = capture_end();
    inlet_log_set_format(INLET_LOG_FORMAT_TEXT);

    size_t lines = 0;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        json_error_t err;
        json_t *o = json_loads(line, 0, &err);
        CHECK(o != NULL);
        if (!o) {
            fprintf(stderr, "not JSON (%s): %.200s\n", err.text, line);
            continue;
        }
        CHECK(json_is_string(json_object_get(o, "ts")));
        CHECK_STR(json_string_value(json_object_get(o, "level")), "info");
        CHECK(json_object_get(o, "absent") == NULL);
        if (lines == 0)
            CHECK_STR(json_string_value(json_object_get(o, "msg")),
                      "quote \" backslash \\ tab \t ctl \x02 utf8 \xc3\xa9");
        if (lines == 1) {
            CHECK_STR(json_string_value(json_object_get(o, "tag")), "refusal");
            CHECK_STR(json_string_value(json_object_get(o, "detail")), "a \"quoted\"\nvalue");
        }
        json_decref(o);
        lines++;
    }
    CHECK(lines == 3);
    free(text);
    free(huge);
}

static void test_ring_and_budget(void)
{
    inlet_refusals_configure(3, 2, 3600); /* keep 3; log 2 per tenant and reason per hour */
    capture_begin();
    for (int i = 0; i < 5; i++) {
        char detail[32];
        snprintf(detail, sizeof(detail), "bad token %d", i);
        refuse(NULL, INLET_E_UNAUTHENTICATED, detail);
    }
    refuse("demo", INLET_E_UNAUTHENTICATED, "other tenant");
    refuse("demo", INLET_E_FORBIDDEN, "other reason");
    char *text = capture_end();
    CHECK(count_lines_with(text, "event=refusal ") == 4); /* 2 + 1 + 1 */
    CHECK(count_lines_with(text, "detail=\"bad token 2\"") == 0);
    CHECK(count_lines_with(text, "peer=192.0.2.1:4242") == 4);
    free(text);

    size_t len = 0;
    char *js = inlet_refusals_render_json(&len);
    json_error_t err;
    json_t *doc = json_loads(js, 0, &err);
    CHECK(doc != NULL);
    CHECK(json_integer_value(json_object_get(doc, "total")) == 7);
    CHECK(json_integer_value(json_object_get(doc, "kept")) == 3);
    json_t *list = json_object_get(doc, "refusals");
    CHECK(json_array_size(list) == 3);
    CHECK_STR(json_string_value(json_object_get(json_array_get(list, 0), "detail")),
              "other reason");
    CHECK_STR(json_string_value(json_object_get(json_array_get(list, 2), "detail")), "bad token 4");
    CHECK_STR(json_string_value(json_object_get(json_array_get(list, 1), "tenant")), "demo");
    json_decref(doc);
    free(js);

    /* the counter counts every refusal, logged or not */
    char *m = inlet_metrics_render(NULL);
    CHECK_CONTAINS(m, "inlet_refusals_total{module=\"http\",tenant=\"\",schema=\"\","
                      "reason=\"unauthenticated\"} 5");
    free(m);

    /* a short window: the next refusal after it logs the summary first */
    inlet_refusals_configure(3, 1, 1);
    capture_begin();
    refuse("w", INLET_E_INVALID, "one");
    refuse("w", INLET_E_INVALID, "two");
    refuse("w", INLET_E_INVALID, "three");
    sleep(2);
    refuse("w", INLET_E_INVALID, "four");
    text = capture_end();
    /* (and the summary of the earlier unauthenticated ones, whose window also ended) */
    CHECK(count_lines_with(text, "event=refusals_suppressed tenant=w reason=invalid "
                                 "suppressed=2") == 1);
    CHECK(count_lines_with(text, "detail=four") == 1);
    free(text);
}

int main(void)
{
    test_json_lines_parse();
    test_ring_and_budget();
    inlet_refusals_shutdown();
    inlet_metric_labels_shutdown();
    inlet_metrics_shutdown();
    return check_done();
}
