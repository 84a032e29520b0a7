/*  wes_pgparse.c — libpg_query behind wes_pgparse.h. */
#include "wes_pgparse.h"

#include <pg_query.h>
#include <stdio.h>
#include <string.h>

#include "util/wes_limits.h"

static void
s_set_error (wes_pgparse_error_t *error, const char *sql, size_t len, int offset,
             const char *message)
{
    snprintf (error->message, sizeof error->message, "%s", message ? message : "parse error");
    error->offset = offset;
    error->line = 0;
    error->col = 0;
    if (offset >= 0) {
        wes_pgparse_position (sql, len, (size_t) offset, &error->line, &error->col);
    }
}

/*  PostgreSQL reports an error position as a 1-based character index;
    turn it into a byte offset (UTF-8: count lead bytes). */
static int
s_char_to_byte (const char *sql, size_t len, int cursorpos)
{
    if (cursorpos <= 0) {
        return -1;
    }
    int chars = 0;
    for (size_t i = 0; i < len; i++) {
        if (((unsigned char) sql[i] & 0xC0) != 0x80) {
            chars++;
            if (chars == cursorpos) {
                return (int) i;
            }
        }
    }
    return (int) len;
}

/*  Length of the well-formed UTF-8 sequence at s[0..n) (RFC 3629: no
    overlong forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t
s_utf8_seq (const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        return 1;
    }
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF; /* range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
    }
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    }
    else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    }
    else {
        return 0;
    }
    if (n < need || s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            return 0;
        }
    }
    return need;
}

/*  Byte offset of the first malformed UTF-8 sequence of sql, or -1. */
static long
s_utf8_invalid (const char *sql, size_t len)
{
    const unsigned char *s = (const unsigned char *)sql;
    size_t i = 0;
    while (i < len) {
        size_t n = s_utf8_seq (s + i, len - i);
        if (n == 0) {
            return (long)i;
        }
        i += n;
    }
    return -1;
}

json_t *
wes_pgparse (const char *sql, size_t len, wes_pgparse_error_t *error)
{
    wes_assert (sql && error);
    if (len > WES_MAX_SQL_BYTES) {
        s_set_error (error, sql, 0, -1, "SQL text larger than the limit (WES_MAX_SQL_BYTES)");
        return NULL;
    }
    if (memchr (sql, '\0', len)) {
        s_set_error (error, sql, len, (int) ((const char *) memchr (sql, '\0', len) - sql),
                     "SQL text contains a NUL byte");
        return NULL;
    }
    /*  PostgreSQL (UTF8) refuses a malformed byte sequence anywhere in a
        query, comments included, and the parse tree could not carry it
        (JSON is UTF-8): refuse it here, at its position. */
    long bad = s_utf8_invalid (sql, len);
    if (bad >= 0) {
        char message[128];
        snprintf (message, sizeof message, "invalid byte sequence for encoding \"UTF8\": 0x%02x",
                  (unsigned char)sql[bad]);
        s_set_error (error, sql, len, (int)bad, message);
        return NULL;
    }
    char *text = wes_alloc (len + 1);
    memcpy (text, sql, len);
    text[len] = '\0';
    PgQueryParseResult r = pg_query_parse (text);
    json_t *tree = NULL;
    if (r.error) {
        s_set_error (error, sql, len, s_char_to_byte (sql, len, r.error->cursorpos),
                     r.error->message);
    }
    else {
        json_error_t jerr;
        tree = json_loads (r.parse_tree, 0, &jerr);
        if (!tree || !json_is_array (json_object_get (tree, "stmts"))) {
            /* An empty text parses to {"version": N} without "stmts". */
            if (tree && !json_object_get (tree, "stmts")) {
                json_object_set_new (tree, "stmts", json_array ());
            }
            else if (!tree && jerr.position > 0 && strstr (jerr.text, "depth")) {
                /* jansson refuses JSON nested deeper than JSON_PARSER_MAX_DEPTH
                   (2048): a statement of about 1,000 nested expressions or
                   subqueries. Say so rather than blame libpg_query. */
                s_set_error (error, sql, len, -1,
                             "SQL nested too deeply to analyse (its parse tree is deeper than "
                             "the JSON reader's limit of 2048 levels)");
            }
            else {
                json_decref (tree);
                tree = NULL;
                s_set_error (error, sql, len, -1, "libpg_query returned an unreadable parse tree");
            }
        }
    }
    pg_query_free_parse_result (r);
    free (text);
    return tree;
}

void
wes_pgparse_position (const char *sql, size_t len, size_t offset, int *line, int *col)
{
    int l = 1, c = 1;
    for (size_t i = 0; i < len && i < offset; i++) {
        if (sql[i] == '\n') {
            l++;
            c = 1;
        }
        else if (((unsigned char) sql[i] & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

void
wes_pgparse_stmt_range (json_t *tree, size_t i, size_t len, size_t *start, size_t *length)
{
    json_t *stmt = json_array_get (json_object_get (tree, "stmts"), i);
    json_int_t loc = json_integer_value (json_object_get (stmt, "stmt_location"));
    json_int_t n = json_integer_value (json_object_get (stmt, "stmt_len"));
    if (loc < 0 || (size_t) loc > len) {
        loc = (json_int_t) len;
    }
    if (n <= 0 || (size_t) (loc + n) > len) {
        n = (json_int_t) len - loc;
    }
    *start = (size_t) loc;
    *length = (size_t) n;
}

const char *
wes_pgparse_node_type (json_t *node, json_t **body)
{
    if (!json_is_object (node) || json_object_size (node) != 1) {
        return NULL;
    }
    void *it = json_object_iter (node);
    if (body) {
        *body = json_object_iter_value (it);
    }
    return json_object_iter_key (it);
}
