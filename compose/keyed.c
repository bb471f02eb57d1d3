/*
 * keyed.c - the lists the CLI merges by a key: ports by published port,
 * volumes by target, secrets and configs by source (merge.go's
 * mergeSlice).  One entry per key, a later one replacing an earlier one
 * (within a file too), the override's winning, sorted by the key.  The
 * base's list is keyed even when the override does not give one, so a
 * base with two unpublished ports keeps one of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "compose_int.h"

struct keyed {
	char key[512];
	double num;		/* ports: the published port */
	struct ynode *item;
};

static int
keyed_order(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	if (x->num != y->num)
		return x->num < y->num ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* A volume's target ("src:dst:mode", "dst" or target:), a secret's or
 * config's source ("name" or source:). */
static void
item_key(const struct ynode *it, bool target, char *out, size_t len)
{
	const struct ynode *v = ynode_get(it, target ? "target" : "source");
	const char *s = it->str, *colon;

	if (it->kind == YNODE_MAP) {
		snprintf(out, len, "%s", v ? v->str : "");
		return;
	}
	colon = target ? strchr(s, ':') : NULL;
	if (colon == NULL)
		snprintf(out, len, "%s", s);
	else
		snprintf(out, len, "%.*s", (int)strcspn(colon + 1, ":"),
		    colon + 1);
}

/* Put e into k (n entries so far): it replaces one of the same key. */
static size_t
keyed_put(struct keyed *k, size_t n, struct keyed e)
{
	size_t j;

	for (j = 0; j < n && (k[j].num != e.num ||
	    strcmp(k[j].key, e.key) != 0); j++)
		;
	if (j < n)
		ynode_free(k[j].item);
	k[j] = e;
	return n + (j == n);
}

/* Add list's items to k, a later one replacing an earlier of the same
 * key; the items move out of list. */
static size_t
keyed_add(struct keyed *k, size_t n, struct ynode *list, bool target)
{
	for (size_t i = 0; list != NULL && i < list->n; i++) {
		struct keyed e = { .item = list->vals[i] };

		item_key(e.item, target, e.key, sizeof(e.key));
		list->vals[i] = NULL;
		n = keyed_put(k, n, e);
	}
	return n;
}

/* The merged list: one item per key, sorted by key, into *d. */
static void
keyed_build(struct ynode **d, struct keyed *k, size_t n)
{
	struct ynode *seq = ynode_new(YNODE_SEQ, *d, NULL);

	qsort(k, n, sizeof(*k), keyed_order);
	for (size_t i = 0; i < n; i++)
		ynode_add(seq, NULL, k[i].item);
	ynode_free(*d);
	*d = seq;
}

void
conv_merge_by_field(struct ynode **d, struct ynode *src, bool target)
{
	size_t cap = (*d)->n + (src ? src->n : 0) + 1, n;
	struct keyed *k = xcalloc(cap, sizeof(*k));

	n = keyed_add(k, 0, *d, target);
	n = keyed_add(k, n, src, target);
	keyed_build(d, k, n);
	free(k);
}

/* A port as the loader types it, in the long form. */
static struct ynode *
port_node(const cJSON *p, const struct ynode *at)
{
	static const char *const keys[][2] = { { "TargetPort", "target" },
	    { "PublishedPort", "published" }, { "Protocol", "protocol" },
	    { "PublishMode", "mode" } };
	struct ynode *m = ynode_new(YNODE_MAP, at, NULL), *v;
	char num[32];

	for (size_t i = 0; i < 4; i++) {
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(p, keys[i][0]);
		if (f == NULL)
			continue;
		snprintf(num, sizeof(num), "%.0f", f->valuedouble);
		v = ynode_new(YNODE_SCALAR, at, cJSON_IsString(f) ? f->valuestring :
		    num);
		v->quoted = cJSON_IsString(f);
		ynode_add(m, ynode_new(YNODE_SCALAR, at, keys[i][1]), v);
	}
	return m;
}

static size_t
ports_add(struct keyed *k, size_t n, const cJSON *ports, const struct ynode *at)
{
	const cJSON *p;

	cJSON_ArrayForEach(p, ports) {
		const cJSON *pub = cJSON_GetObjectItemCaseSensitive(p,
		    "PublishedPort");
		struct keyed e = { .num = pub ? pub->valuedouble : 0,
		    .item = port_node(p, at) };

		n = keyed_put(k, n, e);
	}
	return n;
}

/* Ports keyed by published port (all unpublished ones are one key). */
int
conv_merge_by_published(struct conv *c, struct ynode **d, const struct ynode *src,
    const char *path)
{
	cJSON *a = NULL, *b = NULL;
	struct keyed *k = NULL;
	size_t n = 0;
	int rc;

	if ((rc = conv_ports_loaded(c, *d, path, &a)) < 0 ||
	    (src != NULL && (rc = conv_ports_loaded(c, src, path, &b)) < 0))
		goto out;
	k = xcalloc((size_t)(cJSON_GetArraySize(a) + cJSON_GetArraySize(b) +
	    1), sizeof(*k));
	n = ports_add(k, 0, a, *d);
	n = ports_add(k, n, b, *d);
	keyed_build(d, k, n);
out:

	free(k);
	cJSON_Delete(a);
	cJSON_Delete(b);
	return rc;
}
