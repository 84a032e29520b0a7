/*  wes_ast.c — the GraphQL document: its arena, its definitions, lookup
    helpers, and the AST as JSON in libgraphqlparser's shape.

    JSON shape. Nodes that libgraphqlparser's (2017-era) JSON has keep its
    exact kinds, key names, key order and nulls for absent lists, so that the
    kitchen sink compares equal to test/schema-kitchen-sink.json; `extend
    type` is its TypeExtensionDefinition wrapping an ObjectTypeDefinition
    whose loc starts at `type`. For what that format has no words for we use
    graphql-js's names, added only where the construct occurs, so that
    documents without them keep libgraphqlparser's exact shape:
      - "description": a StringValue on definitions, fields, arguments, input
        fields and enum values that have one;
      - "repeatable": true on DirectiveDefinition when written;
      - "interfaces" on InterfaceTypeDefinition when it implements any;
      - SchemaExtension, ScalarTypeExtension, InterfaceTypeExtension,
        UnionTypeExtension, EnumTypeExtension and InputObjectTypeExtension
        with graphql-js's fields (no description);
      - "fields"/"values" is [] for an empty body `{}` and null without one;
        "types" is null for a union without `=`.
    A StringValue carries only "value" (decoded); whether it was a block
    string is in the AST (`block`) but not in the JSON, as in
    libgraphqlparser. */
#include "wes_ast.h"

#include <stdlib.h>
#include <string.h>

#include "../util/wes_mem.h"
#include "../util/wes_str.h"

struct wes_ast_doc {
    wes_arena_t *arena;  /* every node and string of the document */
    const char *file;    /* input name (in the arena) */
    wes_ast_def_t *defs; /* first definition */
    wes_ast_def_t *tail; /* last definition, for O(1) append */
    size_t count;        /* number of definitions */
    wes_loc_t loc;       /* first token to end of last token */
    struct wes_ast_doc *taken; /* documents whose definitions were taken (their arenas) */
};

static json_t *s_def_json (const wes_ast_def_t *def);
static wes_ast_value_t *s_copy_one_value (wes_arena_t *a, const wes_ast_value_t *src);

wes_ast_doc_t *
wes_ast_doc_new (const char *file)
{
    wes_ast_doc_t *self = wes_new (wes_ast_doc_t);
    self->arena = wes_arena_new (0);
    const char *name = file ? file : "<input>";
    self->file = wes_arena_strndup (self->arena, name, strlen (name));
    return self;
}

void
wes_ast_doc_destroy (wes_ast_doc_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wes_ast_doc_t *self = *self_p;
    wes_ast_doc_destroy (&self->taken);
    wes_arena_destroy (&self->arena);
    free (self);
    *self_p = NULL;
}

wes_arena_t *
wes_ast_doc_arena (wes_ast_doc_t *self)
{
    return self->arena;
}

const char *
wes_ast_doc_file (const wes_ast_doc_t *self)
{
    return self->file;
}

wes_ast_def_t *
wes_ast_doc_defs (const wes_ast_doc_t *self)
{
    return self->defs;
}

size_t
wes_ast_doc_count (const wes_ast_doc_t *self)
{
    return self->count;
}

void
wes_ast_doc_append (wes_ast_doc_t *self, wes_ast_def_t *def)
{
    wes_assert (self && def);
    def->next = NULL;
    if (self->tail) {
        self->tail->next = def;
    }
    else {
        self->defs = def;
    }
    self->tail = def;
    self->count++;
}

void
wes_ast_doc_take (wes_ast_doc_t *self, wes_ast_doc_t **other_p)
{
    wes_assert (self && other_p && *other_p && *other_p != self);
    wes_ast_doc_t *other = *other_p;
    if (other->defs) {
        if (self->tail) {
            self->tail->next = other->defs;
        }
        else {
            self->defs = other->defs;
        }
        self->tail = other->tail;
        self->count += other->count;
    }
    other->defs = NULL;
    other->tail = NULL;
    other->count = 0;
    //  Its nodes live in its arena: kept until self goes
    wes_assert (!other->taken || !self->taken);
    if (self->taken) {
        other->taken = self->taken;
    }
    self->taken = other;
    *other_p = NULL;
}

wes_loc_t
wes_ast_doc_loc (const wes_ast_doc_t *self)
{
    return self->loc;
}

void
wes_ast_doc_set_loc (wes_ast_doc_t *self, wes_loc_t loc)
{
    self->loc = loc;
}

const wes_ast_directive_t *
wes_ast_find_directive (const wes_ast_directive_t *list, const char *name)
{
    for (const wes_ast_directive_t *d = list; d; d = d->next) {
        if (d->name.value && wes_str_eq (d->name.value, name)) {
            return d;
        }
    }
    return NULL;
}

const wes_ast_argument_t *
wes_ast_find_argument (const wes_ast_argument_t *list, const char *name)
{
    for (const wes_ast_argument_t *a = list; a; a = a->next) {
        if (a->name.value && wes_str_eq (a->name.value, name)) {
            return a;
        }
    }
    return NULL;
}

const wes_ast_name_t *
wes_ast_type_name (const wes_ast_type_t *type)
{
    while (type && type->kind != WES_TYPE_NAMED) {
        type = type->of;
    }
    return type ? &type->name : NULL;
}

/*  JSON helpers. Every json_object_set_new below takes a fresh reference. */

static json_t *
s_pos_json (wes_pos_t pos)
{
    return json_pack ("{s:I,s:I}", "line", (json_int_t)pos.line, "column", (json_int_t)pos.col);
}

static json_t *
s_node (const char *kind, wes_loc_t loc)
{
    json_t *node = json_object ();
    json_object_set_new (node, "kind", json_string (kind));
    json_t *j = json_object ();
    json_object_set_new (j, "start", s_pos_json (loc.start));
    json_object_set_new (j, "end", s_pos_json (loc.end));
    json_object_set_new (node, "loc", j);
    return node;
}

/*  A string from the AST; the lexer guarantees valid UTF-8 without NUL, so
    json_string never fails on parser output. */
static json_t *
s_str (const char *s)
{
    json_t *j = json_string (s ? s : "");
    return j ? j : json_string ("");
}

static json_t *
s_name_json (const wes_ast_name_t *name)
{
    json_t *node = s_node ("Name", name->loc);
    json_object_set_new (node, "value", s_str (name->value));
    return node;
}

static json_t *
s_named_type_json (const wes_ast_name_t *name)
{
    json_t *node = s_node ("NamedType", name->loc);
    json_object_set_new (node, "name", s_name_json (name));
    return node;
}

static json_t *
s_type_json (const wes_ast_type_t *type)
{
    switch (type->kind) {
    case WES_TYPE_NAMED: {
        json_t *node = s_node ("NamedType", type->loc);
        json_object_set_new (node, "name", s_name_json (&type->name));
        return node;
    }
    case WES_TYPE_LIST: {
        json_t *node = s_node ("ListType", type->loc);
        json_object_set_new (node, "type", s_type_json (type->of));
        return node;
    }
    case WES_TYPE_NON_NULL: {
        json_t *node = s_node ("NonNullType", type->loc);
        json_object_set_new (node, "type", s_type_json (type->of));
        return node;
    }
    }
    return json_null ();
}

static json_t *
s_value_json (const wes_ast_value_t *value)
{
    json_t *node;
    switch (value->kind) {
    case WES_VALUE_VARIABLE: {
        node = s_node ("Variable", value->loc);
        wes_ast_name_t name = {.value = value->text, .loc = value->loc};
        json_object_set_new (node, "name", s_name_json (&name));
        return node;
    }
    case WES_VALUE_INT:
        node = s_node ("IntValue", value->loc);
        json_object_set_new (node, "value", s_str (value->text));
        return node;
    case WES_VALUE_FLOAT:
        node = s_node ("FloatValue", value->loc);
        json_object_set_new (node, "value", s_str (value->text));
        return node;
    case WES_VALUE_STRING:
        node = s_node ("StringValue", value->loc);
        json_object_set_new (node, "value", s_str (value->text));
        return node;
    case WES_VALUE_BOOLEAN:
        node = s_node ("BooleanValue", value->loc);
        json_object_set_new (node, "value", json_boolean (value->boolean));
        return node;
    case WES_VALUE_NULL:
        return s_node ("NullValue", value->loc);
    case WES_VALUE_ENUM:
        node = s_node ("EnumValue", value->loc);
        json_object_set_new (node, "value", s_str (value->text));
        return node;
    case WES_VALUE_LIST: {
        node = s_node ("ListValue", value->loc);
        json_t *items = json_array ();
        for (const wes_ast_value_t *v = value->items; v; v = v->next) {
            json_array_append_new (items, s_value_json (v));
        }
        json_object_set_new (node, "values", items);
        return node;
    }
    case WES_VALUE_OBJECT: {
        node = s_node ("ObjectValue", value->loc);
        json_t *fields = json_array ();
        for (const wes_ast_object_field_t *f = value->fields; f; f = f->next) {
            json_t *field = s_node ("ObjectField", f->loc);
            json_object_set_new (field, "name", s_name_json (&f->name));
            json_object_set_new (field, "value", s_value_json (f->value));
            json_array_append_new (fields, field);
        }
        json_object_set_new (node, "fields", fields);
        return node;
    }
    }
    return json_null ();
}

static json_t *
s_directives_json (const wes_ast_directive_t *list)
{
    if (!list) {
        return json_null ();
    }
    json_t *array = json_array ();
    for (const wes_ast_directive_t *d = list; d; d = d->next) {
        json_t *node = s_node ("Directive", d->loc);
        json_object_set_new (node, "name", s_name_json (&d->name));
        json_t *args = json_null ();
        if (d->args) {
            json_decref (args);
            args = json_array ();
            for (const wes_ast_argument_t *a = d->args; a; a = a->next) {
                json_t *arg = s_node ("Argument", a->loc);
                json_object_set_new (arg, "name", s_name_json (&a->name));
                json_object_set_new (arg, "value", s_value_json (a->value));
                json_array_append_new (args, arg);
            }
        }
        json_object_set_new (node, "arguments", args);
        json_array_append_new (array, node);
    }
    return array;
}

static void
s_set_description (json_t *node, const wes_ast_value_t *description)
{
    if (description) {
        json_object_set_new (node, "description", s_value_json (description));
    }
}

static json_t *
s_input_values_json (const wes_ast_input_value_t *list, bool present)
{
    if (!present) {
        return json_null ();
    }
    json_t *array = json_array ();
    for (const wes_ast_input_value_t *iv = list; iv; iv = iv->next) {
        json_t *node = s_node ("InputValueDefinition", iv->loc);
        s_set_description (node, iv->description);
        json_object_set_new (node, "name", s_name_json (&iv->name));
        json_object_set_new (node, "type", s_type_json (iv->type));
        json_object_set_new (node, "defaultValue",
                             iv->default_value ? s_value_json (iv->default_value) : json_null ());
        json_object_set_new (node, "directives", s_directives_json (iv->directives));
        json_array_append_new (array, node);
    }
    return array;
}

static json_t *
s_fields_json (const wes_ast_field_t *list, bool present)
{
    if (!present) {
        return json_null ();
    }
    json_t *array = json_array ();
    for (const wes_ast_field_t *f = list; f; f = f->next) {
        json_t *node = s_node ("FieldDefinition", f->loc);
        s_set_description (node, f->description);
        json_object_set_new (node, "name", s_name_json (&f->name));
        json_object_set_new (node, "arguments", s_input_values_json (f->args, f->args != NULL));
        json_object_set_new (node, "type", s_type_json (f->type));
        json_object_set_new (node, "directives", s_directives_json (f->directives));
        json_array_append_new (array, node);
    }
    return array;
}

static json_t *
s_named_types_json (const wes_ast_name_t *list, bool present)
{
    if (!present) {
        return json_null ();
    }
    json_t *array = json_array ();
    for (const wes_ast_name_t *n = list; n; n = n->next) {
        json_array_append_new (array, s_named_type_json (n));
    }
    return array;
}

/*  The definition node itself. loc is the node's span: for the inner node
    of a TypeExtensionDefinition it starts at the keyword. */
static json_t *
s_def_body_json (const wes_ast_def_t *def, const char *kind, wes_loc_t loc)
{
    json_t *node = s_node (kind, loc);
    s_set_description (node, def->description);
    switch (def->kind) {
    case WES_DEF_SCHEMA: {
        json_object_set_new (node, "directives", s_directives_json (def->directives));
        json_t *ops = json_null ();
        if (def->has_body) {
            json_decref (ops);
            ops = json_array ();
            for (const wes_ast_operation_type_t *op = def->operations; op; op = op->next) {
                json_t *o = s_node ("OperationTypeDefinition", op->loc);
                json_object_set_new (o, "operation", s_str (op->operation));
                json_object_set_new (o, "type", s_named_type_json (&op->type));
                json_array_append_new (ops, o);
            }
        }
        json_object_set_new (node, "operationTypes", ops);
        break;
    }
    case WES_DEF_SCALAR:
        json_object_set_new (node, "name", s_name_json (&def->name));
        json_object_set_new (node, "directives", s_directives_json (def->directives));
        break;
    case WES_DEF_OBJECT:
    case WES_DEF_INTERFACE:
        json_object_set_new (node, "name", s_name_json (&def->name));
        if (def->kind == WES_DEF_OBJECT || def->extend || def->interfaces) {
            json_object_set_new (node, "interfaces",
                                 s_named_types_json (def->interfaces, def->interfaces != NULL));
        }
        json_object_set_new (node, "directives", s_directives_json (def->directives));
        json_object_set_new (node, "fields", s_fields_json (def->fields, def->has_body));
        break;
    case WES_DEF_UNION:
        json_object_set_new (node, "name", s_name_json (&def->name));
        json_object_set_new (node, "directives", s_directives_json (def->directives));
        json_object_set_new (node, "types", s_named_types_json (def->members, def->has_body));
        break;
    case WES_DEF_ENUM: {
        json_object_set_new (node, "name", s_name_json (&def->name));
        json_object_set_new (node, "directives", s_directives_json (def->directives));
        json_t *values = json_null ();
        if (def->has_body) {
            json_decref (values);
            values = json_array ();
            for (const wes_ast_enum_value_t *v = def->values; v; v = v->next) {
                json_t *ev = s_node ("EnumValueDefinition", v->loc);
                s_set_description (ev, v->description);
                json_object_set_new (ev, "name", s_name_json (&v->name));
                json_object_set_new (ev, "directives", s_directives_json (v->directives));
                json_array_append_new (values, ev);
            }
        }
        json_object_set_new (node, "values", values);
        break;
    }
    case WES_DEF_INPUT:
        json_object_set_new (node, "name", s_name_json (&def->name));
        json_object_set_new (node, "directives", s_directives_json (def->directives));
        json_object_set_new (node, "fields",
                             s_input_values_json (def->input_fields, def->has_body));
        break;
    case WES_DEF_DIRECTIVE:
        json_object_set_new (node, "name", s_name_json (&def->name));
        json_object_set_new (node, "arguments", s_input_values_json (def->args, def->args != NULL));
        if (def->repeatable) {
            json_object_set_new (node, "repeatable", json_true ());
        }
        json_t *locations = json_array ();
        for (const wes_ast_name_t *n = def->locations; n; n = n->next) {
            json_array_append_new (locations, s_name_json (n));
        }
        json_object_set_new (node, "locations", locations);
        break;
    }
    return node;
}

static json_t *
s_def_json (const wes_ast_def_t *def)
{
    static const char *const definition_kinds[] = {
        [WES_DEF_SCHEMA] = "SchemaDefinition",
        [WES_DEF_SCALAR] = "ScalarTypeDefinition",
        [WES_DEF_OBJECT] = "ObjectTypeDefinition",
        [WES_DEF_INTERFACE] = "InterfaceTypeDefinition",
        [WES_DEF_UNION] = "UnionTypeDefinition",
        [WES_DEF_ENUM] = "EnumTypeDefinition",
        [WES_DEF_INPUT] = "InputObjectTypeDefinition",
        [WES_DEF_DIRECTIVE] = "DirectiveDefinition",
    };
    static const char *const extension_kinds[] = {
        [WES_DEF_SCHEMA] = "SchemaExtension",
        [WES_DEF_SCALAR] = "ScalarTypeExtension",
        [WES_DEF_OBJECT] = "TypeExtensionDefinition",
        [WES_DEF_INTERFACE] = "InterfaceTypeExtension",
        [WES_DEF_UNION] = "UnionTypeExtension",
        [WES_DEF_ENUM] = "EnumTypeExtension",
        [WES_DEF_INPUT] = "InputObjectTypeExtension",
        [WES_DEF_DIRECTIVE] = "DirectiveDefinition",
    };
    if (!def->extend) {
        return s_def_body_json (def, definition_kinds[def->kind], def->loc);
    }
    if (def->kind == WES_DEF_OBJECT) {
        /*  libgraphqlparser: {"kind":"TypeExtensionDefinition","loc":...,
            "definition":{"kind":"ObjectTypeDefinition", loc from `type`}}. */
        json_t *node = s_node ("TypeExtensionDefinition", def->loc);
        wes_loc_t inner = {def->keyword, def->loc.end};
        json_object_set_new (node, "definition",
                             s_def_body_json (def, "ObjectTypeDefinition", inner));
        return node;
    }
    return s_def_body_json (def, extension_kinds[def->kind], def->loc);
}

json_t *
wes_ast_to_json (const wes_ast_doc_t *self)
{
    json_t *doc = s_node ("Document", self->loc);
    json_t *defs = json_array ();
    for (const wes_ast_def_t *d = self->defs; d; d = d->next) {
        json_array_append_new (defs, s_def_json (d));
    }
    json_object_set_new (doc, "definitions", defs);
    return doc;
}

/*  ----------------------------------------------------------------------
    Copies into another arena */

static const char *
s_copy_str (wes_arena_t *a, const char *s)
{
    return s ? wes_arena_strndup (a, s, strlen (s)) : NULL;
}

static void
s_copy_name (wes_arena_t *a, wes_ast_name_t *dst, const wes_ast_name_t *src)
{
    dst->value = s_copy_str (a, src->value);
    dst->loc = src->loc;
    dst->next = NULL;
}

static wes_ast_name_t *
s_copy_names (wes_arena_t *a, const wes_ast_name_t *src)
{
    wes_ast_name_t *head = NULL, **tail = &head;
    for (; src; src = src->next) {
        wes_ast_name_t *n = wes_arena_alloc (a, sizeof *n);
        s_copy_name (a, n, src);
        *tail = n;
        tail = &n->next;
    }
    return head;
}

static wes_ast_value_t *
s_copy_value (wes_arena_t *a, const wes_ast_value_t *src)
{
    wes_ast_value_t *head = NULL, **tail = &head;
    for (; src; src = src->next) {
        wes_ast_value_t *v = wes_arena_alloc (a, sizeof *v);
        *v = *src;
        v->next = NULL;
        v->text = s_copy_str (a, src->text);
        v->items = s_copy_value (a, src->items);
        wes_ast_object_field_t *fhead = NULL, **ftail = &fhead;
        for (const wes_ast_object_field_t *f = src->fields; f; f = f->next) {
            wes_ast_object_field_t *nf = wes_arena_alloc (a, sizeof *nf);
            s_copy_name (a, &nf->name, &f->name);
            nf->loc = f->loc;
            nf->value = f->value ? s_copy_one_value (a, f->value) : NULL;
            *ftail = nf;
            ftail = &nf->next;
        }
        v->fields = fhead;
        *tail = v;
        tail = &v->next;
    }
    return head;
}

static wes_ast_value_t *
s_copy_one_value (wes_arena_t *a, const wes_ast_value_t *src)
{
    wes_ast_value_t one = *src;
    one.next = NULL;
    return s_copy_value (a, &one);
}

static wes_ast_type_t *
s_copy_type (wes_arena_t *a, const wes_ast_type_t *src)
{
    if (!src) {
        return NULL;
    }
    wes_ast_type_t *t = wes_arena_alloc (a, sizeof *t);
    t->kind = src->kind;
    t->loc = src->loc;
    s_copy_name (a, &t->name, &src->name);
    t->of = s_copy_type (a, src->of);
    return t;
}

static wes_ast_directive_t *
s_copy_directives (wes_arena_t *a, const wes_ast_directive_t *src, bool one)
{
    wes_ast_directive_t *head = NULL, **tail = &head;
    for (; src; src = one ? NULL : src->next) {
        wes_ast_directive_t *d = wes_arena_alloc (a, sizeof *d);
        s_copy_name (a, &d->name, &src->name);
        d->loc = src->loc;
        wes_ast_argument_t **atail = &d->args;
        for (const wes_ast_argument_t *arg = src->args; arg; arg = arg->next) {
            wes_ast_argument_t *na = wes_arena_alloc (a, sizeof *na);
            s_copy_name (a, &na->name, &arg->name);
            na->loc = arg->loc;
            na->value = arg->value ? s_copy_one_value (a, arg->value) : NULL;
            *atail = na;
            atail = &na->next;
        }
        *tail = d;
        tail = &d->next;
    }
    return head;
}

static wes_ast_input_value_t *
s_copy_inputs (wes_arena_t *a, const wes_ast_input_value_t *src)
{
    wes_ast_input_value_t *head = NULL, **tail = &head;
    for (; src; src = src->next) {
        wes_ast_input_value_t *iv = wes_arena_alloc (a, sizeof *iv);
        iv->description = src->description ? s_copy_one_value (a, src->description) : NULL;
        s_copy_name (a, &iv->name, &src->name);
        iv->loc = src->loc;
        iv->type = s_copy_type (a, src->type);
        iv->default_value = src->default_value ? s_copy_one_value (a, src->default_value) : NULL;
        iv->directives = s_copy_directives (a, src->directives, false);
        *tail = iv;
        tail = &iv->next;
    }
    return head;
}

wes_ast_directive_t *
wes_ast_directive_copy (const wes_ast_directive_t *directive, wes_arena_t *arena)
{
    wes_assert (directive && arena);
    return s_copy_directives (arena, directive, true);
}

wes_ast_def_t *
wes_ast_def_copy (const wes_ast_def_t *def, wes_arena_t *arena, bool with_body)
{
    wes_assert (def && arena);
    wes_arena_t *a = arena;
    wes_ast_def_t *d = wes_arena_alloc (a, sizeof *d);
    d->kind = def->kind;
    d->extend = def->extend;
    d->loc = def->loc;
    d->keyword = def->keyword;
    d->offset = def->offset;
    d->has_body = def->has_body;
    d->repeatable = def->repeatable;
    d->description = def->description ? s_copy_one_value (a, def->description) : NULL;
    s_copy_name (a, &d->name, &def->name);
    d->interfaces = s_copy_names (a, def->interfaces);
    d->directives = s_copy_directives (a, def->directives, false);
    d->args = s_copy_inputs (a, def->args);
    d->locations = s_copy_names (a, def->locations);
    if (!with_body) {
        return d;
    }
    wes_ast_field_t **ftail = &d->fields;
    for (const wes_ast_field_t *f = def->fields; f; f = f->next) {
        wes_ast_field_t *nf = wes_arena_alloc (a, sizeof *nf);
        nf->description = f->description ? s_copy_one_value (a, f->description) : NULL;
        s_copy_name (a, &nf->name, &f->name);
        nf->loc = f->loc;
        nf->args = s_copy_inputs (a, f->args);
        nf->type = s_copy_type (a, f->type);
        nf->directives = s_copy_directives (a, f->directives, false);
        *ftail = nf;
        ftail = &nf->next;
    }
    d->input_fields = s_copy_inputs (a, def->input_fields);
    d->members = s_copy_names (a, def->members);
    wes_ast_enum_value_t **vtail = &d->values;
    for (const wes_ast_enum_value_t *v = def->values; v; v = v->next) {
        wes_ast_enum_value_t *nv = wes_arena_alloc (a, sizeof *nv);
        nv->description = v->description ? s_copy_one_value (a, v->description) : NULL;
        s_copy_name (a, &nv->name, &v->name);
        nv->loc = v->loc;
        nv->directives = s_copy_directives (a, v->directives, false);
        *vtail = nv;
        vtail = &nv->next;
    }
    wes_ast_operation_type_t **otail = &d->operations;
    for (const wes_ast_operation_type_t *o = def->operations; o; o = o->next) {
        wes_ast_operation_type_t *no = wes_arena_alloc (a, sizeof *no);
        no->operation = o->operation; /* a static string */
        s_copy_name (a, &no->type, &o->type);
        no->loc = o->loc;
        *otail = no;
        otail = &no->next;
    }
    return d;
}
