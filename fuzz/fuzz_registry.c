/*
 * fuzz_registry.c - a body posted to /api/v1/webhook/registry, read as a
 * registry's notification envelope (anyone holding the token may send
 * anything).  Every push reported must name a host and a repository.
 */
#include <stdlib.h>
#include <string.h>

#include "images.h"
#include "fuzz.h"

static void
on_push(const char *host, const char *repository, void *arg)
{
	int *n = arg;

	if (host == NULL || repository == NULL || *host == '\0' ||
	    *repository == '\0')
		__builtin_trap();
	(*n)++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	int seen = 0, n = images_events_read(text, size, on_push, &seen);

	if (n != (n < 0 ? -1 : seen))
		__builtin_trap();
	free(text);
	return 0;
}
