/*
 * merge.c - several compose files of one stack, merged as the CLI merges
 * them (cli/compose/loader/merge.go).
 *
 * The CLI merges its typed services with mergo (override, slices
 * appended) plus a few special cases, and each type decides what an
 * override does:
 *   - a scalar overrides only when it is not its zero value: "", 0,
 *     false, 0s (`read_only: false` leaves a base `true`); the *uint64
 *     fields (replicas, parallelism, max_attempts, retries) whenever set;
 *   - command and entrypoint are replaced when not empty;
 *   - other lists are appended (cap_add, dns, constraints, even
 *     healthcheck.test);
 *   - ports are keyed by published port, volumes by target, secrets and
 *     configs by source: one entry per key, the override's winning,
 *     sorted by the key; this happens whenever the base service has the
 *     list, so a base with two unpublished ports keeps one of them;
 *   - environment, labels and sysctls merge key by key (an empty or bare
 *     environment value does not override);
 *   - a service network keeps its entry, takes the override's aliases;
 *     logging merges options when the drivers agree (into the base's
 *     options: none there, none taken); each ulimit is replaced;
 *   - top-level networks, volumes, secrets and configs are replaced
 *     whole, key by key.
 * The merge works on the YAML trees, after each file's interpolation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose_int.h"

enum rule {
	R_SCALAR, R_SET, R_REPLACE, R_APPEND, R_MAP, R_ENV, R_STRUCT,
	R_PORTS, R_BY_TARGET, R_BY_SOURCE, R_NETWORKS, R_LOGGING, R_ULIMITS,
};

/* Paths inside a service; anything else is R_SCALAR. */
static const struct { const char *path; enum rule rule; } rules[] = {
	{ "command", R_REPLACE }, { "entrypoint", R_REPLACE },
	{ "cap_add", R_APPEND }, { "cap_drop", R_APPEND }, { "dns", R_APPEND },
	{ "dns_search", R_APPEND }, { "extra_hosts", R_APPEND },
	{ "env_file", R_APPEND }, { "tmpfs", R_APPEND }, { "devices", R_APPEND },
	{ "security_opt", R_APPEND }, { "expose", R_APPEND },
	{ "external_links", R_APPEND }, { "links", R_APPEND },
	{ "depends_on", R_APPEND },
	{ "environment", R_ENV }, { "labels", R_MAP }, { "sysctls", R_MAP },
	{ "ports", R_PORTS }, { "volumes", R_BY_TARGET },
	{ "secrets", R_BY_SOURCE }, { "configs", R_BY_SOURCE },
	{ "networks", R_NETWORKS }, { "logging", R_LOGGING },
	{ "ulimits", R_ULIMITS },
	{ "healthcheck", R_STRUCT }, { "healthcheck.test", R_APPEND },
	{ "healthcheck.retries", R_SET }, { "credential_spec", R_STRUCT },
	{ "build", R_STRUCT },
	{ "deploy", R_STRUCT }, { "deploy.labels", R_MAP },
	{ "deploy.replicas", R_SET },
	{ "deploy.update_config", R_STRUCT },
	{ "deploy.update_config.parallelism", R_SET },
	{ "deploy.rollback_config", R_STRUCT },
	{ "deploy.rollback_config.parallelism", R_SET },
	{ "deploy.restart_policy", R_STRUCT },
	{ "deploy.restart_policy.max_attempts", R_SET },
	{ "deploy.resources", R_STRUCT }, { "deploy.resources.limits", R_STRUCT },
	{ "deploy.resources.reservations", R_STRUCT },
	{ "deploy.resources.reservations.generic_resources", R_APPEND },
	{ "deploy.placement", R_STRUCT },
	{ "deploy.placement.constraints", R_APPEND },
	{ "deploy.placement.preferences", R_APPEND },
};

static enum rule
rule_of(const char *path)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (strcmp(rules[i].path, path) == 0)
			return rules[i].rule;
	return R_SCALAR;
}

/* --- nodes ---------------------------------------------------------- */

/* Index of key in map n, or -1. */
static long
find(const struct ynode *n, const char *key)
{
	for (size_t i = 0; n->kind == YNODE_MAP && i < n->n; i++)
		if (n->keys[i] != NULL && strcmp(n->keys[i]->str, key) == 0)
			return (long)i;
	return -1;
}

/* Move *from into *to, freeing what *to held. */
static void
take(struct ynode **to, struct ynode **from)
{
	ynode_free(*to);
	*to = *from;
	*from = NULL;
}

/* A Go zero value: null, "", false, 0, a zero duration (quoted too), an
 * empty list or map. */
static bool
zero(const struct ynode *n)
{
	static const char *const zeros[] = { "0", "0.0", "false" };
	static const char *const durations[] = { "0s", "0ms", "0m", "0h",
	    "0us", "0ns" };

	if (n == NULL || ynode_is_null(n))
		return true;
	if (n->kind != YNODE_SCALAR)
		return n->n == 0;
	if (n->str[0] == '\0')
		return true;
	for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++)
		if (strcmp(n->str, durations[i]) == 0)
			return true;
	for (size_t i = 0; !n->quoted && i < sizeof(zeros) / sizeof(zeros[0]);
	    i++)
		if (strcmp(n->str, zeros[i]) == 0)
			return true;
	return false;
}

static int
str_order(const void *a, const void *b)
{
	return strcmp((*(struct ynode *const *)a)->str,
	    (*(struct ynode *const *)b)->str);
}

/* --- lists and maps in the forms the loader gives them ---------------- */

/* A string is a list of one; healthcheck.test's is a shell command. */
static void
as_list(struct ynode **n, bool shell)
{
	struct ynode *seq;

	if ((*n)->kind == YNODE_SEQ)
		return;
	seq = ynode_new(YNODE_SEQ, *n, NULL);
	if ((*n)->kind == YNODE_MAP) {	/* extra_hosts: sorted "k:v" */
		char line[1024];
		for (size_t i = 0; i < (*n)->n; i++) {
			if (ynode_is_null((*n)->vals[i]))
				continue;
			snprintf(line, sizeof(line), "%s:%s", (*n)->keys[i]->str,
			    (*n)->vals[i]->str);
			ynode_add(seq, NULL, ynode_new(YNODE_SCALAR, *n, line));
		}
		qsort(seq->vals, seq->n, sizeof(*seq->vals), str_order);
	} else if (!ynode_is_null(*n)) {
		if (shell)
			ynode_add(seq, NULL, ynode_new(YNODE_SCALAR, *n,
			    "CMD-SHELL"));
		ynode_add(seq, NULL, *n);
		*n = seq;
		return;
	}
	ynode_free(*n);
	*n = seq;
}

/* "k=v" items as a map (a bare "k": null for environment, "" else). */
static void
as_map(struct ynode **n, bool env)
{
	struct ynode *map;

	if ((*n)->kind == YNODE_MAP)
		return;
	map = ynode_new(YNODE_MAP, *n, NULL);
	for (size_t i = 0; (*n)->kind == YNODE_SEQ && i < (*n)->n; i++) {
		const char *s = (*n)->vals[i]->str, *eq = strchr(s, '=');
		char key[512];
		struct ynode *v;
		long at;

		snprintf(key, sizeof(key), "%.*s", (int)(eq ? eq - s :
		    (long)strlen(s)), s);
		v = ynode_new(YNODE_SCALAR, (*n)->vals[i], eq ? eq + 1 : "");
		v->null = eq == NULL && env;
		if ((at = find(map, key)) >= 0) {	/* later wins */
			ynode_free(map->vals[at]);
			map->vals[at] = v;
		} else
			ynode_add(map, ynode_new(YNODE_SCALAR, (*n)->vals[i],
			    key), v);
	}
	ynode_free(*n);
	*n = map;
}

/* --- the rules ---------------------------------------------------------- */

static int merge_map(struct conv *c, struct ynode *d, struct ynode *s,
    const char *prefix, const char *where);

/* Move s's items to the end of d. */
static void
append(struct ynode **d, struct ynode **s, bool shell)
{
	as_list(d, shell);
	as_list(s, shell);
	for (size_t i = 0; i < (*s)->n; i++) {
		ynode_add(*d, NULL, (*s)->vals[i]);
		(*s)->vals[i] = NULL;
	}
}

/* Key by key; env: an empty or bare override leaves a set value. */
static void
merge_pairs(struct ynode **d, struct ynode **s, bool env)
{
	as_map(d, env);
	as_map(s, env);
	for (size_t i = 0; i < (*s)->n; i++) {
		long at = find(*d, (*s)->keys[i]->str);
		if (at < 0) {
			ynode_add(*d, (*s)->keys[i], (*s)->vals[i]);
			(*s)->keys[i] = (*s)->vals[i] = NULL;
		} else if (!env || ynode_is_null((*d)->vals[at]) ||
		    !zero((*s)->vals[i]))
			take(&(*d)->vals[at], &(*s)->vals[i]);
	}
}

/* A service's networks: an entry given again keeps what it had, but
 * takes the override's aliases (even none) and addresses. */
static void
merge_networks(struct ynode **d, struct ynode **s)
{
	static const char *const addrs[] = { "ipv4_address", "ipv6_address" };

	as_map(d, true);
	as_map(s, true);
	for (size_t i = 0; i < (*s)->n; i++) {
		long at = find(*d, (*s)->keys[i]->str), k;
		struct ynode *dv, *sv = (*s)->vals[i];

		if (at < 0) {
			ynode_add(*d, (*s)->keys[i], sv);
			(*s)->keys[i] = (*s)->vals[i] = NULL;
			continue;
		}
		if (zero(sv))
			continue;
		if (ynode_is_null(dv = (*d)->vals[at])) {
			take(&(*d)->vals[at], &(*s)->vals[i]);
			continue;
		}
		if ((k = find(dv, "aliases")) >= 0) {
			ynode_free(dv->vals[k]);
			dv->vals[k] = ynode_new(YNODE_SEQ, dv, NULL);
		}
		for (size_t j = 0; j < sv->n; j++) {
			const char *key = sv->keys[j]->str;
			bool addr = strcmp(key, addrs[0]) == 0 ||
			    strcmp(key, addrs[1]) == 0;
			if (strcmp(key, "aliases") != 0 && (!addr ||
			    zero(sv->vals[j])))
				continue;
			if ((k = find(dv, key)) >= 0)
				take(&dv->vals[k], &sv->vals[j]);
			else {
				ynode_add(dv, sv->keys[j], sv->vals[j]);
				sv->keys[j] = sv->vals[j] = NULL;
			}
		}
	}
}

/* The same driver (or one not given): options merge; else replaced. */
static void
merge_logging(struct ynode **d, struct ynode **s)
{
	const struct ynode *dd = ynode_get(*d, "driver");
	const struct ynode *sd = ynode_get(*s, "driver");
	long at;

	if ((*d)->kind != YNODE_MAP || (*s)->kind != YNODE_MAP) {
		if (!zero(*s))
			take(d, s);
		return;
	}
	if (!zero(dd) && !zero(sd) && strcmp(dd->str, sd->str) != 0) {
		take(d, s);
		return;
	}
	if (zero(dd) && !zero(sd)) {
		at = find(*s, "driver");
		ynode_add(*d, (*s)->keys[at], (*s)->vals[at]);
		(*s)->keys[at] = (*s)->vals[at] = NULL;
	}
	/* The CLI merges into a copy of the base's options map: without
	 * one in the base, the override's options are lost. */
	if ((at = find(*s, "options")) >= 0) {
		long o = find(*d, "options");
		if (o >= 0 && (*d)->vals[o]->kind == YNODE_MAP)
			merge_pairs(&(*d)->vals[o], &(*s)->vals[at], false);
	}
}

static int
merge_value(struct conv *c, struct ynode **d, struct ynode **s,
    const char *path, const char *where)
{
	char p[CONV_PATH_MAX];
	enum rule r = rule_of(path);

	if (ynode_is_null(*d) && r != R_SCALAR && r != R_SET) {
		take(d, s);
		return 0;
	}
	switch (r) {
	case R_SET:
		if (!ynode_is_null(*s))
			take(d, s);
		return 0;
	case R_APPEND:
		append(d, s, strcmp(path, "healthcheck.test") == 0);
		return 0;
	case R_MAP:
	case R_ENV:
		merge_pairs(d, s, r == R_ENV);
		return 0;
	case R_STRUCT:
		if ((*d)->kind == YNODE_MAP && (*s)->kind == YNODE_MAP)
			return merge_map(c, *d, *s, path, where);
		break;
	case R_PORTS:
		return conv_merge_by_published(c, d, *s, conv_path(p,
		    "%s.ports", where));
	case R_BY_TARGET:
	case R_BY_SOURCE:
		conv_merge_by_field(d, *s, r == R_BY_TARGET);
		return 0;
	case R_NETWORKS:
		merge_networks(d, s);
		return 0;
	case R_LOGGING:
		merge_logging(d, s);
		return 0;
	case R_ULIMITS:
		if ((*d)->kind == YNODE_MAP && (*s)->kind == YNODE_MAP)
			return merge_map(c, *d, *s, path, where);
		break;
	default:
		break;
	}
	if (!zero(*s))		/* R_SCALAR, R_REPLACE and the rest */
		take(d, s);
	return 0;
}

static int
merge_map(struct conv *c, struct ynode *d, struct ynode *s, const char *prefix,
    const char *where)
{
	char path[CONV_PATH_MAX];
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < s->n; i++) {
		long at;

		if (s->keys[i] == NULL)		/* taken already */
			continue;
		if ((at = find(d, s->keys[i]->str)) < 0) {
			ynode_add(d, s->keys[i], s->vals[i]);
			s->keys[i] = s->vals[i] = NULL;
			continue;
		}
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "",
		    s->keys[i]->str);
		rc = merge_value(c, &d->vals[at], &s->vals[i], path, where);
	}
	return rc;
}

/* Each file's environment is resolved (env_file folded in, variables
 * filled) before the merge, as the CLI loads each file; the merged one
 * replaces both files' environment and env_file. */
static int
merge_env(struct conv *c, struct ynode *d, struct ynode *s, const char *name)
{
	static const char *const keys[] = { "environment", "env_file" };
	cJSON *de = NULL, *se = NULL, *it;
	struct ynode *map;
	long at;
	int rc;

	if ((rc = conv_env_resolve(c, name, d, &de)) < 0 ||
	    (rc = conv_env_resolve(c, name, s, &se)) < 0)
		goto out;
	cJSON_ArrayForEach(it, se) {
		cJSON *have = cJSON_GetObjectItemCaseSensitive(de, it->string);
		bool set = cJSON_IsString(it) && *it->valuestring != '\0';
		/* an empty base value takes the override's, even a bare one */
		if (have == NULL || !cJSON_IsString(have) ||
		    *have->valuestring == '\0' || set) {
			cJSON_DeleteItemFromObjectCaseSensitive(de, it->string);
			cJSON_AddItemToObject(de, it->string,
			    cJSON_Duplicate(it, false));
		}
	}
	map = ynode_new(YNODE_MAP, d, NULL);
	cJSON_ArrayForEach(it, de) {
		struct ynode *v = ynode_new(YNODE_SCALAR, d, cJSON_IsString(it) ?
		    it->valuestring : "");
		v->null = !cJSON_IsString(it);
		ynode_add(map, ynode_new(YNODE_SCALAR, d, it->string), v);
	}
	for (size_t i = 0; i < 2; i++) {
		if ((at = find(d, keys[i])) >= 0) {
			ynode_free(d->vals[at]);
			d->vals[at] = ynode_new(YNODE_SCALAR, d, NULL);
			d->vals[at]->null = true;
		}
		if ((at = find(s, keys[i])) >= 0) {
			ynode_free(s->keys[at]);
			ynode_free(s->vals[at]);
			s->keys[at] = s->vals[at] = NULL;
		}
	}
	if ((at = find(d, "environment")) >= 0)
		take(&d->vals[at], &map);
	else
		ynode_add(d, ynode_new(YNODE_SCALAR, d, "environment"), map);
out:
	cJSON_Delete(de);
	cJSON_Delete(se);
	return rc;
}

/* A service in both files; the keyed lists of the base are keyed even
 * when the override does not give them. */
static int
merge_service(struct conv *c, struct ynode *d, struct ynode *s,
    const char *name)
{
	static const char *const keyed[] = { "ports", "volumes", "secrets",
	    "configs" };
	char where[CONV_PATH_MAX];
	struct ynode *none = NULL;
	bool given[4];
	int rc;

	conv_path(where, "services.%s", name);
	for (size_t i = 0; i < 4; i++)
		given[i] = find(s, keyed[i]) >= 0;
	if ((find(d, "environment") >= 0 || find(d, "env_file") >= 0 ||
	    find(s, "environment") >= 0 || find(s, "env_file") >= 0) &&
	    (rc = merge_env(c, d, s, name)) < 0)
		return rc;
	if ((rc = merge_map(c, d, s, "", where)) < 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < 4; i++) {
		long at = find(d, keyed[i]);
		if (at >= 0 && !given[i] && d->vals[at]->kind == YNODE_SEQ)
			rc = merge_value(c, &d->vals[at], &none, keyed[i], where);
	}
	return rc;
}

int
conv_merge(struct conv *c, struct ynode *top, struct ynode *next)
{
	static const char *const whole[] = { "networks", "volumes", "secrets",
	    "configs" };
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < next->n; i++) {
		const char *sect = next->keys[i]->str;
		long at = find(top, sect);
		struct ynode *d, *s = next->vals[i];
		bool services = strcmp(sect, "services") == 0, objects = false;

		for (size_t k = 0; k < 4; k++)
			objects |= strcmp(sect, whole[k]) == 0;
		if (!services && !objects)	/* version, x-: the first's */
			continue;
		if (at < 0 || ynode_is_null(top->vals[at])) {
			if (at >= 0)
				take(&top->vals[at], &next->vals[i]);
			else {
				ynode_add(top, next->keys[i], s);
				next->keys[i] = next->vals[i] = NULL;
			}
			continue;
		}
		d = top->vals[at];
		for (size_t j = 0; rc == 0 && s->kind == YNODE_MAP && j < s->n;
		    j++) {
			long have = find(d, s->keys[j]->str);
			if (have < 0) {
				ynode_add(d, s->keys[j], s->vals[j]);
				s->keys[j] = s->vals[j] = NULL;

			} else if (services && d->vals[have]->kind == YNODE_MAP &&
			    s->vals[j]->kind == YNODE_MAP)
				rc = merge_service(c, d->vals[have], s->vals[j],
				    s->keys[j]->str);
			else
				take(&d->vals[have], &s->vals[j]);
		}
	}
	return rc;
}

