/*
 * fuzz_webhook.c - a webhook delivery's headers and body against the
 * signature check.  Input: "Name: value" lines, an empty line, the body.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "status.h"
#include "fuzz.h"

#define HEADERS_MAX 16

struct request {
	char *name[HEADERS_MAX];
	char *value[HEADERS_MAX];
	size_t n;
};

static const char *
get(const char *name, void *payload)
{
	const struct request *r = payload;

	for (size_t i = 0; i < r->n; i++)
		if (strcasecmp(r->name[i], name) == 0)
			return r->value[i];
	return NULL;
}

/* Split text in place into headers; returns the body. */
static char *
parse(char *text, struct request *r)
{
	char *line = text, *nl, *colon;

	while ((nl = strchr(line, '\n')) != NULL) {
		*nl = '\0';
		if (*line == '\0')
			return nl + 1;
		if ((colon = strchr(line, ':')) != NULL && r->n < HEADERS_MAX) {
			*colon = '\0';
			r->name[r->n] = line;
			r->value[r->n++] = colon + 1 + (colon[1] == ' ');
		}
		line = nl + 1;
	}
	return line;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	struct request r = { 0 };
	const char *event = NULL;
	char *body = parse(text, &r);
	enum ctl_hook_verdict v;

	v = ctl_webhook_check("It's a Secret to Everybody", body,
	    size - (size_t)(body - text), get, &r, &event);
	if ((v == CTL_HOOK_PUSH || v == CTL_HOOK_IGNORED) && event == NULL)
		__builtin_trap();
	free(text);
	return 0;
}
