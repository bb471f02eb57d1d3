/*
 * pathmap.c - a hash table of strings: the status process looks up a
 * request's path among thousands of documents (three per stack), and the
 * daemon what it last sent for each.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "hash.h"
#include "status_int.h"

struct ctl_pathmap_entry {
	struct ctl_pathmap_entry *next;
	void *val;
	char key[];
};

/* FNV-1a: paths are short and not chosen to collide by anyone who can
 * fill the table (the daemon names them). */
static size_t
hash(const char *s)
{
	return (size_t)hash_fnv1a(s, strlen(s));
}

static struct ctl_pathmap_entry **
find(const struct ctl_pathmap *m, const char *key)
{
	struct ctl_pathmap_entry **e;

	if (m->nbuckets == 0)
		return NULL;
	for (e = &m->buckets[hash(key) % m->nbuckets]; *e != NULL;
	    e = &(*e)->next)
		if (strcmp((*e)->key, key) == 0)
			return e;
	return e;
}

void *
ctl_pathmap_get(const struct ctl_pathmap *m, const char *key)
{
	struct ctl_pathmap_entry **e = find(m, key);

	return e != NULL && *e != NULL ? (*e)->val : NULL;
}

/* Twice the buckets once there are as many entries as buckets. */
static void
grow(struct ctl_pathmap *m)
{
	size_t n = m->nbuckets ? m->nbuckets * 2 : 64;
	struct ctl_pathmap_entry **b = xcalloc(n, sizeof(*b));

	for (size_t i = 0; i < m->nbuckets; i++) {
		struct ctl_pathmap_entry *e = m->buckets[i], *next;

		for (; e != NULL; e = next) {
			size_t h = hash(e->key) % n;

			next = e->next;
			e->next = b[h];
			b[h] = e;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->nbuckets = n;
}

void **
ctl_pathmap_slot(struct ctl_pathmap *m, const char *key)
{
	struct ctl_pathmap_entry **e;
	size_t len = strlen(key);

	if (m->n >= m->nbuckets)
		grow(m);
	e = find(m, key);
	if (*e == NULL) {
		*e = xcalloc(1, sizeof(**e) + len + 1);
		memcpy((*e)->key, key, len + 1);
		m->n++;
	}
	return &(*e)->val;
}

void *
ctl_pathmap_take(struct ctl_pathmap *m, const char *key)
{
	struct ctl_pathmap_entry **e = find(m, key), *gone;
	void *val;

	if (e == NULL || *e == NULL)
		return NULL;
	gone = *e;
	val = gone->val;
	*e = gone->next;
	free(gone);
	m->n--;
	return val;
}

void
ctl_pathmap_each(const struct ctl_pathmap *m,
    void (*fn)(const char *key, void *val, void *arg), void *arg)
{
	for (size_t i = 0; i < m->nbuckets; i++)
		for (struct ctl_pathmap_entry *e = m->buckets[i]; e != NULL;
		    e = e->next)
			fn(e->key, e->val, arg);
}

void
ctl_pathmap_clear(struct ctl_pathmap *m, void (*release)(void *val))
{
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct ctl_pathmap_entry *e = m->buckets[i], *next;

		for (; e != NULL; e = next) {
			next = e->next;
			if (release != NULL)
				release(e->val);
			free(e);
		}
	}
	free(m->buckets);
	memset(m, 0, sizeof(*m));
}
