/*  wes_limits.h — every bound Wesley puts on its inputs, in one place.
    Each limit says why it has the value it has. Fuzz builds (WES_FUZZ) lower
    the large ones so that the fuzzer explores the limit paths quickly. */
#ifndef WES_LIMITS_H
#define WES_LIMITS_H

/*  Largest SDL file we read. 10,000 tables with 150,000 fields is about 15 MiB;
    256 MiB leaves room for generated schemas while refusing runaway input. */
#ifndef WES_FUZZ
#define WES_MAX_SDL_BYTES (256u * 1024u * 1024u)
#else
#define WES_MAX_SDL_BYTES (1u * 1024u * 1024u)
#endif

/*  Longest single token (a block string holding an RLS policy is the usual
    large one). The lexer never holds more than one token, so this bounds
    its buffer. */
#ifndef WES_FUZZ
#define WES_MAX_TOKEN_BYTES (1u * 1024u * 1024u)
#else
#define WES_MAX_TOKEN_BYTES (4u * 1024u)
#endif

/*  Deepest nesting of values ([[[...]]], {a:{b:...}}) and type references
    ([[T!]!]). The parser is recursive; this bounds its stack use. */
#define WES_MAX_NESTING 64

/*  Most definitions in one document, and most fields, arguments, directives,
    values in one list. Far above any real schema, low enough that a hostile
    file cannot make us allocate without bound before we notice. */
#define WES_MAX_DEFINITIONS 1000000u
#define WES_MAX_LIST_ITEMS 100000u

/*  Most diagnostics kept for one compile; the rest are counted, not stored. */
#define WES_MAX_DIAGNOSTICS 200u

/*  PostgreSQL's NAMEDATALEN - 1: identifiers longer than this are an error,
    never truncated. */
#define WES_MAX_IDENT_BYTES 63u

/*  Arena block size for the AST: large enough that block headers are noise,
    small enough that a tiny schema does not cost much. */
#define WES_ARENA_BLOCK_BYTES (64u * 1024u)

/*  Most steps in one plan: a schema of 10,000 tables changing everything
    stays well below; the fleet DAG is this times the number of targets. */
#define WES_MAX_PLAN_STEPS 1000000u

/*  Largest SQL text handed to PostgreSQL's parser (a hand-written migration
    file, one statement from pg_stat_statements). Far above real migration
    files; the parse tree as JSON is several times the input. Fuzz builds:
    128 KiB, enough for 10,000 short statements and cheap to exceed. */
#ifndef WES_FUZZ
#define WES_MAX_SQL_BYTES (16u * 1024u * 1024u)
#else
#define WES_MAX_SQL_BYTES (128u * 1024u)
#endif

/*  Deepest parse tree wes_sqlrefs walks (nodes from the statement down).
    Real statements stay far below; jansson itself refuses JSON deeper than
    2048, and the walk is recursive, so this bounds its stack use. Fuzz
    builds: 100, a few dozen nested subqueries or parentheses. */
#ifndef WES_FUZZ
#define WES_MAX_SQL_TREE_DEPTH 1000u
#else
#define WES_MAX_SQL_TREE_DEPTH 100u
#endif

/*  Longest log line we format before truncating it. */
#define WES_MAX_LOG_LINE 8192u

#endif
