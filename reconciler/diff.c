/*
 * diff.c - desired spec against the spec the engine returns.
 *
 * The rule: every field stackd sends must come back equal, and every field
 * only the engine has must be a default (false, 0, "", empty, or one of
 * the values the engine fills in, below).  That needs no list of every
 * field the engine may add, and still sees a hand-made change: a new field
 * with a real value, or a changed one.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "path.h"
#include "reconciler.h"

/* Values the engine fills in when the request left them out
 * (reference §3.1); matched against the end of the path. */
static const struct { const char *suffix; const char *value; } fills[] = {
	{ ".TaskTemplate.Runtime", "container" },
	{ ".ContainerSpec.Isolation", "default" },
	{ ".EndpointSpec.Mode", "vip" },
	{ "].Protocol", "tcp" },
	{ "].PublishMode", "ingress" },
	{ ".UpdateConfig.FailureAction", "pause" },
	{ ".UpdateConfig.Order", "stop-first" },
	{ ".RollbackConfig.FailureAction", "pause" },
	{ ".RollbackConfig.Order", "stop-first" },
	{ ".RestartPolicy.Condition", "any" },
	{ ".Replicated.Replicas", "1" },
};

/* Fields that are never compared: the engine owns them. */
static bool
ignored(const char *path)
{
	return path_has_suffix(path, ".TaskTemplate.ForceUpdate") ||
	    path_has_suffix(path, ".Placement.Platforms") ||
	    path_has_suffix(path, "].Consistency");
}

/* Fields of newer API versions: an older engine drops them without a
 * word, so their absence from the engine's reply is no drift (a hand-made
 * change to one that is there still is). */
static bool
newer_than_engine(const char *path)
{
	return path_has_suffix(path, ".Healthcheck.StartInterval");	/* 1.44 */
}

static bool
is_default(const cJSON *v, const char *path)
{
	const cJSON *c;
	char num[32];

	if (v == NULL || cJSON_IsNull(v) || cJSON_IsFalse(v))
		return true;
	for (size_t i = 0; i < sizeof(fills) / sizeof(fills[0]); i++) {
		if (!path_has_suffix(path, fills[i].suffix))
			continue;
		if (cJSON_IsString(v) && strcmp(v->valuestring,
		    fills[i].value) == 0)
			return true;
		/* A number the engine fills in has exactly that value by
		 * default: Replicas 0 where the file leaves it out (the
		 * engine's 1) is a hand-made scale to zero. */
		snprintf(num, sizeof(num), "%g", v->valuedouble);
		if (cJSON_IsNumber(v))
			return strcmp(num, fills[i].value) == 0;
	}
	if (cJSON_IsNumber(v))
		return v->valuedouble == 0;
	if (cJSON_IsString(v))
		return *v->valuestring == '\0';
	if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
		cJSON_ArrayForEach(c, v) {
			char sub[512];
			snprintf(sub, sizeof(sub), "%s.%s", path,
			    c->string ? c->string : "[]");
			if (!is_default(c, sub))
				return false;
		}
		return true;
	}
	return false;
}

static void
note(cJSON *diffs, const char *path, const cJSON *old, const cJSON *new)
{
	char *a = old ? cJSON_PrintUnformatted(old) : NULL;
	char *b = new ? cJSON_PrintUnformatted(new) : NULL;
	char line[1024];

	if (diffs != NULL) {
		/* Paths start with '.', drop it for people. */
		snprintf(line, sizeof(line), "%s: %.300s -> %.300s",
		    path[0] == '.' ? path + 1 : path, a ? a : "(none)",
		    b ? b : "(none)");
		cJSON_AddItemToArray(diffs, cJSON_CreateString(line));
	}
	cJSON_free(a);
	cJSON_free(b);
}

/* The same image however it is written: a service made by an older
 * stackd or by hand may say "docker.io/library/nginx" for "nginx:latest",
 * and rewriting it would restart every task for nothing. */
static bool
image_equal(const char *desired, const char *actual)
{
	char a[COMPOSE_IMAGE_MAX];

	if (strcmp(desired, actual) == 0)
		return true;
	compose_image_normalize(actual, a, sizeof(a));
	return strcmp(desired, a) == 0;
}

static bool
scalar_equal(const cJSON *d, const cJSON *a, const char *path)
{
	if (cJSON_IsString(d) && cJSON_IsString(a) &&
	    path_has_suffix(path, ".ContainerSpec.Image"))
		return image_equal(d->valuestring, a->valuestring);
	if (cJSON_IsNumber(d) && cJSON_IsNumber(a))
		return fabs(d->valuedouble - a->valuedouble) < 1e-9;
	if (cJSON_IsString(d) && cJSON_IsString(a))
		return strcmp(d->valuestring, a->valuestring) == 0;
	if (cJSON_IsBool(d) && cJSON_IsBool(a))
		return cJSON_IsTrue(d) == cJSON_IsTrue(a);
	return cJSON_IsNull(d) && cJSON_IsNull(a);
}

/* A port's string field, or what the engine fills in for it (fills[]). */
static const char *
port_str(const cJSON *p, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);
	char suffix[32];

	if (cJSON_IsString(v) && *v->valuestring)
		return v->valuestring;
	snprintf(suffix, sizeof(suffix), "].%s", key);
	for (size_t i = 0; i < sizeof(fills) / sizeof(fills[0]); i++)
		if (strcmp(fills[i].suffix, suffix) == 0)
			return fills[i].value;
	return "";
}

static double
port_num(const cJSON *p, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* Ports in an order of their own, the engine's defaults filled in. */
static int
port_order(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	static const char *const nums[] = { "TargetPort", "PublishedPort" };
	int r;

	if ((r = strcmp(port_str(x, "Protocol"), port_str(y, "Protocol"))) != 0 ||
	    (r = strcmp(port_str(x, "PublishMode"),
	    port_str(y, "PublishMode"))) != 0)
		return r;
	for (int i = 0; i < 2; i++)
		if (port_num(x, nums[i]) != port_num(y, nums[i]))
			return port_num(x, nums[i]) < port_num(y, nums[i]) ?
			    -1 : 1;
	return 0;
}

/*
 * The engine treats a service's ports as a set: the CLI's order (by
 * published port, unstable beyond 12) and any other are the same spec, so
 * an adopted stack shows no drift for the order alone.  Compared in an
 * order of their own; -1 when it cannot (sizes differ, no memory).
 */
static int
diff_ports(const cJSON *desired, const cJSON *actual, const char *path,
    cJSON *diffs)
{
	int n = cJSON_GetArraySize(desired), k = 0, rc = 0;
	const cJSON **d, **a, *c;
	char sub[512];

	if (n != cJSON_GetArraySize(actual) || n == 0)
		return -1;
	d = xcalloc((size_t)n, sizeof(*d));
	a = xcalloc((size_t)n, sizeof(*a));
	cJSON_ArrayForEach(c, desired)
		d[k++] = c;
	k = 0;
	cJSON_ArrayForEach(c, actual)
		a[k++] = c;
	qsort(d, (size_t)n, sizeof(*d), port_order);
	qsort(a, (size_t)n, sizeof(*a), port_order);
	for (int i = 0; i < n; i++) {
		snprintf(sub, sizeof(sub), "%s[%d]", path, i);
		rc += recon_diff(d[i], a[i], sub, diffs);
	}
	free(d);
	free(a);
	return rc;
}

int
recon_diff(const cJSON *desired, const cJSON *actual, const char *path,
    cJSON *diffs)
{
	char sub[512];
	const cJSON *c;
	int n = 0, i = 0;

	if (ignored(path))
		return 0;
	if (desired == NULL || cJSON_IsNull(desired)) {
		if (is_default(actual, path))
			return 0;
		note(diffs, path, actual, NULL);
		return 1;
	}
	if (actual == NULL) {
		if (is_default(desired, path) || newer_than_engine(path))
			return 0;
		note(diffs, path, NULL, desired);
		return 1;
	}
	if (cJSON_IsObject(desired) && cJSON_IsObject(actual)) {
		cJSON_ArrayForEach(c, desired) {
			snprintf(sub, sizeof(sub), "%s.%s", path, c->string);
			n += recon_diff(c, cJSON_GetObjectItemCaseSensitive(
			    actual, c->string), sub, diffs);
		}
		cJSON_ArrayForEach(c, actual) {
			if (cJSON_GetObjectItemCaseSensitive(desired,
			    c->string) != NULL)
				continue;
			snprintf(sub, sizeof(sub), "%s.%s", path, c->string);
			n += recon_diff(NULL, c, sub, diffs);
		}
		return n;
	}
	if (cJSON_IsArray(desired) && cJSON_IsArray(actual) &&
	    path_has_suffix(path, ".EndpointSpec.Ports") &&
	    (n = diff_ports(desired, actual, path, diffs)) >= 0)
		return n;
	n = 0;
	if (cJSON_IsArray(desired) && cJSON_IsArray(actual) &&
	    cJSON_GetArraySize(desired) == cJSON_GetArraySize(actual)) {
		cJSON_ArrayForEach(c, desired) {
			snprintf(sub, sizeof(sub), "%s[%d]", path, i);
			n += recon_diff(c, cJSON_GetArrayItem(actual, i++), sub,
			    diffs);
		}
		return n;
	}
	if (!cJSON_IsObject(desired) && !cJSON_IsArray(desired) &&
	    scalar_equal(desired, actual, path))
		return 0;
	/* An empty list or map on one side and nothing on the other. */
	if (is_default(desired, path) && is_default(actual, path))
		return 0;
	note(diffs, path, actual, desired);
	return 1;
}
