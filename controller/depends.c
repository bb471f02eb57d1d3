/*
 * depends.c - the order between stacks: depends_on in a stacks.list
 * entry and x-stackd.depends_on in a stack's files.  On each engine a
 * stack is written only once every stack it depends on is synced and
 * healthy there (the daemon says which are); a name no stack has, or a
 * cycle, fails the stacks concerned and no other.
 */
#include <stdio.h>
#include <string.h>

#include "controller.h"
#include "json.h"

cJSON *
ctl_depends_of(const struct ctl_config *c, const char *stack,
    const struct compose_stack *loaded)
{
	const cJSON *def, *it, *list = c != NULL ? c->stack_list : NULL;
	const cJSON *own = loaded != NULL ? loaded->depends_on : NULL;
	cJSON *out = cJSON_CreateArray();

	cJSON_ArrayForEach(def, list)
		if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(def,
		    "name")), stack) == 0)
			cJSON_ArrayForEach(it, cJSON_GetObjectItem(def,
			    "depends_on"))
				json_add_unique(out, it->valuestring);
	cJSON_ArrayForEach(it, own)
		json_add_unique(out, it->valuestring);
	if (cJSON_GetArraySize(out) == 0) {
		cJSON_Delete(out);
		return NULL;
	}
	return out;
}

/* Does from lead back to target through graph?  path grows with the
 * walk: " -> b -> a". */
static bool
reaches(const cJSON *graph, const char *from, const char *target,
    cJSON *seen, char *path, size_t size)
{
	const cJSON *d;
	size_t len = strlen(path);

	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(graph, from)) {
		snprintf(path + len, size - len, " -> %s", d->valuestring);
		if (strcmp(d->valuestring, target) == 0)
			return true;
		if (cJSON_HasObjectItem(seen, d->valuestring))
			continue;
		cJSON_AddTrueToObject(seen, d->valuestring);
		if (reaches(graph, d->valuestring, target, seen, path, size))
			return true;
	}
	path[len] = '\0';
	return false;
}

int
ctl_depends_check(const cJSON *graph, const char *stack,
    bool (*known)(const char *name, void *payload), void *payload,
    char *why, size_t size)
{
	const cJSON *d;
	cJSON *seen;
	bool cycle;

	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(graph, stack))
		if (!known(d->valuestring, payload)) {
			snprintf(why, size, "depends_on names %s, which is no "
			    "stack here", d->valuestring);
			return -1;
		}
	seen = cJSON_CreateObject();
	snprintf(why, size, "depends_on cycle: %s", stack);
	cycle = reaches(graph, stack, stack, seen, why, size);
	cJSON_Delete(seen);
	return cycle ? -1 : 0;
}
