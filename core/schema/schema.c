/*
 * schema.c - the inlet_schema object: compile entry point, lifetime and accessors. The keyword
 * compiler is schema_compile.c, the validator schema_validate.c, the registry
 * schema_registry.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "schema_internal.h"

#define DEFAULT_KEY_POINTER "/device_id"

int inlet_schema_compile(const json_t *doc, const char *origin, inlet_schema **out, char *err,
                         size_t err_len)
{
    inlet_schema *s;

    *out = NULL;
    if (!origin)
        origin = "schema";
    if (!(s = calloc(1, sizeof(*s)))) {
        snprintf(err, err_len, "%s: out of memory", origin);
        return -1;
    }
    inlet_arena_init(&s->arena, 0);
    if (schema_node_compile(doc, origin, s, &s->root, err, err_len))
        goto fail;
    if (schema_layout_check(s, origin, err, err_len))
        goto fail;
    if ((s->formats & INLET_FMT_OCTETS) && !s->layout) {
        snprintf(err, err_len,
                 "%s: /x-inlet-formats: octet-stream needs an x-inlet-layout that says how the "
                 "bytes map onto fields",
                 origin);
        goto fail;
    }
    if (!s->key_pointer && !(s->key_pointer = strdup(DEFAULT_KEY_POINTER))) {
        snprintf(err, err_len, "%s: out of memory", origin);
        goto fail;
    }
    *out = s;
    return 0;

fail:
    inlet_schema_free(s);
    return -1;
}

void inlet_schema_free(inlet_schema *s)
{
    if (!s)
        return;
    schema_node_free(s->root);
    free(s->name);
    free(s->version);
    free(s->topic);
    free(s->key_pointer);
    inlet_layout_free(s->layout);
    inlet_arena_fini(&s->arena);
    free(s);
}

const char *inlet_schema_name(const inlet_schema *s)
{
    return s->name;
}

const char *inlet_schema_version(const inlet_schema *s)
{
    return s->version;
}

const char *inlet_schema_topic(const inlet_schema *s)
{
    return s->topic;
}

int inlet_schema_topic_partitions(const inlet_schema *s)
{
    return s->topic_partitions;
}

int inlet_schema_topic_replication(const inlet_schema *s)
{
    return s->topic_replication;
}

const char *inlet_schema_key_pointer(const inlet_schema *s)
{
    return s->key_pointer;
}

unsigned inlet_schema_formats(const inlet_schema *s)
{
    /* octet-stream only with a layout that says how the bytes map onto fields. */
    if (s->formats)
        return s->formats;
    return s->layout ? INLET_FMT_ALL : INLET_FMT_ALL & ~(unsigned)INLET_FMT_OCTETS;
}

const char *inlet_schema_property_unit(const inlet_schema *s, const char *name, size_t name_len)
{
    const schema_node *root = s->root;

    for (size_t i = 0; root && i < root->n_props; i++)
        if (root->props[i].name_len == name_len && memcmp(root->props[i].name, name, name_len) == 0)
            return root->props[i].schema->unit;
    return NULL;
}

const struct inlet_layout *inlet_schema_layout(const inlet_schema *s)
{
    return s->layout;
}
