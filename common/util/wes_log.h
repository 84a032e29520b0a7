/*  wes_log.h — the one logging module: JSON lines on stderr by default,
    plain text when asked. The logger is the only process-wide state. */
#ifndef WES_LOG_H
#define WES_LOG_H

typedef enum { WES_LOG_DEBUG, WES_LOG_INFO, WES_LOG_WARN, WES_LOG_ERROR } wes_log_level_t;
typedef enum { WES_LOG_JSON, WES_LOG_TEXT } wes_log_format_t;

/*  role names the process ("wesley", "worker"); copied. */
void wes_log_init (const char *role, wes_log_level_t level, wes_log_format_t format);
wes_log_level_t wes_log_level (void);

/*  Parses "json"/"text" and "debug"/"info"/"warn"/"error"; 0 ok, -1 for
    anything else (the caller names the flag in its error). */
int wes_log_parse_format (const char *name, wes_log_format_t *format);
int wes_log_parse_level (const char *name, wes_log_level_t *level);

/*  Context fields (run, target, step, attempt) may be NULL. The level is
    checked before the arguments are formatted. A JSON line carries time,
    level, role, run, target, step, attempt and message. */
#define wes_log(level, run, target, step, ...)                                                    \
    wes_log_attempt (level, run, target, step, NULL, __VA_ARGS__)
#define wes_log_attempt(level, run, target, step, attempt, ...)                                   \
    do {                                                                                          \
        if ((level) >= wes_log_level ()) {                                                        \
            wes_log_emit_ ((level), (run), (target), (step), (attempt), __VA_ARGS__);             \
        }                                                                                         \
    } while (0)

#define wes_log_info(...) wes_log (WES_LOG_INFO, NULL, NULL, NULL, __VA_ARGS__)
#define wes_log_warn(...) wes_log (WES_LOG_WARN, NULL, NULL, NULL, __VA_ARGS__)
#define wes_log_error(...) wes_log (WES_LOG_ERROR, NULL, NULL, NULL, __VA_ARGS__)
#define wes_log_debug(...) wes_log (WES_LOG_DEBUG, NULL, NULL, NULL, __VA_ARGS__)

void wes_log_emit_ (wes_log_level_t level, const char *run, const char *target, const char *step,
                    const char *attempt, const char *fmt, ...)
    __attribute__ ((format (printf, 6, 7)));

#endif
