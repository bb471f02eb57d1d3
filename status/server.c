/*
 * server.c - the status process's HTTP server (libmicrohttpd): it serves
 * the documents the daemon rendered and checks the webhooks.
 *
 * GET and HEAD only; every other method is 405, except the webhooks: a
 * POST to /api/v1/webhook/<source>, with its body capped and checked
 * against the source's secret (it is exempt from the bearer token: the
 * forge that calls it signs instead), and to /api/v1/webhook/registry,
 * which a registry calls with a bearer token of its own.  Connections,
 * their memory (so header sizes) and their idle time are bounded.
 * /healthz and /readyz stay open for probes when a bearer token is set.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "alloc.h"
#include "images.h"
#include "log.h"
#include "status.h"
#include "status_int.h"

#define CONN_LIMIT 64
#define CONN_PER_IP 16
#define CONN_TIMEOUT_S 10
#define CONN_MEMORY (32u * 1024)
/* Push deliveries are a few KiB; GitHub lists at most 20 commits. */
#define HOOK_BODY_MAX (1024u * 1024)
#define HOOK_PREFIX "/api/v1/webhook/"

#define REGISTRY_HOOK HOOK_PREFIX "registry"

/* A webhook request's body, as it arrives. */
struct upload {
	char source[256];	/* whose webhook, or "" for */
	bool registry;		/* the registry's */
	char *secret;		/* the source's, a copy */
	char *data;
	size_t len;
	bool too_big;
};

struct ctl_http {
	struct MHD_Daemon *mhd;
	struct ctl_docs *docs;
	struct ctl_http_ops ops;
};

static enum MHD_Result
send_text(struct MHD_Connection *conn, unsigned code, const char *type,
    char *body)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (body == NULL)
		return MHD_NO;
	r = MHD_create_response_from_buffer(strlen(body), body,
	    MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Content-Security-Policy",
	    "default-src 'none'; style-src 'unsafe-inline'");
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, "Allow", "GET, HEAD");
	if (code == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
send_json(struct MHD_Connection *conn, unsigned code, cJSON *doc)
{
	char *text = cJSON_Print(doc);
	char *body = NULL;

	cJSON_Delete(doc);
	if (text != NULL) {
		body = xmalloc(strlen(text) + 2);
		snprintf(body, strlen(text) + 2, "%s\n", text);
	}
	free(text);
	return send_text(conn, code, "application/json", body);
}

static enum MHD_Result
send_error(struct MHD_Connection *conn, unsigned code, const char *msg)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "error", msg);
	return send_json(conn, code, o);
}

static bool
authorized(struct ctl_http *s, struct MHD_Connection *conn, int which)
{
	return ctl_docs_bearer(s->docs, which, MHD_lookup_connection_value(conn,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION));
}

/* A document as the daemon rendered it. */
static enum MHD_Result
send_doc(struct MHD_Connection *conn, struct ctl_doc *doc)
{
	return send_text(conn, doc->code, doc->type, doc->body);
}

static enum MHD_Result
route(struct ctl_http *s, struct MHD_Connection *conn, const char *url)
{
	struct ctl_doc doc;

	if (strcmp(url, "/healthz") == 0)
		return send_text(conn, MHD_HTTP_OK, "text/plain",
		    xstrdup("ok\n"));
	if (strcmp(url, "/readyz") == 0) {
		if (ctl_docs_get(s->docs, url, &doc))
			return send_doc(conn, &doc);
		return send_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "text/plain", xstrdup("not ready\n"));
	}
	if (!authorized(s, conn, 0))
		return send_error(conn, MHD_HTTP_UNAUTHORIZED,
		    "a bearer token is required");
	if (ctl_docs_get(s->docs, url, &doc))
		return send_doc(conn, &doc);
	return send_error(conn, MHD_HTTP_NOT_FOUND, strncmp(url,
	    "/api/v1/stacks/", 15) == 0 || strncmp(url, "/stacks/", 8) == 0 ?
	    "no such stack" : "no such page");
}

static const char *
header(const char *name, void *payload)
{
	return MHD_lookup_connection_value(payload, MHD_HEADER_KIND, name);
}

/* The whole body is here: check it; the daemon fetches on a push. */
static enum MHD_Result
webhook(struct ctl_http *s, struct MHD_Connection *conn,
    const struct upload *up)
{
	static const char *const why[] = {
		[CTL_HOOK_UNSIGNED] = "no X-Hub-Signature-256, "
		    "X-Gitea-Signature or X-Gitlab-Token header",
		[CTL_HOOK_BAD_SIGNATURE] = "the signature does not match",
		[CTL_HOOK_BAD_REQUEST] = "no event header",
	};
	const char *event = NULL;
	enum ctl_hook_verdict v;
	cJSON *o;

	v = ctl_webhook_check(up->secret, up->data ? up->data : "", up->len,
	    header, conn, &event);
	s->ops.hook(s->ops.arg, v, up->source);
	if (v == CTL_HOOK_PUSH) {
		log_event(LOG_INFO, NULL, NULL, NULL, "webhook: %s event, "
		    "fetching source %s now", event, up->source);
	} else {
		log_event(v == CTL_HOOK_IGNORED ? LOG_DEBUG : LOG_WARN, NULL,
		    NULL, NULL, "webhook for source %s: %s", up->source,
		    v == CTL_HOOK_IGNORED ? "not a push, ignored" : why[v]);
	}
	if (v != CTL_HOOK_PUSH && v != CTL_HOOK_IGNORED)
		return send_error(conn, v == CTL_HOOK_BAD_REQUEST ?
		    MHD_HTTP_BAD_REQUEST : MHD_HTTP_UNAUTHORIZED, why[v]);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "event", event);
	cJSON_AddBoolToObject(o, "fetch", v == CTL_HOOK_PUSH);
	return send_json(conn, v == CTL_HOOK_PUSH ? MHD_HTTP_ACCEPTED :
	    MHD_HTTP_OK, o);
}

static void
on_push(const char *host, const char *repository, void *arg)
{
	struct ctl_http *s = arg;

	s->ops.push(s->ops.arg, host, repository);
	log_event(LOG_INFO, NULL, NULL, NULL, "registry webhook: %s/%s was "
	    "pushed, looking up its images now", host, repository);
}

/* A registry's notification envelope: the images of each repository
 * pushed are looked up again at once.  Only the token decides; the body
 * says which repositories to look at, and the digests are the engine's
 * answer, never the body's. */
static enum MHD_Result
registry_hook(struct ctl_http *s, struct MHD_Connection *conn,
    const struct upload *up)
{
	bool ok = authorized(s, conn, 1);
	int n = ok ? images_events_read(up->data ? up->data : "", up->len,
	    on_push, s) : -1;
	cJSON *o;

	s->ops.registry(s->ops.arg, n >= 0);
	if (!ok) {
		log_event(LOG_WARN, NULL, NULL, NULL, "registry webhook: "
		    "refused, the bearer token does not match");
		return send_error(conn, MHD_HTTP_UNAUTHORIZED, "a bearer token "
		    "is required (the registry's notifications.endpoints "
		    "headers: Authorization: [Bearer <secret>])");
	}
	if (n < 0)
		return send_error(conn, MHD_HTTP_BAD_REQUEST, "the body is not "
		    "a registry notification envelope ({\"events\": [...]})");
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "pushes", n);
	return send_json(conn, n > 0 ? MHD_HTTP_ACCEPTED : MHD_HTTP_OK, o);
}

/* The first call of a POST: only a webhook that is configured. */
static enum MHD_Result
post_start(struct ctl_http *s, struct MHD_Connection *conn, const char *url,
    void **con_cls)
{
	struct upload *up;
	char *secret = NULL;
	bool reg;

	if (strncmp(url, HOOK_PREFIX, strlen(HOOK_PREFIX)) != 0)
		return send_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "the status server is read-only: GET and HEAD "
		    "only (POST: " HOOK_PREFIX "<source>)");
	reg = strcmp(url, REGISTRY_HOOK) == 0;
	if (reg && !ctl_docs_has_registry(s->docs))
		return send_error(conn, MHD_HTTP_NOT_FOUND, "no registry "
		    "webhook (is status.registry_webhook_secret_file set?)");
	if (!reg && (strlen(url) - strlen(HOOK_PREFIX) >= sizeof(up->source) ||
	    (secret = ctl_docs_hook_secret(s->docs, url +
	    strlen(HOOK_PREFIX))) == NULL))
		return send_error(conn, MHD_HTTP_NOT_FOUND, "no webhook for "
		    "this source (is a webhook secret set?)");
	up = xcalloc(1, sizeof(*up));
	if (!reg)
		snprintf(up->source, sizeof(up->source), "%s", url +
		    strlen(HOOK_PREFIX));
	up->secret = secret;
	up->registry = reg;
	*con_cls = up;
	return MHD_YES;
}

/* POST: only the webhook of a running source that has a secret. */
static enum MHD_Result
post(struct ctl_http *s, struct MHD_Connection *conn,
    const char *url, const char *data, size_t *size, void **con_cls)
{
	struct upload *up = *con_cls;

	if (up == NULL)
		return post_start(s, conn, url, con_cls);
	if (*size > 0) {
		if (!up->too_big && up->len + *size <= HOOK_BODY_MAX) {
			char *n = xrealloc(up->data, up->len + *size + 1);
			memcpy(n + up->len, data, *size);
			up->len += *size;
			n[up->len] = '\0';
			up->data = n;
		} else {
			up->too_big = true;
		}
		*size = 0;
		return MHD_YES;
	}
	if (up->too_big) {
		if (!up->registry)
			s->ops.hook(s->ops.arg, CTL_HOOK_BAD_REQUEST, up->source);
		return send_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "the body "
		    "is larger than 1 MiB");
	}
	return up->registry ? registry_hook(s, conn, up) : webhook(s, conn, up);
}

static void
completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct upload *up = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (up != NULL) {
		ctl_docs_secret_free(up->secret);
		free(up->data);
		free(up);
		*con_cls = NULL;
	}
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	(void)version;
	if (strcmp(method, "POST") == 0)
		return post(cls, conn, url, upload_data, upload_data_size,
		    con_cls);
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return send_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "the status server is read-only: GET and HEAD only");
	return route(cls, conn, url);
}

int
ctl_http_start(struct ctl_http **out, int listen_fd, struct ctl_docs *docs,
    const struct ctl_http_ops *ops, struct err *err)
{
	struct ctl_http *s = xcalloc(1, sizeof(*s));

	*out = NULL;
	s->docs = docs;
	s->ops = *ops;
	s->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_POLL, 0, NULL, NULL, handler, s,
	    MHD_OPTION_LISTEN_SOCKET, listen_fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_LIMIT,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)CONN_PER_IP,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
	    MHD_OPTION_END);
	if (s->mhd == NULL) {
		free(s);
		return err_set(err, ERR_FAIL, "status server: cannot serve on "
		    "the listening socket");
	}
	*out = s;
	return 0;
}

void
ctl_http_stop(struct ctl_http *h)
{
	if (h == NULL)
		return;
	MHD_stop_daemon(h->mhd);
	free(h);
}
