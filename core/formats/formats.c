/* formats.c - content types and CoAP Content-Formats to the core's decoders (see formats.h). */
#include "formats.h"

#include <string.h>
#include <strings.h>

static const struct format_entry {
    inlet_format format;
    const char *name;
    const char *content_type;
    unsigned coap; /* RFC 7252 §12.3 / IANA CoAP Content-Formats */
} format_table[] = {
    {INLET_FMT_JSON, "json", "application/json", 50},
    {INLET_FMT_CBOR, "cbor", "application/cbor", 60},
    {INLET_FMT_SENML_JSON, "senml+json", "application/senml+json", 110},
    {INLET_FMT_SENML_CBOR, "senml+cbor", "application/senml+cbor", 112},
    {INLET_FMT_OCTETS, "octet-stream", "application/octet-stream", 42},
};

#define N_FORMATS (sizeof(format_table) / sizeof(format_table[0]))

int inlet_format_from_content_type(const char *ct, inlet_format *out)
{
    if (!ct) {
        *out = INLET_FMT_JSON;
        return 0;
    }
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strcspn(ct, "; \t");
    const char *rest = ct + n;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    if (*rest != '\0' && *rest != ';')
        return -1;
    if (n == 0) {
        *out = INLET_FMT_JSON;
        return 0;
    }
    for (size_t i = 0; i < N_FORMATS; i++) {
        if (strlen(format_table[i].content_type) == n &&
            strncasecmp(ct, format_table[i].content_type, n) == 0) {
            *out = format_table[i].format;
            return 0;
        }
    }
    return -1;
}

int inlet_format_from_coap(unsigned cf, inlet_format *out)
{
    for (size_t i = 0; i < N_FORMATS; i++) {
        if (format_table[i].coap == cf) {
            *out = format_table[i].format;
            return 0;
        }
    }
    return -1;
}

static const struct format_entry *entry(inlet_format f)
{
    for (size_t i = 0; i < N_FORMATS; i++)
        if (format_table[i].format == f)
            return &format_table[i];
    return &format_table[0];
}

const char *inlet_format_content_type(inlet_format f)
{
    return entry(f)->content_type;
}

const char *inlet_format_name(inlet_format f)
{
    return entry(f)->name;
}

int inlet_format_from_name(const char *name, inlet_format *out)
{
    for (size_t i = 0; i < N_FORMATS; i++) {
        if (strcmp(format_table[i].name, name) == 0) {
            *out = format_table[i].format;
            return 0;
        }
    }
    return -1;
}
