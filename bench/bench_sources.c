/*
 * bench_sources - how fast sources notice changes, and what a git poll
 * costs.  Prints Markdown for bench/RESULTS.md.
 *
 *   bench_sources dir DIR [EDITS]      file saved -> snapshot delivered
 *   bench_sources git URL CACHE [TOKEN_FILE USER]
 *                                      first fetch, then idle polls
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "sources.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static long
max_rss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* Save a file the way editors do (write a temporary, rename it over). */
static void
save(const char *dir, int i)
{
	char tmp[4096], path[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s/web/.compose.yaml.tmp", dir);
	snprintf(path, sizeof(path), "%s/web/compose.yaml", dir);
	if ((f = fopen(tmp, "w")) == NULL)
		exit(1);
	fprintf(f, "services:\n  app:\n    image: local/busybox:1\n"
	    "    environment: {EDIT: \"%d\"}\n", i);
	fclose(f);
	rename(tmp, path);
}

static int
bench_dir(const char *dir, int edits, int debounce_ms)
{
	struct sources_dir_opts o = { .root = dir, .debounce_ms = debounce_ms };
	struct sources_snapshot *s = NULL;
	struct sources_dir *d;
	double *lat = calloc((size_t)edits, sizeof(double));
	struct err err;
	int got = 0;

	save(dir, -1);
	if (lat == NULL || sources_dir_open(&d, &o, &err) < 0 ||
	    sources_dir_next(d, &s, 1000, &err) != 1) {
		fprintf(stderr, "bench_sources: %s\n", err.msg);
		return 1;
	}
	sources_snapshot_unref(s);
	for (int i = 0; i < edits; i++) {
		double t0 = now_s();
		save(dir, i);
		if (sources_dir_next(d, &s, 5000, &err) == 1) {
			lat[got++] = (now_s() - t0) * 1000;
			sources_snapshot_unref(s);
		}
	}
	qsort(lat, (size_t)got, sizeof(double), cmp_double);
	printf("| %d ms | %d/%d | %.0f ms | %.0f ms | %.0f ms |\n",
	    debounce_ms, got, edits, got ? lat[got / 2] : 0,
	    got ? lat[got * 95 / 100] : 0, got ? lat[got - 1] : 0);
	sources_dir_free(d);
	free(lat);
	return got == edits ? 0 : 1;
}

static int
bench_git(const char *url, const char *cache, const char *token,
    const char *user)
{
	struct sources_git_opts o = { .url = (char *)url, .ref = "main",
	    .cache_dir = (char *)cache, .token_file = (char *)token,
	    .username = (char *)user };
	struct sources_git_stats st;
	struct sources_snapshot *s = NULL;
	struct sources_git *g;
	struct err err;
	double t0, idle[20];
	unsigned long long bytes = 0;
	size_t stacks;

	t0 = now_s();
	if (sources_git_open(&g, &o, &err) < 0 ||
	    sources_git_next(g, &s, 0, &err) != 1) {
		fprintf(stderr, "bench_sources: %s\n", err.msg);
		return 1;
	}
	sources_git_stats(g, &st);
	stacks = s->list.n;
	printf("| first fetch + snapshot | %zu stacks | %.0f ms | %llu bytes "
	    "| %ld MiB |\n", stacks, (now_s() - t0) * 1000, st.last_bytes,
	    max_rss_kib() / 1024);
	for (int i = 0; i < 20; i++) {
		sources_git_trigger(g);
		t0 = now_s();
		if (sources_git_next(g, &s, 5000, &err) != 0) {
			fprintf(stderr, "bench_sources: idle poll delivered\n");
			return 1;
		}
		idle[i] = (now_s() - t0) * 1000;
		sources_git_stats(g, &st);
		bytes += st.last_bytes;
	}
	sources_git_stats(g, &st);
	if (st.fetches != 21 || st.fetch_errors != 0) {
		fprintf(stderr, "bench_sources: %lu fetches, %lu failed\n",
		    st.fetches, st.fetch_errors);
		return 1;
	}
	qsort(idle, 20, sizeof(double), cmp_double);
	printf("| poll, no new commit (20 polls) | %zu stacks | p50 %.1f ms, "
	    "max %.1f ms | %llu bytes | %ld MiB |\n", stacks, idle[10],
	    idle[19], bytes / 20, max_rss_kib() / 1024);
	sources_git_free(g);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "dir") == 0) {
		int edits = argc > 3 ? atoi(argv[3]) : 100;
		return bench_dir(argv[2], edits, 200) |
		    bench_dir(argv[2], edits, 20);
	}
	if (argc >= 4 && strcmp(argv[1], "git") == 0)
		return bench_git(argv[2], argv[3], argc > 4 ? argv[4] : NULL,
		    argc > 5 ? argv[5] : NULL);
	fprintf(stderr, "usage: bench_sources dir DIR [EDITS] | "
	    "git URL CACHE [TOKEN_FILE USER]\n");
	return 2;
}
