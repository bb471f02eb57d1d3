/*
 * log.c - one line per event (see log.h).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "log.h"

static FILE *log_out;
static enum log_format log_fmt = LOG_TEXT;
static enum log_level log_min = LOG_INFO;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = { "debug", "info", "warn",
    "error" };

void
log_setup(FILE *out, enum log_format format, enum log_level min)
{
	log_out = out;
	log_fmt = format;
	log_min = min;
}

int
log_format_parse(const char *s, enum log_format *out)
{
	if (strcmp(s, "text") == 0)
		*out = LOG_TEXT;
	else if (strcmp(s, "json") == 0)
		*out = LOG_JSON;
	else
		return -1;
	return 0;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	for (int i = 0; i <= LOG_ERROR; i++)
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

/* A text value: bare when it is one word, else quoted with \" and \\. */
static void
text_field(FILE *f, const char *key, const char *v)
{
	if (v == NULL)
		return;
	fprintf(f, " %s=", key);
	if (*v != '\0' && strpbrk(v, " \"=\\\t\n") == NULL) {
		fputs(v, f);
		return;
	}
	fputc('"', f);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			fputc('\\', f);
		fputc(*v == '\n' || *v == '\t' ? ' ' : *v, f);
	}
	fputc('"', f);
}

static void
json_line(FILE *f, const char *ts, enum log_level level, const char *engine,
    const char *stack, const char *object, const char *msg)
{
	cJSON *o = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(o, "time", ts);
	cJSON_AddStringToObject(o, "level", level_names[level]);
	if (engine != NULL)
		cJSON_AddStringToObject(o, "engine", engine);
	if (stack != NULL)
		cJSON_AddStringToObject(o, "stack", stack);
	if (object != NULL)
		cJSON_AddStringToObject(o, "object", object);
	cJSON_AddStringToObject(o, "msg", msg);
	text = cJSON_PrintUnformatted(o);
	fprintf(f, "%s\n", text);
	free(text);
	cJSON_Delete(o);
}

void
log_event(enum log_level level, const char *engine, const char *stack,
    const char *object, const char *fmt, ...)
{
	FILE *f = log_out ? log_out : stderr;
	char msg[2048], ts[40];
	struct timespec now;
	struct tm tm;
	va_list ap;

	if (level < log_min)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, 24, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + strlen(ts), 8, ".%03dZ",
	    (int)(now.tv_nsec / 1000000) % 1000);
	pthread_mutex_lock(&log_mu);
	if (log_fmt == LOG_JSON) {
		json_line(f, ts, level, engine, stack, object, msg);
	} else {
		fprintf(f, "%s %s", ts, level_names[level]);
		text_field(f, "engine", engine);
		text_field(f, "stack", stack);
		text_field(f, "object", object);
		text_field(f, "msg", msg);
		fputc('\n', f);
	}
	fflush(f);
	pthread_mutex_unlock(&log_mu);
}
