/*
 * helper_plan.h - desired stacks and observed engines made by hand, for
 * the planner's unit tests.
 */
#ifndef STACKD_HELPER_PLAN_H
#define STACKD_HELPER_PLAN_H

#include "compose.h"
#include "reconciler.h"

/* The arrays of a desired stack not set yet: empty. */
void helper_stack_fill(struct compose_stack *s);
void helper_stack_release(struct compose_stack *s);
/* An engine holding these services and networks (JSON arrays; NULL
 * networks = none) and nothing else, indexed. */
void helper_observed(struct recon_observed *obs, const char *services,
    const char *networks);

#endif
