/*
 * cmd_render.c - `stackd render`: the Engine API objects a stack file
 * becomes, as one JSON document; secret data is never printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "alloc.h"
#include "compose.h"
#include "controller.h"
#include "json.h"
#include "reconciler.h"

static const char render_usage[] =
    "usage: stackd render -f FILE [-f FILE]... -s STACK [--vars FILE]...\n"
    "                     [--var KEY=VALUE]... [--env-inherit] [--strict-vars]\n"
    "                     [--interpolation docker-cli|compose-spec] [--root DIR]\n"
    "                     [--resolve-image always|changed|never [--engine URL]]\n"
    "                     [--sops-age-key-file FILE]\n"
    "\n"
    "Print the networks, secrets, configs and services STACK becomes, each\n"
    "the body of its Engine API create call, as one JSON document.  Offline,\n"
    "images are as the file writes them; with --resolve-image they are pinned\n"
    "as apply would pin them, asking the engine (DOCKER_HOST or --engine).\n";

/* Replace Data by "<redacted, N bytes, sha256:...>"; data from a SOPS
 * file shows no plain hash (a weak secret could be guessed from it), and
 * only_sops leaves the rest alone (configs). */
static void
redact(cJSON *secrets, bool only_sops)
{
	unsigned char md[EVP_MAX_MD_SIZE], *raw;
	unsigned int mdlen = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1], text[256];
	cJSON *s, *data;
	size_t len, pad;
	int n;

	cJSON_ArrayForEach(s, secrets) {
		bool sops = cJSON_GetObjectItemCaseSensitive(s,
		    COMPOSE_KEYED_HASH) != NULL;

		data = cJSON_GetObjectItemCaseSensitive(s, "Data");
		if (!cJSON_IsString(data) || (only_sops && !sops))
			continue;
		len = strlen(data->valuestring);
		raw = xmalloc(len / 4 * 3 + 4);
		n = EVP_DecodeBlock(raw, (unsigned char *)data->valuestring,
		    (int)len);
		pad = len >= 2 ? (data->valuestring[len - 1] == '=') +
		    (data->valuestring[len - 2] == '=') : 0;
		n = n < 0 ? 0 : n - (int)pad;
		EVP_Digest(raw, (size_t)n, md, &mdlen, EVP_sha256(), NULL);
		explicit_bzero(raw, len / 4 * 3 + 4);
		free(raw);
		for (unsigned int i = 0; i < mdlen; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		if (sops)
			snprintf(text, sizeof(text), "<redacted, %d bytes, from "
			    "a SOPS file>", n);
		else
			snprintf(text, sizeof(text), "<redacted, %d bytes, "
			    "sha256:%s>", n, hex);
		cJSON_ReplaceItemInObjectCaseSensitive(s, "Data",
		    cJSON_CreateString(text));
	}
}

/* A stack that read SOPS files may carry their values in any variable:
 * every environment value is left out (the names stay). */
static void
redact_env(cJSON *services)
{
	cJSON *svc, *e;

	cJSON_ArrayForEach(svc, services) {
		cJSON *env = json_at(json_at(json_at(svc, "TaskTemplate"),
		    "ContainerSpec"), "Env");

		cJSON_ArrayForEach(e, env) {
			char *eq = strchr(e->valuestring, '='), line[1024];
			if (eq == NULL)
				continue;
			snprintf(line, sizeof(line), "%.*s=<redacted: the stack "
			    "reads SOPS files>", (int)(eq - e->valuestring),
			    e->valuestring);
			explicit_bzero(eq, strlen(eq));
			cJSON_SetValuestring(e, line);
		}
	}
}

/* --resolve-image: the images pinned as apply pins them, against what
 * the engine runs (changed and never keep a running pin). */
static int
pin_images(struct compose_stack *stack, const struct controller_stack_opts *so)
{
	struct engine_config cfg;
	struct engine *e = NULL;
	struct recon_observed obs = { 0 };
	struct recon_options ro = { .resolve = so->resolve };
	cJSON *notes = cJSON_CreateArray(), *svc, *it;
	struct err err;
	int rc = -1;

	engine_config_from_env(&cfg);
	if (so->engine != NULL) {
		free(cfg.host);
		cfg.host = xstrdup(so->engine);
	}
	ro.images = images_cache_new(IMAGES_POLL_MS, 0, NULL, NULL);
	if (engine_open(&e, &cfg, &err) < 0 ||
	    recon_observe(&obs, e, &err) < 0)
		goto out;
	recon_stack_resolve(stack, &obs, &ro, e, &err);
	cJSON_ArrayForEach(svc, stack->services)
		recon_service_pin(svc, recon_observed_find(&obs, ENGINE_SERVICE,
		    cJSON_GetStringValue(cJSON_GetObjectItem(svc, "Name"))), &ro,
		    notes);
	cJSON_ArrayForEach(it, notes)
		fprintf(stderr, "stackd: note: %s\n", it->valuestring);
	rc = 0;
out:
	if (rc < 0)
		fprintf(stderr, "stackd: %s\n", err.msg);
	cJSON_Delete(notes);
	images_cache_free(ro.images);
	recon_observed_release(&obs);
	engine_free(e);
	engine_config_release(&cfg);
	return rc;
}

int
controller_cmd_render(int argc, char **argv)
{
	struct controller_stack_opts so;
	struct compose_stack *stack = NULL;
	cJSON *doc = NULL;
	struct err err;
	char *text;
	int rc = 1;

	if (controller_stack_options(&so, argc, argv, render_usage,
	    false) != 0)
		return so.help ? 0 : 1;
	so.compose.sops.decrypted = cJSON_CreateArray();
	if (compose_stack_load(&stack, &so.compose, &err) < 0) {
		fprintf(stderr, "stackd: %s\n", err.msg);
		goto out;
	}
	for (size_t i = 0; i < stack->nwarnings; i++)
		fprintf(stderr, "stackd: warning: %s\n", stack->warnings[i]);
	if (so.resolve_set && so.resolve != IMAGES_NEVER &&
	    pin_images(stack, &so) < 0)
		goto out;
	redact(stack->secrets, false);
	redact(stack->configs, true);
	if (cJSON_GetArraySize(so.compose.sops.decrypted) > 0)
		redact_env(stack->services);
	doc = cJSON_CreateObject();
	cJSON_AddItemReferenceToObject(doc, "networks", stack->networks);
	cJSON_AddItemReferenceToObject(doc, "external_networks",
	    stack->external_networks);
	cJSON_AddItemReferenceToObject(doc, "secrets", stack->secrets);
	cJSON_AddItemReferenceToObject(doc, "configs", stack->configs);
	cJSON_AddItemReferenceToObject(doc, "services", stack->services);
	text = cJSON_Print(doc);
	printf("%s\n", text);
	free(text);
	rc = 0;
out:
	cJSON_Delete(doc);
	cJSON_Delete(so.compose.sops.decrypted);
	compose_stack_free(stack);
	controller_stack_options_release(&so);
	return rc;
}
