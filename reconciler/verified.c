/*
 * verified.c - the services a worker found needing nothing, by engine ID,
 * so that the next cycle skips their deep diff while neither side moved.
 *
 * A hash table with chaining: a cycle looks up every service of every
 * stack it plans, and 10 000 services must cost next to nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "reconciler_int.h"

struct entry {
	struct entry *next;
	char *id;
	uint64_t version;
	uint64_t serial;
	unsigned char env[RECON_ENV_LEN];
	char *pin;
	long long at;		/* when the deep diff last found nothing */
	unsigned long pass;	/* the last cycle that planned it */
};

struct recon_verified {
	struct entry **buckets;
	size_t nbuckets;	/* a power of 2 */
	size_t n;
	long long period_ms;
	unsigned long pass;
	unsigned long hits, misses;
};

struct recon_verified *
recon_verified_new(long long period_ms)
{
	struct recon_verified *v = xcalloc(1, sizeof(*v));

	v->nbuckets = 64;
	v->buckets = xcalloc(v->nbuckets, sizeof(*v->buckets));
	v->period_ms = period_ms;
	return v;
}

static void
entry_free(struct entry *e)
{
	free(e->id);
	free(e->pin);
	free(e);
}

void
recon_verified_forget(struct recon_verified *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->nbuckets; i++)
		while (v->buckets[i] != NULL) {
			struct entry *e = v->buckets[i];
			v->buckets[i] = e->next;
			entry_free(e);
		}
	v->n = 0;
}

void
recon_verified_free(struct recon_verified *v)
{
	if (v == NULL)
		return;
	recon_verified_forget(v);
	free(v->buckets);
	free(v);
}

/* FNV-1a: the IDs are random already, any spread will do. */
static size_t
slot(const struct recon_verified *v, const char *id)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 1099511628211ULL;
	return (size_t)h & (v->nbuckets - 1);
}

static struct entry **
find(struct recon_verified *v, const char *id)
{
	struct entry **pe = &v->buckets[slot(v, id)];

	while (*pe != NULL && strcmp((*pe)->id, id) != 0)
		pe = &(*pe)->next;
	return pe;
}

static bool
same(const struct entry *e, const struct recon_verified_key *k)
{
	return e->version == k->version && e->serial == k->serial &&
	    memcmp(e->env, k->env, sizeof(e->env)) == 0 &&
	    strcmp(e->pin, k->pin) == 0;
}

bool
recon_verified_hit(struct recon_verified *v,
    const struct recon_verified_key *k)
{
	struct entry *e;

	if (v == NULL || k->serial == 0 || k->version == 0)
		return false;
	e = *find(v, k->id);
	if (e != NULL && same(e, k) &&
	    clock_mono_ms() - e->at < v->period_ms) {
		e->pass = v->pass;
		v->hits++;
		return true;
	}
	v->misses++;
	return false;
}

static void
grow(struct recon_verified *v)
{
	struct entry **old = v->buckets;
	size_t nold = v->nbuckets;

	v->nbuckets *= 2;
	v->buckets = xcalloc(v->nbuckets, sizeof(*v->buckets));
	for (size_t i = 0; i < nold; i++)
		while (old[i] != NULL) {
			struct entry *e = old[i];
			size_t s = slot(v, e->id);
			old[i] = e->next;
			e->next = v->buckets[s];
			v->buckets[s] = e;
		}
	free(old);
}

void
recon_verified_put(struct recon_verified *v,
    const struct recon_verified_key *k)
{
	struct entry **pe, *e;

	if (v == NULL || k->serial == 0 || k->version == 0)
		return;
	pe = find(v, k->id);
	if ((e = *pe) == NULL) {
		if (v->n >= v->nbuckets) {
			grow(v);
			pe = find(v, k->id);
		}
		e = *pe = xcalloc(1, sizeof(*e));
		e->id = xstrdup(k->id);
		v->n++;
	}
	free(e->pin);
	e->pin = xstrdup(k->pin);
	e->version = k->version;
	e->serial = k->serial;
	memcpy(e->env, k->env, sizeof(e->env));
	e->at = clock_mono_ms();
	e->pass = v->pass;
}

void
recon_verified_sweep(struct recon_verified *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->nbuckets; i++) {
		struct entry **pe = &v->buckets[i];

		while (*pe != NULL) {
			struct entry *e = *pe;
			if (e->pass == v->pass) {
				pe = &e->next;
				continue;
			}
			*pe = e->next;
			entry_free(e);
			v->n--;
		}
	}
	v->pass++;
}

void
recon_verified_stats(const struct recon_verified *v,
    struct recon_verified_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (v == NULL)
		return;
	out->hits = v->hits;
	out->misses = v->misses;
	out->entries = v->n;
}
