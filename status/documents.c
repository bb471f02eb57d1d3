/*
 * documents.c - the status API's JSON documents, built from what the workers
 * and the source loop published in struct ctl_state (the caller holds its
 * lock).  Schemas: docs/status-api.md.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "daemon.h"
#include "health.h"
#include "sandbox.h"
#include "status.h"
#include "status_int.h"
#include "version.h"

/* Worst first: a stack's state over several engines is the worst one. */
static const char *const states[] = { "failed", "out-of-sync",
    "progressing", "synced" };



/* A string, or null when there is none (the key is always present). */
static void
add_str(cJSON *o, const char *key, const char *v)
{
	if (v != NULL)
		cJSON_AddStringToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

static void
add_time(cJSON *o, const char *key, long long t)
{
	char ts[32];

	add_str(o, key, t > 0 ? clock_iso_time(t, ts) : NULL);
}

static int
rank(const char *state)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(states[i], state) == 0)
			return i;
	return 0;
}

const char *
ctl_stack_state(const cJSON *per_engine)
{
	const cJSON *e;
	int worst = 3;

	cJSON_ArrayForEach(e, per_engine) {
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(e, "state");
		if (cJSON_IsString(s) && rank(s->valuestring) < worst)
			worst = rank(s->valuestring);
	}
	return states[worst];
}

bool
ctl_ready(const struct ctl_state *st)
{
	for (size_t i = 0; i < st->nsources; i++)
		if (st->sources[i].snap == NULL)
			return false;
	for (size_t i = 0; i < st->nengines; i++)
		if (!st->engines[i].reached)
			return false;
	return true;
}

/* The writer's lease: who holds it; a standby says so in one line. */
static void
lease_json(cJSON *o, const struct ctl_lease_status *l)
{
	cJSON *j;
	char line[400], ts[32];

	if (!l->enabled)
		return;
	j = cJSON_AddObjectToObject(o, "lease");
	cJSON_AddStringToObject(j, "role", l->held ? "writer" : "standby");
	add_str(j, "holder", *l->holder ? l->holder : NULL);
	add_time(j, "since", l->since);
	add_str(j, "problem", *l->problem ? l->problem : NULL);
	if (l->held)
		return;
	snprintf(line, sizeof(line), "lease held by %s%s%s",
	    *l->holder ? l->holder : "nobody yet", l->since > 0 ? " since " :
	    "", l->since > 0 ? clock_iso_time(l->since, ts) : "");
	cJSON_AddStringToObject(o, "standby", line);
}

static void
cache_json(cJSON *caches, const char *name, unsigned long hits,
    unsigned long misses, size_t kept)
{
	cJSON *c = cJSON_AddObjectToObject(caches, name);

	cJSON_AddNumberToObject(c, "hits", (double)hits);
	cJSON_AddNumberToObject(c, "misses", (double)misses);
	cJSON_AddNumberToObject(c, "kept", (double)kept);
}

/* What the cycles did not redo: conversions, diffs and list calls. */
static void
caches_json(cJSON *o, const struct ctl_engine_state *es)
{
	cJSON *c = cJSON_AddObjectToObject(o, "caches");

	cache_json(c, "stacks", es->loads[0], es->loads[1], es->loads_kept);
	cache_json(c, "services", es->verified.hits, es->verified.misses,
	    es->verified.entries);
	c = cJSON_AddObjectToObject(o, "observe");
	cJSON_AddNumberToObject(c, "lists", (double)es->informer.lists);
	cJSON_AddNumberToObject(c, "events", (double)es->informer.events);
	cJSON_AddNumberToObject(c, "inspects", (double)es->informer.inspects);
	cJSON_AddNumberToObject(c, "quiet", (double)es->informer.quiet);
	cJSON_AddNumberToObject(c, "task_reads", (double)es->task_reads);
}

/* The worst health of the documents in o (stacks, or a stack's
 * engines). */
static const char *
worst_health(const cJSON *o)
{
	enum health_state worst = HEALTH_HEALTHY;
	const cJSON *it;

	cJSON_ArrayForEach(it, o)
		worst = health_worst(worst, health_state_parse(
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it,
		    "health"))));
	return health_state_name(worst);
}

static cJSON *
engine_json(const struct ctl_engine_state *es)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", es->name);
	cJSON_AddStringToObject(o, "host", es->host);
	add_str(o, "address", es->address ? es->address : es->host);
	add_time(o, "address_since", es->address_since);
	cJSON_AddNumberToObject(o, "failovers", (double)es->failovers);
	add_str(o, "last_failover", es->failover);
	cJSON_AddBoolToObject(o, "reachable", es->reachable);
	cJSON_AddStringToObject(o, "api_version", es->api_version);
	add_time(o, "last_cycle", es->last_cycle);
	cJSON_AddNumberToObject(o, "last_cycle_seconds", es->last_duration);
	cJSON_AddNumberToObject(o, "last_observe_seconds", es->last_observe);
	cJSON_AddNumberToObject(o, "cycles", (double)es->cycles);
	add_str(o, "error", es->error);
	cJSON_AddStringToObject(o, "health", worst_health(es->stacks));
	lease_json(o, &es->lease);
	caches_json(o, es);
	return o;
}

/* How the fetch process was confined: null before the first fetch,
 * {"enabled": false} under --no-sandbox. */
static cJSON *
fetch_sandbox_json(const struct sources_git_stats *g)
{
	cJSON *o;

	if (g->fetches + g->fetch_errors == 0)
		return cJSON_CreateNull();
	if (!g->confined) {
		o = cJSON_CreateObject();
		cJSON_AddBoolToObject(o, "enabled", false);
		return o;
	}
	o = sandbox_report_json(&g->sandbox);
	/* A fetch keeps the daemon's user, which owns the cache. */
	cJSON_DeleteItemFromObjectCaseSensitive(o, "user");
	cJSON_AddBoolToObject(o, "enabled", true);
	return o;
}

/* The commit in force and the fetches of a git source. */
static cJSON *
git_json(const struct ctl_source_state *s)
{
	const struct sources_snapshot *snap = s->snap;
	cJSON *o = cJSON_CreateObject(), *c = cJSON_CreateObject();

	if (snap != NULL) {
		cJSON_AddStringToObject(c, "id", snap->revision);
		add_str(c, "author", snap->author);
		add_str(c, "subject", snap->subject);
		add_time(c, "time", snap->commit_time);
		cJSON_AddItemToObject(o, "commit", c);
	} else {
		cJSON_Delete(c);
		cJSON_AddNullToObject(o, "commit");
	}
	add_time(o, "last_fetch", s->git.last_fetch);
	cJSON_AddNumberToObject(o, "last_fetch_seconds", s->git.last_seconds);
	cJSON_AddNumberToObject(o, "last_fetch_bytes",
	    (double)s->git.last_bytes);
	cJSON_AddNumberToObject(o, "fetches", (double)s->git.fetches);
	cJSON_AddNumberToObject(o, "fetch_errors",
	    (double)s->git.fetch_errors);
	cJSON_AddItemToObject(o, "fetch_sandbox", fetch_sandbox_json(&s->git));
	c = cJSON_CreateObject();
	cJSON_AddNumberToObject(c, "accepted", (double)s->hooks_accepted);
	cJSON_AddNumberToObject(c, "ignored", (double)s->hooks_ignored);
	cJSON_AddNumberToObject(c, "refused", (double)s->hooks_refused);
	cJSON_AddItemToObject(o, "webhooks", c);
	return o;
}

static cJSON *
source_json(const struct ctl_source_state *s)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", s->name);
	cJSON_AddStringToObject(o, "kind", s->kind);
	cJSON_AddStringToObject(o, "location", s->location);
	add_str(o, "revision", s->snap ? s->snap->revision : NULL);
	cJSON_AddNumberToObject(o, "stacks", s->snap ?
	    (double)s->nstacks : 0);
	add_time(o, "last_read", s->last_read);
	cJSON_AddNumberToObject(o, "snapshots", (double)s->snapshots);
	cJSON_AddNumberToObject(o, "errors", (double)s->errors);
	add_str(o, "error", s->error);
	if (strcmp(s->kind, "git") == 0)
		cJSON_AddItemToObject(o, "git", git_json(s));
	return o;
}

/* The status process: how it is confined, as it said at its start. */
static cJSON *
sandbox_json(const struct ctl_sandbox_state *sb)
{
	cJSON *o = sb->reported ? sandbox_report_json(&sb->report) :
	    cJSON_CreateObject();

	cJSON_AddBoolToObject(o, "enabled", sb->enabled);
	if (sb->pid > 0)
		cJSON_AddNumberToObject(o, "pid", (double)sb->pid);
	cJSON_AddNumberToObject(o, "starts", (double)sb->starts);
	if (sb->last_exit[0] != '\0')
		cJSON_AddStringToObject(o, "last_exit", sb->last_exit);
	return o;
}

cJSON *
ctl_status_json(const struct ctl_state *st)
{
	cJSON *o = cJSON_CreateObject(), *engines = cJSON_CreateArray();
	cJSON *sources = cJSON_CreateArray();

	cJSON_AddStringToObject(o, "version", STACKD_VERSION);
	cJSON_AddStringToObject(o, "commit", STACKD_COMMIT);
	cJSON_AddNumberToObject(o, "uptime_seconds",
	    (double)((long long)time(NULL) - st->started));
	cJSON_AddBoolToObject(o, "ready", ctl_ready(st));
	for (size_t i = 0; i < st->nengines; i++)
		cJSON_AddItemToArray(engines, engine_json(&st->engines[i]));
	cJSON_AddItemToObject(o, "engines", engines);
	for (size_t i = 0; i < st->nsources; i++)
		cJSON_AddItemToArray(sources, source_json(&st->sources[i]));
	cJSON_AddItemToObject(o, "sources", sources);
	cJSON_AddItemToObject(o, "sandbox", sandbox_json(&st->sandbox));
	return o;
}

/* {"name", "state", "engines": {"e1": {...}}} for one stack.  The
 * engines' reports are referenced, not copied: the document lives under
 * the lock, as long as it takes to print it. */
static cJSON *
stack_json(const struct ctl_state *st, const char *name)
{
	cJSON *o = cJSON_CreateObject(), *per = cJSON_CreateObject();

	for (size_t i = 0; i < st->nengines; i++) {
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(
		    st->engines[i].stacks, name);
		if (s != NULL)
			cJSON_AddItemToObject(per, st->engines[i].name,
			    cJSON_CreateObjectReference(s->child));
	}
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "state", ctl_stack_state(per));
	cJSON_AddStringToObject(o, "health", worst_health(per));
	cJSON_AddItemToObject(o, "engines", per);
	return o;
}

void
ctl_stacks_each(const struct ctl_state *st,
    void (*fn)(const char *name, void *arg), void *arg)
{
	struct ctl_pathmap seen = { 0 };
	void **slot;
	const cJSON *s;

	for (size_t i = 0; i < st->nengines; i++)
		cJSON_ArrayForEach(s, st->engines[i].stacks)
			if (*(slot = ctl_pathmap_slot(&seen, s->string)) ==
			    NULL) {
				*slot = &seen;
				fn(s->string, arg);
			}
	ctl_pathmap_clear(&seen, NULL);
}

struct stacks_arg {
	const struct ctl_state *st;
	cJSON *arr;
};

static void
add_stack(const char *name, void *arg)
{
	struct stacks_arg *a = arg;

	cJSON_AddItemToArray(a->arr, stack_json(a->st, name));
}

/* Every stack any engine reports (sorted as the source lists them), or
 * only the one named (NULL when no engine has it). */
cJSON *
ctl_stacks_json(const struct ctl_state *st, const char *only)
{
	struct stacks_arg a = { st, cJSON_CreateArray() };
	cJSON *arr = a.arr;

	if (only != NULL) {
		for (size_t i = 0; i < st->nengines; i++)
			if (cJSON_GetObjectItemCaseSensitive(
			    st->engines[i].stacks, only) != NULL) {
				cJSON_Delete(arr);
				return stack_json(st, only);
			}
		cJSON_Delete(arr);
		return NULL;
	}
	ctl_stacks_each(st, add_stack, &a);
	return arr;
}

/* {"name", "engines": {"e1": [operation, ...]}}: the stack's sync
 * history on each engine that has one or reports the stack (NULL: none
 * does). */
cJSON *
ctl_history_json(const struct ctl_state *st, const char *name)
{
	cJSON *o = cJSON_CreateObject(), *per;
	bool known = false;

	cJSON_AddStringToObject(o, "name", name);
	per = cJSON_AddObjectToObject(o, "engines");
	for (size_t i = 0; i < st->nengines; i++) {
		const cJSON *h = cJSON_GetObjectItemCaseSensitive(
		    st->engines[i].syncs, name);
		if (h == NULL && cJSON_GetObjectItemCaseSensitive(
		    st->engines[i].stacks, name) == NULL)
			continue;
		known = true;
		cJSON_AddItemToObject(per, st->engines[i].name, h != NULL ?
		    cJSON_CreateArrayReference(h->child) : cJSON_CreateArray());
	}
	if (!known) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}
