/*
 * hooks.c - the jobs a stack runs around its sync (x-stackd-hook):
 * pre-sync ones to completion before anything else of the stack is
 * written (a migration before the new app), post-sync ones once the
 * stack is synced and healthy.
 *
 * The engine is the memory: a hook service carries the key of the
 * stack's desired services it last ran for (RECON_LABEL_HOOK), so a hook
 * runs once per change of the stack's files, across restarts, and drift
 * repaired later runs nothing again.  A hook whose run failed, or ran past
 * hook_timeout, fails the stack until its files change or someone runs
 * the job again (docker service update --force).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "controller.h"
#include "health.h"
#include "json.h"

/* The key the hook last ran for, "" when none. */
static const char *
ran_for(const cJSON *actual)
{
	const char *k = json_str(json_get(json_get(actual, "Spec"), "Labels"),
	    RECON_LABEL_HOOK);

	return k != NULL ? k : "";
}

/* The run of the hook for the current key (*out): the engine's service
 * status answers for a finished one; else its tasks are read. */
static int
judge(struct ctl_pass *p, const char *stack, const cJSON *actual,
    enum health_job *out, char *why, size_t size, struct err *err)
{
	const cJSON *done = json_get(json_get(actual, "ServiceStatus"),
	    "CompletedTasks");
	cJSON *f = NULL, *tasks = NULL;
	int rc;

	*out = HEALTH_JOB_DONE;
	if (cJSON_IsNumber(done) &&
	    done->valuedouble >= health_job_completions(actual))
		return 0;
	engine_filter_add(&f, "service", json_str(actual, "ID"));
	rc = engine_object_list(p->e, ENGINE_TASK, f, &tasks, err);
	cJSON_Delete(f);
	if (rc < 0)
		return rc;
	*out = health_job_judge(actual, tasks, (long long)time(NULL),
	    ctl_stacks_hook_timeout(p->cfg, stack), why, size);
	cJSON_Delete(tasks);
	return 0;
}

/* What a hook's start makes of the stack's plan: its new networks,
 * secrets and configs. */
static bool
prepares(const struct recon_change *c)
{
	return c->action == RECON_CREATE && c->kind != ENGINE_SERVICE;
}

void
ctl_hooks_rest(const struct recon_plan *plan, struct recon_plan *rest)
{
	*rest = *plan;
	rest->changes = xcalloc(plan->n + 1, sizeof(*rest->changes));
	rest->n = 0;
	for (size_t k = 0; k < plan->n; k++)
		if (!prepares(&plan->changes[k]))
			rest->changes[rest->n++] = plan->changes[k];
}

/* Start the hook's run (create, or update forcing it again).  The job
 * needs the stack's new networks, secrets and configs: those are
 * created first, once, and no service is touched. */
static int
start(struct ctl_pass *p, struct ctl_result *r, size_t i, struct err *err)
{
	const struct recon_plan *plan = r->plan;
	struct recon_plan one = { .stack = plan->stack };
	struct recon_stats st;
	int rc = 0;

	one.changes = xcalloc(plan->n + 1, sizeof(*one.changes));
	for (size_t k = 0; k < plan->n && !r->prepared; k++)
		if (prepares(&plan->changes[k]))
			one.changes[one.n++] = plan->changes[k];
	one.changes[one.n++] = plan->hooks->changes[i];
	if (p->may_apply != NULL && !p->may_apply(&one, p->payload))
		rc = 1;
	else {
		rc = recon_apply(p->e, &one, &st, err);
		/* Every change but the hook made: never make them twice. */
		if (st.done + 1 >= one.n)
			r->prepared = true;
	}
	free(one.changes);
	return rc;
}

/* May a post-sync hook start: is the stack synced and healthy (as the
 * caller last saw it)? */
static bool
ready(struct ctl_pass *p, const char *stack, char *why, size_t size)
{
	cJSON *self = cJSON_CreateArray();
	bool ok;

	cJSON_AddItemToArray(self, cJSON_CreateString(stack));
	ok = p->ready != NULL && p->ready(self, p->payload, why, size);
	cJSON_Delete(self);
	return ok;
}

/* Has the hook's run for key been seen through (p->hooks_done)? */
static bool
seen_done(const struct ctl_pass *p, const cJSON *actual, const char *key,
    char *mark, size_t size)
{
	const char *id = json_str(actual, "ID"), *seen = json_str(
	    p->hooks_done, json_str(json_get(actual, "Spec"), "Name"));

	snprintf(mark, size, "%s %.0f %s", id ? id : "",
	    (double)recon_object_version(actual), key);
	return seen != NULL && strcmp(seen, mark) == 0;
}

static void
mark_done(struct ctl_pass *p, const char *name, const char *mark)
{
	if (p->hooks_done == NULL)
		return;
	cJSON_DeleteItemFromObjectCaseSensitive(p->hooks_done, name);
	cJSON_AddStringToObject(p->hooks_done, name, mark);
}

/* A verdict on a hook's run, as phase() answers: 0 done, 1 running (why
 * says so), < 0 failed (err). */
static int
verdict(enum health_job j, const char *kind, const char *name,
    const char *how, char *why, size_t size, struct err *err)
{
	switch (j) {
	case HEALTH_JOB_DONE:
		return 0;
	case HEALTH_JOB_FAILED:
		return err_set(err, ERR_FAIL, "%s hook %s failed: %s; nothing "
		    "more is written until the stack's files change or the "
		    "job is run again", kind, name, how);
	case HEALTH_JOB_RUNNING:
		break;
	}
	snprintf(why, size, "running %s hook %s (%s)", kind, name, how);
	return 1;
}

/* A caller that runs once (stackd apply) has no next cycle to look
 * again: it waits for the run it started, judging it twice a second,
 * hook_timeout bounding the wait. */
static int
wait_run(struct ctl_pass *p, const char *stack, const char *name,
    enum health_job *out, char *how, size_t size, struct err *err)
{
	const struct timespec pause = { 0, 500 * 1000 * 1000 };
	cJSON *svc = NULL;
	int rc;

	for (;;) {
		if ((rc = engine_object_inspect(p->e, ENGINE_SERVICE, name,
		    &svc, err)) < 0)
			return rc;
		rc = judge(p, stack, svc, out, how, size, err);
		cJSON_Delete(svc);
		if (rc < 0 || *out != HEALTH_JOB_RUNNING)
			return rc;
		nanosleep(&pause, NULL);
	}
}

/* Start hook i of the plan's hooks; 0 when it ran through (a caller
 * waiting), 1 when started or not allowed yet, < 0 on failure. */
static int
run(struct ctl_pass *p, struct ctl_result *r, size_t i,
    const char *kind, char *why, size_t size, struct err *err)
{
	const char *name = r->plan->hooks->changes[i].name;
	enum health_job j;
	char how[400];
	int rc;

	if ((rc = start(p, r, i, err)) < 0) {
		err_prefix(err, "%s hook %s", kind, name);
		return rc;
	}
	if (rc == 0 && p->wait_hooks) {
		if ((rc = wait_run(p, r->stack, name, &j, how, sizeof(how),
		    err)) < 0 ||
		    (rc = verdict(j, kind, name, how, why, size, err)) != 0)
			return rc;
		r->hooks_run++;
		return 0;
	}
	snprintf(why, size, "%s %s hook %s", rc == 0 ? "started" :
	    "not yet allowed to start", kind, name);
	return 1;
}

/*
 * The hooks of one phase: 0 when all of them ran for this key, 1 while
 * one runs or has yet to (why says which), < 0 when one failed (err).
 * A post-sync hook starts only once the stack is synced and healthy.
 */
static int
phase(struct ctl_pass *p, struct ctl_result *r, const char *kind,
    char *why, size_t size, struct err *err)
{
	const struct recon_plan *h = r->plan->hooks;
	bool post = strcmp(kind, "post-sync") == 0;
	char how[400], mark[200];
	enum health_job j;
	int rc;

	for (size_t i = 0; h != NULL && i < h->n; i++) {
		const struct recon_change *c = &h->changes[i];
		const cJSON *actual;

		if (strcmp(c->hook, kind) != 0)
			continue;
		actual = recon_observed_find(p->obs, ENGINE_SERVICE, c->name);
		if (actual != NULL &&
		    strcmp(ran_for(actual), r->plan->hook_key) == 0) {
			if (seen_done(p, actual, r->plan->hook_key, mark,
			    sizeof(mark)))
				continue;
			if ((rc = judge(p, r->stack, actual, &j, how,
			    sizeof(how), err)) < 0 ||
			    (rc = verdict(j, kind, c->name, how, why, size,
			    err)) != 0)
				return rc;
			mark_done(p, c->name, mark);
			continue;
		}
		if (post && !ready(p, r->stack, how, sizeof(how)))
			return 0;
		if (!p->apply) {
			snprintf(why, size, "%s hook %s to run", kind, c->name);
			return 1;
		}
		if ((rc = run(p, r, i, kind, why, size, err)) != 0)
			return rc;
	}
	return 0;
}

/* Has a hook of this kind yet to run for the stack's files?  Answered
 * from the list in hand. */
static bool
due(const struct ctl_pass *p, const struct recon_plan *plan,
    const char *kind)
{
	for (size_t i = 0; i < plan->hooks->n; i++) {
		const struct recon_change *c = &plan->hooks->changes[i];
		const cJSON *actual = recon_observed_find(p->obs,
		    ENGINE_SERVICE, c->name);

		if (strcmp(c->hook, kind) == 0 && (actual == NULL ||
		    strcmp(ran_for(actual), plan->hook_key) != 0))
			return true;
	}
	return false;
}

bool
ctl_hooks_pre(struct ctl_pass *p, struct ctl_result *r, char *why,
    size_t size, struct err *err)
{
	int rc;

	/* Nothing to write and every pre-sync hook ran for these files:
	 * the steady state costs no call for its hooks. */
	if (r->plan->hooks == NULL ||
	    (r->plan->n == 0 && !due(p, r->plan, "pre-sync")))
		return true;
	if ((rc = phase(p, r, "pre-sync", why, size, err)) < 0)
		r->err = err;
	else if (rc > 0)
		r->waiting = why;
	return rc == 0;
}

void
ctl_hooks_post(struct ctl_pass *p, struct ctl_result *r, char *why,
    size_t size, struct err *err)
{
	int rc;

	if (r->plan->hooks == NULL || r->plan->n > 0 || r->applied ||
	    r->err != NULL)
		return;
	if ((rc = phase(p, r, "post-sync", why, size, err)) < 0)
		r->err = err;
	else if (rc > 0)
		r->waiting = why;
}
