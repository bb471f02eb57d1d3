/*
 * json.h - null-tolerant readers for the engine's JSON: each returns
 * NULL (or 0) when o is NULL, not an object, or lacks the key, so deep
 * lookups chain without a check at every level; and json_add_unique.
 */
#ifndef STACKD_JSON_H
#define STACKD_JSON_H

#include <stdbool.h>

#include <cjson/cJSON.h>

const cJSON *json_get(const cJSON *o, const char *key);
/* The same, for a document being changed. */
cJSON *json_at(cJSON *o, const char *key);
/* The string value of key, or NULL when it is missing or not a string. */
const char *json_str(const cJSON *o, const char *key);
/* The number value of key, or 0. */
double json_num(const cJSON *o, const char *key);
/* Append string s to array arr unless an equal string is there. */
void json_add_unique(cJSON *arr, const char *s);
/* Are a and b the same document, members in the same order?  Linear,
 * where cJSON_Compare looks every key up (quadratic); documents built
 * by the same code differ in order only when their content does. */
bool json_same(const cJSON *a, const cJSON *b);
/* Make the keys of tree's members point to one process-wide copy of each
 * (util/json_keys.c): for trees kept long, such as the engine's objects
 * and the converted stacks.  Thread-safe. */
void json_keys_share(cJSON *tree);

#endif
