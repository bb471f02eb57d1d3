/*
 * config_file.c - stackd.yaml, the daemon's configuration (see stackd.yaml(5)).
 *
 * Read with the same YAML loader as stack files (anchors and merge keys
 * work, duplicate keys are errors).  Unknown keys and bad values are
 * errors naming the key path, file, line and column; relative paths are
 * taken from the config file's directory.
 */
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller.h"

struct reader {
	char *dir;		/* the config file's directory */
	struct err *err;
};

static int bad(struct reader *r, const struct ynode *n, const char *path,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
bad(struct reader *r, const struct ynode *n, const char *path,
    const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = ynode_verror(r->err, n, path, fmt, ap);
	va_end(ap);
	return rc;
}

/* Every key of map n must be one of keys[]. */
static int
known_keys(struct reader *r, const struct ynode *n, const char *path,
    const char *const *keys)
{
	if (n->kind != YNODE_MAP)
		return bad(r, n, path, "must be a mapping");
	for (size_t i = 0; i < n->n; i++) {
		int k = 0;
		while (keys[k] != NULL && strcmp(keys[k], n->keys[i]->str) != 0)
			k++;
		if (keys[k] == NULL)
			return bad(r, n->keys[i], path, "unknown key \"%s\"",
			    n->keys[i]->str);
	}
	return 0;
}

static int
get_str(struct reader *r, const struct ynode *map, const char *key,
    const char *path, char **out)
{
	const struct ynode *v = ynode_get(map, key);

	if (v == NULL)
		return 0;
	if (v->kind != YNODE_SCALAR || v->null)
		return bad(r, v, path, "%s must be a string", key);
	free(*out);
	return (*out = strdup(v->str)) ? 0 : err_set(r->err, ERR_NOMEM,
	    "out of memory");
}

/* A path: relative ones are taken from the config file's directory. */
static int
get_path(struct reader *r, const struct ynode *map, const char *key,
    const char *path, char **out)
{
	char *p = NULL, *full;
	int rc;

	if ((rc = get_str(r, map, key, path, &p)) < 0 || p == NULL)
		return rc;
	if (p[0] != '/' && r->dir != NULL) {
		size_t n = strlen(r->dir) + strlen(p) + 2;
		if ((full = malloc(n)) == NULL) {
			free(p);
			return err_set(r->err, ERR_NOMEM, "out of memory");
		}
		snprintf(full, n, "%s/%s", r->dir, p);
		free(p);
		p = full;
	}
	free(*out);
	*out = p;
	return 0;
}

/* interpolation: docker-cli | compose-spec; *set tells it was there. */
static int
get_interp(struct reader *r, const struct ynode *map, const char *path,
    enum compose_interp_mode *out, bool *set)
{
	const struct ynode *v = ynode_get(map, "interpolation");

	if (v == NULL)
		return 0;
	if (v->kind != YNODE_SCALAR || compose_interp_mode_parse(v->str,
	    out) < 0)
		return bad(r, v, path, "interpolation must be docker-cli (what "
		    "docker stack deploy does) or compose-spec (docker compose)");
	if (set != NULL)
		*set = true;
	return 0;
}

static int
get_bool(struct reader *r, const struct ynode *map, const char *key,
    const char *path, bool *out)
{
	const struct ynode *v = ynode_get(map, key);

	if (v == NULL)
		return 0;
	if (v->kind == YNODE_SCALAR && !v->quoted &&
	    strcmp(v->str, "true") == 0)
		*out = true;
	else if (v->kind == YNODE_SCALAR && !v->quoted &&
	    strcmp(v->str, "false") == 0)
		*out = false;
	else
		return bad(r, v, path, "%s must be true or false", key);
	return 0;
}

int
ctl_duration_parse(const char *s, int *ms)
{
	char *end;
	double v = strtod(s, &end), unit;

	if (end == s || v < 0)
		return -1;
	if (strcmp(end, "ms") == 0)
		unit = 1;
	else if (*end == '\0' || strcmp(end, "s") == 0)
		unit = 1000;
	else if (strcmp(end, "m") == 0)
		unit = 60000;
	else if (strcmp(end, "h") == 0)
		unit = 3600000;
	else
		return -1;
	if (v * unit > 24.0 * 3600000)
		return -1;
	*ms = (int)(v * unit);
	return 0;
}

/* resolve_image: always | changed | never; *set tells it was there. */
static int
get_resolve(struct reader *r, const struct ynode *map, const char *path,
    enum images_mode *out, bool *set)
{
	const struct ynode *v = ynode_get(map, "resolve_image");

	if (v == NULL)
		return 0;
	if (v->kind != YNODE_SCALAR || images_mode_parse(v->str, out) < 0)
		return bad(r, v, path, "resolve_image must be always (pin every "
		    "image's digest, what docker stack deploy does), changed or "
		    "never");
	if (set != NULL)
		*set = true;
	return 0;
}

static int
get_duration(struct reader *r, const struct ynode *map, const char *key,
    const char *path, int *out)
{
	const struct ynode *v = ynode_get(map, key);

	if (v == NULL)
		return 0;
	if (v->kind != YNODE_SCALAR || ctl_duration_parse(v->str, out) < 0 ||
	    *out <= 0)
		return bad(r, v, path, "%s must be a duration such as 500ms, "
		    "30s, 5m (at most 24h)", key);
	return 0;
}

static const char *const engine_keys[] = { "name", "host", "tls",
    "registry_auth", "timeout", NULL };
static const char *const tls_keys[] = { "ca", "cert", "key", "cert_dir",
    "verify", NULL };

static int
tls_files(struct reader *r, struct engine_config *e, const struct ynode *t,
    const char *path)
{
	char *dir = NULL;
	static const char *const names[] = { "ca.pem", "cert.pem", "key.pem" };
	char **slots[] = { &e->ca_file, &e->cert_file, &e->key_file };
	int rc;

	if ((rc = known_keys(r, t, path, tls_keys)) < 0 ||
	    (rc = get_path(r, t, "cert_dir", path, &dir)) < 0)
		return rc;
	/* A cert dir, as DOCKER_CERT_PATH: ca.pem, cert.pem, key.pem. */
	for (int i = 0; dir != NULL && i < 3; i++) {
		size_t n = strlen(dir) + 10;
		free(*slots[i]);
		if ((*slots[i] = malloc(n)) != NULL)
			snprintf(*slots[i], n, "%s/%s", dir, names[i]);
	}
	free(dir);
	e->tls = e->tls_verify = true;
	if ((rc = get_path(r, t, "ca", path, &e->ca_file)) < 0 ||
	    (rc = get_path(r, t, "cert", path, &e->cert_file)) < 0 ||
	    (rc = get_path(r, t, "key", path, &e->key_file)) < 0 ||
	    (rc = get_bool(r, t, "verify", path, &e->tls_verify)) < 0)
		return rc;
	if (!e->tls_verify)
		log_event(LOG_WARN, e->name, NULL, NULL, "TLS verification "
		    "is off for this engine: anyone on the path can pose as it");
	return 0;
}

static int
engine_entry(struct reader *r, struct engine_config *e, const struct ynode *n,
    const char *path)
{
	const struct ynode *t;
	int rc, ms = 0;

	memset(e, 0, sizeof(*e));
	if ((rc = known_keys(r, n, path, engine_keys)) < 0 ||
	    (rc = get_str(r, n, "name", path, &e->name)) < 0 ||
	    (rc = get_str(r, n, "host", path, &e->host)) < 0 ||
	    (rc = get_path(r, n, "registry_auth", path, &e->auth_file)) < 0 ||
	    (rc = get_duration(r, n, "timeout", path, &ms)) < 0)
		return rc;
	if (e->host == NULL)
		return bad(r, n, path, "host is required (unix:///path or "
		    "tcp://host:port)");
	if (e->name == NULL && (e->name = strdup(e->host)) == NULL)
		return err_set(r->err, ERR_NOMEM, "out of memory");
	e->timeout_ms = e->connect_timeout_ms = ms;
	if ((t = ynode_get(n, "tls")) != NULL)
		return tls_files(r, e, t, path);
	return 0;
}

static int
engines(struct reader *r, struct ctl_config *c, const struct ynode *n)
{
	char path[64];
	int rc;

	if (n->kind != YNODE_SEQ || n->n == 0)
		return bad(r, n, "engines", "must be a list of engines");
	for (size_t i = 0; i < c->nengines; i++)
		engine_config_release(&c->engines[i]);
	free(c->engines);
	c->nengines = 0;
	if ((c->engines = calloc(n->n, sizeof(*c->engines))) == NULL)
		return err_set(r->err, ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < n->n; i++) {
		snprintf(path, sizeof(path), "engines[%zu]", i);
		c->nengines++;
		if ((rc = engine_entry(r, &c->engines[i], n->vals[i],
		    path)) < 0)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->engines[j].name, c->engines[i].name) == 0)
				return bad(r, n->vals[i], path, "engine name "
				    "\"%s\" is used twice", c->engines[i].name);
	}
	return 0;
}

static const char *const source_keys[] = { "name", "dir", "git",
    "interpolation", "resolve_image", NULL };
static const char *const dir_keys[] = { "path", "debounce", "rescan", NULL };
static const char *const git_keys[] = { "url", "ref", "path", "poll",
    "timeout", "username", "token_file", "token_env", "ssh_key",
    "ssh_passphrase_file", "known_hosts", "ca_file", "webhook_secret_file",
    NULL };

static int
dir_source(struct reader *r, struct ctl_source_config *s, const struct ynode *d,
    const char *at)
{
	int rc;

	if ((rc = known_keys(r, d, at, dir_keys)) < 0 ||
	    (rc = get_path(r, d, "path", at, &s->dir)) < 0 ||
	    (rc = get_duration(r, d, "debounce", at, &s->debounce_ms)) < 0 ||
	    (rc = get_duration(r, d, "rescan", at, &s->rescan_ms)) < 0)
		return rc;
	if (s->dir == NULL)
		return bad(r, d, at, "path is required");
	return 0;
}

static int
git_source(struct reader *r, struct ctl_git_config *g, const struct ynode *n,
    const char *at)
{
	int rc;

	if ((rc = known_keys(r, n, at, git_keys)) < 0 ||
	    (rc = get_str(r, n, "url", at, &g->url)) < 0 ||
	    (rc = get_str(r, n, "ref", at, &g->ref)) < 0 ||
	    (rc = get_str(r, n, "path", at, &g->path)) < 0 ||
	    (rc = get_duration(r, n, "poll", at, &g->poll_ms)) < 0 ||
	    (rc = get_duration(r, n, "timeout", at, &g->timeout_ms)) < 0 ||
	    (rc = get_str(r, n, "username", at, &g->username)) < 0 ||
	    (rc = get_path(r, n, "token_file", at, &g->token_file)) < 0 ||
	    (rc = get_str(r, n, "token_env", at, &g->token_env)) < 0 ||
	    (rc = get_path(r, n, "ssh_key", at, &g->ssh_key)) < 0 ||
	    (rc = get_path(r, n, "ssh_passphrase_file", at,
	    &g->ssh_passphrase_file)) < 0 ||
	    (rc = get_path(r, n, "known_hosts", at, &g->known_hosts)) < 0 ||
	    (rc = get_path(r, n, "ca_file", at, &g->ca_file)) < 0 ||
	    (rc = get_path(r, n, "webhook_secret_file", at,
	    &g->webhook_secret_file)) < 0)
		return rc;
	if (g->url == NULL)
		return bad(r, n, at, "url is required");
	/* A local path is taken from the config file's directory too. */
	if (strstr(g->url, "://") == NULL && strchr(g->url, ':') == NULL &&
	    (rc = get_path(r, n, "url", at, &g->url)) < 0)
		return rc;
	return 0;
}

/* Source names go into URLs (the webhook) and directory names;
 * /api/v1/webhook/registry is the registry's. */
static bool
name_ok(const char *s)
{
	return *s != '\0' && strcmp(s, "registry") != 0 && strlen(s) <= 64 && *s != '.' &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_.-") == strlen(s);
}

static int
source_entry(struct reader *r, struct ctl_config *c, const struct ynode *n,
    size_t i)
{
	struct ctl_source_config *s = &c->sources[i];
	const struct ynode *e = n->vals[i], *d, *g, *name;
	enum compose_interp_mode mode;
	enum images_mode resolve;
	char at[48], sub[64];
	bool has_mode = false, has_resolve = false;
	int rc;

	snprintf(at, sizeof(at), "sources[%zu]", i);
	if ((rc = known_keys(r, e, at, source_keys)) < 0 ||
	    (rc = get_str(r, e, "name", at, &s->name)) < 0 ||
	    (rc = get_interp(r, e, at, &mode, &has_mode)) < 0 ||
	    (rc = get_resolve(r, e, at, &resolve, &has_resolve)) < 0)
		return rc;
	s->interp = has_mode ? 1 + (int)mode : 0;
	s->resolve = has_resolve ? 1 + (int)resolve : 0;
	name = ynode_get(e, "name");
	if (s->name != NULL && !name_ok(s->name))
		return bad(r, name, at, "name may hold letters, digits, '_', "
		    "'.' and '-' (64 at most), and may not be \"registry\"");
	if (s->name == NULL && n->n > 1)
		return bad(r, e, at, "needs a name: (there are several "
		    "sources)");
	for (size_t j = 0; j < i; j++)
		if (strcmp(c->sources[j].name, s->name) == 0)
			return bad(r, name, at, "source name \"%s\" is used "
			    "twice", s->name);
	d = ynode_get(e, "dir");
	g = ynode_get(e, "git");
	if ((d == NULL) == (g == NULL))
		return bad(r, e, at, "needs either dir: or git:");
	snprintf(sub, sizeof(sub), "%s.%s", at, d != NULL ? "dir" : "git");
	if ((rc = d != NULL ? dir_source(r, s, d, sub) :
	    git_source(r, &s->git, g, sub)) < 0)
		return rc;
	/* The only source may go unnamed, as with --dir and --git. */
	if (s->name == NULL && (s->name = strdup(s->git.url ? "git" :
	    "dir")) == NULL)
		return ERR_NOMEM;
	return 0;
}

static int
sources(struct reader *r, struct ctl_config *c, const struct ynode *n)
{
	int rc;

	if (n->kind != YNODE_SEQ || n->n == 0)
		return bad(r, n, "sources", "must be a list of sources");
	if ((c->sources = calloc(n->n, sizeof(*c->sources))) == NULL)
		return ERR_NOMEM;
	for (size_t i = 0; i < n->n; i++) {
		c->nsources++;
		if ((rc = source_entry(r, c, n, i)) < 0)
			return rc;
	}
	return 0;
}

static const char *const policy_keys[] = { "prune_secrets",
    "keep_replicas", "allow_empty", "env_inherit", "strict_vars", "engines",
    "prune_limit", "list", "interpolation", "resolve_image", "image_poll",
    "image_timeout", NULL };
static const char *const list_keys[] = { "name", "source", "files", "vars",
    "engines", "keep_replicas", "prune", "interpolation", "resolve_image",
    NULL };

static bool
engine_known(const struct ctl_config *c, const char *name)
{
	for (size_t i = 0; i < c->nengines; i++)
		if (strcmp(c->engines[i].name, name) == 0)
			return true;
	return false;
}

/* stacks.engines: {stack: [engine, ...]}, every engine named above. */
static int
targets(struct reader *r, struct ctl_config *c, const struct ynode *n)
{
	char path[128];

	if (n->kind != YNODE_MAP)
		return bad(r, n, "stacks.engines", "must map stack names to "
		    "lists of engine names");
	if (c->targets == NULL)
		c->targets = cJSON_CreateObject();
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *l = n->vals[i];
		cJSON *arr = cJSON_CreateArray();
		snprintf(path, sizeof(path), "stacks.engines.%.80s",
		    n->keys[i]->str);
		cJSON_AddItemToObject(c->targets, n->keys[i]->str, arr);
		if (l->kind != YNODE_SEQ)
			return bad(r, l, path, "must be a list of engine "
			    "names");
		for (size_t j = 0; j < l->n; j++) {
			if (l->vals[j]->kind != YNODE_SCALAR ||
			    !engine_known(c, l->vals[j]->str))
				return bad(r, l->vals[j], path, "\"%s\" is not "
				    "an engine named under engines:",
				    l->vals[j]->kind == YNODE_SCALAR ?
				    l->vals[j]->str : "?");
			cJSON_AddItemToArray(arr,
			    cJSON_CreateString(l->vals[j]->str));
		}
	}
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
		return bad(r, n, path, "must be a list of files%s",
		    required ? " (at least one)" : "");
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *f = n->vals[i];
		if (f->kind != YNODE_SCALAR || *f->str == '\0' ||
		    *f->str == '/' || strcmp(f->str, "..") == 0 ||
		    strncmp(f->str, "../", 3) == 0 || strstr(f->str, "/../") ||
		    (strlen(f->str) >= 3 &&
		    strcmp(f->str + strlen(f->str) - 3, "/..") == 0))
			return bad(r, f, path, "\"%s\" must be a path inside "
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
			return bad(r, s, path, "is required: there are "
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
	return bad(r, v, path, "\"%s\" is not a source named under "
	    "sources:", v->kind == YNODE_SCALAR ? v->str : "?");
}

/* A listed stack's own policies; unset ones follow stacks:. */
static int
stack_policy(struct reader *r, const struct ctl_config *c,
    const struct ynode *s, size_t i, cJSON *o)
{
	bool keep = c->keep_replicas, prune = true, has_mode = false;
	bool has_resolve = false;
	enum compose_interp_mode mode;
	enum images_mode resolve;
	char path[64];
	int rc;

	snprintf(path, sizeof(path), "stacks.list[%zu]", i);
	if ((rc = get_bool(r, s, "keep_replicas", path, &keep)) < 0 ||
	    (rc = get_bool(r, s, "prune", path, &prune)) < 0 ||
	    (rc = get_interp(r, s, path, &mode, &has_mode)) < 0 ||
	    (rc = get_resolve(r, s, path, &resolve, &has_resolve)) < 0)
		return rc;
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
		return bad(r, n, "stacks.list", "must be a list of {name, "
		    "files, vars, engines}");
	c->stack_list = cJSON_CreateArray();
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *s = n->vals[i], *name = ynode_get(s, "name");
		cJSON *o = cJSON_CreateObject();
		struct err nerr;

		cJSON_AddItemToArray(c->stack_list, o);
		snprintf(path, sizeof(path), "stacks.list[%zu]", i);
		if ((rc = known_keys(r, s, path, list_keys)) < 0)
			return rc;
		if (name == NULL || name->kind != YNODE_SCALAR ||
		    compose_stack_name_check(name->str, &nerr) < 0)
			return bad(r, name ? name : s, path, "needs a valid "
			    "stack name (name:)");
		for (size_t j = 0; j < i; j++)
			if (strcmp(ynode_get(n->vals[j], "name")->str,
			    name->str) == 0)
				return bad(r, name, path, "stack %s is listed "
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
		if (ynode_get(s, "engines") != NULL) {
			struct ynode wrap = { .kind = YNODE_MAP, .n = 1,
			    .keys = (struct ynode *[]){ (struct ynode *)name },
			    .vals = (struct ynode *[]){ ynode_get(s,
			    "engines") }, .file = s->file, .line = s->line,
			    .col = s->col };
			if ((rc = targets(r, c, &wrap)) < 0)
				return rc;
		}
	}
	return 0;
}

static int
policies(struct reader *r, struct ctl_config *c, const struct ynode *n)
{
	const struct ynode *v;
	int rc;

	if ((rc = known_keys(r, n, "stacks", policy_keys)) < 0 ||
	    (rc = get_bool(r, n, "prune_secrets", "stacks",
	    &c->prune_secrets)) < 0 ||
	    (rc = get_bool(r, n, "keep_replicas", "stacks",
	    &c->keep_replicas)) < 0 ||
	    (rc = get_bool(r, n, "allow_empty", "stacks",
	    &c->allow_empty)) < 0 ||
	    (rc = get_bool(r, n, "env_inherit", "stacks",
	    &c->env_inherit)) < 0 ||
	    (rc = get_bool(r, n, "strict_vars", "stacks",
	    &c->strict_vars)) < 0 ||
	    (rc = get_interp(r, n, "stacks", &c->interp, NULL)) < 0 ||
	    (rc = get_resolve(r, n, "stacks", &c->resolve, NULL)) < 0 ||
	    (rc = get_duration(r, n, "image_timeout", "stacks",
	    &c->image_timeout_ms)) < 0)
		return rc;
	/* image_poll: 0 is allowed, and means at every look. */
	if ((v = ynode_get(n, "image_poll")) != NULL) {
		int ms = 0;
		if (v->kind != YNODE_SCALAR || ctl_duration_parse(v->str,
		    &ms) < 0)
			return bad(r, v, "stacks.image_poll", "want a duration "
			    "such as 30s or 5m (0: look at every cycle)");
		c->image_poll_ms = ms > 0 ? ms : CTL_IMAGE_POLL_EVERY;
	}
	if ((v = ynode_get(n, "prune_limit")) != NULL &&
	    (v->kind != YNODE_SCALAR ||
	    controller_percent_parse(v->str, &c->prune_limit) < 0))
		return bad(r, v, "stacks.prune_limit", "want a percentage, 1 "
		    "to 100 (100: no limit)");
	if ((v = ynode_get(n, "engines")) != NULL &&
	    (rc = targets(r, c, v)) < 0)
		return rc;
	return (v = ynode_get(n, "list")) != NULL ? stack_list(r, c, v) : 0;
}

static const char *const status_keys[] = { "listen", "token_file",
    "registry_webhook_secret_file", NULL };
static const char *const notify_keys[] = { "url", "token_file", "timeout",
    NULL };

/* notify: {url, token_file, timeout}: http(s) only, since the URL is
 * handed to libcurl, which knows many more schemes. */
static int
notify(struct reader *r, struct ctl_config *c, const struct ynode *n)
{
	const struct ynode *u = ynode_get(n, "url");
	int rc;

	if ((rc = known_keys(r, n, "notify", notify_keys)) < 0 ||
	    (rc = get_str(r, n, "url", "notify", &c->notify_url)) < 0 ||
	    (rc = get_path(r, n, "token_file", "notify",
	    &c->notify_token_file)) < 0 ||
	    (rc = get_duration(r, n, "timeout", "notify",
	    &c->notify_timeout_ms)) < 0)
		return rc;
	if (c->notify_url == NULL)
		return bad(r, n, "notify", "url is required");
	if (strncmp(c->notify_url, "http://", 7) != 0 &&
	    strncmp(c->notify_url, "https://", 8) != 0)
		return bad(r, u, "notify.url", "must be an http:// or https:// "
		    "URL");
	return 0;
}
static const char *const log_keys[] = { "format", "level", NULL };

static int
status_and_log(struct reader *r, struct ctl_config *c, const struct ynode *root)
{
	const struct ynode *s = ynode_get(root, "status");
	const struct ynode *l = ynode_get(root, "log"), *v;
	int rc;

	if (s != NULL && ((rc = known_keys(r, s, "status", status_keys)) < 0 ||
	    (rc = get_str(r, s, "listen", "status", &c->listen)) < 0 ||
	    (rc = get_path(r, s, "token_file", "status",
	    &c->token_file)) < 0 ||
	    (rc = get_path(r, s, "registry_webhook_secret_file", "status",
	    &c->registry_secret_file)) < 0))
		return rc;
	if (l == NULL)
		return 0;
	if ((rc = known_keys(r, l, "log", log_keys)) < 0)
		return rc;
	if ((v = ynode_get(l, "format")) != NULL && (v->kind != YNODE_SCALAR ||
	    log_format_parse(v->str, &c->log_format) < 0))
		return bad(r, v, "log", "format must be text or json");
	if ((v = ynode_get(l, "level")) != NULL && (v->kind != YNODE_SCALAR ||
	    log_level_parse(v->str, &c->log_level) < 0))
		return bad(r, v, "log", "level must be debug, info, warn or "
		    "error");
	return 0;
}

static const char *const top_keys[] = { "engines", "sources", "stacks",
    "state_dir", "owner", "interval", "status", "log", "notify", NULL };

static int
read_config(struct reader *r, struct ctl_config *c, const struct ynode *root)
{
	const struct ynode *n;
	int rc;

	if ((rc = known_keys(r, root, "(top level)", top_keys)) < 0)
		return rc;
	if ((n = ynode_get(root, "engines")) != NULL &&
	    (rc = engines(r, c, n)) < 0)
		return rc;
	if ((n = ynode_get(root, "sources")) != NULL &&
	    (rc = sources(r, c, n)) < 0)
		return rc;
	if ((n = ynode_get(root, "stacks")) != NULL &&
	    (rc = policies(r, c, n)) < 0)
		return rc;
	if ((rc = get_str(r, root, "owner", "owner", &c->owner)) < 0 ||
	    (rc = get_path(r, root, "state_dir", "state_dir",
	    &c->state_dir)) < 0 ||
	    (rc = get_duration(r, root, "interval", "interval",
	    &c->interval_ms)) < 0)
		return rc;
	if ((n = ynode_get(root, "notify")) != NULL &&
	    (rc = notify(r, c, n)) < 0)
		return rc;
	return status_and_log(r, c, root);
}

int
ctl_config_load(struct ctl_config *c, const char *path, struct err *err)
{
	struct reader r = { .err = err };
	struct ynode *root = NULL;
	char *copy;
	int rc;

	memset(c, 0, sizeof(*c));
	c->log_format = LOG_TEXT;
	c->log_level = LOG_INFO;
	if (path == NULL)
		return 0;
	if ((c->path = strdup(path)) == NULL || (copy = strdup(path)) == NULL)
		return err_set(err, ERR_NOMEM, "out of memory");
	r.dir = strdup(dirname(copy));
	free(copy);
	rc = compose_yaml_load(&root, path, err);
	if (rc == 0)
		rc = read_config(&r, c, root);
	ynode_free(root);
	free(r.dir);
	return rc;
}

void
ctl_source_config_release(struct ctl_source_config *s)
{
	struct ctl_git_config *g = &s->git;

	free(s->name);
	free(s->dir);
	free(g->url);
	free(g->ref);
	free(g->path);
	free(g->username);
	free(g->token_file);
	free(g->token_env);
	free(g->ssh_key);
	free(g->ssh_passphrase_file);
	free(g->known_hosts);
	free(g->ca_file);
	free(g->webhook_secret_file);
	memset(s, 0, sizeof(*s));
}

void
ctl_config_release(struct ctl_config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nengines; i++)
		engine_config_release(&c->engines[i]);
	free(c->engines);
	free(c->path);
	for (size_t i = 0; i < c->nsources; i++)
		ctl_source_config_release(&c->sources[i]);
	free(c->sources);
	free(c->owner);
	free(c->listen);
	free(c->token_file);
	free(c->registry_secret_file);
	free(c->notify_url);
	free(c->notify_token_file);
	free(c->state_dir);
	cJSON_Delete(c->targets);
	cJSON_Delete(c->stack_list);
	memset(c, 0, sizeof(*c));
}

int
ctl_config_defaults(struct ctl_config *c, const char *host, struct err *err)
{
	int rc;

	if (c->nsources == 0)
		return err_set(err, ERR_INVALID, "no source: give --dir DIR, "
		    "--git URL, or a config file (-c) with sources:");
	if (c->nengines > 0 && host == NULL)
		return 0;
	/* Zero-config: the engine DOCKER_HOST names (or -H). */
	for (size_t i = 0; i < c->nengines; i++)
		engine_config_release(&c->engines[i]);
	free(c->engines);
	c->nengines = 0;
	if ((c->engines = calloc(1, sizeof(*c->engines))) == NULL)
		return err_set(err, ERR_NOMEM, "out of memory");
	c->nengines = 1;
	if ((rc = engine_config_from_env(&c->engines[0], err)) < 0)
		return rc;
	if (host != NULL) {
		free(c->engines[0].host);
		if ((c->engines[0].host = strdup(host)) == NULL)
			return err_set(err, ERR_NOMEM, "out of memory");
	}
	free(c->engines[0].name);
	if ((c->engines[0].name = strdup("default")) == NULL)
		return err_set(err, ERR_NOMEM, "out of memory");
	return 0;
}
