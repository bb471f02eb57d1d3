/*
 * schema.c - what each compose file version allows, as the CLI checks it.
 *
 * `docker stack deploy` validates every file against the JSON schema of
 * its `version:` (3.0 to 3.13; none, or "3", is 3.13), after
 * interpolation, and refuses keys that came with a later version: a
 * "3.3" file with deploy.placement.max_replicas_per_node is refused, and
 * so is an unquoted version (a number, where the schema wants a string).
 * Every file of a stack must give the same version.  The keys below are
 * those the CLI's schemas add after 3.0 (read from its config_schema_v3.*
 * files); the rest of the schema is the converter's business.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose_int.h"

#define MINOR_LATEST 13

/* A path's components are map keys; "*" is every key of a map, and a list
 * on the way stands for each of its items. */
static const struct { const char *path; int minor; } since[] = {
	{ "secrets", 1 }, { "services.*.secrets", 1 },
	{ "networks.*.attachable", 2 },
	{ "services.*.deploy.endpoint_mode", 2 },
	{ "services.*.ports.target", 2 }, { "services.*.volumes.type", 2 },
	{ "configs", 3 }, { "services.*.configs", 3 },
	{ "services.*.credential_spec", 3 },
	{ "services.*.deploy.placement.preferences", 3 },
	{ "services.*.deploy.update_config.order", 4 },
	{ "services.*.healthcheck.start_period", 4 }, { "volumes.*.name", 4 },
	{ "configs.*.name", 5 }, { "networks.*.name", 5 },
	{ "secrets.*.name", 5 }, { "services.*.isolation", 5 },
	{ "services.*.deploy.resources.reservations.generic_resources", 5 },
	{ "services.*.volumes.tmpfs", 6 },
	{ "services.*.deploy.rollback_config", 7 }, { "services.*.init", 7 },
	{ "configs.*.template_driver", 8 }, { "secrets.*.driver", 8 },
	{ "secrets.*.driver_opts", 8 }, { "secrets.*.template_driver", 8 },
	{ "services.*.credential_spec.config", 8 },
	{ "services.*.deploy.placement.max_replicas_per_node", 8 },
	{ "services.*.cgroupns_mode", 9 },
	{ "services.*.deploy.resources.limits.pids", 9 },
	{ "services.*.healthcheck.start_interval", 12 },
	{ "services.*.networks.*.driver_opts", 13 },
	{ "services.*.oom_score_adj", 13 },
};

/* The version as the CLI reads it: none, or "3", is the latest. */
static void
version_text(const struct ynode *v, char *out, size_t len)
{
	snprintf(out, len, "%s", v == NULL || ynode_is_null(v) ? "" : v->str);
	if (out[0] == '\0' || strcmp(out, "3") == 0)
		snprintf(out, len, "3.%d", MINOR_LATEST);
}

/* An unquoted number: YAML makes it a float, which the schema refuses. */
static bool
is_number(const struct ynode *v)
{
	char *end;

	if (v == NULL || v->quoted || v->kind != YNODE_SCALAR || v->null)
		return false;
	strtod(v->str, &end);
	return end != v->str && *end == '\0';
}

/* "3.N" with N from 0 to 13 (as the CLI has a schema for), else -1. */
static int
version_minor(const char *s)
{
	char *end;
	long n;

	if (strncmp(s, "3.", 2) != 0 || s[2] < '0' || s[2] > '9' ||
	    (s[2] == '0' && s[3] != '\0'))
		return -1;
	n = strtol(s + 2, &end, 10);
	return *end == '\0' && n <= MINOR_LATEST ? (int)n : -1;
}

/* The first node at path under n (items of lists included), or NULL. */
static const struct ynode *
find(const struct ynode *n, const char *path, char *at, size_t atlen)
{
	const char *dot = strchr(path, '.');
	size_t len = dot ? (size_t)(dot - path) : strlen(path), used;
	const struct ynode *hit;

	if (n->kind == YNODE_SEQ) {
		for (size_t i = 0; i < n->n; i++)
			if ((hit = find(n->vals[i], path, at, atlen)) != NULL)
				return hit;
		return NULL;
	}
	if (n->kind != YNODE_MAP)
		return NULL;
	for (size_t i = 0; i < n->n; i++) {
		const char *k = n->keys[i]->str;
		if (!(len == 1 && path[0] == '*') && (strlen(k) != len ||
		    strncmp(k, path, len) != 0))
			continue;
		used = strlen(at);
		snprintf(at + used, atlen - used, "%s%s", used ? "." : "", k);
		if (dot == NULL)
			return n->keys[i];
		if ((hit = find(n->vals[i], dot + 1, at, atlen)) != NULL)
			return hit;
		at[used] = '\0';
	}
	return NULL;
}

int
conv_schema_check(struct conv *c, const struct ynode *top, const char *first)
{
	char text[64], at[CONV_PATH_MAX];
	const struct ynode *v = ynode_get(top, "version"), *hit;
	int minor;

	if (is_number(v))
		return conv_fail(c, v, "version", "must be a string (write "
		    "\"%s\"; docker stack deploy refuses a number)", v->str);
	version_text(v, text, sizeof(text));
	if (first != NULL && strcmp(first, text) != 0)
		return conv_fail(c, v ? v : top, "version", "version %s differs "
		    "from the first file's %s (docker stack deploy wants one "
		    "version for all files)", text, first);
	if ((minor = version_minor(text)) < 0)
		return conv_fail(c, v, "version", "unsupported compose file "
		    "version \"%s\": docker stack deploy takes 3.0 to 3.%d",
		    text, MINOR_LATEST);
	for (size_t i = 0; i < sizeof(since) / sizeof(since[0]); i++) {
		if (minor >= since[i].minor)
			continue;
		at[0] = '\0';
		if ((hit = find(top, since[i].path, at, sizeof(at))) != NULL)
			return conv_fail(c, hit, at, "needs compose file version "
			    "3.%d or later (the file says %s; docker stack "
			    "deploy refuses it too)", since[i].minor, text);
	}
	return 0;
}

void
conv_schema_version(const struct ynode *top, char *out, size_t len)
{
	version_text(ynode_get(top, "version"), out, len);
}
