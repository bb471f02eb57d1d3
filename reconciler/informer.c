/*
 * informer.c - an engine's objects kept from one cycle to the next and
 * brought up to date by what its event stream names.
 *
 * The order is Kubernetes' list-then-watch: the stream is taken first,
 * and only then is everything listed, so that an event raised during the
 * list is heard and its object inspected at the next observe.  A stream
 * that drops (or was never taken) makes every observe list in full, as
 * one without an informer does; a stream that stays open but goes silent
 * is caught by the resync.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "json.h"
#include "reconciler_int.h"

/* More objects named than this since the last observe: one list each is
 * cheaper than as many inspects. */
#define TOUCHED_MAX 64

struct touched {
	enum engine_kind k;
	char *id;
};

struct recon_informer {
	pthread_mutex_t mu;	/* the event thread's side: */
	bool open;		/* the stream is taken */
	bool stale;		/* list everything at the next observe */
	struct touched *dirty;
	size_t ndirty;
	/* The worker's side: */
	struct recon_observed obs;
	long long listed_at;	/* clock_mono_ms of the last full list */
	long long resync_ms;
	struct recon_informer_stats stats;
};

struct recon_informer *
recon_informer_new(long long resync_ms)
{
	struct recon_informer *inf = xcalloc(1, sizeof(*inf));

	pthread_mutex_init(&inf->mu, NULL);
	inf->dirty = xcalloc(TOUCHED_MAX, sizeof(*inf->dirty));
	inf->stale = true;
	inf->resync_ms = resync_ms > 0 ? resync_ms : RECON_RESYNC_MS;
	return inf;
}

static void
touched_clear(struct touched *t, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free(t[i].id);
	*n = 0;
}

void
recon_informer_free(struct recon_informer *inf)
{
	if (inf == NULL)
		return;
	touched_clear(inf->dirty, &inf->ndirty);
	free(inf->dirty);
	recon_observed_release(&inf->obs);
	pthread_mutex_destroy(&inf->mu);
	free(inf);
}

void
recon_informer_stream(struct recon_informer *inf, bool open)
{
	pthread_mutex_lock(&inf->mu);
	inf->open = open;
	inf->stale = true;
	touched_clear(inf->dirty, &inf->ndirty);
	pthread_mutex_unlock(&inf->mu);
}

void
recon_informer_touch(struct recon_informer *inf, enum engine_kind k,
    const char *id)
{
	if (k > ENGINE_CONFIG || id == NULL || *id == '\0')
		return;
	pthread_mutex_lock(&inf->mu);
	for (size_t i = 0; i < inf->ndirty && !inf->stale; i++)
		if (inf->dirty[i].k == k && strcmp(inf->dirty[i].id, id) == 0)
			goto out;
	if (inf->stale)
		;	/* everything is listed anyway */
	else if (inf->ndirty == TOUCHED_MAX) {
		touched_clear(inf->dirty, &inf->ndirty);
		inf->stale = true;
	} else {
		inf->dirty[inf->ndirty].k = k;
		inf->dirty[inf->ndirty++].id = xstrdup(id);
	}
out:
	pthread_mutex_unlock(&inf->mu);
}

/* The list's item with this ID, or NULL. */
static cJSON *
item_of(cJSON *list, enum engine_kind k, const char *id)
{
	cJSON *o;

	cJSON_ArrayForEach(o, list)
		if (recon_obj_id(k, o) && strcmp(recon_obj_id(k, o), id) == 0)
			return o;
	return NULL;
}

/* Would the list call have returned it?  Services: only stacks' ones. */
static bool
listed(enum engine_kind k, const cJSON *o)
{
	return k != ENGINE_SERVICE ||
	    recon_obj_label(k, o, RECON_LABEL_NS) != NULL;
}

/* Inspect one named object and put what the engine says in its place. */
static int
refresh(struct recon_informer *inf, struct engine *e, enum engine_kind k,
    const char *id, struct err *err)
{
	cJSON *lists[] = { inf->obs.services, inf->obs.networks,
	    inf->obs.secrets, inf->obs.configs }, *list = lists[k];
	cJSON *fresh = NULL, *old = item_of(list, k, id);
	int rc = engine_object_inspect(e, k, id, &fresh, err);

	inf->stats.inspects++;
	if (rc == ERR_NOTFOUND) {
		cJSON_Delete(cJSON_DetachItemViaPointer(list, old));
		return 0;
	}
	if (rc < 0)
		return rc;
	if (!listed(k, fresh))
		cJSON_Delete(fresh), fresh = NULL;
	fresh = recon_obj_keep(k, fresh);
	if (old != NULL && fresh != NULL)
		cJSON_ReplaceItemViaPointer(list, old, fresh);
	else if (old != NULL)
		cJSON_Delete(cJSON_DetachItemViaPointer(list, old));
	else if (fresh != NULL)
		cJSON_AddItemToArray(list, fresh);
	return 0;
}

static int
list_all(struct recon_informer *inf, struct engine *e, struct err *err)
{
	int rc;

	/* The old lists go first: a failed list leaves nothing whole to
	 * keep, and one copy at a time halves the peak. */
	recon_observed_release(&inf->obs);
	if ((rc = recon_observe(&inf->obs, e, err)) < 0)
		return rc;
	inf->listed_at = clock_mono_ms();
	inf->stats.lists++;
	return 0;
}

/* What changed since the last observe, taken: true = list everything. */
static bool
take(struct recon_informer *inf, struct touched *out, size_t *n)
{
	bool all;

	pthread_mutex_lock(&inf->mu);
	all = inf->stale || !inf->open || inf->obs.index == NULL ||
	    clock_mono_ms() - inf->listed_at >= inf->resync_ms;
	*n = 0;
	if (!all) {
		memcpy(out, inf->dirty, inf->ndirty * sizeof(*out));
		*n = inf->ndirty;
	} else
		touched_clear(inf->dirty, &inf->ndirty);
	inf->ndirty = 0;
	inf->stale = false;
	pthread_mutex_unlock(&inf->mu);
	return all;
}

void
recon_informer_expire(struct recon_informer *inf)
{
	pthread_mutex_lock(&inf->mu);
	inf->stale = true;
	touched_clear(inf->dirty, &inf->ndirty);
	pthread_mutex_unlock(&inf->mu);
}

int
recon_informer_observe(struct recon_informer *inf, struct engine *e,
    struct recon_observed *out, struct err *err)
{
	struct touched t[TOUCHED_MAX];
	size_t n;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (take(inf, t, &n))
		rc = list_all(inf, e, err);
	else if (n > 0) {
		inf->stats.events++;
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = refresh(inf, e, t[i].k, t[i].id, err);
		if (rc == 0)
			rc = recon_observed_index(&inf->obs, err);
	} else
		inf->stats.quiet++;
	touched_clear(t, &n);
	if (rc < 0) {
		/* What the lists hold is no longer known to be whole. */
		recon_informer_expire(inf);
		return rc;
	}
	*out = inf->obs;
	return 0;
}

void
recon_informer_stats(struct recon_informer *inf,
    struct recon_informer_stats *out)
{
	*out = inf->stats;
}
