/*
 * bench_images - image pinning over many stacks on one engine: the cost of
 * a cold lookup pass, of a no-op cycle with a warm cache (it must ask no
 * registry and write nothing), and of cycles while the registry is down.
 * Not a test: bench/images.sh runs it against a local registry.
 *
 *   bench_images PREFIX FILE...   (engine: DOCKER_HOST; BENCH_REGISTRY_STOP:
 *                                  a shell command that stops the registry)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "clock.h"
#include "reconciler.h"

struct run {
	struct engine *e;
	struct images_cache *cache;
	enum images_mode mode;
	const char *prefix;
	char **files;
	int n;
	double resolve_s;	/* of the pass: time in lookups */
};

/* Seconds on the monotonic clock. */
static double
now(void)
{
	return (double)clock_mono_ms() / 1000.0;
}

/* One stack: load, look its images up, plan, apply; writes made. */
static int
stack(struct run *r, const struct recon_observed *obs, int i,
    unsigned *writes)
{
	const char *fl[] = { r->files[i] };
	char name[64];
	struct compose_options o = { .stack = name, .files = fl, .nfiles = 1 };
	struct recon_options ro = { .resolve = r->mode, .images = r->cache };
	struct compose_stack *s = NULL;
	struct recon_plan *p = NULL;
	struct recon_stats st = { 0 };
	struct err err;
	double t0;
	int rc;

	snprintf(name, sizeof(name), "%s%d", r->prefix, i);
	if ((rc = compose_stack_load(&s, &o, &err)) == 0) {
		t0 = now();
		recon_stack_resolve(s, obs, &ro, r->e, &err);
		r->resolve_s += now() - t0;
		if ((rc = recon_plan_stack(&p, s, obs, &ro, &err)) == 0)
			rc = recon_apply(r->e, p, &st, &err);
	}
	if (rc < 0)
		fprintf(stderr, "%s\n", err.msg);
	*writes += st.creates + st.updates + st.removes;
	recon_plan_free(p);
	compose_stack_free(s);
	return rc;
}

/* One pass; its wall time in *wall, its row printed unless label is
 * NULL. */
static int
pass_timed(struct run *r, const char *label, double *wall)
{
	struct images_stats i0, i1;
	struct recon_observed obs;
	unsigned writes = 0;
	struct err err;
	double t0 = now();
	int rc = 0;

	images_cache_stats(r->cache, &i0);
	images_cache_pass(r->cache, r->e, &err);
	r->resolve_s = now() - t0;
	if (recon_observe(&obs, r->e, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	for (int i = 0; rc == 0 && i < r->n; i++)
		rc = stack(r, &obs, i, &writes);
	recon_observed_release(&obs);
	images_cache_stats(r->cache, &i1);
	*wall = now() - t0;
	if (label != NULL)
		printf("| %s | %.3f | %.3f | %lu | %lu | %u |\n", label, *wall,
		    r->resolve_s, i1.resolved - i0.resolved,
		    i1.failed - i0.failed, writes);
	if (writes > 0 && label == NULL)
		fprintf(stderr, "bench_images: a no-op pass wrote %u\n", writes);
	return rc;
}

static int
pass(struct run *r, const char *label)
{
	double wall;

	return pass_timed(r, label, &wall);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The no-op cost of pinning: never and always (warm cache) alternated,
 * ROUNDS each. */
#define ROUNDS 20
static int
noop_ratio(struct run *r)
{
	double never[ROUNDS], always[ROUNDS];

	for (int i = 0; i < ROUNDS; i++) {
		r->mode = IMAGES_NEVER;
		if (pass_timed(r, NULL, &never[i]) < 0)
			return -1;
		r->mode = IMAGES_ALWAYS;
		if (pass_timed(r, NULL, &always[i]) < 0)
			return -1;
	}
	qsort(never, ROUNDS, sizeof(double), cmp_double);
	qsort(always, ROUNDS, sizeof(double), cmp_double);
	/* The engine's list calls are most of a no-op pass and vary from
	 * one call to the next; the fastest of each kind is its cost. */
	printf("| no-op, never (no lookups: the old cost), best and median of "
	    "%d | %.3f, %.3f | | 0 | 0 | 0 |\n", ROUNDS, never[0],
	    never[ROUNDS / 2]);
	printf("| no-op, always, warm cache, best and median of %d | %.3f, "
	    "%.3f | | 0 | 0 | 0 |\n", ROUNDS, always[0], always[ROUNDS / 2]);
	printf("\nwarm no-op / never no-op: %.2f best, %.2f median\n\n",
	    always[0] / never[0], always[ROUNDS / 2] / never[ROUNDS / 2]);
	return 0;
}

/* A fresh cache: poll_ms 0 asks at every look. */
static int
fresh(struct run *r, long poll_ms)
{
	images_cache_free(r->cache);
	r->cache = images_cache_new(poll_ms, 0, NULL, NULL);
	return 0;
}

int
main(int argc, char **argv)
{
	struct engine_config cfg;
	struct run r = { .prefix = argc > 1 ? argv[1] : "", .files = argv + 2,
	    .n = argc - 2 };
	const char *stop = getenv("BENCH_REGISTRY_STOP");
	struct err err;
	int rc = 1;

	if (argc < 3 || stop == NULL) {
		fprintf(stderr, "usage: BENCH_REGISTRY_STOP=CMD bench_images "
		    "PREFIX FILE...\n");
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	engine_config_from_env(&cfg);
	if (engine_open(&r.e, &cfg, &err) < 0 || engine_ping(r.e, NULL,
	    &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		goto out;
	}
	printf("| pass | wall s | in lookups s | resolved | failed | writes |\n");
	printf("|---|---:|---:|---:|---:|---:|\n");
	r.mode = IMAGES_ALWAYS;
	if (fresh(&r, 300000) < 0 || pass(&r, "cold apply, always") < 0)
		goto out;
	r.mode = IMAGES_ALWAYS;
	if (pass(&r, "no-op, always, warm cache, right after") < 0 ||
	    noop_ratio(&r) < 0)
		goto out;
	printf("| pass | wall s | in lookups s | resolved | failed | writes |\n");
	printf("|---|---:|---:|---:|---:|---:|\n");
	if (fresh(&r, 300000) < 0 ||
	    pass(&r, "no-op, always, cold cache (50 lookups)") < 0 ||
	    fresh(&r, 0) < 0 ||
	    pass(&r, "no-op, always, image_poll 0, registry up") < 0)
		goto out;
	if (system(stop) != 0)
		fprintf(stderr, "bench_images: %s failed\n", stop);
	if (pass(&r, "no-op, always, image_poll 0, registry down") < 0 ||
	    fresh(&r, 300000) < 0 ||
	    pass(&r, "registry down, cold cache (50 failed lookups)") < 0 ||
	    pass(&r, "registry down, warm cache") < 0)
		goto out;
	rc = 0;
out:
	images_cache_free(r.cache);
	engine_free(r.e);
	engine_config_release(&cfg);
	curl_global_cleanup();
	return rc;
}
