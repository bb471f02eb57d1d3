/*
 * json.h - null-tolerant readers for the engine's JSON: each returns
 * NULL (or 0) when o is NULL, not an object, or lacks the key, so deep
 * lookups chain without a check at every level; json_add_unique; shared
 * keys (json_keys.c), packed trees (json_pack.c) and arrays split as they
 * arrive (json_split.c).
 */
#ifndef STACKD_JSON_H
#define STACKD_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "buf.h"

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

/* A copy of tree in one allocation (util/json_pack.c), a quarter smaller
 * than cJSON's own, for trees kept long and never changed: cJSON_Delete
 * of the copy frees it whole, and nothing inside it may be deleted,
 * detached, replaced or shared (json_keys_share) on its own.  Share the
 * keys before packing: shared keys stay shared. */
cJSON *json_pack(const cJSON *tree);
/* tree as it is kept from now on (taken): keys shared, then packed. */
cJSON *json_keep(cJSON *tree);

/* A JSON array parsed one element at a time as its text arrives
 * (util/json_split.c), so that only one element's text is held: fn gets
 * each element parsed and owns it; non-zero from fn stops the split. */
typedef int (*json_split_fn)(cJSON *item, void *payload);
struct json_split {
	json_split_fn fn;
	void *payload;
	struct buf elem;	/* the text of the element in flight */
	size_t count;		/* elements handed over */
	int depth;		/* of [ and { inside the element */
	bool open, closed, comma, in_str, esc, bad;
};
/* elem_max bounds one element's text. */
void json_split_init(struct json_split *s, size_t elem_max, json_split_fn fn,
    void *payload);
/* 0, or -1 once the text is not a JSON array (or an element passed
 * elem_max, or fn said stop); then it stays -1. */
int json_split_feed(struct json_split *s, const char *p, size_t n);
/* 0 when what was fed is one whole array. */
int json_split_end(const struct json_split *s);
void json_split_release(struct json_split *s);

#endif
