/*
 * loads.c - stacks converted once per source revision (see controller.h).
 *
 * A revision is a commit or a content hash, so the same revision of the
 * same stack converts to the same specs: reading, interpolating and
 * converting it again every cycle was half of an idle daemon's cycle.
 * Errors are not kept, since what failed may be fixed outside the
 * source (a key file put back), and neither is anything older than the
 * refresh period, which is how files outside the source (a vars file
 * named with ../) are read again.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "controller.h"
#include "json.h"

struct load {
	char *source;		/* "" for none */
	char *stack;
	char revision[65];
	unsigned long hash;	/* of source and stack */
	unsigned long used;	/* the sweep it was last asked in */
	long long at;		/* ms (monotonic): when it was loaded */
	struct compose_stack *loaded;
};

struct ctl_loads {
	struct load *v;
	size_t n;
	unsigned long sweep;
	long long refresh_ms;
	unsigned long hits, misses;
};

static unsigned long
key_hash(const char *source, const char *stack)
{
	unsigned long h = 5381;

	for (const char *s = source; *s; s++)
		h = h * 33 ^ (unsigned char)*s;
	h = h * 33;
	for (const char *s = stack; *s; s++)
		h = h * 33 ^ (unsigned char)*s;
	return h;
}

struct ctl_loads *
ctl_loads_new(long long refresh_ms)
{
	struct ctl_loads *l = xcalloc(1, sizeof(*l));

	if (l != NULL)
		l->refresh_ms = refresh_ms;
	return l;
}

static void
load_clear(struct load *e)
{
	free(e->source);
	free(e->stack);
	compose_stack_free(e->loaded);
}

void
ctl_loads_free(struct ctl_loads *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		load_clear(&l->v[i]);
	free(l->v);
	free(l);
}

static struct load *
find(struct ctl_loads *l, const char *source, const char *stack,
    unsigned long h)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].hash == h && strcmp(l->v[i].stack, stack) == 0 &&
		    strcmp(l->v[i].source, source) == 0)
			return &l->v[i];
	return NULL;
}

static bool
current(const struct ctl_loads *l, const struct load *e,
    const char *revision)
{
	return e->loaded != NULL && strcmp(e->revision, revision) == 0 &&
	    (l->refresh_ms <= 0 || clock_mono_ms() - e->at < l->refresh_ms);
}

int
ctl_loads_get(struct ctl_loads *l, const char *source, const char *revision,
    const struct compose_options *o, const struct compose_stack **out,
    bool *fresh, struct err *err)
{
	unsigned long h;
	struct load *e;
	struct compose_stack *s = NULL;
	int rc;

	source = source ? source : "";
	h = key_hash(source, o->stack);
	e = find(l, source, o->stack, h);
	if (e != NULL && current(l, e, revision)) {
		e->used = l->sweep;
		l->hits++;
		*out = e->loaded;
		*fresh = false;
		return 0;
	}
	l->misses++;
	*fresh = true;
	if ((rc = compose_stack_load(&s, o, err)) < 0) {
		*out = NULL;
		return rc;
	}
	if (e == NULL) {
		l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
		e = &l->v[l->n++];
		memset(e, 0, sizeof(*e));
		e->source = xstrdup(source);
		e->stack = xstrdup(o->stack);
		e->hash = h;
	}
	/* Kept until the next revision, read only: one copy of each key,
	 * each tree in one block (json.h). */
	s->services = json_keep(s->services);
	s->networks = json_keep(s->networks);
	s->secrets = json_keep(s->secrets);
	s->configs = json_keep(s->configs);
	compose_stack_free(e->loaded);
	e->loaded = s;
	snprintf(e->revision, sizeof(e->revision), "%s", revision);
	e->at = clock_mono_ms();
	e->used = l->sweep;
	*out = s;
	return 0;
}

void
ctl_loads_sweep(struct ctl_loads *l)
{
	size_t k = 0;

	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].used == l->sweep)
			l->v[k++] = l->v[i];
		else
			load_clear(&l->v[i]);
	}
	l->n = k;
	l->sweep++;
}

void
ctl_loads_forget(struct ctl_loads *l)
{
	for (size_t i = 0; i < l->n; i++) {
		compose_stack_free(l->v[i].loaded);
		l->v[i].loaded = NULL;
	}
}

void
ctl_loads_stats(const struct ctl_loads *l, unsigned long *hits,
    unsigned long *misses, size_t *kept)
{
	*hits = l->hits;
	*misses = l->misses;
	*kept = l->n;
}
