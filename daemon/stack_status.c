/*
 * stack_status.c - what a cycle reports of one stack on one engine: its
 * sync state, its health (health.h), the revision deployed, and per
 * service the replicas running against those desired, its health, the
 * rollout state and why tasks are pending.
 *
 * The services are those observed at the start of the cycle; a cycle that
 * wrote something reports "progressing" and looks again shortly.
 */
#include <string.h>
#include <time.h>

#include "clock.h"
#include "worker_int.h"
#include "json.h"

/* Why the service's tasks that are not running are not. */
static cJSON *
pending_of(const struct cycle *c, const char *id)
{
	cJSON *pending = cJSON_CreateArray();
	const cJSON *const *t;
	size_t n = health_tasks_of(c->current, id, &t);
	char why[512];

	for (size_t i = 0; i < n; i++) {
		const cJSON *ts = json_get(t[i], "Status");
		const char *state = json_str(ts, "State");
		const char *e = json_str(ts, "Err");

		if (state != NULL && strcmp(state, "running") == 0)
			continue;
		if (e == NULL || *e == '\0')
			e = json_str(ts, "Message");
		snprintf(why, sizeof(why), "%s: %s", state ? state : "?",
		    e ? e : "");
		json_add_unique(pending, why);
	}
	return pending;
}

/* Does the plan change or hold the service (its spec is not the file's)? */
static bool
planned(const struct recon_plan *p, const char *name)
{
	const cJSON *h, *held = p != NULL ? p->held : NULL;
	size_t len = strlen(name);

	for (size_t i = 0; p != NULL && i < p->n; i++)
		if (p->changes[i].kind == ENGINE_SERVICE &&
		    strcmp(p->changes[i].name, name) == 0)
			return true;
	cJSON_ArrayForEach(h, held)
		if (strncmp(h->valuestring, "service ", 8) == 0 &&
		    strncmp(h->valuestring + 8, name, len) == 0 &&
		    h->valuestring[8 + len] == ':')
			return true;
	return false;
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

/* One service's status and health (into v). */
static cJSON *
service_status(const struct cycle *c, const struct ctl_result *r,
    const cJSON *desired, long long timeout_ms, struct health_verdict *v)
{
	const char *name = json_str(desired, "Name");
	const cJSON *actual = recon_observed_find(&c->obs, ENGINE_SERVICE,
	    name);
	const cJSON *spec = actual ? json_get(actual, "Spec") : desired;
	const cJSON *mode = json_get(spec, "Mode");
	const cJSON *us = actual ? json_get(actual, "UpdateStatus") : NULL;
	const char *ust = json_str(us, "State");
	const char *image = json_str(json_get(json_get(spec, "TaskTemplate"),
	    "ContainerSpec"), "Image");
	struct health_facts f = { .service = actual, .current = c->current,
	    .history = c->history, .drifted = planned(r->plan, name),
	    .now = (long long)time(NULL), .timeout_ms = timeout_ms };
	cJSON *o = cJSON_CreateObject();

	health_service_judge(&f, v);
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "image", image ? image : "");
	cJSON_AddStringToObject(o, "mode", json_get(mode, "Global") ?
	    "global" : json_get(mode, "Replicated") ? "replicated" : "job");
	cJSON_AddNumberToObject(o, "running", v->running);
	cJSON_AddNumberToObject(o, "desired", actual != NULL ? v->desired :
	    json_get(json_get(mode, "Replicated"), "Replicas") ?
	    json_num(json_get(mode, "Replicated"), "Replicas") : 1);
	cJSON_AddStringToObject(o, "health", health_state_name(v->state));
	if (v->why[0] != '\0')
		cJSON_AddStringToObject(o, "health_reason", v->why);
	if (ust != NULL) {
		cJSON_AddStringToObject(o, "update_status", ust);
		if (json_str(us, "Message") != NULL)
			cJSON_AddStringToObject(o, "update_message",
			    json_str(us, "Message"));
	}
	cJSON_AddItemToObject(o, "pending", pending_of(c, actual ?
	    json_str(actual, "ID") : NULL));
	add_resolution(c, o, desired);
	return o;
}

/* The health of a stack whose files did not load: what runs of it. */
static enum health_state
observed_health(const struct cycle *c, const struct ctl_result *r,
    long long timeout_ms, char *why, size_t size)
{
	const cJSON *const *svcs;
	size_t n = recon_observed_stack(&c->obs, ENGINE_SERVICE, r->stack,
	    &svcs);
	enum health_state worst = HEALTH_HEALTHY;
	struct health_verdict v;

	for (size_t i = 0; i < n; i++) {
		struct health_facts f = { .service = svcs[i],
		    .current = c->current, .history = c->history,
		    .now = (long long)time(NULL), .timeout_ms = timeout_ms };
		health_service_judge(&f, &v);
		if (v.state > worst) {
			worst = v.state;
			snprintf(why, size, "%s: %s", json_str(json_get(svcs[i],
			    "Spec"), "Name"), v.why);
		}
	}
	return worst;
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
	if (r->applied || r->waiting != NULL)
		return "progressing";
	if (!recon_plan_in_sync(r->plan))
		/* Backing off after a failure, or held after a rollback. */
		return m->error != NULL ? "failed" : "out-of-sync";
	return moving ? "progressing" : "synced";
}

/* The stack's health, the worst of its services' (whose statuses go
 * into svcs), with the worst one's reason; *moving when one of them is
 * on its way (progressing or missing), whatever the others are. */
static enum health_state
stack_health(struct cycle *c, const struct ctl_result *r, cJSON *svcs,
    bool *moving, char *why, size_t size)
{
	long long timeout = ctl_stacks_sync_timeout(c->w->d->cfg, r->stack);
	enum health_state worst = HEALTH_HEALTHY;
	struct health_verdict v;
	const cJSON *d;

	*why = '\0';
	if (r->loaded == NULL)
		return observed_health(c, r, timeout, why, size);
	cJSON_ArrayForEach(d, r->loaded->services) {
		const char *hook = compose_stack_hook(r->loaded,
		    json_str(d, "Name"));
		cJSON *o = service_status(c, r, d, timeout, &v);
		cJSON_AddItemToArray(svcs, o);
		/* A job around the sync, not part of what runs. */
		if (hook != NULL) {
			cJSON_AddStringToObject(o, "hook", hook);
			continue;
		}
		*moving |= v.state == HEALTH_PROGRESSING ||
		    v.state == HEALTH_MISSING;
		if (v.state > worst) {
			worst = v.state;
			snprintf(why, size, "%s: %s", json_str(d, "Name"),
			    v.why);
		}
	}
	return worst;
}

/* Are o's members those of the report the state holds (old)? */
static bool
same_report(const cJSON *o, const cJSON *old)
{
	const cJSON *a = o->child, *b = old != NULL ? old->child : NULL;

	for (; a != NULL && b != NULL; a = a->next, b = b->next)
		if (!json_same(a, b))
			return false;
	return old != NULL && a == NULL && b == NULL;
}

/*
 * A stack's report into the cycle's, kept packed (json_keep).  One the
 * same as the state's (every stack on a no-op cycle) is not held twice:
 * a reference to the state's stands for it, and ctl_stack_status_adopt
 * moves the state's own in when the cycle publishes.  Only this worker
 * changes its engine's reports, so reading them here takes no lock.
 */
static void
add_report(struct cycle *c, const char *stack, cJSON *o)
{
	const cJSON *old = cJSON_GetObjectItemCaseSensitive(
	    c->w->d->st.engines[c->w->idx].stacks, stack);

	if (same_report(o, old)) {
		cJSON_Delete(o);
		cJSON_AddItemToObject(c->stacks, stack,
		    cJSON_CreateObjectReference(old->child));
	} else
		cJSON_AddItemToObject(c->stacks, stack, json_keep(o));
}

void
ctl_stack_status_adopt(cJSON *stacks, cJSON *old)
{
	cJSON *it, *next, *was, *cur = old != NULL ? old->child : NULL;

	for (it = stacks != NULL ? stacks->child : NULL; it != NULL;
	    it = next) {
		next = it->next;
		/* mostly in the same order: where the last one was, first */
		was = cur != NULL && strcmp(cur->string, it->string) == 0 ?
		    cur : cJSON_GetObjectItemCaseSensitive(old, it->string);
		if (was == NULL || was == it || was->child != it->child)
			continue;
		cur = was->next;
		cJSON_ReplaceItemViaPointer(stacks, it,
		    cJSON_DetachItemViaPointer(old, was));
	}
}

void
ctl_stack_status_add(struct cycle *c, const struct ctl_result *r,
    struct stack_mem *m)
{
	cJSON *o = cJSON_CreateObject(), *svcs = cJSON_CreateArray();
	enum health_state health;
	const char *state;
	char ts[32], why[640];
	bool moving = false;

	health = stack_health(c, r, svcs, &moving, why, sizeof(why));
	state = state_of(r, m, moving);
	if (r->suspended) {
		health = HEALTH_SUSPENDED;
		snprintf(why, sizeof(why), "suspended: stackd writes nothing "
		    "to it");
	} else if (r->waiting != NULL && health != HEALTH_DEGRADED) {
		/* Not yet written is on its way, not missing. */
		health = HEALTH_PROGRESSING;
		snprintf(why, sizeof(why), "%s", r->waiting);
	}
	snprintf(m->state, sizeof(m->state), "%s", state);
	m->health = health;
	if (r->snap != NULL && (strcmp(state, "synced") == 0 ||
	    (r->applied && r->err == NULL)))
		memcpy(m->revision, r->snap->revision, sizeof(m->revision));
	/* A start on its way is looked at again soon, its tasks listed
	 * again: no event says a task turned healthy. */
	if (strcmp(state, "progressing") == 0 ||
	    health == HEALTH_PROGRESSING || health == HEALTH_MISSING)
		c->progressing = true;
	cJSON_AddStringToObject(o, "state", state);
	cJSON_AddStringToObject(o, "health", health_state_name(health));
	if (health != HEALTH_HEALTHY)
		cJSON_AddStringToObject(o, "health_reason", why);
	if (r->suspended)
		cJSON_AddTrueToObject(o, "suspended");
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
	if (r->plan != NULL && !r->applied && !recon_plan_in_sync(r->plan)) {
		cJSON_AddItemToObject(o, "pending_changes",
		    changes_of(r->plan));
		cJSON_AddItemToObject(o, "pending_diff",
		    ctl_changes_json(r->plan, r->plan->n));
	}
	if (r->plan != NULL && cJSON_GetArraySize(r->plan->held) > 0)
		cJSON_AddItemToObject(o, "held",
		    cJSON_Duplicate(r->plan->held, true));
	if (r->plan != NULL && cJSON_GetArraySize(r->plan->notes) > 0)
		cJSON_AddItemToObject(o, "notes",
		    cJSON_Duplicate(r->plan->notes, true));
	cJSON_AddItemToObject(o, "services", svcs);
	add_report(c, r->stack, o);
}
