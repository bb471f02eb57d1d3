/*
 * plan.c - from a desired stack and an observed engine to an ordered list
 * of changes.
 *
 * Order: networks, then secrets and configs are created (or labelled),
 * services are removed, updated (those giving up published ports first) and
 * created, and last networks, secrets and configs no longer used are
 * removed.  Only objects labelled with this stack and this owner are ever
 * removed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "alloc.h"
#include "json.h"
#include "reconciler_int.h"

/* --- observed objects ------------------------------------------------ */





const cJSON *
plan_observed_list(const struct planner *pl, enum engine_kind k)
{
	return recon_observed_list(pl->obs, k);
}

const cJSON *
plan_find(const struct planner *pl, enum engine_kind k, const char *name)
{
	return recon_observed_find(pl->obs, k, name);
}


bool
plan_ours(const struct planner *pl, enum engine_kind k, const cJSON *o)
{
	const char *ns = recon_obj_label(k, o, RECON_LABEL_NS);

	return ns != NULL && strcmp(ns, pl->s->name) == 0 &&
	    recon_object_owned(k, o, pl->owner);
}


/* --- changes --------------------------------------------------------- */

void
plan_free_changes(struct recon_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->changes[i].name);
		free(p->changes[i].id);
		cJSON_Delete(p->changes[i].spec);
		cJSON_Delete(p->changes[i].diffs);
	}
	free(p->changes);
	p->changes = NULL;
	p->n = 0;
}

int
plan_add_change(struct planner *pl, enum recon_action a, enum engine_kind k,
    const char *name, const cJSON *obs, cJSON *spec, cJSON *diffs)
{
	struct recon_plan *p = pl->p;
	struct recon_change *c;

	p->changes = xrealloc(p->changes, (p->n + 1) * sizeof(*p->changes));
	c = &p->changes[p->n];
	memset(c, 0, sizeof(*c));
	c->action = a;
	c->kind = k;
	c->spec = spec;
	c->diffs = diffs;
	c->name = xstrdup(name);
	if (obs != NULL) {
		c->id = xstrdup(recon_obj_id(k, obs));
		c->version = recon_object_version(obs);
	}
	p->n++;
	return 0;
}

void
plan_keep(struct planner *pl, const char *name)
{
	cJSON_AddItemToArray(pl->kept, cJSON_CreateString(name));
}

bool
plan_kept(const struct planner *pl, const char *name)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, pl->kept)
		if (strcmp(it->valuestring, name) == 0)
			return true;
	return false;
}

/* Labels = desired labels + owner (+ hash), replacing what was there. */
void
plan_set_labels(const struct planner *pl, cJSON *labels, const char *hash)
{
	cJSON_DeleteItemFromObjectCaseSensitive(labels, RECON_LABEL_OWNER);
	cJSON_AddStringToObject(labels, RECON_LABEL_OWNER, pl->owner);
	if (hash != NULL) {
		cJSON_DeleteItemFromObjectCaseSensitive(labels,
		    RECON_LABEL_HASH);
		cJSON_AddStringToObject(labels, RECON_LABEL_HASH, hash);
	}
}

/* First 12 hex digits of sha256(JSON of obj). */
void
plan_hash_of(const cJSON *obj, char out[13])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	char *text = cJSON_PrintUnformatted(obj);

	EVP_Digest(text ? text : "", text ? strlen(text) : 0, md, &len,
	    EVP_sha256(), NULL);
	for (int i = 0; i < 6; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	cJSON_free(text);
}

/* --- the plan -------------------------------------------------------- */

static int
plan_all(struct recon_plan **out, const struct compose_stack *s,
    const struct recon_observed *obs, const struct recon_options *opt,
    bool keep_file_objects, struct err *err)
{
	struct planner pl = { .s = s, .obs = obs, .opt = opt, .err = err,
	    .keep_file_objects = keep_file_objects };
	int rc;

	*out = NULL;
	pl.owner = opt && opt->owner ? opt->owner : "stackd";
	pl.keep_replicas = opt && opt->keep_replicas;
	pl.no_prune = opt && opt->no_prune;
	pl.attempted = opt ? opt->attempted : NULL;
	pl.p = xcalloc(1, sizeof(*pl.p));
	pl.p->stack = xstrdup(s->name);
	pl.p->held = cJSON_CreateArray();
	pl.p->notes = cJSON_CreateArray();
	pl.renames = cJSON_CreateObject();
	pl.kept = cJSON_CreateArray();
	if (obs->index == NULL) {
		rc = err_set(err, ERR_INVALID, "observed state has no index "
		    "(use recon_observe or recon_observed_index)");
		goto out;
	}
	if ((rc = plan_networks(&pl)) < 0 ||
	    (rc = plan_file_objects(&pl)) < 0 ||
	    (rc = plan_services(&pl)) < 0 ||
	    (rc = plan_removals(&pl, ENGINE_NETWORK)) < 0 ||
	    (!pl.keep_file_objects &&
	    ((rc = plan_removals(&pl, ENGINE_SECRET)) < 0 ||
	    (rc = plan_removals(&pl, ENGINE_CONFIG)) < 0)))
		goto out;
	*out = pl.p;
	pl.p = NULL;
out:
	recon_plan_free(pl.p);
	cJSON_Delete(pl.renames);
	cJSON_Delete(pl.kept);
	return rc;
}

int
recon_plan_stack(struct recon_plan **out, const struct compose_stack *s,
    const struct recon_observed *obs, const struct recon_options *opt,
    struct err *err)
{
	int rc;

	*out = NULL;
	if ((rc = recon_ports_check(s, obs, err)) < 0)
		return rc;
	return plan_all(out, s, obs, opt, false, err);
}

int
recon_plan_removal(struct recon_plan **out, const char *stack,
    const struct recon_observed *obs, const struct recon_options *opt,
    struct err *err)
{
	/* A copy: the plan's stack is not const (a namespace label from the
	 * engine may be any length). */
	struct compose_stack none = { .name = xstrdup(stack) };
	/* prune: false is about what leaves a stack's files, not about a
	 * stack that left the source. */
	struct recon_options o = opt ? *opt : (struct recon_options){ 0 };
	int rc;

	*out = NULL;
	o.no_prune = false;
	/* An empty desired stack: everything owned goes. */
	none.networks = cJSON_CreateArray();
	none.external_networks = cJSON_CreateArray();
	none.secrets = cJSON_CreateArray();
	none.configs = cJSON_CreateArray();
	none.services = cJSON_CreateArray();
	rc = plan_all(out, &none, obs, &o, !o.prune_secrets, err);
	cJSON_Delete(none.networks);
	cJSON_Delete(none.external_networks);
	cJSON_Delete(none.secrets);
	cJSON_Delete(none.configs);
	cJSON_Delete(none.services);
	free(none.name);
	return rc;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

cJSON *
recon_observed_stacks(const struct recon_observed *obs, const char *owner)
{
	const cJSON *lists[] = { obs->services, obs->networks, obs->secrets,
	    obs->configs }, *o;
	cJSON *names = cJSON_CreateArray();
	size_t n = 0, cap = 0;
	const char **v = NULL;

	/* Gathered, sorted and made unique: a scan of the names for each
	 * object was 10 million comparisons at 10 000 services. */
	for (int k = ENGINE_SERVICE; k <= ENGINE_CONFIG; k++)
		cJSON_ArrayForEach(o, lists[k]) {
			const char *ns = recon_obj_label(k, o, RECON_LABEL_NS);

			if (ns == NULL || !recon_object_owned(k, o, owner))
				continue;
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				v = xrealloc(v, cap * sizeof(*v));
			}
			v[n++] = ns;
		}
	if (n > 1)
		qsort(v, n, sizeof(*v), str_cmp);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(v[i], v[i - 1]) != 0)
			cJSON_AddItemToArray(names, cJSON_CreateString(v[i]));
	free(v);
	return names;
}

void
recon_plan_free(struct recon_plan *p)
{
	if (p == NULL)
		return;
	plan_free_changes(p);
	recon_plan_free(p->hooks);
	cJSON_Delete(p->held);
	cJSON_Delete(p->notes);
	free(p->stack);
	free(p);
}
