/*
 * observe.c - one engine's objects in four list calls: services (of any
 * stack), networks, secrets and configs (all: external ones are referred
 * to by name and need their IDs).
 */
#include <string.h>

#include "reconciler.h"

int
recon_observe(struct recon_observed *out, struct engine *e, struct err *err)
{
	cJSON *f = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (engine_filter_add(&f, "label", RECON_LABEL_NS) < 0)
		return err_set(err, ERR_NOMEM, "out of memory");
	if ((rc = engine_object_list(e, ENGINE_SERVICE, f, &out->services,
	    err)) < 0 ||
	    (rc = engine_object_list(e, ENGINE_NETWORK, NULL, &out->networks,
	    err)) < 0 ||
	    (rc = engine_object_list(e, ENGINE_SECRET, NULL, &out->secrets,
	    err)) < 0 ||
	    (rc = engine_object_list(e, ENGINE_CONFIG, NULL, &out->configs,
	    err)) < 0)
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
	memset(o, 0, sizeof(*o));
}
