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
