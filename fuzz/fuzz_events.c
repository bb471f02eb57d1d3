/*
 * fuzz_events.c - the engine's /events stream decoder, fed in chunks of
 * the sizes the first input byte picks (a line split anywhere must give
 * the same events).
 */
#include "engine_int.h"
#include "fuzz.h"

static int
on_event(const cJSON *ev, void *payload)
{
	const cJSON *actor = cJSON_GetObjectItemCaseSensitive(ev, "Actor");
	const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(actor,
	    "Attributes");
	size_t *n = payload;

	(void)cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(attrs,
	    "name"));
	return ++*n > 1000;	/* stop like a worker told to quit */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct engine_event_stream s;
	size_t chunk, n = 0;

	if (size == 0)
		return 0;
	chunk = (size_t)data[0] % 64 + 1;
	data++;
	size--;
	engine_event_stream_init(&s, on_event, &n);
	while (size > 0) {
		size_t k = size < chunk ? size : chunk;
		if (engine_event_stream_feed(&s, (const char *)data, k) != 0)
			break;
		data += k;
		size -= k;
	}
	engine_event_stream_release(&s);
	return 0;
}
