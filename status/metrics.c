/*
 * metrics.c - GET /metrics: the Prometheus text exposition format, every
 * name prefixed stackd_.  Label values are names from the configuration
 * (engine, source, stack), escaped as the format asks.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "health.h"
#include "status.h"
#include "buf.h"
#include "version.h"

#define METRICS_MAX (8u * 1024 * 1024)

/* A label value: \, " and newline escaped. */
static void
label(struct buf *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			buf_append(b, "\\", 1);
		if (*v == '\n')
			buf_append(b, "\\n", 2);
		else
			buf_append(b, v, 1);
	}
}

static void
head(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_appendf(b, "# HELP stackd_%s %s\n# TYPE stackd_%s %s\n", name,
	    help, name, type);
}

/* name{engine="e"[,extra]} value */
static void
engine_sample(struct buf *b, const char *name, const char *engine,
    const char *extra, double v)
{
	buf_appendf(b, "stackd_%s{engine=\"", name);
	label(b, engine);
	buf_appendf(b, "\"%s} %.17g\n", extra ? extra : "", v);
}

/* One engine's histogram name{engine,le}: counts[0..nb] over bounds. */
static void
engine_histogram(struct buf *b, const char *name, const char *engine,
    const unsigned long *counts, const double *bounds, size_t nb, double sum)
{
	char le[64], series[96];
	unsigned long cum = 0;

	snprintf(series, sizeof(series), "%s_bucket", name);
	for (size_t k = 0; k <= nb; k++) {
		cum += counts[k];
		if (k < nb)
			snprintf(le, sizeof(le), ",le=\"%g\"", bounds[k]);
		else
			snprintf(le, sizeof(le), ",le=\"+Inf\"");
		engine_sample(b, series, engine, le, (double)cum);
	}
	snprintf(series, sizeof(series), "%s_sum", name);
	engine_sample(b, series, engine, NULL, sum);
	snprintf(series, sizeof(series), "%s_count", name);
	engine_sample(b, series, engine, NULL, (double)cum);
}

static void
histogram(struct buf *b, const struct ctl_state *st)
{
	head(b, "reconcile_duration_seconds", "histogram",
	    "Time one reconcile cycle of an engine took.");
	for (size_t i = 0; i < st->nengines; i++)
		engine_histogram(b, "reconcile_duration_seconds",
		    st->engines[i].name, st->engines[i].hist, ctl_buckets,
		    CTL_BUCKETS, st->engines[i].hist_sum);
	head(b, "sync_duration_seconds", "histogram",
	    "Time the writes of one stack's sync took, by engine.");
	for (size_t i = 0; i < st->nengines; i++)
		engine_histogram(b, "sync_duration_seconds",
		    st->engines[i].name, st->engines[i].sync_hist, ctl_buckets,
		    CTL_BUCKETS, st->engines[i].sync_sum);
}

/* Image digest lookups (GET /distribution) and the registry webhook. */
static void
image_metrics(struct buf *b, const struct ctl_state *st)
{
	head(b, "image_resolutions_total", "counter", "Image digest lookups "
	    "through an engine, by result (resolved: a digest; failed: the "
	    "registry did not answer, refused or knows no such tag).");
	for (size_t i = 0; i < st->nengines; i++) {
		const struct images_stats *is = &st->engines[i].images;
		engine_sample(b, "image_resolutions_total", st->engines[i].name,
		    ",result=\"resolved\"", (double)is->resolved);
		engine_sample(b, "image_resolutions_total", st->engines[i].name,
		    ",result=\"failed\"", (double)is->failed);
	}
	head(b, "image_moves_total", "counter", "Lookups that found another "
	    "digest under the same reference than the last one (a push).");
	for (size_t i = 0; i < st->nengines; i++)
		engine_sample(b, "image_moves_total", st->engines[i].name,
		    NULL, (double)st->engines[i].images.moved);
	head(b, "image_resolve_duration_seconds", "histogram",
	    "Time one image digest lookup took.");
	for (size_t i = 0; i < st->nengines; i++)
		engine_histogram(b, "image_resolve_duration_seconds",
		    st->engines[i].name, st->engines[i].images.hist,
		    images_buckets, IMAGES_BUCKETS,
		    st->engines[i].images.seconds);
	head(b, "registry_webhooks_total", "counter", "Registry notification "
	    "deliveries, by result (refused: bad token or body).");
	buf_appendf(b, "stackd_registry_webhooks_total{result=\"accepted\"} "
	    "%lu\nstackd_registry_webhooks_total{result=\"refused\"} %lu\n",
	    st->registry_hooks[0], st->registry_hooks[1]);
}

/* What the cycles did not redo (hits) and redid (misses). */
static void
cache_metrics(struct buf *b, const struct ctl_state *st)
{
	char extra[64];

	head(b, "cache_lookups_total", "counter", "Per cycle and stack or "
	    "service, by cache (stacks: converted once per revision; "
	    "services: not diffed while neither side changed) and result.");
	for (size_t i = 0; i < st->nengines; i++) {
		const struct ctl_engine_state *es = &st->engines[i];
		const unsigned long v[2][2] = { { es->loads[0], es->loads[1] },
		    { es->verified.hits, es->verified.misses } };
		for (int c = 0; c < 2; c++)
			for (int r = 0; r < 2; r++) {
				snprintf(extra, sizeof(extra), ",cache=\"%s\","
				    "result=\"%s\"", c ? "services" : "stacks",
				    r ? "miss" : "hit");
				engine_sample(b, "cache_lookups_total",
				    es->name, extra, (double)v[c][r]);
			}
	}
	head(b, "observes_total", "counter", "How cycles saw the engine: a "
	    "full list (the four object lists), objects an event named "
	    "inspected, or nothing to ask (quiet).");
	for (size_t i = 0; i < st->nengines; i++) {
		const struct recon_informer_stats *is = &st->engines[i].informer;
		engine_sample(b, "observes_total", st->engines[i].name,
		    ",how=\"list\"", (double)is->lists);
		engine_sample(b, "observes_total", st->engines[i].name,
		    ",how=\"events\"", (double)is->events);
		engine_sample(b, "observes_total", st->engines[i].name,
		    ",how=\"quiet\"", (double)is->quiet);
	}
}

static void
engine_calls(struct buf *b, const struct ctl_state *st)
{
	static const char *const kinds[] = { "service", "network", "secret",
	    "config" };
	static const char *const actions[] = { "create", "update", "remove" };
	char extra[96];

	head(b, "engine_requests_total", "counter",
	    "Engine API requests sent, by HTTP method.");
	for (size_t i = 0; i < st->nengines; i++) {
		const struct engine_counters *c = &st->engines[i].calls;
		const char *n = st->engines[i].name;
		engine_sample(b, "engine_requests_total", n, ",method=\"GET\"",
		    (double)c->get);
		engine_sample(b, "engine_requests_total", n,
		    ",method=\"HEAD\"", (double)c->head);
		engine_sample(b, "engine_requests_total", n,
		    ",method=\"POST\"", (double)c->post);
		engine_sample(b, "engine_requests_total", n,
		    ",method=\"DELETE\"", (double)c->del);
	}
	head(b, "engine_request_failures_total", "counter",
	    "Engine API requests that failed (transport error or HTTP >= "
	    "400).");
	for (size_t i = 0; i < st->nengines; i++)
		engine_sample(b, "engine_request_failures_total",
		    st->engines[i].name, NULL,
		    (double)st->engines[i].calls.failed);
	head(b, "writes_total", "counter",
	    "Objects created, updated or removed on an engine.");
	for (size_t i = 0; i < st->nengines; i++)
		for (int a = 0; a < 3; a++)
			for (int k = 0; k < 4; k++) {
				snprintf(extra, sizeof(extra),
				    ",action=\"%s\",kind=\"%s\"", actions[a],
				    kinds[k]);
				engine_sample(b, "writes_total",
				    st->engines[i].name, extra,
				    (double)st->engines[i].writes[a][k]);
			}
}

static void
engine_gauges(struct buf *b, const struct ctl_state *st)
{
	head(b, "engine_up", "gauge",
	    "Whether the last cycle reached the engine.");
	for (size_t i = 0; i < st->nengines; i++)
		engine_sample(b, "engine_up", st->engines[i].name, NULL,
		    st->engines[i].reachable);
	head(b, "reconcile_cycles_total", "counter",
	    "Reconcile cycles run, by engine.");
	for (size_t i = 0; i < st->nengines; i++)
		engine_sample(b, "reconcile_cycles_total", st->engines[i].name,
		    NULL, (double)st->engines[i].cycles);
	head(b, "reconcile_failures_total", "counter",
	    "Cycles in which the engine or a stack failed.");
	for (size_t i = 0; i < st->nengines; i++)
		engine_sample(b, "reconcile_failures_total",
		    st->engines[i].name, NULL,
		    (double)st->engines[i].failed_cycles);
	head(b, "drift_corrections_total", "counter",
	    "Services changed by hand on the engine and put back.");
	for (size_t i = 0; i < st->nengines; i++)
		engine_sample(b, "drift_corrections_total",
		    st->engines[i].name, NULL, (double)st->engines[i].drift);
	head(b, "lease_held", "gauge",
	    "Whether this instance holds the engine's writer lease (1) or "
	    "stands by (0).");
	for (size_t i = 0; i < st->nengines; i++)
		if (st->engines[i].lease.enabled)
			engine_sample(b, "lease_held", st->engines[i].name,
			    NULL, st->engines[i].lease.held);
	head(b, "engine_failovers_total", "counter",
	    "Switches from one manager address of the engine to another.");
	for (size_t i = 0; i < st->nengines; i++)
		engine_sample(b, "engine_failovers_total", st->engines[i].name,
		    NULL, (double)st->engines[i].failovers);
	head(b, "engine_events_total", "counter",
	    "Engine events about managed objects that woke the worker.");
	for (size_t i = 0; i < st->nengines; i++)
		engine_sample(b, "engine_events_total", st->engines[i].name,
		    NULL, (double)st->engines[i].events);
}

static void
stacks_by_state(struct buf *b, const struct ctl_state *st)
{
	static const char *const states[] = { "synced", "progressing",
	    "out-of-sync", "failed" };
	cJSON *all = ctl_stacks_json(st, NULL);
	const cJSON *s;
	int n[4] = { 0 };

	head(b, "stacks", "gauge", "Stacks by sync state (worst over "
	    "engines).");
	cJSON_ArrayForEach(s, all)
		for (int i = 0; i < 4; i++)
			n[i] += strcmp(cJSON_GetObjectItemCaseSensitive(s,
			    "state")->valuestring, states[i]) == 0;
	for (int i = 0; i < 4; i++)
		buf_appendf(b, "stackd_stacks{state=\"%s\"} %d\n", states[i],
		    n[i]);
	cJSON_Delete(all);
}

/* stackd_stack_health{stack,engine,health}: 1 for the stack's health on
 * the engine, 0 for the others, as kube-state-metrics does for phases. */
static void
stack_health(struct buf *b, const struct ctl_state *st)
{
	const cJSON *s;

	head(b, "stack_health", "gauge", "A stack's health on an engine: 1 "
	    "for the one it has.");
	for (size_t i = 0; i < st->nengines; i++)
		cJSON_ArrayForEach(s, st->engines[i].stacks) {
			enum health_state h = health_state_parse(
			    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
			    s, "health")));
			for (int k = 0; k < HEALTH_NSTATES; k++) {
				buf_appendf(b, "stackd_stack_health{stack=\"");
				label(b, s->string);
				buf_appendf(b, "\",engine=\"");
				label(b, st->engines[i].name);
				buf_appendf(b, "\",health=\"%s\"} %d\n",
				    health_state_name((enum health_state)k),
				    (int)h == k);
			}
		}
}

static void
source_sample(struct buf *b, const char *name, const char *source,
    const char *extra, double v)
{
	buf_appendf(b, "stackd_%s{source=\"", name);
	label(b, source);
	buf_appendf(b, "\"%s} %g\n", extra, v);
}

static bool
is_git(const struct ctl_source_state *s)
{
	return strcmp(s->kind, "git") == 0;
}

static bool
any_git(const struct ctl_state *st)
{
	for (size_t i = 0; i < st->nsources; i++)
		if (is_git(&st->sources[i]))
			return true;
	return false;
}

/* One family: its header once, then a sample per source (git sources
 * only when git).  field picks the value. */
static void
per_source(struct buf *b, const struct ctl_state *st, bool git,
    const char *name, const char *type, const char *help, const char *extra,
    double (*field)(const struct ctl_source_state *))
{
	if (st->nsources == 0 || (git && !any_git(st)))
		return;
	head(b, name, type, help);
	for (size_t i = 0; i < st->nsources; i++)
		if (!git || is_git(&st->sources[i]))
			source_sample(b, name, st->sources[i].name, extra,
			    field(&st->sources[i]));
}

static double
f_snapshots(const struct ctl_source_state *s)
{
	return (double)s->snapshots;
}

static double
f_errors(const struct ctl_source_state *s)
{
	return (double)s->errors;
}

static double
f_fetches(const struct ctl_source_state *s)
{
	return (double)s->git.fetches;
}

static double
f_seconds(const struct ctl_source_state *s)
{
	return s->git.last_seconds;
}

static double
f_bytes(const struct ctl_source_state *s)
{
	return (double)s->git.last_bytes;
}

static void
hook_samples(struct buf *b, const struct ctl_state *st)
{
	static const char *const result[] = { "accepted", "ignored",
	    "refused" };
	char extra[32];

	if (!any_git(st))
		return;
	head(b, "webhook_deliveries_total", "counter", "Webhook POSTs by "
	    "result: accepted (a push, fetch triggered), ignored (signed, "
	    "another event), refused (unsigned, bad signature, bad request).");
	for (size_t i = 0; i < st->nsources; i++) {
		const struct ctl_source_state *s = &st->sources[i];
		const unsigned long n[] = { s->hooks_accepted,
		    s->hooks_ignored, s->hooks_refused };
		if (!is_git(s))
			continue;
		for (int r = 0; r < 3; r++) {
			snprintf(extra, sizeof(extra), ",result=\"%s\"",
			    result[r]);
			source_sample(b, "webhook_deliveries_total", s->name,
			    extra, (double)n[r]);
		}
	}
}

static void
notify_metrics(struct buf *b, const struct ctl_state *st)
{
	unsigned long n[3];
	static const char *const result[] = { "sent", "failed", "dropped" };

	if (st->notifier == NULL)
		return;
	ctl_notifier_stats(st->notifier, &n[0], &n[1], &n[2]);
	head(b, "notifications_total", "counter", "Outgoing notifications by "
	    "result: sent, failed (given up after retries), dropped (the "
	    "queue was full).");
	for (int i = 0; i < 3; i++)
		buf_appendf(b, "stackd_notifications_total{result=\"%s\"} "
		    "%lu\n", result[i], n[i]);
}

static void
source_metrics(struct buf *b, const struct ctl_state *st)
{
	per_source(b, st, false, "source_snapshots_total", "counter",
	    "New revisions read from a source.", "", f_snapshots);
	per_source(b, st, false, "source_fetch_errors_total", "counter",
	    "Failed reads or fetches of a source.", "", f_errors);
	per_source(b, st, true, "source_fetches_total", "counter",
	    "Git fetches, whether they found a new commit or not.", "",
	    f_fetches);
	per_source(b, st, true, "source_last_fetch_seconds", "gauge",
	    "Wall time of the last git fetch.", "", f_seconds);
	per_source(b, st, true, "source_last_fetch_bytes", "gauge",
	    "Bytes received by the last git fetch.", "", f_bytes);
	hook_samples(b, st);
}

char *
ctl_metrics_stacks_text(const struct ctl_state *st)
{
	struct buf b;

	buf_init(&b, METRICS_MAX);
	stacks_by_state(&b, st);
	stack_health(&b, st);
	return buf_steal(&b);
}

char *
ctl_metrics_text(const struct ctl_state *st, const char *stacks_part)
{
	struct buf b;

	buf_init(&b, METRICS_MAX);
	head(&b, "build_info", "gauge", "stackd's version and commit.");
	buf_appendf(&b, "stackd_build_info{version=\"%s\",commit=\"",
	    STACKD_VERSION);
	label(&b, STACKD_COMMIT);
	buf_appendf(&b, "\"} 1\n");
	head(&b, "ready", "gauge", "1 once a snapshot is read and every "
	    "engine was reached.");
	buf_appendf(&b, "stackd_ready %d\n", ctl_ready(st));
	histogram(&b, st);
	engine_calls(&b, st);
	image_metrics(&b, st);
	cache_metrics(&b, st);
	engine_gauges(&b, st);
	if (stacks_part != NULL) {
		buf_append(&b, stacks_part, strlen(stacks_part));
	} else {
		stacks_by_state(&b, st);
		stack_health(&b, st);
	}
	source_metrics(&b, st);
	notify_metrics(&b, st);
	return buf_steal(&b);
}
