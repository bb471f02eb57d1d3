/*
 * negotiate.c - API version negotiation, as the docker client does it:
 * unversioned HEAD /_ping (GET when HEAD is refused), then
 * min(our maximum, the engine's Api-Version) for every later request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

/* "1.41" -> 1, 41.  Returns -1 when it is not MAJOR.MINOR. */
static int
version_parse(const char *v, long *major, long *minor)
{
	char *end;

	if (v == NULL || *v < '0' || *v > '9')
		return -1;
	*major = strtol(v, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9')
		return -1;
	*minor = strtol(end + 1, &end, 10);
	return *end == '\0' ? 0 : -1;
}

int
engine_version_cmp(const char *a, const char *b)
{
	long amaj = 0, amin = 0, bmaj = 0, bmin = 0;

	/* Unparseable sorts lowest, so it can never win a negotiation. */
	if (version_parse(a, &amaj, &amin) < 0)
		amaj = amin = -1;
	if (version_parse(b, &bmaj, &bmin) < 0)
		bmaj = bmin = -1;
	if (amaj != bmaj)
		return amaj < bmaj ? -1 : 1;
	if (amin != bmin)
		return amin < bmin ? -1 : 1;
	return 0;
}

int
engine_version_negotiate(char *out, size_t outlen, const char *offered,
    struct err *err)
{
	long maj, min;

	/* An engine that sends no Api-Version predates 1.25 (moby ping.go). */
	if (offered == NULL || *offered == '\0')
		offered = "1.24";
	if (version_parse(offered, &maj, &min) < 0)
		return err_set(err, ERR_PROTOCOL, "engine offered API version "
		    "\"%s\", which is not MAJOR.MINOR", offered);
	if (engine_version_cmp(offered, ENGINE_API_MIN) < 0)
		return err_set(err, ERR_UNSUPPORTED, "engine speaks API %s; "
		    "stackd needs API %s or newer (Docker 20.10 or later)",
		    offered, ENGINE_API_MIN);
	snprintf(out, outlen, "%s",
	    engine_version_cmp(offered, ENGINE_API_MAX) < 0 ? offered :
	    ENGINE_API_MAX);
	return 0;
}

static int
ping_once(struct engine *e, const char *method, struct engine_resp *resp,
    struct err *err)
{
	struct engine_req req = { .method = method, .path = "/_ping",
	    .raw = true };

	engine_resp_release(resp);
	engine_resp_init(resp);
	return engine_http_do(e, e->curl, &req, resp, err);
}

int
engine_ping(struct engine *e, struct engine_ping *out, struct err *err)
{
	struct engine_resp resp;
	char version[16], msg[256];
	struct err local;
	int rc;

	if (err == NULL)
		err = &local;
	if ((rc = engine_failover_prepare(e, err)) < 0)
		return rc;
	engine_resp_init(&resp);
	if ((rc = ping_once(e, "HEAD", &resp, err)) < 0)
		goto out;
	if (resp.status != 200 &&
	    (rc = ping_once(e, "GET", &resp, err)) < 0)
		goto out;
	if (resp.status != 200) {
		engine_resp_message(&resp, msg, sizeof(msg));
		rc = err_set(err, ERR_PROTOCOL, "engine %s: GET /_ping: %ld %s; "
		    "is %s a Docker engine%s?", e->name, resp.status, msg,
		    e->host, e->tls ? "" : " (one that needs --tlsverify?)");
		if (err != NULL)
			err->http_status = (int)resp.status;
		goto out;
	}
	if ((rc = engine_version_negotiate(version, sizeof(version),
	    resp.api_version, err)) < 0) {
		err_prefix(err, "engine %s", e->name);
		goto out;
	}
	memcpy(e->api_version, version, sizeof(e->api_version));
	if (out != NULL) {
		memset(out, 0, sizeof(*out));
		memcpy(out->api_version, version, sizeof(out->api_version));
		snprintf(out->engine_api, sizeof(out->engine_api), "%s",
		    resp.api_version[0] ? resp.api_version : "1.24");
		memcpy(out->swarm, resp.swarm, sizeof(out->swarm));
		memcpy(out->server, resp.server, sizeof(out->server));
	}
out:
	engine_failover_check(e, rc, err);
	engine_resp_release(&resp);
	return rc;
}

int
engine_negotiate(struct engine *e, struct err *err)
{
	if (e->api_version[0] != '\0')
		return 0;
	return engine_ping(e, NULL, err);
}
