/*
 * fuzz_engine.c - what the engine sends back, as the reconciler reads it:
 * the four lists (services, networks, secrets, configs) indexed, planned
 * against a real stack (examples/voting), a removal planned, the plan
 * printed.  The input is one JSON document: {"services": [...],
 * "networks": [...], ...}, or any other value, which then stands for
 * every list.
 */
#include <stdio.h>
#include <stdlib.h>

#include "compose.h"
#include "fuzz.h"
#include "reconciler.h"

static struct compose_stack *desired;
static FILE *devnull;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *files[] = { SRCDIR "/examples/voting/compose.yaml" };
	const char *var_files[] = { SRCDIR "/examples/voting/vars.yaml" };
	struct compose_options o = { .stack = "voting", .files = files,
	    .nfiles = 1, .var_files = var_files, .nvar_files = 1 };
	struct err err = { 0 };

	(void)argc;
	(void)argv;
	if (compose_stack_load(&desired, &o, &err) < 0) {
		fprintf(stderr, "fuzz_engine: %s\n", err.msg);
		abort();
	}
	devnull = fopen("/dev/null", "w");
	return 0;
}

static cJSON *
list(const cJSON *doc, const char *key)
{
	const cJSON *l = cJSON_IsObject(doc) ?
	    cJSON_GetObjectItemCaseSensitive(doc, key) : doc;

	return cJSON_Duplicate(l != NULL ? l : doc, 1);
}

static void
plan_and_print(struct recon_plan *p)
{
	cJSON *attempted = cJSON_CreateObject();
	cJSON *j = recon_plan_json(p);

	recon_plan_print(p, devnull);
	recon_plan_attempted(p, p->n, attempted);
	(void)recon_plan_in_sync(p);
	cJSON_Delete(j);
	cJSON_Delete(attempted);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
	struct recon_observed obs = { 0 };
	struct recon_options opt = { .owner = "fz" };
	struct recon_plan *p = NULL;
	struct err err = { 0 };
	cJSON *stacks;

	if (doc == NULL)
		return 0;
	obs.services = list(doc, "services");
	obs.networks = list(doc, "networks");
	obs.secrets = list(doc, "secrets");
	obs.configs = list(doc, "configs");
	cJSON_Delete(doc);
	if (recon_observed_index(&obs, &err) == 0) {
		if (recon_plan_stack(&p, desired, &obs, &opt, &err) == 0)
			plan_and_print(p);
		recon_plan_free(p);
		p = NULL;
		if (recon_plan_removal(&p, "voting", &obs, &opt, &err) == 0)
			plan_and_print(p);
		recon_plan_free(p);
		stacks = recon_observed_stacks(&obs, "fz");
		cJSON_Delete(stacks);
	}
	recon_observed_release(&obs);
	return 0;
}
