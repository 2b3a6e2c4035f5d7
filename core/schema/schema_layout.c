/*
 * schema_layout.c - an x-inlet-layout checked against the schema around it. A layout that
 * produces a member the schema forbids, or never produces one it requires, would make every
 * frame fail validation; that is a load error instead, like check_node's in schema_compile.c.
 */
#include <stdio.h>
#include <string.h>

#include "schema_internal.h"

static int has_property(const schema_node *n, const char *name, size_t len)
{
    for (size_t i = 0; i < n->n_props; i++)
        if (n->props[i].name_len == len && memcmp(n->props[i].name, name, len) == 0)
            return 1;
    return 0;
}

static int layout_has_id(const inlet_layout *l, const char *name, size_t len)
{
    const char *id;
    size_t id_len;

    for (size_t i = 0; i < inlet_layout_count(l); i++)
        if ((id = inlet_layout_id(l, i, &id_len)) && id_len == len && memcmp(id, name, len) == 0)
            return 1;
    return 0;
}

int schema_layout_check(const inlet_schema *s, const char *origin, char *err, size_t err_len)
{
    const schema_node *root = s->root;
    const char *id;
    size_t len;

    if (!s->layout || !root || (root->flags & SCHEMA_F_FALSE))
        return 0;
    if (root->types && !(root->types & SCHEMA_T_OBJECT)) {
        snprintf(err, err_len,
                 "%s: /x-inlet-layout: decodes frames into an object, which the "
                 "schema's type %s refuses",
                 origin, root->type_text);
        return -1;
    }
    for (size_t i = 0; i < inlet_layout_count(s->layout); i++) {
        if (!(id = inlet_layout_id(s->layout, i, &len)))
            continue;
        if ((root->flags & SCHEMA_F_NO_ADDITIONAL) && !has_property(root, id, len)) {
            snprintf(err, err_len,
                     "%s: /x-inlet-layout/seq/%zu/id: \"%.64s\" is not in properties and "
                     "additionalProperties is false",
                     origin, i, id);
            return -1;
        }
    }
    for (size_t i = 0; i < root->n_required; i++) {
        const schema_property *r = &root->required[i];
        if (!layout_has_id(s->layout, r->name, r->name_len)) {
            snprintf(err, err_len,
                     "%s: /x-inlet-layout: no field has the id \"%.64s\", which the schema "
                     "requires",
                     origin, r->name);
            return -1;
        }
    }
    return 0;
}
