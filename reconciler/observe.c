/*
 * observe.c - one engine's objects in four list calls: services (of any
 * stack), networks, secrets and configs (all: external ones are referred
 * to by name and need their IDs); then an index by name, built once per
 * cycle, since every plan looks up every object it wants.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "alloc.h"
#include "json.h"
#include "reconciler_int.h"

#define NKINDS (ENGINE_CONFIG + 1)

struct recon_index {
	const cJSON **objs[NKINDS];	/* sorted by name */
	size_t n[NKINDS];
	const cJSON **stacked[NKINDS];	/* labelled ones, by stack */
	size_t nstacked[NKINDS];
	unsigned char digest[RECON_ENV_LEN];
};

/* The name, "" when there is none (sorted first, found by nobody). */
static const char *
name_of(enum engine_kind k, const cJSON *o)
{
	const char *n = recon_obj_name(k, o);

	return n != NULL ? n : "";
}

static int by_network_name(const void *a, const void *b)
{
	return strcmp(name_of(ENGINE_NETWORK, *(const cJSON *const *)a),
	    name_of(ENGINE_NETWORK, *(const cJSON *const *)b));
}

static int by_spec_name(const void *a, const void *b)
{
	return strcmp(name_of(ENGINE_SERVICE, *(const cJSON *const *)a),
	    name_of(ENGINE_SERVICE, *(const cJSON *const *)b));
}

/* The stack label, or NULL. */
static const char *
stack_of(enum engine_kind k, const cJSON *o)
{
	return recon_obj_label(k, o, RECON_LABEL_NS);
}

static int
stack_cmp(enum engine_kind k, const void *a, const void *b)
{
	return strcmp(stack_of(k, *(const cJSON *const *)a),
	    stack_of(k, *(const cJSON *const *)b));
}

/* One comparator per layout: qsort has no context argument, and a global
 * kind would race between the engines' workers. */
static int by_network_stack(const void *a, const void *b)
{
	return stack_cmp(ENGINE_NETWORK, a, b);
}

static int by_spec_stack(const void *a, const void *b)
{
	return stack_cmp(ENGINE_SERVICE, a, b);
}

/* What the planner relies on: an object with a string ID and a name.  The
 * engine always sends them; anything else is not planned on at all. */
static int
check_object(enum engine_kind k, const cJSON *o, size_t i, struct err *err)
{
	static const char *const kinds[] = { "service", "network", "secret",
	    "config" };
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(o,
	    k == ENGINE_NETWORK ? "Id" : "ID");

	if (cJSON_IsObject(o) && cJSON_IsString(id) && *id->valuestring &&
	    *name_of(k, o) != '\0')
		return 0;
	return err_set(err, ERR_PROTOCOL, "the engine's %s list: item %zu "
	    "has no ID or no name; nothing planned", kinds[k], i);
}

static void
index_free(struct recon_index *ix)
{
	if (ix == NULL)
		return;
	for (int k = 0; k < NKINDS; k++) {
		free(ix->objs[k]);
		free(ix->stacked[k]);
	}
	free(ix);
}

static void
digest_add(EVP_MD_CTX *md, const char *s)
{
	/* with its NUL: "ab","c" is not "a","bc" */
	if (s == NULL)
		s = "";
	EVP_DigestUpdate(md, s, strlen(s) + 1);
}

/* What a service's plan reads of the other kinds: names, IDs, scopes. */
static void
index_digest(struct recon_index *ix)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char out[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return;
	}
	for (int k = ENGINE_NETWORK; k < NKINDS; k++) {
		digest_add(md, "");
		for (size_t i = 0; i < ix->n[k]; i++) {
			const cJSON *o = ix->objs[k][i];
			digest_add(md, recon_obj_id(k, o));
			digest_add(md, recon_obj_name(k, o));
			if (k == ENGINE_NETWORK)
				digest_add(md, json_str(o, "Scope"));
		}
	}
	if (EVP_DigestFinal_ex(md, out, &len) == 1 && len >= RECON_ENV_LEN)
		memcpy(ix->digest, out, RECON_ENV_LEN);
	EVP_MD_CTX_free(md);
}

void
recon_observed_digest(const struct recon_observed *o,
    unsigned char out[RECON_ENV_LEN])
{
	if (o->index != NULL)
		memcpy(out, o->index->digest, RECON_ENV_LEN);
	else
		memset(out, 0, RECON_ENV_LEN);
}

int
recon_observed_index(struct recon_observed *o, struct err *err)
{
	struct recon_index *ix = xcalloc(1, sizeof(*ix));
	const cJSON *it;

	for (int k = 0; k < NKINDS; k++) {
		const cJSON *list = recon_observed_list(o, k);

		size_t len = (size_t)cJSON_GetArraySize(list) + 1;

		ix->objs[k] = xcalloc(len, sizeof(*ix->objs[k]));
		ix->stacked[k] = xcalloc(len, sizeof(*ix->stacked[k]));
		if (list != NULL && !cJSON_IsArray(list)) {
			index_free(ix);
			return err_set(err, ERR_PROTOCOL, "an engine list reply "
			    "is not an array; nothing planned");
		}
		cJSON_ArrayForEach(it, list) {
			if (check_object(k, it, ix->n[k], err) < 0) {
				index_free(ix);
				return ERR_PROTOCOL;
			}
			ix->objs[k][ix->n[k]++] = it;
			if (stack_of(k, it) != NULL)
				ix->stacked[k][ix->nstacked[k]++] = it;
		}
		qsort(ix->objs[k], ix->n[k], sizeof(*ix->objs[k]),
		    k == ENGINE_NETWORK ? by_network_name : by_spec_name);
		qsort(ix->stacked[k], ix->nstacked[k], sizeof(*ix->stacked[k]),
		    k == ENGINE_NETWORK ? by_network_stack : by_spec_stack);
	}
	index_digest(ix);
	index_free(o->index);
	o->index = ix;
	return 0;
}

const cJSON *
recon_observed_find(const struct recon_observed *o, enum engine_kind k,
    const char *name)
{
	const struct recon_index *ix = o->index;
	size_t lo = 0, hi;

	if (ix == NULL || k >= NKINDS)
		return NULL;
	hi = ix->n[k];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name_of(k, ix->objs[k][mid]), name);

		if (c == 0)
			return ix->objs[k][mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

size_t
recon_observed_stack(const struct recon_observed *o, enum engine_kind k,
    const char *stack, const cJSON *const **out)
{
	const struct recon_index *ix = o->index;
	size_t lo = 0, hi, end;

	*out = NULL;
	if (ix == NULL || k >= NKINDS)
		return 0;
	/* the first object of the stack, then the end of its run */
	hi = ix->nstacked[k];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(stack_of(k, ix->stacked[k][mid]), stack) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < ix->nstacked[k] &&
	    strcmp(stack_of(k, ix->stacked[k][end]), stack) == 0; end++)
		;
	*out = ix->stacked[k] + lo;
	return end - lo;
}

cJSON *
recon_obj_keep(enum engine_kind k, cJSON *o)
{
	static const char *const unread[] = { "PreviousSpec", "Endpoint",
	    "CreatedAt" };

	if (!cJSON_IsObject(o))
		return o;
	for (size_t i = 0; k == ENGINE_SERVICE && i < sizeof(unread) /
	    sizeof(*unread); i++)
		cJSON_DeleteItemFromObjectCaseSensitive(o, unread[i]);
	return json_keep(o);
}

int
recon_observe(struct recon_observed *out, struct engine *e, struct err *err)
{
	cJSON *f = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	engine_filter_add(&f, "label", RECON_LABEL_NS);
	if ((rc = engine_object_list_trimmed(e, ENGINE_SERVICE, f,
	    recon_obj_keep, &out->services, err)) < 0 ||
	    (rc = engine_object_list_trimmed(e, ENGINE_NETWORK, NULL,
	    recon_obj_keep, &out->networks, err)) < 0 ||
	    (rc = engine_object_list_trimmed(e, ENGINE_SECRET, NULL,
	    recon_obj_keep, &out->secrets, err)) < 0 ||
	    (rc = engine_object_list_trimmed(e, ENGINE_CONFIG, NULL,
	    recon_obj_keep, &out->configs, err)) < 0 ||
	    (rc = recon_observed_index(out, err)) < 0)
		recon_observed_release(out);
	cJSON_Delete(f);
	return rc;
}

void
recon_observed_release(struct recon_observed *o)
{
	if (o == NULL)
		return;
	cJSON_Delete(o->services);
	cJSON_Delete(o->networks);
	cJSON_Delete(o->secrets);
	cJSON_Delete(o->configs);
	index_free(o->index);
	memset(o, 0, sizeof(*o));
}
