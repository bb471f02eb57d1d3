/*
 * pass.c - one reconcile pass over one engine (see controller.h).
 *
 * The engine has been observed once by the caller; each stack is then
 * planned (and applied) on its own, so a stack whose files are broken
 * fails alone and nothing of it is removed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "controller.h"


static void
finish(struct ctl_pass *p, struct ctl_result *r)
{
	if (r->err != NULL)
		p->failed++;
	if (p->report != NULL)
		p->report(r, p->payload);
}

static unsigned
services_owned(const struct ctl_pass *p)
{
	const cJSON *svc;
	unsigned n = 0;

	cJSON_ArrayForEach(svc, p->obs->services)
		n += recon_object_owned(ENGINE_SERVICE, svc, p->ro.owner);
	return n;
}

/*
 * The prune guard.  A pass that would remove more than prune_limit % of
 * the services this owner runs is more likely a broken push (a renamed
 * directory, a half-deleted tree) than a decision; its removals are
 * refused until someone says so.  Removing a single service is always
 * allowed, so small deployments can still drop one.  what names the
 * removal in the message ("stack web", "stacks a, b").
 */
static bool
prune_allowed(struct ctl_pass *p, unsigned n, const char *what,
    struct err *err)
{
	int limit = p->prune_limit > 0 ? p->prune_limit : CTL_PRUNE_LIMIT;
	unsigned total = p->pruned + n, all;

	if (n == 0 || limit >= 100)
		return true;
	all = services_owned(p);
	if (total < 2 || (unsigned long)total * 100 <=
	    (unsigned long)all * (unsigned)limit) {
		p->pruned = total;
		return true;
	}
	err_set(err, ERR_INVALID, "%s: refusing to remove %u of the %u "
	    "services this owner runs in one pass (the prune limit is %d %%); "
	    "if that is meant, apply once with --prune-limit 100 or raise "
	    "stacks.prune_limit", what, total, all, limit);
	return false;
}

static unsigned
services_removed(const struct recon_plan *plan)
{
	unsigned n = 0;

	for (size_t i = 0; i < plan->n; i++)
		n += plan->changes[i].action == RECON_REMOVE &&
		    plan->changes[i].kind == ENGINE_SERVICE;
	return n;
}

static void
carry_out(struct ctl_pass *p, struct ctl_result *r, struct err *err)
{
	/* A plan that only holds (a rolled-back spec) has nothing to write:
	 * it is out of sync, not applied. */
	if (p->apply && r->plan->n > 0 && (p->may_apply == NULL ||
	    p->may_apply(r->plan, p->payload))) {
		struct recon_plan rest = *r->plan;
		char what[128];

		snprintf(what, sizeof(what), "stack %s", r->plan->stack);
		if (!r->removal && !prune_allowed(p,
		    services_removed(r->plan), what, err)) {
			r->err = err;
			finish(p, r);
			return;
		}
		/* What the hooks made is made. */
		if (r->prepared)
			ctl_hooks_rest(r->plan, &rest);
		if (recon_apply(p->e, &rest, &r->stats, err) < 0)
			r->err = err;
		if (r->prepared)
			free(rest.changes);
		r->applied = true;
	}
	finish(p, r);
}

static size_t holders(const struct ctl_pass *p, const char *name);

/* A stack some group of this pass holds (without groups: any). */
static bool
known(const char *name, void *payload)
{
	const struct ctl_pass *p = payload;

	return p->groups == NULL || holders(p, name) > 0;
}

/*
 * depends_on: may the stack's plan go ahead?  A name no stack has and a
 * cycle fail it; a dependency not yet synced and healthy holds it back,
 * planned and reported (r->waiting).  A plan with nothing to write never
 * waits: what runs keeps running.
 */
static bool
ordered(struct ctl_pass *p, struct ctl_result *r, struct err *err)
{
	cJSON *deps = ctl_depends_of(p->cfg, r->stack, r->loaded);
	cJSON *graph = p->depends, *own = NULL;
	char why[400];
	bool go = true;

	if (graph == NULL)
		graph = own = cJSON_CreateObject();
	cJSON_DeleteItemFromObjectCaseSensitive(graph, r->stack);
	if (deps == NULL) {
		cJSON_Delete(own);
		return true;
	}
	cJSON_AddItemToObject(graph, r->stack, deps);
	if (ctl_depends_check(graph, r->stack, known, p, why,
	    sizeof(why)) < 0) {
		err_set(err, ERR_INVALID, "%s", why);
		r->err = err;
		go = false;
	} else if (r->plan->n > 0 && p->ready != NULL &&
	    !p->ready(deps, p->payload, why, sizeof(why))) {
		r->waiting = why;
		go = false;
	}
	if (!go)
		finish(p, r);
	cJSON_Delete(own);
	return go;
}

/* The stack's x-stackd-hook jobs around its writes. */
static void
hooked(struct ctl_pass *p, struct ctl_result *r, struct err *err)
{
	char why[600];

	if (!ctl_hooks_pre(p, r, why, sizeof(why), err)) {
		finish(p, r);
		return;
	}
	ctl_hooks_post(p, r, why, sizeof(why), err);
	carry_out(p, r, err);
}

/* Look up the stack's images the plan will pin (those not known or due
 * again); a registry that fails is the plan's note, not the stack's
 * error. */
static void
resolve_images(struct ctl_pass *p, const struct compose_stack *s,
    const struct recon_options *ro)
{
	struct err err;

	recon_stack_resolve(s, p->obs, ro, p->e, &err);
}

void
ctl_pass_stack(struct ctl_pass *p, const struct compose_options *o)
{
	struct compose_stack *own = NULL;
	const struct compose_stack *stack = NULL;
	struct recon_plan *plan = NULL;
	struct ctl_result r = { .stack = o->stack, .snap = p->snap,
	    .source = p->source, .fresh = true,
	    .suspended = ctl_stacks_suspended(p->cfg, p->source, o->stack) };
	struct recon_options ro = p->ro;
	const char *rev = p->snap != NULL && p->snap->revision[0] ?
	    p->snap->revision : p->revision;
	struct err err;
	int rc;

	ctl_stacks_policy(p->cfg, o->stack, &ro);
	if (p->cfg != NULL)
		ro.resolve = ctl_stacks_resolve(p->cfg, p->source, o->stack);
	if (p->loads != NULL && rev != NULL)
		rc = ctl_loads_get(p->loads, p->source, rev, o, &stack,
		    &r.fresh, &err);
	else if ((rc = compose_stack_load(&own, o, &err)) == 0)
		stack = own;
	if (rc == 0)
		resolve_images(p, stack, &ro);
	if (stack == NULL ||
	    recon_plan_stack(&plan, stack, p->obs, &ro, &err) < 0) {
		r.err = &err;
		finish(p, &r);
	} else {
		r.loaded = stack;
		r.plan = plan;
		if (r.suspended)
			finish(p, &r);
		else if (ordered(p, &r, &err))
			hooked(p, &r, &err);
	}
	recon_plan_free(plan);
	compose_stack_free(own);
}

/* A stack of a group of the pass: sorted by name, then group, so that
 * who holds a name is a binary search, not a scan of every group (at a
 * thousand stacks, the pass's checks made a million comparisons). */
struct ctl_held {
	const char *name;
	size_t group;
};

static int
held_cmp(const void *a, const void *b)
{
	const struct ctl_held *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : (x->group > y->group) - (x->group < y->group);
}

static void
held_index(struct ctl_pass *p, const struct ctl_group *g, size_t ng)
{
	size_t n = 0;

	for (size_t k = 0; k < ng; k++)
		n += g[k].list->n;
	p->held = xcalloc(n + 1, sizeof(*p->held));
	for (size_t k = 0; k < ng; k++)
		for (size_t i = 0; i < g[k].list->n; i++)
			p->held[p->nheld++] = (struct ctl_held){
			    g[k].list->stacks[i].name, k };
	qsort(p->held, p->nheld, sizeof(*p->held), held_cmp);
}

/* The first of the held stacks of this name (nheld when none). */
static size_t
held_first(const struct ctl_pass *p, const char *name)
{
	size_t lo = 0, hi = p->nheld;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(p->held[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* How many of the pass's groups hold a stack of this name. */
static size_t
holders(const struct ctl_pass *p, const char *name)
{
	size_t i = held_first(p, name), n = 0;

	while (i + n < p->nheld && strcmp(p->held[i + n].name, name) == 0)
		n++;
	return n;
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

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Owned services of the stacks in names that the list no longer holds,
 * and those stacks' names, sorted, for a message. */
static unsigned
departing_services(const struct ctl_pass *p, const cJSON *names, char *list,
    size_t size)
{
	const cJSON *it, *const *svcs;
	const char **gone = xcalloc((size_t)cJSON_GetArraySize(names) + 1,
	    sizeof(*gone));
	size_t ngone = 0, len = 0;
	unsigned n = 0;

	cJSON_ArrayForEach(it, names) {
		size_t k;
		if (holders(p, it->valuestring) > 0)
			continue;
		k = recon_observed_stack(p->obs, ENGINE_SERVICE,
		    it->valuestring, &svcs);
		for (size_t i = 0; i < k; i++)
			n += recon_object_owned(ENGINE_SERVICE, svcs[i],
			    p->ro.owner);
		gone[ngone++] = it->valuestring;
	}
	qsort(gone, ngone, sizeof(*gone), name_cmp);
	list[0] = '\0';
	for (size_t i = 0; i < ngone && len < size; i++)
		len += (size_t)snprintf(list + len, size - len, "%s%s",
		    i ? ", " : "", gone[i]);
	free((void *)gone);
	return n;
}

/* Does a stack in left other than name depend on it (as last loaded)? */
static bool
needed(const struct ctl_pass *p, const cJSON *left, const char *name)
{
	const cJSON *s, *d;

	cJSON_ArrayForEach(s, left) {
		if (strcmp(s->valuestring, name) == 0)
			continue;
		cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(
		    p->depends, s->valuestring))
			if (strcmp(d->valuestring, name) == 0)
				return true;
	}
	return false;
}

/* The stacks no group holds, removed in the reverse of their order:
 * what depends on a stack goes first (as far as p->depends knows; else
 * in the order observed).  When only a cycle is left, its last stack
 * goes, and the rest follow. */
static void
remove_departed(struct ctl_pass *p, const cJSON *names)
{
	cJSON *left = cJSON_CreateArray(), *it, *next;
	const cJSON *n;
	bool any;

	cJSON_ArrayForEach(n, names)
		if (holders(p, n->valuestring) == 0)
			cJSON_AddItemToArray(left,
			    cJSON_CreateString(n->valuestring));
	while (left->child != NULL) {
		any = false;
		for (it = left->child; it != NULL; it = next) {
			next = it->next;
			if (needed(p, left, it->valuestring) &&
			    (any || next != NULL))
				continue;
			remove_stack(p, it->valuestring);
			cJSON_DeleteItemFromObjectCaseSensitive(p->depends,
			    it->valuestring);
			cJSON_Delete(cJSON_DetachItemViaPointer(left, it));
			any = true;
		}
	}
	cJSON_Delete(left);
}

static void
refuse(struct ctl_pass *p, struct err *err)
{
	struct ctl_result r = { .stack = NULL, .err = err };

	finish(p, &r);
}

/* Stacks this owner has that no group holds any more: all of them are
 * removed, or (empty source, prune limit) none. */
static void
departed(struct ctl_pass *p, const struct ctl_group *g, size_t ng)
{
	cJSON *names = recon_observed_stacks(p->obs, p->ro.owner), *it;
	char list[256], what[300];
	struct err err;
	size_t total = 0;
	int gone = 0;

	for (size_t k = 0; k < ng; k++)
		total += g[k].list->n;
	cJSON_ArrayForEach(it, names)
		gone += holders(p, it->valuestring) == 0;
	/* Which source a departed stack came from is not known any more:
	 * while one is suspended, nothing departs. */
	for (size_t i = 0; gone > 0 && p->cfg != NULL && i < p->cfg->nsources;
	    i++)
		if (p->cfg->sources[i].suspend)
			gone = 0;
	/* An empty source is more often an accident (an unmounted volume, a
	 * bad push) than a wish to remove everything. */
	if (gone > 0 && total == 0 && !p->allow_empty) {
		err_set(&err, ERR_INVALID, "the source holds no stack; "
		    "refusing to remove the %d stack%s this owner runs "
		    "(--allow-empty removes them)", gone, gone == 1 ? "" : "s");
		refuse(p, &err);
		gone = 0;
	}
	/* --allow-empty on an empty source is the explicit "all of them". */
	if (gone > 0 && total > 0) {
		unsigned n = departing_services(p, names, list,
		    sizeof(list));
		snprintf(what, sizeof(what), "stack%s %s (gone from the "
		    "source)", gone == 1 ? "" : "s", list);
		if (!prune_allowed(p, n, what, &err)) {
			refuse(p, &err);
			gone = 0;
		}
	}
	if (gone > 0)
		remove_departed(p, names);
	cJSON_Delete(names);
}

void
ctl_stack_compose_options(struct compose_options *o,
    const struct compose_options *base, const struct sources_stack *s,
    const char *root, const struct ctl_config *c, const char *source)
{
	*o = *base;
	if (c != NULL) {
		o->interp = ctl_stacks_interp(c, source, s->name);
		o->sops.keys = ctl_source_keys(c, source);
	}
	o->stack = s->name;
	o->files = (const char *const *)s->files;
	o->nfiles = s->nfiles;
	o->var_files = (const char *const *)s->var_files;
	o->nvar_files = s->nvar_files;
	o->root = base->root ? base->root : root;
}

/* A stack two sources hold: neither is planned, and nothing is removed
 * this pass (which of the two is meant is not for stackd to guess). */
static bool
claimed_twice(struct ctl_pass *p, const struct ctl_group *g, size_t k,
    const char *name)
{
	struct ctl_result r = { .stack = name };
	struct err err;
	size_t at = held_first(p, name), n = holders(p, name), other = at;

	if (n < 2)
		return false;
	if (k != p->held[at].group)	/* said once, by the first holder */
		return true;
	while (other < at + n && p->held[other].group == k)
		other++;
	err_set(&err, ERR_CONFLICT, "stack %s is in sources %s and %s; a "
	    "stack may come from one source only", name, g[k].source,
	    other < at + n ? g[p->held[other].group].source : "?");
	r.err = &err;
	finish(p, &r);
	return true;
}

static void
pass_stack_of(struct ctl_pass *p, const struct ctl_group *g,
    const struct sources_stack *s, const struct compose_options *base)
{
	struct compose_options o;

	if (s->error != NULL) {
		struct ctl_result r = { .stack = s->name, .snap = g->snap,
		    .source = g->source };
		struct err err;
		err_set(&err, ERR_INVALID, "%s", s->error);
		r.err = &err;
		finish(p, &r);
		return;
	}
	ctl_stack_compose_options(&o, base, s, g->root, p->cfg, g->source);
	p->snap = g->snap;
	p->source = g->source;
	ctl_pass_stack(p, &o);
	p->snap = NULL;
	p->source = NULL;
}

void
ctl_pass_groups(struct ctl_pass *p, const struct ctl_group *g, size_t ng,
    bool complete, const struct compose_options *base)
{
	int failed = p->failed;

	p->groups = g;
	p->ngroups = ng;
	held_index(p, g, ng);
	for (size_t k = 0; k < ng; k++)
		for (size_t i = 0; i < g[k].list->n; i++) {
			const struct sources_stack *s = &g[k].list->stacks[i];
			if (!claimed_twice(p, g, k, s->name))
				pass_stack_of(p, &g[k], s, base);
		}
	/* Only when every source was read and every stack loaded: a stack
	 * that failed must not look as if it had left the source. */
	if (complete && p->failed == failed)
		departed(p, g, ng);
	p->groups = NULL;
	p->ngroups = 0;
	free(p->held);
	p->held = NULL;
	p->nheld = 0;
}

void
ctl_pass_prefetch(struct ctl_pass *p, const struct sources_list *l,
    const struct compose_options *base, const char *root)
{
	const struct compose_stack *stack;
	struct compose_options o;
	struct err err;
	bool fresh;

	for (size_t i = 0; p->loads != NULL && i < l->n; i++)
		if (l->stacks[i].error == NULL) {
			ctl_stack_compose_options(&o, base, &l->stacks[i], root,
			    p->cfg, "dir");
			ctl_loads_get(p->loads, "dir", p->revision, &o, &stack,
			    &fresh, &err);
		}
}

void
ctl_pass_list(struct ctl_pass *p, const struct sources_list *l,
    const struct compose_options *base, const char *root)
{
	struct ctl_group g = { .source = "dir", .root = root, .list = l };

	ctl_pass_groups(p, &g, 1, true, base);
}
