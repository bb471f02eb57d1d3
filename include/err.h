/*
 * err.h - the error record every stackd function fills on failure.
 *
 * Functions return 0 on success and a negative ERR_* code on failure; the
 * message in the record is written for the person who has to act on it, so
 * it names the file, key, engine or request that failed.  A callee records
 * the detail, the caller decides whether to log it: nothing is logged twice.
 */
#ifndef STACKD_ERR_H
#define STACKD_ERR_H

#include <stddef.h>

enum err_code {
	ERR_OK = 0,
	ERR_FAIL = -1,		/* anything without a more specific code */
	ERR_NOMEM = -2,
	ERR_INVALID = -3,	/* bad input or bad configuration */
	ERR_NOTFOUND = -4,	/* engine 404, missing file */
	ERR_CONFLICT = -5,	/* engine 409: name already exists */
	ERR_OUTOFSEQ = -6,	/* engine: "update out of sequence" */
	ERR_TIMEOUT = -7,	/* connect or total timeout elapsed */
	ERR_UNREACHABLE = -8,	/* connection refused, no such socket, DNS */
	ERR_TLS = -9,		/* handshake, certificate or key failure */
	ERR_UNSUPPORTED = -10,	/* feature or endpoint stackd does not support */
	ERR_PROTOCOL = -11,	/* the peer answered something unparseable */
	ERR_ENGINE = -12,	/* engine answered with another HTTP error */
	ERR_DENIED = -13,	/* 401/403: credentials missing or refused */
};

#define ERR_MSG_MAX 1024

struct err {
	int code;		/* one of enum err_code */
	int http_status;	/* engine replies only, else 0 */
	char msg[ERR_MSG_MAX];
};

/* Fill the record (if not NULL) and return code, for `return err_set(...)`. */
int err_set(struct err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix the existing message with more context ("engine prod: ..."). */
void err_prefix(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void err_clear(struct err *e);

/* A stable name for a code ("timeout", "not-found"), for logs and status. */
const char *err_code_name(int code);

#endif
