/*
 * accessors.c - the fields of observed objects: networks keep Name, Id
 * and Labels at the top, the other kinds under Spec (and ID).
 */
#include <string.h>

#include "json.h"
#include "reconciler_int.h"

const char *
recon_obj_name(enum engine_kind k, const cJSON *o)
{
	return k == ENGINE_NETWORK ? json_str(o, "Name") : json_str(json_get(o, "Spec"),
	    "Name");
}

const char *
recon_obj_id(enum engine_kind k, const cJSON *o)
{
	return json_str(o, k == ENGINE_NETWORK ? "Id" : "ID");
}

const cJSON *
recon_obj_labels(enum engine_kind k, const cJSON *o)
{
	return k == ENGINE_NETWORK ? json_get(o, "Labels") : json_get(json_get(o, "Spec"),
	    "Labels");
}

const char *
recon_obj_label(enum engine_kind k, const cJSON *o, const char *key)
{
	return json_str(recon_obj_labels(k, o), key);
}

bool
recon_object_owned(enum engine_kind k, const cJSON *o, const char *owner)
{
	const char *who = recon_obj_label(k, o, RECON_LABEL_OWNER);

	return who != NULL && strcmp(who, owner ? owner : "stackd") == 0;
}

uint64_t
recon_object_version(const cJSON *o)
{
	const cJSON *v = json_get(json_get(o, "Version"), "Index");

	/* A version is a non-negative integer; anything else (a reply
	 * gone wrong) is 0, which the engine refuses as out of sequence. */
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) ||
	    v->valuedouble > 9007199254740992.0)
		return 0;
	return (uint64_t)v->valuedouble;
}

const cJSON *
recon_observed_list(const struct recon_observed *o, enum engine_kind k)
{
	switch (k) {
	case ENGINE_SERVICE:
		return o->services;
	case ENGINE_NETWORK:
		return o->networks;
	case ENGINE_SECRET:
		return o->secrets;
	default:
		return o->configs;
	}
}
