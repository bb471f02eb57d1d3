/*
 * values.c - typed reads of ynode values, with the units the docker CLI
 * uses: Go durations, RAMInBytes sizes, exact CPU fractions.
 *
 * A quoted scalar is a string, as in the CLI's JSON schema: `replicas:
 * "3"` is an error there and here.  A value produced by interpolation is
 * cast like the CLI casts it (`replicas: ${N}` is an integer).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "compose_int.h"
#include "duration.h"

const char *
conv_path(char *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, CONV_PATH_MAX, fmt, ap);
	va_end(ap);
	return out;
}

int
conv_fail(struct conv *c, const struct ynode *n, const char *path,
    const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = ynode_verror(c->err, n, path, fmt, ap);
	va_end(ap);
	return rc;
}

static const char *
kind_name(const struct ynode *n)
{
	if (n->kind == YNODE_MAP)
		return "a mapping";
	if (n->kind == YNODE_SEQ)
		return "a list";
	return "a value";
}

int
conv_str(struct conv *c, const struct ynode *n, const char *path,
    const char **out)
{
	if (n == NULL || n->kind != YNODE_SCALAR)
		return conv_fail(c, n, path, "expected a string, got %s",
		    n ? kind_name(n) : "nothing");
	*out = n->str;
	return 0;
}

/* Plain (or interpolated) scalars may be numbers or booleans. */
static bool
castable(const struct ynode *n)
{
	return n != NULL && n->kind == YNODE_SCALAR &&
	    (!n->quoted || n->interpolated);
}

int
conv_int(struct conv *c, const struct ynode *n, const char *path,
    int64_t *out)
{
	char *end;
	long long v;

	if (castable(n) && *n->str != '\0') {
		errno = 0;
		v = strtoll(n->str, &end, 10);
		if (*end == '\0' && errno == 0) {
			*out = v;
			return 0;
		}
	}
	if (n == NULL || n->kind != YNODE_SCALAR)
		return conv_fail(c, n, path, "expected an integer, got %s",
		    n ? kind_name(n) : "nothing");
	return conv_fail(c, n, path, "expected an integer, got \"%s\"",
	    n->str);
}

int
conv_float(struct conv *c, const struct ynode *n, const char *path,
    double *out)
{
	char *end;

	if (castable(n) && *n->str != '\0') {
		*out = strtod(n->str, &end);
		if (*end == '\0' && isfinite(*out))
			return 0;
	}
	return conv_fail(c, n, path, "expected a number, got %s%s%s",
	    n && n->kind == YNODE_SCALAR ? "\"" : "",
	    n && n->kind == YNODE_SCALAR ? n->str : n ? kind_name(n) :
	    "nothing", n && n->kind == YNODE_SCALAR ? "\"" : "");
}

int
conv_bool(struct conv *c, const struct ynode *n, const char *path,
    bool *out)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };

	if (castable(n)) {
		for (int i = 0; i < 3; i++) {
			if (strcmp(n->str, yes[i]) == 0)
				return *out = true, 0;
			if (strcmp(n->str, no[i]) == 0)
				return *out = false, 0;
		}
	}
	return conv_fail(c, n, path, "expected true or false, got %s%s%s",
	    n && n->kind == YNODE_SCALAR ? "\"" : "",
	    n && n->kind == YNODE_SCALAR ? n->str : n ? kind_name(n) :
	    "nothing", n && n->kind == YNODE_SCALAR ? "\"" : "");
}

int
conv_duration(struct conv *c, const struct ynode *n, const char *path,
    int64_t *out)
{
	if (n == NULL || n->kind != YNODE_SCALAR ||
	    duration_parse(n->str, out) < 0)
		return conv_fail(c, n, path, "expected a duration like 10s or "
		    "1m30s, got %s%s%s", n && n->kind == YNODE_SCALAR ? "\"" :
		    "", n && n->kind == YNODE_SCALAR ? n->str : "not a value",
		    n && n->kind == YNODE_SCALAR ? "\"" : "");
	return 0;
}

/* go-units RAMInBytes: ^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$ */
static int
parse_bytes(const char *s, int64_t *out)
{
	static const char prefixes[] = "kmgtp";
	const char *p = s, *pre;
	long double v, mult = 1;
	char *end;

	if (!isdigit((unsigned char)*p))
		return -1;
	v = strtold(p, &end);
	p = end;
	if (*p == ' ')
		p++;
	if (*p != '\0' && (pre = strchr(prefixes,
	    tolower((unsigned char)*p))) != NULL) {
		for (long i = 0; i <= pre - prefixes; i++)
			mult *= 1024;
		p++;
	}
	if (*p == 'i' || *p == 'I')
		p++;
	if (*p == 'b' || *p == 'B')
		p++;
	if (*p != '\0' || v * mult > (long double)INT64_MAX)
		return -1;
	*out = (int64_t)(v * mult);
	return 0;
}

int
conv_bytes(struct conv *c, const struct ynode *n, const char *path,
    int64_t *out)
{
	if (n == NULL || n->kind != YNODE_SCALAR || parse_bytes(n->str,
	    out) < 0)
		return conv_fail(c, n, path, "expected a size like 512M or "
		    "1.5G, got %s%s%s", n && n->kind == YNODE_SCALAR ? "\"" :
		    "", n && n->kind == YNODE_SCALAR ? n->str : "not a value",
		    n && n->kind == YNODE_SCALAR ? "\"" : "");
	return 0;
}

int
conv_nanocpus(struct conv *c, const struct ynode *n, const char *path,
    int64_t *out)
{
	const char *p;
	int64_t whole = 0, frac = 0;
	int digits = 0;

	if (n == NULL || n->kind != YNODE_SCALAR)
		return conv_fail(c, n, path, "expected a CPU count like 0.5");
	p = n->str;
	for (; isdigit((unsigned char)*p) && whole < 1000000; p++)
		whole = whole * 10 + (*p - '0');
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++) {
			if (++digits > 9 && *p != '0')
				return conv_fail(c, n, path, "%s: value is too "
				    "precise", n->str);
			if (digits <= 9)
				frac = frac * 10 + (*p - '0');
		}
	if (*p != '\0' || p == n->str)
		return conv_fail(c, n, path, "expected a CPU count like 0.5, "
		    "got \"%s\"", n->str);
	for (; digits < 9; digits++)
		frac *= 10;
	*out = whole * 1000000000 + frac;
	return 0;
}

int
conv_strlist(struct conv *c, const struct ynode *n, const char *path,
    bool single_ok, cJSON **out)
{
	cJSON *a = cJSON_CreateArray();
	char p[CONV_PATH_MAX];

	*out = NULL;
	if (n->kind == YNODE_SCALAR && single_ok && !n->null) {
		cJSON_AddItemToArray(a, cJSON_CreateString(n->str));
	} else if (n->kind == YNODE_SEQ) {
		for (size_t i = 0; i < n->n; i++) {
			conv_path(p, "%s[%zu]", path, i);
			if (n->vals[i]->kind != YNODE_SCALAR) {
				cJSON_Delete(a);
				return conv_fail(c, n->vals[i], p, "expected a "
				    "string, got %s", kind_name(n->vals[i]));
			}
			cJSON_AddItemToArray(a,
			    cJSON_CreateString(n->vals[i]->str));
		}
	} else if (!ynode_is_null(n)) {
		cJSON_Delete(a);
		return conv_fail(c, n, path, "expected a list of strings, got "
		    "%s", kind_name(n));
	}
	*out = a;
	return 0;
}

int
conv_strmap(struct conv *c, const struct ynode *n, const char *path,
    cJSON **out)
{
	cJSON *m = cJSON_CreateObject();
	const struct ynode *v;
	const char *eq;
	char p[CONV_PATH_MAX], key[512];

	*out = NULL;
	for (size_t i = 0; n->kind != YNODE_SCALAR && i < n->n; i++) {
		v = n->vals[i];
		if (n->kind == YNODE_MAP) {
			conv_path(p, "%s.%s", path, n->keys[i]->str);
			if (v->kind != YNODE_SCALAR) {
				cJSON_Delete(m);
				return conv_fail(c, v, p, "expected a string, "
				    "got %s", kind_name(v));
			}
			cJSON_DeleteItemFromObjectCaseSensitive(m,
			    n->keys[i]->str);
			cJSON_AddStringToObject(m, n->keys[i]->str,
			    v->null ? "" : v->str);
			continue;
		}
		conv_path(p, "%s[%zu]", path, i);
		if (v->kind != YNODE_SCALAR) {
			cJSON_Delete(m);
			return conv_fail(c, v, p, "expected \"key=value\", got "
			    "%s", kind_name(v));
		}
		eq = strchr(v->str, '=');
		snprintf(key, sizeof(key), "%.*s", (int)(eq ? (size_t)(eq -
		    v->str) : strlen(v->str)), v->str);
		cJSON_DeleteItemFromObjectCaseSensitive(m, key);
		cJSON_AddStringToObject(m, key, eq ? eq + 1 : "");
	}
	if (n->kind == YNODE_SCALAR && !n->null) {
		cJSON_Delete(m);
		return conv_fail(c, n, path, "expected a mapping or a list of "
		    "\"key=value\"");
	}
	*out = m;
	return 0;
}

int
conv_map(struct conv *c, const struct ynode *n, const char *path)
{
	if (n == NULL || n->kind == YNODE_MAP || ynode_is_null(n))
		return 0;
	return conv_fail(c, n, path, "expected a mapping, got %s",
	    kind_name(n));
}

int
conv_keys(struct conv *c, const struct ynode *n, const char *path,
    const char *const *allowed)
{
	const char *k;
	size_t i, j;

	for (i = 0; n != NULL && n->kind == YNODE_MAP && i < n->n; i++) {
		k = n->keys[i]->str;
		if (strncmp(k, "x-", 2) == 0)
			continue;
		for (j = 0; allowed[j] != NULL; j++)
			if (strcmp(allowed[j], k) == 0)
				break;
		if (allowed[j] == NULL)
			return conv_fail(c, n->keys[i], path, "unknown key "
			    "\"%s\" (docker stack deploy rejects it too)", k);
	}
	return 0;
}

/*
 * Stable sort of a cJSON array: take the items out, insertion-sort the
 * pointers (lists here are short), put them back.  cJSON's own
 * detach-and-insert loses items in Debian's 1.7.15.
 */
int
conv_str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void
conv_sort(cJSON *a, int (*cmp)(const cJSON *, const cJSON *))
{
	int n = cJSON_GetArraySize(a);
	cJSON **items, *x;

	if (n < 2)
		return;
	items = xcalloc((size_t)n, sizeof(*items));
	for (int i = 0; i < n; i++)
		items[i] = cJSON_DetachItemFromArray(a, 0);
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && cmp(items[j - 1], items[j]) > 0; j--) {
			x = items[j];
			items[j] = items[j - 1];
			items[j - 1] = x;
		}
	for (int i = 0; i < n; i++)
		cJSON_AddItemToArray(a, items[i]);
	free(items);
}

/* --- optional fields: add obj.field when parent has key ---------------- */

/* Add a duration field (ns) when key is present. */
int
conv_add_duration(struct conv *c, cJSON *obj, const char *field,
    const struct ynode *parent, const char *key, const char *path)
{
	const struct ynode *v = ynode_get(parent, key);
	char p[CONV_PATH_MAX];
	int64_t ns;
	int rc;

	if (v == NULL || ynode_is_null(v))
		return 0;
	if ((rc = conv_duration(c, v, conv_path(p, "%s.%s", path, key),
	    &ns)) < 0)
		return rc;
	cJSON_AddNumberToObject(obj, field, (double)ns);
	return 0;
}

int
conv_add_int(struct conv *c, cJSON *obj, const char *field,
    const struct ynode *parent, const char *key, const char *path)
{
	const struct ynode *v = ynode_get(parent, key);
	char p[CONV_PATH_MAX];
	int64_t n;
	int rc;

	if (v == NULL || ynode_is_null(v))
		return 0;
	if ((rc = conv_int(c, v, conv_path(p, "%s.%s", path, key), &n)) < 0)
		return rc;
	cJSON_AddNumberToObject(obj, field, (double)n);
	return 0;
}

int
conv_add_str(struct conv *c, cJSON *obj, const char *field,
    const struct ynode *parent, const char *key, const char *path)
{
	const struct ynode *v = ynode_get(parent, key);
	char p[CONV_PATH_MAX];
	const char *s = NULL;
	int rc;

	if (v == NULL || ynode_is_null(v))
		return 0;
	if ((rc = conv_str(c, v, conv_path(p, "%s.%s", path, key), &s)) < 0)
		return rc;
	cJSON_AddStringToObject(obj, field, s);
	return 0;
}

int
conv_add_bool(struct conv *c, cJSON *obj, const char *field,
    const struct ynode *parent, const char *key, const char *path,
    bool only_true)
{
	const struct ynode *v = ynode_get(parent, key);
	char p[CONV_PATH_MAX];
	bool b;
	int rc;

	if (v == NULL || ynode_is_null(v))
		return 0;
	if ((rc = conv_bool(c, v, conv_path(p, "%s.%s", path, key), &b)) < 0)
		return rc;
	if (b || !only_true)
		cJSON_AddBoolToObject(obj, field, b);
	return 0;
}
