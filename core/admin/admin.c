/* admin.c - see admin.h. */
#include "admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "metrics.h"
#include "refusals.h"

extern const unsigned char inlet_console_html[]; /* console_page.c, made from console.html */
extern const unsigned long inlet_console_html_len;

#define JSON_TYPE "application/json"
#define HTML_TYPE "text/html; charset=utf-8"

static int path_is(const char *path, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(path, want, len) == 0;
}

static void json_string(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static int is_number(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789+-.eE", s[i]))
            return 0;
    return 1;
}

/* One exposition line "name{labels} value" as [name, labels, value]; comments are skipped. */
static int sample(FILE *f, const char *line, size_t n, int first)
{
    if (n == 0 || line[0] == '#')
        return 0;
    const char *sp = memrchr(line, ' ', n);
    if (!sp)
        return 0;
    const char *brace = memchr(line, '{', (size_t)(sp - line));
    size_t name_len = brace ? (size_t)(brace - line) : (size_t)(sp - line);
    const char *labels = brace ? brace + 1 : "";
    size_t labels_len = 0;
    if (brace) {
        const char *end = sp;
        while (end > brace && *end != '}')
            end--;
        labels_len = end > brace ? (size_t)(end - labels) : 0;
    }
    const char *value = sp + 1;
    size_t value_len = n - (size_t)(value - line);
    fputs(first ? "[" : ",[", f);
    json_string(f, line, name_len);
    fputc(',', f);
    json_string(f, labels, labels_len);
    fputc(',', f);
    if (is_number(value, value_len))
        fwrite(value, 1, value_len, f);
    else
        fputs("null", f);
    fputc(']', f);
    return 1;
}

char *inlet_admin_console_data(size_t *len)
{
    size_t text_len = 0, recent_len = 0, size = 0;
    char *text = inlet_metrics_render(&text_len);
    char *recent = inlet_refusals_render_json(&recent_len);
    char *buf = NULL;
    FILE *f = text && recent ? open_memstream(&buf, &size) : NULL;
    if (!f)
        goto out;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    fprintf(f, "{\"ts_ms\":%lld,\"version\":\"%s\",\"metrics\":[",
            (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000, INLET_VERSION);
    int first = 1;
    for (const char *p = text; p < text + text_len;) {
        const char *nl = memchr(p, '\n', (size_t)(text + text_len - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(text + text_len - p);
        if (sample(f, p, n, first))
            first = 0;
        p += n + 1;
    }
    fputs("],\"recent\":", f);
    fwrite(recent, 1, recent_len, f);
    fputs("}\n", f);
    if (fclose(f) != 0) {
        free(buf);
        buf = NULL;
    } else if (len) {
        *len = size;
    }
out:
    free(text);
    free(recent);
    return buf;
}

int inlet_admin_resource(const char *path, size_t path_len, char **body, size_t *len,
                         const char **content_type)
{
    *body = NULL;
    *len = 0;
    if (path_is(path, path_len, "/refusals")) {
        *content_type = JSON_TYPE;
        *body = inlet_refusals_render_json(len);
    } else if (path_is(path, path_len, "/console/data")) {
        *content_type = JSON_TYPE;
        *body = inlet_admin_console_data(len);
    } else if (path_is(path, path_len, "/console") || path_is(path, path_len, "/console/")) {
        *content_type = HTML_TYPE;
        *body = malloc(inlet_console_html_len);
        if (*body) {
            memcpy(*body, inlet_console_html, inlet_console_html_len);
            *len = inlet_console_html_len;
        }
    } else {
        return 404;
    }
    return *body ? 200 : 500;
}
