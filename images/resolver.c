/*
 * resolver.c - the per-engine cache of image digests (see images.h).
 *
 * One entry per familiar reference.  Lookups are done by the worker that
 * owns the cache, outside the lock, so a status read or a registry
 * webhook never waits on a registry.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "alloc.h"
#include "clock.h"
#include "compose.h"
#include "images.h"

const double images_buckets[IMAGES_BUCKETS] = { 0.01, 0.025, 0.05, 0.1,
    0.25, 0.5, 1, 5 };

struct entry {
	char *image;
	bool asked;		/* at least once */
	bool ok;
	bool expired;		/* pushed since: ask again */
	long long checked;	/* ms (monotonic) of the last lookup */
	unsigned long pass;	/* images_cache_pass of the last lookup */
	unsigned long wanted;	/* the last pass that asked for it */
	char digest[72];
	char *pinned;		/* image with digest, made once per digest */
	cJSON *platforms;
	long long resolved_at;
	char error[512];
};

struct images_cache {
	pthread_mutex_t mu;
	long poll_ms;
	long timeout_ms;
	images_event_fn on_event;
	void *event_arg;
	unsigned long pass;	/* the caller's pass, images_cache_pass */
	struct entry *v;
	size_t n, cap;
	struct images_stats stats;
};

int
images_mode_parse(const char *s, enum images_mode *out)
{
	static const char *const names[] = { "always", "changed", "never" };

	for (size_t i = 0; i < 3; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum images_mode)i;
			return 0;
		}
	return -1;
}

const char *
images_mode_name(enum images_mode m)
{
	return m == IMAGES_CHANGED ? "changed" : m == IMAGES_NEVER ? "never" :
	    "always";
}

struct images_cache *
images_cache_new(long poll_ms, long timeout_ms, images_event_fn fn,
    void *arg)
{
	struct images_cache *c = xcalloc(1, sizeof(*c));

	pthread_mutex_init(&c->mu, NULL);
	c->poll_ms = poll_ms < 0 ? IMAGES_POLL_MS : poll_ms;
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : IMAGES_TIMEOUT_MS;
	c->on_event = fn;
	c->event_arg = arg;
	c->pass = 1;
	return c;
}

void
images_cache_free(struct images_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].image);
		free(c->v[i].pinned);
		cJSON_Delete(c->v[i].platforms);
	}
	free(c->v);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static struct entry *
lookup(const struct images_cache *c, const char *image)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].image, image) == 0)
			return &c->v[i];
	return NULL;
}

static struct entry *
add(struct images_cache *c, const char *image)
{
	struct entry *e = lookup(c, image);

	if (e != NULL)
		return e;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
	}
	e = &c->v[c->n++];
	memset(e, 0, sizeof(*e));
	e->image = xstrdup(image);
	return e;
}

/* Asked already this pass: not again, even with a poll of 0. */
static bool
due(const struct images_cache *c, const struct entry *e, long long now)
{
	return !e->asked || e->expired || (e->pass != c->pass &&
	    now - e->checked >= c->poll_ms);
}



cJSON *
images_platforms(const cJSON *reply_platforms)
{
	cJSON *out = cJSON_CreateArray();
	const cJSON *p, *q;

	cJSON_ArrayForEach(p, reply_platforms) {
		const char *os = cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(p, "os"));
		const char *arch = cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(p, "architecture"));
		bool seen = false;

		os = os ? os : "";
		arch = arch ? arch : "";
		if (strcmp(os, "unknown") == 0 || strcmp(arch, "unknown") == 0)
			continue;
		if (strcasecmp(arch, "arm") == 0)
			arch = "";
		cJSON_ArrayForEach(q, out) {
			const char *qa = cJSON_GetStringValue(
			    cJSON_GetObjectItem(q, "Architecture"));
			const char *qo = cJSON_GetStringValue(
			    cJSON_GetObjectItem(q, "OS"));
			seen |= strcmp(qa ? qa : "", arch) == 0 &&
			    strcmp(qo ? qo : "", os) == 0;
		}
		if (seen)
			continue;
		/* Go's omitempty: an empty field is left out. */
		cJSON *add = cJSON_CreateObject();
		if (*arch)
			cJSON_AddStringToObject(add, "Architecture", arch);
		if (*os)
			cJSON_AddStringToObject(add, "OS", os);
		cJSON_AddItemToArray(out, add);
	}
	if (cJSON_GetArraySize(out) == 0) {
		cJSON_Delete(out);
		return NULL;
	}
	return out;
}

int
images_pinned(const char *image, const char *digest, char *out, size_t len)
{
	struct compose_image_ref r;
	char fam[COMPOSE_IMAGE_MAX];
	int n;

	if (compose_image_ref_parse(&r, image) == 0 && r.digest[0] != '\0')
		n = snprintf(out, len, "%s", image);
	else if (compose_image_normalize(image, fam, sizeof(fam)) == 0)
		n = snprintf(out, len, "%s@%s", fam, digest);
	else
		n = snprintf(out, len, "%s", image);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static void
tell(const struct images_cache *c, enum images_event ev, const char *image,
    const char *a, const char *b)
{
	if (c->on_event != NULL)
		c->on_event(ev, image, a, b, c->event_arg);
}

static void
record(struct images_cache *c, struct entry *e, struct engine_dist *d)
{
	double s = (double)d->ms / 1000.0;
	bool was_failing = e->asked && !e->ok;
	size_t b = 0;

	while (b < IMAGES_BUCKETS && s > images_buckets[b])
		b++;
	c->stats.hist[b]++;
	c->stats.seconds += s;
	e->asked = true;
	e->expired = false;
	e->checked = clock_mono_ms();
	e->pass = c->pass;
	if (d->rc < 0) {
		if (!was_failing || strcmp(e->error, d->error) != 0)
			tell(c, IMAGES_FAILING, e->image, d->error, NULL);
		c->stats.failed++;
		e->ok = false;
		snprintf(e->error, sizeof(e->error), "%s", d->error);
		return;
	}
	c->stats.resolved++;
	if (e->digest[0] != '\0' && strcmp(e->digest, d->digest) != 0) {
		tell(c, IMAGES_MOVED, e->image, e->digest, d->digest);
		c->stats.moved++;
	} else if (was_failing)
		tell(c, IMAGES_ANSWERING, e->image, NULL, NULL);
	e->ok = true;
	e->error[0] = '\0';
	if (e->pinned == NULL || strcmp(e->digest, d->digest) != 0) {
		char pinned[ENGINE_IMAGE_REF_MAX + 80];
		free(e->pinned);
		e->pinned = images_pinned(e->image, d->digest, pinned,
		    sizeof(pinned)) == 0 ? xstrdup(pinned) : NULL;
	}
	memcpy(e->digest, d->digest, sizeof(e->digest));
	cJSON_Delete(e->platforms);
	e->platforms = images_platforms(cJSON_GetObjectItemCaseSensitive(
	    d->reply, "Platforms"));
	e->resolved_at = (long long)time(NULL);
}

/* The entries due a lookup, each once: their references in d. */
static size_t
pick(struct images_cache *c, const char *const *images, size_t n,
    struct engine_dist *d)
{
	long long now = clock_mono_ms();
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		struct entry *e = add(c, images[i]);
		bool dup = false;

		e->wanted = c->pass;
		if (!due(c, e, now))
			continue;
		for (size_t j = 0; j < k && !dup; j++)
			dup = strcmp(d[j].image, e->image) == 0;
		if (!dup)
			d[k++].image = e->image;
	}
	return k;
}

/* Look d[0..k-1] up (the cache locked on entry, unlocked on return);
 * the names are copied first, since the lookups run without the lock. */
static int
lookup_batch(struct images_cache *c, struct engine *e,
    struct engine_dist *d, size_t k, struct err *err)
{
	char **names = xcalloc(k + 1, sizeof(*names));
	int rc;

	for (size_t i = 0; i < k; i++)
		d[i].image = names[i] = xstrdup(d[i].image);
	pthread_mutex_unlock(&c->mu);
	rc = engine_distribution_inspect(e, d, k, c->timeout_ms, err);
	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < k && rc == 0; i++) {
		struct entry *en = d[i].image ? lookup(c, d[i].image) : NULL;
		if (en != NULL)
			record(c, en, &d[i]);
	}
	pthread_mutex_unlock(&c->mu);
	for (size_t i = 0; i < k; i++) {
		free(names[i]);
		cJSON_Delete(d[i].reply);
	}
	free(names);
	free(d);
	return rc;
}

int
images_cache_resolve(struct images_cache *c, struct engine *e,
    const char *const *images, size_t n, struct err *err)
{
	struct engine_dist *d;

	if (n == 0)
		return 0;
	d = xcalloc(n, sizeof(*d));
	pthread_mutex_lock(&c->mu);
	return lookup_batch(c, e, d, pick(c, images, n, d), err);
}

/* Forget the images no pass asked for lately (a service left, its image
 * changed); keep the order of the others. */
static void
drop_unwanted(struct images_cache *c)
{
	size_t k = 0;

	for (size_t i = 0; i < c->n; i++) {
		if (c->v[i].wanted + IMAGES_KEEP_PASSES < c->pass) {
			free(c->v[i].image);
			free(c->v[i].pinned);
			cJSON_Delete(c->v[i].platforms);
			continue;
		}
		c->v[k++] = c->v[i];
	}
	c->n = k;
}

int
images_cache_pass(struct images_cache *c, struct engine *e,
    struct err *err)
{
	struct engine_dist *d;
	long long now = clock_mono_ms();
	size_t k = 0;

	pthread_mutex_lock(&c->mu);
	c->pass++;
	drop_unwanted(c);
	if (e == NULL || c->n == 0) {
		pthread_mutex_unlock(&c->mu);
		return 0;
	}
	d = xcalloc(c->n, sizeof(*d));
	/* What the last pass used and is due again, in one batch. */
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].wanted + 1 == c->pass && due(c, &c->v[i], now))
			d[k++].image = c->v[i].image;
	return lookup_batch(c, e, d, k, err);
}

bool
images_cache_get(struct images_cache *c, const char *image,
    struct images_pin *out)
{
	const struct entry *e;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&c->mu);
	if ((e = lookup(c, image)) != NULL && e->asked) {
		memcpy(out->digest, e->digest, sizeof(out->digest));
		if (e->pinned != NULL)
			snprintf(out->pinned, sizeof(out->pinned), "%s",
			    e->pinned);
		/* A reference too long to pin stays as it is written. */
		out->ok = e->ok && e->pinned != NULL;
		out->platforms = cJSON_Duplicate(e->platforms, true);
		out->resolved_at = e->resolved_at;
		memcpy(out->error, e->error, sizeof(out->error));
	}
	pthread_mutex_unlock(&c->mu);
	return e != NULL && e->asked;
}

void
images_pin_release(struct images_pin *p)
{
	cJSON_Delete(p->platforms);
	p->platforms = NULL;
}

size_t
images_cache_expire(struct images_cache *c, const char *host,
    const char *repository)
{
	struct compose_image_ref r;
	size_t n = 0;

	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < c->n; i++) {
		if (host != NULL && (compose_image_ref_parse(&r,
		    c->v[i].image) < 0 || strcmp(r.domain, host) != 0 ||
		    strcmp(r.path, repository) != 0))
			continue;
		c->v[i].expired = true;
		n++;
	}
	pthread_mutex_unlock(&c->mu);
	return n;
}

void
images_cache_stats(struct images_cache *c, struct images_stats *out)
{
	pthread_mutex_lock(&c->mu);
	*out = c->stats;
	pthread_mutex_unlock(&c->mu);
}
