/*  wes_parser.c — recursive descent over the GraphQL type-system grammar.
    Tokens come one at a time from wes_lexer; every node and string goes to
    the document's arena. The first error is reported into the wes_diag_t
    with line:column, what was expected and what was found, and parsing
    stops: every function returns NULL/false from then on. */
#include "wes_parser.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../util/wes_limits.h"
#include "../util/wes_mem.h"
#include "wes_lexer.h"

typedef struct {
    wes_lexer_t *lexer; /* token source */
    wes_token_t tok;    /* current token (text borrowed from the lexer) */
    wes_pos_t prev_end; /* end of the token before tok: where a node ends */
    wes_ast_doc_t *doc; /* document being built */
    wes_arena_t *arena; /* the document's arena */
    wes_diag_t *diag;   /* where errors go; may be NULL */
    bool failed;        /* an error has been reported */
    bool skim;          /* skip the bodies of object, interface and input types */
    unsigned depth;     /* current nesting of values and list types */
} s_parser_t;

/*  What encloses a body, for messages: "type 'User' opened at 3:1". */
typedef struct {
    const char *what; /* "type", "interface", "input", "enum", "schema" */
    const char *name; /* NULL for schema */
    wes_pos_t opened; /* where the definition's keyword is */
} s_context_t;

static wes_ast_doc_t *s_parse (const char *name, wes_lexer_t *lexer, wes_diag_t *diag);
static wes_ast_def_t *s_parse_definition (s_parser_t *p);
static bool s_advance (s_parser_t *p);
static wes_ast_value_t *s_parse_value (s_parser_t *p);
static bool s_colon_value (s_parser_t *p, const char *what, const wes_ast_name_t *name,
                           wes_ast_value_t **value, wes_loc_t *loc);
static wes_ast_type_t *s_parse_type (s_parser_t *p, const char *what);
static bool s_parse_directives (s_parser_t *p, wes_ast_directive_t **out);
static void s_error (s_parser_t *p, wes_pos_t pos, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
static void s_expected (s_parser_t *p, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

wes_ast_doc_t *
wes_parse_file (const char *path, wes_diag_t *diag)
{
    bool is_stdin = strcmp (path, "-") == 0;
    FILE *file = is_stdin ? stdin : fopen (path, "rb");
    if (!file) {
        if (diag) {
            wes_diag_add (diag, WES_DIAG_ERROR, 0, 0, "cannot open '%s': %s", path,
                          strerror (errno));
        }
        return NULL;
    }
    wes_lexer_t *lexer = wes_lexer_new_file (file);
    wes_ast_doc_t *doc = s_parse (is_stdin ? "<stdin>" : path, lexer, diag);
    wes_lexer_destroy (&lexer);
    if (!is_stdin) {
        fclose (file);
    }
    return doc;
}

wes_ast_doc_t *
wes_parse_buffer (const char *name, const char *data, size_t len, wes_diag_t *diag)
{
    wes_lexer_t *lexer = wes_lexer_new_buffer (data, len);
    wes_ast_doc_t *doc = s_parse (name, lexer, diag);
    wes_lexer_destroy (&lexer);
    return doc;
}

struct wes_parser {
    s_parser_t p; /* the parser state */
    FILE *file;   /* the open file (closed on destroy) */
    size_t count; /* definitions returned */
    bool started; /* the first token has been read */
    bool done;    /* end of input or an error */
};

wes_parser_t *
wes_parser_new_file (const char *path, wes_diag_t *diag)
{
    FILE *file = fopen (path, "rb");
    if (!file) {
        if (diag) {
            wes_diag_add (diag, WES_DIAG_ERROR, 0, 0, "cannot open '%s': %s", path,
                          strerror (errno));
        }
        return NULL;
    }
    wes_parser_t *self = wes_new (wes_parser_t);
    self->file = file;
    self->p.lexer = wes_lexer_new_file (file);
    self->p.diag = diag;
    return self;
}

void
wes_parser_destroy (wes_parser_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wes_parser_t *self = *self_p;
    wes_lexer_destroy (&self->p.lexer);
    fclose (self->file);
    free (self);
    *self_p = NULL;
}

const wes_ast_def_t *
wes_parser_next (wes_parser_t *self, wes_arena_t *arena)
{
    wes_assert (self && arena);
    s_parser_t *p = &self->p;
    p->arena = arena;
    if (self->done) {
        return NULL;
    }
    if (!self->started) {
        self->started = true;
        if (s_advance (p) && p->tok.kind == WES_TOK_EOF) {
            s_expected (p, "a type system definition (the document is empty)");
        }
    }
    if (p->failed || p->tok.kind == WES_TOK_EOF) {
        self->done = true;
        return NULL;
    }
    if (++self->count > WES_MAX_DEFINITIONS) {
        s_error (p, p->tok.loc.start, "too many definitions (the limit is %u)",
                 (unsigned)WES_MAX_DEFINITIONS);
        self->done = true;
        return NULL;
    }
    wes_ast_def_t *def = s_parse_definition (p);
    if (!def) {
        self->done = true;
        return NULL;
    }
    return def;
}

int
wes_parser_seek (wes_parser_t *self, const wes_ast_def_t *at)
{
    wes_assert (self && at);
    s_parser_t *p = &self->p;
    if (p->failed) {
        return -1;
    }
    if (self->started && !self->done && p->tok.offset == at->offset) {
        return 0; /* there already */
    }
    if (fseeko (self->file, (off_t) at->offset, SEEK_SET) != 0) {
        s_error (p, at->loc.start, "cannot read the input again: %s", strerror (errno));
        return -1;
    }
    wes_lexer_destroy (&p->lexer);
    p->lexer = wes_lexer_new_file_at (self->file, at->offset, at->loc.start);
    self->started = false;
    self->done = false;
    return 0;
}

void
wes_parser_skip_bodies (wes_parser_t *self)
{
    wes_assert (self);
    self->p.skim = true;
}

/*  Skips the body that opens at the current '{' (the parser skims). */
static bool
s_skip_body (s_parser_t *p, wes_ast_def_t *def)
{
    def->has_body = true;
    wes_pos_t end;
    if (wes_lexer_skip_braces (p->lexer, &end) != 0) {
        s_error (p, wes_lexer_error_pos (p->lexer), "%s", wes_lexer_error (p->lexer));
        return false;
    }
    p->tok.kind = WES_TOK_RBRACE;
    p->tok.loc.end = end;
    return s_advance (p);
}

bool
wes_parser_failed (const wes_parser_t *self)
{
    if (self->p.failed && self->p.diag && wes_diag_errors (self->p.diag) == 0) {
        wes_diag_add (self->p.diag, WES_DIAG_ERROR, 0, 0, "syntax error");
    }
    return self->p.failed;
}

/*  ----------------------------------------------------------------------
    Errors */

static void
s_error (s_parser_t *p, wes_pos_t pos, const char *fmt, ...)
{
    if (p->failed) {
        return;
    }
    p->failed = true;
    if (!p->diag) {
        return;
    }
    char message[512];
    va_list args;
    va_start (args, fmt);
    vsnprintf (message, sizeof message, fmt, args);
    va_end (args);
    wes_diag_add (p->diag, WES_DIAG_ERROR, pos.line, pos.col, "%s", message);
}

/*  a, b and c one after the other in out, cut to size (snprintf's result
    for "%s%s%s", without its cost on a path taken for every field). */
static void
s_concat (char *out, size_t size, const char *a, const char *b, const char *c)
{
    const char *parts[3] = {a, b, c};
    size_t n = 0;
    for (size_t i = 0; i < 3; i++) {
        size_t len = strlen (parts[i]);
        if (len > size - 1 - n) {
            len = size - 1 - n;
        }
        memcpy (out + n, parts[i], len);
        n += len;
    }
    out[n] = '\0';
}

/*  Copies at most max bytes of s for a message, cut at a UTF-8 boundary,
    with "..." when cut. */
static void
s_clip (char *out, size_t size, const char *s, size_t max)
{
    size_t len = strlen (s);
    bool cut = len > max;
    if (cut) {
        len = max;
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80) {
            len--;
        }
    }
    //  As snprintf "%.*s%s" would write it, without its cost: this runs
    //  for every definition
    wes_assert (size > 0);
    const char *tail = cut ? "..." : "";
    size_t tlen = strlen (tail);
    if (len > size - 1) {
        len = size - 1;
    }
    if (tlen > size - 1 - len) {
        tlen = size - 1 - len;
    }
    memcpy (out, s, len);
    memcpy (out + len, tail, tlen);
    out[len + tlen] = '\0';
}

/*  The current token as a message shows it: '!', 'User', '42', string "abc". */
static void
s_describe (const wes_token_t *tok, char *out, size_t size)
{
    char clip[80];
    switch (tok->kind) {
    case WES_TOK_EOF:
        snprintf (out, size, "end of file");
        break;
    case WES_TOK_STRING:
        s_clip (clip, sizeof clip, tok->text, 40);
        snprintf (out, size, "string \"%s\"", clip);
        break;
    case WES_TOK_BLOCK_STRING:
        snprintf (out, size, "a block string");
        break;
    default:
        s_clip (clip, sizeof clip, tok->text, 60);
        snprintf (out, size, "'%s'", clip);
        break;
    }
}

/*  "expected X, found Y" at the current token, or "unexpected end of file,
    expected X" when the input ended. */
static void
s_expected (s_parser_t *p, const char *fmt, ...)
{
    char expected[384];
    va_list args;
    va_start (args, fmt);
    vsnprintf (expected, sizeof expected, fmt, args);
    va_end (args);
    if (p->tok.kind == WES_TOK_EOF) {
        s_error (p, p->tok.loc.start, "unexpected end of file, expected %s", expected);
        return;
    }
    char found[128];
    s_describe (&p->tok, found, sizeof found);
    s_error (p, p->tok.loc.start, "expected %s, found %s", expected, found);
}

/*  "type 'User' opened at 3:1" */
static void
s_context_text (const s_context_t *ctx, char *out, size_t size)
{
    if (ctx->name) {
        char clip[80];
        s_clip (clip, sizeof clip, ctx->name, 60);
        snprintf (out, size, "%s '%s' opened at %u:%u", ctx->what, clip, (unsigned)ctx->opened.line,
                  (unsigned)ctx->opened.col);
    }
    else {
        snprintf (out, size, "%s opened at %u:%u", ctx->what, (unsigned)ctx->opened.line,
                  (unsigned)ctx->opened.col);
    }
}

/*  ----------------------------------------------------------------------
    Tokens */

static bool
s_advance (s_parser_t *p)
{
    if (p->failed) {
        return false;
    }
    p->prev_end = p->tok.loc.end;
    if (wes_lexer_next (p->lexer, &p->tok) != 0) {
        s_error (p, wes_lexer_error_pos (p->lexer), "%s", wes_lexer_error (p->lexer));
        return false;
    }
    return true;
}

static inline bool
s_at (const s_parser_t *p, wes_token_kind_t kind)
{
    return !p->failed && p->tok.kind == kind;
}

static bool
s_at_keyword (const s_parser_t *p, const char *word)
{
    return s_at (p, WES_TOK_NAME) && strcmp (p->tok.text, word) == 0;
}

/*  Consumes a token of the given kind, or reports what was expected.
    s_expect and s_name are macros: the usual case (the token is there) is
    decided where they are used, and the message's arguments are only
    passed, and formatted, when it is not (a call with a variable argument
    list cannot be inlined). */
static bool s_expect_fail (s_parser_t *p, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3), noinline, cold));
#define s_expect(p, want, ...) \
    (!(p)->failed && (p)->tok.kind == (want) ? s_advance (p) : s_expect_fail ((p), __VA_ARGS__))

/*  What s_expect does when the token is not there: false, the message
    reported (unless the parser failed already). */
static bool
s_expect_fail (s_parser_t *p, const char *fmt, ...)
{
    if (p->failed) {
        return false;
    }
    char expected[384];
    va_list args;
    va_start (args, fmt);
    vsnprintf (expected, sizeof expected, fmt, args);
    va_end (args);
    s_expected (p, "%s", expected);
    return false;
}

/*  Consumes a name into *name (arena copy), or reports what was expected. */
#define s_name(p, name, ...) \
    (!(p)->failed && (p)->tok.kind == WES_TOK_NAME ? s_take_name ((p), (name)) \
                                                   : s_expect_fail ((p), __VA_ARGS__))

/*  The name token (there: s_name checked) into *name, and the next token. */
static bool
s_take_name (s_parser_t *p, wes_ast_name_t *name)
{
    name->value = wes_arena_strndup (p->arena, p->tok.text, p->tok.len);
    name->loc = p->tok.loc;
    name->next = NULL;
    return s_advance (p);
}

static wes_ast_name_t *
s_new_name (s_parser_t *p)
{
    return wes_arena_alloc (p->arena, sizeof (wes_ast_name_t));
}

/*  Counts one more item of a list and refuses more than WES_MAX_LIST_ITEMS. */
static bool
s_count (s_parser_t *p, size_t *count, wes_pos_t at, const char *what)
{
    if (++*count > WES_MAX_LIST_ITEMS) {
        s_error (p, at, "too many %s (the limit is %u)", what, (unsigned)WES_MAX_LIST_ITEMS);
        return false;
    }
    return true;
}

static bool
s_enter (s_parser_t *p, const char *what)
{
    if (p->depth >= WES_MAX_NESTING) {
        s_error (p, p->tok.loc.start, "%s nested deeper than %u levels (WES_MAX_NESTING)", what,
                 (unsigned)WES_MAX_NESTING);
        return false;
    }
    p->depth++;
    return true;
}

/*  ----------------------------------------------------------------------
    Document */

static wes_ast_doc_t *
s_parse (const char *name, wes_lexer_t *lexer, wes_diag_t *diag)
{
    s_parser_t parser = {.lexer = lexer, .diag = diag};
    s_parser_t *p = &parser;
    p->doc = wes_ast_doc_new (name);
    p->arena = wes_ast_doc_arena (p->doc);
    wes_loc_t loc = {{1, 1}, {1, 1}};
    if (s_advance (p)) {
        loc.start = p->tok.loc.start;
        if (p->tok.kind == WES_TOK_EOF) {
            s_expected (p, "a type system definition (the document is empty)");
        }
    }
    size_t count = 0;
    while (!p->failed && p->tok.kind != WES_TOK_EOF) {
        if (++count > WES_MAX_DEFINITIONS) {
            s_error (p, p->tok.loc.start, "too many definitions (the limit is %u)",
                     (unsigned)WES_MAX_DEFINITIONS);
            break;
        }
        wes_ast_def_t *def = s_parse_definition (p);
        if (!def) {
            break;
        }
        wes_ast_doc_append (p->doc, def);
    }
    if (p->failed) {
        if (diag && wes_diag_errors (diag) == 0) {
            wes_diag_add (diag, WES_DIAG_ERROR, 0, 0, "syntax error");
        }
        wes_ast_doc_destroy (&p->doc);
        return NULL;
    }
    loc.end = p->prev_end;
    wes_ast_doc_set_loc (p->doc, loc);
    return p->doc;
}

/*  ----------------------------------------------------------------------
    Values */

static wes_ast_value_t *
s_new_value (s_parser_t *p, wes_value_kind_t kind)
{
    wes_ast_value_t *v = wes_arena_alloc (p->arena, sizeof (wes_ast_value_t));
    v->kind = kind;
    v->loc = p->tok.loc;
    return v;
}

/*  A string token as a StringValue (for descriptions and values). */
static wes_ast_value_t *
s_string_value (s_parser_t *p)
{
    wes_ast_value_t *v = s_new_value (p, WES_VALUE_STRING);
    v->block = p->tok.kind == WES_TOK_BLOCK_STRING;
    v->text = wes_arena_strndup (p->arena, p->tok.text, p->tok.len);
    return s_advance (p) ? v : NULL;
}

static wes_ast_value_t *
s_parse_list_value (s_parser_t *p)
{
    wes_ast_value_t *list = s_new_value (p, WES_VALUE_LIST);
    wes_pos_t opened = p->tok.loc.start;
    if (!s_enter (p, "value") || !s_advance (p)) {
        return NULL;
    }
    wes_ast_value_t *tail = NULL;
    size_t count = 0;
    while (!p->failed && p->tok.kind != WES_TOK_RBRACKET) {
        if (p->tok.kind == WES_TOK_EOF) {
            s_expected (p, "']' to close the list opened at %u:%u", (unsigned)opened.line,
                        (unsigned)opened.col);
            return NULL;
        }
        if (!s_count (p, &count, p->tok.loc.start, "items in a list value")) {
            return NULL;
        }
        wes_ast_value_t *item = s_parse_value (p);
        if (!item) {
            return NULL;
        }
        if (tail) {
            tail->next = item;
        }
        else {
            list->items = item;
        }
        tail = item;
    }
    p->depth--;
    if (!s_advance (p)) {
        return NULL;
    }
    list->loc.end = p->prev_end;
    return list;
}

static wes_ast_value_t *
s_parse_object_value (s_parser_t *p)
{
    wes_ast_value_t *object = s_new_value (p, WES_VALUE_OBJECT);
    wes_pos_t opened = p->tok.loc.start;
    if (!s_enter (p, "value") || !s_advance (p)) {
        return NULL;
    }
    wes_ast_object_field_t *tail = NULL;
    size_t count = 0;
    while (!p->failed && p->tok.kind != WES_TOK_RBRACE) {
        if (p->tok.kind == WES_TOK_EOF) {
            s_expected (p, "'}' to close the object value opened at %u:%u", (unsigned)opened.line,
                        (unsigned)opened.col);
            return NULL;
        }
        if (!s_count (p, &count, p->tok.loc.start, "fields in an object value")) {
            return NULL;
        }
        wes_ast_object_field_t *field = wes_arena_alloc (p->arena, sizeof *field);
        field->loc.start = p->tok.loc.start;
        if (!s_name (p, &field->name, "an object field name or '}' to close the object value")
            || !s_colon_value (p, "object field", &field->name, &field->value, &field->loc)) {
            return NULL;
        }
        if (tail) {
            tail->next = field;
        }
        else {
            object->fields = field;
        }
        tail = field;
    }
    p->depth--;
    if (!s_advance (p)) {
        return NULL;
    }
    object->loc.end = p->prev_end;
    return object;
}

/*  A constant value (ValueConst): schema files have no variables. */
/*  After the name of an object field or an argument (what): ':' and its
    value into *value, loc's end after it. False on an error. */
static bool
s_colon_value (s_parser_t *p, const char *what, const wes_ast_name_t *name,
               wes_ast_value_t **value, wes_loc_t *loc)
{
    if (!s_expect (p, WES_TOK_COLON, "':' after %s name '%s'", what, name->value)) {
        return false;
    }
    *value = s_parse_value (p);
    if (!*value) {
        return false;
    }
    loc->end = p->prev_end;
    return true;
}

static wes_ast_value_t *
s_parse_value (s_parser_t *p)
{
    if (p->failed) {
        return NULL;
    }
    wes_ast_value_t *v;
    switch (p->tok.kind) {
    case WES_TOK_INT:
    case WES_TOK_FLOAT:
        v = s_new_value (p, p->tok.kind == WES_TOK_INT ? WES_VALUE_INT : WES_VALUE_FLOAT);
        v->text = wes_arena_strndup (p->arena, p->tok.text, p->tok.len);
        return s_advance (p) ? v : NULL;
    case WES_TOK_STRING:
    case WES_TOK_BLOCK_STRING:
        return s_string_value (p);
    case WES_TOK_NAME:
        if (strcmp (p->tok.text, "true") == 0 || strcmp (p->tok.text, "false") == 0) {
            v = s_new_value (p, WES_VALUE_BOOLEAN);
            v->boolean = p->tok.text[0] == 't';
        }
        else if (strcmp (p->tok.text, "null") == 0) {
            v = s_new_value (p, WES_VALUE_NULL);
        }
        else {
            v = s_new_value (p, WES_VALUE_ENUM);
            v->text = wes_arena_strndup (p->arena, p->tok.text, p->tok.len);
        }
        return s_advance (p) ? v : NULL;
    case WES_TOK_LBRACKET:
        return s_parse_list_value (p);
    case WES_TOK_LBRACE:
        return s_parse_object_value (p);
    case WES_TOK_DOLLAR: {
        wes_pos_t at = p->tok.loc.start;
        if (s_advance (p) && p->tok.kind == WES_TOK_NAME) {
            char clip[80];
            s_clip (clip, sizeof clip, p->tok.text, 60);
            s_error (p, at, "variable '$%s' not allowed: schema files take constant values only",
                     clip);
        }
        else {
            s_error (p, at, "variables are not allowed: schema files take constant values only");
        }
        return NULL;
    }
    default:
        s_expected (p, "a value");
        return NULL;
    }
}

/*  ----------------------------------------------------------------------
    Types, directives, arguments */

static wes_ast_type_t *
s_parse_type (s_parser_t *p, const char *what)
{
    if (p->failed) {
        return NULL;
    }
    wes_ast_type_t *type = wes_arena_alloc (p->arena, sizeof *type);
    type->loc.start = p->tok.loc.start;
    if (p->tok.kind == WES_TOK_LBRACKET) {
        wes_pos_t opened = p->tok.loc.start;
        if (!s_enter (p, "type") || !s_advance (p)) {
            return NULL;
        }
        type->kind = WES_TYPE_LIST;
        type->of = s_parse_type (p, "a type inside '[' ']'");
        if (!type->of
            || !s_expect (p, WES_TOK_RBRACKET, "']' to close the list type opened at %u:%u",
                          (unsigned)opened.line, (unsigned)opened.col)) {
            return NULL;
        }
        p->depth--;
    }
    else if (p->tok.kind == WES_TOK_NAME) {
        type->kind = WES_TYPE_NAMED;
        if (!s_name (p, &type->name, "a type name")) {
            return NULL;
        }
    }
    else {
        s_expected (p, "%s", what);
        return NULL;
    }
    type->loc.end = p->prev_end;
    if (p->tok.kind == WES_TOK_BANG) {
        wes_ast_type_t *non_null = wes_arena_alloc (p->arena, sizeof *non_null);
        non_null->kind = WES_TYPE_NON_NULL;
        non_null->of = type;
        non_null->loc.start = type->loc.start;
        if (!s_advance (p)) {
            return NULL;
        }
        non_null->loc.end = p->prev_end;
        return non_null;
    }
    return type;
}

/*  One directive (const) after its '@' (the current token is its name):
    name and arguments. at is where the '@' is. NULL on an error. */
static wes_ast_directive_t *
s_parse_directive (s_parser_t *p, wes_pos_t at)
{
    wes_ast_directive_t *d = wes_arena_alloc (p->arena, sizeof *d);
    d->loc.start = at;
    if (!s_name (p, &d->name, "a directive name after '@'")) {
        return NULL;
    }
    if (p->tok.kind == WES_TOK_LPAREN) {
        if (!s_advance (p)) {
            return NULL;
        }
        wes_ast_argument_t *atail = NULL;
        size_t acount = 0;
        do {
            if (!s_count (p, &acount, p->tok.loc.start, "arguments in one directive")) {
                return NULL;
            }
            wes_ast_argument_t *a = wes_arena_alloc (p->arena, sizeof *a);
            a->loc.start = p->tok.loc.start;
            if (atail) {
                if (!s_name (p, &a->name,
                             "an argument name or ')' to close the arguments of "
                             "directive '@%s'",
                             d->name.value)) {
                    return NULL;
                }
            }
            else if (!s_name (p, &a->name, "an argument name after '@%s('", d->name.value)) {
                return NULL;
            }
            if (!s_colon_value (p, "argument", &a->name, &a->value, &a->loc)) {
                return NULL;
            }
            if (atail) {
                atail->next = a;
            }
            else {
                d->args = a;
            }
            atail = a;
        } while (!p->failed && p->tok.kind != WES_TOK_RPAREN);
        if (!s_advance (p)) {
            return NULL;
        }
    }
    d->loc.end = p->prev_end;
    return d;
}

/*  Directives (const): zero or more @name(args). */
static bool
s_parse_directives (s_parser_t *p, wes_ast_directive_t **out)
{
    wes_ast_directive_t **tail = out;
    size_t count = 0;
    *out = NULL;
    while (s_at (p, WES_TOK_AT)) {
        if (!s_count (p, &count, p->tok.loc.start, "directives in one place")) {
            return false;
        }
        wes_pos_t at = p->tok.loc.start;
        wes_ast_directive_t *d = s_advance (p) ? s_parse_directive (p, at) : NULL;
        if (!d) {
            return false;
        }
        *tail = d;
        tail = &d->next;
    }
    return !p->failed;
}

/*  The directives of a skimmed head (object, interface and input types):
    @wes_table (or @table) as s_parse_directives makes it, the others
    passed over, their arguments skipped without tokens (*skipped set);
    their syntax is checked when the whole definition is read. */
static bool
s_skim_directives (s_parser_t *p, wes_ast_directive_t **out, bool *skipped)
{
    wes_ast_directive_t **tail = out;
    size_t count = 0;
    *out = NULL;
    while (s_at (p, WES_TOK_AT)) {
        if (!s_count (p, &count, p->tok.loc.start, "directives in one place")) {
            return false;
        }
        wes_pos_t at = p->tok.loc.start;
        if (!s_advance (p)) {
            return false;
        }
        bool keep = p->tok.kind != WES_TOK_NAME || strcmp (p->tok.text, "wes_table") == 0
                    || strcmp (p->tok.text, "table") == 0;
        if (keep) {
            wes_ast_directive_t *d = s_parse_directive (p, at);
            if (!d) {
                return false;
            }
            *tail = d;
            tail = &d->next;
            continue;
        }
        *skipped = true;
        if (!s_advance (p)) {
            return false;
        }
        if (p->tok.kind == WES_TOK_LPAREN) {
            wes_pos_t end;
            if (wes_lexer_skip_parens (p->lexer, &end) != 0) {
                s_error (p, wes_lexer_error_pos (p->lexer), "%s", wes_lexer_error (p->lexer));
                return false;
            }
            p->tok.kind = WES_TOK_RPAREN;
            p->tok.loc.end = end;
            if (!s_advance (p)) {
                return false;
            }
        }
    }
    return !p->failed;
}

static bool
s_is_string (const s_parser_t *p)
{
    return s_at (p, WES_TOK_STRING) || s_at (p, WES_TOK_BLOCK_STRING);
}

/*  InputValueDefinition: Description? Name : Type DefaultValue? Directives? */
static wes_ast_input_value_t *
s_parse_input_value (s_parser_t *p, const char *what, const char *expected_name)
{
    wes_ast_input_value_t *iv = wes_arena_alloc (p->arena, sizeof *iv);
    iv->loc.start = p->tok.loc.start;
    if (s_is_string (p)) {
        iv->description = s_string_value (p);
        if (!iv->description) {
            return NULL;
        }
        expected_name = "a name after the description";
    }
    if (!s_name (p, &iv->name, "%s", expected_name)
        || !s_expect (p, WES_TOK_COLON, "':' after %s name '%s'", what, iv->name.value)) {
        return NULL;
    }
    char where[160];
    snprintf (where, sizeof where, "a type for %s '%s'", what, iv->name.value);
    iv->type = s_parse_type (p, where);
    if (!iv->type) {
        return NULL;
    }
    if (p->tok.kind == WES_TOK_EQUALS) {
        if (!s_advance (p)) {
            return NULL;
        }
        iv->default_value = s_parse_value (p);
        if (!iv->default_value) {
            return NULL;
        }
    }
    if (!s_parse_directives (p, &iv->directives)) {
        return NULL;
    }
    iv->loc.end = p->prev_end;
    return iv;
}

/*  ArgumentsDefinition: ( InputValueDefinition+ ). owner says whose, for messages. */
static bool
s_parse_argument_defs (s_parser_t *p, wes_ast_input_value_t **out, const char *owner)
{
    *out = NULL;
    wes_pos_t opened = p->tok.loc.start;
    if (!s_advance (p)) {
        return false;
    }
    wes_ast_input_value_t *tail = NULL;
    size_t count = 0;
    char expected[200];
    do {
        if (tail) {
            snprintf (expected, sizeof expected,
                      "an argument name or ')' to close the arguments of %s opened at %u:%u", owner,
                      (unsigned)opened.line, (unsigned)opened.col);
        }
        else {
            snprintf (expected, sizeof expected, "an argument definition for %s", owner);
        }
        if (!s_count (p, &count, p->tok.loc.start, "arguments")) {
            return false;
        }
        wes_ast_input_value_t *iv = s_parse_input_value (p, "argument", expected);
        if (!iv) {
            return false;
        }
        if (tail) {
            tail->next = iv;
        }
        else {
            *out = iv;
        }
        tail = iv;
    } while (!p->failed && p->tok.kind != WES_TOK_RPAREN);
    return s_advance (p);
}

/*  ----------------------------------------------------------------------
    Definitions */

/*  A name list joined by `sep` with an optional leading `sep`:
    implements (&), union members (|). */
static bool
s_parse_name_list (s_parser_t *p, wes_ast_name_t **out, wes_token_kind_t sep, const char *what,
                   const char *plural)
{
    *out = NULL;
    if (p->tok.kind == sep && !s_advance (p)) {
        return false;
    }
    wes_ast_name_t *tail = NULL;
    size_t count = 0;
    for (;;) {
        if (!s_count (p, &count, p->tok.loc.start, plural)) {
            return false;
        }
        wes_ast_name_t *n = s_new_name (p);
        if (!s_name (p, n, "%s", what)) {
            return false;
        }
        if (tail) {
            tail->next = n;
        }
        else {
            *out = n;
        }
        tail = n;
        if (p->tok.kind != sep) {
            return true;
        }
        if (!s_advance (p)) {
            return false;
        }
    }
}

static const char *
s_body_expected (const s_context_t *ctx, const char *item, char *out, size_t size)
{
    char context[160];
    s_context_text (ctx, context, sizeof context);
    snprintf (out, size, "%s or '}' to close %s", item, context);
    return out;
}

/*  Checks for end of file inside a body: "unexpected end of file, expected
    '}' to close type 'User' opened at 3:1". */
static bool
s_body_open (s_parser_t *p, const s_context_t *ctx)
{
    if (p->tok.kind == WES_TOK_EOF) {
        char context[160];
        s_context_text (ctx, context, sizeof context);
        s_expected (p, "'}' to close %s", context);
        return false;
    }
    return true;
}

/*  FieldsDefinition: { FieldDefinition* } */
static bool
s_parse_fields (s_parser_t *p, wes_ast_def_t *def, const s_context_t *ctx)
{
    def->has_body = true;
    if (!s_advance (p)) {
        return false;
    }
    wes_ast_field_t *tail = NULL;
    size_t count = 0;
    char expected[256];
    while (!p->failed && p->tok.kind != WES_TOK_RBRACE) {
        if (!s_body_open (p, ctx) || !s_count (p, &count, p->tok.loc.start, "fields")) {
            return false;
        }
        wes_ast_field_t *f = wes_arena_alloc (p->arena, sizeof *f);
        f->loc.start = p->tok.loc.start;
        const char *name_expected = NULL;
        if (s_is_string (p)) {
            f->description = s_string_value (p);
            if (!f->description) {
                return false;
            }
            name_expected = "a field name after the description";
        }
        if (!name_expected && p->tok.kind != WES_TOK_NAME) {
            /*  Only when it is needed: this loop runs for every field. */
            name_expected = s_body_expected (ctx, "a field name", expected, sizeof expected);
        }
        if (!s_name (p, &f->name, "%s", name_expected ? name_expected : "")) {
            return false;
        }
        if (p->tok.kind == WES_TOK_LPAREN) {
            char owner[120];
            char clip[80];
            s_clip (clip, sizeof clip, f->name.value, 60);
            snprintf (owner, sizeof owner, "field '%s'", clip);
            if (!s_parse_argument_defs (p, &f->args, owner)) {
                return false;
            }
        }
        if (!s_expect (p, WES_TOK_COLON, "':' after field name '%s'", f->name.value)) {
            return false;
        }
        char where[160];
        s_concat (where, sizeof where, "a type for field '", f->name.value, "'");
        f->type = s_parse_type (p, where);
        if (!f->type || !s_parse_directives (p, &f->directives)) {
            return false;
        }
        f->loc.end = p->prev_end;
        if (tail) {
            tail->next = f;
        }
        else {
            def->fields = f;
        }
        tail = f;
    }
    return s_advance (p);
}

/*  InputFieldsDefinition: { InputValueDefinition* } */
static bool
s_parse_input_fields (s_parser_t *p, wes_ast_def_t *def, const s_context_t *ctx)
{
    def->has_body = true;
    if (!s_advance (p)) {
        return false;
    }
    wes_ast_input_value_t *tail = NULL;
    size_t count = 0;
    char expected[256];
    while (!p->failed && p->tok.kind != WES_TOK_RBRACE) {
        if (!s_body_open (p, ctx) || !s_count (p, &count, p->tok.loc.start, "input fields")) {
            return false;
        }
        s_body_expected (ctx, "an input field name", expected, sizeof expected);
        wes_ast_input_value_t *iv = s_parse_input_value (p, "input field", expected);
        if (!iv) {
            return false;
        }
        if (tail) {
            tail->next = iv;
        }
        else {
            def->input_fields = iv;
        }
        tail = iv;
    }
    return s_advance (p);
}

/*  EnumValuesDefinition: { EnumValueDefinition* } */
static bool
s_parse_enum_values (s_parser_t *p, wes_ast_def_t *def, const s_context_t *ctx)
{
    def->has_body = true;
    if (!s_advance (p)) {
        return false;
    }
    wes_ast_enum_value_t *tail = NULL;
    size_t count = 0;
    char expected[256];
    while (!p->failed && p->tok.kind != WES_TOK_RBRACE) {
        if (!s_body_open (p, ctx) || !s_count (p, &count, p->tok.loc.start, "enum values")) {
            return false;
        }
        wes_ast_enum_value_t *v = wes_arena_alloc (p->arena, sizeof *v);
        v->loc.start = p->tok.loc.start;
        const char *name_expected = NULL;
        if (s_is_string (p)) {
            v->description = s_string_value (p);
            if (!v->description) {
                return false;
            }
            name_expected = "an enum value after the description";
        }
        if (!name_expected && p->tok.kind != WES_TOK_NAME) {
            name_expected = s_body_expected (ctx, "an enum value", expected, sizeof expected);
        }
        if (s_at (p, WES_TOK_NAME)
            && (strcmp (p->tok.text, "true") == 0 || strcmp (p->tok.text, "false") == 0
                || strcmp (p->tok.text, "null") == 0)) {
            s_error (p, p->tok.loc.start, "'%s' cannot be an enum value (in enum '%s')",
                     p->tok.text, ctx->name);
            return false;
        }
        if (!s_name (p, &v->name, "%s", name_expected ? name_expected : "")
            || !s_parse_directives (p, &v->directives)) {
            return false;
        }
        v->loc.end = p->prev_end;
        if (tail) {
            tail->next = v;
        }
        else {
            def->values = v;
        }
        tail = v;
    }
    return s_advance (p);
}

/*  { OperationTypeDefinition+ } */
static bool
s_parse_operations (s_parser_t *p, wes_ast_def_t *def, const s_context_t *ctx)
{
    def->has_body = true;
    if (!s_advance (p)) {
        return false;
    }
    wes_ast_operation_type_t *tail = NULL;
    size_t count = 0;
    char context[160];
    s_context_text (ctx, context, sizeof context);
    do {
        if (!s_body_open (p, ctx) || !s_count (p, &count, p->tok.loc.start, "operation types")) {
            return false;
        }
        wes_ast_operation_type_t *op = wes_arena_alloc (p->arena, sizeof *op);
        op->loc.start = p->tok.loc.start;
        if (s_at_keyword (p, "query")) {
            op->operation = "query";
        }
        else if (s_at_keyword (p, "mutation")) {
            op->operation = "mutation";
        }
        else if (s_at_keyword (p, "subscription")) {
            op->operation = "subscription";
        }
        else {
            if (tail) {
                s_expected (p, "'query', 'mutation', 'subscription' or '}' to close %s", context);
            }
            else {
                s_expected (p, "'query', 'mutation' or 'subscription' in %s", context);
            }
            return false;
        }
        if (!s_advance (p)
            || !s_expect (p, WES_TOK_COLON, "':' after operation type '%s'", op->operation)
            || !s_name (p, &op->type, "a type name for operation '%s'", op->operation)) {
            return false;
        }
        op->loc.end = p->prev_end;
        if (tail) {
            tail->next = op;
        }
        else {
            def->operations = op;
        }
        tail = op;
    } while (!p->failed && p->tok.kind != WES_TOK_RBRACE);
    return s_advance (p);
}

static bool
s_is_directive_location (const char *name)
{
    static const char *const locations[] = {
        "QUERY",
        "MUTATION",
        "SUBSCRIPTION",
        "FIELD",
        "FRAGMENT_DEFINITION",
        "FRAGMENT_SPREAD",
        "INLINE_FRAGMENT",
        "VARIABLE_DEFINITION",
        "SCHEMA",
        "SCALAR",
        "OBJECT",
        "FIELD_DEFINITION",
        "ARGUMENT_DEFINITION",
        "INTERFACE",
        "UNION",
        "ENUM",
        "ENUM_VALUE",
        "INPUT_OBJECT",
        "INPUT_FIELD_DEFINITION",
    };
    for (size_t i = 0; i < sizeof locations / sizeof locations[0]; i++) {
        if (strcmp (name, locations[i]) == 0) {
            return true;
        }
    }
    return false;
}

/*  directive @name ArgumentsDefinition? repeatable? on |? Location (| Location)* */
static bool
s_parse_directive_def (s_parser_t *p, wes_ast_def_t *def)
{
    if (!s_expect (p, WES_TOK_AT, "'@' and a name after 'directive'")
        || !s_name (p, &def->name, "a directive name after 'directive @'")) {
        return false;
    }
    char owner[120];
    char clip[80];
    s_clip (clip, sizeof clip, def->name.value, 60);
    snprintf (owner, sizeof owner, "directive '@%s'", clip);
    if (p->tok.kind == WES_TOK_LPAREN && !s_parse_argument_defs (p, &def->args, owner)) {
        return false;
    }
    if (s_at_keyword (p, "repeatable")) {
        def->repeatable = true;
        if (!s_advance (p)) {
            return false;
        }
    }
    if (!s_at_keyword (p, "on")) {
        s_expected (p, "'on' and the locations of %s", owner);
        return false;
    }
    if (!s_advance (p)) {
        return false;
    }
    char what[160];
    snprintf (what, sizeof what, "a directive location for %s", owner);
    if (!s_parse_name_list (p, &def->locations, WES_TOK_PIPE, what, "directive locations")) {
        return false;
    }
    for (const wes_ast_name_t *n = def->locations; n; n = n->next) {
        if (!s_is_directive_location (n->value)) {
            s_clip (clip, sizeof clip, n->value, 60);
            s_error (p, n->loc.start,
                     "unknown directive location '%s' for %s (expected one of QUERY, MUTATION, "
                     "SUBSCRIPTION, FIELD, FRAGMENT_DEFINITION, FRAGMENT_SPREAD, "
                     "INLINE_FRAGMENT, VARIABLE_DEFINITION, SCHEMA, SCALAR, OBJECT, "
                     "FIELD_DEFINITION, ARGUMENT_DEFINITION, INTERFACE, UNION, ENUM, ENUM_VALUE, "
                     "INPUT_OBJECT, INPUT_FIELD_DEFINITION)",
                     clip, owner);
            return false;
        }
    }
    return true;
}

/*  The part of every definition after its keyword. def->kind, extend and
    keyword are set; the keyword is the current token. */
static bool
s_parse_definition_body (s_parser_t *p, wes_ast_def_t *def, const char *keyword)
{
    if (!s_advance (p)) {
        return false;
    }
    if (def->kind == WES_DEF_DIRECTIVE) {
        return s_parse_directive_def (p, def);
    }
    const char *ext = def->extend ? "extend " : "";
    if (def->kind != WES_DEF_SCHEMA
        && !s_name (p, &def->name, "a name after '%s%s'", ext, keyword)) {
        return false;
    }
    s_context_t ctx = {.what = keyword, .name = def->name.value, .opened = def->keyword};
    if (def->extend) {
        ctx.opened = def->loc.start;
    }
    char clip[80];
    s_clip (clip, sizeof clip, def->name.value ? def->name.value : "", 60);
    if ((def->kind == WES_DEF_OBJECT || def->kind == WES_DEF_INTERFACE)
        && s_at_keyword (p, "implements")) {
        if (!s_advance (p)
            || !s_parse_name_list (p, &def->interfaces, WES_TOK_AMP,
                                   "an interface name after 'implements'", "interfaces")) {
            return false;
        }
    }
    //  A skimmed head keeps only what an outline needs of its directives
    bool skipped = false;
    bool skim_head = p->skim
                     && (def->kind == WES_DEF_OBJECT || def->kind == WES_DEF_INTERFACE
                         || def->kind == WES_DEF_INPUT);
    if (!(skim_head ? s_skim_directives (p, &def->directives, &skipped)
                    : s_parse_directives (p, &def->directives))) {
        return false;
    }
    bool has_more = def->interfaces || def->directives || skipped;
    switch (def->kind) {
    case WES_DEF_SCHEMA:
        if (p->tok.kind == WES_TOK_LBRACE) {
            return s_parse_operations (p, def, &ctx);
        }
        if (!def->extend) {
            s_expected (p, "'{' and the operation types of the schema");
            return false;
        }
        if (!has_more) {
            s_expected (p, "a directive or '{' after 'extend schema'");
            return false;
        }
        return true;
    case WES_DEF_SCALAR:
        if (def->extend && !has_more) {
            s_expected (p, "a directive after 'extend scalar %s'", clip);
            return false;
        }
        return true;
    case WES_DEF_OBJECT:
    case WES_DEF_INTERFACE:
        if (p->tok.kind == WES_TOK_LBRACE) {
            return p->skim ? s_skip_body (p, def) : s_parse_fields (p, def, &ctx);
        }
        if (def->extend && !has_more) {
            s_expected (p, "'implements', a directive or '{' after 'extend %s %s'", keyword, clip);
            return false;
        }
        return true;
    case WES_DEF_UNION:
        if (p->tok.kind == WES_TOK_EQUALS) {
            def->has_body = true;
            char what[120];
            snprintf (what, sizeof what, "a member type name for union '%s'", clip);
            return s_advance (p)
                   && s_parse_name_list (p, &def->members, WES_TOK_PIPE, what, "union members");
        }
        if (def->extend && !has_more) {
            s_expected (p, "a directive or '=' after 'extend union %s'", clip);
            return false;
        }
        return true;
    case WES_DEF_ENUM:
        if (p->tok.kind == WES_TOK_LBRACE) {
            return s_parse_enum_values (p, def, &ctx);
        }
        if (def->extend && !has_more) {
            s_expected (p, "a directive or '{' after 'extend enum %s'", clip);
            return false;
        }
        return true;
    case WES_DEF_INPUT:
        if (p->tok.kind == WES_TOK_LBRACE) {
            return p->skim ? s_skip_body (p, def) : s_parse_input_fields (p, def, &ctx);
        }
        if (def->extend && !has_more) {
            s_expected (p, "a directive or '{' after 'extend input %s'", clip);
            return false;
        }
        return true;
    case WES_DEF_DIRECTIVE:
        break;
    }
    return true;
}

/*  Maps a definition keyword to its kind; false when it is not one. */
static bool
s_keyword_kind (const char *word, wes_def_kind_t *kind, bool extendable_only)
{
    static const struct {
        const char *word;
        wes_def_kind_t kind;
    } keywords[] = {
        {"schema", WES_DEF_SCHEMA}, {"scalar", WES_DEF_SCALAR},
        {"type", WES_DEF_OBJECT},   {"interface", WES_DEF_INTERFACE},
        {"union", WES_DEF_UNION},   {"enum", WES_DEF_ENUM},
        {"input", WES_DEF_INPUT},   {"directive", WES_DEF_DIRECTIVE},
    };
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++) {
        if (strcmp (word, keywords[i].word) == 0) {
            if (extendable_only && keywords[i].kind == WES_DEF_DIRECTIVE) {
                return false;
            }
            *kind = keywords[i].kind;
            return true;
        }
    }
    return false;
}

static bool
s_is_executable_start (const s_parser_t *p)
{
    return s_at (p, WES_TOK_LBRACE) || s_at_keyword (p, "query") || s_at_keyword (p, "mutation")
           || s_at_keyword (p, "subscription") || s_at_keyword (p, "fragment");
}

static wes_ast_def_t *
s_parse_definition (s_parser_t *p)
{
    wes_ast_def_t *def = wes_arena_alloc (p->arena, sizeof *def);
    def->loc.start = p->tok.loc.start;
    def->offset = p->tok.offset;
    if (s_is_string (p)) {
        def->description = s_string_value (p);
        if (!def->description) {
            return NULL;
        }
        if (s_at_keyword (p, "extend")) {
            s_error (p, p->tok.loc.start,
                     "a description is not allowed on an extension ('extend' after the "
                     "description at %u:%u)",
                     (unsigned)def->loc.start.line, (unsigned)def->loc.start.col);
            return NULL;
        }
    }
    if (s_is_executable_start (p)) {
        char found[128];
        s_describe (&p->tok, found, sizeof found);
        s_error (p, p->tok.loc.start,
                 "schema files may contain only type system definitions, found %s (an executable "
                 "definition)",
                 found);
        return NULL;
    }
    if (!s_at (p, WES_TOK_NAME)) {
        if (def->description) {
            s_expected (p, "a definition after the description");
        }
        else {
            s_expected (p, "a type system definition (schema, scalar, type, interface, union, "
                           "enum, input, directive or extend)");
        }
        return NULL;
    }
    if (strcmp (p->tok.text, "extend") == 0) {
        def->extend = true;
        if (!s_advance (p)) {
            return NULL;
        }
        if (!s_at (p, WES_TOK_NAME) || !s_keyword_kind (p->tok.text, &def->kind, true)) {
            s_expected (p, "schema, scalar, type, interface, union, enum or input after 'extend'");
            return NULL;
        }
    }
    else if (!s_keyword_kind (p->tok.text, &def->kind, false)) {
        s_expected (p, "%s",
                    def->description ? "a definition after the description"
                                     : "a type system definition (schema, scalar, type, interface, "
                                       "union, enum, input, directive or extend)");
        return NULL;
    }
    def->keyword = p->tok.loc.start;
    char keyword[16]; /* the longest is "interface" */
    size_t klen = p->tok.len < sizeof keyword - 1 ? p->tok.len : sizeof keyword - 1;
    memcpy (keyword, p->tok.text, klen);
    keyword[klen] = '\0';
    if (!s_parse_definition_body (p, def, keyword)) {
        return NULL;
    }
    def->loc.end = p->prev_end;
    return def;
}
