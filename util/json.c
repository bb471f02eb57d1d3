/*
 * json.c - null-tolerant cJSON readers, and one writer (see json.h).
 */
#include <string.h>

#include "json.h"

const cJSON *
json_get(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

const char *
json_str(const cJSON *o, const char *key)
{
	const cJSON *v = json_get(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

double
json_num(const cJSON *o, const char *key)
{
	return cJSON_GetNumberValue(json_get(o, key));
}

cJSON *
json_at(cJSON *o, const char *key)
{
	return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) :
	    NULL;
}

void
json_add_unique(cJSON *arr, const char *s)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, arr)
		if (cJSON_IsString(it) && strcmp(it->valuestring, s) == 0)
			return;
	cJSON_AddItemToArray(arr, cJSON_CreateString(s));
}

bool
json_same(const cJSON *a, const cJSON *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if ((a->type & 0xff) != (b->type & 0xff))
		return false;
	if ((a->string == NULL) != (b->string == NULL) ||
	    (a->string != NULL && strcmp(a->string, b->string) != 0))
		return false;
	/* One list of members (a reference shares its target's): the
	 * same members, not walked twice. */
	if (a->child != NULL && a->child == b->child)
		return true;
	switch (a->type & 0xff) {
	case cJSON_Number:
		return a->valuedouble == b->valuedouble;
	case cJSON_String:
	case cJSON_Raw:
		return strcmp(a->valuestring, b->valuestring) == 0;
	case cJSON_Array:
	case cJSON_Object:
		for (a = a->child, b = b->child; a != NULL && b != NULL;
		    a = a->next, b = b->next)
			if (!json_same(a, b))
				return false;
		return a == NULL && b == NULL;
	default:	/* true, false, null */
		return true;
	}
}
