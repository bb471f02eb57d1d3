/*
 * bench_compose - time to load, interpolate and convert stack files, and
 * the peak memory it takes.  Not a test: `make bench` runs it and writes
 * bench/RESULTS.md.
 *
 * The last column is what a loader in a process of its own would add to
 * each load at the least: its result printed as JSON and parsed back (the
 * pipe and the process's start come on top).
 *
 *   bench_compose FILE...   one markdown table row per file
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "compose.h"

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The converted stack as one JSON document, printed and parsed back. */
static double
round_trip_ms(const struct compose_options *o)
{
	struct compose_stack *s = NULL;
	struct err err;
	double t0, t;
	int n = 0;

	if (compose_stack_load(&s, o, &err) < 0)
		return -1;
	t0 = now();
	do {
		cJSON *doc = cJSON_CreateObject();
		char *text;

		cJSON_AddItemReferenceToObject(doc, "services", s->services);
		cJSON_AddItemReferenceToObject(doc, "networks", s->networks);
		cJSON_AddItemReferenceToObject(doc, "secrets", s->secrets);
		cJSON_AddItemReferenceToObject(doc, "configs", s->configs);
		text = cJSON_PrintUnformatted(doc);
		cJSON_Delete(doc);
		cJSON_Delete(cJSON_Parse(text));
		free(text);
		n++;
	} while ((t = now() - t0) < 0.5);
	compose_stack_free(s);
	return t * 1000 / n;
}

int
main(int argc, char **argv)
{
	struct compose_stack *s = NULL;
	struct rusage ru;
	struct err err;

	printf("| file | services | loads | ms per load | peak RSS (MiB) | "
	    "ms per JSON round trip |\n");
	printf("|---|---:|---:|---:|---:|---:|\n");
	for (int i = 1; i < argc; i++) {
		const char *files[] = { argv[i] };
		struct compose_options o = { .stack = "bench", .files = files,
		    .nfiles = 1, .root = "/" };
		double t0 = now(), t;
		int n = 0, services = 0;

		/* Repeat for at least a second, so one slow run cannot lie. */
		do {
			if (compose_stack_load(&s, &o, &err) < 0) {
				fprintf(stderr, "%s\n", err.msg);
				return 1;
			}
			services = cJSON_GetArraySize(s->services);
			compose_stack_free(s);
			n++;
		} while ((t = now() - t0) < 1.0);
		getrusage(RUSAGE_SELF, &ru);
		printf("| %s | %d | %d | %.3f | %.1f | %.3f |\n",
		    strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i],
		    services, n, t * 1000 / n, (double)ru.ru_maxrss / 1024,
		    round_trip_ms(&o));
	}
	return 0;
}
