/*
 * log.h - one line per event, for the daemon: level, engine, stack,
 * object, message; as text (key=value) or JSON.  Thread-safe: a line is
 * written with one call.  Callers never pass secret values: messages are
 * built from names and engine replies, not from file contents.
 */
#ifndef STACKD_LOG_H
#define STACKD_LOG_H

#include <stdbool.h>
#include <stdio.h>

enum log_level {
	LOG_DEBUG,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR,
};

enum log_format {
	LOG_TEXT,
	LOG_JSON,
};

/* Where and how lines go (default: stderr, text, info and above). */
void log_setup(FILE *out, enum log_format format, enum log_level min);
int log_format_parse(const char *s, enum log_format *out);
int log_level_parse(const char *s, enum log_level *out);

/* engine, stack, object may be NULL (left out of the line). */
void log_event(enum log_level level, const char *engine, const char *stack,
    const char *object, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
