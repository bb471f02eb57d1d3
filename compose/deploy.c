/*
 * deploy.c - a service's deploy: block (mode and replicas, resources,
 * restart, update and rollback policies, placement), as docker/cli's
 * convert/service.go turns it into ServiceSpec fields.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose_int.h"

/* deploy.restart_policy, else the legacy restart: key. */
static int
restart_policy(struct conv *c, const struct ynode *svc, const char *path,
    cJSON *tt)
{
	static const char *const keys[] = { "condition", "delay",
	    "max_attempts", "window", NULL };
	const struct ynode *rp = ynode_get(ynode_get(svc, "deploy"),
	    "restart_policy"), *legacy = ynode_get(svc, "restart");
	char p[CONV_PATH_MAX];
	cJSON *o;
	int rc;

	conv_path(p, "%s.deploy.restart_policy", path);
	if (rp != NULL && !ynode_is_null(rp)) {
		if ((rc = conv_map(c, rp, p)) < 0 ||
		    (rc = conv_keys(c, rp, p, keys)) < 0)
			return rc;
		o = cJSON_AddObjectToObject(tt, "RestartPolicy");
		if ((rc = conv_add_str(c, o, "Condition", rp, "condition", p)) < 0 ||
		    (rc = conv_add_duration(c, o, "Delay", rp, "delay", p)) < 0 ||
		    (rc = conv_add_int(c, o, "MaxAttempts", rp, "max_attempts",
		    p)) < 0 ||
		    (rc = conv_add_duration(c, o, "Window", rp, "window", p)) < 0)
			return rc;
		return 0;
	}
	if (legacy == NULL || ynode_is_null(legacy))
		return 0;
	if (legacy->kind != YNODE_SCALAR)
		return conv_fail(c, legacy, conv_path(p, "%s.restart", path),
		    "must be a string (no, always, on-failure[:N], "
		    "unless-stopped)");
	if (strcmp(legacy->str, "no") == 0 || *legacy->str == '\0')
		return 0;
	o = cJSON_AddObjectToObject(tt, "RestartPolicy");
	if (strcmp(legacy->str, "always") == 0 ||
	    strcmp(legacy->str, "unless-stopped") == 0)
		cJSON_AddStringToObject(o, "Condition", "any");
	else if (strncmp(legacy->str, "on-failure", 10) == 0) {
		cJSON_AddStringToObject(o, "Condition", "on-failure");
		if (legacy->str[10] == ':')
			cJSON_AddNumberToObject(o, "MaxAttempts",
			    strtod(legacy->str + 11, NULL));
	} else
		return conv_fail(c, legacy, conv_path(p, "%s.restart", path),
		    "unknown restart policy \"%s\"", legacy->str);
	return 0;
}

static int
update_config(struct conv *c, const struct ynode *u, const char *path,
    const char *field, cJSON *spec)
{
	static const char *const keys[] = { "parallelism", "delay",
	    "failure_action", "monitor", "max_failure_ratio", "order", NULL };
	const struct ynode *v;
	cJSON *o;
	double ratio;
	int rc;

	if (u == NULL || ynode_is_null(u))
		return 0;
	if ((rc = conv_map(c, u, path)) < 0 ||
	    (rc = conv_keys(c, u, path, keys)) < 0)
		return rc;
	o = cJSON_AddObjectToObject(spec, field);
	/* Parallelism defaults to 1 only when the block exists. */
	if (ynode_get(u, "parallelism") == NULL)
		cJSON_AddNumberToObject(o, "Parallelism", 1);
	if ((rc = conv_add_int(c, o, "Parallelism", u, "parallelism", path)) < 0 ||
	    (rc = conv_add_duration(c, o, "Delay", u, "delay", path)) < 0 ||
	    (rc = conv_add_str(c, o, "FailureAction", u, "failure_action",
	    path)) < 0 ||
	    (rc = conv_add_duration(c, o, "Monitor", u, "monitor", path)) < 0 ||
	    (rc = conv_add_str(c, o, "Order", u, "order", path)) < 0)
		return rc;
	if ((v = ynode_get(u, "max_failure_ratio")) != NULL) {
		char p[CONV_PATH_MAX];
		if ((rc = conv_float(c, v, conv_path(p, "%s.max_failure_ratio",
		    path), &ratio)) < 0)
			return rc;
		cJSON_AddNumberToObject(o, "MaxFailureRatio", ratio);
	}
	return 0;
}

static int
limits(struct conv *c, const struct ynode *l, const char *path, cJSON *o,
    bool reservation)
{
	const struct ynode *v;
	char p[CONV_PATH_MAX];
	int64_t n;
	int rc;

	if ((v = ynode_get(l, "cpus")) != NULL && !ynode_is_null(v)) {
		if ((rc = conv_nanocpus(c, v, conv_path(p, "%s.cpus", path),
		    &n)) < 0)
			return rc;
		cJSON_AddNumberToObject(o, "NanoCPUs", (double)n);
	}
	if ((v = ynode_get(l, "memory")) != NULL && !ynode_is_null(v)) {
		if ((rc = conv_bytes(c, v, conv_path(p, "%s.memory", path),
		    &n)) < 0)
			return rc;
		cJSON_AddNumberToObject(o, "MemoryBytes", (double)n);
	}
	if (!reservation)
		return conv_add_int(c, o, "Pids", l, "pids", path);
	if ((v = ynode_get(l, "generic_resources")) != NULL) {
		cJSON *list = cJSON_AddArrayToObject(o, "GenericResources");
		for (size_t i = 0; v->kind == YNODE_SEQ && i < v->n; i++) {
			const struct ynode *d = ynode_get(v->vals[i],
			    "discrete_resource_spec");
			cJSON *g = cJSON_CreateObject(), *ds;
			cJSON_AddItemToArray(list, g);
			ds = cJSON_AddObjectToObject(g, "DiscreteResourceSpec");
			conv_path(p, "%s.generic_resources[%zu]", path, i);
			if ((rc = conv_add_str(c, ds, "Kind", d, "kind", p)) < 0 ||
			    (rc = conv_add_int(c, ds, "Value", d, "value", p)) < 0)
				return rc;
		}
	}
	return 0;
}

static int
resources(struct conv *c, const struct ynode *r, const char *path,
    cJSON *tt)
{
	static const char *const keys[] = { "limits", "reservations", NULL };
	static const char *const lkeys[] = { "cpus", "memory", "pids", NULL };
	static const char *const rkeys[] = { "cpus", "memory",
	    "generic_resources", "devices", NULL };
	cJSON *o = cJSON_AddObjectToObject(tt, "Resources");
	const struct ynode *l;
	char p[CONV_PATH_MAX];
	int rc;

	if (r == NULL || ynode_is_null(r))
		return 0;
	if ((rc = conv_map(c, r, path)) < 0 ||
	    (rc = conv_keys(c, r, path, keys)) < 0)
		return rc;
	if ((l = ynode_get(r, "limits")) != NULL && !ynode_is_null(l)) {
		conv_path(p, "%s.limits", path);
		if ((rc = conv_keys(c, l, p, lkeys)) < 0 ||
		    (rc = limits(c, l, p, cJSON_AddObjectToObject(o, "Limits"),
		    false)) < 0)
			return rc;
	}
	if ((l = ynode_get(r, "reservations")) != NULL && !ynode_is_null(l)) {
		conv_path(p, "%s.reservations", path);
		if ((rc = conv_keys(c, l, p, rkeys)) < 0 ||
		    (rc = limits(c, l, p, cJSON_AddObjectToObject(o,
		    "Reservations"), true)) < 0)
			return rc;
	}
	return 0;
}

static int
placement(struct conv *c, const struct ynode *pl, const char *path,
    cJSON *tt)
{
	static const char *const keys[] = { "constraints", "preferences",
	    "max_replicas_per_node", NULL };
	cJSON *o = cJSON_AddObjectToObject(tt, "Placement"), *list;
	const struct ynode *v;
	char p[CONV_PATH_MAX];
	int rc;

	if (pl == NULL || ynode_is_null(pl))
		return 0;
	if ((rc = conv_map(c, pl, path)) < 0 ||
	    (rc = conv_keys(c, pl, path, keys)) < 0)
		return rc;
	if ((v = ynode_get(pl, "constraints")) != NULL) {
		if ((rc = conv_strlist(c, v, conv_path(p, "%s.constraints",
		    path), false, &list)) < 0)
			return rc;
		if (cJSON_GetArraySize(list) > 0)
			cJSON_AddItemToObject(o, "Constraints", list);
		else
			cJSON_Delete(list);
	}
	if ((v = ynode_get(pl, "preferences")) != NULL && v->kind == YNODE_SEQ
	    && v->n > 0) {
		list = cJSON_AddArrayToObject(o, "Preferences");
		for (size_t i = 0; i < v->n; i++) {
			cJSON *pref = cJSON_CreateObject(), *spread;
			cJSON_AddItemToArray(list, pref);
			spread = cJSON_AddObjectToObject(pref, "Spread");
			if ((rc = conv_add_str(c, spread, "SpreadDescriptor",
			    v->vals[i], "spread", conv_path(p,
			    "%s.preferences[%zu]", path, i))) < 0)
				return rc;
		}
	}
	return conv_add_int(c, o, "MaxReplicas", pl, "max_replicas_per_node", path);
}

static int
mode(struct conv *c, const struct ynode *deploy, const char *path,
    cJSON *spec)
{
	const struct ynode *m = ynode_get(deploy, "mode");
	const struct ynode *r = ynode_get(deploy, "replicas");
	const char *name = "replicated";
	cJSON *o = cJSON_AddObjectToObject(spec, "Mode"), *x;
	char p[CONV_PATH_MAX];
	int64_t n = 0;
	int rc;

	if (m != NULL && !ynode_is_null(m) && (rc = conv_str(c, m,
	    conv_path(p, "%s.mode", path), &name)) < 0)
		return rc;
	if (r != NULL && !ynode_is_null(r) && (rc = conv_int(c, r,
	    conv_path(p, "%s.replicas", path), &n)) < 0)
		return rc;
	if (r != NULL && ynode_is_null(r))
		r = NULL;
	if (strcmp(name, "global") == 0 || strcmp(name, "global-job") == 0) {
		if (r != NULL)
			return conv_fail(c, r, conv_path(p, "%s.replicas",
			    path), "replicas can only be used with replicated "
			    "or replicated-job mode");
		cJSON_AddObjectToObject(o, name[6] ? "GlobalJob" : "Global");
	} else if (strcmp(name, "replicated") == 0) {
		x = cJSON_AddObjectToObject(o, "Replicated");
		if (r != NULL)
			cJSON_AddNumberToObject(x, "Replicas", (double)n);
	} else if (strcmp(name, "replicated-job") == 0) {
		/* The CLI runs all completions at once. */
		x = cJSON_AddObjectToObject(o, "ReplicatedJob");
		cJSON_AddNumberToObject(x, "MaxConcurrent", (double)(r ? n : 1));
		cJSON_AddNumberToObject(x, "TotalCompletions",
		    (double)(r ? n : 1));
	} else
		return conv_fail(c, m, conv_path(p, "%s.mode", path), "unknown "
		    "mode \"%s\"", name);
	return 0;
}

int
conv_deploy(struct conv *c, const struct ynode *svc, const char *path,
    cJSON *spec, cJSON *tt)
{
	static const char *const keys[] = { "mode", "replicas", "labels",
	    "update_config", "rollback_config", "resources", "restart_policy",
	    "placement", "endpoint_mode", NULL };
	const struct ynode *d = ynode_get(svc, "deploy");
	char p[CONV_PATH_MAX];
	int rc;

	conv_path(p, "%s.deploy", path);
	if ((rc = conv_map(c, d, p)) < 0 || (rc = conv_keys(c, d, p,
	    keys)) < 0)
		return rc;
	if ((rc = mode(c, d, p, spec)) < 0 ||
	    (rc = resources(c, ynode_get(d, "resources"), conv_path(p,
	    "%s.deploy.resources", path), tt)) < 0 ||
	    (rc = restart_policy(c, svc, path, tt)) < 0 ||
	    (rc = placement(c, ynode_get(d, "placement"), conv_path(p,
	    "%s.deploy.placement", path), tt)) < 0 ||
	    (rc = update_config(c, ynode_get(d, "update_config"), conv_path(p,
	    "%s.deploy.update_config", path), "UpdateConfig", spec)) < 0 ||
	    (rc = update_config(c, ynode_get(d, "rollback_config"),
	    conv_path(p, "%s.deploy.rollback_config", path), "RollbackConfig",
	    spec)) < 0)
		return rc;
	return 0;
}
