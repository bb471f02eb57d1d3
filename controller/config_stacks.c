/*
 * config_stacks.c - stackd.yaml's stacks: section: the policies every
 * stack follows, the engines each stack goes to, and stacks.list, the
 * stacks named with their files and policies of their own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"

static const char *const policy_keys[] = { "prune_secrets",
    "keep_replicas", "allow_empty", "env_inherit", "strict_vars", "engines",
    "prune_limit", "list", "interpolation", "resolve_image", "image_poll",
    "image_timeout", "sync_timeout", "hook_timeout", NULL };
static const char *const list_keys[] = { "name", "source", "files", "vars",
    "engines", "keep_replicas", "prune", "interpolation", "resolve_image",
    "sync_timeout", "hook_timeout", "suspend", "depends_on", NULL };

static bool
engine_known(const struct ctl_config *c, const char *name)
{
	for (size_t i = 0; i < c->nengines; i++)
		if (strcmp(c->engines[i].name, name) == 0)
			return true;
	return false;
}

/* The engines stack goes to: l, a list of engine names. */
static int
target(struct reader *r, struct ctl_config *c, const char *stack,
    const struct ynode *l)
{
	cJSON *arr = cJSON_CreateArray();
	char path[128];

	snprintf(path, sizeof(path), "stacks.engines.%.80s", stack);
	if (c->targets == NULL)
		c->targets = cJSON_CreateObject();
	cJSON_AddItemToObject(c->targets, stack, arr);
	if (l->kind != YNODE_SEQ)
		return cfg_bad(r, l, path, "must be a list of engine names");
	for (size_t j = 0; j < l->n; j++) {
		if (l->vals[j]->kind != YNODE_SCALAR ||
		    !engine_known(c, l->vals[j]->str))
			return cfg_bad(r, l->vals[j], path, "\"%s\" is not an "
			    "engine named under engines:", l->vals[j]->kind ==
			    YNODE_SCALAR ? l->vals[j]->str : "?");
		cJSON_AddItemToArray(arr, cJSON_CreateString(l->vals[j]->str));
	}
	return 0;
}

/* stacks.engines: {stack: [engine, ...]}, every engine named above. */
static int
targets(struct reader *r, struct ctl_config *c, const struct ynode *n)
{
	int rc;

	if (n->kind != YNODE_MAP)
		return cfg_bad(r, n, "stacks.engines", "must map stack names to "
		    "lists of engine names");
	for (size_t i = 0; i < n->n; i++)
		if ((rc = target(r, c, n->keys[i]->str, n->vals[i])) < 0)
			return rc;
	return 0;
}

bool
ctl_config_targets(const struct ctl_config *c, const char *stack,
    const char *engine)
{
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(c->targets, stack);
	const cJSON *it;

	if (l == NULL)
		return true;
	cJSON_ArrayForEach(it, l)
		if (strcmp(it->valuestring, engine) == 0)
			return true;
	return false;
}

/* A list of paths inside the source root, into a JSON array. */
static int
rel_paths(struct reader *r, const struct ynode *n, const char *path,
    bool required, cJSON *out)
{
	if (n == NULL && !required)
		return 0;
	if (n == NULL || n->kind != YNODE_SEQ || (required && n->n == 0))
		return cfg_bad(r, n, path, "must be a list of files%s",
		    required ? " (at least one)" : "");
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *f = n->vals[i];
		if (f->kind != YNODE_SCALAR || *f->str == '\0' ||
		    *f->str == '/' || strcmp(f->str, "..") == 0 ||
		    strncmp(f->str, "../", 3) == 0 || strstr(f->str, "/../") ||
		    (strlen(f->str) >= 3 &&
		    strcmp(f->str + strlen(f->str) - 3, "/..") == 0))
			return cfg_bad(r, f, path, "\"%s\" must be a path inside "
			    "the source (relative, no \"..\")",
			    f->kind == YNODE_SCALAR ? f->str : "?");
		cJSON_AddItemToArray(out, cJSON_CreateString(f->str));
	}
	return 0;
}

/* A listed stack's source, by name: required when there are several,
 * else the only one.  Recorded in the entry (o) as "source". */
static int
stack_source(struct reader *r, const struct ctl_config *c,
    const struct ynode *s, size_t i, cJSON *o)
{
	const struct ynode *v = ynode_get(s, "source");
	char path[64];

	snprintf(path, sizeof(path), "stacks.list[%zu].source", i);
	if (v == NULL) {
		if (c->nsources > 1)
			return cfg_bad(r, s, path, "is required: there are "
			    "several sources");
		if (c->nsources == 1)
			cJSON_AddStringToObject(o, "source",
			    c->sources[0].name);
		return 0;
	}
	for (size_t k = 0; v->kind == YNODE_SCALAR && k < c->nsources; k++)
		if (strcmp(c->sources[k].name, v->str) == 0) {
			cJSON_AddStringToObject(o, "source", v->str);
			return 0;
		}
	return cfg_bad(r, v, path, "\"%s\" is not a source named under "
	    "sources:", v->kind == YNODE_SCALAR ? v->str : "?");
}

/* The stacks a listed one waits for; which exist and whether they form
 * a cycle is the pass's and validate's to say (those stacks fail, the
 * config stands). */
static int
depends_on(struct reader *r, const struct ynode *s, const char *path,
    cJSON *o)
{
	const struct ynode *d = ynode_get(s, "depends_on");
	cJSON *names;
	struct err nerr;

	if (d == NULL)
		return 0;
	if (d->kind != YNODE_SEQ)
		return cfg_bad(r, d, path, "depends_on must be a list of stack "
		    "names");
	names = cJSON_AddArrayToObject(o, "depends_on");
	for (size_t i = 0; i < d->n; i++) {
		if (d->vals[i]->kind != YNODE_SCALAR ||
		    compose_stack_name_check(d->vals[i]->str, &nerr) < 0)
			return cfg_bad(r, d->vals[i], path, "depends_on must be "
			    "a list of stack names");
		cJSON_AddItemToArray(names,
		    cJSON_CreateString(d->vals[i]->str));
	}
	return 0;
}

/* A listed stack's own policies; unset ones follow stacks:. */
static int
stack_policy(struct reader *r, const struct ctl_config *c,
    const struct ynode *s, size_t i, cJSON *o)
{
	bool keep = c->keep_replicas, prune = true, has_mode = false;
	bool has_resolve = false, suspend = false;
	int timeout = 0, hooks = 0;
	enum compose_interp_mode mode;
	enum images_mode resolve;
	char path[64];
	int rc;

	snprintf(path, sizeof(path), "stacks.list[%zu]", i);
	if ((rc = cfg_get_bool(r, s, "keep_replicas", path, &keep)) < 0 ||
	    (rc = cfg_get_bool(r, s, "prune", path, &prune)) < 0 ||
	    (rc = cfg_get_interp(r, s, path, &mode, &has_mode)) < 0 ||
	    (rc = cfg_get_resolve(r, s, path, &resolve, &has_resolve)) < 0 ||
	    (rc = cfg_get_bool(r, s, "suspend", path, &suspend)) < 0 ||
	    (rc = cfg_get_duration(r, s, "sync_timeout", path, &timeout)) < 0 ||
	    (rc = cfg_get_duration(r, s, "hook_timeout", path, &hooks)) < 0 ||
	    (rc = depends_on(r, s, path, o)) < 0)
		return rc;
	if (suspend)
		cJSON_AddTrueToObject(o, "suspend");
	if (timeout > 0)
		cJSON_AddNumberToObject(o, "sync_timeout_ms", timeout);
	if (hooks > 0)
		cJSON_AddNumberToObject(o, "hook_timeout_ms", hooks);
	if (has_mode)
		cJSON_AddStringToObject(o, "interpolation",
		    compose_interp_mode_name(mode));
	if (has_resolve)
		cJSON_AddStringToObject(o, "resolve_image",
		    images_mode_name(resolve));
	if (ynode_get(s, "keep_replicas") != NULL)
		cJSON_AddBoolToObject(o, "keep_replicas", keep);
	if (!prune)
		cJSON_AddFalseToObject(o, "prune");
	return 0;
}

/* stacks.list: the stacks, instead of discovering them. */
static int
stack_list(struct reader *r, struct ctl_config *c, const struct ynode *n)
{
	char path[160];
	int rc;

	if (n->kind != YNODE_SEQ)
		return cfg_bad(r, n, "stacks.list", "must be a list of {name, "
		    "files, vars, engines}");
	c->stack_list = cJSON_CreateArray();
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *s = n->vals[i], *name = ynode_get(s, "name");
		cJSON *o = cJSON_CreateObject();
		struct err nerr;

		cJSON_AddItemToArray(c->stack_list, o);
		snprintf(path, sizeof(path), "stacks.list[%zu]", i);
		if ((rc = cfg_known_keys(r, s, path, list_keys)) < 0)
			return rc;
		if (name == NULL || name->kind != YNODE_SCALAR ||
		    compose_stack_name_check(name->str, &nerr) < 0)
			return cfg_bad(r, name ? name : s, path, "needs a valid "
			    "stack name (name:)");
		for (size_t j = 0; j < i; j++)
			if (strcmp(ynode_get(n->vals[j], "name")->str,
			    name->str) == 0)
				return cfg_bad(r, name, path, "stack %s is listed "
				    "twice", name->str);
		cJSON_AddStringToObject(o, "name", name->str);
		snprintf(path, sizeof(path), "stacks.list[%zu].files", i);
		if ((rc = rel_paths(r, ynode_get(s, "files"), path, true,
		    cJSON_AddArrayToObject(o, "files"))) < 0)
			return rc;
		snprintf(path, sizeof(path), "stacks.list[%zu].vars", i);
		if ((rc = rel_paths(r, ynode_get(s, "vars"), path, false,
		    cJSON_AddArrayToObject(o, "vars"))) < 0)
			return rc;
		if ((rc = stack_source(r, c, s, i, o)) < 0 ||
		    (rc = stack_policy(r, c, s, i, o)) < 0)
			return rc;
		if (ynode_get(s, "engines") != NULL &&
		    (rc = target(r, c, name->str, ynode_get(s, "engines"))) < 0)
			return rc;
	}
	return 0;
}

int
cfg_policies(struct reader *r, struct ctl_config *c, const struct ynode *n)
{
	const struct ynode *v;
	int rc;

	if ((rc = cfg_known_keys(r, n, "stacks", policy_keys)) < 0 ||
	    (rc = cfg_get_bool(r, n, "prune_secrets", "stacks",
	    &c->prune_secrets)) < 0 ||
	    (rc = cfg_get_bool(r, n, "keep_replicas", "stacks",
	    &c->keep_replicas)) < 0 ||
	    (rc = cfg_get_bool(r, n, "allow_empty", "stacks",
	    &c->allow_empty)) < 0 ||
	    (rc = cfg_get_bool(r, n, "env_inherit", "stacks",
	    &c->env_inherit)) < 0 ||
	    (rc = cfg_get_bool(r, n, "strict_vars", "stacks",
	    &c->strict_vars)) < 0 ||
	    (rc = cfg_get_interp(r, n, "stacks", &c->interp, NULL)) < 0 ||
	    (rc = cfg_get_resolve(r, n, "stacks", &c->resolve, NULL)) < 0 ||
	    (rc = cfg_get_duration(r, n, "image_timeout", "stacks",
	    &c->image_timeout_ms)) < 0 ||
	    (rc = cfg_get_duration(r, n, "sync_timeout", "stacks",
	    &c->sync_timeout_ms)) < 0 ||
	    (rc = cfg_get_duration(r, n, "hook_timeout", "stacks",
	    &c->hook_timeout_ms)) < 0)
		return rc;
	/* image_poll: 0 is allowed, and means at every look. */
	if ((v = ynode_get(n, "image_poll")) != NULL) {
		int ms = 0;
		if (v->kind != YNODE_SCALAR || ctl_duration_parse(v->str,
		    &ms) < 0)
			return cfg_bad(r, v, "stacks.image_poll", "want a duration "
			    "such as 30s or 5m (0: look at every cycle)");
		c->image_poll_ms = ms > 0 ? ms : CTL_IMAGE_POLL_EVERY;
	}
	if ((v = ynode_get(n, "prune_limit")) != NULL &&
	    (v->kind != YNODE_SCALAR ||
	    controller_percent_parse(v->str, &c->prune_limit) < 0))
		return cfg_bad(r, v, "stacks.prune_limit", "want a percentage, 1 "
		    "to 100 (100: no limit)");
	if ((v = ynode_get(n, "engines")) != NULL &&
	    (rc = targets(r, c, v)) < 0)
		return rc;
	return (v = ynode_get(n, "list")) != NULL ? stack_list(r, c, v) : 0;
}

