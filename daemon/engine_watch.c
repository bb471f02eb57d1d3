/*
 * engine_watch.c - an engine's event stream wakes its worker: a service,
 * network, secret or config of a managed stack changed or removed by
 * someone else is reconciled within a second instead of at the next
 * interval.  Each write of the worker's own comes back as one event, its
 * echo: that one is dropped, and so are the engine's own progress events
 * (UpdateStatus) on an object it just wrote, so a write costs no second
 * cycle.  Any other event wakes the worker, whenever it comes: a change
 * by hand right after stackd's own write is repaired as fast as any other
 * (there is no blind window).
 *
 * Every event also tells the worker's informer which object to inspect
 * again: with the stream taken, a cycle on a quiet engine makes no call.
 *
 * The stream has its own connection.  When it drops, it is reopened with
 * backoff, and until it is taken again every cycle lists everything; once
 * it is, the worker is woken at once for one full list, since anything
 * may have happened while nobody listened.  (dockerd answers the request
 * a moment before it subscribes it: an event in that moment, and one on
 * a stream that stays open but goes silent, is caught by the resync.)
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "worker_int.h"
#include "json.h"

#define DEBOUNCE_MS 250
#define RECONNECT_MAX_MS 10000

void
ctl_own_key(char *out, size_t size, const char *kind, const char *name)
{
	snprintf(out, size, "%s %s", kind, name);
}

/*
 * Is this event the echo of the worker's own write?  The first event per
 * write of the object in the window is; so is, in the window, an event
 * of the engine's own progress on that update (it carries updatestate.*
 * and changes no spec: a rollback is caught by the worker's own look
 * after every write).  Anything else is somebody else's doing.
 */
static bool
own_echo(struct ctl_worker *w, const char *type, const char *name,
    const cJSON *attrs)
{
	char key[320];
	cJSON *o, *n;
	bool echo = false;

	ctl_own_key(key, sizeof(key), type, name);
	pthread_mutex_lock(&w->mu);
	o = cJSON_GetObjectItemCaseSensitive(w->own, key);
	n = cJSON_GetObjectItemCaseSensitive(o, "echoes");
	if (o != NULL && clock_mono_ms() - json_num(o, "at") <= OWN_WRITE_MS) {
		if (json_get(attrs, "updatestate.new") != NULL)
			echo = true;
		else if (cJSON_IsNumber(n) && n->valuedouble >= 1) {
			cJSON_SetNumberValue(n, n->valuedouble - 1);
			echo = true;
		}
	}
	pthread_mutex_unlock(&w->mu);
	return echo;
}

/* Is name an object of a stack of a current snapshot ("web_db")?  The
 * config is stable while the thread runs: a reload stops it first. */
static bool
managed(struct ctl_worker *w, const char *name)
{
	struct ctl_state *st = &w->d->st;
	bool found = false;

	pthread_mutex_lock(&st->mu);
	for (size_t k = 0; k < st->nsources && !found; k++)
		found = ctl_stacks_object(w->d->cfg, st->sources[k].snap, name);
	pthread_mutex_unlock(&st->mu);
	return found;
}

/* The informer inspects every object an event names at the next cycle,
 * managed or not: an external network or secret is part of a plan too. */
static void
touch(struct ctl_worker *w, const char *type, const cJSON *actor)
{
	static const char *const kinds[] = { "service", "network", "secret",
	    "config" };

	for (int k = ENGINE_SERVICE; k <= ENGINE_CONFIG; k++)
		if (strcmp(type, kinds[k]) == 0)
			recon_informer_touch(w->informer, k, json_str(actor,
			    "ID"));
}

static int
on_event(const cJSON *ev, void *payload)
{
	struct ctl_worker *w = payload;
	const cJSON *actor = json_get(ev, "Actor");
	const cJSON *attrs = json_get(actor, "Attributes");
	const cJSON *name = json_get(attrs, "name");
	const cJSON *type = json_get(ev, "Type"), *action = json_get(ev, "Action");

	if (ev == NULL) {
		/* Taken: whatever happens from now on is heard, so one full
		 * list makes the informer whole. */
		recon_informer_stream(w->informer, true);
		ctl_worker_kick(w);
		return 0;
	}
	if (!cJSON_IsString(type))
		return 0;
	/* A node going down or coming back moves tasks, which no event
	 * describes: they are listed again at the next cycle. */
	if (strcmp(type->valuestring, "node") == 0) {
		atomic_store(&w->tasks_stale, 1);
		ctl_worker_wake(w, DEBOUNCE_MS);
		return 0;
	}
	/* Tasks joining and leaving a network change nothing of its spec,
	 * and neither does a node setting up or tearing down its part of
	 * an overlay as tasks come and go (local create and destroy, every
	 * few seconds for a service that keeps failing). */
	if (cJSON_IsString(action) && (strcmp(action->valuestring,
	    "connect") == 0 || strcmp(action->valuestring, "disconnect") == 0))
		return 0;
	if (strcmp(type->valuestring, "network") == 0 &&
	    json_str(ev, "scope") != NULL &&
	    strcmp(json_str(ev, "scope"), "local") == 0 &&
	    json_str(attrs, "type") != NULL &&
	    strcmp(json_str(attrs, "type"), "overlay") == 0)
		return 0;
	touch(w, type->valuestring, actor);
	if (!cJSON_IsString(name) || !managed(w, name->valuestring))
		return 0;
	if (own_echo(w, type->valuestring, name->valuestring, attrs))
		return 0;
	log_event(LOG_INFO, w->cfg->name, NULL, name->valuestring,
	    "engine event: %s %s", type->valuestring,
	    cJSON_IsString(action) ? action->valuestring : "?");
	pthread_mutex_lock(&w->d->st.mu);
	w->d->st.engines[w->idx].events++;
	ctl_state_unlock(&w->d->st);
	ctl_worker_wake(w, DEBOUNCE_MS);
	return 0;
}

static void
pause_ms(struct ctl_worker *w, long long ms)
{
	for (long long t = 0; t < ms && !w->stop; t += 100)
		usleep(100 * 1000);
}

void *
ctl_events_main(void *arg)
{
	struct ctl_worker *w = arg;
	cJSON *filters = NULL;
	long long backoff = 1000;
	bool lost = false;
	struct err err;
	int rc;

	engine_filter_add(&filters, "type", "service");
	engine_filter_add(&filters, "type", "network");
	engine_filter_add(&filters, "type", "secret");
	engine_filter_add(&filters, "type", "config");
	engine_filter_add(&filters, "type", "node");
	while (!w->stop) {
		if (engine_ping(w->ev, NULL, &err) < 0) {
			lost = true;
			pause_ms(w, backoff);
			backoff = backoff * 2 > RECONNECT_MAX_MS ?
			    RECONNECT_MAX_MS : backoff * 2;
			continue;
		}
		backoff = 1000;
		if (lost)
			ctl_worker_kick(w);
		lost = false;
		rc = engine_events_watch(w->ev, NULL, filters, on_event, w,
		    &w->stop, &err);
		/* Until it is taken again, every cycle lists everything. */
		recon_informer_stream(w->informer, false);
		if (rc < 0 && !w->stop) {
			log_event(LOG_WARN, w->cfg->name, NULL, NULL,
			    "event stream: %s; reconnecting", err.msg);
			lost = true;
			pause_ms(w, backoff);
		}
	}
	cJSON_Delete(filters);
	return NULL;
}
