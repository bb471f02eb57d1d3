/*
 * config.c - engine endpoints: from the environment, parsed and checked.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "engine_int.h"
#include "path.h"

#define DEFAULT_HOST "unix:///var/run/docker.sock"

void
engine_config_from_env(struct engine_config *cfg)
{
	const char *host = getenv("DOCKER_HOST");
	const char *verify = getenv("DOCKER_TLS_VERIFY");
	const char *certs = getenv("DOCKER_CERT_PATH");
	const char *home = getenv("HOME");
	char *defcerts = NULL;

	memset(cfg, 0, sizeof(*cfg));
	if (host == NULL || *host == '\0')
		host = DEFAULT_HOST;
	cfg->host = xstrdup(host);
	/* Like the docker CLI: any non-empty DOCKER_TLS_VERIFY turns TLS on. */
	if (verify != NULL && *verify != '\0') {
		cfg->tls = cfg->tls_verify = true;
		if (certs == NULL || *certs == '\0') {
			if (home == NULL)
				home = "/";
			certs = defcerts = path_join(home, ".docker");
		}
		cfg->ca_file = path_join(certs, "ca.pem");
		cfg->cert_file = path_join(certs, "cert.pem");
		cfg->key_file = path_join(certs, "key.pem");
	}
	free(defcerts);
}

void
engine_config_release(struct engine_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->name);
	free(cfg->host);
	for (size_t i = 0; i < cfg->nmore_hosts; i++)
		free(cfg->more_hosts[i]);
	free(cfg->more_hosts);
	free(cfg->ca_file);
	free(cfg->cert_file);
	free(cfg->key_file);
	free(cfg->auth_file);
	memset(cfg, 0, sizeof(*cfg));
}

static int
check_readable(const char *what, const char *path, const char *name,
    struct err *err)
{
	if (path == NULL || access(path, R_OK) == 0)
		return 0;
	return err_set(err, ERR_TLS, "engine %s: cannot read TLS %s %s: %s",
	    name, what, path, strerror(errno));
}

/* "host:port", "[::1]:port" yes; "host", "[::1]" no. */
static bool
has_port(const char *hostport)
{
	const char *colon = strrchr(hostport, ':');
	const char *bracket = strrchr(hostport, ']');

	if (colon == NULL)
		return false;
	return bracket == NULL || colon > bracket;
}

static int
parse_host(struct engine *e, struct engine_endpoint *ep, const char *host,
    struct err *err)
{
	const char *rest;
	size_t n;

	ep->host = xstrdup(host);

	if (strncmp(host, "unix://", 7) == 0) {
		rest = host + 7;
		if (*rest != '/')
			return err_set(err, ERR_INVALID, "engine %s: unix "
			    "socket path must be absolute (unix:///path)",
			    e->name);
		ep->sock_path = xstrdup(rest);
		ep->base_url = xstrdup("http://localhost");
		e->tls = false;	/* the docker CLI ignores TLS on sockets too */
		return 0;
	}
	if (strncmp(host, "tcp://", 6) == 0) {
		rest = host + 6;
		n = strcspn(rest, "/");
		if (n == 0 || rest[n] != '\0')
			return err_set(err, ERR_INVALID, "engine %s: expected "
			    "tcp://HOST:PORT, got \"%s\"", e->name, host);
		n = strlen(rest) + 16;
		ep->base_url = xmalloc(n);
		/* No port: the docker CLI's defaults, 2376 for TLS else 2375. */
		snprintf(ep->base_url, n, "%s://%s%s", e->tls ? "https" : "http",
		    rest, has_port(rest) ? "" : (e->tls ? ":2376" : ":2375"));
		return 0;
	}
	if (strncmp(host, "ssh://", 6) == 0)
		return err_set(err, ERR_UNSUPPORTED, "engine %s: ssh:// is not "
		    "supported; forward the engine socket instead (ssh -nNT "
		    "-L /run/stackd/docker.sock:/var/run/docker.sock HOST) and "
		    "use unix:///run/stackd/docker.sock", e->name);
	if (strncmp(host, "npipe://", 8) == 0)
		return err_set(err, ERR_UNSUPPORTED, "engine %s: npipe:// "
		    "(Windows named pipes) is not supported; use tcp:// with "
		    "TLS", e->name);
	return err_set(err, ERR_INVALID, "engine %s: unknown engine address "
	    "\"%s\" (expected unix:///path or tcp://host:port)", e->name, host);
}

int
engine_open(struct engine **out, const struct engine_config *cfg,
    struct err *err)
{
	struct engine *e;
	int rc;

	*out = NULL;
	if (cfg->host == NULL || *cfg->host == '\0')
		return err_set(err, ERR_INVALID, "engine address is empty");
	e = xcalloc(1, sizeof(*e));
	e->tls = cfg->tls;
	e->tls_verify = cfg->tls_verify;
	e->connect_timeout_ms = cfg->connect_timeout_ms > 0 ?
	    cfg->connect_timeout_ms : ENGINE_CONNECT_TIMEOUT_MS;
	e->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms :
	    ENGINE_TIMEOUT_MS;
	xstrset(&e->name, cfg->name ? cfg->name : cfg->host);
	xstrset(&e->ca_file, cfg->ca_file);
	xstrset(&e->cert_file, cfg->cert_file);
	xstrset(&e->key_file, cfg->key_file);
	e->eps = xcalloc(1 + cfg->nmore_hosts, sizeof(*e->eps));
	for (size_t i = 0; i <= cfg->nmore_hosts; i++)
		if ((rc = parse_host(e, &e->eps[e->neps++], i == 0 ? cfg->host :
		    cfg->more_hosts[i - 1], err)) < 0)
			goto fail;
	e->host = e->eps[0].host;
	e->sock_path = e->eps[0].sock_path;
	e->base_url = e->eps[0].base_url;
	if (e->tls && ((rc = check_readable("CA file", e->ca_file, e->name,
	    err)) < 0 ||
	    (rc = check_readable("certificate", e->cert_file, e->name,
	    err)) < 0 ||
	    (rc = check_readable("key", e->key_file, e->name, err)) < 0))
		goto fail;
	if (e->tls && (e->cert_file == NULL) != (e->key_file == NULL)) {
		rc = err_set(err, ERR_TLS, "engine %s: a client certificate "
		    "needs its key and a key its certificate", e->name);
		goto fail;
	}
	if ((rc = engine_auth_load(&e->auth, cfg->auth_file, err)) < 0) {
		err_prefix(err, "engine %s", e->name);
		goto fail;
	}
	if ((e->curl = curl_easy_init()) == NULL)
		alloc_fail();
	*out = e;
	return 0;
fail:
	engine_free(e);
	return rc;
}

void
engine_free(struct engine *e)
{
	if (e == NULL)
		return;
	if (e->curl != NULL)
		curl_easy_cleanup(e->curl);
	engine_auth_free(e->auth);
	free(e->name);
	for (size_t i = 0; i < e->neps; i++) {
		free(e->eps[i].host);
		free(e->eps[i].sock_path);
		free(e->eps[i].base_url);
	}
	free(e->eps);
	free(e->reason);
	free(e->ca_file);
	free(e->cert_file);
	free(e->key_file);
	free(e);
}

const char *
engine_name(const struct engine *e)
{
	return e->name;
}

const char *
engine_api_version(const struct engine *e)
{
	return e->api_version;
}
