/*
 * cmd_reconcile.c - `stackd plan` and `stackd apply`: one stack, one
 * engine, one pass.
 *
 * plan exits 0 when the engine matches the file, 2 when changes are
 * pending, 1 on error; apply exits 0 or 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller.h"
#include "reconciler.h"

static const char plan_usage[] =
    "usage: stackd plan -f FILE [-f FILE]... -s STACK [--vars FILE]...\n"
    "                   [--var KEY=VALUE]... [--env-inherit] [--strict-vars]\n"
    "                   [--root DIR] [--engine URL] [--owner NAME]\n"
    "                   [--keep-replicas] [--json]\n"
    "\n"
    "Show what apply would change on the engine (DOCKER_HOST or --engine).\n"
    "Exit status: 0 in sync, 2 changes pending, 1 error.\n";

static const char apply_usage[] =
    "usage: stackd apply -f FILE [-f FILE]... -s STACK [--vars FILE]...\n"
    "                    [--var KEY=VALUE]... [--env-inherit] [--strict-vars]\n"
    "                    [--root DIR] [--engine URL] [--owner NAME]\n"
    "                    [--keep-replicas]\n"
    "\n"
    "Make the engine (DOCKER_HOST or --engine) match the stack: create,\n"
    "update and remove only what differs, then exit (0 ok, 1 error).\n";

/* Load the stack, then observe the engine and plan. */
static int
prepare(struct controller_stack_opts *so, struct engine **e,
    struct recon_plan **plan, struct err *err)
{
	struct recon_options ro = { .owner = so->owner,
	    .keep_replicas = so->keep_replicas };
	struct compose_stack *stack = NULL;
	struct recon_observed obs = { 0 };
	struct engine_config cfg;
	int rc;

	/* The file first: a broken file never reaches the engine. */
	if ((rc = compose_stack_load(&stack, &so->compose, err)) < 0)
		return rc;
	for (size_t i = 0; i < stack->nwarnings; i++)
		fprintf(stderr, "stackd: warning: %s\n", stack->warnings[i]);
	if ((rc = engine_config_from_env(&cfg, err)) < 0)
		goto out;
	if (so->engine != NULL) {
		free(cfg.host);
		cfg.host = strdup(so->engine);
	}
	if ((rc = engine_open(e, &cfg, err)) < 0 ||
	    (rc = recon_observe(&obs, *e, err)) < 0 ||
	    (rc = recon_plan_stack(plan, stack, &obs, &ro, err)) < 0)
		goto out;
out:
	engine_config_release(&cfg);
	recon_observed_release(&obs);
	compose_stack_free(stack);
	return rc;
}

int
controller_cmd_plan(int argc, char **argv)
{
	struct controller_stack_opts so;
	struct recon_plan *plan = NULL;
	struct engine *e = NULL;
	struct err err;
	char *text;
	int rc = 1;

	if (controller_stack_options(&so, argc, argv, plan_usage) != 0)
		return so.help ? 0 : 1;
	if (prepare(&so, &e, &plan, &err) < 0) {
		fprintf(stderr, "stackd: %s\n", err.msg);
		goto out;
	}
	if (so.json) {
		cJSON *j = recon_plan_json(plan);
		text = cJSON_Print(j);
		printf("%s\n", text ? text : "{}");
		free(text);
		cJSON_Delete(j);
	} else
		recon_plan_print(plan, stdout);
	rc = recon_plan_in_sync(plan) ? 0 : 2;
out:
	recon_plan_free(plan);
	engine_free(e);
	controller_stack_options_release(&so);
	return rc;
}

int
controller_cmd_apply(int argc, char **argv)
{
	struct controller_stack_opts so;
	struct recon_plan *plan = NULL;
	struct recon_stats st;
	struct engine *e = NULL;
	struct err err;
	int rc = 1;

	if (controller_stack_options(&so, argc, argv, apply_usage) != 0)
		return so.help ? 0 : 1;
	if (prepare(&so, &e, &plan, &err) < 0) {
		fprintf(stderr, "stackd: %s\n", err.msg);
		goto out;
	}
	recon_plan_print(plan, stdout);
	if (recon_apply(e, plan, &st, &err) < 0) {
		fprintf(stderr, "stackd: %s\n", err.msg);
		goto out;
	}
	printf("stack %s: %u created, %u updated, %u removed", plan->stack,
	    st.creates, st.updates, st.removes);
	if (st.retries > 0)
		printf(", %u retried after a concurrent write", st.retries);
	printf("\n");
	rc = 0;
out:
	recon_plan_free(plan);
	engine_free(e);
	controller_stack_options_release(&so);
	return rc;
}
