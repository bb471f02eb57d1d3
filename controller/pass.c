/*
 * pass.c - one reconcile pass over one engine (see controller_int.h).
 *
 * The engine has been observed once by the caller; each stack is then
 * planned (and applied) on its own, so a stack whose files are broken
 * fails alone and nothing of it is removed.
 */
#include <stdio.h>
#include <string.h>

#include "controller_int.h"

static void
finish(struct ctl_pass *p, struct ctl_result *r)
{
	if (r->err != NULL)
		p->failed++;
	if (p->report != NULL)
		p->report(r, p->payload);
}

static void
carry_out(struct ctl_pass *p, struct ctl_result *r, struct err *err)
{
	if (p->apply && !recon_plan_in_sync(r->plan) && (p->may_apply == NULL ||
	    p->may_apply(r->plan, p->payload))) {
		if (recon_apply(p->e, r->plan, &r->stats, err) < 0)
			r->err = err;
		r->applied = true;
	}
	finish(p, r);
}

void
ctl_pass_stack(struct ctl_pass *p, const struct compose_options *o)
{
	struct compose_stack *stack = NULL;
	struct recon_plan *plan = NULL;
	struct ctl_result r = { .stack = o->stack };
	struct err err;

	if (compose_stack_load(&stack, o, &err) < 0 ||
	    recon_plan_stack(&plan, stack, p->obs, &p->ro, &err) < 0) {
		r.err = &err;
		finish(p, &r);
	} else {
		r.loaded = stack;
		r.plan = plan;
		carry_out(p, &r, &err);
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

static void
remove_stack(struct ctl_pass *p, const char *name)
{
	struct recon_plan *plan = NULL;
	struct ctl_result r = { .stack = name, .removal = true };
	struct err err;

	if (recon_plan_removal(&plan, name, p->obs, &p->ro, &err) < 0) {
		r.err = &err;
		finish(p, &r);
		return;
	}
	r.plan = plan;
	carry_out(p, &r, &err);
	recon_plan_free(plan);
}

/* Stacks this owner has that the list no longer holds. */
static void
departed(struct ctl_pass *p, const struct sources_list *l)
{
	cJSON *names = recon_observed_stacks(p->obs, p->ro.owner), *it;
	int gone = 0;

	cJSON_ArrayForEach(it, names)
		gone += !listed(l, it->valuestring);
	/* An empty source is more often an accident (an unmounted volume, a
	 * bad push) than a wish to remove everything. */
	if (gone > 0 && l->n == 0 && !p->allow_empty) {
		struct ctl_result r = { .stack = NULL };
		struct err err;
		err_set(&err, ERR_INVALID, "the source holds no stack; "
		    "refusing to remove the %d stack%s this owner runs "
		    "(--allow-empty removes them)", gone, gone == 1 ? "" : "s");
		r.err = &err;
		finish(p, &r);
		gone = 0;
	}
	cJSON_ArrayForEach(it, names)
		if (gone > 0 && !listed(l, it->valuestring))
			remove_stack(p, it->valuestring);
	cJSON_Delete(names);
}

void
ctl_stack_compose_options(struct compose_options *o,
    const struct compose_options *base, const struct sources_stack *s,
    const char *root, const char *files[1])
{
	*o = *base;
	files[0] = s->file;
	o->stack = s->name;
	o->files = files;
	o->nfiles = 1;
	o->var_files = (const char *const *)s->var_files;
	o->nvar_files = s->nvar_files;
	o->root = base->root ? base->root : root;
}

void
ctl_pass_list(struct ctl_pass *p, const struct sources_list *l,
    const struct compose_options *base, const char *root)
{
	int failed = p->failed;

	for (size_t i = 0; i < l->n; i++) {
		const struct sources_stack *s = &l->stacks[i];
		struct compose_options o;
		const char *files[1];

		if (s->error != NULL) {
			struct ctl_result r = { .stack = s->name };
			struct err err;
			err_set(&err, ERR_INVALID, "%s", s->error);
			r.err = &err;
			finish(p, &r);
			continue;
		}
		ctl_stack_compose_options(&o, base, s, root, files);
		ctl_pass_stack(p, &o);
	}
	/* Only when every stack was read: a stack that failed to load must
	 * not look as if it had left the source. */
	if (p->failed == failed)
		departed(p, l);
}
