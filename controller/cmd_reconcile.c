/*
 * cmd_reconcile.c - `stackd plan` and `stackd apply`: one pass over one
 * engine, for one stack (-f, -s) or every stack in a directory (--dir).
 *
 * The engine is observed once; each stack is then planned (and applied)
 * on its own, so a stack whose files are broken fails alone and nothing of
 * it is removed.  With --dir, stacks this owner has on the engine but the
 * directory no longer holds are removed.
 *
 * plan exits 0 when everything matches, 2 when changes are pending, 1 on
 * any error; apply exits 0 or 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller.h"
#include "reconciler.h"
#include "sources.h"

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
    "                    [--allow-empty]\n"
    "\n"
    "Make the engine (DOCKER_HOST or --engine) match the stacks: create,\n"
    "update and remove only what differs, then exit (0 ok, 1 error).\n";

struct pass {
	struct controller_stack_opts *so;
	struct recon_options ro;
	struct engine *e;
	struct recon_observed obs;
	bool apply;
	int failed;		/* stacks that could not be handled */
	int pending;		/* stacks not in sync (plan) */
	cJSON *json;		/* plan --json: the plans */
};

static void
report(struct pass *ps, const struct recon_plan *plan)
{
	if (ps->json != NULL)
		cJSON_AddItemToArray(ps->json, recon_plan_json(plan));
	else
		recon_plan_print(plan, stdout);
	if (!recon_plan_in_sync(plan))
		ps->pending++;
}

static void
carry_out(struct pass *ps, struct recon_plan *plan)
{
	struct recon_stats st;
	struct err err;

	report(ps, plan);
	if (!ps->apply)
		return;
	if (recon_apply(ps->e, plan, &st, &err) < 0) {
		fprintf(stderr, "stackd: %s\n", err.msg);
		ps->failed++;
		return;
	}
	printf("stack %s: %u created, %u updated, %u removed", plan->stack,
	    st.creates, st.updates, st.removes);
	if (st.retries > 0)
		printf(", %u retried after a concurrent write", st.retries);
	printf("\n");
}

/* Load, plan and (maybe) apply one stack. */
static void
one_stack(struct pass *ps, const struct compose_options *o)
{
	struct compose_stack *stack = NULL;
	struct recon_plan *plan = NULL;
	struct err err;

	if (compose_stack_load(&stack, o, &err) < 0 ||
	    recon_plan_stack(&plan, stack, &ps->obs, &ps->ro, &err) < 0) {
		fprintf(stderr, "stackd: %s\n", err.msg);
		ps->failed++;
	} else {
		for (size_t i = 0; i < stack->nwarnings; i++)
			fprintf(stderr, "stackd: warning: %s\n",
			    stack->warnings[i]);
		carry_out(ps, plan);
	}
	recon_plan_free(plan);
	compose_stack_free(stack);
}

static bool
listed(const struct sources_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->stacks[i].name, name) == 0)
			return true;
	return false;
}

/* Stacks this owner has that the directory no longer holds. */
static void
departed(struct pass *ps, const struct sources_list *l)
{
	cJSON *names = recon_observed_stacks(&ps->obs, ps->so->owner), *it;
	struct recon_plan *plan = NULL;
	struct err err;
	int gone = 0;

	cJSON_ArrayForEach(it, names)
		gone += !listed(l, it->valuestring);
	/* An empty source is more often an accident (an unmounted volume, a
	 * bad push) than a wish to remove everything. */
	if (gone > 0 && l->n == 0 && !ps->so->allow_empty) {
		fprintf(stderr, "stackd: the source holds no stack; refusing to "
		    "remove the %d stack%s this owner runs (--allow-empty "
		    "removes them)\n", gone, gone == 1 ? "" : "s");
		ps->failed++;
		gone = 0;
	}
	cJSON_ArrayForEach(it, names) {
		if (gone == 0 || listed(l, it->valuestring))
			continue;
		if (recon_plan_removal(&plan, it->valuestring, &ps->obs,
		    &ps->ro, &err) < 0) {
			fprintf(stderr, "stackd: %s\n", err.msg);
			ps->failed++;
			continue;
		}
		carry_out(ps, plan);
		recon_plan_free(plan);
		plan = NULL;
	}
	cJSON_Delete(names);
}

static void
dir_stacks(struct pass *ps)
{
	struct sources_list l;
	struct err err;

	if (sources_discover(&l, ps->so->dir, &err) < 0) {
		fprintf(stderr, "stackd: %s\n", err.msg);
		ps->failed++;
		return;
	}
	for (size_t i = 0; i < l.n; i++) {
		struct sources_stack *s = &l.stacks[i];
		struct compose_options o = ps->so->compose;
		const char *files[] = { s->file };

		if (s->error != NULL) {
			fprintf(stderr, "stackd: stack %s: %s\n", s->name,
			    s->error);
			ps->failed++;
			continue;
		}
		o.stack = s->name;
		o.files = files;
		o.nfiles = 1;
		o.var_files = (const char *const *)s->var_files;
		o.nvar_files = s->nvar_files;
		o.root = ps->so->compose.root ? ps->so->compose.root :
		    ps->so->dir;
		one_stack(ps, &o);
	}
	/* Only when every stack was read: a stack that failed to load must
	 * not look as if it had left the source. */
	if (ps->failed == 0)
		departed(ps, &l);
	sources_list_release(&l);
}

static int
reconcile(int argc, char **argv, bool apply)
{
	struct controller_stack_opts so;
	struct pass ps = { .so = &so, .apply = apply };
	struct engine_config cfg;
	struct err err;
	int rc = 1;

	if (controller_stack_options(&so, argc, argv, apply ? apply_usage :
	    plan_usage, true) != 0)
		return so.help ? 0 : 1;
	ps.ro.owner = so.owner;
	ps.ro.keep_replicas = so.keep_replicas;
	ps.ro.prune_secrets = so.prune_secrets;
	if (so.json && !apply)
		ps.json = cJSON_CreateArray();
	if (engine_config_from_env(&cfg, &err) < 0)
		goto fail;
	if (so.engine != NULL) {
		free(cfg.host);
		cfg.host = strdup(so.engine);
	}
	if (engine_open(&ps.e, &cfg, &err) < 0 ||
	    recon_observe(&ps.obs, ps.e, &err) < 0)
		goto fail;
	if (so.dir != NULL)
		dir_stacks(&ps);
	else
		one_stack(&ps, &so.compose);
	if (ps.json != NULL) {
		char *text = cJSON_Print(ps.json);
		printf("%s\n", text ? text : "[]");
		free(text);
	}
	rc = ps.failed ? 1 : !apply && ps.pending ? 2 : 0;
	goto out;
fail:
	fprintf(stderr, "stackd: %s\n", err.msg);
out:
	cJSON_Delete(ps.json);
	recon_observed_release(&ps.obs);
	engine_free(ps.e);
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
