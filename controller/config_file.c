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

#include "alloc.h"
#include "path.h"
#include "config_int.h"
#include "sops.h"

static const char *const engine_keys[] = { "name", "host", "hosts", "tls",
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

	if ((rc = cfg_known_keys(r, t, path, tls_keys)) < 0 ||
	    (rc = cfg_get_path(r, t, "cert_dir", path, &dir)) < 0)
		return rc;
	/* A cert dir, as DOCKER_CERT_PATH: ca.pem, cert.pem, key.pem. */
	for (int i = 0; dir != NULL && i < 3; i++) {
		free(*slots[i]);
		*slots[i] = path_join(dir, names[i]);
	}
	free(dir);
	e->tls = e->tls_verify = true;
	if ((rc = cfg_get_path(r, t, "ca", path, &e->ca_file)) < 0 ||
	    (rc = cfg_get_path(r, t, "cert", path, &e->cert_file)) < 0 ||
	    (rc = cfg_get_path(r, t, "key", path, &e->key_file)) < 0 ||
	    (rc = cfg_get_bool(r, t, "verify", path, &e->tls_verify)) < 0)
		return rc;
	if (!e->tls_verify)
		log_event(LOG_WARN, e->name, NULL, NULL, "TLS verification "
		    "is off for this engine: anyone on the path can pose as it");
	return 0;
}

/* hosts: [first, more...], the managers of one swarm in order of
 * preference; the first is the host. */
static int
engine_hosts(struct reader *r, struct engine_config *e, const struct ynode *n,
    const char *path)
{
	const struct ynode *h = ynode_get(n, "hosts");

	if (h == NULL)
		return 0;
	if (e->host != NULL)
		return cfg_bad(r, h, path, "give host or hosts, not both");
	if (h->kind != YNODE_SEQ || h->n == 0 || h->n > 16)
		return cfg_bad(r, h, path, "hosts must be a list of 1 to 16 "
		    "engine addresses (the managers of one swarm)");
	for (size_t i = 0; i < h->n; i++) {
		const struct ynode *v = h->vals[i];
		if (v->kind != YNODE_SCALAR || *v->str == '\0')
			return cfg_bad(r, v, path, "hosts[%zu] must be an "
			    "address (unix:///path or tcp://host:port)", i);
		for (size_t j = 0; j < i; j++)
			if (strcmp(h->vals[j]->str, v->str) == 0)
				return cfg_bad(r, v, path, "hosts lists %s "
				    "twice", v->str);
	}
	e->host = xstrdup(h->vals[0]->str);
	e->nmore_hosts = h->n - 1;
	e->more_hosts = xcalloc(h->n, sizeof(*e->more_hosts));
	for (size_t i = 1; i < h->n; i++)
		e->more_hosts[i - 1] = xstrdup(h->vals[i]->str);
	return 0;
}

static int
engine_entry(struct reader *r, struct engine_config *e, const struct ynode *n,
    const char *path)
{
	const struct ynode *t;
	int rc, ms = 0;

	memset(e, 0, sizeof(*e));
	if ((rc = cfg_known_keys(r, n, path, engine_keys)) < 0 ||
	    (rc = cfg_get_str(r, n, "name", path, &e->name)) < 0 ||
	    (rc = cfg_get_str(r, n, "host", path, &e->host)) < 0 ||
	    (rc = cfg_get_path(r, n, "registry_auth", path, &e->auth_file)) < 0 ||
	    (rc = cfg_get_duration(r, n, "timeout", path, &ms)) < 0 ||
	    (rc = engine_hosts(r, e, n, path)) < 0)
		return rc;
	if (e->host == NULL)
		return cfg_bad(r, n, path, "host is required (unix:///path or "
		    "tcp://host:port; hosts: [...] for several managers)");
	if (e->name == NULL)
		e->name = xstrdup(e->host);
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
		return cfg_bad(r, n, "engines", "must be a list of engines");
	for (size_t i = 0; i < c->nengines; i++)
		engine_config_release(&c->engines[i]);
	free(c->engines);
	c->nengines = 0;
	c->engines = xcalloc(n->n, sizeof(*c->engines));
	for (size_t i = 0; i < n->n; i++) {
		snprintf(path, sizeof(path), "engines[%zu]", i);
		c->nengines++;
		if ((rc = engine_entry(r, &c->engines[i], n->vals[i],
		    path)) < 0)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->engines[j].name, c->engines[i].name) == 0)
				return cfg_bad(r, n->vals[i], path, "engine name "
				    "\"%s\" is used twice", c->engines[i].name);
	}
	return 0;
}

static const char *const source_keys[] = { "name", "dir", "git",
    "interpolation", "resolve_image", "sops", "suspend", NULL };
static const char *const sops_keys[] = { "age_key_file", NULL };

/* sops: {age_key_file: PATH} at the top or in a source. */
static int
sops_block(struct reader *r, const struct ynode *parent, const char *at,
    char **file)
{
	const struct ynode *n = ynode_get(parent, "sops");
	char path[64];
	int rc;

	if (n == NULL)
		return 0;
	snprintf(path, sizeof(path), "%s%ssops", at, *at ? "." : "");
	if ((rc = cfg_known_keys(r, n, path, sops_keys)) < 0)
		return rc;
	return cfg_get_path(r, n, "age_key_file", path, file);
}
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

	if ((rc = cfg_known_keys(r, d, at, dir_keys)) < 0 ||
	    (rc = cfg_get_path(r, d, "path", at, &s->dir)) < 0 ||
	    (rc = cfg_get_duration(r, d, "debounce", at, &s->debounce_ms)) < 0 ||
	    (rc = cfg_get_duration(r, d, "rescan", at, &s->rescan_ms)) < 0)
		return rc;
	if (s->dir == NULL)
		return cfg_bad(r, d, at, "path is required");
	return 0;
}

static int
git_source(struct reader *r, struct ctl_source_config *s, const struct ynode *n,
    const char *at)
{
	struct sources_git_opts *g = &s->git;
	int rc;

	if ((rc = cfg_known_keys(r, n, at, git_keys)) < 0 ||
	    (rc = cfg_get_str(r, n, "url", at, &g->url)) < 0 ||
	    (rc = cfg_get_str(r, n, "ref", at, &g->ref)) < 0 ||
	    (rc = cfg_get_str(r, n, "path", at, &g->subpath)) < 0 ||
	    (rc = cfg_get_duration(r, n, "poll", at, &g->poll_ms)) < 0 ||
	    (rc = cfg_get_duration(r, n, "timeout", at, &g->timeout_ms)) < 0 ||
	    (rc = cfg_get_str(r, n, "username", at, &g->username)) < 0 ||
	    (rc = cfg_get_path(r, n, "token_file", at, &g->token_file)) < 0 ||
	    (rc = cfg_get_str(r, n, "token_env", at, &g->token_env)) < 0 ||
	    (rc = cfg_get_path(r, n, "ssh_key", at, &g->ssh_key)) < 0 ||
	    (rc = cfg_get_path(r, n, "ssh_passphrase_file", at,
	    &g->ssh_passphrase_file)) < 0 ||
	    (rc = cfg_get_path(r, n, "known_hosts", at, &g->known_hosts)) < 0 ||
	    (rc = cfg_get_path(r, n, "ca_file", at, &g->ca_file)) < 0 ||
	    (rc = cfg_get_path(r, n, "webhook_secret_file", at,
	    &s->webhook_secret_file)) < 0)
		return rc;
	if (g->url == NULL)
		return cfg_bad(r, n, at, "url is required");
	/* A local path is taken from the config file's directory too. */
	if (strstr(g->url, "://") == NULL && strchr(g->url, ':') == NULL &&
	    (rc = cfg_get_path(r, n, "url", at, &g->url)) < 0)
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
	if ((rc = cfg_known_keys(r, e, at, source_keys)) < 0 ||
	    (rc = cfg_get_str(r, e, "name", at, &s->name)) < 0 ||
	    (rc = cfg_get_interp(r, e, at, &mode, &has_mode)) < 0 ||
	    (rc = cfg_get_resolve(r, e, at, &resolve, &has_resolve)) < 0 ||
	    (rc = sops_block(r, e, at, &s->age_key_file)) < 0 ||
	    (rc = cfg_get_bool(r, e, "suspend", at, &s->suspend)) < 0)
		return rc;
	s->interp = has_mode ? 1 + (int)mode : 0;
	s->resolve = has_resolve ? 1 + (int)resolve : 0;
	name = ynode_get(e, "name");
	if (s->name != NULL && !name_ok(s->name))
		return cfg_bad(r, name, at, "name may hold letters, digits, '_', "
		    "'.' and '-' (64 at most), and may not be \"registry\"");
	if (s->name == NULL && n->n > 1)
		return cfg_bad(r, e, at, "needs a name: (there are several "
		    "sources)");
	for (size_t j = 0; j < i; j++)
		if (strcmp(c->sources[j].name, s->name) == 0)
			return cfg_bad(r, name, at, "source name \"%s\" is used "
			    "twice", s->name);
	d = ynode_get(e, "dir");
	g = ynode_get(e, "git");
	if ((d == NULL) == (g == NULL))
		return cfg_bad(r, e, at, "needs either dir: or git:");
	snprintf(sub, sizeof(sub), "%s.%s", at, d != NULL ? "dir" : "git");
	if ((rc = d != NULL ? dir_source(r, s, d, sub) :
	    git_source(r, s, g, sub)) < 0)
		return rc;
	/* The only source may go unnamed, as with --dir and --git. */
	if (s->name == NULL)
		s->name = xstrdup(s->git.url ? "git" : "dir");
	return 0;
}

static int
sources(struct reader *r, struct ctl_config *c, const struct ynode *n)
{
	int rc;

	if (n->kind != YNODE_SEQ || n->n == 0)
		return cfg_bad(r, n, "sources", "must be a list of sources");
	c->sources = xcalloc(n->n, sizeof(*c->sources));
	for (size_t i = 0; i < n->n; i++) {
		c->nsources++;
		if ((rc = source_entry(r, c, n, i)) < 0)
			return rc;
	}
	return 0;
}

static const char *const status_keys[] = { "listen", "token_file",
    "registry_webhook_secret_file", "user", NULL };
static const char *const notify_keys[] = { "url", "token_file", "timeout",
    NULL };

/* notify: {url, token_file, timeout}: http(s) only, since the URL is
 * handed to libcurl, which knows many more schemes. */
static int
notify(struct reader *r, struct ctl_config *c, const struct ynode *n)
{
	const struct ynode *u = ynode_get(n, "url");
	int rc;

	if ((rc = cfg_known_keys(r, n, "notify", notify_keys)) < 0 ||
	    (rc = cfg_get_str(r, n, "url", "notify", &c->notify_url)) < 0 ||
	    (rc = cfg_get_path(r, n, "token_file", "notify",
	    &c->notify_token_file)) < 0 ||
	    (rc = cfg_get_duration(r, n, "timeout", "notify",
	    &c->notify_timeout_ms)) < 0)
		return rc;
	if (c->notify_url == NULL)
		return cfg_bad(r, n, "notify", "url is required");
	if (strncmp(c->notify_url, "http://", 7) != 0 &&
	    strncmp(c->notify_url, "https://", 8) != 0)
		return cfg_bad(r, u, "notify.url", "must be an http:// or https:// "
		    "URL");
	return 0;
}

static const char *const lease_keys[] = { "ttl", "enabled", NULL };

/* lease: {ttl, enabled}: the writer's lease on each engine. */
static int
lease(struct reader *r, struct ctl_config *c, const struct ynode *root)
{
	const struct ynode *n = ynode_get(root, "lease");
	bool on = true;
	int rc;

	if (n == NULL)
		return 0;
	if ((rc = cfg_known_keys(r, n, "lease", lease_keys)) < 0 ||
	    (rc = cfg_get_duration(r, n, "ttl", "lease", &c->lease_ttl_ms)) < 0 ||
	    (rc = cfg_get_bool(r, n, "enabled", "lease", &on)) < 0)
		return rc;
	if (c->lease_ttl_ms != 0 && c->lease_ttl_ms < 3000)
		return cfg_bad(r, ynode_get(n, "ttl"), "lease", "ttl must be "
		    "at least 3s (it is renewed three times per ttl)");
	c->lease_off = !on;
	return 0;
}

static const char *const log_keys[] = { "format", "level", NULL };

static int
status_and_log(struct reader *r, struct ctl_config *c, const struct ynode *root)
{
	const struct ynode *s = ynode_get(root, "status");
	const struct ynode *l = ynode_get(root, "log"), *v;
	int rc;

	if (s != NULL && ((rc = cfg_known_keys(r, s, "status", status_keys)) < 0 ||
	    (rc = cfg_get_str(r, s, "listen", "status", &c->listen)) < 0 ||
	    (rc = cfg_get_path(r, s, "token_file", "status",
	    &c->token_file)) < 0 ||
	    (rc = cfg_get_path(r, s, "registry_webhook_secret_file", "status",
	    &c->registry_secret_file)) < 0 ||
	    (rc = cfg_get_str(r, s, "user", "status", &c->status_user)) < 0))
		return rc;
	if (l == NULL)
		return 0;
	if ((rc = cfg_known_keys(r, l, "log", log_keys)) < 0)
		return rc;
	if ((v = ynode_get(l, "format")) != NULL && (v->kind != YNODE_SCALAR ||
	    log_format_parse(v->str, &c->log_format) < 0))
		return cfg_bad(r, v, "log", "format must be text or json");
	if ((v = ynode_get(l, "level")) != NULL && (v->kind != YNODE_SCALAR ||
	    log_level_parse(v->str, &c->log_level) < 0))
		return cfg_bad(r, v, "log", "level must be debug, info, warn or "
		    "error");
	return 0;
}

static const char *const top_keys[] = { "engines", "sources", "stacks",
    "state_dir", "owner", "interval", "resync", "status", "log", "notify",
    "sops", "lease", NULL };

static int
read_config(struct reader *r, struct ctl_config *c, const struct ynode *root)
{
	const struct ynode *n;
	int rc;

	if ((rc = cfg_known_keys(r, root, "(top level)", top_keys)) < 0)
		return rc;
	if ((n = ynode_get(root, "engines")) != NULL &&
	    (rc = engines(r, c, n)) < 0)
		return rc;
	if ((n = ynode_get(root, "sources")) != NULL &&
	    (rc = sources(r, c, n)) < 0)
		return rc;
	if ((n = ynode_get(root, "stacks")) != NULL &&
	    (rc = cfg_policies(r, c, n)) < 0)
		return rc;
	if ((rc = cfg_get_str(r, root, "owner", "owner", &c->owner)) < 0 ||
	    (rc = cfg_get_path(r, root, "state_dir", "state_dir",
	    &c->state_dir)) < 0 ||
	    (rc = cfg_get_duration(r, root, "interval", "interval",
	    &c->interval_ms)) < 0 ||
	    (rc = cfg_get_duration(r, root, "resync", "resync",
	    &c->resync_ms)) < 0)
		return rc;
	if ((n = ynode_get(root, "notify")) != NULL &&
	    (rc = notify(r, c, n)) < 0)
		return rc;
	if ((rc = sops_block(r, root, "", &c->age_key_file)) < 0 ||
	    (rc = lease(r, c, root)) < 0)
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
	c->path = xstrdup(path);
	copy = xstrdup(path);
	r.dir = xstrdup(dirname(copy));
	free(copy);
	rc = compose_yaml_load(&root, path, NULL, err);
	if (rc == 0)
		rc = read_config(&r, c, root);
	ynode_free(root);
	free(r.dir);
	return rc;
}

void
ctl_source_config_release(struct ctl_source_config *s)
{
	free(s->name);
	free(s->dir);
	sources_git_opts_release(&s->git);
	free(s->webhook_secret_file);
	free(s->age_key_file);
	sops_keys_free(s->sops_keys);
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
	free(c->status_user);
	free(c->notify_url);
	free(c->notify_token_file);
	free(c->state_dir);
	free(c->age_key_file);
	sops_keys_free(c->sops_keys);
	cJSON_Delete(c->targets);
	cJSON_Delete(c->stack_list);
	memset(c, 0, sizeof(*c));
}

int
ctl_config_defaults(struct ctl_config *c, const char *host, struct err *err)
{
	if (c->nsources == 0)
		return err_set(err, ERR_INVALID, "no source: give --dir DIR, "
		    "--git URL, or a config file (-c) with sources:");
	ctl_config_sops_load(c);
	if (c->nengines > 0 && host == NULL)
		return 0;
	/* Zero-config: the engine DOCKER_HOST names (or -H). */
	for (size_t i = 0; i < c->nengines; i++)
		engine_config_release(&c->engines[i]);
	free(c->engines);
	c->nengines = 0;
	c->engines = xcalloc(1, sizeof(*c->engines));
	c->nengines = 1;
	engine_config_from_env(&c->engines[0]);
	if (host != NULL)
		xstrset(&c->engines[0].host, host);
	xstrset(&c->engines[0].name, "default");
	return 0;
}
