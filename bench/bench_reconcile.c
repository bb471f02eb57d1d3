/*
 * bench_reconcile - the reconciler over many stacks on one engine, as the
 * controller runs it: load every stack, observe the engine once, plan and
 * apply each.  Three passes: cold (nothing exists), no-op (nothing
 * changed), and one changed service.  Not a test: bench/reconcile.sh runs
 * it next to a `docker stack deploy` loop over the same files.
 *
 *   bench_reconcile PREFIX FILE...   (engine: DOCKER_HOST)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <curl/curl.h>

#include "reconciler.h"

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int
pass(struct engine *e, const char *label, const char *prefix, char **files,
    int n, const char *var)
{
	struct engine_counters c0, c1;
	struct recon_observed obs;
	struct recon_stats st, total = { 0 };
	struct err err;
	double t0 = now(), t_obs;
	char name[64];
	int rc = 0;

	engine_counters_get(e, &c0);
	if (recon_observe(&obs, e, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	t_obs = now() - t0;
	for (int i = 0; rc == 0 && i < n; i++) {
		const char *fl[] = { files[i] };
		const char *vars[] = { var };
		struct compose_options o = { .stack = name, .files = fl,
		    .nfiles = 1, .vars = vars, .nvars = var && i == 0 };
		struct compose_stack *s = NULL;
		struct recon_plan *p = NULL;

		snprintf(name, sizeof(name), "%s%d", prefix, i);
		if ((rc = compose_stack_load(&s, &o, &err)) == 0 &&
		    (rc = recon_plan_stack(&p, s, &obs, NULL, &err)) == 0 &&
		    (rc = recon_apply(e, p, &st, &err)) == 0) {
			total.creates += st.creates;
			total.updates += st.updates;
			total.removes += st.removes;
		}
		if (rc < 0)
			fprintf(stderr, "%s\n", err.msg);
		recon_plan_free(p);
		compose_stack_free(s);
	}
	recon_observed_release(&obs);
	engine_counters_get(e, &c1);
	printf("| stackd %s | %.3f | %.3f | %lu | %lu | %lu | %u |\n", label,
	    now() - t0, t_obs, c1.get - c0.get, c1.post - c0.post,
	    c1.del - c0.del, total.creates + total.updates + total.removes);
	return rc;
}

int
main(int argc, char **argv)
{
	struct engine_config cfg;
	struct engine *e = NULL;
	struct rusage ru;
	struct err err;
	int rc = 1;

	if (argc < 3) {
		fprintf(stderr, "usage: bench_reconcile PREFIX FILE...\n");
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	engine_config_from_env(&cfg);
	if (engine_open(&e, &cfg, &err) < 0 || engine_ping(e, NULL, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		goto out;
	}
	if (pass(e, "cold apply", argv[1], argv + 2, argc - 2, NULL) < 0 ||
	    pass(e, "no-op apply", argv[1], argv + 2, argc - 2, NULL) < 0 ||
	    pass(e, "no-op apply, again", argv[1], argv + 2, argc - 2,
	    NULL) < 0 ||
	    pass(e, "one service changed", argv[1], argv + 2, argc - 2,
	    "BENCH_CHANGE=2") < 0)
		goto out;
	getrusage(RUSAGE_SELF, &ru);
	printf("\nstackd peak RSS over all passes: %.1f MiB\n",
	    (double)ru.ru_maxrss / 1024);
	rc = 0;
out:
	engine_free(e);
	engine_config_release(&cfg);
	curl_global_cleanup();
	return rc;
}
