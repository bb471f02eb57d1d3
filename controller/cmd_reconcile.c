/*
 * cmd_reconcile.c - `stackd plan` and `stackd apply`: one pass over one
 * engine, for one stack (-f, -s) or every stack in a directory (--dir).
 *
 * The engine is observed once, then pass.c plans (and applies) each
 * stack on its own.  With --dir, stacks this owner has on the engine but
 * the directory no longer holds are removed.
 *
 * plan exits 0 when everything matches, 2 when changes are pending, 1 on
 * any error; apply exits 0 or 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller.h"
#include "controller_int.h"

static const char plan_usage[] =
    "usage: stackd plan (-f FILE [-f FILE]... -s STACK | --dir DIR)\n"
    "                   [--vars FILE]... [--var KEY=VALUE]... [--env-inherit]\n"
    "                   [--strict-vars] [--root DIR] [--engine URL]\n"
    "                   [--owner NAME] [--keep-replicas] [--prune-secrets]\n"
    "                   [--allow-empty] [--json]\n"
    "\n"
    "Show what apply would change on the engine (DOCKER_HOST or --engine).\n"
    "Exit status: 0 in sync, 2 changes pending, 1 error.\n";

static const char apply_usage[] =
    "usage: stackd apply (-f FILE [-f FILE]... -s STACK | --dir DIR)\n"
    "                    [--vars FILE]... [--var KEY=VALUE]... [--env-inherit]\n"
    "                    [--strict-vars] [--root DIR] [--engine URL]\n"
    "                    [--owner NAME] [--keep-replicas] [--prune-secrets]\n"
    "                    [--allow-empty] [--prune-limit PCT]\n"
    "\n"
    "Make the engine (DOCKER_HOST or --engine) match the stacks: create,\n"
    "update and remove only what differs, then exit (0 ok, 1 error).\n";

struct pass {
	struct ctl_pass p;
	int pending;		/* stacks not in sync (plan) */
	cJSON *json;		/* plan --json: the plans */
};

/* Does msg already start with "stack NAME:"? */
static bool
names_stack(const char *msg, const char *stack)
{
	size_t n = strlen(stack);

	return strncmp(msg, "stack ", 6) == 0 &&
	    strncmp(msg + 6, stack, n) == 0 && msg[6 + n] == ':';
}

static void
report(const struct ctl_result *r, void *payload)
{
	struct pass *ps = payload;

	if (r->loaded != NULL)
		for (size_t i = 0; i < r->loaded->nwarnings; i++)
			fprintf(stderr, "stackd: warning: %s\n",
			    r->loaded->warnings[i]);
	if (r->plan != NULL) {
		if (ps->json != NULL)
			cJSON_AddItemToArray(ps->json, recon_plan_json(r->plan));
		else
			recon_plan_print(r->plan, stdout);
		if (!recon_plan_in_sync(r->plan))
			ps->pending++;
	}
	if (r->err != NULL) {
		if (r->stack != NULL && r->plan == NULL && r->loaded == NULL &&
		    !names_stack(r->err->msg, r->stack))
			fprintf(stderr, "stackd: stack %s: %s\n", r->stack,
			    r->err->msg);
		else
			fprintf(stderr, "stackd: %s\n", r->err->msg);
		return;
	}
	if (!r->applied)
		return;
	printf("stack %s: %u created, %u updated, %u removed", r->stack,
	    r->stats.creates, r->stats.updates, r->stats.removes);
	if (r->stats.retries > 0)
		printf(", %u retried after a concurrent write",
		    r->stats.retries);
	printf("\n");
}

static void
dir_stacks(struct pass *ps, const struct controller_stack_opts *so)
{
	struct sources_list l;
	struct err err;

	if (sources_discover(&l, so->dir, &err) < 0) {
		fprintf(stderr, "stackd: %s\n", err.msg);
		ps->p.failed++;
		return;
	}
	ctl_pass_list(&ps->p, &l, &so->compose, so->dir);
	sources_list_release(&l);
}

static int
reconcile(int argc, char **argv, bool apply)
{
	struct controller_stack_opts so;
	struct pass ps = { .p = { .apply = apply, .report = report } };
	struct recon_observed obs = { 0 };
	struct engine_config cfg;
	struct err err;
	int rc = 1;

	if (controller_stack_options(&so, argc, argv, apply ? apply_usage :
	    plan_usage, true) != 0)
		return so.help ? 0 : 1;
	ps.p.payload = &ps;
	ps.p.obs = &obs;
	ps.p.allow_empty = so.allow_empty;
	ps.p.prune_limit = so.prune_limit;
	ps.p.ro.owner = so.owner;
	ps.p.ro.keep_replicas = so.keep_replicas;
	ps.p.ro.prune_secrets = so.prune_secrets;
	if (so.json && !apply)
		ps.json = cJSON_CreateArray();
	if (engine_config_from_env(&cfg, &err) < 0)
		goto fail;
	if (so.engine != NULL) {
		free(cfg.host);
		cfg.host = strdup(so.engine);
	}
	if (engine_open(&ps.p.e, &cfg, &err) < 0 ||
	    recon_observe(&obs, ps.p.e, &err) < 0)
		goto fail;
	if (so.dir != NULL)
		dir_stacks(&ps, &so);
	else
		ctl_pass_stack(&ps.p, &so.compose);
	if (ps.json != NULL) {
		char *text = cJSON_Print(ps.json);
		printf("%s\n", text ? text : "[]");
		free(text);
	}
	rc = ps.p.failed ? 1 : !apply && ps.pending ? 2 : 0;
	goto out;
fail:
	fprintf(stderr, "stackd: %s\n", err.msg);
out:
	cJSON_Delete(ps.json);
	recon_observed_release(&obs);
	engine_free(ps.p.e);
	engine_config_release(&cfg);
	controller_stack_options_release(&so);
	return rc;
}

int
controller_cmd_plan(int argc, char **argv)
{
	return reconcile(argc, argv, false);
}

int
controller_cmd_apply(int argc, char **argv)
{
	return reconcile(argc, argv, true);
}
