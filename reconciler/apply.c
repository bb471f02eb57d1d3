/*
 * apply.c - carry out a plan, in its order.
 *
 * Services refer to secrets and configs by ID; objects created earlier in
 * the same plan get theirs here.  A service update that meets "update out
 * of sequence" (someone else wrote in between) re-reads the version and
 * tries again, a bounded number of times.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "reconciler.h"

#define OUTOFSEQ_RETRIES 5

/* The ID of the object named exactly name (the filter is a prefix). */
static int
id_by_name(struct engine *e, enum engine_kind kind, const char *name,
    const cJSON *created, char **out, struct err *err)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(created, name);
	cJSON *f = NULL, *list = NULL;
	int rc;

	*out = NULL;
	if (cJSON_IsString(it)) {
		*out = xstrdup(it->valuestring);
		return 0;
	}
	engine_filter_add(&f, "name", name);
	rc = engine_object_list(e, kind, f, &list, err);
	cJSON_Delete(f);
	if (rc < 0)
		return rc;
	cJSON_ArrayForEach(it, list) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(it, "Spec"), "Name");
		if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
			*out = xstrdup(cJSON_GetObjectItemCaseSensitive(it,
			    "ID")->valuestring);
	}
	cJSON_Delete(list);
	if (*out == NULL)
		return err_set(err, ERR_NOTFOUND, "%s not found: %s",
		    engine_kind_name(kind), name);
	return 0;
}

static int
resolve_refs(struct engine *e, cJSON *spec, const cJSON *created,
    struct err *err)
{
	static const struct { const char *list, *name, *id;
	    enum engine_kind k; } refs[] = {
		{ "Secrets", "SecretName", "SecretID", ENGINE_SECRET },
		{ "Configs", "ConfigName", "ConfigID", ENGINE_CONFIG },
	};
	cJSON *cs = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(spec, "TaskTemplate"),
	    "ContainerSpec"), *r;
	char *id;
	int rc;

	for (int i = 0; i < 2; i++)
		cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(cs,
		    refs[i].list)) {
			if (cJSON_GetObjectItemCaseSensitive(r, refs[i].id))
				continue;
			if ((rc = id_by_name(e, refs[i].k,
			    cJSON_GetObjectItemCaseSensitive(r,
			    refs[i].name)->valuestring, created, &id,
			    err)) < 0)
				return rc;
			cJSON_AddStringToObject(r, refs[i].id, id);
			free(id);
		}
	return 0;
}

/* Update, re-reading the version when someone else wrote in between. */
static int
update(struct engine *e, const struct recon_change *c, cJSON *spec,
    struct recon_stats *st, struct err *err)
{
	uint64_t version = c->version;
	cJSON *fresh = NULL;
	int rc;

	for (int i = 0; ; i++) {
		rc = engine_object_update(e, c->kind, c->id, version, spec,
		    err);
		if (rc != ERR_OUTOFSEQ || i == OUTOFSEQ_RETRIES)
			return rc;
		st->retries++;
		if ((rc = engine_object_inspect(e, c->kind, c->id, &fresh,
		    err)) < 0)
			return rc;
		version = recon_object_version(fresh);
		cJSON_Delete(fresh);
		fresh = NULL;
	}
}

static int
apply_one(struct engine *e, const struct recon_change *c, cJSON *created,
    struct recon_stats *st, struct err *err)
{
	cJSON *spec = NULL;
	char *id = NULL;
	int rc;

	if (c->action == RECON_REMOVE) {
		rc = engine_object_remove(e, c->kind, c->id, err);
		/* Already gone: the goal is met.  A swarm network the cluster
		 * has deleted can stay listed for a few seconds, and deleting
		 * it again answers 500 "not found", not 404. */
		if (rc == ERR_NOTFOUND || (rc == ERR_ENGINE && err != NULL &&
		    err->http_status == 500 && strstr(err->msg, "not found")))
			rc = 0;
		st->removes += rc == 0;
		return rc;
	}
	spec = cJSON_Duplicate(c->spec, true);
	if (c->kind == ENGINE_SERVICE &&
	    (rc = resolve_refs(e, spec, created, err)) < 0)
		goto out;
	if (c->action == RECON_CREATE) {
		if ((rc = engine_object_create(e, c->kind, spec, &id, err)) == 0) {
			cJSON_AddStringToObject(created, c->name, id);
			st->creates++;
		}
	} else if ((rc = update(e, c, spec, st, err)) == 0)
		st->updates++;
out:
	free(id);
	cJSON_Delete(spec);
	return rc;
}

int
recon_apply(struct engine *e, const struct recon_plan *p,
    struct recon_stats *stats, struct err *err)
{
	cJSON *created = cJSON_CreateObject();
	long long t0 = clock_mono_ms();
	int rc = 0;

	memset(stats, 0, sizeof(*stats));
	for (size_t i = 0; rc == 0 && i < p->n; i++) {
		rc = apply_one(e, &p->changes[i], created, stats, err);
		stats->done += rc == 0;
		if (rc < 0)
			err_prefix(err, "stack %s: %s %s %s", p->stack,
			    (const char *[]){ "create", "update",
			    "remove" }[p->changes[i].action],
			    engine_kind_name(p->changes[i].kind),
			    p->changes[i].name);
	}
	cJSON_Delete(created);
	stats->seconds = (double)(clock_mono_ms() - t0) / 1000.0;
	return rc;
}
