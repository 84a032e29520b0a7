/*  wes_compile.c — SDL document to schema model (DESIGN.md section 8): the
    wes_ directive set and its aliases, the scalar mapping, naming and every
    validation a PostgreSQL schema needs before it reaches a database.
    Errors carry line:col and are reported as many as can be found, each
    once; the model is returned only when there are none. */
#include "wes_compile.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "../util/wes_arena.h"
#include "../util/wes_bits.h"
#include "../util/wes_buf.h"
#include "../util/wes_limits.h"
#include "../util/wes_mem.h"
#include "../util/wes_str.h"
#include "wes_names.h"
#include "wes_parser.h"
#include "wes_types.h"

/*  Bytes of the arena blocks of one table's pending names (streaming). */
#define S_TABLE_NAMES_BLOCK 1024u

/*  Bytes of a field's metadata written as text directly (s_meta_text). */
#define S_META_TEXT_BYTES 1024

/*  The type of a column whose GraphQL type could not be mapped (an error
    was reported): later checks skip such columns instead of piling up
    follow-on errors. */
#define S_BROKEN_TYPE "?"

/*  Directive locations (GraphQL's names) as bits. */
enum { S_LOC_OBJECT = 1u << 0, S_LOC_FIELD = 1u << 1, S_LOC_OTHER = 1u << 2 };

typedef enum {
    S_ARG_STRING,  /* String */
    S_ARG_BOOL,    /* Boolean */
    S_ARG_STRINGS, /* [String] (a single String is coerced to a list) */
    S_ARG_WORD,    /* String or enum value: CASCADE, "SET NULL", gin */
    S_ARG_LITERAL  /* any scalar literal: String, Int, Float, Boolean, enum value */
} s_arg_kind_t;

typedef struct {
    const char *name;  /* argument name */
    s_arg_kind_t kind; /* what it accepts */
    bool required;     /* must be given */
} s_arg_spec_t;

typedef enum {
    S_DIR_TABLE,
    S_DIR_COLUMN,
    S_DIR_PK,
    S_DIR_FK,
    S_DIR_UNIQUE,
    S_DIR_INDEX,
    S_DIR_DEFAULT,
    S_DIR_CHECK,
    S_DIR_TENANT,
    S_DIR_RLS,
    S_DIR_RENAMED,
    S_DIR_HAS_MANY,
    S_DIR_BELONGS_TO,
    S_DIR_HAS_ONE
} s_dir_id_t;

typedef struct {
    s_dir_id_t id;        /* what it means */
    const char *names[4]; /* canonical name first, then aliases */
    unsigned locations;   /* S_LOC_* bits */
    bool repeatable;      /* may appear more than once on one element */
    s_arg_spec_t args[7]; /* terminated by a NULL name */
} s_dir_spec_t;

#define S_REL_ARGS                                                                                 \
    {                                                                                              \
        {"ref", S_ARG_STRING, false}, {"field", S_ARG_STRING, false},                              \
            {"foreignKey", S_ARG_STRING, false}, {"through", S_ARG_STRING, false},                 \
        {                                                                                          \
            NULL, S_ARG_STRING, false                                                              \
        }                                                                                          \
    }

static const s_dir_spec_t s_dirs[] = {
    {S_DIR_TABLE, {"wes_table", "table"}, S_LOC_OBJECT, false, {{"name", S_ARG_STRING, false}}},
    {S_DIR_COLUMN,
     {"wes_column"},
     S_LOC_FIELD,
     false,
     {{"name", S_ARG_STRING, false}, {"type", S_ARG_STRING, false}}},
    {S_DIR_PK, {"wes_pk", "pk", "primaryKey"}, S_LOC_FIELD, false, {{NULL, S_ARG_STRING, false}}},
    {S_DIR_FK,
     {"wes_fk", "fk", "foreignKey"},
     S_LOC_FIELD,
     false,
     {{"ref", S_ARG_STRING, true},
      {"onDelete", S_ARG_WORD, false},
      {"onUpdate", S_ARG_WORD, false}}},
    {S_DIR_UNIQUE,
     {"wes_unique", "unique"},
     S_LOC_OBJECT | S_LOC_FIELD,
     true,
     {{"fields", S_ARG_STRINGS, false}, {"name", S_ARG_STRING, false}}},
    {S_DIR_INDEX,
     {"wes_index", "index"},
     S_LOC_OBJECT | S_LOC_FIELD,
     true,
     {{"fields", S_ARG_STRINGS, false},
      {"name", S_ARG_STRING, false},
      {"using", S_ARG_WORD, false},
      {"where", S_ARG_STRING, false},
      {"unique", S_ARG_BOOL, false}}},
    {S_DIR_DEFAULT,
     {"wes_default", "default"},
     S_LOC_FIELD,
     false,
     {{"value", S_ARG_LITERAL, false}, {"expr", S_ARG_STRING, false}}},
    {S_DIR_CHECK,
     {"wes_check", "check"},
     S_LOC_OBJECT | S_LOC_FIELD,
     true,
     {{"expr", S_ARG_STRING, true}, {"name", S_ARG_STRING, false}}},
    {S_DIR_TENANT, {"wes_tenant", "tenant"}, S_LOC_OBJECT, false, {{"by", S_ARG_STRING, true}}},
    {S_DIR_RLS,
     {"wes_rls", "rls"},
     S_LOC_OBJECT,
     false,
     {{"select", S_ARG_STRING, false},
      {"insert", S_ARG_STRING, false},
      {"update", S_ARG_STRING, false},
      {"delete", S_ARG_STRING, false},
      {"roles", S_ARG_STRINGS, false},
      {"enabled", S_ARG_BOOL, false}}},
    {S_DIR_RENAMED,
     {"wes_renamedFrom"},
     S_LOC_OBJECT | S_LOC_FIELD,
     false,
     {{"name", S_ARG_STRING, true}}},
    {S_DIR_HAS_MANY, {"wes_hasMany", "hasMany"}, S_LOC_FIELD, false, S_REL_ARGS},
    {S_DIR_BELONGS_TO, {"wes_belongsTo", "belongsTo"}, S_LOC_FIELD, false, S_REL_ARGS},
    {S_DIR_HAS_ONE, {"wes_hasOne", "hasOne"}, S_LOC_FIELD, false, S_REL_ARGS},
};

/*  Metadata directives Wesley knows: kept in meta without a warning. */
static const char *s_known_meta[] = {"uid",      "weight",     "pii",         "sensitive",
                                     "critical", "deprecated", "specifiedBy", "oneOf"};

static const char *s_index_methods[] = {"btree", "hash", "gist", "gin", "brin", "spgist"};

/*  Bytes per block of a map's copied keys (small: most maps are small). */
#define S_MAP_KEY_BLOCK (16u * 1024u)
/*  Slots a cleared map keeps (more are freed). */
#define S_MAP_KEEP_SLOTS 64u

/*  A string-keyed hash map (open addressing); keys are copied. */
typedef struct {
    char *key;     /* copy in the map's arena (or borrowed), NULL when the slot is free */
    void *value;   /* borrowed */
    uint32_t hash; /* the key's hash: probes compare it first, growth reuses it */
} s_slot_t;

typedef struct {
    s_slot_t *slots;   /* cap slots */
    size_t cap;        /* power of two, or 0 */
    size_t count;      /* slots in use */
    bool borrowed;     /* keys are the caller's (they outlive the map), not copied */
    wes_arena_t *keys; /* the copied keys, or NULL before the first */
} s_map_t;

/*  One GraphQL named type of the document (or a built-in scalar). */
typedef struct {
    const char *name;                     /* GraphQL name (AST-owned) */
    wes_def_kind_t kind;                  /* object, enum, scalar, ... */
    const wes_ast_def_t *def;             /* the definition; NULL for built-in scalars */
    const wes_ast_def_t **exts;           /* `extend` definitions, in document order */
    size_t n_exts;                        /* extensions */
    bool is_table;                        /* an object type with @wes_table */
    char *sql_name;                       /* table or enum type name (owned) */
    wes_table_t *table;                   /* the model's table */
    wes_enum_t *enm;                      /* the model's enum */
    const wes_ast_directive_t *table_dir; /* the @wes_table directive */
    bool named;                           /* a table or enum whose name was taken */
    size_t index;                         /* its place in the context's types */
    size_t offset;                        /* its definition's byte offset (0: built in) */
    bool defined;                         /* has a definition (not a built-in scalar) */
    bool summarized;                      /* streaming: built, sum filled */
    struct s_sumcol *sum;                 /* streaming: its unique columns (FK targets) */
    size_t n_sum;                         /* entries in sum */
} s_type_t;

/*  Streaming: what a foreign key may reference of a table that is gone
    (strings in the context's summary arena, shared). */
typedef struct s_sumcol {
    const char *field;  /* GraphQL field name */
    const char *column; /* column name */
    const char *type;   /* column type */
} s_sumcol_t;

/*  A constraint or index whose name is settled at the end, once every
    user-given name is known, in an order that does not depend on the
    order of the document's types. */
typedef struct {
    wes_table_t *table;    /* owner */
    wes_constraint_t *con; /* the constraint, or */
    wes_index_t *index;    /* the index */
    char *given;           /* user-given name (in names), or NULL: generate */
    const char *label;     /* pkey, key, fkey, check, idx */
    bool name_columns;     /* the generated name lists the columns */
    bool relation;         /* its name lives in the schema's relation namespace */
    bool named;            /* its user-given name was taken */
    wes_loc_t loc;         /* where it was asked for */
    size_t seq;            /* creation order */
} s_pending_t;

/*  A foreign key, checked once every table has its columns and keys: what
    the check reads of its @wes_fk, taken while the field's AST is there
    (the strings are the AST's, or copies in the keep arena when a lazy
    compile forgets the AST before the check). */
typedef struct {
    s_type_t *type;           /* the table type */
    wes_column_t *column;     /* the constrained column */
    const char *dname;        /* the directive's name as written */
    wes_loc_t dloc;           /* the directive */
    const char *ref;          /* ref: "Type.field", or NULL (missing or not a string) */
    wes_loc_t ref_loc;        /* ref's value (the directive's when missing) */
    const char *actions[2];   /* onDelete, onUpdate words, or NULL */
    wes_loc_t action_locs[2]; /* their values */
} s_fk_t;

/*  A directive found on an element with its spec (NULL: metadata). */
typedef struct {
    const wes_ast_directive_t *dir; /* as written */
    const s_dir_spec_t *spec;       /* Wesley directive, or NULL */
} s_found_t;

typedef struct {
    s_found_t *items;          /* found directives in source order */
    size_t count;              /* items */
    size_t n_meta;             /* directives that are no Wesley directive (metadata) */
    s_found_t inline_items[8]; /* items' storage when they fit */
} s_found_list_t;

typedef struct {
    wes_diag_t *diag;      /* where errors and warnings go */
    wes_model_t *model;    /* being built */
    s_type_t **types;      /* every named type, document order (built-ins first) */
    wes_arena_t *type_arena; /* the types themselves */
    size_t n_types;        /* types */
    s_map_t type_map;      /* GraphQL name -> s_type_t */
    s_map_t declared;      /* declared directive name -> wes_ast_def_t */
    s_map_t table_names;   /* table name -> s_type_t */
    s_map_t enum_names;    /* enum type name -> s_type_t */
    s_map_t relnames;      /* relation namespace: tables, keys, indexes -> wes_loc_t */
    s_pending_t **pending; /* names to settle (in names) */
    wes_arena_t *names;    /* the pending names and their given names, or NULL */
    size_t n_pending;      /* pending */
    s_fk_t *fks;           /* foreign keys to check */
    size_t n_fks;          /* fks */
    wes_parser_t *again;   /* lazy compile: the file read a second time, or NULL */
    wes_arena_t *body;     /* lazy compile: the definition read again */
    wes_arena_t *keep;     /* lazy compile: AST kept past its definition (foreign keys) */
    const char *path;      /* lazy compile: the file */
    wes_buf_t *typebuf;    /* a field's GraphQL type as written (reused) */
    wes_buf_t *defbuf;     /* a column default being written (reused) */
    wes_buf_t *arraybuf;   /* a column's array type being written (reused) */
    s_map_t field_names;   /* the table's field names -> AST fields (borrowed; reused) */
    s_map_t typecache;     /* @wes_column(type:) as written -> normalized (in cachearena) */
    wes_arena_t *cachearena; /* typecache's values */
    /* streaming (wes_compile_file_stream): one table at a time */
    bool stream;                     /* tables are built, settled, handed over, freed */
    bool decline;                    /* met what only the whole-model compile settles */
    bool sink_failed;                /* the sink refused a table */
    const wes_compile_sink_t *sink;  /* where finished tables go */
    wes_model_t *enums;              /* the enums (ctx->model while no table is built) */
    struct s_tstate **waiting;       /* built tables waiting for their references */
    size_t n_waiting;                /* waiting */
    size_t cap_waiting;              /* slots in waiting */
    size_t n_kept;                   /* of which keep their models (the others are built again) */
    uint64_t *relset;                /* hashes of the relation names handed out */
    uint64_t *relbits;               /* ... a bit for each, by its top bits (S_NAME_BITS) */
    uint64_t *tblbits;               /* the same for the table names (lane 0's, shared) */
    size_t relset_cap;               /* slots: a power of two, or 0 */
    size_t relset_n;                 /* hashes held */
    s_map_t sumstr;                  /* summary strings, interned */
    wes_arena_t *sumarena;           /* their bytes, and the summaries */
    struct s_share *share;           /* with lanes: what they share, or NULL */
    size_t lane;                     /* this context's lane (0 without lanes) */
    size_t off_lo, off_hi;           /* the lane's stretch: definitions at these byte offsets */
    bool begun;                      /* the sink's begin was called */
    bool borrowed;                   /* the types, their maps and enums are lane 0's */
    wes_model_t *spare;              /* streaming: a table's model, emptied, for the next */
    struct s_tstate *spare_ts;       /* ... a table's state (its foreign keys' array kept) */
    wes_arena_t *spare_names;        /* ... a table's names arena, emptied */
    s_pending_t **spare_pending;     /* ... a table's pending array (room for 8 or more) */
    bool canonical_only;             /* streaming: the sink takes the canonical form only */
    s_map_t settle_local;            /* s_settle_names: one table's names (reused) */
} s_ctx_t;

/*  Streaming: a table built and not yet handed over, with what its
    settling needs (the context's per-table fields while it is worked on). */
typedef struct s_tstate {
    s_type_t *type;        /* its type; type->table lives in scratch */
    wes_model_t *scratch;  /* the table's records and strings */
    s_pending_t **pending; /* its names to settle */
    size_t n_pending;
    wes_arena_t *names;    /* their strings */
    s_fk_t *fks;           /* its foreign keys */
    size_t n_fks;
    s_type_t *blocked;     /* the referenced table it last found not built, or NULL */
    bool evicted;          /* its model was let go while it waits (too many wait): it
                              is built again from the file when it can go on */
} s_tstate_t;

static void s_err (s_ctx_t *ctx, wes_loc_t loc, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
static void s_warn (s_ctx_t *ctx, wes_loc_t loc, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
static void *s_map_get (const s_map_t *m, const char *key);
static bool s_map_put (s_map_t *m, const char *key, void *value);
static void s_map_free (s_map_t *m);
static void s_map_clear (s_map_t *m);
static void s_collect_types (s_ctx_t *ctx, const wes_ast_doc_t *doc);
static void s_check_declarations (s_ctx_t *ctx, const wes_ast_doc_t *doc);
static void s_classify (s_ctx_t *ctx);
static void s_build_table (s_ctx_t *ctx, s_type_t *ty);
static void s_scan_other (s_ctx_t *ctx, s_type_t *ty);
static void s_scan_doc_misc (s_ctx_t *ctx, const wes_ast_doc_t *doc);
static void s_check_fk (s_ctx_t *ctx, const s_fk_t *fk);
static void s_fk_note (s_ctx_t *ctx, s_fk_t *fk, s_type_t *ty, wes_column_t *c,
                       const wes_ast_directive_t *d);
static void s_settle_names (s_ctx_t *ctx);
static wes_model_t *s_compile (const wes_ast_doc_t *doc, wes_diag_t *diag, const char *path,
                               wes_ast_doc_t **outline_p);
static char *s_snake_exact (const char *name);
/*  What a list of directives belongs to, for messages: "<kind> <type>"
    and ".<name>" when there is one (made only when a message needs it). */
typedef struct {
    const char *kind; /* "field", "type", "enum value", ... */
    const char *type; /* or NULL: kind says it all */
    const char *name; /* or NULL */
} s_owner_t;
static const char *s_owner_text (const s_owner_t *owner, char *out, size_t size);
static wes_ast_doc_t *s_outline (const char *path, wes_diag_t *diag, bool *whole, bool skim);
static const wes_ast_def_t *s_load_body (s_ctx_t *ctx, s_type_t *ty);
static bool s_is_big (const wes_ast_def_t *def);
static bool s_relset_has_h (const s_ctx_t *ctx, uint64_t h);
static const char *s_def_kind_name (wes_def_kind_t k);
static const s_dir_spec_t *s_spec_for (const char *name);
static const s_sumcol_t *s_summary_find (const s_ctx_t *ctx, const s_type_t *ty,
                                        const char *field);
static void s_new_table (s_ctx_t *ctx, s_type_t *ty);
static bool s_is_unique_column (const wes_table_t *t, const wes_column_t *col);

/*  Frees what a compile context holds (not its model or diag). */
static void
s_ctx_free (s_ctx_t *ctx)
{
    if (!ctx->borrowed) {
        for (size_t i = 0; i < ctx->n_types; i++) {
            free (ctx->types[i]->exts);
            free (ctx->types[i]->sql_name);
        }
        free (ctx->types);
        wes_arena_destroy (&ctx->type_arena);
        s_map_free (&ctx->type_map);
        s_map_free (&ctx->declared);
        s_map_free (&ctx->table_names);
        s_map_free (&ctx->enum_names);
        s_map_free (&ctx->relnames);
        free (ctx->tblbits);
    }
    free (ctx->relbits);
    free (ctx->pending);
    wes_arena_destroy (&ctx->names);
    free (ctx->fks);
    free (ctx->relset);
    s_map_free (&ctx->settle_local);
    wes_model_destroy (&ctx->spare);
    if (ctx->spare_ts) {
        free (ctx->spare_ts->fks);
        free (ctx->spare_ts);
        ctx->spare_ts = NULL;
    }
    wes_arena_destroy (&ctx->spare_names);
    free (ctx->spare_pending);
    ctx->spare_pending = NULL;
    s_map_free (&ctx->sumstr);
    wes_arena_destroy (&ctx->sumarena);
    wes_parser_destroy (&ctx->again);
    wes_arena_destroy (&ctx->body);
    wes_arena_destroy (&ctx->keep);
    wes_buf_destroy (&ctx->typebuf);
    wes_buf_destroy (&ctx->defbuf);
    wes_buf_destroy (&ctx->arraybuf);
    s_map_free (&ctx->field_names);
    s_map_free (&ctx->typecache);
    wes_arena_destroy (&ctx->cachearena);
}

wes_model_t *
wes_compile (const wes_ast_doc_t *doc, wes_diag_t *diag)
{
    return s_compile (doc, diag, NULL, NULL);
}

/*  Compiles doc. With path, doc holds the big definitions (object,
    interface and input types) without their bodies, and each is read
    again from path when its turn comes, then forgotten: the whole AST of a
    big schema never exists at once. With outline_p (which is &doc), the
    compile destroys the document as soon as it is done with it. */
static wes_model_t *
s_compile (const wes_ast_doc_t *doc, wes_diag_t *diag, const char *path, wes_ast_doc_t **outline_p)
{
    wes_assert (doc && diag);
    size_t errors_before = wes_diag_errors (diag);
    s_ctx_t ctx;
    memset (&ctx, 0, sizeof ctx);
    ctx.diag = diag;
    ctx.model = wes_model_new ();
    ctx.typebuf = wes_buf_new ();
    if (path) {
        ctx.path = path;
        ctx.again = wes_parser_new_file (path, diag);
        ctx.body = wes_arena_new (0);
        ctx.keep = wes_arena_new (0);
    }

    s_collect_types (&ctx, doc);
    s_check_declarations (&ctx, doc);
    s_classify (&ctx);
    /*  Enums first: their values are needed by column defaults. */
    for (size_t i = 0; i < ctx.n_types; i++) {
        s_type_t *ty = ctx.types[i];
        if (ty->kind == WES_DEF_ENUM && ty->def) {
            s_scan_other (&ctx, ty);
        }
    }
    for (size_t i = 0; i < ctx.n_types; i++) {
        s_type_t *ty = ctx.types[i];
        if (ty->is_table) {
            if (ty->table) { /* else its name was refused: reported */
                const wes_ast_def_t *shell = s_load_body (&ctx, ty);
                s_build_table (&ctx, ty);
                ty->def = shell;
            }
        }
        else if (ty->def && ty->kind != WES_DEF_ENUM) {
            const wes_ast_def_t *shell = s_load_body (&ctx, ty);
            s_scan_other (&ctx, ty);
            ty->def = shell;
        }
    }
    wes_parser_destroy (&ctx.again);
    wes_arena_destroy (&ctx.body);
    s_scan_doc_misc (&ctx, doc);
    for (size_t i = 0; i < ctx.n_fks; i++) {
        s_check_fk (&ctx, &ctx.fks[i]);
    }
    free (ctx.fks);
    ctx.fks = NULL;
    wes_arena_destroy (&ctx.keep); /* the foreign keys' directives */
    /*  Naming needs no AST: an outline handed over goes now (the types'
        names point into it; nothing reads them from here on). */
    if (outline_p) {
        wes_ast_doc_destroy (outline_p);
    }
    s_settle_names (&ctx);

    s_ctx_free (&ctx);

    if (wes_diag_errors (diag) > errors_before) {
        wes_model_destroy (&ctx.model);
        return NULL;
    }
    wes_model_canonicalize (ctx.model);
    return ctx.model;
}

wes_model_t *
wes_compile_file (const char *path, wes_diag_t *diag)
{
    wes_assert (path && diag);
    if (!wes_str_eq (path, "-")) {
        /*  A file can be read twice: keep only the outline of the big
            definitions now (s_compile reads their bodies again). */
        bool whole = false;
        wes_ast_doc_t *outline = s_outline (path, diag, &whole, false);
        if (!outline && !whole) {
            return NULL;
        }
        if (outline) {
            return s_compile (outline, diag, path, &outline);
        }
    }
    wes_ast_doc_t *doc = wes_parse_file (path, diag);
    if (!doc) {
        return NULL;
    }
    wes_model_t *model = wes_compile (doc, diag);
    wes_ast_doc_destroy (&doc);
    return model;
}

/* ---------------------------------------------------------------------- */
/*  Streaming: one table at a time                                         */

/*  Streaming lanes: a file of at least this many bytes per lane is worth
    a thread of its own. */
#define S_LANE_MIN_BYTES (256u * 1024u)
/*  Streaming lanes take the document in stretches, the next one free each
    time: a tenth of what is left, between these. Small, because the
    outputs' frontier takes the tables in name order: while one lane works
    on a stretch, the other's next stretch waits for it, held in memory
    (about eight times its input bytes) or, over the hold, spooled and
    read back; and small ones at the end let the lanes finish together. */
#define S_STRETCH_MIN (16u * 1024u)
#define S_STRETCH_MAX (32u * 1024u)
#define S_STRETCH_SHARE 10
/*  Waiting tables (their foreign keys reference tables no lane has built
    yet) a lane keeps built, at most; beyond, a waiting table's model is
    let go and built again from the file when it can go on. A schema in
    dependency order hardly waits; one in any other order (shuffled, or
    sorted by name) would otherwise hold most of its tables at once. */
#define S_WAIT_KEPT 32

/*  A table's summary as one lane publishes it for the others: written
    once, before ready is set (release); read after ready is seen
    (acquire). */
typedef struct {
    const struct s_sumcol *sum; /* in the publishing lane's summary arena */
    size_t n_sum;
    atomic_bool ready;
} s_pub_t;

/*  A stretch of the document: its definitions, by byte offset. */
typedef struct {
    size_t lo, hi;               /* [lo, hi) */
    const wes_ast_def_t *first;  /* its first definition (in the outline) */
    bool taken;                  /* a lane took it */
    size_t lane;                 /* which */
    size_t from, to;             /* what it found: the lane's diagnostics [from, to) */
} s_stretch_t;

/*  What the lanes of a streaming compile share. Each lane classifies the
    outline with a context of its own (every lane has the same types, by
    index), then takes stretch after stretch; what crosses lanes is only
    this. */
typedef struct s_share {
    pthread_mutex_t mu;
    pthread_cond_t cv;     /* begun, or built, or stop changed */
    size_t n_lanes;        /* lanes */
    s_pub_t *pubs;         /* by type index */
    size_t n_pubs;         /* entries in pubs */
    s_stretch_t *stretches; /* in document order */
    size_t n_stretches;
    atomic_size_t next;    /* the next stretch free */
    bool begun;            /* lane 0 classified and called the sink's begin (under mu) */
    const s_ctx_t *first;  /* then: lane 0's context (its types, maps, enums) */
    size_t n_built;        /* lanes that found no stretch left (under mu) */
    atomic_bool stop;      /* a lane declined, failed or met an error: all stop */
} s_share_t;

/*  Tells every lane to stop (a decline, an error or a failed sink). */
static void
s_share_stop (s_share_t *share)
{
    if (!share) {
        return;
    }
    pthread_mutex_lock (&share->mu);
    atomic_store (&share->stop, true);
    pthread_cond_broadcast (&share->cv);
    pthread_mutex_unlock (&share->mu);
}

static bool
s_share_stopped (const s_share_t *share)
{
    return share && atomic_load_explicit (&share->stop, memory_order_relaxed);
}

/*  Whether ctx may go on: nothing ended the stream, here or in a lane. */
static bool
s_stream_going (s_ctx_t *ctx)
{
    bool going = !ctx->decline && !ctx->sink_failed && wes_diag_errors (ctx->diag) == 0;
    if (!going) {
        s_share_stop (ctx->share);
    }
    return going && !s_share_stopped (ctx->share);
}

/*  The summary of ty's table once it is built (by this lane or, with
    lanes, any: lanes share the types, so a lane reads another's summary
    only through its publication). */
static bool
s_summary_of (const s_ctx_t *ctx, const s_type_t *ty, const s_sumcol_t **sum, size_t *n_sum)
{
    if (!ctx->share) {
        *sum = ty->sum;
        *n_sum = ty->n_sum;
        return ty->summarized;
    }
    if (ty->index >= ctx->share->n_pubs) {
        return false;
    }
    const s_pub_t *pub = &ctx->share->pubs[ty->index];
    if (!atomic_load_explicit (&pub->ready, memory_order_acquire)) {
        return false;
    }
    *sum = pub->sum;
    *n_sum = pub->n_sum;
    return true;
}

static bool
s_built (const s_ctx_t *ctx, const s_type_t *ty)
{
    const s_sumcol_t *sum;
    size_t n;
    return s_summary_of (ctx, ty, &sum, &n);
}

/*  A string of the summaries, interned. */
static const char *
s_sum_intern (s_ctx_t *ctx, const char *str)
{
    const char *have = s_map_get (&ctx->sumstr, str);
    if (have) {
        return have;
    }
    char *copy = wes_arena_strndup (ctx->sumarena, str, strlen (str));
    s_map_put (&ctx->sumstr, copy, copy);
    return copy;
}

/*  Keeps what a foreign key may reference of ty's table: its unique
    columns, by field name. */
static void
s_summarize (s_ctx_t *ctx, s_type_t *ty)
{
    const wes_table_t *t = ty->table;
    //  Which columns are unique, found once (a table has a few dozen at most)
    bool small[64];
    bool *unique = t->n_columns <= 64 ? small : wes_alloc (t->n_columns * sizeof *unique);
    size_t n = 0;
    for (size_t i = 0; i < t->n_columns; i++) {
        unique[i] = t->columns[i]->gql_name && s_is_unique_column (t, t->columns[i]);
        n += unique[i];
    }
    s_sumcol_t *sum = n ? wes_arena_alloc (ctx->sumarena, n * sizeof (s_sumcol_t)) : NULL;
    size_t n_sum = 0;
    for (size_t i = 0; i < t->n_columns; i++) {
        const wes_column_t *c = t->columns[i];
        if (unique[i]) {
            s_sumcol_t *sc = &sum[n_sum++];
            sc->field = s_sum_intern (ctx, c->gql_name);
            sc->column = s_sum_intern (ctx, c->name);
            sc->type = s_sum_intern (ctx, c->type);
        }
    }
    if (unique != small) {
        free (unique);
    }
    if (!ctx->share) {
        ty->sum = sum;
        ty->n_sum = n_sum;
        ty->summarized = true;
    }
    else if (ty->index < ctx->share->n_pubs) {
        s_pub_t *pub = &ctx->share->pubs[ty->index];
        pub->sum = sum;
        pub->n_sum = n_sum;
        atomic_store_explicit (&pub->ready, true, memory_order_release);
    }
}

static const s_sumcol_t *
s_summary_find (const s_ctx_t *ctx, const s_type_t *ty, const char *field)
{
    const s_sumcol_t *sum = NULL;
    size_t n = 0;
    if (!s_summary_of (ctx, ty, &sum, &n)) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (wes_str_eq (sum[i].field, field)) {
            return &sum[i];
        }
    }
    return NULL;
}

/*  A model for one table: the spare one (emptied), else a new one. */
static wes_model_t *
s_table_model (s_ctx_t *ctx)
{
    wes_model_t *m = ctx->spare;
    ctx->spare = NULL;
    if (!m) {
        m = wes_model_new ();
        wes_model_share_strings (m, false); /* strings copied: quicker for one table */
    }
    return m;
}

/*  Makes ts the table being worked on (its fields into the context). */
static void
s_tstate_enter (s_ctx_t *ctx, s_tstate_t *ts)
{
    ctx->model = ts->scratch;
    ctx->pending = ts->pending;
    ctx->n_pending = ts->n_pending;
    ctx->names = ts->names;
    ctx->fks = ts->fks;
    ctx->n_fks = ts->n_fks;
}

static void
s_tstate_leave (s_ctx_t *ctx, s_tstate_t *ts)
{
    ts->pending = ctx->pending;
    ts->n_pending = ctx->n_pending;
    ts->names = ctx->names;
    ts->fks = ctx->fks;
    ts->n_fks = ctx->n_fks;
    ctx->model = ctx->enums;
    ctx->pending = NULL;
    ctx->n_pending = 0;
    ctx->names = NULL;
    ctx->fks = NULL;
    ctx->n_fks = 0;
}

/*  Lets ts's model and what points into it go: the model becomes the
    spare one (emptied, for the next table) when there is none. */
static void
s_tstate_drop_model (s_ctx_t *ctx, s_tstate_t *ts)
{
    ts->type->table = NULL;
    if (ts->scratch && !ctx->spare) {
        wes_model_clear (ts->scratch);
        ctx->spare = ts->scratch;
        ts->scratch = NULL;
    }
    wes_model_destroy (&ts->scratch);
    //  The pending array and the names' arena (their strings) are kept
    //  for the next table when there is none yet
    if (ts->pending && !ctx->spare_pending) {
        ctx->spare_pending = ts->pending;
    }
    else {
        free (ts->pending);
    }
    ts->pending = NULL;
    ts->n_pending = 0;
    if (ts->names && !ctx->spare_names) {
        wes_arena_reset (ts->names);
        ctx->spare_names = ts->names;
        ts->names = NULL;
    }
    wes_arena_destroy (&ts->names);
}

static void
s_tstate_destroy (s_ctx_t *ctx, s_tstate_t **ts_p)
{
    s_tstate_t *ts = *ts_p;
    s_tstate_drop_model (ctx, ts);
    if (!ctx->spare_ts) {
        //  Kept for the next table, with the room of its foreign keys'
        //  array (which grows from empty as for a new one)
        s_fk_t *fks = ts->fks;
        memset (ts, 0, sizeof *ts);
        ts->fks = fks;
        ctx->spare_ts = ts;
    }
    else {
        free (ts->fks);
        free (ts);
    }
    *ts_p = NULL;
}

/*  Whether every table ts's foreign keys reference is built (or, at the
    end, whatever it is). A reference to something that is not a table
    ends the stream. */
static bool
s_tstate_ready (s_ctx_t *ctx, s_tstate_t *ts)
{
    if (ts->blocked && !s_built (ctx, ts->blocked)) {
        return false; /* still waiting for the same table */
    }
    ts->blocked = NULL;
    for (size_t i = 0; i < ts->n_fks; i++) {
        const char *ref = ts->fks[i].ref;
        const char *dot = ref ? strchr (ref, '.') : NULL;
        if (!dot) {
            continue; /* refused by the check */
        }
        char tname[512];
        if ((size_t) (dot - ref) >= sizeof tname) {
            ctx->decline = true; /* no table has such a name: the check says so */
            return true;
        }
        memcpy (tname, ref, (size_t) (dot - ref));
        tname[dot - ref] = '\0';
        s_type_t *target = s_map_get (&ctx->type_map, tname);
        if (!target || !target->is_table || !target->named) {
            ctx->decline = true;
            return true;
        }
        if (!s_built (ctx, target)) {
            ts->blocked = target;
            return false;
        }
    }
    return true;
}

/*  Checks ts's foreign keys, settles its names and hands it over. */
static void
s_tstate_finish (s_ctx_t *ctx, s_tstate_t *ts)
{
    s_tstate_enter (ctx, ts);
    for (size_t i = 0; i < ctx->n_fks && !ctx->decline; i++) {
        s_check_fk (ctx, &ctx->fks[i]);
    }
    if (!ctx->decline && wes_diag_errors (ctx->diag) == 0) {
        s_settle_names (ctx);
    }
    if (!ctx->decline && wes_diag_errors (ctx->diag) == 0) {
        wes_table_canonicalize (ts->type->table);
        s_tstate_leave (ctx, ts);
        ts->type->table = NULL; /* the sink may take the model */
        if (ctx->sink->table (ctx->sink->arg, ctx->lane, ctx->enums, &ts->scratch) != 0) {
            ctx->sink_failed = true;
        }
        return;
    }
    s_tstate_leave (ctx, ts);
}

/*  Lets the model of waiting ts go (it is built again when it can go on):
    its foreign keys' references stay (in the lane's keep arena), what
    points into the model is forgotten or rebuilt with it. */
static void
s_tstate_evict (s_ctx_t *ctx, s_tstate_t *ts)
{
    s_tstate_drop_model (ctx, ts); /* its names to settle are made again with it */
    ts->evicted = true;
    ctx->n_kept--;
}

/*  Builds evicted ts again, as the first time, from its definition read
    anew (the lane's parser moves: only between stretches); the first
    build's warnings were reported, this one's are dropped. */
static void
s_tstate_rebuild (s_ctx_t *ctx, s_tstate_t *ts)
{
    s_type_t *ty = ts->type;
    if (!ctx->again || wes_parser_seek (ctx->again, ty->def) != 0) {
        ctx->decline = true;
        return;
    }
    const wes_ast_def_t *shell = s_load_body (ctx, ty);
    if (ctx->decline) {
        ty->def = shell;
        return;
    }
    free (ts->fks); /* found again, pointing into the new model */
    ts->fks = NULL;
    ts->n_fks = 0;
    ts->blocked = NULL;
    ts->scratch = s_table_model (ctx);
    wes_diag_t *diag = ctx->diag;
    wes_diag_t *mute = wes_diag_new (ctx->path ? ctx->path : "");
    ctx->diag = mute;
    s_tstate_enter (ctx, ts);
    s_new_table (ctx, ty);
    s_build_table (ctx, ty);
    s_tstate_leave (ctx, ts);
    ctx->diag = diag;
    if (wes_diag_errors (mute) > 0) {
        ctx->decline = true; /* cannot be: the first build found none */
    }
    wes_diag_destroy (&mute);
    ty->def = shell;
    ts->evicted = false;
    ctx->n_kept++;
}

/*  Hands over every waiting table whose references are built (all of
    them at the end); one whose model was let go is built again first,
    when seek says the lane's parser may move. Then, if too many waiting
    tables keep their models, lets the newest go. */
static void
s_stream_drain (s_ctx_t *ctx, bool end, bool seek)
{
    size_t kept = 0;
    for (size_t i = 0; i < ctx->n_waiting; i++) {
        s_tstate_t *ts = ctx->waiting[i];
        bool go = !ctx->decline && !ctx->sink_failed && (end || s_tstate_ready (ctx, ts));
        if (go && ts->evicted) {
            if (seek) {
                s_tstate_rebuild (ctx, ts);
            }
            go = seek;
        }
        if (go && !ctx->decline) {
            s_tstate_finish (ctx, ts);
            ctx->n_kept--;
            s_tstate_destroy (ctx, &ts);
        }
        else {
            ctx->waiting[kept++] = ts;
        }
    }
    ctx->n_waiting = kept;
    for (size_t i = ctx->n_waiting; i > 0 && ctx->n_kept > S_WAIT_KEPT; i--) {
        if (!ctx->waiting[i - 1]->evicted) {
            s_tstate_evict (ctx, ctx->waiting[i - 1]);
        }
    }
}

/*  Builds the table of type ty (its definition loaded) into a model of
    its own, keeps its summary, and hands it over when it can. */
static void
s_stream_table (s_ctx_t *ctx, s_type_t *ty)
{
    s_tstate_t *ts = ctx->spare_ts ? ctx->spare_ts : wes_new (s_tstate_t);
    ctx->spare_ts = NULL;
    ts->type = ty;
    ts->scratch = s_table_model (ctx);
    s_tstate_enter (ctx, ts);
    s_new_table (ctx, ty);
    s_build_table (ctx, ty);
    s_tstate_leave (ctx, ts);
    s_summarize (ctx, ty);
    if (ctx->n_waiting == ctx->cap_waiting) {
        ctx->cap_waiting = ctx->cap_waiting ? ctx->cap_waiting * 2 : 16;
        ctx->waiting = wes_realloc (ctx->waiting, ctx->cap_waiting * sizeof (s_tstate_t *));
    }
    ctx->waiting[ctx->n_waiting++] = ts;
    ctx->n_kept++;
    s_stream_drain (ctx, false, false);
}

/*  One lane of a streaming compile. */
typedef struct {
    s_ctx_t ctx;
    wes_diag_t *diag;        /* what the lane found (lane 0: the outline's first) */
    size_t n_common;         /* lane 0: the outline's, at the start of diag */
    const wes_ast_doc_t *outline; /* shared, read only */
    pthread_t thread;
    bool threaded;           /* runs on a thread of its own */
} s_lane_t;

/*  Builds the tables, and scans the other types, of the definitions in
    [lo, hi) that ctx->again is at. */
static void
s_stream_stretch (s_ctx_t *ctx, size_t lo, size_t hi)
{
    //  Types are in document order after the built-in scalars (offset 0).
    //  Another lane may be working on a type: what is read of it here
    //  (offset, defined, kind, is_table, named) is fixed since classifying
    size_t n = ctx->n_types;
    size_t lo_i = 0, hi_i = n;
    while (lo_i < hi_i) {
        size_t mid = lo_i + (hi_i - lo_i) / 2;
        if (ctx->types[mid]->offset < lo) {
            lo_i = mid + 1;
        }
        else {
            hi_i = mid;
        }
    }
    for (size_t i = lo_i; i < n && ctx->types[i]->offset < hi && s_stream_going (ctx); i++) {
        if (!ctx->types[i]->defined) {
            continue;
        }
        s_type_t *ty = ctx->types[i];
        if (ty->is_table) {
            if (ty->named) {
                const wes_ast_def_t *shell = s_load_body (ctx, ty);
                if (!ctx->decline) {
                    s_stream_table (ctx, ty);
                }
                ty->def = shell;
            }
        }
        else if (ty->kind != WES_DEF_ENUM) {
            const wes_ast_def_t *shell = s_load_body (ctx, ty);
            if (!ctx->decline) {
                s_scan_other (ctx, ty);
            }
            ty->def = shell;
        }
    }
}

/*  The lane's work: classify the outline, (lane 0) begin the sink, build
    and hand over the tables of stretch after stretch, then, once no
    stretch is left, the tables that waited for another lane's. */
static void *
s_lane_run (void *arg)
{
    s_lane_t *lane = arg;
    s_ctx_t *ctx = &lane->ctx;
    s_share_t *share = ctx->share;
    const wes_compile_sink_t *sink = ctx->sink;

    if (ctx->lane > 0) {
        //  Lane 0 classifies the outline for every lane
        pthread_mutex_lock (&share->mu);
        while (!share->begun && !atomic_load (&share->stop)) {
            pthread_cond_wait (&share->cv, &share->mu);
        }
        const s_ctx_t *first = share->begun ? share->first : NULL;
        pthread_mutex_unlock (&share->mu);
        if (!first) {
            return NULL; /* lane 0 stopped */
        }
        ctx->borrowed = true;
        ctx->types = first->types;
        ctx->n_types = first->n_types;
        ctx->type_map = first->type_map;
        ctx->declared = first->declared;
        ctx->table_names = first->table_names;
        ctx->tblbits = first->tblbits;
        ctx->enum_names = first->enum_names;
        ctx->relnames = first->relnames;
        ctx->enums = first->enums;
        ctx->model = ctx->enums;
    }
    else {
        s_collect_types (ctx, lane->outline);
        s_check_declarations (ctx, lane->outline);
        s_classify (ctx);
        for (size_t i = 0; i < ctx->n_types; i++) {
            s_type_t *ty = ctx->types[i];
            if (ty->kind == WES_DEF_ENUM && ty->def) {
                s_scan_other (ctx, ty);
            }
        }
        lane->n_common = wes_diag_count (ctx->diag);
        if (wes_diag_errors (ctx->diag) > 0) {
            ctx->decline = true;
        }
        if (share && ctx->n_types > share->n_pubs) {
            ctx->decline = true; /* cannot be: the outline counts every type */
        }
        if (!ctx->decline) {
            wes_model_canonicalize (ctx->enums); /* only enums: sorted */
        }
        if (s_stream_going (ctx)) {
            size_t n = 0;
            const char **sql = wes_alloc ((ctx->n_types + 1) * sizeof *sql);
            const char **gql = wes_alloc ((ctx->n_types + 1) * sizeof *gql);
            for (size_t i = 0; i < ctx->n_types; i++) {
                const s_type_t *ty = ctx->types[i];
                if (ty->is_table && ty->named) {
                    sql[n] = ty->sql_name;
                    gql[n++] = ty->name;
                }
            }
            ctx->begun = true;
            if (sink->begin (sink->arg, ctx->enums, n, sql, gql) != 0) {
                ctx->sink_failed = true;
            }
            free (sql);
            free (gql);
        }
        if (share && s_stream_going (ctx)) {
            pthread_mutex_lock (&share->mu);
            share->first = ctx;
            share->begun = true;
            pthread_cond_broadcast (&share->cv);
            pthread_mutex_unlock (&share->mu);
        }
    }
    if (!ctx->again && s_stream_going (ctx)) {
        ctx->decline = true; /* the file cannot be read again */
    }
    if (!share) {
        if (s_stream_going (ctx)) {
            s_stream_stretch (ctx, 0, SIZE_MAX);
        }
    }
    else {
        while (s_stream_going (ctx)) {
            size_t k = atomic_fetch_add (&share->next, 1);
            if (k >= share->n_stretches) {
                break;
            }
            s_stretch_t *st = &share->stretches[k];
            st->taken = true;
            st->lane = ctx->lane;
            st->from = wes_diag_count (ctx->diag);
            if (wes_parser_seek (ctx->again, st->first) != 0) {
                ctx->decline = true;
                break;
            }
            s_stream_stretch (ctx, st->lo, st->hi);
            //  (a table that waited and is drained later adds no warning:
            //  checking and naming only find errors, which end the stream)
            st->to = wes_diag_count (ctx->diag);
            //  Between stretches the parser may move: tables let go are
            //  built again when they can go on
            if (s_stream_going (ctx)) {
                s_stream_drain (ctx, false, true);
            }
        }
        //  What waits for another lane's tables waits until no lane builds
        //  any more (each publishes a table as soon as it is built, before
        //  it waits for anything)
        (void) s_stream_going (ctx);
        pthread_mutex_lock (&share->mu);
        share->n_built++;
        pthread_cond_broadcast (&share->cv);
        while (ctx->n_waiting > 0 && share->n_built < share->n_lanes
               && !atomic_load (&share->stop)) {
            pthread_cond_wait (&share->cv, &share->mu);
        }
        pthread_mutex_unlock (&share->mu);
        if (s_stream_going (ctx)) {
            s_stream_drain (ctx, false, true);
        }
    }
    if (s_stream_going (ctx)) {
        s_stream_drain (ctx, true, true);
    }
    (void) s_stream_going (ctx);
    return NULL;
}

/*  The stretches of the document for lanes: runs of definitions, each
    starting at an object, interface or input type, of fixed bytes each
    or (fixed 0) sized as S_STRETCH_SHARE says. Returns how many (at
    least 1). */
static size_t
s_stretches (const wes_ast_doc_t *outline, size_t fixed, s_stretch_t **out)
{
    size_t end = 0;
    for (const wes_ast_def_t *def = wes_ast_doc_defs (outline); def; def = def->next) {
        end = def->offset;
    }
    size_t n = 0, cap = 16, want = 0;
    s_stretch_t *st = wes_alloc (cap * sizeof *st);
    for (const wes_ast_def_t *def = wes_ast_doc_defs (outline); def; def = def->next) {
        bool start = n == 0 || (s_is_big (def) && def->offset >= st[n - 1].lo + want);
        if (!start) {
            continue;
        }
        if (n == cap) {
            cap *= 2;
            st = wes_realloc (st, cap * sizeof *st);
        }
        if (n > 0) {
            st[n - 1].hi = def->offset;
        }
        st[n++] = (s_stretch_t) {.lo = def->offset, .hi = SIZE_MAX, .first = def};
        want = fixed;
        if (!fixed) {
            want = (end - def->offset) / S_STRETCH_SHARE;
            want = want < S_STRETCH_MIN ? S_STRETCH_MIN : want > S_STRETCH_MAX ? S_STRETCH_MAX : want;
        }
    }
    if (n > 0) {
        st[0].lo = 0; /* the first takes whatever comes before its first definition */
    }
    *out = st;
    return n;
}

/*  Whether two lanes handed out the same relation name (by hash: a
    collision only declines what would have streamed). */
static bool
s_lanes_clash (const s_lane_t *lanes, size_t n_lanes)
{
    for (size_t a = 1; a < n_lanes; a++) {
        const s_ctx_t *ca = &lanes[a].ctx;
        for (size_t i = 0; i < ca->relset_cap; i++) {
            uint64_t h = ca->relset[i];
            if (!h) {
                continue;
            }
            for (size_t b = 0; b < a; b++) {
                if (s_relset_has_h (&lanes[b].ctx, h)) {
                    return true;
                }
            }
        }
    }
    return false;
}

/*  Adds the diagnostics [first, last) of from to to. */
static void
s_diag_copy (wes_diag_t *to, const wes_diag_t *from, size_t first, size_t last)
{
    for (size_t i = first; i < last; i++) {
        wes_diag_add (to, wes_diag_level (from, i), wes_diag_line (from, i), wes_diag_col (from, i),
                      "%s", wes_diag_message (from, i));
    }
}

int
wes_compile_file_stream (const char *path, const wes_compile_sink_t *sink, wes_diag_t *diag)
{
    wes_assert (path && sink && sink->begin && sink->table && sink->end && diag);
    if (wes_str_eq (path, "-")) {
        return 1; /* stdin cannot be read twice */
    }
    //  Diagnostics are kept aside: a declined stream leaves the report to
    //  the whole-model compile
    wes_diag_t *priv = wes_diag_new (wes_diag_file (diag));
    bool whole = false;
    wes_ast_doc_t *outline = s_outline (path, priv, &whole, true);
    if (!outline) {
        wes_diag_destroy (&priv);
        return 1;
    }
    size_t n_lanes = sink->lanes;
    if (n_lanes == 0) {
        struct stat st;
        size_t by_size = stat (path, &st) == 0 ? (size_t) st.st_size / S_LANE_MIN_BYTES : 0;
        long cores = sysconf (_SC_NPROCESSORS_ONLN);
        n_lanes = cores > 1 ? (size_t) cores : 1;
        n_lanes = n_lanes < by_size ? n_lanes : (by_size ? by_size : 1);
    }
    n_lanes = n_lanes < WES_COMPILE_LANES ? n_lanes : WES_COMPILE_LANES;

    s_share_t share = {.n_lanes = n_lanes};
    s_share_t *shared = n_lanes > 1 ? &share : NULL;
    if (shared) {
        pthread_mutex_init (&share.mu, NULL);
        pthread_cond_init (&share.cv, NULL);
        share.n_pubs = wes_ast_doc_count (outline) + 16; /* the built-in scalars too */
        share.pubs = wes_alloc (share.n_pubs * sizeof *share.pubs);
        for (size_t i = 0; i < share.n_pubs; i++) {
            atomic_init (&share.pubs[i].ready, false);
        }
        share.n_stretches = s_stretches (outline, sink->stretch_bytes, &share.stretches);
        atomic_init (&share.next, 0);
        atomic_init (&share.stop, false);
    }
    s_lane_t lanes[WES_COMPILE_LANES];
    memset (lanes, 0, sizeof lanes);
    for (size_t w = 0; w < n_lanes; w++) {
        s_lane_t *lane = &lanes[w];
        s_ctx_t *ctx = &lane->ctx;
        lane->outline = outline;
        lane->diag = w == 0 ? priv : wes_diag_new (wes_diag_file (diag));
        ctx->diag = lane->diag;
        if (w == 0) {
            ctx->model = wes_model_new ();
            ctx->enums = ctx->model;
        }
        ctx->typebuf = wes_buf_new ();
        ctx->path = path;
        ctx->again = wes_parser_new_file (path, lane->diag);
        ctx->body = wes_arena_new (0);
        ctx->keep = wes_arena_new (0);
        ctx->stream = true;
        ctx->sink = sink;
        ctx->sumarena = wes_arena_new (0);
        ctx->sumstr.borrowed = true;
        ctx->share = shared;
        ctx->lane = w;
        ctx->canonical_only = sink->canonical_only;
    }
    for (size_t w = 1; w < n_lanes; w++) {
        lanes[w].threaded = pthread_create (&lanes[w].thread, NULL, s_lane_run, &lanes[w]) == 0;
        if (!lanes[w].threaded) {
            lanes[w].ctx.decline = true;
            s_share_stop (shared);
        }
    }
    s_lane_run (&lanes[0]);
    for (size_t w = 1; w < n_lanes; w++) {
        if (lanes[w].threaded) {
            pthread_join (lanes[w].thread, NULL);
        }
    }

    //  The outcome over every lane; then what concerns the whole document
    int rc = 0;
    bool begun = lanes[0].ctx.begun;
    bool declined = false;
    for (size_t w = 0; w < n_lanes; w++) {
        const s_ctx_t *ctx = &lanes[w].ctx;
        if (ctx->sink_failed) {
            rc = -1;
        }
        if (ctx->decline || ctx->n_waiting > 0 || wes_diag_errors (lanes[w].diag) > 0
            || (ctx->again && wes_parser_failed (ctx->again))) {
            declined = true;
        }
    }
    for (size_t k = 0; shared && k < share.n_stretches; k++) {
        if (!share.stretches[k].taken) {
            declined = true; /* a stretch no lane took: the lanes stopped */
        }
    }
    if (rc == 0 && (declined || s_lanes_clash (lanes, n_lanes))) {
        rc = 1;
    }
    wes_diag_t *misc = wes_diag_new (wes_diag_file (diag));
    if (rc == 0) {
        lanes[0].ctx.diag = misc;
        s_scan_doc_misc (&lanes[0].ctx, outline);
        if (wes_diag_errors (misc) > 0) {
            rc = 1;
        }
    }
    if (begun && sink->end (sink->arg, lanes[0].ctx.enums, rc == 0) != 0 && rc == 0) {
        rc = -1;
    }
    if (rc == 0) {
        //  In document order: what the outline showed, each stretch's, then
        //  the document's own
        if (!shared) {
            s_diag_copy (diag, priv, 0, wes_diag_count (priv));
        }
        else {
            s_diag_copy (diag, priv, 0, lanes[0].n_common);
            for (size_t k = 0; k < share.n_stretches; k++) {
                const s_stretch_t *st = &share.stretches[k];
                s_diag_copy (diag, lanes[st->lane].diag, st->from, st->to);
            }
        }
        s_diag_copy (diag, misc, 0, wes_diag_count (misc));
    }
    wes_diag_destroy (&misc);

    //  The tables still waiting first (their types are lane 0's), lane 0
    //  last
    for (size_t w = 0; w < n_lanes; w++) {
        s_ctx_t *ctx = &lanes[w].ctx;
        for (size_t i = 0; i < ctx->n_waiting; i++) {
            s_tstate_destroy (ctx, &ctx->waiting[i]);
        }
    }
    for (size_t w = n_lanes; w-- > 0;) {
        s_ctx_t *ctx = &lanes[w].ctx;
        free (ctx->waiting);
        s_ctx_free (ctx);
        if (!ctx->borrowed) {
            wes_model_destroy (&ctx->enums);
        }
        else {
            ctx->enums = NULL;
        }
        wes_diag_destroy (&lanes[w].diag);
    }
    if (shared) {
        free (share.stretches);
        free (share.pubs);
        pthread_mutex_destroy (&share.mu);
        pthread_cond_destroy (&share.cv);
    }
    wes_ast_doc_destroy (&outline);
    return rc;
}

/*  The owner's words in out (cut to size); returns out. */
static const char *
s_owner_text (const s_owner_t *owner, char *out, size_t size)
{
    snprintf (out, size, "%s%s%s%s%s", owner->kind, owner->type ? " " : "",
              owner->type ? owner->type : "", owner->name ? "." : "",
              owner->name ? owner->name : "");
    return out;
}

/*  wes_name_snake (a block of its own size: kept for the whole compile). */
static char *
s_snake_exact (const char *name)
{
    return wes_name_snake (name);
}

/*  Object, interface and input types are the bulk of a schema. */
static bool
s_is_big (const wes_ast_def_t *def)
{
    return def->kind == WES_DEF_OBJECT || def->kind == WES_DEF_INTERFACE
           || def->kind == WES_DEF_INPUT;
}

/*  Keeps def's outline in outline (see s_outline). */
static void
s_outline_keep (wes_ast_doc_t *outline, const wes_ast_def_t *def)
{
    wes_arena_t *arena = wes_ast_doc_arena (outline);
    wes_ast_def_t head = *def;
    if (s_is_big (def)) {
        head.directives = NULL;
        head.description = NULL;
    }
    wes_ast_def_t *kept = wes_ast_def_copy (&head, arena, !s_is_big (def));
    if (s_is_big (def)) {
        wes_ast_directive_t **tail = &kept->directives;
        for (const wes_ast_directive_t *d = def->directives; d; d = d->next) {
            const s_dir_spec_t *spec = s_spec_for (d->name.value);
            if (spec && spec->id == S_DIR_TABLE) {
                *tail = wes_ast_directive_copy (d, arena);
                tail = &(*tail)->next;
            }
        }
    }
    wes_ast_doc_append (outline, kept);
}

/*  Outlines parser's definitions into outline until the end of input, or
    until one starting at or past stop: that one is returned (in scratch)
    and not kept. NULL at the end, at a syntax error and at an extension
    (*whole set). */
static const wes_ast_def_t *
s_outline_read (wes_parser_t *parser, wes_ast_doc_t *outline, wes_arena_t *scratch, size_t stop,
                bool *whole)
{
    const wes_ast_def_t *def;
    while ((def = wes_parser_next (parser, scratch)) != NULL) {
        if (def->extend) {
            *whole = true;
            return NULL;
        }
        if (def->offset >= stop) {
            return def;
        }
        s_outline_keep (outline, def);
        wes_arena_reset (scratch);
    }
    return NULL;
}

/*  A file of at least this many bytes is outlined in two halves at once. */
#define S_SPLIT_MIN_BYTES (512u * 1024u)
/*  Bytes looked at, from the middle, for where the second half starts. */
#define S_SPLIT_WINDOW (64u * 1024u)

/*  Where the second half of path's outline may start: the line after a
    line that is a lone "}" (a body's end) and any blank lines, looked for
    from the middle of the file; 0 when there is none. It is a guess: the
    first half's own reading confirms it (s_outline). */
static size_t
s_outline_cut (const char *path)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        return 0;
    }
    size_t cut = 0;
    char *buf = wes_alloc (S_SPLIT_WINDOW + 1);
    struct stat st;
    if (fstat (fileno (f), &st) == 0 && (size_t) st.st_size >= S_SPLIT_MIN_BYTES
        && fseeko (f, (off_t) (st.st_size / 2), SEEK_SET) == 0) {
        size_t n = fread (buf, 1, S_SPLIT_WINDOW, f);
        buf[n] = '\0';
        const char *end = strstr (buf, "\n}\n");
        if (end) {
            const char *p = end + 3;
            const char *line = p;
            while (p < buf + n && (*p == ' ' || *p == '\t' || *p == '\n')) {
                if (*p++ == '\n') {
                    line = p;
                }
            }
            if (p < buf + n && line < buf + n && *line != '\r') {
                cut = (size_t) (st.st_size / 2) + (size_t) (line - buf);
            }
        }
    }
    free (buf);
    fclose (f);
    return cut;
}

/*  The second half of an outline, read on a thread of its own. */
typedef struct {
    const char *path;
    size_t cut;          /* its first byte: a line start */
    wes_ast_doc_t *doc;  /* its definitions */
    size_t first;        /* its first definition's offset (SIZE_MAX: none) */
    bool ok;             /* read to the end, no error, no extension */
} s_half_t;

/*  The \n bytes of buf[0, n), sixteen at a time where SSE2 is there;
    *ok false when a \r is among them. */
static uint64_t
s_count_lines (const char *buf, size_t n, bool *ok)
{
    uint64_t lines = 0;
    size_t i = 0;
#ifdef __SSE2__
    const __m128i nl = _mm_set1_epi8 ('\n');
    const __m128i cr = _mm_set1_epi8 ('\r');
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128 ((const __m128i *) (const void *) (buf + i));
        lines += wes_bits_count ((uint32_t) _mm_movemask_epi8 (_mm_cmpeq_epi8 (v, nl)));
        if (_mm_movemask_epi8 (_mm_cmpeq_epi8 (v, cr))) {
            *ok = false;
        }
    }
#endif
    for (; i < n; i++) {
        lines += buf[i] == '\n';
        if (buf[i] == '\r') {
            *ok = false;
        }
    }
    return lines;
}

/*  The line cut is on: 1 + the line ends before it. False when there is a
    \r among them (a line end of its own, or half of one: not worth it). */
static bool
s_line_of (const char *path, size_t cut, uint32_t *line)
{
    //  Mapped, not read: no copy of the first half (its pages are the
    //  page cache's, and dropped again before the outline is done)
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    void *map = mmap (NULL, cut, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    close (fd);
    if (map == MAP_FAILED) {
        return false;
    }
    bool ok = true;
    uint64_t lines = s_count_lines (map, cut, &ok);
    munmap (map, cut);
    if (!ok || lines + 1 > UINT32_MAX) {
        return false;
    }
    *line = (uint32_t) (lines + 1);
    return true;
}

static void *
s_half_run (void *arg)
{
    s_half_t *h = arg;
    h->first = SIZE_MAX;
    uint32_t line;
    if (!s_line_of (h->path, h->cut, &line)) {
        return NULL;
    }
    wes_diag_t *diag = wes_diag_new (h->path); /* errors: the first half reads on and reports */
    wes_parser_t *parser = wes_parser_new_file (h->path, diag);
    wes_ast_def_t at;
    memset (&at, 0, sizeof at);
    at.offset = h->cut;
    at.loc.start = (wes_pos_t) {line, 1};
    if (parser && wes_parser_seek (parser, &at) == 0) {
        wes_parser_skip_bodies (parser);
        h->doc = wes_ast_doc_new (h->path);
        wes_arena_t *scratch = wes_arena_new (0);
        bool whole = false;
        (void) s_outline_read (parser, h->doc, scratch, SIZE_MAX, &whole);
        h->ok = !whole && !wes_parser_failed (parser) && wes_diag_errors (diag) == 0;
        const wes_ast_def_t *first = wes_ast_doc_defs (h->doc);
        h->first = first ? first->offset : SIZE_MAX;
        wes_arena_destroy (&scratch);
    }
    wes_parser_destroy (&parser);
    wes_diag_destroy (&diag);
    return NULL;
}

/*  Reads path once, one definition at a time, keeping every definition
    except the bodies and directives of the big ones (an object type keeps
    its @wes_table, which classifies it). NULL on a syntax error (reported),
    or with *whole set when the document has extensions: a type's parts are
    then spread over the file, and the caller compiles the whole AST. With
    skim, those bodies are skipped, not parsed: a syntax error inside one
    goes unseen (for the streaming compile, which declines when its second
    read meets it; the whole compile reports it before anything else). A
    big file is skimmed in two halves at once: the second from a guessed
    definition start, kept when the first half's reading reaches a
    definition at the very place the second's first one is (from there on
    both read the same bytes the same way); else the first reads on. */
static wes_ast_doc_t *
s_outline (const char *path, wes_diag_t *diag, bool *whole, bool skim)
{
    *whole = false;
    wes_parser_t *parser = wes_parser_new_file (path, diag);
    if (!parser) {
        return NULL;
    }
    if (skim) {
        wes_parser_skip_bodies (parser);
    }
    wes_ast_doc_t *outline = wes_ast_doc_new (path);
    wes_arena_t *scratch = wes_arena_new (0);
    s_half_t half = {path, skim ? s_outline_cut (path) : 0, NULL, SIZE_MAX, false};
    pthread_t thread;
    bool split = half.cut > 0 && pthread_create (&thread, NULL, s_half_run, &half) == 0;
    const wes_ast_def_t *at = s_outline_read (parser, outline, scratch, split ? half.cut : SIZE_MAX,
                                              whole);
    if (split) {
        pthread_join (thread, NULL);
        if (at && half.ok && half.first == at->offset) {
            wes_ast_doc_take (outline, &half.doc);
            at = NULL;
        }
        else if (at) {
            s_outline_keep (outline, at);
            wes_arena_reset (scratch);
            (void) s_outline_read (parser, outline, scratch, SIZE_MAX, whole);
        }
        wes_ast_doc_destroy (&half.doc);
    }
    bool failed = wes_parser_failed (parser);
    wes_parser_destroy (&parser);
    wes_arena_destroy (&scratch);
    if (!failed && wes_ast_doc_count (outline) > WES_MAX_DEFINITIONS) {
        failed = true; /* two halves, each within the limit: the whole compile says so */
    }
    if (failed || *whole) {
        wes_ast_doc_destroy (&outline);
    }
    return outline;
}

/*  In a lazy compile, points ty->def at the whole definition read again
    (valid until the next call) and returns the outline to put back. */
static const wes_ast_def_t *
s_load_body (s_ctx_t *ctx, s_type_t *ty)
{
    const wes_ast_def_t *outline = ty->def;
    if (!ctx->again || !outline || !s_is_big (outline)) {
        return outline;
    }
    wes_arena_reset (ctx->body);
    const wes_ast_def_t *def;
    while ((def = wes_parser_next (ctx->again, ctx->body)) != NULL) {
        if (def->loc.start.line == outline->loc.start.line
            && def->loc.start.col == outline->loc.start.col && def->kind == outline->kind) {
            ty->def = def;
            return outline;
        }
        wes_arena_reset (ctx->body);
    }
    if (ctx->stream) {
        ctx->decline = true; /* the whole compile reports what is wrong */
        return outline;
    }
    if (!wes_parser_failed (ctx->again)) {
        s_err (ctx, outline->loc, "%s changed while it was being compiled (%s %s is gone)",
               ctx->path, s_def_kind_name (outline->kind), ty->name);
    }
    wes_parser_destroy (&ctx->again);
    return outline;
}

/* ---------------------------------------------------------------------- */
/*  Diagnostics and small helpers                                          */

static void s_report (s_ctx_t *ctx, wes_diag_level_t level, wes_loc_t loc, const char *fmt,
                      va_list ap) __attribute__ ((format (printf, 4, 0)));

static void
s_report (s_ctx_t *ctx, wes_diag_level_t level, wes_loc_t loc, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf (msg, sizeof msg, fmt, ap);
    wes_diag_add (ctx->diag, level, loc.start.line, loc.start.col, "%s", msg);
}

static void
s_err (s_ctx_t *ctx, wes_loc_t loc, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    s_report (ctx, WES_DIAG_ERROR, loc, fmt, ap);
    va_end (ap);
}

static void
s_warn (s_ctx_t *ctx, wes_loc_t loc, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    s_report (ctx, WES_DIAG_WARNING, loc, fmt, ap);
    va_end (ap);
}

static wes_srcpos_t
s_pos (wes_loc_t loc)
{
    wes_srcpos_t p = {loc.start.line, loc.start.col};
    return p;
}

/*  A bit per name hash, by the hash's top S_NAME_BITS bits, in front of
    a set of names that lookups mostly miss: a clear bit answers without
    touching the set (32 KiB, where the set and its names are far bigger). */
#define S_NAME_BITS 18

static void
s_bits_add (uint64_t **bits, uint64_t h)
{
    if (!*bits) {
        *bits = wes_alloc (((size_t) 1 << S_NAME_BITS) / 64 * sizeof (uint64_t));
    }
    size_t i = (size_t) (h >> (64 - S_NAME_BITS));
    (*bits)[i / 64] |= (uint64_t) 1 << (i % 64);
}

/*  Whether a name of hash h may be in the set of bits (none: it may). */
static inline bool
s_bits_has (const uint64_t *bits, uint64_t h)
{
    if (!bits) {
        return true;
    }
    size_t i = (size_t) (h >> (64 - S_NAME_BITS));
    return (bits[i / 64] >> (i % 64)) & 1;
}

static uint64_t
s_hash_str (const char *s)
{
    //  Eight bytes a step once the length is known: a byte-at-a-time hash
    //  waits for one multiply per byte, and names are looked up by the
    //  hundred thousand
    size_t n = strlen (s);
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    for (; n >= 8; s += 8, n -= 8) {
        uint64_t w;
        memcpy (&w, s, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++) {
        w |= (uint64_t) (unsigned char) s[i] << (8 * i);
    }
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 29);
}

static void *
s_map_get_h (const s_map_t *m, const char *key, uint32_t h)
{
    if (m->cap == 0) {
        return NULL;
    }
    size_t i = h & (m->cap - 1);
    while (m->slots[i].key) {
        if (m->slots[i].hash == h && wes_str_eq (m->slots[i].key, key)) {
            return m->slots[i].value;
        }
        i = (i + 1) & (m->cap - 1);
    }
    return NULL;
}

static void *
s_map_get (const s_map_t *m, const char *key)
{
    return s_map_get_h (m, key, (uint32_t) s_hash_str (key));
}

/*  false when the key is already present (the map is unchanged). */
static bool s_map_put_h (s_map_t *m, const char *key, uint32_t h, void *value);

static bool
s_map_put (s_map_t *m, const char *key, void *value)
{
    return s_map_put_h (m, key, (uint32_t) s_hash_str (key), value);
}

/*  m's slots moved into cap slots (a power of two, room for them all). */
static void
s_map_resize (s_map_t *m, size_t cap)
{
    s_slot_t *slots = wes_alloc (cap * sizeof (s_slot_t));
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].key) {
            size_t j = m->slots[i].hash & (cap - 1);
            while (slots[j].key) {
                j = (j + 1) & (cap - 1);
            }
            slots[j] = m->slots[i];
        }
    }
    free (m->slots);
    m->slots = slots;
    m->cap = cap;
}

static bool
s_map_put_h (s_map_t *m, const char *key, uint32_t h, void *value)
{
    if ((m->count + 1) * 10 > m->cap * 7) {
        s_map_resize (m, m->cap ? m->cap * 2 : 16);
    }
    size_t i = h & (m->cap - 1);
    while (m->slots[i].key) {
        if (m->slots[i].hash == h && wes_str_eq (m->slots[i].key, key)) {
            return false;
        }
        i = (i + 1) & (m->cap - 1);
    }
    if (m->borrowed) {
        m->slots[i].key = (char *)key;
    }
    else {
        if (!m->keys) {
            m->keys = wes_arena_new (S_MAP_KEY_BLOCK);
        }
        m->slots[i].key = wes_arena_strndup (m->keys, key, strlen (key));
    }
    m->slots[i].value = value;
    m->slots[i].hash = h;
    m->count++;
    return true;
}

/*  Room in m for n keys without growing. */
static void
s_map_reserve (s_map_t *m, size_t n)
{
    size_t cap = 16;
    while ((n + 1) * 10 > cap * 7) {
        cap *= 2;
    }
    if (cap > m->cap) {
        s_map_resize (m, cap);
    }
}

//  Empties m, keeping its slots when they are few (a map cleared often
//  must not pay for the one time it was big)
static void
s_map_clear (s_map_t *m)
{
    if (m->cap > S_MAP_KEEP_SLOTS) {
        free (m->slots);
        m->slots = NULL;
        m->cap = 0;
    }
    else if (m->count > 0) {
        memset (m->slots, 0, m->cap * sizeof (s_slot_t));
    }
    m->count = 0;
    if (m->keys) {
        wes_arena_reset (m->keys);
    }
}

static void
s_map_free (s_map_t *m)
{
    wes_arena_destroy (&m->keys);
    free (m->slots);
    memset (m, 0, sizeof *m);
}

static const char *
s_def_kind_name (wes_def_kind_t k)
{
    switch (k) {
    case WES_DEF_SCALAR:
        return "scalar";
    case WES_DEF_OBJECT:
        return "object type";
    case WES_DEF_INTERFACE:
        return "interface";
    case WES_DEF_UNION:
        return "union";
    case WES_DEF_ENUM:
        return "enum";
    case WES_DEF_INPUT:
        return "input type";
    case WES_DEF_DIRECTIVE:
        return "directive";
    case WES_DEF_SCHEMA:
    default:
        return "schema";
    }
}

static const char *
s_value_kind_name (wes_value_kind_t k)
{
    switch (k) {
    case WES_VALUE_VARIABLE:
        return "a variable";
    case WES_VALUE_INT:
        return "an Int";
    case WES_VALUE_FLOAT:
        return "a Float";
    case WES_VALUE_STRING:
        return "a String";
    case WES_VALUE_BOOLEAN:
        return "a Boolean";
    case WES_VALUE_NULL:
        return "null";
    case WES_VALUE_ENUM:
        return "an enum value";
    case WES_VALUE_LIST:
        return "a list";
    case WES_VALUE_OBJECT:
    default:
        return "an object";
    }
}

static const char *
s_arg_kind_name (s_arg_kind_t k)
{
    switch (k) {
    case S_ARG_STRING:
        return "a String";
    case S_ARG_BOOL:
        return "a Boolean";
    case S_ARG_STRINGS:
        return "a list of Strings";
    case S_ARG_WORD:
        return "a String or an enum value";
    case S_ARG_LITERAL:
    default:
        return "a String, number, Boolean or enum value";
    }
}

/*  Renders a GraphQL type reference as written: [String!]! */
static void
s_type_str (const wes_ast_type_t *t, wes_buf_t *out)
{
    if (!t) {
        return;
    }
    switch (t->kind) {
    case WES_TYPE_NAMED:
        wes_buf_puts (out, t->name.value ? t->name.value : "");
        break;
    case WES_TYPE_LIST:
        wes_buf_puts (out, "[");
        s_type_str (t->of, out);
        wes_buf_puts (out, "]");
        break;
    case WES_TYPE_NON_NULL:
        s_type_str (t->of, out);
        wes_buf_puts (out, "!");
        break;
    }
}

static char *
s_trim_dup (const char *s)
{
    while (*s && isspace ((unsigned char)*s)) {
        s++;
    }
    size_t n = strlen (s);
    while (n > 0 && isspace ((unsigned char)s[n - 1])) {
        n--;
    }
    return wes_strndup (s, n);
}

static void
s_pending_push (s_ctx_t *ctx, s_pending_t *p)
{
    //  Room for 8, then doubled when full (8, 16, 32, ...); a table's
    //  array before (the spare) has room for 8 or more
    size_t n = ctx->n_pending;
    if (n == 0 && !ctx->pending && ctx->spare_pending) {
        ctx->pending = ctx->spare_pending;
        ctx->spare_pending = NULL;
    }
    else if (n == 0 || (n >= 8 && (n & (n - 1)) == 0)) {
        size_t cap = n ? n * 2 : 8;
        ctx->pending = wes_realloc (ctx->pending, cap * sizeof (s_pending_t *));
    }
    p->seq = ctx->n_pending;
    ctx->pending[ctx->n_pending++] = p;
}

/* ---------------------------------------------------------------------- */
/*  Directives: specs, arguments, metadata                                 */

static const s_dir_spec_t *
s_spec_for (const char *name)
{
    /*  Runs for every directive of the schema: the name without "wes_"
        is looked up among the keys that start with its first byte; each
        key says whether it may be written with "wes_", without, or both.
        (test_compile's directive test checks every name of s_dirs.) */
    enum { S_BARE = 1, S_WES = 2, S_BOTH = 3 };
    static const struct {
        const char *key; /* a name without "wes_" */
        s_dir_id_t id;
        unsigned forms;  /* S_BARE, S_WES */
    } keys[] = {
        {"table", S_DIR_TABLE, S_BOTH},       {"tenant", S_DIR_TENANT, S_BOTH},
        {"column", S_DIR_COLUMN, S_WES},      {"check", S_DIR_CHECK, S_BOTH},
        {"pk", S_DIR_PK, S_BOTH},             {"primaryKey", S_DIR_PK, S_BARE},
        {"fk", S_DIR_FK, S_BOTH},             {"foreignKey", S_DIR_FK, S_BARE},
        {"unique", S_DIR_UNIQUE, S_BOTH},     {"index", S_DIR_INDEX, S_BOTH},
        {"default", S_DIR_DEFAULT, S_BOTH},   {"rls", S_DIR_RLS, S_BOTH},
        {"renamedFrom", S_DIR_RENAMED, S_WES}, {"hasMany", S_DIR_HAS_MANY, S_BOTH},
        {"hasOne", S_DIR_HAS_ONE, S_BOTH},    {"belongsTo", S_DIR_BELONGS_TO, S_BOTH},
    };
    //  Where each first byte's keys start in keys (they are grouped)
    static const unsigned char first[256] = {
        ['t'] = 1, ['c'] = 3, ['p'] = 5, ['f'] = 7, ['u'] = 9, ['i'] = 10,
        ['d'] = 11, ['r'] = 12, ['h'] = 14, ['b'] = 16,
    };
    bool wes = name[0] == 'w' && name[1] == 'e' && name[2] == 's' && name[3] == '_';
    const char *key = wes ? name + 4 : name;
    size_t k = first[(unsigned char) key[0]];
    if (k == 0) {
        return NULL;
    }
    for (k--; k < sizeof keys / sizeof keys[0] && keys[k].key[0] == key[0]; k++) {
        if (wes_str_eq (keys[k].key, key)) {
            if (!(keys[k].forms & (wes ? S_WES : S_BARE))) {
                return NULL;
            }
            const s_dir_spec_t *spec = &s_dirs[keys[k].id];
            wes_assert (spec->id == keys[k].id);
            return spec;
        }
    }
    return NULL;
}

static const s_arg_spec_t *
s_arg_spec (const s_dir_spec_t *spec, const char *name)
{
    for (size_t i = 0; spec->args[i].name; i++) {
        if (wes_str_eq (spec->args[i].name, name)) {
            return &spec->args[i];
        }
    }
    return NULL;
}

static bool
s_value_fits (s_arg_kind_t kind, const wes_ast_value_t *v)
{
    switch (kind) {
    case S_ARG_STRING:
        return v->kind == WES_VALUE_STRING;
    case S_ARG_BOOL:
        return v->kind == WES_VALUE_BOOLEAN;
    case S_ARG_STRINGS:
        if (v->kind == WES_VALUE_STRING) {
            return true;
        }
        if (v->kind != WES_VALUE_LIST) {
            return false;
        }
        for (const wes_ast_value_t *it = v->items; it; it = it->next) {
            if (it->kind != WES_VALUE_STRING) {
                return false;
            }
        }
        return true;
    case S_ARG_WORD:
        return v->kind == WES_VALUE_STRING || v->kind == WES_VALUE_ENUM;
    case S_ARG_LITERAL:
    default:
        return v->kind == WES_VALUE_STRING || v->kind == WES_VALUE_INT || v->kind == WES_VALUE_FLOAT
               || v->kind == WES_VALUE_BOOLEAN || v->kind == WES_VALUE_ENUM;
    }
}

/*  Checks a Wesley directive's arguments: known, once, of the right kind,
    required ones present. */
static void
s_check_args (s_ctx_t *ctx, const wes_ast_directive_t *d, const s_dir_spec_t *spec)
{
    const char *dn = d->name.value;
    for (const wes_ast_argument_t *a = d->args; a; a = a->next) {
        const s_arg_spec_t *as = s_arg_spec (spec, a->name.value);
        if (!as) {
            wes_buf_t *known = wes_buf_new ();
            for (size_t i = 0; spec->args[i].name; i++) {
                wes_buf_printf (known, "%s%s", i ? ", " : "", spec->args[i].name);
            }
            s_err (ctx, a->name.loc, "directive @%s has no argument %s (%s%s)", dn, a->name.value,
                   wes_buf_len (known) ? "it takes " : "it takes no arguments",
                   wes_buf_data (known));
            wes_buf_destroy (&known);
            continue;
        }
        for (const wes_ast_argument_t *b = d->args; b != a; b = b->next) {
            if (wes_str_eq (b->name.value, a->name.value)) {
                s_err (ctx, a->name.loc, "directive @%s: argument %s given twice", dn,
                       a->name.value);
                break;
            }
        }
        const wes_ast_value_t *v = a->value;
        if (!v) {
            continue;
        }
        if (v->kind == WES_VALUE_NULL) {
            if (as->required) {
                s_err (ctx, v->loc, "directive @%s argument %s: expected %s, found null", dn,
                       as->name, s_arg_kind_name (as->kind));
            }
            continue;
        }
        if (!s_value_fits (as->kind, v)) {
            const wes_ast_value_t *shown = v;
            if (v->kind == WES_VALUE_LIST && as->kind == S_ARG_STRINGS) {
                for (const wes_ast_value_t *it = v->items; it; it = it->next) {
                    if (it->kind != WES_VALUE_STRING) {
                        shown = it;
                        break;
                    }
                }
                s_err (ctx, shown->loc,
                       "directive @%s argument %s: expected %s, found a list holding %s%s%s", dn,
                       as->name, s_arg_kind_name (as->kind), s_value_kind_name (shown->kind),
                       shown->text ? " " : "", shown->text ? shown->text : "");
            }
            else {
                s_err (ctx, v->loc, "directive @%s argument %s: expected %s, found %s%s%s", dn,
                       as->name, s_arg_kind_name (as->kind), s_value_kind_name (v->kind),
                       v->text && v->kind != WES_VALUE_STRING ? " " : "",
                       v->text && v->kind != WES_VALUE_STRING ? v->text : "");
            }
        }
    }
    for (size_t i = 0; spec->args[i].name; i++) {
        if (spec->args[i].required && !wes_ast_find_argument (d->args, spec->args[i].name)) {
            s_err (ctx, d->loc, "directive @%s needs argument %s (%s)", dn, spec->args[i].name,
                   s_arg_kind_name (spec->args[i].kind));
        }
    }
}

/*  The value of argument name when it has the kind the spec wants (errors
    were reported by s_check_args), else NULL. */
static const wes_ast_value_t *
s_arg (const wes_ast_directive_t *d, const char *name)
{
    const wes_ast_argument_t *a = wes_ast_find_argument (d->args, name);
    if (!a || !a->value || a->value->kind == WES_VALUE_NULL) {
        return NULL;
    }
    const s_dir_spec_t *spec = s_spec_for (d->name.value);
    const s_arg_spec_t *as = spec ? s_arg_spec (spec, name) : NULL;
    if (as && !s_value_fits (as->kind, a->value)) {
        return NULL;
    }
    return a->value;
}

static const char *
s_arg_str (const wes_ast_directive_t *d, const char *name)
{
    const wes_ast_value_t *v = s_arg (d, name);
    return v && (v->kind == WES_VALUE_STRING || v->kind == WES_VALUE_ENUM) ? v->text : NULL;
}

static bool
s_arg_bool (const wes_ast_directive_t *d, const char *name, bool dflt)
{
    const wes_ast_value_t *v = s_arg (d, name);
    return v && v->kind == WES_VALUE_BOOLEAN ? v->boolean : dflt;
}

static wes_loc_t
s_arg_loc (const wes_ast_directive_t *d, const char *name)
{
    const wes_ast_argument_t *a = wes_ast_find_argument (d->args, name);
    return a && a->value ? a->value->loc : d->loc;
}

static json_t *
s_value_json (const wes_ast_value_t *v)
{
    switch (v->kind) {
    case WES_VALUE_INT: {
        char *end = NULL;
        long long x = strtoll (v->text, &end, 10);
        if (end && *end == '\0') {
            return json_integer ((json_int_t)x);
        }
        return json_string (v->text);
    }
    case WES_VALUE_FLOAT:
        return json_real (strtod (v->text, NULL));
    case WES_VALUE_STRING:
    case WES_VALUE_ENUM:
        return json_string (v->text ? v->text : "");
    case WES_VALUE_VARIABLE: {
        wes_buf_t *b = wes_buf_new ();
        wes_buf_printf (b, "$%s", v->text ? v->text : "");
        json_t *j = json_string (wes_buf_data (b));
        wes_buf_destroy (&b);
        return j;
    }
    case WES_VALUE_BOOLEAN:
        return json_boolean (v->boolean);
    case WES_VALUE_LIST: {
        json_t *a = json_array ();
        for (const wes_ast_value_t *it = v->items; it; it = it->next) {
            json_array_append_new (a, s_value_json (it));
        }
        return a;
    }
    case WES_VALUE_OBJECT: {
        json_t *o = json_object ();
        for (const wes_ast_object_field_t *f = v->fields; f; f = f->next) {
            json_object_set_new (o, f->name.value,
                                 f->value ? s_value_json (f->value) : json_null ());
        }
        return o;
    }
    case WES_VALUE_NULL:
    default:
        return json_null ();
    }
}

/*  Adds a metadata directive to meta: {"name": {args}}; a repeated one
    becomes a list of argument objects. */
static void
s_meta_add (json_t *meta, const wes_ast_directive_t *d)
{
    json_t *args = json_object ();
    for (const wes_ast_argument_t *a = d->args; a; a = a->next) {
        json_object_set_new (args, a->name.value,
                             a->value ? s_value_json (a->value) : json_null ());
    }
    json_t *old = json_object_get (meta, d->name.value);
    if (!old) {
        json_object_set_new (meta, d->name.value, args);
    }
    else if (json_is_array (old)) {
        json_array_append_new (old, args);
    }
    else {
        json_t *list = json_array ();
        json_array_append (list, old);
        json_array_append_new (list, args);
        json_object_set_new (meta, d->name.value, list);
    }
}

/*  Edit distance between a and b, or max + 1 once it exceeds max. */
static size_t
s_distance (const char *a, const char *b, size_t max)
{
    size_t la = strlen (a), lb = strlen (b);
    if (la > lb + max || lb > la + max || lb >= 64) {
        return max + 1;
    }
    size_t row[65];
    for (size_t j = 0; j <= lb; j++) {
        row[j] = j;
    }
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        size_t best = row[0];
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost =
                tolower ((unsigned char)a[i - 1]) == tolower ((unsigned char)b[j - 1]) ? 0 : 1;
            size_t v = diag + cost;
            if (up + 1 < v) {
                v = up + 1;
            }
            if (row[j - 1] + 1 < v) {
                v = row[j - 1] + 1;
            }
            row[j] = v;
            diag = up;
            if (v < best) {
                best = v;
            }
        }
        if (best > max) {
            return max + 1;
        }
    }
    return row[lb];
}

/*  The Wesley directive name closest to an unknown one (a likely typo:
    @wes_uniq, @primarykey), or NULL. */
static const char *
s_suggest (const char *name)
{
    const char *best = NULL;
    size_t best_d = 3;
    for (size_t i = 0; i < sizeof s_dirs / sizeof s_dirs[0]; i++) {
        for (size_t j = 0; j < 4 && s_dirs[i].names[j]; j++) {
            const char *cand = s_dirs[i].names[j];
            size_t max = strlen (cand) <= 4 ? 1 : 2;
            size_t d = s_distance (name, cand, max);
            if (d <= max && d < best_d) {
                best = cand;
                best_d = d;
            }
        }
    }
    return best;
}

static bool
s_is_known_meta (s_ctx_t *ctx, const char *name)
{
    for (size_t i = 0; i < sizeof s_known_meta / sizeof s_known_meta[0]; i++) {
        if (s_known_meta[i][0] == name[0] && wes_str_eq (s_known_meta[i], name)) {
            return true;
        }
    }
    return s_map_get (&ctx->declared, name) != NULL;
}

/*  x in decimal into out (at least 21 bytes, NUL-terminated), as "%lld"
    writes it; returns its length. */
static size_t
s_lltoa (char *out, long long x)
{
    unsigned long long u = x < 0 ? 0ull - (unsigned long long) x : (unsigned long long) x;
    char digits[20];
    size_t k = sizeof digits;
    do {
        digits[--k] = (char) ('0' + u % 10);
        u /= 10;
    } while (u > 0);
    size_t n = 0;
    if (x < 0) {
        out[n++] = '-';
    }
    memcpy (out + n, digits + k, sizeof digits - k);
    n += sizeof digits - k;
    out[n] = '\0';
    return n;
}

/*  Scans the directive lists of one element (a type and its extensions, or
    one field). Wesley directives are checked (location, repetition,
    arguments) and returned in found; others go to meta (when given) and
    warn unless known. loc_name is GraphQL's name for the location; owner
    describes the element for messages. table_ctx says whether the element
    belongs to a table. */
/*  Appends data to out (size bytes, *len used); false when it does not fit. */
static bool
s_meta_put (char *out, size_t size, size_t *len, const char *data, size_t n)
{
    if (*len + n >= size) {
        return false;
    }
    memcpy (out + *len, data, n);
    *len += n;
    return true;
}

/*  The metadata directives among lists (those that are no Wesley
    directive) as the compact, key-sorted JSON text wes_model_put_directives
    keeps, written straight from the AST when that is simple: each
    directive once, each argument once, every value a string of printable
    ASCII without quote or backslash, an integer, a boolean or null (what
    metadata almost always is). False when it is not (the caller then
    builds it with jansson); *len 0 for none. */
static bool
s_meta_text (const wes_ast_directive_t *const *lists, size_t n_lists, char *out, size_t size,
             size_t *len)
{
    const wes_ast_directive_t *dirs[16];
    size_t n = 0;
    *len = 0;
    for (size_t l = 0; l < n_lists; l++) {
        for (const wes_ast_directive_t *d = lists[l]; d; d = d->next) {
            if (s_spec_for (d->name.value)) {
                continue;
            }
            if (n == sizeof dirs / sizeof dirs[0]) {
                return false;
            }
            //  Sorted by name as it goes; a name twice makes a list: jansson's
            size_t at = n++;
            while (at > 0 && wes_str_cmp (dirs[at - 1]->name.value, d->name.value) > 0) {
                dirs[at] = dirs[at - 1];
                at--;
            }
            if (at > 0 && wes_str_eq (dirs[at - 1]->name.value, d->name.value)) {
                return false;
            }
            if (at + 1 < n && wes_str_eq (dirs[at + 1]->name.value, d->name.value)) {
                return false;
            }
            dirs[at] = d;
        }
    }
    if (n == 0) {
        return true;
    }
    s_meta_put (out, size, len, "{", 1);
    for (size_t i = 0; i < n; i++) {
        const wes_ast_argument_t *args[16];
        size_t na = 0;
        for (const wes_ast_argument_t *a = dirs[i]->args; a; a = a->next) {
            if (na == sizeof args / sizeof args[0]) {
                return false;
            }
            size_t at = na++;
            while (at > 0 && wes_str_cmp (args[at - 1]->name.value, a->name.value) > 0) {
                args[at] = args[at - 1];
                at--;
            }
            if ((at > 0 && wes_str_eq (args[at - 1]->name.value, a->name.value))
                || (at + 1 < na && wes_str_eq (args[at + 1]->name.value, a->name.value))) {
                return false;
            }
            args[at] = a;
        }
        const char *dn = dirs[i]->name.value;
        if ((i > 0 && !s_meta_put (out, size, len, ",", 1)) || !s_meta_put (out, size, len, "\"", 1)
            || !s_meta_put (out, size, len, dn, strlen (dn))
            || !s_meta_put (out, size, len, "\":{", 3)) {
            return false;
        }
        for (size_t k = 0; k < na; k++) {
            const wes_ast_argument_t *a = args[k];
            const wes_ast_value_t *v = a->value;
            if ((k > 0 && !s_meta_put (out, size, len, ",", 1))
                || !s_meta_put (out, size, len, "\"", 1)
                || !s_meta_put (out, size, len, a->name.value, strlen (a->name.value))
                || !s_meta_put (out, size, len, "\":", 2)) {
                return false;
            }
            char num[32];
            if (!v || v->kind == WES_VALUE_NULL) {
                if (!s_meta_put (out, size, len, "null", 4)) {
                    return false;
                }
            }
            else if (v->kind == WES_VALUE_BOOLEAN) {
                const char *b = v->boolean ? "true" : "false";
                if (!s_meta_put (out, size, len, b, strlen (b))) {
                    return false;
                }
            }
            else if (v->kind == WES_VALUE_INT) {
                char *end = NULL;
                errno = 0;
                long long x = strtoll (v->text, &end, 10);
                if (errno != 0 || !end || *end != '\0') {
                    return false;
                }
                size_t w = s_lltoa (num, x);
                if (!s_meta_put (out, size, len, num, w)) {
                    return false;
                }
            }
            else if (v->kind == WES_VALUE_STRING || v->kind == WES_VALUE_ENUM) {
                const char *t = v->text ? v->text : "";
                for (const char *q = t; *q; q++) {
                    if (*q < 0x20 || *q > 0x7e || *q == '"' || *q == '\\') {
                        return false;
                    }
                }
                if (!s_meta_put (out, size, len, "\"", 1) || !s_meta_put (out, size, len, t, strlen (t))
                    || !s_meta_put (out, size, len, "\"", 1)) {
                    return false;
                }
            }
            else {
                return false;
            }
        }
        if (!s_meta_put (out, size, len, "}", 1)) {
            return false;
        }
    }
    if (!s_meta_put (out, size, len, "}", 1)) {
        return false;
    }
    out[*len] = '\0';
    return true;
}

/*  The metadata directives among lists (those that are no Wesley
    directive) as a JSON object, as s_scan gathers them; NULL for none. */
static json_t *
s_meta_json (const wes_ast_directive_t *const *lists, size_t n_lists)
{
    json_t *meta = NULL;
    for (size_t l = 0; l < n_lists; l++) {
        for (const wes_ast_directive_t *d = lists[l]; d; d = d->next) {
            if (!s_spec_for (d->name.value)) {
                if (!meta) {
                    meta = json_object ();
                    wes_assert (meta);
                }
                s_meta_add (meta, d);
            }
        }
    }
    return meta;
}

static void
s_scan (s_ctx_t *ctx, const wes_ast_directive_t *const *lists, size_t n_lists, unsigned loc,
        const char *loc_name, const s_owner_t *owner, bool table_ctx, json_t **meta,
        s_found_list_t *found)
{
    if (found) {
        found->items = NULL;
        found->count = 0;
        found->n_meta = 0;
    }
    char text[512]; /* the owner's words, for a message */
    size_t total = 0;
    for (size_t l = 0; l < n_lists; l++) {
        for (const wes_ast_directive_t *d = lists[l]; d; d = d->next) {
            total++;
        }
    }
    if (found && total) {
        found->items = total <= sizeof found->inline_items / sizeof found->inline_items[0]
                           ? found->inline_items
                           : wes_alloc (total * sizeof (s_found_t));
    }
    for (size_t l = 0; l < n_lists; l++) {
        for (const wes_ast_directive_t *d = lists[l]; d; d = d->next) {
            const char *name = d->name.value;
            const s_dir_spec_t *spec = s_spec_for (name);
            if (!spec) {
                if (found) {
                    found->n_meta++;
                }
                if (!s_is_known_meta (ctx, name)) {
                    const char *guess = s_suggest (name);
                    s_warn (ctx, d->loc, "unknown directive @%s kept as metadata%s%s%s", name,
                            guess ? " (did you mean @" : "", guess ? guess : "", guess ? "?)" : "");
                }
                if (meta) {
                    if (!*meta) {
                        *meta = json_object ();
                        wes_assert (*meta);
                    }
                    s_meta_add (*meta, d);
                }
                continue;
            }
            if (!(spec->locations & loc)) {
                s_err (ctx, d->loc, "directive @%s is not allowed on %s (%s)", name, loc_name,
                       spec->locations == S_LOC_OBJECT  ? "only on object types"
                       : spec->locations == S_LOC_FIELD ? "only on fields of object types"
                                                        : "only on object types and their fields");
                continue;
            }
            if (!table_ctx && spec->id != S_DIR_TABLE) {
                s_err (ctx, d->loc,
                       "directive @%s on %s, which is not a table (add @wes_table to the type)",
                       name, s_owner_text (owner, text, sizeof text));
                continue;
            }
            /*  Repetition counts aliases together: @wes_pk @pk is twice. */
            if (!spec->repeatable && found) {
                bool twice = false;
                for (size_t i = 0; i < found->count; i++) {
                    if (found->items[i].spec == spec) {
                        twice = true;
                    }
                }
                if (twice) {
                    s_err (ctx, d->loc, "directive @%s given twice on %s", name,
                           s_owner_text (owner, text, sizeof text));
                    continue;
                }
            }
            s_check_args (ctx, d, spec);
            if (found) {
                found->items[found->count].dir = d;
                found->items[found->count].spec = spec;
                found->count++;
            }
        }
    }
}

static void
s_found_free (s_found_list_t *fl)
{
    if (fl->items != fl->inline_items) {
        free (fl->items);
    }
    fl->items = NULL;
    fl->count = 0;
}

static const wes_ast_directive_t *
s_found (const s_found_list_t *fl, s_dir_id_t id)
{
    for (size_t i = 0; i < fl->count; i++) {
        if (fl->items[i].spec->id == id) {
            return fl->items[i].dir;
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------------- */
/*  Types, extensions, declarations                                        */

static s_type_t *
s_type_add (s_ctx_t *ctx, const char *name, wes_def_kind_t kind, const wes_ast_def_t *def)
{
    if (!ctx->type_arena) {
        ctx->type_arena = wes_arena_new (0);
    }
    s_type_t *ty = wes_arena_alloc (ctx->type_arena, sizeof (s_type_t));
    ty->name = name;
    ty->kind = kind;
    ty->def = def;
    ty->index = ctx->n_types;
    ty->defined = def != NULL;
    ty->offset = def ? def->offset : 0;
    if ((ctx->n_types & (ctx->n_types - 1)) == 0) {
        size_t cap = ctx->n_types ? ctx->n_types * 2 : 16;
        ctx->types = wes_realloc (ctx->types, cap * sizeof (s_type_t *));
    }
    ctx->types[ctx->n_types++] = ty;
    s_map_put (&ctx->type_map, name, ty);
    return ty;
}

static void
s_collect_types (s_ctx_t *ctx, const wes_ast_doc_t *doc)
{
    static const char *builtins[] = {"String", "Int", "Float", "Boolean", "ID"};
    //  Keys are the AST's names and the types' SQL names: they outlive the
    //  maps. The maps are made big enough at once
    size_t n = wes_ast_doc_count (doc) + sizeof builtins / sizeof builtins[0];
    ctx->type_map.borrowed = true;
    ctx->table_names.borrowed = true;
    ctx->enum_names.borrowed = true;
    s_map_reserve (&ctx->type_map, n);
    s_map_reserve (&ctx->table_names, n);
    s_map_reserve (&ctx->relnames, n);
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        s_type_add (ctx, builtins[i], WES_DEF_SCALAR, NULL);
    }
    for (const wes_ast_def_t *def = wes_ast_doc_defs (doc); def; def = def->next) {
        if (def->kind == WES_DEF_SCHEMA || def->extend) {
            continue;
        }
        if (def->kind == WES_DEF_DIRECTIVE) {
            const wes_ast_def_t *first = s_map_get (&ctx->declared, def->name.value);
            if (first) {
                s_err (ctx, def->name.loc, "directive @%s is declared twice (first at %u:%u)",
                       def->name.value, first->name.loc.start.line, first->name.loc.start.col);
            }
            else {
                s_map_put (&ctx->declared, def->name.value, (void *)def);
            }
            continue;
        }
        s_type_t *old = s_map_get (&ctx->type_map, def->name.value);
        if (old && !old->def && def->kind == WES_DEF_SCALAR) {
            old->def = def; /* `scalar String` restates a built-in */
            continue;
        }
        if (old) {
            if (old->def) {
                s_err (ctx, def->name.loc, "type %s is defined twice (first at %u:%u)",
                       def->name.value, old->def->name.loc.start.line,
                       old->def->name.loc.start.col);
            }
            else {
                s_err (ctx, def->name.loc, "type %s is a built-in scalar and cannot be redefined",
                       def->name.value);
            }
            continue;
        }
        s_type_add (ctx, def->name.value, def->kind, def);
    }
    /*  Extensions attach to their type, wherever it is defined. */
    for (const wes_ast_def_t *def = wes_ast_doc_defs (doc); def; def = def->next) {
        if (!def->extend || def->kind == WES_DEF_SCHEMA) {
            continue;
        }
        s_type_t *ty = s_map_get (&ctx->type_map, def->name.value);
        if (!ty) {
            s_err (ctx, def->name.loc, "cannot extend %s %s: it is not defined",
                   s_def_kind_name (def->kind), def->name.value);
            continue;
        }
        if (ty->kind != def->kind) {
            s_err (ctx, def->name.loc, "cannot extend %s %s as %s %s", s_def_kind_name (ty->kind),
                   def->name.value,
                   def->kind == WES_DEF_INTERFACE || def->kind == WES_DEF_ENUM ? "an" : "a",
                   s_def_kind_name (def->kind));
            continue;
        }
        if ((ty->n_exts & (ty->n_exts - 1)) == 0) {
            size_t cap = ty->n_exts ? ty->n_exts * 2 : 2;
            ty->exts = wes_realloc (ty->exts, cap * sizeof (wes_ast_def_t *));
        }
        ty->exts[ty->n_exts++] = def;
    }
}

static unsigned
s_location_bit (const char *name)
{
    if (wes_str_eq (name, "OBJECT")) {
        return S_LOC_OBJECT;
    }
    if (wes_str_eq (name, "FIELD_DEFINITION")) {
        return S_LOC_FIELD;
    }
    return S_LOC_OTHER;
}

static const char *
s_spec_locations (const s_dir_spec_t *spec)
{
    if (spec->locations == (S_LOC_OBJECT | S_LOC_FIELD)) {
        return "OBJECT | FIELD_DEFINITION";
    }
    return spec->locations == S_LOC_OBJECT ? "OBJECT" : "FIELD_DEFINITION";
}

/*  Whether a declared argument type agrees with what Wesley accepts. */
static bool
s_decl_type_ok (s_ctx_t *ctx, s_arg_kind_t kind, const wes_ast_type_t *t)
{
    if (t && t->kind == WES_TYPE_NON_NULL) {
        t = t->of;
    }
    if (!t) {
        return false;
    }
    if (kind == S_ARG_STRINGS && t->kind == WES_TYPE_LIST) {
        t = t->of;
        if (t && t->kind == WES_TYPE_NON_NULL) {
            t = t->of;
        }
        return t && t->kind == WES_TYPE_NAMED && wes_str_eq (t->name.value, "String");
    }
    if (t->kind != WES_TYPE_NAMED) {
        return false;
    }
    const char *n = t->name.value;
    switch (kind) {
    case S_ARG_STRING:
    case S_ARG_STRINGS:
        return wes_str_eq (n, "String");
    case S_ARG_BOOL:
        return wes_str_eq (n, "Boolean");
    case S_ARG_WORD: {
        s_type_t *ty = s_map_get (&ctx->type_map, n);
        return wes_str_eq (n, "String") || (ty && ty->kind == WES_DEF_ENUM);
    }
    case S_ARG_LITERAL:
    default:
        return true;
    }
}

/*  A document may declare Wesley's directives; the declaration must agree
    with Wesley's (locations, arguments and their types). */
static void
s_check_declarations (s_ctx_t *ctx, const wes_ast_doc_t *doc)
{
    for (const wes_ast_def_t *def = wes_ast_doc_defs (doc); def; def = def->next) {
        if (def->kind != WES_DEF_DIRECTIVE || def->extend) {
            continue;
        }
        const s_dir_spec_t *spec = s_spec_for (def->name.value);
        if (!spec) {
            continue;
        }
        const char *dn = def->name.value;
        for (const wes_ast_name_t *l = def->locations; l; l = l->next) {
            if (!(s_location_bit (l->value) & spec->locations)) {
                s_err (ctx, l->loc,
                       "directive @%s is declared on %s, but Wesley's @%s is allowed only on %s",
                       dn, l->value, dn, s_spec_locations (spec));
            }
        }
        if (def->repeatable && !spec->repeatable) {
            s_err (ctx, def->name.loc,
                   "directive @%s is declared repeatable, but Wesley's @%s is not", dn, dn);
        }
        for (const wes_ast_input_value_t *a = def->args; a; a = a->next) {
            const s_arg_spec_t *as = s_arg_spec (spec, a->name.value);
            if (!as) {
                s_err (ctx, a->name.loc,
                       "directive @%s is declared with argument %s, which Wesley's @%s does "
                       "not take",
                       dn, a->name.value, dn);
                continue;
            }
            if (!s_decl_type_ok (ctx, as->kind, a->type)) {
                wes_buf_t *b = wes_buf_new ();
                s_type_str (a->type, b);
                s_err (ctx, a->type ? a->type->loc : a->loc,
                       "directive @%s is declared with argument %s: %s, but Wesley expects %s", dn,
                       a->name.value, wes_buf_data (b), s_arg_kind_name (as->kind));
                wes_buf_destroy (&b);
            }
        }
        for (size_t i = 0; spec->args[i].name; i++) {
            if (!spec->args[i].required) {
                continue;
            }
            bool present = false;
            for (const wes_ast_input_value_t *a = def->args; a; a = a->next) {
                if (wes_str_eq (a->name.value, spec->args[i].name)) {
                    present = true;
                }
            }
            if (!present) {
                s_err (ctx, def->name.loc,
                       "directive @%s is declared without argument %s, which Wesley's @%s "
                       "requires",
                       dn, spec->args[i].name, dn);
            }
        }
    }
}

/*  The directive lists of a type and its extensions. Caller frees. */
static const wes_ast_directive_t **
s_type_dir_lists (const s_type_t *ty, size_t *n)
{
    const wes_ast_directive_t **lists = wes_alloc ((ty->n_exts + 1) * sizeof (void *));
    lists[0] = ty->def ? ty->def->directives : NULL;
    for (size_t i = 0; i < ty->n_exts; i++) {
        lists[i + 1] = ty->exts[i]->directives;
    }
    *n = ty->n_exts + 1;
    return lists;
}

/*  The model's table of type ty (in ctx->model). */
static void
s_new_table (s_ctx_t *ctx, s_type_t *ty)
{
    ty->table = wes_model_add_table (ctx->model, ty->sql_name);
    wes_assert (ty->table);
    wes_model_put_str (ctx->model, &ty->table->gql_name, ty->name);
    ty->table->pos = s_pos (ty->def->name.loc);
}

/*  Tables and enum type names. */
static void
s_classify (s_ctx_t *ctx)
{
    for (size_t i = 0; i < ctx->n_types; i++) {
        s_type_t *ty = ctx->types[i];
        if (!ty->def || (ty->kind != WES_DEF_OBJECT && ty->kind != WES_DEF_ENUM)) {
            continue;
        }
        wes_loc_t where = ty->def->name.loc;
        if (ty->kind == WES_DEF_OBJECT) {
            //  The definition's directives, then its extensions'
            for (size_t l = 0; l <= ty->n_exts && !ty->table_dir; l++) {
                const wes_ast_directive_t *d = l == 0 ? ty->def->directives
                                                      : ty->exts[l - 1]->directives;
                for (; d; d = d->next) {
                    const s_dir_spec_t *spec = s_spec_for (d->name.value);
                    if (spec && spec->id == S_DIR_TABLE) {
                        ty->table_dir = d;
                        break;
                    }
                }
            }
            if (!ty->table_dir) {
                continue;
            }
            ty->is_table = true;
            const char *given = s_arg_str (ty->table_dir, "name");
            if (given) {
                where = s_arg_loc (ty->table_dir, "name");
            }
            ty->sql_name = given ? wes_strdup (given) : s_snake_exact (ty->name);
        }
        else {
            ty->sql_name = s_snake_exact (ty->name);
        }
        const char *what = ty->kind == WES_DEF_OBJECT ? "table" : "enum type";
        if (!wes_name_fits (ty->sql_name)) {
            if (ty->sql_name[0] == '\0') {
                s_err (ctx, where, "%s name of %s is empty", what, ty->name);
            }
            else {
                s_err (ctx, where, "%s name %s is %zu bytes, longer than PostgreSQL's %u", what,
                       ty->sql_name, strlen (ty->sql_name), WES_MAX_IDENT_BYTES);
            }
            continue;
        }
        /*  A table's row type shares the type namespace with enums. */
        s_type_t *clash = s_map_get (&ctx->table_names, ty->sql_name);
        if (!clash) {
            clash = s_map_get (&ctx->enum_names, ty->sql_name);
        }
        if (clash) {
            s_err (ctx, where, "%s name %s of %s %s is already used by %s %s (line %u)", what,
                   ty->sql_name, s_def_kind_name (ty->kind), ty->name,
                   s_def_kind_name (clash->kind), clash->name, clash->def->name.loc.start.line);
            continue;
        }
        ty->named = true;
        if (ty->kind == WES_DEF_OBJECT) {
            s_map_put (&ctx->table_names, ty->sql_name, ty);
            s_bits_add (&ctx->tblbits, s_hash_str (ty->sql_name));
            s_map_put (&ctx->relnames, ty->sql_name, NULL);
            if (!ctx->stream) { /* streaming: made when it is built */
                s_new_table (ctx, ty);
            }
        }
        else {
            s_map_put (&ctx->enum_names, ty->sql_name, ty);
            ty->enm = wes_model_add_enum (ctx->model, ty->sql_name);
            wes_assert (ty->enm);
            wes_model_put_str (ctx->model, &ty->enm->gql_name, ty->name);
            ty->enm->pos = s_pos (ty->def->name.loc);
        }
    }
}

/* ---------------------------------------------------------------------- */
/*  Enums and types that are not tables                                    */

static void
s_scan_values (s_ctx_t *ctx, s_type_t *ty, const wes_ast_enum_value_t *v, s_map_t *seen)
{
    for (; v; v = v->next) {
        s_owner_t owner = {"enum value", ty->name, v->name.value};
        const wes_ast_directive_t *lists[1] = {v->directives};
        s_scan (ctx, lists, 1, S_LOC_OTHER, "ENUM_VALUE", &owner, false, NULL, NULL);
        const wes_ast_enum_value_t *first = s_map_get (seen, v->name.value);
        if (first) {
            s_err (ctx, v->name.loc, "enum %s has value %s twice (first at %u:%u)", ty->name,
                   v->name.value, first->name.loc.start.line, first->name.loc.start.col);
            continue;
        }
        s_map_put (seen, v->name.value, (void *)v);
        if (strlen (v->name.value) > WES_MAX_IDENT_BYTES) {
            s_err (ctx, v->name.loc, "enum %s value %s is %zu bytes, longer than PostgreSQL's %u",
                   ty->name, v->name.value, strlen (v->name.value), WES_MAX_IDENT_BYTES);
            continue;
        }
        if (ty->enm) {
            wes_enum_add_value (ty->enm, v->name.value);
        }
    }
}

/*  Scans the fields of a type that is not a table (Query, inputs, ...):
    Wesley directives there are errors, unknown ones warnings. */
static void
s_scan_fields_other (s_ctx_t *ctx, s_type_t *ty, const wes_ast_field_t *f)
{
    for (; f; f = f->next) {
        s_owner_t owner = {"field", ty->name, f->name.value};
        const wes_ast_directive_t *lists[1] = {f->directives};
        s_scan (ctx, lists, 1, ty->kind == WES_DEF_OBJECT ? S_LOC_FIELD : S_LOC_OTHER,
                "FIELD_DEFINITION", &owner, false, NULL, NULL);
        for (const wes_ast_input_value_t *a = f->args; a; a = a->next) {
            const wes_ast_directive_t *al[1] = {a->directives};
            s_scan (ctx, al, 1, S_LOC_OTHER, "ARGUMENT_DEFINITION", &owner, false, NULL, NULL);
        }
    }
}

static void
s_scan_inputs_other (s_ctx_t *ctx, s_type_t *ty, const wes_ast_input_value_t *a)
{
    for (; a; a = a->next) {
        s_owner_t owner = {"input field", ty->name, a->name.value};
        const wes_ast_directive_t *lists[1] = {a->directives};
        s_scan (ctx, lists, 1, S_LOC_OTHER, "INPUT_FIELD_DEFINITION", &owner, false, NULL, NULL);
    }
}

static const char *
s_kind_location (wes_def_kind_t k)
{
    switch (k) {
    case WES_DEF_SCALAR:
        return "SCALAR";
    case WES_DEF_OBJECT:
        return "OBJECT";
    case WES_DEF_INTERFACE:
        return "INTERFACE";
    case WES_DEF_UNION:
        return "UNION";
    case WES_DEF_ENUM:
        return "ENUM";
    case WES_DEF_INPUT:
        return "INPUT_OBJECT";
    case WES_DEF_SCHEMA:
        return "SCHEMA";
    case WES_DEF_DIRECTIVE:
    default:
        return "DIRECTIVE";
    }
}

static void
s_scan_other (s_ctx_t *ctx, s_type_t *ty)
{
    s_owner_t owner = {s_def_kind_name (ty->kind), ty->name, NULL};
    size_t n = 0;
    const wes_ast_directive_t **lists = s_type_dir_lists (ty, &n);
    s_scan (ctx, lists, n, ty->kind == WES_DEF_OBJECT ? S_LOC_OBJECT : S_LOC_OTHER,
            s_kind_location (ty->kind), &owner, false, NULL, NULL);
    free (lists);
    s_map_t seen_values;
    memset (&seen_values, 0, sizeof seen_values);
    seen_values.borrowed = true; /* the values' names are the AST's */
    for (size_t i = 0; i <= ty->n_exts; i++) {
        const wes_ast_def_t *def = i == 0 ? ty->def : ty->exts[i - 1];
        if (ty->kind == WES_DEF_ENUM) {
            s_scan_values (ctx, ty, def->values, &seen_values);
        }
        else if (ty->kind == WES_DEF_OBJECT || ty->kind == WES_DEF_INTERFACE) {
            s_scan_fields_other (ctx, ty, def->fields);
        }
        else if (ty->kind == WES_DEF_INPUT) {
            s_scan_inputs_other (ctx, ty, def->input_fields);
        }
    }
    s_map_free (&seen_values);
}

/*  Directives on the schema definition and in directive declarations'
    arguments. */
static void
s_scan_doc_misc (s_ctx_t *ctx, const wes_ast_doc_t *doc)
{
    for (const wes_ast_def_t *def = wes_ast_doc_defs (doc); def; def = def->next) {
        if (def->kind == WES_DEF_SCHEMA) {
            const wes_ast_directive_t *lists[1] = {def->directives};
            s_owner_t owner = {"the schema definition", NULL, NULL};
            s_scan (ctx, lists, 1, S_LOC_OTHER, "SCHEMA", &owner, false, NULL, NULL);
        }
        else if (def->kind == WES_DEF_DIRECTIVE) {
            for (const wes_ast_input_value_t *a = def->args; a; a = a->next) {
                const wes_ast_directive_t *lists[1] = {a->directives};
                s_owner_t owner = {"a directive argument", NULL, NULL};
                s_scan (ctx, lists, 1, S_LOC_OTHER, "ARGUMENT_DEFINITION", &owner, false, NULL,
                        NULL);
            }
        }
    }
}

/* ---------------------------------------------------------------------- */
/*  Tables                                                                 */

/*  A table's column for a GraphQL field name (or, failing that, a column
    name). */
static wes_column_t *
s_column_for_field (const wes_table_t *t, const char *field)
{
    for (size_t i = 0; i < t->n_columns; i++) {
        if (t->columns[i]->gql_name && wes_str_eq (t->columns[i]->gql_name, field)) {
            return t->columns[i];
        }
    }
    return wes_table_find_column (t, field);
}

/*  Reports that type ty has no column for GraphQL field `field`, named in
    argument arg of directive d. A relation field gets its own message; a
    field whose column was refused was reported already and is not
    reported again. */
static void
s_no_column (s_ctx_t *ctx, const s_type_t *ty, const char *field, wes_loc_t loc, const char *dname,
             const char *arg)
{
    size_t i;
    json_t *r;
    json_array_foreach (ty->table->relations, i, r)
    {
        const char *f = json_string_value (json_object_get (r, "field"));
        if (f && wes_str_eq (f, field)) {
            s_err (ctx, loc, "directive @%s %s: field %s.%s is a relation, not a column", dname,
                   arg, ty->name, field);
            return;
        }
    }
    for (size_t k = 0; k <= ty->n_exts; k++) {
        const wes_ast_def_t *def = k == 0 ? ty->def : ty->exts[k - 1];
        for (const wes_ast_field_t *f = def->fields; f; f = f->next) {
            if (wes_str_eq (f->name.value, field)) {
                return;
            }
        }
    }
    s_err (ctx, loc, "directive @%s %s: type %s has no column field %s", dname, arg, ty->name,
           field);
}

static bool
s_check_name (s_ctx_t *ctx, const char *name, const char *what, wes_loc_t loc)
{
    if (wes_name_fits (name)) {
        return true;
    }
    if (name[0] == '\0') {
        s_err (ctx, loc, "%s name is empty", what);
    }
    else {
        s_err (ctx, loc, "%s name %s is %zu bytes, longer than PostgreSQL's %u", what, name,
               strlen (name), WES_MAX_IDENT_BYTES);
    }
    return false;
}

static s_pending_t *
s_pending_new (s_ctx_t *ctx, wes_table_t *t, const char *given, const char *label,
               bool name_columns, bool relation, wes_loc_t loc)
{
    if (!ctx->names) {
        //  Streaming, one table's: a few names (many tables may wait)
        ctx->names = ctx->spare_names ? ctx->spare_names
                                      : wes_arena_new (ctx->stream ? S_TABLE_NAMES_BLOCK : 0);
        ctx->spare_names = NULL;
    }
    s_pending_t *p = wes_arena_alloc (ctx->names, sizeof (s_pending_t));
    p->table = t;
    p->given = given ? wes_arena_strndup (ctx->names, given, strlen (given)) : NULL;
    p->label = label;
    p->name_columns = name_columns;
    p->relation = relation;
    p->loc = loc;
    s_pending_push (ctx, p);
    return p;
}

/*  "\x01" and n in decimal: a temporary constraint or index name (this
    runs for every one; snprintf costs more than the rest of the work). */
static void
s_tmp_name (char out[24], size_t n)
{
    out[0] = '\x01';
    s_lltoa (out + 1, (long long) n);
}

/*  A constraint under a temporary name, unique within the table, settled
    later by s_settle_names. */
static wes_constraint_t *
s_add_constraint (s_ctx_t *ctx, wes_table_t *t, wes_con_kind_t kind, const char *given,
                  const char *label, bool name_columns, wes_loc_t loc)
{
    /*  Unique within the table (every name is settled at the end), and
        the same few strings for every table: the model shares them. */
    char tmp[24];
    s_tmp_name (tmp, t->n_constraints);
    wes_constraint_t *c = wes_table_add_constraint (t, kind, tmp);
    wes_assert (c);
    c->pos = s_pos (loc);
    s_pending_t *p = s_pending_new (ctx, t, given, label, name_columns,
                                    kind == WES_CON_PRIMARY || kind == WES_CON_UNIQUE, loc);
    p->con = c;
    return c;
}

static wes_index_t *
s_add_index (s_ctx_t *ctx, wes_table_t *t, const char *given, wes_loc_t loc)
{
    char tmp[24];
    s_tmp_name (tmp, t->n_indexes);
    wes_index_t *ix = wes_table_add_index (t, tmp);
    wes_assert (ix);
    ix->pos = s_pos (loc);
    s_pending_t *p = s_pending_new (ctx, t, given, "idx", true, true, loc);
    p->index = ix;
    return ix;
}

/*  The optional name: argument of a constraint/index directive, checked. */
static const char *
s_given_name (s_ctx_t *ctx, const wes_ast_directive_t *d, bool *ok)
{
    const char *name = s_arg_str (d, "name");
    *ok = true;
    if (name && !s_check_name (ctx, name, "constraint or index", s_arg_loc (d, "name"))) {
        *ok = false;
    }
    return name;
}

static bool
s_looks_like_call (const char *s)
{
    while (isspace ((unsigned char)*s)) {
        s++;
    }
    if (!(isalpha ((unsigned char)*s) || *s == '_')) {
        return false;
    }
    while (isalnum ((unsigned char)*s) || *s == '_' || *s == '.') {
        s++;
    }
    while (isspace ((unsigned char)*s)) {
        s++;
    }
    if (*s != '(') {
        return false;
    }
    size_t n = strlen (s);
    while (n > 0 && isspace ((unsigned char)s[n - 1])) {
        n--;
    }
    return n > 0 && s[n - 1] == ')';
}

static bool
s_is_integer (const char *s)
{
    if (*s == '+' || *s == '-') {
        s++;
    }
    if (!isdigit ((unsigned char)*s)) {
        return false;
    }
    while (isdigit ((unsigned char)*s)) {
        s++;
    }
    return *s == '\0';
}

static bool
s_is_number (const char *s)
{
    if (*s == '+' || *s == '-') {
        s++;
    }
    bool digits = false;
    while (isdigit ((unsigned char)*s)) {
        s++;
        digits = true;
    }
    if (*s == '.') {
        s++;
        while (isdigit ((unsigned char)*s)) {
            s++;
            digits = true;
        }
    }
    if (!digits) {
        return false;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-') {
            s++;
        }
        if (!isdigit ((unsigned char)*s)) {
            return false;
        }
        while (isdigit ((unsigned char)*s)) {
            s++;
        }
    }
    return *s == '\0';
}

/*  @wes_default(value | expr) on column c. */
static void
s_default (s_ctx_t *ctx, s_type_t *ty, wes_column_t *c, const s_type_t *enum_ty,
           const wes_ast_directive_t *d)
{
    const wes_ast_value_t *value = s_arg (d, "value");
    const char *expr = s_arg_str (d, "expr");
    const wes_ast_argument_t *va = wes_ast_find_argument (d->args, "value");
    const wes_ast_argument_t *ea = wes_ast_find_argument (d->args, "expr");
    bool value_given = va && va->value && va->value->kind != WES_VALUE_NULL;
    bool expr_given = ea && ea->value && ea->value->kind != WES_VALUE_NULL;
    if (value_given == expr_given) {
        s_err (ctx, d->loc, "directive @%s needs exactly one of value: or expr: (%s)",
               d->name.value, value_given ? "both given" : "neither given");
        return;
    }
    if (wes_str_eq (c->type, S_BROKEN_TYPE)) {
        return;
    }
    if (expr_given) {
        if (!expr) {
            return; /* wrong kind: reported */
        }
        char *e = s_trim_dup (expr);
        if (e[0] == '\0') {
            s_err (ctx, s_arg_loc (d, "expr"), "directive @%s expr: is empty", d->name.value);
        }
        else {
            wes_model_put_str (ctx->model, &c->default_expr, e);
        }
        free (e);
        return;
    }
    if (!value) {
        return; /* wrong kind: reported */
    }
    const char *text =
        value->kind == WES_VALUE_BOOLEAN ? (value->boolean ? "true" : "false") : value->text;
    wes_loc_t vloc = value->loc;
    if (!ctx->defbuf) {
        ctx->defbuf = wes_buf_new ();
    }
    wes_buf_t *b = ctx->defbuf;
    wes_buf_reset (b);
    if (enum_ty && enum_ty->enm && !c->is_array) {
        bool member = false;
        for (size_t i = 0; i < enum_ty->enm->n_values; i++) {
            if (wes_str_eq (enum_ty->enm->values[i], text)) {
                member = true;
            }
        }
        if (!member) {
            s_err (ctx, vloc, "default value %s of column %s.%s is not a value of enum %s", text,
                   ty->table->name, c->name, enum_ty->name);
        }
        else {
            wes_buf_put_literal (b, text);
        }
    }
    else {
        switch (wes_type_class (c->type)) {
        case WES_TYPE_CLASS_TEXT:
            wes_buf_put_literal (b, text);
            break;
        case WES_TYPE_CLASS_INTEGER:
            if (!s_is_integer (text)) {
                s_err (ctx, vloc, "default value \"%s\" of column %s.%s is not a valid %s", text,
                       ty->table->name, c->name, c->type);
            }
            else {
                wes_buf_puts (b, text);
            }
            break;
        case WES_TYPE_CLASS_NUMBER:
            if (!s_is_number (text)) {
                s_err (ctx, vloc, "default value \"%s\" of column %s.%s is not a valid %s", text,
                       ty->table->name, c->name, c->type);
            }
            else {
                wes_buf_puts (b, text);
            }
            break;
        case WES_TYPE_CLASS_BOOLEAN:
            if (strcasecmp (text, "true") == 0) {
                wes_buf_puts (b, "true");
            }
            else if (strcasecmp (text, "false") == 0) {
                wes_buf_puts (b, "false");
            }
            else {
                s_err (ctx, vloc,
                       "default value \"%s\" of column %s.%s is not a boolean (true or false)",
                       text, ty->table->name, c->name);
            }
            break;
        case WES_TYPE_CLASS_OTHER:
        default:
            if (value->kind == WES_VALUE_STRING && s_looks_like_call (text)) {
                char *e = s_trim_dup (text);
                wes_buf_puts (b, e);
                free (e);
                s_warn (ctx, vloc,
                        "default value \"%s\" of column %s.%s looks like a function call; use "
                        "expr: to say so",
                        text, ty->table->name, c->name);
            }
            else {
                wes_buf_put_literal (b, text);
                wes_buf_printf (b, "::%s", c->type);
            }
            break;
        }
    }
    if (wes_buf_len (b) > 0) {
        wes_model_put_str (ctx->model, &c->default_expr, wes_buf_data (b));
    }
}

static bool
s_check_method (s_ctx_t *ctx, const wes_ast_directive_t *d, char **method_out)
{
    const char *using = s_arg_str (d, "using");
    if (!using) {
        *method_out = wes_strdup ("btree");
        return true;
    }
    char *m = wes_strdup (using);
    for (char *p = m; *p; p++) {
        *p = (char)tolower ((unsigned char)*p);
    }
    for (size_t i = 0; i < sizeof s_index_methods / sizeof s_index_methods[0]; i++) {
        if (wes_str_eq (m, s_index_methods[i])) {
            *method_out = m;
            return true;
        }
    }
    s_err (ctx, s_arg_loc (d, "using"),
           "directive @%s using: unknown index method %s (btree, hash, gist, gin, brin or "
           "spgist)",
           d->name.value, using);
    free (m);
    *method_out = NULL;
    return false;
}

/*  An index over columns (field-level: one column; object-level: fields). */
static void
s_index (s_ctx_t *ctx, s_type_t *ty, const wes_ast_directive_t *d, wes_column_t **cols,
         size_t n_cols)
{
    bool name_ok = true;
    const char *given = s_given_name (ctx, d, &name_ok);
    char *method = NULL;
    bool method_ok = s_check_method (ctx, d, &method);
    if (!name_ok || !method_ok) {
        free (method);
        return;
    }
    wes_index_t *ix = s_add_index (ctx, ty->table, given, d->loc);
    for (size_t i = 0; i < n_cols; i++) {
        wes_index_add_column (ix, cols[i]->name);
    }
    wes_model_put_str (ctx->model, &ix->method, method);
    free (method);
    ix->unique = s_arg_bool (d, "unique", false);
    const char *where = s_arg_str (d, "where");
    if (where) {
        char *w = s_trim_dup (where);
        if (w[0]) {
            wes_model_put_str (ctx->model, &ix->where, w);
        }
        free (w);
    }
}

static void
s_check (s_ctx_t *ctx, s_type_t *ty, const wes_ast_directive_t *d, wes_column_t *col)
{
    const char *expr = s_arg_str (d, "expr");
    bool name_ok = true;
    const char *given = s_given_name (ctx, d, &name_ok);
    if (!expr || !name_ok) {
        return;
    }
    char *e = s_trim_dup (expr);
    if (e[0] == '\0') {
        s_err (ctx, s_arg_loc (d, "expr"), "directive @%s expr: is empty", d->name.value);
        free (e);
        return;
    }
    wes_constraint_t *c =
        s_add_constraint (ctx, ty->table, WES_CON_CHECK, given, "check", col != NULL, d->loc);
    if (col) {
        /*  Only for the generated name: CHECK constraints list no columns
            in the model (the database derives them from the expression). */
        wes_constraint_add_column (c, col->name);
    }
    wes_model_put_str (ctx->model, &c->check_expr, e);
    free (e);
}

/*  Resolves the fields: argument of an object-level @wes_unique/@wes_index
    to columns. Returns the count, or 0 after reporting an error. */
static size_t
s_fields_arg (s_ctx_t *ctx, s_type_t *ty, const wes_ast_directive_t *d, wes_column_t ***out)
{
    *out = NULL;
    const wes_ast_value_t *v = s_arg (d, "fields");
    if (!v) {
        if (!wes_ast_find_argument (d->args, "fields")) {
            s_err (ctx, d->loc, "directive @%s on type %s needs fields: [\"field\", ...]",
                   d->name.value, ty->name);
        }
        return 0;
    }
    size_t n = 0;
    const wes_ast_value_t *first = v->kind == WES_VALUE_LIST ? v->items : v;
    for (const wes_ast_value_t *it = first; it; it = v->kind == WES_VALUE_LIST ? it->next : NULL) {
        n++;
    }
    if (n == 0) {
        s_err (ctx, v->loc, "directive @%s fields: is empty", d->name.value);
        return 0;
    }
    wes_column_t **cols = wes_alloc (n * sizeof (wes_column_t *));
    size_t k = 0;
    bool ok = true;
    for (const wes_ast_value_t *it = first; it; it = v->kind == WES_VALUE_LIST ? it->next : NULL) {
        wes_column_t *c = s_column_for_field (ty->table, it->text);
        if (!c) {
            s_no_column (ctx, ty, it->text, it->loc, d->name.value, "fields");
            ok = false;
            continue;
        }
        for (size_t j = 0; j < k; j++) {
            if (cols[j] == c) {
                s_err (ctx, it->loc, "directive @%s fields: %s is listed twice", d->name.value,
                       it->text);
                ok = false;
            }
        }
        cols[k++] = c;
    }
    if (!ok) {
        free (cols);
        return 0;
    }
    *out = cols;
    return k;
}

static void
s_unique (s_ctx_t *ctx, s_type_t *ty, const wes_ast_directive_t *d, wes_column_t **cols,
          size_t n_cols)
{
    bool name_ok = true;
    const char *given = s_given_name (ctx, d, &name_ok);
    if (!name_ok) {
        return;
    }
    wes_constraint_t *c =
        s_add_constraint (ctx, ty->table, WES_CON_UNIQUE, given, "key", true, d->loc);
    for (size_t i = 0; i < n_cols; i++) {
        wes_constraint_add_column (c, cols[i]->name);
    }
}

static wes_policy_t *
s_policy (s_ctx_t *ctx, s_type_t *ty, const char *name, wes_policy_cmd_t cmd, wes_loc_t loc)
{
    if (!s_check_name (ctx, name, "policy", loc)) {
        return NULL;
    }
    wes_policy_t *p = wes_table_add_policy (ty->table, name, cmd);
    if (!p) {
        s_err (ctx, loc, "policy %s of table %s is defined twice", name, ty->table->name);
        return NULL;
    }
    p->pos = s_pos (loc);
    return p;
}

static void
s_tenant (s_ctx_t *ctx, s_type_t *ty, const wes_ast_directive_t *d)
{
    const char *by = s_arg_str (d, "by");
    if (!by) {
        return;
    }
    wes_column_t *c = s_column_for_field (ty->table, by);
    if (!c) {
        s_no_column (ctx, ty, by, s_arg_loc (d, "by"), d->name.value, "by");
        return;
    }
    wes_table_t *t = ty->table;
    wes_model_put_str (ctx->model, &t->tenant_column, c->name);
    t->rls_enabled = true;
    wes_buf_t *b = wes_buf_new ();
    wes_buf_printf (b, "%s_tenant_isolation", t->name);
    wes_policy_t *p = s_policy (ctx, ty, wes_buf_data (b), WES_POLICY_ALL, d->loc);
    if (p) {
        wes_buf_reset (b);
        wes_buf_put_ident (b, c->name);
        wes_buf_printf (b, " = current_setting('wesley.tenant_id', true)::%s", c->type);
        wes_model_put_str (ctx->model, &p->using_expr, wes_buf_data (b));
        wes_model_put_str (ctx->model, &p->check_expr, wes_buf_data (b));
    }
    wes_buf_destroy (&b);
}

static void
s_rls (s_ctx_t *ctx, s_type_t *ty, const wes_ast_directive_t *d)
{
    static const struct {
        const char *arg;
        wes_policy_cmd_t cmd;
        bool using_expr;
        bool check_expr;
    } cmds[] = {
        {"select", WES_POLICY_SELECT, true, false},
        {"insert", WES_POLICY_INSERT, false, true},
        {"update", WES_POLICY_UPDATE, true, true},
        {"delete", WES_POLICY_DELETE, true, false},
    };
    if (!s_arg_bool (d, "enabled", true)) {
        return;
    }
    wes_table_t *t = ty->table;
    t->rls_enabled = true;
    const wes_ast_value_t *roles = s_arg (d, "roles");
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        const char *expr = s_arg_str (d, cmds[i].arg);
        if (!expr) {
            continue;
        }
        char *e = s_trim_dup (expr);
        if (e[0] == '\0') {
            s_err (ctx, s_arg_loc (d, cmds[i].arg), "directive @%s %s: is empty", d->name.value,
                   cmds[i].arg);
            free (e);
            continue;
        }
        wes_buf_t *b = wes_buf_new ();
        wes_buf_printf (b, "%s_%s_policy", t->name, cmds[i].arg);
        wes_policy_t *p =
            s_policy (ctx, ty, wes_buf_data (b), cmds[i].cmd, s_arg_loc (d, cmds[i].arg));
        wes_buf_destroy (&b);
        if (p) {
            if (cmds[i].using_expr) {
                wes_model_put_str (ctx->model, &p->using_expr, e);
            }
            if (cmds[i].check_expr) {
                wes_model_put_str (ctx->model, &p->check_expr, e);
            }
            if (roles) {
                const wes_ast_value_t *first = roles->kind == WES_VALUE_LIST ? roles->items : roles;
                for (const wes_ast_value_t *it = first; it;
                     it = roles->kind == WES_VALUE_LIST ? it->next : NULL) {
                    bool dup = false;
                    for (size_t k = 0; k < p->n_roles; k++) {
                        if (wes_str_eq (p->roles[k], it->text)) {
                            dup = true;
                        }
                    }
                    if (!dup && it->text[0]) {
                        wes_policy_add_role (p, it->text);
                    }
                }
            }
        }
        free (e);
    }
}

static const char *
s_relation_kind (s_dir_id_t id)
{
    return id == S_DIR_HAS_MANY ? "hasMany" : id == S_DIR_BELONGS_TO ? "belongsTo" : "hasOne";
}

/*  Unwraps a field type: the named type, list depth, non-null flags. */
typedef struct {
    const wes_ast_type_t *named; /* innermost NAMED */
    int lists;                   /* list nesting */
    bool not_null;               /* outer ! */
    bool elem_not_null;          /* [T!] */
} s_shape_t;

static s_shape_t
s_shape (const wes_ast_type_t *t)
{
    s_shape_t s;
    memset (&s, 0, sizeof s);
    bool outer = true;
    while (t) {
        if (t->kind == WES_TYPE_NON_NULL) {
            if (outer) {
                s.not_null = true;
            }
            else if (s.lists == 1) {
                s.elem_not_null = true;
            }
        }
        else if (t->kind == WES_TYPE_LIST) {
            s.lists++;
            outer = false;
        }
        else {
            s.named = t;
            break;
        }
        t = t->of;
    }
    return s;
}

/*  One field of a table type: a column, or a relation. */
static void
s_table_field (s_ctx_t *ctx, s_type_t *ty, const wes_ast_field_t *f, wes_column_t ***pk,
               size_t *n_pk, s_map_t *field_names)
{
    wes_table_t *t = ty->table;
    s_owner_t owner = {"field", ty->name, f->name.value};
    uint32_t fh = (uint32_t) s_hash_str (f->name.value);
    const wes_ast_field_t *first = s_map_get_h (field_names, f->name.value, fh);
    if (first) {
        s_err (ctx, f->name.loc, "type %s has field %s twice (first at %u:%u)", ty->name,
               f->name.value, first->name.loc.start.line, first->name.loc.start.col);
        return;
    }
    s_map_put_h (field_names, f->name.value, fh, (void *)f);

    json_t *meta = NULL; /* made when a metadata directive is found */
    s_found_list_t fl;
    const wes_ast_directive_t *lists[1] = {f->directives};
    s_scan (ctx, lists, 1, S_LOC_FIELD, "FIELD_DEFINITION", &owner, true, NULL, &fl);
    //  Metadata (most fields have none) as text straight away when it is
    //  simple, else through jansson
    char mtext[S_META_TEXT_BYTES];
    size_t mlen = 0;
    bool mfast = ctx->canonical_only || fl.n_meta == 0
                 || s_meta_text (lists, 1, mtext, sizeof mtext, &mlen);
    if (!mfast) {
        meta = s_meta_json (lists, 1);
    }

    for (const wes_ast_input_value_t *a = f->args; a; a = a->next) {
        const wes_ast_directive_t *al[1] = {a->directives};
        s_scan (ctx, al, 1, S_LOC_OTHER, "ARGUMENT_DEFINITION", &owner, false, NULL, NULL);
    }

    const wes_ast_directive_t *rel = NULL;
    for (size_t i = 0; i < fl.count; i++) {
        s_dir_id_t id = fl.items[i].spec->id;
        if (id == S_DIR_HAS_MANY || id == S_DIR_BELONGS_TO || id == S_DIR_HAS_ONE) {
            if (rel) {
                char text[512];
                s_err (ctx, fl.items[i].dir->loc, "%s has more than one relation directive",
                       s_owner_text (&owner, text, sizeof text));
            }
            else {
                rel = fl.items[i].dir;
            }
        }
    }
    s_shape_t sh = s_shape (f->type);
    const char *tname = sh.named ? sh.named->name.value : "";
    wes_loc_t tloc = sh.named ? sh.named->loc : f->loc;
    s_type_t *target = s_map_get (&ctx->type_map, tname);
    wes_buf_t *gql_type = ctx->typebuf;
    wes_buf_reset (gql_type);
    s_type_str (f->type, gql_type);

    if (f->args) {
        s_err (ctx, f->args->loc,
               "field %s of table type %s takes arguments; a column cannot (move it to a type "
               "that is not a table)",
               f->name.value, ty->name);
    }

    /*  Relations: a field whose type is a table. */
    if (rel || (target && target->is_table)) {
        if (!rel) {
            s_err (ctx, tloc,
                   "field %s.%s has type %s, which is a table: mark it as a relation "
                   "(@wes_hasMany, @wes_belongsTo or @wes_hasOne) or give it a scalar type",
                   ty->name, f->name.value, tname);
        }
        else if (!target || !target->is_table) {
            s_err (ctx, tloc, "relation field %s.%s: type %s is not a table", ty->name,
                   f->name.value, tname);
        }
        else if (sh.lists > 1) {
            s_err (ctx, tloc, "relation field %s.%s: nested lists are not supported", ty->name,
                   f->name.value);
        }
        else {
            for (size_t i = 0; i < fl.count; i++) {
                if (fl.items[i].dir != rel) {
                    s_err (ctx, fl.items[i].dir->loc,
                           "directive @%s cannot be used on relation field %s.%s (it has no "
                           "column)",
                           fl.items[i].dir->name.value, ty->name, f->name.value);
                }
            }
            json_t *r = json_object ();
            json_object_set_new (r, "field", json_string (f->name.value));
            json_object_set_new (r, "kind",
                                 json_string (s_relation_kind (s_spec_for (rel->name.value)->id)));
            json_object_set_new (r, "target", json_string (target->name));
            json_object_set_new (r, "target_table",
                                 json_string (target->sql_name ? target->sql_name : ""));
            json_object_set_new (r, "list", json_boolean (sh.lists > 0));
            json_object_set_new (r, "not_null", json_boolean (sh.not_null));
            json_object_set_new (r, "gql_type", json_string (wes_buf_data (gql_type)));
            static const char *rel_args[] = {"ref", "field", "foreignKey", "through"};
            for (size_t i = 0; i < sizeof rel_args / sizeof rel_args[0]; i++) {
                const char *v = s_arg_str (rel, rel_args[i]);
                if (v) {
                    json_object_set_new (r, rel_args[i], json_string (v));
                }
            }
            if (mfast && mlen > 0) {
                meta = json_loads (mtext, 0, NULL); /* a relation is rare: only now */
            }
            json_object_set_new (r, "directives", meta ? json_incref (meta) : json_object ());
            if (!t->relations) {
                t->relations = json_array ();
                wes_assert (t->relations);
            }
            json_array_append_new (t->relations, r);
        }
        json_decref (meta);
        s_found_free (&fl);
        return;
    }

    /*  A column: name. */
    const wes_ast_directive_t *col_dir = s_found (&fl, S_DIR_COLUMN);
    const char *given_name = col_dir ? s_arg_str (col_dir, "name") : NULL;
    const char *given_type = col_dir ? s_arg_str (col_dir, "type") : NULL;
    char *cname_owned = NULL;
    const char *cname = given_name;
    if (!cname) {
        /*  snake_case changes only capitals: a name without one is its own. */
        bool upper = false;
        for (const char *q = f->name.value; *q && !upper; q++) {
            upper = *q >= 'A' && *q <= 'Z';
        }
        cname = upper ? (cname_owned = wes_name_snake (f->name.value)) : f->name.value;
    }
    wes_loc_t nloc = given_name ? s_arg_loc (col_dir, "name") : f->name.loc;
    bool name_ok = s_check_name (ctx, cname, "column", nloc);

    /*  Type: a string that lives on (the cache's, the model's, a literal),
        or, the first time a type is normalized, ctype_owned. */
    const char *ctype = NULL;
    char *ctype_owned = NULL;
    const s_type_t *enum_ty = NULL;
    if (sh.lists > 1) {
        s_err (ctx, f->type->loc, "field %s.%s: nested lists (%s) cannot be columns", ty->name,
               f->name.value, wes_buf_data (gql_type));
    }
    else if (given_type) {
        //  A schema writes few distinct types, many times: normalized once
        const char *known = s_map_get (&ctx->typecache, given_type);
        char err[256];
        if (known) {
            ctype = known;
        }
        else if (wes_type_normalize (given_type, &ctype_owned, err, sizeof err) != 0) {
            s_err (ctx, s_arg_loc (col_dir, "type"), "directive @%s type: %s", col_dir->name.value,
                   err);
        }
        else {
            if (!ctx->cachearena) {
                ctx->cachearena = wes_arena_new (0);
            }
            ctype = wes_arena_strndup (ctx->cachearena, ctype_owned, strlen (ctype_owned));
            s_map_put (&ctx->typecache, given_type, (void *) ctype);
        }
        if (target && target->kind == WES_DEF_ENUM) {
            enum_ty = target;
        }
    }
    else if (target && target->kind == WES_DEF_ENUM) {
        enum_ty = target;
        if (target->enm) {
            ctype = target->enm->name;
        }
        else {
            ctype = S_BROKEN_TYPE; /* its name was refused: reported */
        }
    }
    else if (wes_type_for_scalar (tname) && (!target || target->kind == WES_DEF_SCALAR)) {
        ctype = wes_type_for_scalar (tname);
    }
    else if (!target) {
        s_err (ctx, tloc,
               "field %s.%s has type %s, which is not defined: declare its PostgreSQL type with "
               "@wes_column(type: \"...\")",
               ty->name, f->name.value, tname);
    }
    else if (target->kind == WES_DEF_SCALAR) {
        s_err (ctx, tloc,
               "field %s.%s has unknown scalar %s: declare its PostgreSQL type with "
               "@wes_column(type: \"...\")",
               ty->name, f->name.value, tname);
    }
    else if (target->kind == WES_DEF_OBJECT) {
        s_err (ctx, tloc,
               "field %s.%s has type %s, an object type that is not a table: add @wes_table to "
               "%s, or declare the column's type with @wes_column(type: \"...\")",
               ty->name, f->name.value, tname, tname);
    }
    else {
        s_err (ctx, tloc, "field %s.%s has type %s, %s %s, which cannot be a column", ty->name,
               f->name.value, tname,
               target->kind == WES_DEF_INTERFACE || target->kind == WES_DEF_INPUT ? "an" : "a",
               s_def_kind_name (target->kind));
    }
    if (ctype && sh.lists == 1 && !wes_str_eq (ctype, S_BROKEN_TYPE)
        && !(strlen (ctype) > 2 && wes_str_eq (ctype + strlen (ctype) - 2, "[]"))) {
        if (!ctx->arraybuf) {
            ctx->arraybuf = wes_buf_new ();
        }
        wes_buf_reset (ctx->arraybuf);
        wes_buf_puts (ctx->arraybuf, ctype);
        wes_buf_puts (ctx->arraybuf, "[]");
        ctype = wes_buf_data (ctx->arraybuf);
    }
    if (!ctype) {
        ctype = S_BROKEN_TYPE;
    }

    wes_column_t *c = NULL;
    if (name_ok) {
        c = wes_table_add_column (t, cname, ctype);
        if (!c) {
            wes_column_t *other = wes_table_find_column (t, cname);
            s_err (ctx, nloc, "column %s of table %s is defined twice (fields %s and %s, at %u:%u)",
                   cname, t->name, other->gql_name ? other->gql_name : "?", f->name.value,
                   other->pos.line, other->pos.col);
        }
    }
    free (cname_owned);
    free (ctype_owned);
    if (!c) {
        json_decref (meta);
        s_found_free (&fl);
        return;
    }
    c->not_null = sh.not_null;
    c->is_array = sh.lists == 1;
    c->array_elem_not_null = sh.elem_not_null;
    wes_model_put_str (ctx->model, &c->gql_name, f->name.value);
    wes_model_put_str (ctx->model, &c->gql_type, wes_buf_data (gql_type));
    if (enum_ty) {
        wes_model_put_str (ctx->model, &c->enum_name, enum_ty->name);
    }
    c->pos = s_pos (f->name.loc);
    if (mfast) {
        wes_model_put_str (ctx->model, &c->directives, mlen > 0 ? mtext : NULL);
    }
    else {
        wes_model_put_directives (ctx->model, &c->directives, meta);
    }

    /*  Column directives. */
    for (size_t i = 0; i < fl.count; i++) {
        const wes_ast_directive_t *d = fl.items[i].dir;
        switch (fl.items[i].spec->id) {
        case S_DIR_PK:
            if (!c->not_null) {
                s_err (ctx, d->loc, "primary key field %s.%s must be non-null (%s!)", ty->name,
                       f->name.value, c->gql_type);
            }
            if ((*n_pk & (*n_pk - 1)) == 0) {
                *pk = wes_realloc (*pk, (*n_pk ? *n_pk * 2 : 1) * sizeof (wes_column_t *));
            }
            (*pk)[(*n_pk)++] = c;
            break;
        case S_DIR_FK:
            //  Room for 4, then doubled when full; an empty array kept from
            //  a table before (s_tstate_destroy) has room for 4 or more
            size_t nf = ctx->n_fks;
            if (nf == 0 ? !ctx->fks : nf >= 4 && (nf & (nf - 1)) == 0) {
                ctx->fks = wes_realloc (ctx->fks, (nf ? nf * 2 : 4) * sizeof (s_fk_t));
            }
            /*  Checked after every table: in a lazy compile the field's AST
                is gone by then, so what the check needs is kept. */
            s_fk_note (ctx, &ctx->fks[ctx->n_fks++], ty, c, d);
            break;
        case S_DIR_UNIQUE:
            if (wes_ast_find_argument (d->args, "fields")) {
                s_err (ctx, s_arg_loc (d, "fields"),
                       "directive @%s on a field takes no fields: (it is the field's own "
                       "column; use fields: on the type)",
                       d->name.value);
                break;
            }
            s_unique (ctx, ty, d, &c, 1);
            break;
        case S_DIR_INDEX:
            if (wes_ast_find_argument (d->args, "fields")) {
                s_err (ctx, s_arg_loc (d, "fields"),
                       "directive @%s on a field takes no fields: (it is the field's own "
                       "column; use fields: on the type)",
                       d->name.value);
                break;
            }
            s_index (ctx, ty, d, &c, 1);
            break;
        case S_DIR_DEFAULT:
            s_default (ctx, ty, c, enum_ty, d);
            break;
        case S_DIR_CHECK:
            s_check (ctx, ty, d, c);
            break;
        case S_DIR_RENAMED: {
            const char *old = s_arg_str (d, "name");
            if (old && s_check_name (ctx, old, "former column", s_arg_loc (d, "name"))) {
                wes_model_put_str (ctx->model, &c->renamed_from, old);
            }
            break;
        }
        default:
            break;
        }
    }
    s_found_free (&fl);
}

static void
s_build_table (s_ctx_t *ctx, s_type_t *ty)
{
    wes_table_t *t = ty->table;
    s_owner_t owner = {"type", ty->name, NULL};
    size_t n_lists = 0;
    const wes_ast_directive_t **lists = s_type_dir_lists (ty, &n_lists);
    s_found_list_t fl;
    json_t *meta = NULL;
    char mtext[S_META_TEXT_BYTES];
    size_t mlen = 0;
    bool mfast = ctx->canonical_only || s_meta_text (lists, n_lists, mtext, sizeof mtext, &mlen);
    s_scan (ctx, lists, n_lists, S_LOC_OBJECT, "OBJECT", &owner, true, mfast ? NULL : &meta, &fl);
    free (lists);
    if (mfast) {
        wes_model_put_str (ctx->model, &t->directives, mlen > 0 ? mtext : NULL);
    }
    else {
        wes_model_put_directives (ctx->model, &t->directives, meta);
    }

    wes_column_t **pk = NULL;
    size_t n_pk = 0;
    s_map_t *field_names = &ctx->field_names;
    field_names->borrowed = true; /* the field names of the AST, alive while we build */
    for (size_t i = 0; i <= ty->n_exts; i++) {
        const wes_ast_def_t *def = i == 0 ? ty->def : ty->exts[i - 1];
        for (const wes_ast_field_t *f = def->fields; f; f = f->next) {
            s_table_field (ctx, ty, f, &pk, &n_pk, field_names);
        }
    }
    s_map_clear (field_names); /* empty for the next table: its keys are this AST's */

    if (n_pk == 0) {
        s_err (ctx, ty->def->name.loc,
               "table %s (type %s) has no primary key: mark its key field(s) with @wes_pk", t->name,
               ty->name);
    }
    else {
        wes_constraint_t *c =
            s_add_constraint (ctx, t, WES_CON_PRIMARY, NULL, "pkey", false, ty->def->name.loc);
        for (size_t i = 0; i < n_pk; i++) {
            wes_constraint_add_column (c, pk[i]->name);
        }
    }
    free (pk);

    for (size_t i = 0; i < fl.count; i++) {
        const wes_ast_directive_t *d = fl.items[i].dir;
        switch (fl.items[i].spec->id) {
        case S_DIR_UNIQUE:
        case S_DIR_INDEX: {
            wes_column_t **cols = NULL;
            size_t n = s_fields_arg (ctx, ty, d, &cols);
            if (n > 0) {
                if (fl.items[i].spec->id == S_DIR_UNIQUE) {
                    s_unique (ctx, ty, d, cols, n);
                }
                else {
                    s_index (ctx, ty, d, cols, n);
                }
            }
            free (cols);
            break;
        }
        case S_DIR_CHECK:
            s_check (ctx, ty, d, NULL);
            break;
        case S_DIR_TENANT:
            s_tenant (ctx, ty, d);
            break;
        case S_DIR_RLS:
            s_rls (ctx, ty, d);
            break;
        case S_DIR_RENAMED: {
            const char *old = s_arg_str (d, "name");
            if (old && s_check_name (ctx, old, "former table", s_arg_loc (d, "name"))) {
                wes_model_put_str (ctx->model, &t->renamed_from, old);
            }
            break;
        }
        default:
            break;
        }
    }
    s_found_free (&fl);
}

/* ---------------------------------------------------------------------- */
/*  Foreign keys                                                           */

static bool
s_parse_action (const char *word, wes_fk_action_t *out)
{
    char buf[32];
    size_t n = strlen (word);
    if (n >= sizeof buf) {
        return false;
    }
    for (size_t i = 0; i <= n; i++) {
        char ch = word[i];
        buf[i] = ch == '_' ? ' ' : (char)toupper ((unsigned char)ch);
    }
    static const struct {
        const char *name;
        wes_fk_action_t action;
    } actions[] = {
        {"NO ACTION", WES_FK_NO_ACTION},     {"RESTRICT", WES_FK_RESTRICT},
        {"CASCADE", WES_FK_CASCADE},         {"SET NULL", WES_FK_SET_NULL},
        {"SET DEFAULT", WES_FK_SET_DEFAULT},
    };
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
        if (wes_str_eq (buf, actions[i].name)) {
            *out = actions[i].action;
            return true;
        }
    }
    return false;
}

/*  Whether column is the whole primary key, or has a UNIQUE constraint or
    a full unique index of its own: what PostgreSQL needs to reference it. */
static bool
s_is_unique_column (const wes_table_t *t, const wes_column_t *col)
{
    for (size_t i = 0; i < t->n_constraints; i++) {
        const wes_constraint_t *c = t->constraints[i];
        if ((c->kind == WES_CON_PRIMARY || c->kind == WES_CON_UNIQUE) && c->n_columns == 1
            && wes_model_str_eq (c->columns[0], col->name)) {
            return true;
        }
    }
    for (size_t i = 0; i < t->n_indexes; i++) {
        const wes_index_t *ix = t->indexes[i];
        if (ix->unique && !ix->where && ix->n_columns == 1
            && wes_model_str_eq (ix->columns[0], col->name)) {
            return true;
        }
    }
    return false;
}

//  Fills fk from the @wes_fk d of column c of table type ty
static void
s_fk_note (s_ctx_t *ctx, s_fk_t *fk, s_type_t *ty, wes_column_t *c, const wes_ast_directive_t *d)
{
    const char *ref = s_arg_str (d, "ref");
    const char *on_delete = s_arg_str (d, "onDelete");
    const char *on_update = s_arg_str (d, "onUpdate");
    wes_arena_t *a = ctx->keep; /* NULL: the AST outlives the check */
    fk->type = ty;
    fk->column = c;
    fk->dname = a ? wes_arena_strndup (a, d->name.value, strlen (d->name.value)) : d->name.value;
    fk->dloc = d->loc;
    fk->ref = ref && a ? wes_arena_strndup (a, ref, strlen (ref)) : ref;
    fk->ref_loc = s_arg_loc (d, "ref");
    fk->actions[0] =
        on_delete && a ? wes_arena_strndup (a, on_delete, strlen (on_delete)) : on_delete;
    fk->action_locs[0] = s_arg_loc (d, "onDelete");
    fk->actions[1] =
        on_update && a ? wes_arena_strndup (a, on_update, strlen (on_update)) : on_update;
    fk->action_locs[1] = s_arg_loc (d, "onUpdate");
}

static void
s_check_fk (s_ctx_t *ctx, const s_fk_t *fk)
{
    const char *dn = fk->dname;
    wes_column_t *col = fk->column;
    const char *ref = fk->ref;
    if (!ref) {
        return; /* missing or wrong kind: reported */
    }
    wes_loc_t rloc = fk->ref_loc;
    const char *dot = strchr (ref, '.');
    if (!dot || dot == ref || dot[1] == '\0' || strchr (dot + 1, '.')) {
        s_err (ctx, rloc, "directive @%s ref: expected \"Type.field\", found \"%s\"", dn, ref);
        return;
    }
    char *tname = wes_strndup (ref, (size_t)(dot - ref));
    const char *fname = dot + 1;
    s_type_t *target = s_map_get (&ctx->type_map, tname);
    bool ok = true;
    wes_fk_action_t on_delete = WES_FK_NO_ACTION, on_update = WES_FK_NO_ACTION;
    const char *act_args[2] = {"onDelete", "onUpdate"};
    wes_fk_action_t *acts[2] = {&on_delete, &on_update};
    for (int i = 0; i < 2; i++) {
        const char *w = fk->actions[i];
        if (!w) {
            continue;
        }
        if (!s_parse_action (w, acts[i])) {
            s_err (ctx, fk->action_locs[i],
                   "directive @%s %s: unknown action %s (CASCADE, RESTRICT, SET_NULL, "
                   "SET_DEFAULT or NO_ACTION)",
                   dn, act_args[i], w);
            ok = false;
        }
        else if (*acts[i] == WES_FK_SET_NULL && col->not_null) {
            s_err (ctx, fk->action_locs[i],
                   "directive @%s %s: SET NULL on column %s.%s, which is NOT NULL", dn, act_args[i],
                   fk->type->table->name, col->name);
            ok = false;
        }
    }
    //  The referenced table and column: the model's, or (streaming) the
    //  summary of a table that may be gone. Anything but a unique column
    //  found by its field name ends a stream: the whole compile reports it.
    const s_sumcol_t *sc = NULL;
    if (ctx->stream) {
        sc = target && target->is_table ? s_summary_find (ctx, target, fname) : NULL;
        if (!sc) {
            ctx->decline = true;
            free (tname);
            return;
        }
    }
    else if (!target || !target->is_table || !target->table) {
        if (!target) {
            s_err (ctx, rloc, "directive @%s ref: type %s is not defined", dn, tname);
        }
        else if (!target->is_table) {
            s_err (ctx, rloc, "directive @%s ref: type %s is not a table", dn, tname);
        }
        free (tname);
        return;
    }
    wes_table_t *rt = sc ? NULL : target->table;
    wes_column_t *rcol = sc ? NULL : s_column_for_field (rt, fname);
    if (!sc && !rcol) {
        s_no_column (ctx, target, fname, rloc, dn, "ref");
        free (tname);
        return;
    }
    const char *rt_name = sc ? target->sql_name : rt->name;
    const char *rcol_name = sc ? sc->column : rcol->name;
    const char *rcol_type = sc ? sc->type : rcol->type;
    bool broken = wes_str_eq (col->type, S_BROKEN_TYPE) || wes_str_eq (rcol_type, S_BROKEN_TYPE);
    if (!broken && !wes_str_eq (col->type, rcol_type)) {
        s_err (ctx, rloc,
               "directive @%s: column %s.%s (%s) and referenced column %s.%s (%s) have "
               "different types",
               dn, fk->type->table->name, col->name, col->type, rt_name, rcol_name, rcol_type);
        ok = false;
    }
    if (!sc && !s_is_unique_column (rt, rcol)) {
        s_err (ctx, rloc,
               "directive @%s: referenced column %s.%s is neither the primary key nor unique; "
               "PostgreSQL requires one (add @wes_unique to %s.%s)",
               dn, rt_name, rcol_name, tname, fname);
        ok = false;
    }
    if (ok && !broken) {
        wes_constraint_t *c =
            s_add_constraint (ctx, fk->type->table, WES_CON_FOREIGN, NULL, "fkey", true, fk->dloc);
        wes_constraint_add_column (c, col->name);
        wes_model_put_str (ctx->model, &c->ref_table, rt_name);
        wes_constraint_add_ref_column (c, rcol_name);
        c->on_delete = on_delete;
        c->on_update = on_update;
    }
    free (tname);
}

/* ---------------------------------------------------------------------- */
/*  Constraint and index names                                             */

static int
s_cmp_pending (const void *a, const void *b)
{
    const s_pending_t *pa = *(s_pending_t *const *)a;
    const s_pending_t *pb = *(s_pending_t *const *)b;
    int c = wes_str_cmp (pa->table->name, pb->table->name);
    if (c != 0) {
        return c;
    }
    return pa->seq < pb->seq ? -1 : pa->seq > pb->seq ? 1 : 0;
}

/*  wes_name_generate's name when it fits in WES_MAX_IDENT_BYTES (it is then
    the plain concatenation: table_col1_col2_label[pass]) written into out;
    false when it does not fit (wes_name_generate shortens it). Spares the
    allocations of the common case, which runs for every constraint. */
static bool
s_name_short (char out[WES_MAX_IDENT_BYTES + 1], const char *table, const char *const *cols,
              size_t n, const char *label, unsigned pass)
{
    size_t len = 0;
    char digits[16] = "";
    if (pass > 0) {
        snprintf (digits, sizeof digits, "%u", pass);
    }
    const char *parts[4] = {table, NULL, label, digits};
    for (size_t k = 0; k < 4; k++) {
        size_t count = k == 1 ? n : 1;
        for (size_t c = 0; c < count; c++) {
            const char *part = k == 1 ? cols[c] : parts[k];
            size_t plen = strlen (part);
            size_t sep = (k == 1 || k == 2) ? 1 : 0;
            if (len + sep + plen > WES_MAX_IDENT_BYTES) {
                return false;
            }
            if (sep) {
                out[len++] = '_';
            }
            memcpy (out + len, part, plen);
            len += plen;
        }
    }
    out[len] = '\0';
    return true;
}

static void
s_set_name (s_ctx_t *ctx, s_pending_t *p, const char *name)
{
    if (p->con) {
        wes_model_put_str (ctx->model, &p->con->name, name);
    }
    else {
        wes_model_put_str (ctx->model, &p->index->name, name);
    }
}

/*  64 bits of s_hash_str: the streaming set of relation names keeps only
    this (two names alike in it: the stream declines, nothing worse). */
static uint64_t
s_hash64 (const char *s)
{
    uint64_t h = s_hash_str (s);
    return h ? h : 1; /* 0 marks a free slot */
}

/*  Adds a name's hash (s_hash64) to the streaming set; false when it was
    there. */
static bool
s_relset_add_h (s_ctx_t *ctx, uint64_t h)
{
    if ((ctx->relset_n + 1) * 4 > ctx->relset_cap * 3) {
        size_t cap = ctx->relset_cap ? ctx->relset_cap * 2 : 1024;
        uint64_t *fresh = wes_alloc (cap * sizeof (uint64_t));
        for (size_t i = 0; i < ctx->relset_cap; i++) {
            uint64_t old = ctx->relset[i];
            if (old) {
                size_t j = (size_t) old & (cap - 1);
                while (fresh[j]) {
                    j = (j + 1) & (cap - 1);
                }
                fresh[j] = old;
            }
        }
        free (ctx->relset);
        ctx->relset = fresh;
        ctx->relset_cap = cap;
    }
    size_t mask = ctx->relset_cap - 1;
    size_t j = (size_t) h & mask;
    while (ctx->relset[j]) {
        if (ctx->relset[j] == h) {
            return false;
        }
        j = (j + 1) & mask;
    }
    ctx->relset[j] = h;
    ctx->relset_n++;
    s_bits_add (&ctx->relbits, h);
    return true;
}

static bool
s_relset_add (s_ctx_t *ctx, const char *name)
{
    return s_relset_add_h (ctx, s_hash64 (name));
}

static bool
s_relset_has_h (const s_ctx_t *ctx, uint64_t h)
{
    if (ctx->relset_cap == 0 || !s_bits_has (ctx->relbits, h)) {
        return false;
    }
    size_t mask = ctx->relset_cap - 1;
    for (size_t j = (size_t) h & mask; ctx->relset[j]; j = (j + 1) & mask) {
        if (ctx->relset[j] == h) {
            return true;
        }
    }
    return false;
}

static bool
s_relset_has (const s_ctx_t *ctx, const char *name)
{
    return s_relset_has_h (ctx, s_hash64 (name));
}

/*  The relation namespace (tables, keys, indexes): where a name was taken,
    or NULL. Streaming, it holds the table names and the hashes of the
    names of the tables handed over; a name of another table ends the
    stream (the whole-model compile settles names table by table in name
    order, so it may name differently). */
static wes_loc_t *
s_rel_get (s_ctx_t *ctx, const char *name)
{
    if (ctx->stream) {
        //  The map holds only the table names then, without a place: every
        //  caller looks those up in table_names
        if (s_relset_has (ctx, name)) {
            ctx->decline = true;
        }
        return NULL;
    }
    return s_map_get (&ctx->relnames, name);
}

/*  Takes name in the relation namespace; false when it was taken. */
static bool
s_rel_put (s_ctx_t *ctx, const char *name, wes_loc_t *loc)
{
    if (!ctx->stream) {
        return s_map_put (&ctx->relnames, name, loc);
    }
    if (s_map_get (&ctx->table_names, name)) {
        return false;
    }
    if (!s_relset_add (ctx, name)) {
        ctx->decline = true;
        return false;
    }
    return true;
}

/*  The user-given names of pending[from, to) (one table), next to the
    names in local. */
static void
s_settle_given (s_ctx_t *ctx, size_t from, size_t to, s_map_t *local)
{
    for (size_t i = from; i < to; i++) {
        s_pending_t *p = ctx->pending[i];
        if (!p->given) {
            continue;
        }
        wes_loc_t *prev = s_map_get (local, p->given);
        bool table_clash = s_map_get (&ctx->table_names, p->given) != NULL;
        if (!prev && p->relation) {
            prev = s_rel_get (ctx, p->given);
        }
        bool taken = prev || table_clash || (p->relation && !s_rel_put (ctx, p->given, &p->loc));
        if (taken) {
            if (table_clash) {
                s_err (ctx, p->loc, "name %s is already used by table %s", p->given, p->given);
            }
            else if (prev) {
                s_err (ctx, p->loc, "constraint or index name %s is already used (at %u:%u)",
                       p->given, prev->start.line, prev->start.col);
            }
            else {
                s_err (ctx, p->loc, "constraint or index name %s is already used", p->given);
            }
        }
        else {
            p->named = true;
            s_set_name (ctx, p, p->given);
            s_map_put (local, p->con ? p->con->name : p->index->name, &p->loc);
        }
    }
}

/*  The generated names of pending[from, to) (one table), next to the
    names its user-given ones took (local is cleared first). */
static void
s_settle_generated (s_ctx_t *ctx, size_t from, size_t to, s_map_t *local)
{
    s_map_clear (local);
    for (size_t k = from; k < to; k++) {
        const s_pending_t *q = ctx->pending[k];
        if (q->named) {
            s_map_put (local, q->con ? q->con->name : q->index->name, (void *) &q->loc);
        }
    }
    for (size_t i = from; i < to; i++) {
        s_pending_t *p = ctx->pending[i];
        if (p->given) {
            continue;
        }
        const char *const *cols = NULL;
        size_t n = 0;
        if (p->name_columns) {
            cols = (const char *const *) (p->con ? p->con->columns : p->index->columns);
            n = p->con ? p->con->n_columns : p->index->n_columns;
        }
        for (unsigned pass = 0;; pass++) {
            char small[WES_MAX_IDENT_BYTES + 1];
            char *heap = NULL;
            const char *name = small;
            if (!s_name_short (small, p->table->name, cols, n, p->label, pass)) {
                name = heap = wes_name_generate (p->table->name, cols, n, p->label, pass);
            }
            bool free_name;
            if (ctx->stream) {
                //  One hash for the table's names, the table names and
                //  the relation names handed out (s_rel_get, s_rel_put)
                uint64_t hh = s_hash_str (name);
                uint32_t h = (uint32_t) hh;
                free_name = !s_map_get_h (local, name, h);
                if (free_name && s_relset_has_h (ctx, hh ? hh : 1)) {
                    ctx->decline = true;
                }
                free_name = free_name
                            && !(s_bits_has (ctx->tblbits, hh)
                                 && s_map_get_h (&ctx->table_names, name, h));
                if (free_name) {
                    s_set_name (ctx, p, name);
                    const char *kept = p->con ? p->con->name : p->index->name;
                    s_map_put_h (local, kept, h, &p->loc);
                    if (p->relation && !s_relset_add_h (ctx, hh ? hh : 1)) {
                        ctx->decline = true;
                    }
                }
            }
            else {
                free_name = !s_map_get (local, name) && !s_rel_get (ctx, name)
                            && !s_map_get (&ctx->table_names, name);
                if (free_name) {
                    s_set_name (ctx, p, name);
                    const char *kept = p->con ? p->con->name : p->index->name;
                    s_map_put (local, kept, &p->loc);
                    if (p->relation) {
                        (void) s_rel_put (ctx, kept, &p->loc);
                    }
                }
            }
            free (heap);
            if (free_name) {
                break;
            }
        }
    }
    /*  CHECK constraints carry their column only for naming. */
    for (size_t i = from; i < to; i++) {
        s_pending_t *p = ctx->pending[i];
        if (p->con && p->con->kind == WES_CON_CHECK) {
            p->con->columns = NULL; /* in the model's arena, as are the names */
            p->con->n_columns = 0;
        }
    }
}

/*  Gives every constraint and index its final name: user-given names are
    reserved first (a clash is an error), then generated names avoid
    everything taken, adding 1, 2, ... like PostgreSQL. Tables are visited
    by name, so the result does not depend on the order of the document.
    Streaming, ctx->pending is one table's, settled as it is handed over. */
static void
s_settle_names (s_ctx_t *ctx)
{
    if (ctx->n_pending > 1 && !ctx->stream) {
        qsort (ctx->pending, ctx->n_pending, sizeof (s_pending_t *), s_cmp_pending);
    }
    //  The pending names come grouped by table: a constraint name has to be
    //  unique within its table only, so one small map of the current
    //  table's names (keys borrowed: the model's copies) does. User-given
    //  names first, for every table (they take the relation namespace
    //  before any generated name can)
    s_map_t *local = &ctx->settle_local; /* kept from table to table */
    local->borrowed = true;
    for (int given = 1; given >= 0; given--) {
        size_t from = 0;
        while (from < ctx->n_pending) {
            size_t to = from + 1;
            while (to < ctx->n_pending && ctx->pending[to]->table == ctx->pending[from]->table) {
                to++;
            }
            if (given) {
                s_map_clear (local);
                s_settle_given (ctx, from, to, local);
            }
            else {
                s_settle_generated (ctx, from, to, local);
            }
            from = to;
        }
    }
}

