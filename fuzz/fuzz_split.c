/*
 * fuzz_split.c - an engine's list reply split as it arrives, against the
 * whole text parsed at once: the first byte says how many bytes a chunk
 * is, the rest is the reply.  Both must agree on whether it is an array
 * and on its elements (json_same: cJSON_Compare finds a tree with a
 * duplicate key unequal to itself).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json.h"

static int
collect(cJSON *item, void *payload)
{
	cJSON_AddItemToArray(payload, item);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_split s;
	size_t step, at = 1;
	char *text;
	cJSON *whole, *got;
	int rc = 0;

	if (size < 1)
		return 0;
	step = data[0] % 16 + 1;
	text = fuzz_cstr(data + 1, size - 1);
	/* cJSON reads a NUL as the end of the text; the engine sends none */
	if (strlen(text) != size - 1) {
		free(text);
		return 0;
	}
	whole = cJSON_ParseWithOpts(text, NULL, true);
	got = cJSON_CreateArray();
	json_split_init(&s, 1 << 20, collect, got);
	for (; rc == 0 && at < size; at += step)
		rc = json_split_feed(&s, (const char *)data + at,
		    size - at < step ? size - at : step);
	if ((rc == 0 && json_split_end(&s) == 0) != cJSON_IsArray(whole) ||
	    (cJSON_IsArray(whole) && !json_same(got, whole)))
		__builtin_trap();
	json_split_release(&s);
	cJSON_Delete(got);
	cJSON_Delete(whole);
	free(text);
	return 0;
}
