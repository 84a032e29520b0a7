/*  wes_emit_sql.h — PostgreSQL DDL for a whole model, applying to an empty
    database with `psql -v ON_ERROR_STOP=1 -f`. Deterministic order: enums,
    tables (columns in declaration order, primary key inline), then foreign
    keys, other constraints, indexes, row-level security and policies.
    Every identifier is quoted. */
#ifndef WES_EMIT_SQL_H
#define WES_EMIT_SQL_H

#include "../util/wes_buf.h"
#include "wes_model.h"

/*  Caller frees the result. */
char *wes_emit_sql (const wes_model_t *model);

/*  The same text streamed to cb (jansson's dump callback shape: 0 ok, -1
    stops) in chunks, never held at once. hash is wes_model_hash (model)'s,
    computed when NULL. Returns 0, or -1 when cb failed. */
int wes_emit_sql_write (const wes_model_t *model, const char *hash, json_dump_callback_t cb,
                        void *arg);

/*  The same in pieces, for a writer that holds one table at a time
    (wes_outputs). schema.sql is: the head; for each part in order, the
    part of every table in name order, a foreign key or index part preceded
    by its section title when the section has any statement; the
    expression records (wes_emit_sql_records_head, then for each record
    kind in order the records of every table in name order, as rows of
    wes_records_row, then wes_records_end), when
    there is any; WES_SQL_TAIL. */
typedef enum {
    WES_SQL_PART_TABLE,        /* CREATE TABLE, after a blank line */
    WES_SQL_PART_FOREIGN_KEYS, /* ALTER TABLE ... FOREIGN KEY statements */
    WES_SQL_PART_INDEXES,      /* CREATE INDEX statements */
    WES_SQL_PART_SECURITY,     /* row-level security and policies, after a blank line */
    WES_SQL_N_PARTS
} wes_sql_part_t;
#define WES_SQL_TAIL "\nCOMMIT;\n"
#define WES_SQL_RECORD_KINDS 5

/*  The header (with hash), BEGIN and the enums of enums (its tables are
    not read). */
void wes_emit_sql_head (wes_buf_t *out, const wes_model_t *enums, const char *hash);
/*  Appends one table's part; returns its statements (0: nothing appended). */
size_t wes_emit_sql_table_part (wes_buf_t *out, const wes_model_t *enums, const wes_table_t *t,
                                wes_sql_part_t part);
/*  "" or the title of a section, with the blank line before it. */
const char *wes_emit_sql_section_title (wes_sql_part_t part);
/*  Record kind k (< WES_SQL_RECORD_KINDS): "default", "check", ... */
const char *wes_emit_sql_record_kind (size_t k);
typedef void (*wes_sql_record_fn) (void *arg, size_t kind, const char *table, const char *object,
                                   const char *expr);
/*  Calls fn for each expression of kind of table t, in order; returns how
    many. */
size_t wes_emit_sql_table_records (const wes_table_t *t, size_t kind, wes_sql_record_fn fn,
                                   void *arg);
/*  The blank line, comment and DDL before the records. */
void wes_emit_sql_records_head (wes_buf_t *out);

#endif
