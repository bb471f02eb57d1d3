/*
 * distribution.c - GET /distribution/<image>/json for many images at once.
 *
 * The engine asks the registry (four requests for one image) and a
 * registry that hangs costs it 25 s, so the lookups run side by side on a
 * curl multi handle, each with its own deadline: one slow registry delays
 * a batch by the deadline at most, never by the sum.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "engine_int.h"
#include "secret.h"

/* Lookups in flight at once; the rest wait their turn in curl. */
#define DIST_PARALLEL 16L

struct lookup {
	struct engine_dist *d;
	CURL *h;
	struct engine_req req;
	struct engine_resp resp;
	struct engine_xfer x;
	char path[ENGINE_IMAGE_REF_MAX + 32];
	char *auth;
	long long started;
	bool begun;
};

static void
fail(struct engine_dist *d, int rc, const char *msg)
{
	d->rc = rc;
	snprintf(d->error, sizeof(d->error), "%.*s", (int)sizeof(d->error) - 1,
	    msg);
}

/* Set up one lookup; a failure is that image's (fail), not the batch's. */
static void
prepare(struct engine *e, struct lookup *l, long timeout_ms)
{
	struct engine_dist *d = l->d;
	struct err aerr;
	int n;

	n = snprintf(l->path, sizeof(l->path), "/distribution/%s/json",
	    d->image);
	if (n < 0 || (size_t)n >= sizeof(l->path)) {
		fail(d, ERR_INVALID, "the image reference is too long");
		return;
	}
	if (engine_auth_header(&l->auth, e->auth, d->image, &aerr) < 0) {
		fail(d, aerr.code, aerr.msg);
		return;
	}
	if ((l->h = curl_easy_init()) == NULL)
		alloc_fail();
	l->req = (struct engine_req){ .method = "GET", .path = l->path,
	    .registry_auth = l->auth };
	engine_resp_init(&l->resp);
	if (engine_http_begin(e, l->h, &l->x, &l->req, &l->resp, &aerr) < 0) {
		fail(d, aerr.code, aerr.msg);
		return;
	}
	curl_easy_setopt(l->h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(l->h, CURLOPT_PRIVATE, l);
	l->begun = true;
	l->started = clock_mono_ms();
}

/* The engine's answer: a descriptor with a digest, or why not. */
static void
conclude(struct engine *e, struct lookup *l, CURLcode code, long timeout_ms)
{
	struct engine_dist *d = l->d;
	char msg[768];
	struct err herr;
	const cJSON *desc, *dg;

	d->ms = clock_mono_ms() - l->started;
	if (engine_http_end(e, l->h, &l->x, code, &herr) < 0) {
		if (code == CURLE_OPERATION_TIMEDOUT)
			snprintf(herr.msg, sizeof(herr.msg), "the engine did "
			    "not answer within %ld ms (is the registry "
			    "reachable from the engine?)", timeout_ms);
		fail(d, herr.code, herr.msg);
		return;
	}
	d->http_status = (int)l->resp.status;
	if (l->resp.status != 200) {
		engine_resp_message(&l->resp, msg, sizeof(msg));
		fail(d, l->resp.status == 404 ? ERR_NOTFOUND : l->resp.status ==
		    401 || l->resp.status == 403 ? ERR_DENIED : ERR_ENGINE, msg);
		return;
	}
	d->reply = cJSON_ParseWithLength(l->resp.body.data, l->resp.body.len);
	desc = cJSON_GetObjectItemCaseSensitive(d->reply, "Descriptor");
	dg = cJSON_GetObjectItemCaseSensitive(desc, "digest");
	if (!cJSON_IsString(dg) || strncmp(dg->valuestring, "sha256:", 7) != 0 ||
	    strlen(dg->valuestring) != 71) {
		cJSON_Delete(d->reply);
		d->reply = NULL;
		fail(d, ERR_PROTOCOL, "the engine's reply has no sha256 digest");
		return;
	}
	d->rc = 0;
	snprintf(d->digest, sizeof(d->digest), "%s", dg->valuestring);
}

static void
run(struct engine *e, CURLM *m, long timeout_ms)
{
	int running = 1, left;
	CURLMsg *msg;

	while (running > 0) {
		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			struct lookup *l = NULL;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    (char **)&l);
			conclude(e, l, msg->data.result, timeout_ms);
			l->begun = false;
		}
		if (running > 0 && curl_multi_poll(m, NULL, 0, 1000, NULL) !=
		    CURLM_OK)
			break;
	}
}

int
engine_distribution_inspect(struct engine *e, struct engine_dist *d,
    size_t n, long timeout_ms, struct err *err)
{
	struct lookup *l;
	CURLM *m;
	int rc;

	for (size_t i = 0; i < n; i++) {
		d[i].rc = ERR_FAIL;
		d[i].reply = NULL;
		d[i].digest[0] = d[i].error[0] = '\0';
		d[i].http_status = 0;
		d[i].ms = 0;
	}
	if (n == 0)
		return 0;
	if ((rc = engine_negotiate(e, err)) < 0)
		return rc;
	/* curl_multi_init fails only when curl itself is out of memory. */
	if ((m = curl_multi_init()) == NULL)
		alloc_fail();
	l = xcalloc(n, sizeof(*l));
	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, DIST_PARALLEL);
	for (size_t i = 0; i < n; i++) {
		l[i].d = &d[i];
		prepare(e, &l[i], timeout_ms > 0 ? timeout_ms : e->timeout_ms);
		if (l[i].begun)
			curl_multi_add_handle(m, l[i].h);
	}
	run(e, m, timeout_ms);
	for (size_t i = 0; i < n; i++) {
		if (l[i].h != NULL) {
			/* Not finished: the batch was cut short. */
			if (l[i].begun)
				engine_http_end(e, l[i].h, &l[i].x,
				    CURLE_ABORTED_BY_CALLBACK, NULL);
			curl_multi_remove_handle(m, l[i].h);
			curl_easy_cleanup(l[i].h);
		}
		engine_resp_release(&l[i].resp);
		secret_free(l[i].auth);
	}
	curl_multi_cleanup(m);
	free(l);
	return rc;
}
