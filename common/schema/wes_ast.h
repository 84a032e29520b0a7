/*  wes_ast.h — the GraphQL type-system AST. Every node and string lives in
    the document's arena and is freed with it in one call. Lists are singly
    linked through `next`, in source order. Strings are NUL-terminated UTF-8;
    a string value holds its decoded contents (escapes and block-string
    indentation already processed). */
#ifndef WES_AST_H
#define WES_AST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/wes_arena.h"

/*  A source position: 1-based line and column (columns count bytes). */
typedef struct {
    uint32_t line;
    uint32_t col;
} wes_pos_t;

/*  A node's span: start is its first byte, end is one past its last byte
    (the convention of libgraphqlparser's JSON, which tests compare against). */
typedef struct {
    wes_pos_t start;
    wes_pos_t end;
} wes_loc_t;

typedef struct wes_ast_name {
    const char *value;
    wes_loc_t loc;
    struct wes_ast_name *next; /* in lists of names: interfaces, union members, locations */
} wes_ast_name_t;

typedef enum {
    WES_VALUE_VARIABLE, /* $name: only legal in executable documents; parsed and rejected */
    WES_VALUE_INT,
    WES_VALUE_FLOAT,
    WES_VALUE_STRING,
    WES_VALUE_BOOLEAN,
    WES_VALUE_NULL,
    WES_VALUE_ENUM,
    WES_VALUE_LIST,
    WES_VALUE_OBJECT
} wes_value_kind_t;

typedef struct wes_ast_object_field wes_ast_object_field_t;

typedef struct wes_ast_value {
    wes_value_kind_t kind;
    wes_loc_t loc;
    const char *text;              /* INT/FLOAT: raw digits; STRING: decoded; ENUM/VARIABLE: name */
    bool boolean;                  /* BOOLEAN */
    bool block;                    /* STRING written as """block""" */
    struct wes_ast_value *items;   /* LIST: first item */
    wes_ast_object_field_t *fields; /* OBJECT: first field */
    struct wes_ast_value *next;    /* next item of the enclosing LIST */
} wes_ast_value_t;

struct wes_ast_object_field {
    wes_ast_name_t name;
    wes_loc_t loc;
    wes_ast_value_t *value;
    struct wes_ast_object_field *next;
};

typedef enum { WES_TYPE_NAMED, WES_TYPE_LIST, WES_TYPE_NON_NULL } wes_type_kind_t;

typedef struct wes_ast_type {
    wes_type_kind_t kind;
    wes_loc_t loc;
    wes_ast_name_t name;      /* NAMED */
    struct wes_ast_type *of;  /* LIST, NON_NULL: the wrapped type */
} wes_ast_type_t;

typedef struct wes_ast_argument {
    wes_ast_name_t name;
    wes_loc_t loc;
    wes_ast_value_t *value;
    struct wes_ast_argument *next;
} wes_ast_argument_t;

typedef struct wes_ast_directive {
    wes_ast_name_t name;
    wes_loc_t loc;
    wes_ast_argument_t *args; /* NULL when written without parentheses */
    struct wes_ast_directive *next;
} wes_ast_directive_t;

/*  An argument definition, or a field of an input object type. */
typedef struct wes_ast_input_value {
    wes_ast_value_t *description; /* STRING or NULL */
    wes_ast_name_t name;
    wes_loc_t loc;
    wes_ast_type_t *type;
    wes_ast_value_t *default_value; /* NULL when absent */
    wes_ast_directive_t *directives;
    struct wes_ast_input_value *next;
} wes_ast_input_value_t;

typedef struct wes_ast_field {
    wes_ast_value_t *description;
    wes_ast_name_t name;
    wes_loc_t loc;
    wes_ast_input_value_t *args; /* NULL when written without parentheses */
    wes_ast_type_t *type;
    wes_ast_directive_t *directives;
    struct wes_ast_field *next;
} wes_ast_field_t;

typedef struct wes_ast_enum_value {
    wes_ast_value_t *description;
    wes_ast_name_t name;
    wes_loc_t loc;
    wes_ast_directive_t *directives;
    struct wes_ast_enum_value *next;
} wes_ast_enum_value_t;

typedef struct wes_ast_operation_type {
    const char *operation; /* "query", "mutation" or "subscription" */
    wes_ast_name_t type;
    wes_loc_t loc;
    struct wes_ast_operation_type *next;
} wes_ast_operation_type_t;

typedef enum {
    WES_DEF_SCHEMA,
    WES_DEF_SCALAR,
    WES_DEF_OBJECT,
    WES_DEF_INTERFACE,
    WES_DEF_UNION,
    WES_DEF_ENUM,
    WES_DEF_INPUT,
    WES_DEF_DIRECTIVE
} wes_def_kind_t;

typedef struct wes_ast_def {
    wes_def_kind_t kind;
    bool extend;                    /* an `extend ...` type system extension */
    wes_loc_t loc;
    wes_ast_value_t *description;   /* STRING or NULL; never set on extensions */
    wes_ast_name_t name;            /* unset (value NULL) for SCHEMA */
    wes_ast_name_t *interfaces;     /* OBJECT, INTERFACE: implements A & B */
    wes_ast_directive_t *directives;
    /*  Body lists. `has_body` tells `type T` from `type T {}` so that an
        empty body round-trips; for a union it tells `union U` from `union U =`. */
    bool has_body;
    wes_ast_field_t *fields;              /* OBJECT, INTERFACE */
    wes_ast_input_value_t *input_fields;  /* INPUT */
    wes_ast_name_t *members;              /* UNION */
    wes_ast_enum_value_t *values;         /* ENUM */
    wes_ast_operation_type_t *operations; /* SCHEMA */
    /*  DIRECTIVE definitions only. */
    wes_ast_input_value_t *args;
    bool repeatable;
    wes_ast_name_t *locations;
    struct wes_ast_def *next;
    /*  Where the defining keyword starts (`type` in `extend type T`, after
        any description): the inner node of libgraphqlparser's
        TypeExtensionDefinition starts there. */
    wes_pos_t keyword;
    /*  The byte offset of its first byte (its description's, if any) in
        the input: a parser may go there (wes_parser_seek). */
    size_t offset;
} wes_ast_def_t;

typedef struct wes_ast_doc wes_ast_doc_t;

/*  The document: its arena, its file name and its definitions. Created by
    the parser (wes_parser.h); destroyed here, which frees every node. */
wes_ast_doc_t *wes_ast_doc_new (const char *file);
void wes_ast_doc_destroy (wes_ast_doc_t **self_p);
wes_arena_t *wes_ast_doc_arena (wes_ast_doc_t *self);
const char *wes_ast_doc_file (const wes_ast_doc_t *self);
wes_ast_def_t *wes_ast_doc_defs (const wes_ast_doc_t *self);
size_t wes_ast_doc_count (const wes_ast_doc_t *self);
/*  Appends a definition (parser use). */
void wes_ast_doc_append (wes_ast_doc_t *self, wes_ast_def_t *def);
/*  Moves *other_p's definitions to the end of self, which keeps their
    memory until it is destroyed; *other_p becomes NULL. */
void wes_ast_doc_take (wes_ast_doc_t *self, wes_ast_doc_t **other_p);
/*  Location of the whole document (start of first token to end of last). */
wes_loc_t wes_ast_doc_loc (const wes_ast_doc_t *self);
void wes_ast_doc_set_loc (wes_ast_doc_t *self, wes_loc_t loc);

/*  The AST as JSON in libgraphqlparser's shape ({"kind":"Document",
    "loc":{"start":{"line":..,"column":..},"end":..},"definitions":[...]}),
    which `wesley parse --json` prints. Caller owns the result. */
json_t *wes_ast_to_json (const wes_ast_doc_t *self);

/*  Deep copies into another arena: a definition (next NULL) with or
    without its body (fields, input fields, members, values, operations),
    and one directive (next NULL) with its arguments. */
wes_ast_def_t *wes_ast_def_copy (const wes_ast_def_t *def, wes_arena_t *arena, bool with_body);
wes_ast_directive_t *wes_ast_directive_copy (const wes_ast_directive_t *directive,
                                             wes_arena_t *arena);

/*  Small helpers for consumers of the AST. */
const wes_ast_directive_t *wes_ast_find_directive (const wes_ast_directive_t *list,
                                                    const char *name);
const wes_ast_argument_t *wes_ast_find_argument (const wes_ast_argument_t *list, const char *name);
/*  The innermost named type of a type reference. */
const wes_ast_name_t *wes_ast_type_name (const wes_ast_type_t *type);

#endif
