/*
 * stack_status.c - what a cycle reports of one stack on one engine: its
 * sync state, the revision deployed, and per service the replicas running
 * against those desired, the rollout state and why tasks are pending.
 *
 * The services are those observed at the start of the cycle; a cycle that
 * wrote something reports "progressing" and looks again shortly.
 */
#include <string.h>
#include <time.h>

#include "clock.h"
#include "worker_int.h"
#include "json.h"

static void
add_unique(cJSON *arr, const char *s)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, arr)
		if (strcmp(it->valuestring, s) == 0)
			return;
	cJSON_AddItemToArray(arr, cJSON_CreateString(s));
}

/* Running and wanted tasks of service id, and why others are not up. */
static void
count_tasks(const struct cycle *c, const char *id, int *running,
    int *wanted, cJSON *pending)
{
	const cJSON *t;
	char why[512];

	cJSON_ArrayForEach(t, c->tasks) {
		const cJSON *ts = json_get(t, "Status");
		const char *state = json_str(ts, "State"), *e = json_str(ts, "Err");

		if (id == NULL || !cJSON_IsString(json_get(t, "ServiceID")) ||
		    strcmp(json_get(t, "ServiceID")->valuestring, id) != 0)
			continue;
		(*wanted)++;
		if (state != NULL && strcmp(state, "running") == 0) {
			(*running)++;
			continue;
		}
		if (e == NULL || *e == '\0')
			e = json_str(ts, "Message");
		snprintf(why, sizeof(why), "%s: %s", state ? state : "?",
		    e ? e : "");
		add_unique(pending, why);
	}
}

/* What the last lookup of the service's image found: the reference the
 * file names, the digest and when, or why not. */
static void
add_resolution(const struct cycle *c, cJSON *o, const cJSON *desired)
{
	const char *ref = json_str(json_get(json_get(desired, "TaskTemplate"),
	    "ContainerSpec"), "Image");
	struct images_pin pin;
	cJSON *r;
	char ts[32];

	if (ref == NULL || !images_cache_get(c->w->images, ref, &pin))
		return;
	r = cJSON_AddObjectToObject(o, "resolution");
	cJSON_AddStringToObject(r, "reference", ref);
	if (pin.digest[0] != '\0') {
		cJSON_AddStringToObject(r, "digest", pin.digest);
		cJSON_AddStringToObject(r, "resolved_at",
		    clock_iso_time(pin.resolved_at, ts));
	}
	if (!pin.ok)
		cJSON_AddStringToObject(r, "error", pin.error);
	images_pin_release(&pin);
}

/* One service's status; *moving when it is not where it should be. */
static cJSON *
service_status(const struct cycle *c, const cJSON *desired, bool *moving)
{
	const char *name = json_str(desired, "Name");
	const cJSON *actual = recon_observed_find(&c->obs, ENGINE_SERVICE,
	    name);
	const cJSON *spec = actual ? json_get(actual, "Spec") : desired;
	const cJSON *rep = json_get(json_get(spec, "Mode"), "Replicated");
	const cJSON *us = actual ? json_get(actual, "UpdateStatus") : NULL;
	const char *ust = json_str(us, "State");
	const char *image = json_str(json_get(json_get(spec, "TaskTemplate"),
	    "ContainerSpec"), "Image");
	cJSON *o = cJSON_CreateObject(), *pending = cJSON_CreateArray();
	int running = 0, wanted = 0, want;

	count_tasks(c, actual ? json_str(actual, "ID") : NULL, &running, &wanted,
	    pending);
	want = rep ? cJSON_GetNumberValue(json_get(rep, "Replicas")) : wanted;
	if (rep != NULL && json_get(rep, "Replicas") == NULL)
		want = 1;
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "image", image ? image : "");
	cJSON_AddStringToObject(o, "mode", rep ? "replicated" : "global");
	cJSON_AddNumberToObject(o, "running", running);
	cJSON_AddNumberToObject(o, "desired", want);
	if (ust != NULL) {
		cJSON_AddStringToObject(o, "update_status", ust);
		if (json_str(us, "Message") != NULL)
			cJSON_AddStringToObject(o, "update_message",
			    json_str(us, "Message"));
	}
	cJSON_AddItemToObject(o, "pending", pending);
	add_resolution(c, o, desired);
	if (actual == NULL || running < want || (ust != NULL &&
	    (strcmp(ust, "updating") == 0 ||
	    strcmp(ust, "rollback_started") == 0)))
		*moving = true;
	return o;
}

static cJSON *
changes_of(const struct recon_plan *p)
{
	static const char *const verbs[] = { "create", "update", "remove" };
	cJSON *arr = cJSON_CreateArray();
	char line[384];

	for (size_t i = 0; i < p->n; i++) {
		snprintf(line, sizeof(line), "%s %s %s",
		    verbs[p->changes[i].action],
		    engine_kind_name(p->changes[i].kind), p->changes[i].name);
		cJSON_AddItemToArray(arr, cJSON_CreateString(line));
	}
	return arr;
}

static const char *
state_of(const struct ctl_result *r, const struct stack_mem *m,
    bool moving)
{
	if (r->err != NULL)
		return "failed";
	if (r->applied)
		return "progressing";
	if (!recon_plan_in_sync(r->plan))
		/* Backing off after a failure, or held after a rollback. */
		return m->error != NULL ? "failed" : "out-of-sync";
	return moving ? "progressing" : "synced";
}

void
ctl_stack_status_add(struct cycle *c, const struct ctl_result *r,
    struct stack_mem *m)
{
	cJSON *o = cJSON_CreateObject(), *svcs = cJSON_CreateArray();
	const char *state;
	bool moving = false;
	char ts[32];
	const cJSON *d;

	if (r->loaded != NULL)
		cJSON_ArrayForEach(d, r->loaded->services)
			cJSON_AddItemToArray(svcs, service_status(c, d,
			    &moving));
	state = state_of(r, m, moving);
	if (r->snap != NULL && (strcmp(state, "synced") == 0 ||
	    (r->applied && r->err == NULL)))
		memcpy(m->revision, r->snap->revision, sizeof(m->revision));
	if (strcmp(state, "progressing") == 0)
		c->progressing = true;
	cJSON_AddStringToObject(o, "state", state);
	cJSON_AddStringToObject(o, "revision", m->revision);
	if (r->snap != NULL)
		cJSON_AddStringToObject(o, "source_revision",
		    r->snap->revision);
	if (r->source != NULL)
		cJSON_AddStringToObject(o, "source", r->source);
	if (m->error != NULL)
		cJSON_AddStringToObject(o, "error", m->error);
	if (m->retry_at > clock_mono_ms())
		cJSON_AddNumberToObject(o, "retry_in_seconds",
		    (double)(m->retry_at - clock_mono_ms()) / 1000.0);
	if (m->last_change > 0)
		cJSON_AddStringToObject(o, "last_change",
		    clock_iso_time(m->last_change, ts));
	if (r->plan != NULL && !r->applied && !recon_plan_in_sync(r->plan))
		cJSON_AddItemToObject(o, "pending_changes",
		    changes_of(r->plan));
	if (r->plan != NULL && cJSON_GetArraySize(r->plan->held) > 0)
		cJSON_AddItemToObject(o, "held",
		    cJSON_Duplicate(r->plan->held, true));
	if (r->plan != NULL && cJSON_GetArraySize(r->plan->notes) > 0)
		cJSON_AddItemToObject(o, "notes",
		    cJSON_Duplicate(r->plan->notes, true));
	cJSON_AddItemToObject(o, "services", svcs);
	cJSON_AddItemToObject(c->stacks, r->stack, o);
}
