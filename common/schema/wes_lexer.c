/*  wes_lexer.c — GraphQL tokens from a stream. Input is read through a fixed
    read buffer (from a FILE*) or straight from memory; the only growing
    storage is the text of the current token, capped by WES_MAX_TOKEN_BYTES.
    Line terminators are \n, \r\n and \r; columns count bytes. */
#include "wes_lexer.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../util/wes_limits.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/*  Bytes read from a file at a time. Any lookahead the grammar needs is at
    most four bytes (\""" inside a block string). */
#define S_READ_BYTES 16384u

/*  First allocation of the token text buffer; it doubles up to the cap. */
#define S_TEXT_INITIAL 256u

struct wes_lexer {
    FILE *file;               /* source when streaming a file, else NULL */
    unsigned char *rbuf;      /* fixed read buffer (file source only) */
    const unsigned char *cur; /* next unread byte */
    const unsigned char *end; /* one past the last available byte */
    const unsigned char *base; /* memory source: its first byte */
    size_t total;             /* bytes taken from the source so far */
    bool eof;                 /* the source has no more bytes */
    bool read_error;          /* fread reported an error */
    int read_errno;           /* errno of that error */
    bool oversize;            /* input exceeds WES_MAX_SDL_BYTES */
    uint32_t line;            /* position of cur: 1-based line */
    uint32_t col;             /* position of cur: 1-based byte column */
    char *text;               /* current token text (decoded), NUL-terminated */
    size_t text_len;          /* bytes in text */
    size_t text_cap;          /* bytes allocated for text */
    bool failed;              /* an error was reported; every next call fails */
    wes_pos_t error_pos;      /* where the error is */
    char error[256];          /* what the error is */
};

static bool s_fill (wes_lexer_t *self, size_t need);
static int s_fail (wes_lexer_t *self, wes_pos_t pos, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
static void s_describe_at (wes_lexer_t *self, size_t k, char *out, size_t size);
static int s_lex_number (wes_lexer_t *self, wes_token_t *token, wes_pos_t start);
static int s_lex_string (wes_lexer_t *self, wes_token_t *token, wes_pos_t start);
static int s_lex_block_string (wes_lexer_t *self, wes_token_t *token, wes_pos_t start);
static void s_block_dedent (wes_lexer_t *self);

wes_lexer_t *
wes_lexer_new_buffer (const char *data, size_t len)
{
    wes_lexer_t *self = wes_new (wes_lexer_t);
    /*  Oversize input is refused by the first wes_lexer_next without a byte
        being looked at; NULL data is empty input. */
    self->oversize = len > WES_MAX_SDL_BYTES;
    self->cur = (const unsigned char *)(data ? data : "");
    self->base = self->cur;
    self->end = self->cur + (data && !self->oversize ? len : 0);
    self->total = len;
    self->eof = true;
    self->line = 1;
    self->col = 1;
    self->text = wes_alloc (S_TEXT_INITIAL);
    self->text_cap = S_TEXT_INITIAL;
    return self;
}

wes_lexer_t *
wes_lexer_new_file (FILE *file)
{
    wes_lexer_t *self = wes_new (wes_lexer_t);
    self->file = file;
    self->rbuf = wes_alloc (S_READ_BYTES);
    self->cur = self->rbuf;
    self->end = self->rbuf;
    self->eof = file == NULL;
    self->line = 1;
    self->col = 1;
    self->text = wes_alloc (S_TEXT_INITIAL);
    self->text_cap = S_TEXT_INITIAL;
    return self;
}

wes_lexer_t *
wes_lexer_new_file_at (FILE *file, size_t offset, wes_pos_t pos)
{
    wes_assert (pos.line >= 1 && pos.col >= 1);
    wes_lexer_t *self = wes_lexer_new_file (file);
    self->total = offset;
    self->oversize = offset > WES_MAX_SDL_BYTES;
    self->eof = self->eof || self->oversize;
    self->line = pos.line;
    self->col = pos.col;
    return self;
}

void
wes_lexer_destroy (wes_lexer_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wes_lexer_t *self = *self_p;
    free (self->rbuf);
    free (self->text);
    free (self);
    *self_p = NULL;
}

const char *
wes_lexer_error (const wes_lexer_t *self)
{
    return self->failed ? self->error : NULL;
}

wes_pos_t
wes_lexer_error_pos (const wes_lexer_t *self)
{
    if (!self->failed) {
        return (wes_pos_t){0, 0};
    }
    return self->error_pos;
}

const char *
wes_token_kind_name (wes_token_kind_t kind)
{
    switch (kind) {
    case WES_TOK_EOF:
        return "end of file";
    case WES_TOK_BANG:
        return "'!'";
    case WES_TOK_DOLLAR:
        return "'$'";
    case WES_TOK_AMP:
        return "'&'";
    case WES_TOK_LPAREN:
        return "'('";
    case WES_TOK_RPAREN:
        return "')'";
    case WES_TOK_SPREAD:
        return "'...'";
    case WES_TOK_COLON:
        return "':'";
    case WES_TOK_EQUALS:
        return "'='";
    case WES_TOK_AT:
        return "'@'";
    case WES_TOK_LBRACKET:
        return "'['";
    case WES_TOK_RBRACKET:
        return "']'";
    case WES_TOK_LBRACE:
        return "'{'";
    case WES_TOK_PIPE:
        return "'|'";
    case WES_TOK_RBRACE:
        return "'}'";
    case WES_TOK_NAME:
        return "name";
    case WES_TOK_INT:
        return "integer";
    case WES_TOK_FLOAT:
        return "float";
    case WES_TOK_STRING:
        return "string";
    case WES_TOK_BLOCK_STRING:
        return "block string";
    }
    return "token";
}

/*  Byte k ahead of cur, or -1 at the end of input. */
static inline int
s_peek (wes_lexer_t *self, size_t k)
{
    if ((size_t)(self->end - self->cur) > k) {
        return self->cur[k];
    }
    if (!s_fill (self, k + 1)) {
        return -1;
    }
    return self->cur[k];
}

/*  The byte offset of cur in the input. */
static inline size_t
s_offset (const wes_lexer_t *self)
{
    return self->file ? self->total - (size_t) (self->end - self->cur)
                      : (size_t) (self->cur - self->base);
}

static inline wes_pos_t
s_pos (const wes_lexer_t *self)
{
    return (wes_pos_t){self->line, self->col};
}

/*  Consumes n bytes of one line (no line terminator among them). */
static inline void
s_skip (wes_lexer_t *self, size_t n)
{
    self->cur += n;
    self->col += (uint32_t)n;
}

/*  Consumes a line terminator (\n, \r\n or \r) at cur. */
static inline void
s_newline (wes_lexer_t *self)
{
    if (self->cur[0] == '\r' && s_peek (self, 1) == '\n') {
        self->cur += 2;
    }
    else {
        self->cur += 1;
    }
    self->line++;
    self->col = 1;
}

static inline bool
s_is_name_start (int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static inline bool
s_is_name_continue (int c)
{
    //  Letters (either case: bit 0x20 set makes it lower), digits, '_'
    return (unsigned) ((c | 0x20) - 'a') < 26u || (unsigned) (c - '0') < 10u || c == '_';
}

static inline bool
s_is_digit (int c)
{
    return c >= '0' && c <= '9';
}

static int
s_hex_value (int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/*  Appends one byte to the token text; fails when the token would exceed
    WES_MAX_TOKEN_BYTES. */
static inline int
s_push (wes_lexer_t *self, unsigned char c, wes_pos_t start)
{
    if (self->text_len + 1 >= self->text_cap) {
        if (self->text_len >= WES_MAX_TOKEN_BYTES) {
            return s_fail (self, start, "token longer than %u bytes (WES_MAX_TOKEN_BYTES)",
                           (unsigned)WES_MAX_TOKEN_BYTES);
        }
        size_t cap = self->text_cap ? self->text_cap * 2 : S_TEXT_INITIAL;
        if (cap > (size_t)WES_MAX_TOKEN_BYTES + 1) {
            cap = (size_t)WES_MAX_TOKEN_BYTES + 1;
        }
        self->text = wes_realloc (self->text, cap);
        self->text_cap = cap;
    }
    self->text[self->text_len++] = (char)c;
    return 0;
}

static int
s_push_utf8 (wes_lexer_t *self, uint32_t cp, wes_pos_t start)
{
    unsigned char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        n = 1;
    }
    else if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | (cp >> 6));
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 2;
    }
    else if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | (cp >> 12));
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 3;
    }
    else {
        b[0] = (unsigned char)(0xF0 | (cp >> 18));
        b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    for (size_t i = 0; i < n; i++) {
        if (s_push (self, b[i], start) != 0) {
            return -1;
        }
    }
    return 0;
}

/*  Decodes the UTF-8 sequence k bytes ahead. Returns its length (1-4) and
    the code point, or 0 when the bytes are not well-formed UTF-8 (overlong,
    surrogate, beyond U+10FFFF, truncated). */
static size_t
s_utf8_at (wes_lexer_t *self, size_t k, uint32_t *cp_out)
{
    int c0 = s_peek (self, k);
    if (c0 < 0) {
        return 0;
    }
    if (c0 < 0x80) {
        *cp_out = (uint32_t)c0;
        return 1;
    }
    size_t n;
    uint32_t cp;
    uint32_t min;
    if ((c0 & 0xE0) == 0xC0) {
        n = 2;
        cp = (uint32_t)c0 & 0x1F;
        min = 0x80;
    }
    else if ((c0 & 0xF0) == 0xE0) {
        n = 3;
        cp = (uint32_t)c0 & 0x0F;
        min = 0x800;
    }
    else if ((c0 & 0xF8) == 0xF0) {
        n = 4;
        cp = (uint32_t)c0 & 0x07;
        min = 0x10000;
    }
    else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        int c = s_peek (self, k + i);
        if (c < 0 || (c & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | ((uint32_t)c & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return 0;
    }
    *cp_out = cp;
    return n;
}

/*  Inside a block string, what starts at cur (c is its first byte): the
    closing """, an escaped \""" (three quotes of the value), or neither.
    The lexer and wes_lexer_skip_braces must agree on it. */
typedef enum { S_BLOCK_OTHER, S_BLOCK_CLOSE, S_BLOCK_ESCAPED_QUOTES } s_block_mark_t;

static s_block_mark_t
s_block_mark (wes_lexer_t *self, int c)
{
    if (c == '"' && s_peek (self, 1) == '"' && s_peek (self, 2) == '"') {
        return S_BLOCK_CLOSE;
    }
    if (c == '\\' && s_peek (self, 1) == '"' && s_peek (self, 2) == '"' && s_peek (self, 3) == '"') {
        return S_BLOCK_ESCAPED_QUOTES;
    }
    return S_BLOCK_OTHER;
}

/*  What a byte can start, for the fast path of wes_lexer_next: blanks
    and commas and \n are skipped there, a name or a one-byte punctuator
    is made there; anything else (a string, a number, a comment, \r, a
    BOM, a byte that is not allowed) goes the full way. */
enum { S_C_OTHER = 0, S_C_BLANK, S_C_NL, S_C_NAME, S_C_PUNCT };

static const unsigned char s_class[256] = {
    [' '] = S_C_BLANK, ['\t'] = S_C_BLANK, [','] = S_C_BLANK, ['\n'] = S_C_NL,
    ['!'] = S_C_PUNCT, ['$'] = S_C_PUNCT, ['&'] = S_C_PUNCT, ['('] = S_C_PUNCT,
    [')'] = S_C_PUNCT, [':'] = S_C_PUNCT, ['='] = S_C_PUNCT, ['@'] = S_C_PUNCT,
    ['['] = S_C_PUNCT, [']'] = S_C_PUNCT, ['{'] = S_C_PUNCT, ['|'] = S_C_PUNCT,
    ['}'] = S_C_PUNCT, ['_'] = S_C_NAME,
    ['a'] = S_C_NAME, ['b'] = S_C_NAME, ['c'] = S_C_NAME, ['d'] = S_C_NAME, ['e'] = S_C_NAME,
    ['f'] = S_C_NAME, ['g'] = S_C_NAME, ['h'] = S_C_NAME, ['i'] = S_C_NAME, ['j'] = S_C_NAME,
    ['k'] = S_C_NAME, ['l'] = S_C_NAME, ['m'] = S_C_NAME, ['n'] = S_C_NAME, ['o'] = S_C_NAME,
    ['p'] = S_C_NAME, ['q'] = S_C_NAME, ['r'] = S_C_NAME, ['s'] = S_C_NAME, ['t'] = S_C_NAME,
    ['u'] = S_C_NAME, ['v'] = S_C_NAME, ['w'] = S_C_NAME, ['x'] = S_C_NAME, ['y'] = S_C_NAME,
    ['z'] = S_C_NAME,
    ['A'] = S_C_NAME, ['B'] = S_C_NAME, ['C'] = S_C_NAME, ['D'] = S_C_NAME, ['E'] = S_C_NAME,
    ['F'] = S_C_NAME, ['G'] = S_C_NAME, ['H'] = S_C_NAME, ['I'] = S_C_NAME, ['J'] = S_C_NAME,
    ['K'] = S_C_NAME, ['L'] = S_C_NAME, ['M'] = S_C_NAME, ['N'] = S_C_NAME, ['O'] = S_C_NAME,
    ['P'] = S_C_NAME, ['Q'] = S_C_NAME, ['R'] = S_C_NAME, ['S'] = S_C_NAME, ['T'] = S_C_NAME,
    ['U'] = S_C_NAME, ['V'] = S_C_NAME, ['W'] = S_C_NAME, ['X'] = S_C_NAME, ['Y'] = S_C_NAME,
    ['Z'] = S_C_NAME,
};

/*  The bytes that go on a name: letters, digits, '_'. */
static const unsigned char s_name_byte[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,
    ['7'] = 1, ['8'] = 1, ['9'] = 1, ['_'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1,
    ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1,
    ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1,
    ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1,
    ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
    ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1,
    ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
};

/*  The one-byte punctuators: kind and text by byte (text NULL: none). */
static const wes_token_kind_t s_punct_kind[256] = {
    ['!'] = WES_TOK_BANG,     ['$'] = WES_TOK_DOLLAR, ['&'] = WES_TOK_AMP,
    ['('] = WES_TOK_LPAREN,   [')'] = WES_TOK_RPAREN, [':'] = WES_TOK_COLON,
    ['='] = WES_TOK_EQUALS,   ['@'] = WES_TOK_AT,     ['['] = WES_TOK_LBRACKET,
    [']'] = WES_TOK_RBRACKET, ['{'] = WES_TOK_LBRACE, ['|'] = WES_TOK_PIPE,
    ['}'] = WES_TOK_RBRACE,
};
static const char *const s_punct_text[256] = {
    ['!'] = "!", ['$'] = "$", ['&'] = "&", ['('] = "(", [')'] = ")", [':'] = ":", ['='] = "=",
    ['@'] = "@", ['['] = "[", [']'] = "]", ['{'] = "{", ['|'] = "|", ['}'] = "}",
};

static int s_next_full (wes_lexer_t *self, wes_token_t *token);

/*  A token of the fast path, whose n bytes of text are in the text buffer
    already: it takes the bytes bytes at p, on line at col. Returns 0. */
static inline int
s_fast_token (wes_lexer_t *self, wes_token_t *token, wes_token_kind_t kind,
              const unsigned char *p, size_t n, size_t bytes, uint32_t line, uint32_t col)
{
    self->text[n] = '\0';
    self->text_len = n;
    token->kind = kind;
    token->text = self->text;
    token->len = n;
    token->offset = self->total - (size_t) (self->end - p);
    token->loc.start = (wes_pos_t) {line, col};
    token->loc.end = (wes_pos_t) {line, col + (uint32_t) bytes};
    self->cur = p + bytes;
    self->col = col + (uint32_t) bytes;
    return 0;
}

/*  The usual token, in one pass over the read buffer: blanks, commas and
    \n line ends skipped, then a name that ends inside the buffer or a
    one-byte punctuator. Anything else, and the end of the buffer, go
    through s_next_full, from where this stopped (the same result: the
    fast path only takes what s_next_full would take the same way). */
int
wes_lexer_next (wes_lexer_t *self, wes_token_t *token)
{
    wes_assert (self && token);
    if (self->failed || self->oversize || self->read_error) {
        return s_next_full (self, token);
    }
    const unsigned char *p = self->cur;
    const unsigned char *end = self->end;
    uint32_t line = self->line;
    uint32_t col = self->col;
    unsigned k = S_C_OTHER;
    while (p < end) {
        k = s_class[*p];
        if (k == S_C_BLANK) {
            col++;
        }
        else if (k == S_C_NL) {
            line++;
            col = 1;
        }
        else {
            break;
        }
        p++;
    }
    self->cur = p;
    self->line = line;
    self->col = col;
    if (p < end && k == S_C_PUNCT) {
        unsigned char c = *p;
        self->text_len = 0;
        token->kind = s_punct_kind[c];
        token->text = s_punct_text[c];
        token->len = 1;
        token->offset = self->total - (size_t) (end - p);
        token->loc.start = (wes_pos_t) {line, col};
        token->loc.end = (wes_pos_t) {line, col + 1};
        self->cur = p + 1;
        self->col = col + 1;
        return 0;
    }
    if (p < end && k == S_C_NAME) {
        const unsigned char *q = p + 1;
        while (q < end && s_name_byte[*q]) {
            q++;
        }
        size_t n = (size_t) (q - p);
        if (q < end && n < self->text_cap && n <= WES_MAX_TOKEN_BYTES) {
            //  A short name as one 16-byte move when the buffer has the
            //  bytes (the text buffer always has the room)
            _Static_assert (S_TEXT_INITIAL > 16, "the text buffer holds 16 bytes");
            if (n <= 16 && end - p >= 16) {
                memcpy (self->text, p, 16);
            }
            else {
                memcpy (self->text, p, n);
            }
            return s_fast_token (self, token, WES_TOK_NAME, p, n, n, line, col);
        }
    }
    else if (p < end && ((*p >= '0' && *p <= '9') || *p == '-')) {
        //  An IntValue that ends inside the buffer: no leading zero, not
        //  followed by '.', a digit or a name byte ('e' included); floats
        //  and every error go the full way
        const unsigned char *q = p + (*p == '-');
        const unsigned char *digits = q;
        while (q < end && *q >= '0' && *q <= '9') {
            q++;
        }
        size_t n = (size_t) (q - p);
        if (q > digits && (*digits != '0' || q == digits + 1) && q < end && *q != '.'
            && !s_name_byte[*q] && n < self->text_cap && n <= WES_MAX_TOKEN_BYTES) {
            memcpy (self->text, p, n);
            return s_fast_token (self, token, WES_TOK_INT, p, n, n, line, col);
        }
    }
    else if (p < end && *p == '"') {
        //  A string of printable ASCII, no escape, that ends inside the
        //  buffer: one copy ("" and """ go the full way)
        static const unsigned char plain[256] = {
            [0x20] = 1, [0x21] = 1, [0x23] = 1, [0x24] = 1, [0x25] = 1, [0x26] = 1, [0x27] = 1,
            [0x28] = 1, [0x29] = 1, [0x2A] = 1, [0x2B] = 1, [0x2C] = 1, [0x2D] = 1, [0x2E] = 1,
            [0x2F] = 1, [0x30] = 1, [0x31] = 1, [0x32] = 1, [0x33] = 1, [0x34] = 1, [0x35] = 1,
            [0x36] = 1, [0x37] = 1, [0x38] = 1, [0x39] = 1, [0x3A] = 1, [0x3B] = 1, [0x3C] = 1,
            [0x3D] = 1, [0x3E] = 1, [0x3F] = 1, [0x40] = 1, [0x41] = 1, [0x42] = 1, [0x43] = 1,
            [0x44] = 1, [0x45] = 1, [0x46] = 1, [0x47] = 1, [0x48] = 1, [0x49] = 1, [0x4A] = 1,
            [0x4B] = 1, [0x4C] = 1, [0x4D] = 1, [0x4E] = 1, [0x4F] = 1, [0x50] = 1, [0x51] = 1,
            [0x52] = 1, [0x53] = 1, [0x54] = 1, [0x55] = 1, [0x56] = 1, [0x57] = 1, [0x58] = 1,
            [0x59] = 1, [0x5A] = 1, [0x5B] = 1, [0x5D] = 1, [0x5E] = 1, [0x5F] = 1, [0x60] = 1,
            [0x61] = 1, [0x62] = 1, [0x63] = 1, [0x64] = 1, [0x65] = 1, [0x66] = 1, [0x67] = 1,
            [0x68] = 1, [0x69] = 1, [0x6A] = 1, [0x6B] = 1, [0x6C] = 1, [0x6D] = 1, [0x6E] = 1,
            [0x6F] = 1, [0x70] = 1, [0x71] = 1, [0x72] = 1, [0x73] = 1, [0x74] = 1, [0x75] = 1,
            [0x76] = 1, [0x77] = 1, [0x78] = 1, [0x79] = 1, [0x7A] = 1, [0x7B] = 1, [0x7C] = 1,
            [0x7D] = 1, [0x7E] = 1,
        }; /* 0x20-0x7E but '"' (0x22) and '\\' (0x5C) */
        const unsigned char *q = p + 1;
        while (q < end && plain[*q]) {
            q++;
        }
        size_t n = (size_t) (q - p - 1);
        if (q < end && *q == '"' && n > 0 && n < self->text_cap && n <= WES_MAX_TOKEN_BYTES) {
            memcpy (self->text, p + 1, n);
            return s_fast_token (self, token, WES_TOK_STRING, p, n, n + 2, line, col);
        }
    }
    return s_next_full (self, token);
}

static int
s_next_full (wes_lexer_t *self, wes_token_t *token)
{
    if (self->failed) {
        return -1;
    }
    if (self->oversize && self->total > WES_MAX_SDL_BYTES && !self->file) {
        return s_fail (self, (wes_pos_t){1, 1},
                       "input is %zu bytes, more than the limit of %u bytes (WES_MAX_SDL_BYTES)",
                       self->total, (unsigned)WES_MAX_SDL_BYTES);
    }
    /*  Skip ignored tokens: white space, line terminators, commas, comments
        and the byte order mark (wes_lexer_next took the common ones in
        one pass already). */
    int c;
    for (;;) {
        //  Runs of blanks and commas (indentation) in one go
        const unsigned char *run = self->cur;
        while (run < self->end && (*run == ' ' || *run == '\t' || *run == ',')) {
            run++;
        }
        s_skip (self, (size_t) (run - self->cur));
        c = s_peek (self, 0);
        if (c == ' ' || c == '\t' || c == ',') {
            s_skip (self, 1);
        }
        else if (c == '\n' || c == '\r') {
            s_newline (self);
        }
        else if (c == '#') {
            s_skip (self, 1);
            for (;;) {
                c = s_peek (self, 0);
                if (c < 0 || c == '\n' || c == '\r') {
                    break;
                }
                s_skip (self, 1);
            }
        }
        else if (c == 0xEF && s_peek (self, 1) == 0xBB && s_peek (self, 2) == 0xBF) {
            /*  A BOM opening the file is invisible to editors: it takes no
                columns there. Anywhere else it is three bytes of columns. */
            bool first = s_offset (self) == 0;
            self->cur += 3;
            if (!first) {
                self->col += 3;
            }
        }
        else {
            break;
        }
    }
    if (self->oversize || self->read_error) {
        /*  s_fail reports the reason that stopped the input. */
        return s_fail (self, s_pos (self), "input could not be read");
    }
    wes_pos_t start = s_pos (self);
    self->text_len = 0;
    token->loc.start = start;
    token->offset = s_offset (self);
    token->len = 0;
    if (c < 0) {
        token->kind = WES_TOK_EOF;
        token->text = "";
        token->loc.end = start;
        return 0;
    }
    /*  Single-byte punctuators, and their kinds in the same order. */
    if (c > 0 && s_punct_text[c]) {
        s_skip (self, 1);
        token->kind = s_punct_kind[c];
        token->text = s_punct_text[c];
        token->len = 1;
        token->loc.end = s_pos (self);
        return 0;
    }
    switch (c) {
    case '.':
        if (s_peek (self, 1) == '.' && s_peek (self, 2) == '.') {
            s_skip (self, 3);
            token->kind = WES_TOK_SPREAD;
            token->text = "...";
            token->len = 3;
            token->loc.end = s_pos (self);
            return 0;
        }
        return s_fail (self, start, "unexpected character '.', expected '...'");
    case '"':
        if (s_peek (self, 1) == '"' && s_peek (self, 2) == '"') {
            return s_lex_block_string (self, token, start);
        }
        return s_lex_string (self, token, start);
    default:
        if (c == '-' || s_is_digit (c)) {
            return s_lex_number (self, token, start);
        }
        if (s_is_name_start (c)) {
            //  A name that ends inside the read buffer, in one copy
            const unsigned char *p = self->cur + 1;
            while (p < self->end && s_name_byte[*p]) {
                p++;
            }
            size_t n = (size_t) (p - self->cur);
            if (p < self->end && n < self->text_cap && n <= WES_MAX_TOKEN_BYTES) {
                memcpy (self->text, self->cur, n);
                self->text[n] = '\0';
                self->text_len = n;
                s_skip (self, n);
                token->kind = WES_TOK_NAME;
                token->text = self->text;
                token->len = n;
                token->loc.end = s_pos (self);
                return 0;
            }
            for (;;) {
                /*  The name bytes already read go in one copy, as many as the
                    text buffer holds; when it is full, s_push grows it (or
                    refuses a token over the limit). */
                size_t room = self->text_cap - 1 - self->text_len;
                if (room > WES_MAX_TOKEN_BYTES - self->text_len) {
                    room = WES_MAX_TOKEN_BYTES - self->text_len;
                }
                size_t run = 1;
                while (run < room && self->cur + run < self->end
                       && s_is_name_continue (self->cur[run])) {
                    run++;
                }
                if (room > 0) {
                    memcpy (self->text + self->text_len, self->cur, run);
                    self->text_len += run;
                    s_skip (self, run);
                }
                else {
                    if (s_push (self, (unsigned char)c, start) != 0) {
                        return -1;
                    }
                    s_skip (self, 1);
                }
                c = s_peek (self, 0);
                if (!s_is_name_continue (c)) {
                    break;
                }
            }
            self->text[self->text_len] = '\0';
            token->kind = WES_TOK_NAME;
            token->text = self->text;
            token->len = self->text_len;
            token->loc.end = s_pos (self);
            return 0;
        }
        char what[32];
        s_describe_at (self, 0, what, sizeof what);
        return s_fail (self, start, "unexpected character %s", what);
    }
}

static int s_skip_group (wes_lexer_t *self, unsigned char open, unsigned char close,
                         wes_pos_t *end);

int
wes_lexer_skip_braces (wes_lexer_t *self, wes_pos_t *end)
{
    return s_skip_group (self, '{', '}', end);
}

int
wes_lexer_skip_parens (wes_lexer_t *self, wes_pos_t *end)
{
    return s_skip_group (self, '(', ')', end);
}

/*  Skips what follows an open just read, up to and including its matching
    close (wes_lexer_skip_braces, wes_lexer_skip_parens). */
static int
s_skip_group (wes_lexer_t *self, unsigned char open, unsigned char close, wes_pos_t *end)
{
    wes_assert (self && end);
    if (self->failed) {
        return -1;
    }
    //  Bytes that end a run of plain ones, but for open and close: outside
    //  strings, and inside
    static const unsigned char stop[256] = {['"'] = 1, ['#'] = 1, ['\n'] = 1, ['\r'] = 1};
    static const unsigned char stop_str[256] = {['"'] = 1, ['\\'] = 1, ['\n'] = 1, ['\r'] = 1};
    wes_pos_t start = s_pos (self);
    size_t depth = 1;
    for (;;) {
        //  Plain bytes and \n line ends in one go (\r and the rest below),
        //  sixteen at a time where SSE2 is there
        const unsigned char *run = self->cur;
        const unsigned char *line_start = NULL;
        uint32_t lines = 0;
        while (run < self->end) {
#ifdef __SSE2__
            if (self->end - run >= 16) {
                __m128i v = _mm_loadu_si128 ((const __m128i *) (const void *) run);
                __m128i hit = _mm_or_si128 (
                    _mm_or_si128 (_mm_cmpeq_epi8 (v, _mm_set1_epi8 ((char) open)),
                                  _mm_cmpeq_epi8 (v, _mm_set1_epi8 ((char) close))),
                    _mm_or_si128 (_mm_or_si128 (_mm_cmpeq_epi8 (v, _mm_set1_epi8 ('"')),
                                                _mm_cmpeq_epi8 (v, _mm_set1_epi8 ('#'))),
                                  _mm_or_si128 (_mm_cmpeq_epi8 (v, _mm_set1_epi8 ('\n')),
                                                _mm_cmpeq_epi8 (v, _mm_set1_epi8 ('\r')))));
                unsigned mask = (unsigned) _mm_movemask_epi8 (hit);
                if (mask == 0) {
                    run += 16;
                    continue;
                }
                run += __builtin_ctz (mask); /* the first byte that is not plain */
            }
#endif
            if (!stop[*run] && *run != open && *run != close) {
                run++;
            }
            else if (*run == '\n') {
                lines++;
                line_start = ++run;
            }
            else {
                break;
            }
        }
        if (lines > 0) {
            self->line += lines;
            self->col = 1 + (uint32_t) (run - line_start);
            self->cur = run;
        }
        else {
            s_skip (self, (size_t) (run - self->cur));
        }
        int c = s_peek (self, 0);
        if (c < 0) {
            return s_fail (self, start, "unterminated '%c', found end of file", open);
        }
        if (c == '\n' || c == '\r') {
            s_newline (self);
            continue;
        }
        if (c == open) {
            depth++;
        }
        else if (c == close) {
            s_skip (self, 1);
            if (--depth == 0) {
                *end = s_pos (self);
                return 0;
            }
            continue;
        }
        else if (c == '#') {
            while (c >= 0 && c != '\n' && c != '\r') {
                s_skip (self, 1);
                c = s_peek (self, 0);
            }
            continue;
        }
        else if (c == '"' && s_peek (self, 1) == '"' && s_peek (self, 2) == '"') {
            wes_pos_t opened = s_pos (self);
            s_skip (self, 3);
            for (;;) {
                c = s_peek (self, 0);
                if (c < 0) {
                    return s_fail (self, opened, "unterminated block string, found end of file");
                }
                s_block_mark_t mark = s_block_mark (self, c);
                if (mark == S_BLOCK_CLOSE) {
                    s_skip (self, 3);
                    break;
                }
                if (mark == S_BLOCK_ESCAPED_QUOTES) {
                    s_skip (self, 4);
                }
                else if (c == '\n' || c == '\r') {
                    s_newline (self);
                }
                else {
                    s_skip (self, 1);
                }
            }
            continue;
        }
        else if (c == '"') {
            wes_pos_t opened = s_pos (self);
            s_skip (self, 1);
            for (;;) {
                run = self->cur;
                while (run < self->end && !stop_str[*run]) {
                    run++;
                }
                s_skip (self, (size_t) (run - self->cur));
                c = s_peek (self, 0);
                if (c < 0 || c == '\n' || c == '\r') {
                    return s_fail (self, opened, "unterminated string");
                }
                if (c == '"') {
                    s_skip (self, 1);
                    break;
                }
                if (c == '\\') {
                    int next = s_peek (self, 1);
                    if (next < 0 || next == '\n' || next == '\r') {
                        return s_fail (self, opened, "unterminated string");
                    }
                    s_skip (self, 2);
                    continue;
                }
                s_skip (self, 1);
            }
            continue;
        }
        s_skip (self, 1);
    }
}

/*  Reads the file source so that at least need bytes are available at cur. */
static bool
s_fill (wes_lexer_t *self, size_t need)
{
    size_t have = (size_t)(self->end - self->cur);
    if (have >= need) {
        return true;
    }
    if (!self->file || self->eof) {
        return false;
    }
    if (have > 0) {
        memmove (self->rbuf, self->cur, have);
    }
    self->cur = self->rbuf;
    self->end = self->rbuf + have;
    while (have < need && !self->eof) {
        size_t n = fread (self->rbuf + have, 1, S_READ_BYTES - have, self->file);
        if (n == 0) {
            if (ferror (self->file)) {
                self->read_error = true;
                self->read_errno = errno;
            }
            self->eof = true;
            break;
        }
        self->total += n;
        if (self->total > WES_MAX_SDL_BYTES) {
            /*  Stop here: nothing past the limit is ever looked at. */
            size_t over = self->total - WES_MAX_SDL_BYTES;
            n = n > over ? n - over : 0;
            self->oversize = true;
            self->eof = true;
        }
        have += n;
        self->end = self->rbuf + have;
    }
    return have >= need;
}

static int
s_fail (wes_lexer_t *self, wes_pos_t pos, const char *fmt, ...)
{
    if (self->failed) {
        return -1;
    }
    self->failed = true;
    self->error_pos = pos;
    if (self->oversize) {
        /*  Whatever went wrong at the cut, the reason is the size. */
        snprintf (self->error, sizeof self->error,
                  "input is larger than the limit of %u bytes (WES_MAX_SDL_BYTES)",
                  (unsigned)WES_MAX_SDL_BYTES);
        return -1;
    }
    if (self->read_error) {
        snprintf (self->error, sizeof self->error, "cannot read the input after %zu bytes: %s",
                  self->total, strerror (self->read_errno));
        return -1;
    }
    va_list args;
    va_start (args, fmt);
    vsnprintf (self->error, sizeof self->error, fmt, args);
    va_end (args);
    return -1;
}

/*  Describes the character k bytes ahead for a message: 'x', U+00E9 or
    byte 0xFF, or "end of file". */
static void
s_describe_at (wes_lexer_t *self, size_t k, char *out, size_t size)
{
    int c = s_peek (self, k);
    if (c < 0) {
        snprintf (out, size, "end of file");
        return;
    }
    if (c > 0x20 && c < 0x7F) {
        snprintf (out, size, "'%c'", c);
        return;
    }
    uint32_t cp;
    if (s_utf8_at (self, k, &cp) > 0) {
        snprintf (out, size, "U+%04X", (unsigned)cp);
        return;
    }
    snprintf (out, size, "byte 0x%02X (not UTF-8)", (unsigned)c);
}

/*  IntValue and FloatValue: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?,
    not followed by '.' or a name start. */
static int
s_lex_number (wes_lexer_t *self, wes_token_t *token, wes_pos_t start)
{
    char what[32];
    bool is_float = false;
    int c = s_peek (self, 0);
    if (c == '-') {
        if (s_push (self, '-', start) != 0) {
            return -1;
        }
        s_skip (self, 1);
        c = s_peek (self, 0);
        if (!s_is_digit (c)) {
            s_describe_at (self, 0, what, sizeof what);
            return s_fail (self, s_pos (self),
                           "invalid number: expected a digit after '-', found %s", what);
        }
    }
    if (c == '0') {
        if (s_push (self, '0', start) != 0) {
            return -1;
        }
        s_skip (self, 1);
        c = s_peek (self, 0);
        if (s_is_digit (c)) {
            return s_fail (self, s_pos (self),
                           "invalid number: unexpected digit '%c' after a leading '0'", c);
        }
    }
    else {
        while (s_is_digit (c)) {
            if (s_push (self, (unsigned char)c, start) != 0) {
                return -1;
            }
            s_skip (self, 1);
            c = s_peek (self, 0);
        }
    }
    if (c == '.') {
        is_float = true;
        if (s_push (self, '.', start) != 0) {
            return -1;
        }
        s_skip (self, 1);
        c = s_peek (self, 0);
        if (!s_is_digit (c)) {
            s_describe_at (self, 0, what, sizeof what);
            return s_fail (self, s_pos (self),
                           "invalid number: expected a digit after '.', found %s", what);
        }
        while (s_is_digit (c)) {
            if (s_push (self, (unsigned char)c, start) != 0) {
                return -1;
            }
            s_skip (self, 1);
            c = s_peek (self, 0);
        }
    }
    if (c == 'e' || c == 'E') {
        is_float = true;
        if (s_push (self, (unsigned char)c, start) != 0) {
            return -1;
        }
        s_skip (self, 1);
        c = s_peek (self, 0);
        if (c == '+' || c == '-') {
            if (s_push (self, (unsigned char)c, start) != 0) {
                return -1;
            }
            s_skip (self, 1);
            c = s_peek (self, 0);
        }
        if (!s_is_digit (c)) {
            s_describe_at (self, 0, what, sizeof what);
            return s_fail (self, s_pos (self),
                           "invalid number: expected a digit in the exponent, found %s", what);
        }
        while (s_is_digit (c)) {
            if (s_push (self, (unsigned char)c, start) != 0) {
                return -1;
            }
            s_skip (self, 1);
            c = s_peek (self, 0);
        }
    }
    self->text[self->text_len] = '\0';
    if (c == '.' || s_is_name_start (c)) {
        /*  The number is at most one token long here; quote a bounded prefix. */
        return s_fail (self, s_pos (self), "invalid number: unexpected '%c' after '%.40s'", c,
                       self->text);
    }
    token->kind = is_float ? WES_TOK_FLOAT : WES_TOK_INT;
    token->text = self->text;
    token->len = self->text_len;
    token->loc.end = s_pos (self);
    return 0;
}

/*  Copies one UTF-8 encoded source character into the token text, checking
    that it is well formed and not NUL. */
static int
s_copy_char (wes_lexer_t *self, wes_pos_t start, const char *what)
{
    int c = s_peek (self, 0);
    if (c == 0) {
        return s_fail (self, s_pos (self), "NUL character in %s (not supported)", what);
    }
    if (c < 0x80) {
        if (s_push (self, (unsigned char)c, start) != 0) {
            return -1;
        }
        s_skip (self, 1);
        return 0;
    }
    uint32_t cp;
    size_t n = s_utf8_at (self, 0, &cp);
    if (n == 0) {
        return s_fail (self, s_pos (self), "invalid UTF-8 byte 0x%02X in %s", (unsigned)c, what);
    }
    for (size_t i = 0; i < n; i++) {
        if (s_push (self, self->cur[i], start) != 0) {
            return -1;
        }
    }
    s_skip (self, n);
    return 0;
}

/*  Reads n hex digits k bytes ahead; -1 if any is not a hex digit. */
static long
s_hex_at (wes_lexer_t *self, size_t k, size_t n)
{
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        int d = s_hex_value (s_peek (self, k + i));
        if (d < 0) {
            return -1;
        }
        v = v * 16 + d;
    }
    return v;
}

/*  A \u escape at cur (cur[0] is the backslash). Handles \uXXXX, surrogate
    pairs written as two escapes, and \u{X...}. */
static int
s_unicode_escape (wes_lexer_t *self, wes_pos_t start)
{
    wes_pos_t at = s_pos (self);
    uint32_t cp;
    if (s_peek (self, 2) == '{') {
        size_t k = 3;
        uint32_t v = 0;
        size_t digits = 0;
        for (;;) {
            int c = s_peek (self, k);
            if (c == '}') {
                break;
            }
            int d = s_hex_value (c);
            if (d < 0) {
                char what[32];
                s_describe_at (self, k, what, sizeof what);
                return s_fail (self, at,
                               "invalid Unicode escape: expected a hex digit or '}' in "
                               "'\\u{...}', found %s",
                               what);
            }
            v = v * 16 + (uint32_t)d;
            digits++;
            k++;
            if (v > 0x10FFFF || digits > 8) {
                return s_fail (self, at, "invalid Unicode escape: '\\u{...}' beyond U+10FFFF");
            }
        }
        if (digits == 0) {
            return s_fail (self, at, "invalid Unicode escape: empty '\\u{}'");
        }
        if (v >= 0xD800 && v <= 0xDFFF) {
            return s_fail (self, at, "invalid Unicode escape: surrogate U+%04X is not a character",
                           (unsigned)v);
        }
        cp = v;
        s_skip (self, k + 1);
    }
    else {
        long v = s_hex_at (self, 2, 4);
        if (v < 0) {
            return s_fail (self, at,
                           "invalid Unicode escape: expected four hex digits after '\\u'");
        }
        size_t k = 6;
        if (v >= 0xD800 && v <= 0xDBFF) {
            long lo = -1;
            if (s_peek (self, 6) == '\\' && s_peek (self, 7) == 'u') {
                lo = s_hex_at (self, 8, 4);
            }
            if (lo < 0xDC00 || lo > 0xDFFF) {
                return s_fail (self, at,
                               "invalid Unicode escape: leading surrogate \\u%04lX is not followed "
                               "by a trailing surrogate",
                               (unsigned long)v);
            }
            v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
            k = 12;
        }
        else if (v >= 0xDC00 && v <= 0xDFFF) {
            return s_fail (self, at, "invalid Unicode escape: lone trailing surrogate \\u%04lX",
                           (unsigned long)v);
        }
        cp = (uint32_t)v;
        s_skip (self, k);
    }
    if (cp == 0) {
        return s_fail (self, at, "invalid Unicode escape: U+0000 in a string is not supported");
    }
    return s_push_utf8 (self, cp, start);
}

/*  Inside a string or block string: a run of printable ASCII at cur that
    is neither a quote nor a backslash, into the token text in one copy,
    as much as the text buffer holds and the token limit allows. False
    when there is none (cur is at another byte, or the text is full). */
static bool
s_copy_plain (wes_lexer_t *self)
{
    const unsigned char *run = self->cur;
    size_t room = self->text_cap > self->text_len + 1 ? self->text_cap - 1 - self->text_len : 0;
    if (room > WES_MAX_TOKEN_BYTES - self->text_len) {
        room = WES_MAX_TOKEN_BYTES - self->text_len;
    }
    while (run < self->end && (size_t) (run - self->cur) < room && *run >= 0x20 && *run < 0x7F
           && *run != '"' && *run != '\\') {
        run++;
    }
    if (run == self->cur) {
        return false;
    }
    size_t n = (size_t) (run - self->cur);
    memcpy (self->text + self->text_len, self->cur, n);
    self->text_len += n;
    s_skip (self, n);
    return true;
}

static int
s_lex_string (wes_lexer_t *self, wes_token_t *token, wes_pos_t start)
{
    s_skip (self, 1);
    for (;;) {
        int c = s_peek (self, 0);
        if (c < 0 || c == '\n' || c == '\r') {
            return s_fail (self, start, "unterminated string, found %s",
                           c < 0 ? "end of file" : "end of line");
        }
        if (c == '"') {
            s_skip (self, 1);
            break;
        }
        if (c == '\\') {
            int e = s_peek (self, 1);
            char out;
            switch (e) {
            case '"':
                out = '"';
                break;
            case '\\':
                out = '\\';
                break;
            case '/':
                out = '/';
                break;
            case 'b':
                out = '\b';
                break;
            case 'f':
                out = '\f';
                break;
            case 'n':
                out = '\n';
                break;
            case 'r':
                out = '\r';
                break;
            case 't':
                out = '\t';
                break;
            case 'u':
                if (s_unicode_escape (self, start) != 0) {
                    return -1;
                }
                continue;
            default: {
                char what[32];
                s_describe_at (self, 1, what, sizeof what);
                return s_fail (self, s_pos (self), "invalid escape sequence: '\\' followed by %s",
                               what);
            }
            }
            if (s_push (self, (unsigned char)out, start) != 0) {
                return -1;
            }
            s_skip (self, 2);
            continue;
        }
        if (s_copy_plain (self)) {
            continue;
        }
        if (s_copy_char (self, start, "string") != 0) {
            return -1;
        }
    }
    self->text[self->text_len] = '\0';
    token->kind = WES_TOK_STRING;
    token->text = self->text;
    token->len = self->text_len;
    token->loc.end = s_pos (self);
    return 0;
}

static int
s_lex_block_string (wes_lexer_t *self, wes_token_t *token, wes_pos_t start)
{
    s_skip (self, 3);
    for (;;) {
        int c = s_peek (self, 0);
        if (c < 0) {
            return s_fail (self, start, "unterminated block string, found end of file");
        }
        s_block_mark_t mark = s_block_mark (self, c);
        if (mark == S_BLOCK_CLOSE) {
            s_skip (self, 3);
            break;
        }
        if (mark == S_BLOCK_ESCAPED_QUOTES) {
            for (int i = 0; i < 3; i++) {
                if (s_push (self, '"', start) != 0) {
                    return -1;
                }
            }
            s_skip (self, 4);
            continue;
        }
        if (c == '\n' || c == '\r') {
            /*  Every line terminator becomes \n: the value joins lines with \n. */
            if (s_push (self, '\n', start) != 0) {
                return -1;
            }
            s_newline (self);
            continue;
        }
        //  (no mark starts in a plain run: it has no quote, no backslash)
        if (s_copy_plain (self)) {
            continue;
        }
        if (s_copy_char (self, start, "block string") != 0) {
            return -1;
        }
    }
    s_block_dedent (self);
    self->text[self->text_len] = '\0';
    token->kind = WES_TOK_BLOCK_STRING;
    token->text = self->text;
    token->len = self->text_len;
    token->loc.end = s_pos (self);
    return 0;
}

/*  The spec's BlockStringValue on the raw text (lines joined by \n), in
    place: find the common indentation of the lines after the first that are
    not blank, remove it from every line but the first, drop leading and
    trailing blank lines, join with \n. */
static void
s_block_dedent (wes_lexer_t *self)
{
    char *s = self->text;
    size_t len = self->text_len;
    size_t common = SIZE_MAX;
    size_t first_nb = SIZE_MAX; /* index of the first non-blank line */
    size_t last_nb = 0;         /* index of the last non-blank line */
    size_t line = 0;
    size_t i = 0;
    while (i <= len) {
        size_t indent = 0;
        while (i + indent < len && (s[i + indent] == ' ' || s[i + indent] == '\t')) {
            indent++;
        }
        size_t j = i + indent;
        while (j < len && s[j] != '\n') {
            j++;
        }
        bool blank = j == i + indent;
        if (!blank) {
            if (line > 0 && indent < common) {
                common = indent;
            }
            if (first_nb == SIZE_MAX) {
                first_nb = line;
            }
            last_nb = line;
        }
        line++;
        i = j + 1;
    }
    if (first_nb == SIZE_MAX) {
        self->text_len = 0;
        return;
    }
    if (common == SIZE_MAX) {
        common = 0;
    }
    size_t out = 0;
    line = 0;
    i = 0;
    while (i <= len && line <= last_nb) {
        size_t j = i;
        while (j < len && s[j] != '\n') {
            j++;
        }
        if (line >= first_nb) {
            size_t from = i;
            if (line > 0) {
                size_t strip = j - i < common ? j - i : common;
                from += strip;
            }
            if (line > first_nb) {
                s[out++] = '\n';
            }
            memmove (s + out, s + from, j - from);
            out += j - from;
        }
        line++;
        i = j + 1;
    }
    self->text_len = out;
}
