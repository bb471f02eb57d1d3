/*
 * results.c - what each stack's result in a worker's cycle leaves
 * behind: the stack's memory (its backoff after failures, its last
 * error), the log lines of the changes made, the write counters, the
 * rollback memory, and the objects whose events are the worker's own
 * echoes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "clock.h"
#include "daemon.h"
#include "json.h"
#include "worker_int.h"

#define RETRY_MAX_MS 300000

static struct stack_mem *
mem_of(struct ctl_worker *w, const char *stack)
{
	struct stack_mem *m;

	for (size_t i = 0; i < w->nmem; i++)
		if (strcmp(w->mem[i].name, stack) == 0)
			return &w->mem[i];
	w->mem = xrealloc(w->mem, (w->nmem + 1) * sizeof(*w->mem));
	m = &w->mem[w->nmem++];
	memset(m, 0, sizeof(*m));
	m->name = xstrdup(stack);
	return m;
}

static void
mem_fail(struct stack_mem *m, const char *msg)
{
	long long delay = RETRY_MIN_MS;

	for (unsigned i = 0; i < m->failures && delay < RETRY_MAX_MS; i++)
		delay *= 2;
	m->failures++;
	m->retry_at = clock_mono_ms() + (delay < RETRY_MAX_MS ? delay :
	    RETRY_MAX_MS);
	free(m->error);
	m->error = xstrdup(msg);
}

static void
mem_ok(struct stack_mem *m)
{
	m->failures = 0;
	m->retry_at = 0;
	free(m->error);
	m->error = NULL;
}

/* Remember what this cycle writes: the engine's event about each write
 * is its echo and need not wake the worker again (engine_watch.c). */
static void
note_own_writes(struct ctl_worker *w, const struct recon_plan *p)
{
	long long now = clock_mono_ms();
	cJSON *it, *next, *o;
	char key[320];

	pthread_mutex_lock(&w->mu);
	for (it = w->own ? w->own->child : NULL; it != NULL; it = next) {
		next = it->next;
		if (now - json_num(it, "at") > OWN_WRITE_MS)
			cJSON_Delete(cJSON_DetachItemViaPointer(w->own, it));
	}
	for (size_t i = 0; i < p->n; i++) {
		ctl_own_key(key, sizeof(key), engine_kind_name(
		    p->changes[i].kind), p->changes[i].name);
		if ((o = cJSON_GetObjectItemCaseSensitive(w->own, key)) == NULL)
			o = cJSON_AddObjectToObject(w->own, key);
		cJSON_DeleteItemFromObjectCaseSensitive(o, "at");
		cJSON_AddNumberToObject(o, "at", (double)now);
		/* One echo per write, however many writes in the window. */
		it = cJSON_GetObjectItemCaseSensitive(o, "echoes");
		if (it == NULL)
			cJSON_AddNumberToObject(o, "echoes", 1);
		else
			cJSON_SetNumberValue(it, it->valuedouble + 1);
	}
	pthread_mutex_unlock(&w->mu);
}

bool
ctl_worker_may_apply(const struct recon_plan *p, void *payload)
{
	struct cycle *c = payload;
	struct stack_mem *m = mem_of(c->w, p->stack);

	if (m->retry_at > clock_mono_ms() || !ctl_lease_held(c->w->lease))
		return false;
	note_own_writes(c->w, p);
	return true;
}

bool
ctl_worker_ready(const cJSON *deps, void *payload, char *why, size_t size)
{
	struct cycle *c = payload;
	const cJSON *d;

	cJSON_ArrayForEach(d, deps) {
		const struct stack_mem *m = mem_of(c->w, d->valuestring);
		if (strcmp(m->state, "synced") == 0 &&
		    m->health == HEALTH_HEALTHY)
			continue;
		snprintf(why, size, "waiting for %s (%s)", d->valuestring,
		    *m->state == '\0' ? "not seen yet" :
		    strcmp(m->state, "synced") != 0 ? m->state :
		    health_state_name(m->health));
		return false;
	}
	return true;
}

/* The first n changes of the plan, the ones made. */
static void
count_writes(struct cycle *c, const struct recon_plan *p, size_t n)
{
	for (size_t i = 0; i < n && i < p->n; i++) {
		const struct recon_change *ch = &p->changes[i];
		if (ch->kind <= ENGINE_CONFIG)
			c->writes[ch->action][ch->kind]++;
		c->drift += ch->drift;
	}
}

/* One line per change made (an apply stops at its first failure, which
 * is logged as the stack's error): field paths only, never values (an
 * environment variable may hold a password). */
static void
log_changes(struct cycle *c, const struct ctl_result *r)
{
	static const char *const verbs[] = { "created", "updated", "removed" };

	for (size_t i = 0; i < r->stats.done && i < r->plan->n; i++) {
		const struct recon_change *ch = &r->plan->changes[i];
		char object[320], fields[512] = "";
		const cJSON *d;
		size_t len = 0;

		snprintf(object, sizeof(object), "%s/%s",
		    engine_kind_name(ch->kind), ch->name);
		cJSON_ArrayForEach(d, ch->diffs) {
			const char *colon = strstr(d->valuestring, ": ");
			int n = colon ? (int)(colon - d->valuestring) :
			    (int)strlen(d->valuestring);
			if (len + (size_t)n + 3 >= sizeof(fields))
				break;
			len += (size_t)snprintf(fields + len,
			    sizeof(fields) - len, "%s%.*s", len ? ", " : "",
			    n, d->valuestring);
		}
		log_event(LOG_INFO, c->engine, r->stack, object, "%s%s%s%s",
		    verbs[ch->action], ch->drift ? " (drift repaired)" : "",
		    *fields ? ": " : "", fields);
	}
}

/*
 * A git snapshot is read from an export directory nobody knows about:
 * its errors name files relative to the repository instead, and the
 * commit.  A directory source's paths are the user's own, kept whole.
 */
static const char *
shown_error(const struct sources_snapshot *snap, const char *msg, char *out,
    size_t size)
{
	const char *root = snap != NULL ? snap->root : "";
	size_t rlen = strlen(root), len = 0;

	if (snap == NULL || snap->subject == NULL)
		return msg;
	while (*msg != '\0' && len + 1 < size) {
		if (strncmp(msg, root, rlen) == 0 && msg[rlen] == '/')
			msg += rlen + 1;
		else
			out[len++] = *msg++;
	}
	out[len] = '\0';
	snprintf(out + len, size - len, " (commit %.12s)", snap->revision);
	return out;
}

void
ctl_worker_result(const struct ctl_result *r, void *payload)
{
	struct cycle *c = payload;
	struct stack_mem *m;
	char shown[ERR_MSG_MAX + 64];
	const char *msg;

	if (r->stack == NULL) {
		log_event(LOG_ERROR, c->engine, NULL, NULL, "%s", r->err->msg);
		c->source_error = true;
		return;
	}
	m = mem_of(c->w, r->stack);
	/* Said once per revision, not once per cycle. */
	if (r->loaded != NULL && r->fresh)
		for (size_t i = 0; i < r->loaded->nwarnings; i++)
			log_event(LOG_WARN, c->engine, r->stack, NULL, "%s",
			    r->loaded->warnings[i]);
	if (r->applied) {
		log_changes(c, r);
		count_writes(c, r->plan, r->stats.done);
		/* The change that failed may have reached the engine. */
		recon_plan_attempted(r->plan, r->stats.done + (r->err != NULL),
		    c->w->attempted);
		c->sync_hist[ctl_bucket_of(r->stats.seconds)]++;
		c->sync_sum += r->stats.seconds;
		c->progressing = true;
	}
	msg = r->err != NULL ? shown_error(r->snap, r->err->msg, shown,
	    sizeof(shown)) : NULL;
	ctl_sync_history_record(c, r, m, msg);
	if (r->err != NULL) {
		/* A new error is logged once, not every cycle. */
		if (m->error == NULL || strcmp(m->error, msg) != 0)
			log_event(LOG_ERROR, c->engine, r->stack, NULL, "%s",
			    msg);
		mem_fail(m, msg);
		c->failed = true;
	} else if (r->applied) {
		mem_ok(m);
		m->last_change = (long long)time(NULL);
	} else if (recon_plan_in_sync(r->plan)) {
		if (m->error != NULL)
			log_event(LOG_INFO, c->engine, r->stack, NULL,
			    "in sync again");
		mem_ok(m);
	}
	if (!r->removal || r->err != NULL)
		ctl_stack_status_add(c, r, m);
}
