/*
 * json_pack.c - a cJSON tree copied into one allocation.
 *
 * cJSON gives every node (64 bytes) and every string a heap chunk of its
 * own, and the allocator's header and rounding add a quarter to that: an
 * observed service of 42 nodes and 16 strings costs 3.9 KiB where its
 * bytes are 2.9.  The services the informer keeps are read, never
 * changed, until they are replaced whole, so each is packed: its nodes
 * in pre-order (the root first, at the start of the block) and then its
 * strings.  The root is flagged cJSON_IsReference, so cJSON_Delete frees
 * it alone -- the block -- and never walks into the nodes inside.
 */
#include <string.h>

#include "alloc.h"
#include "json.h"

struct packer {
	cJSON *node;	/* the next free node */
	char *str;	/* the next free string byte */
};

/* Nodes of the tree rooted at c (its siblings too when siblings). */
static void
measure(const cJSON *c, bool siblings, size_t *nodes, size_t *bytes)
{
	for (; c != NULL; c = siblings ? c->next : NULL) {
		(*nodes)++;
		if (c->valuestring != NULL)
			*bytes += strlen(c->valuestring) + 1;
		if (c->string != NULL && !(c->type & cJSON_StringIsConst))
			*bytes += strlen(c->string) + 1;
		measure(c->child, true, nodes, bytes);
	}
}

static char *
copy_str(struct packer *pk, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = pk->str;

	memcpy(d, s, n);
	pk->str += n;
	return d;
}

static cJSON *
copy_node(struct packer *pk, const cJSON *src)
{
	cJSON *d = pk->node++, *last = NULL;

	*d = *src;
	d->next = d->prev = d->child = NULL;
	d->type &= ~cJSON_IsReference;
	if (src->valuestring != NULL)
		d->valuestring = copy_str(pk, src->valuestring);
	if (src->string != NULL && !(src->type & cJSON_StringIsConst))
		d->string = copy_str(pk, src->string);
	for (const cJSON *c = src->child; c != NULL; c = c->next) {
		cJSON *k = copy_node(pk, c);

		if (last == NULL)
			d->child = k;
		else {
			last->next = k;
			k->prev = last;
		}
		last = k;
	}
	/* cJSON's convention: the first child's prev is the last one */
	if (d->child != NULL)
		d->child->prev = last;
	return d;
}

cJSON *
json_pack(const cJSON *tree)
{
	size_t nodes = 0, bytes = 0;
	struct packer pk;
	cJSON *root;

	if (tree == NULL)
		return NULL;
	measure(tree, false, &nodes, &bytes);
	pk.node = xmalloc(nodes * sizeof(cJSON) + bytes);
	pk.str = (char *)(pk.node + nodes);
	root = copy_node(&pk, tree);
	root->type |= cJSON_IsReference;
	/* The root's own key stays a chunk of its own, which cJSON_Delete
	 * frees: flagged const it would be shared by cJSON_Duplicate, and
	 * outlive the block it points into. */
	if (root->string != NULL && !(root->type & cJSON_StringIsConst))
		root->string = xstrdup(root->string);
	return root;
}

cJSON *
json_keep(cJSON *tree)
{
	cJSON *packed;

	json_keys_share(tree);
	packed = json_pack(tree);
	cJSON_Delete(tree);
	return packed;
}
