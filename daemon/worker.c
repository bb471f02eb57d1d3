/*
 * worker.c - one engine's worker: a thread that reconciles the current
 * snapshot against the engine whenever it is woken (new snapshot, engine
 * event, interval, retry), and publishes what it saw into ctl_state.
 *
 * A slow or unreachable engine blocks only its own worker.  What is
 * carried from one cycle to the next is the engine's objects (the
 * informer, fed by engine_watch.c), the tasks of a settled engine, the
 * stacks converted per revision, the services found needing nothing,
 * the rollback memory (`attempted`) and the per-stack backoff
 * (results.c).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "daemon.h"
#include "clock.h"
#include "json.h"
#include "worker_int.h"

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

void
ctl_worker_reread(struct ctl_worker *w)
{
	atomic_store(&w->reread, 1);
	recon_informer_expire(w->informer);
	ctl_worker_wake(w, 0);
}

/*
 * The objects as the informer keeps them (four list calls when it must
 * list, an inspect per object an event named, or nothing), and the tasks
 * meant to run.  Events say nothing of tasks, so they are listed again
 * whenever the objects moved, a node changed or the last cycle saw a
 * stack progressing, and at least every CTL_TASKS_SETTLED_MS on a
 * settled engine.
 */
static int
observe(struct ctl_worker *w, struct cycle *c, struct err *err)
{
	struct recon_informer_stats was, now;
	cJSON *filters = NULL, *tasks = NULL;
	long long t = clock_mono_ms();
	int rc;

	recon_informer_stats(w->informer, &was);
	if ((rc = recon_informer_observe(w->informer, w->e, &c->obs, err)) < 0)
		return rc;
	recon_informer_stats(w->informer, &now);
	if (!atomic_exchange(&w->tasks_stale, 0) && w->tasks != NULL &&
	    w->settled && now.quiet != was.quiet &&
	    t - w->tasks_at < CTL_TASKS_SETTLED_MS) {
		c->tasks = w->tasks;
		return 0;
	}
	engine_filter_add(&filters, "desired-state", "running");
	rc = engine_object_list(w->e, ENGINE_TASK, filters, &tasks, err);
	cJSON_Delete(filters);
	if (rc < 0)
		return rc;
	cJSON_Delete(w->tasks);
	c->tasks = w->tasks = tasks;
	c->tasks_listed = true;
	w->tasks_at = t;
	return 0;
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
	cJSON *s, *next;

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
	/* Each stack's report is packed (json_keep): changed in a copy. */
	for (s = es->stacks ? es->stacks->child : NULL; s != NULL; s = next) {
		cJSON *d = cJSON_Duplicate(s, true);

		next = s->next;
		cJSON_ReplaceItemInObjectCaseSensitive(d, "state",
		    cJSON_CreateString("failed"));
		cJSON_DeleteItemFromObjectCaseSensitive(d, "error");
		cJSON_AddStringToObject(d, "error", "engine unreachable");
		cJSON_ReplaceItemViaPointer(es->stacks, s, json_keep(d));
	}
	w->d->st.stack_changes++;
	ctl_notifier_compare(w->d->st.notifier, es->name, es->stacks);
	ctl_state_unlock(&w->d->st);
}

static void
publish(struct ctl_worker *w, struct cycle *c, double secs)
{
	struct ctl_engine_state *es = &w->d->st.engines[w->idx];
	size_t b = ctl_bucket_of(secs);

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
	es->last_observe = c->observe_secs;
	es->cycles++;
	es->failed_cycles += c->failed;
	es->hist[b]++;
	es->hist_sum += secs;
	engine_counters_get(w->e, &es->calls);
	images_cache_stats(w->images, &es->images);
	ctl_loads_stats(w->loads, &es->loads[0], &es->loads[1],
	    &es->loads_kept);
	recon_verified_stats(w->verified, &es->verified);
	recon_informer_stats(w->informer, &es->informer);
	for (int a = 0; a < 3; a++)
		for (int k = 0; k < 4; k++)
			es->writes[a][k] += c->writes[a][k];
	es->drift += c->drift;
	es->task_reads += c->task_reads;
	for (size_t k = 0; k <= CTL_BUCKETS; k++)
		es->sync_hist[k] += c->sync_hist[k];
	es->sync_sum += c->sync_sum;
	/* A no-op cycle publishes the same stacks: their pages stay. */
	if (!json_same(es->stacks, c->stacks))
		w->d->st.stack_changes++;
	ctl_stack_status_adopt(c->stacks, es->stacks);
	cJSON_Delete(es->stacks);
	es->stacks = c->stacks;
	c->stacks = NULL;
	ctl_notifier_compare(w->d->st.notifier, es->name, es->stacks);
	ctl_state_unlock(&w->d->st);
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
    const char **names, bool *webhook)
{
	struct ctl_state *st = &w->d->st;
	size_t n = 0;

	pthread_mutex_lock(&st->mu);
	for (size_t i = 0; i < st->nsources; i++) {
		snaps[i] = sources_snapshot_ref(st->sources[i].snap);
		names[i] = st->sources[i].name;
		webhook[i] = st->sources[i].by_webhook;
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
/* A cycle that wrote or failed is followed by a full list: its own
 * writes' events may come after the next look, and a failed write leaves
 * the engine in a state no event may describe whole. */
static void
settle(struct ctl_worker *w, const struct cycle *c)
{
	bool wrote = false;

	for (int a = 0; a < 3; a++)
		for (int k = 0; k < 4; k++)
			wrote |= c->writes[a][k] > 0;
	if (wrote || c->failed)
		recon_informer_expire(w->informer);
	w->settled = !wrote && !c->failed && !c->progressing;
}

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
	    .report = ctl_worker_result, .loads = w->loads,
	    .may_apply = ctl_worker_may_apply, .ready = ctl_worker_ready,
	    .depends = w->depends, .hooks_done = w->hooks_done,
	    .payload = &c };
	long long t0 = clock_mono_ms(), delay = 1000;
	size_t n = w->d->st.nsources;
	struct err err;

	c.snaps = xcalloc(n, sizeof(*c.snaps));
	c.names = xcalloc(n, sizeof(*c.names));
	c.webhook = xcalloc(n, sizeof(*c.webhook));
	if (current_snapshots(w, c.snaps, c.names, c.webhook) == 0)
		goto out;
	if (observe(w, &c, &err) < 0) {
		w->up = false;
		publish_unreachable(w, &err);
		delay = w->retry_ms;
		w->retry_ms = w->retry_ms * 2 > ENGINE_RETRY_MAX_MS ?
		    ENGINE_RETRY_MAX_MS : w->retry_ms * 2;
		goto out;
	}
	ctl_task_history_read(w, &c);
	c.observe_secs = (double)(clock_mono_ms() - t0) / 1000.0;
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
	p.ro.verified = w->verified;
	images_cache_pass(w->images, w->e, &err);
	c.stacks = cJSON_CreateObject();
	/* What left a source is removed only once every source was read. */
	if (atomic_exchange(&w->reread, 0)) {
		ctl_loads_forget(w->loads);
		recon_verified_forget(w->verified);
	}
	ctl_pass_sources(&p, cfg, c.snaps, c.names, n, w->cfg->name, &base);
	ctl_loads_sweep(w->loads);
	recon_verified_sweep(w->verified);
	publish(w, &c, (double)(clock_mono_ms() - t0) / 1000.0);
	delay = next_delay(w, &c);
	settle(w, &c);
out:
	ctl_task_history_done(&c);
	cJSON_Delete(c.stacks);
	for (size_t i = 0; c.snaps != NULL && i < n; i++)
		sources_snapshot_unref(c.snaps[i]);
	free(c.snaps);
	free(c.names);
	free(c.webhook);
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
	w->depends = cJSON_DetachItemFromObjectCaseSensitive(d->depends,
	    w->cfg->name);
	if (w->depends == NULL)
		w->depends = cJSON_CreateObject();
	w->own = cJSON_CreateObject();
	w->hooks_done = cJSON_CreateObject();
	w->loads = ctl_loads_new(CTL_LOADS_REFRESH_MS);
	w->verified = recon_verified_new(RECON_VERIFY_MS);
	w->informer = recon_informer_new(d->cfg->resync_ms);
	pthread_mutex_init(&w->mu, NULL);
	clock_cond_init(&w->cv);
	w->images = images_cache_new(ctl_image_poll_ms(d->cfg),
	    d->cfg->image_timeout_ms, log_image, w);
	ctl_sync_history_open(w);
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
	cJSON_Delete(w->hooks_done);
	ctl_loads_free(w->loads);
	recon_verified_free(w->verified);
	recon_informer_free(w->informer);
	cJSON_Delete(w->tasks);
	cJSON_Delete(w->history);
	if (w->d->depends != NULL && !w->d->leaving)
		cJSON_AddItemToObject(w->d->depends, w->cfg->name, w->depends);
	else
		cJSON_Delete(w->depends);
	free(w->syncs_dir);
	engine_free(w->e);
	engine_free(w->ev);
	images_cache_free(w->images);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
