/*
 * cmd_render.c - `stackd render`: the Engine API objects a stack file
 * becomes, as one JSON document; secret data is never printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "compose.h"
#include "controller.h"

static const char render_usage[] =
    "usage: stackd render -f FILE [-f FILE]... -s STACK [--vars FILE]...\n"
    "                     [--var KEY=VALUE]... [--env-inherit] [--strict-vars]\n"
    "                     [--interpolation docker-cli|compose-spec] [--root DIR]\n"
    "\n"
    "Print the networks, secrets, configs and services STACK becomes, each\n"
    "the body of its Engine API create call, as one JSON document.\n";

/* Replace Data by "<redacted, N bytes, sha256:...>". */
static void
redact(cJSON *secrets)
{
	unsigned char md[EVP_MAX_MD_SIZE], *raw;
	unsigned int mdlen = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1], text[256];
	cJSON *s, *data;
	size_t len, pad;
	int n;

	cJSON_ArrayForEach(s, secrets) {
		data = cJSON_GetObjectItemCaseSensitive(s, "Data");
		if (!cJSON_IsString(data))
			continue;
		len = strlen(data->valuestring);
		if ((raw = malloc(len / 4 * 3 + 4)) == NULL)
			continue;
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
		snprintf(text, sizeof(text), "<redacted, %d bytes, sha256:%s>",
		    n, hex);
		cJSON_ReplaceItemInObjectCaseSensitive(s, "Data",
		    cJSON_CreateString(text));
	}
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
	if (compose_stack_load(&stack, &so.compose, &err) < 0) {
		fprintf(stderr, "stackd: %s\n", err.msg);
		goto out;
	}
	for (size_t i = 0; i < stack->nwarnings; i++)
		fprintf(stderr, "stackd: warning: %s\n", stack->warnings[i]);
	redact(stack->secrets);
	doc = cJSON_CreateObject();
	cJSON_AddItemReferenceToObject(doc, "networks", stack->networks);
	cJSON_AddItemReferenceToObject(doc, "external_networks",
	    stack->external_networks);
	cJSON_AddItemReferenceToObject(doc, "secrets", stack->secrets);
	cJSON_AddItemReferenceToObject(doc, "configs", stack->configs);
	cJSON_AddItemReferenceToObject(doc, "services", stack->services);
	if ((text = cJSON_Print(doc)) != NULL) {
		printf("%s\n", text);
		free(text);
		rc = 0;
	}
out:
	cJSON_Delete(doc);
	compose_stack_free(stack);
	controller_stack_options_release(&so);
	return rc;
}
