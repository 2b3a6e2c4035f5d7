/*
 * schema_compile.c - a JSON Schema document (2020-12 keyword subset) compiled into a tree of
 * schema_node. Keywords are data: one table row per keyword names the setter that checks its
 * value and where the result goes. Anything not in the table is refused with the JSON pointer of
 * the keyword, so that a schema never silently means less than its author thinks.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "schema_internal.h"

#define DIALECT_2020_12 "https://json-schema.org/draft/2020-12/schema"
#define KAFKA_TOPIC_MAX 249

typedef struct cctx {
    const char *origin;
    inlet_schema *schema; /* receives the top-level x-inlet-* keys */
    char *err;
    size_t err_len;
    int depth;       /* 0 = the document's top level */
    int in_property; /* the node being compiled is the schema of a property */
    int next_is_property;
    size_t ptr_len; /* current JSON pointer, for error messages */
    char ptr[1024];
} cctx;

typedef struct keyword keyword;
typedef int (*keyword_fn)(cctx *c, schema_node *n, const json_t *v, const keyword *kw);

struct keyword {
    const char *name;
    keyword_fn compile;
    size_t offset;  /* field of schema_node that the generic setters fill */
    unsigned flag;  /* SCHEMA_F_* the generic setters raise */
    unsigned where; /* KW_* */
};

enum {
    KW_ANYWHERE = 0,
    KW_ROOT = 1,     /* describes the whole schema (x-inlet-topic, ...) */
    KW_PROPERTY = 2, /* describes a named field (x-inlet-unit) */
};

static int compile_node(cctx *c, const json_t *v, schema_node **out);

__attribute__((format(printf, 2, 3))) static int fail(cctx *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->ptr_len)
        snprintf(c->err, c->err_len, "%s: %s: %s", c->origin, c->ptr, msg);
    else
        snprintf(c->err, c->err_len, "%s: %s", c->origin, msg);
    return -1;
}

/* Appends "/seg" (RFC 6901 escaped) to the current pointer; returns the length to restore. A
 * pointer longer than the buffer is cut, which only shortens an error message. */
static size_t ptr_push(cctx *c, const char *seg, size_t seg_len)
{
    size_t saved = c->ptr_len, cap = sizeof(c->ptr) - 1;
    const char *esc;

    if (c->ptr_len < cap)
        c->ptr[c->ptr_len++] = '/';
    for (size_t i = 0; i < seg_len && c->ptr_len < cap; i++) {
        esc = seg[i] == '~' ? "~0" : seg[i] == '/' ? "~1" : NULL;
        if (!esc) {
            c->ptr[c->ptr_len++] = seg[i];
        } else if (c->ptr_len + 2 <= cap) {
            c->ptr[c->ptr_len++] = esc[0];
            c->ptr[c->ptr_len++] = esc[1];
        } else {
            break;
        }
    }
    c->ptr[c->ptr_len] = '\0';
    return saved;
}

static void ptr_pop(cctx *c, size_t saved)
{
    c->ptr_len = saved;
    c->ptr[saved] = '\0';
}

/* Messages quote schema values with the renderer that quotes instances, so both look alike. */
static char *render_dup(const inlet_value *v, int as_list)
{
    char buf[SCHEMA_TEXT_MAX];
    if (as_list)
        schema_render_list(v->u.items, v->n, buf, sizeof(buf));
    else
        schema_render_value(v, buf, sizeof(buf));
    return strdup(buf);
}

static int oom(cctx *c)
{
    return fail(c, "out of memory");
}

/* --- generic setters ------------------------------------------------------------------------ */

static int kw_number(cctx *c, schema_node *n, const json_t *v, const keyword *kw)
{
    schema_bound *b = (schema_bound *)((char *)n + kw->offset);
    inlet_value num = {0};

    if (!json_is_number(v))
        return fail(c, "must be a number");
    if (json_is_integer(v)) {
        num.type = INLET_V_INT;
        num.u.i = json_integer_value(v);
        b->value = (long double)num.u.i;
    } else {
        num.type = INLET_V_REAL;
        num.u.r = json_real_value(v);
        b->value = (long double)num.u.r;
    }
    schema_render_value(&num, b->text, sizeof(b->text));
    n->flags |= kw->flag;
    return 0;
}

static int kw_count(cctx *c, schema_node *n, const json_t *v, const keyword *kw)
{
    size_t *field = (size_t *)((char *)n + kw->offset);
    double d;

    /* 2020-12 counts 5.0 as an integer too. */
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *field = (size_t)json_integer_value(v);
    } else if (json_is_real(v) && (d = json_real_value(v)) >= 0 && d < 9007199254740992.0 &&
               floor(d) == d) {
        *field = (size_t)d;
    } else {
        return fail(c, "must be a non-negative integer");
    }
    n->flags |= kw->flag;
    return 0;
}

static int kw_string_annotation(cctx *c, schema_node *n, const json_t *v, const keyword *kw)
{
    (void)n;
    (void)kw;
    return json_is_string(v) ? 0 : fail(c, "must be a string");
}

static int kw_bool_annotation(cctx *c, schema_node *n, const json_t *v, const keyword *kw)
{
    (void)n;
    (void)kw;
    return json_is_boolean(v) ? 0 : fail(c, "must be a boolean");
}

static int kw_array_annotation(cctx *c, schema_node *n, const json_t *v, const keyword *kw)
{
    (void)n;
    (void)kw;
    return json_is_array(v) ? 0 : fail(c, "must be an array");
}

static int kw_any_annotation(cctx *c, schema_node *n, const json_t *v, const keyword *kw)
{
    (void)c;
    (void)n;
    (void)v;
    (void)kw;
    return 0;
}

/* --- assertions ----------------------------------------------------------------------------- */

static const struct {
    const char *name;
    unsigned bit;
} type_names[] = {
    {"null", SCHEMA_T_NULL},       {"boolean", SCHEMA_T_BOOLEAN}, {"object", SCHEMA_T_OBJECT},
    {"array", SCHEMA_T_ARRAY},     {"number", SCHEMA_T_NUMBER},   {"string", SCHEMA_T_STRING},
    {"integer", SCHEMA_T_INTEGER},
};

static unsigned type_bit(const json_t *v)
{
    if (!json_is_string(v))
        return 0;
    for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
        if (strcmp(json_string_value(v), type_names[i].name) == 0)
            return type_names[i].bit;
    return 0;
}

static int kw_type(cctx *c, schema_node *n, const json_t *v, const keyword *kw)
{
    const char *bad = "must be a type name (null, boolean, object, array, number, string, "
                      "integer) or a non-empty array of distinct type names";
    char text[128] = "";
    size_t i;
    json_t *t;
    unsigned bit;

    (void)kw;
    if (json_is_string(v)) {
        if (!(n->types = type_bit(v)))
            return fail(c, "%s", bad);
        snprintf(text, sizeof(text), "%s", json_string_value(v));
    } else if (json_is_array(v) && json_array_size(v) > 0) {
        json_array_foreach(v, i, t)
        {
            bit = type_bit(t);
            if (!bit || (n->types & bit))
                return fail(c, "%s", bad);
            n->types |= bit;
            /* Seven names of at most seven letters always fit. */
            snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s%s", i ? " or " : "",
                     json_string_value(t));
        }
    } else {
        return fail(c, "%s", bad);
    }
    if (!(n->type_text = strdup(text)))
        return oom(c);
    return 0;
}

static int kw_properties(cctx *c, schema_node *n, const json_t *v, const keyword *kw)
{
    const char *key;
    size_t key_len, saved;
    json_t *sub;
    int rc;

    (void)kw;
    if (!json_is_object(v))
        return fail(c, "must be an object of schemas");
    n->props = calloc(json_object_size(v) + 1, sizeof(*n->props));
    if (!n->props)
        return oom(c);
    json_object_keylen_foreach((json_t *)v, key, key_len, sub)
    {
        schema_property *p = &n->props[n->n_props];
        if (!(p->name = malloc(key_len + 1)))
            return oom(c);
        memcpy(p->name, key, key_len);
        p->name[key_len] = '\0';
        p->name_len = key_len;
        n->n_props++;
        saved = ptr_push(c, key, key_len);
        c->next_is_property = 1;
        rc = compile_node(c, sub, &p->schema);
        if (rc)
            return rc;
        ptr_pop(c, saved);
    }
    return 0;
}

static int kw_required(cctx *c, schema_node *n, const json_t *v, const keyword *kw)
{
    size_t i, j;
    json_t *name;

    (void)kw;
    if (!json_is_array(v))
        return fail(c, "must be an array of distinct strings");
    n->required = calloc(json_array_size(v) + 1, sizeof(*n->required));
    if (!n->required)
        return oom(c);
    json_array_foreach(v, i, name)
    {
        if (!json_is_string(name))
            return fail(c, "must be an array of distinct strings");
        for (j = 0; j < i; j++)
            if (json_equal(json_array_get(v, j), name))
                return fail(c, "lists \"%s\" twice", json_string_value(name));
        schema_property *p = &n->required[n->n_required];
        p->name_len = json_string_length(name);
        if (!(p->name = malloc(p->name_len + 1)))
            return oom(c);
        memcpy(p->name, json_string_value(name), p->name_len + 1);
        n->n_required++;
    }
    return 0;
}

static int kw_additional(cctx *c, schema_node *n, const json_t *v, const keyword *kw)
{
    (void)kw;
    if (json_is_false(v)) {
        n->flags |= SCHEMA_F_NO_ADDITIONAL;
        return 0;
    }
    if (json_is_true(v))
        return 0;
    if (!json_is_object(v))
        return fail(c, "must be a boolean or a schema");
    return compile_node(c, v, &n->additional);
}

static int kw_items(cctx *c, schema_node *n, const json_t *v, const keyword *kw)
{
    (void)kw;
    /* The array form of draft 2019-09 is prefixItems in 2020-12, which is not supported. */
    if (!json_is_object(v) && !json_is_boolean(v))
        return fail(c, "must be a schema (an object or a boolean)");
    return compile_node(c, v, &n->items);
}

/* const and enum values are kept in the data model instances arrive in, so that validating
 * compares like with like and never touches jansson. */
static int kw_enum(cctx *c, schema_node *n, const json_t *v, const keyword *kw)
{
    const inlet_value *list;

    (void)kw;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return fail(c, "must be a non-empty array");
    if (!(list = inlet_value_from_json(&c->schema->arena, v)) ||
        !(n->enum_text = render_dup(list, 1)))
        return oom(c);
    n->enum_values = list->u.items;
    n->n_enum = list->n;
    n->flags |= SCHEMA_F_ENUM;
    return 0;
}

static int kw_const(cctx *c, schema_node *n, const json_t *v, const keyword *kw)
{
    (void)kw;
    if (!(n->const_value = inlet_value_from_json(&c->schema->arena, v)) ||
        !(n->const_text = render_dup(n->const_value, 0)))
        return oom(c);
    n->flags |= SCHEMA_F_CONST;
    return 0;
}

static int kw_pattern(cctx *c, schema_node *n, const json_t *v, const keyword *kw)
{
    inlet_value text = {.type = INLET_V_STRING};
    char msg[256];

    (void)kw;
    if (!json_is_string(v))
        return fail(c, "must be a string");
    if (schema_regex_compile(json_string_value(v), json_string_length(v), &n->pattern, msg,
                             sizeof(msg)))
        return fail(c, "%s", msg);
    text.u.s = json_string_value(v);
    text.n = (uint32_t)json_string_length(v);
    if (!(n->pattern_text = render_dup(&text, 0)))
        return oom(c);
    n->flags |= SCHEMA_F_PATTERN;
    return 0;
}

static int kw_format(cctx *c, schema_node *n, const json_t *v, const keyword *kw)
{
    (void)kw;
    if (!json_is_string(v))
        return fail(c, "must be a string");
    /* An unchecked format would look like a guarantee, so unknown formats are refused. */
    if (strcmp(json_string_value(v), "date-time") != 0)
        return fail(c, "unsupported format \"%s\" (only \"date-time\" is supported)",
                    json_string_value(v));
    n->flags |= SCHEMA_F_DATE_TIME;
    return 0;
}

static int kw_content_encoding(cctx *c, schema_node *n, const json_t *v, const keyword *kw)
{
    (void)kw;
    if (!json_is_string(v))
        return fail(c, "must be a string");
    /* The one encoding the envelope writer produces for byte strings. */
    if (strcmp(json_string_value(v), "base64url") != 0)
        return fail(c, "unsupported contentEncoding \"%s\" (only \"base64url\" is supported)",
                    json_string_value(v));
    n->flags |= SCHEMA_F_BASE64URL;
    return 0;
}

static int kw_dialect(cctx *c, schema_node *n, const json_t *v, const keyword *kw)
{
    (void)n;
    (void)kw;
    if (!json_is_string(v) || (strcmp(json_string_value(v), DIALECT_2020_12) != 0 &&
                               strcmp(json_string_value(v), DIALECT_2020_12 "#") != 0))
        return fail(c, "must be \"" DIALECT_2020_12 "\"");
    return 0;
}

/* --- Inlet keys ----------------------------------------------------------------------------- */

static int kw_topic(cctx *c, schema_node *n, const json_t *v, const keyword *kw)
{
    const char *s;
    size_t len;

    (void)n;
    (void)kw;
    if (!json_is_string(v))
        return fail(c, "must be a string");
    s = json_string_value(v);
    len = json_string_length(v);
    /* Kafka's own rule for topic names; refusing here beats a produce error per event. */
    if (len == 0 || len > KAFKA_TOPIC_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0 ||
        strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != len)
        return fail(c, "must be a Kafka topic name (1 to 249 of [a-zA-Z0-9._-])");
    free(c->schema->topic);
    if (!(c->schema->topic = strdup(s)))
        return oom(c);
    return 0;
}

/* x-inlet-topic-partitions / -replication: what `inletd topics` creates the topic with. */
static int kw_topic_sizing(cctx *c, schema_node *n, const json_t *v, const keyword *kw)
{
    (void)n;
    int partitions = strcmp(kw->name, "x-inlet-topic-partitions") == 0;
    long long max = partitions ? 100000 : 32767;
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > max)
        return fail(c, partitions ? "must be an integer from 1 to 100000"
                                  : "must be an integer from 1 to 32767");
    if (partitions)
        c->schema->topic_partitions = (int)json_integer_value(v);
    else
        c->schema->topic_replication = (int)json_integer_value(v);
    return 0;
}

static int kw_key(cctx *c, schema_node *n, const json_t *v, const keyword *kw)
{
    const char *s;
    size_t len;

    (void)n;
    (void)kw;
    if (!json_is_string(v))
        return fail(c, "must be a JSON pointer string such as \"/device_id\"");
    s = json_string_value(v);
    len = json_string_length(v);
    if (len > 0 && s[0] != '/')
        return fail(c, "must be a JSON pointer string such as \"/device_id\"");
    for (size_t i = 0; i < len; i++)
        if (s[i] == '~' && (i + 1 == len || (s[i + 1] != '0' && s[i + 1] != '1')))
            return fail(c, "\"~\" must be followed by 0 or 1 in a JSON pointer (RFC 6901)");
    free(c->schema->key_pointer);
    if (!(c->schema->key_pointer = strdup(s)))
        return oom(c);
    return 0;
}

/* SenML unit names (RFC 8428 section 12.1, extended by RFC 8798) are short printable ASCII;
 * the IANA registry grows, so the name is not checked against a fixed list. */
static int kw_unit(cctx *c, schema_node *n, const json_t *v, const keyword *kw)
{
    const char *s;
    size_t len, visible = 0;

    (void)kw;
    if (!json_is_string(v))
        return fail(c, "must be a string");
    s = json_string_value(v);
    len = json_string_length(v);
    while (visible < len && (unsigned char)s[visible] > 0x20 && (unsigned char)s[visible] < 0x7f)
        visible++;
    if (len == 0 || visible < len)
        return fail(c, "must be a SenML unit name such as \"Cel\" or \"m/s\" (RFC 8428 section "
                       "12.1)");
    if (!(n->unit = inlet_arena_strndup(&c->schema->arena, s, len)))
        return oom(c);
    return 0;
}

static int kw_formats(cctx *c, schema_node *n, const json_t *v, const keyword *kw)
{
    char index[24];
    size_t i, saved;
    json_t *name;
    inlet_format f;
    unsigned bits = 0;
    int rc = 0;

    (void)n;
    (void)kw;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return fail(c, "must be a non-empty array of format names");
    json_array_foreach(v, i, name)
    {
        snprintf(index, sizeof(index), "%zu", i);
        saved = ptr_push(c, index, strlen(index));
        if (!json_is_string(name))
            rc = fail(c, "must be a format name (json, cbor, senml+json, senml+cbor, "
                         "octet-stream)");
        else if (strlen(json_string_value(name)) != json_string_length(name) ||
                 inlet_format_from_name(json_string_value(name), &f) != 0)
            rc = fail(c,
                      "unknown format \"%s\" (expected json, cbor, senml+json, senml+cbor or "
                      "octet-stream)",
                      json_string_value(name));
        else if (bits & f)
            rc = fail(c, "lists \"%s\" twice", json_string_value(name));
        if (rc)
            return rc;
        ptr_pop(c, saved);
        bits |= f;
    }
    c->schema->formats = bits;
    return 0;
}

static int kw_layout(cctx *c, schema_node *n, const json_t *v, const keyword *kw)
{
    (void)n;
    (void)kw;
    inlet_layout_free(c->schema->layout);
    c->schema->layout = NULL;
    /* Its errors already carry the origin and the /x-inlet-layout/... pointer. */
    return inlet_layout_compile(v, c->origin, &c->schema->layout, c->err, c->err_len);
}

#define AT(field) offsetof(schema_node, field)

static const keyword keywords[] = {
    {"type", kw_type, 0, 0, 0},
    {"properties", kw_properties, 0, 0, 0},
    {"required", kw_required, 0, 0, 0},
    {"additionalProperties", kw_additional, 0, 0, 0},
    {"enum", kw_enum, 0, 0, 0},
    {"const", kw_const, 0, 0, 0},
    {"minimum", kw_number, AT(minimum), SCHEMA_F_MINIMUM, 0},
    {"maximum", kw_number, AT(maximum), SCHEMA_F_MAXIMUM, 0},
    {"exclusiveMinimum", kw_number, AT(excl_minimum), SCHEMA_F_EXCL_MINIMUM, 0},
    {"exclusiveMaximum", kw_number, AT(excl_maximum), SCHEMA_F_EXCL_MAXIMUM, 0},
    {"minLength", kw_count, AT(min_length), SCHEMA_F_MIN_LENGTH, 0},
    {"maxLength", kw_count, AT(max_length), SCHEMA_F_MAX_LENGTH, 0},
    {"pattern", kw_pattern, 0, 0, 0},
    {"items", kw_items, 0, 0, 0},
    {"minItems", kw_count, AT(min_items), SCHEMA_F_MIN_ITEMS, 0},
    {"maxItems", kw_count, AT(max_items), SCHEMA_F_MAX_ITEMS, 0},
    {"format", kw_format, 0, 0, 0},
    {"contentEncoding", kw_content_encoding, 0, 0, 0},
    {"$schema", kw_dialect, 0, 0, 0},
    {"$id", kw_string_annotation, 0, 0, 0},
    {"$comment", kw_string_annotation, 0, 0, 0},
    {"title", kw_string_annotation, 0, 0, 0},
    {"description", kw_string_annotation, 0, 0, 0},
    {"examples", kw_array_annotation, 0, 0, 0},
    {"default", kw_any_annotation, 0, 0, 0},
    {"deprecated", kw_bool_annotation, 0, 0, 0},
    {"readOnly", kw_bool_annotation, 0, 0, 0},
    {"writeOnly", kw_bool_annotation, 0, 0, 0},
    {"x-inlet-topic", kw_topic, 0, 0, KW_ROOT},
    {"x-inlet-key", kw_key, 0, 0, KW_ROOT},
    {"x-inlet-topic-partitions", kw_topic_sizing, 0, 0, KW_ROOT},
    {"x-inlet-topic-replication", kw_topic_sizing, 0, 0, KW_ROOT},
    {"x-inlet-layout", kw_layout, 0, 0, KW_ROOT},
    {"x-inlet-formats", kw_formats, 0, 0, KW_ROOT},
    {"x-inlet-unit", kw_unit, 0, 0, KW_PROPERTY},
};

static const keyword *keyword_find(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
        if (strlen(keywords[i].name) == len && memcmp(keywords[i].name, name, len) == 0)
            return &keywords[i];
    return NULL;
}

static int has_property(const schema_node *n, const schema_property *r)
{
    for (size_t i = 0; i < n->n_props; i++)
        if (n->props[i].name_len == r->name_len &&
            memcmp(n->props[i].name, r->name, r->name_len) == 0)
            return 1;
    return 0;
}

/* A byte string has only a length: keywords about a string's text could never hold for it. */
static int check_content_encoding(cctx *c, const schema_node *n)
{
    size_t saved;
    int rc = 0;

    if (!(n->flags & SCHEMA_F_BASE64URL))
        return 0;
    saved = ptr_push(c, "contentEncoding", 15);
    if (n->types && !(n->types & SCHEMA_T_STRING))
        rc = fail(c, "applies to strings, but \"type\" does not allow a string");
    else if (n->pattern || (n->flags & SCHEMA_F_DATE_TIME) || n->const_value || n->enum_values)
        rc = fail(c, "cannot be combined with pattern, format, const or enum (a byte string is "
                     "checked by its length only)");
    ptr_pop(c, saved);
    return rc;
}

/* Mistakes that make a schema refuse every instance, caught at load rather than in production. */
static int check_node(cctx *c, const schema_node *n)
{
    size_t saved;

    if (check_content_encoding(c, n))
        return -1;
    if (!(n->flags & SCHEMA_F_NO_ADDITIONAL))
        return 0;
    for (size_t i = 0; i < n->n_required; i++) {
        if (has_property(n, &n->required[i]))
            continue;
        saved = ptr_push(c, "required", 8);
        fail(c,
             "\"%s\" is required but additionalProperties is false and properties does not "
             "list it",
             n->required[i].name);
        ptr_pop(c, saved);
        return -1;
    }
    return 0;
}

/* Gives each required name that is also a property a bit (see schema_node.required_fast). */
static void link_required(schema_node *n)
{
    unsigned next = 0;

    for (size_t i = 0; i < n->n_required; i++) {
        schema_property *r = &n->required[i];
        for (size_t k = 0; k < n->n_props && next < 64; k++) {
            if (n->props[k].name_len == r->name_len &&
                memcmp(n->props[k].name, r->name, r->name_len) == 0) {
                r->required_bit = n->props[k].required_bit = (uint64_t)1 << next++;
                break;
            }
        }
        if (r->required_bit)
            n->required_fast |= r->required_bit;
        else
            n->required_slow = 1;
    }
}

/* Fills schema_node.accept from the node's type, false and contentEncoding. */
static void link_accept(schema_node *n)
{
    unsigned t = n->types ? n->types : ~0u;

    if (n->flags & SCHEMA_F_FALSE)
        return;
    if (t & SCHEMA_T_NULL)
        n->accept |= 1u << INLET_V_NULL;
    if (t & SCHEMA_T_BOOLEAN)
        n->accept |= 1u << INLET_V_FALSE | 1u << INLET_V_TRUE;
    if (t & (SCHEMA_T_NUMBER | SCHEMA_T_INTEGER))
        n->accept |= 1u << INLET_V_INT;
    if (t & SCHEMA_T_NUMBER)
        n->accept |= 1u << INLET_V_REAL;
    if (t & SCHEMA_T_STRING)
        n->accept |= 1u << INLET_V_STRING;
    if ((t & SCHEMA_T_STRING) && (n->flags & SCHEMA_F_BASE64URL))
        n->accept |= 1u << INLET_V_BYTES;
    if (t & SCHEMA_T_ARRAY)
        n->accept |= 1u << INLET_V_ARRAY;
    if (t & SCHEMA_T_OBJECT)
        n->accept |= 1u << INLET_V_OBJECT;
}

static int compile_object(cctx *c, const json_t *v, schema_node *n)
{
    const char *key;
    size_t key_len, saved;
    json_t *value;
    const keyword *kw;

    json_object_keylen_foreach((json_t *)v, key, key_len, value)
    {
        kw = keyword_find(key, key_len);
        saved = ptr_push(c, key, key_len);
        if (!kw)
            return fail(c, "unsupported keyword");
        if (kw->where == KW_ROOT && c->depth > 0)
            return fail(c, "allowed only at the top level of a schema");
        if (kw->where == KW_PROPERTY && !c->in_property)
            return fail(c, "allowed only in the schema of a property (under \"properties\")");
        if (kw->compile(c, n, value, kw))
            return -1;
        ptr_pop(c, saved);
    }
    if (check_node(c, n))
        return -1;
    link_required(n);
    return 0;
}

static int compile_node(cctx *c, const json_t *v, schema_node **out)
{
    schema_node *n;
    int rc = 0, outer = c->in_property;

    if (!json_is_object(v) && !json_is_boolean(v))
        return fail(c, "must be a schema (an object or a boolean)");
    if (!(n = calloc(1, sizeof(*n))))
        return oom(c);
    n->minimum.value = n->excl_minimum.value = -HUGE_VALL;
    n->maximum.value = n->excl_maximum.value = HUGE_VALL;
    c->in_property = c->next_is_property;
    c->next_is_property = 0;
    /* Published before it is complete so that a failure frees whatever was built. */
    *out = n;
    if (json_is_false(v))
        n->flags |= SCHEMA_F_FALSE;
    if (json_is_object(v)) {
        c->depth++;
        rc = compile_object(c, v, n);
        c->depth--;
    }
    link_accept(n);
    c->in_property = outer;
    return rc;
}

int schema_node_compile(const json_t *doc, const char *origin, inlet_schema *s, schema_node **out,
                        char *err, size_t err_len)
{
    cctx *c;
    int rc;

    *out = NULL;
    /* The context is large (it holds the pointer buffer), so it lives on the heap. */
    if (!(c = calloc(1, sizeof(*c)))) {
        snprintf(err, err_len, "%s: out of memory", origin);
        return -1;
    }
    c->origin = origin;
    c->schema = s;
    c->err = err;
    c->err_len = err_len;
    c->depth = -1; /* compile_node makes the document's object depth 0 */
    if (!doc)
        rc = fail(c, "no schema document");
    else
        rc = compile_node(c, doc, out);
    free(c);
    if (rc) {
        schema_node_free(*out);
        *out = NULL;
    }
    return rc;
}

static void free_props(schema_property *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(p[i].name);
        schema_node_free(p[i].schema);
    }
    free(p);
}

void schema_node_free(schema_node *n)
{
    if (!n)
        return;
    free(n->type_text);
    schema_regex_free(n->pattern);
    free(n->pattern_text);
    free(n->const_text);
    free(n->enum_text);
    free_props(n->props, n->n_props);
    free_props(n->required, n->n_required);
    schema_node_free(n->additional);
    schema_node_free(n->items);
    free(n);
}
