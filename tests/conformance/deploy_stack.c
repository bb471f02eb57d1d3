/*
 * deploy_stack - the conformance test's stand-in for `stackd apply`:
 * convert a stack with compose/ and create every object on a fresh stack
 * through engine/ (networks, secrets, configs, then services, with secret
 * and config IDs resolved by name, as the CLI does).  Create only: the
 * reconciler owns diffing and updates.
 *
 *   deploy_stack -f FILE -s STACK [--vars FILE]...   (engine: DOCKER_HOST)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "compose.h"
#include "controller.h"
#include "engine.h"

/* The ID of the object named exactly name (the name filter is a prefix). */
static int
id_by_name(struct engine *e, enum engine_kind kind, const char *name,
    char *out, size_t outlen, struct err *err)
{
	cJSON *f = NULL, *list = NULL, *it;
	int rc;

	engine_filter_add(&f, "name", name);
	rc = engine_object_list(e, kind, f, &list, err);
	cJSON_Delete(f);
	if (rc < 0)
		return rc;
	rc = err_set(err, ERR_NOTFOUND, "%s not found: %s",
	    engine_kind_name(kind), name);
	cJSON_ArrayForEach(it, list) {
		cJSON *spec = cJSON_GetObjectItemCaseSensitive(it, "Spec");
		cJSON *n = cJSON_GetObjectItemCaseSensitive(spec, "Name");
		if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0) {
			snprintf(out, outlen, "%s", cJSON_GetObjectItemCaseSensitive(
			    it, "ID")->valuestring);
			rc = 0;
		}
	}
	cJSON_Delete(list);
	return rc;
}

static int
resolve_refs(struct engine *e, cJSON *svc, struct err *err)
{
	static const struct { const char *list, *name, *id; enum engine_kind k; }
	    refs[] = {
		{ "Secrets", "SecretName", "SecretID", ENGINE_SECRET },
		{ "Configs", "ConfigName", "ConfigID", ENGINE_CONFIG },
	};
	cJSON *cs = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(svc, "TaskTemplate"),
	    "ContainerSpec"), *r;
	char id[128];
	int rc;

	for (int i = 0; i < 2; i++)
		cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(cs,
		    refs[i].list)) {
			const char *name = cJSON_GetObjectItemCaseSensitive(r,
			    refs[i].name)->valuestring;
			if ((rc = id_by_name(e, refs[i].k, name, id,
			    sizeof(id), err)) < 0)
				return rc;
			cJSON_AddStringToObject(r, refs[i].id, id);
		}
	return 0;
}

static int
deploy(struct engine *e, struct compose_stack *s, struct err *err)
{
	cJSON *it, *got = NULL;
	int rc = 0;

	cJSON_ArrayForEach(it, s->external_networks) {
		const char *n = it->valuestring;
		if ((rc = engine_object_inspect(e, ENGINE_NETWORK, n, &got,
		    err)) < 0)
			return err_set(err, rc, "network \"%s\" is declared as "
			    "external, but could not be found", n);
		cJSON_Delete(got);
	}
	cJSON_ArrayForEach(it, s->networks)
		if ((rc = engine_object_create(e, ENGINE_NETWORK, it, NULL,
		    err)) < 0)
			return rc;
	cJSON_ArrayForEach(it, s->secrets)
		if ((rc = engine_object_create(e, ENGINE_SECRET, it, NULL,
		    err)) < 0)
			return rc;
	cJSON_ArrayForEach(it, s->configs)
		if ((rc = engine_object_create(e, ENGINE_CONFIG, it, NULL,
		    err)) < 0)
			return rc;
	cJSON_ArrayForEach(it, s->services)
		if ((rc = resolve_refs(e, it, err)) < 0 ||
		    (rc = engine_object_create(e, ENGINE_SERVICE, it, NULL,
		    err)) < 0)
			return rc;
	return 0;
}

int
main(int argc, char **argv)
{
	struct controller_stack_opts so;
	struct engine_config cfg;
	struct compose_stack *s = NULL;
	struct engine *e = NULL;
	struct err err;
	int rc = 1;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (controller_stack_options(&so, argc, argv,
	    "usage: deploy_stack -f FILE -s STACK [--vars FILE]...\n") != 0)
		return 1;
	if (engine_config_from_env(&cfg, &err) < 0 ||
	    compose_stack_load(&s, &so.compose, &err) < 0 ||
	    engine_open(&e, &cfg, &err) < 0 || deploy(e, s, &err) < 0)
		fprintf(stderr, "deploy_stack: %s\n", err.msg);
	else
		rc = 0;
	compose_stack_free(s);
	engine_free(e);
	engine_config_release(&cfg);
	controller_stack_options_release(&so);
	curl_global_cleanup();
	return rc;
}
