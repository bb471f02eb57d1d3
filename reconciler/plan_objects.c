/*
 * plan_objects.c - the networks, secrets and configs of a plan: created
 * when missing, labelled when adopted, and for secrets and configs (whose
 * data is immutable) a new object per content.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "json.h"
#include "reconciler_int.h"

/* --- networks -------------------------------------------------------- */

/* A network whose driver or flags changed in the file stays as it is:
 * say so, since the change will never be applied. */
static void
network_changed(struct planner *pl, const cJSON *desired,
    const cJSON *actual)
{
	static const char *const keys[] = { "Driver", "Attachable",
	    "Internal" };
	cJSON *want = cJSON_CreateObject(), *have = cJSON_CreateObject();
	cJSON *diffs = cJSON_CreateArray();
	const cJSON *v;
	char line[768];

	/* Only these keys: everything else of a network is the engine's. */
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if ((v = json_get(desired, keys[i])) != NULL)
			cJSON_AddItemToObject(want, keys[i],
			    cJSON_Duplicate(v, true));
		if ((v = json_get(actual, keys[i])) != NULL)
			cJSON_AddItemToObject(have, keys[i],
			    cJSON_Duplicate(v, true));
	}
	if (recon_diff(want, have, "", diffs) > 0) {
		char *what = cJSON_PrintUnformatted(diffs);
		snprintf(line, sizeof(line), "network %s: changed in the file "
		    "%s, but a network cannot be updated in place; it stays "
		    "as it is until the stack is removed and deployed again",
		    json_str(desired, "Name"), what ? what : "");
		cJSON_AddItemToArray(pl->p->notes, cJSON_CreateString(line));
		free(what);
	}
	cJSON_Delete(want);
	cJSON_Delete(have);
	cJSON_Delete(diffs);
}

int
plan_networks(struct planner *pl)
{
	const cJSON *d, *actual;
	cJSON *spec;
	int rc;

	cJSON_ArrayForEach(d, pl->s->external_networks)
		if (plan_find(pl, ENGINE_NETWORK, d->valuestring) == NULL)
			return err_set(pl->err, ERR_NOTFOUND, "stack %s: network "
			    "\"%s\" is declared as external, but could not be "
			    "found", pl->s->name, d->valuestring);
	cJSON_ArrayForEach(d, pl->s->networks) {
		const char *name = json_str(d, "Name");

		plan_keep(pl, name);
		/* Networks cannot be updated; an existing one is used as
		 * it is, as docker stack deploy does, but not silently. */
		if ((actual = plan_find(pl, ENGINE_NETWORK, name)) != NULL) {
			network_changed(pl, d, actual);
			continue;
		}
		spec = cJSON_Duplicate(d, true);
		plan_set_labels(pl, json_get(spec, "Labels") ? json_at(spec,
		    "Labels") : cJSON_AddObjectToObject(spec, "Labels"), NULL);
		if ((rc = plan_add_change(pl, RECON_CREATE, ENGINE_NETWORK, name,
		    NULL, spec, NULL)) < 0)
			return rc;
	}
	return 0;
}

/* --- secrets and configs --------------------------------------------- */

/*
 * Secret and config data is immutable.  Each content gets its own object:
 * the plain name (as docker stack deploy names it) while that is free or
 * holds the same content, else "<name>_<hash>".  Services switch to the
 * new one; the old one is removed once nothing uses it.
 */
static int
plan_file_object(struct planner *pl, enum engine_kind k, const cJSON *d)
{
	const char *base = json_str(d, "Name"), *h;
	char hash[13], name[NAME_MAX_SWARM + 1];
	const cJSON *o, *found = NULL;
	cJSON *content, *spec, *labels;

	/* The content: data, driver, templating; not names or labels.  A
	 * SOPS file's data is hashed through its keyed hash, so the hash in
	 * the name and label says nothing to whoever lacks the identity. */
	content = cJSON_Duplicate(d, true);
	cJSON_DeleteItemFromObjectCaseSensitive(content, "Name");
	cJSON_DeleteItemFromObjectCaseSensitive(content, "Labels");
	if (cJSON_GetObjectItemCaseSensitive(content, COMPOSE_KEYED_HASH))
		cJSON_DeleteItemFromObjectCaseSensitive(content, "Data");
	plan_hash_of(content, hash);
	cJSON_Delete(content);
	snprintf(name, sizeof(name), "%.*s_%s", NAME_MAX_SWARM - 13, base,
	    hash);
	cJSON_ArrayForEach(o, plan_observed_list(pl, k)) {
		const char *n = recon_obj_name(k, o);
		h = recon_obj_label(k, o, RECON_LABEL_HASH);
		if (n && h && strcmp(h, hash) == 0 && (strcmp(n, base) == 0 ||
		    strcmp(n, name) == 0))
			found = o;
	}
	/* Adoption: made by docker stack deploy, so no hash label.  A
	 * config's data can be checked; a secret's cannot be read back and
	 * is taken to match its file (see docs). */
	if (found == NULL && (o = plan_find(pl, k, base)) != NULL &&
	    recon_obj_label(k, o, RECON_LABEL_HASH) == NULL && (k == ENGINE_SECRET ||
	    (json_str(json_get(o, "Spec"), "Data") && json_str(d, "Data") &&
	    strcmp(json_str(json_get(o, "Spec"), "Data"), json_str(d, "Data")) == 0)))
		found = o;
	if (found == NULL && plan_find(pl, k, base) == NULL)
		snprintf(name, sizeof(name), "%s", base);
	if (found != NULL)
		snprintf(name, sizeof(name), "%s", recon_obj_name(k, found));
	cJSON_AddStringToObject(pl->renames, base, name);
	plan_keep(pl, name);
	spec = cJSON_Duplicate(d, true);
	cJSON_DeleteItemFromObjectCaseSensitive(spec, COMPOSE_KEYED_HASH);
	cJSON_ReplaceItemInObjectCaseSensitive(spec, "Name",
	    cJSON_CreateString(name));
	labels = json_at(spec, "Labels");
	plan_set_labels(pl, labels, hash);
	if (found == NULL)
		return plan_add_change(pl, RECON_CREATE, k, name, NULL, spec, NULL);
	/* Same content: only labels may differ; update them alone. */
	cJSON_DeleteItemFromObjectCaseSensitive(spec, "Data");
	cJSON *diffs = cJSON_CreateArray();
	if (recon_diff(labels, recon_obj_labels(k, found), ".Labels", diffs) == 0) {
		cJSON_Delete(spec);
		cJSON_Delete(diffs);
		return 0;
	}
	return plan_add_change(pl, RECON_UPDATE, k, name, found, spec, diffs);
}

int
plan_file_objects(struct planner *pl)
{
	const cJSON *d;
	int rc;

	cJSON_ArrayForEach(d, pl->s->secrets)
		if ((rc = plan_file_object(pl, ENGINE_SECRET, d)) < 0)
			return rc;
	cJSON_ArrayForEach(d, pl->s->configs)
		if ((rc = plan_file_object(pl, ENGINE_CONFIG, d)) < 0)
			return rc;
	return 0;
}

