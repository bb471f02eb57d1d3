/* fuzz_interp.c - variable interpolation of one string. */
#include <stdlib.h>
#include <string.h>

#include "compose.h"
#include "fuzz.h"

static const char *
lookup(const char *name, void *payload)
{
	(void)payload;
	if (strcmp(name, "A") == 0)
		return "alpha";
	if (strcmp(name, "EMPTY") == 0)
		return "";
	if (strcmp(name, "NESTED") == 0)
		return "${A}";
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_cstr(data, size);
	struct compose_interp_result r = { 0 };
	struct err err = { 0 };

	for (int m = COMPOSE_INTERP_CLI; m <= COMPOSE_INTERP_SPEC; m++) {
		if (compose_interpolate(&r, in, m, lookup, NULL, &err) == 0 &&
		    r.value == NULL)
			__builtin_trap();
		compose_interp_result_release(&r);
	}
	free(in);
	return 0;
}
