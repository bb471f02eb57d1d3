/*
 * server.c - the read-only status server (libmicrohttpd).
 *
 * GET and HEAD only; every other method is 405, except the webhooks: a
 * POST to /api/v1/webhook/<source>, with its body capped and checked
 * against the source's secret (it is exempt from the bearer token: the
 * forge that calls it signs instead), and to /api/v1/webhook/registry,
 * which a registry calls with a bearer token of its own.  Connections, their
 * memory (so header sizes) and their idle time are bounded, and a handler
 * only holds the state lock while it renders a document, so a slow client
 * costs the server one connection slot and never stalls a worker.
 * /healthz and /readyz stay open for probes when a bearer token is set.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "alloc.h"
#include "daemon.h"
#include "path.h"
#include "status.h"


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
	struct ctl_source_state *source;	/* whose webhook, or NULL: */
	bool registry;				/* the registry's */
	char *data;
	size_t len;
	bool too_big;
};

struct ctl_status_server {
	struct MHD_Daemon *mhd;
	struct ctl_state *st;
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

/* Does the request carry "Authorization: Bearer <token>"? */
static bool
bearer(struct MHD_Connection *conn, const char *token)
{
	const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	size_t n;

	if (h == NULL || strncmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	n = strlen(token);
	/* Constant time in the token's content; only its length shows. */
	return strlen(h) == n && CRYPTO_memcmp(h, token, n) == 0;
}

static bool
authorized(struct ctl_status_server *s, struct MHD_Connection *conn)
{
	return s->st->token == NULL || bearer(conn, s->st->token);
}

/* "/api/v1/stacks/NAME/history": NAME (in out), or NULL. */
static const char *
history_of(const char *url, char *out, size_t size)
{
	static const char suffix[] = "/history";
	size_t n;

	if (strncmp(url, "/api/v1/stacks/", 15) != 0 ||
	    !path_has_suffix(url + 15, suffix))
		return NULL;
	n = strlen(url + 15) - (sizeof(suffix) - 1);
	if (n == 0 || n >= size || memchr(url + 15, '/', n) != NULL)
		return NULL;
	memcpy(out, url + 15, n);
	out[n] = '\0';
	return out;
}

static enum MHD_Result
route(struct ctl_status_server *s, struct MHD_Connection *conn,
    const char *url)
{
	struct ctl_state *st = s->st;
	enum MHD_Result ret;
	const char *stack;
	char name[256];
	cJSON *doc;

	if (strcmp(url, "/healthz") == 0)
		return send_text(conn, MHD_HTTP_OK, "text/plain",
		    xstrdup("ok\n"));
	pthread_mutex_lock(&st->mu);
	if (strcmp(url, "/readyz") == 0) {
		bool ready = ctl_ready(st);
		pthread_mutex_unlock(&st->mu);
		return send_text(conn, ready ? MHD_HTTP_OK :
		    MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
		    xstrdup(ready ? "ready\n" : "not ready\n"));
	}
	if (!authorized(s, conn)) {
		pthread_mutex_unlock(&st->mu);
		return send_error(conn, MHD_HTTP_UNAUTHORIZED,
		    "a bearer token is required");
	}
	if (strcmp(url, "/") == 0) {
		char *page = ctl_page_html(st);
		pthread_mutex_unlock(&st->mu);
		return send_text(conn, MHD_HTTP_OK, "text/html; charset=utf-8",
		    page);
	}
	if (strncmp(url, "/stacks/", 8) == 0 && url[8] != '\0' &&
	    strchr(url + 8, '/') == NULL) {
		char *page = ctl_stack_page_html(st, url + 8);
		pthread_mutex_unlock(&st->mu);
		return page == NULL ? send_error(conn, MHD_HTTP_NOT_FOUND,
		    "no such stack") : send_text(conn, MHD_HTTP_OK,
		    "text/html; charset=utf-8", page);
	}
	if (strcmp(url, "/metrics") == 0) {
		char *text = ctl_metrics_text(st);
		pthread_mutex_unlock(&st->mu);
		return send_text(conn, MHD_HTTP_OK,
		    "text/plain; version=0.0.4; charset=utf-8", text);
	}
	if (strcmp(url, "/api/v1/status") == 0)
		doc = ctl_status_json(st);
	else if (strcmp(url, "/api/v1/stacks") == 0)
		doc = ctl_stacks_json(st, NULL);
	else if ((stack = history_of(url, name, sizeof(name))) != NULL)
		doc = ctl_history_json(st, stack);
	else if (strncmp(url, "/api/v1/stacks/", 15) == 0 && url[15] != '\0')
		doc = ctl_stacks_json(st, url + 15);
	else
		doc = NULL;
	pthread_mutex_unlock(&st->mu);
	if (doc == NULL)
		ret = send_error(conn, MHD_HTTP_NOT_FOUND, strncmp(url,
		    "/api/v1/stacks/", 15) == 0 ? "no such stack" :
		    "no such page");
	else
		ret = send_json(conn, MHD_HTTP_OK, doc);
	return ret;
}

static const char *
header(const char *name, void *payload)
{
	return MHD_lookup_connection_value(payload, MHD_HEADER_KIND, name);
}

static void
count_hook(struct ctl_state *st, struct ctl_source_state *src,
    enum ctl_hook_verdict v)
{
	pthread_mutex_lock(&st->mu);
	if (v == CTL_HOOK_PUSH)
		src->hooks_accepted++;
	else if (v == CTL_HOOK_IGNORED)
		src->hooks_ignored++;
	else
		src->hooks_refused++;
	pthread_mutex_unlock(&st->mu);
}

/* The whole body is here: check it, and trigger a fetch on a push. */
static enum MHD_Result
webhook(struct ctl_status_server *s, struct MHD_Connection *conn,
    const struct upload *up)
{
	static const char *const why[] = {
		[CTL_HOOK_UNSIGNED] = "no X-Hub-Signature-256, "
		    "X-Gitea-Signature or X-Gitlab-Token header",
		[CTL_HOOK_BAD_SIGNATURE] = "the signature does not match",
		[CTL_HOOK_BAD_REQUEST] = "no event header",
	};
	struct ctl_source_state *src = up->source;
	const char *event = NULL;
	enum ctl_hook_verdict v;
	cJSON *o;

	v = ctl_webhook_check(src->webhook_secret, up->data ? up->data :
	    "", up->len, header, conn, &event);
	count_hook(s->st, src, v);
	if (v == CTL_HOOK_PUSH) {
		sources_trigger(src->src);
		log_event(LOG_INFO, NULL, NULL, NULL, "webhook: %s event, "
		    "fetching source %s now", event, src->name);
	} else {
		log_event(v == CTL_HOOK_IGNORED ? LOG_DEBUG : LOG_WARN, NULL,
		    NULL, NULL, "webhook for source %s: %s", src->name,
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
	ctl_state_push(arg, host, repository);
	log_event(LOG_INFO, NULL, NULL, NULL, "registry webhook: %s/%s was "
	    "pushed, looking up its images now", host, repository);
}

/* A registry's notification envelope: the images of each repository
 * pushed are looked up again at once.  Only the token decides; the body
 * says which repositories to look at, and the digests are the engine's
 * answer, never the body's. */
static enum MHD_Result
registry_hook(struct ctl_status_server *s, struct MHD_Connection *conn,
    const struct upload *up)
{
	struct ctl_state *st = s->st;
	bool ok = bearer(conn, st->registry_secret);
	int n = ok ? images_events_read(up->data ? up->data : "", up->len,
	    on_push, st) : -1;
	cJSON *o;

	pthread_mutex_lock(&st->mu);
	st->registry_hooks[n >= 0 ? 0 : 1]++;
	pthread_mutex_unlock(&st->mu);
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

/* The source named in a webhook URL, if it has a webhook secret. */
static struct ctl_source_state *
hook_source(struct ctl_state *st, const char *name)
{
	for (size_t i = 0; i < st->nsources; i++)
		if (st->sources[i].webhook_secret != NULL &&
		    st->sources[i].src != NULL &&
		    strcmp(st->sources[i].name, name) == 0)
			return &st->sources[i];
	return NULL;
}

/* POST: only the webhook of a running source that has a secret. */
static enum MHD_Result
post(struct ctl_status_server *s, struct MHD_Connection *conn,
    const char *url, const char *data, size_t *size, void **con_cls)
{
	struct upload *up = *con_cls;
	struct ctl_source_state *src;

	if (up == NULL) {
		if (strncmp(url, HOOK_PREFIX, strlen(HOOK_PREFIX)) != 0)
			return send_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
			    "the status server is read-only: GET and HEAD "
			    "only (POST: " HOOK_PREFIX "<source>)");
		bool reg = strcmp(url, REGISTRY_HOOK) == 0;
		if (reg && s->st->registry_secret == NULL)
			return send_error(conn, MHD_HTTP_NOT_FOUND, "no "
			    "registry webhook (is "
			    "status.registry_webhook_secret_file set?)");
		src = reg ? NULL : hook_source(s->st, url +
		    strlen(HOOK_PREFIX));
		if (!reg && src == NULL)
			return send_error(conn, MHD_HTTP_NOT_FOUND, "no "
			    "webhook for this source (is a webhook secret "
			    "set?)");
		up = xcalloc(1, sizeof(*up));
		up->source = src;
		up->registry = reg;
		*con_cls = up;
		return MHD_YES;
	}
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
		if (up->source != NULL)
			count_hook(s->st, up->source, CTL_HOOK_BAD_REQUEST);
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

/* "ADDR:PORT" (IPv4) into sa. */
static int
parse_listen(const char *listen, struct sockaddr_in *sa, struct err *err)
{
	const char *colon = strrchr(listen, ':');
	char host[64];
	char *end;
	long port;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (colon == NULL || (size_t)(colon - listen) >= sizeof(host))
		goto bad;
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535)
		goto bad;
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (inet_pton(AF_INET, *host ? host : "0.0.0.0", &sa->sin_addr) != 1)
		goto bad;
	sa->sin_port = htons((uint16_t)port);
	return 0;
bad:
	return err_set(err, ERR_INVALID, "status listen address \"%s\": "
	    "want IPV4ADDR:PORT, e.g. 127.0.0.1:9090", listen);
}

int
ctl_status_start(struct ctl_status_server **out, const char *listen,
    struct ctl_state *st, struct err *err)
{
	struct ctl_status_server *s;
	struct sockaddr_in sa;
	int rc;

	*out = NULL;
	if ((rc = parse_listen(listen, &sa, err)) < 0)
		return rc;
	s = xcalloc(1, sizeof(*s));
	s->st = st;
	s->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_POLL, 0, NULL, NULL, handler, s,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_LIMIT,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)CONN_PER_IP,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
	    MHD_OPTION_END);
	if (s->mhd == NULL) {
		free(s);
		return err_set(err, ERR_FAIL, "status server: cannot listen "
		    "on %s (address in use?)", listen);
	}
	*out = s;
	return 0;
}

void
ctl_status_stop(struct ctl_status_server *s)
{
	if (s == NULL)
		return;
	MHD_stop_daemon(s->mhd);
	free(s);
}
