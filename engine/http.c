/*
 * http.c - one HTTP exchange with an engine, over libcurl.
 *
 * libcurl gives us unix sockets, TLS with client certificates, timeouts and
 * keep-alive; this file maps its outcomes to ERR_* codes with messages that
 * say what to check.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine_int.h"
#include "json.h"

void
engine_resp_init(struct engine_resp *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body, ENGINE_REPLY_MAX);
}

void
engine_resp_release(struct engine_resp *r)
{
	if (r != NULL)
		buf_free(&r->body);
}

void
engine_req_describe(const struct engine *e, const struct engine_req *req,
    char *out, size_t outlen)
{
	if (req->raw || e->api_version[0] == '\0')
		snprintf(out, outlen, "%s %s", req->method, req->path);
	else
		snprintf(out, outlen, "%s /v%s%s", req->method, e->api_version,
		    req->path);
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct engine_xfer *x = arg;
	size_t len = size * n;

	if (x->req->chunk_fn != NULL) {
		if (x->req->chunk_fn(p, len, x->req->chunk_payload) != 0) {
			x->stopped = true;
			return 0;	/* makes curl end with WRITE_ERROR */
		}
		return len;
	}
	if (x->resp->split != NULL && x->status >= 200 && x->status < 300) {
		x->resp->split_len += len;
		/* the caller finds the split unfinished and says so */
		if (x->resp->split_len > x->resp->body.max ||
		    json_split_feed(x->resp->split, p, len) < 0) {
			x->stopped = true;
			return 0;
		}
		return len;
	}
	return buf_append(&x->resp->body, p, len) < 0 ? 0 : len;
}

/* Copy a header's value into dst if the line is "name: value". */
static void
header_value(const char *line, size_t len, const char *name, char *dst,
    size_t dstlen)
{
	size_t nlen = strlen(name), vlen;
	const char *v;

	if (len <= nlen || strncasecmp(line, name, nlen) != 0 ||
	    line[nlen] != ':')
		return;
	v = line + nlen + 1;
	vlen = len - nlen - 1;
	while (vlen > 0 && isspace((unsigned char)*v))
		v++, vlen--;
	while (vlen > 0 && isspace((unsigned char)v[vlen - 1]))
		vlen--;
	if (vlen >= dstlen)
		vlen = dstlen - 1;
	memcpy(dst, v, vlen);
	dst[vlen] = '\0';
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct engine_xfer *x = arg;
	struct engine_resp *r = x->resp;
	size_t len = size * n;

	/* One block per response: a 100 Continue has its own. */
	if (len > 9 && strncmp(p, "HTTP/", 5) == 0 && memchr(p, ' ', len))
		x->status = strtol((char *)memchr(p, ' ', len) + 1, NULL, 10);
	else if ((len == 2 && p[0] == '\r' && p[1] == '\n') || (len == 1 &&
	    p[0] == '\n')) {
		if (x->req->open_fn != NULL && x->status >= 200 &&
		    x->status < 300)
			x->req->open_fn(x->req->chunk_payload);
	}
	header_value(p, len, "Api-Version", r->api_version,
	    sizeof(r->api_version));
	header_value(p, len, "Swarm", r->swarm, sizeof(r->swarm));
	header_value(p, len, "Server", r->server, sizeof(r->server));
	return len;
}

static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	struct engine_xfer *x = arg;

	(void)dt, (void)dn, (void)ut, (void)un;
	if (x->req->stop != NULL && *x->req->stop) {
		x->stopped = true;
		return 1;
	}
	return 0;
}

/* curl says "localhost port 80" for sockets; say what is wrong instead. */
static const char *
socket_problem(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return errno == ENOENT ? "no such socket" : strerror(errno);
	if (!S_ISSOCK(st.st_mode))
		return "not a socket";
	if (access(path, R_OK | W_OK) < 0)
		return "permission denied";
	return "connection refused";
}

static int
map_curl_error(const struct engine *e, CURL *h, CURLcode rc,
    const char *what, const char *detail, struct err *err)
{
	curl_off_t connected = 0;
	const char *d = *detail ? detail : curl_easy_strerror(rc);

	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connected);
		if (connected == 0)
			return err_set(err, ERR_TIMEOUT, "engine %s: %s: timed "
			    "out after %ld ms connecting to %s", e->name, what,
			    e->connect_timeout_ms, e->host);
		return err_set(err, ERR_TIMEOUT, "engine %s: %s: no complete "
		    "reply within %ld ms", e->name, what, e->timeout_ms);
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		if (e->sock_path != NULL)
			d = socket_problem(e->sock_path);
		return err_set(err, ERR_UNREACHABLE, "engine %s: %s: cannot "
		    "connect to %s (%s); is the engine running?", e->name,
		    what, e->host, d);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		return err_set(err, ERR_TLS, "engine %s: %s: the engine's "
		    "certificate was not accepted (%s); check the CA file and "
		    "the engine's name", e->name, what, d);
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ISSUER_ERROR:
		return err_set(err, ERR_TLS, "engine %s: %s: TLS handshake "
		    "failed (%s); check the client certificate and key",
		    e->name, what, d);
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
		/* With TLS 1.3 a refused client certificate shows up as the
		 * engine closing the connection after the handshake. */
		if (e->tls)
			return err_set(err, ERR_TLS, "engine %s: %s: the engine "
			    "closed the TLS connection (%s); is the client "
			    "certificate missing or not signed by its CA?",
			    e->name, what, d);
		return err_set(err, ERR_PROTOCOL, "engine %s: %s: the engine "
		    "closed the connection (%s)", e->name, what, d);
	case CURLE_WRITE_ERROR:
		return err_set(err, ERR_PROTOCOL, "engine %s: %s: reply larger "
		    "than %u bytes", e->name, what, ENGINE_REPLY_MAX);
	default:
		return err_set(err, ERR_FAIL, "engine %s: %s: %s", e->name,
		    what, d);
	}
}

static int
setup(struct engine *e, CURL *h, const struct engine_req *req,
    struct curl_slist **hdrs, char *url, size_t urllen)
{
	char hdr[16384];
	int n;

	if (req->raw || e->api_version[0] == '\0')
		n = snprintf(url, urllen, "%s%s%s%s", e->base_url, req->path,
		    req->query ? "?" : "", req->query ? req->query : "");
	else
		n = snprintf(url, urllen, "%s/v%s%s%s%s", e->base_url,
		    e->api_version, req->path, req->query ? "?" : "",
		    req->query ? req->query : "");
	if (n < 0 || (size_t)n >= urllen)
		return -1;
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, e->connect_timeout_ms);
	if (req->chunk_fn == NULL)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, e->timeout_ms);
	if (e->sock_path != NULL)
		curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, e->sock_path);
	if (e->tls) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER,
		    e->tls_verify ? 1L : 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST,
		    e->tls_verify ? 2L : 0L);
		if (e->ca_file)
			curl_easy_setopt(h, CURLOPT_CAINFO, e->ca_file);
		if (e->cert_file)
			curl_easy_setopt(h, CURLOPT_SSLCERT, e->cert_file);
		if (e->key_file)
			curl_easy_setopt(h, CURLOPT_SSLKEY, e->key_file);
	}
	curl_easy_setopt(h, CURLOPT_USERAGENT, "stackd");
	if (strcmp(req->method, "HEAD") == 0)
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	else if (strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS,
		    req->body ? req->body : "");
		*hdrs = curl_slist_append(*hdrs,
		    "Content-Type: application/json");
	} else if (strcmp(req->method, "GET") != 0)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
	if (req->registry_auth != NULL) {
		n = snprintf(hdr, sizeof(hdr), "X-Registry-Auth: %s",
		    req->registry_auth);
		if (n < 0 || (size_t)n >= sizeof(hdr))
			return -1;
		*hdrs = curl_slist_append(*hdrs, hdr);
		explicit_bzero(hdr, sizeof(hdr));
	}
	if (*hdrs != NULL)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
	return 0;
}

static void
count(struct engine *e, const char *method)
{
	if (strcmp(method, "GET") == 0)
		atomic_fetch_add(&e->n_get, 1);
	else if (strcmp(method, "HEAD") == 0)
		atomic_fetch_add(&e->n_head, 1);
	else if (strcmp(method, "POST") == 0)
		atomic_fetch_add(&e->n_post, 1);
	else
		atomic_fetch_add(&e->n_del, 1);
}

void
engine_counters_get(const struct engine *e, struct engine_counters *out)
{
	out->get = atomic_load(&e->n_get);
	out->head = atomic_load(&e->n_head);
	out->post = atomic_load(&e->n_post);
	out->del = atomic_load(&e->n_del);
	out->failed = atomic_load(&e->n_failed);
}

int
engine_http_begin(struct engine *e, CURL *h, struct engine_xfer *x,
    const struct engine_req *req, struct engine_resp *resp, struct err *err)
{
	char what[512];

	memset(x, 0, sizeof(*x));
	x->req = req;
	x->resp = resp;
	if (setup(e, h, req, &x->hdrs, x->url, sizeof(x->url)) < 0) {
		curl_slist_free_all(x->hdrs);
		x->hdrs = NULL;
		x->req = NULL;
		engine_req_describe(e, req, what, sizeof(what));
		return err_set(err, ERR_INVALID, "engine %s: %s: request too "
		    "long", e->name, what);
	}
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->detail);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	if (req->stop != NULL) {
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	}
	count(e, req->method);
	return 0;
}

int
engine_http_end(struct engine *e, CURL *h, struct engine_xfer *x,
    CURLcode rc, struct err *err)
{
	char what[512];
	int ret = 0;

	if (x->req == NULL)
		return 0;
	engine_req_describe(e, x->req, what, sizeof(what));
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &x->resp->status);
	if (rc != CURLE_OK && !x->stopped)
		ret = map_curl_error(e, h, rc, what, x->detail, err);
	if (ret < 0 || x->resp->status >= 400)
		atomic_fetch_add(&e->n_failed, 1);
	/* The header list may hold registry credentials. */
	for (struct curl_slist *s = x->hdrs; s != NULL; s = s->next)
		explicit_bzero(s->data, strlen(s->data));
	curl_slist_free_all(x->hdrs);
	x->hdrs = NULL;
	x->req = NULL;
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	return ret;
}

int
engine_http_do(struct engine *e, CURL *h, const struct engine_req *req,
    struct engine_resp *resp, struct err *err)
{
	struct engine_xfer x;
	int rc;

	if ((rc = engine_http_begin(e, h, &x, req, resp, err)) < 0)
		return rc;
	return engine_http_end(e, h, &x, curl_easy_perform(h), err);
}

void
engine_resp_message(const struct engine_resp *r, char *out, size_t outlen)
{
	cJSON *j = NULL, *m;
	size_t n;

	if (r->body.len > 0)
		j = cJSON_ParseWithLength(r->body.data, r->body.len);
	m = cJSON_GetObjectItemCaseSensitive(j, "message");
	if (cJSON_IsString(m))
		snprintf(out, outlen, "%s", m->valuestring);
	else if (r->body.len > 0) {
		n = strcspn(r->body.data, "\r\n");
		snprintf(out, outlen, "%.*s", (int)(n > 300 ? 300 : n),
		    r->body.data);
	} else
		snprintf(out, outlen, "no message");
	cJSON_Delete(j);
}

static int
status_code(long status, const char *msg)
{
	switch (status) {
	case 404:
		return ERR_NOTFOUND;
	case 409:
		return ERR_CONFLICT;
	case 500:
		/* swarmkit's store.ErrSequenceConflict, as the engine words it */
		if (strstr(msg, "update out of sequence") != NULL)
			return ERR_OUTOFSEQ;
		return ERR_ENGINE;
	default:
		return ERR_ENGINE;
	}
}

/* The elements of a split reply, kept as they come. */
struct kept {
	cJSON *array;
	engine_trim_fn trim_fn;
	enum engine_kind kind;
};

static int
keep_item(cJSON *item, void *payload)
{
	struct kept *k = payload;

	/* a trim keeps what it returns as it will (json_keep shares the
	 * keys of what it packs); sharing first would do that twice */
	if (k->trim_fn != NULL)
		item = k->trim_fn(k->kind, item);
	else
		json_keys_share(item);
	cJSON_AddItemToArray(k->array, item);
	return 0;
}

/* A 2xx reply of a split request: the array its elements made. */
static int
split_result(struct engine *e, const char *what, struct json_split *s,
    struct kept *k, cJSON **json, struct err *err)
{
	if (!s->open && s->bad)
		return err_set(err, ERR_PROTOCOL, "engine %s: %s: expected "
		    "a JSON array", e->name, what);
	if (json_split_end(s) < 0)
		return err_set(err, ERR_PROTOCOL, "engine %s: %s: reply is "
		    "not valid JSON (or larger than %u bytes)", e->name, what,
		    ENGINE_REPLY_MAX);
	*json = k->array;
	k->array = NULL;
	return 0;
}

int
engine_call_once(struct engine *e, const struct engine_req *req,
    cJSON **json, struct err *err)
{
	struct engine_resp resp;
	struct json_split split;
	struct kept kept = { .array = NULL, .trim_fn = req->trim_fn,
	    .kind = req->trim_kind };
	char what[512], msg[768];
	int rc;

	if (json != NULL)
		*json = NULL;
	if (!req->raw && (rc = engine_negotiate(e, err)) < 0)
		return rc;
	engine_resp_init(&resp);
	json_split_init(&split, ENGINE_REPLY_MAX, keep_item, &kept);
	if (req->split && json != NULL) {
		kept.array = cJSON_CreateArray();
		resp.split = &split;
	}
	if ((rc = engine_http_do(e, e->curl, req, &resp, err)) < 0)
		goto out;
	engine_req_describe(e, req, what, sizeof(what));
	if (resp.status >= 400 || resp.status < 200) {
		engine_resp_message(&resp, msg, sizeof(msg));
		rc = err_set(err, status_code(resp.status, msg),
		    "engine %s: %s: %ld %s", e->name, what, resp.status, msg);
		if (err != NULL)
			err->http_status = (int)resp.status;
		goto out;
	}
	if (resp.split != NULL) {
		rc = split_result(e, what, &split, &kept, json, err);
		goto out;
	}
	if (json == NULL || resp.body.len == 0)
		goto out;
	if ((*json = cJSON_ParseWithLength(resp.body.data,
	    resp.body.len)) == NULL)
		rc = err_set(err, ERR_PROTOCOL, "engine %s: %s: reply is not "
		    "valid JSON", e->name, what);
	else
		json_keys_share(*json);
out:
	cJSON_Delete(kept.array);
	json_split_release(&split);
	engine_resp_release(&resp);
	return rc;
}
