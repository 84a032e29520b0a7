/*  wes_log.c — JSON-lines logger on stderr. */
#include "wes_log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wes_limits.h"

/*  The logger's settings: the one piece of process-wide state (STYLE.md). */
static struct {
    char role[32];
    wes_log_level_t level;
    wes_log_format_t format;
} s_log = {"wesley", WES_LOG_INFO, WES_LOG_JSON};

static const char *s_level_names[] = {"debug", "info", "warn", "error"};

void
wes_log_init (const char *role, wes_log_level_t level, wes_log_format_t format)
{
    snprintf (s_log.role, sizeof s_log.role, "%s", role ? role : "wesley");
    s_log.level = level;
    s_log.format = format;
}

wes_log_level_t
wes_log_level (void)
{
    return s_log.level;
}

int
wes_log_parse_format (const char *name, wes_log_format_t *format)
{
    if (name && strcmp (name, "json") == 0) {
        *format = WES_LOG_JSON;
        return 0;
    }
    if (name && strcmp (name, "text") == 0) {
        *format = WES_LOG_TEXT;
        return 0;
    }
    return -1;
}

int
wes_log_parse_level (const char *name, wes_log_level_t *level)
{
    for (int k = 0; name && k < 4; k++) {
        if (strcmp (name, s_level_names[k]) == 0) {
            *level = (wes_log_level_t) k;
            return 0;
        }
    }
    return -1;
}

void
wes_log_emit_ (wes_log_level_t level, const char *run, const char *target, const char *step,
               const char *attempt, const char *fmt, ...)
{
    char msg[WES_MAX_LOG_LINE];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (msg, sizeof msg, fmt, ap);
    va_end (ap);

    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r (&ts.tv_sec, &tm);
    char when[40];
    size_t n = strftime (when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf (when + n, sizeof when - n, ".%03ldZ", ts.tv_nsec / 1000000L);

    if (s_log.format == WES_LOG_TEXT) {
        fprintf (stderr, "%s %-5s %s:%s%s%s%s%s%s%s%s %s\n", when, s_level_names[level],
                 s_log.role, run ? " run=" : "", run ? run : "", target ? " target=" : "",
                 target ? target : "", step ? " step=" : "", step ? step : "",
                 attempt ? " attempt=" : "", attempt ? attempt : "", msg);
        return;
    }
    json_t *o = json_object ();
    json_object_set_new (o, "time", json_string (when));
    json_object_set_new (o, "level", json_string (s_level_names[level]));
    json_object_set_new (o, "role", json_string (s_log.role));
    if (run) {
        json_object_set_new (o, "run", json_string (run));
    }
    if (target) {
        json_object_set_new (o, "target", json_string (target));
    }
    if (step) {
        json_object_set_new (o, "step", json_string (step));
    }
    if (attempt) {
        json_object_set_new (o, "attempt", json_string (attempt));
    }
    /* json_string refuses invalid UTF-8; keep the line rather than lose it. */
    json_t *m = json_string (msg);
    json_object_set_new (o, "message", m ? m : json_string ("<message not valid UTF-8>"));
    char *line = json_dumps (o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (line) {
        fprintf (stderr, "%s\n", line);
        free (line);
    }
    json_decref (o);
}
