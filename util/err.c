#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

int
err_set(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return code;
	e->code = code;
	e->http_status = 0;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

void
err_prefix(struct err *e, const char *fmt, ...)
{
	char prefix[256];
	size_t plen, mlen, room;
	va_list ap;

	if (e == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	plen = strlen(prefix);
	mlen = strlen(e->msg);
	/* Keep "prefix: " whole and truncate the old message's tail: the
	 * start of a message says the most. */
	room = sizeof(e->msg) - 1 - plen - 2;
	if (mlen > room)
		mlen = room;
	memmove(e->msg + plen + 2, e->msg, mlen);
	memcpy(e->msg, prefix, plen);
	memcpy(e->msg + plen, ": ", 2);
	e->msg[plen + 2 + mlen] = '\0';
}

void
err_clear(struct err *e)
{
	if (e == NULL)
		return;
	e->code = ERR_OK;
	e->http_status = 0;
	e->msg[0] = '\0';
}

const char *
err_code_name(int code)
{
	switch (code) {
	case ERR_OK:		return "ok";
	case ERR_NOMEM:		return "out-of-memory";
	case ERR_INVALID:	return "invalid";
	case ERR_NOTFOUND:	return "not-found";
	case ERR_CONFLICT:	return "conflict";
	case ERR_OUTOFSEQ:	return "out-of-sequence";
	case ERR_TIMEOUT:	return "timeout";
	case ERR_UNREACHABLE:	return "unreachable";
	case ERR_TLS:		return "tls";
	case ERR_UNSUPPORTED:	return "unsupported";
	case ERR_PROTOCOL:	return "protocol";
	case ERR_ENGINE:	return "engine";
	case ERR_DENIED:	return "denied";
	default:		return "error";
	}
}
