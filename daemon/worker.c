/*
 * worker.c - one engine's worker: a thread that reconciles the current
 * snapshot against the engine whenever it is woken (new snapshot, engine
 * event, interval, retry), and publishes what it saw into ctl_state.
 *
 * A slow or unreachable engine blocks only its own worker.  Every cycle
 * observes the engine afresh (four list calls and one for tasks), so
 * nothing but the rollback memory (`attempted`) and the per-stack backoff
 * is carried from one cycle to the next.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "daemon.h"
#include "clock.h"
#include "json.h"
#include "worker_int.h"

#define RETRY_MIN_MS 1000
#define RETRY_MAX_MS 300000
#define ENGINE_RETRY_MAX_MS 10000
#define PROGRESS_MS 2000

void
ctl_worker_wake(struct ctl_worker *w, long long delay_ms)
{
	long long at = clock_mono_ms() + delay_ms;

	pthread_mutex_lock(&w->mu);
	if (at < w->due)
		w->due = at;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void
ctl_worker_kick(struct ctl_worker *w)
{
	ctl_worker_wake(w, 0);
}

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

static bool
may_apply(const struct recon_plan *p, void *payload)
{
	struct cycle *c = payload;
	struct stack_mem *m = mem_of(c->w, p->stack);

	if (m->retry_at > clock_mono_ms() || !ctl_lease_held(c->w->lease))
		return false;
	note_own_writes(c->w, p);
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

static void
on_result(const struct ctl_result *r, void *payload)
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
	if (r->loaded != NULL)
		for (size_t i = 0; i < r->loaded->nwarnings; i++)
			log_event(LOG_WARN, c->engine, r->stack, NULL, "%s",
			    r->loaded->warnings[i]);
	if (r->applied) {
		log_changes(c, r);
		count_writes(c, r->plan, r->stats.done);
		/* The change that failed may have reached the engine. */
		recon_plan_attempted(r->plan, r->stats.done + (r->err != NULL),
		    c->w->attempted);
		c->progressing = true;
	}
	if (r->err != NULL) {
		msg = shown_error(r->snap, r->err->msg, shown, sizeof(shown));
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

/* Five GETs: the four object lists, and the tasks meant to run. */
static int
observe(struct ctl_worker *w, struct cycle *c, struct err *err)
{
	cJSON *filters = NULL;
	int rc;

	if ((rc = recon_observe(&c->obs, w->e, err)) < 0)
		return rc;
	engine_filter_add(&filters, "desired-state", "running");
	rc = engine_object_list(w->e, ENGINE_TASK, filters, &c->tasks, err);
	cJSON_Delete(filters);
	return rc;
}

/* Which manager the worker talks to; under the state lock. */
static void
publish_address(struct ctl_worker *w, struct ctl_engine_state *es)
{
	struct engine_address a;

	engine_address_get(w->e, &a);
	xstrset(&es->address, a.host);
	es->address_since = a.since;
	es->failovers = a.failovers;
	xstrset(&es->failover, a.reason);
}

static void
publish_unreachable(struct ctl_worker *w, const struct err *err)
{
	struct ctl_engine_state *es = &w->d->st.engines[w->idx];
	cJSON *s;

	pthread_mutex_lock(&w->d->st.mu);
	publish_address(w, es);
	ctl_lease_status(w->lease, &es->lease);
	if (es->reachable || es->error == NULL ||
	    strcmp(es->error, err->msg) != 0)
		log_event(LOG_ERROR, es->name, NULL, NULL, "%s", err->msg);
	es->reachable = false;
	free(es->error);
	es->error = xstrdup(err->msg);
	es->failed_cycles++;
	es->last_cycle = (long long)time(NULL);
	cJSON_ArrayForEach(s, es->stacks) {
		cJSON_ReplaceItemInObjectCaseSensitive(s, "state",
		    cJSON_CreateString("failed"));
		cJSON_DeleteItemFromObjectCaseSensitive(s, "error");
		cJSON_AddStringToObject(s, "error",
		    "engine unreachable");
	}
	ctl_notifier_compare(w->d->st.notifier, es->name, es->stacks);
	pthread_mutex_unlock(&w->d->st.mu);
}

static void
publish(struct ctl_worker *w, struct cycle *c, double secs)
{
	struct ctl_engine_state *es = &w->d->st.engines[w->idx];
	size_t b = 0;

	while (b < CTL_BUCKETS && secs > ctl_buckets[b])
		b++;
	pthread_mutex_lock(&w->d->st.mu);
	publish_address(w, es);
	ctl_lease_status(w->lease, &es->lease);
	es->reachable = es->reached = true;
	snprintf(es->api_version, sizeof(es->api_version), "%s",
	    engine_api_version(w->e));
	free(es->error);
	es->error = NULL;
	es->last_cycle = (long long)time(NULL);
	es->last_duration = secs;
	es->cycles++;
	es->failed_cycles += c->failed;
	es->hist[b]++;
	es->hist_sum += secs;
	engine_counters_get(w->e, &es->calls);
	images_cache_stats(w->images, &es->images);
	for (int a = 0; a < 3; a++)
		for (int k = 0; k < 4; k++)
			es->writes[a][k] += c->writes[a][k];
	es->drift += c->drift;
	cJSON_Delete(es->stacks);
	es->stacks = c->stacks;
	c->stacks = NULL;
	ctl_notifier_compare(w->d->st.notifier, es->name, es->stacks);
	pthread_mutex_unlock(&w->d->st.mu);
}

/* When the next cycle is due, in ms from now. */
static long long
next_delay(struct ctl_worker *w, const struct cycle *c)
{
	long long interval = w->d->cfg->interval_ms > 0 ?
	    w->d->cfg->interval_ms : 60000, now = clock_mono_ms(), d;
	long poll = ctl_image_poll_ms(w->d->cfg);

	/* A tag pushed again is found when its answer is due again. */
	if (poll > 0 && poll < interval)
		interval = poll;

	/* Up to 10 % jitter, so engines and replicas do not beat in step. */
	d = interval - (long long)(rand_r(&w->seed) % (unsigned)(interval / 10 + 1));
	if (c->progressing && d > PROGRESS_MS)
		d = PROGRESS_MS;
	for (size_t i = 0; i < w->nmem; i++)
		if (w->mem[i].retry_at > 0 && w->mem[i].retry_at - now < d)
			d = w->mem[i].retry_at - now;
	return d > 0 ? d : 0;
}

/* A reference to each source's snapshot (NULL where none was read yet);
 * how many there are. */
static size_t
current_snapshots(struct ctl_worker *w, struct sources_snapshot **snaps,
    const char **names)
{
	struct ctl_state *st = &w->d->st;
	size_t n = 0;

	pthread_mutex_lock(&st->mu);
	for (size_t i = 0; i < st->nsources; i++) {
		snaps[i] = sources_snapshot_ref(st->sources[i].snap);
		names[i] = st->sources[i].name;
		n += snaps[i] != NULL;
	}
	/* Digests of what was pushed since are asked again. */
	if (st->npushes - w->pushes_seen > CTL_PUSHES)
		images_cache_expire(w->images, NULL, NULL);
	else
		for (unsigned long i = w->pushes_seen; i < st->npushes; i++)
			images_cache_expire(w->images,
			    st->pushes[i % CTL_PUSHES].host,
			    st->pushes[i % CTL_PUSHES].repository);
	w->pushes_seen = st->npushes;
	if (st->generation != w->generation) {
		/* A new revision is tried at once, whatever failed before. */
		w->generation = st->generation;
		for (size_t i = 0; i < w->nmem; i++)
			w->mem[i].retry_at = 0;
	}
	pthread_mutex_unlock(&st->mu);
	return n;
}

/* One cycle; returns the delay until the next one. */
static long long
cycle(struct ctl_worker *w)
{
	const struct ctl_config *cfg = w->d->cfg;
	struct cycle c = { .w = w, .engine = w->cfg->name };
	struct compose_options base = { .env_inherit = cfg->env_inherit,
	    .strict_vars = cfg->strict_vars, .interp = cfg->interp };
	/* A standby plans and reports, and writes nothing. */
	struct ctl_pass p = { .e = w->e, .obs = &c.obs, .cfg = cfg,
	    .apply = ctl_lease_held(w->lease),
	    .allow_empty = cfg->allow_empty, .prune_limit = cfg->prune_limit,
	    .report = on_result,
	    .may_apply = may_apply, .payload = &c };
	long long t0 = clock_mono_ms(), delay = 1000;
	size_t n = w->d->st.nsources;
	struct err err;

	c.snaps = xcalloc(n, sizeof(*c.snaps));
	c.names = xcalloc(n, sizeof(*c.names));
	if (c.snaps == NULL || c.names == NULL ||
	    current_snapshots(w, c.snaps, c.names) == 0)
		goto out;
	if (observe(w, &c, &err) < 0) {
		w->up = false;
		publish_unreachable(w, &err);
		delay = w->retry_ms;
		w->retry_ms = w->retry_ms * 2 > ENGINE_RETRY_MAX_MS ?
		    ENGINE_RETRY_MAX_MS : w->retry_ms * 2;
		goto out;
	}
	w->retry_ms = RETRY_MIN_MS;
	if (!w->up)
		log_event(LOG_INFO, w->cfg->name, NULL, NULL, "engine "
		    "reachable (API %s)", engine_api_version(w->e));
	w->up = true;
	p.ro.owner = cfg->owner;
	p.ro.keep_replicas = cfg->keep_replicas;
	p.ro.prune_secrets = cfg->prune_secrets;
	p.ro.attempted = w->attempted;
	p.ro.images = w->images;
	images_cache_pass(w->images, w->e, &err);
	c.stacks = cJSON_CreateObject();
	/* What left a source is removed only once every source was read. */
	ctl_pass_sources(&p, cfg, c.snaps, c.names, n, w->cfg->name, &base);
	publish(w, &c, (double)(clock_mono_ms() - t0) / 1000.0);
	delay = next_delay(w, &c);
out:
	cJSON_Delete(c.stacks);
	cJSON_Delete(c.tasks);
	recon_observed_release(&c.obs);
	for (size_t i = 0; c.snaps != NULL && i < n; i++)
		sources_snapshot_unref(c.snaps[i]);
	free(c.snaps);
	free(c.names);
	return delay;
}

static void *
worker_main(void *arg)
{
	struct ctl_worker *w = arg;
	long long now;

	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		now = clock_mono_ms();
		if (now < w->due) {
			clock_cond_wait_until(&w->cv, &w->mu, w->due);
			continue;
		}
		w->due = now + 3600 * 1000LL;
		pthread_mutex_unlock(&w->mu);
		long long delay = cycle(w);
		pthread_mutex_lock(&w->mu);
		if (clock_mono_ms() + delay < w->due)
			w->due = clock_mono_ms() + delay;
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* The image cache's news, in the log: "image app:1 moved sha256:a... ->
 * sha256:b...". */
static void
log_image(enum images_event ev, const char *image, const char *a,
    const char *b, void *arg)
{
	const struct ctl_worker *w = arg;

	if (ev == IMAGES_MOVED)
		log_event(LOG_INFO, w->cfg->name, NULL, image, "image %s moved "
		    "%.19s -> %.19s", image, a, b);
	else if (ev == IMAGES_FAILING)
		log_event(LOG_WARN, w->cfg->name, NULL, image, "image %s could "
		    "not be looked up on its registry: %s", image, a);
	else
		log_event(LOG_INFO, w->cfg->name, NULL, image, "image %s: its "
		    "registry answers again", image);
}

static bool
may_write(void *arg)
{
	return ctl_lease_held(((struct ctl_worker *)arg)->lease);
}

/* From the lease thread: this instance won or lost the lease. */
static void
lease_changed(void *arg)
{
	struct ctl_worker *w = arg;
	struct ctl_lease_status s;
	char ts[32];

	ctl_lease_status(w->lease, &s);
	if (s.held)
		log_event(LOG_INFO, w->cfg->name, NULL, NULL, "writer: this "
		    "instance holds the lease");
	else
		log_event(LOG_WARN, w->cfg->name, NULL, NULL, "standby: lease "
		    "held by %s%s%s; nothing is written", s.holder,
		    s.since > 0 ? " since " : "",
		    s.since > 0 ? clock_iso_time(s.since, ts) : "");
	ctl_worker_kick(w);
}

static void
log_failover(const char *msg, void *arg)
{
	const struct ctl_worker *w = arg;

	log_event(LOG_WARN, w->cfg->name, NULL, NULL, "%s", msg);
}

int
ctl_worker_start(struct ctl_worker **out, struct ctl_daemon *d, size_t index,
    struct err *err)
{
	struct ctl_worker *w = xcalloc(1, sizeof(*w));

	*out = NULL;
	w->d = d;
	w->idx = index;
	w->cfg = &d->cfg->engines[index];
	w->retry_ms = RETRY_MIN_MS;
	w->seed = (unsigned)time(NULL) ^ (unsigned)index;
	w->attempted = cJSON_CreateObject();
	w->own = cJSON_CreateObject();
	pthread_mutex_init(&w->mu, NULL);
	clock_cond_init(&w->cv);
	w->images = images_cache_new(ctl_image_poll_ms(d->cfg),
	    d->cfg->image_timeout_ms, log_image, w);
	if (engine_open(&w->e, w->cfg, err) < 0 ||
	    engine_open(&w->ev, w->cfg, err) < 0) {
		ctl_worker_join(w);
		return err->code;
	}
	/* The event stream follows on its own connection: logged once. */
	engine_failover_notify(w->e, log_failover, w);
	if (!d->cfg->lease_off) {
		if (ctl_lease_start(&w->lease, w->cfg, d->cfg->owner,
		    d->cfg->lease_ttl_ms > 0 ? d->cfg->lease_ttl_ms :
		    CTL_LEASE_TTL_MS, lease_changed, w, err) < 0) {
			ctl_worker_join(w);
			return err->code;
		}
		engine_write_gate(w->e, may_write, w);
	}
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		ctl_worker_join(w);
		return err_set(err, ERR_FAIL, "cannot start a thread");
	}
	w->running = true;
	if (pthread_create(&w->ev_thread, NULL, ctl_events_main, w) == 0)
		w->ev_running = true;
	*out = w;
	return 0;
}

void
ctl_worker_join(struct ctl_worker *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (w->running)
		pthread_join(w->thread, NULL);
	if (w->ev_running)
		pthread_join(w->ev_thread, NULL);
	/* Last: nothing writes any more when the lease is given up. */
	ctl_lease_stop(w->lease, w->d->leaving);
	for (size_t i = 0; i < w->nmem; i++) {
		free(w->mem[i].name);
		free(w->mem[i].error);
	}
	free(w->mem);
	cJSON_Delete(w->attempted);
	cJSON_Delete(w->own);
	engine_free(w->e);
	engine_free(w->ev);
	images_cache_free(w->images);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
