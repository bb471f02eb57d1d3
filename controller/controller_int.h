/*
 * controller_int.h - what the files of controller/ share: one reconcile
 * pass over one engine, used by `plan`/`apply` (once) and by the daemon's
 * engine workers (every cycle).
 */
#ifndef STACKD_CONTROLLER_INT_H
#define STACKD_CONTROLLER_INT_H

#include <stdbool.h>

#include "compose.h"
#include "reconciler.h"
#include "sources.h"

/* What happened to one stack in a pass, handed to the pass's report
 * function.  Everything is borrowed for the duration of the call. */
struct ctl_result {
	const char *stack;	/* NULL: about the source as a whole */
	const struct compose_stack *loaded;	/* NULL: removal or error */
	const struct recon_plan *plan;		/* NULL on error */
	bool removal;		/* the stack left the source */
	bool applied;		/* the plan was carried out */
	struct recon_stats stats;
	const struct err *err;	/* non-NULL: this stack failed */
};

struct ctl_pass {
	struct engine *e;
	const struct recon_observed *obs;
	struct recon_options ro;
	bool apply;
	bool allow_empty;	/* an empty source may remove everything */
	/* Called once per stack (and once for a source-level error). */
	void (*report)(const struct ctl_result *r, void *payload);
	/* May a stack's plan be applied now (NULL: yes)?  A stack backing
	 * off after failures is still loaded and planned, never written. */
	bool (*may_apply)(const char *stack, void *payload);
	void *payload;
	int failed;		/* stacks that failed, this pass */
};

/* Load, plan and (with p->apply) apply one stack. */
void ctl_pass_stack(struct ctl_pass *p, const struct compose_options *o);
/*
 * Every stack of a discovered list, with base's variable options; then,
 * only if every stack loaded, remove the stacks this owner runs that the
 * list no longer holds (an empty list removes nothing unless
 * p->allow_empty).
 */
void ctl_pass_list(struct ctl_pass *p, const struct sources_list *l,
    const struct compose_options *base, const char *root);

#endif
