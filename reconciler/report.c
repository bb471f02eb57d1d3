/*
 * report.c - what a plan says: one line per change for people (plan's
 * text output), a JSON document for machines (plan --json, the status
 * server), and the spec hashes it attempts (the rollback hold).
 */
#include <stdio.h>
#include <stdlib.h>

#include "json.h"
#include "reconciler.h"

void
recon_plan_attempted(const struct recon_plan *p, size_t n, cJSON *attempted)
{
	for (size_t i = 0; i < n && i < p->n; i++) {
		const struct recon_change *c = &p->changes[i];
		const char *h;

		if (c->kind != ENGINE_SERVICE || c->action == RECON_REMOVE)
			continue;
		h = json_str(json_get(c->spec, "Labels"), RECON_LABEL_HASH);
		cJSON_DeleteItemFromObjectCaseSensitive(attempted, c->name);
		if (h != NULL)
			cJSON_AddStringToObject(attempted, c->name, h);
	}
}

bool
recon_plan_in_sync(const struct recon_plan *p)
{
	return p->n == 0 && cJSON_GetArraySize(p->held) == 0;
}

static const char *const action_names[] = { "create", "update", "remove" };

void
recon_plan_print(const struct recon_plan *p, FILE *f)
{
	const cJSON *d;

	cJSON_ArrayForEach(d, p->notes)
		fprintf(f, "stack %s: note: %s\n", p->stack, d->valuestring);
	cJSON_ArrayForEach(d, p->held)
		fprintf(f, "stack %s: held: %s\n", p->stack, d->valuestring);
	if (p->n == 0) {
		if (cJSON_GetArraySize(p->held) == 0)
			fprintf(f, "stack %s: in sync\n", p->stack);
		return;
	}
	fprintf(f, "stack %s: %zu change%s\n", p->stack, p->n,
	    p->n == 1 ? "" : "s");
	for (size_t i = 0; i < p->n; i++) {
		const struct recon_change *c = &p->changes[i];
		fprintf(f, "  %c %s %s %s\n", "+~-"[c->action],
		    action_names[c->action], engine_kind_name(c->kind),
		    c->name);
		cJSON_ArrayForEach(d, c->diffs)
			fprintf(f, "      %s\n", d->valuestring);
	}
}

cJSON *
recon_plan_json(const struct recon_plan *p)
{
	cJSON *j = cJSON_CreateObject(), *list, *c;

	cJSON_AddStringToObject(j, "stack", p->stack);
	cJSON_AddBoolToObject(j, "in_sync", recon_plan_in_sync(p));
	cJSON_AddItemToObject(j, "held", cJSON_Duplicate(p->held, true));
	cJSON_AddItemToObject(j, "notes", cJSON_Duplicate(p->notes, true));
	list = cJSON_AddArrayToObject(j, "changes");
	for (size_t i = 0; i < p->n; i++) {
		c = cJSON_CreateObject();
		cJSON_AddItemToArray(list, c);
		cJSON_AddStringToObject(c, "action",
		    action_names[p->changes[i].action]);
		cJSON_AddStringToObject(c, "kind",
		    engine_kind_name(p->changes[i].kind));
		cJSON_AddStringToObject(c, "name", p->changes[i].name);
		if (p->changes[i].diffs != NULL)
			cJSON_AddItemToObject(c, "diffs",
			    cJSON_Duplicate(p->changes[i].diffs, true));
	}
	return j;
}
